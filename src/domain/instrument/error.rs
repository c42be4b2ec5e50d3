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

/// Message keys of errors that only follow from an earlier one (a condition naming a question
/// whose code could not be read, select questions whose choice lists are missing). They are
/// listed after the real causes.
const FOLLOW_ON_KEYS: [&str; 2] = [
    "instrument.refers_to_unreadable",
    "xlsform.selects_without_choices",
];

/// Most other places named when one problem is found in many.
const MAX_ALSO_AT: usize = 5;

/// A location in a list of places: `survey!A7`, or `12:3` for a line and column.
fn short_place(location: &Location) -> String {
    match location {
        Location::File => String::new(),
        Location::Byte { offset, .. } => offset.to_string(),
        Location::Toml { line, column, .. } => format!("{line}:{column}"),
        Location::Cell {
            sheet, row, column, ..
        } => format!("{sheet}!{column}{row}"),
    }
}

/// Orders errors for a person: the real causes first, in file order, each distinct problem
/// once (the same message in other cells is named in it: "(also at survey!A9, survey!A12)"),
/// then the errors that only follow from those, counted.
pub(crate) fn group_errors(mut errors: Vec<InstrumentError>) -> Vec<InstrumentError> {
    sort_errors(&mut errors);
    let (follow_ons, real): (Vec<_>, Vec<_>) = errors
        .into_iter()
        .partition(|e| FOLLOW_ON_KEYS.contains(&e.message.key));
    let mut grouped: Vec<(InstrumentError, Vec<Location>)> = Vec::new();
    for e in real {
        match grouped
            .iter_mut()
            .find(|(first, _)| first.file == e.file && first.message == e.message)
        {
            Some((_, others)) if e.location != Location::File => others.push(e.location),
            // The same file-level problem twice says nothing new.
            Some(_) => {}
            None => grouped.push((e, Vec::new())),
        }
    }
    grouped
        .into_iter()
        .map(|(mut first, others)| {
            if !others.is_empty() {
                let places: Vec<String> =
                    others.iter().take(MAX_ALSO_AT).map(short_place).collect();
                let places = places.join(", ");
                let message = if others.len() > MAX_ALSO_AT {
                    Localized::new(
                        "instrument.also_at_more",
                        &[
                            ("places", &places),
                            ("more", &(others.len() - MAX_ALSO_AT).to_string()),
                        ],
                    )
                } else {
                    Localized::new("instrument.also_at", &[("places", &places)])
                };
                first.message = message.with("message", first.message);
            }
            first
        })
        .chain(follow_ons)
        .collect()
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

    fn cell(row: u32, message: Localized) -> InstrumentError {
        InstrumentError {
            file: "f.xlsx".to_owned(),
            location: Location::Cell {
                sheet: "survey".to_owned(),
                row,
                column: "A".to_owned(),
                header: "type".to_owned(),
            },
            message,
        }
    }

    #[test]
    fn one_problem_in_many_cells_is_one_line_and_follow_ons_come_last() {
        let geo = Localized::new("xlsform.unsupported_type", &[("type", "geopoint")]);
        let follow = Localized::new(
            "instrument.refers_to_unreadable",
            &[("code", "q-1"), ("count", "12")],
        );
        let mut errors = vec![cell(2, follow)];
        for row in [20, 9, 3, 4, 5, 6, 7, 8] {
            errors.push(cell(row, geo.clone()));
        }
        errors.push(cell(10, Localized::new("xlsform.missing_label", &[])));
        let lines: Vec<String> = group_errors(errors)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            [
                "f.xlsx: survey!A3 (type): unsupported question type 'geopoint' (also at survey!A4, survey!A5, survey!A6, survey!A7, survey!A8 and 2 more)",
                "f.xlsx: survey!A10 (type): missing label",
                "f.xlsx: survey!A2 (type): 12 conditions refer to 'q-1', whose own row has an error (see above)",
            ]
        );
    }

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
