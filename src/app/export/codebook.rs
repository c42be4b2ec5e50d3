//! Codebooks of the microdata: a CSV table and a standalone printable HTML document, both in
//! Vietnamese and English, naming variables exactly as the data files do.
//!
//! A codebook describes one [`Variant`] of the file: "as scored" (excluded responses left
//! out), or "all responses, with exclusions marked", whose status columns (`excluded` with its
//! 0/1 labels, `exclusion_reason`, `quality_flags`) are listed like any other variable. The
//! HTML codebook says which variant it describes.

use anyhow::Result;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::safe_cell;
use crate::app::export::microdata::{
    CsvOptions, FIXED_COLUMN_KINDS, FIXED_COLUMN_LABELS, FIXED_COLUMNS, ValueLabel, Variable,
    Variant, column_names, csv_writer, variable_names,
};

/// The columns of [`codebook_csv`].
pub const CODEBOOK_COLUMNS: [&str; 12] = [
    "variable",
    "question",
    "section",
    "label_vi",
    "label_en",
    "kind",
    "value",
    "value_label_vi",
    "value_label_en",
    "missing",
    "criterion",
    "component",
];

/// The codebook as CSV: a row for each identification column, then one row per value label
/// (or one row for a variable without labels), every cell passed through [`safe_cell`]. `opts`
/// sets the BOM and delimiter; fails only on invalid options.
pub fn codebook_csv(variables: &[Variable], opts: &CsvOptions) -> Result<Vec<u8>> {
    let mut out = csv_writer(Vec::new(), opts)?;
    out.write_record(CODEBOOK_COLUMNS)?;
    let fixed = column_names(variables)
        .into_iter()
        .zip(FIXED_COLUMN_LABELS.iter().zip(FIXED_COLUMN_KINDS));
    for (name, ((vi, en), kind)) in fixed {
        let row = [
            name.as_str(),
            "",
            "",
            vi,
            en,
            kind.code(),
            "",
            "",
            "",
            "",
            "",
            "",
        ];
        out.write_record(row.map(safe_cell).iter().map(|c| c.as_bytes()))?;
    }
    for (name, var) in variable_names(variables).iter().zip(variables) {
        let labels = var.effective_value_labels();
        let rows: Vec<Option<&ValueLabel>> = if labels.is_empty() {
            vec![None]
        } else {
            labels.iter().map(Some).collect()
        };
        for value in rows {
            let row = [
                name.as_str(),
                &var.question,
                &var.section,
                &var.label.vi,
                &var.label.en,
                var.kind.code(),
                value.map_or("", |v| &v.value),
                value.map_or("", |v| &v.label.vi),
                value.map_or("", |v| &v.label.en),
                value.map_or("", |v| if v.valid { "no" } else { "yes" }),
                var.criterion.as_deref().unwrap_or(""),
                var.component.as_deref().unwrap_or(""),
            ];
            out.write_record(row.map(safe_cell).iter().map(|c| c.as_bytes()))?;
        }
    }
    Ok(out.into_inner().map_err(|e| e.into_error())?)
}

/// The words of the HTML codebook, to be filled from the message catalogue.
/// [`CodebookLabels::bilingual`] gives Vietnamese / English defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodebookLabels<'a> {
    /// The document language (`<html lang>`), e.g. `vi`.
    pub lang: &'a str,
    /// Heading of the list of identification columns.
    pub fixed_columns: &'a str,
    /// Heading of the item → criterion map.
    pub criterion_map: &'a str,
    /// Heading of the variable list.
    pub variables: &'a str,
    /// "Section".
    pub section: &'a str,
    /// "Variable".
    pub variable: &'a str,
    /// "Question".
    pub question: &'a str,
    /// "Type".
    pub kind: &'a str,
    /// "Criterion".
    pub criterion: &'a str,
    /// "Component".
    pub component: &'a str,
    /// "Code".
    pub value: &'a str,
    /// "Vietnamese".
    pub vietnamese: &'a str,
    /// "English".
    pub english: &'a str,
    /// "Missing" (a don't know / no answer code).
    pub missing: &'a str,
    /// Shown in the missing column for a missing code.
    pub yes: &'a str,
    /// How the data files write things: blanks, the formula guard, line breaks, decimals.
    pub conventions: &'a str,
    /// "Responses in the file", before the variant's name.
    pub variant: &'a str,
    /// Heading of the status columns (`excluded`, `exclusion_reason`, `quality_flags`).
    pub response_status: &'a str,
}

