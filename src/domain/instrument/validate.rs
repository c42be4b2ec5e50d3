//! Validation of a draft into an [`Instrument`], shared by the TOML and XLSForm readers.

use std::collections::{BTreeMap, BTreeSet};

use super::features::check_default;
use super::placeholders;
use super::{
    Appearance, At, BatteryItem, ChoiceOption, Choices, Constraint, Continuation, Continues,
    DEFAULT_LONG_TEXT_MAX, DEFAULT_TEXT_MAX, DraftChoices, DraftContinuation, DraftInstrument,
    DraftOption, DraftQuestion, Instrument, InstrumentError, Location, MAX_CODE_CHARS,
    MAX_TEXT_MAX, Number, QUESTION_TYPES, Question, QuestionKind, RespondentGroup, Section, Text,
    place, sort_errors,
};
use crate::domain::expr::{Expr, SELF_REF, is_valid_code};
use crate::i18n::Localized;

/// A catalogue message with its parameters (shorthand for the many below).
fn msg(key: &'static str, args: &[(&'static str, &str)]) -> Localized {
    Localized::new(key, args)
}

/// A code or list kind named inside a message ("question code", "choice list 'x'").
fn what(key: &'static str) -> Localized {
    Localized::new(key, &[])
}
struct CodeInfo {
    ordinal: usize,
    at: Location,
    options: Option<Vec<String>>,
    battery_items: Option<Vec<String>>,
}

