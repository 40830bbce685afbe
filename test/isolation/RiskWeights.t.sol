// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IReputationHooks} from "../../contracts/interfaces/IReputationHooks.sol";
import {IsolationFixture} from "../utils/IsolationFixture.sol";
import {FaultyReputation} from "../mocks/FaultyReputation.sol";

/// @notice The manager's half of issue 16: risk-weighted reuse and the bond gate, driven by the address the owner
/// names as the reputation contract (a stub whose veto hook can be made to fail: these tests are about the manager's
/// rules; `Reputation.t.sol` drives them from the real contract).
/// Promises, per staker of a pool:
/// - R1: Σ over shared AVSs of backing · risk weight never exceeds the reuse cap times the shared stake, after any
///   sequence of allocations, standings and re-pricings (so a pool's stakers carry less reused risk behind new AVSs).
/// - R2: a bond-short AVS receives no new allocation or increase; what it has stays slashable.
/// - R3: a rating drop never blocks a slash; re-pricing brings the pool back under its cap by scaling.
contract RiskWeightsTest is IsolationFixture {
    FaultyReputation internal hook;
    address internal reputation;
    address internal staker = makeAddr("staker");
    uint256 internal pool;

    function setUp() public override {
        super.setUp();
        hook = new FaultyReputation();
        reputation = address(hook);
        (pool,) = _deposit(staker, opA, weth, 1000 ether);
    }

    // ================================================================== helpers

    function _reputationOn() internal {
        manager.setReputation(reputation);
    }

    function _standing(uint32 avsId, uint8 riskWeightTenths, bool bondShort) internal {
        vm.prank(reputation);
        manager.setStanding(avsId, riskWeightTenths, bondShort);
    }

    /// @dev A registered AVS in good standing at `riskWeightTenths`.
    function _avsAt(address module_, uint8 riskWeightTenths) internal returns (uint32 avsId) {
        avsId = _instantAVS(module_, sink);
        _standing(avsId, riskWeightTenths, false);
    }

    function _share(uint32 avsId, uint64 fractionWad) internal {
        _allocate(opA, pool, avsId, IAllocationManager.Mode.Shared, fractionWad);
    }

    /// @dev Σ backing_i · rw_i / 10 over `ids`, in assets.
    function _weightedBacking(uint32[] memory ids, uint8[] memory weights) internal view returns (uint256 sum) {
        for (uint256 i; i < ids.length; ++i) {
            sum += manager.slashableBacking(ids[i], pool) * weights[i] / 10;
        }
    }

    // ================================================================== risk-weighted reuse

    /// @dev Under the default 3× cap, three seasoned (1×) AVSs can each take the whole pool shared, but one new (3×)
    /// AVS already fills the cap: a second new one is refused.
    function test_seasonedAVSsGetMoreSharedStakeThanNewOnes() public {
        _reputationOn();
        uint32 s1 = _avsAt(makeAddr("s1"), 10);
        uint32 s2 = _avsAt(makeAddr("s2"), 10);
        uint32 s3 = _avsAt(makeAddr("s3"), 10);
        _share(s1, 1e18);
        _share(s2, 1e18);
        _share(s3, 1e18);
        assertEq(manager.getPoolState(pool).sharedWeight, 3e27, "three at 1x fill 3x exactly");

        // Another pool, same cap: new AVSs count three times.
        (uint256 poolB,) = _deposit(staker, opB, weth, 1000 ether);
        uint32 n1 = _avsAt(makeAddr("n1"), 30);
        uint32 n2 = _avsAt(makeAddr("n2"), 30);
        _allocate(opB, poolB, n1, IAllocationManager.Mode.Shared, 1e18);
        assertEq(manager.getPoolState(poolB).sharedWeight, 3e27, "one new AVS at 3x fills the cap");
        vm.startPrank(opB);
        manager.optIn(n2);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReuseCapExceeded.selector, 3e27 + 0.3e27, 3e27));
        manager.allocate(poolB, n2, IAllocationManager.Mode.Shared, 0.1e18);
        vm.stopPrank();
    }

    /// @dev Without a reputation contract every AVS counts at 1×, as before issue 16.
    function test_withoutReputationEveryAVSCountsOnce() public {
        uint32 a = _instantAVS(makeAddr("a"), sink);
        assertEq(manager.getAVS(a).riskWeightTenths, 10);
        assertFalse(manager.getAVS(a).bondShort);
        _share(a, 0.5e18);
        assertEq(manager.getPoolState(pool).sharedWeight, 0.5e27);
        assertEq(manager.getAllocation(pool, a).riskWeightTenths, 10);
    }

    /// @dev An increase re-prices the whole allocation at today's weight: an AVS cannot keep an old, lighter weight
    /// for what it already had by topping up.
    function test_increaseRepricesTheWholeAllocation() public {
        _reputationOn();
        uint32 a = _avsAt(module, 10);
        _share(a, 0.5e18);
        _standing(a, 20, false);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _share(a, 0.6e18);
        assertEq(manager.getPoolState(pool).sharedWeight, 1.2e27, "0.6 at 2x, the old 0.5 included");
        assertEq(manager.getAllocation(pool, a).riskWeightTenths, 20);
    }

    /// @dev R3: a rating drop, once re-priced (anyone, `applyPending`), puts the pool over its cap: new shared
    /// increases are refused, every shared backing is scaled so that Σ backing·rw = cap · shared stake, and slashes
    /// still go through.
    function test_ratingDropRepricedScalesBackingsAndNeverBlocksASlash() public {
        _reputationOn();
        uint32 a = _avsAt(makeAddr("a"), 10);
        uint32 b = _avsAt(module, 10);
        _share(a, 1e18);
        _share(b, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        assertEq(manager.slashableBacking(b, pool), 1000 ether);

        _standing(a, 40, false);
        uint32[] memory ids = new uint32[](1);
        ids[0] = a;
        vm.expectEmit(true, true, false, true, address(manager));
        emit IAllocationManager.RiskWeightRefreshed(pool, a, 10, 40);
        manager.applyPending(pool, ids);
        assertEq(manager.getPoolState(pool).sharedWeight, 5e27, "1x4 + 1x1");

        // Scaled by 3/5: 600 each; Σ backing·rw = 600·4 + 600·1 = 3000 = 3 × 1000.
        assertEq(manager.slashableBacking(a, pool), 600 ether);
        assertEq(manager.slashableBacking(b, pool), 600 ether);
        uint32[] memory all = new uint32[](2);
        (all[0], all[1]) = (a, b);
        uint8[] memory w = new uint8[](2);
        (w[0], w[1]) = (40, 10);
        assertLe(_weightedBacking(all, w), 3 * 1000 ether);

        // No new shared increase while over the cap.
        uint32 c = _avsAt(makeAddr("c"), 10);
        vm.startPrank(opA);
        manager.optIn(c);
        vm.expectRevert();
        manager.allocate(pool, c, IAllocationManager.Mode.Shared, 0.01e18);
        vm.stopPrank();

        // The slash is not blocked: b takes half of what it can slash now.
        uint256 taken = _slash(module, b, pool, 0.5e18);
        assertEq(taken, 300 ether);
    }

    /// @dev Re-pricing changes nothing when the weight did not move, and ignores isolated allocations.
    function test_repriceIsANoOpWithoutChange() public {
        _reputationOn();
        uint32 a = _avsAt(makeAddr("a"), 20);
        uint32 i = _avsAt(makeAddr("i"), 30);
        _share(a, 0.5e18);
        _allocate(opA, pool, i, IAllocationManager.Mode.Isolated, 0.2e18);
        uint128 before = manager.getPoolState(pool).sharedWeight;
        uint32[] memory ids = new uint32[](2);
        (ids[0], ids[1]) = (a, i);
        manager.applyPending(pool, ids);
        assertEq(manager.getPoolState(pool).sharedWeight, before);
    }

    // ================================================================== the bond gate

    /// @dev R2: with reputation on, a new AVS is bond-short: nothing can be allocated to it until the reputation
    /// contract clears it. Then a short AVS keeps what it has (slashable) and may be deallocated.
    function test_bondShortAVSGetsNoNewBackingButStaysSlashable() public {
        _reputationOn();
        uint32 a = _instantAVS(module, sink);
        assertTrue(manager.getAVS(a).bondShort, "a new identity has no bond");
        vm.startPrank(opA);
        manager.optIn(a);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.BondBelowRequirement.selector, a));
        manager.allocate(pool, a, IAllocationManager.Mode.Isolated, 0.2e18);
        vm.stopPrank();

        _standing(a, 30, false);
        _allocate(opA, pool, a, IAllocationManager.Mode.Isolated, 0.2e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _standing(a, 30, true);

        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.BondBelowRequirement.selector, a));
        manager.allocate(pool, a, IAllocationManager.Mode.Isolated, 0.3e18);
        assertEq(_slash(module, a, pool, 0.5e18), 100 ether, "still slashable: half of its 200");
        vm.prank(opA);
        manager.allocate(pool, a, IAllocationManager.Mode.Isolated, 0.05e18);
    }

    // ================================================================== access and bad input

    function test_setStandingOnlyByTheReputationContract() public {
        _reputationOn();
        uint32 a = _instantAVS(module, sink);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotReputation.selector, address(this)));
        manager.setStanding(a, 20, false);
        assertTrue(manager.getAVS(a).bondShort);
    }

    function test_setStandingRejectsWeightsOutOfRange() public {
        _reputationOn();
        uint32 a = _instantAVS(module, sink);
        vm.startPrank(reputation);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidRiskWeight.selector, uint8(9)));
        manager.setStanding(a, 9, false);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidRiskWeight.selector, uint8(51)));
        manager.setStanding(a, 51, false);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownAVS.selector, uint32(99)));
        manager.setStanding(99, 20, false);
        vm.stopPrank();
        assertEq(manager.getAVS(a).riskWeightTenths, 10);
    }

    function test_setReputation_refusesAnAccountWithoutCode() public {
        address eoa = makeAddr("eoa");
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NoCode.selector, eoa));
        manager.setReputation(eoa);
        assertEq(address(manager.reputation()), address(0));
    }

    /// @dev A vetoable request of a new AVS on `pool`, with reputation on.
    function _pendingRequest() internal returns (uint64 requestId) {
        _reputationOn();
        uint32 avsId = _vetoAVS(module, sink);
        _standing(avsId, 30, false);
        _allocate(opA, pool, avsId, IAllocationManager.Mode.Isolated, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        vm.prank(module);
        requestId = manager.requestSlash(avsId, pool, 0.5e18);
    }

    /// @notice The reputation contract is wired once, so a fault of its own must never block a veto: a hook that
    /// reverts leaves the veto standing (`ReputationHookFailed`), one that runs out of gas, or says its payment did,
    /// reverts the veto (more gas would have paid the penalty).
    function test_veto_standsWhateverTheHookDoes_exceptForWantOfGas() public {
        uint64 id = _pendingRequest();
        hook.setFault(FaultyReputation.Fault.Revert);
        vm.expectEmit(address(manager));
        emit IAllocationManager.ReputationHookFailed(id, abi.encodeWithSelector(FaultyReputation.Broken.selector, id));
        vm.prank(resolver);
        manager.vetoSlash(id);
        assertEq(uint8(manager.getRequest(id).status), uint8(IAllocationManager.RequestStatus.Vetoed));
    }

    function test_veto_revertsWhenTheHookRunsOutOfGas() public {
        uint64 id = _pendingRequest();
        hook.setFault(FaultyReputation.Fault.OutOfGas);
        vm.prank(resolver);
        (bool ok,) = address(manager).call{gas: 1_000_000}(abi.encodeCall(manager.vetoSlash, (id)));
        assertFalse(ok, "a veto whose hook ran out of gas went through");
        assertEq(uint8(manager.getRequest(id).status), uint8(IAllocationManager.RequestStatus.Pending));
        hook.setFault(FaultyReputation.Fault.PenaltyOutOfGas);
        vm.prank(resolver);
        vm.expectRevert(IReputationHooks.PenaltyOutOfGas.selector);
        manager.vetoSlash(id);
        hook.setFault(FaultyReputation.Fault.None);
        vm.prank(resolver);
        manager.vetoSlash(id);
        assertEq(uint8(manager.getRequest(id).status), uint8(IAllocationManager.RequestStatus.Vetoed));
    }

    function test_setReputation_ownerOnly_wiredOnce() public {
        vm.prank(opA);
        vm.expectRevert();
        manager.setReputation(reputation);
        assertEq(address(manager.reputation()), address(0));
        vm.expectEmit(false, false, false, true, address(manager));
        emit IAllocationManager.ReputationSet(reputation);
        manager.setReputation(reputation);
        // Wired once (finding F4): never detached nor swapped, and never an account without code (every veto calls it).
        vm.expectRevert(IAllocationManager.ZeroAddress.selector);
        manager.setReputation(address(0));
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReputationAlreadySet.selector, reputation));
        manager.setReputation(opA);
    }

    // ================================================================== fuzz: R1 after any sequence

    /// @dev Random standings, shared allocations, re-pricings, slashes and time: the pool's weighted sum is always
    /// exactly Σ ⌊committed_i · rw_i / 10⌋, and Σ backing_i · rw_i / 10 never exceeds cap · shared stake (+ rounding).
    function testFuzz_weightedReuseStaysUnderTheCap(uint256 seed) public {
        _reputationOn();
        uint32[] memory ids = new uint32[](3);
        address[] memory modules = new address[](3);
        for (uint256 k; k < 3; ++k) {
            modules[k] = makeAddr(string.concat("m", vm.toString(k)));
            ids[k] = _avsAt(modules[k], 10);
            vm.prank(opA);
            manager.optIn(ids[k]);
        }
        for (uint256 step; step < 24; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            uint256 k = r % 3;
            uint256 op = (r >> 8) % 5;
            if (op == 0) {
                _standing(ids[k], uint8(10 + (r >> 16) % 41), false);
            } else if (op == 1) {
                vm.prank(opA);
                try manager.allocate(pool, ids[k], IAllocationManager.Mode.Shared, uint64((r >> 24) % 1e18)) {} catch {}
            } else if (op == 2) {
                manager.applyPending(pool, ids);
            } else if (op == 3) {
                vm.prank(modules[k]);
                try manager.slash(ids[k], pool, uint64((r >> 32) % 0.5e18)) {} catch {}
            } else {
                vm.warp(block.timestamp + (r >> 40) % 2 days);
            }
            _checkWeightedSum(ids);
        }
    }

    /// @dev Checked on a copy of the state with every matured change applied (`applyPending` only settles; the
    /// copy is dropped), so that each allocation's stored amounts are what `getAllocation` shows.
    function _checkWeightedSum(uint32[] memory ids) internal {
        uint256 snapshot = vm.snapshotState();
        manager.applyPending(pool, ids);
        uint256 sum;
        uint256 weightedBacking;
        for (uint256 i; i < ids.length; ++i) {
            IAllocationManager.Allocation memory a = manager.getAllocation(pool, ids[i]);
            if (a.mode != IAllocationManager.Mode.Shared) continue;
            uint256 committed = a.current > a.pending ? a.current : a.pending;
            sum += committed * a.riskWeightTenths / 10;
            weightedBacking += manager.slashableBacking(ids[i], pool) * a.riskWeightTenths / 10;
        }
        assertEq(manager.getPoolState(pool).sharedWeight, sum, "the sum is exactly its allocations' weighted limits");
        // Each backing rounds down; the cap is 3x the shared stake.
        assertLe(weightedBacking, manager.poolRisk(pool).sharedStake * 3, "R1: weighted reuse within the cap");
        vm.revertToState(snapshot);
    }
}
