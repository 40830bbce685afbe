//! Exact numbers: parsing the file's decimal and fractional strings, printing rationals in lowest terms, and
//! [`Exact`], the typed number of the reports (rendered only at the edge: JSON, tables, HTML).

use std::{fmt, str::FromStr};

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An exact rational (always kept in lowest terms with a positive denominator).
pub type Q = BigRational;

/// An exact number of a report. It displays and serializes as [`fmt`] prints it (`"3/5"`, `"-2"`), deserializes
/// from what [`parse`] reads, and orders as the rational it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Exact(pub Q);

impl Exact {
    /// A short decimal rendering for humans (tables, charts); never used to decide anything.
    pub fn approx(&self) -> f64 {
        approx(&self.0)
    }

    /// Whether it is a whole number (prints without a `/`).
    pub fn is_integer(&self) -> bool {
        self.0.is_integer()
    }

    /// The exact decimal expansion (`"12.5"`, `"-0.25"`) when it terminates, `None` otherwise (`1/3`).
    pub fn decimal(&self) -> Option<String> {
        decimal(&self.0)
    }
}

impl From<Q> for Exact {
    fn from(q: Q) -> Self {
        Exact(q)
    }
}

impl From<Exact> for Q {
    fn from(e: Exact) -> Self {
        e.0
    }
}

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&fmt(&self.0))
    }
}

impl FromStr for Exact {
    type Err = String;

    /// As [`parse`]: `"100"`, `"-3"`, `"3/2"` or `"0.125"`.
    fn from_str(text: &str) -> Result<Self, String> {
        parse(text).map(Exact)
    }
}

impl Serialize for Exact {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Exact {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses `"100"`, `"-3"`, `"3/2"` or `"0.125"` into an exact rational.
///
/// The error says what was expected; callers prefix it with the field's path.
pub fn parse(text: &str) -> Result<Q, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "{text:?} is not a number: expected an integer like \"100\", a fraction like \"3/2\" or a decimal like \"0.25\""
        )
    };
    if t.is_empty() {
        return Err(bad());
    }
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let value = if let Some((n, d)) = body.split_once('/') {
        if !digits(n) || !digits(d) {
            return Err(bad());
        }
        let d: BigInt = d.parse().map_err(|_| bad())?;
        if d.is_zero() {
            return Err(format!("{text:?} has a zero denominator"));
        }
        Q::new(n.parse().map_err(|_| bad())?, d)
    } else if let Some((i, f)) = body.split_once('.') {
        if !digits(i) || !digits(f) {
            return Err(bad());
        }
        let scale = num_traits::pow(BigInt::from(10u8), f.len());
        let numer: BigInt = format!("{i}{f}").parse().map_err(|_| bad())?;
        Q::new(numer, scale)
    } else {
        if !digits(body) {
            return Err(bad());
        }
        Q::from_integer(body.parse().map_err(|_| bad())?)
    };
    Ok(if neg { -value } else { value })
}

/// Prints a rational in lowest terms: `"0"`, `"3/5"`, `"-11/10"`.
pub fn fmt(q: &Q) -> String {
    if q.denom().is_one() {
        q.numer().to_string()
    } else {
        format!("{}/{}", q.numer(), q.denom())
    }
}

/// The exact decimal expansion of `q` when its denominator has no prime factor but 2 and 5, `None` otherwise.
pub fn decimal(q: &Q) -> Option<String> {
    let (two, five) = (BigInt::from(2u8), BigInt::from(5u8));
    let mut rest = q.denom().clone();
    let mut places = [0usize; 2];
    for (k, p) in [&two, &five].into_iter().enumerate() {
        while (&rest % p).is_zero() {
            rest /= p;
            places[k] += 1;
        }
    }
    if !rest.is_one() {
        return None;
    }
    let places = places[0].max(places[1]);
    let digits =
        (q.numer().abs() * num_traits::pow(BigInt::from(10u8), places) / q.denom()).to_string();
    let sign = if q.is_negative() { "-" } else { "" };
    if places == 0 {
        return Some(format!("{sign}{digits}"));
    }
    let digits = format!("{digits:0>width$}", width = places + 1);
    let (int, frac) = digits.split_at(digits.len() - places);
    Some(format!("{sign}{int}.{frac}"))
}

