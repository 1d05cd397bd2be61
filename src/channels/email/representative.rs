//! The representative account of a service (SPEC §3.7, API.md §7.10.1): one platform address
//! `local@<mail domain>` per service, chosen once and never changed, unique in the
//! installation. OpenContact runs no mail server of its own, so the mail domain is the domain
//! of the SMTP relay's sender address (or, without a relay, the host of the public base URL):
//! the address is reserved for the service, shown in its e-mail settings, and counts as one of
//! the installation's own addresses (mail sent from it is never imported, so no loops). Mail
//! sent to it becomes tickets once the mailbox that receives it is added as an e-mail account.
//!
//! The settings page (`…/settings/mail-accounts`) and the Open API (P28) both create it with
//! [`create`].

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::mail_representatives;
use crate::db::{DbConn, now};
use crate::notify::SmtpSettings;
use crate::tenancy::user::is_valid_email;

/// Longest local part (RFC 5321).
pub const MAX_LOCAL: usize = 64;

/// A service's representative account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Representative {
    /// The full address (lower case).
    pub address: String,
    /// When it was created.
    pub created_at: NaiveDateTime,
}

/// Why a representative account was not created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The local part is empty, too long or has other characters than letters, digits,
    /// `.`, `_`, `-` and `+` (or dots at the ends or in a row).
    Invalid,
    /// The service already has one (it cannot be changed).
    Exists,
    /// Another service has this address.
    Taken,
}

impl Refusal {
    /// The message key.
    pub fn key(self) -> &'static str {
        match self {
            Refusal::Invalid => "openapi.mail.representative.invalid",
            Refusal::Exists => "openapi.mail.representative.exists",
            Refusal::Taken => "openapi.mail.representative.taken",
        }
    }
}

/// Whether `local` can be the local part of a representative address.
pub fn valid_local_part(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= MAX_LOCAL
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
}

/// The installation's mail domain: the domain of the SMTP relay's sender address, else the
/// host of `base_url` (lower case; empty when neither has one).
pub fn platform_domain(conn: &mut DbConn, base_url: &str) -> QueryResult<String> {
    let from_relay = SmtpSettings::load(conn)?
        .and_then(|s| {
            s.from_address
                .rsplit_once('@')
                .map(|(_, d)| d.trim().to_string())
        })
        .filter(|d| !d.is_empty());
    Ok(from_relay
        .or_else(|| {
            url::Url::parse(base_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
        })
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_ascii_lowercase())
}

/// The service's representative account, if it was created.
pub fn find(conn: &mut DbConn, service_id: i64) -> QueryResult<Option<Representative>> {
    Ok(mail_representatives::table
        .find(service_id)
        .select((
            mail_representatives::address,
            mail_representatives::created_at,
        ))
        .first::<(String, NaiveDateTime)>(conn)
        .optional()?
        .map(|(address, created_at)| Representative {
            address,
            created_at,
        }))
}

/// Every representative address (lower case).
pub fn all_addresses(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    mail_representatives::table
        .select(mail_representatives::address)
        .load(conn)
}

/// Creates the service's representative account `local@domain` inside the caller's
/// transaction (the local part is lower-cased). A service has at most one, and an address
/// belongs to one service: a concurrent creation of either loses at the unique keys.
pub fn create(
    conn: &mut DbConn,
    service_id: i64,
    local: &str,
    domain: &str,
) -> QueryResult<Result<Representative, Refusal>> {
    let local = local.trim().to_ascii_lowercase();
    let address = format!("{local}@{domain}");
    if !valid_local_part(&local) || !is_valid_email(&address) {
        return Ok(Err(Refusal::Invalid));
    }
    if find(conn, service_id)?.is_some() {
        return Ok(Err(Refusal::Exists));
    }
    let created_at = now();
    let inserted = crate::db_dispatch!(conn, |c| diesel::insert_into(mail_representatives::table)
        .values((
            mail_representatives::service_id.eq(service_id),
            mail_representatives::address.eq(&address),
            mail_representatives::created_at.eq(created_at),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 1 {
        return Ok(Ok(Representative {
            address,
            created_at,
        }));
    }
    Ok(Err(if find(conn, service_id)?.is_some() {
        Refusal::Exists
    } else {
        Refusal::Taken
    }))
}

#[cfg(test)]
mod tests {
    use super::valid_local_part;

    #[test]
    fn local_parts() {
        for ok in ["help", "sales.kr", "a_b-c+d", "x"] {
            assert!(valid_local_part(ok), "{ok}");
        }
        let long = "a".repeat(65);
        for bad in [
            "",
            ".help",
            "help.",
            "a..b",
            "he lp",
            "help@x",
            "헬프",
            long.as_str(),
        ] {
            assert!(!valid_local_part(bad), "{bad}");
        }
    }
}
