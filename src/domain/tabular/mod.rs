//! The one reader behind every spreadsheet and CSV import (unit lists, respondent lists,
//! appraised points): decoding (UTF-8, optional BOM), rows of a CSV file or of a workbook's
//! first sheet numbered as a spreadsheet shows them, header normalisation and aliasing, the
//! checks every imported cell goes through, and the row error shape (file, row, column,
//! message) that all of them report.

use std::fmt;

use calamine::Data;

use crate::domain::source::line_of_byte;
use crate::domain::xlsx::{Limits, Workbook, WorkbookError, column_letters};
use crate::i18n::{Lang, Localized};

/// A `list.*` catalogue message with its parameters.
pub(crate) fn msg(key: &'static str, args: &[(&'static str, &str)]) -> Localized {
    Localized::new(key, args)
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------
/// One problem in an imported file, located as a spreadsheet shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowError {
    /// The uploaded file's name.
    pub file: String,
    /// 1-based row (the header is row 1 when it is the first line); `None` for the whole file.
    pub row: Option<u32>,
    /// The column's header as written in the file (or its letter when it has none).
    pub column: Option<String>,
    /// What is wrong, in a sentence, in either language.
    pub message: Localized,
}

impl RowError {
    /// A problem with the whole file.
    pub fn file(file: &str, message: Localized) -> RowError {
        RowError {
            file: file.to_owned(),
            row: None,
            column: None,
            message,
        }
    }

    /// A problem at a row (and column, when known).
    pub fn at(file: &str, row: u32, column: Option<String>, message: Localized) -> RowError {
        RowError {
            file: file.to_owned(),
            row: Some(row),
            column,
            message,
        }
    }
}

impl RowError {
    /// The whole report in `lang`, located as a spreadsheet shows it:
    /// `file.csv row 7, column email: 'an@@x' is not a valid e-mail address`.
    pub fn text(&self, lang: Lang) -> String {
        let message = self.message.text(lang);
        let row = self.row.map(|r| r.to_string());
        let mut args: Vec<(&str, &str)> = vec![("file", &self.file), ("message", &message)];
        let key = match (&row, &self.column) {
            (Some(row), Some(column)) => {
                args.extend([("row", row.as_str()), ("column", column.as_str())]);
                "list.where_cell"
            }
            (Some(row), None) => {
                args.push(("row", row));
                "list.where_row"
            }
            (None, Some(column)) => {
                args.push(("column", column));
                "list.where_column"
            }
            (None, None) => "list.where_file",
        };
        crate::i18n::tf(lang, key, &args)
    }
}

impl fmt::Display for RowError {
    /// The report in English (logs, the command line's machine output, tests).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text(Lang::En))
    }
}

/// A cell as read from a CSV file or a worksheet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cell {
    /// The text as written (untrimmed, so a leading tab stays visible to the formula check).
    pub(crate) text: String,
    /// The cell was a number in the workbook (phone numbers lose their leading zero).
    pub(crate) numeric: bool,
    /// An Excel error value (`#N/A`, `#REF!`…) instead of data.
    pub(crate) excel_error: bool,
}

impl Cell {
    /// A text cell (every CSV cell is one).
    pub(crate) fn text(text: String) -> Cell {
        Cell {
            text,
            numeric: false,
            excel_error: false,
        }
    }

    /// A worksheet cell as text: numbers without a spurious `.0`, errors flagged.
    pub(crate) fn from_data(data: &Data) -> Cell {
        match data {
            Data::Empty => Cell::text(String::new()),
            Data::String(s) => Cell::text(s.clone()),
            Data::Int(i) => Cell {
                numeric: true,
                ..Cell::text(i.to_string())
            },
            // Excel stores typed numbers as floats; 84912345678 must read back as
            // "84912345678", not "84912345678.0" or "8.4912345678e10".
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Cell {
                numeric: true,
                ..Cell::text(format!("{}", *f as i64))
            },
            Data::Float(f) => Cell {
                numeric: true,
                ..Cell::text(f.to_string())
            },
            // A date typed into Excel (an XLSX export's date answers) reads as the date a
            // person sees, `2025-03-02`, not as Excel's serial number.
            Data::DateTime(d) if d.is_datetime() => {
                let (y, mo, day, h, mi, s, _) = d.to_ymd_hms_milli();
                Cell::text(if (h, mi, s) == (0, 0, 0) {
                    format!("{y:04}-{mo:02}-{day:02}")
                } else {
                    format!("{y:04}-{mo:02}-{day:02}T{h:02}:{mi:02}:{s:02}")
                })
            }
            Data::Error(e) => Cell {
                excel_error: true,
                ..Cell::text(e.to_string())
            },
            other => Cell::text(other.to_string()),
        }
    }

