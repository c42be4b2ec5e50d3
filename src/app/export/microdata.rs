//! Anonymised microdata: one row per response and one column per variable, streamed to CSV or
//! to an XLSX workbook in constant memory.
//!
//! The caller turns an instrument into a list of [`Variable`]s and its responses into
//! [`Record`]s. Every export (CSV header, XLSX header, codebook, SPSS/Stata/R syntax) names the
//! columns through [`column_names`], so the names always agree.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Write;

use anyhow::{Result, ensure};
use chrono::Datelike;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};
use serde::{Deserialize, Serialize};

use super::{UTF8_BOM, safe_cell};

pub use crate::domain::instrument::{Lang, Text};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VarKind {
    /// One code of a list (single choice, battery item, yes/no).
    Categorical,
    /// One option of a multiple-choice question: `1` selected, `0` not.
    MultipleDummy,
    /// A whole number.
    Integer,
    /// A decimal number, written with `.` as the decimal point.
    Decimal,
    /// Free text.
    Text,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
}

impl VarKind {
    /// The stable name used in codebooks and the `variables` sheet.
    pub fn code(self) -> &'static str {
        match self {
            VarKind::Categorical => "categorical",
            VarKind::MultipleDummy => "multiple_dummy",
            VarKind::Integer => "integer",
            VarKind::Decimal => "decimal",
            VarKind::Text => "text",
            VarKind::Date => "date",
        }
    }
}

/// One labelled code of a variable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ValueLabel {
    /// The stored code, e.g. `"1"` or `"dk"`.
    pub value: String,
    /// What the code means.
    pub label: Text,
    /// False for "don't know" / "no answer": a missing value for analysis.
    pub valid: bool,
}

/// One column of the microdata.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Variable {
    /// Column name such as `q1_2` or `q5__opt3`; unique, mapped by [`column_names`] on output.
    pub name: String,
    /// The question code it comes from.
    pub question: String,
    /// The section code.
    pub section: String,
    /// The question text (battery: the item text).
    pub label: Text,
    /// What the column holds.
    pub kind: VarKind,
    /// Labelled codes (categorical; for multiple-choice dummies `1` = selected, `0` = not).
    pub value_labels: Vec<ValueLabel>,
    /// The scoring criterion the item feeds, e.g. `C1.2`.
    pub criterion: Option<String>,
    /// The index component the item feeds.
    pub component: Option<String>,
}

impl Variable {
    /// The codes to document and apply: the variable's own labels or, for a multiple-choice
    /// dummy without any, `0` = not selected and `1` = selected.
    pub fn effective_value_labels(&self) -> Cow<'_, [ValueLabel]> {
        if self.kind != VarKind::MultipleDummy || !self.value_labels.is_empty() {
            return Cow::Borrowed(&self.value_labels);
        }
        let label = |value: &str, vi: &str, en: &str| ValueLabel {
            value: value.to_owned(),
            label: Text::new(vi, en),
            valid: true,
        };
        Cow::Owned(vec![
            label("0", "Không chọn", "Not selected"),
            label("1", "Có chọn", "Selected"),
        ])
    }
}

/// The columns every microdata row starts with, before the variables.
pub const FIXED_COLUMNS: [&str; 7] = [
    "response_id",
    "unit",
    "unit_name",
    "region",
    "group",
    "channel",
    "submitted_date",
];

/// What each of [`FIXED_COLUMNS`] holds.
pub const FIXED_COLUMN_KINDS: [VarKind; 7] = [
    VarKind::Text,
    VarKind::Text,
    VarKind::Text,
    VarKind::Text,
    VarKind::Text,
    VarKind::Text,
    VarKind::Date,
];

/// What each of [`FIXED_COLUMNS`] holds, in Vietnamese and English (for the codebooks).
pub const FIXED_COLUMN_LABELS: [(&str, &str); 7] = [
    (
        "Mã phiếu ngẫu nhiên, không liên kết với người trả lời",
        "Random response id, not linked to the respondent",
    ),
    ("Mã đơn vị", "Unit code"),
    ("Tên đơn vị", "Unit name"),
    ("Vùng", "Region"),
    ("Nhóm người trả lời", "Respondent group"),
    ("Kênh trả lời (web hoặc giấy)", "Channel (web or paper)"),
    ("Ngày nộp phiếu", "Submission date"),
];

/// Which responses a microdata file holds. Either way the file says so: its name, its job
/// page, its codebook and its syntax files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// The responses the scores count: excluded responses are left out and the file has no
    /// status columns. The default download.
    #[default]
    AsScored,
    /// Every response, with the [`STATUS_COLUMNS`] after the identification columns: whether it
    /// was excluded, the reviewer's reason, and its data-quality flags. Keeping the rows with
    /// `excluded` = 0 gives back the "as scored" file, so exclusions can be reproduced.
    WithExclusions,
}

impl Variant {
    /// The variant asked for by an `include_excluded` switch.
    pub fn from_include_excluded(include_excluded: bool) -> Self {
        if include_excluded {
            Self::WithExclusions
        } else {
            Self::AsScored
        }
    }

    /// Whether excluded responses are in the file (and the status columns with them).
    pub fn includes_excluded(self) -> bool {
        self == Self::WithExclusions
    }

