//! Imports checked and previewed but not yet confirmed, respondent lists and field submission
//! exports alike: each kept under the hash of a random token, for the administrator who
//! uploaded it and the round it was checked against. Every lookup names the kind, so a
//! preview of one kind is never found, replaced or confirmed as the other.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::upload_previews;

/// What a preview holds; stored as [`PreviewKind::code`] in the `kind` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewKind {
    /// A respondent list (rows as JSON, with the round's respondent count at the preview).
    Respondents,
    /// A field submission export (the checked responses as JSON).
    Submissions,
}

impl PreviewKind {
    /// The code stored in the database (the migration's CHECK lists the same codes).
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::Respondents => "respondents",
            Self::Submissions => "submissions",
        }
    }
}

/// A preview to keep; its kind is given to [`insert`].
#[derive(Debug, Insertable)]
#[diesel(table_name = upload_previews)]
pub struct NewPreview<'a> {
    /// Hash of the token the preview page carries.
    pub token_hash: &'a str,
    /// Round it was checked against.
    pub round_id: i64,
    /// Who uploaded it; only they may confirm it.
    pub user_id: i64,
    /// The round's status at the preview.
    pub round_status: &'a str,
    /// How many respondents the round had at the preview: set for respondent lists only (the
    /// table's CHECK refuses it on other kinds and requires it on lists).
    pub listed_before: Option<i64>,
    /// The uploaded file's name.
    pub file_name: &'a str,
    /// The checked rows or responses as JSON.
    pub payload_json: &'a str,
    /// When it was previewed.
    pub created_at: NaiveDateTime,
}

/// A kept preview.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = upload_previews)]
pub struct PreviewRow {
    /// Row id.
    pub id: i64,
    /// The round's status at the preview.
    pub round_status: String,
    /// How many respondents the round had at the preview (respondent lists only).
    pub listed_before: Option<i64>,
    /// The uploaded file's name.
    pub file_name: String,
    /// The checked rows or responses as JSON.
    pub payload_json: String,
    /// When it was previewed.
    pub created_at: NaiveDateTime,
}

/// Keeps a preview of `kind`.
pub fn insert(
    conn: &mut AnyConnection,
    kind: PreviewKind,
    new: &NewPreview<'_>,
) -> QueryResult<usize> {
    diesel::insert_into(upload_previews::table)
        .values((new, upload_previews::kind.eq(kind.code())))
        .execute(conn)
}

/// Forgets every preview made before `cutoff`, whatever its kind (none of them can be
/// confirmed any more), and the user's earlier previews of `kind` for the round (only the
/// latest can be confirmed; a pending preview of the other kind stays).
pub fn forget_stale(
    conn: &mut AnyConnection,
    kind: PreviewKind,
    cutoff: NaiveDateTime,
    round_id: i64,
    user_id: i64,
) -> QueryResult<usize> {
    let old = diesel::delete(upload_previews::table.filter(upload_previews::created_at.lt(cutoff)))
        .execute(conn)?;
    let replaced = diesel::delete(
        upload_previews::table
            .filter(upload_previews::kind.eq(kind.code()))
            .filter(upload_previews::round_id.eq(round_id))
            .filter(upload_previews::user_id.eq(user_id)),
    )
    .execute(conn)?;
    Ok(old + replaced)
}

/// The preview of `kind` with this token hash, if it belongs to this round and user.
pub fn find(
    conn: &mut AnyConnection,
    kind: PreviewKind,
    token_hash: &str,
    round_id: i64,
    user_id: i64,
) -> QueryResult<Option<PreviewRow>> {
    upload_previews::table
        .filter(upload_previews::kind.eq(kind.code()))
        .filter(upload_previews::token_hash.eq(token_hash))
        .filter(upload_previews::round_id.eq(round_id))
        .filter(upload_previews::user_id.eq(user_id))
        .select(PreviewRow::as_select())
        .first(conn)
        .optional()
}

/// Forgets one preview.
pub fn delete(conn: &mut AnyConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(upload_previews::table.find(id)).execute(conn)
}
