//! The help-center inquiry form (`/{service_id}/hc/ticket/`, SPEC §4.1): the customer picks an
//! intake type step by step (one GET per level with `?category=`, no JavaScript needed), fills
//! in that type's customer fields (consent last) and attaches up to five files. A valid
//! submission opens a ticket in one transaction through [`crate::tickets::intake::open`]
//! (customer linked or created, first message, field values with personal ones encrypted,
//! attachment rows, a `created` event, and the receipt mail queued in the outbox, which delivers
//! it with retries after the commit).
//! Bad input re-renders the form with the customer's input (not the files) and the messages
//! beside the fields, status 422, storing nothing.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use futures_util::StreamExt;

use crate::AppState;
use crate::categories::model::{Node, helpcenter_nodes};
use crate::customers::Contact;
use crate::error::AppError;
use crate::fields::layout::{FormDefinition, FormField, customer_form};
use crate::fields::model::{Control, SystemField};
use crate::fields::validate::{RawValue, StoredValue};
use crate::help_center::attachments::{
    self, Incoming, MAX_FILE_BYTES, MAX_FILES, StoredFile, check_files,
};
use crate::help_center::portal::{HcCtx, Portal};
use crate::i18n::{self, Lang};
use crate::org::info::UPLOADS_DIR;
use crate::tickets::Channel;
use crate::tickets::intake::{self, Intake, Receipt};
use crate::web::headers::FrameAncestors;
use crate::web::{FormErrors, PageCtx, Viewer};

/// Largest accepted request body (five files at the limit plus the text fields).
const MAX_BODY: usize = MAX_FILES * MAX_FILE_BYTES + 2 * 1024 * 1024;
/// Longest single text value read from the form.
const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Most text values read from the form.
const MAX_TEXT_FIELDS: usize = 500;

/// One intake type to choose.
#[derive(Debug, Clone)]
pub struct Choice {
    /// Name.
    pub name: String,
    /// Link to the next step.
    pub href: String,
}

/// One field as the form renders it.
#[derive(Debug, Clone)]
pub struct InputView {
    /// Input name (`f{id}`).
    pub name: String,
    /// Control: text, textarea, select, radio, checkbox, date, datetime, date_period,
    /// datetime_period, agree, file.
    pub kind: &'static str,
    /// Label.
    pub label: String,
    /// Help text.
    pub help: String,
    /// Placeholder (consent: the text beside the box).
    pub placeholder: String,
    /// Required.
    pub required: bool,
    /// Maximum length (`0`: none).
    pub max_length: i32,
    /// Entered value (period: start).
    pub value: String,
    /// Period end.
    pub value_to: String,
    /// Choices: value, label, selected.
    pub options: Vec<(String, String, bool)>,
    /// Message.
    pub error: String,
}

/// The inquiry page: the intake-type steps or the form.
#[derive(Template)]
#[template(path = "help_center/inquiry_form.html")]
pub struct InquiryPage {
    /// Layout context.
    pub ctx: PageCtx,
    /// Help-center context.
    pub hc: HcCtx,
    /// Names of the chosen path so far.
    pub path_names: Vec<String>,
    /// Children to choose from (empty once a leaf is chosen).
    pub choices: Vec<Choice>,
    /// Link back to the first step.
    pub restart_href: String,
    /// The chosen leaf, when the form is shown.
    pub category: Option<i64>,
    /// Fields of the form.
    pub inputs: Vec<InputView>,
    /// Where the form posts.
    pub action: String,
    /// Summary of errors.
    pub errors: Vec<String>,
    /// Attachment limits line.
    pub file_hint: String,
}

/// The confirmation after a ticket is opened.
#[derive(Template)]
#[template(path = "help_center/inquiry_done.html")]
pub struct DonePage {
    /// Layout context.
    pub ctx: PageCtx,
    /// Help-center context.
    pub hc: HcCtx,
    /// The public ticket ID.
    pub public_id: String,
    /// Whether a receipt mail was queued (the customer gave an e-mail address).
    pub mailed: bool,
}

