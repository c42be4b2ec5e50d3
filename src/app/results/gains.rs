//! Where a unit can gain: its points at stake ([`crate::domain::gains`]) read from the results
//! the viewer may see. The caller opens the round through the same results entry as the unit
//! page ([`crate::app::state::AppState::with_results`]), so visibility, disclosure control and
//! coordinator scope are that page's: the national and regional best are the best among the
//! units this view holds, and the previous round is read by the year-over-year rule (hiding
//! small groups' items from the public there too).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{RoundResults, Scope, Source, Viewer, earlier_scores, hide_small_distributions};
use crate::app::catalog;
use crate::app::export::jobs::{ItemLabels, item_labels};
use crate::app::scores::{self, UnitScores};
use crate::db::{self, AnyConnection};
use crate::domain::gains::form::{FieldError, WhatIfQuery};
use crate::domain::gains::{
    self, DragRanking, ImprovementPlan, PreviousValues, Stake, TargetError, TargetPlan,
    UnitFigures, UnitWeight, WhatIfError, WhatIfInput, WhatIfOutcome,
};
use crate::domain::methodology::Methodology;
use crate::domain::scoring::UnitIndex;
use crate::error::AppError;

/// A unit's points at stake, as one viewer may see them.
#[derive(Debug, Clone, Serialize)]
pub struct UnitGains {
    /// Unit code.
    pub unit: String,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// Region code.
    pub region: String,
    /// Every row at stake, most points lost first.
    pub stakes: Vec<Stake>,
    /// Units the best values are taken among (the units in the viewer's scope).
    pub compared_units: usize,
    /// The round the previous values come from, when the round is compared with one and the
    /// viewer may see its figures.
    pub previous_round: Option<i64>,
    /// The units of this view ranked by how much each drags the round-wide score down;
    /// `None` when no unit has a score.
    pub drag: Option<DragRanking>,
}

/// The points at stake of `unit` in `results` (opened for `viewer`); not found when the unit is
/// not among the results the viewer may see, exactly as the unit page.
pub fn unit_gains(
    conn: &mut AnyConnection,
    results: &RoundResults,
    viewer: Viewer,
    unit: &str,
) -> Result<UnitGains, AppError> {
    let (me, linked) = unit_and_linked(conn, results, unit)?;
    gains_of(conn, results, viewer, me, &linked)
}

/// The points at stake of `me`, once its scores and the linked indices' points are found.
fn gains_of(
    conn: &mut AnyConnection,
    results: &RoundResults,
    viewer: Viewer,
    me: &UnitScores,
    linked: &LinkedPoints,
) -> Result<UnitGains, AppError> {
    let empty = BTreeMap::new();
    let figures = |u| figures_of(u, linked, &empty);
    let all: Vec<UnitFigures<'_>> = results.scores.units.iter().map(figures).collect();
    let (previous, previous_round) = previous_of(conn, results, viewer, &me.unit)?;
    let stakes =
        gains::points_at_stake(&results.methodology, &figures(me), &all, previous.as_ref());
    let weights: Vec<UnitWeight<'_>> = all.iter().map(UnitFigures::weight).collect();
    Ok(UnitGains {
        drag: gains::drag_ranking(&weights),
        unit: me.unit.clone(),
        name_vi: me.name_vi.clone(),
        name_en: me.name_en.clone(),
        region: me.region.clone(),
        stakes,
        compared_units: all.len(),
        previous_round: previous.is_some().then_some(previous_round).flatten(),
    })
}

/// A unit's improvement plan, as one viewer may see it: the one value the printable page and
/// the XLSX file are both rendered from.
#[derive(Debug, Clone, Serialize)]
pub struct UnitPlan {
    /// The unit's points at stake the plan was built from (its name, region, the units
    /// compared with and the previous round).
    pub gains: UnitGains,
    /// The weakest criteria and the effect of reaching the national best on each.
    pub plan: ImprovementPlan,
}

/// What the gains page shows: the unit's gains, the question texts, and the what-if the visitor
/// asked for, with its answer or the field that was refused; `None` when nothing was asked.
#[derive(Debug)]
pub struct GainsPage {
    /// The points at stake.
    pub gains: UnitGains,
    /// Question texts of the round's questionnaires.
    pub labels: ItemLabels,
    /// The what-if asked for: its answer, or the refused field (in the form or in the
    /// simulation).
    pub what_if: Option<Result<UnitWhatIf, FieldError>>,
}

