//! Transfer to Dooray! and the "Dooray comment" button (SPEC §5.8), for members holding the
//! ticket permission ([`TicketStaff`]):
//!
//! - `GET|POST /{service_id}/console/tickets/{public_id}/dooray` — the dialog: a registered
//!   project (grouped by organization), the task subject and body pre-filled from the
//!   service's templates, tags and assignees as Dooray! IDs, and the priority. Posting creates
//!   the task through Dooray's API first; only when Dooray! accepted it does one transaction
//!   record the task and mark the ticket "Dooray transfer completed" through
//!   [`lifecycle::dooray_transferred`]. When Dooray! fails (an error status, a refusal, a
//!   timeout) the dialog is shown again with the reason and nothing is changed. The form's
//!   one-time token makes a repeated submission land on the task already created.
//! - `POST /{service_id}/console/tickets/{public_id}/dooray/comment` — the editor text of the
//!   ticket page (multipart, like the processing form) becomes a comment of the current task,
//!   while the task is transferred or in progress.
//!
//! The task and comments are registered as the agent's Dooray! member (the agent's user key
//! for the organization) when the agent is a member of the project, otherwise as the
//! project's default registrant (SPEC §3.14).

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use super::client::{Api, Failure, NewPost};
use super::model::{
    self, MAX_BODY, MAX_IDS, MAX_SUBJECT, NewTask, Org, Project, Settings, Task, is_blank_html,
    parse_ids,
};
use crate::agents::form::Pairs;
use crate::common::text::sanitize_html;
use crate::db::schema::dooray_tasks;
use crate::db::types::{ServiceId, TicketId};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::tickets::detail::access::TicketStaff;
use crate::tickets::detail::form::{Body, Submitted, read_multipart};
use crate::tickets::detail::view::{self, PageState, load_ticket, ticket_href};
use crate::tickets::lifecycle::{self, LifecycleError, TransferState};
use crate::tickets::substitution::{self, Context, Mode};
use crate::tickets::{Priority, Status, Ticket, record_event};
use crate::web::{self as w, Flash, FormErrors, PageCtx};

/// Dooray's task priorities, highest first.
const PRIORITIES: [&str; 6] = ["highest", "high", "normal", "low", "lowest", "none"];

/// A choice: value, label, chosen.
pub type Choice = (String, String, bool);

/// The projects of one organization in the dialog.
#[derive(Debug, Clone)]
pub struct ProjectGroup {
    /// Organization name.
    pub org: String,
    /// Its projects.
    pub projects: Vec<Choice>,
}

/// The transfer dialog.
#[derive(Template)]
#[template(path = "dooray/transfer.html")]
pub struct TransferPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// The ticket's page.
    pub ticket_href: String,
    /// Its public ID.
    pub public_id: String,
    /// Its subject.
    pub ticket_subject: String,
    /// Where the form posts.
    pub action: String,
    /// Whether the form may be submitted (no refusal).
    pub open: bool,
    /// Projects by organization.
    pub groups: Vec<ProjectGroup>,
    /// Task subject.
    pub subject: String,
    /// Task body (sanitised HTML).
    pub body: String,
    /// Tag IDs as typed.
    pub tags: String,
    /// Assignee member IDs as typed.
    pub assignees: String,
    /// Priorities.
    pub priorities: Vec<Choice>,
    /// The ticket version the form was rendered at.
    pub version: i64,
    /// One-time token.
    pub client_token: String,
    /// Errors.
    pub errors: FormErrors,
    /// A refusal or Dooray! failure.
    pub alert: String,
    /// The substitution-code catalogue (for administrators editing templates).
    pub codes_href: String,
}

struct Loaded {
    ticket: Ticket,
    settings: Settings,
    projects: Vec<(Org, Project)>,
    subject: String,
    body: String,
}

fn dooray_priority(p: Priority) -> &'static str {
    match p {
        Priority::Urgent => "highest",
        Priority::High => "high",
        Priority::Normal => "normal",
        Priority::Low => "low",
    }
}

