//! Customer grades (SPEC §6.2): the settings page (grades with colour and order, classification
//! rules by e-mail, phone, customer number or member ID), its checks and permissions, and the
//! coloured tag at the top of a ticket's processing history.

use diesel::prelude::*;
use opencontact::db::schema::{customer_grade_rules, customer_grades, customers, services};

use crate::support::{Client, TestApp};

const BASE: &str = "/demo/console/settings/customer-grades";

async fn add_grade(admin: &Client, name: &str, color: &str) {
    let r = admin
        .post_form(
            &format!("{BASE}/grades"),
            &[("name", name), ("color", color)],
        )
        .await;
    assert_eq!(r.status, 303, "{:?}", r.texts(".field-error"));
}

fn grade_id(app: &TestApp, name: &str) -> i64 {
    let lower = name.to_lowercase();
    app.db(move |c| {
        customer_grades::table
            .filter(customer_grades::name_lower.eq(lower))
            .select(customer_grades::id)
            .first(c)
    })
}

async fn add_rule(admin: &Client, key: &str, value: &str, grade: i64, note: &str) {
    let g = grade.to_string();
    let r = admin
        .post_form(
            &format!("{BASE}/rules"),
            &[
                ("key_type", key),
                ("value", value),
                ("grade_id", &g),
                ("note", note),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{:?}", r.texts(".field-error"));
}

fn ticket_page(pid: &str) -> String {
    format!("/demo/console/tickets/{pid}")
}

#[actix_web::test]
async fn grades_and_rules_are_kept_with_their_checks() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;

    let page = admin.get(BASE).await;
    assert_eq!(page.status, 200);
    assert!(page.has("#grades .empty"));
    // The settings menu lists the page.
    assert_eq!(
        page.texts(&format!("nav.sidebar a[href=\"{BASE}\"]")),
        ["Customer grades"]
    );

    add_grade(&admin, "VIP", "red").await;
    add_grade(&admin, "Gold", "amber").await;
    let vip = grade_id(&app, "VIP");
    let gold = grade_id(&app, "Gold");
    let page = admin.get(BASE).await;
    assert_eq!(page.texts("#grade-list .grade-tag"), ["VIP", "Gold"]);
    assert!(page.has("#grade-list .grade-tag.grade-red"));

    // Bad grades: 422 with the messages beside the fields; nothing saved.
    let long = "x".repeat(31);
    for (name, color, field, msg) in [
        ("", "red", "name", "This field is required."),
        (long.as_str(), "red", "name", "At most 30 characters."),
        (
            "vip",
            "blue",
            "name",
            "This service already has a grade with this name.",
        ),
        ("Silver", "#ff0000", "color", "Choose a colour."),
    ] {
        let r = admin
            .post_form(
                &format!("{BASE}/grades"),
                &[("name", name), ("color", color)],
            )
            .await;
        assert_eq!(r.status, 422, "{name}");
        assert_eq!(r.field_error(field), msg, "{name}");
    }
    let n: i64 = app.db(|c| customer_grades::table.count().get_result(c));
    assert_eq!(n, 2);

    // Edit a grade; its own name is not a duplicate.
    let r = admin.get(&format!("{BASE}/grades/{gold}")).await;
    assert_eq!(r.status, 200);
    let r = admin
        .post_form(
            &format!("{BASE}/grades/{gold}"),
            &[("name", "Gold+"), ("color", "green")],
        )
        .await;
    assert_eq!(r.status, 303);
    let r = admin
        .post_form(
            &format!("{BASE}/grades/{gold}"),
            &[("name", "VIP"), ("color", "green")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.field_error("name"),
        "This service already has a grade with this name."
    );
    // Reorder: Gold+ first.
    let r = admin
        .post_form(
            &format!("{BASE}/order"),
            &[
                ("grade_id", &gold.to_string()),
                ("grade_id", &vip.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = admin.get(BASE).await;
    assert_eq!(page.texts("#grade-list .grade-tag"), ["Gold+", "VIP"]);
    let r = admin
        .post_form(
            &format!("{BASE}/order"),
            &[
                ("grade_id", &gold.to_string()),
                ("grade_id", &vip.to_string()),
                ("down", &gold.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        admin.get(BASE).await.texts("#grade-list .grade-tag"),
        ["VIP", "Gold+"]
    );

    // Rules.
    add_rule(
        &admin,
        "email",
        "Big.Spender@Example.com",
        vip,
        "Top account",
    )
    .await;
    add_rule(&admin, "phone", "010-1234-5678", gold, "").await;
    let vip_s = vip.to_string();
    let long_note = "n".repeat(201);
    for (fields, field, msg) in [
        (
            vec![
                ("key_type", "email"),
                ("value", "not-an-address"),
                ("grade_id", vip_s.as_str()),
            ],
            "value",
            "Enter a valid e-mail address.",
        ),
        (
            vec![
                ("key_type", "email"),
                ("value", "big.spender@EXAMPLE.com "),
                ("grade_id", vip_s.as_str()),
            ],
            "value",
            "This customer is already classified; edit that classification instead.",
        ),
        (
            vec![
                ("key_type", "phone"),
                ("value", "+82 (010) 1234 5678x"),
                ("grade_id", vip_s.as_str()),
            ],
            "value",
            "Enter a phone number of 4 to 20 digits (spaces, +, -, ( ) and . allowed).",
        ),
        (
            vec![
                ("key_type", "phone"),
                ("value", "01012345678"),
                ("grade_id", vip_s.as_str()),
            ],
            "value",
            "This customer is already classified; edit that classification instead.",
        ),
        (
            vec![
                ("key_type", "nickname"),
                ("value", "x"),
                ("grade_id", vip_s.as_str()),
            ],
            "key_type",
            "Choose one of the options.",
        ),
        (
            vec![
                ("key_type", "member_id"),
                ("value", "m-1"),
                ("grade_id", "999"),
            ],
            "grade_id",
            "Choose one of the options.",
        ),
        (
            vec![
                ("key_type", "member_id"),
                ("value", "m-1"),
                ("grade_id", vip_s.as_str()),
                ("note", long_note.as_str()),
            ],
            "note",
            "At most 200 characters.",
        ),
    ] {
        let r = admin.post_form(&format!("{BASE}/rules"), &fields).await;
        assert_eq!(r.status, 422, "{fields:?}");
        assert_eq!(r.field_error(field), msg, "{fields:?}");
        // The form keeps what was typed.
        assert!(r.has("#rule-form"));
    }
    let page = admin.get(BASE).await;
    assert_eq!(
        page.texts("#rule-table .rule-value"),
        ["010-1234-5678", "Big.Spender@Example.com"]
    );
    assert_eq!(page.texts("#rule-table .rule-note"), ["", "Top account"]);

    // Edit a rule (its own value is not a duplicate), then search by value.
    let rule: i64 = app.db(|c| {
        customer_grade_rules::table
            .filter(customer_grade_rules::key_type.eq("phone"))
            .select(customer_grade_rules::id)
            .first(c)
    });
    assert_eq!(admin.get(&format!("{BASE}/rules/{rule}")).await.status, 200);
    let r = admin
        .post_form(
            &format!("{BASE}/rules/{rule}"),
            &[
                ("key_type", "phone"),
                ("value", "010 1234 5678"),
                ("grade_id", &vip_s),
                ("note", "Called twice"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{:?}", r.texts(".field-error"));
    let page = admin.get(&format!("{BASE}?q=SPENDER")).await;
    assert_eq!(
        page.texts("#rule-table .rule-value"),
        ["Big.Spender@Example.com"]
    );
    let page = admin.get(&format!("{BASE}?q=1234-5678")).await;
    assert_eq!(page.texts("#rule-table .rule-value"), ["010 1234 5678"]);
    assert!(
        admin
            .get(&format!("{BASE}?q=nobody"))
            .await
            .has("#rules-empty")
    );

    // Keyset pages of 50, newest first.
    let sid = fx.service_id;
    app.db(move |c| {
        let t = opencontact::db::now();
        for i in 0..55 {
            diesel::insert_into(customer_grade_rules::table)
                .values((
                    customer_grade_rules::service_id.eq(sid),
                    customer_grade_rules::grade_id.eq(gold),
                    customer_grade_rules::key_type.eq("member_id"),
                    customer_grade_rules::value.eq(format!("member-{i:02}")),
                    customer_grade_rules::value_norm.eq(format!("member-{i:02}")),
                    customer_grade_rules::note.eq(""),
                    customer_grade_rules::created_at.eq(t),
                    customer_grade_rules::updated_at.eq(t),
                ))
                .execute(c)?;
        }
        Ok(())
    });
    let first = admin.get(BASE).await;
    let values = first.texts("#rule-table .rule-value");
    assert_eq!(values.len(), 50);
    assert_eq!(values[0], "member-54");
    let next = first
        .doc()
        .select(&scraper::Selector::parse("#rules-next").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap()
        .to_string();
    let second = admin.get(&next).await;
    let values = second.texts("#rule-table .rule-value");
    assert_eq!(values.len(), 7);
    assert_eq!(values[6], "Big.Spender@Example.com");
    assert!(!second.has("#rules-next"));
    assert!(second.has("#rules-first"));
    let page = admin.get(&format!("{BASE}?q=member-0")).await;
    assert_eq!(page.texts("#rule-table .rule-value").len(), 10);

    // Delete a rule; delete a grade with its rules.
    let r = admin
        .post_form(&format!("{BASE}/rules/{rule}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    let r = admin
        .post_form(&format!("{BASE}/rules/{rule}/delete"), &[])
        .await;
    assert_eq!(r.status, 404);
    let r = admin
        .post_form(&format!("{BASE}/grades/{gold}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    let left: Vec<(String, i64)> = app.db(|c| {
        customer_grade_rules::table
            .select((customer_grade_rules::value, customer_grade_rules::grade_id))
            .load(c)
    });
    assert_eq!(left, [("Big.Spender@Example.com".to_string(), vip)]);
    assert_eq!(
        admin.get(&format!("{BASE}/grades/{gold}")).await.status,
        404
    );
}

#[actix_web::test]
async fn a_matching_ticket_shows_the_grade_tag() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    add_grade(&admin, "VIP", "red").await;
    add_grade(&admin, "Gold", "amber").await;
    let vip = grade_id(&app, "VIP");
    let gold = grade_id(&app, "Gold");

    let (_, plain) = app.create_ticket(fx.service_id, "Hello", "plain@example.com");
    let (t_email, by_email) = app.create_ticket(fx.service_id, "Refund", "ann@example.com");
    let (t_phone, by_phone) = app.create_ticket(fx.service_id, "Call me", "bob@example.com");
    let (t_member, by_member) = app.create_ticket(fx.service_id, "Member", "carl@example.com");
    let customer_of = |t: i64| app.ticket(t).customer_id.unwrap();
    let (c_phone, c_member, c_email) = (
        customer_of(t_phone),
        customer_of(t_member),
        customer_of(t_email),
    );
    app.db(move |c| {
        diesel::update(customers::table.find(c_phone))
            .set(customers::phone.eq("+82-10-5555-0001"))
            .execute(c)?;
        diesel::update(customers::table.find(c_member))
            .set(customers::usercode.eq(Some("member-77")))
            .execute(c)
    });
    let customer_no: String = app.db(move |c| {
        customers::table
            .find(c_email)
            .select(customers::customer_no)
            .first(c)
    });

    add_rule(&admin, "email", "ANN@example.com", gold, "").await;
    add_rule(&admin, "phone", "82 10 5555 0001", vip, "").await;
    add_rule(&admin, "member_id", "member-77", gold, "").await;

    let tag = |r: &crate::support::Resp| r.texts("#customer-grade .grade-tag");
    assert!(tag(&admin.get(&ticket_page(&plain)).await).is_empty());
    let r = admin.get(&ticket_page(&by_email)).await;
    assert_eq!(tag(&r), ["Gold"]);
    assert!(r.has("#customer-grade .grade-tag.grade-amber"));
    assert_eq!(tag(&admin.get(&ticket_page(&by_phone)).await), ["VIP"]);
    assert_eq!(tag(&admin.get(&ticket_page(&by_member)).await), ["Gold"]);

    // Two rules match Ann (e-mail → Gold, customer number → VIP): the grade first in the
    // order wins, and the order can change it.
    add_rule(&admin, "customer_no", &customer_no.to_lowercase(), vip, "").await;
    assert_eq!(tag(&admin.get(&ticket_page(&by_email)).await), ["VIP"]);
    let r = admin
        .post_form(
            &format!("{BASE}/order"),
            &[
                ("grade_id", &gold.to_string()),
                ("grade_id", &vip.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(tag(&admin.get(&ticket_page(&by_email)).await), ["Gold"]);
    // An agent working the ticket sees it too.
    let ann = app.create_member("agent", "Agent Smith", false);
    app.add_to_service(fx.service_id, ann, "agent");
    let agent = app.login("agent").await;
    let r = agent.get(&ticket_page(&by_phone)).await;
    assert_eq!(r.status, 200);
    assert_eq!(tag(&r), ["VIP"]);
}

#[actix_web::test]
async fn only_administrators_of_the_service_manage_grades() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    add_grade(&admin, "VIP", "red").await;
    let vip = grade_id(&app, "VIP");
    let rule_fields = [
        ("key_type", "email"),
        ("value", "x@example.com"),
        ("grade_id", "1"),
    ];
    let agent_id = app.create_member("agent", "Agent Smith", false);
    app.add_to_service(fx.service_id, agent_id, "agent");
    let agent = app.login("agent").await;
    let pages = [BASE.to_string(), format!("{BASE}/grades/{vip}")];
    let posts = [
        format!("{BASE}/grades"),
        format!("{BASE}/grades/{vip}"),
        format!("{BASE}/grades/{vip}/delete"),
        format!("{BASE}/order"),
        format!("{BASE}/rules"),
    ];
    for p in &pages {
        assert_eq!(agent.get(p).await.status, 403, "{p}");
        let r = app.client().get(p).await;
        assert_eq!(r.status, 303, "{p}");
        assert!(r.location().starts_with("/login"));
    }
    for p in &posts {
        assert_eq!(agent.post_form(p, &rule_fields).await.status, 403, "{p}");
        assert_eq!(
            admin.post_form_raw(p, &rule_fields, &[]).await.status,
            403,
            "no CSRF token: {p}"
        );
    }
    // An administrator of another service is refused here.
    let other = app.create_service("other");
    let olga = app.create_member("olga", "Olga Other", false);
    app.add_to_service(other, olga, "admin");
    let olga = app.login("olga").await;
    assert_eq!(olga.get(BASE).await.status, 403);
    assert_eq!(
        olga.post_form(&format!("{BASE}/grades/{vip}/delete"), &[])
            .await
            .status,
        403
    );
    assert_eq!(
        olga.get("/other/console/settings/customer-grades")
            .await
            .status,
        200
    );
    // …nor can a grade of another service be reached through one's own.
    assert_eq!(
        olga.get(&format!(
            "/other/console/settings/customer-grades/grades/{vip}"
        ))
        .await
        .status,
        404
    );
    let r = olga
        .post_form(
            "/other/console/settings/customer-grades/rules",
            &[
                ("key_type", "email"),
                ("value", "x@example.com"),
                ("grade_id", &vip.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("grade_id"), "Choose one of the options.");
    // Without the customer-information feature the page is closed.
    app.db(|c| {
        diesel::update(services::table.filter(services::code.eq("demo")))
            .set(services::features.eq(r#"{"ticket":true,"customer_info":false}"#))
            .execute(c)
    });
    let r = admin.get(BASE).await;
    assert_eq!(r.status, 403);
    let menu = admin.get("/demo/console/settings/triggers").await;
    assert!(!menu.has(&format!("nav.sidebar a[href=\"{BASE}\"]")));
    // Agents never see it in the menu.
    let r = agent.get("/demo/console/").await;
    assert!(!r.has(&format!("nav.sidebar a[href=\"{BASE}\"]")));
}

/// In a real browser: grades are reordered by dragging (saved without a page load), and the
/// ticket of a classified customer shows the tag.
#[actix_web::test]
async fn grades_are_reordered_by_dragging_in_the_browser() {
    use fantoccini::Locator;
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};

    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    add_grade(&admin, "Gold", "amber").await;
    add_grade(&admin, "VIP", "red").await;
    let vip = grade_id(&app, "VIP");
    add_rule(&admin, "email", "vip@example.com", vip, "Key account").await;
    let (_, pid) = app.create_ticket(fx.service_id, "Refund", "vip@example.com");

    let b = crate::support::browser::Browser::start().await;
    b.sign_in(&app.base, "admin", BASE).await;
    b.wait_css("#grade-list[data-sortable-ready='1']").await;
    let handle = b
        .client
        .find(Locator::Css(&format!(
            "#grade-list li[data-grade='{vip}'] .drag-handle"
        )))
        .await
        .unwrap();
    let first = b
        .client
        .find(Locator::Css("#grade-list li:first-child"))
        .await
        .unwrap();
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
        .then(PointerAction::Pause {
            duration: std::time::Duration::from_millis(300),
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    b.client.perform_actions(drag).await.unwrap();
    let sid = fx.service_id;
    let order = || {
        app.db(move |c| {
            customer_grades::table
                .filter(customer_grades::service_id.eq(sid))
                .order(customer_grades::position.asc())
                .select(customer_grades::name)
                .load::<String>(c)
        })
    };
    let mut names = Vec::new();
    for _ in 0..50 {
        names = order();
        if names[0] == "VIP" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(names, ["VIP", "Gold"]);
    b.screenshot("customer-grades").await;
    b.client
        .goto(&format!("{}{}", app.base, ticket_page(&pid)))
        .await
        .unwrap();
    let tag = b.wait_css("#customer-grade .grade-tag.grade-red").await;
    assert_eq!(tag.text().await.unwrap(), "VIP");
    b.screenshot("ticket-grade").await;
    b.close().await;
}
