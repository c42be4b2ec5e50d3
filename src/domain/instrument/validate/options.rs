//! The options of a choice list or of a question's own choices: valid values, no duplicates,
//! and at least one option that counts as an answer.

use std::collections::BTreeMap;

use super::{Validator, msg};
use crate::domain::instrument::{ChoiceOption, DraftOption, Location, MAX_CODE_CHARS, place};
use crate::i18n::Localized;

impl Validator<'_> {
    /// The options that are valid, reporting the others.
    pub(super) fn options(
        &mut self,
        options: Vec<DraftOption>,
        at: &Location,
        owner: &Localized,
    ) -> Vec<ChoiceOption> {
        let mut out: Vec<ChoiceOption> = Vec::new();
        let mut seen: BTreeMap<String, Location> = BTreeMap::new();
        for opt in options {
            let (Some(value), Some(label)) = (opt.value, opt.label) else {
                continue;
            };
            let v = &value.value;
            if v.is_empty()
                || v.chars().count() > MAX_CODE_CHARS
                || v.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                self.err(
                    &value.at,
                    msg(
                        "instrument.invalid_option_value",
                        &[("value", v), ("max", &MAX_CODE_CHARS.to_string())],
                    ),
                );
                continue;
            }
            if let Some(first) = seen.get(v) {
                let message = msg("instrument.duplicate_option", &[("value", v)])
                    .with("what", owner.clone())
                    .with("first", place(first));
                self.err(&value.at, message);
                continue;
            }
            seen.insert(v.clone(), value.at.clone());
            out.push(ChoiceOption {
                value: value.value,
                label,
                valid: opt.valid,
                attributes: opt.attributes,
            });
        }
        if seen.is_empty() {
            self.err(
                at,
                msg("instrument.no_options", &[]).with("what", owner.clone()),
            );
        } else if !out.iter().any(|o| o.valid) && out.len() == seen.len() {
            self.err(
                at,
                msg("instrument.no_valid_option", &[]).with("what", owner.clone()),
            );
        }
        out
    }
}
