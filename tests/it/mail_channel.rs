//! The e-mail channel with real components: messages are APPENDed over IMAP to a real Dovecot
//! (see support/imap.rs) and imported by the real poller code; answers leave through the
//! outbox over a real SMTP exchange with the sink. Covers legacy encodings, attachments,
//! threading (headers and subject token), reopening, replies to completed tickets, duplicates
//! and restarts, automatic mail and bounces, quarantine, the account and outbox pages.

use std::time::Duration;

use base64::Engine;
use diesel::prelude::*;
use opencontact::db::schema::{
    customers, mail_accounts, mail_imports, mail_outbox, mail_quarantine, ticket_attachments,
    ticket_entries, ticket_events, tickets,
};
use opencontact::db::types::ServiceKind;
use opencontact::notify::OutgoingMail;
use opencontact::notify::outbox::{self, NewMail};
use opencontact::tickets::Ticket;
use opencontact::tickets::lifecycle::{self, Action, ProcessInput};

use crate::support::imap::{Mailbox, new_mailbox};
use crate::support::{Client, Fixture, Resp, TestApp};

const ACCOUNTS: &str = "/demo/console/settings/mail-accounts";
const QUARANTINE: &str = "/demo/console/settings/mail-quarantine";
const OUTBOX: &str = "/demo/console/settings/mail-outbox";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Base64 with 76-character lines.
fn b64_lines(bytes: &[u8]) -> String {
    b64(bytes)
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// An RFC 2047 encoded word in base64.
fn word_b(charset: &str, bytes: &[u8]) -> String {
    format!("=?{charset}?B?{}?=", b64(bytes))
}

/// Quoted-printable for bodies (soft line breaks) or, with `word`, for Q encoded words.
fn qp(bytes: &[u8], word: bool) -> String {
    let mut out = String::new();
    let mut line = 0;
    for &b in bytes {
        let piece = if word && b == b' ' {
            "_".to_string()
        } else if b.is_ascii_alphanumeric() || (!word && matches!(b, b' ' | b'.' | b',')) {
            (b as char).to_string()
        } else {
            format!("={b:02X}")
        };
        if !word && line + piece.len() > 72 {
            out.push_str("=\r\n");
            line = 0;
        }
        line += piece.len();
        out.push_str(&piece);
    }
    out
}

fn enc(encoding: &'static encoding_rs::Encoding, s: &str) -> Vec<u8> {
    let (bytes, _, errors) = encoding.encode(s);
    assert!(!errors, "{s} is representable");
    bytes.into_owned()
}

/// A simple UTF-8 text message.
fn plain(from: &str, subject: &str, message_id: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@acme.test\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\nDate: Sun, 22 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\n{extra}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

async fn start() -> (TestApp, Fixture, Client) {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    (app, fx, admin)
}

fn account_form<'a>(mb: &'a Mailbox, port: &'a str, name: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("display_name", name),
        ("host", mb.host.as_str()),
        ("port", port),
        ("address", mb.user.as_str()),
        ("password", mb.password.as_str()),
    ]
}

/// Adds an account through the page (which verifies the connection); returns its key.
async fn add_account(app: &TestApp, admin: &Client, mb: &Mailbox, delete: bool) -> i64 {
    let port = mb.port.to_string();
    let mut form = account_form(mb, &port, "Support");
    if delete {
        form.push(("delete_after_import", "on"));
    }
    let r = admin.post_form(ACCOUNTS, &form).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let user = mb.user.clone();
    app.db(move |c| {
        mail_accounts::table
            .filter(mail_accounts::address.eq(user))
            .select(mail_accounts::id)
            .first(c)
    })
}

async fn poll(app: &TestApp, account: i64) -> opencontact::channels::email::import::PollReport {
    opencontact::channels::email::import::poll_account_once(&app.state, account)
        .await
        .expect("poll")
}

fn all_tickets(app: &TestApp) -> Vec<Ticket> {
    app.db(|c| {
        tickets::table
            .order(tickets::id.asc())
            .select(Ticket::as_select())
            .load(c)
    })
}

/// (kind, body, mail_message_id) of a ticket's entries.
fn entries(app: &TestApp, ticket: i64) -> Vec<(String, String, Option<String>)> {
    app.db(move |c| {
        ticket_entries::table
            .filter(ticket_entries::ticket_id.eq(ticket))
            .order(ticket_entries::id.asc())
            .select((
                ticket_entries::kind,
                ticket_entries::body,
                ticket_entries::mail_message_id,
            ))
            .load(c)
    })
}

fn receipts(app: &TestApp) -> Vec<(Option<i64>, String, String)> {
    app.db(|c| {
        mail_outbox::table
            .filter(mail_outbox::purpose.eq("receipt"))
            .order(mail_outbox::id.asc())
            .select((
                mail_outbox::ticket_id,
                mail_outbox::subject,
                mail_outbox::in_reply_to,
            ))
            .load(c)
    })
}

fn quarantined(app: &TestApp) -> Vec<(String, i64, Option<String>)> {
    app.db(|c| {
        mail_quarantine::table
            .order(mail_quarantine::id.asc())
            .select((
                mail_quarantine::reason,
                mail_quarantine::uid,
                mail_quarantine::stored_path,
            ))
            .load(c)
    })
}

