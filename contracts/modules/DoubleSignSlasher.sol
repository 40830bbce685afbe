// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IStakeVault} from "../interfaces/IStakeVault.sol";

/// @title DoubleSignSlasher
/// @notice An AVS's slashing module for an objective fault: an operator's signing key signed two different messages
/// for the same round. Anyone may submit the proof; the slash is instant and hits every pool the operator has
/// allocated to this AVS, by the fraction fixed at deployment.
/// @dev Domain separation: the EIP-712 domain binds chain id and this module's address, and the signed struct binds
/// the AVS id, so a vote signed for another chain, AVS or module never verifies here. A key counts as the operator's
/// if the operator ever registered it (the registry keeps history), so rotating keys does not dodge a proof.
/// Each (operator, round) can be slashed once: a proof cannot be replayed.
contract DoubleSignSlasher is EIP712 {
    /// @notice The struct validators sign each round.
    bytes32 public constant VOTE_TYPEHASH = keccak256("Vote(uint32 avsId,uint64 round,bytes32 payload)");

    IAllocationManager public immutable manager;
    IStakeVault public immutable vault;
    IOperatorRegistry public immutable registry;
    uint32 public immutable avsId;
    uint64 public immutable slashFractionWad;

    mapping(address operator => mapping(uint64 round => bool)) public slashed;

    error SamePayload();
    error SignersDiffer(address signerA, address signerB);
    error NotOperatorKey(address signer, address operator);
    error AlreadySlashed(address operator, uint64 round);

    /// @notice `operator` double-signed `round`; `amount` left its pools for the AVS's sink.
    event DoubleSignSlashed(address indexed operator, uint64 indexed round, address indexed signer, uint256 amount);

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

    /// @notice Proves that `operator`'s key signed two different payloads for `round` and slashes it.
    /// @return amount Total slashed across the operator's pools.
    function slashDoubleSign(
        address operator,
        uint64 round,
        bytes32 payloadA,
        bytes calldata signatureA,
        bytes32 payloadB,
        bytes calldata signatureB
    ) external returns (uint256 amount) {
        if (payloadA == payloadB) revert SamePayload();
        if (slashed[operator][round]) revert AlreadySlashed(operator, round);
        address signer = ECDSA.recover(voteDigest(round, payloadA), signatureA);
        address signerB = ECDSA.recover(voteDigest(round, payloadB), signatureB);
        if (signer != signerB) revert SignersDiffer(signer, signerB);
        if (registry.operatorOfKey(signer) != operator) revert NotOperatorKey(signer, operator);
        slashed[operator][round] = true;

        // Every pool the operator has allocated here; a walk over its pools, never over stakers.
        uint256[] memory pools = vault.operatorPools(operator);
        for (uint256 i; i < pools.length; ++i) {
            if (manager.slashableBacking(avsId, pools[i]) != 0) {
                amount += manager.slash(avsId, pools[i], slashFractionWad);
            }
        }
        emit DoubleSignSlashed(operator, round, signer, amount);
    }
}
