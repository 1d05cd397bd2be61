//! The customer-info integration (SPEC §6.3, API.md §4 and §7.8): the settings pages, and
//! lookups from the ticket page and on arrival against a real customer server started here,
//! which checks every request's signature exactly as API.md §4 documents (with the test
//! client's own HMAC) and answers in the documented formats.

use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use diesel::prelude::*;
use opencontact::db::schema::{customer_info_apis, customer_info_lookups, services};
use opencontact::fields::model::{Audience, Control, FieldInput, Texts, create_field};
use opencontact::i18n::Lang;
use serde_json::{Value, json};

use crate::openapi_client::{Api, now_ms, signature};
use crate::support::{Client, TestApp};

/// One request the customer server received.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    body: Value,
    authorization: Option<String>,
    verified: bool,
    content_type: String,
}

/// The customer's server: checks the signature (body + timestamp, or path + body +
/// timestamp when its URL says `sig=path`) with the key it was given, and answers by the
/// query's `mode`.
#[derive(Clone, Default)]
struct Receiver {
    key: Arc<Mutex<String>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Receiver {
    fn set_key(&self, key: &str) {
        *self.key.lock().unwrap() = key.to_string();
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn customer_server(
    req: HttpRequest,
    body: web::Bytes,
    st: web::Data<Receiver>,
) -> HttpResponse {
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let ts = header("X-TC-Timestamp").unwrap_or_default();
    let ts_ok = !ts.is_empty()
        && ts.bytes().all(|b| b.is_ascii_digit())
        && (ts.parse::<i64>().unwrap_or(0) - now_ms()).abs() <= 300_000;
    let key = st.key.lock().unwrap().clone();
    let mut msg = Vec::new();
    if req.query_string().contains("sig=path") {
        msg.extend_from_slice(req.path().as_bytes());
    }
    msg.extend_from_slice(&body);
    msg.extend_from_slice(ts.as_bytes());
    let authorization = header("Authorization");
    let verified = authorization.as_deref() == Some(signature(&key, &msg).as_str());
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    st.seen.lock().unwrap().push(Seen {
        path: req.path().to_string(),
        body: parsed.clone(),
        authorization: authorization.clone(),
        verified,
        content_type: header("Content-Type").unwrap_or_default(),
    });
    if !ts_ok || (authorization.is_some() && !verified) {
        return HttpResponse::Unauthorized()
            .json(json!({"error": {"code": "SIG", "message": "bad signature", "detail": null}}));
    }
    let data = |grade: &str| {
        json!({"data": {"userName": "Ann Lee", "points": 1200, "vip": true,
                        "profile": {"grade": grade}}})
    };
    match parsed["mode"].as_str().unwrap_or("ok") {
        "vip" => HttpResponse::Ok().json(data("platinum")),
        "none" => HttpResponse::BadRequest()
            .json(json!({"error": {"code": 911, "message": "No such user", "detail": null}})),
        "deny" => HttpResponse::Forbidden()
            .json(json!({"error": {"code": "E403", "message": "Not allowed"}})),
        "broken" => HttpResponse::NotFound().body("gone"),
        "crash" => HttpResponse::InternalServerError().body("oops"),
        "junk" => HttpResponse::Ok().body("<html>not json</html>"),
        "nodata" => HttpResponse::Ok().json(json!({"result": 1})),
        "slow" => {
            // Never answers: the application's (short, configured) time limit ends the call.
            std::future::pending::<()>().await;
            HttpResponse::Ok().json(data("gold"))
        }
        _ => HttpResponse::Ok().json(data("gold")),
    }
}

/// Starts the customer server on 127.0.0.1:0; returns its base URL.
fn start_receiver(r: &Receiver) -> String {
    let data = web::Data::new(r.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .default_service(web::to(customer_server))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    actix_web::rt::spawn(server.run());
    format!("http://{addr}")
}

fn grade_field(app: &TestApp, sid: i64) -> i64 {
    app.db(move |c| {
        let mut labels = Texts::default();
        labels.set(Lang::En, "Grade");
        create_field(
            c,
            sid,
            Audience::Customer,
            Control::Text,
            &FieldInput {
                code: "grade".into(),
                labels,
                max_length: 50,
                visible: true,
                ..FieldInput::default()
            },
        )
    })
}

const MODES: &str = "ok\nvip\nnone\ndeny\nbroken\ncrash\njunk\nnodata\nslow";

fn api_form(url: &str) -> Vec<(String, String)> {
    [
        ("name", "CRM"),
        ("base_url", url),
        ("encrypt", "1"),
        ("q_count", "3"),
        ("q0_kind", "ticket_field"),
        ("q0_label", "E-mail"),
        ("q0_variable", "email"),
        ("q0_required", "1"),
        ("q0_max_length", "100"),
        ("q0_field", "mail"),
        ("q0_channels", "web"),
        ("q0_channels", "phone"),
        ("q1_kind", "general"),
        ("q1_label", "Mode"),
        ("q1_variable", "mode"),
        ("q1_max_length", "20"),
        ("q1_control", "dropdown"),
        ("q1_options", MODES),
        ("q1_default_value", "ok"),
        ("q2_kind", "general"),
        ("q2_label", "Nation"),
        ("q2_variable", "nation"),
        ("q2_max_length", "2"),
        ("q2_control", "text"),
        ("q2_default_value", "KR"),
        ("r_count", "4"),
        ("r0_present", "1"),
        ("r0_label", "Name"),
        ("r0_data_name", "userName"),
        ("r1_present", "1"),
        ("r1_label", "Grade"),
        ("r1_data_name", "profile.grade"),
        ("r1_link_field", "grade"),
        ("r2_present", "1"),
        ("r2_label", "Points"),
        ("r2_data_name", "points"),
        ("r3_present", "1"),
        ("r3_label", "VIP"),
        ("r3_data_name", "vip"),
        ("op", "save"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

async fn post(c: &Client, path: &str, form: &[(String, String)]) -> crate::support::Resp {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    c.post_form(path, &pairs).await
}

const SETTINGS: &str = "/demo/console/settings/customer-info";

#[actix_web::test]
async fn customer_info_apis_are_set_up_by_service_admins() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    grade_field(&app, sid);
    let admin = app.login("admin").await;
    let list = admin.get(SETTINGS).await;
    assert_eq!(list.status, 200);
    assert!(list.has("#no-apis"));
    assert!(list.has("#open-api-off"), "the Open API is still off");
    let home = admin.get("/demo/console/").await;
    assert!(home.has(&format!("a[href='{SETTINGS}']")));
    let page = admin.get(&format!("{SETTINGS}/new")).await;
    assert_eq!(page.status, 200);
    assert!(page.has("input[name=q0_kind][value=ticket_field]"));

    // Row buttons bring the form back with a blank row, nothing saved.
    let mut f = api_form("https://crm.example.com/customer");
    f.retain(|(k, _)| k != "op");
    f.push(("op".into(), "add_general".into()));
    let r = post(&admin, &format!("{SETTINGS}/new"), &f).await;
    assert_eq!(r.status, 200);
    assert!(r.has("input[name=q3_kind][value=general]"));
    assert!(
        r.has("input[name=q2_variable][value=nation]"),
        "typed values kept"
    );
    let mut f = api_form("https://crm.example.com/customer");
    f.push(("q1_remove".into(), "1".into()));
    f.retain(|(k, _)| k != "op");
    f.push(("op".into(), "add_result".into()));
    let r = post(&admin, &format!("{SETTINGS}/new"), &f).await;
    assert!(r.has("input[name=r4_present]"));
    assert!(
        !r.has("input[name=q1_variable][value=mode]"),
        "removed row dropped"
    );
    let n: i64 = app.db(|c| customer_info_apis::table.count().get_result(c));
    assert_eq!(n, 0);

    // Bad input: 422 with messages beside the fields, nothing saved.
    let mut bad = api_form("ftp://crm.example.com");
    for (k, v) in bad.iter_mut() {
        match k.as_str() {
            "name" => *v = String::new(),
            "q1_variable" => *v = "9mode".into(),
            "q2_variable" => *v = "email".into(),
            "q1_options" => *v = String::new(),
            "q2_default_value" => *v = "KOR".into(),
            "q0_field" => *v = "nothing".into(),
            "q0_channels" => *v = "fax".into(),
            "r1_link_field" => *v = "subject".into(),
            "r2_data_name" => *v = "userName".into(),
            "q0_max_length" => *v = "0".into(),
            _ => {}
        }
    }
    let r = post(&admin, &format!("{SETTINGS}/new"), &bad).await;
    assert_eq!(r.status, 422);
    for field in [
        "name",
        "base_url",
        "q1_variable",
        "q2_variable",
        "q1_options",
        "q2_default_value",
        "q0_field",
        "q0_channels",
        "q0_max_length",
        "r1_link_field",
        "r2_data_name",
    ] {
        assert!(!r.field_error(field).is_empty(), "{field} has a message");
    }
    let mut none = api_form("https://crm.example.com");
    none.retain(|(k, _)| !k.starts_with('q') && !k.starts_with('r'));
    let r = post(&admin, &format!("{SETTINGS}/new"), &none).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("items"), "Add at least one query item.");
    assert_eq!(r.field_error("results"), "Add at least one result item.");
    let n: i64 = app.db(|c| customer_info_apis::table.count().get_result(c));
    assert_eq!(n, 0);

    // Saved: the key is generated, stored encrypted, shown with a copy button.
    let r = post(
        &admin,
        &format!("{SETTINGS}/new"),
        &api_form("https://crm.example.com/customer"),
    )
    .await;
    assert_eq!(r.status, 303);
    let id: i64 = app.db(|c| {
        customer_info_apis::table
            .select(customer_info_apis::id)
            .first(c)
    });
    let edit = format!("{SETTINGS}/{id}");
    assert_eq!(r.location(), edit);
    let page = admin.get(&edit).await;
    let key = page.texts("#api-key")[0].clone();
    assert_eq!(key.len(), 32);
    let stored: Option<String> = app.db(|c| {
        customer_info_apis::table
            .find(id)
            .select(customer_info_apis::key_enc)
            .first(c)
    });
    assert!(!stored.clone().unwrap().contains(&key), "encrypted at rest");
    assert_eq!(app.state.secret.decrypt(&stored.unwrap()).unwrap(), key);
    assert!(page.has("input[name=q1_variable][value=mode]"));
    assert!(page.has("select[name=r1_link_field] option[value=grade][selected]"));
    assert!(page.has("input[name=q0_channels][value=phone][checked]"));
    let list = admin.get(SETTINGS).await;
    assert_eq!(list.texts("#apis td a"), ["CRM"]);

    // Edit: an item removed, signing off (the key is kept for later).
    let mut f = api_form("https://crm.example.com/v2");
    f.retain(|(k, _)| k != "encrypt");
    f.push(("q2_remove".into(), "1".into()));
    let r = post(&admin, &edit, &f).await;
    assert_eq!(r.status, 303);
    let page = admin.get(&edit).await;
    assert!(!page.has("#api-key"));
    assert!(!page.has("input[name=q2_variable]"));
    let r = admin.post_form(&format!("{edit}/key"), &[]).await;
    assert_eq!(r.status, 400, "no key while signing is off");
    let r = post(&admin, &edit, &api_form("https://crm.example.com/v2")).await;
    assert_eq!(r.status, 303);
    assert_eq!(admin.get(&edit).await.texts("#api-key")[0], key);
    let r = admin.post_form(&format!("{edit}/key"), &[]).await;
    assert_eq!(r.status, 303);
    let new_key = admin.get(&edit).await.texts("#api-key")[0].clone();
    assert_ne!(new_key, key);

    // Denials.
    let agent = app.create_member("agent", "Agent A", false);
    app.add_to_service(sid, agent, "agent");
    let a = app.login("agent").await;
    assert_eq!(a.get(SETTINGS).await.status, 403);
    assert_eq!(a.get(&edit).await.status, 403);
    assert_eq!(
        post(
            &a,
            &format!("{SETTINGS}/new"),
            &api_form("https://x.example")
        )
        .await
        .status,
        403
    );
    let other = app.create_service("other");
    let outsider = app.create_member("out", "Out Sider", false);
    app.add_to_service(other, outsider, "admin");
    let o = app.login("out").await;
    assert_eq!(o.get(&edit).await.status, 403);
    assert_eq!(
        o.post_form(&format!("{edit}/delete"), &[]).await.status,
        403
    );
    assert_eq!(
        o.get(&format!("/other/console/settings/customer-info/{id}"))
            .await
            .status,
        404
    );
    let anon = app.client();
    let r = anon.get(SETTINGS).await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"));
    let r = admin
        .post_form_raw(&format!("{edit}/delete"), &[], &[])
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(admin.get(&format!("{SETTINGS}/999999")).await.status, 404);

    // The feature switch gates the pages.
    let feats: String = app.db(move |c| {
        services::table
            .find(sid)
            .select(services::features)
            .first(c)
    });
    let mut fe: opencontact::tenancy::service::Features = serde_json::from_str(&feats).unwrap();
    fe.customer_info = false;
    let text = serde_json::to_string(&fe).unwrap();
    app.db(move |c| {
        diesel::update(services::table.find(sid))
            .set(services::features.eq(text))
            .execute(c)
    });
    let admin = app.login("admin").await;
    assert_eq!(admin.get(SETTINGS).await.status, 403);
    fe.customer_info = true;
    let text = serde_json::to_string(&fe).unwrap();
    app.db(move |c| {
        diesel::update(services::table.find(sid))
            .set(services::features.eq(text))
            .execute(c)
    });

    let r = admin.post_form(&format!("{edit}/delete"), &[]).await;
    assert_eq!(r.status, 303);
    let n: i64 = app.db(|c| customer_info_apis::table.count().get_result(c));
    assert_eq!(n, 0);
}

/// Runs the queued lookups; checks every lookup is finished and returns how many there are.
async fn lookups_done(app: &TestApp) -> i64 {
    app.run_pending_jobs().await;
    let pending: i64 = app.db(|c| {
        customer_info_lookups::table
            .filter(customer_info_lookups::status.ne("done"))
            .count()
            .get_result(c)
    });
    assert_eq!(pending, 0, "lookups did not finish");
    app.db(|c| customer_info_lookups::table.count().get_result(c))
}

fn field_value(app: &TestApp, ticket_id: i64, code: &str) -> Option<String> {
    use opencontact::db::schema::{field_defs, ticket_field_values};
    let code = code.to_string();
    app.db(move |c| {
        ticket_field_values::table
            .inner_join(field_defs::table.on(field_defs::id.eq(ticket_field_values::field_id)))
            .filter(ticket_field_values::ticket_id.eq(ticket_id))
            .filter(field_defs::code.eq(code))
            .select(ticket_field_values::value)
            .first(c)
            .optional()
    })
}

#[actix_web::test]
async fn customers_are_looked_up_on_arrival_and_from_the_ticket_page() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    grade_field(&app, sid);
    Api::enable(&app, sid, "demo");
    let receiver = Receiver::default();
    let url = format!("{}/customer/lookup", start_receiver(&receiver));
    let admin = app.login("admin").await;
    let r = post(&admin, &format!("{SETTINGS}/new"), &api_form(&url)).await;
    assert_eq!(r.status, 303);
    let edit = r.location();
    let api_id: i64 = edit.rsplit('/').next().unwrap().parse().unwrap();
    receiver.set_key(&admin.get(&edit).await.texts("#api-key")[0]);

    // A web ticket arrives: the lookup runs by itself, signed as documented.
    let (tid, pid) = app.create_ticket(sid, "Where is my refund?", "ann@example.com");
    assert_eq!(lookups_done(&app).await, 1);
    let seen = receiver.seen();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].verified, "{:?}", seen[0]);
    assert_eq!(seen[0].path, "/customer/lookup");
    assert!(seen[0].content_type.starts_with("application/json"));
    assert_eq!(
        seen[0].body,
        json!({"email": "ann@example.com", "mode": "ok", "nation": "KR"})
    );
    // Field linking filled the empty field (stored as a plain, non-personal value).
    assert_eq!(field_value(&app, tid, "grade").as_deref(), Some("gold"));
    let panel_path = format!("/demo/console/tickets/{pid}/customer-info");
    let page = admin.get(&format!("/demo/console/tickets/{pid}")).await;
    assert!(page.has(&format!("#customer-info[hx-get='{panel_path}']")));
    let panel = admin.get_with(&panel_path, &[("HX-Request", "true")]).await;
    assert_eq!(panel.status, 200);
    assert!(!panel.has(".page-head"), "a fragment for htmx");
    assert_eq!(
        panel.texts(&format!("#ci-rows-{api_id} dd")),
        ["Ann Lee", "gold", "1200", "true"]
    );
    assert_eq!(
        panel.texts(&format!("#ci-message-{api_id}")),
        ["Lookup succeeded. (HTTP 200)"]
    );
    assert!(panel.texts(".customer-info-result .muted")[0].contains("looked up automatically"));
    let full = admin.get(&panel_path).await;
    assert!(
        full.has(".page-head") && full.has("#customer-info"),
        "a page without htmx"
    );

    // Manual lookups: each documented failure is shown in words, never a 500.
    let cases = [
        (
            "none",
            "No matching customer was found. (HTTP 400)",
            "911: No such user",
        ),
        (
            "deny",
            "The customer system refused the request (no permission). (HTTP 403)",
            "E403: Not allowed",
        ),
        ("broken", "The customer system has an error. (HTTP 404)", ""),
        (
            "crash",
            "An error occurred while looking the customer up. (HTTP 500)",
            "",
        ),
        (
            "junk",
            "The customer system answered, but not in the expected format ({\"data\": {…}}). (HTTP 200)",
            "",
        ),
        (
            "nodata",
            "The customer system answered, but not in the expected format ({\"data\": {…}}). (HTTP 200)",
            "",
        ),
    ];
    for (mode, message, remote) in cases {
        let r = admin
            .post_form(
                &panel_path,
                &[
                    ("api_id", &api_id.to_string()),
                    ("v_email", ""),
                    ("v_mode", mode),
                    ("v_nation", "JP"),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{mode}");
        assert_eq!(
            r.texts(&format!("#ci-message-{api_id}")),
            [message],
            "{mode}"
        );
        if remote.is_empty() {
            assert!(!r.has(&format!("#ci-remote-{api_id}")));
        } else {
            assert!(r.texts(&format!("#ci-remote-{api_id}"))[0].ends_with(remote));
        }
        assert!(!r.has(&format!("#ci-rows-{api_id}")));
    }
    let last = receiver.seen().last().cloned().unwrap();
    assert!(last.verified);
    assert_eq!(
        last.body,
        json!({"email": "ann@example.com", "mode": "nodata", "nation": "JP"}),
        "the empty ticket-field input sends the ticket's value"
    );
    // A manual lookup with data does not overwrite a linked field that has a value.
    let r = admin
        .post_form(
            &panel_path,
            &[("api_id", &api_id.to_string()), ("v_mode", "vip")],
        )
        .await;
    assert!(
        r.texts(&format!("#ci-rows-{api_id} dd"))
            .contains(&"platinum".to_string())
    );
    assert_eq!(field_value(&app, tid, "grade").as_deref(), Some("gold"));

    // Refused values: beside the inputs, nothing sent.
    let before = receiver.seen().len();
    let r = admin
        .post_form(
            &panel_path,
            &[
                ("api_id", &api_id.to_string()),
                ("v_mode", "teleport"),
                ("v_nation", "KOR"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.has("#e-v_mode"));
    assert_eq!(r.texts("#e-v_nation"), ["At most 2 characters."]);
    assert_eq!(receiver.seen().len(), before);
    let r = admin
        .post_form(&panel_path, &[("api_id", "999999"), ("v_mode", "ok")])
        .await;
    assert_eq!(r.status, 404);

    // Timeouts and unreachable servers are results too.
    let r = admin
        .post_form(
            &panel_path,
            &[("api_id", &api_id.to_string()), ("v_mode", "slow")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.texts(&format!("#ci-message-{api_id}")),
        ["The customer system did not answer within 5 seconds."]
    );
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead = format!("http://127.0.0.1:{closed}/x");
    app.db(move |c| {
        diesel::update(customer_info_apis::table.find(api_id))
            .set(customer_info_apis::base_url.eq(dead))
            .execute(c)
    });
    let r = admin
        .post_form(&panel_path, &[("api_id", &api_id.to_string())])
        .await;
    assert_eq!(
        r.texts(&format!("#ci-message-{api_id}")),
        ["The customer system could not be reached."]
    );
    // The "include request path" mode signs path + body + timestamp; no encryption sends no
    // Authorization.
    let path_url = format!("{url}?sig=path");
    app.db(move |c| {
        diesel::update(customer_info_apis::table.find(api_id))
            .set((
                customer_info_apis::base_url.eq(path_url),
                customer_info_apis::sign_path.eq(true),
            ))
            .execute(c)
    });
    let r = admin
        .post_form(&panel_path, &[("api_id", &api_id.to_string())])
        .await;
    assert_eq!(
        r.texts(&format!("#ci-message-{api_id}")),
        ["Lookup succeeded. (HTTP 200)"]
    );
    assert!(receiver.seen().last().unwrap().verified);
    app.db(move |c| {
        diesel::update(customer_info_apis::table.find(api_id))
            .set(customer_info_apis::encrypt.eq(false))
            .execute(c)
    });
    admin
        .post_form(&panel_path, &[("api_id", &api_id.to_string())])
        .await;
    assert_eq!(receiver.seen().last().unwrap().authorization, None);

    // A second ticket of the same customer lists the first (last three months).
    let (_, pid2) = app.create_ticket(sid, "Another question", "ann@example.com");
    lookups_done(&app).await;
    let panel2 = admin
        .get_with(
            &format!("/demo/console/tickets/{pid2}/customer-info"),
            &[("HX-Request", "true")],
        )
        .await;
    assert_eq!(
        panel2.texts(&format!("#ci-related-{api_id} a")),
        ["Where is my refund?"]
    );
    // Automatic lookups leave other channels alone.
    let n_before = lookups_done(&app).await;
    let (_, _) = {
        let secret = app.state.secret.clone();
        app.state
            .db
            .write_blocking(move |c| {
                let t = opencontact::tickets::create_ticket(
                    c,
                    &secret,
                    &opencontact::tickets::NewTicket {
                        service_id: sid,
                        customer_id: None,
                        category_id: None,
                        channel: opencontact::tickets::Channel::Email,
                        lang: "en",
                        subject: "By mail",
                        body: "x",
                        values: &[],
                        files: &[],
                        creator_id: None,
                        group_id: None,
                        assignee_id: None,
                        origin_ticket_id: None,
                    },
                )?;
                Ok((t.id, t.public_id))
            })
            .unwrap()
    };
    assert_eq!(lookups_done(&app).await, n_before);

    // An agent who may not see personal data sees the e-mail masked; the lookup still sends it.
    let agent = app.create_member("agent", "Agent A", false);
    app.add_to_service(sid, agent, "agent");
    let a = app.login("agent").await;
    let p = a.get_with(&panel_path, &[("HX-Request", "true")]).await;
    assert_eq!(p.status, 200);
    let sel = format!("#f-{api_id}-v_email");
    assert!(p.has(&format!("{sel}[value='']")));
    assert!(p.has(&format!("{sel}[placeholder='an***@example.com']")));
    app.db(move |c| {
        diesel::update(customer_info_apis::table.find(api_id))
            .set(customer_info_apis::base_url.eq(url.clone()))
            .execute(c)
    });
    let r = a
        .post_form(&panel_path, &[("api_id", &api_id.to_string())])
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        receiver.seen().last().unwrap().body["email"],
        "ann@example.com"
    );

    // Denials: another service's member, signed out, no CSRF token.
    let other = app.create_service("other");
    let outsider = app.create_member("out", "Out Sider", false);
    app.add_to_service(other, outsider, "admin");
    let o = app.login("out").await;
    assert_eq!(o.get(&panel_path).await.status, 403);
    assert_eq!(
        o.post_form(&panel_path, &[("api_id", &api_id.to_string())])
            .await
            .status,
        403
    );
    let r = app.client().get(&panel_path).await;
    assert_eq!(r.status, 303);
    let r = admin
        .post_form_raw(&panel_path, &[("api_id", &api_id.to_string())], &[])
        .await;
    assert_eq!(r.status, 403);

    // With the Open API off nothing is called, and the panel says why.
    app.db(move |c| {
        diesel::update(services::table.find(sid))
            .set(services::open_api_enabled.eq(false))
            .execute(c)
    });
    let before = receiver.seen().len();
    let admin = app.login("admin").await;
    let p = admin.get_with(&panel_path, &[("HX-Request", "true")]).await;
    assert!(p.has("#customer-info-unavailable"));
    assert!(
        !admin
            .get(&format!("/demo/console/tickets/{pid}"))
            .await
            .has("#customer-info")
    );
    let r = admin
        .post_form(&panel_path, &[("api_id", &api_id.to_string())])
        .await;
    assert_eq!(r.status, 403);
    app.create_ticket(sid, "No lookup", "bo@example.com");
    assert_eq!(receiver.seen().len(), before);
    let _ = tid;
}
