//! One answer value and its stored JSON encoding, and the canonical text of decimal numbers.
//!
//! Its own module because both the condition language (`expr`) and the per-response answer map
//! (`answers`) need it, and `answers` depends on `expr`: keeping it here keeps the graph acyclic.
//! The encoding is described in `answers`.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest decimal number accepted, in characters (keeps conversions cheap and exact enough).
const MAX_DECIMAL_CHARS: usize = 40;

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerValue {
    /// A single-choice or yes/no answer: the chosen option code.
    Choice(String),
    /// A multiple-choice answer: the selected option codes, in the choice list's order.
    Choices(Vec<String>),
    /// A whole number.
    Integer(i64),
    /// A decimal number as canonical text (see [`normalize_decimal`]), so it round-trips exactly.
    Decimal(String),
    /// Free text.
    Text(String),
    /// A calendar date.
    Date(chrono::NaiveDate),
}

/// Normalises a decimal number: optional `-`, digits, optional `.` or `,` and digits. Leading
/// zeros and trailing fraction zeros are removed and `-0` becomes `0`, so equal numbers have
/// equal text. Returns `None` for anything else (including exponents and overlong input).
pub fn normalize_decimal(src: &str) -> Option<String> {
    let s = src.trim();
    if s.is_empty() || s.chars().count() > MAX_DECIMAL_CHARS {
        return None;
    }
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int_part, frac_part) = match body.split_once(['.', ',']) {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    if int_part.is_empty() || !digits(int_part) || !digits(frac_part) {
        return None;
    }
    if body.contains(['.', ',']) && frac_part.is_empty() {
        return None;
    }
    let int_part = int_part.trim_start_matches('0');
    let frac_part = frac_part.trim_end_matches('0');
    let int_part = if int_part.is_empty() { "0" } else { int_part };
    let mut out = String::new();
    if negative && (int_part != "0" || !frac_part.is_empty()) {
        out.push('-');
    }
    out.push_str(int_part);
    if !frac_part.is_empty() {
        out.push('.');
        out.push_str(frac_part);
    }
    Some(out)
}

/// The numeric value of a canonical decimal (for range checks and ordering comparisons).
pub fn decimal_to_f64(canonical: &str) -> Option<f64> {
    canonical.parse::<f64>().ok().filter(|f| f.is_finite())
}

impl Serialize for AnswerValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            AnswerValue::Choice(c) => serializer.serialize_str(c),
            AnswerValue::Choices(cs) => cs.serialize(serializer),
            AnswerValue::Integer(i) => serializer.serialize_i64(*i),
            AnswerValue::Decimal(d) | AnswerValue::Text(d) => {
                let key = if matches!(self, AnswerValue::Decimal(_)) {
                    "dec"
                } else {
                    "text"
                };
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry(key, d)?;
                map.end()
            }
            AnswerValue::Date(d) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("date", &d.format("%Y-%m-%d").to_string())?;
                map.end()
            }
        }
    }
}

struct AnswerVisitor;

impl<'de> Visitor<'de> for AnswerVisitor {
    type Value = AnswerValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "an option code string, a list of codes, an integer, or {\"dec\"|\"text\"|\"date\": string}",
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Choice(v.to_owned()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<AnswerValue, E> {
        Ok(AnswerValue::Integer(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<AnswerValue, E> {
        i64::try_from(v)
            .map(AnswerValue::Integer)
            .map_err(|_| E::custom("integer answer out of range"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnswerValue, A::Error> {
        let mut codes = Vec::new();
        while let Some(code) = seq.next_element::<String>()? {
            codes.push(code);
        }
        Ok(AnswerValue::Choices(codes))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnswerValue, A::Error> {
        let Some((key, value)) = map.next_entry::<String, String>()? else {
            return Err(de::Error::custom("empty answer object"));
        };
        if map.next_key::<String>()?.is_some() {
            return Err(de::Error::custom("an answer object has exactly one key"));
        }
        match key.as_str() {
            "dec" => normalize_decimal(&value)
                .filter(|n| *n == value)
                .map(AnswerValue::Decimal)
                .ok_or_else(|| de::Error::custom(format!("'{value}' is not a canonical decimal"))),
            "text" => Ok(AnswerValue::Text(value)),
            "date" => chrono::NaiveDate::parse_from_str(&value, "%Y-%m-%d")
                .map(AnswerValue::Date)
                .map_err(|_| de::Error::custom(format!("'{value}' is not a date (YYYY-MM-DD)"))),
            other => Err(de::Error::custom(format!("unknown answer kind '{other}'"))),
        }
    }
}

impl<'de> Deserialize<'de> for AnswerValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnswerVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_normalise_to_one_canonical_text() {
        assert_eq!(normalize_decimal("007.500").as_deref(), Some("7.5"));
        assert_eq!(normalize_decimal("-0.0").as_deref(), Some("0"));
        assert_eq!(normalize_decimal("3,25").as_deref(), Some("3.25"));
        assert_eq!(normalize_decimal("1e5"), None);
        assert_eq!(normalize_decimal("1."), None);
        assert_eq!(normalize_decimal(".5"), None);
    }
}
