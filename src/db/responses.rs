//! Submitted responses and the live tallies updated with them. A response row holds round,
//! unit, group, instrument, the submission date and the answers: nothing that links it to a
//! code, an invitation, a person or an address.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::AnyConnection;
use super::schema::responses;

/// A response to store.
#[derive(Debug, Insertable)]
#[diesel(table_name = responses)]
pub struct NewResponse<'a> {
    /// Random receipt number shown to the respondent.
    pub receipt: &'a str,
    /// Hash of the idempotency key of the submission.
    pub submission_key: &'a str,
    /// Round.
    pub round_id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Group.
    pub group_id: i64,
    /// Instrument version answered.
    pub instrument_id: i64,
    /// Date only, no time of day.
    pub submitted_on: NaiveDate,
    /// `web` or `paper`.
    pub source: &'a str,
    /// Seconds from start to submission (data quality), if known.
    pub duration_seconds: Option<i32>,
    /// Compact JSON answers.
    pub answers: &'a str,
}

/// Inserts a response.
pub fn insert(conn: &mut AnyConnection, new: &NewResponse<'_>) -> QueryResult<usize> {
    diesel::insert_into(responses::table)
        .values(new)
        .execute(conn)
}

/// The receipt of the response submitted under this key, if any.
pub fn receipt_for_key(
    conn: &mut AnyConnection,
    submission_key: &str,
) -> QueryResult<Option<String>> {
    responses::table
        .filter(responses::submission_key.eq(submission_key))
        .select(responses::receipt)
        .first(conn)
        .optional()
}

/// True when a response carries this receipt.
pub fn receipt_exists(conn: &mut AnyConnection, receipt: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        responses::table.filter(responses::receipt.eq(receipt)),
    ))
    .get_result(conn)
}

/// How many responses a round has (all units and groups).
pub fn count_in_round(conn: &mut AnyConnection, round_id: i64) -> QueryResult<i64> {
    responses::table
        .filter(responses::round_id.eq(round_id))
        .count()
        .get_result(conn)
}

/// Adds one to a tally cell. `INSERT … ON CONFLICT DO UPDATE` has the same syntax on SQLite
/// and PostgreSQL, and is atomic on both, so concurrent submissions never lose a count.
pub fn add_to_tally(
    conn: &mut AnyConnection,
    round_id: i64,
    unit_id: i64,
    group_id: i64,
    item: &str,
    value: &str,
) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO tallies (round_id, unit_id, group_id, item_code, value, count) VALUES ($1, $2, $3, $4, $5, 1) \
         ON CONFLICT (round_id, unit_id, group_id, item_code, value) DO UPDATE SET count = tallies.count + 1",
    )
    .bind::<BigInt, _>(round_id)
    .bind::<BigInt, _>(unit_id)
    .bind::<BigInt, _>(group_id)
    .bind::<Text, _>(item)
    .bind::<Text, _>(value)
    .execute(conn)
}

/// Adds one to the live response count of a unit × group.
pub fn add_to_count(
    conn: &mut AnyConnection,
    round_id: i64,
    unit_id: i64,
    group_id: i64,
) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO response_counts (round_id, unit_id, group_id, responses) VALUES ($1, $2, $3, 1) \
         ON CONFLICT (round_id, unit_id, group_id) DO UPDATE SET responses = response_counts.responses + 1",
    )
    .bind::<BigInt, _>(round_id)
    .bind::<BigInt, _>(unit_id)
    .bind::<BigInt, _>(group_id)
    .execute(conn)
}
