//! What-if: a unit re-scored with changed answer distributions or appraised points, under the
//! round's own methodology, and ranked against the other units' actual results.
//!
//! The unit's tallies are rebuilt from the answer distributions its group scores carry, the
//! changes are applied to those counts, and the scoring engine scores them again; nothing is
//! stored. Answers move as whole answers (a respondent's answer is one value): a shift of
//! x percentage points moves round(x % × valid answers) answers, and the outcome reports how
//! many moved.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::methodology::Methodology;
use crate::domain::scoring::{
    GroupScore, IndexScore, Position, ScoringError, Tally, UnitIndex, compose_index, rank_units,
    score_group,
};

/// What a shift of answers applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
pub enum ShiftTarget {
    /// One item.
    Item(String),
    /// Every item of a criterion in the group.
    Criterion(String),
}

/// "Move `percentage_points` of the valid answers to the items of `target` in `group` that are
/// worse than `to_value` into `to_value`": e.g. +10 points of "Tốt" (value "2") or better on
/// criterion C3. Answers are taken from the worst value (lowest coefficient) first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerShift {
    /// Respondent group code.
    pub group: String,
    /// The item or criterion.
    pub target: ShiftTarget,
    /// The answer value answers move into (answers at it or better stay).
    pub to_value: String,
    /// Percentage points of the item's valid answers to move, 0 to 100.
    pub percentage_points: f64,
}

/// One change of a what-if.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Move answers up (see [`AnswerShift`]).
    Shift(AnswerShift),
    /// Set the appraised points of a component.
    Appraised {
        /// Component code.
        component: String,
        /// The new appraised points.
        points: f64,
    },
}

/// Everything a what-if reads: the unit's current scores and the others' actual results.
#[derive(Debug, Clone, Copy)]
pub struct WhatIfInput<'a> {
    /// The round's main methodology (the one the index is composed with).
    pub methodology: &'a Methodology,
    /// The unit's code.
    pub unit: &'a str,
    /// The unit's region code.
    pub region: &'a str,
    /// The unit's points group scores, with their answer distributions.
    pub groups: &'a [GroupScore],
    /// Its linked indices' points (e.g. SIPAS), unchanged by a what-if.
    pub linked: &'a BTreeMap<String, f64>,
    /// Its current index (appraised points are read from it).
    pub index: &'a IndexScore,
    /// Every unit's actual index (the unit itself is replaced by its simulated one).
    pub units: &'a [UnitIndex],
}

/// A unit's figures before or after a what-if.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    /// Group code → points (`None`: no score).
    pub groups: BTreeMap<String, Option<f64>>,
    /// The survey part.
    pub survey_points: Option<f64>,
    /// The index total.
    pub total_points: Option<f64>,
    /// Total percent.
    pub percent: Option<f64>,
    /// Tier.
    pub tier: Option<String>,
    /// National rank among the ranked units.
    pub national: Option<Position>,
    /// Rank in the region.
    pub regional: Option<Position>,
}

/// The unit as it is and as it would be.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIfOutcome {
    /// As scored now (ranked with the same function, so both sides compare).
    pub before: WhatIf,
    /// With the changes.
    pub after: WhatIf,
    /// Answers moved by each change, in order (0 for appraised changes).
    pub moved_answers: Vec<u64>,
    /// The re-scored index.
    pub index: IndexScore,
}

/// Why a what-if cannot be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WhatIfError {
    /// The unit has no scores in this group.
    #[error("the unit has no scores in group \"{0}\"")]
    UnknownGroup(String),
    /// The item or criterion is not scored in the group.
    #[error("\"{0}\" is not scored in this group")]
    UnknownTarget(String),
    /// The answer value has no coefficient for an item of the target.
    #[error("answer value \"{value}\" is not scored for item \"{item}\"")]
    UnknownValue {
        /// Item code.
        item: String,
        /// Value.
        value: String,
    },
    /// Percentage points outside 0 to 100.
    #[error("{0} percentage points is outside 0 to 100")]
    ShareOutOfRange(f64),
    /// The view the unit's scores come from hides answer distributions of small groups.
    #[error("the answer distributions of group \"{0}\" are not shown in this view")]
    DistributionsHidden(String),
    /// The methodology refused the inputs (e.g. appraised points above the maximum).
    #[error(transparent)]
    Scoring(#[from] ScoringError),
}

