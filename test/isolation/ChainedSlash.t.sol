// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IsolationFixture} from "../utils/IsolationFixture.sol";

/// @notice The chained-slash scenario of the isolation issue, every number worked out by hand.
///
/// Base pool P (operator A, WETH): alice 500, bob 300, carol 200 = 1,000 WETH, 1,000 shares.
/// Carol restakes her 200 shares into tier T (operator B over P).
/// P allocates: I isolated 20% (200); S1 shared 50% (500), S2 shared 50% (500), S3 shared 40% (400):
///   Σ shared 1,400 ≤ 3× the shared stake 800. T allocates TA isolated 100%.
/// Cascade guard: 73% of a pool's value per day. All slashes happen at one instant (no refill).
/// Each AVS has its own module and its own sink, so where every token went is visible. TA is paid in P shares: a tier
/// slash never moves P.
contract ChainedSlashTest is IsolationFixture {
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    uint256 internal P;
    uint256 internal T;
    uint32 internal I;
    uint32 internal S1;
    uint32 internal S2;
    uint32 internal S3;
    uint32 internal TA;
    /// @dev min(0.3e27, 0.24e27) scaled by 0.72 / 0.84, in WETH: floor(0.24e27 * 0.72e27 / 0.84e27) * 440 / 0.44e27.
    uint256 internal constant S1_SCALED = 205_714_285_714_285_714_285;

    function setUp() public override {
        super.setUp();
        manager.setGuard(0.73e18, 1 days);
        (P,) = _deposit(alice, opA, weth, 500 ether);
        _deposit(bob, opA, weth, 300 ether);
        _deposit(carol, opA, weth, 200 ether);
        vault.setTierAllowed(P, true);
        _approveTierOperators(P);
        vm.prank(carol);
        (T,) = vault.depositToTier(P, opB, 200 ether);

        I = _avs("I");
        S1 = _avs("S1");
        S2 = _avs("S2");
        S3 = _avs("S3");
        TA = _avs("TA");
        _allocate(opA, P, I, IAllocationManager.Mode.Isolated, 0.2e18);
        _allocate(opA, P, S1, IAllocationManager.Mode.Shared, 0.5e18);
        _allocate(opA, P, S2, IAllocationManager.Mode.Shared, 0.5e18);
        _allocate(opA, P, S3, IAllocationManager.Mode.Shared, 0.4e18);
        _allocate(opB, T, TA, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
    }

    function test_chainedSlash_threeSharedOneIsolatedAndATier() public {
        // Step 0. P: 1,000 WETH / 1,000 shares. T holds 200 base shares = 200 WETH.
        _expectBackings(200 ether, 500 ether, 500 ether, 400 ether, 200 ether);
        _expectValues(500 ether, 300 ether, 200 ether);
        assertEq(_pathReuseBps(T), 9e4, "path reuse = 3x (base) * 3x (tier)");

        // Step 1. S1 slashes 40% of its 500 = 200. P: 800 WETH / 1,000 shares (price 0.8).
        // W: 1e27 - ceil(1e27 * 200/1000) = 0.8e27; S1 weight 0.5e27 - 0.2e27 = 0.3e27.
        // I = 0.2e27 * 800 / 0.8e27 = 200 (untouched). Shared stake = 800 - 200 = 600.
        // S1 = 0.3 * 800 / 0.8 = 300; S2 = min(0.5, 0.6) -> 500; S3 = 400.
        // T: 200 base shares * 0.8 = 160 (a base slash lowers the tier's value through the base price); TA = 160.
        assertEq(_slashBy(S1, P, 0.4e18), 200 ether);
        _expectBackings(200 ether, 300 ether, 500 ether, 400 ether, 160 ether);
        _expectValues(400 ether, 240 ether, 160 ether);
        _expectSinks(200 ether, 0, 0, 0);
        assertEq(manager.poolRisk(P).guardUsedWad, 0.2e18);

        // Step 2. TA slashes 50% of its 160 = 80 WETH, paid in P shares, rounded down against the AVS:
        // floor(80e18 * (1000e18 + 1) / (800e18 + 1)) = 100e18 - 1 base shares move from T into TA's sink. P does not move (800 WETH / 1,000 shares, W 0.8e27): every P staker and every P
        // backing keeps every wei, and P's guard is untouched. T: 100 * 0.8 = 80; its W 1e27 - 0.5e27 = 0.5e27 =
        // TA's weight, so TA = 80. T's guard: 80/160 = 0.5.
        assertEq(_slashBy(TA, T, 0.5e18), 80 ether);
        _expectBackings(200 ether, 300 ether, 500 ether, 400 ether, 80 ether);
        _expectValues(400 ether, 240 ether, 80 ether);
        _expectSinks(200 ether, 0, 0, 0);
        assertEq(_sharesOf(sinkOf[TA], P), 100 ether - 1, "TA's sink holds P shares");
        assertEq(vault.getPool(P).totalShares, 1000 ether);
        assertEq(vault.getPool(T).slashableAssets, 100 ether + 1, "tier collateral, in base shares");
        assertEq(manager.poolRisk(P).guardUsedWad, 0.2e18);
        assertEq(manager.poolRisk(T).guardUsedWad, 0.5e18);

        // Step 3. S2 slashes 72% of its 500 = 360. P: 440 WETH / 1,000 shares (price 0.44).
        // W 0.8e27 - ceil(0.8e27 * 360/800) = 0.44e27; S2 weight 0.5e27 - 0.36e27 = 0.14e27.
        // I = 0.2 * 440 / 0.44 = 200 (untouched). Shared stake weight 0.44 - 0.2 = 0.24e27 = 240 WETH: elastic.
        // The shared limits 0.3 + 0.14 + 0.4 = 0.84e27 now exceed 3x the shared stake (0.72e27): every shared
        // backing scales by 0.72 / 0.84 so that together they never pass the cap (P4).
        // S1 = min(0.3, 0.24) * 6/7 -> 205.71, S2 = 0.14 * 6/7 -> 120, S3 = min(0.4, 0.24) * 6/7 -> 205.71.
        // T: 100 * 0.44 = 44; TA = 44. P's guard: 0.2 + 0.45 * 0.8 = 0.56.
        assertEq(_slashBy(S2, P, 0.72e18), 360 ether);
        _expectBackings(200 ether, S1_SCALED, 120 ether, S1_SCALED, 44 ether);
        _expectValues(220 ether, 132 ether, 44 ether);
        _expectSinks(200 ether, 360 ether, 0, 0);
        assertEq(manager.poolRisk(P).guardUsedWad, 0.56e18);

        // The committed shared weights 0.84e27 are 3.5x the shared stake of 0.24e27, but what can be slashed is
        // scaled to exactly the 3x cap. New shared allocations are refused; decreases still go through.
        assertEq(manager.poolRisk(P).reuseRatioWad, 3e18);
        uint32 s4 = _avs("S4");
        vm.startPrank(opA);
        manager.optIn(s4);
        // 1% of W = 0.0044e27 more shared weight: 0.8444e27 against a limit of 3 * 0.24e27 = 0.72e27.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReuseCapExceeded.selector, 0.8444e27, 0.72e27));
        manager.allocate(P, s4, IAllocationManager.Mode.Shared, 0.01e18);
        manager.allocate(P, S3, IAllocationManager.Mode.Shared, 0);
        vm.stopPrank();

        // Step 4. I asks for 100% of its 200, but the guard has 0.73 - 0.56 left. Compounding against what is
        // left: allowed = (0.73 - 0.56) * 440 / (1 - 0.56) = 170. P: 270 WETH / 1,000 shares (price 0.27).
        // W 0.44e27 - ceil(0.44e27 * 170/440) = 0.27e27; I weight 0.2e27 - 0.17e27 = 0.03e27 -> 30.
        // Shared stake 0.27 - 0.03 = 0.24e27 = 240: an isolated slash leaves it whole. S3 is still backed
        // while its deallocation is pending. T: 100 * 0.27 = 27.
        vm.expectEmit(address(manager));
        emit IAllocationManager.CascadeGuardTripped(P, I, 200 ether, 170 ether);
        assertEq(_slashBy(I, P, 1e18), 170 ether);
        _expectBackings(30 ether, S1_SCALED, 120 ether, S1_SCALED, 27 ether);
        _expectValues(135 ether, 81 ether, 27 ether);
        _expectSinks(200 ether, 360 ether, 170 ether, 0);
        assertEq(manager.poolRisk(P).guardUsedWad, 0.73e18);
        // TA's sink holds 100 P shares (less a wei), now worth 27 (less a wei): paid in P's collateral, it bears P's
        // AVSs until it leaves.
        assertEq(vault.convertToAssets(P, _sharesOf(sinkOf[TA], P)), 27 ether - 1);

        // Conservation: 1,000 deposited = 270 still in the vault + 730 in the sinks.
        assertEq(weth.balanceOf(address(vault)), 270 ether);
        assertEq(weth.balanceOf(address(vault)) + _sinkTotal(), 1000 ether);
    }

    // ------------------------------------------------------------------ helpers

    mapping(uint32 avsId => address) internal moduleOf;
    mapping(uint32 avsId => address) internal sinkOf;

    function _avs(string memory name) internal returns (uint32 avsId) {
        address m = makeAddr(string.concat("module-", name));
        address s = makeAddr(string.concat("sink-", name));
        avsId = _instantAVS(m, s);
        moduleOf[avsId] = m;
        sinkOf[avsId] = s;
    }

    function _slashBy(uint32 avsId, uint256 poolId, uint64 fractionWad) internal returns (uint256) {
        return _slash(moduleOf[avsId], avsId, poolId, fractionWad);
    }

    function _expectBackings(uint256 i, uint256 s1, uint256 s2, uint256 s3, uint256 ta) internal view {
        assertEq(manager.slashableBacking(I, P), i, "I");
        assertEq(manager.slashableBacking(S1, P), s1, "S1");
        assertEq(manager.slashableBacking(S2, P), s2, "S2");
        assertEq(manager.slashableBacking(S3, P), s3, "S3");
        assertEq(manager.slashableBacking(TA, T), ta, "TA");
        // Logical isolation: no AVS can reach a pool it has no allocation in.
        assertEq(manager.slashableBacking(TA, P), 0, "TA on P");
        assertEq(manager.slashableBacking(I, T), 0, "I on T");
    }

    function _expectValues(uint256 a, uint256 b, uint256 carolTier) internal view {
        assertEq(vault.convertToAssets(P, _sharesOf(alice, P)), a, "alice");
        assertEq(vault.convertToAssets(P, _sharesOf(bob, P)), b, "bob");
        // Carol's tier shares redeem for base shares, worth this much WETH.
        uint256 baseShares = vault.convertToAssets(T, _sharesOf(carol, T));
        assertEq(vault.convertToAssets(P, baseShares), carolTier, "carol (tier)");
        assertEq(vault.slashableAssets(T), carolTier, "tier value in WETH");
    }

    function _expectSinks(uint256 s1, uint256 s2, uint256 i, uint256 ta) internal view {
        assertEq(weth.balanceOf(sinkOf[S1]), s1, "sink S1");
        assertEq(weth.balanceOf(sinkOf[S2]), s2, "sink S2");
        assertEq(weth.balanceOf(sinkOf[I]), i, "sink I");
        assertEq(weth.balanceOf(sinkOf[TA]), ta, "sink TA");
        assertEq(weth.balanceOf(sinkOf[S3]), 0, "sink S3");
    }

    function _sinkTotal() internal view returns (uint256) {
        return weth.balanceOf(sinkOf[S1]) + weth.balanceOf(sinkOf[S2]) + weth.balanceOf(sinkOf[I])
            + weth.balanceOf(sinkOf[TA]) + weth.balanceOf(sinkOf[S3]);
    }
}
