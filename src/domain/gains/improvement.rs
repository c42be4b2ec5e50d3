//! An improvement plan for a unit: its weakest criteria, each with its component, points and
//! points at stake, its change since the previous round, and the what-if effect of reaching
//! the national best on it — the annex of a provincial plan such as Sơn La's, with blank
//! "responsible unit" and "deadline" columns left for the province to fill in.
//!
//! One value ([`ImprovementPlan`]) serves both the printable page and the XLSX file, so the
//! two can never disagree.
//!
//! # Decisions
//!
//! - The weakest criteria are those with points lost, most points lost first (the order of
//!   points at stake), at most the number asked for.
//! - "Reaching the national best" on a criterion is simulated with the what-if ([`what_if`]):
//!   answers to the criterion's items move into their best value (highest coefficient), the
//!   fewest whole percentage points of each item's valid answers that raise the criterion's
//!   points to the national best. The criterion's points rise by exactly what its group's do
//!   (only its items change), so the group's points measure it. Whole percentage points are
//!   what a plan can state; with up to 100 valid answers an item's every whole answer is
//!   reachable at that resolution, and with more the plan may overshoot by under one point.
//! - A criterion at the national best already, without points, or whose items are scored on
//!   different scales (no one best value) has no simulation; nor has any criterion when this
//!   view hides the group's answer distributions (too few respondents for the public).

use serde::Serialize;

use super::targets::best_value;
use super::whatif::{AnswerShift, Change, ShiftTarget, WhatIf, WhatIfError, WhatIfInput, what_if};
use super::{Level, Stake};

/// How many criteria a plan lists by default.
pub const WEAKEST_CRITERIA: usize = 10;

/// Points compared at this tolerance: sums of coefficients carry float noise.
const EPSILON: f64 = 1e-9;

/// The effect of reaching the national best on one criterion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToBest {
    /// The answer value answers move into (the best one).
    pub to_value: String,
    /// Whole percentage points of each item's valid answers moved into it.
    pub percentage_points: u32,
    /// Answers moved over the criterion's items.
    pub moved_answers: u64,
    /// Whether the criterion reaches the national best (`false`: even every answer at the best
    /// value falls short, e.g. because unanswered items count as the methodology says).
    pub reached: bool,
    /// The unit's figures with that change.
    pub after: WhatIf,
    /// Index points gained (after − now).
    pub total_gain: Option<f64>,
}

/// One criterion of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanRow {
    /// The criterion's row at stake: group, code, component, points, maximum, points lost,
    /// gaps, and the previous round's value and change since.
    pub stake: Stake,
    /// The effect of reaching the national best; `None` when not simulated (see the module's
    /// decisions).
    pub to_best: Option<ToBest>,
}

/// A unit's improvement plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImprovementPlan {
    /// The unit as it is: index total, tier and ranks.
    pub now: WhatIf,
    /// The weakest criteria, most points lost first.
    pub rows: Vec<PlanRow>,
}

/// The plan of the unit of `input` from its points at stake (`stakes`, as
/// [`points_at_stake`](super::points_at_stake) sorted them): at most `limit` criteria.
///
/// # Errors
///
/// A [`WhatIfError`] other than those the module's decisions turn into "not simulated" (e.g.
/// the scoring engine refusing the unit's own answers).
pub fn improvement_plan(
    input: &WhatIfInput<'_>,
    stakes: &[Stake],
    limit: usize,
) -> Result<ImprovementPlan, WhatIfError> {
    // The unit re-scored unchanged: the baseline every simulation is measured from. A view
    // that hides the distributions has none, and no simulation.
    let baseline = match what_if(input, &[]) {
        Ok(o) => Some(o.after),
        Err(WhatIfError::DistributionsHidden(_)) => None,
        Err(e) => return Err(e),
    };
    let now = baseline
        .clone()
        .unwrap_or_else(|| super::whatif::figures_now(input));
    let mut rows = Vec::new();
    for s in stakes
        .iter()
        .filter(|s| s.key.level == Level::Criterion && s.lost.is_some_and(|l| l > EPSILON))
        .take(limit)
    {
        let to_best = match &baseline {
            Some(b) => to_best(input, b, s)?,
            None => None,
        };
        rows.push(PlanRow {
            stake: s.clone(),
            to_best,
        });
    }
    Ok(ImprovementPlan { now, rows })
}

/// The fewest whole percentage points of the criterion's answers moved into its best value
/// that bring it to the national best, and the unit's figures then.
fn to_best(
    input: &WhatIfInput<'_>,
    baseline: &WhatIf,
    s: &Stake,
) -> Result<Option<ToBest>, WhatIfError> {
    let (Some(group), Some(gap)) = (&s.key.group, s.gap_to_national_best) else {
        return Ok(None);
    };
    if gap <= EPSILON {
        return Ok(None);
    }
    let m = input.methodology;
    let Some(rule) = m
        .group(group)
        .and_then(|g| g.items.iter().find(|r| r.criterion == s.key.code))
    else {
        return Ok(None);
    };
    let Some(best) = best_value(m, rule) else {
        return Ok(None);
    };
    let Some(before) = baseline.groups.get(group).copied().flatten() else {
        return Ok(None);
    };
    let simulate = |pp: u32| {
        let change = Change::Shift(AnswerShift {
            group: group.clone(),
            target: ShiftTarget::Criterion(s.key.code.clone()),
            to_value: best.clone(),
            percentage_points: f64::from(pp),
        });
        what_if(input, &[change]).map(|o| {
            let gain = o
                .after
                .groups
                .get(group)
                .copied()
                .flatten()
                .map(|p| p - before);
            (o, gain.is_some_and(|g| g >= gap - EPSILON))
        })
    };
    // Points rise with the answers moved, so the fewest percentage points are found by halving.
    let (outcome, reached, pp) = match simulate(100) {
        Err(WhatIfError::UnknownValue { .. }) => return Ok(None),
        Err(e) => return Err(e),
        Ok((all, false)) => (all, false, 100),
        Ok((all, true)) => {
            let (mut lo, mut hi, mut at_hi) = (0u32, 100u32, all);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let (o, reached) = simulate(mid)?;
                if reached {
                    (hi, at_hi) = (mid, o);
                } else {
                    lo = mid;
                }
            }
            (at_hi, true, hi)
        }
    };
    Ok(Some(ToBest {
        to_value: best,
        percentage_points: pp,
        moved_answers: outcome.moved_answers.iter().sum(),
        reached,
        total_gain: outcome
            .after
            .total_points
            .zip(baseline.total_points)
            .map(|(a, b)| a - b),
        after: outcome.after,
    }))
}
