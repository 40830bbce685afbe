// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {DoubleSignSlasher} from "../../contracts/modules/DoubleSignSlasher.sol";
import {MockERC20} from "../mocks/MockERC20.sol";
import {AttackFixture} from "./AttackFixture.sol";

/// @notice A token that calls the recipient on every transfer (ERC-777 style): the reentrancy vector.
contract HookERC20 is MockERC20 {
    constructor() MockERC20("Hook", "HOOK", 18) {}

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        // Every contract recipient is called; one without the hook (the vault) just ignores it.
        if (to.code.length != 0 && from != address(0)) {
            (bool ok,) = to.call(abi.encodeCall(ReentrantSink.onTokenReceived, ()));
            ok; // the call's outcome is the recipient's business
        }
    }
}

/// @notice A sink that, when paid, re-submits the proof that paid it.
contract ReentrantSink {
    DoubleSignSlasher public ds;
    bytes public call_;
    bool public reentered;
    bool public reentrySucceeded;

    function arm(DoubleSignSlasher ds_, bytes calldata data) external {
        ds = ds_;
        call_ = data;
    }

    function onTokenReceived() external {
        if (address(ds) == address(0) || reentered) return;
        reentered = true;
        (bool ok,) = address(ds).call(call_);
        reentrySucceeded = ok;
    }
}

