//! The ticket console (SPEC §5.2–§5.5): saved views and their membership rules, the inflow
//! mini-board, search with the six-month limit and custom-field conditions, the ☆ flag, batch
//! processing with refusals, keyset pagination, polling for new tickets, and who may get in.

use chrono::{Months, TimeDelta};
use diesel::prelude::*;
use opencontact::db::schema::{
    customers, field_defs, group_members, mail_outbox, menu_access, menu_restrictions,
    service_members, ticket_entries, ticket_field_values, ticket_stars, tickets,
};
use opencontact::db::types::{EditorType, ServiceKind};
use opencontact::i18n::Lang;
use opencontact::tenancy::group::Group;
use opencontact::tenancy::service::{NewService, Service};
use opencontact::tickets::lifecycle::{self, Action, AssignKind, InternalReason, ProcessInput};
use opencontact::tickets::{Priority, Status};

use crate::support::{Client, Resp, TestApp};

const LIST: &str = "/demo/console/tickets";

fn subjects(r: &Resp) -> Vec<String> {
    r.texts(".tc-subject a")
}

fn process(app: &TestApp, id: i64, action: Action, actor: i64) {
    let t = app.ticket(id);
    app.db(|c| {
        lifecycle::process(
            c,
            &t,
            &ProcessInput {
                action,
                actor,
                body: "<p>Answer</p>",
                files: &[],
                client_token: None,
                resolution_category_id: None,
                priority: None,
                service_kind: ServiceKind::Consultation,
            },
        )
        .unwrap();
        Ok(())
    });
}

fn assign(app: &TestApp, id: i64, group: Option<i64>, assignee: Option<i64>, actor: i64) {
    let t = app.ticket(id);
    app.db(|c| {
        lifecycle::assign(c, &t, Some(actor), group, assignee, AssignKind::Forward).unwrap();
        Ok(())
    });
}

fn complete(app: &TestApp, id: i64, actor: i64) {
    let t = app.ticket(id);
    app.db(|c| {
        lifecycle::complete(c, &t, actor).unwrap();
        Ok(())
    });
}

fn create_group(app: &TestApp, service_id: i64, name: &str, members: &[i64]) -> i64 {
    let name = name.to_string();
    let members = members.to_vec();
    app.db(move |c| {
        let gid = Group::create(c, service_id, &name)?;
        for (i, uid) in members.iter().enumerate() {
            diesel::insert_into(group_members::table)
                .values((
                    group_members::group_id.eq(gid),
                    group_members::user_id.eq(uid),
                    group_members::position.eq(i as i32),
                ))
                .execute(c)?;
        }
        Ok(gid)
    })
}

fn create_service(app: &TestApp, code: &str, kind: ServiceKind) -> i64 {
    let new = NewService {
        code: code.into(),
        kind,
        name: format!("{code} service"),
        languages: vec![Lang::En],
        default_lang: Lang::En,
        timezone: "UTC".into(),
        editor_type: EditorType::Html,
    };
    app.state
        .db
        .write_blocking(|c| Service::create(c, &new))
        .unwrap()
}

/// Adds a member with an explicit ticket permission.
fn add_member(app: &TestApp, service_id: i64, user_id: i64, role: &str, ticket: bool) {
    let now = opencontact::db::now();
    let role = role.to_string();
    app.db(move |c| {
        diesel::insert_into(service_members::table)
            .values((
                service_members::service_id.eq(service_id),
                service_members::user_id.eq(user_id),
                service_members::role.eq(role),
                service_members::perm_ticket.eq(ticket),
                service_members::ticket_assignable.eq(true),
                service_members::created_at.eq(now),
                service_members::updated_at.eq(now),
            ))
            .execute(c)
    });
}

fn check_value(app: &TestApp, id: i64) -> String {
    let t = app.ticket(id);
    format!("{}:{}", t.id, t.version)
}

async fn htmx_post(c: &Client, path: &str, fields: &[(&str, &str)]) -> Resp {
    let token = c.csrf().await;
    let mut all = fields.to_vec();
    all.push(("csrf_token", &token));
    c.post_form_raw(path, &all, &[("HX-Request", "true")]).await
}