/// `?category=`
#[derive(Debug, serde::Deserialize)]
pub struct StepQuery {
    /// The chosen node.
    #[serde(default)]
    pub category: String,
}

async fn load(req: &HttpRequest, v: &Viewer, code: &str) -> Result<Portal, AppError> {
    let p = Portal::load(req, v, code, "inquiry.title").await?;
    if !p.service.features().inquiry || !p.settings.show_inquiry {
        return Err(AppError::NotFound);
    }
    Ok(p)
}

fn node_name(n: &Node, lang: Lang, fallback: Lang) -> String {
    n.display_name(lang, fallback).to_string()
}

/// What a step decides: the chosen leaf's path or the next choices.
struct Step {
    path: Vec<Node>,
    children: Vec<Node>,
}

/// The help-center nodes and the chosen node's path (404 for a node the help center does not
/// offer).
fn step(nodes: &[Node], chosen: Option<i64>) -> Result<Step, AppError> {
    let by_id: HashMap<i64, &Node> = nodes.iter().map(|n| (n.id, n)).collect();
    let mut path = Vec::new();
    if let Some(id) = chosen {
        let mut cur = by_id.get(&id).copied().ok_or(AppError::NotFound)?;
        path.push(cur.clone());
        while let Some(pid) = cur.parent_id {
            cur = by_id.get(&pid).copied().ok_or(AppError::NotFound)?;
            path.push(cur.clone());
        }
        path.reverse();
    }
    let children = nodes
        .iter()
        .filter(|n| n.parent_id == chosen)
        .cloned()
        .collect();
    Ok(Step { path, children })
}

fn kind_of(f: &FormField) -> &'static str {
    match f.control {
        Control::Text => "text",
        Control::Textarea => "textarea",
        Control::Dropdown => "select",
        Control::Radio => "radio",
        Control::Checkbox => "checkbox",
        Control::Date => "date",
        Control::Datetime => "datetime",
        Control::DatePeriod => "date_period",
        Control::DatetimePeriod => "datetime_period",
        Control::Agree => "agree",
        Control::File => "file",
    }
}

/// The submitted text values by input name.
#[derive(Debug, Default)]
struct Submitted {
    values: HashMap<String, Vec<String>>,
}

impl Submitted {
    fn one(&self, name: &str) -> String {
        self.values
            .get(name)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.values.get(name).cloned().unwrap_or_default()
    }

    fn raw(&self, f: &FormField, files: &[Incoming]) -> RawValue {
        let name = format!("f{}", f.id);
        match f.control {
            // Files are checked by `check_files` and kept as ticket attachments; the field's
            // validator only sees how many there are.
            Control::File => RawValue::Files((1..=files.len()).map(|i| format!("a{i}")).collect()),
            Control::Checkbox => RawValue::Many(self.all(&name)),
            Control::DatePeriod | Control::DatetimePeriod => {
                let from = self.one(&format!("{name}_from"));
                let to = self.one(&format!("{name}_to"));
                if from.trim().is_empty() && to.trim().is_empty() {
                    RawValue::Missing
                } else {
                    RawValue::Period { from, to }
                }
            }
            Control::Agree => RawValue::text(if self.one(&name) == "true" {
                "true"
            } else {
                ""
            }),
            _ => match self.values.get(&name) {
                None => RawValue::Missing,
                Some(_) => RawValue::Text(self.one(&name)),
            },
        }
    }
}

fn inputs(def: &FormDefinition, sub: &Submitted, errors: &FormErrors) -> Vec<InputView> {
    def.fields
        .iter()
        .filter(|f| f.system != Some(SystemField::IntakeType))
        .map(|f| {
            let name = format!("f{}", f.id);
            let chosen = sub.all(&name);
            let (value, value_to) = match f.control {
                Control::DatePeriod | Control::DatetimePeriod => (
                    sub.one(&format!("{name}_from")),
                    sub.one(&format!("{name}_to")),
                ),
                Control::Datetime => (sub.one(&name).replacen(' ', "T", 1), String::new()),
                _ => (sub.one(&name), String::new()),
            };
            let error_name = if f.control == Control::File {
                "file".to_string()
            } else {
                name.clone()
            };
            InputView {
                kind: kind_of(f),
                label: f.label.clone(),
                help: f.help.clone(),
                placeholder: f.placeholder.clone(),
                required: f.required,
                max_length: f.max_length,
                options: f
                    .options
                    .iter()
                    .map(|o| (o.value.clone(), o.label.clone(), chosen.contains(&o.value)))
                    .collect(),
                error: errors.get(&error_name).to_string(),
                value,
                value_to,
                name,
            }
        })
        .collect()
}

