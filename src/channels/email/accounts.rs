//! IMAP accounts of a service (SPEC §3.7 external accounts): display name (1–20 characters),
//! host, port, SSL, mail address (also the login), password (encrypted with the installation
//! secret, never shown again), "delete the original after import", enabled, and the sync
//! position (UIDVALIDITY and the last UID handled).
//!
//! A new account starts at the newest message already in its inbox: mail that arrives after
//! the account is added becomes tickets, older mail is left alone. Changing the host or the
//! address points the account at another mailbox, so its position is taken again.
//!
//! [`check`] and [`save_verified`] are the one way an account is validated, verified and saved:
//! the settings pages and the Open API (API.md §7.10) both go through them.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::imap::{self, Failure, InboxState, Target};
use crate::AppState;
use crate::crypto::SecretKey;
use crate::db::refuse;
use crate::db::schema::mail_accounts;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::tenancy::user::is_valid_email;

/// Most accounts per service.
pub const MAX_ACCOUNTS: i64 = 20;
/// Longest display name (characters).
pub const MAX_NAME: usize = 20;
/// Longest host name.
pub const MAX_HOST: usize = 253;
/// Longest password (characters).
pub const MAX_PASSWORD: usize = 256;

/// The values of an account as submitted (settings form or API), before checking.
#[derive(Debug, Clone, Copy)]
pub struct RawAccount<'a> {
    /// Display name.
    pub display_name: &'a str,
    /// Host.
    pub host: &'a str,
    /// Port; `None` when missing or not a number.
    pub port: Option<i64>,
    /// SSL.
    pub use_ssl: bool,
    /// Mail address (the login).
    pub address: &'a str,
    /// Password; empty keeps the stored one of an account being edited.
    pub password: &'a str,
    /// Delete originals after import.
    pub delete_after_import: bool,
}

/// What is wrong with one submitted value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The display name is empty or longer than [`MAX_NAME`].
    NameLength,
    /// No host.
    HostRequired,
    /// The host has other characters than a host name or address, or is too long.
    HostFormat,
    /// The port is not a number from 1 to 65535.
    PortRange,
    /// The mail address is not one.
    AddressFormat,
    /// The password is longer than [`MAX_PASSWORD`].
    PasswordLength,
    /// A new account needs a password.
    PasswordRequired,
}

impl Problem {
    /// The settings form's field name.
    pub fn field(self) -> &'static str {
        match self {
            Problem::NameLength => "display_name",
            Problem::HostRequired | Problem::HostFormat => "host",
            Problem::PortRange => "port",
            Problem::AddressFormat => "address",
            Problem::PasswordLength | Problem::PasswordRequired => "password",
        }
    }

    /// The message key and its arguments.
    pub fn key(self) -> (&'static str, &'static [(&'static str, &'static str)]) {
        match self {
            Problem::NameLength => ("imap.name_length", &[("max", "20")]),
            Problem::HostRequired => ("validation.required", &[]),
            Problem::HostFormat => ("imap.host_format", &[]),
            Problem::PortRange => ("imap.port_range", &[]),
            Problem::AddressFormat => ("validation.email_format", &[]),
            Problem::PasswordLength => ("imap.password_length", &[("max", "256")]),
            Problem::PasswordRequired => ("imap.password_required", &[]),
        }
    }

    /// The explanation in a language.
    pub fn message(self, lang: Lang) -> String {
        let (key, args) = self.key();
        i18n::tf(lang, key, args)
    }
}

