// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Allocation manager: AVSs, allocations and every slash
/// @notice The isolation layer over the stake vault, and the vault's only slasher.
/// - Logical isolation: each AVS registers its own slashing module, the only address that can slash for it, and a
///   sink fixed at registration.
/// - Economic isolation: an operator allocates a pool to an AVS either *isolated* (exclusive: no other AVS's slash
///   can reduce it) or *shared* (restaked: counted against the pool's reuse cap, backed elastically by what is left).
/// - Per staker (promise P1): a staker's loss to an isolated AVS never exceeds the fraction of the pool allocated to it,
///   times their stake in that pool, whatever other AVSs (tier AVSs included), deposits and withdrawals do; and no other
///   AVS's slash lowers an isolated allocation's backing, counted in the pool's collateral.
/// - Hierarchical isolation: a tier pool's collateral is shares of its base pool, and its slashes are paid in those
///   shares (moved into the sink's base position), so a tier slash never changes the base pool. A tier holder bears
///   the base's AVSs at the base's fractions (as any base staker) and the tier's AVSs at the tier's fractions; a tier's
///   value in the base asset moves with the base share price, which only the base's own slashes lower.
/// - Every slash passes the pool's cascade guard: in any span of one guard window a pool loses at most the guard's
///   fraction of its value (two fixed windows compounding; see `setGuard`).
/// @dev Allocations are weights relative to the pool's total weight W; an allocation's backing is weight · V / W
/// where V is the pool's slashable value in the vault. Deposits and matured withdrawals change V, not weights, so
/// every allocation grows or shrinks pro rata. A slash of `s` lowers the slashed allocation and W by ⌈W·s/V⌉, which
/// leaves every other compartment's absolute backing unchanged. Shared backing is min(weight, W − isolated) · V / W,
/// scaled by min(1, cap · (W − isolated) / Σ shared) so that the shared backings never exceed the reuse cap times the
/// shared stake (promise P4, after any sequence: slashes that shrink the shared stake scale the others down).
interface IAllocationManager {
    enum Mode {
        None,
        Isolated,
        Shared
    }

    /// @notice Why a slash took nothing (`SlashTookNothing`).
    enum NothingReason {
        NotYetEffective, // the allocation's increase is still in its allocation delay (`effectAt` in the future)
        NoBacking, // nothing allocated to the AVS here, or no shared stake left for a shared allocation
        GuardFull, // the pool's cascade guard has no room left in this window (see `CascadeGuardTripped`)
        TooSmall // the fraction of the backing rounds to zero, or the vault's price floor kept it back
    }

    enum RequestStatus {
        None,
        Pending,
        Vetoed,
        Executed
    }

    /// @notice An AVS as registered. `slasher` is its slashing module; `sink` receives what it slashes.
    /// `riskWeightTenths` and `bondShort` are its standing, set by the reputation contract (`setStanding`): the weight,
    /// in tenths, its shared allocations count with against a pool's reuse cap (10 = 1×, without a reputation contract), and
    /// whether its bond is below what its backing requires (then it receives no new allocations or increases).
    struct AVS {
        address admin;
        address slasher;
        uint8 riskWeightTenths;
        bool bondShort;
        uint40 requestsVetoableUntil; // the latest `executableAt` of its requests: its bond stays until then
        address sink;
        address resolver;
        uint48 vetoWindow;
        uint64 maxSlashWad;
    }

    /// @notice An operator's membership of an AVS.
    struct Membership {
        bool optedIn;
        uint48 optedOutAt;
        bool ejected; // by the AVS's admin: never opts in again
    }

    /// @notice One pool's allocation to one AVS. `current` is slashable now; `pending` takes over at `effectAt`.
    /// A shared allocation counts against the pool's reuse cap as max(current, pending) · riskWeightTenths / 10: the
    /// AVS's risk weight when the allocation last grew or was brought up to date (`applyPending`).
    struct Allocation {
        uint96 current;
        uint96 pending;
        uint32 effectAt;
        Mode mode;
        uint16 epoch;
        uint8 riskWeightTenths;
    }

