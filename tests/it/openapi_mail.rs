//! The e-mail settings of the Open API (API.md §7.10, P28–P36) through the contract client:
//! the representative account, the mail settings, and external IMAP accounts verified against
//! the private Dovecot; every refusal's code; the gates. Also the database-backed replay guard,
//! the receipt mail of API-created tickets (P14, L14) and the session cookie's attributes.

use diesel::prelude::*;
use opencontact::channels::email::accounts::MailAccount;
use opencontact::db::schema::{
    api_replay_guard, api_settings, mail_accounts, mail_layouts, mail_outbox, mail_sender_info,
    services, tickets,
};
use opencontact::db::types::{EditorType, ServiceKind};
use opencontact::i18n::Lang;
use opencontact::tenancy::service::{NewService, Service};
use reqwest::Method;
use serde_json::{Value, json};

use crate::openapi::seed;
use crate::openapi_client::{Api, canonical, now_ms, signature};
use crate::support::TestApp;
use crate::support::imap::{Mailbox, new_mailbox};

fn account_body(mb: &Mailbox, name: &str) -> Value {
    json!({
        "name": name, "host": mb.host, "port": mb.port, "ssl": false,
        "mail": mb.user, "password": mb.password, "mailDel": false
    })
}

fn outbox_rows(app: &TestApp) -> i64 {
    app.db(|c| mail_outbox::table.count().get_result(c))
}

fn layout_rows(app: &TestApp) -> Vec<(String, String, String, String)> {
    app.db(|c| {
        mail_layouts::table
            .order((mail_layouts::kind, mail_layouts::lang))
            .select((
                mail_layouts::kind,
                mail_layouts::lang,
                mail_layouts::subject,
                mail_layouts::html_body,
            ))
            .load(c)
    })
}

