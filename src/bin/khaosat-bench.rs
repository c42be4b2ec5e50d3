//! `khaosat-bench`: reproduces every figure of BENCHMARKS.md.
//!
//! The server under test is the `khaosat` binary beside this one, started as a separate
//! process on a fresh database; this process prepares data through the library and generates
//! load over real HTTP (tokio + reqwest) with fixed concurrency and duration. After every load
//! run the acknowledged receipts are reconciled with the database. Build both binaries first:
//!
//! ```sh
//! cargo build --release --bins
//! cargo run --release --bin khaosat-bench -- all      # every scenario; rewrites BENCHMARKS.md
//! cargo run --bin khaosat-bench -- smoke              # CI: a few seconds, no timing asserted
//! ```

#[path = "khaosat-bench/load.rs"]
mod load;
#[path = "khaosat-bench/prep.rs"]
mod prep;
#[path = "khaosat-bench/report.rs"]
mod report;
#[path = "khaosat-bench/scenarios/mod.rs"]
mod scenarios;
#[path = "khaosat-bench/server.rs"]
mod server;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::{Parser, Subcommand};

use report::{Row, Verdict};
use scenarios::{Opts, progress};

/// Benchmarks of khaosat: respondent journeys, submissions, exports, recompute, start-up.
#[derive(Debug, Parser)]
#[command(name = "khaosat-bench", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Seconds of each fixed-duration load (journey, ceiling, /healthz, form page).
    #[arg(long, global = true, default_value_t = 30)]
    duration: u64,
    /// Concurrent virtual users.
    #[arg(long, global = true, default_value_t = 64)]
    concurrency: usize,
    /// Responses of the large demo round (scenarios 5-8).
    #[arg(long, global = true, default_value_t = 1_000_000)]
    responses: u64,
    /// Access codes issued for the journey (enough for the target rate × duration).
    #[arg(long, global = true, default_value_t = 15_000)]
    codes: usize,
    /// Drafts prepared for the submit-only scenario.
    #[arg(long, global = true, default_value_t = 10_000)]
    submit_pool: usize,
    /// Seed of the demo data.
    #[arg(long, global = true, default_value_t = 1)]
    seed: u64,
    /// PostgreSQL server for the journey on PostgreSQL (a fresh database is created on it
    /// and dropped afterwards).
    #[arg(long, global = true, env = "KHAOSAT_BENCH_POSTGRES")]
    postgres: Option<String>,
    /// Where the large demo round is kept between runs.
    #[arg(long, global = true)]
    cache_dir: Option<PathBuf>,
    /// Worker threads of the load generator's tokio runtime.
    #[arg(long, global = true, default_value_t = 2)]
    client_threads: usize,
    /// Threads of the in-process persistence ceiling (scenario 3).
    #[arg(long, global = true, default_value_t = 2)]
    ceiling_threads: usize,
    /// The file whose results section `all` rewrites.
    #[arg(long, global = true, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md"))]
    benchmarks_file: PathBuf,
    /// Do not rewrite BENCHMARKS.md.
    #[arg(long, global = true)]
    no_write: bool,
}

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
enum Command {
    /// Every scenario (PostgreSQL too when configured); rewrites BENCHMARKS.md.
    All,
    /// CI: short journeys and submissions; fails on any error or lost/extra submission.
    Smoke,
    /// 1: complete respondent journeys (SQLite, and PostgreSQL when configured).
    Journey,
    /// 2: the final submit POST only.
    Submit,
    /// 3: the same rows inserted in process, no HTTP.
    Ceiling,
    /// 4: /healthz and a questionnaire page under load.
    Healthz,
    /// 5: khaosat compute on the large round.
    Compute,
    /// 6: the ranking dashboard with the large round and with 1,000 responses.
    Dashboard,
    /// 7: microdata CSV export of the large round.
    ExportCsv,
    /// 8: microdata XLSX export of the large round.
    ExportXlsx,
    /// 9: cold start on an empty database.
    ColdStart,
    /// 10: idle memory and memory under the journey load.
    Memory,
    /// 11: questionnaire page weight.
    Weight,
    /// 12: e-mail delivery from the outbox to an SMTP receiver on loopback.
    Mail,
    /// 13: 512 respondents against one SQLite instance (admission control), beside 64.
    Overload,
}

