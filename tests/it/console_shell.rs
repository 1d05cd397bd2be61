//! The console shell and the route table: the menu in sections, hidden by permission, feature
//! switch and menu access; the "Create ticket" button; and each area's own middleware (CSRF on
//! the console, envelopes on the API, the member-integration entry only in the help center).

use diesel::prelude::*;
use opencontact::db::schema::{menu_access, menu_restrictions};

use crate::support::TestApp;

fn headings(page: &crate::support::Resp) -> Vec<String> {
    page.texts(".sidebar .nav-heading")
}

#[actix_web::test]
async fn the_menu_is_in_sections_hidden_as_the_pages_are() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let home = admin.get("/demo/console/").await;
    assert_eq!(home.status, 200);
    // Chat is off and nothing is declared for phone yet: those sections are left out.
    assert_eq!(
        headings(&home),
        [
            "Consultation",
            "Help center",
            "Service settings",
            "Ticket",
            "Agents",
            "Help center",
            "Authentication",
            "External channels"
        ]
    );
    assert!(home.has(".nav-part h3.nav-sub + ul a[href='/demo/console/settings/agents']"));
    assert!(home.has(".nav-foot a[href='/demo/hc/']"));
    // With chat on, its resolution types bring the Chat section.
    app.set_features(fx.service_id, &["chat"], &[]);
    let home = admin.get("/demo/console/").await;
    assert!(headings(&home).contains(&"Chat".to_string()));
    assert!(home.has("a[href='/demo/console/settings/categories/chat_resolution']"));

    // An agent: no settings at all.
    let kim = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(fx.service_id, kim, "agent");
    let agent = app.login("kim").await;
    let home = agent.get("/demo/console/").await;
    assert_eq!(headings(&home), ["Consultation", "Help center"]);

    // Feature switches: with FAQ and notices off the Help center section goes.
    app.set_features(fx.service_id, &[], &["faq"]);
    app.set_features(fx.service_id, &[], &["notice"]);
    let home = agent.get("/demo/console/").await;
    assert_eq!(headings(&home), ["Consultation"]);
    app.set_features(fx.service_id, &["faq"], &[]);
    assert_eq!(
        headings(&agent.get("/demo/console/").await),
        ["Consultation", "Help center"]
    );

    // Menu access: restricted from the Help Center menu, the section goes too.
    let sid = fx.service_id;
    app.db(move |c| {
        diesel::insert_into(menu_access::table)
            .values((
                menu_access::service_id.eq(sid),
                menu_access::menu.eq("help_center"),
                menu_access::partial.eq(true),
            ))
            .execute(c)?;
        diesel::insert_into(menu_restrictions::table)
            .values((
                menu_restrictions::service_id.eq(sid),
                menu_restrictions::menu.eq("help_center"),
                menu_restrictions::user_id.eq(kim),
            ))
            .execute(c)
    });
    let home = agent.get("/demo/console/").await;
    assert_eq!(headings(&home), ["Consultation"]);
    assert_eq!(
        home.texts(".sidebar a"),
        ["Home", "Tickets", "Go to help center"]
    );
}

#[actix_web::test]
async fn section_headings_follow_the_ui_language() {
    let app = TestApp::spawn().await;
    let _fx = app.setup();
    let admin = app.login("admin").await;
    for (lang, consultation, settings) in [
        ("ko", "상담", "서비스 설정"),
        ("ja", "相談", "サービス設定"),
    ] {
        admin.get(&format!("/lang/{lang}")).await;
        let home = admin.get("/demo/console/").await;
        let h = headings(&home);
        assert!(h.contains(&consultation.to_string()), "{lang}: {h:?}");
        assert!(h.contains(&settings.to_string()), "{lang}: {h:?}");
    }
}

#[actix_web::test]
async fn the_ticket_list_links_to_create_ticket_for_those_who_may() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let list = admin.get("/demo/console/tickets").await;
    assert_eq!(list.status, 200);
    assert!(list.has("a#tc-create[href='/demo/console/tickets/new']"));
    assert_eq!(list.texts("a#tc-create"), ["Create ticket"]);
    assert_eq!(admin.get("/demo/console/tickets/new").await.status, 200);

    // An agent with the ticket permission may create, one without sees neither list nor link.
    let kim = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(fx.service_id, kim, "agent");
    let agent = app.login("kim").await;
    assert!(agent.get("/demo/console/tickets").await.has("a#tc-create"));
    app.db(move |c| {
        diesel::update(
            opencontact::db::schema::service_members::table
                .filter(opencontact::db::schema::service_members::user_id.eq(kim)),
        )
        .set(opencontact::db::schema::service_members::perm_ticket.eq(false))
        .execute(c)
    });
    let list = agent.get("/demo/console/tickets").await;
    assert_eq!(list.status, 403);
    assert!(!list.has("a#tc-create"));
    assert_eq!(agent.get("/demo/console/tickets/new").await.status, 403);
}

#[actix_web::test]
async fn each_area_has_its_own_middleware() {
    let app = TestApp::spawn().await;
    let _fx = app.setup();
    let admin = app.login("admin").await;
    // CSRF on the console: a POST without the token is refused with the error page.
    let r = admin
        .post_form_raw("/demo/console/settings/groups", &[("name", "X")], &[])
        .await;
    assert_eq!(r.status, 403);
    assert!(r.text.contains("<html"));
    // Unknown console paths keep the localised page.
    let r = admin.get("/demo/console/no-such-page").await;
    assert_eq!(r.status, 404);
    assert!(r.text.contains("<html"));

    // The API scopes answer unknown paths and methods with the envelope, never a page.
    let c = app.client();
    for (method, path) in [
        (reqwest::Method::GET, "/demo/openapi/v1/nothing.json"),
        (reqwest::Method::POST, "/demo/api/v2/service.json"),
        (reqwest::Method::DELETE, "/demo/hc/openapi/v1/addition.json"),
        (reqwest::Method::GET, "/openapi/v1/admin/nothing.json"),
    ] {
        let r = c
            .http
            .request(method.clone(), format!("{}{}", app.base, path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404, "{method} {path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["header"]["resultCode"], 404, "{method} {path}");
        assert_eq!(body["header"]["resultMessage"], "No such API");
    }
    // …and a POST to the API needs no CSRF token (it is signed instead).
    let r = c
        .http
        .post(format!("{}/demo/openapi/v1/ticket.json", app.base))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["header"]["isSuccessful"], false);
    assert_ne!(body["header"]["resultCode"], serde_json::Value::Null);

    // The member-integration entry strips its parameters in the help center only.
    let r = c.get("/demo/hc/?usercode=u1&time=1").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location(), "/demo/hc/");
    let r = admin.get("/demo/console/?usercode=u1&time=1").await;
    assert_eq!(r.status, 200);
}