    /// @notice Allocation state of a pool. Weights are relative to `totalWeight`.
    struct PoolState {
        uint96 totalWeight;
        uint96 isolatedWeight; // in effect: an increase counts once it takes effect, a decrease once applied
        uint32 generation;
        uint32 guardAt; // when the guard's losses last grew (they belong to that time's window)
        // Up to 5× (risk weights) a sum within the reuse cap (< 2^32 bps) of a uint96 total: it needs 128 bits.
        uint128 sharedWeight; // committed sum of shared limits, each times its risk weight (Allocation)
        uint64 guardPreviousWad; // cascade guard: fraction of the value lost in the window before `guardAt`'s ...
        uint64 guardCurrentWad; // ... and in `guardAt`'s window (compounded, rounded up)
        uint96 pendingIsolated; // the pool's one pending isolated increase (still in the shared stake) ...
        uint40 pendingIsolatedAt; // ... due then (settles after slashPendingUntil too), clipped to the stake free ...
        uint32 pendingIsolatedAvs; // ... for this AVS
        uint32 reuseCapBps; // the pool's own reuse cap (0 = the protocol default), clamped to the maximum
        uint40 slashPendingUntil; // a decided slash may execute until then: the pending increase settles after it
        uint16 epoch; // follows the vault pool's generation
    }

    /// @notice A slash request in the veto flow.
    struct Request {
        uint32 avsId;
        uint64 poolId;
        uint64 fractionWad;
        uint40 executableAt;
        RequestStatus status;
    }

    /// @notice What a dApp or the risk engine needs about a pool in one call.
    struct PoolRisk {
        uint256 poolId;
        uint256 value; // slashable value (the asset; for a tier, its base shares valued in the base asset)
        uint256 totalIsolated; // assets exclusively backing isolated AVSs
        uint256 sharedStake; // value − totalIsolated
        uint256 totalShared; // Σ shared limits as they can be slashed (scaled to the cap), in assets
        uint256 reuseRatioWad; // totalShared / sharedStake: never above reuseCapWad
        uint256 reuseCapWad;
        uint256 pathReuseWad; // product of caps along base → tier
        uint256 guardUsedWad; // fraction of value lost in the current and the previous guard window (compounded)
    }

    /// @notice An allocation in the units `allocate` takes (`IAllocationLens.allocationOf`): fractions of the pool (WAD, 1e18 = the whole pool) rather
    /// than weights. `pendingFractionWad` and `effectAt` are zero when no change is pending (a change whose time
    /// has come reads as in effect).
    struct AllocationView {
        Mode mode;
        uint64 fractionWad; // in effect now
        uint64 pendingFractionWad; // what it becomes at effectAt
        uint40 effectAt;
        uint256 backing; // assets the AVS can slash now (`slashableBacking`)
    }

    /// @notice One pool's part in an AVS's backing (`IAllocationLens.avsBacking`).
    struct Backing {
        uint256 poolId;
        address operator;
        Mode mode;
        uint256 assets; // slashable now
        uint256 allocated; // the allocation's limit in assets (pending included)
    }

    error ZeroAddress();
    /// @notice `account` has no code where a contract is needed.
    error NoCode(address account);
    /// @notice The reputation contract is wired before any AVS registers (`setReputation`).
    error AVSsAlreadyRegistered(uint32 count);
    /// @notice The reputation contract is wired once (`setReputation`).
    error ReputationAlreadySet(address reputation);
    error UnknownAVS(uint32 avsId);
    error NotAVSAdmin(uint32 avsId, address caller);
    error NotAVSSlasher(uint32 avsId, address caller);
    error NotResolver(uint64 requestId, address caller);
    error InvalidSlashCap(uint256 maxSlashWad);
    error InvalidVetoWindow(uint256 vetoWindow, uint256 limit);
    error InvalidDelays(uint256 allocationDelay, uint256 deallocationDelay, uint256 escrowDelay);
    error InvalidGuard(uint256 maxFractionWad, uint256 window);
    error ReuseCapTooHigh(uint256 capBps, uint256 maxBps);
    error PathReuseTooHigh(uint256 pathBps, uint256 maxBps);
    error NotOperator(address caller);
    error AlreadyOptedIn(uint32 avsId, address operator);
    /// @notice The AVS's admin ejected the operator (`ejectOperator`): it cannot join again.
    error OperatorIsEjected(uint32 avsId, address operator);
    error NotOptedIn(uint32 avsId, address operator);
    error NotPoolOperator(uint256 poolId, address caller);
    error InvalidFraction(uint256 fractionWad);
    error ModeMismatch(Mode existing, Mode requested);
    error PendingChange(uint40 effectAt);
    error NoChange();
    error IsolatedIncreasePending(uint256 poolId, uint32 avsId, uint40 effectAt);
    error IsolatedOverCommitted(uint256 isolatedWeight, uint256 totalWeight);
    error ReuseCapExceeded(uint256 sharedWeight, uint256 limit);
    error AllocationsPaused();
    error NotSlashable(uint32 avsId, uint256 poolId);
    error SlashAboveMax(uint256 fractionWad, uint256 maxSlashWad);
    error VetoFlowRequired(uint32 avsId);
    error NoVetoFlow(uint32 avsId);
    error UnknownRequest(uint64 requestId);
    error RequestNotPending(uint64 requestId, RequestStatus status);
    error VetoWindowOpen(uint64 requestId, uint40 executableAt);
    error VetoWindowClosed(uint64 requestId, uint40 executableAt);
    error RequestExpired(uint64 requestId, uint40 expiredAt);
    error PoolIdTooLarge(uint256 poolId);
    error SlashMismatch(uint256 poolId, uint256 booked, uint256 taken);
    error NotReputation(address caller);
    error InvalidRiskWeight(uint8 riskWeightTenths);
    error BondBelowRequirement(uint32 avsId);

