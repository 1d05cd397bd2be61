//! The ticket lifecycle (SPEC §7.2) and the mail outbox, driven directly against the database
//! and a real SMTP sink.

use diesel::prelude::*;
use opencontact::db::schema::{mail_outbox, ticket_events, tickets};
use opencontact::db::types::ServiceKind;
use opencontact::notify::outbox::{self, NewMail};
use opencontact::notify::smtp::OutgoingMail;
use opencontact::tickets::lifecycle::{
    self, Action, AssignKind, CustomerMail, InternalReason, LifecycleError, ProcessInput,
    TransferState,
};
use opencontact::tickets::{Priority, Status};

use crate::support::TestApp;

fn input(action: Action, actor: i64, token: Option<&str>) -> ProcessInput<'_> {
    ProcessInput {
        action,
        actor,
        body: "<p>Answer</p>",
        files: &[],
        client_token: token,
        resolution_category_id: None,
        priority: None,
        service_kind: ServiceKind::Consultation,
    }
}

fn events(app: &TestApp, id: i64) -> Vec<String> {
    app.db(|c| {
        ticket_events::table
            .filter(ticket_events::ticket_id.eq(id))
            .order(ticket_events::id.asc())
            .select(ticket_events::kind)
            .load(c)
    })
}

#[actix_web::test]
async fn resolve_hold_comment_and_followup_follow_the_transition_table() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (id, _) = app.create_ticket(fx.service_id, "Printer", "casey@example.com");
    let t = app.ticket(id);
    assert_eq!(t.status(), Status::New);

    // A comment changes nothing but the timeline and sends no mail.
    let done = app
        .db(|c| Ok(lifecycle::process(c, &t, &input(Action::Comment, fx.admin_id, None)).unwrap()));
    assert_eq!(done.mail, None);
    let t = app.ticket(id);
    assert_eq!(t.status(), Status::New);
    assert_eq!(t.assignee_id, None);

    // Hold from `new` implicitly assigns the agent.
    let done = app.db(|c| {
        Ok(lifecycle::process(c, &t, &input(Action::Hold, fx.admin_id, Some("tok-1"))).unwrap())
    });
    assert_eq!(done.mail, Some(CustomerMail::Hold));
    let t = app.ticket(id);
    assert_eq!(t.status(), Status::Reply);
    assert_eq!(t.assignee_id, Some(fx.admin_id));

    // The same form submitted twice yields the first entry again.
    let again = app.db(|c| {
        Ok(lifecycle::process(c, &t, &input(Action::Hold, fx.admin_id, Some("tok-1"))).unwrap())
    });
    assert!(again.duplicate);
    assert_eq!(again.entry_id, done.entry_id);

    // A form loaded before the hold is stale now.
    let stale = app.db(|c| {
        let mut old = t.clone();
        old.version -= 1;
        Ok(lifecycle::process(
            c,
            &old,
            &input(Action::Resolve, fx.admin_id, None),
        ))
    });
    assert_eq!(stale, Err(LifecycleError::Stale));

    let mut with_priority = input(Action::Resolve, fx.admin_id, Some("tok-2"));
    with_priority.priority = Some(Priority::Urgent);
    let done = app.db(|c| Ok(lifecycle::process(c, &t, &with_priority).unwrap()));
    assert_eq!(done.mail, Some(CustomerMail::Resolve));
    let t = app.ticket(id);
    assert_eq!(t.status(), Status::Solved);
    assert_eq!(t.priority(), Priority::Urgent);
    assert!(t.solved_at.is_some());

    // A customer follow-up reopens a solved ticket with the same assignee.
    app.db(|c| Ok(lifecycle::customer_followup(c, &t, "<p>Still broken</p>", &[], None).unwrap()));
    let t = app.ticket(id);
    assert_eq!(t.status(), Status::Open);
    assert_eq!(t.assignee_id, Some(fx.admin_id));

    // Completing needs `solved`; afterwards nothing is possible any more.
    let refused = app.db(|c| Ok(lifecycle::complete(c, &t, fx.admin_id)));
    assert_eq!(refused, Err(LifecycleError::NotAllowed));
    app.db(|c| Ok(lifecycle::process(c, &t, &input(Action::Resolve, fx.admin_id, None)).unwrap()));
    let t = app.ticket(id);
    app.db(|c| Ok(lifecycle::complete(c, &t, fx.admin_id)))
        .unwrap();
    let t = app.ticket(id);
    assert_eq!(t.status(), Status::Closed);
    assert!(t.closed_at.is_some());
    let followup = app.db(|c| Ok(lifecycle::customer_followup(c, &t, "again", &[], None)));
    assert_eq!(followup, Err(LifecycleError::Closed));
    let answer = app.db(|c| {
        Ok(lifecycle::process(
            c,
            &t,
            &input(Action::Hold, fx.admin_id, None),
        ))
    });
    assert_eq!(answer.err(), Some(LifecycleError::Closed));

    let kinds = events(&app, id);
    for expected in [
        "created",
        "commented",
        "assigned",
        "status",
        "priority",
        "reopened",
        "completed",
    ] {
        assert!(
            kinds.iter().any(|k| k == expected),
            "{expected} missing in {kinds:?}"
        );
    }
}

