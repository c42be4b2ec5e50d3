//! Password hashing with Argon2id. The parameters live here and nowhere else. Hashing is
//! slow on purpose: callers run it off the async executor (`web::block`).
//!
//! Every hash and every verification passes through one process-wide [`HashGate`]: each
//! costs 19 MiB and a core for tens of milliseconds, so without a bound a burst of requests
//! (even ones that end in 404 or 401) could exhaust memory and starve every other request.

use std::sync::{Condvar, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use crate::error::AppError;

/// How long a hash waits for a free core before giving up with [`PasswordError::Busy`]. Long
/// enough to ride out a burst of honest logins (each hash takes tens of milliseconds), short
/// enough that a flood is answered with 503 instead of piling up.
pub const HASH_WAIT: Duration = Duration::from_secs(2);

/// Hashes allowed to wait per running one; beyond that a hash fails at once, so waiting
/// requests cannot tie up the blocking thread pool that database work needs too.
const WAITING_PER_PERMIT: usize = 4;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Every core is busy hashing and the wait ran out; the request may be retried.
    #[error("too many password hashes at once")]
    Busy,
    /// Argon2 failed (it does not for valid parameters).
    #[error("hashing a password failed: {0}")]
    Failed(String),
}

impl From<PasswordError> for AppError {
    fn from(error: PasswordError) -> Self {
        match error {
            PasswordError::Busy => AppError::Busy,
            PasswordError::Failed(_) => AppError::internal(error),
        }
    }
}

/// A counting semaphore with a bounded wait and a bounded queue: at most `permits` hashes
/// run at once, at most `max_waiting` wait, each for at most `wait`.
#[derive(Debug)]
pub struct HashGate {
    state: Mutex<GateState>,
    freed: Condvar,
    permits: usize,
    max_waiting: usize,
    wait: Duration,
}

#[derive(Debug, Default)]
struct GateState {
    running: usize,
    waiting: usize,
}

/// The right to run one hash; dropping it frees the slot.
#[derive(Debug)]
pub struct Permit<'a> {
    gate: &'a HashGate,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.gate.lock().running -= 1;
        self.gate.freed.notify_one();
    }
}

impl HashGate {
    /// A gate letting `permits` (at least one) hashes run at once.
    pub fn new(permits: usize, max_waiting: usize, wait: Duration) -> Self {
        Self {
            state: Mutex::default(),
            freed: Condvar::new(),
            permits: permits.max(1),
            max_waiting,
            wait,
        }
    }

    // The state is two counters that every critical section leaves consistent, so a panic
    // elsewhere while the lock was held does not make it unusable.
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A permit if one is free right now.
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        let mut state = self.lock();
        (state.running < self.permits).then(|| {
            state.running += 1;
            Permit { gate: self }
        })
    }

    /// A permit, waiting up to the gate's wait for one; [`PasswordError::Busy`] when none
    /// frees up in time or too many are already waiting.
    pub fn acquire(&self) -> Result<Permit<'_>, PasswordError> {
        let deadline = Instant::now() + self.wait;
        let mut state = self.lock();
        if state.running < self.permits {
            state.running += 1;
            return Ok(Permit { gate: self });
        }
        if state.waiting >= self.max_waiting {
            return Err(PasswordError::Busy);
        }
        state.waiting += 1;
        while state.running >= self.permits {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                state.waiting -= 1;
                return Err(PasswordError::Busy);
            }
            state = self
                .freed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state.waiting -= 1;
        state.running += 1;
        Ok(Permit { gate: self })
    }

    /// How many hashes may run at once.
    pub fn permits(&self) -> usize {
        self.permits
    }
}

/// The gate every hash and verification of this process passes: one permit per core.
pub fn gate() -> &'static HashGate {
    static GATE: LazyLock<HashGate> = LazyLock::new(|| {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        HashGate::new(cores, cores * WAITING_PER_PERMIT, HASH_WAIT)
    });
    &GATE
}

