//! Saving a ticket's customer fields (SPEC §5.2 ⑨ "the customer fields, editable, with a Save
//! button"). The values are validated with the field validator; personal values the viewer
//! may only see masked are kept when left empty. A changed subject updates the ticket's
//! subject; a changed e-mail links the ticket to that customer (found or created), a changed
//! name or phone updates the customer. The change claims the ticket's version, so a form loaded
//! before someone else's change is refused instead of overwriting it.
//!
//! With htmx the response is the whole page, from which the form swaps its card and the
//! processing form's version (the reply being typed stays); without JavaScript a successful
//! save redirects back to the ticket.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use diesel::prelude::*;

use crate::agents::form::Pairs;
use crate::customers::{self, Contact, Customer};
use crate::db::DbConn;
use crate::db::schema::{customers as customers_t, tickets};
use crate::db::types::{CustomerId, ServiceId};
use crate::error::AppError;
use crate::fields::model::SystemField;
use crate::fields::validate::StoredValue;
use crate::i18n;
use crate::tickets::detail::access::TicketStaff;
use crate::tickets::detail::form::{FieldChange, Submitted, read_fields};
use crate::tickets::detail::process::store_fields;
use crate::tickets::detail::view::{self, PageState, customer_defs, load_ticket, ticket_href};
use crate::tickets::lifecycle::{self, LifecycleError};
use crate::tickets::{MAX_SUBJECT_CHARS, Status, Ticket, field_values_of, record_event};
use crate::web::{self as w, Flash, FormErrors};

fn text_of(v: &StoredValue) -> String {
    match v {
        StoredValue::Text(t) => t.trim().to_string(),
        _ => String::new(),
    }
}

/// Applies the contact and subject consequences of changed system fields.
fn apply_system_changes(conn: &mut DbConn, t: &Ticket, changes: &[FieldChange]) -> QueryResult<()> {
    let changed = |s: SystemField| {
        changes.iter().find_map(|c| match c {
            FieldChange::Set(def, v) if def.system == Some(s) => Some(text_of(v)),
            _ => None,
        })
    };
    if let Some(subject) = changed(SystemField::Subject)
        && !subject.is_empty()
        && subject != t.subject
    {
        let subject: String = subject.chars().take(MAX_SUBJECT_CHARS).collect();
        diesel::update(tickets::table.find(t.id))
            .set(tickets::subject.eq(subject))
            .execute(conn)?;
    }
    let (name, email, phone) = (
        changed(SystemField::Name),
        changed(SystemField::Email),
        changed(SystemField::Phone),
    );
    if name.is_none() && email.is_none() && phone.is_none() {
        return Ok(());
    }
    let current = match t.customer_id {
        Some(id) => Customer::find(conn, ServiceId(t.service_id), CustomerId(id))?,
        None => None,
    };
    let email_changed = email.as_ref().is_some_and(|e| {
        customers::normalize_email(e)
            != current
                .as_ref()
                .map(|c| c.email.clone())
                .unwrap_or_default()
    });
    if email_changed && email.as_ref().is_some_and(|e| !e.is_empty()) {
        let contact = Contact {
            name: name
                .clone()
                .or_else(|| current.as_ref().map(|c| c.name.clone()))
                .unwrap_or_default(),
            email: email.clone().unwrap_or_default(),
            phone: phone
                .clone()
                .or_else(|| current.as_ref().map(|c| c.phone.clone()))
                .unwrap_or_default(),
        };
        let id = customers::link_or_create(conn, t.service_id, &contact, false)?;
        diesel::update(tickets::table.find(t.id))
            .set(tickets::customer_id.eq(Some(id)))
            .execute(conn)?;
        return Ok(());
    }
    if let Some(c) = current {
        diesel::update(customers_t::table.find(c.id))
            .set((
                customers_t::name.eq(name.unwrap_or(c.name)),
                customers_t::phone.eq(phone.unwrap_or(c.phone)),
                customers_t::updated_at.eq(crate::db::now()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

enum Saved {
    Ok,
    Invalid(FormErrors),
    Refused(LifecycleError),
}

/// `POST /{service_id}/console/tickets/{public_id}/fields`
pub async fn save_fields(
    req: HttpRequest,
    s: TicketStaff,
    path: web::Path<(String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let pid = path.into_inner().1;
    let lang = s.viewer().lang;
    let sub = Submitted::from_pairs(&form);
    let version = sub.id("version");
    let s2 = s.info();
    let secret = s.viewer().state.secret.clone();
    let (pid2, sub2) = (pid.clone(), sub.clone());
    let result = s
        .viewer()
        .state
        .db
        .write(move |c| {
            let mut t = load_ticket(c, s2.service.id, &pid2)?;
            if t.is_spam {
                return Ok(Saved::Refused(LifecycleError::InSpam));
            }
            if t.status() == Status::Closed {
                return Ok(Saved::Refused(LifecycleError::Closed));
            }
            // An outdated form is refused before its values are looked at.
            match version {
                Some(v) if v == t.version => {}
                _ => return Ok(Saved::Refused(LifecycleError::Stale)),
            }
            let stored = field_values_of(c, t.id)?;
            let defs = customer_defs(c, &s2.service, &t, &stored)?;
            let customer = match t.customer_id {
                Some(id) => Customer::find(c, ServiceId(t.service_id), CustomerId(id))?,
                None => None,
            };
            let values = view::with_fallbacks(&defs, &stored, &t, customer.as_ref());
            let see = view::sees_personal(&s2, &t);
            let mut errors = FormErrors::new(lang);
            let changes = read_fields(&defs, &values, &sub2, see, true, lang, &mut errors);
            if !errors.is_empty() {
                return Ok(Saved::Invalid(errors));
            }
            if let Some(v) = version {
                t.version = v;
            }
            match lifecycle::claim(c, &t) {
                Ok(()) => {}
                Err(LifecycleError::Db) => {
                    return Err(AppError::Internal("claim failed".into()));
                }
                Err(e) => return Ok(Saved::Refused(e)),
            }
            let before = crate::tickets::events::Record::read(c, &t)?;
            if store_fields(c, &secret, t.id, &changes)? {
                apply_system_changes(c, &t, &changes)?;
                record_event(c, t.id, "fields_updated", Some(s2.user_id), "customer")?;
                // Triggers see field changes too ("changed", field targets).
                crate::tickets::events::fields_changed(c, &before)?;
            }
            Ok(Saved::Ok)
        })
        .await?;
    let htmx = s.viewer().htmx;
    match result {
        Saved::Ok if !htmx => {
            s.viewer()
                .flash(Flash::success(i18n::t(lang, "ticket.detail.fields_saved")));
            Ok(w::redirect(&req, &ticket_href(&s.service.code, &pid)))
        }
        Saved::Ok => {
            let state = PageState {
                fields_notice: i18n::t(lang, "ticket.detail.fields_saved"),
                ..PageState::default()
            };
            let page = view::build(&s, &pid, state).await?;
            w::html(StatusCode::OK, &page)
        }
        Saved::Invalid(errors) => {
            let state = PageState {
                fields: Some(sub),
                fields_errors: Some(errors),
                ..PageState::default()
            };
            let page = view::build(&s, &pid, state).await?;
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Saved::Refused(e) => {
            let mut errors = FormErrors::new(lang);
            errors.add("fields", e.message_key());
            let state = PageState {
                fields: Some(sub),
                fields_errors: Some(errors),
                ..PageState::default()
            };
            let page = view::build(&s, &pid, state).await?;
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
