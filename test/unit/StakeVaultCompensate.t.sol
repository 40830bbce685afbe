// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {StakeVault} from "../../contracts/StakeVault.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice The vault's compensation entry point (issue 16): `setCompensator`, `compensate` and `poolAsset`. The test
/// contract is the owner and, once set, the compensator. Alice holds 1,000 WETH in `pool` (1,000e18 shares).
contract StakeVaultCompensateTest is VaultFixture {
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal stranger = makeAddr("stranger");
    uint256 internal pool;

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
        vault.setCompensator(address(this));
        weth.mint(address(this), 1_000_000 ether);
        weth.approve(address(vault), type(uint256).max);
    }

    function _state(uint256 poolId) internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                vault.getPool(poolId),
                vault.getAsset(address(weth)),
                weth.balanceOf(address(vault)),
                weth.balanceOf(address(this))
            )
        );
    }

    /// @notice The compensator is wired once (owner only, never zero): detaching or swapping it would skip the
    /// penalties of pending requests at once (finding F4).
    function test_setCompensator_wiredOnce() public {
        StakeVault fresh = new StakeVault(registry, ESCROW, address(this), guardian);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        fresh.setCompensator(stranger);
        vm.expectRevert(IStakeVault.ZeroAddress.selector);
        fresh.setCompensator(address(0));
        vm.expectEmit(address(fresh));
        emit IStakeVault.CompensatorSet(bob);
        fresh.setCompensator(bob);
        assertEq(fresh.compensator(), bob);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.CompensatorAlreadySet.selector, bob));
        fresh.setCompensator(stranger);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.CompensatorAlreadySet.selector, address(this)));
        vault.setCompensator(address(0xdead));
        assertEq(vault.compensator(), address(this));
    }

    function test_compensate_addsToTheSlashableSet() public {
        vm.expectEmit(address(vault));
        emit IStakeVault.Compensated(pool, address(this), 50 ether, 50 ether);
        assertEq(vault.compensate(pool, 50 ether), 50 ether);
        IStakeVault.PoolView memory p = vault.getPool(pool);
        assertEq(p.slashableAssets, 1050 ether);
        assertEq(p.totalShares, 1000 ether);
        assertEq(vault.getAsset(address(weth)).tracked, 1050 ether);
        assertEq(weth.balanceOf(address(vault)), 1050 ether);
        assertApproxEqAbs(vault.positionsOf(alice)[0].value, 1050 ether, 1);
    }

    function test_compensate_worksWhilePaused() public {
        vault.pause();
        vault.compensate(pool, 1 ether);
        assertEq(vault.getPool(pool).slashableAssets, 1001 ether);
    }

    function test_RevertWhen_compensateBadInput() public {
        uint256 tooMuch = vault.MAX_POOL_AMOUNT() - 1000 ether + 1;
        weth.mint(address(this), tooMuch);
        bytes32 before = _state(pool);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.NotCompensator.selector, stranger));
        vm.prank(stranger);
        vault.compensate(pool, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.ZeroAmount.selector));
        vault.compensate(pool, 0);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 99));
        vault.compensate(99, 1 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.AmountTooLarge.selector, 1000 ether + tooMuch));
        vault.compensate(pool, tooMuch);
        assertEq(_state(pool), before);
    }

    /// @notice Fewer than 1e6 shares: refused, so that a payment cannot inflate a near-empty pool's share price.
    function test_RevertWhen_compensatePoolTooSmall() public {
        (uint256 small,) = _deposit(bob, opB, weth, 1e6 - 1);
        bytes32 before = _state(small);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.PoolTooSmallToCompensate.selector, small, 1e6 - 1, 1e6));
        vault.compensate(small, 1 ether);
        assertEq(_state(small), before);
        _deposit(bob, opB, weth, 1); // 1e6 shares: allowed
        vault.compensate(small, 1 ether);
    }

    /// @notice Matured withdrawals are settled first: they get nothing. Escrowed ones share the payment.
    function test_compensate_settlesMaturedFirst() public {
        (, uint256 bobShares) = _deposit(bob, opA, weth, 1000 ether);
        uint256 matured = _queue(bob, pool, bobShares / 2);
        vm.warp(block.timestamp + ESCROW);
        uint256 escrowed = _queue(alice, pool, 500 ether);
        vault.compensate(pool, 15 ether); // slashable set: 1,500 WETH
        assertEq(vault.getWithdrawal(matured).value, 500 ether);
        assertApproxEqAbs(vault.getWithdrawal(escrowed).value, 505 ether, 1);
        assertEq(vault.getPool(pool).reserve, 500 ether);
    }

    /// @notice A tier: base shares minted at the base price into the tier's collateral; the base price holds.
    function test_compensate_aTierInBaseShares() public {
        vault.setTierAllowed(pool, true);
        _approveTierOperators(pool);
        vm.prank(alice);
        (uint256 tier,) = vault.depositToTier(pool, opB, 400 ether);
        (address asset, address operator) = vault.poolAsset(tier);
        assertEq(asset, address(weth));
        assertEq(operator, opB);
        vm.expectEmit(address(vault));
        emit IStakeVault.Compensated(tier, address(this), 40 ether, 40 ether);
        assertEq(vault.compensate(tier, 40 ether), 40 ether);
        IStakeVault.PoolView memory base = vault.getPool(pool);
        assertEq(base.slashableAssets, 1040 ether);
        assertEq(base.totalShares, 1040 ether);
        assertEq(base.sharePrice, 1e18);
        assertEq(vault.getPool(tier).slashableAssets, 440 ether);
        assertEq(vault.slashableAssets(tier), 440 ether);
        // alice's tier position (newest first), in base shares: 440 less rounding.
        assertApproxEqAbs(vault.positionsOf(alice)[0].value, 440 ether, 1);
    }

    function test_poolAsset() public view {
        (address asset, address operator) = vault.poolAsset(pool);
        assertEq(asset, address(weth));
        assertEq(operator, opA);
    }

    function test_RevertWhen_poolAssetUnknown() public {
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 7));
        vault.poolAsset(7);
    }
}
