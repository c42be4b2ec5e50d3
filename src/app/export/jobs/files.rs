//! Finished jobs: their file names, their owner check and the file opened for download.

use super::super::CsvOptions;
use super::super::microdata::Variant;
use super::background::paths;
use super::{ExportKind, ExportRequest};
use crate::app::state::AppState;
use crate::db::{self};
use crate::domain::export_job::ExportJobStatus;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use actix_web::web;

/// What an export job's page says about its file: the group, the CSV layout and the
/// files that read it as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFile {
    /// The respondent group.
    pub group: Option<String>,
    /// The CSV layout; `None` for other formats.
    pub csv: Option<CsvOptions>,
    /// Links (label, address) to the syntax files that read this very CSV (its delimiter,
    /// decimal mark and BOM); empty unless it is a microdata CSV.
    pub syntax: Vec<(&'static str, String)>,
    /// The address of the group's codebook, for a microdata file.
    pub codebook: Option<String>,
    /// Which responses the file holds; `None` for kinds without variants.
    pub variant: Option<Variant>,
}

/// The [`JobFile`] of a job, from its stored request; `None` when the request cannot be read.
pub fn job_file(job: &db::export_jobs::ExportJobRow) -> Option<JobFile> {
    let request: ExportRequest = serde_json::from_str(&job.params).ok()?;
    let csv = (request.format == "csv").then_some(request.csv);
    let mut syntax = Vec::new();
    let mut codebook = None;
    if let (ExportKind::Microdata, Some(csv), Some(round), Some(group)) =
        (request.kind, csv, job.round_id, &request.group)
    {
        let mut query = Vec::new();
        if csv.decimal == super::super::Decimal::Comma {
            query.push("decimal=comma");
        }
        if !csv.bom {
            query.push("bom=0");
        }
        let variant = request.include_excluded.then_some("include_excluded=1");
        query.extend(variant);
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{}", query.join("&"))
        };
        let group = url_segment(group);
        let base = format!("/results/{round}/download");
        syntax = vec![
            ("SPSS", format!("{base}/syntax-{group}.sps{query}")),
            ("Stata", format!("{base}/syntax-{group}.do{query}")),
            ("R", format!("{base}/syntax-{group}.R{query}")),
        ];
        let codebook_query = variant.map(|v| format!("?{v}")).unwrap_or_default();
        codebook = Some(format!("{base}/codebook-{group}.html{codebook_query}"));
    }
    Some(JobFile {
        variant: request.kind.has_variants().then(|| request.variant()),
        group: request.group,
        csv,
        syntax,
        codebook,
    })
}

/// Whether a job's file holds excluded responses (from its stored request; false when it
/// cannot be read), for the API's job description.
pub fn includes_excluded(job: &db::export_jobs::ExportJobRow) -> bool {
    serde_json::from_str::<ExportRequest>(&job.params).is_ok_and(|r| r.include_excluded)
}

/// `text` with everything but ASCII letters, digits, `-` and `_` percent-encoded, for a path.
fn url_segment(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// How many of a user's export jobs their list shows.
const RECENT_JOBS: i64 = 50;

/// The latest export jobs of `user_id`, newest first.
pub async fn recent_of_user(
    state: &web::Data<AppState>,
    user_id: i64,
) -> AppResult<Vec<db::export_jobs::ExportJobRow>> {
    state
        .db(move |conn| Ok(db::export_jobs::of_user(conn, user_id, RECENT_JOBS)?))
        .await
}

/// The job `job`, as its starter sees it right after [`start`](super::start).
pub async fn started(
    state: &web::Data<AppState>,
    job: String,
) -> AppResult<db::export_jobs::ExportJobRow> {
    state
        .db(move |conn| db::export_jobs::get(conn, &job)?.ok_or(AppError::NotFound))
        .await
}

/// A job of `user_id` (someone else's is "not found").
pub async fn owned(
    state: &web::Data<AppState>,
    user_id: i64,
    job: String,
) -> AppResult<db::export_jobs::ExportJobRow> {
    state
        .db(move |conn| {
            db::export_jobs::get(conn, &job)?
                .filter(|j| j.user_id == user_id)
                .ok_or(AppError::NotFound)
        })
        .await
}

/// The finished file of a job, opened for reading: the download routes stream it over HTTP.
pub struct ExportFile {
    /// The file name offered to the browser.
    pub name: String,
    /// The MIME type of the format.
    pub content_type: &'static str,
    /// The size in bytes, sent as `Content-Length`.
    pub length: u64,
    file: std::fs::File,
}

impl ExportFile {
    /// The content in chunks of 256 KiB, each read on the blocking pool so that a large file
    /// never holds up a worker.
    pub fn into_chunks(self) -> impl futures_util::Stream<Item = Result<web::Bytes, AppError>> {
        futures_util::stream::unfold(Some(self.file), |file| async move {
            let mut file = file?;
            let read = web::block(move || {
                let mut buf = vec![0u8; 256 * 1024];
                let n = std::io::Read::read(&mut file, &mut buf)?;
                buf.truncate(n);
                Ok::<_, std::io::Error>((buf, file))
            })
            .await;
            match read {
                Ok(Ok((buf, _))) if buf.is_empty() => None,
                Ok(Ok((buf, file))) => Some((Ok(web::Bytes::from(buf)), Some(file))),
                Ok(Err(e)) => Some((Err(AppError::internal(e)), None)),
                Err(e) => Some((Err(AppError::from(e)), None)),
            }
        })
    }
}

/// The finished file of a job ("not found" until the job is done).
pub async fn finished_file(
    state: &web::Data<AppState>,
    job: &db::export_jobs::ExportJobRow,
) -> AppResult<ExportFile> {
    let name = job
        .file_name
        .clone()
        .filter(|_| job.status == ExportJobStatus::Done)
        .ok_or(AppError::NotFound)?;
    let (_, path) = paths(&state.settings.export_dir, &job.id);
    let file = web::block(move || std::fs::File::open(path))
        .await?
        .map_err(|_| AppError::NotFound)?;
    let length = file.metadata().map_err(AppError::internal)?.len();
    let request = ExportRequest {
        kind: ExportKind::parse(&job.kind).unwrap_or(ExportKind::Microdata),
        format: job.format.clone(),
        group: None,
        table: None,
        by: None,
        csv: CsvOptions::default(),
        lang: Lang::Vi,
        include_excluded: false,
    };
    Ok(ExportFile {
        name,
        content_type: request.content_type(),
        length,
        file,
    })
}
