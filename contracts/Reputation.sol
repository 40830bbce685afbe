// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IAllocationManager} from "./interfaces/IAllocationManager.sol";
import {IReputation} from "./interfaces/IReputation.sol";
import {IStakeVault} from "./interfaces/IStakeVault.sol";
import {BetaReputation} from "./libraries/BetaReputation.sol";
import {DoubleSignSlasher} from "./modules/DoubleSignSlasher.sol";

/// @dev Public immutables of the AllocationManager that `IAllocationManager` does not declare; the constructor reads them.
interface IManagerImmutables {
    function vault() external view returns (IStakeVault);
    function deallocationDelay() external view returns (uint48);
}

/// @title Reputation
/// @notice Evidence the protocol records itself, ratings per AVS and per operator, and AVS bonds (issue 16). See
/// IReputation for the rules and `docs/reputation.md` ("On chain") for the design.
/// @dev A record is one storage slot, and the parameters are packed so that a checkpoint reads one parameter slot and
/// a standing another. The manager enforces risk-weighted reuse and the bond gate from the standing this contract
/// pushes (`refreshStanding`); checkpoints do not push it, to stay within their gas budget.
contract Reputation is IReputation, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 internal constant WAD = 1e18;

    /// @notice Every parameter change waits this long between being queued and taking effect.
    uint48 public constant PARAMETER_DELAY = 7 days;
    uint32 internal constant MIN_EPOCH_LENGTH = 1 days;
    uint32 internal constant MAX_EPOCH_LENGTH = 30 days;
    /// @dev Longest bond withdrawal delay a deployment may choose.
    uint48 internal constant MAX_BOND_WITHDRAWAL_DELAY = 365 days;
    /// @dev Bounds of each fault weight (bad evidence per fault): at least half a unit, at most 10 units (a fault
    /// worth more than 10 clean epochs would drown any record at the defaults, and could not be told from another).
    uint64 internal constant MIN_FAULT_WAD = 0.5e18;
    uint64 internal constant MAX_FAULT_WAD = 10e18;
    /// @dev The risk weight never goes below 1× (at the top) nor above 5× (at the floor).
    uint64 internal constant MIN_RISK_WEIGHT_WAD = 1e18;
    uint64 internal constant MAX_RISK_WEIGHT_WAD = 5e18;
    /// @dev A bond fraction and the penalty are at most the whole (1e18).
    uint64 internal constant MAX_FRACTION_WAD = 1e18;
    /// @notice Most pools `weightedBacking` takes.
    uint256 public constant MAX_WEIGHTED_POOLS = 64;
    /// @dev A failed penalty payment that left less than this share of the gas it started with ran out of gas
    /// somewhere down its call chain (each level keeps 1/64 back, so even 7 nested levels leave less than 1/8).
    uint256 internal constant OUT_OF_GAS_SHARE = 8;

    /// @inheritdoc IReputation
    IAllocationManager public immutable manager;
    /// @inheritdoc IReputation
    IStakeVault public immutable vault;
    /// @inheritdoc IReputation
    uint48 public immutable genesis;
    /// @inheritdoc IReputation
    uint32 public immutable epochLength;
    /// @inheritdoc IReputation
    uint48 public immutable bondWithdrawalDelay;

    // Parameters, packed for the hot paths (Ownable2Step's pending owner leaves 12 bytes of its slot: the veto weight
    // fits there). `forge inspect Reputation storageLayout` shows the slots.
    /// @inheritdoc IReputation
    uint64 public vetoBadWad;
    // One slot: everything a checkpoint reads, and the penalty.
    uint64 internal _forgetWad;
    uint64 internal _zWad;
    uint64 internal _maxStepWad;
    /// @inheritdoc IReputation
    uint64 public penaltyWad;
    // One slot: everything a standing reads.
    /// @inheritdoc IReputation
    uint64 public riskWeightFloorWad;
    /// @inheritdoc IReputation
    uint64 public riskWeightTopWad;
    /// @inheritdoc IReputation
    uint64 public bondFractionFloorWad;
    /// @inheritdoc IReputation
    uint64 public bondFractionTopWad;
    // The operators' fault weights.
    /// @inheritdoc IReputation
    uint64 public doubleSignBadWad;
    /// @inheritdoc IReputation
    uint64 public executedSlashBadWad;

    /// @inheritdoc IReputation
    mapping(address asset => uint256) public evidenceUnit;
    /// @inheritdoc IReputation
    mapping(address module => bool) public trustedModule;
    mapping(Parameter kind => mapping(address target => PendingChange)) internal _pending;

    mapping(uint32 avsId => Record) internal _avsRecords;
    /// @dev AVS admins as the manager registered them (it never changes one), cached at first need.
    mapping(uint32 avsId => address) internal _admins;
    mapping(address operator => Record) internal _operatorRecords;

    mapping(uint32 avsId => mapping(address asset => Bond)) internal _bonds;
    /// @inheritdoc IReputation
    mapping(address asset => uint256) public totalBonded;
    /// @inheritdoc IReputation
    mapping(uint32 avsId => mapping(uint256 poolId => uint256)) public measuredBacking;
    mapping(uint32 avsId => mapping(address asset => AssetStanding)) internal _assetStandings;
    /// @inheritdoc IReputation
    mapping(uint32 avsId => uint256) public shortAssets;

    /// @inheritdoc IReputation
    mapping(uint64 requestId => bool) public executedSlashReported;
    /// @inheritdoc IReputation
    mapping(address module => mapping(address operator => mapping(uint64 round => bool))) public doubleSignReported;

    /// @param manager_ The allocation manager whose vetoes this contract hears (it must then `setReputation` this).
    /// @param vault_ The manager's vault (`VaultMismatch` otherwise), which must `setCompensator` this.
    /// @param epochLength_ Seconds per epoch, in [1 day, 30 days].
    /// @param bondWithdrawalDelay_ At least the manager's `deallocationDelay` (and at most a year): since every veto
    /// window plus execution window is strictly shorter than that (`AllocationManager._checkVetoWindow`), a bond
    /// withdrawal queued at or after a request's filing cannot mature before that request's last veto (nor its last
    /// execution); one queued before stays reachable by the penalty until it is completed, and it cannot complete while
    /// a request of the AVS can be vetoed. The full proof is at `IReputation.bondWithdrawalDelay`.
    constructor(
        IAllocationManager manager_,
        IStakeVault vault_,
        address owner_,
        uint32 epochLength_,
        uint48 bondWithdrawalDelay_
    ) Ownable(owner_) {
        if (address(manager_) == address(0) || address(vault_) == address(0)) revert ZeroAddress();
        address managerVault = address(IManagerImmutables(address(manager_)).vault());
        if (managerVault != address(vault_)) revert VaultMismatch(managerVault, address(vault_));
        if (epochLength_ < MIN_EPOCH_LENGTH || epochLength_ > MAX_EPOCH_LENGTH) {
            revert InvalidEpochLength(epochLength_, MIN_EPOCH_LENGTH, MAX_EPOCH_LENGTH);
        }
        uint48 minDelay = IManagerImmutables(address(manager_)).deallocationDelay();
        if (bondWithdrawalDelay_ < minDelay || bondWithdrawalDelay_ > MAX_BOND_WITHDRAWAL_DELAY) {
            revert InvalidBondWithdrawalDelay(bondWithdrawalDelay_, minDelay, MAX_BOND_WITHDRAWAL_DELAY);
        }
        manager = manager_;
        vault = vault_;
        genesis = uint48(block.timestamp);
        epochLength = epochLength_;
        bondWithdrawalDelay = bondWithdrawalDelay_;
        (_forgetWad, _zWad, _maxStepWad) =
        (BetaReputation.DEFAULT_FORGET_WAD, BetaReputation.DEFAULT_Z_WAD, BetaReputation.DEFAULT_MAX_STEP_WAD);
        (vetoBadWad, doubleSignBadWad, executedSlashBadWad) = (3e18, 5e18, 1e18);
        (riskWeightFloorWad, riskWeightTopWad) = (3e18, 1e18);
        (bondFractionFloorWad, bondFractionTopWad) = (0.5e18, 0.05e18);
        penaltyWad = 0.1e18;
    }

    // ------------------------------------------------------------------ checkpoints

    /// @inheritdoc IReputation
    function checkpointAVS(uint32 avsId, uint256 poolId) external {
        Record memory r = _avsRecords[avsId];
        uint32 current = _admit(r);
        if (_open(r, current)) _checkAVS(avsId);
        else if (msg.sender != _adminOf(avsId)) revert ReservedForSubject(msg.sender);
        // slither-disable-next-line unused-return (the pool's operator is not needed here, only its asset)
        (address asset,) = vault.poolAsset(poolId); // the pool exists (`UnknownPool` otherwise)
        // A tainted epoch earns nothing: no need to ask what was at risk.
        uint256 valueAtRisk = r.tainted ? 0 : manager.slashableBacking(avsId, poolId);
        (uint256 oldRating, uint256 credit) = _checkpoint(r, valueAtRisk, asset, current);
        _write(_avsRecords[avsId], r);
        emit AVSRatingUpdated(avsId, poolId, oldRating, r.ratingWad, r.goodWad, r.badWad, credit, r.epoch);
    }

    /// @inheritdoc IReputation
    function checkpointOperator(address operator, uint256 poolId) external {
        (address asset, address poolOperator) = vault.poolAsset(poolId);
        if (poolOperator != operator) revert NotOperatorPool(poolId, operator); // (a pool's operator is never zero)
        Record memory r = _operatorRecords[operator];
        uint32 current = _admit(r);
        if (msg.sender != operator && !_open(r, current)) revert ReservedForSubject(msg.sender);
        uint256 valueAtRisk;
        if (!r.tainted) {
            IAllocationManager.PoolRisk memory risk = manager.poolRisk(poolId);
            valueAtRisk = risk.totalIsolated + Math.min(risk.totalShared, risk.sharedStake);
        }
        (uint256 oldRating, uint256 credit) = _checkpoint(r, valueAtRisk, asset, current);
        _write(_operatorRecords[operator], r);
        emit OperatorRatingUpdated(operator, poolId, oldRating, r.ratingWad, r.goodWad, r.badWad, credit, r.epoch);
    }

    // ------------------------------------------------------------------ evidence of faults

    /// @inheritdoc IReputation
    function onSlashVetoed(uint64 requestId) external nonReentrant {
        if (msg.sender != address(manager)) revert NotManager(msg.sender);
        IAllocationManager.Request memory req = manager.getRequest(requestId);
        uint32 avsId = req.avsId;
        uint256 poolId = req.poolId;
        uint256 added = vetoBadWad;
        (uint256 bad, uint32 current) = _recordFault(_avsRecords, avsId, added);
        emit AVSFaultRecorded(avsId, requestId, added, bad, current);

        // The penalty: penaltyWad of what the request asked for now, rounded up (against the AVS), capped by the bond.
        // slither-disable-next-line unused-return (the penalty needs the pool's asset, not its operator)
        (address asset,) = vault.poolAsset(poolId);
        uint256 asked = Math.mulDiv(
            manager.slashableBacking(avsId, poolId),
            uint256(penaltyWad) * req.fractionWad,
            WAD * WAD,
            Math.Rounding.Ceil
        );
        if (asked == 0) {
            emit PenaltySkipped(avsId, requestId, poolId, SkipReason.NothingAsked, 0);
            return;
        }
        Bond storage b = _bonds[avsId][asset];
        uint256 amount = Math.min(asked, uint256(b.available) + b.queued);
        if (amount == 0) {
            emit PenaltySkipped(avsId, requestId, poolId, SkipReason.NoBond, asked);
            return;
        }
        uint256 gasBefore = gasleft();
        // The payment runs in a self-call: if the vault or the token refuses, the bond, the approval and the pool all
        // roll back together and the veto goes through without a penalty (`PenaltySkipped`).
        try this.takePenalty(avsId, asset, poolId, amount) returns (uint256 fromAvailable, uint256 fromQueued) {
            emit PenaltyPaid(avsId, requestId, poolId, asset, asked, amount, fromAvailable, fromQueued);
        } catch (bytes memory reason) {
            // Out of gas (at any depth) leaves under 1/8 of the gas: the caller gave too little, so the veto reverts
            // instead of going through without its penalty. A refusal costs far less.
            if (gasleft() < gasBefore / OUT_OF_GAS_SHARE) revert PenaltyOutOfGas();
            bool tooSmall = reason.length >= 4 && bytes4(reason) == IStakeVault.PoolTooSmallToCompensate.selector;
            emit PenaltySkipped(
                avsId, requestId, poolId, tooSmall ? SkipReason.PoolTooSmall : SkipReason.VaultRefused, asked
            );
        }
    }

    /// @inheritdoc IReputation
    function takePenalty(uint32 avsId, address asset, uint256 poolId, uint256 amount)
        external
        returns (uint256 fromAvailable, uint256 fromQueued)
    {
        if (msg.sender != address(this)) revert NotSelf(msg.sender);
        Bond storage b = _bonds[avsId][asset];
        uint256 available = b.available;
        uint256 queued = b.queued;
        // Available first, then the queued withdrawal: queueing never shields a bond.
        fromAvailable = Math.min(amount, available);
        fromQueued = amount - fromAvailable;
        if (fromQueued > queued) revert InsufficientBond(available + queued, amount);
        b.available = uint128(available - fromAvailable);
        if (fromQueued != 0) {
            b.queued = uint128(queued - fromQueued);
            if (queued == fromQueued) b.maturity = 0;
        }
        totalBonded[asset] -= amount;
        IERC20(asset).forceApprove(address(vault), amount);
        // slither-disable-next-line unused-return (the collateral credited is the vault's to report)
        vault.compensate(poolId, amount);
    }

    /// @inheritdoc IReputation
    function reportExecutedSlash(uint64 requestId) external {
        IAllocationManager.Request memory req = manager.getRequest(requestId);
        if (req.status == IAllocationManager.RequestStatus.None) revert UnknownRequest(requestId);
        if (req.status != IAllocationManager.RequestStatus.Executed) revert RequestNotExecuted(requestId, req.status);
        if (executedSlashReported[requestId]) revert AlreadyReported(requestId);
        // slither-disable-next-line unused-return (only the operator: generation and base pool are not needed)
        (address operator,,) = vault.poolKey(req.poolId);
        executedSlashReported[requestId] = true;
        uint256 added = executedSlashBadWad;
        (uint256 bad, uint32 current) = _recordFault(_operatorRecords, operator, added);
        emit OperatorFaultRecorded(operator, FaultKind.ExecutedSlash, address(0), requestId, added, bad, current);
    }

    /// @inheritdoc IReputation
    function reportDoubleSign(address module, address operator, uint64 round, uint256 poolId) external {
        if (!trustedModule[module]) revert UntrustedModule(module);
        if (doubleSignReported[module][operator][round]) revert DoubleSignAlreadyReported(module, operator, round);
        if (!DoubleSignSlasher(module).slashed(operator, round, poolId)) {
            revert NotDoubleSigned(module, operator, round, poolId);
        }
        doubleSignReported[module][operator][round] = true;
        uint256 added = doubleSignBadWad;
        (uint256 bad, uint32 current) = _recordFault(_operatorRecords, operator, added);
        emit OperatorFaultRecorded(operator, FaultKind.DoubleSign, module, round, added, bad, current);
    }

    // ------------------------------------------------------------------ bonds

    /// @inheritdoc IReputation
    function depositBond(uint32 avsId, address asset, uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        _checkAVS(avsId);
        if (!vault.getAsset(asset).allowed) revert AssetNotAllowed(asset);
        uint256 tracked = totalBonded[asset];
        // The total bounds every bond: each fits its uint128.
        if (tracked + amount > type(uint128).max) revert AmountTooLarge(tracked + amount);
        Bond storage b = _bonds[avsId][asset];
        uint256 available = b.available + amount;
        b.available = uint128(available);
        totalBonded[asset] = tracked + amount;
        emit BondDeposited(avsId, asset, msg.sender, amount, available);
        _pull(IERC20(asset), tracked, amount);
    }

    /// @inheritdoc IReputation
    function queueBondWithdrawal(uint32 avsId, address asset, uint256 amount) external nonReentrant {
        _onlyAdmin(avsId);
        if (amount == 0) revert ZeroAmount();
        Bond storage b = _bonds[avsId][asset];
        uint256 queued = b.queued;
        if (queued != 0) revert WithdrawalAlreadyQueued(avsId, asset, queued, b.maturity);
        uint256 available = b.available;
        if (amount > available) revert InsufficientBond(available, amount);
        uint48 maturity = uint48(block.timestamp) + bondWithdrawalDelay;
        (b.available, b.queued) = (uint128(available - amount), uint128(amount));
        b.maturity = maturity;
        emit BondWithdrawalQueued(avsId, asset, amount, maturity);
    }

    /// @inheritdoc IReputation
    function completeBondWithdrawal(uint32 avsId, address asset, address to) external nonReentrant {
        IAllocationManager.AVS memory avs = manager.getAVS(avsId); // the manager's `UnknownAVS`
        if (avs.admin != msg.sender) revert NotAVSAdmin(avsId, msg.sender);
        if (to == address(0)) revert ZeroAddress();
        Bond storage b = _bonds[avsId][asset];
        uint256 amount = b.queued;
        if (amount == 0) revert NoWithdrawalQueued(avsId, asset);
        uint48 maturity = b.maturity;
        if (block.timestamp < maturity) revert BondNotMatured(maturity);
        // Held while any request of the AVS can still be vetoed, as the manager records at each request (so even a
        // request filed in this block, before this call, holds it).
        if (block.timestamp < avs.requestsVetoableUntil) revert BondOnHold(avsId, avs.requestsVetoableUntil);
        b.queued = 0;
        b.maturity = 0;
        totalBonded[asset] -= amount;
        emit BondWithdrawalCompleted(avsId, asset, to, amount);
        IERC20(asset).safeTransfer(to, amount);
    }

    // ------------------------------------------------------------------ standing

    /// @inheritdoc IReputation
    function refreshStanding(uint32 avsId, uint256[] calldata poolIds) external {
        // An unknown AVS: the manager's `setStanding` (last) reverts with its `UnknownAVS`.
        uint256 n = poolIds.length;
        if (n > MAX_WEIGHTED_POOLS) revert TooManyPools(n, MAX_WEIGHTED_POOLS);
        // Each pool's backing is measured afresh and replaces its last measure in its asset's sum, so the sums only
        // ever hold what the manager reports: nobody can hide a pool (anyone may measure any) or keep a stale figure
        // (a later measure replaces it), and no list can fill up.
        address[] memory assets = new address[](n);
        uint256 k;
        for (uint256 i; i < n; ++i) {
            uint256 poolId = poolIds[i];
            // slither-disable-next-line unused-return (the standing is kept per asset; the operator is not needed)
            (address asset,) = vault.poolAsset(poolId); // `UnknownPool` (the vault's) for a pool that does not exist
            // Committed, not only in effect: a pending increase, or the allocation of an operator opted out for now,
            // counts before it can be drawn (else an AVS measured between commit and effect gets a second one).
            uint256 backing = manager.committedBacking(avsId, poolId);
            uint256 last = measuredBacking[avsId][poolId];
            if (backing != last) {
                measuredBacking[avsId][poolId] = backing;
                AssetStanding storage st = _assetStandings[avsId][asset];
                uint256 total = st.backing + backing - last; // the sum holds `last`: no underflow
                st.backing = SafeCast.toUint248(total);
                emit BackingMeasured(avsId, poolId, asset, backing, total);
            }
            uint256 j;
            while (j < k && assets[j] != asset) ++j;
            if (j == k) assets[k++] = asset;
        }
        // The assets measured now are judged against today's fraction; the others keep their last verdict until a
        // pool of theirs is measured again (after a rating change, one pool per asset re-judges it).
        uint256 fraction = requiredBondFractionWad(avsId);
        uint256 shortBefore = shortAssets[avsId];
        uint256 shortCount = shortBefore;
        for (uint256 j; j < k; ++j) {
            AssetStanding storage st = _assetStandings[avsId][assets[j]];
            uint256 required = Math.mulDiv(st.backing, fraction, WAD, Math.Rounding.Ceil);
            bool short = _bonds[avsId][assets[j]].available < required;
            if (short != st.short) {
                st.short = short;
                shortCount = short ? shortCount + 1 : shortCount - 1;
                emit BondShortChanged(avsId, assets[j], short, required);
            }
        }
        if (shortCount != shortBefore) shortAssets[avsId] = shortCount;
        uint8 tenths = riskWeightTenths(avsId);
        emit StandingRefreshed(avsId, msg.sender, tenths, shortCount != 0);
        manager.setStanding(avsId, tenths, shortCount != 0);
    }

    // ------------------------------------------------------------------ governance

    /// @inheritdoc IReputation
    function queueChange(uint8 kindCode, address target, uint256 value) external onlyOwner {
        Parameter kind = _parameter(kindCode);
        // Only the two per-target kinds name a target; no value carries bits beyond its fields (no truncation).
        bool targeted = kind == Parameter.EvidenceUnit || kind == Parameter.TrustedModule;
        if (targeted == (target == address(0))) revert InvalidTarget(kind, target);
        uint256 fields = kind == Parameter.Rating || kind == Parameter.FaultWeights ? 192 : 128;
        if (kind == Parameter.TrustedModule) fields = 1;
        if (value >> fields != 0) revert ValueOutOfBounds(kind, value);
        (uint64 a, uint64 b, uint64 c) = (uint64(value), uint64(value >> 64), uint64(value >> 128));
        if (kind == Parameter.Rating) {
            BetaReputation.validate(BetaReputation.Params({forgetWad: a, zWad: b, maxStepWad: c}));
        } else if (kind == Parameter.FaultWeights) {
            _checkFaultWeight(a);
            _checkFaultWeight(b);
            _checkFaultWeight(c);
        } else if (kind == Parameter.RiskWeights) {
            if (b < MIN_RISK_WEIGHT_WAD || a > MAX_RISK_WEIGHT_WAD || a < b) revert RiskWeightsOutOfBounds(a, b);
        } else if (kind == Parameter.BondFractions) {
            if (a > MAX_FRACTION_WAD || b > a) revert BondFractionsOutOfBounds(a, b);
        } else if (kind == Parameter.Penalty) {
            if (value > MAX_FRACTION_WAD) revert PenaltyOutOfBounds(value, MAX_FRACTION_WAD);
        }
        // (EvidenceUnit: any value below 2^128, bounded above; TrustedModule: 0 or 1, bounded above.)
        PendingChange storage pending = _pending[kind][target];
        if (pending.effectiveAt != 0) revert ChangeAlreadyQueued(kind, target, pending.effectiveAt);
        uint48 effectiveAt = uint48(block.timestamp) + PARAMETER_DELAY;
        (pending.value, pending.effectiveAt) = (value, effectiveAt);
        emit ChangeQueued(kind, target, value, effectiveAt);
    }

    /// @inheritdoc IReputation
    function applyChange(uint8 kindCode, address target) external {
        Parameter kind = _parameter(kindCode);
        PendingChange memory c = _pending[kind][target];
        if (c.effectiveAt == 0) revert NoChangeQueued(kind, target);
        if (block.timestamp < c.effectiveAt) revert ChangeNotReady(kind, target, c.effectiveAt);
        delete _pending[kind][target];
        uint256 v = c.value;
        if (kind == Parameter.Rating) {
            (_forgetWad, _zWad, _maxStepWad) = (uint64(v), uint64(v >> 64), uint64(v >> 128));
        } else if (kind == Parameter.FaultWeights) {
            (vetoBadWad, doubleSignBadWad, executedSlashBadWad) = (uint64(v), uint64(v >> 64), uint64(v >> 128));
        } else if (kind == Parameter.RiskWeights) {
            (riskWeightFloorWad, riskWeightTopWad) = (uint64(v), uint64(v >> 64));
        } else if (kind == Parameter.BondFractions) {
            (bondFractionFloorWad, bondFractionTopWad) = (uint64(v), uint64(v >> 64));
        } else if (kind == Parameter.Penalty) {
            penaltyWad = uint64(v);
        } else if (kind == Parameter.EvidenceUnit) {
            evidenceUnit[target] = v;
        } else {
            trustedModule[target] = v != 0;
        }
        emit ChangeApplied(kind, target, v);
    }

    /// @inheritdoc IReputation
    function cancelChange(uint8 kindCode, address target) external onlyOwner {
        Parameter kind = _parameter(kindCode);
        PendingChange memory c = _pending[kind][target];
        if (c.effectiveAt == 0) revert NoChangeQueued(kind, target);
        delete _pending[kind][target];
        emit ChangeCancelled(kind, target, c.value);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IReputation
    function epoch() public view returns (uint32) {
        // At least a day per epoch: uint32 epochs last 11 million years.
        return uint32((block.timestamp - genesis) / epochLength);
    }

    /// @inheritdoc IReputation
    function ratingParams() public view returns (BetaReputation.Params memory) {
        return BetaReputation.Params({forgetWad: _forgetWad, zWad: _zWad, maxStepWad: _maxStepWad});
    }

    /// @inheritdoc IReputation
    function pendingChange(uint8 kindCode, address target) external view returns (PendingChange memory) {
        return _pending[_parameter(kindCode)][target];
    }

    /// @dev A parameter kind as the ABI carries it (a uint8), checked here so that an unknown one is a named error
    /// rather than the ABI decoder's empty revert (finding F5).
    function _parameter(uint8 kind) internal pure returns (Parameter) {
        if (kind > uint8(type(Parameter).max)) revert UnknownParameter(kind);
        return Parameter(kind);
    }

    /// @inheritdoc IReputation
    function assetStanding(uint32 avsId, address asset) external view returns (AssetStanding memory) {
        return _assetStandings[avsId][asset];
    }

    /// @inheritdoc IReputation
    function avsRecord(uint32 avsId) external view returns (RecordView memory) {
        return _view(_avsRecords[avsId]);
    }

    /// @inheritdoc IReputation
    function operatorRecord(address operator) external view returns (RecordView memory) {
        return _view(_operatorRecords[operator]);
    }

    /// @inheritdoc IReputation
    function avsRating(uint32 avsId) public view returns (uint256) {
        return _avsRecords[avsId].ratingWad;
    }

    /// @inheritdoc IReputation
    function operatorRating(address operator) public view returns (uint256) {
        return _operatorRecords[operator].ratingWad;
    }

    /// @inheritdoc IReputation
    function riskWeightWad(uint32 avsId) public view returns (uint256) {
        return BetaReputation.interpolate(avsRating(avsId), riskWeightFloorWad, riskWeightTopWad);
    }

    /// @inheritdoc IReputation
    function riskWeightTenths(uint32 avsId) public view returns (uint8) {
        // In [10, 50]: the weight's ends are bounded to [1×, 5×].
        return uint8(Math.ceilDiv(riskWeightWad(avsId), 1e17));
    }

    /// @inheritdoc IReputation
    function requiredBondFractionWad(uint32 avsId) public view returns (uint256) {
        return BetaReputation.interpolate(avsRating(avsId), bondFractionFloorWad, bondFractionTopWad);
    }

    /// @inheritdoc IReputation
    function requiredBond(uint32 avsId, uint256 backing) external view returns (uint256) {
        return Math.mulDiv(backing, requiredBondFractionWad(avsId), WAD, Math.Rounding.Ceil);
    }

    /// @inheritdoc IReputation
    function bondOf(uint32 avsId, address asset) external view returns (Bond memory) {
        return _bonds[avsId][asset];
    }

    /// @inheritdoc IReputation
    function weightedBacking(uint32 avsId, uint256[] calldata poolIds)
        external
        view
        returns (uint256 raw, uint256 weighted)
    {
        uint256 n = poolIds.length;
        if (n > MAX_WEIGHTED_POOLS) revert TooManyPools(n, MAX_WEIGHTED_POOLS);
        for (uint256 i; i < n; ++i) {
            uint256 poolId = poolIds[i];
            // Strictly ascending: no pool counted twice.
            if (i != 0 && poolId <= poolIds[i - 1]) revert PoolIdsNotAscending(i);
            uint256 backing = manager.slashableBacking(avsId, poolId);
            if (backing == 0) continue;
            raw += backing;
            // slither-disable-next-line unused-return (only the operator: generation and base pool are not needed)
            (address operator,,) = vault.poolKey(poolId);
            weighted += Math.mulDiv(backing, operatorRating(operator), WAD);
        }
    }

    // ------------------------------------------------------------------ internals

    /// @dev The current epoch, if the record was not checkpointed in it yet (`AlreadyCheckpointed`).
    function _admit(Record memory r) internal view returns (uint32 current) {
        current = epoch();
        if (r.checkpointed && r.epoch == current) revert AlreadyCheckpointed(current);
    }

    /// @dev Closes epoch `current` for record `r` (in memory; the caller stores it): decay to it, credit the clean
    /// epoch's evidence unless tainted, and step the rating toward the lower bound. Once per epoch (`_admit`).
    function _checkpoint(Record memory r, uint256 valueAtRisk, address asset, uint32 current)
        internal
        view
        returns (uint256 oldRating, uint256 credit)
    {
        (uint64 forget, uint64 z, uint64 maxStep) = (_forgetWad, _zWad, _maxStepWad);
        (uint256 good, uint256 bad) = _decayed(r, current, forget);
        if (valueAtRisk != 0 && !r.tainted) {
            uint256 unit = evidenceUnit[asset];
            // An asset without an evidence unit earns nothing (it does not revert: the rating must still move).
            if (unit != 0) credit = BetaReputation.cleanEpochEvidence(valueAtRisk, unit);
        }
        // good ≤ 1/(1 − λ) ≤ 1,000 units: every clean epoch adds at most one unit to λ·good (λ ≤ 0.999).
        good += credit;
        oldRating = r.ratingWad;
        uint256 rating = BetaReputation.step(oldRating, BetaReputation.lowerBound(good, bad, z), maxStep);
        r.goodWad = SafeCast.toUint72(good);
        r.badWad = uint72(bad); // stored bad evidence only ever decays here: it fits
        r.ratingWad = uint64(rating); // ≤ 1e18
        r.epoch = current;
        r.checkpointed = true;
        r.tainted = false;
    }

    /// @dev Adds `weight` bad evidence to a record (decayed to the current epoch first) and taints it. Saturates at
    /// the field's maximum instead of reverting: a fault must never make a veto (or a report) revert.
    function _recordFault(mapping(uint32 => Record) storage records, uint32 avsId, uint256 weight)
        internal
        returns (uint256 bad, uint32 current)
    {
        Record memory r = records[avsId];
        (bad, current) = _addFault(r, weight);
        _write(records[avsId], r);
    }

    function _recordFault(mapping(address => Record) storage records, address operator, uint256 weight)
        internal
        returns (uint256 bad, uint32 current)
    {
        Record memory r = records[operator];
        (bad, current) = _addFault(r, weight);
        _write(records[operator], r);
    }

    function _addFault(Record memory r, uint256 weight) internal view returns (uint256 bad, uint32 current) {
        current = epoch();
        uint256 good;
        (good, bad) = _decayed(r, current, _forgetWad);
        bad = Math.min(bad + weight, type(uint72).max);
        r.goodWad = uint72(good); // decay never grows it
        r.badWad = uint72(bad);
        // A checkpoint already made in this epoch still counts; a move to a new epoch has none yet.
        r.checkpointed = r.checkpointed && r.epoch == current;
        r.epoch = current;
        r.tainted = true;
    }

    /// @dev The record's evidence decayed from its epoch to `current`: good rounded down, bad rounded up.
    function _decayed(Record memory r, uint32 current, uint64 forget)
        internal
        pure
        returns (uint256 good, uint256 bad)
    {
        (good, bad) = (r.goodWad, r.badWad);
        uint256 epochs = current - r.epoch;
        if (epochs == 0) return (good, bad);
        if (good != 0) good = BetaReputation.decayGoodEvidence(good, epochs, forget);
        if (bad != 0) bad = BetaReputation.decayBadEvidence(bad, epochs, forget);
    }

    /// @dev Stores a record in one SSTORE, packed as Solidity lays `Record` out (first field in the lowest bits).
    function _write(Record storage slot, Record memory r) internal {
        uint256 packed = uint256(r.goodWad) | uint256(r.badWad) << 72 | uint256(r.ratingWad) << 144 | uint256(r.epoch)
            << 208 | (r.checkpointed ? 1 << 240 : 0) | (r.tainted ? 1 << 248 : 0);
        assembly ("memory-safe") {
            sstore(slot.slot, packed)
        }
    }

    function _view(Record memory r) internal view returns (RecordView memory v) {
        v.goodWad = r.goodWad;
        v.badWad = r.badWad;
        v.ratingWad = r.ratingWad;
        v.meanWad = BetaReputation.mean(r.goodWad, r.badWad);
        v.lowerBoundWad = BetaReputation.lowerBound(r.goodWad, r.badWad, _zWad);
        v.epoch = r.epoch;
        v.checkpointed = r.checkpointed;
        v.tainted = r.tainted;
        v.seen = r.epoch != 0 || r.checkpointed || r.tainted;
    }

    /// @dev Whether anyone may checkpoint the record now, rather than its subject only: it is tainted (a fault since
    /// its last checkpoint: it earns nothing this time anyway), or its subject did not checkpoint it in the previous
    /// epoch (never, or it lapsed). Otherwise the subject has the epoch to itself, so nobody can burn its once-per-epoch
    /// checkpoint with a pool that has nothing at stake (anyone can open a pool for an operator).
    function _open(Record memory r, uint32 current) internal pure returns (bool) {
        return r.tainted || !r.checkpointed || uint256(r.epoch) + 1 < current;
    }

    /// @dev The AVS's admin, read from the manager once (`UnknownAVS` for an unknown AVS) and cached.
    function _adminOf(uint32 avsId) internal returns (address admin) {
        admin = _admins[avsId];
        if (admin == address(0)) {
            admin = manager.getAVS(avsId).admin;
            _admins[avsId] = admin;
        }
    }

    function _checkAVS(uint32 avsId) internal view {
        if (avsId == 0 || avsId > manager.avsCount()) revert UnknownAVS(avsId);
    }

    function _onlyAdmin(uint32 avsId) internal view {
        // `getAVS` reverts with the manager's `UnknownAVS` for an unknown AVS.
        if (manager.getAVS(avsId).admin != msg.sender) revert NotAVSAdmin(avsId, msg.sender);
    }

    function _checkFaultWeight(uint64 weightWad) internal pure {
        if (weightWad < MIN_FAULT_WAD || weightWad > MAX_FAULT_WAD) {
            revert FaultWeightOutOfBounds(weightWad, MIN_FAULT_WAD, MAX_FAULT_WAD);
        }
    }

    /// @dev Pulls exactly `amount` and proves it arrived: the balance must rise by `amount` (no transfer fee) and
    /// must not have been below the bonds' total before (no negative rebase), as the vault's deposit does.
    function _pull(IERC20 token, uint256 tracked, uint256 amount) internal {
        uint256 before = token.balanceOf(address(this));
        if (before < tracked) revert RebasingDetected(address(token), tracked, before);
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert FeeOnTransferDetected(address(token), amount, received);
    }
}
