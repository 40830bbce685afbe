// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IStakeVault} from "../interfaces/IStakeVault.sol";

/// @title CommitteeSlasher
/// @notice An AVS's slashing module for subjective faults: a fixed committee votes a slash, and once a quorum agrees
/// the slash is requested through the veto flow, where the AVS's resolver can still stop it (the governance risk:
/// a committee can be wrong or captured). After the veto window anyone can execute it before it expires.
contract CommitteeSlasher {
    struct Proposal {
        uint64 poolId;
        uint64 fractionWad;
        uint32 votes;
        uint64 requestId; // 0 until the quorum is reached
        bytes32 evidence;
    }

    IAllocationManager public immutable manager;
    IStakeVault public immutable vault;
    uint32 public immutable avsId;
    uint32 public immutable quorum;
    uint32 public immutable memberCount;

    mapping(address member => bool) public isMember;
    mapping(uint256 proposalId => Proposal) internal _proposals;
    mapping(uint256 proposalId => mapping(address member => bool)) public hasVoted;
    uint256 public proposalCount;

    error InvalidCommittee(uint256 members, uint256 quorum);
    error NotMember(address caller);
    error UnknownProposal(uint256 proposalId);
    error AlreadyVoted(uint256 proposalId, address member);
    error QuorumReached(uint256 proposalId);
    error QuorumNotReached(uint256 proposalId, uint32 votes, uint32 quorum);
    error PoolIdTooLarge(uint256 poolId);

    event SlashProposed(uint256 indexed proposalId, uint256 indexed poolId, uint64 fractionWad, bytes32 evidence);
    event Voted(uint256 indexed proposalId, address indexed member, uint32 votes);
    event QuorumRequested(uint256 indexed proposalId, uint64 indexed requestId);

    /// @dev Registers the AVS (veto flow with `resolver` and `vetoWindow`) with this contract as its module.
    constructor(
        IAllocationManager manager_,
        IStakeVault vault_,
        string memory metadataURI,
        address sink,
        address resolver,
        uint48 vetoWindow,
        uint64 maxSlashWad,
        address[] memory members,
        uint32 quorum_
    ) {
        if (quorum_ == 0 || quorum_ > members.length) revert InvalidCommittee(members.length, quorum_);
        for (uint256 i; i < members.length; ++i) {
            if (members[i] == address(0) || isMember[members[i]]) revert InvalidCommittee(members.length, quorum_);
            isMember[members[i]] = true;
        }
        manager = manager_;
        vault = vault_;
        quorum = quorum_;
        memberCount = uint32(members.length);
        avsId = manager_.registerAVS(metadataURI, address(this), sink, resolver, vetoWindow, maxSlashWad);
    }

    /// @notice A member proposes slashing `fractionWad` of a pool's backing, and votes for it.
    function propose(uint256 poolId, uint64 fractionWad, bytes32 evidence) external returns (uint256 proposalId) {
        if (!isMember[msg.sender]) revert NotMember(msg.sender);
        // Stored in 64 bits: members must vote on the pool that will be slashed, never a truncated id.
        if (poolId > type(uint64).max) revert PoolIdTooLarge(poolId);
        proposalId = ++proposalCount;
        _proposals[proposalId] =
            Proposal({poolId: uint64(poolId), fractionWad: fractionWad, votes: 0, requestId: 0, evidence: evidence});
        emit SlashProposed(proposalId, poolId, fractionWad, evidence);
        _vote(proposalId);
    }

    /// @notice A member votes for a proposal; the vote that reaches the quorum files the slash request.
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
        if (hasVoted[proposalId][msg.sender]) revert AlreadyVoted(proposalId, msg.sender);
        hasVoted[proposalId][msg.sender] = true;
        uint32 votes = p.votes + 1;
        p.votes = votes;
        emit Voted(proposalId, msg.sender, votes);
        if (votes < quorum) {
            // A slash being decided: isolated increases on the pool wait for it (one veto flow from this vote), so the
            // operator cannot shrink the shared stake before the quorum files the request. Nothing to protect (and
            // nothing the quorum could file) on a pool this AVS does not back.
            if (manager.slashableBacking(avsId, p.poolId) != 0) manager.announceSlash(avsId, p.poolId);
        } else {
            // slither-disable-next-line reentrancy-no-eth (the immutable manager never calls back)
            uint64 requestId = manager.requestSlash(avsId, p.poolId, p.fractionWad);
            p.requestId = requestId;
            emit QuorumRequested(proposalId, requestId);
        }
    }
}
