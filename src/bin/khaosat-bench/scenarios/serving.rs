//! Scenarios of the server itself: `/healthz` and a questionnaire page under load (4), cold
//! start (9) and page weight (11).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::load::{self, Browser, LoadReport, Plan};
use crate::prep::{self, BenchDb};
use crate::report::{Row, Verdict};
use crate::server::Server;

use super::{Opts, START_TIMEOUT, latency, ms, progress};
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
