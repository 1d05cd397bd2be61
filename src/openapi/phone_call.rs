//! Phone tickets registered by the CTI (API.md §8.4.2, L15 `PUT /{serviceId}/openapi/v1/
//! ticket/call.json`, Mobile Contact): one ticket per call, on the phone channel, created by
//! and assigned to the agent whose CTI ID is `requesterId`, for the customer with the caller's
//! phone number (SPEC §6.1: phone tickets merge by phone). The call itself — direction, IVR
//! path, who hung up, the call key and its ring, start and end times — is kept beside the
//! ticket and shown on the ticket page ([`call_panel`]).
//!
//! A call key already registered answers `code: "error"` with the existing `ticketId`, so a
//! CTI that retries after a lost answer never creates a second ticket.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use crate::common::time::local_display;
use crate::customers::Contact;
use crate::db::schema::{service_members, ticket_calls, tickets as tk, users};
use crate::db::types::ServiceKind;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::tenancy::service::{default_lang, service_tz};
use crate::tickets::detail::access::TicketStaff;
use crate::tickets::detail::view::load_ticket;
use crate::tickets::intake::{self, Intake};
use crate::tickets::{self, Channel};
use crate::web::{self as w, PageCtx};

use super::admin_api::{body_object, field_error, field_required, s_of, write_api};
use super::envelope::{ApiError, ApiResult, ok_content, parse_legacy_dt, tz_of};
use super::signed_v1::not_multipart;
use super::signing::verify_call;

/// Longest call content.
const MAX_CONTENT: usize = 20_000;
/// Longest IVR path and call key.
const MAX_CALL_TEXT: usize = 100;

/// Call directions (`ticketCall.inoutFlg`).
pub const DIRECTIONS: &[&str] = &["in", "out"];
/// Who ended the call (`ticketCall.disconnectCd`).
pub const DISCONNECTS: &[&str] = &["agent", "block", "customer"];

/// A call behind a phone ticket.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ticket_calls)]
pub struct Call {
    /// Ticket.
    pub ticket_id: i64,
    /// Service.
    pub service_id: i64,
    /// The agent who took or made the call.
    pub agent_id: Option<i64>,
    /// `in` or `out`.
    pub direction: String,
    /// IVR path.
    pub ivr_path: String,
    /// `agent`, `block` or `customer`.
    pub disconnected_by: String,
    /// The call's UCID.
    pub ring_key: String,
    /// Ringing.
    pub ring_at: NaiveDateTime,
    /// Answered.
    pub start_at: NaiveDateTime,
    /// Ended.
    pub end_at: NaiveDateTime,
    /// Registered.
    pub created_at: NaiveDateTime,
}

/// The checked body of a call registration.
#[derive(Debug, Clone)]
struct CallInput {
    subject: String,
    content: String,
    requester: String,
    contact: Contact,
    direction: String,
    ivr_path: String,
    disconnected_by: String,
    ring_key: String,
    ring_at: NaiveDateTime,
    start_at: NaiveDateTime,
    end_at: NaiveDateTime,
}

fn object<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<&'a Map<String, Value>, ApiError> {
    match obj.get(key) {
        Some(Value::Object(o)) => Ok(o),
        None | Some(Value::Null) => Err(field_required(key)),
        Some(_) => Err(field_error(key)),
    }
}

fn one_of(
    o: &Map<String, Value>,
    key: &str,
    name: &str,
    allowed: &[&str],
) -> Result<String, ApiError> {
    let v = s_of(o, key)?.ok_or_else(|| field_required(name))?;
    let v = v.to_ascii_lowercase();
    if allowed.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(field_error(name))
    }
}

fn bounded(o: &Map<String, Value>, key: &str, name: &str, max: usize) -> Result<String, ApiError> {
    let v = s_of(o, key)?.ok_or_else(|| field_required(name))?;
    if v.chars().count() > max {
        return Err(field_error(name));
    }
    Ok(v)
}

