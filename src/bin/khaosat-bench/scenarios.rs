//! The scenarios of the benchmark issue, each on its own fresh database and server process
//! (the large demo round is cached between runs), each returning its table rows.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use khaosat::db;
use khaosat::db::responses::NewResponse;

use crate::load::{self, Browser, Drafted, LoadReport, Plan, Pool};
use crate::prep::{self, BenchDb};
use crate::report::{Row, Verdict};
use crate::server::{self, Server, mib};

/// Settings of a run, from the command line.
#[derive(Debug, Clone)]
pub struct Opts {
    /// Length of each fixed-duration load.
    pub duration: Duration,
    /// Virtual users.
    pub concurrency: usize,
    /// Responses of the large demo round (scenarios 5-8).
    pub responses: u64,
    /// Access codes issued for the journey scenario.
    pub codes: usize,
    /// Drafts prepared for the submit-only scenario.
    pub submit_pool: usize,
    /// Demo seed.
    pub seed: u64,
    /// Where the large demo round is kept between runs.
    pub cache_dir: PathBuf,
    /// Sequential dashboard requests timed.
    pub dashboard_requests: usize,
    /// Repetitions of the cold start.
    pub cold_starts: usize,
}

/// How long a server may take to start on a large database.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Whole milliseconds, for reports.
fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// A line on stderr: progress of a long run (stdout carries the results).
pub fn progress(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "[khaosat-bench] {message}");
}

/// Latency summary of a report: p50 and p99 in milliseconds.
fn latency(r: &LoadReport) -> String {
    format!(
        "p50 {:.1} ms, p99 {:.1} ms",
        r.percentile_ms(0.50),
        r.percentile_ms(0.99)
    )
}

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
struct Mark {
    receipts: std::collections::BTreeSet<String>,
    server: server::ProcStats,
    client_cpu: f64,
}

impl Mark {
    /// The round's receipts and the CPU counters of server and load generator now.
    fn now(pool: &db::DbPool, round: i64, server: &Server) -> Result<Self> {
        Ok(Self {
            receipts: prep::receipts(pool, round)?,
            server: server.stats()?,
            client_cpu: server::proc_stats(std::process::id())?.cpu_seconds,
        })
    }

    /// The run since this mark: reconciliation with the database, CPU and memory.
    fn finish(
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
    let (report, _) = load::run_users(
        load::browsers(&server.base, opts.concurrency)?,
        opts.duration,
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
                match outcome {
                    Ok(receipt) => {
                        r.completed += 1;
                        r.receipts.push(receipt);
                    }
                    Err(e) => r.error(&e),
                }
                (b, r, true)
            }
        },
    )
    .await?;
    mark.finish(&pool, round.id, &server, report)
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

