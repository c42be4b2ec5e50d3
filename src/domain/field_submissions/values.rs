//! A cell as the web form would post it (times, integers, dates), and the messages for a
//! unit or group that is not found and for an answer that does not decode.

use chrono::{NaiveDate, NaiveDateTime};

use crate::domain::answers::{FieldError, keys};
use crate::domain::instrument::QuestionKind;
use crate::domain::tabular::{msg, shown};
use crate::domain::unit_match::Match;
use crate::i18n::Localized;

/// A time as the exports write it: RFC 3339 with an offset (`…Z`, `…+07:00`, converted to
/// UTC), a time without one (Kobo's UTC `_submission_time`), or a bare date.
pub fn parse_time(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(dt.naive_utc());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(dt) = chrono::DateTime::parse_from_str(t, format) {
            return Some(dt.naive_utc());
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, format) {
            return Some(dt);
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// A cell's value as the web form would post it for `kind`: integers without XLSX's `.0`,
/// dates without a time of day.
pub(super) fn as_posted(kind: &QuestionKind, value: &str) -> String {
    match kind {
        QuestionKind::Integer { .. } => match value.split_once('.') {
            Some((whole, zeros))
                if !zeros.is_empty()
                    && zeros.chars().all(|c| c == '0')
                    && whole
                        .trim_start_matches('-')
                        .chars()
                        .all(|c| c.is_ascii_digit()) =>
            {
                whole.to_owned()
            }
            _ => value.to_owned(),
        },
        QuestionKind::Date if value.len() > 10 => parse_time(value).map_or_else(
            || value.to_owned(),
            |t| t.date().format("%Y-%m-%d").to_string(),
        ),
        _ => value.to_owned(),
    }
}

/// The code a lookup found, or the message saying why not (unknown with close matches, or
/// ambiguous), worded as for respondent lists.
pub(super) fn matched(column: &str, written: &str, found: Match) -> Result<String, Localized> {
    let value = shown(written);
    let unit = column == "unit";
    let (key, choices) = match found {
        Match::Found(code) => return Ok(code),
        Match::Unknown(close) if close.is_empty() => (
            if unit {
                "list.unit_unknown"
            } else {
                "list.group_unknown"
            },
            String::new(),
        ),
        Match::Unknown(close) => (
            if unit {
                "list.unit_unknown_close"
            } else {
                "list.group_unknown_close"
            },
            close.join("; "),
        ),
        Match::Ambiguous(all) => ("list.ambiguous", all.join("; ")),
    };
    Err(msg(key, &[("value", &value), ("choices", &choices)]))
}

/// A decoding problem as a file message; `value` is the cell as written.
pub(super) fn answer_message(error: &FieldError, value: &str) -> Localized {
    let code = error.code.as_str();
    if error.message_key == keys::REQUIRED {
        return msg("field.answer_required", &[("code", code)]);
    }
    if let Some(own) = &error.message {
        // The questionnaire's own message, in each catalogue's language.
        return msg(
            "field.answer_constraint",
            &[("code", code), ("vi", &own.vi), ("en", &own.en)],
        );
    }
    let problem = Localized {
        key: error.message_key,
        args: error.params.iter().map(|(k, v)| (*k, v.clone())).collect(),
        parts: Vec::new(),
    };
    msg(
        "field.answer_invalid",
        &[("code", code), ("value", &shown(value))],
    )
    .with("problem", problem)
}
