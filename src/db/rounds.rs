//! Survey rounds and their configuration: groups (instrument + methodology), units, targets.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::query_dsl::methods::ExecuteDsl;

use super::AnyConnection;
use super::schema::{
    access_codes, export_jobs, instruments, methodologies, respondent_groups, responses,
    round_groups, round_targets, round_units, rounds, units,
};
use crate::domain::lifecycle::RoundStatus;

/// A stored round.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = rounds)]
pub struct RoundRow {
    /// Row id.
    pub id: i64,
    /// Survey year.
    pub year: i32,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// The unit set the round covers.
    pub unit_set_id: i64,
    /// Lifecycle status, read from its stored code (an unknown code fails the query).
    #[diesel(deserialize_as = String)]
    pub status: RoundStatus,
    /// When respondents may start answering (UTC).
    pub opens_at: Option<NaiveDateTime>,
    /// When answering ends (UTC, exclusive).
    pub closes_at: Option<NaiveDateTime>,
    /// The earlier round year-over-year compares with.
    pub compare_round_id: Option<i64>,
    /// Creation time.
    pub created_at: NaiveDateTime,
}

/// The columns a round's form sets, on creation and on every edit of the draft: one struct
/// serves both, so the two cannot drift apart.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = rounds, treat_none_as_null = true)]
pub struct RoundFields<'a> {
    /// Survey year.
    pub year: i32,
    /// Vietnamese name.
    pub name_vi: &'a str,
    /// English name.
    pub name_en: &'a str,
    /// Unit set.
    pub unit_set_id: i64,
    /// Opening time (UTC); `None` leaves it unset, or clears it on an edit.
    pub opens_at: Option<NaiveDateTime>,
    /// Closing time (UTC); `None` leaves it unset, or clears it on an edit.
    pub closes_at: Option<NaiveDateTime>,
}

/// A new round.
#[derive(Debug, Insertable)]
#[diesel(table_name = rounds)]
pub struct NewRound<'a> {
    /// What the form set.
    #[diesel(embed)]
    pub fields: RoundFields<'a>,
    /// Creator.
    pub created_by: Option<i64>,
    /// Creation time.
    pub created_at: NaiveDateTime,
    /// Same as `created_at`.
    pub updated_at: NaiveDateTime,
}

/// Inserts a round and returns its id.
pub fn insert(conn: &mut AnyConnection, new: &NewRound<'_>) -> QueryResult<i64> {
    diesel::insert_into(rounds::table)
        .values(new)
        .execute(conn)?;
    rounds::table
        .filter(rounds::created_at.eq(new.created_at))
        .filter(rounds::name_vi.eq(new.fields.name_vi))
        .order(rounds::id.desc())
        .select(rounds::id)
        .first(conn)
}

/// The round with this id.
pub fn by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<RoundRow>> {
    rounds::table
        .find(id)
        .select(RoundRow::as_select())
        .get_result(conn)
        .optional()
}

/// Every round, newest year first.
pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<RoundRow>> {
    rounds::table
        .order((rounds::year.desc(), rounds::id.desc()))
        .select(RoundRow::as_select())
        .load(conn)
}

/// Moves a round from `from` to `to`; 0 rows means someone else changed it first.
pub fn set_status(
    conn: &mut AnyConnection,
    id: i64,
    from: RoundStatus,
    to: RoundStatus,
) -> QueryResult<usize> {
    diesel::update(
        rounds::table
            .find(id)
            .filter(rounds::status.eq(from.code())),
    )
    .set((
        rounds::status.eq(to.code()),
        rounds::updated_at.eq(super::now()),
    ))
    .execute(conn)
}

/// One group's configuration in a round, with readable names.
#[derive(Debug, Clone, Queryable)]
pub struct RoundGroupRow {
    /// Group id.
    pub group_id: i64,
    /// Group code.
    pub group_code: String,
    /// Instrument id.
    pub instrument_id: i64,
    /// Instrument code.
    pub instrument_code: String,
    /// Instrument version.
    pub instrument_version: i32,
    /// Methodology id.
    pub methodology_id: i64,
    /// Methodology code.
    pub methodology_code: String,
    /// Methodology version.
    pub methodology_version: i32,
}

