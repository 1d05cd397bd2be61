//! Test support: [`TestApp`] runs the real application (the same app factory as `main.rs`) on a
//! real HTTP port over a fresh database — an SQLite file, or a new PostgreSQL database when
//! `TEST_DATABASE_URL` is set — with a real SMTP sink; [`Client`] is a browser-like HTTP client
//! with its own cookie jar that picks up the CSRF token from pages.

#![allow(dead_code)]

pub mod browser;
pub mod imap;
pub mod smtp;

use std::sync::Arc;

use diesel::Connection;
use diesel::prelude::*;
use opencontact::db::schema::service_members;
use opencontact::db::types::TlsMode;
use opencontact::i18n::Lang;
use opencontact::notify::SmtpSettings;
use opencontact::notify::smtp::SmtpInput;
use opencontact::tenancy::organization::SetupInput;
use opencontact::tenancy::user::{NewUser, User};
use opencontact::{AppState, Config, SecretKey};
use scraper::{Html, Selector};

pub use smtp::SmtpSink;

/// The password every fixture account uses.
pub const PASSWORD: &str = "Correct-horse-42";

/// A running application.
pub struct TestApp {
    pub base: String,
    pub state: actix_web::web::Data<AppState>,
    pub smtp: SmtpSink,
    /// The application's background workers (the same supervisor as `serve`); `None` once
    /// stopped with [`TestApp::stop_jobs`].
    pub jobs: Option<opencontact::jobs::Supervisor>,
    _dir: tempfile::TempDir,
    pg_drop: Option<PgDatabase>,
}

/// Time limits of outside peers in tests: short, so the timeout tests end quickly.
pub fn test_timeouts() -> opencontact::config::Timeouts {
    opencontact::config::Timeouts {
        dooray: std::time::Duration::from_secs(2),
        customer_info: std::time::Duration::from_secs(2),
        smtp: std::time::Duration::from_secs(5),
        webhook: std::time::Duration::from_secs(2),
    }
}

/// A fresh PostgreSQL database for one test, dropped afterwards; `None` on SQLite runs.
pub struct PgDatabase {
    pub url: String,
    _guard: PgDropGuard,
}

impl PgDatabase {
    /// Creates a database when `TEST_DATABASE_URL` is set.
    pub fn create() -> Option<PgDatabase> {
        let url = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = format!("oc_test_{}", opencontact::crypto::random_hex(8));
        let mut admin = diesel::PgConnection::establish(&url)
            .expect("TEST_DATABASE_URL must point at a reachable PostgreSQL database");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        Some(PgDatabase {
            url: with_database(&url, &name),
            _guard: PgDropGuard {
                admin_url: url,
                name,
            },
        })
    }
}

/// Drops the per-test PostgreSQL database.
struct PgDropGuard {
    admin_url: String,
    name: String,
}

impl Drop for PgDropGuard {
    fn drop(&mut self) {
        if let Ok(mut c) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut c);
        }
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let cut = base.rfind('/').expect("database URL has a path");
    format!("{}/{}{}", &base[..cut], name, query)
}

/// The backend the suite runs on.
pub fn backend_name() -> &'static str {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) {
        "postgres"
    } else {
        "sqlite"
    }
}

