//! Signed administration endpoints of one service: the legacy ticket calls (API.md §8.4: add,
//! solve, comment, get, list, a customer's list, attachment upload/get/delete), the legacy
//! single-level intake types (§8.5) and the agent calls (§7.9). Status changes go through
//! [`crate::tickets::lifecycle`]; an answer mail is queued in the same transaction.

use std::collections::HashMap;

use actix_web::{HttpRequest, web};
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use crate::categories::model::{self as cats, NamesInput, Tree};
use crate::common::text::{html_to_text, sanitize_html};
use crate::common::validation::Violations;
use crate::customers::{Contact, Customer, MAX_USERCODE_CHARS};
use crate::db::DbConn;
use crate::db::schema::{
    api_files, api_ticket_meta, categories, customers as cust, service_members, ticket_entries,
    tickets as tk, users,
};
use crate::db::search::{contains_pattern, lower};
use crate::db::types::{CategoryTree, Role};
use crate::db::types::{CustomerId, ServiceId, TicketId, UserId};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::notify::outbox::{self, NewMail};
use crate::notify::smtp::OutgoingMail;
use crate::tenancy::member::{Member, Permissions};
use crate::tenancy::service::Service;
use crate::tenancy::service::default_lang;
use crate::tenancy::user::User;
use crate::tickets::intake::{self, Intake, Receipt};
use crate::tickets::lifecycle::{self, Action, CustomerMail, LifecycleError, ProcessInput};
use crate::tickets::{self, Channel, EntryKind, Ticket, TicketAttachment};

use super::envelope::{
    ApiError, ApiResult, MAX_PAGE_SIZE, millis, ok_content, ok_contents, ok_null, ok_page,
    parse_legacy_dt, parse_sort, tz_of,
};
use super::files::{self, FileKind};
use super::signed_v1::{self, MAX_ATTACHMENTS, TicketMeta, insert_meta, not_multipart};
use super::signing::{SignedCall, verify_call};

/// Longest legacy `addition`.
const MAX_ADDITION: usize = 64 * 1024;

/// A `400` in the exception shape naming a body field (API.md §8.1).
pub(crate) fn field_error(name: &str) -> ApiError {
    ApiError::Exception(format!("{name} is invalid"))
}

pub(crate) fn field_required(name: &str) -> ApiError {
    ApiError::Exception(format!("{name} is required"))
}

pub(crate) fn body_object(call: &SignedCall) -> Result<Map<String, Value>, ApiError> {
    match call.json_body()? {
        Value::Object(o) => Ok(o),
        _ => Err(ApiError::BadRequest(
            "Request body must be a JSON object".into(),
        )),
    }
}

/// A string member (numbers read as text); a wrong type is a `400`.
pub(crate) fn s_of(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(field_error(key)),
    }
}

/// An integer member (a numeric string is accepted).
pub(crate) fn i_of(obj: &Map<String, Value>, key: &str) -> Result<Option<i64>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| field_error(key)),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| field_error(key)),
        Some(_) => Err(field_error(key)),
    }
}

/// A boolean member (`true`/`false`, also as strings).
pub fn b_of(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => super::envelope::parse_bool(s)
            .map(Some)
            .ok_or_else(|| field_error(key)),
        Some(_) => Err(field_error(key)),
    }
}

/// Runs `f` in a write transaction, passing API refusals through unchanged (nothing saved).
pub async fn write_api<T: Send + 'static>(
    call: &SignedCall,
    f: impl FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    write_state(&call.state, f).await
}

/// [`write_api`] for calls that are not bound to a service (the organization API).
pub async fn write_state<T: Send + 'static>(
    state: &crate::AppState,
    f: impl FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    // The refusal travels out as the closure's error; the transaction is rolled back.
    let slot: std::sync::Arc<std::sync::Mutex<Option<ApiError>>> = Default::default();
    let keep = slot.clone();
    let r = state
        .db
        .write(move |c| {
            f(c).map_err(|e| {
                let msg = e.to_string();
                if let Ok(mut s) = keep.lock() {
                    *s = Some(e);
                }
                AppError::Internal(msg)
            })
        })
        .await;
    match r {
        Ok(v) => Ok(v),
        Err(e) => {
            let api = slot.lock().ok().and_then(|mut s| s.take());
            Err(api.unwrap_or_else(|| ApiError::from(e)))
        }
    }
}

/// Runs `f` on a read connection with API errors.
pub async fn read_api<T: Send + 'static>(
    call: &SignedCall,
    f: impl FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    read_state(&call.state, f).await
}

/// [`read_api`] for calls that are not bound to a service (the organization API).
pub async fn read_state<T: Send + 'static>(
    state: &crate::AppState,
    f: impl FnOnce(&mut DbConn) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let slot: std::sync::Arc<std::sync::Mutex<Option<ApiError>>> = Default::default();
    let keep = slot.clone();
    let r = state
        .db
        .read(move |c| {
            f(c).map_err(|e| {
                let msg = e.to_string();
                if let Ok(mut s) = keep.lock() {
                    *s = Some(e);
                }
                AppError::Internal(msg)
            })
        })
        .await;
    match r {
        Ok(v) => Ok(v),
        Err(e) => {
            let api = slot.lock().ok().and_then(|mut s| s.take());
            Err(api.unwrap_or_else(|| ApiError::from(e)))
        }
    }
}

async fn call_of(req: &HttpRequest, payload: web::Payload) -> Result<SignedCall, ApiError> {
    verify_call(req, payload, not_multipart).await
}

