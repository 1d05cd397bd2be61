//! Services: the model and feature switches, the service console's home page, and (for
//! organization administrators) adding, editing, enabling, disabling and deleting services.

pub mod admin;
pub mod console;
pub mod model;

use actix_web::web;

/// Registers the service routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/services", web::get().to(admin::list_services))
        .route("/admin/services", web::post().to(admin::create_service))
        .route(
            "/admin/services/new",
            web::get().to(admin::new_service_form),
        )
        .route(
            "/admin/services/{service_code}/edit",
            web::get().to(admin::edit_service_form),
        )
        .route(
            "/admin/services/{service_code}/edit",
            web::post().to(admin::update_service),
        )
        .route(
            "/admin/services/{service_code}/enable",
            web::post().to(admin::enable_service),
        )
        .route(
            "/admin/services/{service_code}/disable",
            web::post().to(admin::disable_service),
        )
        .route(
            "/admin/services/{service_code}/delete",
            web::get().to(admin::delete_service_form),
        )
        .route(
            "/admin/services/{service_code}/delete",
            web::post().to(admin::delete_service),
        )
        .route(
            "/{service_id}/console/",
            web::get().to(console::console_home),
        )
        .route(
            "/{service_id}/console",
            web::get().to(console::console_redirect),
        );
}
