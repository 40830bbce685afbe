// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AllocationManager} from "../../contracts/AllocationManager.sol";
import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {VaultFixture} from "./VaultFixture.sol";

/// @notice VaultFixture plus the isolation layer: the AllocationManager is the vault's slasher.
/// Delays: allocation 1 day, deallocation 3 days, execution window 1 day (escrow 7 days); committees vote for up to
/// 1 day − 1 s.
abstract contract IsolationFixture is VaultFixture {
    uint48 internal constant ALLOC_DELAY = 1 days;
    uint48 internal constant DEALLOC_DELAY = 3 days;
    uint48 internal constant EXEC_WINDOW = 1 days;
    uint48 internal constant VETO_WINDOW = 1 days;
    /// @dev A committee's voting period: the longest the manager's delays allow with VETO_WINDOW (voting + veto +
    /// execution < deallocation).
    uint48 internal constant VOTING_PERIOD = DEALLOC_DELAY - VETO_WINDOW - EXEC_WINDOW - 1;

    AllocationManager internal manager;
    address internal avsAdmin = makeAddr("avsAdmin");
    address internal module = makeAddr("module"); // an AVS's slashing module (an EOA stands in for it)
    address internal resolver = makeAddr("resolver");

    /// @dev The manager, created below, is the slasher.
    function _wireSlasher() internal virtual override {}

    function setUp() public virtual override {
        super.setUp();
        manager = new AllocationManager(vault, registry, address(this), ALLOC_DELAY, DEALLOC_DELAY, EXEC_WINDOW);
        vault.setSlasher(address(manager));
    }

    /// @dev The pool's reuse cap in bps as enforced (`poolRisk` gives it in WAD: exact, 1 bps = 1e14).
    function _reuseCapBps(uint256 poolId) internal view returns (uint256) {
        return manager.poolRisk(poolId).reuseCapWad / 1e14;
    }

    /// @dev The pool's path reuse in bps (its cap, times its base pool's for a tier).
    function _pathReuseBps(uint256 poolId) internal view returns (uint256) {
        return manager.poolRisk(poolId).pathReuseWad / 1e14;
    }

    /// @dev Registers an instant-slashing AVS whose module is `module_` and whose sink is `sink_`.
    function _instantAVS(address module_, address sink_) internal returns (uint32 avsId) {
        vm.prank(avsAdmin);
        avsId = manager.registerAVS("ipfs://avs", module_, sink_, address(0), 0, 1e18);
    }

    /// @dev Registers a vetoable AVS (resolver `resolver`, veto window VETO_WINDOW).
    function _vetoAVS(address module_, address sink_) internal returns (uint32 avsId) {
        vm.prank(avsAdmin);
        avsId = manager.registerAVS("ipfs://avs-veto", module_, sink_, resolver, VETO_WINDOW, 1e18);
    }

    /// @dev Operator opts in (if needed) and allocates `fractionWad` of its pool. A pool has one pending isolated
    /// increase at a time: if another is pending, time first moves to when it settles (its time, and after the last
    /// executable second of the slashes decided on the pool).
    function _allocate(address operator, uint256 poolId, uint32 avsId, IAllocationManager.Mode mode, uint64 fractionWad)
        internal
    {
        IAllocationManager.PoolState memory st = manager.getPoolState(poolId);
        if (mode == IAllocationManager.Mode.Isolated && st.pendingIsolated != 0 && st.pendingIsolatedAvs != avsId) {
            vm.warp(st.pendingIsolatedAt > st.slashPendingUntil ? st.pendingIsolatedAt : st.slashPendingUntil + 1);
        }
        vm.startPrank(operator);
        if (!manager.membership(avsId, operator).optedIn) manager.optIn(avsId);
        manager.allocate(poolId, avsId, mode, fractionWad);
        vm.stopPrank();
    }

    /// @dev A vetoable slash request by the AVS's module.
    function _request(address module_, uint32 avsId, uint256 poolId, uint64 f) internal returns (uint64) {
        vm.prank(module_);
        return manager.requestSlash(avsId, poolId, f);
    }

    /// @dev Executes a request as the AVS's module.
    function _execute(address module_, uint64 requestId) internal returns (uint256) {
        vm.prank(module_);
        return manager.executeSlash(requestId);
    }

    function _slash(address module_, uint32 avsId, uint256 poolId, uint64 fractionWad) internal returns (uint256) {
        vm.prank(module_);
        return manager.slash(avsId, poolId, fractionWad);
    }
}
