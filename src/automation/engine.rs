//! Trigger evaluation (SPEC §3.4). [`on_ticket_event`] subscribes to the ticket events
//! ([`crate::tickets::events`]) and runs inside the transaction of the change: the service's active triggers are checked top to bottom against
//! the ticket (and, for updates, against its state before the change, for "changed"); a trigger
//! fires when every required row holds and, if it has optional rows, at least one of them
//! does. State changes (assign, group, intake type, priority, complete) are applied in the same
//! transaction, so later triggers see them and the last one wins; side effects go through
//! the queue of [`super::deliveries`] (notification mails, forwards, callback URLs and chat
//! webhooks), whose worker renders texts through the substitution catalogue
//! ([`super::mails`]) and hands mails to the mail outbox. A notification's recipients and its
//! language (the ticket's, else the service's default) are fixed here, at firing time.
//!
//! Loop guard: changes made by triggers do not evaluate triggers again (a thread-local flag
//! marks the evaluation, which always runs on one blocking thread inside one transaction).

use std::cell::Cell;
use std::collections::HashMap;

use diesel::prelude::*;
use rand::Rng;

use super::deliveries::{self, DeliveryKind};
use super::model::{Action, Condition, Op, Recipient, Strategy, Trigger, log_firing, pick_text};
use crate::common::text::html_to_text;
use crate::db::dispatch::lock_service;
use crate::db::schema::{
    categories, field_defs, group_members, service_members, services, ticket_entries,
    ticket_field_values, tickets, trigger_round_robin, users,
};
use crate::db::types::text_enum;
use crate::db::{DbConn, now};
use crate::tenancy::service::Service;
use crate::tickets::events::{Record, TicketEvent};
use crate::tickets::{Priority, Status, Ticket, record_event};

thread_local! {
    static EVALUATING: Cell<bool> = const { Cell::new(false) };
}

text_enum! {
    /// What happened to the ticket.
    Event {
        /// It was created.
        Created => "created",
        /// It was changed.
        Updated => "updated",
    }
}

/// The values conditions look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Internal key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Public ID.
    pub public_id: String,
    /// Status code.
    pub status: String,
    /// Intake type.
    pub intake_type: Option<i64>,
    /// Resolution type.
    pub resolution_type: Option<i64>,
    /// Channel code.
    pub channel: String,
    /// Priority code.
    pub priority: String,
    /// Group.
    pub group: Option<i64>,
    /// Assignee.
    pub assignee: Option<i64>,
    /// Subject.
    pub subject: String,
    /// The first customer message as text.
    pub content: String,
    /// Customer name.
    pub customer_name: String,
    /// Customer e-mail.
    pub customer_email: String,
    /// Customer phone.
    pub customer_phone: String,
    /// The ticket's language.
    pub lang: String,
    /// Values of fields that are not encrypted, by field key.
    pub fields: HashMap<i64, String>,
    /// The customer's grade (SPEC §6.2).
    pub grade: Option<i64>,
}

impl Snapshot {
    /// Reads the ticket's values as they are now (with `row` standing in for the ticket row,
    /// e.g. its state before a change).
    pub fn of(conn: &mut DbConn, row: &Ticket) -> QueryResult<Snapshot> {
        let contact = crate::tickets::events::customer_contact(conn, row)?;
        let fields: Vec<(i64, String)> = ticket_field_values::table
            .inner_join(field_defs::table.on(field_defs::id.eq(ticket_field_values::field_id)))
            .filter(ticket_field_values::ticket_id.eq(row.id))
            .filter(field_defs::personal.eq(false))
            .select((ticket_field_values::field_id, ticket_field_values::value))
            .load(conn)?;
        Snapshot::with(conn, row, contact, fields)
    }

