//! Saved views of the ticket console (SPEC §5.2 ①, ④) and the numbers shown beside them.
//!
//! Every view is a union of [`Slice`]s: conjunctions of equal columns that are all in one index
//! ending with the id (see the `ticket_console` migration), so a slice is one index range
//! ordered by id and no row is read only to be thrown away. A page of a view reads at most
//! `limit` ids from each slice, newest first, and merges them, so every page costs a few index
//! range reads however many tickets the service holds; "all in my groups" reads one range per
//! group and "all transferred" one per transfer sub-state instead of sorting a large `IN (…)`.
//!
//! Counts are bounded: [`count_slice`] counts at most [`COUNT_CAP`] index entries and the page
//! shows "999+" beyond that, so no badge ever scans a whole table.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::db::DbConn;
use crate::db::schema::{service_members, ticket_stars, tickets};
use crate::db::types::ServiceKind;
use crate::tickets::Status;
use crate::tickets::lifecycle::TransferState;

/// Counts stop at this many tickets (shown as "999+").
pub const COUNT_CAP: i64 = 1000;

/// A saved view of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    /// My processing: assigned to me, `open`.
    MyOpen,
    /// My on hold: assigned to me, `reply`.
    MyHold,
    /// My resolved: assigned to me, `solved` (not spam).
    MySolved,
    /// My completed: assigned to me, `closed`.
    MyClosed,
    /// My transfers still open (the "my status" quick filter).
    MyTransfers,
    /// All tickets except the spam box.
    All,
    /// All unassigned (`new`).
    Unassigned,
    /// All tickets of my groups (one group when `group` is given).
    MyGroups,
    /// All tickets transferred to issue management or Dooray! (consultation services only).
    Transferred,
    /// The spam box.
    Spam,
    /// "All transferred", those sent to issue management only (a sub-link of the view).
    TransferredIssue,
    /// "All transferred", those sent to Dooray! only (a sub-link of the view).
    TransferredDooray,
}

impl View {
    /// The views listed in the sub-menu, in order ([`View::MyTransfers`] is a quick filter).
    pub const MENU: [View; 9] = [
        View::MyOpen,
        View::MyHold,
        View::MySolved,
        View::MyClosed,
        View::All,
        View::Unassigned,
        View::MyGroups,
        View::Transferred,
        View::Spam,
    ];

    /// The code used in `?view=`.
    pub fn code(self) -> &'static str {
        match self {
            View::MyOpen => "mine",
            View::MyHold => "mine_hold",
            View::MySolved => "mine_solved",
            View::MyClosed => "mine_closed",
            View::MyTransfers => "mine_transfers",
            View::All => "all",
            View::Unassigned => "unassigned",
            View::MyGroups => "groups",
            View::Transferred => "transferred",
            View::Spam => "spam",
            View::TransferredIssue => "transferred_issue",
            View::TransferredDooray => "transferred_dooray",
        }
    }

    /// Reads `?view=`.
    pub fn parse(s: &str) -> Option<View> {
        [View::MyTransfers]
            .into_iter()
            .chain(View::MENU)
            .chain(View::TRANSFER_TYPES)
            .find(|v| v.code() == s)
    }

    /// The i18n key of the view's name.
    pub fn label_key(self) -> &'static str {
        match self {
            View::MyOpen => "ticket.view.mine",
            View::MyHold => "ticket.view.mine_hold",
            View::MySolved => "ticket.view.mine_solved",
            View::MyClosed => "ticket.view.mine_closed",
            View::MyTransfers => "ticket.view.mine_transfers",
            View::All => "ticket.view.all",
            View::Unassigned => "ticket.view.unassigned",
            View::MyGroups => "ticket.view.groups",
            View::Transferred => "ticket.view.transferred",
            View::Spam => "ticket.view.spam",
            View::TransferredIssue => "dooray.view.issue",
            View::TransferredDooray => "dooray.view.dooray",
        }
    }

    /// "All transferred" split by type: the sub-links under the view.
    pub const TRANSFER_TYPES: [View; 2] = [View::TransferredIssue, View::TransferredDooray];

    /// Whether the view exists in a service of this kind (issue management has no transfers
    /// of its own).
    pub fn available(self, kind: ServiceKind) -> bool {
        !matches!(
            self,
            View::Transferred
                | View::MyTransfers
                | View::TransferredIssue
                | View::TransferredDooray
        ) || kind == ServiceKind::Consultation
    }
}