#[actix_web::test]
async fn mail_settings_and_the_representative_account() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let api = Api::enable(&app, fx.service_id, "demo");
    let settings = api.path("/openapi/v1/mail.json");

    // A fresh service: the relay's sender, no representative account, no accounts.
    let r = api.sget(&settings).await;
    r.assert_ok();
    let c = r.content().clone();
    assert_eq!(c["displayMail"], "support@acme.test");
    assert_eq!(c["name"], "Acme Support");
    assert_eq!(c["mail"], Value::Null);
    assert_eq!(c["external"], json!({}));
    assert!(c["template"].as_str().unwrap().contains("#{content}"));
    assert!(c["updatedDt"].as_i64().unwrap() > 1_600_000_000_000);

    // P28: once; the address is on the relay's domain.
    let create = |local: &str| api.path(&format!("/openapi/v1/mail/create.json?mail={local}"));
    api.spost(&create("a%20b"), &json!({}))
        .await
        .assert_failure(400, 400);
    let r = api
        .signed_with(
            Method::POST,
            &api.path("/openapi/v1/mail/create.json"),
            None,
            b"",
            &now_ms().to_string(),
            &[],
        )
        .await;
    r.assert_failure(400, 400);
    assert_eq!(r.message(), "mail is required");
    api.spost(&create(&"x".repeat(65)), &json!({}))
        .await
        .assert_failure(400, 400);
    let r = api
        .signed_with(
            Method::POST,
            &create("Help"),
            None,
            b"",
            &now_ms().to_string(),
            &[],
        )
        .await;
    r.assert_ok();
    assert_eq!(r.content()["mail"], "help@acme.test");
    assert_eq!(r.content()["displayMail"], "support@acme.test");
    let r = api.spost(&create("sales"), &json!({})).await;
    assert_eq!((r.code(), r.status), (9007, 200), "cannot be changed");
    assert_eq!(
        api.sget(&settings).await.content()["mail"],
        "help@acme.test"
    );
    // It is one of the installation's own addresses: mail from it is never imported.
    let own = app.db(MailAccount::all_addresses);
    assert!(own.contains(&"help@acme.test".to_string()), "{own:?}");
    // The address belongs to one service.
    let new = NewService {
        code: "other".into(),
        kind: ServiceKind::Consultation,
        name: "Other".into(),
        languages: vec![Lang::En],
        default_lang: Lang::En,
        timezone: "UTC".into(),
        editor_type: EditorType::Html,
    };
    let other = app
        .state
        .db
        .write_blocking(|c| Service::create(c, &new))
        .unwrap();
    let other_api = Api::enable(&app, other, "other");
    let r = other_api
        .spost(
            &other_api.path("/openapi/v1/mail/create.json?mail=help"),
            &json!({}),
        )
        .await;
    assert_eq!(r.code(), 9007);
    other_api
        .spost(
            &other_api.path("/openapi/v1/mail/create.json?mail=other.help"),
            &json!({}),
        )
        .await
        .assert_ok();

    // P30: sender and layout in one transaction.
    let before_layouts = layout_rows(&app);
    let bad: Vec<(Value, &str)> = vec![
        (
            json!({"template": "<p>No content code</p>"}),
            "template must contain #{content}",
        ),
        (
            json!({"name": "n".repeat(46)}),
            "name is too long (at most 45 characters)",
        ),
        (json!({"name": "Acme\nBcc: x@y.z"}), "name is invalid"),
        (
            json!({"displayMail": "not-an-address"}),
            "displayMail is invalid",
        ),
        (json!({"name": 5}), "name is invalid"),
        (
            json!({"template": ["<p>#{content}</p>"]}),
            "template is invalid",
        ),
        (
            json!({"name": "Fine", "template": "x".repeat(100_001) + "#{content}"}),
            "template is too long (at most 100000 characters)",
        ),
        (
            json!({"name": "Fine", "template": "<p>   </p>"}),
            "template is required",
        ),
    ];
    for (body, message) in bad {
        let r = api.spost(&settings, &body).await;
        r.assert_failure(400, 400);
        assert_eq!(r.message(), message, "{body}");
    }
    // Malformed JSON and a non-object body.
    let r = api
        .signed_with(
            Method::POST,
            &settings,
            Some("application/json"),
            b"{\"name\":",
            &now_ms().to_string(),
            &[],
        )
        .await;
    r.assert_failure(400, 400);
    api.spost(&settings, &json!(["x"]))
        .await
        .assert_failure(400, 400);
    let saved: i64 = app.db(|c| mail_sender_info::table.count().get_result(c));
    assert_eq!(saved, 0, "nothing saved");
    assert_eq!(layout_rows(&app), before_layouts);

    let body = json!({"name": "Acme Help", "displayMail": "help@acme.example",
        "template": "<div class=\"x\"><p>Dear customer,</p><p>#{content}</p><script>x()</script></div>"});
    let r = api.spost(&settings, &body).await;
    r.assert_ok();
    assert_eq!(r.json["result"], Value::Null);
    let c = api.sget(&settings).await.content().clone();
    assert_eq!(c["name"], "Acme Help");
    assert_eq!(c["displayMail"], "help@acme.example");
    let template = c["template"].as_str().unwrap();
    assert!(template.contains("#{content}") && template.contains("Dear customer"));
    assert!(!template.contains("script"), "sanitised: {template}");
    // The layout is every kind's, each keeping its subject; the text part follows the HTML.
    let rows = layout_rows(&app);
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        rows.iter()
            .all(|(_, _, subject, html)| !subject.is_empty() && html == template)
    );
    // Members left out keep their values; an empty address falls back to the relay's.
    api.spost(&settings, &json!({"displayMail": ""}))
        .await
        .assert_ok();
    let c = api.sget(&settings).await.content().clone();
    assert_eq!(c["name"], "Acme Help");
    assert_eq!(c["displayMail"], "support@acme.test");
    assert_eq!(c["template"].as_str().unwrap(), template);

    // The same settings show on the pages.
    let admin = app.login("admin").await;
    let page = admin.get("/demo/console/settings/mail-layouts").await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Acme Help"));
    let page = admin.get("/demo/console/settings/mail-accounts").await;
    assert_eq!(
        page.texts("#representative .representative-address"),
        vec!["help@acme.test".to_string()]
    );
    assert!(!page.has("#representative form"), "cannot be changed");
}

