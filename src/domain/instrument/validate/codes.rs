//! What a code may be (questions, items, sections, lists, the instrument) and what the
//! validator records about each question code for the checks of the conditions.

use super::{Validator, msg, what};
use crate::domain::expr::is_valid_code;
use crate::domain::instrument::{At, Continuation, DraftContinuation, Location, MAX_CODE_CHARS};

/// What is known of an answer code: where it is in the instrument and, once its question is
/// read, the options a condition may compare it with.
pub(super) struct CodeInfo {
    pub(super) ordinal: usize,
    pub(super) at: Location,
    pub(super) options: Option<Vec<String>>,
    pub(super) battery_items: Option<Vec<String>>,
}

impl Validator<'_> {
    /// Checks a code; `what_key` names the kind of code in the message.
    pub(super) fn question_code(&mut self, code: &At<String>, what_key: &'static str) -> bool {
        let ok = is_valid_code(&code.value) && code.value.chars().count() <= MAX_CODE_CHARS;
        if !ok {
            self.err(
                &code.at,
                msg(
                    "instrument.invalid_code",
                    &[("code", &code.value), ("max", &MAX_CODE_CHARS.to_string())],
                )
                .with("what", what(what_key)),
            );
        }
        ok
    }

    pub(super) fn continuation(
        &mut self,
        c: Option<At<DraftContinuation>>,
        own: &str,
        has_header: bool,
    ) -> Continuation {
        let Some(c) = c else {
            return Continuation::Same;
        };
        if !has_header {
            self.err(&c.at, msg("instrument.continues_needs_header", &[]));
        }
        match c.value {
            DraftContinuation::New => Continuation::New,
            DraftContinuation::Code(old) if old == own => Continuation::Same,
            DraftContinuation::Code(old) => {
                self.question_code(&At::new(old.clone(), c.at), "instrument.what.earlier_code");
                Continuation::From(old)
            }
        }
    }
}

pub(super) fn is_list_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= MAX_CODE_CHARS
}

pub(super) fn is_instrument_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && code.len() <= MAX_CODE_CHARS
}
