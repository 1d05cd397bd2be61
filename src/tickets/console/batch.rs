//! Batch processing of the checked tickets (SPEC §5.2 ⑤, §5.5, §7.2 "batch processing applies
//! the same rules to each selected ticket"): one comment, resolve, hold, or group/assignee change
//! applied to every ticket through [`crate::tickets::lifecycle`], in one transaction. Each
//! ticket is checked on its own; a ticket the lifecycle refuses (changed since the list was
//! loaded, in the spam box, completed) is reported and left untouched while the others are
//! processed. Resolve and hold queue the customer's mail in the same transaction, rendered from
//! the service's resolution and hold mail layouts like a single answer
//! ([`crate::tickets::mailer::queue_customer_mail`]).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use super::access::TicketAgent;
use super::list::ListArgs;
use super::page::{self, BatchState, Mode, assignable_agents};
use super::search::SearchForm;
use crate::agents::form::Pairs;
use crate::common::text::text_to_html;
use crate::db::DbConn;
use crate::db::schema::group_members;
use crate::db::types::{ServiceId, TicketId};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::notify::layouts::LayoutKind;
use crate::tenancy::group::Group;
use crate::tenancy::service::Service;
use crate::tickets::Ticket;
use crate::tickets::lifecycle::{self, Action, AssignKind, LifecycleError, ProcessInput};
use crate::tickets::mailer::{self, MailEnv};
use crate::web::{self as w, FormErrors, PageCtx};

/// Most tickets one batch takes (two pages of the list).
pub const MAX_BATCH: usize = 100;
/// Longest batch text, in characters.
pub const MAX_BODY: usize = 20_000;

/// What a batch does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchAction {
    /// Internal comment.
    Comment,
    /// Answer and resolve (resolution mail).
    Resolve,
    /// Interim answer (hold mail).
    Hold,
    /// Change group and/or assignee (needs the forward permission).
    Assign,
}

impl BatchAction {
    fn parse(s: &str) -> Option<BatchAction> {
        match s {
            "comment" => Some(BatchAction::Comment),
            "resolve" => Some(BatchAction::Resolve),
            "hold" => Some(BatchAction::Hold),
            "assign" => Some(BatchAction::Assign),
            _ => None,
        }
    }

    fn label_key(self) -> &'static str {
        match self {
            BatchAction::Comment => "ticket.batch.action_comment",
            BatchAction::Resolve => "ticket.batch.action_resolve",
            BatchAction::Hold => "ticket.batch.action_hold",
            BatchAction::Assign => "ticket.batch.action_assign",
        }
    }
}

/// A validated batch.
#[derive(Debug, Clone)]
struct Batch {
    action: BatchAction,
    /// (ticket id, version the list showed).
    tickets: Vec<(i64, i64)>,
    /// The text as typed (plain text).
    text: String,
    group: Option<i64>,
    assignee: Option<i64>,
    token: Option<String>,
}

/// What happened to one ticket.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Public ID (empty when the ticket no longer exists).
    pub public_id: String,
    /// Subject.
    pub subject: String,
    /// Whether the action was applied.
    pub ok: bool,
    /// Translated detail.
    pub message: String,
}

