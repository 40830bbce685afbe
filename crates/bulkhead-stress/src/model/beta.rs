//! Mirrors `contracts/libraries/BetaReputation.sol` operation for operation: the forgetting factor λ^k at the 1e36
//! scale by exponentiation by squaring (every product rounded down for good evidence, up for bad, clamped at
//! `POW_DUST`), the lower confidence bound of the Beta mean with the library's roundings and ceiling square root,
//! the bounded step, and the linear interpolation toward the harsh end. A named error is the library's revert.

use alloy::primitives::U256;
use bulkhead_evm::ErrorKind;

use super::{
    Rev,
    maths::{PANIC, ceil_div, mul_div, mul_div_ceil, u, wad},
};

alloy::sol! {
    /// `BetaReputation.ForgetFactorOutOfBounds`.
    error ForgetFactorOutOfBounds(uint256 forgetWad, uint256 min, uint256 max);
    /// `BetaReputation.ConfidenceOutOfBounds`.
    error ConfidenceOutOfBounds(uint256 zWad, uint256 min, uint256 max);
    /// `BetaReputation.MaxStepOutOfBounds`.
    error MaxStepOutOfBounds(uint256 maxStepWad, uint256 min, uint256 max);
    /// `BetaReputation.RatingAboveOne`.
    error RatingAboveOne(uint256 ratingWad);
    /// `BetaReputation.ZeroEvidenceUnit`.
    error ZeroEvidenceUnit();
}

/// `MIN_FORGET_WAD`: λ ≥ 0.5.
pub const MIN_FORGET_WAD: u64 = 500_000_000_000_000_000;
/// `MAX_FORGET_WAD`: λ ≤ 0.999.
pub const MAX_FORGET_WAD: u64 = 999_000_000_000_000_000;
/// `MIN_Z_WAD`: z ≥ 1.75.
pub const MIN_Z_WAD: u64 = 1_750_000_000_000_000_000;
/// `MAX_Z_WAD`: z ≤ 3.
pub const MAX_Z_WAD: u64 = 3_000_000_000_000_000_000;
/// `MIN_MAX_STEP_WAD`: a step ≥ 0.01.
pub const MIN_MAX_STEP_WAD: u64 = 10_000_000_000_000_000;
/// `MAX_MAX_STEP_WAD`: a step ≤ 0.25.
pub const MAX_MAX_STEP_WAD: u64 = 250_000_000_000_000_000;
/// `MAX_DECAY_EPOCHS`: decay counts at most 2^16 epochs.
const MAX_DECAY_EPOCHS: u64 = 1 << 16;
/// `POW_DUST`: a power of λ below 1e-27 (at the 1e36 scale) counts as gone.
const POW_DUST: u64 = 1_000_000_000;

/// `POW_ONE`: 1e36, the scale of λ^k, the mean and the variance.
fn pow_one() -> U256 {
    U256::from(10u64).pow(U256::from(36u64))
}

/// `BetaReputation.Params`: λ, z and the step bound, each WAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// λ, the share of the evidence kept per epoch.
    pub forget_wad: u64,
    /// z, the confidence of the lower bound in standard deviations.
    pub z_wad: u64,
    /// The most a rating may move in one epoch.
    pub max_step_wad: u64,
}

impl Default for Params {
    /// `defaultParams()`: λ = 0.95, z = 2, step 0.05.
    fn default() -> Self {
        Self {
            forget_wad: 950_000_000_000_000_000,
            z_wad: 2_000_000_000_000_000_000,
            max_step_wad: 50_000_000_000_000_000,
        }
    }
}

/// `validate(params)`: each parameter within its constant bounds, or its named error.
pub fn validate(params: Params) -> Result<(), Rev> {
    check_forget(params.forget_wad)?;
    check_z(params.z_wad)?;
    check_max_step(params.max_step_wad)
}

fn check_forget(forget_wad: u64) -> Result<(), Rev> {
    if !(MIN_FORGET_WAD..=MAX_FORGET_WAD).contains(&forget_wad) {
        return Err(ErrorKind::of::<ForgetFactorOutOfBounds>());
    }
    Ok(())
}

