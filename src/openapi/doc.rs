//! The API reference and route table: one table of every endpoint this module serves
//! ([`ENDPOINTS`]: method, path, handler and documentation), from which the actix routes of the
//! API scopes ([`register`]), the OpenAPI 3 document (`GET /api-docs/openapi.json`) and the
//! human-readable page linked from the Authentication settings are all generated, so the
//! document cannot drift from the routes.

use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, Route, web};
use askama::Template;
use serde_json::{Map, Value, json};

use crate::error::AppError;
use crate::web::{self as w, PageCtx, ServiceAdmin};

/// How an endpoint is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Public (`api/v2`).
    None,
    /// Signed with the service key (API.md §2).
    Service,
    /// Signed with the service key, multipart MD5 variant.
    ServiceUpload,
    /// The member token (API.md §3).
    Member,
    /// Signed with the organization key (API.md §8.1).
    Org,
}

impl Auth {
    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Service => "service key",
            Auth::ServiceUpload => "service key (MD5)",
            Auth::Member => "member token",
            Auth::Org => "organization key",
        }
    }
}

/// One endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// API.md number (P…, L…).
    pub id: &'static str,
    /// HTTP method.
    pub method: &'static str,
    /// Path template, `{serviceId}` first where the family has one.
    pub path: &'static str,
    /// Authentication.
    pub auth: Auth,
    /// Group.
    pub tag: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Binds the handler to the method's route (`|r| r.to(handler)`).
    pub handler: Bind,
}

/// Binds a handler to a route: `|r| r.to(handler)` (each handler has its own type, so the
/// table stores this function instead).
pub type Bind = fn(Route) -> Route;

const fn ep(
    id: &'static str,
    method: &'static str,
    path: &'static str,
    auth: Auth,
    tag: &'static str,
    summary: &'static str,
    handler: Bind,
) -> Endpoint {
    Endpoint {
        id,
        method,
        path,
        auth,
        tag,
        summary,
        handler,
    }
}

impl Endpoint {
    /// The actix pattern of the path: the documented placeholders in snake case
    /// (`{serviceId}` → `{service_id}`), the names the handlers read.
    pub fn route_pattern(&self) -> String {
        let mut out = String::with_capacity(self.path.len() + 8);
        let mut in_param = false;
        for c in self.path.chars() {
            match c {
                '{' => in_param = true,
                '}' => in_param = false,
                c if in_param && c.is_ascii_uppercase() => {
                    out.push('_');
                    out.push(c.to_ascii_lowercase());
                    continue;
                }
                _ => {}
            }
            out.push(c);
        }
        out
    }

    /// The method's route with the handler bound; `None` for a method name HTTP does not know.
    pub fn route(&self) -> Option<Route> {
        let method = Method::from_bytes(self.method.as_bytes()).ok()?;
        Some((self.handler)(web::method(method)))
    }
}

/// The scopes the API is served under (actix patterns); every endpoint lies in exactly one.
pub const API_SCOPES: &[&str] = &[
    "/openapi",
    "/v2/enduser",
    "/api/v2/enduser",
    "/{service_id}/api",
    "/{service_id}/openapi",
    "/{service_id}/hc/openapi",
];

