//! The help-center inquiry form: intake-type steps, validation with nothing stored on error,
//! ticket creation with the customer link, encrypted personal values, attachments, and the
//! receipt mail.

use diesel::prelude::*;
use opencontact::db::schema::{
    categories, customers, field_defs, services, ticket_attachments, ticket_entries, ticket_events,
    ticket_field_values, tickets,
};
use reqwest::multipart::{Form, Part};

use crate::support::{Client, Resp, TestApp};

const TICKET: &str = "/demo/hc/ticket/";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n0000rest";

fn field_id(app: &TestApp, service_id: i64, code: &str) -> i64 {
    let code = code.to_string();
    app.db(move |c| {
        field_defs::table
            .filter(field_defs::service_id.eq(service_id))
            .filter(field_defs::code.eq(code))
            .select(field_defs::id)
            .first(c)
    })
}

fn general_inquiry(app: &TestApp, service_id: i64) -> i64 {
    app.db(move |c| {
        categories::table
            .filter(categories::service_id.eq(service_id))
            .filter(categories::tree.eq("intake"))
            .select(categories::id)
            .first(c)
    })
}

fn counts(app: &TestApp) -> (i64, i64, i64, i64, i64, i64) {
    app.db(|c| {
        Ok((
            tickets::table.count().get_result(c)?,
            customers::table.count().get_result(c)?,
            ticket_entries::table.count().get_result(c)?,
            ticket_field_values::table.count().get_result(c)?,
            ticket_attachments::table.count().get_result(c)?,
            ticket_events::table.count().get_result(c)?,
        ))
    })
}

struct Ids {
    category: i64,
    name: String,
    mail: String,
    subject: String,
    content: String,
    consent: String,
}

fn ids(app: &TestApp, sid: i64) -> Ids {
    let f = |code: &str| format!("f{}", field_id(app, sid, code));
    Ids {
        category: general_inquiry(app, sid),
        name: f("name"),
        mail: f("mail"),
        subject: f("subject"),
        content: f("content"),
        consent: f("personalAgree"),
    }
}

/// A valid submission with some values replaced or added.
fn text_form(ids: &Ids, pairs: &[(&str, &str)]) -> Form {
    let defaults = [
        (ids.name.as_str(), "山田太郎"),
        (ids.mail.as_str(), "Taro@Example.jp"),
        (ids.subject.as_str(), "返金について"),
        (ids.content.as_str(), "注文した商品が届きません。"),
        (ids.consent.as_str(), "true"),
    ];
    let mut form = Form::new();
    for (k, v) in defaults {
        if !pairs.iter().any(|(pk, _)| *pk == k) {
            form = form.text(k.to_string(), v.to_string());
        }
    }
    for (k, v) in pairs {
        form = form.text((*k).to_string(), (*v).to_string());
    }
    form
}

fn file(name: &str, bytes: &[u8]) -> Part {
    Part::bytes(bytes.to_vec()).file_name(name.to_string())
}

async fn submit(client: &Client, ids: &Ids, form: Form) -> Resp {
    client
        .post_multipart(&format!("{TICKET}?category={}", ids.category), form)
        .await
}

/// A service in English and Japanese, so the customer can choose Japanese.
fn add_japanese(app: &TestApp, sid: i64) {
    app.db(move |c| {
        diesel::update(services::table.find(sid))
            .set(services::languages.eq("en,ja"))
            .execute(c)
    });
}

