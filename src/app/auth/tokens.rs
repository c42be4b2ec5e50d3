//! Random tokens and the keyed hashes that store and check them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh random token with 256 bits of entropy, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The SHA-256 hex digest under which a token is stored: a database leak then reveals no
/// usable session, setup link or access code.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The application's secret key, used for MACs (CSRF tokens).
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    /// Wraps key material (at least 32 bytes of it is expected).
    pub fn new(material: &[u8]) -> Self {
        Self(material.to_vec())
    }

    /// Fresh random key material, hex-encoded for storage.
    pub fn generate_hex() -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    }

    fn mac(&self, purpose: &str, message: &str) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(message.as_bytes());
        mac
    }

    /// The hex MAC of `message` for `purpose` (purposes keep one MAC from standing in for another).
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        hex::encode(self.mac(purpose, message).finalize().into_bytes())
    }

    /// Checks a hex MAC in constant time.
    pub fn verify(&self, purpose: &str, message: &str, signature_hex: &str) -> bool {
        match hex::decode(signature_hex) {
            Ok(sig) => self.mac(purpose, message).verify_slice(&sig).is_ok(),
            Err(_) => false,
        }
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(****)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_url_safe() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn signatures_verify_only_for_the_same_purpose_and_message() {
        let key = SecretKey::new(b"0123456789abcdef0123456789abcdef");
        let sig = key.sign("csrf", "abc");
        assert!(key.verify("csrf", "abc", &sig));
        assert!(!key.verify("csrf", "abd", &sig));
        assert!(!key.verify("other", "abc", &sig));
        assert!(!key.verify("csrf", "abc", "not hex"));
    }
}
