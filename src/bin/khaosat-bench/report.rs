//! Results: one row per scenario, the machine they were measured on, the table printed to
//! stdout and the results section of BENCHMARKS.md rewritten between its markers.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// Start and end markers of the generated section of BENCHMARKS.md.
const START: &str = "<!-- results:start -->";
const END: &str = "<!-- results:end -->";

/// Whether a target was reached.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Reached.
    Met,
    /// Not reached; the text says by how much.
    Missed(String),
    /// Nothing to compare with: a ceiling or reference figure.
    Reported,
    /// Errors, or acknowledged submissions lost (or unacknowledged ones stored).
    Failed(String),
}

impl Verdict {
    /// Met when `ok`, else missed with the measured/target ratio.
    pub fn check(ok: bool, ratio: f64) -> Self {
        if ok {
            Verdict::Met
        } else {
            Verdict::Missed(format!("{ratio:.2}× of target"))
        }
    }

    /// The table cell.
    fn text(&self) -> String {
        match self {
            Verdict::Met => "met".to_owned(),
            Verdict::Missed(how) => format!("**missed** ({how})"),
            Verdict::Reported => "reported".to_owned(),
            Verdict::Failed(why) => format!("**FAILED**: {why}"),
        }
    }
}

/// One line of the results table.
#[derive(Debug, Clone)]
pub struct Row {
    /// Scenario number of the issue (`1`, `1-pg`, `4b`, ...).
    pub id: String,
    /// What was measured.
    pub scenario: String,
    /// The target.
    pub target: String,
    /// The measurement.
    pub measured: String,
    /// Met or not.
    pub verdict: Verdict,
}

impl Row {
    /// A row.
    pub fn new(id: &str, scenario: &str, target: &str, measured: String, verdict: Verdict) -> Self {
        Self {
            id: id.to_owned(),
            scenario: scenario.to_owned(),
            target: target.to_owned(),
            measured,
            verdict,
        }
    }

    /// True when the row records errors or lost/extra data.
    pub fn failed(&self) -> bool {
        matches!(self.verdict, Verdict::Failed(_))
    }
}

/// The machine the figures come from.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores ({model}), {:.1} GiB memory, Linux {}",
        mem_kib as f64 / 1024.0 / 1024.0,
        kernel.trim()
    )
}

/// Text made safe for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out =
        String::from("| # | scenario | target | measured | result |\n|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&r.id),
            cell(&r.scenario),
            cell(&r.target),
            cell(&r.measured),
            cell(&r.verdict.text())
        );
    }
    out
}

/// The generated section: date, machine, command, settings, table and notes.
pub fn section(rows: &[Row], command: &str, settings: &str, notes: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Measured {} on {}.\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine()
    );
    let _ = writeln!(out, "Command: `{command}`  \nSettings: {settings}\n");
    out.push_str(&table(rows));
    if !notes.is_empty() {
        out.push('\n');
        for n in notes {
            let _ = writeln!(out, "- {n}");
        }
    }
    out
}

/// Replaces the text between the result markers of `path` with `body`.
pub fn rewrite(path: &Path, body: &str) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (Some(start), Some(end)) = (text.find(START), text.find(END)) else {
        bail!("{} lacks the {START} and {END} markers", path.display());
    };
    if end < start {
        bail!(
            "{}: the end marker precedes the start marker",
            path.display()
        );
    }
    let new = format!("{}{START}\n{body}{}", &text[..start], &text[end..]);
    std::fs::write(path, new).with_context(|| format!("writing {}", path.display()))
}
