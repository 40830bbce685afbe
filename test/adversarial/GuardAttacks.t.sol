// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {AttackFixture} from "./AttackFixture.sol";

/// @notice P4 (hard bound): in any span of one guard window a pool loses at most the guard's fraction of its value.
/// P3 (no griefing): a slash the guard cut is not used up; the rest stays takeable.
contract GuardAttacksTest is AttackFixture {
    uint256 internal pool;
    uint32 internal x;
    uint32 internal y;
    address internal mx;
    address internal my;

    uint256[] internal times;
    uint256[] internal values;

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
        (x, mx,) = _avs("x");
        (y, my,) = _avs("y");
        _allocate(opA, pool, x, SHARED, 1e18);
        _allocate(opA, pool, y, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
    }

    function _record() internal {
        times.push(block.timestamp);
        values.push(vault.slashableAssets(pool));
    }

    /// @dev Every pair of observations less than one window apart: the later value keeps at least (1 − cap) of the
    /// earlier one (slashes are the only change here).
    function _assertNoSpanAboveCap() internal view {
        uint256 cap = manager.guardMaxFractionWad();
        uint256 window = manager.guardWindow();
        for (uint256 i; i < times.length; ++i) {
            for (uint256 j = i + 1; j < times.length && times[j] < times[i] + window; ++j) {
                assertGe(values[j] * WAD, values[i] * (WAD - cap), "more than the cap left within one window");
            }
        }
    }

    /// Attack: a leaky bucket refills while it drains, so slashing at the cap, then a moment later, lets 1.5× the cap
    /// out within one window. Here the second slash one second later takes nothing.
    function test_attack_slashAtTheCapThenAgainNextSecond() public {
        vm.warp(_nextWindow() - 1);
        _record();
        vm.prank(mx);
        assertEq(manager.slash(x, pool, 0.5e18), 500 ether);
        _record();
        vm.warp(block.timestamp + 1);
        vm.prank(my);
        assertEq(manager.slash(y, pool, 1e18), 0, "the window before still counts");
        vm.warp(block.timestamp + DAY - 2);
        vm.prank(my);
        assertEq(manager.slash(y, pool, 1e18), 0);
        _record();
        _assertNoSpanAboveCap();
    }

    /// Attack: many small slashes spread over a day (a leaky bucket lets ~82% out this way under a 50% cap).
    function test_attack_continuousSmallSlashes() public {
        _record();
        for (uint256 i; i < 96; ++i) {
            vm.warp(block.timestamp + 15 minutes);
            vm.prank(i % 2 == 0 ? mx : my);
            manager.slash(i % 2 == 0 ? x : y, pool, 0.02e18);
            _record();
        }
        _assertNoSpanAboveCap();
        assertGt(values[0] - values[values.length - 1], 0, "the attack did slash");
    }

    /// Attack, any timing: random gaps and fractions by two AVSs; no span of one window loses more than the cap.
    function testFuzz_attack_anySpanLosesAtMostTheCap(uint32[16] memory gaps, uint64[16] memory fractions) public {
        _record();
        for (uint256 i; i < 16; ++i) {
            vm.warp(block.timestamp + gaps[i] % (2 * DAY));
            uint64 f = uint64(bound(fractions[i], 1, WAD));
            vm.prank(i % 2 == 0 ? mx : my);
            try manager.slash(i % 2 == 0 ? x : y, pool, f) {} catch {}
            _record();
        }
        _assertNoSpanAboveCap();
    }

    /// @dev An honest vetoable AVS (shared `allocation`) requests half its backing at the start of window k; the
    /// request is executable from the first second of window k + 1 (`k1`) to the first of k + 2. At the last second
    /// of window k the stranger X slashes `strangerFraction` of its backing. Time is then `k1`.
    function _honestRequestThenStranger(uint64 allocation, uint64 strangerFraction)
        internal
        returns (uint32 h, address mh, uint64 req, uint256 k1)
    {
        (h, mh,) = _vetoAvs("honest", 1 days);
        _allocate(opA, pool, h, SHARED, allocation);
        vm.warp(block.timestamp + ALLOC_DELAY);
        k1 = _nextWindow() + 1 days;
        vm.warp(k1 - 1 days);
        req = _request(mh, h, pool, 0.5e18);
        vm.warp(k1 - 1);
        vm.prank(mx);
        manager.slash(x, pool, strangerFraction);
        vm.warp(k1);
    }

    /// Attack (griefing): an unrelated AVS fills the guard just before an honest request executes, so the honest
    /// slash is cut to nothing. The request stays pending for the rest and takes it once the guard frees, still
    /// inside its execution window.
    function test_attack_strangerFillsGuardBeforeARequest() public {
        (uint32 h, address mh, uint64 req, uint256 k1) = _honestRequestThenStranger(0.4e18, 0.5e18);
        assertEq(vault.slashableAssets(pool), 500 ether, "the stranger filled window k");
        uint256 asked = manager.slashableBacking(h, pool) / 2;
        assertEq(_execute(mh, req), 0, "cut to nothing");
        IAllocationManager.Request memory r = manager.getRequest(req);
        assertEq(uint8(r.status), uint8(IAllocationManager.RequestStatus.Pending), "not used up");
        assertApproxEqAbs(r.fractionWad, 0.5e18, 1, "all of it left (rounded down, for the stakers)");
        vm.warp(k1 + 1 days);
        uint256 rest = _execute(mh, req);
        assertLe(rest, asked);
        assertApproxEqRel(rest, asked, 1e3, "the rest, at the last executable second");
        assertEq(uint8(manager.getRequest(req).status), uint8(IAllocationManager.RequestStatus.Executed));
        vm.expectRevert(
            abi.encodeWithSelector(
                IAllocationManager.RequestNotPending.selector, req, IAllocationManager.RequestStatus.Executed
            )
        );
        _execute(mh, req);
    }

    /// Attack: a request cut in part keeps only the rest: in total it never takes more than it asked for.
    function test_attack_partlyCutRequestNeverTakesMoreThanAsked() public {
        (uint32 h, address mh, uint64 req, uint256 k1) = _honestRequestThenStranger(0.9e18, 0.3e18);
        assertEq(vault.slashableAssets(pool), 700 ether, "the stranger took 300 in window k");
        uint256 asked = manager.slashableBacking(h, pool) / 2;
        // The guard has (0.5 − 0.3) / 0.7 of the 700 left: 200.
        uint256 first = _execute(mh, req);
        assertEq(first, 200 ether);
        assertLt(first, asked);
        assertLt(manager.getRequest(req).fractionWad, 0.5e18, "the rest is smaller than what was asked");
        vm.warp(k1 + 1 days);
        uint256 second = _execute(mh, req);
        assertGt(second, 0, "the rest was taken");
        // In total never more than asked. (A little less: the rest is a fraction of the backing less what was taken,
        // and the first take also scaled the pool's shared backings down to the cap.)
        assertLe(first + second, asked, "never more than asked");
        assertEq(uint8(manager.getRequest(req).status), uint8(IAllocationManager.RequestStatus.Executed));
    }
}

