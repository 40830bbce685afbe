// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {BetaReputation} from "../libraries/BetaReputation.sol";
import {IAllocationManager} from "./IAllocationManager.sol";
import {IReputationHooks} from "./IReputationHooks.sol";
import {IStakeVault} from "./IStakeVault.sol";

/// @title Reputation: evidence, ratings and AVS bonds
/// @notice The contract half of issue 16 (`docs/reputation.md`, "On chain"). It records the evidence the protocol sees
/// itself (no trusted feed), turns it into a rating per AVS and per operator with the `BetaReputation` maths, and
/// holds AVS bonds, from which a vetoed slash request pays a penalty into the pool it targeted.
/// - Evidence. An AVS earns good evidence for an epoch closed by a checkpoint with backing at stake and no vetoed
///   request since its last checkpoint (weighted by the value at risk: `evidenceUnit` of the pool's asset earns a
///   full unit); a vetoed request is bad evidence (`vetoBadWad`). An operator earns good evidence the same way from its
///   pool's value at risk; a proven double-sign (`doubleSignBadWad`) and an executed vetoable slash
///   (`executedSlashBadWad`) are bad evidence. An executed slash is neutral for the AVS, a vetoed request nothing for
///   the operator.
/// - Ratings. Both kinds of evidence are forgotten by λ per epoch; a checkpoint (at most once per epoch per subject;
///   the subject's own while it keeps up, anyone's once it is tainted or lapses) moves the rating toward the lower
///   confidence bound of the evidence by at most `maxStepWad`. A fresh identity rates 0, the floor, so
///   re-registering never pays. Faults change the evidence at once and the rating at the next checkpoint, which
///   anyone may call once there is a fault.
/// - Bonds. Per (AVS, allowlisted asset); anyone may fund one, only the AVS's admin withdraws, through one queued
///   withdrawal per (AVS, asset) that matures after `bondWithdrawalDelay`. A vetoed request costs its AVS
///   `penaltyWad` of what it asked for, taken from the bond in the targeted pool's asset (available first, then the
///   queued withdrawal) and paid into that pool through `IStakeVault.compensate`.
/// - Standing. `refreshStanding` pushes an AVS's standing to the manager (`IAllocationManager.setStanding`): its risk
///   weight from its rating, and whether its bond is short of what its backing requires (the manager's bond gate).
/// - Governance. Every parameter change is queued by the owner within constant bounds and takes effect only after
///   `PARAMETER_DELAY`, applied by anyone; the owner may cancel it before.
/// @dev Rounding always goes against the rated or paying party: evidence and ratings as in `BetaReputation`, a
/// penalty and a required bond up, a weighted backing down. Nothing loops over a set anyone can grow; the one array an
/// entry point takes (`weightedBacking`, a view) is capped.
interface IReputation is IReputationHooks {
    /// @notice A parameter change's kind. `target` is the asset (`EvidenceUnit`), the module (`TrustedModule`) or zero.
    enum Parameter {
        Rating, // value: forgetWad | zWad << 64 | maxStepWad << 128
        FaultWeights, // value: vetoBadWad | doubleSignBadWad << 64 | executedSlashBadWad << 128
        RiskWeights, // value: atFloorWad | atTopWad << 64
        BondFractions, // value: atFloorWad | atTopWad << 64
        Penalty, // value: penaltyWad
        EvidenceUnit, // target: the asset; value: the unit (0: the asset earns no good evidence), below 2^128
        TrustedModule // target: the module; value: 1 trusted, 0 not
    }

    /// @notice Bad evidence by kind.
    enum FaultKind {
        VetoedRequest, // an AVS's slash request was vetoed by its resolver
        ExecutedSlash, // a vetoable slash was executed against the operator's pool
        DoubleSign // a trusted DoubleSignSlasher slashed the operator for a round
    }

    /// @notice Why a vetoed request paid no penalty (`PenaltySkipped`).
    enum SkipReason {
        NothingAsked, // the targeted backing is zero now, so the penalty is zero
        NoBond, // the AVS holds no bond in the pool's asset
        PoolTooSmall, // the vault refused: the pool has fewer than `MIN_COMPENSATION_SHARES` shares
        VaultRefused // the vault or the token refused the payment for another reason
    }

