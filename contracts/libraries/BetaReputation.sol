// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title BetaReputation
/// @notice The pure maths of a rating (issue 16, `docs/reputation.md`): a Beta reputation over good and bad
/// evidence, both forgotten by a factor λ per epoch, rated on the lower confidence bound of its mean, moved at most
/// a bounded step per epoch, and mapped linearly onto a risk weight or a bond fraction.
/// @dev Fixed point WAD (1e18 = one unit of evidence, or a rating of 1). Every rounding goes against the rated party:
/// good evidence and ratings round down; bad evidence, the variance and the confidence margin round up; a risk weight
/// or bond fraction rounds toward its value at the floor, the harsh end. So no rounding error can ever buy a rating,
/// a weight or a bond a party has not earned. The mean and the variance are computed at 1e36 (`POW_ONE`), which
/// keeps `lowerBound` within 1 wei below the exact bound (`script/reputation_table.py --check`).
library BetaReputation {
    /// @notice The rating's parameters: one storage slot.
    struct Params {
        /// @dev λ, the share of the evidence kept per epoch, WAD (0.95e18 keeps 95%).
        uint64 forgetWad;
        /// @dev z, the confidence of the lower bound in standard deviations, WAD (2e18 ≈ 97.7% one-sided).
        uint64 zWad;
        /// @dev The most a rating may move in one epoch, up or down, WAD.
        uint64 maxStepWad;
    }

    uint256 internal constant WAD = 1e18;
    /// @dev The intermediate scale of λ^k, the mean and the variance: 18 more digits than WAD, so that the roundings
    /// of the intermediate steps stay far below one wei of the result.
    uint256 internal constant POW_ONE = 1e36;

    /// @dev λ ≥ 0.5: below, the half-life is under one epoch and a flawless record holds under 2 units of evidence,
    /// so a rating would only echo the last epoch or two.
    uint64 internal constant MIN_FORGET_WAD = 0.5e18;
    /// @dev λ ≤ 0.999 (half-life ≈ 693 epochs, 13 years of weekly epochs): anything closer to 1 is no forgetting at
    /// all, an old record would shield an AVS forever. It also bounds `1 - λ ≥ 1e-3`, which the monotonicity of
    /// `decayGoodEvidence` and `decayBadEvidence` relies on (see `_forgetPower`).
    uint64 internal constant MAX_FORGET_WAD = 0.999e18;
    /// @dev z ≥ 1.75 > √3 ≈ 1.732: with no evidence the mean is 1/2 and the deviation 1/√12, so any z ≥ √3 puts a
    /// fresh identity's bound at or below 0. A rating then starts at the floor for every allowed z, and
    /// re-registering to wipe a bad history never pays.
    uint64 internal constant MIN_Z_WAD = 1.75e18;
    /// @dev z ≤ 3 (99.87% one-sided): even at the shortest memory (λ = 0.5, 2 units of evidence at most) a flawless
    /// record then rises to ≈ 0.17. A larger z with a short memory could keep every rating at the floor forever.
    uint64 internal constant MAX_Z_WAD = 3e18;
    /// @dev A step ≥ 0.01: a rating must be able to cross the scale in at most 100 epochs, or it cannot respond to
    /// evidence at all.
    uint64 internal constant MIN_MAX_STEP_WAD = 0.01e18;
    /// @dev A step ≤ 0.25: a rating takes at least 4 epochs to cross the scale, so a burst of evidence (or of
    /// farming) moves risk weights and required bonds slowly enough for pools and AVSs to react before it bites.
    uint64 internal constant MAX_MAX_STEP_WAD = 0.25e18;

    /// @dev The defaults, argued in `docs/reputation.md`: a 20-epoch memory, a 97.7% bound, 20 epochs floor to top.
    uint64 internal constant DEFAULT_FORGET_WAD = 0.95e18;
    uint64 internal constant DEFAULT_Z_WAD = 2e18;
    uint64 internal constant DEFAULT_MAX_STEP_WAD = 0.05e18;

    /// @dev Decay counts at most this many epochs: λ^65536 ≤ 0.999^65536 < 1e-27, which `_forgetPower` already
    /// treats as nothing, and the exponentiation stays at 17 squarings.
    uint256 internal constant MAX_DECAY_EPOCHS = 2 ** 16;
    /// @dev A power of λ below this (at the 1e36 scale, i.e. 1e-27) is treated as gone: 0 for good evidence, this much
    /// for bad evidence. It is ≥ E / (1 - λ) + E for the power's rounding error E < 2^17 and every λ ≤ 0.999,
    /// which makes both decays exactly monotone in the number of epochs (proof at `_forgetPower`).
    uint256 internal constant POW_DUST = 1e9;

    error ForgetFactorOutOfBounds(uint256 forgetWad, uint256 min, uint256 max);
    error ConfidenceOutOfBounds(uint256 zWad, uint256 min, uint256 max);
    error MaxStepOutOfBounds(uint256 maxStepWad, uint256 min, uint256 max);
    error RatingAboveOne(uint256 ratingWad);
    error ZeroEvidenceUnit();

    // ================================================================== parameters

    /// @notice The default parameters.
    function defaultParams() internal pure returns (Params memory) {
        return Params({forgetWad: DEFAULT_FORGET_WAD, zWad: DEFAULT_Z_WAD, maxStepWad: DEFAULT_MAX_STEP_WAD});
    }

    /// @notice Reverts with the parameter's named error unless every parameter is within its constant bounds.
    function validate(Params memory params) internal pure {
        _checkForget(params.forgetWad);
        _checkZ(params.zWad);
        _checkMaxStep(params.maxStepWad);
    }

    // ================================================================== evidence

    /// @notice The good evidence of one clean epoch: min(1, valueAtRisk / evidenceUnit), rounded down.
    /// @dev Weighted by the value at risk so that a tiny AVS cannot farm a rating cheaply: a full unit needs a full
    /// `evidenceUnit` (per asset, in its own decimals) at stake through the epoch.
    function cleanEpochEvidence(uint256 valueAtRisk, uint256 evidenceUnit) internal pure returns (uint256) {
        if (evidenceUnit == 0) revert ZeroEvidenceUnit();
        if (valueAtRisk >= evidenceUnit) return WAD;
        return Math.mulDiv(valueAtRisk, WAD, evidenceUnit);
    }

    /// @notice Good evidence after `epochs` epochs of forgetting: evidence·λ^epochs, rounded down.
    /// @dev Rounds down so that a record never looks better than it is. Monotone: never above `evidenceWad`, never
    /// higher for more epochs; 0 once λ^epochs < 1e-27 (at most `MAX_DECAY_EPOCHS` epochs). O(log epochs).
    function decayGoodEvidence(uint256 evidenceWad, uint256 epochs, uint64 forgetWad) internal pure returns (uint256) {
        return Math.mulDiv(evidenceWad, _forgetPower(epochs, forgetWad, false), POW_ONE);
    }

    /// @notice Bad evidence after `epochs` epochs of forgetting: evidence·λ^epochs, rounded up.
    /// @dev Rounds up so that a fault never fades faster than it should. Monotone like `decayGoodEvidence`; it never
    /// quite reaches 0: what is left is at most ⌈evidence·1e-27⌉ (1 wei for any realistic evidence), harmless.
    function decayBadEvidence(uint256 evidenceWad, uint256 epochs, uint64 forgetWad) internal pure returns (uint256) {
        return Math.mulDiv(evidenceWad, _forgetPower(epochs, forgetWad, true), POW_ONE, Math.Rounding.Ceil);
    }

    // ================================================================== the rating

    /// @notice The mean of the Beta(good + 1, bad + 1) posterior, (g + 1) / (g + b + 2), rounded down.
    /// @dev For display (the audit shows it beside the rating); the rating itself is `lowerBound`.
    function mean(uint256 goodWad, uint256 badWad) internal pure returns (uint256) {
        uint256 alpha = goodWad + WAD;
        return Math.mulDiv(alpha, WAD, alpha + badWad + WAD);
    }

    /// @notice The rating an evidence supports: the lower confidence bound max(0, m − z·√v) of the Beta(g + 1, b + 1)
    /// posterior, with mean m = (g + 1) / (g + b + 2) and variance v = m(1 − m) / (g + b + 3). Rounded down.
    /// @dev Little evidence has a wide deviation, so it rates low; no evidence rates 0 (z ≥ √3, see `MIN_Z_WAD`).
    /// The mean rounds down, the variance and the margin z·√v round up, all at 1e36, and the result rounds down:
    /// the rating is the exact bound or at most 1 wei below it. The exact bound never falls for more good evidence
    /// nor rises for more bad where it is above 0 (`docs/reputation.md` has the derivative). Reverts on z out of
    /// bounds; overflows (panics) only when good + bad pass 1e41 units.
    function lowerBound(uint256 goodWad, uint256 badWad, uint64 zWad) internal pure returns (uint256 ratingWad) {
        _checkZ(zWad);
        uint256 alpha = goodWad + WAD;
        uint256 beta = badWad + WAD;
        uint256 total = alpha + beta;
        uint256 meanDown = Math.mulDiv(alpha, POW_ONE, total);
        uint256 meanUp = Math.mulDiv(alpha, POW_ONE, total, Math.Rounding.Ceil);
        uint256 complementUp = Math.mulDiv(beta, POW_ONE, total, Math.Rounding.Ceil);
        // v = m(1 − m) / (n + 1) with n + 1 = (total + WAD) / WAD; at the 1e36 scale the two scales of the product
        // leave one 1e36 to divide out, written (total + WAD) * WAD. At most 1e36 / 12.
        uint256 varianceUp = Math.mulDiv(meanUp, complementUp, (total + WAD) * WAD, Math.Rounding.Ceil);
        // z·√v at 1e36 is √(z_wad² · v_1e36): z² ≤ 9e36 and v ≤ 1e35 keep the product under 2^256.
        uint256 marginUp = Math.sqrt(uint256(zWad) * zWad * varianceUp, Math.Rounding.Ceil);
        if (meanDown <= marginUp) return 0;
        return (meanDown - marginUp) / 1e18;
    }

    /// @notice Moves a rating from `previousWad` toward `targetWad` by at most `maxStepWad`, either way.
    /// @dev Bounds how fast a rating, and the weights and bonds that follow it, can change in one epoch; the bound is
    /// symmetric so that a fault still costs a full step every epoch until the rating meets its target.
    function step(uint256 previousWad, uint256 targetWad, uint64 maxStepWad) internal pure returns (uint256) {
        _checkMaxStep(maxStepWad);
        if (targetWad > previousWad) {
            return targetWad - previousWad > maxStepWad ? previousWad + maxStepWad : targetWad;
        }
        return previousWad - targetWad > maxStepWad ? previousWad - maxStepWad : targetWad;
    }

    /// @notice The value linear in the rating from `atFloor` (rating 0) to `atTop` (rating 1e18), rounded toward
    /// `atFloor`.
    /// @dev `atFloor` is the harsh end, what a fresh identity gets: a risk weight 3e18 → 1e18, a bond fraction
    /// 0.5e18 → 0.05e18. Rounding toward it never grants a party a lighter weight or a smaller bond than its rating
    /// earns. Either order of the ends works. Reverts above a rating of 1.
    function interpolate(uint256 ratingWad, uint256 atFloor, uint256 atTop) internal pure returns (uint256) {
        if (ratingWad > WAD) revert RatingAboveOne(ratingWad);
        if (atTop >= atFloor) return atFloor + Math.mulDiv(atTop - atFloor, ratingWad, WAD);
        return atFloor - Math.mulDiv(atFloor - atTop, ratingWad, WAD);
    }

    // ================================================================== internals

    /// @dev λ^epochs at the 1e36 scale by exponentiation by squaring, every product rounded down (`roundUp` false)
    /// or up, and clamped at `POW_DUST`: below it, 0 when rounding down and `POW_DUST` when rounding up.
    ///
    /// Error: with k < 2^17 (at most 16 squarings), the base after j squarings is off by at most 2^j − 1 and each
    /// product adds the two errors plus 1, so the power p̂ is within E < 2^17 of the exact p(k) = λ^k, on the
    /// side of its rounding. Monotone, rounding down (p̂ ≤ p): if p̂(k) ≥ POW_DUST then p(k) ≥ POW_DUST ≥ E/(1−λ), so
    /// p̂(k+1) ≤ λp(k) = p(k) − (1−λ)p(k) ≤ p(k) − E ≤ p̂(k); if p̂(k) < POW_DUST (clamped to 0) then
    /// p̂(k+1) ≤ λ(p̂(k) + E) < λ(POW_DUST + E) ≤ POW_DUST, clamped to 0 too. Rounding up is the mirror image with
    /// the clamp at POW_DUST ≥ E/(1−λ) + E. Both need 1 − λ ≥ 1e-3, hence `MAX_FORGET_WAD`. Epochs past
    /// `MAX_DECAY_EPOCHS` count as `MAX_DECAY_EPOCHS`, where p < 1e-27 for every allowed λ: nothing changes.
    ///
    /// Products stay below 1e72 < 2^256, so plain checked arithmetic suffices.
    function _forgetPower(uint256 epochs, uint64 forgetWad, bool roundUp) private pure returns (uint256 power) {
        _checkForget(forgetWad);
        uint256 remaining = epochs < MAX_DECAY_EPOCHS ? epochs : MAX_DECAY_EPOCHS;
        uint256 base = uint256(forgetWad) * 1e18;
        power = POW_ONE;
        while (true) {
            if (remaining & 1 == 1) power = _mulPow(power, base, roundUp);
            remaining >>= 1;
            if (remaining == 0) break;
            base = _mulPow(base, base, roundUp);
        }
        if (power < POW_DUST) power = roundUp ? POW_DUST : 0;
    }

    /// @dev a·b / 1e36, rounded as asked; a, b ≤ 1e36.
    function _mulPow(uint256 a, uint256 b, bool roundUp) private pure returns (uint256) {
        return roundUp ? Math.ceilDiv(a * b, POW_ONE) : a * b / POW_ONE;
    }

    function _checkForget(uint64 forgetWad) private pure {
        if (forgetWad < MIN_FORGET_WAD || forgetWad > MAX_FORGET_WAD) {
            revert ForgetFactorOutOfBounds(forgetWad, MIN_FORGET_WAD, MAX_FORGET_WAD);
        }
    }

    function _checkZ(uint64 zWad) private pure {
        if (zWad < MIN_Z_WAD || zWad > MAX_Z_WAD) revert ConfidenceOutOfBounds(zWad, MIN_Z_WAD, MAX_Z_WAD);
    }

    function _checkMaxStep(uint64 maxStepWad) private pure {
        if (maxStepWad < MIN_MAX_STEP_WAD || maxStepWad > MAX_MAX_STEP_WAD) {
            revert MaxStepOutOfBounds(maxStepWad, MIN_MAX_STEP_WAD, MAX_MAX_STEP_WAD);
        }
    }
}
