// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AllocationManager} from "../../contracts/AllocationManager.sol";
import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IsolationFixture} from "../utils/IsolationFixture.sol";

/// @notice Regressions from review: finished deallocations and their capacity, the escape from a pending shared
/// slash through an isolated increase, and delays under which no AVS could register.
contract AllocationRegressionsTest is IsolationFixture {
    IAllocationManager.Mode internal constant ISO = IAllocationManager.Mode.Isolated;
    IAllocationManager.Mode internal constant SHARED = IAllocationManager.Mode.Shared;
    address internal alice = makeAddr("alice");
    uint256 internal pool;

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
    }

    function _one(uint32 avsId) internal pure returns (uint32[] memory ids) {
        ids = new uint32[](1);
        ids[0] = avsId;
    }

    /// @dev A finished deallocation frees its capacity once applied, by anyone, without a new change to it.
    function test_applyPending_freesCapacityOfAFinishedDeallocation() public {
        uint32 a = _instantAVS(module, sink);
        uint32 b = _instantAVS(module, sink);
        _allocate(opA, pool, a, ISO, 0.8e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        vm.prank(opA);
        manager.allocate(pool, a, ISO, 0.3e18);
        // Still committed (and slashable at 800) during the deallocation delay.
        assertEq(manager.slashableBacking(a, pool), 800 ether);
        vm.warp(block.timestamp + DEALLOC_DELAY);
        // The view already shows the finished deallocation.
        assertEq(manager.slashableBacking(a, pool), 300 ether);
        assertEq(manager.getAllocation(pool, a).current, 0.3e27);

        // Without applying, 0.8 + 0.5 > 1 committed.
        vm.startPrank(opA);
        manager.optIn(b);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.IsolatedOverCommitted.selector, 1.3e27, 1e27));
        manager.allocate(pool, b, ISO, 0.5e18);
        vm.stopPrank();

        vm.expectEmit(address(manager));
        emit IAllocationManager.AllocationModified(pool, a, ISO, 0.3e27, 0.3e27, 0);
        vm.prank(makeAddr("anyone"));
        manager.applyPending(pool, _one(a));
        assertEq(manager.getPoolState(pool).isolatedWeight, 0.3e27);
        vm.prank(opA);
        manager.allocate(pool, b, ISO, 0.5e18);
        // Pending: still in the shared stake until it takes effect.
        assertEq(manager.getPoolState(pool).isolatedWeight, 0.3e27);
        assertEq(manager.getPoolState(pool).pendingIsolated, 0.5e27);
        vm.warp(block.timestamp + ALLOC_DELAY);
        assertEq(manager.getPoolState(pool).isolatedWeight, 0.8e27);
    }

    /// @dev Applying a finished isolated deallocation gives its stake back to the shared side.
    function test_applyPending_returnsStakeToTheSharedSide() public {
        uint32 a = _instantAVS(module, sink);
        uint32 x = _instantAVS(module, sink);
        _allocate(opA, pool, a, ISO, 0.8e18);
        _allocate(opA, pool, x, SHARED, 0.6e18); // the reuse cap: 3 x (1 - 0.8) = 0.6
        vm.warp(block.timestamp + ALLOC_DELAY);
        vm.prank(opA);
        manager.allocate(pool, a, ISO, 0);
        vm.warp(block.timestamp + DEALLOC_DELAY);
        assertEq(manager.slashableBacking(a, pool), 0);
        // Until applied, the shared side still sees the committed 0.8 (conservative: 200 shared).
        assertEq(manager.slashableBacking(x, pool), 200 ether);
        manager.applyPending(pool, _one(a));
        assertEq(manager.slashableBacking(x, pool), 600 ether, "min(0.6, 1.0) of 1,000");
    }

    /// @dev Nothing to apply (no change, not matured yet, unknown AVS id) is a no-op, not a revert.
    function test_applyPending_skipsWhatIsNotDue() public {
        uint32 a = _instantAVS(module, sink);
        _allocate(opA, pool, a, ISO, 0.5e18);
        manager.applyPending(pool, _one(a)); // pending increase, not matured
        assertEq(manager.getAllocation(pool, a).current, 0);
        manager.applyPending(pool, _one(99));
        vm.warp(block.timestamp + ALLOC_DELAY);
        manager.applyPending(pool, _one(a));
        assertEq(manager.getAllocation(pool, a).current, 0.5e27);
    }

    /// @dev An operator cannot shrink the shared stake under a pending vetoable slash by committing an isolated
    /// increase: it takes effect only after the request's last executable second.
    function test_pendingRequest_delaysIsolatedIncreases() public {
        uint32 s = _vetoAVS(module, sink);
        _allocate(opA, pool, s, SHARED, 1e18);
        vm.prank(opA);
        uint32 own = manager.registerAVS("own", opA, opA, address(0), 0, 1e18);
        vm.prank(opA);
        manager.optIn(own);
        vm.warp(block.timestamp + ALLOC_DELAY);

        uint40 until = uint40(block.timestamp + VETO_WINDOW + EXEC_WINDOW);
        vm.expectEmit(address(manager));
        emit IAllocationManager.IsolatedIncreasesDelayed(pool, until);
        vm.prank(module);
        uint64 id = manager.requestSlash(s, pool, 0.5e18);

        vm.prank(opA);
        manager.allocate(pool, own, ISO, 0.6e18);
        assertEq(manager.getAllocation(pool, own).effectAt, until + 1);
        vm.warp(block.timestamp + VETO_WINDOW);
        vm.prank(module);
        assertEq(manager.executeSlash(id), 500 ether, "50% of the whole 1,000: nothing escaped");

        vm.warp(uint256(until) + 1);
        // In effect, clipped to what the slash left: W 0.5e27, so 0.5e27 of the 0.6e27 asked.
        assertEq(manager.getPoolState(pool).isolatedWeight, 0.5e27);
    }

    /// @dev Delays with no room even for an instant AVS are refused at construction.
    function test_RevertWhen_delaysLeaveNoRoomForAnyAVS() public {
        // 1 + 5 + 1 days = 7 days = the escrow delay: an instant AVS would need 1 + 5 + 1 < 7.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidDelays.selector, 1 days, 5 days, 7 days));
        new AllocationManager(vault, registry, address(this), 1 days, 5 days, 1 days);
        AllocationManager m = new AllocationManager(vault, registry, address(this), 1 days, 5 days - 1, 1 days);
        m.registerAVS("instant", module, sink, address(0), 0, 1e18);
    }

    /// @dev A slash that fits under the cap but trips it through rounding must not take more than it asked for
    /// (the excess would come out of a neighbour's isolated compartment).
    function test_guardCutNeverExceedsTheRequest() public {
        address moduleY = makeAddr("moduleY");
        uint32 x = _instantAVS(module, sink);
        uint32 y = _instantAVS(moduleY, makeAddr("sinkY"));
        _allocate(opA, pool, x, ISO, 0.5e18);
        _allocate(opA, pool, y, SHARED, 0.25e18 - 1);
        vm.warp(block.timestamp + ALLOC_DELAY);
        manager.setGuard(0.25e18, 1 days);
        _slash(module, x, pool, 1); // 500 wei: the bucket holds 1e-18
        uint256 xBefore = manager.slashableBacking(x, pool);
        uint256 yBacking = manager.slashableBacking(y, pool);
        uint256 slashed = _slash(moduleY, y, pool, 1e18);
        assertLe(slashed, yBacking, "took more than Y's backing");
        assertEq(manager.slashableBacking(x, pool), xBefore, "X's isolated backing moved");
    }
}