impl TestApp {
    /// Starts a fresh application with an SMTP sink configured as its mail server.
    pub async fn spawn() -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let pg_drop = PgDatabase::create();
        let database_url = match &pg_drop {
            Some(db) => db.url.clone(),
            None => format!("sqlite://{}", dir.path().join("test.db").display()),
        };
        let secret = SecretKey::load_or_create(dir.path()).expect("secret");
        let app = TestApp::start(
            dir,
            database_url,
            secret,
            pg_drop,
            opencontact::config::DEFAULT_JOB_POLL_EVERY,
        )
        .await;
        app.configure_smtp();
        app
    }

    /// A second instance of `other`'s application: its own pool, HTTP port, supervisor and
    /// SMTP sink (not configured: both send through `other`'s), sharing `other`'s database and
    /// secret — another node of the same installation. Its idle workers look for work only
    /// every `poll_every` unless woken.
    pub async fn spawn_sharing(other: &TestApp, poll_every: std::time::Duration) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        TestApp::start(
            dir,
            other.state.config.database_url.clone(),
            other.state.secret.clone(),
            None,
            poll_every,
        )
        .await
    }

    /// Stops the background workers (as if this node's workers were gone).
    pub fn stop_jobs(&mut self) {
        self.jobs = None;
    }

    async fn start(
        dir: tempfile::TempDir,
        database_url: String,
        secret: SecretKey,
        pg_drop: Option<PgDatabase>,
        job_poll_every: std::time::Duration,
    ) -> TestApp {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let base = format!("http://{addr}");
        let config = Config {
            database_url,
            bind: addr.to_string(),
            data_dir: dir.path().to_path_buf(),
            base_url: base.clone(),
            trust_forwarded: false,
            secure_cookies: false,
            timeouts: test_timeouts(),
            job_poll_every,
        };
        let db = opencontact::Db::connect(&config.database_url, 8).expect("db");
        db.migrate().expect("migrate");
        let state = actix_web::web::Data::new(AppState { db, config, secret });
        let s2 = state.clone();
        let server = actix_web::HttpServer::new(move || opencontact::app(s2.clone()))
            .workers(2)
            .listen(listener)
            .expect("listen")
            .run();
        actix_web::rt::spawn(server);
        let jobs =
            Some(opencontact::jobs::Supervisor::start(state.clone()).expect("background jobs"));
        let smtp = SmtpSink::start().await;
        TestApp {
            base,
            state,
            smtp,
            jobs,
            _dir: dir,
            pg_drop,
        }
    }

    /// Runs every due job of every kind (mail, deliveries, lookups, scheduled work) to
    /// completion, including the jobs those jobs queue and retries that are due; waits for a
    /// round a background worker is in the middle of. Returns how many jobs ran.
    pub async fn run_pending_jobs(&self) -> usize {
        match &self.jobs {
            Some(jobs) => jobs.run_pending(&self.state).await,
            None => {
                opencontact::jobs::Runner::new(&self.state)
                    .expect("runner")
                    .run_pending(&self.state)
                    .await
            }
        }
        .expect("run pending jobs")
    }

    /// Points the application's mail server at the sink.
    pub fn configure_smtp(&self) {
        let port = self.smtp.port;
        let secret = self.state.secret.clone();
        self.state
            .db
            .write_blocking(move |c| {
                SmtpSettings::save(
                    c,
                    &secret,
                    &SmtpInput {
                        host: "127.0.0.1".into(),
                        port: i32::from(port),
                        tls_mode: TlsMode::Plain,
                        username: String::new(),
                        password: None,
                        from_address: "support@acme.test".into(),
                        from_name: "Acme Support".into(),
                    },
                )?;
                Ok(())
            })
            .expect("smtp settings");
    }

    /// Runs setup: organization "Acme", CM service `demo`, administrator `admin` (English UI).
    pub fn setup(&self) -> Fixture {
        let secret = self.state.secret.clone();
        let input = SetupInput {
            org_name: "Acme".into(),
            service_id: "demo".into(),
            service_name: "Demo Support".into(),
            admin_login: "admin".into(),
            admin_name: "Ada Admin".into(),
            admin_email: "admin@acme.test".into(),
            password: PASSWORD.into(),
            password_confirm: PASSWORD.into(),
            language: "en".into(),
            timezone: "Asia/Seoul".into(),
        };
        let (admin_id, service_id) = self
            .state
            .db
            .write_blocking(|c| {
                opencontact::tenancy::organization::run_setup(c, &secret, &input, Lang::En)
            })
            .expect("setup")
            .expect("setup input valid");
        Fixture {
            admin_id,
            service_id,
        }
    }

    /// Creates an active member with [`PASSWORD`].
    pub fn create_member(&self, login: &str, name: &str, org_admin: bool) -> i64 {
        let new = NewUser {
            login: login.into(),
            name: name.into(),
            email: format!("{login}@acme.test"),
            ui_lang: Lang::En,
            password: Some(PASSWORD.into()),
            is_org_admin: org_admin,
        };
        self.state
            .db
            .write_blocking(|c| User::create(c, &new))
            .expect("create member")
    }

    /// Adds a member to a service with a role and the ticket permission.
    pub fn add_to_service(&self, service_id: i64, user_id: i64, role: &str) {
        let now = opencontact::db::now();
        let role = role.to_string();
        self.state
            .db
            .write_blocking(move |c| {
                diesel::insert_into(service_members::table)
                    .values((
                        service_members::service_id.eq(service_id),
                        service_members::user_id.eq(user_id),
                        service_members::role.eq(role),
                        service_members::perm_ticket.eq(true),
                        service_members::created_at.eq(now),
                        service_members::updated_at.eq(now),
                    ))
                    .execute(c)?;
                Ok(())
            })
            .expect("add to service");
    }

    /// A new client with an empty cookie jar.
    pub fn client(&self) -> Client {
        self.build_client(None)
    }

    /// A new client with an empty cookie jar that presents the given user agent (a phone's,
    /// say).
    pub fn client_as(&self, user_agent: &str) -> Client {
        self.build_client(Some(user_agent))
    }

    fn build_client(&self, user_agent: Option<&str>) -> Client {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "accept-language",
            reqwest::header::HeaderValue::from_static("en"),
        );
        let mut builder = reqwest::Client::builder();
        if let Some(ua) = user_agent {
            builder = builder.user_agent(ua.to_string());
        }
        let http = builder
            // Below the server's 5 s keep-alive: never reuse a connection the server may be
            // closing at that moment (an `IncompleteMessage` flake under load).
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .cookie_provider(jar.clone())
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Client {
            base: self.base.clone(),
            http,
            csrf: std::sync::Mutex::new(None),
            jar,
        }
    }

    /// A client signed in as `login` (checks that sign-in succeeded).
    pub async fn login(&self, login: &str) -> Client {
        let c = self.client();
        let r = c
            .post_form("/login", &[("login", login), ("password", PASSWORD)])
            .await;
        assert_eq!(r.status, 303, "sign-in as {login} failed: {}", r.text);
        c
    }

    /// Opens a help-center ticket (channel web, status new) from `email` with one customer
    /// message; returns (internal key, public ID).
    pub fn create_ticket(&self, service_id: i64, subject: &str, email: &str) -> (i64, String) {
        let secret = self.state.secret.clone();
        let (subject, email) = (subject.to_string(), email.to_string());
        self.state
            .db
            .write_blocking(move |c| {
                let contact = opencontact::customers::Contact {
                    name: "Casey Customer".into(),
                    email: email.clone(),
                    phone: String::new(),
                };
                let customer_id =
                    opencontact::customers::link_or_create(c, service_id, &contact, false)?;
                let created = opencontact::tickets::create_ticket(
                    c,
                    &secret,
                    &opencontact::tickets::NewTicket {
                        service_id,
                        customer_id: Some(customer_id),
                        category_id: None,
                        channel: opencontact::tickets::Channel::Web,
                        lang: "en",
                        subject: &subject,
                        body: "<p>Please help.</p>",
                        values: &[],
                        files: &[],
                        creator_id: None,
                        group_id: None,
                        assignee_id: None,
                        origin_ticket_id: None,
                    },
                )?;
                Ok((created.id, created.public_id))
            })
            .expect("create ticket")
    }

    /// Creates another consultation service (English, UTC); returns its key.
    pub fn create_service(&self, code: &str) -> i64 {
        let new = opencontact::tenancy::service::NewService {
            code: code.into(),
            kind: opencontact::db::types::ServiceKind::Consultation,
            name: format!("{code} service"),
            languages: vec![Lang::En],
            default_lang: Lang::En,
            timezone: "UTC".into(),
            editor_type: opencontact::db::types::EditorType::Html,
        };
        self.state
            .db
            .write_blocking(|c| opencontact::tenancy::service::Service::create(c, &new))
            .expect("create service")
    }

    /// Reads a ticket by internal key.
    pub fn ticket(&self, id: i64) -> opencontact::tickets::Ticket {
        use opencontact::db::schema::tickets;
        self.db(|c| {
            tickets::table
                .find(id)
                .select(opencontact::tickets::Ticket::as_select())
                .first(c)
        })
    }

    /// Runs a closure on a database connection.
    pub fn db<T>(&self, f: impl FnOnce(&mut opencontact::db::DbConn) -> QueryResult<T>) -> T {
        self.state.db.write_blocking(|c| Ok(f(c)?)).expect("db")
    }

    /// Turns a service's feature switches on and off, as an organization administrator would.
    pub fn set_features(&self, service_id: i64, on: &[&str], off: &[&str]) {
        use opencontact::db::schema::services;
        use opencontact::tenancy::service::Service;
        let svc: Service = self.db(|c| {
            services::table
                .find(service_id)
                .select(Service::as_select())
                .first(c)
        });
        let mut f = svc.features();
        for n in on {
            f.set(n, true);
        }
        for n in off {
            f.set(n, false);
        }
        let json = serde_json::to_string(&f).expect("features as JSON");
        self.db(|c| {
            diesel::update(services::table.find(service_id))
                .set(services::features.eq(json))
                .execute(c)
        });
    }
}

