//! Persistence: one connection type over SQLite and PostgreSQL, the pool, migrations and
//! small query modules that return `QueryResult` and know nothing of HTTP.
//!
//! A lookup by a primary or unique key ends in `.get_result(conn)`, not `.first(conn)`:
//! `.first` sends `LIMIT ?` with the limit as a bound value, SQLite's planner reads bound
//! LIMIT values (`computeLimitRegisters`), so binding it again on the next run expires the
//! cached statement and SQLite compiles it anew every time (`sqlite3Reprepare`, 18.7 % of
//! the server's CPU in the journey profile of BENCHMARKS.md). Without a LIMIT the statement
//! cache works; a unique key returns one row either way.

pub mod access_codes;
pub mod account_links;
pub mod api_tokens;
pub mod appraised;
pub mod audit;
pub mod coverage;
mod database_url;
pub mod drafts;
pub mod export_jobs;
pub mod instruments;
pub mod methodologies;
mod one_time;
pub mod open_links;
pub mod outbox;
pub mod paper;
pub mod respondents;
pub mod responses;
pub mod rounds;
pub mod samples;
pub mod schema;
pub mod sessions;
pub mod settings;
pub mod setup_tokens;
pub mod snapshots;
pub mod throttle;
pub mod units;
pub mod upload_previews;
pub mod users;
pub mod versioned;

pub use database_url::{DatabaseUrl, DatabaseUrlError, SqliteSync};

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

/// Migrations for each backend; both folders carry identical version names.
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to whichever backend `DATABASE_URL` names.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL: the scale-out engine, shared by several app instances.
    Postgresql(PgConnection),
    /// SQLite: the embedded default.
    Sqlite(SqliteConnection),
}

