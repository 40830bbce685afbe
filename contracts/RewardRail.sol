// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ExactPull} from "./libraries/ExactPull.sol";
import {IRewardHooks} from "./interfaces/IRewardHooks.sol";
import {IRewardRail} from "./interfaces/IRewardRail.sol";
import {IStakeVault} from "./interfaces/IStakeVault.sol";

/// @title RewardRail
/// @notice Pays the stakers of a pool for the risk they carry, pro rata to their shares, O(1) per pool.
/// @dev See IRewardRail for the accounting. The vault reports every share change of an earning pool through the
/// hooks; everything else here reads the vault.
contract RewardRail is IRewardRail, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Scale of the reward-per-share accumulator (≈2^120: a 2^128-wei payment over one share still fits).
    uint256 public constant SCALE = 1e36;
    /// @notice Where every accumulator starts; a snapshot of zero reads as this (see IRewardRail).
    uint256 public constant ACC_ORIGIN = 1;
    uint16 public constant BPS = 10_000;
    /// @notice An operator takes at most half of any payment.
    uint16 public constant MAX_COMMISSION_BPS = 5000;
    /// @notice EigenLayer's default operator split, until the operator sets one.
    uint16 public constant DEFAULT_COMMISSION_BPS = 1000;
    /// @notice A commission change waits this long (EigenLayer's split activation delay).
    uint48 public constant COMMISSION_DELAY = 7 days;

    struct RailPool {
        // slot 0
        uint256 acc;
        // slot 1
        address token;
        uint32 generation;
        bool on;
        // slot 2: commission
        uint16 bps;
        uint16 nextBps;
        uint48 nextAt;
        bool commissionSet;
        // slots 3-5: statistics for audits
        uint256 paidToStakers;
        uint256 commissionPaid;
        uint256 dust;
    }

    /// @dev A staker's books in one pool: owed so far, and `acc` when its current shares were last priced.
    struct Earner {
        uint256 snapshot;
        uint256 owed;
    }

    IStakeVault public immutable vault;
    address public market;

    mapping(uint256 poolId => RailPool) internal _pools;
    mapping(uint256 poolId => mapping(address staker => Earner)) internal _earners;
    /// @dev `acc` when a settlement batch left the slashable set.
    mapping(uint256 poolId => mapping(uint256 batch => uint256)) internal _batchAcc;
    /// @dev `acc` when a full slash ended a generation.
    mapping(uint256 poolId => mapping(uint32 generation => uint256)) internal _generationEndAcc;
    /// @dev Per withdrawal: `acc` from which its escrow is still unpaid, and `acc` when it left early (0 = not).
    mapping(uint256 withdrawalId => uint256) internal _escrowFrom;
    mapping(uint256 withdrawalId => uint256) internal _escrowLeftAt;
    mapping(address operator => mapping(address token => uint256)) internal _commissionOwed;

    modifier onlyVault() {
        if (msg.sender != address(vault)) revert NotVault(msg.sender);
        _;
    }

    constructor(IStakeVault vault_, address owner_) Ownable(owner_) {
        if (address(vault_) == address(0)) revert ZeroAddress();
        vault = vault_;
    }

    // ------------------------------------------------------------------ governance and operators

    /// @inheritdoc IRewardRail
    function setMarket(address market_) external onlyOwner {
        if (market_ == address(0)) revert ZeroAddress();
        if (market != address(0)) revert MarketAlreadySet(market);
        market = market_;
        emit MarketSet(market_);
    }

    /// @inheritdoc IRewardRail
    function enableRewards(uint256 poolId) external {
        (address token, address operator) = vault.poolAsset(poolId);
        if (msg.sender != operator && msg.sender != market) revert NotPoolOperator(poolId, msg.sender);
        RailPool storage rp = _pools[poolId];
        // slither-disable-next-line reentrancy-no-eth (the immutable vault never calls back here)
        rp.generation = vault.enableRewards(poolId);
        rp.token = token;
        rp.on = true;
        rp.acc = ACC_ORIGIN;
        emit RewardsEnabled(poolId, token, msg.sender);
    }

    /// @inheritdoc IRewardRail
    function setCommission(uint256 poolId, uint16 bps) external {
        (, address operator) = vault.poolAsset(poolId);
        if (msg.sender != operator) revert NotPoolOperator(poolId, msg.sender);
        if (bps > MAX_COMMISSION_BPS) revert CommissionTooHigh(bps, MAX_COMMISSION_BPS);
        RailPool storage rp = _pools[poolId];
        // What is in effect now stays in effect until the delay has passed.
        rp.bps = _commissionNow(rp);
        rp.commissionSet = true;
        uint48 effectiveAt = uint48(block.timestamp) + COMMISSION_DELAY;
        (rp.nextBps, rp.nextAt) = (bps, effectiveAt);
        emit CommissionQueued(poolId, bps, effectiveAt);
    }

    // ------------------------------------------------------------------ payments and claims

    /// @inheritdoc IRewardRail
    function pay(uint256 poolId, uint256 amount, uint16 maxCommissionBps)
        external
        nonReentrant
        returns (uint256 toStakers, uint256 commission)
    {
        if (amount == 0) revert ZeroAmount();
        RailPool storage rp = _on(poolId);
        // The payer's limit caps the commission: a raise after its deal never reaches its payment.
        uint256 bps = Math.min(_commissionNow(rp), maxCommissionBps);
        // Matured withdrawals stop earning before this payment is shared (and a tier whose base was fully slashed
        // ends its generation): only shares at risk now are paid.
        vault.settle(poolId);
        uint256 supply = vault.earningShares(poolId);
        if (supply == 0) revert NoEarningShares(poolId);

        commission = amount * bps / BPS;
        toStakers = amount - commission;
        uint256 accDelta = Math.mulDiv(toStakers, SCALE, supply);
        if (accDelta == 0) revert PaymentTooSmall(poolId, amount);
        uint256 dust = toStakers - Math.mulDiv(accDelta, supply, SCALE);
        rp.acc += accDelta;
        rp.paidToStakers += toStakers;
        rp.commissionPaid += commission;
        rp.dust += dust;
        address token = rp.token;
        if (commission != 0) {
            (, address operator) = vault.poolAsset(poolId);
            _commissionOwed[operator][token] += commission;
        }
        emit RewardPaid(poolId, msg.sender, amount, commission, toStakers, supply, accDelta, dust);

        ExactPull.pullExact(IERC20(token), amount);
    }

    /// @inheritdoc IRewardRail
    function claim(uint256 poolId, address receiver) external nonReentrant returns (uint256 amount) {
        if (receiver == address(0)) revert ZeroAddress();
        RailPool storage rp = _on(poolId);
        (uint256 shares, uint32 generation) = vault.positionOf(poolId, msg.sender);
        Earner storage e = _earners[poolId][msg.sender];
        amount = e.owed + _earned(poolId, rp, e.snapshot, shares, generation);
        if (amount == 0) revert NothingToClaim();
        e.snapshot = rp.acc;
        if (e.owed != 0) e.owed = 0;
        emit RewardClaimed(poolId, msg.sender, 0, receiver, amount);
        IERC20(rp.token).safeTransfer(receiver, amount);
    }

    /// @inheritdoc IRewardRail
    function claimEscrow(uint256 withdrawalId, address receiver) external nonReentrant returns (uint256 amount) {
        if (receiver == address(0)) revert ZeroAddress();
        IStakeVault.WithdrawalView memory w = vault.getWithdrawal(withdrawalId);
        if (w.staker != msg.sender) revert NotWithdrawalOwner(withdrawalId, w.staker);
        RailPool storage rp = _on(w.poolId);
        uint256 end;
        (amount, end) = _escrowEarned(w.poolId, rp, withdrawalId, w.shares);
        if (amount == 0) revert NothingToClaim();
        _escrowFrom[withdrawalId] = end;
        emit RewardClaimed(w.poolId, msg.sender, withdrawalId, receiver, amount);
        IERC20(rp.token).safeTransfer(receiver, amount);
    }

    /// @inheritdoc IRewardRail
    function claimCommission(address token, address receiver) external nonReentrant returns (uint256 amount) {
        if (receiver == address(0)) revert ZeroAddress();
        amount = _commissionOwed[msg.sender][token];
        if (amount == 0) revert NothingToClaim();
        _commissionOwed[msg.sender][token] = 0;
        emit CommissionClaimed(msg.sender, token, receiver, amount);
        IERC20(token).safeTransfer(receiver, amount);
    }

    // ------------------------------------------------------------------ vault hooks

    /// @inheritdoc IRewardHooks
    function onPositionChange(uint256 poolId, address staker, uint256 shares, uint32 generation) external onlyVault {
        _accrue(poolId, staker, shares, generation);
    }

    /// @inheritdoc IRewardHooks
    function onQueued(uint256 poolId, address staker, uint256 shares, uint32 generation, uint256 withdrawalId)
        external
        onlyVault
    {
        uint256 acc = _accrue(poolId, staker, shares, generation);
        _escrowFrom[withdrawalId] = acc;
    }

    /// @inheritdoc IRewardHooks
    function onSettled(uint256 poolId, uint256 batch) external onlyVault {
        uint256 acc = _pools[poolId].acc;
        _batchAcc[poolId][batch] = acc;
        emit BatchSettled(poolId, batch, acc);
    }

    /// @inheritdoc IRewardHooks
    function onEscrowLeft(uint256 withdrawalId) external onlyVault {
        uint256 acc = _pools[withdrawalId >> 64].acc;
        _escrowLeftAt[withdrawalId] = acc;
        emit EscrowEnded(withdrawalId, acc);
    }

    /// @inheritdoc IRewardHooks
    function onGenerationEnded(uint256 poolId, uint32 generation) external onlyVault {
        RailPool storage rp = _pools[poolId];
        uint256 acc = rp.acc;
        _generationEndAcc[poolId][generation] = acc;
        rp.generation = generation + 1;
        emit GenerationEnded(poolId, generation, acc);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IRewardRail
    function claimable(uint256 poolId, address staker) external view returns (uint256) {
        RailPool storage rp = _pools[poolId];
        if (!rp.on) return 0;
        (uint256 shares, uint32 generation) = vault.positionOf(poolId, staker);
        Earner storage e = _earners[poolId][staker];
        return e.owed + _earned(poolId, rp, e.snapshot, shares, generation);
    }

    /// @inheritdoc IRewardRail
    function claimableEscrow(uint256 withdrawalId) external view returns (uint256 amount) {
        IStakeVault.WithdrawalView memory w = vault.getWithdrawal(withdrawalId);
        RailPool storage rp = _pools[w.poolId];
        if (!rp.on) return 0;
        (amount,) = _escrowEarned(w.poolId, rp, withdrawalId, w.shares);
    }

    /// @inheritdoc IRewardRail
    function commissionOwed(address operator, address token) external view returns (uint256) {
        return _commissionOwed[operator][token];
    }

    /// @inheritdoc IRewardRail
    function commissionOf(uint256 poolId) external view returns (uint16 bps, uint16 nextBps, uint48 nextAt) {
        RailPool storage rp = _pools[poolId];
        bps = _commissionNow(rp);
        if (rp.nextAt > block.timestamp) (nextBps, nextAt) = (rp.nextBps, rp.nextAt);
    }

    /// @inheritdoc IRewardRail
    function poolRewards(uint256 poolId) external view returns (PoolRewards memory) {
        RailPool storage rp = _pools[poolId];
        return PoolRewards({
            on: rp.on,
            token: rp.token,
            generation: rp.generation,
            acc: rp.acc,
            paidToStakers: rp.paidToStakers,
            commissionPaid: rp.commissionPaid,
            dust: rp.dust
        });
    }

    // ------------------------------------------------------------------ internals

    function _on(uint256 poolId) internal view returns (RailPool storage rp) {
        rp = _pools[poolId];
        if (!rp.on) revert RewardsOff(poolId);
    }

    /// @dev Prices the span since the staker's snapshot at the shares it held in it, and moves the snapshot to now.
    function _accrue(uint256 poolId, address staker, uint256 shares, uint32 generation) internal returns (uint256 acc) {
        RailPool storage rp = _pools[poolId];
        acc = rp.acc;
        Earner storage e = _earners[poolId][staker];
        uint256 earned = _earned(poolId, rp, e.snapshot, shares, generation);
        if (earned != 0) {
            e.owed += earned;
            emit RewardAccrued(poolId, staker, earned, acc);
        }
        e.snapshot = acc;
    }

    /// @dev `shares` of `generation` held since `snapshot`: they earn up to now, or up to their generation's end.
    function _earned(uint256 poolId, RailPool storage rp, uint256 snapshot, uint256 shares, uint32 generation)
        internal
        view
        returns (uint256)
    {
        if (shares == 0) return 0;
        uint256 upTo = generation == rp.generation ? rp.acc : _origin(_generationEndAcc[poolId][generation]);
        snapshot = _origin(snapshot);
        return upTo > snapshot ? Math.mulDiv(shares, upTo - snapshot, SCALE) : 0;
    }

    /// @dev A withdrawal's unpaid escrow earnings and the `acc` they run to: its early exit, its settlement batch,
    /// or (still slashable) now.
    function _escrowEarned(uint256 poolId, RailPool storage rp, uint256 withdrawalId, uint256 shares)
        internal
        view
        returns (uint256 amount, uint256 end)
    {
        end = _escrowLeftAt[withdrawalId];
        if (end == 0) {
            (bool settled, uint256 batch) = vault.settlementOf(withdrawalId);
            end = settled ? _origin(_batchAcc[poolId][batch]) : rp.acc;
        }
        uint256 from = _origin(_escrowFrom[withdrawalId]);
        if (end > from) amount = Math.mulDiv(shares, end - from, SCALE);
    }

    function _origin(uint256 acc) internal pure returns (uint256) {
        return acc == 0 ? ACC_ORIGIN : acc;
    }

    function _commissionNow(RailPool storage rp) internal view returns (uint16) {
        uint48 nextAt = rp.nextAt;
        if (nextAt != 0 && block.timestamp >= nextAt) return rp.nextBps;
        return rp.commissionSet ? rp.bps : DEFAULT_COMMISSION_BPS;
    }
}
