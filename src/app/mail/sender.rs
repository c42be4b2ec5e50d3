//! Delivers the outbox: claims a batch under a lease, sends its messages one after another
//! over one kept-open SMTP connection, and marks each message sent as soon as the server
//! accepted it. Temporary failures retry with exponential backoff; permanent ones stop.
//!
//! Delivery guarantee (exactly once unless the process dies in one precise moment): a message
//! is marked sent only after the SMTP server accepted it, in a small transaction of its own
//! written right then. The only at-least-once window is that one message, between the
//! server's acceptance and this commit: if the process is killed (SIGKILL, a crash, power
//! loss) inside it, that message is sent once more with the same Message-ID when the lease
//! runs out. An interrupt (Ctrl+C, SIGTERM) closes even that window: it marks what was
//! accepted as sent before giving the rest back ([`HeldClaims::release`]). Every other crash
//! point loses nothing and duplicates nothing. The per-message commit costs well under a
//! millisecond (BENCHMARKS.md, scenario 12): the slow part of delivery was the SMTP
//! exchange, not the database. Failures, which are rare, are written with the batch.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::app::mail::Mailer;
use crate::db::outbox::OutboxMessage;
use crate::db::{self, AnyConnection, DbPool, outbox};
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

/// A message a sender holds claimed.
#[derive(Debug, Clone, Copy)]
struct Held {
    id: i64,
    /// The attempt count of the claim, which tells this claim from a later one by another
    /// sender.
    attempts: i32,
    /// The SMTP server accepted it; only the mark-sent is still to be written.
    accepted: bool,
}

/// The messages one sender holds claimed right now, so that a run that is interrupted can
/// give them back at once instead of leaving them locked until its lease runs out, and can
/// record as sent those the server accepted but the batch has not marked yet.
#[derive(Debug, Clone, Default)]
pub struct HeldClaims(Arc<Mutex<Vec<Held>>>);

impl HeldClaims {
    fn accepted(&self, id: i64) {
        if let Some(held) = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter_mut()
            .find(|h| h.id == id)
        {
            held.accepted = true;
        }
    }

    /// Marks the accepted messages sent and gives back every other message still held, in one
    /// transaction; returns how many were given back. Claiming and recording wait while this
    /// runs, so no claim made meanwhile escapes it.
    pub fn release(&self, pool: &DbPool) -> anyhow::Result<usize> {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut conn = pool.get()?;
        let released = db::write_transaction(&mut conn, |conn| {
            let accepted: Vec<i64> = held.iter().filter(|h| h.accepted).map(|h| h.id).collect();
            outbox::mark_sent(conn, &accepted, db::now())?;
            let mut released = 0;
            for h in held.iter().filter(|h| !h.accepted) {
                released += outbox::release(conn, h.id, h.attempts)?;
            }
            Ok::<_, diesel::result::Error>(released)
        })?;
        held.clear();
        Ok(released)
    }
}

/// How a claimed message fared.
enum Outcome {
    /// Accepted by the server, to be marked sent.
    Sent,
    /// Refused or unreachable: retry at the time given, or never.
    Failed {
        reason: String,
        retry_at: Option<chrono::NaiveDateTime>,
    },
    /// Another sender took it over (this one's lease ran out): neither sent nor recorded.
    Lost,
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
        holding.extend(claimed.iter().map(|m| Held {
            id: m.id,
            attempts: m.attempts,
            accepted: false,
        }));
        claimed
    };
    if claimed.is_empty() {
        return Ok(BatchReport::default());
    }
    // Each send starts with most of a lease ahead of it: once a tenth of the lease has passed
    // since the claim or the last renewal, the batch's lease is renewed (and the failures
    // meanwhile recorded). Through a fast relay a batch never gets there; through a slow
    // one this is the per-message renewal that keeps a batch from outliving its lease, so
    // another sender never takes over a message this one is about to send.
    let renew_after = (lease / 10).to_std().unwrap_or(Duration::ZERO);
    let mut renewed = Instant::now();
    let mut outcomes: Vec<Option<Outcome>> = claimed.iter().map(|_| None).collect();
    for i in 0..claimed.len() {
        if renewed.elapsed() >= renew_after {
            renew(
                &mut conn,
                held,
                &claimed,
                &mut outcomes,
                i,
                db::now() + lease,
            )?;
            renewed = Instant::now();
        }
        if outcomes[i].is_some() {
            continue; // lost to another sender
        }
        let message = &claimed[i];
        outcomes[i] = Some(match mailer.send(message) {
            Ok(()) => {
                held.accepted(message.id);
                mark_one_sent(&mut conn, held, message.id)?;
                Outcome::Sent
            }
            Err(error) => {
                let attempts = u32::try_from(message.attempts).unwrap_or(u32::MAX);
                let retry_at = (!error.is_permanent() && !attempts_exhausted(attempts))
                    .then(|| db::now() + next_attempt_after(attempts));
                // SMTP replies often quote the recipient ("450 <x@y.vn>: greylisted"); an
                // address must reach neither the log nor the stored error.
                let reason = redact_addresses(&error.to_string());
                tracing::warn!(outbox_id = message.id, attempts, error = %reason, "sending a message failed");
                Outcome::Failed { reason, retry_at }
            }
        });
    }
    let report = record(&mut conn, held, &claimed, &outcomes)?;
    // Sent messages had their bodies (with access codes) and addresses blanked.
    db::scrub_log(&mut conn);
    Ok(report)
}

