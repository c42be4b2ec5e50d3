//! Targets: the user states a goal (a tier, a national rank, a total) and gets the minimum
//! extra index points it needs given the other units' actual results, and the items and
//! criteria that buy them most cheaply, as index points per percentage point of answers moved
//! into the best value.
//!
//! The marginal gains are measured with the what-if simulation ([`what_if`]), never with a
//! formula of their own: each item and criterion is probed with a shift of
//! [`PROBE_PERCENTAGE_POINTS`] of its answers into its best value, and the change of the index
//! total is divided by the percentage points of answers that actually moved (answers move
//! whole, so a probe on few respondents moves a little more or less than asked).
//!
//! # Decisions
//!
//! - The extra points reach the goal's threshold exactly (a tier's lower bound, the total of
//!   the unit whose rank is wanted): they never rely on rounding at display precision.
//! - A rank goal is met by tying the unit now at that rank: the round's tie rules
//!   (competition or dense) both give tied units the same, best rank.
//! - Only units that stand ranked are counted as others (as [`rank_units`] does).

use serde::Serialize;

use super::whatif::{AnswerShift, Change, ShiftTarget, WhatIfError, WhatIfInput, what_if};
use crate::domain::methodology::Methodology;
use crate::domain::scoring::{Standing, standing};

#[cfg(doc)]
use crate::domain::scoring::rank_units;

/// The size of the shift each item and criterion is probed with, in percentage points: large
/// enough that whole answers move in small groups, small enough to stay a margin.
pub const PROBE_PERCENTAGE_POINTS: f64 = 10.0;

/// What the unit aims at.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Goal {
    /// Reach (or stay in) a tier, by its code ("A", "B").
    Tier(String),
    /// A national rank of at most this ("top 10").
    Rank(u32),
    /// An index total of at least this many points.
    Total(f64),
}

/// One item or criterion as a way to gain points.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lever {
    /// Respondent group.
    pub group: String,
    /// The item or criterion.
    pub target: ShiftTarget,
    /// Its best answer value (highest coefficient), where answers are moved.
    pub to_value: String,
    /// Index points gained per percentage point of answers moved into the best value.
    pub points_per_pp: f64,
    /// Percentage points of answers not yet at the best value: the most that can move.
    pub headroom_pp: f64,
    /// Percentage points to move to gain the extra points with this lever alone, at its
    /// marginal rate; `None` when its headroom is not enough.
    pub pp_needed: Option<f64>,
}

/// The answer to a goal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetPlan {
    /// The goal.
    pub goal: Goal,
    /// The unit's index total now.
    pub total_points: f64,
    /// The total that meets the goal.
    pub goal_points: f64,
    /// Extra index points needed (0 when the goal is already met).
    pub extra_points: f64,
    /// Items and criteria that gain points, cheapest (most points per percentage point) first.
    pub levers: Vec<Lever>,
}

/// Why a goal cannot be planned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TargetError {
    /// The methodology has no tier with this code.
    #[error("no tier \"{0}\"")]
    UnknownTier(String),
    /// Rank 0 is no rank.
    #[error("a rank goal starts at 1")]
    RankZero,
    /// The goal's total is above the index maximum.
    #[error("{0} points is above the index maximum")]
    AboveMaximum(f64),
    /// The unit has no total (incomplete scores).
    #[error("the unit has no index total")]
    NoTotal,
    /// A probe failed.
    #[error(transparent)]
    WhatIf(#[from] WhatIfError),
}

/// The extra index points `goal` needs and the levers to gain them.
///
/// # Errors
///
/// See [`TargetError`].
pub fn plan(input: &WhatIfInput<'_>, goal: &Goal) -> Result<TargetPlan, TargetError> {
    let m = input.methodology;
    let index = input.index;
    let total = index.total_points.ok_or(TargetError::NoTotal)?;
    let max = index.max_points;
    let goal_points = match goal {
        Goal::Total(points) if *points > max => return Err(TargetError::AboveMaximum(*points)),
        Goal::Total(points) => *points,
        Goal::Tier(code) => {
            let band = m
                .tiers
                .bands
                .iter()
                .find(|b| &b.code == code)
                .ok_or_else(|| TargetError::UnknownTier(code.clone()))?;
            band.min / 100.0 * max
        }
        Goal::Rank(0) => return Err(TargetError::RankZero),
        Goal::Rank(n) => rank_threshold(input, *n as usize).map_or(0.0, |p| p / 100.0 * max),
    };
    let extra_points = (goal_points - total).max(0.0);
    let mut levers = levers(input)?;
    for l in &mut levers {
        let pp = extra_points / l.points_per_pp;
        l.pp_needed = (pp <= l.headroom_pp + 1e-9).then_some(pp);
    }
    Ok(TargetPlan {
        goal: goal.clone(),
        total_points: total,
        goal_points,
        extra_points,
        levers,
    })
}

