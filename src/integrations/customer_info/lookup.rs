//! Running customer-info lookups for a ticket: the query values (general items from the agent
//! or their defaults, ticket-field items from the ticket), the call, the stored outcome (query
//! and answer encrypted: they are personal data), field linking (a result fills an empty text
//! field of the ticket, never overwriting one), and the customer's tickets of the last three
//! months when the query carries an identity (member ID, phone, e-mail or name).
//!
//! Automatic lookups: [`queue_auto`] runs in the transaction that creates a ticket and queues a
//! lookup for every API with ticket-field items set to run on the ticket's channel; the job
//! queue ([`QUEUE`], one [`run_lookup`] per claimed row) makes the calls (one attempt each,
//! within `Config::timeouts.customer_info`) and stores what came back, so it appears on the
//! ticket page.

use std::collections::HashMap;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use serde_json::{Map, Value};

use crate::AppState;
use crate::crypto::SecretKey;
use crate::customers::Customer;
use crate::db::queue::{self, Claimed, JobKind, QueueTable};
use crate::db::schema::{customer_info_lookups, customers, services, ticket_field_values, tickets};
use crate::db::types::{CustomerId, ServiceId, TicketId};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::fields::model::{Control, FieldDef, SystemField};
use crate::fields::personal::{read_value, store_value};
use crate::fields::validate::StoredValue;
use crate::tenancy::service::Service;
use crate::tickets::Ticket;
use crate::tickets::events::TicketEvent;

use super::client::{self, Answer, Outcome};
use super::model::{IDENTITY_SOURCES, InfoApi, ItemControl, ItemKind, QueryItem};

/// How far back the customer's other tickets are listed.
pub const RELATED_DAYS: i64 = 90;
/// Most related tickets listed.
pub const RELATED_LIMIT: i64 = 20;

/// The automatic lookups' place in the job queue: one attempt each; a lookup whose worker
/// stopped mid-call ends as timed out ([`abandon`]).
pub const QUEUE: QueueTable = QueueTable {
    kind: JobKind::CustomerInfo,
    table: "customer_info_lookups",
    status: "status",
    due: "lease_until",
    attempts: "attempts",
    error: None,
    pending: "pending",
    running: "sending",
    done: "done",
    dead: "done",
    max_attempts: 1,
    lease: TimeDelta::minutes(1),
    error_limit: 0,
};

/// A stored lookup.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = customer_info_lookups)]
pub struct Lookup {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// API.
    pub api_id: i64,
    /// Queued when the ticket arrived (not asked for by an agent).
    pub automatic: bool,
    /// `pending`, `sending` or `done`.
    pub status: String,
    /// The [`Outcome`] text once done.
    pub outcome: String,
    /// HTTP status of the answer.
    pub http_status: Option<i32>,
    /// The query body sent, encrypted.
    pub query_enc: String,
    /// The answer's `data`, encrypted.
    pub result_enc: String,
    /// The remote error code and message.
    pub remote_message: String,
    /// The agent who asked.
    pub requested_by: Option<i64>,
    /// A `sending` lookup not finished by then has timed out.
    pub lease_until: NaiveDateTime,
    /// Queued or made.
    pub created_at: NaiveDateTime,
    /// Finished.
    pub finished_at: Option<NaiveDateTime>,
}

impl Lookup {
    /// The stored outcome.
    pub fn outcome(&self) -> Option<Outcome> {
        Outcome::parse(&self.outcome)
    }

    /// The answer's `data`.
    pub fn data(&self, secret: &SecretKey) -> Option<Map<String, Value>> {
        if self.result_enc.is_empty() {
            return None;
        }
        let plain = secret.decrypt(&self.result_enc)?;
        serde_json::from_str(&plain).ok()
    }

    /// The query sent.
    pub fn query(&self, secret: &SecretKey) -> Map<String, Value> {
        secret
            .decrypt(&self.query_enc)
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default()
    }
}

/// Whether a service may call its customer-info APIs: a consultation service with the
/// customer-info feature and the Open API on (SPEC §6.3).
pub fn enabled_for(service: &Service) -> bool {
    service.customer_info_enabled()
}

fn text_of(v: &StoredValue) -> String {
    match v {
        StoredValue::Empty | StoredValue::Files(_) => String::new(),
        StoredValue::Text(s) => s.clone(),
        StoredValue::Many(v) => v.join(","),
        StoredValue::Period { from, to } => format!("{from} ~ {to}"),
        StoredValue::Bool(b) => b.to_string(),
    }
}

