// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IReputation} from "../../contracts/interfaces/IReputation.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {BetaReputation} from "../../contracts/libraries/BetaReputation.sol";
import {ReputationFixture} from "../utils/ReputationFixture.sol";

/// @notice Fuzzed properties of the reputation layer: ratings follow the library exactly and never move more than a
/// step per checkpoint (or twice in an epoch); a veto's penalty is exactly ⌈penalty · fraction · backing⌉ capped by the
/// bond, available first, and lands in the pool; no gas limit lets a veto through without its penalty; a compensation
/// raises the price by exactly the payment over the slashable set; bonds conserve tokens; required bonds round up.
contract ReputationFuzzTest is ReputationFixture {
    uint256 internal constant WAD = 1e18;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    uint256 internal pool;
    uint32 internal avsV;

    /// @dev The model of one record, kept beside the contract's.
    struct Model {
        uint256 good;
        uint256 bad;
        uint256 rating;
        uint256 epoch;
        bool tainted;
    }

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
        avsV = _ready(_vetoAVS(module, sink));
    }

    function _allocateV(uint256 fractionWad) internal {
        _allocate(opA, pool, avsV, IAllocationManager.Mode.Isolated, uint64(fractionWad));
        vm.warp(block.timestamp + ALLOC_DELAY);
    }

    function _decay(Model memory m, uint256 current) internal pure {
        uint256 k = current - m.epoch;
        if (k != 0) {
            if (m.good != 0) m.good = BetaReputation.decayGoodEvidence(m.good, k, 0.95e18);
            if (m.bad != 0) m.bad = BetaReputation.decayBadEvidence(m.bad, k, 0.95e18);
        }
        m.epoch = current;
    }

    // ================================================================== ratings

    /// @notice Over random epochs (skipped epochs, growing backings, vetoed requests), every checkpoint leaves the
    /// record exactly where the library's maths puts it, and moves the rating by at most the step.
    function testFuzz_ratingFollowsTheLibrary(uint256 seed) public {
        _allocateV(0.2e18);
        Model memory m;
        for (uint256 i; i < 24; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            if (r % 5 == 0) {
                // More stake: a bigger backing (in whole or in part of a unit).
                _deposit(bob, opA, weth, bound(r >> 8, 1 ether, 300 ether));
            }
            if ((r >> 16) % 4 == 0) {
                uint64 id = _request(module, avsV, pool, uint64(bound(r >> 24, 1, 1e18)));
                _veto(id);
                _decay(m, rep.epoch());
                m.bad = Math.min(m.bad + 3e18, type(uint72).max);
                m.tainted = true;
            }
            uint256 backing = manager.slashableBacking(avsV, pool);
            vm.prank(avsAdmin);
            rep.checkpointAVS(avsV, pool);
            _decay(m, rep.epoch());
            if (!m.tainted && backing != 0) m.good += BetaReputation.cleanEpochEvidence(backing, WETH_UNIT);
            uint256 previous = m.rating;
            m.rating = BetaReputation.step(previous, BetaReputation.lowerBound(m.good, m.bad, 2e18), 0.05e18);
            m.tainted = false;
            IReputation.RecordView memory v = rep.avsRecord(avsV);
            assertEq(v.goodWad, m.good, "good");
            assertEq(v.badWad, m.bad, "bad");
            assertEq(v.ratingWad, m.rating, "rating");
            assertLe(m.rating > previous ? m.rating - previous : previous - m.rating, 0.05e18, "step");
            // Next epoch, sometimes a few.
            vm.warp(rep.genesis() + uint256(rep.epoch() + 1 + (r >> 40) % 3) * EPOCH + (r >> 48) % EPOCH);
        }
    }

    /// @notice A checkpoint succeeds exactly once per epoch.
    function testFuzz_checkpointOncePerEpoch(uint256 dt) public {
        _allocateV(0.2e18);
        dt = bound(dt, 0, 3 * uint256(EPOCH));
        rep.checkpointAVS(avsV, pool);
        uint32 e = rep.epoch();
        vm.warp(block.timestamp + dt);
        if (rep.epoch() == e) {
            vm.expectRevert(abi.encodeWithSelector(IReputation.AlreadyCheckpointed.selector, e));
            rep.checkpointAVS(avsV, pool);
        } else {
            vm.prank(avsAdmin);
            rep.checkpointAVS(avsV, pool);
            assertEq(rep.avsRecord(avsV).epoch, rep.epoch());
        }
    }

    // ================================================================== penalty

    /// @notice penalty = min(⌈0.1 · fraction · backing⌉, bond), taken from the available bond first, then the queued
    /// withdrawal, and paid into the pool: the vault's balance and the pool's slashable assets rise by exactly it.
    function testFuzz_penalty(uint256 allocation, uint256 fraction, uint256 available, uint256 queued) public {
        allocation = bound(allocation, 0.01e18, 1e18);
        fraction = bound(fraction, 1, 1e18);
        available = bound(available, 0, 200 ether);
        queued = bound(queued, 0, 200 ether);
        _allocateV(allocation);
        if (available + queued != 0) _bond(avsV, weth, available + queued);
        if (queued != 0) {
            vm.prank(avsAdmin);
            rep.queueBondWithdrawal(avsV, address(weth), queued);
        }
        uint256 backing = manager.slashableBacking(avsV, pool);
        uint256 asked = Math.mulDiv(backing, fraction * 0.1e18, 1e36, Math.Rounding.Ceil);
        uint256 expected = Math.min(asked, available + queued);
        uint256 vaultBefore = weth.balanceOf(address(vault));
        uint256 assetsBefore = vault.getPool(pool).slashableAssets;
        _veto(_request(module, avsV, pool, uint64(fraction)));
        IReputation.Bond memory b = rep.bondOf(avsV, address(weth));
        uint256 fromAvailable = Math.min(expected, available);
        assertEq(b.available, available - fromAvailable, "available first");
        assertEq(b.queued, queued - (expected - fromAvailable), "then queued");
        assertEq(weth.balanceOf(address(rep)), available + queued - expected, "bond balance");
        assertEq(rep.totalBonded(address(weth)), available + queued - expected);
        assertEq(weth.balanceOf(address(vault)), vaultBefore + expected, "vault balance");
        assertEq(vault.getPool(pool).slashableAssets, assetsBefore + expected, "pool assets");
        assertGe(asked * 1e36, backing * fraction * 0.1e18, "rounded up");
        assertLt((asked == 0 ? 0 : asked - 1) * 1e36, backing * fraction * 0.1e18 + 1, "by less than a wei");
    }

    /// @notice Whatever gas the resolver gives, a veto either reverts (and changes nothing) or pays its penalty.
    function testFuzz_vetoUnderAnyGas(uint256 gasLimit) public {
        gasLimit = bound(gasLimit, 30_000, 400_000);
        _allocateV(0.2e18);
        _bond(avsV, weth, 50 ether);
        uint64 id = _request(module, avsV, pool, 0.5e18);
        vm.prank(resolver);
        (bool ok,) = address(manager).call{gas: gasLimit}(abi.encodeCall(manager.vetoSlash, (id)));
        if (ok) {
            assertEq(rep.bondOf(avsV, address(weth)).available, 40 ether, "a veto went through without its penalty");
            assertEq(vault.getPool(pool).slashableAssets, 1010 ether);
        } else {
            assertEq(uint8(manager.getRequest(id).status), uint8(IAllocationManager.RequestStatus.Pending));
            assertEq(rep.bondOf(avsV, address(weth)).available, 50 ether);
        }
    }

    // ================================================================== compensation (the vault side)

    /// @notice A compensation raises the slashable assets by exactly the payment and never lowers anyone's value;
    /// every holder in the slashable set (an escrowed withdrawal included) gains its pro-rata share, less rounding.
    function testFuzz_compensateRaisesThePriceByThePayment(uint256 bobAmount, uint256 escrowed, uint256 amount) public {
        bobAmount = bound(bobAmount, 1e9, 1e24);
        amount = bound(amount, 1, 1e24);
        (, uint256 bobShares) = _deposit(bob, opA, weth, bobAmount);
        escrowed = bound(escrowed, 0, bobShares);
        uint256 wid;
        if (escrowed != 0) wid = _queue(bob, pool, escrowed);
        _compensatorIsThis();
        weth.mint(address(this), amount);
        weth.approve(address(vault), amount);
        IStakeVault.PoolView memory p0 = vault.getPool(pool);
        uint256 aliceBefore = vault.convertToAssets(pool, 1000 ether);
        uint256 escrowBefore = escrowed == 0 ? 0 : vault.getWithdrawal(wid).value;
        assertEq(vault.compensate(pool, amount), amount);
        IStakeVault.PoolView memory p1 = vault.getPool(pool);
        assertEq(p1.slashableAssets, p0.slashableAssets + amount);
        assertEq(p1.totalShares, p0.totalShares);
        assertGe(p1.sharePrice, p0.sharePrice);
        uint256 aliceAfter = vault.convertToAssets(pool, 1000 ether);
        // alice's exact gain is amount · 1000e18 / (shares + 1), within a wei of rounding either way.
        uint256 gain = Math.mulDiv(amount, 1000 ether, p0.totalShares + 1);
        assertGe(aliceAfter + 1, aliceBefore + gain);
        assertLe(aliceAfter, aliceBefore + gain + 1);
        if (escrowed != 0) assertGe(vault.getWithdrawal(wid).value, escrowBefore);
        assertEq(weth.balanceOf(address(vault)), vault.getAsset(address(weth)).tracked);
    }

    /// @notice A tier's compensation mints base shares at the base price, rounded down: the base's price never falls
    /// and the tier's value rises by the payment, less at most one base share's worth.
    function testFuzz_compensateATier(uint256 moved, uint256 amount) public {
        moved = bound(moved, 1e9, 1000 ether);
        amount = bound(amount, 1e6, 1e24);
        vault.setTierAllowed(pool, true);
        _approveTierOperators(pool);
        vm.prank(alice);
        (uint256 tier,) = vault.depositToTier(pool, opB, moved);
        _compensatorIsThis();
        weth.mint(address(this), amount);
        weth.approve(address(vault), amount);
        uint256 basePrice = vault.getPool(pool).sharePrice;
        uint256 tierValue = vault.slashableAssets(tier);
        uint256 minted = vault.compensate(tier, amount);
        assertEq(minted, Math.mulDiv(amount, 1000 ether + 1, 1000 ether + 1));
        assertGe(vault.getPool(pool).sharePrice, basePrice);
        assertLe(vault.slashableAssets(tier), tierValue + amount);
        assertGe(vault.slashableAssets(tier) + 2, tierValue + amount);
    }

    // ================================================================== bonds

    /// @notice Any sequence of bond deposits, queued withdrawals, completions and penalties keeps the contract's
    /// balance equal to Σ available + queued, to the wei.
    function testFuzz_bondsConserveTokens(uint256 seed) public {
        _allocateV(0.5e18);
        uint256 penalties;
        uint256 vaultBefore = weth.balanceOf(address(vault));
        for (uint256 i; i < 16; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            uint256 op = r % 4;
            IReputation.Bond memory b = rep.bondOf(avsV, address(weth));
            if (op == 0) {
                _bond(avsV, weth, bound(r >> 8, 1, 100 ether));
            } else if (op == 1 && b.queued == 0 && b.available != 0) {
                vm.prank(avsAdmin);
                rep.queueBondWithdrawal(avsV, address(weth), bound(r >> 8, 1, b.available));
            } else if (op == 2 && b.queued != 0) {
                vm.warp(Math.max(block.timestamp, b.maturity));
                vm.prank(avsAdmin);
                rep.completeBondWithdrawal(avsV, address(weth), avsAdmin);
            } else if (op == 3) {
                uint256 held = uint256(b.available) + b.queued;
                _veto(_request(module, avsV, pool, uint64(bound(r >> 8, 1, 1e18))));
                IReputation.Bond memory a = rep.bondOf(avsV, address(weth));
                penalties += held - a.available - a.queued;
            }
            IReputation.Bond memory c = rep.bondOf(avsV, address(weth));
            assertEq(weth.balanceOf(address(rep)), uint256(c.available) + c.queued, "balance != bond");
            assertEq(rep.totalBonded(address(weth)), uint256(c.available) + c.queued, "total != bond");
            assertEq(weth.balanceOf(address(vault)), vaultBefore + penalties, "vault != before + penalties");
        }
    }

    /// @notice The required bond is the exact fraction of the backing rounded up, and never shrinks for more backing.
    function testFuzz_requiredBondRoundsUp(uint256 backing, uint256 more) public {
        backing = bound(backing, 0, 1e30);
        more = bound(more, 0, 1e30);
        _allocateV(0.2e18);
        rep.checkpointAVS(avsV, pool);
        uint256 fraction = rep.requiredBondFractionWad(avsV);
        uint256 required = rep.requiredBond(avsV, backing);
        assertGe(required * WAD, backing * fraction);
        if (required != 0) assertLt((required - 1) * WAD, backing * fraction);
        assertGe(rep.requiredBond(avsV, backing + more), required);
        assertLe(rep.riskWeightWad(avsV), rep.riskWeightFloorWad());
        assertGe(rep.riskWeightWad(avsV), rep.riskWeightTopWad());
    }

    /// @notice The weighted backing never exceeds the raw backing.
    function testFuzz_weightedBackingBelowRaw(uint256 amount) public {
        amount = bound(amount, 1 ether, 1e24);
        _allocateV(0.3e18);
        (uint256 poolB,) = _deposit(bob, opB, weth, amount);
        _allocate(opB, poolB, avsV, IAllocationManager.Mode.Shared, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        rep.checkpointOperator(opA, pool);
        uint256[] memory ids = new uint256[](2);
        (ids[0], ids[1]) = (pool, poolB);
        (uint256 raw, uint256 weighted) = rep.weightedBacking(avsV, ids);
        assertEq(raw, manager.slashableBacking(avsV, pool) + manager.slashableBacking(avsV, poolB));
        assertLe(weighted, raw);
        assertEq(weighted, Math.mulDiv(manager.slashableBacking(avsV, pool), rep.operatorRating(opA), WAD));
    }
}
