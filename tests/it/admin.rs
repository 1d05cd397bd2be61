//! Organization management (`/admin/…`): organization info, logo and key, services, members and
//! invitations, organization administrators, company info, the mail server and the audit log.

use diesel::prelude::*;
use opencontact::db::schema::{
    company_infos, organizations, permission_audit, service_members, services, smtp_settings, users,
};

use crate::support::{Client, Fixture, PASSWORD, Resp, TestApp};

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// The app with an organization, the `demo` service, and `kim`, an agent of `demo`.
async fn start() -> (TestApp, Fixture, i64) {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let kim = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(fx.service_id, kim, "agent");
    (app, fx, kim)
}

fn logo_form(bytes: Vec<u8>, name: &str, mime: &str) -> reqwest::multipart::Form {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str(mime)
        .unwrap();
    reqwest::multipart::Form::new().part("logo", part)
}

/// Follows a redirect and returns the page.
async fn follow(c: &Client, r: &Resp) -> Resp {
    assert_eq!(r.status, 303, "expected a redirect: {}", r.text);
    c.get(&r.location()).await
}

fn flash(r: &Resp) -> String {
    r.texts(".flash").join(" ")
}

fn audit_ops(app: &TestApp) -> Vec<(String, String, String, String)> {
    app.db(|c| {
        permission_audit::table
            .order(permission_audit::id.asc())
            .select((
                permission_audit::operation,
                permission_audit::target_name,
                permission_audit::before_value,
                permission_audit::after_value,
            ))
            .load(c)
    })
}