    /// @notice An AVS's or an operator's evidence and rating: one storage slot.
    struct Record {
        uint72 goodWad; // decayed to `epoch`; at most 1/(1 − λ) ≤ 1,000 units, so it never nears 2^72
        uint72 badWad; // decayed to `epoch`, rounded up; saturates at 2^72 − 1 (4,722 units) rather than reverting
        uint64 ratingWad; // moved only by checkpoints, at most `maxStepWad` each
        uint32 epoch; // the epoch `goodWad` and `badWad` are decayed to: the last checkpoint or fault
        bool checkpointed; // a checkpoint happened in `epoch`
        bool tainted; // a fault since the last checkpoint: the next one credits no good evidence
    }

    /// @notice A record for display: the stored evidence (as of `epoch`), the rating, and the mean and lower
    /// confidence bound of the stored evidence. `seen` is false for an identity the contract never recorded.
    struct RecordView {
        uint256 goodWad;
        uint256 badWad;
        uint256 ratingWad;
        uint256 meanWad;
        uint256 lowerBoundWad;
        uint32 epoch;
        bool checkpointed;
        bool tainted;
        bool seen;
    }

    /// @notice An AVS's bond in one asset. `queued` leaves at `maturity` (zero when nothing is queued).
    struct Bond {
        uint128 available;
        uint128 queued;
        uint48 maturity;
    }

    /// @notice An AVS's backing in one asset as last measured (`refreshStanding`: Σ `measuredBacking` over the asset's
    /// pools), and whether its available bond in the asset fell short of what that backing requires when last judged.
    struct AssetStanding {
        uint248 backing;
        bool short;
    }

    /// @notice A queued parameter change (`effectiveAt` zero: none), encoded as its `Parameter` says.
    struct PendingChange {
        uint256 value;
        uint48 effectiveAt;
    }

    error ZeroAddress();
    error ZeroAmount();
    error VaultMismatch(address managerVault, address vault);
    error InvalidEpochLength(uint256 epochLength, uint256 min, uint256 max);
    error InvalidBondWithdrawalDelay(uint256 delay, uint256 min, uint256 max);
    error NotManager(address caller);
    error NotSelf(address caller);
    error UnknownAVS(uint32 avsId);
    error NotAVSAdmin(uint32 avsId, address caller);
    error NotOperatorPool(uint256 poolId, address operator);
    error AlreadyCheckpointed(uint32 epoch);
    /// @notice The record's subject (the AVS's admin, or the operator) has this epoch's checkpoint to itself: it
    /// checkpointed in the previous epoch and has no fault since.
    error ReservedForSubject(address caller);
    error UnknownRequest(uint64 requestId);
    error RequestNotExecuted(uint64 requestId, IAllocationManager.RequestStatus status);
    error AlreadyReported(uint64 requestId);
    error UntrustedModule(address module);
    error NotDoubleSigned(address module, address operator, uint64 round, uint256 poolId);
    error DoubleSignAlreadyReported(address module, address operator, uint64 round);
    error AssetNotAllowed(address asset);
    error AmountTooLarge(uint256 amount);
    error FeeOnTransferDetected(address asset, uint256 sent, uint256 received);
    error RebasingDetected(address asset, uint256 tracked, uint256 balance);
    error InsufficientBond(uint256 available, uint256 requested);
    error WithdrawalAlreadyQueued(uint32 avsId, address asset, uint256 queued, uint48 maturity);
    error NoWithdrawalQueued(uint32 avsId, address asset);
    error BondNotMatured(uint48 maturity);
    error BondOnHold(uint32 avsId, uint40 heldUntil);
    error FaultWeightOutOfBounds(uint256 weightWad, uint256 min, uint256 max);
    error RiskWeightsOutOfBounds(uint256 atFloorWad, uint256 atTopWad);
    error BondFractionsOutOfBounds(uint256 atFloorWad, uint256 atTopWad);
    error PenaltyOutOfBounds(uint256 penaltyWad, uint256 max);
    error UnknownParameter(uint8 kind);
    error InvalidTarget(Parameter kind, address target);
    error ValueOutOfBounds(Parameter kind, uint256 value);
    error ChangeAlreadyQueued(Parameter kind, address target, uint48 effectiveAt);
    error NoChangeQueued(Parameter kind, address target);
    error ChangeNotReady(Parameter kind, address target, uint48 effectiveAt);
    error TooManyPools(uint256 count, uint256 max);
    error PoolIdsNotAscending(uint256 index);

