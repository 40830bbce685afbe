// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IOperatorDesk} from "../../contracts/interfaces/IOperatorDesk.sol";
import {IRewardRail} from "../../contracts/interfaces/IRewardRail.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {ISecurityMarket} from "../../contracts/interfaces/ISecurityMarket.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";

/// @notice Adversarial review of the reward rail, the security market and the operator desk (attacked from the code
/// and the interfaces' NatSpec only). `test_F*` fail while the finding stands; `test_ok_*` pin promises that held.
/// Fixture: desk pool `pool` = alice 100 + bob 300 WETH (400 shares), rewards on, commission 10% (default).
contract MarketReviewTest is MarketFixture {
    address internal eve = makeAddr("eve");
    address internal mallory = makeAddr("mallory");

    // ================================================================== findings (fail while the bug exists)

    /// F1 (Medium): base shares moved into a tier stay in the base pool's `earningShares` (`p.shares`), but no
    /// position holds them in the base, so the base's payments are shared over shares nobody can claim for: their
    /// part is locked in the rail for good, and every base staker is underpaid. IStakeVault promises earning shares
    /// are "positions of the current generation plus escrow not yet settled".
    function test_F1_tierHeldBaseSharesLockBaseRewards() public {
        vault.setTierAllowed(pool, true);
        vm.prank(deskOwner);
        desk.approveTierOperator(pool, opA, true);
        vm.prank(bob);
        vault.depositToTier(pool, opA, 200 ether); // bob's base position: 100 shares; 200 held by the tier

        (uint256 toStakers,) = _pay(pool, 10 ether);
        uint256 claimableAll = rail.claimable(pool, alice) + rail.claimable(pool, bob);
        assertApproxEqAbs(claimableAll, toStakers, 2, "half the stakers' payment is claimable by nobody");
        assertEq(vault.earningShares(pool), 200 ether, "earning shares = positions (alice 100 + bob 100) + escrow");
    }

    /// F2 (Medium, open; docs/market.md "Known limits"): the market pays a lease's premium in lumps (`stream`), and
    /// the rail shares each lump over the shares at that instant. A depositor who deposits and calls `stream` in one
    /// transaction takes a pro-rata part of the unstreamed span's premium. Pinned here with its bound: at most its
    /// share of what was unstreamed, and its shares stay at the pool's risk through the escrow delay to leave.
    function test_limit_F2_aJustInTimeDepositSharesTheUnstreamedSpan() public {
        uint256 leaseId =
            _fillAsDesk(_bid(400 ether, ISOLATED, 1000, 365 days), _ask(400 ether, ISOLATED, 1000), 200 ether);
        vm.warp(market.leases(leaseId).start + 30 days);

        (, uint256 shares) = _deposit(eve, address(desk), weth, 400 ether);
        (uint256 paid,) = market.stream(leaseId);
        uint256 wid = _queue(eve, pool, shares);
        uint256 eveGot = rail.claimable(pool, eve) + rail.claimableEscrow(wid);
        assertGt(eveGot, 0, "the limit as documented");
        assertLe(eveGot, paid / 2, "at most her share (half the shares) of the span");
        IStakeVault.WithdrawalView memory w = vault.getWithdrawal(wid);
        assertEq(w.maturity, block.timestamp + ESCROW, "and her stake stays slashable for the escrow delay");
    }

    /// F3 (fixed): the desk owner cannot shrink a *shared* lease by carving an isolated allocation out of the pool's
    /// shared stake: while a shared lease holds the pool, isolated increases on it wait (`SharedLeaseHoldsPool`).
    function test_F3_deskOwnerCannotShrinkASharedLeaseWithAnIsolatedAllocation() public {
        uint256 leaseId = _fillAsDesk(_bid(300 ether, SHARED, 1000, 365 days), _ask(300 ether, SHARED, 1000), 300 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        vm.warp(l.start);
        assertApproxEqAbs(manager.slashableBacking(avs, pool), 300 ether, 1);

        vm.startPrank(deskOwner);
        uint32 own = manager.registerAVS("ipfs://own", makeAddr("ownModule"), makeAddr("ownSink"), address(0), 0, 1e18);
        desk.optIn(own);
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.SharedLeaseHoldsPool.selector, pool, l.end));
        desk.allocate(pool, own, ISOLATED, 0.5e18);
        desk.allocate(pool, own, SHARED, 0.5e18); // shared backing beside it is fine
        vm.stopPrank();
        vm.warp(block.timestamp + ALLOC_DELAY);
        assertApproxEqAbs(manager.slashableBacking(avs, pool), 300 ether, 1, "the lease's backing stays");
    }

    /// F4 (Low, open): the manager takes one pending isolated increase per pool, so an AVS the desk serves can fill
    /// the desk's isolated ask for dust and hold off other isolated fills on the pool for one allocation delay. The
    /// desk chose that AVS (it must have opted in), and the refusal is the manager's named error.
    function test_limit_F4_aDustIsolatedFillHoldsOffOthersForOneDelay() public {
        uint256 askId = _ask(400 ether, ISOLATED, 100);
        uint256 honestBid = _bid(200 ether, ISOLATED, 100, 30 days);

        vm.startPrank(mallory);
        uint32 mAvs = manager.registerAVS("ipfs://m", makeAddr("mModule"), mallory, address(0), 0, 1e18);
        weth.mint(mallory, 1 ether);
        weth.approve(address(market), type(uint256).max);
        uint256 mBid = market.postBid(mAvs, address(weth), 1e6, ISOLATED, 0, 1 days, 100, 1000);
        vm.stopPrank();
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotOptedIn.selector, mAvs, address(desk)));
        market.fill(mBid, askId, 1e6); // a stranger AVS cannot: the desk has not chosen it
        vm.prank(deskOwner);
        desk.optIn(mAvs);
        vm.prank(mallory);
        market.fill(mBid, askId, 1e6);

        IAllocationManager.PoolState memory st = manager.getPoolState(pool);
        vm.prank(avsAdmin);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAllocationManager.IsolatedIncreasePending.selector, pool, mAvs, st.pendingIsolatedAt
            )
        );
        market.fill(honestBid, askId, 200 ether);
        vm.warp(st.pendingIsolatedAt);
        vm.prank(avsAdmin);
        market.fill(honestBid, askId, 200 ether); // after one allocation delay
    }

    /// F5 (fixed): an AVS that ejects the desk ends its leases: the next stream closes the lease and refunds the rest,
    /// and the desk's hold on the AVS is lifted, so its allocation can be freed at once.
    function test_F5_anEjectionEndsTheLeaseAndLiftsTheHold() public {
        uint256 leaseId =
            _fillAsDesk(_bid(200 ether, ISOLATED, 1000, 730 days), _ask(200 ether, ISOLATED, 1000), 200 ether);
        vm.warp(market.leases(leaseId).start + 1 days);
        market.stream(leaseId);
        vm.prank(avsAdmin);
        manager.ejectOperator(avs, address(desk));
        (uint256 paid, uint256 refunded) = market.stream(leaseId);
        assertEq(paid, 0);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        assertTrue(l.ended, "ended by the ejection");
        assertEq(refunded, l.premium - l.paid, "the rest of the term back to the AVS");
        assertEq(l.paid + l.refunded, l.premium);
        vm.prank(deskOwner);
        desk.allocate(pool, avs, ISOLATED, 0); // the hold is gone
    }

    /// F6a (fixed): a commission raise above the bid's limit does not cost the stakers the span: the rail charges the
    /// lease the bid's limit at most, so the span is paid in full to them.
    function test_F6a_aRaiseAboveTheLimitStillPaysTheStakersTheSpan() public {
        uint256 leaseId =
            _fillAsDesk(_bid(200 ether, ISOLATED, 1000, 365 days), _ask(200 ether, ISOLATED, 1000), 200 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        vm.warp(l.start + 23 days);
        vm.prank(deskOwner);
        desk.setCommission(pool, 2000); // effective at start + 30 days
        vm.warp(l.start + 30 days);
        (uint256 paid,) = market.stream(leaseId);
        uint256 inTerms = uint256(l.premium) * 30 days / 365 days;
        assertApproxEqAbs(paid, inTerms, 1, "the whole span is paid");
        assertEq(rail.commissionOwed(address(desk), address(weth)), paid / 10, "at the bid's 10%, not 20%");
    }

    /// F6b (fixed): a raise above the limit for part of a span never charges the lease more than the bid's limit.
    function test_F6b_aSpanAboveTheLimitIsChargedTheLimit() public {
        uint256 leaseId =
            _fillAsDesk(_bid(200 ether, ISOLATED, 1000, 365 days), _ask(200 ether, ISOLATED, 1000), 200 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        vm.warp(l.start);
        vm.prank(deskOwner);
        desk.setCommission(pool, 2000); // above the limit from start + 7 days
        vm.warp(l.start + 7 days);
        vm.prank(deskOwner);
        desk.setCommission(pool, 1000); // back within it from start + 14 days
        vm.warp(l.start + 14 days);
        (uint256 paid,) = market.stream(leaseId);
        assertEq(rail.commissionOwed(address(desk), address(weth)), paid / 10);
    }

    /// F7 (fixed): without a reputation layer a bid cannot ask for a rating (it could never be filled), and a rating
    /// above one is refused by its own error.
    function test_F7_aRatingWithoutReputationIsRefused() public {
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidRating.selector, 5000));
        market.postBid(avs, address(weth), 100 ether, ISOLATED, 5000, 30 days, 1000, 1000);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidRating.selector, 10_001));
        market.postBid(avs, address(weth), 100 ether, ISOLATED, 10_001, 30 days, 1000, 1000);
    }

    // ================================================================== promises confirmed (pass)

    /// A deposit right after a payment earns nothing of it; right before, only from then; no claim of another's.
    function test_ok_depositTimingAndNoClaimOfOthers() public {
        (uint256 toStakers,) = _pay(pool, 4 ether);
        _deposit(eve, address(desk), weth, 400 ether);
        assertEq(rail.claimable(pool, eve), 0);
        assertEq(rail.claimable(pool, alice), toStakers / 4);
        (uint256 second,) = _pay(pool, 8 ether);
        assertEq(rail.claimable(pool, eve), second / 2);
        assertEq(rail.claimable(pool, alice), toStakers / 4 + second / 8);
        assertEq(_claimRewards(eve, pool), second / 2);
        vm.prank(eve);
        vm.expectRevert(IRewardRail.NothingToClaim.selector);
        rail.claim(pool, eve);
        assertEq(_claimRewards(alice, pool), toStakers / 4 + second / 8);
    }

    /// Escrow earns until maturity (settled by the payment), nothing after; the staker keeps its own claim only.
    function test_ok_escrowEarnsUntilMaturityOnly() public {
        uint256 wid = _queue(alice, pool, 100 ether);
        (uint256 a,) = _pay(pool, 4 ether);
        assertEq(rail.claimableEscrow(wid), a / 4);
        vm.warp(block.timestamp + ESCROW);
        (uint256 b,) = _pay(pool, 3 ether); // settles alice's matured escrow first
        assertEq(rail.claimableEscrow(wid), a / 4);
        assertEq(rail.claimable(pool, bob), a * 3 / 4 + b);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.NotWithdrawalOwner.selector, wid, alice));
        rail.claimEscrow(wid, bob);
        assertEq(_claimEscrow(alice, wid), a / 4);
        vm.expectRevert(IRewardRail.NothingToClaim.selector);
        _claimEscrow(alice, wid);
    }

    /// A full slash ends the generation: its shares earn nothing after, new shares nothing before.
    function test_ok_fullSlashEndsGeneration() public {
        (uint256 a,) = _pay(pool, 4 ether);
        manager.setGuard(1e18, 1 days); // let a slash take everything at once
        _allocate(address(desk), pool, avs, ISOLATED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _slash(module, avs, pool, 1e18);
        assertEq(vault.earningShares(pool), 0);
        _deposit(eve, address(desk), weth, 10 ether);
        (uint256 b,) = _pay(pool, 1 ether);
        assertEq(rail.claimable(pool, alice), a / 4);
        assertEq(rail.claimable(pool, eve), b);
    }

    /// Commission: at most the payer's max, a raise only after the delay.
    function test_ok_commissionDelayAndPayerLimit() public {
        vm.prank(deskOwner);
        desk.setCommission(pool, 5000);
        (, uint256 c) = _pay(pool, 1 ether);
        assertEq(c, 0.1 ether);
        vm.warp(block.timestamp + 7 days);
        vm.prank(payer);
        (, c) = rail.pay(pool, 1 ether, 1000);
        assertEq(c, 0.1 ether, "capped at the payer's limit");
        vm.prank(deskOwner);
        vm.expectRevert();
        desk.setCommission(pool, 5001);
    }

    /// The desk owner cannot lower, re-mode or opt out of a leased AVS before the end; only the market allocates.
    function test_ok_deskCannotBreakLease() public {
        uint256 leaseId =
            _fillAsDesk(_bid(200 ether, ISOLATED, 1000, 30 days), _ask(200 ether, ISOLATED, 1000), 200 ether);
        uint48 end = market.leases(leaseId).end;
        vm.warp(end - 1);
        vm.startPrank(deskOwner);
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.LeaseHoldsAVS.selector, avs, end));
        desk.allocate(pool, avs, ISOLATED, 0);
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.LeaseHoldsAVS.selector, avs, end));
        desk.allocate(pool, avs, SHARED, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.LeaseHoldsAVS.selector, avs, end));
        desk.optOut(avs);
        vm.stopPrank();
        vm.prank(eve);
        vm.expectRevert(abi.encodeWithSelector(IOperatorDesk.NotMarket.selector, eve));
        desk.leaseAllocate(pool, avs, ISOLATED, 1, 1 days);
        assertApproxEqAbs(manager.slashableBacking(avs, pool), 200 ether, 1);
        vm.warp(end);
        vm.prank(deskOwner);
        desk.allocate(pool, avs, ISOLATED, 0); // the hold lapsed at the end
    }

    /// Premium conservation per lease and token conservation in the market through a partial fill, a withdrawal that
    /// lowers the backing, a commission breach refund, the end and a cancel (nothing left escrowed).
    function test_ok_premiumAndTokenConservation() public {
        uint256 bidId = _bid(300 ether, ISOLATED, 1000, 60 days);
        uint256 leaseId = _fillAsDesk(bidId, _ask(200 ether, ISOLATED, 1000), 200 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        vm.warp(l.start + 10 days);
        market.stream(leaseId);
        _queue(bob, pool, 200 ether);
        vm.warp(block.timestamp + ESCROW + 1);
        market.stream(leaseId); // ratio < 1 from here
        vm.warp(block.timestamp + 5 days);
        market.stream(leaseId);
        l = market.leases(leaseId);
        assertLt(l.paid, l.premium);
        uint256 streamed = l.paid + l.refunded;
        assertEq(streamed, l.premium * (l.streamedTo - l.start) / 60 days, "streamed = premium to date");
        assertEq(l.premium, l.paid + l.refunded + (l.premium - streamed));
        uint256 credit = market.credits(avsAdmin, address(weth));
        assertEq(weth.balanceOf(address(market)), market.bids(bidId).escrow + (l.premium - streamed) + credit);
        vm.prank(avsAdmin);
        market.cancelBid(bidId);
        assertEq(market.bids(bidId).escrow, 0);
        vm.warp(l.start + 60 days);
        market.stream(leaseId);
        l = market.leases(leaseId);
        assertEq(l.premium, l.paid + l.refunded);
        assertEq(weth.balanceOf(address(market)), market.credits(avsAdmin, address(weth)));
    }

    /// A full slash ends the lease at once: the rest refunds, nothing more is streamed.
    function test_ok_fullSlashEndsLeaseAndRefunds() public {
        uint256 leaseId =
            _fillAsDesk(_bid(400 ether, ISOLATED, 1000, 60 days), _ask(400 ether, ISOLATED, 1000), 400 ether);
        ISecurityMarket.LeaseView memory l = market.leases(leaseId);
        manager.setGuard(1e18, 1 days);
        vm.warp(l.start + 10 days);
        market.stream(leaseId);
        _slash(module, avs, pool, 1e18);
        (uint256 paid, uint256 refunded) = market.stream(leaseId);
        assertEq(paid, 0);
        l = market.leases(leaseId);
        assertTrue(l.ended);
        assertEq(l.premium, l.paid + l.refunded);
        assertGt(refunded, 0);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.LeaseEnded.selector, leaseId));
        market.stream(leaseId);
    }

    /// Named errors on bad input.
    function test_ok_namedErrors() public {
        vm.prank(eve);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotAVSAdmin.selector, avs, eve));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, 0, 30 days, 1000, 1000);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.InvalidTerm.selector, 1, 1 days, 730 days));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, 0, 1, 1000, 1000);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.CommissionLimitTooHigh.selector, 5001, 5000));
        market.postBid(avs, address(weth), 1 ether, ISOLATED, 0, 30 days, 1000, 5001);
        vm.prank(eve);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotDeskOwner.selector, address(desk), eve));
        market.postAsk(pool, 1 ether, ISOLATED, 100, 30 days);
        uint256 bidId = _bid(100 ether, ISOLATED, 1000, 30 days);
        uint256 askId = _ask(100 ether, SHARED, 1000);
        vm.prank(eve);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.NotOrderOwner.selector, eve));
        market.fill(bidId, askId, 1 ether);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.ModeMismatch.selector, ISOLATED, SHARED));
        market.fill(bidId, askId, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(ISecurityMarket.UnknownLease.selector, 7));
        market.stream(7);
        vm.expectRevert(ISecurityMarket.NothingToWithdraw.selector);
        market.withdraw(address(weth), eve);
        vm.prank(eve);
        vm.expectRevert(abi.encodeWithSelector(IRewardRail.NotPoolOperator.selector, pool, eve));
        rail.setCommission(pool, 100);
        vm.expectRevert(IRewardRail.ZeroAmount.selector);
        rail.pay(pool, 0, 5000);
    }
}
