//! Transfer to issue management (SPEC §5.7, §9): from a consultation ticket the agent picks an
//! issue-management service of the organization, then one of that service's intake types, fills
//! in its customer fields, a subject and the content, and confirms. One transaction creates the
//! issue ticket (unassigned, channel "transfer", linked to the origin, the agent as creator) and
//! marks the consultation ticket "transfer in progress" through `lifecycle::transferred`. When
//! the issue ticket is held, resolved or resolved internally, the lifecycle marks the
//! consultation ticket "transfer answered"; issue management never mails the customer about it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::agents::form::Pairs;
use crate::categories::model::Tree;
use crate::customers;
use crate::db::DbConn;
use crate::db::refuse;
use crate::db::schema::{services, tickets as tickets_t};
use crate::db::types::{CategoryTree, CustomerId, ServiceId, ServiceKind};
use crate::error::AppError;
use crate::fields::layout::{FormField, customer_form};
use crate::fields::model::{FieldDef, SystemField};
use crate::i18n::{self, Lang};
use crate::tenancy::service::Service;
use crate::tenancy::service::default_lang;
use crate::tickets::detail::access::{StaffInfo, TicketStaff};
use crate::tickets::detail::create::{extra_fields, intake_choices, read_new_ticket};
use crate::tickets::detail::form::{FieldInput, InputSource, Submitted, inputs};
use crate::tickets::detail::view::{Choice, load_ticket, ticket_href};
use crate::tickets::intake::{self, Intake};
use crate::tickets::lifecycle::{self, LifecycleError, TransferState};
use crate::tickets::{Channel, Status, Ticket};
use crate::web::{self as w, Flash, FormErrors, PageCtx};

/// One issue-management service to choose.
#[derive(Debug, Clone)]
pub struct ServiceChoice {
    /// Link to its intake types.
    pub href: String,
    /// Name.
    pub name: String,
    /// Service ID.
    pub code: String,
}

/// The transfer dialog.
#[derive(Template)]
#[template(path = "tickets/detail/transfer.html")]
pub struct TransferPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// The consultation ticket's page.
    pub ticket_href: String,
    /// Its public ID.
    pub public_id: String,
    /// Its subject.
    pub ticket_subject: String,
    /// Step 1: the services.
    pub services: Vec<ServiceChoice>,
    /// The chosen service's name.
    pub service_name: String,
    /// Step 2: its intake types (links).
    pub types: Vec<(String, String)>,
    /// Link back to step 1.
    pub restart_href: String,
    /// Step 3: whether the form is shown.
    pub show_form: bool,
    /// The chosen intake type's name.
    pub type_name: String,
    /// Where the form posts.
    pub action: String,
    /// Version of the consultation ticket.
    pub version: i64,
    /// Subject.
    pub subject: String,
    /// Content.
    pub content: String,
    /// The issue service's customer fields.
    pub fields: Vec<FieldInput>,
    /// Errors.
    pub errors: FormErrors,
    /// A refusal (already transferred, stale…).
    pub alert: String,
}

/// `?service=&category=`
#[derive(Debug, Default, serde::Deserialize)]
pub struct TransferQuery {
    #[serde(default)]
    service: String,
    #[serde(default)]
    category: String,
}

/// The organization's enabled issue-management services with tickets.
fn im_services(conn: &mut DbConn) -> QueryResult<Vec<Service>> {
    Ok(services::table
        .filter(services::kind.eq(ServiceKind::Issue.as_str()))
        .filter(services::enabled.eq(true))
        .order((services::name.asc(), services::id.asc()))
        .select(Service::as_select())
        .load::<Service>(conn)?
        .into_iter()
        .filter(|s| s.features().ticket)
        .collect())
}

struct Step {
    ticket: Ticket,
    services: Vec<Service>,
    target: Option<Service>,
    tree: Tree,
    category: Option<i64>,
    form: Vec<FormField>,
    prefill: Vec<(SystemField, String)>,
}

