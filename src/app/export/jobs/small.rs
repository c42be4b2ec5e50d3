//! Small files made while the request waits: aggregates, breakdowns and codebooks.

use super::super::microdata::{Variable, status_variables};
use super::super::{CsvOptions, aggregates, codebook, syntax};
use super::variables::variables;
use super::{ExportKind, ExportRequest, FileRequest, check_variant};
use crate::app::catalog;
use crate::app::results::{self, Viewer};
use crate::db::{self, AnyConnection};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;

/// Makes a small file: aggregates, codebook or syntax. Returns name, content type and bytes.
pub fn small_file(
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: Viewer,
    file: &FileRequest,
    csv: CsvOptions,
    lang: Lang,
) -> AppResult<(String, &'static str, Vec<u8>)> {
    check_variant(file.kind, file.include_excluded)?;
    let request = ExportRequest {
        kind: file.kind,
        format: file.format.clone(),
        group: file.group.clone(),
        table: file.table.clone(),
        by: file.by.clone(),
        csv,
        lang,
        include_excluded: file.include_excluded,
    };
    let bytes = render_small(conn, round_id, viewer, &request)?;
    Ok((request.file_name(round_id), request.content_type(), bytes))
}

pub(super) fn render_small(
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: Viewer,
    request: &ExportRequest,
) -> AppResult<Vec<u8>> {
    match request.kind {
        ExportKind::Aggregates => {
            // The same visibility rules as the pages: published for all, live for staff.
            let r = results::round_results(conn, round_id, viewer)?;
            let tables = aggregates::tables(&r);
            match request.format.as_str() {
                "xlsx" => aggregates::to_xlsx(&tables).map_err(AppError::internal),
                "json" => serde_json::to_vec_pretty(&aggregates::to_json(&tables))
                    .map_err(AppError::internal),
                _ => {
                    let name = request.table.as_deref().unwrap_or("scores");
                    let table = tables
                        .iter()
                        .find(|t| t.name == name)
                        .ok_or(AppError::NotFound)?;
                    aggregates::to_csv(table, &request.csv).map_err(AppError::internal)
                }
            }
        }
        ExportKind::Codebook | ExportKind::Syntax => {
            let (variables, title) = group_variables(conn, round_id, viewer, request)?;
            let lang = request.lang;
            let mut opts =
                syntax::SyntaxOptions::new(csv_name(round_id, request), request.csv, lang);
            opts.variant = request.variant();
            let text = match (request.kind, request.format.as_str()) {
                (ExportKind::Codebook, "csv") => {
                    return codebook::codebook_csv(&variables, &request.csv)
                        .map_err(AppError::internal);
                }
                (ExportKind::Codebook, _) => codebook::codebook_html(
                    &variables,
                    &title,
                    request.variant(),
                    &codebook::CodebookLabels::bilingual(),
                )
                .into_string(),
                (_, "sps") => syntax::spss_syntax(&variables, &opts).map_err(AppError::internal)?,
                (_, "do") => syntax::stata_syntax(&variables, &opts).map_err(AppError::internal)?,
                _ => syntax::r_syntax(&variables, &opts).map_err(AppError::internal)?,
            };
            Ok(text.into_bytes())
        }
        ExportKind::Breakdown => {
            let visible = results::round_results(conn, round_id, viewer)?;
            let bd = crate::app::results::breakdown::breakdown(
                conn,
                &visible,
                request.group.as_deref().unwrap_or_default(),
                request.by.as_deref().unwrap_or_default(),
            )?;
            breakdown_csv(&bd, &request.csv).map_err(AppError::internal)
        }
        ExportKind::Microdata => Err(AppError::BadRequest("export.use_job")),
    }
}

