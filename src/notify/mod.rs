//! Outgoing notifications: mail queued in the transaction that causes it ([`outbox`]) and
//! delivered by the job queue through the SMTP relay ([`smtp`]), the organization's and services'
//! mail layouts ([`layouts`]) and the outbox pages ([`outbox_admin`]).

pub mod layouts;
pub mod outbox;
pub mod outbox_admin;
pub mod smtp;

pub use smtp::{OutgoingMail, SmtpSettings, send};

use actix_web::web;

/// Registers the organization's outbox pages (under `/admin`).
pub fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/outbox", web::get().to(outbox_admin::org_outbox))
        .route(
            "/outbox/{id}/retry",
            web::post().to(outbox_admin::retry_org_mail),
        );
}

/// Registers a service's outbox pages (under `/{service_id}/console`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/settings/mail-outbox",
        web::get().to(outbox_admin::service_outbox),
    )
    .route(
        "/settings/mail-outbox/{id}/retry",
        web::post().to(outbox_admin::retry_service_mail),
    );
}