#[actix_web::test]
async fn every_admin_route_is_for_organization_administrators_only() {
    let (app, _fx, kim) = start().await;
    let info: i64 = app.db(|c| {
        diesel::insert_into(company_infos::table)
            .values((
                company_infos::title.eq("Footer"),
                company_infos::company_info.eq("Acme Inc."),
                company_infos::copyright.eq("© Acme"),
                company_infos::terms.eq("Be nice."),
                company_infos::created_at.eq(opencontact::db::now()),
                company_infos::updated_at.eq(opencontact::db::now()),
            ))
            .returning(company_infos::id)
            .get_result(c)
    });
    let pages = [
        "/admin".to_string(),
        "/admin/".into(),
        "/admin/organization".into(),
        "/admin/services".into(),
        "/admin/services/new".into(),
        "/admin/services/demo/edit".into(),
        "/admin/services/demo/delete".into(),
        "/admin/members".into(),
        "/admin/members/invite".into(),
        format!("/admin/members/{kim}"),
        "/admin/administrators".into(),
        "/admin/company-info".into(),
        "/admin/company-info/new".into(),
        format!("/admin/company-info/{info}"),
        "/admin/mail".into(),
        "/admin/audit".into(),
    ];
    let actions = [
        "/admin/organization".to_string(),
        "/admin/organization/key".into(),
        "/admin/organization/logo/delete".into(),
        "/admin/services".into(),
        "/admin/services/demo/edit".into(),
        "/admin/services/demo/enable".into(),
        "/admin/services/demo/disable".into(),
        "/admin/services/demo/delete".into(),
        "/admin/members/invite".into(),
        format!("/admin/members/{kim}/resend"),
        format!("/admin/members/{kim}/deactivate"),
        format!("/admin/members/{kim}/reactivate"),
        "/admin/administrators".into(),
        format!("/admin/administrators/{kim}/remove"),
        "/admin/company-info".into(),
        format!("/admin/company-info/{info}"),
        format!("/admin/company-info/{info}/delete"),
        "/admin/mail".into(),
        "/admin/mail/test".into(),
    ];
    let anonymous = app.client();
    let agent = app.login("kim").await;
    let admin = app.login("admin").await;
    for path in &pages {
        let r = anonymous.get(path).await;
        assert_eq!(r.status, 303, "{path}");
        assert_eq!(
            r.location(),
            format!(
                "/login?next={}",
                opencontact::common::text::url_encode(path)
            ),
            "{path}"
        );
        let r = agent.get(path).await;
        assert_eq!(r.status, 403, "{path}");
        assert!(
            r.text
                .contains("Only organization administrators can open this page."),
            "{path}"
        );
        let expected = if path.starts_with("/admin/") && path.len() > 7 {
            200
        } else {
            303
        };
        assert_eq!(admin.get(path).await.status, expected, "{path}");
    }
    let _ = agent.get("/account").await;
    let token = admin.csrf().await;
    for path in &actions {
        let r = agent.post_form(path, &[]).await;
        assert_eq!(r.status, 403, "agent POST {path}");
        let r = admin.post_form_raw(path, &[], &[]).await;
        assert_eq!(r.status, 403, "POST without CSRF token {path}");
        let r = admin
            .post_form_raw(
                path,
                &[("csrf_token", &token)],
                &[("Sec-Fetch-Site", "cross-site")],
            )
            .await;
        assert_eq!(r.status, 403, "cross-site POST {path}");
    }
    // The multipart upload takes its token from the query string.
    let r = agent
        .post_multipart(
            "/admin/organization/logo",
            logo_form(PNG.to_vec(), "l.png", "image/png"),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = admin
        .http
        .post(format!("{}/admin/organization/logo", app.base))
        .multipart(logo_form(PNG.to_vec(), "l.png", "image/png"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    // Nothing changed.
    let still: (bool, bool) = app.db(|c| {
        users::table
            .find(kim)
            .select((users::active, users::is_org_admin))
            .first(c)
    });
    assert_eq!(still, (true, false));
    assert!(app.smtp.received().is_empty());
    // /admin goes to the services list.
    for path in ["/admin", "/admin/"] {
        assert_eq!(admin.get(path).await.location(), "/admin/services");
    }
}

#[actix_web::test]
async fn organization_name_ids_and_key() {
    let (app, _fx, _kim) = start().await;
    let c = app.login("admin").await;
    let (uid, key_enc): (String, String) = app.db(|c| {
        organizations::table
            .select((organizations::org_uid, organizations::org_key_enc))
            .first(c)
    });
    let key = app.state.secret.decrypt(&key_enc).unwrap();
    let page = c.get("/admin/organization").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.texts("#org-uid"), std::slice::from_ref(&uid));
    assert_eq!(uid.len(), 16);
    assert_eq!(page.texts("#org-key"), std::slice::from_ref(&key));
    assert!(page.has("button[data-copy='#org-uid']") && page.has("button[data-copy='#org-key']"));
    assert!(page.has("form[action='/admin/organization/key'][data-confirm]"));
    assert!(page.has("a.active[href='/admin/organization']"));
    assert!(page.has("input[name=name][value='Acme']"));
    assert_eq!(page.texts("#access-url"), std::slice::from_ref(&app.base));

    let bad = c.post_form("/admin/organization", &[("name", "  ")]).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.field_error("name"), "This field is required.");
    let long = "x".repeat(51);
    let bad = c.post_form("/admin/organization", &[("name", &long)]).await;
    assert_eq!(bad.field_error("name"), "At most 50 characters.");
    let ok = c
        .post_form("/admin/organization", &[("name", "Acme Corporation")])
        .await;
    let page = follow(&c, &ok).await;
    assert_eq!(flash(&page), "The organization name was saved.");
    assert!(
        page.text
            .contains("<title>Organization info · Acme Corporation</title>")
    );

    let r = c.post_form("/admin/organization/key", &[]).await;
    let page = follow(&c, &r).await;
    assert!(flash(&page).contains("A new organization key was generated."));
    let new_enc: String = app.db(|c| {
        organizations::table
            .select(organizations::org_key_enc)
            .first(c)
    });
    let new_key = app.state.secret.decrypt(&new_enc).unwrap();
    assert_ne!(new_key, key);
    assert_eq!(page.texts("#org-key"), [new_key]);
    assert_eq!(page.texts("#org-uid"), [uid], "the ID stays");
}

#[actix_web::test]
async fn logos_are_checked_by_content_and_size() {
    let (app, _fx, _kim) = start().await;
    let c = app.login("admin").await;
    let _ = c.get("/admin/organization").await;
    let max = opencontact::org::logo::MAX_LOGO_BYTES;

    // No file.
    let r = c
        .post_multipart(
            "/admin/organization/logo",
            logo_form(Vec::new(), "", "application/octet-stream"),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("logo"), "Choose an image file to upload.");
    // A text file claiming to be a PNG.
    let r = c
        .post_multipart(
            "/admin/organization/logo",
            logo_form(b"<svg onload=alert(1)>".to_vec(), "logo.png", "image/png"),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.field_error("logo"),
        "This file is not a PNG, JPEG, GIF or WebP image."
    );
    // Too large, even though it starts like a PNG.
    let mut big = PNG.to_vec();
    big.resize(max + 1, 0);
    let r = c
        .post_multipart(
            "/admin/organization/logo",
            logo_form(big, "big.png", "image/png"),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.field_error("logo"),
        "The image is too large; the limit is 512 KB."
    );
    assert_eq!(app.client().get("/logo").await.status, 404);

    // A real PNG, whatever the browser says its type is.
    let r = c
        .post_multipart(
            "/admin/organization/logo",
            logo_form(PNG.to_vec(), "logo.bin", "text/plain"),
        )
        .await;
    let page = follow(&c, &r).await;
    assert_eq!(flash(&page), "The logo was saved.");
    assert!(page.has(".topbar .brand img[src='/logo']"));
    let (path, mime): (Option<String>, Option<String>) = app.db(|c| {
        organizations::table
            .select((organizations::logo_path, organizations::logo_mime))
            .first(c)
    });
    assert_eq!(path.as_deref(), Some("uploads/logo.png"));
    assert_eq!(mime.as_deref(), Some("image/png"));
    let file = app.state.config.data_dir.join("uploads/logo.png");
    assert_eq!(std::fs::read(&file).unwrap(), PNG);
    let served = app
        .client()
        .http
        .get(format!("{}/logo", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);

    // Replaced by a GIF: the old file goes.
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    let r = c
        .post_multipart(
            "/admin/organization/logo",
            logo_form(gif.clone(), "logo.gif", "image/gif"),
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(!file.exists());
    let gif_file = app.state.config.data_dir.join("uploads/logo.gif");
    assert_eq!(std::fs::read(&gif_file).unwrap(), gif);

    let r = c.post_form("/admin/organization/logo/delete", &[]).await;
    let page = follow(&c, &r).await;
    assert_eq!(flash(&page), "The logo was removed.");
    assert!(!gif_file.exists());
    assert_eq!(app.client().get("/logo").await.status, 404);
    assert!(page.has("#logo-none"));
}

fn new_service_fields<'a>(overrides: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("kind", "im"),
        ("service_id", "issues"),
        ("service_name", "Second Line"),
        ("languages", "ko"),
        ("languages", "en"),
        ("default_lang", "en"),
        ("timezone", "Asia/Tokyo"),
        ("editor_type", "text"),
    ];
    for (k, v) in overrides {
        if *k == "languages" {
            fields.retain(|(f, _)| *f != "languages");
            if !v.is_empty() {
                fields.push((k, v));
            }
        } else {
            fields.retain(|(f, _)| f != k);
            fields.push((k, v));
        }
    }
    fields
}

#[actix_web::test]
async fn adding_a_service_validates_and_makes_the_creator_its_administrator() {
    let (app, fx, _kim) = start().await;
    let c = app.login("admin").await;
    let list = c.get("/admin/services").await;
    assert_eq!(list.status, 200);
    assert!(list.has("tr[data-service='demo'] .status-enabled"));
    assert!(list.text.contains("Demo Support"));
    assert_eq!(c.get("/admin/services/new").await.status, 200);

    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);
    let cases: [Case; 7] = [
        (
            &[("service_id", "demo")],
            "service_id",
            "This service ID is already in use.",
        ),
        (
            &[("service_id", "DEMO")],
            "service_id",
            "This service ID is already in use.",
        ),
        (
            &[("service_id", "issues2")],
            "service_id",
            "The service ID may contain English letters only.",
        ),
        (
            &[("service_id", "admin")],
            "service_id",
            "This word is reserved; choose another service ID.",
        ),
        (
            &[("languages", "")],
            "languages",
            "Choose at least one help-center language.",
        ),
        (
            &[("default_lang", "ja")],
            "default_lang",
            "The default language must be one of the selected languages.",
        ),
        (
            &[("timezone", "Mars/Olympus")],
            "timezone",
            "Enter a time zone such as Asia/Seoul.",
        ),
    ];
    for (overrides, field, message) in cases {
        let r = c
            .post_form("/admin/services", &new_service_fields(overrides))
            .await;
        assert_eq!(r.status, 422, "{overrides:?}");
        assert_eq!(r.field_error(field), message, "{overrides:?}");
    }
    let r = c
        .post_form(
            "/admin/services",
            &new_service_fields(&[("kind", "xx"), ("editor_type", "word")]),
        )
        .await;
    assert_eq!(r.field_error("kind"), "Choose one of the options.");
    assert_eq!(r.field_error("editor_type"), "Choose one of the options.");
    let count: i64 = app.db(|c| services::table.count().get_result(c));
    assert_eq!(count, 1, "nothing half-saved");

    let r = c
        .post_form("/admin/services", &new_service_fields(&[]))
        .await;
    assert_eq!(r.location(), "/admin/services/issues/edit");
    let page = follow(&c, &r).await;
    assert!(flash(&page).contains("The service issues was created"));
    let (kind, langs, default, tz, editor, enabled): (
        String,
        String,
        String,
        String,
        String,
        bool,
    ) = app.db(|c| {
        services::table
            .filter(services::code.eq("issues"))
            .select((
                services::kind,
                services::languages,
                services::default_lang,
                services::timezone,
                services::editor_type,
                services::enabled,
            ))
            .first(c)
    });
    assert_eq!(
        (
            kind.as_str(),
            langs.as_str(),
            default.as_str(),
            tz.as_str(),
            editor.as_str(),
            enabled
        ),
        ("im", "ko,en", "en", "Asia/Tokyo", "text", true)
    );
    let role: String = app.db(|c| {
        service_members::table
            .inner_join(services::table)
            .filter(services::code.eq("issues"))
            .filter(service_members::user_id.eq(fx.admin_id))
            .select(service_members::role)
            .first(c)
    });
    assert_eq!(role, "admin");
    assert_eq!(c.get("/issues/console/").await.status, 200);
    let list = c.get("/admin/services").await;
    assert!(list.has("tr[data-service='issues']"));
    assert!(list.text.contains("한국어, English"));
    assert_eq!(
        audit_ops(&app),
        [(
            "agent_added".into(),
            "Ada Admin".into(),
            String::new(),
            "admin".into()
        )]
    );
}

