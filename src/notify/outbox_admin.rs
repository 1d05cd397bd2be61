//! The outbox seen by administrators (SPEC §3.7, issue "no mail is ever lost"): a service's
//! administrators see the service's mail at `/{service_id}/console/settings/mail-outbox`,
//! organization administrators the organization's own mail (invitations, password resets:
//! `service_id` NULL) at `/admin/outbox`. Each row shows status, recipient, subject, attempts,
//! the last error and the next attempt; the list is filtered by status (unsent by default) and
//! paginated by id (`?before=`). A failed mail can be put back in the queue.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::outbox::{self, OutboxStatus, QueuedMail};
use crate::console::shell::settings_base;
use crate::db::schema::mail_outbox;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::web::{self as w, Flash, OrgAdmin, PageCtx, ServiceAdmin};

/// Mails per page.
const PAGE_SIZE: i64 = 50;
/// Longest last error shown in the table (the full text is a tooltip).
const ERROR_SHOWN: usize = 120;

/// Which mails a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Not yet delivered: pending, sending and failed (the default).
    Unsent,
    /// Failed only.
    Failed,
    /// Waiting to be sent (pending or sending).
    Queued,
    /// Delivered.
    Sent,
    /// Everything.
    All,
}

impl Filter {
    /// Every filter, in menu order.
    pub const ALL: [Filter; 5] = [
        Filter::Unsent,
        Filter::Failed,
        Filter::Queued,
        Filter::Sent,
        Filter::All,
    ];

    /// The query-string code.
    pub fn code(self) -> &'static str {
        match self {
            Filter::Unsent => "unsent",
            Filter::Failed => "failed",
            Filter::Queued => "queued",
            Filter::Sent => "sent",
            Filter::All => "all",
        }
    }

    /// Reads the query-string code (unknown: the default).
    pub fn parse(s: &str) -> Filter {
        Filter::ALL
            .into_iter()
            .find(|f| f.code() == s)
            .unwrap_or(Filter::Unsent)
    }

    fn statuses(self) -> Vec<&'static str> {
        use OutboxStatus::*;
        match self {
            Filter::Unsent => vec![Pending.as_str(), Sending.as_str(), Failed.as_str()],
            Filter::Failed => vec![Failed.as_str()],
            Filter::Queued => vec![Pending.as_str(), Sending.as_str()],
            Filter::Sent => vec![Sent.as_str()],
            Filter::All => vec![
                Pending.as_str(),
                Sending.as_str(),
                Sent.as_str(),
                Failed.as_str(),
            ],
        }
    }
}

/// Whose mail a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One service's mail.
    Service(i64),
    /// The organization's own mail (no service).
    Organization,
}

/// One page of mails, newest first, with ids below `before`; `limit + 1` rows are read so the
/// caller knows whether there is a next page.
pub fn page_of(
    conn: &mut DbConn,
    scope: Scope,
    filter: Filter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<QueuedMail>> {
    let mut q = mail_outbox::table
        .filter(mail_outbox::status.eq_any(filter.statuses()))
        .select(QueuedMail::as_select())
        .order(mail_outbox::id.desc())
        .limit(limit)
        .into_boxed();
    q = match scope {
        Scope::Service(sid) => q.filter(mail_outbox::service_id.eq(sid)),
        Scope::Organization => q.filter(mail_outbox::service_id.is_null()),
    };
    if let Some(b) = before {
        q = q.filter(mail_outbox::id.lt(b));
    }
    q.load(conn)
}

/// Puts a failed mail of `scope` back in the queue; `Ok(false)` when it is not failed (or not
/// in the scope).
pub fn retry_in(conn: &mut DbConn, scope: Scope, id: i64) -> QueryResult<bool> {
    let owner: Option<Option<i64>> = mail_outbox::table
        .find(id)
        .select(mail_outbox::service_id)
        .first(conn)
        .optional()?;
    let in_scope = match (scope, owner) {
        (Scope::Service(sid), Some(Some(s))) => s == sid,
        (Scope::Organization, Some(None)) => true,
        _ => false,
    };
    if !in_scope {
        return Ok(false);
    }
    outbox::retry(conn, id)
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// Key.
    pub id: i64,
    /// Status code.
    pub status: String,
    /// Status label key.
    pub status_key: String,
    /// What the mail is (translated when known).
    pub purpose: String,
    /// Recipient (`Name <address>` or the address).
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Attempts made.
    pub attempts: i32,
    /// Shortened last error.
    pub error: String,
    /// Full last error.
    pub error_full: String,
    /// When the next attempt is due (empty when sent or failed).
    pub next_attempt: String,
    /// Queued.
    pub created: String,
    /// Delivered (empty when not).
    pub sent: String,
    /// Whether the administrator may retry it.
    pub retryable: bool,
}

fn fmt_time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn purpose_label(lang: Lang, purpose: &str) -> String {
    const KNOWN: &[&str] = &[
        "receipt",
        "resolve",
        "hold",
        "invite",
        "reset",
        "notification",
    ];
    if KNOWN.contains(&purpose) {
        i18n::t(lang, &format!("outbox.purpose.{purpose}"))
    } else {
        purpose.to_string()
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

fn row_of(lang: Lang, m: QueuedMail) -> OutboxRow {
    let unsent =
        m.status == OutboxStatus::Pending.as_str() || m.status == OutboxStatus::Sending.as_str();
    OutboxRow {
        id: m.id,
        status_key: format!("outbox.status.{}", m.status),
        retryable: m.status == OutboxStatus::Failed.as_str(),
        purpose: purpose_label(lang, &m.purpose),
        to: if m.to_name.is_empty() {
            m.to_addr.clone()
        } else {
            format!("{} <{}>", m.to_name, m.to_addr)
        },
        subject: m.subject,
        attempts: m.attempts,
        error: shorten(&m.last_error, ERROR_SHOWN),
        error_full: m.last_error,
        next_attempt: if unsent {
            fmt_time(m.next_attempt_at.max(now()))
        } else {
            String::new()
        },
        created: fmt_time(m.created_at),
        sent: m.sent_at.map(fmt_time).unwrap_or_default(),
        status: m.status,
    }
}

/// `?status=&before=`
#[derive(Debug, Default, serde::Deserialize)]
pub struct OutboxQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    before: String,
}

/// The table and its filter, shared by both pages.
#[derive(Debug, Clone)]
pub struct OutboxList {
    /// Where the list lives (`…/mail-outbox` or `/admin/outbox`).
    pub href: String,
    /// The current filter code.
    pub filter: String,
    /// Filters: code and label key.
    pub filters: Vec<(String, String)>,
    /// Rows.
    pub rows: Vec<OutboxRow>,
    /// Link to older mail.
    pub next: Option<String>,
}

/// A service's outbox page.
#[derive(Template)]
#[template(path = "mail/outbox.html")]
pub struct ServiceOutboxPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// The list.
    pub list: OutboxList,
}

/// The organization's outbox page.
#[derive(Template)]
#[template(path = "mail/outbox_admin.html")]
pub struct OrgOutboxPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// The list.
    pub list: OutboxList,
}

