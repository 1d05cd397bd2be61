//! The one background-job queue: claim, lease, exponential backoff, a dead state with the
//! reason, and the wake-up. Every kind of background work ([`JobKind`]) keeps its rows in its
//! own table (the outbox and delivery logs administrators read), described once by a
//! [`QueueTable`]; the loop that claims and settles them is written here and in
//! [`crate::jobs`], nowhere else.
//!
//! **Claim.** [`claim`] moves due rows (pending with `due <= now`, or running with a lease that
//! ran out) to running in one conditional `UPDATE … RETURNING`, setting the due column to the
//! lease's end and counting the attempt. The condition is re-checked by the update itself, so
//! two workers — in one process or on two nodes — never both win a row. On PostgreSQL the
//! candidates are picked with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take different
//! rows instead of queueing behind each other's locks.
//!
//! **Lease and fencing.** A worker that dies mid-job leaves its row running until the lease
//! ends; the next claim takes it again (the crashed try counts as an attempt, so a job that
//! kills its worker every time ends dead instead of looping). [`finish`] only settles a row that
//! is still running with the attempt number it was claimed with, so a worker whose lease ran
//! out cannot overwrite the result of the one that took over.
//!
//! **Backoff and dead state.** A transient failure schedules the next attempt after
//! [`backoff`] (30 s doubling, at most an hour) until the table's `max_attempts`; a permanent
//! one, or the last attempt, settles the row in the table's dead status with the reason.
//!
//! **Wake-up.** [`notify`] is called inside the transaction that queues work. On PostgreSQL it
//! is `pg_notify('opencontact_jobs', kind)`, which the server delivers when (and only if) the
//! transaction commits, to every listening process; each process keeps one dedicated listener
//! connection ([`Listener`]) on its own thread. Diesel exposes received notifications without
//! blocking, so the listener checks its connection every [`LISTEN_CHECK`]; that costs one
//! non-blocking read on an idle connection, needs no second PostgreSQL client library and uses
//! exactly the pool's connection URL (TLS and all). When the connection breaks it reconnects with
//! backoff and then wakes every kind, since notifications sent meanwhile are lost; workers also
//! poll at a configured interval, so a lost wake-up only delays work. On SQLite (one process by
//! design) [`notify`] wakes the process's workers directly: a worker woken before the commit
//! claims through [`super::Db::write`], whose writer lock makes it wait for that commit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
use tokio::sync::watch;

use super::{Backend, DbConn};

/// The PostgreSQL channel the queue notifies on.
pub const CHANNEL: &str = "opencontact_jobs";

/// How often the PostgreSQL listener looks for received notifications.
pub const LISTEN_CHECK: Duration = Duration::from_millis(100);

/// A kind of background work. New channels (chat, SMS, statistics rollups) add a variant, a
/// [`QueueTable`] and a runner in [`crate::jobs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// Mail in the outbox (`mail_outbox`).
    Mail,
    /// Trigger side effects: callbacks, chat webhooks, notification mails
    /// (`webhook_deliveries`).
    Delivery,
    /// Automatic customer-info lookups (`customer_info_lookups`).
    CustomerInfo,
    /// Recurring work such as auto-complete (`scheduled_jobs`, one row per task).
    Scheduled,
}

impl JobKind {
    /// Every kind, in the order a test's "run everything" goes through them.
    pub const ALL: [JobKind; 4] = [
        JobKind::Delivery,
        JobKind::CustomerInfo,
        JobKind::Scheduled,
        JobKind::Mail,
    ];

    /// The name sent as the notification payload.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Mail => "mail",
            JobKind::Delivery => "delivery",
            JobKind::CustomerInfo => "customer_info",
            JobKind::Scheduled => "scheduled",
        }
    }

    /// The kind named by a notification payload.
    pub fn parse(s: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn index(self) -> usize {
        match self {
            JobKind::Delivery => 0,
            JobKind::CustomerInfo => 1,
            JobKind::Scheduled => 2,
            JobKind::Mail => 3,
        }
    }
}