/// The endpoints of one scope as (pattern relative to the scope, endpoint), literal segments
/// before placeholders so `list.json` is never taken for an `{id}.json` (API.md §1.1); the
/// table order is kept otherwise.
pub fn scope_endpoints(scope: &str) -> Vec<(String, &'static Endpoint)> {
    let mut out: Vec<(String, &'static Endpoint)> = ENDPOINTS
        .iter()
        .filter_map(|e| {
            let pattern = e.route_pattern();
            let rest = pattern.strip_prefix(scope)?;
            rest.starts_with('/').then(|| (rest.to_string(), e))
        })
        .collect();
    let placeholders = |p: &str| p.split('/').map(|s| s.contains('{')).collect::<Vec<_>>();
    out.sort_by_key(|(p, _)| placeholders(p));
    out
}

/// Registers the endpoints of one API scope (relative to it).
pub fn register(cfg: &mut web::ServiceConfig, scope: &str) {
    for (pattern, e) in scope_endpoints(scope) {
        if let Some(route) = e.route() {
            cfg.route(&pattern, route);
        }
    }
}

use Auth::{Member, None as Public, Org, Service as Svc, ServiceUpload as Upload};

/// Every endpoint served, in API.md order.
pub static ENDPOINTS: &[Endpoint] = &[
    ep(
        "P1",
        "GET",
        "/{serviceId}/api/v2/service.json",
        Public,
        "Help center",
        "Service detail: name, languages, background image.",
        |r| r.to(super::public_v2::service_detail),
    ),
    ep(
        "P2",
        "GET",
        "/{serviceId}/api/v2/notice/categories.json",
        Public,
        "Help center",
        "Notice headings.",
        |r| r.to(super::public_v2::notice_categories),
    ),
    ep(
        "P3",
        "GET",
        "/{serviceId}/api/v2/notice/tags.json",
        Public,
        "Help center",
        "Notice tags (language code or keyword filter).",
        |r| r.to(super::public_v2::notice_tags),
    ),
    ep(
        "P4",
        "GET",
        "/{serviceId}/api/v2/notice/list.json",
        Public,
        "Help center",
        "Published notices, paged and sorted.",
        |r| r.to(super::public_v2::notice_list),
    ),
    ep(
        "P5",
        "GET",
        "/{serviceId}/api/v2/notice/detail/{id}.json",
        Public,
        "Help center",
        "One notice; counts a read.",
        |r| r.to(super::public_v2::notice_detail),
    ),
    ep(
        "P6",
        "GET",
        "/{serviceId}/api/v2/notice/attachments/{id}",
        Public,
        "Help center",
        "A notice attachment (type=open|download).",
        |r| r.to(super::public_v2::notice_attachment),
    ),
    ep(
        "P7",
        "GET",
        "/{serviceId}/api/v2/helpdoc/categories.json",
        Public,
        "Help center",
        "FAQ categories (3 levels).",
        |r| r.to(super::public_v2::faq_categories),
    ),
    ep(
        "P8",
        "GET",
        "/{serviceId}/api/v2/helpdoc/list.json",
        Public,
        "Help center",
        "Published FAQs, paged and sorted.",
        |r| r.to(super::public_v2::faq_list),
    ),
    ep(
        "P9",
        "GET",
        "/{serviceId}/api/v2/helpdoc/detail/{id}.json",
        Public,
        "Help center",
        "One FAQ with its category chain; counts a read.",
        |r| r.to(super::public_v2::faq_detail),
    ),
    ep(
        "P10",
        "GET",
        "/{serviceId}/api/v2/helpdoc/attachments/{id}",
        Public,
        "Help center",
        "An FAQ attachment (type=open|download).",
        |r| r.to(super::public_v2::faq_attachment),
    ),
    ep(
        "P11",
        "GET",
        "/{serviceId}/api/v2/ticket/categories.json",
        Public,
        "Inquiry",
        "Intake types (parent → children, child → ancestors).",
        |r| r.to(super::public_v2::intake_types),
    ),
    ep(
        "P12",
        "GET",
        "/{serviceId}/api/v2/ticket/field/user/{categoryId}.json",
        Public,
        "Inquiry",
        "Customer fields of an intake type.",
        |r| r.to(super::public_v2::intake_fields),
    ),
    ep(
        "P13",
        "POST",
        "/{serviceId}/openapi/v1/ticket/attachments/upload.json",
        Upload,
        "Inquiry",
        "Upload a ticket attachment (multipart `file`).",
        |r| r.to(super::signed_v1::upload_ticket_attachment),
    ),
    ep(
        "P14",
        "POST",
        "/{serviceId}/openapi/v1/ticket.json",
        Svc,
        "Inquiry",
        "Create a ticket; field errors come as the validation list.",
        |r| r.to(super::signed_v1::create_ticket),
    ),
    ep(
        "P15",
        "GET",
        "/{serviceId}/openapi/v1/ticket/enduser/{usercode}/list.json",
        Svc,
        "Inquiry history",
        "A member's tickets (POST also accepted).",
        |r| r.to(super::signed_v1::member_tickets),
    ),
    ep(
        "P15",
        "POST",
        "/{serviceId}/openapi/v1/ticket/enduser/{usercode}/list.json",
        Svc,
        "Inquiry history",
        "A member's tickets, parameters in a form body.",
        |r| r.to(super::signed_v1::member_tickets),
    ),
    ep(
        "P16",
        "GET",
        "/{serviceId}/openapi/v1/ticket/enduser/{usercode}/{ticketId}/detail.json",
        Svc,
        "Inquiry history",
        "One member ticket with its conversation, newest first.",
        |r| r.to(super::signed_v1::member_ticket),
    ),
    ep(
        "P17",
        "GET",
        "/{serviceId}/api/v2/ticket/attachments/{id}",
        Public,
        "Inquiry history",
        "A ticket attachment (type=open|download).",
        |r| r.to(super::public_v2::ticket_attachment),
    ),
    ep(
        "P18",
        "POST",
        "/{serviceId}/openapi/v1/ticket/enduser/{usercode}/{ticketId}/comment.json",
        Svc,
        "Inquiry history",
        "A member's follow-up; reopens solved tickets.",
        |r| r.to(super::signed_v1::member_followup),
    ),
    ep(
        "P19",
        "POST",
        "/{serviceId}/hc/openapi/v1/addition.json",
        Svc,
        "Help center",
        "Store addition data; returns the single-use additionId.",
        |r| r.to(super::signed_v1::addition),
    ),
    ep(
        "P20",
        "POST",
        "/v2/enduser/remote.json",
        Member,
        "Member integration",
        "Remote login from the browser (form post).",
        |r| r.to(crate::help_center::member::remote_login_browser),
    ),
    ep(
        "P21",
        "POST",
        "/api/v2/enduser/remote.json",
        Member,
        "Member integration",
        "Remote login from the customer's server; returns an access token.",
        |r| r.to(crate::help_center::member::remote_login_server),
    ),
    ep(
        "P23",
        "GET",
        "/{serviceId}/openapi/v1/users.json",
        Svc,
        "Agents",
        "List the service's agents.",
        |r| r.to(super::admin_api::list_agents),
    ),
    ep(
        "P24",
        "GET",
        "/{serviceId}/openapi/v1/users/{id}.json",
        Svc,
        "Agents",
        "One agent.",
        |r| r.to(super::admin_api::get_agent),
    ),
    ep(
        "P25",
        "POST",
        "/{serviceId}/openapi/v1/adduser.json",
        Svc,
        "Agents",
        "Add an organization member (by UUID) with a role.",
        |r| r.to(super::admin_api::add_agent),
    ),
    ep(
        "P26",
        "PUT",
        "/{serviceId}/openapi/v1/users/{id}.json",
        Svc,
        "Agents",
        "Change an agent's role.",
        |r| r.to(super::admin_api::update_agent),
    ),
    ep(
        "P27",
        "DELETE",
        "/{serviceId}/openapi/v1/users/{id}.json",
        Svc,
        "Agents",
        "Remove an agent from the service.",
        |r| r.to(super::admin_api::remove_agent),
    ),
    ep(
        "P28",
        "POST",
        "/{serviceId}/openapi/v1/mail/create.json",
        Svc,
        "E-mail settings",
        "Create the representative account (mail=local part); once only (9007 after).",
        |r| r.to(super::mail_api::create_representative),
    ),
    ep(
        "P29",
        "GET",
        "/{serviceId}/openapi/v1/mail.json",
        Svc,
        "E-mail settings",
        "Mail settings: sender, representative address, layout, external accounts.",
        |r| r.to(super::mail_api::get_settings),
    ),
    ep(
        "P30",
        "POST",
        "/{serviceId}/openapi/v1/mail.json",
        Svc,
        "E-mail settings",
        "Save the sender name and address and the layout (must contain #{content}).",
        |r| r.to(super::mail_api::save_settings),
    ),
    ep(
        "P31",
        "POST",
        "/{serviceId}/openapi/v1/mail/external/verify.json",
        Svc,
        "E-mail settings",
        "Verify an IMAP account (nothing saved); a failure names the failing step.",
        |r| r.to(super::mail_api::verify_external),
    ),
    ep(
        "P32",
        "POST",
        "/{serviceId}/openapi/v1/mail/external.json",
        Svc,
        "E-mail settings",
        "Verify and register an IMAP account (enabled, password masked).",
        |r| r.to(super::mail_api::register_external),
    ),
    ep(
        "P33",
        "PUT",
        "/{serviceId}/openapi/v1/mail/external/{id}.json",
        Svc,
        "E-mail settings",
        "Verify and update an IMAP account (optional active).",
        |r| r.to(super::mail_api::update_external),
    ),
    ep(
        "P34",
        "PUT",
        "/{serviceId}/openapi/v1/mail/external/{id}/enable.json",
        Svc,
        "E-mail settings",
        "Enable an IMAP account.",
        |r| r.to(super::mail_api::enable_external),
    ),
    ep(
        "P35",
        "PUT",
        "/{serviceId}/openapi/v1/mail/external/{id}/disable.json",
        Svc,
        "E-mail settings",
        "Disable an IMAP account.",
        |r| r.to(super::mail_api::disable_external),
    ),
    ep(
        "P36",
        "DELETE",
        "/{serviceId}/openapi/v1/mail/external/{id}.json",
        Svc,
        "E-mail settings",
        "Delete a disabled IMAP account.",
        |r| r.to(super::mail_api::delete_external),
    ),
    ep(
        "L1",
        "POST",
        "/openapi/v1/admin/service/add.json",
        Org,
        "Services (organization)",
        "Add a service (console validation); the acting user becomes its administrator; returns the key.",
        |r| r.to(super::org_api::add_service),
    ),
    ep(
        "L2",
        "GET",
        "/openapi/v1/admin/service/{serviceId}.json",
        Org,
        "Services (organization)",
        "One service.",
        |r| r.to(super::org_api::get_service),
    ),
    ep(
        "L3",
        "PUT",
        "/openapi/v1/admin/service/{serviceId}.json",
        Org,
        "Services (organization)",
        "Change name, languages, default language, time zone.",
        |r| r.to(super::org_api::update_service),
    ),
    ep(
        "L4",
        "PUT",
        "/openapi/v1/admin/service/disable.json",
        Org,
        "Services (organization)",
        "Disable a service (serviceId in the query).",
        |r| r.to(super::org_api::disable_service),
    ),
    ep(
        "L5",
        "PUT",
        "/openapi/v1/admin/service/enable.json",
        Org,
        "Services (organization)",
        "Enable a service (serviceId in the query).",
        |r| r.to(super::org_api::enable_service),
    ),
    ep(
        "L6",
        "DELETE",
        "/openapi/v1/admin/service/{serviceId}.json",
        Org,
        "Services (organization)",
        "Delete a disabled service: \"SUCCESS\", or \"ENABLE\" while it is active.",
        |r| r.to(super::org_api::delete_service),
    ),
    ep(
        "L7",
        "PUT",
        "/openapi/v1/admin/service/apikey/refresh.json",
        Org,
        "Services (organization)",
        "A new service key (serviceId in the query); the old one stops at once.",
        |r| r.to(super::org_api::refresh_key),
    ),
    ep(
        "L8",
        "GET",
        "/openapi/v1/admin/service/list.json",
        Org,
        "Services (organization)",
        "Every service, paged (pageSize default 100).",
        |r| r.to(super::org_api::list_services),
    ),
    ep(
        "L9",
        "POST",
        "/openapi/v1/admin/billing/reg.json",
        Org,
        "Contracts (organization)",
        "Register a service's contract; items are its feature switches.",
        |r| r.to(super::billing::register),
    ),
    ep(
        "L10",
        "PUT",
        "/openapi/v1/admin/billing/update/{billingId}.json",
        Org,
        "Contracts (organization)",
        "Change contract items, once per day (9015 otherwise).",
        |r| r.to(super::billing::update),
    ),
    ep(
        "L11",
        "GET",
        "/openapi/v1/admin/billing/list.json",
        Org,
        "Contracts (organization)",
        "Contracts, paged; filters billingSettingCode and active.",
        |r| r.to(super::billing::list),
    ),
    ep(
        "L12",
        "GET",
        "/openapi/v1/admin/billing/service/{serviceId}.json",
        Org,
        "Contracts (organization)",
        "A service's contract with its items.",
        |r| r.to(super::billing::by_service_code),
    ),
    ep(
        "L13",
        "GET",
        "/openapi/v1/admin/billing/{billingId}.json",
        Org,
        "Contracts (organization)",
        "A contract with its items.",
        |r| r.to(super::billing::by_billing_id),
    ),
    ep(
        "L14",
        "POST",
        "/{serviceId}/openapi/v1/ticket/add.json",
        Svc,
        "Tickets (legacy)",
        "Add a ticket for a customer user code.",
        |r| r.to(super::admin_api::add_ticket),
    ),
    ep(
        "L15",
        "PUT",
        "/{serviceId}/openapi/v1/ticket/call.json",
        Svc,
        "Tickets (legacy)",
        "Register a phone call (CTI) as a phone ticket of the agent with that CTI ID.",
        |r| r.to(super::phone_call::register_call),
    ),
    ep(
        "L16",
        "POST",
        "/{serviceId}/openapi/v1/ticket/solve.json",
        Svc,
        "Tickets (legacy)",
        "Answer and solve, hold (type=reply) or complete (type=closed).",
        |r| r.to(super::admin_api::solve_ticket),
    ),
    ep(
        "L17",
        "POST",
        "/{serviceId}/openapi/v1/ticket/comment.json",
        Svc,
        "Tickets (legacy)",
        "A customer re-inquiry (id in the query).",
        |r| r.to(super::admin_api::comment_ticket),
    ),
    ep(
        "L18",
        "GET",
        "/{serviceId}/openapi/v1/ticket/{id}.json",
        Svc,
        "Tickets (legacy)",
        "One ticket with its conversation.",
        |r| r.to(super::admin_api::get_ticket),
    ),
    ep(
        "L19",
        "GET",
        "/{serviceId}/openapi/v1/ticket/list.json",
        Svc,
        "Tickets (legacy)",
        "Search tickets.",
        |r| r.to(super::admin_api::list_tickets),
    ),
    ep(
        "L20",
        "GET",
        "/{serviceId}/openapi/v1/ticket/{usercode}/list.json",
        Svc,
        "Tickets (legacy)",
        "A customer's tickets.",
        |r| r.to(super::admin_api::list_tickets),
    ),
    ep(
        "L21",
        "POST",
        "/{serviceId}/openapi/v1/attachments/ticket/upload.json",
        Upload,
        "Tickets (legacy)",
        "Upload a ticket attachment.",
        |r| r.to(super::admin_api::legacy_upload),
    ),
    ep(
        "L22",
        "GET",
        "/{serviceId}/openapi/v1/attachments/ticket/{id}",
        Svc,
        "Tickets (legacy)",
        "Download a ticket attachment.",
        |r| r.to(super::admin_api::legacy_download),
    ),
    ep(
        "L23",
        "DELETE",
        "/{serviceId}/openapi/v1/attachments/ticket/{id}.json",
        Svc,
        "Tickets (legacy)",
        "Delete an unused upload.",
        |r| r.to(super::admin_api::legacy_delete_upload),
    ),
    ep(
        "L24",
        "POST",
        "/{serviceId}/openapi/v1/ticket/category/add.json",
        Svc,
        "Intake types (legacy)",
        "Add a top-level intake type.",
        |r| r.to(super::admin_api::add_category),
    ),
    ep(
        "L25",
        "GET",
        "/{serviceId}/openapi/v1/ticket/category/{categoryId}.json",
        Svc,
        "Intake types (legacy)",
        "One intake type.",
        |r| r.to(super::admin_api::get_category),
    ),
    ep(
        "L26",
        "PUT",
        "/{serviceId}/openapi/v1/ticket/category/{categoryId}.json",
        Svc,
        "Intake types (legacy)",
        "Rename or reorder an intake type.",
        |r| r.to(super::admin_api::update_category),
    ),
    ep(
        "L27",
        "DELETE",
        "/{serviceId}/openapi/v1/ticket/category/{categoryId}.json",
        Svc,
        "Intake types (legacy)",
        "Delete an intake type.",
        |r| r.to(super::admin_api::delete_category),
    ),
    ep(
        "L28",
        "GET",
        "/{serviceId}/openapi/v1/ticket/category/list.json",
        Svc,
        "Intake types (legacy)",
        "Top-level intake types.",
        |r| r.to(super::admin_api::list_categories),
    ),
    ep(
        "L29",
        "GET",
        "/{serviceId}/openapi/v1/helpdoc.json",
        Svc,
        "FAQ (legacy)",
        "Search FAQ documents.",
        |r| r.to(super::legacy_docs::list_faqs),
    ),
    ep(
        "L30",
        "GET",
        "/{serviceId}/openapi/v1/helpdoc/{id}.json",
        Svc,
        "FAQ (legacy)",
        "One FAQ document with every language.",
        |r| r.to(super::legacy_docs::get_faq),
    ),
    ep(
        "L31",
        "POST",
        "/{serviceId}/openapi/v1/helpdoc.json",
        Svc,
        "FAQ (legacy)",
        "Create an FAQ document.",
        |r| r.to(super::legacy_docs::save_faq),
    ),
    ep(
        "L32",
        "PUT",
        "/{serviceId}/openapi/v1/helpdoc/{id}.json",
        Svc,
        "FAQ (legacy)",
        "Update an FAQ document.",
        |r| r.to(super::legacy_docs::save_faq),
    ),
    ep(
        "L33",
        "PUT",
        "/{serviceId}/openapi/v1/helpdoc/{id}/recommend.json",
        Svc,
        "FAQ (legacy)",
        "Pin or unpin in its category.",
        |r| r.to(super::legacy_docs::set_faq_flag),
    ),
    ep(
        "L34",
        "PUT",
        "/{serviceId}/openapi/v1/helpdoc/{id}/top.json",
        Svc,
        "FAQ (legacy)",
        "Pin or unpin on the main page.",
        |r| r.to(super::legacy_docs::set_faq_flag),
    ),
    ep(
        "L35",
        "PUT",
        "/{serviceId}/openapi/v1/helpdoc/{id}/close.json",
        Svc,
        "FAQ (legacy)",
        "Unpublish.",
        |r| r.to(super::legacy_docs::close_faq),
    ),
    ep(
        "L36",
        "DELETE",
        "/{serviceId}/openapi/v1/helpdoc/{id}.json",
        Svc,
        "FAQ (legacy)",
        "Delete.",
        |r| r.to(super::legacy_docs::delete_faq),
    ),
    ep(
        "L37",
        "GET",
        "/{serviceId}/openapi/v2/helpdoc/categories.json",
        Svc,
        "FAQ (legacy)",
        "FAQ categories (also under v1).",
        |r| r.to(super::legacy_docs::faq_categories),
    ),
    ep(
        "L37",
        "GET",
        "/{serviceId}/openapi/v1/helpdoc/categories.json",
        Svc,
        "FAQ (legacy)",
        "FAQ categories.",
        |r| r.to(super::legacy_docs::faq_categories),
    ),
    ep(
        "L38",
        "GET",
        "/{serviceId}/openapi/v2/helpdoc/category/{id}.json",
        Svc,
        "FAQ (legacy)",
        "One FAQ category by ID or code (also under v1).",
        |r| r.to(super::legacy_docs::faq_category),
    ),
    ep(
        "L38",
        "GET",
        "/{serviceId}/openapi/v1/helpdoc/category/{id}.json",
        Svc,
        "FAQ (legacy)",
        "One FAQ category by ID or code.",
        |r| r.to(super::legacy_docs::faq_category),
    ),
    ep(
        "L39",
        "POST",
        "/{serviceId}/openapi/v1/helpdoc/category.json",
        Svc,
        "FAQ (legacy)",
        "Create an FAQ category.",
        |r| r.to(super::legacy_docs::create_faq_category),
    ),
    ep(
        "L40",
        "PUT",
        "/{serviceId}/openapi/v1/helpdoc/category/{id}.json",
        Svc,
        "FAQ (legacy)",
        "Update an FAQ category.",
        |r| r.to(super::legacy_docs::update_faq_category),
    ),
    ep(
        "L41",
        "DELETE",
        "/{serviceId}/openapi/v1/helpdoc/category/{id}.json",
        Svc,
        "FAQ (legacy)",
        "Delete an empty FAQ category.",
        |r| r.to(super::legacy_docs::delete_faq_category),
    ),
    ep(
        "L42",
        "POST",
        "/{serviceId}/openapi/v1/attachments/help/upload.json",
        Upload,
        "FAQ (legacy)",
        "Upload an FAQ attachment.",
        |r| r.to(super::legacy_docs::upload_faq_file),
    ),
    ep(
        "L43",
        "GET",
        "/{serviceId}/openapi/v2/attachments/help/{id}",
        Svc,
        "FAQ (legacy)",
        "Download an FAQ attachment.",
        |r| r.to(super::legacy_docs::download_doc_file),
    ),
    ep(
        "L44",
        "DELETE",
        "/{serviceId}/openapi/v1/attachments/help/{id}.json",
        Svc,
        "FAQ (legacy)",
        "Delete an FAQ attachment.",
        |r| r.to(super::legacy_docs::delete_doc_file),
    ),
    ep(
        "L45",
        "GET",
        "/{serviceId}/openapi/v1/multilanguage/notice.json",
        Svc,
        "Notices (legacy)",
        "Search notices.",
        |r| r.to(super::legacy_docs::list_notices),
    ),
    ep(
        "L46",
        "GET",
        "/{serviceId}/openapi/v1/multilanguage/notice/{id}.json",
        Svc,
        "Notices (legacy)",
        "One notice with every language.",
        |r| r.to(super::legacy_docs::get_notice),
    ),
    ep(
        "L47",
        "GET",
        "/{serviceId}/openapi/v1/multilanguage/notices.json",
        Svc,
        "Notices (legacy)",
        "Several notices (id=1,2,3).",
        |r| r.to(super::legacy_docs::get_notices),
    ),
    ep(
        "L48",
        "POST",
        "/{serviceId}/openapi/v1/multilanguage/notice.json",
        Svc,
        "Notices (legacy)",
        "Create a notice.",
        |r| r.to(super::legacy_docs::save_notice),
    ),
    ep(
        "L49",
        "PUT",
        "/{serviceId}/openapi/v1/multilanguage/notice/{id}.json",
        Svc,
        "Notices (legacy)",
        "Update a notice.",
        |r| r.to(super::legacy_docs::save_notice),
    ),
    ep(
        "L50",
        "DELETE",
        "/{serviceId}/openapi/v1/multilanguage/notice/{id}.json",
        Svc,
        "Notices (legacy)",
        "Delete a notice.",
        |r| r.to(super::legacy_docs::delete_notice),
    ),
    ep(
        "L51",
        "GET",
        "/{serviceId}/openapi/v1/multilanguage/notice/template.json",
        Svc,
        "Notices (legacy)",
        "Notice templates.",
        |r| r.to(super::legacy_docs::list_templates),
    ),
    ep(
        "L52",
        "GET",
        "/{serviceId}/openapi/v1/multilanguage/notice/template/{id}.json",
        Svc,
        "Notices (legacy)",
        "One notice template.",
        |r| r.to(super::legacy_docs::get_template),
    ),
    ep(
        "L53",
        "POST",
        "/{serviceId}/openapi/v1/multilanguage/notice/template.json",
        Svc,
        "Notices (legacy)",
        "Create a notice template.",
        |r| r.to(super::legacy_docs::save_template),
    ),
    ep(
        "L54",
        "PUT",
        "/{serviceId}/openapi/v1/multilanguage/notice/template/{id}.json",
        Svc,
        "Notices (legacy)",
        "Update a notice template.",
        |r| r.to(super::legacy_docs::save_template),
    ),
    ep(
        "L55",
        "DELETE",
        "/{serviceId}/openapi/v1/multilanguage/notice/template/{id}.json",
        Svc,
        "Notices (legacy)",
        "Delete a notice template.",
        |r| r.to(super::legacy_docs::delete_template),
    ),
    ep(
        "L56",
        "POST",
        "/{serviceId}/openapi/v1/attachments/notice/upload.json",
        Upload,
        "Notices (legacy)",
        "Upload a notice attachment.",
        |r| r.to(super::legacy_docs::upload_notice_file),
    ),
    ep(
        "L57",
        "GET",
        "/{serviceId}/openapi/v2/attachments/notice/{id}",
        Svc,
        "Notices (legacy)",
        "Download a notice attachment.",
        |r| r.to(super::legacy_docs::download_doc_file),
    ),
    ep(
        "L58",
        "DELETE",
        "/{serviceId}/openapi/v1/attachments/notice/{id}.json",
        Svc,
        "Notices (legacy)",
        "Delete a notice attachment.",
        |r| r.to(super::legacy_docs::delete_doc_file),
    ),
    ep(
        "L59",
        "GET",
        "/{serviceId}/openapi/v1/notice/tags.json",
        Svc,
        "Notices (legacy)",
        "Notice tags.",
        |r| r.to(super::legacy_docs::list_labels),
    ),
    ep(
        "L60",
        "GET",
        "/{serviceId}/openapi/v1/notice/tag/{id}.json",
        Svc,
        "Notices (legacy)",
        "One tag by ID or code.",
        |r| r.to(super::legacy_docs::get_label),
    ),
    ep(
        "L61",
        "POST",
        "/{serviceId}/openapi/v1/notice/tag.json",
        Svc,
        "Notices (legacy)",
        "Create a tag.",
        |r| r.to(super::legacy_docs::save_label),
    ),
    ep(
        "L62",
        "PUT",
        "/{serviceId}/openapi/v1/notice/tag/{id}.json",
        Svc,
        "Notices (legacy)",
        "Rename a tag.",
        |r| r.to(super::legacy_docs::save_label),
    ),
    ep(
        "L63",
        "DELETE",
        "/{serviceId}/openapi/v1/notice/tag/{id}.json",
        Svc,
        "Notices (legacy)",
        "Delete a tag.",
        |r| r.to(super::legacy_docs::delete_label),
    ),
    ep(
        "L64",
        "GET",
        "/{serviceId}/openapi/v2/notice/categories.json",
        Svc,
        "Notices (legacy)",
        "Notice headings.",
        |r| r.to(super::legacy_docs::list_labels),
    ),
    ep(
        "L65",
        "GET",
        "/{serviceId}/openapi/v2/notice/category/{id}.json",
        Svc,
        "Notices (legacy)",
        "One heading by ID or code.",
        |r| r.to(super::legacy_docs::get_label),
    ),
    ep(
        "L66",
        "POST",
        "/{serviceId}/openapi/v1/notice/category.json",
        Svc,
        "Notices (legacy)",
        "Create a heading.",
        |r| r.to(super::legacy_docs::save_label),
    ),
    ep(
        "L67",
        "PUT",
        "/{serviceId}/openapi/v1/notice/category/{id}.json",
        Svc,
        "Notices (legacy)",
        "Update a heading.",
        |r| r.to(super::legacy_docs::save_label),
    ),
    ep(
        "L67",
        "POST",
        "/{serviceId}/openapi/v1/notice/category/{id}.json",
        Svc,
        "Notices (legacy)",
        "Update a heading (documented method).",
        |r| r.to(super::legacy_docs::save_label),
    ),
    ep(
        "L68",
        "DELETE",
        "/{serviceId}/openapi/v1/notice/category/{id}.json",
        Svc,
        "Notices (legacy)",
        "Delete an unused heading.",
        |r| r.to(super::legacy_docs::delete_label),
    ),
    ep(
        "P37",
        "POST",
        "/{serviceId}/api/v2/dooray/hook",
        Public,
        "Dooray!",
        "Dooray! project webhook: task workflow changes and comments of transferred tickets.",
        |r| r.to(crate::integrations::dooray::hook::receive),
    ),
];

/// The path parameters of a template (`{serviceId}` → `serviceId`).
pub fn path_params(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push(&rest[start + 1..start + end]);
        rest = &rest[start + end + 1..];
    }
    out
}