    /// @notice A checkpoint closed an epoch for an AVS: `creditWad` good evidence from `poolId`'s backing (0 when
    /// tainted or without an evidence unit), evidence decayed to `epoch`, rating moved from `oldRatingWad`.
    event AVSRatingUpdated(
        uint32 indexed avsId,
        uint256 indexed poolId,
        uint256 oldRatingWad,
        uint256 newRatingWad,
        uint256 goodWad,
        uint256 badWad,
        uint256 creditWad,
        uint32 epoch
    );
    /// @notice The same for an operator, from its pool `poolId`.
    event OperatorRatingUpdated(
        address indexed operator,
        uint256 indexed poolId,
        uint256 oldRatingWad,
        uint256 newRatingWad,
        uint256 goodWad,
        uint256 badWad,
        uint256 creditWad,
        uint32 epoch
    );
    /// @notice Bad evidence against an AVS: its request `requestId` was vetoed. `badWad` is its bad evidence now.
    event AVSFaultRecorded(
        uint32 indexed avsId, uint64 indexed requestId, uint256 addedWad, uint256 badWad, uint32 epoch
    );
    /// @notice Bad evidence against an operator: `ref` is the executed request's id or the double-signed round
    /// (`module` zero for an executed slash).
    event OperatorFaultRecorded(
        address indexed operator,
        FaultKind indexed kind,
        address module,
        uint64 ref,
        uint256 addedWad,
        uint256 badWad,
        uint32 epoch
    );
    /// @notice A vetoed request's penalty left the AVS's bond (`fromAvailable` + `fromQueued` = `amount`, which is
    /// `asked` capped by the bond) and was paid into `poolId` through the vault.
    event PenaltyPaid(
        uint32 indexed avsId,
        uint64 indexed requestId,
        uint256 indexed poolId,
        address asset,
        uint256 asked,
        uint256 amount,
        uint256 fromAvailable,
        uint256 fromQueued
    );
    /// @notice A vetoed request paid no penalty, and why; `asked` is what it would have paid.
    event PenaltySkipped(
        uint32 indexed avsId, uint64 indexed requestId, uint256 indexed poolId, SkipReason reason, uint256 asked
    );
    event BondDeposited(
        uint32 indexed avsId, address indexed asset, address indexed from, uint256 amount, uint256 available
    );
    event BondWithdrawalQueued(uint32 indexed avsId, address indexed asset, uint256 amount, uint48 maturity);
    event BondWithdrawalCompleted(uint32 indexed avsId, address indexed asset, address indexed to, uint256 amount);
    /// @notice A refresh measured the AVS's backing in `poolId` afresh: `backing` replaces the last measure, and the
    /// AVS's measured backing in the pool's `asset` is now `assetBacking`.
    event BackingMeasured(
        uint32 indexed avsId, uint256 indexed poolId, address indexed asset, uint256 backing, uint256 assetBacking
    );
    /// @notice The AVS's bond in `asset` became short of (or again covers) the `required` bond for its measured backing.
    event BondShortChanged(uint32 indexed avsId, address indexed asset, bool short, uint256 required);
    /// @notice `caller` pushed the AVS's standing to the manager: its risk weight in tenths and whether its bond is
    /// short in some asset.
    event StandingRefreshed(uint32 indexed avsId, address indexed caller, uint8 riskWeightTenths, bool bondShort);
    event ChangeQueued(Parameter indexed kind, address indexed target, uint256 value, uint48 effectiveAt);
    event ChangeApplied(Parameter indexed kind, address indexed target, uint256 value);
    event ChangeCancelled(Parameter indexed kind, address indexed target, uint256 value);

    // ------------------------------------------------------------------ checkpoints

    /// @notice Closes the current epoch for an AVS (once per epoch per AVS, else `AlreadyCheckpointed`):
    /// decays its evidence by λ per epoch since it was last decayed, credits
    /// `cleanEpochEvidence(slashableBacking(avsId, poolId), evidenceUnit[asset])` unless a vetoed request tainted it
    /// since its last checkpoint, and moves its rating toward the lower bound of the evidence by at most `maxStepWad`.
    /// The caller picks the pool (its best backing); a pool whose asset has no evidence unit credits 0, and the rating
    /// still moves (a checkpoint must never be blockable, or a tainted AVS could keep its rating).
    /// Who may call: the AVS's admin always; anyone else when the record is tainted (it earns nothing this time
    /// anyway, and its rating must be able to fall) or its admin did not checkpoint it in the previous epoch (never,
    /// or it lapsed); otherwise `ReservedForSubject`. So nobody can burn a diligent AVS's one checkpoint of the
    /// epoch with a pool that has nothing at stake, and a faulty or absent one cannot keep its rating by not calling.
    /// @dev The value at risk is sampled at the checkpoint. A backing cannot be there only for that moment: it became
    /// slashable an allocation delay after it was committed and stays slashable a deallocation delay after it is
    /// withdrawn.
    function checkpointAVS(uint32 avsId, uint256 poolId) external;