#[actix_web::test]
async fn editing_a_service_changes_settings_origins_and_features() {
    let (app, _fx, _kim) = start().await;
    let c = app.login("admin").await;
    let page = c.get("/admin/services/demo/edit").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.texts("#service-code"), ["demo"]);
    assert!(!page.has("input[name=service_id]"), "the ID is read-only");
    assert!(page.has("input[name=feature_ticket][checked]"));
    assert!(!page.has("input[name=feature_open_api][checked]"));
    assert_eq!(c.get("/admin/services/nothing/edit").await.status, 404);

    let base = [
        ("service_name", "Demo Help"),
        ("languages", "ja"),
        ("languages", "ko"),
        ("default_lang", "ja"),
        ("timezone", "Asia/Seoul"),
        ("editor_type", "html"),
        ("feature_ticket", "on"),
        ("feature_chat", "on"),
        ("feature_open_api", "on"),
    ];
    let mut bad = base.to_vec();
    bad.push(("frame_ancestors", "http://shop.example.com"));
    let r = c.post_form("/admin/services/demo/edit", &bad).await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.field_error("frame_ancestors"),
        "Enter https origins such as https://www.example.com, separated by spaces (no paths)."
    );
    let mut bad = base.to_vec();
    bad.retain(|(k, _)| *k != "languages");
    let r = c.post_form("/admin/services/demo/edit", &bad).await;
    assert_eq!(
        r.field_error("languages"),
        "Choose at least one help-center language."
    );
    let mut bad = base.to_vec();
    bad.push(("service_name", ""));
    bad.retain(|(k, v)| *k != "service_name" || v.is_empty());
    let r = c.post_form("/admin/services/demo/edit", &bad).await;
    assert_eq!(r.field_error("service_name"), "This field is required.");

    let mut ok = base.to_vec();
    ok.push((
        "frame_ancestors",
        " https://shop.example.com/  https://*.example.org ",
    ));
    ok.push(("service_id", "renamed"));
    let r = c.post_form("/admin/services/demo/edit", &ok).await;
    assert_eq!(r.location(), "/admin/services/demo/edit");
    let page = follow(&c, &r).await;
    assert_eq!(flash(&page), "The service settings were saved.");
    let row: (String, String, String, String, String, bool, Option<String>) = app.db(|c| {
        services::table
            .filter(services::code.eq("demo"))
            .select((
                services::name,
                services::languages,
                services::default_lang,
                services::hc_frame_ancestors,
                services::features,
                services::open_api_enabled,
                services::service_key_enc,
            ))
            .first(c)
    });
    assert_eq!(row.0, "Demo Help");
    assert_eq!(row.1, "ko,ja");
    assert_eq!(row.2, "ja");
    assert_eq!(row.3, "https://shop.example.com https://*.example.org");
    let features: serde_json::Value = serde_json::from_str(&row.4).unwrap();
    assert_eq!(features["ticket"], true);
    assert_eq!(features["chat"], true);
    assert_eq!(features["faq"], false);
    assert_eq!(features["open_api"], true);
    assert!(row.5, "the Open API switch turns the API on");
    let key = app.state.secret.decrypt(row.6.as_deref().unwrap()).unwrap();
    assert_eq!(key.len(), 32);
    assert!(page.has("input[name=feature_open_api][checked]"));

    // Switching the Open API off.
    let r = c.post_form("/admin/services/demo/edit", &base[..8]).await;
    assert_eq!(r.status, 303);
    let (features, open): (String, bool) = app.db(|c| {
        services::table
            .filter(services::code.eq("demo"))
            .select((services::features, services::open_api_enabled))
            .first(c)
    });
    let features: serde_json::Value = serde_json::from_str(&features).unwrap();
    assert_eq!(features["open_api"], false);
    assert!(!open);
}

