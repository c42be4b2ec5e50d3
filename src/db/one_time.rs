//! The query the two kinds of one-time link share, the first administrator's setup link and an
//! account's password link: spending a link exactly once.
//!
//! Diesel's table types differ, so, as for the versioned catalogues, a macro writes the one
//! query for each table instead of a generic function with a wall of trait bounds.

/// Writes `consume` for a table of one-time links keyed by `token_hash`, with `used_at` and
/// `expires_at` columns.
macro_rules! one_time_link_queries {
    ($table:ident) => {
        /// Marks a usable link used; returns false if it was not usable (already used, expired
        /// or unknown). The condition is in the update itself, so of two transactions racing on
        /// one link exactly one changes the row: the check and the use are one step.
        pub fn consume(
            conn: &mut AnyConnection,
            token_hash: &str,
            now: NaiveDateTime,
        ) -> QueryResult<bool> {
            let changed = diesel::update(
                $table::table
                    .filter($table::token_hash.eq(token_hash))
                    .filter($table::used_at.is_null())
                    .filter($table::expires_at.gt(now)),
            )
            .set($table::used_at.eq(Some(now)))
            .execute(conn)?;
            Ok(changed == 1)
        }
    };
}

pub(crate) use one_time_link_queries;
