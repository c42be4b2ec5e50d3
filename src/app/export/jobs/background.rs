//! Microdata files made in the background: starting a job, running it page by page, and
//! where its files live.

use super::small::{group_variables, render_small};
use super::stream::microdata;
use super::{ExportKind, ExportRequest};
use crate::app::results::{self, Viewer};
use crate::app::state::AppState;
use crate::db::{self, AnyConnection};
use crate::error::{AppError, AppResult};
use actix_web::web;
use std::io::Write;
use std::path::PathBuf;

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
