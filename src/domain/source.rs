//! Where a problem is in a file: the location type shared by the file readers (instrument
//! TOML and XLSForm, methodology TOML, spreadsheets) and the one way they turn byte offsets
//! into lines and columns.

/// Where a problem is in a file read by one of the readers (TOML, XLSForm, spreadsheets).
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

    /// Orders locations: whole file, bytes, TOML positions, then cells by sheet, row, column.
    pub(crate) fn sort_key(&self) -> (u8, &str, usize, usize) {
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

/// Finds 1-based line and column (in characters) of byte offsets; the line starts are
/// computed once so that locating many fields in a large file stays linear.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// The line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// The 1-based line and character column of byte `offset` of `text` (the text the index
    /// was built from); an offset inside a character or past the end is moved back onto one.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = text.get(start..offset).unwrap_or_default().chars().count() + 1;
        (line, column)
    }
}

/// The 1-based line of byte `offset` in `bytes`, for a file that is not valid text (so no
/// column can be given).
pub fn line_of_byte(bytes: &[u8], offset: usize) -> usize {
    bytes
        .get(..offset)
        .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        .saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_finds_lines_and_character_columns() {
        let text = "ab\nçd\n\nx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 2), (1, 3));
        assert_eq!(idx.line_col(text, 3), (2, 1));
        assert_eq!(idx.line_col(text, 5), (2, 2));
        assert_eq!(idx.line_col(text, 4), (2, 1));
        assert_eq!(idx.line_col(text, 8), (4, 1));
        assert_eq!(idx.line_col(text, 99), (4, 2));
    }

    #[test]
    fn byte_lines_count_line_feeds_before_the_offset() {
        assert_eq!(line_of_byte(b"ab\ncd\n\xff", 6), 3);
        assert_eq!(line_of_byte(b"ab", 0), 1);
    }
}
