#!/usr/bin/env python3
"""The worked table of docs/reputation.md, and the reference values of test/libraries/BetaReputation.t.sol.

Two implementations of the rating, kept apart on purpose:

* `Fixed`: a line-by-line mirror of contracts/libraries/BetaReputation.sol in Python integers (floor and ceiling
  divisions, a ceiling integer square root, the same 1e36 intermediate scale). It reproduces the library to the wei,
  so the table's wei-exact columns are what the contract computes; `BetaReputationTest.test_workedTable_matchesDoc`
  replays the same epochs through the library and asserts them.
* `exact_*`: the mathematics with no rounding at all: `fractions.Fraction` for the mean and the variance, a
  100-digit `decimal` square root. `--check` compares the two: the fixed-point result must sit on the side the
  library promises (a rating at or below the exact one, a decayed bad evidence at or above) and within a stated
  number of wei.

Usage (stdlib only):
  python3 script/reputation_table.py            the table of docs/reputation.md (markdown)
  python3 script/reputation_table.py --all      every epoch, 0 to 60
  python3 script/reputation_table.py --check    fixed point vs exact on the table and on the unit tests' values
  python3 script/reputation_table.py --known    the exact values the unit tests compare against
  python3 script/reputation_table.py --solidity the table's wei-exact columns as Solidity array literals
"""

import sys
from decimal import Decimal, getcontext
from fractions import Fraction
from math import isqrt

getcontext().prec = 100

WAD = 10**18
POW_ONE = 10**36  # BetaReputation's intermediate scale for λ^k and for the mean and variance

# ---------------------------------------------------------------- the defaults (docs/reputation.md)
FORGET_WAD = 95 * 10**16  # λ = 0.95 per epoch
Z_WAD = 2 * WAD  # z = 2
MAX_STEP_WAD = 5 * 10**16  # 0.05 per epoch
RISK_WEIGHT_AT_FLOOR, RISK_WEIGHT_AT_TOP = 3 * WAD, 1 * WAD  # 3x for a new AVS down to 1x
BOND_AT_FLOOR, BOND_AT_TOP = 50 * 10**16, 5 * 10**16  # 50% of the backing down to 5%
CLEAN_EPOCH_GOOD_WAD = WAD  # a clean epoch with its full value at risk
VETOED_REQUEST_BAD_WAD = 3 * WAD  # a vetoed slash request, charged to the AVS

# ---------------------------------------------------------------- the library's constants
MAX_DECAY_EPOCHS = 2**16
POW_DUST = 10**9


