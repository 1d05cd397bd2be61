//! The help-center inquiry history: sign-in by an e-mailed signed link, the customer's own
//! tickets with customer-facing status names, only customer-visible entries and attachments,
//! follow-ups that reopen solved tickets and are refused on completed ones.

use diesel::prelude::*;
use opencontact::db::schema::{mail_outbox, ticket_attachments, tickets};
use opencontact::db::types::ServiceKind;
use opencontact::tickets::Status;
use opencontact::tickets::lifecycle::{self, Action, ProcessInput};
use reqwest::multipart::{Form, Part};

use crate::support::{Client, TestApp};

const LIST: &str = "/demo/hc/ticket/list/";

fn answer(app: &TestApp, id: i64, actor: i64, action: Action, body: &str) {
    let t = app.ticket(id);
    let body = body.to_string();
    app.db(move |c| {
        lifecycle::process(
            c,
            &t,
            &ProcessInput {
                action,
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

/// Asks for the link and follows it; returns the signed-in client.
async fn sign_in(app: &TestApp, email: &str, mails_before: usize) -> Client {
    let visitor = app.client();
    let form = visitor.get(LIST).await;
    assert_eq!(form.status, 200);
    assert!(form.has("#history-link-form"));
    let r = visitor.post_form(LIST, &[("email", email)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.has("#link-sent"));
    let mails = app.smtp.wait_for(mails_before + 1).await;
    let mail = &mails[mails_before];
    assert_eq!(mail.to, [email.to_lowercase()]);
    assert_eq!(mail.subject(), "Your inquiry history at Demo Support");
    let link = mail
        .link_containing("/demo/hc/ticket/list/access?token=")
        .expect("link in the mail");
    assert!(mail.html().contains(&link.replace('&', "&amp;")));
    let path = link.trim_start_matches(&app.base).to_string();
    let r = visitor.get(&path).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.location(), LIST);
    visitor
}

#[actix_web::test]
async fn a_customer_signs_in_by_mailed_link_and_follows_up() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (mine, mine_pid) = app.create_ticket(fx.service_id, "Printer jams", "casey@example.com");
    let (_, older_pid) = app.create_ticket(fx.service_id, "Older question", "Casey@Example.com");
    let (_, theirs_pid) = app.create_ticket(fx.service_id, "Not yours", "other@example.com");
    answer(
        &app,
        mine,
        fx.admin_id,
        Action::Comment,
        "<p>INTERNAL NOTE</p>",
    );
    answer(
        &app,
        mine,
        fx.admin_id,
        Action::Hold,
        "<p>We are checking.</p>",
    );

    // An unknown address gets the same answer and no mail.
    let stranger = app.client();
    let r = stranger
        .post_form(LIST, &[("email", "nobody@example.com")])
        .await;
    assert!(r.has("#link-sent"));
    let queued: i64 = app.db(|c| mail_outbox::table.count().get_result(c));
    assert_eq!(queued, 0);

    let visitor = sign_in(&app, "Casey@example.com", 0).await;
    let list = visitor.get(LIST).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.texts("#history-who"), ["casey@example.com"]);
    let ids = list.texts("#history-list td.mono");
    assert_eq!(ids, [older_pid.clone(), mine_pid.clone()]);
    let statuses = list.texts("#history-list .hc-status");
    assert_eq!(statuses, ["Received", "Needs additional check"]);

    // The detail shows the message and the hold answer, never the internal comment.
    let detail_path = format!("/demo/hc/ticket/{mine_pid}/");
    let detail = visitor.get(&detail_path).await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.texts("#thread .hc-entry").len(), 2);
    assert!(detail.text.contains("We are checking."));
    assert!(!detail.text.contains("INTERNAL NOTE"));

    // Someone else's ticket does not exist for this visitor.
    assert_eq!(
        visitor
            .get(&format!("/demo/hc/ticket/{theirs_pid}/"))
            .await
            .status,
        404
    );

    // A follow-up with an attachment; the hold ticket goes back to processing.
    let form = Form::new().text("text", "It still <b>jams</b>.").part(
        "file",
        Part::bytes(b"log line\n".to_vec()).file_name("log.txt"),
    );
    let r = visitor.post_multipart(&detail_path, form).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(app.ticket(mine).status(), Status::Open);
    let detail = visitor.get(&r.location()).await;
    assert!(detail.has("#followup-added"));
    assert!(detail.text.contains("It still &lt;b&gt;jams&lt;/b&gt;."));
    let href = detail
        .doc()
        .select(&scraper::Selector::parse(".hc-att-list a").unwrap())
        .next()
        .and_then(|a| a.value().attr("href").map(str::to_string))
        .expect("attachment link");
    let file = visitor.get(&href).await;
    assert_eq!(file.status, 200);
    assert_eq!(file.text, "log line\n");
    // Without the identity the file is not served.
    assert_eq!(app.client().get(&href).await.status, 404);

    // An empty follow-up is refused with a message, nothing stored.
    let r = visitor
        .post_multipart(&detail_path, Form::new().text("text", "  "))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("text"), "Write your message.");

    // Solved → a follow-up reopens it; completed → refused.
    answer(&app, mine, fx.admin_id, Action::Resolve, "<p>Fixed.</p>");
    assert_eq!(app.ticket(mine).status(), Status::Solved);
    let r = visitor
        .post_multipart(&detail_path, Form::new().text("text", "Not fixed"))
        .await;
    assert_eq!(r.status, 303, "{:?}", r.texts(".field-error"));
    assert_eq!(app.ticket(mine).status(), Status::Open);
    answer(
        &app,
        mine,
        fx.admin_id,
        Action::Resolve,
        "<p>Fixed now.</p>",
    );
    let t = app.ticket(mine);
    app.db(|c| Ok(lifecycle::complete(c, &t, fx.admin_id)))
        .unwrap();
    let detail = visitor.get(&detail_path).await;
    assert!(detail.has("#followup-closed"));
    assert!(!detail.has("#followup-form"));
    assert_eq!(detail.texts("#ticket-status"), ["Closed"]);
    let r = visitor
        .post_multipart(&detail_path, Form::new().text("text", "Hello?"))
        .await;
    assert_eq!(r.status, 422);
    assert!(r.has("#followup-closed"));
    let files: i64 = app.db(|c| ticket_attachments::table.count().get_result(c));
    assert_eq!(files, 1);

    // Signing out ends access.
    let r = visitor.post_form("/demo/hc/ticket/list/signout", &[]).await;
    assert_eq!(r.status, 303);
    assert!(visitor.get(LIST).await.has("#history-link-form"));
    assert_eq!(visitor.get(&detail_path).await.status, 303);
}

#[actix_web::test]
async fn bad_links_bad_input_rate_limit_and_csrf() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    app.create_ticket(fx.service_id, "Question", "casey@example.com");
    let visitor = app.client();

    let r = visitor
        .get("/demo/hc/ticket/list/access?token=123.Y2FzZXk.forged")
        .await;
    assert_eq!(r.status, 400);
    assert!(r.has("#bad-link"));
    // An expired but genuine token is refused too.
    let expired = opencontact::help_center::history::link_token(
        &app.state.secret,
        fx.service_id,
        "casey@example.com",
        opencontact::db::now().and_utc().timestamp() - 1,
    );
    let r = visitor
        .get(&format!("/demo/hc/ticket/list/access?token={expired}"))
        .await;
    assert_eq!(r.status, 400);

    let r = visitor
        .post_form(LIST, &[("email", "not-an-address")])
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field_error("email"), "Enter a valid e-mail address.");
    let r = visitor.post_form(LIST, &[("email", "")]).await;
    assert_eq!(r.status, 422);

    let r = visitor
        .post_form_raw(LIST, &[("email", "casey@example.com")], &[])
        .await;
    assert_eq!(r.status, 403);

    for _ in 0..5 {
        let r = visitor
            .post_form(LIST, &[("email", "casey@example.com")])
            .await;
        assert!(r.has("#link-sent"));
    }
    let queued: i64 = app.db(|c| {
        mail_outbox::table
            .filter(mail_outbox::purpose.eq("history_link"))
            .count()
            .get_result(c)
    });
    assert_eq!(queued, 3, "at most three links an hour");

    // The portal links to the history; switching the module off hides it (404).
    let main = visitor.get("/demo/hc/").await;
    assert!(main.text.contains("/demo/hc/ticket/list/"));
    let sid = fx.service_id;
    app.db(move |c| {
        let mut s = opencontact::help_center::settings::HcSettings::load(c, sid)?;
        s.show_history = false;
        s.save(c)
    });
    assert_eq!(visitor.get(LIST).await.status, 404);
    let n: i64 = app.db(|c| tickets::table.count().get_result(c));
    assert_eq!(n, 1);
}