/// Waits (bounded) until `f` holds.
async fn eventually(mut f: impl FnMut() -> bool, what: &str) {
    for _ in 0..300 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The Korean customer's message: EUC-KR body, encoded-word sender and subject, a PNG
/// attachment with an EUC-KR encoded file name.
fn korean_mail(message_id: &str) -> Vec<u8> {
    let name = word_b("EUC-KR", &enc(encoding_rs::EUC_KR, "김민수"));
    let subject = word_b("EUC-KR", &enc(encoding_rs::EUC_KR, "환불 문의드립니다"));
    let file = word_b("EUC-KR", &enc(encoding_rs::EUC_KR, "영수증.png"));
    let body = enc(
        encoding_rs::EUC_KR,
        "안녕하세요.\r\n주문한 상품을 환불하고 싶습니다.\r\n\r\n감사합니다.",
    );
    format!(
        "From: {name} <minsu@example.kr>\r\nTo: support@acme.test\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\nDate: Sun, 22 Nov 2026 10:00:00 +0900\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"kr-boundary\"\r\n\r\n--kr-boundary\r\nContent-Type: text/plain; charset=EUC-KR\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--kr-boundary\r\nContent-Type: image/png; name=\"{file}\"\r\nContent-Disposition: attachment; filename=\"{file}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--kr-boundary--\r\n",
        b64_lines(&body),
        b64_lines(PNG),
    )
    .into_bytes()
}

#[actix_web::test]
async fn a_korean_mail_with_an_attachment_becomes_a_ticket_with_a_threaded_receipt() {
    let (app, fx, admin) = start().await;
    let mb = new_mailbox();
    let account = add_account(&app, &admin, &mb, false).await;
    mb.append(&korean_mail("<kr-1@example.kr>")).await;
    poll(&app, account).await;

    let list = all_tickets(&app);
    assert_eq!(list.len(), 1);
    let t = &list[0];
    assert_eq!(t.service_id, fx.service_id);
    assert_eq!(t.subject, "환불 문의드립니다");
    assert_eq!((t.channel.as_str(), t.status.as_str()), ("email", "new"));
    let e = entries(&app, t.id);
    assert_eq!(e[0].0, "customer_message");
    assert!(
        e[0].1.contains("주문한 상품을 환불하고 싶습니다."),
        "{}",
        e[0].1
    );
    assert!(e[0].1.starts_with("<p>안녕하세요.<br>"), "{}", e[0].1);
    assert_eq!(e[0].2.as_deref(), Some("<kr-1@example.kr>"));
    let (name, email): (String, String) = app.db(|c| {
        customers::table
            .select((customers::name, customers::email))
            .first(c)
    });
    assert_eq!(
        (name.as_str(), email.as_str()),
        ("김민수", "minsu@example.kr")
    );
    let files: Vec<(String, i64, String)> = app.db(|c| {
        ticket_attachments::table
            .select((
                ticket_attachments::file_name,
                ticket_attachments::size_bytes,
                ticket_attachments::stored_path,
            ))
            .load(c)
    });
    assert_eq!(files.len(), 1);
    assert_eq!(
        (files[0].0.as_str(), files[0].1),
        ("영수증.png", PNG.len() as i64)
    );
    let on_disk = std::fs::read(app.state.config.data_dir.join(&files[0].2)).unwrap();
    assert_eq!(on_disk, PNG);

    // The receipt leaves through the outbox, threaded to the customer's message.
    let mails = app.smtp.wait_for(1).await;
    let receipt = &mails[0];
    assert_eq!(receipt.to, ["minsu@example.kr"]);
    assert!(
        receipt
            .subject()
            .ends_with(&format!("환불 문의드립니다 [#{}]", t.public_id)),
        "{}",
        receipt.subject()
    );
    let parsed = receipt.parsed();
    assert_eq!(parsed.in_reply_to().as_text(), Some("kr-1@example.kr"));
    assert!(receipt.text().contains(&t.public_id));
    assert_eq!(receipts(&app)[0].0, Some(t.id));
    let imported: Vec<String> =
        app.db(|c| mail_imports::table.select(mail_imports::outcome).load(c));
    assert_eq!(imported, ["ticket"]);
}

#[actix_web::test]
async fn japanese_legacy_encodings_and_encoded_words_decode() {
    let (app, _fx, admin) = start().await;
    let mb = new_mailbox();
    let account = add_account(&app, &admin, &mb, false).await;
    // ISO-2022-JP (7-bit) body, B-encoded ISO-2022-JP headers.
    let jis = |s: &str| enc(encoding_rs::ISO_2022_JP, s);
    let mut raw = format!(
        "From: {} <taro@example.jp>\r\nSubject: {}\r\nMessage-ID: <jp-1@example.jp>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n",
        word_b("ISO-2022-JP", &jis("山田太郎")),
        word_b("ISO-2022-JP", &jis("返金について")),
    )
    .into_bytes();
    raw.extend_from_slice(&jis("注文をキャンセルしたいです。"));
    raw.extend_from_slice(b"\r\n");
    mb.append(&raw).await;
    // Shift_JIS HTML in quoted-printable, Q-encoded Shift_JIS subject; the HTML is sanitised.
    let sjis = |s: &str| enc(encoding_rs::SHIFT_JIS, s);
    let raw = format!(
        "From: =?Shift_JIS?Q?{}?= <hanako@example.jp>\r\nSubject: =?Shift_JIS?Q?{}?=\r\nMessage-ID: <jp-2@example.jp>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=Shift_JIS\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n",
        qp(&sjis("佐藤花子"), true),
        qp(&sjis("配送 の お問い合わせ"), true),
        qp(
            &sjis(
                "<p>荷物が<b>届きません</b><script>alert(1)</script><img src=\"http://tracker.example/x.gif\"></p>"
            ),
            false
        ),
    );
    mb.append(raw.as_bytes()).await;
    // A UTF-8 quoted-printable encoded word mixed with plain text.
    mb.append(&plain(
        "=?UTF-8?Q?=ED=95=9C=EA=B5=AD?= <mixed@example.kr>",
        "Order =?UTF-8?B?7KO866y4?= 123",
        "<mix-1@example.kr>",
        "",
        "hello",
    ))
    .await;
    poll(&app, account).await;

    let list = all_tickets(&app);
    let subjects: Vec<&str> = list.iter().map(|t| t.subject.as_str()).collect();
    assert_eq!(
        subjects,
        ["返金について", "配送 の お問い合わせ", "Order 주문 123"]
    );
    let first = entries(&app, list[0].id);
    assert!(
        first[0].1.contains("注文をキャンセルしたいです。"),
        "{}",
        first[0].1
    );
    let second = entries(&app, list[1].id);
    assert!(
        second[0].1.contains("荷物が<b>届きません</b>"),
        "{}",
        second[0].1
    );
    assert!(!second[0].1.contains("script") && !second[0].1.contains("<img"));
    let names: Vec<String> = app.db(|c| {
        customers::table
            .order(customers::id.asc())
            .select(customers::name)
            .load(c)
    });
    assert_eq!(names, ["山田太郎", "佐藤花子", "한국"]);
}

#[actix_web::test]
async fn a_malformed_or_huge_message_is_quarantined_and_the_next_one_still_imports() {
    let (app, fx, admin) = start().await;
    let mb = new_mailbox();
    let account = add_account(&app, &admin, &mb, true).await;
    mb.append(b"Subject: broken\r\nX-Nothing: here\r\n\r\nThere is no sender in this message.\r\n")
        .await;
    let mut huge = plain("big@example.com", "Huge", "<huge@example.com>", "", "");
    let line = format!("{}\r\n", "x".repeat(998));
    while huge.len() < 26 * 1024 * 1024 {
        huge.extend_from_slice(line.as_bytes());
    }
    mb.append(&huge).await;
    mb.append(&plain(
        "ok@example.com",
        "Still flowing",
        "<ok-1@example.com>",
        "",
        "fine",
    ))
    .await;
    poll(&app, account).await;

    let list = all_tickets(&app);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].subject, "Still flowing");
    let q = quarantined(&app);
    let reasons: Vec<&str> = q.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(reasons, ["malformed", "too_large"]);
    assert!(
        q[0].2.is_some(),
        "the malformed original is kept for download"
    );
    assert!(q[1].2.is_none(), "a huge message is not downloaded");
    // The imported original was deleted; the quarantined ones stay on the server.
    let uids = mb.uids().await;
    assert_eq!(uids, vec![q[0].1 as u32, q[1].1 as u32]);
    // A second poll does not look at them again.
    poll(&app, account).await;
    assert_eq!(quarantined(&app).len(), 2);
    assert_eq!(all_tickets(&app).len(), 1);

    // Administrators see the reasons, download the original and dismiss entries.
    let page = admin.get(QUARANTINE).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.texts("#quarantine .reason .badge"),
        ["Too large", "Malformed"]
    );
    assert!(page.texts("#quarantine .detail")[1].contains("no sender"));
    let qid: i64 = app.db(|c| {
        mail_quarantine::table
            .filter(mail_quarantine::reason.eq("malformed"))
            .select(mail_quarantine::id)
            .first(c)
    });
    let raw = admin.get(&format!("{QUARANTINE}/{qid}/raw")).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.header("content-type"), "message/rfc822");
    assert!(raw.text.contains("There is no sender"));
    let agent_id = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(fx.service_id, agent_id, "agent");
    let agent = app.login("kim").await;
    assert_eq!(agent.get(QUARANTINE).await.status, 403);
    assert_eq!(
        agent.get(&format!("{QUARANTINE}/{qid}/raw")).await.status,
        403
    );
    let r = admin
        .post_form(&format!("{QUARANTINE}/{qid}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(quarantined(&app).len(), 1);
    assert_eq!(
        admin.get(&format!("{QUARANTINE}/{qid}/raw")).await.status,
        404
    );
}

/// Resolves a ticket as an agent would and queues the answer through the outbox, following
/// the threading convention; returns the answer's Message-ID.
fn answer(app: &TestApp, fx: &Fixture, ticket_id: i64, customer_mid: &str) -> String {
    let (actor, sid) = (fx.admin_id, fx.service_id);
    let customer_mid = customer_mid.to_string();
    app.db(move |c| {
        let t = tickets::table
            .find(ticket_id)
            .select(Ticket::as_select())
            .first(c)?;
        let processed = lifecycle::process(
            c,
            &t,
            &ProcessInput {
                action: Action::Resolve,
                actor,
                body: "<p>We refunded your order.</p>",
                files: &[],
                client_token: None,
                resolution_category_id: None,
                priority: None,
                service_kind: ServiceKind::Consultation,
            },
        )
        .map_err(|_| diesel::result::Error::RollbackTransaction)?;
        let (_, mid) = outbox::enqueue(
            c,
            &NewMail {
                service_id: Some(sid),
                ticket_id: Some(ticket_id),
                purpose: "resolve".into(),
                mail: OutgoingMail {
                    to: "minsu@example.kr".into(),
                    subject: format!("Re: {} [#{}]", t.subject, t.public_id),
                    text: "We refunded your order.".into(),
                    html: "<p>We refunded your order.</p>".into(),
                    in_reply_to: customer_mid.clone(),
                    references: customer_mid.clone(),
                    ..OutgoingMail::default()
                },
            },
        )?;
        diesel::update(ticket_entries::table.find(processed.entry_id))
            .set(ticket_entries::mail_message_id.eq(Some(&mid)))
            .execute(c)?;
        Ok(mid)
    })
}

#[actix_web::test]
async fn a_reply_to_the_answer_lands_in_the_same_ticket_and_reopens_it() {
    let (app, fx, admin) = start().await;
    let mb = new_mailbox();
    let account = add_account(&app, &admin, &mb, false).await;
    mb.append(&korean_mail("<kr-thread@example.kr>")).await;
    poll(&app, account).await;
    let t = all_tickets(&app).remove(0);
    app.smtp.wait_for(1).await;

    let answer_mid = answer(&app, &fx, t.id, "<kr-thread@example.kr>");
    app.run_pending_jobs().await;
    let mails = app.smtp.wait_for(2).await;
    let sent = mails
        .iter()
        .find(|m| m.subject().starts_with("Re: "))
        .expect("the answer went out");
    let parsed = sent.parsed();
    assert_eq!(
        format!("<{}>", parsed.message_id().unwrap()),
        answer_mid,
        "the Message-ID queued is the one sent"
    );
    assert_eq!(parsed.in_reply_to().as_text(), Some("kr-thread@example.kr"));
    assert!(sent.subject().ends_with(&format!("[#{}]", t.public_id)));
    assert!(sent.text().contains("We refunded"));
    assert!(sent.html().contains("<p>We refunded your order.</p>"));
    assert_eq!(app.ticket(t.id).status.as_str(), "solved");

    // The customer answers the answer: In-Reply-To names it.
    mb.append(&plain(
        "=?UTF-8?B?6rmA66+87IiY?= <minsu@example.kr>",
        &format!("Re: {}", sent.subject()),
        "<kr-reply-1@example.kr>",
        &format!(
            "In-Reply-To: {answer_mid}\r\nReferences: <kr-thread@example.kr> {answer_mid}\r\n"
        ),
        "아직 환불이 안 되었습니다.",
    ))
    .await;
    poll(&app, account).await;
    assert_eq!(all_tickets(&app).len(), 1, "no new ticket");
    let reopened = app.ticket(t.id);
    assert_eq!(reopened.status.as_str(), "open", "a solved ticket reopens");
    let e = entries(&app, t.id);
    let last = e.last().unwrap();
    assert_eq!(last.0, "customer_followup");
    assert!(last.1.contains("아직 환불이 안 되었습니다."));
    assert_eq!(last.2.as_deref(), Some("<kr-reply-1@example.kr>"));

    // A reply that only carries the subject token, from the ticket's customer: same ticket.
    mb.append(&plain(
        "minsu@example.kr",
        &format!("Again [#{}]", t.public_id),
        "<kr-reply-2@example.kr>",
        "",
        "One more thing.",
    ))
    .await;
    // The same token from a stranger opens a new ticket instead.
    mb.append(&plain(
        "stranger@example.com",
        &format!("Hijack [#{}]", t.public_id),
        "<stranger-1@example.com>",
        "",
        "Let me in.",
    ))
    .await;
    poll(&app, account).await;
    let list = all_tickets(&app);
    assert_eq!(list.len(), 2);
    assert_eq!(list[1].subject, "Hijack");
    assert_eq!(
        entries(&app, t.id).last().unwrap().1,
        "<p>One more thing.</p>"
    );
    // Follow-ups get no receipt; the stranger's new ticket does.
    assert_eq!(receipts(&app).len(), 2);
}

#[actix_web::test]
async fn a_reply_to_a_completed_ticket_starts_a_new_one_that_names_it() {
    let (app, fx, admin) = start().await;
    let mb = new_mailbox();
    let account = add_account(&app, &admin, &mb, false).await;
    mb.append(&korean_mail("<kr-done@example.kr>")).await;
    poll(&app, account).await;
    let old = all_tickets(&app).remove(0);
    let answer_mid = answer(&app, &fx, old.id, "<kr-done@example.kr>");
    let actor = fx.admin_id;
    app.db(move |c| {
        let t = tickets::table
            .find(old.id)
            .select(Ticket::as_select())
            .first(c)?;
        lifecycle::complete(c, &t, actor).map_err(|_| diesel::result::Error::RollbackTransaction)
    });
    mb.append(&plain(
        "minsu@example.kr",
        &format!("Re: 환불 문의드립니다 [#{}]", old.public_id),
        "<kr-after@example.kr>",
        &format!("In-Reply-To: {answer_mid}\r\n"),
        "다시 문의드립니다.",
    ))
    .await;
    poll(&app, account).await;
    let list = all_tickets(&app);
    assert_eq!(list.len(), 2);
    assert_eq!(
        app.ticket(old.id).status.as_str(),
        "closed",
        "the completed ticket stays final"
    );
    let new = &list[1];
    assert_eq!(new.subject, "환불 문의드립니다");
    assert_eq!(new.customer_id, old.customer_id);
    let e = entries(&app, new.id);
    assert!(e[0].1.contains("다시 문의드립니다."));
    assert_eq!(e[1].0, "system_event");
    assert!(e[1].1.contains(&old.public_id), "{}", e[1].1);
    let events: Vec<(i64, String, String)> = app.db(|c| {
        ticket_events::table
            .filter(ticket_events::kind.eq_any(["followup_of", "continued_in"]))
            .select((
                ticket_events::ticket_id,
                ticket_events::kind,
                ticket_events::detail,
            ))
            .load(c)
    });
    assert!(events.contains(&(new.id, "followup_of".into(), old.public_id.clone())));
    assert!(events.contains(&(old.id, "continued_in".into(), new.public_id.clone())));
}

#[actix_web::test]
async fn imports_are_idempotent_across_duplicates_and_restarts() {
    let (app, _fx, admin) = start().await;
    let mb = new_mailbox();
    let account = add_account(&app, &admin, &mb, false).await;
    let raw = plain(
        "dup@example.com",
        "Twice",
        "<dup-1@example.com>",
        "",
        "same mail",
    );
    mb.append(&raw).await;
    mb.append(&raw).await;
    mb.append(b"no sender, so quarantined\r\n\r\nbody\r\n")
        .await;
    poll(&app, account).await;
    assert_eq!(all_tickets(&app).len(), 1);
    assert_eq!(receipts(&app).len(), 1);
    assert_eq!(quarantined(&app).len(), 1);
    let last_uid: i64 = app.db(move |c| {
        mail_accounts::table
            .find(account)
            .select(mail_accounts::last_uid)
            .first(c)
    });
    assert_eq!(last_uid, 3);

    // A lost position (a restore, a crash before the position was saved elsewhere) and a
    // recreated mailbox (new UIDVALIDITY) read everything again without duplicating anything.
    app.db(move |c| {
        diesel::update(mail_accounts::table.find(account))
            .set(mail_accounts::last_uid.eq(0))
            .execute(c)
    });
    poll(&app, account).await;
    app.db(move |c| {
        diesel::update(mail_accounts::table.find(account))
            .set(mail_accounts::uid_validity.eq(Some(1)))
            .execute(c)
    });
    poll(&app, account).await;
    assert_eq!(all_tickets(&app).len(), 1);
    assert_eq!(receipts(&app).len(), 1);
    assert_eq!(quarantined(&app).len(), 1);
    let imports: i64 = app.db(|c| mail_imports::table.count().get_result(c));
    assert_eq!(imports, 1);
}

#[actix_web::test]
async fn automatic_mail_bounces_and_our_own_mail_are_never_answered() {
    let (app, fx, admin) = start().await;
    let mb = new_mailbox();
    let account = add_account(&app, &admin, &mb, false).await;
    mb.append(&korean_mail("<kr-auto@example.kr>")).await;
    poll(&app, account).await;
    let t = all_tickets(&app).remove(0);
    let answer_mid = answer(&app, &fx, t.id, "<kr-auto@example.kr>");
    // An out-of-office reply to our answer: attached, the ticket stays solved, no mail.
    mb.append(&plain(
        "minsu@example.kr",
        "Out of office",
        "<ooo-1@example.kr>",
        &format!("Auto-Submitted: auto-replied\r\nIn-Reply-To: {answer_mid}\r\n"),
        "I am away until Monday.",
    ))
    .await;
    // A newsletter: a ticket, but no receipt.
    mb.append(&plain(
        "news@shop.example",
        "Weekly deals",
        "<news-1@shop.example>",
        "Precedence: bulk\r\nList-Unsubscribe: <mailto:unsub@shop.example>\r\n",
        "Deals!",
    ))
    .await;
    // An X-Autoreply from someone new: a ticket, no receipt.
    mb.append(&plain(
        "bot@other.example",
        "Auto: received",
        "<bot-1@other.example>",
        "X-Autoreply: yes\r\n",
        "Your mail was received.",
    ))
    .await;
    // A bounce and a mail from our own relay address: quarantined.
    mb.append(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce-1@mx.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; gone@example.com\r\nAction: failed\r\n--r--\r\n"
        .as_bytes(),
    )
    .await;
    mb.append(&plain(
        "Acme Support <support@acme.test>",
        &format!("Re: x [#{}]", t.public_id),
        "<loop-1@acme.test>",
        "",
        "our own answer came back",
    ))
    .await;
    poll(&app, account).await;

    assert_eq!(
        app.ticket(t.id).status.as_str(),
        "solved",
        "an auto-reply never reopens"
    );
    let e = entries(&app, t.id);
    assert_eq!(e.last().unwrap().2.as_deref(), Some("<ooo-1@example.kr>"));
    let list = all_tickets(&app);
    let subjects: Vec<&str> = list.iter().map(|t| t.subject.as_str()).collect();
    assert_eq!(
        subjects,
        ["환불 문의드립니다", "Weekly deals", "Auto: received"]
    );
    let r = receipts(&app);
    assert_eq!(r.len(), 1, "only the customer's own inquiry got a receipt");
    assert_eq!(r[0].0, Some(t.id));
    let reasons: Vec<String> = quarantined(&app).into_iter().map(|q| q.0).collect();
    assert_eq!(reasons, ["bounce", "own_address"]);
}

#[actix_web::test]
async fn the_background_poller_imports_new_mail_by_itself() {
    let (app, _fx, admin) = start().await;
    let mb = new_mailbox();
    add_account(&app, &admin, &mb, false).await;
    // Delivered while the poller starts: its first poll or its IDLE picks the mail up.
    mb.append(&plain(
        "idle@example.com",
        "Pushed",
        "<idle-1@example.com>",
        "",
        "hi",
    ))
    .await;
    eventually(
        || all_tickets(&app).len() == 1,
        "the poller to import the mail",
    )
    .await;
    assert_eq!(all_tickets(&app)[0].subject, "Pushed");
}

#[actix_web::test]
async fn accounts_are_verified_before_they_are_saved() {
    let (app, _fx, admin) = start().await;
    let mb = new_mailbox();
    let port = mb.port.to_string();
    assert_eq!(admin.get(ACCOUNTS).await.status, 200);
    assert_eq!(admin.get(&format!("{ACCOUNTS}/new")).await.status, 200);

    // Bad input: 422 with the message beside the field.
    let long = "x".repeat(21);
    let cases: Vec<(&str, &str, &str)> = vec![
        ("display_name", "", "display_name"),
        ("display_name", &long, "display_name"),
        ("host", "bad host!", "host"),
        ("port", "70000", "port"),
        ("address", "not-an-address", "address"),
        ("password", "", "password"),
    ];
    for (field, value, error_at) in cases {
        let mut form = account_form(&mb, &port, "Support");
        form.retain(|(k, _)| *k != field);
        form.push((field, value));
        let r = admin.post_form(ACCOUNTS, &form).await;
        assert_eq!(r.status, 422, "{field}={value}");
        assert!(!r.field_error(error_at).is_empty(), "{field}: {}", r.text);
    }
    // Each failing step is named.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let wrong = format!("{}-wrong", mb.password);
    let steps: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("host", "no-such-host.invalid")], "could not be found"),
        (vec![("port", closed_port.as_str())], "Could not connect"),
        (vec![("ssl", "on")], "secure (SSL) connection"),
        (vec![("password", wrong.as_str())], "refused the sign-in"),
    ];
    for (changes, expected) in steps {
        let mut form = account_form(&mb, &port, "Support");
        for (k, v) in &changes {
            form.retain(|(key, _)| key != k);
            form.push((k, v));
        }
        let r = admin.post_form(ACCOUNTS, &form).await;
        assert_eq!(r.status, 422, "{changes:?}");
        let msg = r.field_error("connection");
        assert!(msg.contains(expected), "{changes:?}: {msg}");
    }
    let count: i64 = app.db(|c| mail_accounts::table.count().get_result(c));
    assert_eq!(count, 0, "nothing saved");

    // Saved; the password is stored encrypted.
    let id = add_account(&app, &admin, &mb, false).await;
    let (enc_pw, enabled): (String, bool) = app.db(move |c| {
        mail_accounts::table
            .find(id)
            .select((mail_accounts::password_enc, mail_accounts::enabled))
            .first(c)
    });
    assert!(enabled && !enc_pw.contains(&mb.password));
    let list = admin.get(ACCOUNTS).await;
    assert_eq!(
        list.texts("#accounts .address"),
        std::slice::from_ref(&mb.user)
    );
    // The same mailbox twice is refused.
    let again = admin
        .post_form(ACCOUNTS, &account_form(&mb, &port, "Again"))
        .await;
    assert_eq!(again.status, 422);
    assert!(!again.field_error("address").is_empty());

    // Editing without a password keeps the stored one (and verifies with it).
    let edit = admin.get(&format!("{ACCOUNTS}/{id}")).await;
    assert_eq!(edit.status, 200);
    let mut form = account_form(&mb, &port, "Renamed");
    form.retain(|(k, _)| *k != "password");
    let r = admin.post_form(&format!("{ACCOUNTS}/{id}"), &form).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let name: String = app.db(move |c| {
        mail_accounts::table
            .find(id)
            .select(mail_accounts::display_name)
            .first(c)
    });
    assert_eq!(name, "Renamed");

    // Only a disabled account can be deleted.
    let r = admin
        .post_form(&format!("{ACCOUNTS}/{id}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    let page = admin.get(ACCOUNTS).await;
    assert!(
        page.text
            .contains("Disable the account before deleting it.")
    );
    assert_eq!(page.texts("#accounts .address").len(), 1);
    let r = admin
        .post_form(&format!("{ACCOUNTS}/{id}/disable"), &[])
        .await;
    assert_eq!(r.status, 303);
    assert!(matches!(
        opencontact::channels::email::import::poll_account_once(&app.state, id).await,
        Err(opencontact::channels::email::import::PollError::Disabled)
    ));
    let r = admin
        .post_form(&format!("{ACCOUNTS}/{id}/delete"), &[])
        .await;
    assert_eq!(r.status, 303);
    let count: i64 = app.db(|c| mail_accounts::table.count().get_result(c));
    assert_eq!(count, 0);
}

#[actix_web::test]
async fn the_mail_pages_refuse_who_may_not_see_them() {
    let (app, fx, admin) = start().await;
    let mb = new_mailbox();
    let id = add_account(&app, &admin, &mb, false).await;
    let kim = app.create_member("kim", "Kim Agent", false);
    app.add_to_service(fx.service_id, kim, "agent");
    let agent = app.login("kim").await;
    // A member of another service only.
    let other = opencontact::tenancy::service::NewService {
        code: "other".into(),
        kind: ServiceKind::Consultation,
        name: "Other".into(),
        languages: vec![opencontact::i18n::Lang::En],
        default_lang: opencontact::i18n::Lang::En,
        timezone: "UTC".into(),
        editor_type: opencontact::db::types::EditorType::Html,
    };
    let other_sid = app
        .state
        .db
        .write_blocking(|c| opencontact::tenancy::service::Service::create(c, &other))
        .unwrap();
    let lee = app.create_member("lee", "Lee Other", false);
    app.add_to_service(other_sid, lee, "admin");
    let outsider = app.login("lee").await;
    let anonymous = app.client();
    let gets = [
        ACCOUNTS.to_string(),
        format!("{ACCOUNTS}/new"),
        format!("{ACCOUNTS}/{id}"),
        QUARANTINE.to_string(),
        OUTBOX.to_string(),
    ];
    for path in &gets {
        assert_eq!(admin.get(path).await.status, 200, "{path}");
        assert_eq!(agent.get(path).await.status, 403, "{path}");
        assert_eq!(outsider.get(path).await.status, 403, "{path}");
        let r = anonymous.get(path).await;
        assert_eq!(r.status, 303, "{path}");
        assert!(r.location().starts_with("/login"), "{path}");
    }
    assert_eq!(agent.get("/admin/outbox").await.status, 403);
    let posts = [
        ACCOUNTS.to_string(),
        format!("{ACCOUNTS}/{id}"),
        format!("{ACCOUNTS}/{id}/disable"),
        format!("{ACCOUNTS}/{id}/enable"),
        format!("{ACCOUNTS}/{id}/delete"),
        format!("{ACCOUNTS}/{id}/poll"),
        format!("{OUTBOX}/1/retry"),
    ];
    for path in &posts {
        assert_eq!(agent.post_form(path, &[]).await.status, 403, "{path}");
        assert_eq!(outsider.post_form(path, &[]).await.status, 403, "{path}");
        assert_eq!(
            admin.post_form_raw(path, &[], &[]).await.status,
            403,
            "{path} without CSRF"
        );
    }
    // Another service's account is not reachable through this service.
    assert_eq!(
        outsider
            .get(&format!("/other/console/settings/mail-accounts/{id}"))
            .await
            .status,
        404
    );
    let enabled: bool = app.db(move |c| {
        mail_accounts::table
            .find(id)
            .select(mail_accounts::enabled)
            .first(c)
    });
    assert!(enabled, "nothing changed");
    // "Fetch now" reports what it did.
    mb.append(&plain(
        "now@example.com",
        "Now",
        "<now-1@example.com>",
        "",
        "x",
    ))
    .await;
    let r = admin.post_form(&format!("{ACCOUNTS}/{id}/poll"), &[]).await;
    assert_eq!(r.status, 303);
    let page = admin.get(ACCOUNTS).await;
    // (The background poller may be importing it at that very moment.)
    assert!(
        page.text.contains("Mail fetched:") || page.text.contains("being checked right now"),
        "{}",
        page.text
    );
    eventually(|| all_tickets(&app).len() == 1, "the ticket").await;
}

fn queue(app: &TestApp, service_id: Option<i64>, n: usize) -> Vec<i64> {
    app.db(move |c| {
        (0..n)
            .map(|i| {
                outbox::enqueue(
                    c,
                    &NewMail {
                        service_id,
                        ticket_id: None,
                        purpose: "notification".into(),
                        mail: OutgoingMail {
                            to: format!("r{i}@example.com"),
                            subject: format!("Mail {i}"),
                            text: "t".into(),
                            html: "<p>t</p>".into(),
                            ..OutgoingMail::default()
                        },
                    },
                )
                .map(|(id, _)| id)
            })
            .collect()
    })
}

fn statuses(app: &TestApp) -> Vec<(i64, String, i32, String)> {
    app.db(|c| {
        mail_outbox::table
            .order(mail_outbox::id.asc())
            .select((
                mail_outbox::id,
                mail_outbox::status,
                mail_outbox::attempts,
                mail_outbox::last_error,
            ))
            .load(c)
    })
}

#[actix_web::test]
async fn the_outbox_page_lists_pages_and_retries_failed_mail() {
    let (app, fx, admin) = start().await;
    app.smtp.set_refuse(true);
    let ids = queue(&app, Some(fx.service_id), 55);
    app.run_pending_jobs().await;
    assert!(
        statuses(&app).iter().all(|s| s.1 == "failed"),
        "the refusals"
    );
    let page = admin.get(OUTBOX).await;
    assert_eq!(page.status, 200);
    let rows = page.texts("#outbox tbody tr .recipient");
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0], "r54@example.com", "newest first");
    assert!(page.texts("#outbox .last-error")[0].contains("554"));
    let next = page.doc();
    let sel = scraper::Selector::parse("a[rel=next]").unwrap();
    let href = next
        .select(&sel)
        .next()
        .and_then(|a| a.value().attr("href"))
        .unwrap()
        .to_string();
    let second = admin.get(&href).await;
    assert_eq!(second.texts("#outbox tbody tr").len(), 5);
    // Filters.
    assert_eq!(
        admin
            .get(&format!("{OUTBOX}?status=sent"))
            .await
            .texts("#outbox tbody tr")
            .len(),
        0
    );
    // The organization's outbox does not show service mail.
    let org = admin.get("/admin/outbox").await;
    assert_eq!(org.status, 200);
    assert!(org.has("p.empty"));
    assert_eq!(
        admin
            .post_form(&format!("/admin/outbox/{}/retry", ids[0]), &[])
            .await
            .status,
        303
    );
    assert_eq!(
        statuses(&app)[0].1,
        "failed",
        "not retried from the wrong scope"
    );

    // Retry one: delivered once the relay accepts again.
    app.smtp.set_refuse(false);
    let r = admin
        .post_form(&format!("{OUTBOX}/{}/retry", ids[3]), &[])
        .await;
    assert_eq!(r.status, 303);
    app.run_pending_jobs().await;
    let mails = app.smtp.received();
    assert_eq!(mails[0].to, ["r3@example.com"]);
    assert_eq!(statuses(&app)[3].1, "sent", "the retried mail");
    // Retrying a mail that is not failed is refused with a message.
    let r = admin
        .post_form(&format!("{OUTBOX}/{}/retry", ids[3]), &[])
        .await;
    assert_eq!(r.status, 303);
    let page: Resp = admin.get(&r.location()).await;
    assert!(page.text.contains("Only a failed mail can be sent again."));
}

