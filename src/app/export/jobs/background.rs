//! Microdata files made in the background: starting a job, running it page by page, and
//! where its files live.

use super::super::microdata::{MicrodataCsv, MicrodataXlsx, RowRef, STATUS_COLUMNS, status_values};
use super::rows::RowPlan;
use super::small::{group_variables, render_small};
use super::{ExportKind, ExportRequest};
use crate::app::results::{self, Scope, Viewer};
use crate::app::state::AppState;
use crate::db::{self, AnyConnection};
use crate::error::{AppError, AppResult};
use actix_web::web;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

/// Rows read per database round trip; progress is recorded once per page.
const PAGE: i64 = 2_000;

/// The path of a job's file while it is written and once it is done.
pub(super) fn paths(dir: &std::path::Path, job: &str) -> (PathBuf, PathBuf) {
    (dir.join(format!("{job}.part")), dir.join(job))
}

/// Queues an export for the viewer and starts it on a background thread. Returns the job id.
pub async fn start(
    state: &web::Data<AppState>,
    viewer: Viewer,
    round_id: i64,
    request: ExportRequest,
) -> AppResult<String> {
    let Viewer::Staff { user_id, .. } = viewer else {
        return Err(AppError::LoginRequired);
    };
    let job = uuid::Uuid::new_v4().simple().to_string();
    let job_id = job.clone();
    let params = serde_json::to_string(&request).map_err(AppError::internal)?;
    let checked = request.clone();
    state
        .db(move |conn| {
            // Permissions and existence are checked now, so the user gets the error at once.
            if checked.kind == ExportKind::Microdata || checked.kind.needs_group() {
                group_variables(conn, round_id, viewer, &checked)?;
                if checked.kind == ExportKind::Breakdown {
                    let group = checked.group.as_deref().unwrap_or_default();
                    let questions =
                        crate::app::results::breakdown::breakdown_questions(conn, round_id, group)?;
                    let by = checked.by.as_deref().unwrap_or_default();
                    if !questions.iter().any(|(code, _)| code == by) {
                        return Err(AppError::BadRequest("results.bad_breakdown"));
                    }
                }
            } else {
                results::round_results(conn, round_id, viewer)?;
            }
            db::export_jobs::insert(
                conn,
                &job_id,
                user_id,
                round_id,
                checked.kind.code(),
                &checked.format,
                &params,
                db::now(),
            )?;
            Ok(())
        })
        .await?;
    let pool = state.pool.clone();
    let dir = state.settings.export_dir.clone();
    let secret = state.secret.clone();
    let job_id = job.clone();
    std::thread::Builder::new()
        .name("export".to_owned())
        .spawn(move || {
            let outcome = (|| -> AppResult<()> {
                let mut conn = pool.get()?;
                run(&mut conn, &dir, &secret, &job_id, round_id, viewer, &request)
            })();
            if let Err(e) = outcome {
                tracing::error!(job = %job_id, error = %crate::error::cause_chain(&e), "export failed");
                if let Ok(mut conn) = pool.get() {
                    let message = match e {
                        AppError::Internal(_) | AppError::Unavailable(_) => "the export failed; please try again",
                        _ => "the export is not allowed or the round changed",
                    };
                    let _ = db::export_jobs::fail(&mut conn, &job_id, message, db::now());
                }
            }
        })
        .map_err(AppError::internal)?;
    Ok(job)
}

/// Runs one job to completion: writes `JOB.part`, then renames it to `JOB` and marks it done.
/// A job that fails leaves no `.part` file behind.
pub fn run(
    conn: &mut AnyConnection,
    dir: &std::path::Path,
    secret: &crate::app::auth::tokens::SecretKey,
    job: &str,
    round_id: i64,
    viewer: Viewer,
    request: &ExportRequest,
) -> AppResult<()> {
    std::fs::create_dir_all(dir).map_err(AppError::internal)?;
    let (part, done) = paths(dir, job);
    let outcome = (|| -> AppResult<()> {
        let file = std::fs::File::create(&part).map_err(AppError::internal)?;
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
        let rows = if request.kind == ExportKind::Microdata {
            microdata(conn, &mut out, secret, job, round_id, viewer, request)?
        } else {
            db::export_jobs::claim(conn, job, 1)?;
            out.write_all(&render_small(conn, round_id, viewer, request)?)
                .map_err(AppError::internal)?;
            1
        };
        let file = out
            .into_inner()
            .map_err(|e| AppError::internal(e.into_error()))?;
        file.sync_all().map_err(AppError::internal)?;
        std::fs::rename(&part, &done).map_err(AppError::internal)?;
        db::export_jobs::finish(conn, job, &request.file_name(round_id), rows, db::now())?;
        Ok(())
    })();
    if outcome.is_err() {
        // Not found is fine: the failure may have come before the file was created.
        let _ = std::fs::remove_file(&part);
    }
    outcome
}