#[actix_web::test]
async fn disabled_services_lock_their_console_and_can_then_be_deleted() {
    let (app, fx, kim) = start().await;
    let c = app.login("admin").await;
    let agent = app.login("kim").await;
    assert_eq!(agent.get("/demo/console/").await.status, 200);

    // Deleting an enabled service is refused.
    let page = c.get("/admin/services/demo/delete").await;
    assert_eq!(page.status, 200);
    assert!(flash(&page).contains("This service is enabled. Disable it before deleting it."));
    let r = c
        .post_form("/admin/services/demo/delete", &[("confirm_id", "demo")])
        .await;
    assert_eq!(r.status, 409);
    assert!(r.text.contains("Disable it before deleting it."));

    let r = c.post_form("/admin/services/demo/disable", &[]).await;
    let list = follow(&c, &r).await;
    assert_eq!(flash(&list), "The service demo is disabled.");
    assert!(list.has("tr[data-service='demo'] .status-disabled"));
    let r = agent.get("/demo/console/").await;
    assert_eq!(r.status, 403);
    assert!(r.text.contains("This service is disabled."));

    // Re-enable and disable again.
    let r = c.post_form("/admin/services/demo/enable", &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(agent.get("/demo/console/").await.status, 200);
    c.post_form("/admin/services/demo/disable", &[]).await;

    let r = c
        .post_form("/admin/services/demo/delete", &[("confirm_id", "Demo")])
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.field_error("confirm_id"),
        "The text does not match the service ID."
    );
    // Uploaded files of the service go with it.
    let uploads = app.state.config.data_dir.join("uploads");
    let ticket_dir = uploads.join(format!("tickets/{}", fx.service_id));
    let hc_dir = uploads.join(format!("hc/{}", fx.service_id));
    for d in [&ticket_dir, &hc_dir] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("a.txt"), b"x").unwrap();
    }
    let r = c
        .post_form("/admin/services/demo/delete", &[("confirm_id", "demo")])
        .await;
    assert!(!ticket_dir.exists() && !hc_dir.exists());
    let list = follow(&c, &r).await;
    assert_eq!(flash(&list), "The service demo was deleted.");
    assert!(!list.has("tr[data-service='demo']"));
    let (svc, members, cats): (i64, i64, i64) = app.db(|c| {
        Ok((
            services::table.count().get_result(c)?,
            service_members::table
                .filter(service_members::service_id.eq(fx.service_id))
                .count()
                .get_result(c)?,
            opencontact::db::schema::categories::table
                .count()
                .get_result(c)?,
        ))
    });
    assert_eq!((svc, members, cats), (0, 0, 0), "deletion cascades");
    assert_eq!(agent.get("/demo/console/").await.status, 404);
    // Members stay in the directory.
    assert_eq!(c.get(&format!("/admin/members/{kim}")).await.status, 200);
}

fn insert_invited(app: &TestApp, login: &str, name: &str) -> i64 {
    let login = login.to_string();
    let name = name.to_string();
    app.db(move |c| {
        let t = opencontact::db::now();
        diesel::insert_into(users::table)
            .values((
                users::email.eq(format!("{login}@example.test")),
                users::login.eq(login),
                users::name.eq(name),
                users::phone.eq(""),
                users::ui_lang.eq("en"),
                users::is_org_admin.eq(false),
                users::active.eq(true),
                users::created_at.eq(t),
                users::updated_at.eq(t),
            ))
            .returning(users::id)
            .get_result(c)
    })
}

#[actix_web::test]
async fn members_are_searched_filtered_and_paged() {
    let (app, _fx, kim) = start().await;
    for i in 0..55 {
        insert_invited(&app, &format!("user{i:02}"), &format!("Member {i:02}"));
    }
    insert_invited(&app, "lee_100%", "Lee Underscore");
    let c = app.login("admin").await;
    let page = c.get("/admin/members").await;
    assert_eq!(page.status, 200);
    let rows = page.texts("#members tbody tr");
    assert_eq!(rows.len(), 50);
    assert!(page.text.contains("Ada Admin"));
    assert!(page.has("tr[data-member='admin'] .org-admin"));
    assert!(page.has("tr[data-member='kim'] .status-active"));
    assert!(page.has("tr[data-member='user00'] .status-invited"));
    let kim_row = page.texts("tr[data-member='kim'] td");
    assert!(kim_row[4].contains("demo"), "{kim_row:?}");
    let next = page
        .doc()
        .select(&scraper::Selector::parse("a[rel=next]").unwrap())
        .next()
        .and_then(|a| a.value().attr("href").map(str::to_string))
        .expect("a next-page link");
    let page2 = c.get(&next).await;
    let rows2 = page2.texts("#members tbody tr");
    assert_eq!(rows2.len(), 58 - 50);
    assert!(!page2.has("a[rel=next]"));
    assert!(
        rows.iter().all(|r| !rows2.contains(r)),
        "pages do not overlap"
    );

    // Search is case-insensitive on name, login and e-mail, and treats % and _ literally.
    for (q, expect) in [
        ("KIM AG", vec!["kim"]),
        ("ADMIN@ACME", vec!["admin"]),
        (
            "user5",
            vec!["user50", "user51", "user52", "user53", "user54"],
        ),
        ("100%", vec!["lee_100%"]),
        ("_", vec!["lee_100%"]),
    ] {
        let r = c
            .get(&format!(
                "/admin/members?q={}",
                opencontact::common::text::url_encode(q)
            ))
            .await;
        let logins: Vec<String> = r
            .doc()
            .select(&scraper::Selector::parse("#members tbody tr").unwrap())
            .filter_map(|tr| tr.value().attr("data-member").map(str::to_string))
            .collect();
        assert_eq!(logins, expect, "{q}");
    }
    app.db(|c| {
        diesel::update(users::table.find(kim))
            .set(users::active.eq(false))
            .execute(c)
    });
    let r = c.get("/admin/members?status=deactivated").await;
    assert_eq!(r.texts("#members tbody tr").len(), 1);
    assert!(r.has("tr[data-member='kim'] .status-deactivated"));
    let r = c.get("/admin/members?status=active").await;
    assert_eq!(r.texts("#members tbody tr").len(), 1, "only the admin");

    let detail = c.get(&format!("/admin/members/{kim}")).await;
    assert_eq!(detail.texts("#member-status"), ["Deactivated"]);
    let services = detail.texts("#member-services tbody tr td");
    assert_eq!(services[..3], ["Demo Support", "demo", "Agent"]);
    assert_eq!(c.get("/admin/members/999999").await.status, 404);
    assert_eq!(c.get("/admin/members/nope").await.status, 404);
}

