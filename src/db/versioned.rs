//! The queries shared by the two catalogues of versioned definitions, instruments and
//! methodologies: insert-only tables keyed by `(code, version)` and by content hash, whose rows
//! round configurations point at.
//!
//! Diesel's table types differ, so one generic function would need a wall of trait bounds; a
//! macro writes the same six queries for each table from one definition instead, and lets
//! both tables insert the columns they share from one [`CatalogueEntry`].

use chrono::NaiveDateTime;

/// The columns every version of either catalogue has, whatever it defines: embedded in
/// `NewInstrument` and `NewMethodology` with `#[diesel(embed)]`.
#[derive(Debug, Clone, Copy)]
pub struct CatalogueEntry<'a> {
    /// Stable code.
    pub code: &'a str,
    /// Version of that code.
    pub version: i32,
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

/// Writes `insert`, `id_by_hash`, `version_exists`, `list`, `with_source` and `usage_count`
/// for a versioned catalogue table.
///
/// - `$table`: the diesel table module (`instruments`);
/// - `$summary`: its `Selectable` summary row;
/// - `$new`: its `Insertable` new row, with an embedded [`CatalogueEntry`] `entry`;
/// - `$used_by`: the `round_groups` column that points at it.
///
/// It also makes a [`CatalogueEntry`] insertable into `$table`.
macro_rules! versioned_catalogue_queries {
    ($table:ident, $summary:ident, $new:ident, $used_by:ident) => {
        /// The shared columns, as the derived `Insertable` would write them: a missing
        /// `created_by` is left to the column's default.
        type EntryValues<'a> = (
            diesel::dsl::Eq<$table::code, &'a str>,
            diesel::dsl::Eq<$table::version, i32>,
            diesel::dsl::Eq<$table::source_text, &'a str>,
            diesel::dsl::Eq<$table::definition, &'a str>,
            diesel::dsl::Eq<$table::content_hash, &'a str>,
            diesel::dsl::Eq<$table::builtin, bool>,
            Option<diesel::dsl::Eq<$table::created_by, i64>>,
            diesel::dsl::Eq<$table::created_at, NaiveDateTime>,
        );

        impl<'a> Insertable<$table::table> for super::versioned::CatalogueEntry<'a> {
            type Values = <EntryValues<'a> as Insertable<$table::table>>::Values;

            fn values(self) -> Self::Values {
                let columns: EntryValues<'a> = (
                    $table::code.eq(self.code),
                    $table::version.eq(self.version),
                    $table::source_text.eq(self.source_text),
                    $table::definition.eq(self.definition),
                    $table::content_hash.eq(self.content_hash),
                    $table::builtin.eq(self.builtin),
                    self.created_by.map(|id| $table::created_by.eq(id)),
                    $table::created_at.eq(self.created_at),
                );
                Insertable::<$table::table>::values(columns)
            }
        }

        impl<'insert, 'a> Insertable<$table::table>
            for &'insert super::versioned::CatalogueEntry<'a>
        {
            type Values =
                <super::versioned::CatalogueEntry<'a> as Insertable<$table::table>>::Values;

            fn values(self) -> Self::Values {
                Insertable::<$table::table>::values(*self)
            }
        }

        /// Inserts a version and returns its id.
        pub fn insert(conn: &mut AnyConnection, new: &$new<'_>) -> QueryResult<i64> {
            diesel::insert_into($table::table)
                .values(new)
                .execute(conn)?;
            id_by_hash(conn, new.entry.content_hash)?.ok_or(diesel::result::Error::NotFound)
        }

        /// The id of the version with this content hash.
        pub fn id_by_hash(conn: &mut AnyConnection, hash: &str) -> QueryResult<Option<i64>> {
            $table::table
                .filter($table::content_hash.eq(hash))
                .select($table::id)
                .first(conn)
                .optional()
        }

        /// True when `code` already has a `version`.
        pub fn version_exists(
            conn: &mut AnyConnection,
            code: &str,
            version: i32,
        ) -> QueryResult<bool> {
            diesel::select(diesel::dsl::exists(
                $table::table
                    .filter($table::code.eq(code))
                    .filter($table::version.eq(version)),
            ))
            .get_result(conn)
        }

        /// Every version, newest first within each code.
        pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<$summary>> {
            $table::table
                .order(($table::code.asc(), $table::version.desc()))
                .select($summary::as_select())
                .load(conn)
        }

        /// A version's summary and its source text.
        pub fn with_source(
            conn: &mut AnyConnection,
            id: i64,
        ) -> QueryResult<Option<($summary, String)>> {
            $table::table
                .find(id)
                .select(($summary::as_select(), $table::source_text))
                .first(conn)
                .optional()
        }

        /// How many round configurations use this version.
        pub fn usage_count(conn: &mut AnyConnection, id: i64) -> QueryResult<i64> {
            round_groups::table
                .filter(round_groups::$used_by.eq(id))
                .count()
                .get_result(conn)
        }
    };
}

pub(crate) use versioned_catalogue_queries;
