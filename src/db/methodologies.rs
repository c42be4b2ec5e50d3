//! Stored methodology versions. Rows are only ever inserted: a version never changes, which is
//! what keeps the rounds that use it reproducible.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::{methodologies, round_groups};
use super::versioned::CatalogueEntry;

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
    /// The columns both catalogues share.
    #[diesel(embed)]
    pub entry: CatalogueEntry<'a>,
    /// Vietnamese name.
    pub name_vi: &'a str,
    /// English name.
    pub name_en: &'a str,
}

super::versioned::versioned_catalogue_queries!(
    methodologies,
    MethodologySummary,
    NewMethodology,
    methodology_id
);