fn lang_of(service: &Service) -> Lang {
    default_lang(service)
}

// ---------------------------------------------------------------------------------------------
// Tickets
// ---------------------------------------------------------------------------------------------

/// Everything the legacy ticket object shows.
struct TicketView {
    t: Ticket,
    customer: Option<Customer>,
    usercode: Option<String>,
    entries: Vec<tickets::Entry>,
    atts: Vec<TicketAttachment>,
    ids: HashMap<i64, String>,
    names: HashMap<i64, String>,
    addition: String,
    category_name: Option<String>,
}

fn load_view(conn: &mut DbConn, service: &Service, t: Ticket) -> Result<TicketView, ApiError> {
    let customer = match t.customer_id {
        Some(id) => Customer::find(conn, ServiceId(service.id), CustomerId(id))?,
        None => None,
    };
    let usercode: Option<String> = match t.customer_id {
        Some(id) => cust::table
            .find(id)
            .select(cust::usercode)
            .first::<Option<String>>(conn)
            .optional()?
            .flatten(),
        None => None,
    };
    let entries = tickets::entries_of(conn, t.id)?;
    let atts = tickets::attachments_of(conn, t.id)?;
    let ids = files::ticket_ids(conn, service.id, &atts)?;
    let mut user_ids: Vec<i64> = entries.iter().filter_map(|e| e.author_id).collect();
    user_ids.extend(t.assignee_id);
    let names: HashMap<i64, String> = users::table
        .filter(users::id.eq_any(user_ids))
        .select((users::id, users::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect();
    let addition: String = api_ticket_meta::table
        .find(t.id)
        .select(api_ticket_meta::addition)
        .first(conn)
        .optional()?
        .unwrap_or_default();
    let category_name = match t.category_id {
        Some(id) => cats::find(conn, service.id, CategoryTree::Intake, id)?.map(|n| {
            n.display_name(lang_of(service), lang_of(service))
                .to_string()
        }),
        None => None,
    };
    Ok(TicketView {
        t,
        customer,
        usercode,
        entries,
        atts,
        ids,
        names,
        addition,
        category_name,
    })
}

fn view_json(v: &TicketView, service: &Service) -> Value {
    let att_json = |a: &TicketAttachment| {
        v.ids
            .get(&a.id)
            .map(|id| files::ticket_json(id, &a.file_name, &a.mime, a.size_bytes, a.created_at))
    };
    let first = v
        .entries
        .iter()
        .find(|e| e.kind == EntryKind::CustomerMessage.as_str());
    let contents: Vec<Value> = v
        .entries
        .iter()
        .filter(|e| Some(e.id) != first.map(|f| f.id))
        .filter_map(|e| {
            let ty = match EntryKind::parse(&e.kind)? {
                EntryKind::AgentReply | EntryKind::HoldReply => "reply",
                EntryKind::CustomerFollowup => "enduser",
                _ => return None,
            };
            let user_name = match e.author_id {
                Some(a) => v.names.get(&a).cloned(),
                None => v.customer.as_ref().map(|c| c.name.clone()),
            };
            Some(json!({
                "content": e.body,
                "type": ty,
                "userName": user_name,
                "createdDt": millis(e.created_at),
                "attachments": v.atts.iter().filter(|a| a.entry_id == Some(e.id)).filter_map(att_json).collect::<Vec<_>>(),
            }))
        })
        .collect();
    json!({
        "ticketId": v.t.public_id,
        "serviceId": service.code,
        "subject": v.t.subject,
        "categoryId": v.t.category_id,
        "categoryName": v.category_name,
        "status": v.t.status,
        "endUser": {
            "usercode": v.usercode,
            "email": v.customer.as_ref().map(|c| c.email.clone()).filter(|s| !s.is_empty()),
            "username": v.customer.as_ref().map(|c| c.name.clone()).filter(|s| !s.is_empty()),
            "phone": v.customer.as_ref().map(|c| c.phone.clone()).filter(|s| !s.is_empty()),
        },
        "content": first.map(|e| e.body.clone()).unwrap_or_default(),
        "createdDt": millis(v.t.created_at),
        "updatedDt": millis(v.t.updated_at),
        "contents": contents,
        "attachments": v.atts.iter().filter(|a| first.is_some_and(|f| a.entry_id == Some(f.id))).filter_map(att_json).collect::<Vec<_>>(),
        "addition": v.addition,
        "assigneeName": v.t.assignee_id.and_then(|a| v.names.get(&a).cloned()),
    })
}

/// `POST /{serviceId}/openapi/v1/ticket/add.json` (L14): `endUser.usercode` is required;
/// the ticket starts unassigned (`new`).
pub async fn add_ticket(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let obj = body_object(&call)?;
    let subject = s_of(&obj, "subject")?.ok_or_else(|| field_required("subject"))?;
    if subject.chars().count() > tickets::MAX_SUBJECT_CHARS {
        return Err(field_error("subject"));
    }
    let content = s_of(&obj, "content")?.ok_or_else(|| field_required("content"))?;
    if content.chars().count() > 20_000 {
        return Err(field_error("content"));
    }
    let category = i_of(&obj, "categoryId")?;
    let end_user = match obj.get("endUser") {
        Some(Value::Object(o)) => o.clone(),
        None | Some(Value::Null) => return Err(field_required("endUser.usercode")),
        Some(_) => return Err(field_error("endUser")),
    };
    let usercode =
        s_of(&end_user, "usercode")?.ok_or_else(|| field_required("endUser.usercode"))?;
    if usercode.chars().count() > MAX_USERCODE_CHARS {
        return Err(field_error("endUser.usercode"));
    }
    let email = s_of(&end_user, "email")?.unwrap_or_default();
    if !email.is_empty() && !crate::tenancy::user::is_valid_email(&email) {
        return Err(field_error("endUser.email"));
    }
    let contact = Contact {
        name: s_of(&end_user, "username")?
            .unwrap_or_default()
            .chars()
            .take(100)
            .collect(),
        email,
        phone: s_of(&end_user, "phone")?
            .unwrap_or_default()
            .chars()
            .take(30)
            .collect(),
    };
    let addition = match obj.get("addition") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    if addition.len() > MAX_ADDITION {
        return Err(field_error("addition"));
    }
    match s_of(&obj, "status")?.as_deref() {
        None | Some("open") | Some("new") => {}
        Some(_) => return Err(field_error("status")),
    }
    let ids: Vec<String> = match obj.get("attachments") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.get("attachmentId")
                    .and_then(Value::as_str)
                    .or(i.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| field_error("attachments"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(field_error("attachments")),
    };
    if ids.len() > MAX_ATTACHMENTS {
        return Err(field_error("attachments"));
    }
    let service = call.service.clone();
    let secret = call.state.secret.clone();
    let view = write_api(&call, move |c| {
        if let Some(id) = category
            && cats::find(c, service.id, CategoryTree::Intake, id)?.is_none()
        {
            return Err(ApiError::missing_ref("categoryId"));
        }
        let mut uploads = Vec::new();
        for id in &ids {
            match files::find(c, service.id, id)? {
                Some(f) if f.kind == FileKind::Ticket.as_str() && f.pending() => uploads.push(f),
                _ => return Err(ApiError::missing_ref("attachmentId")),
            }
        }
        let stored: Vec<crate::help_center::attachments::StoredFile> = uploads
            .iter()
            .map(|u| crate::help_center::attachments::StoredFile {
                name: u.file_name.clone(),
                path: u.stored_path.clone(),
                mime: u.mime.clone(),
                size: u.size_bytes,
            })
            .collect();
        let lang = lang_of(&service);
        let created = intake::open(
            c,
            &secret,
            &Intake {
                contact: Some(&contact),
                member_code: Some(usercode.as_str()),
                category_id: category,
                files: &stored,
                receipt: Receipt::ToCustomer {
                    service_name: &service.name,
                },
                ..Intake::new(service.id, Channel::Api, lang, &subject, &content)
            },
        )?;
        let atts = tickets::attachments_of(c, created.id)?;
        files::link_ticket_uploads(c, &uploads, &atts)?;
        insert_meta(
            c,
            service.id,
            created.id,
            &TicketMeta {
                client_ip: "",
                type_one: "",
                type_two: "",
                addition: &addition,
            },
        )?;
        let t = Ticket::find(c, ServiceId(service.id), TicketId(created.id))?
            .ok_or(ApiError::NotFound)?;
        Ok((load_view(c, &service, t)?, created.receipt_queued))
    })
    .await?;
    let (view, _) = view;
    ok_content(view_json(&view, &call.service))
}

fn find_ticket(conn: &mut DbConn, service_id: i64, id: &str) -> Result<Ticket, ApiError> {
    Ticket::find_by_public_id(conn, service_id, id.trim())?.ok_or(ApiError::NotFound)
}

/// `GET /{serviceId}/openapi/v1/ticket/{id}.json` (L18).
pub async fn get_ticket(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = req.match_info().get("id").unwrap_or_default().to_string();
    let service = call.service.clone();
    let view = write_api(&call, move |c| {
        let t = find_ticket(c, service.id, &id)?;
        load_view(c, &service, t)
    })
    .await?;
    ok_content(view_json(&view, &call.service))
}

/// Renders and queues the customer mail of an answer (same transaction); returns the entry's
/// Message-ID holder update.
fn queue_answer_mail(
    conn: &mut DbConn,
    service: &Service,
    t: &Ticket,
    entry_id: i64,
    body_html: &str,
    purpose: CustomerMail,
) -> Result<bool, ApiError> {
    let Some(cid) = t.customer_id else {
        return Ok(false);
    };
    let Some(customer) = Customer::find(conn, ServiceId(service.id), CustomerId(cid))? else {
        return Ok(false);
    };
    if customer.email.is_empty() {
        return Ok(false);
    }
    let mail = OutgoingMail {
        to: customer.email.clone(),
        to_name: customer.name.clone(),
        subject: format!("Re: {} [#{}]", t.subject, t.public_id),
        text: html_to_text(body_html),
        html: body_html.to_string(),
        from_name: service.name.clone(),
        ..OutgoingMail::default()
    };
    let (_, message_id) = outbox::enqueue(
        conn,
        &NewMail {
            service_id: Some(service.id),
            ticket_id: Some(t.id),
            purpose: match purpose {
                CustomerMail::Resolve => "resolve".into(),
                CustomerMail::Hold => "hold".into(),
            },
            mail,
        },
    )?;
    diesel::update(ticket_entries::table.find(entry_id))
        .set(ticket_entries::mail_message_id.eq(Some(message_id)))
        .execute(conn)?;
    Ok(true)
}

fn lifecycle_error(e: LifecycleError) -> ApiError {
    match e {
        LifecycleError::Db => ApiError::Internal("ticket lifecycle".into()),
        other => ApiError::BadRequest(crate::i18n::t(Lang::En, other.message_key())),
    }
}

/// `POST /{serviceId}/openapi/v1/ticket/solve.json?id=…&type=…` (L16): answers and changes the
/// status through the lifecycle (`solved` by default, `reply` holds, `closed` completes a
/// solved ticket); the comment is mailed to the customer.
pub async fn solve_ticket(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = call
        .params
        .get("id")
        .or(call.params.get("ticketId"))
        .ok_or_else(|| ApiError::required("id"))?
        .to_string();
    let target = call.params.get("type").unwrap_or("solved").to_string();
    let assignee_name = call.params.get("assigneeName").map(str::to_string);
    let att_ids = call.params.list("attachments");
    if att_ids.len() > MAX_ATTACHMENTS {
        return Err(ApiError::invalid("attachments"));
    }
    let comment = if call.json {
        s_of(&body_object(&call)?, "comment")?
    } else {
        call.params.get("comment").map(str::to_string)
    };
    let body = comment.as_deref().map(sanitize_html).unwrap_or_default();
    let action = match target.as_str() {
        "solved" => Some(Action::Resolve),
        "reply" => Some(Action::Hold),
        "closed" => None,
        "new" | "open" => {
            return Err(ApiError::BadRequest(
                "type new or open cannot be set through solve".into(),
            ));
        }
        _ => return Err(ApiError::invalid("type")),
    };
    if action.is_some() && body.is_empty() {
        return Err(field_required("comment"));
    }
    let service = call.service.clone();
    let oucode_user = SignedCallActor::of(&call);
    let view = write_api(&call, move |c| {
        let t = find_ticket(c, service.id, &id)?;
        let actor = oucode_user.resolve(c, service.id, assignee_name.as_deref())?;
        match action {
            None => lifecycle::complete(c, &t, actor.id).map_err(lifecycle_error)?,
            Some(action) => {
                let mut uploads = Vec::new();
                for a in &att_ids {
                    match files::find(c, service.id, a)? {
                        Some(f) if f.kind == FileKind::Ticket.as_str() && f.pending() => {
                            uploads.push(f)
                        }
                        _ => return Err(ApiError::missing_ref("attachmentId")),
                    }
                }
                let stored: Vec<_> = uploads
                    .iter()
                    .map(|u| crate::help_center::attachments::StoredFile {
                        name: u.file_name.clone(),
                        path: u.stored_path.clone(),
                        mime: u.mime.clone(),
                        size: u.size_bytes,
                    })
                    .collect();
                let done = lifecycle::process(
                    c,
                    &t,
                    &ProcessInput {
                        action,
                        actor: actor.id,
                        body: &body,
                        files: &stored,
                        client_token: None,
                        resolution_category_id: None,
                        priority: None,
                        service_kind: service.kind(),
                    },
                )
                .map_err(lifecycle_error)?;
                let atts = tickets::attachments_of(c, t.id)?;
                files::link_ticket_uploads(c, &uploads, &atts)?;
                if let Some(mail) = done.mail {
                    queue_answer_mail(c, &service, &t, done.entry_id, &body, mail)?;
                }
            }
        }
        let t =
            Ticket::find(c, ServiceId(service.id), TicketId(t.id))?.ok_or(ApiError::NotFound)?;
        load_view(c, &service, t)
    })
    .await?;
    ok_content(view_json(&view, &call.service))
}

/// Who acts for a signed admin call.
struct SignedCallActor {
    oucode: Option<String>,
}

impl SignedCallActor {
    fn of(call: &SignedCall) -> SignedCallActor {
        SignedCallActor {
            oucode: call.oucode.clone(),
        }
    }

    /// The `assigneeName` member of the service, else `OUCODE`, else the organization's first
    /// administrator.
    fn resolve(
        &self,
        conn: &mut DbConn,
        service_id: i64,
        assignee_name: Option<&str>,
    ) -> Result<User, ApiError> {
        if let Some(name) = assignee_name {
            let found: Option<User> = service_members::table
                .inner_join(users::table)
                .filter(service_members::service_id.eq(service_id))
                .filter(users::name.eq(name))
                .filter(users::active.eq(true))
                .select(User::as_select())
                .first(conn)
                .optional()?;
            if let Some(u) = found {
                return Ok(u);
            }
        }
        if let Some(code) = &self.oucode
            && let Some(u) = User::find_by_login(conn, code)?
            && u.active
        {
            return Ok(u);
        }
        users::table
            .filter(users::is_org_admin.eq(true))
            .filter(users::active.eq(true))
            .order(users::id.asc())
            .select(User::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| ApiError::Internal("no active organization administrator".into()))
    }
}

/// `POST /{serviceId}/openapi/v1/ticket/comment.json?id=…` (L17): a customer re-inquiry.
pub async fn comment_ticket(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = call
        .params
        .get("id")
        .ok_or_else(|| ApiError::required("id"))?
        .to_string();
    let (comment, ids) = signed_v1::followup_input(&call)?;
    let service = call.service.clone();
    let lang = lang_of(&service);
    let stored = comment.clone();
    let (t, created, atts, name) = write_api(&call, move |c| {
        let t = find_ticket(c, service.id, &id)?;
        let (created, atts) = signed_v1::add_followup(c, service.id, &t, &stored, &ids, lang)?;
        let name = match t.customer_id {
            Some(cid) => Customer::find(c, ServiceId(service.id), CustomerId(cid))?.map(|c| c.name),
            None => None,
        };
        Ok((t, created, atts, name))
    })
    .await?;
    let entry_id: i64 = {
        let tid = t.id;
        call.state
            .db
            .read(move |c| {
                Ok(ticket_entries::table
                    .filter(ticket_entries::ticket_id.eq(tid))
                    .order(ticket_entries::id.desc())
                    .select(ticket_entries::id)
                    .first(c)?)
            })
            .await?
    };
    ok_content(json!({
        "contentId": entry_id,
        "ticketId": t.public_id,
        "eventId": null,
        "type": "enduser",
        "subject": null,
        "content": comment,
        "active": true,
        "userId": null,
        "userName": name.filter(|n| !n.is_empty()),
        "groupId": null,
        "groupName": null,
        "createdDt": millis(created),
        "attachments": atts,
    }))
}

/// `GET /{serviceId}/openapi/v1/ticket/list.json` (L19) and
/// `GET /{serviceId}/openapi/v1/ticket/{usercode}/list.json` (L20).
pub async fn list_tickets(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let path_usercode = req.match_info().get("usercode").map(str::to_string);
    let p = call.params.clone();
    let paging = p.paging(10, MAX_PAGE_SIZE)?;
    let tz = tz_of(&call.service);
    let parse_dt = |name: &str| -> Result<Option<chrono::NaiveDateTime>, ApiError> {
        match p.get(name) {
            None => Ok(None),
            Some(s) => parse_legacy_dt(tz, s)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(name)),
        }
    };
    let start = parse_dt("startDt")?;
    let end = parse_dt("endDt")?;
    let category_ids = p.int_list("categoryId")?;
    let statuses = p.list("status");
    if statuses.iter().any(|s| tickets::Status::parse(s).is_none()) {
        return Err(ApiError::invalid("status"));
    }
    let ticket_id = p.get("ticketId").map(str::to_string);
    let subject = p.get("subject").map(str::to_string);
    let usercode = path_usercode.or_else(|| p.get("usercode").map(str::to_string));
    let (username, email) = if req.match_info().get("usercode").is_some() {
        (None, None)
    } else {
        (
            p.get("username").map(str::to_string),
            p.get("email").map(crate::customers::normalize_email),
        )
    };
    let sort = parse_sort(p.get("sort"), &["createdDt", "updatedDt"], "updatedDt:desc");
    let service = call.service.clone();
    let (rows, total, meta, names) = read_api(&call, move |c| {
        let customer_filter = usercode.is_some() || username.is_some() || email.is_some();
        let customer_ids: Vec<i64> = if customer_filter {
            let mut q = cust::table
                .filter(cust::service_id.eq(service.id))
                .select(cust::id)
                .into_boxed();
            if let Some(u) = &usercode {
                q = q.filter(cust::usercode.eq(u.clone()));
            }
            if let Some(n) = &username {
                q = q.filter(cust::name.eq(n.clone()));
            }
            if let Some(e) = &email {
                q = q.filter(cust::email.eq(e.clone()));
            }
            q.limit(10_000).load(c)?
        } else {
            Vec::new()
        };
        let base = || {
            let mut q = tk::table.filter(tk::service_id.eq(service.id)).into_boxed();
            if customer_filter {
                q = q.filter(tk::customer_id.eq_any(customer_ids.clone()));
            }
            if let Some(s) = start {
                q = q.filter(tk::created_at.ge(s));
            }
            if let Some(e) = end {
                q = q.filter(tk::created_at.le(e));
            }
            if !category_ids.is_empty() {
                q = q.filter(tk::category_id.eq_any(category_ids.clone()));
            }
            if !statuses.is_empty() {
                q = q.filter(tk::status.eq_any(statuses.clone()));
            }
            if let Some(id) = &ticket_id {
                q = q.filter(tk::public_id.eq(id.clone()));
            }
            if let Some(s) = &subject {
                q = q.filter(lower(tk::subject).like(contains_pattern(s)).escape('\\'));
            }
            q
        };
        let total: i64 = base().count().get_result(c)?;
        let mut q = base();
        for k in &sort {
            q = match (k.field.as_str(), k.desc) {
                ("createdDt", true) => q.then_order_by(tk::created_at.desc()),
                ("createdDt", false) => q.then_order_by(tk::created_at.asc()),
                ("updatedDt", true) => q.then_order_by(tk::updated_at.desc()),
                _ => q.then_order_by(tk::updated_at.asc()),
            };
        }
        let rows: Vec<Ticket> = q
            .then_order_by(tk::id.desc())
            .offset(paging.offset())
            .limit(paging.size)
            .select(Ticket::as_select())
            .load(c)?;
        let ids: Vec<i64> = rows.iter().map(|t| t.id).collect();
        let meta: HashMap<i64, String> = api_ticket_meta::table
            .filter(api_ticket_meta::ticket_id.eq_any(ids))
            .select((api_ticket_meta::ticket_id, api_ticket_meta::addition))
            .load::<(i64, String)>(c)?
            .into_iter()
            .collect();
        let tree = Tree::load(c, service.id, CategoryTree::Intake)?;
        let lang = lang_of(&service);
        let names: HashMap<i64, String> = rows
            .iter()
            .filter_map(|t| t.category_id)
            .filter_map(|id| {
                tree.get(id)
                    .map(|n| (id, n.display_name(lang, lang).to_string()))
            })
            .collect();
        Ok((rows, total, meta, names))
    })
    .await?;
    let code = call.service.code.clone();
    let items = rows
        .iter()
        .map(|t| {
            json!({
                "ticketId": t.public_id,
                "serviceId": code,
                "subject": t.subject,
                "categoryId": t.category_id,
                "categoryName": t.category_id.and_then(|id| names.get(&id).cloned()),
                "status": t.status,
                "createdDt": millis(t.created_at),
                "updatedDt": millis(t.updated_at),
                "addition": meta.get(&t.id).cloned().unwrap_or_default(),
            })
        })
        .collect();
    ok_page(items, total, paging)
}

/// `POST /{serviceId}/openapi/v1/attachments/ticket/upload.json` (L21).
pub async fn legacy_upload(req: HttpRequest, payload: web::Payload) -> ApiResult {
    signed_v1::upload_ticket_attachment(req, payload).await
}

/// `GET /{serviceId}/openapi/v1/attachments/ticket/{id}` (L22, signed).
pub async fn legacy_download(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = req.match_info().get("id").unwrap_or_default().to_string();
    let sid = call.service.id;
    let file = read_api(&call, move |c| Ok(files::find(c, sid, &id)?))
        .await?
        .filter(|f| f.kind == FileKind::Ticket.as_str())
        .ok_or(ApiError::NotFound)?;
    let download = call
        .params
        .get("type")
        .is_some_and(|t| t.eq_ignore_ascii_case("download"));
    files::serve(&call.state, file, download).await
}

/// `DELETE /{serviceId}/openapi/v1/attachments/ticket/{id}.json` (L23): only uploads no
/// ticket references yet.
pub async fn legacy_delete_upload(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = req.match_info().get("id").unwrap_or_default().to_string();
    let sid = call.service.id;
    let file = write_api(&call, move |c| {
        let f = files::find(c, sid, &id)?
            .filter(|f| f.kind == FileKind::Ticket.as_str())
            .ok_or(ApiError::NotFound)?;
        if !f.pending() {
            return Err(ApiError::BadRequest(
                "The attachment belongs to a ticket".into(),
            ));
        }
        diesel::delete(api_files::table.find(&f.public_id)).execute(c)?;
        Ok(f)
    })
    .await?;
    crate::help_center::attachments::remove_files_later(
        &call.state,
        vec![file.stored_path.clone()],
    )
    .await;
    ok_content(file.ticket_json())
}

// ---------------------------------------------------------------------------------------------
// Intake types (single level)
// ---------------------------------------------------------------------------------------------

/// The category-name rule of L24: 1–50 characters, no punctuation except `_` and `-`.
pub fn legacy_name_ok(name: &str) -> bool {
    let n = name.trim();
    !n.is_empty()
        && n.chars().count() <= cats::MAX_NAME_CHARS
        && !n.chars().any(|c| c != '_' && c != '-' && is_punctuation(c))
}

/// Unicode punctuation (the common blocks): ASCII punctuation, Latin-1 punctuation, general
/// punctuation, CJK punctuation and full-width forms.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c as u32,
            0xA1 | 0xA7 | 0xAB | 0xB6 | 0xB7 | 0xBB | 0xBF
            | 0x2010..=0x2027 | 0x2030..=0x205E | 0x3001..=0x3003 | 0x3008..=0x3011
            | 0x3014..=0x301F | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF3D)
}

