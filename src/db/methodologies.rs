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

super::versioned::versioned_catalogue_queries!(
    methodologies,
    MethodologySummary,
    NewMethodology,
    methodology_id
);