    /// @notice Closes the current epoch for an operator (once per epoch per operator) from its own pool `poolId`
    /// (`NotOperatorPool` otherwise): value at risk `totalIsolated + min(totalShared, sharedStake)` of `poolRisk`,
    /// tainted by faults reported since its last checkpoint. Who may call and everything else as `checkpointAVS`,
    /// the operator being its own subject.
    function checkpointOperator(address operator, uint256 poolId) external;

    // ------------------------------------------------------------------ evidence of faults

    /// @notice The manager's hook at the end of `vetoSlash` (the manager only, `NotManager` otherwise). Adds
    /// `vetoBadWad` to the AVS's bad evidence (decayed to the current epoch first), taints it, and takes the penalty
    /// `⌈penaltyWad · fractionWad · slashableBacking(avs, pool)⌉` (what the request asked for, rounded up against the
    /// AVS) from its bond in the pool's asset, available first and then the queued withdrawal, capped by the bond, and
    /// pays it into the pool (`IStakeVault.compensate`). A refusal by the vault (a pool under
    /// `MIN_COMPENSATION_SHARES`) or the token takes nothing and emits `PenaltySkipped`.
    /// @dev Never reverts for a reason the AVS or the resolver controls: bounded work, no loops, and the payment runs
    /// in a self-call under try/catch so a refusal rolls back atomically. The one exception is deliberate: if the
    /// payment ran out of gas the whole veto reverts (`PenaltyOutOfGas`), so a resolver cannot pick a gas limit that
    /// skips the penalty; it retries with more gas.
    function onSlashVetoed(uint64 requestId) external override;

    /// @notice Internal step of `onSlashVetoed`, external only so it can run under try/catch: only this contract
    /// itself may call it (`NotSelf`). Takes `amount` from the AVS's bond in `asset` (available first, then queued)
    /// and pays it into `poolId` through the vault.
    function takePenalty(uint32 avsId, address asset, uint256 poolId, uint256 amount)
        external
        returns (uint256 fromAvailable, uint256 fromQueued);

    /// @notice Records an executed vetoable slash against the operator of the request's pool (anyone, once per
    /// request): `executedSlashBadWad`, and taints the operator. The request's status must be `Executed`
    /// (`RequestNotExecuted`; a guard-cut request that is pending again counts once it is executed in full).
    function reportExecutedSlash(uint64 requestId) external;

    /// @notice Records a proven double-sign (anyone, once per (module, operator, round)): `module` must be trusted
    /// (`UntrustedModule`) and `DoubleSignSlasher(module).slashed(operator, round, poolId)` true (`NotDoubleSigned`).
    /// Adds `doubleSignBadWad` to the operator and taints it.
    function reportDoubleSign(address module, address operator, uint64 round, uint256 poolId) external;

    // ------------------------------------------------------------------ bonds

    /// @notice Adds `amount` of `asset` (allowlisted in the vault) to the AVS's available bond; anyone may fund it.
    /// Exactly `amount` must arrive (`FeeOnTransferDetected`), and this contract must not hold less than its
    /// accounting before (`RebasingDetected`).
    function depositBond(uint32 avsId, address asset, uint256 amount) external;

    /// @notice Queues a withdrawal of `amount` of the available bond (the AVS's admin; one queued withdrawal per
    /// (AVS, asset)). It matures after `bondWithdrawalDelay` and stays reachable by penalties until completed.
    function queueBondWithdrawal(uint32 avsId, address asset, uint256 amount) external;

    /// @notice Pays a matured queued withdrawal to `to` (the AVS's admin), unless a request of the AVS can still be
    /// vetoed (`BondOnHold` until the manager's `AVS.requestsVetoableUntil`, recorded at every request).
    function completeBondWithdrawal(uint32 avsId, address asset, address to) external;

