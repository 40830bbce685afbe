// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {CommitteeSlasher} from "../../contracts/modules/CommitteeSlasher.sol";
import {DoubleSignSlasher} from "../../contracts/modules/DoubleSignSlasher.sol";
import {IsolationFixture} from "../utils/IsolationFixture.sol";

/// @notice DoubleSignSlasher against the real manager, vault and registry. Operators X and Y sign with keys whose
/// private keys the test knows. Numbers are derived by hand: a fresh pool has total weight 1e27, an allocation of
/// fraction f has weight f·1e27, its backing is weight·V/W, and a slash of fraction s takes ⌊backing·s/1e18⌋.
contract DoubleSignSlasherTest is IsolationFixture {
    uint64 internal constant FRACTION = 0.1e18; // the module's fixed slash fraction
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    uint256 internal constant PK_X = 0xA11CE;
    uint256 internal constant PK_X2 = 0xA11CE2; // X's key after rotation
    uint256 internal constant PK_Y = 0xB0B;
    uint256 internal constant PK_STRANGER = 0x5757;

    address internal opX = makeAddr("operatorX");
    address internal opY = makeAddr("operatorY");
    address internal keyX;
    address internal keyY;
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal submitter = makeAddr("submitter");
    address internal dsSink = makeAddr("dsSink");
    address internal otherSink = makeAddr("otherSink");

    DoubleSignSlasher internal ds;
    uint32 internal dsAvs;
    uint32 internal otherAvs;

    uint256 internal xWeth; // X's WETH pool: 1000 WETH, 50% isolated to ds  -> backing 500 WETH
    uint256 internal xUsdc; // X's USDC pool: 1,000,000 USDC, 100% shared to ds -> backing 1,000,000 USDC
    uint256 internal xWbtc; // X's WBTC pool: 10 WBTC, 50% isolated to another AVS only
    uint256 internal yWeth; // Y's WETH pool: 500 WETH, 100% isolated to ds -> backing 500 WETH

    bytes32 internal constant PAYLOAD_A = keccak256("block A");
    bytes32 internal constant PAYLOAD_B = keccak256("block B");
    bytes32 internal constant PAYLOAD_C = keccak256("block C");
    bytes32 internal constant PAYLOAD_D = keccak256("block D");

    function setUp() public override {
        super.setUp();
        keyX = vm.addr(PK_X);
        keyY = vm.addr(PK_Y);
        vm.prank(opX);
        registry.registerOperator("ipfs://operator-x", keyX);
        vm.prank(opY);
        registry.registerOperator("ipfs://operator-y", keyY);

        ds = new DoubleSignSlasher(manager, vault, registry, "ipfs://double-sign", dsSink, FRACTION);
        dsAvs = ds.avsId();
        otherAvs = _instantAVS(module, otherSink);

        (xWeth,) = _deposit(alice, opX, weth, 1000 ether);
        (xUsdc,) = _deposit(alice, opX, usdc, 1_000_000e6);
        (xWbtc,) = _deposit(alice, opX, wbtc, 10e8);
        (yWeth,) = _deposit(bob, opY, weth, 500 ether);

        _allocate(opX, xWeth, dsAvs, IAllocationManager.Mode.Isolated, 0.5e18);
        _allocate(opX, xUsdc, dsAvs, IAllocationManager.Mode.Shared, 1e18);
        _allocate(opX, xWbtc, otherAvs, IAllocationManager.Mode.Isolated, 0.5e18);
        _allocate(opY, yWeth, dsAvs, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
    }

    // ================================================================== helpers

    function _sig(uint256 pk, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(pk, digest);
        return abi.encodePacked(r, s, v);
    }

    function _vote(uint256 pk, DoubleSignSlasher m, uint64 round, bytes32 payload)
        internal
        view
        returns (bytes memory)
    {
        return _sig(pk, m.voteDigest(round, payload));
    }

    /// @dev Submits a proof against every pool the AVS can slash (all of the operator's pools if none), as a prover
    /// using `slashablePools` would. Returns the sum of the per-pool amounts: raw units of each pool's asset, a
    /// checksum for these tests rather than a quantity.
    function _submit(address operator, uint64 round, bytes memory sigA, bytes memory sigB)
        internal
        returns (uint256 amount)
    {
        vm.prank(submitter);
        uint256[] memory amounts =
            ds.slashDoubleSign(operator, round, PAYLOAD_A, sigA, PAYLOAD_B, sigB, _pools(operator));
        for (uint256 i; i < amounts.length; ++i) {
            amount += amounts[i];
        }
    }

    function _pools(address operator) internal view returns (uint256[] memory pools) {
        pools = ds.slashablePools(operator);
        if (pools.length == 0) pools = vault.operatorPools(operator);
    }

    function _expectRevertSubmit(address operator, uint64 round, bytes memory sigA, bytes memory sigB, bytes memory err)
        internal
    {
        vm.prank(submitter);
        uint256[] memory pools = _pools(operator);
        vm.expectRevert(err);
        ds.slashDoubleSign(operator, round, PAYLOAD_A, sigA, PAYLOAD_B, sigB, pools);
    }

    /// @dev The EIP-712 digest rebuilt from scratch for module `verifier` on `chainId`, with `avsId` in the struct.
    function _handDigest(address verifier, uint256 chainId, uint32 avsId, uint64 round, bytes32 payload)
        internal
        pure
        returns (bytes32)
    {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Bulkhead DoubleSign"),
                keccak256("1"),
                chainId,
                verifier
            )
        );
        bytes32 structHash =
            keccak256(abi.encode(keccak256("Vote(uint32 avsId,uint64 round,bytes32 payload)"), avsId, round, payload));
        return MessageHashUtils.toTypedDataHash(domain, structHash);
    }

    // ================================================================== deployment

    function test_constructor_registersAVSWithItselfAsModule() public view {
        IAllocationManager.AVS memory avs = manager.getAVS(dsAvs);
        assertEq(dsAvs, 1, "first AVS registered");
        assertEq(avs.admin, address(ds));
        assertEq(avs.slasher, address(ds));
        assertEq(avs.sink, dsSink);
        assertEq(avs.resolver, address(0), "instant slashing");
        assertEq(avs.vetoWindow, 0);
        assertEq(avs.maxSlashWad, FRACTION);
        assertEq(address(ds.manager()), address(manager));
        assertEq(address(ds.registry()), address(registry));
        assertEq(ds.slashFractionWad(), FRACTION);
    }

    function test_voteDigest_isTheHandBuiltEIP712Digest() public view {
        assertEq(ds.voteDigest(7, PAYLOAD_A), _handDigest(address(ds), block.chainid, dsAvs, 7, PAYLOAD_A));
        assertTrue(ds.voteDigest(7, PAYLOAD_A) != ds.voteDigest(8, PAYLOAD_A), "round is bound");
        assertTrue(ds.voteDigest(7, PAYLOAD_A) != ds.voteDigest(7, PAYLOAD_B), "payload is bound");
    }

    function test_nobodyElseCanSlashForTheAVS() public {
        vm.prank(submitter);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotAVSSlasher.selector, dsAvs, submitter));
        manager.slash(dsAvs, xWeth, FRACTION);
    }

    // ================================================================== a valid proof

    function test_doubleSign_slashesEveryAllocatedPoolByTheFixedFraction() public {
        uint64 round = 42;
        bytes memory sigA = _vote(PK_X, ds, round, PAYLOAD_A);
        bytes memory sigB = _vote(PK_X, ds, round, PAYLOAD_B);

        // WETH: backing 0.5e27 · 1000e18 / 1e27 = 500e18, 10% = 50e18.
        // USDC: shared backing min(1e27, 1e27 − 0) · 1,000,000e6 / 1e27 = 1,000,000e6, 10% = 100,000e6.
        // The module sums raw amounts across pools (here WETH wei + USDC units).
        uint256 total = 50e18 + 100_000e6;
        vm.expectEmit(true, true, true, true, address(ds));
        emit DoubleSignSlasher.DoubleSignSlashed(opX, round, xWeth, keyX, 50e18);
        vm.expectEmit(true, true, true, true, address(ds));
        emit DoubleSignSlasher.DoubleSignSlashed(opX, round, xUsdc, keyX, 100_000e6);
        uint256 amount = _submit(opX, round, sigA, sigB);

        assertEq(amount, total, "returned total");
        assertTrue(ds.slashed(opX, round, xWeth));
        // Tokens reached the sink within the submitting call.
        assertEq(weth.balanceOf(dsSink), 50e18, "WETH at sink");
        assertEq(usdc.balanceOf(dsSink), 100_000e6, "USDC at sink");
        assertEq(weth.balanceOf(submitter), 0, "nothing to the submitter");
        assertEq(vault.slashableAssets(xWeth), 950e18);
        assertEq(vault.slashableAssets(xUsdc), 900_000e6);
        // Weight cut ⌈1e27 · 50e18 / 1000e18⌉ = 5e25: allocation 4.5e26 of W 9.5e26 over 950e18 -> 450e18.
        assertEq(manager.slashableBacking(dsAvs, xWeth), 450e18);
        // USDC: weight 1e27 − 1e26 over W 9e26 and V 900,000e6 -> 900,000e6.
        assertEq(manager.slashableBacking(dsAvs, xUsdc), 900_000e6);

        // The operator's WBTC pool is not allocated to this AVS: untouched.
        assertEq(vault.slashableAssets(xWbtc), 10e8, "WBTC pool untouched");
        assertEq(wbtc.balanceOf(dsSink), 0);
        assertEq(manager.slashableBacking(otherAvs, xWbtc), 5e8, "other AVS keeps its backing");
        // Operator Y, allocated to the same AVS, is untouched.
        assertEq(vault.slashableAssets(yWeth), 500e18, "other operator untouched");
        assertEq(manager.slashableBacking(dsAvs, yWeth), 500e18);
        assertFalse(ds.slashed(opY, round, yWeth));
    }

    function test_doubleSign_pendingAllocationIsNotYetSlashable() public {
        // X starts allocating its WBTC pool to the double-sign AVS: not slashable before the allocation delay.
        vm.startPrank(opX);
        manager.allocate(xWbtc, dsAvs, IAllocationManager.Mode.Isolated, 0.5e18);
        vm.stopPrank();
        assertEq(manager.slashableBacking(dsAvs, xWbtc), 0);

        uint256 amount = _submit(opX, 1, _vote(PK_X, ds, 1, PAYLOAD_A), _vote(PK_X, ds, 1, PAYLOAD_B));
        assertEq(amount, 50e18 + 100_000e6);
        assertEq(vault.slashableAssets(xWbtc), 10e8, "pending allocation untouched");
        assertEq(wbtc.balanceOf(dsSink), 0);

        // Control: once the allocation is effective, the next proof reaches it (10% of 0.5 · 10e8 = 0.5e8).
        vm.warp(block.timestamp + ALLOC_DELAY);
        amount = _submit(opX, 2, _vote(PK_X, ds, 2, PAYLOAD_A), _vote(PK_X, ds, 2, PAYLOAD_B));
        assertEq(amount, 45e18 + 90_000e6 + 0.5e8);
        assertEq(wbtc.balanceOf(dsSink), 0.5e8);
        assertEq(vault.slashableAssets(xWbtc), 9.5e8);
    }

    function test_doubleSign_reachesTheOperatorsTierPoolInBaseShares() public {
        // X also runs a tier over operator A's WETH pool, allocated fully to the double-sign AVS.
        (uint256 aBase,) = _deposit(bob, opA, weth, 1000 ether);
        vault.setTierAllowed(aBase, true);
        _approveTierOperators(aBase);
        vm.prank(bob);
        (uint256 xTier,) = vault.depositToTier(aBase, opX, 200e18);
        _allocate(opX, xTier, dsAvs, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        assertEq(manager.slashableBacking(dsAvs, xTier), 200e18);

        uint256 amount = _submit(opX, 4, _vote(PK_X, ds, 4, PAYLOAD_A), _vote(PK_X, ds, 4, PAYLOAD_B));
        // 50e18 (X's WETH pool) + 20e18 (10% of the tier, worth it in WETH) + 100,000e6 USDC.
        assertEq(amount, 70e18 + 100_000e6);
        assertEq(weth.balanceOf(dsSink), 50e18, "X's own pool pays in WETH");
        assertEq(
            _sharesOf(dsSink, aBase), 20e18, "the tier pays ceil(20e18 * (1000e18 + 1) / (1000e18 + 1)) base shares"
        );
        assertEq(vault.slashableAssets(xTier), 180e18);
        // A's pool does not move: the shares changed owner inside it.
        IStakeVault.PoolView memory b = vault.getPool(aBase);
        assertEq(b.slashableAssets, 1000e18);
        assertEq(b.totalShares, 1000e18);
        assertEq(_sharesOf(bob, aBase), 800e18, "bob's own base position untouched");
    }

    function test_doubleSign_operatorWithoutAllocationsSlashesNothing() public {
        address opZ = makeAddr("operatorZ");
        uint256 pkZ = 0x2222;
        vm.prank(opZ);
        registry.registerOperator("ipfs://operator-z", vm.addr(pkZ));
        (uint256 zPool,) = _deposit(alice, opZ, weth, 100 ether);

        uint256 amount = _submit(opZ, 3, _vote(pkZ, ds, 3, PAYLOAD_A), _vote(pkZ, ds, 3, PAYLOAD_B));
        assertEq(amount, 0);
        assertEq(vault.slashableAssets(zPool), 100e18);
        assertEq(weth.balanceOf(dsSink), 0);
        // Nothing was taken, so nothing was marked: the round is not used up.
        assertFalse(ds.slashed(opZ, 3, zPool));

        // Z allocates later; the very same proof now reaches it (10% of 100e18), exactly once.
        _allocate(opZ, zPool, dsAvs, IAllocationManager.Mode.Isolated, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        bytes memory sigC = _vote(pkZ, ds, 3, PAYLOAD_A);
        bytes memory sigD = _vote(pkZ, ds, 3, PAYLOAD_B);
        assertEq(_submit(opZ, 3, sigC, sigD), 10e18);
        assertTrue(ds.slashed(opZ, 3, zPool));
        _expectRevertSubmit(
            opZ, 3, sigC, sigD, abi.encodeWithSelector(DoubleSignSlasher.AlreadySlashed.selector, opZ, uint64(3), zPool)
        );
    }

    function test_RevertWhen_poolOfAnotherOperator() public {
        uint256[] memory pools = new uint256[](1);
        pools[0] = yWeth;
        bytes memory sigA = _vote(PK_X, ds, 20, PAYLOAD_A);
        bytes memory sigB = _vote(PK_X, ds, 20, PAYLOAD_B);
        vm.expectRevert(abi.encodeWithSelector(DoubleSignSlasher.NotOperatorPool.selector, yWeth, opX));
        ds.slashDoubleSign(opX, 20, PAYLOAD_A, sigA, PAYLOAD_B, sigB, pools);
    }

    function test_RevertWhen_noPools() public {
        bytes memory sigA = _vote(PK_X, ds, 21, PAYLOAD_A);
        bytes memory sigB = _vote(PK_X, ds, 21, PAYLOAD_B);
        vm.expectRevert(DoubleSignSlasher.NoPools.selector);
        ds.slashDoubleSign(opX, 21, PAYLOAD_A, sigA, PAYLOAD_B, sigB, new uint256[](0));
    }

    /// @dev Pools can be slashed in separate submissions of one proof (a prover facing many pools chunks them).
    function test_proofInChunks() public {
        bytes memory sigA = _vote(PK_X, ds, 22, PAYLOAD_A);
        bytes memory sigB = _vote(PK_X, ds, 22, PAYLOAD_B);
        uint256[] memory first = new uint256[](1);
        first[0] = xWeth;
        uint256[] memory second = new uint256[](1);
        second[0] = xUsdc;
        assertEq(ds.slashDoubleSign(opX, 22, PAYLOAD_A, sigA, PAYLOAD_B, sigB, first)[0], 50e18);
        assertEq(ds.slashDoubleSign(opX, 22, PAYLOAD_A, sigA, PAYLOAD_B, sigB, second)[0], 100_000e6);
        assertEq(usdc.balanceOf(dsSink), 100_000e6);
        vm.expectRevert(abi.encodeWithSelector(DoubleSignSlasher.AlreadySlashed.selector, opX, uint64(22), xWeth));
        ds.slashDoubleSign(opX, 22, PAYLOAD_A, sigA, PAYLOAD_B, sigB, first);
    }

    // ================================================================== replay

    function test_replay_sameProofReverts() public {
        bytes memory sigA = _vote(PK_X, ds, 9, PAYLOAD_A);
        bytes memory sigB = _vote(PK_X, ds, 9, PAYLOAD_B);
        _submit(opX, 9, sigA, sigB);
        _expectRevertSubmit(
            opX, 9, sigA, sigB, abi.encodeWithSelector(DoubleSignSlasher.AlreadySlashed.selector, opX, uint64(9), xWeth)
        );
        // Swapping the two halves is the same proof too.
        uint256[] memory pools = _pools(opX);
        vm.expectRevert(abi.encodeWithSelector(DoubleSignSlasher.AlreadySlashed.selector, opX, uint64(9), xWeth));
        ds.slashDoubleSign(opX, 9, PAYLOAD_B, sigB, PAYLOAD_A, sigA, pools);
        assertEq(weth.balanceOf(dsSink), 50e18, "slashed once");
    }

    function test_replay_differentPairSameRoundReverts() public {
        _submit(opX, 9, _vote(PK_X, ds, 9, PAYLOAD_A), _vote(PK_X, ds, 9, PAYLOAD_B));
        bytes memory sigC = _vote(PK_X, ds, 9, PAYLOAD_C);
        bytes memory sigD = _vote(PK_X, ds, 9, PAYLOAD_D);
        uint256[] memory pools = _pools(opX);
        vm.expectRevert(abi.encodeWithSelector(DoubleSignSlasher.AlreadySlashed.selector, opX, uint64(9), xWeth));
        ds.slashDoubleSign(opX, 9, PAYLOAD_C, sigC, PAYLOAD_D, sigD, pools);
        assertEq(weth.balanceOf(dsSink), 50e18);
    }

    function test_replay_anotherRoundSlashesWhatIsLeft() public {
        _submit(opX, 9, _vote(PK_X, ds, 9, PAYLOAD_A), _vote(PK_X, ds, 9, PAYLOAD_B));
        // Backing after the first slash: 450e18 WETH, 900,000e6 USDC; 10% again.
        uint256 amount = _submit(opX, 10, _vote(PK_X, ds, 10, PAYLOAD_A), _vote(PK_X, ds, 10, PAYLOAD_B));
        assertEq(amount, 45e18 + 90_000e6);
        assertEq(weth.balanceOf(dsSink), 95e18);
        assertEq(usdc.balanceOf(dsSink), 190_000e6);
        assertEq(vault.slashableAssets(xWeth), 905e18);
    }

    function test_proofForOneRoundDoesNotProveAnother() public {
        // Signatures over round 9 submitted as round 10 recover other addresses.
        bytes memory sigA = _vote(PK_X, ds, 9, PAYLOAD_A);
        bytes memory sigB = _vote(PK_X, ds, 9, PAYLOAD_B);
        address rA = ECDSA.recover(ds.voteDigest(10, PAYLOAD_A), sigA);
        address rB = ECDSA.recover(ds.voteDigest(10, PAYLOAD_B), sigB);
        assertTrue(rA != keyX && rB != keyX);
        _expectRevertSubmit(
            opX, 10, sigA, sigB, abi.encodeWithSelector(DoubleSignSlasher.NotOperatorKey.selector, rA, opX)
        );
    }

    // ================================================================== malformed proofs

    function test_samePayload_reverts() public {
        bytes memory sigA = _vote(PK_X, ds, 5, PAYLOAD_A);
        bytes memory sigA2 = _vote(PK_X, ds, 5, PAYLOAD_A);
        uint256[] memory pools = _pools(opX);
        vm.expectRevert(DoubleSignSlasher.SamePayload.selector);
        ds.slashDoubleSign(opX, 5, PAYLOAD_A, sigA, PAYLOAD_A, sigA2, pools);
        assertFalse(ds.slashed(opX, 5, xWeth));
    }

    function test_signersDiffer_reverts() public {
        _expectRevertSubmit(
            opX,
            5,
            _vote(PK_X, ds, 5, PAYLOAD_A),
            _vote(PK_Y, ds, 5, PAYLOAD_B),
            abi.encodeWithSelector(DoubleSignSlasher.SignersDiffer.selector, keyX, keyY)
        );
    }

    function test_notOperatorKey_anotherOperatorsKey() public {
        // Y double-signed, but the proof is filed against X: X is not framed.
        _expectRevertSubmit(
            opX,
            5,
            _vote(PK_Y, ds, 5, PAYLOAD_A),
            _vote(PK_Y, ds, 5, PAYLOAD_B),
            abi.encodeWithSelector(DoubleSignSlasher.NotOperatorKey.selector, keyY, opX)
        );
        assertEq(vault.slashableAssets(xWeth), 1000e18);
    }

    function test_notOperatorKey_unregisteredKey() public {
        address stranger = vm.addr(PK_STRANGER);
        _expectRevertSubmit(
            opX,
            5,
            _vote(PK_STRANGER, ds, 5, PAYLOAD_A),
            _vote(PK_STRANGER, ds, 5, PAYLOAD_B),
            abi.encodeWithSelector(DoubleSignSlasher.NotOperatorKey.selector, stranger, opX)
        );
    }

    // ================================================================== key rotation

    function test_keyRotation_oldKeyProofStillSlashes() public {
        address keyX2 = vm.addr(PK_X2);
        // Votes signed with the old key in round 11, then X rotates away from it.
        bytes memory sigA = _vote(PK_X, ds, 11, PAYLOAD_A);
        bytes memory sigB = _vote(PK_X, ds, 11, PAYLOAD_B);
        vm.warp(block.timestamp + 1 hours);
        vm.prank(opX);
        registry.rotateSigningKey(keyX2);
        assertEq(registry.getOperator(opX).signingKey, keyX2);

        vm.expectEmit(true, true, true, true, address(ds));
        emit DoubleSignSlasher.DoubleSignSlashed(opX, 11, xWeth, keyX, 50e18);
        _submit(opX, 11, sigA, sigB);
        assertEq(weth.balanceOf(dsSink), 50e18);

        // The new key is attributed too.
        uint256 amount = _submit(opX, 12, _vote(PK_X2, ds, 12, PAYLOAD_A), _vote(PK_X2, ds, 12, PAYLOAD_B));
        assertEq(amount, 45e18 + 90_000e6);
    }

    // ================================================================== domain separation

    function test_domain_signatureForAnotherChainDoesNotVerify() public {
        uint256 home = block.chainid;
        bytes32 homeDigest = ds.voteDigest(13, PAYLOAD_A);
        vm.chainId(999);
        bytes32 foreignDigest = ds.voteDigest(13, PAYLOAD_A);
        assertEq(foreignDigest, _handDigest(address(ds), 999, dsAvs, 13, PAYLOAD_A));
        assertTrue(foreignDigest != homeDigest, "chain id is bound");
        bytes memory sigA = _vote(PK_X, ds, 13, PAYLOAD_A);
        bytes memory sigB = _vote(PK_X, ds, 13, PAYLOAD_B);
        vm.chainId(home);

        address rA = ECDSA.recover(ds.voteDigest(13, PAYLOAD_A), sigA);
        address rB = ECDSA.recover(ds.voteDigest(13, PAYLOAD_B), sigB);
        assertTrue(rA != keyX && rB != keyX, "foreign signatures recover other addresses");
        _expectRevertSubmit(
            opX, 13, sigA, sigB, abi.encodeWithSelector(DoubleSignSlasher.NotOperatorKey.selector, rA, opX)
        );
        // One foreign half next to a genuine one does not verify either.
        _expectRevertSubmit(
            opX,
            13,
            sigA,
            _vote(PK_X, ds, 13, PAYLOAD_B),
            abi.encodeWithSelector(DoubleSignSlasher.NotOperatorKey.selector, rA, opX)
        );
        assertEq(weth.balanceOf(dsSink), 0);

        // Control: on chain 999 the very same proof is valid.
        vm.chainId(999);
        assertEq(_submit(opX, 13, sigA, sigB), 50e18 + 100_000e6);
    }

    function test_domain_signatureForAnotherAVSDoesNotVerify() public {
        DoubleSignSlasher ds2 =
            new DoubleSignSlasher(manager, vault, registry, "ipfs://double-sign-2", dsSink, FRACTION);
        assertEq(ds2.avsId(), dsAvs + 2, "after ds and otherAvs");
        bytes memory sigA = _vote(PK_X, ds2, 14, PAYLOAD_A);
        bytes memory sigB = _vote(PK_X, ds2, 14, PAYLOAD_B);

        address rA = ECDSA.recover(ds.voteDigest(14, PAYLOAD_A), sigA);
        address rB = ECDSA.recover(ds.voteDigest(14, PAYLOAD_B), sigB);
        assertTrue(rA != keyX && rB != keyX);
        _expectRevertSubmit(
            opX, 14, sigA, sigB, abi.encodeWithSelector(DoubleSignSlasher.NotOperatorKey.selector, rA, opX)
        );
        assertEq(vault.slashableAssets(xWeth), 1000e18);

        // Control: at the AVS it was made for, the proof verifies (X has nothing allocated there: 0 slashed).
        uint256[] memory got = ds2.slashDoubleSign(opX, 14, PAYLOAD_A, sigA, PAYLOAD_B, sigB, vault.operatorPools(opX));
        for (uint256 i; i < got.length; ++i) {
            assertEq(got[i], 0);
            assertFalse(ds2.slashed(opX, 14, vault.operatorPools(opX)[i]), "nothing taken: nothing marked");
        }
        assertFalse(ds.slashed(opX, 14, xWeth));
    }

    function test_domain_avsIdInTheStructIsBound() public {
        // Same module, same chain, but a struct naming another AVS id: not this AVS's vote.
        uint32 wrongAvs = dsAvs + 1;
        bytes memory sigA = _sig(PK_X, _handDigest(address(ds), block.chainid, wrongAvs, 15, PAYLOAD_A));
        bytes memory sigB = _sig(PK_X, _handDigest(address(ds), block.chainid, wrongAvs, 15, PAYLOAD_B));
        address rA = ECDSA.recover(ds.voteDigest(15, PAYLOAD_A), sigA);
        address rB = ECDSA.recover(ds.voteDigest(15, PAYLOAD_B), sigB);
        assertTrue(rA != keyX && rB != keyX);
        _expectRevertSubmit(
            opX, 15, sigA, sigB, abi.encodeWithSelector(DoubleSignSlasher.NotOperatorKey.selector, rA, opX)
        );
        // Control: the same hand-built digest with the right id is accepted.
        bytes memory okA = _sig(PK_X, _handDigest(address(ds), block.chainid, dsAvs, 15, PAYLOAD_A));
        bytes memory okB = _sig(PK_X, _handDigest(address(ds), block.chainid, dsAvs, 15, PAYLOAD_B));
        assertEq(_submit(opX, 15, okA, okB), 50e18 + 100_000e6);
    }

    // ================================================================== malleability

    function test_highS_malleatedSignatureRejected() public {
        bytes32 digest = ds.voteDigest(16, PAYLOAD_A);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(PK_X, digest);
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        // The malleated twin is a valid secp256k1 signature of the same key...
        assertEq(ecrecover(digest, flippedV, r, highS), keyX, "raw ecrecover accepts the twin");
        bytes memory twin = abi.encodePacked(r, highS, flippedV);
        bytes memory sigB = _vote(PK_X, ds, 16, PAYLOAD_B);
        // ...which OZ's ECDSA refuses, in either half of the proof.
        uint256[] memory pools = _pools(opX);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, highS));
        ds.slashDoubleSign(opX, 16, PAYLOAD_A, twin, PAYLOAD_B, sigB, pools);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, highS));
        ds.slashDoubleSign(opX, 16, PAYLOAD_B, sigB, PAYLOAD_A, twin, pools);
        assertFalse(ds.slashed(opX, 16, xWeth));
        // The canonical signature works.
        assertEq(_submit(opX, 16, abi.encodePacked(r, s, v), sigB), 50e18 + 100_000e6);
    }
}

