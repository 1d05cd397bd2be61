//! Assignment and the administrator actions on one ticket (SPEC §5.4, §5.5):
//! - **Pull**: an unassigned ticket is taken by the viewer (an agent in several groups picks
//!   the group); it becomes processing.
//! - **Forward**: needs the forward permission; the target must be an agent of the service with
//!   the ticket permission and the ticket-assignment toggle on (and in the chosen group).
//! - **Complete** a solved ticket, and **restore** or **delete** a ticket in the spam box:
//!   administrators only. Deleting removes the attachment files after the commit.
//!
//! Every action claims the ticket at the version the page was rendered with; a refusal
//! re-renders the page (422) with the reason above the dialogs.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;

use crate::agents::form::Pairs;
use crate::db::DbConn;
use crate::db::schema::{group_members, service_members, users};
use crate::db::{TxError, refuse};
use crate::error::AppError;
use crate::help_center::attachments;
use crate::i18n;
use crate::tenancy::group::Group;
use crate::tickets::Ticket;
use crate::tickets::detail::access::{StaffInfo, TicketStaff};
use crate::tickets::detail::view::{self, PageState, load_ticket, ticket_href, tickets_base};
use crate::tickets::lifecycle::{self, AssignKind, LifecycleError};
use crate::web::{self as w, Flash};

/// Why an assignment was refused.
enum Refusal {
    /// The lifecycle refused.
    Lifecycle(LifecycleError),
    /// A message key about the form.
    Form(&'static str),
}

async fn refused(s: &TicketStaff, pid: &str, r: Refusal) -> Result<HttpResponse, AppError> {
    let lang = s.viewer().lang;
    let key = match r {
        Refusal::Lifecycle(e) => e.message_key(),
        Refusal::Form(k) => k,
    };
    let state = PageState {
        assign_alert: i18n::t(lang, key),
        ..PageState::default()
    };
    let page = view::build(s, pid, state).await?;
    w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// The ticket at the version the form carried.
fn at_version(
    conn: &mut DbConn,
    s: &StaffInfo,
    pid: &str,
    form: &Pairs,
) -> Result<Ticket, TxError<Refusal>> {
    let mut t = load_ticket(conn, s.service.id, pid)?;
    match form.get("version").trim().parse::<i64>() {
        Ok(v) => {
            t.version = v;
            Ok(t)
        }
        Err(_) => refuse(Refusal::Lifecycle(LifecycleError::Stale)),
    }
}

fn lifecycle_result(r: Result<(), LifecycleError>) -> Result<(), TxError<Refusal>> {
    match r {
        Ok(()) => Ok(()),
        Err(LifecycleError::Db) => {
            Err(AppError::Internal("ticket lifecycle database error".into()).into())
        }
        Err(e) => refuse(Refusal::Lifecycle(e)),
    }
}

async fn finish(
    req: &HttpRequest,
    s: &TicketStaff,
    pid: &str,
    result: Result<(), Refusal>,
    done_key: &str,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(()) => {
            let lang = s.viewer().lang;
            s.viewer().flash(Flash::success(i18n::t(lang, done_key)));
            Ok(w::redirect(req, &ticket_href(&s.service.code, pid)))
        }
        Err(r) => refused(s, pid, r).await,
    }
}

/// `POST /{service_id}/console/tickets/{public_id}/pull` — `version`, `group_id` (required
/// when the agent belongs to several groups).
pub async fn pull_ticket(
    req: HttpRequest,
    s: TicketStaff,
    path: web::Path<(String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let s2 = s.info();
    let pid2 = pid.clone();
    let result = s
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            let t = at_version(c, &s2, &pid2, &form)?;
            if t.assignee_id.is_some() {
                return refuse(Refusal::Form("ticket.action.already_assigned"));
            }
            let me = s2.user_id;
            let mine = Group::ids_of_member(c, s2.service.id, me)?;
            let chosen = form.id("group_id");
            let group = match (mine.len(), chosen) {
                (0, _) => t.group_id,
                (_, Some(g)) if mine.contains(&g) => Some(g),
                (_, Some(_)) => return refuse(Refusal::Form("ticket.action.group_not_yours")),
                (1, None) => mine.first().copied(),
                (_, None) => match t.group_id.filter(|g| mine.contains(g)) {
                    Some(g) => Some(g),
                    None => return refuse(Refusal::Form("ticket.action.choose_group")),
                },
            };
            lifecycle_result(lifecycle::assign(
                c,
                &t,
                Some(me),
                group,
                Some(me),
                AssignKind::Pull,
            ))
        })
        .await?;
    finish(&req, &s, &pid, result, "ticket.action.done_pull").await
}

