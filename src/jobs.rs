//! The one supervisor of background work, used by `serve` and by the test harness alike:
//! [`Supervisor::start`] runs one worker per job kind of the queue ([`crate::db::queue`]) — the
//! mail outbox, trigger deliveries, customer-info lookups and scheduled work (auto-complete) —
//! plus the IMAP pollers, and on PostgreSQL the listener that carries wake-ups between
//! processes. Dropping the supervisor stops all of it.
//!
//! [`Runner`] holds the loop written once for every kind: claim a batch, run each job through
//! its kind's function, settle jobs whose last attempt's lease ran out. A worker runs rounds
//! until one finds nothing, then waits for a wake-up or `Config::job_poll_every`.
//! [`Runner::run_pending`] runs every due job of every kind to completion (including those the
//! jobs themselves queue, such as a notification's mail); each kind's rounds are serialised, so
//! it also waits for a round a background worker of this process is in the middle of.
//!
//! Scheduled work lives in `scheduled_jobs`, one row per task ([`SCHEDULED`]): a task that
//! finishes is scheduled again after its interval, one that fails is retried with backoff, and
//! since the row is claimed like any job, only one node runs it per round.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::TimeDelta;
use diesel::prelude::*;
use tokio::sync::watch;

use crate::AppState;
use crate::automation::deliveries;
use crate::db::queue::{self, Claimed, JobKind, Listener, Outcome, QueueTable};
use crate::db::schema::scheduled_jobs;
use crate::db::{Backend, DbConn, now};
use crate::error::AppError;
use crate::integrations::customer_info::lookup;
use crate::notify::outbox;
use crate::tickets::settings as ticket_settings;

/// Jobs claimed per round.
const BATCH: i64 = 20;

/// Why a job whose last attempt's lease ran out is settled dead.
const LEASE_RAN_OUT: &str = "the worker stopped before the job finished";

/// Scheduled work's place in the job queue.
pub const SCHEDULED: QueueTable = QueueTable {
    kind: JobKind::Scheduled,
    table: "scheduled_jobs",
    status: "status",
    due: "run_at",
    attempts: "attempts",
    error: Some("last_error"),
    pending: "pending",
    running: "running",
    done: "done",
    dead: "failed",
    max_attempts: i32::MAX,
    lease: TimeDelta::minutes(30),
    error_limit: 1000,
};

/// A recurring task: its row name, when it first runs after the row is created, and its
/// interval.
#[derive(Debug, Clone, Copy)]
pub struct Task {
    /// The `scheduled_jobs.name`.
    pub name: &'static str,
    /// Delay of the first run.
    pub first_after: Duration,
    /// Interval between runs.
    pub every: Duration,
}

/// Every recurring task (statistics rollups will add theirs here).
pub const TASKS: [Task; 1] = [Task {
    name: "auto_complete",
    first_after: ticket_settings::AUTO_COMPLETE_FIRST_AFTER,
    every: ticket_settings::AUTO_COMPLETE_EVERY,
}];

