//! Drafts: the answers of a response in progress, kept under its access code so that the
//! respondent can resume on any device. Deleted in the submit transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::drafts;

/// A stored draft.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = drafts)]
pub struct DraftRow {
    /// The access code it belongs to.
    pub access_code_id: i64,
    /// Answers so far (compact JSON).
    pub answers: String,
    /// Index of the section to show next.
    pub section: i32,
    /// Language last used.
    pub lang: String,
    /// The idempotency key the final submission must carry.
    pub submission_key: String,
    /// When the respondent started (for completion time).
    pub started_at: NaiveDateTime,
}

/// The draft of an access code.
pub fn get(conn: &mut AnyConnection, access_code_id: i64) -> QueryResult<Option<DraftRow>> {
    drafts::table
        .find(access_code_id)
        .select(DraftRow::as_select())
        .get_result(conn)
        .optional()
}

/// Creates an empty draft.
pub fn create(
    conn: &mut AnyConnection,
    access_code_id: i64,
    submission_key: &str,
    lang: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(drafts::table)
        .values((
            drafts::access_code_id.eq(access_code_id),
            drafts::answers.eq("{}"),
            drafts::section.eq(0),
            drafts::lang.eq(lang),
            drafts::submission_key.eq(submission_key),
            drafts::started_at.eq(now),
            drafts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Saves answers and the section to resume at.
pub fn save(
    conn: &mut AnyConnection,
    access_code_id: i64,
    answers: &str,
    section: i32,
    lang: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(drafts::table.find(access_code_id))
        .set((
            drafts::answers.eq(answers),
            drafts::section.eq(section),
            drafts::lang.eq(lang),
            drafts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Deletes a draft (after submission).
pub fn delete(conn: &mut AnyConnection, access_code_id: i64) -> QueryResult<usize> {
    diesel::delete(drafts::table.find(access_code_id)).execute(conn)
}

/// Deletes the drafts whose access code expired at or before `now` (abandoned public-link
/// answers): they can never be submitted, so they are not kept.
pub fn delete_expired(conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<usize> {
    use super::schema::access_codes;
    let expired = access_codes::table
        .filter(access_codes::expires_at.le(now))
        .select(access_codes::id);
    diesel::delete(drafts::table.filter(drafts::access_code_id.eq_any(expired))).execute(conn)
}
