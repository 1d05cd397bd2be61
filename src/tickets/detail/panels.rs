//! The side panels of the ticket page (SPEC §5.2 ⑩) and the ticket's downloads:
//! - the customer's other tickets, searchable by subject or ticket ID, paginated by key;
//! - the reply templates of the chosen resolution type, searchable by title or search code,
//!   and the rendered body of one template for insertion into the editor;
//! - attachment downloads, authorised through the ticket (an issue ticket also serves the
//!   attachments of the consultation ticket it came from).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::common::text::sanitize_html;
use crate::common::time::local_date;
use crate::db::DbConn;
use crate::db::schema::{ticket_attachments, tickets};
use crate::db::search::{contains_pattern, lower};
use crate::error::AppError;
use crate::help_center::attachments::{Attachment, serve};
use crate::notify::layouts::mail_lang;
use crate::tenancy::service::Service;
use crate::tenancy::service::service_tz;
use crate::tickets::detail::access::TicketStaff;
use crate::tickets::detail::view::{load_ticket, ticket_href};
use crate::tickets::lifecycle;
use crate::tickets::mailer::MailEnv;
use crate::tickets::reply_templates::{self, PAGE_SIZE, TemplateQuery};
use crate::tickets::substitution::{Context, Mode, render};
use crate::tickets::{Ticket, TicketAttachment};
use crate::web::PageCtx;

/// Other tickets per page.
const OTHER_PAGE: i64 = 10;

/// One of the customer's other tickets.
#[derive(Debug, Clone)]
pub struct OtherRow {
    /// Link.
    pub href: String,
    /// Public ID.
    pub public_id: String,
    /// Subject.
    pub subject: String,
    /// Agent status label key.
    pub status_key: String,
    /// Created (service date).
    pub created: String,
}

/// The customer's other tickets.
#[derive(Debug, Clone, Default)]
pub struct OtherTickets {
    /// Whether the ticket has a customer at all.
    pub has_customer: bool,
    /// Search text.
    pub q: String,
    /// Rows, newest first.
    pub rows: Vec<OtherRow>,
    /// Link to the next page.
    pub next_href: Option<String>,
    /// The panel's URL.
    pub href: String,
}

/// The customer's other tickets matching `q` (subject words or a ticket ID), newest first,
/// before the key `before`.
pub fn other_tickets(
    conn: &mut DbConn,
    service: &Service,
    ticket: &Ticket,
    q: &str,
    before: Option<i64>,
) -> QueryResult<OtherTickets> {
    let href = format!(
        "{}/customer-tickets",
        ticket_href(&service.code, &ticket.public_id)
    );
    let Some(customer_id) = ticket.customer_id else {
        return Ok(OtherTickets {
            href,
            ..OtherTickets::default()
        });
    };
    let mut query = tickets::table
        .filter(tickets::service_id.eq(service.id))
        .filter(tickets::customer_id.eq(customer_id))
        .filter(tickets::id.ne(ticket.id))
        .select(Ticket::as_select())
        .into_boxed();
    let q = q.trim();
    if !q.is_empty() {
        query = query.filter(
            lower(tickets::subject)
                .like(contains_pattern(q))
                .escape('\\')
                .or(tickets::public_id.eq(q.to_string())),
        );
    }
    if let Some(b) = before {
        query = query.filter(tickets::id.lt(b));
    }
    let mut found: Vec<Ticket> = query
        .order(tickets::id.desc())
        .limit(OTHER_PAGE + 1)
        .load(conn)?;
    let more = found.len() > usize::try_from(OTHER_PAGE).unwrap_or(usize::MAX);
    found.truncate(usize::try_from(OTHER_PAGE).unwrap_or(usize::MAX));
    let tz = service_tz(service);
    let next_href = match (more, found.last()) {
        (true, Some(last)) => Some(format!(
            "{href}?q={}&before={}",
            crate::common::text::url_encode(q),
            last.id
        )),
        _ => None,
    };
    Ok(OtherTickets {
        has_customer: true,
        q: q.to_string(),
        rows: found
            .iter()
            .map(|t| OtherRow {
                href: ticket_href(&service.code, &t.public_id),
                public_id: t.public_id.clone(),
                subject: t.subject.clone(),
                status_key: lifecycle::agent_label_key(t).to_string(),
                created: local_date(tz, t.created_at),
            })
            .collect(),
        next_href,
        href,
    })
}

/// One template in the panel.
#[derive(Debug, Clone)]
pub struct TemplateItem {
    /// Key.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Search code.
    pub search_code: String,
    /// Shared by the organization.
    pub shared: bool,
}

/// The reply-template panel.
#[derive(Debug, Clone, Default)]
pub struct TemplatePanel {
    /// Search text.
    pub q: String,
    /// Templates.
    pub rows: Vec<TemplateItem>,
    /// Whether the list is limited to a resolution type.
    pub by_resolution: bool,
    /// The panel's URL.
    pub href: String,
}

/// The templates the panel lists: those linked to `resolution` (when set and no search text is
/// given), otherwise every usable template matching `q`.
pub fn template_panel(
    conn: &mut DbConn,
    service: &Service,
    ticket: &Ticket,
    q: &str,
    resolution: Option<i64>,
) -> QueryResult<TemplatePanel> {
    let q: String = q.trim().chars().take(100).collect();
    let by_resolution = resolution.is_some() && q.is_empty();
    let query = TemplateQuery {
        q: q.clone(),
        resolution_id: if by_resolution { resolution } else { None },
        include_shared: true,
        before: None,
    };
    let rows = reply_templates::search(conn, service.id, &query, PAGE_SIZE)?
        .into_iter()
        .map(|t| TemplateItem {
            id: t.id,
            title: t.title,
            search_code: t.search_code,
            shared: t.shared && t.service_id != service.id,
        })
        .collect();
    Ok(TemplatePanel {
        q,
        rows,
        by_resolution,
        href: format!(
            "{}/templates",
            ticket_href(&service.code, &ticket.public_id)
        ),
    })
}

