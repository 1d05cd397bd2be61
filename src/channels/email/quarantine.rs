//! The quarantine: inbound messages that could not become tickets, with the reason — malformed
//! (no usable sender, unparsable), too large, unreadable from the server, a delivery report
//! (bounce), mail from one of our own addresses, or a failed import. A quarantined message never
//! stops its account: the account's position moves past it in the same transaction. The raw
//! message is kept (when under the size limit) under `uploads/mail-quarantine/<service>/` so an
//! administrator can download and inspect it; dismissing an entry removes it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::mail_quarantine;
use crate::db::{DbConn, now};

/// Reason codes, in the order the filter lists them.
pub const REASONS: &[&str] = &[
    "malformed",
    "too_large",
    "unreadable",
    "bounce",
    "own_address",
    "import_failed",
];

/// A quarantined message.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_quarantine)]
pub struct Quarantined {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Account it came from (`None` once the account is deleted).
    pub account_id: Option<i64>,
    /// The account's display name at the time.
    pub account_name: String,
    /// UIDVALIDITY of the mailbox.
    pub uid_validity: i64,
    /// UID in the mailbox.
    pub uid: i64,
    /// Message-ID, if readable.
    pub message_id: String,
    /// Sender, if readable.
    pub from_addr: String,
    /// Subject, if readable.
    pub subject: String,
    /// Reason code (see [`REASONS`]).
    pub reason: String,
    /// Details.
    pub detail: String,
    /// Size of the raw message in bytes.
    pub raw_size: i64,
    /// The raw message under the data directory (`None` when too large to keep).
    pub stored_path: Option<String>,
    /// When it was quarantined.
    pub received_at: NaiveDateTime,
}

/// A message to quarantine.
#[derive(Debug, Clone)]
pub struct NewQuarantined {
    /// Service.
    pub service_id: i64,
    /// Account.
    pub account_id: i64,
    /// Account name.
    pub account_name: String,
    /// UIDVALIDITY.
    pub uid_validity: u32,
    /// UID.
    pub uid: u32,
    /// Message-ID.
    pub message_id: String,
    /// Sender.
    pub from_addr: String,
    /// Subject.
    pub subject: String,
    /// Reason code.
    pub reason: &'static str,
    /// Details.
    pub detail: String,
    /// Size.
    pub raw_size: i64,
    /// Stored raw message.
    pub stored_path: Option<String>,
}

fn bounded(s: &str, max: usize) -> String {
    s.replace('\0', "").chars().take(max).collect()
}

/// Records a quarantined message (once per account, mailbox and UID); returns whether a row
/// was written.
pub fn insert(conn: &mut DbConn, q: &NewQuarantined) -> QueryResult<bool> {
    let exists = mail_quarantine::table
        .filter(mail_quarantine::account_id.eq(q.account_id))
        .filter(mail_quarantine::uid_validity.eq(i64::from(q.uid_validity)))
        .filter(mail_quarantine::uid.eq(i64::from(q.uid)))
        .select(mail_quarantine::id)
        .first::<i64>(conn)
        .optional()?
        .is_some();
    if exists {
        return Ok(false);
    }
    diesel::insert_into(mail_quarantine::table)
        .values((
            mail_quarantine::service_id.eq(q.service_id),
            mail_quarantine::account_id.eq(Some(q.account_id)),
            mail_quarantine::account_name.eq(&q.account_name),
            mail_quarantine::uid_validity.eq(i64::from(q.uid_validity)),
            mail_quarantine::uid.eq(i64::from(q.uid)),
            mail_quarantine::message_id.eq(bounded(&q.message_id, 250)),
            mail_quarantine::from_addr.eq(bounded(&q.from_addr, 254)),
            mail_quarantine::subject.eq(bounded(&q.subject, 255)),
            mail_quarantine::reason.eq(q.reason),
            mail_quarantine::detail.eq(bounded(&q.detail, 1000)),
            mail_quarantine::raw_size.eq(q.raw_size),
            mail_quarantine::stored_path.eq(&q.stored_path),
            mail_quarantine::received_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(true)
}

/// One page of a service's quarantine, newest first, below `before`.
pub fn page(
    conn: &mut DbConn,
    service_id: i64,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<Quarantined>> {
    let mut q = mail_quarantine::table
        .filter(mail_quarantine::service_id.eq(service_id))
        .order(mail_quarantine::id.desc())
        .limit(limit)
        .select(Quarantined::as_select())
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(mail_quarantine::id.lt(b));
    }
    q.load(conn)
}

/// One quarantined message of a service.
pub fn find(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<Quarantined>> {
    mail_quarantine::table
        .filter(mail_quarantine::service_id.eq(service_id))
        .filter(mail_quarantine::id.eq(id))
        .select(Quarantined::as_select())
        .first(conn)
        .optional()
}

/// Removes an entry; returns its stored file (to delete after the commit), or `None` when
/// there was no such entry.
pub fn dismiss(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<Option<String>>> {
    let Some(q) = find(conn, service_id, id)? else {
        return Ok(None);
    };
    diesel::delete(mail_quarantine::table.find(q.id)).execute(conn)?;
    Ok(Some(q.stored_path))
}
