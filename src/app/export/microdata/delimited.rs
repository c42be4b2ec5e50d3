//! Microdata as CSV: separator and decimal options, the column layout and the streaming writer.

use super::super::{UTF8_BOM, safe_cell};
use super::names::{column_names, is_plain_number};
use super::{FIXED_COLUMN_KINDS, FIXED_COLUMNS, Record, RowRef, VarKind, Variable};
use anyhow::{Result, ensure};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::io::Write;

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
    Ok(rows_writer(writer, opts))
}

/// A `csv` writer for rows that continue a file: no BOM.
fn rows_writer<W: Write>(writer: W, opts: &CsvOptions) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .delimiter(opts.delimiter)
        .from_writer(writer)
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
pub(super) enum Cell<'a> {
    Empty,
    /// A plain number (with `.`); `true` in a decimal column.
    Number(&'a str, bool),
    Text(&'a str),
    /// A value of a date column.
    Date(&'a str),
}

/// The column types of a microdata file, in output order.
pub(super) struct Layout {
    columns: Vec<Column>,
}

impl Layout {
    pub(super) fn new(variables: &[Variable]) -> Self {
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
    pub(super) fn cells<'r>(
        &'r self,
        row: RowRef<'r>,
    ) -> Result<impl Iterator<Item = Cell<'r>> + 'r> {
        let expected = self.columns.len() - FIXED_COLUMNS.len();
        ensure!(
            row.values.len() == expected,
            "response {} has {} values for {expected} variables",
            row.fixed[0],
            row.values.len()
        );
        let fixed = row.fixed.into_iter().map(Some);
        let values = row.values.iter().copied();
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
        out.write_record(column_names(variables))?;
        Ok(Self::over(out, variables, opts))
    }

    /// A writer of rows that continue a file begun by [`new`](Self::new) with the same
    /// variables and options: no BOM and no header, so that parts of one file can be written
    /// apart (on several threads) and joined in order.
    pub fn continuation(writer: W, variables: &[Variable], opts: &CsvOptions) -> Result<Self> {
        opts.validate()?;
        Ok(Self::over(rows_writer(writer, opts), variables, opts))
    }

    fn over(out: csv::Writer<W>, variables: &[Variable], opts: &CsvOptions) -> Self {
        let layout = Layout::new(variables);
        let columns = layout.columns.len();
        Self {
            out,
            layout,
            comma: opts.decimal == Decimal::Comma,
            flatten: false,
            rows: 0,
            max_bytes: vec![0; columns],
        }
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
        rec.as_row(|row| self.write_row(row))
    }

    /// Writes one response given as borrowed cells, as [`write`](Self::write) does.
    pub fn write_row(&mut self, row: RowRef<'_>) -> Result<()> {
        for (i, cell) in self.layout.cells(row)?.enumerate() {
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
