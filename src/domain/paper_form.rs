//! The states of one keying of a paper form: double entry compares two keyings before the
//! response counts.

use std::fmt;
use std::str::FromStr;

/// Where a keying of a paper form is; stored as the TEXT of [`PaperEntryStatus::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaperEntryStatus {
    /// Keyed once, waiting for the second keying.
    Pending,
    /// Two keyings disagree; someone must look at the paper.
    Mismatch,
    /// The form counts as a response.
    Accepted,
}

/// A stored paper entry status that is not one of ours (e.g. a corrupted database value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown paper entry status '{0}'")]
pub struct UnknownPaperEntryStatus(pub String);

impl PaperEntryStatus {
    /// Every state, in their usual order.
    pub const ALL: [PaperEntryStatus; 3] = [
        PaperEntryStatus::Pending,
        PaperEntryStatus::Mismatch,
        PaperEntryStatus::Accepted,
    ];

    /// The TEXT stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            PaperEntryStatus::Pending => "pending",
            PaperEntryStatus::Mismatch => "mismatch",
            PaperEntryStatus::Accepted => "accepted",
        }
    }
}

impl fmt::Display for PaperEntryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for PaperEntryStatus {
    type Err = UnknownPaperEntryStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.code() == s)
            .ok_or_else(|| UnknownPaperEntryStatus(s.chars().take(40).collect()))
    }
}

/// Reads the stored TEXT: the database edge loads rows through this, so a corrupted value
/// fails the query instead of becoming a default.
impl TryFrom<String> for PaperEntryStatus {
    type Error = UnknownPaperEntryStatus;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_code_and_nothing_else_does() {
        for state in PaperEntryStatus::ALL {
            assert_eq!(state.code().parse::<PaperEntryStatus>(), Ok(state));
            assert_eq!(PaperEntryStatus::try_from(state.to_string()), Ok(state));
        }
        assert!("".parse::<PaperEntryStatus>().is_err());
        assert!("PENDING".parse::<PaperEntryStatus>().is_err());
    }
}