/// A short decimal rendering for humans (tables, charts); never used to decide anything.
pub fn approx(q: &Q) -> f64 {
    ratio_f64(q.numer(), q.denom())
}

/// `n / d` as a float, robust to huge operands.
pub fn ratio_f64(n: &BigInt, d: &BigInt) -> f64 {
    let (nb, db) = (n.bits() as i64, d.bits() as i64);
    let shift = (nb.max(db) - 1000).max(0);
    let n2: BigInt = n >> shift as usize;
    let d2: BigInt = d >> shift as usize;
    let nf: f64 = n2.to_string().parse().unwrap_or(f64::NAN);
    let df: f64 = d2.to_string().parse().unwrap_or(f64::NAN);
    if df == 0.0 { f64::NAN } else { nf / df }
}

/// `a / b` for two scaled integers, in lowest terms (b > 0).
pub fn frac(a: i128, b: i128) -> Q {
    Q::new(BigInt::from(a), BigInt::from(b))
}

/// True for a rational strictly between 0 and 1 inclusive of 1: `(0, 1]`.
pub fn in_unit_interval(q: &Q) -> bool {
    q.is_positive() && *q <= Q::one()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_in_lowest_terms() {
        assert_eq!(fmt(&parse("6/10").unwrap()), "3/5");
        assert_eq!(fmt(&parse("-22/20").unwrap()), "-11/10");
        assert_eq!(fmt(&parse("0").unwrap()), "0");
        assert_eq!(fmt(&parse("0/7").unwrap()), "0");
        assert_eq!(fmt(&parse("100").unwrap()), "100");
        assert_eq!(fmt(&parse("0.125").unwrap()), "1/8");
        assert_eq!(fmt(&parse("-1.50").unwrap()), "-3/2");
        assert_eq!(
            fmt(&parse("32000000000000000000").unwrap()),
            "32000000000000000000"
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "", "abc", "1/0", "1//2", "1e5", "--1", "1/", "/2", ".5", "1.", "0x10", "1/-2",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(parse("1/0").unwrap_err().contains("zero denominator"));
    }

    #[test]
    fn exact_prints_serializes_and_orders_as_a_rational() {
        let e: Exact = "6/10".parse().unwrap();
        assert_eq!(e.to_string(), "3/5");
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"3/5\"");
        assert_eq!(serde_json::from_str::<Exact>("\"0.6\"").unwrap(), e);
        assert!(serde_json::from_str::<Exact>("\"x\"").is_err());
        assert!(e < "2/3".parse().unwrap() && e > "-1".parse().unwrap());
        assert_eq!(format!("{e:>5}"), "  3/5");
        assert!((e.approx() - 0.6).abs() < 1e-12 && !e.is_integer());
    }

    #[test]
    fn decimals_terminate_or_not() {
        let d = |t: &str| decimal(&parse(t).unwrap());
        assert_eq!(d("500").as_deref(), Some("500"));
        assert_eq!(d("25/2").as_deref(), Some("12.5"));
        assert_eq!(d("-1/40").as_deref(), Some("-0.025"));
        assert_eq!(d("0.000001").as_deref(), Some("0.000001"));
        assert_eq!(d("299/10").as_deref(), Some("29.9"));
        assert_eq!(d("1/3"), None);
    }

    #[test]
    fn unit_interval() {
        assert!(in_unit_interval(&parse("1").unwrap()));
        assert!(in_unit_interval(&parse("1/3").unwrap()));
        assert!(!in_unit_interval(&parse("0").unwrap()));
        assert!(!in_unit_interval(&parse("3/2").unwrap()));
    }
}
