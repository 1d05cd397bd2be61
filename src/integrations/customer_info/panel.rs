//! The "Customer info" panel of the ticket page (SPEC §6.3 "Using it"): for each API, the
//! query form (general items typed or chosen, ticket-field items filled from the ticket —
//! masked for agents who may not see personal data, whose empty input still sends the
//! ticket's value) and the latest result, automatic or asked for: the result items, or what
//! went wrong, in words (timeout, no result, refused, remote error, bad answer). When the
//! query carried the customer's ID, phone, e-mail or name, the customer's tickets of the last
//! three months are listed too. The panel loads after the page (htmx) so a slow customer
//! server never holds the ticket up; without htmx it is a page of its own.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::agents::form::Pairs;
use crate::common::time::local_display;
use crate::error::AppError;
use crate::fields::personal::mask;
use crate::i18n;
use crate::tenancy::service::service_tz;
use crate::tickets::detail::access::TicketStaff;
use crate::tickets::detail::view::{load_ticket, sees_personal, ticket_href};
use crate::tickets::{Status, Ticket};
use crate::web::{self as w, PageCtx};

use super::client::{self, Answer, Outcome};
use super::lookup::{self, Lookup, Resolved, enabled_for};
use super::model::{InfoApi, ItemControl, ItemKind};

/// One query input.
#[derive(Debug, Clone)]
pub struct InputView {
    /// Form name (`v_<variable>`).
    pub name: String,
    /// Label.
    pub label: String,
    /// Required.
    pub required: bool,
    /// A drop-down (else a text box).
    pub dropdown: bool,
    /// Drop-down options: value, selected.
    pub options: Vec<(String, bool)>,
    /// Value.
    pub value: String,
    /// Placeholder (the masked ticket value).
    pub placeholder: String,
    /// Longest value.
    pub max_length: i32,
    /// Taken from the ticket.
    pub from_ticket: bool,
    /// Error message.
    pub error: String,
}

/// A ticket of the same customer.
#[derive(Debug, Clone)]
pub struct RelatedView {
    /// Link.
    pub href: String,
    /// Public ID.
    pub public_id: String,
    /// Subject.
    pub subject: String,
    /// Status label key.
    pub status_key: String,
    /// Created.
    pub created: String,
}

/// The latest lookup as shown.
#[derive(Debug, Clone)]
pub struct ResultView {
    /// `ok`, `pending` or `error` (a CSS class).
    pub class: String,
    /// The outcome in words.
    pub message: String,
    /// HTTP status, when there was an answer.
    pub http_status: String,
    /// The remote error code and message.
    pub remote_message: String,
    /// Result items: label, value.
    pub rows: Vec<(String, String)>,
    /// When.
    pub when: String,
    /// Made by itself when the ticket arrived.
    pub automatic: bool,
    /// The customer's recent tickets.
    pub related: Vec<RelatedView>,
    /// Whether identities were queried (the related list is meaningful).
    pub has_identities: bool,
}

/// One API on the panel.
#[derive(Debug, Clone)]
pub struct ApiPanel {
    /// Key.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Inputs.
    pub inputs: Vec<InputView>,
    /// Latest result.
    pub result: Option<ResultView>,
}

/// The panel fragment.
#[derive(Template)]
#[template(path = "openapi/customer_info_panel.html")]
pub struct Panel {
    /// Shared context.
    pub ctx: PageCtx,
    /// The panel's URL.
    pub href: String,
    /// Why lookups are not possible (translated), empty when they are.
    pub unavailable: String,
    /// Settings link for administrators.
    pub settings_href: Option<String>,
    /// APIs.
    pub apis: Vec<ApiPanel>,
}

/// The panel as a page of its own (no htmx).
#[derive(Template)]
#[template(path = "openapi/customer_info_panel_page.html")]
pub struct PanelPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// The ticket page.
    pub ticket_href: String,
    /// The panel, rendered.
    pub panel_html: String,
}

/// Per-API state carried into the rendering: values typed and their errors.
#[derive(Default)]
struct Submitted {
    api_id: i64,
    typed: HashMap<String, String>,
    errors: HashMap<String, String>,
}

struct Loaded {
    ticket: Ticket,
    apis: Vec<InfoApi>,
    prefill: HashMap<i64, Resolved>,
    personal: HashMap<String, bool>,
    latest: HashMap<i64, Lookup>,
    related: HashMap<i64, Vec<lookup::Related>>,
}