/// The other-tickets fragment.
#[derive(Template)]
#[template(path = "tickets/detail/_other_tickets.html")]
pub struct OtherFragment {
    /// Shared context.
    pub ctx: PageCtx,
    /// Panel.
    pub other: OtherTickets,
}

/// The template-list fragment.
#[derive(Template)]
#[template(path = "tickets/detail/_templates.html")]
pub struct TemplatesFragment {
    /// Shared context.
    pub ctx: PageCtx,
    /// Panel.
    pub templates: TemplatePanel,
}

/// The rendered body of one template (what Insert puts into the editor).
#[derive(Template)]
#[template(path = "tickets/detail/_template_body.html")]
pub struct TemplateBody {
    /// Rendered, sanitised HTML.
    pub html: String,
}

/// `?q=&before=&resolution_category_id=`
#[derive(Debug, Default, serde::Deserialize)]
pub struct PanelQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    before: String,
    #[serde(default)]
    resolution_category_id: String,
}

/// `GET /{service_id}/console/tickets/{public_id}/customer-tickets?q=&before=`
pub async fn customer_tickets(
    s: TicketStaff,
    path: web::Path<(String, String)>,
    query: web::Query<PanelQuery>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let q: String = query.q.chars().take(100).collect();
    let before = query.before.trim().parse::<i64>().ok();
    let s2 = s.info();
    let other = s
        .viewer()
        .state
        .db
        .read(move |c| {
            let t = load_ticket(c, s2.service.id, &pid)?;
            Ok(other_tickets(c, &s2.service, &t, &q, before)?)
        })
        .await?;
    let page = OtherFragment {
        ctx: PageCtx::console(&s, "ticket.detail.title"),
        other,
    };
    crate::web::html(StatusCode::OK, &page)
}

/// `GET /{service_id}/console/tickets/{public_id}/templates?q=&resolution_category_id=`
pub async fn list_templates(
    s: TicketStaff,
    path: web::Path<(String, String)>,
    query: web::Query<PanelQuery>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let q = query.q.clone();
    let resolution = query.resolution_category_id.trim().parse::<i64>().ok();
    let service = s.service.clone();
    let templates = s
        .viewer()
        .state
        .db
        .read(move |c| {
            let t = load_ticket(c, service.id, &pid)?;
            Ok(template_panel(c, &service, &t, &q, resolution)?)
        })
        .await?;
    let page = TemplatesFragment {
        ctx: PageCtx::console(&s, "ticket.detail.title"),
        templates,
    };
    crate::web::html(StatusCode::OK, &page)
}

/// Renders a template for a ticket: its codes expanded from the ticket in the customer's
/// language (`#{content}` is empty: the template is the content).
pub fn render_template_for(
    conn: &mut DbConn,
    env: &MailEnv,
    service: &Service,
    ticket: &Ticket,
    body_html: &str,
) -> QueryResult<String> {
    let lang = mail_lang(service, &ticket.lang);
    let ctx = Context::for_ticket(conn, &env.secret, &env.base_url, service, ticket, lang)?;
    Ok(render(&sanitize_html(body_html), &ctx, Mode::Html))
}

/// `GET /{service_id}/console/tickets/{public_id}/templates/{id}` — the template's body with
/// the ticket's values filled in.
pub async fn render_template(
    s: TicketStaff,
    path: web::Path<(String, String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, pid, id) = path.into_inner();
    let service = s.service.clone();
    let env = MailEnv::of(&s.viewer().state);
    let html = s
        .viewer()
        .state
        .db
        .read(move |c| {
            let t = load_ticket(c, service.id, &pid)?;
            let tpl = reply_templates::find_usable(c, service.id, id)?.ok_or(AppError::NotFound)?;
            Ok(render_template_for(c, &env, &service, &t, &tpl.body_html)?)
        })
        .await?;
    crate::web::html(StatusCode::OK, &TemplateBody { html })
}

/// `GET /{service_id}/console/tickets/{public_id}/attachments/{id}`
pub async fn download(
    s: TicketStaff,
    path: web::Path<(String, String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, pid, id) = path.into_inner();
    let sid = s.service.id;
    let a: TicketAttachment = s
        .viewer()
        .state
        .db
        .read(move |c| {
            let t = load_ticket(c, sid, &pid)?;
            let owners: Vec<i64> = std::iter::once(t.id).chain(t.origin_ticket_id).collect();
            Ok(ticket_attachments::table
                .find(id)
                .filter(ticket_attachments::ticket_id.eq_any(owners))
                .select(TicketAttachment::as_select())
                .first(c)
                .optional()?)
        })
        .await?
        .ok_or(AppError::NotFound)?;
    let as_hc = Attachment {
        id: a.id,
        service_id: sid,
        faq_id: None,
        notice_id: None,
        file_name: a.file_name,
        stored_path: a.stored_path,
        mime: a.mime,
        size_bytes: a.size_bytes,
        created_at: a.created_at,
    };
    serve(&s.viewer().state, as_hc).await
}
