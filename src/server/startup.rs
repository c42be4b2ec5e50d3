//! Builds the application: pool, migrations, secret key, setup link, and the HTTP server
//! bound to its port (port 0 picks a free one, which the tests use).

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::KeepAlive;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};

use crate::app::auth::tokens::SecretKey;
use crate::app::config::Settings;
use crate::app::metrics::Metrics;
use crate::app::state::AppState;
use crate::db::{self, DbPool};
use crate::i18n::Message;
use crate::routes::{self, middleware};

/// The largest JSON request body accepted (the API takes small requests only).
pub const JSON_LIMIT_BYTES: usize = 64 * 1024;

/// How long a client has from connecting to the end of its request head (request line and
/// headers); a slower one gets 408 and is disconnected.
pub const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the server waits for a client to close a connection it is done with.
pub const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Keep-alive is off: actix times only the *first* request head on a connection, so a
/// client could otherwise hold a kept-alive connection forever by sending the next head a
/// byte at a time. One request per connection leaves every head under
/// [`CLIENT_REQUEST_TIMEOUT`]; a reverse proxy in front keeps its own connections to
/// browsers alive anyway.
pub const KEEP_ALIVE: KeepAlive = KeepAlive::Disabled;

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    setup_url: Option<String>,
    pool: DbPool,
}

/// The key under which a generated secret is kept in `app_settings`.
const SECRET_SETTING: &str = "secret_key";