fn load(
    conn: &mut crate::db::DbConn,
    secret: &crate::crypto::SecretKey,
    service_id: i64,
    public_id: &str,
) -> Result<Loaded, AppError> {
    let ticket = load_ticket(conn, service_id, public_id)?;
    let apis = InfoApi::of_service(conn, service_id)?;
    let mut prefill = HashMap::new();
    let mut personal = HashMap::new();
    for api in &apis {
        prefill.insert(
            api.row.id,
            lookup::resolve(conn, secret, api, &ticket, &HashMap::new())?,
        );
        for q in api.query.iter().filter(|q| q.kind == ItemKind::TicketField) {
            if !personal.contains_key(&q.field) {
                let p = lookup::source_is_personal(conn, service_id, &q.field)?;
                personal.insert(q.field.clone(), p);
            }
        }
    }
    let ids: Vec<i64> = apis.iter().map(|a| a.row.id).collect();
    let latest = lookup::latest(conn, ticket.id, &ids)?;
    let mut related = HashMap::new();
    for (api_id, l) in &latest {
        let Some(api) = apis.iter().find(|a| a.row.id == *api_id) else {
            continue;
        };
        let query = l.query(secret);
        let identities: Vec<(String, String)> = api
            .query
            .iter()
            .filter(|q| {
                q.kind == ItemKind::TicketField
                    && super::model::IDENTITY_SOURCES.contains(&q.field.as_str())
            })
            .filter_map(|q| {
                query
                    .get(&q.variable)
                    .and_then(|v| v.as_str())
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| (q.field.clone(), v.to_string()))
            })
            .collect();
        if !identities.is_empty() {
            related.insert(
                *api_id,
                lookup::related_tickets(conn, service_id, ticket.id, &identities)?,
            );
        }
    }
    Ok(Loaded {
        ticket,
        apis,
        prefill,
        personal,
        latest,
        related,
    })
}