/// Whether a user is an agent of the service who may be assigned tickets.
fn assignable(conn: &mut DbConn, service_id: i64, user_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        service_members::table
            .inner_join(users::table)
            .filter(service_members::service_id.eq(service_id))
            .filter(service_members::user_id.eq(user_id))
            .filter(service_members::perm_ticket.eq(true))
            .filter(service_members::ticket_assignable.eq(true))
            .filter(users::active.eq(true)),
    ))
    .get_result(conn)
}

/// `POST /{service_id}/console/tickets/{public_id}/forward` — `version`, `assignee_id`,
/// optionally `group_id`.
pub async fn forward_ticket(
    req: HttpRequest,
    s: TicketStaff,
    path: web::Path<(String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    if !s.can_forward() {
        return Err(AppError::Forbidden("ticket.action.forbidden_forward"));
    }
    let pid = path.into_inner().1;
    let s2 = s.info();
    let pid2 = pid.clone();
    let result = s
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            let t = at_version(c, &s2, &pid2, &form)?;
            let sid = s2.service.id;
            let Some(assignee) = form.id("assignee_id") else {
                return refuse(Refusal::Form("ticket.action.choose_agent"));
            };
            if !assignable(c, sid, assignee)? {
                return refuse(Refusal::Form("ticket.action.agent_not_assignable"));
            }
            let group = match form.get("group_id").trim() {
                "" => None,
                g => match g.parse::<i64>() {
                    Ok(g) if Group::find(c, sid, g)?.is_some() => Some(g),
                    _ => return refuse(Refusal::Form("validation.choose_option")),
                },
            };
            if let Some(g) = group {
                let member: i64 = group_members::table
                    .filter(group_members::group_id.eq(g))
                    .filter(group_members::user_id.eq(assignee))
                    .count()
                    .get_result(c)?;
                if member == 0 {
                    return refuse(Refusal::Form("ticket.action.agent_not_in_group"));
                }
            }
            lifecycle_result(lifecycle::assign(
                c,
                &t,
                Some(s2.user_id),
                group,
                Some(assignee),
                AssignKind::Forward,
            ))
        })
        .await?;
    finish(&req, &s, &pid, result, "ticket.action.done_forward").await
}

/// An administrator's transition of one ticket at the form's `version` (complete, restore
/// from the spam box).
async fn admin_transition(
    req: HttpRequest,
    s: TicketStaff,
    pid: String,
    form: Pairs,
    op: fn(&mut DbConn, &Ticket, i64) -> Result<(), LifecycleError>,
    done_key: &'static str,
) -> Result<HttpResponse, AppError> {
    s.require_admin()?;
    let s2 = s.info();
    let pid2 = pid.clone();
    let result = s
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            let t = at_version(c, &s2, &pid2, &form)?;
            lifecycle_result(op(c, &t, s2.user_id))
        })
        .await?;
    finish(&req, &s, &pid, result, done_key).await
}

/// `POST /{service_id}/console/tickets/{public_id}/complete` — administrators; `version`.
pub async fn complete_ticket(
    req: HttpRequest,
    s: TicketStaff,
    path: web::Path<(String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    admin_transition(
        req,
        s,
        pid,
        form.into_inner(),
        lifecycle::complete,
        "ticket.action.done_complete",
    )
    .await
}

/// `POST /{service_id}/console/tickets/{public_id}/spam/restore` — administrators; `version`.
pub async fn restore_spam(
    req: HttpRequest,
    s: TicketStaff,
    path: web::Path<(String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    admin_transition(
        req,
        s,
        pid,
        form.into_inner(),
        lifecycle::restore_spam,
        "ticket.action.done_restore",
    )
    .await
}

/// `POST /{service_id}/console/tickets/{public_id}/spam/delete` — administrators; `version`.
/// The ticket and its rows are deleted; its files are removed after the commit.
pub async fn delete_spam(
    req: HttpRequest,
    s: TicketStaff,
    path: web::Path<(String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    s.require_admin()?;
    let pid = path.into_inner().1;
    let s2 = s.info();
    let pid2 = pid.clone();
    let result = s
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            let t = at_version(c, &s2, &pid2, &form)?;
            match lifecycle::delete_spam(c, &t) {
                Ok(paths) => Ok(paths),
                Err(LifecycleError::Db) => {
                    Err(AppError::Internal("ticket lifecycle database error".into()).into())
                }
                Err(e) => refuse(Refusal::Lifecycle(e)),
            }
        })
        .await?;
    match result {
        Ok(paths) => {
            attachments::remove_files_later(&s.viewer().state, paths).await;
            let lang = s.viewer().lang;
            s.viewer().flash(Flash::success(i18n::tf(
                lang,
                "ticket.action.done_delete",
                &[("id", &pid)],
            )));
            Ok(w::redirect(&req, &tickets_base(&s.service.code)))
        }
        Err(r) => refused(&s, &pid, r).await,
    }
}
