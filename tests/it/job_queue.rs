//! The one job queue across application instances: two instances sharing one database (two
//! nodes of one installation) racing for the same jobs run each exactly once, and work queued
//! by one wakes the other's workers at once (`LISTEN/NOTIFY` on PostgreSQL, in-process on
//! SQLite).

use std::collections::HashSet;
use std::time::Duration;

use chrono::TimeDelta;
use diesel::prelude::*;
use opencontact::db::queue::{self, JobKind, Outcome, QueueTable};
use opencontact::db::schema::mail_outbox;
use opencontact::notify::outbox::{self, NewMail};
use opencontact::notify::smtp::OutgoingMail;

use crate::support::TestApp;

fn mail(i: usize) -> NewMail {
    NewMail {
        service_id: None,
        ticket_id: None,
        purpose: "notification".into(),
        mail: OutgoingMail {
            to: format!("r{i}@example.com"),
            subject: format!("Mail {i}"),
            text: "t".into(),
            html: "<p>t</p>".into(),
            ..OutgoingMail::default()
        },
    }
}

#[derive(Debug, QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    #[expect(dead_code, reason = "only counted")]
    id: i64,
}

/// A queue table of the test's own, so no application worker touches it.
const RACE: QueueTable = QueueTable {
    kind: JobKind::Scheduled,
    table: "race_jobs",
    status: "status",
    due: "run_at",
    attempts: "attempts",
    error: None,
    pending: "pending",
    running: "running",
    done: "done",
    dead: "dead",
    max_attempts: 3,
    lease: TimeDelta::minutes(5),
    error_limit: 0,
};

#[actix_web::test]
async fn two_instances_claiming_the_same_jobs_take_each_exactly_once() {
    let a = TestApp::spawn().await;
    let b = TestApp::spawn_sharing(&a, Duration::from_secs(2)).await;
    const JOBS: i64 = 300;
    a.db(|c| {
        diesel::sql_query(
            "CREATE TABLE race_jobs (id BIGINT PRIMARY KEY, status TEXT NOT NULL, \
             run_at TIMESTAMP NOT NULL, attempts INTEGER NOT NULL)",
        )
        .execute(c)?;
        for id in 1..=JOBS {
            diesel::sql_query(format!(
                "INSERT INTO race_jobs VALUES ({id}, 'pending', '2000-01-01 00:00:00', 0)"
            ))
            .execute(c)?;
        }
        Ok(())
    });
    // Two claimers per instance, each on its own thread and pooled connection.
    let claimers: Vec<_> = [&a, &a, &b, &b]
        .into_iter()
        .map(|app| {
            let db = app.state.db.clone();
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                let mut empty_rounds = 0;
                let mut tries = 0;
                while empty_rounds < 3 && tries < 10_000 {
                    tries += 1;
                    let got = db.write_blocking(|c| {
                        let claimed = queue::claim(c, &RACE, opencontact::db::now(), 7)?;
                        for j in &claimed {
                            let settled =
                                queue::finish(c, &RACE, j, opencontact::db::now(), Outcome::Done)?;
                            assert_eq!(settled, queue::Settled::Done);
                        }
                        Ok(claimed)
                    });
                    match got {
                        Ok(claimed) if claimed.is_empty() => empty_rounds += 1,
                        Ok(claimed) => mine.extend(claimed.into_iter().map(|j| j.id)),
                        // SQLite may refuse a writer of the other instance as busy; the claim
                        // rolled back, so it is simply tried again.
                        Err(_) => {}
                    }
                }
                mine
            })
        })
        .collect();
    let mut all = Vec::new();
    for c in claimers {
        all.extend(c.join().expect("claimer"));
    }
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "a job was claimed twice");
    assert_eq!(distinct.len() as i64, JOBS, "every job was claimed");
    let not_done: Vec<Id> = a.db(|c| {
        diesel::sql_query("SELECT id FROM race_jobs WHERE status <> 'done' OR attempts <> 1")
            .load(c)
    });
    assert!(not_done.is_empty(), "{} jobs not done once", not_done.len());

    // The same through the real workers: mail queued in one transaction is sent once each,
    // whichever instance (its background workers or a test's run) gets it.
    const MAILS: usize = 40;
    let ids: Vec<i64> = a.db(|c| {
        (0..MAILS)
            .map(|i| outbox::enqueue(c, &mail(i)).map(|(id, _)| id))
            .collect()
    });
    let (x, y) = tokio::join!(a.run_pending_jobs(), b.run_pending_jobs());
    assert!(x + y <= MAILS, "{x} + {y} jobs ran");
    a.run_pending_jobs().await;
    b.run_pending_jobs().await;
    let got = a.smtp.wait_for(MAILS).await;
    let subjects: HashSet<String> = got.iter().map(|m| m.subject()).collect();
    assert_eq!(got.len(), MAILS, "no mail was sent twice");
    assert_eq!(subjects.len(), MAILS);
    let rows: Vec<(String, i32)> = a.db(move |c| {
        mail_outbox::table
            .filter(mail_outbox::id.eq_any(ids))
            .select((mail_outbox::status, mail_outbox::attempts))
            .load(c)
    });
    assert!(
        rows.iter().all(|r| *r == ("sent".to_string(), 1)),
        "{rows:?}"
    );
}

#[actix_web::test]
async fn work_queued_by_one_instance_wakes_the_other() {
    let mut a = TestApp::spawn().await;
    // The second instance looks for work by itself only once a minute: only a wake-up makes it
    // send within the test's bounded wait.
    let b = TestApp::spawn_sharing(&a, Duration::from_secs(60)).await;
    // Both supervisors running: the mail goes out once.
    a.db(|c| outbox::enqueue(c, &mail(0)));
    assert_eq!(a.smtp.wait_for(1).await.len(), 1);
    // The first instance's workers are gone; what it queues is sent by the second.
    a.stop_jobs();
    a.db(|c| outbox::enqueue(c, &mail(1)));
    let got = a.smtp.wait_for(2).await;
    assert_eq!(got[1].subject(), "Mail 1");
    b.run_pending_jobs().await;
    assert_eq!(a.smtp.received().len(), 2, "each mail once");
}