    event AVSRegistered(
        uint32 indexed avsId,
        address indexed admin,
        address slasher,
        address sink,
        address resolver,
        uint48 vetoWindow,
        uint64 maxSlashWad,
        string metadataURI
    );
    event AVSMetadataUpdated(uint32 indexed avsId, string metadataURI);
    event OperatorOptedIn(uint32 indexed avsId, address indexed operator);
    event OperatorOptedOut(uint32 indexed avsId, address indexed operator, uint48 slashableUntil);
    event OperatorEjected(uint32 indexed avsId, address indexed operator);
    event AllocationModified(
        uint256 indexed poolId, uint32 indexed avsId, Mode mode, uint96 current, uint96 pending, uint40 effectAt
    );
    event ReuseCapSet(uint256 indexed poolId, uint32 capBps);
    event ReputationSet(address reputation);
    event StandingSet(uint32 indexed avsId, uint8 riskWeightTenths, bool bondShort);
    event RiskWeightRefreshed(uint256 indexed poolId, uint32 indexed avsId, uint8 fromTenths, uint8 toTenths);
    event ProtocolLimitsSet(uint32 defaultReuseCapBps, uint32 maxReuseCapBps, uint32 maxPathReuseBps);
    event GuardSet(uint64 maxFractionWad, uint32 window);
    event PoolStateReset(uint256 indexed poolId, uint16 epoch);
    event SlashRequested(
        uint64 indexed requestId, uint32 indexed avsId, uint256 indexed poolId, uint64 fractionWad, uint40 executableAt
    );
    event SlashVetoed(uint64 indexed requestId, address indexed resolver);
    /// @notice The reputation contract's veto hook reverted with `reason` (not for want of gas): the veto stands.
    event ReputationHookFailed(uint64 indexed requestId, bytes reason);
    /// @notice The pool's pending isolated increase (committed before or after) settles only after `until`: a slash
    /// decided on it (a request, or an announced proposal) may execute until then.
    event IsolatedIncreasesDelayed(uint256 indexed poolId, uint40 until);
    /// @notice The guard cut an execution: the request stays executable until it expires, for
    /// `fractionWad` of the backing left.
    event SlashRequestReduced(uint64 indexed requestId, uint64 fractionWad);
    /// @notice A slash went through: `amount` left the pool for the AVS's sink in this transaction (from a tier pool:
    /// base shares worth `amount` in the base asset, into the sink's base position).
    event OperatorSlashed(
        uint32 indexed avsId,
        uint256 indexed poolId,
        address indexed operator,
        uint64 fractionWad,
        uint256 amount,
        uint64 requestId
    );
    /// @notice A slash went through and took nothing, and why (a slash before the allocation delay, for instance).
    event SlashTookNothing(uint32 indexed avsId, uint256 indexed poolId, NothingReason reason);
    /// @notice The cascade guard cut a slash: `requested` was asked for, `allowed` went through.
    event CascadeGuardTripped(uint256 indexed poolId, uint32 indexed avsId, uint256 requested, uint256 allowed);

    // ------------------------------------------------------------------ AVSs and operators

