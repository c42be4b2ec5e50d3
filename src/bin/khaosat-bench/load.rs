//! The load generator: virtual respondents, each a reqwest client with its own cookie jar,
//! walking the questionnaire over real HTTP, and the latency record of every request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use reqwest::StatusCode;

/// One HTTP answer, read completely.
pub struct Page {
    /// Status code.
    pub status: StatusCode,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// The body.
    pub body: String,
}

impl Page {
    /// Fails unless the status is `expected`.
    pub fn expect(self, expected: u16, what: &str) -> Result<Self> {
        if self.status.as_u16() != expected {
            let snippet: String = self.body.chars().take(200).collect();
            bail!(
                "{what}: status {} (expected {expected}): {snippet}",
                self.status
            );
        }
        Ok(self)
    }

    /// The redirect target of a `303`.
    pub fn redirect(self, what: &str) -> Result<String> {
        self.expect(303, what)?
            .location
            .with_context(|| format!("{what}: 303 without Location"))
    }

    /// The value of the hidden input `name`.
    pub fn hidden(&self, name: &str) -> Result<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .with_context(|| format!("no hidden {name} field in the page"))?
            + marker.len();
        let len = self.body[start..]
            .find('"')
            .context("unterminated attribute")?;
        Ok(self.body[start..start + len].to_owned())
    }
}

/// A browser: a client with its own cookie jar that does not follow redirects (each step of
/// the journey is a request of its own, as a browser makes it), and the latencies it saw.
pub struct Browser {
    client: reqwest::Client,
    base: String,
    /// Latency of every request answered, microseconds.
    pub latencies: Vec<u32>,
    /// Latency of every `503` with `Retry-After` (admission control refusing the request),
    /// microseconds: the browser waits it out and sends the request again, as a person reading
    /// the "server busy" page would.
    pub shed_latencies: Vec<u32>,
}

impl Browser {
    /// A browser for the server at `base`.
    pub fn new(base: &str) -> Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()?,
            base: base.to_owned(),
            latencies: Vec::new(),
            shed_latencies: Vec::new(),
        })
    }

    /// Sends a request and reads the whole answer, recording its latency; waits out each
    /// `503` with `Retry-After` and sends the request again.
    async fn send(&mut self, mut request: reqwest::RequestBuilder) -> Result<Page> {
        loop {
            let again = request.try_clone();
            let started = Instant::now();
            let response = request.send().await?;
            let status = response.status();
            let header = |name| {
                response
                    .headers()
                    .get(name)
                    .and_then(|l| l.to_str().ok())
                    .map(str::to_owned)
            };
            let location = header(reqwest::header::LOCATION);
            let retry_after = header(reqwest::header::RETRY_AFTER).and_then(|v| v.parse().ok());
            let body = response.text().await?;
            let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
            if let (StatusCode::SERVICE_UNAVAILABLE, Some(seconds), Some(again)) =
                (status, retry_after, again)
            {
                self.shed_latencies.push(micros);
                tokio::time::sleep(Duration::from_secs(seconds)).await;
                request = again;
                continue;
            }
            self.latencies.push(micros);
            return Ok(Page {
                status,
                location,
                body,
            });
        }
    }

    /// GET `path`.
    pub async fn get(&mut self, path: &str) -> Result<Page> {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// POST a form to `path`.
    pub async fn post(&mut self, path: &str, form: &[(String, String)]) -> Result<Page> {
        let request = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }
}

/// The answers of each section, in a few variants (chosen per journey).
pub struct Plan {
    /// `variants[v][section]`: the form fields of that section.
    pub variants: Vec<Vec<Vec<(String, String)>>>,
}

impl Plan {
    /// The plan for an instrument.
    pub fn new(instrument: &khaosat::domain::instrument::Instrument) -> Self {
        Self {
            variants: (0..7)
                .map(|v| {
                    instrument
                        .sections()
                        .iter()
                        .map(|s| crate::prep::fill(s, v))
                        .collect()
                })
                .collect(),
        }
    }
}

