//! The customer-info integration (SPEC §6.3; API.md §4, §7.8, X1): a service calls its own
//! customers' systems to look a ticket's customer up. [`model`] holds the API definitions and
//! their validation, [`client`] the signed outbound call and the reading of its answer,
//! [`lookup`] the query values, the stored results, field linking and the automatic lookups
//! made when a ticket arrives, [`pages`] the settings pages and [`panel`] the ticket page's
//! "Customer info" panel.
//!
//! Routes:
//! - `GET|POST /{service_id}/console/settings/customer-info[/new|/{id}]`, `POST …/{id}/key`,
//!   `POST …/{id}/delete` — service administrators;
//! - `GET|POST /{service_id}/console/tickets/{public_id}/customer-info` — ticket staff.

pub mod client;
pub mod lookup;
pub mod model;
pub mod pages;
pub mod panel;

use actix_web::web;

/// Registers the settings pages and the ticket panel.
pub fn routes(cfg: &mut web::ServiceConfig) {
    const S: &str = "/settings/customer-info";
    let s = |rest: &str| format!("{S}{rest}");
    const P: &str = "/tickets/{public_id:T[0-9]{10,16}[0-9A-Za-z]{5}}/customer-info";
    cfg.route(S, web::get().to(pages::list_apis))
        .route(&s("/new"), web::get().to(pages::new_api))
        .route(&s("/new"), web::post().to(pages::create_api))
        .route(&s("/{id}"), web::get().to(pages::edit_api))
        .route(&s("/{id}"), web::post().to(pages::update_api))
        .route(&s("/{id}/key"), web::post().to(pages::regenerate_key))
        .route(&s("/{id}/delete"), web::post().to(pages::delete_api))
        .route(P, web::get().to(panel::show_panel))
        .route(P, web::post().to(panel::run_lookup));
}

use crate::console::nav::{NavEntry, Section};

/// The menu entry: the customer-info APIs, where customer info is on.
pub const NAV: &[NavEntry] = &[NavEntry {
    section: Section::ExternalChannels,
    path: "console/settings/customer-info",
    label: "customerinfo.settings.title",
    exact: false,
    visible: |a| {
        crate::tickets::console::consultation_admin(a) && a.service.features().customer_info
    },
}];