/// Transfer sub-states other than "none", each its own index range: issue management first,
/// then Dooray!.
const TRANSFER_STATES: [TransferState; 5] = [
    TransferState::IssueInProgress,
    TransferState::IssueAnswered,
    TransferState::DoorayTransferred,
    TransferState::DoorayInProgress,
    TransferState::DoorayAnswered,
];

/// The transfer sub-states of a still open transfer ("my transfers").
const OPEN_TRANSFER_STATES: [TransferState; 3] = [
    TransferState::IssueInProgress,
    TransferState::DoorayTransferred,
    TransferState::DoorayInProgress,
];

/// One index range of tickets: every set column must be equal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Slice {
    /// Assigned agent.
    pub assignee: Option<i64>,
    /// Status.
    pub status: Option<Status>,
    /// Group.
    pub group: Option<i64>,
    /// In the spam box or not.
    pub spam: Option<bool>,
    /// Transfer sub-state.
    pub transfer: Option<TransferState>,
}

impl Slice {
    /// The `WHERE` text of this slice. Only integers and the fixed codes of our enums are
    /// written into it, never user input.
    fn where_sql(&self, service_id: i64) -> String {
        let mut parts = vec![format!("service_id = {service_id}")];
        if let Some(a) = self.assignee {
            parts.push(format!("assignee_id = {a}"));
        }
        if let Some(s) = self.status {
            parts.push(format!("status = '{}'", s.as_str()));
        }
        if let Some(g) = self.group {
            parts.push(format!("group_id = {g}"));
        }
        if let Some(spam) = self.spam {
            parts.push(format!("is_spam = {}", if spam { "TRUE" } else { "FALSE" }));
        }
        if let Some(t) = self.transfer {
            parts.push(format!("transfer_state = '{}'", t.as_str()));
        }
        parts.join(" AND ")
    }
}

/// Who is looking, for the "my …" views.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The service.
    pub service_id: i64,
    /// The service kind.
    pub kind: ServiceKind,
    /// The agent.
    pub user_id: i64,
    /// The agent's groups in the service, in display order.
    pub groups: Vec<i64>,
}

/// The slices of a view. `group` narrows "all in my groups" to one of the agent's groups (an
/// unknown or foreign group gives no slice, hence an empty list).
pub fn slices(view: View, who: &Viewer, group: Option<i64>) -> Vec<Slice> {
    let me = Some(who.user_id);
    let not_spam = Some(false);
    match view {
        View::MyOpen => vec![Slice {
            assignee: me,
            status: Some(Status::Open),
            spam: not_spam,
            ..Slice::default()
        }],
        View::MyHold => vec![Slice {
            assignee: me,
            status: Some(Status::Reply),
            spam: not_spam,
            ..Slice::default()
        }],
        View::MySolved => vec![Slice {
            assignee: me,
            status: Some(Status::Solved),
            spam: not_spam,
            ..Slice::default()
        }],
        View::MyClosed => vec![Slice {
            assignee: me,
            status: Some(Status::Closed),
            spam: not_spam,
            ..Slice::default()
        }],
        View::MyTransfers => OPEN_TRANSFER_STATES
            .iter()
            .map(|t| Slice {
                assignee: me,
                transfer: Some(*t),
                spam: not_spam,
                ..Slice::default()
            })
            .collect(),
        View::All => vec![Slice {
            spam: not_spam,
            ..Slice::default()
        }],
        View::Unassigned => vec![Slice {
            status: Some(Status::New),
            spam: not_spam,
            ..Slice::default()
        }],
        View::MyGroups => who
            .groups
            .iter()
            .filter(|g| group.is_none_or(|only| only == **g))
            .map(|g| Slice {
                group: Some(*g),
                spam: not_spam,
                ..Slice::default()
            })
            .collect(),
        View::Transferred | View::TransferredIssue | View::TransferredDooray => TRANSFER_STATES
            .iter()
            .filter(|t| match view {
                View::TransferredIssue => !t.is_dooray(),
                View::TransferredDooray => t.is_dooray(),
                _ => true,
            })
            .map(|t| Slice {
                transfer: Some(*t),
                spam: not_spam,
                ..Slice::default()
            })
            .collect(),
        View::Spam => vec![Slice {
            spam: Some(true),
            ..Slice::default()
        }],
    }
}

