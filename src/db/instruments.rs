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

super::versioned::versioned_catalogue_queries!(
    instruments,
    InstrumentSummary,
    NewInstrument,
    instrument_id
);
