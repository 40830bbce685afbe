// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IAllocationLens} from "../../contracts/interfaces/IAllocationLens.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {DoubleSignSlasher} from "../../contracts/modules/DoubleSignSlasher.sol";
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

    /// EigenLayer-style "slashing factor rounds to zero": repeated partial slashes shrink the pool's total weight W
    /// toward what an isolated neighbour holds. Every step takes exactly what it asks, W stays above the neighbour's
    /// weight (never zero: no division by zero in any view), the neighbour keeps every wei, and deposits and slashes
    /// still work once the slashed allocation has been worn down to dust.
    function test_attack_weightWornTowardItsFloorKeepsAccountsConsistent() public {
        manager.setGuard(1e18, 1 days);
        (uint32 x, address mx, address sx) = _avs("x");
        (uint32 n, address mn,) = _avs("n");
        _deposit(bob, opA, weth, 333_333_333_333_333_333_337); // a value W does not divide: every cut rounds
        _allocate(opA, pool, n, ISO, 1e12); // 1e-6 of the pool
        // Exactly the shared stake (a larger commitment would be scaled to the reuse cap as the stake shrinks).
        _allocate(opA, pool, x, SHARED, 1e18 - 1e12);
        vm.warp(block.timestamp + ALLOC_DELAY);
        uint256 nBacking = manager.slashableBacking(n, pool);
        assertEq(nBacking, vault.slashableAssets(pool) / 1e6);
        uint96 isoWeight = manager.getPoolState(pool).isolatedWeight;
        uint256 paid;
        for (uint256 k; k < 25; ++k) {
            paid += _wearStep(x, mx, n, nBacking, isoWeight);
        }
        assertEq(weth.balanceOf(sx), paid, "every wei taken reached the sink");
        assertLt(manager.slashableBacking(x, pool), 10, "worn down to dust");
        assertLt(manager.getPoolState(pool).totalWeight, isoWeight + isoWeight / 1e6, "W at its floor");
        IAllocationLens(manager.lens()).avsBacking(x); // the lens's walk still divides by a W above zero

        // Deposits after: minted at the price, worth what was paid; every allocation grows pro rata.
        (, uint256 shares) = _deposit(bob, opA, weth, 1000 ether);
        assertGe(vault.convertToAssets(pool, shares) + 1, 1000 ether, "a deposit after lost value");
        uint256 v = vault.slashableAssets(pool);
        uint256 nNow = manager.slashableBacking(n, pool);
        assertLe(nNow, v);
        assertGt(nNow, nBacking, "the neighbour's fraction grows with the deposit");
        // And a later slash still takes what it asks, from its own compartment only.
        vm.warp(block.timestamp + 2 days);
        vm.prank(mn);
        assertEq(manager.slash(n, pool, 0.5e18), nNow / 2, "a later slash took other than what it asked");
        assertEq(vault.slashableAssets(pool), v - nNow / 2);
    }

    /// @dev One 90% slash of shared `x` a guard window later: it takes exactly what it asks, W stays above the
    /// isolated weight, and the isolated neighbour `n` keeps `nBacking` to the wei.
    function _wearStep(uint32 x, address mx, uint32 n, uint256 nBacking, uint96 isoWeight)
        internal
        returns (uint256 amount)
    {
        vm.warp(block.timestamp + 2 days); // a fresh guard budget each step
        uint256 backing = manager.slashableBacking(x, pool);
        uint96 wBefore = manager.getPoolState(pool).totalWeight;
        vm.prank(mx);
        amount = manager.slash(x, pool, 0.9e18);
        assertEq(amount, backing * 0.9e18 / WAD, "a slash took other than what it asked");
        uint96 w = manager.getPoolState(pool).totalWeight;
        assertGe(w, isoWeight, "W fell below the neighbour's weight");
        assertLe(w, wBefore);
        assertLe(manager.slashableBacking(x, pool), backing - amount, "the slashed allocation grew back");
        assertEq(manager.slashableBacking(n, pool), nBacking, "the neighbour lost through another's slash");
        IAllocationManager.PoolRisk memory r = manager.poolRisk(pool);
        assertEq(r.value, vault.slashableAssets(pool));
        assertLe(r.totalIsolated + manager.slashableBacking(x, pool), r.value, "backings above the value");
    }

    /// The same wear with no neighbour: an isolated allocation of the whole pool slashed by 90% again and again, down
    /// to the vault's price floor (a share worth 1e-8 of a unit). W shrinks with the value but never reaches zero; at
    /// the floor a slash takes nothing instead of reverting; a deposit after mints at the floor price for full value,
    /// and a slash of everything still takes everything (a new generation).
    function test_attack_weightAtThePriceFloorKeepsWorking() public {
        (uint32 x, address mx, address sx) = _wearToThePriceFloor();
        // No new stake at the floor (test_attack_aPoolAtThePriceFloorTakesNoNewStake); what is there stays takeable.
        uint256 backing = manager.slashableBacking(x, pool);
        assertEq(backing, vault.slashableAssets(pool));
        uint256 before = weth.balanceOf(sx);
        vm.warp(block.timestamp + 2 days);
        vm.prank(mx);
        assertEq(manager.slash(x, pool, 1e18), backing, "a slash of everything took less");
        assertEq(weth.balanceOf(sx) - before, backing);
        (, uint256 fresh) = _deposit(mallory, opA, weth, 1 ether);
        assertEq(fresh, 1 ether, "price one in the new generation");
    }

    /// OPEN FINDING (P5: "every pool stays slashable"), pinned here until the vault handles it: a pool worn to the
    /// price floor keeps taking deposits at the floor price, and since the floor keeps ⌈shares / 1e8⌉, i.e. the whole
    /// pool at that price, every partial slash of it is cut to almost nothing while `slashableBacking` shows the full
    /// backing. An operator can wear its own (unique per asset) pool down with an AVS whose sink it owns, at no cost
    /// but time. This test asserts today's behaviour and must be turned round (the slash takes its 50%) with a fix.
    /// A pool worn down to the vault's price floor would accept deposits at the floor price, and every partial slash
    /// of it would then be cut to dust while the views show the whole pool as backing: stake nobody can slash. Such a
    /// pool takes no new stake (`PoolPriceTooLow`), so every pool that takes deposits stays slashable.
    function test_attack_aPoolAtThePriceFloorTakesNoNewStake() public {
        (uint32 x, address mx,) = _wearToThePriceFloor();
        weth.mint(bob, 1000 ether);
        vm.startPrank(bob);
        weth.approve(address(vault), 1000 ether);
        vm.expectRevert(abi.encodeWithSelector(IStakeVault.PoolPriceTooLow.selector, pool));
        vault.deposit(opA, address(weth), 1000 ether);
        vm.stopPrank();
        // What is left still goes: a full slash resets the pool, which then takes deposits at price one again.
        vm.warp(block.timestamp + 2 days);
        vm.prank(mx);
        manager.slash(x, pool, 1e18);
        _deposit(bob, opA, weth, 1000 ether);
        assertEq(vault.slashableAssets(pool), 1000 ether);
    }

    /// @dev Allocates the whole pool isolated to a fresh AVS and slashes it by 90% a guard window apart until the
    /// vault's price floor cuts the slash to nothing, checking each step.
    function _wearToThePriceFloor() internal returns (uint32 x, address mx, address sx) {
        manager.setGuard(1e18, 1 days);
        (x, mx, sx) = _avs("x");
        _allocate(opA, pool, x, ISO, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        uint256 keep = (vault.getPool(pool).totalShares + 1e8 - 1) / 1e8;
        uint256 paid;
        for (uint256 k; k < 12; ++k) {
            vm.warp(block.timestamp + 2 days);
            uint256 v = vault.slashableAssets(pool);
            uint256 asked = v * 0.9e18 / WAD;
            vm.prank(mx);
            uint256 amount = manager.slash(x, pool, 0.9e18);
            paid += amount;
            assertEq(amount, v - asked >= keep ? asked : 0, "the floor cut is the only difference");
            assertGt(manager.getPoolState(pool).totalWeight, 0, "W reached zero");
            assertEq(manager.slashableBacking(x, pool), vault.slashableAssets(pool), "the whole pool, always");
        }
        assertEq(weth.balanceOf(sx), paid);
        assertGe(vault.slashableAssets(pool), keep, "the price floor held");
        assertLt(vault.slashableAssets(pool), keep * 10, "worn down to the floor");
    }

    uint256 internal constant PK_X = 0xB0B;
    bytes32 internal constant VOTE_A = keccak256("A");
    bytes32 internal constant VOTE_B = keccak256("B");
    address internal opX = makeAddr("opX");
    uint256 internal poolX;

    /// Double-sign evidence replay: two signatures one module accepted (AVS 1, round 1) are refused by another
    /// module (AVS 2) over the same operator and pool, for another round of the same module, and on another chain:
    /// the EIP-712 domain binds chain and module, the struct binds the AVS id and the round, so the signatures recover
    /// to other addresses (`NotOperatorKey`, or `SignersDiffer` when only one of the pair is replayed).
    function test_attack_doubleSignEvidenceReplayAcrossAVSsAndRounds() public {
        vm.prank(opX);
        registry.registerOperator("ipfs://x", vm.addr(PK_X));
        (poolX,) = _deposit(bob, opX, weth, 1000 ether);
        DoubleSignSlasher d1 = new DoubleSignSlasher(manager, vault, registry, "ipfs://d1", makeAddr("sink-1"), 0.5e18);
        DoubleSignSlasher d2 = new DoubleSignSlasher(manager, vault, registry, "ipfs://d2", makeAddr("sink-2"), 0.5e18);
        _allocate(opX, poolX, d1.avsId(), SHARED, 1e18);
        _allocate(opX, poolX, d2.avsId(), SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        bytes memory sa = _signVote(d1, 1, VOTE_A);
        bytes memory sb = _signVote(d1, 1, VOTE_B);

        // Another AVS's module, same round.
        _expectNotOperatorKey(d2, 1, sa);
        _submit(d2, 1, sa, sb);
        // The same module, another round.
        _expectNotOperatorKey(d1, 2, sa);
        _submit(d1, 2, sa, sb);
        // Half a replay: one honest signature for AVS 2, the other taken from AVS 1.
        bytes memory honestA = _signVote(d2, 1, VOTE_A);
        address fakeB = ECDSA.recover(d2.voteDigest(1, VOTE_B), sb);
        vm.expectRevert(abi.encodeWithSelector(DoubleSignSlasher.SignersDiffer.selector, vm.addr(PK_X), fakeB));
        _submit(d2, 1, honestA, sb);
        // Another chain (a fork), same module and round.
        uint256 chain = block.chainid;
        vm.chainId(chain + 1);
        _expectNotOperatorKey(d1, 1, sa);
        _submit(d1, 1, sa, sb);
        vm.chainId(chain);
        assertEq(vault.slashableAssets(poolX), 1000 ether, "a replay took something");

        // Where it was signed, the evidence works, once.
        assertEq(_submit(d1, 1, sa, sb)[0], 500 ether);
        vm.expectRevert(abi.encodeWithSelector(DoubleSignSlasher.AlreadySlashed.selector, opX, 1, poolX));
        _submit(d1, 1, sa, sb);
    }

    /// @dev The revert a replayed signature of payload A gets at `d` for `round`: it recovers to another address.
    function _expectNotOperatorKey(DoubleSignSlasher d, uint64 round, bytes memory sa) internal {
        address fake = ECDSA.recover(d.voteDigest(round, VOTE_A), sa);
        assertTrue(fake != vm.addr(PK_X), "the signature replays: it recovers to the operator's key");
        vm.expectRevert(abi.encodeWithSelector(DoubleSignSlasher.NotOperatorKey.selector, fake, opX));
    }

    /// @dev Submits the proof on `poolX` (what it took is `[0]`; a call expected to revert returns its revert data).
    function _submit(DoubleSignSlasher d, uint64 round, bytes memory sa, bytes memory sb)
        internal
        returns (uint256[] memory)
    {
        uint256[] memory ps = new uint256[](1);
        ps[0] = poolX;
        return d.slashDoubleSign(opX, round, VOTE_A, sa, VOTE_B, sb, ps);
    }

    function _signVote(DoubleSignSlasher d, uint64 round, bytes32 payload) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(PK_X, d.voteDigest(round, payload));
        return abi.encodePacked(r, s, v);
    }
}
