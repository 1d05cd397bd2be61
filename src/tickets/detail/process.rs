//! Showing a ticket, processing it and previewing the customer mail (SPEC §5.5).
//!
//! Process reads the multipart form (reply, attachments, resolution type, priority, agent
//! fields, action, reason, the ticket version the form was rendered at and a one-time client
//! token), refuses bad input and forbidden words with the form re-rendered (422, the text
//! kept), and otherwise runs one transaction: `lifecycle::process`, the agent-field values,
//! and for resolve and hold the customer mail queued through [`crate::tickets::mailer`]. A
//! stale version re-renders the form with `ticket.error.stale`; the same form submitted twice
//! yields one answer. Preview renders exactly the mail Process would send, without saving.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;

use crate::categories::model::Tree;
use crate::common::text::{escape_html, html_to_text, sanitize_html};
use crate::db::DbConn;
use crate::db::schema::{ticket_entries, ticket_field_values};
use crate::db::types::CategoryTree;
use crate::error::AppError;
use crate::fields::model::FieldDef;
use crate::fields::personal::store_value;
use crate::help_center::attachments::{self, Incoming, StoredFile, check_files};
use crate::i18n::{self, Lang};
use crate::notify::layouts::{LayoutKind, mail_lang};
use crate::org::info::UPLOADS_DIR;
use crate::tickets::detail::access::TicketStaff;
use crate::tickets::detail::form::{Body, FieldChange, Submitted, read_fields, read_multipart};
use crate::tickets::detail::view::{
    self, PageState, PreviewView, agent_defs, agent_field_editable, load_ticket, ticket_href,
};
use crate::tickets::forbidden;
use crate::tickets::lifecycle::{
    self, Action, InternalReason, LifecycleError, ProcessInput, mails_customer,
};
use crate::tickets::mailer::{self, MailEnv};
use crate::tickets::settings::TicketSettings;
use crate::tickets::{FieldValue, Priority, Ticket, field_values_of};
use crate::web::{self as w, Flash, FormErrors};

/// Longest reply (sanitised HTML, characters).
pub const MAX_REPLY: usize = 100_000;
/// Longest client token accepted.
const MAX_TOKEN: usize = 64;

/// `GET /{service_id}/console/tickets/{public_id}`
pub async fn show_ticket(
    s: TicketStaff,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let page = view::build(&s, &pid, PageState::default()).await?;
    w::html(StatusCode::OK, &page)
}

/// A parsed Process/Preview submission.
struct Submission {
    action: Action,
    body: String,
    resolution: Option<i64>,
    priority: Option<Priority>,
    version: i64,
    token: Option<String>,
}

fn parse_action(sub: &Submitted, errors: &mut FormErrors) -> Option<Action> {
    match sub.one("action").as_str() {
        "resolve" => Some(Action::Resolve),
        "hold" => Some(Action::Hold),
        "comment" => Some(Action::Comment),
        "internal" => match InternalReason::parse(&sub.one("reason")) {
            Some(r) => Some(Action::InternalResolve(r)),
            None => {
                errors.add("reason", "ticket.action.reason_required");
                None
            }
        },
        _ => {
            errors.add("action", "validation.choose_option");
            None
        }
    }
}

/// Checks the submission's own values (not the database ones).
fn parse(
    sub: &Submitted,
    resolution: &Tree,
    t: &Ticket,
    errors: &mut FormErrors,
) -> Option<Submission> {
    let action = parse_action(sub, errors);
    let raw = sub.one("body").replace("\r\n", "\n");
    let body = sanitize_html(&raw);
    if raw.chars().count() > MAX_REPLY || body.chars().count() > MAX_REPLY {
        errors.add_with(
            "body",
            "validation.too_long",
            &[("max", &MAX_REPLY.to_string())],
        );
    }
    let empty = html_to_text(&body).trim().is_empty();
    if empty && !matches!(action, Some(Action::InternalResolve(_)) | None) {
        errors.add("body", "ticket.action.body_required");
    }
    if let Some(Action::InternalResolve(r)) = action
        && t.origin_ticket_id.is_some()
        && !r.allowed_for_transferred()
    {
        errors.add("reason", "ticket.error.reason_not_allowed");
    }
    let resolution_raw = sub.one("resolution_category_id");
    let resolution_id = if resolution_raw.trim().is_empty() {
        None
    } else {
        match resolution_raw.trim().parse::<i64>() {
            Ok(id) if resolution.get(id).is_some() => Some(id),
            _ => {
                errors.add("resolution_category_id", "validation.choose_option");
                None
            }
        }
    };
    let priority_raw = sub.one("priority");
    let priority = if priority_raw.is_empty() {
        None
    } else {
        match Priority::parse(&priority_raw) {
            Some(p) => Some(p),
            None => {
                errors.add("priority", "validation.choose_option");
                None
            }
        }
    };
    let version = sub.one("version").trim().parse::<i64>().ok();
    if version.is_none() {
        errors.add("version", "ticket.error.stale");
    }
    let token: String = sub.one("client_token").trim().to_string();
    let token = (!token.is_empty() && token.len() <= MAX_TOKEN).then_some(token);
    let (Some(action), Some(version)) = (action, version) else {
        return None;
    };
    Some(Submission {
        action,
        body: if empty { String::new() } else { body },
        resolution: resolution_id,
        priority,
        version,
        token,
    })
}