/// The ticket's value of a query source: name, e-mail and phone from its customer, the
/// subject, the customer's member ID or number, or a field value.
pub fn ticket_value(
    conn: &mut DbConn,
    secret: &SecretKey,
    ticket: &Ticket,
    customer: Option<&Customer>,
    code: &str,
) -> QueryResult<String> {
    match code {
        "usercode" => {
            return Ok(match ticket.customer_id {
                Some(id) => customers::table
                    .find(id)
                    .select(customers::usercode)
                    .first::<Option<String>>(conn)
                    .optional()?
                    .flatten()
                    .unwrap_or_default(),
                None => String::new(),
            });
        }
        "customer_no" => return Ok(customer.map(|c| c.customer_no.clone()).unwrap_or_default()),
        _ => {}
    }
    match SystemField::parse(code) {
        Some(SystemField::Name) => return Ok(customer.map(|c| c.name.clone()).unwrap_or_default()),
        Some(SystemField::Email) => {
            return Ok(customer.map(|c| c.email.clone()).unwrap_or_default());
        }
        Some(SystemField::Phone) => {
            return Ok(customer.map(|c| c.phone.clone()).unwrap_or_default());
        }
        Some(SystemField::Subject) => return Ok(ticket.subject.clone()),
        _ => {}
    }
    let Some(def) = FieldDef::find_by_code(conn, ticket.service_id, code)? else {
        return Ok(String::new());
    };
    let stored: Option<String> = ticket_field_values::table
        .filter(ticket_field_values::ticket_id.eq(ticket.id))
        .filter(ticket_field_values::field_id.eq(def.id))
        .select(ticket_field_values::value)
        .first(conn)
        .optional()?;
    Ok(stored
        .map(|s| text_of(&read_value(secret, &def, &s)))
        .unwrap_or_default())
}

/// Whether a query source holds personal data (masked for agents who may not see it).
pub fn source_is_personal(conn: &mut DbConn, service_id: i64, code: &str) -> QueryResult<bool> {
    if code == "usercode" || code == "customer_no" {
        return Ok(false);
    }
    Ok(FieldDef::find_by_code(conn, service_id, code)?.is_some_and(|d| d.personal))
}

/// The query of a lookup: each item with its value, and the items whose value is refused
/// (variable → message key).
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// Items and values, in item order.
    pub values: Vec<(QueryItem, String)>,
    /// Refusals.
    pub errors: Vec<(String, &'static str)>,
}

impl Resolved {
    /// The request body: variable → value.
    pub fn body(&self) -> String {
        let map: Map<String, Value> = self
            .values
            .iter()
            .map(|(q, v)| (q.variable.clone(), Value::from(v.as_str())))
            .collect();
        Value::Object(map).to_string()
    }

    /// Values of identity sources (for the customer's recent tickets).
    pub fn identities(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .filter(|(q, v)| {
                q.kind == ItemKind::TicketField
                    && IDENTITY_SOURCES.contains(&q.field.as_str())
                    && !v.trim().is_empty()
            })
            .map(|(q, v)| (q.field.clone(), v.trim().to_string()))
            .collect()
    }
}

/// Works out the query values: `typed` (variable → value, from the agent) wins when not
/// empty; otherwise general items take their default and ticket-field items the ticket's
/// value. Values are checked against the item (required, length, drop-down options).
pub fn resolve(
    conn: &mut DbConn,
    secret: &SecretKey,
    api: &InfoApi,
    ticket: &Ticket,
    typed: &HashMap<String, String>,
) -> QueryResult<Resolved> {
    let customer = match ticket.customer_id {
        Some(id) => Customer::find(conn, ServiceId(ticket.service_id), CustomerId(id))?,
        None => None,
    };
    let mut out = Resolved::default();
    for q in &api.query {
        let given = typed
            .get(&q.variable)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let value = match (given, q.kind) {
            (Some(v), _) => v,
            (None, ItemKind::General) => q.default_value.clone(),
            (None, ItemKind::TicketField) => {
                ticket_value(conn, secret, ticket, customer.as_ref(), &q.field)?
            }
        };
        let value = value.trim().to_string();
        if value.is_empty() && q.required {
            out.errors.push((q.variable.clone(), "validation.required"));
        } else if value.chars().count() > usize::try_from(q.max_length).unwrap_or(0) {
            out.errors
                .push((q.variable.clone(), "customerinfo.error.value_too_long"));
        } else if q.kind == ItemKind::General
            && q.control == ItemControl::Dropdown
            && !value.is_empty()
            && !q.options.contains(&value)
        {
            out.errors
                .push((q.variable.clone(), "validation.choose_option"));
        }
        out.values.push((q.clone(), value));
    }
    Ok(out)
}

