//! Services: the model and feature switches, the service console's home page, and (for
//! organization administrators) adding, editing, enabling, disabling and deleting services.

pub mod console;
pub mod model;

use actix_web::web;

/// Registers the service routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/{service_id}/console/",
        web::get().to(console::console_home),
    )
    .route(
        "/{service_id}/console",
        web::get().to(console::console_redirect),
    );
}
