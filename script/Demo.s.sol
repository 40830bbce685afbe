// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Script, console} from "forge-std/Script.sol";

import {OperatorRegistry} from "../contracts/OperatorRegistry.sol";
import {StakeVault} from "../contracts/StakeVault.sol";
import {IStakeVault} from "../contracts/interfaces/IStakeVault.sol";
import {MockERC20} from "../test/mocks/MockERC20.sol";

/// @notice Chained-slash demo on the real bytecode in forge's in-process EVM (no node):
///   forge script script/Demo.s.sol -vv
/// Two operators, three assets, five stakers. Operator A's WETH pool is slashed twice in a row while a withdrawal
/// sits in escrow; the escrowed stake pays its share, a withdrawal that already matured does not, operator B's pool
/// is untouched, and a full slash leaves the pool working for the next staker.
/// Until the isolation layer (AVS slashing modules) lands, the script itself holds the vault's slasher role.
contract Demo is Script {
    OperatorRegistry internal registry;
    StakeVault internal vault;
    MockERC20 internal weth;
    MockERC20 internal wbtc;
    MockERC20 internal usdc;
    address internal sink = address(0xdEaD);
    /// Owner, guardian and (until the isolation layer lands) slasher.
    address internal admin = makeAddr("admin");

    function run() external {
        vm.warp(1_700_000_000);
        registry = new OperatorRegistry();
        vault = new StakeVault(registry, 7 days, admin, admin);
        vm.prank(admin);
        vault.setSlasher(admin);
        weth = _asset("Wrapped Ether", "WETH", 18);
        wbtc = _asset("Wrapped BTC", "WBTC", 8);
        usdc = _asset("USD Coin", "USDC", 6);

        address opA = _operator("operator-a");
        address opB = _operator("operator-b");
        address alice = makeAddr("alice");
        address bob = makeAddr("bob");
        address carol = makeAddr("carol");
        address dave = makeAddr("dave");
        address erin = makeAddr("erin");

        uint256 poolA = _deposit(alice, opA, weth, 100 ether);
        _deposit(bob, opA, weth, 50 ether);
        _deposit(carol, opA, weth, 50 ether);
        uint256 poolB = _deposit(dave, opB, weth, 80 ether);
        _deposit(dave, opB, wbtc, 2e8);
        _deposit(erin, opA, usdc, 250_000e6);
        _show("deposits", poolA, poolB);

        // Carol leaves early: her withdrawal matures before the slashes and is never touched by them.
        vm.prank(carol);
        uint256 wCarol = vault.queueWithdrawal(poolA, 50 ether);
        vm.warp(block.timestamp + 7 days);
        // Alice starts leaving just before trouble: her 40 shares stay slashable for 7 days.
        vm.prank(alice);
        uint256 wAlice = vault.queueWithdrawal(poolA, 40 ether);
        console.log("carol queued 50 WETH (matured now); alice queued 40 WETH (in escrow for 7 days)");

        vm.prank(admin);
        vault.slash(poolA, 15 ether, sink);
        _show("slash 1: 15 WETH from operator A's WETH pool", poolA, poolB);
        vm.prank(admin);
        vault.slash(poolA, 27 ether, sink);
        _show("slash 2 (chained): 27 WETH more from the same pool", poolA, poolB);

        vm.warp(block.timestamp + 7 days);
        console.log("carol claims %s (queued 50, matured before the slashes)", _fmt(_claim(carol, wCarol), 18));
        console.log("alice claims %s (queued 40, slashed in escrow twice)", _fmt(_claim(alice, wAlice), 18));
        _show("after claims", poolA, poolB);

        uint256 rest = vault.slashableAssets(poolA);
        vm.prank(admin);
        vault.slash(poolA, rest, sink);
        _show("slash 3: everything left in operator A's WETH pool", poolA, poolB);
        _deposit(makeAddr("frank"), opA, weth, 10 ether);
        console.log("frank deposits 10 WETH after the full slash; his position is worth %s", _value(poolA, "frank"));
        console.log("bob's old position is worth %s and stays queueable", _value(poolA, "bob"));
        console.log("vault WETH balance %s = pools + reserves", _fmt(weth.balanceOf(address(vault)), 18));
    }

    function _asset(string memory name, string memory symbol, uint8 decimals) internal returns (MockERC20 token) {
        token = new MockERC20(name, symbol, decimals);
        vm.prank(admin);
        vault.setAssetAllowed(address(token), true);
    }

    function _operator(string memory name) internal returns (address operator) {
        operator = makeAddr(name);
        vm.prank(operator);
        registry.registerOperator(string.concat("https://example.org/", name), makeAddr(string.concat(name, "-key")));
    }

    function _deposit(address staker, address operator, MockERC20 asset, uint256 amount)
        internal
        returns (uint256 poolId)
    {
        asset.mint(staker, amount);
        vm.startPrank(staker);
        asset.approve(address(vault), amount);
        (poolId,) = vault.deposit(operator, address(asset), amount);
        vm.stopPrank();
    }

    function _claim(address staker, uint256 id) internal returns (uint256) {
        vm.prank(staker);
        return vault.completeWithdrawal(id, staker);
    }

    function _value(uint256 poolId, string memory staker) internal returns (string memory) {
        IStakeVault.PositionView[] memory ps = vault.positionsOf(makeAddr(staker));
        for (uint256 i; i < ps.length; ++i) {
            if (ps[i].poolId == poolId) return _fmt(ps[i].value, 18);
        }
        return "0";
    }

    function _show(string memory step, uint256 poolA, uint256 poolB) internal view {
        IStakeVault.PoolView memory a = vault.getPool(poolA);
        IStakeVault.PoolView memory b = vault.getPool(poolB);
        console.log("");
        console.log("== %s", step);
        console.log("  pool | operator | slashable WETH | escrow shares | reserve | share price");
        console.log(_row("A", a));
        console.log(_row("B", b));
        console.log("  sink holds %s WETH", _fmt(weth.balanceOf(sink), 18));
    }

    function _row(string memory name, IStakeVault.PoolView memory p) internal pure returns (string memory) {
        return string.concat(
            "  ",
            vm.toString(p.poolId),
            "    | ",
            name,
            "        | ",
            _fmt(p.slashableAssets, 18),
            " | ",
            _fmt(p.escrowedShares, 18),
            " | ",
            _fmt(p.reserve, 18),
            " | ",
            _fmt(p.sharePrice, 18)
        );
    }

    /// @dev Fixed-point amount with 4 decimals, rounded down.
    function _fmt(uint256 amount, uint8 decimals) internal pure returns (string memory) {
        uint256 unit = 10 ** decimals;
        uint256 frac = (amount % unit) * 1e4 / unit;
        bytes memory f = bytes(vm.toString(frac + 1e4));
        f[0] = ".";
        return string.concat(vm.toString(amount / unit), string(f));
    }
}
