//! The ticket page and everything done from it: processing with mails and previews, stale and
//! repeated forms, forbidden words, customer fields, pull/forward/complete, the spam box,
//! templates, manual creation and the transfer to issue management — with the denials.

use diesel::prelude::*;
use opencontact::db::schema::{
    agent_groups, categories, field_defs, group_members, mail_outbox, service_members,
    ticket_attachments, ticket_entries, ticket_field_values, tickets,
};
use opencontact::db::types::{EditorType, ServiceKind};
use opencontact::i18n::Lang;
use opencontact::tenancy::service::{NewService, Service};
use opencontact::tickets::lifecycle::TransferState;
use opencontact::tickets::{Channel, Status};
use reqwest::multipart::{Form, Part};
use scraper::Selector;

use crate::support::{Client, Resp, TestApp};

pub fn page_path(pid: &str) -> String {
    format!("/demo/console/tickets/{pid}")
}

/// An attribute of the first element matching `css`.
pub fn attr(r: &Resp, css: &str, name: &str) -> String {
    let sel = Selector::parse(css).unwrap();
    r.doc()
        .select(&sel)
        .next()
        .and_then(|e| e.value().attr(name).map(str::to_string))
        .unwrap_or_default()
}

/// The version and client token of the processing form.
pub fn form_state(r: &Resp) -> (String, String) {
    (
        attr(r, "#process-form input[name=version]", "value"),
        attr(r, "#process-form input[name=client_token]", "value"),
    )
}

/// A processing form.
pub fn process_form(version: &str, token: &str, action: &str, body: &str) -> Form {
    Form::new()
        .text("version", version.to_string())
        .text("client_token", token.to_string())
        .text("action", action.to_string())
        .text("body", body.to_string())
}

/// Loads the page and submits the processing form.
async fn process(c: &Client, pid: &str, action: &str, body: &str, extra: &[(&str, &str)]) -> Resp {
    let page = c.get(&page_path(pid)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let (v, tok) = form_state(&page);
    let mut form = process_form(&v, &tok, action, body);
    for (k, val) in extra {
        form = form.text((*k).to_string(), (*val).to_string());
    }
    c.post_multipart(&format!("{}/process", page_path(pid)), form)
        .await
}

/// Adds an agent (ticket permission) to the service and signs them in.
pub async fn agent(app: &TestApp, service_id: i64, login: &str) -> (i64, Client) {
    let id = app.create_member(login, &format!("{login} name"), false);
    app.add_to_service(service_id, id, "agent");
    (id, app.login(login).await)
}

pub fn set_member(app: &TestApp, service_id: i64, user_id: i64, column: &str, on: bool) {
    let column = column.to_string();
    app.db(move |c| {
        let q = service_members::table
            .filter(service_members::service_id.eq(service_id))
            .filter(service_members::user_id.eq(user_id));
        match column.as_str() {
            "perm_ticket" => diesel::update(q)
                .set(service_members::perm_ticket.eq(on))
                .execute(c),
            "perm_forward" => diesel::update(q)
                .set(service_members::perm_forward.eq(on))
                .execute(c),
            "ticket_assignable" => diesel::update(q)
                .set(service_members::ticket_assignable.eq(on))
                .execute(c),
            _ => unreachable!(),
        }
    });
}

pub fn create_service(app: &TestApp, code: &str, kind: ServiceKind) -> i64 {
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

pub fn add_category(app: &TestApp, service_id: i64, tree: &str, name: &str) -> i64 {
    let (tree, names) = (tree.to_string(), format!("{{\"en\":\"{name}\"}}"));
    let now = opencontact::db::now();
    app.db(move |c| {
        diesel::insert_into(categories::table)
            .values((
                categories::service_id.eq(service_id),
                categories::tree.eq(tree),
                categories::parent_id.eq(None::<i64>),
                categories::level.eq(1),
                categories::position.eq(0),
                categories::names.eq(names),
                categories::helpcenter_enabled.eq(true),
                categories::active.eq(true),
                categories::created_at.eq(now),
                categories::updated_at.eq(now),
            ))
            .returning(categories::id)
            .get_result(c)
    })
}

fn entry_kinds(app: &TestApp, id: i64) -> Vec<String> {
    app.db(move |c| {
        ticket_entries::table
            .filter(ticket_entries::ticket_id.eq(id))
            .order(ticket_entries::id.asc())
            .select(ticket_entries::kind)
            .load(c)
    })
}

fn outbox_rows(app: &TestApp, id: i64) -> Vec<(String, String, String, String)> {
    app.db(move |c| {
        mail_outbox::table
            .filter(mail_outbox::ticket_id.eq(id))
            .order(mail_outbox::id.asc())
            .select((
                mail_outbox::purpose,
                mail_outbox::subject,
                mail_outbox::message_id,
                mail_outbox::in_reply_to,
            ))
            .load(c)
    })
}

#[actix_web::test]
async fn the_ticket_page_shows_the_ticket_and_refuses_outsiders() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (_, pid) = app.create_ticket(fx.service_id, "Printer jams", "casey@example.com");
    let (_, other_pid) = app.create_ticket(fx.service_id, "Earlier question", "casey@example.com");
    let admin = app.login("admin").await;
    let page = admin.get(&page_path(&pid)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.texts("#ticket-id"), vec![pid.clone()]);
    assert_eq!(page.texts("#ticket-status"), vec!["Unassigned"]);
    assert_eq!(page.texts("#ticket-subject"), vec!["Printer jams"]);
    assert!(
        page.texts("#timeline .tl-body")
            .join(" ")
            .contains("Please help.")
    );
    assert!(
        page.texts("#timeline .tl-event")
            .join(" ")
            .contains("Ticket created")
    );
    // Administrators see the customer's e-mail; the other ticket is in the inquiry history.
    assert_eq!(page.texts("#customer-email"), vec!["casey@example.com"]);
    assert!(
        page.texts("#other-tickets li")
            .join(" ")
            .contains(&other_pid)
    );
    assert!(page.has("#pull-form") && page.has("#forward-dialog"));
    // The other-tickets panel searches and paginates on its own.
    let panel = admin
        .get(&format!("{}/customer-tickets?q=earlier", page_path(&pid)))
        .await;
    assert_eq!(panel.status, 200);
    assert!(panel.text.contains(&other_pid));
    let panel = admin
        .get(&format!(
            "{}/customer-tickets?q=nothing-like-this",
            page_path(&pid)
        ))
        .await;
    assert!(!panel.text.contains(&other_pid));

    // Unknown and foreign tickets are 404.
    assert_eq!(
        admin.get(&page_path("T1700000000000ZZZZZ")).await.status,
        404
    );
    let other_sid = create_service(&app, "other", ServiceKind::Consultation);
    let (_, foreign) = app.create_ticket(other_sid, "Elsewhere", "x@example.com");
    assert_eq!(admin.get(&page_path(&foreign)).await.status, 404);

    // An agent sees personal data masked until the ticket is theirs.
    let (_, agent_client) = agent(&app, fx.service_id, "agent").await;
    let page = agent_client.get(&page_path(&pid)).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.texts("#customer-email"), vec!["ca***@example.com"]);

    // Signed out: to the login page. Other service's member: 403. No ticket permission: 403.
    let anon = app.client();
    let r = anon.get(&page_path(&pid)).await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"));
    let outsider_id = app.create_member("outsider", "Out Sider", false);
    app.add_to_service(other_sid, outsider_id, "agent");
    let outsider = app.login("outsider").await;
    assert_eq!(outsider.get(&page_path(&pid)).await.status, 403);
    let (noperm_id, noperm) = agent(&app, fx.service_id, "noperm").await;
    set_member(&app, fx.service_id, noperm_id, "perm_ticket", false);
    assert_eq!(noperm.get(&page_path(&pid)).await.status, 403);
}

