//! The benchmark data generator (`opencontact bench seed --service ID --tickets N`): fills an
//! existing service with realistic tickets — two years of inquiries in Korean, English and
//! Japanese from a pool of customers, worked by a few dozen agents in groups, with statuses
//! that follow the age of the ticket (old ones completed, recent ones new, open or on hold),
//! channels, priorities, transfers and spam — plus their timeline entries, `created` events,
//! custom field values and a few hundred stars of the first administrator.
//!
//! Rows go in as multi-row `INSERT`s of a few thousand rows, one transaction per chunk of
//! tickets, with explicit keys for customers and tickets (PostgreSQL's sequences are moved past
//! them at the end), so a million tickets take minutes. Intended for benchmark databases: it
//! adds agents (`bench-agent-N`, without passwords) and groups (`Bench group N`) to the service.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::db::schema::{field_defs, group_members, service_members, ticket_stars, tickets, users};
use crate::db::search::normalize;
use crate::db::types::{CategoryTree, Role, ServiceKind};
use crate::db::{Db, DbConn, dispatch, now};
use crate::error::AppError;
use crate::tenancy::group::Group;
use crate::tenancy::service::Service;

/// What to generate.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    /// Tickets to add.
    pub tickets: usize,
    /// Agents in the pool (created when missing).
    pub agents: usize,
    /// Groups (created when missing).
    pub groups: usize,
    /// Customers to add (default: a third of the tickets).
    pub customers: Option<usize>,
    /// Days the tickets spread over, ending now.
    pub days: i64,
    /// Random seed (the same seed gives the same data).
    pub seed: u64,
}

impl Default for SeedOptions {
    fn default() -> Self {
        SeedOptions {
            tickets: 10_000,
            agents: 40,
            groups: 8,
            customers: None,
            days: 730,
            seed: 42,
        }
    }
}

/// What was generated.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    /// Tickets added.
    pub tickets: usize,
    /// Customers added.
    pub customers: usize,
    /// Timeline entries added.
    pub entries: usize,
    /// Field values added.
    pub field_values: usize,
    /// Agents in the pool.
    pub agents: usize,
    /// Time taken.
    pub elapsed: Duration,
}

/// Tickets per transaction.
const CHUNK: usize = 5_000;
/// Rows per `INSERT` statement.
const ROWS_PER_INSERT: usize = 1_000;

/// A small deterministic generator (splitmix64): the data only has to look random.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn chance(&mut self, per_thousand: u64) -> bool {
        self.next() % 1000 < per_thousand
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Picks by weight.
    fn weighted<'a, T>(&mut self, items: &'a [(T, u64)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| *w).sum();
        let mut r = self.next() % total.max(1);
        for (item, w) in items {
            if r < *w {
                return item;
            }
            r -= *w;
        }
        &items[0].0
    }
}

