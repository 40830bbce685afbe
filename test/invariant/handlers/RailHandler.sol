// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

import {AllocationManager} from "../../../contracts/AllocationManager.sol";
import {RewardRail} from "../../../contracts/RewardRail.sol";
import {StakeVault} from "../../../contracts/StakeVault.sol";
import {MockERC20} from "../../mocks/MockERC20.sol";

/// @notice Random deposits, withdrawals (queued, claimed early or after settlement), payments of any size, reward
/// claims, slashes (partial and full) and time jumps on one earning pool. Keeps the ids of every withdrawal and a ghost
/// ledger of what the rail took in and paid out.
contract RailHandler is CommonBase, StdCheats, StdUtils {
    StakeVault internal vault;
    RewardRail internal rail;
    AllocationManager internal manager;
    MockERC20 internal weth;
    address internal operator;
    address internal payer;
    address internal module;
    uint32 internal avs;
    uint256 public pool;

    address[] internal _stakers;
    uint256[] internal _withdrawals;

    uint256 public paidIn; // everything payers sent the rail
    uint256 public paidOut; // everything claimed from it
    uint256 public payments;

    constructor(StakeVault vault_, RewardRail rail_, AllocationManager manager_, MockERC20 weth_) {
        (vault, rail, manager, weth) = (vault_, rail_, manager_, weth_);
    }

    /// @dev The pool under test, its operator, the payer, and the AVS (and its module) that backs it whole.
    function configure(
        address operator_,
        address payer_,
        address module_,
        uint32 avs_,
        uint256 pool_,
        address[] memory stakers_
    ) external {
        (operator, payer, module, avs, pool) = (operator_, payer_, module_, avs_, pool_);
        _stakers = stakers_;
    }

    function deposit(uint256 who, uint256 amount) external {
        address s = _stakers[who % _stakers.length];
        amount = bound(amount, 1e6, 500 ether);
        weth.mint(s, amount);
        vm.startPrank(s);
        weth.approve(address(vault), amount);
        try vault.deposit(operator, address(weth), amount) {} catch {} // a pool at its price floor refuses
        vm.stopPrank();
    }

    function queue(uint256 who, uint256 fraction) external {
        address s = _stakers[who % _stakers.length];
        (uint256 held,) = vault.positionOf(pool, s);
        if (held == 0) return;
        uint256 shares = bound(fraction, 1, held);
        vm.prank(s);
        _withdrawals.push(vault.queueWithdrawal(pool, shares));
    }

    function complete(uint256 seed) external {
        if (_withdrawals.length == 0) return;
        uint256 id = _withdrawals[seed % _withdrawals.length];
        StakeVault.WithdrawalView memory w = vault.getWithdrawal(id);
        if (w.claimed || !w.matured) return;
        vm.prank(w.staker);
        vault.completeWithdrawal(id, w.staker);
    }

    function pay(uint256 amount) external {
        amount = bound(amount, 1, 100 ether);
        weth.mint(payer, amount);
        vm.startPrank(payer);
        weth.approve(address(rail), amount);
        try rail.pay(pool, amount, 5000) {
            paidIn += amount;
            ++payments;
        } catch {} // nobody at risk, or too small to share
        vm.stopPrank();
    }

    function claim(uint256 who) external {
        address s = _stakers[who % _stakers.length];
        if (rail.claimable(pool, s) == 0) return;
        vm.prank(s);
        paidOut += rail.claim(pool, s);
    }

    function claimEscrow(uint256 seed) external {
        if (_withdrawals.length == 0) return;
        uint256 id = _withdrawals[seed % _withdrawals.length];
        if (rail.claimableEscrow(id) == 0) return;
        address s = vault.getWithdrawal(id).staker;
        vm.prank(s);
        paidOut += rail.claimEscrow(id, s);
    }

    function claimCommission() external {
        if (rail.commissionOwed(operator, address(weth)) == 0) return;
        vm.prank(operator);
        paidOut += rail.claimCommission(address(weth), operator);
    }

    /// @dev The AVS holds the whole pool isolated: a slash of up to 100% (a full one ends the generation).
    function slash(uint256 fraction) external {
        if (manager.slashableBacking(avs, pool) == 0) return;
        vm.prank(module);
        try manager.slash(avs, pool, uint64(bound(fraction, 1, 1e18))) {} catch {}
    }

    function warp(uint256 secs) external {
        vm.warp(block.timestamp + bound(secs, 1, 5 days));
    }

    function stakers() external view returns (address[] memory) {
        return _stakers;
    }

    function withdrawals() external view returns (uint256[] memory) {
        return _withdrawals;
    }
}