#[actix_web::test]
async fn spam_box_restore_delete_and_auto_completion() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (id, _) = app.create_ticket(fx.service_id, "Cheap pills", "spam@example.com");
    let t = app.ticket(id);
    let reason = input(
        Action::InternalResolve(InternalReason::Spam),
        fx.admin_id,
        None,
    );
    assert_eq!(
        app.db(|c| Ok(lifecycle::process(c, &t, &reason).unwrap()))
            .mail,
        None
    );
    let t = app.ticket(id);
    assert!(t.is_spam);
    assert_eq!(lifecycle::agent_label_key(&t), "ticket.status.spam");
    // Nothing but restore or delete while in the spam box.
    let refused = app.db(|c| {
        Ok(lifecycle::assign(
            c,
            &t,
            Some(fx.admin_id),
            None,
            Some(fx.admin_id),
            AssignKind::Forward,
        ))
    });
    assert_eq!(refused, Err(LifecycleError::InSpam));
    app.db(|c| Ok(lifecycle::restore_spam(c, &t, fx.admin_id)))
        .unwrap();
    let t = app.ticket(id);
    assert!(!t.is_spam);
    assert_eq!(t.status(), Status::New);
    assert_eq!(t.internal_reason, None);

    app.db(|c| Ok(lifecycle::process(c, &t, &reason).unwrap()));
    let t = app.ticket(id);
    app.db(|c| Ok(lifecycle::delete_spam(c, &t).unwrap()));
    let left: i64 = app.db(|c| {
        tickets::table
            .filter(tickets::id.eq(id))
            .count()
            .get_result(c)
    });
    assert_eq!(left, 0);

    // Solved tickets past the cutoff complete automatically; recent ones stay.
    let (old, _) = app.create_ticket(fx.service_id, "Old", "a@example.com");
    let (recent, _) = app.create_ticket(fx.service_id, "Recent", "b@example.com");
    for id in [old, recent] {
        let t = app.ticket(id);
        app.db(|c| {
            Ok(lifecycle::process(c, &t, &input(Action::Resolve, fx.admin_id, None)).unwrap())
        });
    }
    let long_ago = opencontact::db::now() - chrono::TimeDelta::days(20);
    app.db(|c| {
        diesel::update(tickets::table.find(old))
            .set(tickets::solved_at.eq(Some(long_ago)))
            .execute(c)
    });
    let cutoff = opencontact::db::now() - chrono::TimeDelta::days(14);
    let n = app.db(|c| lifecycle::complete_solved_before(c, fx.service_id, cutoff, 100));
    assert_eq!(n, 1);
    assert_eq!(app.ticket(old).status(), Status::Closed);
    assert_eq!(app.ticket(recent).status(), Status::Solved);
}

#[actix_web::test]
async fn an_answered_issue_ticket_marks_its_consultation_ticket_answered() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let (cm, _) = app.create_ticket(fx.service_id, "Refund", "r@example.com");
    // An issue ticket in the same database stands in for the IM service's ticket.
    let (im, _) = app.create_ticket(fx.service_id, "Refund (issue)", "r@example.com");
    app.db(|c| {
        diesel::update(tickets::table.find(im))
            .set(tickets::origin_ticket_id.eq(Some(cm)))
            .execute(c)
    });
    let t = app.ticket(cm);
    app.db(|c| Ok(lifecycle::transferred(c, &t, fx.admin_id, im)))
        .unwrap();
    let t = app.ticket(cm);
    assert_eq!(t.transfer_state(), TransferState::IssueInProgress);
    assert_eq!(t.status(), Status::Open);
    assert_eq!(
        lifecycle::agent_label_key(&t),
        "ticket.status.transfer_in_progress"
    );
    let again = app.db(|c| Ok(lifecycle::transferred(c, &t, fx.admin_id, im)));
    assert_eq!(again, Err(LifecycleError::AlreadyTransferred));

    let issue = app.ticket(im);
    // Transferred tickets never take spam, abuse or duplicate, and never mail the customer.
    let mut refused = input(
        Action::InternalResolve(InternalReason::Duplicate),
        fx.admin_id,
        None,
    );
    refused.service_kind = ServiceKind::Issue;
    assert_eq!(
        app.db(|c| Ok(lifecycle::process(c, &issue, &refused))),
        Err(LifecycleError::ReasonNotAllowed)
    );
    let mut hold = input(Action::Hold, fx.admin_id, None);
    hold.service_kind = ServiceKind::Issue;
    assert_eq!(
        app.db(|c| Ok(lifecycle::process(c, &issue, &hold).unwrap()))
            .mail,
        None
    );
    let t = app.ticket(cm);
    assert_eq!(t.transfer_state(), TransferState::IssueAnswered);
    assert_eq!(
        lifecycle::agent_label_key(&t),
        "ticket.status.transfer_answered"
    );
}

