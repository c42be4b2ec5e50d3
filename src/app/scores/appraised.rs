//! Appraised scores: the figures the appraisal council sets, imported into a round.

use super::compare::main_methodology;
use crate::db::audit::{AuditEntry, record};
use crate::db::{self, AnyConnection};
use crate::domain::appraised::AppraisedFile;
use crate::domain::tabular::RowError;
use crate::error::AppError;
use std::collections::BTreeMap;

/// Imports appraised points from CSV for a round: the file is read and checked by
/// [`AppraisedFile`] against the round's units and main methodology, and a file with any bad
/// row changes nothing.
pub fn import_appraised(
    conn: &mut AnyConnection,
    round_id: i64,
    file_name: &str,
    bytes: &[u8],
    actor_user_id: Option<i64>,
    actor: &str,
) -> Result<Result<usize, Vec<String>>, AppError> {
    let refused = |errors: Vec<RowError>| errors.iter().map(ToString::to_string).collect();
    let file = match AppraisedFile::read(bytes, file_name) {
        Ok(file) => file,
        Err(errors) => return Ok(Err(refused(errors))),
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
    let rows: Vec<(i64, String, f64)> = match file.check(|code| units.get(code).copied(), &main) {
        Ok(rows) => rows
            .into_iter()
            .map(|r| (r.unit_id, r.component, r.points))
            .collect(),
        Err(errors) => return Ok(Err(refused(errors))),
    };
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
            &AuditEntry::new(
                actor_user_id,
                actor,
                "round:import_appraised",
                "round",
                round_id,
            )
            .after(serde_json::json!({ "file": file_name, "rows": n })),
        )?;
        Ok(Ok(n))
    })
}
