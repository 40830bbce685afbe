// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IOperatorDesk} from "../../contracts/interfaces/IOperatorDesk.sol";
import {ISecurityMarket} from "../../contracts/interfaces/ISecurityMarket.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

/// @notice The security market, every number by hand (docs/market.md has the three worked examples). The desk's pool
/// holds 400 WETH: alice 100, bob 300. The AVS bids for 200 WETH over a year at up to 10% a year: 20 WETH escrowed.
contract SecurityMarketTest is MarketFixture {
    uint40 internal constant TERM = 365 days;

    // ================================================================== example 1: isolated security, paid over the term

    function test_example1_anIsolatedLeasePaysTheStakersOverItsTerm() public {
        uint256 bidId = _bid(200 ether, ISOLATED, 1000, TERM);
        assertEq(weth.balanceOf(address(market)), 20 ether, "200 x 10% x 1 year escrowed");
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        uint256 leaseId = _fillAsDesk(bidId, askId, 200 ether); // the desk takes the bid's price

        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        assertEq(l.premium, 20 ether);
        assertEq(l.start, block.timestamp + ALLOC_DELAY, "from when the allocation takes effect");
        assertEq(market.leases(leaseId).end, block.timestamp + ALLOC_DELAY + TERM);
        assertEq(market.bids(bidId).backing, 0, "filled");
        assertEq(market.asks(askId).capacity, 200 ether);
        assertEq(manager.getAllocation(pool, avs).pending, manager.getPoolState(pool).totalWeight / 2, "half the pool");

        vm.warp(l.start + TERM / 2);
        (uint256 paid, uint256 refunded) = market.stream(leaseId);
        assertEq(paid, 10 ether);
        assertEq(refunded, 0);
        assertEq(rail.claimable(pool, alice), 2.25 ether, "9 after 10% commission, 100 of 400 shares");
        assertEq(rail.claimable(pool, bob), 6.75 ether);

        vm.warp(l.start + TERM);
        (paid, refunded) = market.stream(leaseId);
        assertEq(paid, 10 ether);
        l = market.leases(leaseId);
        assertTrue(l.ended);
        assertEq(l.paid + l.refunded, l.premium, "premium conservation");
        assertEq(_claimRewards(alice, pool), 4.5 ether);
        assertEq(_claimRewards(bob, pool), 13.5 ether);
        vm.prank(deskOwner);
        assertEq(desk.claimCommission(address(weth), deskOwner), 2 ether);
        assertEq(weth.balanceOf(address(market)), 0, "nothing left escrowed");
        assertEq(desk.heldUntil(avs), block.timestamp, "the hold lapses at the end");
        vm.prank(deskOwner);
        desk.allocate(pool, avs, ISOLATED, 0); // and it may lower it now
    }

    function test_aBidAndALeaseReadBackAsPosted() public {
        vm.prank(avsAdmin);
        uint256 bidId = market.postBid(avs, address(weth), 123 ether, SHARED, 0, 77 days, 987, 1234);
        ISecurityMarket.Bid memory b = market.bids(bidId);
        assertEq(b.asset, address(weth));
        assertEq(b.avsId, avs);
        assertEq(b.maxPriceBps, 987);
        assertEq(b.maxCommissionBps, 1234);
        assertEq(uint8(b.mode), uint8(SHARED));
        assertEq(b.backing, 123 ether);
        assertEq(b.escrow, (uint256(123 ether) * 987 * 77 days + 1e4 * 365 days - 1) / (1e4 * 365 days), "rounded up");
        assertEq(b.term, 77 days);
        assertEq(b.minRatingBps, 0);
        vm.prank(avsAdmin);
        market.cancelBid(bidId);

        vm.warp(block.timestamp + 3 days);
        uint256 leaseId = _fillAsDesk(_bid(200 ether, ISOLATED, 1000, TERM), _ask(400 ether, ISOLATED, 700), 150 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        assertEq(l.bidId, 2);
        assertEq(l.poolId, pool);
        assertEq(l.avsId, avs);
        assertEq(l.asset, address(weth));
        assertEq(l.backing, 150 ether);
        assertEq(l.priceBps, 1000);
        assertEq(l.premium, 15 ether);
        assertEq(l.start, block.timestamp + ALLOC_DELAY);
        assertEq(l.end, l.start + TERM);
        assertEq(l.streamedTo, l.start);
        assertEq(l.lastRatio, market.RATIO_ONE());
        assertFalse(l.ended);
    }

    function test_theAVSTakingTheAskPaysTheAsksPriceAndGetsTheRestBack() public {
        uint256 bidId = _bid(200 ether, ISOLATED, 1000, TERM);
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        uint256 leaseId = _fillAsAVS(bidId, askId, 200 ether);
        assertEq(market.leases(leaseId).premium, 10 ether, "5% a year");
        assertEq(market.credits(avsAdmin, address(weth)), 10 ether, "the unused escrow");
        uint256 before = weth.balanceOf(avsAdmin);
        vm.prank(avsAdmin);
        market.withdraw(address(weth), avsAdmin);
        assertEq(weth.balanceOf(avsAdmin) - before, 10 ether);
    }

    // ================================================================== example 2: shared, partly slashed

    function test_example2_aPartlySlashedSharedLeaseRefundsTheShortfall() public {
        manager.setGuard(1e18, 1 days);
        address moduleY = makeAddr("moduleY");
        uint32 y = _instantAVS(moduleY, sink);
        vm.startPrank(deskOwner);
        desk.optIn(y);
        desk.allocate(pool, y, SHARED, 1e18);
        vm.stopPrank();

        uint256 leaseId = _fillAsDesk(_bid(200 ether, SHARED, 1000, TERM), _ask(400 ether, SHARED, 500), 200 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        vm.warp(l.start + TERM / 2);
        (uint256 paid,) = market.stream(leaseId);
        assertEq(paid, 10 ether, "the first half in full");

        // Y takes 300 of the shared 400. A shared slash keeps the other compartments' assets while they fit, but the
        // pool now holds 100: the lease's backing falls to 100, half of what was leased.
        _slash(moduleY, y, pool, 0.75e18);
        assertEq(manager.slashableBacking(avs, pool), 100 ether);

        vm.warp(l.start + TERM);
        uint256 refunded;
        (paid, refunded) = market.stream(leaseId);
        assertEq(paid, 5 ether, "the second half at half the backing");
        assertEq(refunded, 5 ether, "the shortfall returns to the AVS");
        assertEq(market.credits(avsAdmin, address(weth)), 5 ether);
        // Stakers: 9 for the first half, 4.5 for the second (after commission), by shares (unchanged by the slash).
        assertEq(rail.claimable(pool, alice), 2.25 ether + 1.125 ether);
        assertEq(rail.claimable(pool, bob), 6.75 ether + 3.375 ether);
    }

    function test_aFallAndRecoveryBetweenTwoStreamsIsPaidAtTheLowerEnd() public {
        uint256 leaseId = _fillAsDesk(_bid(200 ether, ISOLATED, 1000, TERM), _ask(400 ether, ISOLATED, 500), 200 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        vm.warp(l.start + 10 days);
        vm.prank(bob);
        uint256 wid = vault.queueWithdrawal(pool, 300 ether); // the pool falls to 100: the backing to 50
        vm.warp(block.timestamp + ESCROW);
        market.stream(leaseId); // the span since the start is paid at the fall's sample
        vm.prank(bob);
        vault.completeWithdrawal(wid, bob);
        _deposit(bob, address(desk), weth, 300 ether); // back to 400
        vm.warp(l.start + TERM);
        market.stream(leaseId);
        l = market.leases(leaseId);
        assertEq(l.paid + l.refunded, l.premium, "premium conservation");
        assertGt(l.refunded, 0, "nobody is paid for backing not provided");
    }

    // ================================================================== example 3: a commission raise cannot front-run

    function test_example3_aCommissionRaiseCannotFrontRunThePayment() public {
        uint256 leaseId = _fillAsDesk(_bid(200 ether, ISOLATED, 1000, TERM), _ask(400 ether, ISOLATED, 500), 200 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        vm.warp(l.start + 73 days);
        market.stream(leaseId); // 4 WETH at 10%
        vm.prank(deskOwner);
        desk.setCommission(pool, 5000); // in effect 7 days later
        vm.warp(l.start + 146 days);
        (uint256 paid, uint256 refunded) = market.stream(leaseId);
        assertEq(paid, 4 ether, "the stakers are paid the span");
        assertEq(refunded, 0);
        assertEq(rail.commissionOwed(address(desk), address(weth)), 0.8 ether, "at the bid's 10%, never 50%");
        assertEq(rail.claimable(pool, alice), 1.8 ether, "3.6 + 3.6 to stakers, 100 of 400 shares");
    }

    function test_aPendingRaiseNeverReachesTheLease() public {
        vm.prank(deskOwner);
        desk.setCommission(pool, 2000);
        uint256 leaseId = _fillAsDesk(_bid(200 ether, ISOLATED, 1000, TERM), _ask(400 ether, ISOLATED, 500), 200 ether);
        vm.warp(market.leases(leaseId).start + TERM);
        (uint256 paid,) = market.stream(leaseId);
        assertEq(paid, 20 ether);
        assertEq(rail.commissionOwed(address(desk), address(weth)), 2 ether, "10%: the bid's limit");
    }

    // ================================================================== early end, holds, cancels

    function test_aFullSlashEndsTheLeaseAndRefundsTheRest() public {
        manager.setGuard(1e18, 1 days);
        uint256 leaseId = _fillAsDesk(_bid(400 ether, ISOLATED, 1000, TERM), _ask(400 ether, ISOLATED, 500), 400 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        vm.warp(l.start + TERM / 4);
        (uint256 paid,) = market.stream(leaseId);
        assertEq(paid, 10 ether, "a quarter of 40");
        _slash(module, avs, pool, 1e18); // the whole pool
        (uint256 paidAfter, uint256 refunded) = market.stream(leaseId);
        assertEq(paidAfter, 0);
        assertEq(refunded, 30 ether, "the rest of the term");
        l = market.leases(leaseId);
        assertTrue(l.ended);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.LeaseEnded.selector, leaseId));
        market.stream(leaseId);
    }

    function test_theDeskCannotLowerOrLeaveALeaseBeforeItsEnd() public {
        uint256 leaseId = _fillAsDesk(_bid(200 ether, ISOLATED, 1000, TERM), _ask(400 ether, ISOLATED, 500), 200 ether);
        uint48 end = market.leases(leaseId).end;
        assertEq(desk.heldUntil(avs), end);
        vm.warp(end - 1);
        vm.startPrank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.LeaseHoldsAVS.selector, avs, end));
        desk.allocate(pool, avs, ISOLATED, 0);
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.LeaseHoldsAVS.selector, avs, end));
        desk.allocate(pool, avs, SHARED, 0.9e18);
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.LeaseHoldsAVS.selector, avs, end));
        desk.optOut(avs);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.NotMarket.selector, address(this)));
        desk.leaseAllocate(pool, avs, ISOLATED, 1, 1 days);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotPoolOperator.selector, pool, deskOwner));
        vm.prank(deskOwner);
        manager.allocate(pool, avs, ISOLATED, 0); // the desk is the operator: its owner has no way around it

        vm.warp(end);
        market.stream(leaseId);
        assertTrue(market.leases(leaseId).ended);
        vm.prank(deskOwner);
        desk.optOut(avs);
    }

    function test_cancellingAPartlyFilledBidLeavesNothingEscrowed() public {
        uint256 bidId = _bid(200 ether, ISOLATED, 1000, TERM);
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        _fillAsAVS(bidId, askId, 100 ether); // 5 WETH of premium
        vm.prank(avsAdmin);
        market.cancelBid(bidId);
        assertEq(market.credits(avsAdmin, address(weth)), 15 ether, "20 escrowed - 5 leased");
        assertEq(market.bids(bidId).escrow, 0);
        vm.prank(avsAdmin);
        market.withdraw(address(weth), avsAdmin);
        assertEq(weth.balanceOf(address(market)), 5 ether, "the lease's premium, still streaming");
        vm.prank(avsAdmin);
        vm.expectRevert(ISecurityMarket.OrderClosed.selector);
        market.cancelBid(bidId);
        vm.prank(deskOwner);
        market.cancelAsk(askId);
        assertEq(market.asks(askId).capacity, 0);
    }

    /// A partial fill at the ask's lower price: the surplus of the escrow it releases returns at once, and what stays
    /// escrowed is exactly the premium of the backing still wanted at the bid's price.
    function test_aPartialFillAtALowerPriceReturnsTheSurplusAtOnce() public {
        uint256 bidId = _bid(200 ether, ISOLATED, 1000, TERM);
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        _fillAsAVS(bidId, askId, 100 ether); // releases 10 of the 20 escrowed; 5 is the lease's premium
        assertEq(market.credits(avsAdmin, address(weth)), 5 ether, "10 released - 5 premium");
        assertEq(market.bids(bidId).escrow, 10 ether, "the 100 still wanted at 10% a year");
        assertEq(weth.balanceOf(address(market)), 20 ether, "10 for the bid, 5 for the lease, 5 to withdraw");
    }

    /// The escrow's rounding: a fill's release can exceed its premium by a wei, which returns to the AVS; the market
    /// never holds less than the bid and its leases are owed.
    function testFuzz_fillsReleaseNoLessThanTheirPremium(uint88 backing, uint88 part, uint40 term, uint16 price)
        public
    {
        backing = uint88(bound(backing, 1e12, 300 ether));
        part = uint88(bound(part, 1, backing));
        term = uint40(bound(term, 1 days, 730 days));
        price = uint16(bound(price, 500, 10_000));
        vm.prank(avsAdmin);
        uint256 bidId = market.postBid(avs, address(weth), backing, ISOLATED, 0, term, price, 1000);
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        uint256 escrowed = weth.balanceOf(address(market));
        uint256 premium = uint256(part) * 500 * term / (10_000 * 365 days);
        vm.assume(premium != 0);
        uint256 leaseId = _fillAsAVS(bidId, askId, part);
        assertEq(market.leases(leaseId).premium, premium);
        assertEq(
            market.bids(bidId).escrow + market.credits(avsAdmin, address(weth)) + premium, escrowed, "conservation"
        );
        assertEq(
            market.bids(bidId).escrow,
            Math.mulDiv(uint256(backing - part) * price, term, 10_000 * 365 days, Math.Rounding.Ceil)
        );
    }

    /// Bids name their asset by an index given the first time; an asset the vault does not allow gets none.
    function test_assetsAreIndexedOnceAndOnlyWhenAllowed() public {
        _bid(200 ether, ISOLATED, 1000, TERM);
        _bid(100 ether, SHARED, 800, TERM);
        assertEq(market.assetCount(), 1);
        assertEq(market.assetAt(1), address(weth));
        assertEq(market.assetIndex(address(weth)), 1);
        address stray = makeAddr("stray");
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.AssetNotAllowed.selector, stray));
        market.postBid(avs, stray, 1 ether, ISOLATED, 0, TERM, 1000, 1000);
        assertEq(market.assetCount(), 1);
        assertEq(market.bids(2).asset, address(weth), "read back through the index");
    }

    // ================================================================== refusals

    function test_postBidRefusesBadTerms() public {
        vm.startPrank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidMode.selector, IAllocationManager.Mode.None));
        market.postBid(avs, address(weth), 1 ether, IAllocationManager.Mode.None, 0, TERM, 1000, 1000);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidTerm.selector, 1 hours, 1 days, 730 days));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, 0, 1 hours, 1000, 1000);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidPrice.selector, 0));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, 0, TERM, 0, 1000);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.CommissionLimitTooHigh.selector, 6000, 5000));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, 0, TERM, 1000, 6000);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.AssetNotAllowed.selector, address(0xbeef)));
        market.postBid(avs, address(0xbeef), 1 ether, ISOLATED, 0, TERM, 1000, 1000);
        vm.expectRevert(ISecurityMarket.ZeroAmount.selector);
        market.postBid(avs, address(weth), 0, ISOLATED, 0, TERM, 1000, 1000);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotAVSAdmin.selector, avs, address(this)));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, 0, TERM, 1000, 1000);
    }

    function test_postAskRefusesStrangersAndPoolsOfOtherOperators() public {
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotDeskOwner.selector, address(desk), address(this)));
        market.postAsk(pool, 1 ether, ISOLATED, 500, TERM);
        (uint256 plain,) = _deposit(alice, opA, weth, 1 ether);
        vm.prank(opA);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotADesk.selector, opA));
        market.postAsk(plain, 1 ether, ISOLATED, 500, TERM);
    }

    function test_fillRefusesOrdersThatDoNotMatch() public {
        uint256 isoBid = _bid(200 ether, ISOLATED, 1000, TERM);
        uint256 sharedAsk = _ask(400 ether, SHARED, 500);
        vm.startPrank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.ModeMismatch.selector, ISOLATED, SHARED));
        market.fill(isoBid, sharedAsk, 1 ether);
        uint256 dearAsk = market.postAsk(pool, 400 ether, ISOLATED, 2000, 730 days);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.PriceMismatch.selector, 2000, 1000));
        market.fill(isoBid, dearAsk, 1 ether);
        uint256 shortAsk = market.postAsk(pool, 400 ether, ISOLATED, 500, 30 days);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.TermTooLong.selector, TERM, 30 days));
        market.fill(isoBid, shortAsk, 1 ether);
        uint256 askId = market.postAsk(pool, 1000 ether, ISOLATED, 500, 730 days);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.AmountAboveOrder.selector, 300 ether, 200 ether));
        market.fill(isoBid, askId, 300 ether);
        vm.stopPrank();

        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotOrderOwner.selector, address(this)));
        market.fill(isoBid, askId, 1 ether);

        usdc.mint(avsAdmin, 100e6);
        vm.startPrank(avsAdmin);
        usdc.approve(address(market), 100e6);
        uint256 usdcBid = market.postBid(avs, address(usdc), 100e6, ISOLATED, 0, TERM, 1000, 1000);
        vm.stopPrank();
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.AssetMismatch.selector, address(usdc), address(weth)));
        market.fill(usdcBid, askId, 1e6);

        vm.prank(avsAdmin);
        uint256 bigBid = market.postBid(avs, address(weth), 500 ether, ISOLATED, 0, TERM, 1000, 1000);
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.BackingAbovePool.selector, 500 ether, 400 ether));
        market.fill(bigBid, askId, 500 ether);

        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidRating.selector, 5000));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, 5000, TERM, 1000, 1000); // no reputation layer here
    }

    function test_onePairOneLeaseAtATime() public {
        uint256 bidId = _bid(200 ether, ISOLATED, 1000, TERM);
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        uint256 leaseId = _fillAsDesk(bidId, askId, 100 ether);
        uint48 start = market.leases(leaseId).start;
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.PendingChange.selector, start));
        market.fill(bidId, askId, 100 ether);
        vm.warp(start);
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.PairAllocated.selector, pool, avs));
        market.fill(bidId, askId, 50 ether); // would lower the lease's allocation: refused
        vm.prank(deskOwner);
        vm.expectRevert(IAllocationManager.NoChange.selector);
        market.fill(bidId, askId, 100 ether);
    }

    function test_aPairTheOperatorAllocatedItselfCannotBeLeased() public {
        vm.prank(deskOwner);
        desk.allocate(pool, avs, ISOLATED, 0.1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        uint256 bidId = _bid(200 ether, ISOLATED, 1000, TERM);
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.PairAllocated.selector, pool, avs));
        market.fill(bidId, askId, 100 ether);
    }

    function test_aDeskMustHaveOptedInToTheAVS() public {
        uint32 other = _instantAVS(makeAddr("moduleZ"), sink);
        vm.prank(avsAdmin);
        uint256 bidId = market.postBid(other, address(weth), 1 ether, ISOLATED, 0, TERM, 1000, 1000);
        uint256 askId = _ask(400 ether, ISOLATED, 500);
        vm.prank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotOptedIn.selector, other, address(desk)));
        market.fill(bidId, askId, 1 ether);
    }

    function test_unknownIdsAndEmptyCreditsAreRefused() public {
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.UnknownBid.selector, 7));
        market.cancelBid(7);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.UnknownAsk.selector, 7));
        market.cancelAsk(7);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.UnknownLease.selector, 7));
        market.stream(7);
        vm.expectRevert(ISecurityMarket.NothingToWithdraw.selector);
        market.withdraw(address(weth), address(this));
    }

    // ================================================================== properties

    /// @dev Any schedule of streams, withdrawals, redeposits and slashes: every lease's premium is paid, refunded or
    /// still escrowed to the wei, and the market holds exactly the escrow, the unstreamed premiums and the credits.
    function testFuzz_premiumAndTokensAreConserved(uint256 seed) public {
        manager.setGuard(1e18, 1 days);
        uint256 bidId = _bid(300 ether, ISOLATED, 1000, TERM);
        uint256 askId = _ask(400 ether, ISOLATED, 300);
        uint256 leaseId = _fillAsAVS(bidId, askId, 150 ether);
        for (uint256 step; step < 10; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            vm.warp(block.timestamp + r % 60 days);
            uint256 kind = (r >> 64) % 4;
            if (kind == 0 && !market.leases(leaseId).ended) {
                market.stream(leaseId);
            } else if (kind == 1) {
                (uint256 held,) = vault.positionOf(pool, bob);
                if (held != 0) {
                    vm.prank(bob);
                    vault.queueWithdrawal(pool, 1 + (r >> 128) % held);
                }
            } else if (kind == 2) {
                _deposit(alice, address(desk), weth, 1 + (r >> 128) % 100 ether);
            } else if (manager.slashableBacking(avs, pool) != 0) {
                vm.prank(module);
                try manager.slash(avs, pool, uint64(1 + (r >> 128) % 0.5e18)) {} catch {}
            }
            ISecurityMarket.LeaseView memory l = market.leases(leaseId);
            uint256 streamed = l.streamedTo <= l.start ? 0 : uint256(l.premium) * (l.streamedTo - l.start) / TERM;
            assertEq(l.paid + l.refunded, streamed, "streamed = paid + refunded");
            assertLe(streamed, l.premium);
            uint256 unstreamed = l.premium - streamed;
            assertEq(
                weth.balanceOf(address(market)),
                market.bids(bidId).escrow + unstreamed + market.credits(avsAdmin, address(weth)),
                "market tokens"
            );
        }
    }
}
