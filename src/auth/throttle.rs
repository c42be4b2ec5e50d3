//! Applies the throttling policy to stored counters: the database glue around
//! `domain::throttle`.

use crate::db::{self, AnyConnection};
use crate::domain::throttle::{Policy, State};
use crate::error::{AppError, AppResult};

fn load(conn: &mut AnyConnection, key: &str) -> AppResult<Option<State>> {
    Ok(db::throttle::get(conn, key)?.map(|row| State {
        failures: row.failures,
        window_started_at: row.window_started_at,
        locked_until: row.locked_until,
    }))
}

/// Fails with 429 (and the seconds to wait) when any of the keys is locked.
pub fn check(conn: &mut AnyConnection, keys: &[(&str, Policy)]) -> AppResult<()> {
    let now = db::now();
    let mut wait = None;
    for (key, policy) in keys {
        if let Some(seconds) = policy.retry_after(load(conn, key)?.as_ref(), now) {
            wait = Some(wait.map_or(seconds, |w: i64| w.max(seconds)));
        }
    }
    match wait {
        Some(retry_after_secs) => Err(AppError::TooManyRequests { retry_after_secs }),
        None => Ok(()),
    }
}

/// Counts one failure against each key.
pub fn record_failure(conn: &mut AnyConnection, keys: &[(&str, Policy)]) -> AppResult<()> {
    let now = db::now();
    db::write_transaction(conn, |conn| {
        for (key, policy) in keys {
            let next = policy.record_failure(load(conn, key)?.as_ref(), now);
            db::throttle::put(
                conn,
                &db::throttle::ThrottleRow {
                    key: (*key).to_owned(),
                    failures: next.failures,
                    window_started_at: next.window_started_at,
                    locked_until: next.locked_until,
                },
            )?;
        }
        Ok(())
    })
}

/// Forgets the failures of `key`.
pub fn clear(conn: &mut AnyConnection, key: &str) -> AppResult<()> {
    db::throttle::clear(conn, key)?;
    Ok(())
}
