//! Admission control: at most a fixed number of requests are worked on at once, a bounded
//! number more may wait a short while for their turn, and every other request is answered at
//! once with `503` and `Retry-After` instead of joining a queue that only grows.
//!
//! Why a gate in front of the handlers rather than the pool's own wait: a request that waits
//! for a pooled connection holds a blocking thread for up to the pool's timeout (5 s), and
//! under overload every answer slows down together. Refusing early keeps the latency of the
//! requests that are accepted bounded (queue wait + service time), costs a refused client one
//! cheap round trip, and never refuses a request after it has changed anything.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

/// The gate of one server process.
#[derive(Debug)]
pub struct Admission {
    /// One permit per request that may run; `None` when admission control is off.
    running: Option<Semaphore>,
    /// Requests waiting for a permit now.
    waiting: AtomicUsize,
    /// How many may wait at once ([`WAITING_PER_RUNNING`] per running request).
    max_waiting: usize,
    /// How long one may wait before it is refused.
    max_wait: Duration,
}

/// How many requests may wait per request that may run: enough that an ordinary crowd (64
/// respondents clicking at once against the default 20 running) never meets a refusal, few
/// enough that the queue drains within milliseconds when the server is saturated.
pub const WAITING_PER_RUNNING: usize = 4;

/// A request was refused because the server is at capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server is at capacity")]
pub struct Overloaded;

/// The right of one request to run; released when dropped.
#[derive(Debug)]
pub struct Admitted<'a> {
    _permit: Option<SemaphorePermit<'a>>,
}

impl Admission {
    /// A gate that lets `limit` requests run and [`WAITING_PER_RUNNING`] times as many wait up
    /// to `max_wait`; a `limit` of 0 turns admission control off.
    pub fn new(limit: usize, max_wait: Duration) -> Self {
        Self {
            running: (limit > 0).then(|| Semaphore::new(limit)),
            waiting: AtomicUsize::new(0),
            max_waiting: limit.saturating_mul(WAITING_PER_RUNNING),
            max_wait,
        }
    }

    /// Waits for a turn, or refuses at once when the queue is full, or after `max_wait`.
    pub async fn admit(&self) -> Result<Admitted<'_>, Overloaded> {
        let Some(running) = &self.running else {
            return Ok(Admitted { _permit: None });
        };
        if let Ok(permit) = running.try_acquire() {
            return Ok(Admitted {
                _permit: Some(permit),
            });
        }
        let _place = QueuePlace::take(&self.waiting, self.max_waiting).ok_or(Overloaded)?;
        match tokio::time::timeout(self.max_wait, running.acquire()).await {
            Ok(Ok(permit)) => Ok(Admitted {
                _permit: Some(permit),
            }),
            // Timed out (or the semaphore was closed, which this module never does).
            _ => Err(Overloaded),
        }
    }

    /// Requests waiting for a turn now (for metrics and tests).
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }
}

/// A place in the bounded queue, given back when dropped (admitted, refused or cancelled).
struct QueuePlace<'a>(&'a AtomicUsize);

impl<'a> QueuePlace<'a> {
    fn take(waiting: &'a AtomicUsize, max: usize) -> Option<Self> {
        let before = waiting.fetch_add(1, Ordering::AcqRel);
        if before >= max {
            waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Self(waiting))
    }
}

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WAIT: Duration = Duration::from_millis(200);

    #[tokio::test]
    async fn requests_up_to_the_limit_run_without_waiting() {
        let gate = Admission::new(2, WAIT);
        let first = gate.admit().await;
        let second = gate.admit().await;
        assert!(first.is_ok() && second.is_ok());
        assert_eq!(gate.waiting(), 0);
    }

    #[tokio::test]
    async fn a_waiting_request_runs_as_soon_as_a_running_one_ends() {
        let gate = std::sync::Arc::new(Admission::new(1, Duration::from_secs(5)));
        let running = gate.admit().await.unwrap();
        let waiter = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.admit().await.map(drop) })
        };
        while gate.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        drop(running);
        assert_eq!(waiter.await.unwrap(), Ok(()));
        assert_eq!(gate.waiting(), 0);
    }

    #[tokio::test]
    async fn a_request_beyond_the_queue_is_refused_at_once() {
        let gate = std::sync::Arc::new(Admission::new(1, Duration::from_secs(60)));
        let _running = gate.admit().await.unwrap();
        let _waiters: Vec<_> = (0..WAITING_PER_RUNNING)
            .map(|_| {
                let gate = gate.clone();
                tokio::spawn(async move { gate.admit().await.map(drop) })
            })
            .collect();
        while gate.waiting() < WAITING_PER_RUNNING {
            tokio::task::yield_now().await;
        }
        let started = std::time::Instant::now();
        assert_eq!(gate.admit().await.map(drop), Err(Overloaded));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(
            gate.waiting(),
            WAITING_PER_RUNNING,
            "the refused request left the queue as it was"
        );
    }

    #[tokio::test]
    async fn a_request_that_waits_too_long_is_refused_and_leaves_the_queue() {
        let gate = Admission::new(1, Duration::from_millis(20));
        let _running = gate.admit().await.unwrap();
        assert_eq!(gate.admit().await.map(drop), Err(Overloaded));
        assert_eq!(gate.waiting(), 0);
    }

    #[tokio::test]
    async fn a_limit_of_zero_admits_everything() {
        let gate = Admission::new(0, WAIT);
        let admitted: Vec<_> = futures_util::future::join_all((0..100).map(|_| gate.admit())).await;
        assert!(admitted.iter().all(Result::is_ok));
    }
}