/// A draft answered up to its review page.
pub struct Drafted {
    /// The access code.
    pub code: String,
    /// The CSRF token of the review page.
    pub csrf: String,
    /// The submission key of the review page.
    pub key: String,
}

/// Opens the invitation link and starts the draft (a POST with the page's CSRF token).
/// Returns the first page and where the server sends the respondent next.
pub async fn start(b: &mut Browser, code: &str) -> Result<(Page, String)> {
    let intro = b.get(&format!("/s/{code}")).await?.expect(200, "intro")?;
    let csrf = intro.hidden("csrf_token")?;
    let next = b
        .post(&format!("/s/{code}/start"), &[("csrf_token".into(), csrf)])
        .await?
        .redirect("start")?;
    Ok((intro, next))
}

/// From section page `next` on, GETs every section the server shows and POSTs its answers
/// from `fields` (a draft save), following the redirects; `seen` gets each page. Returns
/// where the last save sent the respondent (the review page).
pub async fn answer_sections(
    b: &mut Browser,
    code: &str,
    fields: &[Vec<(String, String)>],
    mut next: String,
    seen: &mut (dyn FnMut(usize, &Page) + Send),
) -> Result<String> {
    let section_prefix = format!("/s/{code}/p/");
    let mut pages = 0;
    while let Some(n) = next.strip_prefix(&section_prefix) {
        let n: usize = n.parse().context("section number")?;
        pages += 1;
        if pages > fields.len() {
            bail!("more section pages than sections");
        }
        let page = b.get(&next).await?.expect(200, "section page")?;
        seen(n, &page);
        let mut form = fields
            .get(n.saturating_sub(1))
            .cloned()
            .context("no such section")?;
        form.push(("nav".into(), "next".into()));
        form.push(("csrf_token".into(), page.hidden("csrf_token")?));
        next = b.post(&next, &form).await?.redirect("section save")?;
    }
    if next != format!("/s/{code}/review") {
        bail!("unexpected redirect to {next}");
    }
    Ok(next)
}

/// Walks one respondent from the invitation link to the review page: the first page, start,
/// then GET and POST (a draft save) of every section shown, following the server's redirects.
pub async fn answer_to_review(
    b: &mut Browser,
    code: &str,
    plan: &Plan,
    variant: usize,
) -> Result<Drafted> {
    let (_, next) = start(b, code).await?;
    let fields = &plan.variants[variant % plan.variants.len()];
    let review = answer_sections(b, code, fields, next, &mut |_, _| {}).await?;
    let review = b.get(&review).await?.expect(200, "review")?;
    Ok(Drafted {
        code: code.to_owned(),
        csrf: review.hidden("csrf_token")?,
        key: review.hidden("submission_key")?,
    })
}

/// Submits a reviewed draft; returns the receipt number from the redirect.
pub async fn submit(b: &mut Browser, d: &Drafted) -> Result<String> {
    let location = b
        .post(
            &format!("/s/{}/submit", d.code),
            &[
                ("submission_key".into(), d.key.clone()),
                ("csrf_token".into(), d.csrf.clone()),
            ],
        )
        .await?
        .redirect("submit")?;
    location
        .strip_prefix("/receipt/")
        .map(str::to_owned)
        .with_context(|| format!("submit redirected to {location}"))
}

/// The outcome of a load run, merged over virtual users.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Units of work completed (journeys, submissions, requests).
    pub completed: u64,
    /// Failed units of work.
    pub errors: u64,
    /// Latencies of every request answered, microseconds (sorted by [`LoadReport::finish`]).
    pub latencies: Vec<u32>,
    /// Latencies of the `503`s that were waited out and sent again, microseconds (sorted by
    /// [`LoadReport::finish`]).
    pub shed_latencies: Vec<u32>,
    /// Receipts acknowledged by the server.
    pub receipts: Vec<String>,
    /// Wall time from the first request to the last answer.
    pub elapsed: Duration,
    /// The first few error messages.
    pub first_errors: Vec<String>,
    /// True when a pool of codes or drafts ran out before the duration was over.
    pub exhausted: bool,
}

