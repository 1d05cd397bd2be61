//! The console home of a service: who you are here, your role and permissions, your groups, and
//! the menus you may open.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::error::AppError;
use crate::tenancy::group::Group;
use crate::web::{self as w, PageCtx, ServiceMember};

/// The console home page.
#[derive(Template)]
#[template(path = "console/home.html")]
pub struct ConsoleHome {
    /// Shared context.
    pub ctx: PageCtx,
    /// Service name.
    pub service_name: String,
    /// Service ID.
    pub service_code: String,
    /// Service kind label key.
    pub kind_key: String,
    /// Role label key.
    pub role_key: String,
    /// Permission label keys the member holds.
    pub permissions: Vec<String>,
    /// Groups the member belongs to.
    pub groups: Vec<String>,
    /// Ticket assignment on.
    pub ticket_assignable: bool,
    /// Chat assignment on.
    pub chat_assignable: bool,
}

/// `GET /{service_id}/console` → `/{service_id}/console/`
pub async fn console_redirect(req: HttpRequest, m: ServiceMember) -> HttpResponse {
    w::redirect(
        &req,
        &format!("{}/", super::shell::console_base(&m.service.code)),
    )
}

/// `GET /{service_id}/console/`
pub async fn console_home(m: ServiceMember) -> Result<HttpResponse, AppError> {
    let member = m
        .member
        .clone()
        .ok_or(AppError::Forbidden("error.forbidden_service"))?;
    let (sid, uid) = (m.service.id, m.user().id);
    let groups = m
        .viewer()
        .state
        .db
        .read(move |c| Ok(Group::names_of_member(c, sid, uid)?))
        .await?;
    let flags = [
        (member.perm_ticket, "perm.ticket"),
        (member.perm_chat, "perm.chat"),
        (member.perm_phone, "perm.phone"),
        (member.perm_callback_assign, "perm.callback_assign"),
        (member.perm_forward, "perm.forward"),
        (member.perm_view_logs, "perm.view_logs"),
        (member.perm_extract, "perm.extract"),
    ];
    let page = ConsoleHome {
        ctx: PageCtx::console(&m, "console.home.title"),
        service_name: m.service.name.clone(),
        service_code: m.service.code.clone(),
        kind_key: format!("service.kind.{}", m.service.kind),
        role_key: format!("role.{}", member.role),
        permissions: flags
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, k)| (*k).to_string())
            .collect(),
        groups,
        ticket_assignable: member.ticket_assignable,
        chat_assignable: member.chat_assignable,
    };
    w::html(StatusCode::OK, &page)
}

use crate::console::nav::{NavEntry, Section};

/// The menu entry of the home page (members of the service).
pub const NAV: &[NavEntry] = &[NavEntry {
    section: Section::Consultation,
    path: "console/",
    label: "nav.console.home",
    exact: true,
    visible: |a| a.member.is_some(),
}];
