// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IStakeVault} from "../interfaces/IStakeVault.sol";

/// @title DoubleSignSlasher
/// @notice An AVS's slashing module for an objective fault: an operator signed two different messages for the same
/// round, with one of its keys or two of them. Anyone may submit the proof with the operator's pools to slash; each
/// is slashed instantly by the fraction fixed at deployment.
/// @dev Domain separation: the EIP-712 domain binds chain id and this module's address, and the signed struct binds
/// the AVS id, so a vote signed for another chain, AVS or module never verifies here. A key counts as the operator's
/// if the operator ever registered it (the registry keeps history), so rotating keys does not dodge a proof.
/// Replay: each (operator, round, pool) is slashed at most once, for at most the fixed fraction. A round is used up
/// only by what was taken: a proof filed while the operator had nothing at stake takes nothing and marks nothing,
/// and a slash the cascade guard cut leaves the rest (`remainingWad`, a fraction of the backing) for a later
/// submission of the same proof. The prover names the pools (see
/// `slashablePools`), because anyone can open pools for an operator: a loop over all of them could be made too
/// expensive to submit.
contract DoubleSignSlasher is EIP712, ReentrancyGuardTransient {
    /// @notice The struct validators sign each round.
    bytes32 public constant VOTE_TYPEHASH = keccak256("Vote(uint32 avsId,uint64 round,bytes32 payload)");

    IAllocationManager public immutable manager;
    IStakeVault public immutable vault;
    IOperatorRegistry public immutable registry;
    uint32 public immutable avsId;
    uint64 public immutable slashFractionWad;

    /// @notice True once the round's full fraction has been taken from the pool.
    mapping(address operator => mapping(uint64 round => mapping(uint256 poolId => bool))) public slashed;
    /// @dev What a guard-cut slash left, as a fraction of the backing left (0: nothing taken yet, the full fraction).
    mapping(address operator => mapping(uint64 round => mapping(uint256 poolId => uint64))) internal _remaining;

    error SamePayload();
    error NoPools();
    error SignersDiffer(address signerA, address signerB);
    error NotOperatorKey(address signer, address operator);
    error NotOperatorPool(uint256 poolId, address operator);
    error AlreadySlashed(address operator, uint64 round, uint256 poolId);

    /// @notice `operator` double-signed `round`; `amount` of the pool's collateral value left for the AVS's sink.
    event DoubleSignSlashed(
        address indexed operator, uint64 indexed round, uint256 indexed poolId, address signer, uint256 amount
    );

    /// @dev Registers the AVS with this contract as its slashing module, so the AVS id is fixed from birth.
    constructor(
        IAllocationManager manager_,
        IStakeVault vault_,
        IOperatorRegistry registry_,
        string memory metadataURI,
        address sink,
        uint64 slashFractionWad_
    ) EIP712("Bulkhead DoubleSign", "1") {
        manager = manager_;
        vault = vault_;
        registry = registry_;
        slashFractionWad = slashFractionWad_;
        avsId = manager_.registerAVS(metadataURI, address(this), sink, address(0), 0, slashFractionWad_);
    }

    /// @notice The EIP-712 digest a validator signs for `round` and `payload`.
    function voteDigest(uint64 round, bytes32 payload) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VOTE_TYPEHASH, avsId, round, payload)));
    }

    /// @notice The fraction a new submission of the proof would take from `poolId` (0 once the round is used up).
    function remainingWad(address operator, uint64 round, uint256 poolId) public view returns (uint64) {
        if (slashed[operator][round][poolId]) return 0;
        uint64 rest = _remaining[operator][round][poolId];
        return rest == 0 ? slashFractionWad : rest;
    }

    /// @notice The operator's pools this AVS can slash now (for provers; an off-chain call).
    function slashablePools(address operator) external view returns (uint256[] memory pools) {
        uint256[] memory all = vault.operatorPools(operator);
        pools = new uint256[](all.length);
        uint256 n;
        for (uint256 i; i < all.length; ++i) {
            if (manager.slashableBacking(avsId, all[i]) != 0) pools[n++] = all[i];
        }
        assembly ("memory-safe") {
            mstore(pools, n)
        }
    }

    /// @notice Proves that `operator`'s key signed two different payloads for `round` and slashes `poolIds`.
    /// @return amounts Slashed from each pool, in its base asset (zero where it had nothing at stake here).
    function slashDoubleSign(
        address operator,
        uint64 round,
        bytes32 payloadA,
        bytes calldata signatureA,
        bytes32 payloadB,
        bytes calldata signatureB,
        uint256[] calldata poolIds
    ) external nonReentrant returns (uint256[] memory amounts) {
        if (poolIds.length == 0) revert NoPools();
        address signer = _doubleSigner(operator, round, payloadA, signatureA, payloadB, signatureB);
        amounts = new uint256[](poolIds.length);
        for (uint256 i; i < poolIds.length; ++i) {
            amounts[i] = _slashPool(operator, round, poolIds[i], signer);
        }
    }

    /// @dev The operator's key that signed payload A for `round` (payload B may be signed by another of its keys), or
    /// a revert saying why the proof fails. OpenZeppelin's `recover` rejects malleable (high-s) signatures.
    function _doubleSigner(
        address operator,
        uint64 round,
        bytes32 payloadA,
        bytes calldata signatureA,
        bytes32 payloadB,
        bytes calldata signatureB
    ) internal view returns (address signer) {
        if (payloadA == payloadB) revert SamePayload();
        signer = ECDSA.recover(voteDigest(round, payloadA), signatureA);
        address signerB = ECDSA.recover(voteDigest(round, payloadB), signatureB);
        if (registry.operatorOfKey(signer) != operator) revert NotOperatorKey(signer, operator);
        // Two of the operator's keys equivocating is the same fault as one key doing it.
        if (signerB != signer && registry.operatorOfKey(signerB) != operator) revert SignersDiffer(signer, signerB);
    }

    function _slashPool(address operator, uint64 round, uint256 poolId, address signer)
        internal
        returns (uint256 amount)
    {
        // slither-disable-next-line unused-return (only the pool's operator is checked; generation and base unused)
        (address poolOperator,,) = vault.poolKey(poolId);
        if (poolOperator != operator) revert NotOperatorPool(poolId, operator);
        if (slashed[operator][round][poolId]) revert AlreadySlashed(operator, round, poolId);
        uint256 backing = manager.slashableBacking(avsId, poolId);
        if (backing == 0) return 0;
        uint64 fraction = remainingWad(operator, round, poolId);
        uint256 asked = backing * fraction / 1e18;
        // Effects first: the round is marked used up before the manager moves tokens (a reentrant sink or token
        // finds it marked), and given back below only for what the guard kept.
        slashed[operator][round][poolId] = true;
        // slither-disable-next-line reentrancy-no-eth (the immutable manager never calls back; nonReentrant anyway)
        amount = manager.slash(avsId, poolId, fraction);
        if (amount < asked) {
            // The rest, as a fraction of the backing less what was taken (not of the backing after: a shared slash
            // can rescale the others' backings, which must not grow the rest).
            uint256 rest = (asked - amount) * 1e18 / (backing - amount);
            if (rest != 0) {
                slashed[operator][round][poolId] = false;
                _remaining[operator][round][poolId] = uint64(rest < fraction ? rest : fraction);
            }
        }
        if (amount == 0) {
            // Nothing taken (a backing too small for the fraction to reach a wei): nothing used up.
            slashed[operator][round][poolId] = false;
            return 0;
        }
        emit DoubleSignSlashed(operator, round, poolId, signer, amount);
    }
}
