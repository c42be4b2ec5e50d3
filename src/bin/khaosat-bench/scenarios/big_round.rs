//! Scenarios 5 to 8 on the large demo round: compute, the ranking dashboard and the
//! microdata exports.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::load::{self, Browser};
use crate::prep::{self, BenchDb};
use crate::report::{Row, Verdict};
use crate::server::{self, Server, mib};

use super::{Opts, START_TIMEOUT, progress};
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