/// The percent the unit must reach to rank `n` nationally: that of the other ranked unit now
/// at place `n` (tying it shares its rank); `None` when fewer than `n` others are ranked.
fn rank_threshold(input: &WhatIfInput<'_>, n: usize) -> Option<f64> {
    let full = input.index.full_index || input.units.iter().any(|u| u.index.full_index);
    let mut others: Vec<f64> = input
        .units
        .iter()
        .filter(|u| u.unit != input.unit && standing(&u.index, full) == Standing::Ranked)
        .filter_map(|u| u.index.percent)
        .collect();
    others.sort_by(|a, b| b.total_cmp(a));
    others.get(n - 1).copied()
}

/// Every item and criterion of the counted groups with something to gain, measured with a
/// probe of the what-if simulation, most points per percentage point first.
fn levers(input: &WhatIfInput<'_>) -> Result<Vec<Lever>, TargetError> {
    let m = input.methodology;
    let before = input.index.total_points.ok_or(TargetError::NoTotal)?;
    let mut out = Vec::new();
    for g in input.groups.iter().filter(|g| {
        g.counts_toward_index && g.methodology == m.code && g.methodology_version == m.version
    }) {
        let Some(def) = m.group(&g.group) else {
            continue;
        };
        let mut targets: Vec<ShiftTarget> = Vec::new();
        for rule in &def.items {
            let criterion = ShiftTarget::Criterion(rule.criterion.clone());
            if !targets.contains(&criterion) {
                targets.push(criterion);
            }
        }
        targets.extend(def.items.iter().map(|r| ShiftTarget::Item(r.item.clone())));
        for target in targets {
            let rules: Vec<_> = def
                .items
                .iter()
                .filter(|r| match &target {
                    ShiftTarget::Item(c) => &r.item == c,
                    ShiftTarget::Criterion(c) => &r.criterion == c,
                })
                .collect();
            let Some(best) = best_value(m, rules[0]) else {
                continue;
            };
            // Valid answers and those below the best value, over the target's items.
            let (mut valid, mut below) = (0u64, 0u64);
            for rule in &rules {
                let Some(table) = m.coefficients_for(rule) else {
                    continue;
                };
                let top = table.values.get(&best).copied().unwrap_or(f64::INFINITY);
                if let Some(counts) = g.items.iter().find(|i| i.item == rule.item) {
                    for (v, n) in &counts.distribution {
                        if let Some(c) = table.values.get(v) {
                            valid += n;
                            if *c < top {
                                below += n;
                            }
                        }
                    }
                }
            }
            if valid == 0 || below == 0 {
                continue;
            }
            let probe = Change::Shift(AnswerShift {
                group: g.group.clone(),
                target: target.clone(),
                to_value: best.clone(),
                percentage_points: PROBE_PERCENTAGE_POINTS,
            });
            let outcome = match what_if(input, std::slice::from_ref(&probe)) {
                Ok(o) => o,
                // A criterion whose items are scored on different scales has no one best value.
                Err(WhatIfError::UnknownValue { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            let moved = outcome.moved_answers[0];
            let Some(after) = outcome.after.total_points else {
                continue;
            };
            if moved == 0 || after <= before {
                continue;
            }
            let moved_pp = moved as f64 / valid as f64 * 100.0;
            out.push(Lever {
                group: g.group.clone(),
                target,
                to_value: best,
                points_per_pp: (after - before) / moved_pp,
                headroom_pp: below as f64 / valid as f64 * 100.0,
                pp_needed: None,
            });
        }
    }
    out.sort_by(|a, b| {
        b.points_per_pp
            .total_cmp(&a.points_per_pp)
            .then_with(|| a.group.cmp(&b.group))
    });
    Ok(out)
}

/// The answer value with the highest coefficient in an item's table (ties: the first value).
pub(super) fn best_value(
    m: &Methodology,
    rule: &crate::domain::methodology::ItemRule,
) -> Option<String> {
    let table = m.coefficients_for(rule)?;
    table
        .values
        .iter()
        .fold(None::<(&String, f64)>, |acc, (v, c)| match acc {
            Some((_, best)) if best >= *c => acc,
            _ => Some((v, *c)),
        })
        .map(|(v, _)| v.clone())
}
