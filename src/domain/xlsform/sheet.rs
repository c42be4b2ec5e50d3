//! The sheets of an XLSForm workbook as the importer reads them: the headers parsed once
//! (key, language), the rows with their Excel numbers, and lookups that name a cell.

use calamine::Data;

use super::headers::{ColumnLang, parse_header};
use super::{MAX_ROWS, XLSX_LIMITS};
use crate::domain::instrument::{Lang, Location, Text};
use crate::domain::xlsx::{Workbook, WorkbookError, column_letters};
use crate::i18n::Localized;

/// One column of a sheet.
#[derive(Debug, Clone)]
pub(super) struct Column {
    pub(super) letter: String,
    pub(super) header: String,
    /// The canonical key (`label`, `list_name`, `constraint_message`, ...), see [`headers`].
    pub(super) key: String,
    /// The language after `::` (or `:`), if any.
    pub(super) lang: ColumnLang,
}

#[derive(Debug, Clone)]
pub(super) struct SheetRow {
    /// 1-based row as Excel shows it.
    pub(super) row: u32,
    pub(super) cells: Vec<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Sheet {
    pub(super) name: String,
    /// The row of the headers, as Excel shows it.
    pub(super) header_row: u32,
    pub(super) columns: Vec<Column>,
    pub(super) rows: Vec<SheetRow>,
}

pub(super) fn cell_text(data: &Data) -> String {
    match data {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        // Excel stores typed numbers as floats; a whole number must read back as "3", not "3.0".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string().trim().to_owned(),
    }
}

/// A workbook the shared reader refused, its own words kept as the detail.
fn unreadable(error: WorkbookError) -> Localized {
    Localized::new("xlsform.unreadable", &[("detail", &error.to_string())])
}

/// Reads the `survey`, `choices` and `settings` sheets (the first of each name, ignoring case
/// and stray spaces) through the shared bounded reader.
pub(super) fn read_sheets(bytes: &[u8]) -> Result<Vec<Sheet>, Localized> {
    let mut workbook = Workbook::open(bytes, XLSX_LIMITS).map_err(unreadable)?;
    let mut out: Vec<Sheet> = Vec::new();
    for name in workbook.sheet_names() {
        let lower = name.trim().to_lowercase();
        if !matches!(lower.as_str(), "survey" | "choices" | "settings")
            || out.iter().any(|s| s.name == lower)
        {
            continue;
        }
        let mut rows = workbook.read_sheet(&name).map_err(unreadable)?.into_iter();
        // The header is the first row holding anything; cells count from column A.
        let Some(header) = rows.next() else {
            out.push(Sheet {
                name: lower,
                header_row: 1,
                columns: Vec::new(),
                rows: Vec::new(),
            });
            continue;
        };
        let texts: Vec<String> = header.cells.iter().map(cell_text).collect();
        // pyxform: when any header uses `::`, a single `:` never separates a language.
        let double_colon = texts.iter().any(|h| h.contains("::"));
        let columns: Vec<Column> = texts
            .into_iter()
            .enumerate()
            .map(|(i, header)| {
                let parsed = parse_header(&header, double_colon);
                Column {
                    letter: column_letters(i),
                    header,
                    key: parsed.key,
                    lang: parsed.lang,
                }
            })
            .collect();
        let mut sheet_rows = Vec::new();
        for row in rows {
            let cells: Vec<String> = row.cells.iter().map(cell_text).collect();
            if cells.iter().all(String::is_empty) {
                continue;
            }
            if sheet_rows.len() >= MAX_ROWS {
                return Err(Localized::new(
                    "xlsform.too_many_rows",
                    &[("sheet", &name), ("max", &MAX_ROWS.to_string())],
                ));
            }
            sheet_rows.push(SheetRow {
                row: row.number,
                cells,
            });
        }
        out.push(Sheet {
            name: lower,
            header_row: header.number,
            columns,
            rows: sheet_rows,
        });
    }
    Ok(out)
}

impl Sheet {
    pub(super) fn col(&self, key: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.lang == ColumnLang::Plain && c.key == key)
    }

    pub(super) fn get<'r>(&self, row: &'r SheetRow, key: &str) -> Option<(&'r str, usize)> {
        let i = self.col(key)?;
        row.cells
            .get(i)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .map(|s| (s, i))
    }

    pub(super) fn loc(&self, row: &SheetRow, col: usize) -> Location {
        let (letter, header) = self
            .columns
            .get(col)
            .map(|c| (c.letter.clone(), c.header.clone()))
            .unwrap_or_else(|| (column_letters(col), String::new()));
        Location::Cell {
            sheet: self.name.clone(),
            row: row.row,
            column: letter,
            header,
        }
    }

    /// The location of a column's header cell.
    pub(super) fn header_loc(&self, col: usize) -> Location {
        self.loc(
            &SheetRow {
                row: self.header_row,
                cells: Vec::new(),
            },
            col,
        )
    }

    /// The location of `key` in `row`, or of the row's first cell when the column is absent.
    pub(super) fn loc_of(&self, row: &SheetRow, key: &str) -> Location {
        self.loc(row, self.col(key).unwrap_or(0))
    }

    /// The first filled cell of `row` in any column with one of `keys`, any language.
    pub(super) fn first_of(&self, row: &SheetRow, keys: &[&str]) -> Option<usize> {
        self.columns.iter().enumerate().find_map(|(i, c)| {
            (keys.contains(&c.key.as_str()) && row.cells.get(i).is_some_and(|v| !v.is_empty()))
                .then_some(i)
        })
    }

    /// A bilingual text from `key` in any of its languages: each of Vietnamese and English
    /// from its own column, else the plain column, else the other one of the two, else the
    /// first other language.
    pub(super) fn text(&self, row: &SheetRow, key: &str) -> Option<Text> {
        let mut plain = None;
        let mut vi = None;
        let mut en = None;
        let mut other = None;
        for (i, c) in self.columns.iter().enumerate() {
            if c.key != key {
                continue;
            }
            let Some(value) = row.cells.get(i).filter(|s| !s.is_empty()) else {
                continue;
            };
            let slot = match c.lang {
                ColumnLang::Plain => &mut plain,
                ColumnLang::Ours(Lang::Vi) => &mut vi,
                ColumnLang::Ours(Lang::En) => &mut en,
                ColumnLang::Other(_) => &mut other,
            };
            slot.get_or_insert_with(|| value.clone());
        }
        let vi_text = vi
            .clone()
            .or_else(|| plain.clone())
            .or_else(|| en.clone())
            .or_else(|| other.clone())?;
        let en_text = en.or(plain).or(vi).or(other).unwrap_or_default();
        Some(Text::new(vi_text, en_text))
    }
}
