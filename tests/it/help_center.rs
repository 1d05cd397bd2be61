//! The help center: search normalisation with identical hits on SQLite and PostgreSQL, the FAQ
//! and notice back office (publish rights, sanitising, display periods, pins, attachments,
//! headings, tags, templates, configuration) and the customer portal (main page, notices, FAQ,
//! articles, search, languages, iframe mode), with the denials every route needs.

use chrono::{Duration, TimeZone};
use diesel::prelude::*;
use opencontact::db::schema::{categories, faqs, hc_attachments, notices, services};
use opencontact::db::search::{FtsTable, SearchQuery, fts_filter, normalize};
use opencontact::db::types::{EditorType, ServiceKind};
use opencontact::i18n::Lang;
use opencontact::tenancy::service::{NewService, Service};

use crate::support::{Client, Fixture, Resp, TestApp};

const BO: &str = "/demo/console/help-center";
const HC: &str = "/demo/hc";

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

/// The app with `demo` (languages en; Asia/Seoul) and `kim`, an agent of `demo`.
async fn start() -> (TestApp, Fixture, i64) {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let kim = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(fx.service_id, kim, "agent");
    (app, fx, kim)
}

fn set_languages(app: &TestApp, service_id: i64, langs: &str, default: &str) {
    let (langs, default) = (langs.to_string(), default.to_string());
    app.db(move |c| {
        diesel::update(services::table.find(service_id))
            .set((
                services::languages.eq(langs),
                services::default_lang.eq(default),
            ))
            .execute(c)
    });
}

fn faq_category(
    app: &TestApp,
    service_id: i64,
    parent: Option<i64>,
    level: i32,
    names: &str,
) -> i64 {
    let names = names.to_string();
    let t = opencontact::db::now();
    app.db(move |c| {
        diesel::insert_into(categories::table)
            .values((
                categories::service_id.eq(service_id),
                categories::tree.eq("faq"),
                categories::parent_id.eq(parent),
                categories::level.eq(level),
                categories::position.eq(0),
                categories::names.eq(names),
                categories::helpcenter_enabled.eq(true),
                categories::active.eq(true),
                categories::created_at.eq(t),
                categories::updated_at.eq(t),
            ))
            .returning(categories::id)
            .get_result(c)
    })
}

fn id_from(location: &str) -> i64 {
    location.rsplit('/').next().unwrap().parse().unwrap()
}

async fn follow(c: &Client, r: &Resp) -> Resp {
    assert_eq!(r.status, 303, "expected a redirect: {}", r.text);
    c.get(&r.location()).await
}

/// Creates an FAQ through the back office; returns its id.
async fn create_faq(
    c: &Client,
    title: &str,
    body: &str,
    extra: &[(&str, &str)],
    action: &str,
) -> i64 {
    let mut fields = vec![("title_en", title), ("body_en", body), ("action", action)];
    fields.extend_from_slice(extra);
    let r = c.post_form(&format!("{BO}/faq"), &fields).await;
    assert_eq!(r.status, 303, "create FAQ {title}: {}", r.text);
    id_from(&r.location())
}

async fn create_heading(c: &Client, name: &str) -> i64 {
    let r = c
        .post_form(&format!("{BO}/notice-headings"), &[("name_en", name)])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = c.get(&format!("{BO}/notice-headings")).await;
    let doc = page.doc();
    let sel = scraper::Selector::parse("#labels input[name=heading_id]").unwrap();
    doc.select(&sel)
        .next_back()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .parse()
        .unwrap()
}

async fn create_notice(c: &Client, heading: i64, title: &str, extra: &[(&str, &str)]) -> i64 {
    let h = heading.to_string();
    let mut fields = vec![
        ("heading_id", h.as_str()),
        ("display_date", "2026-01-15"),
        ("title_en", title),
        ("body_en", "<p>Notice body</p>"),
        ("action", "publish"),
    ];
    fields.extend_from_slice(extra);
    let r = c.post_form(&format!("{BO}/notices"), &fields).await;
    assert_eq!(r.status, 303, "create notice {title}: {}", r.text);
    id_from(&r.location())
}

fn file_form(bytes: Vec<u8>, name: &str) -> reqwest::multipart::Form {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    reqwest::multipart::Form::new().part("file", part)
}

#[test]
fn search_text_is_normalised_into_words_and_pairs() {
    assert_eq!(normalize("Refund POLICY"), "refund policy");
    assert_eq!(normalize("환불요청"), "환불 불요 요청");
    assert_eq!(normalize("返金手続き"), "返金 金手 手続 続き");
    let q = SearchQuery::parse("환불").unwrap();
    assert_eq!(q.fts5(), "\"환불\"");
    assert_eq!(q.tsquery(), "'환불'");
}