    /// The values of a ticket record read before a change ([`Record::read`]): its row, its
    /// customer's contact data and its field values then (personal ones left out).
    pub fn of_record(conn: &mut DbConn, before: &Record) -> QueryResult<Snapshot> {
        let ids: Vec<i64> = before.fields.iter().map(|f| f.field_id).collect();
        let personal: Vec<i64> = field_defs::table
            .filter(field_defs::id.eq_any(&ids))
            .filter(field_defs::personal.eq(true))
            .select(field_defs::id)
            .load(conn)?;
        let fields = before
            .fields
            .iter()
            .filter(|f| !personal.contains(&f.field_id))
            .map(|f| (f.field_id, f.value.clone()))
            .collect();
        Snapshot::with(
            conn,
            &before.ticket,
            (
                before.customer_name.clone(),
                before.customer_email.clone(),
                before.customer_phone.clone(),
            ),
            fields,
        )
    }

    fn with(
        conn: &mut DbConn,
        row: &Ticket,
        (customer_name, customer_email, customer_phone): (String, String, String),
        fields: Vec<(i64, String)>,
    ) -> QueryResult<Snapshot> {
        let content: Option<String> = ticket_entries::table
            .filter(ticket_entries::ticket_id.eq(row.id))
            .order(ticket_entries::id.asc())
            .select(ticket_entries::body)
            .first(conn)
            .optional()?;
        let grade = crate::customers::grades::grade_for_ticket(conn, row)?.map(|g| g.id);
        Ok(Snapshot {
            id: row.id,
            service_id: row.service_id,
            public_id: row.public_id.clone(),
            status: row.status.to_string(),
            intake_type: row.category_id,
            resolution_type: row.resolution_category_id,
            channel: row.channel.to_string(),
            priority: row.priority.to_string(),
            group: row.group_id,
            assignee: row.assignee_id,
            subject: row.subject.clone(),
            content: content.map(|c| html_to_text(&c)).unwrap_or_default(),
            customer_name,
            customer_email,
            customer_phone,
            lang: row.lang.clone(),
            fields: fields.into_iter().collect(),
            grade,
        })
    }

    /// The value of a condition target as text (ids as decimal, absent as empty).
    pub fn value(&self, target: &str, event: Event) -> String {
        let id = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        match target {
            "event" => event.as_str().to_string(),
            "status" => self.status.clone(),
            "intake_type" => id(self.intake_type),
            "resolution_type" => id(self.resolution_type),
            "channel" => self.channel.clone(),
            "priority" => self.priority.clone(),
            "group" => id(self.group),
            "assignee" => id(self.assignee),
            "subject" => self.subject.clone(),
            "content" => self.content.clone(),
            "customer_email" => self.customer_email.clone(),
            "customer_phone" => self.customer_phone.clone(),
            "customer_grade" => id(self.grade),
            other => other
                .strip_prefix("field:")
                .and_then(|f| f.parse::<i64>().ok())
                .and_then(|f| self.fields.get(&f).cloned())
                .unwrap_or_default(),
        }
    }
}

/// Whether one condition row holds.
pub fn holds(c: &Condition, event: Event, before: Option<&Snapshot>, after: &Snapshot) -> bool {
    let now_v = after.value(&c.target, event);
    let was = before.map(|b| b.value(&c.target, event));
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    let changed = match &was {
        Some(w) => w != &now_v,
        None => false,
    };
    match c.op {
        Op::Equals => same(&now_v, &c.value),
        Op::NotEquals => !same(&now_v, &c.value),
        Op::Changed => changed,
        Op::ChangedTo => changed && same(&now_v, &c.value),
        Op::Contains => now_v
            .to_lowercase()
            .contains(&c.value.trim().to_lowercase()),
        Op::NotContains => !now_v
            .to_lowercase()
            .contains(&c.value.trim().to_lowercase()),
    }
}

