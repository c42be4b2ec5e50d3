//! Instrument errors: their shape, and how they are ordered and capped.

use std::fmt;

use crate::domain::source::Location;
use crate::i18n::{Lang, Localized};

/// A problem found while reading an instrument.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InstrumentError {
    /// The file name given by the caller.
    pub file: String,
    /// Where in the file.
    pub location: Location,
    /// What is wrong, as a catalogue message (`instrument.*`, `xlsform.*`, `expr.*`).
    pub message: Localized,
}

impl InstrumentError {
    /// The error in `lang`: the location exactly as [`fmt::Display`] writes it, then the
    /// message in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = self.write(&mut out, &self.message.text(lang));
        out
    }

    fn write(&self, f: &mut impl fmt::Write, message: &str) -> fmt::Result {
        match &self.location {
            Location::File => write!(f, "{}: {message}", self.file),
            Location::Byte { offset, line } => {
                write!(f, "{}:{line}: byte {offset}: {message}", self.file)
            }
            Location::Toml { line, column, path } if path.is_empty() => {
                write!(f, "{}:{line}:{column}: {message}", self.file)
            }
            Location::Toml { line, column, path } => {
                write!(f, "{}:{line}:{column}: {path}: {message}", self.file)
            }
            Location::Cell {
                sheet,
                row,
                column,
                header,
            } => write!(
                f,
                "{}: {sheet}!{column}{row} ({header}): {message}",
                self.file
            ),
        }
    }
}

impl fmt::Display for InstrumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, &self.message.text(Lang::En))
    }
}

/// A location as a fragment of a message ("line 12", "survey!C7"), in the reader's language.
pub(crate) fn place(location: &Location) -> Localized {
    match location {
        Location::File => Localized::new("instrument.place.file", &[]),
        Location::Byte { offset, .. } => {
            Localized::new("instrument.place.byte", &[("offset", &offset.to_string())])
        }
        Location::Toml { line, .. } => {
            Localized::new("instrument.place.line", &[("line", &line.to_string())])
        }
        Location::Cell {
            sheet, row, column, ..
        } => Localized::new(
            "instrument.place.cell",
            &[("cell", &format!("{sheet}!{column}{row}"))],
        ),
    }
}

pub(crate) fn sort_errors(errors: &mut [InstrumentError]) {
    errors.sort_by(|a, b| a.location.sort_key().cmp(&b.location.sort_key()));
}

/// Most errors listed for one file; a garbage file could otherwise yield hundreds of thousands.
pub const MAX_REPORTED_ERRORS: usize = 100;

/// The closing line of a capped list: how many errors were left out.
pub(crate) fn more_errors(file: &str, left_out: usize) -> InstrumentError {
    InstrumentError {
        file: file.to_owned(),
        location: Location::File,
        message: Localized::new(
            "instrument.more_errors",
            &[
                ("count", &left_out.to_string()),
                ("limit", &MAX_REPORTED_ERRORS.to_string()),
            ],
        ),
    }
}

/// Keeps the first [`MAX_REPORTED_ERRORS`] errors and says how many were left out.
pub(crate) fn limit_errors(mut errors: Vec<InstrumentError>, file: &str) -> Vec<InstrumentError> {
    if errors.len() > MAX_REPORTED_ERRORS {
        let left_out = errors.len() - MAX_REPORTED_ERRORS;
        errors.truncate(MAX_REPORTED_ERRORS);
        errors.push(more_errors(file, left_out));
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vietnamese_rendering_keeps_the_location_and_translates_the_message() {
        let errors = vec![
            InstrumentError {
                file: "a.toml".to_owned(),
                location: Location::File,
                message: Localized::new("instrument.no_sections", &[]),
            };
            MAX_REPORTED_ERRORS + 3
        ];
        let limited = limit_errors(errors, "a.toml");
        let last = limited.last().unwrap();
        assert_eq!(
            last.to_string(),
            "a.toml: ... and 3 more errors (only the first 100 are listed)"
        );
        let vi = last.text(Lang::Vi);
        assert!(vi.starts_with("a.toml: "), "{vi}");
        assert!(vi.contains('3') && vi.contains("100"), "{vi}");
        assert!(!vi.contains("errors"), "{vi}");
    }
}