#[actix_web::test]
async fn every_view_shows_exactly_its_tickets_with_counts_and_the_board() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (sid, admin) = (fx.service_id, fx.admin_id);
    let ann = app.create_member("ann", "Ann Agent", false);
    app.add_to_service(sid, ann, "agent");
    let billing = create_group(&app, sid, "Billing", &[admin, ann]);
    let sales = create_group(&app, sid, "Sales", &[ann]);

    let (new, _) = app.create_ticket(sid, "New one", "a@example.com");
    let (open, _) = app.create_ticket(sid, "Open mine", "b@example.com");
    assign(&app, open, None, Some(admin), admin);
    let (hold, _) = app.create_ticket(sid, "Hold mine", "c@example.com");
    process(&app, hold, Action::Hold, admin);
    let (solved, _) = app.create_ticket(sid, "Solved mine", "d@example.com");
    process(&app, solved, Action::Resolve, admin);
    let (closed, _) = app.create_ticket(sid, "Closed mine", "e@example.com");
    process(&app, closed, Action::Resolve, admin);
    complete(&app, closed, admin);
    let (spam, _) = app.create_ticket(sid, "Spam one", "f@example.com");
    process(
        &app,
        spam,
        Action::InternalResolve(InternalReason::Spam),
        admin,
    );
    let (anns, _) = app.create_ticket(sid, "Billing for Ann", "g@example.com");
    assign(&app, anns, Some(billing), Some(ann), admin);
    let (sales_t, _) = app.create_ticket(sid, "Sales for Ann", "h@example.com");
    assign(&app, sales_t, Some(sales), Some(ann), admin);
    let (transfer, _) = app.create_ticket(sid, "Transferred", "i@example.com");
    assign(&app, transfer, None, Some(admin), admin);
    let t = app.ticket(transfer);
    app.db(|c| {
        lifecycle::transferred(c, &t, admin, new).unwrap();
        Ok(())
    });

    let c = app.login("admin").await;
    let home = c.get("/demo/console/").await;
    assert!(home.has("nav.sidebar a[href='/demo/console/tickets']"));

    let r = c.get(LIST).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        subjects(&r),
        ["Transferred", "Open mine"],
        "default: my processing"
    );
    let cases: [(&str, &[&str]); 10] = [
        ("mine", &["Transferred", "Open mine"]),
        ("mine_hold", &["Hold mine"]),
        ("mine_solved", &["Solved mine"]),
        ("mine_closed", &["Closed mine"]),
        ("mine_transfers", &["Transferred"]),
        (
            "all",
            &[
                "Transferred",
                "Sales for Ann",
                "Billing for Ann",
                "Closed mine",
                "Solved mine",
                "Hold mine",
                "Open mine",
                "New one",
            ],
        ),
        ("unassigned", &["New one"]),
        ("groups", &["Billing for Ann"]),
        ("transferred", &["Transferred"]),
        ("spam", &["Spam one"]),
    ];
    for (view, expected) in cases {
        let r = c.get(&format!("{LIST}?view={view}")).await;
        assert_eq!(r.status, 200);
        assert_eq!(subjects(&r), expected, "view {view}");
    }
    // One group of "all in my groups"; a group the admin is not in shows nothing.
    let r = c.get(&format!("{LIST}?view=groups&group={billing}")).await;
    assert_eq!(subjects(&r), ["Billing for Ann"]);
    assert!(r.texts("h2#tc-list-title")[0].contains("Billing"));
    let r = c.get(&format!("{LIST}?view=groups&group={sales}")).await;
    assert!(subjects(&r).is_empty());

    // Counts beside the views, the per-group breakdown and "my status".
    let count = |r: &Resp, href: &str| {
        r.texts(&format!(".tc-views a[href='{href}'] .tc-count"))
            .into_iter()
            .next()
            .unwrap_or_default()
    };
    let r = c.get(LIST).await;
    assert_eq!(count(&r, "/demo/console/tickets?view=all"), "8");
    assert_eq!(count(&r, "/demo/console/tickets?view=mine"), "2");
    assert_eq!(count(&r, "/demo/console/tickets?view=spam"), "1");
    assert_eq!(count(&r, "/demo/console/tickets?view=unassigned"), "1");
    assert_eq!(
        count(
            &r,
            &format!("/demo/console/tickets?view=groups&group={billing}")
        ),
        "1"
    );
    assert_eq!(r.texts(".tc-quick .tc-quick-count"), ["2", "1", "1"]);

    // The inflow board: 2 ticket agents, 9 received today (spam included), 1 unassigned, and
    // 2 of the 8 non-spam tickets of the last 24 hours resolved or completed.
    assert_eq!(r.texts("#board-agents"), ["2"]);
    assert_eq!(r.texts("#board-today"), ["9"]);
    assert_eq!(r.texts("#board-unassigned-today"), ["1"]);
    assert_eq!(r.texts("#board-unassigned"), ["1"]);
    assert_eq!(r.texts("#board-rate"), ["25%"]);

    // A ticket received three days ago counts as unassigned, but not as today's.
    let earlier = opencontact::db::now() - TimeDelta::days(3);
    app.db(|c| {
        diesel::update(tickets::table.find(new))
            .set(tickets::created_at.eq(earlier))
            .execute(c)
    });
    let r = c.get(LIST).await;
    assert_eq!(r.texts("#board-today"), ["8"]);
    assert_eq!(r.texts("#board-unassigned-today"), ["0"]);
    assert_eq!(r.texts("#board-unassigned"), ["1"]);
    assert_eq!(r.texts("#board-rate"), ["29%"]);

    // Rows carry the status label, channel and priority classes.
    let r = c.get(&format!("{LIST}?view=all")).await;
    assert!(r.has("tr.prio-normal span.ch.ch-web"));
    assert!(
        r.texts("span.st")
            .contains(&"Transfer in progress".to_string())
    );
    assert!(r.texts("span.st").contains(&"Completed".to_string()));
}

