//! A province's internal round beside the national round of the same year, item by item: the
//! province's own units pooled into one figure per item and criterion, next to the province's
//! figure in the national round, the national mean and the national best.
//!
//! # Definitions
//!
//! - **Pooled.** The internal round's figure of a group is the group scored once, with the
//!   internal round's methodology ([`score_group`]), from the tally summed over its units: every
//!   answer distribution added up and the responses counted. An item's pooled score is so the
//!   mean coefficient over all the valid answers of the units, which is the mean of the units'
//!   item scores weighted by their valid answers (not by respondents: an answer "don't know"
//!   weighs nothing, as in each unit's own score). A criterion follows the methodology's own
//!   rules from those items (unanswered items, minimum coverage). A unit × group whose item
//!   rows the view does not hold (the public view hides them for small groups) takes no part.
//! - **Compared in percent.** Each figure is a percent of the item's or criterion's maximum,
//!   so rounds scored under methodology versions with other points stay comparable; the
//!   difference is internal − national in percentage points.
//! - **National mean and best** are the arithmetic mean and the maximum over the national
//!   units given (those the viewer may see) that have a value, as the unit scorecard's
//!   national mean is.
//! - Only groups present in both rounds are compared. A group, criterion or item in one round
//!   only is listed as not comparable, never given 0; an item in both without a value on one
//!   side (no valid answer) is compared with no difference.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::methodology::Methodology;
use crate::domain::scoring::{GroupScore, Tally, score_group};

/// What a compared row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareLevel {
    /// A whole respondent group (only ever not comparable).
    Group,
    /// A criterion within a group.
    Criterion,
    /// A scored item within a group.
    Item,
}

impl CompareLevel {
    /// The code the API writes.
    pub fn code(self) -> &'static str {
        match self {
            CompareLevel::Group => "group",
            CompareLevel::Criterion => "criterion",
            CompareLevel::Item => "item",
        }
    }
}

/// Which round a not comparable row is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Only in the internal round.
    Internal,
    /// Only in the national round.
    National,
}

impl Side {
    /// The code the API writes.
    pub fn code(self) -> &'static str {
        match self {
            Side::Internal => "internal",
            Side::National => "national",
        }
    }
}

/// The rounds' figures, as [`compare`] reads them.
#[derive(Debug, Clone, Copy)]
pub struct CompareInput<'a> {
    /// The internal round's methodology: the pooled groups are scored with it.
    pub methodology: &'a Methodology,
    /// Each internal unit's group scores (the units in the viewer's view).
    pub internal: &'a [&'a [GroupScore]],
    /// The province's group scores in the national round.
    pub province: &'a [GroupScore],
    /// Each national unit's group scores (those the viewer may see; may include the province).
    pub national: &'a [&'a [GroupScore]],
}

/// One criterion or item compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareRow {
    /// Criterion or item.
    pub level: CompareLevel,
    /// Respondent group.
    pub group: String,
    /// Criterion or item code.
    pub code: String,
    /// The criterion the row belongs to (its own code for a criterion).
    pub criterion: String,
    /// The internal round's pooled percent; `None` without a value.
    pub internal: Option<f64>,
    /// The province's percent in the national round.
    pub national: Option<f64>,
    /// internal − national, in percentage points.
    pub difference: Option<f64>,
    /// The mean of the national units' percents.
    pub national_mean: Option<f64>,
    /// The best national unit's percent.
    pub national_best: Option<f64>,
}

/// A group, criterion or item that only one round has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotComparable {
    /// Group, criterion or item.
    pub level: CompareLevel,
    /// Respondent group.
    pub group: String,
    /// Its code (the group's own for a group).
    pub code: String,
    /// The round that has it.
    pub only_in: Side,
}

/// One group present in both rounds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupComparison {
    /// Group code.
    pub group: String,
    /// Internal units pooled.
    pub internal_units: usize,
    /// Responses pooled.
    pub internal_responses: u64,
    /// Each criterion followed by its items, in the methodology's order.
    pub rows: Vec<CompareRow>,
}

/// The internal round beside the national round.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The groups in both rounds.
    pub groups: Vec<GroupComparison>,
    /// What only one round has.
    pub not_comparable: Vec<NotComparable>,
}

/// Why two rounds cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompareError {
    /// No respondent group is in both rounds.
    #[error("the rounds have no respondent group in common")]
    NoGroupInCommon,
}