fn envelope_schema() -> Value {
    json!({
        "type": "object",
        "required": ["header", "result"],
        "properties": {
            "header": {
                "type": "object",
                "properties": {
                    "resultCode": {"type": "integer", "description": "200, 400, 403, 404, 500, 1001, 1002, 9005, 9007"},
                    "resultMessage": {"type": "string", "nullable": true},
                    "isSuccessful": {"type": "boolean"}
                }
            },
            "result": {
                "type": "object",
                "nullable": true,
                "properties": {
                    "content": {"description": "A single item or a bare scalar."},
                    "contents": {"type": "array", "items": {}},
                    "total": {"type": "integer", "format": "int64"},
                    "pages": {"type": "integer"},
                    "pageNum": {"type": "integer"},
                    "pageSize": {"type": "integer"}
                }
            }
        }
    })
}

/// The request body of P37: Dooray's project-webhook payload (the fields OpenContact reads).
fn dooray_hook_body() -> Value {
    let id = json!({"type": "object", "properties": {"id": {"type": "string"}}});
    json!({"required": true, "content": {"application/json": {"schema": {
        "type": "object",
        "required": ["tenant", "project"],
        "properties": {
            "webhookType": {"type": "string", "example": "postWorkflowChanged"},
            "hookEventType": {"type": "string",
                "description": "postWorkflowChanged or postCommentCreated; other events are ignored."},
            "tenant": id,
            "project": id,
            "source": {"type": "object", "properties": {"member": {"type": "object", "properties": {
                "id": {"type": "string"}, "name": {"type": "string"},
                "userCode": {"type": "string"}, "emailAddress": {"type": "string"}}}}},
            "post": {"type": "object", "properties": {
                "id": {"type": "string"}, "number": {"type": "integer"},
                "subject": {"type": "string"},
                "workflowClass": {"type": "string", "enum": ["backlog", "registered", "working", "closed"]},
                "workflow": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}}},
            "comment": {"type": "object", "properties": {
                "id": {"type": "string"},
                "body": {"type": "object", "properties": {
                    "mimeType": {"type": "string"}, "content": {"type": "string"}}}}}
        }
    }}}})
}