#[actix_web::test]
async fn a_japanese_inquiry_opens_one_ticket_with_its_customer_and_receipt() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    add_japanese(&app, fx.service_id);
    let ids = ids(&app, fx.service_id);
    let visitor = app.client();

    // Step one lists the intake types; choosing the leaf shows the form.
    let first = visitor.get(&format!("{TICKET}?lang=ja")).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert!(first.has("#intake-choices a"));
    let page = visitor
        .get(&format!("{TICKET}?category={}", ids.category))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.has("#inquiry-form"));
    assert!(page.text.contains("お問い合わせを送信"));

    let form = text_form(&ids, &[])
        .part("file", file("receipt.png", PNG))
        .part("file", file("memo.txt", "メモ".as_bytes()));
    let done = submit(&visitor, &ids, form).await;
    assert_eq!(done.status, 200, "{}", done.text);
    let public_id = done.texts("#ticket-id").join("");
    assert!(
        public_id.starts_with('T') && public_id.len() == 1 + 13 + 5,
        "{public_id}"
    );
    // Values: intake type, name, e-mail, subject, content, consent.
    assert_eq!(counts(&app), (1, 1, 1, 6, 2, 1));

    let (status, channel, lang, subject, customer_id): (
        String,
        String,
        String,
        String,
        Option<i64>,
    ) = app.db(|c| {
        tickets::table
            .select((
                tickets::status,
                tickets::channel,
                tickets::lang,
                tickets::subject,
                tickets::customer_id,
            ))
            .first(c)
    });
    assert_eq!(
        (
            status.as_str(),
            channel.as_str(),
            lang.as_str(),
            subject.as_str()
        ),
        ("new", "web", "ja", "返金について")
    );
    let email: String = app.db(move |c| {
        customers::table
            .find(customer_id.unwrap())
            .select(customers::email)
            .first(c)
    });
    assert_eq!(email, "taro@example.jp");
    // The e-mail is personal: stored encrypted, not as plain text.
    let mail_field = field_id(&app, fx.service_id, "mail");
    let stored: String = app.db(move |c| {
        ticket_field_values::table
            .filter(ticket_field_values::field_id.eq(mail_field))
            .select(ticket_field_values::value)
            .first(c)
    });
    assert!(stored.starts_with("v1:") && !stored.contains("Example"));
    // Attachments are on disk under uploads/tickets.
    let paths: Vec<String> = app.db(|c| {
        ticket_attachments::table
            .select(ticket_attachments::stored_path)
            .load(c)
    });
    assert!(paths.iter().all(|p| p.contains("tickets/")));

    let mails = app.smtp.wait_for(1).await;
    assert_eq!(mails[0].to, ["Taro@Example.jp"]);

    // The same e-mail again links to the same customer.
    let again = submit(&visitor, &ids, text_form(&ids, &[])).await;
    assert_eq!(again.status, 200);
    let (t, cu, ..) = counts(&app);
    assert_eq!((t, cu), (2, 1));
}

