// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {ISecurityMarket} from "../../contracts/interfaces/ISecurityMarket.sol";
import {OperatorDesk} from "../../contracts/market/OperatorDesk.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {MarketFixture} from "../utils/MarketFixture.sol";
import {MarketHandler} from "./handlers/MarketHandler.sol";

/// @notice The security market, its reward rail and its desks' pools under random sequences (`MarketHandler`): bids in
/// WETH (18 decimals) and WBTC (8) by two admins for four lessee AVSs, asks on two desks' four pools, fills by either
/// side (at the bid's or the ask's price, partly or wholly), cancels, streams by anyone, slashes by the lessees (a
/// quarter of them of all of their backing) and by a rival shared AVS through its veto flow (requests, vetoes,
/// executions, full slashes), deposits, withdrawals and claims by three stakers, commission changes and claims, credit
/// withdrawals, the desks' owners trying to lower or leave leased AVSs, and time (up to five days, or just past a
/// lease's end).
/// @dev One campaign checks all eight promises after every call (`invariant_marketPromises`): each `invariant_*`
/// function is a campaign of its own (runs × depth calls), and eight would not fit CI's budget (the whole campaign
/// takes ~50 s at the CI profile's 256 × 100 on two cores, the default profile's 64 × 64 ~6 s). Each promise is an
/// internal check below, named and stated in its NatSpec; each assertion's message starts with its number.
contract MarketInvariantsTest is MarketFixture {
    MarketHandler internal handler;
    uint256 internal constant H_MARKET = 12; // in `holders`
    uint256 internal constant H_RAIL = 13;

    address internal carol = makeAddr("carol");
    address internal deskOwner2 = makeAddr("deskOwner2");
    address internal admin2 = makeAddr("admin2");
    address internal module2 = makeAddr("module2");
    address internal module3 = makeAddr("module3");
    address internal module4 = makeAddr("module4");
    address internal moduleY = makeAddr("moduleY");
    address internal sink2 = makeAddr("sink2");
    address internal sinkY = makeAddr("sinkY");
    address internal stranger = makeAddr("stranger");

    OperatorDesk internal desk2;
    MockERC20[2] internal tokens;
    address[] internal holders;
    uint256[4] internal pools;
    uint32[4] internal avsIds;
    address[3] internal stakers;

    function setUp() public override {
        super.setUp();
        // Guard off (a whole pool in one slash): full slashes are part of the campaign.
        manager.setGuard(1e18, 1 days);
        tokens = [weth, wbtc];

        // desk: `pool` (alice 100, bob 300 WETH, earning) and a WBTC pool (alice 20, earning). desk2: a WETH pool (bob
        // 200, carol 50, earning) and a WBTC pool (carol 10) whose rewards the market turns on at its first fill.
        (uint256 wbtcPool,) = _deposit(alice, address(desk), wbtc, 20e8);
        vm.prank(deskOwner);
        desk.enableRewards(wbtcPool);
        vm.prank(deskOwner2);
        desk2 = OperatorDesk(market.openDesk("ipfs://desk2", makeAddr("desk2Key")));
        (uint256 pool2,) = _deposit(bob, address(desk2), weth, 200 ether);
        _deposit(carol, address(desk2), weth, 50 ether);
        vm.prank(deskOwner2);
        desk2.enableRewards(pool2);
        (uint256 wbtcPool2,) = _deposit(carol, address(desk2), wbtc, 10e8);

        MarketHandler.Config memory cfg;
        (cfg.market, cfg.manager, cfg.vault, cfg.rail) = (market, manager, vault, rail);
        cfg.tokens = tokens;
        cfg.desks = [desk, desk2];
        cfg.owners = [deskOwner, deskOwner2];
        cfg.pools = [pool, wbtcPool, pool2, wbtcPool2];
        cfg.admins = [avsAdmin, admin2];
        cfg.modules = [module, module2, module3, module4];
        // Four instant lessees, two per admin (refunds go to the admin), and a vetoable rival.
        cfg.avsIds[0] = avs;
        vm.prank(admin2);
        cfg.avsIds[1] = manager.registerAVS("ipfs://avs2", module2, sink2, address(0), 0, 1e18);
        vm.prank(avsAdmin);
        cfg.avsIds[2] = manager.registerAVS("ipfs://avs3", module3, sink, address(0), 0, 1e18);
        vm.prank(admin2);
        cfg.avsIds[3] = manager.registerAVS("ipfs://avs4", module4, sink2, address(0), 0, 1e18);
        cfg.rival = _vetoAVS(moduleY, sinkY);
        (cfg.rivalModule, cfg.resolver) = (moduleY, resolver);
        cfg.stakers = [alice, bob, carol];
        cfg.stranger = stranger;

        // Both desks join every AVS; the rival backs every pool shared, with all of it (its full slash empties a pool
        // that has no isolated stake).
        for (uint256 d; d < 2; ++d) {
            vm.startPrank(cfg.owners[d]);
            for (uint256 a; a < 4; ++a) {
                if (!manager.membership(cfg.avsIds[a], address(cfg.desks[d])).optedIn) {
                    cfg.desks[d].optIn(cfg.avsIds[a]);
                }
            }
            cfg.desks[d].optIn(cfg.rival);
            cfg.desks[d].allocate(cfg.pools[2 * d], cfg.rival, SHARED, 1e18);
            cfg.desks[d].allocate(cfg.pools[2 * d + 1], cfg.rival, SHARED, 1e18);
            vm.stopPrank();
        }
        vm.warp(block.timestamp + ALLOC_DELAY);
        for (uint256 a; a < 2; ++a) {
            vm.startPrank(cfg.admins[a]);
            weth.approve(address(market), type(uint256).max);
            wbtc.approve(address(market), type(uint256).max);
            vm.stopPrank();
        }

        handler = new MarketHandler(cfg);
        (pools, avsIds, stakers) = (cfg.pools, cfg.avsIds, cfg.stakers);
        // Everyone who may hold the tokens; anything anywhere else breaks conservation (7). The admins come first.
        address[14] memory known = [
            avsAdmin,
            admin2,
            alice,
            bob,
            carol,
            deskOwner,
            deskOwner2,
            payer,
            sink,
            sink2,
            sinkY,
            address(vault),
            address(market),
            address(rail)
        ];
        for (uint256 i; i < known.length; ++i) {
            holders.push(known[i]);
        }

        bytes4[] memory selectors = new bytes4[](30);
        selectors[0] = MarketHandler.postBid.selector;
        selectors[1] = MarketHandler.postAsk.selector;
        selectors[2] = MarketHandler.fill.selector;
        selectors[3] = MarketHandler.cancelBid.selector;
        selectors[4] = MarketHandler.cancelAsk.selector;
        selectors[5] = MarketHandler.stream.selector;
        selectors[6] = MarketHandler.warp.selector;
        selectors[7] = MarketHandler.warpPastLeaseEnd.selector;
        selectors[8] = MarketHandler.slash.selector;
        selectors[9] = MarketHandler.rivalRequest.selector;
        selectors[10] = MarketHandler.rivalResolve.selector;
        selectors[11] = MarketHandler.deposit.selector;
        selectors[12] = MarketHandler.queueWithdrawal.selector;
        selectors[13] = MarketHandler.completeWithdrawal.selector;
        selectors[14] = MarketHandler.claimRewards.selector;
        selectors[15] = MarketHandler.claimEscrow.selector;
        selectors[16] = MarketHandler.claimCommission.selector;
        selectors[17] = MarketHandler.withdrawCredits.selector;
        selectors[18] = MarketHandler.deskLowers.selector;
        selectors[19] = MarketHandler.setCommission.selector;
        // Fills, bids and streams are the subject; time drives every lease: more likely.
        selectors[20] = MarketHandler.fill.selector;
        selectors[21] = MarketHandler.fill.selector;
        selectors[22] = MarketHandler.postBid.selector;
        selectors[23] = MarketHandler.stream.selector;
        selectors[24] = MarketHandler.stream.selector;
        selectors[25] = MarketHandler.warp.selector;
        selectors[26] = MarketHandler.slash.selector;
        selectors[27] = MarketHandler.rivalResolve.selector;
        selectors[28] = MarketHandler.deskLowers.selector;
        selectors[29] = MarketHandler.warpPastLeaseEnd.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    // ================================================================== the campaign

    /// @dev The market's books, the handler's ledgers and every holder's balances, read once per check.
    struct Books {
        MarketHandler.BidGhost[] bidGhosts;
        ISecurityMarket.Bid[] bids;
        MarketHandler.LeaseGhost[] leaseGhosts;
        ISecurityMarket.LeaseView[] leases;
        MarketHandler.Ledger ledger;
        uint256[][2] balances; // [token][holder]
        uint256[2][2] credits; // [admin][token], the market's
    }

    /// @notice All eight promises, after every call.
    function invariant_marketPromises() public view {
        Books memory b = _books();
        _noUnexpectedRefusal(b);
        _premiumIsConservedPerLease(b);
        _marketIsSolventPerToken(b);
        _eachAdminsOutlayIsAccounted(b);
        _nobodyIsPaidForBackingNotProvided(b);
        _railCoversEverythingClaimable(b);
        _leasedAllocationNeverDropsBeforeItsEnd(b);
        _tokensAreConservedAcrossVaultMarketAndRail(b);
        _isolationHoldsForLessees(b);
    }

    function _books() internal view returns (Books memory b) {
        b.bidGhosts = handler.bids();
        b.bids = new ISecurityMarket.Bid[](b.bidGhosts.length);
        for (uint256 i; i < b.bids.length; ++i) {
            b.bids[i] = market.bids(i + 1);
        }
        b.leaseGhosts = handler.leases();
        b.leases = new ISecurityMarket.LeaseView[](b.leaseGhosts.length);
        for (uint256 i; i < b.leases.length; ++i) {
            b.leases[i] = market.leases(i + 1);
        }
        b.ledger = handler.ledger();
        for (uint256 t; t < 2; ++t) {
            b.balances[t] = new uint256[](holders.length);
            for (uint256 h; h < holders.length; ++h) {
                b.balances[t][h] = tokens[t].balanceOf(holders[h]);
            }
            b.credits[0][t] = market.credits(avsAdmin, address(tokens[t]));
            b.credits[1][t] = market.credits(admin2, address(tokens[t]));
        }
    }

    /// @notice Every handler call succeeded or was refused with an error expected for its action; every claim,
    /// commission claim and credit withdrawal paid exactly what the views showed.
    function _noUnexpectedRefusal(Books memory b) internal view {
        _assertNone(b, handler.V_REFUSAL());
        _assertNone(b, handler.V_CLAIM());
    }

    /// @notice 2. Premium conservation, per lease: paid + refunded ≤ premium, and = premium once the lease ended; the
    /// lease is exactly what its last stream left (paid, refunded, ended: only streams move it), and each stream moved
    /// paid and refunded only up and never reopened it. Each fill booked the docs' lease: premium ⌊amount·price·term /
    /// (10⁴·year)⌋ at the resting order's price (the bid's when the desk takes, the ask's when the AVS does), the bid's
    /// escrow down to ⌈left·maxPrice·term / (10⁴·year)⌉, the rest of the released escrow less the premium credited to
    /// the AVS at once; a cancel credits the whole escrow.
    function _premiumIsConservedPerLease(Books memory b) internal view {
        for (uint256 i; i < b.leases.length; ++i) {
            ISecurityMarket.LeaseView memory l = b.leases[i];
            MarketHandler.LeaseGhost memory g = b.leaseGhosts[i];
            assertEq(l.premium, g.premium, "2: a lease's premium moved");
            assertLe(l.paid + l.refunded, l.premium, "2: a lease streamed more than its premium");
            if (l.ended) assertEq(l.paid + l.refunded, l.premium, "2: an ended lease left premium behind");
            assertEq(l.paid, g.lastPaid, "2: paid moved outside a stream");
            assertEq(l.refunded, g.lastRefunded, "2: refunded moved outside a stream");
            assertEq(l.ended, g.ended, "2: a lease ended outside a stream");
        }
        _assertNone(b, handler.V_MONOTONE());
        _assertNone(b, handler.V_FILL());
        _assertNone(b, handler.V_CANCEL());
    }

    /// @notice 1. The market is solvent per token, to the wei: its balance = Σ open bids' escrow (`bids(id).escrow`,
    /// equal to the handler's ⌈left·maxPrice·term / (10⁴·year)⌉, 0 once filled or cancelled) + Σ leases' unstreamed
    /// premium (premium − paid − refunded) + Σ credits, each account's credits equal to the handler's ledger
    /// (surpluses at fills, cancels, stream refunds, less withdrawals).
    function _marketIsSolventPerToken(Books memory b) internal pure {
        for (uint256 t; t < 2; ++t) {
            uint256 owed;
            for (uint256 i; i < b.bids.length; ++i) {
                if (b.bidGhosts[i].tokenIndex != t) continue;
                assertEq(
                    b.bids[i].escrow, b.bidGhosts[i].escrow, "1: a bid's escrow is not left at its price, rounded up"
                );
                owed += b.bids[i].escrow;
            }
            for (uint256 i; i < b.leases.length; ++i) {
                if (b.leaseGhosts[i].tokenIndex != t) continue;
                owed += b.leases[i].premium - b.leases[i].paid - b.leases[i].refunded;
            }
            for (uint256 a; a < 2; ++a) {
                assertEq(b.credits[a][t], b.ledger.credits[a][t], "1: credits differ from the ledger");
                owed += b.credits[a][t];
            }
            assertEq(b.balances[t][H_MARKET], owed, "1: market balance != escrow + unstreamed + credits");
        }
    }

    /// @notice 3. Each AVS admin's outlay, per token, to the wei: what it sent the market (escrow at its bids) less
    /// what it withdrew = its bids' escrow still held + Σ over its AVSs' leases of (premium − refunded) (paid to the
    /// stakers or still unstreamed) + its credits; and that is exactly what left its wallet (minted to it − balance).
    function _eachAdminsOutlayIsAccounted(Books memory b) internal pure {
        for (uint256 t; t < 2; ++t) {
            uint256[2] memory outlay;
            for (uint256 i; i < b.bids.length; ++i) {
                if (b.bidGhosts[i].tokenIndex == t) outlay[b.bidGhosts[i].avsIndex % 2] += b.bids[i].escrow;
            }
            for (uint256 i; i < b.leases.length; ++i) {
                if (b.leaseGhosts[i].tokenIndex != t) continue;
                outlay[b.leaseGhosts[i].avsIndex % 2] += b.leases[i].premium - b.leases[i].refunded;
            }
            for (uint256 a; a < 2; ++a) {
                uint256 net = b.ledger.sent[a][t] - b.ledger.withdrawn[a][t];
                assertEq(net, outlay[a] + b.credits[a][t], "3: an admin's outlay is not accounted for");
                // Holders 0 and 1 are the two admins.
                assertEq(b.ledger.funded[a][t] - b.balances[t][a], net, "3: an admin's wallet moved otherwise");
            }
        }
    }

    /// @notice 4. Nobody is paid for backing not provided. Per lease: start ≤ streamedTo ≤ end and paid + refunded =
    /// ⌊premium·(streamedTo − start) / term⌋ to the wei (nothing streams before the start nor past the point streamed
    /// to); paid ≤ Σ over its streams of ⌊due · min(provided at the span's two ends) / leased⌋, where provided =
    /// min(slashable backing, leased) as the handler sampled it in each stream's block (leased before the first), each
    /// stream also checked at its call (paid · leased ≤ due · min); and a lease whose pool was fully slashed is paid
    /// nothing from then on (so one slashed out before its first backed second is paid 0).
    function _nobodyIsPaidForBackingNotProvided(Books memory b) internal view {
        for (uint256 i; i < b.leases.length; ++i) {
            ISecurityMarket.LeaseView memory l = b.leases[i];
            MarketHandler.LeaseGhost memory g = b.leaseGhosts[i];
            assertGe(l.streamedTo, l.start, "4: streamed from before the start");
            assertLe(l.streamedTo, l.end, "4: streamed past the end");
            assertEq(
                l.paid + l.refunded,
                l.premium * (l.streamedTo - l.start) / (l.end - l.start),
                "4: streamed != the premium up to streamedTo"
            );
            assertLe(l.paid, g.paidBound, "4: paid above the lower samples of its spans");
            if (g.fullySlashed) assertEq(l.paid, g.paidAtFullSlash, "4: paid after its pool was fully slashed");
        }
        _assertNone(b, handler.V_STREAM());
    }

    /// @notice 5. The rail covers everything claimable, per token: Σ leases' paid = what the streams paid it; its
    /// balance = that − Σ claimed (to the wei), ≥ Σ stakers' `claimable` over the token's pools + Σ `claimableEscrow`
    /// of every queued withdrawal + Σ desks' `commissionOwed`; what is left over is rounding dust, at most one wei
    /// per earner and payment, plus the payment's own.
    function _railCoversEverythingClaimable(Books memory b) internal view {
        uint256[] memory ids = b.ledger.withdrawals;
        for (uint256 t; t < 2; ++t) {
            address token = address(tokens[t]);
            uint256 paid;
            for (uint256 i; i < b.leases.length; ++i) {
                if (b.leaseGhosts[i].tokenIndex == t) paid += b.leases[i].paid;
            }
            uint256 held = b.balances[t][H_RAIL];
            assertEq(paid, b.ledger.railIn[t], "5: leases' paid != what streams paid");
            assertEq(held, paid - b.ledger.railOut[t], "5: rail balance != paid in - claimed");
            uint256 owed;
            uint256 earners = 2; // the desks
            for (uint256 p = t; p < 4; p += 2) {
                for (uint256 s; s < 3; ++s) {
                    owed += rail.claimable(pools[p], stakers[s]);
                    ++earners;
                }
            }
            for (uint256 i; i < ids.length; ++i) {
                // A withdrawal's id carries its pool in its high bits.
                if (ids[i] >> 64 != pools[t] && ids[i] >> 64 != pools[t + 2]) continue;
                owed += rail.claimableEscrow(ids[i]);
                ++earners;
            }
            owed += rail.commissionOwed(address(desk), token) + rail.commissionOwed(address(desk2), token);
            assertLe(owed, held, "5: more claimable than the rail holds");
            assertLe(held - owed, (earners + 1) * b.ledger.payments[t], "5: more than rounding left in the rail");
        }
    }

    /// @notice 6. A lease's allocation never drops before its end: every attempt by the desk's owner to lower an
    /// allocation to, or to opt out of, an AVS with a running lease on the desk was refused with `LeaseHoldsAVS`
    /// naming the leases' latest end (the ghost counter of successful early lowerings stays 0), and none was refused
    /// so once they all ended; for each live lease (before its end, its pool not fully slashed) the allocation's
    /// committed weight (`getAllocation(pool, avs).pending`) is at least its weight at the fill, lowered only by the
    /// slashes of the pool (its own cut; for an isolated increase not settled yet, the clip to the shared stake a
    /// shared slash left).
    function _leasedAllocationNeverDropsBeforeItsEnd(Books memory b) internal view {
        _assertNone(b, handler.V_EARLY_LOWER());
        _assertNone(b, handler.V_HOLD());
        for (uint256 i; i < b.leases.length; ++i) {
            MarketHandler.LeaseGhost memory g = b.leaseGhosts[i];
            if (block.timestamp >= g.end || g.fullySlashed) continue;
            IAllocationManager.Allocation memory al = manager.getAllocation(pools[g.poolIndex], avsIds[g.avsIndex]);
            assertGe(al.pending, g.weightFloor, "6: a live lease's allocation dropped");
        }
    }

    /// @notice 7. Tokens are conserved across the vault, the market and the rail, per token: Σ minted = total supply =
    /// Σ balances of the actors (admins, stakers, desks' owners, the payer), the sinks, the vault, the market and the
    /// rail (nothing anywhere else); and the market's balance = Σ admins' (sent − withdrawn) − Σ paid to the rail.
    function _tokensAreConservedAcrossVaultMarketAndRail(Books memory b) internal view {
        for (uint256 t; t < 2; ++t) {
            uint256 sum;
            for (uint256 h; h < holders.length; ++h) {
                sum += b.balances[t][h];
            }
            assertEq(tokens[t].totalSupply(), b.ledger.minted[t], "7: minted outside the ledger");
            assertEq(sum, b.ledger.minted[t], "7: tokens left the known holders");
            uint256 net =
                b.ledger.sent[0][t] + b.ledger.sent[1][t] - b.ledger.withdrawn[0][t] - b.ledger.withdrawn[1][t];
            assertEq(b.balances[t][H_MARKET], net - b.ledger.railIn[t], "7: market != sent - withdrawn - paid");
        }
    }

    /// @notice 8. The isolation promise still holds for the lessees: at every slash (a lessee's, or the rival's
    /// execution), no other AVS's isolated backing on the pool fell (`slashableBacking` after ≥ before).
    function _isolationHoldsForLessees(Books memory b) internal view {
        _assertNone(b, handler.V_ISOLATION());
    }

    /// @notice End of each run: what happened, so that a campaign that fills, streams or slashes nothing shows.
    /// @dev Forge keeps no EVM state between runs, so the totals over the campaign ride in this process's environment
    /// (`MARKET_INVARIANT_*`, test instrumentation only); the last run's log shows them all: per action, calls that
    /// succeeded, were refused by name, or were skipped (nothing to act on).
    function afterInvariant() public {
        string[20] memory names = [
            "postBid",
            "postAsk",
            "fill",
            "cancelBid",
            "cancelAsk",
            "stream",
            "warp",
            "warpPastLeaseEnd",
            "slash",
            "rivalRequest",
            "rivalResolve",
            "deposit",
            "queueWithdrawal",
            "completeWithdrawal",
            "claimRewards",
            "claimEscrow",
            "claimCommission",
            "withdrawCredits",
            "deskLowers",
            "setCommission"
        ];
        console.log("campaign totals so far, afterInvariant calls", _total("runs", 1));
        for (uint256 a; a < names.length; ++a) {
            MarketHandler.Outcome memory o = handler.outcome(a);
            console.log(
                string.concat("  ", names[a], " ok / refused / skipped"),
                _total(string.concat(names[a], "_ok"), o.ok),
                _total(string.concat(names[a], "_refused"), o.refused),
                _total(string.concat(names[a], "_skipped"), o.skipped)
            );
        }
        (MarketHandler.Refusal[] memory list, uint256[] memory counts) = handler.refusals();
        string memory keys = vm.envOr("MARKET_INVARIANT_KEYS", string(""));
        for (uint256 i; i < list.length; ++i) {
            string memory key =
                string.concat(names[list[i].action], "_", vm.toString(abi.encodePacked(list[i].selector)));
            if (vm.indexOf(keys, key) == type(uint256).max) {
                keys = string.concat(keys, bytes(keys).length == 0 ? "" : ",", key);
            }
            _total(key, counts[i]);
        }
        vm.setEnv("MARKET_INVARIANT_KEYS", keys);
        if (bytes(keys).length != 0) {
            string[] memory all = vm.split(keys, ",");
            for (uint256 i; i < all.length; ++i) {
                console.log(string.concat("  refused: ", all[i]), _total(all[i], 0));
            }
        }
        console.log(
            "  fills partial / whole / taken by the AVS",
            _total("partial", handler.partialFills()),
            _total("whole", handler.wholeFills()),
            _total("avsFills", handler.avsFills())
        );
        console.log(
            "  full slashes / shared slashes next to isolated backing / isolated leases backed late",
            _total("full", handler.fullSlashes()),
            _total("sharedNextToIsolated", handler.sharedSlashesNextToIsolated()),
            _total("postponed", handler.postponedStarts())
        );
        console.log(
            "  LeaseHoldsAVS refusals / streams with a shortfall refunded / leases",
            _total("holds", handler.holdRefusals()),
            _total("shortfalls", handler.shortfallStreams()),
            _total("leases", handler.leaseCount())
        );
    }

    function _total(string memory name, uint256 add) internal returns (uint256 total) {
        string memory key = string.concat("MARKET_INVARIANT_", name);
        total = vm.envOr(key, uint256(0)) + add;
        vm.setEnv(key, vm.toString(total));
    }

    /// @dev No violation of `kind` was recorded by the handler; otherwise fail with the first one's description.
    function _assertNone(Books memory b, uint256 kind) internal view {
        if (b.ledger.violations[kind] != 0) assertEq(b.ledger.violations[kind], 0, handler.firstViolation(kind));
    }
}
