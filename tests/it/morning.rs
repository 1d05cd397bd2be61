//! Issue 4's done-when in a real browser: two agents and an administrator work a morning's
//! inquiries — pull, answer with a template, hold, forward, transfer one to issue management and
//! finish it when the answer comes back, mark spam, complete — and every step shows up in the
//! timeline, in the customer's mail and in the help-center inquiry history.

use diesel::prelude::*;
use opencontact::db::schema::tickets;
use opencontact::db::types::ServiceKind;
use opencontact::tickets::lifecycle::TransferState;
use opencontact::tickets::{Channel, Status};

use crate::hc_history::sign_in as customer_sign_in;
use crate::support::browser::Browser;
use crate::support::smtp::ReceivedMail;
use crate::support::{Client, TestApp};
use crate::ticket_detail::{add_category, create_service, page_path, set_member};

/// The timeline's event lines of a ticket, as the administrator sees them.
async fn events(admin: &Client, path: &str) -> String {
    let page = admin.get(path).await;
    assert_eq!(page.status, 200, "{}", page.text);
    page.texts("#timeline .tl-event").join(" | ")
}

/// The mails the sink received for one customer.
fn mails_to(app: &TestApp, to: &str) -> Vec<ReceivedMail> {
    app.smtp
        .received()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == to))
        .collect()
}

/// Opens a ticket from a console list by clicking its subject.
async fn open_from_list(b: &Browser, base: &str, list: &str, subject: &str) {
    b.open(base, list).await;
    b.wait_css(".tc-subject a").await;
    let link = b
        .client
        .find(fantoccini::Locator::XPath(&format!(
            "//*[contains(@class,'tc-subject')]//a[contains(normalize-space(.), '{subject}')]"
        )))
        .await
        .unwrap_or_else(|e| panic!("{subject} is not in {list}: {e}"));
    b.client
        .execute(
            "arguments[0].scrollIntoView({block: 'center'})",
            vec![serde_json::to_value(&link).unwrap()],
        )
        .await
        .unwrap();
    link.click().await.unwrap();
    b.wait_text("#ticket-subject", subject).await;
}

/// Pulls the open ticket page's ticket to the signed-in agent.
async fn pull(b: &Browser, agent_name: &str) {
    b.click("#pull-form button[type=submit]").await;
    b.wait_text("#ticket-status", "Processing").await;
    if !agent_name.is_empty() {
        b.wait_text("#ticket-assignee", agent_name).await;
    }
}

/// Types an answer into the reply editor, picks the action and processes.
async fn answer(b: &Browser, text: &str, action: &str, status: &str) {
    if !text.is_empty() {
        b.fill("#process-form .ql-editor", text).await;
    }
    b.click(&format!("#process-form input[name=action][value={action}]"))
        .await;
    b.click("#process-submit").await;
    b.wait_text("#ticket-status", status).await;
}

