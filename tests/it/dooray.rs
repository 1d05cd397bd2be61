//! Dooray! transfer (SPEC §3.14, §5.8, API.md §7.11 P37) against a fake Dooray! API: a real
//! local HTTP server that speaks Dooray's wire format, checks the `dooray-api` token and the
//! request bodies, and records every call. Settings with their validation and denials,
//! the transfer, the webhook moving the ticket and mirroring comments, comment posting, pause,
//! Dooray! failures that leave the ticket unchanged, forged payloads, and the console views.

use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use diesel::prelude::*;
use serde_json::{Value, json};

use opencontact::db::schema::{dooray_comments, dooray_member_keys, dooray_orgs, dooray_tasks};
use opencontact::db::types::ServiceKind;
use opencontact::integrations::dooray::model::{Org, project_ref_of_url};
use opencontact::tickets::lifecycle::{self, LifecycleError, TransferState};

use crate::support::{Client, Resp, TestApp};

const TOKEN: &str = "TOKEN-abc123";
const TENANT: &str = "2900001";
const PROJECT: &str = "3001";

/// One request the fake received.
#[derive(Debug, Clone)]
struct Call {
    method: String,
    path: String,
    query: String,
    auth: String,
    body: Value,
}

#[derive(Default)]
struct FakeState {
    calls: Vec<Call>,
    fail: Option<u16>,
    slow: bool,
    refuse: bool,
    next: u64,
    members: Vec<(String, String)>,
    project_members: Vec<String>,
}

/// A fake Dooray! API.
struct Fake {
    base: String,
    state: Arc<Mutex<FakeState>>,
}

fn dooray_ok(result: Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "header": {"isSuccessful": true, "resultCode": 0, "resultMessage": ""},
        "result": result,
    }))
}

fn dooray_fail(status: u16, code: i64, message: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap()).json(json!({
        "header": {"isSuccessful": false, "resultCode": code, "resultMessage": message},
        "result": null,
    }))
}

fn is_member_list(v: &Value) -> bool {
    v.as_array().is_some_and(|a| {
        a.iter().all(|m| {
            m["type"] == "member" && m["member"]["organizationMemberId"].as_str().is_some()
        })
    })
}

async fn fake_handle(
    req: HttpRequest,
    body: web::Bytes,
    st: web::Data<Arc<Mutex<FakeState>>>,
) -> HttpResponse {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (fail, slow, refuse, id) = {
        let mut s = st.lock().unwrap();
        s.calls.push(Call {
            method: req.method().to_string(),
            path: req.path().to_string(),
            query: req.query_string().to_string(),
            auth: auth.clone(),
            body: parsed.clone(),
        });
        s.next += 1;
        (s.fail, s.slow, s.refuse, s.next)
    };
    if slow {
        // Never answers: the application's (short, configured) time limit ends the call.
        std::future::pending::<()>().await;
    }
    if auth != format!("dooray-api {TOKEN}") {
        return dooray_fail(401, -401, "Unauthorized");
    }
    if let Some(code) = fail {
        return dooray_fail(code, -500, "Internal error");
    }
    if refuse {
        return dooray_fail(200, -100_100, "tag is mandatory");
    }
    let segments: Vec<&str> = req.path().trim_start_matches('/').split('/').collect();
    let method = req.method().as_str();
    let s = st.lock().unwrap();
    match (method, segments.as_slice()) {
        ("POST", ["project", "v1", "projects", _, "posts"]) => {
            let good = parsed["subject"].as_str().is_some_and(|x| !x.is_empty())
                && parsed["body"]["mimeType"] == "text/html"
                && parsed["body"]["content"].is_string()
                && is_member_list(&parsed["users"]["to"])
                && parsed["users"]["from"]["member"]["organizationMemberId"].is_string()
                && parsed["tagIds"].is_array();
            if !good {
                return dooray_fail(400, -400, "bad task body");
            }
            dooray_ok(json!({"id": format!("4000{id}")}))
        }
        ("GET", ["project", "v1", "projects", _, "posts", post]) => dooray_ok(json!({
            "id": post, "taskNumber": "cs-desk/7", "number": 7, "workflowClass": "registered",
            "workflow": {"id": "1", "name": "To do"}
        })),
        ("POST", ["project", "v1", "projects", _, "posts", _, "logs"]) => {
            if !parsed["body"]["content"].is_string() || parsed["body"]["mimeType"] != "text/html" {
                return dooray_fail(400, -400, "bad comment body");
            }
            dooray_ok(json!({"id": format!("c{id}")}))
        }
        ("GET", ["project", "v1", "projects", _, "members", m]) => {
            if s.project_members.iter().any(|x| x == m) {
                dooray_ok(json!({"organizationMemberId": m, "role": "member"}))
            } else {
                dooray_fail(404, -404, "not a member")
            }
        }
        ("GET", ["common", "v1", "members"]) => {
            let q: Vec<(String, String)> =
                url::form_urlencoded::parse(req.query_string().as_bytes())
                    .into_owned()
                    .collect();
            let wanted: Vec<String> = q
                .iter()
                .find(|(k, _)| k == "externalEmailAddresses")
                .map(|(_, v)| v.split(',').map(str::to_string).collect())
                .unwrap_or_default();
            let found: Vec<Value> = s
                .members
                .iter()
                .filter(|(_, e)| wanted.iter().any(|w| w == e))
                .map(|(id, e)| json!({"id": id, "name": "x", "userCode": "x", "externalEmailAddress": e}))
                .collect();
            dooray_ok(Value::Array(found))
        }
        _ => dooray_fail(404, -404, "no such API"),
    }
}

