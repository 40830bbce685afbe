// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IReputation} from "../../contracts/interfaces/IReputation.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {ReputationFixture} from "../utils/ReputationFixture.sol";

/// @notice Third review: attacks on the five fixes of the second review (B1–B5 and the repack). Each test asserts the
/// promise and fails if the attack works.
contract ReputationReview2Test is ReputationFixture {
    IAllocationManager.Mode internal constant ISO = IAllocationManager.Mode.Isolated;
    IAllocationManager.Mode internal constant SHR = IAllocationManager.Mode.Shared;

    address internal staker = makeAddr("staker");
    address internal stranger = makeAddr("stranger");
    address internal module2 = makeAddr("module2");
    address internal module3 = makeAddr("module3");
    uint256 internal pool;

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(staker, opA, weth, 1000 ether);
    }

    function _pools1(uint256 p) internal pure returns (uint256[] memory ps) {
        ps = new uint256[](1);
        ps[0] = p;
    }

    function _tryAlloc(address op, uint256 p, uint32 avs, IAllocationManager.Mode m, uint64 f) internal {
        vm.startPrank(op);
        if (!manager.membership(avs, op).optedIn) manager.optIn(avs);
        try manager.allocate(p, avs, m, f) {} catch {}
        vm.stopPrank();
    }

    // ================================================================== 1. the bond hold

    /// A wrongful request filed in the block its AVS's bond withdrawal matures (or one second before the veto window
    /// closes) holds the withdrawal: the veto still takes its penalty from the queued bond.
    function test_A1_requestAtMaturity_holdsBond_penaltyPaid() public {
        uint32 avs = _ready(_vetoAVS(module, sink));
        _allocate(opA, pool, avs, ISO, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _bond(avs, weth, 100 ether);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avs, address(weth), 100 ether);
        vm.warp(block.timestamp + BOND_DELAY);

        uint64 r = _request(module, avs, pool, 1e18);
        uint40 exAt = uint40(block.timestamp + VETO_WINDOW);
        assertEq(manager.getAVS(avs).requestsVetoableUntil, exAt, "recorded");
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(IReputation.BondOnHold.selector, avs, exAt));
        rep.completeBondWithdrawal(avs, address(weth), avsAdmin);

        vm.warp(exAt - 1);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(IReputation.BondOnHold.selector, avs, exAt));
        rep.completeBondWithdrawal(avs, address(weth), avsAdmin);

        _veto(r);
        // 10% of what it asked: 100% of 500 WETH.
        assertEq(rep.bondOf(avs, address(weth)).queued, 50 ether, "penalty taken from the queued bond");
        vm.warp(exAt);
        vm.prank(avsAdmin);
        rep.completeBondWithdrawal(avs, address(weth), avsAdmin);
        assertEq(weth.balanceOf(avsAdmin), 50 ether);
    }

    /// No veto window of zero with a resolver (the hold would be empty), and no third party can hold an AVS's bond:
    /// only its slasher files or announces, another AVS's requests (even on the same pool, by a stranger's module)
    /// do not hold it, and the AVS's own request holds it for exactly one veto window.
    function test_A2_noZeroWindow_noThirdPartyGrief() public {
        vm.prank(avsAdmin);
        vm.expectRevert();
        manager.registerAVS("x", module, sink, resolver, 0, 1e18);

        uint32 avs = _ready(_vetoAVS(module, sink));
        // The stranger's own vetoable AVS, backed by the same pool.
        vm.prank(stranger);
        uint32 other = manager.registerAVS("y", stranger, sink, stranger, VETO_WINDOW, 1e18);
        _ready(other);
        _allocate(opA, pool, avs, SHR, 0.3e18);
        _allocate(opA, pool, other, SHR, 0.3e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _bond(avs, weth, 100 ether);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avs, address(weth), 100 ether);
        vm.warp(block.timestamp + BOND_DELAY - 1);

        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotAVSSlasher.selector, avs, stranger));
        manager.requestSlash(avs, pool, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotAVSSlasher.selector, avs, stranger));
        manager.announceSlash(avs, pool);
        manager.requestSlash(other, pool, 1e18);
        vm.stopPrank();
        assertEq(manager.getAVS(avs).requestsVetoableUntil, 0, "another AVS's request holds nothing of avs");

        // The AVS's own request holds it, for one veto window only.
        _request(module, avs, pool, 0.1e18);
        uint40 exAt = uint40(block.timestamp + VETO_WINDOW);
        vm.warp(exAt);
        vm.prank(avsAdmin);
        rep.completeBondWithdrawal(avs, address(weth), avsAdmin);
        assertEq(weth.balanceOf(avsAdmin), 100 ether, "released once the veto window closed");
    }

    // ================================================================== 2. committed backing

    /// Over allocations (shared and isolated, base and tier), pending changes, an instant slash, a deallocation and
    /// the passing of time: the committed measure is never below what the AVS can slash, a watcher's refresh never
    /// reverts, and once measured the AVS never draws more than the measure (no deposit in between).
    /// forge-config: default.fuzz.runs = 32
    function testFuzz_B1_committedCoversSlashable(
        uint64 f1,
        uint64 f2,
        uint64 f3,
        uint64 fs,
        uint32 dt1,
        uint32 dt2,
        bool isoFirst
    ) public {
        f1 = uint64(bound(f1, 0.01e18, 1e18));
        f2 = uint64(bound(f2, 0.01e18, 1e18));
        f3 = uint64(bound(f3, 0.01e18, 1e18));
        fs = uint64(bound(fs, 0.01e18, 1e18));
        dt1 = uint32(bound(dt1, 0, 2 days));
        dt2 = uint32(bound(dt2, 0, 4 days));

        vault.setTierAllowed(pool, true);
        _approveTierOperators(pool);
        uint256 baseShares = _sharesOf(staker, pool);
        vm.prank(staker);
        (uint256 tier,) = vault.depositToTier(pool, opB, baseShares / 2);

        uint32[] memory avss = new uint32[](3);
        avss[0] = _ready(_vetoAVS(module, sink)); // shared
        avss[1] = _ready(_instantAVS(module2, sink)); // shared, instant
        avss[2] = _ready(_vetoAVS(module3, sink)); // isolated
        uint256[] memory pools = new uint256[](2);
        (pools[0], pools[1]) = (pool, tier);

        if (isoFirst) {
            _tryAlloc(opA, pool, avss[2], ISO, f3);
            _tryAlloc(opB, tier, avss[2], ISO, f3);
        }
        _tryAlloc(opA, pool, avss[0], SHR, f1);
        _tryAlloc(opA, pool, avss[1], SHR, f2);
        _tryAlloc(opB, tier, avss[0], SHR, f1);
        _tryAlloc(opB, tier, avss[1], SHR, f2);
        if (!isoFirst) {
            _tryAlloc(opA, pool, avss[2], ISO, f3);
            _tryAlloc(opB, tier, avss[2], ISO, f3);
        }
        _checkCommitted(avss, pools, true);

        vm.warp(block.timestamp + dt1);
        _checkCommitted(avss, pools, false);
        vm.startPrank(module2);
        try manager.slash(avss[1], pool, fs) {} catch {}
        try manager.slash(avss[1], tier, fs) {} catch {}
        vm.stopPrank();
        _checkCommitted(avss, pools, false);

        vm.warp(block.timestamp + dt2);
        vm.startPrank(opA);
        try manager.allocate(pool, avss[1], SHR, 0) {} catch {}
        vm.stopPrank();
        _checkCommitted(avss, pools, false);
        vm.warp(block.timestamp + DEALLOC_DELAY);
        _checkCommitted(avss, pools, false);
    }

    /// committed ≥ slashable everywhere; the watcher's refresh succeeds; after the first measure (`measure`),
    /// slashable never exceeds what was measured.
    function _checkCommitted(uint32[] memory avss, uint256[] memory pools, bool measure) internal {
        for (uint256 i; i < avss.length; ++i) {
            for (uint256 j; j < pools.length; ++j) {
                uint256 c = manager.committedBacking(avss[i], pools[j]);
                uint256 s = manager.slashableBacking(avss[i], pools[j]);
                assertGe(c, s, "committed below slashable");
                if (!measure) assertLe(s, rep.measuredBacking(avss[i], pools[j]), "draws more than measured");
            }
            if (measure) rep.refreshStanding(avss[i], pools);
            else rep.refreshStanding(avss[i], new uint256[](0));
        }
        if (!measure) {
            // A full re-measure must not revert either.
            for (uint256 i; i < avss.length; ++i) {
                uint256[] memory before = new uint256[](pools.length);
                for (uint256 j; j < pools.length; ++j) {
                    before[j] = rep.measuredBacking(avss[i], pools[j]);
                }
                rep.refreshStanding(avss[i], pools);
                // restore the first measure's figures for the "never more than measured" check: re-measures only
                // ever lower them here (no deposits), so the check stays valid against the new figure as well.
                for (uint256 j; j < pools.length; ++j) {
                    assertLe(rep.measuredBacking(avss[i], pools[j]), before[j], "measure grew without a deposit");
                }
            }
        }
    }

    /// A full slash resets the pool (a new epoch): the committed measure drops to zero with the allocation, a refresh
    /// does not revert, and the AVS draws nothing from the new generation until it allocates again (gated).
    function test_B2_resetPool_measureAndGate() public {
        manager.setGuard(1e18, 1 days);
        uint32 inst = _ready(_instantAVS(module2, sink));
        uint32 avs = _ready(_vetoAVS(module, sink));
        _allocate(opA, pool, inst, ISO, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        rep.refreshStanding(inst, _pools1(pool));
        assertEq(rep.measuredBacking(inst, pool), 1000 ether);
        _slash(module2, inst, pool, 1e18);
        (, uint32 gen,) = vault.poolKey(pool);
        assertEq(gen, 1, "pool reset");
        assertEq(manager.committedBacking(inst, pool), 0);
        rep.refreshStanding(inst, _pools1(pool));
        rep.refreshStanding(avs, _pools1(pool));
        _deposit(staker, opA, weth, 1000 ether);
        assertEq(manager.slashableBacking(inst, pool), 0, "old allocation revived");
        assertEq(manager.committedBacking(inst, pool), 0, "old allocation revived in the measure");
    }

    // ================================================================== 3. the opt-in gate

    /// Out then back in while bond-short is refused; a new operator may join but not allocate; and the gate never
    /// blocks a slash of the opted-out operator, nor a deallocation. Once bonded, the operator comes back.
    function test_C1_optInGate_noBypass_noOverblock() public {
        uint32 avs = _ready(_vetoAVS(module, sink));
        _allocate(opA, pool, avs, ISO, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        vm.prank(opA);
        manager.optOut(avs);
        rep.refreshStanding(avs, _pools1(pool));
        assertTrue(manager.getAVS(avs).bondShort, "short");
        assertEq(rep.measuredBacking(avs, pool), 500 ether, "opted-out allocation counted");

        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.BondBelowRequirement.selector, avs));
        manager.optIn(avs);

        // A second pool of the same operator: not opted in, so nothing.
        (uint256 usdcPool,) = _deposit(staker, opA, usdc, 1_000_000e6);
        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotOptedIn.selector, avs, opA));
        manager.allocate(usdcPool, avs, ISO, 0.5e18);

        // A new operator may join (it has nothing to revive) but receives nothing.
        (uint256 poolB,) = _deposit(staker, opB, weth, 1000 ether);
        vm.startPrank(opB);
        manager.optIn(avs);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.BondBelowRequirement.selector, avs));
        manager.allocate(poolB, avs, ISO, 0.1e18);
        manager.optOut(avs);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.BondBelowRequirement.selector, avs));
        manager.optIn(avs);
        vm.stopPrank();

        // Not over-blocking: the opted-out operator is still slashed, and may deallocate.
        uint64 r = _request(module, avs, pool, 0.1e18);
        vm.warp(block.timestamp + VETO_WINDOW);
        assertGt(_execute(module, r), 0, "slash of an opted-out operator while short");
        vm.prank(opA);
        manager.allocate(pool, avs, ISO, 0);

        // Bonded and re-measured: back in.
        _bond(avs, weth, 500 ether);
        rep.refreshStanding(avs, _pools1(pool));
        assertFalse(manager.getAVS(avs).bondShort);
        vm.prank(opA);
        manager.optIn(avs);
    }

    // ================================================================== 4. the veto under any gas limit

    uint64 internal _gasReq;
    uint32 internal _gasAvs;

    function _gasSetup() internal {
        _gasAvs = _ready(_vetoAVS(module, sink));
        _allocate(opA, pool, _gasAvs, ISO, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        // 20 available, 80 queued: the penalty of 50 takes from both (the longest payment path).
        _bond(_gasAvs, weth, 100 ether);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(_gasAvs, address(weth), 80 ether);
        _gasReq = _request(module, _gasAvs, pool, 1e18);
    }

    /// @dev Vetoes with gas `g`; returns whether the veto went through, and asserts that if it did, the penalty was
    /// paid in full and the fault recorded. State is rolled back.
    function _vetoWith(uint256 g) internal returns (bool ok) {
        uint256 snap = vm.snapshotState();
        uint256 poolBefore = vault.slashableAssets(pool);
        vm.prank(resolver);
        (ok,) = address(manager).call{gas: g}(abi.encodeCall(manager.vetoSlash, (_gasReq)));
        if (ok) {
            IReputation.Bond memory b = rep.bondOf(_gasAvs, address(weth));
            assertEq(uint256(b.available) + b.queued, 50 ether, "veto went through without its penalty");
            assertEq(vault.slashableAssets(pool), poolBefore + 50 ether, "pool not compensated");
            assertTrue(rep.avsRecord(_gasAvs).tainted, "veto without its fault");
        }
        vm.revertToState(snap);
    }

    /// Every gas limit at which the veto succeeds pays the penalty: scanned from the first success upward in fine
    /// steps across the whole range where the hook's payment may run short.
    function test_D1_vetoGasScan() public {
        _gasSetup();
        uint256 lo = 20_000;
        uint256 hi = 2_000_000;
        assertTrue(_vetoWith(hi), "veto fails with ample gas");
        while (hi - lo > 1) {
            uint256 mid = (lo + hi) / 2;
            if (_vetoWith(mid)) hi = mid;
            else lo = mid;
        }
        uint256 successes;
        for (uint256 g = hi > 2000 ? hi - 2000 : 0; g < hi + 150_000; g += 131) {
            if (_vetoWith(g)) ++successes;
        }
        assertGt(successes, 0);
    }

    /// forge-config: default.fuzz.runs = 64
    function testFuzz_D2_vetoUnderAnyGas(uint32 g) public {
        _gasSetup();
        _vetoWith(bound(g, 25_000, 1_500_000));
    }

    // ================================================================== 5. the uint128 weighted sum

    /// A reuse cap far above 16× (owner-set) with 30 AVSs at the floor's 3×: the weighted sum goes past 2^96 and
    /// stays exact through allocations, a slash, deallocations and a re-pricing to 5×; slashes and refreshes work.
    function test_E1_weightedSumPast2e96_staysExact() public {
        manager.setProtocolLimits(30_000, 4_000_000_000, 4_000_000_000);
        manager.setReuseCap(pool, 4_000_000_000);
        uint256 n = 30;
        uint32[] memory avss = new uint32[](n + 1);
        for (uint256 i; i < n; ++i) {
            avss[i] = _ready(_vetoAVS(module, sink));
            _allocate(opA, pool, avss[i], SHR, 1e18);
        }
        avss[n] = _ready(_instantAVS(module2, sink));
        _allocate(opA, pool, avss[n], SHR, 1e18);
        _checkSum(pool, avss);
        assertGt(manager.getPoolState(pool).sharedWeight, type(uint96).max, "past 2^96");

        vm.warp(block.timestamp + ALLOC_DELAY);
        assertEq(manager.slashableBacking(avss[0], pool), 1000 ether);
        assertGt(_slash(module2, avss[n], pool, 0.3e18), 0);
        _checkSum(pool, avss);
        for (uint256 i; i < n; i += 3) {
            vm.prank(opA);
            manager.allocate(pool, avss[i], SHR, 0.2e18);
        }
        vm.warp(block.timestamp + DEALLOC_DELAY);
        manager.applyPending(pool, avss);
        _checkSum(pool, avss);

        // Re-price at 5×.
        _qRisk(5e18, 1e18);
        vm.warp(block.timestamp + rep.PARAMETER_DELAY());
        rep.applyChange(uint8(IReputation.Parameter.RiskWeights), address(0));
        for (uint256 i; i <= n; ++i) {
            rep.refreshStanding(avss[i], new uint256[](0));
        }
        manager.applyPending(pool, avss);
        _checkSum(pool, avss);
        assertEq(manager.getAllocation(pool, avss[1]).riskWeightTenths, 50);
        assertGt(_slash(module2, avss[n], pool, 0.3e18), 0);
        _checkSum(pool, avss);
        for (uint256 i; i <= n; ++i) {
            manager.slashableBacking(avss[i], pool);
            rep.refreshStanding(avss[i], _pools1(pool));
        }
        IAllocationManager.PoolRisk memory risk = manager.poolRisk(pool);
        assertLe(risk.totalShared, risk.sharedStake * 400_000, "over the cap");
    }

    function _checkSum(uint256 p, uint32[] memory avss) internal view {
        uint256 sum;
        for (uint256 i; i < avss.length; ++i) {
            IAllocationManager.Allocation memory a = manager.getAllocation(p, avss[i]);
            uint256 committed = a.current > a.pending ? a.current : a.pending;
            sum += committed * a.riskWeightTenths / 10;
        }
        assertEq(manager.getPoolState(p).sharedWeight, sum, "weighted sum drifted");
    }

    /// The vault refuses an asset under 6 decimals, and the manager's wiring is once, never zero, never codeless.
    function test_E2_wiringAndDecimals() public {
        MockERC20 two = new MockERC20("Two", "TWO", 2);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InvalidAsset.selector, address(two)));
        vault.setAssetAllowed(address(two), true);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReputationAlreadySet.selector, address(rep)));
        manager.setReputation(address(0xBEEF));
    }

    // ================================================================== 6. unsolicited backing (design)

    /// Opt-in is permissionless: a stranger operator allocates its own pool to a bonded AVS and a refresh makes the
    /// AVS bond-short, freezing its own operators' increases and rejoins. Promise tested: an AVS bonded for the
    /// backing its operators drew is not gated by backing it never asked for.
    function test_F1_strangerOperatorCannotGateBondedAVS() public {
        uint32 avs = _ready(_vetoAVS(module, sink));
        _allocate(opA, pool, avs, ISO, 0.5e18);
        _bond(avs, weth, 250 ether); // 50% of 500 WETH at the floor
        rep.refreshStanding(avs, _pools1(pool));
        assertFalse(manager.getAVS(avs).bondShort, "bonded for its own backing");

        // opB, a stranger to the AVS, stakes and allocates to it unasked: the backing is real (the AVS could slash
        // it), so it counts and the AVS is short ...
        (uint256 poolB,) = _deposit(stranger, opB, weth, 1000 ether);
        _allocate(opB, poolB, avs, SHR, 1e18);
        vm.prank(stranger);
        rep.refreshStanding(avs, _pools1(poolB));
        assertTrue(manager.getAVS(avs).bondShort);
        // ... until the AVS ejects the stranger (fixed: `ejectOperator`): once its slashable window has passed, its
        // backing no longer counts, and it can never join again.
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotAVSAdmin.selector, avs, stranger));
        manager.ejectOperator(avs, opB);
        vm.expectEmit(address(manager));
        emit IAllocationManager.OperatorEjected(avs, opB);
        vm.prank(avsAdmin);
        manager.ejectOperator(avs, opB);
        assertTrue(manager.membership(avs, opB).ejected);
        assertGt(manager.committedBacking(avs, poolB), 0, "still slashable during the window");
        vm.warp(block.timestamp + DEALLOC_DELAY);
        assertEq(manager.committedBacking(avs, poolB), 0);
        vm.prank(stranger);
        rep.refreshStanding(avs, _pools1(poolB));
        assertFalse(manager.getAVS(avs).bondShort, "gated by a stranger's unsolicited backing");
        vm.prank(opB);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.OperatorIsEjected.selector, avs, opB));
        manager.optIn(avs);
    }
}
