//! Password hashing with Argon2id. The parameters live here and nowhere else. Hashing is
//! slow on purpose: callers run it off the async executor (`web::block`).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use std::sync::LazyLock;

/// Argon2id with OWASP's recommended minimum: 19 MiB of memory, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .unwrap_or_else(|_| unreachable!("the fixed Argon2 parameters are valid"));
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (algorithm, parameters and salt included).
pub fn hash(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| anyhow::anyhow!("encoding a password salt failed: {e}"))?;
    let phc = hasher()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing a password failed: {e}"))?;
    Ok(phc.to_string())
}

/// A hash of a random password, verified against when the account does not exist, so that an
/// unknown e-mail costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash(&crate::auth::tokens::random_token()).unwrap_or_default());

/// Checks `password` against a stored PHC string. With `None` (no such account) it still
/// does the full work and returns false.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => (DUMMY_HASH.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash("a long enough password").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("a long enough password", Some(&h)));
        assert!(!verify("another password", Some(&h)));
    }

    #[test]
    fn an_unknown_account_never_verifies() {
        assert!(!verify("anything", None));
    }

    #[test]
    fn a_corrupt_stored_hash_does_not_verify() {
        assert!(!verify("anything", Some("not a phc string")));
    }
}
