// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {CommitteeSlasher} from "../../contracts/modules/CommitteeSlasher.sol";
import {IsolationFixture} from "../utils/IsolationFixture.sol";
import {IsolationHandler} from "./handlers/IsolationHandler.sol";

/// @notice Invariants of the isolation layer under random sequences of deposits, withdrawals and claims (three
/// stakers), isolated and shared allocations, deallocations and opt-outs (two operators, four pools: A×WETH,
/// B×WETH, B×USDC and B's tier over A×WETH, with deposits into the tier), instant slashes (two AVSs), vetoable slash requests, executions and vetoes (two AVSs, two
/// resolvers), cascade-guard changes (25% / 50% / off) and time jumps of up to two days.
/// @dev The per-slash properties (isolation, elasticity, no slash above backing, escrow) are checked by the handler
/// at the moment of each slash against a before/after snapshot; the invariants here assert its violation counters
/// and check the state-level properties directly through public views.
contract IsolationInvariantsTest is IsolationFixture {
    uint256 internal constant NP = 4;
    uint256 internal constant NA = 4;

    IsolationHandler internal handler;
    MockERC20[] internal tokens;
    address[] internal stakers;
    address[NA] internal sinks;
    address[] internal committeeMembers;

    function setUp() public override {
        super.setUp();
        address[] memory operators = new address[](2);
        (operators[0], operators[1]) = (opA, opB);
        stakers.push(makeAddr("staker1"));
        stakers.push(makeAddr("staker2"));
        stakers.push(makeAddr("staker3"));
        tokens.push(weth);
        tokens.push(usdc);

        IsolationHandler.AvsConfig[NA] memory avs;
        avs[0] = _registerAVS("instant1", address(0), 0, 1e18);
        avs[1] = _registerAVS("instant2", address(0), 0, 0.5e18);
        avs[2] = _registerAVS("veto1", makeAddr("resolver1"), VETO_WINDOW, 1e18);
        avs[3] = _committeeAVS(VETO_WINDOW, 0.8e18);

        handler = new IsolationHandler(manager, vault, address(this), stakers, operators);
        handler.setPool(0, opA, weth);
        handler.setPool(1, opB, weth);
        handler.setPool(2, opB, usdc);
        handler.setPool(3, opB, weth); // the tier over pool 0 (amounts in base shares, valued in WETH)
        for (uint256 a; a < NA; ++a) {
            sinks[a] = avs[a].sink;
            handler.setAvs(a, avs[a]);
        }
        handler.setCommitteeMembers(committeeMembers);

        // Every run starts from: every staker in every pool, a withdrawal in escrow in each pool (maturing one day
        // into the run), every operator in every AVS and a mix of isolated and shared allocations in effect.
        for (uint256 s; s < stakers.length; ++s) {
            handler.seedDeposit(stakers[s], 0, (s + 1) * 100 ether);
            handler.seedDeposit(stakers[s], 1, (s + 2) * 70 ether);
            handler.seedDeposit(stakers[s], 2, (s + 1) * 250_000e6);
        }
        uint256 base = handler.pools(0);
        vault.setTierAllowed(base, true);
        vm.prank(opA);
        vault.approveTierOperator(base, opB, true);
        for (uint256 s; s < stakers.length; ++s) {
            handler.seedDeposit(stakers[s], 3, (s + 1) * 30 ether);
        }
        handler.seedQueue(stakers[0], 0, 40 ether);
        handler.seedQueue(stakers[1], 1, 70 ether);
        handler.seedQueue(stakers[2], 2, 300_000e6);
        handler.seedQueue(stakers[1], 3, 10 ether);
        vm.warp(block.timestamp + ESCROW - ALLOC_DELAY - 1 days);
        for (uint256 o; o < operators.length; ++o) {
            for (uint256 a; a < NA; ++a) {
                vm.prank(operators[o]);
                manager.optIn(avs[a].id);
            }
        }
        IAllocationManager.Mode iso = IAllocationManager.Mode.Isolated;
        IAllocationManager.Mode shared = IAllocationManager.Mode.Shared;
        handler.seedAllocate(0, 0, iso, 0.3e18);
        handler.seedAllocate(0, 1, shared, 0.6e18);
        handler.seedAllocate(0, 2, shared, 0.5e18);
        handler.seedAllocate(0, 3, iso, 0.2e18);
        handler.seedAllocate(1, 0, shared, 0.8e18);
        handler.seedAllocate(1, 2, iso, 0.4e18);
        handler.seedAllocate(1, 1, shared, 0.4e18);
        // The USDC pool starts shared only, so that a 100% slash by instant1 can take all of it (guard off).
        handler.seedAllocate(2, 0, shared, 1e18);
        handler.seedAllocate(2, 3, shared, 0.7e18);
        handler.seedAllocate(2, 1, shared, 0.5e18);
        handler.seedAllocate(3, 1, iso, 0.4e18);
        handler.seedAllocate(3, 2, shared, 1e18);
        handler.seedAllocate(3, 3, iso, 0.3e18);
        vm.warp(block.timestamp + ALLOC_DELAY);

        bytes4[] memory selectors = new bytes4[](20);
        selectors[0] = IsolationHandler.deposit.selector;
        selectors[1] = IsolationHandler.queueWithdrawal.selector;
        selectors[2] = IsolationHandler.claimWithdrawal.selector;
        selectors[3] = IsolationHandler.allocate.selector;
        selectors[4] = IsolationHandler.deallocate.selector;
        selectors[5] = IsolationHandler.toggleOptIn.selector;
        selectors[6] = IsolationHandler.slash.selector;
        selectors[7] = IsolationHandler.requestSlash.selector;
        selectors[8] = IsolationHandler.executeSlash.selector;
        selectors[9] = IsolationHandler.vetoSlash.selector;
        selectors[10] = IsolationHandler.setGuard.selector;
        selectors[11] = IsolationHandler.warp.selector;
        // Slashes are the subject and time drives delays, windows and maturities: both twice as likely.
        selectors[12] = IsolationHandler.slash.selector;
        selectors[13] = IsolationHandler.warp.selector;
        selectors[14] = IsolationHandler.strangerActs.selector;
        selectors[15] = IsolationHandler.depositToTier.selector;
        selectors[16] = IsolationHandler.slashTier.selector;
        // A proposal needs two calls to reach its quorum: committees twice as likely.
        selectors[17] = IsolationHandler.committeeActs.selector;
        selectors[18] = IsolationHandler.committeeActs.selector;
        // P2's race: an isolated increase committed just before a request, due inside its execution window.
        selectors[19] = IsolationHandler.isolateThenRequest.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
        targetContract(address(handler));
    }

    // ================================================================== invariants

    /// @notice Isolation, checked by the handler at the moment of every slash: another AVS's isolated backing never
    /// fell; another AVS's shared backing in the pool never fell below min(its limit, shared stake after), nor at all
    /// when the slashed allocation was isolated; no other pool changed (value, generation, any AVS's backing); and
    /// before and after it, in every pool, Σ isolated backings + the largest shared backing ≤ value (no stake is
    /// promised exclusively twice).
    function invariant_isolation() public view {
        _assertNone(handler.V_ISOLATION());
        _assertNone(handler.V_ELASTIC());
        _assertNone(handler.V_UNTOUCHED());
        _assertNone(handler.V_OVERCOMMIT());
    }

    /// @notice P1 per staker, tiers included: what an isolated AVS can take from a staker (its backing times the
    /// staker's share of the pool) never rose through another AVS's slash, in any pool, the tier and its base
    /// included; and a tier slash never changed its base pool (checked by the handler at every slash).
    function invariant_perStakerIsolation() public view {
        _assertNone(handler.V_EXPOSURE());
        _assertNone(handler.V_UNTOUCHED());
        assertGt(handler.counts().tierDeposits, 0, "the tier received deposits");
    }

    /// @notice P4, reuse: every allocation increase that went through left its pool within the reuse cap, and after
    /// any sequence the shared backings the AVSs can slash in a pool add up to at most the cap times its shared stake
    /// (slashes that shrank the shared stake scaled them down).
    function invariant_boundedReuse() public view {
        _assertNone(handler.V_REUSE());
        for (uint256 p; p < NP; ++p) {
            uint256 poolId = handler.pools(p);
            IAllocationManager.PoolRisk memory r = manager.poolRisk(poolId);
            assertLe(r.totalShared * 1e18, r.reuseCapWad * r.sharedStake, "shared limits above the cap");
            uint256 sum;
            for (uint256 a; a < NA; ++a) {
                uint32 id = handler.avs(a).id;
                if (manager.getAllocation(poolId, id).mode == IAllocationManager.Mode.Shared) {
                    sum += manager.slashableBacking(id, poolId);
                }
            }
            assertLe(sum, r.reuseCapWad * r.sharedStake / 1e18 + NA, "shared backings above cap x shared stake");
        }
    }

    /// @notice P4, the hard window: no span of one guard window lost more than the guard's fraction of a pool's value
    /// through slashes (checked by the handler at every slash, over the pool's slashes of the last window).
    function invariant_guardWindowIsHard() public view {
        _assertNone(handler.V_GUARD_SPAN());
    }

    /// @notice P2 for committees: every vote below the quorum on a pool the AVS backs delayed isolated increases there
    /// for a full veto flow from that vote (`announceSlash`); quorums file requests checked like any other.
    function invariant_committeeVotesAnnounce() public view {
        _assertNone(handler.V_ANNOUNCE());
    }

    /// @notice P2, no escape: every request (a veto AVS's, or a committee's quorum) that executed with no other slash
    /// on its pool since it was filed took at least what was decided then: its backing at the request, less what was
    /// already leaving before its last executable second (an earlier deallocation or opt-out, escrow maturing by
    /// then), times its fraction; cut only by the cascade guard's room and the vault's price floor, one wei of
    /// rounding. Whatever the operator and the stakers did in between (allocate, isolate, deallocate, opt out,
    /// withdraw, move into the tier) lowered nothing.
    function invariant_decidedSlashesAreNotEscaped() public view {
        _assertNone(handler.V_ESCAPED());
    }

    /// @notice P3: strangers cannot slash, request or announce for any AVS, and applying pending changes (anyone may)
    /// never lowers any AVS's backing.
    function invariant_strangersCannotActForOthers() public view {
        _assertNone(handler.V_STRANGER());
    }

    /// @notice Conservation per token, exactly: deposited = held by the vault + received by sinks + claimed, the
    /// sinks hold exactly what the handler saw slashed, and the vault's accounting agrees with its balance.
    function invariant_conservation() public view {
        for (uint256 t; t < tokens.length; ++t) {
            address token = address(tokens[t]);
            uint256 held = tokens[t].balanceOf(address(vault));
            uint256 inSinks;
            for (uint256 a; a < NA; ++a) {
                inSinks += tokens[t].balanceOf(sinks[a]);
            }
            assertEq(
                handler.ghostDeposited(token),
                held + handler.ghostSlashed(token) + handler.ghostClaimed(token),
                "deposits != vault + slashed + claimed"
            );
            assertEq(inSinks, handler.ghostSlashed(token), "sink receipts != slashed amounts");
            assertEq(vault.getAsset(token).tracked, held, "vault tracked != balance");
        }
        _assertNone(handler.V_SLASH_ACCOUNTING());
        _assertNone(handler.V_CLAIM());
    }

    /// @notice No slash above backing: every slash took at most backing-before × fraction (no tolerance).
    function invariant_noSlashAboveBacking() public view {
        _assertNone(handler.V_ABOVE_BACKING());
    }

    /// @notice The veto flow: no vetoed, expired, early, already-executed or unslashable request executed, no late or
    /// foreign veto and no instant slash by a vetoable AVS went through; every executed request was never vetoed and
    /// the manager's statuses match the ghost record.
    function invariant_vetoFlow() public view {
        _assertNone(handler.V_VETOED_EXECUTED());
        _assertNone(handler.V_EXPIRED_EXECUTED());
        _assertNone(handler.V_EARLY_EXECUTED());
        _assertNone(handler.V_DOUBLE_EXECUTED());
        _assertNone(handler.V_UNSLASHABLE_EXECUTED());
        _assertNone(handler.V_LATE_VETO());
        _assertNone(handler.V_FOREIGN_VETO());
        _assertNone(handler.V_VETO_BYPASS());
        uint64[] memory executed = handler.executedIds();
        for (uint256 i; i < executed.length; ++i) {
            assertFalse(handler.ghostVetoed(executed[i]), "a vetoed request executed");
        }
        uint64[] memory ids = handler.requestIds();
        for (uint256 i; i < ids.length; ++i) {
            IAllocationManager.RequestStatus status = manager.getRequest(ids[i]).status;
            if (handler.ghostVetoed(ids[i])) {
                assertEq(uint8(status), uint8(IAllocationManager.RequestStatus.Vetoed), "vetoed request status");
            } else if (handler.ghostExecuted(ids[i])) {
                assertEq(uint8(status), uint8(IAllocationManager.RequestStatus.Executed), "executed request status");
            } else {
                // Untouched, or cut by the guard and still pending for the rest.
                assertEq(uint8(status), uint8(IAllocationManager.RequestStatus.Pending), "untouched request status");
            }
        }
    }

    /// @notice Escrowed withdrawals stay slashable: at every slash each unmatured withdrawal of the pool fell by the
    /// share price's fraction (±1 wei).
    function invariant_escrowStaysSlashable() public view {
        _assertNone(handler.V_ESCROW());
    }

    /// @notice Pools keep working, fully slashed ones included: a fresh deposit of one whole token into every pool
    /// succeeds and mints shares (inside a snapshot), and no ordinary deposit of the handler was refused.
    function invariant_poolsKeepWorking() public {
        _assertNone(handler.V_DEPOSIT_REFUSED());
        for (uint256 p; p < NP; ++p) {
            uint256 poolId = handler.pools(p);
            IStakeVault.PoolView memory pool = vault.getPool(poolId);
            if (vault.baseOf(poolId) != 0) {
                _assertTierTakesDeposits(poolId, pool.operator);
                continue;
            }
            MockERC20 asset = MockERC20(pool.asset);
            uint256 amount = 10 ** asset.decimals();
            address fresh = makeAddr("freshDepositor");
            uint256 snapshot = vm.snapshotState();
            asset.mint(fresh, amount);
            vm.startPrank(fresh);
            asset.approve(address(vault), amount);
            bool ok;
            uint256 shares;
            bytes memory reason;
            try vault.deposit(pool.operator, address(asset), amount) returns (uint256 id, uint256 minted) {
                ok = id == poolId;
                shares = minted;
            } catch (bytes memory err) {
                reason = err;
            }
            vm.stopPrank();
            vm.revertToState(snapshot);
            if (_refusedBelowTheDepositPrice(reason, pool)) continue;
            assertTrue(ok, string.concat("fresh deposit refused by pool ", vm.toString(p), ": ", vm.toString(reason)));
            assertGt(shares, 0, "fresh deposit minted no shares");
        }
    }

    /// @notice A CI campaign's shrunk sequence: a slash wore a pool below its deposit price; a fresh deposit is then
    /// refused with `PoolPriceTooLow`, which `invariant_poolsKeepWorking` accepts only for such a pool.
    function test_regression_aPoolBelowItsDepositPriceRefusesByName() public {
        handler.setGuard(46_676);
        handler.deposit(
            11_463_417_404_298_162_416_963,
            2_936_803_993_911_468_636_832_050_430_029,
            1_085_746_643_409_129_703_332_379_561_554_460_738_103_056_421_892_238_231
        );
        handler.requestSlash(
            3,
            386_979_787_859_662_989_888_832_617_596_584_556_369_155_253_736_831_652_493_839_889,
            8_111_971_413_552_005_390_815_078_882_753_846_344_592_394_639_996
        );
        handler.warp(636_610_777_396);
        handler.executeSlash(33_013_689_498_017_826_441);
        handler.slash(
            7_201_621_140_231_839_494_212, 2625, 6_976_962_543_938_475_680_154_705_683_858_814_049_522_498_551_525
        );
        invariant_poolsKeepWorking();
    }

    /// @dev A pool slashed below 1e-6 of its price takes no new stake, by name (`PoolPriceTooLow`: the price floor
    /// would keep it from being slashed). True if that is why the deposit was refused, after checking the price is
    /// that low (the views settle matured escrow, which never lowers the price: within a factor 2 of the vault's test).
    function _refusedBelowTheDepositPrice(bytes memory reason, IStakeVault.PoolView memory pool)
        internal
        view
        returns (bool)
    {
        if (reason.length < 4 || bytes4(reason) != IStakeVault.PoolPriceTooLow.selector) return false;
        assertGt(
            pool.totalShares + pool.escrowedShares + 1,
            pool.slashableAssets * vault.MIN_DEPOSIT_PRICE_INVERSE() / 2,
            "PoolPriceTooLow on a pool priced above the limit"
        );
        return true;
    }

    /// @dev A fresh staker deposits one WETH into the tier's base and moves the minted base shares into the tier.
    function _assertTierTakesDeposits(uint256 tierPoolId, address operator) internal {
        uint256 basePoolId = vault.baseOf(tierPoolId);
        IStakeVault.PoolView memory base = vault.getPool(basePoolId);
        if (base.totalShares > base.slashableAssets * vault.MIN_DEPOSIT_PRICE_INVERSE() / 2) return; // base refuses
        address fresh = makeAddr("freshTierDepositor");
        uint256 snapshot = vm.snapshotState();
        weth.mint(fresh, 1 ether);
        vm.startPrank(fresh);
        weth.approve(address(vault), 1 ether);
        (, uint256 baseShares) = vault.deposit(base.operator, address(weth), 1 ether);
        bool ok;
        bytes memory reason;
        try vault.depositToTier(basePoolId, operator, baseShares) returns (uint256 id, uint256 minted) {
            ok = id == tierPoolId && minted != 0;
        } catch (bytes memory err) {
            reason = err;
        }
        vm.stopPrank();
        vm.revertToState(snapshot);
        if (_refusedBelowTheDepositPrice(reason, vault.getPool(tierPoolId))) return;
        assertTrue(ok, string.concat("fresh tier deposit refused: ", vm.toString(reason)));
    }

    /// @notice End of each run: log what happened, so a campaign that slashes, executes, vetoes and claims nothing
    /// is visible.
    function afterInvariant() public view {
        IsolationHandler.Counts memory c = handler.counts();
        console.log("run: deposits %d, queued %d, claims %d", c.deposits, c.queued, c.claims);
        console.log("  tier deposits %d, tier slashes %d", c.tierDeposits, c.tierSlashes);
        console.log("  committee proposals %d, votes %d, quorums %d", c.proposals, c.votes, c.quorums);
        console.log("  allocations +%d -%d, refused %d", c.allocIncreases, c.allocDecreases, c.allocRefused);
        console.log("  opt-ins %d, opt-outs %d, guard changes %d", c.optIns, c.optOuts, c.guardChanges);
        console.log("  slashes %d (non-zero %d, full %d)", c.slashes, c.slashesNonZero, c.fullSlashes);
        console.log("  isolated %d, shared %d, guard-cut %d", c.isolatedSlashes, c.sharedSlashes, c.guardCuts);
        console.log("  escrowed withdrawals checked at slashes %d", c.escrowChecked);
        console.log("  requests %d, executed %d, vetoed %d", c.requests, c.executed, c.vetoes);
        console.log("  decided amounts checked at execution %d", c.decidedChecked);
        console.log(
            "  must-revert attempts: vetoed %d, expired %d, early %d",
            c.vetoedAttempts,
            c.expiredAttempts,
            c.earlyAttempts
        );
        console.log(
            "  double %d, late veto %d, foreign veto %d", c.doubleAttempts, c.lateVetoAttempts, c.foreignVetoAttempts
        );
        console.log("  bypass %d, warps %d, skips %d", c.bypassAttempts, c.warps, c.skips);
    }

    // ================================================================== helpers

    /// @dev No violation of `kind` was recorded by the handler; otherwise fail with the first one's description.
    function _assertNone(uint256 kind) internal view {
        assertEq(handler.violations(kind), 0, handler.firstViolation(kind));
    }

    /// @dev AVS "veto2" is a committee of three (quorum two) with its own resolver.
    function _committeeAVS(uint48 vetoWindow, uint64 maxSlashWad)
        internal
        returns (IsolationHandler.AvsConfig memory cfg)
    {
        for (uint256 i; i < 3; ++i) {
            committeeMembers.push(makeAddr(string.concat("member", vm.toString(i))));
        }
        cfg.sink = makeAddr("veto2-sink");
        cfg.resolver = makeAddr("resolver2");
        cfg.maxSlashWad = maxSlashWad;
        CommitteeSlasher c = new CommitteeSlasher(
            manager,
            vault,
            "ipfs://veto2",
            cfg.sink,
            cfg.resolver,
            vetoWindow,
            VOTING_PERIOD,
            maxSlashWad,
            committeeMembers,
            2
        );
        cfg.module = address(c);
        cfg.id = c.avsId();
    }

    function _registerAVS(string memory name, address resolver_, uint48 vetoWindow, uint64 maxSlashWad)
        internal
        returns (IsolationHandler.AvsConfig memory cfg)
    {
        cfg.module = makeAddr(string.concat(name, "-module"));
        cfg.sink = makeAddr(string.concat(name, "-sink"));
        cfg.resolver = resolver_;
        cfg.maxSlashWad = maxSlashWad;
        vm.prank(avsAdmin);
        cfg.id = manager.registerAVS(
            string.concat("ipfs://", name), cfg.module, cfg.sink, resolver_, vetoWindow, maxSlashWad
        );
    }
}
