// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {AttackFixture} from "./AttackFixture.sol";

/// @notice P2 (no escape), at the boundaries: a deallocation, opt-out or withdrawal started when a request is filed
/// takes effect strictly after the request's last executable second, for the longest veto window the manager allows.
contract EscapeAttacksTest is AttackFixture {
    uint256 internal pool;
    uint32 internal v;
    address internal mv;
    uint48 internal window;

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
        // The longest veto window: veto + execution < deallocation delay.
        window = DEALLOC_DELAY - EXEC_WINDOW - 1;
        (v, mv,) = _vetoAvs("v", window);
        _allocate(opA, pool, v, ISO, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
    }

    /// @dev The request's last executable second.
    function _lastSecond(uint64 req) internal view returns (uint256) {
        return manager.getRequest(req).executableAt + EXEC_WINDOW;
    }

    /// Attack: the registration rule used to allow veto + execution == deallocation delay, and a deallocation filed
    /// with the request took effect at the last executable second.
    function test_attack_windowAtTheEdgeIsRefused() public {
        vm.expectRevert(
            abi.encodeWithSelector(IAllocationManager.InvalidVetoWindow.selector, window + 1, uint256(window))
        );
        manager.registerAVS("edge", mv, mv, resolver, window + 1, 1e18);
    }

    function test_attack_deallocateWithTheRequest() public {
        uint64 req = _request(mv, v, pool, 1e18);
        vm.prank(opA);
        manager.allocate(pool, v, ISO, 0);
        vm.warp(_lastSecond(req));
        assertEq(manager.slashableBacking(v, pool), 500 ether, "still backed at the last second");
        // The guard cuts it to half the pool; what matters is that it is not zero.
        assertEq(_execute(mv, req), 500 ether);
    }

    function test_attack_optOutWithTheRequest() public {
        uint64 req = _request(mv, v, pool, 1e18);
        vm.prank(opA);
        manager.optOut(v);
        vm.warp(_lastSecond(req));
        assertTrue(manager.isSlashable(v, opA));
        assertEq(_execute(mv, req), 500 ether);
    }

    function test_attack_withdrawWithTheRequest() public {
        uint64 req = _request(mv, v, pool, 1e18);
        uint256 shares = _sharesOf(alice, pool);
        uint256 id = _queue(alice, pool, shares);
        vm.warp(_lastSecond(req));
        assertEq(_execute(mv, req), 500 ether);
        vm.warp(block.timestamp + ESCROW);
        assertEq(_claim(alice, id), 500 ether, "the escrowed withdrawal paid its share of the slash");
    }

    /// Attack: a deallocation filed one second before the request can escape only what it was already leaving; an
    /// allocation filed after cannot be slashed before it takes effect either way (nothing to steal).
    function test_attack_executeOneSecondAfterExpiryReverts() public {
        uint64 req = _request(mv, v, pool, 1e18);
        uint40 expiredAt = uint40(_lastSecond(req));
        vm.warp(expiredAt + 1);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.RequestExpired.selector, req, expiredAt));
        _execute(mv, req);
        assertEq(vault.slashableAssets(pool), 1000 ether);
    }
}