/// Scenario 2: `submit_pool` drafts answered up to their review page (untimed), then only
/// the final submit POSTs, timed, by `concurrency` users until every draft is submitted.
pub async fn submit_only(opts: &Opts) -> Result<(Row, LoadReport)> {
    let db = BenchDb::sqlite("submit")?;
    let pool = db.pool(4)?;
    progress(&format!(
        "submit: issuing {} access codes",
        opts.submit_pool
    ));
    let round = prep::bench_round(&pool, &db.url, opts.submit_pool, opts.seed)?;
    let server = Server::start(&db.url, &db.dir, START_TIMEOUT).await?;
    let plan = Arc::new(Plan::new(&round.instrument));
    let codes = Pool::new(round.codes);
    let drafts: Arc<Mutex<Vec<Vec<Drafted>>>> = Arc::new(Mutex::new(
        (0..opts.concurrency).map(|_| Vec::new()).collect(),
    ));
    progress(&format!(
        "submit: preparing {} drafts up to review (untimed)",
        opts.submit_pool
    ));
    let store = drafts.clone();
    let (prepared, browsers) = load::run_users(
        load::browsers(&server.base, opts.concurrency)?,
        Duration::from_secs(3600),
        move |user, mut b: Browser, mut r: LoadReport| {
            let (plan, codes, store) = (plan.clone(), codes.clone(), store.clone());
            async move {
                let Some((i, code)) = codes.take().map(|(i, c)| (i, c.clone())) else {
                    return (b, r, false);
                };
                match load::answer_to_review(&mut b, &code, &plan, i).await {
                    Ok(d) => {
                        r.completed += 1;
                        if let Ok(mut all) = store.lock() {
                            all[user].push(d);
                        }
                    }
                    Err(e) => r.error(&e),
                }
                (b, r, true)
            }
        },
    )
    .await?;
    if prepared.errors > 0 {
        bail!(
            "preparing drafts failed {} times: {:?}",
            prepared.errors,
            prepared.first_errors
        );
    }
    let mark = Mark::now(&pool, round.id, &server)?;
    progress("submit: timing the submissions");
    let (report, _) = load::run_users(
        browsers,
        Duration::from_secs(3600),
        move |user, mut b: Browser, mut r: LoadReport| {
            let drafts = drafts.clone();
            async move {
                let next = drafts.lock().ok().and_then(|mut all| all[user].pop());
                let Some(d) = next else {
                    return (b, r, false);
                };
                match load::submit(&mut b, &d).await {
                    Ok(receipt) => {
                        r.completed += 1;
                        r.receipts.push(receipt);
                    }
                    Err(e) => r.error(&e),
                }
                (b, r, true)
            }
        },
    )
    .await?;
    let run = mark.finish(&pool, round.id, &server, report)?;
    let r = &run.report;
    let measured = format!(
        "{:.0} responses/s ({} submits in {:.2} s, {} users), {}; {}; CPU per submit: server {:.2} ms, load generator {:.2} ms (server busy {:.2} of 2 cores)",
        r.rate(),
        r.completed,
        r.elapsed.as_secs_f64(),
        opts.concurrency,
        latency(r),
        run.integrity(),
        run.cpu_seconds * 1000.0 / r.completed.max(1) as f64,
        run.client_cpu_seconds * 1000.0 / r.completed.max(1) as f64,
        run.cpu_seconds / r.elapsed.as_secs_f64().max(1e-9)
    );
    let verdict = if run.clean() {
        Verdict::check(r.rate() >= 2000.0, r.rate() / 2000.0)
    } else {
        Verdict::Failed(run.integrity())
    };
    let row = Row::new(
        "2",
        "Submit only (final POST of a complete response), SQLite",
        "≥ 2,000 responses/s",
        measured,
        verdict,
    );
    Ok((row, run.report))
}

/// Scenario 3: the rows of a submission (response + count + tallies) inserted in process
/// through `khaosat::db`, one write transaction per response, by `threads` threads.
pub fn ceiling(opts: &Opts, threads: usize) -> Result<(Row, f64)> {
    let bench = BenchDb::sqlite("ceiling")?;
    let pool = bench.pool(u32::try_from(threads + 1)?)?;
    let round = prep::bench_round(&pool, &bench.url, 0, opts.seed)?;
    let before = prep::receipts(&pool, round.id)?.len();
    let variants: Vec<_> = (0..7)
        .map(|v| {
            let a = prep::answers(&round.instrument, v);
            (a.to_json(), a)
        })
        .collect();
    progress(&format!(
        "ceiling: {threads} threads inserting for {:?}",
        opts.duration
    ));
    let today = chrono::Utc::now().date_naive();
    let started = Instant::now();
    let end = started + opts.duration;
    let counts = std::thread::scope(|scope| -> Result<Vec<u64>> {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (pool, round, variants) = (&pool, &round, &variants);
                scope.spawn(move || -> Result<u64> {
                    let mut conn = pool.get()?;
                    let mut n: u64 = 0;
                    while Instant::now() < end {
                        let (json, answers) = &variants[(n as usize) % variants.len()];
                        let unit = round.unit_ids[(n as usize) % round.unit_ids.len()];
                        let receipt = format!("CEIL-{t}-{n}");
                        db::write_transaction(&mut conn, |conn| {
                            db::responses::insert(
                                conn,
                                &NewResponse {
                                    receipt: &receipt,
                                    submission_key: &receipt,
                                    round_id: round.id,
                                    unit_id: unit,
                                    group_id: round.group_id,
                                    instrument_id: round.instrument_id,
                                    submitted_on: today,
                                    source: "web",
                                    duration_seconds: Some(600),
                                    answers: json,
                                },
                            )?;
                            khaosat::app::scores::add_to_tallies(
                                conn,
                                round.id,
                                unit,
                                round.group_id,
                                answers,
                            )
                        })
                        .map_err(prep::lib_err)?;
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("an insert thread panicked"))?
            })
            .collect()
    })?;
    let elapsed = started.elapsed();
    let inserted: u64 = counts.iter().sum();
    let stored = prep::receipts(&pool, round.id)?.len() - before;
    let rate = inserted as f64 / elapsed.as_secs_f64();
    let cells = khaosat::app::scores::tally_cells(&variants[0].1).len();
    let measured = format!(
        "{rate:.0} responses/s ({inserted} in {:.1} s, {threads} threads; 1 response + 1 count + {cells} tally upserts per transaction); {stored} stored",
        elapsed.as_secs_f64()
    );
    let verdict = if u64::try_from(stored)? == inserted {
        Verdict::Reported
    } else {
        Verdict::Failed(format!("{inserted} inserted but {stored} stored"))
    };
    Ok((
        Row::new(
            "3",
            "Persistence ceiling: same rows, no HTTP, SQLite",
            "report (scenario 2 ≥ 50 % of it)",
            measured,
            verdict,
        ),
        rate,
    ))
}

