//! Page-latency benchmark: seeds an organization with many members and a long login history, then
//! times the pages an administrator opens all day, through the real server on a real port.
//!
//! `cargo bench --bench pages` (SQLite) or with `BENCH_DATABASE_URL=postgres://…` (an empty database).
//! Sizes: `BENCH_MEMBERS` (default 20000) and `BENCH_LOGIN_EVENTS` (default 200000).
//! Figures are printed as a Markdown table for the README; nothing here asserts on time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark aborts loudly on setup failure"
)]

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use opencontact::i18n::Lang;
use opencontact::tenancy::organization::SetupInput;
use opencontact::{AppState, Config, Db, SecretKey};

const PASSWORD: &str = "Bench-password-1";

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn seed(db: &Db, secret: &SecretKey, members: usize, events: usize) {
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
        timezone: "UTC".into(),
    };
    db.write_blocking(|c| {
        opencontact::tenancy::organization::run_setup(c, secret, &input, Lang::En)
    })
    .expect("setup")
    .expect("valid setup");
    // Bulk rows through plain SQL in batches (one transaction each); every member gets the same
    // precomputed hash so seeding does not spend minutes in Argon2.
    let hash = opencontact::crypto::hash_password(PASSWORD).expect("hash");
    let now = "2026-11-01 09:00:00";
    for chunk_start in (0..members).step_by(1000) {
        let mut sql = String::from(
            "INSERT INTO users (login, name, email, phone, ui_lang, password_hash, is_org_admin, active, created_at, updated_at) VALUES ",
        );
        let end = (chunk_start + 1000).min(members);
        for i in chunk_start..end {
            if i > chunk_start {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('member{i}', 'Member {i}', 'member{i}@bench.test', '', 'en', '{hash}', FALSE, TRUE, '{now}', '{now}')"
            ));
        }
        db.write_blocking(|c| Ok(c.batch_execute(&sql)?))
            .expect("seed members");
    }
    for chunk_start in (0..events).step_by(2000) {
        let mut sql = String::from(
            "INSERT INTO login_events (user_id, login, kind, ip, user_agent, created_at) VALUES ",
        );
        let end = (chunk_start + 2000).min(events);
        for i in chunk_start..end {
            if i > chunk_start {
                sql.push(',');
            }
            let member = i % members.max(1);
            let kind = ["login", "logout", "failed"][i % 3];
            sql.push_str(&format!(
                "(NULL, 'member{member}', '{kind}', '10.0.{}.{}', 'Mozilla/5.0 bench', '2026-11-0{} 0{}:00:00')",
                i % 250,
                i % 200,
                1 + i % 9,
                i % 10
            ));
        }
        db.write_blocking(|c| Ok(c.batch_execute(&sql)?))
            .expect("seed events");
    }
}

struct Stats {
    name: String,
    n: usize,
    p50: Duration,
    p95: Duration,
    p99: Duration,
    mean: Duration,
}

async fn measure(client: &reqwest::Client, base: &str, name: &str, path: &str, n: usize) -> Stats {
    // Warm-up.
    for _ in 0..5 {
        let r = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("request");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        let _ = r.bytes().await;
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("request");
        let status = r.status();
        let _ = r.bytes().await;
        times.push(t.elapsed());
        assert!(status.is_success(), "{path}: {status}");
    }
    times.sort();
    let pick = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    Stats {
        name: name.into(),
        n,
        p50: pick(0.5),
        p95: pick(0.95),
        p99: pick(0.99),
        mean,
    }
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
    let members = env_num("BENCH_MEMBERS", 20_000);
    let events = env_num("BENCH_LOGIN_EVENTS", 200_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let config = Config {
        database_url: url,
        bind: addr.to_string(),
        data_dir: dir.path().to_path_buf(),
        base_url: base.clone(),
        trust_forwarded: false,
        secure_cookies: false,
        timeouts: opencontact::config::Timeouts::default(),
        job_poll_every: opencontact::config::DEFAULT_JOB_POLL_EVERY,
    };
    let secret = SecretKey::load_or_create(&config.data_dir).expect("secret");
    let db = Db::connect(&config.database_url, 8).expect("db");
    db.migrate().expect("migrate");
    let t = Instant::now();
    seed(&db, &secret, members, events);
    eprintln!(
        "seeded {members} members and {events} login events in {:.1?}",
        t.elapsed()
    );
    let backend = db.backend().name();
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

    let pages = [
        ("Console home", "/bench/console/", 300),
        ("Members, first page", "/admin/members", 300),
        ("Members, search", "/admin/members?q=member1999", 300),
        (
            "Login history, first page",
            "/bench/console/settings/login-history",
            300,
        ),
        ("Agents of a service", "/bench/console/settings/agents", 300),
        ("Audit log", "/admin/audit", 300),
        ("Health check", "/healthz", 500),
    ];
    let mut rows = Vec::new();
    for (name, path, n) in pages {
        rows.push(measure(&client, &base, name, path, n).await);
    }
    println!(
        "\nbackend: {backend}; {members} members, {events} login events; sequential requests over keep-alive\n"
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
