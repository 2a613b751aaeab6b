//! Secrets at rest (SPEC §14): AES-256-GCM with the configured 32-byte key and a random 96-bit
//! nonce per encryption. What is stored is `base64(nonce ‖ ciphertext ‖ tag)`, so the same secret
//! encrypted twice gives two different strings, and a changed byte fails to open.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use std::sync::Arc;

const NONCE_LEN: usize = 12;

/// Encrypts and decrypts secrets with one key. `Debug` shows nothing of the key.
#[derive(Clone)]
pub struct Sealer {
    key: Arc<SecretBox<[u8; 32]>>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<redacted>)")
    }
}

/// A stored secret could not be opened: another key, or the stored value was changed.
#[derive(Debug, thiserror::Error)]
#[error("a stored secret could not be decrypted (wrong key or corrupted value)")]
pub struct OpenError;

impl Sealer {
    pub fn new(key: Arc<SecretBox<[u8; 32]>>) -> Self {
        Self { key }
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.key.expose_secret().into())
    }

    /// `base64(nonce ‖ ciphertext)` of `plain`.
    pub fn seal(&self, plain: &SecretString) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        // Encrypting into a Vec cannot fail for inputs below GCM's 64 GiB limit.
        let sealed = self
            .cipher()
            .encrypt(Nonce::from_slice(&nonce), plain.expose_secret().as_bytes())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        STANDARD.encode(out)
    }

    /// The secret that [`Sealer::seal`] stored as `stored`.
    pub fn open(&self, stored: &str) -> Result<SecretString, OpenError> {
        let bytes = STANDARD.decode(stored).map_err(|_| OpenError)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(OpenError);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = self.cipher().decrypt(Nonce::from_slice(nonce), sealed).map_err(|_| OpenError)?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| OpenError)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sealer(byte: u8) -> Sealer {
        Sealer::new(Arc::new(SecretBox::new(Box::new([byte; 32]))))
    }

    #[test]
    fn round_trips_with_a_fresh_nonce_each_time() {
        let s = sealer(7);
        let token = SecretString::from("EAAG-secret-token-1234");
        let a = s.seal(&token);
        let b = s.seal(&token);
        assert_ne!(a, b, "nonces must differ");
        assert!(!a.contains("EAAG"));
        assert_eq!(s.open(&a).unwrap().expose_secret(), "EAAG-secret-token-1234");
        assert_eq!(s.open(&b).unwrap().expose_secret(), "EAAG-secret-token-1234");
    }

    #[test]
    fn another_key_or_a_changed_byte_does_not_open() {
        let stored = sealer(1).seal(&SecretString::from("t0ken"));
        assert!(sealer(2).open(&stored).is_err());
        let mut raw = STANDARD.decode(&stored).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert!(sealer(1).open(&STANDARD.encode(raw)).is_err());
        assert!(sealer(1).open("not base64!").is_err());
        assert!(sealer(1).open("").is_err());
        assert_eq!(format!("{:?}", sealer(1)), "Sealer(<redacted>)");
    }
}
