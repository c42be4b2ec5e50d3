//! Failed-attempt counters behind throttling, shared by every instance through the database.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::auth_throttle;

/// The stored state of one throttle key.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = auth_throttle)]
pub struct ThrottleRow {
    /// e.g. `login:account:a@b.vn` or `login:ip:10.0.0.1`.
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
        .first(conn)
        .optional()
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
