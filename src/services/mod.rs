//! Services: the model and feature switches, and (for organization administrators) adding,
//! editing, enabling, disabling and deleting services.

pub mod admin;

use actix_web::web;

/// Registers the service administration under `/admin`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/services", web::get().to(admin::list_services))
        .route("/services", web::post().to(admin::create_service))
        .route("/services/new", web::get().to(admin::new_service_form))
        .route(
            "/services/{service_code}/edit",
            web::get().to(admin::edit_service_form),
        )
        .route(
            "/services/{service_code}/edit",
            web::post().to(admin::update_service),
        )
        .route(
            "/services/{service_code}/enable",
            web::post().to(admin::enable_service),
        )
        .route(
            "/services/{service_code}/disable",
            web::post().to(admin::disable_service),
        )
        .route(
            "/services/{service_code}/delete",
            web::get().to(admin::delete_service_form),
        )
        .route(
            "/services/{service_code}/delete",
            web::post().to(admin::delete_service),
        );
}
