//! The route table: every feature's routes, registered in one place.

use actix_web::web;

/// Registers all routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(crate::web::health::healthz))
        .route(
            "/assets/{path:.*}",
            web::get().to(crate::web::assets::serve_asset),
        )
        .route("/logo", web::get().to(crate::org::logo::serve_logo));
    crate::auth::routes(cfg);
    crate::org::routes(cfg);
    crate::services::routes(cfg);
    crate::agents::routes(cfg);
    crate::automation::routes(cfg);
    crate::customers::routes(cfg);
    crate::categories::routes(cfg);
    crate::fields::routes(cfg);
    crate::tickets::console::routes(cfg);
    crate::help_center::routes(cfg);
    crate::mail::routes(cfg);
    crate::tickets::detail::routes(cfg);
    crate::dooray::routes(cfg);
    crate::openapi::routes(cfg);
    // Must stay last: answers unknown Open API paths with the JSON envelope.
    crate::openapi::fallback_routes(cfg);
}
