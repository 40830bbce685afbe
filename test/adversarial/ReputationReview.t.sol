// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AllocationManager} from "../../contracts/AllocationManager.sol";
import {Reputation} from "../../contracts/Reputation.sol";
import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IAllocationLens} from "../../contracts/interfaces/IAllocationLens.sol";
import {IReputation} from "../../contracts/interfaces/IReputation.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {FaultyReputation} from "../mocks/FaultyReputation.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {IsolationFixture} from "../utils/IsolationFixture.sol";
import {ReputationFixture} from "../utils/ReputationFixture.sol";

/// @notice Adversarial review of issue 16 (reputation, risk-weighted reuse, bond gate, penalties), written from the code
/// and the docs only. Each test asserts a promise: it FAILS if the attack works, passes if the promise holds.
contract ReputationReviewTest is ReputationFixture {
    IAllocationManager.Mode internal constant SHARED = IAllocationManager.Mode.Shared;
    IAllocationManager.Mode internal constant ISOLATED = IAllocationManager.Mode.Isolated;

    address internal staker = makeAddr("staker");

    // ------------------------------------------------------------------ helpers

    function _newAVS() internal returns (uint32) {
        return _ready(_vetoAVS(module, sink));
    }

    function _ids(uint256 a) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = a;
    }

    function _ids(uint256 a, uint256 b) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](2);
        (ids[0], ids[1]) = (a, b);
    }

    function _tryAllocate(address operator, uint256 poolId, uint32 avsId, IAllocationManager.Mode mode, uint64 f)
        internal
        returns (bool ok, bytes memory ret)
    {
        vm.startPrank(operator);
        if (!manager.membership(avsId, operator).optedIn) manager.optIn(avsId);
        (ok, ret) = address(manager).call(abi.encodeCall(manager.allocate, (poolId, avsId, mode, f)));
        vm.stopPrank();
    }

    /// @dev The committed backing (max(current, pending), pending included) an allocation draws, in assets.
    function _committedAssets(uint256 poolId, uint32 avsId) internal view returns (uint256) {
        IAllocationManager.Allocation memory a = manager.getAllocation(poolId, avsId);
        uint256 limit = a.current > a.pending ? a.current : a.pending;
        return limit * vault.slashableAssets(poolId) / manager.getPoolState(poolId).totalWeight;
    }

    function _newOperator(string memory name) internal returns (address op) {
        op = makeAddr(name);
        vm.prank(op);
        registry.registerOperator("ipfs://puppet", makeAddr(string.concat(name, "-key")));
    }

    // ================================================================== 1. ratings

    /// Promise 1: no identity starts above the floor; a rating moves at most maxStep per epoch (a burst of value at
    /// risk, 10 units' worth, is still one step), a second checkpoint in an epoch is refused, and a vetoed request
    /// lowers the rating by at most a step per epoch.
    function test_rating_floorAndStepBound() public {
        uint32 avs = _newAVS();
        assertEq(rep.avsRating(avs), 0, "new AVS above floor");
        assertEq(rep.operatorRating(opA), 0, "new operator above floor");
        assertEq(manager.getAVS(avs).riskWeightTenths, 30, "new AVS not at 3x");
        assertEq(rep.requiredBondFractionWad(avs), 0.5e18, "new AVS bond fraction");

        (uint256 pool,) = _deposit(staker, opA, weth, 1000 ether); // 10 evidence units at risk
        _allocate(opA, pool, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);

        uint256 maxStep = rep.ratingParams().maxStepWad;
        uint256 prev;
        for (uint256 i; i < 25; ++i) {
            _nextEpoch();
            vm.prank(avsAdmin);
            rep.checkpointAVS(avs, pool);
            uint256 r = rep.avsRating(avs);
            assertLe(r > prev ? r - prev : prev - r, maxStep, "rating moved more than maxStep");
            // second checkpoint in the same epoch: refused, by anyone
            vm.prank(avsAdmin);
            vm.expectRevert(abi.encodeWithSelector(IReputation.AlreadyCheckpointed.selector, rep.epoch()));
            rep.checkpointAVS(avs, pool);
            prev = r;
        }
        assertGt(prev, 0.7e18, "seasoned");

        // a vetoed request: the rating falls at most a step per epoch
        _bond(avs, weth, 1000 ether);
        uint64 rid = _request(module, avs, pool, 0.1e18);
        _veto(rid);
        for (uint256 i; i < 5; ++i) {
            _nextEpoch();
            vm.prank(avsAdmin);
            rep.checkpointAVS(avs, pool);
            uint256 r = rep.avsRating(avs);
            assertLe(prev > r ? prev - r : r - prev, maxStep, "fault moved rating more than maxStep");
            prev = r;
        }
        // a re-registered identity starts at the floor again
        uint32 fresh = _newAVS();
        assertEq(rep.avsRating(fresh), 0, "re-registered above floor");
        assertEq(manager.getAVS(fresh).riskWeightTenths, 30, "re-registered not at 3x");
    }

    /// Promise 1: a tiny AVS cannot farm a rating cheaply. 1 WETH (1% of the unit) at risk every epoch for 60 epochs,
    /// and the subject checkpoints every epoch with its best pool: it stays at the floor.
    function test_rating_tinyAvsCannotFarm() public {
        uint32 avs = _newAVS();
        (uint256 pool,) = _deposit(staker, opA, weth, 1 ether);
        _allocate(opA, pool, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        for (uint256 i; i < 60; ++i) {
            _nextEpoch();
            vm.prank(avsAdmin);
            rep.checkpointAVS(avs, pool);
        }
        assertEq(rep.avsRating(avs), 0, "1 WETH at risk farmed a rating");
    }

    // ================================================================== 2. risk-weighted reuse

    /// @dev Σ slashable shared backing × the AVS's current risk weight ≤ cap × shared stake (to a few wei).
    function _assertWeightedWithinCap(uint256 pool, uint32[] memory avss) internal view {
        IAllocationManager.PoolRisk memory risk = manager.poolRisk(pool);
        uint256 sum;
        for (uint256 i; i < avss.length; ++i) {
            uint256 b = manager.slashableBacking(avss[i], pool);
            sum += b * manager.getAllocation(pool, avss[i]).riskWeightTenths / 10;
        }
        uint256 capAssets = risk.sharedStake * _reuseCapBps(pool) / 10_000;
        assertLe(sum, capAssets + avss.length, "weighted shared backing over the cap");
    }

    /// Promise 2: a rating drop (here the owner's delayed change of the floor weight to 5x, the same effect) pushes a
    /// full pool over its cap; after re-pricing, Σ backing × weight still stays within cap × shared stake, new shared
    /// increases are refused, and a slash still goes through.
    function test_reuse_weightJumpKeepsCapAndNeverBlocksSlash() public {
        (uint256 pool,) = _deposit(staker, opA, weth, 1000 ether);
        vm.prank(avsAdmin);
        uint32 a1 = _ready(manager.registerAVS("ipfs://i", module, sink, address(0), 0, 1e18)); // instant slasher
        uint32 a2 = _newAVS();
        uint32 a3 = _newAVS();
        _allocate(opA, pool, a1, SHARED, 0.5e18); // 0.5 × 3 = 1.5
        _allocate(opA, pool, a2, SHARED, 0.5e18); // + 1.5 = 3.0: at the 3x cap
        vm.warp(block.timestamp + ALLOC_DELAY);
        uint32[] memory avss = new uint32[](2);
        (avss[0], avss[1]) = (a1, a2);
        _assertWeightedWithinCap(pool, avss);

        _qRisk(5e18, 1e18);
        vm.warp(block.timestamp + rep.PARAMETER_DELAY());
        rep.applyChange(uint8(IReputation.Parameter.RiskWeights), address(0));
        rep.refreshStanding(a1, new uint256[](0));
        rep.refreshStanding(a2, new uint256[](0));
        rep.refreshStanding(a3, new uint256[](0));
        manager.applyPending(pool, avss);
        assertEq(manager.getAllocation(pool, a1).riskWeightTenths, 50);
        _assertWeightedWithinCap(pool, avss);

        (bool ok,) = _tryAllocate(opA, pool, a3, SHARED, 0.01e18);
        assertFalse(ok, "shared increase accepted over the cap");

        uint256 before = vault.slashableAssets(pool);
        uint256 taken = _slash(module, a1, pool, 0.2e18);
        assertGt(taken, 0, "rating drop blocked a slash");
        assertEq(vault.slashableAssets(pool), before - taken);
        _assertWeightedWithinCap(pool, avss);
    }

    // ================================================================== 3. the bond gate

    /// Attack: hide backing in the allocation delay. `slashableBacking` (what `refreshStanding` measures) counts only
    /// backing in effect, so a pending increase measures 0: a watcher measuring every pool right after each allocation
    /// cannot gate the AVS, and it draws backing from any number of pools with no bond at all (one allocation delay is
    /// enough). Promise: once its pools are measured, an AVS whose bond is below the fraction of the backing it draws
    /// receives no new allocation.
    function test_gate_pendingIncreaseHiddenFromMeasure() public {
        uint32 avs = _newAVS(); // no bond at all
        (uint256 p1,) = _deposit(staker, opA, weth, 1000 ether);
        (uint256 p2,) = _deposit(staker, opB, weth, 1000 ether);
        _allocate(opA, p1, avs, SHARED, 1e18);
        // a diligent watcher measures both pools at once
        rep.refreshStanding(avs, _ids(p1, p2));
        uint256 drawn = _committedAssets(p1, avs);
        assertEq(drawn, 1000 ether);
        assertEq(rep.bondOf(avs, address(weth)).available, 0);
        (bool ok,) = _tryAllocate(opB, p2, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        uint256 backing = manager.slashableBacking(avs, p1) + manager.slashableBacking(avs, p2);
        emit log_named_decimal_uint("backing drawn with a zero bond (WETH)", backing, 18);
        assertFalse(ok, "AVS with 1000 WETH committed and 0 bond received a second 1000 WETH allocation");
    }

    /// Attack: a dormant allocation comes back by `optIn`, which never reads the gate. The operator allocates and opts
    /// out before the increase takes effect (never slashable, measures 0); the AVS is then measured short and gated
    /// (`allocate` refuses it); the operator opts back in and 1000 WETH of new backing appear behind the gated AVS at
    /// once, without the allocation delay.
    function test_gate_optInRevivesBackingWhileShort() public {
        uint32 avs = _newAVS();
        (uint256 p1,) = _deposit(staker, opA, weth, 1000 ether);
        (uint256 p2,) = _deposit(staker, opB, weth, 1000 ether);
        _allocate(opA, p1, avs, SHARED, 1e18);
        vm.prank(opA);
        manager.optOut(avs);
        _allocate(opB, p2, avs, SHARED, 0.2e18);
        vm.warp(block.timestamp + DEALLOC_DELAY + 1);
        assertEq(manager.slashableBacking(avs, p1), 0, "p1 dormant");
        rep.refreshStanding(avs, _ids(p1, p2)); // 200 WETH, bond 0: short
        assertTrue(manager.getAVS(avs).bondShort, "gated");
        (bool ok,) = _tryAllocate(opB, p2, avs, SHARED, 0.3e18);
        assertFalse(ok, "gate open");

        // Fixed: a bond-short AVS takes no operator back (the dormant allocation, out of the AVS since its window
        // passed, does not count in the measure; rejoining would revive it).
        assertEq(rep.assetStanding(avs, address(weth)).backing, 200 ether);
        uint256 before = manager.slashableBacking(avs, p1) + manager.slashableBacking(avs, p2);
        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.BondBelowRequirement.selector, avs));
        manager.optIn(avs);
        uint256 afterOptIn = manager.slashableBacking(avs, p1) + manager.slashableBacking(avs, p2);
        assertLe(afterOptIn, before, "a bond-short AVS received new backing through optIn");
    }

    /// Promise 3, tier pools: a tier's backing is measured in its base asset and gates the AVS until it bonds in that
    /// asset; the tier's pseudo-asset cannot be bonded instead.
    function test_gate_tierPoolMeasuredInBaseAsset() public {
        uint32 avs = _newAVS();
        (uint256 base, uint256 shares) = _deposit(staker, opA, weth, 1000 ether);
        vault.setTierAllowed(base, true);
        _approveTierOperators(base);
        vm.prank(staker);
        (uint256 tier,) = vault.depositToTier(base, opB, shares);
        _allocate(opB, tier, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        assertEq(manager.slashableBacking(avs, tier), 1000 ether);

        rep.refreshStanding(avs, _ids(tier));
        assertEq(rep.assetStanding(avs, address(weth)).backing, 1000 ether, "tier not counted in WETH");
        assertTrue(manager.getAVS(avs).bondShort, "tier backing does not gate");

        address pseudo = vault.tierAsset(base);
        vm.expectRevert(abi.encodeWithSelector(IReputation.AssetNotAllowed.selector, pseudo));
        rep.depositBond(avs, pseudo, 1);

        _bond(avs, weth, 500 ether);
        rep.refreshStanding(avs, _ids(tier));
        assertFalse(manager.getAVS(avs).bondShort);
        // the same stake counted through base and tier counts twice (the harsh side)
        _allocate(opA, base, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        rep.refreshStanding(avs, _ids(base, tier));
        assertEq(rep.assetStanding(avs, address(weth)).backing, 2000 ether);
        assertTrue(manager.getAVS(avs).bondShort);
    }

    /// Promise 3: duplicate pools in one call count once; repeating a measure changes nothing.
    function test_gate_duplicatePoolsCountOnce() public {
        uint32 avs = _newAVS();
        (uint256 p1,) = _deposit(staker, opA, weth, 1000 ether);
        _allocate(opA, p1, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _bond(avs, weth, 500 ether);
        uint256[] memory ids = new uint256[](5);
        for (uint256 i; i < 5; ++i) {
            ids[i] = p1;
        }
        rep.refreshStanding(avs, ids);
        rep.refreshStanding(avs, ids);
        assertEq(rep.assetStanding(avs, address(weth)).backing, 1000 ether, "duplicate counted twice");
        assertFalse(manager.getAVS(avs).bondShort, "duplicates made it short");
        assertEq(rep.shortAssets(avs), 0);
    }

    /// Promise 3: an asset with few decimals (USDC's 6; fewer are refused) rounds the required bond up and gates as
    /// any other.
    function test_gate_oddDecimals() public {
        MockERC20 zero = new MockERC20("Zero", "ZER", 0);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InvalidAsset.selector, address(zero)));
        vault.setAssetAllowed(address(zero), true);
        MockERC20 six = new MockERC20("Six", "SIX", 6);
        vault.setAssetAllowed(address(six), true);
        MockERC20 zero_ = six;
        uint32 avs = _newAVS();
        (uint256 p,) = _deposit(staker, opA, zero_, 7);
        _allocate(opA, p, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _bond(avs, zero_, 3); // 50% of 7 = 3.5 → 4 required
        rep.refreshStanding(avs, _ids(p));
        assertTrue(manager.getAVS(avs).bondShort, "3 units covered 3.5");
        _bond(avs, zero_, 1);
        rep.refreshStanding(avs, _ids(p));
        assertFalse(manager.getAVS(avs).bondShort);
        assertEq(rep.requiredBond(avs, 7), 4);
    }

    /// Promise 3: the uint248 sum cannot be overflowed: the vault tracks at most 2^128 of an asset, and pools as large
    /// as it allows (three, with three quarters of that) measure and gate fine.
    function test_gate_hugeBackingNoOverflow() public {
        uint32 avs = _newAVS();
        uint256 big = vault.MAX_POOL_AMOUNT() / 4;
        address[3] memory ops = [opA, opB, _newOperator("opBig")];
        uint256[] memory ids = new uint256[](3);
        for (uint256 i; i < 3; ++i) {
            (ids[i],) = _deposit(staker, ops[i], weth, big);
            _allocate(ops[i], ids[i], avs, SHARED, 1e18);
        }
        vm.warp(block.timestamp + ALLOC_DELAY);
        rep.refreshStanding(avs, ids);
        assertGe(rep.assetStanding(avs, address(weth)).backing, 3 * (big - 1));
        assertTrue(manager.getAVS(avs).bondShort);
    }

    /// Promise 3: stuffing (65 dust pools of puppet operators) neither hides the real pool nor blocks a watcher: one
    /// refresh naming the real pool gates the AVS. And more than 64 pools is a named error, not a silent cut.
    function test_gate_stuffingCannotBlockWatcher() public {
        uint32 avs = _newAVS();
        _bond(avs, weth, 1 ether);
        uint256[] memory dust = new uint256[](65);
        for (uint256 i; i < 65; ++i) {
            address op = _newOperator(string.concat("puppet", vm.toString(i)));
            (dust[i],) = _deposit(staker, op, weth, 0.001 ether);
            _allocate(op, dust[i], avs, SHARED, 1e18);
        }
        (uint256 real,) = _deposit(staker, opA, weth, 1000 ether);
        _allocate(opA, real, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        vm.expectRevert(abi.encodeWithSelector(IReputation.TooManyPools.selector, 65, 64));
        rep.refreshStanding(avs, dust);
        rep.refreshStanding(avs, _ids(real));
        assertTrue(manager.getAVS(avs).bondShort, "watcher could not gate the stuffed AVS");
    }

    /// Promise 3: the AVS cannot clear its shortfall without bonding: a bond posted then queued for withdrawal is
    /// judged on the available bond at the next measure; measuring another asset or nothing keeps the verdict.
    function test_gate_cannotClearShortfallWithoutBonding() public {
        uint32 avs = _newAVS();
        (uint256 p1,) = _deposit(staker, opA, weth, 1000 ether);
        (uint256 pu,) = _deposit(staker, opB, usdc, 1000e6);
        _allocate(opA, p1, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        rep.refreshStanding(avs, _ids(p1));
        assertTrue(manager.getAVS(avs).bondShort);
        rep.refreshStanding(avs, _ids(pu)); // another asset
        rep.refreshStanding(avs, new uint256[](0));
        assertTrue(manager.getAVS(avs).bondShort, "short cleared by measuring another asset");

        _bond(avs, weth, 500 ether);
        rep.refreshStanding(avs, _ids(p1));
        assertFalse(manager.getAVS(avs).bondShort);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avs, address(weth), 500 ether);
        rep.refreshStanding(avs, _ids(p1)); // a watcher re-measures
        assertTrue(manager.getAVS(avs).bondShort, "queued bond still counted");
    }

    // ================================================================== 4. penalties

    /// Attack: the AVS queues its whole bond for withdrawal, and at maturity files a wrongful request and completes the
    /// withdrawal in the same transaction. A watcher's hold needed the request to exist first, so no watcher could hold the
    /// bond in between. The bond covered the penalty when the request was filed (500 WETH for a 50 WETH penalty);
    /// the veto pays nothing. Promise: a vetoed request pays penaltyWad of what it asked into the pool.
    function test_penalty_requestAtMaturityDodgesPenalty() public {
        uint32 avs = _newAVS();
        (uint256 pool,) = _deposit(staker, opA, weth, 1000 ether);
        _allocate(opA, pool, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _bond(avs, weth, 500 ether);
        rep.refreshStanding(avs, _ids(pool));
        assertFalse(manager.getAVS(avs).bondShort);

        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avs, address(weth), 500 ether);
        vm.warp(rep.bondOf(avs, address(weth)).maturity);

        // one transaction of the AVS (module and admin are the same party); fixed: the manager records at the
        // request that the AVS's bond stays until the request can no longer be vetoed
        uint64 rid = _request(module, avs, pool, 0.5e18);
        uint256 bondAtRequest = rep.bondOf(avs, address(weth)).queued + rep.bondOf(avs, address(weth)).available;
        uint40 executableAt = manager.getRequest(rid).executableAt;
        assertEq(manager.getAVS(avs).requestsVetoableUntil, executableAt);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(IReputation.BondOnHold.selector, avs, executableAt));
        rep.completeBondWithdrawal(avs, address(weth), avsAdmin);

        uint256 before = vault.slashableAssets(pool);
        _veto(rid);
        uint256 paid = vault.slashableAssets(pool) - before;
        emit log_named_decimal_uint("bond when the request was filed", bondAtRequest, 18);
        emit log_named_decimal_uint("penalty owed (10% of 50% of 1000)", 50 ether, 18);
        emit log_named_decimal_uint("penalty paid into the pool", paid, 18);
        assertEq(paid, 50 ether, "wrongful request dodged its covered penalty");
    }

    /// Promise 4: no gas limit skips a covered penalty: the veto either reverts or pays exactly the penalty.
    function testFuzz_penalty_anyGasLimit(uint256 gasLimit) public {
        gasLimit = bound(gasLimit, 30_000, 500_000);
        uint32 avs = _newAVS();
        (uint256 pool,) = _deposit(staker, opA, weth, 1000 ether);
        _allocate(opA, pool, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _bond(avs, weth, 500 ether);
        uint64 rid = _request(module, avs, pool, 0.3e18);
        uint256 before = vault.slashableAssets(pool);
        uint256 bondBefore = rep.totalBonded(address(weth));
        vm.prank(resolver);
        (bool ok,) = address(manager).call{gas: gasLimit}(abi.encodeCall(manager.vetoSlash, (rid)));
        if (ok) {
            assertEq(uint8(manager.getRequest(rid).status), uint8(IAllocationManager.RequestStatus.Vetoed));
            assertEq(vault.slashableAssets(pool) - before, 30 ether, "veto went through without its penalty");
            assertEq(bondBefore - rep.totalBonded(address(weth)), 30 ether);
        } else {
            assertEq(uint8(manager.getRequest(rid).status), uint8(IAllocationManager.RequestStatus.Pending));
        }
        // bonds conserve to the wei
        assertEq(weth.balanceOf(address(rep)), rep.totalBonded(address(weth)));
    }

    /// Promise 4 with odd decimals: an asset with 2 decimals (GUSD-like) made a 5,000-unit pool (500,000 shares, under
    /// the vault's 1e6-share minimum) too small to compensate, so a covered penalty was skipped. Fixed: the vault
    /// allowlists no asset under 6 decimals; at 6 (USDC) a pool of one whole token is compensated.
    function test_penalty_lowDecimalsPoolSkipsCoveredPenalty() public {
        MockERC20 gusd = new MockERC20("Gemini USD", "GUSD", 2);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InvalidAsset.selector, address(gusd)));
        vault.setAssetAllowed(address(gusd), true);
        assertEq(vault.MIN_DECIMALS(), 6);
        uint32 avs = _newAVS();
        (uint256 pool,) = _deposit(staker, opA, usdc, 1e6);
        _allocate(opA, pool, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _bond(avs, usdc, 0.5e6);
        uint64 rid = _request(module, avs, pool, 0.5e18);
        uint256 before = vault.slashableAssets(pool);
        _veto(rid);
        uint256 paid = vault.slashableAssets(pool) - before;
        assertEq(paid, 0.05e6, "covered penalty skipped in a 1 USDC pool");
    }

    /// Promise 4: bond withdrawals wait longer than veto + execution windows; a withdrawal queued after a request
    /// cannot leave before the request's last veto and still pays.
    function test_penalty_withdrawalQueuedAfterRequestStillPays() public {
        assertGt(rep.bondWithdrawalDelay(), VETO_WINDOW + EXEC_WINDOW);
        uint32 avs = _newAVS();
        (uint256 pool,) = _deposit(staker, opA, weth, 1000 ether);
        _allocate(opA, pool, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _bond(avs, weth, 500 ether);
        uint64 rid = _request(module, avs, pool, 0.5e18);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avs, address(weth), 500 ether);
        vm.warp(manager.getRequest(rid).executableAt - 1);
        vm.prank(avsAdmin);
        vm.expectRevert();
        rep.completeBondWithdrawal(avs, address(weth), avsAdmin);
        uint256 before = vault.slashableAssets(pool);
        _veto(rid);
        assertEq(vault.slashableAssets(pool) - before, 50 ether);
        assertEq(weth.balanceOf(address(rep)), rep.totalBonded(address(weth)));
        assertEq(rep.totalBonded(address(weth)), 450 ether);
    }

    // ================================================================== 5. governance

    /// Promise 5: wired once, and every parameter change waits PARAMETER_DELAY.
    function test_governance_wiredOnceAndDelayed() public {
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.ReputationAlreadySet.selector, address(rep)));
        manager.setReputation(address(this));
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.CompensatorAlreadySet.selector, address(rep)));
        vault.setCompensator(address(this));
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.SlasherAlreadySet.selector, address(manager)));
        vault.setSlasher(address(this));

        _qPenalty(0);
        uint48 at = rep.pendingChange(uint8(IReputation.Parameter.Penalty), address(0)).effectiveAt;
        assertEq(at, block.timestamp + rep.PARAMETER_DELAY());
        vm.warp(at - 1);
        vm.expectRevert(
            abi.encodeWithSelector(IReputation.ChangeNotReady.selector, IReputation.Parameter.Penalty, address(0), at)
        );
        rep.applyChange(uint8(IReputation.Parameter.Penalty), address(0));
        assertEq(rep.penaltyWad(), 0.1e18);
        vm.prank(avsAdmin);
        vm.expectRevert();
        rep.queueChange(uint8(IReputation.Parameter.Penalty), address(0), 0);
        vm.warp(at);
        rep.applyChange(uint8(IReputation.Parameter.Penalty), address(0));
        assertEq(rep.penaltyWad(), 0);
    }

    // ================================================================== 6. bad input

    /// Promise 6: bad input to the new entry points is a named error and changes nothing.
    function test_badInput_namedErrorsStateUnchanged() public {
        uint32 avs = _newAVS();
        (uint256 p1,) = _deposit(staker, opA, weth, 1000 ether);
        _allocate(opA, p1, avs, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);

        uint32 unknown = manager.avsCount() + 1;
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.UnknownAVS.selector, unknown));
        rep.refreshStanding(unknown, _ids(p1));
        assertEq(rep.measuredBacking(unknown, p1), 0);

        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 999));
        rep.refreshStanding(avs, _ids(p1, 999));
        assertEq(rep.measuredBacking(avs, p1), 0, "partial measure kept");

        vm.expectRevert(IReputation.ZeroAmount.selector);
        rep.depositBond(avs, address(weth), 0);
        vm.expectRevert(abi.encodeWithSelector(IReputation.UnknownAVS.selector, unknown));
        rep.depositBond(unknown, address(weth), 1);
        vm.expectRevert(abi.encodeWithSelector(IReputation.UnknownRequest.selector, 77));
        rep.reportExecutedSlash(77);
        vm.expectRevert(abi.encodeWithSelector(IReputation.UnknownParameter.selector, 7));
        rep.queueChange(7, address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IReputation.NotManager.selector, address(this)));
        rep.onSlashVetoed(1);
        vm.expectRevert(abi.encodeWithSelector(IReputation.NotSelf.selector, address(this)));
        rep.takePenalty(avs, address(weth), p1, 1);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotReputation.selector, address(this)));
        manager.setStanding(avs, 10, false);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(IReputation.InsufficientBond.selector, 0, 1));
        rep.queueBondWithdrawal(avs, address(weth), 1);
        assertEq(rep.totalBonded(address(weth)), 0);
    }

    // ================================================================== 7. the lens

    /// Promise 7: the lens agrees with the manager, through isolated and shared allocations, a tier, opt-out, slashes
    /// and time.
    function testFuzz_lens_agreesWithManager(uint64 f1, uint64 f2, uint64 f3, uint32 dt, uint64 cut, bool optOutB)
        public
    {
        f1 = uint64(bound(f1, 1, 1e18));
        f2 = uint64(bound(f2, 1, 1e18));
        f3 = uint64(bound(f3, 1, 1e18));
        cut = uint64(bound(cut, 1, 0.4e18));
        vm.prank(avsAdmin);
        uint32 avs = _ready(manager.registerAVS("ipfs://i", module, sink, address(0), 0, 1e18));
        (uint256 p1, uint256 shares) = _deposit(staker, opA, weth, 1000 ether);
        (uint256 p2,) = _deposit(staker, opB, weth, 300 ether);
        vault.setTierAllowed(p1, true);
        _approveTierOperators(p1);
        vm.prank(staker);
        (uint256 tier,) = vault.depositToTier(p1, opB, shares / 2);
        _allocate(opA, p1, avs, ISOLATED, f1);
        _allocate(opB, p2, avs, SHARED, f2);
        _allocate(opB, tier, avs, SHARED, f3);
        vm.warp(block.timestamp + bound(dt, 0, 5 days));
        if (optOutB) {
            vm.prank(opB);
            manager.optOut(avs);
        }
        if (manager.slashableBacking(avs, p1) != 0) _slash(module, avs, p1, cut);
        vm.warp(block.timestamp + bound(dt, 0, 3 days));

        (uint256 total, IAllocationManager.Backing[] memory pools) = IAllocationLens(manager.lens()).avsBacking(avs);
        uint256 sum;
        uint256 committed;
        for (uint256 pid = 1; pid <= vault.poolCount(); ++pid) {
            sum += manager.slashableBacking(avs, pid);
            committed += manager.committedBacking(avs, pid);
        }
        assertEq(total, sum, "lens total != manager");
        assertGe(committed, sum, "committed below slashable");
        for (uint256 i; i < pools.length; ++i) {
            assertEq(pools[i].assets, manager.slashableBacking(avs, pools[i].poolId), "lens pool != manager");
        }
        // Promise 3 (griefing): a watcher's refresh of every pool never reverts in any of these states, and the
        // measured WETH backing is exactly the manager's committed backing (all three pools are WETH or over WETH).
        uint256[] memory all = new uint256[](vault.poolCount());
        for (uint256 pid = 1; pid <= all.length; ++pid) {
            all[pid - 1] = pid;
        }
        rep.refreshStanding(avs, all);
        assertEq(rep.assetStanding(avs, address(weth)).backing, committed, "measured backing != manager");
    }
}