#[actix_web::test]
async fn resolving_mails_the_layout_with_sender_info_and_threading() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (id, pid) = app.create_ticket(fx.service_id, "Printer jams", "casey@example.com");
    // The customer's message came by mail.
    app.db(move |c| {
        diesel::update(ticket_entries::table.filter(ticket_entries::ticket_id.eq(id)))
            .set(ticket_entries::mail_message_id.eq(Some("<cust-1@example.com>")))
            .execute(c)
    });
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            "/demo/console/settings/mail-layouts/sender",
            &[
                ("sender_name", "Acme Help"),
                ("sender_address", "help@acme.test"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = admin
        .post_form(
            "/demo/console/settings/mail-layouts/resolve/en",
            &[
                ("subject", "Answer: #{subject}"),
                (
                    "html_body",
                    "<p>Dear #{customerName},</p><p>#{content}</p><p>Ticket #{ticketId}</p>",
                ),
                ("text_body", "Dear #{customerName},\n#{content}"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);

    let r = process(
        &admin,
        &pid,
        "resolve",
        "<p>Turn it <b>off</b> and on.</p>",
        &[("priority", "high")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.location(), page_path(&pid));
    let t = app.ticket(id);
    assert_eq!(t.status(), Status::Solved);
    assert_eq!(t.assignee_id, Some(fx.admin_id));
    assert_eq!(t.priority.as_str(), "high");
    assert_eq!(
        entry_kinds(&app, id),
        vec!["customer_message", "agent_reply"]
    );
    let rows = outbox_rows(&app, id);
    assert_eq!(rows.len(), 1);
    let (purpose, subject, message_id, in_reply_to) = rows[0].clone();
    assert_eq!(purpose, "resolve");
    assert_eq!(subject, format!("Answer: Printer jams [#{pid}]"));
    assert_eq!(in_reply_to, "<cust-1@example.com>");
    let stored: Option<String> = app.db(move |c| {
        ticket_entries::table
            .filter(ticket_entries::ticket_id.eq(id))
            .filter(ticket_entries::kind.eq("agent_reply"))
            .select(ticket_entries::mail_message_id)
            .first(c)
    });
    assert_eq!(stored, Some(message_id));

    let mails = app.smtp.wait_for(1).await;
    let m = mail_parser::MessageParser::default()
        .parse(mails[0].data.as_bytes())
        .unwrap();
    assert_eq!(
        m.subject(),
        Some(format!("Answer: Printer jams [#{pid}]").as_str())
    );
    let from = m.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Acme Help"));
    assert_eq!(from.address(), Some("help@acme.test"));
    assert_eq!(m.in_reply_to().as_text(), Some("cust-1@example.com"));
    let html = m.body_html(0).unwrap();
    assert!(
        html.contains("Dear Casey Customer") && html.contains("<b>off</b>"),
        "{html}"
    );
    assert!(html.contains(&pid));
    let text = m.body_text(0).unwrap();
    assert!(text.contains("Turn it off and on."), "{text}");

    // The timeline shows the answer, marked as mailed.
    let page = admin.get(&page_path(&pid)).await;
    assert!(
        page.texts(".tl-reply .tl-body")
            .join(" ")
            .contains("Turn it off and on.")
    );
    assert!(page.has(".tl-reply .badge"));
    assert_eq!(page.texts("#ticket-status"), vec!["Resolved"]);
}

#[actix_web::test]
async fn stale_forms_are_refused_and_double_submissions_answer_once() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (id, pid) = app.create_ticket(fx.service_id, "Refund", "r@example.com");
    let admin = app.login("admin").await;
    let (_, agent_client) = agent(&app, fx.service_id, "agent").await;

    // The admin loads the page; the agent comments meanwhile.
    let page = admin.get(&page_path(&pid)).await;
    let (v, tok) = form_state(&page);
    let r = process(
        &agent_client,
        &pid,
        "comment",
        "<p>Looking into it</p>",
        &[],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = admin
        .post_multipart(
            &format!("{}/process", page_path(&pid)),
            process_form(&v, &tok, "resolve", "<p>My careful answer</p>"),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.texts("#process-alert")
            .join("")
            .contains("Someone else changed this ticket")
    );
    assert!(
        r.text.contains("My careful answer"),
        "the agent's text is kept"
    );
    assert_eq!(entry_kinds(&app, id), vec!["customer_message", "comment"]);
    assert!(outbox_rows(&app, id).is_empty());

    // The re-rendered form carries the new version: submitting it twice answers once.
    let (v2, tok2) = form_state(&r);
    assert_ne!(v2, v);
    for _ in 0..2 {
        let r = admin
            .post_multipart(
                &format!("{}/process", page_path(&pid)),
                process_form(&v2, &tok2, "resolve", "<p>My careful answer</p>"),
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.text);
    }
    assert_eq!(
        entry_kinds(&app, id),
        vec!["customer_message", "comment", "agent_reply"]
    );
    assert_eq!(outbox_rows(&app, id).len(), 1);
    app.smtp.wait_for(1).await;
}

#[actix_web::test]
async fn bad_processing_input_is_refused_with_messages() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (id, pid) = app.create_ticket(fx.service_id, "Refund", "r@example.com");
    let admin = app.login("admin").await;

    let r = process(&admin, &pid, "resolve", "  ", &[]).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("body"), "Write the answer or comment.");
    let r = process(&admin, &pid, "internal", "", &[]).await;
    assert_eq!(r.status, 422);
    assert_eq!(
        r.field_error("reason"),
        "Choose the reason of the internal resolution."
    );
    let r = process(&admin, &pid, "explode", "<p>x</p>", &[]).await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("action").is_empty());
    let r = process(
        &admin,
        &pid,
        "resolve",
        "<p>x</p>",
        &[("resolution_category_id", "999999")],
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("resolution_category_id").is_empty());
    let r = process(
        &admin,
        &pid,
        "resolve",
        "<p>x</p>",
        &[("priority", "whenever")],
    )
    .await;
    assert_eq!(r.status, 422);
    // An executable renamed to .png is refused.
    let page = admin.get(&page_path(&pid)).await;
    let (v, tok) = form_state(&page);
    let form = process_form(&v, &tok, "comment", "<p>see file</p>").part(
        "file",
        Part::bytes(b"MZ\x90\0".to_vec()).file_name("photo.png"),
    );
    let r = admin
        .post_multipart(&format!("{}/process", page_path(&pid)), form)
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("file").is_empty());
    assert_eq!(entry_kinds(&app, id), vec!["customer_message"]);

    // Without the CSRF token: 403. An agent without the ticket permission: 403.
    let r = admin
        .http
        .post(format!("{}{}/process", admin.base, page_path(&pid)))
        .multipart(process_form(&v, &tok, "comment", "<p>x</p>"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let (noperm_id, noperm) = agent(&app, fx.service_id, "noperm").await;
    set_member(&app, fx.service_id, noperm_id, "perm_ticket", false);
    let r = noperm
        .post_multipart(
            &format!("{}/process", page_path(&pid)),
            process_form(&v, &tok, "comment", "<p>x</p>"),
        )
        .await;
    assert_eq!(r.status, 403);
    let anon = app.client();
    let r = anon
        .http
        .get(format!("{}{}", anon.base, page_path(&pid)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
}

#[actix_web::test]
async fn hold_comment_internal_resolution_spam_box_and_completion() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (id, pid) = app.create_ticket(fx.service_id, "Parcel", "p@example.com");
    let admin = app.login("admin").await;
    let (_, agent_client) = agent(&app, fx.service_id, "agent").await;

    let r = process(
        &agent_client,
        &pid,
        "hold",
        "<p>Checking with the courier.</p>",
        &[],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(app.ticket(id).status(), Status::Reply);
    assert_eq!(outbox_rows(&app, id)[0].0, "hold");
    let r = process(&agent_client, &pid, "comment", "<p>internal note</p>", &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(outbox_rows(&app, id).len(), 1, "a comment sends no mail");

    // Internal resolution writes the service's text; the reason spam moves it to the spam box.
    let r = admin
        .post_form(
            "/demo/console/settings/tickets",
            &[
                ("auto_complete_days", "14"),
                ("internal_text_en", "Closed without reply."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = agent_client.get(&page_path(&pid)).await;
    let (v, tok) = form_state(&page);
    let form = process_form(&v, &tok, "internal", "<p>bot traffic</p>")
        .text("reason", "spam")
        .part(
            "file",
            Part::bytes(b"evidence".to_vec()).file_name("log.txt"),
        );
    let r = agent_client
        .post_multipart(&format!("{}/process", page_path(&pid)), form)
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let t = app.ticket(id);
    assert!(t.is_spam);
    assert_eq!(t.internal_reason.map(|r| r.as_str()), Some("spam"));
    assert_eq!(
        outbox_rows(&app, id).len(),
        1,
        "no mail for an internal resolution"
    );
    let body: String = app.db(move |c| {
        ticket_entries::table
            .filter(ticket_entries::ticket_id.eq(id))
            .filter(ticket_entries::kind.eq("internal_resolution"))
            .select(ticket_entries::body)
            .first(c)
    });
    assert!(
        body.contains("Closed without reply.") && body.contains("bot traffic"),
        "{body}"
    );
    let page = agent_client.get(&page_path(&pid)).await;
    assert_eq!(page.texts("#ticket-status"), vec!["Spam box"]);
    assert!(page.has("#process-disabled") && !page.has("#restore-form"));
    // Agents may not restore or delete; administrators may.
    let version = attr(&page, "#ticket-info input[name=version]", "value");
    let version = if version.is_empty() {
        app.ticket(id).version.to_string()
    } else {
        version
    };
    let r = agent_client
        .post_form(
            &format!("{}/spam/restore", page_path(&pid)),
            &[("version", &version)],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = agent_client
        .post_form(
            &format!("{}/spam/delete", page_path(&pid)),
            &[("version", &version)],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = admin
        .post_form(
            &format!("{}/spam/restore", page_path(&pid)),
            &[("version", &version)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let t = app.ticket(id);
    assert!(!t.is_spam);
    assert_eq!(t.status(), Status::Reply);

    // Resolve, then only an administrator completes it.
    let r = process(&agent_client, &pid, "resolve", "<p>Delivered.</p>", &[]).await;
    assert_eq!(r.status, 303);
    let v = app.ticket(id).version.to_string();
    let r = agent_client
        .post_form(&format!("{}/complete", page_path(&pid)), &[("version", &v)])
        .await;
    assert_eq!(r.status, 403);
    let r = admin
        .post_form_raw(
            &format!("{}/complete", page_path(&pid)),
            &[("version", &v)],
            &[],
        )
        .await;
    assert_eq!(r.status, 403, "no CSRF token");
    let r = admin
        .post_form(
            &format!("{}/complete", page_path(&pid)),
            &[("version", "0")],
        )
        .await;
    assert_eq!(r.status, 422, "stale version");
    let r = admin
        .post_form(&format!("{}/complete", page_path(&pid)), &[("version", &v)])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(app.ticket(id).status(), Status::Closed);
    let page = admin.get(&page_path(&pid)).await;
    assert!(page.has("#process-disabled"));

    // A second spam ticket is deleted with its files.
    let (id2, pid2) = app.create_ticket(fx.service_id, "Buy now", "spam@example.com");
    let page = admin.get(&page_path(&pid2)).await;
    let (v, tok) = form_state(&page);
    let form = process_form(&v, &tok, "internal", "")
        .text("reason", "spam")
        .part(
            "file",
            Part::bytes(b"proof".to_vec()).file_name("proof.txt"),
        );
    let r = admin
        .post_multipart(&format!("{}/process", page_path(&pid2)), form)
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let path: String = app.db(move |c| {
        ticket_attachments::table
            .filter(ticket_attachments::ticket_id.eq(id2))
            .select(ticket_attachments::stored_path)
            .first(c)
    });
    let full = app.state.config.data_dir.join(&path);
    assert!(full.exists());
    let v = app.ticket(id2).version.to_string();
    let r = admin
        .post_form(
            &format!("{}/spam/delete", page_path(&pid2)),
            &[("version", &v)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.location(), "/demo/console/tickets");
    let left: i64 = app.db(move |c| tickets::table.find(id2).count().get_result(c));
    assert_eq!(left, 0);
    assert!(!full.exists(), "the file is removed after the commit");
}

#[actix_web::test]
async fn forbidden_words_block_process_and_preview_shows_the_mail() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (id, pid) = app.create_ticket(fx.service_id, "Refund", "r@example.com");
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            "/demo/console/settings/forbidden-words",
            &[("word", "Stupid")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);

    let page = admin.get(&page_path(&pid)).await;
    let (v, tok) = form_state(&page);
    let preview = admin
        .post_multipart(
            &format!("{}/preview", page_path(&pid)),
            process_form(&v, &tok, "resolve", "<p>That was a STUPID mistake.</p>"),
        )
        .await;
    assert_eq!(preview.status, 422);
    assert!(preview.texts("#process-alert").join("").contains("Stupid"));
    assert!(!preview.has("#mail-preview"));
    let r = admin
        .post_multipart(
            &format!("{}/process", page_path(&pid)),
            process_form(&v, &tok, "resolve", "<p>That was a STUPID mistake.</p>"),
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("body").contains("Stupid"));
    assert_eq!(entry_kinds(&app, id), vec!["customer_message"]);

    // Without the word, Preview shows the mail and saves nothing.
    let preview = admin
        .post_multipart(
            &format!("{}/preview", page_path(&pid)),
            process_form(&v, &tok, "hold", "<p>We are checking.</p>"),
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert_eq!(
        preview.texts("#preview-subject"),
        vec![format!("Re: Refund [#{pid}]")]
    );
    assert_eq!(
        preview.texts("#preview-to"),
        vec!["Casey Customer <r@example.com>"]
    );
    assert!(
        preview
            .texts("#preview-html")
            .join(" ")
            .contains("We are checking.")
    );
    assert!(
        preview
            .texts("#preview-html")
            .join(" ")
            .contains("still working on your inquiry")
    );
    assert!(
        preview.text.contains("We are checking."),
        "the text stays in the editor"
    );
    assert_eq!(entry_kinds(&app, id), vec!["customer_message"]);
    assert!(outbox_rows(&app, id).is_empty());
    let preview = admin
        .post_multipart(
            &format!("{}/preview", page_path(&pid)),
            process_form(&v, &tok, "comment", "<p>note</p>"),
        )
        .await;
    assert_eq!(preview.status, 200);
    assert!(preview.has("#preview-note"));
}

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

#[actix_web::test]
async fn customer_fields_are_saved_and_relink_the_customer() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (id, pid) = app.create_ticket(fx.service_id, "Old subject", "old@example.com");
    let admin = app.login("admin").await;
    let page = admin.get(&page_path(&pid)).await;
    assert!(page.has("#fields-form"));
    let version = attr(&page, "#fields-form input[name=version]", "value");
    let mail = format!("f{}", field_id(&app, fx.service_id, "mail"));
    let name = format!("f{}", field_id(&app, fx.service_id, "name"));
    let subject = format!("f{}", field_id(&app, fx.service_id, "subject"));

    let path = format!("{}/fields", page_path(&pid));
    let r = admin
        .post_form(
            &path,
            &[
                ("version", &version),
                (&mail, "not-an-email"),
                (&subject, "x"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error(&mail).is_empty());
    let r = admin
        .post_form(
            &path,
            &[
                ("version", &version),
                (&name, "Nora New"),
                (&mail, "New@Example.com"),
                (&subject, "New subject"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let t = app.ticket(id);
    assert_eq!(t.subject, "New subject");
    let email: String = app.db(move |c| {
        opencontact::db::schema::customers::table
            .find(t.customer_id.unwrap())
            .select(opencontact::db::schema::customers::email)
            .first(c)
    });
    assert_eq!(email, "new@example.com");
    // The e-mail is personal: stored encrypted.
    let fid = field_id(&app, fx.service_id, "mail");
    let stored: String = app.db(move |c| {
        ticket_field_values::table
            .filter(ticket_field_values::ticket_id.eq(id))
            .filter(ticket_field_values::field_id.eq(fid))
            .select(ticket_field_values::value)
            .first(c)
    });
    assert!(stored.starts_with("v1:") && !stored.contains("example"));
    // The old form is stale now.
    let r = admin
        .post_form(&path, &[("version", &version), (&subject, "Again")])
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.texts("#fields-alert")
            .join("")
            .contains("Someone else changed")
    );
    // With htmx the page comes back with the new version for the processing form.
    let page = admin.get(&page_path(&pid)).await;
    let v = attr(&page, "#fields-form input[name=version]", "value");
    let r = admin
        .post_form_raw(
            &path,
            &[
                ("version", &v),
                (&subject, "Third"),
                (&mail, "new@example.com"),
                ("csrf_token", &admin.csrf().await),
            ],
            &[("HX-Request", "true")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.has("#fields-notice"));
    assert_ne!(attr(&r, "#process-version", "value"), v);
    // No CSRF: 403.
    let r = admin
        .post_form_raw(&path, &[("version", &v), (&subject, "x")], &[])
        .await;
    assert_eq!(r.status, 403);
}

#[actix_web::test]
async fn pull_and_forward_follow_groups_permissions_and_toggles() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (id, pid) = app.create_ticket(fx.service_id, "Login issue", "l@example.com");
    let (agent_id, agent_client) = agent(&app, fx.service_id, "agent").await;
    let (other_id, _) = agent(&app, fx.service_id, "other").await;
    let admin = app.login("admin").await;

    // An agent in two groups must choose one.
    let now = opencontact::db::now();
    let sid = fx.service_id;
    let groups: Vec<i64> = app.db(move |c| {
        let mut ids = Vec::new();
        for (i, name) in ["First line", "Billing"].iter().enumerate() {
            let gid: i64 = diesel::insert_into(agent_groups::table)
                .values((
                    agent_groups::service_id.eq(sid),
                    agent_groups::name.eq(*name),
                    agent_groups::display_order.eq(i as i32),
                    agent_groups::created_at.eq(now),
                    agent_groups::updated_at.eq(now),
                ))
                .returning(agent_groups::id)
                .get_result(c)?;
            diesel::insert_into(group_members::table)
                .values((
                    group_members::group_id.eq(gid),
                    group_members::user_id.eq(agent_id),
                    group_members::position.eq(0),
                ))
                .execute(c)?;
            ids.push(gid);
        }
        Ok(ids)
    });
    let page = agent_client.get(&page_path(&pid)).await;
    assert_eq!(page.texts("#pull-form select option").len(), 2);
    let v = app.ticket(id).version.to_string();
    let pull = format!("{}/pull", page_path(&pid));
    let r = agent_client.post_form(&pull, &[("version", &v)]).await;
    assert_eq!(r.status, 422);
    assert!(r.texts("#assign-alert").join("").contains("several groups"));
    let r = agent_client
        .post_form(
            &pull,
            &[("version", &v), ("group_id", &groups[1].to_string())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let t = app.ticket(id);
    assert_eq!(
        (t.assignee_id, t.group_id),
        (Some(agent_id), Some(groups[1]))
    );
    assert_eq!(t.status(), Status::Open);
    let r = agent_client
        .post_form(&pull, &[("version", &t.version.to_string())])
        .await;
    assert_eq!(r.status, 422, "already assigned");

    // Forward needs the forward permission, and a target whose ticket assignment is on.
    let fwd = format!("{}/forward", page_path(&pid));
    let v = app.ticket(id).version.to_string();
    let r = agent_client
        .post_form(
            &fwd,
            &[("version", &v), ("assignee_id", &other_id.to_string())],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(
        !agent_client
            .get(&page_path(&pid))
            .await
            .has("#forward-dialog")
    );
    set_member(&app, fx.service_id, other_id, "ticket_assignable", false);
    let r = admin
        .post_form(
            &fwd,
            &[("version", &v), ("assignee_id", &other_id.to_string())],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.texts("#assign-alert")
            .join("")
            .contains("cannot be assigned")
    );
    assert!(!r.texts("#fw-agent option").join(" ").contains("other name"));
    set_member(&app, fx.service_id, other_id, "ticket_assignable", true);
    let r = admin
        .post_form(
            &fwd,
            &[
                ("version", &v),
                ("assignee_id", &other_id.to_string()),
                ("group_id", &groups[0].to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "the target is not in that group");
    set_member(&app, fx.service_id, agent_id, "perm_forward", true);
    let r = agent_client
        .post_form(
            &fwd,
            &[("version", &v), ("assignee_id", &other_id.to_string())],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let t = app.ticket(id);
    assert_eq!(t.assignee_id, Some(other_id));
    assert_eq!(t.group_id, None);
    let r = agent_client.post_form(&fwd, &[("version", &v)]).await;
    assert_eq!(r.status, 422, "stale and no agent");
    let page = admin.get(&page_path(&pid)).await;
    assert!(
        page.texts("#timeline .tl-event")
            .join(" ")
            .contains("Forwarded to other name")
    );
}

#[actix_web::test]
async fn the_template_panel_lists_templates_of_the_resolution_type_and_renders_them() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (_, pid) = app.create_ticket(fx.service_id, "Refund", "r@example.com");
    let refund = add_category(&app, fx.service_id, "resolution", "Refunds");
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            "/demo/console/settings/templates",
            &[
                ("title", "Refund granted"),
                ("scope", "service"),
                ("search_code", "RF1"),
                ("resolution_id", &refund.to_string()),
                (
                    "body_html",
                    "<p>Dear #{customerName}, your refund for #{ticketId} is on its way.</p>",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let tid: i64 = app.db(|c| {
        opencontact::db::schema::reply_templates::table
            .select(opencontact::db::schema::reply_templates::id)
            .first(c)
    });
    let panel = format!("{}/templates", page_path(&pid));
    let r = admin
        .get(&format!("{panel}?resolution_category_id={refund}"))
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.texts(".template-title")
            .contains(&"Refund granted".to_string())
    );
    let other = add_category(&app, fx.service_id, "resolution", "Other");
    let r = admin
        .get(&format!("{panel}?resolution_category_id={other}"))
        .await;
    assert!(r.texts(".template-title").is_empty());
    let r = admin
        .get(&format!("{panel}?q=rf1&resolution_category_id={other}"))
        .await;
    assert_eq!(r.texts(".template-title"), vec!["Refund granted"]);
    let r = admin.get(&format!("{panel}/{tid}")).await;
    assert_eq!(r.status, 200);
    assert!(
        r.text.contains("Dear Casey Customer, your refund for"),
        "{}",
        r.text
    );
    assert!(r.text.contains(&pid));
    assert_eq!(admin.get(&format!("{panel}/999999")).await.status, 404);
    // Agents use templates but do not manage them.
    let (_, agent_client) = agent(&app, fx.service_id, "agent").await;
    assert_eq!(
        agent_client.get(&format!("{panel}/{tid}")).await.status,
        200
    );
    assert_eq!(
        agent_client
            .get("/demo/console/settings/templates")
            .await
            .status,
        403
    );
}

#[actix_web::test]
async fn manual_creation_records_the_ticket_and_mails_the_created_layout() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let page = admin.get("/demo/console/tickets/new").await;
    assert_eq!(page.status, 200, "{}", page.text);
    let category = attr(&page, "#f-category option:nth-child(2)", "value");
    assert!(!category.is_empty());
    let page = admin
        .get(&format!("/demo/console/tickets/new?category={category}"))
        .await;
    assert!(page.has("#new-ticket-form"));
    let mail = format!("f{}", field_id(&app, fx.service_id, "mail"));
    let name = format!("f{}", field_id(&app, fx.service_id, "name"));
    let (agent_id, _) = agent(&app, fx.service_id, "agent").await;
    let path = format!("/demo/console/tickets/new?category={category}");

    let bad = Form::new()
        .text("subject", "")
        .text("content", "x")
        .text(mail.clone(), "nope");
    let r = admin.post_multipart(&path, bad).await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("subject").is_empty());
    assert!(!r.field_error(&mail).is_empty());
    let before: i64 = app.db(|c| tickets::table.count().get_result(c));
    assert_eq!(before, 0);

    let form = Form::new()
        .text("subject", "Phone call about billing")
        .text("content", "The customer called about a double charge.")
        .text(mail.clone(), "Caller@Example.com")
        .text(name.clone(), "Cal Caller")
        .text("assignee_id", agent_id.to_string())
        .text("lang", "en");
    let r = admin.post_multipart(&path, form).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let (id, pid, channel, creator, assignee, status): (
        i64,
        String,
        String,
        Option<i64>,
        Option<i64>,
        String,
    ) = app.db(|c| {
        tickets::table
            .select((
                tickets::id,
                tickets::public_id,
                tickets::channel,
                tickets::creator_id,
                tickets::assignee_id,
                tickets::status,
            ))
            .first(c)
    });
    assert_eq!(r.location(), page_path(&pid));
    assert_eq!(channel, Channel::Created.as_str());
    assert_eq!(creator, Some(fx.admin_id));
    assert_eq!(assignee, Some(agent_id));
    assert_eq!(status, "open");
    let rows = outbox_rows(&app, id);
    assert_eq!(rows[0].0, "created");
    let mails = app.smtp.wait_for(1).await;
    assert!(mails[0].to.contains(&"caller@example.com".to_string()));
    let m = mail_parser::MessageParser::default()
        .parse(mails[0].data.as_bytes())
        .unwrap();
    assert!(m.subject().unwrap().ends_with(&format!("[#{pid}]")));
    assert!(m.body_text(0).unwrap().contains("double charge"));
    let page = admin.get(&page_path(&pid)).await;
    assert_eq!(page.texts("#ticket-creator"), vec!["Ada Admin"]);

    // When the settings say so, creators cannot choose the assignee.
    let r = admin
        .post_form(
            "/demo/console/settings/tickets",
            &[("auto_complete_days", "14")],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = admin.get(&path).await;
    assert!(!page.has("#f-assignee"));
    let form = Form::new()
        .text("subject", "No email")
        .text("content", "Walk-in visitor.")
        .text(mail.clone(), "walkin@example.com")
        .text("assignee_id", agent_id.to_string());
    let r = admin.post_multipart(&path, form).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let unassigned: i64 = app.db(|c| {
        tickets::table
            .filter(tickets::subject.eq("No email"))
            .filter(tickets::assignee_id.is_null())
            .count()
            .get_result(c)
    });
    assert_eq!(unassigned, 1);
    let (noperm_id, noperm) = agent(&app, fx.service_id, "noperm").await;
    set_member(&app, fx.service_id, noperm_id, "perm_ticket", false);
    assert_eq!(noperm.get("/demo/console/tickets/new").await.status, 403);
    let r = admin
        .http
        .post(format!("{}{path}", admin.base))
        .multipart(Form::new().text("subject", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403, "no CSRF token");
}

#[actix_web::test]
async fn a_ticket_goes_to_issue_management_and_comes_back_answered() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let im_sid = create_service(&app, "issues", ServiceKind::Issue);
    let im_type = add_category(&app, im_sid, "intake", "Payments bug");
    let (cm_id, cm_pid) = app.create_ticket(fx.service_id, "Charged twice", "t@example.com");
    let (_, agent_client) = agent(&app, fx.service_id, "agent").await;
    let engineer_id = app.create_member("engineer", "Eve Engineer", false);
    app.add_to_service(im_sid, engineer_id, "admin");
    let engineer = app.login("engineer").await;

    let page = agent_client.get(&page_path(&cm_pid)).await;
    let href = attr(&page, "#transfer-link", "href");
    assert_eq!(href, format!("{}/transfer", page_path(&cm_pid)));
    let step1 = agent_client.get(&href).await;
    assert_eq!(step1.status, 200, "{}", step1.text);
    assert!(
        step1
            .texts("#im-services a")
            .join(" ")
            .contains("issues service")
    );
    let step2 = agent_client.get(&format!("{href}?service=issues")).await;
    assert!(
        step2
            .texts("#im-types a")
            .join(" ")
            .contains("Payments bug")
    );
    let form_url = format!("{href}?service=issues&category={im_type}");
    let step3 = agent_client.get(&form_url).await;
    assert!(step3.has("#transfer-form"));
    let version = attr(&step3, "#transfer-form input[name=version]", "value");
    let r = agent_client
        .post_form(
            &form_url,
            &[("version", &version), ("subject", ""), ("content", "x")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("subject").is_empty());
    let r = agent_client
        .post_form(
            &form_url,
            &[
                ("version", &version),
                ("subject", "Double charge on card"),
                ("content", "Customer was charged twice on 3 May."),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let cm = app.ticket(cm_id);
    assert_eq!(cm.transfer_state(), TransferState::IssueInProgress);
    let im_id = cm.transferred_to_ticket_id.unwrap();
    let im = app.ticket(im_id);
    assert_eq!(im.service_id, im_sid);
    assert_eq!(im.channel(), Channel::Transfer);
    assert_eq!(im.origin_ticket_id, Some(cm_id));
    assert_eq!(im.status(), Status::New);
    let page = agent_client.get(&page_path(&cm_pid)).await;
    assert_eq!(page.texts("#ticket-status"), vec!["Transfer in progress"]);
    assert!(
        page.texts("#transfer-target")
            .join(" ")
            .contains(&im.public_id)
    );
    assert!(!page.has("#transfer-link"));
    // A second transfer is refused.
    let r = agent_client
        .post_form(
            &form_url,
            &[
                ("version", &cm.version.to_string()),
                ("subject", "Again"),
                ("content", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);

    // Issue management sees the origin and its history; spam is not a reason there.
    let im_page = format!("/issues/console/tickets/{}", im.public_id);
    let page = engineer.get(&im_page).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.texts("#transfer-origin").join(" ").contains(&cm_pid));
    assert!(
        page.texts("#origin-history .tl-body")
            .join(" ")
            .contains("Please help.")
    );
    assert!(!page.texts("#f-reason option").join(" ").contains("Spam"));
    assert!(
        page.texts("#mail-note")
            .join("")
            .contains("No mail goes to the customer")
    );
    let (v, tok) = form_state(&page);
    let r = engineer
        .post_multipart(
            &format!("{im_page}/process"),
            process_form(&v, &tok, "internal", "").text("reason", "spam"),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = engineer
        .post_multipart(
            &format!("{im_page}/process"),
            process_form(&v, &tok, "resolve", "<p>Refund issued by finance.</p>"),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(
        outbox_rows(&app, im_id).is_empty(),
        "issue management never mails"
    );
    assert_eq!(
        app.ticket(cm_id).transfer_state(),
        TransferState::IssueAnswered
    );
    let page = agent_client.get(&page_path(&cm_pid)).await;
    assert_eq!(page.texts("#ticket-status"), vec!["Transfer answered"]);
    // The consultation agent cannot open the issue ticket (not a member there).
    assert_eq!(agent_client.get(&im_page).await.status, 403);
    // Issue tickets cannot be transferred further from here.
    assert_eq!(
        engineer.get(&format!("{im_page}/transfer")).await.status,
        404
    );
}

#[actix_web::test]
async fn an_agent_answers_with_a_template_in_the_browser() {
    use crate::support::browser::Browser;
    use fantoccini::Locator;

    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (id, pid) = app.create_ticket(fx.service_id, "Site down", "casey@example.com");
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            "/demo/console/settings/templates",
            &[
                ("title", "Fix deployed"),
                ("scope", "service"),
                ("search_code", "FIX"),
                (
                    "body_html",
                    "<p>Thanks #{customerName}, the fix is live.</p>",
                ),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);

    let b = Browser::start().await;
    b.sign_in(&app.base, "admin", page_path(&pid)).await;
    b.wait_css("#process-form .ql-editor").await;
    b.wait_css("[data-template-insert]")
        .await
        .click()
        .await
        .unwrap();
    let mut text = String::new();
    for _ in 0..100 {
        let v: serde_json::Value = b
            .client
            .execute(
                "return document.querySelector('#process-form .ql-editor').innerText",
                vec![],
            )
            .await
            .unwrap();
        text = v.as_str().unwrap_or("").to_string();
        if text.contains("the fix is live") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        text.contains("Thanks Casey Customer, the fix is live."),
        "{text}"
    );
    b.screenshot("ticket-template-inserted").await;
    b.client
        .find(Locator::Css("#process-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_css("#timeline .tl-reply").await;
    let body: String = app.db(move |c| {
        ticket_entries::table
            .filter(ticket_entries::ticket_id.eq(id))
            .filter(ticket_entries::kind.eq("agent_reply"))
            .select(ticket_entries::body)
            .first(c)
    });
    assert!(
        body.contains("Thanks Casey Customer, the fix is live."),
        "{body}"
    );
    assert_eq!(app.ticket(id).status(), Status::Solved);
    let mails = app.smtp.wait_for(1).await;
    assert!(mails[0].data.contains("the fix is live"));
    b.screenshot("ticket-answered").await;
    b.close().await;
}

fn add_agent_field(
    app: &TestApp,
    service_id: i64,
    code: &str,
    required: bool,
    permission: &str,
) -> i64 {
    let (code, permission) = (code.to_string(), permission.to_string());
    let config = format!("{{\"labels\":{{\"en\":\"{code} label\"}},\"max_length\":20}}");
    let now = opencontact::db::now();
    app.db(move |c| {
        diesel::insert_into(field_defs::table)
            .values((
                field_defs::service_id.eq(service_id),
                field_defs::audience.eq("agent"),
                field_defs::code.eq(code),
                field_defs::control.eq("text"),
                field_defs::is_system.eq(false),
                field_defs::config.eq(config),
                field_defs::required.eq(required),
                field_defs::personal.eq(false),
                field_defs::visible.eq(true),
                field_defs::agent_permission.eq(permission),
                field_defs::position.eq(10),
                field_defs::created_at.eq(now),
                field_defs::updated_at.eq(now),
            ))
            .returning(field_defs::id)
            .get_result(c)
    })
}

#[actix_web::test]
async fn agent_fields_are_validated_stored_and_usable_in_mails() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let order = add_agent_field(&app, fx.service_id, "orderNo", true, "agent");
    let refund = add_agent_field(&app, fx.service_id, "refundCode", false, "admin");
    let (id, pid) = app.create_ticket(fx.service_id, "Refund", "r@example.com");
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            "/demo/console/settings/mail-layouts/resolve/en",
            &[
                ("subject", "Re: #{subject}"),
                (
                    "html_body",
                    "<p>#{content}</p><p>Order #{field.orderNo}</p>",
                ),
                ("text_body", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let (_, agent_client) = agent(&app, fx.service_id, "agent").await;
    let (of, rf) = (format!("f{order}"), format!("f{refund}"));

    // The agent sees the admin-only field disabled; a comment needs no required agent field.
    let page = agent_client.get(&page_path(&pid)).await;
    assert!(page.has(&format!("#{of}:not([disabled])")));
    assert!(page.has(&format!("#{rf}[disabled]")));
    let r = process(&agent_client, &pid, "comment", "<p>note</p>", &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    // Resolving needs it, and bounds its length.
    let r = process(&agent_client, &pid, "resolve", "<p>Refunded.</p>", &[]).await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error(&of).is_empty());
    let long = "9".repeat(21);
    let r = process(
        &agent_client,
        &pid,
        "resolve",
        "<p>Refunded.</p>",
        &[(&of, &long)],
    )
    .await;
    assert_eq!(r.status, 422);
    let r = process(
        &agent_client,
        &pid,
        "resolve",
        "<p>Refunded.</p>",
        &[(&of, "A-1001"), (&rf, "sneaky")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let values: Vec<(i64, String)> = app.db(move |c| {
        ticket_field_values::table
            .filter(ticket_field_values::ticket_id.eq(id))
            .select((ticket_field_values::field_id, ticket_field_values::value))
            .load(c)
    });
    assert_eq!(
        values,
        vec![(order, "A-1001".to_string())],
        "admin-only field untouched"
    );
    let mails = app.smtp.wait_for(1).await;
    let m = mail_parser::MessageParser::default()
        .parse(mails[0].data.as_bytes())
        .unwrap();
    assert!(m.body_html(0).unwrap().contains("Order A-1001"));
}

#[actix_web::test]
async fn attachments_download_through_their_ticket_only() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (id, pid) = app.create_ticket(fx.service_id, "Logs", "l@example.com");
    let (_, other_pid) = app.create_ticket(fx.service_id, "Other", "o@example.com");
    let admin = app.login("admin").await;
    let page = admin.get(&page_path(&pid)).await;
    let (v, tok) = form_state(&page);
    let form = process_form(&v, &tok, "comment", "<p>attached</p>").part(
        "file",
        Part::bytes("line one\nline two".as_bytes().to_vec()).file_name("server log.txt"),
    );
    let r = admin
        .post_multipart(&format!("{}/process", page_path(&pid)), form)
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let aid: i64 = app.db(move |c| {
        ticket_attachments::table
            .filter(ticket_attachments::ticket_id.eq(id))
            .select(ticket_attachments::id)
            .first(c)
    });
    let page = admin.get(&page_path(&pid)).await;
    let href = attr(&page, ".tl-files a", "href");
    assert_eq!(href, format!("{}/attachments/{aid}", page_path(&pid)));
    let r = admin.get(&href).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "line one\nline two");
    assert!(r.header("content-disposition").contains("attachment"));
    // Not through another ticket, not for outsiders.
    let r = admin
        .get(&format!("{}/attachments/{aid}", page_path(&other_pid)))
        .await;
    assert_eq!(r.status, 404);
    let other_sid = create_service(&app, "other", ServiceKind::Consultation);
    let outsider_id = app.create_member("outsider", "Out Sider", false);
    app.add_to_service(other_sid, outsider_id, "admin");
    let outsider = app.login("outsider").await;
    assert_eq!(outsider.get(&href).await.status, 403);
    assert_eq!(app.client().get(&href).await.status, 303);
}

#[actix_web::test]
async fn issue_management_mails_customers_of_its_manually_created_tickets() {
    let app = TestApp::spawn().await;
    let _fx = app.setup();
    let im_sid = create_service(&app, "issues", ServiceKind::Issue);
    let engineer_id = app.create_member("engineer", "Eve Engineer", false);
    app.add_to_service(im_sid, engineer_id, "agent");
    let engineer = app.login("engineer").await;
    // The IM service has no intake types and no customer fields: subject, content and the
    // customer's name and e-mail are asked for directly.
    let page = engineer.get("/issues/console/tickets/new").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.has("#f-customer_email") && page.has("#new-ticket-form"));
    let bad = Form::new()
        .text("subject", "Partner report")
        .text("content", "x")
        .text("customer_email", "nope");
    let r = engineer
        .post_multipart("/issues/console/tickets/new", bad)
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("customer_email").is_empty());
    let form = Form::new()
        .text("subject", "Partner report")
        .text("content", "The partner API returns 500.")
        .text("customer_name", "Pat Partner")
        .text("customer_email", "pat@partner.test");
    let r = engineer
        .post_multipart("/issues/console/tickets/new", form)
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let (id, pid): (i64, String) = app.db(|c| {
        tickets::table
            .select((tickets::id, tickets::public_id))
            .first(c)
    });
    assert_eq!(outbox_rows(&app, id)[0].0, "created");
    let im_page = format!("/issues/console/tickets/{pid}");
    let page = engineer.get(&im_page).await;
    assert!(
        page.texts("#mail-note")
            .join("")
            .contains("pat@partner.test")
            || page
                .texts("#mail-note")
                .join("")
                .contains("pa***@partner.test")
    );
    let (v, tok) = form_state(&page);
    let r = engineer
        .post_multipart(
            &format!("{im_page}/process"),
            process_form(&v, &tok, "resolve", "<p>Fixed on our side.</p>"),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let rows = outbox_rows(&app, id);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].0, "resolve");
    assert_eq!(
        rows[1].3, rows[0].2,
        "the answer threads under the created mail"
    );
    app.smtp.wait_for(2).await;
}
