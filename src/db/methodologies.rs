//! Stored methodology versions. Rows are only ever inserted: a version never changes, which is
//! what keeps the rounds that use it reproducible.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{methodologies, round_groups};

/// A methodology version without its source (for lists).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = methodologies)]
pub struct MethodologySummary {
    /// Row id.
    pub id: i64,
    /// Stable methodology code.
    pub code: String,
    /// Version of that code.
    pub version: i32,
    /// Vietnamese name.
    pub name_vi: String,
    /// English name.
    pub name_en: String,
    /// SHA-256 of the canonical definition.
    pub content_hash: String,
    /// Shipped with khaosat (reconstructed), as opposed to imported.
    pub builtin: bool,
    /// When it was imported.
    pub created_at: NaiveDateTime,
}

/// A new methodology version.
#[derive(Debug, Insertable)]
#[diesel(table_name = methodologies)]
pub struct NewMethodology<'a> {
    /// Stable methodology code.
    pub code: &'a str,
    /// Version of that code.
    pub version: i32,
    /// Vietnamese name.
    pub name_vi: &'a str,
    /// English name.
    pub name_en: &'a str,
    /// The TOML text as imported.
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
pub fn insert(conn: &mut AnyConnection, new: &NewMethodology<'_>) -> QueryResult<i64> {
    diesel::insert_into(methodologies::table)
        .values(new)
        .execute(conn)?;
    id_by_hash(conn, new.content_hash)?.ok_or(diesel::result::Error::NotFound)
}

/// The id of the version with this content hash.
pub fn id_by_hash(conn: &mut AnyConnection, hash: &str) -> QueryResult<Option<i64>> {
    methodologies::table
        .filter(methodologies::content_hash.eq(hash))
        .select(methodologies::id)
        .first(conn)
        .optional()
}

/// True when `code` already has a `version`.
pub fn version_exists(conn: &mut AnyConnection, code: &str, version: i32) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        methodologies::table
            .filter(methodologies::code.eq(code))
            .filter(methodologies::version.eq(version)),
    ))
    .get_result(conn)
}

/// Every version, newest import first within each code.
pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<MethodologySummary>> {
    methodologies::table
        .order((methodologies::code.asc(), methodologies::version.desc()))
        .select(MethodologySummary::as_select())
        .load(conn)
}

/// A version's summary and its source text.
pub fn with_source(
    conn: &mut AnyConnection,
    id: i64,
) -> QueryResult<Option<(MethodologySummary, String)>> {
    methodologies::table
        .find(id)
        .select((MethodologySummary::as_select(), methodologies::source_text))
        .first(conn)
        .optional()
}

/// How many round configurations use this version.
pub fn usage_count(conn: &mut AnyConnection, id: i64) -> QueryResult<i64> {
    round_groups::table
        .filter(round_groups::methodology_id.eq(id))
        .count()
        .get_result(conn)
}