impl Cli {
    /// The run settings of the command line.
    fn opts(&self) -> Opts {
        Opts {
            duration: Duration::from_secs(self.duration),
            concurrency: self.concurrency.max(1),
            responses: self.responses,
            codes: self.codes,
            submit_pool: self.submit_pool,
            seed: self.seed,
            cache_dir: self
                .cache_dir
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("khaosat-bench-cache")),
            dashboard_requests: 200,
            cold_starts: 5,
        }
    }
}

/// A scenario's rows, or one failed row naming the error (so `all` goes on).
fn rows_or_failure(id: &str, name: &str, result: Result<Vec<Row>>) -> Vec<Row> {
    result.unwrap_or_else(|e| {
        progress(&format!("{name} failed: {e:#}"));
        vec![Row::new(
            id,
            name,
            "-",
            "-".into(),
            Verdict::Failed(format!("{e:#}")),
        )]
    })
}

/// Scenario 1 (and 10 from the same run) on SQLite.
async fn journey_sqlite(opts: &Opts, memory: bool) -> Result<Vec<Row>> {
    let db = prep::BenchDb::sqlite("journey")?;
    let run = scenarios::journey(opts, &db).await?;
    let mut rows = vec![scenarios::journey_row(
        "1",
        "SQLite",
        opts.concurrency,
        &run,
        400.0,
    )];
    if memory {
        rows.extend(scenarios::memory_rows(&run));
    }
    Ok(rows)
}

/// Scenario 13 on a fresh SQLite database.
async fn overload_sqlite(opts: &Opts) -> Result<Vec<Row>> {
    let db = prep::BenchDb::sqlite("overload")?;
    Ok(vec![scenarios::overload(opts, &db).await?])
}

/// Scenario 1 on a fresh PostgreSQL database.
async fn journey_postgres(opts: &Opts, server: &str) -> Result<Vec<Row>> {
    let db = prep::BenchDb::postgres(server)?;
    let run = scenarios::journey(opts, &db).await?;
    Ok(vec![scenarios::journey_row(
        "1-pg",
        "PostgreSQL",
        opts.concurrency,
        &run,
        200.0,
    )])
}

/// Scenarios 2 and 3 and their ratio.
async fn submit_and_ceiling(opts: &Opts, cli: &Cli, with_submit: bool) -> Vec<Row> {
    let mut rows = Vec::new();
    let submit_rate = if with_submit {
        match scenarios::submit_only(opts).await {
            Ok((row, report)) => {
                rows.push(row);
                Some(report.rate())
            }
            Err(e) => {
                rows.extend(rows_or_failure("2", "Submit only", Err(e)));
                None
            }
        }
    } else {
        None
    };
    match scenarios::ceiling(opts, cli.ceiling_threads.max(1)) {
        Ok((row, ceiling)) => {
            rows.push(row);
            if let Some(rate) = submit_rate {
                rows.push(scenarios::submit_vs_ceiling(rate, ceiling));
            }
        }
        Err(e) => rows.extend(rows_or_failure("3", "Persistence ceiling", Err(e))),
    }
    rows
}

