//! The pollers: one task per enabled account of an enabled service, kept by [`supervise`], which
//! the job supervisor ([`crate::jobs`]) runs in `serve` and in the test harness. It compares the running pollers with
//! the database every 30 seconds, or at once after [`accounts_changed`], stopping the pollers
//! of accounts that were disabled, deleted or edited and starting the missing ones.
//!
//! Each poller runs [`import::poll_account_once`]; then, where the server offers IDLE, it
//! waits on a second connection until the server announces new mail (at most 25 minutes, after
//! which it polls anyway), otherwise it sleeps a minute. Failures back off from 30 seconds to
//! 15 minutes; the failure is shown on the account.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use chrono::NaiveDateTime;
use tokio::sync::{Notify, watch};

use super::accounts::MailAccount;
use super::imap;
use super::import::{self, PollError};
use crate::AppState;

/// How often the supervisor compares the pollers with the database.
const SYNC_EVERY: Duration = Duration::from_secs(30);
/// The wait between polls when the server does not offer IDLE.
const POLL_INTERVAL: Duration = Duration::from_secs(60);
/// The longest IDLE before polling anyway (servers drop idle clients after 30 minutes).
const IDLE_LIMIT: Duration = Duration::from_secs(25 * 60);

static CHANGED: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Tells the supervisors that accounts were added, changed or removed.
pub fn accounts_changed() {
    CHANGED.notify_waiters();
}

/// Keeps one poller running per enabled account until the task is dropped (its pollers stop
/// with it).
pub async fn supervise(state: actix_web::web::Data<AppState>) {
    let mut running: HashMap<i64, (NaiveDateTime, watch::Sender<bool>)> = HashMap::new();
    loop {
        let notified = CHANGED.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match state.db.read(|c| Ok(MailAccount::enabled_stamps(c)?)).await {
            Ok(list) => {
                running.retain(|id, (stamp, stop)| {
                    let keep = !stop.is_closed() && list.iter().any(|(i, s)| i == id && s == stamp);
                    if !keep {
                        let _ = stop.send(true);
                    }
                    keep
                });
                for (id, stamp) in list {
                    if let std::collections::hash_map::Entry::Vacant(e) = running.entry(id) {
                        let (tx, rx) = watch::channel(false);
                        actix_web::rt::spawn(run_poller(state.clone(), id, rx));
                        e.insert((stamp, tx));
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "mail pollers: could not read the accounts"),
        }
        let _ = tokio::time::timeout(SYNC_EVERY, notified).await;
    }
}

fn backoff(failures: u32) -> Duration {
    let exp = failures.clamp(1, 6) - 1;
    Duration::from_secs((30u64 << exp).min(900))
}

/// Sleeps, or returns `true` at once when told to stop.
async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => *stop.borrow(),
        r = stop.changed() => r.is_err() || *stop.borrow(),
    }
}

async fn run_poller(
    state: actix_web::web::Data<AppState>,
    id: i64,
    mut stop: watch::Receiver<bool>,
) {
    let mut failures = 0u32;
    loop {
        if *stop.borrow() {
            return;
        }
        let stopped = match import::poll_account_once(&state, id).await {
            Ok(r) if r.more => {
                failures = 0;
                continue;
            }
            Ok(r) => {
                failures = 0;
                if r.idle {
                    idle_or_stop(&state, id, &mut stop).await
                } else {
                    sleep_or_stop(&mut stop, POLL_INTERVAL).await
                }
            }
            Err(PollError::Disabled) => return,
            Err(_) => {
                failures = failures.saturating_add(1);
                sleep_or_stop(&mut stop, backoff(failures)).await
            }
        };
        if stopped {
            return;
        }
    }
}

/// Waits with IDLE until the server reports a change; returns `true` when told to stop.
async fn idle_or_stop(state: &AppState, id: i64, stop: &mut watch::Receiver<bool>) -> bool {
    let account = match state.db.read(move |c| Ok(MailAccount::get(c, id)?)).await {
        Ok(Some(a)) => a,
        _ => return sleep_or_stop(stop, POLL_INTERVAL).await,
    };
    let target = account.target(&state.secret);
    let opened = match imap::open(&target).await {
        Ok(o) => o,
        Err(_) => return sleep_or_stop(stop, POLL_INTERVAL).await,
    };
    // Mail that arrived after the poll but before this connection is not announced by IDLE.
    let last = u32::try_from(account.last_uid).unwrap_or(0);
    let limit = match opened.inbox.uid_next {
        Some(next) if next > last.saturating_add(1) => return false,
        Some(_) => IDLE_LIMIT,
        None => POLL_INTERVAL,
    };
    let mut handle = opened.session.idle();
    if tokio::time::timeout(imap::COMMAND_TIMEOUT, handle.init())
        .await
        .map_or(true, |r| r.is_err())
    {
        return sleep_or_stop(stop, POLL_INTERVAL).await;
    }
    {
        let (wait, _interrupt) = handle.wait_with_timeout(limit);
        tokio::select! {
            r = wait => {
                if r.is_err() {
                    return sleep_or_stop(stop, Duration::from_secs(5)).await;
                }
            }
            _ = stop.changed() => return true,
        }
    }
    if let Ok(Ok(mut session)) = tokio::time::timeout(Duration::from_secs(5), handle.done()).await {
        let _ = tokio::time::timeout(Duration::from_secs(5), session.logout()).await;
    }
    *stop.borrow()
}