#[actix_web::test]
async fn an_invitation_lets_the_new_member_set_a_password_and_sign_in() {
    let (app, _fx, _kim) = start().await;
    let c = app.login("admin").await;
    let form = c.get("/admin/members/invite").await;
    assert_eq!(form.status, 200);

    let bad = c
        .post_form(
            "/admin/members/invite",
            &[
                ("name", ""),
                ("login", "kim"),
                ("email", "not-an-email"),
                ("ui_lang", "fr"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.field_error("name"), "This field is required.");
    assert_eq!(bad.field_error("login"), "This login ID is already in use.");
    assert_eq!(bad.field_error("email"), "Enter a valid e-mail address.");
    assert_eq!(bad.field_error("ui_lang"), "Choose one of the options.");
    let dup = c
        .post_form(
            "/admin/members/invite",
            &[
                ("name", "Someone"),
                ("login", "someone"),
                ("email", "KIM@acme.test"),
                ("ui_lang", "en"),
            ],
        )
        .await;
    assert_eq!(
        dup.field_error("email"),
        "This e-mail address is already in use."
    );
    assert!(app.smtp.received().is_empty());

    let r = c
        .post_form(
            "/admin/members/invite",
            &[
                ("name", "Park Newbie"),
                ("login", "park"),
                ("email", "park@acme.test"),
                ("ui_lang", "ja"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/admin/members/"));
    let detail = follow(&c, &r).await;
    assert_eq!(
        flash(&detail),
        "The invitation mail to park@acme.test is queued and will be sent shortly."
    );
    assert_eq!(detail.texts("#member-status"), ["Invited"]);
    let mails = app.smtp.wait_for(1).await;
    assert_eq!(mails[0].to, ["park@acme.test"]);
    assert_eq!(mails[0].subject(), "[Acme] OpenContact への招待");
    let first_link = mails[0].link_containing("/invite/").unwrap();

    // Resending retires the first link.
    let id = r.location().rsplit('/').next().unwrap().to_string();
    let r = c
        .post_form(&format!("/admin/members/{id}/resend"), &[])
        .await;
    let detail = follow(&c, &r).await;
    assert!(flash(&detail).contains("A new invitation to park@acme.test is queued"));
    let mails = app.smtp.wait_for(2).await;
    let second_link = mails[1].link_containing("/invite/").unwrap();
    assert_ne!(first_link, second_link);
    let invitee = app.client();
    let old = invitee.get(first_link.trim_start_matches(&app.base)).await;
    assert_eq!(old.status, 410);
    let path = second_link.trim_start_matches(&app.base).to_string();
    assert_eq!(invitee.get(&path).await.status, 200);
    let done = invitee
        .post_form(
            &path,
            &[("password", PASSWORD), ("password_confirm", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, 303);
    let signed = invitee
        .post_form("/login", &[("login", "park"), ("password", PASSWORD)])
        .await;
    assert_eq!(signed.status, 303);
    // An accepted invitation cannot be resent.
    let r = c
        .post_form(&format!("/admin/members/{id}/resend"), &[])
        .await;
    assert_eq!(r.status, 409);
    assert!(
        flash(&r).contains("This member has already set a password"),
        "{}",
        r.text
    );
    let detail = c.get(&format!("/admin/members/{id}")).await;
    assert_eq!(detail.texts("#member-status"), ["Active"]);
}

#[actix_web::test]
async fn a_refused_invitation_mail_shows_in_the_outbox_and_can_be_retried() {
    let (app, _fx, _kim) = start().await;
    let c = app.login("admin").await;
    app.smtp.set_refuse(true);
    let r = c
        .post_form(
            "/admin/members/invite",
            &[
                ("name", "Park Newbie"),
                ("login", "park"),
                ("email", "park@acme.test"),
                ("ui_lang", "en"),
            ],
        )
        .await;
    let detail = follow(&c, &r).await;
    assert!(flash(&detail).contains("is queued"), "{}", flash(&detail));
    // The relay refuses for good: the mail is marked failed with the reason, and the
    // organization's outbox shows it.
    app.run_pending_jobs().await;
    let status: String = app.db(|c| {
        opencontact::db::schema::mail_outbox::table
            .select(opencontact::db::schema::mail_outbox::status)
            .first(c)
    });
    assert_eq!(status, "failed");
    let outbox = c.get("/admin/outbox").await;
    assert_eq!(
        outbox.texts("#outbox .recipient"),
        ["Park Newbie <park@acme.test>"]
    );
    assert!(outbox.texts("#outbox .last-error")[0].contains("554"));
    // Once mail works, the administrator sends it again.
    app.smtp.set_refuse(false);
    let id: i64 = app.db(|c| {
        opencontact::db::schema::mail_outbox::table
            .select(opencontact::db::schema::mail_outbox::id)
            .first(c)
    });
    let r = c.post_form(&format!("/admin/outbox/{id}/retry"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(app.smtp.wait_for(1).await[0].to, ["park@acme.test"]);
}

#[actix_web::test]
async fn members_are_deactivated_and_reactivated_with_audit_rows() {
    let (app, fx, kim) = start().await;
    let c = app.login("admin").await;
    let agent = app.login("kim").await;

    let me = c
        .post_form(&format!("/admin/members/{}/deactivate", fx.admin_id), &[])
        .await;
    assert_eq!(me.status, 409);
    assert_eq!(flash(&me), "You cannot deactivate your own account.");

    let r = c
        .post_form(&format!("/admin/members/{kim}/deactivate"), &[])
        .await;
    let detail = follow(&c, &r).await;
    assert_eq!(flash(&detail), "The member was deactivated and signed out.");
    assert_eq!(detail.texts("#member-status"), ["Deactivated"]);
    assert_eq!(agent.get("/demo/console/").await.status, 303, "signed out");
    let login = app
        .client()
        .post_form("/login", &[("login", "kim"), ("password", PASSWORD)])
        .await;
    assert_eq!(login.status, 403);
    // History stays.
    let memberships: i64 = app.db(|c| {
        service_members::table
            .filter(service_members::user_id.eq(kim))
            .count()
            .get_result(c)
    });
    assert_eq!(memberships, 1);

    let r = c
        .post_form(&format!("/admin/members/{kim}/reactivate"), &[])
        .await;
    assert_eq!(r.status, 303);
    let login = app
        .client()
        .post_form("/login", &[("login", "kim"), ("password", PASSWORD)])
        .await;
    assert_eq!(login.status, 303);
    assert_eq!(
        audit_ops(&app),
        [
            (
                "member_deactivated".into(),
                "Kim Agent".into(),
                "active".into(),
                "deactivated".into()
            ),
            (
                "member_reactivated".into(),
                "Kim Agent".into(),
                "deactivated".into(),
                "active".into()
            ),
        ]
    );
}

#[actix_web::test]
async fn organization_administrators_are_added_and_removed_but_never_the_last() {
    let (app, fx, kim) = start().await;
    let lee = app.create_member("lee", "Lee Second", false);
    let c = app.login("admin").await;
    let page = c.get("/admin/administrators").await;
    assert_eq!(page.status, 200);
    assert!(page.has("#org-admins tr[data-member='admin']"));

    let r = c
        .get("/admin/administrators?search=1&name=&login=&email=")
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.field_error("search"),
        "Enter a name, login ID or e-mail to search."
    );
    let r = c
        .get("/admin/administrators?search=1&email=KIM%40ACME")
        .await;
    assert_eq!(r.status, 200);
    assert!(r.has("#candidates tr[data-member='kim']"));
    assert!(!r.has("#candidates tr[data-member='lee']"));
    let r = c.get("/admin/administrators?search=1&name=second").await;
    assert!(r.has("#candidates tr[data-member='lee']"));
    let r = c.get("/admin/administrators?search=1&login=admin").await;
    assert!(r.has("#no-results"), "administrators are not offered again");

    // The only administrator cannot step down.
    let r = c
        .post_form(
            &format!("/admin/administrators/{}/remove", fx.admin_id),
            &[],
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(flash(&r).contains("this is the last one"), "{}", r.text);

    let r = c
        .post_form("/admin/administrators", &[("user_id", &kim.to_string())])
        .await;
    let page = follow(&c, &r).await;
    assert_eq!(
        flash(&page),
        "The member is now an organization administrator."
    );
    assert!(page.has("#org-admins tr[data-member='kim']"));
    let kim_client = app.login("kim").await;
    assert_eq!(kim_client.get("/admin/services").await.status, 200);

    // A deactivated member cannot be made administrator.
    app.db(|c| {
        diesel::update(users::table.find(lee))
            .set(users::active.eq(false))
            .execute(c)
    });
    let r = c
        .post_form("/admin/administrators", &[("user_id", &lee.to_string())])
        .await;
    assert_eq!(r.status, 409);
    assert!(flash(&r).contains("A deactivated member cannot become an administrator."));

    let r = c
        .post_form(&format!("/admin/administrators/{kim}/remove"), &[])
        .await;
    let page = follow(&c, &r).await;
    assert_eq!(
        flash(&page),
        "The organization-administrator role was removed."
    );
    assert_eq!(kim_client.get("/admin/services").await.status, 403);

    // With two administrators, one may remove themself and leaves the area.
    c.post_form("/admin/administrators", &[("user_id", &kim.to_string())])
        .await;
    let r = c
        .post_form(
            &format!("/admin/administrators/{}/remove", fx.admin_id),
            &[],
        )
        .await;
    assert_eq!((r.status, r.location().as_str()), (303, "/"));
    assert_eq!(c.get("/admin/services").await.status, 403);
    // …and the remaining one can neither be removed nor deactivated.
    let r = kim_client
        .post_form(&format!("/admin/administrators/{kim}/remove"), &[])
        .await;
    assert_eq!(r.status, 409);

    let ops: Vec<(String, String, String)> = audit_ops(&app)
        .into_iter()
        .map(|(op, target, before, after)| (op, target, format!("{before}>{after}")))
        .collect();
    assert_eq!(
        ops,
        [
            (
                "org_admin_granted".into(),
                "Kim Agent".into(),
                "no>yes".into()
            ),
            (
                "org_admin_revoked".into(),
                "Kim Agent".into(),
                "yes>no".into()
            ),
            (
                "org_admin_granted".into(),
                "Kim Agent".into(),
                "no>yes".into()
            ),
            (
                "org_admin_revoked".into(),
                "Ada Admin".into(),
                "yes>no".into()
            ),
        ]
    );
}

#[actix_web::test]
async fn company_info_records_are_added_edited_and_deleted() {
    let (app, _fx, _kim) = start().await;
    let c = app.login("admin").await;
    let list = c.get("/admin/company-info").await;
    assert_eq!(list.status, 200);
    assert!(list.has(".empty"));
    assert_eq!(c.get("/admin/company-info/new").await.status, 200);

    let long = "가".repeat(5001);
    let bad = c
        .post_form(
            "/admin/company-info",
            &[
                ("title", ""),
                ("company_info", &long),
                ("copyright", ""),
                ("terms", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.field_error("title"), "This field is required.");
    assert_eq!(bad.field_error("company_info"), "At most 5000 characters.");
    // Line breaks count once, as the browser counts them.
    let lines = "a\r\n".repeat(2400);
    let r = c
        .post_form(
            "/admin/company-info",
            &[
                ("title", "Main footer"),
                ("company_info", &lines),
                ("copyright", "© 2026 Acme"),
                ("terms", "Use it kindly."),
            ],
        )
        .await;
    let list = follow(&c, &r).await;
    assert_eq!(flash(&list), "The company info was added.");
    assert!(list.text.contains("Main footer"));
    let (id, info): (i64, String) = app.db(|c| {
        company_infos::table
            .select((company_infos::id, company_infos::company_info))
            .first(c)
    });
    assert!(!info.contains('\r'));

    let edit = c.get(&format!("/admin/company-info/{id}")).await;
    assert_eq!(edit.status, 200);
    assert!(edit.text.contains("© 2026 Acme"));
    let bad = c
        .post_form(
            &format!("/admin/company-info/{id}"),
            &[("title", "Main footer"), ("terms", &"t".repeat(20001))],
        )
        .await;
    assert_eq!(bad.field_error("terms"), "At most 20000 characters.");
    let r = c
        .post_form(
            &format!("/admin/company-info/{id}"),
            &[
                ("title", "Footer 2026"),
                ("company_info", "Acme Inc., Seoul"),
                ("copyright", "© Acme"),
                ("terms", "Terms."),
            ],
        )
        .await;
    let list = follow(&c, &r).await;
    assert_eq!(flash(&list), "The company info was saved.");
    assert!(list.text.contains("Footer 2026") && list.text.contains("Acme Inc., Seoul"));
    assert!(list.has(&format!(
        "form[action='/admin/company-info/{id}/delete'][data-confirm]"
    )));

    let r = c
        .post_form(&format!("/admin/company-info/{id}/delete"), &[])
        .await;
    let list = follow(&c, &r).await;
    assert_eq!(flash(&list), "The company info was deleted.");
    let n: i64 = app.db(|c| company_infos::table.count().get_result(c));
    assert_eq!(n, 0);
    assert_eq!(
        c.get(&format!("/admin/company-info/{id}")).await.status,
        404
    );
    assert_eq!(
        c.post_form(&format!("/admin/company-info/{id}/delete"), &[])
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn the_smtp_password_is_write_only_and_stored_encrypted() {
    let (app, _fx, _kim) = start().await;
    let c = app.login("admin").await;
    let page = c.get("/admin/mail").await;
    assert_eq!(page.status, 200);
    assert!(page.has("input[name=host][value='127.0.0.1']"));
    assert!(page.has("select[name=tls_mode] option[value=plain][selected]"));

    let port = app.smtp.port.to_string();
    let good = |pw: &'static str, port: &str| {
        vec![
            ("host", "127.0.0.1".to_string()),
            ("port", port.to_string()),
            ("tls_mode", "plain".into()),
            ("username", "mailer".into()),
            ("password", pw.into()),
            ("from_address", "help@acme.test".into()),
            ("from_name", "Acme Help".into()),
        ]
    };
    let send = |fields: Vec<(&'static str, String)>| {
        let c = &c;
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.post_form("/admin/mail", &pairs).await
        }
    };
    for (bad_port, msg) in [
        ("70000", "Enter a port between 1 and 65535."),
        ("0", "Enter a port between 1 and 65535."),
        ("abc", "Enter a port between 1 and 65535."),
    ] {
        let r = send(good("x", bad_port)).await;
        assert_eq!(r.status, 422, "{bad_port}");
        assert_eq!(r.field_error("port"), msg);
    }
    let mut bad = good("x", &port);
    bad[5].1 = "nope".into();
    bad[0].1 = "smtp host".into();
    bad[2].1 = "ssl3".into();
    let r = send(bad).await;
    assert_eq!(
        r.field_error("from_address"),
        "Enter a valid e-mail address."
    );
    assert!(!r.field_error("host").is_empty());
    assert_eq!(r.field_error("tls_mode"), "Choose one of the options.");

    let secret_pw = "Sm7p-Pa55word!";
    let r = send(good(secret_pw, &port)).await;
    let page = follow(&c, &r).await;
    assert_eq!(flash(&page), "The mail server settings were saved.");
    assert!(!page.text.contains(secret_pw), "never rendered back");
    assert!(page.has("input[name=password][value='']"));
    assert!(page.has("input[name=clear_password]"));
    let stored: Option<String> = app.db(|c| {
        smtp_settings::table
            .select(smtp_settings::password_enc)
            .first(c)
    });
    let stored = stored.expect("a stored password");
    assert!(!stored.contains(secret_pw));
    assert_eq!(
        app.state.secret.decrypt(&stored).as_deref(),
        Some(secret_pw)
    );

    // A blank password keeps the stored one; the bad form is not echoed either.
    let r = send(good("", &port)).await;
    assert_eq!(r.status, 303);
    let again: Option<String> = app.db(|c| {
        smtp_settings::table
            .select(smtp_settings::password_enc)
            .first(c)
    });
    assert_eq!(
        app.state.secret.decrypt(&again.unwrap()).as_deref(),
        Some(secret_pw)
    );
    let mut bad = good(secret_pw, "99999");
    bad.truncate(7);
    let r = send(bad).await;
    assert_eq!(r.status, 422);
    assert!(!r.text.contains(secret_pw));

    // Removing it.
    let mut clear = good("", &port);
    clear.push(("clear_password", "on".into()));
    let r = send(clear).await;
    assert_eq!(r.status, 303);
    let none: Option<String> = app.db(|c| {
        smtp_settings::table
            .select(smtp_settings::password_enc)
            .first(c)
    });
    assert_eq!(none, None);
}

#[actix_web::test]
async fn a_test_mail_reports_success_or_the_exact_smtp_error() {
    let (app, _fx, _kim) = start().await;
    let c = app.login("admin").await;
    let page = c.get("/admin/mail").await;
    assert!(page.has("input[name=to][value='admin@acme.test']"));
    let bad = c.post_form("/admin/mail/test", &[("to", "nope")]).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.field_error("to"), "Enter a valid e-mail address.");

    let r = c
        .post_form("/admin/mail/test", &[("to", "ops@acme.test")])
        .await;
    let page = follow(&c, &r).await;
    assert_eq!(
        flash(&page),
        "The test mail was accepted by the server for ops@acme.test."
    );
    let mails = app.smtp.wait_for(1).await;
    assert_eq!(mails[0].to, ["ops@acme.test"]);
    assert_eq!(mails[0].subject(), "[Acme] Test mail from OpenContact");
    assert!(mails[0].text().contains("127.0.0.1"));

    app.smtp.set_refuse(true);
    let r = c
        .post_form("/admin/mail/test", &[("to", "ops@acme.test")])
        .await;
    assert_eq!(r.status, 422);
    let err = r.field_error("test");
    assert!(err.starts_with("The test mail could not be sent:"), "{err}");
    assert!(
        err.contains("554") && err.contains("refused by test sink"),
        "{err}"
    );

    // Without any settings.
    app.db(|c| diesel::delete(smtp_settings::table).execute(c));
    let r = c
        .post_form("/admin/mail/test", &[("to", "ops@acme.test")])
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.field_error("test")
            .starts_with("No mail server is configured")
    );
}

fn insert_audit(app: &TestApp, op: &str, actor: &str, target: &str, at: &str) {
    let at = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M").unwrap();
    let (op, actor, target) = (op.to_string(), actor.to_string(), target.to_string());
    app.db(move |c| {
        diesel::insert_into(permission_audit::table)
            .values((
                permission_audit::service_id.eq(None::<i64>),
                permission_audit::service_code.eq("demo"),
                permission_audit::actor_id.eq(None::<i64>),
                permission_audit::actor_name.eq(actor),
                permission_audit::target_id.eq(None::<i64>),
                permission_audit::target_name.eq(target),
                permission_audit::operation.eq(op),
                permission_audit::before_value.eq("agent"),
                permission_audit::after_value.eq("admin"),
                permission_audit::created_at.eq(at),
            ))
            .execute(c)
    });
}

#[actix_web::test]
async fn the_audit_log_filters_by_period_operation_and_name() {
    let (app, _fx, _kim) = start().await;
    insert_audit(
        &app,
        "agent_role_changed",
        "Ada Admin",
        "Kim Agent",
        "2026-01-10 09:05",
    );
    insert_audit(
        &app,
        "agent_added",
        "Ada Admin",
        "Lee Second",
        "2026-01-11 23:59",
    );
    insert_audit(
        &app,
        "menu_restricted",
        "Park Boss",
        "Kim Agent",
        "2026-02-01 00:00",
    );
    let c = app.login("admin").await;
    let page = c.get("/admin/audit").await;
    assert_eq!(page.status, 200);
    let rows = page.texts("#audit tbody tr");
    assert_eq!(rows.len(), 3);
    let first = page.texts("#audit tbody tr:first-child td");
    assert_eq!(
        first,
        [
            "2026-02-01 00:00",
            "demo",
            "Menu access restricted",
            "Park Boss",
            "Kim Agent",
            "Agent → Administrator"
        ]
    );
    // Every operation the log can hold is offered in the filter, translated.
    let options = page.texts("#f-op option");
    assert_eq!(options.len(), opencontact::org::audit::OPERATIONS.len() + 1);
    assert!(options.contains(&"Organization administrator granted".to_string()));

    let count = |r: &Resp| r.texts("#audit tbody tr").len();
    let r = c.get("/admin/audit?from=2026-01-11&to=2026-01-31").await;
    assert_eq!(count(&r), 1);
    assert!(r.text.contains("Lee Second"));
    let r = c.get("/admin/audit?to=2026-01-11").await;
    assert_eq!(count(&r), 2, "the end date is inclusive");
    let r = c.get("/admin/audit?op=agent_role_changed").await;
    assert_eq!(count(&r), 1);
    let r = c.get("/admin/audit?name=kim").await;
    assert_eq!(count(&r), 2, "target names match");
    let r = c.get("/admin/audit?name=PARK").await;
    assert_eq!(count(&r), 1, "actor names match");
    let r = c.get("/admin/audit?name=kim&op=menu_restricted").await;
    assert_eq!(count(&r), 1);

    let r = c.get("/admin/audit?from=01/02/2026").await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("from"), "Enter a date as YYYY-MM-DD.");
    let r = c.get("/admin/audit?from=2026-02-02&to=2026-02-01").await;
    assert_eq!(
        r.field_error("to"),
        "The end date is before the start date."
    );
    let r = c.get("/admin/audit?op=drop_tables").await;
    assert_eq!(r.field_error("op"), "Choose one of the options.");

    // Keyset pages of 50, newest first.
    for i in 0..60 {
        insert_audit(
            &app,
            "agent_permissions_changed",
            "Bulk",
            &format!("T{i:02}"),
            "2026-03-01 10:00",
        );
    }
    let r = c.get("/admin/audit?op=agent_permissions_changed").await;
    assert_eq!(count(&r), 50);
    assert!(r.texts("#audit tbody tr:first-child td")[4] == "T59");
    let next = r
        .doc()
        .select(&scraper::Selector::parse("a[rel=next]").unwrap())
        .next()
        .and_then(|a| a.value().attr("href").map(str::to_string))
        .expect("next page link");
    assert!(next.contains("op=agent_permissions_changed") && next.contains("before="));
    let r2 = c.get(&next).await;
    assert_eq!(count(&r2), 10);
    assert_eq!(r2.texts("#audit tbody tr:last-child td")[4], "T00");
    assert!(!r2.has("a[rel=next]"));
}

#[actix_web::test]
async fn pages_are_localised() {
    let (app, _fx, _kim) = start().await;
    let c = app.login("admin").await;
    for (lang, title) in [("ko", "감사 로그"), ("ja", "監査ログ")] {
        c.get(&format!("/lang/{lang}?next=/admin/audit")).await;
        let r = c.get("/admin/audit").await;
        assert!(r.texts("h1").contains(&title.to_string()), "{lang}");
    }
}