#[actix_web::test]
async fn the_representative_account_can_be_created_once_on_the_page() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let accounts = "/demo/console/settings/mail-accounts";
    let create = "/demo/console/settings/mail-representative";
    let page = admin.get(accounts).await;
    assert_eq!(page.status, 200);
    assert!(page.has("#representative form input[name=local]"));
    assert!(page.text.contains("@acme.test"));
    let r = admin.post_form(create, &[("local", "bad address")]).await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("local").is_empty());
    let r = admin.post_form(create, &[("local", "Support")]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = admin.get(accounts).await;
    assert!(page.text.contains("support@acme.test"));
    let r = admin.post_form(create, &[("local", "other")]).await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("local").contains("already has"));
    // The Open API sees the same account.
    let api = Api::enable(&app, fx.service_id, "demo");
    let c = api.sget(&api.path("/openapi/v1/mail.json")).await;
    assert_eq!(c.content()["mail"], "support@acme.test");

    // Denials: agents, signed-out visitors, a POST without CSRF token.
    let agent = app.create_member("agent", "Agent A", false);
    app.add_to_service(fx.service_id, agent, "agent");
    let a = app.login("agent").await;
    assert_eq!(a.post_form(create, &[("local", "x")]).await.status, 403);
    assert_eq!(
        app.client()
            .post_form_raw(create, &[("local", "x")], &[])
            .await
            .status,
        403
    );
    assert_eq!(
        admin
            .post_form_raw(create, &[("local", "x")], &[])
            .await
            .status,
        403
    );
}

