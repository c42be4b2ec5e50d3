//! Instrument errors: their shape, and how they are ordered and capped.

use std::fmt;

use crate::domain::source::Location;
/// A problem found while reading an instrument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InstrumentError {
    /// The file name given by the caller.
    pub file: String,
    /// Where in the file.
    pub location: Location,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InstrumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::File => write!(f, "{}: {}", self.file, self.message),
            Location::Byte { offset, line } => {
                write!(f, "{}:{line}: byte {offset}: {}", self.file, self.message)
            }
            Location::Toml { line, column, path } if path.is_empty() => {
                write!(f, "{}:{line}:{column}: {}", self.file, self.message)
            }
            Location::Toml { line, column, path } => {
                write!(f, "{}:{line}:{column}: {path}: {}", self.file, self.message)
            }
            Location::Cell {
                sheet,
                row,
                column,
                header,
            } => write!(
                f,
                "{}: {sheet}!{column}{row} ({header}): {}",
                self.file, self.message
            ),
        }
    }
}

pub(crate) fn sort_errors(errors: &mut [InstrumentError]) {
    errors.sort_by(|a, b| a.location.sort_key().cmp(&b.location.sort_key()));
}

/// Most errors listed for one file; a garbage file could otherwise yield hundreds of thousands.
pub const MAX_REPORTED_ERRORS: usize = 100;

/// Keeps the first [`MAX_REPORTED_ERRORS`] errors and says how many were left out.
pub(crate) fn limit_errors(mut errors: Vec<InstrumentError>, file: &str) -> Vec<InstrumentError> {
    if errors.len() > MAX_REPORTED_ERRORS {
        let left_out = errors.len() - MAX_REPORTED_ERRORS;
        errors.truncate(MAX_REPORTED_ERRORS);
        errors.push(InstrumentError {
            file: file.to_owned(),
            location: Location::File,
            message: format!(
                "... and {left_out} more errors (only the first {MAX_REPORTED_ERRORS} are listed)"
            ),
        });
    }
    errors
}