struct Loaded {
    portal: Portal,
    nodes: Vec<Node>,
}

async fn load_nodes(req: &HttpRequest, v: &Viewer, code: &str) -> Result<Loaded, AppError> {
    let portal = load(req, v, code).await?;
    let sid = portal.service.id;
    let nodes = v
        .state
        .db
        .read(move |c| Ok(helpcenter_nodes(c, sid)?))
        .await?;
    Ok(Loaded { portal, nodes })
}

fn respond<T: Template>(
    p: &Portal,
    status: StatusCode,
    page: &T,
) -> Result<HttpResponse, AppError> {
    if status == StatusCode::OK {
        return p.respond(page);
    }
    let mut resp = crate::web::html(status, page)?;
    if p.hc.iframe {
        resp.extensions_mut()
            .insert(FrameAncestors(p.service.hc_frame_ancestors.clone()));
    }
    Ok(resp)
}

fn form_page(
    p: &Portal,
    nodes: &[Node],
    chosen: Option<i64>,
    def: Option<&FormDefinition>,
    sub: &Submitted,
    errors: &FormErrors,
) -> Result<InquiryPage, AppError> {
    let (lang, fallback) = (p.hc.lang, crate::tenancy::service::default_lang(&p.service));
    let s = step(nodes, chosen)?;
    let choices = s
        .children
        .iter()
        .map(|n| Choice {
            name: node_name(n, lang, fallback),
            href: p.hc.href(&format!("/ticket/?category={}", n.id)),
        })
        .collect();
    let mut action = p.hc.href("/ticket/");
    if let Some(id) = def.map(|d| d.category_id) {
        action.push(if action.contains('?') { '&' } else { '?' });
        action.push_str(&format!("category={id}&csrf_token={}", p.ctx.csrf));
    }
    Ok(InquiryPage {
        ctx: p.ctx.clone(),
        hc: p.hc.clone(),
        path_names: s
            .path
            .iter()
            .map(|n| node_name(n, lang, fallback))
            .collect(),
        choices,
        restart_href: p.hc.href("/ticket/"),
        category: def.map(|d| d.category_id),
        inputs: def.map(|d| inputs(d, sub, errors)).unwrap_or_default(),
        action,
        errors: errors.all().into_iter().map(str::to_string).collect(),
        file_hint: i18n::tf(
            lang,
            "inquiry.file_hint",
            &[
                ("max", &MAX_FILES.to_string()),
                ("exts", &attachments::EXTENSIONS.join(", ")),
            ],
        ),
    })
}

/// The form of a chosen leaf (`None` while the node still has children).
async fn leaf_form(
    state: &web::Data<AppState>,
    p: &Portal,
    nodes: &[Node],
    chosen: Option<i64>,
) -> Result<Option<FormDefinition>, AppError> {
    let Some(id) = chosen else { return Ok(None) };
    if nodes.iter().any(|n| n.parent_id == Some(id)) {
        return Ok(None);
    }
    let service = p.service.clone();
    let lang = p.hc.lang;
    state
        .db
        .read(move |c| Ok(customer_form(c, &service, id, lang)?))
        .await?
        .ok_or(AppError::NotFound)
        .map(Some)
}

fn chosen_of(q: &str) -> Result<Option<i64>, AppError> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(None);
    }
    q.parse::<i64>().map(Some).map_err(|_| AppError::NotFound)
}

