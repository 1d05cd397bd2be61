//! P37 `POST /{serviceId}/api/v2/dooray/hook` (API.md §7.11): the outgoing webhook of a
//! Dooray! project, message format "Dooray!", events "task status changed"
//! (`postWorkflowChanged`) and "task comment created" (`postCommentCreated`).
//!
//! The body is Dooray's JSON: `webhookType`/`hookEventType`, `tenant.id`, `project.id`,
//! `source.member` (who acted), `post` (the task: `id`, `workflowClass`, `workflow.name`, …)
//! and, for comments, `comment` (`id`, `body.mimeType`, `body.content`). OpenContact:
//!
//! - refuses (403) a payload whose `tenant.id` is not a Dooray! organization registered for the
//!   service, or whose `project.id` is not one of that organization's projects;
//! - matches `post.id` to the tickets transferred as that task; a workflow change moves the
//!   ticket's current task to "Dooray in progress" (`working`), "Dooray answered" (`closed`)
//!   or back to "Dooray transfer completed" (`registered`, `backlog`) through
//!   [`lifecycle::dooray_progress`]; a comment is added to the ticket's Dooray conversation
//!   (once: Dooray's comment ID is remembered, so the echo of a comment sent from OpenContact
//!   is not doubled);
//! - ignores other events and tasks it does not know;
//! - answers at once with HTTP 200, the standard envelope and `result: null`.
//!
//! The body is read up to [`MAX_HOOK_BYTES`]; a larger body or one that is not a JSON object
//! is answered with the envelope (`400`), never with a server error.

use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use serde_json::Value;

use super::client::id_of;
use super::model::{self, Org, Project, Task, WorkflowClass, body_to_html, is_blank_html};
use crate::AppState;
use crate::db::DbConn;
use crate::db::refuse;
use crate::db::types::{ServiceId, TicketId};
use crate::error::AppError;
use crate::openapi::envelope::{ApiError, ApiResult, ok_null};
use crate::tenancy::service::Service;
use crate::tickets::lifecycle::{self, LifecycleError, TransferState};
use crate::tickets::{Ticket, record_event};

/// Largest webhook body read.
pub const MAX_HOOK_BYTES: usize = 512 * 1024;
/// The message of a body that is not a JSON object.
pub const MALFORMED: &str = "Malformed JSON body";
/// The message of a body over [`MAX_HOOK_BYTES`].
pub const TOO_LARGE: &str = "Payload too large";
/// The message of a payload from an unregistered tenant or project.
pub const UNREGISTERED: &str = "Unregistered Dooray! tenant or project";

/// The events OpenContact acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    WorkflowChanged,
    CommentCreated,
    Other,
}

fn event_of(v: &Value) -> Event {
    let name = v["hookEventType"]
        .as_str()
        .or_else(|| v["webhookType"].as_str())
        .unwrap_or("");
    match name {
        "postWorkflowChanged" => Event::WorkflowChanged,
        "postCommentCreated" => Event::CommentCreated,
        _ => Event::Other,
    }
}

/// The sub-state a workflow class moves the ticket to.
fn state_of(class: WorkflowClass) -> TransferState {
    match class {
        WorkflowClass::Closed => TransferState::DoorayAnswered,
        WorkflowClass::Working => TransferState::DoorayInProgress,
        WorkflowClass::Registered | WorkflowClass::Backlog => TransferState::DoorayTransferred,
    }
}