const EN_TOPICS: &[&str] = &[
    "Refund request",
    "Cannot log in to my account",
    "Payment failed",
    "Delivery is delayed",
    "How do I change my password",
    "App crashes on startup",
    "Coupon code does not work",
    "Please cancel my subscription",
    "Invoice is missing",
    "Wrong item delivered",
    "Question about pricing",
    "Two-factor authentication problem",
    "Account locked",
    "Exchange request",
    "Email notifications not arriving",
];
const EN_PRODUCTS: &[&str] = &[
    "printer",
    "laptop",
    "premium plan",
    "gift card",
    "headphones",
    "mobile app",
    "monitor",
    "keyboard",
    "tablet",
    "camera",
    "router",
    "smart watch",
];
const KO_TOPICS: &[&str] = &[
    "환불 요청드립니다",
    "로그인이 안 됩니다",
    "결제 오류 문의",
    "배송 지연 문의",
    "비밀번호 변경 방법",
    "앱이 실행되지 않아요",
    "쿠폰 사용 문의",
    "구독 해지 요청",
    "영수증 재발급 요청",
    "상품이 잘못 배송되었습니다",
    "회원 탈퇴 요청",
    "교환 신청",
];
const KO_PRODUCTS: &[&str] = &[
    "프린터",
    "노트북",
    "프리미엄 요금제",
    "기프트카드",
    "이어폰",
    "모바일 앱",
    "모니터",
    "태블릿",
];
const JA_TOPICS: &[&str] = &[
    "返金のお願い",
    "ログインできません",
    "支払いエラーについて",
    "配送の遅れについて",
    "パスワードの変更方法",
    "解約の手続き",
];
const BODIES: &[&str] = &[
    "Hello, I ordered last week and still have not received anything. Could you check the status and let me know?",
    "The payment went through on my card but the order shows as failed. Please help me sort this out.",
    "I tried resetting my password twice and the link in the mail does not work. What should I do?",
    "안녕하세요. 지난주에 주문했는데 아직 받지 못했습니다. 확인 부탁드립니다.",
    "결제는 되었는데 주문 내역에 실패로 나옵니다. 확인해 주세요.",
    "先週注文しましたが、まだ届いていません。確認をお願いします。",
];
const REPLIES: &[&str] = &[
    "Thank you for contacting us. We have checked your order and the issue is now resolved.",
    "We are looking into this with the team in charge and will get back to you shortly.",
    "문의해 주셔서 감사합니다. 확인 결과 처리되었습니다.",
    "담당 부서에서 확인 중이며 곧 다시 안내드리겠습니다.",
];
const FAMILY: &[&str] = &[
    "Kim", "Lee", "Park", "Choi", "Jung", "Smith", "Brown", "Tanaka", "Suzuki", "Garcia", "Miller",
    "Kang", "Yoon", "Sato", "Wilson",
];
const GIVEN: &[&str] = &[
    "Minji", "Jisoo", "Hyun", "Alex", "Sam", "Taylor", "Yuki", "Haruto", "Chris", "Jordan",
    "Seojun", "Yuna", "Emma", "Noah", "Mia",
];
const PLANS: &[&str] = &["basic", "pro", "enterprise"];

/// SQL text literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn ts(t: NaiveDateTime) -> String {
    format!("'{}'", t.format("%Y-%m-%d %H:%M:%S%.6f"))
}

fn opt_ts(t: Option<NaiveDateTime>) -> String {
    t.map(ts).unwrap_or_else(|| "NULL".into())
}

fn opt_i64(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "NULL".into())
}

