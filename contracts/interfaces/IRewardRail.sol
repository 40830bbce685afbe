// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IRewardHooks} from "./IRewardHooks.sol";

/// @title Reward rail: payments for security reach the stakers who carried the risk
/// @notice Anyone pays a pool in the pool's own asset (a tier's: its base asset); the pool's operator takes its
/// commission and the rest is shared among the pool's earning shares pro rata, in O(1): one reward-per-share
/// accumulator per pool, no loop over stakers. A staker claims what its shares earned, and what its queued
/// withdrawals earned while they were still slashable (escrow earns until it matures or the pool is fully slashed).
/// @dev Accounting, in one place:
/// - `acc` (per pool, scaled by `SCALE`) rises by ⌊toStakers·SCALE / S⌋ at each payment, where S is the pool's
///   earning shares right after its matured withdrawals settled (`IStakeVault.settle`). It starts at `ACC_ORIGIN`;
///   a stored snapshot of zero means "before the pool's rewards were on" and reads as the origin, so stakers and
///   withdrawals the rail never saw are paid from the right point without a write.
/// - A staker is owed shares·(acc − snapshot) / SCALE, rounded down, for each span in which its shares did not
///   change; the vault reports every change (`IRewardHooks`) before it happens, so each span is priced at the shares
///   of that span. Shares of a generation ended by a full slash earn up to the generation's end only.
/// - A queued withdrawal earns shares·(end − start) / SCALE, where `start` is `acc` at queueing and `end` is `acc` at
///   its settlement, its early claim or its generation's end.
/// - Rounding never favours a claimer: the increment, each staker's share of it and the commission round down. The
///   remainder stays in the rail as dust (`PoolRewards.dust` counts each payment's at the pool level).
/// - The commission is the pool operator's, at most `MAX_COMMISSION_BPS`, `DEFAULT_COMMISSION_BPS` until set. A
///   change takes effect `COMMISSION_DELAY` after it is made, and a payer names the highest commission it accepts:
///   a payment is charged the lower of the two, so a raise can never front-run a payment.
interface IRewardRail is IRewardHooks {
    /// @notice A pool's reward books.
    struct PoolRewards {
        bool on;
        /// The token rewards are paid and claimed in: the pool's asset (a tier's: its base asset).
        address token;
        /// The vault generation the accumulator runs for.
        uint32 generation;
        /// Reward per earning share, scaled by `SCALE`, from `ACC_ORIGIN`.
        uint256 acc;
        /// Everything paid to the pool's stakers (after commission).
        uint256 paidToStakers;
        /// Commission taken from the pool's payments.
        uint256 commissionPaid;
        /// Paid to the stakers but not distributable at the pool level (⌊·⌋ of the increment).
        uint256 dust;
    }

    /// @notice A pool operator's commission: `bps` now, `nextBps` from `nextAt` on (0 = no change pending).
    struct Commission {
        uint16 bps;
        uint16 nextBps;
        uint48 nextAt;
    }

    /// @notice Zero amount where a positive number is needed.
    error ZeroAmount();
    /// @notice The zero address where an account is needed.
    error ZeroAddress();
    /// @notice The caller is not the vault.
    error NotVault(address caller);
    /// @notice The market is wired once (`setMarket`).
    error MarketAlreadySet(address market);
    /// @notice Only the pool's operator (or the market) turns its rewards on or sets its commission.
    error NotPoolOperator(uint256 poolId, address caller);
    /// @notice The pool's rewards are not on (`enableRewards`).
    error RewardsOff(uint256 poolId);
    /// @notice The commission is above `MAX_COMMISSION_BPS`.
    error CommissionTooHigh(uint256 bps, uint256 maxBps);
    /// @notice No share of the pool carries its risk now: nobody to pay.
    error NoEarningShares(uint256 poolId);
    /// @notice The payment is too small to raise the pool's reward per share.
    error PaymentTooSmall(uint256 poolId, uint256 amount);
    /// @notice Nothing is owed to the caller here.
    error NothingToClaim();
    /// @notice The caller did not queue this withdrawal.
    error NotWithdrawalOwner(uint256 withdrawalId, address staker);
    /// @notice The rail received a different amount than was sent (fee-on-transfer token).
    error FeeOnTransferDetected(address token, uint256 sent, uint256 received);

