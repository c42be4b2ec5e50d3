//! Fault tolerance, proven against real `khaosat` server processes (`CARGO_BIN_EXE_khaosat`,
//! so a kill is a real SIGKILL) on a test database: a SQLite file, or a fresh PostgreSQL
//! database when `KHAOSAT_TEST_DATABASE_URL` is set.
//!
//! - Killed at random moments under concurrent submissions and restarted on the same database,
//!   the server loses no acknowledged response, stores none that no client sent, stores at
//!   most one per code, and leaves the live tallies equal to a recomputation from the raw
//!   answers (also checked by `khaosat compute`).
//! - Two instances on one PostgreSQL database store one response per code, share login
//!   sessions, and deliver each queued invitation exactly once; a mail batch that outlasts its
//!   lease (a stalled SMTP relay) is not sent again by another instance.
//! - A PostgreSQL outage (a private cluster stopped with `pg_ctl stop -m immediate`) is
//!   answered with 503 and `Retry-After` (a page, or JSON under `/api/`), never 500, and the
//!   same process serves again by itself once the database is back.
//! - A SQLite database locked by another process, or read-only, is answered with a 503 page on
//!   writes while reads go on, and nothing acknowledged is lost. File modes do not bind root,
//!   so as root that test runs the server as `nobody`.
//!
//! On both backends:
//!
//! ```text
//! cargo test --test api faults::
//! KHAOSAT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo test --test api faults::
//! ```
//!
//! The two-instance test needs PostgreSQL (`KHAOSAT_TEST_POSTGRES` in a SQLite run) and the
//! outage test PostgreSQL's server programs (`/usr/lib/postgresql/*/bin`); each skips without.
//!
//! The crash test kills the server 20 times by default. `KHAOSAT_CRASH_ITERATIONS=N` runs N
//! kills instead, for a soak:
//!
//! ```text
//! KHAOSAT_CRASH_ITERATIONS=500 cargo test --test api faults::acknowledged -- --nocapture
//! ```

use std::collections::{HashMap, HashSet};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use khaosat::app::auth::tokens::{SecretKey, hash_token, random_token};
use khaosat::app::respond::{self as journey, CodeState};
use khaosat::app::rounds::{self, Actor};
use khaosat::db::schema::{access_codes, mail_outbox, responses};
use khaosat::domain::access_code::AccessCode;
use khaosat::domain::account::Role;
use khaosat::domain::answers::{Answers, decode_section, missing_required};
use reqwest::cookie::Jar;

use crate::helpers::{TestApp, TestDb, postgres_admin_url, postgres_server_url, skip};
use crate::respond::{fill, leader, open_round_with_codes};
use crate::smtp::SmtpSink;

const ADMIN: Actor<'static> = Actor {
    user_id: None,
    label: "test",
    role: khaosat::domain::account::Role::Admin,
};

/// The title of the 503 page in the default language.
const UNAVAILABLE_TITLE: &str = "Dịch vụ tạm thời gián đoạn";

/// Kills in the crash test unless `KHAOSAT_CRASH_ITERATIONS` says otherwise.
const DEFAULT_CRASH_ITERATIONS: usize = 20;

// ---------------------------------------------------------------------------------------------
// Server processes

/// How to run a server process.
#[derive(Debug, Clone)]
struct ServerConfig {
    /// `DATABASE_URL`.
    database_url: String,
    /// `KHAOSAT_SECRET_KEY`: the one stored in the database, so codes hashed by the library
    /// calls that prepared the round open in the server.
    secret_key: String,
    /// `SMTP_URL`, when the mail worker should run.
    smtp_url: Option<String>,
    /// Working directory (exports of a PostgreSQL run land here) and output files.
    dir: PathBuf,
    /// Run as this (uid, gid): file modes bind only accounts other than root.
    user: Option<(u32, u32)>,
    /// Further environment variables.
    env: Vec<(&'static str, String)>,
}

impl ServerConfig {
    fn new(app: &TestApp, dir: &Path) -> Self {
        ServerConfig {
            database_url: app._db.url().to_owned(),
            secret_key: stored_secret(app),
            smtp_url: None,
            dir: dir.to_owned(),
            user: None,
            env: Vec::new(),
        }
    }
}

/// A running `khaosat serve` process; SIGKILLed when dropped.
struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    address: String,
    /// Its stderr (the log).
    log: PathBuf,
}

/// Numbers the output files of the processes a test run starts.
static STARTS: AtomicUsize = AtomicUsize::new(0);

