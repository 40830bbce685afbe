// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {Reputation} from "../../contracts/Reputation.sol";
import {StakeVault} from "../../contracts/StakeVault.sol";
import {IAllocationManager} from "../../contracts/interfaces/IAllocationManager.sol";
import {IReputation} from "../../contracts/interfaces/IReputation.sol";
import {IReputationHooks} from "../../contracts/interfaces/IReputationHooks.sol";
import {IStakeVault} from "../../contracts/interfaces/IStakeVault.sol";
import {BetaReputation} from "../../contracts/libraries/BetaReputation.sol";
import {DoubleSignSlasher} from "../../contracts/modules/DoubleSignSlasher.sol";
import {FeeOnTransferERC20, MockERC20, RebasingERC20} from "../mocks/MockERC20.sol";
import {ReputationFixture} from "../utils/ReputationFixture.sol";

/// @notice Unit tests for Reputation and its two hooks into the protocol (the manager's veto hook, the vault's
/// `compensate`): every entry point, each bad input (named error, state unchanged), every event, the parameter delay,
/// and the numbers worked out by hand.
///
/// The scene: alice holds 1,000 WETH with operator A (`pool`, 1,000e18 shares at price 1). Both AVSs are new (rating 0:
/// the manager counts their shared allocations at 3×). A allocates 20% isolated to the vetoable AVS `avsV` (backing
/// 200 WETH) and 50% shared to the instant AVS `avsI` (backing min(50%, 80%) of 1,000 = 500 WETH; it counts 1.5 of the
/// pool against the 3 × 0.8 reuse limit). A's value at risk is isolated 200 + min(weighted shared 1,500, shared stake
/// 800) = 1,000 WETH. The evidence unit is 100 WETH, so each of them earns a full unit per clean epoch. A slash request
/// of 50% by `avsV` asks for 100 WETH, and its veto costs a penalty of 10% of that: 10 WETH.
contract ReputationTest is ReputationFixture {
    uint256 internal constant WAD = 1e18;
    IAllocationManager.Mode internal constant ISO = IAllocationManager.Mode.Isolated;
    IAllocationManager.Mode internal constant SHARED = IAllocationManager.Mode.Shared;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal stranger = makeAddr("stranger");
    address internal module2 = makeAddr("module2");

    uint256 internal pool;
    uint32 internal avsV;
    uint32 internal avsI;

    function setUp() public override {
        super.setUp();
        (pool,) = _deposit(alice, opA, weth, 1000 ether);
        avsV = _ready(_vetoAVS(module, sink));
        avsI = _ready(_instantAVS(module2, sink));
        _allocate(opA, pool, avsV, ISO, 0.2e18);
        _allocate(opA, pool, avsI, SHARED, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
    }

    // ================================================================== helpers

    /// @dev Every view a failed call must leave as it was.
    function _state() internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                rep.avsRecord(avsV),
                rep.avsRecord(avsI),
                rep.operatorRecord(opA),
                rep.bondOf(avsV, address(weth)),
                rep.totalBonded(address(weth)),
                weth.balanceOf(address(rep)),
                weth.balanceOf(address(vault)),
                vault.getPool(pool),
                manager.getRequest(1),
                rep.executedSlashReported(1),
                _standingState()
            )
        );
    }

    function _standingState() internal view returns (bytes32) {
        return keccak256(
            abi.encode(
                rep.measuredBacking(avsV, pool),
                rep.assetStanding(avsV, address(weth)),
                rep.shortAssets(avsV),
                manager.getAVS(avsV)
            )
        );
    }

    function _err(bytes memory err) internal {
        vm.expectRevert(err);
    }

    function _applyAfterDelay(IReputation.Parameter kind, address target) internal {
        vm.warp(block.timestamp + rep.PARAMETER_DELAY());
        rep.applyChange(uint8(kind), target);
    }

    /// @dev A 50% request by `avsV` on `pool`.
    function _requestV() internal returns (uint64) {
        return _request(module, avsV, pool, 0.5e18);
    }

    /// @dev A checkpoint by the AVS's admin, its subject (always allowed once per epoch).
    function _cpAVS(uint32 avsId, uint256 poolId) internal {
        vm.prank(avsAdmin);
        rep.checkpointAVS(avsId, poolId);
    }

    function _cpOp(address operator, uint256 poolId) internal {
        vm.prank(operator);
        rep.checkpointOperator(operator, poolId);
    }

    function _expectedRating(uint256 previous, uint256 good, uint256 bad) internal pure returns (uint256) {
        return BetaReputation.step(previous, BetaReputation.lowerBound(good, bad, 2e18), 0.05e18);
    }

    // ================================================================== constructor

    function test_constructor_setsImmutablesAndDefaults() public view {
        assertEq(address(rep.manager()), address(manager));
        assertEq(address(rep.vault()), address(vault));
        assertEq(rep.owner(), address(this));
        assertEq(rep.epochLength(), EPOCH);
        assertEq(rep.bondWithdrawalDelay(), BOND_DELAY);
        assertEq(rep.genesis(), 1_700_000_000);
        BetaReputation.Params memory p = rep.ratingParams();
        assertEq(p.forgetWad, 0.95e18);
        assertEq(p.zWad, 2e18);
        assertEq(p.maxStepWad, 0.05e18);
        assertEq(rep.vetoBadWad(), 3e18);
        assertEq(rep.doubleSignBadWad(), 5e18);
        assertEq(rep.executedSlashBadWad(), 1e18);
        assertEq(rep.riskWeightFloorWad(), 3e18);
        assertEq(rep.riskWeightTopWad(), 1e18);
        assertEq(rep.bondFractionFloorWad(), 0.5e18);
        assertEq(rep.bondFractionTopWad(), 0.05e18);
        assertEq(rep.penaltyWad(), 0.1e18);
        assertEq(rep.evidenceUnit(address(weth)), WETH_UNIT);
        assertEq(rep.evidenceUnit(address(usdc)), USDC_UNIT);
        assertEq(address(manager.reputation()), address(rep));
        assertEq(vault.compensator(), address(rep));
    }

    function test_RevertWhen_constructorZeroManager() public {
        _err(abi.encodeWithSelector(IReputation.ZeroAddress.selector));
        new Reputation(IAllocationManager(address(0)), vault, address(this), EPOCH, BOND_DELAY);
    }

    function test_RevertWhen_constructorZeroVault() public {
        _err(abi.encodeWithSelector(IReputation.ZeroAddress.selector));
        new Reputation(manager, IStakeVault(address(0)), address(this), EPOCH, BOND_DELAY);
    }

    function test_RevertWhen_constructorZeroOwner() public {
        _err(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new Reputation(manager, vault, address(0), EPOCH, BOND_DELAY);
    }

    function test_RevertWhen_constructorVaultMismatch() public {
        StakeVault other = new StakeVault(registry, ESCROW, address(this), guardian);
        _err(abi.encodeWithSelector(IReputation.VaultMismatch.selector, address(vault), address(other)));
        new Reputation(manager, other, address(this), EPOCH, BOND_DELAY);
    }

    function test_RevertWhen_constructorEpochOutOfBounds() public {
        _err(abi.encodeWithSelector(IReputation.InvalidEpochLength.selector, 1 days - 1, 1 days, 30 days));
        new Reputation(manager, vault, address(this), 1 days - 1, BOND_DELAY);
        _err(abi.encodeWithSelector(IReputation.InvalidEpochLength.selector, 30 days + 1, 1 days, 30 days));
        new Reputation(manager, vault, address(this), 30 days + 1, BOND_DELAY);
        // Both ends are allowed.
        new Reputation(manager, vault, address(this), 1 days, BOND_DELAY);
        new Reputation(manager, vault, address(this), 30 days, BOND_DELAY);
    }

    function test_RevertWhen_constructorBondDelayOutOfBounds() public {
        // Below the deallocation delay (3 days), no veto window is guaranteed to close before a withdrawal leaves.
        _err(abi.encodeWithSelector(IReputation.InvalidBondWithdrawalDelay.selector, 3 days - 1, 3 days, 365 days));
        new Reputation(manager, vault, address(this), EPOCH, 3 days - 1);
        _err(abi.encodeWithSelector(IReputation.InvalidBondWithdrawalDelay.selector, 365 days + 1, 3 days, 365 days));
        new Reputation(manager, vault, address(this), EPOCH, 365 days + 1);
        assertEq(new Reputation(manager, vault, address(this), EPOCH, 3 days).bondWithdrawalDelay(), 3 days);
    }

    /// @notice The delay proof's premise, on the real manager: every veto window the manager admits ends, with its
    /// execution window, strictly before a bond withdrawal queued at the request matures.
    function test_bondDelay_outlastsEveryAdmissibleVetoFlow() public {
        uint48 limit = DEALLOC_DELAY - EXEC_WINDOW - 1; // the longest veto window `_checkVetoWindow` admits
        vm.prank(avsAdmin);
        manager.registerAVS("ipfs://long", module, sink, resolver, limit, 1e18);
        vm.prank(avsAdmin);
        vm.expectRevert(abi.encodeWithSelector(IAllocationManager.InvalidVetoWindow.selector, limit + 1, limit));
        manager.registerAVS("ipfs://too-long", module, sink, resolver, limit + 1, 1e18);
        assertLt(uint256(limit) + EXEC_WINDOW, rep.bondWithdrawalDelay());
    }

    // ================================================================== epochs

    function test_epoch_countsFromGenesis() public {
        assertEq(rep.epoch(), 1); // the fixture waited the parameter delay (one epoch), the set-up a day more
        vm.warp(rep.genesis() + 2 * uint256(EPOCH) - 1);
        assertEq(rep.epoch(), 1);
        vm.warp(rep.genesis() + 2 * uint256(EPOCH));
        assertEq(rep.epoch(), 2);
    }

    // ================================================================== checkpointAVS

    function test_freshIdentity_ratesAtTheFloor() public view {
        IReputation.RecordView memory v = rep.avsRecord(avsV);
        assertEq(v.ratingWad, 0);
        assertEq(v.goodWad, 0);
        assertEq(v.badWad, 0);
        assertEq(v.meanWad, 0.5e18);
        assertEq(v.lowerBoundWad, 0);
        assertFalse(v.seen);
        assertEq(rep.avsRating(avsV), 0);
        assertEq(rep.operatorRating(opA), 0);
        assertEq(rep.riskWeightWad(avsV), 3e18);
        assertEq(rep.requiredBondFractionWad(avsV), 0.5e18);
    }

    function test_checkpointAVS_creditsACleanEpochAndStepsTheRating() public {
        uint256 target = BetaReputation.lowerBound(1e18, 0, 2e18);
        assertGt(target, 0.19e18); // 0.195…: the step (0.05) binds
        vm.expectEmit(address(rep));
        emit IReputation.AVSRatingUpdated(avsV, pool, 0, 0.05e18, 1e18, 0, 1e18, 1);
        vm.prank(stranger); // permissionless
        rep.checkpointAVS(avsV, pool);
        IReputation.RecordView memory v = rep.avsRecord(avsV);
        assertEq(v.ratingWad, 0.05e18);
        assertEq(v.goodWad, 1e18);
        assertEq(v.lowerBoundWad, target);
        assertEq(v.meanWad, BetaReputation.mean(1e18, 0));
        assertEq(v.epoch, 1);
        assertTrue(v.checkpointed);
        assertTrue(v.seen);
        assertFalse(v.tainted);

        _nextEpoch();
        _cpAVS(avsV, pool);
        v = rep.avsRecord(avsV);
        assertEq(v.goodWad, 1.95e18); // 1 · 0.95 + 1
        assertEq(v.ratingWad, 0.1e18);
        assertEq(rep.riskWeightWad(avsV), 2.8e18);
        assertEq(rep.requiredBondFractionWad(avsV), 0.455e18);
    }

    function test_RevertWhen_checkpointAVSTwiceInAnEpoch() public {
        rep.checkpointAVS(avsV, pool);
        bytes32 before = _state();
        _err(abi.encodeWithSelector(IReputation.AlreadyCheckpointed.selector, 1));
        rep.checkpointAVS(avsV, pool);
        vm.warp(rep.genesis() + 2 * uint256(EPOCH) - 1); // still epoch 1
        _err(abi.encodeWithSelector(IReputation.AlreadyCheckpointed.selector, 1));
        rep.checkpointAVS(avsV, pool);
        assertEq(_state(), before);
        vm.warp(block.timestamp + 1);
        _cpAVS(avsV, pool);
    }

    function test_RevertWhen_checkpointAVSUnknown() public {
        bytes32 before = _state();
        _err(abi.encodeWithSelector(IReputation.UnknownAVS.selector, 0));
        rep.checkpointAVS(0, pool);
        _err(abi.encodeWithSelector(IReputation.UnknownAVS.selector, 3));
        rep.checkpointAVS(3, pool);
        _err(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 99));
        rep.checkpointAVS(avsV, 99);
        assertEq(_state(), before);
    }

    function test_checkpointAVS_missedEpochsDecayButCreditOnce() public {
        rep.checkpointAVS(avsV, pool);
        vm.warp(block.timestamp + 5 * uint256(EPOCH));
        rep.checkpointAVS(avsV, pool);
        IReputation.RecordView memory v = rep.avsRecord(avsV);
        uint256 good = BetaReputation.decayGoodEvidence(1e18, 5, 0.95e18) + 1e18;
        assertEq(v.goodWad, good);
        assertEq(v.epoch, 6);
        // One step per checkpoint, however many epochs passed.
        assertEq(v.ratingWad, 0.1e18);
    }

    function test_checkpointAVS_assetWithoutUnitEarnsNothing() public {
        MockERC20 dai = new MockERC20("Dai", "DAI", 18);
        vault.setAssetAllowed(address(dai), true);
        (uint256 daiPool,) = _deposit(alice, opA, dai, 1000 ether);
        _allocate(opA, daiPool, avsV, ISO, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        assertEq(manager.slashableBacking(avsV, daiPool), 1000 ether);
        vm.expectEmit(address(rep));
        emit IReputation.AVSRatingUpdated(avsV, daiPool, 0, 0, 0, 0, 0, 1);
        rep.checkpointAVS(avsV, daiPool);
        assertTrue(rep.avsRecord(avsV).checkpointed);
    }

    function test_checkpointAVS_noBackingEarnsNothing() public {
        uint32 idle = _instantAVS(module2, sink);
        rep.checkpointAVS(idle, pool);
        assertEq(rep.avsRecord(idle).goodWad, 0);
        assertEq(rep.avsRating(idle), 0);
    }

    /// @notice Once an AVS keeps up (checkpointed last epoch, no fault since), its epoch's checkpoint is its
    /// admin's: a griefer cannot burn it with a pool that has nothing at stake.
    function test_checkpointAVS_reservedForItsAdminWhileItKeepsUp() public {
        (uint256 empty,) = _deposit(bob, opB, weth, 1 ether); // a pool where avsV has nothing
        vm.prank(stranger);
        rep.checkpointAVS(avsV, pool); // open: never checkpointed
        _nextEpoch();
        bytes32 before = _state();
        _err(abi.encodeWithSelector(IReputation.ReservedForSubject.selector, stranger));
        vm.prank(stranger);
        rep.checkpointAVS(avsV, empty);
        _err(abi.encodeWithSelector(IReputation.ReservedForSubject.selector, module));
        vm.prank(module); // not even its slashing module
        rep.checkpointAVS(avsV, pool);
        assertEq(_state(), before);
        _cpAVS(avsV, pool);
        assertEq(rep.avsRecord(avsV).goodWad, 1.95e18); // the full unit, from the pool the admin named
    }

    /// @notice A lapsed AVS (no checkpoint in the previous epoch) is open to anyone: its rating follows its decaying
    /// evidence even if it stops calling.
    function test_checkpointAVS_openToAnyoneOnceItLapses() public {
        _cpAVS(avsV, pool);
        vm.warp(block.timestamp + 2 * uint256(EPOCH)); // epoch 3: nothing in epoch 2
        vm.prank(stranger);
        rep.checkpointAVS(avsV, pool);
        assertEq(rep.avsRecord(avsV).epoch, 3);
    }

    /// @notice A tainted AVS is open to anyone: it earns nothing this time anyway, and its rating must fall.
    function test_checkpointAVS_openToAnyoneWhenTainted() public {
        _cpAVS(avsV, pool);
        _nextEpoch();
        _veto(_requestV());
        vm.prank(stranger);
        rep.checkpointAVS(avsV, pool);
        assertFalse(rep.avsRecord(avsV).tainted);
    }

    function test_checkpointOperator_reservedForTheOperatorWhileItKeepsUp() public {
        rep.checkpointOperator(opA, pool);
        _nextEpoch();
        _err(abi.encodeWithSelector(IReputation.ReservedForSubject.selector, stranger));
        vm.prank(stranger);
        rep.checkpointOperator(opA, pool);
        _cpOp(opA, pool);
        assertEq(rep.operatorRecord(opA).goodWad, 1.95e18);
    }

    /// @notice A tiny AVS cannot farm a rating: 0.1 WETH at risk (a thousandth of the unit) for 60 clean epochs
    /// earns at most 0.02 units, which rates 0 — the floor, the same as a fresh identity.
    function test_farmingWithATinyBacking_earnsNothing() public {
        (uint256 tiny,) = _deposit(bob, opB, weth, 0.1 ether);
        uint32 farmer = _ready(_instantAVS(module2, sink));
        _allocate(opB, tiny, farmer, ISO, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        for (uint256 i; i < 60; ++i) {
            _cpAVS(farmer, tiny);
            _nextEpoch();
        }
        IReputation.RecordView memory v = rep.avsRecord(farmer);
        assertLt(v.goodWad, 0.02e18);
        assertEq(v.ratingWad, 0);
        assertEq(rep.riskWeightWad(farmer), 3e18);
        // The same 60 epochs with a full unit at risk reach the 0.86 region.
        for (uint256 i; i < 60; ++i) {
            _cpAVS(avsV, pool);
            _nextEpoch();
        }
        assertGt(rep.avsRating(avsV), 0.85e18);
    }

    // ================================================================== checkpointOperator

    function test_checkpointOperator_valueAtRiskIsIsolatedPlusCoveredShared() public {
        // Value at risk 200 + min(1,500, 800) = 1,000 WETH; with a 2,000 WETH unit the epoch earns half a unit.
        _qUnit(address(weth), 2000 ether);
        _applyAfterDelay(IReputation.Parameter.EvidenceUnit, address(weth));
        IAllocationManager.PoolRisk memory risk = manager.poolRisk(pool);
        assertEq(risk.totalIsolated, 200 ether);
        assertEq(risk.totalShared, 1500 ether); // avsI's 50% at its 3× risk weight
        assertEq(risk.sharedStake, 800 ether);
        uint32 e = rep.epoch();
        uint256 rating = _expectedRating(0, 0.5e18, 0);
        vm.expectEmit(address(rep));
        emit IReputation.OperatorRatingUpdated(opA, pool, 0, rating, 0.5e18, 0, 0.5e18, e);
        vm.prank(stranger); // open: never checkpointed
        rep.checkpointOperator(opA, pool);
        assertEq(rep.operatorRecord(opA).goodWad, 0.5e18);
        assertEq(rep.operatorRating(opA), rating);
    }

    /// @notice Shared limits below the shared stake count as `poolRisk` counts them: each times its AVS's risk weight.
    function test_checkpointOperator_sharedBelowTheStake() public {
        (uint256 poolB,) = _deposit(bob, opB, weth, 1000 ether);
        _allocate(opB, poolB, avsI, SHARED, 0.1e18); // 0.1 of the pool at 3×: 300 WETH of 1,000
        vm.warp(block.timestamp + ALLOC_DELAY);
        _qUnit(address(weth), 600 ether);
        _applyAfterDelay(IReputation.Parameter.EvidenceUnit, address(weth));
        assertEq(manager.poolRisk(poolB).totalShared, 300 ether);
        rep.checkpointOperator(opB, poolB);
        assertEq(rep.operatorRecord(opB).goodWad, 0.5e18); // (0 + 300) / 600
    }

    function test_RevertWhen_checkpointOperatorNotItsPool() public {
        bytes32 before = _state();
        _err(abi.encodeWithSelector(IReputation.NotOperatorPool.selector, pool, opB));
        rep.checkpointOperator(opB, pool);
        _err(abi.encodeWithSelector(IReputation.NotOperatorPool.selector, pool, address(0)));
        rep.checkpointOperator(address(0), pool);
        _err(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 99));
        rep.checkpointOperator(opA, 99);
        rep.checkpointOperator(opA, pool);
        before = _state();
        _err(abi.encodeWithSelector(IReputation.AlreadyCheckpointed.selector, 1));
        rep.checkpointOperator(opA, pool);
        assertEq(_state(), before);
    }

    // ================================================================== onSlashVetoed: evidence

    function test_RevertWhen_onSlashVetoedNotManager() public {
        uint64 id = _requestV();
        bytes32 before = _state();
        _err(abi.encodeWithSelector(IReputation.NotManager.selector, resolver));
        vm.prank(resolver);
        rep.onSlashVetoed(id);
        _err(abi.encodeWithSelector(IReputation.NotManager.selector, address(this)));
        rep.onSlashVetoed(id);
        assertEq(_state(), before);
    }

    function test_RevertWhen_takePenaltyNotSelf() public {
        _bond(avsV, weth, 50 ether);
        bytes32 before = _state();
        _err(abi.encodeWithSelector(IReputation.NotSelf.selector, stranger));
        vm.prank(stranger);
        rep.takePenalty(avsV, address(weth), pool, 10 ether);
        assertEq(_state(), before);
    }

    function test_veto_recordsBadEvidenceAndTaints() public {
        rep.checkpointAVS(avsV, pool);
        _nextEpoch();
        uint64 id = _requestV();
        uint256 bad = 3e18;
        vm.expectEmit(address(rep));
        emit IReputation.AVSFaultRecorded(avsV, id, 3e18, bad, 2);
        _veto(id);
        IReputation.RecordView memory v = rep.avsRecord(avsV);
        assertEq(v.badWad, 3e18);
        assertEq(v.goodWad, 0.95e18); // decayed to the current epoch first
        assertEq(v.epoch, 2);
        assertTrue(v.tainted);
        assertFalse(v.checkpointed); // no checkpoint yet in epoch 2
        assertEq(v.ratingWad, 0.05e18); // the rating moves at the next checkpoint, not before

        // The tainted checkpoint credits nothing, and the rating steps down toward the new target.
        vm.expectEmit(address(rep));
        emit IReputation.AVSRatingUpdated(avsV, pool, 0.05e18, 0, 0.95e18, 3e18, 0, 2);
        rep.checkpointAVS(avsV, pool);
        v = rep.avsRecord(avsV);
        assertFalse(v.tainted);
        assertTrue(v.checkpointed);
        // The next clean epoch earns again (the admin's checkpoint: the record is no longer open to anyone).
        _nextEpoch();
        _cpAVS(avsV, pool);
        assertEq(rep.avsRecord(avsV).goodWad, BetaReputation.decayGoodEvidence(0.95e18, 1, 0.95e18) + 1e18);
    }

    function test_veto_afterACheckpointInTheSameEpoch_taintsTheNext() public {
        rep.checkpointAVS(avsV, pool);
        _veto(_requestV());
        IReputation.RecordView memory v = rep.avsRecord(avsV);
        assertTrue(v.checkpointed); // still checkpointed this epoch: no second checkpoint
        assertTrue(v.tainted);
        _err(abi.encodeWithSelector(IReputation.AlreadyCheckpointed.selector, 1));
        rep.checkpointAVS(avsV, pool);
        _nextEpoch();
        rep.checkpointAVS(avsV, pool);
        assertEq(rep.avsRecord(avsV).goodWad, 0.95e18); // decayed, nothing credited
    }

    function test_veto_isNothingForTheOperator() public {
        _veto(_requestV());
        IReputation.RecordView memory v = rep.operatorRecord(opA);
        assertEq(v.badWad, 0);
        assertFalse(v.tainted);
        assertFalse(v.seen);
    }

    function test_executedSlash_isNeutralForTheAVS() public {
        uint64 id = _requestV();
        vm.warp(block.timestamp + VETO_WINDOW);
        _execute(module, id);
        rep.reportExecutedSlash(id);
        IReputation.RecordView memory v = rep.avsRecord(avsV);
        assertEq(v.badWad, 0);
        assertFalse(v.tainted);
    }

    // ================================================================== onSlashVetoed: penalty and compensation

    function test_veto_paysThePenaltyIntoThePool() public {
        _bond(avsV, weth, 50 ether);
        uint64 id = _requestV();
        uint256 vaultBefore = weth.balanceOf(address(vault));
        IStakeVault.PoolView memory p0 = vault.getPool(pool);
        // The vault's event comes first: the penalty is paid inside the hook's payment step.
        vm.expectEmit(address(vault));
        emit IStakeVault.Compensated(pool, address(rep), 10 ether, 10 ether);
        vm.expectEmit(address(rep));
        emit IReputation.PenaltyPaid(avsV, id, pool, address(weth), 10 ether, 10 ether, 10 ether, 0);
        _veto(id);
        IReputation.Bond memory b = rep.bondOf(avsV, address(weth));
        assertEq(b.available, 40 ether);
        assertEq(rep.totalBonded(address(weth)), 40 ether);
        assertEq(weth.balanceOf(address(rep)), 40 ether);
        assertEq(weth.balanceOf(address(vault)), vaultBefore + 10 ether);
        assertEq(weth.allowance(address(rep), address(vault)), 0);
        // The share price rises by exactly the penalty over the slashable set.
        IStakeVault.PoolView memory p1 = vault.getPool(pool);
        assertEq(p1.slashableAssets, p0.slashableAssets + 10 ether);
        assertEq(p1.totalShares, p0.totalShares);
        assertEq(p1.sharePrice, uint256(1010 ether + 1) * 1e18 / (1000 ether + 1));
        assertEq(vault.getAsset(address(weth)).tracked, vaultBefore + 10 ether);
        // The staker's redeemable value: 1,010 WETH less rounding.
        uint256 value = vault.positionsOf(alice)[0].value;
        assertApproxEqAbs(value, 1010 ether, 1);
        assertLe(value, 1010 ether);
        // ... and every compartment grows with the pool: avsV's backing is 20% of 1,010.
        assertApproxEqAbs(manager.slashableBacking(avsV, pool), 202 ether, 1);
    }

    /// @notice Escrowed withdrawals carried the risk: they share the compensation. A matured one did not: it is
    /// settled first and gets nothing.
    function test_veto_compensatesEscrowedWithdrawalsNotMaturedOnes() public {
        (, uint256 bobShares) = _deposit(bob, opA, weth, 1000 ether);
        uint256 matured = _queue(bob, pool, bobShares / 2); // 500 WETH, matures before the veto
        vm.warp(block.timestamp + ESCROW);
        uint256 escrowed = _queue(bob, pool, bobShares / 2); // 500 WETH, still in escrow at the veto
        _bond(avsV, weth, 50 ether);
        // Slashable set: alice 1,000 + bob's escrowed 500 = 1,500; avsV's backing 300; the request asks 150, so the
        // penalty is 15 WETH, shared by 1,500 WETH of shares: +1%.
        uint64 id = _requestV();
        _veto(id);
        assertEq(vault.getWithdrawal(matured).value, 500 ether);
        assertApproxEqAbs(vault.getWithdrawal(escrowed).value, 505 ether, 1);
        assertApproxEqAbs(vault.positionsOf(alice)[0].value, 1010 ether, 1);
        assertEq(rep.bondOf(avsV, address(weth)).available, 35 ether);
        vm.warp(block.timestamp + ESCROW);
        assertApproxEqAbs(_claim(bob, escrowed), 505 ether, 1);
        assertEq(_claim(bob, matured), 500 ether);
    }

    function test_veto_penaltyCappedByTheBond() public {
        _bond(avsV, weth, 4 ether);
        uint64 id = _requestV();
        vm.expectEmit(address(rep));
        emit IReputation.PenaltyPaid(avsV, id, pool, address(weth), 10 ether, 4 ether, 4 ether, 0);
        _veto(id);
        assertEq(rep.bondOf(avsV, address(weth)).available, 0);
        assertEq(vault.getPool(pool).slashableAssets, 1004 ether);
    }

    function test_veto_penaltyRoundsUpAgainstTheAVS() public {
        _bond(avsV, weth, 50 ether);
        // 0.1 · 0.3 · 200 WETH = 6 WETH exactly; 0.1 · (1/3) · 200 WETH = 6.666… → rounded up.
        uint64 id = _request(module, avsV, pool, 333_333_333_333_333_333);
        _veto(id);
        uint256 expected = (uint256(200 ether) * 333_333_333_333_333_333 * 0.1e18 + 1e36 - 1) / 1e36;
        assertEq(rep.bondOf(avsV, address(weth)).available, 50 ether - expected);
    }

    function test_veto_withoutBond_skipsThePenalty() public {
        uint64 id = _requestV();
        vm.expectEmit(address(rep));
        emit IReputation.PenaltySkipped(avsV, id, pool, IReputation.SkipReason.NoBond, 10 ether);
        _veto(id);
        assertEq(vault.getPool(pool).slashableAssets, 1000 ether);
        assertEq(rep.avsRecord(avsV).badWad, 3e18); // the fault counts anyway
    }

    function test_veto_bondInAnotherAsset_doesNotPay() public {
        _bond(avsV, usdc, 1_000_000e6);
        uint64 id = _requestV();
        vm.expectEmit(address(rep));
        emit IReputation.PenaltySkipped(avsV, id, pool, IReputation.SkipReason.NoBond, 10 ether);
        _veto(id);
        assertEq(rep.bondOf(avsV, address(usdc)).available, 1_000_000e6);
    }

    function test_veto_zeroPenalty_skipsWithNothingAsked() public {
        _qPenalty(0);
        _applyAfterDelay(IReputation.Parameter.Penalty, address(0));
        _bond(avsV, weth, 50 ether);
        uint64 id = _requestV();
        vm.expectEmit(address(rep));
        emit IReputation.PenaltySkipped(avsV, id, pool, IReputation.SkipReason.NothingAsked, 0);
        _veto(id);
        assertEq(rep.bondOf(avsV, address(weth)).available, 50 ether);
    }

    /// @notice The attack: the AVS queues its bond out, then files a wrongful request. The queued withdrawal still
    /// pays the penalty (available first, then queued), and cannot complete before the veto once held.
    function test_attack_bondQueuedBeforeTheRequest_stillPays() public {
        _bond(avsV, weth, 50 ether);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsV, address(weth), 50 ether);
        uint64 id = _requestV();
        vm.expectEmit(address(rep));
        emit IReputation.PenaltyPaid(avsV, id, pool, address(weth), 10 ether, 10 ether, 0, 10 ether);
        _veto(id);
        IReputation.Bond memory b = rep.bondOf(avsV, address(weth));
        assertEq(b.available, 0);
        assertEq(b.queued, 40 ether);
        assertEq(vault.getPool(pool).slashableAssets, 1010 ether);
        // What is left still leaves at its maturity.
        vm.warp(b.maturity);
        vm.prank(avsAdmin);
        rep.completeBondWithdrawal(avsV, address(weth), avsAdmin);
        assertEq(weth.balanceOf(avsAdmin), 40 ether);
    }

    /// @notice The timed attack: a request filed just before a queued withdrawal matures. The manager records at the
    /// request that the AVS's bond stays until the veto window closes, so the veto still reaches it.
    function test_attack_requestTimedAtMaturity_heldBondStillPays() public {
        _bond(avsV, weth, 50 ether);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsV, address(weth), 50 ether);
        uint48 maturity = rep.bondOf(avsV, address(weth)).maturity;
        vm.warp(maturity - 1);
        uint64 id = _requestV();
        uint40 executableAt = manager.getRequest(id).executableAt;
        assertEq(manager.getAVS(avsV).requestsVetoableUntil, executableAt);
        vm.warp(maturity);
        _err(abi.encodeWithSelector(IReputation.BondOnHold.selector, avsV, executableAt));
        vm.prank(avsAdmin);
        rep.completeBondWithdrawal(avsV, address(weth), avsAdmin);
        vm.warp(executableAt - 1);
        _veto(id);
        assertEq(rep.bondOf(avsV, address(weth)).queued, 40 ether);
        vm.warp(executableAt);
        vm.prank(avsAdmin);
        rep.completeBondWithdrawal(avsV, address(weth), avsAdmin);
        assertEq(weth.balanceOf(avsAdmin), 40 ether);
    }

    function test_veto_availableFirstThenQueued() public {
        _bond(avsV, weth, 100 ether);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsV, address(weth), 96 ether);
        uint64 id = _requestV();
        vm.expectEmit(address(rep));
        emit IReputation.PenaltyPaid(avsV, id, pool, address(weth), 10 ether, 10 ether, 4 ether, 6 ether);
        _veto(id);
        IReputation.Bond memory b = rep.bondOf(avsV, address(weth));
        assertEq(b.available, 0);
        assertEq(b.queued, 90 ether);
        assertGt(b.maturity, 0);
    }

    function test_veto_queuedUsedUp_clearsTheWithdrawal() public {
        _bond(avsV, weth, 8 ether);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsV, address(weth), 8 ether);
        _veto(_requestV());
        IReputation.Bond memory b = rep.bondOf(avsV, address(weth));
        assertEq(b.queued, 0);
        assertEq(b.maturity, 0);
        _err(abi.encodeWithSelector(IReputation.NoWithdrawalQueued.selector, avsV, address(weth)));
        vm.prank(avsAdmin);
        rep.completeBondWithdrawal(avsV, address(weth), avsAdmin);
    }

    /// @notice A near-empty pool is not paid: a penalty would inflate its share price. Nothing is taken.
    function test_veto_nearEmptyPool_isRefusedAndNothingTaken() public {
        (uint256 small,) = _deposit(bob, opB, usdc, 999_999); // 999,999 shares < 1e6
        _allocate(opB, small, avsV, ISO, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _bond(avsV, usdc, 1000e6);
        uint64 id = _request(module, avsV, small, 0.5e18);
        uint256 asked = 50_000; // ⌈0.1 · 0.5 · 999,999⌉ base units (0.05 USDC)
        vm.expectEmit(address(rep));
        emit IReputation.PenaltySkipped(avsV, id, small, IReputation.SkipReason.PoolTooSmall, asked);
        _veto(id);
        assertEq(rep.bondOf(avsV, address(usdc)).available, 1000e6);
        assertEq(usdc.balanceOf(address(rep)), 1000e6);
        assertEq(usdc.allowance(address(rep), address(vault)), 0);
        assertEq(vault.getPool(small).slashableAssets, 999_999);
        assertEq(uint8(manager.getRequest(id).status), uint8(IAllocationManager.RequestStatus.Vetoed));
    }

    function test_veto_vaultRefusal_skipsAndRollsBack() public {
        vm.mockCallRevert(address(vault), abi.encodeWithSelector(IStakeVault.compensate.selector), "refused");
        _bond(avsV, weth, 50 ether);
        uint64 id = _requestV();
        vm.expectEmit(address(rep));
        emit IReputation.PenaltySkipped(avsV, id, pool, IReputation.SkipReason.VaultRefused, 10 ether);
        _veto(id);
        assertEq(rep.bondOf(avsV, address(weth)).available, 50 ether);
        assertEq(rep.totalBonded(address(weth)), 50 ether);
        assertEq(weth.allowance(address(rep), address(vault)), 0);
        assertEq(uint8(manager.getRequest(id).status), uint8(IAllocationManager.RequestStatus.Vetoed));
    }

    /// @notice Too little gas for the payment reverts the whole veto; it never goes through without its penalty.
    function test_veto_outOfGas_revertsRatherThanSkipping() public {
        _bond(avsV, weth, 50 ether);
        uint64 id = _requestV();
        bool sawOutOfGas;
        for (uint256 g = 60_000; g < 300_000; g += 2000) {
            uint256 snap = vm.snapshotState();
            vm.prank(resolver);
            (bool ok, bytes memory ret) = address(manager).call{gas: g}(abi.encodeCall(manager.vetoSlash, (id)));
            if (ok) {
                // Through: the penalty was paid.
                assertEq(rep.bondOf(avsV, address(weth)).available, 40 ether, "a veto went through unpaid");
            } else if (ret.length >= 4 && bytes4(ret) == IReputationHooks.PenaltyOutOfGas.selector) {
                sawOutOfGas = true;
            }
            vm.revertToState(snap);
        }
        assertTrue(sawOutOfGas, "no gas limit hit the payment");
    }

    /// @notice A tier is paid in base shares minted at the base price into its collateral: its holders receive the
    /// penalty, the base's price and stakers are untouched.
    function test_veto_onATier_paysTheTierInBaseShares() public {
        vault.setTierAllowed(pool, true);
        _approveTierOperators(pool);
        vm.prank(alice);
        (uint256 tier,) = vault.depositToTier(pool, opB, 500 ether);
        _allocate(opB, tier, avsV, ISO, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        _bond(avsV, weth, 50 ether);
        // The tier is worth 500 WETH, all backing avsV: a 50% request asks 250, the penalty is 25 WETH.
        uint64 id = _request(module, avsV, tier, 0.5e18);
        IStakeVault.PoolView memory base0 = vault.getPool(pool);
        vm.expectEmit(address(vault));
        emit IStakeVault.Compensated(tier, address(rep), 25 ether, 25 ether * (1000 ether + 1) / (1000 ether + 1));
        _veto(id);
        IStakeVault.PoolView memory base1 = vault.getPool(pool);
        assertEq(base1.slashableAssets, base0.slashableAssets + 25 ether);
        assertGe(base1.sharePrice, base0.sharePrice);
        assertEq(vault.slashableAssets(tier), 525 ether);
        assertEq(vault.getPool(tier).slashableAssets, 525 ether); // base shares
        assertEq(rep.bondOf(avsV, address(weth)).available, 25 ether);
    }

    // ================================================================== reportExecutedSlash

    function test_reportExecutedSlash_chargesTheOperator() public {
        uint64 id = _requestV();
        vm.warp(block.timestamp + VETO_WINDOW);
        _execute(module, id);
        vm.expectEmit(address(rep));
        emit IReputation.OperatorFaultRecorded(
            opA, IReputation.FaultKind.ExecutedSlash, address(0), id, 1e18, 1e18, rep.epoch()
        );
        vm.prank(stranger);
        rep.reportExecutedSlash(id);
        IReputation.RecordView memory v = rep.operatorRecord(opA);
        assertEq(v.badWad, 1e18);
        assertTrue(v.tainted);
        assertTrue(rep.executedSlashReported(id));
        // The tainted checkpoint credits nothing.
        rep.checkpointOperator(opA, pool);
        assertEq(rep.operatorRecord(opA).goodWad, 0);
    }

    function test_RevertWhen_reportExecutedSlashBadInput() public {
        bytes32 before = _state();
        _err(abi.encodeWithSelector(IReputation.UnknownRequest.selector, 1));
        rep.reportExecutedSlash(1);
        uint64 id = _requestV();
        before = _state();
        _err(
            abi.encodeWithSelector(
                IReputation.RequestNotExecuted.selector, id, IAllocationManager.RequestStatus.Pending
            )
        );
        rep.reportExecutedSlash(id);
        assertEq(_state(), before);
        _veto(id);
        before = _state();
        _err(
            abi.encodeWithSelector(IReputation.RequestNotExecuted.selector, id, IAllocationManager.RequestStatus.Vetoed)
        );
        rep.reportExecutedSlash(id);
        assertEq(_state(), before);
        uint64 id2 = _requestV();
        vm.warp(block.timestamp + VETO_WINDOW);
        _execute(module, id2);
        rep.reportExecutedSlash(id2);
        uint256 bad = rep.operatorRecord(opA).badWad;
        _err(abi.encodeWithSelector(IReputation.AlreadyReported.selector, id2));
        rep.reportExecutedSlash(id2);
        assertEq(rep.operatorRecord(opA).badWad, bad);
    }

    // ================================================================== reportDoubleSign

    uint256 internal constant PK_X = 0xA11CE;

    function _doubleSignScene() internal returns (DoubleSignSlasher ds, address opX, uint256 xPool) {
        opX = makeAddr("operatorX");
        vm.prank(opX);
        registry.registerOperator("ipfs://operator-x", vm.addr(PK_X));
        ds = new DoubleSignSlasher(manager, vault, registry, "ipfs://double-sign", sink, 0.1e18);
        _ready(ds.avsId()); // its admin is the module itself
        (xPool,) = _deposit(alice, opX, weth, 100 ether);
        _allocate(opX, xPool, ds.avsId(), ISO, 0.5e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        bytes32 a = keccak256("a");
        bytes32 b = keccak256("b");
        (uint8 v1, bytes32 r1, bytes32 s1) = vm.sign(PK_X, ds.voteDigest(7, a));
        (uint8 v2, bytes32 r2, bytes32 s2) = vm.sign(PK_X, ds.voteDigest(7, b));
        uint256[] memory pools = new uint256[](1);
        pools[0] = xPool;
        ds.slashDoubleSign(opX, 7, a, abi.encodePacked(r1, s1, v1), b, abi.encodePacked(r2, s2, v2), pools);
        assertTrue(ds.slashed(opX, 7, xPool));
    }

    function test_reportDoubleSign_chargesTheOperator() public {
        (DoubleSignSlasher ds, address opX, uint256 xPool) = _doubleSignScene();
        _qModule(address(ds), true);
        _applyAfterDelay(IReputation.Parameter.TrustedModule, address(ds));
        assertTrue(rep.trustedModule(address(ds)));
        vm.expectEmit(address(rep));
        emit IReputation.OperatorFaultRecorded(opX, IReputation.FaultKind.DoubleSign, address(ds), 7, 5e18, 5e18, 2);
        vm.prank(stranger);
        rep.reportDoubleSign(address(ds), opX, 7, xPool);
        assertEq(rep.operatorRecord(opX).badWad, 5e18);
        assertTrue(rep.operatorRecord(opX).tainted);
        assertTrue(rep.doubleSignReported(address(ds), opX, 7));
    }

    function test_RevertWhen_reportDoubleSignBadInput() public {
        (DoubleSignSlasher ds, address opX, uint256 xPool) = _doubleSignScene();
        _err(abi.encodeWithSelector(IReputation.UntrustedModule.selector, address(ds)));
        rep.reportDoubleSign(address(ds), opX, 7, xPool);
        _qModule(address(ds), true);
        _applyAfterDelay(IReputation.Parameter.TrustedModule, address(ds));
        _err(abi.encodeWithSelector(IReputation.NotDoubleSigned.selector, address(ds), opX, 8, xPool));
        rep.reportDoubleSign(address(ds), opX, 8, xPool);
        _err(abi.encodeWithSelector(IReputation.NotDoubleSigned.selector, address(ds), opA, 7, xPool));
        rep.reportDoubleSign(address(ds), opA, 7, xPool);
        assertFalse(rep.operatorRecord(opX).seen);
        rep.reportDoubleSign(address(ds), opX, 7, xPool);
        _err(abi.encodeWithSelector(IReputation.DoubleSignAlreadyReported.selector, address(ds), opX, 7));
        rep.reportDoubleSign(address(ds), opX, 7, xPool);
        assertEq(rep.operatorRecord(opX).badWad, 5e18);
        // Untrusting the module stops its reports.
        _qModule(address(ds), false);
        _applyAfterDelay(IReputation.Parameter.TrustedModule, address(ds));
        assertFalse(rep.trustedModule(address(ds)));
    }

    /// @notice A fault on a fresh identity cannot push it below where a new identity starts: both rate 0.
    function test_faultOnAFreshIdentity_staysAtTheFloor() public {
        (DoubleSignSlasher ds, address opX, uint256 xPool) = _doubleSignScene();
        _qModule(address(ds), true);
        _applyAfterDelay(IReputation.Parameter.TrustedModule, address(ds));
        rep.reportDoubleSign(address(ds), opX, 7, xPool);
        rep.checkpointOperator(opX, xPool);
        assertEq(rep.operatorRating(opX), 0);
    }

    // ================================================================== bonds

    function test_depositBond_anyoneFunds() public {
        weth.mint(stranger, 5 ether);
        vm.startPrank(stranger);
        weth.approve(address(rep), 5 ether);
        vm.expectEmit(address(rep));
        emit IReputation.BondDeposited(avsV, address(weth), stranger, 5 ether, 5 ether);
        rep.depositBond(avsV, address(weth), 5 ether);
        vm.stopPrank();
        _bond(avsV, weth, 3 ether);
        IReputation.Bond memory b = rep.bondOf(avsV, address(weth));
        assertEq(b.available, 8 ether);
        assertEq(b.queued, 0);
        assertEq(rep.totalBonded(address(weth)), 8 ether);
        assertEq(weth.balanceOf(address(rep)), 8 ether);
    }

    function test_RevertWhen_depositBondBadInput() public {
        weth.mint(funder, 10 ether);
        vm.prank(funder);
        weth.approve(address(rep), 10 ether);
        bytes32 before = _state();
        vm.startPrank(funder);
        _err(abi.encodeWithSelector(IReputation.ZeroAmount.selector));
        rep.depositBond(avsV, address(weth), 0);
        _err(abi.encodeWithSelector(IReputation.UnknownAVS.selector, 0));
        rep.depositBond(0, address(weth), 1 ether);
        _err(abi.encodeWithSelector(IReputation.UnknownAVS.selector, 3));
        rep.depositBond(3, address(weth), 1 ether);
        _err(abi.encodeWithSelector(IReputation.AssetNotAllowed.selector, address(0xBEEF)));
        rep.depositBond(avsV, address(0xBEEF), 1 ether);
        address tierAsset = vault.tierAsset(pool);
        _err(abi.encodeWithSelector(IReputation.AssetNotAllowed.selector, tierAsset));
        rep.depositBond(avsV, tierAsset, 1 ether);
        _err(abi.encodeWithSelector(IReputation.AmountTooLarge.selector, uint256(type(uint128).max) + 1));
        rep.depositBond(avsV, address(weth), uint256(type(uint128).max) + 1);
        vm.stopPrank();
        assertEq(_state(), before);
    }

    function test_RevertWhen_depositBondFeeOnTransfer() public {
        FeeOnTransferERC20 fee = new FeeOnTransferERC20();
        vault.setAssetAllowed(address(fee), true);
        fee.mint(funder, 100 ether);
        vm.startPrank(funder);
        fee.approve(address(rep), 100 ether);
        _err(abi.encodeWithSelector(IReputation.FeeOnTransferDetected.selector, address(fee), 100 ether, 99 ether));
        rep.depositBond(avsV, address(fee), 100 ether);
        vm.stopPrank();
        assertEq(rep.bondOf(avsV, address(fee)).available, 0);
    }

    function test_RevertWhen_depositBondAfterNegativeRebase() public {
        RebasingERC20 reb = new RebasingERC20();
        vault.setAssetAllowed(address(reb), true);
        reb.mint(funder, 100 ether);
        vm.startPrank(funder);
        reb.approve(address(rep), 100 ether);
        rep.depositBond(avsV, address(reb), 50 ether);
        reb.rebase(0.9e18);
        _err(abi.encodeWithSelector(IReputation.RebasingDetected.selector, address(reb), 50 ether, 45 ether));
        rep.depositBond(avsV, address(reb), 10 ether);
        vm.stopPrank();
    }

    function test_queueBondWithdrawal() public {
        _bond(avsV, weth, 10 ether);
        uint48 maturity = uint48(block.timestamp) + BOND_DELAY;
        vm.expectEmit(address(rep));
        emit IReputation.BondWithdrawalQueued(avsV, address(weth), 6 ether, maturity);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsV, address(weth), 6 ether);
        IReputation.Bond memory b = rep.bondOf(avsV, address(weth));
        assertEq(b.available, 4 ether);
        assertEq(b.queued, 6 ether);
        assertEq(b.maturity, maturity);
        assertEq(rep.totalBonded(address(weth)), 10 ether); // still held
    }

    function test_RevertWhen_queueBondWithdrawalBadInput() public {
        _bond(avsV, weth, 10 ether);
        bytes32 before = _state();
        _err(abi.encodeWithSelector(IReputation.NotAVSAdmin.selector, avsV, stranger));
        vm.prank(stranger);
        rep.queueBondWithdrawal(avsV, address(weth), 1 ether);
        _err(abi.encodeWithSelector(IAllocationManager.UnknownAVS.selector, 9));
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(9, address(weth), 1 ether);
        _err(abi.encodeWithSelector(IReputation.ZeroAmount.selector));
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsV, address(weth), 0);
        _err(abi.encodeWithSelector(IReputation.InsufficientBond.selector, 10 ether, 11 ether));
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsV, address(weth), 11 ether);
        assertEq(_state(), before);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsV, address(weth), 4 ether);
        before = _state();
        uint48 maturity = uint48(block.timestamp) + BOND_DELAY;
        _err(
            abi.encodeWithSelector(IReputation.WithdrawalAlreadyQueued.selector, avsV, address(weth), 4 ether, maturity)
        );
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsV, address(weth), 1 ether);
        assertEq(_state(), before);
    }

    function test_completeBondWithdrawal() public {
        _bond(avsV, weth, 10 ether);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsV, address(weth), 6 ether);
        vm.warp(block.timestamp + BOND_DELAY);
        vm.expectEmit(address(rep));
        emit IReputation.BondWithdrawalCompleted(avsV, address(weth), bob, 6 ether);
        vm.prank(avsAdmin);
        rep.completeBondWithdrawal(avsV, address(weth), bob);
        assertEq(weth.balanceOf(bob), 6 ether);
        IReputation.Bond memory b = rep.bondOf(avsV, address(weth));
        assertEq(b.available, 4 ether);
        assertEq(b.queued, 0);
        assertEq(b.maturity, 0);
        assertEq(rep.totalBonded(address(weth)), 4 ether);
        assertEq(weth.balanceOf(address(rep)), 4 ether);
        // A new withdrawal can be queued.
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsV, address(weth), 4 ether);
    }

    function test_RevertWhen_completeBondWithdrawalBadInput() public {
        _bond(avsV, weth, 10 ether);
        bytes32 before = _state();
        _err(abi.encodeWithSelector(IReputation.NoWithdrawalQueued.selector, avsV, address(weth)));
        vm.prank(avsAdmin);
        rep.completeBondWithdrawal(avsV, address(weth), bob);
        assertEq(_state(), before);
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsV, address(weth), 6 ether);
        uint48 maturity = uint48(block.timestamp) + BOND_DELAY;
        vm.warp(maturity - 1);
        before = _state();
        _err(abi.encodeWithSelector(IReputation.BondNotMatured.selector, maturity));
        vm.prank(avsAdmin);
        rep.completeBondWithdrawal(avsV, address(weth), bob);
        vm.warp(maturity);
        _err(abi.encodeWithSelector(IReputation.NotAVSAdmin.selector, avsV, stranger));
        vm.prank(stranger);
        rep.completeBondWithdrawal(avsV, address(weth), stranger);
        _err(abi.encodeWithSelector(IReputation.ZeroAddress.selector));
        vm.prank(avsAdmin);
        rep.completeBondWithdrawal(avsV, address(weth), address(0));
        assertEq(_state(), before);
    }

    /// @notice The manager's record of the AVS's requests holds its bond: only the AVS's own requests raise it,
    /// each to its `executableAt`, never lower.
    function test_requestsHoldTheBond_onlyTheirOwnAVS_neverLower() public {
        uint64 id = _requestV();
        uint40 executableAt = manager.getRequest(id).executableAt;
        assertEq(manager.getAVS(avsV).requestsVetoableUntil, executableAt);
        assertEq(manager.getAVS(avsI).requestsVetoableUntil, 0, "another AVS's request holds nothing");
        vm.warp(block.timestamp + 1 hours);
        uint64 id2 = _requestV();
        assertEq(manager.getAVS(avsV).requestsVetoableUntil, manager.getRequest(id2).executableAt);
        assertGt(manager.getRequest(id2).executableAt, executableAt);
    }

    // ================================================================== governance

    function test_parameterChange_waitsForTheDelay() public {
        uint256 value = uint256(0.9e18) | uint256(2.5e18) << 64 | uint256(0.1e18) << 128;
        uint48 at = uint48(block.timestamp) + 7 days;
        vm.expectEmit(address(rep));
        emit IReputation.ChangeQueued(IReputation.Parameter.Rating, address(0), value, at);
        _qRating(0.9e18, 2.5e18, 0.1e18);
        IReputation.PendingChange memory c = rep.pendingChange(uint8(IReputation.Parameter.Rating), address(0));
        assertEq(c.value, value);
        assertEq(c.effectiveAt, at);
        vm.warp(at - 1);
        _err(abi.encodeWithSelector(IReputation.ChangeNotReady.selector, IReputation.Parameter.Rating, address(0), at));
        rep.applyChange(uint8(IReputation.Parameter.Rating), address(0));
        assertEq(rep.ratingParams().forgetWad, 0.95e18);
        vm.warp(at);
        vm.expectEmit(address(rep));
        emit IReputation.ChangeApplied(IReputation.Parameter.Rating, address(0), value);
        vm.prank(stranger); // anyone applies
        rep.applyChange(uint8(IReputation.Parameter.Rating), address(0));
        BetaReputation.Params memory q = rep.ratingParams();
        assertEq(q.forgetWad, 0.9e18);
        assertEq(q.zWad, 2.5e18);
        assertEq(q.maxStepWad, 0.1e18);
        assertEq(rep.pendingChange(uint8(IReputation.Parameter.Rating), address(0)).effectiveAt, 0);
        _err(abi.encodeWithSelector(IReputation.NoChangeQueued.selector, IReputation.Parameter.Rating, address(0)));
        rep.applyChange(uint8(IReputation.Parameter.Rating), address(0));
    }

    function test_parameterChange_ownerCancels() public {
        _qPenalty(0.2e18);
        _err(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        rep.cancelChange(uint8(IReputation.Parameter.Penalty), address(0));
        vm.expectEmit(address(rep));
        emit IReputation.ChangeCancelled(IReputation.Parameter.Penalty, address(0), 0.2e18);
        rep.cancelChange(uint8(IReputation.Parameter.Penalty), address(0));
        vm.warp(block.timestamp + 7 days);
        _err(abi.encodeWithSelector(IReputation.NoChangeQueued.selector, IReputation.Parameter.Penalty, address(0)));
        rep.applyChange(uint8(IReputation.Parameter.Penalty), address(0));
        _err(abi.encodeWithSelector(IReputation.NoChangeQueued.selector, IReputation.Parameter.Penalty, address(0)));
        rep.cancelChange(uint8(IReputation.Parameter.Penalty), address(0));
        assertEq(rep.penaltyWad(), 0.1e18);
    }

    function test_RevertWhen_parameterChangeAlreadyQueued() public {
        _qPenalty(0.2e18);
        uint48 at = uint48(block.timestamp) + 7 days;
        _err(
            abi.encodeWithSelector(
                IReputation.ChangeAlreadyQueued.selector, IReputation.Parameter.Penalty, address(0), at
            )
        );
        _qPenalty(0.3e18);
        assertEq(rep.pendingChange(uint8(IReputation.Parameter.Penalty), address(0)).value, 0.2e18);
    }

    function test_RevertWhen_parameterChangeNotOwner() public {
        bytes memory err = abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger);
        vm.startPrank(stranger);
        _err(err);
        _qRating(0.95e18, 2e18, 0.05e18);
        _err(err);
        _qFault(3e18, 5e18, 1e18);
        _err(err);
        _qRisk(3e18, 1e18);
        _err(err);
        _qBond(0.5e18, 0.05e18);
        _err(err);
        _qPenalty(0.1e18);
        _err(err);
        _qUnit(address(weth), 1 ether);
        _err(err);
        _qModule(address(1), true);
        vm.stopPrank();
    }

    function test_RevertWhen_parameterOutOfBounds() public {
        _err(abi.encodeWithSelector(BetaReputation.ForgetFactorOutOfBounds.selector, 0.4e18, 0.5e18, 0.999e18));
        _qRating(0.4e18, 2e18, 0.05e18);
        _err(abi.encodeWithSelector(BetaReputation.ConfidenceOutOfBounds.selector, 1.7e18, 1.75e18, 3e18));
        _qRating(0.95e18, 1.7e18, 0.05e18);
        _err(abi.encodeWithSelector(BetaReputation.MaxStepOutOfBounds.selector, 0.3e18, 0.01e18, 0.25e18));
        _qRating(0.95e18, 2e18, 0.3e18);

        _err(abi.encodeWithSelector(IReputation.FaultWeightOutOfBounds.selector, 0.4e18, 0.5e18, 10e18));
        _qFault(0.4e18, 5e18, 1e18);
        _err(abi.encodeWithSelector(IReputation.FaultWeightOutOfBounds.selector, 11e18, 0.5e18, 10e18));
        _qFault(3e18, 11e18, 1e18);
        _err(abi.encodeWithSelector(IReputation.FaultWeightOutOfBounds.selector, 0, 0.5e18, 10e18));
        _qFault(3e18, 5e18, 0);

        _err(abi.encodeWithSelector(IReputation.RiskWeightsOutOfBounds.selector, 3e18, 0.9e18));
        _qRisk(3e18, 0.9e18); // top below 1×
        _err(abi.encodeWithSelector(IReputation.RiskWeightsOutOfBounds.selector, 5.1e18, 1e18));
        _qRisk(5.1e18, 1e18); // floor above 5×
        _err(abi.encodeWithSelector(IReputation.RiskWeightsOutOfBounds.selector, 1.5e18, 2e18));
        _qRisk(1.5e18, 2e18); // floor below top

        _err(abi.encodeWithSelector(IReputation.BondFractionsOutOfBounds.selector, 1.1e18, 0.05e18));
        _qBond(1.1e18, 0.05e18);
        _err(abi.encodeWithSelector(IReputation.BondFractionsOutOfBounds.selector, 0.1e18, 0.2e18));
        _qBond(0.1e18, 0.2e18);

        _err(abi.encodeWithSelector(IReputation.PenaltyOutOfBounds.selector, 1e18 + 1, 1e18));
        _qPenalty(1e18 + 1);

        IReputation.Parameter unitKind = IReputation.Parameter.EvidenceUnit;
        IReputation.Parameter moduleKind = IReputation.Parameter.TrustedModule;
        _err(abi.encodeWithSelector(IReputation.InvalidTarget.selector, unitKind, address(0)));
        _qUnit(address(0), 1);
        uint256 big = uint256(type(uint128).max) + 1;
        _err(abi.encodeWithSelector(IReputation.ValueOutOfBounds.selector, unitKind, big));
        _qUnit(address(weth), big);
        _err(abi.encodeWithSelector(IReputation.InvalidTarget.selector, moduleKind, address(0)));
        _qModule(address(0), true);
        _err(abi.encodeWithSelector(IReputation.ValueOutOfBounds.selector, moduleKind, 2));
        rep.queueChange(uint8(moduleKind), address(1), 2);
        // A target where none belongs, and bits above a kind's fields: refused, never truncated.
        _err(abi.encodeWithSelector(IReputation.InvalidTarget.selector, IReputation.Parameter.Penalty, address(weth)));
        rep.queueChange(uint8(IReputation.Parameter.Penalty), address(weth), 0.1e18);
        uint256 rating = uint256(0.95e18) | uint256(2e18) << 64 | uint256(0.05e18) << 128 | 1 << 192;
        _err(abi.encodeWithSelector(IReputation.ValueOutOfBounds.selector, IReputation.Parameter.Rating, rating));
        rep.queueChange(uint8(IReputation.Parameter.Rating), address(0), rating);
        uint256 risk = uint256(3e18) | uint256(1e18) << 64 | 1 << 128;
        _err(abi.encodeWithSelector(IReputation.ValueOutOfBounds.selector, IReputation.Parameter.RiskWeights, risk));
        rep.queueChange(uint8(IReputation.Parameter.RiskWeights), address(0), risk);

        // Nothing was queued.
        for (uint8 k; k <= uint8(IReputation.Parameter.TrustedModule); ++k) {
            assertEq(rep.pendingChange(k, address(0)).effectiveAt, 0);
        }
        assertEq(rep.pendingChange(uint8(IReputation.Parameter.EvidenceUnit), address(weth)).effectiveAt, 0);
    }

    function test_parameterChange_boundsAreInclusive_andApply() public {
        _qRating(0.999e18, 3e18, 0.25e18);
        _qFault(0.5e18, 10e18, 10e18);
        _qRisk(5e18, 1e18);
        _qBond(1e18, 1e18);
        _qPenalty(1e18);
        _qUnit(address(weth), type(uint128).max);
        vm.warp(block.timestamp + 7 days);
        rep.applyChange(uint8(IReputation.Parameter.Rating), address(0));
        rep.applyChange(uint8(IReputation.Parameter.FaultWeights), address(0));
        rep.applyChange(uint8(IReputation.Parameter.RiskWeights), address(0));
        rep.applyChange(uint8(IReputation.Parameter.BondFractions), address(0));
        rep.applyChange(uint8(IReputation.Parameter.Penalty), address(0));
        rep.applyChange(uint8(IReputation.Parameter.EvidenceUnit), address(weth));
        assertEq(rep.ratingParams().forgetWad, 0.999e18);
        assertEq(rep.vetoBadWad(), 0.5e18);
        assertEq(rep.doubleSignBadWad(), 10e18);
        assertEq(rep.executedSlashBadWad(), 10e18);
        assertEq(rep.riskWeightFloorWad(), 5e18);
        assertEq(rep.riskWeightTopWad(), 1e18);
        assertEq(rep.bondFractionFloorWad(), 1e18);
        assertEq(rep.bondFractionTopWad(), 1e18);
        assertEq(rep.penaltyWad(), 1e18);
        assertEq(rep.evidenceUnit(address(weth)), type(uint128).max);
        assertEq(rep.riskWeightWad(avsV), 5e18);
        assertEq(rep.requiredBond(avsV, 7 ether), 7 ether);
    }

    // ================================================================== views

    function test_requiredBond_roundsUp() public {
        assertEq(rep.requiredBond(avsV, 3), 2); // 50% of 3 wei, rounded up
        assertEq(rep.requiredBond(avsV, 200 ether), 100 ether);
        rep.checkpointAVS(avsV, pool); // rating 0.05: fraction 0.5 − 0.45 · 0.05 = 0.4775
        assertEq(rep.requiredBondFractionWad(avsV), 0.4775e18);
        assertEq(rep.requiredBond(avsV, 1), 1);
        assertEq(rep.requiredBond(avsV, 200 ether), 95.5 ether);
        assertEq(rep.riskWeightWad(avsV), 2.9e18);
    }

    function test_weightedBacking() public {
        uint256[] memory ids = new uint256[](1);
        ids[0] = pool;
        (uint256 raw, uint256 weighted) = rep.weightedBacking(avsI, ids);
        assertEq(raw, 500 ether);
        assertEq(weighted, 0); // operator A is at the floor
        rep.checkpointOperator(opA, pool); // rating 0.05
        (raw, weighted) = rep.weightedBacking(avsI, ids);
        assertEq(weighted, 25 ether);
        // A second pool of another operator, still at the floor.
        (uint256 poolB,) = _deposit(bob, opB, weth, 400 ether);
        _allocate(opB, poolB, avsI, SHARED, 1e18);
        vm.warp(block.timestamp + ALLOC_DELAY);
        ids = new uint256[](2);
        (ids[0], ids[1]) = (pool, poolB);
        (raw, weighted) = rep.weightedBacking(avsI, ids);
        assertEq(raw, 900 ether);
        assertEq(weighted, 25 ether);
    }

    function test_RevertWhen_weightedBackingBadInput() public {
        uint256[] memory ids = new uint256[](65);
        _err(abi.encodeWithSelector(IReputation.TooManyPools.selector, 65, 64));
        rep.weightedBacking(avsI, ids);
        ids = new uint256[](2);
        (ids[0], ids[1]) = (pool, pool);
        _err(abi.encodeWithSelector(IReputation.PoolIdsNotAscending.selector, 1));
        rep.weightedBacking(avsI, ids);
        (ids[0], ids[1]) = (pool, 99);
        _err(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 99));
        rep.weightedBacking(avsI, ids);
    }

    // ================================================================== refreshStanding (the manager's gate)

    function _pools1() internal view returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = pool;
    }

    function _none() internal pure returns (uint256[] memory) {
        return new uint256[](0);
    }

    /// @notice With reputation on, a new AVS is bond-short in the manager: it receives nothing until its standing is
    /// refreshed, at the floor's risk weight (re-registering never pays).
    function test_newAVS_receivesNothingUntilItsStandingIsRefreshed() public {
        uint32 fresh = _instantAVS(module2, sink);
        assertTrue(manager.getAVS(fresh).bondShort);
        vm.startPrank(opA);
        manager.optIn(fresh);
        _err(abi.encodeWithSelector(IAllocationManager.BondBelowRequirement.selector, fresh));
        manager.allocate(pool, fresh, SHARED, 0.1e18);
        vm.stopPrank();
        vm.expectEmit(address(rep));
        emit IReputation.StandingRefreshed(fresh, avsAdmin, 30, false);
        vm.expectEmit(address(manager));
        emit IAllocationManager.StandingSet(fresh, 30, false);
        vm.prank(avsAdmin);
        rep.refreshStanding(fresh, _none());
        assertEq(manager.getAVS(fresh).riskWeightTenths, 30);
        vm.prank(opA);
        manager.allocate(pool, fresh, SHARED, 0.1e18);
    }

    /// @notice The bond must cover the required fraction (50% at the floor) of the measured backing, in the pools'
    /// asset, from the available bond.
    function test_refreshStanding_bondShortUntilTheBondCovers() public {
        // avsV: 200 WETH of backing in `pool` → 100 WETH of bond required at the floor.
        _bond(avsV, weth, 100 ether - 1);
        vm.expectEmit(address(rep));
        emit IReputation.BackingMeasured(avsV, pool, address(weth), 200 ether, 200 ether);
        vm.expectEmit(address(rep));
        emit IReputation.BondShortChanged(avsV, address(weth), true, 100 ether);
        vm.expectEmit(address(rep));
        emit IReputation.StandingRefreshed(avsV, stranger, 30, true);
        vm.prank(stranger); // anyone
        rep.refreshStanding(avsV, _pools1());
        assertTrue(manager.getAVS(avsV).bondShort);
        assertEq(rep.measuredBacking(avsV, pool), 200 ether);
        assertEq(rep.assetStanding(avsV, address(weth)).backing, 200 ether);
        assertTrue(rep.assetStanding(avsV, address(weth)).short);
        assertEq(rep.shortAssets(avsV), 1);
        _bond(avsV, usdc, 1_000_000e6); // another asset does not cover WETH backing
        rep.refreshStanding(avsV, _pools1());
        assertTrue(manager.getAVS(avsV).bondShort);
        _bond(avsV, weth, 1);
        vm.expectEmit(address(rep));
        emit IReputation.BondShortChanged(avsV, address(weth), false, 100 ether);
        rep.refreshStanding(avsV, _pools1());
        assertFalse(manager.getAVS(avsV).bondShort);
        assertEq(rep.shortAssets(avsV), 0);
        // A queued withdrawal is on its way out: it does not count.
        vm.prank(avsAdmin);
        rep.queueBondWithdrawal(avsV, address(weth), 1);
        rep.refreshStanding(avsV, _pools1());
        assertTrue(manager.getAVS(avsV).bondShort);
    }

    /// @notice Measures stand alone (finding F1): the AVS can neither hide a measured pool (leaving it out changes
    /// nothing) nor fill anything that keeps a watcher from measuring another; a measure only records what the manager
    /// reports, so one drops only when the backing does; a pool measured twice in a call counts once.
    function test_refreshStanding_measuresStandAlone() public {
        rep.refreshStanding(avsV, _pools1()); // a watcher measures `pool`: short (no bond)
        (uint256 other,) = _deposit(bob, opB, weth, 10 ether); // avsV has nothing there
        vm.prank(avsAdmin);
        rep.refreshStanding(avsV, _none()); // leaving the pool out
        assertTrue(manager.getAVS(avsV).bondShort);
        uint256[] memory three = new uint256[](3);
        (three[0], three[1], three[2]) = (other, pool, pool);
        vm.prank(avsAdmin);
        rep.refreshStanding(avsV, three); // a pool without backing measures 0; `pool` twice counts once
        assertEq(rep.measuredBacking(avsV, other), 0);
        assertEq(rep.assetStanding(avsV, address(weth)).backing, 200 ether);
        assertTrue(manager.getAVS(avsV).bondShort);
        // Once avsV has nothing left in `pool` (a deallocation past its delay), a measure brings the sum to 0.
        vm.prank(opA);
        manager.allocate(pool, avsV, ISO, 0);
        vm.warp(block.timestamp + DEALLOC_DELAY);
        vm.expectEmit(address(rep));
        emit IReputation.BackingMeasured(avsV, pool, address(weth), 0, 0);
        vm.prank(avsAdmin);
        rep.refreshStanding(avsV, _pools1());
        assertFalse(manager.getAVS(avsV).bondShort);
        assertEq(rep.assetStanding(avsV, address(weth)).backing, 0);
    }

    /// @notice A rating change re-judges an asset once one of its pools is measured again: better-rated, the AVS
    /// clears its shortfall with the bond it has; the other assets keep their verdict until then.
    function test_refreshStanding_ratingChangeRejudgesMeasuredAssets() public {
        // avsI: shared 0.5 of 1,000 WETH = 500 WETH of backing → 250 WETH at the floor (50%).
        _bond(avsI, weth, 249 ether);
        rep.refreshStanding(avsI, _pools1());
        assertTrue(manager.getAVS(avsI).bondShort);
        rep.checkpointAVS(avsI, pool); // rating 0.05: the fraction falls to 47.75%, 238.75 WETH
        rep.refreshStanding(avsI, _none()); // no asset measured: the verdict stands
        assertTrue(manager.getAVS(avsI).bondShort);
        assertEq(rep.requiredBond(avsI, 500 ether), 238.75 ether);
        rep.refreshStanding(avsI, _pools1());
        assertFalse(manager.getAVS(avsI).bondShort);
    }

    /// @notice The risk weight follows the rating, rounded up to the manager's tenths (the harsh end).
    function test_refreshStanding_pushesTheRatingsRiskWeight() public {
        rep.checkpointAVS(avsI, pool); // rating 0.05: 2.9×
        assertEq(rep.riskWeightTenths(avsI), 29);
        rep.refreshStanding(avsI, _none());
        assertEq(manager.getAVS(avsI).riskWeightTenths, 29);
        _nextEpoch();
        vm.prank(avsAdmin);
        rep.checkpointAVS(avsI, pool); // 0.1: 2.8×
        vm.prank(stranger); // anyone pushes the weight
        rep.refreshStanding(avsI, _none());
        assertEq(manager.getAVS(avsI).riskWeightTenths, 28);
        // With the top at 1.0002×, a rating of 0.1 weighs 2.80002×: rounded up to 29 tenths, never down.
        _qRisk(3e18, 1e18 + 2e14);
        _applyAfterDelay(IReputation.Parameter.RiskWeights, address(0));
        assertEq(rep.riskWeightWad(avsI), 3e18 - Math.mulDiv(2e18 - 2e14, 0.1e18, 1e18));
        assertEq(rep.riskWeightTenths(avsI), 29);
    }

    function test_RevertWhen_refreshStandingBadInput() public {
        bytes32 before = _state();
        uint256[] memory ids = new uint256[](65);
        _err(abi.encodeWithSelector(IReputation.TooManyPools.selector, 65, 64));
        rep.refreshStanding(avsV, ids);
        ids = new uint256[](2);
        (ids[0], ids[1]) = (pool, 99);
        _err(abi.encodeWithSelector(IStakeVault.UnknownPool.selector, 99));
        rep.refreshStanding(avsV, ids);
        _err(abi.encodeWithSelector(IAllocationManager.UnknownAVS.selector, 9));
        rep.refreshStanding(9, _none());
        assertEq(_state(), before);
    }

    /// @notice The manager's reputation and the vault's compensator are wired once (finding F4): neither can be
    /// detached nor swapped, so a pending request's veto always reaches this contract and pays its penalty.
    function test_wiredOnce_neitherDetachedNorSwapped() public {
        _err(abi.encodeWithSelector(IAllocationManager.ReputationAlreadySet.selector, address(rep)));
        manager.setReputation(stranger);
        _err(abi.encodeWithSelector(IAllocationManager.ZeroAddress.selector));
        manager.setReputation(address(0));
        _err(abi.encodeWithSelector(IStakeVault.CompensatorAlreadySet.selector, address(rep)));
        vault.setCompensator(stranger);
        assertEq(address(manager.reputation()), address(rep));
        assertEq(vault.compensator(), address(rep));
    }

    /// @notice A manager without a reputation layer (a deployment that never wired one) still vetoes.
    function test_vetoWithoutReputation_stillWorks() public {
        _withoutReputation();
        _bond(avsV, weth, 50 ether);
        _veto(_requestV());
        assertEq(rep.avsRecord(avsV).badWad, 0);
        assertEq(rep.bondOf(avsV, address(weth)).available, 50 ether);
    }
}
