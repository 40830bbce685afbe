// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {StakeVault} from "../../contracts/StakeVault.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {AttackFixture} from "./AttackFixture.sol";

/// @notice A token whose `transferFrom` calls back into the vault's deposit: the reentrancy vector on the way in.
contract ReenteringToken is MockERC20 {
    StakeVault public vault;
    address public operator;
    bool public reentryFailed;

    constructor() MockERC20("Reenter", "RE", 18) {}

    function arm(StakeVault vault_, address operator_) external {
        vault = vault_;
        operator = operator_;
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (address(vault) != address(0) && to == address(vault)) {
            try vault.deposit(operator, address(this), 1) {}
            catch (bytes memory err) {
                reentryFailed = bytes4(err) == ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector;
            }
        }
        return super.transferFrom(from, to, value);
    }
}

/// @notice Failures seen in peer protocols, tried here: each test fails if the attack works.
contract PeerFailuresTest is AttackFixture {
    uint256 internal pool;

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
    }

    /// Symbiotic-style slash ordering: two requests on the same shared stake, executed in either order, never take
    /// more together than the backing, and each takes its fraction of what is there when it executes.
    function test_attack_slashOrderingNeverDoubleCounts() public {
        manager.setGuard(1e18, 1 days);
        (uint32 a, address ma,) = _vetoAvs("a", 1 days);
        (uint32 b, address mb,) = _vetoAvs("b", 1 days);
        _allocate(opA, pool, a, SHARED, 1e18);
        _allocate(opA, pool, b, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        uint64 ra = _request(ma, a, pool, 0.6e18);
        uint64 rb = _request(mb, b, pool, 0.6e18);
        vm.warp(block.timestamp + 1 days);
        uint256 snap = vm.snapshotState();
        uint256 ab = _execute(ma, ra) + _execute(mb, rb);
        vm.revertToState(snap);
        uint256 ba = _execute(mb, rb) + _execute(ma, ra);
        assertEq(ab, ba, "the order does not change the total");
        // 60% of 1000, then 60% of what is left of the other's backing (the shared stake shrank to 400, and the
        // shared backings scaled to the 3x cap): never the 1,200 that two snapshots at request time would give.
        assertLe(ab, 1000 ether);
        assertGt(ab, 600 ether);
    }

    /// Veto griefing: nobody but the AVS's resolver can veto, and not after the window.
    function test_attack_strangerCannotVeto() public {
        (uint32 v, address mv,) = _vetoAvs("v", 1 days);
        _allocate(opA, pool, v, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        uint64 req = _request(mv, v, pool, 0.5e18);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotResolver.selector, req, mallory));
        vm.prank(mallory);
        manager.vetoSlash(req);
        vm.warp(block.timestamp + 1 days);
        IAllocationManager.Request memory r = manager.getRequest(req);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.VetoWindowClosed.selector, req, r.executableAt));
        vm.prank(resolver);
        manager.vetoSlash(req);
        assertEq(_execute(mv, req), 500 ether);
    }

    /// Share inflation after a full slash (the failure that makes some vaults unusable): repeated full slashes never
    /// inflate the share supply; the next deposit mints at price one.
    function test_attack_repeatedFullSlashesDoNotInflateShares() public {
        manager.setGuard(1e18, 1 days);
        (uint32 x, address mx,) = _avs("x");
        for (uint256 i; i < 5; ++i) {
            _allocate(opA, pool, x, ISO, 1e18);
            vm.warp(block.timestamp + ALLOC_DELAY);
            vm.prank(mx);
            manager.slash(x, pool, 1e18);
            assertEq(vault.slashableAssets(pool), 0);
            (, uint256 shares) = _deposit(bob, opA, weth, 1000 ether);
            assertEq(shares, 1000 ether, "price one after a reset");
            assertEq(vault.getPool(pool).totalShares, 1000 ether);
        }
    }

    /// 1-wei front-run: a stranger deposits one wei just before a victim queues a withdrawal; the victim still gets
    /// what its shares were worth, to the wei.
    function test_attack_oneWeiFrontRunOfAWithdrawal() public {
        uint256 before = vault.convertToAssets(pool, _sharesOf(alice, pool));
        _deposit(mallory, opA, weth, 1);
        uint256 id = _queue(alice, pool, _sharesOf(alice, pool));
        vm.warp(block.timestamp + ESCROW);
        assertGe(_claim(alice, id) + 1, before);
    }

    /// First-depositor donation: the attacker seeds a pool with one wei and donates a fortune straight to the vault;
    /// the victim's deposit still mints shares worth what it paid (tracked assets, never balanceOf).
    function test_attack_firstDepositorDonation() public {
        (uint256 p,) = _deposit(mallory, opB, weth, 1);
        weth.mint(address(vault), 1_000_000 ether);
        (, uint256 shares) = _deposit(bob, opB, weth, 1000 ether);
        assertGe(vault.convertToAssets(p, shares) + 1, 1000 ether);
    }

    /// EigenLayer-style rounding: a tiny slash that reports an amount moves exactly it; repeated tiny slashes shrink the slashed allocation at least as fast as
    /// they take (the weight cut rounds up), never a neighbour.
    function test_attack_tinySlashesBurnWhatTheyReport() public {
        (uint32 x, address mx, address sx) = _avs("x");
        (uint32 i,,) = _avs("i");
        _allocate(opA, pool, x, SHARED, 0.5e18);
        _allocate(opA, pool, i, ISO, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        vm.prank(mx);
        assertEq(manager.slash(x, pool, 1), 500, "1e-18 of 500e18 is exactly 500 wei");
        assertEq(weth.balanceOf(sx), 500);
        uint256 taken = 500;
        uint256 backingBefore = manager.slashableBacking(x, pool);
        for (uint256 k; k < 20; ++k) {
            vm.prank(mx);
            uint256 amount = manager.slash(x, pool, 1e3);
            taken += amount;
        }
        assertEq(weth.balanceOf(sx), taken, "every reported wei reached the sink");
        assertLe(manager.slashableBacking(x, pool), backingBefore - (taken - 500));
        assertEq(manager.slashableBacking(i, pool), 500 ether, "the neighbour keeps every wei");
    }

    /// A reentrant token calls the vault's deposit from inside its own transferFrom: refused by the guard.
    function test_attack_reentrantTokenOnDeposit() public {
        ReenteringToken t = new ReenteringToken();
        vault.setAssetAllowed(address(t), true);
        t.arm(vault, opA);
        t.mint(bob, 10 ether);
        vm.startPrank(bob);
        t.approve(address(vault), 10 ether);
        vault.deposit(opA, address(t), 10 ether);
        vm.stopPrank();
        assertTrue(t.reentryFailed(), "the nested deposit hit the reentrancy guard");
        assertEq(vault.getAsset(address(t)).tracked, 10 ether);
    }
}
