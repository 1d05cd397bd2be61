//! What the ticket page shows of Dooray! (SPEC §5.2 ⑧, §5.8): the "Dooray! transfer" button
//! (only while transfer is enabled, not paused, a project is registered and the ticket may be
//! transferred), the `Dooray` badge with the current task, the *Dooray conversation* — every
//! task of the ticket with its body and comments, sent and received — and whether the
//! "Dooray comment" button is offered. Loaded inside the ticket page's read ([`load`]) and
//! turned into view data in the viewer's language ([`view`]); [`event_text`] words the Dooray!
//! events of the ticket timeline.

use std::collections::{HashMap, HashSet};

use chrono_tz::Tz;
use diesel::prelude::*;

use super::model::{Comment, Project, Settings, Task, WorkflowClass, comments_of};
use crate::common::text::sanitize_html;
use crate::common::time::local_display;
use crate::db::DbConn;
use crate::db::schema::{dooray_projects, users};
use crate::i18n::{self, Lang};
use crate::tenancy::service::Service;
use crate::tickets::lifecycle::TransferState;
use crate::tickets::{Status, Ticket};

/// Most tasks shown per ticket (a ticket is rarely transferred more than a few times).
const MAX_TASKS: i64 = 20;
/// Most comments shown per ticket (the newest are kept).
const MAX_COMMENTS: i64 = 300;

/// What [`load`] reads.
#[derive(Debug, Clone, Default)]
pub struct Raw {
    settings: Option<Settings>,
    has_project: bool,
    tasks: Vec<Task>,
    comments: Vec<Comment>,
    project_names: HashMap<i64, String>,
    users: HashMap<i64, String>,
}

/// Reads the ticket's Dooray! state (inside the page's read).
pub fn load(conn: &mut DbConn, service: &Service, ticket: &Ticket) -> QueryResult<Raw> {
    let settings = Settings::load(conn, service.id)?;
    let has_project = settings.enabled && Project::any_in_service(conn, service.id)?;
    let tasks = Task::of_ticket(conn, ticket.id, MAX_TASKS)?;
    let ids: Vec<i64> = tasks.iter().map(|t| t.id).collect();
    let comments = if ids.is_empty() {
        Vec::new()
    } else {
        comments_of(conn, &ids, MAX_COMMENTS)?
    };
    let project_ids: Vec<i64> = tasks.iter().filter_map(|t| t.project_id).collect();
    let project_names: HashMap<i64, String> = if project_ids.is_empty() {
        HashMap::new()
    } else {
        dooray_projects::table
            .filter(dooray_projects::id.eq_any(project_ids))
            .select((dooray_projects::id, dooray_projects::name))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect()
    };
    let mut user_ids: HashSet<i64> = tasks.iter().filter_map(|t| t.created_by).collect();
    user_ids.extend(comments.iter().filter_map(|c| c.author_id));
    let users: HashMap<i64, String> = if user_ids.is_empty() {
        HashMap::new()
    } else {
        users::table
            .filter(users::id.eq_any(user_ids.into_iter().collect::<Vec<_>>()))
            .select((users::id, users::name))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect()
    };
    Ok(Raw {
        settings: Some(settings),
        has_project,
        tasks,
        comments,
        project_names,
        users,
    })
}

/// One message of the conversation.
#[derive(Debug, Clone)]
pub struct MessageView {
    /// Sent from OpenContact.
    pub outgoing: bool,
    /// Who.
    pub author: String,
    /// When (service time).
    pub time: String,
    /// Sanitised HTML.
    pub body: String,
}

/// One task of the conversation.
#[derive(Debug, Clone)]
pub struct TaskView {
    /// Task number or post ID.
    pub label: String,
    /// Subject.
    pub subject: String,
    /// The task in Dooray! (empty when unknown).
    pub url: String,
    /// Project name (empty once the project was removed).
    pub project: String,
    /// Dooray! workflow as last reported.
    pub workflow: String,
    /// Whether it is the ticket's current task.
    pub active: bool,
    /// Who transferred, when.
    pub created_by: String,
    /// Created (service time).
    pub created: String,
    /// The task body as sent.
    pub body: String,
    /// Comments, oldest first.
    pub messages: Vec<MessageView>,
}

