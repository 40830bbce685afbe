//! Values as scenario files write them: amounts in token units, fractions, ratios, durations, and back to text.
//!
//! Every parser returns the expected form in its error, so a bad value reads
//! `expected a fraction like "0.25" or "25%", got "1.5"`.

use alloy::primitives::U256;

use crate::raw::Scalar;

/// 1e18: the contracts' fixed-point unit for fractions and ratios.
pub(crate) use bulkhead_contracts::WAD;

/// `10^exp` as a `U256`.
pub(crate) fn pow10(exp: u32) -> U256 {
    U256::from(10u64).pow(U256::from(exp))
}

/// Parses a non-negative decimal (`"12.5"`, `"1_000"`) scaled by `10^scale`; an error if it is not a decimal or
/// has more than `scale` significant fractional digits.
fn decimal(text: &str, scale: u32) -> Result<U256, DecimalError> {
    let text: String = text.chars().filter(|c| *c != '_').collect();
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    if int.is_empty() && frac.is_empty()
        || !int.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return Err(DecimalError::Syntax);
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > scale as usize {
        return Err(DecimalError::TooPrecise);
    }
    let digits = format!("{int}{frac}{}", "0".repeat(scale as usize - frac.len()));
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(U256::ZERO);
    }
    digits.parse().map_err(|_| DecimalError::Syntax)
}

#[derive(Debug, PartialEq, Eq)]
enum DecimalError {
    Syntax,
    TooPrecise,
}

/// How a scalar was written, for "got ..." in messages: strings quoted, numbers as written.
pub(crate) fn shown(value: &Scalar) -> String {
    match value {
        Scalar::Str(s) => format!("{s:?}"),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Other(kind) => format!("a {kind}"),
    }
}

/// The text of a scalar that may hold a number: strings as they are, integers and floats as written.
fn numeric_text(value: &Scalar) -> Option<String> {
    match value {
        Scalar::Str(s) => Some(s.trim().to_string()),
        Scalar::Int(i) if *i >= 0 => Some(i.to_string()),
        Scalar::Float(f) if f.is_finite() && *f >= 0.0 => Some(f.to_string()),
        _ => None,
    }
}

/// An amount of a token with `decimals` decimals and symbol `symbol`:
/// `"12.5"` or `"12.5 WETH"` in token units, `"12500000 raw"` in base units. A bare TOML integer is refused: `600`
/// read as 600 base units (wei) when 600 tokens were meant is the mistake it would invite.
pub(crate) fn amount(value: &Scalar, decimals: u8, symbol: &str) -> Result<U256, String> {
    let expected = || {
        format!(
            "expected an amount like \"12.5\" ({symbol} units), \"12.5 {symbol}\" or \"12500 raw\" (base units), got {}",
            shown(value)
        )
    };
    match value {
        Scalar::Int(i) => {
            return Err(format!(
                "a bare number is ambiguous: write \"{i}\" for {i} {symbol} or \"{i} raw\" for {i} base units"
            ));
        }
        Scalar::Str(_) | Scalar::Float(_) => {}
        _ => return Err(expected()),
    }
    let text = numeric_text(value).ok_or_else(expected)?;
    let (number, unit) = match text.split_once(char::is_whitespace) {
        Some((number, unit)) => (number.trim(), Some(unit.trim())),
        None => (text.as_str(), None),
    };
    match unit {
        Some("raw") => decimal(number, 0).map_err(|_| expected()),
        Some(unit) if unit != symbol => Err(format!(
            "{}: the unit {unit:?} is not this amount's token {symbol}",
            expected()
        )),
        _ => decimal(number, u32::from(decimals)).map_err(|e| match e {
            DecimalError::TooPrecise => {
                format!("{} ({symbol} has {decimals} decimals)", expected())
            }
            DecimalError::Syntax => expected(),
        }),
    }
}

/// A fraction in WAD: `"0.25"`, `"25%"`, `0`, `1`; at most one.
/// A fraction as written in a scenario file (`"25%"`, `"0.25"`), in WAD; the error says what is wrong.
pub fn parse_fraction(text: &str) -> Result<u64, String> {
    fraction(&Scalar::Str(text.to_string()))
}

pub(crate) fn fraction(value: &Scalar) -> Result<u64, String> {
    let expected = || {
        format!(
            "expected a fraction like \"0.25\" or \"25%\", got {}",
            shown(value)
        )
    };
    let text = numeric_text(value).ok_or_else(expected)?;
    let wad = match text.strip_suffix('%') {
        Some(percent) => decimal(percent.trim(), 16),
        None => decimal(&text, 18),
    }
    .map_err(|_| expected())?;
    if wad > U256::from(WAD) {
        return Err(expected());
    }
    Ok(wad.to::<u64>())
}

/// A ratio in WAD, not bounded: `"5.25"`, `"5.25x"`, `"525%"`.
pub(crate) fn ratio(value: &Scalar) -> Result<U256, String> {
    let expected = || {
        format!(
            "expected a ratio like \"1.5\", \"1.5x\" or \"150%\", got {}",
            shown(value)
        )
    };
    let text = numeric_text(value).ok_or_else(expected)?;
    if let Some(percent) = text.strip_suffix('%') {
        return decimal(percent.trim(), 16).map_err(|_| expected());
    }
    let text = text.strip_suffix('x').unwrap_or(&text).trim();
    decimal(text, 18).map_err(|_| expected())
}

