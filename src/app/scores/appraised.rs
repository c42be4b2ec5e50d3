//! Appraised scores: the figures the appraisal council sets, imported into a round.

use super::compare::main_methodology;
use crate::db::audit::{AuditEntry, record};
use crate::db::{self, AnyConnection};
use crate::error::AppError;
use std::collections::BTreeMap;

/// Imports appraised points from CSV (`unit,component,points`, UTF-8, header required) for a
/// round: every row is checked (unknown unit or component, a number outside 0 to the
/// component's appraised maximum, duplicates) and a file with any bad row changes nothing.
pub fn import_appraised(
    conn: &mut AnyConnection,
    round_id: i64,
    file_name: &str,
    bytes: &[u8],
    actor_user_id: Option<i64>,
    actor: &str,
) -> Result<Result<usize, Vec<String>>, AppError> {
    let text = match std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) {
        Ok(text) => text,
        Err(e) => {
            return Ok(Err(vec![format!(
                "{file_name}: the file is not UTF-8 (byte {}); save it as 'CSV UTF-8'",
                e.valid_up_to()
            )]));
        }
    };
    let units: BTreeMap<String, i64> = db::rounds::units(conn, round_id)?
        .into_iter()
        .map(|u| (u.code, u.id))
        .collect();
    let main = match main_methodology(conn, round_id) {
        Ok(m) => m,
        Err(AppError::BadRequest(_)) => {
            return Ok(Err(vec![format!(
                "{file_name}: the round has no methodology with components"
            )]));
        }
        Err(e) => return Err(e),
    };
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header_ok = reader
        .headers()
        .map(|h| h.iter().map(str::trim).collect::<Vec<_>>() == ["unit", "component", "points"])
        .unwrap_or(false);
    if !header_ok {
        return Ok(Err(vec![format!(
            "{file_name} row 1: the header must be unit,component,points"
        )]));
    }
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let Ok(record) = record else {
            errors.push(format!("{file_name} row {row}: not a CSV row"));
            continue;
        };
        let cell = |n: usize| record.get(n).unwrap_or("").trim();
        let (unit, component, points) = (cell(0), cell(1), cell(2));
        let Some(&unit_id) = units.get(unit) else {
            errors.push(format!(
                "{file_name} row {row}, column unit: '{unit}' is not a unit of this round"
            ));
            continue;
        };
        let Some(comp) = main.component(component) else {
            errors.push(format!(
                "{file_name} row {row}, column component: '{component}' is not a component of {}",
                main.code
            ));
            continue;
        };
        let limit = comp.max_points - comp.survey_points.unwrap_or(0.0);
        match points.replace(',', ".").parse::<f64>() {
            Ok(p) if p.is_finite() && (0.0..=limit + 1e-9).contains(&p) => {
                if seen.insert((unit_id, component.to_owned())) {
                    rows.push((unit_id, component.to_owned(), p));
                } else {
                    errors.push(format!(
                        "{file_name} row {row}: {unit} {component} appears twice"
                    ));
                }
            }
            _ => errors.push(format!(
                "{file_name} row {row}, column points: '{points}' is not a number from 0 to {limit}"
            )),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    db::write_transaction(conn, |conn| {
        // Checked inside the write transaction, so a publish cannot slip in between. A
        // published round's figures are a public record: the points behind them change only
        // after Compute moves it back to "computed", and reach the public with a new version.
        let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
        if round.status == crate::domain::lifecycle::RoundStatus::Published {
            return Ok(Err(vec![format!(
                "{file_name}: round {round_id} is published, and its published figures do not change. \
                 Run Compute (the published version stays public), import the corrected points, \
                 then publish a new version."
            )]));
        }
        let n = db::appraised::replace(conn, round_id, &rows)?;
        record(
            conn,
            &AuditEntry {
                actor_user_id,
                actor,
                action: "round:import_appraised",
                entity: "round",
                entity_id: Some(round_id.to_string()),
                old_value: None,
                new_value: Some(serde_json::json!({ "file": file_name, "rows": n }).to_string()),
            },
        )?;
        Ok(Ok(n))
    })
}