#[actix_web::test]
async fn bad_input_is_refused_with_422_and_nothing_stored() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let created = admin
        .post_form(
            "/demo/console/settings/fields/new",
            &[
                ("audience", "customer"),
                ("control", "date"),
                ("code", "orderDate"),
                ("label_en", "Order date"),
                ("visible", "on"),
                ("add_to_default", "on"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.text);
    let date = format!("f{}", field_id(&app, fx.service_id, "orderDate"));
    let ids = ids(&app, fx.service_id);
    let visitor = app.client();
    let long = "x".repeat(300);
    let big = {
        let mut b = PNG.to_vec();
        b.resize(10 * 1024 * 1024 + 10, b'0');
        b
    };

    // (form, field whose message is expected)
    let cases: Vec<(Form, String)> = vec![
        (
            Form::new()
                .text(ids.mail.clone(), "a@b.jp")
                .text(ids.content.clone(), "body")
                .text(ids.consent.clone(), "true"),
            ids.subject.clone(),
        ),
        (
            text_form(&ids, &[(&ids.subject, &long)]),
            ids.subject.clone(),
        ),
        (
            text_form(&ids, &[(&ids.mail, "not-an-email")]),
            ids.mail.clone(),
        ),
        (text_form(&ids, &[(&date, "2026-13-45")]), date.clone()),
        (
            (0..6).fold(text_form(&ids, &[]), |f, i| {
                f.part("file", file(&format!("p{i}.png"), PNG))
            }),
            "file".into(),
        ),
        (
            text_form(&ids, &[]).part("file", file("big.png", &big)),
            "file".into(),
        ),
        (
            text_form(&ids, &[]).part("file", file("run.exe", b"MZ\x90\x00")),
            "file".into(),
        ),
        (
            text_form(&ids, &[]).part("file", file("fake.png", b"just text")),
            "file".into(),
        ),
    ];
    for (i, (form, field)) in cases.into_iter().enumerate() {
        let r = submit(&visitor, &ids, form).await;
        assert_eq!(r.status, 422, "case {i}: {}", r.text);
        assert!(
            !r.field_error(&field).is_empty(),
            "case {i}: no message at {field}"
        );
        assert_eq!(counts(&app), (0, 0, 0, 0, 0, 0), "case {i}");
    }
    // The customer's input is kept.
    let r = submit(&visitor, &ids, text_form(&ids, &[(&ids.mail, "bad")])).await;
    assert!(r.text.contains("返金について"));
    // Without the CSRF token: refused.
    let raw = visitor
        .post_form_raw(
            &format!("{TICKET}?category={}", ids.category),
            &[(ids.subject.as_str(), "x")],
            &[],
        )
        .await;
    assert_eq!(raw.status, 403);
    assert_eq!(counts(&app).0, 0);
}

#[actix_web::test]
async fn a_refused_receipt_mail_keeps_the_ticket() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let ids = ids(&app, fx.service_id);
    app.smtp.set_refuse(true);
    let r = submit(&app.client(), &ids, text_form(&ids, &[])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The receipt was queued with the ticket; the refusal marks it failed in the outbox.
    assert!(r.has("#receipt-queued"));
    assert_eq!(counts(&app).0, 1);
    let public_id = r.texts("#ticket-id")[0].clone();
    app.run_pending_jobs().await;
    let row: (String, String) = app.db(|c| {
        opencontact::db::schema::mail_outbox::table
            .select((
                opencontact::db::schema::mail_outbox::status,
                opencontact::db::schema::mail_outbox::subject,
            ))
            .first(c)
    });
    assert_eq!(row.0, "failed");
    assert!(row.1.ends_with(&format!(" [#{public_id}]")), "{}", row.1);
}

#[actix_web::test]
async fn the_form_is_404_without_the_inquiry_module() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let visitor = app.client();
    assert_eq!(visitor.get(TICKET).await.status, 200);
    // An unknown intake type.
    assert_eq!(
        visitor
            .get(&format!("{TICKET}?category=999999"))
            .await
            .status,
        404
    );
    // Inquiry feature off.
    let sid = fx.service_id;
    let features: String = app.db(move |c| {
        services::table
            .find(sid)
            .select(services::features)
            .first(c)
    });
    let mut json: serde_json::Value = serde_json::from_str(&features).unwrap();
    json["inquiry"] = serde_json::Value::Bool(false);
    let off = json.to_string();
    app.db(move |c| {
        diesel::update(services::table.find(sid))
            .set(services::features.eq(off))
            .execute(c)
    });
    assert_eq!(visitor.get(TICKET).await.status, 404);
    assert!(!visitor.get("/demo/hc/").await.text.contains("/hc/ticket/"));
    // Disabled service.
    app.db(move |c| {
        diesel::update(services::table.find(sid))
            .set((services::features.eq(features), services::enabled.eq(false)))
            .execute(c)
    });
    assert_eq!(visitor.get(TICKET).await.status, 404);
    // An IM service.
    app.db(move |c| {
        diesel::update(services::table.find(sid))
            .set((services::enabled.eq(true), services::kind.eq("im")))
            .execute(c)
    });
    assert_eq!(visitor.get(TICKET).await.status, 404);
}

#[actix_web::test]
async fn intake_types_are_chosen_step_by_step_down_to_a_leaf() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let ids = ids(&app, sid);
    let names = serde_json::json!({ "en": "Refunds" }).to_string();
    let now = opencontact::db::now();
    let parent = ids.category;
    let child: i64 = app.db(move |c| {
        diesel::insert_into(categories::table)
            .values((
                categories::service_id.eq(sid),
                categories::tree.eq("intake"),
                categories::parent_id.eq(Some(parent)),
                categories::level.eq(2),
                categories::position.eq(0),
                categories::names.eq(names),
                categories::helpcenter_enabled.eq(true),
                categories::active.eq(true),
                categories::created_at.eq(now),
                categories::updated_at.eq(now),
            ))
            .returning(categories::id)
            .get_result(c)
    });
    let visitor = app.client();
    // The parent now has a child: it shows the next step, not the form.
    let step = visitor.get(&format!("{TICKET}?category={parent}")).await;
    assert_eq!(step.status, 200);
    assert!(!step.has("#inquiry-form"));
    assert_eq!(step.texts("#intake-choices a"), ["Refunds"]);
    // Posting to a node that is not a leaf is refused and stores nothing.
    let r = submit(&visitor, &ids, text_form(&ids, &[])).await;
    assert_eq!(r.status, 404);
    assert_eq!(counts(&app).0, 0);
    let leaf = visitor.get(&format!("{TICKET}?category={child}")).await;
    assert!(leaf.has("#inquiry-form"));
    let done = visitor
        .post_multipart(&format!("{TICKET}?category={child}"), text_form(&ids, &[]))
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    let category: Option<i64> = app.db(|c| tickets::table.select(tickets::category_id).first(c));
    assert_eq!(category, Some(child));
}
