//! The Contiple-compatible Open API (API.md, SPEC §3.1, §11): the Authentication settings page,
//! the response envelope and result codes ([`envelope`]), request signing and the caller gates
//! ([`signing`]), and the endpoint families built on them.

pub mod admin_api;
pub mod billing;
pub mod doc;
pub mod envelope;
pub mod files;
pub mod legacy_docs;
pub mod mail_api;
pub mod org_api;
pub mod phone_call;
pub mod public_v2;
pub mod settings;
pub mod signed_v1;
pub mod signing;

use actix_web::web;

/// Registers the Open API settings pages of a service's console (under `/{service_id}/console`):
/// Authentication, the reference page, member integration and the phone-call panel.
pub fn console_routes(cfg: &mut web::ServiceConfig) {
    const A: &str = "/settings/authentication";
    let a = |rest: &str| format!("{A}{rest}");
    cfg.route(A, web::get().to(settings::authentication_page))
        .route(&a("/enable"), web::post().to(settings::enable))
        .route(&a("/disable"), web::post().to(settings::disable))
        .route(&a("/key"), web::post().to(settings::regenerate))
        .route(&a("/access"), web::post().to(settings::save_access))
        .route(&a("/api"), web::get().to(doc::reference_page))
        .route(
            "/help-center/member-integration",
            web::get().to(crate::help_center::member::settings_page),
        )
        .route(
            "/help-center/member-integration",
            web::post().to(crate::help_center::member::save_settings),
        )
        .route(
            "/tickets/{public_id:T[0-9]{10,16}[0-9A-Za-z]{5}}/call",
            web::get().to(phone_call::call_panel),
        );
}

/// Registers the member-integration pages of the help center (under `/{service_id}/hc`).
pub fn portal_routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/member/check",
        web::get().to(crate::help_center::member::check_page),
    )
    .route(
        "/member/continue",
        web::get().to(crate::help_center::member::continue_page),
    );
}

/// Registers the organization's API access page (under `/admin`).
pub fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/organization/api", web::get().to(org_api::org_access_form))
        .route(
            "/organization/api",
            web::post().to(org_api::save_org_access),
        );
}

/// Registers the OpenAPI document (`/api-docs/openapi.json`).
pub fn document_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api-docs/openapi.json", web::get().to(doc::openapi_json));
}

/// Registers one API scope from the endpoint table ([`doc::ENDPOINTS`]).
pub fn api_routes(scope: &'static str) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| doc::register(cfg, scope)
}

/// The default service of the API scopes: unknown paths and methods answer with the envelope
/// (404 "No such API"), not a page.
pub async fn no_such_endpoint() -> envelope::ApiResult {
    Err(envelope::ApiError::Business(404, "No such API".into()))
}

use crate::console::nav::{NavEntry, Section};

/// The menu entries: member integration (help-center settings) and Authentication.
pub const NAV: &[NavEntry] = &[
    NavEntry {
        section: Section::HelpCenterSettings,
        path: "console/help-center/member-integration",
        label: "openapi.nav.member",
        exact: false,
        visible: |a| {
            a.service.kind() == crate::db::types::ServiceKind::Consultation
                && a.can_use_menu(crate::db::types::Menu::HelpCenter)
                && a.is_service_admin()
        },
    },
    NavEntry {
        section: Section::Authentication,
        path: "console/settings/authentication",
        label: "openapi.nav.authentication",
        exact: false,
        visible: |a| a.is_service_admin(),
    },
];
