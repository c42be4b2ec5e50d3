//! E-mail invitations and reminders, queued in the outbox, and opt-out links.

use super::*;
use crate::domain::local_time::TimeZone;

/// The closing day as respondents read it: in the deployment's time zone (`KHAOSAT_TIME_ZONE`),
/// where a 17:00 UTC closing is already the next day in Vietnam and still the same day in UTC.
pub(super) fn closes_date(round: &RoundRow, zone: TimeZone) -> Option<chrono::NaiveDate> {
    round.closes_at.map(|c| zone.to_local(c).date())
}

/// The outbox key prefix of a round's messages.
pub fn message_prefix(round_id: i64) -> String {
    format!("round{round_id}:")
}

/// Issues codes to every respondent with an e-mail address and no invitation yet, and queues
/// their invitations, in one transaction: a code exists in clear only inside its queued
/// message, whose body is erased once delivered. The closing date is written in `zone`.
/// Returns how many were queued.
pub fn queue_invitations(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    base_url: &str,
    zone: TimeZone,
    round_id: i64,
    actor: Actor<'_>,
) -> Result<usize> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        let issued = issue_codes(conn, secret, round_id, true, None, actor)?;
        let now = db::now();
        let sender = CodeMailer::new(&round, zone, base_url, secret);
        let mut queued = 0;
        for code in &issued {
            let Some(email) = &code.email else { continue };
            let mail = CodeMail {
                kind: templates::Kind::Invitation,
                key: format!("{}invite:{}", message_prefix(round_id), code.invitation_id),
                invitation_id: code.invitation_id,
                to: email,
                name: &code.name,
                code: &code.code,
            };
            if sender.queue(conn, &mail, now)? {
                db::respondents::mark_invited(conn, code.invitation_id, now)?;
                queued += 1;
            }
        }
        Ok(queued)
    })
}

/// Queues a reminder for each invitation that is due under `policy`: never to those who
/// responded or opted out, at most `max_reminders`, and not sooner than `min_days_between`.
/// A reminder carries a further code for the same access code (the earlier one is not stored
/// in clear and so cannot be repeated): every code the respondent was sent keeps opening the
/// same draft until one of them is used, which uses them all. The closing date is written in
/// `zone`.
#[expect(
    clippy::too_many_arguments,
    reason = "the deployment's settings, the round, the policy and its clock, each needed"
)]
pub fn queue_reminders(
    conn: &mut AnyConnection,
    secret: &SecretKey,
    base_url: &str,
    zone: TimeZone,
    round_id: i64,
    policy: &ReminderPolicy,
    now: NaiveDateTime,
    actor: Actor<'_>,
) -> Result<usize> {
    db::write_transaction(conn, |conn| {
        let round = round_or_404(conn, round_id)?;
        if status_of(&round)? != RoundStatus::Open {
            return Err(invalid("round.invalid.reminders_state", &[]));
        }
        let sender = CodeMailer::new(&round, zone, base_url, secret);
        let mut queued = 0;
        for status in db::respondents::invitation_statuses(conn, round_id)? {
            let state = InvitationState {
                invited_at: status.invited_at,
                reminders_sent: u32::try_from(status.reminders_sent).unwrap_or(u32::MAX),
                last_reminded_at: status.last_reminded_at,
                responded: status.code_state == CodeState::Used,
                opted_out: status.opted_out,
                has_email: status.email.is_some(),
            };
            let Some(email) = status
                .email
                .as_deref()
                .filter(|_| reminders::due(policy, &state, now))
            else {
                continue;
            };
            let code = AccessCode::generate();
            if db::access_codes::add_alias(conn, status.access_code_id, &code_hash(secret, &code))?
                != 1
            {
                continue; // submitted meanwhile
            }
            let mail = CodeMail {
                kind: templates::Kind::Reminder,
                key: format!(
                    "{}remind:{}:{}",
                    message_prefix(round_id),
                    status.invitation_id,
                    status.reminders_sent + 1
                ),
                invitation_id: status.invitation_id,
                to: email,
                name: &status.name,
                code: &code,
            };
            // `now` is the policy's clock; the queue runs on the real one.
            if sender.queue(conn, &mail, db::now())? {
                db::respondents::mark_reminded(conn, status.invitation_id, now)?;
                queued += 1;
            }
        }
        audit(
            conn,
            actor,
            "round:queue_reminders",
            round_id,
            None,
            Some(serde_json::json!({ "queued": queued }).to_string()),
        )?;
        Ok(queued)
    })
}

