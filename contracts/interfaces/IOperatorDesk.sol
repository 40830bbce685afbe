// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "./IAllocationManager.sol";

/// @title Operator desk: an operator account that can sell security on the market and keep its leases
/// @notice The desk is the registered operator (stakers delegate to its address); its owner runs it. The owner can do
/// what any operator does, through the desk, except what would break a lease: while a lease holds a (pool, AVS)
/// pair, the pair's allocation cannot be changed (so never lowered) and the desk cannot opt out of the AVS. The market
/// allocates for a fill and releases the pair when the lease ends; after its end anyone may release it.
interface IOperatorDesk {
    /// @notice The caller is not the market.
    error NotMarket(address caller);
    /// @notice A lease holds this pair until `until`.
    error LeaseHoldsPair(uint256 poolId, uint32 avsId, uint48 until);
    /// @notice A lease of this desk with the AVS runs until `until`: the desk stays opted in.
    error LeaseOpenWithAVS(uint32 avsId, uint48 until);
    /// @notice No lease holds this pair until `until`.
    error PairNotHeld(uint256 poolId, uint32 avsId, uint48 until);

    /// @notice The market allocated `fractionWad` of `poolId` to `avsId` for a lease ending at `until`.
    event PairHeld(uint256 indexed poolId, uint32 indexed avsId, uint48 until);
    /// @notice The lease on the pair ended: its allocation is the owner's again.
    event PairReleased(uint256 indexed poolId, uint32 indexed avsId, address by);

    /// @notice The market this desk sells through.
    function market() external view returns (address);

    /// @notice Until when a lease holds the pair (0 = none).
    function heldUntil(uint256 poolId, uint32 avsId) external view returns (uint48);

    /// @notice The latest end of any lease of this desk with the AVS: the desk cannot opt out before it.
    function avsHeldUntil(uint32 avsId) external view returns (uint48);

    /// @notice Market: opts in to the AVS if needed, allocates the pair and holds it for `term` from the moment the
    /// allocation takes effect (`start`) to `end`.
    function leaseAllocate(uint256 poolId, uint32 avsId, IAllocationManager.Mode mode, uint64 fractionWad, uint48 term)
        external
        returns (uint48 start, uint48 end);

    /// @notice The market at any time, anyone once the hold has passed: ends the hold on the pair that runs until
    /// `until` (a later lease's hold on the same pair is never released by an earlier one).
    function release(uint256 poolId, uint32 avsId, uint48 until) external;

    /// @notice Owner: `IAllocationManager.optIn` as this operator.
    function optIn(uint32 avsId) external;
    /// @notice Owner: `IAllocationManager.optOut`, refused before `avsHeldUntil(avsId)`.
    function optOut(uint32 avsId) external;
    /// @notice Owner: `IAllocationManager.allocate`, refused on a pair a lease holds.
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
