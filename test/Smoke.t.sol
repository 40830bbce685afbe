// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {VaultFixture} from "./utils/VaultFixture.sol";

contract SmokeTest is VaultFixture {
    function test_flow() public {
        address alice = makeAddr("alice");
        address bob = makeAddr("bob");
        (uint256 pool,) = _deposit(alice, opA, weth, 100e18);
        _deposit(bob, opA, weth, 100e18);
        uint256 w = _queue(alice, pool, 50e18);
        vault.slash(pool, 20e18, sink);
        vm.warp(block.timestamp + ESCROW);
        vault.slash(pool, 18e18, sink);
        uint256 got = _claim(alice, w);
        emit log_named_uint("alice got", got);
        emit log_named_uint("bob value", vault.convertToAssets(pool, _sharesOf(bob, pool)));
        emit log_named_uint("alice rest", vault.convertToAssets(pool, _sharesOf(alice, pool)));
        emit log_named_uint("vault bal", weth.balanceOf(address(vault)));
    }
}
