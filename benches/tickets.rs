//! Ticket-console benchmark: fills a service with realistic tickets (the `bench seed` generator),
//! then times every saved view's first page, the searches by e-mail, ticket ID and subject word,
//! the polling endpoint, and opening a ticket — the pages through the real server on a real port,
//! and opening a ticket also at the query level (the ticket, timeline, events, field values and
//! attachments) to show where the page's time goes.
//!
//! `cargo bench --bench tickets` (SQLite in a temporary directory) or with
//! `BENCH_DATABASE_URL=postgres://…` (an empty database, or one seeded before with
//! `BENCH_REUSE=1`). Sizes: `BENCH_TICKETS` (default 200000), `BENCH_REQUESTS` per page
//! (default 200). `BENCH_SQLITE=/path/bench.db` keeps the SQLite file; with `BENCH_REUSE=1` an
//! already seeded database is measured again without seeding. Figures are printed as a
//! Markdown table for the README; nothing here asserts on time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark aborts loudly on setup failure"
)]

use std::time::{Duration, Instant};

use diesel::prelude::*;
use opencontact::db::schema::tickets;
use opencontact::db::types::{CustomerId, ServiceId};
use opencontact::i18n::Lang;
use opencontact::tenancy::organization::SetupInput;
use opencontact::tenancy::service::Service;
use opencontact::tickets::console::seed::{self, SeedOptions};
use opencontact::{AppState, Config, Db, SecretKey};

const PASSWORD: &str = "Bench-password-1";

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

struct Stats {
    name: String,
    n: usize,
    p50: Duration,
    p95: Duration,
    p99: Duration,
    mean: Duration,
}

fn stats(name: &str, mut times: Vec<Duration>) -> Stats {
    times.sort();
    let pick = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    Stats {
        name: name.into(),
        n: times.len(),
        p50: pick(0.5),
        p95: pick(0.95),
        p99: pick(0.99),
        mean,
    }
}

/// Times GET requests cycling through `paths`.
async fn measure(
    client: &reqwest::Client,
    base: &str,
    name: &str,
    paths: &[String],
    n: usize,
) -> Stats {
    for path in paths.iter().take(5) {
        let r = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("request");
        assert!(
            r.status().is_success() || r.status().as_u16() == 204,
            "{path}: {}",
            r.status()
        );
        let _ = r.bytes().await;
    }
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let path = &paths[i % paths.len()];
        let t = Instant::now();
        let r = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("request");
        let status = r.status();
        let _ = r.bytes().await;
        times.push(t.elapsed());
        assert!(
            status.is_success() || status.as_u16() == 204,
            "{path}: {status}"
        );
    }
    stats(name, times)
}