#[actix_web::test]
async fn outbox_delivers_with_threading_headers_and_retries_after_refusal() {
    let app = TestApp::spawn().await;
    app.setup();
    let queue = |to: &str, subject: &str| {
        let mail = NewMail {
            service_id: None,
            ticket_id: None,
            purpose: "test".into(),
            mail: OutgoingMail {
                to: to.into(),
                subject: subject.into(),
                text: "plain".into(),
                html: "<p>html</p>".into(),
                in_reply_to: "<first@acme.test>".into(),
                references: "<first@acme.test>".into(),
                ..OutgoingMail::default()
            },
        };
        app.db(|c| outbox::enqueue(c, &mail))
    };
    let (_, mid) = queue("casey@example.com", "First");
    assert!(
        mid.starts_with('<') && mid.ends_with("@acme.test>"),
        "{mid}"
    );
    let got = app.smtp.wait_for(1).await;
    let parsed = got[0].parsed();
    assert_eq!(parsed.subject(), Some("First"));
    assert_eq!(format!("<{}>", parsed.message_id().unwrap()), mid);
    assert_eq!(parsed.in_reply_to().as_text(), Some("first@acme.test"));
    assert!(
        got[0].data.contains("References: <first@acme.test>"),
        "{}",
        got[0].data
    );

    // A deferring relay delays the mail; it stays queued with the reason and goes out later.
    app.smtp.set_defer(true);
    let (id, _) = queue("casey@example.com", "Second");
    let row = wait_row(&app, id, |s, attempts| s == "pending" && attempts >= 1).await;
    assert!(!row.1.is_empty(), "the reason is kept");
    app.smtp.set_defer(false);
    app.db(|c| {
        diesel::update(mail_outbox::table.find(id))
            .set(mail_outbox::next_attempt_at.eq(opencontact::db::now()))
            .execute(c)
    });
    app.run_pending_jobs().await;
    let got = app.smtp.wait_for(2).await;
    assert_eq!(got[1].subject(), "Second");
    wait_row(&app, id, |s, _| s == "sent").await;

    // A message that can never be sent fails at once and can be retried by hand; so does one
    // the relay refuses for good.
    let (bad, _) = queue("not an address", "Third");
    wait_row(&app, bad, |s, _| s == "failed").await;
    app.smtp.set_refuse(true);
    let (refused, _) = queue("casey@example.com", "Fourth");
    let (_, reason) = wait_row(&app, refused, |s, _| s == "failed").await;
    assert!(reason.contains("554"), "{reason}");
    app.smtp.set_refuse(false);
    assert!(app.db(|c| outbox::retry(c, bad)));
    assert!(
        !app.db(|c| outbox::retry(c, bad)),
        "only failed mail is retried"
    );
}

async fn wait_row(app: &TestApp, id: i64, ok: impl Fn(&str, i32) -> bool) -> (String, String) {
    app.run_pending_jobs().await;
    {
        let (status, error, attempts): (String, String, i32) = app.db(|c| {
            mail_outbox::table
                .find(id)
                .select((
                    mail_outbox::status,
                    mail_outbox::last_error,
                    mail_outbox::attempts,
                ))
                .first(c)
        });
        assert!(
            ok(&status, attempts),
            "outbox row {id} is {status} after {attempts} attempts"
        );
        (status, error)
    }
}

#[test]
fn backoff_doubles_up_to_an_hour() {
    assert_eq!(opencontact::db::queue::backoff(1).num_seconds(), 30);
    assert_eq!(opencontact::db::queue::backoff(2).num_seconds(), 60);
    assert_eq!(opencontact::db::queue::backoff(5).num_seconds(), 480);
    assert_eq!(opencontact::db::queue::backoff(8).num_seconds(), 3600);
}
