//! Applies the throttling policy to stored counters: the database glue around
//! `domain::throttle`.
//!
//! Keys are stored as their SHA-256 digest: a key may hold whatever a visitor typed as an
//! e-mail (up to the form limit), which must neither grow the table nor stay in it as text.

use chrono::NaiveDateTime;

use crate::app::auth::tokens::hash_token;
use crate::db::{self, AnyConnection};
use crate::domain::throttle::{Policy, State, stale_after};
use crate::error::{AppError, AppResult};

/// The stored form of a key: what a query that reads a throttle row along with something
/// else asks for.
pub fn stored_key(key: &str) -> String {
    hash_token(key)
}

fn state_of(row: db::throttle::ThrottleRow) -> State {
    State {
        failures: row.failures,
        window_started_at: row.window_started_at,
        locked_until: row.locked_until,
    }
}

fn load(conn: &mut AnyConnection, stored: &str) -> AppResult<Option<State>> {
    Ok(db::throttle::get(conn, stored)?.map(state_of))
}

/// Fails with 429 when `row`, the stored row of a key read along with something else (see
/// [`stored_key`]; `None` when the key has none), is locked under `policy`: [`check`] for one
/// key without a query of its own.
pub fn check_read(row: Option<db::throttle::ThrottleRow>, policy: Policy) -> AppResult<()> {
    match policy.retry_after(row.map(state_of).as_ref(), db::now()) {
        Some(retry_after_secs) => Err(AppError::TooManyRequests { retry_after_secs }),
        None => Ok(()),
    }
}

fn store(conn: &mut AnyConnection, stored: String, state: &State) -> AppResult<()> {
    db::throttle::put(
        conn,
        &db::throttle::ThrottleRow {
            key: stored,
            failures: state.failures,
            window_started_at: state.window_started_at,
            locked_until: state.locked_until,
        },
    )?;
    Ok(())
}

/// The keys in their stored form, each row created if missing and locked for the rest of
/// the transaction. Locked in one order, so two transactions never wait for each other.
fn lock_all(
    conn: &mut AnyConnection,
    keys: &[(&str, Policy)],
    now: NaiveDateTime,
) -> AppResult<Vec<(String, Policy)>> {
    let mut stored: Vec<(String, Policy)> = keys
        .iter()
        .map(|(key, policy)| (stored_key(key), *policy))
        .collect();
    stored.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, _) in &stored {
        db::throttle::lock(conn, key, now)?;
    }
    Ok(stored)
}

/// The longest wait any of the keys imposes at `now`.
fn wait(
    conn: &mut AnyConnection,
    stored: &[(String, Policy)],
    now: NaiveDateTime,
) -> AppResult<Option<i64>> {
    let mut wait = None;
    for (key, policy) in stored {
        if let Some(seconds) = policy.retry_after(load(conn, key)?.as_ref(), now) {
            wait = Some(wait.map_or(seconds, |w: i64| w.max(seconds)));
        }
    }
    Ok(wait)
}

/// Fails with 429 (and the seconds to wait) when any of the keys is locked.
pub fn check(conn: &mut AnyConnection, keys: &[(&str, Policy)]) -> AppResult<()> {
    let stored: Vec<(String, Policy)> = keys
        .iter()
        .map(|(key, policy)| (stored_key(key), *policy))
        .collect();
    match wait(conn, &stored, db::now())? {
        Some(retry_after_secs) => Err(AppError::TooManyRequests { retry_after_secs }),
        None => Ok(()),
    }
}

/// Counts one failure against each key.
pub fn record_failure(conn: &mut AnyConnection, keys: &[(&str, Policy)]) -> AppResult<()> {
    let now = db::now();
    db::write_transaction(conn, |conn| {
        for (key, policy) in lock_all(conn, keys, now)? {
            let next = policy.record_failure(load(conn, &key)?.as_ref(), now);
            store(conn, key, &next)?;
        }
        Ok(())
    })
}

/// Takes one attempt against every key before the caller does the costly check, in one
/// transaction with the rows locked: fails with 429 when any key is locked, else counts the
/// attempt as a failure. So however many requests race, no more get through than the policy
/// allows, on every instance sharing the database. A success may [`refund`] it afterwards.
pub fn reserve(conn: &mut AnyConnection, keys: &[(&str, Policy)]) -> AppResult<()> {
    let now = db::now();
    db::write_transaction(conn, |conn| {
        let stored = lock_all(conn, keys, now)?;
        if let Some(retry_after_secs) = wait(conn, &stored, now)? {
            // Rolls back, rows created by the lock included.
            return Err(AppError::TooManyRequests { retry_after_secs });
        }
        for (key, policy) in stored {
            let next = policy.record_failure(load(conn, &key)?.as_ref(), now);
            store(conn, key, &next)?;
        }
        Ok(())
    })
}

/// Gives back an attempt [`reserve`] took, for an attempt that succeeded.
pub fn refund(conn: &mut AnyConnection, keys: &[(&str, Policy)]) -> AppResult<()> {
    let now = db::now();
    db::write_transaction(conn, |conn| {
        for (key, policy) in lock_all(conn, keys, now)? {
            if let Some(state) = load(conn, &key)? {
                store(conn, key, &policy.refund(&state))?;
            }
        }
        Ok(())
    })
}

/// Forgets the failures of `key`.
pub fn clear(conn: &mut AnyConnection, key: &str) -> AppResult<()> {
    db::throttle::clear(conn, &stored_key(key))?;
    Ok(())
}

/// Deletes the counters that no longer matter at `now` (their window is over under every
/// policy and they are not locked); returns how many went.
pub fn purge(conn: &mut AnyConnection, now: NaiveDateTime) -> AppResult<usize> {
    Ok(db::throttle::delete_stale(conn, now - stale_after(), now)?)
}