/// Stores a finished lookup (a manual one, or one the worker made) and, when data came back,
/// fills the linked empty fields of the ticket. Returns the lookup's key.
#[expect(clippy::too_many_arguments, reason = "one row's columns")]
pub fn record(
    conn: &mut DbConn,
    secret: &SecretKey,
    existing: Option<i64>,
    api: &InfoApi,
    ticket: &Ticket,
    requested_by: Option<i64>,
    body: &str,
    answer: &Answer,
) -> QueryResult<i64> {
    let t = now();
    let result_enc = answer
        .data
        .as_ref()
        .map(|d| secret.encrypt(&Value::Object(d.clone()).to_string()))
        .unwrap_or_default();
    let query_enc = secret.encrypt(body);
    let status = answer.status.map(i32::from);
    let id = match existing {
        Some(id) => {
            diesel::update(customer_info_lookups::table.find(id))
                .set((
                    customer_info_lookups::status.eq("done"),
                    customer_info_lookups::outcome.eq(answer.outcome.as_str()),
                    customer_info_lookups::http_status.eq(status),
                    customer_info_lookups::query_enc.eq(&query_enc),
                    customer_info_lookups::result_enc.eq(&result_enc),
                    customer_info_lookups::remote_message.eq(&answer.remote_message),
                    customer_info_lookups::finished_at.eq(Some(t)),
                ))
                .execute(conn)?;
            id
        }
        None => diesel::insert_into(customer_info_lookups::table)
            .values((
                customer_info_lookups::service_id.eq(ticket.service_id),
                customer_info_lookups::ticket_id.eq(ticket.id),
                customer_info_lookups::api_id.eq(api.row.id),
                customer_info_lookups::automatic.eq(false),
                customer_info_lookups::status.eq("done"),
                customer_info_lookups::outcome.eq(answer.outcome.as_str()),
                customer_info_lookups::http_status.eq(status),
                customer_info_lookups::query_enc.eq(&query_enc),
                customer_info_lookups::result_enc.eq(&result_enc),
                customer_info_lookups::remote_message.eq(&answer.remote_message),
                customer_info_lookups::requested_by.eq(requested_by),
                customer_info_lookups::lease_until.eq(t),
                customer_info_lookups::created_at.eq(t),
                customer_info_lookups::finished_at.eq(Some(t)),
            ))
            .returning(customer_info_lookups::id)
            .get_result(conn)?,
    };
    if let Some(data) = &answer.data {
        link_fields(conn, secret, api, ticket, data)?;
    }
    Ok(id)
}

/// Field linking (SPEC §6.3): each result item linked to a text or long-text field fills that
/// field of the ticket when it has no value yet (cut to the field's length).
pub fn link_fields(
    conn: &mut DbConn,
    secret: &SecretKey,
    api: &InfoApi,
    ticket: &Ticket,
    data: &Map<String, Value>,
) -> QueryResult<usize> {
    let mut filled = 0;
    for r in api.results.iter().filter(|r| !r.link_field.is_empty()) {
        let Some(value) = client::value_at(data, &r.data_name).filter(|v| !v.trim().is_empty())
        else {
            continue;
        };
        let Some(def) = FieldDef::find_by_code(conn, ticket.service_id, &r.link_field)? else {
            continue;
        };
        if def.system.is_some() || !matches!(def.control, Control::Text | Control::Textarea) {
            continue;
        }
        let current: Option<(i64, String)> = ticket_field_values::table
            .filter(ticket_field_values::ticket_id.eq(ticket.id))
            .filter(ticket_field_values::field_id.eq(def.id))
            .select((ticket_field_values::id, ticket_field_values::value))
            .first(conn)
            .optional()?;
        if current
            .as_ref()
            .is_some_and(|(_, v)| !text_of(&read_value(secret, &def, v)).trim().is_empty())
        {
            continue;
        }
        let mut text = value.trim().to_string();
        if def.max_length > 0 {
            text = text
                .chars()
                .take(usize::try_from(def.max_length).unwrap_or(0))
                .collect();
        }
        let stored = store_value(secret, &def, &StoredValue::Text(text));
        match current {
            Some((id, _)) => {
                diesel::update(ticket_field_values::table.find(id))
                    .set(ticket_field_values::value.eq(stored))
                    .execute(conn)?;
            }
            None => {
                diesel::insert_into(ticket_field_values::table)
                    .values((
                        ticket_field_values::ticket_id.eq(ticket.id),
                        ticket_field_values::field_id.eq(def.id),
                        ticket_field_values::value.eq(stored),
                    ))
                    .execute(conn)?;
            }
        }
        filled += 1;
    }
    Ok(filled)
}

