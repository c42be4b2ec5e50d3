//! The references of conditions, calculations, choice filters and label placeholders, checked
//! once every code is known: they must name earlier answers, existing options, and never the
//! question itself.

use std::collections::{BTreeMap, BTreeSet};

use super::codes::CodeInfo;
use super::{Validator, msg};
use crate::domain::expr::{Expr, SELF_REF};
use crate::domain::instrument::Location;
use crate::i18n::Localized;

/// References to check once every code is known: a condition's, a calculation's, a choice
/// filter's, or the `${code}` placeholders of a label.
pub(super) struct PendingCondition {
    pub(super) owner: Localized,
    pub(super) refs: BTreeSet<String>,
    /// (code, literal as an option code) pairs compared by equality.
    pub(super) literals: Vec<(String, String)>,
    pub(super) at: Location,
    /// References must have an ordinal below this.
    pub(super) limit: usize,
    pub(super) own_codes: Vec<String>,
    pub(super) is_constraint: bool,
    pub(super) is_section: bool,
}

/// The (code, option code) pairs a condition compares by equality.
pub(super) fn literals_of(expr: &Expr) -> Vec<(String, String)> {
    expr.equality_literals()
        .into_iter()
        .map(|(code, lit)| (code.to_owned(), lit.as_code()))
        .collect()
}

/// Reports what is wrong with the references of one pending condition.
pub(super) fn check_condition(
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
