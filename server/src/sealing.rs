//! Encryption at rest for secrets the server must be able to read back
//! (webhook secrets, which verify signatures): ChaCha20-Poly1305 with a
//! server key, a random nonce per value, and the owner's id (the tenant) as
//! associated data, so a ciphertext copied to another tenant's row does not
//! open; stored as `v2.<base64(nonce‖ciphertext)>`. Values of the first
//! format (`v1.`, no associated data) are opened only to migrate them
//! ([`Sealer::open_unbound`], at start-up).
//!
//! The key comes from `HOOKBELL_SECRET_KEY` (base64 of 32 bytes). In
//! development, without it, a key file beside the database is created once
//! (mode 0600); production refuses to start without the variable.

use std::path::Path;

use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    ChaCha20Poly1305, Key, Nonce,
};
use rand::{rngs::OsRng, TryRngCore};
use thiserror::Error;

/// Values bound to their owner.
const PREFIX: &str = "v2.";
/// Values of the first format, bound to nothing (migrated at start-up).
const UNBOUND_PREFIX: &str = "v1.";

/// Why a key or a sealed value is unusable.
#[derive(Debug, Error)]
pub enum SealError {
    #[error("HOOKBELL_SECRET_KEY must be the base64 of exactly 32 bytes")]
    BadKey,
    #[error("HOOKBELL_SECRET_KEY is required in production")]
    MissingKey,
    #[error("cannot use the key file {0}: {1}")]
    KeyFile(String, String),
    #[error("a sealed value is malformed or was sealed with another key")]
    Open,
}

/// Seals and opens values with the server key.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
    /// HMAC-SHA256 of a fixed label under the key: keys other secrets (session tokens).
    derived: [u8; 32],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<key redacted>)")
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.try_fill_bytes(&mut bytes).expect("the operating system's random source failed");
    bytes
}

impl Sealer {
    /// A sealer for a base64-encoded 32-byte key.
    pub fn from_base64(key: &str) -> Result<Self, SealError> {
        let bytes = STANDARD.decode(key.trim()).map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        use hmac::Mac;
        let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&bytes).map_err(|_| SealError::BadKey)?;
        mac.update(b"hookbell derived key v1");
        let derived = mac.finalize().into_bytes().into();
        Ok(Self { cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)), derived })
    }

    /// A new random key, base64-encoded.
    pub fn generate_key() -> String {
        STANDARD.encode(random::<32>())
    }

    /// The key from `configured`, else (development only) from `key_file`,
    /// creating that file with a fresh key the first time.
    pub fn load(configured: Option<&str>, key_file: Option<&Path>) -> Result<Self, SealError> {
        if let Some(key) = configured {
            return Self::from_base64(key);
        }
        let Some(path) = key_file else {
            return Err(SealError::MissingKey);
        };
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(key) => Self::from_base64(&key),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| SealError::KeyFile(shown.clone(), e.to_string()))?;
                }
                let key = Self::generate_key();
                write_private(path, &key).map_err(|e| SealError::KeyFile(shown.clone(), e.to_string()))?;
                tracing::info!(path = %shown, "created a development key for secrets at rest");
                Self::from_base64(&key)
            }
            Err(e) => Err(SealError::KeyFile(shown, e.to_string())),
        }
    }

    /// A key derived from the sealing key, for keying other secrets (never the sealing key itself).
    pub fn derived_key(&self) -> [u8; 32] {
        self.derived
    }

    /// Encrypts `plain` for `owner` (a tenant id): it opens only for that owner.
    pub fn seal(&self, plain: &str, owner: &str) -> String {
        let nonce = random::<12>();
        let payload = Payload { msg: plain.as_bytes(), aad: owner.as_bytes() };
        let ct = self.cipher.encrypt(Nonce::from_slice(&nonce), payload).expect("encryption cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    /// Decrypts a value [`Sealer::seal`] made for `owner` with the same key.
    pub fn open(&self, sealed: &str, owner: &str) -> Result<String, SealError> {
        self.decrypt(sealed.strip_prefix(PREFIX).ok_or(SealError::Open)?, owner.as_bytes())
    }

    /// Whether `sealed` is of the first format, bound to no owner.
    pub fn is_unbound(sealed: &str) -> bool {
        sealed.starts_with(UNBOUND_PREFIX)
    }

    /// Decrypts a value of the first format (`v1.`), to seal it again bound to its owner.
    pub fn open_unbound(&self, sealed: &str) -> Result<String, SealError> {
        self.decrypt(sealed.strip_prefix(UNBOUND_PREFIX).ok_or(SealError::Open)?, b"")
    }

    fn decrypt(&self, encoded: &str, aad: &[u8]) -> Result<String, SealError> {
        let raw = STANDARD.decode(encoded).map_err(|_| SealError::Open)?;
        if raw.len() < 12 + 16 {
            return Err(SealError::Open);
        }
        let (nonce, ct) = raw.split_at(12);
        let plain =
            self.cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad }).map_err(|_| SealError::Open)?;
        String::from_utf8(plain).map_err(|_| SealError::Open)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_the_same_key_only() {
        let a = Sealer::from_base64(&Sealer::generate_key()).unwrap();
        let b = Sealer::from_base64(&Sealer::generate_key()).unwrap();
        let sealed = a.seal("whsec_abc", "t1");
        assert!(sealed.starts_with("v2."));
        assert!(!sealed.contains("whsec_abc"));
        assert_ne!(sealed, a.seal("whsec_abc", "t1"), "a fresh nonce each time");
        assert_eq!(a.open(&sealed, "t1").unwrap(), "whsec_abc");
        assert!(b.open(&sealed, "t1").is_err());
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(a.open(&tampered, "t1").is_err());
        assert!(a.open("whsec_plain", "t1").is_err());
        assert!(a.open("v2.AAAA", "t1").is_err());
    }

    #[test]
    fn a_value_opens_only_for_its_owner() {
        let a = Sealer::from_base64(&Sealer::generate_key()).unwrap();
        let sealed = a.seal("whsec_abc", "tenant-a");
        assert!(a.open(&sealed, "tenant-b").is_err(), "copied to another tenant's row, it does not open");
        assert!(a.open(&sealed, "").is_err());
        assert!(a.open_unbound(&sealed).is_err());
    }

    #[test]
    fn first_format_values_open_only_for_migration() {
        let a = Sealer::from_base64(&Sealer::generate_key()).unwrap();
        // A value as the first format sealed it: no associated data, prefix v1.
        let bound = a.seal("whsec_old", "");
        let legacy = format!("v1.{}", bound.strip_prefix("v2.").unwrap());
        assert!(Sealer::is_unbound(&legacy) && !Sealer::is_unbound(&bound));
        assert_eq!(a.open_unbound(&legacy).unwrap(), "whsec_old");
        assert!(a.open(&legacy, "t1").is_err(), "never used as it is");
    }

    #[test]
    fn keys_must_be_32_bytes_and_are_required_without_a_file() {
        assert!(Sealer::from_base64("c2hvcnQ=").is_err());
        assert!(Sealer::from_base64("not base64!").is_err());
        assert!(matches!(Sealer::load(None, None), Err(SealError::MissingKey)));
    }

    #[test]
    fn development_key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/secret.key");
        let first = Sealer::load(None, Some(&path)).unwrap();
        let sealed = first.seal("x", "t");
        let again = Sealer::load(None, Some(&path)).unwrap();
        assert_eq!(again.open(&sealed, "t").unwrap(), "x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