#[actix_web::test]
async fn external_accounts_are_verified_registered_and_managed() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let api = Api::enable(&app, fx.service_id, "demo");
    let mb = new_mailbox();
    let verify = api.path("/openapi/v1/mail/external/verify.json");
    let register = api.path("/openapi/v1/mail/external.json");

    // P31: a good mailbox verifies; each failing step is named.
    let r = api.spost(&verify, &account_body(&mb, "Sales inbox")).await;
    r.assert_ok();
    assert_eq!(r.content(), "SUCCESS");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let steps: Vec<(&str, Value, &str)> = vec![
        (
            "password",
            json!(format!("{}-wrong", mb.password)),
            "refused the sign-in",
        ),
        ("host", json!("no-such-host.invalid"), "could not be found"),
        ("port", json!(closed_port), "Could not connect"),
        ("ssl", json!(true), "secure (SSL) connection"),
    ];
    for (key, value, expected) in &steps {
        let mut b = account_body(&mb, "Sales inbox");
        b[key] = value.clone();
        let r = api.spost(&verify, &b).await;
        r.assert_failure(400, 400);
        assert!(r.message().contains(expected), "{key}: {}", r.message());
        assert_eq!(r.content()["exception"], "OcException");
    }
    // Bad input is refused before connecting.
    let bad: Vec<(&str, Value, &str)> = vec![
        ("name", json!(""), "name is invalid"),
        ("name", json!("n".repeat(21)), "name is invalid"),
        ("host", json!("bad host!"), "host is invalid"),
        ("port", json!(70000), "port is invalid"),
        ("port", json!("abc"), "port is invalid"),
        ("port", json!(true), "port is invalid"),
        ("ssl", json!("maybe"), "ssl is invalid"),
        ("mail", json!("not-an-address"), "mail is invalid"),
        ("password", json!("p".repeat(257)), "password is invalid"),
        ("mailDel", json!(3), "mailDel is invalid"),
        ("password", Value::Null, "password is required"),
    ];
    for (key, value, expected) in &bad {
        let mut b = account_body(&mb, "Sales inbox");
        b[key] = value.clone();
        let r = api.spost(&register, &b).await;
        r.assert_failure(400, 400);
        assert!(r.message().starts_with(expected), "{key}: {}", r.message());
    }
    for missing in ["name", "host", "port", "ssl", "mail", "mailDel"] {
        let mut b = account_body(&mb, "Sales inbox");
        b.as_object_mut().unwrap().remove(missing);
        let r = api.spost(&register, &b).await;
        r.assert_failure(400, 400);
        assert_eq!(r.message(), format!("{missing} is required"));
    }
    // A wrong password is refused at registration too; nothing is saved.
    let mut b = account_body(&mb, "Sales inbox");
    b["password"] = json!("wrong");
    let r = api.spost(&register, &b).await;
    r.assert_failure(400, 400);
    assert!(r.message().contains("refused the sign-in"));
    let count: i64 = app.db(|c| mail_accounts::table.count().get_result(c));
    assert_eq!(count, 0);

    // P32: registered enabled, password masked and stored encrypted.
    let mut b = account_body(&mb, "Sales inbox");
    b["id"] = json!(12345);
    b["active"] = json!(false);
    let r = api.spost(&register, &b).await;
    r.assert_ok();
    let acc = r.content().clone();
    let id = acc["id"].as_i64().unwrap();
    assert_ne!(id, 12345);
    assert_eq!(acc["active"], true, "active is ignored on registration");
    assert_eq!(acc["password"], "********");
    assert_eq!(acc["name"], "Sales inbox");
    assert_eq!(acc["mail"], mb.user.as_str());
    assert_eq!(acc["port"], mb.port);
    assert_eq!(acc["ssl"], false);
    assert_eq!(acc["mailDel"], false);
    assert!(acc["createdDt"].as_i64().unwrap() > 0);
    let enc: String = app.db(move |c| {
        mail_accounts::table
            .find(id)
            .select(mail_accounts::password_enc)
            .first(c)
    });
    assert!(!enc.contains(&mb.password));
    // The same mailbox again: 9007. It shows in the settings and on the page.
    let r = api.spost(&register, &account_body(&mb, "Again")).await;
    assert_eq!((r.code(), r.status), (9007, 200));
    let settings = api.sget(&api.path("/openapi/v1/mail.json")).await;
    let ext = &settings.content()["external"][id.to_string()];
    assert_eq!(ext["name"], "Sales inbox");
    assert_eq!(ext["password"], "********");
    assert!(
        !settings
            .bytes
            .windows(mb.password.len())
            .any(|w| w == mb.password.as_bytes())
    );
    let admin = app.login("admin").await;
    let page = admin.get("/demo/console/settings/mail-accounts").await;
    assert_eq!(page.texts("#accounts .address"), vec![mb.user.clone()]);

    // P31 with the account's ID verifies with the stored password.
    let r = api
        .spost(
            &verify,
            &json!({"id": id, "name": "Sales inbox", "host": mb.host, "port": mb.port,
                "ssl": false, "mail": mb.user, "password": "********", "mailDel": false}),
        )
        .await;
    r.assert_ok();
    api.spost(&verify, &json!({"id": 999_999}))
        .await
        .assert_failure(404, 404);

    // P33: update with the masked password keeps it; a wrong one changes nothing.
    let one = api.path(&format!("/openapi/v1/mail/external/{id}.json"));
    let mut b = account_body(&mb, "Sales KR");
    b["password"] = json!("********");
    b["mailDel"] = json!(true);
    let r = api.sjson(Method::PUT, &one, &b).await;
    r.assert_ok();
    assert_eq!(r.content()["name"], "Sales KR");
    assert_eq!(r.content()["mailDel"], true);
    assert_eq!(r.content()["id"], id);
    assert_eq!(r.content()["active"], true);
    let mut b = account_body(&mb, "Broken");
    b["password"] = json!("wrong");
    let r = api.sjson(Method::PUT, &one, &b).await;
    r.assert_failure(400, 400);
    assert!(r.message().contains("refused the sign-in"));
    let name: String = app.db(move |c| {
        mail_accounts::table
            .find(id)
            .select(mail_accounts::display_name)
            .first(c)
    });
    assert_eq!(name, "Sales KR");
    // Only some members: the rest are kept; `active` disables.
    let r = api
        .sjson(
            Method::PUT,
            &one,
            &json!({"name": "Sales", "active": false}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.content()["name"], "Sales");
    assert_eq!(r.content()["active"], false);
    assert_eq!(r.content()["mailDel"], true);
    for bad_id in ["999999", "abc"] {
        api.sjson(
            Method::PUT,
            &api.path(&format!("/openapi/v1/mail/external/{bad_id}.json")),
            &account_body(&mb, "x"),
        )
        .await
        .assert_failure(404, 404);
    }

    // P34/P35/P36: only a disabled account is deleted.
    let enable = api.path(&format!("/openapi/v1/mail/external/{id}/enable.json"));
    let disable = api.path(&format!("/openapi/v1/mail/external/{id}/disable.json"));
    let r = api.sjson(Method::PUT, &enable, &json!({})).await;
    r.assert_ok();
    assert_eq!(r.content()["active"], true);
    assert_eq!(r.content()["password"], "********");
    let r = api
        .signed_with(Method::DELETE, &one, None, b"", &now_ms().to_string(), &[])
        .await;
    r.assert_failure(400, 400);
    assert_eq!(r.message(), "Disable the account before deleting it.");
    let r = api
        .signed_with(Method::PUT, &disable, None, b"", &now_ms().to_string(), &[])
        .await;
    r.assert_ok();
    assert_eq!(r.content()["active"], false);
    let r = api
        .signed_with(Method::DELETE, &one, None, b"", &now_ms().to_string(), &[])
        .await;
    r.assert_ok();
    assert_eq!(r.content(), "SUCCESS");
    let count: i64 = app.db(|c| mail_accounts::table.count().get_result(c));
    assert_eq!(count, 0);
    for (m, p) in [
        (Method::PUT, enable.clone()),
        (Method::PUT, disable.clone()),
        (Method::DELETE, one.clone()),
    ] {
        api.signed_with(m, &p, None, b"", &now_ms().to_string(), &[])
            .await
            .assert_failure(404, 404);
    }
    // A full service: 400 before any connection is tried.
    let secret = app.state.secret.clone();
    let sid = fx.service_id;
    app.state
        .db
        .write_blocking(move |c| {
            for i in 0..20 {
                let input = opencontact::channels::email::accounts::AccountInput {
                    display_name: format!("Box {i}"),
                    host: "imap.example.com".into(),
                    port: 993,
                    use_ssl: true,
                    address: format!("box{i}@example.com"),
                    password: Some("secret".into()),
                    delete_after_import: false,
                };
                let id = MailAccount::create(c, &secret, sid, &input, 1, 0)?;
                MailAccount::set_enabled(c, id, false)?;
            }
            Ok(())
        })
        .unwrap();
    let r = api.spost(&register, &account_body(&mb, "One more")).await;
    r.assert_failure(400, 400);
    assert_eq!(
        r.message(),
        "A service can have at most 20 e-mail accounts."
    );
    let settings = api.sget(&api.path("/openapi/v1/mail.json")).await;
    assert_eq!(
        settings.content()["external"].as_object().unwrap().len(),
        20
    );

    // The account endpoints exist for consultation services only.
    app.db(|c| {
        diesel::update(services::table.find(fx.service_id))
            .set(services::kind.eq("im"))
            .execute(c)
    });
    api.spost(&register, &account_body(&mb, "x"))
        .await
        .assert_failure(404, 404);
    api.sget(&api.path("/openapi/v1/mail.json"))
        .await
        .assert_ok();
}