/// Marks one accepted message sent, at once and in its own transaction, unless an interrupt's
/// release has marked it already; it is then no longer held.
fn mark_one_sent(conn: &mut AnyConnection, held: &HeldClaims, id: i64) -> anyhow::Result<()> {
    let mut holding = held.0.lock().unwrap_or_else(PoisonError::into_inner);
    if holding.iter().any(|h| h.id == id) {
        db::write_transaction(conn, |conn| outbox::mark_sent(conn, &[id], db::now()))?;
        holding.retain(|h| h.id != id);
    }
    Ok(())
}

/// Renews the lease of the messages from `from` on, in one transaction that also records the
/// outcomes before `from`; a message another sender has taken over meanwhile is marked
/// [`Outcome::Lost`].
fn renew(
    conn: &mut AnyConnection,
    held: &HeldClaims,
    claimed: &[OutboxMessage],
    outcomes: &mut [Option<Outcome>],
    from: usize,
    lease_until: chrono::NaiveDateTime,
) -> anyhow::Result<()> {
    let mut holding = held.0.lock().unwrap_or_else(PoisonError::into_inner);
    let lost = db::write_transaction(conn, |conn| {
        write_outcomes(conn, &holding, &claimed[..from], &outcomes[..from])?;
        let mut lost = Vec::new();
        for (i, message) in claimed.iter().enumerate().skip(from) {
            if !outbox::renew_lease(conn, message.id, message.attempts, lease_until)? {
                lost.push(message.id);
                outcomes[i] = Some(Outcome::Lost);
            }
        }
        Ok::<_, diesel::result::Error>(lost)
    })?;
    let done = &claimed[..from];
    holding.retain(|h| !lost.contains(&h.id) && !done.iter().any(|m| m.id == h.id));
    Ok(())
}

/// Writes the outcomes of the messages that are still `holding` (an interrupt or an earlier
/// renewal may have written theirs already): the accepted ones marked sent in one statement,
/// each failure with its retry time.
fn write_outcomes(
    conn: &mut AnyConnection,
    holding: &[Held],
    claimed: &[OutboxMessage],
    outcomes: &[Option<Outcome>],
) -> diesel::QueryResult<()> {
    let still_held = |id: i64| holding.iter().any(|h| h.id == id);
    let sent: Vec<i64> = claimed
        .iter()
        .zip(outcomes)
        .filter(|(m, o)| matches!(o, Some(Outcome::Sent)) && still_held(m.id))
        .map(|(m, _)| m.id)
        .collect();
    outbox::mark_sent(conn, &sent, db::now())?;
    for (message, outcome) in claimed.iter().zip(outcomes) {
        if let Some(Outcome::Failed { reason, retry_at }) = outcome
            && still_held(message.id)
        {
            outbox::mark_failed(conn, message.id, reason, *retry_at)?;
        }
    }
    Ok(())
}

/// Writes the outcomes of a batch in one transaction and lets go of its messages.
fn record(
    conn: &mut AnyConnection,
    held: &HeldClaims,
    claimed: &[OutboxMessage],
    outcomes: &[Option<Outcome>],
) -> anyhow::Result<BatchReport> {
    let mut holding = held.0.lock().unwrap_or_else(PoisonError::into_inner);
    db::write_transaction(conn, |conn| {
        write_outcomes(conn, &holding, claimed, outcomes)
    })?;
    holding.retain(|h| !claimed.iter().any(|m| m.id == h.id));
    let mut report = BatchReport::default();
    for outcome in outcomes.iter().flatten() {
        match outcome {
            Outcome::Sent => report.sent += 1,
            Outcome::Failed {
                retry_at: Some(_), ..
            } => report.retried += 1,
            Outcome::Failed { retry_at: None, .. } => report.failed += 1,
            Outcome::Lost => {}
        }
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
