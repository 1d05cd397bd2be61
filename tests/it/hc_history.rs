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
pub async fn sign_in(app: &TestApp, email: &str, mails_before: usize) -> Client {
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
        .link_containing("/demo/hc/ticket/list/access?link=")
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
        .get("/demo/hc/ticket/list/access?link=123.Y2FzZXk.forged")
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
        .get(&format!("/demo/hc/ticket/list/access?link={expired}"))
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

const IPHONE: &str =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n0000rest";
const PDF: &[u8] = b"%PDF-1.4\n%test\n";

/// The "done when": an administrator configures the help center in the back office; a
/// customer on a phone finds an FAQ by a Korean word, reads a notice, files an inquiry with two
/// attachments in Japanese, gets a receipt mail, later opens the history through the mailed
/// link and adds a follow-up.
#[actix_web::test]
async fn a_phone_customer_finds_reads_inquires_and_follows_up() {
    use opencontact::db::schema::{categories, field_defs, services};
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    app.db(move |c| {
        diesel::update(services::table.find(sid))
            .set((
                services::languages.eq("ko,ja"),
                services::default_lang.eq("ko"),
            ))
            .execute(c)
    });
    // The administrator: an FAQ in Korean, a notice heading and notice, the intake type's
    // Japanese name.
    let admin = app.login("admin").await;
    let bo = "/demo/console/help-center";
    let r = admin
        .post_form(
            &format!("{bo}/faq"),
            &[
                ("title_ko", "환불요청 방법 안내"),
                ("body_ko", "<p>주문 취소 후 환불됩니다.</p>"),
                ("title_ja", "返金の手続き"),
                ("body_ja", "<p>キャンセル後に返金されます。</p>"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let r = admin
        .post_form(
            &format!("{bo}/notice-headings"),
            &[("name_ko", "안내"), ("name_ja", "お知らせ")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let heading: i64 = app.db(|c| {
        opencontact::db::schema::notice_headings::table
            .select(opencontact::db::schema::notice_headings::id)
            .first(c)
    });
    let h = heading.to_string();
    let r = admin
        .post_form(
            &format!("{bo}/notices"),
            &[
                ("heading_id", h.as_str()),
                ("display_date", "2026-01-15"),
                ("title_ko", "배송 지연 안내"),
                ("body_ko", "<p>배송이 지연되고 있습니다.</p>"),
                ("title_ja", "配送遅延のお知らせ"),
                ("body_ja", "<p>配送が遅れています。</p>"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);

    // The customer on a phone, in Korean: search, article, notice.
    let phone = app.client_as(IPHONE);
    let found = phone.get("/demo/hc/search?q=%ED%99%98%EB%B6%88").await;
    assert_eq!(found.status, 200);
    let titles = found.texts("#search-faqs .hc-item-title");
    assert_eq!(titles, ["환불요청 방법 안내"]);
    let href = found
        .doc()
        .select(&scraper::Selector::parse("#search-faqs .hc-item-title").unwrap())
        .next()
        .and_then(|a| a.value().attr("href").map(str::to_string))
        .unwrap();
    let article = phone.get(&href).await;
    assert_eq!(article.status, 200);
    assert!(article.text.contains("주문 취소 후 환불됩니다."));
    let notices = phone.get("/demo/hc/notices").await;
    assert!(notices.text.contains("배송 지연 안내"));

    // In Japanese: the inquiry with two attachments.
    let ja = phone.get("/demo/hc/?lang=ja").await;
    assert_eq!(ja.status, 200);
    let category: i64 = app.db(move |c| {
        categories::table
            .filter(categories::service_id.eq(sid))
            .filter(categories::tree.eq("intake"))
            .select(categories::id)
            .first(c)
    });
    let field = |code: &'static str| -> String {
        let id: i64 = app.db(move |c| {
            field_defs::table
                .filter(field_defs::service_id.eq(sid))
                .filter(field_defs::code.eq(code))
                .select(field_defs::id)
                .first(c)
        });
        format!("f{id}")
    };
    let form = Form::new()
        .text(field("name"), "山田太郎")
        .text(field("mail"), "taro@example.jp")
        .text(field("subject"), "返金について")
        .text(field("content"), "注文した商品が届きません。")
        .text(field("personalAgree"), "true")
        .part("file", Part::bytes(PNG.to_vec()).file_name("写真.png"))
        .part("file", Part::bytes(PDF.to_vec()).file_name("領収書.pdf"));
    let done = phone
        .post_multipart(&format!("/demo/hc/ticket/?category={category}"), form)
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    let public_id = done.texts("#ticket-id").remove(0);
    let (tid, channel, lang): (i64, String, String) = app.db(|c| {
        tickets::table
            .select((tickets::id, tickets::channel, tickets::lang))
            .first(c)
    });
    assert_eq!((channel.as_str(), lang.as_str()), ("mobile_web", "ja"));
    let receipt = app.smtp.wait_for(1).await.remove(0);
    assert_eq!(receipt.to, ["taro@example.jp"]);
    assert!(
        receipt.subject().contains("お問い合わせを受け付けました"),
        "{}",
        receipt.subject()
    );
    assert!(receipt.subject().contains(&public_id));

    // An agent answers; later the customer opens the history by the mailed link (Japanese).
    answer(
        &app,
        tid,
        fx.admin_id,
        Action::Resolve,
        "<p>返金いたしました。</p>",
    );
    let r = phone.post_form(LIST, &[("email", "taro@example.jp")]).await;
    assert!(r.has("#link-sent"));
    let mail = app.smtp.wait_for(2).await.remove(1);
    assert_eq!(mail.subject(), "Demo Support お問い合わせ履歴へのリンク");
    let link = mail.link_containing("/hc/ticket/list/access").unwrap();
    assert!(link.ends_with("&lang=ja"), "{link}");
    let r = phone.get(link.trim_start_matches(&app.base)).await;
    assert_eq!(r.status, 303);
    let list = phone.get(LIST).await;
    assert_eq!(list.texts("#history-list .hc-status"), ["回答完了"]);
    let detail_path = format!("/demo/hc/ticket/{public_id}/");
    let detail = phone.get(&detail_path).await;
    assert!(detail.text.contains("返金いたしました。"));
    assert_eq!(detail.texts(".hc-att-list a"), ["写真.png", "領収書.pdf"]);
    let r = phone
        .post_multipart(
            &detail_path,
            Form::new().text("text", "まだ届いていません。"),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(app.ticket(tid).status(), Status::Open);
}
