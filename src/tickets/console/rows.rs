//! Rows of the ticket list: one query loads the tickets of a page with their customer,
//! assignee and group names, a second the agent's stars among them.

use std::collections::HashSet;

use chrono_tz::Tz;
use diesel::prelude::*;

use crate::common::time::local_display;
use crate::db::DbConn;
use crate::db::schema::{agent_groups, customers, ticket_stars, tickets, users};
use crate::tickets::lifecycle::{agent_label_class as status_class, agent_label_key};
use crate::tickets::{Channel, Priority, Ticket};

/// One line of the ticket list.
#[derive(Debug, Clone)]
pub struct Row {
    /// Internal key.
    pub id: i64,
    /// Public ID.
    pub public_id: String,
    /// The version the list was loaded at (batch processing refuses a ticket changed since).
    pub version: i64,
    /// Subject.
    pub subject: String,
    /// Customer name (may be empty).
    pub customer_name: String,
    /// Customer e-mail (may be empty).
    pub customer_email: String,
    /// Assignee's name (empty when unassigned).
    pub assignee: String,
    /// Group name (empty without a group).
    pub group: String,
    /// Channel code (also the CSS class suffix).
    pub channel: &'static str,
    /// Status label key.
    pub status_key: &'static str,
    /// Status CSS class suffix.
    pub status_class: &'static str,
    /// Priority code (also the CSS class suffix).
    pub priority: &'static str,
    /// Creation time in the service's time zone.
    pub created: String,
    /// Starred by the viewer.
    pub starred: bool,
    /// Ticked in the batch form.
    pub checked: bool,
}

impl Row {
    /// The i18n key of the channel's name.
    pub fn channel_key(&self) -> String {
        format!("ticket.list.channel.{}", self.channel)
    }

    /// The i18n key of the priority's name.
    pub fn priority_key(&self) -> String {
        format!("field.priority.{}", self.priority)
    }

    /// The creation date (`YYYY-MM-DD`).
    pub fn created_date(&self) -> &str {
        self.created.split(' ').next().unwrap_or("")
    }

    /// The creation time of day (`HH:MM`).
    pub fn created_time(&self) -> &str {
        self.created.split(' ').nth(1).unwrap_or("")
    }

    /// The batch checkbox value: `id:version`.
    pub fn check_value(&self) -> String {
        format!("{}:{}", self.id, self.version)
    }
}

type Joined = (
    Ticket,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Loads the rows for `ids` (newest first), with the viewer's stars.
pub fn load(
    conn: &mut DbConn,
    service_id: i64,
    ids: &[i64],
    viewer: i64,
    tz: Tz,
    checked: &[i64],
) -> QueryResult<Vec<Row>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: Vec<Joined> = tickets::table
        .left_join(customers::table.on(customers::id.nullable().eq(tickets::customer_id)))
        .left_join(users::table.on(users::id.nullable().eq(tickets::assignee_id)))
        .left_join(agent_groups::table.on(agent_groups::id.nullable().eq(tickets::group_id)))
        // By key only: with the service in the condition too, SQLite would walk the service's
        // index instead of looking the keys up. The service is checked on the rows.
        .filter(tickets::id.eq_any(ids))
        .select((
            Ticket::as_select(),
            customers::name.nullable(),
            customers::email.nullable(),
            users::name.nullable(),
            agent_groups::name.nullable(),
        ))
        .load(conn)?;
    found.retain(|row| row.0.service_id == service_id);
    found.sort_unstable_by_key(|row| std::cmp::Reverse(row.0.id));
    let stars: HashSet<i64> = ticket_stars::table
        .filter(ticket_stars::user_id.eq(viewer))
        .filter(ticket_stars::ticket_id.eq_any(ids))
        .select(ticket_stars::ticket_id)
        .load::<i64>(conn)?
        .into_iter()
        .collect();
    Ok(found
        .into_iter()
        .map(|(t, cname, cemail, aname, gname)| Row {
            id: t.id,
            version: t.version,
            status_key: agent_label_key(&t),
            status_class: status_class(&t),
            channel: t.channel().as_str(),
            priority: t.priority().as_str(),
            created: local_display(tz, t.created_at),
            starred: stars.contains(&t.id),
            checked: checked.contains(&t.id),
            customer_name: cname.unwrap_or_default(),
            customer_email: cemail.unwrap_or_default(),
            assignee: aname.unwrap_or_default(),
            group: gname.unwrap_or_default(),
            public_id: t.public_id,
            subject: t.subject,
        })
        .collect())
}

/// Channels with their label keys, for the search form.
pub fn channel_choices() -> Vec<(&'static str, String)> {
    Channel::ALL
        .iter()
        .map(|c| (c.as_str(), format!("ticket.list.channel.{}", c.as_str())))
        .collect()
}

/// Priorities with their label keys, most urgent first.
pub fn priority_choices() -> Vec<(&'static str, String)> {
    Priority::ALL
        .iter()
        .rev()
        .map(|p| (p.as_str(), format!("field.priority.{}", p.as_str())))
        .collect()
}