/// A five-character suffix unique per ticket index (base 62).
fn suffix(mut n: usize) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; 5];
    for slot in out.iter_mut().rev() {
        *slot = CHARS[n % 62];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn max_id(conn: &mut DbConn, table: &str) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct MaxRow {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    Ok(
        diesel::sql_query(format!("SELECT COALESCE(MAX(id), 0) AS n FROM {table}"))
            .get_result::<MaxRow>(conn)?
            .n,
    )
}

/// Agents, groups and fields the tickets refer to.
struct Pool {
    service: Service,
    /// Agents (user ids) with their first group.
    agents: Vec<(i64, Option<i64>)>,
    groups: Vec<i64>,
    intake: Vec<i64>,
    order_field: i64,
    plan_field: i64,
    /// The first administrator (gets stars).
    admin: Option<i64>,
}

fn ensure_field(
    conn: &mut DbConn,
    service_id: i64,
    audience: &str,
    code: &str,
    control: &str,
    config: &str,
) -> QueryResult<i64> {
    if let Some(id) = field_defs::table
        .filter(field_defs::service_id.eq(service_id))
        .filter(field_defs::code.eq(code))
        .select(field_defs::id)
        .first::<i64>(conn)
        .optional()?
    {
        return Ok(id);
    }
    let t = now();
    diesel::insert_into(field_defs::table)
        .values((
            field_defs::service_id.eq(service_id),
            field_defs::audience.eq(audience),
            field_defs::code.eq(code),
            field_defs::control.eq(control),
            field_defs::is_system.eq(false),
            field_defs::config.eq(config),
            field_defs::required.eq(false),
            field_defs::personal.eq(false),
            field_defs::visible.eq(true),
            field_defs::agent_permission.eq("agent"),
            field_defs::position.eq(100),
            field_defs::created_at.eq(t),
            field_defs::updated_at.eq(t),
        ))
        .returning(field_defs::id)
        .get_result(conn)
}

fn prepare(conn: &mut DbConn, code: &str, opts: &SeedOptions) -> Result<Pool, AppError> {
    let service = Service::find_by_code(conn, code)?.ok_or(AppError::NotFound)?;
    let sid = service.id;
    let t = now();
    // Agents.
    for i in 0..opts.agents {
        let login = format!("bench-agent-{i}");
        let uid = match users::table
            .filter(users::login.eq(&login))
            .select(users::id)
            .first::<i64>(conn)
            .optional()?
        {
            Some(id) => id,
            None => diesel::insert_into(users::table)
                .values((
                    users::login.eq(&login),
                    users::name.eq(format!(
                        "{} {} {i}",
                        GIVEN[i % GIVEN.len()],
                        FAMILY[(i / GIVEN.len()) % FAMILY.len()]
                    )),
                    users::email.eq(format!("{login}@bench.invalid")),
                    users::phone.eq(""),
                    users::ui_lang.eq("en"),
                    users::is_org_admin.eq(false),
                    users::active.eq(true),
                    users::created_at.eq(t),
                    users::updated_at.eq(t),
                ))
                .returning(users::id)
                .get_result(conn)?,
        };
        let member: i64 = service_members::table
            .filter(service_members::service_id.eq(sid))
            .filter(service_members::user_id.eq(uid))
            .count()
            .get_result(conn)?;
        if member == 0 {
            diesel::insert_into(service_members::table)
                .values((
                    service_members::service_id.eq(sid),
                    service_members::user_id.eq(uid),
                    service_members::role.eq(Role::Agent.as_str()),
                    service_members::perm_ticket.eq(true),
                    service_members::ticket_assignable.eq(true),
                    service_members::created_at.eq(t),
                    service_members::updated_at.eq(t),
                ))
                .execute(conn)?;
        }
    }
    // Groups.
    let mut groups: Vec<i64> = Vec::new();
    for i in 0..opts.groups {
        let name = format!("Bench group {}", i + 1);
        let existing = Group::of_service(conn, sid)?
            .into_iter()
            .find(|g| g.name == name)
            .map(|g| g.id);
        let gid = match existing {
            Some(id) => id,
            None => Group::create(conn, sid, &name)?,
        };
        groups.push(gid);
    }
    // Every ticket agent of the service works in one or two groups.
    let members: Vec<(i64, String)> = service_members::table
        .filter(service_members::service_id.eq(sid))
        .filter(service_members::perm_ticket.eq(true))
        .order(service_members::user_id.asc())
        .select((service_members::user_id, service_members::role))
        .load(conn)?;
    let admin = members
        .iter()
        .find(|(_, r)| r == Role::Admin.as_str())
        .map(|(u, _)| *u);
    let mut agents = Vec::new();
    for (i, (uid, _)) in members.iter().enumerate() {
        let mine: Vec<i64> = if groups.is_empty() {
            Vec::new()
        } else if i % 3 == 0 {
            vec![groups[i % groups.len()], groups[(i + 1) % groups.len()]]
        } else {
            vec![groups[i % groups.len()]]
        };
        for g in &mine {
            let exists: i64 = group_members::table
                .filter(group_members::group_id.eq(g))
                .filter(group_members::user_id.eq(uid))
                .count()
                .get_result(conn)?;
            if exists == 0 {
                diesel::insert_into(group_members::table)
                    .values((
                        group_members::group_id.eq(g),
                        group_members::user_id.eq(uid),
                        group_members::position.eq(i32::try_from(i).unwrap_or(0)),
                    ))
                    .execute(conn)?;
            }
        }
        agents.push((*uid, mine.first().copied()));
    }
    let intake = crate::categories::model::list_tree(conn, sid, CategoryTree::Intake)?
        .into_iter()
        .map(|n| n.id)
        .collect();
    let order_field = ensure_field(
        conn,
        sid,
        "customer",
        "bench_order",
        "text",
        r#"{"labels":{"en":"Order number","ko":"주문 번호","ja":"注文番号"},"max_length":40}"#,
    )?;
    let plan_field = ensure_field(
        conn,
        sid,
        "agent",
        "bench_plan",
        "dropdown",
        r#"{"labels":{"en":"Plan","ko":"요금제","ja":"プラン"},"options":[{"value":"basic","labels":{"en":"Basic"}},{"value":"pro","labels":{"en":"Pro"}},{"value":"enterprise","labels":{"en":"Enterprise"}}]}"#,
    )?;
    Ok(Pool {
        service,
        agents,
        groups,
        intake,
        order_field,
        plan_field,
        admin,
    })
}

/// Statuses by age: (status, spam, weight).
fn status_mix(age_days: i64) -> &'static [((&'static str, bool), u64)] {
    if age_days > 14 {
        &[
            (("closed", false), 880),
            (("solved", false), 50),
            (("solved", true), 20),
            (("reply", false), 15),
            (("open", false), 30),
            (("new", false), 5),
        ]
    } else if age_days >= 2 {
        &[
            (("solved", false), 600),
            (("closed", false), 150),
            (("reply", false), 80),
            (("open", false), 100),
            (("new", false), 40),
            (("solved", true), 30),
        ]
    } else {
        &[
            (("new", false), 300),
            (("open", false), 350),
            (("reply", false), 100),
            (("solved", false), 220),
            (("solved", true), 30),
        ]
    }
}

