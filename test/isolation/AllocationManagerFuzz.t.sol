// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IsolationFixture} from "../utils/IsolationFixture.sol";

/// @notice Fuzz tests of the isolation layer's bounds on one base pool (operator A, WETH).
///
/// Rounding facts the assertions rely on (W = total weight, V = slashable value, s = a slash, cut = ⌈W·s/V⌉):
/// (1) cut ≥ W·s/V, so V·cut ≥ W·s and (V − s)/(W − cut) ≥ V/W: after any slash the value per unit of weight never
///     falls. The vault takes exactly s (V' = V − s, also when matured withdrawals settle first: the view already
///     excluded them at the same price).
/// (2) An isolated slash lowers W and the isolated weight by the same cut, so the shared weight W − iso is unchanged;
///     a shared slash leaves iso unchanged. With (1), floor(w·V'/W') ≥ floor(w·V/W) for every untouched weight w:
///     no rounding slack is needed for "never lowers".
/// (3) poolRisk.sharedStake = V − floor(iso·V/W) = ⌈(W − iso)·V/W⌉ (a ceiling), while a shared backing is a floor
///     of min(w, W − iso)·V/W: the two can differ by one wei, and that is the only slack used below.
contract AllocationManagerFuzzTest is IsolationFixture {
    uint256 internal constant WAD = 1e18;
    uint256 internal constant N = 4;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    uint256 internal pool;
    uint32[N] internal avs;
    address[N] internal modules;
    address[N] internal sinks;
    IAllocationManager.Mode[N] internal modes;
    uint64[N] internal fracs;

    function setUp() public override {
        super.setUp();
        for (uint256 k; k < N; ++k) {
            modules[k] = makeAddr(string.concat("module", vm.toString(k)));
            sinks[k] = makeAddr(string.concat("sink", vm.toString(k)));
            avs[k] = _instantAVS(modules[k], sinks[k]);
        }
    }

    // ================================================================== setup helpers

    /// @dev Deposits, then allocates AVS k isolated when bit k of `isoBits` is set, shared otherwise. Isolated
    /// fractions are bounded so that they sum to at most 1; each of the (at most 4) shared fractions to 3/4 of what
    /// is not isolated, so Σ shared ≤ 3 × (W − iso) (the default cap) and no allocation reverts. AVS 0 gets a positive
    /// fraction unless it is shared and the isolated ones took the whole pool. Then waits for the allocations.
    function _build(uint256 amount, uint8 isoBits, uint64[N] memory raw) internal {
        amount = bound(amount, 1e6, 1e30);
        (pool,) = _deposit(alice, opA, weth, amount);
        uint256 left = WAD;
        for (uint256 k; k < N; ++k) {
            if (isoBits & (1 << k) == 0) continue;
            modes[k] = IAllocationManager.Mode.Isolated;
            fracs[k] = uint64(_pick(raw[k], k == 0 ? 1 : 0, left));
            left -= fracs[k];
        }
        for (uint256 k; k < N; ++k) {
            if (isoBits & (1 << k) != 0) continue;
            modes[k] = IAllocationManager.Mode.Shared;
            uint256 max = left * 3 / 4;
            fracs[k] = uint64(_pick(raw[k], k == 0 && max != 0 ? 1 : 0, max));
        }
        for (uint256 k; k < N; ++k) {
            if (fracs[k] != 0) _allocate(opA, pool, avs[k], modes[k], fracs[k]);
        }
        vm.warp(block.timestamp + ALLOC_DELAY);
    }

    function _backings() internal view returns (uint256[N] memory b) {
        for (uint256 k; k < N; ++k) {
            b[k] = manager.slashableBacking(avs[k], pool);
        }
    }

    function _slashBy(uint256 k, uint64 f) internal returns (uint256) {
        return _slash(modules[k], avs[k], pool, f);
    }

    /// @dev A first slash by a random allocated AVS, so W and V stop being round numbers.
    function _priorSlash(uint256 who, uint64 f) internal {
        who = who % N;
        if (fracs[who] == 0) return;
        _slashBy(who, uint64(_pick(f, 1, WAD)));
    }

    /// @dev A value in [lo, hi] from a raw fuzz input: lo or hi one time in eight each, otherwise uniform. The
    /// fuzzer favours tiny dictionary values, which `bound` would keep tiny (negligible weights); hashing spreads
    /// them so that allocations overlap and shared weights exceed the shared stake often.
    function _pick(uint256 raw, uint256 lo, uint256 hi) internal pure returns (uint256) {
        uint256 x = uint256(keccak256(abi.encode(raw)));
        if (x % 8 == 0) return lo;
        if (x % 8 == 1) return hi;
        return lo + (x >> 8) % (hi - lo + 1);
    }

    // ================================================================== properties

    /// @notice No slash takes more than the AVS's backing times the fraction; with a 100% guard it takes exactly
    /// that (floor), and the sink receives what the vault loses.
    function testFuzz_slashNeverExceedsBackingTimesFraction(
        uint256 amount,
        uint8 isoBits,
        uint64[N] memory raw,
        uint256 priorWho,
        uint64 priorF,
        uint256 who,
        uint64 f,
        bool fullGuard
    ) public {
        if (fullGuard) manager.setGuard(1e18, 1 days);
        _build(amount, isoBits, raw);
        _priorSlash(priorWho, priorF);
        who = who % N;
        if (fracs[who] == 0) who = 0;
        f = uint64(_pick(f, 1, WAD));
        if (fracs[who] == 0 || vault.slashableAssets(pool) == 0) return; // nothing allocated / pool fully slashed

        uint256 backing = manager.slashableBacking(avs[who], pool);
        uint256 value = vault.slashableAssets(pool);
        uint256 sinkBefore = weth.balanceOf(sinks[who]);
        uint256 bound_ = backing * f / WAD;
        // The vault's price floor may keep a sliver back from a near-total slash; nothing else may cut it.
        uint256 floored = vault.previewSlash(pool, bound_);
        uint256 got = _slashBy(who, f);

        assertLe(got, bound_, "slash above backing * fraction");
        if (fullGuard) assertEq(got, floored, "a 100% guard never cuts");
        assertEq(weth.balanceOf(sinks[who]) - sinkBefore, got, "sink receives the amount");
        assertEq(value - vault.slashableAssets(pool), got, "the pool loses the amount");
    }

    /// @notice Overlapping vetoable requests: each execution takes at most its fraction of the backing at
    /// execution, and together never more than the backing at request time.
    function testFuzz_overlappingRequestsNeverExceedBacking(uint256 amount, uint64 alloc, uint64 f1, uint64 f2) public {
        manager.setGuard(1e18, 1 days);
        amount = bound(amount, 1e6, 1e30);
        (pool,) = _deposit(alice, opA, weth, amount);
        address vmod = makeAddr("vetoModule");
        address vs = makeAddr("vetoSink");
        uint32 v = _vetoAVS(vmod, vs);
        _allocate(opA, pool, v, IAllocationManager.Mode.Isolated, uint64(_pick(alloc, 1, WAD)));
        vm.warp(block.timestamp + ALLOC_DELAY);
        uint256 backing = manager.slashableBacking(v, pool);
        vm.assume(backing != 0);
        f1 = uint64(_pick(f1, 1, WAD));
        f2 = uint64(_pick(f2, 1, WAD));
        vm.startPrank(vmod);
        uint64 r1 = manager.requestSlash(v, pool, f1);
        uint64 r2 = manager.requestSlash(v, pool, f2);
        vm.warp(block.timestamp + VETO_WINDOW);
        // 100% guard: each takes its fraction of the backing at execution, as the vault's price floor allows.
        uint256 want1 = vault.previewSlash(pool, backing * f1 / WAD);
        uint256 got1 = manager.executeSlash(r1);
        assertEq(got1, want1, "first request: its fraction of the backing");
        uint256 got2;
        // A first request of 100% of a 100% allocation ends the pool's generation: the second has nothing to take.
        if (vault.slashableAssets(pool) != 0) {
            uint256 left = manager.slashableBacking(v, pool);
            assertLe(left, backing - got1, "what is left");
            uint256 want2 = vault.previewSlash(pool, left * f2 / WAD);
            got2 = manager.executeSlash(r2);
            assertEq(got2, want2, "second request: its fraction of what is left");
        }
        vm.stopPrank();
        assertLe(got1 + got2, backing, "never more than the backing");
        assertEq(weth.balanceOf(vs), got1 + got2);
    }

    /// @notice At the cascade guard's edge: a slash asking for about what still fits (±3 wei of fraction steps) never
    /// takes more than it asked, and never touches a neighbour's isolated backing. (The bucket rounds each slash's
    /// fraction up, so a request that fits exactly can trip the guard; "what fits" must then stay capped by the
    /// request.)
    function testFuzz_guardEdgeNeverTakesMoreThanAsked(uint256 amount, uint64 capRaw, uint64 f1, uint256 offset)
        public
    {
        amount = bound(amount, 1e6, 1e30);
        (pool,) = _deposit(alice, opA, weth, amount);
        manager.setGuard(uint64(_pick(capRaw, 1, WAD)), 1 days);
        _allocate(opA, pool, avs[0], IAllocationManager.Mode.Isolated, 0.5e18);
        _allocate(opA, pool, avs[1], IAllocationManager.Mode.Shared, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _slashBy(0, uint64(_pick(f1, 1, WAD))); // fills part of the bucket
        IAllocationManager.PoolRisk memory r = manager.poolRisk(pool);
        uint256 cap = manager.guardMaxFractionWad();
        uint256 yBacking = manager.slashableBacking(avs[1], pool);
        if (r.value == 0 || r.guardUsedWad >= cap || yBacking == 0) return;

        // The fraction of Y's backing that asks for exactly what fits, nudged by a few steps either way.
        uint256 fit = (cap - r.guardUsedWad) * r.value / (WAD - r.guardUsedWad);
        uint256 fy = (fit < yBacking ? fit : yBacking) * WAD / yBacking;
        fy = fy + bound(offset, 0, 6);
        fy = fy <= 3 ? 1 : fy - 3;
        if (fy > WAD) fy = WAD;
        uint256 asked = yBacking * fy / WAD;
        uint256 xBefore = manager.slashableBacking(avs[0], pool);

        uint256 got = _slashBy(1, uint64(fy));
        assertLe(got, asked, "took more than asked");
        assertGe(manager.slashableBacking(avs[0], pool), xBefore, "a neighbour's isolated backing fell");
    }

    /// @notice An isolated slash by AVS 0 never lowers another AVS's isolated backing, any shared backing, or the
    /// pool's shared stake — not even by one wei (facts (1) and (2) above).
    function testFuzz_isolatedSlashNeverLowersOthers(
        uint256 amount,
        uint8 isoBits,
        uint64[N] memory raw,
        uint256 priorWho,
        uint64 priorF,
        uint256 extra,
        uint64 f
    ) public {
        manager.setGuard(1e18, 1 days);
        _build(amount, isoBits | 1, raw); // AVS 0 isolated
        _priorSlash(priorWho, priorF);
        if (vault.slashableAssets(pool) != 0) _depositIfFits(bound(extra, 0, 1e30));
        if (fracs[0] == 0 || vault.slashableAssets(pool) == 0) return;

        uint256[N] memory before = _backings();
        uint256 sharedStake = manager.poolRisk(pool).sharedStake;
        uint256 got = _slashBy(0, uint64(_pick(f, 1, WAD)));
        if (vault.slashableAssets(pool) == 0) return; // AVS 0 held the whole pool: nothing else was backed

        uint256[N] memory afterB = _backings();
        for (uint256 k = 1; k < N; ++k) {
            assertGe(afterB[k], before[k], "another AVS's backing fell");
        }
        assertGe(manager.poolRisk(pool).sharedStake, sharedStake, "shared stake fell");
        // Conservation with (1): the others' share of V' is at least what it was, so the slashed allocation's exact
        // value fell by at least s; its floor by at least s too (s is an integer).
        assertLe(afterB[0] + got, before[0], "the slashed allocation lost less than the amount");
    }

    /// @notice After any shared slash every shared backing is within the shared stake, isolated backings are
    /// untouched, and other shared backings fall only as far as the shared stake does (elastic), one wei of
    /// ceiling-vs-floor rounding aside (fact (3)).
    function testFuzz_sharedSlashKeepsBackingsWithinSharedStake(
        uint256 amount,
        uint8 isoBits,
        uint64[N] memory raw,
        uint256 priorWho,
        uint64 priorF,
        uint64 f
    ) public {
        manager.setGuard(1e18, 1 days);
        _build(amount, isoBits & 0xE, raw); // AVS 0 shared (it may fall back to isolated when nothing is free)
        _priorSlash(priorWho, priorF);
        if (modes[0] != IAllocationManager.Mode.Shared || fracs[0] == 0 || vault.slashableAssets(pool) == 0) return;

        uint256[N] memory before = _backings();
        _slashBy(0, uint64(_pick(f, 1, WAD)));
        if (vault.slashableAssets(pool) == 0) return;

        uint256[N] memory afterB = _backings();
        uint256 stake = manager.poolRisk(pool).sharedStake;
        // P4: when the slash left more shared limits than the cap allows on the smaller shared stake, every shared
        // backing is scaled by limit / committed (weights), so together they never pass the cap.
        IAllocationManager.PoolState memory st = manager.getPoolState(pool);
        uint256 limit = uint256(st.totalWeight - st.isolatedWeight) * _reuseCapBps(pool) / 10_000;
        uint256 committed = st.sharedWeight;
        uint256 sum;
        for (uint256 k; k < N; ++k) {
            if (modes[k] == IAllocationManager.Mode.Shared) {
                sum += afterB[k];
                assertLe(afterB[k], stake, "shared backing above the shared stake");
                if (k != 0) {
                    uint256 floor_ = before[k] < stake ? before[k] : stake == 0 ? 0 : stake - 1;
                    if (committed > limit) floor_ = floor_ * limit / committed;
                    // Scaling happens in weights: one weight unit of rounding is V / W assets.
                    assertGe(
                        afterB[k] + floor_ / 1e15 + vault.slashableAssets(pool) / st.totalWeight + 2,
                        floor_,
                        "a shared backing fell below the shared stake"
                    );
                }
            } else {
                assertGe(afterB[k], before[k], "a shared slash lowered an isolated backing");
            }
        }
        assertLe(sum, stake * _reuseCapBps(pool) / 10_000 + N, "shared backings above the reuse cap");
    }

    /// @notice Σ isolated backings ≤ the pool's value, through random allocations, slashes, deposits, withdrawals
    /// and time.
    function testFuzz_sumIsolatedNeverExceedsValue(uint256 amount, uint256[12] memory ops) public {
        amount = bound(amount, 1e6, 1e30);
        (pool,) = _deposit(alice, opA, weth, amount);
        for (uint256 k; k < N; ++k) {
            vm.prank(opA);
            manager.optIn(avs[k]);
        }
        for (uint256 i; i < ops.length; ++i) {
            _step(ops[i]);
            _checkIsolatedWithinValue();
        }
    }

    function _step(uint256 op) internal {
        uint256 kind = op % 6;
        uint256 k = (op >> 8) % N;
        uint256 x = op >> 16;
        if (kind == 0 || kind == 1) {
            // allocate (modes fixed per AVS: 0, 1 isolated; 2, 3 shared)
            IAllocationManager.Mode mode = k < 2 ? IAllocationManager.Mode.Isolated : IAllocationManager.Mode.Shared;
            vm.prank(opA);
            try manager.allocate(pool, avs[k], mode, uint64(_pick(x, 0, WAD))) {} catch {}
        } else if (kind == 2) {
            vm.prank(modules[k]);
            try manager.slash(avs[k], pool, uint64(_pick(x, 1, WAD))) {} catch {}
        } else if (kind == 3) {
            _depositIfFits(bound(x, 1e6, 1e30));
        } else if (kind == 4) {
            address who = k % 2 == 0 ? alice : bob;
            uint256 held = _sharesOf(who, pool);
            if (held != 0) _queue(who, pool, bound(x, 1, held));
        } else {
            vm.warp(block.timestamp + bound(x, 1, 4 days));
        }
    }

    /// @dev bob deposits `amount` unless it would mint 2^127 shares or more: after a near-total slash the share
    /// price is tiny and the vault refuses share totals above 128 bits (AmountTooLarge), a vault limit.
    /// @dev Deposits unless the shares would not fit, or the pool fell below its deposit price (`PoolPriceTooLow`,
    /// refused by name: the price floor would keep that stake from being slashed).
    function _depositIfFits(uint256 amount) internal {
        if (amount == 0 || vault.convertToShares(pool, amount) >= 2 ** 127) return;
        weth.mint(bob, amount);
        vm.startPrank(bob);
        weth.approve(address(vault), amount);
        try vault.deposit(opA, address(weth), amount) {}
        catch (bytes memory err) {
            assertEq(bytes4(err), IStakeVault.PoolPriceTooLow.selector, "a deposit refused for another reason");
        }
        vm.stopPrank();
    }

    function _checkIsolatedWithinValue() internal view {
        uint256 value = vault.slashableAssets(pool);
        uint256 sum;
        for (uint256 k; k < 2; ++k) {
            sum += manager.slashableBacking(avs[k], pool);
        }
        assertLe(sum, value, "isolated backings exceed the value");
        IAllocationManager.PoolRisk memory r = manager.poolRisk(pool);
        assertLe(r.totalIsolated, r.value, "committed isolated exceeds the value");
        IAllocationManager.PoolState memory st = manager.getPoolState(pool);
        assertLe(st.isolatedWeight, st.totalWeight, "isolated weight exceeds W");
        for (uint256 k = 2; k < N; ++k) {
            assertLe(manager.slashableBacking(avs[k], pool), r.sharedStake, "shared backing above the shared stake");
        }
    }
}
