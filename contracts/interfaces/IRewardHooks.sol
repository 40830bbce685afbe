// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title What the vault tells the reward rail about an earning pool's shares
/// @notice The vault calls these, and only for pools whose rewards are on (`IStakeVault.earns`), at every change of a
/// staker's shares or of the set of shares that carry the pool's risk. The rail keeps a reward-per-share accumulator
/// per pool; each hook settles what was earned at the old share count before the count changes, so that nobody is
/// paid for shares they held after (or before) they carried the risk.
/// @dev Callable by the vault only. The hooks write the rail's books and move no tokens.
interface IRewardHooks {
    /// @notice A staker's position in `poolId` is about to change; `shares`/`generation` are its values before.
    function onPositionChange(uint256 poolId, address staker, uint256 shares, uint32 generation) external;

    /// @notice A staker queued `withdrawalId`: the position (`shares`/`generation` before) shrinks, and the queued
    /// shares keep earning in escrow until they leave the slashable set.
    function onQueued(uint256 poolId, address staker, uint256 shares, uint32 generation, uint256 withdrawalId) external;

    /// @notice Escrowed withdrawals settled together as `batch` (at maturity or at a full slash): their shares have
    /// left the pool's slashable set and stop earning now.
    function onSettled(uint256 poolId, uint256 batch) external;

    /// @notice A matured withdrawal was claimed before its settlement: its shares leave the pool now.
    function onEscrowLeft(uint256 withdrawalId) external;

    /// @notice A full slash ended `generation` of the pool: its shares stop earning now.
    function onGenerationEnded(uint256 poolId, uint32 generation) external;
}
