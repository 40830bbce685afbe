// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title What the allocation manager asks of the reputation contract
/// @notice The one call the manager makes; the reputation contract (`IReputation`) implements it.
interface IReputationHooks {
    /// @notice The penalty's payment ran out of gas: the veto's caller gave too little gas (the whole veto reverts
    /// rather than skip the penalty, so no gas limit can dodge it).
    error PenaltyOutOfGas();

    /// @notice The manager reports a vetoed slash request, in the veto's transaction: the AVS's evidence and its
    /// bond's penalty. A revert does not undo the veto (the manager emits `ReputationHookFailed`), except one for want
    /// of gas (`PenaltyOutOfGas`, or out of gas), which reverts the veto.
    function onSlashVetoed(uint64 requestId) external;
}
