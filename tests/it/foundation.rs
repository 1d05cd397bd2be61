//! The skeleton: health check, migrations, locales, security headers, localised errors, CSRF,
//! assets and first-run setup.

use crate::support::{PASSWORD, TestApp, backend_name};

#[actix_web::test]
async fn healthz_reports_the_backend() {
    let app = TestApp::spawn().await;
    let r = app.client().get("/healthz").await;
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_str(&r.text).unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["database"], backend_name());
}

#[test]
fn migration_trees_have_the_same_names() {
    let names = |dir: &str| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let sqlite = names("migrations/sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("migrations/postgres"));
    for name in &sqlite {
        for backend in ["sqlite", "postgres"] {
            for file in ["up.sql", "down.sql"] {
                assert!(
                    std::path::Path::new(&format!("migrations/{backend}/{name}/{file}")).exists(),
                    "{backend}/{name}/{file} missing"
                );
            }
        }
    }
}

/// Every key used in templates and code exists, and every key has English, Korean and Japanese.
#[test]
fn every_message_key_has_three_languages_and_exists() {
    let cat =
        opencontact::i18n::Catalogue::load().expect("locale files parse, each key has three texts");
    let mut used = std::collections::BTreeSet::new();
    let mut stack = vec![
        std::path::PathBuf::from("templates"),
        std::path::PathBuf::from("src"),
    ];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for e in std::fs::read_dir(&p).unwrap() {
                stack.push(e.unwrap().path());
            }
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        // ctx.t("key"), v.t("key"), i18n::t(lang, "key"), errors.add("field", "key"), Forbidden("key")
        for (i, _) in text.match_indices('"') {
            let rest = &text[i + 1..];
            let Some(end) = rest.find('"') else { continue };
            let candidate = &rest[..end];
            let looks_like_key = candidate.contains('.')
                && !candidate.contains(' ')
                && candidate
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
                && KEY_PREFIXES.iter().any(|p| candidate.starts_with(p))
                && !candidate.ends_with('.');
            if looks_like_key {
                used.insert(candidate.to_string());
            }
        }
    }
    // A prefix completed at run time (`format!("{prefix}.subject")`) counts when keys extend it.
    let missing: Vec<_> = used
        .iter()
        .filter(|k| !k.ends_with(".html") && !k.ends_with(".txt"))
        .filter(|k| !cat.contains(k) && !cat.keys().any(|key| key.starts_with(&format!("{k}."))))
        .collect();
    assert!(
        missing.is_empty(),
        "keys used but not in locales/: {missing:?}"
    );
}

const KEY_PREFIXES: &[&str] = &[
    "common.",
    "nav.",
    "error.",
    "login.",
    "setup.",
    "forgot.",
    "reset.",
    "invite.",
    "token.",
    "password.",
    "mail.",
    "account.",
    "member.",
    "service.",
    "role.",
    "agent.",
    "perm.",
    "console.",
    "validation.",
    "cli.",
    "admin.",
    "org.",
    "audit.",
    "group.",
    "menu.",
    "history.",
    "smtp.",
    "company.",
    "category.",
    "field.",
    "hc.",
    "faq.",
    "inquiry.",
    "notice.",
    "ticket.",
    "transfer.",
    "template.",
    "forbidden.",
    "outbox.",
    "imap.",
    "customerinfo.",
    "maillayout.",
    "trigger.",
    "openapi.",
    "surge.",
    "dooray.",
    "grade.",
];