/// Checks submitted values; `editing` says an existing account is changed (its stored password
/// is kept when none is given). Returns the trimmed input or every problem, in field order.
pub fn check(raw: &RawAccount<'_>, editing: bool) -> Result<AccountInput, Vec<Problem>> {
    let mut problems = Vec::new();
    let name = raw.display_name.trim();
    let n = name.chars().count();
    if n == 0 || n > MAX_NAME {
        problems.push(Problem::NameLength);
    }
    let host = raw.host.trim();
    if host.is_empty() {
        problems.push(Problem::HostRequired);
    } else if host.len() > MAX_HOST
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        problems.push(Problem::HostFormat);
    }
    let port = raw
        .port
        .filter(|p| (1..=65535).contains(p))
        .and_then(|p| i32::try_from(p).ok());
    if port.is_none() {
        problems.push(Problem::PortRange);
    }
    let address = raw.address.trim();
    if !is_valid_email(address) {
        problems.push(Problem::AddressFormat);
    }
    if raw.password.chars().count() > MAX_PASSWORD {
        problems.push(Problem::PasswordLength);
    } else if raw.password.is_empty() && !editing {
        problems.push(Problem::PasswordRequired);
    }
    match port {
        Some(port) if problems.is_empty() => Ok(AccountInput {
            display_name: name.to_string(),
            host: host.to_string(),
            port,
            use_ssl: raw.use_ssl,
            address: address.to_string(),
            password: (!raw.password.is_empty()).then(|| raw.password.to_string()),
            delete_after_import: raw.delete_after_import,
        }),
        _ => Err(problems),
    }
}

/// Why an account was not saved.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// The service already has an account for this mailbox.
    AddressTaken,
    /// The service has [`MAX_ACCOUNTS`] accounts.
    TooMany,
    /// The connection check failed at a step (the target has no password).
    Connection(Failure, Target),
}

impl Refusal {
    /// The explanation in a language (the failing step named for connection failures).
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Refusal::AddressTaken => i18n::t(lang, "imap.address_taken"),
            Refusal::TooMany => i18n::tf(lang, "imap.too_many", &[("max", "20")]),
            Refusal::Connection(f, target) => f.message(lang, target),
        }
    }
}

/// Where an input connects: with the password given, or the stored one of `editing`.
pub fn target_of(
    secret: &SecretKey,
    input: &AccountInput,
    editing: Option<&MailAccount>,
) -> Target {
    let password = match (&input.password, editing) {
        (Some(p), _) => p.clone(),
        (None, Some(acc)) => secret.decrypt(&acc.password_enc).unwrap_or_default(),
        (None, None) => String::new(),
    };
    Target {
        host: input.host.clone(),
        port: u16::try_from(input.port).unwrap_or(993),
        ssl: input.use_ssl,
        user: input.address.clone(),
        password,
    }
}

/// Verifies an input's connection (DNS, TCP, TLS, greeting, login, INBOX) without saving:
/// the inbox state and its newest UID, or the failing step.
pub async fn verify_input(
    secret: &SecretKey,
    input: &AccountInput,
    editing: Option<&MailAccount>,
) -> Result<(InboxState, u32), Refusal> {
    let target = target_of(secret, input, editing);
    imap::verify(&target).await.map_err(|f| {
        Refusal::Connection(
            f,
            Target {
                password: String::new(),
                ..target
            },
        )
    })
}

/// Whether the mailbox is taken or the service is full (`editing`: the account being changed).
fn refusal_before_save(
    conn: &mut DbConn,
    service_id: i64,
    input: &AccountInput,
    editing: Option<i64>,
) -> QueryResult<Option<Refusal>> {
    if MailAccount::address_taken(conn, service_id, &input.host, &input.address, editing)? {
        return Ok(Some(Refusal::AddressTaken));
    }
    if editing.is_none() && MailAccount::count_of_service(conn, service_id)? >= MAX_ACCOUNTS {
        return Ok(Some(Refusal::TooMany));
    }
    Ok(None)
}

