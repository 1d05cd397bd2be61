//! Personal-data field values: encrypted at rest with the installation secret, masked wherever
//! values are listed, and never searchable (an encrypted column cannot be matched; modules that
//! search ticket values must skip fields with [`FieldDef::personal`] set).
//!
//! Ticket modules store a value with [`store_value`] and read it with [`read_value`]. Reading
//! tolerates values written before the field was flagged (plain text) and after the flag was
//! removed (still encrypted), so changing the flag never makes old values unreadable.

use crate::crypto::SecretKey;
use crate::fields::model::FieldDef;
use crate::fields::validate::StoredValue;

/// Longest masked text shown in a list; longer values are cut with an ellipsis.
const MASK_SHOWN: usize = 40;

/// Encrypts a personal value for storage (`v1:` + base64 of nonce and ciphertext).
pub fn encrypt_value(secret: &SecretKey, plain: &str) -> String {
    secret.encrypt(plain)
}

/// Decrypts a stored value. A value that is not our ciphertext (plain text from before the field
/// was marked personal) is returned as it is.
pub fn decrypt_value(secret: &SecretKey, stored: &str) -> String {
    if stored.starts_with("v1:")
        && let Some(plain) = secret.decrypt(stored)
    {
        return plain;
    }
    stored.to_string()
}

/// The string to store for a validated value: encrypted when the field holds personal data.
/// Empty values stay empty.
pub fn store_value(secret: &SecretKey, field: &FieldDef, value: &StoredValue) -> String {
    let plain = value.to_storage();
    if field.personal && !plain.is_empty() {
        encrypt_value(secret, &plain)
    } else {
        plain
    }
}

/// Reads a stored value back (decrypting when needed).
pub fn read_value(secret: &SecretKey, field: &FieldDef, stored: &str) -> StoredValue {
    StoredValue::from_storage(field.control, &decrypt_value(secret, stored))
}

/// The text to show in a list: masked for personal fields, as is otherwise.
pub fn list_text(field: &FieldDef, plain: &str) -> String {
    if field.personal {
        mask(plain)
    } else {
        plain.to_string()
    }
}

/// Masks a personal value for lists:
/// - e-mail: the first two characters of the local part, then asterisks (`an***@example.com`);
/// - phone-like (only digits and separators, 7 digits or more): all digits but the first three
///   and the last four (`010-****-5678`);
/// - anything else: every letter or digit but the first and the last (`홍*동`, `J*** ****h`);
///   one or two characters: the first, then an asterisk.
///
/// Separators (spaces, hyphens, …) are kept; at most 40 characters are shown.
pub fn mask(value: &str) -> String {
    let value = value.trim();
    if value.is_empty() {
        return String::new();
    }
    let masked = if let Some((local, domain)) = value.split_once('@')
        && !local.is_empty()
        && !domain.is_empty()
    {
        let keep = local
            .chars()
            .count()
            .min(2)
            .min(local.chars().count() / 2 + 1);
        let shown: String = local.chars().take(keep).collect();
        format!("{shown}***@{domain}")
    } else if is_phone_like(value) {
        mask_positions(value, 3, 4)
    } else {
        let letters = value.chars().filter(|c| c.is_alphanumeric()).count();
        if letters <= 2 {
            let first: String = value.chars().take(1).collect();
            format!("{first}*")
        } else {
            mask_positions(value, 1, 1)
        }
    };
    if masked.chars().count() > MASK_SHOWN {
        let cut: String = masked.chars().take(MASK_SHOWN).collect();
        format!("{cut}…")
    } else {
        masked
    }
}

fn is_phone_like(s: &str) -> bool {
    let body = s.strip_prefix('+').unwrap_or(s);
    body.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
        && body.chars().filter(char::is_ascii_digit).count() >= 7
}

/// Replaces every alphanumeric character with `*` except the first `head` and last `tail` ones.
fn mask_positions(s: &str, head: usize, tail: usize) -> String {
    let total = s.chars().filter(|c| c.is_alphanumeric()).count();
    let mut seen = 0;
    s.chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen <= head || seen > total.saturating_sub(tail) {
                c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_plain_fallback() {
        let key = SecretKey::from_bytes([3u8; 64]);
        let enc = encrypt_value(&key, "ann@example.com");
        assert!(enc.starts_with("v1:") && !enc.contains("ann"));
        assert_eq!(decrypt_value(&key, &enc), "ann@example.com");
        assert_eq!(decrypt_value(&key, "plain text"), "plain text");
        // Another installation's ciphertext is shown as stored, never as garbage plain text.
        let other = SecretKey::from_bytes([4u8; 64]);
        assert_eq!(decrypt_value(&other, &enc), enc);
    }

    #[test]
    fn masks() {
        assert_eq!(mask("ann.lee@example.com"), "an***@example.com");
        assert_eq!(mask("a@x.io"), "a***@x.io");
        assert_eq!(mask("010-1234-5678"), "010-****-5678");
        assert_eq!(mask("+82 10 1234 5678"), "+82 1* **** 5678");
        assert_eq!(mask("홍길동"), "홍*동");
        assert_eq!(mask("John Smith"), "J*** ****h");
        assert_eq!(mask("Al"), "A*");
        assert_eq!(mask("   "), "");
        let long = mask(&"x".repeat(100));
        assert_eq!(long.chars().count(), MASK_SHOWN + 1);
        assert!(long.starts_with('x') && long.ends_with('…'));
    }
}
