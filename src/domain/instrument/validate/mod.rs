//! Validation of a draft into an [`Instrument`], shared by the TOML and XLSForm readers.
//!
//! One concept per file: this file holds the validator and walks the draft (header, lists,
//! sections); `codes` checks codes and records them; `options` checks options; `question`
//! checks one question; `conditions` checks the references once every code is known.

mod codes;
mod conditions;
mod options;
mod question;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use super::{
    At, ChoiceOption, Continues, DraftInstrument, Instrument, InstrumentError, Location,
    MAX_CODE_CHARS, RespondentGroup, Section, Text, place, sort_errors,
};
use crate::i18n::Localized;

use codes::{CodeInfo, is_instrument_code, is_list_name};
use conditions::{PendingCondition, check_condition, literals_of};
use question::build_question;

/// A catalogue message with its parameters (shorthand for the many below).
fn msg(key: &'static str, args: &[(&'static str, &str)]) -> Localized {
    Localized::new(key, args)
}

/// A code or list kind named inside a message ("question code", "choice list 'x'").
fn what(key: &'static str) -> Localized {
    Localized::new(key, &[])
}

/// The problems found while a draft is checked.
struct Validator<'f> {
    file: &'f str,
    errors: Vec<InstrumentError>,
    /// Question codes that were given but are not valid codes (already reported).
    unreadable: BTreeSet<String>,
    /// Conditions naming an unreadable code: the first place and how many, reported once
    /// after the real causes instead of one error each.
    follow_ons: BTreeMap<String, (Location, usize)>,
}

impl Validator<'_> {
    fn err(&mut self, at: &Location, message: Localized) {
        self.errors.push(InstrumentError {
            file: self.file.to_owned(),
            location: at.clone(),
            message,
        });
    }

    fn not_allowed<T>(&mut self, field: &Option<At<T>>, name: &str, kind: &str) {
        if let Some(f) = field {
            self.err(
                &f.at,
                msg(
                    "instrument.field_not_allowed",
                    &[("field", name), ("kind", kind)],
                ),
            );
        }
    }
}