#[actix_web::test]
async fn the_mail_endpoints_are_gated_and_signed() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let api = Api::enable(&app, fx.service_id, "demo");
    let settings = api.path("/openapi/v1/mail.json");
    let url = format!("{}{}", api.base, settings);
    // Unsigned, and signed with the wrong key.
    let r = api.http.get(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["header"]["resultMessage"], "Authorization is blank");
    let ts = now_ms().to_string();
    let wrong = signature(
        "0".repeat(32).as_str(),
        &canonical(&api.org, &settings, b"", &ts),
    );
    let r = api
        .http
        .post(format!(
            "{}{}",
            api.base,
            api.path("/openapi/v1/mail/create.json?mail=x")
        ))
        .header("Authorization", wrong)
        .header("X-TC-Timestamp", &ts)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["header"]["resultMessage"], "Authorization is incorrect");
    let count: i64 = app.db(|c| {
        opencontact::db::schema::mail_representatives::table
            .count()
            .get_result(c)
    });
    assert_eq!(count, 0);
    // Caller IP not allowed; Open API off; unknown service.
    app.db(|c| {
        diesel::insert_into(api_settings::table)
            .values((
                api_settings::service_id.eq(fx.service_id),
                api_settings::allowed_ips.eq("203.0.113.0/24"),
                api_settings::updated_at.eq(opencontact::db::now()),
            ))
            .execute(c)
    });
    let r = api.sget(&settings).await;
    r.assert_failure(403, 403);
    assert_eq!(r.message(), "clientIp is not allowed");
    app.db(|c| diesel::delete(api_settings::table).execute(c));
    api.sget(&settings).await.assert_ok();
    app.db(|c| {
        diesel::update(services::table.find(fx.service_id))
            .set(services::open_api_enabled.eq(false))
            .execute(c)
    });
    let r = api
        .spost(&api.path("/openapi/v1/mail/external.json"), &json!({}))
        .await;
    r.assert_failure(403, 403);
    assert_eq!(r.message(), "securityKey is null");
    api.sget("/nosuch/openapi/v1/mail.json")
        .await
        .assert_failure(404, 404);
}

