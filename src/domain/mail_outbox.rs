//! The states of a message in the mail outbox: queued, leased by a sender, then sent, failed
//! for good, or cancelled (its respondent opted out).

use std::fmt;
use std::str::FromStr;

/// Where a queued message is; stored as the TEXT of [`OutboxStatus::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its next attempt.
    Pending,
    /// Leased by a sender.
    Sending,
    /// Delivered to the mail server.
    Sent,
    /// Given up after its last attempt.
    Failed,
    /// Withdrawn before sending (the respondent opted out).
    Cancelled,
}

/// A stored outbox status that is not one of ours (e.g. a corrupted database value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown outbox status '{0}'")]
pub struct UnknownOutboxStatus(pub String);

impl OutboxStatus {
    /// Every state, in their usual order.
    pub const ALL: [OutboxStatus; 5] = [
        OutboxStatus::Pending,
        OutboxStatus::Sending,
        OutboxStatus::Sent,
        OutboxStatus::Failed,
        OutboxStatus::Cancelled,
    ];

    /// The TEXT stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for OutboxStatus {
    type Err = UnknownOutboxStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.code() == s)
            .ok_or_else(|| UnknownOutboxStatus(s.chars().take(40).collect()))
    }
}

/// Reads the stored TEXT: the database edge loads rows through this, so a corrupted value
/// fails the query instead of becoming a default.
impl TryFrom<String> for OutboxStatus {
    type Error = UnknownOutboxStatus;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_code_and_nothing_else_does() {
        for state in OutboxStatus::ALL {
            assert_eq!(state.code().parse::<OutboxStatus>(), Ok(state));
            assert_eq!(OutboxStatus::try_from(state.to_string()), Ok(state));
        }
        assert!("".parse::<OutboxStatus>().is_err());
        assert!("PENDING".parse::<OutboxStatus>().is_err());
    }
}
