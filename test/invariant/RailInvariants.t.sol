// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {RailFixture} from "../utils/RailFixture.sol";
import {RailHandler} from "./handlers/RailHandler.sol";

/// @notice The reward rail under random sequences of deposits, withdrawals, payments, claims, slashes (up to a full
/// one) and time: nobody can ever claim more than was paid in, and the rail holds what it owes to the wei, less only
/// rounding dust.
contract RailInvariantsTest is RailFixture {
    RailHandler internal handler;

    function setUp() public override {
        super.setUp();
        manager.setGuard(1e18, 1 days);
        address[] memory stakers = new address[](3);
        stakers[0] = makeAddr("s1");
        stakers[1] = makeAddr("s2");
        stakers[2] = makeAddr("s3");
        (uint256 pool,) = _deposit(stakers[0], opA, weth, 100 ether);
        _enable(pool);
        uint32 avs = _instantAVS(module, sink);
        _allocate(opA, pool, avs, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        handler = new RailHandler(vault, rail, manager, weth);
        handler.configure(opA, payer, module, avs, pool, stakers);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](9);
        selectors[0] = RailHandler.deposit.selector;
        selectors[1] = RailHandler.queue.selector;
        selectors[2] = RailHandler.complete.selector;
        selectors[3] = RailHandler.pay.selector;
        selectors[4] = RailHandler.claim.selector;
        selectors[5] = RailHandler.claimEscrow.selector;
        selectors[6] = RailHandler.claimCommission.selector;
        selectors[7] = RailHandler.slash.selector;
        selectors[8] = RailHandler.warp.selector;
        targetSelector(FuzzSelector({addr: address(handler), selectors: selectors}));
    }

    /// @dev What is claimable now, by every staker, every withdrawal and the operator.
    function _owed() internal view returns (uint256 owed) {
        uint256 pool = handler.pool();
        address[] memory stakers = handler.stakers();
        for (uint256 i; i < stakers.length; ++i) {
            owed += rail.claimable(pool, stakers[i]);
        }
        uint256[] memory ids = handler.withdrawals();
        for (uint256 i; i < ids.length; ++i) {
            owed += rail.claimableEscrow(ids[i]);
        }
        owed += rail.commissionOwed(opA, address(weth));
    }

    /// The rail holds exactly what came in less what went out, and that covers everything claimable: no over-claim.
    function invariant_railCoversEverythingClaimable() public view {
        uint256 held = weth.balanceOf(address(rail));
        assertEq(held, handler.paidIn() - handler.paidOut(), "token conservation");
        assertLe(_owed(), held, "over-claim");
    }

    /// What stays unclaimable is rounding dust: at most one wei per earner and payment, plus each payment's own.
    function invariant_dustIsBounded() public view {
        uint256 earners = handler.stakers().length + handler.withdrawals().length + 1;
        uint256 held = weth.balanceOf(address(rail));
        assertLe(held - _owed(), (earners + 1) * handler.payments(), "more than rounding left behind");
    }
}