/// The configured groups of a round.
pub fn groups(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Vec<RoundGroupRow>> {
    round_groups::table
        .inner_join(respondent_groups::table)
        .inner_join(instruments::table)
        .inner_join(methodologies::table)
        .filter(round_groups::round_id.eq(round_id))
        .order(respondent_groups::sort_order)
        .select((
            round_groups::group_id,
            respondent_groups::code,
            instruments::id,
            instruments::code,
            instruments::version,
            methodologies::id,
            methodologies::code,
            methodologies::version,
        ))
        .load(conn)
}

/// Sets (replaces) the instrument and methodology of one group.
pub fn set_group(
    conn: &mut AnyConnection,
    round_id: i64,
    group_id: i64,
    instrument_id: i64,
    methodology_id: i64,
) -> QueryResult<()> {
    let key = (
        round_groups::round_id.eq(round_id),
        round_groups::group_id.eq(group_id),
    );
    replace_row(
        conn,
        diesel::delete(round_groups::table.filter(key.0).filter(key.1)),
        diesel::insert_into(round_groups::table).values((
            key,
            round_groups::instrument_id.eq(instrument_id),
            round_groups::methodology_id.eq(methodology_id),
        )),
    )
}

/// Replaces the one row a key selects in a round's settings: `old` deletes it (when there is
/// one), `new` inserts its successor. Both run in the caller's transaction.
fn replace_row<Old, New>(conn: &mut AnyConnection, old: Old, new: New) -> QueryResult<()>
where
    Old: ExecuteDsl<AnyConnection>,
    New: ExecuteDsl<AnyConnection>,
{
    ExecuteDsl::execute(old, conn)?;
    ExecuteDsl::execute(new, conn)?;
    Ok(())
}

/// The id of a respondent group code.
pub fn group_id(conn: &mut AnyConnection, code: &str) -> QueryResult<Option<i64>> {
    respondent_groups::table
        .filter(respondent_groups::code.eq(code))
        .select(respondent_groups::id)
        .first(conn)
        .optional()
}

/// All respondent groups as (id, code), in display order.
pub fn all_groups(conn: &mut AnyConnection) -> QueryResult<Vec<(i64, String)>> {
    respondent_groups::table
        .order(respondent_groups::sort_order)
        .select((respondent_groups::id, respondent_groups::code))
        .load(conn)
}

/// Every respondent group's code with its Vietnamese and English name.
pub fn group_names(conn: &mut AnyConnection) -> QueryResult<Vec<(String, String, String)>> {
    respondent_groups::table
        .order(respondent_groups::sort_order)
        .select((
            respondent_groups::code,
            respondent_groups::name_vi,
            respondent_groups::name_en,
        ))
        .load(conn)
}

/// Replaces the units of a round.
pub fn set_units(conn: &mut AnyConnection, round_id: i64, unit_ids: &[i64]) -> QueryResult<()> {
    diesel::delete(round_units::table.filter(round_units::round_id.eq(round_id))).execute(conn)?;
    for unit_id in unit_ids {
        diesel::insert_into(round_units::table)
            .values((
                round_units::round_id.eq(round_id),
                round_units::unit_id.eq(unit_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The units of a round, in code order.
pub fn units(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Vec<super::units::UnitRow>> {
    round_units::table
        .inner_join(units::table)
        .filter(round_units::round_id.eq(round_id))
        .order(units::code)
        .select(super::units::UnitRow::as_select())
        .load(conn)
}

/// Sets the target sample size of one unit × group.
pub fn set_target(
    conn: &mut AnyConnection,
    round_id: i64,
    unit_id: i64,
    group_id: i64,
    target: i32,
) -> QueryResult<()> {
    let key = (
        round_targets::round_id.eq(round_id),
        round_targets::unit_id.eq(unit_id),
        round_targets::group_id.eq(group_id),
    );
    replace_row(
        conn,
        diesel::delete(
            round_targets::table
                .filter(key.0)
                .filter(key.1)
                .filter(key.2),
        ),
        diesel::insert_into(round_targets::table).values((key, round_targets::target.eq(target))),
    )
}

/// All targets of a round as (unit, group, target).
pub fn targets(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Vec<(i64, i64, i32)>> {
    round_targets::table
        .filter(round_targets::round_id.eq(round_id))
        .select((
            round_targets::unit_id,
            round_targets::group_id,
            round_targets::target,
        ))
        .load(conn)
}

/// Sets the earlier round year-over-year compares with (or none).
pub fn set_compare_round(
    conn: &mut AnyConnection,
    round_id: i64,
    earlier: Option<i64>,
) -> QueryResult<usize> {
    diesel::update(rounds::table.find(round_id))
        .set((
            rounds::compare_round_id.eq(earlier),
            rounds::updated_at.eq(super::now()),
        ))
        .execute(conn)
}

/// What a draft round's form may change.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = rounds)]
pub struct DraftChanges<'a> {
    /// What the form set.
    #[diesel(embed)]
    pub fields: RoundFields<'a>,
    /// Change time.
    pub updated_at: NaiveDateTime,
}

/// Rewrites a round's draft fields; only while it is still `draft` (0 rows otherwise).
pub fn update_draft(
    conn: &mut AnyConnection,
    id: i64,
    changes: &DraftChanges<'_>,
) -> QueryResult<usize> {
    diesel::update(
        rounds::table
            .find(id)
            .filter(rounds::status.eq(RoundStatus::Draft.code())),
    )
    .set(changes)
    .execute(conn)
}

/// Sets a round's closing time (UTC, or none) while it is in `status` (0 rows otherwise).
pub fn set_closes_at(
    conn: &mut AnyConnection,
    id: i64,
    status: RoundStatus,
    closes_at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    diesel::update(
        rounds::table
            .find(id)
            .filter(rounds::status.eq(status.code())),
    )
    .set((
        rounds::closes_at.eq(closes_at),
        rounds::updated_at.eq(super::now()),
    ))
    .execute(conn)
}

/// Removes every target of a round (its units changed).
pub fn clear_targets(conn: &mut AnyConnection, round_id: i64) -> QueryResult<usize> {
    diesel::delete(round_targets::table.filter(round_targets::round_id.eq(round_id))).execute(conn)
}

/// How many access codes a round has issued (in any state).
pub fn access_code_count(conn: &mut AnyConnection, round_id: i64) -> QueryResult<i64> {
    access_codes::table
        .filter(access_codes::round_id.eq(round_id))
        .count()
        .get_result(conn)
}

/// How many responses a round has stored.
pub fn response_count(conn: &mut AnyConnection, round_id: i64) -> QueryResult<i64> {
    responses::table
        .filter(responses::round_id.eq(round_id))
        .count()
        .get_result(conn)
}

/// Deletes a round that is still `draft` with what belongs to it (units, groups, targets,
/// respondents, codes and open links go by `ON DELETE CASCADE`; export jobs and other rounds'
/// comparisons, which do not cascade, are cleared first). Returns the rows deleted (0 when
/// the round is gone or no longer a draft).
pub fn delete_draft(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(export_jobs::table.filter(export_jobs::round_id.eq(id))).execute(conn)?;
    diesel::update(rounds::table.filter(rounds::compare_round_id.eq(id)))
        .set(rounds::compare_round_id.eq(None::<i64>))
        .execute(conn)?;
    diesel::delete(
        rounds::table
            .find(id)
            .filter(rounds::status.eq(RoundStatus::Draft.code())),
    )
    .execute(conn)
}
