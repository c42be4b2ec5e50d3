//! The throttling policy for guessable secrets (passwords, access codes): how many failures
//! are allowed in a window and how long a key is then locked. Pure: the caller loads and
//! stores the state.

use chrono::{Duration, NaiveDateTime};

/// Limits for one kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed within `window` before the key locks.
    pub max_failures: i32,
    /// The counting window.
    pub window: Duration,
    /// How long a key stays locked.
    pub lockout: Duration,
}

impl Policy {
    /// `max_failures` within `window`, then a lock as long as the window: each of the
    /// policies pauses a key for the time it counts over.
    pub const fn locking_for_window(max_failures: i32, window: Duration) -> Self {
        Policy {
            max_failures,
            window,
            lockout: window,
        }
    }
}

/// Login failures per account: five tries, then a quarter of an hour's pause.
pub const LOGIN_PER_ACCOUNT: Policy = Policy::locking_for_window(5, Duration::minutes(15));

/// Login failures per client address: generous enough for an office behind one NAT, tight
/// enough to stop spraying passwords across many accounts.
pub const LOGIN_PER_IP: Policy = Policy::locking_for_window(30, Duration::minutes(15));

/// Wrong access codes per client address. A guess succeeds with odds of about one in 10^13,
/// so this mostly stops scripts; an office mistyping a few codes is never locked out.
pub const CODE_PER_IP: Policy = Policy::locking_for_window(30, Duration::minutes(15));

/// Open-link starts per client address: enough for a household or a shared office PC, not
/// for draining a quota from one machine.
pub const OPEN_LINK_PER_IP: Policy = Policy::locking_for_window(20, Duration::hours(1));

/// Setup-link submissions per client address. The link is used once by one person; the
/// limit only stops someone trying tokens (each try with a valid form used to cost a 19 MiB
/// password hash).
pub const SETUP_PER_IP: Policy = Policy::locking_for_window(10, Duration::minutes(15));

/// Account-link submissions per client address, for the same reason as [`SETUP_PER_IP`]: a
/// link is used once by one person, so only someone trying tokens reaches the limit.
pub const ACCOUNT_LINK_PER_IP: Policy = Policy::locking_for_window(10, Duration::minutes(15));

/// Every policy kept in the database, for the purge to know how long a row can matter.
const STORED_POLICIES: [Policy; 6] = [
    LOGIN_PER_ACCOUNT,
    LOGIN_PER_IP,
    CODE_PER_IP,
    OPEN_LINK_PER_IP,
    SETUP_PER_IP,
    ACCOUNT_LINK_PER_IP,
];

/// A stored state whose window started this long ago and whose lock (if any) has ended
/// behaves exactly like no state at all under every stored policy (`record_failure` starts a
/// new window, `retry_after` finds no lock), so the purge may delete it.
pub fn stale_after() -> Duration {
    STORED_POLICIES
        .iter()
        .map(|p| p.window)
        .max()
        .unwrap_or_else(Duration::zero)
}

/// The recorded failures of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    /// Failures in the current window.
    pub failures: i32,
    /// When the current window began.
    pub window_started_at: NaiveDateTime,
    /// Refuse attempts until then.
    pub locked_until: Option<NaiveDateTime>,
}

impl Policy {
    /// `Some(seconds)` to wait when the key is locked at `now`.
    pub fn retry_after(&self, state: Option<&State>, now: NaiveDateTime) -> Option<i64> {
        let until = state?.locked_until?;
        (until > now).then(|| (until - now).num_seconds().max(1))
    }

    /// The state after one more failure at `now`.
    pub fn record_failure(&self, state: Option<&State>, now: NaiveDateTime) -> State {
        let (failures, window_started_at) = match state {
            Some(s) if now - s.window_started_at < self.window => {
                (s.failures + 1, s.window_started_at)
            }
            _ => (1, now),
        };
        let locked_until = (failures >= self.max_failures).then(|| now + self.lockout);
        State {
            failures,
            window_started_at,
            locked_until,
        }
    }

    /// The state after taking back one failure (an attempt reserved in advance that turned
    /// out to succeed). A lock that this attempt set is lifted with it.
    pub fn refund(&self, state: &State) -> State {
        let failures = (state.failures - 1).max(0);
        State {
            failures,
            window_started_at: state.window_started_at,
            locked_until: state.locked_until.filter(|_| failures >= self.max_failures),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::test_fixtures::minute as t;

    #[test]
    fn the_fifth_failure_locks_the_account_for_fifteen_minutes() {
        let p = LOGIN_PER_ACCOUNT;
        let mut state = None;
        for _ in 0..4 {
            state = Some(p.record_failure(state.as_ref(), t(0)));
            assert_eq!(p.retry_after(state.as_ref(), t(0)), None);
        }
        state = Some(p.record_failure(state.as_ref(), t(1)));
        assert_eq!(p.retry_after(state.as_ref(), t(1)), Some(15 * 60));
        assert_eq!(p.retry_after(state.as_ref(), t(16)), None);
    }

    #[test]
    fn a_refund_takes_back_one_failure_and_the_lock_it_set() {
        let p = LOGIN_PER_ACCOUNT;
        let mut state = None;
        for _ in 0..5 {
            state = Some(p.record_failure(state.as_ref(), t(0)));
        }
        let locked = state.unwrap();
        assert!(p.retry_after(Some(&locked), t(0)).is_some());
        let refunded = p.refund(&locked);
        assert_eq!(refunded.failures, 4);
        assert_eq!(p.retry_after(Some(&refunded), t(0)), None);
        assert_eq!(
            p.refund(&p.refund(&p.record_failure(None, t(0)))).failures,
            0
        );
    }

    #[test]
    fn stored_states_go_stale_after_the_longest_window() {
        assert_eq!(stale_after(), OPEN_LINK_PER_IP.window);
    }

    #[test]
    fn failures_outside_the_window_start_a_new_count() {
        let p = LOGIN_PER_ACCOUNT;
        let s = p.record_failure(None, t(0));
        let s = p.record_failure(Some(&s), t(20));
        assert_eq!(s.failures, 1);
        assert_eq!(s.window_started_at, t(20));
    }
}