/// Streams one group's responses as microdata: one page of rows in memory at a time. As
/// scored, only the responses the scores count; with exclusions, every response with its
/// status columns (the exclusion reasons are read once per page, for that page's excluded
/// responses only).
pub(super) fn microdata(
    conn: &mut AnyConnection,
    out: &mut std::io::BufWriter<std::fs::File>,
    secret: &crate::app::auth::tokens::SecretKey,
    job: &str,
    round_id: i64,
    viewer: Viewer,
    request: &ExportRequest,
) -> AppResult<i64> {
    let (variables, _) = group_variables(conn, round_id, viewer, request)?;
    let group = request.group.clone().unwrap_or_default();
    let group_id = db::rounds::group_id(conn, &group)?.ok_or(AppError::NotFound)?;
    let units = db::rounds::units(conn, round_id)?;
    let scope = results::scope_of(conn, viewer)?;
    let unit_ids: Option<Vec<i64>> = match &scope {
        Scope::All => None,
        Scope::Only(codes) => Some(
            units
                .iter()
                .filter(|u| codes.contains(&u.code))
                .map(|u| u.id)
                .collect(),
        ),
    };
    let by_id: BTreeMap<i64, &db::units::UnitRow> = units.iter().map(|u| (u.id, u)).collect();
    let with_excluded = request.include_excluded;
    let status = if with_excluded {
        STATUS_COLUMNS.len()
    } else {
        0
    };
    let questions = variables.get(status..).unwrap_or_default();
    let total = db::responses::count_for_microdata(
        conn,
        round_id,
        group_id,
        unit_ids.as_deref(),
        with_excluded,
    )?;
    if !db::export_jobs::claim(conn, job, total)? {
        return Err(AppError::internal(anyhow::anyhow!(
            "job {job} was already claimed"
        )));
    }
    let mut written = 0i64;
    let plan = RowPlan::new(questions, status);
    let mut row = plan.buffer();
    // Every row goes to `emit`; one page of responses is in memory at a time, and each row's
    // cells are borrowed from the page and one reused buffer.
    let mut each_row = |emit: &mut dyn FnMut(RowRef<'_>) -> anyhow::Result<()>| -> AppResult<()> {
        let mut after = 0;
        loop {
            let page = db::responses::page_for_microdata(
                conn,
                round_id,
                group_id,
                unit_ids.as_deref(),
                with_excluded,
                (after, PAGE),
            )?;
            let Some(last) = page.last() else {
                return Ok(());
            };
            after = last.id;
            let reasons = if with_excluded {
                let excluded: Vec<i64> = page.iter().filter(|r| r.excluded).map(|r| r.id).collect();
                db::responses::exclusion_reasons(conn, &excluded)?
            } else {
                BTreeMap::new()
            };
            for stored in &page {
                plan.fill(&stored.answers, &mut row)
                    .map_err(AppError::internal)?;
                if with_excluded {
                    // Unreadable stored flags are reported as none rather than failing the
                    // export: flags only inform.
                    let flags = stored
                        .flags
                        .as_deref()
                        .and_then(|f| crate::domain::quality::Flags::from_json(f).ok())
                        .map(|f| f.codes())
                        .unwrap_or_default();
                    let reason = reasons.get(&stored.id).map(String::as_str);
                    let status = status_values(stored.excluded, reason, &flags);
                    for (column, value) in status.iter().enumerate() {
                        row.set(column, value.as_deref());
                    }
                }
                // A keyed hash: stable across exports, meaningless without the server's key,
                // and unrelated to receipts, invitations or submission order.
                let signed = secret.sign("response-id", &stored.id.to_string());
                let response_id = signed.get(..16).unwrap_or(&signed);
                let unit = by_id.get(&stored.unit_id);
                let submitted = stored.submitted_on.to_string();
                let values = row.values();
                emit(RowRef {
                    fixed: [
                        response_id,
                        unit.map_or("", |u| u.code.as_str()),
                        unit.map_or("", |u| u.name_vi.as_str()),
                        unit.and_then(|u| u.region_code.as_deref()).unwrap_or(""),
                        &group,
                        &stored.source,
                        &submitted,
                    ],
                    values: &values,
                })
                .map_err(AppError::internal)?;
                written += 1;
            }
            db::export_jobs::set_progress(conn, job, written)?;
        }
    };
    if request.format == "xlsx" {
        let mut sheet = MicrodataXlsx::new(&variables).map_err(AppError::internal)?;
        each_row(&mut |r| sheet.write_row(r))?;
        sheet.finish(&mut *out).map_err(AppError::internal)?;
    } else {
        // PSPP and SPSS read one case per line and split a case at a quoted line break, so one
        // file serves every reader only without them.
        let mut csv = MicrodataCsv::new(&mut *out, &variables, &request.csv)
            .map_err(AppError::internal)?
            .flatten_line_breaks(true);
        each_row(&mut |r| csv.write_row(r))?;
        csv.finish().map_err(AppError::internal)?;
    }
    Ok(written)
}
