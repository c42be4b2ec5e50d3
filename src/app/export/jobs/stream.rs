//! Streaming one group's responses into a microdata file, page by page. Each page is read in
//! one query; a CSV page is then formatted on every core, each core taking a contiguous share
//! of the page into its own buffer, and the shares are written in order, so the file is the
//! same byte for byte as one writer would make it (BENCHMARKS.md, scenario 7).

use std::collections::BTreeMap;

use super::super::microdata::{
    CsvOptions, MicrodataCsv, MicrodataXlsx, RowRef, STATUS_COLUMNS, Variable, status_values,
};
use super::ExportRequest;
use super::rows::{RowBuf, RowPlan};
use super::small::group_variables;
use crate::app::auth::tokens::SecretKey;
use crate::app::results::{Scope, Viewer};
use crate::db::responses::ResponseForExport;
use crate::db::units::UnitRow;
use crate::db::{self, AnyConnection};
use crate::error::{AppError, AppResult};

/// Rows read per database round trip.
const PAGE: i64 = 2_000;

/// How often at most the job's progress is written.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// A page of stored responses and the exclusion reasons of its excluded ones.
type Page = (Vec<ResponseForExport>, BTreeMap<i64, String>);

/// Fewest rows worth a thread of their own: below this, starting it costs more than it saves.
const MIN_ROWS_PER_THREAD: usize = 250;

/// What every row of one export shares.
struct Rows<'a> {
    plan: RowPlan<'a>,
    secret: &'a SecretKey,
    units: &'a BTreeMap<i64, &'a UnitRow>,
    group: &'a str,
    with_excluded: bool,
}

impl Rows<'_> {
    /// Fills `row` from one stored response and hands its cells to `emit`.
    fn emit<T>(
        &self,
        stored: &ResponseForExport,
        reason: Option<&str>,
        row: &mut RowBuf,
        emit: impl FnOnce(RowRef<'_>) -> anyhow::Result<T>,
    ) -> AppResult<T> {
        self.plan
            .fill(&stored.answers, row)
            .map_err(AppError::internal)?;
        if self.with_excluded {
            // Unreadable stored flags are reported as none rather than failing the export:
            // flags only inform.
            let flags = stored
                .flags
                .as_deref()
                .and_then(|f| crate::domain::quality::Flags::from_json(f).ok())
                .map(|f| f.codes())
                .unwrap_or_default();
            let status = status_values(stored.excluded, reason, &flags);
            for (column, value) in status.iter().enumerate() {
                row.set(column, value.as_deref());
            }
        }
        // A keyed hash: stable across exports, meaningless without the server's key, and
        // unrelated to receipts, invitations or submission order.
        let signed = self.secret.sign("response-id", &stored.id.to_string());
        let response_id = signed.get(..16).unwrap_or(&signed);
        let unit = self.units.get(&stored.unit_id);
        let submitted = stored.submitted_on.to_string();
        let values = row.values();
        emit(RowRef {
            fixed: [
                response_id,
                unit.map_or("", |u| u.code.as_str()),
                unit.map_or("", |u| u.name_vi.as_str()),
                unit.and_then(|u| u.region_code.as_deref()).unwrap_or(""),
                self.group,
                &stored.source,
                &submitted,
            ],
            values: &values,
        })
        .map_err(AppError::internal)
    }

    /// One page as CSV rows (no BOM, no header), formatted by as many threads as the machine
    /// has cores and the page has rows for, and returned in order.
    fn csv_page(
        &self,
        page: &[ResponseForExport],
        reasons: &BTreeMap<i64, String>,
        variables: &[Variable],
        opts: &CsvOptions,
    ) -> AppResult<Vec<Vec<u8>>> {
        let share = |rows: &[ResponseForExport]| -> AppResult<Vec<u8>> {
            let mut csv = MicrodataCsv::continuation(Vec::new(), variables, opts)
                .map_err(AppError::internal)?
                .flatten_line_breaks(true);
            let mut row = self.plan.buffer();
            for stored in rows {
                let reason = reasons.get(&stored.id).map(String::as_str);
                self.emit(stored, reason, &mut row, |r| csv.write_row(r))?;
            }
            Ok(csv.finish().map_err(AppError::internal)?.writer)
        };
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let threads = cores.min(page.len() / MIN_ROWS_PER_THREAD).max(1);
        if threads == 1 {
            return Ok(vec![share(page)?]);
        }
        let per_thread = page.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = page
                .chunks(per_thread)
                .map(|rows| scope.spawn(move || share(rows)))
                .collect();
            workers.into_iter().map(joined).collect()
        })
    }
}

