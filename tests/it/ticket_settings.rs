//! The settings of ticket processing: mail layouts and sender info, reply templates, forbidden
//! words, ticket settings with the auto-complete job, and the substitution-code catalogue.

use diesel::prelude::*;
use opencontact::db::schema::{
    forbidden_words, mail_layouts, reply_template_links, reply_templates, tickets,
};
use opencontact::db::types::ServiceKind;
use opencontact::tickets::Status;

use crate::support::TestApp;
use crate::ticket_detail::{agent, create_service, page_path};

const LAYOUTS: &str = "/demo/console/settings/mail-layouts";
const TEMPLATES: &str = "/demo/console/settings/templates";
const WORDS: &str = "/demo/console/settings/forbidden-words";
const SETTINGS: &str = "/demo/console/settings/tickets";

#[actix_web::test]
async fn settings_pages_are_for_service_administrators() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let (_, agent_client) = agent(&app, fx.service_id, "agent").await;
    let anon = app.client();
    let other = create_service(&app, "other", ServiceKind::Consultation);
    let outsider_id = app.create_member("outsider", "Out Sider", false);
    app.add_to_service(other, outsider_id, "admin");
    let outsider = app.login("outsider").await;
    for path in [
        LAYOUTS,
        "/demo/console/settings/mail-layouts/resolve/en",
        TEMPLATES,
        "/demo/console/settings/templates/new",
        WORDS,
        SETTINGS,
    ] {
        assert_eq!(admin.get(path).await.status, 200, "{path}");
        assert_eq!(agent_client.get(path).await.status, 403, "{path}");
        assert_eq!(outsider.get(path).await.status, 403, "{path}");
        let r = anon.get(path).await;
        assert_eq!(r.status, 303, "{path}");
        assert!(r.location().starts_with("/login"));
    }
    for (path, fields) in [
        (format!("{LAYOUTS}/sender"), vec![("sender_name", "x")]),
        (format!("{LAYOUTS}/hold/en"), vec![("subject", "x")]),
        (TEMPLATES.to_string(), vec![("title", "x")]),
        (WORDS.to_string(), vec![("word", "x")]),
        (SETTINGS.to_string(), vec![("auto_complete_days", "3")]),
    ] {
        assert_eq!(
            agent_client.post_form(&path, &fields).await.status,
            403,
            "{path}"
        );
        assert_eq!(
            admin.post_form_raw(&path, &fields, &[]).await.status,
            403,
            "{path} without CSRF"
        );
    }
    // The menu lists them for administrators only.
    let home = admin.get("/demo/console/").await;
    assert!(home.text.contains(LAYOUTS) && home.text.contains(WORDS));
    let home = agent_client.get("/demo/console/").await;
    assert!(!home.text.contains(LAYOUTS));
    // The code catalogue is open to every member.
    let codes = agent_client
        .get("/demo/console/settings/substitution-codes")
        .await;
    assert_eq!(codes.status, 200);
    assert!(
        codes
            .texts("#codes code")
            .contains(&"#{content}".to_string())
    );
    assert!(
        codes
            .texts("#codes code")
            .contains(&"#{helpCenterUrl}".to_string())
    );
    assert_eq!(
        outsider
            .get("/demo/console/settings/substitution-codes")
            .await
            .status,
        403
    );
}

