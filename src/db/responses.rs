//! Submitted responses and the live tallies updated with them. A response row holds round,
//! unit, group, instrument, the submission date and the answers: nothing that links it to a
//! code, an invitation, a person or an address.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::AnyConnection;
use super::schema::responses;
use crate::domain::field_submissions::ResponseSource;

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
    /// `web`, `paper` or `field` (see [`crate::domain::field_submissions::ResponseSource`]).
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
        .get_result(conn)
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

/// Adds each `(item, value, n)` to its tally cell of (round, unit, group) in one statement:
/// `INSERT … SELECT … ON CONFLICT DO UPDATE` over the cells passed as one JSON parameter, so a
/// submission costs one round trip to PostgreSQL instead of one per answer. Atomic on both
/// backends, so concurrent submissions never lose a count. A cell may appear only once (the
/// caller aggregates), and cells in the same order in every transaction (the caller sorts)
/// keep two transactions from locking the same rows in opposite orders.
pub fn add_cells_to_tally(
    conn: &mut AnyConnection,
    (round_id, unit_id, group_id): (i64, i64, i64),
    cells: &[(&str, &str, i64)],
) -> QueryResult<usize> {
    if cells.is_empty() {
        return Ok(0);
    }
    let json = serde_json::to_string(cells)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    // The same statement in each dialect's JSON functions; `WHERE true` is SQLite's way of
    // telling an upsert's ON CONFLICT from a join constraint after a SELECT.
    let sql = match conn.backend() {
        super::Backend::Sqlite => {
            "INSERT INTO tallies (round_id, unit_id, group_id, item_code, value, count) \
             SELECT $1, $2, $3, json_extract(c.value, '$[0]'), json_extract(c.value, '$[1]'), \
             json_extract(c.value, '$[2]') FROM json_each($4) AS c WHERE true \
             ON CONFLICT (round_id, unit_id, group_id, item_code, value) \
             DO UPDATE SET count = tallies.count + excluded.count"
        }
        super::Backend::Postgres => {
            "INSERT INTO tallies (round_id, unit_id, group_id, item_code, value, count) \
             SELECT $1, $2, $3, c->>0, c->>1, (c->>2)::BIGINT \
             FROM jsonb_array_elements($4::TEXT::JSONB) AS c \
             ON CONFLICT (round_id, unit_id, group_id, item_code, value) \
             DO UPDATE SET count = tallies.count + excluded.count"
        }
    };
    diesel::sql_query(sql)
        .bind::<BigInt, _>(round_id)
        .bind::<BigInt, _>(unit_id)
        .bind::<BigInt, _>(group_id)
        .bind::<Text, _>(json)
        .execute(conn)
}

/// Adds `n` to the live response count of (round, unit, group).
pub fn add_many_to_count(
    conn: &mut AnyConnection,
    (round_id, unit_id, group_id): (i64, i64, i64),
    n: i64,
) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO response_counts (round_id, unit_id, group_id, responses) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (round_id, unit_id, group_id) DO UPDATE SET responses = response_counts.responses + excluded.responses",
    )
    .bind::<BigInt, _>(round_id)
    .bind::<BigInt, _>(unit_id)
    .bind::<BigInt, _>(group_id)
    .bind::<BigInt, _>(n)
    .execute(conn)
}

/// One stored response as scoring reads it.
#[derive(Debug, Clone, Queryable)]
pub struct ResponseForScoring {
    /// Row id (for paging).
    pub id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Group.
    pub group_id: i64,
    /// Compact JSON answers.
    pub answers: String,
}

/// A page of a round's responses with ids above `after`, in id order (excluded ones only when
/// `with_excluded`): recomputation streams through them without holding them all in memory.
pub fn page_for_scoring(
    conn: &mut AnyConnection,
    round_id: i64,
    after: i64,
    limit: i64,
    with_excluded: bool,
) -> QueryResult<Vec<ResponseForScoring>> {
    let mut query = responses::table
        .filter(responses::round_id.eq(round_id))
        .filter(responses::id.gt(after))
        .into_boxed();
    if !with_excluded {
        query = query.filter(responses::excluded.eq(false));
    }
    query
        .order(responses::id)
        .limit(limit)
        .select((
            responses::id,
            responses::unit_id,
            responses::group_id,
            responses::answers,
        ))
        .load(conn)
}

/// One live tally cell: (unit, group, item, value, count).
pub type TallyCell = (i64, i64, String, String, i64);