/// Scenarios 5-8 on the large demo round (made once, or reused from the cache).
async fn large_round(opts: &Opts, which: &[Command], notes: &mut Vec<String>) -> Vec<Row> {
    let big = match scenarios::big_round(opts) {
        Ok(big) => big,
        Err(e) => {
            return rows_or_failure(
                "5-8",
                &format!("Demo round of {} responses", opts.responses),
                Err(e),
            );
        }
    };
    notes.push(format!(
        "Scenarios 5-8 use `khaosat demo --round-year 2023 --responses {} --seed {}` (3 groups × 63 provinces); {}.",
        opts.responses, opts.seed, big.origin
    ));
    let mut rows = Vec::new();
    for command in which {
        let result = match command {
            Command::Compute => scenarios::compute(opts, &big).map(|r| vec![r]),
            Command::Dashboard => scenarios::dashboard(opts, &big).await.map(|r| vec![r]),
            Command::ExportCsv => scenarios::export(opts, &big, "csv").await.map(|r| vec![r]),
            Command::ExportXlsx => scenarios::export(opts, &big, "xlsx").await.map(|r| vec![r]),
            _ => Ok(Vec::new()),
        };
        rows.extend(rows_or_failure("5-8", &format!("{command:?}"), result));
    }
    rows
}

/// Runs the command; returns the rows and notes for the report.
async fn run(cli: &Cli) -> Result<(Vec<Row>, Vec<String>)> {
    let opts = cli.opts();
    let mut notes = Vec::new();
    let mut rows = Vec::new();
    let large = [
        Command::Compute,
        Command::Dashboard,
        Command::ExportCsv,
        Command::ExportXlsx,
    ];
    let load_before = load_average();
    let source = revision();
    match cli.command {
        Command::All => {
            rows.extend(rows_or_failure(
                "1",
                "Respondent journey, SQLite",
                journey_sqlite(&opts, true).await,
            ));
            match &cli.postgres {
                Some(url) => rows.extend(rows_or_failure(
                    "1-pg",
                    "Respondent journey, PostgreSQL",
                    journey_postgres(&opts, url).await,
                )),
                None => notes.push(
                    "PostgreSQL not measured: pass --postgres URL or set KHAOSAT_BENCH_POSTGRES."
                        .into(),
                ),
            }
            rows.extend(submit_and_ceiling(&opts, cli, true).await);
            rows.extend(rows_or_failure(
                "4",
                "GET /healthz",
                scenarios::healthz(&opts).await,
            ));
            rows.extend(rows_or_failure(
                "9",
                "Cold start",
                scenarios::cold_start(&opts).await.map(|r| vec![r]),
            ));
            rows.extend(rows_or_failure(
                "11",
                "Page weight",
                scenarios::weight(&opts).await.map(|r| vec![r]),
            ));
            rows.extend(rows_or_failure(
                "12",
                "E-mail delivery",
                tokio::task::spawn_blocking(scenarios::mail)
                    .await
                    .map_err(anyhow::Error::from)
                    .and_then(|r| r)
                    .map(|r| vec![r]),
            ));
            rows.extend(rows_or_failure(
                "13",
                "Overload",
                overload_sqlite(&opts).await,
            ));
            rows.extend(large_round(&opts, &large, &mut notes).await);
        }
        Command::Smoke => {
            let smoke = Opts {
                duration: Duration::from_secs(3),
                concurrency: 8,
                codes: 2_000,
                submit_pool: 48,
                ..opts
            };
            let db = prep::BenchDb::sqlite("smoke")?;
            let run = scenarios::journey(&smoke, &db).await?;
            rows.push(Row::new(
                "1",
                "Respondent journeys, 8 users, 3 s (no timing asserted)",
                "0 errors, nothing lost or extra",
                format!("{} journeys; {}", run.report.completed, run.integrity()),
                if run.clean() && run.report.completed > 0 {
                    Verdict::Met
                } else {
                    Verdict::Failed(run.integrity())
                },
            ));
            let (mut row, report) = scenarios::submit_only(&smoke).await?;
            row.target = "all 48 submitted, 0 errors, nothing lost or extra".into();
            row.measured = format!("{} submissions of 48; {}", report.completed, row.measured);
            if !row.failed() {
                row.verdict = if report.completed == 48 {
                    Verdict::Met
                } else {
                    Verdict::Failed("not every draft was submitted".into())
                };
            }
            rows.push(row);
        }
        Command::Journey => {
            rows.extend(journey_sqlite(&opts, false).await?);
            if let Some(url) = &cli.postgres {
                rows.extend(journey_postgres(&opts, url).await?);
            }
        }
        Command::Memory => rows.extend(journey_sqlite(&opts, true).await?),
        Command::Submit => rows.extend(submit_and_ceiling(&opts, cli, true).await),
        Command::Ceiling => rows.extend(submit_and_ceiling(&opts, cli, false).await),
        Command::Healthz => rows.extend(scenarios::healthz(&opts).await?),
        Command::ColdStart => rows.push(scenarios::cold_start(&opts).await?),
        Command::Weight => rows.push(scenarios::weight(&opts).await?),
        Command::Mail => rows.push(tokio::task::spawn_blocking(scenarios::mail).await??),
        Command::Overload => rows.extend(overload_sqlite(&opts).await?),
        Command::Compute | Command::Dashboard | Command::ExportCsv | Command::ExportXlsx => {
            rows.extend(large_round(&opts, &[cli.command], &mut notes).await);
        }
    }
    notes.push(format!("Source tree when the run started: {source}."));
    notes.push(format!(
        "Load average (1 min) of the machine before the run {load_before}, after it {}: other processes share these cores.",
        load_average()
    ));
    Ok((rows, notes))
}