/// @notice Double-sign proofs under attack: replay, malleability, two keys, a reentrant sink, and griefing by the
/// cascade guard (a round is used up only by what was taken; the total never exceeds the module's fraction).
contract ProofAttacksTest is AttackFixture {
    uint256 internal constant PK = 0xA11CE;
    uint256 internal constant PK2 = 0xA11CE2;
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    bytes32 internal constant A = keccak256("A");
    bytes32 internal constant B = keccak256("B");

    address internal op = makeAddr("opX");
    DoubleSignSlasher internal ds;
    ReentrantSink internal rsink;
    HookERC20 internal hook;
    uint256 internal pool;

    function setUp() public override {
        super.setUp();
        vm.prank(op);
        registry.registerOperator("ipfs://x", vm.addr(PK));
        vm.prank(op);
        registry.rotateSigningKey(vm.addr(PK2));
        rsink = new ReentrantSink();
        hook = new HookERC20();
        vault.setAssetAllowed(address(hook), true);
        ds = new DoubleSignSlasher(manager, vault, registry, "ipfs://ds", address(rsink), 0.5e18);
        hook.mint(alice, 1000 ether);
        vm.startPrank(alice);
        hook.approve(address(vault), 1000 ether);
        (pool,) = vault.deposit(op, address(hook), 1000 ether);
        vm.stopPrank();
        _allocate(op, pool, ds.avsId(), SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
    }

    function _sig(uint256 pk, uint64 round, bytes32 payload) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, ds.voteDigest(round, payload));
        return abi.encodePacked(r, s, v);
    }

    function _pools() internal view returns (uint256[] memory p) {
        p = new uint256[](1);
        p[0] = pool;
    }

    function _prove(uint64 round, bytes memory sa, bytes memory sb) internal returns (uint256) {
        return ds.slashDoubleSign(op, round, A, sa, B, sb, _pools())[0];
    }

    /// Attack: an operator signs the two payloads with two of its own keys to dodge "same signer".
    function test_attack_twoOwnKeysAreStillADoubleSign() public {
        assertEq(_prove(1, _sig(PK, 1, A), _sig(PK2, 1, B)), 500 ether);
    }

    /// Attack: replay a used proof.
    function test_attack_replayAfterTheFullFraction() public {
        bytes memory sa = _sig(PK, 2, A);
        bytes memory sb = _sig(PK, 2, B);
        _prove(2, sa, sb);
        uint256[] memory p = _pools();
        vm.expectRevert(abi.encodeWithSelector(DoubleSignSlasher.AlreadySlashed.selector, op, 2, pool));
        ds.slashDoubleSign(op, 2, A, sa, B, sb, p);
    }

    /// Attack: flip a signature to its malleable twin (s → n − s) to replay it as "new".
    function test_attack_malleableSignatureRefused() public {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(PK, ds.voteDigest(3, A));
        bytes memory twin = abi.encodePacked(r, bytes32(N - uint256(s)), v == 27 ? uint8(28) : uint8(27));
        bytes memory sb = _sig(PK, 3, B);
        uint256[] memory p = _pools();
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, bytes32(N - uint256(s))));
        ds.slashDoubleSign(op, 3, A, twin, B, sb, p);
    }

    /// Attack: the sink is paid in a token that calls it back, and it re-submits the same proof mid-slash to take the
    /// fraction twice. The reentry fails and the pool loses the fraction once.
    function test_attack_reentrantSinkTakesOnce() public {
        bytes memory sa = _sig(PK, 4, A);
        bytes memory sb = _sig(PK, 4, B);
        rsink.arm(ds, abi.encodeCall(ds.slashDoubleSign, (op, 4, A, sa, B, sb, _pools())));
        assertEq(_prove(4, sa, sb), 500 ether);
        assertTrue(rsink.reentered());
        assertFalse(rsink.reentrySucceeded(), "reentry must fail");
        assertEq(hook.balanceOf(address(rsink)), 500 ether);
        assertTrue(ds.slashed(op, 4, pool));
    }

    /// Attack (griefing): an unrelated AVS fills the guard first, so the honest proof takes almost nothing. The
    /// round stays open for the rest; in total it never takes more than the fraction of the backing.
    function test_attack_guardCutProofKeepsTheRoundOpen() public {
        (uint32 u, address mu,) = _avs("unrelated");
        _allocate(op, pool, u, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        vm.prank(mu);
        assertEq(manager.slash(u, pool, 0.45e18), 450 ether); // guard: 0.45 of 0.5 used
        uint256 backing = manager.slashableBacking(ds.avsId(), pool);
        uint256 asked = backing / 2;
        uint256 first = _prove(5, _sig(PK, 5, A), _sig(PK, 5, B));
        assertLt(first, asked, "cut by the guard");
        assertFalse(ds.slashed(op, 5, pool), "round not used up");
        assertLt(ds.remainingWad(op, 5, pool), 0.5e18);
        vm.warp(block.timestamp + 2 days);
        uint256 second = _prove(5, _sig(PK, 5, A), _sig(PK, 5, B));
        assertTrue(ds.slashed(op, 5, pool));
        assertLe(first + second, asked, "never more than the fraction");
        assertApproxEqRel(first + second, asked, 1e3);
        bytes memory sa = _sig(PK, 5, A);
        bytes memory sb = _sig(PK, 5, B);
        uint256[] memory p = _pools();
        vm.expectRevert(abi.encodeWithSelector(DoubleSignSlasher.AlreadySlashed.selector, op, 5, pool));
        ds.slashDoubleSign(op, 5, A, sa, B, sb, p);
    }

    /// Attack: a proof while the guard is full takes nothing and marks nothing.
    function test_attack_fullGuardMarksNothing() public {
        (uint32 u, address mu,) = _avs("unrelated");
        _allocate(op, pool, u, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        vm.prank(mu);
        manager.slash(u, pool, 0.5e18);
        assertEq(_prove(6, _sig(PK, 6, A), _sig(PK, 6, B)), 0);
        assertFalse(ds.slashed(op, 6, pool));
        assertEq(ds.remainingWad(op, 6, pool), 0.5e18);
    }

    /// Attack: a proof on a pool too small for the fraction to reach a wei takes nothing, so it must mark nothing
    /// (otherwise a griefer would burn the round before the pool grows).
    function test_attack_dustPoolMarksNothing() public {
        (uint256 dust,) = _deposit(bob, op, weth, 1);
        _allocate(op, dust, ds.avsId(), SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        uint256[] memory p = new uint256[](1);
        p[0] = dust;
        bytes memory sa = _sig(PK, 8, A);
        bytes memory sb = _sig(PK, 8, B);
        assertEq(ds.slashDoubleSign(op, 8, A, sa, B, sb, p)[0], 0);
        assertFalse(ds.slashed(op, 8, dust), "nothing taken, nothing marked");
    }

    /// Attack: a stranger's key (not the operator's) signing the second payload.
    function test_attack_strangerKeyRefused() public {
        uint256 pkS = 0x5757;
        bytes memory sa = _sig(PK, 7, A);
        bytes memory sb = _sig(pkS, 7, B);
        uint256[] memory p = _pools();
        vm.expectRevert(abi.encodeWithSelector(DoubleSignSlasher.SignersDiffer.selector, vm.addr(PK), vm.addr(pkS)));
        ds.slashDoubleSign(op, 7, A, sa, B, sb, p);
    }
}
