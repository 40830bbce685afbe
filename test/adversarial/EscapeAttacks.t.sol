// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {CommitteeSlasher} from "../../contracts/modules/CommitteeSlasher.sol";
import {AttackFixture} from "./AttackFixture.sol";

/// @notice P2 (no escape), at the boundaries: a deallocation, opt-out or withdrawal started when a request is filed
/// takes effect strictly after the request's last executable second, for the longest veto window the manager allows.
contract EscapeAttacksTest is AttackFixture {
    uint256 internal pool;
    uint32 internal v;
    address internal mv;
    uint48 internal window;

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
        // The longest veto window: veto + execution < deallocation delay.
        window = DEALLOC_DELAY - EXEC_WINDOW - 1;
        (v, mv,) = _vetoAvs("v", window);
        _allocate(opA, pool, v, ISO, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
    }

    /// @dev The request's last executable second.
    function _lastSecond(uint64 req) internal view returns (uint256) {
        return manager.getRequest(req).executableAt + EXEC_WINDOW;
    }

    /// Attack: the registration rule used to allow veto + execution == deallocation delay, and a deallocation filed
    /// with the request took effect at the last executable second.
    function test_attack_windowAtTheEdgeIsRefused() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAllocationManager.InvalidVetoWindow.selector, window + 1, uint256(window))
        );
        manager.registerAVS("edge", mv, mv, resolver, window + 1, 1e18);
    }

    function test_attack_deallocateWithTheRequest() public {
        uint64 req = _request(mv, v, pool, 1e18);
        vm.prank(opA);
        manager.allocate(pool, v, ISO, 0);
        vm.warp(_lastSecond(req));
        assertEq(manager.slashableBacking(v, pool), 500 ether, "still backed at the last second");
        // The guard cuts it to half the pool; what matters is that it is not zero.
        assertEq(_execute(mv, req), 500 ether);
    }

    function test_attack_optOutWithTheRequest() public {
        uint64 req = _request(mv, v, pool, 1e18);
        vm.prank(opA);
        manager.optOut(v);
        vm.warp(_lastSecond(req));
        assertTrue(manager.isSlashable(v, opA));
        assertEq(_execute(mv, req), 500 ether);
    }

    function test_attack_withdrawWithTheRequest() public {
        uint64 req = _request(mv, v, pool, 1e18);
        uint256 shares = _sharesOf(alice, pool);
        uint256 id = _queue(alice, pool, shares);
        vm.warp(_lastSecond(req));
        assertEq(_execute(mv, req), 500 ether);
        vm.warp(block.timestamp + ESCROW);
        assertEq(_claim(alice, id), 500 ether, "the escrowed withdrawal paid its share of the slash");
    }

    /// Attack: a deallocation filed one second before the request can escape only what it was already leaving; an
    /// allocation filed after cannot be slashed before it takes effect either way (nothing to steal).
    function test_attack_executeOneSecondAfterExpiryReverts() public {
        uint64 req = _request(mv, v, pool, 1e18);
        uint40 expiredAt = uint40(_lastSecond(req));
        vm.warp(expiredAt + 1);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.RequestExpired.selector, req, expiredAt));
        _execute(mv, req);
        assertEq(vault.slashableAssets(pool), 1000 ether);
    }
}

