//! Data quality of a round: flagging speeders and straight-liners (rules in
//! `domain::quality`), and excluding responses with a reason recorded in the audit log. The
//! live tallies always leave excluded responses out; the scores with them stay available by
//! recomputing from the raw answers.

use crate::app::scores::add_counted;
use crate::db::audit::{AuditEntry, record};
use crate::db::{self, AnyConnection};
use crate::domain::answers::Answers;
use crate::domain::answers::tally_cells;
use crate::domain::quality::{flags_by_response, speeders, straightliners};
use crate::error::AppError;

/// A round's review page: the round, its units and its flagged responses.
pub struct Flagged {
    /// The round.
    pub round: db::rounds::RoundRow,
    /// Its units, to name each response's unit.
    pub units: Vec<db::units::UnitRow>,
    /// The responses with quality flags, oldest first.
    pub responses: Vec<db::responses::ResponseForReview>,
}

/// The flagged responses of a round, for review.
pub fn flagged(conn: &mut AnyConnection, round_id: i64) -> Result<Flagged, AppError> {
    let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
    Ok(Flagged {
        round,
        units: db::rounds::units(conn, round_id)?,
        responses: db::responses::flagged(conn, round_id)?,
    })
}

/// Recomputes the flags of every response of a round, one unit × group at a time; returns how
/// many responses are flagged.
pub fn flag_round(conn: &mut AnyConnection, round_id: i64) -> Result<usize, AppError> {
    let groups = db::rounds::groups(conn, round_id)?;
    let units = db::rounds::units(conn, round_id)?;
    let mut flagged = 0;
    for g in &groups {
        let instrument = crate::app::catalog::load_instrument(conn, g.instrument_id)?
            .ok_or(AppError::NotFound)?
            .instrument;
        let methodology = crate::app::catalog::load_methodology(conn, g.methodology_id)?
            .ok_or(AppError::NotFound)?
            .methodology;
        for unit in &units {
            let rows = db::responses::of_cell(conn, round_id, unit.id, g.group_id)?;
            let durations: Vec<(i64, Option<i64>)> = rows
                .iter()
                .map(|r| (r.id, r.duration_seconds.map(i64::from)))
                .collect();
            let answers: Vec<(i64, Answers)> = rows
                .iter()
                .map(|r| (r.id, Answers::from_json(&r.answers).unwrap_or_default()))
                .collect();
            let flags = flags_by_response(
                &speeders(&methodology.quality, &durations),
                &straightliners(&instrument, &answers),
            );
            db::write_transaction(conn, |conn| {
                for row in &rows {
                    let new = flags
                        .get(&row.id)
                        .filter(|f| !f.is_empty())
                        .map(|f| f.to_json());
                    if new != row.flags {
                        db::responses::set_flags(conn, row.id, new.as_deref())?;
                    }
                }
                Ok::<_, AppError>(())
            })?;
            flagged += flags.values().filter(|f| !f.is_empty()).count();
        }
    }
    Ok(flagged)
}

/// Excludes a response from the scores with a reason: the live tallies lose its answers in the
/// same transaction, and the audit log keeps who, why, and the response's state before and after.
pub fn exclude(
    conn: &mut AnyConnection,
    round_id: i64,
    response_id: i64,
    reason: &str,
    actor_user_id: Option<i64>,
    actor: &str,
) -> Result<bool, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::BadRequest("quality.reason_required"));
    }
    db::write_transaction(conn, |conn| {
        let Some(row) = db::responses::review_one(conn, round_id, response_id)? else {
            return Err(AppError::NotFound);
        };
        if db::responses::exclude(conn, response_id)? != 1 {
            return Ok(false);
        }
        let answers = Answers::from_json(&row.answers).unwrap_or_default();
        let key = (round_id, row.unit_id, row.group_id);
        add_counted(
            conn,
            key,
            -1,
            tally_cells(&answers).into_iter().map(|cell| (cell, -1)),
        )?;
        record(
            conn,
            &AuditEntry::new(
                actor_user_id,
                actor,
                "response:exclude",
                "response",
                response_id,
            )
            .before(serde_json::json!({ "excluded": false, "flags": row.flags }))
            .after(serde_json::json!({ "excluded": true, "reason": reason })),
        )?;
        Ok(true)
    })
}