    /// The stored code: `as_scored` or `with_exclusions`.
    pub fn code(self) -> &'static str {
        match self {
            Self::AsScored => "as_scored",
            Self::WithExclusions => "with_exclusions",
        }
    }

    /// What the file holds, in both languages.
    pub fn label(self) -> Text {
        match self {
            Self::AsScored => Text::new(
                "Như khi tính điểm (không gồm phiếu bị loại)",
                "As scored (excluded responses left out)",
            ),
            Self::WithExclusions => Text::new(
                "Mọi phiếu, có đánh dấu phiếu bị loại",
                "All responses, with exclusions marked",
            ),
        }
    }

    /// A sentence for codebooks and syntax files on what the variant holds and how it relates
    /// to the other one.
    pub fn description(self) -> Text {
        match self {
            Self::AsScored => Text::new(
                "Tệp này: như khi tính điểm. Chỉ gồm các phiếu được tính điểm; phiếu bị loại \
                 không có trong tệp, và tệp không có các cột excluded, exclusion_reason, \
                 quality_flags.",
                "This file: as scored. It holds only the responses the scores count; excluded \
                 responses are left out, and the columns excluded, exclusion_reason and \
                 quality_flags are absent.",
            ),
            Self::WithExclusions => Text::new(
                "Tệp này: mọi phiếu, có đánh dấu phiếu bị loại. excluded = 1 đánh dấu phiếu bị \
                 loại khỏi điểm (exclusion_reason: lý do người rà soát ghi), quality_flags liệt \
                 kê các cờ chất lượng dữ liệu, cách nhau bằng dấu ;. Giữ các phiếu có \
                 excluded = 0 thì được đúng tệp như khi tính điểm.",
                "This file: all responses, with exclusions marked. excluded = 1 marks a response \
                 left out of the scores (exclusion_reason: the reason the reviewer entered), \
                 quality_flags lists its data-quality flags separated by ;. Keeping the \
                 responses with excluded = 0 gives exactly the file as scored.",
            ),
        }
    }

    /// Appended to a file name's stem: nothing for the default, `-with-excluded` otherwise, so
    /// the two files never overwrite each other and the syntax reads the right one.
    pub fn file_suffix(self) -> &'static str {
        match self {
            Self::AsScored => "",
            Self::WithExclusions => "-with-excluded",
        }
    }
}

/// The status columns of the [`Variant::WithExclusions`] file, right after the
/// [`FIXED_COLUMNS`]: they describe how the response was reviewed, never who gave it.
pub const STATUS_COLUMNS: [&str; 3] = ["excluded", "exclusion_reason", "quality_flags"];

/// The [`STATUS_COLUMNS`] as variables, so the data files, the codebooks and the syntax files
/// describe them like any other column: `excluded` is a labelled 0/1 code, the reason and the
/// flags are text. Their section is empty (they belong to no questionnaire section) and
/// their question is the column itself.
pub fn status_variables() -> Vec<Variable> {
    let status = |name: &str, kind, label: Text, value_labels| Variable {
        name: name.to_owned(),
        question: name.to_owned(),
        section: String::new(),
        label,
        kind,
        value_labels,
        criterion: None,
        component: None,
    };
    let code = |value: &str, vi: &str, en: &str| ValueLabel {
        value: value.to_owned(),
        label: Text::new(vi, en),
        valid: true,
    };
    vec![
        status(
            STATUS_COLUMNS[0],
            VarKind::Categorical,
            Text::new(
                "Phiếu bị loại khỏi điểm (chỉ có trong tệp mọi phiếu, có đánh dấu phiếu bị loại)",
                "Excluded from the scores (only in the file of all responses, with exclusions \
                 marked)",
            ),
            vec![
                code("0", "Được tính điểm", "Scored"),
                code("1", "Bị loại", "Excluded"),
            ],
        ),
        status(
            STATUS_COLUMNS[1],
            VarKind::Text,
            Text::new(
                "Lý do loại phiếu do người rà soát ghi (trống nếu phiếu không bị loại)",
                "Reason for the exclusion, as the reviewer entered it (blank if not excluded)",
            ),
            Vec::new(),
        ),
        status(
            STATUS_COLUMNS[2],
            VarKind::Text,
            Text::new(
                "Cờ chất lượng dữ liệu, cách nhau bằng dấu ; (speeder: trả lời quá nhanh; \
                 straightline:MÃ: chọn cùng một đáp án cho cả bộ câu hỏi MÃ); trống nếu không có",
                "Data-quality flags separated by ; (speeder: answered too fast; \
                 straightline:CODE: the same option throughout battery CODE); blank if none",
            ),
            Vec::new(),
        ),
    ]
}

/// The values of the [`STATUS_COLUMNS`] for one response: `0`/`1`, the reason (blank unless
/// excluded) and the flag codes joined with `;` (blank when there are none).
pub fn status_values(
    excluded: bool,
    reason: Option<&str>,
    flags: &[String],
) -> [Option<String>; 3] {
    [
        Some(if excluded { "1" } else { "0" }.to_owned()),
        reason
            .filter(|_| excluded)
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
        Some(flags.join(";")).filter(|f| !f.is_empty()),
    ]
}

/// One response, ready to write.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// An opaque random id, not linked to people.
    pub response_id: String,
    /// The unit's code.
    pub unit: String,
    /// The unit's name.
    pub unit_name: String,
    /// The unit's region.
    pub region: String,
    /// The respondent group's code.
    pub group: String,
    /// `web` or `paper`.
    pub channel: String,
    /// The submission date only (`YYYY-MM-DD`), coarsened on purpose.
    pub submitted_date: String,
    /// One value per variable, in the variables' order; `None` when not answered.
    pub values: Vec<Option<String>>,
}

impl Record {
    fn fixed_fields(&self) -> [&str; 7] {
        [
            &self.response_id,
            &self.unit,
            &self.unit_name,
            &self.region,
            &self.group,
            &self.channel,
            &self.submitted_date,
        ]
    }
}

// ---- variable names ------------------------------------------------------------------------------

/// The longest variable name produced (Stata's limit; SPSS allows 64 bytes).
pub const MAX_NAME_CHARS: usize = 32;

