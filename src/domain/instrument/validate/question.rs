//! One draft question checked into a [`Question`]: its code registered first, then its type,
//! the fields that fit that type, its choices, bounds and lengths, and the references it
//! leaves for the checks of the conditions.

use std::collections::{BTreeMap, BTreeSet};

use super::codes::CodeInfo;
use super::conditions::{PendingCondition, literals_of};
use super::{Validator, msg, what};
use crate::domain::expr::is_valid_code;
use crate::domain::instrument::features::check_default;
use crate::domain::instrument::{
    Appearance, At, BatteryItem, ChoiceOption, Choices, Constraint, Continuation,
    DEFAULT_LONG_TEXT_MAX, DEFAULT_TEXT_MAX, DraftChoices, DraftQuestion, Location, MAX_TEXT_MAX,
    Number, QUESTION_TYPES, Question, QuestionKind, Text, place, placeholders,
};

/// Checks one question; `None` when it cannot be built (its problems are reported).
pub(super) fn build_question(
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
                check_bounds_order(v, min, max, dq.min.as_ref());
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
                check_bounds_order(v, min, max, dq.min.as_ref());
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

/// Reports, at the `min` bound, a minimum above the maximum of a number question.
fn check_bounds_order<T: PartialOrd + std::fmt::Display>(
    v: &mut Validator<'_>,
    min: Option<T>,
    max: Option<T>,
    min_at: Option<&At<Number>>,
) {
    if let (Some(lo), Some(hi), Some(at)) = (min, max, min_at)
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
}
