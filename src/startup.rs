//! Builds the application: pool, migrations, secret key, setup link, and the HTTP server
//! bound to its port (port 0 picks a free one, which the tests use).

use std::cell::RefCell;
use std::net::TcpListener;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, Server, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::KeepAlive;
use actix_web::middleware::{Next, from_fn};
use actix_web::web::Bytes;
use actix_web::{App, HttpMessage, HttpServer, web};
use futures_util::Stream;

use crate::auth::tokens::SecretKey;
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::{middleware, routes};

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

/// Time every request body gets before it must keep up [`REQUEST_BODY_MIN_RATE`]. actix has
/// no body timeout of its own, so without this a body sent a byte at a time holds its
/// connection (and handler) for as long as the sender likes.
pub const REQUEST_BODY_GRACE: Duration = Duration::from_secs(10);

/// The slowest average rate, in bytes per second, at which a body may arrive after
/// [`REQUEST_BODY_GRACE`]: far below any real connection (an upload over a weak mobile link
/// still sends kilobytes a second), far above a deliberate trickle.
pub const REQUEST_BODY_MIN_RATE: u64 = 1024;

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
            anyhow::anyhow!("cannot listen on {} (KHAOSAT_BIND): {e}", settings.bind)
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

        let mailer = crate::mail::Mailer::from_settings(&settings)?;
        if let Some(mailer) = &mailer {
            let lease = chrono::Duration::seconds(settings.mail_lease_seconds);
            crate::mail::sender::spawn_worker(pool.clone(), mailer.clone(), lease)?;
        }
        crate::auth::housekeeping::spawn_schedule(pool.clone());
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            settings: settings.clone(),
            secret,
            metrics: Metrics::default(),
            mail_configured: mailer.is_some(),
            instruments: std::sync::Mutex::default(),
            api_usage: std::sync::Mutex::default(),
            results: std::sync::Arc::default(),
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
                .wrap(from_fn(middleware::render_errors))
                .wrap(from_fn(middleware::security_headers))
                .wrap(from_fn(middleware::observe))
                // Outermost, so that it sees the response actually sent (see `body_deadline`).
                .wrap(from_fn(body_deadline))
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

/// Where [`BodyDeadline`] leaves the rest of a body that arrived too slowly.
type Unread = Rc<RefCell<Option<Payload>>>;

/// Puts every request body under [`BodyDeadline`], whichever handler reads it.
async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let unread = Unread::default();
    let payload = req.take_payload();
    req.set_payload(Payload::Stream {
        payload: Box::pin(BodyDeadline::new(payload, unread.clone())),
    });
    let res = next.call(req).await?;
    let rest = unread.borrow_mut().take();
    Ok(match rest {
        None => res.map_into_left_body(),
        Some(rest) => res
            .map_body(|_, body| KeepUnread {
                body: body.boxed(),
                _unread: rest,
            })
            .map_into_right_body(),
    })
}

/// A response body carrying the rest of a too-slow request body until it is written. actix
/// closes a connection whose request body is unread when the response ends; had the body
/// been dropped, it would instead read and discard a chunked body to its end, however slowly
/// it trickles in.
struct KeepUnread {
    body: BoxBody,
    _unread: Payload,
}

impl MessageBody for KeepUnread {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}

/// A request body that fails with a timeout once it falls behind schedule: all of it by
/// [`REQUEST_BODY_GRACE`] plus one second per [`REQUEST_BODY_MIN_RATE`] bytes received. The
/// handler's read then fails, the request is answered with an error and, its body unread,
/// the connection closed.
struct BodyDeadline {
    inner: Payload,
    started: tokio::time::Instant,
    received: u64,
    timer: Pin<Box<tokio::time::Sleep>>,
    unread: Unread,
    expired: bool,
}

impl BodyDeadline {
    fn new(inner: Payload, unread: Unread) -> Self {
        let started = tokio::time::Instant::now();
        Self {
            inner,
            started,
            received: 0,
            timer: Box::pin(tokio::time::sleep_until(started + REQUEST_BODY_GRACE)),
            unread,
            expired: false,
        }
    }
}

impl Stream for BodyDeadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.received += chunk.len() as u64;
                let earned = Duration::from_secs(self.received / REQUEST_BODY_MIN_RATE);
                let deadline = self.started + REQUEST_BODY_GRACE + earned;
                self.timer.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Pending => match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.expired = true;
                    let rest = std::mem::replace(&mut self.inner, Payload::None);
                    *self.unread.borrow_mut() = Some(rest);
                    Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the request body arrived too slowly",
                    )))))
                }
                Poll::Pending => Poll::Pending,
            },
            done => done,
        }
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
                    .map_err(|e| {
                        anyhow::anyhow!("cannot load the secret key from the database: {e}")
                    })?;
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
            return Err(anyhow::anyhow!(
                "cannot connect to the database {} (DATABASE_URL): {e}",
                settings.database_url.redacted()
            ));
        }
    };
    if settings.migrate_on_start {
        let applied = db::run_migrations(&mut conn)?;
        if applied > 0 {
            tracing::info!(applied, "database migrations applied");
        }
    }
    let unit_sets = crate::rounds::load_reference_units(&mut conn)
        .map_err(|e| anyhow::anyhow!("cannot load the bundled unit lists: {e}"))?;
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
    crate::auth::housekeeping::purge_logged(&mut conn);
    let bundled = crate::catalog::load_bundled(&mut conn)
        .map_err(|e| anyhow::anyhow!("cannot load the bundled questionnaires: {e}"))?;
    if bundled > 0 {
        tracing::info!(
            files = bundled,
            "bundled questionnaires and methodologies loaded"
        );
    }
    let secret = match &settings.secret_key {
        Some(key) => SecretKey::new(key.as_bytes()),
        None => {
            let stored =
                db::settings::get_or_insert(&mut conn, SECRET_SETTING, &SecretKey::generate_hex())
                    .map_err(|e| {
                        anyhow::anyhow!("cannot load the secret key from the database: {e}")
                    })?;
            SecretKey::new(stored.as_bytes())
        }
    };
    let setup_url = routes::admin::setup::issue_link_if_no_users(&mut conn, &settings.base())
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot create the setup link: {}",
                crate::error::cause_chain(&e)
            )
        })?;
    Ok((secret, setup_url))
}