fn check_z(z_wad: u64) -> Result<(), Rev> {
    if !(MIN_Z_WAD..=MAX_Z_WAD).contains(&z_wad) {
        return Err(ErrorKind::of::<ConfidenceOutOfBounds>());
    }
    Ok(())
}

fn check_max_step(max_step_wad: u64) -> Result<(), Rev> {
    if !(MIN_MAX_STEP_WAD..=MAX_MAX_STEP_WAD).contains(&max_step_wad) {
        return Err(ErrorKind::of::<MaxStepOutOfBounds>());
    }
    Ok(())
}

/// Checked `a + b`: a `Panic` on overflow.
fn add(a: U256, b: U256) -> Result<U256, Rev> {
    a.checked_add(b).ok_or(PANIC)
}

/// Checked `a * b`: a `Panic` on overflow.
fn mul(a: U256, b: U256) -> Result<U256, Rev> {
    a.checked_mul(b).ok_or(PANIC)
}

/// `cleanEpochEvidence(valueAtRisk, evidenceUnit)`: min(1, value / unit) WAD, rounded down.
pub fn clean_epoch_evidence(value_at_risk: U256, evidence_unit: U256) -> Result<U256, Rev> {
    if evidence_unit.is_zero() {
        return Err(ErrorKind::of::<ZeroEvidenceUnit>());
    }
    if value_at_risk >= evidence_unit {
        return Ok(wad());
    }
    mul_div(value_at_risk, wad(), evidence_unit)
}

/// `decayGoodEvidence`: evidence·λ^epochs, rounded down.
pub fn decay_good(evidence_wad: U256, epochs: u64, forget_wad: u64) -> Result<U256, Rev> {
    mul_div(
        evidence_wad,
        forget_power(epochs, forget_wad, false)?,
        pow_one(),
    )
}

/// `decayBadEvidence`: evidence·λ^epochs, rounded up.
pub fn decay_bad(evidence_wad: U256, epochs: u64, forget_wad: u64) -> Result<U256, Rev> {
    mul_div_ceil(
        evidence_wad,
        forget_power(epochs, forget_wad, true)?,
        pow_one(),
    )
}

/// `mean(good, bad)`: (g + 1) / (g + b + 2), rounded down.
pub fn mean(good_wad: U256, bad_wad: U256) -> Result<U256, Rev> {
    let alpha = add(good_wad, wad())?;
    mul_div(alpha, wad(), add(add(alpha, bad_wad)?, wad())?)
}

/// `lowerBound(good, bad, z)`: max(0, m − z·√v), the mean rounded down, the variance and the margin up, at 1e36,
/// the result rounded down to WAD.
pub fn lower_bound(good_wad: U256, bad_wad: U256, z_wad: u64) -> Result<U256, Rev> {
    check_z(z_wad)?;
    let one = pow_one();
    let alpha = add(good_wad, wad())?;
    let beta = add(bad_wad, wad())?;
    let total = add(alpha, beta)?;
    let mean_down = mul_div(alpha, one, total)?;
    let mean_up = mul_div_ceil(alpha, one, total)?;
    let complement_up = mul_div_ceil(beta, one, total)?;
    let variance_up = mul_div_ceil(mean_up, complement_up, mul(add(total, wad())?, wad())?)?;
    let z = u(z_wad);
    let margin_up = sqrt_ceil(mul(mul(z, z)?, variance_up)?);
    if mean_down <= margin_up {
        return Ok(U256::ZERO);
    }
    Ok((mean_down - margin_up) / wad())
}

/// `step(previous, target, maxStep)`: toward the target by at most the step, either way.
pub fn step(previous_wad: U256, target_wad: U256, max_step_wad: u64) -> Result<U256, Rev> {
    check_max_step(max_step_wad)?;
    let max = u(max_step_wad);
    Ok(if target_wad > previous_wad {
        if target_wad - previous_wad > max {
            add(previous_wad, max)?
        } else {
            target_wad
        }
    } else if previous_wad - target_wad > max {
        previous_wad - max
    } else {
        target_wad
    })
}

