//! The customer's inquiry history (`/{service_id}/hc/ticket/list/`, SPEC §4.1).
//!
//! A visitor who is not signed in asks for a sign-in link by e-mail. The link carries a token
//! signed with the installation secret (service, e-mail, expiry: 24 hours) and is only mailed
//! when that address has inquiries in the service; the page answers the same either way, so it
//! never tells whether an address is known. Opening the link stores an [`HcIdentity`] for that
//! service in the session. Members signed in through member integration have an identity too.
//!
//! The list shows the visitor's own tickets with the customer-facing status names; the detail
//! shows only what customers may see (their messages and follow-ups, answers and hold answers,
//! never internal comments or events) with the attachments of those entries, and takes a
//! follow-up with attachments: a solved ticket reopens, a completed one refuses.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::TimeDelta;
use diesel::prelude::*;

use crate::AppState;
use crate::common::text::{sanitize_html, text_to_html};
use crate::common::time::local_display;
use crate::customers::normalize_email;
use crate::db::schema::{customers, mail_outbox, ticket_attachments, ticket_entries, tickets};
use crate::db::types::{ServiceId, TicketId};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::help_center::attachments::{self, Attachment, StoredFile, check_files};
use crate::help_center::customer_session::{self, HcIdentity};
use crate::help_center::portal::{HcCtx, Portal};
use crate::i18n::{self, Lang};
use crate::notify::outbox::{self, NewMail};
use crate::notify::smtp::OutgoingMail;
use crate::org::info::UPLOADS_DIR;
use crate::tenancy::service::service_tz;
use crate::tickets::lifecycle::{self, LifecycleError};
use crate::tickets::{EntryKind, Status, Ticket};
use crate::web::{FormErrors, PageCtx, Viewer};

/// Signature purpose of history links.
const PURPOSE: &str = "hc-history-link";
/// How long a mailed link works.
pub const LINK_LIFETIME: TimeDelta = TimeDelta::hours(24);
/// Links mailed to one address per hour at most.
const LINKS_PER_HOUR: i64 = 3;
/// Tickets per page.
const PAGE: i64 = 20;
/// Longest follow-up text.
pub const MAX_FOLLOWUP_CHARS: usize = 10_000;

/// A signed history link token for `email` in a service, valid until `expires` (epoch
/// seconds): `expires.base64(email).signature`.
pub fn link_token(secret: &crate::SecretKey, service_id: i64, email: &str, expires: i64) -> String {
    let email = normalize_email(email);
    let enc = URL_SAFE_NO_PAD.encode(email.as_bytes());
    let sig = secret.sign(PURPOSE, &format!("{service_id}:{expires}:{email}"));
    format!("{expires}.{enc}.{sig}")
}

/// The e-mail a token proves, if it is genuine, for this service and not expired.
pub fn verify_token(
    secret: &crate::SecretKey,
    service_id: i64,
    token: &str,
    now_epoch: i64,
) -> Option<String> {
    let mut parts = token.splitn(3, '.');
    let expires: i64 = parts.next()?.parse().ok()?;
    let email = String::from_utf8(URL_SAFE_NO_PAD.decode(parts.next()?).ok()?).ok()?;
    let sig = parts.next()?;
    if !secret.verify(PURPOSE, &format!("{service_id}:{expires}:{email}"), sig) {
        return None;
    }
    (expires > now_epoch).then_some(email)
}

/// The visitor's customer records in the service: a member's by user code (and e-mail when the
/// member integration gave one), an e-mail-link visitor's by e-mail.
fn customer_ids(conn: &mut DbConn, who: &HcIdentity) -> QueryResult<Vec<i64>> {
    let mut ids: Vec<i64> = Vec::new();
    if let Some(code) = who.usercode.as_deref().filter(|c| !c.is_empty()) {
        ids = customers::table
            .filter(customers::service_id.eq(who.service_id))
            .filter(customers::usercode.eq(code))
            .select(customers::id)
            .load(conn)?;
    }
    if let Some(email) = who.email.as_deref().filter(|e| !e.is_empty())
        && !who.is_member()
    {
        ids.extend(
            customers::table
                .filter(customers::service_id.eq(who.service_id))
                .filter(customers::email.eq(email))
                .select(customers::id)
                .load::<i64>(conn)?,
        );
    }
    Ok(ids)
}

