// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {StakeVault} from "../../contracts/StakeVault.sol";
import {CommitteeSlasher} from "../../contracts/modules/CommitteeSlasher.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {AttackFixture} from "./AttackFixture.sol";

/// @notice P5 (inputs): out-of-range input reverts with a named error and leaves state unchanged; no silent
/// truncation; every pool stays slashable up to its stated limits. P3: no governance call walks a set anyone grows.
contract EdgeAttacksTest is AttackFixture {
    uint256 internal pool;

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
    }

    /// Attack: a committee proposal with a pool id above 64 bits used to be truncated to another pool's id.
    function test_attack_committeePoolIdTruncation() public {
        address[] memory members = new address[](1);
        members[0] = mallory;
        CommitteeSlasher c =
            new CommitteeSlasher(manager, vault, "ipfs://c", sink, resolver, 1 days, 12 hours, 1e18, members, 1);
        uint256 forged = (uint256(1) << 64) | pool; // truncates to `pool`
        vm.prank(mallory);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.PoolIdTooLarge.selector, forged));
        c.propose(forged, 0.5e18, bytes32(0));
        assertEq(c.proposalCount(), 0, "state unchanged");
    }

    /// Attack: the same truncation through the manager's request, by a module of its own.
    function test_attack_requestPoolIdTruncation() public {
        (uint32 v, address mv,) = _vetoAvs("v", 1 days);
        _allocate(opA, pool, v, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        uint256 forged = (uint256(1) << 64) | pool;
        vm.prank(mv);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.PoolIdTooLarge.selector, forged));
        manager.requestSlash(v, forged, 0.5e18);
        assertEq(manager.requestCount(), 0);
    }

    /// Attack: a 19-decimal asset would fill a pool's uint128 totals at a fraction of the stated limit.
    function test_attack_assetAbove18DecimalsRefused() public {
        MockERC20 wide = new MockERC20("Wide", "W19", 19);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.InvalidAsset.selector, address(wide)));
        vault.setAssetAllowed(address(wide), true);
        assertFalse(vault.getAsset(address(wide)).allowed);
    }

    /// Attack: fill a pool to the uint128 bound and leave a matured one-share withdrawal: settling it at the next
    /// slash used to overflow the batch price (assets + 1), so the pool could never be slashed again.
    function test_attack_poolAtTheBoundStaysSlashable() public {
        manager.setGuard(1e18, 1 days);
        MockERC20 big = new MockERC20("Big", "BIG", 18);
        vault.setAssetAllowed(address(big), true);
        uint256 max = vault.MAX_POOL_AMOUNT();
        (uint256 p,) = _deposit(bob, opB, big, max);
        vm.prank(bob);
        uint256 w = vault.queueWithdrawal(p, 1);
        (uint32 x, address mx, address sx) = _avs("x");
        _allocate(opB, p, x, ISO, 1e18);
        vm.warp(block.timestamp + ESCROW);
        vm.prank(mx);
        uint256 amount = manager.slash(x, p, 0.5e18);
        assertGt(amount, 0, "slashable at the bound");
        assertEq(big.balanceOf(sx), amount);
        assertEq(_claim(bob, w), 1, "the matured share left at its price");
    }

    /// Attack: one more unit than the bound must be refused, not wrapped.
    function test_attack_depositAboveTheBoundRefused() public {
        MockERC20 big = new MockERC20("Big", "BIG", 18);
        vault.setAssetAllowed(address(big), true);
        uint256 max = vault.MAX_POOL_AMOUNT();
        (uint256 p,) = _deposit(bob, opB, big, max);
        big.mint(bob, 1);
        vm.startPrank(bob);
        big.approve(address(vault), 1);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.AmountTooLarge.selector, max + 1));
        vault.deposit(opB, address(big), 1);
        vm.stopPrank();
        assertEq(vault.slashableAssets(p), max);
    }

    /// Attack: open hundreds of pools, then watch governance calls run out of gas. Their cost must not depend on
    /// the number of pools.
    function test_attack_manyPoolsDoNotBlockGovernance() public {
        uint256 before = _governanceGas();
        for (uint256 i; i < 200; ++i) {
            address op = address(uint160(0xA000 + i));
            vm.prank(op);
            registry.registerOperator("ipfs://spam", address(uint160(0xB000 + i)));
            _deposit(mallory, op, usdc, 1);
        }
        uint256 afterSpam = _governanceGas();
        assertEq(vault.poolCount(), 201);
        assertLe(afterSpam, before + 500, "governance cost grew with the number of pools");
    }

    function _governanceGas() internal returns (uint256 used) {
        uint256 g = gasleft();
        manager.setProtocolLimits(30_000, 100_000, 200_000);
        manager.setReuseCap(pool, 20_000);
        manager.setReuseCap(pool, 0);
        used = g - gasleft();
    }
}