/// The external (IMAP) account fields of P31–P33 (API.md §7.10).
fn external_account_schema(required: &[&str]) -> Value {
    json!({
        "type": "object",
        "required": required,
        "properties": {
            "id": {"type": "integer", "format": "int64", "description": "P31 only: re-verify this account (its stored password when none is sent)."},
            "name": {"type": "string", "minLength": 1, "maxLength": 20},
            "host": {"type": "string", "maxLength": 253},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "ssl": {"type": "boolean"},
            "mail": {"type": "string", "format": "email"},
            "password": {"type": "string", "maxLength": 256, "description": "Omitted or \"********\" keeps the stored password of an existing account."},
            "mailDel": {"type": "boolean", "description": "Delete the original once it is a ticket."},
            "active": {"type": "boolean", "description": "P33 only: enable or disable."}
        }
    })
}

/// The documented JSON body of an endpoint, where this module knows it.
fn body_schema(id: &str) -> Option<Value> {
    let all = ["name", "host", "port", "ssl", "mail", "password", "mailDel"];
    match id {
        "P30" => Some(json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 45, "description": "Sender name; empty uses the relay's."},
                "displayMail": {"type": "string", "format": "email", "description": "Sender address; empty uses the relay's."},
                "template": {"type": "string", "description": "Layout HTML for every automatic mail; must contain #{content}."}
            }
        })),
        "P31" | "P32" => Some(external_account_schema(&all)),
        "P33" => Some(external_account_schema(&[])),
        _ => None,
    }
}