#[actix_web::test]
async fn two_agents_and_an_administrator_work_a_mornings_inquiries_in_the_browser() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let ann_id = app.create_member("ann", "Ann Agent", false);
    app.add_to_service(sid, ann_id, "agent");
    set_member(&app, sid, ann_id, "perm_forward", true);
    let ben_id = app.create_member("ben", "Ben Baker", false);
    app.add_to_service(sid, ben_id, "agent");
    let im_sid = create_service(&app, "issues", ServiceKind::Issue);
    add_category(&app, im_sid, "intake", "Payments bug");
    app.add_to_service(im_sid, fx.admin_id, "admin");
    let refund_type = add_category(&app, sid, "resolution", "Refund");
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            "/demo/console/settings/templates",
            &[
                ("title", "Refund done"),
                ("scope", "service"),
                ("search_code", "REFUND"),
                (
                    "body_html",
                    "<p>Dear #{customerName}, your refund for ticket #{ticketId} is on its way.</p>",
                ),
                ("resolution_id", &refund_type.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);

    let (refund, refund_pid) = app.create_ticket(sid, "Refund for order 1001", "alice@example.com");
    let (printer, printer_pid) = app.create_ticket(sid, "Printer jam", "bob@example.com");
    let (charged, charged_pid) = app.create_ticket(sid, "Charged twice", "carol@example.com");
    let (pills, pills_pid) = app.create_ticket(sid, "Cheap pills", "spam@example.net");
    let unassigned = "/demo/console/tickets?view=unassigned";

    // Ann pulls the refund ticket and answers it with the template of its resolution type.
    let ann = Browser::start().await;
    ann.sign_in(&app.base, "ann", unassigned).await;
    open_from_list(&ann, &app.base, unassigned, "Refund for order 1001").await;
    pull(&ann, "Ann Agent").await;
    ann.select("#f-resolution", &refund_type.to_string()).await;
    ann.wait_text("#template-list", "Refund done").await;
    ann.click("[data-template-insert]").await;
    ann.wait_text("#process-form .ql-editor", "your refund for ticket")
        .await;
    answer(&ann, "", "resolve", "Resolved").await;
    ann.wait_text("#timeline", "is on its way").await;

    // Ann holds the printer ticket while she checks with the warehouse.
    open_from_list(&ann, &app.base, unassigned, "Printer jam").await;
    pull(&ann, "Ann Agent").await;
    answer(
        &ann,
        "We are checking with the warehouse.",
        "hold",
        "On hold",
    )
    .await;

    // Ann pulls the double charge and forwards it to Ben.
    open_from_list(&ann, &app.base, unassigned, "Charged twice").await;
    pull(&ann, "Ann Agent").await;
    ann.click("#forward-dialog summary").await;
    ann.select("#fw-agent", &ben_id.to_string()).await;
    ann.click("#forward-dialog button[type=submit]").await;
    ann.wait_text("#ticket-assignee", "Ben Baker").await;
    ann.close().await;

    // Ben finds it in his queue and transfers it to issue management.
    let ben = Browser::start().await;
    ben.sign_in(&app.base, "ben", "/demo/console/tickets").await;
    open_from_list(&ben, &app.base, "/demo/console/tickets", "Charged twice").await;
    ben.click("#transfer-link").await;
    ben.click("#im-services a").await;
    ben.click("#im-types a").await;
    ben.fill("#transfer-form [name=subject]", "Double charge on card")
        .await;
    ben.fill(
        "#f-content",
        "The customer was charged twice for order 1002.",
    )
    .await;
    ben.click("#transfer-form button[type=submit]").await;
    ben.wait_text("#ticket-status", "Transfer in progress")
        .await;
    let im_id = app
        .ticket(charged)
        .transferred_to_ticket_id
        .expect("an issue ticket");
    let im = app.ticket(im_id);
    assert_eq!(
        (im.service_id, im.channel(), im.status()),
        (im_sid, Channel::Transfer, Status::New)
    );

    // Ben marks the pills ticket as spam: it moves to the spam box.
    open_from_list(&ben, &app.base, unassigned, "Cheap pills").await;
    pull(&ben, "Ben Baker").await;
    ben.click("#process-form input[name=action][value=internal]")
        .await;
    ben.select("#f-reason", "spam").await;
    ben.click("#process-submit").await;
    ben.wait_text("#ticket-status", "Spam box").await;

    // The administrator answers the issue ticket in issue management.
    let boss = Browser::start().await;
    let im_unassigned = "/issues/console/tickets?view=unassigned";
    boss.sign_in(&app.base, "admin", im_unassigned).await;
    open_from_list(&boss, &app.base, im_unassigned, "Double charge on card").await;
    boss.wait_text("#origin-history", "Please help.").await;
    pull(&boss, "").await;
    answer(
        &boss,
        "Finance refunded the second charge.",
        "resolve",
        "Resolved",
    )
    .await;
    assert_eq!(
        app.ticket(charged).transfer_state(),
        TransferState::IssueAnswered
    );

    // Ben sees the answer come back and tells the customer.
    ben.open(&app.base, &page_path(&charged_pid)).await;
    ben.wait_text("#ticket-status", "Transfer answered").await;
    answer(
        &ben,
        "The second charge was refunded to your card.",
        "resolve",
        "Resolved",
    )
    .await;
    ben.close().await;

    // The administrator completes the answered refund ticket (confirming the dialog), then
    // folds the template frame and widens the screen; the page remembers it.
    boss.open(&app.base, &page_path(&refund_pid)).await;
    boss.click("#complete-form button[type=submit]").await;
    boss.client.accept_alert().await.unwrap();
    boss.wait_text("#ticket-status", "Completed").await;
    boss.click("#templates-panel [data-frame-toggle]").await;
    boss.click("#widescreen-toggle").await;
    boss.open(&app.base, &page_path(&refund_pid)).await;
    boss.wait_css("#templates-panel.frame.collapsed").await;
    boss.wait_css("body.widescreen").await;
    let toggle = boss
        .wait_css("#templates-panel [data-frame-toggle]")
        .await
        .attr("aria-expanded")
        .await
        .unwrap();
    assert_eq!(toggle.as_deref(), Some("false"));
    boss.screenshot("morning-completed").await;
    boss.close().await;

    // The tickets ended where the morning put them.
    let state = |id: i64| {
        app.db(move |c| {
            tickets::table
                .find(id)
                .select((tickets::status, tickets::is_spam, tickets::assignee_id))
                .first::<(String, bool, Option<i64>)>(c)
        })
    };
    assert_eq!(state(refund), ("closed".into(), false, Some(ann_id)));
    assert_eq!(state(printer), ("reply".into(), false, Some(ann_id)));
    assert_eq!(state(charged), ("solved".into(), false, Some(ben_id)));
    assert!(state(pills).1, "in the spam box");

    // Every step is in the timeline.
    let refund_events = events(&admin, &page_path(&refund_pid)).await;
    for e in [
        "Pulled by Ann Agent",
        "Resolution type: Refund",
        "Completed",
    ] {
        assert!(refund_events.contains(e), "{e} in {refund_events}");
    }
    let charged_events = events(&admin, &page_path(&charged_pid)).await;
    for e in [
        "Pulled by Ann Agent",
        "Forwarded to Ben Baker",
        "Transferred to issue management",
        "Issue management answered",
    ] {
        assert!(charged_events.contains(e), "{e} in {charged_events}");
    }
    let pills_page = admin.get(&page_path(&pills_pid)).await;
    assert!(
        pills_page
            .texts("#timeline .tl-event")
            .join(" ")
            .contains("Resolved internally: Spam")
    );
    let spam_box = admin.get("/demo/console/tickets?view=spam").await;
    assert_eq!(spam_box.texts(".tc-subject a"), ["Cheap pills"]);

    // The customers got exactly their answers; spam and issue management mailed nobody.
    let alice = mails_to(&app, "alice@example.com");
    assert_eq!(alice.len(), 1);
    assert!(alice[0].subject().ends_with(&format!("[#{refund_pid}]")));
    assert!(
        alice[0]
            .html()
            .contains("Dear Casey Customer, your refund for ticket")
    );
    let bob = mails_to(&app, "bob@example.com");
    assert_eq!(bob.len(), 1);
    assert!(
        bob[0]
            .text()
            .contains("We are checking with the warehouse.")
    );
    let carol = mails_to(&app, "carol@example.com");
    assert_eq!(carol.len(), 1);
    assert!(carol[0].text().contains("The second charge was refunded"));
    assert!(!carol[0].text().contains("Finance refunded"));
    assert!(mails_to(&app, "spam@example.net").is_empty());
    assert_eq!(app.smtp.received().len(), 3);

    // The help-center history shows each customer where their inquiry stands.
    let visitor = customer_sign_in(&app, "alice@example.com", 3).await;
    let list = visitor.get("/demo/hc/ticket/list/").await;
    assert_eq!(list.texts("#history-list .hc-status"), ["Closed"]);
    let detail = visitor.get(&format!("/demo/hc/ticket/{refund_pid}/")).await;
    assert!(detail.text.contains("is on its way"));
    let visitor = customer_sign_in(&app, "bob@example.com", 4).await;
    let list = visitor.get("/demo/hc/ticket/list/").await;
    assert_eq!(
        list.texts("#history-list .hc-status"),
        ["Needs additional check"]
    );
    let detail = visitor
        .get(&format!("/demo/hc/ticket/{printer_pid}/"))
        .await;
    assert!(detail.text.contains("We are checking with the warehouse."));
    let visitor = customer_sign_in(&app, "carol@example.com", 5).await;
    let detail = visitor
        .get(&format!("/demo/hc/ticket/{charged_pid}/"))
        .await;
    assert_eq!(detail.status, 200);
    assert!(detail.text.contains("The second charge was refunded"));
    assert!(
        !detail.text.contains("Finance refunded"),
        "issue management's answer stays internal"
    );
    assert!(!detail.text.contains("charged twice for order 1002"));
}