/// Where a page starts and what it keeps.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    /// Only tickets older than this id (the next page).
    pub before: Option<i64>,
    /// Only tickets newer than this id (polling for new tickets).
    pub after: Option<i64>,
    /// Only tickets this agent starred.
    pub starred_by: Option<i64>,
}

/// Ids of one slice, newest first, at most `limit`.
fn slice_ids(
    conn: &mut DbConn,
    service_id: i64,
    s: &Slice,
    w: &Window,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    let mut q = tickets::table
        .filter(tickets::service_id.eq(service_id))
        .select(tickets::id)
        .into_boxed();
    if let Some(a) = s.assignee {
        q = q.filter(tickets::assignee_id.eq(a));
    }
    if let Some(st) = s.status {
        q = q.filter(tickets::status.eq(st.as_str()));
    }
    if let Some(g) = s.group {
        q = q.filter(tickets::group_id.eq(g));
    }
    if let Some(spam) = s.spam {
        q = q.filter(tickets::is_spam.eq(spam));
    }
    if let Some(t) = s.transfer {
        q = q.filter(tickets::transfer_state.eq(t.as_str()));
    }
    if let Some(b) = w.before {
        q = q.filter(tickets::id.lt(b));
    }
    if let Some(a) = w.after {
        q = q.filter(tickets::id.gt(a));
    }
    if let Some(u) = w.starred_by {
        q = q.filter(
            tickets::id.eq_any(
                ticket_stars::table
                    .filter(ticket_stars::user_id.eq(u))
                    .select(ticket_stars::ticket_id),
            ),
        );
    }
    q.order(tickets::id.desc()).limit(limit).load(conn)
}

/// Ids of a union of slices, newest first, at most `limit`: each slice is read up to `limit`
/// from its own index range and the results are merged.
pub fn page_ids(
    conn: &mut DbConn,
    service_id: i64,
    slices: &[Slice],
    w: &Window,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    let mut all: Vec<i64> = Vec::new();
    for s in slices {
        all.extend(slice_ids(conn, service_id, s, w, limit)?);
    }
    all.sort_unstable_by(|a, b| b.cmp(a));
    all.dedup();
    all.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(all)
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many tickets a slice holds, counting at most `cap` index entries.
pub fn count_slice(conn: &mut DbConn, service_id: i64, s: &Slice, cap: i64) -> QueryResult<i64> {
    let sql = format!(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM tickets WHERE {} LIMIT {cap}) capped",
        s.where_sql(service_id)
    );
    Ok(diesel::sql_query(sql).get_result::<CountRow>(conn)?.n)
}

/// How many tickets a view holds, at most [`COUNT_CAP`] (its slices never overlap).
pub fn count_view(conn: &mut DbConn, service_id: i64, slices: &[Slice]) -> QueryResult<i64> {
    let mut total = 0;
    for s in slices {
        if total >= COUNT_CAP {
            break;
        }
        total += count_slice(conn, service_id, s, COUNT_CAP - total)?;
    }
    Ok(total.min(COUNT_CAP))
}

/// A bounded count as shown: `999+` at the cap.
pub fn count_label(n: i64) -> String {
    if n >= COUNT_CAP {
        format!("{}+", COUNT_CAP - 1)
    } else {
        n.to_string()
    }
}

/// The inflow mini-board (SPEC §5.2 ②).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Board {
    /// Members with the ticket permission.
    pub agents: i64,
    /// Tickets received since midnight in the service's time zone.
    pub today: i64,
    /// Of those, still unassigned.
    pub unassigned_today: i64,
    /// All unassigned tickets (bounded by [`COUNT_CAP`]).
    pub unassigned: i64,
    /// Tickets received in the last 24 hours (spam left out).
    pub last_24h: i64,
    /// Of those, now resolved or completed.
    pub resolved_24h: i64,
}

impl Board {
    /// The 24-hour resolution rate in whole percent, `None` without tickets.
    pub fn rate_percent(&self) -> Option<i64> {
        (self.last_24h > 0).then(|| (self.resolved_24h * 100 + self.last_24h / 2) / self.last_24h)
    }
}

