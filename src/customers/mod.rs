//! Customers of a consultation service (SPEC §13 Customer): one record per person and service,
//! found again by e-mail (or by phone for phone-channel tickets) so a customer's tickets are
//! linked together.

pub mod grades;
pub mod grades_page;

use actix_web::web;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::customers;
use crate::db::types::{CustomerId, ServiceId};
use crate::db::{DbConn, now};

/// A customer of one service.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = customers)]
pub struct Customer {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Customer number shown to agents (`C` + digits, unique per service).
    pub customer_no: String,
    /// Name (may be empty).
    pub name: String,
    /// E-mail, lower-cased (may be empty).
    pub email: String,
    /// Phone (may be empty).
    pub phone: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
}

/// What a ticket knows about its customer.
#[derive(Debug, Clone, Default)]
pub struct Contact {
    /// Name.
    pub name: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: String,
}

/// The canonical form of an e-mail address for matching.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Customer {
    /// A customer by key within a service.
    pub fn find(
        conn: &mut DbConn,
        service_id: ServiceId,
        id: CustomerId,
    ) -> QueryResult<Option<Customer>> {
        customers::table
            .filter(customers::service_id.eq(service_id))
            .filter(customers::id.eq(id))
            .select(Customer::as_select())
            .first(conn)
            .optional()
    }

    /// The customer with this e-mail in the service, if any.
    pub fn find_by_email(
        conn: &mut DbConn,
        service_id: i64,
        email: &str,
    ) -> QueryResult<Option<Customer>> {
        let email = normalize_email(email);
        if email.is_empty() {
            return Ok(None);
        }
        customers::table
            .filter(customers::service_id.eq(service_id))
            .filter(customers::email.eq(email))
            .order(customers::id.asc())
            .select(Customer::as_select())
            .first(conn)
            .optional()
    }

    fn find_by_phone(
        conn: &mut DbConn,
        service_id: i64,
        phone: &str,
    ) -> QueryResult<Option<Customer>> {
        customers::table
            .filter(customers::service_id.eq(service_id))
            .filter(customers::phone.eq(phone.trim()))
            .order(customers::id.asc())
            .select(Customer::as_select())
            .first(conn)
            .optional()
    }
}

/// Links a ticket's contact to a customer (inside the caller's transaction; SPEC §6.1): phone
/// tickets (`by_phone`) merge into the customer with the same phone first, then by e-mail; other
/// channels by e-mail; otherwise a new customer. Empty name/phone/e-mail of a found customer are
/// filled in.
pub fn link_or_create(
    conn: &mut DbConn,
    service_id: i64,
    contact: &Contact,
    by_phone: bool,
) -> QueryResult<i64> {
    let email = normalize_email(&contact.email);
    let phone = contact.phone.trim().to_string();
    let mut found = None;
    if by_phone && !phone.is_empty() {
        found = Customer::find_by_phone(conn, service_id, &phone)?;
    }
    if found.is_none() {
        found = Customer::find_by_email(conn, service_id, &email)?;
    }
    let t = now();
    if let Some(c) = found {
        let name = if c.name.is_empty() {
            contact.name.trim().to_string()
        } else {
            c.name.clone()
        };
        let phone = if c.phone.is_empty() {
            phone
        } else {
            c.phone.clone()
        };
        let email = if c.email.is_empty() {
            email
        } else {
            c.email.clone()
        };
        diesel::update(customers::table.find(c.id))
            .set((
                customers::name.eq(name),
                customers::phone.eq(phone),
                customers::email.eq(email),
                customers::updated_at.eq(t),
            ))
            .execute(conn)?;
        return Ok(c.id);
    }
    let customer_no = format!(
        "C{}{}",
        t.and_utc().timestamp_millis(),
        crate::crypto::random_alnum(4).to_uppercase()
    );
    diesel::insert_into(customers::table)
        .values((
            customers::service_id.eq(service_id),
            customers::customer_no.eq(customer_no),
            customers::name.eq(contact.name.trim()),
            customers::email.eq(email),
            customers::phone.eq(phone),
            customers::created_at.eq(t),
            customers::updated_at.eq(t),
        ))
        .returning(customers::id)
        .get_result(conn)
}

/// Longest member user code (API.md §7.4.4, §7.7.1).
pub const MAX_USERCODE_CHARS: usize = 50;

/// The customer of a service with this member user code, if any.
pub fn find_by_usercode(
    conn: &mut DbConn,
    service_id: i64,
    usercode: &str,
) -> QueryResult<Option<Customer>> {
    customers::table
        .filter(customers::service_id.eq(service_id))
        .filter(customers::usercode.eq(usercode))
        .order(customers::id.asc())
        .select(Customer::as_select())
        .first(conn)
        .optional()
}