/// The gains page of `unit`: [`unit_gains`] and, when `asked` holds changes or a goal,
/// [`unit_what_if`]; a form that could not be read comes back as its field.
pub fn gains_page(
    conn: &mut AnyConnection,
    results: &RoundResults,
    viewer: Viewer,
    unit: &str,
    asked: Result<WhatIfQuery, FieldError>,
) -> Result<GainsPage, AppError> {
    let gains = unit_gains(conn, results, viewer, unit)?;
    let labels = item_labels(conn, results.round.id)?;
    let what_if = match asked {
        Err(e) => Some(Err(e)),
        Ok(q) if q.is_empty() => None,
        Ok(q) => Some(unit_what_if(conn, results, unit, &q)?),
    };
    Ok(GainsPage {
        gains,
        labels,
        what_if,
    })
}

/// The improvement plan of `unit` in `results`, opened for `viewer` exactly as
/// [`unit_gains`] (same scope, disclosure and previous round); not found as it is.
pub fn unit_plan(
    conn: &mut AnyConnection,
    results: &RoundResults,
    viewer: Viewer,
    unit: &str,
) -> Result<UnitPlan, AppError> {
    let (me, linked) = unit_and_linked(conn, results, unit)?;
    let gains = gains_of(conn, results, viewer, me, &linked)?;
    let plan = with_what_if_input(results, me, &linked, |input| {
        gains::improvement_plan(input, &gains.stakes, gains::WEAKEST_CRITERIA)
    })
    .map_err(|e| AppError::Internal(anyhow::Error::new(e)))?;
    Ok(UnitPlan { gains, plan })
}

/// Runs `f` on the what-if input of `me`: its own figures and linked indices beside every
/// ranked unit of `results`, the one input the plan and the what-if form simulate with.
fn with_what_if_input<R>(
    results: &RoundResults,
    me: &UnitScores,
    linked: &LinkedPoints,
    f: impl FnOnce(&WhatIfInput<'_>) -> R,
) -> R {
    let empty = BTreeMap::new();
    let units = ranked_units(results);
    let input = WhatIfInput {
        methodology: &results.methodology,
        unit: &me.unit,
        region: &me.region,
        groups: &me.groups,
        linked: linked.get(&me.unit).unwrap_or(&empty),
        index: &me.index,
        units: &units,
    };
    f(&input)
}

/// Every unit's actual index, as the what-if ranks against.
fn ranked_units(results: &RoundResults) -> Vec<UnitIndex> {
    results
        .scores
        .units
        .iter()
        .map(|u| UnitIndex {
            unit: u.unit.clone(),
            region: u.region.clone(),
            index: u.index.clone(),
        })
        .collect()
}

/// A what-if and a target of one unit, as one viewer may see them.
#[derive(Debug, Clone, Serialize)]
pub struct UnitWhatIf {
    /// The unit before and after the changes (none asked: before twice).
    pub outcome: WhatIfOutcome,
    /// The plan toward the goal, when one was stated (from the unit's actual results).
    pub plan: Option<TargetPlan>,
}

/// Simulates the changes of `request` on `unit` in `results` (opened for the viewer as the
/// gains page is, so the unit and the others it is ranked among are those the viewer may see)
/// and plans toward its goal. Reads only: nothing is stored. Not found exactly as
/// [`unit_gains`]; a change or goal the methodology refuses comes back as the field it came
/// from.
///
/// Each change is first simulated alone, so a refusal names the change it comes from.
pub fn unit_what_if(
    conn: &mut AnyConnection,
    results: &RoundResults,
    unit: &str,
    request: &WhatIfQuery,
) -> Result<Result<UnitWhatIf, FieldError>, AppError> {
    let changes = request.change_list();
    // A request without changes can still be refused (e.g. the group's distributions are
    // hidden from this viewer): its goal is what asked for the simulation.
    let field_of = |i: usize, e: &WhatIfError| match request.changes.get(i) {
        Some((prefix, _)) => FieldError::of_what_if(prefix, e),
        None => FieldError::of_target(&TargetError::WhatIf(e.clone())),
    };
    let (me, linked) = unit_and_linked(conn, results, unit)?;
    Ok(with_what_if_input(results, me, &linked, |input| {
        for (i, change) in changes.iter().enumerate() {
            if let Err(e) = gains::what_if(input, std::slice::from_ref(change)) {
                return Err(field_of(i, &e));
            }
        }
        let outcome = match gains::what_if(input, &changes) {
            Ok(o) => o,
            // Each change alone passed; together they can still be refused (e.g. by the
            // scoring engine), and the last one is the one that tipped it.
            Err(e) => return Err(field_of(changes.len().saturating_sub(1), &e)),
        };
        let plan = request
            .goal
            .as_ref()
            .map(|g| gains::plan(input, g))
            .transpose()
            .map_err(|e| FieldError::of_target(&e))?;
        Ok(UnitWhatIf { outcome, plan })
    }))
}

/// The previous round's values of `unit`: its predecessors (through the unit lineage, as the
/// round's year-over-year comparison matched them) scored in the earlier round, read as
/// [`earlier_scores`] allows and, for live earlier figures, only within the viewer's scope.
fn previous_of(
    conn: &mut AnyConnection,
    results: &RoundResults,
    viewer: Viewer,
    unit: &str,
) -> Result<(Option<PreviousValues>, Option<i64>), AppError> {
    let Some(earlier_id) = results.round.compare_round_id else {
        return Ok((None, None));
    };
    let Some(change) = results.yoy.iter().flatten().find(|c| c.unit == unit) else {
        return Ok((None, None));
    };
    let Some((source, mut earlier)) = earlier_scores(conn, earlier_id, viewer.sees_live())? else {
        return Ok((None, None));
    };
    let scope = match source {
        Source::Live => viewer.scope(conn)?,
        Source::Published { .. } => Scope::All,
    };
    let method = scores::main_methodology(conn, earlier_id)?;
    // The public sees no item of a small group in the earlier round either.
    if viewer == Viewer::Public {
        hide_small_distributions(&mut earlier, method.quality.disclosure_min_n);
    }
    let linked = linked_points(conn, earlier_id, &method, &earlier.units)?;
    let empty = BTreeMap::new();
    let predecessors: Vec<UnitFigures<'_>> = earlier
        .units
        .iter()
        .filter(|u| change.predecessors.contains(&u.unit) && scope.includes(&u.unit))
        .map(|u| figures_of(u, &linked, &empty))
        .collect();
    if predecessors.is_empty() {
        return Ok((None, None));
    }
    Ok((
        Some(gains::previous_values(&method, &predecessors)),
        Some(earlier_id),
    ))
}

/// A unit's scores as points at stake reads them.
fn figures_of<'a>(
    u: &'a UnitScores,
    linked: &'a BTreeMap<String, BTreeMap<String, f64>>,
    empty: &'a BTreeMap<String, f64>,
) -> UnitFigures<'a> {
    UnitFigures {
        unit: &u.unit,
        region: &u.region,
        groups: &u.groups,
        linked: linked.get(&u.unit).unwrap_or(empty),
        index: &u.index,
    }
}