/// The latest lookup of each API for a ticket.
pub fn latest(
    conn: &mut DbConn,
    ticket_id: i64,
    api_ids: &[i64],
) -> QueryResult<HashMap<i64, Lookup>> {
    let mut out = HashMap::new();
    for id in api_ids {
        let l: Option<Lookup> = customer_info_lookups::table
            .filter(customer_info_lookups::ticket_id.eq(ticket_id))
            .filter(customer_info_lookups::api_id.eq(id))
            .order(customer_info_lookups::id.desc())
            .select(Lookup::as_select())
            .first(conn)
            .optional()?;
        if let Some(l) = l {
            out.insert(*id, l);
        }
    }
    Ok(out)
}

/// A ticket of the same customer (by identity) from the last three months.
#[derive(Debug, Clone)]
pub struct Related {
    /// Public ID.
    pub public_id: String,
    /// Subject.
    pub subject: String,
    /// Status.
    pub status: String,
    /// Created.
    pub created_at: NaiveDateTime,
}

/// The service's tickets of the last [`RELATED_DAYS`] days whose customer matches one of the
/// identities (member ID, phone, e-mail or name), newest first, without `except`.
pub fn related_tickets(
    conn: &mut DbConn,
    service_id: i64,
    except: i64,
    identities: &[(String, String)],
) -> QueryResult<Vec<Related>> {
    let mut ids: Vec<i64> = Vec::new();
    for (source, value) in identities {
        let q = customers::table
            .filter(customers::service_id.eq(service_id))
            .select(customers::id)
            .limit(50)
            .into_boxed();
        let found: Vec<i64> = match source.as_str() {
            "usercode" => q.filter(customers::usercode.eq(value)).load(conn)?,
            "phone" => q.filter(customers::phone.eq(value)).load(conn)?,
            "mail" => q
                .filter(customers::email.eq(crate::customers::normalize_email(value)))
                .load(conn)?,
            "name" => q.filter(customers::name.eq(value)).load(conn)?,
            _ => Vec::new(),
        };
        for id in found {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let since = now() - TimeDelta::days(RELATED_DAYS);
    let rows: Vec<(String, String, String, NaiveDateTime)> = tickets::table
        .filter(tickets::service_id.eq(service_id))
        .filter(tickets::customer_id.eq_any(ids))
        .filter(tickets::id.ne(except))
        .filter(tickets::created_at.ge(since))
        .order((tickets::created_at.desc(), tickets::id.desc()))
        .limit(RELATED_LIMIT)
        .select((
            tickets::public_id,
            tickets::subject,
            tickets::status,
            tickets::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(public_id, subject, status, created_at)| Related {
            public_id,
            subject,
            status,
            created_at,
        })
        .collect())
}

/// The customer-info lookup's subscription to ticket events (registered at start-up): a new
/// ticket's automatic lookups are queued with [`queue_auto`].
pub fn on_ticket_event(conn: &mut DbConn, event: &TicketEvent<'_>) -> QueryResult<()> {
    if let TicketEvent::Created { ticket } = event {
        queue_auto(conn, ticket.id)?;
    }
    Ok(())
}

/// Queues the automatic lookups of a new ticket (in the transaction that creates it): one per
/// API with ticket-field items set to run on the ticket's channel. Returns how many.
pub fn queue_auto(conn: &mut DbConn, ticket_id: i64) -> QueryResult<usize> {
    let Some((service_id, channel)) = tickets::table
        .find(ticket_id)
        .select((tickets::service_id, tickets::channel))
        .first::<(i64, String)>(conn)
        .optional()?
    else {
        return Ok(0);
    };
    let Some(service) = services::table
        .find(service_id)
        .select(Service::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(0);
    };
    if !enabled_for(&service) {
        return Ok(0);
    }
    let t = now();
    let mut n = 0;
    for api in InfoApi::of_service(conn, service_id)? {
        if !api.auto_on(&channel) {
            continue;
        }
        diesel::insert_into(customer_info_lookups::table)
            .values((
                customer_info_lookups::service_id.eq(service_id),
                customer_info_lookups::ticket_id.eq(ticket_id),
                customer_info_lookups::api_id.eq(api.row.id),
                customer_info_lookups::automatic.eq(true),
                customer_info_lookups::status.eq("pending"),
                customer_info_lookups::lease_until.eq(t),
                customer_info_lookups::created_at.eq(t),
            ))
            .execute(conn)?;
        n += 1;
    }
    if n > 0 {
        queue::notify(conn, JobKind::CustomerInfo)?;
    }
    Ok(n)
}

/// A claimed automatic lookup with what the call needs.
struct Job {
    api: InfoApi,
    ticket: Ticket,
    enabled: bool,
    resolved: Resolved,
    key: Option<String>,
}

/// Works out the query of a claimed lookup; `None` when its API or ticket is gone.
fn prepare(conn: &mut DbConn, secret: &SecretKey, id: i64) -> QueryResult<Option<Job>> {
    let l: Lookup = customer_info_lookups::table
        .find(id)
        .select(Lookup::as_select())
        .first(conn)?;
    let Some(api) = InfoApi::find(conn, l.service_id, l.api_id)? else {
        return Ok(None);
    };
    let Some(ticket) = Ticket::find(conn, ServiceId(l.service_id), TicketId(l.ticket_id))? else {
        return Ok(None);
    };
    let service = services::table
        .find(l.service_id)
        .select(Service::as_select())
        .first(conn)?;
    let resolved = resolve(conn, secret, &api, &ticket, &HashMap::new())?;
    Ok(Some(Job {
        key: api.key(secret),
        api,
        ticket,
        enabled: enabled_for(&service),
        resolved,
    }))
}

/// Ends a lookup whose worker stopped mid-call (its lease ran out) as timed out: lookups are
/// never retried. Runs in the transaction that settles it.
pub fn abandon(conn: &mut DbConn, job: &Claimed) -> QueryResult<()> {
    diesel::update(customer_info_lookups::table.find(job.id))
        .set((
            customer_info_lookups::outcome.eq(Outcome::Timeout.as_str()),
            customer_info_lookups::finished_at.eq(Some(now())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Makes one claimed automatic lookup and stores what came back.
pub async fn run_lookup(state: &AppState, claimed: Claimed) -> Result<(), AppError> {
    let secret = state.secret.clone();
    let id = claimed.id;
    let Some(job) = state.db.read(move |c| Ok(prepare(c, &secret, id)?)).await? else {
        // Its API or ticket went away: the lookup ends without a call.
        return state
            .db
            .write(move |c| {
                abandon(c, &claimed)?;
                queue::finish(c, &QUEUE, &claimed, now(), queue::Outcome::Done)?;
                Ok(())
            })
            .await;
    };
    let body = job.resolved.body();
    let answer = if !job.enabled {
        Answer {
            outcome: Outcome::Disabled,
            status: None,
            data: None,
            remote_message: String::new(),
        }
    } else if !job.resolved.errors.is_empty() {
        Answer {
            outcome: Outcome::MissingValues,
            status: None,
            data: None,
            remote_message: String::new(),
        }
    } else {
        client::call(
            &job.api.row.base_url,
            job.key.as_deref(),
            job.api.row.sign_path,
            &body,
            state.config.timeouts.customer_info,
        )
        .await
    };
    let secret = state.secret.clone();
    state
        .db
        .write(move |c| {
            if queue::finish(c, &QUEUE, &claimed, now(), queue::Outcome::Done)?
                != queue::Settled::Lost
            {
                record(
                    c,
                    &secret,
                    Some(claimed.id),
                    &job.api,
                    &job.ticket,
                    None,
                    &body,
                    &answer,
                )?;
            }
            Ok(())
        })
        .await
}
