//! Coverage: listed, invited, started and completed respondents against targets.

use super::*;
use crate::app::auth::viewer::{Viewer, own_units};
use crate::domain::field_submissions::ResponseSource;
use std::collections::BTreeSet;

/// One row of the coverage table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CoverageRow {
    /// Unit code.
    pub unit_code: String,
    /// Unit name (Vietnamese).
    pub unit_name_vi: String,
    /// Unit name (English).
    pub unit_name_en: String,
    /// Region code.
    pub region: Option<String>,
    /// Group code.
    pub group_code: String,
    /// Target sample size (0 when none was set).
    pub target: i64,
    /// Respondents listed.
    pub listed: i64,
    /// Codes given to listed respondents.
    pub invited: i64,
    /// Responses started (drafts) or submitted.
    pub started: i64,
    /// Responses submitted.
    pub completed: i64,
    /// Of the counted responses, those keyed in from paper forms.
    pub paper: i64,
    /// Of the counted responses, those collected in the field (ODK, KoboToolbox) and imported.
    pub field: i64,
    /// The drawn sample of the unit × group and its response rates, when the round has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<SampleCoverage>,
}

impl CoverageRow {
    /// Completed as a percentage of the target (or of those invited when there is no target).
    pub fn response_rate(&self) -> Option<f64> {
        let base = if self.target > 0 {
            self.target
        } else {
            self.invited
        };
        (base > 0).then(|| self.completed as f64 * 100.0 / base as f64)
    }

    /// True when the unit has fewer completed responses than its target.
    pub fn behind_target(&self) -> bool {
        self.target > 0 && self.completed < self.target
    }
}

/// Coverage as a staff member may see it: a coordinator the round's units that are their own
/// (see [`own_units`]), other roles every unit. Fieldwork is never shown to the public.
pub fn coverage_for(
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: Viewer,
) -> Result<Vec<CoverageRow>> {
    let Viewer::Staff { user_id, role } = viewer else {
        return Err(RoundError::App(AppError::Forbidden));
    };
    let mut rows = coverage(conn, round_id)?;
    if let Some(mine) = own_units(conn, role, Some(user_id))? {
        let codes: HashSet<String> = db::rounds::units(conn, round_id)?
            .into_iter()
            .filter(|u| mine.contains(&u.id))
            .map(|u| u.code)
            .collect();
        rows.retain(|r| codes.contains(&r.unit_code));
    }
    Ok(rows)
}

/// How many people are listed in a round: in the units `within` (see [`own_units`]), or in
/// every unit when it is `None`.
pub fn respondent_count(
    conn: &mut AnyConnection,
    round_id: i64,
    within: Option<&BTreeSet<i64>>,
) -> Result<i64> {
    let Some(mine) = within else {
        return Ok(db::respondents::count_in_round(conn, round_id)?);
    };
    Ok(db::coverage::respondents(conn, round_id)?
        .into_iter()
        .filter(|(unit, _, _)| mine.contains(unit))
        .map(|(_, _, n)| n)
        .sum())
}