#[actix_web::test]
async fn pages_carry_security_headers() {
    let app = TestApp::spawn().await;
    let r = app.client().get("/setup").await;
    assert_eq!(r.status, 200);
    let csp = r.header("content-security-policy");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'self'"), "{csp}");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    assert_eq!(r.header("x-frame-options"), "SAMEORIGIN");
    let cookie = r.header("set-cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

#[actix_web::test]
async fn unknown_pages_get_a_localised_404() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let en = c
        .get_with("/no/such/page", &[("accept-language", "en-US,en;q=0.9")])
        .await;
    assert_eq!(en.status, 404);
    assert!(
        en.texts("h1").contains(&"Page not found".to_string()),
        "{}",
        en.text
    );
    let ko = c
        .get_with("/no/such/page", &[("accept-language", "ko-KR")])
        .await;
    assert!(
        ko.texts("h1")
            .contains(&"페이지를 찾을 수 없음".to_string())
    );
    let ja = c
        .get_with("/no/such/page", &[("accept-language", "ja")])
        .await;
    assert!(
        ja.texts("h1")
            .contains(&"ページが見つかりません".to_string())
    );
    // Help-center paths use the portal layout.
    let hc = c
        .get_with("/demo/hc/nothing", &[("accept-language", "en")])
        .await;
    assert_eq!(hc.status, 404);
    assert!(hc.has(".portal"), "{}", hc.text);
}

#[actix_web::test]
async fn language_switcher_sets_a_cookie_that_wins() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let r = c.get("/lang/ja?next=/setup").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/setup");
    let page = c.get_with("/setup", &[("accept-language", "en")]).await;
    assert!(page.text.contains("<html lang=\"ja\">"));
    // Open redirects are refused.
    let evil = c.get("/lang/en?next=//evil.example/").await;
    assert_eq!(evil.location(), "/");
    assert_eq!(c.get("/lang/xx").await.status, 404);
}

#[actix_web::test]
async fn assets_are_embedded_with_cache_headers() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let v = opencontact::web::assets::version();
    for path in [
        "css/app.css",
        "js/app.js",
        "vendor/htmx.min.js",
        "vendor/Sortable.min.js",
    ] {
        let r = c.get(&format!("/assets/{path}?v={v}")).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(r.header("cache-control").contains("immutable"), "{path}");
        assert!(!r.header("etag").is_empty());
    }
    let htmx = c.get("/assets/vendor/htmx.min.js").await;
    assert!(htmx.text.contains("2.0."), "htmx 2.0.x is bundled");
    assert_eq!(c.get("/assets/nope.js").await.status, 404);
}

