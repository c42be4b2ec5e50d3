//! Checks made over a whole sheet before its rows are walked: languages khaosat does not show
//! (a warning), and media or external data in the survey (refused, each filled cell once).

use std::collections::BTreeSet;

use super::Importer;
use super::headers::{ColumnLang, MEDIA_KEYS};
use super::sheet::Sheet;

/// Survey columns whose cells are XPath expressions, searched for external data.
const EXPRESSION_COLUMNS: [&str; 9] = [
    "relevant",
    "constraint",
    "calculation",
    "choice_filter",
    "default",
    "repeat_count",
    "required",
    "read_only",
    "trigger",
];

impl Importer<'_> {
    /// Warns once per language that khaosat does not show, at the first header using it, when
    /// any cell of such a column holds text.
    pub(super) fn other_languages(&mut self, sheets: &[Sheet], warned: &mut BTreeSet<String>) {
        for sheet in sheets {
            for (i, c) in sheet.columns.iter().enumerate() {
                let ColumnLang::Other(name) = &c.lang else {
                    continue;
                };
                let used = sheet
                    .rows
                    .iter()
                    .any(|r| r.cells.get(i).is_some_and(|v| !v.is_empty()));
                if used && warned.insert(name.to_lowercase()) {
                    self.warn(
                        sheet.header_loc(i),
                        "xlsform.warn.language",
                        &[("language", name)],
                    );
                }
            }
        }
    }

    /// Refuses pictures, sound and film in the survey (each filled cell; the identical
    /// messages are shown as one).
    pub(super) fn survey_media(&mut self, sheet: &Sheet) {
        for row in &sheet.rows {
            for (i, c) in sheet.columns.iter().enumerate() {
                if MEDIA_KEYS.contains(&c.key.as_str())
                    && row.cells.get(i).is_some_and(|v| !v.is_empty())
                {
                    self.err(
                        sheet.loc(row, i),
                        "xlsform.refused.media_column",
                        &[("column", &c.key)],
                    );
                }
            }
        }
    }

    /// Refuses external data (`pulldata()`, `instance('…')`) in any expression cell and
    /// `search()` appearances, each filled cell once.
    pub(super) fn external_data(&mut self, sheet: &Sheet) {
        for row in &sheet.rows {
            for (i, c) in sheet.columns.iter().enumerate() {
                let Some(value) = row.cells.get(i).filter(|v| !v.is_empty()) else {
                    continue;
                };
                let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                let key = if c.key == "appearance" {
                    compact
                        .contains("search(")
                        .then_some("xlsform.refused.search")
                } else if EXPRESSION_COLUMNS.contains(&c.key.as_str()) {
                    if compact.contains("pulldata(") {
                        Some("xlsform.refused.pulldata")
                    } else if compact.contains("instance(") {
                        Some("xlsform.refused.instance")
                    } else {
                        None
                    }
                } else {
                    None
                };
                if let Some(key) = key {
                    self.err(sheet.loc(row, i), key, &[]);
                }
            }
        }
    }
}
