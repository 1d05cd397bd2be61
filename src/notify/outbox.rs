//! The persistent mail outbox (SPEC §3.7): a mail is written with [`enqueue`] in the same
//! transaction as the change that causes it, so a rolled-back change sends nothing and a
//! committed one is never lost. The outbox is the mail kind of the one job queue
//! ([`crate::db::queue`], described by [`QUEUE`]); [`send_one`] sends one claimed mail.
//!
//! Delivery: a worker claims due rows by setting them `sending` with a lease (five minutes),
//! sends them, and marks them `sent`. A transient failure (connection, 4xx, no relay configured)
//! schedules a retry with exponential backoff (30 s doubling, at most an hour) up to
//! [`MAX_ATTEMPTS`]; a permanent one (5xx, a bad address) marks the mail `failed` with the reason
//! at once. A crash between the claim and the result leaves the lease to expire, after which the
//! mail is sent again with the same `Message-ID` (so a receiver can recognise the repeat); the
//! interrupted try counts as an attempt, and a failed mail can be retried by an administrator.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::smtp::{self, OutgoingMail, SmtpSettings};
use crate::AppState;
use crate::db::queue::{self, Claimed, JobKind, QueueTable};
use crate::db::schema::mail_outbox;
use crate::db::types::text_enum;
use crate::db::{DbConn, now};

/// Attempts before a transiently failing mail is marked failed.
pub const MAX_ATTEMPTS: i32 = 8;

/// The outbox's place in the job queue.
pub const QUEUE: QueueTable = QueueTable {
    kind: JobKind::Mail,
    table: "mail_outbox",
    status: "status",
    due: "next_attempt_at",
    attempts: "attempts",
    error: Some("last_error"),
    pending: "pending",
    running: "sending",
    done: "sent",
    dead: "failed",
    max_attempts: MAX_ATTEMPTS,
    lease: TimeDelta::minutes(5),
    error_limit: 1000,
};

text_enum! {
    /// Where a queued mail stands.
    OutboxStatus {
        /// Waiting to be sent (or to be retried).
        Pending => "pending",
        /// Claimed by a worker.
        Sending => "sending",
        /// Delivered to the relay.
        Sent => "sent",
        /// Given up: permanent refusal or too many attempts.
        Failed => "failed",
    }
}

/// A queued mail.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
pub struct QueuedMail {
    /// Key.
    pub id: i64,
    /// Service it belongs to (`None` for organization mail such as invitations).
    pub service_id: Option<i64>,
    /// Ticket it is about.
    pub ticket_id: Option<i64>,
    /// What it is (`receipt`, `resolve`, `hold`, `invite`, …).
    pub purpose: String,
    /// Recipient address.
    pub to_addr: String,
    /// Recipient name.
    pub to_name: String,
    /// Sender address (empty: the relay's).
    pub from_addr: String,
    /// Sender name (empty: the relay's).
    pub from_name: String,
    /// Subject.
    pub subject: String,
    /// Plain-text part.
    pub text_body: String,
    /// HTML part.
    pub html_body: String,
    /// `Message-ID`, with angle brackets.
    pub message_id: String,
    /// `In-Reply-To`.
    pub in_reply_to: String,
    /// `References`.
    pub references_hdr: String,
    /// Status text (see [`OutboxStatus`]).
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// When the next attempt is due (or the lease ends).
    pub next_attempt_at: NaiveDateTime,
    /// The last failure's reason.
    pub last_error: String,
    /// Queued.
    pub created_at: NaiveDateTime,
    /// Delivered.
    pub sent_at: Option<NaiveDateTime>,
}

/// A mail to queue.
#[derive(Debug, Clone, Default)]
pub struct NewMail {
    /// Service it belongs to.
    pub service_id: Option<i64>,
    /// Ticket it is about.
    pub ticket_id: Option<i64>,
    /// What it is (`receipt`, `resolve`, `hold`, `invite`, …).
    pub purpose: String,
    /// Message content and headers; an empty `message_id` gets a new one.
    pub mail: OutgoingMail,
}

/// A new `Message-ID` at the domain of the configured sender address (or `localhost`).
pub fn new_message_id(conn: &mut DbConn) -> QueryResult<String> {
    let domain = SmtpSettings::load(conn)?
        .and_then(|s| s.from_address.rsplit_once('@').map(|(_, d)| d.to_string()))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    Ok(format!(
        "<{}.{}@{}>",
        now().and_utc().timestamp_millis(),
        crate::crypto::random_alnum(16),
        domain
    ))
}