fn table_of(kind: JobKind) -> &'static QueueTable {
    match kind {
        JobKind::Mail => &outbox::QUEUE,
        JobKind::Delivery => &deliveries::QUEUE,
        JobKind::CustomerInfo => &lookup::QUEUE,
        JobKind::Scheduled => &SCHEDULED,
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// Creates the rows of the recurring tasks that have none yet (in the caller's transaction).
pub fn ensure_scheduled(conn: &mut DbConn) -> QueryResult<()> {
    for task in TASKS {
        let values = (
            scheduled_jobs::name.eq(task.name),
            scheduled_jobs::run_at.eq(now() + delta(task.first_after)),
        );
        crate::db_dispatch!(conn, |c| diesel::insert_into(scheduled_jobs::table)
            .values(values)
            .on_conflict(scheduled_jobs::name)
            .do_nothing()
            .execute(c)?);
    }
    Ok(())
}

/// Runs the job loop for every kind; shared by a process's workers and its callers of
/// [`Runner::run_pending`].
pub struct Runner {
    webhooks: reqwest::Client,
    rounds: [tokio::sync::Mutex<()>; 4],
    /// Counts rounds that ran jobs, so [`Runner::run_pending`] notices a background worker's.
    epoch: AtomicU64,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner for the application's configuration.
    pub fn new(state: &AppState) -> Result<Runner, AppError> {
        let webhooks = deliveries::http_client(state.config.timeouts.webhook)
            .map_err(|e| AppError::Internal(format!("webhook client: {e}")))?;
        Ok(Runner {
            webhooks,
            rounds: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            epoch: AtomicU64::new(0),
        })
    }

    fn round_lock(&self, kind: JobKind) -> &tokio::sync::Mutex<()> {
        let i = JobKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        &self.rounds[i]
    }

    /// One round of `kind`: claims a batch of due jobs and runs them. Returns how many were
    /// claimed.
    pub async fn round(&self, state: &AppState, kind: JobKind) -> Result<usize, AppError> {
        let _one_at_a_time = self.round_lock(kind).lock().await;
        let table = table_of(kind);
        let claimed = state
            .db
            .write(move |c| Ok(queue::claim(c, table, now(), BATCH)?))
            .await?;
        for job in &claimed {
            let job = *job;
            let result = if job.beyond_last_attempt(table) {
                tracing::warn!(kind = kind.as_str(), job = job.id, "job lease ran out");
                state
                    .db
                    .write(move |c| {
                        if kind == JobKind::CustomerInfo {
                            lookup::abandon(c, &job)?;
                        }
                        queue::finish(c, table, &job, now(), Outcome::Dead(LEASE_RAN_OUT.into()))?;
                        Ok(())
                    })
                    .await
            } else {
                self.run_job(state, kind, job).await
            };
            // A job that could not be settled keeps its lease and is claimed again after it.
            if let Err(e) = result {
                tracing::error!(kind = kind.as_str(), job = job.id, error = %e, "job failed");
            }
        }
        if !claimed.is_empty() {
            self.epoch.fetch_add(1, Ordering::SeqCst);
        }
        Ok(claimed.len())
    }

    async fn run_job(&self, state: &AppState, kind: JobKind, job: Claimed) -> Result<(), AppError> {
        match kind {
            JobKind::Mail => outbox::send_one(state, job).await,
            JobKind::Delivery => deliveries::deliver(state, &self.webhooks, job).await,
            JobKind::CustomerInfo => lookup::run_lookup(state, job).await,
            JobKind::Scheduled => run_scheduled(state, job).await,
        }
    }

    /// Runs every due job of every kind until none is left (jobs queued by jobs included);
    /// returns how many ran. Retries become due after their backoff, so this ends.
    pub async fn run_pending(&self, state: &AppState) -> Result<usize, AppError> {
        let mut total = 0;
        loop {
            let before = self.epoch.load(Ordering::SeqCst);
            let mut n = 0;
            for kind in JobKind::ALL {
                n += self.round(state, kind).await?;
            }
            total += n;
            if n == 0 && self.epoch.load(Ordering::SeqCst) == before {
                return Ok(total);
            }
        }
    }
}

/// Runs one claimed scheduled task and schedules its next run.
async fn run_scheduled(state: &AppState, job: Claimed) -> Result<(), AppError> {
    let id = job.id;
    let name: String = state
        .db
        .read(move |c| {
            Ok(scheduled_jobs::table
                .find(id)
                .select(scheduled_jobs::name)
                .first(c)?)
        })
        .await?;
    let Some(task) = TASKS.iter().find(|t| t.name == name).copied() else {
        let outcome = Outcome::Dead(format!("no task is called {name:?}"));
        return state
            .db
            .write(move |c| {
                queue::finish(c, &SCHEDULED, &job, now(), outcome)?;
                Ok(())
            })
            .await;
    };
    let db = state.db.clone();
    let result = match task.name {
        "auto_complete" => actix_web::web::block(move || ticket_settings::run_auto_complete(&db))
            .await
            .map_err(|e| AppError::Internal(format!("blocking task: {e}")))
            .and_then(|r| r),
        other => Err(AppError::Internal(format!("no task is called {other:?}"))),
    };
    let outcome = match result {
        Ok(n) => {
            if n > 0 {
                tracing::info!(task = task.name, count = n, "scheduled task done");
            }
            Outcome::RunAt(now() + delta(task.every))
        }
        Err(e) => {
            tracing::error!(task = task.name, error = %e, "scheduled task failed");
            Outcome::Retry(e.to_string())
        }
    };
    state
        .db
        .write(move |c| {
            queue::finish(c, &SCHEDULED, &job, now(), outcome)?;
            Ok(())
        })
        .await
}

/// The running background work of one application instance; dropping it stops the workers.
#[derive(Debug)]
pub struct Supervisor {
    runner: Arc<Runner>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    _listener: Option<Listener>,
}

impl Supervisor {
    /// Starts every background worker on the current actix runtime: one per job kind, the
    /// IMAP pollers, and on PostgreSQL the wake-up listener.
    pub fn start(state: actix_web::web::Data<AppState>) -> Result<Supervisor, AppError> {
        let runner = Arc::new(Runner::new(&state)?);
        state.db.write_blocking(|c| Ok(ensure_scheduled(c)?))?;
        let key = queue::wake_key_of(state.db.backend(), &state.config.database_url);
        let wake = queue::wake_key(&key);
        let listener = match state.db.backend() {
            Backend::Postgres => Some(
                Listener::start(&state.config.database_url, wake.clone())
                    .map_err(|e| AppError::Internal(format!("job listener: {e}")))?,
            ),
            Backend::Sqlite => None,
        };
        let mut tasks = Vec::new();
        for kind in JobKind::ALL {
            tasks.push(actix_web::rt::spawn(work(
                runner.clone(),
                state.clone(),
                kind,
                wake.subscribe(kind),
            )));
        }
        tasks.push(actix_web::rt::spawn(
            crate::channels::email::poller::supervise(state),
        ));
        Ok(Supervisor {
            runner,
            tasks,
            _listener: listener,
        })
    }

    /// The job loop this supervisor's workers use.
    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    /// Runs every due job now (see [`Runner::run_pending`]).
    pub async fn run_pending(&self, state: &AppState) -> Result<usize, AppError> {
        self.runner.run_pending(state).await
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// One kind's worker: rounds while there is work, then a wait for a wake-up or the poll
/// interval.
async fn work(
    runner: Arc<Runner>,
    state: actix_web::web::Data<AppState>,
    kind: JobKind,
    mut woken: watch::Receiver<u64>,
) {
    let every = state.config.job_poll_every;
    loop {
        woken.borrow_and_update();
        let n = match runner.round(&state, kind).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(kind = kind.as_str(), error = %e, "job round failed");
                0
            }
        };
        if n == 0
            && matches!(
                tokio::time::timeout(every, woken.changed()).await,
                Ok(Err(_))
            )
        {
            // The wake-up channel is gone: poll only.
            tokio::time::sleep(every).await;
        }
    }
}