/// A duration in seconds: `"1d"`, `"36h"`, `"1d12h"`, `"90m"`, `"45s"`, `"2w"`, or an integer number of seconds.
pub(crate) fn duration(value: &Scalar) -> Result<u64, String> {
    let expected = || {
        format!(
            "expected a duration like \"1d\", \"12h\", \"30m\", \"45s\" or \"1d12h\", or seconds as an integer, got {}",
            shown(value)
        )
    };
    let text = match value {
        Scalar::Int(i) if *i >= 0 => return Ok(*i as u64),
        Scalar::Str(s) => s.replace([' ', '_'], ""),
        _ => return Err(expected()),
    };
    if text.is_empty() {
        return Err(expected());
    }
    let (mut total, mut number) = (0u64, String::new());
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            'w' => 7 * 86_400,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return Err(expected()),
        };
        let n: u64 = number.parse().map_err(|_| expected())?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(expected)?;
        number.clear();
    }
    if !number.is_empty() {
        // A bare number after units ("1d3") is ambiguous; a bare number alone is seconds.
        if total != 0 {
            return Err(expected());
        }
        total = number.parse().map_err(|_| expected())?;
    }
    Ok(total)
}

/// `raw` base units of a token with `decimals` decimals, exactly, in token units: `400`, `0.5`, `399.999999999999999999`.
pub fn format_units(raw: U256, decimals: u8) -> String {
    let unit = pow10(u32::from(decimals));
    let (int, frac) = (raw / unit, raw % unit);
    if frac.is_zero() {
        return int.to_string();
    }
    let frac = format!("{frac:0>width$}", width = usize::from(decimals));
    format!("{int}.{}", frac.trim_end_matches('0'))
}

/// A WAD fraction as a percentage: `20%`, `0.5%`, `73%`.
pub fn format_percent(wad: U256) -> String {
    if wad == U256::MAX {
        return "∞".to_string();
    }
    format!("{}%", format_units(wad, 16))
}

/// A WAD ratio as a multiple: `1.25x`, `5.25x`, `∞` for an unbounded ratio.
pub fn format_ratio(wad: U256) -> String {
    if wad == U256::MAX {
        return "∞".to_string();
    }
    format!("{}x", format_units(wad, 18))
}

/// Seconds as the largest units that divide them: `1d`, `1d12h`, `90s`, `0s`.
pub fn format_duration(seconds: u64) -> String {
    if seconds == 0 {
        return "0s".to_string();
    }
    let mut rest = seconds;
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Scalar {
        Scalar::Str(text.to_string())
    }

    #[test]
    fn amounts() {
        let weth = |v: &Scalar| amount(v, 18, "WETH");
        assert_eq!(weth(&s("12.5")).unwrap(), U256::from(125u64) * pow10(17));
        assert_eq!(
            weth(&s("12.5 WETH")).unwrap(),
            U256::from(125u64) * pow10(17)
        );
        assert_eq!(weth(&s("1_000")).unwrap(), U256::from(1000u64) * pow10(18));
        assert_eq!(weth(&s("7 raw")).unwrap(), U256::from(7u64));
        assert!(
            weth(&Scalar::Int(600))
                .unwrap_err()
                .contains("write \"600\" for 600 WETH or \"600 raw\" for 600 base units")
        );
        assert_eq!(amount(&s("0.000001"), 6, "USDC").unwrap(), U256::from(1u64));
        assert!(
            amount(&s("0.0000001"), 6, "USDC")
                .unwrap_err()
                .contains("USDC has 6 decimals")
        );
        assert!(weth(&s("12.5 USDC")).is_err());
        assert!(weth(&s("abc")).is_err());
        assert!(weth(&s("-1")).is_err());
        assert!(weth(&s(".")).is_err());
        assert!(weth(&Scalar::Int(-1)).is_err());
    }

    #[test]
    fn fractions_ratios_durations() {
        assert_eq!(fraction(&s("0.25")).unwrap(), WAD / 4);
        assert_eq!(fraction(&s("25%")).unwrap(), WAD / 4);
        assert_eq!(fraction(&s("100%")).unwrap(), WAD);
        assert_eq!(fraction(&Scalar::Float(0.5)).unwrap(), WAD / 2);
        assert_eq!(fraction(&Scalar::Int(1)).unwrap(), WAD);
        assert_eq!(
            fraction(&s("1.5")).unwrap_err(),
            "expected a fraction like \"0.25\" or \"25%\", got \"1.5\""
        );
        assert_eq!(ratio(&s("5.25")).unwrap(), U256::from(525u64) * pow10(16));
        assert_eq!(ratio(&s("5.25x")).unwrap(), U256::from(525u64) * pow10(16));
        assert_eq!(ratio(&s("525%")).unwrap(), U256::from(525u64) * pow10(16));
        assert_eq!(duration(&s("1d12h")).unwrap(), 129_600);
        assert_eq!(duration(&s("90m")).unwrap(), 5_400);
        assert_eq!(duration(&Scalar::Int(30)).unwrap(), 30);
        assert!(duration(&s("1x")).is_err());
        assert!(duration(&s("1d3")).is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(format_units(U256::from(400u64) * pow10(18), 18), "400");
        assert_eq!(format_units(U256::from(5u64) * pow10(17), 18), "0.5");
        assert_eq!(
            format_units(U256::from(400u64) * pow10(18) - U256::from(1u64), 18),
            "399.999999999999999999"
        );
        assert_eq!(format_percent(U256::from(2u64) * pow10(17)), "20%");
        assert_eq!(format_ratio(U256::from(525u64) * pow10(16)), "5.25x");
        assert_eq!(format_duration(129_600), "1d12h");
    }
}