/// The OpenAPI 3 document of [`ENDPOINTS`].
pub fn openapi_document(base_url: &str) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for e in ENDPOINTS {
        let mut params: Vec<Value> = path_params(e.path)
            .into_iter()
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if matches!(e.auth, Auth::Service | Auth::ServiceUpload | Auth::Org) {
            params.push(
                json!({"name": "X-TC-Timestamp", "in": "header", "required": true,
                "description": "Epoch milliseconds; ±5 minutes.", "schema": {"type": "string"}}),
            );
            params.push(json!({"name": "OUCODE", "in": "header", "required": false,
                "description": "Login of the acting staff user (administration calls).", "schema": {"type": "string"}}));
        }
        if e.id == "P14" {
            params.push(json!({"name": "OC-Client-IP", "in": "header", "required": false,
                "description": "The end user's IP (repeat-inquiry blocking).", "schema": {"type": "string"}}));
        }
        if e.id == "P28" {
            params.push(json!({"name": "mail", "in": "query", "required": true,
                "description": "Local part of the representative address (help → help@<mail domain>).",
                "schema": {"type": "string", "maxLength": 64}}));
        }
        let mut op = json!({
            "operationId": format!("{}_{}", e.id, e.method.to_ascii_lowercase()),
            "summary": e.summary,
            "description": format!("API.md {}. Authentication: {}.", e.id, e.auth.label()),
            "tags": [e.tag],
            "parameters": params,
            "responses": {
                "200": {"description": "The envelope (or the file for attachment downloads).",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}}},
                "400": {"description": "Bad request: signature, validation or upload refusal."},
                "403": {"description": "Open API off, or caller IP not allowed."},
                "404": {"description": "No data found."}
            }
        });
        match e.auth {
            Auth::Service => op["security"] = json!([{"serviceSignature": []}]),
            Auth::ServiceUpload => {
                op["security"] = json!([{"serviceSignature": []}]);
                op["requestBody"] = json!({"content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}}}}}});
            }
            Auth::Member => {
                op["requestBody"] = json!({"content": {"application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "required": ["service", "usercode", "time", "token"],
                    "properties": {
                        "service": {"type": "string"}, "usercode": {"type": "string"},
                        "username": {"type": "string"}, "email": {"type": "string"},
                        "phone": {"type": "string"}, "memberno": {"type": "string"},
                        "time": {"type": "string"}, "token": {"type": "string"},
                        "returnUrl": {"type": "string"}}}}}});
            }
            Auth::Org => op["security"] = json!([{"organizationSignature": []}]),
            Auth::None => {}
        }
        if e.id == "P37" {
            op["requestBody"] = dooray_hook_body();
            op["responses"]["400"] =
                json!({"description": "Malformed JSON body, or larger than 512 KiB."});
            op["responses"]["403"] =
                json!({"description": "tenant.id or project.id not registered for the service."});
        }
        if let Some(schema) = body_schema(e.id).or_else(|| request_schema(e.id)) {
            op["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema}}});
        }
        if matches!(e.method, "POST" | "PUT") && op.get("requestBody").is_none() {
            op["requestBody"] = json!({"required": false, "content": {"application/json": {"schema": {"type": "object"}}}});
        }
        let entry = paths
            .entry(e.path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[e.method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "OpenContact Open API (Contiple compatible)",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every JSON answer is the envelope {header:{resultCode,resultMessage,isSuccessful},result}. \
    Signed calls send Authorization = Base64(HMAC-SHA256(serviceKey, orgId + path + query values sorted by name joined with & + [&]body + X-TC-Timestamp)); \
    uploads sign the lowercase MD5 of the file instead of parameters and body. \
    The organization calls (/openapi/v1/admin/…) are signed the same way with the organization key."
        },
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "schemas": {"Envelope": envelope_schema()},
            "securitySchemes": {
                "serviceSignature": {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "HMAC-SHA256 signature with the service key (API.md §2)."},
                "organizationSignature": {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "The same signature made with the organization key (API.md §8.1), for /openapi/v1/admin/…; the organization API has its own allowed-IP list."}
            }
        },
        "x-customer-info-api": customer_info_contract()
    })
}

