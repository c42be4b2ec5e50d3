//! Files for download: CSV written with the `csv` crate, with every cell made safe to open in
//! a spreadsheet and every computed number rounded by one rule ([`file_number`]).

pub mod aggregates;

pub mod codebook;
pub mod jobs;
pub mod microdata;
pub mod syntax;

pub use microdata::{CsvOptions, Decimal};

/// The UTF-8 byte-order mark that makes Excel read a CSV file as UTF-8.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Serialises an `f64` field as [`file_number`] (`#[serde(serialize_with = "...")]`), so JSON
/// carries the rounded value.
pub fn serialize_file_number<S: serde::Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(file_number(*x))
}

/// Serialises an `Option<f64>` field as [`file_number`], `None` as `null`.
pub fn serialize_file_number_opt<S: serde::Serializer>(
    x: &Option<f64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match x {
        Some(x) => s.serialize_some(&file_number(*x)),
        None => s.serialize_none(),
    }
}

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

    /// A computed number as this file writes it: [`file_number_text`] in its decimal mark.
    pub fn float(&self, x: f64) -> String {
        self.number(&file_number_text(x))
    }
}

/// Neutralises a cell a spreadsheet would run as a formula (one starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) by prefixing an apostrophe, which spreadsheets hide.
///
/// A text that itself starts with an apostrophe gets one too, so a leading apostrophe in a file
/// is always this guard: removing exactly one gives back the text (the syntax files do that).
pub fn safe_cell(value: &str) -> std::borrow::Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'') => {
            std::borrow::Cow::Owned(format!("'{value}"))
        }
        _ => std::borrow::Cow::Borrowed(value),
    }
}

/// Decimal places of every computed number (score, mean, percentage) in CSV and JSON files.
/// Arithmetic leaves noise such as `10.284999999999998`; files carry the value rounded to this
/// many places, written in the fewest digits that read back the same (`10.285`). The codebook
/// states it.
pub const FILE_DECIMALS: i32 = 6;

/// `x` rounded to [`FILE_DECIMALS`] places: the value CSV and JSON writers store. Serialising
/// it with `{}` or serde prints the shortest form, with no float noise.
pub fn file_number(x: f64) -> f64 {
    let scale = 10f64.powi(FILE_DECIMALS);
    let rounded = (x * scale).round() / scale;
    // Negative zero would print as `-0`.
    if rounded == 0.0 { 0.0 } else { rounded }
}

/// `x` as a file writes it with a decimal point: [`file_number`] in its shortest form; empty
/// for a value that is not finite.
pub fn file_number_text(x: f64) -> String {
    if x.is_finite() {
        file_number(x).to_string()
    } else {
        String::new()
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
    fn a_leading_apostrophe_is_always_the_guard() {
        assert_eq!(safe_cell("'=x"), "''=x");
        assert_eq!(safe_cell("'abc"), "''abc");
        for text in ["'=x", "=x", "'abc", "abc", "-5"] {
            let guarded = safe_cell(text);
            let undone = guarded.strip_prefix('\'').unwrap_or(&guarded);
            assert_eq!(undone, text, "removing one apostrophe gives back {text:?}");
        }
    }

    #[test]
    fn computed_numbers_are_written_without_float_noise() {
        assert_eq!(file_number_text(10.284999999999998), "10.285");
        assert_eq!(file_number_text(0.1 + 0.2), "0.3");
        assert_eq!(file_number_text(2.0 / 3.0), "0.666667");
        assert_eq!(file_number_text(-1e-9), "0");
        assert_eq!(file_number_text(75.0), "75");
        assert_eq!(file_number_text(f64::NAN), "");
        assert_eq!(
            CsvOptions::new(Decimal::Comma).float(10.284999999999998),
            "10,285"
        );
        assert_eq!(
            serde_json::to_string(&file_number(10.284999999999998)).unwrap(),
            "10.285"
        );
        #[derive(serde::Serialize)]
        struct Row {
            #[serde(serialize_with = "serialize_file_number")]
            points: f64,
            #[serde(serialize_with = "serialize_file_number_opt")]
            percent: Option<f64>,
            #[serde(serialize_with = "serialize_file_number_opt")]
            missing: Option<f64>,
        }
        let row = Row {
            points: 10.284999999999998,
            percent: Some(0.1 + 0.2),
            missing: None,
        };
        assert_eq!(
            serde_json::to_string(&row).unwrap(),
            r#"{"points":10.285,"percent":0.3,"missing":null}"#
        );
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
