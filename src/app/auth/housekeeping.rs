//! Deletes what authentication leaves behind and nothing reads any more: expired login
//! sessions and throttle counters whose window and lock are over. Run at start and then on a
//! schedule, so neither table grows without bound.

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::app::auth::throttle;
use crate::db::{self, AnyConnection, DbPool};
use crate::error::AppResult;

/// How often the purge runs. Rows it misses for a while are harmless (expired sessions are
/// refused anyway); the schedule only keeps the tables small.
pub const PURGE_EVERY: Duration = Duration::from_secs(15 * 60);

/// What one purge deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Expired sessions.
    pub sessions: usize,
    /// Stale throttle counters.
    pub throttles: usize,
}

/// Deletes the sessions expired at `now` and the throttle counters stale at `now`.
pub fn purge(conn: &mut AnyConnection, now: NaiveDateTime) -> AppResult<Purged> {
    Ok(Purged {
        sessions: db::sessions::delete_expired(conn, now)?,
        throttles: throttle::purge(conn, now)?,
    })
}

/// One purge, logged; a failure is logged and left to the next run (a read-only or
/// unreachable database must not stop the server).
pub fn purge_logged(conn: &mut AnyConnection) {
    match purge(conn, db::now()) {
        Ok(Purged {
            sessions: 0,
            throttles: 0,
        }) => {}
        Ok(purged) => tracing::info!(
            sessions = purged.sessions,
            throttles = purged.throttles,
            "expired sessions and stale throttle counters purged"
        ),
        Err(e) => tracing::warn!(
            error = %crate::error::cause_chain(&e),
            "could not purge expired sessions and throttle counters"
        ),
    }
}

/// Starts the scheduled purge on the current Tokio runtime; it runs every [`PURGE_EVERY`]
/// (the first run after one period: the server purges once while starting) and ends with
/// the runtime.
pub fn spawn_schedule(pool: DbPool) {
    tokio::spawn(async move {
        let start = tokio::time::Instant::now() + PURGE_EVERY;
        let mut ticks = tokio::time::interval_at(start, PURGE_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let pool = pool.clone();
            let run = move || match pool.get() {
                Ok(mut conn) => purge_logged(&mut conn),
                Err(e) => tracing::warn!(error = %e, "no database connection for the purge"),
            };
            if let Err(e) = tokio::task::spawn_blocking(run).await {
                tracing::warn!(error = %e, "the scheduled purge failed to run");
            }
        }
    });
}
