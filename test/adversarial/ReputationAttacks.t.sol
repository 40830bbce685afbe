// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IReputation} from "../../contracts/interfaces/IReputation.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {ReputationFixture} from "../utils/ReputationFixture.sol";

/// @notice Adversarial review of issue 16 (reputation, risk weights, bonds, penalties). Each test asserts a promise of
/// the issue; a failing test is an attack that works (see the report). Tests that pass pin a promise an attack did not
/// break.
contract ReputationAttacksTest is ReputationFixture {
    uint256 internal constant BPS = 10_000;
    address internal staker = makeAddr("staker");
    address internal attacker = makeAddr("attacker");
    address internal watcher = makeAddr("watcher");

    // ================================================================== helpers

    function _poolOf(address operator, MockERC20 token) internal view returns (uint256) {
        return vault.poolOf(operator, address(token));
    }

    function _bondTotal(uint32 avsId, MockERC20 token) internal view returns (uint256) {
        IReputation.Bond memory b = rep.bondOf(avsId, address(token));
        return uint256(b.available) + b.queued;
    }

    function _one(uint256 x) internal pure returns (uint256[] memory a) {
        a = new uint256[](1);
        a[0] = x;
    }

    // ================================================================== promise 3: the bond gate

    /// Promise 3 ("an AVS cannot clear its bond shortfall without bonding enough for every pool that backs it";
    /// "watchers add the pools they see, the AVS can neither hide one"). ATTACK (list stuffing, finding F1, fixed): the
    /// AVS measures 80 dust pools of sybil operators it controls, each with 1 gwei of backing it never releases, hoping
    /// to fill a bounded list so that real backing drawn afterwards is never measured. With the old stored list (64
    /// pools at most, a pool leaving only without backing) no watcher could add the real pool and the AVS drew 1,000
    /// WETH on a 32 gwei bond. Now each pool's measure stands alone: a watcher measures the real pool and the AVS is
    /// gated until it bonds for it.
    function test_attack_listStuffing_hidesRealBackingFromTheBondGate() public {
        uint32 avsId = _ready(_instantAVS(module, sink));
        _bond(avsId, weth, 80 * 5e8); // 50% of 1 gwei per dust pool: 40 gwei
        uint256[] memory dust = new uint256[](40);
        for (uint256 batch; batch < 2; ++batch) {
            for (uint256 i; i < 40; ++i) {
                string memory name = vm.toString(batch * 40 + i);
                address sybil = makeAddr(string.concat("sybil", name));
                vm.prank(sybil);
                registry.registerOperator("ipfs://sybil", makeAddr(string.concat("sybilKey", name)));
                (uint256 poolId,) = _deposit(attacker, sybil, weth, 1e9);
                _allocate(sybil, poolId, avsId, IAllocationManager.Mode.Isolated, 1e18);
                dust[i] = poolId;
            }
            vm.warp(block.timestamp + ALLOC_DELAY + 1);
            vm.prank(avsAdmin);
            rep.refreshStanding(avsId, dust);
        }
        assertFalse(manager.getAVS(avsId).bondShort, "setup: not short over the dust");
        assertEq(rep.assetStanding(avsId, address(weth)).backing, 80e9);

        // Real backing arrives: 1,000 WETH isolated (the AVS is not short, so the increase is admitted).
        (uint256 realPool,) = _deposit(staker, opA, weth, 1000 ether);
        _allocate(opA, realPool, avsId, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY + 1);
        assertEq(manager.slashableBacking(avsId, realPool), 1000 ether);

        // A watcher measures the real pool: the AVS is gated.
        vm.prank(watcher);
        rep.refreshStanding(avsId, _one(realPool));
        assertTrue(manager.getAVS(avsId).bondShort, "AVS draws 1,000 WETH on a 40 gwei bond and cannot be gated");
        assertEq(rep.assetStanding(avsId, address(weth)).backing, 1000 ether + 80e9);
        // Re-measuring the dust, or nothing, does not clear it; only bonding for the real backing does.
        vm.startPrank(avsAdmin);
        rep.refreshStanding(avsId, dust);
        rep.refreshStanding(avsId, new uint256[](0));
        assertTrue(manager.getAVS(avsId).bondShort, "the AVS cleared its shortfall without bonding");
        vm.stopPrank();
        _bond(avsId, weth, 500 ether);
        rep.refreshStanding(avsId, _one(realPool));
        assertFalse(manager.getAVS(avsId).bondShort);
    }

    /// Control for the attack above (promise 3 holds without stuffing): a watcher adds the backed pool, the AVS is
    /// bond-short, it receives no increase (new or existing operator), cannot drop the pool, and is still slashable.
    function test_pin_bondGate_watcherGates_andSlashingIgnoresTheBond() public {
        uint32 avsId = _ready(_instantAVS(module, sink));
        (uint256 poolId,) = _deposit(staker, opA, weth, 100 ether);
        _allocate(opA, poolId, avsId, IAllocationManager.Mode.Isolated, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY + 1);
        vm.prank(watcher);
        rep.refreshStanding(avsId, _one(poolId));
        assertTrue(manager.getAVS(avsId).bondShort);

        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.BondBelowRequirement.selector, avsId));
        manager.allocate(poolId, avsId, IAllocationManager.Mode.Isolated, 0.6e18);

        (uint256 poolB,) = _deposit(staker, opB, weth, 100 ether);
        vm.startPrank(opB);
        manager.optIn(avsId);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.BondBelowRequirement.selector, avsId));
        manager.allocate(poolB, avsId, IAllocationManager.Mode.Shared, 0.1e18);
        vm.stopPrank();

        // The AVS cannot clear its shortfall by leaving the pool out.
        vm.prank(avsAdmin);
        rep.refreshStanding(avsId, new uint256[](0));
        assertTrue(manager.getAVS(avsId).bondShort);

        // Slashing does not depend on the bond.
        uint256 taken = _slash(module, avsId, poolId, 0.1e18);
        assertEq(taken, 5 ether);

        // Bonding enough clears it (50% of the 45 WETH left at the floor).
        _bond(avsId, weth, 22.5 ether);
        rep.refreshStanding(avsId, _one(poolId));
        assertFalse(manager.getAVS(avsId).bondShort);
    }

    // ================================================================== promise 4: the penalty

    /// Promise 4 ("a vetoed request always pays its penalty when the bond covers it"). ATTACK: target a pool of a
    /// low-decimal asset. `MIN_COMPENSATION_SHARES` was 1e9 shares regardless of decimals (fixed: 1e6); a fresh pool mints shares 1:1
    /// with its asset's smallest unit, so every WBTC pool under 10 WBTC (and every USDC pool under 1,000 USDC) is
    /// "too small to compensate" and a wrongful request against it is vetoed without penalty, the bond covering it.
    function test_attack_lowDecimalPool_vetoSkipsCoveredPenalty() public {
        uint32 avsId = _ready(_vetoAVS(module, sink));
        _bond(avsId, wbtc, 1e8); // 1 WBTC bond
        (uint256 poolId,) = _deposit(staker, opA, wbtc, 5e8); // 5 WBTC: a real pool, not "near-empty"
        _allocate(opA, poolId, avsId, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY + 1);
        assertEq(manager.slashableBacking(avsId, poolId), 5e8);

        uint64 req = _request(module, avsId, poolId, 1e18);
        uint256 valueBefore = vault.slashableAssets(poolId);
        _veto(req);
        // asked = 10% × 100% × 5 WBTC = 0.5 WBTC, covered by the 1 WBTC bond.
        emit log_named_uint("bond after veto (sats)", _bondTotal(avsId, wbtc));
        emit log_named_uint("pool value gain (sats)", vault.slashableAssets(poolId) - valueBefore);
        assertEq(_bondTotal(avsId, wbtc), 1e8 - 5e7, "covered penalty of 0.5 WBTC was not taken");
        assertEq(vault.slashableAssets(poolId), valueBefore + 5e7, "pool not compensated");
    }

    /// Promise 4 (withdrawal timing). ATTACK: queue the whole bond, then file a wrongful request timed so that the
    /// withdrawal matures inside the veto window and try to leave before the veto. Does not work: the manager records
    /// at the request that the AVS's bond stays until the veto window closes, so completion reverts `BondOnHold` and
    /// the veto takes the penalty from the queued bond.
    /// Bonds conserve tokens to the wei throughout.
    function test_pin_withdrawalTimedAtMaturity_heldAndPaid_conserved() public {
        uint32 avsId = _ready(_vetoAVS(module, sink));
        _bond(avsId, weth, 10 ether);
        (uint256 poolId,) = _deposit(staker, opA, weth, 100 ether);
        _allocate(opA, poolId, avsId, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY + 1);

        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsId, address(weth), 10 ether);
        uint48 maturity = rep.bondOf(avsId, address(weth)).maturity;
        vm.warp(maturity - 1 hours);
        uint64 req = _request(module, avsId, poolId, 1e18);
        vm.warp(maturity);
        vm.prank(avsAdmin);
        vm.expectRevert();
        rep.completeBondWithdrawal(avsId, address(weth), avsAdmin);

        uint256 valueBefore = vault.slashableAssets(poolId);
        _veto(req);
        assertEq(_bondTotal(avsId, weth), 0, "penalty (10 WETH) taken from the queued bond");
        assertEq(vault.slashableAssets(poolId), valueBefore + 10 ether);
        assertEq(weth.balanceOf(address(rep)), rep.totalBonded(address(weth)), "balance == totalBonded");
        assertEq(rep.totalBonded(address(weth)), _bondTotal(avsId, weth), "totalBonded == sum of bonds");
    }

    /// Promise 4 (gas-limit trick). ATTACK: the resolver (the AVS's own choice) vetoes with a gas limit chosen so the
    /// payment fails but the veto goes through. Does not work: over a sweep of gas limits, every veto that succeeds
    /// has paid the penalty (the others revert, `PenaltyOutOfGas` or plain out of gas).
    function test_pin_vetoGasSweep_neverSkipsACoveredPenalty() public {
        uint32 avsId = _ready(_vetoAVS(module, sink));
        _bond(avsId, weth, 10 ether);
        (uint256 poolId,) = _deposit(staker, opA, weth, 100 ether);
        _allocate(opA, poolId, avsId, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY + 1);
        uint64 req = _request(module, avsId, poolId, 0.5e18);
        uint256 snap = vm.snapshotState();
        uint256 successes;
        for (uint256 g = 30_000; g < 400_000; g += 3001) {
            vm.revertToState(snap);
            vm.prank(resolver);
            (bool ok,) = address(manager).call{gas: g}(abi.encodeCall(manager.vetoSlash, (req)));
            if (ok) {
                ++successes;
                assertEq(_bondTotal(avsId, weth), 5 ether, "veto succeeded without its covered penalty");
            }
        }
        assertGt(successes, 0);
    }

    /// Promise 4 (share-price inflation). ATTACK: pay penalties into a pool the attacker owns with few shares, then
    /// let a victim deposit. Refused below 1e6 shares (`PoolTooSmallToCompensate`): the penalty is skipped and the
    /// share price does not move. Pins the refusal.
    function test_pin_penaltyIntoNearEmptyPool_refused() public {
        uint32 avsId = _ready(_vetoAVS(module, sink));
        _bond(avsId, weth, 10 ether);
        (uint256 poolId,) = _deposit(attacker, opA, weth, 1e5); // 1e5 shares
        _allocate(opA, poolId, avsId, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY + 1);
        uint256 priceBefore = vault.getPool(poolId).sharePrice;
        _veto(_request(module, avsId, poolId, 1e18));
        assertEq(vault.getPool(poolId).sharePrice, priceBefore);
        assertEq(_bondTotal(avsId, weth), 10 ether);
    }

    // ================================================================== promise 2: risk-weighted reuse

    /// Promise 2 (no drift; Σ backing × weight ≤ cap × shared stake; a rating drop never blocks a slash). ATTACK: a
    /// random sequence of shared allocations (up and down), standings (any weight in [1×, 5×], pushed as the
    /// reputation contract would), re-pricing, slashes, deposits, withdrawals and time. After each step (and a
    /// permissionless applyPending over the AVSs) the stored weighted sum must equal Σ ⌊committed × weight / 10⌋ and
    /// the weighted backings must stay under the cap. Did not break in the runs.
    function testFuzz_pin_weightedSumNeverDrifts(uint256 seed) public {
        uint32[] memory avss = new uint32[](3);
        for (uint256 i; i < 3; ++i) {
            avss[i] = _ready(_instantAVS(module, sink));
        }
        (uint256 poolId,) = _deposit(staker, opA, weth, 100 ether);
        for (uint256 i; i < 3; ++i) {
            vm.prank(opA);
            manager.optIn(avss[i]);
        }
        for (uint256 step; step < 30; ++step) {
            seed = uint256(keccak256(abi.encode(seed, step)));
            uint32 avsId = avss[seed % 3];
            uint256 op = (seed >> 8) % 7;
            uint256 r = seed >> 16;
            if (op == 0) {
                vm.prank(opA);
                try manager.allocate(poolId, avsId, IAllocationManager.Mode.Shared, uint64(r % 1e18)) {} catch {}
            } else if (op == 1) {
                vm.prank(address(rep));
                manager.setStanding(avsId, uint8(10 + r % 41), false);
            } else if (op == 2) {
                manager.applyPending(poolId, avss);
            } else if (op == 3) {
                vm.prank(module);
                try manager.slash(avsId, poolId, uint64(1 + r % 0.5e18)) {} catch {}
            } else if (op == 4) {
                _deposit(staker, opA, weth, 1 + r % 50 ether);
            } else if (op == 5) {
                uint256 held = _sharesOf(staker, poolId);
                if (held > 1) _queue(staker, poolId, 1 + r % (held / 2));
            } else {
                vm.warp(block.timestamp + r % 2 days);
            }
            _checkReuse(poolId, avss);
        }
    }

    function _checkReuse(uint256 poolId, uint32[] memory avss) internal {
        manager.applyPending(poolId, avss);
        IAllocationManager.PoolState memory st = manager.getPoolState(poolId);
        uint256 sum;
        uint256 weightedBacking;
        for (uint256 i; i < avss.length; ++i) {
            IAllocationManager.Allocation memory a = manager.getAllocation(poolId, avss[i]);
            if (a.mode != IAllocationManager.Mode.Shared) continue;
            uint256 committed = a.current > a.pending ? a.current : a.pending;
            sum += committed * a.riskWeightTenths / 10;
            weightedBacking += manager.slashableBacking(avss[i], poolId) * a.riskWeightTenths;
        }
        assertEq(st.sharedWeight, sum, "stored weighted sum drifted");
        IAllocationManager.PoolRisk memory risk = manager.poolRisk(poolId);
        assertLe(weightedBacking / 10, risk.sharedStake * _reuseCapBps(poolId) / BPS + 3, "over the cap");
    }

    /// Promise 2 ("a rating drop never blocks a slash") with the harshest weight: three shared AVSs at 1× fill a 3×
    /// cap, all drop to 5× and are re-priced (the pool is 5× over its cap). Every slash still takes its fraction of the
    /// scaled backing; the weighted backings stay under the cap.
    function test_pin_ratingDropNeverBlocksASlash() public {
        (uint256 poolId,) = _deposit(staker, opA, weth, 100 ether);
        uint32[] memory avss = new uint32[](3);
        for (uint256 i; i < 3; ++i) {
            avss[i] = _instantAVS(module, sink);
            vm.prank(address(rep));
            manager.setStanding(avss[i], 10, false);
            _allocate(opA, poolId, avss[i], IAllocationManager.Mode.Shared, 1e18);
        }
        vm.warp(block.timestamp + ALLOC_DELAY + 1);
        for (uint256 i; i < 3; ++i) {
            vm.prank(address(rep));
            manager.setStanding(avss[i], 50, true);
        }
        manager.applyPending(poolId, avss);
        _checkReuse(poolId, avss);
        for (uint256 i; i < 3; ++i) {
            uint256 backing = manager.slashableBacking(avss[i], poolId);
            assertGt(backing, 0);
            uint256 taken = _slash(module, avss[i], poolId, 0.1e18);
            assertApproxEqAbs(taken, backing / 10, 1);
            _checkReuse(poolId, avss);
        }
    }

    /// Promise 2 with the owner's cap bound. ATTACK (finding F3, fixed): `setProtocolLimits` has no upper bound on
    /// `maxReuseCapBps`, and the risk weight multiplies the weighted sum by up to 5 at a re-pricing, which stored it
    /// with an unchecked uint96 cast (`_reprice`); the sum is a uint128 now (5 × 2^32 bps × 2^96 < 2^128). At a 20× cap (still within the default 20× path maximum), 20 AVSs at 1× fill the pool
    /// (Σ = 2e28); re-pricing them to 5× makes the true sum 1e29 > 2^96 ≈ 7.9e28: the stored sum wraps, so the
    /// shared backings are barely scaled and count far over the cap.
    function test_attack_governanceCap_weightedSumWrapsUint96() public {
        manager.setProtocolLimits(30_000, 200_000, 200_000);
        (uint256 poolId,) = _deposit(staker, opA, weth, 100 ether);
        manager.setReuseCap(poolId, 200_000);
        uint32[] memory avss = new uint32[](20);
        for (uint256 i; i < 20; ++i) {
            avss[i] = _instantAVS(module, sink);
            vm.prank(address(rep));
            manager.setStanding(avss[i], 10, false);
            _allocate(opA, poolId, avss[i], IAllocationManager.Mode.Shared, 1e18);
        }
        vm.warp(block.timestamp + ALLOC_DELAY + 1);
        for (uint256 i; i < 20; ++i) {
            vm.prank(address(rep));
            manager.setStanding(avss[i], 50, false);
        }
        // All 20 at once reverts (the 16th re-pricing underflows the wrapped sum); one by one, 15 go through.
        for (uint256 i; i < 15; ++i) {
            uint32[] memory one = new uint32[](1);
            one[0] = avss[i];
            manager.applyPending(poolId, one);
        }
        uint256 stored = manager.getPoolState(poolId).sharedWeight;
        emit log_named_uint("stored sharedWeight", stored);
        emit log_named_uint("true weighted sum   ", 15 * 5e27 + 5 * 1e27);
        uint256 weightedBacking;
        for (uint256 i; i < 20; ++i) {
            weightedBacking += manager.slashableBacking(avss[i], poolId)
            * manager.getAllocation(poolId, avss[i]).riskWeightTenths / 10;
        }
        IAllocationManager.PoolRisk memory risk = manager.poolRisk(poolId);
        emit log_named_uint("weighted backing (wei)", weightedBacking);
        emit log_named_uint("cap x shared stake   ", risk.sharedStake * 20);
        // The 16th AVS can now never be re-priced (applyPending reverts for it).
        uint32[] memory sixteenth = new uint32[](1);
        sixteenth[0] = avss[15];
        try manager.applyPending(poolId, sixteenth) {}
        catch (bytes memory reason) {
            emit log_named_bytes("applyPending(16th) reverted", reason);
        }
        // And a slash of that AVS after its operator's decrease to 10% matured: `_apply` underflows the sum.
        vm.prank(opA);
        manager.allocate(poolId, avss[15], IAllocationManager.Mode.Shared, 0.1e18);
        vm.warp(block.timestamp + DEALLOC_DELAY + 1);
        vm.prank(module);
        try manager.slash(avss[15], poolId, 0.5e18) returns (uint256 taken) {
            emit log_named_uint("slash took", taken);
        } catch (bytes memory reason) {
            emit log_named_bytes("slash of the 16th AVS reverted", reason);
        }
        assertEq(stored, 15 * 5e27 + 5 * 1e27, "stored weighted sum wrapped");
        assertLe(weightedBacking, risk.sharedStake * 20, "weighted backing over the cap");
    }

    // ================================================================== promise 1: the rating

    /// Promise 1. ATTACK: move a rating faster than maxStep (checkpoint twice in an epoch, mix faults and
    /// checkpoints), start a fresh identity above the floor, farm with a tiny backing. None works.
    function test_pin_ratingStep_oncePerEpoch_freshAtFloor_tinyFarm() public {
        uint32 avsId = _ready(_vetoAVS(module, sink));
        assertEq(rep.avsRating(avsId), 0);
        assertEq(manager.getAVS(avsId).riskWeightTenths, 30);
        uint32 fresh = _vetoAVS(module, sink);
        assertTrue(manager.getAVS(fresh).bondShort, "a new identity starts gated");

        _bond(avsId, weth, 60 ether);
        (uint256 poolId,) = _deposit(staker, opA, weth, 100 ether);
        _allocate(opA, poolId, avsId, IAllocationManager.Mode.Isolated, 1e18);
        uint32 tiny = _ready(_instantAVS(module, sink));
        (uint256 tinyPool,) = _deposit(staker, opB, weth, 0.01 ether);
        _allocate(opB, tinyPool, tiny, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY + 1);
        uint256 maxStep = rep.ratingParams().maxStepWad;
        for (uint256 e; e < 40; ++e) {
            _nextEpoch();
            uint256 before = rep.avsRating(avsId);
            vm.prank(avsAdmin);
            rep.checkpointAVS(avsId, poolId);
            vm.prank(avsAdmin);
            vm.expectRevert(abi.encodeWithSelector(IReputation.AlreadyCheckpointed.selector, rep.epoch()));
            rep.checkpointAVS(avsId, poolId);
            if (e == 20) {
                // A fault after the checkpoint: the record opens to anyone, but not twice in this epoch.
                _veto(_request(module, avsId, poolId, 0.01e18));
                vm.expectRevert(abi.encodeWithSelector(IReputation.AlreadyCheckpointed.selector, rep.epoch()));
                rep.checkpointAVS(avsId, poolId);
            }
            uint256 afterR = rep.avsRating(avsId);
            uint256 d = afterR > before ? afterR - before : before - afterR;
            assertLe(d, maxStep, "moved more than maxStep in an epoch");
            vm.prank(avsAdmin);
            rep.checkpointAVS(tiny, tinyPool);
        }
        assertGt(rep.avsRating(avsId), 0);
        assertEq(rep.avsRating(tiny), 0, "0.01 WETH at risk for 40 epochs must not rate");
    }

    // ================================================================== promise 5: inputs and governance

    /// Promise 5 ("every entry point rejects bad input with a named error"). ATTACK: an out-of-range `Parameter`.
    /// The ABI decoder rejects it with empty revert data, not a named error. (Cosmetic.)
    function test_attack_badParameterKind_revertsWithoutNamedError() public {
        (bool ok, bytes memory reason) =
            address(rep).call(abi.encodeWithSelector(rep.queueChange.selector, uint256(9), address(0), uint256(0)));
        assertFalse(ok);
        assertEq(
            reason, abi.encodeWithSelector(IReputation.UnknownParameter.selector, uint8(9)), "a named error (fixed: F5)"
        );
    }

    /// Promise 5 ("governance changes wait PARAMETER_DELAY") and promise 4. ATTACK (finding F4, fixed): the manager's
    /// owner detaches the reputation contract (`setReputation(0)`, which took effect at once) while a wrongful request
    /// is pending, so that the veto pays no penalty and records no fault although the bond covers it; or swaps the
    /// vault's compensator. Both are now wired once: the owner's calls revert and the veto pays.
    function test_attack_ownerDetachesReputation_noDelay() public {
        uint32 avsId = _ready(_vetoAVS(module, sink));
        _bond(avsId, weth, 10 ether);
        (uint256 poolId,) = _deposit(staker, opA, weth, 100 ether);
        _allocate(opA, poolId, avsId, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY + 1);
        uint64 req = _request(module, avsId, poolId, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReputationAlreadySet.selector, address(rep)));
        manager.setReputation(address(0xdead));
        vm.expectRevert(IAllocationManager.ZeroAddress.selector);
        manager.setReputation(address(0));
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.CompensatorAlreadySet.selector, address(rep)));
        vault.setCompensator(address(0xdead));
        uint32 late = _vetoAVS(module, sink);
        assertTrue(manager.getAVS(late).bondShort, "a later AVS still starts gated");
        rep.refreshStanding(late, new uint256[](0));
        assertEq(manager.getAVS(late).riskWeightTenths, 30, "a later AVS still starts at the floor");
        _veto(req);
        assertEq(_bondTotal(avsId, weth), 0, "the covered 10 WETH penalty was paid");
    }
}
