// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {Vm} from "forge-std/Vm.sol";

import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice Gas benchmark, not a test of speed: run with
///   forge test --match-path 'test/gas/*' --isolate -vv
/// `--isolate` runs each top-level call as its own transaction, so `lastCallGas().gasTotalUsed` is what a receipt
/// shows (21,000 + calldata + execution - refund) with cold storage, as on chain. Each test prints `GAS <op> <gas>`.
contract VaultGasTest is VaultFixture {
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    uint256 internal pool;

    function setUp() public override {
        super.setUp();
        // The pool exists with one staker; bob holds more WETH than he deposits and approves exactly what he uses.
        (pool,) = _deposit(alice, opA, weth, 100 ether);
        weth.mint(bob, 20 ether);
        vm.prank(bob);
        weth.approve(address(vault), 10 ether);
    }

    /// @dev Second staker, new position, asset already in the pool: deposit and delegate in one transaction.
    function test_gas_deposit() public {
        vm.prank(bob);
        vault.deposit(opA, address(weth), 10 ether);
        _report("deposit");
    }

    function test_gas_queueWithdrawal() public {
        vm.prank(alice);
        vault.queueWithdrawal(pool, 40 ether);
        _report("queueWithdrawal");
    }

    function test_gas_completeWithdrawal() public {
        weth.mint(alice, 1 ether); // a receiver that already holds the token, as most do
        vm.prank(alice);
        uint256 id = vault.queueWithdrawal(pool, 40 ether);
        vm.warp(block.timestamp + ESCROW);
        vm.prank(alice);
        vault.completeWithdrawal(id, alice);
        _report("completeWithdrawal");
    }

    function _report(string memory operation) internal view {
        Vm.Gas memory gas = vm.lastCallGas();
        console.log(string.concat("GAS ", operation, " ", vm.toString(gas.gasTotalUsed)));
    }
}