#[actix_web::test]
async fn transferred_views_are_hidden_in_issue_management() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let im = create_service(&app, "issues", ServiceKind::Issue);
    add_member(&app, im, fx.admin_id, "admin", true);
    let c = app.login("admin").await;
    let r = c.get("/issues/console/tickets").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.has(".tc-views a[href='/issues/console/tickets?view=transferred']"));
    assert_eq!(r.texts(".tc-quick .tc-quick-count").len(), 2);
    // An unknown or unavailable view falls back to "my processing".
    let r = c.get("/issues/console/tickets?view=transferred").await;
    assert_eq!(r.status, 200);
    assert!(r.texts("h2#tc-list-title")[0].contains("My processing"));
}

#[actix_web::test]
async fn search_filters_and_refuses_bad_criteria() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (sid, admin) = (fx.service_id, fx.admin_id);
    let billing = create_group(&app, sid, "Billing", &[admin]);
    let (printer, printer_pid) = app.create_ticket(sid, "Printer jam", "casey@example.com");
    let (refund, _) = app.create_ticket(sid, "Refund for order", "dana@example.com");
    let (korean, _) = app.create_ticket(sid, "프린터 환불 요청", "casey@example.com");
    assign(&app, refund, Some(billing), Some(admin), admin);
    let t = app.ticket(korean);
    app.db(|c| {
        lifecycle::set_priority(c, &t, admin, Priority::Urgent).unwrap();
        Ok(())
    });
    app.db(|c| {
        diesel::update(customers::table.filter(customers::email.eq("dana@example.com")))
            .set((
                customers::phone.eq("010-1234-5678"),
                customers::name.eq("Dana Doe"),
            ))
            .execute(c)
    });
    let dana_no: String = app.db(|c| {
        customers::table
            .filter(customers::email.eq("dana@example.com"))
            .select(customers::customer_no)
            .first(c)
    });

    let c = app.login("admin").await;
    let search = |q: String| {
        let c = &c;
        async move { c.get(&format!("{LIST}/search?search=1&{q}")).await }
    };
    let hits = |q: &'static str| {
        let search = &search;
        async move {
            let r = search(q.to_string()).await;
            assert_eq!(r.status, 200, "{q}: {}", r.text);
            subjects(&r)
        }
    };
    assert_eq!(
        hits("").await,
        ["프린터 환불 요청", "Refund for order", "Printer jam"]
    );
    assert_eq!(hits("subject=printer").await, ["Printer jam"]);
    assert_eq!(hits("subject=REFUND+order").await, ["Refund for order"]);
    assert_eq!(
        hits("subject=%ED%99%98%EB%B6%88").await,
        ["프린터 환불 요청"]
    );
    assert_eq!(
        hits("email=CASEY%40example.com").await,
        ["프린터 환불 요청", "Printer jam"]
    );
    assert_eq!(hits("name=Dana+Doe").await, ["Refund for order"]);
    assert_eq!(hits("phone=010-1234-5678").await, ["Refund for order"]);
    assert!(hits("name=Nobody").await.is_empty());
    assert_eq!(
        search(format!("customer_no={dana_no}"))
            .await
            .texts(".tc-subject a"),
        ["Refund for order"]
    );
    assert_eq!(
        search(format!("ticket_id={printer_pid}"))
            .await
            .texts(".tc-subject a"),
        ["Printer jam"]
    );
    assert_eq!(hits("priority=urgent").await, ["프린터 환불 요청"]);
    assert_eq!(
        hits("status=new").await,
        ["프린터 환불 요청", "Printer jam"]
    );
    assert_eq!(hits("status=open").await, ["Refund for order"]);
    assert_eq!(
        search(format!("group={billing}"))
            .await
            .texts(".tc-subject a"),
        ["Refund for order"]
    );
    assert_eq!(
        search(format!("assignee={admin}"))
            .await
            .texts(".tc-subject a"),
        ["Refund for order"]
    );
    assert_eq!(
        hits("assignee=none").await,
        ["프린터 환불 요청", "Printer jam"]
    );
    assert_eq!(hits("channel=web").await.len(), 3);
    assert!(hits("channel=email").await.is_empty());

    // Intake types include their sub-types.
    let general: i64 = app.db(|c| {
        opencontact::db::schema::categories::table
            .filter(opencontact::db::schema::categories::service_id.eq(sid))
            .filter(opencontact::db::schema::categories::tree.eq("intake"))
            .select(opencontact::db::schema::categories::id)
            .first(c)
    });
    app.db(|c| {
        diesel::update(tickets::table.find(printer))
            .set(tickets::category_id.eq(Some(general)))
            .execute(c)
    });
    assert_eq!(
        search(format!("intake={general}"))
            .await
            .texts(".tc-subject a"),
        ["Printer jam"]
    );

    // Conditions on custom fields: equals, contains, options by label; personal fields are
    // not offered.
    let now = opencontact::db::now();
    let field = |code: &str, control: &str, personal: bool, config: &str| {
        let (code, control, config) = (code.to_string(), control.to_string(), config.to_string());
        app.db(move |c| {
            diesel::insert_into(field_defs::table)
                .values((
                    field_defs::service_id.eq(sid),
                    field_defs::audience.eq("customer"),
                    field_defs::code.eq(code),
                    field_defs::control.eq(control),
                    field_defs::is_system.eq(false),
                    field_defs::config.eq(config),
                    field_defs::required.eq(false),
                    field_defs::personal.eq(personal),
                    field_defs::visible.eq(true),
                    field_defs::agent_permission.eq("agent"),
                    field_defs::position.eq(50),
                    field_defs::created_at.eq(now),
                    field_defs::updated_at.eq(now),
                ))
                .returning(field_defs::id)
                .get_result::<i64>(c)
        })
    };
    let order = field(
        "order_no",
        "text",
        false,
        r#"{"labels":{"en":"Order number"}}"#,
    );
    let plan = field(
        "plan",
        "dropdown",
        false,
        r#"{"labels":{"en":"Plan"},"options":[{"value":"pro","labels":{"en":"Pro plan"}}]}"#,
    );
    let secret = field("passport", "text", true, r#"{"labels":{"en":"Passport"}}"#);
    let value = |ticket: i64, field: i64, v: &str| {
        let v = v.to_string();
        app.db(move |c| {
            diesel::insert_into(ticket_field_values::table)
                .values((
                    ticket_field_values::ticket_id.eq(ticket),
                    ticket_field_values::field_id.eq(field),
                    ticket_field_values::value.eq(v),
                ))
                .execute(c)
        });
    };
    value(refund, order, "ORD-77");
    value(printer, order, "ORD-78");
    value(printer, plan, "pro");
    let r = search(format!("f1={order}&o1=eq&v1=ORD-77")).await;
    assert_eq!(subjects(&r), ["Refund for order"]);
    let r = search(format!("f1={order}&o1=contains&v1=ord-7")).await;
    assert_eq!(subjects(&r), ["Refund for order", "Printer jam"]);
    let r = search(format!(
        "f1={plan}&o1=eq&v1=pro+plan&f2={order}&o2=eq&v2=ORD-78"
    ))
    .await;
    assert_eq!(subjects(&r), ["Printer jam"]);
    let r = search("".into()).await;
    assert!(r.has(&format!("select[name=f1] option[value='{order}']")));
    assert!(!r.has(&format!("select[name=f1] option[value='{secret}']")));
    let r = search(format!("f1={secret}&v1=X")).await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("f1").is_empty());
    let r = search("v2=orphan".into()).await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("f2").is_empty());

    // The period: six months by default and at most; a ticket ID is found whatever its date.
    let old = opencontact::db::now() - TimeDelta::days(250);
    app.db(|c| {
        diesel::update(tickets::table.find(printer))
            .set(tickets::created_at.eq(old))
            .execute(c)
    });
    assert_eq!(hits("").await, ["프린터 환불 요청", "Refund for order"]);
    assert_eq!(
        search(format!("ticket_id={printer_pid}"))
            .await
            .texts(".tc-subject a"),
        ["Printer jam"]
    );
    let today = chrono::Utc::now().date_naive();
    let long_from = today.checked_sub_months(Months::new(7)).unwrap();
    let r = search(format!("from={long_from}&to={today}")).await;
    assert_eq!(r.status, 422);
    assert!(
        r.field_error("from").contains("6 months"),
        "{}",
        r.field_error("from")
    );
    assert!(subjects(&r).is_empty());
    let from = (old - TimeDelta::days(1)).date();
    let to = (old + TimeDelta::days(1)).date();
    let r = search(format!("from={from}&to={to}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(subjects(&r), ["Printer jam"]);

    // Bad input is answered with 422 and a message beside the field.
    for (q, field) in [
        ("from=2026-13-40", "from"),
        ("to=yesterday", "to"),
        ("group=99999", "group"),
        ("assignee=77777", "assignee"),
        ("status=lost", "status"),
        ("priority=meh", "priority"),
        ("channel=fax", "channel"),
        ("subject=%21%3F", "subject"),
    ] {
        let r = search(q.to_string()).await;
        assert_eq!(r.status, 422, "{q}");
        assert!(!r.field_error(field).is_empty(), "{q}");
    }
    let long = "x".repeat(120);
    let r = search(format!("name={long}")).await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("name").is_empty());
}

