//! Manual ticket creation (`/{service_id}/console/tickets/new`, SPEC §5.4): an agent records an
//! inquiry that came by other means (typically a phone call answered by mail). The agent picks
//! the intake type (its customer fields appear), may pre-select a reply template (its text fills
//! the content), writes subject and content, fills the customer fields, attaches files and —
//! when the ticket settings allow it — chooses the group and assignee. The ticket's channel is
//! "Created"; the customer gets the service's "created" layout mail when an e-mail is known.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::categories::model::Tree;
use crate::common::text::{html_to_text, sanitize_html};
use crate::customers::Contact;
use crate::db::DbConn;
use crate::db::refuse;
use crate::db::schema::{group_members, ticket_entries};
use crate::db::types::CategoryTree;
use crate::db::types::{ServiceId, TicketId};
use crate::error::AppError;
use crate::fields::layout::{FormField, customer_form};
use crate::fields::model::{Control, FieldDef, SystemField};
use crate::fields::validate::{RawValue, StoredValue, validate};
use crate::help_center::attachments::{
    self, EXTENSIONS, Incoming, MAX_FILES, StoredFile, check_files,
};
use crate::i18n::{self, Lang};
use crate::notify::layouts::LayoutKind;
use crate::org::info::UPLOADS_DIR;
use crate::tenancy::service::Service;
use crate::tenancy::service::{default_lang, service_langs};
use crate::tenancy::user::is_valid_email;
use crate::tickets::detail::access::TicketStaff;
use crate::tickets::detail::form::{
    Body, FieldChange, FieldInput, InputSource, Submitted, inputs, read_fields, read_multipart,
};
use crate::tickets::detail::view::{Choice, ticket_href};
use crate::tickets::intake::{self, Intake};
use crate::tickets::mailer::{self, MailEnv};
use crate::tickets::reply_templates::{self, TemplateQuery};
use crate::tickets::settings::TicketSettings;
use crate::tickets::substitution::{Context, Mode, render};
use crate::tickets::{Channel, EntryKind, MAX_SUBJECT_CHARS, Ticket};
use crate::web::{self as w, Flash, FormErrors, PageCtx};

/// Longest content when the form has no content field to say otherwise.
pub const MAX_CONTENT: usize = 20_000;
/// Templates offered for pre-selection.
const TEMPLATE_CHOICES: i64 = 100;

/// Active intake types with their full path names, depth-first.
pub fn intake_choices(tree: &Tree, lang: Lang, fallback: Lang, chosen: Option<i64>) -> Vec<Choice> {
    tree.nodes()
        .iter()
        .filter(|n| tree.path(n.id).iter().all(|p| p.active))
        .map(|n| {
            (
                n.id.to_string(),
                tree.path_names(n.id, lang, fallback).join(" › "),
                chosen == Some(n.id),
            )
        })
        .collect()
}

/// The customer fields a new ticket's form renders besides subject and content (intake type,
/// consent, attachments, subject and content have their own inputs).
pub fn extra_fields(form: &[FormField]) -> Vec<FormField> {
    form.iter()
        .filter(|f| {
            !matches!(
                f.system,
                Some(
                    SystemField::IntakeType
                        | SystemField::Consent
                        | SystemField::Content
                        | SystemField::Subject
                        | SystemField::Attachment
                )
            ) && f.control != Control::File
        })
        .cloned()
        .collect()
}

/// Subject, content and the other fields of a new ticket, read and checked.
pub struct NewTicketValues {
    /// Subject.
    pub subject: String,
    /// Content (plain text as typed).
    pub content: String,
    /// Values to store, with the form's subject and content fields when it has them.
    pub values: Vec<(FormField, StoredValue)>,
    /// The customer's contact.
    pub contact: Contact,
}

fn text_of(v: &StoredValue) -> String {
    match v {
        StoredValue::Text(t) => t.trim().to_string(),
        _ => String::new(),
    }
}