/// Compares the pooled internal round with the province in the national round (see the
/// module's definitions).
///
/// # Errors
///
/// [`CompareError::NoGroupInCommon`] when no group the internal methodology scores is in both.
pub fn compare(input: &CompareInput<'_>) -> Result<Comparison, CompareError> {
    let pooled = pool(input.methodology, input.internal);
    let mut groups = Vec::new();
    let mut not_comparable = Vec::new();
    let only = |level, group: &str, code: &str, only_in| NotComparable {
        level,
        group: group.to_owned(),
        code: code.to_owned(),
        only_in,
    };
    for (score, units) in &pooled {
        let Some(mine) = input.province.iter().find(|g| g.group == score.group) else {
            not_comparable.push(only(
                CompareLevel::Group,
                &score.group,
                &score.group,
                Side::Internal,
            ));
            continue;
        };
        let others = |code: &str, level: CompareLevel| -> Vec<f64> {
            input
                .national
                .iter()
                .filter_map(|u| u.iter().find(|g| g.group == score.group))
                .filter_map(|g| percent_in(g, level, code))
                .collect()
        };
        let row = |level, code: &str, criterion: &str, internal: Option<f64>| {
            let national = percent_in(mine, level, code);
            let values = others(code, level);
            CompareRow {
                level,
                group: score.group.clone(),
                code: code.to_owned(),
                criterion: criterion.to_owned(),
                internal,
                national,
                difference: internal.zip(national).map(|(a, b)| a - b),
                national_mean: (!values.is_empty())
                    .then(|| values.iter().sum::<f64>() / values.len() as f64),
                national_best: values.iter().copied().reduce(f64::max),
            }
        };
        let mut rows = Vec::new();
        for c in &score.criteria {
            if mine.criterion(&c.code).is_none() {
                not_comparable.push(only(
                    CompareLevel::Criterion,
                    &score.group,
                    &c.code,
                    Side::Internal,
                ));
            } else {
                rows.push(row(CompareLevel::Criterion, &c.code, &c.code, c.percent));
            }
            for i in score.items.iter().filter(|i| i.criterion == c.code) {
                if mine.item(&i.item).is_none() {
                    not_comparable.push(only(
                        CompareLevel::Item,
                        &score.group,
                        &i.item,
                        Side::Internal,
                    ));
                } else {
                    rows.push(row(CompareLevel::Item, &i.item, &c.code, i.percent));
                }
            }
        }
        for c in mine
            .criteria
            .iter()
            .filter(|c| score.criterion(&c.code).is_none())
        {
            not_comparable.push(only(
                CompareLevel::Criterion,
                &score.group,
                &c.code,
                Side::National,
            ));
        }
        for i in mine.items.iter().filter(|i| score.item(&i.item).is_none()) {
            not_comparable.push(only(
                CompareLevel::Item,
                &score.group,
                &i.item,
                Side::National,
            ));
        }
        groups.push(GroupComparison {
            group: score.group.clone(),
            internal_units: *units,
            internal_responses: score.responses,
            rows,
        });
    }
    for g in input
        .province
        .iter()
        .filter(|g| !pooled.iter().any(|(p, _)| p.group == g.group))
    {
        not_comparable.push(only(
            CompareLevel::Group,
            &g.group,
            &g.group,
            Side::National,
        ));
    }
    if groups.is_empty() {
        return Err(CompareError::NoGroupInCommon);
    }
    Ok(Comparison {
        groups,
        not_comparable,
    })
}

/// The percent of a criterion or item in a group's scores.
fn percent_in(g: &GroupScore, level: CompareLevel, code: &str) -> Option<f64> {
    match level {
        CompareLevel::Criterion => g.criterion(code)?.percent,
        CompareLevel::Item => g.item(code)?.percent,
        CompareLevel::Group => g.percent,
    }
}

/// Each group of the internal units scored once from their summed tallies, in the
/// methodology's group order, with the number of units pooled. Unit × groups without item rows
/// (hidden by the view) are left out; a group the methodology does not score is not pooled.
fn pool(m: &Methodology, units: &[&[GroupScore]]) -> Vec<(GroupScore, usize)> {
    let mut tallies: BTreeMap<&str, (Tally, usize)> = BTreeMap::new();
    for g in units.iter().flat_map(|u| u.iter()) {
        if g.items.is_empty() {
            continue;
        }
        let (tally, n) = tallies.entry(g.group.as_str()).or_default();
        let own = Tally {
            responses: g.responses,
            items: g
                .items
                .iter()
                .map(|i| (i.item.clone(), i.distribution.clone()))
                .collect(),
        };
        tally.merge(&own);
        *n += 1;
    }
    m.groups
        .iter()
        .filter_map(|rule| {
            let (tally, n) = tallies.get(rule.code.as_str())?;
            let score = score_group(m, &rule.code, tally).ok()?;
            Some((score, *n))
        })
        .collect()
}

#[cfg(test)]
mod tests;