async fn list(
    state: &crate::AppState,
    lang: Lang,
    scope: Scope,
    href: String,
    query: &OutboxQuery,
) -> Result<OutboxList, AppError> {
    let filter = Filter::parse(query.status.trim());
    let before = query.before.trim().parse::<i64>().ok();
    let mut mails = state
        .db
        .read(move |c| Ok(page_of(c, scope, filter, before, PAGE_SIZE + 1)?))
        .await?;
    let next = if mails.len() as i64 > PAGE_SIZE {
        mails.truncate(PAGE_SIZE as usize);
        mails
            .last()
            .map(|m| format!("{href}?status={}&before={}", filter.code(), m.id))
    } else {
        None
    };
    Ok(OutboxList {
        href,
        filter: filter.code().to_string(),
        filters: Filter::ALL
            .iter()
            .map(|f| (f.code().to_string(), format!("outbox.filter.{}", f.code())))
            .collect(),
        rows: mails.into_iter().map(|m| row_of(lang, m)).collect(),
        next,
    })
}

fn service_href(a: &ServiceAdmin) -> String {
    format!("{}/mail-outbox", settings_base(&a.service.code))
}

/// `GET /{service_id}/console/settings/mail-outbox`
pub async fn service_outbox(
    a: ServiceAdmin,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, AppError> {
    let list = list(
        &a.viewer().state,
        a.viewer().lang,
        Scope::Service(a.service.id),
        service_href(&a),
        &query,
    )
    .await?;
    let page = ServiceOutboxPage {
        ctx: PageCtx::console(&a, "outbox.title"),
        list,
    };
    w::html(StatusCode::OK, &page)
}

/// `GET /admin/outbox`
pub async fn org_outbox(
    admin: OrgAdmin,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, AppError> {
    let v = &admin.0.viewer;
    let list = list(
        &v.state,
        v.lang,
        Scope::Organization,
        "/admin/outbox".into(),
        &query,
    )
    .await?;
    let page = OrgOutboxPage {
        ctx: PageCtx::admin(&admin.0, "outbox.org_title"),
        list,
    };
    w::html(StatusCode::OK, &page)
}

async fn retry_and_flash(v: &crate::web::Viewer, scope: Scope, id: i64) -> Result<(), AppError> {
    let retried = v
        .state
        .db
        .write(move |c| Ok(retry_in(c, scope, id)?))
        .await?;
    if retried {
        v.flash(Flash::success(v.t("outbox.retried")));
    } else {
        v.flash(Flash::error(v.t("outbox.not_failed")));
    }
    Ok(())
}

/// `POST /{service_id}/console/settings/mail-outbox/{id}/retry`
pub async fn retry_service_mail(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    retry_and_flash(a.viewer(), Scope::Service(a.service.id), path.1).await?;
    Ok(w::redirect(&req, &service_href(&a)))
}

/// `POST /admin/outbox/{id}/retry`
pub async fn retry_org_mail(
    req: HttpRequest,
    admin: OrgAdmin,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    retry_and_flash(&admin.0.viewer, Scope::Organization, *path).await?;
    Ok(w::redirect(&req, "/admin/outbox"))
}
