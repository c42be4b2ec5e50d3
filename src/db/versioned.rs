//! The queries shared by the two catalogues of versioned definitions, instruments and
//! methodologies: insert-only tables keyed by `(code, version)` and by content hash, whose rows
//! round configurations point at.
//!
//! Diesel's table types differ, so one generic function would need a wall of trait bounds; a
//! macro writes the same six queries for each table from one definition instead.

/// Writes `insert`, `id_by_hash`, `version_exists`, `list`, `with_source` and `usage_count`
/// for a versioned catalogue table.
///
/// - `$table`: the diesel table module (`instruments`);
/// - `$summary`: its `Selectable` summary row;
/// - `$new`: its `Insertable` new row, with a `content_hash` field;
/// - `$used_by`: the `round_groups` column that points at it.
macro_rules! versioned_catalogue_queries {
    ($table:ident, $summary:ident, $new:ident, $used_by:ident) => {
        /// Inserts a version and returns its id.
        pub fn insert(conn: &mut AnyConnection, new: &$new<'_>) -> QueryResult<i64> {
            diesel::insert_into($table::table)
                .values(new)
                .execute(conn)?;
            id_by_hash(conn, new.content_hash)?.ok_or(diesel::result::Error::NotFound)
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