#[actix_web::test]
async fn the_star_marks_a_ticket_for_one_agent_and_filters_the_list() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let (a, a_pid) = app.create_ticket(sid, "Starred ticket", "a@example.com");
    let (_b, _) = app.create_ticket(sid, "Plain ticket", "b@example.com");
    let ann = app.create_member("ann", "Ann Agent", false);
    app.add_to_service(sid, ann, "agent");

    let c = app.login("admin").await;
    let r = c
        .post_form(
            &format!("{LIST}/{a_pid}/star"),
            &[("on", "1"), ("next", "/demo/console/tickets?view=all")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/demo/console/tickets?view=all");
    let stars: Vec<(i64, i64)> = app.db(|c| {
        ticket_stars::table
            .select((ticket_stars::user_id, ticket_stars::ticket_id))
            .load(c)
    });
    assert_eq!(stars, [(fx.admin_id, a)]);
    // Twice is the same as once.
    let r = htmx_post(&c, &format!("{LIST}/{a_pid}/star"), &[("on", "1")]).await;
    assert_eq!(r.status, 200);
    assert!(r.has("button.tc-star.on[aria-pressed=true]"));
    assert_eq!(
        app.db(|c| ticket_stars::table.count().get_result::<i64>(c)),
        1
    );

    let r = c.get(&format!("{LIST}?view=all&star=1")).await;
    assert_eq!(subjects(&r), ["Starred ticket"]);
    assert!(r.has("tr.starred button.tc-star.on"));
    let r = c.get(&format!("{LIST}/search?search=1&star=1")).await;
    assert_eq!(subjects(&r), ["Starred ticket"]);
    // Stars are per agent.
    let ann_c = app.login("ann").await;
    let r = ann_c.get(&format!("{LIST}?view=all&star=1")).await;
    assert!(subjects(&r).is_empty());

    let r = htmx_post(&c, &format!("{LIST}/{a_pid}/star"), &[("on", "0")]).await;
    assert_eq!(r.status, 200);
    assert!(r.has("button.tc-star[aria-pressed=false]"));
    assert_eq!(
        app.db(|c| ticket_stars::table.count().get_result::<i64>(c)),
        0
    );

    // Unknown tickets, tickets of another service and bad values.
    let r = c
        .post_form(&format!("{LIST}/T0000000000000nope/star"), &[("on", "1")])
        .await;
    assert_eq!(r.status, 404);
    let other = create_service(&app, "other", ServiceKind::Consultation);
    let (_, other_pid) = app.create_ticket(other, "Elsewhere", "x@example.com");
    let r = c
        .post_form(&format!("{LIST}/{other_pid}/star"), &[("on", "1")])
        .await;
    assert_eq!(r.status, 404);
    let r = c
        .post_form(&format!("{LIST}/{a_pid}/star"), &[("on", "maybe")])
        .await;
    assert_eq!(r.status, 400);
    // An outside `next` is not followed.
    let r = c
        .post_form(
            &format!("{LIST}/{a_pid}/star"),
            &[("on", "1"), ("next", "https://evil.example/")],
        )
        .await;
    assert_eq!(r.location(), LIST);
}

#[actix_web::test]
async fn batch_processing_applies_each_action_and_reports_refusals() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (sid, admin) = (fx.service_id, fx.admin_id);
    let ann = app.create_member("ann", "Ann Agent", false);
    app.add_to_service(sid, ann, "agent");
    let billing = create_group(&app, sid, "Billing", &[ann]);
    let (a, _) = app.create_ticket(sid, "Alpha", "alpha@example.com");
    let (b, b_pid) = app.create_ticket(sid, "Bravo", "bravo@example.com");
    let (spam, _) = app.create_ticket(sid, "Spammy", "spam@example.com");
    process(
        &app,
        spam,
        Action::InternalResolve(InternalReason::Spam),
        admin,
    );
    let (closed, _) = app.create_ticket(sid, "Done deal", "done@example.com");
    process(&app, closed, Action::Resolve, admin);
    complete(&app, closed, admin);

    let c = app.login("admin").await;
    // The list offers `id:version` checkboxes tied to the batch form.
    let r = c.get(&format!("{LIST}?view=all")).await;
    assert!(r.has(&format!(
        "input[type=checkbox][name=t][form=batch-form][value='{}']",
        check_value(&app, a)
    )));

    // A comment on two tickets, then the same form again (double submission).
    let (va, vb) = (check_value(&app, a), check_value(&app, b));
    let fields = [
        ("t", va.as_str()),
        ("t", vb.as_str()),
        ("batch_action", "comment"),
        ("batch_body", "Checked the logs."),
        ("client_token", "batch-1"),
        ("page_query", "view=all"),
    ];
    let r = c.post_form(&format!("{LIST}/batch"), &fields).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.texts("tr.tc-ok").len(), 2);
    assert!(r.has("a[href='/demo/console/tickets?view=all']"));
    let comments = |id: i64| {
        app.db(move |c| {
            ticket_entries::table
                .filter(ticket_entries::ticket_id.eq(id))
                .filter(ticket_entries::kind.eq("comment"))
                .select(ticket_entries::body)
                .load::<String>(c)
        })
    };
    assert_eq!(comments(a), ["<p>Checked the logs.</p>"]);
    assert_eq!(comments(b).len(), 1);
    let r = c.post_form(&format!("{LIST}/batch"), &fields).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("Already processed"));
    assert_eq!(comments(a).len(), 1);
    assert_eq!(app.ticket(a).status(), Status::New);

    // Resolve: Alpha as the list showed it before the comment (stale), Bravo, the spam and the
    // completed ticket: only Bravo is resolved, and its customer mail is queued and sent.
    let stale = va.clone();
    let (vb, vspam, vclosed) = (
        check_value(&app, b),
        check_value(&app, spam),
        check_value(&app, closed),
    );
    let r = c
        .post_form(
            &format!("{LIST}/batch"),
            &[
                ("t", stale.as_str()),
                ("t", vb.as_str()),
                ("t", vspam.as_str()),
                ("t", vclosed.as_str()),
                ("batch_action", "resolve"),
                ("batch_body", "Your issue is fixed.\n\nThank you."),
                ("client_token", "batch-2"),
                ("page_query", "view=all"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.texts("tr.tc-ok").len(), 1);
    let refused = r.texts("tr.tc-refused td:last-child");
    assert_eq!(refused.len(), 3);
    assert!(refused[0].contains("Someone else changed this ticket"));
    assert!(refused[1].contains("spam box"));
    assert!(refused[2].contains("completed"));
    assert_eq!(app.ticket(b).status(), Status::Solved);
    assert_eq!(app.ticket(b).assignee_id, Some(admin));
    assert_eq!(app.ticket(a).status(), Status::New);
    let mails: Vec<(String, String, String, Option<i64>)> = app.db(|c| {
        mail_outbox::table
            .order(mail_outbox::id.asc())
            .select((
                mail_outbox::purpose,
                mail_outbox::subject,
                mail_outbox::to_addr,
                mail_outbox::ticket_id,
            ))
            .load(c)
    });
    assert_eq!(
        mails,
        [(
            "resolve".to_string(),
            format!("Re: Bravo [#{b_pid}]"),
            "bravo@example.com".to_string(),
            Some(b)
        )]
    );
    let sent = app.smtp.wait_for(1).await;
    assert!(sent[0].data.contains(&format!("[#{b_pid}]")));
    assert!(sent[0].data.contains("Your issue is fixed."));
    // Rendered from the service's resolution layout, like a single answer.
    assert!(
        sent[0].data.contains("here is the answer to your inquiry"),
        "{}",
        sent[0].data
    );
    let linked: Option<String> = app.db(|c| {
        ticket_entries::table
            .filter(ticket_entries::ticket_id.eq(b))
            .filter(ticket_entries::kind.eq("agent_reply"))
            .select(ticket_entries::mail_message_id)
            .first(c)
    });
    assert!(linked.is_some_and(|m| m.starts_with('<')));

    // Hold queues the hold mail.
    let va = check_value(&app, a);
    let r = c
        .post_form(
            &format!("{LIST}/batch"),
            &[
                ("t", va.as_str()),
                ("batch_action", "hold"),
                ("batch_body", "We are checking."),
                ("client_token", "batch-3"),
                ("page_query", "view=all"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.ticket(a).status(), Status::Reply);
    let purposes: Vec<String> = app.db(|c| {
        mail_outbox::table
            .order(mail_outbox::id.asc())
            .select(mail_outbox::purpose)
            .load(c)
    });
    assert_eq!(purposes, ["resolve", "hold"]);

    // Group and assignee change; the assignee must be in the group.
    let va = check_value(&app, a);
    let ann_s = ann.to_string();
    let billing_s = billing.to_string();
    let admin_s = admin.to_string();
    let r = c
        .post_form(
            &format!("{LIST}/batch"),
            &[
                ("t", va.as_str()),
                ("batch_action", "assign"),
                ("batch_group", billing_s.as_str()),
                ("batch_assignee", admin_s.as_str()),
                ("page_query", "view=all"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("batch_assignee").is_empty());
    let r = c
        .post_form(
            &format!("{LIST}/batch"),
            &[
                ("t", va.as_str()),
                ("batch_action", "assign"),
                ("batch_group", billing_s.as_str()),
                ("batch_assignee", ann_s.as_str()),
                ("page_query", "view=all"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = app.ticket(a);
    assert_eq!((t.group_id, t.assignee_id), (Some(billing), Some(ann)));

    // Bad input: nothing checked, no text, no action, no target — 422 with the list kept.
    let vb = check_value(&app, b);
    for (fields, field) in [
        (vec![("batch_action", "comment"), ("batch_body", "x")], "t"),
        (
            vec![("t", vb.as_str()), ("batch_action", "resolve")],
            "batch_body",
        ),
        (
            vec![("t", vb.as_str()), ("batch_body", "x")],
            "batch_action",
        ),
        (
            vec![("t", vb.as_str()), ("batch_action", "assign")],
            "batch_group",
        ),
    ] {
        let mut all = fields.clone();
        all.push(("page_query", "view=all"));
        let r = c.post_form(&format!("{LIST}/batch"), &all).await;
        assert_eq!(r.status, 422, "{field}");
        assert!(!r.field_error(field).is_empty(), "{field}: {}", r.text);
        assert!(r.has("table.tc-table"));
    }
    // The ticked tickets stay ticked and the text is kept.
    let r = c
        .post_form(
            &format!("{LIST}/batch"),
            &[
                ("t", vb.as_str()),
                ("batch_action", "resolve"),
                ("batch_body", "  "),
                ("page_query", "view=all"),
            ],
        )
        .await;
    assert!(r.has(&format!("input[name=t][value='{vb}'][checked]")));
    let r = c
        .post_form(&format!("{LIST}/batch"), &[("t", "garbage")])
        .await;
    assert_eq!(r.status, 400);

    // An agent without the forward permission may comment but not reassign.
    let ann_c = app.login("ann").await;
    let r = ann_c.get(&format!("{LIST}?view=all")).await;
    assert!(!r.has("select[name=batch_group]"));
    let r = ann_c
        .post_form(
            &format!("{LIST}/batch"),
            &[
                ("t", vb.as_str()),
                ("batch_action", "assign"),
                ("batch_assignee", ann_s.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("batch_action").is_empty());
}

#[actix_web::test]
async fn the_list_pages_by_id_and_polls_for_new_tickets() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let mut ids = Vec::new();
    for i in 0..55 {
        ids.push(
            app.create_ticket(sid, &format!("Ticket {i:02}"), "p@example.com")
                .0,
        );
    }
    let c = app.login("admin").await;
    let r = c.get(&format!("{LIST}?view=all")).await;
    let first = subjects(&r);
    assert_eq!(first.len(), 50);
    assert_eq!(first[0], "Ticket 54");
    assert_eq!(first[49], "Ticket 05");
    let next = r
        .doc()
        .select(&scraper::Selector::parse("a[rel=next]").unwrap())
        .next()
        .and_then(|a| a.value().attr("href"))
        .map(str::to_string)
        .unwrap();
    assert!(next.contains(&format!("before={}", ids[5])), "{next}");
    let r = c.get(&next).await;
    assert_eq!(
        subjects(&r),
        [
            "Ticket 04",
            "Ticket 03",
            "Ticket 02",
            "Ticket 01",
            "Ticket 00"
        ]
    );
    assert!(!r.has("a[rel=next]"));
    assert!(!r.has("#ticket-poll"), "only the first page polls");

    // Search results page the same way (newest first by creation time).
    let r = c.get(&format!("{LIST}/search?search=1")).await;
    assert_eq!(subjects(&r).len(), 50);
    let next = r
        .doc()
        .select(&scraper::Selector::parse("a[rel=next]").unwrap())
        .next()
        .and_then(|a| a.value().attr("href"))
        .map(str::to_string)
        .unwrap();
    assert!(
        next.starts_with("/demo/console/tickets/search?search=1"),
        "{next}"
    );
    let r = c.get(&next).await;
    assert_eq!(subjects(&r).len(), 5);
    assert_eq!(subjects(&r)[4], "Ticket 00");
    assert!(!r.has("#ticket-poll"), "search results do not poll");

    // The first page polls for tickets newer than its top row.
    let r = c.get(&format!("{LIST}?view=all")).await;
    let top = ids[54];
    assert!(r.has(&format!(
        "#ticket-poll[hx-get='/demo/console/tickets/poll?view=all&after={top}'][hx-trigger='every 10s']"
    )));
    let poll = format!("{LIST}/poll?view=all&after={top}");
    let r = c.get_with(&poll, &[("HX-Request", "true")]).await;
    assert_eq!(r.status, 204);
    let (fresh, _) = app.create_ticket(sid, "Fresh arrival", "q@example.com");
    let r = c.get_with(&poll, &[("HX-Request", "true")]).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("Fresh arrival"));
    assert!(r.text.contains(&format!("after={fresh}")));
    // Only tickets of the polled view come in.
    let r = c.get(&format!("{LIST}/poll?view=mine&after={top}")).await;
    assert_eq!(r.status, 204);
    let r = c.get(&format!("{LIST}/poll?view=all&after=abc")).await;
    assert_eq!(r.status, 400);
}

#[actix_web::test]
async fn who_may_open_the_console() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let (_, pid) = app.create_ticket(sid, "Private", "a@example.com");
    let nora = app.create_member("nora", "Nora No-tickets", false);
    add_member(&app, sid, nora, "agent", false);
    let boss = app.create_member("boss", "Boss Admin", false);
    add_member(&app, sid, boss, "admin", false);
    let olga = app.create_member("olga", "Olga Other", false);
    let other = create_service(&app, "other", ServiceKind::Consultation);
    add_member(&app, other, olga, "agent", true);

    // Signed out: to the sign-in page.
    let anon = app.client();
    for path in [
        LIST.to_string(),
        format!("{LIST}/search?subject=x"),
        format!("{LIST}/poll?after=1"),
    ] {
        let r = anon.get(&path).await;
        assert_eq!(r.status, 303, "{path}");
        assert!(r.location().starts_with("/login"), "{path}");
    }

    // An agent without the ticket permission, and a member of another service: 403.
    for login in ["nora", "olga"] {
        let c = app.login(login).await;
        for path in [
            LIST.to_string(),
            format!("{LIST}/search?subject=x"),
            format!("{LIST}/poll?after=1"),
        ] {
            assert_eq!(c.get(&path).await.status, 403, "{login} {path}");
        }
        let r = c
            .post_form(&format!("{LIST}/{pid}/star"), &[("on", "1")])
            .await;
        assert_eq!(r.status, 403, "{login}");
        let r = c
            .post_form(&format!("{LIST}/batch"), &[("batch_action", "comment")])
            .await;
        assert_eq!(r.status, 403, "{login}");
    }
    let nora_c = app.login("nora").await;
    let home = nora_c.get("/demo/console/").await;
    assert!(!home.has("nav.sidebar a[href='/demo/console/tickets']"));

    // Administrators always get in.
    let boss_c = app.login("boss").await;
    assert_eq!(boss_c.get(LIST).await.status, 200);

    // A member restricted from the tickets menu (SPEC §1.4) is refused.
    let rita = app.create_member("rita", "Rita Restricted", false);
    add_member(&app, sid, rita, "agent", true);
    app.db(|c| {
        diesel::insert_into(menu_access::table)
            .values((
                menu_access::service_id.eq(sid),
                menu_access::menu.eq("tickets"),
                menu_access::partial.eq(true),
            ))
            .execute(c)?;
        diesel::insert_into(menu_restrictions::table)
            .values((
                menu_restrictions::service_id.eq(sid),
                menu_restrictions::menu.eq("tickets"),
                menu_restrictions::user_id.eq(rita),
            ))
            .execute(c)
    });
    let rita_c = app.login("rita").await;
    assert_eq!(rita_c.get(LIST).await.status, 403);
    assert!(
        !rita_c
            .get("/demo/console/")
            .await
            .has("nav.sidebar a[href='/demo/console/tickets']")
    );

    // A switched-off ticket module closes the console.
    let svc: Service = app.db(|c| {
        opencontact::db::schema::services::table
            .find(sid)
            .select(Service::as_select())
            .first(c)
    });
    let mut f = svc.features();
    f.set("ticket", false);
    let json = serde_json::to_string(&f).unwrap();
    app.db(|c| {
        diesel::update(opencontact::db::schema::services::table.find(sid))
            .set(opencontact::db::schema::services::features.eq(json))
            .execute(c)
    });
    assert_eq!(boss_c.get(LIST).await.status, 403);
    f.set("ticket", true);
    let json = serde_json::to_string(&f).unwrap();
    app.db(|c| {
        diesel::update(opencontact::db::schema::services::table.find(sid))
            .set(opencontact::db::schema::services::features.eq(json))
            .execute(c)
    });

    // POSTs without the CSRF token are refused.
    let c = app.login("admin").await;
    let r = c
        .post_form_raw(&format!("{LIST}/{pid}/star"), &[("on", "1")], &[])
        .await;
    assert_eq!(r.status, 403);
    let r = c
        .post_form_raw(
            &format!("{LIST}/batch"),
            &[("batch_action", "comment"), ("batch_body", "x")],
            &[],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        app.db(|c| ticket_stars::table.count().get_result::<i64>(c)),
        0
    );
}

#[actix_web::test]
async fn in_the_browser_stars_toggle_and_new_tickets_appear_without_reload() {
    use fantoccini::Locator;
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    for (subject, email) in [
        ("Printer jam", "a@example.com"),
        ("Refund please", "b@example.com"),
        ("Cannot log in", "c@example.com"),
    ] {
        app.create_ticket(sid, subject, email);
    }
    let (urgent, _) = app.create_ticket(sid, "Site is down", "d@example.com");
    let t = app.ticket(urgent);
    app.db(|c| {
        lifecycle::set_priority(c, &t, fx.admin_id, Priority::Urgent).unwrap();
        Ok(())
    });
    let b = crate::support::browser::Browser::start().await;
    b.sign_in(&app.base, "admin", "/demo/console/tickets?view=all")
        .await;
    b.wait_css("#ticket-rows tr.tc-row").await;
    // The stylesheet of the console is applied (channel colours).
    let bg: serde_json::Value = b
        .client
        .execute(
            "return getComputedStyle(document.querySelector('.ch-web')).backgroundColor",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(bg, "rgba(0, 0, 0, 0)", "ticket_console.css applied");

    // ☆ toggles in place through htmx.
    b.client
        .find(Locator::Css("#ticket-rows tr.tc-row button.tc-star"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_css("#ticket-rows button.tc-star.on").await;
    assert_eq!(
        app.db(|c| ticket_stars::table.count().get_result::<i64>(c)),
        1
    );

    // "Select all" ticks every row for the batch form.
    b.client
        .find(Locator::Css("input[data-check-all]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let ticked: serde_json::Value = b
        .client
        .execute(
            "return document.querySelectorAll(\"input[name=t][form=batch-form]:checked\").length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(ticked, 4);
    b.client
        .execute("window.scrollTo(0, 0); return 0", vec![])
        .await
        .unwrap();
    b.screenshot("ticket-console").await;

    // A new ticket shows up on top within a poll.
    app.create_ticket(sid, "Brand new inquiry", "e@example.com");
    let first = b
        .client
        .wait()
        .at_most(std::time::Duration::from_secs(20))
        .for_element(Locator::Css(
            "#ticket-rows tr.tc-fresh-note + tr.tc-row .tc-subject a",
        ))
        .await
        .unwrap();
    assert_eq!(first.text().await.unwrap(), "Brand new inquiry");
    b.close().await;
}
