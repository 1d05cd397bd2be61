//! The ticket console (`/{service_id}/console/tickets`, SPEC §5.2–§5.5): the screen agents
//! live in. Saved views with bounded counts and a per-group breakdown ([`views`]), the inflow
//! mini-board and "my status" quick filters, the list with channel and priority colours, the
//! per-agent ☆ flag and an "important only" filter, keyset pagination and polling for new
//! tickets ([`list`], [`rows`], [`page`]), the ticket search ([`search`]) and batch processing
//! of checked tickets ([`batch`]). Only members with the ticket permission (administrators
//! always) get in ([`access::TicketAgent`]). [`seed`] fills a service with realistic tickets
//! for the benchmark (`opencontact bench seed`).
//!
//! Routes (fixed segments are registered before any `/tickets/{public_id}` route):
//! - `GET  /{service_id}/console/tickets` — a saved view (`?view=`, `group`, `star`, `before`)
//! - `GET  /{service_id}/console/tickets/search` — search results (422 with messages)
//! - `GET  /{service_id}/console/tickets/poll` — new rows of an open view (htmx, 204 if none)
//! - `POST /{service_id}/console/tickets/batch` — batch processing, then a per-ticket report
//! - `POST /{service_id}/console/tickets/{public_id}/star` — ☆ on or off

pub mod access;
pub mod batch;
pub mod list;
pub mod page;
pub mod rows;
pub mod search;
pub mod seed;
pub mod views;

use actix_web::web;

/// Registers the console routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    const B: &str = "/tickets";
    let p = |rest: &str| format!("{B}{rest}");
    cfg.route(B, web::get().to(list::console))
        .route(&p("/search"), web::get().to(list::search))
        .route(&p("/poll"), web::get().to(list::poll))
        .route(&p("/batch"), web::post().to(batch::batch))
        .route(&p("/{public_id}/star"), web::post().to(list::star));
}

use crate::console::nav::{NavEntry, Section};
use crate::db::types::ServiceKind;

/// The menu entries: the ticket list (for those who may open it) and the ticket settings.
pub const NAV: &[NavEntry] = &[
    NavEntry {
        section: Section::Consultation,
        path: "console/tickets",
        label: "ticket.list.nav",
        exact: false,
        visible: |a| access::TicketAgent::check(a).is_ok(),
    },
    NavEntry {
        section: Section::Ticket,
        path: "console/settings/tickets",
        label: "ticket.settings.title",
        exact: false,
        visible: ticket_settings,
    },
    NavEntry {
        section: Section::Ticket,
        path: "console/settings/templates",
        label: "template.title",
        exact: false,
        visible: ticket_settings,
    },
    NavEntry {
        section: Section::Ticket,
        path: "console/settings/forbidden-words",
        label: "forbidden.title",
        exact: false,
        visible: ticket_settings,
    },
];

/// The ticket settings are for service administrators of services with tickets.
pub fn ticket_settings(a: &crate::web::auth::ServiceAccess) -> bool {
    a.is_service_admin() && a.service.features().ticket
}

/// Consultation services only, for service administrators.
pub fn consultation_admin(a: &crate::web::auth::ServiceAccess) -> bool {
    a.is_service_admin() && a.service.kind() == ServiceKind::Consultation
}