/// Whether a trigger's conditions hold: every required row, and at least one optional row if
/// there are any. A trigger without conditions never fires.
pub fn matches(
    conditions: &[Condition],
    event: Event,
    before: Option<&Snapshot>,
    after: &Snapshot,
) -> bool {
    if conditions.is_empty() {
        return false;
    }
    let (required, optional): (Vec<&Condition>, Vec<&Condition>) =
        conditions.iter().partition(|c| c.required);
    required.iter().all(|c| holds(c, event, before, after))
        && (optional.is_empty() || optional.iter().any(|c| holds(c, event, before, after)))
}

/// The trigger engine's subscription to [`TicketEvent`]s (registered at start-up; runs inside
/// the transaction of the change). Events raised by the triggers' own changes are ignored.
pub fn on_ticket_event(conn: &mut DbConn, event: &TicketEvent<'_>) -> QueryResult<()> {
    match event {
        TicketEvent::Created { ticket } => run(conn, ticket.id, Event::Created, None),
        TicketEvent::Updated { before, .. } => ticket_updated(conn, before),
        TicketEvent::FieldsChanged { before, .. } => {
            if EVALUATING.with(Cell::get) || !has_active(conn, before.ticket.service_id)? {
                return Ok(());
            }
            let snapshot = Snapshot::of_record(conn, before)?;
            run(conn, before.ticket.id, Event::Updated, Some(&snapshot))
        }
    }
}

/// Evaluates the triggers after a ticket changed; `before` is the row as it was read before
/// the change.
fn ticket_updated(conn: &mut DbConn, before: &Ticket) -> QueryResult<()> {
    if EVALUATING.with(Cell::get) || !has_active(conn, before.service_id)? {
        return Ok(());
    }
    let snapshot = Snapshot::of(conn, before)?;
    run(conn, before.id, Event::Updated, Some(&snapshot))
}