/// Request bodies of the organization calls and of the phone-call registration.
fn request_schema(id: &str) -> Option<Value> {
    let s = |t: &str| json!({"type": t});
    let languages = json!({"type": "array", "items": {"type": "object", "properties": {
        "code": s("string"), "name": s("string"), "orderNo": s("integer")}}});
    let settings = json!({"type": "array", "items": {"type": "object", "properties": {
        "id": s("integer"), "billingId": s("integer"),
        "billingItemCode": {"type": "string", "description": "billingSettingCode is accepted too."},
        "active": s("boolean")}}});
    Some(match id {
        "L1" => {
            json!({"type": "object", "required": ["serviceId", "name", "language"], "properties": {
            "type": {"type": "integer", "enum": [1, 2]}, "serviceId": s("string"), "name": s("string"),
            "language": s("string"), "languages": languages, "timeZone": s("string")}})
        }
        "L3" => json!({"type": "object", "properties": {
            "name": s("string"), "language": s("string"), "languages": languages, "timeZone": s("string")}}),
        "L9" => json!({"type": "object", "required": ["serviceId"], "properties": {
            "serviceId": s("string"), "billingSettings": settings, "startDt": {"type": "string",
            "description": "yyyyMMddHHmmss, Korea time"}, "discountRate": s("integer"),
            "freeExtension": s("integer"), "email": s("string"), "freeTrial": s("boolean")}}),
        "L10" => json!({"type": "object", "required": ["billingSettings"], "properties": {
            "id": s("integer"), "serviceId": s("string"), "billingSettings": settings}}),
        "L15" => json!({"type": "object",
            "required": ["subject", "content", "requesterId", "endUser", "ticketCall"], "properties": {
            "subject": {"type": "string", "maxLength": 255}, "content": s("string"),
            "requesterId": {"description": "The agent's CTI ID (integer or string)."},
            "endUser": {"type": "object", "required": ["phone"], "properties": {
                "phone": s("string"), "username": s("string"), "email": s("string")}},
            "ticketCall": {"type": "object", "required": ["inoutFlg", "ivrPathNo", "disconnectCd",
                "callRingKey", "callRingDt", "callStartDt", "callEndDt"], "properties": {
                "inoutFlg": {"type": "string", "enum": ["in", "out"]}, "ivrPathNo": s("string"),
                "disconnectCd": {"type": "string", "enum": ["agent", "block", "customer"]},
                "callRingKey": s("string"),
                "callRingDt": {"type": "string", "description": "yyyyMMddHHmmss (service time zone) or epoch ms"},
                "callStartDt": s("string"), "callEndDt": s("string")}}}}),
        _ => return None,
    })
}

