//! Scenario 1, complete respondent journeys, and the memory rows (scenario 10) taken from
//! its run.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use khaosat::db;

use crate::load::{self, Browser, LoadReport, Plan, Pool};
use crate::prep::{self, BenchDb};
use crate::report::{Row, Verdict};
use crate::server::{self, Server, mib};

use super::{Opts, START_TIMEOUT, latency, progress};
/// What a journey run measured.
pub struct JourneyRun {
    /// The merged load report (unit: completed journeys).
    pub report: LoadReport,
    /// Acknowledged but not stored; stored but not acknowledged.
    pub lost: usize,
    /// Stored without acknowledgement.
    pub extra: usize,
    /// Server RSS after start, idle, KiB.
    pub idle_kib: u64,
    /// Server peak RSS at the end of the run, KiB.
    pub peak_kib: u64,
    /// Server CPU seconds spent during the run.
    pub cpu_seconds: f64,
    /// CPU seconds of the load generator (this process) during the run.
    pub client_cpu_seconds: f64,
    /// Errors the server logged.
    pub server_errors: usize,
}

impl JourneyRun {
    /// True when there were no errors and nothing was lost or added.
    pub fn clean(&self) -> bool {
        self.report.errors == 0 && self.lost == 0 && self.extra == 0 && self.server_errors == 0
    }

    /// "0 errors, 0 lost, 0 extra" and the first error messages.
    pub fn integrity(&self) -> String {
        let mut text = format!(
            "{} errors, {} lost, {} extra",
            self.report.errors, self.lost, self.extra
        );
        if self.server_errors > 0 {
            text.push_str(&format!(", {} server errors logged", self.server_errors));
        }
        if let Some(first) = self.report.first_errors.first() {
            text.push_str(&format!(" (first: {first})"));
        }
        text
    }
}

/// What is read when a timed load starts, to compare with its end.
pub(super) struct Mark {
    receipts: std::collections::BTreeSet<String>,
    server: server::ProcStats,
    client_cpu: f64,
}

impl Mark {
    /// The round's receipts and the CPU counters of server and load generator now.
    pub(super) fn now(pool: &db::DbPool, round: i64, server: &Server) -> Result<Self> {
        Ok(Self {
            receipts: prep::receipts(pool, round)?,
            server: server.stats()?,
            client_cpu: server::proc_stats(std::process::id())?.cpu_seconds,
        })
    }

    /// The run since this mark: reconciliation with the database, CPU and memory.
    pub(super) fn finish(
        self,
        pool: &db::DbPool,
        round: i64,
        server: &Server,
        report: LoadReport,
    ) -> Result<JourneyRun> {
        let end = server.stats()?;
        let client = server::proc_stats(std::process::id())?.cpu_seconds;
        let (lost, extra) = prep::reconcile(pool, round, &self.receipts, &report.receipts)?;
        Ok(JourneyRun {
            lost,
            extra,
            idle_kib: self.server.rss_kib,
            peak_kib: end.peak_kib,
            cpu_seconds: end.cpu_seconds - self.server.cpu_seconds,
            client_cpu_seconds: client - self.client_cpu,
            server_errors: server.logged_errors(),
            report,
        })
    }
}

/// Scenario 1: complete journeys (intro, start, GET+POST per section, review, submit,
/// receipt page) by `concurrency` respondents for `duration`, then the reconciliation.
pub async fn journey(opts: &Opts, db: &BenchDb) -> Result<JourneyRun> {
    let pool = db.pool(4)?;
    progress(&format!("journey: issuing {} access codes", opts.codes));
    let round = prep::bench_round(&pool, &db.url, opts.codes, opts.seed)?;
    let server = Server::start(&db.url, &db.dir, START_TIMEOUT).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mark = Mark::now(&pool, round.id, &server)?;
    let plan = Arc::new(Plan::new(&round.instrument));
    let codes = Pool::new(round.codes);
    progress(&format!(
        "journey: {} respondents for {:?} on {}",
        opts.concurrency,
        opts.duration,
        db.url.split(':').next().unwrap_or("?")
    ));
    let report = journeys(&server, plan, codes, opts.concurrency, opts.duration).await?;
    mark.finish(&pool, round.id, &server, report)
}

/// Virtual users of the reference run of the overload scenario.
const REFERENCE_USERS: usize = 64;

/// Virtual users of the overload scenario.
const OVERLOAD_USERS: usize = 512;

/// Scenario 13, overload: journeys by [`REFERENCE_USERS`] and then by [`OVERLOAD_USERS`]
/// respondents against one server on SQLite, each for `duration`. A respondent refused with
/// `503` waits its `Retry-After` and sends the same request again (as in every scenario);
/// anything else than an answer or such a `503` is an error.
pub async fn overload(opts: &Opts, db: &BenchDb) -> Result<Row> {
    let pool = db.pool(4)?;
    let needed = opts.codes * 3;
    progress(&format!("overload: issuing {needed} access codes"));
    let round = prep::bench_round(&pool, &db.url, needed, opts.seed)?;
    let server = Server::start(&db.url, &db.dir, START_TIMEOUT).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let plan = Arc::new(Plan::new(&round.instrument));
    let codes = Pool::new(round.codes);
    let mut runs = Vec::new();
    for users in [REFERENCE_USERS, OVERLOAD_USERS] {
        progress(&format!(
            "overload: {users} respondents for {:?}",
            opts.duration
        ));
        let mark = Mark::now(&pool, round.id, &server)?;
        let report = journeys(&server, plan.clone(), codes.clone(), users, opts.duration).await?;
        runs.push(mark.finish(&pool, round.id, &server, report)?);
    }
    Ok(overload_row(&runs[0], &runs[1]))
}

