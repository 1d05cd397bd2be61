//! Runtime configuration: environment variables (`OPENCONTACT_*`) with command-line overrides,
//! resolved once at start-up into [`Config`].

use std::path::PathBuf;
use std::time::Duration;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Address to listen on.
    pub bind: String,
    /// Directory for the SQLite file, the secret key and uploaded files.
    pub data_dir: PathBuf,
    /// Public base URL used in mails and links, without a trailing slash.
    pub base_url: String,
    /// Trust `X-Forwarded-For` / `Forwarded` for the client address (only behind a proxy).
    pub trust_forwarded: bool,
    /// Mark the session cookie `Secure` (on when the base URL is https).
    pub secure_cookies: bool,
    /// Time limits of calls to outside peers.
    pub timeouts: Timeouts,
    /// How often an idle background worker looks for due jobs without being woken (a safety
    /// net: queued work wakes the workers at once, see [`crate::db::queue`]).
    pub job_poll_every: Duration,
}

/// Time limits of calls to outside peers (tests use short ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// One Dooray! API call.
    pub dooray: Duration,
    /// One customer-info API call (connecting included).
    pub customer_info: Duration,
    /// One SMTP conversation step.
    pub smtp: Duration,
    /// One callback or chat-webhook delivery.
    pub webhook: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            dooray: Duration::from_secs(8),
            customer_info: Duration::from_secs(5),
            smtp: Duration::from_secs(20),
            webhook: Duration::from_secs(10),
        }
    }
}

/// The default of [`Config::job_poll_every`].
pub const DEFAULT_JOB_POLL_EVERY: Duration = Duration::from_secs(2);

impl Config {
    /// The session cookie's `SameSite` attribute: `None` when the cookie is `Secure` (an https
    /// base URL), so the help center keeps its session — member integration, the inquiry form —
    /// inside an iframe on another site (`services.hc_frame_ancestors`); `Lax` otherwise,
    /// because browsers refuse `SameSite=None` without `Secure`. Cross-site requests are still
    /// refused by the CSRF check (`Sec-Fetch-Site`/`Origin` and the session token), which does
    /// not depend on `SameSite`.
    pub fn session_same_site(&self) -> actix_web::cookie::SameSite {
        if self.secure_cookies {
            actix_web::cookie::SameSite::None
        } else {
            actix_web::cookie::SameSite::Lax
        }
    }
}

impl Config {
    /// Builds the configuration from optional overrides, falling back to the defaults of
    /// ARCHITECTURE §2. The database URL defaults to an SQLite file inside the data directory.
    pub fn resolve(
        database_url: Option<String>,
        bind: Option<String>,
        data_dir: Option<PathBuf>,
        base_url: Option<String>,
    ) -> Config {
        let data_dir = data_dir.unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("opencontact.db").display()));
        let bind = bind.unwrap_or_else(|| "127.0.0.1:8080".to_string());
        let base_url = base_url
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        let trust_forwarded = std::env::var("OPENCONTACT_TRUST_FORWARDED")
            .map(|v| v == "1" || v.eq_ignore_ascii_case("true"))
            .unwrap_or(false);
        let secure_cookies = base_url.starts_with("https://");
        Config {
            database_url,
            bind,
            data_dir,
            base_url,
            trust_forwarded,
            secure_cookies,
            timeouts: Timeouts::default(),
            job_poll_every: DEFAULT_JOB_POLL_EVERY,
        }
    }
}
