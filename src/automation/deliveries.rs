//! Side effects of triggers: callback URLs (a signed JSON POST), Dooray!/Slack-compatible
//! incoming webhooks, notification mails and forwards to external addresses. They are queued
//! in `webhook_deliveries` in the transaction of the change and delivered through the job
//! queue ([`QUEUE`], one [`deliver`] per claimed row) with retries; the table is the delivery
//! log administrators read.
//!
//! Callback requests carry `X-OpenContact-Timestamp` (epoch seconds) and
//! `X-OpenContact-Signature: sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>` keyed with
//! the trigger's secret. A 2xx answer delivers; 408, 429 and 5xx answers, timeouts and connection
//! failures are retried with backoff (30 s doubling, at most an hour, eight attempts); other
//! answers fail at once. Notifications and forwards are rendered through the substitution
//! catalogue ([`super::mails`]) and become mails in the mail outbox (which retries sending);
//! chat messages are rendered once, before their first attempt.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::AppState;
use crate::db::queue::{self, Claimed, JobKind, QueueTable};
use crate::db::schema::{triggers, webhook_deliveries};
use crate::db::types::text_enum;
use crate::db::{DbConn, now};
use crate::tickets::mailer::MailEnv;

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i32 = 8;

/// The deliveries' place in the job queue.
pub const QUEUE: QueueTable = QueueTable {
    kind: JobKind::Delivery,
    table: "webhook_deliveries",
    status: "status",
    due: "next_attempt_at",
    attempts: "attempts",
    error: Some("last_error"),
    pending: "pending",
    running: "sending",
    done: "delivered",
    dead: "failed",
    max_attempts: MAX_ATTEMPTS,
    lease: TimeDelta::minutes(5),
    error_limit: 500,
};

text_enum! {
    /// What a delivery is.
    DeliveryKind {
        /// A signed JSON POST to a callback URL.
        Callback => "callback",
        /// A message to an incoming webhook.
        Chat => "chat",
        /// Mails to external addresses (`url` holds them, comma-separated).
        Forward => "forward",
        /// A notification mail (`url` lists the recipients; the body holds them with the texts).
        Notify => "notify",
    }
}

/// A queued or finished delivery.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Trigger.
    pub trigger_id: Option<i64>,
    /// Ticket.
    pub ticket_id: Option<i64>,
    /// Kind text.
    pub kind: String,
    /// URL (or addresses for forwards).
    pub url: String,
    /// JSON body.
    pub body: String,
    /// `pending`, `sending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// Next attempt (or lease end).
    pub next_attempt_at: NaiveDateTime,
    /// Last HTTP status.
    pub last_status: Option<i32>,
    /// Last failure.
    pub last_error: String,
    /// Queued.
    pub created_at: NaiveDateTime,
    /// Delivered.
    pub delivered_at: Option<NaiveDateTime>,
}

/// Queues a delivery (inside the caller's transaction; the worker is woken at the commit).
pub fn queue(
    conn: &mut DbConn,
    service_id: i64,
    trigger_id: Option<i64>,
    ticket_id: i64,
    kind: DeliveryKind,
    url: &str,
    body: &str,
) -> QueryResult<i64> {
    let t = now();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::service_id.eq(service_id),
            webhook_deliveries::trigger_id.eq(trigger_id),
            webhook_deliveries::ticket_id.eq(Some(ticket_id)),
            webhook_deliveries::kind.eq(kind.as_str()),
            webhook_deliveries::url.eq(url),
            webhook_deliveries::body.eq(body),
            webhook_deliveries::next_attempt_at.eq(t),
            webhook_deliveries::created_at.eq(t),
        ))
        .returning(webhook_deliveries::id)
        .get_result(conn)
        .and_then(|id| {
            queue::notify(conn, JobKind::Delivery)?;
            Ok(id)
        })
}

/// The signature header value for a body sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The latest deliveries of a trigger, newest first.
pub fn of_trigger(conn: &mut DbConn, trigger_id: i64, limit: i64) -> QueryResult<Vec<Delivery>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::trigger_id.eq(trigger_id))
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .select(Delivery::as_select())
        .load(conn)
}

/// The outcome of one attempt: delivered, retry later, or give up.
#[derive(Debug)]
enum Outcome {
    Delivered(Option<i32>),
    Retry(Option<i32>, String),
    Fail(Option<i32>, String),
}