/// What a formatting thread returned; its panic as an error.
fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, AppResult<T>>) -> AppResult<T> {
    thread.join().unwrap_or_else(|_| {
        Err(AppError::internal(anyhow::anyhow!(
            "a microdata formatting thread panicked"
        )))
    })
}

/// Streams one group's responses as microdata: at most two pages of rows in memory at a time. As
/// scored, only the responses the scores count; with exclusions, every response with its
/// status columns (the exclusion reasons are read once per page, for that page's excluded
/// responses only).
pub(super) fn microdata(
    conn: &mut AnyConnection,
    out: &mut std::io::BufWriter<std::fs::File>,
    secret: &SecretKey,
    job: &str,
    round_id: i64,
    viewer: Viewer,
    request: &ExportRequest,
) -> AppResult<i64> {
    use std::io::Write;
    let (variables, _) = group_variables(conn, round_id, viewer, request)?;
    let group = request.group.clone().unwrap_or_default();
    let group_id = db::rounds::group_id(conn, &group)?.ok_or(AppError::NotFound)?;
    let units = db::rounds::units(conn, round_id)?;
    let scope = viewer.scope(conn)?;
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
    let by_id: BTreeMap<i64, &UnitRow> = units.iter().map(|u| (u.id, u)).collect();
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
    let rows = Rows {
        plan: RowPlan::new(questions, status),
        secret,
        units: &by_id,
        group: &group,
        with_excluded,
    };
    // One page of stored responses and the exclusion reasons of its excluded ones.
    let mut after = 0;
    let mut next_page = |conn: &mut AnyConnection| -> AppResult<Page> {
        let page = db::responses::page_for_microdata(
            conn,
            round_id,
            group_id,
            unit_ids.as_deref(),
            with_excluded,
            (after, PAGE),
        )?;
        after = page.last().map_or(after, |last| last.id);
        let reasons = if with_excluded {
            let excluded: Vec<i64> = page.iter().filter(|r| r.excluded).map(|r| r.id).collect();
            db::responses::exclusion_reasons(conn, &excluded)?
        } else {
            BTreeMap::new()
        };
        Ok((page, reasons))
    };
    let mut written = 0i64;
    let mut recorded_at: Option<std::time::Instant> = None;
    // A few progress writes a second are all a person watching the job page can see; one per
    // page was a write transaction per 2,000 rows on the export's one sequential thread.
    let mut record_progress = |conn: &mut AnyConnection, rows: usize| -> AppResult<()> {
        written += i64::try_from(rows).unwrap_or(i64::MAX);
        if recorded_at.is_none_or(|at| at.elapsed() >= PROGRESS_EVERY) {
            db::export_jobs::set_progress(conn, job, written)?;
            recorded_at = Some(std::time::Instant::now());
        }
        Ok(())
    };
    if request.format == "xlsx" {
        let mut sheet = MicrodataXlsx::new(&variables).map_err(AppError::internal)?;
        let mut row = rows.plan.buffer();
        loop {
            let (page, reasons) = next_page(conn)?;
            if page.is_empty() {
                break;
            }
            for stored in &page {
                let reason = reasons.get(&stored.id).map(String::as_str);
                rows.emit(stored, reason, &mut row, |r| sheet.write_row(r))?;
            }
            record_progress(conn, page.len())?;
        }
        sheet.finish(&mut *out).map_err(AppError::internal)?;
    } else {
        // PSPP and SPSS read one case per line and split a case at a quoted line break, so one
        // file serves every reader only without them.
        MicrodataCsv::new(&mut *out, &variables, &request.csv)
            .map_err(AppError::internal)?
            .finish()
            .map_err(AppError::internal)?;
        let (rows, variables) = (&rows, &variables);
        // While the threads format one page, this thread reads the next one and then writes
        // the previous one, so the threads never wait for the database or the file.
        std::thread::scope(|scope| -> AppResult<()> {
            let mut formatting: Option<(usize, std::thread::ScopedJoinHandle<'_, _>)> = None;
            loop {
                let (page, reasons) = next_page(conn)?;
                let formatted = formatting.take();
                let last = page.is_empty();
                if !last {
                    let count = page.len();
                    formatting = Some((
                        count,
                        scope
                            .spawn(move || rows.csv_page(&page, &reasons, variables, &request.csv)),
                    ));
                }
                if let Some((count, done)) = formatted {
                    let shares: Vec<Vec<u8>> = joined(done)?;
                    for share in shares {
                        out.write_all(&share).map_err(AppError::internal)?;
                    }
                    record_progress(conn, count)?;
                }
                if last {
                    return Ok(());
                }
            }
        })?;
    }
    Ok(written)
}
