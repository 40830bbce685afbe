// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IAllocationManager} from "./interfaces/IAllocationManager.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {IReputationHooks} from "./interfaces/IReputationHooks.sol";
import {IStakeVault} from "./interfaces/IStakeVault.sol";
import {AllocationLens} from "./periphery/AllocationLens.sol";

/// @title AllocationManager
/// @notice AVSs, operators' allocations of pools to them, and every slash. The stake vault's only slasher: a slash
/// starts at an AVS's module, is bounded here, and leaves the vault for the AVS's sink in the same transaction.
/// @dev See IAllocationManager for the weight accounting. Weights are uint96 against a fresh pool weight of 1e27.
contract AllocationManager is IAllocationManager, Ownable2Step, ReentrancyGuardTransient {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;
    /// @dev Total weight of a fresh pool. Weights only shrink (by slashes) until the pool resets.
    uint96 internal constant UNIT = 1e27;
    /// @dev Risk weights are in tenths: 1× is 10; the reputation contract may set 1× to 5×.
    uint8 internal constant ONE_X = 10;
    uint8 internal constant MAX_RISK_WEIGHT = 50;

    IStakeVault public immutable vault;
    IOperatorRegistry public immutable registry;
    /// @inheritdoc IAllocationManager
    address public immutable lens;
    /// @notice Seconds before an allocation increase becomes slashable.
    uint48 public immutable allocationDelay;
    /// @inheritdoc IAllocationManager
    uint48 public immutable deallocationDelay;
    /// @inheritdoc IAllocationManager
    uint48 public immutable executionWindow;

    uint32 public defaultReuseCapBps = 30_000;
    uint32 public maxReuseCapBps = 100_000;
    uint32 public maxPathReuseBps = 200_000;
    uint64 public guardMaxFractionWad = 0.5e18;
    uint32 public guardWindow = 1 days;
    /// @notice When the guard's window length last changed: losses recorded before it count as of their last time.
    uint40 public guardWindowChangedAt;

    /// @notice Sets AVSs' standing (risk weight, bond-short) and hears of vetoed requests; zero: reputation off.
    /// One slot with the counters, so that `registerAVS` and `requestSlash` read it for free.
    IReputationHooks public reputation;
    uint32 internal _avsCount;
    uint64 public requestCount;

    mapping(uint32 avsId => AVS) internal _avs;
    mapping(uint32 avsId => mapping(address operator => Membership)) internal _membership;
    mapping(uint256 poolId => PoolState) internal _pools;
    mapping(uint256 poolId => mapping(uint32 avsId => Allocation)) internal _allocations;
    mapping(uint64 requestId => Request) internal _requests;

    constructor(
        IStakeVault vault_,
        IOperatorRegistry registry_,
        address owner_,
        uint48 allocationDelay_,
        uint48 deallocationDelay_,
        uint48 executionWindow_
    ) Ownable(owner_) {
        if (address(vault_) == address(0) || address(registry_) == address(0)) {
            revert ZeroAddress();
        }
        uint256 escrow = vault_.escrowDelay();
        // Room for at least an instant AVS under the registration rule (see `_checkVetoWindow`).
        if (
            executionWindow_ == 0 || deallocationDelay_ <= executionWindow_
                || uint256(allocationDelay_) + deallocationDelay_ + executionWindow_ >= escrow
        ) revert InvalidDelays(allocationDelay_, deallocationDelay_, escrow);
        vault = vault_;
        registry = registry_;
        allocationDelay = allocationDelay_;
        deallocationDelay = deallocationDelay_;
        executionWindow = executionWindow_;
        // Views that walk every pool live in a lens, so that this contract stays under EIP-170.
        lens = address(new AllocationLens(vault_));
    }

    // ------------------------------------------------------------------ AVSs and operators

    /// @inheritdoc IAllocationManager
    function registerAVS(
        string calldata metadataURI,
        address slasher,
        address sink,
        address resolver,
        uint48 vetoWindow,
        uint64 maxSlashWad
    ) external returns (uint32 avsId) {
        if (slasher == address(0) || sink == address(0)) revert ZeroAddress();
        if (maxSlashWad == 0 || maxSlashWad > WAD) revert InvalidSlashCap(maxSlashWad);
        _checkVetoWindow(resolver, vetoWindow);
        avsId = ++_avsCount;
        _avs[avsId] = AVS({
            admin: msg.sender,
            slasher: slasher,
            riskWeightTenths: ONE_X,
            requestsVetoableUntil: 0,
            // With reputation on, a new identity has no bond: it receives nothing until it posts one, and the
            // reputation contract then sets its standing (the floor's risk weight, re-registering never pays).
            bondShort: address(reputation) != address(0),
            sink: sink,
            resolver: resolver,
            vetoWindow: vetoWindow,
            maxSlashWad: maxSlashWad
        });
        emit AVSRegistered(avsId, msg.sender, slasher, sink, resolver, vetoWindow, maxSlashWad, metadataURI);
    }

    /// @inheritdoc IAllocationManager
    function setAVSMetadata(uint32 avsId, string calldata metadataURI) external {
        if (_getAVS(avsId).admin != msg.sender) revert NotAVSAdmin(avsId, msg.sender);
        emit AVSMetadataUpdated(avsId, metadataURI);
    }

    /// @inheritdoc IAllocationManager
    function ejectOperator(uint32 avsId, address operator) external {
        if (_getAVS(avsId).admin != msg.sender) revert NotAVSAdmin(avsId, msg.sender);
        Membership storage m = _membership[avsId][operator];
        // Anyone may opt in: without this, a stranger's unsolicited backing would make a bonded AVS bond-short.
        if (m.optedIn) _optOut(avsId, operator, m);
        m.ejected = true;
        emit OperatorEjected(avsId, operator);
    }

    /// @inheritdoc IAllocationManager
    function optIn(uint32 avsId) external {
        AVS storage avs = _getAVS(avsId);
        if (!registry.isOperator(msg.sender)) revert NotOperator(msg.sender);
        Membership storage m = _membership[avsId][msg.sender];
        if (m.optedIn) revert AlreadyOptedIn(avsId, msg.sender);
        if (m.ejected) revert OperatorIsEjected(avsId, msg.sender);
        // Coming back revives the allocations left behind at the opt-out: new backing, which a bond-short AVS does
        // not get (the bond gate). A first opt-in has no allocations yet.
        if (m.optedOutAt != 0 && avs.bondShort) revert BondBelowRequirement(avsId);
        m.optedIn = true;
        m.optedOutAt = 0;
        emit OperatorOptedIn(avsId, msg.sender);
    }

    /// @inheritdoc IAllocationManager
    function optOut(uint32 avsId) external {
        _getAVS(avsId);
        Membership storage m = _membership[avsId][msg.sender];
        if (!m.optedIn) revert NotOptedIn(avsId, msg.sender);
        _optOut(avsId, msg.sender, m);
    }

    /// @dev The operator stays slashable for the deallocation delay: it cannot leave ahead of a slash.
    function _optOut(uint32 avsId, address operator, Membership storage m) internal {
        (m.optedIn, m.optedOutAt) = (false, uint48(block.timestamp));
        emit OperatorOptedOut(avsId, operator, uint48(block.timestamp) + deallocationDelay);
    }

    // ------------------------------------------------------------------ allocations

    /// @inheritdoc IAllocationManager
    function allocate(uint256 poolId, uint32 avsId, Mode mode, uint64 fractionWad)
        external
        returns (uint256 current, uint48 effectAt)
    {
        if (mode == Mode.None) revert ModeMismatch(Mode.None, mode);
        if (fractionWad > WAD) revert InvalidFraction(fractionWad);
        AVS storage avs = _getAVS(avsId);
        (PoolState storage st, address operator) = _syncPool(poolId);
        if (msg.sender != operator) revert NotPoolOperator(poolId, msg.sender);
        Allocation storage a = _allocations[poolId][avsId];
        _apply(st, a);
        if (a.effectAt != 0) revert PendingChange(a.effectAt);
        current = a.current;
        if (current != 0 && a.mode != mode) revert ModeMismatch(a.mode, mode);

        uint96 target = uint96(uint256(fractionWad) * st.totalWeight / WAD);
        if (target == current) revert NoChange();
        if (target > current) {
            if (vault.paused()) revert AllocationsPaused();
            if (!_membership[avsId][operator].optedIn) revert NotOptedIn(avsId, operator);
            // The bond gates new backing only: what is already allocated stays slashable whatever the bond.
            if (avs.bondShort) revert BondBelowRequirement(avsId);
            effectAt = uint48(block.timestamp + allocationDelay);
            // An isolated increase never takes effect before the last executable second of a slash already decided
            // on the pool (nor of one decided later: it settles only then, `_settles`), so it cannot shrink the shared
            // stake under it.
            if (mode == Mode.Isolated && effectAt <= st.slashPendingUntil) effectAt = st.slashPendingUntil + 1;
            uint128 added = uint128(target - current);
            if (mode == Mode.Shared) {
                // The whole allocation is re-priced at the AVS's risk weight now (a stale, lighter one never carries
                // over): what it counted before comes off, what it counts now goes on.
                uint8 riskWeight = avs.riskWeightTenths;
                st.sharedWeight -= uint128(_weighted(current, a.riskWeightTenths));
                added = uint128(_weighted(target, riskWeight));
                a.riskWeightTenths = riskWeight;
            }
            _commitIncrease(st, poolId, avsId, mode, added, uint40(effectAt));
        } else {
            // The old amount stays slashable (and committed) until the deallocation takes effect.
            effectAt = uint48(block.timestamp + deallocationDelay);
        }
        a.pending = target;
        a.effectAt = uint32(effectAt);
        a.mode = mode;
        emit AllocationModified(poolId, avsId, mode, uint96(current), target, uint40(effectAt));
    }

    /// @inheritdoc IAllocationManager
    function applyPending(uint256 poolId, uint32[] calldata avsIds) external {
        (PoolState storage st,) = _syncPool(poolId);
        for (uint256 i; i < avsIds.length; ++i) {
            uint32 avsId = avsIds[i];
            Allocation storage a = _allocations[poolId][avsId];
            if (a.epoch != st.epoch) continue;
            if (a.effectAt != 0) {
                _apply(st, a);
                // Applied (a pending isolated increase settles only with its pool, in `_syncPool`).
                if (a.effectAt == 0) emit AllocationModified(poolId, avsId, a.mode, a.current, a.pending, 0);
            }
            if (a.mode == Mode.Shared) _reprice(st, a, poolId, avsId);
        }
    }

    /// @inheritdoc IAllocationManager
    function slash(uint32 avsId, uint256 poolId, uint64 fractionWad) external nonReentrant returns (uint256 amount) {
        AVS storage avs = _onlySlasher(avsId);
        if (avs.resolver != address(0)) revert VetoFlowRequired(avsId);
        (amount,) = _slash(avsId, avs, poolId, fractionWad, 0);
    }

    /// @inheritdoc IAllocationManager
    function requestSlash(uint32 avsId, uint256 poolId, uint64 fractionWad) external returns (uint64 requestId) {
        AVS storage avs = _onlySlasher(avsId);
        if (avs.resolver == address(0)) revert NoVetoFlow(avsId);
        _checkFraction(avs, fractionWad);
        // Request ids store the pool id in 64 bits: never truncate it into another pool's id.
        if (poolId > type(uint64).max) revert PoolIdTooLarge(poolId);
        if (slashableBacking(avsId, poolId) == 0) revert NotSlashable(avsId, poolId);
        requestId = ++requestCount;
        uint40 executableAt = uint40(block.timestamp + avs.vetoWindow);
        // With bonds (reputation on), the AVS's bond cannot leave before this request can no longer be vetoed
        // (`Reputation` reads it): a watcher's hold would come too late for a withdrawal completed in this block.
        if (address(reputation) != address(0) && executableAt > avs.requestsVetoableUntil) {
            avs.requestsVetoableUntil = executableAt;
        }
        _requests[requestId] = Request({
            avsId: avsId,
            poolId: uint64(poolId),
            fractionWad: fractionWad,
            executableAt: executableAt,
            status: RequestStatus.Pending
        });
        emit SlashRequested(requestId, avsId, poolId, fractionWad, executableAt);
        _announce(poolId, executableAt + uint40(executionWindow));
    }

    /// @inheritdoc IAllocationManager
    function announceSlash(uint32 avsId, uint256 poolId) external {
        AVS storage avs = _onlySlasher(avsId);
        if (avs.resolver == address(0)) revert NoVetoFlow(avsId);
        if (slashableBacking(avsId, poolId) == 0) revert NotSlashable(avsId, poolId);
        _announce(poolId, uint40(block.timestamp + avs.vetoWindow + executionWindow));
    }

    /// @inheritdoc IAllocationManager
    function vetoSlash(uint64 requestId) external {
        Request storage r = _pendingRequest(requestId);
        if (_avs[r.avsId].resolver != msg.sender) revert NotResolver(requestId, msg.sender);
        if (block.timestamp >= r.executableAt) revert VetoWindowClosed(requestId, r.executableAt);
        r.status = RequestStatus.Vetoed;
        emit SlashVetoed(requestId, msg.sender);
        // Last, after every effect: the AVS's evidence and its bond's penalty, in the veto's transaction, so a bond
        // cannot leave before its wrongful request is paid for. The veto stands whatever the hook does (the reputation
        // contract is wired once: a fault of its own must never block a veto), except when the hook ran out of gas:
        // the resolver gave too little, and the whole veto reverts so that no gas limit skips a covered penalty.
        if (address(reputation) != address(0)) {
            uint256 gasBefore = gasleft();
            try reputation.onSlashVetoed(requestId) {}
            catch (bytes memory reason) {
                // Out of gas at any depth leaves under 1/8 here (the hook got at most 63/64); the hook says so itself
                // when its payment ran out (`PenaltyOutOfGas`).
                if (gasleft() < gasBefore / 8 || bytes4(reason) == IReputationHooks.PenaltyOutOfGas.selector) {
                    assembly ("memory-safe") {
                        revert(add(reason, 32), mload(reason))
                    }
                }
                emit ReputationHookFailed(requestId, reason);
            }
        }
    }

    /// @inheritdoc IAllocationManager
    function executeSlash(uint64 requestId) external nonReentrant returns (uint256 amount) {
        Request storage r = _pendingRequest(requestId);
        Request memory req = r;
        AVS storage avs = _onlySlasher(req.avsId);
        if (block.timestamp < req.executableAt) revert VetoWindowOpen(requestId, req.executableAt);
        uint40 expiresAt = req.executableAt + uint40(executionWindow);
        if (block.timestamp > expiresAt) revert RequestExpired(requestId, expiresAt);
        r.status = RequestStatus.Executed;
        uint256 backing;
        (amount, backing) = _slash(req.avsId, avs, req.poolId, req.fractionWad, requestId);
        uint256 asked = backing * req.fractionWad / WAD;
        // A request is used up only by what was taken: when the guard cut it, the rest stays executable until the
        // request expires, as a fraction of the backing it had less what was taken (rounded down, for the stakers).
        if (amount < asked) {
            uint256 rest = Math.min((asked - amount) * WAD / (backing - amount), req.fractionWad);
            if (rest != 0) {
                r.status = RequestStatus.Pending;
                r.fractionWad = uint64(rest);
                emit SlashRequestReduced(requestId, uint64(rest));
            }
        }
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IAllocationManager
    function setReuseCap(uint256 poolId, uint32 capBps) external onlyOwner {
        vault.poolKey(poolId); // the pool exists
        if (capBps > maxReuseCapBps) revert ReuseCapTooHigh(capBps, maxReuseCapBps);
        // Only this pool's own path is checked here (a tier's cap times its base's). Tiers over a base are held to the
        // path maximum on each of their increases: checking them here would walk a set anyone can grow.
        uint256 path = _pathReuse(poolId, capBps == 0 ? defaultReuseCapBps : capBps);
        if (path > maxPathReuseBps) revert PathReuseTooHigh(path, maxPathReuseBps);
        _pools[poolId].reuseCapBps = capBps;
        emit ReuseCapSet(poolId, capBps);
    }

    /// @inheritdoc IAllocationManager
    function setProtocolLimits(uint32 defaultReuseCapBps_, uint32 maxReuseCapBps_, uint32 maxPathReuseBps_)
        external
        onlyOwner
    {
        if (defaultReuseCapBps_ > maxReuseCapBps_) {
            revert ReuseCapTooHigh(defaultReuseCapBps_, maxReuseCapBps_);
        }
        // No walk over pools: every cap is clamped to the maximum where it is read (`_reuseCap`), and the path
        // maximum is checked on every allocation increase.
        defaultReuseCapBps = defaultReuseCapBps_;
        maxReuseCapBps = maxReuseCapBps_;
        maxPathReuseBps = maxPathReuseBps_;
        emit ProtocolLimitsSet(defaultReuseCapBps_, maxReuseCapBps_, maxPathReuseBps_);
    }

    /// @inheritdoc IAllocationManager
    function setStanding(uint32 avsId, uint8 riskWeightTenths, bool bondShort) external {
        if (msg.sender != address(reputation)) revert NotReputation(msg.sender);
        if (riskWeightTenths < ONE_X || riskWeightTenths > MAX_RISK_WEIGHT) revert InvalidRiskWeight(riskWeightTenths);
        AVS storage avs = _getAVS(avsId);
        (avs.riskWeightTenths, avs.bondShort) = (riskWeightTenths, bondShort);
        emit StandingSet(avsId, riskWeightTenths, bondShort);
    }

    /// @inheritdoc IAllocationManager
    function setReputation(address reputation_) external onlyOwner {
        if (reputation_ == address(0)) revert ZeroAddress();
        // Wired once: detaching or swapping it would change every AVS's standing and skip pending penalties at once.
        if (address(reputation) != address(0)) revert ReputationAlreadySet(address(reputation));
        // Before any AVS: every AVS then starts at the floor and gated (one registered earlier would not).
        if (_avsCount != 0) revert AVSsAlreadyRegistered(_avsCount);
        // Every veto calls it: an address without code would make every veto revert, for good.
        if (reputation_.code.length == 0) revert NoCode(reputation_);
        reputation = IReputationHooks(reputation_);
        emit ReputationSet(reputation_);
    }

    /// @inheritdoc IAllocationManager
    function setGuard(uint64 maxFractionWad, uint32 window) external onlyOwner {
        if (maxFractionWad == 0 || maxFractionWad > WAD || window == 0) revert InvalidGuard(maxFractionWad, window);
        guardMaxFractionWad = maxFractionWad;
        if (window != guardWindow) guardWindowChangedAt = uint40(block.timestamp);
        guardWindow = window;
        emit GuardSet(maxFractionWad, window);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IAllocationManager
    function getAVS(uint32 avsId) external view returns (AVS memory) {
        return _getAVS(avsId);
    }

    /// @inheritdoc IAllocationManager
    function avsCount() external view returns (uint32) {
        return _avsCount;
    }

    /// @inheritdoc IAllocationManager
    function membership(uint32 avsId, address operator) external view returns (Membership memory) {
        return _membership[avsId][operator];
    }

    /// @inheritdoc IAllocationManager
    function isSlashable(uint32 avsId, address operator) public view returns (bool) {
        Membership storage m = _membership[avsId][operator];
        return m.optedIn || (m.optedOutAt != 0 && block.timestamp < uint256(m.optedOutAt) + deallocationDelay);
    }

    /// @inheritdoc IAllocationManager
    function getAllocation(uint256 poolId, uint32 avsId) external view returns (Allocation memory a) {
        PoolState memory st;
        (st,, a) = _viewAllocation(poolId, avsId);
        if (a.epoch != st.epoch) return Allocation(0, 0, 0, Mode.None, st.epoch, 0);
    }

    /// @inheritdoc IAllocationManager
    function getPoolState(uint256 poolId) external view returns (PoolState memory st) {
        (st,) = _viewPool(poolId);
    }

    /// @inheritdoc IAllocationManager
    function getRequest(uint64 requestId) external view returns (Request memory) {
        return _requests[requestId];
    }

    /// @inheritdoc IAllocationManager
    function slashableBacking(uint32 avsId, uint256 poolId) public view returns (uint256) {
        (PoolState memory st, address operator, Allocation memory a) = _viewAllocation(poolId, avsId);
        if (!isSlashable(avsId, operator)) return 0;
        if (a.epoch != st.epoch || a.mode == Mode.None) return 0;
        return _backing(st, a.mode, a.current, vault.slashableAssets(poolId));
    }

    /// @inheritdoc IAllocationManager
    function committedBacking(uint32 avsId, uint256 poolId) external view returns (uint256) {
        (PoolState memory st, address operator, Allocation memory a) = _viewAllocation(poolId, avsId);
        if (a.epoch != st.epoch || !isSlashable(avsId, operator)) return 0;
        // A matured change is in effect (`_viewAllocation`); otherwise the larger of the two is committed.
        uint256 weight = a.pending > a.current ? a.pending : a.current;
        return Math.mulDiv(weight, vault.slashableAssets(poolId), st.totalWeight, Math.Rounding.Ceil);
    }

    /// @inheritdoc IAllocationManager
    function poolRisk(uint256 poolId) external view returns (PoolRisk memory risk) {
        (PoolState memory st,) = _viewPool(poolId);
        uint256 value = vault.slashableAssets(poolId);
        uint256 cap = _capOf(st.reuseCapBps);
        risk.poolId = poolId;
        risk.value = value;
        risk.totalIsolated = Math.mulDiv(st.isolatedWeight, value, st.totalWeight);
        risk.sharedStake = value - risk.totalIsolated;
        // Shared limits as they can be slashed: scaled down to the cap when slashes shrank the shared stake.
        uint256 sharedLimit = Math.min(st.sharedWeight, (st.totalWeight - st.isolatedWeight) * cap / BPS);
        risk.totalShared = Math.mulDiv(sharedLimit, value, st.totalWeight);
        if (risk.sharedStake != 0) risk.reuseRatioWad = risk.totalShared * WAD / risk.sharedStake;
        else if (risk.totalShared != 0) risk.reuseRatioWad = type(uint256).max;
        risk.reuseCapWad = cap * WAD / BPS;
        risk.pathReuseWad = _pathReuse(poolId, cap) * WAD / BPS;
        (risk.guardUsedWad,,) = _guardState(st.guardPreviousWad, st.guardCurrentWad, st.guardAt);
    }

    // ------------------------------------------------------------------ internals

    /// @dev The one place a slash is bounded and sent: backing now, times the fraction, through the cascade guard.
    /// A tier pool is a pool like any other whose collateral is base shares: the vault pays its slash in base shares,
    /// so the base pool (its weights, guard and compartments) is not touched.
    function _slash(uint32 avsId, AVS storage avs, uint256 poolId, uint64 fractionWad, uint64 requestId)
        internal
        returns (uint256 amount, uint256 backing)
    {
        _checkFraction(avs, fractionWad);
        (PoolState storage st, address operator) = _syncPool(poolId);
        Allocation storage a = _allocations[poolId][avsId];
        if (!isSlashable(avsId, operator) || a.epoch != st.epoch || a.mode == Mode.None) {
            revert NotSlashable(avsId, poolId);
        }
        _apply(st, a);
        uint256 value;
        (amount, backing, value) = _bounded(st, a, poolId, avsId, fractionWad);
        if (amount != 0) {
            _removeWeight(st, a, amount, value);
            // The weights above were booked for `amount`: the vault must take exactly that (it previewed it).
            uint256 taken = vault.slash(poolId, amount, avs.sink);
            if (taken != amount) revert SlashMismatch(poolId, amount, taken);
        }
        emit OperatorSlashed(avsId, poolId, operator, fractionWad, amount, requestId);
    }

    /// @dev The fraction of the backing through the cascade guard and the vault's price floor (which may keep a
    /// sliver back; the guard is charged for what was asked: conservative). Nothing taken is said, with its reason.
    function _bounded(PoolState storage st, Allocation storage a, uint256 poolId, uint32 avsId, uint64 fractionWad)
        internal
        returns (uint256 amount, uint256 backing, uint256 value)
    {
        value = vault.slashableAssets(poolId);
        backing = Math.mulDiv(_slashableWeight(st, a), value, st.totalWeight);
        uint256 asked = backing * fractionWad / WAD;
        amount = vault.previewSlash(poolId, _guard(st, poolId, avsId, asked, value));
        if (amount == 0) emit SlashTookNothing(avsId, poolId, _nothingReason(st, a, avsId, backing, asked));
    }

    /// @dev Why a slash of `asked` (the fraction of `backing`) took nothing.
    function _nothingReason(PoolState storage st, Allocation storage a, uint32 avsId, uint256 backing, uint256 asked)
        internal
        view
        returns (NothingReason)
    {
        if (backing == 0) {
            bool coming = (a.effectAt > block.timestamp && a.pending > a.current)
                || (st.pendingIsolated != 0 && st.pendingIsolatedAvs == avsId);
            return coming ? NothingReason.NotYetEffective : NothingReason.NoBacking;
        }
        if (asked == 0) return NothingReason.TooSmall;
        (uint256 used,,) = _guardState(st.guardPreviousWad, st.guardCurrentWad, st.guardAt);
        return used >= guardMaxFractionWad ? NothingReason.GuardFull : NothingReason.TooSmall;
    }

    /// @dev Weight of the allocation that can be slashed now (see `_sharedWeight` for shared allocations).
    function _slashableWeight(PoolState storage st, Allocation storage a) internal view returns (uint256 weight) {
        weight = a.current;
        if (a.mode == Mode.Shared) {
            weight = _sharedWeight(st.totalWeight, st.isolatedWeight, st.sharedWeight, st.reuseCapBps, weight);
        }
    }

    /// @dev A shared allocation's slashable weight: at most the shared stake W − Σ isolated, and scaled by
    /// min(1, cap · shared stake / Σ shared) so that the shared backings never add up to more than the reuse cap times
    /// the shared stake, also after slashes shrank it or the cap was lowered (rounded down, for the stakers).
    function _sharedWeight(uint256 total, uint256 isolated, uint256 committed, uint256 capBps, uint256 weight)
        internal
        view
        returns (uint256)
    {
        uint256 stake = total - isolated;
        weight = Math.min(weight, stake);
        uint256 limit = stake * _capOf(capBps) / BPS;
        return committed > limit ? Math.mulDiv(weight, limit, committed) : weight;
    }

    /// @dev Removes ⌈W·s/V⌉ weight from the allocation and from W, so every other compartment keeps its assets
    /// (rounded up: the slashed allocation, never a neighbour, absorbs the rounding).
    function _removeWeight(PoolState storage st, Allocation storage a, uint256 amount, uint256 value) internal {
        uint256 total = st.totalWeight;
        uint96 cut = uint96(Math.min(Math.mulDiv(total, amount, value, Math.Rounding.Ceil), _slashableWeight(st, a)));
        // One read of the allocation's slot, one write: the slash's hot path.
        Allocation memory m = a;
        (a.current, a.pending) = (m.current - cut, m.pending - uint96(Math.min(cut, m.pending)));
        st.totalWeight = uint96(total - cut);
        if (m.mode == Mode.Isolated) {
            st.isolatedWeight -= cut;
        } else {
            // The cut is the max(current, pending) the allocation commits; it leaves the sum at its risk weight.
            uint96 committed = m.current > m.pending ? m.current : m.pending;
            st.sharedWeight -= uint128(
                _weighted(committed, m.riskWeightTenths) - _weighted(committed - cut, m.riskWeightTenths)
            );
        }
    }

    /// @dev Cascade guard, a hard bound: time is cut into fixed windows of `guardWindow` seconds, and the losses of
    /// the current window and the one before compound to at most `guardMaxFractionWad` of the pool's value. Any span
    /// of one window's length lies inside two consecutive windows, so no span of that length ever loses more (a
    /// leaky bucket would let 1.5 times the cap out). Each loss is a fraction of the value when it was taken, rounded
    /// up; losses compound against what is left: 30% then 28.6% of the rest is 50% of the value. A slash that would
    /// pass the cap is cut to what fits (not refused, so an honest AVS still gets paid; a request keeps the rest) and
    /// `CascadeGuardTripped` tells monitors.
    function _guard(PoolState storage st, uint256 poolId, uint32 avsId, uint256 amount, uint256 value)
        internal
        returns (uint256 allowed)
    {
        if (amount == 0) return 0;
        uint256 previous;
        uint256 current;
        (allowed, previous, current) = _guardAllowance(st, amount, value);
        if (allowed < amount) emit CascadeGuardTripped(poolId, avsId, amount, allowed);
        st.guardPreviousWad = uint64(previous);
        st.guardCurrentWad = uint64(current);
        st.guardAt = uint32(block.timestamp);
    }

    /// @dev What the guard lets through of `amount`, and the two windows' losses after it.
    function _guardAllowance(PoolState storage st, uint256 amount, uint256 value)
        internal
        view
        returns (uint256 allowed, uint256 previous, uint256 current)
    {
        uint256 used;
        (used, previous, current) = _guardState(st.guardPreviousWad, st.guardCurrentWad, st.guardAt);
        if (amount == 0) return (0, previous, current);
        uint256 cap = guardMaxFractionWad;
        uint256 loss = Math.mulDiv(amount, WAD, value, Math.Rounding.Ceil);
        if (used + Math.mulDiv(loss, WAD - used, WAD, Math.Rounding.Ceil) <= cap) {
            allowed = amount;
            current += Math.mulDiv(loss, WAD - current, WAD, Math.Rounding.Ceil);
        } else if (used < cap) {
            // Rounded down: the fraction taken is at most (cap − used) / (1 − used), so the two windows compound to at
            // most the cap, which is what the current window records (rounded up: never less than was lost).
            allowed = Math.min(amount, Math.mulDiv(cap - used, value, WAD - used));
            current = Math.mulDiv(cap - previous, WAD, WAD - previous, Math.Rounding.Ceil);
        }
    }

    /// @dev The guard's windows now: (compounded loss of both, the previous window's, the current window's). The
    /// stored losses belong to the window of `guardAt`, the last time they grew. Losses recorded before a change of
    /// window length are merged and counted as of `guardAt` (they happened no later: conservative).
    function _guardState(uint256 previous, uint256 current, uint256 guardAt)
        internal
        view
        returns (uint256 used, uint256, uint256)
    {
        if (guardAt < guardWindowChangedAt) {
            (current, previous) = (previous + Math.mulDiv(current, WAD - previous, WAD, Math.Rounding.Ceil), 0);
        }
        uint256 window = block.timestamp / guardWindow;
        uint256 last = guardAt / guardWindow;
        if (window == last + 1) (previous, current) = (current, 0);
        else if (window > last + 1) (previous, current) = (0, 0);
        used = previous + Math.mulDiv(current, WAD - previous, WAD, Math.Rounding.Ceil);
        return (used, previous, current);
    }

    /// @dev Brings the pool's state to the vault's generation: a fresh pool, or one whose stake a full slash ended,
    /// starts again with weight UNIT and no allocations (older allocations carry an older epoch).
    function _syncPool(uint256 poolId) internal returns (PoolState storage st, address operator) {
        uint32 generation;
        (operator, generation,) = vault.poolKey(poolId);
        st = _pools[poolId];
        if (st.totalWeight == 0 || st.generation != generation) {
            uint16 epoch;
            unchecked {
                epoch = st.epoch + 1; // wraps after 65,535 resets rather than freezing the pool
            }
            st.totalWeight = UNIT;
            st.isolatedWeight = 0;
            st.sharedWeight = 0;
            st.pendingIsolated = 0;
            st.epoch = epoch;
            st.generation = generation;
            emit PoolStateReset(poolId, epoch);
        } else if (st.pendingIsolated != 0 && _settles(st.pendingIsolatedAt, st.slashPendingUntil)) {
            _settleIsolated(st, poolId);
        }
    }

    /// @dev Whether the pool's pending isolated increase (due at `at`) settles now: never while a slash decided on the
    /// pool may still execute (until `slashPendingUntil`, inclusive), so it cannot shrink the shared stake under a
    /// request or an announced proposal, whenever it was committed. One rule for `_syncPool` and the views.
    function _settles(uint256 at, uint256 slashPendingUntil) internal view returns (bool) {
        return block.timestamp >= at && block.timestamp > slashPendingUntil;
    }

    /// @dev The pool's pending isolated increase matured: it leaves the shared stake now, clipped to what is free
    /// (shared slashes may have shrunk the shared stake while it waited), and its allocation takes it over.
    function _settleIsolated(PoolState storage st, uint256 poolId) internal {
        uint32 avsId = st.pendingIsolatedAvs;
        uint96 added = uint96(Math.min(st.pendingIsolated, st.totalWeight - st.isolatedWeight));
        st.isolatedWeight += added;
        st.pendingIsolated = 0;
        Allocation storage a = _allocations[poolId][avsId];
        uint96 current = a.current + added;
        (a.current, a.pending, a.effectAt) = (current, current, 0);
        emit AllocationModified(poolId, avsId, Mode.Isolated, current, current, 0);
    }

    /// @dev `_syncPool` without writing, for views.
    function _viewPool(uint256 poolId) internal view returns (PoolState memory st, address operator) {
        (st, operator,) = _viewPoolSettled(poolId);
    }

    /// @dev `_viewPool`, and the allocation as a touch (`_syncPool`, `_apply`) would leave it: the pool's pending
    /// isolated increase settled if it settles now, otherwise shown with the earliest time it can (after
    /// `slashPendingUntil`); any other matured change in effect, a matured decrease's weight freed in `st`. The views
    /// read the allocation from here only.
    function _viewAllocation(uint256 poolId, uint32 avsId)
        internal
        view
        returns (PoolState memory st, address operator, Allocation memory a)
    {
        uint96 added;
        (st, operator, added) = _viewPoolSettled(poolId);
        a = _allocations[poolId][avsId];
        if (a.epoch != st.epoch) return (st, operator, a);
        if (added != type(uint96).max && avsId == st.pendingIsolatedAvs) {
            a.current += added;
            (a.pending, a.effectAt) = (a.current, 0);
        }
        uint96 current = a.current;
        uint96 pending = a.pending;
        if (a.effectAt == 0) return (st, operator, a);
        if (a.mode == Mode.Isolated && pending > current) {
            // The pool's pending isolated increase, not settled: it settles only after the last executable second of
            // the slashes decided on the pool.
            if (a.effectAt <= st.slashPendingUntil) a.effectAt = uint32(st.slashPendingUntil + 1);
            return (st, operator, a);
        }
        if (block.timestamp < a.effectAt) return (st, operator, a);
        // As `_apply` will: a matured change takes effect, and a matured decrease frees its committed weight.
        if (pending < current) {
            if (a.mode == Mode.Isolated) {
                st.isolatedWeight -= current - pending;
            } else {
                st.sharedWeight -= uint128(
                    _weighted(current, a.riskWeightTenths) - _weighted(pending, a.riskWeightTenths)
                );
            }
        }
        (a.current, a.effectAt) = (pending, 0);
    }

    /// @dev The pool's state as `_syncPool` would leave it; `added` is what a matured pending isolated increase
    /// adds to its allocation (type(uint96).max when none settles).
    function _viewPoolSettled(uint256 poolId)
        internal
        view
        returns (PoolState memory st, address operator, uint96 added)
    {
        uint32 generation;
        (operator, generation,) = vault.poolKey(poolId);
        st = _pools[poolId];
        added = type(uint96).max;
        if (st.totalWeight == 0 || st.generation != generation) {
            (st.totalWeight, st.isolatedWeight, st.sharedWeight, st.pendingIsolated) = (UNIT, 0, 0, 0);
            unchecked {
                st.epoch += 1;
            }
            st.generation = generation;
        } else if (st.pendingIsolated != 0 && _settles(st.pendingIsolatedAt, st.slashPendingUntil)) {
            added = uint96(Math.min(st.pendingIsolated, st.totalWeight - st.isolatedWeight));
            st.isolatedWeight += added;
            st.pendingIsolated = 0;
        }
    }

    /// @dev Commits an allocation increase (it becomes slashable only after the allocation delay) and refuses it if
    /// the pool would over-commit its isolated stake, its reuse cap or the path maximum. A shared increase counts
    /// against the cap at once. An isolated increase stays in the shared stake (slashable by shared AVSs: nothing to
    /// escape into) until it takes effect; one per pool at a time, so the pool knows exactly when it does.
    function _commitIncrease(
        PoolState storage st,
        uint256 poolId,
        uint32 avsId,
        Mode mode,
        uint128 delta,
        uint40 effectAt
    ) internal {
        uint256 total = st.totalWeight;
        uint256 isolated = st.isolatedWeight;
        uint256 shared = st.sharedWeight;
        if (mode == Mode.Isolated) {
            if (st.pendingIsolated != 0) {
                revert IsolatedIncreasePending(poolId, st.pendingIsolatedAvs, st.pendingIsolatedAt);
            }
            isolated += delta;
            if (isolated > total) revert IsolatedOverCommitted(isolated, total);
            // An isolated delta is `target − current` of uint96 weights: it fits.
            (st.pendingIsolated, st.pendingIsolatedAt, st.pendingIsolatedAvs) = (uint96(delta), effectAt, avsId);
        } else {
            shared += delta;
            st.sharedWeight = uint128(shared); // over the cap (≤ 2^32 bps × 2^96 < 2^128) reverts below
            // As if the pending isolated increase were in effect: when it settles it must not push the shared
            // limits over the cap (scaling every shared backing down under a slash already decided).
            isolated += st.pendingIsolated;
        }
        // Growing either side may push the pool over its reuse cap: refuse new allocations there.
        uint256 cap = _capOf(st.reuseCapBps);
        // (A pending isolated increase may exceed what slashes left of the shared stake: then there is no room.)
        uint256 limit = total > isolated ? (total - isolated) * cap / BPS : 0;
        if (shared > limit) revert ReuseCapExceeded(shared, limit);
        // A tier created after the caps were set must still respect the path maximum before it is used.
        uint256 path = _pathReuse(poolId, cap);
        if (path > maxPathReuseBps) revert PathReuseTooHigh(path, maxPathReuseBps);
    }

    /// @dev Lets a matured pending change take over; a decrease frees its committed weight only now.
    function _apply(PoolState storage st, Allocation storage a) internal {
        if (a.epoch != st.epoch) {
            // A whole-slot write: the allocation of an ended epoch is gone.
            _allocationsReset(a, st.epoch);
            return;
        }
        uint40 effectAt = a.effectAt;
        if (effectAt == 0 || block.timestamp < effectAt) return;
        uint96 current = a.current;
        uint96 pending = a.pending;
        if (a.mode == Mode.Isolated) {
            // An isolated increase takes effect only by settling with its pool (`_syncPool`), which waits for the
            // slashes decided on it: a matured one here is still pending.
            if (pending > current) return;
            st.isolatedWeight -= current - pending;
        } else if (pending < current) {
            uint8 riskWeight = a.riskWeightTenths;
            st.sharedWeight -= uint128(_weighted(current, riskWeight) - _weighted(pending, riskWeight));
        }
        a.current = pending;
        a.effectAt = 0;
    }

    function _allocationsReset(Allocation storage a, uint16 epoch) internal {
        (a.current, a.pending, a.effectAt, a.mode, a.epoch) = (0, 0, 0, Mode.None, epoch);
        a.riskWeightTenths = 0;
    }

    /// @dev Re-prices a shared allocation at its AVS's current risk weight: its committed weight leaves the pool's sum
    /// at the old weight and enters at the new one.
    function _reprice(PoolState storage st, Allocation storage a, uint256 poolId, uint32 avsId) internal {
        uint8 riskWeight = _avs[avsId].riskWeightTenths;
        uint8 before = a.riskWeightTenths;
        uint96 committed = a.current > a.pending ? a.current : a.pending;
        if (riskWeight == before || committed == 0) return;
        // At most 5× a sum within the cap: below 2^32 bps × 5 × 2^96 < 2^128, so the cast never truncates (finding F3:
        // as a uint96 it wrapped above a ~15.9× cap).
        st.sharedWeight = uint128(st.sharedWeight - _weighted(committed, before) + _weighted(committed, riskWeight));
        a.riskWeightTenths = riskWeight;
        emit RiskWeightRefreshed(poolId, avsId, before, riskWeight);
    }

    /// @dev A shared allocation's weight as it counts against the reuse cap: times its risk weight, rounded down.
    /// Every change of the sum subtracts exactly what the allocation added (`_weighted` of the stored amount and
    /// weight), so the sum never drifts from Σ _weighted(committed_i, riskWeight_i). An allocation's weight is set
    /// whenever it commits anything (an AVS's is never below 1×); 0 only while it commits nothing.
    function _weighted(uint256 weight, uint8 riskWeightTenths) internal pure returns (uint256) {
        return weight * riskWeightTenths / ONE_X;
    }

    function _backing(PoolState memory st, Mode mode, uint256 weight, uint256 value) internal view returns (uint256) {
        if (mode == Mode.Shared) {
            weight = _sharedWeight(st.totalWeight, st.isolatedWeight, st.sharedWeight, st.reuseCapBps, weight);
        }
        return Math.mulDiv(weight, value, st.totalWeight);
    }

    function _pathReuse(uint256 poolId, uint256 ownCap) internal view returns (uint256) {
        uint256 basePoolId = vault.baseOf(poolId);
        return basePoolId == 0 ? ownCap : ownCap * _reuseCap(basePoolId) / BPS;
    }

    /// @dev The pool's reuse cap in bps: its own or the default, never above the protocol maximum.
    function _reuseCap(uint256 poolId) internal view returns (uint256) {
        return _capOf(_pools[poolId].reuseCapBps);
    }

    function _capOf(uint256 own) internal view returns (uint256) {
        return Math.min(own == 0 ? defaultReuseCapBps : own, maxReuseCapBps);
    }

    /// @dev A pending request must outlive neither a deallocation nor a withdrawal started when it was filed: its last
    /// executable second (executableAt + executionWindow, inclusive) comes strictly before either takes effect.
    function _checkVetoWindow(address resolver, uint48 vetoWindow) internal view {
        uint256 limit = resolver == address(0) ? 0 : deallocationDelay - executionWindow - 1;
        if ((resolver == address(0)) != (vetoWindow == 0) || vetoWindow > limit) {
            revert InvalidVetoWindow(vetoWindow, limit);
        }
        if (uint256(vetoWindow) + executionWindow + allocationDelay + deallocationDelay >= vault.escrowDelay()) {
            revert InvalidVetoWindow(vetoWindow, limit);
        }
    }

    /// @dev A slash decided on the pool may execute until `until`: the pool's pending isolated increase settles only
    /// after it (a tier slash never touches its base pool, so only this pool). Nothing is refused: only an AVS the pool
    /// backs decides slashes on it, and it can postpone an increase only while the operator's allocation to it lasts.
    function _announce(uint256 poolId, uint40 until) internal {
        PoolState storage st = _pools[poolId];
        if (st.slashPendingUntil >= until) return;
        // An increase that was already due settles first: a slash decided later never reaches back. (The caller saw
        // backing on the pool, so its state is of the vault's generation.)
        if (st.pendingIsolated != 0 && _settles(st.pendingIsolatedAt, st.slashPendingUntil)) {
            _settleIsolated(st, poolId);
        }
        st.slashPendingUntil = until;
        emit IsolatedIncreasesDelayed(poolId, until);
    }

    function _checkFraction(AVS storage avs, uint64 fractionWad) internal view {
        if (fractionWad == 0 || fractionWad > WAD) revert InvalidFraction(fractionWad);
        if (fractionWad > avs.maxSlashWad) revert SlashAboveMax(fractionWad, avs.maxSlashWad);
    }

    function _onlySlasher(uint32 avsId) internal view returns (AVS storage avs) {
        avs = _getAVS(avsId);
        if (avs.slasher != msg.sender) revert NotAVSSlasher(avsId, msg.sender);
    }

    function _pendingRequest(uint64 requestId) internal view returns (Request storage r) {
        r = _requests[requestId];
        if (r.status == RequestStatus.None) revert UnknownRequest(requestId);
        if (r.status != RequestStatus.Pending) revert RequestNotPending(requestId, r.status);
    }

    function _getAVS(uint32 avsId) internal view returns (AVS storage avs) {
        avs = _avs[avsId];
        if (avs.slasher == address(0)) revert UnknownAVS(avsId);
    }
}