/// The pool every request and command takes connections from.
pub type DbPool = r2d2::Pool<ConnectionManager>;
/// A connection checked out of [`DbPool`].
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// Which backend a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl AnyConnection {
    /// The backend behind this connection.
    pub fn backend(&self) -> Backend {
        match self {
            AnyConnection::Postgresql(_) => Backend::Postgres,
            AnyConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Opens a PostgreSQL connection. Every PostgreSQL connection of the process goes through
/// here, so that OpenSSL is initialised before libpq's first connection would do it.
///
/// Why: left to libpq, OpenSSL registers a cleanup that runs when the process exits and frees
/// its global state while other threads may still be inside it (a pool reconnecting, the mail
/// sender), which crashed the process at exit with SIGSEGV (diesel-rs/diesel#3441,
/// sfackler/r2d2#137). `openssl_sys::init` initialises it once without that cleanup; the
/// operating system reclaims the memory anyway.
pub fn connect_postgres(url: &str) -> diesel::ConnectionResult<PgConnection> {
    openssl_sys::init();
    PgConnection::establish(url)
}

/// Opens connections of the backend chosen from the URL scheme. Chosen explicitly rather than
/// through `AnyConnection::establish`, which would try each backend in turn (and SQLite
/// accepts any string as a file name).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    sqlite_sync: SqliteSync,
}

impl ConnectionManager {
    /// A manager for `url`; `sqlite_sync` applies to SQLite connections only.
    pub fn new(url: DatabaseUrl, sqlite_sync: SqliteSync) -> Self {
        Self { url, sqlite_sync }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => connect_postgres(url)
                .map(AnyConnection::Postgresql)
                .map_err(diesel::r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // Per-connection settings; WAL itself is persistent and set once at setup, but
                // setting it here too is cheap and makes every connection independent of order.
                let synchronous = match self.sqlite_sync {
                    SqliteSync::Normal => "NORMAL",
                    SqliteSync::Full => "FULL",
                };
                // `secure_delete`: the file holds secrets for a while (invitation bodies with
                // access codes, e-mail addresses) that are blanked once used; without it the
                // old bytes stay readable in free space of the file.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = {synchronous}; \
                     PRAGMA secure_delete = ON;"
                ))
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(AnyConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        <AnyConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

/// Builds the pool without connecting: the server starts (and answers `/readyz` with 503)
/// even while the database is down, and recovers by itself when it comes back.
pub fn build_pool(url: &DatabaseUrl, sqlite_sync: SqliteSync, size: u32) -> DbPool {
    let size = match url {
        // SQLite serialises writers anyway; a few readers beside them are all that helps.
        DatabaseUrl::Sqlite(_) => size.clamp(1, 16),
        DatabaseUrl::Postgres(_) => size.max(1),
    };
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(false)
        .build_unchecked(ConnectionManager::new(url.clone(), sqlite_sync))
}

/// Applies every pending migration for the connection's backend and returns how many ran.
pub fn run_migrations(conn: &mut AnyConnection) -> anyhow::Result<usize> {
    let source = match conn.backend() {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => POSTGRES_MIGRATIONS,
    };
    let applied = conn
        .run_pending_migrations(source)
        .map_err(|e| anyhow::anyhow!("running database migrations failed: {e}"))?
        .len();
    scrub_once(conn)?;
    Ok(applied)
}

/// Marks a SQLite file whose free space was rewritten since `secure_delete` was turned on.
const SCRUBBED_SETTING: &str = "sqlite_free_space_scrubbed";

/// Rewrites a SQLite file once (`VACUUM`) so that secrets blanked before `secure_delete` was
/// turned on no longer linger in its free pages. PostgreSQL reclaims dead rows with its own
/// (auto)vacuum.
fn scrub_once(conn: &mut AnyConnection) -> anyhow::Result<()> {
    if conn.backend() != Backend::Sqlite || settings::get(conn, SCRUBBED_SETTING)?.is_some() {
        return Ok(());
    }
    conn.batch_execute("VACUUM")
        .map_err(|e| anyhow::anyhow!("rewriting the database file (VACUUM) failed: {e}"))?;
    settings::get_or_insert(conn, SCRUBBED_SETTING, "1")?;
    scrub_log(conn);
    Ok(())
}

/// On SQLite, folds the write-ahead log into the database file and empties it, so that the
/// old versions of pages whose secrets were just blanked (a sent invitation's body, say) do
/// not wait in the log. Best effort: with readers active it does what it can now, and the
/// next call finishes the job. A no-op on PostgreSQL.
pub fn scrub_log(conn: &mut AnyConnection) {
    if conn.backend() == Backend::Sqlite
        && let Err(e) = conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")
    {
        tracing::debug!(error = %e, "the write-ahead log could not be emptied now");
    }
}

/// Reverts every migration (tests use it to prove `down.sql` undoes `up.sql`).
pub fn revert_all_migrations(conn: &mut AnyConnection) -> anyhow::Result<usize> {
    let source = match conn.backend() {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => POSTGRES_MIGRATIONS,
    };
    let reverted = conn
        .revert_all_migrations(source)
        .map_err(|e| anyhow::anyhow!("reverting database migrations failed: {e}"))?;
    Ok(reverted.len())
}

/// The writers of this process on SQLite, one at a time, queued in memory.
///
/// SQLite admits one writer per database; the others, left to its busy handler, sleep 1, 2, 5
/// … 100 ms between tries, so under a burst of submissions most writer threads were asleep
/// while the lock was free (BENCHMARKS.md, scenarios 1 and 2). Waiting here instead wakes the
/// next writer the moment the last one commits. One lock for the process, not per file: a
/// server serves one database (tests that run several in one process only queue a little).
static SQLITE_WRITER: parking_lot::Mutex<()> = parking_lot::const_mutex(());

/// How long a writer waits for [`SQLITE_WRITER`] before it goes on without it, leaving the
/// wait to SQLite's own busy timeout (set to the same 10 s on every connection): a writer held
/// up by a long import is slowed, never hung.
const SQLITE_WRITER_WAIT: Duration = Duration::from_secs(10);

/// Runs `f` in a transaction that takes the write lock up front.
///
/// On SQLite a deferred transaction that reads and then writes can fail with `SQLITE_BUSY`
/// without waiting for the busy timeout; `BEGIN IMMEDIATE` queues writers instead, behind the
/// process's [`SQLITE_WRITER`] lock. On PostgreSQL this is an ordinary transaction. Use it for
/// every transaction that writes.
pub fn write_transaction<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let outermost =
        <AnyConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth()
            .map(|depth| depth.is_none())
            .unwrap_or(false);
    // Held until the transaction has committed or rolled back.
    let _writer = match conn {
        AnyConnection::Sqlite(_) if outermost => SQLITE_WRITER.try_lock_for(SQLITE_WRITER_WAIT),
        _ => None,
    };
    match conn {
        AnyConnection::Sqlite(sqlite) if outermost => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
        }
        _ => <AnyConnection as Connection>::TransactionManager::begin_transaction(conn)?,
    }
    // The same commit/rollback protocol as diesel's own `Connection::transaction`.
    match f(conn) {
        Ok(value) => {
            <AnyConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            match <AnyConnection as Connection>::TransactionManager::rollback_transaction(conn) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
                Err(rollback_error) => Err(rollback_error.into()),
            }
        }
    }
}

/// True when `error` is a unique-constraint violation (a concurrent duplicate).
pub fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// The current time as stored: UTC without a time zone.
pub fn now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}
