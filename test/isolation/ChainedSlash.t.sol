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
/// Each AVS has its own module and its own sink, so where every token went is visible.
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
    /// @dev min(0.3e27, 0.16e27) scaled by 0.48 / 0.84, in WETH: floor(0.16e27 * 0.48e27 / 0.84e27) * 360 / 0.36e27.
    uint256 internal constant S1_SCALED = 91_428_571_428_571_428_571;

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
        assertEq(manager.pathReuseBps(T), 9e4, "path reuse = 3x (base) * 3x (tier)");

        // Step 1. S1 slashes 40% of its 500 = 200. P: 800 WETH / 1,000 shares (price 0.8).
        // W: 1e27 - ceil(1e27 * 200/1000) = 0.8e27; S1 weight 0.5e27 - 0.2e27 = 0.3e27.
        // I = 0.2e27 * 800 / 0.8e27 = 200 (untouched). Shared stake = 800 - 200 = 600.
        // S1 = 0.3 * 800 / 0.8 = 300; S2 = min(0.5, 0.6) -> 500; S3 = 400.
        // T: 200 base shares * 0.8 = 160 (a base slash lowers the tier's backing); TA = min(160, 600) = 160.
        assertEq(_slashBy(S1, P, 0.4e18), 200 ether);
        _expectBackings(200 ether, 300 ether, 500 ether, 400 ether, 160 ether);
        _expectValues(400 ether, 240 ether, 160 ether);
        _expectSinks(200 ether, 0, 0, 0);
        assertEq(manager.poolRisk(P).guardUsedWad, 0.2e18);

        // Step 2. TA slashes 50% of its 160 = 80 WETH, paid out of P.
        // Base shares burned: ceil(80 * 1000/800) = 100, so T holds 100; P: 720 WETH / 900 shares, price still 0.8:
        // alice and bob keep every wei. P books it on its shared side: W 0.8e27 - ceil(0.8e27 * 80/800) = 0.72e27.
        // I = 0.2 * 720 / 0.72 = 200 (untouched). Shared stake 720 - 200 = 520: S1 300, S2 500, S3 400.
        // T: 100 * 0.8 = 80; its W 1e27 - 0.5e27 = 0.5e27 = TA's weight, so TA = 80.
        // P's guard: 0.2 + (80/800) * (1 - 0.2) = 0.28. T's guard: 80/160 = 0.5.
        assertEq(_slashBy(TA, T, 0.5e18), 80 ether);
        _expectBackings(200 ether, 300 ether, 500 ether, 400 ether, 80 ether);
        _expectValues(400 ether, 240 ether, 80 ether);
        _expectSinks(200 ether, 0, 0, 80 ether);
        assertEq(vault.getPool(P).totalShares, 900 ether);
        assertEq(vault.getPool(T).slashableAssets, 100 ether, "tier collateral, in base shares");
        assertEq(manager.poolRisk(P).guardUsedWad, 0.28e18);
        assertEq(manager.poolRisk(T).guardUsedWad, 0.5e18);

        // Step 3. S2 slashes 72% of its 500 = 360. P: 360 WETH / 900 shares (price 0.4).
        // W 0.72e27 - ceil(0.72e27 * 360/720) = 0.36e27; S2 weight 0.5e27 - 0.36e27 = 0.14e27.
        // I = 0.2 * 360 / 0.36 = 200 (untouched). Shared stake weight 0.36 - 0.2 = 0.16e27 = 160 WETH: elastic,
        // The shared limits 0.3 + 0.14 + 0.4 = 0.84e27 now exceed 3x the shared stake (0.48e27): every shared
        // backing scales by 0.48 / 0.84 so that together they never pass the cap (P4).
        // S1 = min(0.3, 0.16) * 4/7 -> 91.43, S2 = 0.14 * 4/7 -> 80, S3 = min(0.4, 0.16) * 4/7 -> 91.43.
        // T: 100 * 0.4 = 40; TA = min(40, 160) = 40. P's guard: 0.28 + 0.5 * 0.72 = 0.64.
        assertEq(_slashBy(S2, P, 0.72e18), 360 ether);
        _expectBackings(200 ether, S1_SCALED, 80 ether, S1_SCALED, 40 ether);
        _expectValues(200 ether, 120 ether, 40 ether);
        _expectSinks(200 ether, 360 ether, 0, 80 ether);
        assertEq(manager.poolRisk(P).guardUsedWad, 0.64e18);

        // The committed shared weights 0.84e27 are 5.25x the shared stake of 0.16e27, but what can be slashed is
        // scaled to exactly the 3x cap. New shared allocations are refused; decreases still go through.
        assertEq(manager.poolRisk(P).reuseRatioWad, 3e18);
        uint32 s4 = _avs("S4");
        vm.startPrank(opA);
        manager.optIn(s4);
        // 1% of W = 0.0036e27 more shared weight: 0.8436e27 against a limit of 3 * 0.16e27 = 0.48e27.
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReuseCapExceeded.selector, 0.8436e27, 0.48e27));
        manager.allocate(P, s4, IAllocationManager.Mode.Shared, 0.01e18);
        manager.allocate(P, S3, IAllocationManager.Mode.Shared, 0);
        vm.stopPrank();

        // Step 4. I asks for 100% of its 200, but the guard has 0.73 - 0.64 left. Compounding against what is
        // left: allowed = (0.73 - 0.64) * 360 / (1 - 0.64) = 90. P: 270 WETH / 900 shares (price 0.3).
        // W 0.36e27 - ceil(0.36e27 * 90/360) = 0.27e27; I weight 0.2e27 - 0.09e27 = 0.11e27 -> 110.
        // Shared stake 0.27 - 0.11 = 0.16e27 = 160: an isolated slash leaves it whole. S3 is still backed
        // while its deallocation is pending. T: 100 * 0.3 = 30.
        vm.expectEmit(address(manager));
        emit IAllocationManager.CascadeGuardTripped(P, I, 200 ether, 90 ether);
        assertEq(_slashBy(I, P, 1e18), 90 ether);
        _expectBackings(110 ether, S1_SCALED, 80 ether, S1_SCALED, 30 ether);
        _expectValues(150 ether, 90 ether, 30 ether);
        _expectSinks(200 ether, 360 ether, 90 ether, 80 ether);
        assertEq(manager.poolRisk(P).guardUsedWad, 0.73e18);

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