    /// True for an empty or all-space cell; an Excel error is a value, not a blank.
    pub(crate) fn is_blank(&self) -> bool {
        !self.excel_error && self.text.trim().is_empty()
    }
}

/// One row of a CSV file or worksheet with the row number a spreadsheet shows for it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// 1-based row number.
    pub(crate) row: u32,
    /// The cells in column order.
    pub(crate) cells: Vec<Cell>,
}

impl Row {
    /// True when every cell is blank: such rows are skipped.
    pub(crate) fn is_blank(&self) -> bool {
        self.cells.iter().all(Cell::is_blank)
    }

    /// The trimmed text of the cell at `index` (empty when the row is shorter).
    pub(crate) fn trimmed(&self, index: usize) -> &str {
        self.cells.get(index).map_or("", |c| c.text.trim())
    }
}

/// The text without a leading UTF-8 byte-order mark (Excel's "CSV UTF-8" writes one).
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{FEFF}').unwrap_or(text)
}

/// The file as text without a BOM, or an error naming where it stops being UTF-8.
pub(crate) fn decode_utf8<'a>(bytes: &'a [u8], file: &str) -> Result<&'a str, RowError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(strip_bom(text)),
        Err(e) => {
            let offset = e.valid_up_to();
            let line = u32::try_from(line_of_byte(bytes, offset)).unwrap_or(u32::MAX);
            Err(RowError::at(
                file,
                line,
                None,
                msg("list.not_utf8", &[("offset", &offset.to_string())]),
            ))
        }
    }
}

/// The field separator: `,` unless the first line has more `;` (Excel under a Vietnamese or
/// European locale) or tabs.
fn sniff_delimiter(text: &str) -> char {
    let first_line = text.lines().next().unwrap_or("");
    let count = |d: char| first_line.chars().filter(|&c| c == d).count();
    let (commas, semicolons, tabs) = (count(','), count(';'), count('\t'));
    if semicolons > commas && semicolons >= tabs {
        ';'
    } else if tabs > commas && tabs > semicolons {
        '\t'
    } else {
        ','
    }
}

/// Splits CSV text (RFC 4180: `"` quotes, `""` escapes, `\n`/`\r\n`/`\r` ends a record)
/// into rows numbered as a spreadsheet numbers them: every line, blank or not, is a row and
/// a quoted multi-line cell stays in one row. Written here rather than with the `csv` crate,
/// which skips blank lines without counting them and so cannot number rows this way.
/// Stops with an error after `max_rows` non-blank rows (the header included) or at an
/// unterminated quote.
pub(crate) fn split_csv(text: &str, max_rows: usize) -> Result<Vec<Row>, (u32, Localized)> {
    let delimiter = sniff_delimiter(text);
    let mut rows: Vec<Row> = Vec::new();
    let mut non_blank = 0usize;
    let mut row_no: u32 = 1;
    let mut quote_row: u32 = 1;
    let mut cells: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut field_start = true;
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field_start => {
                in_quotes = true;
                field_start = false;
                quote_row = row_no;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                cells.push(std::mem::take(&mut field));
                let row = Row {
                    row: row_no,
                    cells: std::mem::take(&mut cells)
                        .into_iter()
                        .map(Cell::text)
                        .collect(),
                };
                if !row.is_blank() {
                    non_blank += 1;
                    if non_blank > max_rows {
                        return Err((row_no, too_many_rows(max_rows)));
                    }
                }
                rows.push(row);
                row_no = row_no.saturating_add(1);
                field_start = true;
            }
            d if d == delimiter => {
                cells.push(std::mem::take(&mut field));
                field_start = true;
            }
            other => {
                field.push(other);
                field_start = false;
            }
        }
    }
    if in_quotes {
        return Err((quote_row, msg("list.unclosed_quote", &[])));
    }
    // The last record when the text does not end with a line break.
    if !field_start || !field.is_empty() || !cells.is_empty() {
        cells.push(field);
        let row = Row {
            row: row_no,
            cells: cells.into_iter().map(Cell::text).collect(),
        };
        if !row.is_blank() && non_blank >= max_rows {
            return Err((row_no, too_many_rows(max_rows)));
        }
        rows.push(row);
    }
    Ok(rows)
}

