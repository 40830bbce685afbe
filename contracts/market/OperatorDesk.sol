// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IOperatorDesk} from "../interfaces/IOperatorDesk.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IRewardRail} from "../interfaces/IRewardRail.sol";
import {IStakeVault} from "../interfaces/IStakeVault.sol";

/// @title OperatorDesk
/// @notice A registered operator whose leases hold: see IOperatorDesk. Created by the market (`openDesk`).
contract OperatorDesk is IOperatorDesk, Ownable2Step {
    address public immutable market;
    IAllocationManager public immutable manager;
    IStakeVault public immutable vault;
    IOperatorRegistry public immutable registry;
    IRewardRail public immutable rail;

    /// @inheritdoc IOperatorDesk
    mapping(uint32 avsId => uint48) public heldUntil;
    /// @inheritdoc IOperatorDesk
    mapping(uint256 poolId => uint48) public sharedHeldUntil;

    constructor(
        address owner_,
        IAllocationManager manager_,
        IStakeVault vault_,
        IOperatorRegistry registry_,
        IRewardRail rail_,
        string memory metadataURI,
        address signingKey
    ) Ownable(owner_) {
        market = msg.sender;
        (manager, vault, registry, rail) = (manager_, vault_, registry_, rail_);
        registry_.registerOperator(metadataURI, signingKey);
    }

    // ------------------------------------------------------------------ the market

    /// @inheritdoc IOperatorDesk
    function leaseAllocate(uint256 poolId, uint32 avsId, IAllocationManager.Mode mode, uint64 fractionWad, uint48 term)
        external
        returns (uint48 start, uint48 end)
    {
        if (msg.sender != market) revert NotMarket(msg.sender);
        // A running shared lease holds the pool's shared stake: a leased isolated increase would carve it out as much
        // as the owner's own (`allocate`).
        if (mode == IAllocationManager.Mode.Isolated) {
            uint48 shared = sharedHeldUntil[poolId];
            if (block.timestamp < shared) revert SharedLeaseHoldsPool(poolId, shared);
        }
        // The manager refuses a pair with a change pending (`PendingChange`) and one the desk has not opted in to.
        // slither-disable-next-line reentrancy-no-eth (the manager is fixed at construction and never calls back)
        (uint256 current, uint48 effectAt) = manager.allocate(poolId, avsId, mode, fractionWad);
        // A lease's allocation is exactly its own: never one raised on top of the owner's.
        if (current != 0) revert PairAllocated(poolId, avsId);
        // The lease runs from when the backing becomes slashable (the allocation delay, or later behind a decided
        // slash), for its whole term.
        start = effectAt;
        end = start + term;
        if (end > heldUntil[avsId]) heldUntil[avsId] = end;
        // A shared lease is backed by the pool's shared stake: the owner's isolated increases would carve it out.
        if (mode == IAllocationManager.Mode.Shared && end > sharedHeldUntil[poolId]) sharedHeldUntil[poolId] = end;
        emit AVSHeld(avsId, poolId, end);
    }

    // ------------------------------------------------------------------ the owner, as the operator

    /// @inheritdoc IOperatorDesk
    function optIn(uint32 avsId) external onlyOwner {
        manager.optIn(avsId);
    }

    /// @inheritdoc IOperatorDesk
    function optOut(uint32 avsId) external onlyOwner {
        _notHeld(avsId);
        manager.optOut(avsId);
    }

    /// @inheritdoc IOperatorDesk
    function allocate(uint256 poolId, uint32 avsId, IAllocationManager.Mode mode, uint64 fractionWad)
        external
        onlyOwner
    {
        _notHeld(avsId);
        uint48 shared = sharedHeldUntil[poolId];
        if (mode == IAllocationManager.Mode.Isolated && block.timestamp < shared) {
            revert SharedLeaseHoldsPool(poolId, shared);
        }
        manager.allocate(poolId, avsId, mode, fractionWad);
    }

    /// @inheritdoc IOperatorDesk
    function approveTierOperator(uint256 basePoolId, address operator, bool approved) external onlyOwner {
        vault.approveTierOperator(basePoolId, operator, approved);
    }

    /// @inheritdoc IOperatorDesk
    function setMetadataURI(string calldata metadataURI) external onlyOwner {
        registry.setMetadataURI(metadataURI);
    }

    /// @inheritdoc IOperatorDesk
    function rotateSigningKey(address newKey) external onlyOwner {
        registry.rotateSigningKey(newKey);
    }

    /// @inheritdoc IOperatorDesk
    function enableRewards(uint256 poolId) external onlyOwner {
        rail.enableRewards(poolId);
    }

    /// @inheritdoc IOperatorDesk
    function setCommission(uint256 poolId, uint16 bps) external onlyOwner {
        rail.setCommission(poolId, bps);
    }

    /// @inheritdoc IOperatorDesk
    function claimCommission(address token, address receiver) external onlyOwner returns (uint256) {
        return rail.claimCommission(token, receiver);
    }

    /// @dev Held until the last lease with the AVS ends, unless the AVS ejected the desk (which ends its leases).
    function _notHeld(uint32 avsId) internal view {
        uint48 until = heldUntil[avsId];
        if (block.timestamp < until && !manager.membership(avsId, address(this)).ejected) {
            revert LeaseHoldsAVS(avsId, until);
        }
    }
}
