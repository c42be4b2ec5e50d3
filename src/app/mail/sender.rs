//! Delivers the outbox: claims a batch under a lease, sends each message, and records the
//! outcome. Temporary failures retry with exponential backoff; permanent ones stop.
//!
//! Delivery guarantee: a message is marked sent right after the SMTP server accepts it. If the
//! process dies in the instant between the two, the lease expires and the message is sent once
//! more with the same Message-ID; every other crash point (before the server accepted it)
//! loses nothing and duplicates nothing.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::app::mail::Mailer;
use crate::db::{self, DbPool, outbox};
use crate::domain::reminders::{attempts_exhausted, next_attempt_after};

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

/// The messages one sender holds claimed right now (row id and the attempt count of the
/// claim), so that a run that is interrupted can give them back at once instead of leaving
/// them locked until its lease runs out.
#[derive(Debug, Clone, Default)]
pub struct HeldClaims(Arc<Mutex<Vec<(i64, i32)>>>);

impl HeldClaims {
    fn forget(&self, id: i64) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|&(held, _)| held != id);
    }

    /// Gives back every message still held and returns how many were given back. Claiming
    /// waits while this runs, so no claim made meanwhile escapes it.
    pub fn release(&self, pool: &DbPool) -> anyhow::Result<usize> {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut conn = pool.get()?;
        let mut released = 0;
        for (id, attempts) in held.drain(..) {
            released += outbox::release(&mut conn, id, attempts)?;
        }
        Ok(released)
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
    send_batch_holding(pool, mailer, limit, lease, &HeldClaims::default())
}

/// [`send_batch`], keeping the messages it holds in `held` until each is done with.
pub fn send_batch_holding(
    pool: &DbPool,
    mailer: &Mailer,
    limit: i64,
    lease: chrono::Duration,
    held: &HeldClaims,
) -> anyhow::Result<BatchReport> {
    let mut conn = pool.get()?;
    let now = db::now();
    let claimed = {
        // Held across the claim, so a release on interrupt sees every claimed row.
        let mut holding = held.0.lock().unwrap_or_else(PoisonError::into_inner);
        let claimed = db::write_transaction(&mut conn, |conn| {
            outbox::claim(conn, now, now + lease, limit)
        })?;
        holding.extend(claimed.iter().map(|m| (m.id, m.attempts)));
        claimed
    };
    let mut report = BatchReport::default();
    let claimed_any = !claimed.is_empty();
    for message in claimed {
        // The batch may have outlived its lease; only a message still ours is sent.
        if !outbox::renew_lease(&mut conn, message.id, message.attempts, db::now() + lease)? {
            held.forget(message.id);
            continue;
        }
        match mailer.send(&message) {
            Ok(()) => {
                outbox::mark_sent(&mut conn, message.id, db::now())?;
                held.forget(message.id);
                report.sent += 1;
            }
            Err(error) => {
                let attempts = u32::try_from(message.attempts).unwrap_or(u32::MAX);
                let retry_at = (!error.is_permanent() && !attempts_exhausted(attempts))
                    .then(|| db::now() + next_attempt_after(attempts));
                // SMTP replies often quote the recipient ("450 <x@y.vn>: greylisted"); an
                // address must reach neither the log nor the stored error.
                let reason = redact_addresses(&error.to_string());
                tracing::warn!(outbox_id = message.id, attempts, error = %reason, "sending a message failed");
                outbox::mark_failed(&mut conn, message.id, &reason, retry_at)?;
                held.forget(message.id);
                if retry_at.is_some() {
                    report.retried += 1;
                } else {
                    report.failed += 1;
                }
            }
        }
    }
    if claimed_any {
        // Sent messages had their bodies (with access codes) and addresses blanked.
        db::scrub_log(&mut conn);
    }
    Ok(report)
}

/// Replaces every e-mail address in `text` with `[address]`.
pub fn redact_addresses(text: &str) -> String {
    let is_local = |c: char| c.is_alphanumeric() || "._%+-!#$&'*/=?^`{|}~".contains(c);
    let is_domain = |c: char| c.is_alphanumeric() || ".-".contains(c);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let local = out.chars().rev().take_while(|&c| is_local(c)).count();
            let domain = chars[i + 1..].iter().take_while(|&&c| is_domain(c)).count();
            if local > 0 && domain > 0 {
                for _ in 0..local {
                    out.pop();
                }
                out.push_str("[address]");
                i += 1 + domain;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
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

#[cfg(test)]
mod tests {
    use super::redact_addresses;

    #[test]
    fn addresses_in_an_smtp_reply_are_redacted() {
        assert_eq!(
            redact_addresses(
                "temporary error (450): 4.2.0 <nguyen.van-an+x@so-noivu.gov.vn>: Recipient address rejected: Greylisted"
            ),
            "temporary error (450): 4.2.0 <[address]>: Recipient address rejected: Greylisted"
        );
        assert_eq!(
            redact_addresses("to tran@x.vn and lê@hà-nội.vn"),
            "to [address] and [address]"
        );
    }

    #[test]
    fn text_without_an_address_is_unchanged() {
        for text in ["connection refused", "@ alone", "trailing@", "@leading", ""] {
            assert_eq!(redact_addresses(text), text);
        }
    }
}