/// Every live tally cell of a round.
pub fn tallies_of_round(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Vec<TallyCell>> {
    use super::schema::tallies;
    tallies::table
        .filter(tallies::round_id.eq(round_id))
        .select((
            tallies::unit_id,
            tallies::group_id,
            tallies::item_code,
            tallies::value,
            tallies::count,
        ))
        .load(conn)
}

/// A response as the data-quality review shows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = responses)]
pub struct ResponseForReview {
    /// Row id.
    pub id: i64,
    /// Receipt number.
    pub receipt: String,
    /// Unit.
    pub unit_id: i64,
    /// Group.
    pub group_id: i64,
    /// Completion time in seconds.
    pub duration_seconds: Option<i32>,
    /// Answers (JSON).
    pub answers: String,
    /// Flags (JSON array of codes).
    pub flags: Option<String>,
    /// Left out of the scores.
    pub excluded: bool,
}

/// The responses of one unit × group of a round.
pub fn of_cell(
    conn: &mut AnyConnection,
    round_id: i64,
    unit_id: i64,
    group_id: i64,
) -> QueryResult<Vec<ResponseForReview>> {
    responses::table
        .filter(responses::round_id.eq(round_id))
        .filter(responses::unit_id.eq(unit_id))
        .filter(responses::group_id.eq(group_id))
        .order(responses::id)
        .select(ResponseForReview::as_select())
        .load(conn)
}

/// The flagged responses of a round.
pub fn flagged(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Vec<ResponseForReview>> {
    responses::table
        .filter(responses::round_id.eq(round_id))
        .filter(responses::flags.is_not_null())
        .order(responses::id)
        .select(ResponseForReview::as_select())
        .load(conn)
}

/// Sets (or clears) a response's flags.
pub fn set_flags(conn: &mut AnyConnection, id: i64, flags: Option<&str>) -> QueryResult<usize> {
    diesel::update(responses::table.find(id))
        .set(responses::flags.eq(flags))
        .execute(conn)
}

/// Marks a counted response excluded; 0 rows when it was excluded already.
pub fn exclude(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::update(
        responses::table
            .find(id)
            .filter(responses::excluded.eq(false)),
    )
    .set(responses::excluded.eq(true))
    .execute(conn)
}

/// One response by id, within a round.
pub fn review_one(
    conn: &mut AnyConnection,
    round_id: i64,
    id: i64,
) -> QueryResult<Option<ResponseForReview>> {
    responses::table
        .filter(responses::round_id.eq(round_id))
        .filter(responses::id.eq(id))
        .select(ResponseForReview::as_select())
        .get_result(conn)
        .optional()
}

/// One response as exported in the microdata (no receipt, no submission key: nothing that
/// links back to a person or an invitation).
#[derive(Debug, Clone, Queryable)]
pub struct ResponseForExport {
    /// Row id (for paging; exported only as a keyed hash).
    pub id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Day of submission.
    pub submitted_on: chrono::NaiveDate,
    /// `web`, `paper` or `field`.
    pub source: String,
    /// Compact JSON answers.
    pub answers: String,
    /// Data-quality flags (JSON array of codes), if any.
    pub flags: Option<String>,
    /// Left out of the scores (only ever true when excluded responses were asked for).
    pub excluded: bool,
}

/// One group's included responses (and the excluded ones too when `with_excluded`),
/// restricted to `units` when given (a coordinator's scope).
fn for_export<'a>(
    round_id: i64,
    group_id: i64,
    units: Option<&'a [i64]>,
    with_excluded: bool,
) -> responses::BoxedQuery<'a, <AnyConnection as diesel::Connection>::Backend> {
    let mut query = responses::table
        .filter(responses::round_id.eq(round_id))
        .filter(responses::group_id.eq(group_id))
        .into_boxed();
    if !with_excluded {
        query = query.filter(responses::excluded.eq(false));
    }
    if let Some(units) = units {
        query = query.filter(responses::unit_id.eq_any(units));
    }
    query
}