fn too_many_rows(max_rows: usize) -> Localized {
    msg(
        "list.too_many_rows",
        &[("max", &max_rows.saturating_sub(1).to_string())],
    )
}

// ---------------------------------------------------------------------------------------------
// Reading a file into rows
// ---------------------------------------------------------------------------------------------

/// The rows of a CSV file of at most `max_bytes` and `max_rows` rows after the header, blank
/// rows included (so callers can skip them while keeping spreadsheet row numbers).
pub(crate) fn read_csv(
    bytes: &[u8],
    file: &str,
    max_bytes: usize,
    max_rows: usize,
) -> Result<Vec<Row>, Vec<RowError>> {
    if bytes.len() > max_bytes {
        return Err(vec![RowError::file(
            file,
            msg(
                "list.too_large",
                &[
                    ("size", &bytes.len().to_string()),
                    ("limit", &max_bytes.to_string()),
                ],
            ),
        )]);
    }
    let text = decode_utf8(bytes, file).map_err(|e| vec![e])?;
    split_csv(text, max_rows.saturating_add(1))
        .map_err(|(row, message)| vec![RowError::at(file, row, None, message)])
}

/// A refused workbook as a row error: located at its cell when the problem is one.
fn workbook_error(file: &str, error: WorkbookError) -> RowError {
    match error {
        WorkbookError::Cell {
            sheet,
            row,
            column,
            problem,
        } => RowError::at(
            file,
            row,
            Some(column),
            msg(
                "list.workbook_cell",
                &[("sheet", &sheet), ("problem", &problem.to_string())],
            ),
        ),
        other => RowError::file(
            file,
            msg("list.workbook", &[("problem", &other.to_string())]),
        ),
    }
}

/// The non-blank rows of a workbook's first sheet, within `limits`; more than `max_rows` rows
/// after the header is refused with the message `too_many` (its `{max}` is `max_rows`).
pub(crate) fn read_first_sheet(
    bytes: &[u8],
    file: &str,
    limits: Limits,
    max_rows: usize,
    too_many: &'static str,
) -> Result<Vec<Row>, RowError> {
    let refused = |e| workbook_error(file, e);
    let mut workbook = Workbook::open(bytes, limits).map_err(refused)?;
    let Some(name) = workbook.sheet_names().first().cloned() else {
        return Err(RowError::file(file, msg("list.no_worksheet", &[])));
    };
    let mut rows = Vec::new();
    for row in workbook.read_sheet(&name).map_err(refused)? {
        let cells: Vec<Cell> = row.cells.iter().map(Cell::from_data).collect();
        if cells.iter().all(Cell::is_blank) {
            continue;
        }
        if rows.len() > max_rows {
            return Err(RowError::file(
                file,
                msg(too_many, &[("max", &max_rows.to_string())]),
            ));
        }
        rows.push(Row {
            row: row.number,
            cells,
        });
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// Checking the cells of one row
// ---------------------------------------------------------------------------------------------

/// Reads the cells of one row by column name, checking each with [`check_cell`] and recording
/// every problem in `errors`, located at the row and the column's header as written.
pub(crate) struct RowCells<'a> {
    row: &'a Row,
    columns: &'a ColumnMap,
    file: &'a str,
    errors: &'a mut Vec<RowError>,
    /// A leading `+`/`-` before a number-like value is accepted (see [`formula_like`]).
    signed_numbers_allowed: bool,
}

impl<'a> RowCells<'a> {
    /// The checker for `row`; `signed_numbers_allowed` as in [`formula_like`].
    pub(crate) fn new(
        row: &'a Row,
        columns: &'a ColumnMap,
        file: &'a str,
        errors: &'a mut Vec<RowError>,
        signed_numbers_allowed: bool,
    ) -> Self {
        RowCells {
            row,
            columns,
            file,
            errors,
            signed_numbers_allowed,
        }
    }

    /// Records a problem with canonical column `column` of this row.
    pub(crate) fn error(&mut self, column: &str, message: Localized) {
        self.errors.push(RowError::at(
            self.file,
            self.row.row,
            self.columns.header_of(column),
            message,
        ));
    }

    /// Records a problem with this row as a whole.
    pub(crate) fn row_error(&mut self, message: Localized) {
        self.errors
            .push(RowError::at(self.file, self.row.row, None, message));
    }

    /// The cell of canonical column `column`, when the file has the column and the row
    /// reaches it.
    pub(crate) fn cell(&self, column: &str) -> Option<&'a Cell> {
        let row = self.row;
        self.columns.index_of(column).and_then(|i| row.cells.get(i))
    }

    /// The trimmed text of a column without any check (empty when absent).
    pub(crate) fn raw(&self, column: &str) -> &'a str {
        self.cell(column).map_or("", |c| c.text.trim())
    }

    /// The checked, trimmed value (`Some("")` when blank or the column is absent), or `None`
    /// after recording why the cell is unacceptable.
    pub(crate) fn value(&mut self, column: &str, max_chars: usize) -> Option<String> {
        let Some(cell) = self.cell(column) else {
            return Some(String::new());
        };
        if cell.excel_error {
            let message = msg("list.excel_error", &[("value", &shown(&cell.text))]);
            self.error(column, message);
            return None;
        }
        match check_cell(&cell.text, max_chars, self.signed_numbers_allowed) {
            Ok(v) => Some(v),
            Err(message) => {
                self.error(column, message);
                None
            }
        }
    }

    /// The checked value when it is not blank; a blank required value is recorded as
    /// "{column} is required".
    pub(crate) fn text(
        &mut self,
        column: &str,
        max_chars: usize,
        required: bool,
    ) -> Option<String> {
        let value = self.value(column, max_chars)?;
        if value.is_empty() {
            if required {
                self.error(column, msg("list.required", &[("column", column)]));
            }
            return None;
        }
        Some(value)
    }

    /// Records values found under a blank header cell or beyond the header.
    pub(crate) fn unheaded_values(&mut self) {
        for (i, cell) in self.row.cells.iter().enumerate() {
            if !self.columns.is_headed(i) && !cell.is_blank() {
                self.errors.push(RowError::at(
                    self.file,
                    self.row.row,
                    Some(column_letters(i)),
                    msg("list.unheaded", &[]),
                ));
            }
        }
    }
}