/// The same documents and queries give the same hits on whichever backend runs the suite.
#[actix_web::test]
async fn korean_japanese_and_english_searches_hit_the_same_documents() {
    let (app, fx, _) = start().await;
    let admin = app.login("admin").await;
    let ko = create_faq(
        &admin,
        "환불요청 방법 안내",
        "<p>주문 취소 후 환불을 받을 수 있습니다.</p>",
        &[],
        "publish",
    )
    .await;
    let ja = create_faq(
        &admin,
        "返金の手続きについて",
        "<p>ご注文のキャンセル方法です。</p>",
        &[],
        "publish",
    )
    .await;
    let en = create_faq(
        &admin,
        "Refund policy for orders",
        "<p>Cancelled orders are refunded.</p>",
        &[],
        "publish",
    )
    .await;
    let draft = create_faq(&admin, "Refund drafts", "<p>draft</p>", &[], "draft").await;
    let sid = fx.service_id;
    let hits = |q: &str| -> Vec<i64> {
        let query = SearchQuery::parse(q).unwrap();
        let mut ids: Vec<i64> = app.db(move |c| {
            let filter = fts_filter(c, FtsTable::Faqs, &query);
            faqs::table
                .filter(faqs::service_id.eq(sid))
                .filter(filter)
                .select(faqs::id)
                .load(c)
        });
        ids.sort();
        ids
    };
    assert_eq!(
        hits("환불"),
        vec![ko],
        "a two-syllable word inside 환불요청"
    );
    assert_eq!(hits("요청"), vec![ko]);
    assert_eq!(hits("환불요청"), vec![ko]);
    assert_eq!(hits("취소"), vec![ko]);
    assert_eq!(hits("환"), vec![ko], "one syllable matches as a prefix");
    assert_eq!(hits("返金"), vec![ja]);
    assert_eq!(hits("手続き"), vec![ja]);
    assert_eq!(hits("キャンセル"), vec![ja]);
    let mut refund = vec![en, draft];
    refund.sort();
    assert_eq!(hits("refund"), refund);
    assert_eq!(hits("REFUND Policy"), vec![en]);
    assert!(hits("refun").is_empty(), "English matches whole words");
    assert!(hits("polic").is_empty());
    assert!(hits("환불 refund").is_empty());

    // The portal's unified search and the FAQ search use the same index (published only).
    let visitor = app.client();
    let r = visitor
        .get(&format!("{HC}/search?q=%ED%99%98%EB%B6%88"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.texts("#search-faqs .hc-item-title"),
        ["환불요청 방법 안내"]
    );
    let r = visitor.get(&format!("{HC}/search?q=refund")).await;
    assert_eq!(
        r.texts("#search-faqs .hc-item-title"),
        ["Refund policy for orders"]
    );
    let r = visitor.get(&format!("{HC}/faq?q=%E8%BF%94%E9%87%91")).await;
    assert_eq!(r.texts("#faqs .hc-item-title"), ["返金の手続きについて"]);
    let r = visitor.get(&format!("{HC}/search?q=nothinghere")).await;
    assert!(r.texts("#search-faqs .hc-item-title").is_empty());
    assert!(r.has("#search-faqs .empty"));
    // Back-office search finds drafts too.
    let r = admin.get(&format!("{BO}/faq?tab=draft&q=refund")).await;
    assert_eq!(r.texts("#faqs td.title a"), ["Refund drafts"]);
}

#[actix_web::test]
async fn agents_write_drafts_and_administrators_publish() {
    let (app, _fx, _) = start().await;
    let admin = app.login("admin").await;
    let agent = app.login("kim").await;

    // The agent sees the form without the publish button.
    let form = agent.get(&format!("{BO}/faq/new")).await;
    assert_eq!(form.status, 200);
    assert!(form.has("button[value=draft]"));
    assert!(!form.has("button[value=publish]"));
    let admin_form = admin.get(&format!("{BO}/faq/new")).await;
    assert!(admin_form.has("button[value=publish]"));

    // Publishing is refused to agents; nothing is stored.
    let r = agent
        .post_form(
            &format!("{BO}/faq"),
            &[("title_en", "T"), ("body_en", "B"), ("action", "publish")],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(app.db(|c| faqs::table.count().get_result::<i64>(c)), 0);

    let id = create_faq(&agent, "Agent draft", "<p>first</p>", &[], "draft").await;
    let status = |app: &TestApp| -> String {
        app.db(move |c| faqs::table.find(id).select(faqs::status).first(c))
    };
    assert_eq!(status(&app), "draft");
    // The agent edits the draft.
    let r = agent
        .post_form(
            &format!("{BO}/faq/{id}"),
            &[
                ("title_en", "Agent draft v2"),
                ("body_en", "<p>second</p>"),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    for action in ["publish", "unpublish", "delete"] {
        let r = agent
            .post_form(&format!("{BO}/faq/{id}/{action}"), &[])
            .await;
        assert_eq!(r.status, 403, "agent {action}");
    }
    // The list shows the last editor and the draft status.
    let list = admin.get(&format!("{BO}/faq?tab=draft")).await;
    assert_eq!(list.texts("#faqs td.title a"), ["Agent draft v2"]);
    assert_eq!(list.texts("#faqs td.editor"), ["Kim Agent"]);
    assert_eq!(list.texts("#faqs td.status"), ["Draft"]);

    // Not public while a draft.
    let visitor = app.client();
    assert_eq!(
        visitor.get(&format!("{HC}/article/{id}/")).await.status,
        404
    );

    let r = admin
        .post_form(&format!("{BO}/faq/{id}/publish"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(status(&app), "published");
    assert_eq!(
        visitor.get(&format!("{HC}/article/{id}/")).await.status,
        200
    );
    // Published documents are the administrators' to change.
    let r = agent
        .post_form(
            &format!("{BO}/faq/{id}"),
            &[("title_en", "x"), ("body_en", "y"), ("action", "draft")],
        )
        .await;
    assert_eq!(r.status, 403);
    let page = agent.get(&format!("{BO}/faq/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.has("button[value=draft]"));
    let r = admin
        .post_form(
            &format!("{BO}/faq/{id}"),
            &[
                ("title_en", "Edited by admin"),
                ("body_en", "<p>z</p>"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(status(&app), "published");
    let list = admin.get(&format!("{BO}/faq?tab=published")).await;
    assert_eq!(list.texts("#faqs td.editor"), ["Ada Admin"]);

    let r = admin
        .post_form(&format!("{BO}/faq/{id}/unpublish"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(status(&app), "draft");
    let r = admin.post_form(&format!("{BO}/faq/{id}/delete"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(app.db(|c| faqs::table.count().get_result::<i64>(c)), 0);
    assert_eq!(admin.get(&format!("{BO}/faq/{id}")).await.status, 404);

    // The same rights hold for notices.
    let heading = create_heading(&admin, "News").await;
    let h = heading.to_string();
    let r = agent
        .post_form(
            &format!("{BO}/notices"),
            &[
                ("heading_id", &h),
                ("display_date", "2026-01-01"),
                ("title_en", "N"),
                ("body_en", "B"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = agent
        .post_form(
            &format!("{BO}/notices"),
            &[
                ("heading_id", &h),
                ("display_date", "2026-01-01"),
                ("title_en", "N"),
                ("body_en", "B"),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let nid = id_from(&r.location());
    assert_eq!(
        agent
            .post_form(&format!("{BO}/notices/{nid}/publish"), &[])
            .await
            .status,
        403
    );
    assert_eq!(
        admin
            .post_form(&format!("{BO}/notices/{nid}/publish"), &[])
            .await
            .status,
        303
    );
    assert_eq!(
        agent
            .post_form(&format!("{BO}/notices/{nid}/delete"), &[])
            .await
            .status,
        403
    );
    // Headings, tags, templates and settings are for administrators.
    for path in [
        "/notice-headings",
        "/notice-tags",
        "/notice-templates",
        "/settings",
    ] {
        assert_eq!(
            agent.get(&format!("{BO}{path}")).await.status,
            403,
            "{path}"
        );
    }
    assert_eq!(
        agent
            .post_form(&format!("{BO}/notice-headings"), &[("name_en", "x")])
            .await
            .status,
        403
    );
}

#[actix_web::test]
async fn bodies_are_sanitised_before_they_reach_the_page() {
    let (app, _fx, _) = start().await;
    let admin = app.login("admin").await;
    let body = "<p onclick=\"steal()\">Hello <strong>world</strong></p><script>alert('x')</script>\
                <a href=\"javascript:alert(1)\">bad</a><img src=x onerror=alert(1)>";
    let id = create_faq(&admin, "Safe", body, &[], "publish").await;
    let stored: String = app.db(move |c| {
        opencontact::db::schema::faq_contents::table
            .filter(opencontact::db::schema::faq_contents::faq_id.eq(id))
            .select(opencontact::db::schema::faq_contents::body_html)
            .first(c)
    });
    assert!(!stored.contains("<script"), "{stored}");
    assert!(!stored.contains("onclick"));
    assert!(!stored.contains("javascript:"));
    assert!(!stored.contains("onerror"));
    let page = app.client().get(&format!("{HC}/article/{id}/")).await;
    assert_eq!(page.status, 200);
    assert!(!page.text.contains("alert('x')"));
    assert!(!page.text.contains("onclick"));
    assert_eq!(page.texts(".hc-body strong"), ["world"]);
    // Plain text (no JavaScript editor) becomes paragraphs, escaped.
    let id = create_faq(
        &admin,
        "Plain",
        "Fish & chips > 4\n\nSecond paragraph",
        &[],
        "publish",
    )
    .await;
    let page = app.client().get(&format!("{HC}/article/{id}/")).await;
    assert_eq!(
        page.texts(".hc-body p"),
        ["Fish & chips > 4", "Second paragraph"]
    );
}

#[actix_web::test]
async fn notice_periods_change_at_the_minute_in_the_service_time_zone() {
    let (app, _fx, _) = start().await;
    let admin = app.login("admin").await;
    let heading = create_heading(&admin, "Updates").await;
    let seoul = chrono_tz::Asia::Seoul;
    let now_local = seoul.from_utc_datetime(&chrono::Utc::now().naive_utc());
    let fmt = |d: chrono::DateTime<chrono_tz::Tz>| d.format("%Y-%m-%dT%H:%M").to_string();
    let future = fmt(now_local + Duration::hours(2));
    let past_start = fmt(now_local - Duration::hours(3));
    let past_end = fmt(now_local - Duration::hours(1));
    let reserved = create_notice(
        &admin,
        heading,
        "Reserved notice",
        &[("starts_at", &future)],
    )
    .await;
    let done = create_notice(
        &admin,
        heading,
        "Finished notice",
        &[("starts_at", &past_start), ("ends_at", &past_end)],
    )
    .await;
    let live = create_notice(
        &admin,
        heading,
        "Live notice",
        &[("starts_at", &past_start)],
    )
    .await;

    // Stored in UTC, to the minute: Seoul is UTC+9.
    let (starts, _): (Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>) =
        app.db(move |c| {
            notices::table
                .find(reserved)
                .select((notices::starts_at, notices::ends_at))
                .first(c)
        });
    let expected = (now_local + Duration::hours(2)).naive_utc();
    assert_eq!(
        starts.unwrap().format("%Y-%m-%d %H:%M").to_string(),
        expected.format("%Y-%m-%d %H:%M").to_string()
    );
    assert_eq!(starts.unwrap().format("%S").to_string(), "00");
    // The form shows the local time back.
    let form = admin.get(&format!("{BO}/notices/{reserved}")).await;
    let doc = form.doc();
    let sel = scraper::Selector::parse("#f-starts_at").unwrap();
    assert_eq!(
        doc.select(&sel).next().unwrap().value().attr("value"),
        Some(future.as_str())
    );
    assert_eq!(form.texts("#period"), ["Reserved"]);

    let list = admin.get(&format!("{BO}/notices")).await;
    let rows: Vec<String> = list.texts("#notices td.status");
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().any(|r| r.contains("Reserved")));
    assert!(rows.iter().any(|r| r.contains("In progress")));
    assert!(rows.iter().any(|r| r.contains("Done")));

    let visitor = app.client();
    let page = visitor.get(&format!("{HC}/notices")).await;
    assert_eq!(page.texts("#notices td.title a"), ["Live notice"]);
    assert_eq!(
        visitor
            .get(&format!("{HC}/notices/{reserved}"))
            .await
            .status,
        404
    );
    assert_eq!(
        visitor.get(&format!("{HC}/notices/{done}")).await.status,
        404
    );
    assert_eq!(
        visitor.get(&format!("{HC}/notices/{live}")).await.status,
        200
    );

    // Moving the start into the past makes the reserved notice visible at once.
    let h = heading.to_string();
    let r = admin
        .post_form(
            &format!("{BO}/notices/{reserved}"),
            &[
                ("heading_id", &h),
                ("display_date", "2026-01-15"),
                ("starts_at", &past_start),
                ("title_en", "Reserved notice"),
                ("body_en", "<p>x</p>"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(
        visitor
            .get(&format!("{HC}/notices/{reserved}"))
            .await
            .status,
        200
    );

    // Bad input: end before start, bad time, no heading.
    let r = admin
        .post_form(
            &format!("{BO}/notices"),
            &[
                ("heading_id", &h),
                ("display_date", "2026-01-15"),
                ("starts_at", &past_end),
                ("ends_at", &past_start),
                ("title_en", "x"),
                ("body_en", "y"),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("ends_at"), "The end must be after the start.");
    let r = admin
        .post_form(
            &format!("{BO}/notices"),
            &[
                ("heading_id", ""),
                ("display_date", "soon"),
                ("starts_at", "tomorrow"),
                ("title_en", ""),
                ("body_en", ""),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("heading_id").is_empty());
    assert!(!r.field_error("display_date").is_empty());
    assert!(!r.field_error("starts_at").is_empty());
    assert!(!r.field_error("title_en").is_empty());
    assert!(!r.field_error("body_en").is_empty());
    assert_eq!(app.db(|c| notices::table.count().get_result::<i64>(c)), 3);
}

#[actix_web::test]
async fn pins_order_lists_and_reads_are_counted() {
    let (app, fx, _) = start().await;
    let admin = app.login("admin").await;
    let billing = faq_category(&app, fx.service_id, None, 1, r#"{"en":"Billing"}"#);
    let refunds = faq_category(&app, fx.service_id, Some(billing), 2, r#"{"en":"Refunds"}"#);
    let account = faq_category(&app, fx.service_id, None, 1, r#"{"en":"Account"}"#);
    let b = billing.to_string();
    let r = refunds.to_string();
    let a = account.to_string();
    // Seven published FAQs; two pinned to main, one pinned in its category.
    let mut ids = Vec::new();
    for i in 1..=5 {
        ids.push(
            create_faq(
                &admin,
                &format!("Plain {i}"),
                "<p>x</p>",
                &[("category_id", &a)],
                "publish",
            )
            .await,
        );
    }
    let main1 = create_faq(
        &admin,
        "Main pinned old",
        "<p>x</p>",
        &[("category_id", &b), ("pin_main", "on")],
        "publish",
    )
    .await;
    let main2 = create_faq(
        &admin,
        "Main pinned new",
        "<p>x</p>",
        &[("category_id", &a), ("pin_main", "on")],
        "publish",
    )
    .await;
    let cat_pin = create_faq(
        &admin,
        "Refund pinned",
        "<p>x</p>",
        &[("category_id", &r), ("pin_category", "on")],
        "publish",
    )
    .await;
    let _draft = create_faq(
        &admin,
        "Draft pinned",
        "<p>x</p>",
        &[("pin_main", "on")],
        "draft",
    )
    .await;
    let _ = (main1, main2, cat_pin);

    let visitor = app.client();
    let main = visitor.get(&format!("{HC}/")).await;
    assert_eq!(main.status, 200);
    let titles = main.texts("#main-faqs .hc-item-title");
    assert_eq!(titles.len(), 5);
    assert_eq!(titles[0], "Main pinned new");
    assert_eq!(titles[1], "Main pinned old");
    assert_eq!(titles[2], "Refund pinned", "then the newest unpinned ones");
    assert!(!titles.contains(&"Draft pinned".to_string()));
    assert_eq!(
        main.texts("#main-faqs .hot .hc-item-title"),
        ["Main pinned new", "Main pinned old"]
    );

    // Category tabs (3 levels); pinned-in-category first, marked HOT; parent includes children.
    let page = visitor.get(&format!("{HC}/faq?category={billing}")).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.texts(".hc-tabs.level-1 a"),
        ["All", "Billing", "Account"]
    );
    assert_eq!(page.texts(".hc-tabs.level-2 a"), ["Refunds"]);
    assert_eq!(
        page.texts("#faqs .hc-item-title"),
        ["Refund pinned", "Main pinned old"]
    );
    assert_eq!(
        page.texts("#faqs .hot .hc-item-title"),
        ["Refund pinned", "Main pinned old"]
    );
    let page = visitor.get(&format!("{HC}/faq?category={refunds}")).await;
    assert_eq!(page.texts("#faqs .hc-item-title"), ["Refund pinned"]);
    assert_eq!(page.texts(".hc-tabs.level-2 a.active"), ["Refunds"]);
    // Search within a category.
    let page = visitor
        .get(&format!("{HC}/faq?category={account}&q=plain"))
        .await;
    assert_eq!(page.texts("#faqs .hc-item-title").len(), 5);
    let page = visitor
        .get(&format!("{HC}/faq?category={billing}&q=plain"))
        .await;
    assert!(page.texts("#faqs .hc-item-title").is_empty());
    assert_eq!(
        visitor
            .get(&format!("{HC}/faq?category=999999"))
            .await
            .status,
        404
    );

    // Read counts.
    for _ in 0..3 {
        assert_eq!(
            visitor.get(&format!("{HC}/article/{main2}/")).await.status,
            200
        );
    }
    let page = visitor.get(&format!("{HC}/article/{main2}")).await;
    assert_eq!(page.texts(".views"), ["4"]);
    let views: i64 = app.db(move |c| faqs::table.find(main2).select(faqs::view_count).first(c));
    assert_eq!(views, 4);
    let list = admin.get(&format!("{BO}/faq")).await;
    assert!(list.text.contains(">4<"));

    // Notices: pinned first, then by display date; read counts.
    let heading = create_heading(&admin, "General").await;
    let old = create_notice(&admin, heading, "Old", &[("display_date", "2026-01-01")]).await;
    let newer = create_notice(&admin, heading, "Newer", &[("display_date", "2026-02-01")]).await;
    let pinned = create_notice(
        &admin,
        heading,
        "Pinned",
        &[("display_date", "2025-06-01"), ("pinned", "on")],
    )
    .await;
    let page = visitor.get(&format!("{HC}/notices")).await;
    assert_eq!(
        page.texts("#notices td.title a"),
        ["Pinned", "Newer", "Old"]
    );
    assert!(page.has("#notices tr.pinned"));
    let _ = (old, newer);
    visitor.get(&format!("{HC}/notices/{pinned}")).await;
    let page = visitor.get(&format!("{HC}/notices/{pinned}")).await;
    assert_eq!(page.texts(".views"), ["2"]);
    let main = visitor.get(&format!("{HC}/")).await;
    assert_eq!(
        main.texts("#main-notices .hc-item-title"),
        ["Pinned", "Newer", "Old"]
    );
}

#[actix_web::test]
async fn attachments_are_limited_checked_and_served() {
    let (app, _fx, _) = start().await;
    let admin = app.login("admin").await;
    let id = create_faq(&admin, "With files", "<p>x</p>", &[], "publish").await;
    let url = format!("{BO}/faq/{id}/attachments");

    let r = admin
        .post_multipart(&url, file_form(b"hello world".to_vec(), "readme.txt"))
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = admin
        .post_multipart(&url, file_form(PNG.to_vec(), "pixel.png"))
        .await;
    assert_eq!(r.status, 303);

    // Refused: forbidden extension, content not matching, too large, too many, long name.
    let r = admin
        .post_multipart(&url, file_form(b"MZ\x90\x00".to_vec(), "tool.exe"))
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.field_error("file").contains("not allowed"),
        "{}",
        r.field_error("file")
    );
    let r = admin
        .post_multipart(&url, file_form(b"MZ\x90\x00".to_vec(), "fake.png"))
        .await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("file").contains("does not match"));
    let r = admin
        .post_multipart(&url, file_form(vec![b'a'; 10 * 1024 * 1024], "big.txt"))
        .await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("file").contains("10 MB"));
    let long = format!("{}.txt", "n".repeat(100));
    let r = admin
        .post_multipart(&url, file_form(b"x".to_vec(), &long))
        .await;
    assert_eq!(r.status, 422);
    let mut four = reqwest::multipart::Form::new();
    for i in 0..4 {
        four = four.part(
            "file",
            reqwest::multipart::Part::bytes(b"x".to_vec()).file_name(format!("f{i}.txt")),
        );
    }
    let r = admin.post_multipart(&url, four).await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("file").contains("at most 5"));
    assert_eq!(
        app.db(|c| hc_attachments::table.count().get_result::<i64>(c)),
        2
    );

    // The article lists them; downloads carry the original name.
    let visitor = app.client();
    let page = visitor.get(&format!("{HC}/article/{id}/")).await;
    assert_eq!(page.texts(".hc-attachments a"), ["readme.txt", "pixel.png"]);
    let doc = page.doc();
    let sel = scraper::Selector::parse(".hc-attachments a").unwrap();
    let href = doc
        .select(&sel)
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap()
        .to_string();
    let r = visitor
        .http
        .get(format!("{}{}", app.base, href))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("readme.txt")
    );
    assert_eq!(r.text().await.unwrap(), "hello world");

    // A draft's attachments are not public.
    let att: i64 = app.db(|c| {
        hc_attachments::table
            .select(hc_attachments::id)
            .order(hc_attachments::id.asc())
            .first(c)
    });
    admin
        .post_form(&format!("{BO}/faq/{id}/unpublish"), &[])
        .await;
    assert_eq!(
        visitor
            .get(&format!("{HC}/attachments/{att}/readme.txt"))
            .await
            .status,
        404
    );
    assert_eq!(
        admin.get(&format!("{BO}/attachments/{att}")).await.status,
        200
    );
    // Removing one deletes its row and file.
    let path: String = app.db(move |c| {
        hc_attachments::table
            .find(att)
            .select(hc_attachments::stored_path)
            .first(c)
    });
    let full = app.state.config.data_dir.join(&path);
    assert!(full.exists());
    let r = admin
        .post_form(&format!("{BO}/faq/{id}/attachments/{att}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert!(!full.exists());
    // Deleting the document removes the rest.
    admin.post_form(&format!("{BO}/faq/{id}/delete"), &[]).await;
    assert_eq!(
        app.db(|c| hc_attachments::table.count().get_result::<i64>(c)),
        0
    );
}

#[actix_web::test]
async fn the_portal_speaks_the_service_languages() {
    let (app, fx, _) = start().await;
    set_languages(&app, fx.service_id, "ko,en", "ko");
    let admin = app.login("admin").await;
    // Korean is the default language (required); English is optional.
    let r = admin
        .post_form(
            &format!("{BO}/faq"),
            &[
                ("title_en", "Only English"),
                ("body_en", "<p>x</p>"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("title_ko").is_empty());
    let r = admin
        .post_form(
            &format!("{BO}/faq"),
            &[
                ("title_ko", "비밀번호 변경"),
                ("body_ko", "<p>설정에서 변경</p>"),
                ("title_en", "Changing your password"),
                ("body_en", "<p>In settings</p>"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let both = id_from(&r.location());
    let r = admin
        .post_form(
            &format!("{BO}/faq"),
            &[
                ("title_ko", "한국어만"),
                ("body_ko", "<p>본문</p>"),
                ("action", "publish"),
            ],
        )
        .await;
    let ko_only = id_from(&r.location());

    let visitor = app.client();
    let main = visitor.get(&format!("{HC}/")).await;
    assert_eq!(main.status, 200);
    assert_eq!(main.texts(".hc-langs a"), ["한국어", "English"]);
    assert_eq!(main.texts(".hc-langs a.current"), ["한국어"]);
    assert!(main.texts(".hc-banner h1")[0].contains("도와드릴까요"));
    let r = visitor.get(&format!("{HC}/article/{both}/?lang=en")).await;
    assert_eq!(r.texts(".hc-article h1"), ["Changing your password"]);
    assert!(r.header("set-cookie").contains("oc_hc_lang=en"));
    assert!(r.header("set-cookie").contains("Path=/demo/hc"));
    // The cookie keeps English; a missing translation falls back to Korean.
    let r = visitor.get(&format!("{HC}/article/{ko_only}/")).await;
    assert_eq!(r.texts(".hc-article h1"), ["한국어만"]);
    assert_eq!(r.texts(".hc-langs a.current"), ["English"]);
    let r = visitor.get(&format!("{HC}/faq")).await;
    assert!(
        r.texts(".hc-item-title")
            .contains(&"Changing your password".to_string())
    );
    assert_eq!(r.texts(".hc-page-head h1"), ["FAQ"]);
    // Languages the service does not offer are ignored.
    let r = app.client().get(&format!("{HC}/?lang=ja")).await;
    assert_eq!(r.texts(".hc-langs a.current"), ["한국어"]);
    // One language: no selector.
    set_languages(&app, fx.service_id, "en", "en");
    let r = app.client().get(&format!("{HC}/")).await;
    assert!(!r.has(".hc-langs"));
}

#[actix_web::test]
async fn iframe_mode_drops_the_chrome_and_allows_the_configured_framers() {
    let (app, fx, _) = start().await;
    let sid = fx.service_id;
    app.db(move |c| {
        diesel::update(services::table.find(sid))
            .set(services::hc_frame_ancestors.eq("https://shop.example"))
            .execute(c)
    });
    let admin = app.login("admin").await;
    let id = create_faq(&admin, "Framed", "<p>x</p>", &[], "publish").await;
    let visitor = app.client();
    let r = visitor.get(&format!("{HC}/?iframe=true")).await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-security-policy")
            .contains("frame-ancestors 'self' https://shop.example")
    );
    assert_eq!(r.header("x-frame-options"), "");
    assert!(!r.has(".hc-head"));
    assert!(!r.has(".hc-foot"));
    assert!(r.has("script[src^='/assets/js/hc-frame.js']"));
    let doc = r.doc();
    let sel = scraper::Selector::parse("#main-faqs a.hc-item-title").unwrap();
    let href = doc
        .select(&sel)
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap();
    assert_eq!(href, format!("{HC}/article/{id}/?iframe=true"));
    assert!(r.has("form.hc-search input[name=iframe][value=true]"));
    // Without the flag: chrome, and only same-origin framing.
    let r = visitor.get(&format!("{HC}/")).await;
    assert!(r.has(".hc-head"));
    assert_eq!(r.header("x-frame-options"), "SAMEORIGIN");
    assert!(
        r.header("content-security-policy")
            .ends_with("frame-ancestors 'self'")
    );
    // The script is served.
    let js = visitor.get("/assets/js/hc-frame.js").await;
    assert!(js.text.contains("opencontact:height"));
    // /hc redirects to /hc/ keeping the query.
    let r = visitor.get("/demo/hc?iframe=true").await;
    assert_eq!(r.location(), "/demo/hc/?iframe=true");
}

#[actix_web::test]
async fn disabled_and_issue_services_have_no_help_center() {
    let (app, fx, _) = start().await;
    let new = NewService {
        code: "issues".into(),
        kind: ServiceKind::Issue,
        name: "Issues".into(),
        languages: vec![Lang::En],
        default_lang: Lang::En,
        timezone: "UTC".into(),
        editor_type: EditorType::Html,
    };
    let im = app
        .state
        .db
        .write_blocking(|c| Service::create(c, &new))
        .unwrap();
    app.add_to_service(im, fx.admin_id, "admin");
    let visitor = app.client();
    assert_eq!(visitor.get("/issues/hc/").await.status, 404);
    assert_eq!(visitor.get("/nothing/hc/").await.status, 404);
    let admin = app.login("admin").await;
    assert_eq!(
        admin.get("/issues/console/help-center/faq").await.status,
        404
    );
    let sid = fx.service_id;
    app.db(move |c| {
        diesel::update(services::table.find(sid))
            .set(services::enabled.eq(false))
            .execute(c)
    });
    let r = visitor.get(&format!("{HC}/")).await;
    assert_eq!(r.status, 404);
    assert!(r.has(".error-code"));
    assert_eq!(visitor.get(&format!("{HC}/faq")).await.status, 404);
}

#[actix_web::test]
async fn back_office_denials_and_bad_input() {
    let (app, _fx, _) = start().await;
    let lee = app.create_member("lee", "Lee Other", false);
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
    app.add_to_service(other, lee, "admin");
    let admin = app.login("admin").await;
    let id = create_faq(&admin, "Existing", "<p>x</p>", &[], "draft").await;
    let heading = create_heading(&admin, "Main").await;
    let nid = create_notice(&admin, heading, "A notice", &[]).await;

    let gets = [
        format!("{BO}/faq"),
        format!("{BO}/faq/new"),
        format!("{BO}/faq/{id}"),
        format!("{BO}/notices"),
        format!("{BO}/notices/new"),
        format!("{BO}/notices/{nid}"),
        format!("{BO}/notice-headings"),
        format!("{BO}/notice-tags"),
        format!("{BO}/notice-templates"),
        format!("{BO}/notice-templates/new"),
        format!("{BO}/settings"),
    ];
    let signed_out = app.client();
    let lee_c = app.login("lee").await;
    for path in &gets {
        assert_eq!(admin.get(path).await.status, 200, "{path}");
        let r = signed_out.get(path).await;
        assert_eq!(r.status, 303, "{path}");
        assert!(r.location().starts_with("/login"));
        assert_eq!(lee_c.get(path).await.status, 403, "other service {path}");
    }
    let posts = [
        format!("{BO}/faq"),
        format!("{BO}/faq/{id}"),
        format!("{BO}/faq/{id}/publish"),
        format!("{BO}/faq/{id}/delete"),
        format!("{BO}/notices"),
        format!("{BO}/notices/{nid}/unpublish"),
        format!("{BO}/notice-headings"),
        format!("{BO}/notice-headings/order"),
        format!("{BO}/notice-tags"),
        format!("{BO}/notice-templates"),
        format!("{BO}/settings"),
    ];
    for path in &posts {
        let r = admin.post_form_raw(path, &[("title_en", "x")], &[]).await;
        assert_eq!(r.status, 403, "no CSRF {path}");
        assert_eq!(
            lee_c.post_form(path, &[("title_en", "x")]).await.status,
            403,
            "other service {path}"
        );
        assert_eq!(
            signed_out.post_form(path, &[]).await.status,
            303,
            "signed out {path}"
        );
    }
    // Members restricted from the Help Center menu are refused.
    let kim: i64 = app.db(|c| {
        opencontact::db::schema::users::table
            .filter(opencontact::db::schema::users::login.eq("kim"))
            .select(opencontact::db::schema::users::id)
            .first(c)
    });
    let sid = _fx.service_id;
    app.db(move |c| {
        diesel::insert_into(opencontact::db::schema::menu_access::table)
            .values((
                opencontact::db::schema::menu_access::service_id.eq(sid),
                opencontact::db::schema::menu_access::menu.eq("help_center"),
                opencontact::db::schema::menu_access::partial.eq(true),
            ))
            .execute(c)?;
        diesel::insert_into(opencontact::db::schema::menu_restrictions::table)
            .values((
                opencontact::db::schema::menu_restrictions::service_id.eq(sid),
                opencontact::db::schema::menu_restrictions::menu.eq("help_center"),
                opencontact::db::schema::menu_restrictions::user_id.eq(kim),
            ))
            .execute(c)
    });
    let agent = app.login("kim").await;
    assert_eq!(agent.get(&format!("{BO}/faq")).await.status, 403);
    let home = agent.get("/demo/console/").await;
    assert!(!home.text.contains("/demo/console/help-center/faq"));
    let home = admin.get("/demo/console/").await;
    assert!(home.has("a[href='/demo/console/help-center/faq']"));
    assert!(home.has("a[href='/demo/hc/']"));

    // Bad input re-renders with 422 and keeps the values.
    let r = admin
        .post_form(
            &format!("{BO}/faq"),
            &[
                ("title_en", ""),
                ("body_en", "<p>kept body</p>"),
                ("category_id", "12345"),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("title_en"), "This field is required.");
    assert!(!r.field_error("category_id").is_empty());
    assert!(r.text.contains("kept body"));
    let long = "t".repeat(201);
    let r = admin
        .post_form(
            &format!("{BO}/faq/{id}"),
            &[("title_en", &long), ("body_en", "b"), ("action", "draft")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("title_en"), "At most 200 characters.");
    let r = admin
        .post_form(&format!("{BO}/notice-headings"), &[("name_en", "")])
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("name_en").is_empty());
    let r = admin
        .post_form(
            &format!("{BO}/notice-templates"),
            &[("name", ""), ("heading_id", "999")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("name").is_empty());
    assert!(!r.field_error("heading_id").is_empty());
    let css = "a".repeat(20_001);
    let r = admin
        .post_form(&format!("{BO}/settings"), &[("custom_css", &css)])
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("custom_css").is_empty());
    let r = admin
        .post_form(&format!("{BO}/settings"), &[("company_info_id", "777")])
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("company_info_id").is_empty());
    assert_eq!(admin.get(&format!("{BO}/faq/999999")).await.status, 404);
    assert_eq!(
        lee_c
            .get(&format!("/other/console/help-center/faq/{id}"))
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn headings_tags_and_templates_are_managed_and_used() {
    let (app, _fx, _) = start().await;
    let admin = app.login("admin").await;
    // No heading yet: notices cannot be written.
    let r = admin
        .post_form(
            &format!("{BO}/notices"),
            &[
                ("display_date", "2026-01-01"),
                ("title_en", "x"),
                ("body_en", "y"),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.field_error("heading_id"),
        "Add a heading before writing notices."
    );
    let events = create_heading(&admin, "Events").await;
    let maint = create_heading(&admin, "Maintenance").await;
    let page = admin.get(&format!("{BO}/notice-headings")).await;
    assert_eq!(page.texts("#labels .label-name"), ["Events", "Maintenance"]);
    // Reorder (drag and drop posts the ids in order; the arrows move one).
    let (e, m) = (events.to_string(), maint.to_string());
    let r = admin
        .post_form(
            &format!("{BO}/notice-headings/order"),
            &[("heading_id", &e), ("heading_id", &m), ("up", &m)],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = admin.get(&format!("{BO}/notice-headings")).await;
    assert_eq!(page.texts("#labels .label-name"), ["Maintenance", "Events"]);
    // Rename.
    let r = admin
        .post_form(
            &format!("{BO}/notice-headings/{events}"),
            &[("name_en", "Events & promotions")],
        )
        .await;
    assert_eq!(r.status, 303);

    // Tags.
    let r = admin
        .post_form(&format!("{BO}/notice-tags"), &[("name_en", "mobile")])
        .await;
    assert_eq!(r.status, 303);
    let tag: i64 = app.db(|c| {
        opencontact::db::schema::notice_tags::table
            .select(opencontact::db::schema::notice_tags::id)
            .first(c)
    });
    let t = tag.to_string();

    // A template prefills a new notice.
    let r = admin
        .post_form(
            &format!("{BO}/notice-templates"),
            &[
                ("name", "Maintenance window"),
                ("heading_id", &m),
                ("tag_id", &t),
                ("title_en", "Scheduled maintenance"),
                ("body_en", "<p>We will be down.</p>"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let template: i64 = app.db(|c| {
        opencontact::db::schema::notice_templates::table
            .select(opencontact::db::schema::notice_templates::id)
            .first(c)
    });
    let list = admin.get(&format!("{BO}/notice-templates")).await;
    assert_eq!(list.texts("#templates td.name"), ["Maintenance window"]);
    let form = admin
        .get(&format!("{BO}/notices/new?template={template}"))
        .await;
    assert_eq!(form.status, 200);
    let doc = form.doc();
    let sel = scraper::Selector::parse("#f-title_en").unwrap();
    assert_eq!(
        doc.select(&sel).next().unwrap().value().attr("value"),
        Some("Scheduled maintenance")
    );
    assert!(form.has(&format!("#f-heading_id option[value='{maint}'][selected]")));
    assert!(form.has(&format!("input[name=tag_id][value='{tag}'][checked]")));

    let n1 = create_notice(&admin, maint, "Tagged maintenance", &[("tag_id", &t)]).await;
    let _n2 = create_notice(&admin, events, "Spring sale", &[]).await;
    let visitor = app.client();
    let page = visitor.get(&format!("{HC}/notices")).await;
    assert_eq!(
        page.texts("#heading-tabs a"),
        ["All", "Maintenance", "Events & promotions"]
    );
    assert_eq!(page.texts("#tag-filters a"), ["#mobile"]);
    let page = visitor.get(&format!("{HC}/notices?heading={events}")).await;
    assert_eq!(page.texts("#notices td.title a"), ["Spring sale"]);
    let page = visitor.get(&format!("{HC}/notices?tag={tag}")).await;
    assert_eq!(page.texts("#notices td.title a"), ["Tagged maintenance"]);
    let page = visitor.get(&format!("{HC}/notices?q=spring")).await;
    assert_eq!(page.texts("#notices td.title a"), ["Spring sale"]);
    let page = visitor.get(&format!("{HC}/notices/{n1}")).await;
    assert_eq!(page.texts(".hc-article .hc-tag"), ["#mobile"]);
    assert_eq!(page.texts(".hc-section-name"), ["Maintenance"]);

    // A heading in use cannot be deleted; a tag can (it leaves its notices).
    let r = admin
        .post_form(&format!("{BO}/notice-headings/{maint}/delete"), &[])
        .await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("delete").contains("1 notices"));
    let r = admin
        .post_form(&format!("{BO}/notice-tags/{tag}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    let page = visitor.get(&format!("{HC}/notices/{n1}")).await;
    assert!(page.texts(".hc-article .hc-tag").is_empty());
    let r = admin
        .post_form(&format!("{BO}/notice-templates/{template}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    // An unused heading can be deleted.
    let spare = create_heading(&admin, "Spare").await;
    assert_eq!(
        admin
            .post_form(&format!("{BO}/notice-headings/{spare}/delete"), &[])
            .await
            .status,
        303
    );
}

#[actix_web::test]
async fn configuration_controls_modules_footer_css_and_logo() {
    let (app, _fx, _) = start().await;
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            "/admin/company-info",
            &[
                ("title", "Acme Korea"),
                ("company_info", "Acme Ltd.\nSeoul, Gangnam-gu 1"),
                ("copyright", "© Acme"),
                ("terms", "Be nice."),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let company: i64 = app.db(|c| {
        opencontact::db::schema::company_infos::table
            .select(opencontact::db::schema::company_infos::id)
            .first(c)
    });
    let cid = company.to_string();
    let r = admin
        .post_form(
            &format!("{BO}/settings"),
            &[
                ("show_faq", "on"),
                ("show_inquiry", "on"),
                ("company_info_id", &cid),
                ("custom_css", ".hc-banner { background: #fee; }"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = follow(&admin, &r).await;
    assert!(page.has(&format!(
        "#f-company_info_id option[value='{cid}'][selected]"
    )));

    let visitor = app.client();
    let main = visitor.get(&format!("{HC}/")).await;
    assert_eq!(
        main.texts("#supports .support__item strong"),
        ["FAQ", "1:1 inquiry"]
    );
    // The inquiry history is switched off (not in the form), so the portal offers no link to it.
    assert!(!main.text.contains("/hc/ticket/list/"));
    assert!(!main.has("#main-notices"));
    assert_eq!(
        main.texts(".hc-company p"),
        ["Acme Ltd.", "Seoul, Gangnam-gu 1"]
    );
    assert_eq!(main.texts(".hc-copyright"), ["© Acme"]);
    assert!(main.has("link[rel=stylesheet][href^='/demo/hc/custom.css']"));
    assert_eq!(visitor.get(&format!("{HC}/notices")).await.status, 404);
    let css = visitor.get(&format!("{HC}/custom.css")).await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").starts_with("text/css"));
    assert_eq!(css.text, ".hc-banner { background: #fee; }");

    // Logo: checked by content; served from the help center.
    let logo = |bytes: Vec<u8>, name: &str| {
        reqwest::multipart::Form::new().part(
            "logo",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        )
    };
    let r = admin
        .post_multipart(
            &format!("{BO}/settings/logo"),
            logo(b"not an image".to_vec(), "x.png"),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("logo").is_empty());
    let r = admin
        .post_multipart(
            &format!("{BO}/settings/logo"),
            logo(PNG.to_vec(), "logo.png"),
        )
        .await;
    assert_eq!(r.status, 303);
    let main = visitor.get(&format!("{HC}/")).await;
    assert!(main.has("img[src^='/demo/hc/logo']"));
    let img = visitor.get(&format!("{HC}/logo")).await;
    assert_eq!(img.status, 200);
    assert_eq!(img.header("content-type"), "image/png");
    let r = admin
        .post_form(&format!("{BO}/settings/logo/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(visitor.get(&format!("{HC}/logo")).await.status, 404);

    // The FAQ feature switched off hides the module everywhere.
    let r = admin
        .post_form(&format!("{BO}/settings"), &[("show_notices", "on")])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(visitor.get(&format!("{HC}/faq")).await.status, 404);
    let main = visitor.get(&format!("{HC}/")).await;
    assert_eq!(main.texts("#supports .support__item strong"), ["Notices"]);
}

/// The rich-text editor (Quill, from npm) loads under the CSP, and what is typed into it is
/// posted as HTML through the hidden textarea, sanitised, and shown in the help center.
#[actix_web::test]
async fn the_rich_text_editor_posts_html_that_the_portal_shows() {
    use fantoccini::Locator;
    let (app, _fx, _) = start().await;
    let b = crate::support::browser::Browser::start().await;
    b.client.goto(&format!("{}/login", app.base)).await.unwrap();
    for (name, value) in [("login", "admin"), ("password", crate::support::PASSWORD)] {
        b.wait_css(&format!("[name={name}]"))
            .await
            .send_keys(value)
            .await
            .unwrap();
    }
    b.client
        .find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_css("main.content h1").await;
    b.client
        .goto(&format!("{}{BO}/faq/new", app.base))
        .await
        .unwrap();
    let editor = b.wait_css(".rich-editor .ql-editor").await;
    let hidden: serde_json::Value = b
        .client
        .execute("return document.querySelector('#f-body_en').hidden", vec![])
        .await
        .unwrap();
    assert_eq!(hidden, true, "the textarea gives way to the editor");
    b.client
        .find(Locator::Css("#f-title_en"))
        .await
        .unwrap()
        .send_keys("Typed in the editor")
        .await
        .unwrap();
    editor.click().await.unwrap();
    editor.send_keys("Hello from Quill").await.unwrap();
    b.screenshot("help-center-faq-editor").await;
    b.client
        .find(Locator::Css("button[name=action][value=publish]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_css("#doc-status").await;
    let body: String = app.db(|c| {
        opencontact::db::schema::faq_contents::table
            .select(opencontact::db::schema::faq_contents::body_html)
            .first(c)
    });
    assert_eq!(body, "<p>Hello from Quill</p>");
    let id: i64 = app.db(|c| faqs::table.select(faqs::id).first(c));
    b.client
        .goto(&format!("{}{HC}/article/{id}/", app.base))
        .await
        .unwrap();
    let p = b.wait_css(".hc-body p").await;
    assert_eq!(p.text().await.unwrap(), "Hello from Quill");
    b.screenshot("help-center-article").await;
    b.close().await;
}