def ceil_div(a, b):
    return -(-a // b)


def mul_div(x, y, d, up=False):
    return ceil_div(x * y, d) if up else x * y // d


def sqrt_ceil(a):
    r = isqrt(a)
    return r + (r * r < a)


class Fixed:
    """BetaReputation.sol, operation for operation."""

    @staticmethod
    def forget_power(forget_wad, epochs, up):
        k = min(epochs, MAX_DECAY_EPOCHS)
        base = forget_wad * WAD
        power = POW_ONE
        while True:
            if k & 1:
                power = mul_div(power, base, POW_ONE, up)
            k >>= 1
            if k == 0:
                break
            base = mul_div(base, base, POW_ONE, up)
        if power < POW_DUST:
            power = POW_DUST if up else 0
        return power

    @staticmethod
    def decay_good(evidence, epochs, forget_wad):
        return mul_div(evidence, Fixed.forget_power(forget_wad, epochs, False), POW_ONE)

    @staticmethod
    def decay_bad(evidence, epochs, forget_wad):
        return mul_div(evidence, Fixed.forget_power(forget_wad, epochs, True), POW_ONE, True)

    @staticmethod
    def mean(good, bad):
        alpha, beta = good + WAD, bad + WAD
        return mul_div(alpha, WAD, alpha + beta)

    @staticmethod
    def lower_bound(good, bad, z_wad):
        alpha, beta = good + WAD, bad + WAD
        total = alpha + beta
        mean_down = mul_div(alpha, POW_ONE, total)
        mean_up = mul_div(alpha, POW_ONE, total, True)
        complement_up = mul_div(beta, POW_ONE, total, True)
        variance_up = mul_div(mean_up, complement_up, (total + WAD) * WAD, True)
        margin_up = sqrt_ceil(z_wad * z_wad * variance_up)
        return (mean_down - margin_up) // WAD if mean_down > margin_up else 0

    @staticmethod
    def step(previous, target, max_step):
        if target > previous:
            return previous + max_step if target - previous > max_step else target
        return previous - max_step if previous - target > max_step else target

    @staticmethod
    def interpolate(rating, at_floor, at_top):
        if at_top >= at_floor:
            return at_floor + mul_div(at_top - at_floor, rating, WAD)
        return at_floor - mul_div(at_floor - at_top, rating, WAD)

    @staticmethod
    def clean_epoch_evidence(value_at_risk, evidence_unit):
        return WAD if value_at_risk >= evidence_unit else mul_div(value_at_risk, WAD, evidence_unit)


# ---------------------------------------------------------------- exact mathematics, no rounding


def dec_sqrt(x):
    return Decimal(x.numerator).sqrt() / Decimal(x.denominator).sqrt() if x else Decimal(0)


def exact_mean(good, bad):
    """good, bad as Fractions of a unit."""
    return (good + 1) / (good + bad + 2)


def exact_lower_bound(good, bad, z):
    """The lower confidence bound as a Decimal (100 digits), clamped at 0."""
    m = exact_mean(good, bad)
    v = m * (1 - m) / (good + bad + 3)
    lb = Decimal(m.numerator) / Decimal(m.denominator) - Decimal(z.numerator) / Decimal(z.denominator) * dec_sqrt(v)
    return max(lb, Decimal(0))


def wad(x):
    """A Fraction or Decimal in units, as a Decimal count of wei."""
    if isinstance(x, Fraction):
        return Decimal(x.numerator) * WAD / Decimal(x.denominator)
    return x * WAD


# ---------------------------------------------------------------- the worked table

CLEAN_EPOCHS = 50
LAST_EPOCH = 60


def run_epochs(last=LAST_EPOCH):
    """One checkpoint per epoch: decay the history by one epoch, add the epoch's evidence, move the rating one
    bounded step toward the new target. Epochs 1-50 are clean with full value at risk; epoch 51 carries a vetoed
    slash request (3 units of bad evidence, and not clean, so no good evidence); epochs 52 on are clean again."""
    good = bad = rating = 0
    rows = [dict(epoch=0, good=0, bad=0, mean=Fixed.mean(0, 0), target=Fixed.lower_bound(0, 0, Z_WAD), rating=0)]
    for epoch in range(1, last + 1):
        vetoed = epoch == CLEAN_EPOCHS + 1
        good = Fixed.decay_good(good, 1, FORGET_WAD) + (0 if vetoed else CLEAN_EPOCH_GOOD_WAD)
        bad = Fixed.decay_bad(bad, 1, FORGET_WAD) + (VETOED_REQUEST_BAD_WAD if vetoed else 0)
        target = Fixed.lower_bound(good, bad, Z_WAD)
        rating = Fixed.step(rating, target, MAX_STEP_WAD)
        rows.append(dict(epoch=epoch, good=good, bad=bad, mean=Fixed.mean(good, bad), target=target, rating=rating))
    for row in rows:
        row["risk_weight"] = Fixed.interpolate(row["rating"], RISK_WEIGHT_AT_FLOOR, RISK_WEIGHT_AT_TOP)
        row["bond"] = Fixed.interpolate(row["rating"], BOND_AT_FLOOR, BOND_AT_TOP)
    return rows


DOC_EPOCHS = [0, 1, 2, 5, 10, 15, 16, 20, 30, 50, 51, 52, 53, 54, 55, 60]


def fmt(value, digits=4):
    """wei -> a decimal with `digits` decimals, truncated (never rounded up: it is the value shown, not more)."""
    scaled = value * 10**digits // WAD
    return f"{scaled // 10**digits}.{scaled % 10**digits:0{digits}d}"


def exact18(value):
    return f"{value // WAD}.{value % WAD:018d}"


def notes(rows):
    """What each row shows, said once: the first epoch where the step bound stops binding, before and after the veto."""
    said = {0: "new AVS: the floor", 10: "after 10 clean epochs", 50: "after 50 clean epochs"}
    said[CLEAN_EPOCHS + 1] = "vetoed slash request: +3 bad, no good"
    caught_up = recovered = False
    for row in rows:
        on_target = row["rating"] == row["target"]
        if on_target and 0 < row["epoch"] <= CLEAN_EPOCHS and not caught_up:
            said.setdefault(row["epoch"], "rating reaches its target: the step bound stops binding")
            caught_up = True
        if on_target and row["epoch"] > CLEAN_EPOCHS + 1 and not recovered:
            said.setdefault(row["epoch"], "the fall stops: rating back on the (recovering) target")
            recovered = True
    return said


def table(epochs):
    rows = run_epochs()
    said = notes(rows)
    out = [
        "| epoch | good | bad | mean | target | rating | risk weight | bond fraction | |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        if row["epoch"] not in epochs:
            continue
        out.append(
            f"| {row['epoch']} | {fmt(row['good'])} | {fmt(row['bad'])} | {fmt(row['mean'])} | {fmt(row['target'])}"
            f" | {exact18(row['rating'])} | {exact18(row['risk_weight'])} | {exact18(row['bond'])}"
            f" | {said.get(row['epoch'], '')} |"
        )
    return "\n".join(out)


# ---------------------------------------------------------------- the unit tests' known values

# (good wei, bad wei, z wad): exact lower bound, compared by the unit tests within 2 wei below.
KNOWN_BOUNDS = [
    (0, 0, Z_WAD),
    (WAD, 0, Z_WAD),
    (10 * WAD, 0, Z_WAD),
    (20 * WAD, 0, Z_WAD),
    (20 * WAD, 3 * WAD, Z_WAD),
    (100 * WAD, 5 * WAD, 3 * WAD),
    (1_000 * WAD, 1 * WAD, 3 * WAD),
    (WAD // 2, 0, 1_750 * 10**15),
    (0, 7 * WAD, Z_WAD),
    (7_500 * 10**15, 2_250 * 10**15, 1_750 * 10**15),
]
# (evidence wei, epochs, forget wad): exact decayed evidence.
KNOWN_DECAYS = [
    (WAD, 1, FORGET_WAD),
    (WAD, 10, FORGET_WAD),
    (20 * WAD, 50, FORGET_WAD),
    (3 * WAD, 13, FORGET_WAD),
    (WAD, 1_000, 999 * 10**15),
    (123_456_789 * 10**12, 37, 5 * 10**17),
]


def exact_decay(evidence, epochs, forget_wad):
    return Fraction(evidence) * Fraction(forget_wad, WAD) ** epochs


def known():
    print("lowerBound(good, bad, z): exact value in wei (100 digits), the library's result, the gap")
    for g, b, z in KNOWN_BOUNDS:
        exact = wad(exact_lower_bound(Fraction(g, WAD), Fraction(b, WAD), Fraction(z, WAD)))
        print(f"  ({g}, {b}, {z}): exact {exact:.6f}  floor {int(exact)}  library {Fixed.lower_bound(g, b, z)}")
    print("decay(evidence, epochs, forget): exact value in wei; good rounds down, bad rounds up")
    for e, k, f in KNOWN_DECAYS:
        exact = exact_decay(e, k, f)
        print(
            f"  ({e}, {k}, {f}): exact {float(exact):.6e}  floor {exact.numerator // exact.denominator}"
            f"  good {Fixed.decay_good(e, k, f)}  bad {Fixed.decay_bad(e, k, f)}"
        )


def check():
    failures = []

    def expect(ok, what):
        if not ok:
            failures.append(what)

    # The rating: the library's result is the exact bound rounded down, at most 1 wei below its floor.
    rows = run_epochs()
    cases = [(r["good"], r["bad"], Z_WAD) for r in rows] + KNOWN_BOUNDS
    worst = 0
    for g, b, z in cases:
        exact = wad(exact_lower_bound(Fraction(g, WAD), Fraction(b, WAD), Fraction(z, WAD)))
        lib = Fixed.lower_bound(g, b, z)
        gap = exact - lib
        worst = max(worst, gap)
        expect(Decimal(0) <= gap < 2, f"lowerBound({g}, {b}, {z}) = {lib}, exact {exact}")
    print(f"lowerBound: {len(cases)} cases, library <= exact < library + {worst:.4f} wei")

    # The decays: good at or below the exact value, bad at or above, each within 1 wei (from the 1e36 power).
    for e, k, f in KNOWN_DECAYS + [(r["good"], 1, FORGET_WAD) for r in rows]:
        exact = exact_decay(e, k, f)
        good, bad = Fixed.decay_good(e, k, f), Fixed.decay_bad(e, k, f)
        expect(good <= exact < good + 1, f"decayGood({e}, {k}, {f}) = {good}, exact {float(exact)}")
        expect(bad - 1 < exact <= bad, f"decayBad({e}, {k}, {f}) = {bad}, exact {float(exact)}")
    print(f"decay: {len(KNOWN_DECAYS) + len(rows)} cases, good = floor(exact), bad = ceil(exact)")

    # The table's evidence against evidence decayed exactly, with no per-epoch rounding: how far the two drift.
    good = bad = Fraction(0)
    drift = 0
    for row in rows[1:]:
        vetoed = row["epoch"] == CLEAN_EPOCHS + 1
        good = good * Fraction(FORGET_WAD, WAD) + (0 if vetoed else 1)
        bad = bad * Fraction(FORGET_WAD, WAD) + (3 if vetoed else 0)
        drift = max(drift, abs(wad(good) - row["good"]), abs(wad(bad) - row["bad"]))
        expect(row["good"] <= wad(good) and wad(bad) <= row["bad"], f"epoch {row['epoch']}: evidence rounding")
    print(f"evidence after 60 per-epoch decays vs exact: within {drift:.4f} wei, good below, bad above")

    # The proof at BetaReputation._forgetPower, exhaustively for a few λ: both decays monotone in the epochs, for every
    # epoch count up to MAX_DECAY_EPOCHS (and past it, where it is clamped), and the power's rounding error below 2^17.
    for forget in (5 * 10**17, 777_777_777_777_777_777, FORGET_WAD, 998_999_999_999_999_999, 999 * 10**15):
        previous = None
        for k in range(MAX_DECAY_EPOCHS + 3):
            powers = (Fixed.forget_power(forget, k, False), Fixed.forget_power(forget, k, True))
            expect(previous is None or (powers[0] <= previous[0] and powers[1] <= previous[1]), f"λ^k, {forget}, {k}")
            previous = powers
        for k in range(300):
            exact = Fraction(forget, WAD) ** k * POW_ONE
            down, up = Fixed.forget_power(forget, k, False), Fixed.forget_power(forget, k, True)
            expect(down == 0 or exact - 2**17 < down <= exact, f"λ^k rounded down, {forget}, {k}")
            expect(exact <= up < max(exact + 2**17, POW_DUST + 1), f"λ^k rounded up, {forget}, {k}")
    print("λ^k: monotone in k for 5 values of λ and every k <= 65,538; error < 2^17 for k < 300")

    # The doc's prose: no evidence rates 0; the rating falls at most one step per epoch after the veto.
    expect(rows[0]["target"] == 0, "a new identity must rate 0")
    for a, b in zip(rows, rows[1:]):
        expect(abs(b["rating"] - a["rating"]) <= MAX_STEP_WAD, f"epoch {b['epoch']}: step bound")
    for f in failures:
        print("FAIL", f)
    return not failures


def solidity():
    """What test_workedTable_matchesDoc asserts: every epoch's rating to the wei, and each doc row's columns (good,
    bad, mean and target as the doc prints them, in ten-thousandths, truncated; risk weight and bond to the wei)."""
    rows = run_epochs()
    print(f"// ratings, epochs 0..{LAST_EPOCH}")
    print("[" + ", ".join(f"uint256({r['rating']})" if i == 0 else str(r["rating"]) for i, r in enumerate(rows)) + "]")
    print("// doc rows: epoch, good, bad, mean, target (1e-4, truncated), risk weight, bond fraction")
    for r in rows:
        if r["epoch"] in DOC_EPOCHS:
            cols = [r["epoch"]] + [r[k] * 10**4 // WAD for k in ("good", "bad", "mean", "target")]
            cols += [r["risk_weight"], r["bond"]]
            print("_row(" + ", ".join(map(str, cols)) + "),")


def main(argv):
    if "--check" in argv:
        return 0 if check() else 1
    if "--known" in argv:
        known()
    elif "--solidity" in argv:
        solidity()
    elif "--all" in argv:
        print(table(range(LAST_EPOCH + 1)))
    else:
        print(table(DOC_EPOCHS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
