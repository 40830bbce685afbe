// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {OperatorRegistry} from "../../contracts/OperatorRegistry.sol";
import {StakeVault} from "../../contracts/StakeVault.sol";
import {MockERC20} from "../mocks/MockERC20.sol";

/// @notice A deployed system for tests: registry, vault (7-day escrow), 6-, 8- and 18-decimal assets, two operators.
/// The test contract is the owner and the slasher; `guardian` can pause.
abstract contract VaultFixture is Test {
    uint48 internal constant ESCROW = 7 days;

    OperatorRegistry internal registry;
    StakeVault internal vault;
    MockERC20 internal usdc; // 6 decimals
    MockERC20 internal wbtc; // 8 decimals: the Babylon-style case
    MockERC20 internal weth; // 18 decimals

    address internal guardian = makeAddr("guardian");
    address internal sink = makeAddr("sink");
    address internal opA = makeAddr("operatorA");
    address internal opB = makeAddr("operatorB");
    address internal keyA = makeAddr("keyA");
    address internal keyB = makeAddr("keyB");

    /// @dev The slasher is wired once: the vault's own tests slash as this contract; a fixture with a manager wires
    /// the manager instead.
    function _wireSlasher() internal virtual {
        vault.setSlasher(address(this));
    }

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        registry = new OperatorRegistry();
        vault = new StakeVault(registry, ESCROW, address(this), guardian);
        _wireSlasher();
        usdc = new MockERC20("USD Coin", "USDC", 6);
        wbtc = new MockERC20("Wrapped BTC", "WBTC", 8);
        weth = new MockERC20("Wrapped Ether", "WETH", 18);
        vault.setAssetAllowed(address(usdc), true);
        vault.setAssetAllowed(address(wbtc), true);
        vault.setAssetAllowed(address(weth), true);
        vm.prank(opA);
        registry.registerOperator("ipfs://operator-a", keyA);
        vm.prank(opB);
        registry.registerOperator("ipfs://operator-b", keyB);
    }

    /// @dev Mints `amount` to `staker`, approves the vault and deposits it with `operator`.
    function _deposit(address staker, address operator, MockERC20 asset, uint256 amount)
        internal
        returns (uint256 poolId, uint256 shares)
    {
        asset.mint(staker, amount);
        vm.startPrank(staker);
        asset.approve(address(vault), amount);
        (poolId, shares) = vault.deposit(operator, address(asset), amount);
        vm.stopPrank();
    }

    function _queue(address staker, uint256 poolId, uint256 shares) internal returns (uint256 id) {
        vm.prank(staker);
        id = vault.queueWithdrawal(poolId, shares);
    }

    function _claim(address staker, uint256 id) internal returns (uint256 assets) {
        vm.prank(staker);
        assets = vault.completeWithdrawal(id, staker);
    }

    /// @dev The base pool's operator approves the operators the tests run tiers with (tier operators need it).
    function _approveTierOperators(uint256 basePoolId) internal {
        (address baseOperator,,) = vault.poolKey(basePoolId);
        address[5] memory ops = [opA, opB, makeAddr("operatorC"), makeAddr("operatorX"), makeAddr("operatorY")];
        for (uint256 i; i < ops.length; ++i) {
            vm.prank(baseOperator);
            vault.approveTierOperator(basePoolId, ops[i], true);
        }
    }

    function _sharesOf(address staker, uint256 poolId) internal view returns (uint256) {
        StakeVault.PositionView[] memory ps = vault.positionsOf(staker);
        for (uint256 i; i < ps.length; ++i) {
            if (ps[i].poolId == poolId) return ps[i].shares;
        }
        return 0;
    }
}