/// Times what opening a ticket reads, at the query level.
fn measure_open(db: &Db, service_id: i64, ids: &[String], n: usize) -> Stats {
    let mut conn = db.get().expect("conn");
    let mut times = Vec::with_capacity(n);
    for i in 0..n + 5 {
        let pid = &ids[i % ids.len()];
        let t = Instant::now();
        let ticket = opencontact::tickets::Ticket::find_by_public_id(&mut conn, service_id, pid)
            .expect("ticket")
            .expect("exists");
        let entries = opencontact::tickets::entries_of(&mut conn, ticket.id).expect("entries");
        let values = opencontact::tickets::field_values_of(&mut conn, ticket.id).expect("values");
        let files = opencontact::tickets::attachments_of(&mut conn, ticket.id).expect("files");
        let events: Vec<(i64, String)> = opencontact::db::schema::ticket_events::table
            .filter(opencontact::db::schema::ticket_events::ticket_id.eq(ticket.id))
            .order(opencontact::db::schema::ticket_events::id.asc())
            .select((
                opencontact::db::schema::ticket_events::id,
                opencontact::db::schema::ticket_events::kind,
            ))
            .load(&mut conn)
            .expect("events");
        let customer = ticket
            .customer_id
            .map(|c| {
                opencontact::customers::Customer::find(
                    &mut conn,
                    ServiceId(service_id),
                    CustomerId(c),
                )
            })
            .transpose()
            .expect("customer");
        assert!(!entries.is_empty() && customer.is_some());
        let _ = (values, files, events);
        if i >= 5 {
            times.push(t.elapsed());
        }
    }
    stats(
        "Open a ticket (queries: ticket, customer, timeline, events, fields, files)",
        times,
    )
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

#[actix_web::main]
async fn main() {
    let n_tickets = env_num("BENCH_TICKETS", 200_000);
    let n_requests = env_num("BENCH_REQUESTS", 200);
    let reuse = std::env::var("BENCH_REUSE").is_ok_and(|v| v == "1");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| {
        let path = std::env::var("BENCH_SQLITE")
            .unwrap_or_else(|_| dir.path().join("bench.db").display().to_string());
        format!("sqlite://{path}")
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let data_dir = std::env::var("BENCH_DATA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.path().to_path_buf());
    let config = Config {
        database_url: url,
        bind: addr.to_string(),
        data_dir,
        base_url: base.clone(),
        trust_forwarded: false,
        secure_cookies: false,
        timeouts: opencontact::config::Timeouts::default(),
        job_poll_every: opencontact::config::DEFAULT_JOB_POLL_EVERY,
    };
    let secret = SecretKey::load_or_create(&config.data_dir).expect("secret");
    let db = Db::connect(&config.database_url, 8).expect("db");
    db.migrate().expect("migrate");
    let existing = db
        .write_blocking(|c| Ok(Service::find_by_code(c, "bench")?))
        .expect("service lookup");
    let service = match existing {
        Some(s) if reuse => {
            eprintln!("reusing the seeded database");
            s
        }
        Some(_) => panic!("the database is not empty: use an empty one, or BENCH_REUSE=1"),
        None => {
            let input = SetupInput {
                org_name: "Bench".into(),
                service_id: "bench".into(),
                service_name: "Bench".into(),
                admin_login: "admin".into(),
                admin_name: "Admin".into(),
                admin_email: "admin@bench.test".into(),
                password: PASSWORD.into(),
                password_confirm: PASSWORD.into(),
                language: "en".into(),
                timezone: "Asia/Seoul".into(),
            };
            db.write_blocking(|c| {
                opencontact::tenancy::organization::run_setup(c, &secret, &input, Lang::En)
            })
            .expect("setup")
            .expect("valid setup");
            let opts = SeedOptions {
                tickets: n_tickets,
                ..SeedOptions::default()
            };
            let report = seed::seed(&db, "bench", &opts, |n| {
                if n % 50_000 == 0 || n == n_tickets {
                    eprintln!("  {n} tickets");
                }
            })
            .expect("seed");
            eprintln!(
                "seeded {} tickets, {} customers, {} entries, {} field values in {:.1?}",
                report.tickets,
                report.customers,
                report.entries,
                report.field_values,
                report.elapsed
            );
            db.write_blocking(|c| Ok(Service::find_by_code(c, "bench")?))
                .expect("service")
                .expect("exists")
        }
    };
    let sid = service.id;
    let total: i64 = db
        .write_blocking(|c| {
            Ok(tickets::table
                .filter(tickets::service_id.eq(sid))
                .count()
                .get_result(c)?)
        })
        .expect("count");
    let samples = db
        .write_blocking(|c| Ok(seed::samples(c, sid, 50)?))
        .expect("samples");
    let group: i64 = db
        .write_blocking(|c| {
            Ok(opencontact::tenancy::group::Group::of_service(c, sid)?
                .first()
                .map(|g| g.id)
                .unwrap_or(0))
        })
        .expect("group");
    let top: i64 = db
        .write_blocking(|c| {
            Ok(tickets::table
                .filter(tickets::service_id.eq(sid))
                .select(diesel::dsl::max(tickets::id))
                .first::<Option<i64>>(c)?
                .unwrap_or(0))
        })
        .expect("top");
    let backend = db.backend().name();
    let open_ids: Vec<String> = samples.iter().map(|(p, _)| p.clone()).collect();
    let open_stats = measure_open(&db, sid, &open_ids, n_requests);

    let state = actix_web::web::Data::new(AppState { db, config, secret });
    let s2 = state.clone();
    let server = actix_web::HttpServer::new(move || opencontact::app(s2.clone()))
        .workers(2)
        .listen(listener)
        .expect("listen")
        .run();
    actix_web::rt::spawn(server);

    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let login_page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("body");
    let token = login_page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf token")
        .to_string();
    let r = client
        .post(format!("{base}/login"))
        .form(&[
            ("login", "admin"),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(r.status().as_u16(), 303, "sign-in");

    let l = "/bench/console/tickets";
    let one = |p: String| vec![p];
    let emails: Vec<String> = samples
        .iter()
        .map(|(_, e)| format!("{l}/search?search=1&email={}", e.replace('@', "%40")))
        .collect();
    let ids: Vec<String> = samples
        .iter()
        .map(|(p, _)| format!("{l}/search?search=1&ticket_id={p}"))
        .collect();
    let opens: Vec<String> = samples.iter().map(|(p, _)| format!("{l}/{p}")).collect();
    let pages: Vec<(&str, Vec<String>)> = vec![
        ("My processing (default view)", one(l.to_string())),
        ("My on hold", one(format!("{l}?view=mine_hold"))),
        ("My resolved", one(format!("{l}?view=mine_solved"))),
        ("My completed", one(format!("{l}?view=mine_closed"))),
        ("My open transfers", one(format!("{l}?view=mine_transfers"))),
        ("All tickets", one(format!("{l}?view=all"))),
        ("All unassigned", one(format!("{l}?view=unassigned"))),
        ("All in my groups", one(format!("{l}?view=groups"))),
        (
            "One of my groups",
            one(format!("{l}?view=groups&group={group}")),
        ),
        ("All transferred", one(format!("{l}?view=transferred"))),
        ("Spam box", one(format!("{l}?view=spam"))),
        (
            "Important only (all tickets)",
            one(format!("{l}?view=all&star=1")),
        ),
        (
            "All tickets, 3rd page",
            one(format!("{l}?view=all&before={}", top - 100)),
        ),
        (
            "Search: default (last 6 months)",
            one(format!("{l}/search?search=1")),
        ),
        ("Search by e-mail", emails),
        ("Search by ticket ID", ids),
        (
            "Search by subject word (en)",
            one(format!("{l}/search?search=1&subject=refund")),
        ),
        (
            "Search by subject word (ko)",
            one(format!("{l}/search?search=1&subject=%ED%99%98%EB%B6%88")),
        ),
        (
            "Search: status open + priority urgent",
            one(format!("{l}/search?search=1&status=open&priority=urgent")),
        ),
        (
            "Poll for new tickets",
            one(format!("{l}/poll?view=all&after={top}")),
        ),
        ("Open a ticket (the whole page)", opens),
    ];
    let mut rows = Vec::new();
    for (name, paths) in &pages {
        rows.push(measure(&client, &base, name, paths, n_requests).await);
    }
    rows.push(open_stats);
    println!(
        "\nbackend: {backend}; {total} tickets in the service; sequential requests over keep-alive\n"
    );
    println!("| page | requests | mean | p50 | p95 | p99 |");
    println!("|---|---:|---:|---:|---:|---:|");
    for s in rows {
        println!(
            "| {} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms |",
            s.name,
            s.n,
            s.mean.as_secs_f64() * 1e3,
            s.p50.as_secs_f64() * 1e3,
            s.p95.as_secs_f64() * 1e3,
            s.p99.as_secs_f64() * 1e3
        );
    }
    println!(
        "\nserver + client process RSS after the run: {:.0} MiB",
        rss_mib()
    );
}
