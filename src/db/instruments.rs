//! Stored instrument versions. Rows are only ever inserted: a version never changes, which is
//! what keeps the rounds that use it reproducible.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{instruments, round_groups};
use super::versioned::CatalogueEntry;

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
    /// The columns both catalogues share.
    #[diesel(embed)]
    pub entry: CatalogueEntry<'a>,
    /// Respondent group code.
    pub group_code: &'a str,
    /// Vietnamese title.
    pub title_vi: &'a str,
    /// English title.
    pub title_en: &'a str,
    /// `toml` or `xlsform`.
    pub source_format: &'a str,
}

super::versioned::versioned_catalogue_queries!(
    instruments,
    InstrumentSummary,
    NewInstrument,
    instrument_id
);