/// Where each known column is in a file, and which columns have no header.
#[derive(Debug, Clone, Default)]
pub(crate) struct ColumnMap {
    /// Canonical column name → (index, header as written).
    found: Vec<(&'static str, usize, String)>,
    /// Indexes of columns with a blank header.
    unheaded: Vec<usize>,
    /// Number of cells in the header row.
    header_len: usize,
}

impl ColumnMap {
    /// False for a column with a blank header cell or beyond the header's last cell: a value
    /// there belongs to no column and would otherwise be dropped without a word.
    pub(crate) fn is_headed(&self, index: usize) -> bool {
        index < self.header_len && !self.unheaded.contains(&index)
    }

    /// Where the canonical column `name` is, if the file has it.
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.found.iter().find(|f| f.0 == name).map(|f| f.1)
    }

    /// The header of canonical column `name` as written in the file (the canonical name when
    /// the file lacks the column), for messages.
    pub(crate) fn header_of(&self, name: &str) -> Option<String> {
        self.found
            .iter()
            .find(|f| f.0 == name)
            .map(|f| f.2.clone())
            .or_else(|| Some(name.to_owned()))
    }

    /// True when the file has the canonical column `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.index_of(name).is_some()
    }
}

/// Maps a header row onto `columns` (canonical name, required). Header cells match a
/// canonical name or an alias (`aliases`: normalised alias → canonical name) after
/// [`header_key`]; `ignored` keys are accepted and skipped. Unknown, repeated and missing
/// columns are all reported.
pub(crate) fn map_header_with(
    header: &Row,
    file: &str,
    columns: &[(&'static str, bool)],
    aliases: &[(&str, &'static str)],
    ignored: &[&str],
) -> Result<ColumnMap, Vec<RowError>> {
    let mut map = ColumnMap {
        header_len: header.cells.len(),
        ..ColumnMap::default()
    };
    let mut errors = Vec::new();
    for (i, cell) in header.cells.iter().enumerate() {
        let written = cell.text.trim();
        if written.is_empty() {
            map.unheaded.push(i);
            continue;
        }
        let key = header_key(written);
        if ignored.contains(&key.as_str()) {
            continue;
        }
        let canonical = columns
            .iter()
            .map(|c| c.0)
            .find(|&c| c == key)
            .or_else(|| aliases.iter().find(|a| a.0 == key).map(|a| a.1));
        match canonical {
            Some(name) if map.has(name) => errors.push(RowError::at(
                file,
                header.row,
                Some(shown(written)),
                msg("list.column_twice", &[("name", name)]),
            )),
            Some(name) => map.found.push((name, i, shown(written))),
            None => errors.push(RowError::at(
                file,
                header.row,
                Some(shown(written)),
                msg(
                    "list.unknown_column",
                    &[(
                        "columns",
                        &columns.iter().map(|c| c.0).collect::<Vec<_>>().join(", "),
                    )],
                ),
            )),
        }
    }
    for (name, required) in columns {
        if *required && !map.has(name) {
            errors.push(RowError::at(
                file,
                header.row,
                None,
                msg("list.missing_column", &[("name", name)]),
            ));
        }
    }
    if errors.is_empty() {
        Ok(map)
    } else {
        Err(errors)
    }
}

/// [`map_header_with`] without aliases.
pub(crate) fn map_header(
    header: &Row,
    file: &str,
    columns: &[(&'static str, bool)],
    ignored: &[&str],
) -> Result<ColumnMap, Vec<RowError>> {
    map_header_with(header, file, columns, &[], ignored)
}

/// True when a spreadsheet program would take the cell for a formula: it starts with `=`,
/// `@`, `+` or `-` (after trimming), or with a tab or carriage return (before trimming; both
/// are used to smuggle formulas past naive checks). When `signed_numbers_allowed`, a leading
/// `+`/`-` followed only by a phone-number shape (`+84 912 345 678`, `-1`) passes: digits,
/// spaces and `.()-`, starting with a digit; so does a lone `-` or `+`, which a spreadsheet
/// keeps as text. `-2+3+cmd|…` still fails on its letters and `+`.
pub(crate) fn formula_like(raw: &str, signed_numbers_allowed: bool) -> bool {
    if raw.starts_with(['\t', '\r']) {
        return true;
    }
    let value = raw.trim();
    let mut chars = value.chars();
    match chars.next() {
        Some('=' | '@') => true,
        Some('+' | '-') => {
            let rest = chars.as_str();
            // A lone sign is text to a spreadsheet (and a common "none" placeholder).
            !(signed_numbers_allowed
                && (rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_digit()))
                && rest
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '(' | ')' | '-')))
        }
        _ => false,
    }
}

/// The trimmed value of a cell, or why it is refused: formula-looking, control characters
/// (line breaks included), longer than `max_chars`.
pub(crate) fn check_cell(
    raw: &str,
    max_chars: usize,
    signed_numbers_allowed: bool,
) -> Result<String, Localized> {
    let value = raw.trim();
    if formula_like(raw, signed_numbers_allowed) {
        return Err(msg("list.formula", &[("value", &shown(value))]));
    }
    if value.chars().any(char::is_control) {
        return Err(msg("list.control", &[("value", &shown(value))]));
    }
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(msg(
            "list.too_long",
            &[
                ("chars", &chars.to_string()),
                ("max", &max_chars.to_string()),
            ],
        ));
    }
    Ok(value.to_owned())
}

/// A value as quoted in a message: at most 40 characters, control characters escaped.
pub(crate) fn shown(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == 40 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Lower case with Vietnamese diacritics removed and `đ` → `d`, for matching names typed with
/// or without accents (precomposed or combining).
pub(crate) fn fold(text: &str) -> String {
    const GROUPS: [(&str, char); 7] = [
        ("àáạảãâầấậẩẫăằắặẳẵ", 'a'),
        ("èéẹẻẽêềếệểễ", 'e'),
        ("ìíịỉĩ", 'i'),
        ("òóọỏõôồốộổỗơờớợởỡ", 'o'),
        ("ùúụủũưừứựửữ", 'u'),
        ("ỳýỵỷỹ", 'y'),
        ("đ", 'd'),
    ];
    text.chars()
        .flat_map(char::to_lowercase)
        // Combining diacritical marks (decomposed input) simply disappear.
        .filter(|c| !('\u{0300}'..='\u{036F}').contains(c))
        .map(|c| {
            GROUPS
                .iter()
                .find(|(accented, _)| accented.contains(c))
                .map_or(c, |&(_, base)| base)
        })
        .collect()
}

/// A header cell normalised for matching: folded, every run of non-alphanumerics as one `_`
/// (`Họ tên` → `ho_ten`, `E-mail` → `e_mail`, `Số điện thoại` → `so_dien_thoai`).
pub(crate) fn header_key(text: &str) -> String {
    let mut out = String::new();
    for c in fold(text.trim()).chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests;
