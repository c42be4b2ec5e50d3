//! Files for download: CSV written with the `csv` crate, with every cell made safe to open in
//! a spreadsheet.

pub mod aggregates;

pub mod codebook;
pub mod jobs;
pub mod microdata;
pub mod syntax;

pub use microdata::{CsvOptions, Decimal};

/// The UTF-8 byte-order mark that makes Excel read a CSV file as UTF-8.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl CsvOptions {
    /// Options with or without a BOM, and the delimiter that goes with the decimal mark.
    pub fn with(bom: bool, decimal: Decimal) -> Self {
        Self {
            bom,
            ..Self::new(decimal)
        }
    }

    /// Options as a form or query gives them: `decimal` is `comma` for a decimal comma.
    pub fn from_request(bom: bool, decimal: Option<&str>) -> Self {
        let decimal = if decimal == Some("comma") {
            Decimal::Comma
        } else {
            Decimal::Point
        };
        Self::with(bom, decimal)
    }

    /// A number written with '.' in this file's decimal mark.
    pub fn number(&self, canonical: &str) -> String {
        match self.decimal {
            Decimal::Point => canonical.to_owned(),
            Decimal::Comma => canonical.replace('.', ","),
        }
    }
}

/// Neutralises a cell a spreadsheet would run as a formula (one starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) by prefixing an apostrophe, which spreadsheets hide.
pub fn safe_cell(value: &str) -> std::borrow::Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{value}")),
        _ => std::borrow::Cow::Borrowed(value),
    }
}

/// Writes rows as UTF-8 CSV with a byte-order mark (so Excel reads Vietnamese correctly),
/// every cell passed through [`safe_cell`].
pub fn csv_with_bom<I, R>(header: &[&str], rows: I) -> anyhow::Result<Vec<u8>>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = String>,
{
    let mut out = Vec::new();
    {
        let mut writer = microdata::csv_writer(&mut out, &CsvOptions::default())?;
        writer.write_record(header)?;
        for row in rows {
            let cells: Vec<String> = row
                .into_iter()
                .map(|c| safe_cell(&c).into_owned())
                .collect();
            writer.write_record(&cells)?;
        }
        writer.flush()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_looking_cells_are_neutralised() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(safe_cell("-2+3"), "'-2+3");
        assert_eq!(safe_cell("Nguyễn Văn An"), "Nguyễn Văn An");
    }

    #[test]
    fn csv_files_start_with_a_bom_and_read_back() {
        let bytes = csv_with_bom(
            &["name", "code"],
            vec![vec!["=cmd".to_owned(), "K7QF".to_owned()]],
        )
        .unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let mut reader = csv::Reader::from_reader(&bytes[3..]);
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[0], "'=cmd");
    }
}
