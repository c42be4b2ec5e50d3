//! Reminder policy (who gets a reminder e-mail now) and the outbox's retry backoff. Pure: the
//! caller loads invitation and message state and acts on the answers.
//!
//! Whether the round still accepts responses is the caller's check
//! ([`crate::domain::lifecycle::RoundStatus::accepts_responses`]); this module only looks at
//! one invitation.

use chrono::{Duration, NaiveDateTime};

/// How insistent reminders are in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReminderPolicy {
    /// Reminders per invitation, at most (0 turns reminders off).
    pub max_reminders: u32,
    /// Whole days to wait after the invitation or the previous reminder.
    pub min_days_between: u32,
}

/// A sensible default: two reminders, a week apart. More than that annoys civil servants
/// without raising response rates much.
pub const DEFAULT_POLICY: ReminderPolicy = ReminderPolicy {
    max_reminders: 2,
    min_days_between: 7,
};

/// What the policy needs to know about one invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvitationState {
    /// When the invitation went out; `None` if it never did (e.g. a printed-code respondent).
    pub invited_at: Option<NaiveDateTime>,
    /// Reminders already sent.
    pub reminders_sent: u32,
    /// When the last reminder went out.
    pub last_reminded_at: Option<NaiveDateTime>,
    /// The respondent has submitted.
    pub responded: bool,
    /// The respondent asked not to be contacted again.
    pub opted_out: bool,
    /// There is an e-mail address to send to.
    pub has_email: bool,
}

/// True when `invitation` should get a reminder at `now`: invited, reachable by e-mail, not
/// responded, not opted out, fewer than `max_reminders` sent, and at least `min_days_between`
/// days since the later of the invitation and the last reminder.
pub fn due(policy: &ReminderPolicy, invitation: &InvitationState, now: NaiveDateTime) -> bool {
    if invitation.responded || invitation.opted_out || !invitation.has_email {
        return false;
    }
    let Some(invited_at) = invitation.invited_at else {
        return false;
    };
    if invitation.reminders_sent >= policy.max_reminders {
        return false;
    }
    // The later of the two, so inconsistent data (a reminder stamped before the invitation,
    // or a count without a timestamp) can only delay a reminder, never send one early.
    let last_contact = invitation
        .last_reminded_at
        .map_or(invited_at, |r| r.max(invited_at));
    let wait = Duration::days(i64::from(policy.min_days_between));
    // Overflow means "not in this era": never due, and never a panic.
    last_contact
        .checked_add_signed(wait)
        .is_some_and(|earliest| now >= earliest)
}

/// Sending attempts after which an outbox message is marked `failed` and no longer retried.
/// With [`next_attempt_after`] the retries span about four hours, enough to ride
/// out a mail-server outage without retrying a bad address all day.
pub const MAX_ATTEMPTS: u32 = 10;

/// Longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::hours(1);

/// How long to wait before the next try of a message that has failed `attempts` times:
/// nothing before the first attempt, then 1, 2, 4, 8, 16, 32 minutes, then an hour each time.
pub fn next_attempt_after(attempts: u32) -> Duration {
    if attempts == 0 {
        return Duration::zero();
    }
    // 2^(attempts − 1) minutes; shifts past 6 are already above the cap, so clamp the shift
    // instead of risking an overflow.
    let minutes = 1i64 << (attempts - 1).min(6);
    Duration::minutes(minutes).min(MAX_BACKOFF)
}

/// True when a message that has been tried `attempts` times should be marked `failed`.
pub fn attempts_exhausted(attempts: u32) -> bool {
    attempts >= MAX_ATTEMPTS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_700_000_000, 0)
            .unwrap()
            .naive_utc()
            + Duration::days(d)
    }

    fn invited_on(d: i64) -> InvitationState {
        InvitationState {
            invited_at: Some(day(d)),
            reminders_sent: 0,
            last_reminded_at: None,
            responded: false,
            opted_out: false,
            has_email: true,
        }
    }

    const POLICY: ReminderPolicy = ReminderPolicy {
        max_reminders: 2,
        min_days_between: 7,
    };

    #[test]
    fn the_first_reminder_comes_a_full_interval_after_the_invitation() {
        let inv = invited_on(0);
        assert!(!due(&POLICY, &inv, day(6)));
        assert!(due(&POLICY, &inv, day(7)));
    }

    #[test]
    fn the_next_reminder_waits_for_the_interval_after_the_last_one() {
        let inv = InvitationState {
            reminders_sent: 1,
            last_reminded_at: Some(day(10)),
            ..invited_on(0)
        };
        assert!(!due(&POLICY, &inv, day(16)));
        assert!(due(&POLICY, &inv, day(17)));
    }

    #[test]
    fn no_more_than_the_maximum_number_of_reminders_is_sent() {
        let inv = InvitationState {
            reminders_sent: 2,
            last_reminded_at: Some(day(14)),
            ..invited_on(0)
        };
        assert!(!due(&POLICY, &inv, day(100)));
        let off = ReminderPolicy {
            max_reminders: 0,
            ..POLICY
        };
        assert!(!due(&off, &invited_on(0), day(100)));
    }

    #[test]
    fn respondents_who_answered_opted_out_were_never_invited_or_have_no_email_get_nothing() {
        let later = day(100);
        for inv in [
            InvitationState {
                responded: true,
                ..invited_on(0)
            },
            InvitationState {
                opted_out: true,
                ..invited_on(0)
            },
            InvitationState {
                has_email: false,
                ..invited_on(0)
            },
            InvitationState {
                invited_at: None,
                ..invited_on(0)
            },
        ] {
            assert!(!due(&POLICY, &inv, later));
        }
    }

    #[test]
    fn a_reminder_count_without_a_timestamp_falls_back_to_the_invitation_date() {
        let inv = InvitationState {
            reminders_sent: 1,
            ..invited_on(0)
        };
        assert!(due(&POLICY, &inv, day(7)));
        let stamped_too_early = InvitationState {
            reminders_sent: 1,
            last_reminded_at: Some(day(-30)),
            ..invited_on(0)
        };
        assert!(!due(&POLICY, &stamped_too_early, day(6)));
    }

    #[test]
    fn extreme_dates_and_intervals_never_panic() {
        let policy = ReminderPolicy {
            max_reminders: u32::MAX,
            min_days_between: u32::MAX,
        };
        let inv = InvitationState {
            invited_at: Some(NaiveDateTime::MAX),
            ..invited_on(0)
        };
        assert!(!due(&policy, &inv, NaiveDateTime::MAX));
        assert!(!due(&POLICY, &inv, NaiveDateTime::MIN));
    }

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        let minutes: Vec<i64> = (0..=9)
            .map(|n| next_attempt_after(n).num_minutes())
            .collect();
        assert_eq!(minutes, [0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(next_attempt_after(u32::MAX), MAX_BACKOFF);
    }

    #[test]
    fn a_message_fails_for_good_after_the_maximum_number_of_attempts() {
        assert!(!attempts_exhausted(MAX_ATTEMPTS - 1));
        assert!(attempts_exhausted(MAX_ATTEMPTS));
        let total: i64 = (1..MAX_ATTEMPTS)
            .map(|n| next_attempt_after(n).num_minutes())
            .sum();
        // 1+2+4+8+16+32+60+60+60 minutes between the ten attempts.
        assert_eq!(total, 243);
    }
}