#[actix_web::test]
async fn mail_layouts_need_the_content_code_and_sender_info_is_bounded() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let page = admin.get(LAYOUTS).await;
    assert_eq!(
        page.texts("#layouts tbody tr").len(),
        3,
        "three kinds × one language"
    );

    let path = format!("{LAYOUTS}/hold/en");
    let r = admin
        .post_form(
            &path,
            &[
                ("subject", "On hold"),
                ("html_body", "<p>We are on it.</p>"),
                ("text_body", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.field_error("html_body"),
        "The layout must contain #{content}, where the answer is inserted."
    );
    let r = admin
        .post_form(
            &path,
            &[
                ("subject", "On hold: #{subject}"),
                (
                    "html_body",
                    "<p>Hi</p><p>#{content}</p><script>alert(1)</script>",
                ),
                ("text_body", "Hi without the code"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("text_body").is_empty());
    let r = admin
        .post_form(
            &path,
            &[
                ("subject", "On hold: #{subject}"),
                (
                    "html_body",
                    "<p>Hi</p><p>#{content}</p><script>alert(1)</script>",
                ),
                ("text_body", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let (subject, html): (String, String) = app.db(|c| {
        mail_layouts::table
            .filter(mail_layouts::kind.eq("hold"))
            .select((mail_layouts::subject, mail_layouts::html_body))
            .first(c)
    });
    assert_eq!(subject, "On hold: #{subject}");
    assert!(!html.contains("script"), "sanitised: {html}");
    assert_eq!(
        admin.get(&format!("{LAYOUTS}/hold/ko")).await.status,
        404,
        "not a service language"
    );
    assert_eq!(admin.get(&format!("{LAYOUTS}/bogus/en")).await.status, 404);

    // The hold mail uses it; the text part is derived from the HTML part.
    let (id, pid) = app.create_ticket(fx.service_id, "Slow site", "s@example.com");
    let page = admin.get(&page_path(&pid)).await;
    let (v, tok) = crate::ticket_detail::form_state(&page);
    let r = admin
        .post_multipart(
            &format!("{}/process", page_path(&pid)),
            crate::ticket_detail::process_form(&v, &tok, "hold", "<p>Still checking.</p>"),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(app.ticket(id).status(), Status::Reply);
    let mails = app.smtp.wait_for(1).await;
    let m = mail_parser::MessageParser::default()
        .parse(mails[0].data.as_bytes())
        .unwrap();
    assert_eq!(
        m.subject(),
        Some(format!("On hold: Slow site [#{pid}]").as_str())
    );
    assert!(m.body_text(0).unwrap().contains("Still checking."));

    // Reset brings the default back.
    let r = admin.post_form(&format!("{path}/reset"), &[]).await;
    assert_eq!(r.status, 303);
    let n: i64 = app.db(|c| mail_layouts::table.count().get_result(c));
    assert_eq!(n, 0);

    // Sender info: at most 45 characters, a valid address.
    let long = "x".repeat(46);
    let r = admin
        .post_form(
            &format!("{LAYOUTS}/sender"),
            &[("sender_name", &long), ("sender_address", "not an address")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("sender_name").is_empty());
    assert!(!r.field_error("sender_address").is_empty());
    let r = admin
        .post_form(
            &format!("{LAYOUTS}/sender"),
            &[("sender_name", "Acme Support Team"), ("sender_address", "")],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = admin.get(LAYOUTS).await;
    assert_eq!(
        crate::ticket_detail::attr(&page, "#f-sender_name", "value"),
        "Acme Support Team"
    );
}

#[actix_web::test]
async fn reply_templates_are_created_searched_edited_and_deleted() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            TEMPLATES,
            &[
                ("title", ""),
                ("scope", "everywhere"),
                ("search_code", "bad code!"),
                ("body_html", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    for f in ["title", "scope", "search_code", "body_html"] {
        assert!(!r.field_error(f).is_empty(), "{f}");
    }
    let r = admin
        .post_form(
            TEMPLATES,
            &[
                ("title", "Greeting"),
                ("scope", "service"),
                ("body_html", "<p>Hi</p>"),
                ("resolution_id", "424242"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "unknown resolution type");
    for (title, code, scope) in [
        ("Refund granted", "RF", "shared"),
        ("Shipping delay", "SH", "service"),
    ] {
        let r = admin
            .post_form(
                TEMPLATES,
                &[
                    ("title", title),
                    ("scope", scope),
                    ("search_code", code),
                    ("body_html", "<p>Hello #{customerName}</p>"),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
    }
    let list = admin.get(&format!("{TEMPLATES}?q=ship")).await;
    assert_eq!(list.texts("#templates tbody td a"), vec!["Shipping delay"]);
    let id: i64 = app.db(|c| {
        reply_templates::table
            .filter(reply_templates::title.eq("Refund granted"))
            .select(reply_templates::id)
            .first(c)
    });
    let edit = format!("{TEMPLATES}/{id}");
    assert_eq!(admin.get(&edit).await.status, 200);
    let r = admin
        .post_form(
            &edit,
            &[
                ("title", "Refund approved"),
                ("scope", "shared"),
                ("search_code", "RF"),
                ("body_html", "<p>Approved</p>"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let title: String = app.db(move |c| {
        reply_templates::table
            .find(id)
            .select(reply_templates::title)
            .first(c)
    });
    assert_eq!(title, "Refund approved");

    // Another service uses the shared template but cannot edit it.
    let other = create_service(&app, "other", ServiceKind::Consultation);
    app.add_to_service(other, fx.admin_id, "admin");
    let admin = app.login("admin").await;
    assert_eq!(
        admin
            .get(&format!("/other/console/settings/templates/{id}"))
            .await
            .status,
        404
    );
    let (_, pid) = app.create_ticket(other, "Where is my money", "m@example.com");
    let panel = admin
        .get(&format!("/other/console/tickets/{pid}/templates?q=refund"))
        .await;
    assert_eq!(panel.texts(".template-title"), vec!["Refund approved"]);

    let r = admin.post_form(&format!("{edit}/delete"), &[]).await;
    assert_eq!(r.status, 303);
    let left: i64 = app.db(|c| reply_templates::table.count().get_result(c));
    assert_eq!(left, 1);
    let links: i64 = app.db(|c| reply_template_links::table.count().get_result(c));
    assert_eq!(links, 0);
    assert_eq!(
        admin.post_form(&format!("{edit}/delete"), &[]).await.status,
        404
    );
}

#[actix_web::test]
async fn forbidden_words_are_listed_bounded_and_deleted() {
    let app = TestApp::spawn().await;
    let _fx = app.setup();
    let admin = app.login("admin").await;
    let r = admin.post_form(WORDS, &[("word", "  ")]).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("word"), "This field is required.");
    let r = admin.post_form(WORDS, &[("word", &"x".repeat(51))]).await;
    assert_eq!(r.status, 422);
    assert_eq!(
        admin.post_form(WORDS, &[("word", "Idiot")]).await.status,
        303
    );
    let r = admin.post_form(WORDS, &[("word", "IDIOT")]).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("word"), "This word is already listed.");
    let page = admin.get(WORDS).await;
    assert_eq!(page.texts("#words .word"), vec!["Idiot"]);
    let id: i64 = app.db(|c| forbidden_words::table.select(forbidden_words::id).first(c));
    let r = admin.post_form(&format!("{WORDS}/{id}/delete"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        admin
            .post_form(&format!("{WORDS}/{id}/delete"), &[])
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn ticket_settings_drive_auto_completion() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let page = admin.get(SETTINGS).await;
    assert_eq!(
        crate::ticket_detail::attr(&page, "#f-auto_complete_days", "value"),
        "14"
    );
    for bad in ["0", "366", "soon"] {
        let r = admin
            .post_form(SETTINGS, &[("auto_complete_days", bad)])
            .await;
        assert_eq!(r.status, 422, "{bad}");
        assert!(!r.field_error("auto_complete_days").is_empty());
    }
    let r = admin
        .post_form(
            SETTINGS,
            &[
                ("auto_complete_days", "3"),
                ("creator_chooses_assignee", "on"),
                ("internal_text_en", "Closed."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);

    let (old, pid_old) = app.create_ticket(fx.service_id, "Old", "o@example.com");
    let (recent, pid_recent) = app.create_ticket(fx.service_id, "Recent", "r@example.com");
    for pid in [&pid_old, &pid_recent] {
        let page = admin.get(&page_path(pid)).await;
        let (v, tok) = crate::ticket_detail::form_state(&page);
        let r = admin
            .post_multipart(
                &format!("{}/process", page_path(pid)),
                crate::ticket_detail::process_form(&v, &tok, "resolve", "<p>Done</p>"),
            )
            .await;
        assert_eq!(r.status, 303);
    }
    let four_days_ago = opencontact::db::now() - chrono::TimeDelta::days(4);
    app.db(move |c| {
        diesel::update(tickets::table.find(old))
            .set(tickets::solved_at.eq(Some(four_days_ago)))
            .execute(c)
    });
    let n = opencontact::tickets::settings::run_auto_complete(&app.state.db).unwrap();
    assert_eq!(n, 1);
    assert_eq!(app.ticket(old).status(), Status::Closed);
    assert_eq!(app.ticket(recent).status(), Status::Solved);
}