/// A protected breakdown in long form: one row per unit (or `TOTAL`) and category, hidden
/// cells with empty numbers and `suppressed` = 1.
fn breakdown_csv(
    bd: &crate::app::results::breakdown::Breakdown,
    opts: &CsvOptions,
) -> anyhow::Result<Vec<u8>> {
    use crate::app::results::breakdown::PublicCell;
    let mut out = Vec::new();
    {
        let mut w = super::super::microdata::csv_writer(&mut out, opts)?;
        w.write_record([
            "unit",
            "unit_name",
            "question",
            "answer",
            "answer_label",
            "n",
            "percent",
            "suppressed",
        ])?;
        let mut row = |unit: &str,
                       name: &str,
                       answer: &str,
                       label: &str,
                       e: Option<crate::domain::disclosure::Entry>| {
            let c = e.map(PublicCell::from);
            w.write_record([
                super::super::safe_cell(unit).as_ref(),
                super::super::safe_cell(name).as_ref(),
                bd.by.as_str(),
                super::super::safe_cell(answer).as_ref(),
                super::super::safe_cell(label).as_ref(),
                &c.and_then(|c| c.n)
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                &c.and_then(|c| c.percent)
                    .map(|p| opts.float(p))
                    .unwrap_or_default(),
                if c.is_some_and(|c| c.suppressed) {
                    "1"
                } else {
                    "0"
                },
            ])
        };
        let total = ("TOTAL".to_owned(), "Tổng / Total".to_owned());
        for (i, (code, vi, _)) in bd.units.iter().enumerate() {
            for (c, (value, label)) in bd.categories.iter().enumerate() {
                row(code, vi, value, &label.vi, bd.table.cell(i, c))?;
            }
            row(code, vi, "TOTAL", "Tổng", bd.table.row_total(i))?;
        }
        for (c, (value, label)) in bd.categories.iter().enumerate() {
            row(
                &total.0,
                &total.1,
                value,
                &label.vi,
                bd.table.column_total(c),
            )?;
        }
        row(&total.0, &total.1, "TOTAL", "Tổng", bd.table.grand_total())?;
        w.flush()?;
    }
    Ok(out)
}

/// The microdata CSV file name the syntax files read.
fn csv_name(round_id: i64, request: &ExportRequest) -> String {
    ExportRequest {
        kind: ExportKind::Microdata,
        format: "csv".to_owned(),
        ..request.clone()
    }
    .file_name(round_id)
}

/// Checks the viewer may have respondent-level files of the round and group, and returns
/// the group's variables and a title. The file with excluded responses starts its variables
/// with the [`status_variables`], and only those who review data quality (administrators and
/// analysts) may have it: coordinators never see exclusions or flags.
pub(super) fn group_variables(
    conn: &mut AnyConnection,
    round_id: i64,
    viewer: Viewer,
    request: &ExportRequest,
) -> AppResult<(Vec<Variable>, String)> {
    if viewer == Viewer::Public {
        return Err(AppError::LoginRequired);
    }
    if !viewer.may_download_microdata() {
        return Err(AppError::Forbidden);
    }
    if request.include_excluded && !may_see_exclusions(viewer) {
        return Err(AppError::Forbidden);
    }
    let round = db::rounds::by_id(conn, round_id)?.ok_or(AppError::NotFound)?;
    let group = request.group.as_deref().unwrap_or_default();
    let (_, instrument, methodology) = catalog::load_round_group(conn, round_id, group)?;
    let title = format!(
        "{} — {} ({} v{})",
        round.name_vi,
        group,
        instrument.code(),
        instrument.version()
    );
    let mut vars = variables(&instrument, &methodology, group);
    if request.include_excluded {
        vars.splice(0..0, status_variables());
    }
    Ok((vars, title))
}

/// Whether the viewer reviews data quality (the quality page's roles), and so may have the
/// exclusions, their reasons and the flags.
fn may_see_exclusions(viewer: Viewer) -> bool {
    matches!(
        viewer,
        Viewer::Staff {
            role: crate::domain::account::Role::Admin | crate::domain::account::Role::Analyst,
            ..
        }
    )
}
