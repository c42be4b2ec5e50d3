//! Reading stored answers straight from their JSON without building an [`Answers`] map: the
//! tallies count choices this way ([`for_each_choice`]), and the microdata export writes every
//! answer this way ([`for_each_answer`]). Over a million responses, the owned map's allocations
//! are most of the time (see BENCHMARKS.md, scenarios 5 and 7).
//!
//! The encoding read here is the one `answers` documents.
//!
//! [`Answers`]: crate::domain::answers::Answers

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Calls `cell(item, value)` for every choice in a stored answers object: one call for a
/// single choice, one per selected option of a multiple choice, none for numbers, texts and
/// dates. These are exactly the cells the live tallies count; this reads them straight from
/// the JSON without allocating, which is what makes recomputing a million responses fast.
///
/// # Errors
///
/// When `json` is not an answers object.
pub fn for_each_choice(
    json: &str,
    mut cell: impl FnMut(&str, &str),
) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    de.deserialize_map(ChoiceCells(&mut cell))?;
    de.end()
}

/// A string borrowed from the input when it has no escapes, owned otherwise.
enum Str<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Str<'_> {
    fn as_str(&self) -> &str {
        match self {
            Str::Borrowed(s) => s,
            Str::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str::Owned(v.to_owned()))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

struct ChoiceCells<'f, F>(&'f mut F);

impl<'de, F: FnMut(&str, &str)> Visitor<'de> for ChoiceCells<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an answers object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(item) = map.next_key::<Str<'de>>()? {
            map.next_value_seed(ValueCells {
                item: item.as_str(),
                cell: &mut *self.0,
            })?;
        }
        Ok(())
    }
}

struct ValueCells<'a, 'f, F> {
    item: &'a str,
    cell: &'f mut F,
}

impl<'de, F: FnMut(&str, &str)> de::DeserializeSeed<'de> for ValueCells<'_, '_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, F: FnMut(&str, &str)> Visitor<'de> for ValueCells<'_, '_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an answer")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        (self.cell)(self.item, v);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(code) = seq.next_element::<Str<'de>>()? {
            (self.cell)(self.item, code.as_str());
        }
        Ok(())
    }

    // Numbers, texts, decimals and dates are not tallied.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
}

/// One stored answer, borrowed from the JSON where it has no escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerRef<'a> {
    /// A single choice or yes/no: the option code.
    Choice(&'a str),
    /// A multiple choice: the selected codes, in the stored order (possibly none).
    Choices(&'a [&'a str]),
    /// A whole number.
    Integer(i64),
    /// A decimal number as its stored canonical text.
    Decimal(&'a str),
    /// Free text.
    Text(&'a str),
    /// A date as its stored `YYYY-MM-DD` text.
    Date(&'a str),
}

/// Calls `answer(code, value)` for every answer in a stored answers object, in the stored
/// order, without building the map. Gives what [`Answers::from_json`] would hold, except that
/// decimals and dates are passed on as stored rather than checked again (they were checked
/// when they were stored).
///
/// # Errors
///
/// When `json` is not an answers object, or holds a value of no known kind.
///
/// [`Answers::from_json`]: crate::domain::answers::Answers::from_json
pub fn for_each_answer(
    json: &str,
    mut answer: impl FnMut(&str, AnswerRef<'_>),
) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    de.deserialize_map(AnswerCells(&mut answer))?;
    de.end()
}

struct AnswerCells<'f, F>(&'f mut F);

impl<'de, F: FnMut(&str, AnswerRef<'_>)> Visitor<'de> for AnswerCells<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an answers object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(code) = map.next_key::<Str<'de>>()? {
            map.next_value_seed(OneAnswer {
                code: code.as_str(),
                answer: &mut *self.0,
            })?;
        }
        Ok(())
    }
}

struct OneAnswer<'a, 'f, F> {
    code: &'a str,
    answer: &'f mut F,
}

