//! Background export jobs: queued by a user, run by a worker, downloaded by the same user.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::schema::export_jobs;
use crate::domain::export_job::ExportJobStatus;

/// A stored job.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = export_jobs)]
pub struct ExportJobRow {
    /// Random id (also in the download URL).
    pub id: String,
    /// Who asked for it; only they may see or download it.
    pub user_id: i64,
    /// The round exported.
    pub round_id: Option<i64>,
    /// What is exported (`microdata`, `aggregates`, `codebook`, `syntax`).
    pub kind: String,
    /// File format.
    pub format: String,
    /// The rest of the request as JSON.
    pub params: String,
    /// Where the job is (an unknown stored code fails the query).
    #[diesel(deserialize_as = String)]
    pub status: ExportJobStatus,
    /// Rows written so far.
    pub progress: i64,
    /// Rows to write.
    pub total: i64,
    /// The finished file's name, as offered for download.
    pub file_name: Option<String>,
    /// What went wrong, for the user.
    pub error: Option<String>,
    /// When it was asked for.
    pub created_at: NaiveDateTime,
    /// When it finished.
    pub finished_at: Option<NaiveDateTime>,
}

/// Queues a job.
#[expect(clippy::too_many_arguments, reason = "one column each")]
pub fn insert(
    conn: &mut AnyConnection,
    id: &str,
    user_id: i64,
    round_id: i64,
    kind: &str,
    format: &str,
    params: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(export_jobs::table)
        .values((
            export_jobs::id.eq(id),
            export_jobs::user_id.eq(user_id),
            export_jobs::round_id.eq(round_id),
            export_jobs::kind.eq(kind),
            export_jobs::format.eq(format),
            export_jobs::params.eq(params),
            export_jobs::created_at.eq(now),
        ))
        .execute(conn)
}

/// One job.
pub fn get(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<ExportJobRow>> {
    export_jobs::table
        .find(id)
        .select(ExportJobRow::as_select())
        .get_result(conn)
        .optional()
}

/// A user's jobs, newest first.
pub fn of_user(
    conn: &mut AnyConnection,
    user_id: i64,
    limit: i64,
) -> QueryResult<Vec<ExportJobRow>> {
    export_jobs::table
        .filter(export_jobs::user_id.eq(user_id))
        .order(export_jobs::created_at.desc())
        .limit(limit)
        .select(ExportJobRow::as_select())
        .load(conn)
}

/// Claims a queued job for running; false when another worker took it first.
pub fn claim(conn: &mut AnyConnection, id: &str, total: i64) -> QueryResult<bool> {
    diesel::update(
        export_jobs::table
            .filter(export_jobs::id.eq(id))
            .filter(export_jobs::status.eq(ExportJobStatus::Queued.code())),
    )
    .set((
        export_jobs::status.eq(ExportJobStatus::Running.code()),
        export_jobs::total.eq(total),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Records progress.
pub fn set_progress(conn: &mut AnyConnection, id: &str, progress: i64) -> QueryResult<usize> {
    diesel::update(export_jobs::table.find(id))
        .set(export_jobs::progress.eq(progress))
        .execute(conn)
}

/// Marks a job done with its file name.
pub fn finish(
    conn: &mut AnyConnection,
    id: &str,
    file_name: &str,
    progress: i64,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(export_jobs::table.find(id))
        .set((
            export_jobs::status.eq(ExportJobStatus::Done.code()),
            export_jobs::file_name.eq(file_name),
            export_jobs::progress.eq(progress),
            export_jobs::finished_at.eq(now),
        ))
        .execute(conn)
}

/// Marks a job failed with a message for the user.
pub fn fail(
    conn: &mut AnyConnection,
    id: &str,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(export_jobs::table.find(id))
        .set((
            export_jobs::status.eq(ExportJobStatus::Failed.code()),
            export_jobs::error.eq(error),
            export_jobs::finished_at.eq(now),
        ))
        .execute(conn)
}

/// Fails jobs a crashed process left running or queued (their worker is gone), so users
/// see what happened and can start again.
pub fn fail_abandoned(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        export_jobs::table
            .filter(export_jobs::status.eq_any([
                ExportJobStatus::Queued.code(),
                ExportJobStatus::Running.code(),
            ]))
            .filter(export_jobs::created_at.lt(before)),
    )
    .set((
        export_jobs::status.eq(ExportJobStatus::Failed.code()),
        export_jobs::error.eq("interrupted by a restart; please start the export again"),
    ))
    .execute(conn)
}
