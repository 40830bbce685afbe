// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {IStakeVault} from "../../../contracts/interfaces/IStakeVault.sol";
import {OperatorRegistry} from "../../../contracts/OperatorRegistry.sol";
import {StakeVault} from "../../../contracts/StakeVault.sol";
import {MockERC20} from "../../mocks/MockERC20.sol";

/// @notice Drives the vault for the invariant campaign. Actors: stakers (deposit, queue, claim, redelegate), operators
/// (register, rotate keys), the slasher and time. Every input is bounded so that no call reverts; a handler returns
/// early (and counts a skip) only when the state offers nothing valid to do. Ghost variables record every token that
/// enters or leaves the vault so the invariants can check the vault's own accounting against an independent ledger.
/// Inputs are bounded with `_bound` (forge-std's `bound` without its console log, which would flood the run logs).
contract VaultHandler is CommonBase, StdCheats, StdUtils {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant MAX_OPERATORS = 6;
    uint256 internal constant MAX_WARP = 10 days;

    StakeVault public immutable vault;
    OperatorRegistry public immutable registry;
    address public immutable slasher;
    address public immutable sink;

    MockERC20[] internal _assets;
    address[] internal _stakers;
    address[] internal _operators; // [0] and [1] are the fixture's opA and opB
    /// Every signing key ever registered, and the operator it belongs to.
    address[] internal _keys;
    mapping(address key => address operator) public keyOwner;
    mapping(address operator => address key) public currentKey;
    uint256 internal _keyNonce;

    /// Withdrawals queued and not yet claimed or redelegated.
    uint256[] internal _open;

    // ------------------------------------------------------------------ ghost ledger (per asset)
    mapping(address asset => uint256) public ghostIn;
    mapping(address asset => uint256) public ghostSlashedOut;
    mapping(address asset => uint256) public ghostClaimedOut;
    /// Operations that round (deposits, claims, redelegations, slashes): each can move < 1 wei between stakers.
    mapping(address asset => uint256) public ghostRoundingOps;

    // ------------------------------------------------------------------ ghost ledger (per staker and asset)
    mapping(address staker => mapping(address asset => uint256)) public ghostDeposited;
    mapping(address staker => mapping(address asset => uint256)) public ghostClaimed;
    mapping(address staker => mapping(address asset => uint256)) public ghostOwnRoundingOps;
    /// Pool generation at the staker's last mint into the pool: the position is live while it matches the pool's.
    mapping(address staker => mapping(uint256 poolId => uint32)) public ghostPositionGeneration;

    // ------------------------------------------------------------------ property witnesses (must stay zero/small)
    /// Deposits whose minted shares were worth more than the deposit, right after it.
    uint256 public ghostDepositValueExcess;
    /// Claims that paid something other than the withdrawal's `value` just before.
    uint256 public ghostClaimValueMismatch;
    /// Largest fall of a matured withdrawal's value across a slash (the NatSpec: no slash can touch it).
    uint256 public ghostMaturedValueDrop;
    /// Slashes after which the remaining or slashable assets were not `available - amount`, or the reserve moved.
    uint256 public ghostSlashAccountingError;
    /// Full slashes that did not reset the pool to an empty new generation.
    uint256 public ghostBadResets;
    /// Deposits or redelegations of ordinary size refused with `AmountTooLarge` (share inflation of the pool).
    uint256 public ghostShareOverflows;

    /// The last such refusal, for the failure message.
    struct ShareOverflow {
        uint256 poolId;
        uint256 amount;
        uint256 poolAssets;
        uint256 poolShares;
    }

    ShareOverflow public shareOverflow;
    /// Claims or redelegations of a matured withdrawal that reverted.
    uint256 public ghostClaimFailures;

    // ------------------------------------------------------------------ call statistics (for the campaign log)
    uint256 public nDeposits;
    uint256 public nQueued;
    uint256 public nClaims;
    uint256 public nZeroClaims;
    uint256 public nRedelegations;
    uint256 public nSlashes;
    uint256 public nFullSlashes;
    uint256 public nOperatorsRegistered;
    uint256 public nKeyRotations;
    uint256 public nWarps;
    uint256 public nSkips;

    /// Pools changed by the last call: the only pools whose raw state can differ from before it.
    uint256[] internal _touched;

    constructor(
        StakeVault vault_,
        OperatorRegistry registry_,
        MockERC20[] memory assets_,
        address[] memory stakers_,
        address[] memory operators_,
        address[] memory keys_,
        address slasher_,
        address sink_
    ) {
        vault = vault_;
        registry = registry_;
        slasher = slasher_;
        sink = sink_;
        for (uint256 i; i < assets_.length; ++i) {
            _assets.push(assets_[i]);
        }
        for (uint256 i; i < stakers_.length; ++i) {
            _stakers.push(stakers_[i]);
        }
        for (uint256 i; i < operators_.length; ++i) {
            _operators.push(operators_[i]);
            _keys.push(keys_[i]);
            keyOwner[keys_[i]] = operators_[i];
            currentKey[operators_[i]] = keys_[i];
        }
    }

    // ================================================================== stakers

    /// @notice A staker deposits a bounded amount into one of the 2 operators x 3 assets pools.
    function deposit(uint256 stakerSeed, uint256 operatorSeed, uint256 assetSeed, uint256 amount) external {
        delete _touched;
        address staker = _stakers[stakerSeed % _stakers.length];
        address operator = _operators[operatorSeed % 2];
        MockERC20 asset = _assets[assetSeed % _assets.length];
        // Up to a million whole tokens per deposit; the low end (1, 2, 3 wei) is where rounding lives.
        amount = _bound(amount, 1, 1_000_000 * 10 ** asset.decimals());

        asset.mint(staker, amount);
        vm.startPrank(staker);
        asset.approve(address(vault), amount);
        try vault.deposit(operator, address(asset), amount) returns (uint256 poolId, uint256 shares) {
            vm.stopPrank();
            _touched.push(poolId);
            ++nDeposits;
            ghostIn[address(asset)] += amount;
            ghostDeposited[staker][address(asset)] += amount;
            ++ghostRoundingOps[address(asset)];
            ++ghostOwnRoundingOps[staker][address(asset)];
            ghostPositionGeneration[staker][poolId] = vault.getPool(poolId).generation;
            // Rounding favours the pool: the new shares never redeem for more than was paid.
            uint256 value = vault.convertToAssets(poolId, shares);
            if (value > amount) ghostDepositValueExcess += value - amount;
        } catch (bytes memory err) {
            vm.stopPrank();
            // `AmountTooLarge` is let through (counted; `invariant_poolsKeepWorking` fails on it), and so is
            // `PoolPriceTooLow`, the named refusal of a pool slashed below 1e-6 of its price (that invariant checks it
            // is refused only then). The tokens stay in the staker's wallet: nothing entered the vault.
            if (err.length >= 4 && bytes4(err) == IStakeVault.PoolPriceTooLow.selector) {
                ++nSkips;
                return;
            }
            if (!_recordShareOverflow(err, operator, address(asset), amount)) _bubble(err);
        }
    }

    /// @notice A staker queues a fuzzed fraction (WAD) of one of its positions, live or from an ended generation.
    function queueWithdrawal(uint256 stakerSeed, uint256 positionSeed, uint256 fractionWad) external {
        delete _touched;
        address staker = _stakers[stakerSeed % _stakers.length];
        IStakeVault.PositionView[] memory ps = vault.positionsOf(staker);
        uint256 n = ps.length;
        for (uint256 i; i < n; ++i) {
            IStakeVault.PositionView memory p = ps[(positionSeed % n + i) % n];
            if (p.shares == 0) continue;
            uint256 shares = p.shares * _bound(fractionWad, 1, WAD) / WAD;
            if (shares == 0) shares = 1;
            vm.prank(staker);
            uint256 id = vault.queueWithdrawal(p.poolId, shares);
            _open.push(id);
            _touched.push(p.poolId);
            ++nQueued;
            return;
        }
        ++nSkips;
    }

    /// @notice The owner of a matured withdrawal claims it to its own wallet.
    function completeWithdrawal(uint256 withdrawalSeed) external {
        delete _touched;
        (bool found, uint256 slot, IStakeVault.WithdrawalView memory w) = _findMatured(withdrawalSeed, false);
        if (!found) {
            ++nSkips;
            return;
        }
        uint256 balanceBefore = MockERC20(w.asset).balanceOf(w.staker);
        vm.prank(w.staker);
        uint256 paid;
        try vault.completeWithdrawal(w.id, w.staker) returns (uint256 amount) {
            paid = amount;
        } catch {
            // A matured withdrawal must always be claimable: counted, and `invariant_maturedWithdrawalsClaimable`
            // fails on it. The withdrawal stays open.
            ++ghostClaimFailures;
            ++nSkips;
            return;
        }
        _removeOpen(slot);
        _touched.push(w.poolId);

        if (paid != w.value) ++ghostClaimValueMismatch;
        if (MockERC20(w.asset).balanceOf(w.staker) - balanceBefore != paid) ++ghostClaimValueMismatch;
        ++nClaims;
        if (paid == 0) ++nZeroClaims;
        ghostClaimedOut[w.asset] += paid;
        ghostClaimed[w.staker][w.asset] += paid;
        ++ghostRoundingOps[w.asset];
        ++ghostOwnRoundingOps[w.staker][w.asset];
    }

    /// @notice The owner of a matured withdrawal with something left moves it to any registered operator's pool.
    function completeRedelegation(uint256 withdrawalSeed, uint256 operatorSeed) external {
        delete _touched;
        // A withdrawal worth zero (slashed out or from an ended generation) cannot be redelegated: claim it instead.
        (bool found, uint256 slot, IStakeVault.WithdrawalView memory w) = _findMatured(withdrawalSeed, true);
        if (!found) {
            ++nSkips;
            return;
        }
        address operator = _operators[operatorSeed % _operators.length];
        vm.prank(w.staker);
        try vault.completeRedelegation(w.id, operator) returns (uint256 poolId, uint256) {
            _removeOpen(slot);
            _touched.push(w.poolId);
            _touched.push(poolId);
            ++nRedelegations;
            ghostPositionGeneration[w.staker][poolId] = vault.getPool(poolId).generation;
            // Two roundings: the claim out of the old pool and the mint into the new one.
            ghostRoundingOps[w.asset] += 2;
            ghostOwnRoundingOps[w.staker][w.asset] += 2;
        } catch (bytes memory err) {
            // The destination pool refusing the value (share inflation) is `AmountTooLarge`, or `PoolPriceTooLow` for
            // a destination slashed below its deposit price (the withdrawal stays claimable); anything else means the
            // matured withdrawal itself could not be taken out of its pool.
            if (err.length >= 4 && bytes4(err) == IStakeVault.PoolPriceTooLow.selector) {
                ++nSkips;
                return;
            }
            if (!_recordShareOverflow(err, operator, w.asset, w.value)) {
                ++ghostClaimFailures;
                ++nSkips;
            }
        }
    }

    // ================================================================== operators

    /// @notice A new operator registers (up to MAX_OPERATORS in all); it can then receive redelegations. Once the
    /// cap is reached the operator actor rotates a key instead, so the call is not wasted.
    function registerOperator(uint256 seed) external {
        delete _touched;
        if (_operators.length >= MAX_OPERATORS) return rotateKey(seed);
        address operator = address(uint160(uint256(keccak256(abi.encode("operator", _operators.length, seed)))));
        address key = _newKey();
        vm.prank(operator);
        registry.registerOperator("ipfs://operator", key);
        _operators.push(operator);
        keyOwner[key] = operator;
        currentKey[operator] = key;
        ++nOperatorsRegistered;
    }

    /// @notice An operator rotates to a fresh signing key; the old one stays attributed to it.
    function rotateKey(uint256 operatorSeed) public {
        delete _touched;
        address operator = _operators[operatorSeed % _operators.length];
        address key = _newKey();
        vm.prank(operator);
        registry.rotateSigningKey(key);
        keyOwner[key] = operator;
        currentKey[operator] = key;
        ++nKeyRotations;
    }

    // ================================================================== slasher

    /// @notice The slasher takes a fuzzed fraction (WAD, up to 100%) of a pool's slashable assets.
    function slash(uint256 poolSeed, uint256 fractionWad) external {
        delete _touched;
        uint256 count = vault.poolCount();
        if (count == 0) {
            ++nSkips;
            return;
        }
        uint256 poolId = 1 + poolSeed % count;
        IStakeVault.PoolView memory before = vault.getPool(poolId);
        uint256 available = before.slashableAssets;
        if (available == 0) {
            ++nSkips;
            return;
        }
        // One slash in ten takes everything (a new generation); the others a fraction in (0, 100%], whose edges
        // (100% - 1e-18, ...) leave a sliver of the pool.
        uint256 amount = fractionWad % 10 == 0 ? available : available * _bound(fractionWad, 1, WAD) / WAD;
        if (amount == 0) amount = 1;

        // Values of matured (already unslashable) withdrawals of this pool before the slash.
        uint256 n = _open.length;
        uint256[] memory maturedValue = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            IStakeVault.WithdrawalView memory w = vault.getWithdrawal(_open[i]);
            if (w.poolId == poolId && w.matured) maturedValue[i] = w.value + 1; // +1: mark as tracked
        }

        // The price floor may cut a partial slash so that a share stays worth >= 1e-8: exactly down to
        // ceil(shares / 1e8) left, never more; a slash of everything is never cut.
        uint256 expected = amount;
        if (amount < available) {
            uint256 keep = (before.totalShares + 1e8 - 1) / 1e8;
            if (available - amount < keep) expected = available > keep ? available - keep : 0;
        }
        if (vault.previewSlash(poolId, amount) != expected) ++ghostSlashAccountingError;

        vm.prank(slasher);
        uint256 slashed = vault.slash(poolId, amount, sink);
        _touched.push(poolId);
        ++nSlashes;
        ghostSlashedOut[before.asset] += slashed;
        ++ghostRoundingOps[before.asset];
        uint256 remaining = available - slashed;

        IStakeVault.PoolView memory afterSlash = vault.getPool(poolId);
        if (slashed != expected || afterSlash.slashableAssets != remaining) ++ghostSlashAccountingError;
        // The reserve (matured withdrawals) is outside the slash: it can only be what it was.
        if (afterSlash.reserve != before.reserve) ++ghostSlashAccountingError;
        if (remaining == 0) {
            ++nFullSlashes;
            if (afterSlash.generation != before.generation + 1 || afterSlash.totalShares != 0) ++ghostBadResets;
            if (afterSlash.escrowedShares != 0) ++ghostBadResets;
        }
        for (uint256 i; i < n; ++i) {
            if (maturedValue[i] == 0) continue;
            uint256 was = maturedValue[i] - 1;
            uint256 now_ = vault.getWithdrawal(_open[i]).value;
            if (now_ < was && was - now_ > ghostMaturedValueDrop) ghostMaturedValueDrop = was - now_;
        }
    }

    // ================================================================== time

    /// @notice Time passes: 0 to 10 days (the escrow is 7 days).
    function warp(uint256 secondsSeed) external {
        delete _touched;
        vm.warp(block.timestamp + _bound(secondsSeed, 0, MAX_WARP));
        ++nWarps;
    }

    // ================================================================== views for the invariants

    /// @notice The token ledger of `asset`: in, slashed out, claimed out, and the number of rounding operations.
    function assetLedger(address asset)
        external
        view
        returns (uint256 tokensIn, uint256 slashedOut, uint256 claimedOut, uint256 roundingOps)
    {
        return (ghostIn[asset], ghostSlashedOut[asset], ghostClaimedOut[asset], ghostRoundingOps[asset]);
    }

    /// @notice Per staker (in `stakers()` order) for `asset`: deposited, claimed, and own rounding operations.
    function stakerLedger(address asset)
        external
        view
        returns (uint256[] memory deposited, uint256[] memory claimed, uint256[] memory ownRoundingOps)
    {
        uint256 n = _stakers.length;
        deposited = new uint256[](n);
        claimed = new uint256[](n);
        ownRoundingOps = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            deposited[i] = ghostDeposited[_stakers[i]][asset];
            claimed[i] = ghostClaimed[_stakers[i]][asset];
            ownRoundingOps[i] = ghostOwnRoundingOps[_stakers[i]][asset];
        }
    }

    /// @notice `[staker][poolId]`: the pool generation at the staker's last mint into the pool (ids 0..poolCount).
    function positionGenerations(uint256 poolCount) external view returns (uint32[][] memory generations) {
        generations = new uint32[][](_stakers.length);
        for (uint256 s; s < _stakers.length; ++s) {
            generations[s] = new uint32[](poolCount + 1);
            for (uint256 id = 1; id <= poolCount; ++id) {
                generations[s][id] = ghostPositionGeneration[_stakers[s]][id];
            }
        }
    }

    /// @notice Every key with the operator that registered it, and every operator with its newest key.
    function keyLedger()
        external
        view
        returns (address[] memory keys_, address[] memory owners, address[] memory operators_, address[] memory newest)
    {
        keys_ = _keys;
        owners = new address[](keys_.length);
        for (uint256 i; i < keys_.length; ++i) {
            owners[i] = keyOwner[keys_[i]];
        }
        operators_ = _operators;
        newest = new address[](operators_.length);
        for (uint256 i; i < operators_.length; ++i) {
            newest[i] = currentKey[operators_[i]];
        }
    }

    function stakers() external view returns (address[] memory) {
        return _stakers;
    }

    function openWithdrawals() external view returns (uint256[] memory) {
        return _open;
    }

    function touchedPools() external view returns (uint256[] memory) {
        return _touched;
    }

    // ================================================================== internals

    /// @dev First open withdrawal at or after `seed` (cyclically) that has matured (and, if asked, has value).
    function _findMatured(uint256 seed, bool needValue)
        internal
        view
        returns (bool found, uint256 slot, IStakeVault.WithdrawalView memory w)
    {
        uint256 n = _open.length;
        for (uint256 i; i < n; ++i) {
            slot = (seed % n + i) % n;
            w = vault.getWithdrawal(_open[slot]);
            if (w.matured && (!needValue || w.value != 0)) return (true, slot, w);
        }
    }

    function _removeOpen(uint256 slot) internal {
        _open[slot] = _open[_open.length - 1];
        _open.pop();
    }

    function _newKey() internal returns (address key) {
        key = address(uint160(uint256(keccak256(abi.encode("key", ++_keyNonce)))));
        _keys.push(key);
    }

    /// @dev True (and recorded) if `err` is `AmountTooLarge`: a pool refusing an ordinary deposit because its share
    /// total would pass 2^128 (share inflation after a near-total slash).
    function _recordShareOverflow(bytes memory err, address operator, address asset, uint256 amount)
        internal
        returns (bool)
    {
        if (err.length < 4 || bytes4(err) != IStakeVault.AmountTooLarge.selector) return false;
        ++ghostShareOverflows;
        ++nSkips;
        IStakeVault.PoolView memory p = vault.getPool(vault.poolOf(operator, asset));
        shareOverflow =
            ShareOverflow({poolId: p.poolId, amount: amount, poolAssets: p.slashableAssets, poolShares: p.totalShares});
        return true;
    }

    function _bubble(bytes memory err) internal pure {
        assembly ("memory-safe") {
            revert(add(err, 0x20), mload(err))
        }
    }
}