/// `GET /{service_id}/hc/ticket/`: the intake-type steps, then the form.
pub async fn inquiry_form(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
    query: web::Query<StepQuery>,
) -> Result<HttpResponse, AppError> {
    let l = load_nodes(&req, &v, &path).await?;
    if let Some(resp) =
        crate::help_center::member::inquiry_gate(&req, &v.state, &v.session, &l.portal.service)
            .await?
    {
        return Ok(resp);
    }
    let chosen = chosen_of(&query.category)?;
    let def = leaf_form(&v.state, &l.portal, &l.nodes, chosen).await?;
    let page = form_page(
        &l.portal,
        &l.nodes,
        chosen,
        def.as_ref(),
        &Submitted::default(),
        &FormErrors::new(l.portal.hc.lang),
    )?;
    respond(&l.portal, StatusCode::OK, &page)
}

enum Body {
    Parts(Submitted, Vec<Incoming>),
    TooLarge,
}

async fn read_body(mut payload: Multipart) -> Result<Body, AppError> {
    let mut sub = Submitted::default();
    let mut files = Vec::new();
    let mut total = 0usize;
    let mut texts = 0usize;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| AppError::BadRequest("error.bad_request"))?;
        let name = field.name().unwrap_or_default().to_string();
        let is_file = name == "file";
        let file_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(|n| {
                n.rsplit(['/', '\\'])
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .unwrap_or_default();
        let mut buf = Vec::new();
        let mut size = 0usize;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest("error.bad_request"))?;
            total += chunk.len();
            size += chunk.len();
            if total > MAX_BODY {
                return Ok(Body::TooLarge);
            }
            let cap = if is_file {
                MAX_FILE_BYTES + 1
            } else {
                MAX_TEXT_BYTES
            };
            if buf.len() < cap {
                let room = cap - buf.len();
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
        }
        if is_file {
            if size > 0 || !file_name.is_empty() {
                files.push(Incoming {
                    name: file_name,
                    bytes: buf,
                    too_large: size >= MAX_FILE_BYTES,
                });
            }
        } else if texts < MAX_TEXT_FIELDS {
            texts += 1;
            let text = String::from_utf8_lossy(&buf).into_owned();
            sub.values.entry(name).or_default().push(text);
        }
    }
    Ok(Body::Parts(sub, files))
}

/// Reads a multipart body of one text field `text` and `file` fields (the help-center
/// follow-up form), within the inquiry form's limits; `None` when the body is too large.
pub(crate) async fn read_text_and_files(
    payload: Multipart,
) -> Result<Option<(String, Vec<Incoming>)>, AppError> {
    Ok(match read_body(payload).await? {
        Body::Parts(sub, files) => Some((sub.one("text"), files)),
        Body::TooLarge => None,
    })
}

fn is_phone_agent(req: &HttpRequest) -> bool {
    let ua = crate::web::user_agent(req);
    ["Mobi", "iPhone", "Android", "iPod"]
        .iter()
        .any(|m| ua.contains(m))
}