/// `interpolate(rating, atFloor, atTop)`: linear in the rating, rounded toward `atFloor`.
pub fn interpolate(rating_wad: U256, at_floor: U256, at_top: U256) -> Result<U256, Rev> {
    if rating_wad > wad() {
        return Err(ErrorKind::of::<RatingAboveOne>());
    }
    if at_top >= at_floor {
        return add(at_floor, mul_div(at_top - at_floor, rating_wad, wad())?);
    }
    Ok(at_floor - mul_div(at_floor - at_top, rating_wad, wad())?)
}

/// `_forgetPower`: λ^epochs at 1e36 by squaring, each product rounded as asked, clamped at `POW_DUST`.
fn forget_power(epochs: u64, forget_wad: u64, round_up: bool) -> Result<U256, Rev> {
    check_forget(forget_wad)?;
    let mut remaining = epochs.min(MAX_DECAY_EPOCHS);
    let mut base = u(forget_wad) * wad();
    let mut power = pow_one();
    loop {
        if remaining & 1 == 1 {
            power = mul_pow(power, base, round_up)?;
        }
        remaining >>= 1;
        if remaining == 0 {
            break;
        }
        base = mul_pow(base, base, round_up)?;
    }
    if power < u(POW_DUST) {
        power = if round_up { u(POW_DUST) } else { U256::ZERO };
    }
    Ok(power)
}

/// `_mulPow`: a·b / 1e36, rounded as asked.
fn mul_pow(a: U256, b: U256, round_up: bool) -> Result<U256, Rev> {
    let product = mul(a, b)?;
    Ok(if round_up {
        ceil_div(product, pow_one())
    } else {
        product / pow_one()
    })
}

/// `Math.sqrt(a, Rounding.Ceil)`: ⌈√a⌉.
fn sqrt_ceil(a: U256) -> U256 {
    let root = isqrt(a);
    if root * root < a { root + u(1) } else { root }
}