const CHANNELS: &[(&str, u64)] = &[
    ("web", 450),
    ("mobile_web", 200),
    ("email", 200),
    ("phone", 60),
    ("api", 40),
    ("created", 30),
    ("chat", 20),
];
const PRIORITIES: &[(&str, u64)] = &[("normal", 700), ("high", 150), ("low", 100), ("urgent", 50)];

/// Inserts rows given as `(…)` value tuples in statements of [`ROWS_PER_INSERT`].
fn insert_rows(conn: &mut DbConn, head: &str, rows: &[String]) -> QueryResult<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut sql = String::with_capacity(chunk.len() * 200 + head.len());
        sql.push_str(head);
        sql.push_str(" VALUES ");
        sql.push_str(&chunk.join(","));
        conn.batch_execute(&sql)?;
    }
    Ok(())
}

/// Fills the service `code` with tickets; `progress` is told how many tickets are in.
pub fn seed(
    db: &Db,
    code: &str,
    opts: &SeedOptions,
    mut progress: impl FnMut(usize),
) -> Result<SeedReport, AppError> {
    let started = Instant::now();
    let pool = db.write_blocking(|c| prepare(c, code, opts))?;
    if pool.agents.is_empty() {
        return Err(AppError::BadRequest("ticket.seed.no_agents"));
    }
    let sid = pool.service.id;
    let consultation = pool.service.kind() == ServiceKind::Consultation;
    let n_customers = opts.customers.unwrap_or((opts.tickets / 3).max(1));
    let mut rng = Rng(opts.seed);
    let mut report = SeedReport {
        agents: pool.agents.len(),
        ..SeedReport::default()
    };
    let end = now();
    let start = end - TimeDelta::days(opts.days.max(1));

    // Customers, with explicit keys the tickets refer to.
    let first_customer = db.write_blocking(|c| Ok(max_id(c, "customers")? + 1))?;
    let mut customer_ids: Vec<i64> = Vec::with_capacity(n_customers);
    for chunk_start in (0..n_customers).step_by(CHUNK * 4) {
        let chunk_end = (chunk_start + CHUNK * 4).min(n_customers);
        let mut rows = Vec::with_capacity(chunk_end - chunk_start);
        for i in chunk_start..chunk_end {
            let id = first_customer + i as i64;
            let created = start + TimeDelta::seconds(rng.below(86_400 * 30) as i64);
            rows.push(format!(
                "({id}, {sid}, {}, {}, {}, {}, {}, {})",
                lit(&format!("B{sid}-{id:09}")),
                lit(&format!("{} {}", rng.pick(GIVEN), rng.pick(FAMILY))),
                lit(&format!("customer{id}@example.com")),
                lit(&format!(
                    "010-{:04}-{:04}",
                    rng.below(10_000),
                    rng.below(10_000)
                )),
                ts(created),
                ts(created),
            ));
            customer_ids.push(id);
        }
        db.write_blocking(|c| {
            Ok(insert_rows(
                c,
                "INSERT INTO customers (id, service_id, customer_no, name, email, phone, created_at, updated_at)",
                &rows,
            )?)
        })?;
    }
    report.customers = n_customers;

    // Tickets with their entries, events and field values.
    let first_ticket = db.write_blocking(|c| Ok(max_id(c, "tickets")? + 1))?;
    let span_ms = (end - start).num_milliseconds().max(1);
    let step = span_ms / opts.tickets.max(1) as i64;
    let mut starred: Vec<i64> = Vec::new();
    for chunk_start in (0..opts.tickets).step_by(CHUNK) {
        let chunk_end = (chunk_start + CHUNK).min(opts.tickets);
        let mut t_rows = Vec::with_capacity(chunk_end - chunk_start);
        let mut e_rows = Vec::with_capacity((chunk_end - chunk_start) * 2);
        let mut ev_rows = Vec::with_capacity(chunk_end - chunk_start);
        let mut f_rows = Vec::with_capacity((chunk_end - chunk_start) * 2);
        for i in chunk_start..chunk_end {
            let id = first_ticket + i as i64;
            let jitter = if step > 1 {
                rng.below(step as usize / 2) as i64
            } else {
                0
            };
            let created = start + TimeDelta::milliseconds(step * i as i64 + jitter);
            let age = (end - created).num_days();
            let (lang, subject) = match rng.below(10) {
                0..=4 => (
                    "ko",
                    format!("{} ({})", rng.pick(KO_TOPICS), rng.pick(KO_PRODUCTS)),
                ),
                5..=8 => (
                    "en",
                    format!("{}: {}", rng.pick(EN_TOPICS), rng.pick(EN_PRODUCTS)),
                ),
                _ => ("ja", (*rng.pick(JA_TOPICS)).to_string()),
            };
            let (status, spam) = *rng.weighted(status_mix(age));
            let channel = *rng.weighted(CHANNELS);
            let priority = *rng.weighted(PRIORITIES);
            let (agent, agent_group) = *rng.pick(&pool.agents);
            let (assignee, group) = if status == "new" {
                let g = if rng.chance(300) && !pool.groups.is_empty() {
                    Some(*rng.pick(&pool.groups))
                } else {
                    None
                };
                (None, g)
            } else {
                (Some(agent), agent_group)
            };
            let transfer =
                if consultation && matches!(status, "open" | "reply") && !spam && rng.chance(50) {
                    if rng.chance(500) {
                        "issue_in_progress"
                    } else {
                        "issue_answered"
                    }
                } else {
                    "none"
                };
            let answered = created + TimeDelta::minutes(30 + rng.below(60 * 48) as i64);
            let answered = answered.min(end);
            let solved_at = (status == "solved" || status == "closed").then_some(answered);
            let closed_at = (status == "closed").then(|| (answered + TimeDelta::days(14)).min(end));
            let customer = customer_ids[rng.below(customer_ids.len())];
            let category = (!pool.intake.is_empty()).then(|| *rng.pick(&pool.intake));
            let public_id = format!("T{}{}", created.and_utc().timestamp_millis(), suffix(i));
            let updated = closed_at.or(solved_at).unwrap_or(created);
            t_rows.push(format!(
                "({id}, {sid}, {}, {customer}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 0, {})",
                lit(&public_id),
                opt_i64(category),
                lit(status),
                lit(priority),
                lit(channel),
                lit(lang),
                lit(&subject),
                opt_i64(assignee),
                opt_i64(group),
                ts(created),
                ts(updated),
                lit(transfer),
                if spam { "'spam'" } else { "NULL" },
                if spam { "TRUE" } else { "FALSE" },
                if spam { "'open'" } else { "NULL" },
                opt_ts(solved_at),
                opt_ts(closed_at),
                lit(&normalize(&subject)),
            ));
            e_rows.push(format!(
                "({id}, 'customer_message', NULL, {}, {})",
                lit(&format!("<p>{}</p>", rng.pick(BODIES))),
                ts(created)
            ));
            if status != "new" {
                let kind = match status {
                    "reply" => "hold_reply",
                    "open" => "comment",
                    _ if spam => "internal_resolution",
                    _ => "agent_reply",
                };
                e_rows.push(format!(
                    "({id}, {}, {}, {}, {})",
                    lit(kind),
                    opt_i64(assignee),
                    lit(&format!("<p>{}</p>", rng.pick(REPLIES))),
                    ts(answered)
                ));
            }
            ev_rows.push(format!(
                "({id}, 'created', NULL, {}, {})",
                lit(channel),
                ts(created)
            ));
            f_rows.push(format!(
                "({id}, {}, {})",
                pool.order_field,
                lit(&format!("ORD-{:08}", i + 1))
            ));
            if rng.chance(600) {
                f_rows.push(format!(
                    "({id}, {}, {})",
                    pool.plan_field,
                    lit(rng.pick::<&str>(PLANS))
                ));
            }
            if pool.admin.is_some() && rng.below(opts.tickets / 300 + 1) == 0 {
                starred.push(id);
            }
        }
        report.entries += e_rows.len();
        report.field_values += f_rows.len();
        db.write_blocking(|c| {
            insert_rows(
                c,
                "INSERT INTO tickets (id, service_id, public_id, customer_id, category_id, status, priority, channel, lang, subject, assignee_id, group_id, created_at, updated_at, transfer_state, internal_reason, is_spam, spam_prev_status, solved_at, closed_at, version, search_text)",
                &t_rows,
            )?;
            insert_rows(
                c,
                "INSERT INTO ticket_entries (ticket_id, kind, author_id, body, created_at)",
                &e_rows,
            )?;
            insert_rows(
                c,
                "INSERT INTO ticket_events (ticket_id, kind, actor_id, detail, created_at)",
                &ev_rows,
            )?;
            insert_rows(
                c,
                "INSERT INTO ticket_field_values (ticket_id, field_id, value)",
                &f_rows,
            )?;
            Ok(())
        })?;
        report.tickets = chunk_end;
        progress(chunk_end);
    }
    let admin = pool.admin;
    db.write_blocking(|c| {
        if let Some(admin) = admin {
            let t = now();
            for id in &starred {
                diesel::insert_into(ticket_stars::table)
                    .values((
                        ticket_stars::user_id.eq(admin),
                        ticket_stars::ticket_id.eq(id),
                        ticket_stars::created_at.eq(t),
                    ))
                    .execute(c)?;
            }
        }
        if dispatch::is_postgres(c) {
            // Explicit keys leave the sequences behind: move them past the new rows.
            c.batch_execute(
                "SELECT setval(pg_get_serial_sequence('tickets', 'id'), (SELECT MAX(id) FROM tickets));
                 SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT MAX(id) FROM customers));",
            )?;
        }
        Ok(())
    })?;
    // Fresh planner statistics (PostgreSQL would gather them on its own a little later).
    let mut conn = db.get()?;
    if dispatch::is_postgres(&conn) {
        conn.batch_execute("ANALYZE")?;
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Sample public IDs and customer e-mails of a service (for benchmarks).
pub fn samples(conn: &mut DbConn, service_id: i64, n: i64) -> QueryResult<Vec<(String, String)>> {
    let max: Option<i64> = tickets::table
        .filter(tickets::service_id.eq(service_id))
        .select(diesel::dsl::max(tickets::id))
        .first(conn)?;
    let Some(max) = max else {
        return Ok(Vec::new());
    };
    let mut rng = Rng(7);
    let mut out: HashMap<String, String> = HashMap::new();
    for _ in 0..n * 4 {
        if out.len() as i64 >= n {
            break;
        }
        let probe = 1 + rng.below(max as usize) as i64;
        let row: Option<(String, Option<i64>)> = tickets::table
            .filter(tickets::service_id.eq(service_id))
            .filter(tickets::id.ge(probe))
            .order(tickets::id.asc())
            .select((tickets::public_id, tickets::customer_id))
            .first(conn)
            .optional()?;
        if let Some((pid, Some(cid))) = row {
            let email: String = crate::db::schema::customers::table
                .find(cid)
                .select(crate::db::schema::customers::email)
                .first(conn)?;
            out.insert(pid, email);
        }
    }
    Ok(out.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_five_unique_characters() {
        assert_eq!(suffix(0), "00000");
        assert_eq!(suffix(61), "0000z");
        assert_eq!(suffix(62), "00010");
        assert_ne!(suffix(999_999), suffix(999_998));
        assert_eq!(suffix(999_999).len(), 5);
    }

    #[test]
    fn literals_double_quotes() {
        assert_eq!(lit("it's"), "'it''s'");
    }
}
