//! Shared application state handed to every handler.

use actix_web::web;

use crate::app::auth::tokens::SecretKey;
use crate::app::config::Settings;
use crate::app::metrics::Metrics;
use crate::db::{AnyConnection, DbPool};
use crate::domain::instrument::Instrument;
use crate::error::{AppError, AppResult};

/// What handlers need: the pool, the settings, the secret key and the metrics registry.
pub struct AppState {
    /// Database connections.
    pub pool: DbPool,
    /// Validated settings.
    pub settings: Settings,
    /// Key for MACs (CSRF tokens).
    pub secret: SecretKey,
    /// Request counters and latencies.
    pub metrics: Metrics,
    /// Whether SMTP is configured (the background sender runs).
    pub mail_configured: bool,
    /// Requests per API token in the current minute (per instance: counting in memory costs
    /// nothing per request, where a shared counter would cost a database write).
    pub api_usage: std::sync::Mutex<std::collections::HashMap<i64, crate::domain::throttle::State>>,
    /// Computed round results, reused while nothing they depend on changed.
    pub results: std::sync::Arc<crate::app::results::ResultsCache>,
    /// Which parsed instrument each stored id of this database is. A stored version never
    /// changes, so after the first request the respondent pages find their questionnaire
    /// without reading and hashing its source again; the parsed values themselves are the
    /// catalogue's (one parse per text, shared).
    pub instruments_by_id:
        std::sync::Mutex<std::collections::HashMap<i64, std::sync::Arc<Instrument>>>,
    /// The gate every request but health checks and assets passes (`routes::middleware`).
    pub admission: crate::app::admission::Admission,
    /// The writer thread that commits respondents' writes in groups, on SQLite only.
    pub writer: Option<crate::app::group_commit::GroupCommit>,
}

impl AppState {
    /// Counts one API request of token `token_id`; fails with 429 once the token has made
    /// `api_rate_per_minute` requests in the current minute.
    pub fn count_api_request(&self, token_id: i64) -> AppResult<()> {
        let policy = crate::domain::throttle::Policy::locking_for_window(
            i32::try_from(self.settings.api_rate_per_minute).unwrap_or(i32::MAX),
            chrono::Duration::minutes(1),
        );
        let now = crate::db::now();
        let mut usage = self
            .api_usage
            .lock()
            .map_err(|_| AppError::internal(anyhow::anyhow!("API usage lock poisoned")))?;
        let previous = usage.get(&token_id).copied();
        if let Some(retry_after_secs) = policy.retry_after(previous.as_ref(), now) {
            return Err(AppError::TooManyRequests { retry_after_secs });
        }
        usage.insert(token_id, policy.record_failure(previous.as_ref(), now));
        Ok(())
    }
}

impl AppState {
    /// Runs synchronous database work on the blocking thread pool (checking a connection
    /// out may block too), so the async executor never waits on SQLite or libpq.
    pub async fn db<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut AnyConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .await?
    }

    /// Runs a respondent's write (a draft started or saved, a submission): on SQLite through
    /// the group-commit writer ([`crate::app::group_commit`]), elsewhere like [`AppState::db`].
    /// `work` may run twice (see [`GroupCommit::write`](crate::app::group_commit::GroupCommit::write)).
    pub async fn write<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnMut(&mut AnyConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write(work).await,
            None => self.db(work).await,
        }
    }
}

impl AppState {
    /// A stored instrument, parsed once per process (through the catalogue's cache) and
    /// found by id without the database after its first use.
    pub async fn instrument(&self, id: i64) -> AppResult<std::sync::Arc<Instrument>> {
        let known = self
            .instruments_by_id
            .lock()
            .ok()
            .and_then(|by_id| by_id.get(&id).cloned());
        if let Some(instrument) = known {
            return Ok(instrument);
        }
        let instrument = self
            .db(move |conn| crate::app::catalog::shared_instrument(conn, id))
            .await?
            .ok_or(AppError::NotFound)?;
        if let Ok(mut by_id) = self.instruments_by_id.lock() {
            by_id.insert(id, instrument.clone());
        }
        Ok(instrument)
    }
}

impl AppState {
    /// Runs `work` with the results of `round_id` as `viewer` may see them (through the shared
    /// results cache) on the same connection, off the async executor. Every results page and
    /// API answer opens a round this one way, so none can show another view of it.
    pub async fn with_results<T, F>(
        &self,
        round_id: i64,
        viewer: crate::app::results::Viewer,
        work: F,
    ) -> AppResult<T>
    where
        F: FnOnce(&mut AnyConnection, crate::app::results::RoundResults) -> AppResult<T>
            + Send
            + 'static,
        T: Send + 'static,
    {
        let cache = self.results.clone();
        self.db(move |conn| {
            let results =
                crate::app::results::round_results_cached(&cache, conn, round_id, viewer)?;
            work(conn, results)
        })
        .await
    }

    /// The results of `round_id` as `viewer` may see them (see [`AppState::with_results`]).
    pub async fn results_of(
        &self,
        round_id: i64,
        viewer: crate::app::results::Viewer,
    ) -> AppResult<crate::app::results::RoundResults> {
        self.with_results(round_id, viewer, |_, results| Ok(results))
            .await
    }
}

/// Runs CPU-heavy work (password hashing) on the blocking thread pool.
pub async fn blocking<T, F>(work: F) -> AppResult<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    web::block(work).await.map_err(AppError::from)
}
