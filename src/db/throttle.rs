//! Failed-attempt counters behind throttling, shared by every instance through the database.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::auth_throttle;

/// The stored state of one throttle key.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = auth_throttle)]
pub struct ThrottleRow {
    /// The SHA-256 hex digest of a key such as `login:account:a@b.vn` or `login:ip:10.0.0.1`
    /// (see `auth::throttle`): fixed length whatever was typed, and no e-mail in the table.
    pub key: String,
    /// Failures since `window_started_at`.
    pub failures: i32,
    /// Start of the counting window.
    pub window_started_at: NaiveDateTime,
    /// Attempts are refused until this time.
    pub locked_until: Option<NaiveDateTime>,
}

/// The state of `key`, if it has any failures on record.
pub fn get(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<ThrottleRow>> {
    auth_throttle::table
        .find(key)
        .select(ThrottleRow::as_select())
        .get_result(conn)
        .optional()
}

/// Makes sure `key` has a row (with no failures) and locks it until the transaction ends, so
/// that concurrent read-modify-write cycles on one key take turns. PostgreSQL holds the row
/// lock of the upsert; SQLite's `BEGIN IMMEDIATE` (`db::write_transaction`) already
/// serialises writers.
pub fn lock(conn: &mut AnyConnection, key: &str, now: NaiveDateTime) -> QueryResult<()> {
    use diesel::sql_types::{Text, Timestamp};
    diesel::sql_query(
        "INSERT INTO auth_throttle (key, failures, window_started_at, locked_until) \
         VALUES ($1, 0, $2, NULL) \
         ON CONFLICT (key) DO UPDATE SET failures = auth_throttle.failures",
    )
    .bind::<Text, _>(key)
    .bind::<Timestamp, _>(now)
    .execute(conn)?;
    Ok(())
}

/// Writes the new state of `key` (insert or replace).
pub fn put(conn: &mut AnyConnection, row: &ThrottleRow) -> QueryResult<()> {
    let updated = diesel::update(auth_throttle::table.find(&row.key))
        .set((
            auth_throttle::failures.eq(row.failures),
            auth_throttle::window_started_at.eq(row.window_started_at),
            auth_throttle::locked_until.eq(row.locked_until),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(auth_throttle::table)
            .values((
                auth_throttle::key.eq(&row.key),
                auth_throttle::failures.eq(row.failures),
                auth_throttle::window_started_at.eq(row.window_started_at),
                auth_throttle::locked_until.eq(row.locked_until),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Forgets the failures of `key` (after a successful login).
pub fn clear(conn: &mut AnyConnection, key: &str) -> QueryResult<usize> {
    diesel::delete(auth_throttle::table.find(key)).execute(conn)
}

/// Deletes every row whose window started at or before `window_started_by` and that is not
/// locked at `now`; returns how many went.
pub fn delete_stale(
    conn: &mut AnyConnection,
    window_started_by: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        auth_throttle::table
            .filter(auth_throttle::window_started_at.le(window_started_by))
            .filter(
                auth_throttle::locked_until
                    .is_null()
                    .or(auth_throttle::locked_until.le(now)),
            ),
    )
    .execute(conn)
}