/// Validates a draft into an instrument, adding to `errors` (problems the reader already found).
pub(crate) fn validate(
    draft: DraftInstrument,
    file: &str,
    errors: Vec<InstrumentError>,
) -> Result<Instrument, Vec<InstrumentError>> {
    let mut v = Validator {
        file,
        errors,
        unreadable: BTreeSet::new(),
        follow_ons: BTreeMap::new(),
    };

    let code = draft.code.and_then(|c| {
        if is_instrument_code(&c.value) {
            Some(c.value)
        } else {
            v.err(
                &c.at,
                msg(
                    "instrument.invalid_instrument_code",
                    &[("code", &c.value), ("max", &MAX_CODE_CHARS.to_string())],
                ),
            );
            None
        }
    });
    let version = draft
        .version
        .and_then(|ver| match u32::try_from(ver.value) {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                v.err(
                    &ver.at,
                    msg(
                        "instrument.invalid_version",
                        &[
                            ("max", &u32::MAX.to_string()),
                            ("value", &ver.value.to_string()),
                        ],
                    ),
                );
                None
            }
        });
    let group = draft.group.and_then(|g| {
        let found = RespondentGroup::from_code(&g.value);
        if found.is_none() {
            v.err(
                &g.at,
                msg("instrument.unknown_group", &[("group", &g.value)]),
            );
        }
        found
    });
    let continues = draft.continues.and_then(|c| {
        let (instrument, ver) = c.value;
        let ok_code = is_instrument_code(&instrument);
        let ok_version = u32::try_from(ver).ok().filter(|n| *n >= 1);
        if !ok_code {
            v.err(
                &c.at,
                msg(
                    "instrument.invalid_continued_code",
                    &[("code", &instrument)],
                ),
            );
        }
        match ok_version {
            None => {
                v.err(
                    &c.at,
                    msg(
                        "instrument.invalid_continued_version",
                        &[("version", &ver.to_string())],
                    ),
                );
                None
            }
            Some(n) if ok_code => {
                if code.as_deref() == Some(instrument.as_str())
                    && version.is_some_and(|own| n >= own)
                {
                    v.err(
                        &c.at,
                        msg(
                            "instrument.continues_later_version",
                            &[
                                ("own", &version.unwrap_or(0).to_string()),
                                ("continued", &n.to_string()),
                            ],
                        ),
                    );
                }
                Some(Continues {
                    instrument,
                    version: n,
                })
            }
            Some(_) => None,
        }
    });
    let has_header = continues.is_some();

    let mut lists: BTreeMap<String, Vec<ChoiceOption>> = BTreeMap::new();
    for list in draft.choice_lists {
        if !is_list_name(&list.name.value) {
            v.err(
                &list.name.at,
                msg(
                    "instrument.invalid_list_name",
                    &[("name", &list.name.value)],
                ),
            );
        }
        let owner = msg("instrument.what.choice_list", &[("name", &list.name.value)]);
        let options = v.options(list.options, &list.name.at, &owner);
        lists.insert(list.name.value, options);
    }

    let mut codes: BTreeMap<String, CodeInfo> = BTreeMap::new();
    let mut section_codes: BTreeMap<String, Location> = BTreeMap::new();
    let mut pending: Vec<PendingCondition> = Vec::new();
    let mut sections = Vec::new();
    let mut ordinal = 0usize;

    if draft.sections.is_empty() {
        v.err(&draft.at, msg("instrument.no_sections", &[]));
    }
    for ds in draft.sections {
        let section_code = ds.code.and_then(|c| {
            if !v.question_code(&c, "instrument.what.section_code") {
                return None;
            }
            if let Some(first) = section_codes.get(&c.value) {
                let message = msg("instrument.duplicate_section_code", &[("code", &c.value)])
                    .with("first", place(first));
                v.err(&c.at, message);
                return None;
            }
            section_codes.insert(c.value.clone(), c.at.clone());
            Some(c.value)
        });
        let section_name = section_code.clone().unwrap_or_default();
        if let Some(rel) = &ds.relevant {
            pending.push(PendingCondition {
                owner: msg("instrument.owner.section", &[("code", &section_name)]),
                refs: rel.value.references(),
                literals: literals_of(&rel.value),
                at: rel.at.clone(),
                limit: ordinal,
                own_codes: Vec::new(),
                is_constraint: false,
                is_section: true,
            });
        }
        if ds.questions.is_empty() {
            v.err(
                &ds.at,
                msg(
                    "instrument.section_without_questions",
                    &[("section", &section_name)],
                ),
            );
        }
        let mut questions = Vec::new();
        for dq in ds.questions {
            if let Some(q) = build_question(
                dq,
                &mut v,
                &lists,
                &mut codes,
                &mut pending,
                ordinal,
                has_header,
            ) {
                questions.push(q);
            }
            ordinal += 1;
        }
        sections.push(Section {
            code: section_name,
            title: ds.title.unwrap_or_else(|| Text::new("", "")),
            intro: ds.intro,
            relevant: ds.relevant.map(|r| r.value),
            questions,
        });
    }

    for p in &pending {
        check_condition(p, &codes, &section_codes, &mut v);
    }
    for (code, (at, count)) in std::mem::take(&mut v.follow_ons) {
        v.err(
            &at,
            msg(
                "instrument.refers_to_unreadable",
                &[("code", &code), ("count", &count.to_string())],
            ),
        );
    }

    let mut errors = v.errors;
    if !errors.is_empty() {
        sort_errors(&mut errors);
        return Err(errors);
    }
    match (code, version, group) {
        (Some(code), Some(version), Some(group)) => Ok(Instrument {
            code,
            version,
            group,
            provenance: draft.provenance.unwrap_or_default(),
            title: draft.title.unwrap_or_else(|| Text::new("", "")),
            instructions: draft.instructions,
            continues,
            choice_lists: lists,
            sections,
        }),
        // The readers report missing header fields; this only guards against a reader that
        // forgot to, so that we never hand out a half-filled instrument.
        _ => Err(vec![InstrumentError {
            file: file.to_owned(),
            location: draft.at,
            message: msg("instrument.header_incomplete", &[]),
        }]),
    }
}