fn read_input(obj: &Map<String, Value>, tz: chrono_tz::Tz) -> Result<CallInput, ApiError> {
    let subject = bounded(obj, "subject", "subject", tickets::MAX_SUBJECT_CHARS)?;
    let content = bounded(obj, "content", "content", MAX_CONTENT)?;
    // An integer in the legacy table; CTI IDs are text here, so a string is accepted too.
    let requester = bounded(obj, "requesterId", "requesterId", MAX_CALL_TEXT)?;
    let end_user = object(obj, "endUser")?;
    let phone = s_of(end_user, "phone")?.ok_or_else(|| field_required("endUser.phone"))?;
    if !crate::fields::validate::is_phone(&phone) {
        return Err(field_error("endUser.phone"));
    }
    let email = s_of(end_user, "email")?.unwrap_or_default();
    if !email.is_empty() && !crate::tenancy::user::is_valid_email(&email) {
        return Err(field_error("endUser.email"));
    }
    let name = s_of(end_user, "username")?.unwrap_or_default();
    if !email.is_empty() && name.is_empty() {
        return Err(field_required("endUser.username"));
    }
    if name.chars().count() > 100 {
        return Err(field_error("endUser.username"));
    }
    let call = object(obj, "ticketCall")?;
    let time = |key: &str| -> Result<NaiveDateTime, ApiError> {
        let name = format!("ticketCall.{key}");
        let v = s_of(call, key)?.ok_or_else(|| field_required(&name))?;
        parse_legacy_dt(tz, &v).ok_or_else(|| field_error(&name))
    };
    let ring_at = time("callRingDt")?;
    let start_at = time("callStartDt")?;
    let end_at = time("callEndDt")?;
    if start_at < ring_at {
        return Err(field_error("ticketCall.callStartDt"));
    }
    if end_at < start_at {
        return Err(field_error("ticketCall.callEndDt"));
    }
    Ok(CallInput {
        subject,
        content,
        requester,
        contact: Contact {
            name,
            email,
            phone: phone.trim().to_string(),
        },
        direction: one_of(call, "inoutFlg", "ticketCall.inoutFlg", DIRECTIONS)?,
        ivr_path: bounded(call, "ivrPathNo", "ticketCall.ivrPathNo", MAX_CALL_TEXT)?,
        disconnected_by: one_of(call, "disconnectCd", "ticketCall.disconnectCd", DISCONNECTS)?,
        ring_key: bounded(call, "callRingKey", "ticketCall.callRingKey", MAX_CALL_TEXT)?,
        ring_at,
        start_at,
        end_at,
    })
}

/// The active member of the service whose CTI ID is `cti_id`.
fn cti_agent(conn: &mut DbConn, service_id: i64, cti_id: &str) -> QueryResult<Option<i64>> {
    users::table
        .inner_join(service_members::table)
        .filter(service_members::service_id.eq(service_id))
        .filter(users::cti_id.eq(cti_id))
        .filter(users::active.eq(true))
        .select(users::id)
        .first(conn)
        .optional()
}

