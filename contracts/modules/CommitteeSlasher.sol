// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IStakeVault} from "../interfaces/IStakeVault.sol";

/// @title CommitteeSlasher
/// @notice An AVS's slashing module for subjective faults: a fixed committee votes a slash, and once a quorum agrees
/// the slash is requested through the veto flow, where the AVS's resolver can still stop it (the governance risk:
/// a committee can be wrong or captured). After the veto window anyone can execute it before it expires.
/// Promise (no escape, P2): a slash is decided when it is proposed. A proposal takes votes for `votingPeriod` seconds
/// (`ProposalExpired` after), and `votingPeriod + vetoWindow + executionWindow < deallocationDelay`: a deallocation,
/// opt-out or withdrawal started once the proposal is public still counts at the last executable second of the
/// request its quorum files. The proposal announces the slash (`announceSlash`) for a veto flow, which covers every
/// vote (`votingPeriod <= vetoWindow + executionWindow`), and the quorum's request holds the pool from then to its last
/// executable second, so the pool's pending isolated increase settles in neither gap. `proposedAt` is stored in 32
/// bits (seconds, until 2106, as the manager's `Allocation.effectAt`).
contract CommitteeSlasher {
    struct Proposal {
        uint64 poolId;
        uint64 fractionWad;
        uint32 votes;
        uint64 requestId; // 0 until the quorum is reached
        uint32 proposedAt; // votes count until proposedAt + votingPeriod (inclusive)
        bytes32 evidence;
    }

    IAllocationManager public immutable manager;
    IStakeVault public immutable vault;
    uint32 public immutable avsId;
    uint32 public immutable quorum;
    uint32 public immutable memberCount;
    /// @notice Seconds after its proposal during which a proposal takes votes (the quorum's included).
    uint48 public immutable votingPeriod;

    mapping(address member => bool) public isMember;
    mapping(uint256 proposalId => Proposal) internal _proposals;
    mapping(uint256 proposalId => mapping(address member => bool)) public hasVoted;
    uint256 public proposalCount;

    error InvalidCommittee(uint256 members, uint256 quorum);
    /// @notice `votingPeriod` must be positive and at most `limit`: the veto window plus the execution window, and
    /// less than the deallocation delay minus both (so nothing filed after the proposal escapes its quorum's request).
    error InvalidVotingPeriod(uint256 votingPeriod, uint256 limit);
    error NotMember(address caller);
    error UnknownProposal(uint256 proposalId);
    error AlreadyVoted(uint256 proposalId, address member);
    error QuorumReached(uint256 proposalId);
    error QuorumNotReached(uint256 proposalId, uint32 votes, uint32 quorum);
    /// @notice The proposal's voting period ended at `expiredAt` (inclusive) without a quorum: propose it again.
    error ProposalExpired(uint256 proposalId, uint40 expiredAt);
    error PoolIdTooLarge(uint256 poolId);

    /// @notice A proposal opened: votes count until `votingEndsAt` (inclusive).
    event SlashProposed(
        uint256 indexed proposalId, uint256 indexed poolId, uint64 fractionWad, bytes32 evidence, uint40 votingEndsAt
    );
    event Voted(uint256 indexed proposalId, address indexed member, uint32 votes);
    event QuorumRequested(uint256 indexed proposalId, uint64 indexed requestId);

    /// @dev Registers the AVS (veto flow with `resolver` and `vetoWindow`) with this contract as its module. Refuses a
    /// voting period that would let a deallocation filed after a proposal escape its request (`InvalidVotingPeriod`).
    constructor(
        IAllocationManager manager_,
        IStakeVault vault_,
        string memory metadataURI,
        address sink,
        address resolver,
        uint48 vetoWindow,
        uint48 votingPeriod_,
        uint64 maxSlashWad,
        address[] memory members,
        uint32 quorum_
    ) {
        if (quorum_ == 0 || quorum_ > members.length) {
            revert InvalidCommittee(members.length, quorum_);
        }
        // The proposal's announcement (veto + execution window from it) covers every vote, and the last executable
        // second of a request filed at the last vote comes before a deallocation filed at the proposal takes effect.
        uint256 flow = uint256(vetoWindow) + manager_.executionWindow();
        uint256 dealloc = manager_.deallocationDelay();
        uint256 limit = flow < dealloc ? dealloc - flow - 1 : 0;
        if (limit > flow) limit = flow;
        if (votingPeriod_ == 0 || votingPeriod_ > limit) revert InvalidVotingPeriod(votingPeriod_, limit);
        for (uint256 i; i < members.length; ++i) {
            if (members[i] == address(0) || isMember[members[i]]) revert InvalidCommittee(members.length, quorum_);
            isMember[members[i]] = true;
        }
        manager = manager_;
        vault = vault_;
        quorum = quorum_;
        memberCount = uint32(members.length);
        votingPeriod = votingPeriod_;
        avsId = manager_.registerAVS(metadataURI, address(this), sink, resolver, vetoWindow, maxSlashWad);
    }

    /// @notice A member proposes slashing `fractionWad` of a pool's backing, and votes for it. The slash is decided
    /// now: the quorum must follow within the voting period.
    function propose(uint256 poolId, uint64 fractionWad, bytes32 evidence) external returns (uint256 proposalId) {
        if (!isMember[msg.sender]) revert NotMember(msg.sender);
        // Stored in 64 bits: members must vote on the pool that will be slashed, never a truncated id.
        if (poolId > type(uint64).max) revert PoolIdTooLarge(poolId);
        proposalId = ++proposalCount;
        _proposals[proposalId] = Proposal({
            poolId: uint64(poolId),
            fractionWad: fractionWad,
            votes: 0,
            requestId: 0,
            proposedAt: uint32(block.timestamp),
            evidence: evidence
        });
        emit SlashProposed(proposalId, poolId, fractionWad, evidence, uint40(block.timestamp + votingPeriod));
        _vote(proposalId);
    }

    /// @notice A member votes for a proposal; the vote that reaches the quorum files the slash request. Votes after
    /// the voting period revert (`ProposalExpired`).
    function vote(uint256 proposalId) external {
        if (!isMember[msg.sender]) revert NotMember(msg.sender);
        if (proposalId == 0 || proposalId > proposalCount) revert UnknownProposal(proposalId);
        _vote(proposalId);
    }

    /// @notice Executes the request of a proposal after its veto window (anyone may call).
    function execute(uint256 proposalId) external returns (uint256 amount) {
        Proposal storage p = _proposals[proposalId];
        if (proposalId == 0 || proposalId > proposalCount) revert UnknownProposal(proposalId);
        if (p.requestId == 0) revert QuorumNotReached(proposalId, p.votes, quorum);
        return manager.executeSlash(p.requestId);
    }

    function getProposal(uint256 proposalId) external view returns (Proposal memory) {
        return _proposals[proposalId];
    }

    function _vote(uint256 proposalId) internal {
        Proposal storage p = _proposals[proposalId];
        if (p.requestId != 0) revert QuorumReached(proposalId);
        // The slash was decided at the proposal: a quorum after the voting period could file a request that outlives a
        // deallocation filed at the proposal.
        uint40 endsAt = uint40(p.proposedAt + uint256(votingPeriod));
        if (block.timestamp > endsAt) revert ProposalExpired(proposalId, endsAt);
        if (hasVoted[proposalId][msg.sender]) revert AlreadyVoted(proposalId, msg.sender);
        hasVoted[proposalId][msg.sender] = true;
        uint32 votes = p.votes + 1;
        p.votes = votes;
        emit Voted(proposalId, msg.sender, votes);
        if (votes < quorum) {
            // A slash being decided: the pool's pending isolated increase waits for it (a veto flow from this vote,
            // which covers the voting period), so the operator cannot shrink the shared stake before the quorum files
            // the request. Nothing to protect (and nothing the quorum could file) on a pool this AVS does not back.
            if (manager.slashableBacking(avsId, p.poolId) != 0) manager.announceSlash(avsId, p.poolId);
        } else {
            // slither-disable-next-line reentrancy-no-eth (the immutable manager never calls back)
            uint64 requestId = manager.requestSlash(avsId, p.poolId, p.fractionWad);
            p.requestId = requestId;
            emit QuorumRequested(proposalId, requestId);
        }
    }
}
