// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {DoubleSignSlasher} from "../../contracts/modules/DoubleSignSlasher.sol";

/// @notice A stand-in for the AllocationManager behind a `DoubleSignSlasher`: every pool backs the AVS with `backing`,
/// and `slash` records, while the module is still inside its external call, how the module's public state shows the
/// round (the ordering a reentrant sink or token would see), then takes `takenWad` of what was asked.
contract SpyManager {
    DoubleSignSlasher public ds;
    address public operator;
    uint64 public round;
    uint256 public backing = 1000 ether;
    uint256 public takenWad = 1e18;

    uint256 public calls;
    bool public sawSlashed;
    uint64 public sawRemainingWad;

    function registerAVS(string calldata, address, address, address, uint48, uint64) external pure returns (uint32) {
        return 1;
    }

    function watch(DoubleSignSlasher ds_, address operator_, uint64 round_) external {
        (ds, operator, round) = (ds_, operator_, round_);
    }

    /// @dev The fraction of what the module asks that the slash takes (below 1e18: a guard cut).
    function setTakenWad(uint256 takenWad_) external {
        takenWad = takenWad_;
    }

    function slashableBacking(uint32, uint256) external view returns (uint256) {
        return backing;
    }

    function slash(uint32, uint256 poolId, uint64 fractionWad) external returns (uint256 amount) {
        ++calls;
        sawSlashed = ds.slashed(operator, round, poolId);
        sawRemainingWad = ds.remainingWad(operator, round, poolId);
        amount = backing * fractionWad / 1e18 * takenWad / 1e18;
        backing -= amount;
    }
}
