// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "./IAllocationManager.sol";

/// @title IAllocationLens
/// @notice Read-only views over an AllocationManager, built from the manager's and the vault's public views alone (so
/// they cannot disagree with them). The manager creates its lens (`IAllocationManager.lens`); they live apart so that
/// the manager's bytecode stays under EIP-170.
interface IAllocationLens {
    /// @notice The manager this lens reads.
    function manager() external view returns (IAllocationManager);

    /// @notice The allocation as fractions of the pool (WAD, rounded down), the pending change (none: zeros) and its
    /// backing now (`slashableBacking`).
    function allocationOf(uint256 poolId, uint32 avsId) external view returns (IAllocationManager.AllocationView memory);

    /// @notice An AVS's total backing (what it can slash now) and its breakdown by pool: every pool where it has an
    /// allocation in effect or pending (`allocated`: the larger of the two, in assets, rounded down). Reverts with the
    /// manager's `UnknownAVS` for an unknown AVS. Walks every pool: for off-chain callers, never for a transaction.
    function avsBacking(uint32 avsId) external view returns (uint256 total, IAllocationManager.Backing[] memory pools);
}
