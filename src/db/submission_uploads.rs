//! Field submission exports checked and previewed but not yet confirmed: each kept under the
//! hash of a random token, for the administrator who uploaded it and the round it was checked
//! against (the respondent-list previews work the same way).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::submission_uploads;

/// A previewed export to keep.
#[derive(Debug, Insertable)]
#[diesel(table_name = submission_uploads)]
pub struct NewSubmissionUpload<'a> {
    /// Hash of the token the preview page carries.
    pub token_hash: &'a str,
    /// Round it was checked against.
    pub round_id: i64,
    /// Who uploaded it; only they may confirm it.
    pub user_id: i64,
    /// The round's status at the preview.
    pub round_status: &'a str,
    /// The uploaded file's name.
    pub file_name: &'a str,
    /// The checked submissions as JSON.
    pub submissions_json: &'a str,
    /// When it was previewed.
    pub created_at: NaiveDateTime,
}

/// A kept preview.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = submission_uploads)]
pub struct SubmissionUploadRow {
    /// Row id.
    pub id: i64,
    /// The round's status at the preview.
    pub round_status: String,
    /// The uploaded file's name.
    pub file_name: String,
    /// The checked submissions as JSON.
    pub submissions_json: String,
    /// When it was previewed.
    pub created_at: NaiveDateTime,
}

/// Keeps a preview.
pub fn insert(conn: &mut AnyConnection, new: &NewSubmissionUpload<'_>) -> QueryResult<usize> {
    diesel::insert_into(submission_uploads::table)
        .values(new)
        .execute(conn)
}

/// Forgets every preview made before `cutoff`, and the user's earlier previews for the round
/// (only the latest can be confirmed).
pub fn forget_stale(
    conn: &mut AnyConnection,
    cutoff: NaiveDateTime,
    round_id: i64,
    user_id: i64,
) -> QueryResult<usize> {
    let old =
        diesel::delete(submission_uploads::table.filter(submission_uploads::created_at.lt(cutoff)))
            .execute(conn)?;
    let replaced = diesel::delete(
        submission_uploads::table
            .filter(submission_uploads::round_id.eq(round_id))
            .filter(submission_uploads::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(old + replaced)
}

/// The preview with this token hash, if it belongs to this round and user.
pub fn find(
    conn: &mut AnyConnection,
    token_hash: &str,
    round_id: i64,
    user_id: i64,
) -> QueryResult<Option<SubmissionUploadRow>> {
    submission_uploads::table
        .filter(submission_uploads::token_hash.eq(token_hash))
        .filter(submission_uploads::round_id.eq(round_id))
        .filter(submission_uploads::user_id.eq(user_id))
        .select(SubmissionUploadRow::as_select())
        .first(conn)
        .optional()
}

/// Forgets one preview.
pub fn delete(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(submission_uploads::table.find(id)).execute(conn)
}
