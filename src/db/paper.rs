//! Paper questionnaires keyed in by staff: one row per keying of a form, so that a double
//! entry can be compared before the response counts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{paper_entries, responses, users};
use crate::domain::paper_form::PaperEntryStatus;

/// A keyed form, read with its keyer's e-mail (join `users`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = paper_entries)]
pub struct PaperEntry {
    /// Row id.
    pub id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Group.
    pub group_id: i64,
    /// The number written on the paper form.
    pub batch_ref: String,
    /// First or second keying.
    pub entry_no: i32,
    /// Answers as keyed (compact JSON).
    pub answers: String,
    /// Where the keying is (an unknown stored code fails the query).
    #[diesel(deserialize_as = String)]
    pub status: PaperEntryStatus,
    /// Who keyed it (account id).
    #[diesel(column_name = entered_by)]
    pub entered_by_id: i64,
    /// Who keyed it (e-mail).
    #[diesel(select_expression = users::email, select_expression_type = users::email)]
    pub entered_by: String,
    /// When.
    pub created_at: NaiveDateTime,
}

/// A keying to store.
#[derive(Debug, Insertable)]
#[diesel(table_name = paper_entries)]
pub struct NewPaperEntry<'a> {
    /// Round.
    pub round_id: i64,
    /// Unit.
    pub unit_id: i64,
    /// Group.
    pub group_id: i64,
    /// Instrument keyed.
    pub instrument_id: i64,
    /// Form number.
    pub batch_ref: &'a str,
    /// 1 or 2.
    pub entry_no: i32,
    /// Keyer.
    pub entered_by: i64,
    /// Answers.
    pub answers: &'a str,
    /// Initial status.
    pub status: &'a str,
    /// Time.
    pub created_at: NaiveDateTime,
}

/// The keyings of one form, first entry first.
pub fn of_form(
    conn: &mut AnyConnection,
    round_id: i64,
    batch_ref: &str,
) -> QueryResult<Vec<PaperEntry>> {
    paper_entries::table
        .inner_join(users::table)
        .filter(paper_entries::round_id.eq(round_id))
        .filter(paper_entries::batch_ref.eq(batch_ref))
        .order(paper_entries::entry_no)
        .select(PaperEntry::as_select())
        .load(conn)
}

/// Every keying of a round, newest first.
pub fn of_round(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Vec<PaperEntry>> {
    paper_entries::table
        .inner_join(users::table)
        .filter(paper_entries::round_id.eq(round_id))
        .order((paper_entries::batch_ref, paper_entries::entry_no))
        .select(PaperEntry::as_select())
        .load(conn)
}

/// Stores a keying, replacing an earlier keying with the same number (re-keying to resolve a
/// mismatch).
pub fn upsert(conn: &mut AnyConnection, new: &NewPaperEntry<'_>) -> QueryResult<()> {
    diesel::delete(
        paper_entries::table
            .filter(paper_entries::round_id.eq(new.round_id))
            .filter(paper_entries::batch_ref.eq(new.batch_ref))
            .filter(paper_entries::entry_no.eq(new.entry_no)),
    )
    .execute(conn)?;
    diesel::insert_into(paper_entries::table)
        .values(new)
        .execute(conn)?;
    Ok(())
}

/// Sets the status of every keying of a form.
pub fn set_status(
    conn: &mut AnyConnection,
    round_id: i64,
    batch_ref: &str,
    status: PaperEntryStatus,
) -> QueryResult<usize> {
    diesel::update(
        paper_entries::table
            .filter(paper_entries::round_id.eq(round_id))
            .filter(paper_entries::batch_ref.eq(batch_ref)),
    )
    .set(paper_entries::status.eq(status.code()))
    .execute(conn)
}

/// Counted (not excluded) paper responses per unit of a round: (unit id, count). Only a count
/// per unit leaves this function, never a row. The partial index `responses_paper` holds just
/// the paper rows; its predicate is written out literally so both databases match it.
pub fn counted_per_unit(conn: &mut AnyConnection, round_id: i64) -> QueryResult<Vec<(i64, i64)>> {
    use diesel::dsl::{count_star, sql};
    responses::table
        .filter(responses::round_id.eq(round_id))
        .filter(sql::<diesel::sql_types::Bool>("source = 'paper'"))
        .filter(responses::excluded.eq(false))
        .group_by(responses::unit_id)
        .select((responses::unit_id, count_star()))
        .load(conn)
}
