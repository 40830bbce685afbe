// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {RewardRail} from "../../contracts/RewardRail.sol";
import {IsolationFixture} from "./IsolationFixture.sol";
import {MockERC20} from "../mocks/MockERC20.sol";

/// @notice IsolationFixture plus the reward rail, wired into the vault. `payer` holds plenty of every asset.
abstract contract RailFixture is IsolationFixture {
    RewardRail internal rail;
    address internal payer = makeAddr("payer");

    function setUp() public virtual override {
        super.setUp();
        rail = new RewardRail(vault, address(this));
        vault.setRail(address(rail));
        MockERC20[3] memory assets = [weth, wbtc, usdc];
        for (uint256 i; i < assets.length; ++i) {
            assets[i].mint(payer, 1e30);
            vm.prank(payer);
            assets[i].approve(address(rail), type(uint256).max);
        }
    }

    function _enable(uint256 poolId) internal {
        (, address operator) = vault.poolAsset(poolId);
        vm.prank(operator);
        rail.enableRewards(poolId);
    }

    /// @dev `payer` pays the pool, accepting any commission.
    function _pay(uint256 poolId, uint256 amount) internal returns (uint256 toStakers, uint256 commission) {
        uint16 anyCommission = rail.MAX_COMMISSION_BPS();
        vm.prank(payer);
        return rail.pay(poolId, amount, anyCommission);
    }

    function _claimRewards(address staker, uint256 poolId) internal returns (uint256) {
        vm.prank(staker);
        return rail.claim(poolId, staker);
    }

    function _claimEscrow(address staker, uint256 withdrawalId) internal returns (uint256) {
        vm.prank(staker);
        return rail.claimEscrow(withdrawalId, staker);
    }
}