/// Queues a mail in the caller's transaction; returns its key and `Message-ID`. The workers
/// are woken when the transaction commits. A mail of a service without its own sender
/// gets the service's sender name and address ([`super::layouts::SenderInfo`]).
pub fn enqueue(conn: &mut DbConn, new: &NewMail) -> QueryResult<(i64, String)> {
    let message_id = if new.mail.message_id.is_empty() {
        new_message_id(conn)?
    } else {
        new.mail.message_id.clone()
    };
    let t = now();
    let mut m = new.mail.clone();
    // Mail about a service goes out under the service's sender name and address unless the
    // caller chose its own.
    if let Some(service_id) = new.service_id
        && m.from_address.is_empty()
        && m.from_name.is_empty()
    {
        let sender = super::layouts::SenderInfo::load(conn, service_id)?;
        m.from_name = sender.name;
        m.from_address = sender.address;
    }
    let id = diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::service_id.eq(new.service_id),
            mail_outbox::ticket_id.eq(new.ticket_id),
            mail_outbox::purpose.eq(&new.purpose),
            mail_outbox::to_addr.eq(&m.to),
            mail_outbox::to_name.eq(&m.to_name),
            mail_outbox::from_addr.eq(&m.from_address),
            mail_outbox::from_name.eq(&m.from_name),
            mail_outbox::subject.eq(&m.subject),
            mail_outbox::text_body.eq(&m.text),
            mail_outbox::html_body.eq(&m.html),
            mail_outbox::message_id.eq(&message_id),
            mail_outbox::in_reply_to.eq(&m.in_reply_to),
            mail_outbox::references_hdr.eq(&m.references),
            mail_outbox::status.eq(OutboxStatus::Pending.as_str()),
            mail_outbox::attempts.eq(0),
            mail_outbox::next_attempt_at.eq(t),
            mail_outbox::created_at.eq(t),
        ))
        .returning(mail_outbox::id)
        .get_result(conn)?;
    queue::notify(conn, JobKind::Mail)?;
    Ok((id, message_id))
}

/// Puts a failed mail back in the queue (an administrator's retry); returns whether it was
/// failed.
pub fn retry(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    queue::retry(conn, &QUEUE, id, now())
}

/// Sends one claimed mail and records the attempt.
pub async fn send_one(state: &AppState, job: Claimed) -> Result<(), crate::error::AppError> {
    let id = job.id;
    let (m, settings) = state
        .db
        .read(move |c| {
            let m = mail_outbox::table
                .find(id)
                .select(QueuedMail::as_select())
                .first(c)?;
            Ok((m, SmtpSettings::load(c)?))
        })
        .await?;
    let result = match &settings {
        None => Err(("no SMTP server is configured".to_string(), false)),
        Some(settings) => {
            let mail = OutgoingMail {
                to: m.to_addr.clone(),
                to_name: m.to_name.clone(),
                subject: m.subject.clone(),
                text: m.text_body.clone(),
                html: m.html_body.clone(),
                from_name: m.from_name.clone(),
                from_address: m.from_addr.clone(),
                message_id: m.message_id.clone(),
                in_reply_to: m.in_reply_to.clone(),
                references: m.references_hdr.clone(),
            };
            smtp::send(settings, &state.secret, &mail, state.config.timeouts.smtp)
                .await
                .map_err(|e| (e.to_string(), e.is_permanent()))
        }
    };
    let outcome = match result {
        Ok(()) => queue::Outcome::Done,
        Err((reason, permanent)) => {
            tracing::warn!(mail = m.id, purpose = %m.purpose, permanent, %reason, "mail not sent");
            if permanent {
                queue::Outcome::Dead(reason)
            } else {
                queue::Outcome::Retry(reason)
            }
        }
    };
    state
        .db
        .write(move |c| {
            let at = now();
            if queue::finish(c, &QUEUE, &job, at, outcome)? == queue::Settled::Done {
                diesel::update(mail_outbox::table.find(id))
                    .set(mail_outbox::sent_at.eq(Some(at)))
                    .execute(c)?;
            }
            Ok(())
        })
        .await
}
