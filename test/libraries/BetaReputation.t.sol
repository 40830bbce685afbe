// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {BetaReputation} from "../../contracts/libraries/BetaReputation.sol";

/// @dev Exposes the library's internal functions as external calls, so that `vm.expectRevert` sees their reverts.
contract BetaReputationHarness {
    function validate(BetaReputation.Params memory params) external pure {
        BetaReputation.validate(params);
    }

    function cleanEpochEvidence(uint256 valueAtRisk, uint256 evidenceUnit) external pure returns (uint256) {
        return BetaReputation.cleanEpochEvidence(valueAtRisk, evidenceUnit);
    }

    function decayGoodEvidence(uint256 evidenceWad, uint256 epochs, uint64 forgetWad) external pure returns (uint256) {
        return BetaReputation.decayGoodEvidence(evidenceWad, epochs, forgetWad);
    }

    function decayBadEvidence(uint256 evidenceWad, uint256 epochs, uint64 forgetWad) external pure returns (uint256) {
        return BetaReputation.decayBadEvidence(evidenceWad, epochs, forgetWad);
    }

    function mean(uint256 goodWad, uint256 badWad) external pure returns (uint256) {
        return BetaReputation.mean(goodWad, badWad);
    }

    function lowerBound(uint256 goodWad, uint256 badWad, uint64 zWad) external pure returns (uint256) {
        return BetaReputation.lowerBound(goodWad, badWad, zWad);
    }

    function step(uint256 previousWad, uint256 targetWad, uint64 maxStepWad) external pure returns (uint256) {
        return BetaReputation.step(previousWad, targetWad, maxStepWad);
    }

    function interpolate(uint256 ratingWad, uint256 atFloor, uint256 atTop) external pure returns (uint256) {
        return BetaReputation.interpolate(ratingWad, atFloor, atTop);
    }
}