/// Words SPSS, Stata or R reserve (compared without case).
const RESERVED: [&str; 42] = [
    // SPSS
    "all",
    "and",
    "by",
    "eq",
    "ge",
    "gt",
    "le",
    "lt",
    "ne",
    "not",
    "or",
    "to",
    "with",
    // Stata (besides `with`, `str#`, checked separately)
    "byte",
    "double",
    "float",
    "if",
    "in",
    "int",
    "long",
    "strl",
    "using",
    // R
    "else",
    "repeat",
    "while",
    "function",
    "for",
    "next",
    "break",
    "true",
    "false",
    "null",
    "inf",
    "nan",
    "na",
    "na_integer_",
    "na_real_",
    "na_character_",
    "na_complex_",
    // Stata system names without their underscore are harmless; these keep them out anyway.
    "b",
    "n",
    "pi",
];

/// Whether `lower` is a command PSPP starts on a new line even inside another command:
/// `COMMENT` and `DOCUMENT`, whole or abbreviated (`comm`, `doc`). A variable of that name on its
/// own line of `GET DATA /VARIABLES=` would end the command there and be lost.
fn is_spss_line_command(lower: &str) -> bool {
    (lower.len() >= 4 && "comment".starts_with(lower))
        || (lower.len() >= 3 && "document".starts_with(lower))
}

fn is_reserved(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    RESERVED.contains(&lower.as_str())
        || is_spss_line_command(&lower)
        || lower
            .strip_prefix("str")
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
}

/// Maps `name` to one SPSS, Stata and R accept as is: ASCII letters, digits and `_`, starting
/// with a letter, at most [`MAX_NAME_CHARS`] long, not a reserved word, and not already in
/// `taken` (compared without case, as SPSS does). Records the result in `taken`.
///
/// Deterministic: the same names in the same order always map the same way. Use
/// [`column_names`] rather than calling this directly, so every export agrees.
pub fn safe_variable_name(name: &str, taken: &mut HashSet<String>) -> String {
    let mut base: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !base.starts_with(|c: char| c.is_ascii_alphabetic()) {
        base.insert(0, 'v');
    }
    if is_reserved(&base) {
        base.push('_');
    }
    base.truncate(MAX_NAME_CHARS);
    let mut candidate = base.clone();
    let mut n = 2u32;
    while is_reserved(&candidate) || taken.contains(&candidate.to_ascii_lowercase()) {
        let suffix = format!("_{n}");
        let keep = base.len().min(MAX_NAME_CHARS - suffix.len());
        candidate = format!("{}{suffix}", &base[..keep]);
        n += 1;
    }
    taken.insert(candidate.to_ascii_lowercase());
    candidate
}

/// The output names of all columns: the [`FIXED_COLUMNS`] and then one per variable, each
/// mapped by [`safe_variable_name`]. The one source of names for every export.
pub fn column_names(variables: &[Variable]) -> Vec<String> {
    let mut taken = HashSet::new();
    FIXED_COLUMNS
        .into_iter()
        .chain(variables.iter().map(|v| v.name.as_str()))
        .map(|name| safe_variable_name(name, &mut taken))
        .collect()
}

/// The output names of the variables alone (the tail of [`column_names`]).
pub fn variable_names(variables: &[Variable]) -> Vec<String> {
    let mut names = column_names(variables);
    names.split_off(FIXED_COLUMNS.len())
}

// ---- numbers -------------------------------------------------------------------------------------

/// Whether `s` is a plain decimal number: an optional `-`, digits without a leading zero (a lone
/// `0` is fine), and optionally `.` and more digits. Such a cell is written as a number; it can
/// never be read as a formula.
pub fn is_plain_number(s: &str) -> bool {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (unsigned, None),
    };
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(int) && (int == "0" || !int.starts_with('0')) && frac.is_none_or(digits)
}

/// The number a code stands for when it is a canonical whole number that fits SPSS's and
/// Stata's value labels (`"3"`, `"-1"`; not `"03"` or `"dk"`).
pub fn integer_code(code: &str) -> Option<i32> {
    code.parse::<i32>().ok().filter(|n| n.to_string() == code)
}

// ---- CSV -----------------------------------------------------------------------------------------

/// The decimal separator written in decimal columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decimal {
    /// `3.5`
    #[default]
    Point,
    /// `3,5` (European Excel); needs a delimiter other than `,`.
    Comma,
}

/// How a CSV file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CsvOptions {
    /// Start with a UTF-8 byte-order mark, so Excel reads Vietnamese correctly.
    pub bom: bool,
    /// The decimal separator of decimal columns (no other column is changed).
    pub decimal: Decimal,
    /// The field separator.
    pub delimiter: u8,
}

impl CsvOptions {
    /// Options for `decimal` with a BOM and the matching delimiter: `,` for a decimal point,
    /// `;` for a decimal comma (the European Excel convention).
    pub fn new(decimal: Decimal) -> Self {
        let delimiter = match decimal {
            Decimal::Point => b',',
            Decimal::Comma => b';',
        };
        Self {
            bom: true,
            decimal,
            delimiter,
        }
    }

    /// Checks the options can produce a readable file: a decimal comma needs another delimiter
    /// than `,`, and the delimiter must be an ASCII separator (not a letter, digit, quote, line
    /// break, `.`, `-`, `+` or `\`).
    pub fn validate(&self) -> Result<()> {
        let d = self.delimiter;
        ensure!(
            !(self.decimal == Decimal::Comma && d == b','),
            "a decimal comma cannot be used with ',' as the delimiter; use ';'"
        );
        ensure!(
            d.is_ascii() && !d.is_ascii_alphanumeric() && !b"\"'\n\r.-+\\".contains(&d),
            "{:?} cannot be used as the CSV delimiter",
            char::from(d)
        );
        Ok(())
    }
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self::new(Decimal::Point)
    }
}

/// A `csv` writer for `opts`, after checking them and writing the BOM if asked for.
pub(crate) fn csv_writer<W: Write>(mut writer: W, opts: &CsvOptions) -> Result<csv::Writer<W>> {
    opts.validate()?;
    if opts.bom {
        writer.write_all(UTF8_BOM)?;
    }
    Ok(csv::WriterBuilder::new()
        .delimiter(opts.delimiter)
        .from_writer(writer))
}