impl CodebookLabels<'static> {
    /// Vietnamese / English headings.
    pub fn bilingual() -> Self {
        Self {
            lang: "vi",
            fixed_columns: "Cột định danh / Identification columns",
            criterion_map: "Câu hỏi → tiêu chí / Item → criterion map",
            variables: "Biến / Variables",
            section: "Phần / Section",
            variable: "Biến / Variable",
            question: "Câu hỏi / Question",
            kind: "Kiểu / Type",
            criterion: "Tiêu chí / Criterion",
            component: "Thành phần / Component",
            value: "Mã / Code",
            vietnamese: "Tiếng Việt",
            english: "English",
            missing: "Giá trị khuyết / Missing",
            yes: "có / yes",
            conventions: "Ô trống: câu hỏi không được hỏi hoặc bị bỏ qua (giá trị khuyết). \
                Văn bản bắt đầu bằng = + - @ hoặc ' có thêm một dấu ' ở đầu để bảng tính không \
                chạy công thức; các tệp cú pháp bỏ dấu này. Xuống dòng trong câu trả lời được \
                ghi thành dấu cách. Số tính toán (điểm, trung bình, tỷ lệ) trong tệp CSV và \
                JSON được làm tròn đến 6 chữ số thập phân. / \
                Blank cells: the question was not asked or was skipped (missing). Text starting \
                with = + - @ or ' carries one extra leading ' so spreadsheets run no formula; the \
                syntax files remove it. Line breaks inside answers are written as spaces. \
                Computed numbers (scores, means, percentages) in CSV and JSON files are rounded \
                to 6 decimal places.",
            variant: "Phiếu trong tệp / Responses in the file",
            response_status: "Trạng thái phiếu / Response status",
        }
    }
}

/// The stylesheet of the standalone codebook (a downloaded file, so a `<style>` element is fine;
/// no inline `style` attributes and no scripts).
const CODEBOOK_CSS: &str = "\
body{font-family:system-ui,sans-serif;margin:2rem;line-height:1.4;color:#111}\
table{border-collapse:collapse;margin:.5rem 0 1rem}\
th,td{border:1px solid #999;padding:.2rem .5rem;text-align:left;vertical-align:top}\
th{background:#eee}\
code{font-family:ui-monospace,monospace}\
article{border-top:1px solid #ccc;padding-top:.5rem;break-inside:avoid;page-break-inside:avoid}\
dl{display:grid;grid-template-columns:max-content 1fr;gap:0 1rem;margin:0}\
dt{font-weight:bold}dd{margin:0}\
.missing{font-style:italic}\
@media print{body{margin:1cm}h2{break-before:page}}";

/// The codebook as a complete standalone, printable HTML document: which responses the file
/// holds (`variant`), identification columns, the item → criterion map, then every variable
/// with its question text in both languages, its value labels and missing flags (the status
/// columns of the file with exclusions first, under their own heading). All text is escaped.
pub fn codebook_html(
    variables: &[Variable],
    title: &str,
    variant: Variant,
    labels: &CodebookLabels<'_>,
) -> Markup {
    let names = variable_names(variables);
    let named: Vec<(&str, &Variable)> = names.iter().map(String::as_str).zip(variables).collect();
    let mapped: Vec<&(&str, &Variable)> = named
        .iter()
        .filter(|(_, v)| v.criterion.is_some() || v.component.is_some())
        .collect();
    html! {
        (DOCTYPE)
        html lang=(labels.lang) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (PreEscaped(CODEBOOK_CSS)) }
            }
            body {
                h1 { (title) }
                p.variant {
                    strong { (labels.variant) ": " }
                    span lang="vi" { (variant.label().vi) } " / " span lang="en" { (variant.label().en) }
                }
                p lang="vi" { (variant.description().vi) }
                p lang="en" { (variant.description().en) }
                p { (labels.conventions) }
                h2 { (labels.fixed_columns) }
                p { @for (i, name) in FIXED_COLUMNS.iter().enumerate() {
                    @if i > 0 { ", " }
                    code { (name) }
                } }
                @if !mapped.is_empty() {
                    h2 { (labels.criterion_map) }
                    table {
                        thead { tr {
                            th { (labels.variable) } th { (labels.question) }
                            th { (labels.criterion) } th { (labels.component) }
                        } }
                        tbody { @for (name, var) in &mapped { tr {
                            td { a href={ "#var-" (name) } { code { (name) } } }
                            td { (var.question) }
                            td { (var.criterion.as_deref().unwrap_or("")) }
                            td { (var.component.as_deref().unwrap_or("")) }
                        } } }
                    }
                }
                h2 { (labels.variables) }
                @for (i, (name, var)) in named.iter().enumerate() {
                    @if i == 0 || named[i - 1].1.section != var.section {
                        // Only the status columns belong to no questionnaire section.
                        @if var.section.is_empty() {
                            h3 { (labels.response_status) }
                        } @else {
                            h3 { (labels.section) " " (var.section) }
                        }
                    }
                    (variable_html(name, var, labels))
                }
            }
        }
    }
}