/// Saves a checked account: refuses a mailbox the service already has and a service that is
/// full, verifies the connection (nothing is saved when it fails), then creates the account
/// (`editing` = `None`, enabled) or updates it (a moved mailbox starts at its newest message
/// again), and sets `enabled` when given — all in one transaction that checks the refusals
/// again. The pollers are told. Returns the account's key.
pub async fn save_verified(
    state: &AppState,
    service_id: i64,
    input: AccountInput,
    editing: Option<MailAccount>,
    enabled: Option<bool>,
) -> Result<Result<i64, Refusal>, AppError> {
    let except = editing.as_ref().map(|e| e.id);
    let probe = input.clone();
    let early = state
        .db
        .read(move |c| Ok(refusal_before_save(c, service_id, &probe, except)?))
        .await?;
    if let Some(r) = early {
        return Ok(Err(r));
    }
    let (inbox, newest) = match verify_input(&state.secret, &input, editing.as_ref()).await {
        Ok(v) => v,
        Err(r) => return Ok(Err(r)),
    };
    let secret = state.secret.clone();
    let saved = state
        .db
        .write_or_refuse(move |c| {
            crate::db::dispatch::lock_service(c, service_id)?;
            if let Some(r) = refusal_before_save(c, service_id, &input, except)? {
                return refuse(r);
            }
            let id = match editing {
                None => {
                    MailAccount::create(c, &secret, service_id, &input, inbox.uid_validity, newest)?
                }
                Some(acc) => {
                    let moved = !acc.host.eq_ignore_ascii_case(&input.host)
                        || !acc.address.eq_ignore_ascii_case(&input.address);
                    let position = moved.then_some((inbox.uid_validity, newest));
                    MailAccount::update(c, &secret, acc.id, &input, position)?;
                    acc.id
                }
            };
            if let Some(on) = enabled {
                MailAccount::set_enabled(c, id, on)?;
            }
            Ok(id)
        })
        .await?;
    if saved.is_ok() {
        super::poller::accounts_changed();
    }
    Ok(saved)
}

/// An IMAP account.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_accounts)]
pub struct MailAccount {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Display name.
    pub display_name: String,
    /// Host.
    pub host: String,
    /// Port.
    pub port: i32,
    /// TLS from the first byte.
    pub use_ssl: bool,
    /// Mail address (the login).
    pub address: String,
    /// Password, encrypted.
    pub password_enc: String,
    /// Remove the original from the mailbox once it is a ticket.
    pub delete_after_import: bool,
    /// Collected.
    pub enabled: bool,
    /// UIDVALIDITY of INBOX at the last sync.
    pub uid_validity: Option<i64>,
    /// The last UID handled (imported, skipped or quarantined).
    pub last_uid: i64,
    /// While a poll runs: until when it holds the account.
    pub lease_until: Option<NaiveDateTime>,
    /// When the last poll finished.
    pub last_poll_at: Option<NaiveDateTime>,
    /// The last poll's failure (empty after a success).
    pub last_error: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed by an administrator.
    pub updated_at: NaiveDateTime,
}

/// The values an administrator saves.
#[derive(Debug, Clone)]
pub struct AccountInput {
    /// Display name.
    pub display_name: String,
    /// Host.
    pub host: String,
    /// Port.
    pub port: i32,
    /// SSL.
    pub use_ssl: bool,
    /// Address.
    pub address: String,
    /// New password; `None` keeps the stored one.
    pub password: Option<String>,
    /// Delete after import.
    pub delete_after_import: bool,
}

