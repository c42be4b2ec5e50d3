//! The scenarios of the benchmark issue, each on its own fresh database and server process
//! (the large demo round is cached between runs), each returning its table rows.

mod big_round;
mod journey;
mod mail;
mod serving;
mod submit;

use std::path::PathBuf;
use std::time::Duration;

use crate::load::LoadReport;

pub use big_round::{big_round, compute, dashboard, export};
pub use journey::{journey, journey_row, memory_rows, overload};
pub use mail::mail;
pub use serving::{cold_start, healthz, weight};
pub use submit::{ceiling, submit_only, submit_vs_ceiling};

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

/// Latency summary of a report: p50 and p99 in milliseconds, and the requests refused with
/// `503` and sent again, if any.
fn latency(r: &LoadReport) -> String {
    let mut text = format!(
        "p50 {:.1} ms, p99 {:.1} ms",
        r.percentile_ms(0.50),
        r.percentile_ms(0.99)
    );
    if !r.shed_latencies.is_empty() {
        text.push_str(&format!(
            " ({} requests refused with 503 and sent again after Retry-After)",
            r.shed_latencies.len()
        ));
    }
    text
}
