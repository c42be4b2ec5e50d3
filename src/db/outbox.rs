//! The mail outbox. Messages are enqueued under a unique key (so queuing twice queues once)
//! and claimed with a lease, so that several senders (a crash and restart, or two instances on
//! one database) never hold the same message at the same time.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::mail_outbox;
use crate::domain::mail_outbox::OutboxStatus;

/// A message to queue.
#[derive(Debug, Insertable)]
#[diesel(table_name = mail_outbox)]
pub struct NewMessage<'a> {
    /// Idempotency key, e.g. `invite:42` or `remind:42:1`.
    pub message_key: &'a str,
    /// `invitation` or `reminder`.
    pub kind: &'a str,
    /// The invitation it belongs to.
    pub invitation_id: Option<i64>,
    /// Recipient.
    pub to_address: &'a str,
    /// Subject line.
    pub subject: &'a str,
    /// Plain-text body.
    pub body_text: &'a str,
    /// HTML body.
    pub body_html: &'a str,
    /// When it may first be sent.
    pub next_attempt_at: NaiveDateTime,
    /// Queue time.
    pub created_at: NaiveDateTime,
}

/// A claimed message, ready to send.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
pub struct OutboxMessage {
    /// Row id.
    pub id: i64,
    /// Idempotency key (also the Message-ID's left part).
    pub message_key: String,
    /// Recipient.
    pub to_address: String,
    /// Subject.
    pub subject: String,
    /// Plain text.
    pub body_text: String,
    /// HTML.
    pub body_html: String,
    /// Attempts so far, this one included.
    pub attempts: i32,
}

/// The assignments of [`cancellation`].
type Cancellation = (
    diesel::dsl::Eq<mail_outbox::status, &'static str>,
    diesel::dsl::Eq<mail_outbox::body_text, &'static str>,
    diesel::dsl::Eq<mail_outbox::body_html, &'static str>,
);

/// What cancelling a pending message writes: its status, and empty bodies, since a body holds
/// an access code that no one is to receive any more.
fn cancellation() -> Cancellation {
    (
        mail_outbox::status.eq(OutboxStatus::Cancelled.code()),
        mail_outbox::body_text.eq(""),
        mail_outbox::body_html.eq(""),
    )
}

/// Cancels queued messages of an invitation (its respondent opted out).
pub fn cancel_for_invitation(conn: &mut AnyConnection, invitation_id: i64) -> QueryResult<usize> {
    diesel::update(
        mail_outbox::table
            .filter(mail_outbox::invitation_id.eq(invitation_id))
            .filter(mail_outbox::status.eq(OutboxStatus::Pending.code())),
    )
    .set(cancellation())
    .execute(conn)
}

/// Queues a message unless one with the same key exists; true when queued now.
pub fn enqueue(conn: &mut AnyConnection, message: &NewMessage<'_>) -> QueryResult<bool> {
    let exists: bool = diesel::select(diesel::dsl::exists(
        mail_outbox::table.filter(mail_outbox::message_key.eq(message.message_key)),
    ))
    .get_result(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(mail_outbox::table)
        .values(message)
        .execute(conn)?;
    Ok(true)
}

/// Claims up to `limit` due messages for `lease`: pending ones whose time has come, and ones
/// whose sender's lease ran out (it crashed mid-batch). Each row is claimed by a conditional
/// update, so of two concurrent claimers exactly one wins it.
pub fn claim(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxMessage>> {
    let due = mail_outbox::status
        .eq(OutboxStatus::Pending.code())
        .and(mail_outbox::next_attempt_at.le(now))
        .or(mail_outbox::status
            .eq(OutboxStatus::Sending.code())
            .and(mail_outbox::locked_until.lt(now)));
    let candidates: Vec<i64> = mail_outbox::table
        .filter(due)
        .order(mail_outbox::id)
        .limit(limit)
        .select(mail_outbox::id)
        .load(conn)?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for id in candidates {
        let won = diesel::update(mail_outbox::table.find(id).filter(due))
            .set((
                mail_outbox::status.eq(OutboxStatus::Sending.code()),
                mail_outbox::locked_until.eq(Some(lease_until)),
                mail_outbox::attempts.eq(mail_outbox::attempts + 1),
            ))
            .execute(conn)?;
        if won == 1 {
            claimed.push(
                mail_outbox::table
                    .find(id)
                    .select(OutboxMessage::as_select())
                    .first(conn)?,
            );
        }
    }
    Ok(claimed)
}

/// Renews this sender's lease on a claimed message not yet sent, and says whether
/// the message is still this sender's: each claim increments `attempts`, so a message another
/// sender re-claimed (after this one's lease ran out) no longer has `attempts` as claimed here.
/// Without this check a slow batch would send its tail twice.
pub fn renew_lease(
    conn: &mut AnyConnection,
    id: i64,
    claimed_attempts: i32,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        mail_outbox::table
            .find(id)
            .filter(mail_outbox::status.eq(OutboxStatus::Sending.code()))
            .filter(mail_outbox::attempts.eq(claimed_attempts)),
    )
    .set(mail_outbox::locked_until.eq(Some(lease_until)))
    .execute(conn)
    .map(|n| n == 1)
}

/// Gives back a message this sender claimed (as `claimed_attempts`) but did not send because
/// it was interrupted: pending again at once, and the attempt it never made is not counted.
/// 0 when the message is no longer this sender's (sent, failed, or re-claimed by another).
pub fn release(conn: &mut AnyConnection, id: i64, claimed_attempts: i32) -> QueryResult<usize> {
    diesel::update(
        mail_outbox::table
            .find(id)
            .filter(mail_outbox::status.eq(OutboxStatus::Sending.code()))
            .filter(mail_outbox::attempts.eq(claimed_attempts)),
    )
    .set((
        mail_outbox::status.eq(OutboxStatus::Pending.code()),
        mail_outbox::locked_until.eq(None::<NaiveDateTime>),
        mail_outbox::attempts.eq(mail_outbox::attempts - 1),
    ))
    .execute(conn)
}

/// What keeps a prefix's undelivered messages from being sent right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waiting {
    /// Pending messages whose next attempt is later (after a temporary failure).
    pub retrying: i64,
    /// The earliest of those next attempts.
    pub next_retry: Option<NaiveDateTime>,
    /// Messages claimed by a sender whose lease has not run out (another run, or one that
    /// died without giving them back).
    pub held: i64,
    /// When the last of those leases runs out.
    pub held_until: Option<NaiveDateTime>,
}