/// The commit the binaries were built from, and files changed beside it, by `git` in the
/// source tree (as far as it can tell: the binaries may be older than the tree).
fn revision() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_owned())
    };
    let head = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let changed: Vec<String> = git(&["status", "--porcelain", "--untracked-files=no"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.get(3..).map(str::to_owned))
        .collect();
    if changed.is_empty() {
        format!("commit {head}")
    } else {
        format!(
            "commit {head} with uncommitted changes to {}",
            changed.join(", ")
        )
    }
}

/// The 1-minute load average from `/proc/loadavg`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// The command line that reproduces this run (a PostgreSQL password is masked).
fn command_line(postgres: Option<&str>) -> String {
    let mask = |raw: &str| match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("****"));
            u.to_string()
        }
        _ => raw.to_owned(),
    };
    let args: Vec<String> = std::env::args()
        .skip(1)
        .map(|a| if a.contains("://") { mask(&a) } else { a })
        .collect();
    let env = std::env::var("KHAOSAT_BENCH_POSTGRES")
        .ok()
        .filter(|v| postgres == Some(v.as_str()))
        .map_or_else(String::new, |v| {
            format!("KHAOSAT_BENCH_POSTGRES={} ", mask(&v))
        });
    format!(
        "cargo build --release --bins && {env}cargo run --release --bin khaosat-bench -- {}",
        args.join(" ")
    )
}

/// Runs the command, prints the table, rewrites BENCHMARKS.md after `all`; fails on errors
/// or lost or extra submissions (never on a missed timing target).
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.client_threads.max(1))
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(run(&cli)));
    let (rows, notes) = match result {
        Ok(found) => found,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "khaosat-bench: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "\n{}", report::table(&rows));
    for n in &notes {
        let _ = writeln!(out, "- {n}");
    }
    if cli.command == Command::All && !cli.no_write {
        let settings = format!(
            "{} s per fixed-duration load, {} virtual users, load generator on {} tokio worker threads in its own process; server = `khaosat serve` defaults (workers = cores, pool 10, SQLite synchronous=normal), `RUST_LOG=warn`.",
            cli.duration, cli.concurrency, cli.client_threads
        );
        let body = report::section(
            &rows,
            &command_line(cli.postgres.as_deref()),
            &settings,
            &notes,
        );
        match report::rewrite(&cli.benchmarks_file, &body) {
            Ok(()) => {
                let _ = writeln!(out, "\n{} updated", cli.benchmarks_file.display());
            }
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "khaosat-bench: {e:#}");
                return ExitCode::FAILURE;
            }
        }
    }
    if rows.iter().any(Row::failed) {
        let _ = writeln!(
            std::io::stderr(),
            "khaosat-bench: errors, or lost or extra submissions (see the table)"
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