#[actix_web::test]
async fn a_deferring_relay_delays_mail_without_losing_it_and_a_restart_resends_it_once() {
    let (app, fx, _admin) = start().await;
    app.smtp.set_defer(true);
    let ids = queue(&app, Some(fx.service_id), 1);
    app.run_pending_jobs().await;
    assert!(statuses(&app)[0].2 >= 1, "a deferred attempt");
    let s = &statuses(&app)[0];
    assert_eq!(s.1, "pending", "a 4xx answer is retried later");
    assert!(s.3.contains("451"), "{}", s.3);
    assert!(app.smtp.received().is_empty());
    // The relay accepts again; the retry is due.
    app.smtp.set_defer(false);
    let id = ids[0];
    app.db(move |c| {
        diesel::update(mail_outbox::table.find(id))
            .set(mail_outbox::next_attempt_at.eq(opencontact::db::now()))
            .execute(c)
    });
    app.run_pending_jobs().await;
    assert_eq!(app.smtp.received().len(), 1);

    // A worker that claimed a mail and died: after its lease, a new worker on the same
    // database (a restarted server) sends it, with the same Message-ID, exactly once.
    let (_, mid) = app.db(move |c| {
        let (id, mid) = outbox::enqueue(
            c,
            &NewMail {
                service_id: Some(fx.service_id),
                ticket_id: None,
                purpose: "notification".into(),
                mail: OutgoingMail {
                    to: "crash@example.com".into(),
                    subject: "Claimed, then the worker died".into(),
                    text: "t".into(),
                    html: "<p>t</p>".into(),
                    ..OutgoingMail::default()
                },
            },
        )?;
        // Claimed in the same transaction, so no live worker gets it first; then the lease
        // runs out.
        let claimed = opencontact::db::queue::claim(c, &outbox::QUEUE, opencontact::db::now(), 10)?;
        assert_eq!(claimed.len(), 1);
        diesel::update(mail_outbox::table.find(id))
            .set(
                mail_outbox::next_attempt_at
                    .eq(opencontact::db::now() - chrono::TimeDelta::seconds(1)),
            )
            .execute(c)?;
        Ok((id, mid))
    });
    let config = app.state.config.clone();
    let db = opencontact::Db::connect(&config.database_url, 2).unwrap();
    let restarted = opencontact::AppState {
        db,
        config,
        secret: app.state.secret.clone(),
    };
    opencontact::jobs::Runner::new(&restarted)
        .unwrap()
        .run_pending(&restarted)
        .await
        .unwrap();
    app.run_pending_jobs().await;
    let mails = app.smtp.received();
    let with_id: Vec<_> = app
        .smtp
        .received()
        .into_iter()
        .filter(|m| m.data.contains(&mid))
        .collect();
    assert_eq!(with_id.len(), 1, "sent once");
    assert_eq!(mails.len(), 2);
    assert_eq!(statuses(&app)[1].1, "sent");
}