/// The smallest id among the service's tickets created at or after `since` (ids grow with
/// creation time, so `id >= it` turns a time range into an id range every index ends with).
fn first_id_since(
    conn: &mut DbConn,
    service_id: i64,
    since: NaiveDateTime,
) -> QueryResult<Option<i64>> {
    tickets::table
        .filter(tickets::service_id.eq(service_id))
        .filter(tickets::created_at.ge(since))
        // `id + 0`: PostgreSQL would otherwise turn `min(id)` into a walk of the primary key
        // from its smallest end, filtering by time, instead of reading this range's index.
        .select(diesel::dsl::min(tickets::id + 0_i64))
        .first(conn)
}

/// Computes the mini-board. `today_start` is local midnight converted to UTC; `now` is UTC.
pub fn board(
    conn: &mut DbConn,
    service_id: i64,
    today_start: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<Board> {
    let agents: i64 = service_members::table
        .filter(service_members::service_id.eq(service_id))
        .filter(service_members::perm_ticket.eq(true))
        .count()
        .get_result(conn)?;
    let unassigned = count_slice(
        conn,
        service_id,
        &Slice {
            status: Some(Status::New),
            spam: Some(false),
            ..Slice::default()
        },
        COUNT_CAP,
    )?;
    let mut b = Board {
        agents,
        unassigned,
        ..Board::default()
    };
    if let Some(first) = first_id_since(conn, service_id, today_start)? {
        b.today = tickets::table
            .filter(tickets::service_id.eq(service_id))
            .filter(tickets::created_at.ge(today_start))
            .count()
            .get_result(conn)?;
        b.unassigned_today = tickets::table
            .filter(tickets::service_id.eq(service_id))
            .filter(tickets::status.eq(Status::New.as_str()))
            .filter(tickets::id.ge(first))
            .filter(tickets::created_at.ge(today_start))
            .filter(tickets::is_spam.eq(false))
            .count()
            .get_result(conn)?;
    }
    let since = now - TimeDelta::hours(24);
    if let Some(first) = first_id_since(conn, service_id, since)? {
        b.last_24h = tickets::table
            .filter(tickets::service_id.eq(service_id))
            .filter(tickets::is_spam.eq(false))
            .filter(tickets::id.ge(first))
            .filter(tickets::created_at.ge(since))
            .count()
            .get_result(conn)?;
        b.resolved_24h = tickets::table
            .filter(tickets::service_id.eq(service_id))
            .filter(tickets::status.eq_any([Status::Solved.as_str(), Status::Closed.as_str()]))
            .filter(tickets::id.ge(first))
            .filter(tickets::created_at.ge(since))
            .filter(tickets::is_spam.eq(false))
            .count()
            .get_result(conn)?;
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_codes_round_trip() {
        for v in View::MENU.into_iter().chain([View::MyTransfers]) {
            assert_eq!(View::parse(v.code()), Some(v));
        }
        assert_eq!(View::parse("nope"), None);
    }

    #[test]
    fn slices_write_only_integers_and_codes() {
        let s = Slice {
            assignee: Some(7),
            status: Some(Status::Open),
            spam: Some(false),
            ..Slice::default()
        };
        assert_eq!(
            s.where_sql(3),
            "service_id = 3 AND assignee_id = 7 AND status = 'open' AND is_spam = FALSE"
        );
    }

    #[test]
    fn group_view_narrows_to_one_of_my_groups() {
        let who = Viewer {
            service_id: 1,
            kind: ServiceKind::Consultation,
            user_id: 9,
            groups: vec![4, 5],
        };
        assert_eq!(slices(View::MyGroups, &who, None).len(), 2);
        assert_eq!(slices(View::MyGroups, &who, Some(5))[0].group, Some(5));
        assert!(slices(View::MyGroups, &who, Some(6)).is_empty());
        assert_eq!(count_label(COUNT_CAP), "999+");
        assert_eq!(count_label(12), "12");
    }

    #[test]
    fn rate_rounds_to_whole_percent() {
        let b = Board {
            last_24h: 3,
            resolved_24h: 2,
            ..Board::default()
        };
        assert_eq!(b.rate_percent(), Some(67));
        assert_eq!(Board::default().rate_percent(), None);
    }
}
