//! Secrets: the installation's secret key (a file in the data directory, created on first run),
//! authenticated encryption of secrets stored in the database, random keys and tokens, and
//! Argon2id password hashing.

use std::path::Path;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::Rng;
use sha2::{Digest, Sha256};

/// The installation secret used to encrypt secrets at rest and to sign session cookies.
#[derive(Clone)]
pub struct SecretKey {
    bytes: [u8; 64],
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    /// Loads `secret.key` from the data directory, creating it (mode 0600) on first run.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<SecretKey> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join("secret.key");
        if path.exists() {
            let text = std::fs::read_to_string(&path)?;
            let raw = hex::decode(text.trim())
                .map_err(|e| anyhow::anyhow!("{} is not a valid key file: {e}", path.display()))?;
            let bytes: [u8; 64] = raw
                .try_into()
                .map_err(|_| anyhow::anyhow!("{} must hold 64 bytes of hex", path.display()))?;
            return Ok(SecretKey { bytes });
        }
        let mut bytes = [0u8; 64];
        rand::rng().fill(&mut bytes[..]);
        write_private(&path, &hex::encode(bytes))?;
        Ok(SecretKey { bytes })
    }

    /// A key from raw bytes (tests).
    pub fn from_bytes(bytes: [u8; 64]) -> SecretKey {
        SecretKey { bytes }
    }

    /// A URL-safe HMAC-SHA256 signature of `message` for one purpose (a key derived per
    /// purpose, so a signature made for one use never verifies for another).
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut derive = Sha256::new();
        derive.update(b"opencontact-sign-v1:");
        derive.update(purpose.as_bytes());
        derive.update(self.bytes);
        let key = derive.finalize();
        // HMAC accepts keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(message.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Checks a signature made by [`SecretKey::sign`] in constant time.
    pub fn verify(&self, purpose: &str, message: &str, signature: &str) -> bool {
        use subtle::ConstantTimeEq;
        let expected = self.sign(purpose, message);
        expected.as_bytes().ct_eq(signature.as_bytes()).into()
    }

    /// The 64 bytes used as the cookie signing/encryption key.
    pub fn cookie_key(&self) -> &[u8; 64] {
        &self.bytes
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        // The second half of the key material encrypts data; the whole key signs cookies.
        let mut hasher = Sha256::new();
        hasher.update(b"opencontact-secrets-v1");
        hasher.update(self.bytes);
        let derived = hasher.finalize();
        XChaCha20Poly1305::new(Key::from_slice(&derived))
    }

    /// Encrypts a secret for storage: `v1:` + base64(nonce ‖ ciphertext).
    pub fn encrypt(&self, plain: &str) -> String {
        let mut nonce = [0u8; 24];
        rand::rng().fill(&mut nonce[..]);
        // Encryption with a fresh nonce and an in-memory buffer cannot fail.
        let ct = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("v1:{}", STANDARD.encode(out))
    }

    /// Decrypts a value produced by [`SecretKey::encrypt`]; `None` if it was tampered with or
    /// encrypted under another key.
    pub fn decrypt(&self, stored: &str) -> Option<String> {
        let raw = STANDARD.decode(stored.strip_prefix("v1:")?).ok()?;
        if raw.len() < 24 {
            return None;
        }
        let (nonce, ct) = raw.split_at(24);
        let plain = self.cipher().decrypt(XNonce::from_slice(nonce), ct).ok()?;
        String::from_utf8(plain).ok()
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())
}

/// `n` random bytes as lowercase hex (service and organization keys: 16 bytes → 32 hex chars).
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::rng().fill(&mut buf[..]);
    hex::encode(buf)
}

/// `n` random ASCII letters and digits (the 16-character organization ID).
pub fn random_alnum(n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// A URL-safe one-time token (32 random bytes).
pub fn random_token() -> String {
    let mut buf = [0u8; 32];
    rand::rng().fill(&mut buf[..]);
    URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of a token as hex: what is stored, so a database leak reveals no usable link.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Hashes a password with Argon2id (the crate's defaults).
pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Checks a password against a stored PHC string.
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Constant-time equality for secrets such as CSRF tokens.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypt_round_trip_and_tamper() {
        let key = SecretKey::from_bytes([7u8; 64]);
        let enc = key.encrypt("hunter2-smtp");
        assert!(enc.starts_with("v1:"));
        assert!(!enc.contains("hunter2"));
        assert_eq!(key.decrypt(&enc).as_deref(), Some("hunter2-smtp"));
        let other = SecretKey::from_bytes([8u8; 64]);
        assert_eq!(other.decrypt(&enc), None);
    }

    #[test]
    fn password_hash_is_argon2id() {
        let h = hash_password("correct horse 9").unwrap_or_default();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse 9", &h));
        assert!(!verify_password("wrong", &h));
    }

    #[test]
    fn key_formats() {
        assert_eq!(random_hex(16).len(), 32);
        assert!(random_alnum(16).chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