async fn load(s: &TicketStaff, pid: &str) -> Result<Loaded, AppError> {
    let info = s.info();
    let pid = pid.to_string();
    let secret = s.viewer().state.secret.clone();
    let base_url = s.viewer().state.config.base_url.clone();
    let lang = s.viewer().lang;
    let loaded = s
        .viewer()
        .state
        .db
        .read(move |c| {
            let ticket = load_ticket(c, info.service.id, &pid)?;
            let settings = Settings::load(c, info.service.id)?;
            let projects = Project::of_service(c, info.service.id)?;
            let ctx = Context::for_ticket(c, &secret, &base_url, &info.service, &ticket, lang)?;
            let subject: String =
                substitution::render(&settings.subject_template, &ctx, Mode::Text)
                    .trim()
                    .chars()
                    .take(MAX_SUBJECT)
                    .collect();
            let body = sanitize_html(&substitution::render(
                &settings.body_template,
                &ctx,
                Mode::Html,
            ));
            Ok(Loaded {
                ticket,
                settings,
                projects,
                subject,
                body,
            })
        })
        .await?;
    if !loaded.settings.transfer_open() || loaded.projects.is_empty() {
        return Err(AppError::Forbidden("dooray.error.unavailable"));
    }
    Ok(loaded)
}

/// Why the ticket cannot be transferred to Dooray! now, if it cannot.
fn refusal(t: &Ticket) -> Option<&'static str> {
    if t.is_spam {
        Some(LifecycleError::InSpam.message_key())
    } else if t.status() == Status::Closed {
        Some(LifecycleError::Closed.message_key())
    } else if t.transfer_state() == TransferState::IssueInProgress {
        Some(LifecycleError::AlreadyTransferred.message_key())
    } else if t.transfer_state().dooray_open() {
        Some("dooray.error.already_open")
    } else {
        None
    }
}

struct Values {
    project: Option<i64>,
    subject: String,
    body: String,
    tags: String,
    assignees: String,
    priority: String,
    version: i64,
    client_token: String,
}

fn render(
    s: &TicketStaff,
    l: &Loaded,
    v: Values,
    errors: FormErrors,
    alert: String,
) -> TransferPage {
    let lang = s.viewer().lang;
    let t = &l.ticket;
    let href = ticket_href(&s.service.code, &t.public_id);
    let mut groups: Vec<ProjectGroup> = Vec::new();
    let only = l.projects.len() == 1;
    for (org, p) in &l.projects {
        let choice = (
            p.id.to_string(),
            p.name.clone(),
            v.project == Some(p.id) || only,
        );
        match groups.last_mut() {
            Some(g) if g.org == org.name => g.projects.push(choice),
            _ => groups.push(ProjectGroup {
                org: org.name.clone(),
                projects: vec![choice],
            }),
        }
    }
    TransferPage {
        ctx: PageCtx::console(s, "dooray.transfer.title"),
        action: format!("{href}/dooray"),
        ticket_href: href,
        public_id: t.public_id.clone(),
        ticket_subject: t.subject.clone(),
        open: refusal(t).is_none(),
        groups,
        subject: v.subject,
        body: v.body,
        tags: v.tags,
        assignees: v.assignees,
        priorities: PRIORITIES
            .iter()
            .map(|p| {
                (
                    (*p).to_string(),
                    i18n::t(lang, &format!("dooray.priority.{p}")),
                    v.priority == *p,
                )
            })
            .collect(),
        version: v.version,
        client_token: v.client_token,
        errors,
        alert,
        codes_href: format!("/{}/console/settings/substitution-codes", s.service.code),
    }
}

/// `GET /{service_id}/console/tickets/{public_id}/dooray`
pub async fn transfer_form(
    s: TicketStaff,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let l = load(&s, &pid).await?;
    let lang = s.viewer().lang;
    let alert = refusal(&l.ticket)
        .map(|k| i18n::t(lang, k))
        .unwrap_or_default();
    let v = Values {
        project: None,
        subject: l.subject.clone(),
        body: l.body.clone(),
        tags: String::new(),
        assignees: String::new(),
        priority: dooray_priority(l.ticket.priority()).to_string(),
        version: l.ticket.version,
        client_token: crate::crypto::random_token(),
    };
    let page = render(&s, &l, v, FormErrors::new(lang), alert);
    w::html(StatusCode::OK, &page)
}