/// What the database says about a submission before it is processed.
struct Checked {
    ticket: Ticket,
    resolution: Tree,
    agent_defs: Vec<FieldDef>,
    values: Vec<FieldValue>,
    forbidden: Vec<String>,
}

async fn check(s: &TicketStaff, pid: &str, body: String) -> Result<Checked, AppError> {
    let service = s.service.clone();
    let pid = pid.to_string();
    s.viewer()
        .state
        .db
        .read(move |c| {
            let ticket = load_ticket(c, service.id, &pid)?;
            Ok(Checked {
                resolution: Tree::load(c, service.id, CategoryTree::Resolution)?,
                agent_defs: agent_defs(c, &service)?,
                values: field_values_of(c, ticket.id)?,
                forbidden: forbidden::find_in(c, service.id, &body)?,
                ticket,
            })
        })
        .await
}

async fn rerender(
    s: &TicketStaff,
    pid: &str,
    sub: Submitted,
    errors: FormErrors,
    alert: String,
    preview: Option<PreviewView>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let state = PageState {
        process: Some(sub),
        process_errors: Some(errors),
        alert,
        preview,
        ..PageState::default()
    };
    let page = view::build(s, pid, state).await?;
    w::html(status, &page)
}

fn forbidden_alert(lang: Lang, words: &[String]) -> String {
    i18n::tf(lang, "forbidden.blocked", &[("words", &words.join(", "))])
}

/// The editable agent fields of a submission (fields the viewer may not edit are left out).
fn editable_agent_defs(s: &TicketStaff, defs: &[FieldDef]) -> Vec<FieldDef> {
    let info = s.info();
    defs.iter()
        .filter(|d| agent_field_editable(&info, d))
        .cloned()
        .collect()
}

fn save_field_changes(
    conn: &mut DbConn,
    secret: &crate::crypto::SecretKey,
    ticket_id: i64,
    changes: &[FieldChange],
) -> QueryResult<bool> {
    let mut changed = false;
    for ch in changes {
        let FieldChange::Set(def, value) = ch else {
            continue;
        };
        let stored = store_value(secret, def, value);
        let current: Option<(i64, String)> = ticket_field_values::table
            .filter(ticket_field_values::ticket_id.eq(ticket_id))
            .filter(ticket_field_values::field_id.eq(def.id))
            .select((ticket_field_values::id, ticket_field_values::value))
            .first(conn)
            .optional()?;
        let current_plain = current
            .as_ref()
            .map(|(_, v)| crate::fields::personal::read_value(secret, def, v).to_storage());
        if current_plain.as_deref().unwrap_or("") == value.to_storage() {
            continue;
        }
        changed = true;
        match (current, value.is_empty()) {
            (Some((id, _)), true) => {
                diesel::delete(ticket_field_values::table.find(id)).execute(conn)?;
            }
            (Some((id, _)), false) => {
                diesel::update(ticket_field_values::table.find(id))
                    .set(ticket_field_values::value.eq(stored))
                    .execute(conn)?;
            }
            (None, true) => {}
            (None, false) => {
                diesel::insert_into(ticket_field_values::table)
                    .values((
                        ticket_field_values::ticket_id.eq(ticket_id),
                        ticket_field_values::field_id.eq(def.id),
                        ticket_field_values::value.eq(stored),
                    ))
                    .execute(conn)?;
            }
        }
    }
    Ok(changed)
}

/// Stores field changes of a ticket (inside the caller's transaction); returns whether any
/// value changed.
pub fn store_fields(
    conn: &mut DbConn,
    secret: &crate::crypto::SecretKey,
    ticket_id: i64,
    changes: &[FieldChange],
) -> QueryResult<bool> {
    save_field_changes(conn, secret, ticket_id, changes)
}

/// The mail a submission calls for (before the lifecycle decides), for Preview.
fn preview_kind(action: Action) -> Option<LayoutKind> {
    match action {
        Action::Resolve => Some(LayoutKind::Resolve),
        Action::Hold => Some(LayoutKind::Hold),
        _ => None,
    }
}