/// How a column's cells are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    /// Always text.
    Text,
    /// A number when the cell is a plain number, text otherwise.
    Number,
    /// Like `Number`, and the decimal separator follows [`CsvOptions::decimal`].
    Decimal,
    /// A `YYYY-MM-DD` date: text in CSV, a date cell in XLSX.
    Date,
}

/// One cell, classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell<'a> {
    Empty,
    /// A plain number (with `.`); `true` in a decimal column.
    Number(&'a str, bool),
    Text(&'a str),
    /// A value of a date column.
    Date(&'a str),
}

/// The column types of a microdata file, in output order.
struct Layout {
    columns: Vec<Column>,
}

impl Layout {
    fn new(variables: &[Variable]) -> Self {
        let column = |kind: VarKind| match kind {
            VarKind::Categorical | VarKind::MultipleDummy | VarKind::Integer => Column::Number,
            VarKind::Decimal => Column::Decimal,
            VarKind::Text => Column::Text,
            VarKind::Date => Column::Date,
        };
        let fixed = FIXED_COLUMN_KINDS.iter().map(|kind| column(*kind));
        let vars = variables.iter().map(|v| column(v.kind));
        Self {
            columns: fixed.chain(vars).collect(),
        }
    }

    /// The cells of `rec`, or an error (before any cell) when it has the wrong number of values.
    fn cells<'r>(&'r self, rec: &'r Record) -> Result<impl Iterator<Item = Cell<'r>> + 'r> {
        let expected = self.columns.len() - FIXED_COLUMNS.len();
        ensure!(
            rec.values.len() == expected,
            "response {} has {} values for {expected} variables",
            rec.response_id,
            rec.values.len()
        );
        let fixed = rec.fixed_fields().into_iter().map(Some);
        let values = rec.values.iter().map(Option::as_deref);
        Ok(fixed
            .chain(values)
            .zip(&self.columns)
            .map(|(value, column)| match value {
                None | Some("") => Cell::Empty,
                Some(v) if *column == Column::Date => Cell::Date(v),
                Some(v)
                    if matches!(column, Column::Number | Column::Decimal) && is_plain_number(v) =>
                {
                    Cell::Number(v, *column == Column::Decimal)
                }
                Some(v) => Cell::Text(v),
            }))
    }
}

/// What [`MicrodataCsv::finish`] hands back.
#[derive(Debug)]
pub struct CsvFinished<W> {
    /// The underlying writer, flushed.
    pub writer: W,
    /// How many responses were written.
    pub rows: u64,
    /// The longest cell of each column in bytes (as written), in [`column_names`] order; pass it
    /// to `SyntaxOptions::max_bytes` so SPSS string widths fit the data.
    pub max_bytes: Vec<usize>,
}

/// A streaming microdata CSV writer: the header on creation, then one row per [`write`](Self::write).
/// Memory use does not grow with the number of rows.
///
/// Text cells (free text, names, codes) that a spreadsheet would run as a formula are
/// neutralised with [`safe_cell`]; plain numbers in numeric columns are written as they are, so
/// `-3` stays a number.
pub struct MicrodataCsv<W: Write> {
    out: csv::Writer<W>,
    layout: Layout,
    comma: bool,
    flatten: bool,
    rows: u64,
    max_bytes: Vec<usize>,
}

impl<W: Write> MicrodataCsv<W> {
    /// Checks `opts`, writes the BOM (if asked for) and the header row.
    pub fn new(writer: W, variables: &[Variable], opts: &CsvOptions) -> Result<Self> {
        let mut out = csv_writer(writer, opts)?;
        let names = column_names(variables);
        out.write_record(&names)?;
        Ok(Self {
            out,
            layout: Layout::new(variables),
            comma: opts.decimal == Decimal::Comma,
            flatten: false,
            rows: 0,
            max_bytes: vec![0; names.len()],
        })
    }

    /// Replaces line breaks inside text cells with spaces. Off by default (the `csv` crate and R
    /// read quoted line breaks fine), but SPSS's and PSPP's `GET DATA /TYPE=TXT` read one case
    /// per line and split a case at a quoted line break, so the export job turns it on: one file
    /// then serves every reader.
    pub fn flatten_line_breaks(mut self, on: bool) -> Self {
        self.flatten = on;
        self
    }

    /// Writes one response; fails without writing anything if its values do not match the
    /// variables.
    pub fn write(&mut self, rec: &Record) -> Result<()> {
        for (i, cell) in self.layout.cells(rec)?.enumerate() {
            let text = match cell {
                Cell::Empty => Cow::Borrowed(""),
                Cell::Number(v, true) if self.comma => Cow::Owned(v.replace('.', ",")),
                Cell::Number(v, _) => Cow::Borrowed(v),
                Cell::Text(v) if self.flatten && v.contains(['\r', '\n']) => {
                    let flat = v.replace("\r\n", " ").replace(['\r', '\n'], " ");
                    Cow::Owned(safe_cell(&flat).into_owned())
                }
                Cell::Text(v) | Cell::Date(v) => safe_cell(v),
            };
            if let Some(max) = self.max_bytes.get_mut(i) {
                *max = (*max).max(text.len());
            }
            self.out.write_field(text.as_bytes())?;
        }
        self.out.write_record(None::<&[u8]>)?;
        self.rows += 1;
        Ok(())
    }

    /// Flushes and returns the writer with what was written.
    pub fn finish(self) -> Result<CsvFinished<W>> {
        let writer = self.out.into_inner().map_err(|e| e.into_error())?;
        Ok(CsvFinished {
            writer,
            rows: self.rows,
            max_bytes: self.max_bytes,
        })
    }
}

// ---- XLSX ----------------------------------------------------------------------------------------

/// Excel's row limit (the header takes one row).
pub const XLSX_MAX_ROWS: u32 = 1_048_576;
/// Excel's column limit.
pub const XLSX_MAX_COLUMNS: usize = 16_384;
/// Excel's cell text limit, in UTF-16 code units.
pub const XLSX_MAX_CELL_CHARS: usize = 32_767;
/// Ends a text that was cut to fit [`XLSX_MAX_CELL_CHARS`].
pub const XLSX_TRUNCATION_MARKER: &str = " …[đã cắt bớt / truncated]";
/// Largest count of significant digits written as an XLSX number (Excel keeps 15).
const XLSX_NUMBER_DIGITS: usize = 15;

/// `text` cut to Excel's cell limit, with [`XLSX_TRUNCATION_MARKER`] when it was cut.
fn xlsx_text(text: &str) -> Cow<'_, str> {
    // UTF-8 never takes fewer bytes than UTF-16 takes code units, so short texts fit.
    if text.len() <= XLSX_MAX_CELL_CHARS || text.encode_utf16().count() <= XLSX_MAX_CELL_CHARS {
        return Cow::Borrowed(text);
    }
    let budget = XLSX_MAX_CELL_CHARS - XLSX_TRUNCATION_MARKER.encode_utf16().count();
    let mut used = 0;
    let end = text
        .char_indices()
        .find(|(_, c)| {
            used += c.len_utf16();
            used > budget
        })
        .map_or(text.len(), |(i, _)| i);
    Cow::Owned(format!("{}{XLSX_TRUNCATION_MARKER}", &text[..end]))
}