/// A checked transfer form.
struct Checked {
    org: Org,
    project: Project,
    subject: String,
    body: String,
    tags: Vec<String>,
    assignees: Vec<String>,
    priority: &'static str,
}

fn check(l: &Loaded, v: &Values, lang: Lang) -> Result<Checked, FormErrors> {
    let mut errors = FormErrors::new(lang);
    let chosen = v
        .project
        .and_then(|id| l.projects.iter().find(|(_, p)| p.id == id));
    if chosen.is_none() {
        errors.add("project_id", "validation.choose_option");
    }
    let subject = v.subject.trim();
    if subject.is_empty() {
        errors.add("subject", "validation.required");
    } else if subject.chars().count() > MAX_SUBJECT {
        errors.add_with(
            "subject",
            "validation.too_long",
            &[("max", &MAX_SUBJECT.to_string())],
        );
    }
    let body = sanitize_html(&v.body.replace("\r\n", "\n"));
    if v.body.chars().count() > MAX_BODY || body.chars().count() > MAX_BODY {
        errors.add_with(
            "body",
            "validation.too_long",
            &[("max", &MAX_BODY.to_string())],
        );
    } else if is_blank_html(&body) {
        errors.add("body", "validation.required");
    }
    let ids = |field: &str, raw: &str, errors: &mut FormErrors| -> Vec<String> {
        match parse_ids(raw) {
            Ok(list) if list.len() > MAX_IDS => {
                errors.add_with(
                    field,
                    "dooray.transfer.too_many",
                    &[("max", &MAX_IDS.to_string())],
                );
                Vec::new()
            }
            Ok(list) => list,
            Err(bad) => {
                errors.add_with(field, "dooray.transfer.bad_id", &[("id", &bad)]);
                Vec::new()
            }
        }
    };
    let tags = ids("tags", &v.tags, &mut errors);
    let assignees = ids("assignees", &v.assignees, &mut errors);
    let priority = PRIORITIES.iter().find(|p| **p == v.priority).copied();
    if priority.is_none() {
        errors.add("priority", "validation.choose_option");
    }
    match (chosen, priority) {
        (Some((org, project)), Some(priority)) if errors.is_empty() => Ok(Checked {
            org: org.clone(),
            project: project.clone(),
            subject: subject.to_string(),
            body,
            tags,
            assignees,
            priority,
        }),
        _ => Err(errors),
    }
}

/// The member a task or comment is registered as: the agent's own key when the agent belongs
/// to the project, otherwise the project's default registrant.
async fn registrant(
    s: &TicketStaff,
    api: &Api,
    org: &Org,
    project: &Project,
) -> Result<String, AppError> {
    let (org_id, uid) = (org.id, s.user().id);
    let key = s
        .viewer()
        .state
        .db
        .read(move |c| Ok(model::member_key(c, org_id, uid)?))
        .await?;
    if let Some(key) = key {
        match api.is_project_member(&project.project_ref, &key).await {
            Ok(true) => return Ok(key),
            Ok(false) => {}
            Err(e) => tracing::warn!(?e, "Dooray! project membership check failed"),
        }
    }
    Ok(project.registrant_ref.clone())
}