#[actix_web::test]
async fn a_replayed_signature_is_refused_by_every_process_sharing_the_database() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let api = Api::enable(&app, fx.service_id, "demo");
    let settings = api.path("/openapi/v1/mail.json");
    let url = format!("{}{}", api.base, settings);
    let send = |auth: String, ts: String| {
        let req = api
            .http
            .get(&url)
            .header("Authorization", auth)
            .header("X-TC-Timestamp", ts);
        async move {
            let r = req.send().await.unwrap();
            let j: Value = r.json().await.unwrap();
            (
                j["header"]["resultCode"].as_i64(),
                j["header"]["resultMessage"].clone(),
            )
        }
    };
    let ts = now_ms().to_string();
    let auth = signature(&api.key, &canonical(&api.org, &settings, b"", &ts));
    assert_eq!(send(auth.clone(), ts.clone()).await.0, Some(200));
    let (code, message) = send(auth.clone(), ts.clone()).await;
    assert_eq!(code, Some(400));
    assert_eq!(message, "X-TC-Timestamp is already used");
    let stored: Vec<(String, chrono::NaiveDateTime)> = app.db(|c| {
        api_replay_guard::table
            .select((
                api_replay_guard::signature_hash,
                api_replay_guard::expires_at,
            ))
            .load(c)
    });
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0.len(), 64, "only a hash is stored");
    assert!(!stored[0].0.contains(&auth));
    let left = stored[0].1.and_utc().timestamp_millis() - now_ms();
    assert!(
        (4 * 60_000..=7 * 60_000).contains(&left),
        "kept for the window: {left}"
    );

    // A signature another process accepted (its row in the shared table) is refused here.
    let ts2 = (now_ms() + 1).to_string();
    let auth2 = signature(&api.key, &canonical(&api.org, &settings, b"", &ts2));
    let key = opencontact::openapi::signing::replay_key(&format!("svc{}", fx.service_id), &auth2);
    app.db(move |c| {
        diesel::insert_into(api_replay_guard::table)
            .values((
                api_replay_guard::signature_hash.eq(key),
                api_replay_guard::expires_at
                    .eq(opencontact::db::now() + chrono::TimeDelta::minutes(5)),
            ))
            .execute(c)
    });
    assert_eq!(send(auth2, ts2).await.0, Some(400));
    // A failed signature is not recorded.
    let ts3 = now_ms().to_string();
    assert_eq!(send("AAAA".into(), ts3).await.0, Some(400));
    let rows: i64 = app.db(|c| api_replay_guard::table.count().get_result(c));
    assert_eq!(rows, 2);
}