/// `POST /{service_id}/console/tickets/{public_id}/preview` (multipart, the processing form)
pub async fn preview_mail(
    s: TicketStaff,
    path: web::Path<(String, String)>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let lang = s.viewer().lang;
    let sub = match read_multipart(payload).await? {
        Body::Parts(sub, _files) => sub,
        Body::TooLarge => {
            let mut errors = FormErrors::new(lang);
            errors.add("file", "ticket.detail.body_too_large");
            return rerender(
                &s,
                &pid,
                Submitted::default(),
                errors,
                String::new(),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let body_for_check = sub.one("body");
    let checked = check(&s, &pid, body_for_check).await?;
    let mut errors = FormErrors::new(lang);
    let parsed = parse(&sub, &checked.resolution, &checked.ticket, &mut errors);
    if !checked.forbidden.is_empty() {
        let alert = forbidden_alert(lang, &checked.forbidden);
        errors.add_text("body", alert.clone());
        return rerender(
            &s,
            &pid,
            sub,
            errors,
            alert,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let Some(parsed) = parsed else {
        return rerender(
            &s,
            &pid,
            sub,
            errors,
            String::new(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let t = checked.ticket.clone();
    let preview = match preview_kind(parsed.action) {
        Some(kind) if mails_customer(&t, s.service.kind()) => {
            let env = MailEnv::of(&s.viewer().state);
            let service = s.service.clone();
            let body = parsed.body.clone();
            let mail = s
                .viewer()
                .state
                .db
                .read(move |c| {
                    Ok(mailer::render_customer_mail(
                        c, &env, &service, &t, kind, &body,
                    )?)
                })
                .await?;
            PreviewView {
                to: if mail.to.is_empty() {
                    i18n::t(lang, "ticket.detail.mail_no_address")
                } else if mail.to_name.is_empty() {
                    mail.to.clone()
                } else {
                    format!("{} <{}>", mail.to_name, mail.to)
                },
                from: if mail.from_address.is_empty() && mail.from_name.is_empty() {
                    i18n::t(lang, "ticket.detail.preview_relay_sender")
                } else {
                    format!("{} <{}>", mail.from_name, mail.from_address)
                },
                subject: mail.subject,
                html: mail.html,
                text: mail.text,
                note: String::new(),
            }
        }
        Some(_) => PreviewView {
            to: String::new(),
            from: String::new(),
            subject: String::new(),
            html: String::new(),
            text: String::new(),
            note: i18n::t(lang, "ticket.detail.mail_none_for_ticket"),
        },
        None => PreviewView {
            to: String::new(),
            from: String::new(),
            subject: String::new(),
            html: String::new(),
            text: String::new(),
            note: i18n::t(lang, "ticket.detail.preview_no_mail_action"),
        },
    };
    rerender(
        &s,
        &pid,
        sub,
        errors,
        String::new(),
        Some(preview),
        StatusCode::OK,
    )
    .await
}

/// The outcome of the processing transaction.
enum Outcome {
    Done {
        mail: Option<String>,
        duplicate: bool,
        action: Action,
    },
    Refused(LifecycleError),
}

/// `POST /{service_id}/console/tickets/{public_id}/process?csrf_token=…` (multipart)
pub async fn process_ticket(
    req: HttpRequest,
    s: TicketStaff,
    path: web::Path<(String, String)>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let lang = s.viewer().lang;
    let mut errors = FormErrors::new(lang);
    let (sub, files): (Submitted, Vec<Incoming>) = match read_multipart(payload).await? {
        Body::Parts(sub, files) => (sub, files),
        Body::TooLarge => {
            errors.add("file", "ticket.detail.body_too_large");
            return rerender(
                &s,
                &pid,
                Submitted::default(),
                errors,
                String::new(),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let checked = check(&s, &pid, sub.one("body")).await?;
    let parsed = parse(&sub, &checked.resolution, &checked.ticket, &mut errors);
    let mut alert = String::new();
    if !checked.forbidden.is_empty() {
        alert = forbidden_alert(lang, &checked.forbidden);
        errors.add_text("body", alert.clone());
    }
    let editable = editable_agent_defs(&s, &checked.agent_defs);
    let enforce_required = matches!(
        parsed.as_ref().map(|p| p.action),
        Some(Action::Resolve | Action::Hold)
    );
    let see = view::sees_personal(&s.info(), &checked.ticket);
    let changes = read_fields(
        &editable,
        &checked.values,
        &sub,
        see,
        enforce_required,
        lang,
        &mut errors,
    );
    if !files.is_empty()
        && let Err(msg) = check_files(lang, 0, &files)
    {
        errors.add_text("file", msg);
    }
    let Some(parsed) = parsed.filter(|_| errors.is_empty()) else {
        return rerender(
            &s,
            &pid,
            sub,
            errors,
            alert,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let sid = s.service.id;
    let data_dir = s.viewer().state.config.data_dir.clone();
    let stored: Vec<StoredFile> = if files.is_empty() {
        Vec::new()
    } else {
        web::block(move || {
            attachments::store_files_in(&data_dir, &format!("{UPLOADS_DIR}/tickets/{sid}"), files)
        })
        .await
        .map_err(|e| AppError::Internal(format!("upload: {e}")))?
        .map_err(|e| AppError::Internal(format!("upload: {e}")))?
    };
    let paths: Vec<String> = stored.iter().map(|f| f.path.clone()).collect();
    let env = MailEnv::of(&s.viewer().state);
    let service = s.service.clone();
    let actor = s.user().id;
    let pid2 = pid.clone();
    let result = s
        .viewer()
        .state
        .db
        .write(move |c| {
            // The ticket as it is now, but claimed at the version the form was rendered at.
            let mut t: Ticket = load_ticket(c, service.id, &pid2)?;
            t.version = parsed.version;
            let settings = TicketSettings::load(c, service.id)?;
            let body = match parsed.action {
                Action::InternalResolve(_) => {
                    let lang = mail_lang(&service, &t.lang);
                    let text = format!(
                        "<p>{}</p>",
                        escape_html(&settings.internal_text(&service, lang))
                    );
                    format!("{text}{}", parsed.body)
                }
                _ => parsed.body.clone(),
            };
            let input = ProcessInput {
                action: parsed.action,
                actor,
                body: &body,
                files: &stored,
                client_token: parsed.token.as_deref(),
                resolution_category_id: parsed.resolution,
                priority: parsed.priority,
                service_kind: service.kind(),
            };
            let done = match lifecycle::process(c, &t, &input) {
                Ok(d) => d,
                Err(LifecycleError::Stale) => {
                    // A double submission racing the first one finds the first answer.
                    if let Some(token) = parsed.token.as_deref() {
                        let exists: i64 = ticket_entries::table
                            .filter(ticket_entries::ticket_id.eq(t.id))
                            .filter(ticket_entries::client_token.eq(token))
                            .count()
                            .get_result(c)?;
                        if exists > 0 {
                            return Ok(Outcome::Done {
                                mail: None,
                                duplicate: true,
                                action: parsed.action,
                            });
                        }
                    }
                    return Ok(Outcome::Refused(LifecycleError::Stale));
                }
                Err(LifecycleError::Db) => {
                    return Err(AppError::Internal("ticket lifecycle database error".into()));
                }
                Err(e) => return Ok(Outcome::Refused(e)),
            };
            if done.duplicate {
                return Ok(Outcome::Done {
                    mail: None,
                    duplicate: true,
                    action: parsed.action,
                });
            }
            if store_fields(c, &env.secret, t.id, &changes)? {
                crate::tickets::record_event(c, t.id, "fields_updated", Some(actor), "agent")?;
            }
            let mail = match done.mail {
                Some(kind) => mailer::queue_customer_mail(
                    c,
                    &env,
                    &service,
                    &t,
                    LayoutKind::from(kind),
                    &parsed.body,
                    Some(done.entry_id),
                )?,
                None => None,
            };
            Ok(Outcome::Done {
                mail,
                duplicate: false,
                action: parsed.action,
            })
        })
        .await;
    let state = s.viewer().state.clone();
    match result {
        Ok(Outcome::Done {
            mail,
            duplicate,
            action,
        }) => {
            if duplicate {
                attachments::remove_files_later(&state, paths).await;
            }
            let key = match (duplicate, action, mail.is_some()) {
                (true, _, _) => "ticket.action.done_duplicate",
                (_, Action::Resolve, true) => "ticket.action.done_resolve_mailed",
                (_, Action::Resolve, false) => "ticket.action.done_resolve",
                (_, Action::Hold, true) => "ticket.action.done_hold_mailed",
                (_, Action::Hold, false) => "ticket.action.done_hold",
                (_, Action::Comment, _) => "ticket.action.done_comment",
                (_, Action::InternalResolve(_), _) => "ticket.action.done_internal",
            };
            s.viewer().flash(Flash::success(i18n::t(lang, key)));
            Ok(w::redirect(&req, &ticket_href(&s.service.code, &pid)))
        }
        Ok(Outcome::Refused(e)) => {
            attachments::remove_files_later(&state, paths).await;
            let alert = i18n::t(lang, e.message_key());
            rerender(
                &s,
                &pid,
                sub,
                FormErrors::new(lang),
                alert,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => {
            attachments::remove_files_later(&state, paths).await;
            Err(e)
        }
    }
}