impl LoadReport {
    /// Adds one virtual user's results.
    pub fn merge(&mut self, other: LoadReport) {
        self.completed += other.completed;
        self.errors += other.errors;
        self.latencies.extend(other.latencies);
        self.shed_latencies.extend(other.shed_latencies);
        self.receipts.extend(other.receipts);
        self.exhausted |= other.exhausted;
        for e in other.first_errors {
            if self.first_errors.len() < 5 {
                self.first_errors.push(e);
            }
        }
    }

    /// Counts a failure, keeping its message if it is among the first.
    pub fn error(&mut self, e: &anyhow::Error) {
        self.errors += 1;
        if self.first_errors.len() < 5 {
            self.first_errors.push(format!("{e:#}"));
        }
    }

    /// Counts a submission: its receipt when the server acknowledged it, else its failure.
    pub fn submitted(&mut self, outcome: Result<String>) {
        match outcome {
            Ok(receipt) => {
                self.completed += 1;
                self.receipts.push(receipt);
            }
            Err(e) => self.error(&e),
        }
    }

    /// Sorts the latencies (call once, before percentiles).
    pub fn finish(&mut self, elapsed: Duration) {
        self.elapsed = elapsed;
        self.latencies.sort_unstable();
        self.shed_latencies.sort_unstable();
    }

    /// The share of requests refused with `503` and sent again.
    pub fn shed_share(&self) -> f64 {
        let shed = self.shed_latencies.len() as f64;
        shed / (shed + self.latencies.len() as f64).max(1.0)
    }

    /// The `q` quantile of the request latencies, milliseconds.
    pub fn percentile_ms(&self, q: f64) -> f64 {
        percentile_ms(&self.latencies, q)
    }

    /// Completed units per second.
    pub fn rate(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Requests per second.
    pub fn request_rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The `q` quantile of sorted microsecond latencies, in milliseconds.
pub fn percentile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

/// What every virtual user shares: the pool of codes and where the next one is.
pub struct Pool<T> {
    items: Vec<T>,
    next: AtomicUsize,
}

impl<T> Pool<T> {
    /// A pool of `items`.
    pub fn new(items: Vec<T>) -> Arc<Self> {
        Arc::new(Self {
            items,
            next: AtomicUsize::new(0),
        })
    }

    /// The next unused item with its index, or `None` when all are taken.
    pub fn take(&self) -> Option<(usize, &T)> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        self.items.get(i).map(|t| (i, t))
    }
}

/// What a virtual user's step returns: its browser and report back, and whether to go on.
pub type Step = (Browser, LoadReport, bool);

/// Runs `concurrency` virtual users until `duration` is over (a step in progress finishes);
/// each repeats `step` with its own [`Browser`] and report until the step says stop. Returns
/// the merged report and the browsers (with their cookies, for a later phase).
pub async fn run_users<F, Fut>(
    browsers: Vec<Browser>,
    duration: Duration,
    step: F,
) -> Result<(LoadReport, Vec<Browser>)>
where
    F: Fn(usize, Browser, LoadReport) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Step> + Send + 'static,
{
    let started = Instant::now();
    let end = started + duration;
    let mut tasks = Vec::with_capacity(browsers.len());
    for (user, mut browser) in browsers.into_iter().enumerate() {
        let step = step.clone();
        tasks.push(tokio::spawn(async move {
            let mut report = LoadReport::default();
            while Instant::now() < end {
                let (b, r, go_on) = step(user, browser, report).await;
                (browser, report) = (b, r);
                if !go_on {
                    break;
                }
            }
            (browser, report)
        }));
    }
    let mut merged = LoadReport::default();
    let mut browsers = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (mut b, r) = task.await?;
        merged.merge(r);
        merged.latencies.append(&mut b.latencies);
        merged.shed_latencies.append(&mut b.shed_latencies);
        browsers.push(b);
    }
    merged.finish(started.elapsed());
    Ok((merged, browsers))
}

/// `n` fresh browsers for the server at `base`.
pub fn browsers(base: &str, n: usize) -> Result<Vec<Browser>> {
    (0..n).map(|_| Browser::new(base)).collect()
}