/// The create body of P14 for the seed's intake types.
fn ticket_body(category: i64, email: &str) -> Value {
    json!({
        "categoryId": category,
        "subject": "Refund not received",
        "content": "I returned the item two weeks ago.",
        "endUser": {"email": email, "username": "Ann Lee"},
        "language": "en",
        "userFields": [{"code": "orderNumber", "value": "A-1001"}]
    })
}

fn receipts(app: &TestApp) -> Vec<(Option<i64>, String, String)> {
    app.db(|c| {
        mail_outbox::table
            .filter(mail_outbox::purpose.eq("receipt"))
            .order(mail_outbox::id.asc())
            .select((
                mail_outbox::ticket_id,
                mail_outbox::to_addr,
                mail_outbox::subject,
            ))
            .load(c)
    })
}

#[actix_web::test]
async fn api_created_tickets_get_the_receipt_mail() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let api = Api::enable(&app, s.sid, "demo");

    // P14: the help center's receipt, through the outbox, delivered by the worker.
    let r = api
        .spost(
            &api.path("/openapi/v1/ticket.json"),
            &ticket_body(s.refunds, "ann@example.com"),
        )
        .await;
    r.assert_ok();
    let public_id = r.content()["ticketId"].as_str().unwrap().to_string();
    let mails = app.smtp.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["ann@example.com".to_string()]);
    let subject = mails[0].subject();
    assert!(subject.ends_with(&format!("[#{public_id}]")), "{subject}");
    assert!(subject.contains("Refund not received"), "{subject}");
    let ticket_id: i64 = app.db(|c| {
        tickets::table
            .filter(tickets::public_id.eq(&public_id))
            .select(tickets::id)
            .first(c)
    });
    assert_eq!(receipts(&app)[0].0, Some(ticket_id));

    // A refused creation queues nothing.
    let before = outbox_rows(&app);
    let mut b = ticket_body(s.refunds, "ann@example.com");
    b["userFields"] = json!([]);
    api.spost(&api.path("/openapi/v1/ticket.json"), &b)
        .await
        .assert_failure(400, 400);
    assert_eq!(outbox_rows(&app), before);

    // L14: with an e-mail address a receipt, without one none.
    let add = api.path("/openapi/v1/ticket/add.json");
    let r = api
        .spost(
            &add,
            &json!({"subject": "Legacy question", "content": "Hello",
                "endUser": {"usercode": "user-9", "email": "bob@example.com", "username": "Bob"}}),
        )
        .await;
    r.assert_ok();
    let legacy_id = r.content()["ticketId"].as_str().unwrap().to_string();
    let mails = app.smtp.wait_for(2).await;
    let legacy = mails
        .iter()
        .find(|m| m.to == vec!["bob@example.com".to_string()])
        .expect("legacy receipt");
    assert!(legacy.subject().ends_with(&format!("[#{legacy_id}]")));
    api.spost(
        &add,
        &json!({"subject": "No mail", "content": "x", "endUser": {"usercode": "user-10"}}),
    )
    .await
    .assert_ok();
    assert_eq!(receipts(&app).len(), 2);
}

/// The application over a fresh database with the given cookie security, for in-process
/// requests (no server).
async fn app_with(
    secure: bool,
) -> (
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    tempfile::TempDir,
    Option<crate::support::PgDatabase>,
) {
    let dir = tempfile::tempdir().unwrap();
    let pg = crate::support::PgDatabase::create();
    let database_url = match &pg {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}", dir.path().join("c.db").display()),
    };
    let config = opencontact::Config {
        database_url,
        bind: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        base_url: if secure {
            "https://help.example.com".into()
        } else {
            "http://127.0.0.1:8080".into()
        },
        trust_forwarded: false,
        secure_cookies: secure,
        timeouts: crate::support::test_timeouts(),
        job_poll_every: opencontact::config::DEFAULT_JOB_POLL_EVERY,
    };
    let secret = opencontact::SecretKey::load_or_create(&config.data_dir).unwrap();
    let db = opencontact::Db::connect(&config.database_url, 2).unwrap();
    db.migrate().unwrap();
    let state = actix_web::web::Data::new(opencontact::AppState { db, config, secret });
    let svc = actix_web::test::init_service(opencontact::app(state)).await;
    (svc, dir, pg)
}

