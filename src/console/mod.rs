//! The console shell every console page stands on: its URLs ([`shell`]), its menu built from
//! the entries each feature declares ([`nav`]) and its home page ([`home`]).

pub mod home;
pub mod nav;
pub mod shell;

use actix_web::web;

/// Registers the console home (under `/{service_id}/console`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home::console_home))
        .route("", web::get().to(home::console_redirect));
}