/// Settles the attempt in the queue and keeps the HTTP status and delivery time in the log.
fn record(conn: &mut DbConn, job: &Claimed, outcome: Outcome) -> QueryResult<()> {
    let at = now();
    let (code, result) = match outcome {
        Outcome::Delivered(code) => (code, queue::Outcome::Done),
        Outcome::Retry(code, e) => (code, queue::Outcome::Retry(e)),
        Outcome::Fail(code, e) => (code, queue::Outcome::Dead(e)),
    };
    let settled = queue::finish(conn, &QUEUE, job, at, result)?;
    if settled != queue::Settled::Lost {
        diesel::update(webhook_deliveries::table.find(job.id))
            .set((
                webhook_deliveries::last_status.eq(code),
                webhook_deliveries::delivered_at
                    .eq((settled == queue::Settled::Done).then_some(at)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The HTTP client deliveries are made with; each call may take `timeout`
/// (`Config::timeouts.webhook`).
pub fn http_client(timeout: std::time::Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("OpenContact/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

async fn post(client: &reqwest::Client, d: &Delivery, secret: Option<String>) -> Outcome {
    let ts = now().and_utc().timestamp();
    let mut req = client
        .post(&d.url)
        .header("content-type", "application/json")
        .body(d.body.clone());
    if let Some(secret) = secret {
        req = req
            .header("x-opencontact-timestamp", ts.to_string())
            .header("x-opencontact-signature", signature(&secret, ts, &d.body))
            .header("x-opencontact-delivery", d.id.to_string());
    }
    match req.send().await {
        Ok(resp) => {
            let code = resp.status();
            let c = Some(i32::from(code.as_u16()));
            if code.is_success() {
                Outcome::Delivered(c)
            } else if code.is_server_error() || code.as_u16() == 408 || code.as_u16() == 429 {
                Outcome::Retry(c, format!("HTTP {code}"))
            } else {
                Outcome::Fail(c, format!("HTTP {code}"))
            }
        }
        Err(e) if e.is_builder() => Outcome::Fail(None, e.to_string()),
        Err(e) => Outcome::Retry(None, e.to_string()),
    }
}

/// Makes one claimed delivery and records the attempt.
pub async fn deliver(
    state: &AppState,
    client: &reqwest::Client,
    job: Claimed,
) -> Result<(), crate::error::AppError> {
    let id = job.id;
    let mut d: Delivery = state
        .db
        .read(move |c| {
            Ok(webhook_deliveries::table
                .find(id)
                .select(Delivery::as_select())
                .first(c)?)
        })
        .await?;
    let env = MailEnv::of(state);
    let outcome = match d.kind.as_str() {
        // Mails: rendered, queued in the outbox and recorded as delivered in one
        // transaction, so a crash never queues them twice.
        "forward" | "notify" => {
            let d2 = d.clone();
            let failed = state
                .db
                .write(move |c| {
                    let result = if d2.kind == "forward" {
                        Ok(super::mails::forward(c, &env, &d2)?)
                    } else {
                        super::mails::notify(c, &env, &d2)?
                    };
                    Ok(match result {
                        Ok(_) => {
                            record(c, &job, Outcome::Delivered(None))?;
                            None
                        }
                        Err(e) => Some(e),
                    })
                })
                .await?;
            match failed {
                None => return Ok(()),
                Some(e) => Outcome::Fail(None, e),
            }
        }
        "chat" => {
            let d2 = d.clone();
            let rendered = state
                .db
                .write(move |c| {
                    let body = super::mails::chat_body(c, &env, &d2)?;
                    if let Ok(Some(b)) = &body {
                        // Rendered once: retries send the same message.
                        diesel::update(webhook_deliveries::table.find(d2.id))
                            .set(webhook_deliveries::body.eq(b))
                            .execute(c)?;
                    }
                    Ok(body)
                })
                .await?;
            match rendered {
                Ok(Some(body)) => {
                    d.body = body;
                    post(client, &d, None).await
                }
                Ok(None) => post(client, &d, None).await,
                Err(e) => Outcome::Fail(None, e),
            }
        }
        "callback" => {
            let trigger_id = d.trigger_id;
            let enc: Option<String> = state
                .db
                .read(move |c| {
                    Ok(match trigger_id {
                        Some(id) => triggers::table
                            .find(id)
                            .select(triggers::secret)
                            .first(c)
                            .optional()?,
                        None => None,
                    })
                })
                .await?;
            let secret = enc.and_then(|e| state.secret.decrypt(&e));
            post(client, &d, secret).await
        }
        _ => post(client, &d, None).await,
    };
    if let Outcome::Retry(_, e) | Outcome::Fail(_, e) = &outcome {
        tracing::warn!(delivery = d.id, url = %d.url, error = %e, "webhook delivery failed");
    }
    state.db.write(move |c| Ok(record(c, &job, outcome)?)).await
}