fn variable_html(name: &str, var: &Variable, labels: &CodebookLabels<'_>) -> Markup {
    let values = var.effective_value_labels();
    html! {
        article id={ "var-" (name) } {
            h4 { code { (name) } }
            dl {
                dt { (labels.question) } dd { (var.question) }
                dt { (labels.kind) } dd { (var.kind.code()) }
                @if let Some(criterion) = &var.criterion {
                    dt { (labels.criterion) } dd { (criterion) }
                }
                @if let Some(component) = &var.component {
                    dt { (labels.component) } dd { (component) }
                }
                dt { (labels.vietnamese) } dd lang="vi" { (var.label.vi) }
                dt { (labels.english) } dd lang="en" { (var.label.en) }
            }
            @if !values.is_empty() {
                table {
                    thead { tr {
                        th { (labels.value) } th { (labels.vietnamese) }
                        th { (labels.english) } th { (labels.missing) }
                    } }
                    tbody { @for value in values.iter() {
                        tr class=[(!value.valid).then_some("missing")] {
                            td { code { (value.value) } }
                            td lang="vi" { (value.label.vi) }
                            td lang="en" { (value.label.en) }
                            td { @if !value.valid { (labels.yes) } }
                        }
                    } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::export::microdata::fixtures::{read_csv, variables};
    use crate::app::export::microdata::{Decimal, Text};

    #[test]
    fn the_csv_codebook_has_a_row_per_value_label_and_one_per_unlabelled_variable() {
        let vars = variables();
        let rows = read_csv(&codebook_csv(&vars, &CsvOptions::default()).unwrap(), b',');
        assert_eq!(rows[0].iter().collect::<Vec<_>>(), CODEBOOK_COLUMNS);
        // Seven identification columns, then q1: 5 codes, q2: 3, q3: 3, dummy: 2 defaults,
        // then four unlabelled variables.
        assert_eq!(rows.len(), 1 + 7 + 5 + 3 + 3 + 2 + 4);
        let ids: Vec<&str> = rows[1..=7].iter().map(|r| &r[0]).collect();
        assert_eq!(ids, FIXED_COLUMNS);
        assert_eq!(&rows[7][5], "date", "submitted_date is a date");
        assert_eq!(
            &rows[1][4],
            "Random response id, not linked to the respondent"
        );
        let dk = rows
            .iter()
            .find(|r| &r[0] == "q1" && &r[6] == "dk")
            .unwrap();
        assert_eq!(&dk[7], "Không biết");
        assert_eq!(&dk[9], "yes");
        assert_eq!(&dk[10], "C1.2");
        assert_eq!(&dk[11], "PAR1");
        let good = rows.iter().find(|r| &r[0] == "q1" && &r[6] == "1").unwrap();
        assert_eq!(&good[9], "no");
        assert_eq!(&good[3], "Chất lượng dịch vụ 'công'?");
        let text = rows.iter().find(|r| &r[0] == "q8").unwrap();
        assert_eq!((&text[5], &text[6], &text[9]), ("text", "", ""));
    }

    #[test]
    fn the_csv_codebook_follows_the_delimiter_and_neutralises_formulas() {
        let mut vars = variables();
        vars[0].label = Text::new("=cmd|' /C calc'!A0", "@SUM(1)");
        let bytes = codebook_csv(&vars, &CsvOptions::new(Decimal::Comma)).unwrap();
        let rows = read_csv(&bytes, b';');
        let q1 = rows.iter().find(|r| &r[0] == "q1").unwrap();
        assert_eq!(&q1[3], "'=cmd|' /C calc'!A0");
        assert_eq!(&q1[4], "'@SUM(1)");
    }

    #[test]
    fn the_html_codebook_escapes_hostile_text() {
        let mut vars = variables();
        vars[0].label = Text::new(
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>",
        );
        vars[0].value_labels[0].label.vi = "<b>bold</b> & co".to_owned();
        vars[0].criterion = Some("<i>C1</i>".to_owned());
        let page = codebook_html(
            &vars,
            "<script>alert(2)</script>",
            Variant::AsScored,
            &CodebookLabels::bilingual(),
        )
        .into_string();
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"));
        assert!(!page.contains("<b>bold"));
        assert!(!page.contains("<i>C1"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&lt;b&gt;bold&lt;/b&gt; &amp; co"));
        assert!(!page.contains(" style="), "no inline style attributes");
    }

    #[test]
    fn the_html_codebook_is_a_standalone_bilingual_document_with_missing_flags_and_criteria() {
        let vars = variables();
        let page = codebook_html(
            &vars,
            "PAR Index 2024",
            Variant::AsScored,
            &CodebookLabels::bilingual(),
        )
        .into_string();
        assert!(page.starts_with("<!DOCTYPE html><html lang=\"vi\">"));
        assert!(page.contains("<style>"));
        assert!(page.contains("<title>PAR Index 2024</title>"));
        assert!(page.contains("Chất lượng dịch vụ 'công'?"));
        assert!(page.contains("Quality of &quot;public&quot; services?"));
        assert!(page.contains(
            "<tr class=\"missing\"><td><code>dk</code></td><td lang=\"vi\">Không biết</td>\
             <td lang=\"en\">Don't know</td><td>có / yes</td></tr>"
        ));
        assert!(page.contains(
            "<td><a href=\"#var-q1\"><code>q1</code></a></td><td>q1</td><td>C1.2</td>\
             <td>PAR1</td>"
        ));
        assert!(page.contains("<article id=\"var-q5__opt1\">"));
        assert!(page.contains("Not selected"), "dummies get default labels");
        let decimals = format!("to {} decimal places", crate::app::export::FILE_DECIMALS);
        assert!(
            page.contains(&decimals),
            "the codebook states the file precision"
        );
        assert_eq!(
            page.matches("<h3>").count(),
            1,
            "one section heading for section A"
        );
        assert!(page.ends_with("</body></html>"));
        assert!(
            page.contains("As scored (excluded responses left out)"),
            "the codebook names its variant"
        );
        assert!(
            !page.contains("Response status"),
            "no status columns as scored"
        );
    }

    #[test]
    fn the_codebook_of_the_file_with_exclusions_lists_the_status_columns_with_labels() {
        let mut vars = crate::app::export::microdata::status_variables();
        vars.extend(variables());
        let page = codebook_html(
            &vars,
            "PAR Index 2024",
            Variant::WithExclusions,
            &CodebookLabels::bilingual(),
        )
        .into_string();
        assert!(page.contains("All responses, with exclusions marked"));
        assert!(page.contains("Mọi phiếu, có đánh dấu phiếu bị loại"));
        assert!(page.contains("<h3>Trạng thái phiếu / Response status</h3>"));
        for name in crate::app::export::microdata::STATUS_COLUMNS {
            assert!(
                page.contains(&format!("<article id=\"var-{name}\">")),
                "{name}"
            );
        }
        assert!(page.contains(
            "<td><code>1</code></td><td lang=\"vi\">Bị loại</td><td lang=\"en\">Excluded</td>"
        ));
        assert!(page.contains(
            "<td><code>0</code></td><td lang=\"vi\">Được tính điểm</td><td lang=\"en\">Scored</td>"
        ));
        assert_eq!(page.matches("<h3>").count(), 2, "status, then section A");

        let rows = read_csv(&codebook_csv(&vars, &CsvOptions::default()).unwrap(), b',');
        let names: Vec<&str> = rows[8..=11].iter().map(|r| &r[0]).collect();
        assert_eq!(
            names,
            ["excluded", "excluded", "exclusion_reason", "quality_flags"],
            "the status columns follow the identification columns"
        );
        assert_eq!(
            (&rows[8][6], &rows[8][8], &rows[8][9]),
            ("0", "Scored", "no")
        );
        assert_eq!(
            (&rows[9][6], &rows[9][7], &rows[9][9]),
            ("1", "Bị loại", "no")
        );
        assert_eq!(&rows[10][5], "text");
    }
}
