//! Accounts: first-run setup, sign-in and sign-out with throttling and history, password reset
//! and invitations by e-mail link, and the member's own account page.

pub mod account;
pub mod history;
pub mod invite;
pub mod login;
pub mod password;
pub mod setup;
pub mod tokens;

use actix_web::web;

/// Registers the account routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(login::landing))
        .route("/setup", web::get().to(setup::setup_form))
        .route("/setup", web::post().to(setup::run_setup))
        .route("/login", web::get().to(login::login_form))
        .route("/login", web::post().to(login::login))
        .route("/logout", web::post().to(login::logout))
        .route("/lang/{code}", web::get().to(login::switch_language))
        .route("/password/forgot", web::get().to(password::forgot_form))
        .route(
            "/password/forgot",
            web::post().to(password::send_reset_link),
        )
        .route(
            "/password/reset/{token}",
            web::get().to(password::reset_form),
        )
        .route(
            "/password/reset/{token}",
            web::post().to(password::reset_password),
        )
        .route("/invite/{token}", web::get().to(password::invite_form))
        .route("/invite/{token}", web::post().to(password::accept_invite))
        .route("/account", web::get().to(account::account_page))
        .route("/account", web::post().to(account::update_profile))
        .route(
            "/account/password",
            web::post().to(account::change_password),
        )
        .route(
            "/account/assignment",
            web::post().to(account::update_assignment),
        );
}
