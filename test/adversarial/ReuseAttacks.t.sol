// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AttackFixture} from "./AttackFixture.sol";

/// @notice P4 (hard bound): a pool's shared backings never add up to more than its reuse cap times its shared stake,
/// after any sequence: slashes that shrink the shared stake scale the others down, and so does a lower cap.
contract ReuseAttacksTest is AttackFixture {
    uint256 internal pool;
    uint32[] internal ids;
    address[] internal modules;

    function setUp() public override {
        super.setUp();
        manager.setGuard(1e18, 1 days); // the guard is not what is attacked here
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
    }

    function _shared(uint256 n, uint64 fraction) internal {
        for (uint256 i; i < n; ++i) {
            (uint32 id, address m,) = _avs(string.concat("s", vm.toString(i)));
            ids.push(id);
            modules.push(m);
            _allocate(opA, pool, id, SHARED, fraction);
        }
        vm.warp(block.timestamp + ALLOC_DELAY);
    }

    function _assertWithinCap() internal view {
        (uint256 sum, uint256 bound) = _sharedTotals(pool, ids);
        assertLe(sum, bound + ids.length, "shared backings above cap x shared stake");
    }

    /// Attack: eight AVSs at 37.5% each fill a 3x cap; two of them slash their whole backing. Elastic backings alone
    /// would leave the other six backing 6x the shared stake that is left.
    function test_attack_twoFullSharedSlashesLeaveTheRestWithinTheCap() public {
        _shared(8, 0.375e18);
        _assertWithinCap();
        vm.prank(modules[0]);
        assertEq(manager.slash(ids[0], pool, 1e18), 375 ether);
        _assertWithinCap();
        vm.prank(modules[1]);
        manager.slash(ids[1], pool, 1e18);
        _assertWithinCap();
        (uint256 sum,) = _sharedTotals(pool, ids);
        uint256 stake = manager.poolRisk(pool).sharedStake;
        assertLe(sum, 3 * stake + ids.length);
        assertLe(manager.poolRisk(pool).reuseRatioWad, 3e18);
    }

    /// Attack: governance lowers the protocol maximum below a pool's cap; the pool must follow at once, without a
    /// walk over pools (anyone can open pools).
    function test_attack_lowerMaximumAppliesAtOnce() public {
        manager.setReuseCap(pool, 30_000);
        _shared(3, 1e18);
        manager.setProtocolLimits(10_000, 10_000, 200_000);
        assertEq(_reuseCapBps(pool), 10_000);
        _assertWithinCap();
        (uint256 sum,) = _sharedTotals(pool, ids);
        assertLe(sum, 1000 ether);
    }

    /// Attack, any sequence: random allocations, slashes and deallocations; the bound holds after every step.
    function testFuzz_attack_reuseNeverAboveTheCap(
        uint64[6] memory fractions,
        uint8[12] memory who,
        uint64[12] memory f
    ) public {
        for (uint256 i; i < 6; ++i) {
            (uint32 id, address m,) = _avs(string.concat("f", vm.toString(i)));
            ids.push(id);
            modules.push(m);
            vm.startPrank(opA);
            manager.optIn(id);
            try manager.allocate(pool, id, SHARED, uint64(bound(fractions[i], 1e15, WAD))) {} catch {}
            vm.stopPrank();
        }
        vm.warp(block.timestamp + ALLOC_DELAY);
        _assertWithinCap();
        for (uint256 s; s < 12; ++s) {
            uint256 i = who[s] % 6;
            vm.warp(block.timestamp + 1 hours);
            if (who[s] >= 200) {
                vm.prank(opA);
                try manager.allocate(pool, ids[i], SHARED, uint64(bound(f[s], 0, 0.5e18))) {} catch {}
            } else {
                vm.prank(modules[i]);
                try manager.slash(ids[i], pool, uint64(bound(f[s], 1, WAD))) {} catch {}
            }
            if (vault.slashableAssets(pool) == 0) return;
            _assertWithinCap();
        }
    }
}

/// @notice A tier's slash is a fraction of its backing as the view shows it (clipped by its base's shared stake), and
/// a cut request never refills past what it asked (the adversarial review's findings F4 and F6).
contract TierFractionTest is AttackFixture {
    /// Attack: the base's isolated AVS holds 90% of the base; a tier over all of alice's base shares is slashed. The
    /// tier takes its fraction of its own backing, in base shares, and the base's isolated compartment keeps its 900.
    function test_attack_tierSlashTakesTheFractionOfItsOwnBacking() public {
        (uint256 base,) = _deposit(alice, opA, weth, 1000 ether);
        vault.setTierAllowed(base, true);
        _approveTierOperators(base);
        vm.prank(alice);
        (uint256 tier,) = vault.depositToTier(base, opB, 1000 ether);
        (uint32 iso,,) = _avs("iso");
        (uint32 t, address mt, address sinkT) = _avs("tier");
        _allocate(opA, base, iso, ISO, 0.9e18);
        _allocate(opB, tier, t, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        assertEq(manager.slashableBacking(t, tier), 1000 ether);
        vm.prank(mt);
        assertEq(manager.slash(t, tier, 0.1e18), 100 ether, "10% of the tier's 1000");
        assertEq(_sharesOf(sinkT, base), 100 ether, "paid in base shares");
        assertEq(manager.slashableBacking(iso, base), 900 ether, "the base's isolated compartment is whole");
        assertEq(vault.slashableAssets(base), 1000 ether);
    }
}