impl MailAccount {
    /// An account of a service.
    pub fn find(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<MailAccount>> {
        mail_accounts::table
            .filter(mail_accounts::service_id.eq(service_id))
            .filter(mail_accounts::id.eq(id))
            .select(MailAccount::as_select())
            .first(conn)
            .optional()
    }

    /// An account by key.
    pub fn get(conn: &mut DbConn, id: i64) -> QueryResult<Option<MailAccount>> {
        mail_accounts::table
            .find(id)
            .select(MailAccount::as_select())
            .first(conn)
            .optional()
    }

    /// A service's accounts, oldest first.
    pub fn of_service(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<MailAccount>> {
        mail_accounts::table
            .filter(mail_accounts::service_id.eq(service_id))
            .order(mail_accounts::id.asc())
            .limit(MAX_ACCOUNTS)
            .select(MailAccount::as_select())
            .load(conn)
    }

    /// How many accounts a service has.
    pub fn count_of_service(conn: &mut DbConn, service_id: i64) -> QueryResult<i64> {
        mail_accounts::table
            .filter(mail_accounts::service_id.eq(service_id))
            .count()
            .get_result(conn)
    }

    /// Whether the service already has another account for this address on this host.
    pub fn address_taken(
        conn: &mut DbConn,
        service_id: i64,
        host: &str,
        address: &str,
        except: Option<i64>,
    ) -> QueryResult<bool> {
        let mut q = mail_accounts::table
            .filter(mail_accounts::service_id.eq(service_id))
            .filter(crate::db::search::lower(mail_accounts::address).eq(address.to_lowercase()))
            .filter(crate::db::search::lower(mail_accounts::host).eq(host.to_lowercase()))
            .select(mail_accounts::id)
            .into_boxed();
        if let Some(id) = except {
            q = q.filter(mail_accounts::id.ne(id));
        }
        Ok(q.first::<i64>(conn).optional()?.is_some())
    }

    /// Where to connect, with the password decrypted.
    pub fn target(&self, secret: &SecretKey) -> Target {
        Target {
            host: self.host.clone(),
            port: u16::try_from(self.port).unwrap_or(993),
            ssl: self.use_ssl,
            user: self.address.clone(),
            password: secret.decrypt(&self.password_enc).unwrap_or_default(),
        }
    }

    /// Creates an account starting at the inbox position found when it was verified.
    pub fn create(
        conn: &mut DbConn,
        secret: &SecretKey,
        service_id: i64,
        input: &AccountInput,
        uid_validity: u32,
        newest_uid: u32,
    ) -> QueryResult<i64> {
        let t = now();
        diesel::insert_into(mail_accounts::table)
            .values((
                mail_accounts::service_id.eq(service_id),
                mail_accounts::display_name.eq(&input.display_name),
                mail_accounts::host.eq(&input.host),
                mail_accounts::port.eq(input.port),
                mail_accounts::use_ssl.eq(input.use_ssl),
                mail_accounts::address.eq(&input.address),
                mail_accounts::password_enc
                    .eq(secret.encrypt(input.password.as_deref().unwrap_or(""))),
                mail_accounts::delete_after_import.eq(input.delete_after_import),
                mail_accounts::enabled.eq(true),
                mail_accounts::uid_validity.eq(Some(i64::from(uid_validity))),
                mail_accounts::last_uid.eq(i64::from(newest_uid)),
                mail_accounts::last_error.eq(""),
                mail_accounts::created_at.eq(t),
                mail_accounts::updated_at.eq(t),
            ))
            .returning(mail_accounts::id)
            .get_result(conn)
    }

    /// Saves an edit. `position` is the new inbox position when the account now points at
    /// another mailbox.
    pub fn update(
        conn: &mut DbConn,
        secret: &SecretKey,
        id: i64,
        input: &AccountInput,
        position: Option<(u32, u32)>,
    ) -> QueryResult<()> {
        diesel::update(mail_accounts::table.find(id))
            .set((
                mail_accounts::display_name.eq(&input.display_name),
                mail_accounts::host.eq(&input.host),
                mail_accounts::port.eq(input.port),
                mail_accounts::use_ssl.eq(input.use_ssl),
                mail_accounts::address.eq(&input.address),
                mail_accounts::delete_after_import.eq(input.delete_after_import),
                mail_accounts::last_error.eq(""),
                mail_accounts::updated_at.eq(now()),
            ))
            .execute(conn)?;
        if let Some(p) = input.password.as_deref() {
            diesel::update(mail_accounts::table.find(id))
                .set(mail_accounts::password_enc.eq(secret.encrypt(p)))
                .execute(conn)?;
        }
        if let Some((validity, newest)) = position {
            diesel::update(mail_accounts::table.find(id))
                .set((
                    mail_accounts::uid_validity.eq(Some(i64::from(validity))),
                    mail_accounts::last_uid.eq(i64::from(newest)),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Enables or disables the account.
    pub fn set_enabled(conn: &mut DbConn, id: i64, enabled: bool) -> QueryResult<()> {
        diesel::update(mail_accounts::table.find(id))
            .set((
                mail_accounts::enabled.eq(enabled),
                mail_accounts::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Deletes a disabled account; returns whether it was deleted.
    pub fn delete_disabled(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
        let n = diesel::delete(
            mail_accounts::table
                .filter(mail_accounts::id.eq(id))
                .filter(mail_accounts::enabled.eq(false)),
        )
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Takes the account for one poll until `lease`; fails when it is disabled or another
    /// poll holds it.
    pub fn acquire(conn: &mut DbConn, id: i64, lease: TimeDelta) -> QueryResult<bool> {
        let t = now();
        let n = diesel::update(mail_accounts::table)
            .filter(mail_accounts::id.eq(id))
            .filter(mail_accounts::enabled.eq(true))
            .filter(
                mail_accounts::lease_until
                    .is_null()
                    .or(mail_accounts::lease_until.lt(t)),
            )
            .set(mail_accounts::lease_until.eq(Some(t + lease)))
            .execute(conn)?;
        Ok(n == 1)
    }

    /// Extends a held lease.
    pub fn renew(conn: &mut DbConn, id: i64, lease: TimeDelta) -> QueryResult<()> {
        diesel::update(mail_accounts::table.find(id))
            .set(mail_accounts::lease_until.eq(Some(now() + lease)))
            .execute(conn)?;
        Ok(())
    }

    /// Ends a poll: releases the lease and records the outcome.
    pub fn finish_poll(conn: &mut DbConn, id: i64, error: &str) -> QueryResult<()> {
        let error: String = error.chars().take(1000).collect();
        diesel::update(mail_accounts::table.find(id))
            .set((
                mail_accounts::lease_until.eq(None::<NaiveDateTime>),
                mail_accounts::last_poll_at.eq(Some(now())),
                mail_accounts::last_error.eq(error),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Records a new UIDVALIDITY: the mailbox was recreated, so every message is looked at
    /// again (Message-IDs already imported are recognised and skipped).
    pub fn reset_position(conn: &mut DbConn, id: i64, uid_validity: u32) -> QueryResult<()> {
        diesel::update(mail_accounts::table.find(id))
            .set((
                mail_accounts::uid_validity.eq(Some(i64::from(uid_validity))),
                mail_accounts::last_uid.eq(0),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Advances the position past `uid` (inside the transaction that handled the message).
    pub fn advance(conn: &mut DbConn, id: i64, uid: u32) -> QueryResult<()> {
        diesel::update(mail_accounts::table)
            .filter(mail_accounts::id.eq(id))
            .filter(mail_accounts::last_uid.lt(i64::from(uid)))
            .set(mail_accounts::last_uid.eq(i64::from(uid)))
            .execute(conn)?;
        Ok(())
    }

    /// The enabled accounts of enabled services: key and last change (the pollers to run).
    pub fn enabled_stamps(conn: &mut DbConn) -> QueryResult<Vec<(i64, NaiveDateTime)>> {
        use crate::db::schema::services;
        mail_accounts::table
            .inner_join(services::table.on(services::id.eq(mail_accounts::service_id)))
            .filter(mail_accounts::enabled.eq(true))
            .filter(services::enabled.eq(true))
            .order(mail_accounts::id.asc())
            .select((mail_accounts::id, mail_accounts::updated_at))
            .load(conn)
    }

    /// Every address the installation receives mail at (all accounts and the representative
    /// accounts), lower-cased: mail from these is ours and never imported.
    pub fn all_addresses(conn: &mut DbConn) -> QueryResult<Vec<String>> {
        let mut list: Vec<String> = mail_accounts::table
            .select(mail_accounts::address)
            .distinct()
            .load(conn)?;
        list.extend(super::representative::all_addresses(conn)?);
        Ok(list.into_iter().map(|a| a.to_lowercase()).collect())
    }
}
