// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {console} from "forge-std/console.sol";
import {Vm} from "forge-std/Vm.sol";

import {MarketFixture} from "../utils/MarketFixture.sol";

/// @notice Gas benchmark of the reward rail and the security market, run with `--isolate` like the others: one
/// transaction per operation, receipt gas, cold storage. Prints `GAS <op> <gas>`. Steady state: the market already
/// holds the token and has posted an order before, the desk's pool earns, the desk is a member of the AVS; a `…First`
/// line measures the first time with its new slots.
contract MarketGasTest is MarketFixture {
    uint256 internal bidId;
    uint256 internal askId;

    function setUp() public override {
        super.setUp();
        // One earlier bid and ask, and a payment and a claim, so the counters, balances and accumulators are warm
        // in the sense a live deployment's are (non-zero slots).
        bidId = _bid(200 ether, ISOLATED, 1000, 365 days);
        askId = _ask(400 ether, ISOLATED, 500);
        _pay(pool, 4 ether);
        weth.mint(alice, 1 ether); // a receiver that already holds the token
        _claimRewards(alice, pool);
        // The pool already backs another AVS, as a live operator's does (its allocation state exists).
        uint32 other = _instantAVS(makeAddr("moduleW"), sink);
        vm.startPrank(deskOwner);
        desk.optIn(other);
        desk.allocate(pool, other, SHARED, 0.5e18);
        vm.stopPrank();
        // The desk leased to this AVS before (from its USDC pool): `fill` is repeat business, `fillFirst` a new AVS.
        (uint256 usdcPool,) = _deposit(alice, address(desk), usdc, 1000e6);
        usdc.mint(avsAdmin, 100e6);
        vm.prank(avsAdmin);
        usdc.approve(address(market), 100e6);
        vm.prank(avsAdmin);
        uint256 usdcBid = market.postBid(avs, address(usdc), 100e6, ISOLATED, 0, 365 days, 1000, 1000);
        vm.prank(deskOwner);
        uint256 usdcAsk = market.postAsk(usdcPool, 1000e6, ISOLATED, 500, 730 days);
        vm.prank(deskOwner);
        market.fill(usdcBid, usdcAsk, 100e6);
        vm.warp(block.timestamp + 1 days);
    }

    function test_gas_postBid() public {
        vm.prank(avsAdmin);
        market.postBid(avs, address(weth), 100 ether, ISOLATED, 0, 180 days, 800, 1000);
        _report("postBid");
    }

    function test_gas_postAsk() public {
        vm.prank(deskOwner);
        market.postAsk(pool, 100 ether, ISOLATED, 400, 365 days);
        _report("postAsk");
    }

    /// @dev The desk fills the AVS's bid: checks, the lease, the allocation through the manager, the pair's hold.
    function test_gas_fill() public {
        vm.prank(deskOwner);
        market.fill(bidId, askId, 200 ether);
        _report("fill");
    }

    /// @dev The desk's first lease with a new AVS: the AVS's hold slot is new.
    function test_gas_fillFirst() public {
        uint32 other = _instantAVS(makeAddr("moduleZ"), sink);
        vm.prank(deskOwner);
        desk.optIn(other);
        vm.prank(avsAdmin);
        uint256 otherBid = market.postBid(other, address(weth), 100 ether, ISOLATED, 0, 180 days, 800, 1000);
        vm.prank(deskOwner);
        market.fill(otherBid, askId, 100 ether);
        _report("fillFirst");
    }

    /// @dev A span of a running lease: the backing sampled, the premium paid into the rail.
    function test_gas_stream() public {
        vm.prank(deskOwner);
        uint256 leaseId = market.fill(bidId, askId, 200 ether);
        vm.warp(block.timestamp + 30 days);
        market.stream(leaseId);
        _report("stream");
    }

    /// @dev A payment into an earning pool (settles its matured withdrawals first).
    function test_gas_pay() public {
        _pay(pool, 4 ether);
        _report("pay");
    }

    /// @dev A staker claims its position's rewards after a payment; the receiver holds the token.
    function test_gas_claim() public {
        _pay(pool, 4 ether);
        vm.prank(alice);
        rail.claim(pool, alice);
        _report("claim");
    }

    /// @dev A queued withdrawal's escrow rewards after a payment.
    function test_gas_claimEscrow() public {
        vm.prank(bob);
        uint256 id = vault.queueWithdrawal(pool, 100 ether);
        _pay(pool, 4 ether);
        weth.mint(bob, 1);
        vm.prank(bob);
        rail.claimEscrow(id, bob);
        _report("claimEscrow");
    }

    /// @dev A deposit into an earning pool: the vault reports the position's change to the rail.
    function test_gas_depositEarning() public {
        weth.mint(bob, 10 ether);
        vm.prank(bob);
        weth.approve(address(vault), 10 ether);
        vm.prank(bob);
        vault.deposit(address(desk), address(weth), 10 ether);
        _report("depositEarning");
    }

    function _report(string memory operation) internal view {
        Vm.Gas memory gas = vm.lastCallGas();
        console.log(string.concat("GAS ", operation, " ", vm.toString(gas.gasTotalUsed)));
    }
}