/// The customer-info API a customer hosts and OpenContact calls (API.md §4, §7.8, X1).
pub fn customer_info_contract() -> Value {
    json!({
        "description": "OpenContact calls POST {base URL} of each customer-info API configured under \
    Service settings → Customer info integration, with Content-Type application/json; charset=UTF-8, \
    X-TC-Timestamp (epoch ms) and, when messages are encrypted, Authorization = \
    Base64(HMAC-SHA256(encryptionKey, rawBody + X-TC-Timestamp)) (path + body + timestamp in the \
    \"include request path\" mode). Receivers should refuse timestamps more than 5 minutes off. \
    Calls time out after 5 seconds and are not retried.",
        "request": {"type": "object", "additionalProperties": {"type": "string"},
            "description": "The query items' variable names and their values.",
            "example": {"callNum": "1001", "nation": "KR"}},
        "success": {"status": 200, "schema": {"type": "object", "required": ["data"], "properties": {
            "data": {"type": "object", "description": "Keys include the result items' data names (dotted for nested objects)."}}},
            "example": {"data": {"userName": "Ann Lee", "grade": "gold", "points": "1200"}}},
        "failure": {"status": "400 no result, 403 refused, 404 remote error, other error",
            "schema": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": {"description": "string or number"}, "message": {"type": "string"}, "detail": {}}}}}}
    })
}

/// `GET /api-docs/openapi.json`
pub async fn openapi_json(state: actix_web::web::Data<crate::AppState>) -> HttpResponse {
    super::envelope::json_response(StatusCode::OK, &openapi_document(&state.config.base_url))
}

/// A row of the reference page.
#[derive(Debug, Clone)]
pub struct Row {
    /// Number.
    pub id: &'static str,
    /// Method.
    pub method: &'static str,
    /// Path with the service ID filled in.
    pub path: String,
    /// Authentication.
    pub auth: &'static str,
    /// Summary.
    pub summary: &'static str,
}

/// A group of rows.
#[derive(Debug, Clone)]
pub struct Group {
    /// Tag.
    pub tag: &'static str,
    /// Rows.
    pub rows: Vec<Row>,
}

/// The human-readable API page.
#[derive(Template)]
#[template(path = "openapi/reference.html")]
pub struct ReferencePage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Base URL.
    pub base_url: String,
    /// Back to the settings.
    pub back: String,
    /// Endpoint groups.
    pub groups: Vec<Group>,
}

