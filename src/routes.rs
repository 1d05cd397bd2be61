//! The route table: every area of the application as one `web::scope` with its own
//! middleware, and in each the routes of every feature that has pages there.
//!
//! | area | scope | middleware |
//! |---|---|---|
//! | Open API (organization, member logins, public v2, signed v1/v2, help-center calls) | [`API_SCOPES`] | envelope errors |
//! | organization management | `/admin` | error pages, CSRF |
//! | a service's console | `/{service_id}/console` | error pages, CSRF |
//! | the help center | `/{service_id}/hc` | error pages, member-integration entry, CSRF |
//! | sign-in, account, assets, everything else | the rest | error pages, CSRF |
//!
//! Actix takes the first scope whose prefix matches and never falls back to a later one, so the
//! API scopes come first (`/{service_id}/hc/openapi` before `/{service_id}/hc`) and the rest
//! last. Inside a scope each `route` is its own resource guarded by its method, so a request
//! whose method does not match falls through to the next pattern and, at the end, to the
//! scope's default service (a 404, as everywhere). The API routes are generated from the same
//! table as the OpenAPI document ([`crate::openapi::doc::ENDPOINTS`]).
//!
//! [`API_SCOPES`]: crate::openapi::doc::API_SCOPES

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::openapi::doc::API_SCOPES;
use crate::web::{csrf, errors};

/// Registers every area.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for scope in API_SCOPES {
        cfg.service(
            web::scope(scope)
                .configure(crate::openapi::api_routes(scope))
                .default_service(web::to(crate::openapi::no_such_endpoint))
                .wrap(from_fn(crate::openapi::envelope::errors)),
        );
    }
    cfg.service(
        web::scope("/admin")
            .configure(admin)
            .default_service(web::to(errors::not_found))
            .wrap(from_fn(csrf::check))
            .wrap(from_fn(errors::pages)),
    );
    cfg.service(
        web::scope("/{service_id}/console")
            .configure(console)
            .default_service(web::to(errors::not_found))
            .wrap(from_fn(csrf::check))
            .wrap(from_fn(errors::pages)),
    );
    cfg.service(
        web::scope("/{service_id}/hc")
            .configure(help_center)
            .default_service(web::to(errors::not_found))
            .wrap(from_fn(csrf::check))
            .wrap(from_fn(crate::help_center::member::hc_entry))
            .wrap(from_fn(errors::pages)),
    );
    cfg.service(
        web::scope("")
            .configure(rest)
            .default_service(web::to(errors::not_found))
            .wrap(from_fn(csrf::check))
            .wrap(from_fn(errors::pages)),
    );
}

/// `/admin/…`: the organization's management pages.
fn admin(cfg: &mut web::ServiceConfig) {
    crate::org::routes(cfg);
    crate::services::routes(cfg);
    crate::notify::admin_routes(cfg);
    crate::openapi::admin_routes(cfg);
}

/// `/{service_id}/console/…`: a service's console.
fn console(cfg: &mut web::ServiceConfig) {
    crate::console::routes(cfg);
    crate::agents::routes(cfg);
    crate::automation::routes(cfg);
    crate::customers::routes(cfg);
    crate::categories::routes(cfg);
    crate::fields::routes(cfg);
    crate::tickets::console::routes(cfg);
    crate::help_center::routes(cfg);
    crate::channels::email::routes(cfg);
    crate::notify::routes(cfg);
    crate::tickets::detail::routes(cfg);
    crate::integrations::dooray::routes(cfg);
    crate::openapi::console_routes(cfg);
    crate::integrations::customer_info::routes(cfg);
}

/// `/{service_id}/hc/…`: the help center.
fn help_center(cfg: &mut web::ServiceConfig) {
    crate::help_center::portal_routes(cfg);
    crate::openapi::portal_routes(cfg);
}

/// Everything else: sign-in and account pages, assets, the organization logo, the health
/// check and the OpenAPI document.
fn rest(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(crate::web::health::healthz))
        .route(
            "/assets/{path:.*}",
            web::get().to(crate::web::assets::serve_asset),
        )
        .route("/logo", web::get().to(crate::org::logo::serve_logo));
    crate::auth::routes(cfg);
    crate::openapi::document_routes(cfg);
}
