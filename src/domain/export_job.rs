//! The states of a background export job: queued by a user, run by a worker, then done or failed.

use std::fmt;
use std::str::FromStr;

/// Where an export job is; stored as the TEXT of [`ExportJobStatus::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportJobStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker is writing the file.
    Running,
    /// The file is ready for download.
    Done,
    /// It stopped; the job says why.
    Failed,
}

/// A stored export job status that is not one of ours (e.g. a corrupted database value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown export job status '{0}'")]
pub struct UnknownExportJobStatus(pub String);

impl ExportJobStatus {
    /// Every state, in their usual order.
    pub const ALL: [ExportJobStatus; 4] = [
        ExportJobStatus::Queued,
        ExportJobStatus::Running,
        ExportJobStatus::Done,
        ExportJobStatus::Failed,
    ];

    /// The TEXT stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            ExportJobStatus::Queued => "queued",
            ExportJobStatus::Running => "running",
            ExportJobStatus::Done => "done",
            ExportJobStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for ExportJobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for ExportJobStatus {
    type Err = UnknownExportJobStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|state| state.code() == s)
            .ok_or_else(|| UnknownExportJobStatus(s.chars().take(40).collect()))
    }
}

/// Reads the stored TEXT: the database edge loads rows through this, so a corrupted value
/// fails the query instead of becoming a default.
impl TryFrom<String> for ExportJobStatus {
    type Error = UnknownExportJobStatus;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_code_and_nothing_else_does() {
        for state in ExportJobStatus::ALL {
            assert_eq!(state.code().parse::<ExportJobStatus>(), Ok(state));
            assert_eq!(ExportJobStatus::try_from(state.to_string()), Ok(state));
        }
        assert!("".parse::<ExportJobStatus>().is_err());
        assert!("QUEUED".parse::<ExportJobStatus>().is_err());
    }
}
