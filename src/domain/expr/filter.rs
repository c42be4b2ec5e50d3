//! Choice filters (XLSForm's `choice_filter`): which options of a list a question offers,
//! depending on earlier answers — e.g. the districts of the province chosen before.
//!
//! One syntax serves TOML and XLSForm: terms joined by `and`, each comparing a column of the
//! choice list with an earlier answer or a quoted value:
//!
//! ```text
//! filter := term ( "and" term )*
//! term   := column ( "=" | "!=" ) ( "${" code "}" | 'text' | "text" | number )
//! ```
//!
//! `column` is `name` (the option's own value) or an extra column of the options (in TOML the
//! option's `filter = { column = "value" }` table; in XLSForm an extra column of the `choices`
//! sheet). A term comparing with an unanswered question holds for no option, as in ODK, so a
//! filtered list stays empty until the answer it depends on is given. Anything beyond this
//! (functions, `or`, numeric order) is refused with the reason.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{AnswerLookup, ExprError, MAX_EXPR_CHARS, is_valid_code};
use crate::domain::answer_value::AnswerValue;
use crate::i18n::Localized;

/// What a column is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FilterValue {
    /// `${code}`: an earlier answer, compared as its option code (or text, or number).
    Answer(String),
    /// A quoted value.
    Text(String),
}

/// `column = value` or `column != value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FilterTerm {
    /// `name` or an extra column of the choice list.
    pub column: String,
    /// True for `!=`.
    pub negated: bool,
    /// The other side.
    pub value: FilterValue,
}

/// A parsed choice filter: every term must hold for an option to be offered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChoiceFilter {
    /// The terms, all of which must hold.
    pub terms: Vec<FilterTerm>,
}

/// An answer as the text a filter column is compared with.
fn answer_text(answer: &AnswerValue) -> Option<String> {
    Some(match answer {
        AnswerValue::Choice(c) => c.clone(),
        AnswerValue::Integer(i) => i.to_string(),
        AnswerValue::Decimal(d) => d.clone(),
        AnswerValue::Text(t) => t.clone(),
        AnswerValue::Date(d) => d.format("%Y-%m-%d").to_string(),
        AnswerValue::Choices(_) => return None,
    })
}

impl ChoiceFilter {
    /// Parses a filter.
    pub fn parse(src: &str) -> Result<ChoiceFilter, ExprError> {
        let err = |column: usize, key: &'static str, args: &[(&'static str, &str)]| ExprError {
            column,
            message: Localized::new(key, args),
        };
        if src.chars().count() > MAX_EXPR_CHARS {
            return Err(err(
                1,
                "expr.too_long",
                &[
                    ("count", &src.chars().count().to_string()),
                    ("limit", &MAX_EXPR_CHARS.to_string()),
                ],
            ));
        }
        let mut terms = Vec::new();
        let mut offset = 0usize;
        for part in split_and(src) {
            let column_at = offset + part.chars().count() - part.trim_start().chars().count() + 1;
            offset += part.chars().count() + " and ".len();
            let term = part.trim();
            let (column, negated, value) = if let Some((c, v)) = term.split_once("!=") {
                (c, true, v)
            } else if let Some((c, v)) = term.split_once('=') {
                (c, false, v)
            } else {
                return Err(err(column_at, "filter.term", &[("term", term)]));
            };
            let (column, value) = (column.trim(), value.trim().trim_start_matches('=').trim());
            // `${state} = state` is the same filter written the other way round.
            let is_value = |side: &str| side.starts_with("${") || quoted(side).is_some();
            let (column, value) = if is_value(column) && !is_value(value) {
                (value, column)
            } else {
                (column, value)
            };
            if !is_valid_code(column) {
                return Err(err(column_at, "filter.column", &[("column", column)]));
            }
            let value =
                if let Some(code) = value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
                    let code = code.trim();
                    if !is_valid_code(code) {
                        return Err(err(column_at, "calc.bad_reference", &[("code", code)]));
                    }
                    FilterValue::Answer(code.to_owned())
                } else if let Some(text) = quoted(value) {
                    FilterValue::Text(text.to_owned())
                } else if value.parse::<f64>().is_ok() {
                    // A bare number compares as its text, as option values are text.
                    FilterValue::Text(value.to_owned())
                } else {
                    return Err(err(column_at, "filter.value", &[("value", value)]));
                };
            terms.push(FilterTerm {
                column: column.to_owned(),
                negated,
                value,
            });
        }
        if terms.is_empty() {
            return Err(err(1, "filter.term", &[("term", src)]));
        }
        Ok(ChoiceFilter { terms })
    }

    /// The answer codes the filter reads.
    pub fn references(&self) -> BTreeSet<String> {
        self.terms
            .iter()
            .filter_map(|t| match &t.value {
                FilterValue::Answer(code) => Some(code.clone()),
                FilterValue::Text(_) => None,
            })
            .collect()
    }

    /// The option columns the filter reads (other than `name`).
    pub fn columns(&self) -> BTreeSet<&str> {
        self.terms
            .iter()
            .map(|t| t.column.as_str())
            .filter(|c| *c != "name")
            .collect()
    }

    /// Whether the option with `value` and extra `columns` is offered under `answers`.
    pub fn allows(
        &self,
        value: &str,
        columns: &BTreeMap<String, String>,
        answers: &impl AnswerLookup,
    ) -> bool {
        self.terms.iter().all(|t| {
            let own = if t.column == "name" {
                Some(value)
            } else {
                columns.get(&t.column).map(String::as_str)
            };
            let other = match &t.value {
                FilterValue::Answer(code) => answers.answer(code).and_then(answer_text),
                FilterValue::Text(text) => Some(text.clone()),
            };
            match (own, other) {
                (Some(own), Some(other)) => (own == other) != t.negated,
                // Unanswered (or a missing column): the term holds for no option.
                _ => false,
            }
        })
    }
}