/// @notice P4 under governance: changing the guard's window never locks a pool for longer than two windows, nor wipes
/// its recent losses (the adversarial review's finding F1).
contract GuardWindowChangeTest is AttackFixture {
    uint256 internal pool;
    uint32 internal x;
    address internal mx;

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
        (x, mx,) = _avs("x");
        _allocate(opA, pool, x, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        vm.prank(mx);
        assertEq(manager.slash(x, pool, 1e18), 500 ether); // the cap, now
    }

    function test_attack_shorterWindowDoesNotWipeRecentLosses() public {
        vm.warp(block.timestamp + 1);
        manager.setGuard(0.5e18, 1 hours);
        vm.warp(block.timestamp + 2);
        vm.prank(mx);
        assertEq(manager.slash(x, pool, 1e18), 0, "the half already lost still counts");
        assertEq(vault.slashableAssets(pool), 500 ether);
    }

    function test_attack_longerWindowDoesNotLockThePool() public {
        vm.warp(block.timestamp + 1);
        manager.setGuard(0.5e18, 2 days);
        vm.warp(block.timestamp + 4 days + 1);
        assertEq(manager.poolRisk(pool).guardUsedWad, 0, "free after two of the new windows");
        vm.prank(mx);
        assertEq(manager.slash(x, pool, 0.5e18), 250 ether);
    }
}