/// Reads subject, content, the extra fields and (when the form lacks them) the dedicated
/// customer name and e-mail inputs.
pub fn read_new_ticket(
    form: &[FormField],
    sub: &Submitted,
    lang: Lang,
    errors: &mut FormErrors,
) -> NewTicketValues {
    let system = |s: SystemField| form.iter().find(|f| f.system == Some(s));
    let mut values: Vec<(FormField, StoredValue)> = Vec::new();
    let mut check_text = |name: &str, field: Option<&FormField>, max: usize| -> String {
        let raw = sub.one(name).replace("\r\n", "\n");
        let text = raw.trim().to_string();
        match field {
            Some(f) => {
                let mut def: FieldDef = f.def.clone();
                def.required = true;
                match validate(&def, &RawValue::Text(text.clone()), lang) {
                    Ok(v) => values.push((f.clone(), v)),
                    Err(e) => errors.add_text(name, e.message(lang)),
                }
            }
            None if text.is_empty() => errors.add(name, "validation.required"),
            None if text.chars().count() > max => {
                errors.add_with(name, "validation.too_long", &[("max", &max.to_string())]);
            }
            None => {}
        }
        text
    };
    let subject = check_text("subject", system(SystemField::Subject), MAX_SUBJECT_CHARS);
    let content = check_text("content", system(SystemField::Content), MAX_CONTENT);
    let extra = extra_fields(form);
    let defs: Vec<FieldDef> = extra.iter().map(|f| f.def.clone()).collect();
    let changes = read_fields(&defs, &[], sub, true, true, lang, errors);
    for ch in changes {
        if let FieldChange::Set(def, v) = ch
            && let Some(f) = extra.iter().find(|f| f.id == def.id)
        {
            values.push((f.clone(), v));
        }
    }
    let value_of = |s: SystemField| {
        values
            .iter()
            .find(|(f, _)| f.system == Some(s))
            .map(|(_, v)| text_of(v))
    };
    let mut contact = Contact {
        name: value_of(SystemField::Name).unwrap_or_default(),
        email: value_of(SystemField::Email).unwrap_or_default(),
        phone: value_of(SystemField::Phone).unwrap_or_default(),
    };
    if system(SystemField::Name).is_none() {
        contact.name = sub.one("customer_name").trim().chars().take(100).collect();
    }
    if system(SystemField::Email).is_none() {
        let email = sub.one("customer_email").trim().to_string();
        if !email.is_empty() && (email.chars().count() > 254 || !is_valid_email(&email)) {
            errors.add("customer_email", "validation.email_format");
        }
        contact.email = email;
    }
    NewTicketValues {
        subject,
        content,
        values,
        contact,
    }
}

