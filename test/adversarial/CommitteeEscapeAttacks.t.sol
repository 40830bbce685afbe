// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {CommitteeSlasher} from "../../contracts/modules/CommitteeSlasher.sol";
import {AttackFixture} from "./AttackFixture.sol";

/// @notice P2 (no escape) with a committee: the slash is decided when it is proposed. An operator (or its stakers) who
/// sees the proposal and deallocates, opts out, withdraws or isolates stake never lowers what the quorum's request
/// takes, however late within the voting period the quorum comes; a quorum after it is refused (`ProposalExpired`).
/// Fixture: deallocation delay 3 days, veto window 1 day, execution window 1 day, voting period 1 day − 1 s (the
/// longest the constructor allows). The committee's AVS backs the whole 1,000 WETH pool (shared); 50% of it is 500.
contract CommitteeEscapeAttacksTest is AttackFixture {
    uint256 internal pool;
    uint32 internal own;
    uint32 internal cid;
    CommitteeSlasher internal c;
    address internal m1 = makeAddr("m1");
    address internal m2 = makeAddr("m2");

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
        // The operator's own AVS: the place it would move stake to, out of the shared slash's reach.
        vm.startPrank(opA);
        own = manager.registerAVS("own", opA, opA, address(0), 0, 1e18);
        manager.optIn(own);
        vm.stopPrank();
        address[] memory members = new address[](2);
        (members[0], members[1]) = (m1, m2);
        c = new CommitteeSlasher(
            manager, vault, "ipfs://c", sink, resolver, VETO_WINDOW, VOTING_PERIOD, 1e18, members, 2
        );
        cid = c.avsId();
        _allocate(opA, pool, cid, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
    }

    function _propose() internal returns (uint256 prop) {
        vm.prank(m1);
        prop = c.propose(pool, 0.5e18, bytes32("evidence"));
    }

    /// @dev The quorum at the last second of the voting period; returns the request's last executable second.
    function _lateQuorum(uint256 prop) internal returns (uint256 lastSecond) {
        vm.warp(c.getProposal(prop).proposedAt + VOTING_PERIOD);
        vm.prank(m2);
        c.vote(prop);
        lastSecond = manager.getRequest(c.getProposal(prop).requestId).executableAt + EXEC_WINDOW;
    }

    /// Attack (review): deallocate right after the proposal; the quorum comes two days later and the deallocation
    /// (3 days) takes effect before the request can execute. The late quorum is refused: the proposal lapsed.
    function test_attack_lateQuorumIsRefused() public {
        uint256 prop = _propose();
        uint40 endsAt = uint40(block.timestamp + VOTING_PERIOD);
        vm.prank(opA);
        manager.allocate(pool, cid, SHARED, 0);
        vm.warp(block.timestamp + 2 days);
        vm.prank(m2);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.ProposalExpired.selector, prop, endsAt));
        c.vote(prop);
        // One second after the voting period is already too late.
        vm.warp(endsAt + 1);
        vm.prank(m2);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.ProposalExpired.selector, prop, endsAt));
        c.vote(prop);
        assertEq(manager.requestCount(), 0, "no request");
    }

    /// Attack: deallocate right after the proposal; the quorum comes at the last second of the voting period.
    function test_attack_deallocateAfterTheProposal() public {
        uint256 prop = _propose();
        vm.prank(opA);
        manager.allocate(pool, cid, SHARED, 0);
        uint256 deallocatedAt = manager.getAllocation(pool, cid).effectAt;
        uint256 last = _lateQuorum(prop);
        assertLt(last, deallocatedAt, "the request's last second comes before the deallocation");
        vm.warp(last);
        assertEq(manager.slashableBacking(cid, pool), 1000 ether, "still backed at the last second");
        assertEq(c.execute(prop), 500 ether);
    }

    /// Attack: opt out right after the proposal.
    function test_attack_optOutAfterTheProposal() public {
        uint256 prop = _propose();
        vm.prank(opA);
        manager.optOut(cid);
        vm.warp(_lateQuorum(prop));
        assertTrue(manager.isSlashable(cid, opA));
        assertEq(c.execute(prop), 500 ether);
    }

    /// Attack: the staker queues her whole position right after the proposal.
    function test_attack_withdrawAfterTheProposal() public {
        uint256 prop = _propose();
        uint256 id = _queue(alice, pool, _sharesOf(alice, pool));
        vm.warp(_lateQuorum(prop));
        assertEq(c.execute(prop), 500 ether);
        vm.warp(block.timestamp + ESCROW);
        assertEq(_claim(alice, id), 500 ether, "the escrowed withdrawal paid its share of the slash");
    }

    /// Attack (review): an isolated increase committed right after the proposal takes effect (2 days + 1 s, after the
    /// proposal's announcement) while the quorum's request is still executable, and shrinks the shared stake the
    /// slash takes from (200 instead of 500). It settles only after the request's last executable second.
    function test_attack_isolatedIncreaseAfterTheProposal() public {
        uint256 prop = _propose();
        vm.prank(opA);
        manager.allocate(pool, own, ISO, 0.6e18);
        uint256 due = manager.getPoolState(pool).pendingIsolatedAt;
        uint256 last = _lateQuorum(prop);
        assertLt(due, last, "due before the request's last second");
        vm.warp(last);
        assertEq(manager.getAllocation(pool, own).current, 0, "still pending");
        assertEq(manager.slashableBacking(cid, pool), 1000 ether, "the shared stake did not shrink");
        assertEq(c.execute(prop), 500 ether, "50% of the whole pool");
        vm.warp(last + 1);
        assertGt(manager.slashableBacking(own, pool), 0, "settled after the last executable second");
    }

    /// Attack (a former known limit): an isolated increase committed before the slash is decided, due before the
    /// request executes. It settles only after the request's last executable second as well.
    function test_attack_isolatedIncreaseCommittedBeforeTheProposal() public {
        vm.prank(opA);
        manager.allocate(pool, own, ISO, 0.6e18);
        vm.warp(block.timestamp + 1 hours);
        uint256 prop = _propose();
        vm.prank(m2);
        c.vote(prop);
        uint256 last = manager.getRequest(c.getProposal(prop).requestId).executableAt + EXEC_WINDOW;
        assertLt(manager.getPoolState(pool).pendingIsolatedAt, last);
        vm.warp(last);
        assertEq(manager.getAllocation(pool, own).current, 0, "still pending");
        assertEq(c.execute(prop), 500 ether, "50% of the whole pool");
    }

    /// An increase that was due before the slash was decided is in effect: a later decision never reaches back, even
    /// if nobody touched the pool in between (the decision settles it first).
    function test_attack_decisionNeverReachesBackToADueIncrease() public {
        vm.prank(opA);
        manager.allocate(pool, own, ISO, 0.6e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        assertEq(manager.slashableBacking(own, pool), 600 ether, "in effect (the view)");
        uint256 prop = _propose();
        assertEq(manager.getAllocation(pool, own).current, 0.6e27, "in effect (stored) before the announcement");
        assertEq(manager.slashableBacking(own, pool), 600 ether);
        vm.prank(m2);
        c.vote(prop);
        vm.warp(manager.getRequest(c.getProposal(prop).requestId).executableAt);
        assertEq(c.execute(prop), 200 ether, "50% of the shared stake left when it was decided");
    }

    /// While an increase waits for a decided slash, every view shows what a touch does, and no touch lets it in early:
    /// not applying it, not slashing through it, not allocating over it.
    function test_attack_noTouchSettlesAWaitingIncrease() public {
        uint256 prop = _propose();
        vm.prank(opA);
        manager.allocate(pool, own, ISO, 0.6e18);
        uint256 last = _lateQuorum(prop);
        vm.warp(manager.getPoolState(pool).pendingIsolatedAt); // due, but the request is executable
        IAllocationManager.Allocation memory a = manager.getAllocation(pool, own);
        assertEq(a.current, 0);
        assertEq(a.pending, 0.6e27);
        assertEq(a.effectAt, last + 1, "shown when it settles");
        assertEq(manager.slashableBacking(own, pool), 0);
        assertEq(manager.committedBacking(own, pool), 600 ether, "committed all along");
        uint32[] memory ids = new uint32[](1);
        ids[0] = own;
        manager.applyPending(pool, ids);
        assertEq(manager.getAllocation(pool, own).current, 0, "applyPending leaves it pending");
        vm.prank(opA);
        assertEq(manager.slash(own, pool, 1e18), 0, "its own AVS cannot slash through it");
        vm.prank(opA);
        vm.expectRevert();
        manager.allocate(pool, own, ISO, 0.7e18);
        IAllocationManager.PoolState memory st = manager.getPoolState(pool);
        assertEq(st.isolatedWeight, 0);
        assertEq(st.pendingIsolated, 0.6e27);
        assertEq(manager.slashableBacking(cid, pool), 1000 ether);
        vm.warp(last + 1);
        assertEq(manager.getAllocation(pool, own).current, 0.6e27, "settles after the last executable second");
        manager.applyPending(pool, ids);
        assertEq(manager.getPoolState(pool).isolatedWeight, 0.6e27, "a touch does what the views showed");
    }

    /// Griefing bound: an AVS the pool backs can postpone an isolated increase by filing requests, but only while
    /// the operator's allocation to it lasts: once its deallocation takes effect it can file nothing, and the increase
    /// settles at most one veto flow later.
    function test_attack_requestsPostponeAnIncreaseOnlyWhileTheAllocationLasts() public {
        address hostile = makeAddr("hostile");
        vm.prank(hostile);
        uint32 g = manager.registerAVS("grief", hostile, hostile, hostile, VETO_WINDOW, 1e18);
        _allocate(opA, pool, g, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        vm.prank(opA);
        manager.allocate(pool, own, ISO, 0.3e18);
        // The operator sees the requests and leaves the AVS at once.
        vm.prank(opA);
        manager.allocate(pool, g, SHARED, 0);
        uint256 gone = manager.getAllocation(pool, g).effectAt;
        // A request a day (vetoed by its own resolver: it costs nothing without bonds), and one at the last second.
        for (uint256 t = block.timestamp; t < gone; t += 1 days) {
            vm.warp(t);
            vm.startPrank(hostile);
            manager.vetoSlash(manager.requestSlash(g, pool, 1));
            vm.stopPrank();
            assertEq(manager.getAllocation(pool, own).current, 0, "postponed");
        }
        vm.warp(gone - 1);
        vm.prank(hostile);
        manager.requestSlash(g, pool, 1);
        vm.warp(gone);
        vm.prank(hostile);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotSlashable.selector, g, pool));
        manager.requestSlash(g, pool, 1);
        // At most one veto flow after the deallocation took effect.
        uint256 bound = gone + VETO_WINDOW + EXEC_WINDOW;
        assertEq(manager.getPoolState(pool).slashPendingUntil + 1, bound);
        vm.warp(bound - 1);
        assertEq(manager.getAllocation(pool, own).current, 0);
        vm.warp(bound);
        assertEq(manager.getAllocation(pool, own).current, 0.3e27, "settled one veto flow after the deallocation");
    }

    /// Attack: a voting period at the edge (voting + veto + execution == deallocation delay) would let a deallocation
    /// filed with the proposal take effect at the request's last executable second. Refused at construction.
    function test_attack_votingPeriodAtTheEdgeIsRefused() public {
        address[] memory members = new address[](1);
        members[0] = m1;
        vm.expectRevert(
            abi.encodeWithSelector(CommitteeSlasher.InvalidVotingPeriod.selector, VOTING_PERIOD + 1, VOTING_PERIOD)
        );
        new CommitteeSlasher(
            manager, vault, "ipfs://e", sink, resolver, VETO_WINDOW, VOTING_PERIOD + 1, 1e18, members, 1
        );
    }
}