/// `POST /{service_id}/console/tickets/{public_id}/dooray`
pub async fn transfer_ticket(
    req: HttpRequest,
    s: TicketStaff,
    path: web::Path<(String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let lang = s.viewer().lang;
    let l = load(&s, &pid).await?;
    let v = Values {
        project: form.id("project_id"),
        subject: form.get("subject").to_string(),
        body: form.get("body").to_string(),
        tags: form.get("tags").chars().take(2000).collect(),
        assignees: form.get("assignees").chars().take(2000).collect(),
        priority: form.get("priority").to_string(),
        version: form.id("version").unwrap_or(-1),
        client_token: form.get("client_token").chars().take(64).collect(),
    };
    let href = ticket_href(&s.service.code, &pid);
    // The same form submitted twice: the task already exists.
    if !v.client_token.is_empty() {
        let (tid, token) = (l.ticket.id, v.client_token.clone());
        let existing = s
            .viewer()
            .state
            .db
            .read(move |c| Ok(Task::by_client_token(c, tid, &token)?))
            .await?;
        if existing.is_some() {
            return Ok(w::redirect(&req, &href));
        }
    }
    let checked = match check(&l, &v, lang) {
        Ok(c) => c,
        Err(errors) => {
            let page = render(&s, &l, v, errors, String::new());
            return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let refused = refusal(&l.ticket)
        .or_else(|| (v.version != l.ticket.version).then_some(LifecycleError::Stale.message_key()));
    if let Some(key) = refused {
        let page = render(&s, &l, v, FormErrors::new(lang), i18n::t(lang, key));
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let token = checked
        .org
        .token(&s.viewer().state.secret)
        .unwrap_or_default();
    let api = Api::new(
        &checked.org.api_base,
        &token,
        s.viewer().state.config.timeouts.dooray,
    );
    let from = registrant(&s, &api, &checked.org, &checked.project).await?;
    let post = NewPost {
        subject: &checked.subject,
        body_html: &checked.body,
        from: &from,
        to: &checked.assignees,
        tag_ids: &checked.tags,
        priority: checked.priority,
    };
    let post_ref = match api.create_post(&checked.project.project_ref, &post).await {
        Ok(id) => id.chars().take(model::MAX_REF).collect::<String>(),
        Err(f) => return dooray_failed(&s, &l, v, &f, &checked.org.api_base),
    };
    let info = api
        .post_info(&checked.project.project_ref, &post_ref)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(?e, "Dooray! task created but not readable");
            super::client::PostInfo::default()
        });
    let new = NewTask {
        service_id: s.service.id,
        ticket_id: l.ticket.id,
        project_id: checked.project.id,
        tenant_ref: checked.org.tenant_ref.clone(),
        project_ref: checked.project.project_ref.clone(),
        web_url: checked.project.task_url(&post_ref),
        post_ref,
        task_number: info.task_number,
        subject: checked.subject.clone(),
        body: checked.body.clone(),
        workflow_class: if info.workflow_class.is_empty() {
            "registered".to_string()
        } else {
            info.workflow_class
        },
        workflow_name: info.workflow_name,
        registrant_ref: from,
        client_token: (!v.client_token.is_empty()).then(|| v.client_token.clone()),
        created_by: s.user().id,
    };
    let (sid, ticket_id, actor) = (s.service.id, l.ticket.id, s.user().id);
    let result = s
        .viewer()
        .state
        .db
        .write(move |c| {
            let fresh =
                Ticket::find(c, ServiceId(sid), TicketId(ticket_id))?.ok_or(AppError::NotFound)?;
            let task_id = Task::insert(c, &new)?;
            let label = if new.task_number.is_empty() {
                new.post_ref.clone()
            } else {
                new.task_number.clone()
            };
            match lifecycle::dooray_transferred(c, &fresh, actor, &label) {
                Ok(()) => Ok(Ok(label)),
                Err(LifecycleError::Db) => {
                    Err(AppError::Internal("Dooray! transfer: lifecycle".into()))
                }
                Err(e) => {
                    // The ticket changed while Dooray! created the task: keep the task on
                    // record (not current) and say so.
                    diesel::update(dooray_tasks::table.find(task_id))
                        .set(dooray_tasks::active.eq(false))
                        .execute(c)?;
                    Ok(Err((e, label)))
                }
            }
        })
        .await?;
    match result {
        Ok(label) => {
            s.viewer().flash(Flash::success(i18n::tf(
                lang,
                "dooray.transfer.done",
                &[("task", &label), ("project", &checked.project.name)],
            )));
            Ok(w::redirect(&req, &href))
        }
        Err((e, label)) => {
            s.viewer().flash(Flash::error(i18n::tf(
                lang,
                "dooray.transfer.changed_meanwhile",
                &[
                    ("task", &label),
                    ("reason", &i18n::t(lang, e.message_key())),
                ],
            )));
            Ok(w::redirect(&req, &href))
        }
    }
}

fn dooray_failed(
    s: &TicketStaff,
    l: &Loaded,
    v: Values,
    f: &Failure,
    api_base: &str,
) -> Result<HttpResponse, AppError> {
    let lang = s.viewer().lang;
    let alert = i18n::tf(
        lang,
        "dooray.transfer.failed",
        &[("reason", &f.message(lang, api_base))],
    );
    let page = render(s, l, v, FormErrors::new(lang), alert);
    w::html(StatusCode::BAD_GATEWAY, &page)
}

/// Re-renders the ticket page with the editor text kept and a message above the form.
async fn ticket_again(
    s: &TicketStaff,
    pid: &str,
    sub: Submitted,
    alert: String,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let page = view::build(
        s,
        pid,
        PageState {
            process: Some(sub),
            alert,
            ..PageState::default()
        },
    )
    .await?;
    w::html(status, &page)
}

/// `POST /{service_id}/console/tickets/{public_id}/dooray/comment` (multipart: `body`).
pub async fn post_comment(
    req: HttpRequest,
    s: TicketStaff,
    path: web::Path<(String, String)>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let lang = s.viewer().lang;
    let sub = match read_multipart(payload).await? {
        Body::Parts(sub, _) => sub,
        Body::TooLarge => return Err(AppError::BadRequest("dooray.comment.too_large")),
    };
    let raw = sub.one("body").replace("\r\n", "\n");
    let body = sanitize_html(&raw);
    let problem = if raw.chars().count() > MAX_BODY || body.chars().count() > MAX_BODY {
        Some(i18n::tf(
            lang,
            "validation.too_long",
            &[("max", &MAX_BODY.to_string())],
        ))
    } else if is_blank_html(&body) {
        Some(i18n::t(lang, "dooray.comment.empty"))
    } else {
        None
    };
    if let Some(alert) = problem {
        return ticket_again(&s, &pid, sub, alert, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let (sid, pid2) = (s.service.id, pid.clone());
    let target = s
        .viewer()
        .state
        .db
        .read(move |c| {
            let ticket = load_ticket(c, sid, &pid2)?;
            let task = Task::current(c, ticket.id)?;
            let project = match task.as_ref().and_then(|t| t.project_id) {
                Some(p) => Project::find(c, sid, p)?,
                None => None,
            };
            Ok((ticket, task, project))
        })
        .await?;
    let (ticket, task, project) = target;
    let workable = !ticket.is_spam && ticket.status() != Status::Closed;
    let (Some(task), true) = (task, workable && ticket.transfer_state().dooray_open()) else {
        let alert = i18n::t(lang, "dooray.comment.closed");
        return ticket_again(&s, &pid, sub, alert, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let Some((org, project)) = project else {
        let alert = i18n::t(lang, "dooray.comment.project_gone");
        return ticket_again(&s, &pid, sub, alert, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let token = org.token(&s.viewer().state.secret).unwrap_or_default();
    let api = Api::new(
        &org.api_base,
        &token,
        s.viewer().state.config.timeouts.dooray,
    );
    let creator = registrant(&s, &api, &org, &project).await?;
    let comment_ref = match api
        .create_comment(&task.project_ref, &task.post_ref, &body, &creator)
        .await
    {
        Ok(id) => id.chars().take(model::MAX_REF).collect::<String>(),
        Err(f) => {
            let alert = i18n::tf(
                lang,
                "dooray.comment.failed",
                &[("reason", &f.message(lang, &org.api_base))],
            );
            return ticket_again(&s, &pid, sub, alert, StatusCode::BAD_GATEWAY).await;
        }
    };
    let (actor, task_id, ticket_id) = (s.user().id, task.id, ticket.id);
    s.viewer()
        .state
        .db
        .write(move |c| {
            model::add_comment(c, task_id, &comment_ref, true, Some(actor), "", &body)?;
            record_event(
                c,
                ticket_id,
                "dooray_comment_sent",
                Some(actor),
                &comment_ref,
            )?;
            Ok(())
        })
        .await?;
    s.viewer().flash(Flash::success(i18n::tf(
        lang,
        "dooray.comment.sent",
        &[("task", &task.label())],
    )));
    Ok(w::redirect(&req, &ticket_href(&s.service.code, &pid)))
}
