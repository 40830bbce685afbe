// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IReputationHooks} from "../../contracts/interfaces/IReputationHooks.sol";

/// @notice A reputation contract whose veto hook fails in a chosen way, to show that the manager's veto stands
/// whatever the hook does, except for want of gas.
contract FaultyReputation is IReputationHooks {
    enum Fault {
        None,
        Revert, // a bug: reverts with data
        OutOfGas, // burns every unit of gas it gets
        PenaltyOutOfGas // says its payment ran out of gas
    }

    error Broken(uint64 requestId);

    Fault public fault;

    function setFault(Fault fault_) external {
        fault = fault_;
    }

    function onSlashVetoed(uint64 requestId) external view {
        Fault f = fault;
        if (f == Fault.Revert) revert Broken(requestId);
        if (f == Fault.PenaltyOutOfGas) revert PenaltyOutOfGas();
        if (f == Fault.OutOfGas) {
            while (true) {}
        }
    }
}