    event MarketSet(address indexed market);
    /// @notice The pool earns from now on, in `token`.
    event RewardsEnabled(uint256 indexed poolId, address indexed token, address indexed by);
    /// @notice The operator's commission on the pool becomes `bps` at `effectiveAt`.
    event CommissionQueued(uint256 indexed poolId, uint16 bps, uint48 effectiveAt);
    /// @notice `amount` was paid into the pool: `commission` to its operator, `toStakers` shared by `earningShares`
    /// (the accumulator rose by `accDelta`), `dust` of it not distributable.
    event RewardPaid(
        uint256 indexed poolId,
        address indexed payer,
        uint256 amount,
        uint256 commission,
        uint256 toStakers,
        uint256 earningShares,
        uint256 accDelta,
        uint256 dust
    );
    /// @notice A staker (for a position) or a withdrawal's owner (for its escrow, `withdrawalId` ≠ 0) was paid.
    event RewardClaimed(
        uint256 indexed poolId, address indexed staker, uint256 indexed withdrawalId, address receiver, uint256 amount
    );
    event CommissionClaimed(address indexed operator, address indexed token, address receiver, uint256 amount);
    /// @notice A span of a staker's shares was priced: `amount` more is owed (the snapshot moved to `acc`).
    event RewardAccrued(uint256 indexed poolId, address indexed staker, uint256 amount, uint256 acc);
    /// @notice Escrowed shares of `withdrawalId` stopped earning at `acc`.
    event EscrowEnded(uint256 indexed withdrawalId, uint256 acc);
    /// @notice A settlement batch of the pool stopped its shares earning at `acc`.
    event BatchSettled(uint256 indexed poolId, uint256 indexed batch, uint256 acc);
    /// @notice A full slash ended `generation`: its shares earned up to `acc`.
    event GenerationEnded(uint256 indexed poolId, uint32 generation, uint256 acc);

    /// @notice The highest commission an operator may set, in bps.
    function MAX_COMMISSION_BPS() external view returns (uint16);

    /// @notice Owner: wires the security market, once (it may turn rewards on for the pools it leases).
    function setMarket(address market) external;

    /// @notice The pool's operator or the market: the pool earns from now on. Costs its stakers' share changes a
    /// call into the rail, which is why it is the operator's choice.
    function enableRewards(uint256 poolId) external;

    /// @notice The pool's operator: its commission becomes `bps` (at most `MAX_COMMISSION_BPS`) after
    /// `COMMISSION_DELAY`.
    function setCommission(uint256 poolId, uint16 bps) external;

    /// @notice Pays `amount` of the pool's token into its rewards, pulled from the caller. Reverts with
    /// The commission is the one in effect, capped at `maxCommissionBps`: a raise never reaches a payer that did
    /// not accept it.
    function pay(uint256 poolId, uint256 amount, uint16 maxCommissionBps)
        external
        returns (uint256 toStakers, uint256 commission);

    /// @notice Pays the caller's rewards for its position in the pool to `receiver`.
    function claim(uint256 poolId, address receiver) external returns (uint256 amount);

    /// @notice Pays the caller's rewards for a queued withdrawal's escrow (so far, if it still earns) to `receiver`.
    function claimEscrow(uint256 withdrawalId, address receiver) external returns (uint256 amount);

    /// @notice Pays the caller's commission in `token` to `receiver`.
    function claimCommission(address token, address receiver) external returns (uint256 amount);

    /// @notice What `claim` would pay `staker` now.
    function claimable(uint256 poolId, address staker) external view returns (uint256);

    /// @notice What `claimEscrow` would pay now.
    function claimableEscrow(uint256 withdrawalId) external view returns (uint256);

    /// @notice Commission owed to `operator` in `token`.
    function commissionOwed(address operator, address token) external view returns (uint256);

    /// @notice The commission in effect on the pool now, and any change pending.
    function commissionOf(uint256 poolId) external view returns (uint16 bps, uint16 nextBps, uint48 nextAt);

    /// @notice The pool's reward books.
    function poolRewards(uint256 poolId) external view returns (PoolRewards memory);
}
