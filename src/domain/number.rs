//! Number handling shared by the methodology parser, the scoring engine and every page and
//! export: exact decimal keys (binary noise cut at [`NOISE_DECIMALS`]) and the one display
//! formatter.
//!
//! Scores are `f64` at full precision and are only rounded for display. Decimal rounding is
//! half away from zero on the *decimal* value: the binary value is first written out with nine
//! decimals (which removes float noise such as 2.675 being stored as 2.67499999999999982…),
//! then rounded on that decimal string.

use serde::{Deserialize, Serialize};

/// Decimals at which binary floating-point noise is cut off before any decimal rounding.
pub const NOISE_DECIMALS: u32 = 9;

/// Rounds `|x|` half away from zero to `decimals` (≤ 9) decimals and returns the sign and the
/// scaled magnitude (e.g. 2.675, 2 → (false, 268)). `None` for non-finite or huge values.
fn rounded_parts(x: f64, decimals: u32) -> Option<(bool, u128)> {
    if !x.is_finite() {
        return None;
    }
    let d = usize::try_from(decimals.min(NOISE_DECIMALS)).ok()?;
    // `{:.9}` is computed from the exact binary value, so it is the decimal the value stands
    // for, to nine places.
    let s = format!("{:.9}", x.abs());
    let (int_part, frac) = s.split_once('.')?;
    let mut digits = String::with_capacity(int_part.len() + d);
    digits.push_str(int_part);
    digits.push_str(frac.get(..d)?);
    let mut scaled: u128 = digits.parse().ok()?;
    if frac.as_bytes().get(d).is_some_and(|&b| b >= b'5') {
        scaled = scaled.checked_add(1)?;
    }
    Some((x.is_sign_negative() && scaled != 0, scaled))
}

/// `x` rounded half away from zero to `decimals` decimals, as an exact scaled integer
/// (20.234, 2 → 2023). Used for exact comparisons; `None` for non-finite values.
pub fn decimal_key(x: f64, decimals: u32) -> Option<i128> {
    let (negative, scaled) = rounded_parts(x, decimals)?;
    let v = i128::try_from(scaled).ok()?;
    Some(if negative { -v } else { v })
}

/// Decimal separator: "." (English, exports) or "," (Vietnamese pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DecimalSeparator {
    /// "20.23"
    #[default]
    Dot,
    /// "20,23"
    Comma,
}

/// Formats points and percentages for display. No thousands grouping: scores are ≤ 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberFormat {
    /// Decimals shown (capped at 9).
    pub decimals: u32,
    /// Decimal separator.
    pub separator: DecimalSeparator,
}

impl Default for NumberFormat {
    fn default() -> Self {
        NumberFormat {
            decimals: 2,
            separator: DecimalSeparator::Dot,
        }
    }
}

/// What non-finite values display as (they are never produced by the engine itself).
pub const MISSING_VALUE: &str = "—";

impl NumberFormat {
    /// Formats a value: 20.234 → "20.23", 2.675 → "2.68", −0.001 → "0.00".
    pub fn format(&self, x: f64) -> String {
        let d = self.decimals.min(NOISE_DECIMALS);
        let sep = match self.separator {
            DecimalSeparator::Dot => '.',
            DecimalSeparator::Comma => ',',
        };
        let Some((negative, scaled)) = rounded_parts(x, d) else {
            if x.is_finite() {
                // Beyond u128 range: no reader needs decimals on such a number.
                let width = usize::try_from(d).unwrap_or(2);
                return format!("{x:.width$}").replace('.', &sep.to_string());
            }
            return MISSING_VALUE.to_owned();
        };
        let pow = 10u128.pow(d);
        let mut out = String::new();
        if negative {
            out.push('-');
        }
        out.push_str(&(scaled / pow).to_string());
        if d > 0 {
            out.push(sep);
            let width = usize::try_from(d).unwrap_or(0);
            out.push_str(&format!("{:0width$}", scaled % pow));
        }
        out
    }
}

/// Points with the default format (2 decimals, "."): `fmt_points(20.234) == "20.23"`.
pub fn fmt_points(x: f64) -> String {
    NumberFormat::default().format(x)
}

/// `points / max × 100`; `None` when `max` is not positive.
pub fn percent_of(points: f64, max: f64) -> Option<f64> {
    (max > 0.0 && max.is_finite()).then(|| points * 100.0 / max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_rounding_is_half_away_from_zero_on_the_decimal_value() {
        // 2.675 is stored as 2.67499999999999982…; it must still display as "2.68".
        assert_eq!(fmt_points(2.675), "2.68");
        assert_eq!(fmt_points(1.005), "1.01");
        assert_eq!(fmt_points(0.125), "0.13");
        assert_eq!(fmt_points(-2.675), "-2.68");
        assert_eq!(fmt_points(-0.001), "0.00", "no negative zero");
        assert_eq!(fmt_points(100.0), "100.00");
        assert_eq!(fmt_points(0.1 + 0.2), "0.30");
        let whole = NumberFormat {
            decimals: 0,
            separator: DecimalSeparator::Dot,
        };
        assert_eq!(whole.format(2.5), "3");
        assert_eq!(whole.format(0.5), "1");
        let three = NumberFormat {
            decimals: 3,
            separator: DecimalSeparator::Comma,
        };
        assert_eq!(three.format(20.234 * 100.0 / 22.0), "91,973");
        assert_eq!(decimal_key(2.675, 2), Some(268));
        assert_eq!(decimal_key(-2.675, 2), Some(-268));
        assert_eq!(fmt_points(f64::NAN), MISSING_VALUE);
        assert_eq!(fmt_points(f64::INFINITY), MISSING_VALUE);
        assert!(
            fmt_points(1e300).starts_with('1'),
            "huge values still format without panicking"
        );
    }
}