    // ------------------------------------------------------------------ standing (the manager's gate)

    /// @notice Measures the AVS's backing in `poolIds` (any pools, in any order, at most `MAX_WEIGHTED_POOLS` a call)
    /// and pushes its standing to the manager (`setStanding`; anyone may call). Each pool's `slashableBacking` replaces
    /// its last measure (`measuredBacking`) in the AVS's measured backing in the pool's asset (`assetStanding`); each
    /// asset of the call is then judged short when the available bond in it (a queued withdrawal is on its way out) is
    /// below `requiredBond` of that backing. The manager gets the risk weight in tenths, `⌈riskWeightWad / 0.1e18⌉`
    /// (rounded toward the harsh end), and `bondShort`: some asset is short (`shortAssets` > 0).
    /// So a watcher who sees a pool back the AVS measures it and the AVS is gated until it bonds for it: nothing the
    /// AVS does can hide a pool or keep a measure stale (there is no list to fill), and a measure only ever records
    /// what the manager reports. After a rating change, measuring one pool per asset re-judges that asset. New AVSs
    /// start bond-short in the manager: they receive nothing until a first refresh (no pools needed: no backing yet).
    function refreshStanding(uint32 avsId, uint256[] calldata poolIds) external;

    // ------------------------------------------------------------------ governance (owner queues, anyone applies)

    /// @notice Queues a parameter change (owner), which takes effect once `PARAMETER_DELAY` has passed
    /// (`applyChange`). `target` is the asset (`EvidenceUnit`), the module (`TrustedModule`), zero otherwise
    /// (`InvalidTarget`); `value` packs the fields as `Parameter` says, nothing above them (`ValueOutOfBounds`). Bounds:
    /// - `Rating` (λ | z << 64 | step << 128): `BetaReputation.validate`;
    /// - `FaultWeights` (veto | double-sign << 64 | executed slash << 128): each in [0.5e18, 10e18]
    ///   (`FaultWeightOutOfBounds`): a fault worth more than 10 clean epochs would drown any record at the defaults;
    /// - `RiskWeights` (atFloor | atTop << 64): atTop ≥ 1e18, atFloor ≤ 5e18, atFloor ≥ atTop (`RiskWeightsOutOfBounds`);
    /// - `BondFractions` (atFloor | atTop << 64): atFloor ≤ 1e18, atTop ≤ atFloor (`BondFractionsOutOfBounds`);
    /// - `Penalty`: ≤ 1e18, a share of what a vetoed request asked for (`PenaltyOutOfBounds`);
    /// - `EvidenceUnit`: the amount of the asset (in its decimals) that earns one full unit of good evidence per clean
    ///   epoch, below 2^128 (0: the asset earns nothing);
    /// - `TrustedModule`: 1 trusts the DoubleSignSlasher for `reportDoubleSign`, 0 no longer.
    /// One pending change per (kind, target) (`ChangeAlreadyQueued`).
    function queueChange(uint8 kind, address target, uint256 value) external;

    /// @notice Applies a queued change once `PARAMETER_DELAY` has passed (anyone).
    function applyChange(uint8 kind, address target) external;

    /// @notice Cancels a queued change (owner).
    function cancelChange(uint8 kind, address target) external;

    // ------------------------------------------------------------------ views

    function manager() external view returns (IAllocationManager);
    function vault() external view returns (IStakeVault);
    /// @notice When epoch 0 began (deployment).
    function genesis() external view returns (uint48);
    /// @notice Seconds per epoch, in [1 day, 30 days].
    function epochLength() external view returns (uint32);

    /// @notice How long a queued bond withdrawal waits. Proof that it outlasts every veto it matters to: it is at
    /// least the manager's `deallocationDelay` Δ (constructor), and `AllocationManager._checkVetoWindow` admits only
    /// veto windows with `vetoWindow + executionWindow < Δ` (strictly). A request filed at `t` can be vetoed only
    /// before `executableAt = t + vetoWindow`, and executed no later than `t + vetoWindow + executionWindow`.
    /// (1) A withdrawal queued at `q ≥ t` matures at `q + delay ≥ t + Δ > t + vetoWindow + executionWindow`: it is
    /// still queued, and reachable by the penalty, at every second the request can be vetoed (or executed).
    /// (2) A withdrawal queued at `q < t` stays reachable (penalties take the available bond first, then the queued
    /// one) until it is completed; completing it requires `now ≥ maturity` and `now ≥` the manager's
    /// `requestsVetoableUntil` of the AVS, which every request raises to its `executableAt` in its own transaction,
    /// so the request's veto always comes before the withdrawal can leave. So queueing never shields a bond.
    function bondWithdrawalDelay() external view returns (uint48);

