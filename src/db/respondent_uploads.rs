//! Respondent lists checked and previewed but not yet confirmed: each kept under the hash of
//! a random token, for the administrator who uploaded it and the round it was checked against.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::respondent_uploads;

/// A previewed list to keep.
#[derive(Debug, Insertable)]
#[diesel(table_name = respondent_uploads)]
pub struct NewUpload<'a> {
    /// Hash of the token the preview page carries.
    pub token_hash: &'a str,
    /// Round it was checked against.
    pub round_id: i64,
    /// Who uploaded it; only they may confirm it.
    pub user_id: i64,
    /// The round's status at the preview.
    pub round_status: &'a str,
    /// How many respondents the round had at the preview.
    pub listed_before: i64,
    /// The uploaded file's name.
    pub file_name: &'a str,
    /// The checked rows as JSON.
    pub rows_json: &'a str,
    /// When it was previewed.
    pub created_at: NaiveDateTime,
}

/// A kept preview.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = respondent_uploads)]
pub struct UploadRow {
    /// Row id.
    pub id: i64,
    /// The round's status at the preview.
    pub round_status: String,
    /// How many respondents the round had at the preview.
    pub listed_before: i64,
    /// The uploaded file's name.
    pub file_name: String,
    /// The checked rows as JSON.
    pub rows_json: String,
    /// When it was previewed.
    pub created_at: NaiveDateTime,
}

/// Keeps a preview.
pub fn insert(conn: &mut AnyConnection, new: &NewUpload<'_>) -> QueryResult<usize> {
    diesel::insert_into(respondent_uploads::table)
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
        diesel::delete(respondent_uploads::table.filter(respondent_uploads::created_at.lt(cutoff)))
            .execute(conn)?;
    let replaced = diesel::delete(
        respondent_uploads::table
            .filter(respondent_uploads::round_id.eq(round_id))
            .filter(respondent_uploads::user_id.eq(user_id)),
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
) -> QueryResult<Option<UploadRow>> {
    respondent_uploads::table
        .filter(respondent_uploads::token_hash.eq(token_hash))
        .filter(respondent_uploads::round_id.eq(round_id))
        .filter(respondent_uploads::user_id.eq(user_id))
        .select(UploadRow::as_select())
        .first(conn)
        .optional()
}

/// Forgets one preview.
pub fn delete(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(respondent_uploads::table.find(id)).execute(conn)
}
