//! Microdata as an Excel workbook: the sheet limits, cell conversions and the streaming writer.

use super::delimited::{Cell, Layout};
use super::names::column_names;
use super::{FIXED_COLUMN_KINDS, Record, RowRef, Variable};
use anyhow::{Result, ensure};
use chrono::Datelike;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};
use std::borrow::Cow;
use std::io::Write;

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
    pub(super) row_limit: u32,
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
        rec.as_row(|row| self.write_row(row))
    }

    /// Writes one response given as borrowed cells, as [`write`](Self::write) does.
    pub fn write_row(&mut self, cells: RowRef<'_>) -> Result<()> {
        let row = self.next_row;
        ensure!(
            row < self.row_limit,
            "an Excel sheet holds at most {} responses (1,048,576 rows with the header); \
             export as CSV instead",
            self.row_limit - 1
        );
        let cells = self.layout.cells(cells)?;
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