/// Issue 5's done-when, end to end: a Korean customer mails the support address with an
/// attachment; the receipt and the answer leave under the service's sender; the agent answers
/// in the console's processing form; the customer's reply to that answer lands in the same
/// ticket; mail from the service's own sender address is never turned into a ticket.
#[actix_web::test]
async fn a_korean_mail_is_answered_in_the_console_and_the_reply_lands_in_the_same_ticket() {
    use crate::ticket_detail::{form_state, page_path, process_form};

    let (app, _fx, admin) = start().await;
    let r = admin
        .post_form(
            "/demo/console/settings/mail-layouts/sender",
            &[
                ("sender_name", "Acme 고객센터"),
                ("sender_address", "help@acme.test"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let mb = new_mailbox();
    let account = add_account(&app, &admin, &mb, false).await;
    mb.append(&korean_mail("<kr-e2e@example.kr>")).await;
    poll(&app, account).await;
    let t = all_tickets(&app).remove(0);
    assert_eq!(t.channel.as_str(), "email");
    assert_eq!(t.subject, "환불 문의드립니다");

    // The receipt leaves under the service's sender, threaded to the customer's mail.
    let mails = app.smtp.wait_for(1).await;
    assert_eq!(mails[0].from, "help@acme.test");
    assert_eq!(mails[0].to, ["minsu@example.kr"]);
    let receipt = mails[0].parsed();
    let from = receipt.from().and_then(|f| f.first()).expect("From");
    assert_eq!(from.name(), Some("Acme 고객센터"));
    assert_eq!(receipt.in_reply_to().as_text(), Some("kr-e2e@example.kr"));

    // The agent sees the message and its attachment in the console and answers it.
    let page = admin.get(&page_path(&t.public_id)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("주문한 상품을 환불하고 싶습니다."));
    assert!(page.text.contains("영수증.png"), "the attachment is listed");
    let (version, token) = form_state(&page);
    let r = admin
        .post_multipart(
            &format!("{}/process", page_path(&t.public_id)),
            process_form(
                &version,
                &token,
                "resolve",
                "<p>환불 처리해 드렸습니다.</p>",
            ),
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(app.ticket(t.id).status.as_str(), "solved");
    let mails = app.smtp.wait_for(2).await;
    let answer = &mails[1];
    assert_eq!(answer.from, "help@acme.test");
    assert!(
        answer.html().contains("환불 처리해 드렸습니다."),
        "{}",
        answer.data
    );
    assert!(answer.subject().ends_with(&format!("[#{}]", t.public_id)));
    let parsed = answer.parsed();
    assert_eq!(parsed.in_reply_to().as_text(), Some("kr-e2e@example.kr"));
    let answer_mid = format!("<{}>", parsed.message_id().expect("Message-ID"));
    let references = parsed.references().as_text_list().unwrap_or_default();
    assert!(
        references.contains(&"kr-e2e@example.kr".into()),
        "{references:?}"
    );

    // The customer replies to the answer (In-Reply-To names it, the subject is re-encoded):
    // the reply lands in the same ticket and reopens it.
    let subject = word_b("UTF-8", format!("RE: {}", answer.subject()).as_bytes());
    mb.append(&plain(
        "=?UTF-8?B?6rmA66+87IiY?= <minsu@example.kr>",
        &subject,
        "<kr-e2e-reply@example.kr>",
        &format!("In-Reply-To: {answer_mid}\r\nReferences: <kr-e2e@example.kr> {answer_mid}\r\n"),
        "확인했습니다. 그런데 영수증이 아직 안 왔어요.",
    ))
    .await;
    // Our own sender address mailing the support box is never a ticket (no loop).
    mb.append(&plain(
        "Acme 고객센터 <HELP@acme.test>",
        "Re: 환불 문의드립니다",
        "<own-sender@acme.test>",
        "",
        "a copy of our own answer",
    ))
    .await;
    poll(&app, account).await;
    assert_eq!(all_tickets(&app).len(), 1, "no new ticket");
    assert_eq!(
        app.ticket(t.id).status.as_str(),
        "open",
        "the solved ticket reopens"
    );
    let page = admin.get(&page_path(&t.public_id)).await;
    assert!(page.text.contains("영수증이 아직 안 왔어요."));
    let reasons: Vec<String> = quarantined(&app).into_iter().map(|q| q.0).collect();
    assert_eq!(reasons, ["own_address"]);
    // A reply is no new inquiry: no second receipt.
    assert_eq!(receipts(&app).len(), 1);
}
