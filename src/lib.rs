//! OpenContact: a self-hosted customer-service platform (help center, tickets, chat, phone,
//! automation, statistics and a Contiple-compatible Open API) in one binary, on an embedded
//! SQLite database or on PostgreSQL.
//!
//! [`app`] builds the actix-web application that both `main.rs` and the integration tests use.

pub mod agents;
pub mod auth;
pub mod automation;
pub mod categories;
pub mod channels;
pub mod cli;
pub mod common;
pub mod config;
pub mod console;
pub mod crypto;
pub mod customers;
pub mod db;
pub mod error;
pub mod fields;
pub mod help_center;
pub mod i18n;
pub mod integrations;
pub mod jobs;
pub mod notify;
pub mod openapi;
pub mod org;
pub mod routes;
pub mod services;
pub mod tenancy;
pub mod tickets;
pub mod web;

use actix_session::SessionMiddleware;
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_web::body::MessageBody;
use actix_web::cookie::Key;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, web as aweb};

pub use config::Config;
pub use crypto::SecretKey;
pub use db::Db;

/// Shared application state.
pub struct AppState {
    /// Database handle.
    pub db: Db,
    /// Configuration.
    pub config: Config,
    /// Installation secret.
    pub secret: SecretKey,
}

impl AppState {
    /// Opens the database (applying migrations) and loads or creates the secret key.
    pub fn open(config: Config) -> anyhow::Result<AppState> {
        let secret = SecretKey::load_or_create(&config.data_dir)?;
        let db = Db::connect(&config.database_url, 16)?;
        db.migrate()?;
        subscribe_to_tickets();
        Ok(AppState { db, config, secret })
    }
}

/// Registers the features that react to ticket changes with [`tickets::events`], in the order
/// they run: the trigger engine (which may change the ticket, so it goes first), the surge
/// alert, the customer-info lookup. Called by [`AppState::open`] and [`app`]; only the first
/// call in a process counts.
pub fn subscribe_to_tickets() {
    tickets::events::subscribe(vec![
        automation::engine::on_ticket_event,
        automation::surge::on_ticket_event,
        integrations::customer_info::lookup::on_ticket_event,
    ]);
}

/// Builds the application: state, the session and header middleware, and the route table
/// ([`routes`], where each area adds its own middleware).
pub fn app(
    state: aweb::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    subscribe_to_tickets();
    let key = Key::from(state.secret.cookie_key());
    let secure = state.config.secure_cookies;
    let same_site = state.config.session_same_site();
    App::new()
        .app_data(state)
        .app_data(aweb::FormConfig::default().limit(1024 * 1024))
        .configure(routes::configure)
        .wrap(
            SessionMiddleware::builder(CookieSessionStore::default(), key)
                .cookie_name("oc_session".into())
                .cookie_secure(secure)
                .cookie_http_only(true)
                .cookie_same_site(same_site)
                .cookie_content_security(CookieContentSecurity::Private)
                .session_lifecycle(
                    PersistentSession::default()
                        .session_ttl(actix_web::cookie::time::Duration::hours(12)),
                )
                .build(),
        )
        .wrap(from_fn(web::headers::apply))
        .wrap(tracing_actix_web::TracingLogger::default())
}
