//! Side effects of triggers: callback URLs (a signed JSON POST), Dooray!/Slack-compatible
//! incoming webhooks, notification mails and forwards to external addresses. They are queued
//! in `webhook_deliveries` in the transaction of the change and delivered by [`spawn_worker`]
//! with retries; the table is the delivery log administrators read.
//!
//! Callback requests carry `X-OpenContact-Timestamp` (epoch seconds) and
//! `X-OpenContact-Signature: sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>` keyed with
//! the trigger's secret. A 2xx answer delivers; 408, 429 and 5xx answers, timeouts and connection
//! failures are retried with backoff (30 s doubling, at most an hour, eight attempts); other
//! answers fail at once. Notifications and forwards are rendered through the substitution
//! catalogue ([`super::mails`]) and become mails in the mail outbox (which retries sending);
//! chat messages are rendered once, before their first attempt.

use std::sync::LazyLock;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::Notify;

use crate::AppState;
use crate::db::schema::{triggers, webhook_deliveries};
use crate::db::types::text_enum;
use crate::db::{DbConn, now};
use crate::mail::outbox::{self, backoff};
use crate::tickets::mailer::MailEnv;

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i32 = 8;
/// How long one HTTP call may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

static WAKE: LazyLock<Notify> = LazyLock::new(Notify::new);

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

/// Queues a delivery (inside the caller's transaction).
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
}

/// Wakes the worker after a commit that queued deliveries.
pub fn wake() {
    WAKE.notify_waiters();
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

fn claim_due(conn: &mut DbConn, at: NaiveDateTime) -> QueryResult<Vec<Delivery>> {
    let due = || {
        webhook_deliveries::status
            .eq("pending")
            .or(webhook_deliveries::status.eq("sending"))
            .and(webhook_deliveries::next_attempt_at.le(at))
    };
    let ids: Vec<i64> = webhook_deliveries::table
        .filter(due())
        .order(webhook_deliveries::id.asc())
        .limit(20)
        .select(webhook_deliveries::id)
        .load(conn)?;
    let mut out = Vec::new();
    for id in ids {
        let n = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(id))
                .filter(due()),
        )
        .set((
            webhook_deliveries::status.eq("sending"),
            webhook_deliveries::next_attempt_at.eq(at + chrono::TimeDelta::minutes(5)),
        ))
        .execute(conn)?;
        if n == 1 {
            out.push(
                webhook_deliveries::table
                    .find(id)
                    .select(Delivery::as_select())
                    .first(conn)?,
            );
        }
    }
    Ok(out)
}

/// The outcome of one attempt: delivered, retry later, or give up.
#[derive(Debug)]
enum Outcome {
    Delivered(Option<i32>),
    Retry(Option<i32>, String),
    Fail(Option<i32>, String),
}

fn record(conn: &mut DbConn, d: &Delivery, outcome: Outcome) -> QueryResult<()> {
    let attempts = d.attempts + 1;
    let at = now();
    let (status, code, error, next) = match outcome {
        Outcome::Delivered(code) => ("delivered", code, String::new(), at),
        Outcome::Retry(code, e) if attempts < MAX_ATTEMPTS => {
            ("pending", code, e, at + backoff(attempts))
        }
        Outcome::Retry(code, e) | Outcome::Fail(code, e) => ("failed", code, e, at),
    };
    diesel::update(webhook_deliveries::table.find(d.id))
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::attempts.eq(attempts),
            webhook_deliveries::last_status.eq(code),
            webhook_deliveries::last_error.eq(error.chars().take(500).collect::<String>()),
            webhook_deliveries::next_attempt_at.eq(next),
            webhook_deliveries::delivered_at.eq((status == "delivered").then_some(at)),
        ))
        .execute(conn)?;
    Ok(())
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

/// One worker round; returns how many deliveries were attempted.
pub async fn run_once(
    state: &AppState,
    client: &reqwest::Client,
) -> Result<usize, crate::error::AppError> {
    let claimed = state.db.write(|c| Ok(claim_due(c, now())?)).await?;
    let n = claimed.len();
    for mut d in claimed {
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
                                record(c, &d2, Outcome::Delivered(None))?;
                                None
                            }
                            Err(e) => Some(e),
                        })
                    })
                    .await?;
                outbox::wake();
                match failed {
                    None => continue,
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
        state.db.write(move |c| Ok(record(c, &d, outcome)?)).await?;
    }
    Ok(n)
}

/// Starts the delivery worker on the current actix runtime.
pub fn spawn_worker(state: actix_web::web::Data<AppState>) {
    actix_web::rt::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("OpenContact/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "webhook client could not be built");
                return;
            }
        };
        loop {
            let n = match run_once(&state, &client).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "webhook round failed");
                    0
                }
            };
            if n == 0 {
                let _ = tokio::time::timeout(Duration::from_secs(2), WAKE.notified()).await;
            }
        }
    });
}