/// @notice CommitteeSlasher: a 2-of-3 committee over a vetoable AVS. Operator A's WETH pool holds 1000 WETH and is
/// allocated 50% isolated to the committee's AVS: backing 500 WETH.
contract CommitteeSlasherTest is IsolationFixture {
    address internal m1 = makeAddr("member1");
    address internal m2 = makeAddr("member2");
    address internal m3 = makeAddr("member3");
    address internal outsider = makeAddr("outsider");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal cSink = makeAddr("committeeSink");
    bytes32 internal constant EVIDENCE = keccak256("ipfs://evidence");

    CommitteeSlasher internal committee;
    uint32 internal avsId;
    uint256 internal pool;

    function setUp() public override {
        super.setUp();
        committee = _deploy(_members(m1, m2, m3), 2);
        avsId = committee.avsId();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
        _allocate(opA, pool, avsId, IAllocationManager.Mode.Isolated, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
    }

    // ================================================================== helpers

    function _members(address a, address b, address c) internal pure returns (address[] memory ms) {
        ms = new address[](3);
        (ms[0], ms[1], ms[2]) = (a, b, c);
    }

    function _deploy(address[] memory members, uint32 quorum) internal returns (CommitteeSlasher) {
        return _deploy(members, quorum, VETO_WINDOW, VOTING_PERIOD);
    }

    function _deploy(address[] memory members, uint32 quorum, uint48 vetoWindow, uint48 votingPeriod)
        internal
        returns (CommitteeSlasher)
    {
        return new CommitteeSlasher(
            manager, vault, "ipfs://committee", cSink, resolver, vetoWindow, votingPeriod, 1e18, members, quorum
        );
    }

    function _propose(address member, uint64 fractionWad) internal returns (uint256 id) {
        vm.prank(member);
        id = committee.propose(pool, fractionWad, EVIDENCE);
    }

    function _voteAs(address member, uint256 id) internal {
        vm.prank(member);
        committee.vote(id);
    }

    /// @dev m1 proposes, m2 reaches the quorum; returns the proposal and its request.
    function _passed(uint64 fractionWad) internal returns (uint256 id, uint64 requestId) {
        id = _propose(m1, fractionWad);
        _voteAs(m2, id);
        requestId = committee.getProposal(id).requestId;
    }

    // ================================================================== construction

    function test_constructor_registersVetoAVS() public view {
        IAllocationManager.AVS memory avs = manager.getAVS(avsId);
        assertEq(avs.admin, address(committee));
        assertEq(avs.slasher, address(committee));
        assertEq(avs.sink, cSink);
        assertEq(avs.resolver, resolver);
        assertEq(avs.vetoWindow, VETO_WINDOW);
        assertEq(avs.maxSlashWad, 1e18);
        assertEq(committee.quorum(), 2);
        assertEq(committee.memberCount(), 3);
        assertTrue(committee.isMember(m1) && committee.isMember(m2) && committee.isMember(m3));
        assertFalse(committee.isMember(outsider));
    }

    function test_constructor_quorumZeroReverts() public {
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.InvalidCommittee.selector, 3, 0));
        _deploy(_members(m1, m2, m3), 0);
    }

    function test_constructor_quorumAboveMembersReverts() public {
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.InvalidCommittee.selector, 3, 4));
        _deploy(_members(m1, m2, m3), 4);
        // Quorum equal to the committee size is fine.
        assertEq(_deploy(_members(m1, m2, m3), 3).quorum(), 3);
    }

    function test_constructor_duplicateMemberReverts() public {
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.InvalidCommittee.selector, 3, 2));
        _deploy(_members(m1, m2, m1), 2);
    }

    function test_constructor_zeroMemberReverts() public {
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.InvalidCommittee.selector, 3, 2));
        _deploy(_members(m1, address(0), m2), 2);
    }

    function test_constructor_emptyCommitteeReverts() public {
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.InvalidCommittee.selector, 0, 1));
        _deploy(new address[](0), 1);
    }

    /// The voting period is positive, at most veto + execution window (the proposal's announcement covers every vote)
    /// and voting + veto + execution < deallocation delay (nothing filed after the proposal escapes its request).
    function test_constructor_votingPeriodBounds() public {
        assertEq(committee.votingPeriod(), VOTING_PERIOD);
        // Fixture: 3 days − 1 day − 1 day − 1 s binds (it is below veto + execution = 2 days).
        uint256 limit = DEALLOC_DELAY - VETO_WINDOW - EXEC_WINDOW - 1;
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.InvalidVotingPeriod.selector, 0, limit));
        _deploy(_members(m1, m2, m3), 2, VETO_WINDOW, 0);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.InvalidVotingPeriod.selector, limit + 1, limit));
        _deploy(_members(m1, m2, m3), 2, VETO_WINDOW, uint48(limit + 1));
        // A one-hour veto window: veto + execution (25 hours) binds, below 3 days − 25 hours − 1 s.
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.InvalidVotingPeriod.selector, 25 hours + 1, 25 hours));
        _deploy(_members(m1, m2, m3), 2, 1 hours, 25 hours + 1);
        assertEq(_deploy(_members(m1, m2, m3), 2, 1 hours, 25 hours).votingPeriod(), 25 hours);
        // A veto window the manager refuses leaves no voting period at all (and the manager refuses it anyway).
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.InvalidVotingPeriod.selector, 1, 0));
        _deploy(_members(m1, m2, m3), 2, DEALLOC_DELAY - EXEC_WINDOW, 1);
    }

    // ================================================================== membership and voting

    function test_propose_nonMemberReverts() public {
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.NotMember.selector, outsider));
        committee.propose(pool, 0.2e18, EVIDENCE);
        assertEq(committee.proposalCount(), 0);
    }

    function test_vote_nonMemberReverts() public {
        uint256 id = _propose(m1, 0.2e18);
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.NotMember.selector, outsider));
        committee.vote(id);
    }

    function test_proposal_belowQuorumDoesNotRequest() public {
        vm.expectEmit(true, true, true, true, address(committee));
        emit CommitteeSlasher.SlashProposed(1, pool, 0.2e18, EVIDENCE, uint40(block.timestamp + VOTING_PERIOD));
        vm.expectEmit(true, true, true, true, address(committee));
        emit CommitteeSlasher.Voted(1, m1, 1);
        uint256 id = _propose(m1, 0.2e18);

        assertEq(id, 1);
        CommitteeSlasher.Proposal memory p = committee.getProposal(id);
        assertEq(p.poolId, pool);
        assertEq(p.fractionWad, 0.2e18);
        assertEq(p.votes, 1, "the proposer's vote");
        assertEq(p.requestId, 0, "no request below quorum");
        assertEq(p.evidence, EVIDENCE);
        assertEq(p.proposedAt, block.timestamp);
        assertTrue(committee.hasVoted(id, m1));
        assertEq(manager.requestCount(), 0);
    }

    function test_belowQuorum_threeOfThreeCommittee() public {
        committee = _deploy(_members(m1, m2, m3), 3);
        avsId = committee.avsId();
        _allocate(opA, pool, avsId, IAllocationManager.Mode.Isolated, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        uint256 id = _propose(m1, 0.2e18);
        _voteAs(m2, id);
        assertEq(committee.getProposal(id).votes, 2);
        assertEq(committee.getProposal(id).requestId, 0, "two of three is not a quorum of three");
        assertEq(manager.requestCount(), 0);
        _voteAs(m3, id);
        assertEq(committee.getProposal(id).requestId, 1);
    }

    function test_quorumVote_filesRequest() public {
        uint256 id = _propose(m1, 0.2e18);
        uint40 executableAt = uint40(block.timestamp + VETO_WINDOW);

        vm.expectEmit(true, true, true, true, address(manager));
        emit IAllocationManager.SlashRequested(1, avsId, pool, 0.2e18, executableAt);
        vm.expectEmit(true, true, true, true, address(committee));
        emit CommitteeSlasher.QuorumRequested(id, 1);
        _voteAs(m2, id);

        CommitteeSlasher.Proposal memory p = committee.getProposal(id);
        assertEq(p.votes, 2);
        assertEq(p.requestId, 1);
        IAllocationManager.Request memory r = manager.getRequest(1);
        assertEq(r.avsId, avsId);
        assertEq(r.poolId, pool);
        assertEq(r.fractionWad, 0.2e18);
        assertEq(r.executableAt, executableAt);
        assertEq(uint8(r.status), uint8(IAllocationManager.RequestStatus.Pending));
        // Nothing has moved yet.
        assertEq(vault.slashableAssets(pool), 1000e18);
        assertEq(weth.balanceOf(cSink), 0);
    }

    function test_quorumOfOne_proposeFilesAtOnce() public {
        committee = _deploy(_members(m1, m2, m3), 1);
        avsId = committee.avsId();
        _allocate(opA, pool, avsId, IAllocationManager.Mode.Isolated, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        uint256 id = _propose(m3, 0.2e18);
        assertEq(committee.getProposal(id).requestId, 1);
        assertEq(manager.getRequest(1).avsId, avsId);
    }

    function test_quorum_onUnbackedPoolReverts() public {
        // Operator B's pool has nothing allocated to the committee's AVS: the quorum vote cannot file.
        (uint256 bPool,) = _deposit(bob, opB, weth, 100 ether);
        vm.prank(m1);
        uint256 id = committee.propose(bPool, 0.2e18, EVIDENCE);
        vm.prank(m2);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotSlashable.selector, avsId, bPool));
        committee.vote(id);
        assertEq(committee.getProposal(id).votes, 1);
    }

    function test_alreadyVoted_reverts() public {
        uint256 id = _propose(m1, 0.2e18);
        vm.prank(m1);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.AlreadyVoted.selector, id, m1));
        committee.vote(id);
        assertEq(committee.getProposal(id).votes, 1);
    }

    function test_quorumReached_votingAfterReverts() public {
        (uint256 id,) = _passed(0.2e18);
        vm.prank(m3);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.QuorumReached.selector, id));
        committee.vote(id);
        assertEq(committee.getProposal(id).votes, 2);
        assertEq(manager.requestCount(), 1, "no second request");
    }

    function test_vote_afterVotingPeriodReverts() public {
        uint256 id = _propose(m1, 0.2e18);
        uint40 endsAt = uint40(block.timestamp + VOTING_PERIOD);
        vm.warp(endsAt + 1);
        vm.prank(m2);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.ProposalExpired.selector, id, endsAt));
        committee.vote(id);
        assertEq(committee.getProposal(id).votes, 1);
        assertEq(manager.requestCount(), 0);
    }

    function test_vote_atTheLastSecondOfTheVotingPeriodFiles() public {
        uint256 id = _propose(m1, 0.2e18);
        vm.warp(block.timestamp + VOTING_PERIOD);
        _voteAs(m2, id);
        assertEq(committee.getProposal(id).requestId, 1);
    }

    function test_unknownProposal_reverts() public {
        _propose(m1, 0.2e18);
        vm.startPrank(m2);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.UnknownProposal.selector, 0));
        committee.vote(0);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.UnknownProposal.selector, 2));
        committee.vote(2);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.UnknownProposal.selector, 0));
        committee.execute(0);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.UnknownProposal.selector, 7));
        committee.execute(7);
    }

    // ================================================================== execution

    function test_execute_beforeQuorumReverts() public {
        uint256 id = _propose(m1, 0.2e18);
        vm.warp(block.timestamp + VETO_WINDOW);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.QuorumNotReached.selector, id, 1, 2));
        committee.execute(id);
    }

    function test_execute_duringVetoWindowReverts() public {
        (uint256 id, uint64 requestId) = _passed(0.2e18);
        uint40 executableAt = uint40(block.timestamp + VETO_WINDOW);
        vm.warp(executableAt - 1);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.VetoWindowOpen.selector, requestId, executableAt));
        committee.execute(id);
    }

    function test_veto_blocksExecution() public {
        (uint256 id, uint64 requestId) = _passed(0.2e18);
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotResolver.selector, requestId, outsider));
        manager.vetoSlash(requestId);

        vm.warp(block.timestamp + VETO_WINDOW - 1);
        vm.prank(resolver);
        manager.vetoSlash(requestId);
        assertEq(uint8(manager.getRequest(requestId).status), uint8(IAllocationManager.RequestStatus.Vetoed));

        vm.warp(block.timestamp + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAllocationManager.RequestNotPending.selector, requestId, IAllocationManager.RequestStatus.Vetoed
            )
        );
        committee.execute(id);
        assertEq(vault.slashableAssets(pool), 1000e18);
        assertEq(weth.balanceOf(cSink), 0);
        // The vetoed proposal is spent: it takes no further votes.
        vm.prank(m3);
        vm.expectRevert(abi.encodeWithSelector(CommitteeSlasher.QuorumReached.selector, id));
        committee.vote(id);
    }

    function test_veto_afterWindowClosedReverts() public {
        (, uint64 requestId) = _passed(0.2e18);
        uint40 executableAt = uint40(block.timestamp + VETO_WINDOW);
        vm.warp(executableAt);
        vm.prank(resolver);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.VetoWindowClosed.selector, requestId, executableAt));
        manager.vetoSlash(requestId);
    }

    function test_execute_afterVetoWindowSlashes() public {
        (uint256 id, uint64 requestId) = _passed(0.2e18);
        vm.warp(block.timestamp + VETO_WINDOW);
        // Backing 0.5e27 · 1000e18 / 1e27 = 500e18; 20% = 100e18. Anyone may execute.
        vm.expectEmit(true, true, true, true, address(manager));
        emit IAllocationManager.OperatorSlashed(avsId, pool, opA, 0.2e18, 100e18, requestId);
        vm.prank(outsider);
        uint256 amount = committee.execute(id);

        assertEq(amount, 100e18);
        assertEq(weth.balanceOf(cSink), 100e18, "paid to the sink in the same call");
        assertEq(vault.slashableAssets(pool), 900e18);
        // Weight cut ⌈1e27 · 100e18 / 1000e18⌉ = 1e26: 4e26 of 9e26 over 900e18 = 400e18.
        assertEq(manager.slashableBacking(avsId, pool), 400e18);
        assertEq(uint8(manager.getRequest(requestId).status), uint8(IAllocationManager.RequestStatus.Executed));

        vm.expectRevert(
            abi.encodeWithSelector(
                IAllocationManager.RequestNotPending.selector, requestId, IAllocationManager.RequestStatus.Executed
            )
        );
        committee.execute(id);
    }

    function test_execute_usesBackingAtExecution_depositInBetween() public {
        (uint256 id,) = _passed(0.2e18);
        // Requested when the backing was 500e18; bob's deposit doubles the pool before execution.
        _deposit(bob, opA, weth, 1000 ether);
        assertEq(manager.slashableBacking(avsId, pool), 1000e18);
        vm.warp(block.timestamp + VETO_WINDOW);
        assertEq(committee.execute(id), 200e18, "20% of 0.5e27 * 2000e18 / 1e27");
        assertEq(weth.balanceOf(cSink), 200e18);
        assertEq(vault.slashableAssets(pool), 1800e18);
    }

    function test_execute_usesBackingAtExecution_slashInBetween() public {
        (uint256 first,) = _passed(0.2e18);
        (uint256 second,) = _passed(0.2e18);
        vm.warp(block.timestamp + VETO_WINDOW);
        assertEq(committee.execute(first), 100e18, "20% of 500e18");
        // Backing now 4e26 · 900e18 / 9e26 = 400e18: the overlapping request takes 20% of that, not of 500e18.
        assertEq(committee.execute(second), 80e18);
        assertEq(weth.balanceOf(cSink), 180e18);
        assertEq(vault.slashableAssets(pool), 820e18);
    }

    function test_execute_notEscapedByDeallocatingOrWithdrawing() public {
        (uint256 id,) = _passed(0.2e18);
        // Right after the request the operator deallocates everything and alice queues her whole position.
        vm.prank(opA);
        manager.allocate(pool, avsId, IAllocationManager.Mode.Isolated, 0);
        _queue(alice, pool, 1000e18);
        vm.warp(block.timestamp + VETO_WINDOW);
        assertEq(committee.execute(id), 100e18);
        assertEq(weth.balanceOf(cSink), 100e18);
        assertEq(vault.getPool(pool).slashableAssets, 900e18);
    }

    function test_execute_lastMomentOfExecutionWindowWorks() public {
        (uint256 id,) = _passed(0.2e18);
        vm.warp(block.timestamp + VETO_WINDOW + EXEC_WINDOW);
        assertEq(committee.execute(id), 100e18);
    }

    function test_execute_afterExpiryReverts() public {
        (uint256 id, uint64 requestId) = _passed(0.2e18);
        uint40 expiresAt = uint40(block.timestamp + VETO_WINDOW + EXEC_WINDOW);
        vm.warp(expiresAt + 1);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.RequestExpired.selector, requestId, expiresAt));
        committee.execute(id);
        assertEq(vault.slashableAssets(pool), 1000e18);
        assertEq(weth.balanceOf(cSink), 0);
    }

    function test_directManagerCallsBypassingTheCommitteeRevert() public {
        (, uint64 requestId) = _passed(0.2e18);
        vm.warp(block.timestamp + VETO_WINDOW);
        vm.prank(m1);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotAVSSlasher.selector, avsId, m1));
        manager.executeSlash(requestId);
        vm.prank(m1);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.NotAVSSlasher.selector, avsId, m1));
        manager.requestSlash(avsId, pool, 0.2e18);
    }
}
