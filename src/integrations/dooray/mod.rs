//! Dooray! (SPEC §3.14, §5.8, §7.1–7.2; API.md §7.11): transferring a ticket to a task of a
//! Dooray! project and keeping the two in step.
//!
//! - [`settings`]: Service Management → External channels → Dooray! — enabling and pausing
//!   transfer, the task templates, the webhook URL, the registered organizations (tenant token
//!   encrypted at rest) and projects, and the agents' Dooray! user keys;
//! - [`transfer`]: the "Dooray! transfer" dialog on a ticket and the "Dooray comment" button;
//! - [`hook`]: P37, the inbound webhook that moves the ticket through "Dooray in progress" and
//!   "Dooray answered" and mirrors the task's comments;
//! - [`panel`]: what the ticket page shows (badge, conversation, buttons) and the timeline
//!   wording of Dooray! events;
//! - [`client`]: the calls to Dooray's REST API; [`model`]: what is stored.
//!
//! Status changes go through `tickets::lifecycle` (`dooray_transferred`, `dooray_progress`).

pub mod client;
pub mod hook;
pub mod model;
pub mod panel;
pub mod settings;
pub mod transfer;

use actix_web::web;

/// Registers the settings pages and the ticket actions. The webhook (P37) is registered with
/// the public Open API family in `crate::openapi`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    const S: &str = "/settings/dooray";
    let s = |rest: &str| format!("{S}{rest}");
    cfg.route(S, web::get().to(settings::settings_page))
        .route(S, web::post().to(settings::save_settings))
        .route(&s("/orgs/new"), web::get().to(settings::new_org))
        .route(&s("/orgs"), web::post().to(settings::create_org))
        .route(&s("/orgs/{org_id}"), web::get().to(settings::org_page))
        .route(&s("/orgs/{org_id}"), web::post().to(settings::update_org))
        .route(
            &s("/orgs/{org_id}/delete"),
            web::post().to(settings::delete_org),
        )
        .route(
            &s("/orgs/{org_id}/projects"),
            web::post().to(settings::add_project),
        )
        .route(
            &s("/orgs/{org_id}/projects/{project_id}"),
            web::get().to(settings::project_page),
        )
        .route(
            &s("/orgs/{org_id}/projects/{project_id}"),
            web::post().to(settings::update_project),
        )
        .route(
            &s("/orgs/{org_id}/projects/{project_id}/delete"),
            web::post().to(settings::delete_project),
        )
        .route(
            &s("/orgs/{org_id}/keys"),
            web::post().to(settings::generate_keys),
        )
        .route(
            &s("/orgs/{org_id}/keys/{user_id}"),
            web::post().to(settings::generate_key),
        )
        .route(
            &s("/orgs/{org_id}/keys/{user_id}/delete"),
            web::post().to(settings::clear_key),
        );
    const T: &str = "/tickets/{public_id:T[0-9]{10,16}[0-9A-Za-z]{5}}";
    cfg.route(
        &format!("{T}/dooray"),
        web::get().to(transfer::transfer_form),
    )
    .route(
        &format!("{T}/dooray"),
        web::post().to(transfer::transfer_ticket),
    )
    .route(
        &format!("{T}/dooray/comment"),
        web::post().to(transfer::post_comment),
    );
}

use crate::console::nav::{NavEntry, Section};

/// The menu entry: the Dooray! integration.
pub const NAV: &[NavEntry] = &[NavEntry {
    section: Section::ExternalChannels,
    path: "console/settings/dooray",
    label: "dooray.nav",
    exact: false,
    visible: |a| a.is_service_admin(),
}];
