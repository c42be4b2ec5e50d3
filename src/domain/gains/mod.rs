//! Where a unit can gain: the points at stake in each component, criterion and scored item of
//! a round (points, maximum, points lost, gaps to the national and regional best and to the
//! unit's own previous round), and a what-if simulation that re-scores a unit with changed
//! answers or appraised points under the round's own methodology ([`what_if`]), an
//! improvement plan built on both ([`improvement_plan`]), and the ranking of a round's units by
//! how much each drags the round-wide score down ([`drag_ranking`]), and a province's internal
//! round beside the national round of the same year, item by item ([`compare`]).
//!
//! Pure functions over scores the scoring engine ([`crate::domain::scoring`]) produced: no
//! figure here is computed by a second set of rules. Points at stake only read those scores;
//! the what-if rebuilds the unit's tallies from its answer distributions and scores them again
//! with [`score_group`](crate::domain::scoring::score_group) and
//! [`compose_index`](crate::domain::scoring::compose_index), then ranks with
//! [`rank_units`](crate::domain::scoring::rank_units).
//!
//! # Decisions
//!
//! - Only groups that count toward the index are at stake: points of a reported-only group
//!   change nothing in the index.
//! - A component has two rows, its survey points (groups and linked indices such as SIPAS) and
//!   its appraised points (full index only), each labelled by [`Part`], so the two are shown
//!   side by side and never summed into one figure the reader cannot trace.
//! - "Best" is the highest value among the units given (the caller passes what the viewer may
//!   see); a unit without a value for a row neither sets nor gets a gap.
//! - The previous round's value of a row is the respondent-weighted mean of the unit's
//!   predecessors' values (one predecessor: its own value), the rule year-over-year uses
//!   ([`crate::domain::yoy::MergeRule::RespondentWeighted`]); rows are matched by code.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::methodology::Methodology;
use crate::domain::scoring::{GroupScore, IndexScore};

mod compare;
mod drag;
pub mod form;
mod improvement;
mod targets;
mod whatif;

pub use compare::{
    CompareError, CompareInput, CompareLevel, CompareRow, Comparison, GroupComparison,
    NotComparable, Side, compare,
};
pub use drag::{Drag, DragRanking, UnitWeight, drag_ranking};
pub use improvement::{ImprovementPlan, PlanRow, ToBest, WEAKEST_CRITERIA, improvement_plan};
pub use targets::{Goal, Lever, PROBE_PERCENTAGE_POINTS, TargetError, TargetPlan, plan};
pub use whatif::{
    AnswerShift, Change, ShiftTarget, WhatIf, WhatIfError, WhatIfInput, WhatIfOutcome, what_if,
};

/// The level of the methodology a row of points at stake belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// A component of the index.
    Component,
    /// A criterion, within one respondent group.
    Criterion,
    /// A scored item (question), within one respondent group.
    Item,
    /// A linked index (e.g. SIPAS), part of a component's survey points.
    LinkedIndex,
}

impl Level {
    /// The code the API and files write.
    pub fn code(self) -> &'static str {
        match self {
            Level::Component => "component",
            Level::Criterion => "criterion",
            Level::Item => "item",
            Level::LinkedIndex => "linked_index",
        }
    }
}

/// Whether points come from the surveys or from the appraisal council.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// Survey points: respondent groups and linked indices.
    Survey,
    /// Appraised (non-survey) points, set by the appraisal council.
    Appraised,
}

impl Part {
    /// The code the API and files write.
    pub fn code(self) -> &'static str {
        match self {
            Part::Survey => "survey",
            Part::Appraised => "appraised",
        }
    }
}

/// Identifies one row of points at stake, so the same row can be found in other units and in
/// the previous round.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StakeKey {
    /// Component, criterion, item or linked index.
    pub level: Level,
    /// Survey or appraised.
    pub part: Part,
    /// The respondent group of a criterion or item; `None` for components and linked indices.
    pub group: Option<String>,
    /// The code of the component, criterion, item or linked index.
    pub code: String,
}

/// One unit's scores, as points at stake reads them.
#[derive(Debug, Clone, Copy)]
pub struct UnitFigures<'a> {
    /// Unit code.
    pub unit: &'a str,
    /// Region code (empty when the unit has none).
    pub region: &'a str,
    /// Its points groups' scores.
    pub groups: &'a [GroupScore],
    /// Points of its linked indices (e.g. `"sipas"` → SIPAS index points) that have a value.
    pub linked: &'a BTreeMap<String, f64>,
    /// Its composed index.
    pub index: &'a IndexScore,
}

