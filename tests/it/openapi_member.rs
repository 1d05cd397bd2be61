//! Member integration: the settings page, the member token (documented vector), the POST-type
//! remote logins for browsers and servers, the GET type with the customer's verification URL
//! (a real HTTP server started here), the entry hand-offs, the members-only inquiry form, and
//! addition data reaching a help-center ticket.

use diesel::prelude::*;
use opencontact::db::schema::{
    api_additions, api_ticket_meta, categories, customers, field_defs, member_settings,
    ticket_entries, tickets,
};
use reqwest::multipart::Form;
use serde_json::{Value, json};

use crate::openapi_client::{Api, member_token, now_ms};
use crate::support::{Client, TestApp};

const SETTINGS: &str = "/demo/console/help-center/member-integration";

fn org_key(app: &TestApp) -> String {
    let secret = app.state.secret.clone();
    app.state
        .db
        .write_blocking(move |c| {
            let org = opencontact::tenancy::organization::Organization::find(c)?.unwrap();
            org.org_key(&secret)
        })
        .unwrap()
}

fn configure(app: &TestApp, sid: i64, allow_guest: bool, login_type: &str, verify_url: &str) {
    let (lt, vu) = (login_type.to_string(), verify_url.to_string());
    app.db(move |c| {
        diesel::delete(member_settings::table).execute(c)?;
        diesel::insert_into(member_settings::table)
            .values((
                member_settings::service_id.eq(sid),
                member_settings::enabled.eq(true),
                member_settings::allow_guest.eq(allow_guest),
                member_settings::login_type.eq(lt),
                member_settings::login_url.eq("https://shop.example/login"),
                member_settings::verify_url.eq(vu),
                member_settings::updated_at.eq(opencontact::db::now()),
            ))
            .execute(c)
    });
}

/// A valid help-center inquiry for the service's first intake type.
async fn submit_inquiry(app: &TestApp, client: &Client, sid: i64) -> u16 {
    let f = |code: &str| {
        let code = code.to_string();
        let id: i64 = app.db(move |c| {
            field_defs::table
                .filter(field_defs::service_id.eq(sid))
                .filter(field_defs::code.eq(code))
                .select(field_defs::id)
                .first(c)
        });
        format!("f{id}")
    };
    let category: i64 = app.db(move |c| {
        categories::table
            .filter(categories::service_id.eq(sid))
            .filter(categories::tree.eq("intake"))
            .select(categories::id)
            .first(c)
    });
    let form = Form::new()
        .text(f("name"), "Mina Member")
        .text(f("mail"), "mina@example.com")
        .text(f("subject"), "Where is my order?")
        .text(f("content"), "It has not arrived.")
        .text(f("personalAgree"), "true");
    client
        .post_multipart(&format!("/demo/hc/ticket/?category={category}"), form)
        .await
        .status
}