#[actix_web::test]
async fn first_run_redirects_to_setup_and_setup_creates_everything() {
    let app = TestApp::spawn().await;
    let c = app.client();
    let r = c.get("/").await;
    assert_eq!((r.status, r.location().as_str()), (303, "/setup"));
    assert_eq!(c.get("/login").await.location(), "/setup");

    // Bad input re-renders with messages beside the fields.
    let bad = c
        .post_form(
            "/setup",
            &[
                ("org_name", ""),
                ("service_id", "demo1"),
                ("service_name", "Demo"),
                ("admin_login", "admin"),
                ("admin_name", "Ada"),
                ("admin_email", "not-an-email"),
                ("password", "short"),
                ("password_confirm", "other"),
                ("language", "en"),
                ("timezone", "Mars/Base"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.field_error("org_name"), "This field is required.");
    assert_eq!(
        bad.field_error("service_id"),
        "The service ID may contain English letters only."
    );
    assert_eq!(
        bad.field_error("admin_email"),
        "Enter a valid e-mail address."
    );
    assert_eq!(
        bad.field_error("password"),
        "The password must have at least 10 characters."
    );
    assert_eq!(
        bad.field_error("password_confirm"),
        "The two passwords do not match."
    );
    assert_eq!(
        bad.field_error("timezone"),
        "Enter a time zone such as Asia/Seoul."
    );
    let orgs: i64 = app.db(|c| {
        use diesel::prelude::*;
        opencontact::db::schema::organizations::table
            .count()
            .get_result(c)
    });
    assert_eq!(orgs, 0, "nothing half-saved");

    let ok = c
        .post_form(
            "/setup",
            &[
                ("org_name", "Acme"),
                ("service_id", "demo"),
                ("service_name", "Demo Support"),
                ("admin_login", "admin"),
                ("admin_name", "Ada Admin"),
                ("admin_email", "admin@acme.test"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
                ("language", "en"),
                ("timezone", "Asia/Seoul"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert_eq!(ok.location(), "/demo/console/");
    let home = c.get("/demo/console/").await;
    assert_eq!(home.status, 200);
    assert!(home.texts("h1")[0].starts_with("Demo Support"));
    // The new consultation service has one active "General inquiry" intake type.
    let names: Vec<String> = app.db(|c| {
        use diesel::prelude::*;
        use opencontact::db::schema::categories;
        categories::table
            .filter(categories::tree.eq("intake"))
            .select(categories::names)
            .load(c)
    });
    assert_eq!(names.len(), 1);
    assert!(names[0].contains("General inquiry"));
    // Setup is gone once done.
    assert_eq!(c.get("/setup").await.location(), "/login");
}

#[actix_web::test]
async fn state_changing_requests_need_the_csrf_token() {
    let app = TestApp::spawn().await;
    app.setup();
    let c = app.client();
    let token = c.csrf().await;
    // No token.
    let r = c
        .post_form_raw("/login", &[("login", "admin"), ("password", PASSWORD)], &[])
        .await;
    assert_eq!(r.status, 403);
    assert!(
        r.text.contains("session expired") || r.text.contains("another site"),
        "{}",
        r.text
    );
    // Wrong token.
    let r = c
        .post_form_raw(
            "/login",
            &[
                ("login", "admin"),
                ("password", PASSWORD),
                ("csrf_token", "forged"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    // Right token but a cross-site request.
    let r = c
        .post_form_raw(
            "/login",
            &[
                ("login", "admin"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
            &[
                ("Origin", "http://evil.example"),
                ("Sec-Fetch-Site", "cross-site"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    // Header token (as htmx sends it) works.
    let r = c
        .post_form_raw(
            "/login",
            &[("login", "admin"), ("password", PASSWORD)],
            &[("X-CSRF-Token", &token)],
        )
        .await;
    assert_eq!(r.status, 303);
}

#[test]
fn database_urls_are_checked() {
    use opencontact::db::{Backend, DbUrl};
    assert_eq!(
        DbUrl::parse("sqlite://data/x.db").unwrap().backend,
        Backend::Sqlite
    );
    assert_eq!(
        DbUrl::parse("postgres://u:p@h/db").unwrap().backend,
        Backend::Postgres
    );
    assert_eq!(
        DbUrl::parse("postgresql://u@h/db").unwrap().backend,
        Backend::Postgres
    );
    assert!(DbUrl::parse("mysql://x").is_err());
    assert!(DbUrl::parse("data.db").is_err());
}

#[actix_web::test]
async fn a_refusal_inside_a_write_rolls_back_what_was_written_before_it() {
    use diesel::prelude::*;
    use opencontact::db::schema::services;
    use opencontact::db::{TxError, refuse};
    let app = TestApp::spawn().await;
    let f = app.setup();
    let before: String = app.db(|c| {
        services::table
            .find(f.service_id)
            .select(services::name)
            .first(c)
    });
    let sid = f.service_id;
    let outcome = app
        .state
        .db
        .write_or_refuse(move |c| {
            diesel::update(services::table.find(sid))
                .set(services::name.eq("Half-written"))
                .execute(c)?;
            refuse::<(), _>("refused after a partial write")
        })
        .await
        .expect("no failure");
    assert_eq!(outcome, Err("refused after a partial write"));
    let after: String = app.db(|c| {
        services::table
            .find(f.service_id)
            .select(services::name)
            .first(c)
    });
    assert_eq!(after, before, "the partial write was rolled back");
    let committed = app
        .state
        .db
        .write_or_refuse(move |c| -> Result<usize, TxError<&'static str>> {
            Ok(diesel::update(services::table.find(sid))
                .set(services::name.eq("Written"))
                .execute(c)?)
        })
        .await
        .expect("no failure");
    assert_eq!(committed, Ok(1));
    let written: String = app.db(|c| {
        services::table
            .find(f.service_id)
            .select(services::name)
            .first(c)
    });
    assert_eq!(written, "Written", "work that does not refuse is committed");
}
