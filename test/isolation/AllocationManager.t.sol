// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Vm} from "forge-std/Vm.sol";

import {AllocationManager} from "../../contracts/AllocationManager.sol";
import {StakeVault} from "../../contracts/StakeVault.sol";
import {IAllocationLens} from "../../contracts/interfaces/IAllocationLens.sol";
import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IOperatorRegistry} from "../../contracts/interfaces/IOperatorRegistry.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {IsolationFixture} from "../utils/IsolationFixture.sol";

/// @notice Unit tests for AllocationManager: every external function, every revert path (exact error and args),
/// every event, and the weight accounting with numbers worked out by hand.
///
/// Notation used in the comments: W = the pool's total weight (1e27 for a fresh pool), V = the vault's slashable
/// value of the pool, iso = the pool's committed isolated weight. Backing of an isolated allocation of weight w is
/// w·V/W; of a shared one min(w, W − iso)·V/W. A slash of s removes ⌈W·s/V⌉ from the allocation and from W.
/// The base pool `pool` holds alice's 1,000 WETH at price 1 (1,000e18 shares) unless a test says otherwise.
contract AllocationManagerTest is IsolationFixture {
    uint96 internal constant W = 1e27;
    IAllocationManager.Mode internal constant NONE = IAllocationManager.Mode.None;
    IAllocationManager.Mode internal constant ISO = IAllocationManager.Mode.Isolated;
    IAllocationManager.Mode internal constant SHARED = IAllocationManager.Mode.Shared;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal stranger = makeAddr("stranger");
    address internal module2 = makeAddr("module2");
    address internal module3 = makeAddr("module3");
    address internal sink2 = makeAddr("sink2");
    address internal sink3 = makeAddr("sink3");

    uint256 internal pool;
    uint256 internal t0;

    function setUp() public override {
        super.setUp();
        t0 = block.timestamp;
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
    }

    // ================================================================== helpers

    function _warp(uint256 dt) internal {
        vm.warp(block.timestamp + dt);
    }

    function _optIn(address operator, uint32 avsId) internal {
        vm.prank(operator);
        manager.optIn(avsId);
    }

    /// @dev Allocates without opting in (the caller arranged membership).
    function _set(address operator, uint256 poolId, uint32 avsId, IAllocationManager.Mode mode, uint64 f) internal {
        vm.prank(operator);
        manager.allocate(poolId, avsId, mode, f);
    }

    function _err(bytes4 selector) internal {
        vm.expectRevert(abi.encodeWithSelector(selector));
    }

    /// @dev A tier pool of opB over `pool`, holding `baseShares` of alice's base shares.
    function _tier(uint256 baseShares) internal returns (uint256 tierPool) {
        vault.setTierAllowed(pool, true);
        _approveTierOperators(pool);
        vm.prank(alice);
        (tierPool,) = vault.depositToTier(pool, opB, baseShares);
    }

    function _ids(uint32 a) internal pure returns (uint32[] memory ids) {
        ids = new uint32[](1);
        ids[0] = a;
    }

    function _deploy(uint48 a, uint48 d, uint48 e) internal returns (AllocationManager) {
        return new AllocationManager(vault, registry, address(this), a, d, e);
    }

    // ================================================================== constructor

    function test_constructor_setsImmutablesAndDefaults() public view {
        assertEq(address(manager.vault()), address(vault));
        assertEq(address(manager.registry()), address(registry));
        assertEq(manager.owner(), address(this));
        assertEq(manager.allocationDelay(), 1 days);
        assertEq(manager.deallocationDelay(), 3 days);
        assertEq(manager.executionWindow(), 1 days);
        assertEq(manager.defaultReuseCapBps(), 30_000);
        assertEq(manager.maxReuseCapBps(), 100_000);
        assertEq(manager.maxPathReuseBps(), 200_000);
        assertEq(manager.guardMaxFractionWad(), 0.5e18);
        assertEq(manager.guardWindow(), 1 days);
        assertEq(manager.avsCount(), 0);
        assertEq(manager.requestCount(), 0);
    }

    function test_RevertWhen_constructorZeroVault() public {
        _err(IAllocationManager.ZeroAddress.selector);
        new AllocationManager(IStakeVault(address(0)), registry, address(this), 1 days, 3 days, 1 days);
    }

    function test_RevertWhen_constructorZeroRegistry() public {
        _err(IAllocationManager.ZeroAddress.selector);
        new AllocationManager(vault, IOperatorRegistry(address(0)), address(this), 1 days, 3 days, 1 days);
    }

    function test_RevertWhen_constructorZeroOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new AllocationManager(vault, registry, address(0), 1 days, 3 days, 1 days);
    }

    function test_RevertWhen_constructorZeroExecutionWindow() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidDelays.selector, 1 days, 3 days, 7 days));
        _deploy(1 days, 3 days, 0);
    }

    function test_RevertWhen_constructorDeallocationEqualsExecutionWindow() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidDelays.selector, 1 days, 2 days, 7 days));
        _deploy(1 days, 2 days, 2 days);
    }

    function test_RevertWhen_constructorDeallocationBelowExecutionWindow() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidDelays.selector, 1 days, 1 days, 7 days));
        _deploy(1 days, 1 days, 2 days);
    }

    function test_RevertWhen_constructorDelaysReachEscrow() public {
        // allocation 2 + deallocation 4 + execution 1 = 7 days = the escrow: not even an instant AVS would fit
        // under the registration rule (veto window + execution + allocation + deallocation < escrow).
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidDelays.selector, 2 days, 4 days, 7 days));
        _deploy(2 days, 4 days, 1 days);
    }

    function test_RevertWhen_constructorDelaysWithExecutionWindowReachEscrow() public {
        // 1 + 5 = 6 days < 7 on their own, but with the 1-day execution window they reach the escrow.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidDelays.selector, 1 days, 5 days, 7 days));
        _deploy(1 days, 5 days, 1 days);
    }

    function test_RevertWhen_constructorDelaysExceedEscrow() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidDelays.selector, 4 days, 4 days, 7 days));
        _deploy(4 days, 4 days, 1 days);
    }

    function test_constructor_acceptsDelaysJustBelowEscrow() public {
        AllocationManager m = _deploy(2 days, 4 days - 1, 1 days);
        assertEq(m.allocationDelay(), 2 days);
        assertEq(m.deallocationDelay(), 4 days - 1);
        assertEq(m.executionWindow(), 1 days);
        // And an instant AVS fits: 0 + 1 + 2 + (4 days − 1 s) = 7 days − 1 s < 7 days.
        assertEq(m.registerAVS("instant", module, sink, address(0), 0, 1e18), 1);
    }

    // ================================================================== registerAVS

    function test_registerAVS_storesAndEmits() public {
        vm.expectEmit(address(manager));
        emit IAllocationManager.AVSRegistered(1, avsAdmin, module, sink, address(0), 0, 1e18, "ipfs://avs");
        uint32 id = _instantAVS(module, sink);
        assertEq(id, 1);
        assertEq(manager.avsCount(), 1);
        IAllocationManager.AVS memory a = manager.getAVS(1);
        assertEq(a.admin, avsAdmin);
        assertEq(a.slasher, module);
        assertEq(a.sink, sink);
        assertEq(a.resolver, address(0));
        assertEq(a.vetoWindow, 0);
        assertEq(a.maxSlashWad, 1e18);

        vm.expectEmit(address(manager));
        emit IAllocationManager.AVSRegistered(2, stranger, module2, sink2, resolver, 1 days, 0.5e18, "uri2");
        vm.prank(stranger);
        uint32 id2 = manager.registerAVS("uri2", module2, sink2, resolver, 1 days, 0.5e18);
        assertEq(id2, 2);
        assertEq(manager.avsCount(), 2);
        a = manager.getAVS(2);
        assertEq(a.admin, stranger);
        assertEq(a.slasher, module2);
        assertEq(a.sink, sink2);
        assertEq(a.resolver, resolver);
        assertEq(a.vetoWindow, 1 days);
        assertEq(a.maxSlashWad, 0.5e18);
    }

    function test_RevertWhen_registerAVSZeroSlasher() public {
        _err(IAllocationManager.ZeroAddress.selector);
        manager.registerAVS("x", address(0), sink, address(0), 0, 1e18);
    }

    function test_RevertWhen_registerAVSZeroSink() public {
        _err(IAllocationManager.ZeroAddress.selector);
        manager.registerAVS("x", module, address(0), address(0), 0, 1e18);
    }

    function test_RevertWhen_registerAVSZeroSlashCap() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidSlashCap.selector, 0));
        manager.registerAVS("x", module, sink, address(0), 0, 0);
    }

    function test_RevertWhen_registerAVSSlashCapAboveOne() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidSlashCap.selector, 1e18 + 1));
        manager.registerAVS("x", module, sink, address(0), 0, 1e18 + 1);
    }

    function test_RevertWhen_registerAVSResolverWithoutWindow() public {
        // limit = deallocation 3 days − execution window 1 day − 1 s: the last executable second comes strictly
        // before a deallocation filed with the request takes effect.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidVetoWindow.selector, 0, 2 days - 1));
        manager.registerAVS("x", module, sink, resolver, 0, 1e18);
    }

    function test_RevertWhen_registerAVSWindowWithoutResolver() public {
        // Without a resolver the limit is 0.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidVetoWindow.selector, 1 days, 0));
        manager.registerAVS("x", module, sink, address(0), 1 days, 1e18);
    }

    function test_RevertWhen_registerAVSWindowAboveDeallocationMinusExecution() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidVetoWindow.selector, 2 days, 2 days - 1));
        manager.registerAVS("x", module, sink, resolver, 2 days, 1e18);
    }

    function test_RevertWhen_registerAVSWindowBreaksEscrowSum() public {
        // With a 6-day escrow, 2 days − 1 passes the first rule but veto + execution 1 + allocation 1 + deallocation 3
        // days = 7 days − 1 is not below the escrow.
        StakeVault v = new StakeVault(registry, 6 days, address(this), address(this));
        AllocationManager m = new AllocationManager(v, registry, address(this), 1 days, 3 days, 1 days);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidVetoWindow.selector, 2 days - 1, 2 days - 1));
        m.registerAVS("x", module, sink, resolver, 2 days - 1, 1e18);
    }

    function test_registerAVS_acceptsWindowJustBelowEscrowSum() public {
        // 2 days − 1 + 5 days = 7 days − 1 < 7 days.
        uint32 id = manager.registerAVS("x", module, sink, resolver, 2 days - 1, 1e18);
        assertEq(manager.getAVS(id).vetoWindow, 2 days - 1);
    }

    // ================================================================== setAVSMetadata

    function test_setAVSMetadata_emits() public {
        uint32 id = _instantAVS(module, sink);
        vm.expectEmit(address(manager));
        emit IAllocationManager.AVSMetadataUpdated(id, "ipfs://new");
        vm.prank(avsAdmin);
        manager.setAVSMetadata(id, "ipfs://new");
    }

    function test_RevertWhen_setAVSMetadataNotAdmin() public {
        uint32 id = _instantAVS(module, sink);
        // Not even the AVS's own slashing module.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotAVSAdmin.selector, id, module));
        vm.prank(module);
        manager.setAVSMetadata(id, "x");
    }

    function test_RevertWhen_setAVSMetadataUnknownAVS() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownAVS.selector, 7));
        vm.prank(avsAdmin);
        manager.setAVSMetadata(7, "x");
    }

    // ================================================================== optIn / optOut

    function test_optIn_setsMembershipAndEmits() public {
        uint32 id = _instantAVS(module, sink);
        assertFalse(manager.membership(id, opA).optedIn);
        assertFalse(manager.isSlashable(id, opA));
        vm.expectEmit(address(manager));
        emit IAllocationManager.OperatorOptedIn(id, opA);
        _optIn(opA, id);
        IAllocationManager.Membership memory m = manager.membership(id, opA);
        assertTrue(m.optedIn);
        assertEq(m.optedOutAt, 0);
        assertTrue(manager.isSlashable(id, opA));
    }

    function test_RevertWhen_optInUnknownAVS() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownAVS.selector, 1));
        vm.prank(opA);
        manager.optIn(1);
    }

    function test_RevertWhen_optInNotOperator() public {
        uint32 id = _instantAVS(module, sink);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotOperator.selector, stranger));
        vm.prank(stranger);
        manager.optIn(id);
    }

    function test_RevertWhen_optInTwice() public {
        uint32 id = _instantAVS(module, sink);
        _optIn(opA, id);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.AlreadyOptedIn.selector, id, opA));
        vm.prank(opA);
        manager.optIn(id);
    }

    function test_optOut_setsMembershipAndEmits() public {
        uint32 id = _instantAVS(module, sink);
        _optIn(opA, id);
        _warp(5 hours);
        vm.expectEmit(address(manager));
        emit IAllocationManager.OperatorOptedOut(id, opA, uint48(block.timestamp + 3 days));
        vm.prank(opA);
        manager.optOut(id);
        IAllocationManager.Membership memory m = manager.membership(id, opA);
        assertFalse(m.optedIn);
        assertEq(m.optedOutAt, block.timestamp);
    }

    function test_RevertWhen_optOutNotOptedIn() public {
        uint32 id = _instantAVS(module, sink);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotOptedIn.selector, id, opA));
        vm.prank(opA);
        manager.optOut(id);
    }

    function test_RevertWhen_optOutTwice() public {
        uint32 id = _instantAVS(module, sink);
        _optIn(opA, id);
        vm.prank(opA);
        manager.optOut(id);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotOptedIn.selector, id, opA));
        vm.prank(opA);
        manager.optOut(id);
    }

    function test_RevertWhen_optOutUnknownAVS() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownAVS.selector, 3));
        vm.prank(opA);
        manager.optOut(3);
    }

    /// @notice The AVS's admin ejects an operator for good: opted out now (slashable for the deallocation delay, as
    /// any opt-out), its committed backing gone once that window passes, and it can never join again; ejecting
    /// again changes nothing; only the admin, only a known AVS.
    function test_ejectOperator_outForGood() public {
        uint32 id = _instantAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        _warp(1 days);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotAVSAdmin.selector, id, opA));
        vm.prank(opA);
        manager.ejectOperator(id, opA);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownAVS.selector, 9));
        vm.prank(avsAdmin);
        manager.ejectOperator(9, opA);
        vm.expectEmit(address(manager));
        emit IAllocationManager.OperatorOptedOut(id, opA, uint48(block.timestamp + 3 days));
        vm.expectEmit(address(manager));
        emit IAllocationManager.OperatorEjected(id, opA);
        vm.prank(avsAdmin);
        manager.ejectOperator(id, opA);
        IAllocationManager.Membership memory m = manager.membership(id, opA);
        assertFalse(m.optedIn);
        assertTrue(m.ejected);
        assertEq(m.optedOutAt, block.timestamp);
        // Still slashable for the window: it cannot be ejected ahead of a slash.
        assertEq(manager.committedBacking(id, pool), 500 ether);
        assertEq(_slash(module, id, pool, 0.1e18), 50 ether);
        vm.prank(avsAdmin);
        manager.ejectOperator(id, opA); // again: nothing changes
        assertEq(manager.membership(id, opA).optedOutAt, m.optedOutAt);
        _warp(3 days);
        assertEq(manager.committedBacking(id, pool), 0);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.OperatorIsEjected.selector, id, opA));
        vm.prank(opA);
        manager.optIn(id);
        // An operator that never joined can be ejected ahead of time.
        vm.prank(avsAdmin);
        manager.ejectOperator(id, opB);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.OperatorIsEjected.selector, id, opB));
        vm.prank(opB);
        manager.optIn(id);
    }

    /// @dev Isolated 50% (500 WETH) to an instant AVS; the operator opts out at t1. Slashable until t1 + 3 days − 1.
    function _optedOutSetup() internal returns (uint32 id, uint256 t1) {
        id = _instantAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        _warp(1 days);
        t1 = block.timestamp;
        vm.prank(opA);
        manager.optOut(id);
    }

    function test_optOut_staysSlashableForDeallocationDelay() public {
        (uint32 id, uint256 t1) = _optedOutSetup();
        vm.warp(t1 + 3 days - 1);
        assertTrue(manager.isSlashable(id, opA));
        assertEq(manager.slashableBacking(id, pool), 500 ether);
        // 10% of 500 = 50 (5% of the pool, under the guard).
        assertEq(_slash(module, id, pool, 0.1e18), 50 ether);
        assertEq(weth.balanceOf(sink), 50 ether);
    }

    function test_optOut_notSlashableAfterDeallocationDelay() public {
        (uint32 id, uint256 t1) = _optedOutSetup();
        vm.warp(t1 + 3 days);
        assertFalse(manager.isSlashable(id, opA));
        assertEq(manager.slashableBacking(id, pool), 0);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotSlashable.selector, id, pool));
        _slash(module, id, pool, 0.1e18);
    }

    function test_optIn_afterOptOutClearsOptedOutAt() public {
        (uint32 id, uint256 t1) = _optedOutSetup();
        vm.warp(t1 + 10 days);
        assertFalse(manager.isSlashable(id, opA));
        _optIn(opA, id);
        IAllocationManager.Membership memory m = manager.membership(id, opA);
        assertTrue(m.optedIn);
        assertEq(m.optedOutAt, 0);
        // The allocation never went away: 500 is slashable again.
        assertEq(manager.slashableBacking(id, pool), 500 ether);
    }

    // ================================================================== allocate: success paths

    function test_allocate_isolatedIncreaseWaitsInTheSharedStakeAndEmits() public {
        uint32 id = _instantAVS(module, sink);
        _optIn(opA, id);
        vm.expectEmit(address(manager));
        emit IAllocationManager.PoolStateReset(pool, 1); // first touch of the pool
        vm.expectEmit(address(manager));
        emit IAllocationManager.AllocationModified(pool, id, ISO, 0, 0.5e27, uint40(t0 + 1 days));
        _set(opA, pool, id, ISO, 0.5e18);

        IAllocationManager.Allocation memory a = manager.getAllocation(pool, id);
        assertEq(a.current, 0);
        assertEq(a.pending, 0.5e27);
        assertEq(a.effectAt, t0 + 1 days);
        assertEq(uint8(a.mode), uint8(ISO));
        assertEq(a.epoch, 1);
        IAllocationManager.PoolState memory st = manager.getPoolState(pool);
        assertEq(st.totalWeight, W);
        assertEq(st.isolatedWeight, 0, "not in effect: still in the shared stake");
        assertEq(st.pendingIsolated, 0.5e27);
        assertEq(st.pendingIsolatedAt, t0 + 1 days);
        assertEq(st.pendingIsolatedAvs, id);
        assertEq(st.sharedWeight, 0);
        assertEq(st.epoch, 1);
        assertEq(st.generation, 0);
        assertEq(manager.poolRisk(pool).sharedStake, 1000 ether);
        // It takes effect by itself when its delay has passed: views at once, storage at the pool's next touch.
        vm.warp(t0 + 1 days);
        st = manager.getPoolState(pool);
        assertEq(st.isolatedWeight, 0.5e27);
        assertEq(st.pendingIsolated, 0);
        assertEq(manager.getAllocation(pool, id).current, 0.5e27);
        assertEq(manager.poolRisk(pool).sharedStake, 500 ether);
    }

    function test_allocate_sharedIncreaseCommitsSharedWeight() public {
        uint32 id = _instantAVS(module, sink);
        _optIn(opA, id);
        vm.expectEmit(address(manager));
        emit IAllocationManager.AllocationModified(pool, id, SHARED, 0, 0.7e27, uint40(t0 + 1 days));
        _set(opA, pool, id, SHARED, 0.7e18);
        IAllocationManager.PoolState memory st = manager.getPoolState(pool);
        assertEq(st.sharedWeight, 0.7e27);
        assertEq(st.isolatedWeight, 0);
    }

    function test_allocate_allocationDelay() public {
        uint32 id = _instantAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        vm.warp(t0 + 1 days - 1);
        assertEq(manager.slashableBacking(id, pool), 0, "not slashable before the delay");
        assertEq(manager.getAllocation(pool, id).current, 0);
        vm.warp(t0 + 1 days);
        // 0.5e27 · 1,000 / 1e27 = 500.
        assertEq(manager.slashableBacking(id, pool), 500 ether, "full after the delay");
        IAllocationManager.Allocation memory a = manager.getAllocation(pool, id);
        assertEq(a.current, 0.5e27, "pending applied in the view");
        assertEq(a.pending, 0.5e27);
        assertEq(a.effectAt, 0);
    }

    function test_allocate_decreaseKeepsOldAmountSlashableUntilDelay() public {
        uint32 a = _instantAVS(module, sink);
        uint32 b = _instantAVS(module2, sink2);
        _allocate(opA, pool, a, ISO, 0.8e18);
        _warp(1 days);
        uint256 t1 = block.timestamp;
        vm.expectEmit(address(manager));
        emit IAllocationManager.AllocationModified(pool, a, ISO, 0.8e27, 0.3e27, uint40(t1 + 3 days));
        _set(opA, pool, a, ISO, 0.3e18);

        // Until the deallocation takes effect the old 800 stays slashable and committed: B's 50% would need
        // 0.8e27 + 0.5e27 = 1.3e27 of isolated weight, above W = 1e27.
        vm.warp(t1 + 3 days - 1);
        assertEq(manager.slashableBacking(a, pool), 800 ether);
        assertEq(manager.getAllocation(pool, a).current, 0.8e27);
        _optIn(opA, b);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.IsolatedOverCommitted.selector, 1.3e27, W));
        _set(opA, pool, b, ISO, 0.5e18);

        vm.warp(t1 + 3 days);
        assertEq(manager.slashableBacking(a, pool), 300 ether);
        IAllocationManager.Allocation memory al = manager.getAllocation(pool, a);
        assertEq(al.current, 0.3e27);
        assertEq(al.effectAt, 0);
        // The finished deallocation frees its committed weight when applied (by anyone): then B's 50% fits,
        // 0.3e27 + 0.5e27 = 0.8e27 ≤ 1e27.
        vm.prank(stranger);
        manager.applyPending(pool, _ids(a));
        assertEq(manager.getPoolState(pool).isolatedWeight, 0.3e27);
        vm.expectEmit(address(manager));
        emit IAllocationManager.AllocationModified(pool, b, ISO, 0, 0.5e27, uint40(t1 + 4 days));
        _set(opA, pool, b, ISO, 0.5e18);
        assertEq(manager.getPoolState(pool).isolatedWeight, 0.3e27, "pending: still in the shared stake");
        vm.warp(t1 + 4 days);
        assertEq(manager.getPoolState(pool).isolatedWeight, 0.8e27);
    }

    function test_allocate_decreaseSlashedBeforeEffectKeepsOldAmount() public {
        uint32 a = _instantAVS(module, sink);
        _allocate(opA, pool, a, ISO, 0.8e18);
        _warp(1 days);
        _set(opA, pool, a, ISO, 0.3e18);
        _warp(2 days);
        // The pending decrease does not protect the stake: 40% of the still-slashable 800 = 320.
        assertEq(_slash(module, a, pool, 0.4e18), 320 ether);
        // cut = ⌈1e27 · 320/1,000⌉ = 0.32e27: current 0.48e27, pending 0.3e27 − 0.3e27 → 0 (the cut exceeds it).
        IAllocationManager.Allocation memory al = manager.getAllocation(pool, a);
        assertEq(al.current, 0.48e27);
        assertEq(al.pending, 0);
        assertEq(manager.getPoolState(pool).isolatedWeight, 0.48e27);
    }

    function test_allocate_modeCanChangeOnceFullyDeallocated() public {
        uint32 id = _instantAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        _warp(1 days);
        _set(opA, pool, id, ISO, 0);
        _warp(3 days);
        uint256 t1 = block.timestamp;
        vm.expectEmit(address(manager));
        emit IAllocationManager.AllocationModified(pool, id, SHARED, 0, 0.4e27, uint40(t1 + 1 days));
        _set(opA, pool, id, SHARED, 0.4e18);
        IAllocationManager.PoolState memory st = manager.getPoolState(pool);
        assertEq(st.isolatedWeight, 0, "the matured decrease was applied by this call");
        assertEq(st.sharedWeight, 0.4e27);
    }

    function test_allocate_decreaseAllowedWhileNotOptedIn() public {
        uint32 id = _instantAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        _warp(1 days);
        vm.prank(opA);
        manager.optOut(id);
        vm.expectEmit(address(manager));
        emit IAllocationManager.AllocationModified(pool, id, ISO, 0.5e27, 0.1e27, uint40(block.timestamp + 3 days));
        _set(opA, pool, id, ISO, 0.1e18);
    }

    // ================================================================== allocate: reverts

    function test_RevertWhen_allocateModeNone() public {
        uint32 id = _instantAVS(module, sink);
        _optIn(opA, id);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ModeMismatch.selector, NONE, NONE));
        _set(opA, pool, id, NONE, 0.5e18);
    }

    function test_RevertWhen_allocateModeMismatch() public {
        uint32 id = _instantAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        _warp(1 days);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ModeMismatch.selector, ISO, SHARED));
        _set(opA, pool, id, SHARED, 0.2e18);
    }

    function test_RevertWhen_allocateFractionAboveOne() public {
        uint32 id = _instantAVS(module, sink);
        _optIn(opA, id);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidFraction.selector, 1e18 + 1));
        _set(opA, pool, id, ISO, 1e18 + 1);
    }

    function test_RevertWhen_allocateUnknownAVS() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownAVS.selector, 42));
        _set(opA, pool, 42, ISO, 0.5e18);
    }

    function test_RevertWhen_allocateUnknownPool() public {
        uint32 id = _instantAVS(module, sink);
        _optIn(opA, id);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 99));
        _set(opA, 99, id, ISO, 0.5e18);
    }

    function test_RevertWhen_allocateNotPoolOperator() public {
        uint32 id = _instantAVS(module, sink);
        _optIn(opB, id);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotPoolOperator.selector, pool, opB));
        _set(opB, pool, id, ISO, 0.5e18);
    }

    function test_RevertWhen_allocatePendingChange() public {
        uint32 id = _instantAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        vm.warp(t0 + 1 days - 1);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.PendingChange.selector, uint40(t0 + 1 days)));
        _set(opA, pool, id, ISO, 0.6e18);
        // At effectAt the change has matured and a new one is accepted.
        vm.warp(t0 + 1 days);
        _set(opA, pool, id, ISO, 0.6e18);
        assertEq(manager.getAllocation(pool, id).pending, 0.6e27);
    }

    function test_RevertWhen_allocateNoChangeFromZero() public {
        uint32 id = _instantAVS(module, sink);
        _err(IAllocationManager.NoChange.selector);
        _set(opA, pool, id, ISO, 0);
    }

    function test_RevertWhen_allocateNoChangeSameFraction() public {
        uint32 id = _instantAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        _warp(1 days);
        _err(IAllocationManager.NoChange.selector);
        _set(opA, pool, id, ISO, 0.5e18);
    }

    function test_RevertWhen_allocateIncreaseNotOptedIn() public {
        uint32 id = _instantAVS(module, sink);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotOptedIn.selector, id, opA));
        _set(opA, pool, id, ISO, 0.5e18);
    }

    function test_RevertWhen_allocateIncreaseWhileVaultPaused() public {
        uint32 id = _instantAVS(module, sink);
        _optIn(opA, id);
        vm.prank(guardian);
        vault.pause();
        _err(IAllocationManager.AllocationsPaused.selector);
        _set(opA, pool, id, ISO, 0.5e18);
    }

    function test_allocate_decreaseAllowedWhileVaultPaused() public {
        uint32 id = _instantAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        _warp(1 days);
        vm.prank(guardian);
        vault.pause();
        vm.expectEmit(address(manager));
        emit IAllocationManager.AllocationModified(pool, id, ISO, 0.5e27, 0.2e27, uint40(block.timestamp + 3 days));
        _set(opA, pool, id, ISO, 0.2e18);
    }

    function test_RevertWhen_allocateIsolatedOverCommitted() public {
        uint32 a = _instantAVS(module, sink);
        uint32 b = _instantAVS(module2, sink2);
        _allocate(opA, pool, a, ISO, 0.6e18);
        _optIn(opA, b);
        // One pending isolated increase per pool at a time.
        vm.expectRevert(
            abi.encodeWithSelector(IAllocationManager.IsolatedIncreasePending.selector, pool, a, uint40(t0 + 1 days))
        );
        _set(opA, pool, b, ISO, 0.4e18);
        _warp(1 days);
        // 0.6e27 + 0.5e27 = 1.1e27 > 1e27.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.IsolatedOverCommitted.selector, 1.1e27, W));
        _set(opA, pool, b, ISO, 0.5e18);
        // Exactly the rest fits.
        _set(opA, pool, b, ISO, 0.4e18);
        _warp(1 days);
        assertEq(manager.getPoolState(pool).isolatedWeight, W);
    }

    function test_RevertWhen_allocateSharedAboveReuseCap() public {
        uint32 x = _instantAVS(module, sink);
        uint32 y = _instantAVS(module, sink);
        uint32 z = _instantAVS(module, sink);
        uint32 s4 = _instantAVS(module, sink);
        _allocate(opA, pool, x, SHARED, 1e18);
        _allocate(opA, pool, y, SHARED, 1e18);
        _allocate(opA, pool, z, SHARED, 1e18); // 3e27 = 3 × (W − 0): exactly at the default cap
        _optIn(opA, s4);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReuseCapExceeded.selector, 3.1e27, 3e27));
        _set(opA, pool, s4, SHARED, 0.1e18);
    }

    function test_RevertWhen_allocateIsolatedPushesSharedAboveReuseCap() public {
        uint32 x = _instantAVS(module, sink);
        uint32 y = _instantAVS(module, sink);
        uint32 z = _instantAVS(module, sink);
        uint32 i = _instantAVS(module, sink);
        _allocate(opA, pool, x, SHARED, 1e18);
        _allocate(opA, pool, y, SHARED, 1e18);
        _allocate(opA, pool, z, SHARED, 1e18);
        _optIn(opA, i);
        // Isolating 10% shrinks the shared stake to 0.9e27: limit 3 × 0.9e27 = 2.7e27 < 3e27.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReuseCapExceeded.selector, 3e27, 2.7e27));
        _set(opA, pool, i, ISO, 0.1e18);
    }

    function test_RevertWhen_allocateTierPathReuseTooHigh() public {
        // Base cap 10× (path 100,000 ≤ 200,000 while no tier exists), then a tier with the default 3×:
        // path = 30,000 × 100,000 / 10,000 = 300,000 > 200,000.
        manager.setReuseCap(pool, 100_000);
        uint256 tier = _tier(400e18);
        assertEq(_pathReuseBps(tier), 300_000);
        uint32 id = _instantAVS(module, sink);
        _optIn(opB, id);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.PathReuseTooHigh.selector, 300_000, 200_000));
        _set(opB, tier, id, ISO, 0.5e18);
        // A 2× tier cap brings the path to 20,000 × 100,000 / 10,000 = 200,000: allowed.
        manager.setReuseCap(tier, 20_000);
        _set(opB, tier, id, ISO, 0.5e18);
        assertEq(manager.getAllocation(tier, id).pending, 0.5e27);
    }

    // ================================================================== slash: reverts

    function test_RevertWhen_slashNotSlasher() public {
        uint32 id = _instantAVS(module, sink);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotAVSSlasher.selector, id, stranger));
        _slash(stranger, id, pool, 0.1e18);
    }

    function test_RevertWhen_slashUnknownAVS() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownAVS.selector, 5));
        _slash(module, 5, pool, 0.1e18);
    }

    function test_RevertWhen_slashVetoFlowRequired() public {
        uint32 id = _vetoAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        _warp(1 days);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.VetoFlowRequired.selector, id));
        _slash(module, id, pool, 0.1e18);
    }

    function test_RevertWhen_slashZeroFraction() public {
        uint32 id = _instantAVS(module, sink);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidFraction.selector, 0));
        _slash(module, id, pool, 0);
    }

    function test_RevertWhen_slashFractionAboveOne() public {
        uint32 id = _instantAVS(module, sink);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidFraction.selector, 1e18 + 1));
        _slash(module, id, pool, 1e18 + 1);
    }

    function test_RevertWhen_slashAboveMax() public {
        vm.prank(avsAdmin);
        uint32 id = manager.registerAVS("capped", module, sink, address(0), 0, 0.5e18);
        _allocate(opA, pool, id, ISO, 0.5e18);
        _warp(1 days);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.SlashAboveMax.selector, 0.5e18 + 1, 0.5e18));
        _slash(module, id, pool, 0.5e18 + 1);
        // At the cap: 50% of 500 = 250.
        assertEq(_slash(module, id, pool, 0.5e18), 250 ether);
    }

    function test_RevertWhen_slashUnallocatedPool() public {
        uint32 id = _instantAVS(module, sink);
        _optIn(opA, id);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotSlashable.selector, id, pool));
        _slash(module, id, pool, 0.1e18);
    }

    function test_RevertWhen_slashNeverOptedIn() public {
        uint32 id = _instantAVS(module, sink);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotSlashable.selector, id, pool));
        _slash(module, id, pool, 0.1e18);
    }

    function test_slash_allocationNotYetEffectiveTakesNothing() public {
        uint32 id = _instantAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        vm.warp(t0 + 1 days - 1);
        assertEq(manager.slashableBacking(id, pool), 0);
        vm.expectEmit(address(manager));
        emit IAllocationManager.OperatorSlashed(id, pool, opA, 0.5e18, 0, 0);
        assertEq(_slash(module, id, pool, 0.5e18), 0);
        assertEq(weth.balanceOf(sink), 0);
        assertEq(vault.slashableAssets(pool), 1000 ether);
        assertEq(manager.poolRisk(pool).guardUsedWad, 0);
    }

    // ================================================================== slash: success

    function test_slash_isolatedMovesTokensAndWeights() public {
        uint32 id = _instantAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        _warp(1 days);
        // 20% of 500 = 100.
        vm.expectEmit(address(manager));
        emit IAllocationManager.OperatorSlashed(id, pool, opA, 0.2e18, 100 ether, 0);
        assertEq(_slash(module, id, pool, 0.2e18), 100 ether);
        assertEq(weth.balanceOf(sink), 100 ether);
        assertEq(vault.slashableAssets(pool), 900 ether);
        // cut = ⌈1e27 · 100/1,000⌉ = 0.1e27 off the allocation and W.
        IAllocationManager.Allocation memory a = manager.getAllocation(pool, id);
        assertEq(a.current, 0.4e27);
        assertEq(a.pending, 0.4e27);
        IAllocationManager.PoolState memory st = manager.getPoolState(pool);
        assertEq(st.totalWeight, 0.9e27);
        assertEq(st.isolatedWeight, 0.4e27);
        // 0.4e27 · 900 / 0.9e27 = 400.
        assertEq(manager.slashableBacking(id, pool), 400 ether);
        // Alice's 1,000 shares now redeem for 900.
        assertEq(vault.convertToAssets(pool, 1000e18), 900 ether);
    }

    /// @dev A 30% isolated to A, 20% isolated to B, 50% shared to X and 80% shared to Y (shared stake 500).
    function test_slash_isolatedLeavesOtherCompartmentsWhole() public {
        uint32 a = _instantAVS(module, sink);
        uint32 b = _instantAVS(module2, sink2);
        uint32 x = _instantAVS(module3, sink3);
        uint32 y = _instantAVS(module3, sink3);
        _allocate(opA, pool, a, ISO, 0.3e18);
        _allocate(opA, pool, b, ISO, 0.2e18);
        _allocate(opA, pool, x, SHARED, 0.5e18);
        _allocate(opA, pool, y, SHARED, 0.8e18); // Σ shared 1.3e27 ≤ 3 × 0.5e27
        _warp(1 days);
        assertEq(manager.slashableBacking(a, pool), 300 ether);
        assertEq(manager.slashableBacking(b, pool), 200 ether);
        assertEq(manager.slashableBacking(x, pool), 500 ether);
        assertEq(manager.slashableBacking(y, pool), 500 ether, "min(0.8e27, 0.5e27) -> 500");

        // A slashes 50% of 300 = 150. cut = ⌈1e27 · 150/1,000⌉ = 0.15e27: W 0.85e27, iso 0.35e27, V 850.
        assertEq(_slash(module, a, pool, 0.5e18), 150 ether);
        assertEq(manager.slashableBacking(a, pool), 150 ether, "0.15e27 * 850 / 0.85e27");
        assertEq(manager.slashableBacking(b, pool), 200 ether, "0.2e27 * 850 / 0.85e27: unchanged");
        assertEq(manager.slashableBacking(x, pool), 500 ether, "shared stake 0.85e27 - 0.35e27 = 0.5e27: unchanged");
        assertEq(manager.slashableBacking(y, pool), 500 ether);
        IAllocationManager.PoolRisk memory r = manager.poolRisk(pool);
        assertEq(r.value, 850 ether);
        assertEq(r.totalIsolated, 350 ether);
        assertEq(r.sharedStake, 500 ether);
        assertEq(r.totalShared, 1300 ether);
        assertEq(r.reuseRatioWad, 2.6e18);
        assertEq(r.guardUsedWad, 0.15e18);
        assertEq(weth.balanceOf(sink), 150 ether);
        assertEq(weth.balanceOf(sink2), 0);
        assertEq(weth.balanceOf(sink3), 0);
    }

    /// @dev I 20% isolated (200); X 60% and Y 30% shared over a shared stake of 800.
    function test_slash_sharedIsElastic() public {
        uint32 i = _instantAVS(module, sink);
        uint32 x = _instantAVS(module2, sink2);
        uint32 y = _instantAVS(module3, sink3);
        _allocate(opA, pool, i, ISO, 0.2e18);
        _allocate(opA, pool, x, SHARED, 0.6e18);
        _allocate(opA, pool, y, SHARED, 0.3e18);
        _warp(1 days);
        assertEq(manager.slashableBacking(x, pool), 600 ether);
        assertEq(manager.slashableBacking(y, pool), 300 ether);

        // X takes 50% of 600 = 300: cut 0.3e27, W 0.7e27, V 700. Shared stake (0.7 − 0.2)e27 → 500 ≥ Y's 300:
        // Y keeps its 300; I keeps 0.2e27 · 700 / 0.7e27 = 200.
        assertEq(_slash(module2, x, pool, 0.5e18), 300 ether);
        assertEq(manager.slashableBacking(x, pool), 300 ether);
        assertEq(manager.slashableBacking(y, pool), 300 ether, "shared stake still above Y's limit");
        assertEq(manager.slashableBacking(i, pool), 200 ether);
        assertEq(manager.poolRisk(pool).sharedStake, 500 ether);

        // Two days later (the guard's windows have both passed) X takes all of its 300 (300/700 ≈ 43% < 50%):
        // cut 0.3e27, W 0.4e27, V 400. Shared stake (0.4 − 0.2)e27 → 200 < Y's 300: Y falls to 200. I still 200.
        _warp(2 days);
        assertEq(_slash(module2, x, pool, 1e18), 300 ether);
        assertEq(manager.slashableBacking(x, pool), 0);
        assertEq(manager.slashableBacking(y, pool), 200 ether, "elastic: capped by the shared stake");
        assertEq(manager.slashableBacking(i, pool), 200 ether);
        assertEq(manager.poolRisk(pool).sharedStake, 200 ether);
        assertEq(weth.balanceOf(sink2), 600 ether);
    }

    function test_slash_sharedSlashPushesPoolOverReuseCap() public {
        uint32 x = _instantAVS(module, sink);
        uint32 y = _instantAVS(module2, sink2);
        uint32 z = _instantAVS(module3, sink3);
        _allocate(opA, pool, x, SHARED, 1e18);
        _allocate(opA, pool, y, SHARED, 1e18);
        _allocate(opA, pool, z, SHARED, 1e18);
        _warp(1 days);
        // X takes 40% of 1,000 = 400: cut 0.4e27, W 0.6e27, shared weights 3e27 − 0.4e27 = 2.6e27 against a limit
        // of 3 × 0.6e27 = 1.8e27.
        assertEq(_slash(module, x, pool, 0.4e18), 400 ether);
        IAllocationManager.PoolRisk memory r = manager.poolRisk(pool);
        assertEq(r.value, 600 ether);
        assertEq(r.sharedStake, 600 ether);
        // Committed: 2.6e27 of shared limits. Slashable: scaled to the cap, 3 × 600 = 1,800 (P4).
        assertEq(manager.getPoolState(pool).sharedWeight, 2.6e27);
        assertEq(r.totalShared, 1800 ether, "min(2.6e27, 3 * 0.6e27) * 600 / 0.6e27");
        assertEq(r.reuseRatioWad, 3e18, "never above the cap");
        assertEq(r.reuseCapWad, 3e18);
        // Y and Z: min(1e27, 0.6e27) · 1.8/2.6 → 415.38 each; X: min(0.6e27, 0.6e27) · 1.8/2.6 the same.
        uint256 scaled = uint256(0.6e27) * 1.8e27 / 2.6e27 * 600 ether / 0.6e27;
        assertEq(manager.slashableBacking(y, pool), scaled);
        assertEq(
            manager.slashableBacking(x, pool) + manager.slashableBacking(y, pool) + manager.slashableBacking(z, pool),
            3 * scaled
        );
        assertLe(3 * scaled, 1800 ether);

        // New shared weight is refused: 1% of 0.6e27 = 0.006e27 on top of 2.6e27.
        uint32 s4 = _instantAVS(module, sink);
        _optIn(opA, s4);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReuseCapExceeded.selector, 2.606e27, 1.8e27));
        _set(opA, pool, s4, SHARED, 0.01e18);
        // So is new isolated weight (it shrinks the shared stake): 10% = 0.06e27, limit 3 × 0.54e27 = 1.62e27.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReuseCapExceeded.selector, 2.6e27, 1.62e27));
        _set(opA, pool, s4, ISO, 0.1e18);
        // A decrease goes through: Y from 1e27 to 50% of W = 0.3e27.
        vm.expectEmit(address(manager));
        emit IAllocationManager.AllocationModified(pool, y, SHARED, 1e27, 0.3e27, uint40(block.timestamp + 3 days));
        _set(opA, pool, y, SHARED, 0.5e18);
    }

    function test_allocations_followDepositsAndMaturedWithdrawalsProRata() public {
        uint32 i = _instantAVS(module, sink);
        uint32 x = _instantAVS(module2, sink2);
        _allocate(opA, pool, i, ISO, 0.5e18);
        _allocate(opA, pool, x, SHARED, 0.3e18);
        _warp(1 days);
        assertEq(manager.slashableBacking(i, pool), 500 ether);
        assertEq(manager.slashableBacking(x, pool), 300 ether);

        // bob deposits 500 at price 1: V 1,500, weights unchanged, every allocation × 1.5.
        _deposit(bob, opA, weth, 500 ether);
        assertEq(manager.slashableBacking(i, pool), 750 ether);
        assertEq(manager.slashableBacking(x, pool), 450 ether);
        assertEq(manager.getAllocation(pool, i).current, 0.5e27, "weights do not move");

        // alice queues 600 shares (= 600 WETH). Still slashable until maturity.
        uint256 tq = block.timestamp;
        _queue(alice, pool, 600e18);
        vm.warp(tq + ESCROW - 1);
        assertEq(manager.slashableBacking(i, pool), 750 ether);
        // At maturity V = 900: every allocation × 900/1,500 = 0.6.
        vm.warp(tq + ESCROW);
        assertEq(vault.slashableAssets(pool), 900 ether);
        assertEq(manager.slashableBacking(i, pool), 450 ether);
        assertEq(manager.slashableBacking(x, pool), 270 ether);
        IAllocationManager.PoolRisk memory r = manager.poolRisk(pool);
        assertEq(r.totalIsolated, 450 ether);
        assertEq(r.sharedStake, 450 ether);
        assertEq(r.totalShared, 270 ether);
    }

    // ================================================================== cascade guard

    /// @dev X and Y both 100% shared over the whole 1,000, each with its own sink.
    function _guardSetup() internal returns (uint32 x, uint32 y) {
        x = _instantAVS(module, sink);
        y = _instantAVS(module2, sink2);
        _allocate(opA, pool, x, SHARED, 1e18);
        _allocate(opA, pool, y, SHARED, 1e18);
        _warp(1 days);
    }

    function test_guard_secondSlashCutToOneSixthOfWhatIsLeft() public {
        (uint32 x, uint32 y) = _guardSetup();
        // X takes 40% of 1,000 = 400: bucket 0.4. V 600, W 0.6e27, Y backed by min(1e27, 0.6e27) → 600.
        assertEq(_slash(module, x, pool, 0.4e18), 400 ether);
        assertEq(manager.poolRisk(pool).guardUsedWad, 0.4e18);
        assertEq(manager.slashableBacking(y, pool), 600 ether);

        // Y asks 40% of 600 = 240. The bucket counts the fraction of the window's starting value lost, compounding:
        // 0.4 + (240/600)(1 − 0.4) = 0.64 > 0.5. What fits: 0.4 + f(1 − 0.4) = 0.5 → f = 0.1/0.6 = 1/6 of the
        // 600 left = 100 (= the 10 points of the original 1,000 still allowed).
        vm.expectEmit(address(manager));
        emit IAllocationManager.CascadeGuardTripped(pool, y, 240 ether, 100 ether);
        vm.expectEmit(address(manager));
        emit IAllocationManager.OperatorSlashed(y, pool, opA, 0.4e18, 100 ether, 0);
        assertEq(_slash(module2, y, pool, 0.4e18), 100 ether);
        assertEq(weth.balanceOf(sink2), 100 ether);
        assertEq(vault.slashableAssets(pool), 500 ether, "exactly half the day's starting value is gone");
        assertEq(manager.poolRisk(pool).guardUsedWad, 0.5e18);

        // A full bucket lets nothing through.
        vm.expectEmit(address(manager));
        emit IAllocationManager.CascadeGuardTripped(pool, x, 50 ether, 0);
        assertEq(_slash(module, x, pool, 0.1e18), 0, "10% of X's 500");
        assertEq(vault.slashableAssets(pool), 500 ether);
    }

    function test_guard_windowsAreHard() public {
        (uint32 x, uint32 y) = _guardSetup();
        // The guard's windows are [k days, (k + 1) days). Slash at the last second of window k.
        uint256 k = block.timestamp / 1 days;
        vm.warp((k + 1) * 1 days - 1);
        _slash(module, x, pool, 0.4e18);
        _slash(module2, y, pool, 0.4e18); // cap reached at 0.5, V 500
        assertEq(manager.poolRisk(pool).guardUsedWad, 0.5e18);
        // One second later window k + 1 starts, but window k still counts: nothing more can leave before window k + 2, so no
        // span of one day ever loses more than half (a leaky bucket would let 0.5 · 1/86,400 more out here).
        vm.warp((k + 1) * 1 days);
        assertEq(manager.poolRisk(pool).guardUsedWad, 0.5e18);
        vm.expectEmit(address(manager));
        emit IAllocationManager.CascadeGuardTripped(pool, x, 100 ether, 0);
        assertEq(_slash(module, x, pool, 0.2e18), 0);
        vm.warp((k + 2) * 1 days - 1);
        assertEq(_slash(module, x, pool, 0.2e18), 0);
        assertEq(vault.slashableAssets(pool), 500 ether);
        // Window k + 2: window k + 1 lost nothing, so the whole cap is back.
        vm.warp((k + 2) * 1 days);
        assertEq(manager.poolRisk(pool).guardUsedWad, 0);
        // W: 1e27 − 0.4e27 − ⌈0.6e27 · 100/600⌉ = 0.5e27; X's weight 0.6e27 → min(0.6, 0.5)e27 → 500.
        // X takes 20% of 500 = 100 in full: (100/500) = 0.2 ≤ 0.5.
        assertEq(_slash(module, x, pool, 0.2e18), 100 ether);
        assertEq(manager.poolRisk(pool).guardUsedWad, 0.2e18);
        // The next window still sees this loss; the one after sees none.
        vm.warp((k + 3) * 1 days);
        assertEq(manager.poolRisk(pool).guardUsedWad, 0.2e18);
        vm.warp((k + 4) * 1 days);
        assertEq(manager.poolRisk(pool).guardUsedWad, 0);
    }

    // ================================================================== full slash: pool reset

    function test_fullSlash_resetsPoolStateAndPoolCanBeAllocatedAgain() public {
        manager.setGuard(1e18, 1 days);
        uint32 x = _instantAVS(module, sink);
        _allocate(opA, pool, x, ISO, 1e18);
        _warp(1 days);
        assertEq(_slash(module, x, pool, 1e18), 1000 ether);
        assertEq(vault.slashableAssets(pool), 0);
        assertEq(vault.getPool(pool).generation, 1);

        // The view already shows the new epoch: W back to 1e27, no allocations.
        IAllocationManager.PoolState memory st = manager.getPoolState(pool);
        assertEq(st.epoch, 2);
        assertEq(st.generation, 1);
        assertEq(st.totalWeight, W);
        assertEq(st.isolatedWeight, 0);
        assertEq(st.sharedWeight, 0);
        IAllocationManager.Allocation memory a = manager.getAllocation(pool, x);
        assertEq(a.current, 0);
        assertEq(a.pending, 0);
        assertEq(uint8(a.mode), uint8(NONE));
        assertEq(a.epoch, 2);
        assertEq(manager.slashableBacking(x, pool), 0);

        // bob brings 500 to the fresh generation (price 1 again); the old allocation is gone.
        _deposit(bob, opA, weth, 500 ether);
        assertEq(manager.slashableBacking(x, pool), 0, "the old epoch's allocation does not back the new stake");
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotSlashable.selector, x, pool));
        _slash(module, x, pool, 0.1e18);

        vm.expectEmit(address(manager));
        emit IAllocationManager.PoolStateReset(pool, 2);
        vm.expectEmit(address(manager));
        emit IAllocationManager.AllocationModified(pool, x, ISO, 0, 0.5e27, uint40(block.timestamp + 1 days));
        _set(opA, pool, x, ISO, 0.5e18);
        _warp(1 days);
        // 0.5e27 · 500 / 1e27 = 250; the guard (100%/day) has drained. 10% of 250 = 25.
        assertEq(manager.slashableBacking(x, pool), 250 ether);
        assertEq(_slash(module, x, pool, 0.1e18), 25 ether);
        assertEq(weth.balanceOf(sink), 1025 ether);
    }

    // ================================================================== requestSlash

    function test_requestSlash_storesAndEmits() public {
        uint32 id = _vetoAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        _warp(1 days);
        uint40 at = uint40(block.timestamp + 1 days);
        vm.expectEmit(address(manager));
        emit IAllocationManager.SlashRequested(1, id, pool, 0.5e18, at);
        vm.expectEmit(address(manager));
        emit IAllocationManager.IsolatedIncreasesDelayed(pool, at + 1 days); // until it can no longer execute
        assertEq(_request(module, id, pool, 0.5e18), 1);
        assertEq(manager.getPoolState(pool).slashPendingUntil, at + 1 days);
        assertEq(manager.requestCount(), 1);
        IAllocationManager.Request memory r = manager.getRequest(1);
        assertEq(r.avsId, id);
        assertEq(r.poolId, pool);
        assertEq(r.fractionWad, 0.5e18);
        assertEq(r.executableAt, at);
        assertEq(uint8(r.status), uint8(IAllocationManager.RequestStatus.Pending));
        // Nothing moves until execution.
        assertEq(vault.slashableAssets(pool), 1000 ether);
        assertEq(_request(module, id, pool, 0.1e18), 2);
        // An unknown request reads as all zeros.
        assertEq(uint8(manager.getRequest(3).status), uint8(IAllocationManager.RequestStatus.None));
    }

    function test_RevertWhen_requestSlashNoVetoFlow() public {
        uint32 id = _instantAVS(module, sink);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NoVetoFlow.selector, id));
        _request(module, id, pool, 0.5e18);
    }

    function test_RevertWhen_requestSlashNotSlasher() public {
        uint32 id = _vetoAVS(module, sink);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotAVSSlasher.selector, id, resolver));
        _request(resolver, id, pool, 0.5e18);
    }

    function test_RevertWhen_requestSlashInvalidFraction() public {
        uint32 id = _vetoAVS(module, sink);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidFraction.selector, 0));
        _request(module, id, pool, 0);
    }

    function test_RevertWhen_requestSlashAboveMax() public {
        vm.prank(avsAdmin);
        uint32 id = manager.registerAVS("capped", module, sink, resolver, 1 days, 0.3e18);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.SlashAboveMax.selector, 0.4e18, 0.3e18));
        _request(module, id, pool, 0.4e18);
    }

    function test_RevertWhen_requestSlashNothingAllocated() public {
        uint32 id = _vetoAVS(module, sink);
        _optIn(opA, id);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotSlashable.selector, id, pool));
        _request(module, id, pool, 0.5e18);
    }

    function test_RevertWhen_requestSlashAllocationNotYetEffective() public {
        uint32 id = _vetoAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        vm.warp(t0 + 1 days - 1);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotSlashable.selector, id, pool));
        _request(module, id, pool, 0.5e18);
    }

    // ================================================================== vetoSlash

    /// @dev A vetoable AVS with 50% isolated (500) and one pending request of 50%, executable at t1 + 1 day.
    function _requested() internal returns (uint32 id, uint64 req, uint40 at) {
        id = _vetoAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        _warp(1 days);
        req = _request(module, id, pool, 0.5e18);
        at = uint40(block.timestamp + 1 days);
    }

    function test_vetoSlash_marksVetoedAndEmits() public {
        (, uint64 req, uint40 at) = _requested();
        vm.warp(at - 1);
        vm.expectEmit(address(manager));
        emit IAllocationManager.SlashVetoed(req, resolver);
        vm.prank(resolver);
        manager.vetoSlash(req);
        assertEq(uint8(manager.getRequest(req).status), uint8(IAllocationManager.RequestStatus.Vetoed));
    }

    function test_RevertWhen_vetoSlashUnknownRequest() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownRequest.selector, 1));
        vm.prank(resolver);
        manager.vetoSlash(1);
        _requested();
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownRequest.selector, 2));
        vm.prank(resolver);
        manager.vetoSlash(2);
    }

    function test_RevertWhen_vetoSlashNotResolver() public {
        (, uint64 req,) = _requested();
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotResolver.selector, req, module));
        vm.prank(module);
        manager.vetoSlash(req);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotResolver.selector, req, avsAdmin));
        vm.prank(avsAdmin);
        manager.vetoSlash(req);
    }

    function test_RevertWhen_vetoSlashAtExactlyExecutableAt() public {
        (, uint64 req, uint40 at) = _requested();
        vm.warp(at);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.VetoWindowClosed.selector, req, at));
        vm.prank(resolver);
        manager.vetoSlash(req);
        // And it executes: 50% of 500 = 250.
        assertEq(_execute(module, req), 250 ether);
    }

    function test_RevertWhen_vetoSlashTwice() public {
        (, uint64 req,) = _requested();
        vm.prank(resolver);
        manager.vetoSlash(req);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAllocationManager.RequestNotPending.selector, req, IAllocationManager.RequestStatus.Vetoed
            )
        );
        vm.prank(resolver);
        manager.vetoSlash(req);
    }

    function test_vetoSlash_vetoedRequestNeverExecutes() public {
        (, uint64 req, uint40 at) = _requested();
        vm.prank(resolver);
        manager.vetoSlash(req);
        bytes memory notPending = abi.encodeWithSelector(
            IAllocationManager.RequestNotPending.selector, req, IAllocationManager.RequestStatus.Vetoed
        );
        vm.warp(at);
        vm.expectRevert(notPending);
        _execute(module, req);
        vm.warp(at + 1 days);
        vm.expectRevert(notPending);
        _execute(module, req);
        assertEq(weth.balanceOf(sink), 0);
        assertEq(vault.slashableAssets(pool), 1000 ether);
    }

    // ================================================================== executeSlash

    function test_executeSlash_atExecutableAt() public {
        (uint32 id, uint64 req, uint40 at) = _requested();
        vm.warp(at);
        vm.expectEmit(address(manager));
        emit IAllocationManager.OperatorSlashed(id, pool, opA, 0.5e18, 250 ether, req);
        assertEq(_execute(module, req), 250 ether);
        assertEq(weth.balanceOf(sink), 250 ether);
        assertEq(uint8(manager.getRequest(req).status), uint8(IAllocationManager.RequestStatus.Executed));
        assertEq(manager.slashableBacking(id, pool), 250 ether);
    }

    function test_executeSlash_atLastSecondOfExecutionWindow() public {
        (, uint64 req, uint40 at) = _requested();
        vm.warp(at + 1 days);
        assertEq(_execute(module, req), 250 ether);
    }

    function test_RevertWhen_executeSlashUnknownRequest() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownRequest.selector, 9));
        _execute(module, 9);
    }

    function test_RevertWhen_executeSlashNotSlasher() public {
        (uint32 id, uint64 req, uint40 at) = _requested();
        vm.warp(at);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotAVSSlasher.selector, id, resolver));
        _execute(resolver, req);
    }

    function test_RevertWhen_executeSlashVetoWindowOpen() public {
        (, uint64 req, uint40 at) = _requested();
        vm.warp(at - 1);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.VetoWindowOpen.selector, req, at));
        _execute(module, req);
    }

    function test_RevertWhen_executeSlashExpired() public {
        (, uint64 req, uint40 at) = _requested();
        vm.warp(at + 1 days + 1);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.RequestExpired.selector, req, at + 1 days));
        _execute(module, req);
        assertEq(weth.balanceOf(sink), 0);
        assertEq(uint8(manager.getRequest(req).status), uint8(IAllocationManager.RequestStatus.Pending));
    }

    function test_RevertWhen_executeSlashTwice() public {
        (, uint64 req, uint40 at) = _requested();
        vm.warp(at);
        _execute(module, req);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAllocationManager.RequestNotPending.selector, req, IAllocationManager.RequestStatus.Executed
            )
        );
        _execute(module, req);
        assertEq(weth.balanceOf(sink), 250 ether);
    }

    // ================================================================== veto flow: audit cases

    function test_vetoFlow_amountReboundedByDeallocationInBetween() public {
        uint32 id = _vetoAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.8e18);
        _warp(1 days);
        uint256 t1 = block.timestamp;
        _set(opA, pool, id, ISO, 0.2e18); // takes effect at t1 + 3 days
        vm.warp(t1 + 2 days);
        assertEq(manager.slashableBacking(id, pool), 800 ether);
        uint64 req = _request(module, id, pool, 0.5e18); // executable at t1 + 3 days
        vm.warp(t1 + 3 days);
        assertEq(manager.slashableBacking(id, pool), 200 ether);
        // 50% of the backing at execution (200), not of the 800 at request time.
        assertEq(_execute(module, req), 100 ether);
        assertEq(weth.balanceOf(sink), 100 ether);
    }

    function test_vetoFlow_amountReboundedBySlashInBetween() public {
        uint32 v = _vetoAVS(module, sink);
        uint32 y = _instantAVS(module2, sink2);
        _allocate(opA, pool, v, SHARED, 1e18);
        _allocate(opA, pool, y, SHARED, 1e18);
        _warp(1 days);
        uint64 req = _request(module, v, pool, 0.25e18); // 25% of 1,000 = 250 at request time
        _warp(1 hours);
        // Y takes 20% = 200: W 0.8e27 = the shared stake; V's backing min(1e27, 0.8e27) → 800.
        assertEq(_slash(module2, y, pool, 0.2e18), 200 ether);
        assertEq(manager.slashableBacking(v, pool), 800 ether);
        vm.warp(block.timestamp + 23 hours);
        // 25% of 800 = 200, not the 250 of request time. (The bucket has drained 0.5 · 23/24 > 0.2: 0.25 ≤ 0.5.)
        assertEq(_execute(module, req), 200 ether);
        assertEq(vault.slashableAssets(pool), 600 ether);
    }

    function test_vetoFlow_overlappingRequestsNeverExceedBacking() public {
        uint32 id = _vetoAVS(module, sink);
        _allocate(opA, pool, id, ISO, 0.5e18);
        _warp(1 days);
        uint64 r1 = _request(module, id, pool, 0.6e18);
        uint64 r2 = _request(module, id, pool, 0.6e18);
        _warp(1 days);
        // First: 60% of 500 = 300. cut 0.3e27: allocation 0.2e27, W 0.7e27, V 700 → backing 200.
        assertEq(_execute(module, r1), 300 ether);
        assertEq(manager.slashableBacking(id, pool), 200 ether);
        // Second: 60% of what is left = 120 (guard 0.3 + (120/700) · 0.7 = 0.42 ≤ 0.5).
        assertEq(_execute(module, r2), 120 ether);
        assertEq(weth.balanceOf(sink), 420 ether, "300 + 120 <= 500");
        // cut ⌈0.7e27 · 120/700⌉ = 0.12e27: allocation 0.08e27, W 0.58e27, V 580 → 80.
        assertEq(manager.slashableBacking(id, pool), 80 ether);
    }

    function test_vetoFlow_optOutDoesNotEscapePendingRequest() public {
        (uint32 id, uint64 req, uint40 at) = _requested();
        vm.prank(opA);
        manager.optOut(id);
        vm.warp(at + 1 days); // the last second of the execution window: 2 days < the 3-day opt-out tail
        assertEq(_execute(module, req), 250 ether);
    }

    function test_vetoFlow_fullSlashInBetweenMakesRequestUnexecutable() public {
        manager.setGuard(1e18, 1 days);
        uint32 v = _vetoAVS(module, sink);
        uint32 x = _instantAVS(module2, sink2);
        _allocate(opA, pool, v, SHARED, 1e18);
        _allocate(opA, pool, x, SHARED, 1e18);
        _warp(1 days);
        uint64 req = _request(module, v, pool, 0.5e18);
        assertEq(_slash(module2, x, pool, 1e18), 1000 ether);
        _deposit(bob, opA, weth, 100 ether);
        _warp(1 days);
        // The pool started a new epoch: the old allocation backs nothing.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotSlashable.selector, v, pool));
        _execute(module, req);
    }

    // ================================================================== applyPending

    function test_applyPending_appliesOnlyMaturedChanges() public {
        uint32 a = _instantAVS(module, sink);
        uint32 b = _instantAVS(module2, sink2);
        uint32 c = _instantAVS(module3, sink3);
        _allocate(opA, pool, a, ISO, 0.6e18);
        _allocate(opA, pool, b, SHARED, 0.5e18);
        _warp(1 days);
        uint256 t1 = block.timestamp;
        _set(opA, pool, a, ISO, 0.1e18); // decrease: matures at t1 + 3 days
        _allocate(opA, pool, c, SHARED, 0.4e18); // increase: matures at t1 + 1 day
        // b's increase matured at t1 and was never applied in storage.
        vm.warp(t1 + 1 days);
        uint32[] memory ids = new uint32[](4);
        (ids[0], ids[1], ids[2], ids[3]) = (a, b, c, 77);

        vm.recordLogs();
        vm.prank(stranger); // anyone
        manager.applyPending(pool, ids);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        // b and c are due; a is not (t1 + 3 days) and AVS 77 has nothing: two events, in order.
        assertEq(logs.length, 2);
        _assertApplied(logs[0], b, SHARED, 0.5e27);
        _assertApplied(logs[1], c, SHARED, 0.4e27);
        IAllocationManager.PoolState memory st = manager.getPoolState(pool);
        assertEq(st.isolatedWeight, 0.6e27, "a's decrease still committed");
        assertEq(st.sharedWeight, 0.9e27, "increases were committed when made");

        vm.warp(t1 + 3 days);
        vm.recordLogs();
        manager.applyPending(pool, ids);
        logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        _assertApplied(logs[0], a, ISO, 0.1e27);
        assertEq(manager.getPoolState(pool).isolatedWeight, 0.1e27);

        // Nothing left to apply: a no-op.
        vm.recordLogs();
        manager.applyPending(pool, ids);
        assertEq(vm.getRecordedLogs().length, 0);
    }

    function _assertApplied(Vm.Log memory log, uint32 avsId, IAllocationManager.Mode mode, uint96 weight)
        internal
        view
    {
        assertEq(log.emitter, address(manager));
        assertEq(log.topics[0], IAllocationManager.AllocationModified.selector);
        assertEq(uint256(log.topics[1]), pool);
        assertEq(uint256(log.topics[2]), avsId);
        (IAllocationManager.Mode m, uint96 current, uint96 pending, uint40 effectAt) =
            abi.decode(log.data, (IAllocationManager.Mode, uint96, uint96, uint40));
        assertEq(uint8(m), uint8(mode));
        assertEq(current, weight);
        assertEq(pending, weight);
        assertEq(effectAt, 0);
    }

    function test_applyPending_returnsStakeToTheSharedSide() public {
        uint32 i = _instantAVS(module, sink);
        uint32 x = _instantAVS(module2, sink2);
        _allocate(opA, pool, i, ISO, 0.8e18);
        _allocate(opA, pool, x, SHARED, 0.6e18); // the cap: 3 × (1 − 0.8) = 0.6
        _warp(1 days);
        _set(opA, pool, i, ISO, 0);
        _warp(3 days);
        assertEq(manager.slashableBacking(i, pool), 0);
        // Until applied, the shared side still counts the committed 0.8e27: min(0.6, 0.2)e27 → 200.
        assertEq(manager.slashableBacking(x, pool), 200 ether);
        assertEq(manager.poolRisk(pool).totalIsolated, 800 ether);
        manager.applyPending(pool, _ids(i));
        assertEq(manager.slashableBacking(x, pool), 600 ether);
        IAllocationManager.PoolRisk memory r = manager.poolRisk(pool);
        assertEq(r.totalIsolated, 0);
        assertEq(r.sharedStake, 1000 ether);
        assertEq(r.reuseRatioWad, 0.6e18);
    }

    function test_applyPending_skipsAllocationsOfAnEndedEpoch() public {
        manager.setGuard(1e18, 1 days);
        uint32 x = _instantAVS(module, sink);
        _allocate(opA, pool, x, ISO, 1e18);
        _warp(1 days);
        _set(opA, pool, x, ISO, 0.5e18); // pending decrease; the full 1,000 stays slashable
        assertEq(_slash(module, x, pool, 1e18), 1000 ether); // the vault pool starts generation 1
        _warp(3 days);
        _deposit(bob, opA, weth, 100 ether);
        vm.recordLogs();
        manager.applyPending(pool, _ids(x));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        // Only the pool's reset: the old epoch's decrease is not applied to the new one.
        assertEq(logs.length, 1);
        assertEq(logs[0].topics[0], IAllocationManager.PoolStateReset.selector);
        assertEq(abi.decode(logs[0].data, (uint16)), 2);
        assertEq(manager.getPoolState(pool).isolatedWeight, 0);
        assertEq(manager.getAllocation(pool, x).current, 0);
    }

    function test_RevertWhen_applyPendingUnknownPool() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 9));
        manager.applyPending(9, _ids(1));
    }

    // ================================================================== isolated increases under a decided slash

    function test_pendingRequest_delaysIsolatedIncreasesNeverRefusesThem() public {
        (uint32 v,, uint40 at) = _requested(); // v: isolated 50%
        uint40 until = at + 1 days;
        uint32 i = _instantAVS(module2, sink2);
        uint32 x = _instantAVS(module3, sink3);
        _optIn(opA, i);
        _optIn(opA, x);
        // Accepted, but it takes effect only after the request's last executable second.
        vm.expectEmit(address(manager));
        emit IAllocationManager.AllocationModified(pool, i, ISO, 0, 0.1e27, until + 1);
        _set(opA, pool, i, ISO, 0.1e18);
        IAllocationManager.PoolState memory st = manager.getPoolState(pool);
        assertEq(st.pendingIsolated, 0.1e27);
        assertEq(st.pendingIsolatedAt, until + 1);
        assertEq(st.pendingIsolatedAvs, i);
        // One pending isolated increase per pool at a time.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.IsolatedIncreasePending.selector, pool, i, until + 1));
        _set(opA, pool, v, ISO, 0.6e18);
        // Shared increases and isolated decreases never shrink a shared backing: as usual.
        _set(opA, pool, x, SHARED, 0.3e18);
        _set(opA, pool, v, ISO, 0.4e18);
        vm.warp(until);
        assertEq(manager.poolRisk(pool).sharedStake, 500 ether, "still in the shared stake");
        assertEq(manager.getAllocation(pool, i).current, 0);
        vm.warp(until + 1);
        assertEq(manager.poolRisk(pool).sharedStake, 400 ether, "out of the shared stake now");
        assertEq(manager.getAllocation(pool, i).current, 0.1e27);
        assertEq(manager.slashableBacking(i, pool), 100 ether);
    }

    function test_pendingIsolatedIncrease_cannotShrinkARequestedSharedSlash() public {
        uint32 s = _vetoAVS(module, sink);
        _allocate(opA, pool, s, SHARED, 1e18);
        vm.prank(opA);
        uint32 own = manager.registerAVS("own", opA, opA, address(0), 0, 1e18); // the operator's own AVS
        _optIn(opA, own);
        _warp(1 days);
        uint64 req = _request(module, s, pool, 0.5e18);
        // Isolating 60% would cut the shared stake (and s's backing) to 400 if it took effect before the execution.
        _set(opA, pool, own, ISO, 0.6e18);
        assertEq(manager.slashableBacking(s, pool), 1000 ether);
        _warp(1 days);
        assertEq(manager.slashableBacking(s, pool), 1000 ether, "matured after its allocation delay, not yet in effect");
        assertEq(_execute(module, req), 500 ether, "50% of the whole 1,000");
        _warp(1 days + 1);
        // In effect now, clipped to the stake left: 0.6e27 of the 0.5e27 left after the slash (W 0.5e27, no isolated).
        assertEq(manager.getAllocation(pool, own).current, 0.5e27);
    }

    function test_pendingIsolatedIncrease_staysSlashableByAnInstantSharedSlash() public {
        uint32 s = _instantAVS(module, sink);
        _allocate(opA, pool, s, SHARED, 1e18);
        vm.prank(opA);
        uint32 own = manager.registerAVS("own", opA, opA, address(0), 0, 1e18);
        _optIn(opA, own);
        _warp(1 days);
        // The operator sees the instant slash coming and commits an isolated increase first: nothing escapes.
        _set(opA, pool, own, ISO, 0.5e18);
        assertEq(_slash(module, s, pool, 0.5e18), 500 ether);
    }

    function test_announce_delaysIsolatedIncreasesAndExtendsOnlyLater() public {
        (uint32 v,, uint40 at) = _requested();
        vm.recordLogs();
        _request(module, v, pool, 0.1e18); // same instant: same deadline, no new event
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].topics[0], IAllocationManager.SlashRequested.selector);
        _warp(1 hours);
        vm.expectEmit(address(manager));
        emit IAllocationManager.IsolatedIncreasesDelayed(pool, at + 1 days + 1 hours);
        vm.prank(module);
        manager.announceSlash(v, pool);
        assertEq(manager.getPoolState(pool).slashPendingUntil, at + 1 days + 1 hours);
        // Only the AVS's slasher, only with a veto flow, only where it has backing.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotAVSSlasher.selector, v, stranger));
        vm.prank(stranger);
        manager.announceSlash(v, pool);
        uint32 inst = _instantAVS(module2, sink2);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NoVetoFlow.selector, inst));
        vm.prank(module2);
        manager.announceSlash(inst, pool);
    }

    function test_tierRequest_delaysIsolatedIncreasesOnTheTierOnly() public {
        uint256 tier = _tier(400e18);
        uint32 t = _vetoAVS(module, sink);
        _allocate(opB, tier, t, ISO, 1e18);
        uint32 i = _instantAVS(module2, sink2);
        _optIn(opA, i);
        _warp(1 days);
        assertEq(manager.slashableBacking(t, tier), 400 ether);
        uint40 until = uint40(block.timestamp + 2 days);
        vm.recordLogs();
        _request(module, t, tier, 0.5e18);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 delayed;
        for (uint256 k; k < logs.length; ++k) {
            if (logs[k].topics[0] != IAllocationManager.IsolatedIncreasesDelayed.selector) continue;
            ++delayed;
            assertEq(uint256(logs[k].topics[1]), tier, "only the tier waits");
            assertEq(abi.decode(logs[k].data, (uint40)), until);
        }
        assertEq(delayed, 1);
        // A tier slash never draws on the base pool, so an isolated increase on the base does not wait for it.
        _set(opA, pool, i, ISO, 0.9e18);
        assertEq(manager.getAllocation(pool, i).effectAt, block.timestamp + ALLOC_DELAY);
    }

    // ================================================================== setReuseCap

    function test_setReuseCap_setsAndEmits() public {
        vm.expectEmit(address(manager));
        emit IAllocationManager.ReuseCapSet(pool, 40_000);
        manager.setReuseCap(pool, 40_000);
        assertEq(_reuseCapBps(pool), 40_000);
        assertEq(_pathReuseBps(pool), 40_000);
        assertEq(manager.poolRisk(pool).reuseCapWad, 4e18);

        // 4× lets a fourth full shared allocation in (3.1e27 would exceed the 3× default).
        uint32 x = _instantAVS(module, sink);
        uint32 y = _instantAVS(module, sink);
        uint32 z = _instantAVS(module, sink);
        uint32 s4 = _instantAVS(module, sink);
        _allocate(opA, pool, x, SHARED, 1e18);
        _allocate(opA, pool, y, SHARED, 1e18);
        _allocate(opA, pool, z, SHARED, 1e18);
        _allocate(opA, pool, s4, SHARED, 1e18);
        assertEq(manager.getPoolState(pool).sharedWeight, 4e27);

        // 0 goes back to the protocol default.
        vm.expectEmit(address(manager));
        emit IAllocationManager.ReuseCapSet(pool, 0);
        manager.setReuseCap(pool, 0);
        assertEq(_pathReuseBps(pool), 30_000);
    }

    function test_RevertWhen_setReuseCapNotOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        manager.setReuseCap(pool, 40_000);
    }

    function test_RevertWhen_setReuseCapAboveMax() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReuseCapTooHigh.selector, 100_001, 100_000));
        manager.setReuseCap(pool, 100_001);
    }

    function test_RevertWhen_setReuseCapBreaksItsOwnTierPath() public {
        uint256 tier = _tier(400e18);
        assertEq(_pathReuseBps(tier), 90_000, "3x * 3x");
        // The tier at 7×: 70,000 × 30,000 / 10,000 = 210,000 > 200,000.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.PathReuseTooHigh.selector, 210_000, 200_000));
        manager.setReuseCap(tier, 70_000);
        manager.setReuseCap(tier, 60_000);
        assertEq(_pathReuseBps(tier), 180_000);
        assertEq(manager.poolRisk(tier).pathReuseWad, 18e18);
    }

    function test_setReuseCap_baseDoesNotWalkItsTiersButTheyStayBounded() public {
        uint256 tier = _tier(400e18);
        // Base at 10×: the tier's path would be 300,000 > 200,000. Checking every tier over the base here would walk a
        // set anyone can grow, so the base's cap is set and the tier is held to the path maximum on its increases.
        manager.setReuseCap(pool, 100_000);
        assertEq(_pathReuseBps(tier), 300_000);
        uint32 t = _instantAVS(module, sink);
        _optIn(opB, t);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.PathReuseTooHigh.selector, 300_000, 200_000));
        _set(opB, tier, t, SHARED, 0.1e18);
    }

    function test_RevertWhen_setReuseCapUnknownPool() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 2));
        manager.setReuseCap(2, 20_000);
    }

    // ================================================================== setProtocolLimits

    function test_setProtocolLimits_setsAndEmits() public {
        vm.expectEmit(address(manager));
        emit IAllocationManager.ProtocolLimitsSet(20_000, 50_000, 150_000);
        manager.setProtocolLimits(20_000, 50_000, 150_000);
        assertEq(manager.defaultReuseCapBps(), 20_000);
        assertEq(manager.maxReuseCapBps(), 50_000);
        assertEq(manager.maxPathReuseBps(), 150_000);
        // A pool without its own cap follows the new default.
        assertEq(_pathReuseBps(pool), 20_000);
        assertEq(manager.poolRisk(pool).reuseCapWad, 2e18);
    }

    function test_RevertWhen_setProtocolLimitsNotOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        manager.setProtocolLimits(20_000, 50_000, 150_000);
    }

    function test_RevertWhen_setProtocolLimitsDefaultAboveMax() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReuseCapTooHigh.selector, 50_001, 50_000));
        manager.setProtocolLimits(50_001, 50_000, 200_000);
    }

    function test_setProtocolLimits_clampsPoolCapsWithoutAWalk() public {
        manager.setReuseCap(pool, 80_000);
        assertEq(_reuseCapBps(pool), 80_000);
        // A lower maximum applies to every pool where its cap is read: no loop over pools that anyone can open.
        manager.setProtocolLimits(30_000, 50_000, 200_000);
        assertEq(_reuseCapBps(pool), 50_000);
        assertEq(manager.poolRisk(pool).reuseCapWad, 5e18);
        assertEq(_pathReuseBps(pool), 50_000);
    }

    function test_setProtocolLimits_lowerPathMaximumRefusesIncreases() public {
        uint256 tier = _tier(400e18);
        manager.setProtocolLimits(30_000, 100_000, 80_000);
        uint32 t = _instantAVS(module, sink);
        _optIn(opB, t);
        // Tier path 3× · 3× = 90,000 > 80,000: refused on the increase.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.PathReuseTooHigh.selector, 90_000, 80_000));
        _set(opB, tier, t, SHARED, 0.1e18);
    }

    // ================================================================== setGuard

    function test_setGuard_setsAndEmits() public {
        vm.expectEmit(address(manager));
        emit IAllocationManager.GuardSet(0.3e18, 2 days);
        manager.setGuard(0.3e18, 2 days);
        assertEq(manager.guardMaxFractionWad(), 0.3e18);
        assertEq(manager.guardWindow(), 2 days);
    }

    function test_RevertWhen_setGuardNotOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        manager.setGuard(0.3e18, 2 days);
    }

    function test_RevertWhen_setGuardZeroFraction() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidGuard.selector, 0, 1 days));
        manager.setGuard(0, 1 days);
    }

    function test_RevertWhen_setGuardFractionAboveOne() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidGuard.selector, 1e18 + 1, 1 days));
        manager.setGuard(1e18 + 1, 1 days);
    }

    function test_RevertWhen_setGuardZeroWindow() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidGuard.selector, 0.5e18, 0));
        manager.setGuard(0.5e18, 0);
    }

    // ================================================================== ownership (Ownable2Step)

    function test_ownership_twoStepTransfer() public {
        address newOwner = makeAddr("newOwner");
        manager.transferOwnership(newOwner);
        assertEq(manager.owner(), address(this), "nothing changes before acceptance");
        assertEq(manager.pendingOwner(), newOwner);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        manager.acceptOwnership();
        vm.prank(newOwner);
        manager.acceptOwnership();
        assertEq(manager.owner(), newOwner);
        // The old owner lost governance; the new one has it.
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        manager.setGuard(0.3e18, 1 days);
        vm.prank(newOwner);
        manager.setGuard(0.3e18, 1 days);
        assertEq(manager.guardMaxFractionWad(), 0.3e18);
    }

    // ================================================================== views

    function test_getAVS_unknownReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownAVS.selector, 1));
        manager.getAVS(1);
    }

    function test_views_untouchedPool() public view {
        IAllocationManager.PoolState memory st = manager.getPoolState(pool);
        assertEq(st.totalWeight, W, "a fresh pool reads as synced");
        assertEq(st.epoch, 1);
        IAllocationManager.Allocation memory a = manager.getAllocation(pool, 1);
        assertEq(a.current, 0);
        assertEq(a.epoch, 1);
        IAllocationManager.PoolRisk memory r = manager.poolRisk(pool);
        assertEq(r.poolId, pool);
        assertEq(r.value, 1000 ether);
        assertEq(r.totalIsolated, 0);
        assertEq(r.sharedStake, 1000 ether);
        assertEq(r.totalShared, 0);
        assertEq(r.reuseRatioWad, 0);
        assertEq(r.reuseCapWad, 3e18);
        assertEq(r.pathReuseWad, 3e18);
        assertEq(r.guardUsedWad, 0);
        assertEq(manager.slashableBacking(1, pool), 0);
    }

    function test_poolRisk_everyField() public {
        uint32 i = _instantAVS(module, sink);
        uint32 x = _instantAVS(module2, sink2);
        uint32 y = _instantAVS(module3, sink3);
        _allocate(opA, pool, i, ISO, 0.4e18);
        _allocate(opA, pool, x, SHARED, 0.6e18);
        _allocate(opA, pool, y, SHARED, 0.3e18);
        manager.setReuseCap(pool, 25_000);
        // Once in effect: isolated 400, shared stake 600, Σ shared 900 → ratio 1.5.
        _warp(1 days);
        IAllocationManager.PoolRisk memory r = manager.poolRisk(pool);
        assertEq(r.poolId, pool);
        assertEq(r.value, 1000 ether);
        assertEq(r.totalIsolated, 400 ether);
        assertEq(r.sharedStake, 600 ether);
        assertEq(r.totalShared, 900 ether);
        assertEq(r.reuseRatioWad, 1.5e18);
        assertEq(r.reuseCapWad, 2.5e18);
        assertEq(r.pathReuseWad, 2.5e18);
        assertEq(r.guardUsedWad, 0);

        // X takes 10% of 600 = 60: cut 0.06e27, W 0.94e27, V 940. Isolated 0.4e27 · 940/0.94e27 = 400;
        // shared stake 540; Σ shared (0.54 + 0.3)e27 → 840; ratio 840/540 = 1.5555…; guard 0.06.
        assertEq(_slash(module2, x, pool, 0.1e18), 60 ether);
        r = manager.poolRisk(pool);
        assertEq(r.value, 940 ether);
        assertEq(r.totalIsolated, 400 ether);
        assertEq(r.sharedStake, 540 ether);
        assertEq(r.totalShared, 840 ether);
        assertEq(r.reuseRatioWad, 1_555_555_555_555_555_555);
        assertEq(r.guardUsedWad, 0.06e18);
        // The next window still counts this one; two windows later the guard is empty.
        _warp(1 days);
        assertEq(manager.poolRisk(pool).guardUsedWad, 0.06e18);
        _warp(1 days);
        assertEq(manager.poolRisk(pool).guardUsedWad, 0);
    }

    function test_poolRisk_ratioWhenNoSharedStakeLeft() public {
        uint32 i = _instantAVS(module, sink);
        _allocate(opA, pool, i, ISO, 1e18);
        _warp(1 days);
        IAllocationManager.PoolRisk memory r = manager.poolRisk(pool);
        assertEq(r.totalIsolated, 1000 ether);
        assertEq(r.sharedStake, 0);
        assertEq(r.reuseRatioWad, 0, "no shared stake and nothing shared");
    }

    function test_poolRisk_ratioMaxWhenSharedStakeGoneButSharedWeightLeft() public {
        uint32 i = _instantAVS(module, sink);
        uint32 x = _instantAVS(module2, sink2);
        uint32 y = _instantAVS(module3, sink3);
        _allocate(opA, pool, i, ISO, 0.5e18);
        _allocate(opA, pool, x, SHARED, 0.5e18);
        _allocate(opA, pool, y, SHARED, 0.5e18);
        _warp(1 days);
        // X takes its whole 500 (exactly the 50% guard): W 0.5e27 = iso, so no shared stake; Y's 0.5e27 remains
        // committed, but nothing backs it: the slashable shared total is 0 (at most 3 × 0).
        assertEq(_slash(module2, x, pool, 1e18), 500 ether);
        IAllocationManager.PoolRisk memory r = manager.poolRisk(pool);
        assertEq(r.value, 500 ether);
        assertEq(r.totalIsolated, 500 ether);
        assertEq(r.sharedStake, 0);
        assertEq(r.totalShared, 0);
        assertEq(r.reuseRatioWad, 0);
        assertEq(manager.getPoolState(pool).sharedWeight, 0.5e27);
        assertEq(manager.slashableBacking(y, pool), 0);
        assertEq(manager.slashableBacking(i, pool), 500 ether);
    }

    function test_avsBacking_totalAndBreakdown() public {
        (uint256 poolB,) = _deposit(bob, opB, weth, 400 ether);
        _deposit(bob, opA, usdc, 1000e6); // a third pool, never allocated to the AVS
        uint32 x = _instantAVS(module, sink);
        _allocate(opA, pool, x, ISO, 0.5e18);
        _warp(1 days);
        _allocate(opB, poolB, x, SHARED, 0.25e18);

        (uint256 total, IAllocationManager.Backing[] memory b) = _lens().avsBacking(x);
        assertEq(total, 500 ether, "poolB's 100 is not slashable yet");
        assertEq(b.length, 2);
        assertEq(b[0].poolId, pool);
        assertEq(b[0].operator, opA);
        assertEq(uint8(b[0].mode), uint8(ISO));
        assertEq(b[0].assets, 500 ether);
        assertEq(b[0].allocated, 500 ether);
        assertEq(b[1].poolId, poolB);
        assertEq(b[1].operator, opB);
        assertEq(uint8(b[1].mode), uint8(SHARED));
        assertEq(b[1].assets, 0);
        assertEq(b[1].allocated, 100 ether, "pending included: 0.25e27 * 400 / 1e27");

        _warp(1 days);
        // Pool A: decrease to 20% pending; the old 500 still counts until it takes effect.
        _set(opA, pool, x, ISO, 0.2e18);
        (total, b) = _lens().avsBacking(x);
        assertEq(total, 600 ether);
        assertEq(b[0].assets, 500 ether);
        assertEq(b[0].allocated, 500 ether);
        assertEq(b[1].assets, 100 ether);
        assertEq(b[1].allocated, 100 ether);

        // Once the decrease has matured (not yet applied in storage) both numbers follow it: 0.2e27 · 1,000 / 1e27.
        _warp(3 days);
        (total, b) = _lens().avsBacking(x);
        assertEq(total, 300 ether);
        assertEq(b[0].assets, 200 ether);
        assertEq(b[0].allocated, 200 ether);
    }

    function _lens() internal view returns (IAllocationLens) {
        return IAllocationLens(manager.lens());
    }

    /// @notice The manager creates its lens, which reads it.
    function test_lens_createdByTheManager() public view {
        assertEq(address(_lens().manager()), address(manager));
        assertEq(manager.lens(), vm.computeCreateAddress(address(manager), 1));
    }

    function test_avsBacking_emptyAndUnknown() public {
        uint32 x = _instantAVS(module, sink);
        (uint256 total, IAllocationManager.Backing[] memory b) = _lens().avsBacking(x);
        assertEq(total, 0);
        assertEq(b.length, 0);
        IAllocationLens lens = _lens();
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownAVS.selector, 2));
        lens.avsBacking(2);
    }

    function test_pathReuseBps_baseAndTier() public {
        assertEq(_pathReuseBps(pool), 30_000);
        manager.setReuseCap(pool, 50_000);
        uint256 tier = _tier(400e18);
        assertEq(_pathReuseBps(pool), 50_000);
        // 30,000 (tier default) × 50,000 / 10,000.
        assertEq(_pathReuseBps(tier), 150_000);
        manager.setReuseCap(tier, 20_000);
        assertEq(_pathReuseBps(tier), 100_000);
        IAllocationManager.PoolRisk memory r = manager.poolRisk(tier);
        assertEq(r.reuseCapWad, 2e18);
        assertEq(r.pathReuseWad, 10e18);
    }

    function test_slashableBacking_tierIsItsOwnFractionAndLeavesTheBase() public {
        uint32 i = _instantAVS(module, sink);
        uint32 t = _instantAVS(module2, sink2);
        _allocate(opA, pool, i, ISO, 0.8e18); // base shared stake: 200
        uint256 tier = _tier(500e18); // 500 base shares = 500 WETH
        _allocate(opB, tier, t, ISO, 1e18);
        _warp(1 days);
        assertEq(vault.slashableAssets(tier), 500 ether);
        assertEq(
            manager.slashableBacking(t, tier), 500 ether, "the tier's own fraction, more than the base's shared stake"
        );

        // T takes all it can: its own guard (50% a day) cuts it to 250, paid in 250 base shares.
        assertEq(_slash(module2, t, tier, 1e18), 250 ether);
        assertEq(weth.balanceOf(sink2), 0);
        assertEq(_sharesOf(sink2, pool), 250 ether);
        // The base does not move: I keeps 800, the shared stake 200, the base's guard is unused.
        assertEq(manager.slashableBacking(i, pool), 800 ether);
        assertEq(manager.poolRisk(pool).sharedStake, 200 ether);
        assertEq(manager.poolRisk(pool).guardUsedWad, 0);
        assertEq(vault.slashableAssets(tier), 250 ether);
        assertEq(manager.slashableBacking(t, tier), 250 ether);
    }

    // ================================================================== views in call units; a slash that takes nothing

    function test_allocationOf_speaksTheUnitsAllocateTakes() public {
        uint32 x = _instantAVS(module, sink);
        _optIn(opA, x);
        _set(opA, pool, x, ISO, 0.3e18);
        IAllocationManager.AllocationView memory v = _lens().allocationOf(pool, x);
        assertEq(uint8(v.mode), uint8(ISO));
        assertEq(v.fractionWad, 0, "nothing in effect during the allocation delay");
        assertEq(v.pendingFractionWad, 0.3e18, "the fraction allocate took");
        assertEq(v.effectAt, block.timestamp + 1 days);
        assertEq(v.backing, 0);
        // The raw view keeps weights on the pool's 1e27 scale.
        assertEq(manager.getAllocation(pool, x).pending, 0.3e27);

        _warp(1 days);
        v = _lens().allocationOf(pool, x);
        assertEq(v.fractionWad, 0.3e18);
        assertEq(v.pendingFractionWad, 0, "a change that took effect reads as none");
        assertEq(v.effectAt, 0);
        assertEq(v.backing, 300 ether);

        _set(opA, pool, x, ISO, 0.1e18);
        v = _lens().allocationOf(pool, x);
        assertEq(v.fractionWad, 0.3e18, "still slashable during the deallocation delay");
        assertEq(v.pendingFractionWad, 0.1e18);
        assertEq(v.effectAt, block.timestamp + 3 days);
        _warp(3 days);
        v = _lens().allocationOf(pool, x);
        (uint64 f, uint64 p, uint40 at) = (v.fractionWad, v.pendingFractionWad, v.effectAt);
        assertEq(f, 0.1e18);
        assertEq(p, 0);
        assertEq(at, 0);
        // Nothing allocated at all: all zeros, mode None.
        assertEq(uint8(_lens().allocationOf(pool, _instantAVS(module2, sink2)).mode), uint8(NONE));
    }

    function test_slash_thatTakesNothing_saysWhy() public {
        uint32 x = _instantAVS(module, sink);
        _optIn(opA, x);
        _set(opA, pool, x, ISO, 0.5e18);
        // Before the allocation delay: nothing is slashable yet, and the event says so.
        vm.expectEmit(address(manager));
        emit IAllocationManager.SlashTookNothing(x, pool, IAllocationManager.NothingReason.NotYetEffective);
        assertEq(_slash(module, x, pool, 1e18), 0);

        // The guard full (50% a day by default): the next slash in the window takes nothing, for that reason.
        _warp(1 days);
        assertEq(_slash(module, x, pool, 1e18), 500 ether);
        uint32 y = _instantAVS(module2, sink2);
        _optIn(opA, y);
        _set(opA, pool, y, SHARED, 1e18);
        _warp(1 days);
        assertGt(manager.slashableBacking(y, pool), 0);
        assertEq(_slash(module2, y, pool, 1e18), 0, "the previous window's 50% still counts");
        // Fully deallocated (still opted in): no backing.
        _set(opA, pool, y, SHARED, 0);
        _warp(3 days);
        vm.expectEmit(address(manager));
        emit IAllocationManager.SlashTookNothing(y, pool, IAllocationManager.NothingReason.NoBacking);
        assertEq(_slash(module2, y, pool, 1e18), 0);
    }

    function test_slash_ofADustBacking_saysTooSmall() public {
        (uint256 dust,) = _deposit(bob, opB, weth, 3); // 3 wei
        uint32 x = _instantAVS(module, sink);
        _optIn(opB, x);
        _set(opB, dust, x, ISO, 0.5e18);
        _warp(1 days);
        assertEq(manager.slashableBacking(x, dust), 1, "half of 3 wei");
        vm.expectEmit(address(manager));
        emit IAllocationManager.SlashTookNothing(x, dust, IAllocationManager.NothingReason.TooSmall);
        assertEq(_slash(module, x, dust, 0.5e18), 0, "half of 1 wei rounds to nothing");
    }

    function test_slash_cutToNothingByTheGuard_saysTheGuardIsFull() public {
        uint32 x = _instantAVS(module, sink);
        uint32 y = _instantAVS(module2, sink2);
        _optIn(opA, x);
        _optIn(opA, y);
        _set(opA, pool, x, SHARED, 1e18);
        _set(opA, pool, y, SHARED, 1e18);
        _warp(1 days);
        assertEq(_slash(module, x, pool, 1e18), 500 ether, "the default guard: 50% a day");
        vm.expectEmit(address(manager));
        emit IAllocationManager.SlashTookNothing(y, pool, IAllocationManager.NothingReason.GuardFull);
        assertEq(_slash(module2, y, pool, 1e18), 0);
    }
}
