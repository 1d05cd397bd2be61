//! The Contiple-compatible Open API (API.md, SPEC §3.1, §11): the Authentication settings page,
//! the response envelope and result codes ([`envelope`]), request signing and the caller gates
//! ([`signing`]), and the endpoint families built on them.

pub mod envelope;
pub mod settings;
pub mod signing;

use actix_web::web;

/// Registers the Open API routes and the settings pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    const A: &str = "/{service_id}/console/settings/authentication";
    let a = |rest: &str| format!("{A}{rest}");
    cfg.route(A, web::get().to(settings::authentication_page))
        .route(&a("/enable"), web::post().to(settings::enable))
        .route(&a("/disable"), web::post().to(settings::disable))
        .route(&a("/key"), web::post().to(settings::regenerate))
        .route(&a("/access"), web::post().to(settings::save_access));
}
