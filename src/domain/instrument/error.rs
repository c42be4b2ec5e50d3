//! Where an instrument error is and how errors are ordered and capped.

use std::fmt;
/// Where an instrument error is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// The file as a whole (e.g. it is too large).
    File,
    /// A byte in a file that is not text.
    Byte {
        /// 0-based byte offset.
        offset: usize,
        /// 1-based line.
        line: usize,
    },
    /// A place in a TOML file.
    Toml {
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// Field path such as `sections[2].questions[4].relevant` (indexes from 0).
        path: String,
    },
    /// A spreadsheet cell (XLSForm).
    Cell {
        /// Sheet name.
        sheet: String,
        /// 1-based row as Excel shows it.
        row: u32,
        /// Column letters (`A`, `AB`).
        column: String,
        /// The column's header (`relevant`).
        header: String,
    },
}

impl Location {
    /// A short human form: `line 12`, `survey!C7`, `byte 10`, or `the file`.
    pub fn short(&self) -> String {
        match self {
            Location::File => "the file".to_owned(),
            Location::Byte { offset, .. } => format!("byte {offset}"),
            Location::Toml { line, .. } => format!("line {line}"),
            Location::Cell {
                sheet, row, column, ..
            } => format!("{sheet}!{column}{row}"),
        }
    }

    /// The 1-based line (TOML and byte locations).
    pub fn line(&self) -> Option<usize> {
        match self {
            Location::Byte { line, .. } | Location::Toml { line, .. } => Some(*line),
            _ => None,
        }
    }

    fn sort_key(&self) -> (u8, &str, usize, usize) {
        match self {
            Location::File => (0, "", 0, 0),
            Location::Byte { offset, .. } => (1, "", *offset, 0),
            Location::Toml { line, column, .. } => (2, "", *line, *column),
            Location::Cell {
                sheet, row, column, ..
            } => (3, sheet, *row as usize, column_index(column)),
        }
    }
}

fn column_index(letters: &str) -> usize {
    letters.chars().fold(0usize, |acc, c| {
        acc.saturating_mul(26)
            .saturating_add((c as usize).saturating_sub('A' as usize) + 1)
    })
}

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
