//! The server under test: the `khaosat` binary started as a separate process on a free port,
//! and what `/proc` says about it (resident memory, its peak, CPU time).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The `khaosat` binary built beside this one (`cargo build --release --bins`).
pub fn khaosat_binary() -> Result<PathBuf> {
    let path = std::env::current_exe()?.with_file_name("khaosat");
    if !path.exists() {
        bail!(
            "{} not found: build both binaries first (cargo build --release --bins)",
            path.display()
        );
    }
    Ok(path)
}

/// A `khaosat` command with the bench's environment: the database, warnings only, and the
/// working directory set to `dir` so no `khaosat.toml` of the caller's is picked up.
pub fn khaosat_command(database_url: &str, dir: &Path) -> Result<Command> {
    let mut command = Command::new(khaosat_binary()?);
    command
        .current_dir(dir)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .env("KHAOSAT_EXPORT_DIR", dir.join("exports"))
        .env_remove("KHAOSAT_CONFIG")
        .env_remove("KHAOSAT_WORKERS")
        .env_remove("KHAOSAT_DB_POOL_SIZE")
        .env_remove("KHAOSAT_MAX_IN_FLIGHT")
        .env_remove("KHAOSAT_QUEUE_WAIT_MS");
    // KHAOSAT_GROUP_COMMIT passes through on purpose: `KHAOSAT_GROUP_COMMIT=false` measures
    // the same binary with one transaction per request (the A/B runs in BENCHMARKS.md).
    Ok(command)
}

/// A free TCP port on 127.0.0.1 (free when asked; the server binds it right after).
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Counters of a process read from `/proc`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcStats {
    /// Resident memory now, KiB (`VmRSS`).
    pub rss_kib: u64,
    /// Peak resident memory since start, KiB (`VmHWM`).
    pub peak_kib: u64,
    /// User + system CPU time, seconds.
    pub cpu_seconds: f64,
}

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 on Linux by default).
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// Reads the memory and CPU counters of process `pid`.
pub fn proc_stats(pid: u32) -> Result<ProcStats> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start at the last ')'.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks = |i: usize| -> f64 {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok(ProcStats {
        rss_kib: field("VmRSS:"),
        peak_kib: field("VmHWM:"),
        cpu_seconds: (ticks(11) + ticks(12)) / clock_ticks(),
    })
}

/// Mebibytes from KiB, for reports.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A running `khaosat serve`, killed on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Time from spawning to the first `200` from `/readyz`.
    pub ready_after: Duration,
    log: PathBuf,
}

impl Server {
    /// Starts `khaosat serve` on `database_url` with the working directory `dir` and waits
    /// until `/readyz` answers 200 (at most `timeout`).
    pub async fn start(database_url: &str, dir: &Path, timeout: Duration) -> Result<Self> {
        let port = free_port()?;
        let log = dir.join(format!("server-{port}.log"));
        let log_file = std::fs::File::create(&log)?;
        let started = Instant::now();
        let child = khaosat_command(database_url, dir)?
            .arg("serve")
            .env("KHAOSAT_BIND", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .context("starting khaosat serve")?;
        let mut server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            ready_after: Duration::ZERO,
            log,
        };
        let probe = reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .build()?;
        let url = format!("{}/readyz", server.base);
        loop {
            if let Ok(r) = probe.get(&url).send().await
                && r.status() == reqwest::StatusCode::OK
            {
                server.ready_after = started.elapsed();
                return Ok(server);
            }
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "khaosat serve exited with {status} before it was ready:\n{}",
                    server.log_tail()
                );
            }
            if started.elapsed() > timeout {
                bail!(
                    "khaosat serve not ready after {timeout:?}:\n{}",
                    server.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Memory and CPU counters now.
    pub fn stats(&self) -> Result<ProcStats> {
        proc_stats(self.pid())
    }

    /// The last lines the server logged (warnings and errors).
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Counts lines of the server log at ERROR level.
    pub fn logged_errors(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|t| t.lines().filter(|l| l.contains("ERROR")).count())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a `khaosat` command to completion, sampling its peak memory. Returns its standard
/// output, wall time and peak RSS (KiB); fails when it exits non-zero.
pub fn run_khaosat(
    database_url: &str,
    dir: &Path,
    args: &[&str],
) -> Result<(String, Duration, u64)> {
    let started = Instant::now();
    let mut child = khaosat_command(database_url, dir)?
        .args(args)
        // The bench reads what the command prints, so it asks for the English messages
        // whatever the machine's locale (the CLI speaks Vietnamese by default).
        .env("KHAOSAT_LANG", "en")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting khaosat {}", args.join(" ")))?;
    let pid = child.id();
    let mut stdout = child.stdout.take().context("no stdout pipe")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let mut peak = 0;
    let status = loop {
        if let Ok(s) = proc_stats(pid) {
            peak = peak.max(s.peak_kib);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    let out = reader
        .join()
        .map_err(|_| anyhow::anyhow!("stdout reader panicked"))?;
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        bail!("khaosat {} failed ({status}): {err}{out}", args.join(" "));
    }
    Ok((out, elapsed, peak))
}