    /// @notice Registers an AVS. `resolver` zero means instant slashing only; otherwise every slash goes through the
    /// veto flow with `vetoWindow`. Promise (no escape): `vetoWindow + executionWindow < deallocationDelay` and the
    /// escrow delay exceeds the veto window plus the execution window and both allocation delays, so a request's last
    /// executable second comes strictly before any deallocation, opt-out or withdrawal started when it was filed
    /// takes effect.
    function registerAVS(
        string calldata metadataURI,
        address slasher,
        address sink,
        address resolver,
        uint48 vetoWindow,
        uint64 maxSlashWad
    ) external returns (uint32 avsId);

    /// @notice Updates an AVS's metadata (its admin only). Slasher, sink, resolver and limits never change.
    function setAVSMetadata(uint32 avsId, string calldata metadataURI) external;

    /// @notice The AVS's admin ejects an operator, for good: opted out now if it was in (slashable for the
    /// deallocation delay, as any opt-out), never to join again. Backing the AVS did not ask for then stops counting
    /// against its bond (`committedBacking`) once that window has passed.
    function ejectOperator(uint32 avsId, address operator) external;

    /// @notice The calling operator joins the AVS (`OperatorIsEjected` if the AVS ejected it). Rejoining after an opt-out revives the allocations left behind,
    /// so a bond-short AVS cannot take an operator back (`BondBelowRequirement`).
    function optIn(uint32 avsId) external;

    /// @notice The calling operator leaves the AVS; it stays slashable for the deallocation delay.
    function optOut(uint32 avsId) external;

    // ------------------------------------------------------------------ allocations

    /// @notice Sets the pool's allocation to an AVS to `fractionWad` of the pool (pool's operator only). Increases
    /// become slashable after the allocation delay; decreases take effect after the deallocation delay and the old
    /// amount stays slashable until then. One pending change per allocation at a time, and one pending isolated
    /// increase per pool (`IsolatedIncreasePending`).
    /// Promise (no escape): an isolated increase stays in the shared stake, slashable by the shared AVSs, until it
    /// takes effect (then clipped to the stake still free), and it never settles while a slash requested or announced
    /// on the pool may still execute, whether that slash was decided before the increase was committed or after
    /// (`slashPendingUntil`; one that was due before a slash was decided settles first). So committing one never
    /// shrinks a slash that is coming. Nothing refuses it: only an AVS the pool backs decides slashes on it, so its
    /// requests postpone the increase at most until one veto flow (veto + execution window) after the operator's
    /// deallocation from it (or opt-out) takes effect.
    /// @return current The allocation in effect before the change (in the pool's weight units; 0 for a new pair).
    /// @return effectAt When the change takes effect: an increase becomes slashable then.
    function allocate(uint256 poolId, uint32 avsId, Mode mode, uint64 fractionWad)
        external
        returns (uint256 current, uint48 effectAt);

    /// @notice Brings the pool's allocations to `avsIds` up to date (anyone may call): matured pending changes take
    /// effect (a finished deallocation frees its committed weight only when applied), and each shared allocation is
    /// re-priced at its AVS's current risk weight. After a rating drop it counts more against the reuse cap, which
    /// then refuses new shared increases and scales the shared backings down as after a slash; after a rise, less.
    /// It never blocks a slash.
    function applyPending(uint256 poolId, uint32[] calldata avsIds) external;

    /// @notice The reputation contract sets an AVS's standing: its risk weight in tenths (10 = 1× … 50 = 5×) and
    /// whether its bond is short of what its backing requires.
    function setStanding(uint32 avsId, uint8 riskWeightTenths, bool bondShort) external;

    /// @notice The owner names the reputation contract, once and before any AVS registers (`ReputationAlreadySet`,
    /// `AVSsAlreadyRegistered`; `ZeroAddress` for zero, `NoCode` for an account without code), so every AVS starts
    /// at the floor's weight and gated:
    /// it sets standings and hears of vetoed requests. Until then every AVS counts at 1× and is never bond-short.
    /// Never detached nor swapped: either would change every AVS's standing, and skip the penalties of pending
    /// requests, at once and without notice.
    function setReputation(address reputation) external;

    // ------------------------------------------------------------------ slashing

    /// @notice Instant slash of `fractionWad` of the pool's current backing of the AVS (AVS's slasher only; AVSs
    /// without a resolver). Tokens go to the AVS's sink in this transaction (base shares, for a tier pool).
    function slash(uint32 avsId, uint256 poolId, uint64 fractionWad) external returns (uint256 amount);

    /// @notice Starts a vetoable slash of `fractionWad` of the backing at execution time (AVS's slasher only).
    /// Nothing is refused because of it: the pool's pending isolated increase settles only after its last executable
    /// second, and so do deallocations, opt-outs and withdrawals filed with it take effect.
    function requestSlash(uint32 avsId, uint256 poolId, uint64 fractionWad) external returns (uint64 requestId);