/// The scores of `unit` in the round (404 when the viewer's results hold none) and the linked
/// indices' points of every unit, which both the gains and the what-if start from.
fn unit_and_linked<'r>(
    conn: &mut AnyConnection,
    results: &'r RoundResults,
    unit: &str,
) -> Result<(&'r UnitScores, LinkedPoints), AppError> {
    let scores = &results.scores;
    let me = scores
        .units
        .iter()
        .find(|u| u.unit == unit)
        .ok_or(AppError::NotFound)?;
    let linked = linked_points(conn, results.round.id, &results.methodology, &scores.units)?;
    Ok((me, linked))
}

/// The points of each linked index, by unit then by the index's code.
type LinkedPoints = BTreeMap<String, BTreeMap<String, f64>>;

/// Each unit's linked index points (unit code → linked code → points): a SIPAS score goes to
/// the linked index its own methodology names, when the main methodology has it (the rule the
/// composition follows).
fn linked_points(
    conn: &mut AnyConnection,
    round_id: i64,
    main: &Methodology,
    units: &[UnitScores],
) -> Result<LinkedPoints, AppError> {
    let mut links: BTreeMap<(String, u32), String> = BTreeMap::new();
    for g in db::rounds::groups(conn, round_id)? {
        let Some(stored) = catalog::load_methodology(conn, g.methodology_id)? else {
            continue;
        };
        let m = stored.methodology;
        if let Some(s) = &m.sipas
            && main.linked_indices.iter().any(|l| l.code == s.linked_index)
        {
            links.insert((m.code.clone(), m.version), s.linked_index.clone());
        }
    }
    Ok(units
        .iter()
        .map(|u| {
            let mut linked = BTreeMap::new();
            if let Some(s) = &u.sipas
                && let Some(points) = s.index_points
                && let Some(code) = links.get(&(s.methodology.clone(), s.methodology_version))
            {
                linked.insert(code.clone(), points);
            }
            (u.unit.clone(), linked)
        })
        .collect())
}