/// Where a kind keeps its jobs: the table and the names of its queue columns and statuses.
/// All names are compile-time constants (they are written into SQL).
#[derive(Debug)]
pub struct QueueTable {
    /// The kind.
    pub kind: JobKind,
    /// Table name; its key column is `id`.
    pub table: &'static str,
    /// Status column.
    pub status: &'static str,
    /// When the next attempt is due, or while running when the lease ends.
    pub due: &'static str,
    /// Attempts made (counted when claimed).
    pub attempts: &'static str,
    /// The last failure's reason, when the table keeps one.
    pub error: Option<&'static str>,
    /// Status: waiting (or waiting for a retry).
    pub pending: &'static str,
    /// Status: claimed by a worker.
    pub running: &'static str,
    /// Status: finished.
    pub done: &'static str,
    /// Status: given up.
    pub dead: &'static str,
    /// Attempts before a transient failure settles the job dead.
    pub max_attempts: i32,
    /// How long a claimed job stays leased to its worker.
    pub lease: TimeDelta,
    /// Longest stored failure reason, in characters.
    pub error_limit: usize,
}

/// A claimed job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct Claimed {
    /// The row's key.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Its attempt number (this attempt included).
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

impl Claimed {
    /// Whether this claim took over an expired lease of the job's last allowed attempt: the
    /// worker that had it stopped, and the job is not tried again.
    pub fn beyond_last_attempt(&self, table: &QueueTable) -> bool {
        self.attempts > table.max_attempts
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Finished.
    Done,
    /// A transient failure: try again after [`backoff`] (dead after the last attempt).
    Retry(String),
    /// A permanent failure.
    Dead(String),
    /// Recurring work: run again at this time (attempts start over).
    RunAt(NaiveDateTime),
}

/// What [`finish`] did with the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// Marked done.
    Done,
    /// Waiting for a retry.
    Retrying,
    /// Marked dead.
    Dead,
    /// Scheduled again.
    Rescheduled,
    /// Not ours any more (the lease ran out and another worker claimed it): nothing written.
    Lost,
}

/// The delay before attempt `attempts + 1`: 30 s doubling, at most an hour.
pub fn backoff(attempts: i32) -> TimeDelta {
    let exp = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    let secs = 30i64.saturating_mul(1i64 << exp).min(3600);
    TimeDelta::seconds(secs)
}

