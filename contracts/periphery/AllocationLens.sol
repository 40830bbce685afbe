// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IAllocationLens} from "../interfaces/IAllocationLens.sol";
import {IAllocationManager} from "../interfaces/IAllocationManager.sol";
import {IStakeVault} from "../interfaces/IStakeVault.sol";

/// @title AllocationLens
/// @notice See `IAllocationLens`. Created by the AllocationManager's constructor.
contract AllocationLens is IAllocationLens {
    /// @inheritdoc IAllocationLens
    IAllocationManager public immutable manager;
    IStakeVault internal immutable _vault;
    uint256 internal constant WAD = 1e18;

    constructor(IStakeVault vault_) {
        manager = IAllocationManager(msg.sender);
        _vault = vault_;
    }

    /// @inheritdoc IAllocationLens
    function allocationOf(uint256 poolId, uint32 avsId)
        external
        view
        returns (IAllocationManager.AllocationView memory v)
    {
        // As the manager sees it now: a matured change in effect, a wiped-out pool's allocation as none.
        IAllocationManager.Allocation memory a = manager.getAllocation(poolId, avsId);
        if (a.mode == IAllocationManager.Mode.None) return v;
        uint256 total = manager.getPoolState(poolId).totalWeight;
        v.mode = a.mode;
        v.fractionWad = uint64(Math.mulDiv(a.current, WAD, total));
        if (a.effectAt != 0) {
            (v.pendingFractionWad, v.effectAt) = (uint64(Math.mulDiv(a.pending, WAD, total)), a.effectAt);
        }
        v.backing = manager.slashableBacking(avsId, poolId);
    }

    /// @inheritdoc IAllocationLens
    function avsBacking(uint32 avsId) external view returns (uint256 total, IAllocationManager.Backing[] memory pools) {
        // slither-disable-next-line unused-return (called for its `UnknownAVS` revert; the AVS itself is not needed)
        manager.getAVS(avsId); // the manager's `UnknownAVS`
        uint256 n = _vault.poolCount();
        pools = new IAllocationManager.Backing[](n);
        uint256 count;
        for (uint256 poolId = 1; poolId <= n; ++poolId) {
            // As the manager sees it now: the pool settled, a matured change in effect, a pool wiped out since the
            // allocation was made reads as no allocation.
            IAllocationManager.Allocation memory a = manager.getAllocation(poolId, avsId);
            if (a.mode == IAllocationManager.Mode.None || (a.current == 0 && a.pending == 0)) continue;
            uint256 assets = manager.slashableBacking(avsId, poolId);
            // slither-disable-next-line unused-return (the backing lists the operator; the asset is not needed)
            (, address operator) = _vault.poolAsset(poolId);
            uint256 limit = a.current > a.pending ? a.current : a.pending;
            pools[count++] = IAllocationManager.Backing({
                poolId: poolId,
                operator: operator,
                mode: a.mode,
                assets: assets,
                allocated: Math.mulDiv(limit, _vault.slashableAssets(poolId), manager.getPoolState(poolId).totalWeight)
            });
            total += assets;
        }
        assembly ("memory-safe") {
            mstore(pools, count)
        }
    }
}
