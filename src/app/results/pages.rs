//! What a results page or API answer needs beside the round's results, read on the same
//! connection: the dashboard's groups and fieldwork, a chosen breakdown, the units in scope.

use super::breakdown::{Breakdown, Choice, breakdown, choose};
use super::{Fieldwork, RoundResults, Viewer, fieldwork};
use crate::db::{self, AnyConnection, units::UnitRow};
use crate::error::AppError;

/// The dashboard's frame around the scores.
#[derive(Debug)]
pub struct DashboardFrame {
    /// The round's respondent group codes, in their configured order.
    pub groups: Vec<String>,
    /// How far fieldwork has come, for staff (the public sees no fieldwork).
    pub fieldwork: Option<Fieldwork>,
    /// The round's random sample, once drawn: its commitment and each unit's response rate.
    pub sample: Option<crate::app::rounds::PublicSample>,
}

/// The groups and fieldwork the dashboard shows around `results`.
pub fn dashboard_frame(
    conn: &mut AnyConnection,
    results: &RoundResults,
    viewer: Viewer,
) -> Result<DashboardFrame, AppError> {
    let round_id = results.round.id;
    let groups = db::rounds::groups(conn, round_id)?
        .into_iter()
        .map(|g| g.group_code)
        .collect();
    Ok(DashboardFrame {
        groups,
        fieldwork: fieldwork(conn, round_id, viewer)?,
        sample: crate::app::rounds::public_sample(conn, round_id)?,
    })
}

/// A breakdown page: the resolved choice of group and question, and the table when the group
/// has a question to split by.
#[derive(Debug)]
pub struct ChosenBreakdown {
    /// The group and question shown, with the alternatives.
    pub choice: Choice,
    /// The table; `None` when the chosen group has no categorical question.
    pub table: Option<Breakdown>,
}

/// Resolves the asked group and question (falling back to the first ones) and breaks the
/// results down by them.
pub fn chosen_breakdown(
    conn: &mut AnyConnection,
    results: &RoundResults,
    group: Option<String>,
    by: Option<String>,
) -> Result<ChosenBreakdown, AppError> {
    let choice = choose(conn, results.round.id, group, by)?;
    let table = if choice.by.is_empty() {
        None
    } else {
        Some(breakdown(conn, results, &choice.group, &choice.by)?)
    };
    Ok(ChosenBreakdown { choice, table })
}

/// The round's units that the viewer of `results` may see.
pub fn units_in_scope(
    conn: &mut AnyConnection,
    results: &RoundResults,
) -> Result<Vec<UnitRow>, AppError> {
    let mut units = db::rounds::units(conn, results.round.id)?;
    units.retain(|u| results.scope.includes(&u.code));
    Ok(units)
}
