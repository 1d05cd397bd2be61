//! One ticket in the console (SPEC §5.2 ⑦–⑩, §5.4, §5.5, §5.7): the ticket page and what is
//! done from it — processing with a mail preview, the customer fields, assignment, the
//! administrator actions, the transfer to issue management — and manual creation.
//!
//! Routes (all under `/{service_id}/console/`, for members holding the ticket permission; see
//! [`access::TicketStaff`]):
//! - `GET tickets/new`, `POST tickets/new` — manual creation ([`create`]);
//! - `GET tickets/{public_id}` — the page ([`process::show_ticket`]);
//! - `POST …/process`, `POST …/preview` — processing and the mail preview ([`process`]);
//! - `POST …/fields` — the customer fields ([`fields`]);
//! - `POST …/pull`, `…/forward`, `…/complete`, `…/spam/restore`, `…/spam/delete` ([`assign`]);
//! - `GET …/customer-tickets`, `…/templates`, `…/templates/{id}`, `…/attachments/{id}`
//!   ([`panels`]);
//! - `GET|POST …/transfer` ([`transfer`]).
//!
//! The settings pages of ticket processing are registered here too: mail layouts and sender
//! info ([`crate::notify::layouts`]), reply templates ([`crate::tickets::reply_templates`]),
//! forbidden words ([`crate::tickets::forbidden`]), ticket settings
//! ([`crate::tickets::settings`]) and the substitution-code catalogue
//! ([`crate::tickets::substitution`]).

pub mod access;
pub mod assign;
pub mod create;
pub mod fields;
pub mod form;
pub mod panels;
pub mod process;
pub mod transfer;
pub mod view;

use actix_web::web;

/// A public ticket ID in a path: `T`, epoch milliseconds, five letters or digits. The pattern
/// keeps other paths under `tickets/` (the list, its searches) free for their own routes.
const PID: &str = "{public_id:T[0-9]{10,16}[0-9A-Za-z]{5}}";

/// Registers the ticket page, its actions, manual creation and the processing settings.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let t = |rest: &str| format!("/tickets/{PID}{rest}");
    cfg.route("/tickets/new", web::get().to(create::new_ticket))
        .route("/tickets/new", web::post().to(create::create_ticket))
        .route(&t(""), web::get().to(process::show_ticket))
        .route(&t("/process"), web::post().to(process::process_ticket))
        .route(&t("/preview"), web::post().to(process::preview_mail))
        .route(&t("/fields"), web::post().to(fields::save_fields))
        .route(&t("/pull"), web::post().to(assign::pull_ticket))
        .route(&t("/forward"), web::post().to(assign::forward_ticket))
        .route(&t("/complete"), web::post().to(assign::complete_ticket))
        .route(&t("/spam/restore"), web::post().to(assign::restore_spam))
        .route(&t("/spam/delete"), web::post().to(assign::delete_spam))
        .route(
            &t("/customer-tickets"),
            web::get().to(panels::customer_tickets),
        )
        .route(&t("/templates"), web::get().to(panels::list_templates))
        .route(
            &t("/templates/{template_id}"),
            web::get().to(panels::render_template),
        )
        .route(
            &t("/attachments/{attachment_id}"),
            web::get().to(panels::download),
        )
        .route(&t("/transfer"), web::get().to(transfer::transfer_form))
        .route(&t("/transfer"), web::post().to(transfer::transfer_ticket))
        .route(
            "/settings/substitution-codes",
            web::get().to(crate::tickets::substitution::list_codes),
        )
        .route(
            "/settings/tickets",
            web::get().to(crate::tickets::settings::edit_settings),
        )
        .route(
            "/settings/tickets",
            web::post().to(crate::tickets::settings::save_settings),
        );
    crate::notify::layouts::routes(cfg);
    crate::tickets::reply_templates::routes(cfg);
    crate::tickets::forbidden::routes(cfg);
}