#[actix_web::test]
async fn the_settings_page_saves_and_validates() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let page = admin.get(SETTINGS).await;
    assert_eq!(page.status, 200);
    assert!(admin.get("/demo/console/").await.text.contains(SETTINGS));
    let r = admin
        .post_form(
            SETTINGS,
            &[
                ("enabled", "1"),
                ("login_type", "post"),
                ("login_url", "https://shop.example/login"),
                ("status_url", "https://shop.example/status"),
                ("extra_params", "sessionKey:header\nlocale:query"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let (enabled, guest, extras): (bool, bool, String) = app.db(|c| {
        member_settings::table
            .find(fx.service_id)
            .select((
                member_settings::enabled,
                member_settings::allow_guest,
                member_settings::extra_params,
            ))
            .first(c)
    });
    assert!(enabled && !guest);
    let extras: Value = serde_json::from_str(&extras).unwrap();
    assert_eq!(extras[0], json!({"name": "sessionKey", "via": "header"}));
    let r = admin
        .post_form(
            SETTINGS,
            &[
                ("enabled", "1"),
                ("login_type", "post"),
                ("login_url", ""),
                ("status_url", "javascript:alert(1)"),
                ("extra_params", "bad name:cookie"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("login_url").is_empty());
    assert!(!r.field_error("status_url").is_empty());
    assert!(!r.field_error("extra_params").is_empty());
    let r = admin
        .post_form(SETTINGS, &[("enabled", "1"), ("login_type", "get")])
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("verify_url").is_empty());

    let agent = app.create_member("agent", "Agent A", false);
    app.add_to_service(fx.service_id, agent, "agent");
    let a = app.login("agent").await;
    assert_eq!(a.get(SETTINGS).await.status, 403);
    assert_eq!(a.post_form(SETTINGS, &[("enabled", "1")]).await.status, 403);
    let anon = app.client();
    assert_eq!(anon.get(SETTINGS).await.status, 303);
    assert_eq!(admin.post_form_raw(SETTINGS, &[], &[]).await.status, 403);
}

#[actix_web::test]
async fn the_member_token_matches_the_documented_vector() {
    assert_eq!(
        member_token(
            "7cf2828608274a49a3f06152b2188927",
            &[
                "hangame",
                "testusercode",
                "testUsername",
                "test@email.com",
                "123456789",
                "",
                "",
                "1660095873001"
            ],
        ),
        "Ah9M58CQ9RFTShjFuqziQr+0MjmJxN6+bzWxMD71moo="
    );
    assert_eq!(
        member_token(
            "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
            &[
                "acme",
                "user-42",
                "김민수",
                "minsu@example.com",
                "01012345678",
                "M-0042",
                "https://shop.example/after",
                "1700000000000"
            ],
        ),
        "zDupV23Ee+r1jqPz8Ao2KRiXr1QtM2xyBhc8xg5oEok="
    );
}

#[actix_web::test]
async fn browser_and_server_remote_logins_sign_members_in() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    configure(&app, fx.service_id, false, "post", "");
    let key = org_key(&app);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Guests are sent to the login URL with returnUrl.
    let guest = app.client();
    let r = guest.get("/demo/hc/ticket/").await;
    assert_eq!(r.status, 303);
    assert!(
        r.location()
            .starts_with("https://shop.example/login?returnUrl="),
        "{}",
        r.location()
    );
    assert!(r.location().contains("%2Fdemo%2Fhc%2Fticket%2F"));
    assert_eq!(submit_inquiry(&app, &guest, fx.service_id).await, 303);
    let n: i64 = app.db(|c| tickets::table.count().get_result(c));
    assert_eq!(n, 0, "guests cannot submit");

    // P20: the browser form.
    let time = now_ms().to_string();
    let ret = format!("{}/demo/hc/ticket/", app.base);
    let token = member_token(
        &key,
        &[
            "demo",
            "user-42",
            "Mina",
            "mina@example.com",
            "",
            "",
            &ret,
            &time,
        ],
    );
    let browser = app.client();
    let r = browser
        .post_form_raw(
            "/v2/enduser/remote.json",
            &[
                ("service", "demo"),
                ("usercode", "user-42"),
                ("username", "Mina"),
                ("email", "mina@example.com"),
                ("time", &time),
                ("token", &token),
                ("returnUrl", &ret),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 302);
    assert_eq!(r.location(), ret);
    let form = browser.get("/demo/hc/ticket/").await;
    assert_eq!(form.status, 200, "members may use the form");
    assert_eq!(submit_inquiry(&app, &browser, fx.service_id).await, 200);
    let code: Option<String> = app.db(|c| customers::table.select(customers::usercode).first(c));
    assert_eq!(code.as_deref(), Some("user-42"));

    // Without returnUrl: SUCCESS. A stale time: the timeout page. A bad token: error page or JSON.
    let time = now_ms().to_string();
    let token = member_token(&key, &["demo", "user-43", "", "", "", "", "", &time]);
    let r = http
        .post(format!("{}/v2/enduser/remote.json", app.base))
        .form(&[
            ("service", "demo"),
            ("usercode", "user-43"),
            ("time", &time),
            ("token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "SUCCESS");
    let old = (now_ms() - 181_000).to_string();
    let token = member_token(&key, &["demo", "user-43", "", "", "", "", "", &old]);
    let r = app
        .client()
        .post_form_raw(
            "/v2/enduser/remote.json",
            &[
                ("service", "demo"),
                ("usercode", "user-43"),
                ("time", &old),
                ("token", &token),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("timed out"));
    let r = app
        .client()
        .post_form_raw(
            "/v2/enduser/remote.json",
            &[
                ("service", "demo"),
                ("usercode", "user-43"),
                ("time", &time),
                ("token", "AAAA"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.has("#member-message"));
    let r = http
        .post(format!("{}/v2/enduser/remote.json", app.base))
        .header("Accept", "application/json")
        .form(&[
            ("service", "demo"),
            ("usercode", "u"),
            ("time", &time),
            ("token", "AAAA"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["header"]["resultCode"], 400);
    let r = http
        .post(format!("{}/v2/enduser/remote.json", app.base))
        .header("Accept", "application/json")
        .form(&[
            ("service", "nosuch"),
            ("usercode", "u"),
            ("time", &time),
            ("token", "AAAA"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // P21: the server login, then the access-token hand-off (single use).
    let time = now_ms().to_string();
    let token = member_token(
        &key,
        &["demo", "user-44", "Sam", "", "01012345678", "", "", &time],
    );
    let r = http
        .post(format!("{}/api/v2/enduser/remote.json", app.base))
        .json(
            &json!({"service": "demo", "usercode": "user-44", "username": "Sam",
                      "phone": "01012345678", "time": time, "token": token}),
        )
        .send()
        .await
        .unwrap();
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["header"]["resultCode"], 200);
    let access = j["result"]["content"].as_str().unwrap().to_string();
    let member = app.client();
    let r = member
        .get(&format!(
            "/demo/hc/?accessToken={}&iframe=true",
            crate::openapi_client::pct(&access)
        ))
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/demo/hc/?iframe=true");
    assert_eq!(member.get("/demo/hc/ticket/").await.status, 200);
    let reuse = app.client();
    reuse
        .get(&format!(
            "/demo/hc/?accessToken={}",
            crate::openapi_client::pct(&access)
        ))
        .await;
    assert_eq!(
        reuse.get("/demo/hc/ticket/").await.status,
        303,
        "single use"
    );

    // The older hand-off: usercode + time of the server call.
    let time = now_ms().to_string();
    let token = member_token(&key, &["demo", "user-45", "", "", "", "", "", &time]);
    let r = http
        .post(format!("{}/api/v2/enduser/remote.json", app.base))
        .form(&[
            ("service", "demo"),
            ("usercode", "user-45"),
            ("time", &time),
            ("token", &token),
        ])
        .send()
        .await
        .unwrap();
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["header"]["resultCode"], 200);
    let c2 = app.client();
    let r = c2
        .get(&format!(
            "/demo/hc/ticket/list/?usercode=user-45&time={time}"
        ))
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/demo/hc/ticket/list/");
    assert_eq!(c2.get("/demo/hc/ticket/").await.status, 200);
    // A bad server login.
    let r = http
        .post(format!("{}/api/v2/enduser/remote.json", app.base))
        .form(&[
            ("service", "demo"),
            ("usercode", "x"),
            ("time", &time),
            ("token", "bad"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

/// A stand-in for the customer's token-verification endpoint.
async fn verify_server(expected_token: String) -> String {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = HttpServer::new(move || {
        let expected = expected_token.clone();
        App::new().route(
            "/verify",
            web::get().to(
                move |q: web::Query<std::collections::HashMap<String, String>>| {
                    let ok = q.get("token") == Some(&expected);
                    let body = if ok {
                        json!({"login": "true", "usercode": q.get("usercode")})
                    } else {
                        json!({"login": "false", "usercode": null})
                    };
                    async move { HttpResponse::Ok().json(body) }
                },
            ),
        )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    format!("http://{addr}/verify")
}

#[actix_web::test]
async fn the_get_type_asks_the_customers_verification_url() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let key = org_key(&app);
    let time = now_ms().to_string();
    let token = member_token(
        &key,
        &["demo", "user-9", "", "nine@example.com", "", "", "", &time],
    );
    let url = verify_server(token.clone()).await;
    configure(&app, fx.service_id, false, "get", &url);
    let enc = crate::openapi_client::pct(&token);

    let member = app.client();
    let r = member
        .get(&format!(
            "/demo/hc/ticket/list/?usercode=user-9&email=nine%40example.com&time={time}&token={enc}"
        ))
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/demo/hc/ticket/list/");
    assert_eq!(member.get("/demo/hc/ticket/").await.status, 200);

    // A token the customer rejects: guest, and the history page falls back to the form.
    let guest = app.client();
    let r = guest
        .get(&format!(
            "/demo/hc/ticket/list/?usercode=user-9&time={time}&token=WRONG"
        ))
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/demo/hc/ticket/");
    // No login URL for the GET type: members-only refuses guests.
    assert_eq!(guest.get("/demo/hc/ticket/").await.status, 403);

    // With the local check on, a stale token never reaches the customer.
    app.db(|c| {
        diesel::update(member_settings::table)
            .set(member_settings::local_verify.eq(true))
            .execute(c)
    });
    let old = (now_ms() - 200_000).to_string();
    let stale = member_token(&key, &["demo", "user-9", "", "", "", "", "", &old]);
    let c3 = app.client();
    c3.get(&format!(
        "/demo/hc/?usercode=user-9&time={old}&token={}",
        crate::openapi_client::pct(&stale)
    ))
    .await;
    assert_eq!(c3.get("/demo/hc/ticket/").await.status, 403);
}

#[actix_web::test]
async fn addition_data_follows_the_inquiry_into_the_ticket() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let api = Api::enable(&app, fx.service_id, "demo");
    let r = api
        .spost(
            &api.path("/hc/openapi/v1/addition.json"),
            &json!({"content": "grade=gold", "visible": 1}),
        )
        .await;
    let id = r.content().as_str().unwrap().to_string();
    let visitor = app.client();
    let r = visitor
        .get(&format!("/demo/hc/ticket/?additionId={id}&from=app"))
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/demo/hc/ticket/?from=app");
    assert_eq!(submit_inquiry(&app, &visitor, fx.service_id).await, 200);
    let (used, ticket): (Option<chrono::NaiveDateTime>, Option<i64>) = app.db(|c| {
        api_additions::table
            .find(&id)
            .select((api_additions::used_at, api_additions::ticket_id))
            .first(c)
    });
    assert!(used.is_some() && ticket.is_some());
    let addition: String = app.db(|c| {
        api_ticket_meta::table
            .select(api_ticket_meta::addition)
            .first(c)
    });
    assert_eq!(addition, "grade=gold");
    let comment: i64 = app.db(|c| {
        ticket_entries::table
            .filter(ticket_entries::kind.eq("comment"))
            .filter(ticket_entries::body.eq("grade=gold"))
            .count()
            .get_result(c)
    });
    assert_eq!(comment, 1, "visible addition shown to agents");
}

#[actix_web::test]
async fn the_login_status_url_is_asked_from_the_browser_before_inquiry_pages() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    configure(&app, fx.service_id, true, "post", "");
    app.db(|c| {
        diesel::update(member_settings::table)
            .set((
                member_settings::status_url.eq("https://shop.example/status?x=1"),
                member_settings::extra_params.eq(
                    r#"[{"name":"sessionKey","via":"header"},{"name":"locale","via":"query"}]"#,
                ),
            ))
            .execute(c)
    });
    let key = org_key(&app);
    let member = app.client();
    let time = now_ms().to_string();
    let token = member_token(&key, &["demo", "user-5", "", "", "", "", "", &time]);
    let r = member
        .post_form_raw(
            "/v2/enduser/remote.json",
            &[
                ("service", "demo"),
                ("usercode", "user-5"),
                ("time", &time),
                ("token", &token),
                ("sessionKey", "abc123"),
                ("locale", "ko"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.text, "SUCCESS");
    let r = member.get("/demo/hc/ticket/?iframe=true").await;
    assert_eq!(r.status, 303);
    let check = r.location();
    assert_eq!(
        check,
        "/demo/hc/member/check?next=%2Fdemo%2Fhc%2Fticket%2F%3Fiframe%3Dtrue"
    );
    let page = member.get(&check).await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-security-policy")
            .contains("connect-src 'self' https://shop.example")
    );
    let doc = page.doc();
    let sel = scraper::Selector::parse("#member-check").unwrap();
    let el = doc.select(&sel).next().unwrap().value();
    assert_eq!(
        el.attr("data-status"),
        Some("https://shop.example/status?x=1&locale=ko")
    );
    assert_eq!(el.attr("data-headers"), Some(r#"{"sessionKey":"abc123"}"#));
    assert_eq!(el.attr("data-usercode"), Some("user-5"));
    let cont = el.attr("data-continue").unwrap().to_string();
    // The customer says: logged in as someone else → the login URL (remote login again).
    let r = member.get(&format!("{cont}&state=login")).await;
    assert_eq!(r.status, 303);
    assert!(
        r.location()
            .starts_with("https://shop.example/login?returnUrl=")
    );
    // Checked recently: the page opens directly.
    assert_eq!(member.get("/demo/hc/ticket/").await.status, 200);
    // Logged out on the customer's site: the member session ends, guests may continue.
    let r = member.get(&format!("{cont}&state=guest")).await;
    assert_eq!(r.location(), "/demo/hc/ticket/?iframe=true");
    // An open redirect through `next` is refused.
    let r = member
        .get("/demo/hc/member/continue?next=https%3A%2F%2Fevil.example%2F&state=member")
        .await;
    assert_eq!(r.location(), "/demo/hc/");
}