/// Links a member's ticket to a customer (inside the caller's transaction): the customer with
/// the member's user code; else the customer with the same e-mail that has no user code yet
/// (who then gets it); else a new customer with the user code. Empty name/e-mail/phone of a
/// found customer are filled in.
pub fn link_or_create_member(
    conn: &mut DbConn,
    service_id: i64,
    usercode: &str,
    contact: &Contact,
) -> QueryResult<i64> {
    let usercode = usercode.trim();
    if let Some(c) = find_by_usercode(conn, service_id, usercode)? {
        let fill = |have: &str, new: &str| {
            if have.is_empty() {
                new.trim().to_string()
            } else {
                have.to_string()
            }
        };
        diesel::update(customers::table.find(c.id))
            .set((
                customers::name.eq(fill(&c.name, &contact.name)),
                customers::email.eq(fill(&c.email, &normalize_email(&contact.email))),
                customers::phone.eq(fill(&c.phone, &contact.phone)),
                customers::updated_at.eq(now()),
            ))
            .execute(conn)?;
        return Ok(c.id);
    }
    let email = normalize_email(&contact.email);
    let by_email: Option<i64> = if email.is_empty() {
        None
    } else {
        customers::table
            .filter(customers::service_id.eq(service_id))
            .filter(customers::email.eq(&email))
            .filter(customers::usercode.is_null())
            .order(customers::id.asc())
            .select(customers::id)
            .first(conn)
            .optional()?
    };
    let id = match by_email {
        Some(id) => {
            let c = customers::table
                .find(id)
                .select(Customer::as_select())
                .first(conn)?;
            let name = if c.name.is_empty() {
                contact.name.trim().to_string()
            } else {
                c.name
            };
            let phone = if c.phone.is_empty() {
                contact.phone.trim().to_string()
            } else {
                c.phone
            };
            diesel::update(customers::table.find(id))
                .set((
                    customers::name.eq(name),
                    customers::phone.eq(phone),
                    customers::updated_at.eq(now()),
                ))
                .execute(conn)?;
            id
        }
        None => {
            let t = now();
            let customer_no = format!(
                "C{}{}",
                t.and_utc().timestamp_millis(),
                crate::crypto::random_alnum(4).to_uppercase()
            );
            diesel::insert_into(customers::table)
                .values((
                    customers::service_id.eq(service_id),
                    customers::customer_no.eq(customer_no),
                    customers::name.eq(contact.name.trim()),
                    customers::email.eq(email),
                    customers::phone.eq(contact.phone.trim()),
                    customers::created_at.eq(t),
                    customers::updated_at.eq(t),
                ))
                .returning(customers::id)
                .get_result(conn)?
        }
    };
    diesel::update(customers::table.find(id))
        .set(customers::usercode.eq(Some(usercode)))
        .execute(conn)?;
    Ok(id)
}

/// Registers the customer-information settings routes (customer grades).
pub fn routes(cfg: &mut web::ServiceConfig) {
    let base = "/settings/customer-grades";
    cfg.route(base, web::get().to(grades_page::page))
        .route(
            &format!("{base}/grades"),
            web::post().to(grades_page::create_grade),
        )
        .route(
            &format!("{base}/grades/{{id}}"),
            web::get().to(grades_page::edit_grade),
        )
        .route(
            &format!("{base}/grades/{{id}}"),
            web::post().to(grades_page::update_grade),
        )
        .route(
            &format!("{base}/grades/{{id}}/delete"),
            web::post().to(grades_page::delete_grade),
        )
        .route(&format!("{base}/order"), web::post().to(grades_page::order))
        .route(
            &format!("{base}/rules"),
            web::post().to(grades_page::create_rule),
        )
        .route(
            &format!("{base}/rules/{{id}}"),
            web::get().to(grades_page::edit_rule),
        )
        .route(
            &format!("{base}/rules/{{id}}"),
            web::post().to(grades_page::update_rule),
        )
        .route(
            &format!("{base}/rules/{{id}}/delete"),
            web::post().to(grades_page::delete_rule),
        );
}

use crate::console::nav::{NavEntry, Section};

/// The menu entry: customer grades, where customer info is on.
pub const NAV: &[NavEntry] = &[NavEntry {
    section: Section::Ticket,
    path: "console/settings/customer-grades",
    label: "grade.title",
    exact: false,
    visible: |a| {
        crate::tickets::console::consultation_admin(a) && a.service.features().customer_info
    },
}];
