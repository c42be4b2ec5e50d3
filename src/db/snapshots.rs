//! Published score snapshots: only ever inserted, never updated.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::score_snapshots;

/// A stored snapshot.
#[derive(Debug, Clone, Queryable)]
pub struct SnapshotRow {
    /// Version in the round.
    pub version: i32,
    /// Hash over the inputs.
    pub inputs_hash: String,
    /// Published JSON.
    pub payload: String,
    /// Hash of the JSON.
    pub payload_hash: String,
    /// When.
    pub published_at: NaiveDateTime,
}

/// The next version number of a round's snapshots.
pub fn next_version(conn: &mut AnyConnection, round_id: i64) -> QueryResult<i32> {
    let current: Option<i32> = score_snapshots::table
        .filter(score_snapshots::round_id.eq(round_id))
        .select(diesel::dsl::max(score_snapshots::version))
        .first(conn)?;
    Ok(current.unwrap_or(0) + 1)
}

/// Stores a snapshot.
#[expect(clippy::too_many_arguments, reason = "one column each")]
pub fn insert(
    conn: &mut AnyConnection,
    round_id: i64,
    version: i32,
    inputs_hash: &str,
    payload: &str,
    payload_hash: &str,
    published_by: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(score_snapshots::table)
        .values((
            score_snapshots::round_id.eq(round_id),
            score_snapshots::version.eq(version),
            score_snapshots::inputs_hash.eq(inputs_hash),
            score_snapshots::payload.eq(payload),
            score_snapshots::payload_hash.eq(payload_hash),
            score_snapshots::published_by.eq(published_by),
            score_snapshots::published_at.eq(now),
        ))
        .execute(conn)
}

/// One snapshot of a round.
pub fn get(
    conn: &mut AnyConnection,
    round_id: i64,
    version: i32,
) -> QueryResult<Option<SnapshotRow>> {
    score_snapshots::table
        .filter(score_snapshots::round_id.eq(round_id))
        .filter(score_snapshots::version.eq(version))
        .select((
            score_snapshots::version,
            score_snapshots::inputs_hash,
            score_snapshots::payload,
            score_snapshots::payload_hash,
            score_snapshots::published_at,
        ))
        .first(conn)
        .optional()
}