/// A page of one group's included responses with ids above `after` (see [`for_export`]).
pub fn page_for_export(
    conn: &mut AnyConnection,
    round_id: i64,
    group_id: i64,
    units: Option<&[i64]>,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<ResponseForExport>> {
    page_for_microdata(conn, round_id, group_id, units, false, (after, limit))
}

/// A page (ids above `after`, at most `limit`) of one group's responses for a microdata
/// file: the included ones, and the excluded ones too when `with_excluded`.
pub fn page_for_microdata(
    conn: &mut AnyConnection,
    round_id: i64,
    group_id: i64,
    units: Option<&[i64]>,
    with_excluded: bool,
    (after, limit): (i64, i64),
) -> QueryResult<Vec<ResponseForExport>> {
    for_export(round_id, group_id, units, with_excluded)
        .filter(responses::id.gt(after))
        .order(responses::id)
        .limit(limit)
        .select((
            responses::id,
            responses::unit_id,
            responses::submitted_on,
            responses::source,
            responses::answers,
            responses::flags,
            responses::excluded,
        ))
        .load(conn)
}

/// How many responses an export will write.
pub fn count_for_export(
    conn: &mut AnyConnection,
    round_id: i64,
    group_id: i64,
    units: Option<&[i64]>,
) -> QueryResult<i64> {
    count_for_microdata(conn, round_id, group_id, units, false)
}

/// How many responses a microdata file will hold (see [`page_for_microdata`]).
pub fn count_for_microdata(
    conn: &mut AnyConnection,
    round_id: i64,
    group_id: i64,
    units: Option<&[i64]>,
    with_excluded: bool,
) -> QueryResult<i64> {
    for_export(round_id, group_id, units, with_excluded)
        .count()
        .get_result(conn)
}

/// The reasons the reviewers gave for excluding these responses, by response id. The reason
/// lives in the audit entry of the exclusion (`response:exclude`, the only record of it); a
/// response without one (excluded outside the review page) is left out of the map.
pub fn exclusion_reasons(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> QueryResult<std::collections::BTreeMap<i64, String>> {
    use super::schema::audit_log;
    let mut out = std::collections::BTreeMap::new();
    // Bounded lists keep every query within both backends' limits on bound parameters.
    for chunk in ids.chunks(500) {
        let keys: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let entries: Vec<(Option<String>, Option<String>)> = audit_log::table
            .filter(audit_log::action.eq("response:exclude"))
            .filter(audit_log::entity.eq("response"))
            .filter(audit_log::entity_id.eq_any(&keys))
            .order(audit_log::id)
            .select((audit_log::entity_id, audit_log::new_value))
            .load(conn)?;
        // In id order, so a later entry (there is one per exclusion) wins.
        for (entity_id, new_value) in entries {
            let id = entity_id.and_then(|e| e.parse::<i64>().ok());
            let reason = new_value
                .and_then(|v| serde_json::from_str::<serde_json::Value>(&v).ok())
                .and_then(|v| v.get("reason")?.as_str().map(str::to_owned));
            if let (Some(id), Some(reason)) = (id, reason) {
                out.insert(id, reason);
            }
        }
    }
    Ok(out)
}

/// Flagged and excluded responses per unit of a round, from partial indexes that hold only
/// those rows: (unit, flagged, excluded).
pub fn quality_counts(
    conn: &mut AnyConnection,
    round_id: i64,
) -> QueryResult<Vec<(i64, i64, i64)>> {
    use diesel::dsl::{count_star, sql};
    let flagged: Vec<(i64, i64)> = responses::table
        .filter(responses::round_id.eq(round_id))
        .filter(responses::flags.is_not_null())
        .filter(responses::flags.ne("[]"))
        .group_by(responses::unit_id)
        .select((responses::unit_id, count_star()))
        .load(conn)?;
    // Written as the bare column so PostgreSQL matches the partial index's predicate.
    let excluded: Vec<(i64, i64)> = responses::table
        .filter(responses::round_id.eq(round_id))
        .filter(sql::<diesel::sql_types::Bool>("excluded"))
        .group_by(responses::unit_id)
        .select((responses::unit_id, count_star()))
        .load(conn)?;
    let mut by_unit: std::collections::BTreeMap<i64, (i64, i64)> =
        std::collections::BTreeMap::new();
    for (unit, n) in flagged {
        by_unit.entry(unit).or_default().0 = n;
    }
    for (unit, n) in excluded {
        by_unit.entry(unit).or_default().1 = n;
    }
    Ok(by_unit.into_iter().map(|(u, (f, e))| (u, f, e)).collect())
}

/// Responses counted in these rounds (the live counts), for telling whether results changed.
pub fn counted_in(conn: &mut AnyConnection, rounds: &[i64]) -> QueryResult<i64> {
    use super::schema::response_counts;
    let counts: Vec<i64> = response_counts::table
        .filter(response_counts::round_id.eq_any(rounds))
        .select(response_counts::responses)
        .load(conn)?;
    Ok(counts.into_iter().sum())
}

/// The round of each response stored under one of `keys` (hashed submission keys), for
/// telling a submission imported before from a new one. Asked in chunks, so a file of many
/// thousand submissions stays within every backend's limit on query parameters.
pub fn rounds_of_keys(
    conn: &mut AnyConnection,
    keys: &[String],
) -> QueryResult<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(1000) {
        out.extend(
            responses::table
                .filter(responses::submission_key.eq_any(chunk))
                .select((responses::submission_key, responses::round_id))
                .load::<(String, i64)>(conn)?,
        );
    }
    Ok(out)
}

/// Counted (not excluded) responses of a round that did not come from the web form, per unit,
/// group and source (`paper`, `field`): the coverage table's and the results' split by source.
/// Each source is its own query with the source written as a literal: only then do SQLite and
/// PostgreSQL read that source's partial index (`responses_paper`, `responses_field`) instead of
/// every response of the round (a single `source IN (..)` made the dashboard of a round of a
/// million responses take 400 ms).
pub fn counted_by_source(
    conn: &mut AnyConnection,
    round_id: i64,
) -> QueryResult<Vec<(i64, i64, String, i64)>> {
    use diesel::dsl::{count_star, sql};
    let mut out = Vec::new();
    for source in [ResponseSource::Paper, ResponseSource::Field] {
        // The code is one of the enum's fixed words, never user input.
        let literal = format!("source = '{}'", source.code());
        let counts: Vec<(i64, i64, i64)> = responses::table
            .filter(responses::round_id.eq(round_id))
            .filter(sql::<diesel::sql_types::Bool>(&literal))
            .filter(responses::excluded.eq(false))
            .group_by((responses::unit_id, responses::group_id))
            .select((responses::unit_id, responses::group_id, count_star()))
            .load(conn)?;
        out.extend(
            counts
                .into_iter()
                .map(|(unit, group, n)| (unit, group, source.code().to_owned(), n)),
        );
    }
    Ok(out)
}