/// `GET /{service_id}/console/settings/authentication/api`
pub async fn reference_page(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let mut groups: Vec<Group> = Vec::new();
    for e in ENDPOINTS {
        let row = Row {
            id: e.id,
            method: e.method,
            path: e.path.replace("{serviceId}", &a.service.code),
            auth: e.auth.label(),
            summary: e.summary,
        };
        match groups.iter_mut().find(|g| g.tag == e.tag) {
            Some(g) => g.rows.push(row),
            None => groups.push(Group {
                tag: e.tag,
                rows: vec![row],
            }),
        }
    }
    let page = ReferencePage {
        ctx: PageCtx::console(&a, "openapi.doc.title"),
        base_url: a.viewer().state.config.base_url.clone(),
        back: super::settings::base(&a.service.code),
        groups,
    };
    w::html(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::{API_SCOPES, ENDPOINTS, scope_endpoints};

    #[test]
    fn every_endpoint_is_routed_in_exactly_one_scope() {
        for e in ENDPOINTS {
            assert!(e.route().is_some(), "{} {} has a method", e.method, e.path);
            let scopes: Vec<&str> = API_SCOPES
                .iter()
                .copied()
                .filter(|s| scope_endpoints(s).iter().any(|(_, r)| std::ptr::eq(*r, e)))
                .collect();
            assert_eq!(scopes.len(), 1, "{} {} in {scopes:?}", e.method, e.path);
        }
        // And the scopes route nothing but the table.
        let routed: usize = API_SCOPES.iter().map(|s| scope_endpoints(s).len()).sum();
        assert_eq!(routed, ENDPOINTS.len());
    }

    #[test]
    fn patterns_use_the_handlers_names_and_literals_come_first() {
        let e = ENDPOINTS
            .iter()
            .find(|e| e.id == "L10")
            .map(|e| e.route_pattern());
        assert_eq!(
            e.as_deref(),
            Some("/openapi/v1/admin/billing/update/{billing_id}.json")
        );
        let v1 = scope_endpoints("/{service_id}/openapi");
        let pos = |p: &str| v1.iter().position(|(q, e)| q == p && e.method == "GET");
        assert!(pos("/v1/ticket/list.json") < pos("/v1/ticket/{id}.json"));
        assert!(pos("/v1/ticket/category/list.json") < pos("/v1/ticket/{usercode}/list.json"));
    }
}
