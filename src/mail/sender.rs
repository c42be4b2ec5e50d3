//! Delivers the outbox: claims a batch under a lease, sends each message, and records the
//! outcome. Temporary failures retry with exponential backoff; permanent ones stop.
//!
//! Delivery guarantee: a message is marked sent right after the SMTP server accepts it. If the
//! process dies in the instant between the two, the lease expires and the message is sent once
//! more with the same Message-ID; every other crash point (before the server accepted it)
//! loses nothing and duplicates nothing.

use std::time::Duration;

use crate::db::{self, DbPool, outbox};
use crate::domain::reminders::{attempts_exhausted, next_attempt_after};
use crate::mail::Mailer;

/// What one batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchReport {
    /// Accepted by the SMTP server.
    pub sent: usize,
    /// Failed for now; will be retried.
    pub retried: usize,
    /// Failed for good.
    pub failed: usize,
}

impl BatchReport {
    /// Messages handled in the batch.
    pub fn handled(&self) -> usize {
        self.sent + self.retried + self.failed
    }
}

/// Claims and sends up to `limit` due messages.
/// `lease` is how long the claimed messages stay reserved for this sender.
pub fn send_batch(
    pool: &DbPool,
    mailer: &Mailer,
    limit: i64,
    lease: chrono::Duration,
) -> anyhow::Result<BatchReport> {
    let mut conn = pool.get()?;
    let now = db::now();
    let claimed = db::write_transaction(&mut conn, |conn| {
        outbox::claim(conn, now, now + lease, limit)
    })?;
    let mut report = BatchReport::default();
    for message in claimed {
        // The batch may have outlived its lease; only a message still ours is sent.
        if !outbox::renew_lease(&mut conn, message.id, message.attempts, db::now() + lease)? {
            continue;
        }
        match mailer.send(&message) {
            Ok(()) => {
                outbox::mark_sent(&mut conn, message.id, db::now())?;
                report.sent += 1;
            }
            Err(error) => {
                let attempts = u32::try_from(message.attempts).unwrap_or(u32::MAX);
                let retry_at = (!error.is_permanent() && !attempts_exhausted(attempts))
                    .then(|| db::now() + next_attempt_after(attempts));
                tracing::warn!(outbox_id = message.id, attempts, error = %error, "sending a message failed");
                outbox::mark_failed(&mut conn, message.id, &error.to_string(), retry_at)?;
                if retry_at.is_some() {
                    report.retried += 1;
                } else {
                    report.failed += 1;
                }
            }
        }
    }
    Ok(report)
}

/// Starts the background sender of a server: every few seconds it delivers what is due.
pub fn spawn_worker(
    pool: DbPool,
    mailer: Mailer,
    lease: chrono::Duration,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("khaosat-mail".to_owned())
        .spawn(move || {
            loop {
                match send_batch(&pool, &mailer, 50, lease) {
                    Ok(report) if report.handled() > 0 => continue,
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(error = %error, "the mail sender could not run a batch")
                    }
                }
                std::thread::sleep(Duration::from_secs(2));
            }
        })
}