async fn read_body(mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::BadRequest(MALFORMED.into()))?;
        if buf.len() + chunk.len() > MAX_HOOK_BYTES {
            return Err(ApiError::BadRequest(TOO_LARGE.into()));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// `POST /{serviceId}/api/v2/dooray/hook` (P37).
pub async fn receive(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("app state missing".into()))?;
    let code = req
        .match_info()
        .get("service_id")
        .unwrap_or_default()
        .to_string();
    let body = read_body(payload).await?;
    let v: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::BadRequest(MALFORMED.into()))?;
    if !v.is_object() {
        return Err(ApiError::BadRequest(MALFORMED.into()));
    }
    let service = state
        .db
        .read(move |c| Ok(Service::find_by_code(c, &code)?))
        .await?
        .filter(|s| s.enabled)
        .ok_or(ApiError::NotFound)?;
    let tenant = id_of(&v["tenant"]["id"]).ok_or_else(forbidden)?;
    let project = id_of(&v["project"]["id"]).ok_or_else(forbidden)?;
    let sid = service.id;
    state
        .db
        .write_or_refuse(move |c| {
            let Some(org) = Org::by_tenant(c, sid, &tenant)? else {
                return refuse(forbidden());
            };
            if Project::by_ref(c, org.id, &project)?.is_none() {
                return refuse(forbidden());
            }
            let Some(post) = id_of(&v["post"]["id"]) else {
                return Ok(());
            };
            let tasks: Vec<Task> = Task::by_post(c, sid, &post)?
                .into_iter()
                .filter(|t| t.tenant_ref == tenant && t.project_ref == project)
                .collect();
            match event_of(&v) {
                Event::WorkflowChanged => workflow_changed(c, sid, &tasks, &v)?,
                Event::CommentCreated => comment_created(c, &tasks, &v)?,
                Event::Other => {}
            }
            Ok(())
        })
        .await??;
    ok_null()
}

fn forbidden() -> ApiError {
    ApiError::Forbidden(UNREGISTERED.into())
}

fn workflow_changed(c: &mut DbConn, sid: i64, tasks: &[Task], v: &Value) -> Result<(), AppError> {
    let class_text = v["post"]["workflowClass"].as_str().unwrap_or("");
    let Some(class) = WorkflowClass::parse(class_text) else {
        return Ok(());
    };
    let name: String = v["post"]["workflow"]["name"]
        .as_str()
        .unwrap_or("")
        .chars()
        .take(model::MAX_NAME)
        .collect();
    for task in tasks {
        task.set_workflow(c, class.as_str(), &name)?;
        if !task.active {
            continue;
        }
        let Some(ticket) = Ticket::find(c, ServiceId(sid), TicketId(task.ticket_id))? else {
            continue;
        };
        match lifecycle::dooray_progress(c, &ticket, state_of(class)) {
            Ok(_) => {}
            Err(LifecycleError::Db) => {
                return Err(AppError::Internal("Dooray! hook: lifecycle".into()));
            }
            Err(_) => {}
        }
    }
    Ok(())
}

fn comment_created(c: &mut DbConn, tasks: &[Task], v: &Value) -> Result<(), AppError> {
    let comment = &v["comment"];
    let comment_ref: String = id_of(&comment["id"])
        .unwrap_or_default()
        .chars()
        .take(model::MAX_REF)
        .collect();
    let (mime, content) = match &comment["body"] {
        Value::Object(b) => (
            b.get("mimeType")
                .and_then(Value::as_str)
                .unwrap_or("text/x-markdown"),
            b.get("content").and_then(Value::as_str).unwrap_or(""),
        ),
        Value::String(s) => ("text/x-markdown", s.as_str()),
        _ => ("text/x-markdown", comment["content"].as_str().unwrap_or("")),
    };
    let content: String = content.chars().take(model::MAX_BODY).collect();
    let body = body_to_html(mime, &content);
    if is_blank_html(&body) {
        return Ok(());
    }
    let author = v["source"]["member"]["name"]
        .as_str()
        .or_else(|| comment["creator"]["member"]["name"].as_str())
        .unwrap_or("Dooray!");
    for task in tasks {
        if model::add_comment(c, task.id, &comment_ref, false, None, author, &body)? {
            let author: String = author.chars().take(model::MAX_NAME).collect();
            record_event(c, task.ticket_id, "dooray_comment_received", None, &author)?;
        }
    }
    Ok(())
}