fn quoted(value: &str) -> Option<&str> {
    ['\'', '"'].into_iter().find_map(|q| {
        value
            .strip_prefix(q)
            .and_then(|v| v.strip_suffix(q))
            .filter(|inner| !inner.contains(q))
    })
}

/// Splits at ` and ` outside quotes.
fn split_and(src: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quote: Option<char> = None;
    let mut start = 0;
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < src.len() {
        let c = bytes[i] as char;
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            // Bytes, not `&src[i..]`: `i` may sit inside a multi-byte letter.
            None if bytes[i..].starts_with(b" and ") => {
                parts.push(&src[start..i]);
                i += " and ".len();
                start = i;
                continue;
            }
            None => {}
        }
        i += 1;
    }
    parts.push(&src[start..]);
    parts
}

impl fmt::Display for ChoiceFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(" and ")?;
            }
            write!(f, "{} {} ", t.column, if t.negated { "!=" } else { "=" })?;
            match &t.value {
                FilterValue::Answer(code) => write!(f, "${{{code}}}")?,
                FilterValue::Text(text) if text.contains('\'') => write!(f, "\"{text}\"")?,
                FilterValue::Text(text) => write!(f, "'{text}'")?,
            }
        }
        Ok(())
    }
}

impl serde::Serialize for ChoiceFilter {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct One(&'static str, AnswerValue);

    impl AnswerLookup for One {
        fn answer(&self, code: &str) -> Option<&AnswerValue> {
            (code == self.0).then_some(&self.1)
        }
    }

    fn cols(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_cascading_filter_offers_only_the_districts_of_the_chosen_province() {
        let f = ChoiceFilter::parse("province = ${q_province}").unwrap();
        let chosen = One("q_province", AnswerValue::Choice("14".into()));
        assert!(f.allows("116", &cols(&[("province", "14")]), &chosen));
        assert!(!f.allows("001", &cols(&[("province", "01")]), &chosen));
        let nothing = One("other", AnswerValue::Choice("14".into()));
        assert!(!f.allows("116", &cols(&[("province", "14")]), &nothing));
    }

    #[test]
    fn terms_combine_with_and_and_compare_names_and_quoted_values() {
        let f = ChoiceFilter::parse("name != ${first} and kind = 'x y'").unwrap();
        let first = One("first", AnswerValue::Choice("a".into()));
        assert!(f.allows("b", &cols(&[("kind", "x y")]), &first));
        assert!(!f.allows("a", &cols(&[("kind", "x y")]), &first));
        assert!(!f.allows("b", &cols(&[("kind", "x")]), &first));
        assert_eq!(ChoiceFilter::parse(&f.to_string()).unwrap(), f);
        let reversed = ChoiceFilter::parse("${first} != name and 'x y' = kind").unwrap();
        assert_eq!(reversed.to_string(), "name != ${first} and kind = 'x y'");
    }

    #[test]
    fn filters_beyond_the_subset_are_refused_with_the_reason() {
        let key = |src: &str| ChoiceFilter::parse(src).unwrap_err().message.key;
        assert_eq!(key("selected(${a}, name)"), "filter.term");
        assert_eq!(key("state = abc"), "filter.value");
        assert_eq!(key("bad column = ${a}"), "filter.column");
    }

    #[test]
    fn filters_with_vietnamese_letters_are_refused_at_their_column_without_panicking() {
        let e = ChoiceFilter::parse("tỉnh = ${a} and huyện = ${b}").unwrap_err();
        assert_eq!(e.message.key, "filter.column");
        assert_eq!(e.column, 1);
        let e = ChoiceFilter::parse("province = 'Hà Nội' and  ở = ${b}").unwrap_err();
        assert_eq!((e.message.key, e.column), ("filter.column", 26));
        let f = ChoiceFilter::parse("kind = 'Hà Nội và Sơn La' and province = ${p}").unwrap();
        assert_eq!(
            f.to_string(),
            "kind = 'Hà Nội và Sơn La' and province = ${p}"
        );
    }
}
