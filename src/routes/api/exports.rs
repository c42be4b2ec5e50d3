//! Export jobs: `/api/v1/rounds/{id}/exports`, `/api/v1/exports/{job}` and
//! `/api/v1/exports/{job}/file`.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::auth::api_token::ApiCaller;
use crate::app::export::CsvOptions;
use crate::app::export::jobs::{self, ExportRequest};
use crate::app::state::AppState;
use crate::db;
use crate::error::AppResult;

use super::ErrorBody;

/// An export job.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportJob {
    /// Job id.
    pub id: String,
    /// Round.
    pub round_id: Option<i64>,
    /// `microdata`, `aggregates`, `codebook`, `syntax` or `breakdown`.
    pub kind: String,
    /// File format.
    pub format: String,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// Rows written.
    pub progress: i64,
    /// Rows to write.
    pub total: i64,
    /// Where to download the file once done.
    pub download_url: Option<String>,
    /// What went wrong.
    pub error: Option<String>,
    /// The file holds every response with exclusions marked (false: as scored).
    pub include_excluded: bool,
}

impl From<db::export_jobs::ExportJobRow> for ExportJob {
    fn from(j: db::export_jobs::ExportJobRow) -> Self {
        Self {
            include_excluded: jobs::includes_excluded(&j),
            download_url: (j.status == crate::domain::export_job::ExportJobStatus::Done)
                .then(|| format!("/api/v1/exports/{}/file", j.id)),
            id: j.id,
            round_id: j.round_id,
            kind: j.kind,
            format: j.format,
            status: j.status.code().to_owned(),
            progress: j.progress,
            total: j.total,
            error: j.error,
        }
    }
}

/// A request to export.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewExport {
    /// `microdata`, `aggregates`, `codebook` or `syntax`.
    pub kind: String,
    /// `csv`, `xlsx`, `json`, `html`, `sps`, `do` or `r` (as the kind allows).
    pub format: String,
    /// Respondent group (all kinds but `aggregates`).
    pub group: Option<String>,
    /// The single-choice or yes/no question a `breakdown` splits by (required for it).
    pub by: Option<String>,
    /// Start CSV files with a byte-order mark (default true).
    pub bom: Option<bool>,
    /// `point` (default) or `comma`.
    pub decimal: Option<String>,
    /// Microdata, codebook or syntax of every response with exclusions marked (columns
    /// `excluded`, `exclusion_reason`, `quality_flags`); false (default): as scored.
    pub include_excluded: Option<bool>,
}

/// `POST /api/v1/rounds/{id}/exports`
#[utoipa::path(post, path = "/api/v1/rounds/{id}/exports", tag = "exports",
    params(("id" = i64, Path, description = "Round id")),
    request_body = NewExport,
    responses((status = 202, description = "Queued; poll the job", body = ExportJob),
        (status = 400, description = "Unknown kind, format or group", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 403, description = "Read-only token or role", body = ErrorBody),
        (status = 404, description = "No such round or group", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_export(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: web::Path<i64>,
    body: web::Json<NewExport>,
) -> AppResult<HttpResponse> {
    caller.require_write()?;
    let body = body.into_inner();
    let request = ExportRequest::parse(
        &body.kind,
        &body.format,
        body.group.as_deref().unwrap_or_default(),
        CsvOptions::from_request(body.bom.unwrap_or(true), body.decimal.as_deref()),
    )?
    .split_by(body.by.as_deref())?
    .include_excluded(body.include_excluded.unwrap_or(false))?;
    let job = jobs::start(&state, caller.viewer, id.into_inner(), request).await?;
    let row = jobs::started(&state, job).await?;
    Ok(HttpResponse::Accepted().json(ExportJob::from(row)))
}

/// The export job `job` of a staff caller; 404 when it is another account's.
async fn callers_job(
    state: &web::Data<AppState>,
    caller: &ApiCaller,
    job: String,
) -> AppResult<db::export_jobs::ExportJobRow> {
    let (user_id, _) = caller.require_staff()?;
    jobs::owned(state, user_id, job).await
}

/// `GET /api/v1/exports/{job}`
#[utoipa::path(get, path = "/api/v1/exports/{job}", tag = "exports",
    params(("job" = String, Path, description = "Job id")),
    responses((status = 200, description = "The job", body = ExportJob),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 404, description = "Not the caller's job", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export_job(
    state: web::Data<AppState>,
    caller: ApiCaller,
    job: web::Path<String>,
) -> AppResult<HttpResponse> {
    let row = callers_job(&state, &caller, job.into_inner()).await?;
    Ok(HttpResponse::Ok().json(ExportJob::from(row)))
}

/// `GET /api/v1/exports/{job}/file`
#[utoipa::path(get, path = "/api/v1/exports/{job}/file", tag = "exports",
    params(("job" = String, Path, description = "Job id")),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 404, description = "Not the caller's job, or not done", body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export_file(
    state: web::Data<AppState>,
    caller: ApiCaller,
    job: web::Path<String>,
) -> AppResult<HttpResponse> {
    let row = callers_job(&state, &caller, job.into_inner()).await?;
    Ok(crate::routes::results::export_download(
        jobs::finished_file(&state, &row).await?,
    ))
}
