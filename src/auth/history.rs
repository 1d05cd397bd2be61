//! Login history and login throttling. Every sign-in, sign-out and refused attempt is a row in
//! `login_events`; throttling counts recent refusals per login and per IP from the same rows.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::schema::login_events;
use crate::db::search::{contains_pattern, lower};
use crate::db::types::LoginEventKind;
use crate::db::{DbConn, now};

/// The window over which failures are counted.
pub const THROTTLE_WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Failures per login within the window before sign-in is refused.
pub const MAX_FAILURES_PER_LOGIN: i64 = 5;
/// Failures per IP address within the window before sign-in is refused.
pub const MAX_FAILURES_PER_IP: i64 = 20;

/// One row of the login history.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = login_events)]
pub struct LoginEvent {
    /// Key.
    pub id: i64,
    /// The member, when known.
    pub user_id: Option<i64>,
    /// The login ID that was typed.
    pub login: String,
    /// `login`, `logout` or `failed`.
    pub kind: String,
    /// Client address.
    pub ip: String,
    /// Browser.
    pub user_agent: String,
    /// When.
    pub created_at: NaiveDateTime,
}

/// Records an event.
pub fn record(
    conn: &mut DbConn,
    user_id: Option<i64>,
    login: &str,
    kind: LoginEventKind,
    ip: &str,
    user_agent: &str,
) -> QueryResult<()> {
    let login: String = login.trim().chars().take(100).collect();
    diesel::insert_into(login_events::table)
        .values((
            login_events::user_id.eq(user_id),
            login_events::login.eq(login),
            login_events::kind.eq(kind.as_str()),
            login_events::ip.eq(ip),
            login_events::user_agent.eq(user_agent),
            login_events::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// If sign-in is currently refused for this login or IP, the minutes until it is allowed again.
pub fn throttled_minutes(conn: &mut DbConn, login: &str, ip: &str) -> QueryResult<Option<i64>> {
    let since = now() - THROTTLE_WINDOW;
    let by_login: Vec<NaiveDateTime> = login_events::table
        .filter(login_events::login.eq(login.trim()))
        .filter(login_events::kind.eq(LoginEventKind::Failed.as_str()))
        .filter(login_events::created_at.gt(since))
        .order(login_events::created_at.desc())
        .limit(MAX_FAILURES_PER_LOGIN)
        .select(login_events::created_at)
        .load(conn)?;
    let by_ip: Vec<NaiveDateTime> = login_events::table
        .filter(login_events::ip.eq(ip))
        .filter(login_events::kind.eq(LoginEventKind::Failed.as_str()))
        .filter(login_events::created_at.gt(since))
        .order(login_events::created_at.desc())
        .limit(MAX_FAILURES_PER_IP)
        .select(login_events::created_at)
        .load(conn)?;
    // Locked until the oldest counted failure leaves the window.
    let until = |rows: &[NaiveDateTime], max: i64| -> Option<NaiveDateTime> {
        if rows.len() as i64 >= max {
            rows.last().map(|t| *t + THROTTLE_WINDOW)
        } else {
            None
        }
    };
    let lock = until(&by_login, MAX_FAILURES_PER_LOGIN).max(until(&by_ip, MAX_FAILURES_PER_IP));
    Ok(lock.map(|t| ((t - now()).num_seconds() + 59).max(60) / 60))
}

/// A page of the history, newest first, optionally for one member; keyset by id.
pub fn page(
    conn: &mut DbConn,
    user_id: Option<i64>,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<LoginEvent>> {
    let filter = HistoryFilter {
        user_id,
        ..HistoryFilter::default()
    };
    filtered_page(conn, &filter, before_id, limit)
}

/// What the login-history list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// One member's events.
    pub user_id: Option<i64>,
    /// Events whose typed login contains this text (case-insensitively).
    pub login_contains: Option<String>,
    /// One kind of event.
    pub kind: Option<LoginEventKind>,
}

/// A filtered page of the history, newest first; keyset by id (`before_id` is the last id of
/// the previous page).
pub fn filtered_page(
    conn: &mut DbConn,
    filter: &HistoryFilter,
    before_id: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<LoginEvent>> {
    let mut q = login_events::table
        .select(LoginEvent::as_select())
        .into_boxed();
    if let Some(uid) = filter.user_id {
        q = q.filter(login_events::user_id.eq(uid));
    }
    if let Some(text) = filter.login_contains.as_deref() {
        q = q.filter(
            lower(login_events::login)
                .like(contains_pattern(text))
                .escape('\\'),
        );
    }
    if let Some(kind) = filter.kind {
        q = q.filter(login_events::kind.eq(kind.as_str()));
    }
    if let Some(before) = before_id {
        q = q.filter(login_events::id.lt(before));
    }
    q.order(login_events::id.desc()).limit(limit).load(conn)
}