/// @notice A deployment that wires the reputation layer after an AVS registered: that AVS keeps the 1x weight and no
/// gate until someone refreshes it. Promise: no identity starts above the floor (3x, gated until refreshed).
contract ReputationReviewWiringTest is IsolationFixture {
    /// Promise 5: the veto hook's own failure (a revert with data) never blocks a veto; only want of gas does.
    function test_hook_failureNeverBlocksVeto() public {
        FaultyReputation faulty = new FaultyReputation();
        manager.setReputation(address(faulty));
        uint32 avs = _vetoAVS(module, sink);
        (uint256 pool,) = _deposit(makeAddr("staker"), opA, weth, 1000 ether);
        vm.prank(address(faulty));
        manager.setStanding(avs, 30, false);
        _allocate(opA, pool, avs, IAllocationManager.Mode.Shared, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        faulty.setFault(FaultyReputation.Fault.Revert);
        vm.prank(module);
        uint64 rid = manager.requestSlash(avs, pool, 0.5e18);
        vm.prank(resolver);
        manager.vetoSlash(rid);
        assertEq(uint8(manager.getRequest(rid).status), uint8(IAllocationManager.RequestStatus.Vetoed));
    }

    /// Fixed: the reputation layer is wired before any AVS registers, so none escapes the floor and the gate.
    function test_wiring_preExistingAVSStartsAboveFloor() public {
        _vetoAVS(module, sink);
        Reputation rep = new Reputation(manager, vault, address(this), 7 days, 4 days);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.AVSsAlreadyRegistered.selector, 1));
        manager.setReputation(address(rep));
        assertEq(address(manager.reputation()), address(0));
    }
}
