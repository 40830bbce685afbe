// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IRewardHooks} from "../../contracts/interfaces/IRewardHooks.sol";
import {IRewardRail} from "../../contracts/interfaces/IRewardRail.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {RailFixture} from "../utils/RailFixture.sol";

/// @notice The reward rail, every number by hand. Pool P: alice 100 WETH, bob 300 WETH with operator A (400 shares at
/// price one); the operator's commission is the default 10%.
contract RewardRailTest is RailFixture {
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    uint256 internal pool;

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 100 ether);
        _deposit(bob, opA, weth, 300 ether);
        _enable(pool);
    }

    // ================================================================== paying and claiming

    function test_pay_splitsProRataAfterTheCommission() public {
        (uint256 toStakers, uint256 commission) = _pay(pool, 400 ether);
        assertEq(commission, 40 ether, "10% default commission");
        assertEq(toStakers, 360 ether);
        assertEq(rail.claimable(pool, alice), 90 ether, "100 of 400 shares");
        assertEq(rail.claimable(pool, bob), 270 ether, "300 of 400 shares");
        assertEq(rail.commissionOwed(opA, address(weth)), 40 ether);
        assertEq(rail.poolRewards(pool).dust, 0, "0.9e36 per share is exact");

        uint256 before = weth.balanceOf(alice);
        assertEq(_claimRewards(alice, pool), 90 ether);
        assertEq(weth.balanceOf(alice) - before, 90 ether);
        assertEq(rail.claimable(pool, alice), 0, "claimed once");
        vm.prank(alice);
        vm.expectRevert(IRewardRail.NothingToClaim.selector);
        rail.claim(pool, alice);

        vm.prank(opA);
        assertEq(rail.claimCommission(address(weth), opA), 40 ether);
        assertEq(weth.balanceOf(address(rail)), 270 ether, "bob's, still in the rail");
    }

    function test_lateDepositorEarnsNothingOfAnEarlierPayment() public {
        _pay(pool, 400 ether);
        _deposit(carol, opA, weth, 400 ether); // 800 shares now
        _pay(pool, 800 ether); // 720 to stakers: 0.9 per share
        assertEq(rail.claimable(pool, alice), 180 ether, "90 + 100 x 0.9");
        assertEq(rail.claimable(pool, bob), 540 ether, "270 + 300 x 0.9");
        assertEq(rail.claimable(pool, carol), 360 ether, "400 x 0.9, nothing of the first payment");
    }

    function test_aStakerAddingSharesKeepsWhatTheOldOnesEarned() public {
        _pay(pool, 400 ether);
        _deposit(alice, opA, weth, 400 ether); // alice 500 of 800
        _pay(pool, 800 ether);
        assertEq(rail.claimable(pool, alice), 90 ether + 450 ether);
    }

    function test_enabledAfterTheDepositsEveryoneEarnsFromThen() public view {
        // setUp deposited before enabling: nobody was written to, yet every share earns from the enabling on.
        assertEq(rail.poolRewards(pool).acc, rail.ACC_ORIGIN());
        assertEq(rail.claimable(pool, alice), 0);
    }

    // ================================================================== escrow

    function test_escrowEarnsUntilItMaturesAndNoLonger() public {
        uint256 id = _queue(alice, pool, 100 ether);
        _pay(pool, 400 ether); // alice's escrow is still slashable: 100 of 400 shares
        assertEq(rail.claimableEscrow(id), 90 ether);
        assertEq(rail.claimable(pool, alice), 0, "her position holds no shares now");

        vm.warp(block.timestamp + ESCROW);
        _pay(pool, 400 ether); // settles her withdrawal first: bob's 300 shares take all 360
        assertEq(rail.claimableEscrow(id), 90 ether, "no pay after maturity");
        assertEq(rail.claimable(pool, bob), 270 ether + 360 ether);
        assertEq(_claimEscrow(alice, id), 90 ether);
        assertEq(rail.claimableEscrow(id), 0);
        vm.prank(alice);
        vm.expectRevert(IRewardRail.NothingToClaim.selector);
        rail.claimEscrow(id, alice);
        // Her withdrawal itself is untouched by the rail.
        assertEq(_claim(alice, id), 100 ether);
    }

    function test_escrowClaimedInPartsAddsUpToTheWhole() public {
        uint256 id = _queue(alice, pool, 100 ether);
        _pay(pool, 400 ether);
        assertEq(_claimEscrow(alice, id), 90 ether);
        _pay(pool, 400 ether);
        assertEq(_claimEscrow(alice, id), 90 ether, "the second payment only");
    }

    function test_anEarlyClaimedWithdrawalStopsEarningWhenItLeaves() public {
        uint256 id = _queue(alice, pool, 100 ether);
        vm.warp(block.timestamp + ESCROW);
        _claim(alice, id); // matured, not settled: leaves the pool directly
        _pay(pool, 300 ether); // bob alone
        assertEq(rail.claimableEscrow(id), 0);
        assertEq(rail.claimable(pool, bob), 270 ether);
    }

    function test_onlyTheWithdrawalsOwnerClaimsItsEscrow() public {
        uint256 id = _queue(alice, pool, 100 ether);
        _pay(pool, 400 ether);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.NotWithdrawalOwner.selector, id, alice));
        rail.claimEscrow(id, bob);
    }

    // ================================================================== full slash

    function test_aFullSlashEndsTheGenerationsEarnings() public {
        _pay(pool, 400 ether);
        manager.setGuard(1e18, 1 days);
        uint32 avs = _instantAVS(module, sink);
        _allocate(opA, pool, avs, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _slash(module, avs, pool, 1e18);
        assertEq(vault.getPool(pool).generation, 1, "reset");
        assertEq(rail.poolRewards(pool).generation, 1);

        _deposit(carol, opA, weth, 100 ether);
        _pay(pool, 100 ether); // carol alone holds live shares
        assertEq(rail.claimable(pool, carol), 90 ether);
        assertEq(rail.claimable(pool, alice), 90 ether, "only what her ended shares earned");
        assertEq(rail.claimable(pool, bob), 270 ether);
        // Alice deposits again: her ended shares are priced at their generation's end, her new ones from now.
        _deposit(alice, opA, weth, 100 ether);
        _pay(pool, 200 ether);
        assertEq(rail.claimable(pool, alice), 90 ether + 90 ether);
        assertEq(rail.claimable(pool, carol), 90 ether + 90 ether);
    }

    // ================================================================== tiers

    function test_aTierPoolEarnsForItsOwnAllocationsInTheBaseAsset() public {
        vault.setTierAllowed(pool, true);
        _approveTierOperators(pool);
        vm.prank(alice);
        (uint256 tier,) = vault.depositToTier(pool, opB, 100 ether);
        _enable(tier);
        assertEq(rail.poolRewards(tier).token, address(weth));
        _pay(tier, 100 ether);
        assertEq(rail.claimable(tier, alice), 90 ether);
        assertEq(rail.commissionOwed(opB, address(weth)), 10 ether, "the tier's operator");
        // The base's rewards go to base positions: the base shares the tier holds earn through the tier's own leases.
        _pay(pool, 400 ether);
        assertEq(rail.claimable(pool, bob), 360 ether, "bob's 300 are the base's earning shares now");
        assertEq(rail.claimable(pool, alice), 0);
        assertEq(vault.earningShares(pool), 300 ether);
    }

    function test_movingSharesIntoATierPricesTheBaseSpanFirst() public {
        vault.setTierAllowed(pool, true);
        _approveTierOperators(pool);
        _pay(pool, 400 ether);
        vm.prank(alice);
        vault.depositToTier(pool, opB, 100 ether); // alice's base position: 0 shares
        _pay(pool, 400 ether); // alice's 100 base shares are the tier's now: bob's 300 earn the base's rewards
        assertEq(rail.claimable(pool, alice), 90 ether, "the first payment only");
        assertEq(rail.claimable(pool, bob), 270 ether + 360 ether);
    }

    // ================================================================== commission

    function test_aCommissionRaiseWaitsAndCannotFrontRunAPayment() public {
        vm.prank(opA);
        rail.setCommission(pool, 5000);
        (uint16 bps, uint16 nextBps, uint48 nextAt) = rail.commissionOf(pool);
        assertEq(bps, 1000, "the default stays in effect");
        assertEq(nextBps, 5000);
        assertEq(nextAt, block.timestamp + 7 days);

        vm.prank(payer);
        (, uint256 commission) = rail.pay(pool, 100 ether, 1000);
        assertEq(commission, 10 ether);

        vm.warp(block.timestamp + 7 days);
        vm.prank(payer);
        (, commission) = rail.pay(pool, 100 ether, 1000);
        assertEq(commission, 10 ether, "the raise never reaches a payer that did not accept it");
        (, commission) = _pay(pool, 100 ether);
        assertEq(commission, 50 ether, "one that accepts up to 50% pays it");
    }

    function test_setCommissionRefusesAboveTheMaximumAndStrangers() public {
        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.CommissionTooHigh.selector, 5001, 5000));
        rail.setCommission(pool, 5001);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.NotPoolOperator.selector, pool, bob));
        rail.setCommission(pool, 0);
    }

    function test_aZeroCommissionPaysTheStakersEverything() public {
        vm.prank(opA);
        rail.setCommission(pool, 0);
        vm.warp(block.timestamp + 7 days);
        vm.prank(payer);
        (uint256 toStakers, uint256 commission) = rail.pay(pool, 400 ether, 0);
        assertEq(commission, 0);
        assertEq(toStakers, 400 ether);
        assertEq(rail.claimable(pool, alice), 100 ether);
    }

    // ================================================================== refusals

    function test_onlyTheOperatorOrTheMarketEnables() public {
        (uint256 other,) = _deposit(alice, opB, weth, 1 ether);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.NotPoolOperator.selector, other, alice));
        rail.enableRewards(other);
        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.RewardsAlreadyOn.selector, pool));
        rail.enableRewards(pool);
        address market = makeAddr("market");
        rail.setMarket(market);
        vm.prank(market);
        rail.enableRewards(other);
        assertTrue(vault.earns(other));
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.MarketAlreadySet.selector, market));
        rail.setMarket(alice);
    }

    function test_aPoolThatDoesNotEarnRefusesPaymentsAndClaims() public {
        (uint256 other,) = _deposit(alice, opB, weth, 1 ether);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.RewardsOff.selector, other));
        rail.pay(other, 1 ether, 5000);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.RewardsOff.selector, other));
        rail.claim(other, alice);
    }

    function test_nobodyAtRiskNobodyPaid() public {
        _queue(alice, pool, 100 ether);
        _queue(bob, pool, 300 ether);
        vm.warp(block.timestamp + ESCROW);
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.NoEarningShares.selector, pool));
        rail.pay(pool, 1 ether, 5000);
    }

    function test_aPaymentTooSmallToRaiseTheAccumulatorReverts() public {
        weth.mint(carol, 2e36);
        vm.startPrank(carol);
        weth.approve(address(vault), 2e36);
        vault.deposit(opA, address(weth), 2e36);
        vm.stopPrank();
        vm.prank(payer);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.PaymentTooSmall.selector, pool, 1));
        rail.pay(pool, 1, 5000);
    }

    function test_hooksAnswerTheVaultOnly() public {
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.NotVault.selector, address(this)));
        rail.onPositionChange(pool, alice, 0, 0);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.NotVault.selector, address(this)));
        rail.onQueued(pool, alice, 0, 0, 1);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.NotVault.selector, address(this)));
        rail.onSettled(pool, 0);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.NotVault.selector, address(this)));
        rail.onEscrowLeft(1);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.NotVault.selector, address(this)));
        rail.onGenerationEnded(pool, 0);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NotRail.selector, address(this)));
        vault.enableRewards(pool);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.RailAlreadySet.selector, address(rail)));
        vault.setRail(alice);
    }

    function test_zeroAmountsAndAddressesAreRefused() public {
        vm.prank(payer);
        vm.expectRevert(IRewardRail.ZeroAmount.selector);
        rail.pay(pool, 0, 5000);
        vm.prank(alice);
        vm.expectRevert(IRewardRail.ZeroAddress.selector);
        rail.claim(pool, address(0));
    }

    // ================================================================== properties

    /// @dev Any mix of deposits, withdrawals and payments: everything claimable is covered by what the rail holds,
    /// and what stays unclaimable is rounding dust of at most one wei per staker and payment.
    function testFuzz_claimsNeverExceedWhatWasPaid(uint256 seed) public {
        address[3] memory stakers = [alice, bob, carol];
        uint256[] memory ids = new uint256[](12);
        uint256 nIds;
        uint256 pays;
        for (uint256 step; step < 12; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            address who = stakers[r % 3];
            uint256 kind = (r >> 8) % 4;
            if (kind == 0) {
                _deposit(who, opA, weth, 1 + (r >> 16) % 50 ether);
            } else if (kind == 1) {
                (uint256 position,) = vault.positionOf(pool, who);
                if (position != 0) ids[nIds++] = _queue(who, pool, 1 + (r >> 16) % position);
            } else if (kind == 2) {
                vm.warp(block.timestamp + (r >> 16) % ESCROW);
            } else if (vault.earningShares(pool) != 0) {
                vm.prank(payer);
                try rail.pay(pool, 1 + (r >> 16) % 100 ether, 5000) {
                    ++pays;
                } catch {}
            }
        }
        uint256 owed;
        for (uint256 i; i < 3; ++i) {
            owed += rail.claimable(pool, stakers[i]);
        }
        for (uint256 i; i < nIds; ++i) {
            owed += rail.claimableEscrow(ids[i]);
        }
        owed += rail.commissionOwed(opA, address(weth));
        uint256 inRail = weth.balanceOf(address(rail));
        assertLe(owed, inRail, "over-claim");
        assertLe(inRail - owed, (3 + nIds) * pays + pays, "dust above one wei per earner and payment");
        // And every claim pays exactly what was claimable.
        for (uint256 i; i < 3; ++i) {
            uint256 c = rail.claimable(pool, stakers[i]);
            if (c != 0) assertEq(_claimRewards(stakers[i], pool), c);
        }
    }
}