fn category_json(n: &cats::Node, service: &Service) -> Value {
    let lang = lang_of(service);
    json!({
        "categoryId": n.id,
        "serviceId": service.code,
        "parent": 0,
        "name": n.display_name(lang, lang),
        "level": 1,
        "path": "\\",
        "orderNo": n.position,
        "createdDt": millis(n.created_at),
        "updatedDt": millis(n.updated_at),
    })
}

fn legacy_category_input(call: &SignedCall) -> Result<(String, Option<i32>), ApiError> {
    let obj = body_object(call)?;
    let name = s_of(&obj, "name")?.ok_or_else(|| field_required("name"))?;
    if !legacy_name_ok(&name) {
        return Err(field_error("name"));
    }
    let order = match i_of(&obj, "orderNo")? {
        Some(o) => Some(i32::try_from(o).map_err(|_| field_error("orderNo"))?),
        None => None,
    };
    Ok((name, order))
}

fn names_for(service: &Service, name: &str) -> NamesInput {
    NamesInput {
        names: vec![(lang_of(service), name.to_string())],
    }
}

fn set_position(conn: &mut DbConn, id: i64, order: Option<i32>) -> QueryResult<()> {
    if let Some(o) = order {
        diesel::update(categories::table.find(id))
            .set(categories::position.eq(o.max(0)))
            .execute(conn)?;
    }
    Ok(())
}