impl Application {
    /// Prepares the database (migrations, secret key, setup link) and binds the listener.
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind).map_err(|e| {
            Message::new(
                "startup.cannot_listen",
                &[("bind", &settings.bind.to_string())],
            )
            .because(e)
        })?;
        let port = listener.local_addr()?.port();
        if settings.base_url.port() == Some(0) {
            // The default base URL follows the bind address; with port 0 use the real port.
            let _ = settings.base_url.set_port(Some(port));
        }

        let pool = db::build_pool(
            &settings.database_url,
            settings.sqlite_sync,
            settings.db_pool_size,
        );
        let (secret, setup_url) = {
            let pool = pool.clone();
            let settings = settings.clone();
            tokio::task::spawn_blocking(move || prepare_database(&pool, &settings)).await??
        };

        let mailer = crate::app::mail::Mailer::from_settings(&settings)?;
        if let Some(mailer) = &mailer {
            let lease = chrono::Duration::seconds(settings.mail_lease_seconds);
            crate::app::mail::sender::spawn_worker(pool.clone(), mailer.clone(), lease)?;
        }
        crate::app::auth::housekeeping::spawn_schedule(pool.clone());
        let writer = match settings.database_url.backend() {
            db::Backend::Sqlite if settings.group_commit => Some(
                crate::app::group_commit::GroupCommit::start(pool.clone())
                    .map_err(|e| Message::new("startup.writer_thread", &[]).because(e))?,
            ),
            _ => None,
        };
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            settings: settings.clone(),
            secret,
            metrics: Metrics::default(),
            mail_configured: mailer.is_some(),
            api_usage: std::sync::Mutex::default(),
            results: std::sync::Arc::default(),
            instruments_by_id: std::sync::Mutex::default(),
            admission: crate::app::admission::Admission::new(
                settings.max_in_flight,
                settings.queue_wait,
            ),
            writer,
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                // JSON bodies (API requests) are small; anything bigger is refused with 413.
                .app_data(
                    web::JsonConfig::default()
                        .limit(JSON_LIMIT_BYTES)
                        .error_handler(|e, _| match e {
                            actix_web::error::JsonPayloadError::Overflow { .. }
                            | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => {
                                crate::error::AppError::PayloadTooLarge.into()
                            }
                            _ => {
                                crate::error::AppError::BadRequest("error.bad_request.body").into()
                            }
                        }),
                )
                // Innermost, so that a refusal is rendered like any other error page.
                .wrap(from_fn(middleware::admission))
                .wrap(from_fn(middleware::render_errors))
                .wrap(from_fn(middleware::security_headers))
                .wrap(from_fn(middleware::observe))
                // Outermost, so that it sees the response actually sent (see `middleware::body_deadline`).
                .wrap(from_fn(middleware::body_deadline))
                .configure(routes::configure)
                .default_service(web::to(routes::not_found))
        })
        // Finish in-flight requests (a submission in progress) before exiting on SIGTERM.
        .shutdown_timeout(30)
        .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
        .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
        .keep_alive(KEEP_ALIVE)
        .listen(listener)?;
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        Ok(Self {
            port,
            server: server.run(),
            setup_url,
            pool,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The one-time setup link, when the database had no account at start.
    pub fn setup_url(&self) -> Option<&str> {
        self.setup_url.as_deref()
    }

    /// The connection pool (for tests and tools sharing the process).
    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    /// Serves until SIGTERM/SIGINT, then shuts down gracefully.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The secret key: `KHAOSAT_SECRET_KEY`, or the one generated once and kept in the database
/// (so restarts, sibling instances and the CLI all use the same key).
pub fn load_secret(conn: &mut db::AnyConnection, settings: &Settings) -> anyhow::Result<SecretKey> {
    match &settings.secret_key {
        Some(key) => Ok(SecretKey::new(key.as_bytes())),
        None => {
            let stored =
                db::settings::get_or_insert(conn, SECRET_SETTING, &SecretKey::generate_hex())
                    .map_err(|e| Message::new("startup.secret_key", &[]).because(e))?;
            Ok(SecretKey::new(stored.as_bytes()))
        }
    }
}

/// Runs migrations (unless disabled), loads or creates the secret key, and issues a setup
/// link if there is no account. Without a reachable database the server still starts when a
/// secret key is configured: `/readyz` reports 503 until the database answers.
fn prepare_database(
    pool: &DbPool,
    settings: &Settings,
) -> anyhow::Result<(SecretKey, Option<String>)> {
    let conn = pool.get();
    let mut conn = match (conn, &settings.secret_key) {
        (Ok(conn), _) => conn,
        (Err(e), Some(key)) if !settings.migrate_on_start => {
            tracing::warn!(error = %e, "database unreachable at start; serving and retrying");
            return Ok((SecretKey::new(key.as_bytes()), None));
        }
        (Err(e), _) => {
            return Err(Message::new(
                "startup.cannot_connect",
                &[("url", &settings.database_url.redacted())],
            )
            .because(e)
            .into());
        }
    };
    if settings.migrate_on_start {
        let applied = db::run_migrations(&mut conn)?;
        if applied > 0 {
            tracing::info!(applied, "database migrations applied");
        }
    }
    let unit_sets = crate::app::rounds::load_reference_units(&mut conn)
        .map_err(|e| Message::new("startup.unit_lists", &[]).because(e))?;
    if unit_sets > 0 {
        tracing::info!(sets = unit_sets, "bundled unit lists loaded");
    }
    // An export still queued or running an hour after it was asked for lost its worker in a
    // crash (exports of a national round take seconds); tell its owner to start it again.
    // Not fatal: a read-only database must still serve reads.
    match db::export_jobs::fail_abandoned(&mut conn, db::now() - chrono::Duration::hours(1)) {
        Ok(0) => {}
        Ok(abandoned) => tracing::warn!(jobs = abandoned, "interrupted exports marked failed"),
        Err(e) => tracing::warn!(error = %e, "could not mark interrupted exports as failed"),
    }
    crate::app::auth::housekeeping::purge_logged(&mut conn);
    let bundled = crate::app::catalog::load_bundled(&mut conn)
        .map_err(|e| Message::new("startup.questionnaires", &[]).because(e))?;
    if bundled > 0 {
        tracing::info!(
            files = bundled,
            "bundled questionnaires and methodologies loaded"
        );
    }
    let secret = load_secret(&mut conn, settings)?;
    let setup_url = crate::app::auth::setup_link::issue_if_no_users(&mut conn, &settings.base())
        .map_err(|e| Message::new("startup.setup_link", &[]).because(e))?;
    Ok((secret, setup_url))
}
