//! Automation (SPEC §3.4): triggers that act on tickets when they are created or changed —
//! assignment (random, round robin, one agent), group, intake type, priority, notification
//! mails, forwards, signed callback URLs and chat webhooks.
//!
//! [`model`] holds the trigger rows, [`engine`] evaluates them inside the transaction of a
//! ticket change (subscribed to the ticket events through [`engine::on_ticket_event`]), [`deliveries`] delivers the HTTP side effects with retries, and
//! [`pages`] is the settings screen; [`surge`] raises inquiry-surge alerts.

pub mod deliveries;
pub mod engine;
pub mod mails;
pub mod model;

pub mod pages;
pub mod surge;

use actix_web::web;

/// Registers the trigger settings routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let base = "/settings/triggers";
    cfg.route(base, web::get().to(pages::list))
        .route(&format!("{base}/new"), web::get().to(pages::new_form))
        .route(&format!("{base}/new"), web::post().to(pages::create))
        .route(&format!("{base}/order"), web::post().to(pages::order))
        .route(&format!("{base}/{{id}}"), web::get().to(pages::edit_form))
        .route(&format!("{base}/{{id}}"), web::post().to(pages::update))
        .route(
            &format!("{base}/{{id}}/{{op}}"),
            web::post().to(pages::state_change),
        )
        .route("/settings/surge-alert", web::get().to(surge::page))
        .route("/settings/surge-alert", web::post().to(surge::save))
        .route(
            "/settings/surge-alert/recipients",
            web::post().to(surge::add_recipient),
        )
        .route(
            "/settings/surge-alert/recipients/{id}/delete",
            web::post().to(surge::delete_recipient),
        )
        .route("/alerts/stream", web::get().to(surge::stream));
}

use crate::console::nav::{NavEntry, Section};

/// The menu entries: triggers, and the surge alert of consultation services.
pub const NAV: &[NavEntry] = &[
    NavEntry {
        section: Section::Ticket,
        path: "console/settings/triggers",
        label: "trigger.title",
        exact: false,
        visible: |a| a.is_service_admin(),
    },
    NavEntry {
        section: Section::Ticket,
        path: "console/settings/surge-alert",
        label: "surge.title",
        exact: false,
        visible: crate::tickets::console::consultation_admin,
    },
];
