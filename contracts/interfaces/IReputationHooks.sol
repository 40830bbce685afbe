// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title What the allocation manager asks of the reputation contract
/// @notice The one call the manager makes; the reputation contract (`IReputation`) implements it.
interface IReputationHooks {
    /// @notice The manager reports a vetoed slash request, in the veto's transaction: the AVS's evidence and its
    /// bond's penalty.
    function onSlashVetoed(uint64 requestId) external;
}