/// Coverage per unit × configured group: target, listed, invited, started, completed.
pub fn coverage(conn: &mut AnyConnection, round_id: i64) -> Result<Vec<CoverageRow>> {
    round_or_404(conn, round_id)?;
    let units = db::rounds::units(conn, round_id)?;
    let configured = db::rounds::groups(conn, round_id)?;
    let index = |rows: db::coverage::Counts| -> BTreeMap<(i64, i64), i64> {
        rows.into_iter().map(|(u, g, n)| ((u, g), n)).collect()
    };
    let targets: BTreeMap<(i64, i64), i64> = db::rounds::targets(conn, round_id)?
        .into_iter()
        .map(|(u, g, t)| ((u, g), i64::from(t)))
        .collect();
    let listed = index(db::coverage::respondents(conn, round_id)?);
    let invited = index(db::coverage::invited(conn, round_id)?);
    let started = index(db::coverage::started(conn, round_id)?);
    let completed = index(db::coverage::completed(conn, round_id)?);
    let mut by_source: BTreeMap<(i64, i64, String), i64> = BTreeMap::new();
    for (unit, group, source, n) in db::responses::counted_by_source(conn, round_id)? {
        by_source.insert((unit, group, source), n);
    }
    let mut samples = sample_coverage(conn, round_id)?;
    let from = |key: (i64, i64), source: ResponseSource| {
        by_source
            .get(&(key.0, key.1, source.code().to_owned()))
            .copied()
            .unwrap_or(0)
    };
    let mut rows = Vec::with_capacity(units.len() * configured.len());
    for unit in &units {
        for group in &configured {
            let key = (unit.id, group.group_id);
            let get = |m: &BTreeMap<(i64, i64), i64>| m.get(&key).copied().unwrap_or(0);
            rows.push(CoverageRow {
                unit_code: unit.code.clone(),
                unit_name_vi: unit.name_vi.clone(),
                unit_name_en: unit.name_en.clone(),
                region: unit.region_code.clone(),
                group_code: group.group_code.clone(),
                target: get(&targets),
                listed: get(&listed),
                invited: get(&invited),
                started: get(&started),
                completed: get(&completed),
                paper: from(key, ResponseSource::Paper),
                field: from(key, ResponseSource::Field),
                sample: samples.remove(&key),
            });
        }
    }
    Ok(rows)
}

/// The orders the coverage table offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageSort {
    /// By unit code.
    Unit,
    /// Lowest response rate first.
    Rate,
    /// Most completed first.
    Completed,
}

impl CoverageSort {
    /// Reads the `sort` query parameter; anything unknown sorts by unit.
    pub fn parse(raw: Option<&str>) -> Self {
        match raw {
            Some("rate") => CoverageSort::Rate,
            Some("completed") => CoverageSort::Completed,
            _ => CoverageSort::Unit,
        }
    }
}

/// Orders coverage rows for the table or its CSV file.
pub fn sort_coverage(rows: &mut [CoverageRow], sort: CoverageSort) {
    match sort {
        CoverageSort::Unit => {
            rows.sort_by(|a, b| (&a.unit_code, &a.group_code).cmp(&(&b.unit_code, &b.group_code)))
        }
        CoverageSort::Rate => rows.sort_by(|a, b| {
            a.response_rate()
                .unwrap_or(0.0)
                .total_cmp(&b.response_rate().unwrap_or(0.0))
        }),
        CoverageSort::Completed => rows.sort_by_key(|r| std::cmp::Reverse(r.completed)),
    }
}

/// The coverage table as a CSV file (UTF-8 with BOM, so spreadsheet programs read it).
pub fn coverage_csv(rows: &[CoverageRow]) -> std::result::Result<Vec<u8>, AppError> {
    let csv_rows = rows.iter().map(|r| {
        vec![
            r.unit_code.clone(),
            r.unit_name_vi.clone(),
            r.group_code.clone(),
            r.target.to_string(),
            r.listed.to_string(),
            r.invited.to_string(),
            r.started.to_string(),
            r.completed.to_string(),
            r.response_rate()
                .map(|x| format!("{x:.1}"))
                .unwrap_or_default(),
            // Appended after the columns scripts already read by position.
            r.paper.to_string(),
            r.field.to_string(),
        ]
    });
    crate::app::export::csv_with_bom(
        &[
            "unit",
            "unit_name",
            "group",
            "target",
            "listed",
            "invited",
            "started",
            "completed",
            "rate_percent",
            "paper",
            "field",
        ],
        csv_rows,
    )
    .map_err(AppError::internal)
}

/// The coverage page of a round as a user may see it (see [`coverage_for`]), in `sort` order.
pub fn coverage_table(
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: Viewer,
    sort: CoverageSort,
) -> std::result::Result<(RoundRow, Vec<CoverageRow>), AppError> {
    let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
    let mut rows = coverage_for(conn, round_id, viewer)?;
    sort_coverage(&mut rows, sort);
    Ok((round, rows))
}
