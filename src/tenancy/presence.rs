//! Agents' presence for assignment "only agents online now" (SPEC §3.4): every signed-in console
//! request touches `users.last_seen_at`, at most once a minute per session (the session
//! remembers the last touch, so most requests cost nothing); signing out clears it. An agent is
//! online when seen within the last [`ONLINE_MINUTES`] minutes.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::schema::users;
use crate::db::{DbConn, now};
use crate::web::Viewer;

/// Minutes after the last request during which an agent counts as online.
pub const ONLINE_MINUTES: i64 = 10;
/// Seconds between two touches of one session.
pub const TOUCH_EVERY_SECS: i64 = 60;
/// Session key holding the epoch second of the session's last touch.
const SESSION_SEEN: &str = "seen";

/// Records that the viewer's user is active now, unless this session did so within the last
/// [`TOUCH_EVERY_SECS`] seconds. A failure is logged, never shown: presence must not break
/// pages.
pub async fn touch(viewer: &Viewer, user_id: i64) {
    let at = now();
    let second = at.and_utc().timestamp();
    let last = viewer.session.get::<i64>(SESSION_SEEN).ok().flatten();
    if last.is_some_and(|l| (0..TOUCH_EVERY_SECS).contains(&(second - l))) {
        return;
    }
    let done = viewer
        .state
        .db
        .write(move |c| {
            diesel::update(users::table.find(user_id))
                .set(users::last_seen_at.eq(Some(at)))
                .execute(c)?;
            Ok(())
        })
        .await;
    match done {
        Ok(()) => {
            let _ = viewer.session.insert(SESSION_SEEN, second);
        }
        Err(e) => tracing::warn!(user = user_id, error = %e, "presence not recorded"),
    }
}

/// Forgets the user's presence (on sign-out), inside the caller's transaction.
pub fn clear(conn: &mut DbConn, user_id: i64) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::last_seen_at.eq(None::<NaiveDateTime>))
        .execute(conn)?;
    Ok(())
}

/// The earliest last-seen time that still counts as online.
pub fn online_since() -> NaiveDateTime {
    now() - TimeDelta::minutes(ONLINE_MINUTES)
}

/// Which of `user_ids` are online now.
pub fn online_among(conn: &mut DbConn, user_ids: &[i64]) -> QueryResult<Vec<i64>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    users::table
        .filter(users::id.eq_any(user_ids))
        .filter(users::last_seen_at.ge(online_since()))
        .select(users::id)
        .load(conn)
}