/// The batch report.
#[derive(Template)]
#[template(path = "tickets/console/batch_result.html")]
pub struct BatchResultPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/tickets`
    pub base: String,
    /// Back to the list the batch came from.
    pub back: String,
    /// Translated action name.
    pub action: String,
    /// How many were applied.
    pub done: usize,
    /// How many were refused.
    pub refused: usize,
    /// One line per ticket.
    pub outcomes: Vec<Outcome>,
}

/// Reads the ticked `id:version` values, in order, without repeats.
fn parse_checked(values: &[&str]) -> Result<Vec<(i64, i64)>, ()> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for v in values {
        let (id, version) = v.split_once(':').ok_or(())?;
        let id: i64 = id.trim().parse().map_err(|_| ())?;
        let version: i64 = version.trim().parse().map_err(|_| ())?;
        if !out.iter().any(|(i, _)| *i == id) {
            out.push((id, version));
        }
    }
    Ok(out)
}

fn refusal(lang: Lang, e: LifecycleError) -> String {
    i18n::t(lang, e.message_key())
}

/// Applies a validated batch; returns the outcomes and whether a mail was queued.
fn apply(
    conn: &mut DbConn,
    env: &MailEnv,
    service: &Service,
    actor: i64,
    lang: Lang,
    b: &Batch,
) -> Result<(Vec<Outcome>, bool), AppError> {
    let html = text_to_html(&b.text);
    let mut outcomes = Vec::new();
    let mut mailed = false;
    for (id, version) in &b.tickets {
        let Some(current) = Ticket::find(conn, ServiceId(service.id), TicketId(*id))? else {
            outcomes.push(Outcome {
                public_id: String::new(),
                subject: String::new(),
                ok: false,
                message: i18n::t(lang, "ticket.batch.gone"),
            });
            continue;
        };
        // Claim the version the agent saw: a ticket changed since the list was loaded is stale.
        let mut seen = current.clone();
        seen.version = *version;
        let mut outcome = Outcome {
            public_id: current.public_id.clone(),
            subject: current.subject.clone(),
            ok: false,
            message: String::new(),
        };
        let action = match b.action {
            BatchAction::Comment => Some(Action::Comment),
            BatchAction::Resolve => Some(Action::Resolve),
            BatchAction::Hold => Some(Action::Hold),
            BatchAction::Assign => None,
        };
        match action {
            Some(action) => {
                let input = ProcessInput {
                    action,
                    actor,
                    body: &html,
                    files: &[],
                    client_token: b.token.as_deref(),
                    resolution_category_id: None,
                    priority: None,
                    service_kind: service.kind(),
                };
                match lifecycle::process(conn, &seen, &input) {
                    Ok(done) if done.duplicate => {
                        outcome.ok = true;
                        outcome.message = i18n::t(lang, "ticket.batch.already_done");
                    }
                    Ok(done) => {
                        outcome.ok = true;
                        outcome.message = i18n::t(lang, "ticket.batch.done");
                        if let Some(kind) = done.mail {
                            if mailer::queue_customer_mail(
                                conn,
                                env,
                                service,
                                &current,
                                LayoutKind::from(kind),
                                &html,
                                Some(done.entry_id),
                            )?
                            .is_some()
                            {
                                mailed = true;
                                outcome.message = i18n::t(lang, "ticket.batch.done_mailed");
                            } else {
                                outcome.message = i18n::t(lang, "ticket.batch.done_no_email");
                            }
                        }
                    }
                    Err(LifecycleError::Db) => {
                        return Err(AppError::Internal("batch processing failed".into()));
                    }
                    Err(e) => outcome.message = refusal(lang, e),
                }
            }
            None => {
                let group = b.group.or(current.group_id);
                let assignee = b.assignee.or(current.assignee_id);
                if group == current.group_id && assignee == current.assignee_id {
                    outcome.ok = true;
                    outcome.message = i18n::t(lang, "ticket.batch.unchanged");
                } else {
                    match lifecycle::assign(
                        conn,
                        &seen,
                        Some(actor),
                        group,
                        assignee,
                        AssignKind::Batch,
                    ) {
                        Ok(()) => {
                            outcome.ok = true;
                            outcome.message = i18n::t(lang, "ticket.batch.done");
                        }
                        Err(LifecycleError::Db) => {
                            return Err(AppError::Internal("batch assignment failed".into()));
                        }
                        Err(e) => outcome.message = refusal(lang, e),
                    }
                }
            }
        }
        outcomes.push(outcome);
    }
    Ok((outcomes, mailed))
}

/// The list a batch came from, rebuilt from its query string.
fn origin_mode(a: &TicketAgent, page_query: &str) -> (Mode, Option<i64>) {
    let args: ListArgs = serde_urlencoded::from_str(page_query).unwrap_or_default();
    let before = args.before();
    if args.search == "1" {
        let form: SearchForm = serde_urlencoded::from_str(page_query).unwrap_or_default();
        (
            Mode::Search {
                form: Box::new(form),
                star: args.star == "1",
            },
            before,
        )
    } else {
        (args.view_mode(a), before)
    }
}

/// `POST /{service_id}/console/tickets/batch` — applies one action to the ticked tickets and
/// shows what happened to each; a form with errors comes back on the list with 422.
pub async fn batch(a: TicketAgent, form: web::Form<Pairs>) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let f = form.into_inner();
    let page_query = f.get("page_query").chars().take(4000).collect::<String>();
    let mut errors = FormErrors::new(lang);
    let values: Vec<&str> =
        f.0.iter()
            .filter(|(k, _)| k == "t")
            .map(|(_, v)| v.as_str())
            .collect();
    let checked = match parse_checked(&values) {
        Ok(c) => c,
        Err(()) => return Err(AppError::BadRequest("ticket.batch.bad_selection")),
    };
    if checked.is_empty() {
        errors.add("t", "ticket.batch.none_selected");
    } else if checked.len() > MAX_BATCH {
        errors.add_with(
            "t",
            "ticket.batch.too_many",
            &[("max", &MAX_BATCH.to_string())],
        );
    }
    let action = BatchAction::parse(f.get("batch_action"));
    let text = f.get("batch_body").trim().to_string();
    match action {
        None => errors.add("batch_action", "ticket.batch.pick_action"),
        Some(BatchAction::Assign) => {
            if !a.may_forward() {
                errors.add("batch_action", "ticket.batch.no_forward");
            }
        }
        Some(_) => {
            if text.is_empty() {
                errors.add("batch_body", "validation.required");
            } else if text.chars().count() > MAX_BODY {
                errors.add_with(
                    "batch_body",
                    "validation.too_long",
                    &[("max", &MAX_BODY.to_string())],
                );
            }
        }
    }
    let group_in = f.get("batch_group").trim().to_string();
    let assignee_in = f.get("batch_assignee").trim().to_string();
    let mut group = None;
    let mut assignee = None;
    if action == Some(BatchAction::Assign) && a.may_forward() {
        let sid = a.service.id;
        let (g_in, a_in) = (group_in.clone(), assignee_in.clone());
        let (g_ok, a_ok, in_group) = a
            .viewer()
            .state
            .db
            .read(move |c| {
                let g = match g_in.parse::<i64>() {
                    Ok(id) => Some(Group::find(c, sid, id)?.map(|g| g.id)),
                    Err(_) => None,
                };
                let u = match a_in.parse::<i64>() {
                    Ok(id) => Some(
                        assignable_agents(c, sid)?
                            .into_iter()
                            .find(|(uid, _)| *uid == id)
                            .map(|(uid, _)| uid),
                    ),
                    Err(_) => None,
                };
                let in_group = match (g.flatten(), u.flatten()) {
                    (Some(gid), Some(uid)) => diesel::select(diesel::dsl::exists(
                        group_members::table
                            .filter(group_members::group_id.eq(gid))
                            .filter(group_members::user_id.eq(uid)),
                    ))
                    .get_result::<bool>(c)?,
                    _ => true,
                };
                Ok((g, u, in_group))
            })
            .await?;
        match (group_in.is_empty(), g_ok) {
            (true, _) => {}
            (false, Some(Some(id))) => group = Some(id),
            (false, _) => errors.add("batch_group", "ticket.search.unknown_choice"),
        }
        match (assignee_in.is_empty(), a_ok) {
            (true, _) => {}
            (false, Some(Some(id))) => assignee = Some(id),
            (false, _) => errors.add("batch_assignee", "ticket.batch.not_assignable"),
        }
        if errors.is_empty() && group.is_none() && assignee.is_none() {
            errors.add("batch_group", "ticket.batch.pick_target");
        }
        if errors.is_empty() && !in_group {
            errors.add("batch_assignee", "ticket.batch.not_in_group");
        }
    }
    let (mode, before) = origin_mode(&a, &page_query);
    if !errors.is_empty() {
        let state = BatchState {
            errors,
            action: f.get("batch_action").to_string(),
            body: f.get("batch_body").to_string(),
            group: group_in,
            assignee: assignee_in,
            checked: checked.iter().map(|(id, _)| *id).collect(),
        };
        return page::render(&a, mode, before, state, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let Some(action) = action else {
        return Err(AppError::BadRequest("ticket.batch.pick_action"));
    };
    let token: String = f.get("client_token").trim().chars().take(64).collect();
    let b = Batch {
        action,
        tickets: checked,
        text,
        group,
        assignee,
        token: (!token.is_empty()).then_some(token),
    };
    let service = a.service.clone();
    let actor = a.user().id;
    let env = MailEnv::of(&a.viewer().state);
    let (outcomes, _) = a
        .viewer()
        .state
        .db
        .write(move |c| apply(c, &env, &service, actor, lang, &b))
        .await?;
    let base = format!("/{}/console/tickets", a.service.code);
    let back = match (&mode, before) {
        (Mode::Search { .. }, _) => format!("{base}/search?{}", mode.query()),
        _ => format!("{base}?{}", mode.query()),
    };
    let done = outcomes.iter().filter(|o| o.ok).count();
    let page = BatchResultPage {
        ctx: PageCtx::console(&a, "ticket.batch.title"),
        action: i18n::t(lang, action.label_key()),
        refused: outcomes.len() - done,
        done,
        outcomes,
        back,
        base,
    };
    w::html(StatusCode::OK, &page)
}