/// Argon2id with OWASP's recommended minimum: 19 MiB of memory, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .unwrap_or_else(|_| unreachable!("the fixed Argon2 parameters are valid"));
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_ungated(password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| PasswordError::Failed(format!("encoding a salt: {e}")))?;
    let phc = hasher()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| PasswordError::Failed(e.to_string()))?;
    Ok(phc.to_string())
}

/// Hashes a password into a PHC string (algorithm, parameters and salt included), through
/// the process-wide [`gate`].
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let _permit = gate().acquire()?;
    hash_ungated(password)
}

/// A hash of a random password, verified against when the account does not exist, so that an
/// unknown e-mail costs the same time as a wrong password. Made once, outside the gate (a
/// verification holding the only permit must not wait for a second one).
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_ungated(&crate::app::auth::tokens::random_token()).unwrap_or_default());

/// Checks `password` against a stored PHC string, through the process-wide [`gate`]. With
/// `None` (no such account) or a stored value that is no PHC string (an account whose owner
/// has not chosen a password yet, `domain::account::NO_PASSWORD`) it still does the full work
/// and returns false, so the answer's timing does not tell such accounts apart.
pub fn verify(password: &str, stored: Option<&str>) -> Result<bool, PasswordError> {
    let real = stored.and_then(|phc| PasswordHash::new(phc).ok());
    let is_real = real.is_some();
    let Some(parsed) = real.or_else(|| PasswordHash::new(DUMMY_HASH.as_str()).ok()) else {
        return Ok(false);
    };
    let _permit = gate().acquire()?;
    Ok(hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && is_real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("a long enough password").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("a long enough password", Some(&h)).unwrap());
        assert!(!verify("another password", Some(&h)).unwrap());
    }

    #[test]
    fn an_unknown_account_never_verifies() {
        assert!(!verify("anything", None).unwrap());
    }

    #[test]
    fn a_corrupt_stored_hash_does_not_verify() {
        assert!(!verify("anything", Some("not a phc string")).unwrap());
    }

    #[test]
    fn an_account_without_a_password_never_verifies() {
        let none = crate::domain::account::NO_PASSWORD;
        assert!(!verify(none, Some(none)).unwrap());
        assert!(!verify("", Some(none)).unwrap());
    }

    #[test]
    fn the_process_gate_has_one_permit_per_core() {
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(gate().permits(), cores);
    }

    #[test]
    fn a_full_gate_answers_busy_after_its_wait_and_frees_with_the_permit() {
        let gate = HashGate::new(2, 4, Duration::from_millis(50));
        let first = gate.acquire().unwrap();
        let second = gate.try_acquire().unwrap();
        assert!(gate.try_acquire().is_none());
        assert!(matches!(gate.acquire(), Err(PasswordError::Busy)));
        drop(first);
        let third = gate.acquire().unwrap();
        drop((second, third));
        assert!(gate.try_acquire().is_some());
    }

    #[test]
    fn a_full_queue_answers_busy_without_waiting() {
        // No one may wait: a full gate refuses at once, however long the wait.
        let gate = HashGate::new(1, 0, Duration::from_secs(3600));
        let _held = gate.acquire().unwrap();
        assert!(matches!(gate.acquire(), Err(PasswordError::Busy)));
    }

    #[test]
    fn a_waiting_hash_gets_the_permit_another_frees() {
        let gate = std::sync::Arc::new(HashGate::new(1, 1, Duration::from_secs(60)));
        let held = gate.acquire().unwrap();
        let waiter = {
            let gate = gate.clone();
            std::thread::spawn(move || gate.acquire().map(drop).is_ok())
        };
        // Whether the waiter is already waiting or not, it gets the freed permit.
        drop(held);
        assert!(waiter.join().unwrap());
    }

    #[test]
    fn a_busy_gate_is_a_503_with_retry_after() {
        use actix_web::ResponseError;
        let response = AppError::from(PasswordError::Busy).error_response();
        assert_eq!(response.status(), 503);
        assert!(response.headers().contains_key("retry-after"));
    }
}