impl Fake {
    async fn start() -> Fake {
        let state = Arc::new(Mutex::new(FakeState {
            members: vec![("M-ADMIN".into(), "admin@acme.test".into())],
            ..FakeState::default()
        }));
        let s2 = state.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(s2.clone()))
                .default_service(web::to(fake_handle))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        Fake {
            base: format!("http://{addr}"),
            state,
        }
    }

    fn calls(&self, method: &str, path_contains: &str) -> Vec<Call> {
        self.state
            .lock()
            .unwrap()
            .calls
            .iter()
            .filter(|c| c.method == method && c.path.contains(path_contains))
            .cloned()
            .collect()
    }

    fn set(&self, f: impl FnOnce(&mut FakeState)) {
        f(&mut self.state.lock().unwrap());
    }
}

const SETTINGS: &str = "/demo/console/settings/dooray";

/// Registers the organization (through the page) and returns its key.
async fn register_org(app: &TestApp, admin: &Client, fake: &Fake) -> i64 {
    let r = admin
        .post_form(
            &format!("{SETTINGS}/orgs"),
            &[
                ("name", "Acme Dooray"),
                ("tenant_ref", TENANT),
                ("api_base", &fake.base),
                ("token", TOKEN),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let id: i64 = app.db(|c| {
        dooray_orgs::table
            .filter(dooray_orgs::tenant_ref.eq(TENANT))
            .select(dooray_orgs::id)
            .first(c)
    });
    assert_eq!(r.location(), format!("{SETTINGS}/orgs/{id}"));
    id
}

async fn register_project(admin: &Client, org: i64) {
    let r = admin
        .post_form(
            &format!("{SETTINGS}/orgs/{org}/projects"),
            &[
                ("name", "CS desk"),
                ("url", &format!("https://acme.dooray.com/project/{PROJECT}")),
                ("project_ref", ""),
                ("registrant_ref", "M-DEFAULT"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
}

async fn enable(admin: &Client, paused: bool) {
    let mut fields = vec![
        ("enabled", "on"),
        ("subject_template", "[#{ticketId}] #{subject}"),
        (
            "body_template",
            "<p>From #{customerName}:</p><div>#{inquiry}</div>",
        ),
    ];
    if paused {
        fields.push(("paused", "on"));
    }
    let r = admin.post_form(SETTINGS, &fields).await;
    assert_eq!(r.status, 303, "{}", r.text);
}

/// Registers everything and enables transfer; returns the organization key.
async fn configure(app: &TestApp, admin: &Client, fake: &Fake) -> i64 {
    let org = register_org(app, admin, fake).await;
    register_project(admin, org).await;
    enable(admin, false).await;
    org
}

fn ticket_path(pid: &str) -> String {
    format!("/demo/console/tickets/{pid}")
}

async fn transfer(c: &Client, pid: &str, extra: &[(&str, &str)]) -> Resp {
    let dialog = c.get(&format!("{}/dooray", ticket_path(pid))).await;
    assert_eq!(dialog.status, 200, "{}", dialog.text);
    let value = |name: &str| {
        let sel = scraper::Selector::parse(&format!("input[name={name}]")).unwrap();
        dialog
            .doc()
            .select(&sel)
            .next()
            .and_then(|e| e.value().attr("value").map(str::to_string))
            .unwrap_or_default()
    };
    let project: String = {
        let sel = scraper::Selector::parse("#f-project_id option[selected]").unwrap();
        dialog
            .doc()
            .select(&sel)
            .next()
            .and_then(|e| e.value().attr("value").map(str::to_string))
            .unwrap_or_default()
    };
    let version = value("version");
    let token = value("client_token");
    let subject = value("subject");
    let body = dialog.texts("#f-body")[0].clone();
    let mut fields: Vec<(&str, &str)> = vec![
        ("project_id", &project),
        ("subject", &subject),
        ("body", &body),
        ("tags", "T-1, T-2"),
        ("assignees", "M-DEV"),
        ("priority", "high"),
        ("version", &version),
        ("client_token", &token),
    ];
    for (k, v) in extra {
        fields.retain(|(name, _)| name != k);
        fields.push((k, v));
    }
    c.post_form(&format!("{}/dooray", ticket_path(pid)), &fields)
        .await
}

fn hook_payload(event: &str, tenant: &str, project: &str, post: &str, class: &str) -> Value {
    json!({
        "webhookType": event,
        "hookEventType": event,
        "tenant": {"id": tenant, "code": "acme"},
        "project": {"id": project, "code": "cs-desk"},
        "source": {"type": "member", "member": {"id": "M-DEV", "name": "Dana Dev",
            "userCode": "dana", "emailAddress": "dana@acme.dooray.com"}},
        "post": {"id": post, "number": 7, "subject": "Printer jam", "workflowClass": class,
            "workflow": {"id": "3", "name": "Doing"}, "createdAt": "2026-01-05T10:00:00+09:00"},
    })
}

fn comment_payload(post: &str, comment_id: &str, text: &str) -> Value {
    let mut v = hook_payload("postCommentCreated", TENANT, PROJECT, post, "working");
    v["comment"] = json!({"id": comment_id,
        "body": {"mimeType": "text/x-markdown", "content": text},
        "createdAt": "2026-01-05T10:05:00+09:00"});
    v
}

async fn send_hook(app: &TestApp, service: &str, body: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/{service}/api/v2/dooray/hook", app.base))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn post_ref_of(app: &TestApp, ticket: i64) -> String {
    app.db(|c| {
        dooray_tasks::table
            .filter(dooray_tasks::ticket_id.eq(ticket))
            .filter(dooray_tasks::active.eq(true))
            .select(dooray_tasks::post_ref)
            .first(c)
    })
}

fn task_count(app: &TestApp) -> i64 {
    app.db(|c| dooray_tasks::table.count().get_result(c))
}

#[actix_web::test]
async fn settings_validate_encrypt_issue_keys_and_deny() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let fake = Fake::start().await;
    let agent = app.create_member("agent", "Agent A", false);
    app.add_to_service(fx.service_id, agent, "agent");
    let admin = app.login("admin").await;

    let page = admin.get(SETTINGS).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(
        page.texts("#dooray-webhook-url"),
        vec![format!("{}/demo/api/v2/dooray/hook", app.base)]
    );
    assert!(page.has(".empty"));
    assert!(
        admin
            .get("/demo/console/")
            .await
            .has("a[href='/demo/console/settings/dooray']")
    );

    // Enabling needs a project; the subject template is required.
    let r = admin
        .post_form(
            SETTINGS,
            &[
                ("enabled", "on"),
                ("subject_template", "x"),
                ("body_template", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("enabled").contains("at least one project"));
    let r = admin
        .post_form(
            SETTINGS,
            &[("subject_template", "  "), ("body_template", "")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("subject_template"), "This field is required.");
    let long = "x".repeat(256);
    let r = admin
        .post_form(
            SETTINGS,
            &[("subject_template", &long), ("body_template", "")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("subject_template").contains("255"));

    // Organization form validation.
    let r = admin
        .post_form(
            &format!("{SETTINGS}/orgs"),
            &[
                ("name", ""),
                ("tenant_ref", "bad id!"),
                ("api_base", "ftp://x"),
                ("token", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("name"), "This field is required.");
    assert!(r.field_error("tenant_ref").contains("letters, digits"));
    assert!(r.field_error("api_base").contains("http(s)"));
    assert_eq!(r.field_error("token"), "This field is required.");
    assert!(!r.text.contains(TOKEN));

    // Registering: the token is encrypted at rest and shown masked; keys are issued by e-mail.
    let org = register_org(&app, &admin, &fake).await;
    let lookups = fake.calls("GET", "/common/v1/members");
    assert_eq!(lookups.len(), 1);
    assert!(
        lookups[0].query.contains("admin%40acme.test"),
        "{:?}",
        lookups[0]
    );
    assert_eq!(lookups[0].auth, format!("dooray-api {TOKEN}"));
    let stored: Org = app.db(|c| {
        dooray_orgs::table
            .find(org)
            .select(Org::as_select())
            .first(c)
    });
    assert!(!stored.token_enc.contains(TOKEN));
    assert_eq!(stored.token(&app.state.secret).as_deref(), Some(TOKEN));
    let page = admin.get(&format!("{SETTINGS}/orgs/{org}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text
            .contains("Dooray! user keys issued: 1; agents not found in Dooray!: 1.")
    );
    assert!(!page.text.contains(TOKEN));
    assert_eq!(page.texts("#org-token"), vec!["••••••••c123".to_string()]);
    assert_eq!(
        page.texts(&format!("#key-{} .key", fx.admin_id)),
        vec!["M-ADMIN".to_string()]
    );
    assert_eq!(
        page.texts(&format!("#key-{agent} .key")),
        vec!["Not issued".to_string()]
    );

    // The same tenant twice is refused.
    let r = admin
        .post_form(
            &format!("{SETTINGS}/orgs"),
            &[
                ("name", "Again"),
                ("tenant_ref", TENANT),
                ("api_base", ""),
                ("token", "t"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("tenant_ref").contains("already registered"));

    // Editing keeps the token when left empty.
    let r = admin
        .post_form(
            &format!("{SETTINGS}/orgs/{org}"),
            &[
                ("name", "Acme Dooray!"),
                ("tenant_ref", TENANT),
                ("api_base", &fake.base),
                ("token", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let stored: Org = app.db(|c| {
        dooray_orgs::table
            .find(org)
            .select(Org::as_select())
            .first(c)
    });
    assert_eq!(stored.name, "Acme Dooray!");
    assert_eq!(stored.token(&app.state.secret).as_deref(), Some(TOKEN));

    // Project validation; the project ID is read from the address.
    let r = admin
        .post_form(
            &format!("{SETTINGS}/orgs/{org}/projects"),
            &[
                ("name", "P"),
                ("url", "https://acme.dooray.com/home"),
                ("project_ref", ""),
                ("registrant_ref", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("project_ref").contains("/project/{id}"));
    assert_eq!(r.field_error("registrant_ref"), "This field is required.");
    assert_eq!(
        project_ref_of_url("https://acme.dooray.com/project/projects/777"),
        Some("777".into())
    );
    register_project(&admin, org).await;
    let page = admin.get(&format!("{SETTINGS}/orgs/{org}")).await;
    assert_eq!(page.texts("#project-list .ref"), vec![PROJECT.to_string()]);
    let r = admin
        .post_form(
            &format!("{SETTINGS}/orgs/{org}/projects"),
            &[
                ("name", "Dup"),
                ("url", "https://acme.dooray.com/project/3001"),
                ("project_ref", ""),
                ("registrant_ref", "M-X"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("project_ref").contains("already registered"));

    // Now transfer can be enabled.
    enable(&admin, false).await;
    let page = admin.get(SETTINGS).await;
    assert!(page.has("#f-enabled[checked]"));
    assert_eq!(page.texts("#org-list .projects"), vec!["1".to_string()]);

    // "Generate" for one agent and removing a key.
    fake.set(|s| s.members.push(("M-AGENT".into(), "agent@acme.test".into())));
    let r = admin
        .post_form(&format!("{SETTINGS}/orgs/{org}/keys/{agent}"), &[])
        .await;
    assert_eq!(r.status, 303);
    let key: Option<String> = app.db(|c| {
        dooray_member_keys::table
            .filter(dooray_member_keys::user_id.eq(agent))
            .select(dooray_member_keys::member_ref)
            .first(c)
            .optional()
    });
    assert_eq!(key.as_deref(), Some("M-AGENT"));
    let r = admin
        .post_form(&format!("{SETTINGS}/orgs/{org}/keys/{agent}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    let r = admin
        .post_form(&format!("{SETTINGS}/orgs/{org}/keys"), &[])
        .await;
    assert_eq!(r.status, 303);
    let page = admin.get(&format!("{SETTINGS}/orgs/{org}")).await;
    assert!(page.text.contains("Dooray! user keys issued: 2"));

    // Denials: an agent, a member of another service, signed out, no CSRF token.
    let a = app.login("agent").await;
    assert_eq!(a.get(SETTINGS).await.status, 403);
    assert_eq!(a.get(&format!("{SETTINGS}/orgs/{org}")).await.status, 403);
    let r = a
        .post_form(
            SETTINGS,
            &[("subject_template", "x"), ("body_template", "")],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = a
        .post_form(&format!("{SETTINGS}/orgs/{org}/delete"), &[])
        .await;
    assert_eq!(r.status, 403);
    let other = app.create_service("other");
    let boss = app.create_member("boss", "Other Boss", false);
    app.add_to_service(other, boss, "admin");
    let b = app.login("boss").await;
    assert_eq!(b.get(SETTINGS).await.status, 403);
    assert_eq!(b.get("/other/console/settings/dooray").await.status, 200);
    // Another service's page does not reach this organization.
    assert_eq!(
        b.get(&format!("/other/console/settings/dooray/orgs/{org}"))
            .await
            .status,
        404
    );
    let anon = app.client();
    let r = anon.get(SETTINGS).await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"));
    let r = admin
        .post_form_raw(SETTINGS, &[("subject_template", "x")], &[])
        .await;
    assert_eq!(r.status, 403);

    // Deleting the last organization turns transfer off.
    let r = admin
        .post_form(&format!("{SETTINGS}/orgs/{org}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    let page = admin.get(SETTINGS).await;
    assert!(!page.has("#f-enabled[checked]"));
    assert!(page.has(".empty"));
}

#[actix_web::test]
async fn transfer_webhook_and_comments_round_trip() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let fake = Fake::start().await;
    fake.set(|s| s.project_members.push("M-ADMIN".into()));
    let admin = app.login("admin").await;
    configure(&app, &admin, &fake).await;
    let (tid, pid) = app.create_ticket(fx.service_id, "Printer jam", "casey@example.com");

    let page = admin.get(&ticket_path(&pid)).await;
    assert_eq!(page.status, 200);
    assert!(page.has("#dooray-transfer-link"));
    assert!(!page.has("#dooray-conversation"));
    assert!(!page.has("#dooray-comment-submit"));

    // The dialog starts from the templates.
    let dialog = admin.get(&format!("{}/dooray", ticket_path(&pid))).await;
    assert_eq!(dialog.status, 200);
    let sel = scraper::Selector::parse("input[name=subject]").unwrap();
    let subject = dialog
        .doc()
        .select(&sel)
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_string();
    assert_eq!(subject, format!("[{pid}] Printer jam"));
    assert!(dialog.texts("#f-body")[0].contains("Please help."));
    assert!(dialog.texts("#f-body")[0].contains("Casey Customer"));
    assert_eq!(
        dialog.texts("#f-project_id optgroup option"),
        vec!["CS desk"]
    );

    // Bad input: 422 with the messages beside the fields, nothing sent to Dooray!.
    let r = transfer(
        &admin,
        &pid,
        &[
            ("tags", "ok, not ok!"),
            ("subject", ""),
            ("project_id", "999"),
        ],
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.field_error("tags").contains("not"));
    assert_eq!(r.field_error("subject"), "This field is required.");
    assert_eq!(r.field_error("project_id"), "Choose one of the options.");
    assert!(fake.calls("POST", "/posts").is_empty());
    // A stale version is refused.
    let r = transfer(&admin, &pid, &[("version", "9999")]).await;
    assert_eq!(r.status, 422);
    assert!(r.texts("#dooray-alert")[0].contains("changed this ticket"));

    // The transfer: one task created in Dooray's wire format, as the agent's own member.
    let r = transfer(&admin, &pid, &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.location(), ticket_path(&pid));
    let posts = fake.calls("POST", "/project/v1/projects/3001/posts");
    assert_eq!(posts.len(), 1);
    let body = &posts[0].body;
    assert_eq!(posts[0].auth, format!("dooray-api {TOKEN}"));
    assert_eq!(body["subject"], format!("[{pid}] Printer jam"));
    assert_eq!(body["body"]["mimeType"], "text/html");
    assert!(
        body["body"]["content"]
            .as_str()
            .unwrap()
            .contains("Please help.")
    );
    assert_eq!(
        body["users"]["to"][0]["member"]["organizationMemberId"],
        "M-DEV"
    );
    assert_eq!(
        body["users"]["from"]["member"]["organizationMemberId"],
        "M-ADMIN"
    );
    assert_eq!(body["tagIds"], json!(["T-1", "T-2"]));
    assert_eq!(body["priority"], "high");
    let t = app.ticket(tid);
    assert_eq!(t.transfer_state(), TransferState::DoorayTransferred);
    assert_eq!(t.status.as_str(), "open");
    assert_eq!(t.assignee_id, Some(fx.admin_id));
    let post = post_ref_of(&app, tid);

    let page = admin.get(&ticket_path(&pid)).await;
    assert!(
        page.text
            .contains("Transferred to Dooray! as task cs-desk/7 in CS desk.")
    );
    assert_eq!(page.texts("#ticket-status"), vec!["Dooray transferred"]);
    assert!(page.texts("#dooray-task")[0].contains("cs-desk/7"));
    assert!(page.has(&format!(
        "#dooray-task a[href='https://acme.dooray.com/project/tasks/{post}']"
    )));
    assert!(!page.has("#dooray-transfer-link"));
    assert!(page.has("#dooray-comment-submit"));
    assert!(page.has("#dooray-conversation"));
    assert!(
        page.texts("#timeline .tl-event")
            .iter()
            .any(|e| e.contains("Transferred to Dooray! (task cs-desk/7)"))
    );
    // Submitting the same form again does not create a second task.
    assert_eq!(task_count(&app), 1);

    // Webhook: the task moves to "working".
    let (status, env) = send_hook(
        &app,
        "demo",
        &hook_payload("postWorkflowChanged", TENANT, PROJECT, &post, "working").to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        env,
        json!({"header": {"resultCode": 200, "resultMessage": "", "isSuccessful": true}, "result": null})
    );
    assert_eq!(
        app.ticket(tid).transfer_state(),
        TransferState::DoorayInProgress
    );
    let page = admin.get(&ticket_path(&pid)).await;
    assert_eq!(page.texts("#ticket-status"), vec!["Dooray in progress"]);
    assert!(page.texts(".dooray-workflow")[0].contains("Doing"));

    // A comment from Dooray! joins the conversation, once.
    let c1 = comment_payload(&post, "c-900", "Looking into it.\n\nWill report back.").to_string();
    assert_eq!(send_hook(&app, "demo", &c1).await.0, 200);
    assert_eq!(send_hook(&app, "demo", &c1).await.0, 200);
    let page = admin.get(&ticket_path(&pid)).await;
    let received = page.texts("#dooray-conversation .dooray-in");
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(received[0].contains("Dana Dev") && received[0].contains("Will report back."));
    assert!(
        page.texts("#timeline .tl-event")
            .iter()
            .any(|e| e.contains("Dooray! comment from Dana Dev"))
    );

    // "Dooray comment" posts the editor text to the task.
    let form = reqwest::multipart::Form::new().text("body", "<p>Customer confirmed the model.</p>");
    let r = admin
        .post_multipart(&format!("{}/dooray/comment", ticket_path(&pid)), form)
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let logs = fake.calls("POST", &format!("/posts/{post}/logs"));
    assert_eq!(logs.len(), 1);
    assert_eq!(
        logs[0].body["body"]["content"],
        "<p>Customer confirmed the model.</p>"
    );
    assert_eq!(
        logs[0].body["creator"]["member"]["organizationMemberId"],
        "M-ADMIN"
    );
    let sent_id: String = app.db(|c| {
        dooray_comments::table
            .filter(dooray_comments::outgoing.eq(true))
            .select(dooray_comments::comment_ref)
            .first(c)
    });
    // Dooray's echo of that comment is not doubled.
    let echo = comment_payload(&post, &sent_id, "Customer confirmed the model.").to_string();
    assert_eq!(send_hook(&app, "demo", &echo).await.0, 200);
    let page = admin.get(&ticket_path(&pid)).await;
    let sent = page.texts("#dooray-conversation .dooray-out");
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("Ada Admin") && sent[0].contains("Customer confirmed the model."));
    assert_eq!(page.texts("#dooray-conversation .dooray-in").len(), 1);
    // An empty editor is refused with the text kept.
    let form = reqwest::multipart::Form::new().text("body", "<p> </p>");
    let r = admin
        .post_multipart(&format!("{}/dooray/comment", ticket_path(&pid)), form)
        .await;
    assert_eq!(r.status, 422);
    assert!(r.texts("#process-alert")[0].contains("Write the comment"));

    // Forged and odd payloads.
    let forged = hook_payload("postWorkflowChanged", "6666", PROJECT, &post, "closed").to_string();
    let (status, env) = send_hook(&app, "demo", &forged).await;
    assert_eq!(status, 403);
    assert_eq!(env["header"]["resultCode"], 403);
    assert_eq!(env["result"], Value::Null);
    let forged = hook_payload("postWorkflowChanged", TENANT, "7777", &post, "closed").to_string();
    assert_eq!(send_hook(&app, "demo", &forged).await.0, 403);
    let no_tenant =
        json!({"hookEventType": "postWorkflowChanged", "post": {"id": post}}).to_string();
    assert_eq!(send_hook(&app, "demo", &no_tenant).await.0, 403);
    let (status, env) = send_hook(&app, "demo", "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(env["header"]["resultMessage"], "Malformed JSON body");
    assert_eq!(send_hook(&app, "demo", "[1, 2]").await.0, 400);
    let huge = format!("{{\"x\": \"{}\"}}", "a".repeat(600 * 1024));
    let (status, env) = send_hook(&app, "demo", &huge).await;
    assert_eq!(status, 400);
    assert_eq!(env["header"]["resultMessage"], "Payload too large");
    assert_eq!(send_hook(&app, "nosuch", &forged).await.0, 404);
    let unknown_post =
        hook_payload("postWorkflowChanged", TENANT, PROJECT, "123", "closed").to_string();
    assert_eq!(send_hook(&app, "demo", &unknown_post).await.0, 200);
    let other_event = hook_payload("postTagChanged", TENANT, PROJECT, &post, "closed").to_string();
    assert_eq!(send_hook(&app, "demo", &other_event).await.0, 200);
    assert_eq!(
        app.ticket(tid).transfer_state(),
        TransferState::DoorayInProgress
    );

    // Done in Dooray!: "Dooray answered", comments stop, transfer is offered again.
    let done = hook_payload("postWorkflowChanged", TENANT, PROJECT, &post, "closed").to_string();
    assert_eq!(send_hook(&app, "demo", &done).await.0, 200);
    assert_eq!(
        app.ticket(tid).transfer_state(),
        TransferState::DoorayAnswered
    );
    let page = admin.get(&ticket_path(&pid)).await;
    assert_eq!(page.texts("#ticket-status"), vec!["Dooray answered"]);
    assert!(!page.has("#dooray-comment-submit"));
    assert!(page.has("#dooray-transfer-link"));
    let form = reqwest::multipart::Form::new().text("body", "<p>Late</p>");
    let r = admin
        .post_multipart(&format!("{}/dooray/comment", ticket_path(&pid)), form)
        .await;
    assert_eq!(r.status, 422);
    assert!(r.texts("#process-alert")[0].contains("transferred or in progress"));
    assert_eq!(fake.calls("POST", "/logs").len(), 1);

    // Re-transfer: a second task becomes current; the first stays in the conversation.
    let r = transfer(&admin, &pid, &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        app.ticket(tid).transfer_state(),
        TransferState::DoorayTransferred
    );
    assert_eq!(task_count(&app), 2);
    let page = admin.get(&ticket_path(&pid)).await;
    assert_eq!(page.texts("#dooray-conversation .dooray-task").len(), 2);
    // Events of the old task no longer move the ticket.
    let old = hook_payload("postWorkflowChanged", TENANT, PROJECT, &post, "working").to_string();
    assert_eq!(send_hook(&app, "demo", &old).await.0, 200);
    assert_eq!(
        app.ticket(tid).transfer_state(),
        TransferState::DoorayTransferred
    );

    // Denials on the ticket routes.
    let other = app.create_service("other");
    let stranger = app.create_member("stranger", "Stranger", false);
    app.add_to_service(other, stranger, "admin");
    let s = app.login("stranger").await;
    assert_eq!(
        s.get(&format!("{}/dooray", ticket_path(&pid))).await.status,
        403
    );
    let r = s
        .post_form(
            &format!("{}/dooray", ticket_path(&pid)),
            &[("subject", "x")],
        )
        .await;
    assert_eq!(r.status, 403);
    let anon = app.client();
    let r = anon.get(&format!("{}/dooray", ticket_path(&pid))).await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"));
    let r = admin
        .post_form_raw(
            &format!("{}/dooray", ticket_path(&pid)),
            &[("subject", "x")],
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = admin
        .post_form_raw(
            &format!("{}/dooray/comment", ticket_path(&pid)),
            &[("body", "x")],
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
}

#[actix_web::test]
async fn an_agent_not_in_the_project_transfers_as_the_default_registrant() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let fake = Fake::start().await;
    let admin = app.login("admin").await;
    configure(&app, &admin, &fake).await;
    let agent = app.create_member("agent", "Agent A", false);
    app.add_to_service(fx.service_id, agent, "agent");
    let (tid, pid) = app.create_ticket(fx.service_id, "Refund", "casey@example.com");
    let a = app.login("agent").await;
    let r = transfer(&a, &pid, &[("assignees", ""), ("tags", "")]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let posts = fake.calls("POST", "/posts");
    assert_eq!(
        posts[0].body["users"]["from"]["member"]["organizationMemberId"],
        "M-DEFAULT"
    );
    assert_eq!(posts[0].body["users"]["to"], json!([]));
    let t = app.ticket(tid);
    assert_eq!(t.transfer_state(), TransferState::DoorayTransferred);
    assert_eq!(t.assignee_id, Some(agent));
}

#[actix_web::test]
async fn pause_hides_the_button_and_refuses_the_dialog() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let fake = Fake::start().await;
    let admin = app.login("admin").await;
    configure(&app, &admin, &fake).await;
    let (_, pid) = app.create_ticket(fx.service_id, "Paused", "casey@example.com");
    enable(&admin, true).await;
    let page = admin.get(&ticket_path(&pid)).await;
    assert_eq!(page.status, 200);
    assert!(!page.has("#dooray-transfer-link"));
    let r = admin.get(&format!("{}/dooray", ticket_path(&pid))).await;
    assert_eq!(r.status, 403);
    assert!(r.text.contains("paused"));
    let r = admin
        .post_form(
            &format!("{}/dooray", ticket_path(&pid)),
            &[("subject", "x")],
        )
        .await;
    assert_eq!(r.status, 403);
    // The settings are kept: resuming shows the button again.
    let settings = admin.get(SETTINGS).await;
    assert!(settings.has("#f-enabled[checked]") && settings.has("#f-paused[checked]"));
    enable(&admin, false).await;
    assert!(
        admin
            .get(&ticket_path(&pid))
            .await
            .has("#dooray-transfer-link")
    );
    assert!(fake.calls("POST", "/posts").is_empty());
}

#[actix_web::test]
async fn dooray_failures_are_explained_and_change_nothing() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let fake = Fake::start().await;
    let admin = app.login("admin").await;
    configure(&app, &admin, &fake).await;
    let (tid, pid) = app.create_ticket(fx.service_id, "Broken", "casey@example.com");
    let before = app.ticket(tid);

    fake.set(|s| s.fail = Some(500));
    let r = transfer(&admin, &pid, &[]).await;
    assert_eq!(r.status, 502, "{}", r.text);
    let alert = r.texts("#dooray-alert")[0].clone();
    assert!(alert.contains("the ticket was not changed"), "{alert}");
    assert!(alert.contains("HTTP 500: Internal error"), "{alert}");
    // The typed values are kept.
    assert!(r.has("input[name=tags][value='T-1, T-2']"));

    fake.set(|s| {
        s.fail = None;
        s.refuse = true;
    });
    let r = transfer(&admin, &pid, &[]).await;
    assert_eq!(r.status, 502);
    assert!(r.texts("#dooray-alert")[0].contains("tag is mandatory"));

    fake.set(|s| {
        s.refuse = false;
        s.slow = true;
    });
    let r = transfer(&admin, &pid, &[]).await;
    assert_eq!(r.status, 502);
    assert!(r.texts("#dooray-alert")[0].contains("did not answer within 8 seconds"));

    let after = app.ticket(tid);
    assert_eq!(after.transfer_state(), TransferState::None);
    assert_eq!(after.version, before.version);
    assert_eq!(after.status, before.status);
    assert_eq!(task_count(&app), 0);
    let page = admin.get(&ticket_path(&pid)).await;
    assert!(page.has("#dooray-transfer-link"));
    assert!(!page.has("#dooray-conversation"));
}

#[actix_web::test]
async fn a_refused_token_is_explained_and_comment_failures_keep_the_text() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let fake = Fake::start().await;
    let admin = app.login("admin").await;
    let org = configure(&app, &admin, &fake).await;
    let (tid, pid) = app.create_ticket(fx.service_id, "Token", "casey@example.com");
    assert_eq!(transfer(&admin, &pid, &[]).await.status, 303);
    fake.set(|s| s.fail = Some(500));
    let form = reqwest::multipart::Form::new().text("body", "<p>Keep me</p>");
    let r = admin
        .post_multipart(&format!("{}/dooray/comment", ticket_path(&pid)), form)
        .await;
    assert_eq!(r.status, 502);
    assert!(r.texts("#process-alert")[0].contains("your text is kept"));
    assert!(r.text.contains("Keep me"));
    let n: i64 = app.db(|c| dooray_comments::table.count().get_result(c));
    assert_eq!(n, 0);
    // A wrong token: Dooray! answers 401.
    fake.set(|s| s.fail = None);
    let r = admin
        .post_form(
            &format!("{SETTINGS}/orgs/{org}"),
            &[
                ("name", "Acme"),
                ("tenant_ref", TENANT),
                ("api_base", &fake.base),
                ("token", "wrong"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let form = reqwest::multipart::Form::new().text("body", "<p>Again</p>");
    let r = admin
        .post_multipart(&format!("{}/dooray/comment", ticket_path(&pid)), form)
        .await;
    assert_eq!(r.status, 502);
    assert!(r.texts("#process-alert")[0].contains("refused the tenant token (HTTP 401)"));
    assert_eq!(
        app.ticket(tid).transfer_state(),
        TransferState::DoorayTransferred
    );
}

#[actix_web::test]
async fn the_transferred_view_splits_by_type_and_lifecycle_guards_hold() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (sid, admin_id) = (fx.service_id, fx.admin_id);
    let (dooray, _) = app.create_ticket(sid, "Sent to Dooray", "a@example.com");
    let (issue, _) = app.create_ticket(sid, "Sent to issue", "b@example.com");
    let (plain, _) = app.create_ticket(sid, "Not transferred", "c@example.com");
    let t = app.ticket(dooray);
    app.db(|c| Ok(lifecycle::dooray_transferred(c, &t, admin_id, "cs/1")))
        .unwrap();
    // Refused while the task is open, and on a ticket transferred to issue management.
    let t = app.ticket(dooray);
    assert_eq!(
        app.db(|c| Ok(lifecycle::dooray_transferred(c, &t, admin_id, "cs/2"))),
        Err(LifecycleError::NotAllowed)
    );
    let im = opencontact::tenancy::service::NewService {
        code: "issues".into(),
        kind: ServiceKind::Issue,
        name: "Issues".into(),
        languages: vec![opencontact::i18n::Lang::En],
        default_lang: opencontact::i18n::Lang::En,
        timezone: "UTC".into(),
        editor_type: opencontact::db::types::EditorType::Html,
    };
    let im_id = app
        .state
        .db
        .write_blocking(|c| opencontact::tenancy::service::Service::create(c, &im))
        .unwrap();
    let (im_ticket, _) = app.create_ticket(im_id, "Issue copy", "b@example.com");
    let t = app.ticket(issue);
    app.db(|c| Ok(lifecycle::transferred(c, &t, admin_id, im_ticket)))
        .unwrap();
    let t = app.ticket(issue);
    assert_eq!(
        app.db(|c| Ok(lifecycle::dooray_transferred(c, &t, admin_id, "cs/3"))),
        Err(LifecycleError::AlreadyTransferred)
    );
    // The webhook's change does not apply to a ticket outside the Dooray! sub-states.
    let t = app.ticket(plain);
    assert_eq!(
        app.db(|c| Ok(lifecycle::dooray_progress(
            c,
            &t,
            TransferState::DoorayAnswered
        ))),
        Ok(false)
    );
    let t = app.ticket(dooray);
    assert_eq!(
        app.db(|c| Ok(lifecycle::dooray_progress(
            c,
            &t,
            TransferState::DoorayInProgress
        ))),
        Ok(true)
    );

    let c = app.login("admin").await;
    let base = "/demo/console/tickets";
    let r = c.get(&format!("{base}?view=transferred")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut subjects = r.texts(".tc-subject a");
    subjects.sort();
    assert_eq!(subjects, vec!["Sent to Dooray", "Sent to issue"]);
    assert!(
        r.texts("span.st")
            .contains(&"Dooray in progress".to_string())
    );
    let subs = r.texts(".tc-view-sub a .tc-view-name");
    assert!(
        subs.contains(&"To issue management".to_string()),
        "{subs:?}"
    );
    assert!(subs.contains(&"To Dooray!".to_string()), "{subs:?}");
    let r = c.get(&format!("{base}?view=transferred_dooray")).await;
    assert_eq!(r.texts(".tc-subject a"), vec!["Sent to Dooray"]);
    assert!(r.texts("h2#tc-list-title")[0].contains("To Dooray!"));
    let r = c.get(&format!("{base}?view=transferred_issue")).await;
    assert_eq!(r.texts(".tc-subject a"), vec!["Sent to issue"]);
    // "My transfers" counts open Dooray! transfers too.
    let r = c.get(&format!("{base}?view=mine_transfers")).await;
    let mut mine = r.texts(".tc-subject a");
    mine.sort();
    assert_eq!(mine, vec!["Sent to Dooray", "Sent to issue"]);
    // The status search knows the Dooray! sub-states.
    let r = c
        .get(&format!("{base}/search?search=1&status=dooray_in_progress"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.texts(".tc-subject a"), vec!["Sent to Dooray"]);
}

#[actix_web::test]
async fn issue_management_tickets_transfer_to_dooray_too() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let fake = Fake::start().await;
    let im = opencontact::tenancy::service::NewService {
        code: "issues".into(),
        kind: ServiceKind::Issue,
        name: "Issues".into(),
        languages: vec![opencontact::i18n::Lang::En],
        default_lang: opencontact::i18n::Lang::En,
        timezone: "UTC".into(),
        editor_type: opencontact::db::types::EditorType::Html,
    };
    let im_id = app
        .state
        .db
        .write_blocking(|c| opencontact::tenancy::service::Service::create(c, &im))
        .unwrap();
    app.add_to_service(im_id, fx.admin_id, "admin");
    let admin = app.login("admin").await;
    let base = "/issues/console/settings/dooray";
    assert_eq!(admin.get(base).await.status, 200);
    let r = admin
        .post_form(
            &format!("{base}/orgs"),
            &[
                ("name", "Acme"),
                ("tenant_ref", TENANT),
                ("api_base", &fake.base),
                ("token", TOKEN),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = admin
        .post_form(
            &format!("{}/projects", r.location()),
            &[
                ("name", "Dev"),
                ("url", "https://acme.dooray.com/project/5005"),
                ("project_ref", ""),
                ("registrant_ref", "M-DEFAULT"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = admin
        .post_form(
            base,
            &[
                ("enabled", "on"),
                ("subject_template", "#{subject}"),
                ("body_template", "<p>#{inquiry}</p>"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let (tid, pid) = app.create_ticket(im_id, "Escalated bug", "dev@example.com");
    let page = admin.get(&format!("/issues/console/tickets/{pid}")).await;
    let href = page.texts("#dooray-transfer-link");
    assert_eq!(href.len(), 1, "{}", page.text);
    let dialog = admin
        .get(&format!("/issues/console/tickets/{pid}/dooray"))
        .await;
    let sel = scraper::Selector::parse("input[name=version]").unwrap();
    let version = dialog
        .doc()
        .select(&sel)
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_string();
    let sel = scraper::Selector::parse("#f-project_id option[selected]").unwrap();
    let project = dialog
        .doc()
        .select(&sel)
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_string();
    let r = admin
        .post_form(
            &format!("/issues/console/tickets/{pid}/dooray"),
            &[
                ("project_id", &project),
                ("subject", "Escalated bug"),
                ("body", "<p>See ticket</p>"),
                ("tags", ""),
                ("assignees", ""),
                ("priority", "none"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        fake.calls("POST", "/project/v1/projects/5005/posts").len(),
        1
    );
    assert_eq!(
        app.ticket(tid).transfer_state(),
        TransferState::DoorayTransferred
    );
    // The webhook of another service's registration does not reach it.
    let post = post_ref_of(&app, tid);
    let done = hook_payload("postWorkflowChanged", TENANT, "5005", &post, "closed").to_string();
    assert_eq!(send_hook(&app, "demo", &done).await.0, 403);
    assert_eq!(send_hook(&app, "issues", &done).await.0, 200);
    assert_eq!(
        app.ticket(tid).transfer_state(),
        TransferState::DoorayAnswered
    );
}