/// `POST /{service_id}/hc/ticket/?category=…&csrf_token=…` (multipart): opens a ticket.
pub async fn submit_inquiry(
    req: HttpRequest,
    v: Viewer,
    path: web::Path<String>,
    query: web::Query<StepQuery>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let l = load_nodes(&req, &v, &path).await?;
    if let Some(resp) =
        crate::help_center::member::inquiry_gate(&req, &v.state, &v.session, &l.portal.service)
            .await?
    {
        return Ok(resp);
    }
    let chosen = chosen_of(&query.category)?;
    let Some(def) = leaf_form(&v.state, &l.portal, &l.nodes, chosen).await? else {
        return Err(AppError::NotFound);
    };
    let p = &l.portal;
    let lang = p.hc.lang;
    let mut errors = FormErrors::new(lang);
    let (sub, files) = match read_body(payload).await? {
        Body::Parts(sub, files) => (sub, files),
        Body::TooLarge => {
            errors.add("file", "inquiry.body_too_large");
            (Submitted::default(), Vec::new())
        }
    };
    let category_id = def.category_id;
    let validated = def.validate_all(|f| {
        if f.system == Some(SystemField::IntakeType) {
            RawValue::text(category_id.to_string())
        } else {
            sub.raw(f, &files)
        }
    });
    let values = match validated {
        Ok(values) => values
            .into_iter()
            .filter(|(f, _)| f.control != Control::File)
            .collect(),
        Err(failures) => {
            for fail in failures {
                let f = def.fields.iter().find(|f| f.id == fail.field_id);
                let name = match f {
                    Some(f) if f.control == Control::File => "file".to_string(),
                    _ => format!("f{}", fail.field_id),
                };
                errors.add_text(&name, fail.error.message(lang));
            }
            Vec::new()
        }
    };
    if !files.is_empty()
        && let Err(msg) = check_files(lang, 0, &files)
        && !errors.has("file")
    {
        errors.add_text("file", msg);
    }
    if !errors.is_empty() {
        let page = form_page(p, &l.nodes, chosen, Some(&def), &sub, &errors)?;
        return respond(p, StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let text_of = |s: SystemField| {
        values
            .iter()
            .find(|(f, _)| f.system == Some(s))
            .map(|(_, v)| match v {
                StoredValue::Text(t) => t.clone(),
                _ => String::new(),
            })
            .unwrap_or_default()
    };
    let contact = Contact {
        name: text_of(SystemField::Name),
        email: text_of(SystemField::Email),
        phone: text_of(SystemField::Phone),
    };
    let subject = text_of(SystemField::Subject);
    let body = text_of(SystemField::Content);
    let channel = if is_phone_agent(&req) {
        Channel::MobileWeb
    } else {
        Channel::Web
    };
    let sid = p.service.id;
    let data_dir = v.state.config.data_dir.clone();
    let stored: Vec<StoredFile> = web::block(move || store_ticket_files(&data_dir, sid, files))
        .await
        .map_err(|e| AppError::Internal(format!("upload: {e}")))?
        .map_err(|e| AppError::Internal(format!("upload: {e}")))?;
    let secret = v.state.secret.clone();
    let paths: Vec<String> = stored.iter().map(|s| s.path.clone()).collect();
    // A signed-in member's ticket is linked by user code; data stored through the Open API
    // (`additionId`) goes with the ticket.
    let member_code =
        crate::help_center::customer_session::current(&v.session, sid).and_then(|i| i.usercode);
    let addition_id = crate::help_center::member::pending_addition(&v.session, sid);
    let had_addition = addition_id.is_some();
    let created = {
        let stored = stored.clone();
        let contact = contact.clone();
        let (subject, body) = (subject.clone(), crate::common::text::text_to_html(&body));
        let service_name = p.service.name.clone();
        v.state
            .db
            .write(move |c| {
                let opened = intake::open(
                    c,
                    &secret,
                    &Intake {
                        contact: Some(&contact),
                        member_code: member_code.as_deref(),
                        category_id: Some(category_id),
                        fields: &values,
                        files: &stored,
                        // The receipt is queued with the ticket: both are saved, or neither.
                        receipt: Receipt::ToContact {
                            service_name: &service_name,
                        },
                        ..Intake::new(sid, channel, lang, &subject, &body)
                    },
                )?;
                if let Some(id) = &addition_id {
                    crate::help_center::member::attach_addition(c, sid, id, opened.id)?;
                }
                Ok(opened)
            })
            .await
    };
    if had_addition && created.is_ok() {
        crate::help_center::member::clear_addition(&v.session, sid);
    }
    let created = match created {
        Ok(c) => c,
        Err(e) => {
            attachments::remove_files(&v.state.config.data_dir, paths);
            return Err(e);
        }
    };
    let mailed = created.receipt_queued;
    let mut ctx = p.ctx.clone();
    ctx.title = i18n::t(lang, "inquiry.done_title");
    let page = DonePage {
        ctx,
        hc: p.hc.clone(),
        public_id: created.public_id,
        mailed,
    };
    respond(p, StatusCode::OK, &page)
}

/// Writes checked files under `uploads/tickets/<service>/` (blocking).
fn store_ticket_files(
    data_dir: &std::path::Path,
    service_id: i64,
    files: Vec<Incoming>,
) -> std::io::Result<Vec<StoredFile>> {
    attachments::store_files_in(
        data_dir,
        &format!("{UPLOADS_DIR}/tickets/{service_id}"),
        files,
    )
}
