// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "./IAllocationManager.sol";

/// @title Operator desk: an operator account that can sell security on the market and keep its leases
/// @notice The desk is the registered operator (stakers delegate to its address); its owner runs it. The owner can do
/// what any operator does, through the desk, except what could lower a lease: while a lease of the desk with an AVS
/// runs (`heldUntil`), the owner cannot change any allocation of the desk to that AVS, nor opt out of it; while a
/// shared lease on a pool runs (`sharedHeldUntil`), no isolated change on that pool: an increase, by the owner or by
/// an isolated fill, would shrink the shared stake behind the lease, and the owner's decreases wait with it (one rule
/// for the pool; a decrease could only grow that stake). The market allocates for a fill; the holds lapse by themselves at the leases' ends, and an
/// AVS that ejects the desk releases its own.
interface IOperatorDesk {
    /// @notice The caller is not the market.
    error NotMarket(address caller);
    /// @notice A lease of this desk with the AVS runs until `until`.
    error LeaseHoldsAVS(uint32 avsId, uint48 until);
    /// @notice A shared lease on the pool runs until `until`: isolated increases would shrink its shared stake (the
    /// owner's isolated decreases wait too).
    error SharedLeaseHoldsPool(uint256 poolId, uint48 until);
    /// @notice The owner allocated this pair itself: a lease's allocation must be its own alone.
    error PairAllocated(uint256 poolId, uint32 avsId);

    /// @notice The market allocated `poolId` to `avsId` for a lease: the desk's allocations to the AVS are held
    /// until `until` (at least).
    event AVSHeld(uint32 indexed avsId, uint256 indexed poolId, uint48 until);

    /// @notice The market this desk sells through.
    function market() external view returns (address);

    /// @notice Until when leases hold the desk's allocations to the AVS (the latest end; 0 = never leased). An AVS
    /// that ejected the desk holds nothing.
    function heldUntil(uint32 avsId) external view returns (uint48);

    /// @notice Until when a shared lease holds the pool's shared stake: isolated fills and the owner's isolated
    /// changes on the pool wait.
    function sharedHeldUntil(uint256 poolId) external view returns (uint48);

    /// @notice Market: allocates `fractionWad` of the pool to the AVS (the desk must have opted in), for `term` from
    /// the moment the allocation takes effect (`start`) to `end`, and holds the AVS until `end`.
    function leaseAllocate(uint256 poolId, uint32 avsId, IAllocationManager.Mode mode, uint64 fractionWad, uint48 term)
        external
        returns (uint48 start, uint48 end);

    /// @notice Owner: `IAllocationManager.optIn` as this operator.
    function optIn(uint32 avsId) external;
    /// @notice Owner: `IAllocationManager.optOut`, refused while a lease holds the AVS.
    function optOut(uint32 avsId) external;
    /// @notice Owner: `IAllocationManager.allocate`, refused for an AVS a lease holds.
    function allocate(uint256 poolId, uint32 avsId, IAllocationManager.Mode mode, uint64 fractionWad) external;
    /// @notice Owner: `IStakeVault.approveTierOperator` for a base pool of this desk.
    function approveTierOperator(uint256 basePoolId, address operator, bool approved) external;
    /// @notice Owner: `IOperatorRegistry.setMetadataURI`.
    function setMetadataURI(string calldata metadataURI) external;
    /// @notice Owner: `IOperatorRegistry.rotateSigningKey`.
    function rotateSigningKey(address newKey) external;
    /// @notice Owner: `IRewardRail.enableRewards` for a pool of this desk.
    function enableRewards(uint256 poolId) external;
    /// @notice Owner: `IRewardRail.setCommission` for a pool of this desk.
    function setCommission(uint256 poolId, uint16 bps) external;
    /// @notice Owner: `IRewardRail.claimCommission`, paid to `receiver`.
    function claimCommission(address token, address receiver) external returns (uint256);
}