/// The sign-in request page (no identity yet).
#[derive(Template)]
#[template(path = "help_center/history_signin.html")]
pub struct SignInPage {
    /// Layout context.
    pub ctx: PageCtx,
    /// Help-center context.
    pub hc: HcCtx,
    /// Entered address.
    pub email: String,
    /// Messages.
    pub errors: FormErrors,
    /// The link was requested.
    pub sent: bool,
    /// The link used was expired or broken.
    pub bad_link: bool,
}

/// One ticket in the list.
#[derive(Debug, Clone)]
pub struct Row {
    /// Public ID.
    pub public_id: String,
    /// Subject.
    pub subject: String,
    /// Customer-facing status.
    pub status: String,
    /// Status code (for the badge colour).
    pub status_code: &'static str,
    /// Created (local).
    pub created: String,
    /// Detail link.
    pub href: String,
}

/// The list page.
#[derive(Template)]
#[template(path = "help_center/history_list.html")]
pub struct ListPage {
    /// Layout context.
    pub ctx: PageCtx,
    /// Help-center context.
    pub hc: HcCtx,
    /// Who is signed in (e-mail or member name).
    pub who: String,
    /// Tickets.
    pub rows: Vec<Row>,
    /// Next page link.
    pub next: Option<String>,
}

/// One timeline item.
#[derive(Debug, Clone)]
pub struct Item {
    /// Written by the customer.
    pub mine: bool,
    /// Author line.
    pub author: String,
    /// Kind label.
    pub label: String,
    /// Sanitised HTML.
    pub body: String,
    /// Time (local).
    pub time: String,
    /// Attachments: name, link, size.
    pub files: Vec<(String, String, String)>,
}

/// The detail page.
#[derive(Template)]
#[template(path = "help_center/history_detail.html")]
pub struct DetailPage {
    /// Layout context.
    pub ctx: PageCtx,
    /// Help-center context.
    pub hc: HcCtx,
    /// Public ID.
    pub public_id: String,
    /// Subject.
    pub subject: String,
    /// Customer-facing status.
    pub status: String,
    /// Status code.
    pub status_code: &'static str,
    /// Created (local).
    pub created: String,
    /// Timeline.
    pub items: Vec<Item>,
    /// A follow-up may be added.
    pub can_follow_up: bool,
    /// Where the follow-up form posts.
    pub action: String,
    /// Entered follow-up text (kept after an error).
    pub text: String,
    /// Messages.
    pub errors: FormErrors,
    /// The follow-up was added.
    pub added: bool,
    /// Attachment limits line.
    pub file_hint: String,
}

async fn load(req: &HttpRequest, v: &Viewer, code: &str) -> Result<Portal, AppError> {
    let p = Portal::load(req, v, code, "hc.history.title").await?;
    if !p.hc.show_history {
        return Err(AppError::NotFound);
    }
    Ok(p)
}

fn sign_in_page(
    p: &Portal,
    email: String,
    errors: FormErrors,
    sent: bool,
    bad: bool,
) -> SignInPage {
    SignInPage {
        ctx: p.ctx.clone(),
        hc: p.hc.clone(),
        email,
        errors,
        sent,
        bad_link: bad,
    }
}

/// `?before=`
#[derive(Debug, serde::Deserialize)]
pub struct ListQuery {
    /// Show tickets with a smaller key.
    pub before: Option<i64>,
}

/// `GET /{service_id}/hc/ticket/list/`: the visitor's tickets, or the sign-in request form.
pub async fn list(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let p = load(&req, &v, &path).await?;
    let Some(who) = customer_session::current(&v.session, p.service.id) else {
        let page = sign_in_page(&p, String::new(), FormErrors::new(p.hc.lang), false, false);
        return p.respond(&page);
    };
    let before = query.before;
    let who2 = who.clone();
    let found: Vec<(i64, String, String, String, chrono::NaiveDateTime)> = v
        .state
        .db
        .read(move |c| {
            let ids = customer_ids(c, &who2)?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut q = tickets::table
                .filter(tickets::customer_id.eq_any(ids))
                .order(tickets::id.desc())
                .limit(PAGE + 1)
                .select((
                    tickets::id,
                    tickets::public_id,
                    tickets::subject,
                    tickets::status,
                    tickets::created_at,
                ))
                .into_boxed();
            if let Some(b) = before {
                q = q.filter(tickets::id.lt(b));
            }
            Ok(q.load(c)?)
        })
        .await?;
    let tz = service_tz(&p.service);
    let lang = p.hc.lang;
    let more = found.len() as i64 > PAGE;
    let rows: Vec<Row> = found
        .iter()
        .take(PAGE as usize)
        .map(|(_, public_id, subject, status, created)| {
            let s = Status::parse(status).unwrap_or(Status::Open);
            Row {
                public_id: public_id.clone(),
                subject: subject.clone(),
                status: i18n::t(lang, s.label_key()),
                status_code: s.as_str(),
                created: local_display(tz, *created),
                href: p.hc.href(&format!("/ticket/{public_id}/")),
            }
        })
        .collect();
    let next = if more {
        rows.last()
            .and_then(|_| found.get(PAGE as usize - 1))
            .map(|(id, ..)| {
                let base = p.hc.href("/ticket/list/");
                let sep = if base.contains('?') { '&' } else { '?' };
                format!("{base}{sep}before={id}")
            })
    } else {
        None
    };
    let who_label = who
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .or(who.email.clone())
        .unwrap_or_default();
    p.respond(&ListPage {
        ctx: p.ctx.clone(),
        hc: p.hc.clone(),
        who: who_label,
        rows,
        next,
    })
}