/// @notice P2 (no escape) without a freeze: an isolated increase committed once a slash is coming (an instant slash
/// in the mempool, a request, a committee proposal before its quorum) never shrinks what that slash takes; and P3:
/// nobody's request can block an operator's allocations; only an AVS the pool backs can delay an isolated increase,
/// while the allocation to it lasts (`CommitteeEscapeAttacks.t.sol`).
contract IsolatedIncreaseEscapeTest is AttackFixture {
    uint256 internal pool;
    uint32 internal own;

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
        // The operator's own AVS: the place it would move stake to, out of the shared slash's reach.
        vm.startPrank(opA);
        own = manager.registerAVS("own", opA, opA, address(0), 0, 1e18);
        manager.optIn(own);
        vm.stopPrank();
    }

    /// Attack: front-run an instant shared slash with an isolated increase.
    function test_attack_frontRunAnInstantSharedSlash() public {
        (uint32 s, address ms,) = _avs("shared");
        _allocate(opA, pool, s, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        vm.prank(opA);
        manager.allocate(pool, own, ISO, 0.6e18);
        assertEq(manager.slashableBacking(s, pool), 1000 ether, "the shared stake did not shrink");
        vm.prank(ms);
        assertEq(manager.slash(s, pool, 0.5e18), 500 ether);
    }

    /// Attack: commit the isolated increase right after a request; without a freeze it would take effect after the
    /// allocation delay (1 day), before the request's execution (veto window 2 days − 1).
    function test_attack_isolatedIncreaseAfterARequest() public {
        (uint32 v, address mv,) = _vetoAvs("v", DEALLOC_DELAY - EXEC_WINDOW - 1);
        _allocate(opA, pool, v, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        uint64 req = _request(mv, v, pool, 0.5e18);
        vm.prank(opA);
        manager.allocate(pool, own, ISO, 0.6e18);
        IAllocationManager.Request memory r = manager.getRequest(req);
        vm.warp(r.executableAt + EXEC_WINDOW); // the last executable second
        assertEq(manager.slashableBacking(v, pool), 1000 ether);
        assertEq(_execute(mv, req), 500 ether, "50% of the whole pool");
    }

    /// Attack: a committee proposal is public before its quorum; the operator isolates stake in between.
    function test_attack_isolatedIncreaseBeforeTheQuorum() public {
        address[] memory members = new address[](2);
        members[0] = makeAddr("m1");
        members[1] = makeAddr("m2");
        CommitteeSlasher c =
            new CommitteeSlasher(manager, vault, "ipfs://c", sink, resolver, 1 days, VOTING_PERIOD, 1e18, members, 2);
        uint32 cid = c.avsId();
        _allocate(opA, pool, cid, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        vm.prank(members[0]);
        uint256 prop = c.propose(pool, 0.5e18, bytes32("evidence"));
        vm.prank(opA);
        manager.allocate(pool, own, ISO, 0.6e18);
        // The quorum comes late: the increase would have taken effect in between.
        vm.warp(block.timestamp + 23 hours);
        vm.prank(members[1]);
        c.vote(prop);
        vm.warp(block.timestamp + 1 days);
        assertEq(c.execute(prop), 500 ether, "50% of the whole pool");
    }

    /// Attack (griefing): a stranger opens a tier over the pool with a dust position, registers a vetoable AVS with
    /// itself as resolver and files requests to keep the operator from isolating stake. A tier's requests do not
    /// even delay the base: the increase takes effect after the allocation delay.
    function test_attack_strangerTierRequestsDoNotReachTheBase() public {
        vault.setTierAllowed(pool, true);
        _approveTierOperators(pool);
        vm.prank(mallory);
        registry.registerOperator("ipfs://mallory", makeAddr("mallory-key"));
        _deposit(mallory, opA, weth, 1 ether);
        uint256 shares = _sharesOf(mallory, pool);
        // A stranger cannot open a tier over the pool at all...
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.TierOperatorNotApproved.selector, pool, mallory));
        vm.prank(mallory);
        vault.depositToTier(pool, mallory, shares);
        // ... so suppose the operator approved one that turns out hostile.
        vm.prank(opA);
        vault.approveTierOperator(pool, mallory, true);
        vm.prank(mallory);
        (uint256 tier,) = vault.depositToTier(pool, mallory, shares);
        vm.prank(mallory);
        uint32 g = manager.registerAVS("grief", mallory, mallory, mallory, 1 days, 1e18);
        _allocate(mallory, tier, g, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        vm.prank(mallory);
        manager.requestSlash(g, tier, 1);
        // A tier slash is paid in the tier's base shares and never draws on the base pool: the base does not wait.
        assertEq(manager.getPoolState(pool).slashPendingUntil, 0, "the base does not wait for the tier's request");
        vm.prank(opA);
        manager.allocate(pool, own, ISO, 0.5e18);
        assertEq(manager.getAllocation(pool, own).effectAt, block.timestamp + ALLOC_DELAY);
        // Requests every day change nothing on the base.
        vm.warp(block.timestamp + 1 days);
        vm.prank(mallory);
        manager.requestSlash(g, tier, 1);
        assertEq(manager.getAllocation(pool, own).current, 0.5e27, "in effect after the allocation delay");
    }
}

/// @notice P2 through tiers and shared commitments (the second adversarial review's findings 1 and 2).
contract TierExitAndSharedCommitTest is AttackFixture {
    uint256 internal pool;

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
    }

    /// Attack: a staker registers as an operator, opens a tier of its own over the pool, allocates it to an AVS it
    /// controls and slashes its own stake out to itself in one transaction: past the escrow, ahead of a slash already
    /// decided. Only operators the base pool's operator approved run a tier over it.
    function test_attack_stakerExitsThroughItsOwnTier() public {
        vault.setTierAllowed(pool, true);
        vm.prank(alice);
        registry.registerOperator("ipfs://alice", makeAddr("alice-key"));
        uint256 shares = _sharesOf(alice, pool);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.TierOperatorNotApproved.selector, pool, alice));
        vm.prank(alice);
        vault.depositToTier(pool, alice, shares);
        assertEq(_sharesOf(alice, pool), shares, "state unchanged");
        // Only the base pool's operator approves, and a revoked operator's tier takes nothing new.
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NotPoolOperator.selector, pool, alice));
        vm.prank(alice);
        vault.approveTierOperator(pool, alice, true);
    }

    /// Attack: after a shared slash is requested, the operator commits new shared limits; when a pending isolated
    /// increase then takes effect, the pool would be over its cap and every shared backing scaled down under the
    /// request. New shared limits are checked as if the pending isolated increase were in effect.
    function test_attack_sharedCommitmentsCannotShrinkADecidedSlash() public {
        (uint32 v, address mv,) = _vetoAvs("v", DEALLOC_DELAY - EXEC_WINDOW - 1);
        (uint32 iso,,) = _avs("iso");
        _allocate(opA, pool, v, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        // An isolated increase of 50%, pending (committed before the request: it settles only after the request's last
        // executable second).
        _allocate(opA, pool, iso, ISO, 0.5e18);
        uint64 req = _request(mv, v, pool, 0.5e18);
        uint32[3] memory extra;
        for (uint256 i; i < 3; ++i) {
            (extra[i],,) = _avs(string.concat("extra", vm.toString(i)));
            vm.startPrank(opA);
            manager.optIn(extra[i]);
            // 3x the shared stake that will be left (0.5e27) is 1.5e27: 1e27 is used, 0.5e27 is room.
            if (i == 0) {
                manager.allocate(pool, extra[i], SHARED, 0.5e18);
            } else {
                vm.expectRevert();
                manager.allocate(pool, extra[i], SHARED, 0.5e18);
            }
            vm.stopPrank();
        }
        IAllocationManager.Request memory r = manager.getRequest(req);
        vm.warp(r.executableAt);
        // The isolated half is due but waits for the request: the shared stake is the whole pool, v's backing unscaled.
        assertEq(manager.getAllocation(pool, iso).current, 0, "still pending under the request");
        assertEq(manager.slashableBacking(v, pool), 1000 ether);
        assertEq(_execute(mv, req), 500 ether);
        // Once it settles (after the request's last executable second), the shared backings stay within the cap.
        vm.warp(manager.getPoolState(pool).slashPendingUntil + 1);
        assertGt(manager.getAllocation(pool, iso).current, 0, "settled");
        uint32[] memory ids = new uint32[](2);
        (ids[0], ids[1]) = (v, extra[0]);
        (uint256 sum, uint256 bound) = _sharedTotals(pool, ids);
        assertLe(sum, bound);
    }
}