/// A name in use among the top-level intake types → `9007`; other form errors → `400`.
fn category_form_error(errors: &Violations) -> ApiError {
    if errors.iter().any(|v| v.key == "category.name_taken") {
        ApiError::duplicate("name")
    } else {
        field_error("name")
    }
}

/// `POST /{serviceId}/openapi/v1/ticket/category/add.json` (L24).
pub async fn add_category(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let (name, order) = legacy_category_input(&call)?;
    let service = call.service.clone();
    let node = write_api(&call, move |c| {
        let input = names_for(&service, &name);
        let id = match cats::add_node(c, &service, CategoryTree::Intake, None, &input)
            .map_err(ApiError::from)?
        {
            Ok(id) => id,
            Err(errors) => return Err(category_form_error(&errors)),
        };
        set_position(c, id, order)?;
        cats::find(c, service.id, CategoryTree::Intake, id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    ok_content(category_json(&node, &call.service))
}

fn category_id_of(req: &HttpRequest) -> Result<i64, ApiError> {
    req.match_info()
        .get("category_id")
        .and_then(|s| s.trim().parse().ok())
        .ok_or(ApiError::NotFound)
}

/// `GET /{serviceId}/openapi/v1/ticket/category/{categoryId}.json` (L25).
pub async fn get_category(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = category_id_of(&req)?;
    let sid = call.service.id;
    let node = read_api(&call, move |c| {
        cats::find(c, sid, CategoryTree::Intake, id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    ok_content(category_json(&node, &call.service))
}

/// `PUT /{serviceId}/openapi/v1/ticket/category/{categoryId}.json` (L26).
pub async fn update_category(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = category_id_of(&req)?;
    let (name, order) = legacy_category_input(&call)?;
    let service = call.service.clone();
    let node = write_api(&call, move |c| {
        cats::find(c, service.id, CategoryTree::Intake, id)?.ok_or(ApiError::NotFound)?;
        let input = names_for(&service, &name);
        if let Err(errors) = cats::rename_node(c, &service, CategoryTree::Intake, id, &input)
            .map_err(ApiError::from)?
        {
            return Err(category_form_error(&errors));
        }
        set_position(c, id, order)?;
        cats::find(c, service.id, CategoryTree::Intake, id)?.ok_or(ApiError::NotFound)
    })
    .await?;
    let lang = lang_of(&call.service);
    ok_content(json!({
        "categoryId": node.id,
        "serviceId": call.service.code,
        "name": node.display_name(lang, lang),
        "orderNo": node.position,
    }))
}

/// `DELETE /{serviceId}/openapi/v1/ticket/category/{categoryId}.json` (L27).
pub async fn delete_category(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = category_id_of(&req)?;
    let sid = call.service.id;
    write_api(&call, move |c| {
        cats::delete_node(c, sid, CategoryTree::Intake, id, None).map_err(ApiError::from)?;
        Ok(())
    })
    .await?;
    ok_null()
}

/// `GET /{serviceId}/openapi/v1/ticket/category/list.json` (L28): the top-level intake types by
/// `orderNo`, then name.
pub async fn list_categories(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let sid = call.service.id;
    let mut nodes = read_api(&call, move |c| {
        Ok(cats::children_of(c, sid, CategoryTree::Intake, None)?)
    })
    .await?;
    let lang = lang_of(&call.service);
    nodes.sort_by(|a, b| {
        a.position
            .cmp(&b.position)
            .then_with(|| a.display_name(lang, lang).cmp(b.display_name(lang, lang)))
    });
    ok_contents(
        nodes
            .iter()
            .map(|n| category_json(n, &call.service))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Agents
// ---------------------------------------------------------------------------------------------

/// The IAM-style UUID of a user: stable, derived from the installation secret and the user's
/// key (version-4 layout), so it is unguessable and needs no storage.
pub fn user_uuid(secret: &crate::crypto::SecretKey, user_id: i64) -> String {
    let mac = super::signing::sign(
        secret.cookie_key(),
        format!("user-uuid:{user_id}").as_bytes(),
    );
    let mut bytes =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, mac).unwrap_or_default();
    bytes.resize(16, 0);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex::encode(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn role_code(role: &str) -> &'static str {
    if role == Role::Admin.as_str() {
        "ROLE_FRONT_ADMIN"
    } else {
        "ROLE_FRONT_AGENT"
    }
}

fn parse_role(s: &str) -> Option<Role> {
    match s.trim() {
        "ROLE_FRONT_ADMIN" => Some(Role::Admin),
        "ROLE_FRONT_AGENT" => Some(Role::Agent),
        _ => None,
    }
}

fn agent_json(secret: &crate::crypto::SecretKey, u: &User, m: &Member) -> Value {
    json!({
        "userId": u.id,
        "usercode": u.login,
        "uuid": user_uuid(secret, u.id),
        "username": u.name,
        "role": role_code(&m.role),
    })
}

/// `GET /{serviceId}/openapi/v1/users.json` (P23).
pub async fn list_agents(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let paging = call.params.paging(10, MAX_PAGE_SIZE)?;
    let role = match call.params.get("role") {
        Some(r) => Some(parse_role(r).ok_or_else(|| ApiError::invalid("role"))?),
        None => None,
    };
    let name = call.params.get("name").map(str::to_string);
    let sid = call.service.id;
    let (rows, total) = read_api(&call, move |c| {
        let base = || {
            let mut q = service_members::table
                .inner_join(users::table)
                .filter(service_members::service_id.eq(sid))
                .into_boxed();
            if let Some(r) = role {
                q = q.filter(service_members::role.eq(r.as_str()));
            }
            if let Some(n) = &name {
                q = q.filter(lower(users::name).like(contains_pattern(n)).escape('\\'));
            }
            q
        };
        let total: i64 = base().count().get_result(c)?;
        let rows: Vec<(User, Member)> = base()
            .order((users::name.asc(), users::id.asc()))
            .offset(paging.offset())
            .limit(paging.size)
            .select((User::as_select(), Member::as_select()))
            .load(c)?;
        Ok((rows, total))
    })
    .await?;
    let secret = &call.state.secret;
    ok_page(
        rows.iter().map(|(u, m)| agent_json(secret, u, m)).collect(),
        total,
        paging,
    )
}

fn user_id_of(req: &HttpRequest) -> Result<i64, ApiError> {
    req.match_info()
        .get("id")
        .and_then(|s| s.trim().parse().ok())
        .ok_or(ApiError::NotFound)
}

fn load_agent(conn: &mut DbConn, sid: i64, uid: i64) -> Result<(User, Member), ApiError> {
    let m = Member::find(conn, ServiceId(sid), UserId(uid))?.ok_or(ApiError::NotFound)?;
    let u = User::find(conn, UserId(uid))?.ok_or(ApiError::NotFound)?;
    Ok((u, m))
}

/// `GET /{serviceId}/openapi/v1/users/{id}.json` (P24).
pub async fn get_agent(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let uid = user_id_of(&req)?;
    let sid = call.service.id;
    let (u, m) = read_api(&call, move |c| load_agent(c, sid, uid)).await?;
    ok_content(agent_json(&call.state.secret, &u, &m))
}

/// A parameter from the JSON body, a form field or the query (C-31).
fn param_anywhere(call: &SignedCall, name: &str) -> Result<Option<String>, ApiError> {
    if call.json {
        let obj = body_object(call)?;
        if let Some(v) = s_of(&obj, name)? {
            return Ok(Some(v));
        }
    }
    Ok(call.params.get(name).map(str::to_string))
}

fn audit_change(
    conn: &mut DbConn,
    service: &Service,
    actor: &User,
    target: &User,
    op: &str,
    before: String,
    after: String,
) -> QueryResult<()> {
    crate::org::audit::record(
        conn,
        crate::org::audit::AuditRecord {
            service: Some((service.id, &service.code)),
            actor,
            target,
            operation: op,
            before,
            after,
        },
    )
}

/// `POST /{serviceId}/openapi/v1/adduser.json` (P25): `id` is the member's UUID.
pub async fn add_agent(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let uuid = param_anywhere(&call, "id")?.ok_or_else(|| ApiError::required("id"))?;
    let role = param_anywhere(&call, "role")?.ok_or_else(|| ApiError::required("role"))?;
    let role = parse_role(&role).ok_or_else(|| ApiError::invalid("role"))?;
    let service = call.service.clone();
    let secret = call.state.secret.clone();
    let actor = SignedCallActor::of(&call);
    let (u, m) = write_api(&call, move |c| {
        let all: Vec<User> = users::table
            .filter(users::active.eq(true))
            .select(User::as_select())
            .load(c)?;
        let uuid = uuid.to_ascii_lowercase();
        let user = all
            .into_iter()
            .find(|u| user_uuid(&secret, u.id) == uuid)
            .ok_or_else(|| ApiError::missing_ref("id"))?;
        if Member::find(c, ServiceId(service.id), UserId(user.id))?.is_some() {
            return Err(ApiError::duplicate("id"));
        }
        let perms = match role {
            Role::Admin => Permissions::admin_defaults(),
            Role::Agent => Permissions::agent_defaults(),
        };
        Member::add(c, service.id, user.id, role, &perms)?;
        let who = actor.resolve(c, service.id, None)?;
        audit_change(
            c,
            &service,
            &who,
            &user,
            "agent_added",
            "none".into(),
            role.as_str().into(),
        )?;
        load_agent(c, service.id, user.id)
    })
    .await?;
    ok_content(agent_json(&call.state.secret, &u, &m))
}

/// `PUT /{serviceId}/openapi/v1/users/{id}.json` (P26).
pub async fn update_agent(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let uid = user_id_of(&req)?;
    let role = param_anywhere(&call, "role")?.ok_or_else(|| ApiError::required("role"))?;
    let role = parse_role(&role).ok_or_else(|| ApiError::invalid("role"))?;
    let service = call.service.clone();
    let actor = SignedCallActor::of(&call);
    let (u, m) = write_api(&call, move |c| {
        let (user, member) = load_agent(c, service.id, uid)?;
        if member.role() == Role::Admin
            && role == Role::Agent
            && Member::count_admins(c, service.id)? <= 1
        {
            return Err(ApiError::BadRequest(
                "The last administrator cannot be changed".into(),
            ));
        }
        if member.role() != role {
            Member::update(c, member.id, role, &member.permissions())?;
            let who = actor.resolve(c, service.id, None)?;
            audit_change(
                c,
                &service,
                &who,
                &user,
                "agent_role_changed",
                member.role.clone(),
                role.as_str().into(),
            )?;
        }
        load_agent(c, service.id, uid)
    })
    .await?;
    ok_content(agent_json(&call.state.secret, &u, &m))
}

/// `DELETE /{serviceId}/openapi/v1/users/{id}.json` (P27).
pub async fn remove_agent(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let uid = user_id_of(&req)?;
    let service = call.service.clone();
    let actor = SignedCallActor::of(&call);
    write_api(&call, move |c| {
        let (user, member) = load_agent(c, service.id, uid)?;
        if member.role() == Role::Admin && Member::count_admins(c, service.id)? <= 1 {
            return Err(ApiError::BadRequest(
                "The last administrator cannot be removed".into(),
            ));
        }
        Member::remove(c, service.id, uid)?;
        let who = actor.resolve(c, service.id, None)?;
        audit_change(
            c,
            &service,
            &who,
            &user,
            "agent_removed",
            member.role.clone(),
            "none".into(),
        )?;
        Ok(())
    })
    .await?;
    ok_null()
}
