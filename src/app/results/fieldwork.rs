//! Fieldwork figures: responses against targets per unit and group.

use crate::app::auth::viewer::Viewer;
use crate::db::{self, AnyConnection};
use crate::error::AppError;
use serde::Serialize;
use std::collections::BTreeSet;

/// Fieldwork progress of one respondent group, over the units in scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupFieldwork {
    /// Group code.
    pub group: String,
    /// Target responses (sum over units).
    pub target: i64,
    /// Completed responses.
    pub completed: i64,
    /// Units below their target.
    pub units_behind: usize,
    /// Units.
    pub units: usize,
}

/// The coverage and data-quality panels of the dashboard (staff only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fieldwork {
    /// Per group.
    pub groups: Vec<GroupFieldwork>,
    /// Responses flagged by the quality checks (speeders, straight-liners).
    pub flagged: usize,
    /// Responses excluded from the scores.
    pub excluded: usize,
}

/// Coverage and data quality of the units in the viewer's scope; `None` for the public, who
/// see published figures, not fieldwork.
pub fn fieldwork(
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: Viewer,
) -> Result<Option<Fieldwork>, AppError> {
    if !viewer.sees_live() {
        return Ok(None);
    }
    let scope = viewer.scope(conn)?;
    let rows = crate::app::rounds::coverage_for(conn, round_id, viewer)?;
    let mut groups: Vec<GroupFieldwork> = Vec::new();
    for r in &rows {
        let slot = match groups.iter().position(|g| g.group == r.group_code) {
            Some(i) => i,
            None => {
                groups.push(GroupFieldwork {
                    group: r.group_code.clone(),
                    target: 0,
                    completed: 0,
                    units_behind: 0,
                    units: 0,
                });
                groups.len() - 1
            }
        };
        if let Some(g) = groups.get_mut(slot) {
            g.target += r.target;
            g.completed += r.completed;
            g.units += 1;
            g.units_behind += usize::from(r.behind_target());
        }
    }
    let in_scope: BTreeSet<i64> = db::rounds::units(conn, round_id)?
        .into_iter()
        .filter(|u| scope.includes(&u.code))
        .map(|u| u.id)
        .collect();
    let (mut flagged, mut excluded) = (0, 0);
    for (unit, f, e) in db::responses::quality_counts(conn, round_id)? {
        if in_scope.contains(&unit) {
            flagged += usize::try_from(f).unwrap_or(0);
            excluded += usize::try_from(e).unwrap_or(0);
        }
    }
    Ok(Some(Fieldwork {
        groups,
        flagged,
        excluded,
    }))
}

/// Mean of the finite values; `None` for none.
pub(super) fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}