/// The sign-in request form.
#[derive(Debug, serde::Deserialize)]
pub struct LinkForm {
    /// The customer's address.
    #[serde(default)]
    pub email: String,
}

/// `POST /{service_id}/hc/ticket/list/`: mails a sign-in link when the address has inquiries
/// here (at most three an hour); answers the same whether or not it has.
pub async fn request_link(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, AppError> {
    let p = load(&req, &v, &path).await?;
    let lang = p.hc.lang;
    let email = normalize_email(&form.email);
    let mut errors = FormErrors::new(lang);
    if email.is_empty() {
        errors.add("email", "hc.history.email_required");
    } else if email.chars().count() > 254 || !crate::tenancy::user::is_valid_email(&email) {
        errors.add("email", "validation.email_format");
    }
    if !errors.is_empty() {
        let page = sign_in_page(&p, form.email.clone(), errors, false, false);
        return p.respond_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let sid = p.service.id;
    let expires = (now() + LINK_LIFETIME).and_utc().timestamp();
    let token = link_token(&v.state.secret, sid, &email, expires);
    let mut link = format!(
        "{}/{}/hc/ticket/list/access?link={token}",
        v.state.config.base_url.trim_end_matches('/'),
        p.service.code
    );
    if p.hc.languages.len() > 1 {
        link.push_str(&format!("&lang={}", lang.code()));
    }
    let args = [
        ("service", p.service.name.as_str()),
        ("link", link.as_str()),
    ];
    let mail = OutgoingMail {
        to: email.clone(),
        subject: i18n::tf(lang, "hc.history.mail_subject", &args),
        text: i18n::tf(lang, "hc.history.mail_text", &args),
        html: HistoryMail {
            intro: &i18n::tf(lang, "hc.history.mail_intro", &args),
            link: &link,
            button: &i18n::t(lang, "hc.history.mail_button"),
            note: &i18n::t(lang, "hc.history.mail_note"),
        }
        .render()
        .map_err(|e| AppError::Internal(format!("template: {e}")))?,
        ..OutgoingMail::default()
    };
    v.state
        .db
        .write(move |c| {
            let known: i64 = customers::table
                .inner_join(tickets::table.on(tickets::customer_id.eq(customers::id.nullable())))
                .filter(customers::service_id.eq(sid))
                .filter(customers::email.eq(&email))
                .count()
                .get_result(c)?;
            if known == 0 {
                return Ok(false);
            }
            let recent: i64 = mail_outbox::table
                .filter(mail_outbox::service_id.eq(sid))
                .filter(mail_outbox::purpose.eq("history_link"))
                .filter(mail_outbox::to_addr.eq(&email))
                .filter(mail_outbox::created_at.gt(now() - TimeDelta::hours(1)))
                .count()
                .get_result(c)?;
            if recent >= LINKS_PER_HOUR {
                tracing::info!(service = sid, "history link not sent: hourly limit reached");
                return Ok(false);
            }
            outbox::enqueue(
                c,
                &NewMail {
                    service_id: Some(sid),
                    ticket_id: None,
                    purpose: "history_link".into(),
                    mail,
                },
            )?;
            Ok(true)
        })
        .await?;
    let page = sign_in_page(&p, form.email.clone(), FormErrors::new(lang), true, false);
    p.respond(&page)
}

/// The HTML part of the sign-in link mail.
#[derive(Template)]
#[template(path = "email/history_link.html")]
struct HistoryMail<'a> {
    intro: &'a str,
    link: &'a str,
    button: &'a str,
    note: &'a str,
}

/// `?link=` (not `token`, which member integration's entry parameters use).
#[derive(Debug, serde::Deserialize)]
pub struct AccessQuery {
    /// The signed token.
    #[serde(default)]
    pub link: String,
}

/// `GET /{service_id}/hc/ticket/list/access?link=…`: signs the visitor in by a mailed link.
pub async fn access(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
    query: web::Query<AccessQuery>,
) -> Result<HttpResponse, AppError> {
    let p = load(&req, &v, &path).await?;
    let email = verify_token(
        &v.state.secret,
        p.service.id,
        &query.link,
        now().and_utc().timestamp(),
    );
    let Some(email) = email else {
        let page = sign_in_page(&p, String::new(), FormErrors::new(p.hc.lang), false, true);
        return p.respond_status(StatusCode::BAD_REQUEST, &page);
    };
    v.session.renew();
    customer_session::sign_in(&v.session, &HcIdentity::by_email(p.service.id, &email));
    Ok(HttpResponse::SeeOther()
        .insert_header(("location", p.hc.href("/ticket/list/")))
        .finish())
}

/// `POST /{service_id}/hc/ticket/list/signout`: forgets the visitor's identity here.
pub async fn sign_out(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let p = load(&req, &v, &path).await?;
    customer_session::sign_out(&v.session, p.service.id);
    Ok(HttpResponse::SeeOther()
        .insert_header(("location", p.hc.href("/ticket/list/")))
        .finish())
}

/// The visitor's ticket by public ID (404 when it is not theirs), with the identity.
async fn own_ticket(
    state: &web::Data<AppState>,
    v: &Viewer,
    p: &Portal,
    public_id: &str,
) -> Result<Option<Ticket>, AppError> {
    let Some(who) = customer_session::current(&v.session, p.service.id) else {
        return Ok(None);
    };
    if !public_id.starts_with('T') || public_id.len() > 40 {
        return Err(AppError::NotFound);
    }
    let (sid, public_id) = (p.service.id, public_id.to_string());
    let t = state
        .db
        .read(move |c| {
            let ids = customer_ids(c, &who)?;
            let t = Ticket::find_by_public_id(c, sid, &public_id)?;
            Ok(t.filter(|t| t.customer_id.is_some_and(|cid| ids.contains(&cid))))
        })
        .await?;
    t.map(Some).ok_or(AppError::NotFound)
}

fn entry_label(lang: Lang, kind: EntryKind) -> String {
    i18n::t(
        lang,
        match kind {
            EntryKind::CustomerMessage => "hc.history.kind.message",
            EntryKind::CustomerFollowup => "hc.history.kind.followup",
            EntryKind::HoldReply => "hc.history.kind.hold",
            _ => "hc.history.kind.answer",
        },
    )
}

async fn detail_page(
    v: &Viewer,
    p: &Portal,
    t: &Ticket,
    text: String,
    errors: FormErrors,
    added: bool,
) -> Result<DetailPage, AppError> {
    let tid = t.id;
    let (entries, files): (Vec<(i64, String, String, chrono::NaiveDateTime)>, Vec<_>) = v
        .state
        .db
        .read(move |c| {
            let visible: Vec<&str> = EntryKind::ALL
                .iter()
                .filter(|k| k.customer_visible())
                .map(|k| k.as_str())
                .collect();
            let entries = ticket_entries::table
                .filter(ticket_entries::ticket_id.eq(tid))
                .filter(ticket_entries::kind.eq_any(visible))
                .order(ticket_entries::id.asc())
                .select((
                    ticket_entries::id,
                    ticket_entries::kind,
                    ticket_entries::body,
                    ticket_entries::created_at,
                ))
                .load::<(i64, String, String, chrono::NaiveDateTime)>(c)?;
            let files = ticket_attachments::table
                .filter(ticket_attachments::ticket_id.eq(tid))
                .order(ticket_attachments::id.asc())
                .select((
                    ticket_attachments::id,
                    ticket_attachments::entry_id,
                    ticket_attachments::file_name,
                    ticket_attachments::size_bytes,
                ))
                .load::<(i64, Option<i64>, String, i64)>(c)?;
            Ok((entries, files))
        })
        .await?;
    let lang = p.hc.lang;
    let tz = service_tz(&p.service);
    let items = entries
        .into_iter()
        .map(|(id, kind, body, at)| {
            let kind = EntryKind::parse(&kind).unwrap_or(EntryKind::AgentReply);
            let mine = matches!(
                kind,
                EntryKind::CustomerMessage | EntryKind::CustomerFollowup
            );
            Item {
                mine,
                author: if mine {
                    i18n::t(lang, "hc.history.you")
                } else {
                    p.service.name.clone()
                },
                label: entry_label(lang, kind),
                body: sanitize_html(&body),
                time: local_display(tz, at),
                files: files
                    .iter()
                    .filter(|(_, e, _, _)| *e == Some(id))
                    .map(|(fid, _, name, size)| {
                        (
                            name.clone(),
                            p.hc.href(&format!("/ticket/{}/files/{fid}", t.public_id)),
                            attachments::size_label(*size),
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let s = t.status();
    let mut ctx = p.ctx.clone();
    ctx.title = t.subject.clone();
    Ok(DetailPage {
        ctx,
        hc: p.hc.clone(),
        public_id: t.public_id.clone(),
        subject: t.subject.clone(),
        status: i18n::t(lang, s.label_key()),
        status_code: s.as_str(),
        created: local_display(tz, t.created_at),
        items,
        can_follow_up: s != Status::Closed,
        action: {
            let base = p.hc.href(&format!("/ticket/{}/", t.public_id));
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}csrf_token={}", p.ctx.csrf)
        },
        text,
        errors,
        added,
        file_hint: i18n::tf(
            lang,
            "inquiry.file_hint",
            &[
                ("max", &attachments::MAX_FILES.to_string()),
                ("exts", &attachments::EXTENSIONS.join(", ")),
            ],
        ),
    })
}

/// `?added=1` after a follow-up.
#[derive(Debug, serde::Deserialize)]
pub struct DetailQuery {
    /// A follow-up was just added.
    pub added: Option<String>,
}

/// `GET /{service_id}/hc/ticket/{public_id}/`: one of the visitor's tickets.
pub async fn detail(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<(String, String)>,
    query: web::Query<DetailQuery>,
) -> Result<HttpResponse, AppError> {
    let (code, public_id) = path.into_inner();
    let p = load(&req, &v, &code).await?;
    let Some(t) = own_ticket(&v.state, &v, &p, &public_id).await? else {
        return Ok(HttpResponse::SeeOther()
            .insert_header(("location", p.hc.href("/ticket/list/")))
            .finish());
    };
    let page = detail_page(
        &v,
        &p,
        &t,
        String::new(),
        FormErrors::new(p.hc.lang),
        query.added.is_some(),
    )
    .await?;
    p.respond(&page)
}

/// `POST /{service_id}/hc/ticket/{public_id}/?csrf_token=…` (multipart: `text`, `file`…): adds
/// a follow-up. A solved ticket reopens; a completed ticket refuses.
pub async fn follow_up(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<(String, String)>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let (code, public_id) = path.into_inner();
    let p = load(&req, &v, &code).await?;
    let Some(t) = own_ticket(&v.state, &v, &p, &public_id).await? else {
        return Ok(HttpResponse::SeeOther()
            .insert_header(("location", p.hc.href("/ticket/list/")))
            .finish());
    };
    let lang = p.hc.lang;
    let mut errors = FormErrors::new(lang);
    let (text, files) = match crate::help_center::inquiry::read_text_and_files(payload).await? {
        Some(parts) => parts,
        None => {
            errors.add("file", "inquiry.body_too_large");
            (String::new(), Vec::new())
        }
    };
    let text = text.trim().to_string();
    if errors.is_empty() {
        if text.is_empty() {
            errors.add("text", "hc.history.text_required");
        } else if text.chars().count() > MAX_FOLLOWUP_CHARS {
            errors.add_with(
                "text",
                "validation.too_long",
                &[("max", &MAX_FOLLOWUP_CHARS.to_string())],
            );
        }
        if !files.is_empty()
            && let Err(msg) = check_files(lang, 0, &files)
        {
            errors.add_text("file", msg);
        }
    }
    if t.status() == Status::Closed {
        errors.add("text", "hc.history.closed");
    }
    if !errors.is_empty() {
        let page = detail_page(&v, &p, &t, text, errors, false).await?;
        return p.respond_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let sid = p.service.id;
    let data_dir = v.state.config.data_dir.clone();
    let stored: Vec<StoredFile> = web::block(move || {
        attachments::store_files_in(&data_dir, &format!("{UPLOADS_DIR}/tickets/{sid}"), files)
    })
    .await
    .map_err(|e| AppError::Internal(format!("upload: {e}")))?
    .map_err(|e| AppError::Internal(format!("upload: {e}")))?;
    let paths: Vec<String> = stored.iter().map(|s| s.path.clone()).collect();
    let body = text_to_html(&text);
    let tid = t.id;
    let result = v
        .state
        .db
        .write(move |c| {
            let fresh =
                Ticket::find(c, ServiceId(sid), TicketId(tid))?.ok_or(AppError::NotFound)?;
            Ok(lifecycle::customer_followup(
                c, &fresh, &body, &stored, None,
            ))
        })
        .await;
    match result {
        Ok(Ok(_)) => Ok(HttpResponse::SeeOther()
            .insert_header((
                "location",
                format!(
                    "{}{}added=1",
                    p.hc.href(&format!("/ticket/{}/", t.public_id)),
                    if p.hc.keep.is_empty() { '?' } else { '&' }
                ),
            ))
            .finish()),
        Ok(Err(e)) => {
            attachments::remove_files_later(&v.state, paths).await;
            let mut errors = FormErrors::new(lang);
            errors.add(
                "text",
                if e == LifecycleError::Closed {
                    "hc.history.closed"
                } else {
                    e.message_key()
                },
            );
            let t = v
                .state
                .db
                .read(move |c| Ok(Ticket::find(c, ServiceId(sid), TicketId(tid))?))
                .await?
                .ok_or(AppError::NotFound)?;
            let page = detail_page(&v, &p, &t, text, errors, false).await?;
            p.respond_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => {
            attachments::remove_files_later(&v.state, paths).await;
            Err(e)
        }
    }
}

/// `GET /{service_id}/hc/ticket/{public_id}/files/{id}`: an attachment of a customer-visible
/// entry of the visitor's ticket.
pub async fn download(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<(String, String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (code, public_id, file_id) = path.into_inner();
    let p = load(&req, &v, &code).await?;
    let t = own_ticket(&v.state, &v, &p, &public_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let tid = t.id;
    let sid = p.service.id;
    let a = v
        .state
        .db
        .read(move |c| {
            let row: Option<(String, String, String, i64, Option<String>)> =
                ticket_attachments::table
                    .left_join(
                        ticket_entries::table.on(ticket_entries::id
                            .nullable()
                            .eq(ticket_attachments::entry_id)),
                    )
                    .filter(ticket_attachments::id.eq(file_id))
                    .filter(ticket_attachments::ticket_id.eq(tid))
                    .select((
                        ticket_attachments::file_name,
                        ticket_attachments::stored_path,
                        ticket_attachments::mime,
                        ticket_attachments::size_bytes,
                        ticket_entries::kind.nullable(),
                    ))
                    .first(c)
                    .optional()?;
            Ok(row)
        })
        .await?
        .ok_or(AppError::NotFound)?;
    let visible =
        a.4.as_deref()
            .and_then(EntryKind::parse)
            .is_some_and(EntryKind::customer_visible);
    if !visible {
        return Err(AppError::NotFound);
    }
    attachments::serve(
        &v.state,
        Attachment {
            id: file_id,
            service_id: sid,
            faq_id: None,
            notice_id: None,
            file_name: a.0,
            stored_path: a.1,
            mime: a.2,
            size_bytes: a.3,
            created_at: now(),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_for_their_service_address_and_time() {
        let key = crate::SecretKey::from_bytes([7; 64]);
        let t = link_token(&key, 3, "Casey@Example.com", 1_000);
        assert_eq!(
            verify_token(&key, 3, &t, 999).as_deref(),
            Some("casey@example.com")
        );
        assert_eq!(verify_token(&key, 3, &t, 1_000), None, "expired");
        assert_eq!(verify_token(&key, 4, &t, 999), None, "other service");
        let other = crate::SecretKey::from_bytes([8; 64]);
        assert_eq!(verify_token(&other, 3, &t, 999), None, "other installation");
        let forged = t.replacen("1000", "9000", 1);
        assert_eq!(verify_token(&key, 3, &forged, 999), None, "changed expiry");
        assert_eq!(verify_token(&key, 3, "garbage", 0), None);
    }
}