/// Counts what of the messages whose key starts with `prefix` waits, and until when.
pub fn waiting(conn: &mut AnyConnection, prefix: &str, now: NaiveDateTime) -> QueryResult<Waiting> {
    use diesel::dsl::{count_star, max, min};
    let of_prefix = mail_outbox::message_key.like(format!("{prefix}%"));
    let (retrying, next_retry): (i64, Option<NaiveDateTime>) = mail_outbox::table
        .filter(of_prefix.clone())
        .filter(mail_outbox::status.eq(OutboxStatus::Pending.code()))
        .filter(mail_outbox::next_attempt_at.gt(now))
        .select((count_star(), min(mail_outbox::next_attempt_at)))
        .first(conn)?;
    let (held, held_until): (i64, Option<NaiveDateTime>) = mail_outbox::table
        .filter(of_prefix)
        .filter(mail_outbox::status.eq(OutboxStatus::Sending.code()))
        .filter(mail_outbox::locked_until.ge(now))
        .select((count_star(), max(mail_outbox::locked_until)))
        .first(conn)?;
    Ok(Waiting {
        retrying,
        next_retry,
        held,
        held_until,
    })
}

/// Marks messages sent (a batch's, in one statement) and drops their bodies and addresses: the
/// bodies contain an access code, which must not outlive its delivery, and the address is
/// personal data the sent record no longer needs.
pub fn mark_sent(conn: &mut AnyConnection, ids: &[i64], now: NaiveDateTime) -> QueryResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(mail_outbox::table.filter(mail_outbox::id.eq_any(ids)))
        .set((
            mail_outbox::status.eq(OutboxStatus::Sent.code()),
            mail_outbox::sent_at.eq(Some(now)),
            mail_outbox::locked_until.eq(None::<NaiveDateTime>),
            mail_outbox::body_text.eq(""),
            mail_outbox::body_html.eq(""),
            mail_outbox::to_address.eq(""),
            mail_outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Puts a message back for a later attempt, or marks it failed for good.
pub fn mark_failed(
    conn: &mut AnyConnection,
    id: i64,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    let status = if retry_at.is_some() {
        OutboxStatus::Pending
    } else {
        OutboxStatus::Failed
    };
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::status.eq(status.code()),
            mail_outbox::locked_until.eq(None::<NaiveDateTime>),
            mail_outbox::last_error.eq(Some(error)),
            mail_outbox::next_attempt_at.eq(retry_at.unwrap_or_else(super::now)),
        ))
        .execute(conn)
}

/// Message counts by status for messages whose key starts with `prefix` (a round's messages).
pub fn counts_by_status(
    conn: &mut AnyConnection,
    prefix: &str,
) -> QueryResult<Vec<(OutboxStatus, i64)>> {
    let counts: Vec<(String, i64)> = mail_outbox::table
        .filter(mail_outbox::message_key.like(format!("{prefix}%")))
        .group_by(mail_outbox::status)
        .select((mail_outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    counts
        .into_iter()
        .map(|(status, count)| {
            let status = OutboxStatus::try_from(status)
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            Ok((status, count))
        })
        .collect()
}

/// Cancels every pending message whose key starts with `prefix` (a deleted round's), erasing
/// the bodies that hold codes.
pub fn cancel_with_prefix(conn: &mut AnyConnection, prefix: &str) -> QueryResult<usize> {
    diesel::update(
        mail_outbox::table
            .filter(mail_outbox::message_key.like(format!("{prefix}%")))
            .filter(mail_outbox::status.eq(OutboxStatus::Pending.code())),
    )
    .set(cancellation())
    .execute(conn)
}