impl UnitFigures<'_> {
    /// The unit as the drag ranking weighs it: its respondents and index percent.
    pub fn weight(&self) -> UnitWeight<'_> {
        UnitWeight {
            unit: self.unit,
            respondents: self.respondents(),
            score: self.index.percent,
        }
    }

    /// Responses in the groups that count toward the index: the weight of this unit when
    /// predecessors are merged, and in the drag ranking.
    fn respondents(&self) -> u64 {
        self.groups
            .iter()
            .filter(|g| g.counts_toward_index)
            .fold(0u64, |a, g| a.saturating_add(g.responses))
    }

    /// Every row of this unit: key, component, points (`None` without a value) and maximum.
    fn rows(&self, m: &Methodology) -> Vec<(StakeKey, String, Option<f64>, f64)> {
        let mut out = Vec::new();
        for c in &self.index.components {
            out.push((
                key(Level::Component, Part::Survey, None, &c.code),
                c.code.clone(),
                c.survey_points,
                c.survey_max_points,
            ));
            if self.index.full_index {
                out.push((
                    key(Level::Component, Part::Appraised, None, &c.code),
                    c.code.clone(),
                    c.appraised_points,
                    c.max_points - c.survey_max_points,
                ));
            }
        }
        for l in &m.linked_indices {
            out.push((
                key(Level::LinkedIndex, Part::Survey, None, &l.code),
                l.component.clone(),
                self.linked.get(&l.code).copied(),
                l.points,
            ));
        }
        for g in self.groups.iter().filter(|g| g.counts_toward_index) {
            for s in &g.criteria {
                let component = m
                    .criterion(&s.code)
                    .map(|c| c.component.clone())
                    .unwrap_or_default();
                out.push((
                    key(Level::Criterion, Part::Survey, Some(&g.group), &s.code),
                    component,
                    s.points,
                    s.max_points,
                ));
            }
            for i in &g.items {
                out.push((
                    key(Level::Item, Part::Survey, Some(&g.group), &i.item),
                    i.component.clone(),
                    i.points,
                    i.max_points,
                ));
            }
        }
        out
    }
}

fn key(level: Level, part: Part, group: Option<&str>, code: &str) -> StakeKey {
    StakeKey {
        level,
        part,
        group: group.map(str::to_owned),
        code: code.to_owned(),
    }
}

/// One row of points at stake.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stake {
    /// Which row.
    #[serde(flatten)]
    pub key: StakeKey,
    /// The component the row belongs to.
    pub component: String,
    /// The unit's points; `None` without a value (no data, or no appraised points).
    pub points: Option<f64>,
    /// The maximum.
    pub max_points: f64,
    /// Points lost: maximum − points, the points recoverable at most.
    pub lost: Option<f64>,
    /// The best points among the units given.
    pub national_best: Option<f64>,
    /// Best − points (0 for the best unit).
    pub gap_to_national_best: Option<f64>,
    /// The best points among the units of the unit's region.
    pub regional_best: Option<f64>,
    /// Regional best − points.
    pub gap_to_regional_best: Option<f64>,
    /// The value in the previous round, through the unit lineage.
    pub previous: Option<f64>,
    /// Points − previous (positive: gained since).
    pub change_since_previous: Option<f64>,
}

/// The previous round's value of each row, as [`points_at_stake`] compares with it.
pub type PreviousValues = BTreeMap<StakeKey, f64>;

/// The previous round's values of a unit from its predecessors' scores there: one
/// predecessor's own values, or the mean of several weighted by their respondents in the
/// groups that count (a row only some predecessors have is averaged over those).
pub fn previous_values(m: &Methodology, predecessors: &[UnitFigures<'_>]) -> PreviousValues {
    let mut sums: BTreeMap<StakeKey, (f64, f64)> = BTreeMap::new();
    for p in predecessors {
        // A predecessor without respondents still counts once, so one unit alone keeps its
        // values.
        let weight = p.respondents().max(1) as f64;
        for (k, _, points, _) in p.rows(m) {
            if let Some(v) = points {
                let slot = sums.entry(k).or_insert((0.0, 0.0));
                slot.0 += v * weight;
                slot.1 += weight;
            }
        }
    }
    sums.into_iter()
        .filter(|(_, (_, w))| *w > 0.0)
        .map(|(k, (s, w))| (k, s / w))
        .collect()
}

/// Points at stake for `unit` among `units` (which may include it): every component (survey
/// and appraised rows), linked index, criterion and item of the groups that count, with its
/// gaps, sorted by points lost (most first; rows without a value last), then by row.
pub fn points_at_stake(
    m: &Methodology,
    unit: &UnitFigures<'_>,
    units: &[UnitFigures<'_>],
    previous: Option<&PreviousValues>,
) -> Vec<Stake> {
    let mut national: BTreeMap<StakeKey, f64> = BTreeMap::new();
    let mut regional: BTreeMap<StakeKey, f64> = BTreeMap::new();
    let same_region = |u: &UnitFigures<'_>| !unit.region.is_empty() && u.region == unit.region;
    for u in units.iter().chain(std::iter::once(unit)) {
        for (k, _, points, _) in u.rows(m) {
            let Some(v) = points else { continue };
            if same_region(u) || u.unit == unit.unit {
                raise(&mut regional, k.clone(), v);
            }
            raise(&mut national, k, v);
        }
    }
    let mut out: Vec<Stake> = unit
        .rows(m)
        .into_iter()
        .map(|(k, component, points, max_points)| {
            let national_best = national.get(&k).copied();
            let regional_best = regional.get(&k).copied();
            let previous = previous.and_then(|p| p.get(&k)).copied();
            let gap = |best: Option<f64>| points.zip(best).map(|(p, b)| (b - p).max(0.0));
            Stake {
                component,
                lost: points.map(|p| (max_points - p).max(0.0)),
                gap_to_national_best: gap(national_best),
                gap_to_regional_best: gap(regional_best),
                change_since_previous: points.zip(previous).map(|(p, q)| p - q),
                national_best,
                regional_best,
                previous,
                points,
                max_points,
                key: k,
            }
        })
        .collect();
    out.sort_by(|a, b| match (a.lost, b.lost) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.key.cmp(&b.key)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.key.cmp(&b.key),
    });
    out
}

fn raise(best: &mut BTreeMap<StakeKey, f64>, k: StakeKey, v: f64) {
    let slot = best.entry(k).or_insert(v);
    if v > *slot {
        *slot = v;
    }
}

#[cfg(test)]
mod tests;
