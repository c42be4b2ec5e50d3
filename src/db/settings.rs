//! Key/value application settings kept in the database (e.g. the generated secret key).

use diesel::prelude::*;

use super::AnyConnection;
use super::schema::app_settings;

/// The value stored under `key`, if any.
pub fn get(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<String>> {
    app_settings::table
        .find(key)
        .select(app_settings::value)
        .get_result(conn)
        .optional()
}

/// Stores `value` under `key` unless a value is already there, and returns the stored value.
/// Two instances starting at once both end up with the first writer's value.
pub fn get_or_insert(conn: &mut AnyConnection, key: &str, value: &str) -> QueryResult<String> {
    if let Some(existing) = get(conn, key)? {
        return Ok(existing);
    }
    let inserted = diesel::insert_into(app_settings::table)
        .values((
            app_settings::key.eq(key),
            app_settings::value.eq(value),
            app_settings::updated_at.eq(super::now()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(value.to_owned()),
        Err(e) if super::is_unique_violation(&e) => get(conn, key)?.ok_or(e),
        Err(e) => Err(e),
    }
}
