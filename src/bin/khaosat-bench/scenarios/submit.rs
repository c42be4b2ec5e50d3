//! Scenarios 2 and 3: timed final submits over HTTP, and the in-process ceiling of the
//! same database writes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use khaosat::db;
use khaosat::db::responses::NewResponse;

use crate::load::{self, Browser, Drafted, LoadReport, Plan, Pool};
use crate::prep::{self, BenchDb};
use crate::report::{Row, Verdict};
use crate::server::Server;

use super::journey::Mark;
use super::{Opts, START_TIMEOUT, latency, progress};
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
                r.submitted(load::submit(&mut b, &d).await);
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
    let cells = khaosat::domain::answers::tally_cells(&variants[0].1).len();
    let measured = format!(
        "{rate:.0} responses/s ({inserted} in {:.1} s, {threads} threads; 1 response + 1 count + 1 upsert of {cells} tally cells per transaction); {stored} stored",
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