fn step(conn: &mut DbConn, s: &StaffInfo, pid: &str, q: &TransferQuery) -> Result<Step, AppError> {
    if s.service.kind() != ServiceKind::Consultation {
        return Err(AppError::NotFound);
    }
    let ticket = load_ticket(conn, s.service.id, pid)?;
    let services = im_services(conn)?;
    let target = match q.service.trim() {
        "" => None,
        code => Some(
            services
                .iter()
                .find(|x| x.code == code)
                .cloned()
                .ok_or(AppError::NotFound)?,
        ),
    };
    let (tree, category, form) = match &target {
        Some(im) => {
            let tree = Tree::load(conn, im.id, CategoryTree::Intake)?;
            let category = match q.category.trim() {
                "" => None,
                c => {
                    let id = c.parse::<i64>().map_err(|_| AppError::NotFound)?;
                    tree.get(id).ok_or(AppError::NotFound)?;
                    Some(id)
                }
            };
            let form = match category {
                Some(c) => customer_form(conn, im, c, default_lang(im))?
                    .map(|f| f.fields)
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            (tree, category, form)
        }
        None => (Tree::default(), None, Vec::new()),
    };
    // The consultation customer's contact pre-fills the issue form's contact fields.
    let mut prefill = Vec::new();
    if let Some(cid) = ticket.customer_id
        && let Some(c) = customers::Customer::find(conn, ServiceId(s.service.id), CustomerId(cid))?
    {
        prefill.push((SystemField::Name, c.name));
        prefill.push((SystemField::Email, c.email));
        prefill.push((SystemField::Phone, c.phone));
    }
    Ok(Step {
        ticket,
        services,
        target,
        tree,
        category,
        form,
        prefill,
    })
}

fn render_page(
    s: &TicketStaff,
    st: &Step,
    sub: Option<&Submitted>,
    errors: FormErrors,
    alert: String,
) -> TransferPage {
    let lang = s.viewer().lang;
    let t = &st.ticket;
    let base = format!("{}/transfer", ticket_href(&s.service.code, &t.public_id));
    let show_form = st.target.is_some() && (st.category.is_some() || st.tree.is_empty());
    let (types, service_name, type_name, fields) = match &st.target {
        Some(im) => {
            let fallback = default_lang(im);
            let types: Vec<Choice> = intake_choices(&st.tree, lang, fallback, st.category);
            let type_name = types
                .iter()
                .find(|c| c.2)
                .map(|c| c.1.clone())
                .unwrap_or_default();
            let extra = extra_fields(&st.form);
            let defs: Vec<FieldDef> = extra.iter().map(|f| f.def.clone()).collect();
            let src = InputSource {
                lang,
                fallback,
                secret: &s.viewer().state.secret,
                see_personal: true,
            };
            let mut fields = inputs(&defs, &[], sub, &errors, &src, |_| true);
            if sub.is_none() {
                for (f, input) in extra.iter().zip(fields.iter_mut()) {
                    if let Some((_, v)) = st.prefill.iter().find(|(sys, _)| f.system == Some(*sys))
                    {
                        input.value = v.clone();
                    }
                }
            }
            (
                types
                    .into_iter()
                    .map(|(id, name, _)| {
                        (format!("{base}?service={}&category={id}", im.code), name)
                    })
                    .collect(),
                im.name.clone(),
                type_name,
                fields,
            )
        }
        None => (Vec::new(), String::new(), String::new(), Vec::new()),
    };
    let mut action = format!("{base}?service=");
    if let Some(im) = &st.target {
        action.push_str(&im.code);
    }
    if let Some(c) = st.category {
        action.push_str(&format!("&category={c}"));
    }
    TransferPage {
        ctx: PageCtx::console(s, "transfer.title"),
        ticket_href: ticket_href(&s.service.code, &t.public_id),
        public_id: t.public_id.clone(),
        ticket_subject: t.subject.clone(),
        services: st
            .services
            .iter()
            .map(|x| ServiceChoice {
                href: format!("{base}?service={}", x.code),
                name: x.name.clone(),
                code: x.code.clone(),
            })
            .collect(),
        service_name,
        types,
        restart_href: base,
        show_form,
        type_name,
        action,
        version: t.version,
        subject: sub
            .map(|x| x.one("subject"))
            .unwrap_or_else(|| t.subject.clone()),
        content: sub.map(|x| x.one("content")).unwrap_or_default(),
        fields,
        errors,
        alert,
    }
}

/// `GET /{service_id}/console/tickets/{public_id}/transfer?service=&category=`
pub async fn transfer_form(
    s: TicketStaff,
    path: web::Path<(String, String)>,
    query: web::Query<TransferQuery>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let s2 = s.info();
    let q = query.into_inner();
    let st = s
        .viewer()
        .state
        .db
        .read(move |c| step(c, &s2, &pid, &q))
        .await?;
    let lang = s.viewer().lang;
    let alert = refusal(&st.ticket)
        .map(|e| i18n::t(lang, e.message_key()))
        .unwrap_or_default();
    let page = render_page(&s, &st, None, FormErrors::new(lang), alert);
    w::html(StatusCode::OK, &page)
}

/// Why a ticket cannot be transferred now, if it cannot.
fn refusal(t: &Ticket) -> Option<LifecycleError> {
    if t.is_spam {
        Some(LifecycleError::InSpam)
    } else if t.status() == Status::Closed {
        Some(LifecycleError::Closed)
    } else if t.transfer_state() == TransferState::IssueInProgress {
        Some(LifecycleError::AlreadyTransferred)
    } else {
        None
    }
}

/// `POST /{service_id}/console/tickets/{public_id}/transfer?service=&category=`
pub async fn transfer_ticket(
    req: HttpRequest,
    s: TicketStaff,
    path: web::Path<(String, String)>,
    query: web::Query<TransferQuery>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let lang = s.viewer().lang;
    let s2 = s.info();
    let q = query.into_inner();
    let pid2 = pid.clone();
    let st = s
        .viewer()
        .state
        .db
        .read(move |c| step(c, &s2, &pid2, &q))
        .await?;
    let Some(im) = st.target.clone() else {
        return Err(AppError::NotFound);
    };
    if st.category.is_none() && !st.tree.is_empty() {
        return Err(AppError::NotFound);
    }
    let sub = Submitted::from_pairs(&form);
    let mut errors = FormErrors::new(lang);
    let values = read_new_ticket(&st.form, &sub, lang, &mut errors);
    let version = sub.id("version");
    if !errors.is_empty() {
        let page = render_page(&s, &st, Some(&sub), errors, String::new());
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let secret = s.viewer().state.secret.clone();
    let (sid, actor, category) = (s.service.id, s.user().id, st.category);
    let pid2 = pid.clone();
    let result = s
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            let mut cm = load_ticket(c, sid, &pid2)?;
            if let Some(e) = refusal(&cm) {
                return refuse(e);
            }
            let current: i64 = tickets_t::table
                .find(cm.id)
                .select(tickets_t::version)
                .first(c)?;
            match version {
                Some(v) if v == current => cm.version = v,
                _ => return refuse(LifecycleError::Stale),
            }
            let contact = &values.contact;
            // Without an e-mail address the issue ticket has no customer.
            let lang = Lang::parse(&cm.lang).unwrap_or_else(|| default_lang(&im));
            let created = intake::open(
                c,
                &secret,
                &Intake {
                    contact: (!contact.email.trim().is_empty()).then_some(contact),
                    category_id: category,
                    fields: &values.values,
                    creator_id: Some(actor),
                    origin_ticket_id: Some(cm.id),
                    ..Intake::new(
                        im.id,
                        Channel::Transfer,
                        lang,
                        &values.subject,
                        &values.content,
                    )
                },
            )?;
            match lifecycle::transferred(c, &cm, actor, created.id) {
                Ok(()) => Ok((im.code.clone(), im.name.clone(), created.public_id)),
                // Someone changed the ticket between the check and the claim: undo the issue
                // ticket by failing the transaction.
                Err(e) => Err(AppError::BadRequest(e.message_key()).into()),
            }
        })
        .await?;
    match result {
        Ok((_code, name, im_pid)) => {
            s.viewer().flash(Flash::success(i18n::tf(
                lang,
                "transfer.done",
                &[("service", &name), ("id", &im_pid)],
            )));
            Ok(w::redirect(&req, &ticket_href(&s.service.code, &pid)))
        }
        Err(e) => {
            let alert = i18n::t(lang, e.message_key());
            let page = render_page(&s, &st, Some(&sub), FormErrors::new(lang), alert);
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