/// References to check once every code is known: a condition's, a calculation's, a choice
/// filter's, or the `${code}` placeholders of a label.
struct PendingCondition {
    owner: Localized,
    refs: BTreeSet<String>,
    /// (code, literal as an option code) pairs compared by equality.
    literals: Vec<(String, String)>,
    at: Location,
    /// References must have an ordinal below this.
    limit: usize,
    own_codes: Vec<String>,
    is_constraint: bool,
    is_section: bool,
}

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

    /// Checks a code; `what_key` names the kind of code in the message.
    fn question_code(&mut self, code: &At<String>, what_key: &'static str) -> bool {
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

    fn options(
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

    fn continuation(
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

fn is_list_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= MAX_CODE_CHARS
}

fn is_instrument_code(code: &str) -> bool {
    let mut chars = code.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && code.len() <= MAX_CODE_CHARS
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

fn build_question(
    dq: DraftQuestion,
    v: &mut Validator<'_>,
    lists: &BTreeMap<String, Vec<ChoiceOption>>,
    codes: &mut BTreeMap<String, CodeInfo>,
    pending: &mut Vec<PendingCondition>,
    ordinal: usize,
    has_header: bool,
) -> Option<Question> {
    let code = dq.code.as_ref()?;
    let valid_code = v.question_code(code, "instrument.what.question_code");
    if !valid_code {
        v.unreadable.insert(code.value.clone());
    }

    // Register the codes before anything else can fail, so that a broken question does not
    // cascade into "unknown question code" errors in the conditions that refer to it.
    let is_battery = dq.kind.as_ref().is_some_and(|k| k.value == "battery");
    let draft_items: Vec<At<String>> = if is_battery {
        dq.items
            .iter()
            .flat_map(|i| i.value.iter())
            .filter_map(|i| i.code.clone())
            .collect()
    } else {
        Vec::new()
    };
    let mut register =
        |v: &mut Validator<'_>, c: &At<String>, what_key: &'static str, info: CodeInfo| {
            if let Some(first) = codes.get(&c.value) {
                let message = msg("instrument.duplicate_code", &[("code", &c.value)])
                    .with("what", what(what_key))
                    .with("first", place(&first.at));
                v.err(&c.at, message);
            } else {
                codes.insert(c.value.clone(), info);
            }
        };
    let mut own_codes = vec![code.value.clone()];
    for icode in &draft_items {
        if v.question_code(icode, "instrument.what.item_code") {
            let info = CodeInfo {
                ordinal,
                at: icode.at.clone(),
                options: None,
                battery_items: None,
            };
            register(v, icode, "instrument.what.item_code", info);
        }
        own_codes.push(icode.value.clone());
    }
    if valid_code {
        let info = CodeInfo {
            ordinal,
            at: code.at.clone(),
            options: None,
            battery_items: is_battery
                .then(|| draft_items.iter().map(|c| c.value.clone()).collect()),
        };
        register(v, code, "instrument.what.question_code", info);
    }

    let kind_name = dq.kind.as_ref()?;
    let kind = kind_name.value.as_str();
    if !QUESTION_TYPES.contains(&kind) {
        v.err(
            &kind_name.at,
            msg(
                "instrument.unknown_type",
                &[("kind", kind), ("types", &QUESTION_TYPES.join(", "))],
            ),
        );
        return None;
    }
    let is_choice = matches!(kind, "single" | "multiple" | "battery");
    if !is_choice {
        v.not_allowed(&dq.choices, "choices", kind);
    }
    if kind != "battery" {
        v.not_allowed(&dq.items, "items", kind);
    } else {
        v.not_allowed(&dq.constraint, "constraint", kind);
        v.not_allowed(&dq.continues, "continues", kind);
    }
    if !matches!(kind, "integer" | "decimal") {
        v.not_allowed(&dq.min, "min", kind);
        v.not_allowed(&dq.max, "max", kind);
    }
    if !matches!(kind, "text" | "long_text") {
        v.not_allowed(&dq.max_length, "max_length", kind);
    }
    if !matches!(kind, "single" | "battery" | "yes_no") {
        v.not_allowed(&dq.scored, "scored", kind);
    }
    if dq.constraint.is_none() {
        v.not_allowed(&dq.constraint_message, "constraint_message", kind);
    }

    let choices = if is_choice {
        match dq.choices {
            None => {
                v.err(&dq.at, msg("instrument.needs_choices", &[("kind", kind)]));
                None
            }
            Some(At {
                value: DraftChoices::List(name),
                at,
            }) => match lists.get(&name) {
                Some(options) => Some(Choices {
                    list: Some(name),
                    options: options.clone(),
                }),
                None => {
                    let known: Vec<&str> = lists.keys().map(String::as_str).collect();
                    let message = if known.is_empty() {
                        msg("instrument.unknown_list_none", &[("name", &name)])
                    } else {
                        msg(
                            "instrument.unknown_list",
                            &[("name", &name), ("lists", &known.join(", "))],
                        )
                    };
                    v.err(&at, message);
                    None
                }
            },
            Some(At {
                value: DraftChoices::Inline(options),
                at,
            }) => {
                let owner = msg("instrument.what.inline_choices", &[("code", &code.value)]);
                Some(Choices {
                    list: None,
                    options: v.options(options, &at, &owner),
                })
            }
        }
    } else {
        None
    };
    if let Some(f) = &dq.choice_filter {
        if !matches!(kind, "single" | "multiple") {
            v.not_allowed(&dq.choice_filter, "choice_filter", kind);
        } else if let Some(c) = &choices {
            for column in f.value.columns() {
                if !c.options.iter().any(|o| o.attributes.contains_key(column)) {
                    v.err(
                        &f.at,
                        msg("instrument.filter_column_missing", &[("column", column)]),
                    );
                }
            }
        }
    }
    let scored = dq.scored.as_ref().is_none_or(|s| s.value);
    let continues = if kind == "battery" {
        Continuation::Same
    } else {
        v.continuation(dq.continues.clone(), &code.value, has_header)
    };

    let option_values = choices.as_ref().map(|c| {
        c.options
            .iter()
            .map(|o| o.value.clone())
            .collect::<Vec<_>>()
    });
    // Now that the options are known, record them for the literal checks in conditions
    // (only on entries this question owns: a duplicate keeps the first owner's options).
    let answer_options = if kind == "yes_no" {
        Some(vec!["yes".to_owned(), "no".to_owned()])
    } else {
        option_values.clone()
    };
    let answer_codes: Vec<&str> = if is_battery {
        own_codes.iter().skip(1).map(String::as_str).collect()
    } else {
        vec![code.value.as_str()]
    };
    for c in answer_codes {
        if let Some(info) = codes.get_mut(c)
            && info.ordinal == ordinal
        {
            info.options = answer_options.clone();
        }
    }

    let kind_value = match kind {
        "battery" => {
            let mut items = Vec::new();
            match dq.items {
                None => v.err(&dq.at, msg("instrument.battery_needs_items", &[])),
                Some(At { value, at }) => {
                    if value.is_empty() {
                        v.err(&at, msg("instrument.battery_without_items", &[]));
                    }
                    for item in value {
                        let (Some(icode), Some(label)) = (item.code, item.label) else {
                            continue;
                        };
                        if !is_valid_code(&icode.value) {
                            continue;
                        }
                        let continues = v.continuation(item.continues, &icode.value, has_header);
                        items.push(BatteryItem {
                            code: icode.value,
                            label,
                            continues,
                        });
                    }
                }
            }
            QuestionKind::Battery {
                choices: choices?,
                items,
                scored,
            }
        }
        _ => match kind {
            "single" => QuestionKind::Single {
                choices: choices?,
                scored,
            },
            "multiple" => QuestionKind::Multiple { choices: choices? },
            "yes_no" => QuestionKind::YesNo { scored },
            "integer" => {
                let int = |v: &mut Validator<'_>, n: &Option<At<Number>>, name: &str| match n {
                    Some(At {
                        value: Number::Int(i),
                        ..
                    }) => Some(*i),
                    Some(At { at, .. }) => {
                        v.err(at, msg("instrument.integer_bound", &[("field", name)]));
                        None
                    }
                    None => None,
                };
                let min = int(v, &dq.min, "min");
                let max = int(v, &dq.max, "max");
                if let (Some(lo), Some(hi), Some(at)) = (min, max, dq.min.as_ref())
                    && lo > hi
                {
                    v.err(
                        &at.at,
                        msg(
                            "instrument.min_above_max",
                            &[("min", &lo.to_string()), ("max", &hi.to_string())],
                        ),
                    );
                }
                QuestionKind::Integer { min, max }
            }
            "decimal" => {
                let num = |v: &mut Validator<'_>, n: &Option<At<Number>>, name: &str| match n {
                    Some(At { value, at }) => {
                        let f = match value {
                            Number::Int(i) => *i as f64,
                            Number::Float(f) => *f,
                        };
                        if f.is_finite() {
                            Some(f)
                        } else {
                            v.err(at, msg("instrument.bound_not_finite", &[("field", name)]));
                            None
                        }
                    }
                    None => None,
                };
                let min = num(v, &dq.min, "min");
                let max = num(v, &dq.max, "max");
                if let (Some(lo), Some(hi), Some(at)) = (min, max, dq.min.as_ref())
                    && lo > hi
                {
                    v.err(
                        &at.at,
                        msg(
                            "instrument.min_above_max",
                            &[("min", &lo.to_string()), ("max", &hi.to_string())],
                        ),
                    );
                }
                QuestionKind::Decimal { min, max }
            }
            "text" | "long_text" => {
                let default = if kind == "text" {
                    DEFAULT_TEXT_MAX
                } else {
                    DEFAULT_LONG_TEXT_MAX
                };
                let max_length = match &dq.max_length {
                    None => default,
                    Some(At { value, at }) => match u32::try_from(*value) {
                        Ok(n) if (1..=MAX_TEXT_MAX).contains(&n) => n,
                        _ => {
                            v.err(
                                at,
                                msg(
                                    "instrument.invalid_max_length",
                                    &[
                                        ("max", &MAX_TEXT_MAX.to_string()),
                                        ("value", &value.to_string()),
                                    ],
                                ),
                            );
                            default
                        }
                    },
                };
                if kind == "text" {
                    QuestionKind::Text { max_length }
                } else {
                    QuestionKind::LongText { max_length }
                }
            }
            "calculate" => match &dq.calculation {
                Some(c) => QuestionKind::Calculate {
                    calculation: c.value.clone(),
                },
                None => {
                    v.err(&dq.at, msg("instrument.needs_calculation", &[]));
                    return None;
                }
            },
            "note" => QuestionKind::Note,
            _ => QuestionKind::Date,
        },
    };
    if kind != "calculate" {
        v.not_allowed(&dq.calculation, "calculation", kind);
    }
    let owner = || msg("instrument.owner.question", &[("code", &code.value)]);
    let mut later_refs =
        |refs: BTreeSet<String>, literals: Vec<(String, String)>, at: &Location| {
            if !refs.is_empty() {
                pending.push(PendingCondition {
                    owner: owner(),
                    refs,
                    literals,
                    at: at.clone(),
                    limit: ordinal,
                    own_codes: own_codes.clone(),
                    is_constraint: false,
                    is_section: false,
                });
            }
        };
    if let Some(c) = &dq.calculation {
        let literals = c
            .value
            .conditions()
            .into_iter()
            .flat_map(literals_of)
            .collect();
        later_refs(c.value.references(), literals, &c.at);
    }
    if let Some(f) = &dq.choice_filter {
        later_refs(f.value.references(), Vec::new(), &f.at);
    }
    for text in [&dq.label, &dq.hint].into_iter().flatten() {
        let mut refs = placeholders(&text.vi);
        refs.extend(placeholders(&text.en));
        later_refs(refs, Vec::new(), &dq.at);
    }

    if let Some(rel) = &dq.relevant {
        pending.push(PendingCondition {
            owner: msg("instrument.owner.question", &[("code", &code.value)]),
            refs: rel.value.references(),
            literals: literals_of(&rel.value),
            at: rel.at.clone(),
            limit: ordinal,
            own_codes: own_codes.clone(),
            is_constraint: false,
            is_section: false,
        });
    }
    if let Some(c) = &dq.constraint {
        pending.push(PendingCondition {
            owner: msg("instrument.owner.question", &[("code", &code.value)]),
            refs: c.value.references(),
            literals: literals_of(&c.value),
            at: c.at.clone(),
            limit: ordinal,
            own_codes,
            is_constraint: true,
            is_section: false,
        });
    }
    let appearance = dq.appearance.as_ref().and_then(|a| {
        let found = Appearance::from_code(&a.value);
        let fits = matches!(kind, "single" | "multiple" | "yes_no" | "battery");
        match found {
            None => {
                let known: Vec<&str> = Appearance::ALL.iter().map(|a| a.code()).collect();
                v.err(
                    &a.at,
                    msg(
                        "instrument.unknown_appearance",
                        &[("value", &a.value), ("known", &known.join(", "))],
                    ),
                );
            }
            Some(_) if !fits => v.not_allowed(&dq.appearance, "appearance", kind),
            Some(_) => {}
        }
        found.filter(|_| fits)
    });
    if !dq.required {
        v.not_allowed(&dq.required_message, "required_message", kind);
    }
    let question = Question {
        code: code.value.clone(),
        label: dq.label.unwrap_or_else(|| Text::new("", "")),
        hint: dq.hint,
        required: dq.required,
        relevant: dq.relevant.map(|r| r.value),
        constraint: dq.constraint.map(|c| Constraint {
            expr: c.value,
            message: dq.constraint_message.map(|m| m.value),
        }),
        continues,
        kind: kind_value,
        required_message: dq.required_message.map(|m| m.value),
        default: None,
        appearance,
        choice_filter: dq.choice_filter.map(|f| f.value),
    };
    let default = dq
        .default
        .and_then(|d| match check_default(&question, &d.value) {
            Ok(()) => Some(d.value),
            Err(message) => {
                v.err(&d.at, message);
                None
            }
        });
    Some(Question {
        default,
        ..question
    })
}

/// The (code, option code) pairs a condition compares by equality.
fn literals_of(expr: &Expr) -> Vec<(String, String)> {
    expr.equality_literals()
        .into_iter()
        .map(|(code, lit)| (code.to_owned(), lit.as_code()))
        .collect()
}

fn check_condition(
    p: &PendingCondition,
    codes: &BTreeMap<String, CodeInfo>,
    sections: &BTreeMap<String, Location>,
    v: &mut Validator<'_>,
) {
    for r in p.refs.iter().cloned() {
        if r == SELF_REF {
            if !p.is_constraint {
                v.err(&p.at, msg("instrument.self_outside_constraint", &[]));
            }
            continue;
        }
        let Some(info) = codes.get(&r) else {
            if v.unreadable.contains(&r) {
                v.follow_ons.entry(r.clone()).or_insert((p.at.clone(), 0)).1 += 1;
            } else if sections.contains_key(&r) {
                v.err(
                    &p.at,
                    msg("instrument.section_in_condition", &[("code", &r)]),
                );
            } else {
                v.err(
                    &p.at,
                    msg("instrument.unknown_code_in_condition", &[("code", &r)]),
                );
            }
            continue;
        };
        if p.own_codes.contains(&r) {
            if p.is_constraint {
                v.err(
                    &p.at,
                    msg("instrument.constraint_names_itself", &[("code", &r)]),
                );
            } else {
                v.err(
                    &p.at,
                    msg("instrument.circular_condition", &[("code", &r)])
                        .with("owner", p.owner.clone()),
                );
            }
            continue;
        }
        if let Some(items) = &info.battery_items {
            v.err(
                &p.at,
                msg(
                    "instrument.battery_in_condition",
                    &[("code", &r), ("items", &items.join(", "))],
                ),
            );
            continue;
        }
        if info.ordinal >= p.limit {
            let key = if p.is_section {
                "instrument.condition_not_earlier_section"
            } else {
                "instrument.condition_later"
            };
            v.err(
                &p.at,
                msg(key, &[("code", &r)]).with("owner", p.owner.clone()),
            );
            continue;
        }
        if let Some(options) = &info.options {
            for (code, value) in &p.literals {
                if *code == r && !options.contains(value) {
                    v.err(
                        &p.at,
                        msg(
                            "instrument.no_such_option",
                            &[
                                ("code", &r),
                                ("value", value),
                                ("options", &options.join(", ")),
                            ],
                        ),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::instrument::test_support::*;

    #[test]
    fn a_duplicate_code_reads_in_vietnamese_with_the_same_place() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("code = \"note\"", "code = \"q1\"")
        );
        let first = line_of(&doc, "code = \"q1\"");
        let second = line_of(&doc, "code = \"q1\"\ntype = \"long_text\"");
        let errors = parse(&doc).unwrap_err();
        let vi: Vec<String> = errors
            .iter()
            .map(|e| e.text(crate::i18n::Lang::Vi))
            .collect();
        assert_eq!(
            vi,
            [format!(
                "demo.toml:{second}:8: sections[1].questions[1].code: mã câu hỏi 'q1' bị trùng (đã dùng ở dòng {first})"
            )]
        );
    }

    #[test]
    fn a_broken_condition_reads_in_vietnamese_with_its_column() {
        let doc = format!("{HEADER}{}", BODY.replace("q2 == 'yes'", "q2 = 'yes'"));
        let errors = parse(&doc).unwrap_err();
        let vi = errors[0].text(crate::i18n::Lang::Vi);
        assert!(
            vi.ends_with(
                "relevant: điều kiện không hợp lệ: hãy dùng '==' để so sánh, không dùng '=' (ở cột 4)"
            ),
            "{vi}"
        );
        assert!(
            errors[0]
                .to_string()
                .ends_with("relevant: invalid condition: use '==' to compare, not '=' at column 4"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn duplicate_question_code_is_reported_with_its_line() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("code = \"note\"", "code = \"q1\"")
        );
        let first = line_of(&doc, "code = \"q1\"");
        let second = line_of(&doc, "code = \"q1\"\ntype = \"long_text\"");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{second}:8: sections[1].questions[1].code: duplicate question code 'q1' (already used at line {first})"
            )]
        );
    }

    #[test]
    fn duplicate_battery_item_code_is_reported_with_its_line() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("code = \"b_2\"", "code = \"q2\"")
        );
        let line = line_of(&doc, "{ code = \"q2\"");
        let first = line_of(&doc, "code = \"q2\"");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:12: sections[1].questions[0].items[1].code: duplicate battery item code 'q2' (already used at line {first})"
            )]
        );
    }

    #[test]
    fn duplicate_section_code_is_reported_with_its_line() {
        let doc = format!("{HEADER}{}", BODY.replace("code = \"s2\"", "code = \"s1\""));
        let line = line_of(&doc, "code = \"s1\"\ntitle = { vi = \"Phần 2\"");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:8: sections[1].code: duplicate section code 's1' (already used at line {})",
                line_of(&doc, "code = \"s1\"")
            )]
        );
    }

    #[test]
    fn duplicate_option_value_is_reported_with_its_line() {
        let doc = format!("{HEADER}{}", BODY.replace("value = \"4\"", "value = \"3\""));
        let line = line_of(&doc, "{ value = \"3\", label = { vi = \"Rất kém\"");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:13: choices.agree4.options[3].value: duplicate option value '3' in choice list 'agree4' (already used at line {})",
                line - 1
            )]
        );
    }

    #[test]
    fn unknown_question_in_a_condition_is_reported() {
        let doc = format!("{HEADER}{}", BODY.replace("q2 == 'yes'", "q9 == 'yes'"));
        let line = line_of(&doc, "relevant = \"q9");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:12: sections[0].questions[2].relevant: unknown question code 'q9' in condition"
            )]
        );
    }

    #[test]
    fn condition_referring_to_itself_is_circular() {
        let doc = format!("{HEADER}{}", BODY.replace("q2 == 'yes'", "q3 > 1"));
        let line = line_of(&doc, "relevant = \"q3");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:12: sections[0].questions[2].relevant: condition of 'q3' refers to 'q3' itself (a circular condition)"
            )]
        );
    }

    #[test]
    fn condition_referring_to_a_later_question_is_rejected() {
        let doc = format!("{HEADER}{}", BODY.replace("q2 == 'yes'", "b_1 == 1"));
        let line = line_of(&doc, "relevant = \"b_1 == 1");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:12: sections[0].questions[2].relevant: condition of 'q3' refers to 'b_1', which comes later in the instrument (conditions may only refer to earlier answers, which also rules out circular conditions)"
            )]
        );
    }

    #[test]
    fn a_two_question_cycle_is_reported_on_the_forward_edge() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace(
                "label = { vi = \"Câu 2\", en = \"Question 2\" }",
                "label = { vi = \"Câu 2\", en = \"Question 2\" }\nrelevant = \"q3 > 1\""
            )
        );
        let es = errors(&doc);
        assert_eq!(es.len(), 1, "{es:?}");
        assert!(es[0].ends_with(
            "sections[0].questions[1].relevant: condition of 'q2' refers to 'q3', which comes later in the instrument (conditions may only refer to earlier answers, which also rules out circular conditions)"
        ));
    }

    #[test]
    fn conditions_must_use_existing_option_codes_and_items_not_batteries() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("q1 in [1, 2]", "q1 in [1, 7]")
                .replace("b_1 != 'dk'", "b != 'dk'")
        );
        let es = errors(&doc);
        assert_eq!(es.len(), 2, "{es:?}");
        assert!(es[0].ends_with("'q1' has no option '7' (its options are: 1, 2, 3, 4, dk)"));
        assert!(
            es[1].ends_with("'b' is a battery; a condition must name one of its items (b_1, b_2)")
        );
    }

    #[test]
    fn a_scale_with_no_valid_option_is_rejected() {
        let body = BODY.replace(
            "[choices.agree4]",
            "[choices.dk_only]\noptions = [ { value = \"dk\", label = { vi = \"Không biết\", en = \"Don't know\" }, valid = false } ]\n\n[choices.agree4]",
        );
        let doc = format!("{HEADER}{body}");
        let line = line_of(&doc, "[choices.dk_only]");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:10: choices.dk_only: choice list 'dk_only' has no valid option (every option has valid = false)"
            )]
        );
    }

    #[test]
    fn unknown_choice_list_is_reported() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replacen("choices = \"agree4\"", "choices = \"agree5\"", 1)
        );
        let line = line_of(&doc, "choices = \"agree5\"");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:11: sections[0].questions[0].choices: unknown choice list 'agree5' (defined lists: agree4)"
            )]
        );
    }

    #[test]
    fn min_greater_than_max_is_reported() {
        let doc = format!("{HEADER}{}", BODY.replace("min = 0", "min = 60"));
        let line = line_of(&doc, "min = 60");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:7: sections[0].questions[2].min: min (60) is greater than max (50)"
            )]
        );
    }

    #[test]
    fn unknown_question_type_is_reported() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("type = \"yes_no\"", "type = \"yesno\"")
        );
        let line = line_of(&doc, "type = \"yesno\"");
        assert_eq!(
            errors(&doc),
            [format!(
                "demo.toml:{line}:8: sections[0].questions[1].type: unknown question type 'yesno' (expected one of: single, multiple, battery, yes_no, integer, decimal, text, long_text, date, calculate, note)"
            )]
        );
    }

    #[test]
    fn fields_that_do_not_fit_the_type_are_reported() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("required = true", "required = true\nmax_length = 10")
                .replace("group = \"leader\"", "group = \"leaders\"")
        );
        let doc = doc.replace("group = \"leader\"", "group = \"leaders\"");
        let es = errors(&doc);
        assert_eq!(es.len(), 2, "{es:?}");
        assert_eq!(
            es[0],
            "demo.toml:4:9: group: unknown respondent group 'leaders' (expected one of: leader, civil_servant, citizen)"
        );
        assert!(es[1].ends_with(
            "sections[0].questions[0].max_length: `max_length` is not allowed for a question of type 'single'"
        ));
    }

    #[test]
    fn all_errors_are_reported_in_file_order() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("min = 0", "min = 60")
                .replace("type = \"yes_no\"", "type = \"yesno\"")
                .replace("code = \"b_2\"", "code = \"b_1\"")
        );
        let es = parse(&doc).unwrap_err();
        let lines: Vec<_> = es.iter().map(|e| e.location.line().unwrap()).collect();
        assert_eq!(es.len(), 3, "{es:?}");
        assert!(lines.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn question_level_continues_needs_an_instrument_level_one() {
        let doc = format!(
            "{HEADER}{}",
            BODY.replace("required = true", "continues = \"old_q1\"")
        );
        let es = errors(&doc);
        assert_eq!(es.len(), 1);
        assert!(es[0].ends_with(
            "sections[0].questions[0].continues: `continues` on a question needs the instrument-level `continues = { instrument = \"...\", version = N }`"
        ));
    }
}