fn session_cookie(headers: &actix_web::http::header::HeaderMap) -> String {
    headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("oc_session="))
        .expect("session cookie")
        .to_string()
}

#[actix_web::test]
async fn the_session_cookie_survives_foreign_iframes_only_over_https() {
    use actix_web::test::{TestRequest, call_service, read_body};

    // HTTPS: SameSite=None; Secure (a help center framed by another site keeps its session).
    let (svc, _dir, _pg) = app_with(true).await;
    let resp = call_service(&svc, TestRequest::get().uri("/setup").to_request()).await;
    let cookie = session_cookie(resp.headers());
    assert!(cookie.contains("SameSite=None"), "{cookie}");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    // The CSRF check does not rely on SameSite: a cross-site POST carrying the cookie and
    // even the right token is refused.
    let html = String::from_utf8_lossy(&read_body(resp).await).into_owned();
    let token = scraper::Html::parse_document(&html)
        .select(&scraper::Selector::parse("input[name=csrf_token]").unwrap())
        .next()
        .and_then(|e| e.value().attr("value").map(str::to_string))
        .expect("csrf token on the setup page");
    let pair = cookie.split(';').next().unwrap().to_string();
    let post = |site: &'static str| {
        TestRequest::post()
            .uri("/setup")
            .insert_header(("Cookie", pair.clone()))
            .insert_header(("Sec-Fetch-Site", site))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(format!("csrf_token={token}&org_name="))
            .to_request()
    };
    let refused = call_service(&svc, post("cross-site")).await;
    assert_eq!(refused.status().as_u16(), 403);
    let same = call_service(&svc, post("same-origin")).await;
    assert_ne!(
        same.status().as_u16(),
        403,
        "the same request from the page passes"
    );

    // Plain HTTP: SameSite=Lax without Secure (browsers drop SameSite=None without Secure).
    let (svc, _dir2, _pg2) = app_with(false).await;
    let resp = call_service(&svc, TestRequest::get().uri("/setup").to_request()).await;
    let cookie = session_cookie(resp.headers());
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[actix_web::test]
async fn the_mail_endpoints_are_documented() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let api = Api::enable(&app, fx.service_id, "demo");
    let doc = api.get("/api-docs/openapi.json").await;
    let paths = &doc.json["paths"];
    let create = &paths["/{serviceId}/openapi/v1/mail/create.json"]["post"];
    assert!(
        create["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "mail" && p["in"] == "query")
    );
    let register = &paths["/{serviceId}/openapi/v1/mail/external.json"]["post"];
    let schema = &register["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(
        schema["required"],
        json!(["name", "host", "port", "ssl", "mail", "password", "mailDel"])
    );
    assert_eq!(schema["properties"]["name"]["maxLength"], 20);
    for (path, method) in [
        ("/{serviceId}/openapi/v1/mail.json", "get"),
        ("/{serviceId}/openapi/v1/mail.json", "post"),
        ("/{serviceId}/openapi/v1/mail/external/verify.json", "post"),
        ("/{serviceId}/openapi/v1/mail/external/{id}.json", "put"),
        ("/{serviceId}/openapi/v1/mail/external/{id}.json", "delete"),
        (
            "/{serviceId}/openapi/v1/mail/external/{id}/enable.json",
            "put",
        ),
        (
            "/{serviceId}/openapi/v1/mail/external/{id}/disable.json",
            "put",
        ),
    ] {
        let op = &paths[path][method];
        assert_eq!(op["tags"][0], "E-mail settings", "{method} {path}");
        assert_eq!(op["security"][0]["serviceSignature"], json!([]));
    }
    let admin = app.login("admin").await;
    let page = admin.get("/demo/console/settings/authentication/api").await;
    let listed = page.texts("table.api-endpoints code");
    for p in [
        "/demo/openapi/v1/mail/create.json",
        "/demo/openapi/v1/mail/external/verify.json",
        "/demo/openapi/v1/mail/external/{id}/disable.json",
    ] {
        assert!(listed.iter().any(|l| l == p), "{p} in {listed:?}");
    }
}
