// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IsolationFixture} from "../utils/IsolationFixture.sol";

/// @notice Shared set-up for the attack tests: each test plays an attacker against the real vault and manager and
/// asserts the promise it attacks, so it fails if the attack works. Promises are stated per staker or per pool as in
/// docs/architecture.md ("Promises").
abstract contract AttackFixture is IsolationFixture {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant DAY = 1 days;

    IAllocationManager.Mode internal constant ISO = IAllocationManager.Mode.Isolated;
    IAllocationManager.Mode internal constant SHARED = IAllocationManager.Mode.Shared;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal mallory = makeAddr("mallory");

    /// @dev A fresh instant AVS with its own module and sink.
    function _avs(string memory name) internal returns (uint32 id, address module_, address sink_) {
        module_ = makeAddr(string.concat("module-", name));
        sink_ = makeAddr(string.concat("sink-", name));
        id = _instantAVS(module_, sink_);
    }

    /// @dev A fresh vetoable AVS (resolver `resolver`) with the given veto window.
    function _vetoAvs(string memory name, uint48 window) internal returns (uint32 id, address module_, address sink_) {
        module_ = makeAddr(string.concat("module-", name));
        sink_ = makeAddr(string.concat("sink-", name));
        vm.prank(avsAdmin);
        id = manager.registerAVS("ipfs://veto", module_, sink_, resolver, window, 1e18);
    }

    /// @dev The first second of the guard window after the current one.
    function _nextWindow() internal view returns (uint256) {
        uint256 w = manager.guardWindow();
        return (block.timestamp / w + 1) * w;
    }

    /// @dev Sum of the pool's shared backings of `ids`, and the most they may add up to (cap × shared stake).
    function _sharedTotals(uint256 poolId, uint32[] memory ids) internal view returns (uint256 sum, uint256 bound) {
        for (uint256 i; i < ids.length; ++i) {
            sum += manager.slashableBacking(ids[i], poolId);
        }
        IAllocationManager.PoolRisk memory r = manager.poolRisk(poolId);
        bound = r.sharedStake * _reuseCapBps(poolId) / 10_000;
    }
}