/// The creation page.
#[derive(Template)]
#[template(path = "tickets/detail/new.html")]
pub struct NewTicketPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/tickets/new`
    pub base: String,
    /// Intake types.
    pub categories: Vec<Choice>,
    /// The chosen intake type.
    pub category: Option<i64>,
    /// Whether the form is shown (an intake type is chosen, or the service has none).
    pub show_form: bool,
    /// Templates to pre-select.
    pub templates: Vec<Choice>,
    /// Where the form posts.
    pub action: String,
    /// Subject.
    pub subject: String,
    /// Content.
    pub content: String,
    /// Customer fields.
    pub fields: Vec<FieldInput>,
    /// Whether the dedicated name input is shown.
    pub ask_name: bool,
    /// Whether the dedicated e-mail input is shown.
    pub ask_email: bool,
    /// Dedicated name.
    pub customer_name: String,
    /// Dedicated e-mail.
    pub customer_email: String,
    /// Customer languages.
    pub langs: Vec<Choice>,
    /// Groups (`None`: the settings do not let creators choose).
    pub groups: Option<Vec<Choice>>,
    /// Agents.
    pub agents: Vec<Choice>,
    /// Errors.
    pub errors: FormErrors,
    /// Attachment limits.
    pub file_hint: String,
}

/// `?category=&template=`
#[derive(Debug, Default, serde::Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    category: String,
    #[serde(default)]
    template: String,
}

struct Setup {
    tree: Tree,
    form: Vec<FormField>,
    settings: TicketSettings,
    templates: Vec<(i64, String)>,
    template_text: String,
    groups: Vec<(i64, String)>,
    agents: Vec<(i64, String)>,
}

fn agents_of(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<(i64, String)>> {
    use crate::db::schema::{service_members, users};
    service_members::table
        .inner_join(users::table)
        .filter(service_members::service_id.eq(service_id))
        .filter(service_members::perm_ticket.eq(true))
        .filter(service_members::ticket_assignable.eq(true))
        .filter(users::active.eq(true))
        .order((users::name.asc(), users::id.asc()))
        .limit(500)
        .select((users::id, users::name))
        .load(conn)
}

fn setup(
    conn: &mut DbConn,
    service: &Service,
    category: Option<i64>,
    template: Option<i64>,
) -> Result<Setup, AppError> {
    let tree = Tree::load(conn, service.id, CategoryTree::Intake)?;
    let lang = default_lang(service);
    let form = match category {
        Some(c) => {
            if tree.get(c).is_none() {
                return Err(AppError::NotFound);
            }
            customer_form(conn, service, c, lang)?
                .map(|f| f.fields)
                .unwrap_or_default()
        }
        None => Vec::new(),
    };
    let templates = reply_templates::search(
        conn,
        service.id,
        &TemplateQuery {
            include_shared: true,
            ..TemplateQuery::default()
        },
        TEMPLATE_CHOICES,
    )?
    .into_iter()
    .map(|t| (t.id, t.title))
    .collect();
    let template_text = match template {
        Some(id) => match reply_templates::find_usable(conn, service.id, id)? {
            Some(t) => {
                let mut ctx = Context::new();
                ctx.set_text("serviceName", service.name.clone());
                html_to_text(&render(&t.body_html, &ctx, Mode::Html))
                    .trim()
                    .to_string()
            }
            None => String::new(),
        },
        None => String::new(),
    };
    let groups = crate::tenancy::group::Group::of_service(conn, service.id)?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    Ok(Setup {
        tree,
        form,
        settings: TicketSettings::load(conn, service.id)?,
        templates,
        template_text,
        groups,
        agents: agents_of(conn, service.id)?,
    })
}

fn page(
    s: &TicketStaff,
    st: &Setup,
    category: Option<i64>,
    template: Option<i64>,
    sub: Option<&Submitted>,
    errors: FormErrors,
) -> NewTicketPage {
    let lang = s.viewer().lang;
    let service = &s.service;
    let fallback = default_lang(service);
    let base = format!("/{}/console/tickets/new", service.code);
    let show_form = category.is_some() || st.tree.is_empty();
    let extra = extra_fields(&st.form);
    let defs: Vec<FieldDef> = extra.iter().map(|f| f.def.clone()).collect();
    let src = InputSource {
        lang,
        fallback,
        secret: &s.viewer().state.secret,
        see_personal: true,
    };
    let fields = inputs(&defs, &[], sub, &errors, &src, |_| true);
    let get = |name: &str| sub.map(|x| x.one(name)).unwrap_or_default();
    let chosen_lang = sub
        .map(|x| x.one("lang"))
        .and_then(|l| Lang::parse(&l))
        .unwrap_or(fallback);
    let mut action = base.clone();
    action.push_str(&format!("?csrf_token={}", s.viewer().csrf));
    if let Some(c) = category {
        action.push_str(&format!("&category={c}"));
    }
    let chosen_group = sub.and_then(|x| x.id("group_id"));
    let chosen_agent = sub.and_then(|x| x.id("assignee_id"));
    NewTicketPage {
        ctx: PageCtx::console(s, "ticket.detail.new_title"),
        categories: intake_choices(&st.tree, lang, fallback, category),
        category,
        show_form,
        templates: st
            .templates
            .iter()
            .map(|(id, t)| (id.to_string(), t.clone(), template == Some(*id)))
            .collect(),
        action,
        subject: get("subject"),
        content: match sub {
            Some(x) => x.one("content"),
            None => st.template_text.clone(),
        },
        ask_name: !st.form.iter().any(|f| f.system == Some(SystemField::Name)),
        ask_email: !st.form.iter().any(|f| f.system == Some(SystemField::Email)),
        customer_name: get("customer_name"),
        customer_email: get("customer_email"),
        langs: service_langs(service)
            .into_iter()
            .map(|l| {
                (
                    l.code().to_string(),
                    l.native_name().to_string(),
                    l == chosen_lang,
                )
            })
            .collect(),
        groups: st.settings.creator_chooses_assignee.then(|| {
            st.groups
                .iter()
                .map(|(id, n)| (id.to_string(), n.clone(), chosen_group == Some(*id)))
                .collect()
        }),
        agents: st
            .agents
            .iter()
            .map(|(id, n)| (id.to_string(), n.clone(), chosen_agent == Some(*id)))
            .collect(),
        fields,
        errors,
        file_hint: i18n::tf(
            lang,
            "ticket.detail.file_hint",
            &[
                ("max", &MAX_FILES.to_string()),
                ("exts", &EXTENSIONS.join(", ")),
            ],
        ),
        base,
    }
}

fn parse_opt(s: &str) -> Result<Option<i64>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<i64>().map(Some).map_err(|_| AppError::NotFound)
}

/// `GET /{service_id}/console/tickets/new?category=&template=`
pub async fn new_ticket(
    s: TicketStaff,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    let category = parse_opt(&query.category)?;
    let template = query.template.trim().parse::<i64>().ok();
    let service = s.service.clone();
    let st = s
        .viewer()
        .state
        .db
        .read(move |c| setup(c, &service, category, template))
        .await?;
    let lang = s.viewer().lang;
    let p = page(&s, &st, category, template, None, FormErrors::new(lang));
    w::html(StatusCode::OK, &p)
}

/// `POST /{service_id}/console/tickets/new?category=&csrf_token=` (multipart)
pub async fn create_ticket(
    req: HttpRequest,
    s: TicketStaff,
    query: web::Query<NewQuery>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let category = parse_opt(&query.category)?;
    let lang = s.viewer().lang;
    let service = s.service.clone();
    let env = MailEnv::of(&s.viewer().state);
    let st = s
        .viewer()
        .state
        .db
        .read(move |c| setup(c, &service, category, None))
        .await?;
    let mut errors = FormErrors::new(lang);
    let (sub, files): (Submitted, Vec<Incoming>) = match read_multipart(payload).await? {
        Body::Parts(sub, files) => (sub, files),
        Body::TooLarge => {
            errors.add("file", "ticket.detail.body_too_large");
            (Submitted::default(), Vec::new())
        }
    };
    if category.is_none() && !st.tree.is_empty() {
        errors.add("category", "ticket.detail.choose_intake");
    }
    let values = read_new_ticket(&st.form, &sub, lang, &mut errors);
    let ticket_lang = Lang::parse(&sub.one("lang"))
        .filter(|l| service_langs(&s.service).contains(l))
        .unwrap_or_else(|| default_lang(&s.service));
    let (mut group, mut assignee) = (None, None);
    if st.settings.creator_chooses_assignee {
        group = sub.id("group_id");
        assignee = sub.id("assignee_id");
        if group.is_some_and(|g| !st.groups.iter().any(|(id, _)| *id == g)) {
            errors.add("group_id", "validation.choose_option");
        }
        if assignee.is_some_and(|a| !st.agents.iter().any(|(id, _)| *id == a)) {
            errors.add("assignee_id", "ticket.action.agent_not_assignable");
        }
    }
    if !files.is_empty()
        && let Err(msg) = check_files(lang, 0, &files)
    {
        errors.add_text("file", msg);
    }
    if !errors.is_empty() {
        let p = page(&s, &st, category, None, Some(&sub), errors);
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &p);
    }
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
    let service = s.service.clone();
    let actor = s.user().id;
    let result = s
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            if let (Some(g), Some(a)) = (group, assignee) {
                let member: i64 = group_members::table
                    .filter(group_members::group_id.eq(g))
                    .filter(group_members::user_id.eq(a))
                    .count()
                    .get_result(c)?;
                if member == 0 {
                    return refuse("ticket.action.agent_not_in_group");
                }
            }
            let contact = &values.contact;
            let has_contact = !contact.email.trim().is_empty()
                || !contact.phone.trim().is_empty()
                || !contact.name.trim().is_empty();
            let created = intake::open(
                c,
                &env.secret,
                &Intake {
                    contact: has_contact.then_some(contact),
                    category_id: category,
                    fields: &values.values,
                    files: &stored,
                    creator_id: Some(actor),
                    group_id: group,
                    assignee_id: assignee,
                    ..Intake::new(
                        service.id,
                        Channel::Created,
                        ticket_lang,
                        &values.subject,
                        &values.content,
                    )
                },
            )?;
            let t: Ticket = Ticket::find(c, ServiceId(service.id), TicketId(created.id))?
                .ok_or(AppError::NotFound)?;
            let entry_id: Option<i64> = ticket_entries::table
                .filter(ticket_entries::ticket_id.eq(t.id))
                .filter(ticket_entries::kind.eq(EntryKind::CustomerMessage.as_str()))
                .order(ticket_entries::id.asc())
                .select(ticket_entries::id)
                .first(c)
                .optional()?;
            let mail = mailer::queue_customer_mail(
                c,
                &env,
                &service,
                &t,
                LayoutKind::Created,
                &sanitize_html(&values.content),
                entry_id,
            )?;
            Ok((created.public_id, mail))
        })
        .await;
    match result {
        Ok(Ok((public_id, mail))) => {
            let key = if mail.is_some() {
                "ticket.detail.created_mailed"
            } else {
                "ticket.detail.created"
            };
            s.viewer()
                .flash(Flash::success(i18n::tf(lang, key, &[("id", &public_id)])));
            Ok(w::redirect(&req, &ticket_href(&s.service.code, &public_id)))
        }
        Ok(Err(key)) => {
            attachments::remove_files_later(&s.viewer().state, paths).await;
            let mut errors = FormErrors::new(lang);
            errors.add("assignee_id", key);
            let p = page(&s, &st, category, None, Some(&sub), errors);
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
        Err(e) => {
            attachments::remove_files_later(&s.viewer().state, paths).await;
            Err(e)
        }
    }
}
