//! Stored instrument versions. Rows are only ever inserted: a version never changes, which is
//! what keeps the rounds that use it reproducible.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{instruments, round_groups};

/// An instrument version without its source (for lists).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = instruments)]
pub struct InstrumentSummary {
    /// Row id.
    pub id: i64,
    /// Stable instrument code.
    pub code: String,
    /// Version of that code.
    pub version: i32,
    /// Respondent group code.
    pub group_code: String,
    /// Vietnamese title.
    pub title_vi: String,
    /// English title.
    pub title_en: String,
    /// `toml` or `xlsform`.
    pub source_format: String,
    /// SHA-256 of the canonical definition.
    pub content_hash: String,
    /// Shipped with khaosat (reconstructed), as opposed to imported.
    pub builtin: bool,
    /// When it was imported.
    pub created_at: NaiveDateTime,
}

/// A new instrument version.
#[derive(Debug, Insertable)]
#[diesel(table_name = instruments)]
pub struct NewInstrument<'a> {
    /// Stable instrument code.
    pub code: &'a str,
    /// Version of that code.
    pub version: i32,
    /// Respondent group code.
    pub group_code: &'a str,
    /// Vietnamese title.
    pub title_vi: &'a str,
    /// English title.
    pub title_en: &'a str,
    /// `toml` or `xlsform`.
    pub source_format: &'a str,
    /// The TOML text (an XLSForm is stored as its TOML equivalent).
    pub source_text: &'a str,
    /// Canonical JSON of the definition.
    pub definition: &'a str,
    /// SHA-256 of the canonical definition.
    pub content_hash: &'a str,
    /// Shipped with khaosat.
    pub builtin: bool,
    /// The importing account.
    pub created_by: Option<i64>,
    /// Import time.
    pub created_at: NaiveDateTime,
}

/// Inserts a version and returns its id.
pub fn insert(conn: &mut AnyConnection, new: &NewInstrument<'_>) -> QueryResult<i64> {
    diesel::insert_into(instruments::table)
        .values(new)
        .execute(conn)?;
    id_by_hash(conn, new.content_hash)?.ok_or(diesel::result::Error::NotFound)
}

/// The id of the version with this content hash.
pub fn id_by_hash(conn: &mut AnyConnection, hash: &str) -> QueryResult<Option<i64>> {
    instruments::table
        .filter(instruments::content_hash.eq(hash))
        .select(instruments::id)
        .first(conn)
        .optional()
}

/// True when `code` already has a `version`.
pub fn version_exists(conn: &mut AnyConnection, code: &str, version: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        instruments::table
            .filter(instruments::code.eq(code))
            .filter(instruments::version.eq(version)),
    ))
    .get_result(conn)
}

/// Every version, newest import first within each code.
pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<InstrumentSummary>> {
    instruments::table
        .order((instruments::code.asc(), instruments::version.desc()))
        .select(InstrumentSummary::as_select())
        .load(conn)
}

/// A version's summary and its source text.
pub fn with_source(
    conn: &mut AnyConnection,
    id: i64,
) -> QueryResult<Option<(InstrumentSummary, String)>> {
    instruments::table
        .find(id)
        .select((InstrumentSummary::as_select(), instruments::source_text))
        .first(conn)
        .optional()
}

/// How many round configurations use this version.
pub fn usage_count(conn: &mut AnyConnection, id: i64) -> QueryResult<i64> {
    round_groups::table
        .filter(round_groups::instrument_id.eq(id))
        .count()
        .get_result(conn)
}