/// ⌊√a⌋ by Newton's iteration from a power of two at or above the root.
pub(super) fn isqrt(a: U256) -> U256 {
    if a < u(2) {
        return a;
    }
    let mut x = U256::from(1u64) << a.bit_len().div_ceil(2);
    loop {
        let y = (x + a / x) >> 1usize;
        if y >= x {
            return x;
        }
        x = y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(x: &str) -> U256 {
        x.parse().unwrap()
    }

    #[test]
    fn isqrt_is_the_floor_root() {
        let mut rng = bulkhead_rng::SplitMix64::new(7);
        for i in 0..2_000u64 {
            let a = match i % 4 {
                0 => U256::from(i),
                1 => U256::from(rng.next_u64()),
                2 => U256::from(rng.next_u64()) * U256::from(rng.next_u64()),
                _ => {
                    U256::from(rng.next_u64())
                        * U256::from(rng.next_u64())
                        * U256::from(rng.next_u64())
                        * U256::from(rng.next_u64() >> 3)
                }
            };
            let r = isqrt(a);
            assert!(r * r <= a, "{a}: {r}");
            assert!((r + u(1)) * (r + u(1)) > a, "{a}: {r}");
            assert_eq!(r, a.root(2), "{a}");
        }
        assert_eq!(sqrt_ceil(u(16)), u(4));
        assert_eq!(sqrt_ceil(u(17)), u(5));
    }

    /// The worked table of `docs/reputation.md` (defaults; a new AVS, 50 clean epochs with a full unit each, a vetoed
    /// request in epoch 51, clean again after): every rating, risk weight and bond fraction the table prints to the
    /// wei, from the library's functions as `Reputation._checkpoint` chains them.
    #[test]
    fn the_worked_table_of_the_reputation_doc() {
        let p = Params::default();
        validate(p).unwrap();
        let (mut good, mut bad, mut rating) = (U256::ZERO, U256::ZERO, U256::ZERO);
        let mut rows = Vec::new();
        for epoch in 1..=60u32 {
            good = decay_good(good, 1, p.forget_wad).unwrap();
            bad = decay_bad(bad, 1, p.forget_wad).unwrap();
            if epoch == 51 {
                bad += u(3) * wad();
            } else {
                good += clean_epoch_evidence(u(100), u(100)).unwrap();
            }
            let target = lower_bound(good, bad, p.z_wad).unwrap();
            let next = step(rating, target, p.max_step_wad).unwrap();
            let moved = if next > rating {
                next - rating
            } else {
                rating - next
            };
            assert!(moved <= u(p.max_step_wad), "epoch {epoch}");
            rating = next;
            let risk = interpolate(rating, u(3) * wad(), wad()).unwrap();
            let bond =
                interpolate(rating, w("500000000000000000"), w("50000000000000000")).unwrap();
            rows.push((epoch, rating, risk, bond));
        }
        let expected = [
            (
                1,
                "50000000000000000",
                "2900000000000000000",
                "477500000000000000",
            ),
            (
                2,
                "100000000000000000",
                "2800000000000000000",
                "455000000000000000",
            ),
            (
                5,
                "250000000000000000",
                "2500000000000000000",
                "387500000000000000",
            ),
            (
                10,
                "500000000000000000",
                "2000000000000000000",
                "275000000000000000",
            ),
            (
                15,
                "750000000000000000",
                "1500000000000000000",
                "162500000000000000",
            ),
            (
                16,
                "783762658494672472",
                "1432474683010655056",
                "147306803677397388",
            ),
            (
                20,
                "806517801863347364",
                "1386964396273305272",
                "137066989161493687",
            ),
            (
                30,
                "836785931874588069",
                "1326428136250823862",
                "123446330656435369",
            ),
            (
                50,
                "858046272742813170",
                "1283907454514373660",
                "113879177265734074",
            ),
            (
                51,
                "808046272742813170",
                "1383907454514373660",
                "136379177265734074",
            ),
            (
                52,
                "758046272742813170",
                "1483907454514373660",
                "158879177265734074",
            ),
            (
                53,
                "708046272742813170",
                "1583907454514373660",
                "181379177265734074",
            ),
            (
                54,
                "689961284662773347",
                "1620077430674453306",
                "189517421901751994",
            ),
            (
                55,
                "697632909006527774",
                "1604734181986944452",
                "186065190947062502",
            ),
            (
                60,
                "731643676629715063",
                "1536712646740569874",
                "170760345516628222",
            ),
        ];
        for (epoch, r, rw, b) in expected {
            let row = rows[epoch as usize - 1];
            assert_eq!((row.1, row.2, row.3), (w(r), w(rw), w(b)), "epoch {epoch}");
        }
        // A fresh identity rates 0 (the floor) for every allowed z.
        for z in [MIN_Z_WAD, 2_000_000_000_000_000_000, MAX_Z_WAD] {
            assert_eq!(lower_bound(U256::ZERO, U256::ZERO, z).unwrap(), U256::ZERO);
        }
    }

    #[test]
    fn out_of_bounds_parameters_are_the_named_errors() {
        let p = Params::default();
        let e = |r: Result<U256, Rev>| r.unwrap_err();
        assert_eq!(
            e(decay_good(u(1), 1, MIN_FORGET_WAD - 1)),
            ErrorKind::of::<ForgetFactorOutOfBounds>()
        );
        assert_eq!(
            e(lower_bound(u(1), u(1), MAX_Z_WAD + 1)),
            ErrorKind::of::<ConfidenceOutOfBounds>()
        );
        assert_eq!(
            e(step(u(1), u(2), MAX_MAX_STEP_WAD + 1)),
            ErrorKind::of::<MaxStepOutOfBounds>()
        );
        assert_eq!(
            e(interpolate(wad() + u(1), u(3), u(1))),
            ErrorKind::of::<RatingAboveOne>()
        );
        assert_eq!(
            e(clean_epoch_evidence(u(1), U256::ZERO)),
            ErrorKind::of::<ZeroEvidenceUnit>()
        );
        assert!(validate(p).is_ok());
        // Decay past 2^16 epochs is the clamp: nothing good left, a wei of bad at most.
        assert_eq!(
            decay_good(wad(), 1 << 20, p.forget_wad).unwrap(),
            U256::ZERO
        );
        assert_eq!(decay_bad(wad(), 1 << 20, p.forget_wad).unwrap(), u(1));
    }
}