/// Ids created by [`TestApp::setup`].
pub struct Fixture {
    pub admin_id: i64,
    pub service_id: i64,
}

/// A response, fully read.
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    /// The parsed HTML.
    pub fn doc(&self) -> Html {
        Html::parse_document(&self.text)
    }

    /// The `Location` header.
    pub fn location(&self) -> String {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }

    /// The trimmed texts of all elements matching a CSS selector.
    pub fn texts(&self, css: &str) -> Vec<String> {
        let sel = Selector::parse(css).expect("selector");
        self.doc()
            .select(&sel)
            .map(|e| e.text().collect::<String>().trim().to_string())
            .collect()
    }

    /// Whether any element matches.
    pub fn has(&self, css: &str) -> bool {
        let sel = Selector::parse(css).expect("selector");
        self.doc().select(&sel).next().is_some()
    }

    /// The inline error shown for a form field (`#e-<field>`).
    pub fn field_error(&self, field: &str) -> String {
        self.texts(&format!("#e-{field}"))
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    }
}

/// A browser-like client.
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    csrf: std::sync::Mutex<Option<String>>,
    jar: Arc<reqwest::cookie::Jar>,
}

fn extract_csrf(html: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let sel = Selector::parse("input[name=csrf_token]").ok()?;
    doc.select(&sel)
        .next()
        .and_then(|e| e.value().attr("value"))
        .map(str::to_string)
}

