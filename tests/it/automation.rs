//! Triggers: the settings screen, evaluation on ticket creation and change, round-robin
//! assignment, notification mails, forwards, and signed callback URLs delivered to a real local
//! HTTP receiver with retries.

use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use hmac::{Hmac, Mac};
use opencontact::db::schema::{
    agent_groups, group_members, service_members, trigger_firings, triggers, webhook_deliveries,
};
use opencontact::db::types::ServiceKind;
use opencontact::tickets::Status;
use opencontact::tickets::lifecycle::{self, Action, ProcessInput};
use sha2::Sha256;

use crate::support::{Client, TestApp};

const BASE: &str = "/demo/console/settings/triggers";

/// One received request: headers and body.
type Call = (Vec<(String, String)>, String);

/// A real HTTP receiver: records every request and answers with the next queued status
/// (200 once the queue is empty).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Call>>>,
    answers: Arc<Mutex<Vec<u16>>>,
    url: String,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let r = Receiver {
            url: format!("http://127.0.0.1:{port}/hook"),
            ..Receiver::default()
        };
        let r2 = r.clone();
        let server = actix_web::HttpServer::new(move || {
            let r3 = r2.clone();
            actix_web::App::new().default_service(actix_web::web::to(
                move |req: actix_web::HttpRequest, body: String| {
                    let r4 = r3.clone();
                    async move {
                        let headers = req
                            .headers()
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                            .collect();
                        r4.got.lock().unwrap().push((headers, body));
                        let code = {
                            let mut a = r4.answers.lock().unwrap();
                            if a.is_empty() { 200 } else { a.remove(0) }
                        };
                        actix_web::HttpResponse::build(
                            actix_web::http::StatusCode::from_u16(code).unwrap(),
                        )
                        .finish()
                    }
                },
            ))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        r
    }

    async fn wait_for(&self, n: usize) -> Vec<Call> {
        for _ in 0..100 {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("expected {n} calls, got {}", self.got.lock().unwrap().len());
    }
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// A group with members in order; returns its id.
fn group(app: &TestApp, service_id: i64, name: &str, members: &[i64]) -> i64 {
    let name = name.to_string();
    let members = members.to_vec();
    app.db(move |c| {
        let t = opencontact::db::now();
        let id: i64 = diesel::insert_into(agent_groups::table)
            .values((
                agent_groups::service_id.eq(service_id),
                agent_groups::name.eq(name),
                agent_groups::created_at.eq(t),
                agent_groups::updated_at.eq(t),
            ))
            .returning(agent_groups::id)
            .get_result(c)?;
        for (i, m) in members.iter().enumerate() {
            diesel::insert_into(group_members::table)
                .values((
                    group_members::group_id.eq(id),
                    group_members::user_id.eq(m),
                    group_members::position.eq(i as i32),
                ))
                .execute(c)?;
        }
        Ok(id)
    })
}

async fn save_trigger(admin: &Client, fields: &[(&str, &str)]) -> i64 {
    let r = admin.post_form(&format!("{BASE}/new"), fields).await;
    assert_eq!(r.status, 303, "{:?}", r.texts(".field-error"));
    r.location().rsplit('/').next().unwrap().parse().unwrap()
}

struct World {
    app: TestApp,
    admin: Client,
    sid: i64,
    admin_id: i64,
    ann: i64,
    bob: i64,
    billing: i64,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let ann = app.create_member("ann", "Ann Agent", false);
    let bob = app.create_member("bob", "Bob Agent", false);
    let carl = app.create_member("carl", "Carl Off", false);
    for a in [ann, bob, carl] {
        app.add_to_service(fx.service_id, a, "agent");
    }
    // Carl's assignment toggle is off: never picked.
    app.db(move |c| {
        diesel::update(
            service_members::table
                .filter(service_members::user_id.eq(carl))
                .filter(service_members::service_id.eq(fx.service_id)),
        )
        .set(service_members::ticket_assignable.eq(false))
        .execute(c)
    });
    let billing = group(&app, fx.service_id, "Billing", &[ann, carl, bob]);
    let admin = app.login("admin").await;
    World {
        app,
        admin,
        sid: fx.service_id,
        admin_id: fx.admin_id,
        ann,
        bob,
        billing,
    }
}

#[actix_web::test]
async fn vip_refunds_go_round_robin_notify_the_group_and_call_the_crm() {
    let w = world().await;
    let crm = Receiver::start().await;
    let billing = w.billing.to_string();
    let id = save_trigger(
        &w.admin,
        &[
            ("title", "VIP refunds"),
            ("c0_mode", "and"),
            ("c0_target", "subject"),
            ("c0_op", "contains"),
            ("c0_value", "Refund"),
            ("c1_mode", "and"),
            ("c1_target", "customer_email"),
            ("c1_op", "contains"),
            ("c1_value", "vip"),
            ("c2_mode", "and"),
            ("c2_target", "event"),
            ("c2_op", "equals"),
            ("c2_value", "created"),
            ("a0_kind", "assign"),
            ("a0_group", &billing),
            ("a0_strategy", "round_robin"),
            ("a1_kind", "notify_mail"),
            ("a1_recipients", "group"),
            ("a1_subject_en", "New VIP refund #{ticketId}"),
            ("a1_body_en", "#{customerEmail} wrote: #{subject}"),
            ("a2_kind", "callback"),
            ("a2_url", &crm.url),
        ],
    )
    .await;
    let page = w.admin.get(BASE).await;
    assert_eq!(
        page.texts("#active-triggers .trigger-title"),
        ["VIP refunds"]
    );

    let mut assignees = Vec::new();
    let mut public_ids = Vec::new();
    for i in 0..4 {
        let (tid, pid) = w.app.create_ticket(
            w.sid,
            &format!("Refund order {i}"),
            &format!("vip{i}@example.com"),
        );
        let t = w.app.ticket(tid);
        assert_eq!(t.status(), Status::Open, "assigned tickets are processing");
        assert_eq!(t.group_id, Some(w.billing));
        assignees.push(t.assignee_id.unwrap());
        public_ids.push(pid);
    }
    // Carl (assignment off) is skipped; Ann and Bob take turns in the group's order.
    assert_eq!(assignees, [w.ann, w.bob, w.ann, w.bob]);
    // Not VIP: nothing happens.
    let (plain, _) = w
        .app
        .create_ticket(w.sid, "Refund please", "joe@example.com");
    assert_eq!(w.app.ticket(plain).assignee_id, None);

    // The group (Ann, Carl, Bob) is notified of each of the four.
    let mails = w.app.smtp.wait_for(12).await;
    let to_ann: Vec<_> = mails
        .iter()
        .filter(|m| m.to == ["ann@acme.test"])
        .map(|m| m.subject())
        .collect();
    assert_eq!(to_ann.len(), 4);
    assert!(to_ann.contains(&format!("New VIP refund {p} [#{p}]", p = public_ids[0])));
    assert!(
        mails[0]
            .text()
            .contains("vip0@example.com wrote: Refund order 0")
    );

    // The CRM got four signed calls.
    let calls = crm.wait_for(4).await;
    let enc: String = w
        .app
        .db(move |c| triggers::table.find(id).select(triggers::secret).first(c));
    let secret = w.app.state.secret.decrypt(&enc).unwrap();
    for (headers, body) in &calls {
        let ts = header(headers, "x-opencontact-timestamp");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{ts}.{body}").as_bytes());
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(header(headers, "x-opencontact-signature"), expected);
        assert_eq!(header(headers, "content-type"), "application/json");
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["event"], "created");
        assert_eq!(v["serviceId"], w.sid);
        assert_eq!(v["status"], "open");
    }
    let ids: Vec<String> = calls
        .iter()
        .map(|(_, b)| {
            serde_json::from_str::<serde_json::Value>(b).unwrap()["ticketId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for p in &public_ids {
        assert!(ids.contains(p));
    }

    // The trigger's page shows its firings and deliveries; the test run explains a ticket.
    let page = w
        .admin
        .get(&format!("{BASE}/{id}?ticket={}", public_ids[0]))
        .await;
    assert_eq!(page.texts("#firings tr").len(), 4);
    assert_eq!(
        page.texts("#test-result"),
        ["On creation: fires. On an update: does not fire."]
    );
}

#[actix_web::test]
async fn failing_callbacks_are_retried_and_logged() {
    let w = world().await;
    let crm = Receiver::start().await;
    crm.answers.lock().unwrap().extend([500, 503]);
    let id = save_trigger(
        &w.admin,
        &[
            ("title", "Status to CRM"),
            ("c0_target", "status"),
            ("c0_op", "changed_to"),
            ("c0_value", "solved"),
            ("a0_kind", "callback"),
            ("a0_url", &crm.url),
        ],
    )
    .await;
    let (tid, _) = w.app.create_ticket(w.sid, "Question", "q@example.com");
    assert!(
        crm.got.lock().unwrap().is_empty(),
        "creation does not match"
    );
    let t = w.app.ticket(tid);
    let actor = w.admin_id;
    w.app.db(move |c| {
        lifecycle::process(
            c,
            &t,
            &ProcessInput {
                action: Action::Resolve,
                actor,
                body: "<p>Done</p>",
                files: &[],
                client_token: None,
                resolution_category_id: None,
                priority: None,
                service_kind: ServiceKind::Consultation,
            },
        )
        .map_err(|_| diesel::result::Error::RollbackTransaction)
    });
    w.app.run_pending_jobs().await;
    crm.wait_for(1).await;
    // Speed the backoff up: make the retry due now, twice.
    for n in 2..=3 {
        let (status, attempts): (String, i32) = w.app.db(|c| {
            webhook_deliveries::table
                .select((webhook_deliveries::status, webhook_deliveries::attempts))
                .first(c)
        });
        assert_eq!((status.as_str(), attempts), ("pending", n - 1));
        w.app.db(|c| {
            diesel::update(webhook_deliveries::table)
                .set(webhook_deliveries::next_attempt_at.eq(opencontact::db::now()))
                .execute(c)
        });
        w.app.run_pending_jobs().await;
        crm.wait_for(n as usize).await;
    }
    let last: (String, i32, Option<i32>) = w.app.db(|c| {
        webhook_deliveries::table
            .select((
                webhook_deliveries::status,
                webhook_deliveries::attempts,
                webhook_deliveries::last_status,
            ))
            .first(c)
    });
    assert_eq!(last, ("delivered".to_string(), 3, Some(200)));
    let page = w.admin.get(&format!("{BASE}/{id}")).await;
    assert_eq!(page.texts("#deliveries .delivery-status"), ["delivered"]);
}

#[actix_web::test]
async fn order_decides_the_last_word_and_forward_completes() {
    let w = world().await;
    let billing = w.billing.to_string();
    let (ann, bob) = (w.ann.to_string(), w.bob.to_string());
    let to_ann = save_trigger(
        &w.admin,
        &[
            ("title", "To Ann"),
            ("c0_target", "channel"),
            ("c0_op", "equals"),
            ("c0_value", "web"),
            ("a0_kind", "assign"),
            ("a0_group", &billing),
            ("a0_strategy", "agent"),
            ("a0_agent", &ann),
        ],
    )
    .await;
    let to_bob = save_trigger(
        &w.admin,
        &[
            ("title", "To Bob"),
            ("c0_target", "channel"),
            ("c0_op", "equals"),
            ("c0_value", "web"),
            ("a0_kind", "assign"),
            ("a0_group", &billing),
            ("a0_strategy", "agent"),
            ("a0_agent", &bob),
        ],
    )
    .await;
    let (t1, _) = w.app.create_ticket(w.sid, "One", "a@example.com");
    assert_eq!(
        w.app.ticket(t1).assignee_id,
        Some(w.bob),
        "the last one wins"
    );
    // Bob's trigger moved to the top: now Ann's runs last.
    let r = w
        .admin
        .post_form(
            &format!("{BASE}/order"),
            &[
                ("trigger_id", &to_bob.to_string()),
                ("trigger_id", &to_ann.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let (t2, _) = w.app.create_ticket(w.sid, "Two", "b@example.com");
    assert_eq!(w.app.ticket(t2).assignee_id, Some(w.ann));

    // Disabled triggers do not run; only disabled ones can be deleted.
    for id in [to_ann, to_bob] {
        let r = w.admin.post_form(&format!("{BASE}/{id}/delete"), &[]).await;
        assert_eq!(r.status, 400);
        let r = w
            .admin
            .post_form(&format!("{BASE}/{id}/disable"), &[])
            .await;
        assert_eq!(r.status, 303);
    }
    let page = w.admin.get(BASE).await;
    assert_eq!(page.texts("#disabled-triggers .trigger-title").len(), 2);
    let (t3, _) = w.app.create_ticket(w.sid, "Three", "c@example.com");
    assert_eq!(w.app.ticket(t3).assignee_id, None);
    let r = w
        .admin
        .post_form(&format!("{BASE}/{to_ann}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    let left: i64 = w.app.db(|c| triggers::table.count().get_result(c));
    assert_eq!(left, 1);

    // Forward externally, then complete.
    save_trigger(
        &w.admin,
        &[
            ("title", "Legal"),
            ("c0_target", "subject"),
            ("c0_op", "contains"),
            ("c0_value", "lawsuit"),
            ("a0_kind", "forward"),
            ("a0_addresses", "legal@partner.example"),
            ("a0_complete", "on"),
        ],
    )
    .await;
    let (t4, p4) = w.app.create_ticket(w.sid, "A lawsuit", "d@example.com");
    assert_eq!(w.app.ticket(t4).status(), Status::Closed);
    let mails = w.app.smtp.wait_for(1).await;
    let fwd = mails
        .iter()
        .find(|m| m.to == ["legal@partner.example"])
        .unwrap();
    assert!(fwd.subject().contains(&p4));
    assert!(fwd.text().contains(&format!("/demo/console/tickets/{p4}")));
    let firings: i64 = w.app.db(|c| trigger_firings::table.count().get_result(c));
    assert!(firings >= 3);
}

#[actix_web::test]
async fn the_form_checks_rows_and_only_admins_get_in() {
    let w = world().await;
    let r = w
        .admin
        .post_form(
            &format!("{BASE}/new"),
            &[
                ("title", ""),
                ("c0_target", "status"),
                ("c0_op", "contains"),
                ("c0_value", "x"),
                ("c1_target", "nonsense"),
                ("c1_op", "equals"),
                ("c1_value", "x"),
                ("c2_target", "priority"),
                ("c2_op", "equals"),
                ("a0_kind", "callback"),
                ("a0_url", "ftp://example.com/x"),
                ("a1_kind", "assign"),
                ("a1_strategy", "agent"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("title"), "This field is required.");
    assert_eq!(
        r.field_error("c0"),
        "This operator does not apply to the target."
    );
    assert_eq!(r.field_error("c1"), "Choose a target from the list.");
    assert_eq!(r.field_error("c2"), "Enter a value.");
    assert_eq!(r.field_error("a0"), "Enter an http:// or https:// URL.");
    assert!(r.field_error("a1").starts_with("Choose a group"));
    let r = w
        .admin
        .post_form(&format!("{BASE}/new"), &[("title", "Empty")])
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("conditions"), "Add at least one condition.");
    assert_eq!(r.field_error("actions"), "Add at least one action.");
    let n: i64 = w.app.db(|c| triggers::table.count().get_result(c));
    assert_eq!(n, 0, "nothing saved");

    let agent = w.app.login("ann").await;
    assert_eq!(agent.get(BASE).await.status, 403);
    assert_eq!(
        agent
            .post_form(&format!("{BASE}/new"), &[("title", "x")])
            .await
            .status,
        403
    );
    let r = w.app.client().get(BASE).await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"));
    let r = w
        .admin
        .post_form_raw(&format!("{BASE}/new"), &[("title", "x")], &[])
        .await;
    assert_eq!(r.status, 403);
    // Another service's admin cannot see this service's triggers.
    let outsider = w.app.create_member("olga", "Olga Other", false);
    let other = w.app.create_service("other");
    w.app.add_to_service(other, outsider, "admin");
    let olga = w.app.login("olga").await;
    assert_eq!(olga.get(BASE).await.status, 403);
    assert_eq!(
        olga.get("/other/console/settings/triggers").await.status,
        200
    );
}

#[actix_web::test]
async fn round_robin_is_fair_under_parallel_creation() {
    let w = world().await;
    let billing = w.billing.to_string();
    save_trigger(
        &w.admin,
        &[
            ("title", "Spread"),
            ("c0_target", "event"),
            ("c0_op", "equals"),
            ("c0_value", "created"),
            ("a0_kind", "assign"),
            ("a0_group", &billing),
            ("a0_strategy", "round_robin"),
        ],
    )
    .await;
    let mut handles = Vec::new();
    for i in 0..10 {
        let state = w.app.state.clone();
        let sid = w.sid;
        handles.push(actix_web::rt::spawn(async move {
            let secret = state.secret.clone();
            state
                .db
                .write(move |c| {
                    Ok(opencontact::tickets::create_ticket(
                        c,
                        &secret,
                        &opencontact::tickets::NewTicket {
                            service_id: sid,
                            customer_id: None,
                            category_id: None,
                            channel: opencontact::tickets::Channel::Web,
                            lang: "en",
                            subject: &format!("Parallel {i}"),
                            body: "<p>x</p>",
                            values: &[],
                            files: &[],
                            creator_id: None,
                            group_id: None,
                            assignee_id: None,
                            origin_ticket_id: None,
                        },
                    )?)
                })
                .await
                .unwrap()
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let assignees: Vec<Option<i64>> = w.app.db(|c| {
        opencontact::db::schema::tickets::table
            .select(opencontact::db::schema::tickets::assignee_id)
            .load(c)
    });
    let ann = assignees.iter().filter(|a| **a == Some(w.ann)).count();
    let bob = assignees.iter().filter(|a| **a == Some(w.bob)).count();
    assert_eq!((ann, bob), (5, 5), "{assignees:?}");
}

const SURGE: &str = "/demo/console/settings/surge-alert";

#[actix_web::test]
async fn a_burst_raises_one_surge_alert_by_every_medium() {
    let w = world().await;
    let dooray = Receiver::start().await;
    let r = w
        .admin
        .post_form(
            &format!("{SURGE}/recipients"),
            &[
                ("r_name", "Night manager"),
                ("r_email", "night@partner.example"),
                ("r_phone", "010-1234-5678"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let rid: i64 = w.app.db(|c| {
        opencontact::db::schema::surge_recipients::table
            .select(opencontact::db::schema::surge_recipients::id)
            .first(c)
    });
    let (ann, rid) = (w.ann.to_string(), rid.to_string());
    let mut fields = vec![
        ("enabled", "on"),
        ("threshold", "20"),
        ("window_minutes", "5"),
        ("cooldown_minutes", "60"),
        ("agent", ann.as_str()),
        ("recipient", rid.as_str()),
        ("by_browser", "on"),
        ("browser_text", "#{count} in #{minutes} min"),
        ("by_email", "on"),
        ("email_subject", "Surge at #{serviceName}"),
        ("email_body", "#{count} inquiries in #{minutes} minutes"),
        ("by_sms", "on"),
        ("sms_text", "Surge: #{count}"),
        ("by_dooray", "on"),
        ("dooray_url", dooray.url.as_str()),
        ("dooray_text", "Surge #{count}"),
    ];
    let days: Vec<String> = (0..7).map(|d| format!("day{d}")).collect();
    for d in &days {
        fields.push((d.as_str(), "on"));
    }
    let r = w.admin.post_form(SURGE, &fields).await;
    assert_eq!(r.status, 303, "{:?}", r.texts(".field-error"));

    // Ann listens in the console.
    let ann_client = w.app.login("ann").await;
    let mut stream = ann_client
        .http
        .get(format!("{}/demo/console/alerts/stream", w.app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(
        stream.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );

    // 20 inquiries within five minutes: one alert, not twenty.
    for i in 0..25 {
        w.app
            .create_ticket(w.sid, &format!("Outage {i}"), &format!("c{i}@example.com"));
    }
    let alerts: Vec<(i32, String)> = w.app.db(|c| {
        opencontact::db::schema::surge_alerts::table
            .select((
                opencontact::db::schema::surge_alerts::ticket_count,
                opencontact::db::schema::surge_alerts::message,
            ))
            .load(c)
    });
    assert_eq!(alerts, [(20, "20 in 5 min".to_string())]);
    let mails = w.app.smtp.wait_for(2).await;
    let mut to: Vec<String> = mails.iter().map(|m| m.to[0].clone()).collect();
    to.sort();
    assert_eq!(to, ["ann@acme.test", "night@partner.example"]);
    assert_eq!(mails[0].subject(), "Surge at Demo Support");
    assert!(mails[0].text().contains("20 inquiries in 5 minutes"));
    let sms: Vec<(String, String)> = w.app.db(|c| {
        opencontact::db::schema::sms_messages::table
            .select((
                opencontact::db::schema::sms_messages::to_phone,
                opencontact::db::schema::sms_messages::body,
            ))
            .load(c)
    });
    assert_eq!(
        sms,
        [("010-1234-5678".to_string(), "Surge: 20".to_string())]
    );
    let calls = dooray.wait_for(1).await;
    let v: serde_json::Value = serde_json::from_str(&calls[0].1).unwrap();
    assert_eq!(v["text"], "Surge 20");
    // The browser notification arrives on the stream.
    let mut seen = String::new();
    for _ in 0..10 {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.chunk())
            .await
            .expect("stream chunk")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if seen.contains("event: surge") {
            break;
        }
    }
    assert!(seen.contains("event: surge"), "{seen}");
    assert!(seen.contains("20 in 5 min"), "{seen}");
    w.app.run_pending_jobs().await;
    assert_eq!(
        w.app.smtp.received().len(),
        2,
        "no second alert in the cooldown"
    );

    // Weekdays switched off: nothing, even after the cooldown.
    let mut off: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| !k.starts_with("day"))
        .copied()
        .collect();
    off.retain(|(k, _)| *k != "by_dooray" && *k != "by_sms");
    let r = w.admin.post_form(SURGE, &off).await;
    assert_eq!(r.status, 303);
    w.app.db(|c| {
        diesel::update(opencontact::db::schema::surge_settings::table)
            .set(
                opencontact::db::schema::surge_settings::last_alert_at
                    .eq(None::<chrono::NaiveDateTime>),
            )
            .execute(c)
    });
    w.app.create_ticket(w.sid, "One more", "x@example.com");
    let n: i64 = w.app.db(|c| {
        opencontact::db::schema::surge_alerts::table
            .count()
            .get_result(c)
    });
    assert_eq!(n, 1);
    let page = w.admin.get(SURGE).await;
    assert_eq!(page.texts("#surge-alerts tr").len(), 1);
}

#[actix_web::test]
async fn surge_settings_check_input_and_permissions() {
    let w = world().await;
    let r = w
        .admin
        .post_form(
            SURGE,
            &[
                ("enabled", "on"),
                ("threshold", "0"),
                ("window_minutes", "abc"),
                ("cooldown_minutes", "5"),
                ("by_dooray", "on"),
                ("dooray_url", "not a url"),
                ("dooray_text", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.field_error("threshold"),
        "Enter a whole number from 1 to 10000."
    );
    assert_eq!(
        r.field_error("window_minutes"),
        "Enter a whole number from 1 to 1440."
    );
    assert_eq!(
        r.field_error("dooray_url"),
        "Enter an http:// or https:// URL."
    );
    let r = w
        .admin
        .post_form(
            &format!("{SURGE}/recipients"),
            &[("r_name", ""), ("r_email", "bad")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("r_name"), "This field is required.");
    assert_eq!(r.field_error("r_email"), "Enter a valid e-mail address.");
    let agent = w.app.login("ann").await;
    assert_eq!(agent.get(SURGE).await.status, 403);
    assert_eq!(
        agent.post_form(SURGE, &[("enabled", "on")]).await.status,
        403
    );
    assert_eq!(w.app.client().get(SURGE).await.status, 303);
    // The alert stream: signed-out visitors go to sign in; another service's agent is refused.
    let stream = "/demo/console/alerts/stream";
    assert_eq!(w.app.client().get(stream).await.status, 303);
    let other = w.app.create_service("other");
    let olga = w.app.create_member("olga", "Olga Other", false);
    w.app.add_to_service(other, olga, "agent");
    assert_eq!(w.app.login("olga").await.get(stream).await.status, 403);
    assert_eq!(
        w.admin
            .post_form_raw(SURGE, &[("enabled", "on")], &[])
            .await
            .status,
        403
    );
    let r = w
        .admin
        .post_form(&format!("{SURGE}/recipients/999/delete"), &[])
        .await;
    assert_eq!(r.status, 404);
}

/// A grade and a classification rule through the settings page; returns the grade's key.
async fn vip_grade(w: &World, emails: &[&str]) -> i64 {
    let grades = "/demo/console/settings/customer-grades";
    let r = w
        .admin
        .post_form(
            &format!("{grades}/grades"),
            &[("name", "VIP"), ("color", "red")],
        )
        .await;
    assert_eq!(r.status, 303);
    let vip: i64 = w.app.db(|c| {
        opencontact::db::schema::customer_grades::table
            .select(opencontact::db::schema::customer_grades::id)
            .first(c)
    });
    for e in emails {
        let r = w
            .admin
            .post_form(
                &format!("{grades}/rules"),
                &[
                    ("key_type", "email"),
                    ("value", e),
                    ("grade_id", &vip.to_string()),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{:?}", r.texts(".field-error"));
    }
    vip
}

fn resolve(w: &World, ticket: i64, body: &str) {
    let t = w.app.ticket(ticket);
    let actor = w.admin_id;
    let body = body.to_string();
    w.app.db(move |c| {
        lifecycle::process(
            c,
            &t,
            &ProcessInput {
                action: Action::Resolve,
                actor,
                body: &body,
                files: &[],
                client_token: None,
                resolution_category_id: None,
                priority: None,
                service_kind: ServiceKind::Consultation,
            },
        )
        .map_err(|_| diesel::result::Error::RollbackTransaction)
    });
}

#[actix_web::test]
async fn grade_and_language_shape_the_notification() {
    use opencontact::db::schema::{field_defs, services, ticket_field_values, tickets};
    let w = world().await;
    // The help center speaks English (default) and Korean.
    w.app.db(|c| {
        diesel::update(services::table)
            .set(services::languages.eq("en,ko"))
            .execute(c)
    });
    let vip = vip_grade(
        &w,
        &[
            "vip@example.com",
            "vip-ko@example.com",
            "vip-ja@example.com",
        ],
    )
    .await;
    let sid = w.sid;
    let now = opencontact::db::now();
    let order_field: i64 = w.app.db(move |c| {
        diesel::insert_into(field_defs::table)
            .values((
                field_defs::service_id.eq(sid),
                field_defs::audience.eq("agent"),
                field_defs::code.eq("orderNo"),
                field_defs::control.eq("text"),
                field_defs::is_system.eq(false),
                field_defs::config.eq(r#"{"labels":{"en":"Order"}}"#),
                field_defs::required.eq(false),
                field_defs::personal.eq(false),
                field_defs::visible.eq(true),
                field_defs::agent_permission.eq("agent"),
                field_defs::position.eq(10),
                field_defs::created_at.eq(now),
                field_defs::updated_at.eq(now),
            ))
            .returning(field_defs::id)
            .get_result(c)
    });

    // The form offers the grade and both languages.
    let form = w.admin.get(&format!("{BASE}/new")).await;
    assert_eq!(
        form.texts("select[name=c0_v_customer_grade] option"),
        ["—", "VIP"]
    );
    assert!(form.has("input[name=a0_subject_en]") && form.has("input[name=a0_subject_ko]"));
    // The default language's text is required; another language needs subject and body.
    let vip_s = vip.to_string();
    let base_fields = [
        ("title", "VIP solved"),
        ("c0_target", "customer_grade"),
        ("c0_op", "equals"),
        ("c0_v_customer_grade", vip_s.as_str()),
        ("c1_target", "status"),
        ("c1_op", "changed_to"),
        ("c1_v_status", "solved"),
        ("a0_kind", "notify_mail"),
        ("a0_recipients", "customer"),
    ];
    let mut bad = base_fields.to_vec();
    bad.extend([("a0_subject_ko", "해결"), ("a0_body_ko", "<p>x</p>")]);
    let r = w.admin.post_form(&format!("{BASE}/new"), &bad).await;
    assert_eq!(r.status, 422);
    assert!(
        r.field_error("a0")
            .starts_with("Choose recipients and write a subject")
    );
    let mut bad = base_fields.to_vec();
    bad.extend([
        ("a0_subject_en", "Solved"),
        ("a0_body_en", "<p>x</p>"),
        ("a0_subject_ko", "해결"),
    ]);
    assert_eq!(
        w.admin.post_form(&format!("{BASE}/new"), &bad).await.status,
        422
    );
    let mut bad = base_fields.to_vec();
    bad[3] = ("c0_v_customer_grade", "999");
    bad.extend([("a0_subject_en", "Solved"), ("a0_body_en", "<p>x</p>")]);
    let r = w.admin.post_form(&format!("{BASE}/new"), &bad).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("c0"), "Choose a value from the list.");

    let mut fields = base_fields.to_vec();
    fields.extend([
        ("a0_subject_en", "Solved: #{subject}"),
        (
            "a0_body_en",
            "<p>Hi #{customerName}, order #{field.orderNo} (#{ticketId}):</p><p>#{content}</p><script>x</script>",
        ),
        ("a0_subject_ko", "해결: #{subject}"),
        ("a0_body_ko", "<p>#{customerName}님</p><p>#{content}</p>"),
    ]);
    let id = save_trigger(&w.admin, &fields).await;
    // The saved trigger shows its values selected again.
    let page = w.admin.get(&format!("{BASE}/{id}")).await;
    assert_eq!(
        page.texts("select[name=c0_v_customer_grade] option[selected]"),
        ["VIP"]
    );
    assert_eq!(
        page.texts("select[name=c1_v_status] option[selected]"),
        ["Resolved"]
    );

    let (t_en, p_en) = w.app.create_ticket(w.sid, "Refund", "vip@example.com");
    let (t_ko, p_ko) = w.app.create_ticket(w.sid, "환불", "VIP-KO@example.com");
    let (t_ja, p_ja) = w.app.create_ticket(w.sid, "返金", "vip-ja@example.com");
    let (t_plain, _) = w.app.create_ticket(w.sid, "Refund", "plain@example.com");
    w.app.db(move |c| {
        diesel::update(tickets::table.find(t_ko))
            .set(tickets::lang.eq("ko"))
            .execute(c)?;
        diesel::update(tickets::table.find(t_ja))
            .set(tickets::lang.eq("ja"))
            .execute(c)?;
        diesel::insert_into(ticket_field_values::table)
            .values((
                ticket_field_values::ticket_id.eq(t_en),
                ticket_field_values::field_id.eq(order_field),
                ticket_field_values::value.eq("A-1"),
            ))
            .execute(c)
    });
    for t in [t_en, t_ko, t_ja, t_plain] {
        resolve(&w, t, "<p>Your refund is on its <b>way</b>.</p>");
    }
    w.app.run_pending_jobs().await;
    let mails = w.app.smtp.received();
    assert_eq!(w.app.smtp.received().len(), 3, "not for the plain customer");
    let to = |addr: &str| mails.iter().find(|m| m.to == [addr]).unwrap().clone();
    let en = to("vip@example.com");
    assert_eq!(en.subject(), format!("Solved: Refund [#{p_en}]"));
    let html = en.html();
    assert!(
        html.contains(&format!("Hi Casey Customer, order A-1 ({p_en}):")),
        "{html}"
    );
    assert!(html.contains("Your refund is on its <b>way</b>."), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert!(
        en.text().contains("Your refund is on its way."),
        "{}",
        en.text()
    );
    let ko = to("vip-ko@example.com");
    assert_eq!(ko.subject(), format!("해결: 환불 [#{p_ko}]"));
    assert!(ko.html().contains("Casey Customer님"), "{}", ko.html());
    // Japanese is not a help-center language: the default language's text.
    let ja = to("vip-ja@example.com");
    assert_eq!(ja.subject(), format!("Solved: 返金 [#{p_ja}]"));
    // The delivery log lists the notifications.
    let page = w.admin.get(&format!("{BASE}/{id}")).await;
    assert_eq!(
        page.texts("#deliveries .delivery-status"),
        ["delivered", "delivered", "delivered"]
    );
}

#[actix_web::test]
async fn only_agents_online_now_take_turns() {
    use opencontact::db::schema::users;
    let w = world().await;
    let billing = w.billing.to_string();
    let id = save_trigger(
        &w.admin,
        &[
            ("title", "Online only"),
            ("c0_target", "event"),
            ("c0_op", "equals"),
            ("c0_v_event", "created"),
            ("a0_kind", "assign"),
            ("a0_group", &billing),
            ("a0_strategy", "round_robin"),
            ("a0_online", "on"),
        ],
    )
    .await;
    let page = w.admin.get(&format!("{BASE}/{id}")).await;
    assert!(page.has("input[name=a0_online][checked]"));
    let assignee = |w: &World, n: &str| {
        let (t, _) = w.app.create_ticket(w.sid, n, "c@example.com");
        let t = w.app.ticket(t);
        assert_eq!(t.group_id, Some(w.billing), "always in the group");
        t.assignee_id
    };
    // Nobody online: the ticket waits in Billing, and the log says why.
    assert_eq!(assignee(&w, "one"), None);
    let page = w.admin.get(&format!("{BASE}/{id}")).await;
    assert!(
        page.texts("#firings tr")
            .join(" ")
            .contains("nobody online"),
        "{:?}",
        page.texts("#firings tr")
    );
    // Ann opens the console: she is online and takes every ticket.
    let ann = w.app.login("ann").await;
    assert_eq!(ann.get("/demo/console/").await.status, 200);
    assert_eq!(assignee(&w, "two"), Some(w.ann));
    assert_eq!(assignee(&w, "three"), Some(w.ann));
    // Bob comes online: turns alternate in the group's order.
    let bob = w.app.login("bob").await;
    bob.get("/demo/console/").await;
    assert_eq!(assignee(&w, "four"), Some(w.bob));
    assert_eq!(assignee(&w, "five"), Some(w.ann));
    // Ann signs out; Bob has not been seen for eleven minutes.
    assert_eq!(ann.post_form("/logout", &[]).await.status, 303);
    let (ann_id, bob_id) = (w.ann, w.bob);
    let seen: Option<chrono::NaiveDateTime> = w.app.db(move |c| {
        users::table
            .find(ann_id)
            .select(users::last_seen_at)
            .first(c)
    });
    assert_eq!(seen, None, "signing out ends the presence");
    assert_eq!(assignee(&w, "six"), Some(w.bob));
    w.app.db(move |c| {
        diesel::update(users::table.find(bob_id))
            .set(users::last_seen_at.eq(Some(
                opencontact::db::now() - chrono::TimeDelta::minutes(11),
            )))
            .execute(c)
    });
    assert_eq!(assignee(&w, "seven"), None);
    // Requests within a minute do not write again; the session remembers the last touch.
    bob.get("/demo/console/").await;
    assert_eq!(
        assignee(&w, "eight"),
        None,
        "touched less than a minute ago"
    );
}

#[actix_web::test]
async fn field_changes_fire_and_chat_messages_use_the_catalogue() {
    let w = world().await;
    let hook = Receiver::start().await;
    let vip = vip_grade(&w, &["vip@example.com"]).await;
    save_trigger(
        &w.admin,
        &[
            ("title", "Became VIP"),
            ("c0_target", "customer_grade"),
            ("c0_op", "changed_to"),
            ("c0_v_customer_grade", &vip.to_string()),
            ("a0_kind", "chat_webhook"),
            ("a0_url", &hook.url),
            (
                "a0_template",
                "#{ticketId} #{subject}: #{customerEmail} is VIP now (#{status}) #{unknown}",
            ),
        ],
    )
    .await;
    let (_, pid) = w
        .app
        .create_ticket(w.sid, "Order lost", "someone@example.com");
    let page_path = format!("/demo/console/tickets/{pid}");
    let page = w.admin.get(&page_path).await;
    assert!(!page.has("#customer-grade"));
    let version = page
        .doc()
        .select(&scraper::Selector::parse("#fields-form input[name=version]").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_string();
    let sid = w.sid;
    let field = |code: &'static str| {
        let id: i64 = w.app.db(move |c| {
            opencontact::db::schema::field_defs::table
                .filter(opencontact::db::schema::field_defs::service_id.eq(sid))
                .filter(opencontact::db::schema::field_defs::code.eq(code))
                .select(opencontact::db::schema::field_defs::id)
                .first(c)
        });
        format!("f{id}")
    };
    let r = w
        .admin
        .post_form(
            &format!("{page_path}/fields"),
            &[
                ("version", &version),
                (&field("name"), "Casey Customer"),
                (&field("subject"), "Order lost"),
                (&field("mail"), "vip@example.com"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let calls = hook.wait_for(1).await;
    let v: serde_json::Value = serde_json::from_str(&calls[0].1).unwrap();
    assert_eq!(v["botName"], "Demo Support");
    assert_eq!(
        v["text"],
        format!("{pid} Order lost: vip@example.com is VIP now (Received) #{{unknown}}")
    );
    let page = w.admin.get(&page_path).await;
    assert_eq!(page.texts("#customer-grade .grade-tag"), ["VIP"]);
}

/// The done-when of the automation issue, in a real browser: an administrator builds "customer
/// grade VIP and subject contains refund → assign round robin in Billing, notify the group, call
/// our CRM webhook" by clicking in the trigger form, drags it above an existing trigger (the new
/// order is saved), and VIP refund tickets are then spread over Billing, the group is mailed and
/// the CRM receives signed calls.
#[actix_web::test]
async fn an_administrator_builds_and_reorders_the_vip_refund_trigger_in_the_browser() {
    use fantoccini::Locator;
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};

    let w = world().await;
    let crm = Receiver::start().await;
    vip_grade(&w, &["vip@example.com", "vip2@example.com"]).await;
    let urgent = save_trigger(
        &w.admin,
        &[
            ("title", "Urgent outages"),
            ("c0_target", "subject"),
            ("c0_op", "contains"),
            ("c0_value", "outage"),
            ("a0_kind", "set_priority"),
            ("a0_priority", "urgent"),
        ],
    )
    .await;

    let b = crate::support::browser::Browser::start().await;
    b.sign_in(&w.app.base, "admin", format!("{BASE}/new")).await;
    let find = |css: String| {
        let client = b.client.clone();
        async move {
            client
                .find(Locator::Css(&css))
                .await
                .unwrap_or_else(|e| panic!("{css}: {e}"))
        }
    };
    b.wait_css("#title")
        .await
        .send_keys("VIP refunds")
        .await
        .unwrap();
    // Condition 1: customer grade equals VIP (the value list appears for the target).
    find("#c0_target".into())
        .await
        .select_by_value("customer_grade")
        .await
        .unwrap();
    find("#c0_op".into())
        .await
        .select_by_value("equals")
        .await
        .unwrap();
    b.wait_css("#c0_v_customer_grade:not([hidden])").await;
    find("#c0_v_customer_grade".into())
        .await
        .select_by_label("VIP")
        .await
        .unwrap();
    assert!(!find("#c0_value".into()).await.is_displayed().await.unwrap());
    // Condition 2: subject contains "refund".
    find("#c1_target".into())
        .await
        .select_by_value("subject")
        .await
        .unwrap();
    find("#c1_op".into())
        .await
        .select_by_value("contains")
        .await
        .unwrap();
    find("#c1_value".into())
        .await
        .send_keys("refund")
        .await
        .unwrap();
    // Action 1: assign round robin in Billing (the fields of other kinds stay hidden).
    assert!(!find("#a0_group".into()).await.is_displayed().await.unwrap());
    find("#a0_kind".into())
        .await
        .select_by_value("assign")
        .await
        .unwrap();
    find("#a0_group".into())
        .await
        .select_by_label("Billing")
        .await
        .unwrap();
    find("#a0_strategy".into())
        .await
        .select_by_value("round_robin")
        .await
        .unwrap();
    assert!(!find("#a0_url".into()).await.is_displayed().await.unwrap());
    // Action 2: notify the group by mail (the body in the rich-text editor).
    find("#a1_kind".into())
        .await
        .select_by_value("notify_mail")
        .await
        .unwrap();
    find("#a1_recipients_group".into())
        .await
        .click()
        .await
        .unwrap();
    find("#a1_subject_en".into())
        .await
        .send_keys("VIP refund #{ticketId}")
        .await
        .unwrap();
    let editor = find("#action-1 .lang-text[data-lang=en] .ql-editor".into()).await;
    editor.click().await.unwrap();
    editor
        .send_keys("#{customerEmail} asks: #{subject}")
        .await
        .unwrap();
    // Action 3: call the CRM, in a row added to the form (what was typed stays).
    find("#add-action".into()).await.click().await.unwrap();
    b.wait_css("#a2_kind").await;
    assert_eq!(
        find("#title".into())
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("VIP refunds")
    );
    find("#a2_kind".into())
        .await
        .select_by_value("callback")
        .await
        .unwrap();
    find("#a2_url".into())
        .await
        .send_keys(&crm.url)
        .await
        .unwrap();
    b.screenshot("trigger-form").await;
    find("#trigger-save".into()).await.click().await.unwrap();
    let flash = b.wait_css(".flash-success").await;
    assert_eq!(flash.text().await.unwrap(), "Trigger “VIP refunds” saved.");
    let vip_refunds: i64 = w.app.db(|c| {
        triggers::table
            .filter(triggers::title.eq("VIP refunds"))
            .select(triggers::id)
            .first(c)
    });

    // The list: new triggers are active at the end; drag it above "Urgent outages".
    b.client
        .goto(&format!("{}{BASE}", w.app.base))
        .await
        .unwrap();
    b.wait_css("#active-triggers[data-sortable-ready='1']")
        .await;
    let titles = |b: &crate::support::browser::Browser| {
        let client = b.client.clone();
        async move {
            let mut out = Vec::new();
            for e in client
                .find_all(Locator::Css("#active-triggers .trigger-title"))
                .await
                .unwrap()
            {
                out.push(e.text().await.unwrap());
            }
            out
        }
    };
    assert_eq!(titles(&b).await, ["Urgent outages", "VIP refunds"]);
    let handle = find(format!(
        "#active-triggers li[data-trigger='{vip_refunds}'] .drag-handle"
    ))
    .await;
    let first = find(format!("#active-triggers li[data-trigger='{urgent}']")).await;
    let mut drag = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: handle,
            duration: None,
            x: 0.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        });
    for _ in 0..4 {
        drag = drag.then(PointerAction::MoveBy {
            duration: Some(std::time::Duration::from_millis(50)),
            x: 0.0,
            y: -6.0,
        });
    }
    drag = drag
        .then(PointerAction::MoveToElement {
            element: first,
            duration: Some(std::time::Duration::from_millis(200)),
            x: 0.0,
            y: -8.0,
        })
        .then(PointerAction::MoveBy {
            duration: Some(std::time::Duration::from_millis(50)),
            x: 0.0,
            y: -2.0,
        })
        .then(PointerAction::Pause {
            duration: std::time::Duration::from_millis(300),
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    b.client.perform_actions(drag).await.unwrap();
    // The new order is saved (through htmx, without a page load) and survives a reload.
    let order = || {
        w.app.db(|c| {
            triggers::table
                .filter(triggers::enabled.eq(true))
                .order(triggers::position.asc())
                .select(triggers::title)
                .load::<String>(c)
        })
    };
    let mut saved = Vec::new();
    for _ in 0..50 {
        saved = order();
        if saved[0] == "VIP refunds" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(saved, ["VIP refunds", "Urgent outages"]);
    b.client.refresh().await.unwrap();
    b.wait_css("#active-triggers[data-sortable-ready='1']")
        .await;
    assert_eq!(titles(&b).await, ["VIP refunds", "Urgent outages"]);
    b.screenshot("triggers-reordered").await;
    b.close().await;

    // VIP refunds go round robin across Billing (Carl's assignment is off), the group is
    // mailed, the CRM gets signed calls; a VIP without "refund" and a refund without VIP do not.
    let mut assignees = Vec::new();
    let mut public_ids = Vec::new();
    for i in 0..4 {
        let email = if i % 2 == 0 {
            "vip@example.com"
        } else {
            "vip2@example.com"
        };
        let (t, p) = w
            .app
            .create_ticket(w.sid, &format!("Refund request {i}"), email);
        assignees.push(w.app.ticket(t).assignee_id.unwrap());
        public_ids.push(p);
    }
    assert_eq!(assignees, [w.ann, w.bob, w.ann, w.bob]);
    let (other, _) = w.app.create_ticket(w.sid, "Question", "vip@example.com");
    let (plain, _) = w
        .app
        .create_ticket(w.sid, "Refund please", "joe@example.com");
    assert_eq!(w.app.ticket(other).assignee_id, None);
    assert_eq!(w.app.ticket(plain).assignee_id, None);
    let mails = w.app.smtp.wait_for(12).await;
    let mut to: Vec<String> = mails.iter().map(|m| m.to[0].clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to, ["ann@acme.test", "bob@acme.test", "carl@acme.test"]);
    let first_mail = mails
        .iter()
        .find(|m| {
            m.subject()
                .starts_with(&format!("VIP refund {}", public_ids[0]))
        })
        .unwrap();
    assert!(
        first_mail
            .text()
            .contains("vip@example.com asks: Refund request 0"),
        "{}",
        first_mail.text()
    );
    let calls = crm.wait_for(4).await;
    let enc: String = w.app.db(move |c| {
        triggers::table
            .find(vip_refunds)
            .select(triggers::secret)
            .first(c)
    });
    let secret = w.app.state.secret.decrypt(&enc).unwrap();
    for (headers, body) in &calls {
        let ts = header(headers, "x-opencontact-timestamp");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{ts}.{body}").as_bytes());
        let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(header(headers, "x-opencontact-signature"), expected);
    }
    let mut called: Vec<String> = calls
        .iter()
        .map(|(_, b)| {
            serde_json::from_str::<serde_json::Value>(b).unwrap()["ticketId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    called.sort();
    let mut expected = public_ids.clone();
    expected.sort();
    assert_eq!(called, expected);
}

#[actix_web::test]
async fn auto_completion_is_an_update_too() {
    let w = world().await;
    let id = save_trigger(
        &w.admin,
        &[
            ("title", "Closed"),
            ("c0_target", "status"),
            ("c0_op", "changed_to"),
            ("c0_v_status", "closed"),
            ("a0_kind", "set_priority"),
            ("a0_priority", "low"),
        ],
    )
    .await;
    let (t, _) = w.app.create_ticket(w.sid, "Done soon", "d@example.com");
    resolve(&w, t, "<p>Fixed.</p>");
    let sid = w.sid;
    let cutoff = opencontact::db::now() + chrono::TimeDelta::minutes(1);
    let n = w
        .app
        .db(move |c| lifecycle::complete_solved_before(c, sid, cutoff, 10));
    assert_eq!(n, 1);
    let t = w.app.ticket(t);
    assert_eq!(t.status(), Status::Closed);
    assert_eq!(t.priority.as_str(), "low");
    let fired: i64 = w.app.db(move |c| {
        trigger_firings::table
            .filter(trigger_firings::trigger_id.eq(id))
            .count()
            .get_result(c)
    });
    assert_eq!(fired, 1);
}