/// `PUT /{serviceId}/openapi/v1/ticket/call.json` (L15).
pub async fn register_call(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_call(&req, payload, not_multipart).await?;
    let obj = body_object(&call)?;
    let service = call.service.clone();
    if service.kind() != ServiceKind::Consultation || !service.features().phone {
        return Err(ApiError::Exception(
            "The phone (telticket) feature is off for this service".into(),
        ));
    }
    let input = read_input(&obj, tz_of(&service))?;
    let secret = call.state.secret.clone();
    let (ticket_id, duplicate) = write_api(&call, move |c| {
        let existing: Option<i64> = ticket_calls::table
            .filter(ticket_calls::service_id.eq(service.id))
            .filter(ticket_calls::ring_key.eq(&input.ring_key))
            .select(ticket_calls::ticket_id)
            .first(c)
            .optional()?;
        if let Some(id) = existing {
            let pid: String = tk::table.find(id).select(tk::public_id).first(c)?;
            return Ok((pid, true));
        }
        let agent = cti_agent(c, service.id, &input.requester)?
            .ok_or_else(|| ApiError::missing_ref("requesterId"))?;
        let created = intake::open(
            c,
            &secret,
            &Intake {
                contact: Some(&input.contact),
                creator_id: Some(agent),
                assignee_id: Some(agent),
                ..Intake::new(
                    service.id,
                    Channel::Phone,
                    default_lang(&service),
                    &input.subject,
                    &input.content,
                )
            },
        )?;
        diesel::insert_into(ticket_calls::table)
            .values((
                ticket_calls::ticket_id.eq(created.id),
                ticket_calls::service_id.eq(service.id),
                ticket_calls::agent_id.eq(Some(agent)),
                ticket_calls::direction.eq(&input.direction),
                ticket_calls::ivr_path.eq(&input.ivr_path),
                ticket_calls::disconnected_by.eq(&input.disconnected_by),
                ticket_calls::ring_key.eq(&input.ring_key),
                ticket_calls::ring_at.eq(input.ring_at),
                ticket_calls::start_at.eq(input.start_at),
                ticket_calls::end_at.eq(input.end_at),
                ticket_calls::created_at.eq(now()),
            ))
            .execute(c)?;
        Ok((created.public_id, false))
    })
    .await?;
    if duplicate {
        return ok_content(json!({
            "ticketId": ticket_id,
            "code": "error",
            "message": "callRingKey is already registered",
        }));
    }
    ok_content(json!({"ticketId": ticket_id, "code": "success", "message": null}))
}

/// The call panel of a phone ticket.
#[derive(Template)]
#[template(path = "openapi/call_panel.html")]
pub struct CallPanel {
    /// Shared context.
    pub ctx: PageCtx,
    /// The call, if the ticket has one.
    pub call: Option<CallView>,
}

/// A call as shown.
#[derive(Debug, Clone)]
pub struct CallView {
    /// Direction label key.
    pub direction_key: String,
    /// Agent name.
    pub agent: String,
    /// IVR path.
    pub ivr_path: String,
    /// Who ended it (label key).
    pub disconnected_key: String,
    /// Call key.
    pub ring_key: String,
    /// Ring time (service zone).
    pub ring: String,
    /// Start time.
    pub start: String,
    /// End time.
    pub end: String,
    /// `m:ss` talk time.
    pub duration: String,
}

/// `GET /{service_id}/console/tickets/{public_id}/call` — the call behind a phone ticket (a
/// fragment for the ticket page; the whole page without htmx).
pub async fn call_panel(
    s: TicketStaff,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let sid = s.service.id;
    let tz = service_tz(&s.service);
    let row = s
        .viewer()
        .state
        .db
        .read(move |c| {
            let t = load_ticket(c, sid, &pid)?;
            let call: Option<Call> = ticket_calls::table
                .find(t.id)
                .select(Call::as_select())
                .first(c)
                .optional()?;
            let agent = match call.as_ref().and_then(|x| x.agent_id) {
                Some(a) => users::table
                    .find(a)
                    .select(users::name)
                    .first::<String>(c)
                    .optional()?
                    .unwrap_or_default(),
                None => String::new(),
            };
            Ok(call.map(|x| (x, agent)))
        })
        .await?;
    let call = row.map(|(c, agent)| {
        let secs = (c.end_at - c.start_at).num_seconds().max(0);
        CallView {
            direction_key: format!("customerinfo.call.direction_{}", c.direction),
            agent,
            ivr_path: c.ivr_path,
            disconnected_key: format!("customerinfo.call.disconnect_{}", c.disconnected_by),
            ring_key: c.ring_key,
            ring: local_display(tz, c.ring_at),
            start: local_display(tz, c.start_at),
            end: local_display(tz, c.end_at),
            duration: format!("{}:{:02}", secs / 60, secs % 60),
        }
    });
    let page = CallPanel {
        ctx: PageCtx::console(&s, "customerinfo.call.title"),
        call,
    };
    w::html(StatusCode::OK, &page)
}