impl Client {
    async fn read(&self, r: reqwest::Response) -> Resp {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        if let Some(t) = extract_csrf(&text) {
            *self.csrf.lock().unwrap() = Some(t);
        }
        Resp {
            status,
            headers,
            text,
        }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Resp {
        let r = self
            .http
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .expect("GET");
        self.read(r).await
    }

    /// GET with extra headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut b = self.http.get(format!("{}{}", self.base, path));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.read(b.send().await.expect("GET")).await
    }

    /// The session's CSRF token (loaded from a page when not yet seen).
    pub async fn csrf(&self) -> String {
        if let Some(t) = self.csrf.lock().unwrap().clone() {
            return t;
        }
        let mut r = self.get("/login").await;
        if r.status == 303 {
            let to = r.location();
            r = self.get(&to).await;
        }
        extract_csrf(&r.text)
            .or_else(|| self.csrf.lock().unwrap().clone())
            .expect("a page with a CSRF token")
    }

    /// POST a form with the CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_form_raw(path, &all, &[]).await
    }

    /// POST a form exactly as given (no token added), with extra headers.
    pub async fn post_form_raw(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut b = self
            .http
            .post(format!("{}{}", self.base, path))
            .form(fields);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.read(b.send().await.expect("POST")).await
    }

    /// POST multipart with the CSRF token in the query string.
    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> Resp {
        let token = self.csrf().await;
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = format!("{}{}{}csrf_token={}", self.base, path, sep, token);
        let r = self
            .http
            .post(url)
            .multipart(form)
            .send()
            .await
            .expect("POST multipart");
        self.read(r).await
    }

    /// Forgets the remembered CSRF token (after a new session).
    pub fn reset_csrf(&self) {
        *self.csrf.lock().unwrap() = None;
    }
}