/// Claims up to `limit` due jobs of `t` (see the module documentation), oldest first.
pub fn claim(
    conn: &mut DbConn,
    t: &QueueTable,
    at: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    let QueueTable {
        table,
        status,
        due,
        attempts,
        pending,
        running,
        ..
    } = *t;
    let lease_end = at + t.lease;
    let mut claimed: Vec<Claimed> = match conn {
        DbConn::Pg(c) => diesel::sql_query(format!(
            "WITH picked AS MATERIALIZED (SELECT id FROM {table} \
               WHERE {status} IN ('{pending}', '{running}') AND {due} <= $1 \
               ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) \
             UPDATE {table} SET {status} = '{running}', {due} = $3, \
               {attempts} = {table}.{attempts} + 1 \
             FROM picked WHERE {table}.id = picked.id \
               AND {table}.{status} IN ('{pending}', '{running}') AND {table}.{due} <= $1 \
             RETURNING {table}.id AS id, {table}.{attempts} AS attempts"
        ))
        .bind::<Timestamp, _>(at)
        .bind::<BigInt, _>(limit)
        .bind::<Timestamp, _>(lease_end)
        .load(c)?,
        DbConn::Sqlite(c) => diesel::sql_query(format!(
            "UPDATE {table} SET {status} = '{running}', {due} = ?, {attempts} = {attempts} + 1 \
             WHERE id IN (SELECT id FROM {table} \
               WHERE {status} IN ('{pending}', '{running}') AND {due} <= ? \
               ORDER BY id LIMIT ?) \
             AND {status} IN ('{pending}', '{running}') AND {due} <= ? \
             RETURNING id, {attempts} AS attempts"
        ))
        .bind::<Timestamp, _>(lease_end)
        .bind::<Timestamp, _>(at)
        .bind::<BigInt, _>(limit)
        .bind::<Timestamp, _>(at)
        .load(c)?,
    };
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

/// Settles an attempt of a claimed job (in the caller's transaction, together with the kind's
/// own columns). Returns [`Settled::Lost`] and writes nothing when the job is no longer held by
/// this claim.
pub fn finish(
    conn: &mut DbConn,
    t: &QueueTable,
    job: &Claimed,
    at: NaiveDateTime,
    outcome: Outcome,
) -> QueryResult<Settled> {
    let (settled, status, due, reason, reset) = match outcome {
        Outcome::Done => (Settled::Done, t.done, at, String::new(), false),
        Outcome::Retry(reason) if job.attempts < t.max_attempts => (
            Settled::Retrying,
            t.pending,
            at + backoff(job.attempts),
            reason,
            false,
        ),
        Outcome::Retry(reason) | Outcome::Dead(reason) => {
            (Settled::Dead, t.dead, at, reason, false)
        }
        Outcome::RunAt(when) => (Settled::Rescheduled, t.pending, when, String::new(), true),
    };
    let reason: String = reason.chars().take(t.error_limit).collect();
    let QueueTable {
        table,
        status: status_col,
        due: due_col,
        attempts,
        running,
        ..
    } = *t;
    let mut n = 0;
    let mut p = || {
        n += 1;
        placeholder(conn, n)
    };
    let (p_status, p_due) = (p(), p());
    let error_set = match t.error {
        Some(e) => format!(", {e} = {}", p()),
        None => String::new(),
    };
    let (p_id, p_attempts) = (p(), p());
    let attempts_set = if reset {
        format!(", {attempts} = 0")
    } else {
        String::new()
    };
    let sql = format!(
        "UPDATE {table} SET {status_col} = {p_status}, {due_col} = {p_due}{error_set}{attempts_set} \
         WHERE id = {p_id} AND {status_col} = '{running}' AND {attempts} = {p_attempts}"
    );
    let n = crate::db_dispatch!(conn, |c| {
        let q = diesel::sql_query(sql.as_str())
            .bind::<Text, _>(status)
            .bind::<Timestamp, _>(due);
        if t.error.is_some() {
            q.bind::<Text, _>(&reason)
                .bind::<BigInt, _>(job.id)
                .bind::<Integer, _>(job.attempts)
                .execute(c)?
        } else {
            q.bind::<BigInt, _>(job.id)
                .bind::<Integer, _>(job.attempts)
                .execute(c)?
        }
    });
    Ok(if n == 1 { settled } else { Settled::Lost })
}

/// The `n`-th bind placeholder (1-based) of the connection's SQL dialect. Only valid when the
/// placeholders appear in the statement in order.
fn placeholder(conn: &DbConn, n: usize) -> String {
    if super::dispatch::is_postgres(conn) {
        format!("${n}")
    } else {
        "?".to_string()
    }
}

/// Puts a dead job back in the queue, due now, with its attempts reset (an administrator's
/// retry); returns whether it was dead.
pub fn retry(conn: &mut DbConn, t: &QueueTable, id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    let QueueTable {
        table,
        status,
        due,
        attempts,
        pending,
        dead,
        ..
    } = *t;
    let sql = format!(
        "UPDATE {table} SET {status} = '{pending}', {attempts} = 0, {due} = {p1} \
         WHERE id = {p2} AND {status} = '{dead}'",
        p1 = placeholder(conn, 1),
        p2 = placeholder(conn, 2),
    );
    let n = crate::db_dispatch!(conn, |c| diesel::sql_query(sql.as_str())
        .bind::<Timestamp, _>(at)
        .bind::<BigInt, _>(id)
        .execute(c)?);
    if n == 1 {
        notify(conn, t.kind)?;
    }
    Ok(n == 1)
}

/// Wakes the workers of `kind` once the caller's transaction commits (see the module
/// documentation): `pg_notify` on PostgreSQL, this process's workers on SQLite.
pub fn notify(conn: &mut DbConn, kind: JobKind) -> QueryResult<()> {
    match conn {
        DbConn::Pg(c) => {
            diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<Text, _>(CHANNEL)
                .bind::<Text, _>(kind.as_str())
                .execute(c)?;
        }
        DbConn::Sqlite(_) => wake_key(SQLITE_KEY).wake(kind),
    }
    Ok(())
}

/// The wake-up key of every SQLite database in the process (SQLite runs in one process).
const SQLITE_KEY: &str = "sqlite";

/// The wake-up key of a database: its URL on PostgreSQL (notifications are per database).
pub fn wake_key_of(backend: Backend, database_url: &str) -> String {
    match backend {
        Backend::Postgres => database_url.to_string(),
        Backend::Sqlite => SQLITE_KEY.to_string(),
    }
}

/// The wake-up signals of one database in this process: one counter per kind that workers
/// watch, so a wake-up that arrives while a worker is busy is not lost.
#[derive(Debug)]
pub struct Wake {
    kinds: [watch::Sender<u64>; 4],
}

impl Wake {
    fn new() -> Wake {
        Wake {
            kinds: std::array::from_fn(|_| watch::channel(0).0),
        }
    }

    /// Wakes the workers of `kind`.
    pub fn wake(&self, kind: JobKind) {
        self.kinds[kind.index()].send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Wakes the workers of every kind.
    pub fn wake_all(&self) {
        for k in JobKind::ALL {
            self.wake(k);
        }
    }

    /// A receiver that sees every later wake-up of `kind`.
    pub fn subscribe(&self, kind: JobKind) -> watch::Receiver<u64> {
        self.kinds[kind.index()].subscribe()
    }
}

static WAKES: LazyLock<Mutex<HashMap<String, Arc<Wake>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The wake-up signals for a key from [`wake_key_of`].
pub fn wake_key(key: &str) -> Arc<Wake> {
    let mut map = WAKES.lock().unwrap_or_else(|p| p.into_inner());
    map.entry(key.to_string())
        .or_insert_with(|| Arc::new(Wake::new()))
        .clone()
}

/// The PostgreSQL listener thread of one process and database; stops when dropped.
#[derive(Debug)]
pub struct Listener {
    stop: Arc<AtomicBool>,
}

impl Listener {
    /// Starts listening on [`CHANNEL`] with a dedicated connection to `database_url`,
    /// forwarding every notification to `wake`.
    pub fn start(database_url: &str, wake: Arc<Wake>) -> std::io::Result<Listener> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let url = database_url.to_string();
        std::thread::Builder::new()
            .name("opencontact-listen".into())
            .spawn(move || listen(&url, &wake, &flag))?;
        Ok(Listener { stop })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn listen(url: &str, wake: &Wake, stop: &AtomicBool) {
    let mut failures = 0u32;
    while !stop.load(Ordering::Relaxed) {
        let mut conn = match diesel::PgConnection::establish(url).and_then(|mut c| {
            diesel::sql_query(format!("LISTEN {CHANNEL}"))
                .execute(&mut c)
                .map(|_| c)
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
        }) {
            Ok(c) => c,
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, "job queue: cannot listen for wake-ups");
                pause(stop, Duration::from_secs((1u64 << failures.min(5)).min(30)));
                continue;
            }
        };
        failures = 0;
        // Anything queued while we were not listening.
        wake.wake_all();
        'connected: while !stop.load(Ordering::Relaxed) {
            for n in conn.notifications_iter() {
                match n {
                    Ok(n) => match JobKind::parse(&n.payload) {
                        Some(k) => wake.wake(k),
                        None => wake.wake_all(),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "job queue: listener connection lost");
                        break 'connected;
                    }
                }
            }
            std::thread::sleep(LISTEN_CHECK);
        }
    }
}

/// Sleeps up to `d`, returning early when told to stop.
fn pause(stop: &AtomicBool, d: Duration) {
    let step = Duration::from_millis(100);
    let mut left = d;
    while !left.is_zero() && !stop.load(Ordering::Relaxed) {
        let s = left.min(step);
        std::thread::sleep(s);
        left = left.saturating_sub(s);
    }
}