impl<'de, F: FnMut(&str, AnswerRef<'_>)> de::DeserializeSeed<'de> for OneAnswer<'_, '_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, F: FnMut(&str, AnswerRef<'_>)> Visitor<'de> for OneAnswer<'_, '_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an option code string, a list of codes, an integer, or {\"dec\"|\"text\"|\"date\": string}")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        (self.answer)(self.code, AnswerRef::Choice(v));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        (self.answer)(self.code, AnswerRef::Integer(v));
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        let v = i64::try_from(v).map_err(|_| E::custom("integer answer out of range"))?;
        self.visit_i64(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut codes = Vec::new();
        while let Some(code) = seq.next_element::<Str<'de>>()? {
            codes.push(code);
        }
        let codes: Vec<&str> = codes.iter().map(Str::as_str).collect();
        (self.answer)(self.code, AnswerRef::Choices(&codes));
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((kind, value)) = map.next_entry::<Str<'de>, Str<'de>>()? else {
            return Err(de::Error::custom("empty answer object"));
        };
        if map.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("an answer object has exactly one key"));
        }
        let value = value.as_str();
        let answer = match kind.as_str() {
            "dec" => AnswerRef::Decimal(value),
            "text" => AnswerRef::Text(value),
            "date" => AnswerRef::Date(value),
            other => return Err(de::Error::custom(format!("unknown answer kind '{other}'"))),
        };
        (self.answer)(self.code, answer);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::answers::{AnswerValue, Answers};

    /// What [`for_each_answer`] reports, as owned values to compare with the map.
    fn scanned(json: &str) -> Vec<(String, AnswerValue)> {
        let mut out = Vec::new();
        for_each_answer(json, |code, value| {
            let value = match value {
                AnswerRef::Choice(c) => AnswerValue::Choice(c.to_owned()),
                AnswerRef::Choices(cs) => {
                    AnswerValue::Choices(cs.iter().map(|c| (*c).to_owned()).collect())
                }
                AnswerRef::Integer(n) => AnswerValue::Integer(n),
                AnswerRef::Decimal(d) => AnswerValue::Decimal(d.to_owned()),
                AnswerRef::Text(t) => AnswerValue::Text(t.to_owned()),
                AnswerRef::Date(d) => AnswerValue::Date(d.parse().unwrap()),
            };
            out.push((code.to_owned(), value));
        })
        .unwrap();
        out
    }

    #[test]
    fn scanning_reads_every_kind_as_the_map_does_escapes_included() {
        let mut answers = Answers::new();
        answers.insert("q1".into(), AnswerValue::Choice("2".into()));
        answers.insert(
            "q5".into(),
            AnswerValue::Choices(vec!["1".into(), "3".into()]),
        );
        answers.insert("none".into(), AnswerValue::Choices(vec![]));
        answers.insert("age".into(), AnswerValue::Integer(-42));
        answers.insert("share".into(), AnswerValue::Decimal("2.5".into()));
        answers.insert(
            "note".into(),
            AnswerValue::Text("Dòng 1\n\"hai\" \\ ba".into()),
        );
        answers.insert(
            "day".into(),
            AnswerValue::Date(chrono::NaiveDate::from_ymd_opt(2023, 5, 1).unwrap()),
        );
        let json = answers.to_json();
        let expected: Vec<(String, AnswerValue)> = answers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(scanned(&json), expected);
    }

    #[test]
    fn scanning_refuses_what_the_map_refuses() {
        for bad in [
            "[]",
            "{\"q\": {\"colour\": \"red\"}}",
            "{\"q\": {}}",
            "{\"q\": {\"text\": \"a\", \"dec\": \"1\"}}",
            "{\"q\": true}",
            "{\"q\": 1.5}",
            "{\"q\": 18446744073709551615}",
            "{\"q\": \"1\"} x",
        ] {
            assert!(for_each_answer(bad, |_, _| {}).is_err(), "{bad}");
            assert!(Answers::from_json(bad).is_err(), "{bad}");
        }
    }
}