    /// @notice The current epoch: (now − genesis) / epochLength.
    function epoch() external view returns (uint32);

    function ratingParams() external view returns (BetaReputation.Params memory);
    function vetoBadWad() external view returns (uint64);
    function doubleSignBadWad() external view returns (uint64);
    function executedSlashBadWad() external view returns (uint64);
    function riskWeightFloorWad() external view returns (uint64);
    function riskWeightTopWad() external view returns (uint64);
    function bondFractionFloorWad() external view returns (uint64);
    function bondFractionTopWad() external view returns (uint64);
    function penaltyWad() external view returns (uint64);
    function evidenceUnit(address asset) external view returns (uint256);
    function trustedModule(address module) external view returns (bool);

    /// @notice The queued change of `kind` for `target` (all zero when none).
    function pendingChange(uint8 kind, address target) external view returns (PendingChange memory);

    /// @notice The AVS's stored record (evidence as of its `epoch`), its mean and its lower confidence bound.
    function avsRecord(uint32 avsId) external view returns (RecordView memory);

    /// @notice The operator's stored record, its mean and its lower confidence bound.
    function operatorRecord(address operator) external view returns (RecordView memory);

    /// @notice The AVS's rating (0 for one never checkpointed: the floor).
    function avsRating(uint32 avsId) external view returns (uint256);

    /// @notice The operator's rating (0 for one never checkpointed: the floor).
    function operatorRating(address operator) external view returns (uint256);

    /// @notice The weight a shared allocation to the AVS would count with against a reuse cap: linear in its rating
    /// from `riskWeightFloorWad` to `riskWeightTopWad`, rounded toward the floor (the harsh end).
    function riskWeightWad(uint32 avsId) external view returns (uint256);

    /// @notice The fraction of its backing the AVS's bond must cover: linear in its rating from
    /// `bondFractionFloorWad` to `bondFractionTopWad`, rounded toward the floor (the harsh end).
    function requiredBondFractionWad(uint32 avsId) external view returns (uint256);

    /// @notice The risk weight in the manager's tenths (10 = 1×): ⌈riskWeightWad / 0.1e18⌉.
    function riskWeightTenths(uint32 avsId) external view returns (uint8);

    /// @notice The bond the AVS needs for `backing`: ⌈backing · requiredBondFractionWad / 1e18⌉.
    function requiredBond(uint32 avsId, uint256 backing) external view returns (uint256);

    /// @notice The AVS's bond in `asset`: available, queued and when the queued part matures.
    function bondOf(uint32 avsId, address asset) external view returns (Bond memory);

    /// @notice The AVS's backing in `poolId` at its last measure (`refreshStanding`).
    function measuredBacking(uint32 avsId, uint256 poolId) external view returns (uint256);

    /// @notice The AVS's measured backing in `asset` and whether its bond there was short when last judged.
    function assetStanding(uint32 avsId, address asset) external view returns (AssetStanding memory);

    /// @notice How many assets the AVS's bond is short in (the manager's `bondShort` is this above zero).
    function shortAssets(uint32 avsId) external view returns (uint256);

    /// @notice Total bonds held in `asset`: Σ available + queued over AVSs, which this contract's balance covers.
    function totalBonded(address asset) external view returns (uint256);

    /// @notice Whether the executed request was reported (`reportExecutedSlash`).
    function executedSlashReported(uint64 requestId) external view returns (bool);

    /// @notice Whether the double-sign was reported (`reportDoubleSign`).
    function doubleSignReported(address module, address operator, uint64 round) external view returns (bool);

    /// @notice The AVS's backing in `poolIds` (strictly ascending, at most `MAX_WEIGHTED_POOLS`): `raw` = Σ
    /// slashableBacking, and `weighted` = Σ slashableBacking · rating of the pool's operator / 1e18, each term
    /// rounded down. What a stake-weighted quorum should count.
    function weightedBacking(uint32 avsId, uint256[] calldata poolIds)
        external
        view
        returns (uint256 raw, uint256 weighted);
}