/// A message that carries a code to one respondent: an invitation or a reminder.
struct CodeMail<'a> {
    /// Which message it is.
    kind: templates::Kind,
    /// Its outbox key: queuing the same key twice queues it once.
    key: String,
    /// The invitation it belongs to (for the opt-out link).
    invitation_id: i64,
    /// The respondent's address.
    to: &'a str,
    /// The respondent's name as listed.
    name: &'a str,
    /// The code, in clear only inside the queued message.
    code: &'a AccessCode,
}

/// What every code message of one round shares: the round and its closing date, and where
/// links point and how they are signed.
struct CodeMailer<'a> {
    round: &'a RoundRow,
    closes: Option<chrono::NaiveDate>,
    base_url: &'a str,
    secret: &'a SecretKey,
}

impl<'a> CodeMailer<'a> {
    /// The mailer of `round`, whose closing day is written in `zone`.
    fn new(round: &'a RoundRow, zone: TimeZone, base_url: &'a str, secret: &'a SecretKey) -> Self {
        CodeMailer {
            round,
            closes: closes_date(round, zone),
            base_url,
            secret,
        }
    }

    /// Renders `mail` and queues it at `at`; true when queued now, false when a message with
    /// its key was queued before.
    fn queue(
        &self,
        conn: &mut AnyConnection,
        mail: &CodeMail<'_>,
        at: NaiveDateTime,
    ) -> Result<bool> {
        let link = code_link(self.base_url, mail.code);
        let grouped = mail.code.to_string();
        let message = templates::render(
            mail.kind,
            &InvitationContent {
                name: mail.name,
                round_vi: &self.round.name_vi,
                round_en: &self.round.name_en,
                link: &link,
                code: &grouped,
                closes: self.closes,
                opt_out: &opt_out_link(self.base_url, self.secret, mail.invitation_id),
            },
        );
        Ok(outbox::enqueue(
            conn,
            &outbox::NewMessage {
                message_key: &mail.key,
                kind: mail.kind.code(),
                invitation_id: Some(mail.invitation_id),
                to_address: mail.to,
                subject: &message.subject,
                body_text: &message.text,
                body_html: &message.html,
                next_attempt_at: at,
                created_at: at,
            },
        )?)
    }
}

/// The signed token of an invitation's opt-out link: the invitation id and a MAC, so nobody
/// can opt out someone else by changing the number.
pub fn opt_out_token(secret: &SecretKey, invitation_id: i64) -> String {
    format!(
        "{invitation_id}.{}",
        &secret.sign("opt-out", &invitation_id.to_string())[..24]
    )
}

/// The opt-out link of an invitation.
pub fn opt_out_link(base_url: &str, secret: &SecretKey, invitation_id: i64) -> String {
    format!("{base_url}/optout/{}", opt_out_token(secret, invitation_id))
}

/// Applies an opt-out link: the respondent is never mailed again and queued mail is cancelled.
/// False when the token is not valid.
pub fn opt_out(conn: &mut AnyConnection, secret: &SecretKey, token: &str) -> Result<bool> {
    let Some((id, mac)) = token.split_once('.') else {
        return Ok(false);
    };
    let Ok(invitation_id) = id.parse::<i64>() else {
        return Ok(false);
    };
    let expected = opt_out_token(secret, invitation_id);
    let valid = expected.split_once('.').is_some_and(|(_, m)| {
        // Constant-time comparison of equal-length MAC prefixes.
        m.len() == mac.len()
            && m.bytes()
                .zip(mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    });
    if !valid {
        return Ok(false);
    }
    db::write_transaction(conn, |conn| {
        if !db::respondents::opt_out_by_invitation(conn, invitation_id)? {
            return Ok(false);
        }
        outbox::cancel_for_invitation(conn, invitation_id)?;
        Ok(true)
    })
}