/// The row of the overload scenario: the overload run against the reference run.
fn overload_row(reference: &JourneyRun, overload: &JourneyRun) -> Row {
    let r = &overload.report;
    let ratio = r.rate() / reference.report.rate().max(1e-9);
    let p99 = r.percentile_ms(0.99);
    let shed_p99 = crate::load::percentile_ms(&r.shed_latencies, 0.99);
    let measured = format!(
        "{:.0} journeys/s with {OVERLOAD_USERS} users = {:.0} % of {:.0}/s with {REFERENCE_USERS} users in the same run; accepted requests p50 {:.1} ms, p99 {p99:.1} ms; {:.1} % of requests refused with 503 (p99 {shed_p99:.1} ms) and sent again after Retry-After; {}{}",
        r.rate(),
        ratio * 100.0,
        reference.report.rate(),
        r.percentile_ms(0.50),
        r.shed_share() * 100.0,
        overload.integrity(),
        if r.exhausted || reference.report.exhausted {
            "; CODE POOL EXHAUSTED"
        } else {
            ""
        }
    );
    let verdict = if !overload.clean() || !reference.clean() {
        Verdict::Failed(format!(
            "{REFERENCE_USERS} users: {}; {OVERLOAD_USERS} users: {}",
            reference.integrity(),
            overload.integrity()
        ))
    } else {
        Verdict::check(
            p99 < 250.0 && ratio >= 0.9,
            (250.0 / p99.max(1e-9)).min(ratio / 0.9),
        )
    };
    Row::new(
        "13",
        &format!("Overload: {OVERLOAD_USERS} respondents on one SQLite instance"),
        &format!(
            "p99 of accepted requests < 250 ms, ≥ 90 % of the {REFERENCE_USERS}-user rate, no error but 503 + Retry-After, nothing lost"
        ),
        measured,
        verdict,
    )
}

/// Journeys by `users` respondents against `server` for `duration`, taking codes from
/// `codes`.
async fn journeys(
    server: &Server,
    plan: Arc<Plan>,
    codes: Arc<Pool<String>>,
    users: usize,
    duration: Duration,
) -> Result<LoadReport> {
    let (report, _) = load::run_users(
        load::browsers(&server.base, users)?,
        duration,
        move |_, mut b: Browser, mut r: LoadReport| {
            let (plan, codes) = (plan.clone(), codes.clone());
            async move {
                let Some((i, code)) = codes.take().map(|(i, c)| (i, c.clone())) else {
                    r.exhausted = true;
                    return (b, r, false);
                };
                let outcome = async {
                    let drafted = load::answer_to_review(&mut b, &code, &plan, i).await?;
                    let receipt = load::submit(&mut b, &drafted).await?;
                    b.get(&format!("/receipt/{receipt}"))
                        .await?
                        .expect(200, "receipt page")?;
                    anyhow::Ok(receipt)
                }
                .await;
                r.submitted(outcome);
                (b, r, true)
            }
        },
    )
    .await?;
    Ok(report)
}

/// The row of a journey run against a target rate.
pub fn journey_row(id: &str, backend: &str, users: usize, run: &JourneyRun, target: f64) -> Row {
    let r = &run.report;
    let rate = r.rate();
    let p99 = r.percentile_ms(0.99);
    let per_journey = r.latencies.len() as f64 / (r.completed + r.errors).max(1) as f64;
    let measured = format!(
        "{rate:.0} journeys/s ({} in {:.1} s; {:.0} req/s, {per_journey:.0} req/journey), {}; {}; CPU per journey: server {:.1} ms, load generator {:.1} ms (server busy {:.2} of 2 cores); peak RSS {:.0} MB{}",
        r.completed,
        r.elapsed.as_secs_f64(),
        r.request_rate(),
        latency(r),
        run.integrity(),
        run.cpu_seconds * 1000.0 / r.completed.max(1) as f64,
        run.client_cpu_seconds * 1000.0 / r.completed.max(1) as f64,
        run.cpu_seconds / r.elapsed.as_secs_f64().max(1e-9),
        mib(run.peak_kib),
        if r.exhausted {
            "; CODE POOL EXHAUSTED"
        } else {
            ""
        }
    );
    let verdict = if !run.clean() {
        Verdict::Failed(run.integrity())
    } else {
        let ok = rate >= target && p99 < 50.0;
        Verdict::check(ok, (rate / target).min(50.0 / p99.max(1e-9)))
    };
    Row::new(
        id,
        &format!("Respondent journey, {backend}, {users} users"),
        &format!("≥ {target:.0} journeys/s, p99 < 50 ms, 0 errors"),
        measured,
        verdict,
    )
}

/// Memory rows (scenario 10) from the journey run.
pub fn memory_rows(run: &JourneyRun) -> Vec<Row> {
    vec![
        Row::new(
            "10a",
            "Server RSS, idle after start",
            "< 30 MB",
            format!("{:.1} MB", mib(run.idle_kib)),
            Verdict::check(mib(run.idle_kib) < 30.0, 30.0 / mib(run.idle_kib).max(1e-9)),
        ),
        Row::new(
            "10b",
            "Server peak RSS under scenario 1",
            "< 150 MB",
            format!("{:.1} MB", mib(run.peak_kib)),
            Verdict::check(
                mib(run.peak_kib) < 150.0,
                150.0 / mib(run.peak_kib).max(1e-9),
            ),
        ),
    ]
}