/// The row comparing scenario 2 with the ceiling of scenario 3.
pub fn submit_vs_ceiling(submit_rate: f64, ceiling_rate: f64) -> Row {
    let share = submit_rate / ceiling_rate.max(1e-9);
    Row::new(
        "2/3",
        "Submit over HTTP as a share of the persistence ceiling",
        "≥ 50 %",
        format!(
            "{:.0} % ({submit_rate:.0} / {ceiling_rate:.0} responses/s)",
            share * 100.0
        ),
        Verdict::check(share >= 0.5, share / 0.5),
    )
}

/// GETs `path(user)` repeatedly with `concurrency` users for `duration`, expecting 200.
async fn get_load(
    opts: &Opts,
    paths: Arc<Vec<String>>,
    browsers: Vec<Browser>,
) -> Result<(LoadReport, Vec<Browser>)> {
    load::run_users(
        browsers,
        opts.duration,
        move |user, mut b: Browser, mut r: LoadReport| {
            let paths = paths.clone();
            async move {
                let path = &paths[user % paths.len()];
                match b.get(path).await.and_then(|p| p.expect(200, path)) {
                    Ok(_) => r.completed += 1,
                    Err(e) => r.error(&e),
                }
                (b, r, true)
            }
        },
    )
    .await
}

/// Scenario 4: `/healthz` under the same concurrency (the HTTP ceiling), and a questionnaire
/// page GET (section 1 of a started draft, one per user) as a share of it.
pub async fn healthz(opts: &Opts) -> Result<Vec<Row>> {
    let db = BenchDb::sqlite("healthz")?;
    let pool = db.pool(2)?;
    let round = prep::bench_round(&pool, &db.url, opts.concurrency, opts.seed)?;
    let server = Server::start(&db.url, &db.dir, START_TIMEOUT).await?;
    progress(&format!(
        "healthz: {} users for {:?}",
        opts.concurrency, opts.duration
    ));
    let health = Arc::new(vec!["/healthz".to_owned()]);
    let (h, mut browsers) = get_load(
        opts,
        health,
        load::browsers(&server.base, opts.concurrency)?,
    )
    .await?;
    // Each user starts its own draft, then reloads its first section page.
    let mut pages = Vec::with_capacity(browsers.len());
    for (b, code) in browsers.iter_mut().zip(&round.codes) {
        let (_, first) = load::start(b, code).await?;
        b.latencies.clear();
        pages.push(first);
    }
    progress(&format!(
        "form page: {} users for {:?}",
        opts.concurrency, opts.duration
    ));
    let (f, _) = get_load(opts, Arc::new(pages), browsers).await?;
    let describe =
        |r: &LoadReport| format!("{:.0} req/s, {}, {} errors", r.rate(), latency(r), r.errors);
    let share = f.rate() / h.rate().max(1e-9);
    let failed =
        |r: &LoadReport| (r.errors > 0).then(|| Verdict::Failed(format!("{} errors", r.errors)));
    Ok(vec![
        Row::new(
            "4",
            &format!("GET /healthz, {} users (HTTP ceiling)", opts.concurrency),
            "report",
            describe(&h),
            failed(&h).unwrap_or(Verdict::Reported),
        ),
        Row::new(
            "4b",
            &format!("GET questionnaire section page, {} users", opts.concurrency),
            "≥ 30 % of /healthz",
            format!("{}; {:.0} % of /healthz", describe(&f), share * 100.0),
            failed(&f).unwrap_or_else(|| Verdict::check(share >= 0.3, share / 0.3)),
        ),
    ])
}