fn result_view(
    s: &TicketStaff,
    api: &InfoApi,
    l: &Lookup,
    related: Option<&Vec<lookup::Related>>,
) -> ResultView {
    let lang = s.viewer().lang;
    let tz = service_tz(&s.service);
    let secret = &s.viewer().state.secret;
    let pending = l.status != "done";
    let outcome = l.outcome();
    let (class, message) = if pending {
        ("pending", i18n::t(lang, "customerinfo.outcome.pending"))
    } else {
        match outcome {
            Some(Outcome::Found) => ("ok", i18n::t(lang, "customerinfo.outcome.found")),
            Some(o) => ("error", i18n::t(lang, o.label_key())),
            None => ("error", i18n::t(lang, "customerinfo.outcome.failed")),
        }
    };
    let rows = match l.data(secret) {
        Some(data) if outcome == Some(Outcome::Found) => api
            .results
            .iter()
            .map(|r| {
                (
                    r.label.clone(),
                    client::value_at(&data, &r.data_name).unwrap_or_default(),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let code = &s.service.code;
    ResultView {
        class: class.to_string(),
        message,
        http_status: l.http_status.map(|h| h.to_string()).unwrap_or_default(),
        remote_message: l.remote_message.clone(),
        rows,
        when: local_display(tz, l.finished_at.unwrap_or(l.created_at)),
        automatic: l.automatic,
        has_identities: related.is_some(),
        related: related
            .map(|list| {
                list.iter()
                    .map(|t| RelatedView {
                        href: ticket_href(code, &t.public_id),
                        public_id: t.public_id.clone(),
                        subject: t.subject.clone(),
                        status_key: crate::tickets::lifecycle::status_label_key(
                            Status::parse(&t.status).unwrap_or(Status::New),
                        )
                        .to_string(),
                        created: local_display(tz, t.created_at),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn panel(s: &TicketStaff, l: &Loaded, sub: &Submitted) -> Panel {
    let lang = s.viewer().lang;
    let href = format!(
        "{}/customer-info",
        ticket_href(&s.service.code, &l.ticket.public_id)
    );
    let sees = sees_personal(&s.info(), &l.ticket);
    let unavailable = if !s.service.features().customer_info {
        i18n::t(lang, "customerinfo.feature_off")
    } else if !s.service.open_api_enabled {
        i18n::t(lang, "customerinfo.panel.open_api_off")
    } else if l.apis.is_empty() {
        i18n::t(lang, "customerinfo.panel.none")
    } else {
        String::new()
    };
    let apis = if enabled_for(&s.service) {
        l.apis
            .iter()
            .map(|api| {
                let this = sub.api_id == api.row.id;
                let prefill = l.prefill.get(&api.row.id);
                let inputs = api
                    .query
                    .iter()
                    .map(|q| {
                        let ticket_value = prefill
                            .and_then(|p| p.values.iter().find(|(x, _)| x.variable == q.variable))
                            .map(|(_, v)| v.clone())
                            .unwrap_or_default();
                        let hidden = q.kind == ItemKind::TicketField
                            && !sees
                            && l.personal.get(&q.field).copied().unwrap_or(false);
                        let typed = if this {
                            sub.typed.get(&q.variable).cloned()
                        } else {
                            None
                        };
                        let value = match (typed, hidden) {
                            (Some(t), _) => t,
                            (None, true) => String::new(),
                            (None, false) => ticket_value.clone(),
                        };
                        let dropdown =
                            q.kind == ItemKind::General && q.control == ItemControl::Dropdown;
                        InputView {
                            name: format!("v_{}", q.variable),
                            label: q.label.clone(),
                            required: q.required,
                            dropdown,
                            options: q.options.iter().map(|o| (o.clone(), *o == value)).collect(),
                            placeholder: if hidden {
                                mask(&ticket_value)
                            } else {
                                String::new()
                            },
                            value,
                            max_length: q.max_length,
                            from_ticket: q.kind == ItemKind::TicketField,
                            error: if this {
                                sub.errors.get(&q.variable).cloned().unwrap_or_default()
                            } else {
                                String::new()
                            },
                        }
                    })
                    .collect();
                ApiPanel {
                    id: api.row.id,
                    name: api.row.name.clone(),
                    inputs,
                    result: l
                        .latest
                        .get(&api.row.id)
                        .map(|x| result_view(s, api, x, l.related.get(&api.row.id))),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    Panel {
        ctx: PageCtx::console(s, "customerinfo.panel.title"),
        href,
        unavailable,
        settings_href: s
            .is_service_admin()
            .then(|| super::pages::base(&s.service.code)),
        apis,
    }
}

fn respond(
    req: &HttpRequest,
    s: &TicketStaff,
    p: Panel,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    if w::is_htmx(req) {
        return w::html(status, &p);
    }
    let page = PanelPage {
        ctx: PageCtx::console(s, "customerinfo.panel.title"),
        ticket_href: p.href.trim_end_matches("/customer-info").to_string(),
        panel_html: p
            .render()
            .map_err(|e| AppError::Internal(format!("template: {e}")))?,
    };
    w::html(status, &page)
}

async fn load_for(s: &TicketStaff, public_id: String) -> Result<Loaded, AppError> {
    let sid = s.service.id;
    let secret = s.viewer().state.secret.clone();
    s.viewer()
        .state
        .db
        .read(move |c| load(c, &secret, sid, &public_id))
        .await
}

/// `GET /{service_id}/console/tickets/{public_id}/customer-info`
pub async fn show_panel(
    req: HttpRequest,
    s: TicketStaff,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let l = load_for(&s, pid).await?;
    let p = panel(&s, &l, &Submitted::default());
    respond(&req, &s, p, StatusCode::OK)
}

/// `POST /{service_id}/console/tickets/{public_id}/customer-info` — looks the customer up with
/// one API (`api_id`, values `v_<variable>`), stores the result and shows the panel again.
/// Refused values come back beside their inputs (422); the call's problems are results.
pub async fn run_lookup(
    req: HttpRequest,
    s: TicketStaff,
    path: web::Path<(String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let lang = s.viewer().lang;
    let api_id = form.id("api_id").ok_or(AppError::NotFound)?;
    if !enabled_for(&s.service) {
        return Err(AppError::Forbidden(if s.service.features().customer_info {
            "customerinfo.panel.open_api_off"
        } else {
            "customerinfo.feature_off"
        }));
    }
    let typed: HashMap<String, String> = form
        .0
        .0
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("v_")
                .map(|var| (var.to_string(), v.chars().take(5000).collect::<String>()))
        })
        .take(200)
        .collect();
    let sid = s.service.id;
    let secret = s.viewer().state.secret.clone();
    let t2 = typed.clone();
    let p2 = pid.clone();
    let prepared = s
        .viewer()
        .state
        .db
        .read(move |c| {
            let ticket = load_ticket(c, sid, &p2)?;
            let api = InfoApi::find(c, sid, api_id)?.ok_or(AppError::NotFound)?;
            let resolved = lookup::resolve(c, &secret, &api, &ticket, &t2)?;
            let key = api.key(&secret);
            Ok((ticket, api, resolved, key))
        })
        .await?;
    let (ticket, api, resolved, key) = prepared;
    if !resolved.errors.is_empty() {
        let errors = resolved
            .errors
            .iter()
            .map(|(var, key)| {
                let max = api
                    .query
                    .iter()
                    .find(|q| &q.variable == var)
                    .map(|q| q.max_length.to_string())
                    .unwrap_or_default();
                (var.clone(), i18n::tf(lang, key, &[("max", &max)]))
            })
            .collect();
        let l = load_for(&s, pid).await?;
        let sub = Submitted {
            api_id,
            typed,
            errors,
        };
        let p = panel(&s, &l, &sub);
        return respond(&req, &s, p, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let body = resolved.body();
    let answer: Answer = client::call(
        &api.row.base_url,
        key.as_deref(),
        api.row.sign_path,
        &body,
        s.viewer().state.config.timeouts.customer_info,
    )
    .await;
    let secret = s.viewer().state.secret.clone();
    let user = s.user().id;
    s.viewer()
        .state
        .db
        .write(move |c| {
            lookup::record(c, &secret, None, &api, &ticket, Some(user), &body, &answer)?;
            Ok(())
        })
        .await?;
    let l = load_for(&s, pid).await?;
    let sub = Submitted {
        api_id,
        typed,
        errors: HashMap::new(),
    };
    let p = panel(&s, &l, &sub);
    respond(&req, &s, p, StatusCode::OK)
}
