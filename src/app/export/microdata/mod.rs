//! Anonymised microdata: one row per response and one column per variable, streamed to CSV or
//! to an XLSX workbook in constant memory.
//!
//! The caller turns an instrument into a list of [`Variable`]s and its responses into
//! [`Record`]s. Every export (CSV header, XLSX header, codebook, SPSS/Stata/R syntax) names the
//! columns through [`column_names`], so the names always agree.

mod delimited;
mod names;
mod workbook;

pub(crate) use delimited::csv_writer;
pub use delimited::{CsvFinished, CsvOptions, Decimal, MicrodataCsv};
pub use names::{
    MAX_NAME_CHARS, column_names, integer_code, is_plain_number, safe_variable_name, variable_names,
};
pub use workbook::{
    MicrodataXlsx, XLSX_MAX_CELL_CHARS, XLSX_MAX_COLUMNS, XLSX_MAX_ROWS, XLSX_TRUNCATION_MARKER,
};

pub use crate::domain::instrument::{Lang, Text};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

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
    (
        "Kênh trả lời (web, phiếu giấy hoặc thực địa)",
        "Channel (web, paper or field)",
    ),
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
    /// `web`, `paper` or `field`.
    pub channel: String,
    /// The submission date only (`YYYY-MM-DD`), coarsened on purpose.
    pub submitted_date: String,
    /// One value per variable, in the variables' order; `None` when not answered.
    pub values: Vec<Option<String>>,
}

impl Record {
    /// Calls `write` with this record as borrowed cells.
    pub fn as_row<T>(&self, write: impl FnOnce(RowRef<'_>) -> T) -> T {
        let values: Vec<Option<&str>> = self.values.iter().map(Option::as_deref).collect();
        write(RowRef {
            fixed: [
                &self.response_id,
                &self.unit,
                &self.unit_name,
                &self.region,
                &self.group,
                &self.channel,
                &self.submitted_date,
            ],
            values: &values,
        })
    }
}

/// One response as borrowed text, which is what the writers take: the export job fills it
/// from the stored row without copying a cell into an owned [`Record`].
#[derive(Debug, Clone, Copy)]
pub struct RowRef<'a> {
    /// The [`FIXED_COLUMNS`], in order.
    pub fixed: [&'a str; 7],
    /// One value per variable, in the variables' order; `None` when not answered.
    pub values: &'a [Option<&'a str>],
}

/// Sample variables and records shared by the export tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::app::export::UTF8_BOM;

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
    use std::collections::HashSet;
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};

    use super::fixtures::*;
    use super::*;
    use crate::app::export::UTF8_BOM;

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
    fn a_file_written_in_parts_on_several_writers_is_the_file_written_at_once() {
        let (vars, recs) = (variables(), records());
        let mut with_bom = CsvOptions::new(Decimal::Comma);
        with_bom.bom = true;
        for opts in [CsvOptions::default(), with_bom] {
            let whole = write_csv(&vars, &recs, &opts, true).writer;
            let mut parts = write_csv(&vars, &[], &opts, true).writer;
            for share in recs.chunks(2) {
                let mut part = MicrodataCsv::continuation(Vec::new(), &vars, &opts)
                    .unwrap()
                    .flatten_line_breaks(true);
                for rec in share {
                    part.write(rec).unwrap();
                }
                parts.extend(part.finish().unwrap().writer);
            }
            assert_eq!(String::from_utf8(parts), String::from_utf8(whole));
        }
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