/// The large demo round of scenarios 5-8, created by `khaosat demo` or found in the cache.
pub struct BigRound {
    /// Its database (kept).
    pub db: BenchDb,
    /// The round id.
    pub round: i64,
    /// How it was obtained, for the report.
    pub origin: String,
}

/// Creates (or reuses from `cache_dir`) a demo round of `responses` responses with the seed.
pub fn big_round(opts: &Opts) -> Result<BigRound> {
    let dir = opts
        .cache_dir
        .join(format!("demo-2023-{}-seed{}", opts.responses, opts.seed));
    let marker = dir.join("created-seconds.txt");
    if let Ok(text) = std::fs::read_to_string(&marker) {
        let db = BenchDb::cached(&dir)?;
        let pool = db.pool(1)?;
        if let Some((round, n)) = prep::demo_round_of(&pool)?
            && u64::try_from(n)? == opts.responses
        {
            return Ok(BigRound {
                origin: format!(
                    "reused from {} (khaosat demo took {} s when it was made)",
                    dir.display(),
                    text.trim()
                ),
                db,
                round,
            });
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let db = BenchDb::cached(&dir)?;
    progress(&format!(
        "creating the demo round: khaosat demo --round-year 2023 --responses {} --seed {} (this takes a while)",
        opts.responses, opts.seed
    ));
    let (out, elapsed, peak) = server::run_khaosat(
        &db.url,
        &dir,
        &[
            "demo",
            "--round-year",
            "2023",
            "--responses",
            &opts.responses.to_string(),
            "--seed",
            &opts.seed.to_string(),
        ],
    )?;
    progress(out.trim());
    std::fs::write(&marker, format!("{:.1}", elapsed.as_secs_f64()))?;
    let pool = db.pool(1)?;
    let (round, _) = prep::demo_round_of(&pool)?.context("the demo made no round")?;
    Ok(BigRound {
        origin: format!(
            "made now: khaosat demo took {:.1} s ({:.0} responses/s, peak RSS {:.0} MB, database {:.2} GB)",
            elapsed.as_secs_f64(),
            opts.responses as f64 / elapsed.as_secs_f64(),
            mib(peak),
            db.file_bytes() as f64 / 1e9
        ),
        db,
        round,
    })
}

/// Scenario 5: `khaosat compute` on the large round (recompute from raw answers, check the
/// live tallies, rank).
pub fn compute(opts: &Opts, big: &BigRound) -> Result<Row> {
    progress("compute: khaosat compute on the large round");
    let round = big.round.to_string();
    let (out, wall, peak) = server::run_khaosat(&big.db.url, &big.db.dir, &["compute", &round])?;
    let first = out.lines().next().unwrap_or_default();
    // "round R: N responses recomputed from the raw answers in X s"
    let secs: f64 = first
        .rsplit_once(" in ")
        .and_then(|(_, t)| t.trim_end_matches(" s").parse().ok())
        .context("no timing in the output of khaosat compute")?;
    let equal = out.contains("live tallies equal the recomputation");
    let measured = format!(
        "{secs:.2} s (khaosat's own timer; {:.2} s wall with process start), peak RSS {:.0} MB; {}",
        wall.as_secs_f64(),
        mib(peak),
        first
    );
    let verdict = if equal {
        Verdict::check(secs < 5.0, 5.0 / secs.max(1e-9))
    } else {
        Verdict::Failed("live tallies differ from the recomputation".into())
    };
    Ok(Row::new(
        "5",
        &format!("khaosat compute, {} responses", opts.responses),
        "< 5 s",
        measured,
        verdict,
    ))
}

/// Logs a browser in as a new analyst of the database behind `server`.
async fn analyst_browser(db: &BenchDb, server: &Server) -> Result<(Browser, i64)> {
    let pool = db.pool(1)?;
    let email = format!("bench-{}@sonoivu.gov.vn", uuid::Uuid::new_v4().simple());
    let user = prep::analyst(&pool, &email)?;
    let mut b = Browser::new(&server.base)?;
    let login = b.get("/admin/login").await?.expect(200, "login page")?;
    b.post(
        "/admin/login",
        &[
            ("email".into(), email),
            ("password".into(), prep::PASSWORD.into()),
            ("csrf_token".into(), login.hidden("csrf_token")?),
        ],
    )
    .await?
    .redirect("login")?;
    Ok((b, user))
}

/// Sequential GETs of the round's dashboard by a logged-in analyst: the first (cold) one,
/// then `n` timed after 5 warm-up requests. Returns (cold ms, sorted µs, bytes).
async fn dashboard_times(db: &BenchDb, round: i64, n: usize) -> Result<(f64, Vec<u32>, usize)> {
    let server = Server::start(&db.url, &db.dir, START_TIMEOUT).await?;
    let (mut b, _) = analyst_browser(db, &server).await?;
    let path = format!("/results/{round}");
    let page = b.get(&path).await?.expect(200, "dashboard")?;
    let cold = b.latencies.last().map_or(0.0, |l| f64::from(*l) / 1000.0);
    for _ in 0..5 {
        b.get(&path).await?.expect(200, "dashboard")?;
    }
    b.latencies.clear();
    for _ in 0..n {
        b.get(&path).await?.expect(200, "dashboard")?;
    }
    let mut lat = std::mem::take(&mut b.latencies);
    lat.sort_unstable();
    Ok((cold, lat, page.body.len()))
}

/// Scenario 6: the ranking dashboard with the large round, compared with 1,000 responses.
pub async fn dashboard(opts: &Opts, big: &BigRound) -> Result<Row> {
    progress("dashboard: large round");
    let (cold_big, big_lat, bytes) =
        dashboard_times(&big.db, big.round, opts.dashboard_requests).await?;
    progress("dashboard: 1,000-response round");
    let small_db = BenchDb::sqlite("dashboard-small")?;
    let small_round = {
        let pool = small_db.pool(1)?;
        let mut conn = pool.get()?;
        khaosat::app::demo::create(
            &mut conn,
            khaosat::app::demo::DemoSpec {
                year: 2023,
                responses: 1_000,
                seed: opts.seed,
            },
        )
        .map_err(prep::lib_err)?
    };
    let (cold_small, small_lat, _) =
        dashboard_times(&small_db, small_round, opts.dashboard_requests).await?;
    let p = |l: &[u32], q| load::percentile_ms(l, q);
    let measured = format!(
        "{} responses: p50 {:.1} ms, p99 {:.1} ms (first, cold: {cold_big:.0} ms; page {:.0} KB); 1,000 responses: p50 {:.1} ms, p99 {:.1} ms (first: {cold_small:.0} ms); {} sequential GETs each",
        opts.responses,
        p(&big_lat, 0.5),
        p(&big_lat, 0.99),
        bytes as f64 / 1024.0,
        p(&small_lat, 0.5),
        p(&small_lat, 0.99),
        big_lat.len()
    );
    let p99 = p(&big_lat, 0.99);
    Ok(Row::new(
        "6",
        &format!(
            "Ranking dashboard /results/{{round}}, {} responses",
            opts.responses
        ),
        "p99 < 20 ms, same as with 1,000",
        measured,
        Verdict::check(p99 < 20.0, 20.0 / p99.max(1e-9)),
    ))
}

/// How long one group's export job may run before the scenario gives up on it.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(900);

/// One finished export job.
struct Exported {
    rows: i64,
    bytes: u64,
    lines: u64,
    export: Duration,
    download: Duration,
}

/// Runs a microdata export job of one group through the API and downloads its file.
async fn export_group(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    round: i64,
    group: &str,
    format: &str,
) -> Result<Exported> {
    let started = Instant::now();
    let job: serde_json::Value = client
        .post(format!("{base}/api/v1/rounds/{round}/exports"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "kind": "microdata", "format": format, "group": group }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = job["id"].as_str().context("no job id")?.to_owned();
    let done = loop {
        let response = client
            .get(format!("{base}/api/v1/exports/{id}"))
            .bearer_auth(token)
            .send()
            .await?;
        // The API allows a token 600 requests a minute by default: poll at 4 a second, and
        // wait as told should a limit be lower.
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let state: serde_json::Value = response.error_for_status()?.json().await?;
        match state["status"].as_str() {
            Some("done") => break state,
            Some("failed") => bail!("export {group} {format} failed: {}", state["error"]),
            _ if started.elapsed() > EXPORT_TIMEOUT => bail!(
                "export {group} {format} not done after {:?}: {} of {} rows written",
                EXPORT_TIMEOUT,
                state["progress"],
                state["total"]
            ),
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    };
    let export = started.elapsed();
    let url = done["download_url"].as_str().context("no download URL")?;
    let mut response = client
        .get(format!("{base}{url}"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?;
    let (mut bytes, mut lines) = (0u64, 0u64);
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|&&c| c == b'\n').count() as u64;
    }
    Ok(Exported {
        rows: done["total"].as_i64().unwrap_or(0),
        bytes,
        lines,
        export,
        download: started.elapsed() - export,
    })
}

/// Scenarios 7 and 8: microdata exports of the three groups' files (CSV or XLSX) through the
/// API's export jobs, one after another, on a fresh server; its peak RSS.
pub async fn export(opts: &Opts, big: &BigRound, format: &str) -> Result<Row> {
    let server = Server::start(&big.db.url, &big.db.dir, START_TIMEOUT).await?;
    let pool = big.db.pool(1)?;
    let email = format!("bench-{}@sonoivu.gov.vn", uuid::Uuid::new_v4().simple());
    let user = prep::analyst(&pool, &email)?;
    let token = prep::write_token(&pool, user)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(1800))
        .build()?;
    let mut parts = Vec::new();
    let mut total = Exported {
        rows: 0,
        bytes: 0,
        lines: 0,
        export: Duration::ZERO,
        download: Duration::ZERO,
    };
    for group in ["leader", "civil_servant", "citizen"] {
        progress(&format!("export: {group} as {format}"));
        let e = export_group(&client, &server.base, &token, big.round, group, format).await?;
        if format == "csv" && e.lines != u64::try_from(e.rows)? + 1 {
            bail!("{group}: the CSV has {} lines for {} rows", e.lines, e.rows);
        }
        parts.push(format!(
            "{group} {} rows {:.0} MB in {:.1} s",
            e.rows,
            e.bytes as f64 / 1e6,
            e.export.as_secs_f64()
        ));
        total.rows += e.rows;
        total.bytes += e.bytes;
        total.export += e.export;
        total.download += e.download;
    }
    let peak = mib(server.stats()?.peak_kib);
    let secs = total.export.as_secs_f64();
    let rate = total.bytes as f64 / 1e6 / secs.max(1e-9);
    let measured = format!(
        "{} rows, {:.0} MB in {secs:.1} s = {rate:.1} MB/s (job start to done; download +{:.1} s); server peak RSS {peak:.0} MB; {}",
        total.rows,
        total.bytes as f64 / 1e6,
        total.download.as_secs_f64(),
        parts.join("; ")
    );
    let all_rows = total.rows == i64::try_from(opts.responses)?;
    let verdict = if !all_rows {
        Verdict::Failed(format!(
            "{} rows exported of {} responses",
            total.rows, opts.responses
        ))
    } else if format == "csv" {
        let ok = rate >= 50.0 && peak < 150.0;
        Verdict::check(ok, (rate / 50.0).min(150.0 / peak))
    } else {
        let ok = secs < 60.0 && peak < 150.0;
        Verdict::check(ok, (60.0 / secs).min(150.0 / peak))
    };
    let (id, name, target) = if format == "csv" {
        (
            "7",
            "Microdata CSV export",
            "≥ 50 MB/s, server peak RSS < 150 MB",
        )
    } else {
        (
            "8",
            "Microdata XLSX export",
            "< 60 s, bounded memory (< 150 MB RSS)",
        )
    };
    Ok(Row::new(
        id,
        &format!("{name}, {} responses (3 group files)", opts.responses),
        target,
        measured,
        verdict,
    ))
}

/// Scenario 9: `khaosat serve` on an empty SQLite database, from spawn to the first 200 of
/// `/readyz` (migrations, bundled data, secret, setup link), repeated; the median counts.
pub async fn cold_start(opts: &Opts) -> Result<Row> {
    let mut times = Vec::new();
    for _ in 0..opts.cold_starts.max(1) {
        let db = BenchDb::sqlite("cold")?;
        let server = Server::start(&db.url, &db.dir, START_TIMEOUT).await?;
        times.push(server.ready_after);
    }
    times.sort();
    let median = times[times.len() / 2];
    Ok(Row::new(
        "9",
        "Cold start with migrations on an empty SQLite database, until /readyz is 200",
        "< 1 s",
        format!(
            "median {} of {} (min {}, max {})",
            ms(median),
            times.len(),
            ms(times[0]),
            ms(times[times.len() - 1])
        ),
        Verdict::check(
            median < Duration::from_secs(1),
            1.0 / median.as_secs_f64().max(1e-9),
        ),
    ))
}

/// Stylesheet links (`<link rel="stylesheet" href="...">`) of a page.
fn stylesheets(html: &str) -> Vec<String> {
    html.split("<link")
        .skip(1)
        .filter(|tag| {
            tag.split('>')
                .next()
                .is_some_and(|t| t.contains("stylesheet"))
        })
        .filter_map(|tag| {
            let start = tag.find("href=\"")? + 6;
            Some(tag[start..start + tag[start..].find('"')?].to_owned())
        })
        .collect()
}

/// Scenario 11: bytes of each questionnaire page (HTML) plus its stylesheets.
pub async fn weight(opts: &Opts) -> Result<Row> {
    let db = BenchDb::sqlite("weight")?;
    let pool = db.pool(1)?;
    let round = prep::bench_round(&pool, &db.url, 1, opts.seed)?;
    let server = Server::start(&db.url, &db.dir, START_TIMEOUT).await?;
    let mut b = Browser::new(&server.base)?;
    let code = round.codes.first().context("no code issued")?.clone();
    let plan = Plan::new(&round.instrument);
    let (intro, next) = load::start(&mut b, &code).await?;
    let mut pages: Vec<(String, usize)> = vec![("intro".into(), intro.body.len())];
    let mut css = stylesheets(&intro.body);
    let mut scripts = intro.body.matches("<script").count();
    let next = load::answer_sections(&mut b, &code, &plan.variants[0], next, &mut |n, page| {
        pages.push((format!("section {n}"), page.body.len()));
        css.extend(stylesheets(&page.body));
        scripts += page.body.matches("<script").count();
    })
    .await?;
    let review = b.get(&next).await?.expect(200, "review")?;
    pages.push(("review".into(), review.body.len()));
    css.sort();
    css.dedup();
    let mut css_bytes = 0;
    for href in &css {
        css_bytes += b.get(href).await?.expect(200, href)?.body.len();
    }
    let (heaviest, html) = pages
        .iter()
        .max_by_key(|(_, n)| *n)
        .cloned()
        .context("no pages")?;
    let total = html + css_bytes;
    let kb = |n: usize| n as f64 / 1024.0;
    let measured = format!(
        "{:.1} KB: heaviest page ({heaviest}) {:.1} KB HTML + {:.1} KB CSS ({} file{}), uncompressed; {} <script> tags; pages: {}",
        kb(total),
        kb(html),
        kb(css_bytes),
        css.len(),
        if css.len() == 1 { "" } else { "s" },
        scripts,
        pages
            .iter()
            .map(|(p, n)| format!("{p} {:.1}", kb(*n)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(Row::new(
        "11",
        "Questionnaire page weight (HTML + CSS)",
        "< 30 KB",
        measured,
        Verdict::check(kb(total) < 30.0, 30.0 / kb(total).max(1e-9)),
    ))
}
