//! The one error type of the web layer. Users see a helpful page (or JSON under `/api/`);
//! logs get the cause chain; internals never reach the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, http::header};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is malformed; the message-catalogue key says how.
    #[error("bad request ({0})")]
    BadRequest(&'static str),
    /// The page needs a logged-in account.
    #[error("login required")]
    LoginRequired,
    /// The account may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The form's CSRF token is missing, stale or forged.
    #[error("missing or invalid CSRF token")]
    Csrf,
    /// No such page or object.
    #[error("not found")]
    NotFound,
    /// The request body is larger than allowed.
    #[error("payload too large")]
    PayloadTooLarge,
    /// Too many attempts; try again after this many seconds.
    #[error("too many attempts, retry after {retry_after_secs}s")]
    TooManyRequests {
        /// Seconds until the next attempt may succeed.
        retry_after_secs: i64,
    },
    /// Every core is busy hashing passwords; the request may be retried in a moment.
    #[error("password hashing at capacity")]
    Busy,
    /// Admission control refused the request: as many requests as the server works on at once
    /// are running and the short queue behind them is full. Nothing was done; retry shortly.
    #[error("at capacity, request not admitted")]
    Overloaded,
    /// The database is unreachable or overloaded; the request may be retried.
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// A bug or an unexpected failure.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Shorthand for handler results.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// Wraps any unexpected failure as a 500, keeping the cause for the log.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(error.into())
    }

    /// The message-catalogue keys of this error's title and explanation.
    pub fn message_keys(&self) -> (&'static str, &'static str) {
        match self {
            AppError::BadRequest(key) => ("error.bad_request.title", key),
            AppError::LoginRequired => ("error.login_required.title", "error.login_required.body"),
            AppError::Forbidden => ("error.forbidden.title", "error.forbidden.body"),
            AppError::Csrf => ("error.csrf.title", "error.csrf.body"),
            AppError::NotFound => ("error.not_found.title", "error.not_found.body"),
            AppError::PayloadTooLarge => ("error.too_large.title", "error.too_large.body"),
            AppError::TooManyRequests { .. } => ("error.too_many.title", "error.too_many.body"),
            AppError::Busy => ("error.busy.title", "error.busy.body"),
            AppError::Overloaded => ("error.busy.title", "error.overloaded.body"),
            AppError::Unavailable(_) => ("error.unavailable.title", "error.unavailable.body"),
            AppError::Internal(_) => ("error.internal.title", "error.internal.body"),
        }
    }
}

/// The keys for an error actix raised itself (an extractor, an unknown method...).
pub fn message_keys_for_status(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        401 => ("error.login_required.title", "error.login_required.body"),
        403 => ("error.forbidden.title", "error.forbidden.body"),
        404 | 405 => ("error.not_found.title", "error.not_found.body"),
        413 => ("error.too_large.title", "error.too_large.body"),
        429 => ("error.too_many.title", "error.too_many.body"),
        503 => ("error.unavailable.title", "error.unavailable.body"),
        400..=499 => ("error.bad_request.title", "error.bad_request.body"),
        _ => ("error.internal.title", "error.internal.body"),
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::LoginRequired => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy | AppError::Overloaded | AppError::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A plain response; `web::middleware::render_errors` replaces its body with a page or
    /// JSON in the visitor's language, keeping the status and headers set here.
    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            AppError::TooManyRequests { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            AppError::Busy => {
                response.insert_header((header::RETRY_AFTER, "2"));
            }
            AppError::Overloaded => {
                // A turn frees up within milliseconds; one second spreads the retries out.
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            AppError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        response.body(self.status_code().canonical_reason().unwrap_or("error"))
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                AppError::Unavailable(error.into())
            }
            // SQLite: another writer held the lock past the busy timeout, or the disk is full
            // or read-only; PostgreSQL: the server went away mid-query. The request failed as
            // a whole and may be retried once the database accepts writes again.
            Error::DatabaseError(_, ref info) if is_transient_message(info.message()) => {
                AppError::Unavailable(error.into())
            }
            other => AppError::Internal(other.into()),
        }
    }
}

fn is_transient_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("database is locked")
        || m.contains("server closed the connection")
        || m.contains("terminating connection")
        || m.contains("connection refused")
        || m.contains("no connection to the server")
        || m.contains("the database system is")
        // SQLite on a full disk or a read-only file: nothing is written (the transaction rolls
        // back), the operator must act, and the visitor should simply try again later.
        || m.contains("database or disk is full")
        || m.contains("readonly database")
        || m.contains("disk i/o error")
}

impl From<r2d2::Error> for AppError {
    fn from(error: r2d2::Error) -> Self {
        AppError::Unavailable(error.into())
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task failed: {error}"))
    }
}

/// Formats an error and all its causes on one line, for logs.
pub fn cause_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