/// @notice BetaReputation: known values against exact mathematics, the worked table of `docs/reputation.md`, and
/// the properties the rating promises, fuzzed.
/// @dev Every expected number is computed outside Solidity by `script/reputation_table.py`: `--known` gives the
/// exact values (`fractions`, a 100-digit `decimal` square root), `--solidity` the worked table.
contract BetaReputationTest is Test {
    uint256 internal constant WAD = 1e18;
    /// @dev The evidence the monotonicity properties are fuzzed over: a billion units, far beyond any reachable
    /// record (a flawless record tends to 1 / (1 − λ) ≤ 1,000 units).
    uint256 internal constant MAX_FUZZ_EVIDENCE = 1e27;

    // The evidence weights and the mappings of docs/reputation.md, as the worked table uses them.
    uint256 internal constant CLEAN_EPOCH_GOOD = 1e18;
    uint256 internal constant VETOED_REQUEST_BAD = 3e18;
    uint256 internal constant RISK_WEIGHT_AT_FLOOR = 3e18;
    uint256 internal constant RISK_WEIGHT_AT_TOP = 1e18;
    uint256 internal constant BOND_AT_FLOOR = 0.5e18;
    uint256 internal constant BOND_AT_TOP = 0.05e18;

    BetaReputationHarness internal lib;

    function setUp() public {
        lib = new BetaReputationHarness();
    }

    // ================================================================== parameters

    function test_defaults_areValidAndDocumented() public view {
        BetaReputation.Params memory params = BetaReputation.defaultParams();
        assertEq(params.forgetWad, 0.95e18);
        assertEq(params.zWad, 2e18);
        assertEq(params.maxStepWad, 0.05e18);
        lib.validate(params);
    }

    function test_validate_acceptsEveryBound() public view {
        lib.validate(_params(BetaReputation.MIN_FORGET_WAD, BetaReputation.MIN_Z_WAD, BetaReputation.MIN_MAX_STEP_WAD));
        lib.validate(_params(BetaReputation.MAX_FORGET_WAD, BetaReputation.MAX_Z_WAD, BetaReputation.MAX_MAX_STEP_WAD));
    }

    function test_validate_rejectsJustOutside() public {
        _expectForgetRevert(BetaReputation.MIN_FORGET_WAD - 1);
        lib.validate(_params(BetaReputation.MIN_FORGET_WAD - 1, 2e18, 0.05e18));
        _expectForgetRevert(BetaReputation.MAX_FORGET_WAD + 1);
        lib.validate(_params(BetaReputation.MAX_FORGET_WAD + 1, 2e18, 0.05e18));
        _expectForgetRevert(1e18); // λ = 1 never forgets
        lib.validate(_params(1e18, 2e18, 0.05e18));
        _expectZRevert(BetaReputation.MIN_Z_WAD - 1);
        lib.validate(_params(0.95e18, BetaReputation.MIN_Z_WAD - 1, 0.05e18));
        _expectZRevert(1.645e18); // 95% one-sided: a fresh identity would rate 0.025, above the floor
        lib.validate(_params(0.95e18, 1.645e18, 0.05e18));
        _expectZRevert(BetaReputation.MAX_Z_WAD + 1);
        lib.validate(_params(0.95e18, BetaReputation.MAX_Z_WAD + 1, 0.05e18));
        _expectStepRevert(0);
        lib.validate(_params(0.95e18, 2e18, 0));
        _expectStepRevert(BetaReputation.MIN_MAX_STEP_WAD - 1);
        lib.validate(_params(0.95e18, 2e18, BetaReputation.MIN_MAX_STEP_WAD - 1));
        _expectStepRevert(BetaReputation.MAX_MAX_STEP_WAD + 1);
        lib.validate(_params(0.95e18, 2e18, BetaReputation.MAX_MAX_STEP_WAD + 1));
    }

    /// @dev Each function checks the parameter it uses, so a caller that skips `validate` still cannot misuse it.
    function test_functions_checkTheirOwnParameter() public {
        _expectForgetRevert(1e18);
        lib.decayGoodEvidence(1e18, 1, 1e18);
        _expectForgetRevert(0.4e18);
        lib.decayBadEvidence(1e18, 1, 0.4e18);
        _expectZRevert(1.645e18);
        lib.lowerBound(0, 0, 1.645e18);
        _expectStepRevert(0.5e18);
        lib.step(0, 1e18, 0.5e18);
    }

    /// @dev The boundary of MIN_Z_WAD: at z = √3 a fresh identity's bound is exactly 0, below it positive.
    function test_minZ_isAboveRootThree() public pure {
        // 1.7320508075688772 < √3 < 1.7320508075688773
        assertGt(uint256(BetaReputation.MIN_Z_WAD), 1.7320508075688773e18);
    }

    // ================================================================== evidence

    function test_cleanEpochEvidence_knownValues() public view {
        assertEq(lib.cleanEpochEvidence(0, 100e18), 0);
        assertEq(lib.cleanEpochEvidence(25e18, 100e18), 0.25e18);
        assertEq(lib.cleanEpochEvidence(100e18, 100e18), 1e18);
        assertEq(lib.cleanEpochEvidence(1000e18, 100e18), 1e18); // capped: more stake is not more evidence
        assertEq(lib.cleanEpochEvidence(1, 3), 333_333_333_333_333_333); // 1/3 rounded down
        assertEq(lib.cleanEpochEvidence(1, 100e18), 0); // a wei at risk earns nothing
    }

    function test_cleanEpochEvidence_rejectsZeroUnit() public {
        vm.expectRevert(BetaReputation.ZeroEvidenceUnit.selector);
        lib.cleanEpochEvidence(1, 0);
    }

    /// @dev Exact values (`--known`): evidence·λ^k as a fraction, its floor and ceiling. Good evidence must be the
    /// floor or at most 1 wei below it; bad evidence the ceiling or at most 1 wei above it.
    function test_decay_knownValues() public view {
        _checkDecay(1e18, 1, 0.95e18, 950_000_000_000_000_000, 950_000_000_000_000_000);
        _checkDecay(1e18, 10, 0.95e18, 598_736_939_238_378_906, 598_736_939_238_378_907);
        _checkDecay(20e18, 50, 0.95e18, 1_538_899_505_534_266_585, 1_538_899_505_534_266_586);
        _checkDecay(3e18, 13, 0.95e18, 1_540_026_249_838_515_344, 1_540_026_249_838_515_345);
        _checkDecay(1e18, 1000, 0.999e18, 367_695_424_770_964_044, 367_695_424_770_964_045);
        _checkDecay(123_456_789e12, 37, 0.5e18, 898_266_363, 898_266_364);
    }

    function test_decay_zeroEpochsKeepsEverything() public view {
        assertEq(lib.decayGoodEvidence(7.5e18, 0, 0.95e18), 7.5e18);
        assertEq(lib.decayBadEvidence(7.5e18, 0, 0.95e18), 7.5e18);
    }

    /// @dev After MAX_DECAY_EPOCHS good evidence is gone at every λ; bad evidence leaves at most a wei; any epoch
    /// count, however large, is as cheap as MAX_DECAY_EPOCHS (no loop over epochs).
    function test_decay_forgetsEverythingEventually() public view {
        uint64 slowest = BetaReputation.MAX_FORGET_WAD;
        uint256 cap = BetaReputation.MAX_DECAY_EPOCHS;
        assertEq(lib.decayGoodEvidence(1000e18, cap, slowest), 0);
        assertEq(lib.decayGoodEvidence(1000e18, type(uint256).max, slowest), 0);
        assertEq(lib.decayBadEvidence(1000e18, cap, slowest), 1);
        assertEq(lib.decayBadEvidence(1000e18, type(uint256).max, slowest), 1);
        assertEq(lib.decayBadEvidence(0, type(uint256).max, slowest), 0);
        uint256 gasBefore = gasleft();
        lib.decayGoodEvidence(1e18, type(uint256).max, slowest);
        assertLt(gasBefore - gasleft(), 15_000);
    }

    // ================================================================== the rating

    function test_mean_knownValues() public view {
        assertEq(lib.mean(0, 0), 0.5e18);
        assertEq(lib.mean(1e18, 0), 666_666_666_666_666_666); // 2/3 rounded down
        assertEq(lib.mean(0, 1e18), 333_333_333_333_333_333);
        assertEq(lib.mean(20e18, 3e18), 840_000_000_000_000_000); // 21/25
    }

    /// @dev Exact values (`--known`, 100 digits), as the floor of the exact bound in wei: the library may be that
    /// floor or 1 wei below it, never above.
    function test_lowerBound_knownValues() public view {
        _checkBound(0, 0, 2e18, 0);
        _checkBound(1e18, 0, 2e18, 195_262_145_875_634_983);
        _checkBound(10e18, 0, 2e18, 763_355_631_498_700_025);
        _checkBound(20e18, 0, 2e18, 867_678_810_372_190_076); // the ceiling of a flawless record at the defaults
        _checkBound(20e18, 3e18, 2e18, 696_205_274_516_333_260);
        _checkBound(100e18, 5e18, 3e18, 877_510_885_964_710_768);
        _checkBound(1000e18, 1e18, 3e18, 993_782_355_594_802_926);
        _checkBound(0.5e18, 0, 1.75e18, 141_742_430_504_415_999);
        _checkBound(0, 7e18, 2e18, 0);
        _checkBound(7.5e18, 2.25e18, 1.75e18, 504_176_148_708_174_014);
    }

    function test_lowerBound_noEvidenceIsTheFloorAtEveryAllowedZ() public view {
        assertEq(lib.lowerBound(0, 0, BetaReputation.MIN_Z_WAD), 0);
        assertEq(lib.lowerBound(0, 0, BetaReputation.DEFAULT_Z_WAD), 0);
        assertEq(lib.lowerBound(0, 0, BetaReputation.MAX_Z_WAD), 0);
    }

    /// @dev Huge evidence neither overflows nor leaves [0, 1].
    function test_lowerBound_hugeEvidence() public view {
        uint256 huge = type(uint128).max;
        assertLe(lib.lowerBound(huge, 0, 2e18), WAD);
        assertGt(lib.lowerBound(huge, 0, 2e18), WAD - 1e9);
        assertEq(lib.lowerBound(0, huge, 2e18), 0);
        assertLe(lib.lowerBound(huge, huge, 2e18), 0.5e18);
    }

    function test_step_knownValues() public view {
        assertEq(lib.step(0, 0.8e18, 0.05e18), 0.05e18); // bound
        assertEq(lib.step(0.78e18, 0.8e18, 0.05e18), 0.8e18); // reached
        assertEq(lib.step(0.858e18, 0.665e18, 0.05e18), 0.808e18); // a fall is bounded too
        assertEq(lib.step(0.7e18, 0.69e18, 0.05e18), 0.69e18);
        assertEq(lib.step(0.03e18, 0, 0.05e18), 0); // no underflow
        assertEq(lib.step(type(uint256).max - 1, type(uint256).max, 0.05e18), type(uint256).max); // no overflow
    }

    function test_interpolate_knownValues() public view {
        // risk weight, 3x at the floor down to 1x at the top
        assertEq(lib.interpolate(0, 3e18, 1e18), 3e18);
        assertEq(lib.interpolate(0.5e18, 3e18, 1e18), 2e18);
        assertEq(lib.interpolate(1e18, 3e18, 1e18), 1e18);
        assertEq(lib.interpolate(0.333333333333333333e18, 3e18, 1e18), 2_333_333_333_333_333_334); // rounds up
        // bond fraction, 50% down to 5%
        assertEq(lib.interpolate(1, 0.5e18, 0.05e18), 0.5e18); // 0.45 wei of relief rounds away
        assertEq(lib.interpolate(0.5e18, 0.5e18, 0.05e18), 0.275e18);
        assertEq(lib.interpolate(1e18, 0.5e18, 0.05e18), 0.05e18);
        // an increasing mapping rounds down, toward its floor
        assertEq(lib.interpolate(1, 0, 0.5e18), 0);
        assertEq(lib.interpolate(0.5e18, 1e18, 4e18), 2.5e18);
        assertEq(lib.interpolate(0.7e18, 2e18, 2e18), 2e18);
    }

    function test_interpolate_rejectsRatingAboveOne() public {
        vm.expectRevert(abi.encodeWithSelector(BetaReputation.RatingAboveOne.selector, WAD + 1));
        lib.interpolate(WAD + 1, 3e18, 1e18);
    }

    // ================================================================== the worked table of docs/reputation.md

    /// @dev One table row as docs/reputation.md prints it: good, bad, mean and target truncated to 1e-4, the risk
    /// weight and bond fraction to the wei.
    struct DocRow {
        uint256 epoch;
        uint256 good;
        uint256 bad;
        uint256 mean;
        uint256 target;
        uint256 riskWeight;
        uint256 bond;
    }

    /// @notice The worked table: epochs 1–50 clean with their full value at risk, a vetoed slash request in epoch
    /// 51 (3 units of bad evidence, no good), clean again from epoch 52. Each epoch: decay the history by one
    /// epoch, add the epoch's evidence, move the rating one bounded step toward the new lower bound. Every epoch's
    /// rating must equal the doc's (`python3 script/reputation_table.py --all`) to the wei, and every doc row's
    /// columns as printed, so the doc and the code cannot drift.
    function test_workedTable_matchesDoc() public view {
        uint256[61] memory ratings = [
            uint256(0),
            50_000_000_000_000_000,
            100_000_000_000_000_000,
            150_000_000_000_000_000,
            200_000_000_000_000_000,
            250_000_000_000_000_000,
            300_000_000_000_000_000,
            350_000_000_000_000_000,
            400_000_000_000_000_000,
            450_000_000_000_000_000,
            500_000_000_000_000_000,
            550_000_000_000_000_000,
            600_000_000_000_000_000,
            650_000_000_000_000_000,
            700_000_000_000_000_000,
            750_000_000_000_000_000,
            783_762_658_494_672_472,
            790_406_619_169_055_290,
            796_351_244_160_692_374,
            801_694_725_758_397_466,
            806_517_801_863_347_364,
            810_887_470_879_502_507,
            814_859_796_642_407_050,
            818_482_053_152_633_413,
            821_794_383_510_219_053,
            824_831_096_725_843_423,
            827_621_691_372_692_200,
            830_191_670_917_374_354,
            832_563_198_560_046_885,
            834_755_627_264_579_233,
            836_785_931_874_588_069,
            838_669_063_786_431_840,
            840_418_243_901_722_861,
            842_045_206_037_441_840,
            843_560_400_301_438_557,
            844_973_163_911_841_387,
            846_291_865_384_151_623,
            847_524_026_809_414_659,
            848_676_428_013_323_558,
            849_755_195_655_104_797,
            850_765_879_748_893_845,
            851_713_519_633_418_185,
            852_602_701_051_360_711,
            853_437_605_707_452_671,
            854_222_054_438_627_128,
            854_959_544_938_530_078,
            855_653_284_823_120_132,
            856_306_220_696_821_199,
            856_921_063_774_119_819,
            857_500_312_525_211_376,
            858_046_272_742_813_170,
            808_046_272_742_813_170,
            758_046_272_742_813_170,
            708_046_272_742_813_170,
            689_961_284_662_773_347,
            697_632_909_006_527_774,
            705_001_134_933_747_384,
            712_076_331_804_682_831,
            718_868_619_377_169_752,
            725_387_864_061_855_390,
            731_643_676_629_715_063
        ];
        DocRow[] memory rows = _docRows();
        BetaReputation.Params memory params = BetaReputation.defaultParams();

        uint256 good;
        uint256 bad;
        uint256 rating;
        uint256 nextRow;
        for (uint256 epoch; epoch <= 60; ++epoch) {
            if (epoch > 0) {
                bool vetoed = epoch == 51;
                good = lib.decayGoodEvidence(good, 1, params.forgetWad) + (vetoed ? 0 : CLEAN_EPOCH_GOOD);
                bad = lib.decayBadEvidence(bad, 1, params.forgetWad) + (vetoed ? VETOED_REQUEST_BAD : 0);
            }
            uint256 target = lib.lowerBound(good, bad, params.zWad);
            uint256 previous = rating;
            rating = lib.step(rating, target, params.maxStepWad);
            assertEq(rating, ratings[epoch], string.concat("rating, epoch ", vm.toString(epoch)));
            assertLe(_distance(rating, previous), params.maxStepWad);

            if (nextRow < rows.length && rows[nextRow].epoch == epoch) {
                DocRow memory row = rows[nextRow++];
                string memory at = string.concat(", epoch ", vm.toString(epoch));
                assertEq(good / 1e14, row.good, string.concat("good", at));
                assertEq(bad / 1e14, row.bad, string.concat("bad", at));
                assertEq(lib.mean(good, bad) / 1e14, row.mean, string.concat("mean", at));
                assertEq(target / 1e14, row.target, string.concat("target", at));
                assertEq(
                    lib.interpolate(rating, RISK_WEIGHT_AT_FLOOR, RISK_WEIGHT_AT_TOP),
                    row.riskWeight,
                    string.concat("risk weight", at)
                );
                assertEq(lib.interpolate(rating, BOND_AT_FLOOR, BOND_AT_TOP), row.bond, string.concat("bond", at));
            }
        }
        assertEq(nextRow, rows.length, "every doc row checked");
    }

    function _docRows() internal pure returns (DocRow[] memory rows) {
        rows = new DocRow[](16);
        uint256 i;
        rows[i++] = _row(0, 0, 0, 5000, 0, 3_000_000_000_000_000_000, 500_000_000_000_000_000);
        rows[i++] = _row(1, 10_000, 0, 6666, 1952, 2_900_000_000_000_000_000, 477_500_000_000_000_000);
        rows[i++] = _row(2, 19_500, 0, 7468, 3559, 2_800_000_000_000_000_000, 455_000_000_000_000_000);
        rows[i++] = _row(5, 45_243, 0, 8467, 5840, 2_500_000_000_000_000_000, 387_500_000_000_000_000);
        rows[i++] = _row(10, 80_252, 0, 9002, 7197, 2_000_000_000_000_000_000, 275_000_000_000_000_000);
        rows[i++] = _row(15, 107_341, 0, 9214, 7762, 1_500_000_000_000_000_000, 162_500_000_000_000_000);
        rows[i++] = _row(16, 111_974, 0, 9242, 7837, 1_432_474_683_010_655_056, 147_306_803_677_397_388);
        rows[i++] = _row(20, 128_302, 0, 9325, 8065, 1_386_964_396_273_305_272, 137_066_989_161_493_687);
        rows[i++] = _row(30, 157_072, 0, 9435, 8367, 1_326_428_136_250_823_862, 123_446_330_656_435_369);
        rows[i++] = _row(50, 184_611, 0, 9511, 8580, 1_283_907_454_514_373_660, 113_879_177_265_734_074);
        rows[i++] = _row(51, 175_380, 30_000, 8225, 6650, 1_383_907_454_514_373_660, 136_379_177_265_734_074);
        rows[i++] = _row(52, 176_611, 28_500, 8289, 6736, 1_483_907_454_514_373_660, 158_879_177_265_734_074);
        rows[i++] = _row(53, 177_780, 27_075, 8351, 6819, 1_583_907_454_514_373_660, 181_379_177_265_734_074);
        rows[i++] = _row(54, 178_891, 25_721, 8409, 6899, 1_620_077_430_674_453_306, 189_517_421_901_751_994);
        rows[i++] = _row(55, 179_947, 24_435, 8465, 6976, 1_604_734_181_986_944_452, 186_065_190_947_062_502);
        rows[i++] = _row(60, 184_483, 18_907, 8705, 7316, 1_536_712_646_740_569_874, 170_760_345_516_628_222);
    }

    function _row(uint256 epoch, uint256 good, uint256 bad, uint256 mean_, uint256 target, uint256 risk, uint256 bond)
        internal
        pure
        returns (DocRow memory)
    {
        return DocRow(epoch, good, bad, mean_, target, risk, bond);
    }

    // ================================================================== fuzz: parameters

    function testFuzz_validate_acceptsExactlyTheBounds(uint64 forgetWad, uint64 zWad, uint64 maxStepWad) public {
        bool forgetOk = forgetWad >= BetaReputation.MIN_FORGET_WAD && forgetWad <= BetaReputation.MAX_FORGET_WAD;
        bool zOk = zWad >= BetaReputation.MIN_Z_WAD && zWad <= BetaReputation.MAX_Z_WAD;
        bool stepOk = maxStepWad >= BetaReputation.MIN_MAX_STEP_WAD && maxStepWad <= BetaReputation.MAX_MAX_STEP_WAD;
        // Checked in this order: the first bad parameter names the error.
        if (!forgetOk) _expectForgetRevert(forgetWad);
        else if (!zOk) _expectZRevert(zWad);
        else if (!stepOk) _expectStepRevert(maxStepWad);
        lib.validate(_params(forgetWad, zWad, maxStepWad));
    }

    // ================================================================== fuzz: decay

    function testFuzz_decay_neverIncreasesAndRoundsAgainstTheRated(uint256 evidence, uint256 epochs, uint64 forget)
        public
        view
    {
        forget = _boundForget(forget);
        epochs = bound(epochs, 0, 100_000);
        uint256 good = lib.decayGoodEvidence(evidence, epochs, forget);
        uint256 bad = lib.decayBadEvidence(evidence, epochs, forget);
        assertLe(good, evidence);
        assertLe(bad, evidence);
        assertLe(good, bad); // the same history: as good evidence it keeps no more than as bad
    }

    /// @dev More epochs never leave more evidence, for either rounding. Adjacent epoch counts are where the rounding
    /// of λ^k could break it (the proof at BetaReputation._forgetPower); evidence spans the whole uint256.
    function testFuzz_decay_monotoneInEpochs(uint256 evidence, uint256 epochs, uint256 more, uint64 forget)
        public
        view
    {
        forget = _boundForget(forget);
        epochs = bound(epochs, 0, 70_000);
        more = bound(more, 0, 3);
        assertLe(
            lib.decayGoodEvidence(evidence, epochs + more, forget), lib.decayGoodEvidence(evidence, epochs, forget)
        );
        assertLe(lib.decayBadEvidence(evidence, epochs + more, forget), lib.decayBadEvidence(evidence, epochs, forget));
    }

    function testFuzz_decay_monotoneInEpochsFarApart(uint256 evidence, uint256 epochs, uint256 later, uint64 forget)
        public
        view
    {
        forget = _boundForget(forget);
        epochs = bound(epochs, 0, type(uint256).max);
        later = bound(later, epochs, type(uint256).max);
        assertLe(lib.decayGoodEvidence(evidence, later, forget), lib.decayGoodEvidence(evidence, epochs, forget));
        assertLe(lib.decayBadEvidence(evidence, later, forget), lib.decayBadEvidence(evidence, epochs, forget));
    }

    /// @dev A faster forgetting (smaller λ) never keeps more.
    function testFuzz_decay_monotoneInForget(uint256 evidence, uint256 epochs, uint64 forget, uint64 slower)
        public
        view
    {
        forget = _boundForget(forget);
        slower = uint64(bound(slower, forget, BetaReputation.MAX_FORGET_WAD));
        epochs = bound(epochs, 0, 1000);
        evidence = bound(evidence, 0, MAX_FUZZ_EVIDENCE);
        assertLe(lib.decayGoodEvidence(evidence, epochs, forget), lib.decayGoodEvidence(evidence, epochs, slower));
        assertLe(lib.decayBadEvidence(evidence, epochs, forget), lib.decayBadEvidence(evidence, epochs, slower));
    }

    // ================================================================== fuzz: the rating

    function testFuzz_lowerBound_isARatingBelowTheMean(uint256 good, uint256 bad, uint64 z) public view {
        good = bound(good, 0, type(uint128).max);
        bad = bound(bad, 0, type(uint128).max);
        z = _boundZ(z);
        uint256 rating = lib.lowerBound(good, bad, z);
        assertLe(rating, WAD);
        assertLe(rating, lib.mean(good, bad));
    }

    function testFuzz_lowerBound_noEvidenceIsZero(uint64 z) public view {
        assertEq(lib.lowerBound(0, 0, _boundZ(z)), 0);
    }

    /// @dev With no more good than bad evidence the mean is at most 1/2, so the rating stays below it (it can still
    /// be above 0: a long, mixed record is known to be mediocre, not unknown).
    function testFuzz_lowerBound_noMoreGoodThanBadStaysBelowHalf(uint256 good, uint256 bad, uint64 z) public view {
        bad = bound(bad, 0, MAX_FUZZ_EVIDENCE);
        good = bound(good, 0, bad);
        assertLt(lib.lowerBound(good, bad, _boundZ(z)), 0.5e18);
    }

    function testFuzz_lowerBound_moreGoodNeverLowers(uint256 good, uint256 bad, uint256 extra, uint64 z) public view {
        good = bound(good, 0, MAX_FUZZ_EVIDENCE);
        bad = bound(bad, 0, MAX_FUZZ_EVIDENCE);
        extra = bound(extra, 0, MAX_FUZZ_EVIDENCE);
        z = _boundZ(z);
        assertGe(lib.lowerBound(good + extra, bad, z), lib.lowerBound(good, bad, z));
    }

    function testFuzz_lowerBound_moreBadNeverRaises(uint256 good, uint256 bad, uint256 extra, uint64 z) public view {
        good = bound(good, 0, MAX_FUZZ_EVIDENCE);
        bad = bound(bad, 0, MAX_FUZZ_EVIDENCE);
        extra = bound(extra, 0, MAX_FUZZ_EVIDENCE);
        z = _boundZ(z);
        assertLe(lib.lowerBound(good, bad + extra, z), lib.lowerBound(good, bad, z));
    }

    /// @dev A larger z is a more cautious bound: never a higher rating.
    function testFuzz_lowerBound_moreConfidenceNeverRaises(uint256 good, uint256 bad, uint64 z, uint64 larger)
        public
        view
    {
        good = bound(good, 0, MAX_FUZZ_EVIDENCE);
        bad = bound(bad, 0, MAX_FUZZ_EVIDENCE);
        z = _boundZ(z);
        larger = uint64(bound(larger, z, BetaReputation.MAX_Z_WAD));
        assertLe(lib.lowerBound(good, bad, larger), lib.lowerBound(good, bad, z));
    }

    // ================================================================== fuzz: step and interpolate

    function testFuzz_step_neverExceedsTheBound(uint256 previous, uint256 target, uint64 maxStep) public view {
        maxStep = uint64(bound(maxStep, BetaReputation.MIN_MAX_STEP_WAD, BetaReputation.MAX_MAX_STEP_WAD));
        uint256 next = lib.step(previous, target, maxStep);
        assertLe(_distance(next, previous), maxStep);
        // toward the target, never past it, and onto it when it is within one step
        assertLe(_distance(next, target), _distance(previous, target));
        assertTrue(previous <= target ? next >= previous && next <= target : next <= previous && next >= target);
        if (_distance(previous, target) <= maxStep) assertEq(next, target);
        else assertEq(_distance(next, previous), maxStep);
    }

    /// @dev A rating that starts at the floor with no evidence stays there, whatever the step.
    function testFuzz_step_freshIdentityStaysAtTheFloor(uint64 maxStep, uint64 z) public view {
        maxStep = uint64(bound(maxStep, BetaReputation.MIN_MAX_STEP_WAD, BetaReputation.MAX_MAX_STEP_WAD));
        assertEq(lib.step(0, lib.lowerBound(0, 0, _boundZ(z)), maxStep), 0);
    }

    /// @dev Between the ends, and rounded toward `atFloor` by less than a wei: |result − atFloor| is the exact
    /// |atTop − atFloor|·rating rounded down.
    function testFuzz_interpolate_betweenTheEndsRoundedTowardTheFloor(uint256 rating, uint256 atFloor, uint256 atTop)
        public
        view
    {
        rating = bound(rating, 0, WAD);
        atFloor = bound(atFloor, 0, 1e30);
        atTop = bound(atTop, 0, 1e30);
        uint256 value = lib.interpolate(rating, atFloor, atTop);
        uint256 low = atFloor < atTop ? atFloor : atTop;
        uint256 high = atFloor < atTop ? atTop : atFloor;
        assertGe(value, low);
        assertLe(value, high);
        uint256 exactTimesWad = _distance(atTop, atFloor) * rating;
        uint256 movedTimesWad = _distance(value, atFloor) * WAD;
        assertLe(movedTimesWad, exactTimesWad); // never past the exact value, away from the floor
        assertLt(exactTimesWad - movedTimesWad, WAD); // by less than a wei
    }

    /// @dev A better rating never gets a harsher risk weight or bond.
    function testFuzz_interpolate_betterRatingNeverHarsher(uint256 rating, uint256 better) public view {
        rating = bound(rating, 0, WAD);
        better = bound(better, rating, WAD);
        assertLe(
            lib.interpolate(better, RISK_WEIGHT_AT_FLOOR, RISK_WEIGHT_AT_TOP),
            lib.interpolate(rating, RISK_WEIGHT_AT_FLOOR, RISK_WEIGHT_AT_TOP)
        );
        assertLe(
            lib.interpolate(better, BOND_AT_FLOOR, BOND_AT_TOP), lib.interpolate(rating, BOND_AT_FLOOR, BOND_AT_TOP)
        );
    }

    function testFuzz_interpolate_rejectsRatingsAboveOne(uint256 rating) public {
        rating = bound(rating, WAD + 1, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(BetaReputation.RatingAboveOne.selector, rating));
        lib.interpolate(rating, 3e18, 1e18);
    }

    function testFuzz_cleanEpochEvidence_capsAtOneUnit(uint256 valueAtRisk, uint256 unit, uint256 more) public view {
        unit = bound(unit, 1, type(uint128).max);
        valueAtRisk = bound(valueAtRisk, 0, type(uint128).max);
        more = bound(more, 0, type(uint128).max);
        uint256 evidence = lib.cleanEpochEvidence(valueAtRisk, unit);
        assertLe(evidence, WAD);
        assertLe(evidence, lib.cleanEpochEvidence(valueAtRisk + more, unit));
        assertLe(evidence * unit, valueAtRisk * WAD); // rounded down: never more than the value at risk earns
    }

    // ================================================================== helpers

    function _checkDecay(uint256 evidence, uint256 epochs, uint64 forget, uint256 exactFloor, uint256 exactCeil)
        internal
        view
    {
        uint256 good = lib.decayGoodEvidence(evidence, epochs, forget);
        uint256 bad = lib.decayBadEvidence(evidence, epochs, forget);
        assertLe(good, exactFloor, "good evidence rounds down");
        assertLe(exactFloor - good, 1, "good evidence within 1 wei");
        assertGe(bad, exactCeil, "bad evidence rounds up");
        assertLe(bad - exactCeil, 1, "bad evidence within 1 wei");
    }

    function _checkBound(uint256 good, uint256 bad, uint64 z, uint256 exactFloor) internal view {
        uint256 rating = lib.lowerBound(good, bad, z);
        assertLe(rating, exactFloor, "a rating rounds down");
        assertLe(exactFloor - rating, 1, "a rating within 1 wei of the exact bound");
    }

    function _params(uint64 forgetWad, uint64 zWad, uint64 maxStepWad)
        internal
        pure
        returns (BetaReputation.Params memory)
    {
        return BetaReputation.Params({forgetWad: forgetWad, zWad: zWad, maxStepWad: maxStepWad});
    }

    function _boundForget(uint64 forget) internal pure returns (uint64) {
        return uint64(bound(forget, BetaReputation.MIN_FORGET_WAD, BetaReputation.MAX_FORGET_WAD));
    }

    function _boundZ(uint64 z) internal pure returns (uint64) {
        return uint64(bound(z, BetaReputation.MIN_Z_WAD, BetaReputation.MAX_Z_WAD));
    }

    function _distance(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a - b : b - a;
    }

    function _expectForgetRevert(uint256 forgetWad) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                BetaReputation.ForgetFactorOutOfBounds.selector,
                forgetWad,
                BetaReputation.MIN_FORGET_WAD,
                BetaReputation.MAX_FORGET_WAD
            )
        );
    }

    function _expectZRevert(uint256 zWad) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                BetaReputation.ConfidenceOutOfBounds.selector, zWad, BetaReputation.MIN_Z_WAD, BetaReputation.MAX_Z_WAD
            )
        );
    }

    function _expectStepRevert(uint256 maxStepWad) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                BetaReputation.MaxStepOutOfBounds.selector,
                maxStepWad,
                BetaReputation.MIN_MAX_STEP_WAD,
                BetaReputation.MAX_MAX_STEP_WAD
            )
        );
    }
}