/// The ticket page's Dooray! part.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    /// The transfer dialog (`None`: the button is hidden).
    pub transfer_href: Option<String>,
    /// Whether the "Dooray comment" button is offered.
    pub can_comment: bool,
    /// Where comments post.
    pub comment_action: String,
    /// The current task (the `Dooray` badge).
    pub current: Option<TaskView>,
    /// Every task, newest first.
    pub tasks: Vec<TaskView>,
    /// Some older comments are not shown.
    pub truncated: bool,
}

/// The ticket's Dooray! part for the viewer. `base` is the ticket page's path.
pub fn view(raw: &Raw, ticket: &Ticket, lang: Lang, tz: Tz, base: &str) -> Panel {
    let state = ticket.transfer_state();
    let workable = !ticket.is_spam && ticket.status() != Status::Closed;
    let can_transfer = raw.settings.as_ref().is_some_and(|s| s.transfer_open())
        && raw.has_project
        && workable
        && !state.dooray_open()
        && state != TransferState::IssueInProgress;
    let user = |id: Option<i64>| {
        id.and_then(|i| raw.users.get(&i).cloned())
            .unwrap_or_default()
    };
    let tasks: Vec<TaskView> = raw
        .tasks
        .iter()
        .map(|t| TaskView {
            label: t.label(),
            subject: t.subject.clone(),
            url: t.web_url.clone(),
            project: t
                .project_id
                .and_then(|p| raw.project_names.get(&p).cloned())
                .unwrap_or_default(),
            workflow: workflow_label(lang, &t.workflow_class, &t.workflow_name),
            active: t.active,
            created_by: user(t.created_by),
            created: local_display(tz, t.created_at),
            body: sanitize_html(&t.body),
            messages: raw
                .comments
                .iter()
                .filter(|c| c.task_id == t.id)
                .map(|c| MessageView {
                    outgoing: c.outgoing,
                    author: if c.outgoing {
                        user(c.author_id)
                    } else {
                        c.author_name.clone()
                    },
                    time: local_display(tz, c.created_at),
                    body: sanitize_html(&c.body),
                })
                .collect(),
        })
        .collect();
    let current = tasks.iter().find(|t| t.active).cloned();
    Panel {
        transfer_href: can_transfer.then(|| format!("{base}/dooray")),
        can_comment: workable && state.dooray_open() && current.is_some(),
        comment_action: format!("{base}/dooray/comment"),
        current,
        tasks,
        truncated: raw.comments.len() as i64 >= MAX_COMMENTS,
    }
}

/// A workflow as shown: Dooray's own name when known, with its class.
pub fn workflow_label(lang: Lang, class: &str, name: &str) -> String {
    let class_name = WorkflowClass::parse(class)
        .map(|c| i18n::t(lang, c.label_key()))
        .unwrap_or_default();
    match (name.trim(), class_name.is_empty()) {
        ("", _) => class_name,
        (n, true) => n.to_string(),
        (n, false) if n == class_name => class_name,
        (n, false) => format!("{n} ({class_name})"),
    }
}

/// The timeline text of a Dooray! event of the ticket (`None` for other events).
pub fn event_text(lang: Lang, kind: &str, detail: &str) -> Option<String> {
    match kind {
        "dooray_transferred" => Some(i18n::tf(
            lang,
            "dooray.event.transferred",
            &[("task", detail)],
        )),
        "dooray_state" => {
            let key = match TransferState::parse(detail) {
                Some(TransferState::DoorayTransferred) => "dooray.event.registered",
                Some(TransferState::DoorayInProgress) => "dooray.event.in_progress",
                Some(TransferState::DoorayAnswered) => "dooray.event.answered",
                _ => return Some(detail.to_string()),
            };
            Some(i18n::t(lang, key))
        }
        "dooray_comment_sent" => Some(i18n::t(lang, "dooray.event.comment_sent")),
        "dooray_comment_received" => Some(i18n::tf(
            lang,
            "dooray.event.comment_received",
            &[("author", detail)],
        )),
        _ => None,
    }
}