/// Re-scores the unit with `changes` applied and ranks it against the other units' actual
/// results with [`rank_units`] (the round's tie rule).
///
/// # Errors
///
/// See [`WhatIfError`].
pub fn what_if(input: &WhatIfInput<'_>, changes: &[Change]) -> Result<WhatIfOutcome, WhatIfError> {
    let m = input.methodology;
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for g in input.groups {
        // A group whose items were cleared (a small group in the public view) cannot be
        // re-scored from its distributions.
        if g.items.is_empty() && m.group(&g.group).is_some_and(|d| !d.items.is_empty()) {
            if g.counts_toward_index {
                return Err(WhatIfError::DistributionsHidden(g.group.clone()));
            }
            continue;
        }
        tallies.insert(g.group.clone(), tally_of(g));
    }
    let mut appraised: Option<BTreeMap<String, f64>> = input.index.full_index.then(|| {
        input
            .index
            .components
            .iter()
            .filter_map(|c| Some((c.code.clone(), c.appraised_points?)))
            .collect()
    });
    let mut moved_answers = Vec::with_capacity(changes.len());
    for change in changes {
        match change {
            Change::Shift(shift) => {
                let tally = tallies
                    .get_mut(&shift.group)
                    .ok_or_else(|| WhatIfError::UnknownGroup(shift.group.clone()))?;
                moved_answers.push(apply_shift(m, tally, shift)?);
            }
            Change::Appraised { component, points } => {
                appraised
                    .get_or_insert_with(BTreeMap::new)
                    .insert(component.clone(), *points);
                moved_answers.push(0);
            }
        }
    }
    let mut scored = Vec::with_capacity(tallies.len());
    for (group, tally) in &tallies {
        scored.push(score_group(m, group, tally)?);
    }
    let counted: Vec<GroupScore> = scored
        .iter()
        .filter(|g| g.methodology == m.code && g.methodology_version == m.version)
        .cloned()
        .collect();
    let index = compose_index(m, &counted, input.linked, appraised.as_ref())?;
    let before = figures_now(input);
    let after = figures(
        input,
        &index,
        scored.iter().map(|g| (g.group.clone(), g.points)),
    );
    Ok(WhatIfOutcome {
        before,
        after,
        moved_answers,
        index,
    })
}

/// The tally a group score was computed from, rebuilt from its answer distributions.
fn tally_of(g: &GroupScore) -> Tally {
    Tally {
        responses: g.responses,
        items: g
            .items
            .iter()
            .map(|i| (i.item.clone(), i.distribution.clone()))
            .collect(),
    }
}

/// Applies one shift to a tally; returns the answers moved.
fn apply_shift(
    m: &Methodology,
    tally: &mut Tally,
    shift: &AnswerShift,
) -> Result<u64, WhatIfError> {
    if !(0.0..=100.0).contains(&shift.percentage_points) {
        return Err(WhatIfError::ShareOutOfRange(shift.percentage_points));
    }
    let group = m
        .group(&shift.group)
        .ok_or_else(|| WhatIfError::UnknownGroup(shift.group.clone()))?;
    let rules: Vec<_> = group
        .items
        .iter()
        .filter(|r| match &shift.target {
            ShiftTarget::Item(code) => &r.item == code,
            ShiftTarget::Criterion(code) => &r.criterion == code,
        })
        .collect();
    if rules.is_empty() {
        let (ShiftTarget::Item(code) | ShiftTarget::Criterion(code)) = &shift.target;
        return Err(WhatIfError::UnknownTarget(code.clone()));
    }
    let mut moved = 0u64;
    for rule in rules {
        let table = m.coefficients_for(rule);
        let target = table.and_then(|t| t.values.get(&shift.to_value)).copied();
        let (Some(table), Some(target)) = (table, target) else {
            return Err(WhatIfError::UnknownValue {
                item: rule.item.clone(),
                value: shift.to_value.clone(),
            });
        };
        let counts = tally.items.entry(rule.item.clone()).or_default();
        let valid: u64 = counts
            .iter()
            .filter(|(v, _)| table.values.contains_key(*v))
            .map(|(_, n)| *n)
            .sum();
        // Whole answers: x % of the valid answers, rounded half away from zero.
        let mut to_move = (shift.percentage_points / 100.0 * valid as f64).round() as u64;
        // The values worse than the target, worst first (ties by value, so the order is fixed).
        let mut worse: Vec<(&String, f64)> = table
            .values
            .iter()
            .filter(|(_, c)| **c < target)
            .map(|(v, c)| (v, *c))
            .collect();
        worse.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)));
        for (value, _) in worse {
            if to_move == 0 {
                break;
            }
            let have = counts.get(value).copied().unwrap_or(0);
            let take = have.min(to_move);
            if take > 0 {
                counts.insert(value.clone(), have - take);
                *counts.entry(shift.to_value.clone()).or_insert(0) += take;
                to_move -= take;
                moved += take;
            }
        }
    }
    Ok(moved)
}

/// The unit's figures as scored now, ranked among the others' actual results: the `before`
/// of every what-if, available even when its answer distributions are hidden.
pub(super) fn figures_now(input: &WhatIfInput<'_>) -> WhatIf {
    figures(
        input,
        input.index,
        input.groups.iter().map(|g| (g.group.clone(), g.points)),
    )
}

/// A unit's figures from an index, ranked among the others' actual results.
fn figures(
    input: &WhatIfInput<'_>,
    index: &IndexScore,
    groups: impl Iterator<Item = (String, Option<f64>)>,
) -> WhatIf {
    let mut units: Vec<UnitIndex> = input
        .units
        .iter()
        .filter(|u| u.unit != input.unit)
        .cloned()
        .collect();
    units.push(UnitIndex {
        unit: input.unit.to_owned(),
        region: input.region.to_owned(),
        index: index.clone(),
    });
    let rankings = rank_units(input.methodology, &units);
    let ranked = rankings.total.iter().find(|r| r.unit == input.unit);
    WhatIf {
        groups: groups.collect(),
        survey_points: index.survey_points,
        total_points: index.total_points,
        percent: index.percent,
        tier: index.tier.clone(),
        national: ranked.and_then(|r| r.national),
        regional: ranked.and_then(|r| r.regional),
    }
}