/// A `YYYY-MM-DD` text as an Excel date, or `None` when it is not a date Excel can hold.
fn excel_date(text: &str) -> Option<ExcelDateTime> {
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    let year = u16::try_from(date.year()).ok()?;
    let month = u8::try_from(date.month()).ok()?;
    let day = u8::try_from(date.day()).ok()?;
    ExcelDateTime::from_ymd(year, month, day).ok()
}

fn write_header(sheet: &mut Worksheet, names: &[&str], bold: &Format) -> Result<()> {
    for (col, name) in (0u16..).zip(names) {
        sheet.write_string_with_format(0, col, *name, bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// A streaming microdata XLSX writer: sheet `data` (bold, frozen header; numbers as numbers,
/// text always as strings, never formulas) written row by row in rust_xlsxwriter's
/// constant-memory mode (rows go to a temporary file), and sheet `variables` (name, labels,
/// kind). The workbook is assembled by [`finish`](Self::finish).
pub struct MicrodataXlsx {
    workbook: Workbook,
    layout: Layout,
    date: Format,
    next_row: u32,
    row_limit: u32,
}

impl MicrodataXlsx {
    /// Starts the workbook: both sheets and the header row of `data`.
    pub fn new(variables: &[Variable]) -> Result<Self> {
        let names = column_names(variables);
        ensure!(
            names.len() <= XLSX_MAX_COLUMNS,
            "{} columns do not fit an Excel sheet (at most {XLSX_MAX_COLUMNS}); export as CSV",
            names.len()
        );
        let bold = Format::new().set_bold();
        let mut workbook = Workbook::new();

        let data = workbook.add_worksheet_with_constant_memory()?;
        data.set_name("data")?;
        let header: Vec<&str> = names.iter().map(String::as_str).collect();
        write_header(data, &header, &bold)?;

        let sheet = workbook.add_worksheet();
        sheet.set_name("variables")?;
        write_header(sheet, &["name", "label_vi", "label_en", "kind"], &bold)?;
        let fixed = FIXED_COLUMN_KINDS.iter().map(|kind| ("", "", *kind));
        let vars = variables
            .iter()
            .map(|v| (v.label.vi.as_str(), v.label.en.as_str(), v.kind));
        for (row, (name, (vi, en, kind))) in (1u32..).zip(names.iter().zip(fixed.chain(vars))) {
            sheet.write_string(row, 0, name)?;
            sheet.write_string(row, 1, xlsx_text(vi))?;
            sheet.write_string(row, 2, xlsx_text(en))?;
            sheet.write_string(row, 3, kind.code())?;
        }

        Ok(Self {
            workbook,
            layout: Layout::new(variables),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            next_row: 1,
            row_limit: XLSX_MAX_ROWS,
        })
    }

    /// Writes one response to `data`; fails if it would pass Excel's row limit or its values do
    /// not match the variables.
    pub fn write(&mut self, rec: &Record) -> Result<()> {
        let row = self.next_row;
        ensure!(
            row < self.row_limit,
            "an Excel sheet holds at most {} responses (1,048,576 rows with the header); \
             export as CSV instead",
            self.row_limit - 1
        );
        let cells = self.layout.cells(rec)?;
        let sheet = self.workbook.worksheet_from_index(0)?;
        for (col, cell) in (0u16..).zip(cells) {
            match cell {
                Cell::Empty => {}
                Cell::Number(v, _) => {
                    let digits = v.bytes().filter(u8::is_ascii_digit).count();
                    match v.parse::<f64>() {
                        Ok(n) if digits <= XLSX_NUMBER_DIGITS => sheet.write_number(row, col, n)?,
                        _ => sheet.write_string(row, col, v)?,
                    };
                }
                Cell::Text(v) => {
                    sheet.write_string(row, col, xlsx_text(v))?;
                }
                Cell::Date(v) => match excel_date(v) {
                    Some(date) => {
                        sheet.write_date_with_format(row, col, &date, &self.date)?;
                    }
                    None => {
                        sheet.write_string(row, col, xlsx_text(v))?;
                    }
                },
            }
        }
        self.next_row += 1;
        Ok(())
    }

    /// Assembles the workbook into `writer`; returns how many responses it holds.
    pub fn finish<W: Write + Send>(mut self, writer: W) -> Result<u32> {
        self.workbook.save_to_writer(writer)?;
        Ok(self.next_row - 1)
    }
}

/// Sample variables and records shared by the export tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// A hostile text answer: line breaks, quotes, diacritics and a formula.
    pub const TRICKY_TEXT: &str = "Dòng 1\nDòng \"hai\", 'ba'; =HYPERLINK(\"http://x\")";

    fn var(name: &str, kind: VarKind, label: (&str, &str)) -> Variable {
        Variable {
            name: name.to_owned(),
            question: name.split("__").next().unwrap_or(name).to_owned(),
            section: "A".to_owned(),
            label: Text::new(label.0, label.1),
            kind,
            value_labels: Vec::new(),
            criterion: None,
            component: None,
        }
    }

    /// A valid code.
    pub fn value(value: &str, vi: &str, en: &str) -> ValueLabel {
        ValueLabel {
            value: value.to_owned(),
            label: Text::new(vi, en),
            valid: true,
        }
    }

    /// A "don't know" / "no answer" code.
    pub fn missing(value: &str, vi: &str, en: &str) -> ValueLabel {
        ValueLabel {
            valid: false,
            ..self::value(value, vi, en)
        }
    }

    /// One variable of every kind: a 1–4 scale with "dk", a yes/no, a dummy, an integer, a
    /// decimal, a text and a date.
    pub fn variables() -> Vec<Variable> {
        let mut scale = var(
            "q1",
            VarKind::Categorical,
            (
                "Chất lượng dịch vụ 'công'?",
                "Quality of \"public\" services?",
            ),
        );
        scale.value_labels = vec![
            value("1", "Rất tốt", "Very good"),
            value("2", "Tốt", "Good"),
            value("3", "Chưa tốt", "Not good"),
            value("4", "Kém", "Poor"),
            missing("dk", "Không biết", "Don't know"),
        ];
        scale.criterion = Some("C1.2".to_owned());
        scale.component = Some("PAR1".to_owned());
        let mut numeric = var("q2", VarKind::Categorical, ("Mức độ", "Level"));
        numeric.value_labels = vec![
            value("1", "Thấp", "Low"),
            value("2", "Cao", "High"),
            missing("9", "Không trả lời", "No answer"),
        ];
        let mut yes_no = var("q3", VarKind::Categorical, ("Có nộp hồ sơ?", "Applied?"));
        yes_no.value_labels = vec![
            value("yes", "Có", "Yes"),
            value("no", "Không", "No"),
            missing("dk", "Không nhớ", "Don't remember"),
        ];
        vec![
            scale,
            numeric,
            yes_no,
            var(
                "q5__opt1",
                VarKind::MultipleDummy,
                ("Kênh: Internet", "Channel: web"),
            ),
            var("q6", VarKind::Integer, ("Số lần", "Times")),
            var(
                "q7",
                VarKind::Decimal,
                ("Chi phí (triệu)", "Cost (million)"),
            ),
            var("q8", VarKind::Text, ("Góp ý", "Comments")),
            var("q9", VarKind::Date, ("Ngày nộp", "Date applied")),
        ]
    }

    /// A record whose values line up with [`variables`].
    pub fn record(id: &str, values: [Option<&str>; 8]) -> Record {
        Record {
            response_id: id.to_owned(),
            unit: "HN01".to_owned(),
            unit_name: "Sở Nội vụ Hà Nội".to_owned(),
            region: "Đồng bằng sông Hồng".to_owned(),
            group: "citizen".to_owned(),
            channel: "web".to_owned(),
            submitted_date: "2024-05-01".to_owned(),
            values: values.iter().map(|v| v.map(str::to_owned)).collect(),
        }
    }

    /// Writes `records` through [`MicrodataCsv`].
    pub fn write_csv(
        vars: &[Variable],
        records: &[Record],
        opts: &CsvOptions,
        flatten: bool,
    ) -> CsvFinished<Vec<u8>> {
        let out = MicrodataCsv::new(Vec::new(), vars, opts).unwrap();
        let mut out = out.flatten_line_breaks(flatten);
        for rec in records {
            out.write(rec).unwrap();
        }
        out.finish().unwrap()
    }

    /// Every row of a CSV file (the header included), after any BOM.
    pub fn read_csv(bytes: &[u8], delimiter: u8) -> Vec<csv::StringRecord> {
        let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
        csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .from_reader(body)
            .records()
            .map(Result::unwrap)
            .collect()
    }

    /// Three records: typical, hostile and mostly empty.
    pub fn records() -> Vec<Record> {
        vec![
            record(
                "r1",
                [
                    Some("1"),
                    Some("2"),
                    Some("yes"),
                    Some("1"),
                    Some("-3"),
                    Some("-2.5"),
                    Some(TRICKY_TEXT),
                    Some("2024-04-30"),
                ],
            ),
            record(
                "=r2",
                [
                    Some("dk"),
                    Some("9"),
                    Some("dk"),
                    Some("0"),
                    Some("12"),
                    Some("1234.75"),
                    Some("-5"),
                    None,
                ],
            ),
            record("r3", [None; 8]),
        ]
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};

    use super::fixtures::*;
    use super::*;

    fn csv_bytes(opts: &CsvOptions) -> Vec<u8> {
        write_csv(&variables(), &records(), opts, false).writer
    }

    /// The CSV cell a lone text answer `text` turns into.
    fn text_cell(text: &str, flatten: bool) -> (String, Vec<u8>) {
        let mut values = [None; 8];
        values[6] = Some(text);
        let recs = [record("r1", values)];
        let bytes = write_csv(&variables(), &recs, &CsvOptions::default(), flatten).writer;
        (read_csv(&bytes, b',')[1][13].to_owned(), bytes)
    }

    fn xlsx_data(variables: &[Variable], records: &[Record]) -> (Vec<Vec<Data>>, Vec<Vec<Data>>) {
        let mut xlsx = MicrodataXlsx::new(variables).unwrap();
        for rec in records {
            xlsx.write(rec).unwrap();
        }
        let mut bytes = Vec::new();
        assert_eq!(xlsx.finish(&mut bytes).unwrap() as usize, records.len());
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        let mut sheet = |name: &str| -> Vec<Vec<Data>> {
            let range = book.worksheet_range(name).unwrap();
            range.rows().map(<[Data]>::to_vec).collect()
        };
        (sheet("data"), sheet("variables"))
    }

    #[test]
    fn csv_reads_back_with_text_intact_and_formulas_neutralised() {
        let bytes = csv_bytes(&CsvOptions::default());
        assert!(bytes.starts_with(UTF8_BOM));
        let rows = read_csv(&bytes, b',');
        assert_eq!(rows.len(), 4);
        let header: Vec<&str> = rows[0].iter().collect();
        assert_eq!(&header[..7], &FIXED_COLUMNS);
        assert_eq!(&header[7..], &variable_names(&variables()));

        let r1 = &rows[1];
        assert_eq!(&r1[5], "web");
        assert_eq!(&r1[2], "Sở Nội vụ Hà Nội");
        assert_eq!(&r1[7], "1");
        assert_eq!(&r1[11], "-3", "a negative integer stays a number");
        assert_eq!(&r1[12], "-2.5");
        assert_eq!(
            &r1[13], TRICKY_TEXT,
            "newlines, quotes and diacritics survive"
        );
        assert_eq!(&r1[14], "2024-04-30");

        let r2 = &rows[2];
        assert_eq!(&r2[0], "'=r2", "a formula-looking id is neutralised");
        assert_eq!(&r2[7], "dk");
        assert_eq!(
            &r2[13], "'-5",
            "a text answer looking like a formula is neutralised"
        );
        assert_eq!(&r2[14], "");

        assert!(rows[3].iter().skip(7).all(str::is_empty));
    }

    #[test]
    fn a_hyperlink_formula_in_a_text_answer_gets_an_apostrophe() {
        let (cell, _) = text_cell("=HYPERLINK(\"http://evil\",\"bấm\")", false);
        assert_eq!(cell, "'=HYPERLINK(\"http://evil\",\"bấm\")");
    }

    #[test]
    fn line_breaks_in_text_can_be_flattened_for_spss() {
        let (cell, bytes) = text_cell("một\r\nhai\nba\rbốn", true);
        assert_eq!(cell, "một hai ba bốn");
        assert_eq!(
            bytes.iter().filter(|b| **b == b'\n').count(),
            2,
            "header and one row"
        );
    }

    #[test]
    fn decimal_comma_output_uses_semicolons_and_parses_back() {
        let opts = CsvOptions::new(Decimal::Comma);
        assert_eq!(opts.delimiter, b';');
        let bytes = csv_bytes(&opts);
        let rows = read_csv(&bytes, b';');
        assert_eq!(&rows[1][12], "-2,5");
        assert_eq!(&rows[2][12], "1234,75");
        let parsed: f64 = rows[2][12].replace(',', ".").parse().unwrap();
        assert!((parsed - 1234.75).abs() < 1e-9);
        assert_eq!(&rows[1][11], "-3", "integers are untouched");
        assert_eq!(&rows[1][13], TRICKY_TEXT, "text is untouched");
    }

    #[test]
    fn a_decimal_comma_with_a_comma_delimiter_is_rejected() {
        let opts = CsvOptions {
            bom: true,
            decimal: Decimal::Comma,
            delimiter: b',',
        };
        let err = MicrodataCsv::new(Vec::new(), &variables(), &opts)
            .err()
            .unwrap();
        assert!(err.to_string().contains("';'"), "{err}");
        let quote = CsvOptions {
            delimiter: b'"',
            ..CsvOptions::default()
        };
        assert!(quote.validate().is_err());
        let tab = CsvOptions {
            delimiter: b'\t',
            ..CsvOptions::default()
        };
        assert!(tab.validate().is_ok());
    }

    #[test]
    fn a_record_with_the_wrong_number_of_values_is_rejected_before_anything_is_written() {
        let vars = variables();
        let mut out = MicrodataCsv::new(Vec::new(), &vars, &CsvOptions::default()).unwrap();
        let mut rec = record("r1", [None; 8]);
        rec.values.pop();
        let err = out.write(&rec).unwrap_err();
        assert!(
            err.to_string().contains("7 values for 8 variables"),
            "{err}"
        );
        let finished = out.finish().unwrap();
        assert_eq!(finished.rows, 0);
        assert_eq!(read_csv(&finished.writer, b',').len(), 1);
    }

    #[test]
    fn the_csv_writer_reports_the_longest_cell_of_each_column() {
        let finished = write_csv(&variables(), &records(), &CsvOptions::default(), false);
        assert_eq!(finished.rows, 3);
        assert_eq!(finished.max_bytes.len(), 15);
        assert_eq!(finished.max_bytes[0], "'=r2".len());
        assert_eq!(finished.max_bytes[13], TRICKY_TEXT.len());
    }

    #[test]
    fn two_hundred_thousand_rows_stream_through_the_csv_writer() {
        let vars = variables();
        let mut out = MicrodataCsv::new(std::io::sink(), &vars, &CsvOptions::default()).unwrap();
        let mut rec = records().remove(0);
        for i in 0..200_000u32 {
            rec.response_id = format!("r{i}");
            rec.values[4] = Some(i.to_string());
            out.write(&rec).unwrap();
        }
        let finished = out.finish().unwrap();
        assert_eq!(finished.rows, 200_000);
        assert_eq!(finished.max_bytes[11], "199999".len());
    }

    #[test]
    fn xlsx_reads_back_with_numbers_as_numbers_and_text_as_text() {
        let vars = variables();
        let (data, sheet) = xlsx_data(&vars, &records());
        let header: Vec<String> = data[0].iter().map(ToString::to_string).collect();
        assert_eq!(header, column_names(&vars));

        let r1 = &data[1];
        assert_eq!(r1[2], Data::String("Sở Nội vụ Hà Nội".to_owned()));
        assert_eq!(r1[7], Data::Float(1.0), "a numeric code is a number");
        assert_eq!(r1[9], Data::String("yes".to_owned()));
        assert_eq!(r1[10], Data::Float(1.0), "a dummy is a number");
        assert_eq!(r1[11], Data::Float(-3.0));
        assert_eq!(r1[12], Data::Float(-2.5));
        assert_eq!(r1[13], Data::String(TRICKY_TEXT.to_owned()));
        // 2024-04-30 is day 45412 of Excel's calendar; dates are date cells, not text.
        assert!(
            matches!(&r1[14], Data::DateTime(d) if d.as_f64() == 45412.0),
            "{:?}",
            r1[14]
        );
        assert!(
            matches!(&r1[6], Data::DateTime(d) if d.as_f64() == 45413.0),
            "submitted_date is a date: {:?}",
            r1[6]
        );

        let r2 = &data[2];
        assert_eq!(
            r2[0],
            Data::String("=r2".to_owned()),
            "a string, not a formula"
        );
        assert_eq!(r2[7], Data::String("dk".to_owned()));
        assert_eq!(r2[13], Data::String("-5".to_owned()), "text stays text");

        assert_eq!(
            sheet[0][..4],
            ["name", "label_vi", "label_en", "kind"].map(Data::from)
        );
        assert_eq!(sheet.len(), 1 + FIXED_COLUMNS.len() + vars.len());
        let q1 = &sheet[1 + FIXED_COLUMNS.len()];
        assert_eq!(q1[0], Data::from("q1"));
        assert_eq!(q1[1], Data::from("Chất lượng dịch vụ 'công'?"));
        assert_eq!(q1[3], Data::from("categorical"));
    }

    #[test]
    fn xlsx_cuts_overlong_text_with_a_marker() {
        let vars = variables();
        let long = "ệ".repeat(40_000);
        let mut values = [None; 8];
        values[6] = Some(long.as_str());
        let (data, _) = xlsx_data(&vars, &[record("r1", values)]);
        let Data::String(cell) = &data[1][13] else {
            panic!("expected text, got {:?}", data[1][13]);
        };
        assert!(cell.ends_with(XLSX_TRUNCATION_MARKER));
        assert!(cell.encode_utf16().count() <= XLSX_MAX_CELL_CHARS);
        assert!(cell.starts_with("ệệệ"));
    }

    #[test]
    fn xlsx_refuses_rows_beyond_the_excel_limit() {
        let vars = variables();
        let mut xlsx = MicrodataXlsx::new(&vars).unwrap();
        xlsx.row_limit = 3;
        let rec = records().remove(0);
        xlsx.write(&rec).unwrap();
        xlsx.write(&rec).unwrap();
        let err = xlsx.write(&rec).unwrap_err();
        assert!(err.to_string().contains("export as CSV"), "{err}");
        assert_eq!(xlsx.finish(std::io::sink()).unwrap(), 2);
    }

    #[test]
    fn safe_variable_names_are_valid_unique_and_deterministic() {
        let mut taken = HashSet::new();
        let mut name = |n: &str| safe_variable_name(n, &mut taken);
        assert_eq!(name("q1_2"), "q1_2");
        assert_eq!(name("Q1_2"), "Q1_2_2", "SPSS compares names without case");
        assert_eq!(name("1st"), "v1st");
        assert_eq!(name("câu-1.a"), "c_u_1_a");
        assert_eq!(name("in"), "in_");
        assert_eq!(name("str20"), "str20_");
        assert_eq!(name("_x"), "v_x");
        assert_eq!(
            name("comment"),
            "comment_",
            "PSPP reads it as a COMMENT command"
        );
        assert_eq!(name("DOC"), "DOC_");
        assert_eq!(name("comments"), "comments");
        assert_eq!(name(""), "v");
        let long = "a".repeat(40);
        assert_eq!(name(&long), "a".repeat(32));
        assert_eq!(name(&long), format!("{}_2", "a".repeat(30)));
        assert_eq!(name(&long), format!("{}_3", "a".repeat(30)));

        let vars = variables();
        assert_eq!(column_names(&vars), column_names(&vars));
        let mut clash = vars.clone();
        clash[1].name = "GROUP".to_owned();
        assert_eq!(
            column_names(&clash)[8],
            "GROUP_2",
            "fixed columns keep their names"
        );
    }

    #[test]
    fn status_values_mark_exclusions_with_their_reason_and_list_flags() {
        let flags = ["speeder".to_owned(), "straightline:c1".to_owned()];
        assert_eq!(
            status_values(true, Some(" quá nhanh "), &flags),
            [
                Some("1".to_owned()),
                Some("quá nhanh".to_owned()),
                Some("speeder;straightline:c1".to_owned())
            ]
        );
        assert_eq!(
            status_values(false, Some("stale"), &[]),
            [Some("0".to_owned()), None, None],
            "a reason without an exclusion is not written"
        );
        assert_eq!(status_values(true, None, &[])[1], None);
        let names = column_names(&status_variables());
        assert_eq!(names[FIXED_COLUMNS.len()..], STATUS_COLUMNS);
        assert_eq!(Variant::default(), Variant::AsScored);
        assert_eq!(
            Variant::from_include_excluded(true).file_suffix(),
            "-with-excluded"
        );
    }

    #[test]
    fn plain_numbers_are_recognised() {
        for yes in ["0", "-3", "12", "-0.5", "1234.75"] {
            assert!(is_plain_number(yes), "{yes}");
        }
        for no in ["", "-", "01", "1.", ".5", "+3", "1e3", "1,5", "-1+2", "dk"] {
            assert!(!is_plain_number(no), "{no}");
        }
        assert_eq!(integer_code("-1"), Some(-1));
        assert_eq!(integer_code("03"), None);
        assert_eq!(integer_code("99999999999"), None);
    }
}