impl Server {
    /// Starts a server on a free port and waits until it listens.
    async fn start(config: &ServerConfig) -> Server {
        let n = STARTS.fetch_add(1, Ordering::SeqCst);
        let out = config.dir.join(format!("server-{n}.out"));
        let log = config.dir.join(format!("server-{n}.log"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_khaosat"));
        command
            .arg("serve")
            .current_dir(&config.dir)
            .env("KHAOSAT_LANG", "en")
            .env("DATABASE_URL", &config.database_url)
            .env("KHAOSAT_BIND", "127.0.0.1:0")
            .env("KHAOSAT_SECRET_KEY", &config.secret_key)
            .env("KHAOSAT_WORKERS", "2")
            .env("RUST_LOG", "warn")
            .env_remove("KHAOSAT_CONFIG")
            .env_remove("KHAOSAT_BASE_URL")
            .env_remove("SMTP_URL")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&log).unwrap());
        if let Some(smtp) = &config.smtp_url {
            command
                .env("SMTP_URL", smtp)
                .env("SMTP_FROM", "khaosat <khaosat@sonoivu.gov.vn>");
        }
        command.envs(config.env.iter().map(|(k, v)| (k, v)));
        if let Some((uid, gid)) = config.user {
            command.uid(uid).gid(gid);
        }
        let mut child = command.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let printed = std::fs::read_to_string(&out).unwrap_or_default();
            if let Some(address) = listening_address(&printed) {
                return Server {
                    child,
                    address,
                    log,
                };
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "khaosat exited ({status}) before listening:\n{}",
                    tail(&log)
                );
            }
            assert!(
                Instant::now() < deadline,
                "khaosat did not listen within 60 s:\n{}",
                tail(&log)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// An absolute URL on this server.
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// True while the process runs.
    fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// The end of its log, for failure messages.
    fn log(&self) -> String {
        tail(&self.log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // `Child::kill` is SIGKILL on Unix: no graceful shutdown, no flushing.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in `khaosat listening on http://127.0.0.1:PORT (database: ...)`.
fn listening_address(printed: &str) -> Option<String> {
    let rest = printed.split("listening on ").nth(1)?;
    Some(rest[..rest.find(" (")?].to_owned())
}

/// The last 4000 bytes of a file.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut start = text.len().saturating_sub(4000);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}

// ---------------------------------------------------------------------------------------------
// Databases, rounds and ballots

/// A migrated database with the bundled unit lists and questionnaires (what a server's start
/// leaves), behind a `TestApp` for the shared helpers. Its client follows whichever server
/// process `address` names.
fn prepared(db: TestDb) -> TestApp {
    khaosat::server::telemetry::init_for_tests();
    let pool = pool_of(&db);
    let mut conn = pool.get().unwrap();
    khaosat::db::run_migrations(&mut conn).unwrap();
    rounds::load_reference_units(&mut conn).unwrap();
    khaosat::app::catalog::load_bundled(&mut conn).unwrap();
    drop(conn);
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    TestApp {
        address: String::new(),
        client,
        jar,
        setup_url: None,
        pool,
        _db: db,
    }
}

/// A connection pool of the test's own, configured as the application's.
fn pool_of(db: &TestDb) -> khaosat::db::DbPool {
    khaosat::db::build_pool(
        &db.database_url(),
        khaosat::app::config::SqliteSync::Normal,
        4,
    )
}

/// The secret key kept in the database (created now if missing).
fn stored_secret(app: &TestApp) -> String {
    let mut conn = app.pool.get().unwrap();
    khaosat::db::settings::get_or_insert(&mut conn, "secret_key", &SecretKey::generate_hex())
        .unwrap()
}

/// A code whose draft is complete: submitting `key` stores its response.
#[derive(Debug, Clone)]
struct Ballot {
    /// The access code, canonical.
    code: String,
    /// The draft's submission key.
    key: String,
}

/// Complete, valid answers to the leader questionnaire; `reveal` also answers the follow-up.
fn complete_answers(reveal: bool) -> Answers {
    let instrument = leader();
    let mut answers = Answers::new();
    for section in instrument.sections() {
        let decoded = decode_section(section, &fill(section, reveal), &answers);
        assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
        answers.merge(&decoded.answers);
    }
    assert!(missing_required(&instrument, &answers).is_empty());
    answers
}

/// Starts every code's questionnaire and saves complete answers (half of them revealing the
/// follow-up question, so the tallies differ between codes), as respondents who reached the
/// review page would have. One transaction, so that PostgreSQL prepares thousands quickly.
fn prepare_ballots(app: &TestApp, secret: &str, codes: &[AccessCode]) -> Vec<Ballot> {
    let secret = SecretKey::new(secret.as_bytes());
    let variants = [complete_answers(false), complete_answers(true)];
    let last_section = leader().sections().len() - 1;
    let mut conn = app.pool.get().unwrap();
    khaosat::db::write_transaction(&mut conn, |conn| {
        let mut ballots = Vec::with_capacity(codes.len());
        for (i, code) in codes.iter().enumerate() {
            let CodeState::Ready(session) =
                journey::open(conn, &secret, "test", code.as_canonical())?
            else {
                panic!("code {code} does not open its questionnaire");
            };
            let draft = journey::ensure_draft(conn, &session, "vi")?;
            journey::save(conn, session.code_id, &variants[i % 2], last_section, "vi")?;
            ballots.push(Ballot {
                code: code.as_canonical().to_owned(),
                key: draft.submission_key,
            });
        }
        Ok::<_, khaosat::error::AppError>(ballots)
    })
    .unwrap()
}

/// An open round with `n` prepared ballots, its id and the stored secret key.
fn round_with_ballots(app: &TestApp, n: usize) -> (i64, Vec<Ballot>, String) {
    let (round, codes) = open_round_with_codes(app, n);
    let secret = stored_secret(app);
    let ballots = prepare_ballots(app, &secret, &codes);
    (round, ballots, secret)
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// What the server answered, read in full.
#[derive(Debug)]
struct Reply {
    status: u16,
    location: Option<String>,
    retry_after: Option<String>,
    content_type: String,
    body: String,
}

impl Reply {
    async fn read(response: reqwest::Response) -> reqwest::Result<Reply> {
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let location = header(reqwest::header::LOCATION);
        let retry_after = header(reqwest::header::RETRY_AFTER);
        let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
        let status = response.status().as_u16();
        let body = response.text().await?;
        Ok(Reply {
            status,
            location,
            retry_after,
            content_type,
            body,
        })
    }

    /// The receipt number of an acknowledged submission (`303` to `/receipt/{r}`).
    fn receipt(&self) -> Option<&str> {
        if self.status != 303 {
            return None;
        }
        self.location.as_deref()?.strip_prefix("/receipt/")
    }
}

/// A browser without a cookie jar: it carries its own CSRF cookie and the token signed for it
/// (the signed double-submit pattern), so a submission is a single request.
#[derive(Clone)]
struct Browser {
    client: reqwest::Client,
    cookie: String,
    token: String,
}

impl Browser {
    fn new(secret: &str) -> Self {
        let cookie = random_token();
        let token = SecretKey::new(secret.as_bytes()).sign("csrf", &cookie);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(1))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Browser {
            client,
            cookie: format!("ks_csrf={cookie}"),
            token,
        }
    }

    async fn get(&self, url: &str) -> reqwest::Result<Reply> {
        let response = self
            .client
            .get(url)
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await?;
        Reply::read(response).await
    }

    /// Submits `ballot` under `key` (its own, or another to play a stale form).
    async fn submit(&self, address: &str, ballot: &Ballot, key: &str) -> reqwest::Result<Reply> {
        let response = self
            .client
            .post(format!("{address}/s/{}/submit", ballot.code))
            .header(reqwest::header::COOKIE, &self.cookie)
            .form(&[("submission_key", key), ("csrf_token", self.token.as_str())])
            .send()
            .await?;
        Reply::read(response).await
    }

    /// [`Browser::submit`], sent again after its `Retry-After` while admission control turns
    /// it away (a burst above the server's capacity), as a person reading that page would.
    async fn submit_when_admitted(
        &self,
        address: &str,
        ballot: &Ballot,
        key: &str,
    ) -> reqwest::Result<Reply> {
        let refusal = khaosat::i18n::t(khaosat::i18n::Lang::Vi, "error.overloaded.body");
        loop {
            let reply = self.submit(address, ballot, key).await?;
            let wait = reply.retry_after.as_deref().and_then(|s| s.parse().ok());
            match wait {
                Some(seconds) if reply.status == 503 && reply.body.contains(refusal) => {
                    tokio::time::sleep(Duration::from_secs(seconds)).await;
                }
                _ => return Ok(reply),
            }
        }
    }
}

/// Asserts a 503 with `Retry-After`: a page in the visitor's language, or JSON under `/api/`.
fn assert_unavailable(what: &str, reply: &Reply, json: bool) {
    assert_eq!(reply.status, 503, "{what}: {reply:?}");
    assert!(reply.retry_after.is_some(), "{what}: no Retry-After");
    if json {
        assert!(
            reply.content_type.starts_with("application/json"),
            "{what}: {reply:?}"
        );
        let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(body["error"]["status"], 503, "{what}: {body}");
    } else {
        assert!(
            reply.content_type.starts_with("text/html"),
            "{what}: {reply:?}"
        );
        assert!(reply.body.contains(UNAVAILABLE_TITLE), "{what}: {reply:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Load: concurrent respondents that submit until answered

/// What the clients were told.
#[derive(Debug, Default)]
struct Ledger {
    /// Codes whose submission was sent at least once.
    attempted: HashSet<String>,
    /// The receipt acknowledged for each code.
    receipts: HashMap<String, String>,
    /// 503 answers (the client retried).
    unavailable: usize,
    /// Requests that got no answer because the server could not be reached.
    refused: usize,
    /// Requests cut off after they were sent (the server died under them).
    cut: usize,
    /// Anything else; must stay empty.
    unexpected: Vec<String>,
}

impl Ledger {
    fn answered(&mut self, ballot: &Ballot, reply: &Reply) -> bool {
        match reply.receipt() {
            Some(receipt) => match self.receipts.get(&ballot.code) {
                Some(earlier) if earlier != receipt => {
                    self.unexpected.push(format!(
                        "code {}: receipt {receipt} after receipt {earlier}",
                        ballot.code
                    ));
                    false
                }
                Some(_) => false,
                None => {
                    self.receipts
                        .insert(ballot.code.clone(), receipt.to_owned());
                    true
                }
            },
            None => {
                self.unexpected.push(format!(
                    "code {}: {} {:?} {}",
                    ballot.code,
                    reply.status,
                    reply.location,
                    reply.body.chars().take(300).collect::<String>()
                ));
                false
            }
        }
    }
}

/// State shared by the clients and the test.
#[derive(Default)]
struct Shared {
    /// The server the clients talk to (it changes with every restart).
    address: Mutex<String>,
    /// Ballots not yet sent.
    fresh: Mutex<Vec<Ballot>>,
    /// Acknowledged ballots, replayed now and then (the same receipt must come back).
    acknowledged: Mutex<Vec<Ballot>>,
    ledger: Mutex<Ledger>,
    stop: AtomicBool,
}

/// Clients submitting concurrently.
struct Load {
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// `clients` concurrent respondents submitting `ballots` to `address`.
    fn start(ballots: Vec<Ballot>, clients: usize, secret: &str, address: &str) -> Load {
        let shared = Arc::new(Shared {
            address: Mutex::new(address.to_owned()),
            fresh: Mutex::new(ballots),
            ..Shared::default()
        });
        let tasks = (0..clients)
            .map(|_| tokio::spawn(client(shared.clone(), Browser::new(secret))))
            .collect();
        Load { shared, tasks }
    }

    /// Sends further requests to `address`.
    fn point_at(&self, address: &str) {
        address.clone_into(&mut self.shared.address.lock().unwrap());
    }

    /// Lets every client finish the submission it is on, and returns what they were told.
    async fn finish(self) -> Ledger {
        self.shared.stop.store(true, Ordering::SeqCst);
        for task in self.tasks {
            tokio::time::timeout(Duration::from_secs(120), task)
                .await
                .expect("a client finishes its submission")
                .unwrap();
        }
        std::mem::take(&mut *self.shared.ledger.lock().unwrap())
    }
}

/// One respondent: takes a fresh ballot (every fifth turn replays an acknowledged one) and
/// submits it until the server answers.
async fn client(shared: Arc<Shared>, browser: Browser) {
    let mut turn = 0_usize;
    while !shared.stop.load(Ordering::SeqCst) {
        turn += 1;
        let fresh = if turn.is_multiple_of(5) {
            None
        } else {
            shared.fresh.lock().unwrap().pop()
        };
        let ballot = fresh.or_else(|| {
            let done = shared.acknowledged.lock().unwrap();
            (!done.is_empty()).then(|| done[rand::random_range(0..done.len())].clone())
        });
        match ballot {
            Some(ballot) => submit_until_answered(&shared, &browser, &ballot).await,
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Submits a ballot, and again after every failure (a replay with the same key is safe),
/// until the server answers with something other than 503.
async fn submit_until_answered(shared: &Shared, browser: &Browser, ballot: &Ballot) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(100) {
        let address = shared.address.lock().unwrap().clone();
        shared
            .ledger
            .lock()
            .unwrap()
            .attempted
            .insert(ballot.code.clone());
        let result = browser.submit(&address, ballot, &ballot.key).await;
        let pause = {
            let mut ledger = shared.ledger.lock().unwrap();
            match result {
                Err(e) if e.is_connect() => {
                    ledger.refused += 1;
                    20
                }
                Err(_) => {
                    ledger.cut += 1;
                    20
                }
                Ok(reply) if reply.status == 503 => {
                    ledger.unavailable += 1;
                    if reply.retry_after.is_none() {
                        ledger.unexpected.push("a 503 without Retry-After".into());
                    }
                    100
                }
                Ok(reply) => {
                    if ledger.answered(ballot, &reply) {
                        shared.acknowledged.lock().unwrap().push(ballot.clone());
                    }
                    return;
                }
            }
        };
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    shared
        .ledger
        .lock()
        .unwrap()
        .unexpected
        .push(format!("code {}: no answer in 100 s", ballot.code));
}

// ---------------------------------------------------------------------------------------------
// Checks on the database

/// The database holds exactly what the clients were told: every acknowledged receipt under its
/// own submission key, no response that no client sent, at most one per code, one `used`
/// code per response, and live tallies equal to a recomputation from the raw answers (by the
/// library, and by `khaosat compute`, which exits non-zero on a difference).
fn assert_consistent(app: &TestApp, dir: &Path, round: i64, ballots: &[Ballot], ledger: &Ledger) {
    assert!(ledger.unexpected.is_empty(), "{:#?}", ledger.unexpected);
    let mut conn = app.pool.get().unwrap();
    let stored: Vec<(String, String)> = responses::table
        .filter(responses::round_id.eq(round))
        .select((responses::receipt, responses::submission_key))
        .load(&mut conn)
        .unwrap();
    let by_key: HashMap<String, &Ballot> =
        ballots.iter().map(|b| (hash_token(&b.key), b)).collect();
    let mut answered_codes = HashSet::new();
    let mut stored_receipts = HashMap::new();
    for (receipt, key) in &stored {
        let ballot = by_key
            .get(key)
            .unwrap_or_else(|| panic!("response {receipt} belongs to no ballot"));
        assert!(
            ledger.attempted.contains(&ballot.code),
            "response {receipt} for code {} that was never submitted",
            ballot.code
        );
        assert!(
            answered_codes.insert(ballot.code.clone()),
            "two responses for code {}",
            ballot.code
        );
        stored_receipts.insert(ballot.code.clone(), receipt.clone());
    }
    for (code, receipt) in &ledger.receipts {
        assert_eq!(
            stored_receipts.get(code),
            Some(receipt),
            "acknowledged receipt {receipt} of code {code} is stored"
        );
    }
    // Every submission was retried until answered, so every attempt was acknowledged.
    assert_eq!(stored.len(), ledger.receipts.len());
    assert_eq!(ledger.attempted.len(), ledger.receipts.len());
    let used: i64 = access_codes::table
        .filter(access_codes::round_id.eq(round))
        .filter(access_codes::state.eq("used"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(usize::try_from(used).unwrap(), stored.len());

    let live = khaosat::app::scores::live_tallies(&mut conn, round).unwrap();
    let recomputed = khaosat::app::scores::recompute_tallies(&mut conn, round).unwrap();
    let differences = khaosat::app::scores::tally_differences(&live, &recomputed);
    assert!(differences.is_empty(), "{differences:#?}");
    let counted: u64 = live.values().map(|t| t.responses).sum();
    assert_eq!(counted, u64::try_from(stored.len()).unwrap());

    let compute = Command::new(env!("CARGO_BIN_EXE_khaosat"))
        .args(["compute", &round.to_string()])
        .current_dir(dir)
        .env("DATABASE_URL", app._db.url())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        compute.status.success(),
        "khaosat compute: {}{}",
        String::from_utf8_lossy(&compute.stdout),
        String::from_utf8_lossy(&compute.stderr)
    );
}

/// `KHAOSAT_CRASH_ITERATIONS`, or the default.
fn crash_iterations() -> usize {
    std::env::var("KHAOSAT_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CRASH_ITERATIONS)
}

// ---------------------------------------------------------------------------------------------
// 1. SIGKILL

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_submissions_survive_sigkill_at_random_moments() {
    let started = Instant::now();
    let iterations = crash_iterations();
    let app = prepared(TestDb::new());
    let (round, ballots, secret) = round_with_ballots(&app, 40 * iterations + 100);
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig::new(&app, dir.path());
    let prepared_in = started.elapsed();

    let mut server = Server::start(&config).await;
    let load = Load::start(ballots.clone(), 8, &secret, &server.address);
    for _ in 0..iterations {
        tokio::time::sleep(Duration::from_millis(rand::random_range(50..=400))).await;
        drop(server);
        server = Server::start(&config).await;
        load.point_at(&server.address);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ledger = load.finish().await;
    assert!(server.is_running(), "{}", server.log());
    eprintln!(
        "{iterations} kills in {:.1} s (preparation {:.1} s): {} acknowledged, {} requests cut \
         by a kill, {} refused while restarting, {} answered 503",
        started.elapsed().as_secs_f64(),
        prepared_in.as_secs_f64(),
        ledger.receipts.len(),
        ledger.cut,
        ledger.refused,
        ledger.unavailable
    );
    assert!(!ledger.receipts.is_empty(), "{}", server.log());
    assert!(
        iterations == 0 || ledger.cut > 0,
        "some kill hit a request in flight"
    );
    drop(server);
    assert_consistent(&app, dir.path(), round, &ballots, &ledger);
}

// ---------------------------------------------------------------------------------------------
// 2. Two instances on one PostgreSQL database

/// A fresh PostgreSQL database: the suite's server, or `KHAOSAT_TEST_POSTGRES` in a SQLite run.
fn postgres_test_db() -> Option<TestDb> {
    postgres_server_url().map(|url| TestDb::postgres(&url))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgresql_keep_one_response_per_code_share_sessions_and_send_each_mail_once()
 {
    let Some(db) = postgres_test_db() else {
        skip("two instances need PostgreSQL: set KHAOSAT_TEST_POSTGRES");
        return;
    };
    let mut app = prepared(db);
    let (round, ballots, secret) = round_with_ballots(&app, 30);
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start();
    let config = ServerConfig {
        smtp_url: Some(sink.url()),
        ..ServerConfig::new(&app, dir.path())
    };
    let a = Server::start(&config).await;
    let b = Server::start(&config).await;

    same_codes_through_both_instances_store_one_response_each(
        &app,
        dir.path(),
        round,
        &ballots,
        &secret,
        [&a, &b],
    )
    .await;
    a_session_opened_on_one_instance_works_on_the_other(&mut app, &a, &b).await;
    queued_mail_is_sent_once_by_two_workers(&app, round, &a, &sink).await;
}

/// Every code is submitted four times with its own key and twice with a forged one, spread
/// over both instances, all at once (a burst that admission control may partly turn away with
/// `503`: those are sent again, as people would).
async fn same_codes_through_both_instances_store_one_response_each(
    app: &TestApp,
    dir: &Path,
    round: i64,
    ballots: &[Ballot],
    secret: &str,
    [a, b]: [&Server; 2],
) {
    let browser = Browser::new(secret);
    let mut tasks = Vec::new();
    for ballot in ballots {
        let forged = random_token();
        for (server, key, own) in [
            (a, &ballot.key, true),
            (b, &ballot.key, true),
            (a, &forged, false),
            (a, &ballot.key, true),
            (b, &forged, false),
            (b, &ballot.key, true),
        ] {
            let (browser, ballot, key, address) = (
                browser.clone(),
                ballot.clone(),
                key.clone(),
                server.address.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let reply = browser
                    .submit_when_admitted(&address, &ballot, &key)
                    .await
                    .unwrap();
                (ballot, own, reply)
            }));
        }
    }
    let mut ledger = Ledger::default();
    for task in tasks {
        let (ballot, own, reply) = task.await.unwrap();
        ledger.attempted.insert(ballot.code.clone());
        if own {
            ledger.answered(&ballot, &reply);
        } else {
            // A forged key never gets a receipt: the code's page (stale form) or "already used".
            let stale = format!("/s/{}", ballot.code);
            assert!(
                reply.status == 410
                    || (reply.status == 303 && reply.location.as_deref() == Some(&stale)),
                "forged key for {}: {reply:?}",
                ballot.code
            );
        }
    }
    assert_eq!(
        ledger.receipts.len(),
        ballots.len(),
        "{:#?}",
        ledger.unexpected
    );
    assert_consistent(app, dir, round, ballots, &ledger);
}

/// Sessions live in the database: a login on one instance is honoured by the other, and a
/// logout on the other ends it on the first.
async fn a_session_opened_on_one_instance_works_on_the_other(
    app: &mut TestApp,
    a: &Server,
    b: &Server,
) {
    app.address = a.address.clone();
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    let cookies = app.cookies();
    assert!(!cookies.is_empty());
    let fresh = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let on_b = fresh
        .get(b.url("/admin"))
        .header(reqwest::header::COOKIE, &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(on_b.status(), 200, "the session cookie from A opens B");
    let anonymous = fresh.get(b.url("/admin")).send().await.unwrap();
    assert_eq!(anonymous.status(), 303, "B asks others to log in");

    app.address = b.address.clone();
    let logout = app.submit("/admin", "/admin/logout", &[]).await;
    assert_eq!(logout.status(), 303);
    let after = fresh
        .get(a.url("/admin"))
        .header(reqwest::header::COOKIE, &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        303,
        "the logout on B ended the session on A"
    );
}

/// Imports `n` respondents with e-mail addresses into the open `round` and queues their
/// invitations, as `khaosat round send-invitations` does.
fn queue_invitations(app: &TestApp, round: i64, n: usize, base_url: &str) {
    let mut conn = app.pool.get().unwrap();
    let unit = khaosat::db::rounds::units(&mut conn, round).unwrap()[0]
        .code
        .clone();
    let mut csv = String::from("name,email,phone,unit,group,position,level\n");
    for k in 0..n {
        csv.push_str(&format!(
            "Người mời {k},moi{k}@sonoivu.gov.vn,,{unit},leader,,\n"
        ));
    }
    rounds::import_respondents(&mut conn, round, "moi.csv", csv.as_bytes(), ADMIN).unwrap();
    let secret = SecretKey::new(stored_secret(app).as_bytes());
    let queued = rounds::queue_invitations(
        &mut conn,
        &secret,
        base_url,
        khaosat::domain::local_time::TimeZone::default(),
        round,
        ADMIN,
    )
    .unwrap();
    assert_eq!(queued, n);
}

/// Waits for `n` messages, then a little longer (mail workers poll every 2 s) for any
/// duplicate, and returns how many times each recipient and each Message-ID arrived.
async fn deliveries(sink: &SmtpSink, n: usize) -> (HashMap<String, usize>, HashMap<String, usize>) {
    let sink = sink.clone();
    let messages = tokio::task::spawn_blocking(move || {
        sink.wait_for(n, Duration::from_secs(60));
        std::thread::sleep(Duration::from_secs(5));
        sink.messages()
    })
    .await
    .unwrap();
    let mut per_recipient: HashMap<String, usize> = HashMap::new();
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for message in &messages {
        for to in &message.to {
            *per_recipient.entry(to.clone()).or_default() += 1;
        }
        let id = mail_parser::MessageParser::default()
            .parse(&message.data)
            .and_then(|m| m.message_id().map(str::to_owned))
            .expect("a Message-ID");
        *per_id.entry(id).or_default() += 1;
    }
    (per_recipient, per_id)
}

/// Asserts that each of `n` messages arrived exactly once, by recipient and by Message-ID.
fn assert_each_once(
    per_recipient: &HashMap<String, usize>,
    per_id: &HashMap<String, usize>,
    n: usize,
) {
    let twice: Vec<_> = per_recipient.iter().filter(|(_, c)| **c != 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(per_recipient.len(), n);
    assert_eq!(per_id.len(), n);
    assert!(per_id.values().all(|&c| c == 1), "{per_id:?}");
}

/// Invitations queued while both instances' mail workers run arrive once each: one per
/// recipient, one per Message-ID, each outbox row claimed once.
async fn queued_mail_is_sent_once_by_two_workers(
    app: &TestApp,
    round: i64,
    a: &Server,
    sink: &SmtpSink,
) {
    const INVITATIONS: usize = 150;
    queue_invitations(app, round, INVITATIONS, &a.address);
    let (per_recipient, per_id) = deliveries(sink, INVITATIONS).await;
    assert_each_once(&per_recipient, &per_id, INVITATIONS);
    let mut conn = app.pool.get().unwrap();
    let rows: Vec<(String, i32)> = mail_outbox::table
        .select((mail_outbox::status, mail_outbox::attempts))
        .load(&mut conn)
        .unwrap();
    assert_eq!(rows.len(), INVITATIONS);
    assert!(
        rows.iter()
            .all(|(status, attempts)| status == "sent" && *attempts == 1),
        "every message claimed once and sent: {rows:?}"
    );
}

/// Lets one message through the relay every `pace` (each SMTP transaction waits at `MAIL FROM`
/// for its turn) until `stop` is set, then lets everything through.
fn slow_relay(
    sink: &SmtpSink,
    pace: Duration,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    let sink = sink.clone();
    sink.hold_after(0);
    tokio::spawn(async move {
        while !stop.load(Ordering::SeqCst) {
            tokio::time::sleep(pace).await;
            sink.hold_after(sink.messages().len() + 1);
        }
        sink.release();
    })
}

/// A batch is claimed under one lease and then sent message by message. Through a slow relay
/// the batch outlasts its lease although each message takes far less; another instance then
/// takes over the messages not yet sent, and the first must not send them as well. The lease
/// is 1 s here (`KHAOSAT_MAIL_LEASE_SECONDS`) and a message takes 0.3 s, standing for the
/// default 120 s lease over a batch of 50 through a relay taking 3 s a message.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_that_outlasts_its_mail_lease_is_not_sent_twice_by_another_instance() {
    const INVITATIONS: usize = 10;
    let app = prepared(TestDb::new());
    let (round, _) = open_round_with_codes(&app, 0);
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start();
    let config = ServerConfig {
        smtp_url: Some(sink.url()),
        env: vec![("KHAOSAT_MAIL_LEASE_SECONDS", "1".to_owned())],
        ..ServerConfig::new(&app, dir.path())
    };
    let stop = Arc::new(AtomicBool::new(false));
    let relay = slow_relay(&sink, Duration::from_millis(300), stop.clone());
    let a = Server::start(&config).await;
    queue_invitations(&app, round, INVITATIONS, &a.address);
    let claimed = Instant::now();
    while !sink.is_holding() {
        assert!(
            claimed.elapsed() < Duration::from_secs(30),
            "A reached the relay"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A's lease runs out while it is a few messages into its batch of ten.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let b = Server::start(&config).await;
    let (per_recipient, per_id) = deliveries(&sink, INVITATIONS).await;
    stop.store(true, Ordering::SeqCst);
    relay.await.unwrap();
    drop((a, b));
    assert_each_once(&per_recipient, &per_id, INVITATIONS);
}

// ---------------------------------------------------------------------------------------------
// 3. A PostgreSQL outage

/// `uid` and `gid` of a system account, from `/etc/passwd`.
fn system_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        if fields.next()? != name {
            return None;
        }
        let _password = fields.next()?;
        Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
    })
}

/// True when this process runs as root, whom file modes do not bind.
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1).map(|euid| euid == "0"))
        .unwrap_or(false)
}

/// Gives a directory and the files directly in it to `user`.
fn chown_dir(dir: &Path, (uid, gid): (u32, u32)) {
    std::os::unix::fs::chown(dir, Some(uid), Some(gid)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        std::os::unix::fs::chown(entry.unwrap().path(), Some(uid), Some(gid)).unwrap();
    }
}

/// A free port on loopback (free when asked; nothing else here binds it in the meantime).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A PostgreSQL cluster of this test alone, on a port of its own, so that stopping it cannot
/// disturb the shared server that other tests use. Stopped when dropped.
struct PrivatePostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// As root, the server programs run as the `postgres` account (initdb refuses root).
    as_postgres: bool,
}

impl PrivatePostgres {
    /// Creates and starts a cluster; `None` when the server programs are not installed.
    fn start() -> Option<Self> {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
            .collect();
        versions.sort();
        let bin = versions.pop()?;
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = running_as_root();
        if as_postgres {
            chown_dir(dir.path(), system_user("postgres")?);
        }
        let cluster = PrivatePostgres {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        cluster.resume();
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// Runs a server program and asserts it succeeded.
    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        let output = command.args(args).stdin(Stdio::null()).output().unwrap();
        assert!(
            output.status.success(),
            "{program} {args:?}: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            tail(&self.dir.path().join("server.log"))
        );
    }

    /// Starts the server (again) and waits until it accepts connections.
    fn resume(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
    }

    /// Stops the server at once, as a crash would (no shutdown checkpoint).
    fn crash(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let path = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if self.as_postgres {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(path)
                .args(args)
                .output()
        } else {
            Command::new(path).args(args).output()
        };
    }
}

/// One request of each kind a visitor makes while the database is away.
async fn probe_outage(server: &Server, browser: &Browser, ballot: &Ballot) {
    let code_page = server.url(&format!("/s/{}", ballot.code));
    let api = server.url("/api/v1/rounds");
    let ready = server.url("/readyz");
    let (page, api, ready, submit) = tokio::join!(
        browser.get(&code_page),
        browser.get(&api),
        browser.get(&ready),
        browser.submit(&server.address, ballot, &ballot.key),
    );
    assert_unavailable("GET /s/{code}", &page.unwrap(), false);
    assert_unavailable("GET /api/v1/rounds", &api.unwrap(), true);
    assert_unavailable("GET /readyz", &ready.unwrap(), false);
    assert_unavailable("POST /s/{code}/submit", &submit.unwrap(), false);
}

/// Waits until the page, the API and readiness answer 200; false after `limit`.
async fn serves_again_within(
    server: &Server,
    browser: &Browser,
    ballot: &Ballot,
    limit: Duration,
) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        let mut all = true;
        for path in [
            format!("/s/{}", ballot.code),
            "/api/v1/rounds".to_owned(),
            "/readyz".to_owned(),
        ] {
            let reply = browser.get(&server.url(&path)).await.unwrap();
            assert!(
                reply.status == 200 || reply.status == 503,
                "{path}: {reply:?}"
            );
            all &= reply.status == 200;
        }
        if all {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgresql_outage_gives_503_and_service_resumes_by_itself() {
    let Some(cluster) = PrivatePostgres::start() else {
        skip("PostgreSQL server programs (initdb, pg_ctl) are not installed");
        return;
    };
    let mut app = prepared(TestDb::postgres(&cluster.admin_url()));
    let (round, ballots, secret) = round_with_ballots(&app, 300);
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&ServerConfig::new(&app, dir.path())).await;
    let pid = server.child.id();
    let (probes, load_ballots) = ballots.split_at(2);
    let load = Load::start(load_ballots.to_vec(), 4, &secret, &server.address);
    tokio::time::sleep(Duration::from_millis(1500)).await;

    cluster.crash();
    let browser = Browser::new(&secret);
    // Twice: pooled connections that died with the server, then new connection attempts.
    for _ in 0..2 {
        probe_outage(&server, &browser, &probes[0]).await;
    }
    let seen = load.shared.ledger.lock().unwrap().unavailable;
    assert!(seen > 0, "the clients were answered 503 during the outage");

    cluster.resume();
    let back = Instant::now();
    assert!(
        serves_again_within(&server, &browser, &probes[0], Duration::from_secs(10)).await,
        "the same process serves again within 10 s of the database's return:\n{}",
        server.log()
    );
    assert!(server.is_running());
    assert_eq!(server.child.id(), pid);
    let recovered_in = back.elapsed();
    let mut ledger_probes = Ledger::default();
    for probe in probes {
        let reply = browser
            .submit(&server.address, probe, &probe.key)
            .await
            .unwrap();
        ledger_probes.attempted.insert(probe.code.clone());
        ledger_probes.answered(probe, &reply);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut ledger = load.finish().await;
    eprintln!(
        "outage: serving again {:.1} s after the database's return; {} acknowledged, {} \
         answered 503, {} cut, {} refused",
        recovered_in.as_secs_f64(),
        ledger.receipts.len(),
        ledger.unavailable,
        ledger.cut,
        ledger.refused
    );
    assert_eq!(
        ledger.cut + ledger.refused,
        0,
        "the server never dropped a request"
    );
    ledger.attempted.extend(ledger_probes.attempted);
    ledger.receipts.extend(ledger_probes.receipts);
    ledger.unexpected.extend(ledger_probes.unexpected);
    // The test's own pool lost its connections with the server too.
    app.pool = pool_of(&app._db);
    assert_consistent(&app, dir.path(), round, &ballots, &ledger);
}

// ---------------------------------------------------------------------------------------------
// 4. A read-only SQLite database

/// Sets the mode of the database file and of its `-wal` and `-shm` files (those that exist).
fn set_database_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
}

/// `PRAGMA integrity_check` on a SQLite file.
fn integrity_check(path: &Path) -> String {
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut conn =
        diesel::sqlite::SqliteConnection::establish(&path.display().to_string()).unwrap();
    let rows: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .unwrap();
    rows.into_iter()
        .map(|r| r.integrity_check)
        .collect::<Vec<_>>()
        .join("; ")
}

/// While writes cannot succeed: every submission is answered with the 503 page (after the
/// busy timeout when the database is locked), and meanwhile each read in `reads` answers 200.
async fn writes_refused_reads_served(
    browser: &Browser,
    server: &Server,
    ballots: &[Ballot],
    reads: &[String],
) {
    let submissions: Vec<_> = ballots
        .iter()
        .map(|ballot| {
            let (browser, ballot, address) =
                (browser.clone(), ballot.clone(), server.address.clone());
            tokio::spawn(async move { browser.submit(&address, &ballot, &ballot.key).await })
        })
        .collect();
    for path in reads {
        let reply = browser.get(&server.url(path)).await.unwrap();
        assert_eq!(
            reply.status,
            200,
            "reading {path}: {reply:?}\n{}",
            server.log()
        );
    }
    for submission in submissions {
        let reply = submission.await.unwrap().unwrap();
        assert_unavailable("a submission that cannot be written", &reply, false);
    }
}

/// Submits each ballot in turn and asserts that each is acknowledged.
async fn submit_and_acknowledge(
    browser: &Browser,
    server: &Server,
    ballots: &[Ballot],
    ledger: &mut Ledger,
) {
    for ballot in ballots {
        ledger.attempted.insert(ballot.code.clone());
        let reply = browser
            .submit(&server.address, ballot, &ballot.key)
            .await
            .unwrap();
        assert!(
            ledger.answered(ballot, &reply),
            "{reply:?}\n{}",
            server.log()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_sqlite_database_gives_a_clear_error_and_loses_nothing() {
    if postgres_admin_url().is_some() {
        eprintln!("SQLite only: a PostgreSQL run has no database file");
        return;
    }
    let mut app = prepared(TestDb::sqlite());
    let khaosat::app::config::DatabaseUrl::Sqlite(file) = app._db.database_url() else {
        unreachable!("a SQLite test database")
    };
    let file = PathBuf::from(file);
    let (round, ballots, secret) = round_with_ballots(&app, 12);
    let (before, rest) = ballots.split_at(4);
    let (during, unsent) = rest.split_at(4);
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(&app, dir.path());
    // File modes do not bind root: as root, the server runs as `nobody`, owning the files.
    if running_as_root() {
        let nobody = system_user("nobody").expect("a `nobody` account");
        chown_dir(file.parent().unwrap(), nobody);
        chown_dir(dir.path(), nobody);
        config.user = Some(nobody);
    }
    let browser = Browser::new(&secret);
    let mut ledger = Ledger::default();

    let server = Server::start(&config).await;
    // A database in service has an account (else the server would store a setup link).
    app.address = server.address.clone();
    app.login_as("admin@sonoivu.gov.vn", Role::Admin).await;
    submit_and_acknowledge(&browser, &server, before, &mut ledger).await;
    for ballot in during {
        ledger.attempted.insert(ballot.code.clone());
    }
    let receipt = &ledger.receipts[&before[0].code];
    let reads = [
        format!("/receipt/{receipt}"),
        format!("/s/{}", unsent[0].code),
        format!("/s/{}/review", unsent[0].code),
        "/readyz".to_owned(),
    ];

    // Locked out: another process (a backup, an operator's `sqlite3` shell) holds the write
    // lock past the busy timeout.
    let mut lock =
        diesel::sqlite::SqliteConnection::establish(&file.display().to_string()).unwrap();
    diesel::connection::SimpleConnection::batch_execute(&mut lock, "BEGIN EXCLUSIVE").unwrap();
    writes_refused_reads_served(&browser, &server, during, &reads).await;
    diesel::connection::SimpleConnection::batch_execute(&mut lock, "ROLLBACK").unwrap();
    drop(lock);

    // Read-only: killed (its -wal and -shm stay behind, as after a crash), the files made
    // read-only (a volume remounted read-only, a restore with the wrong owner) and started
    // again. File modes are checked when a file is opened, so only a new process sees them.
    drop(server);
    set_database_mode(&file, 0o444);
    let server = Server::start(&config).await;
    writes_refused_reads_served(&browser, &server, during, &reads).await;
    drop(server);

    set_database_mode(&file, 0o644);
    let server = Server::start(&config).await;
    submit_and_acknowledge(&browser, &server, during, &mut ledger).await;
    drop(server);
    assert_consistent(&app, dir.path(), round, &ballots, &ledger);
    assert_eq!(integrity_check(&file), "ok");
}