    /// @notice Announces a slash being decided (e.g. a committee proposal before its quorum) by the AVS's slasher,
    /// for an AVS with a veto flow and backing on the pool: the pool's pending isolated increase settles only after
    /// now + veto window + execution window, as if a request were filed now.
    function announceSlash(uint32 avsId, uint256 poolId) external;

    /// @notice Vetoes a pending request before its veto window closes (the AVS's resolver only).
    function vetoSlash(uint64 requestId) external;

    /// @notice Executes a request after its veto window and before it expires (AVS's slasher only). The amount is
    /// `fractionWad` of the backing at execution, so overlapping requests never double count. A request is used up
    /// only by what was taken: if the cascade guard cut it, it stays pending (`SlashRequestReduced`) for the rest, as
    /// a fraction of the backing left, until it expires.
    function executeSlash(uint64 requestId) external returns (uint256 amount);

    // ------------------------------------------------------------------ governance

    /// @notice Sets a pool's reuse cap in basis points (10,000 = 1×; 0 = the default) under the protocol maximum, and
    /// for a tier under the path maximum. Tiers over a base are held to the path maximum on each of their increases.
    /// A lower cap takes effect at once: shared backings scale down to it.
    function setReuseCap(uint256 poolId, uint32 capBps) external;

    /// @notice Sets the default and maximum reuse cap and the maximum effective reuse along a path. No walk over
    /// pools: every pool's cap is clamped to the maximum wherever it is read.
    function setProtocolLimits(uint32 defaultReuseCapBps, uint32 maxReuseCapBps, uint32 maxPathReuseBps) external;

    /// @notice Sets the cascade guard. Promise: in any span of `window` seconds a pool loses at most `maxFractionWad`
    /// of its value (losses compound: each is a fraction of the value when taken). Windows are numbered
    /// `timestamp / window`; the current and the previous one together stay under the cap. A new window length
    /// applies to the windows as numbered under it.
    function setGuard(uint64 maxFractionWad, uint32 window) external;

    // ------------------------------------------------------------------ views

    /// @notice Seconds a decreased allocation (or an opted-out operator) stays slashable.
    function deallocationDelay() external view returns (uint48);
    /// @notice Seconds after its veto window during which a request can be executed; then it expires.
    function executionWindow() external view returns (uint48);

    function getAVS(uint32 avsId) external view returns (AVS memory);
    function avsCount() external view returns (uint32);
    function membership(uint32 avsId, address operator) external view returns (Membership memory);
    function isSlashable(uint32 avsId, address operator) external view returns (bool);
    /// @notice The allocation's raw weights (relative to the pool's `totalWeight`, 1e27 at start; `pending` equals
    /// `current` when nothing is pending), as a touch would leave them: a matured change in effect; the pool's pending
    /// isolated increase with the earliest time it can settle (`effectAt`, after `slashPendingUntil`). dApps:
    /// `allocationOf` speaks the units `allocate` takes.
    function getAllocation(uint256 poolId, uint32 avsId) external view returns (Allocation memory);

    function getPoolState(uint256 poolId) external view returns (PoolState memory);
    function getRequest(uint64 requestId) external view returns (Request memory);

    /// @notice Assets of `poolId` that `avsId` can slash right now.
    function slashableBacking(uint32 avsId, uint256 poolId) external view returns (uint256);

    /// @notice Assets of `poolId` allocated to `avsId`, committed: the larger of the allocation in effect and its
    /// pending change (a matured change in effect), at the pool's value,
    /// rounded up; zero once the operator is out of the AVS (opted out or ejected, and past its slashable window: a
    /// bond-short AVS cannot take it back, `optIn`). What the AVS draws or is about to draw (the bond gate's measure,
    /// `Reputation.refreshStanding`): never below `slashableBacking`, which counts only what is in effect now.
    function committedBacking(uint32 avsId, uint256 poolId) external view returns (uint256);

    /// @notice Per-pool risk: isolated, shared, reuse ratio, cap, path reuse, guard usage.
    function poolRisk(uint256 poolId) external view returns (PoolRisk memory);

    /// @notice The manager's `IAllocationLens` (created with it): views kept out of the manager's bytecode
    /// (`allocationOf`, `avsBacking`).
    function lens() external view returns (address);
}
