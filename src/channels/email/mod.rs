//! The e-mail channel (SPEC §3.7). Outgoing: [`smtp`] talks to the relay, [`outbox`] queues
//! mail in the transaction that causes it and delivers it with retries, [`outbox_admin`] shows
//! administrators the queue and lets them retry failed mail. Incoming: [`accounts`] are the IMAP
//! mailboxes of a service (pages in [`accounts_page`]), [`imap`] connects to them, [`poller`]
//! keeps one poller per enabled account, [`import`] turns new messages into tickets or
//! follow-ups (parsed by [`decode`]) and sets the ones it cannot import aside in the
//! [`quarantine`]. A service's [`representative`] account is its reserved platform address.

pub mod accounts;
pub mod accounts_page;
pub mod decode;
pub mod imap;
pub mod import;
pub mod poller;
pub mod quarantine;
pub mod representative;

use actix_web::web;

/// Registers the e-mail settings of a service's console (under `/{service_id}/console`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    const S: &str = "/settings";
    let p = |rest: &str| format!("{S}{rest}");
    cfg.route(
        &p("/mail-accounts"),
        web::get().to(accounts_page::list_accounts),
    )
    .route(
        &p("/mail-accounts"),
        web::post().to(accounts_page::create_account),
    )
    .route(
        &p("/mail-accounts/new"),
        web::get().to(accounts_page::new_account_form),
    )
    .route(
        &p("/mail-accounts/{id}"),
        web::get().to(accounts_page::edit_account_form),
    )
    .route(
        &p("/mail-accounts/{id}"),
        web::post().to(accounts_page::update_account),
    )
    .route(
        &p("/mail-accounts/{id}/enable"),
        web::post().to(accounts_page::enable_account),
    )
    .route(
        &p("/mail-accounts/{id}/disable"),
        web::post().to(accounts_page::disable_account),
    )
    .route(
        &p("/mail-accounts/{id}/delete"),
        web::post().to(accounts_page::delete_account),
    )
    .route(
        &p("/mail-accounts/{id}/poll"),
        web::post().to(accounts_page::poll_now),
    )
    .route(
        &p("/mail-quarantine"),
        web::get().to(accounts_page::quarantine_list),
    )
    .route(
        &p("/mail-quarantine/{id}/raw"),
        web::get().to(accounts_page::quarantine_raw),
    )
    .route(
        &p("/mail-quarantine/{id}/delete"),
        web::post().to(accounts_page::quarantine_dismiss),
    )
    .route(
        &p("/mail-representative"),
        web::post().to(accounts_page::create_representative),
    );
}

use crate::console::nav::{NavEntry, Section};

/// The menu entries: mail layouts (ticket settings), the IMAP accounts and the outbox.
pub const NAV: &[NavEntry] = &[
    NavEntry {
        section: Section::Ticket,
        path: "console/settings/mail-layouts",
        label: "maillayout.title",
        exact: false,
        visible: crate::tickets::console::ticket_settings,
    },
    NavEntry {
        section: Section::ExternalChannels,
        path: "console/settings/mail-accounts",
        label: "imap.nav",
        exact: false,
        visible: crate::tickets::console::consultation_admin,
    },
    NavEntry {
        section: Section::ExternalChannels,
        path: "console/settings/mail-outbox",
        label: "outbox.nav",
        exact: false,
        visible: |a| a.is_service_admin(),
    },
];