/// Whether the service has an active trigger (so reading the state before a change is
/// worth it).
fn has_active(conn: &mut DbConn, service_id: i64) -> QueryResult<bool> {
    use crate::db::schema::triggers;
    Ok(triggers::table
        .filter(triggers::service_id.eq(service_id))
        .filter(triggers::enabled.eq(true))
        .select(triggers::id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        EVALUATING.with(|e| e.set(false));
    }
}

fn run(
    conn: &mut DbConn,
    ticket_id: i64,
    event: Event,
    before: Option<&Snapshot>,
) -> QueryResult<()> {
    if EVALUATING.with(Cell::get) {
        return Ok(());
    }
    let Some(row) = load(conn, ticket_id)? else {
        return Ok(());
    };
    let triggers = Trigger::active(conn, row.service_id)?;
    if triggers.is_empty() {
        return Ok(());
    }
    EVALUATING.with(|e| e.set(true));
    let _guard = Guard;
    let mut after = Snapshot::of(conn, &row)?;
    for trigger in &triggers {
        if !matches(&trigger.conditions, event, before, &after) {
            continue;
        }
        let mut done = Vec::new();
        for action in &trigger.actions {
            done.push(apply(conn, trigger, action, event, &after)?);
            if let Some(row) = load(conn, ticket_id)? {
                after = Snapshot::of(conn, &row)?;
            }
        }
        log_firing(
            conn,
            trigger.row.id,
            ticket_id,
            event.as_str(),
            &done.join("; "),
        )?;
    }
    Ok(())
}

/// Which triggers would fire for the ticket now (the "test run"): their ids, evaluated as a
/// `created` event and as an `updated` event without changes.
pub fn dry_run(conn: &mut DbConn, ticket: &Ticket) -> QueryResult<Vec<(i64, bool, bool)>> {
    let snap = Snapshot::of(conn, ticket)?;
    Ok(Trigger::active(conn, ticket.service_id)?
        .iter()
        .map(|t| {
            (
                t.row.id,
                matches(&t.conditions, Event::Created, None, &snap),
                matches(&t.conditions, Event::Updated, Some(&snap), &snap),
            )
        })
        .collect())
}

fn load(conn: &mut DbConn, id: i64) -> QueryResult<Option<Ticket>> {
    tickets::table
        .find(id)
        .select(Ticket::as_select())
        .first(conn)
        .optional()
}

/// Agents of a group who may be assigned tickets (ticket permission and assignment toggle on,
/// account active), in the group's order.
pub fn assignable_members(
    conn: &mut DbConn,
    service_id: i64,
    group_id: i64,
) -> QueryResult<Vec<i64>> {
    group_members::table
        .inner_join(
            service_members::table.on(service_members::user_id
                .eq(group_members::user_id)
                .and(service_members::service_id.eq(service_id))),
        )
        .inner_join(users::table.on(users::id.eq(group_members::user_id)))
        .filter(group_members::group_id.eq(group_id))
        .filter(service_members::perm_ticket.eq(true))
        .filter(service_members::ticket_assignable.eq(true))
        .filter(users::active.eq(true))
        .order((group_members::position.asc(), group_members::user_id.asc()))
        .select(group_members::user_id)
        .load(conn)
}

/// The next agent after `last` in the group order `members` (wrapping) who is `eligible`
/// (e.g. online), or the first eligible one when `last` left the group. Skipping agents who
/// are offline keeps everyone's place: the turn continues after `last`.
pub fn next_in_turn(members: &[i64], eligible: &[i64], last: Option<i64>) -> Option<i64> {
    let n = members.len();
    let start = last
        .and_then(|l| members.iter().position(|m| *m == l))
        .map_or(0, |i| i + 1);
    (0..n)
        .filter_map(|k| members.get((start + k) % n))
        .find(|m| eligible.contains(m))
        .copied()
}

fn group_in_service(conn: &mut DbConn, service_id: i64, group_id: i64) -> QueryResult<bool> {
    use crate::db::schema::agent_groups;
    let n: i64 = agent_groups::table
        .filter(agent_groups::id.eq(group_id))
        .filter(agent_groups::service_id.eq(service_id))
        .count()
        .get_result(conn)?;
    Ok(n == 1)
}

fn set_assignment(
    conn: &mut DbConn,
    t: &Snapshot,
    group_id: Option<i64>,
    assignee_id: Option<i64>,
    trigger_id: i64,
) -> QueryResult<()> {
    let status = match (t.status.as_str(), assignee_id) {
        ("new", Some(_)) => Status::Open.as_str().to_string(),
        ("open", None) => Status::New.as_str().to_string(),
        (s, _) => s.to_string(),
    };
    diesel::update(tickets::table.find(t.id))
        .set((
            tickets::group_id.eq(group_id),
            tickets::assignee_id.eq(assignee_id),
            tickets::status.eq(status),
            tickets::version.eq(tickets::version + 1),
            tickets::updated_at.eq(now()),
        ))
        .execute(conn)?;
    record_event(
        conn,
        t.id,
        "assigned",
        None,
        &format!(
            "trigger:{trigger_id}:{}:{}",
            group_id.map(|g| g.to_string()).unwrap_or_default(),
            assignee_id.map(|a| a.to_string()).unwrap_or_default()
        ),
    )
}

/// Applies one action; returns a short summary for the firing log.
fn apply(
    conn: &mut DbConn,
    trigger: &Trigger,
    action: &Action,
    event: Event,
    t: &Snapshot,
) -> QueryResult<String> {
    let tid = trigger.row.id;
    match action {
        Action::Assign {
            group_id,
            strategy,
            agent_id,
            online_only,
        } => {
            if !group_in_service(conn, t.service_id, *group_id)? {
                return Ok(format!("assign: group {group_id} missing"));
            }
            let members = assignable_members(conn, t.service_id, *group_id)?;
            let only_online = *online_only && *strategy != Strategy::Agent;
            let eligible = if only_online {
                crate::tenancy::presence::online_among(conn, &members)?
            } else {
                members.clone()
            };
            let pick = match strategy {
                Strategy::Agent => agent_id.filter(|a| members.contains(a)),
                Strategy::Random => {
                    let pool: Vec<i64> = members
                        .iter()
                        .copied()
                        .filter(|m| eligible.contains(m))
                        .collect();
                    if pool.is_empty() {
                        None
                    } else {
                        let i = rand::rng().random_range(0..pool.len());
                        pool.get(i).copied()
                    }
                }
                Strategy::RoundRobin => {
                    // One turn at a time, across processes on PostgreSQL.
                    lock_service(conn, t.service_id)?;
                    let last: Option<Option<i64>> = trigger_round_robin::table
                        .find((tid, *group_id))
                        .select(trigger_round_robin::last_user_id)
                        .first(conn)
                        .optional()?;
                    let next = next_in_turn(&members, &eligible, last.flatten());
                    if let Some(n) = next {
                        if last.is_some() {
                            diesel::update(trigger_round_robin::table.find((tid, *group_id)))
                                .set(trigger_round_robin::last_user_id.eq(Some(n)))
                                .execute(conn)?;
                        } else {
                            diesel::insert_into(trigger_round_robin::table)
                                .values((
                                    trigger_round_robin::trigger_id.eq(tid),
                                    trigger_round_robin::group_id.eq(*group_id),
                                    trigger_round_robin::last_user_id.eq(Some(n)),
                                ))
                                .execute(conn)?;
                        }
                    }
                    next
                }
            };
            match pick {
                Some(agent) => {
                    set_assignment(conn, t, Some(*group_id), Some(agent), tid)?;
                    Ok(format!("assigned to {agent} in group {group_id}"))
                }
                None => {
                    let kept = move_to_group(conn, t, *group_id, tid)?;
                    let why = if only_online && !members.is_empty() {
                        "nobody online"
                    } else {
                        "no assignable agent"
                    };
                    Ok(match kept {
                        Some(a) => format!(
                            "assign: {why} in group {group_id}; moved to the group, assignee {a} kept"
                        ),
                        None => format!(
                            "assign: {why} in group {group_id}; moved to the group unassigned"
                        ),
                    })
                }
            }
        }
        Action::AssignGroup { group_id } => {
            if !group_in_service(conn, t.service_id, *group_id)? {
                return Ok(format!("group: {group_id} missing"));
            }
            move_to_group(conn, t, *group_id, tid)?;
            Ok(format!("moved to group {group_id}"))
        }
        Action::SetIntakeType { category_id } => {
            let ok: i64 = categories::table
                .filter(categories::id.eq(category_id))
                .filter(categories::service_id.eq(t.service_id))
                .filter(categories::tree.eq("intake"))
                .count()
                .get_result(conn)?;
            if ok == 0 {
                return Ok(format!("intake type {category_id} missing"));
            }
            diesel::update(tickets::table.find(t.id))
                .set((
                    tickets::category_id.eq(Some(category_id)),
                    tickets::version.eq(tickets::version + 1),
                ))
                .execute(conn)?;
            record_event(
                conn,
                t.id,
                "intake_type",
                None,
                &format!("trigger:{tid}:{category_id}"),
            )?;
            Ok(format!("intake type {category_id}"))
        }
        Action::SetPriority { priority } => {
            let Some(p) = Priority::parse(priority) else {
                return Ok(format!("priority {priority} unknown"));
            };
            diesel::update(tickets::table.find(t.id))
                .set((
                    tickets::priority.eq(p.as_str()),
                    tickets::version.eq(tickets::version + 1),
                ))
                .execute(conn)?;
            record_event(conn, t.id, "priority", None, p.as_str())?;
            Ok(format!("priority {}", p.as_str()))
        }
        Action::NotifyMail {
            recipients,
            texts,
            html,
            subject,
            body,
        } => {
            let mut to: Vec<(String, String)> = Vec::new();
            for r in recipients {
                match r {
                    Recipient::Customer => {
                        if !t.customer_email.is_empty() {
                            to.push((t.customer_email.clone(), t.customer_name.clone()));
                        }
                    }
                    Recipient::Assignee => {
                        if let Some(a) = t.assignee {
                            to.extend(user_addresses(conn, &[a])?);
                        }
                    }
                    Recipient::Group => {
                        if let Some(g) = t.group {
                            let ids: Vec<i64> = group_members::table
                                .filter(group_members::group_id.eq(g))
                                .select(group_members::user_id)
                                .load(conn)?;
                            to.extend(user_addresses(conn, &ids)?);
                        }
                    }
                }
            }
            to.sort();
            to.dedup_by(|a, b| a.0.eq_ignore_ascii_case(&b.0));
            if to.is_empty() {
                return Ok("notified 0".into());
            }
            let service = service_of(conn, t.service_id)?;
            let lang = crate::notify::layouts::mail_lang(&service, &t.lang);
            let Some((subject, body, is_html)) = pick_text(
                texts,
                *html,
                (subject, body),
                lang.code(),
                &service.default_lang,
            ) else {
                return Ok("notify: no text".into());
            };
            let payload = serde_json::json!({
                "to": to,
                "subject": subject,
                "body": body,
                "html": is_html,
                "lang": lang.code(),
            })
            .to_string();
            let list = to
                .iter()
                .map(|(a, _)| a.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            deliveries::queue(
                conn,
                t.service_id,
                Some(tid),
                t.id,
                DeliveryKind::Notify,
                &list,
                &payload,
            )?;
            Ok(format!("notified {}", to.len()))
        }
        Action::Forward {
            addresses,
            complete,
        } => {
            deliveries::queue(
                conn,
                t.service_id,
                Some(tid),
                t.id,
                DeliveryKind::Forward,
                &addresses.join(","),
                &snapshot_json(t, event),
            )?;
            if *complete && t.status != Status::Closed.as_str() {
                let at = now();
                diesel::update(tickets::table.find(t.id))
                    .set((
                        tickets::status.eq(Status::Closed.as_str()),
                        tickets::closed_at.eq(Some(at)),
                        tickets::solved_at.eq(Some(at)),
                        tickets::version.eq(tickets::version + 1),
                    ))
                    .execute(conn)?;
                record_event(conn, t.id, "completed", None, &format!("trigger:{tid}"))?;
            }
            Ok(format!("forwarded to {}", addresses.len()))
        }
        Action::Callback { url } => {
            deliveries::queue(
                conn,
                t.service_id,
                Some(tid),
                t.id,
                DeliveryKind::Callback,
                url,
                &snapshot_json(t, event),
            )?;
            Ok("callback queued".into())
        }
        Action::ChatWebhook { url, template } => {
            let service = service_of(conn, t.service_id)?;
            let lang = crate::notify::layouts::mail_lang(&service, &t.lang);
            // Rendered by the delivery worker before the first attempt.
            let body = serde_json::json!({
                "botName": service.name,
                "template": template,
                "lang": lang.code(),
            })
            .to_string();
            deliveries::queue(
                conn,
                t.service_id,
                Some(tid),
                t.id,
                DeliveryKind::Chat,
                url,
                &body,
            )?;
            Ok("chat message queued".into())
        }
    }
}

fn user_addresses(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<(String, String)>> {
    users::table
        .filter(users::id.eq_any(ids))
        .filter(users::active.eq(true))
        .select((users::email, users::name))
        .load(conn)
}

fn service_of(conn: &mut DbConn, id: i64) -> QueryResult<Service> {
    services::table
        .find(id)
        .select(Service::as_select())
        .first(conn)
}

/// Moves the ticket to a group; the assignee stays when an assignable member of it, otherwise
/// the ticket waits in the group unassigned. Returns the assignee kept.
fn move_to_group(
    conn: &mut DbConn,
    t: &Snapshot,
    group_id: i64,
    trigger_id: i64,
) -> QueryResult<Option<i64>> {
    let keep = match t.assignee {
        Some(a) => assignable_members(conn, t.service_id, group_id)?
            .contains(&a)
            .then_some(a),
        None => None,
    };
    set_assignment(conn, t, Some(group_id), keep, trigger_id)?;
    Ok(keep)
}

/// The JSON snapshot sent to callback URLs (and used for forwards).
pub fn snapshot_json(t: &Snapshot, event: Event) -> String {
    serde_json::json!({
        "event": event.as_str(),
        "serviceId": t.service_id,
        "ticketId": t.public_id,
        "status": t.status,
        "priority": t.priority,
        "channel": t.channel,
        "subject": t.subject,
        "groupId": t.group,
        "assigneeId": t.assignee,
        "intakeTypeId": t.intake_type,
        "resolutionTypeId": t.resolution_type,
        "customerEmail": t.customer_email,
        "at": now().and_utc().to_rfc3339(),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(required: bool, target: &str, op: Op, value: &str) -> Condition {
        Condition {
            required,
            target: target.into(),
            op,
            value: value.into(),
        }
    }

    #[test]
    fn and_rows_must_all_hold_and_one_or_row_if_any() {
        let snap = Snapshot {
            status: "new".into(),
            subject: "Refund please".into(),
            priority: "high".into(),
            ..Snapshot::default()
        };
        let c = |rows: &[Condition]| matches(rows, Event::Created, None, &snap);
        assert!(c(&[cond(true, "status", Op::Equals, "new")]));
        assert!(!c(&[
            cond(true, "status", Op::Equals, "new"),
            cond(true, "priority", Op::Equals, "low"),
        ]));
        assert!(c(&[
            cond(true, "subject", Op::Contains, "REFUND"),
            cond(false, "priority", Op::Equals, "low"),
            cond(false, "priority", Op::Equals, "high"),
        ]));
        assert!(!c(&[
            cond(true, "subject", Op::Contains, "refund"),
            cond(false, "priority", Op::Equals, "low"),
        ]));
        assert!(c(&[cond(false, "event", Op::Equals, "created")]));
        assert!(!c(&[]), "no conditions never fire");
    }

    #[test]
    fn changed_compares_with_the_state_before() {
        let before = Snapshot {
            status: "open".into(),
            ..Snapshot::default()
        };
        let after = Snapshot {
            status: "solved".into(),
            ..Snapshot::default()
        };
        let holds_u = |c: &Condition| holds(c, Event::Updated, Some(&before), &after);
        assert!(holds_u(&cond(true, "status", Op::Changed, "")));
        assert!(holds_u(&cond(true, "status", Op::ChangedTo, "solved")));
        assert!(!holds_u(&cond(true, "status", Op::ChangedTo, "reply")));
        assert!(!holds_u(&cond(true, "priority", Op::Changed, "")));
        assert!(!holds(
            &cond(true, "status", Op::Changed, ""),
            Event::Created,
            None,
            &after
        ));
    }

    #[test]
    fn round_robin_takes_turns_and_wraps() {
        let m = [5, 7, 9];
        assert_eq!(next_in_turn(&m, &m, None), Some(5));
        assert_eq!(next_in_turn(&m, &m, Some(5)), Some(7));
        assert_eq!(next_in_turn(&m, &m, Some(9)), Some(5));
        assert_eq!(
            next_in_turn(&m, &m, Some(42)),
            Some(5),
            "a removed agent restarts"
        );
        assert_eq!(next_in_turn(&[], &[], Some(1)), None);
        // Only online agents: 7 is offline, so after 5 comes 9, and after 9 comes 5.
        assert_eq!(next_in_turn(&m, &[5, 9], Some(5)), Some(9));
        assert_eq!(next_in_turn(&m, &[5, 9], Some(7)), Some(9));
        assert_eq!(next_in_turn(&m, &[5, 9], Some(9)), Some(5));
        assert_eq!(next_in_turn(&m, &[], Some(9)), None, "nobody online");
    }
}
