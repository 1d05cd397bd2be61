//! Ticket events: the hook other features subscribe to instead of being called by the ticket
//! core. The ticket core ([`super::create_ticket`], [`super::lifecycle`], the fields panel)
//! publishes a [`TicketEvent`] after each change; it never names who listens.
//!
//! # The contract
//!
//! - **Registration.** Subscribers are plain functions ([`Subscriber`]) registered once, at
//!   application construction, with [`subscribe`] (`lib.rs` does it in `AppState::open` and in
//!   the app factory; later calls are ignored, so the list is the same for the whole process).
//!   They run in registration order: the trigger engine first, then the surge alert, then the
//!   customer-info lookup. Chat, statistics rollups and the phone board subscribe the same way.
//! - **Inside the transaction.** [`publish`] runs every subscriber synchronously inside the
//!   transaction of the change, on the same connection. A subscriber that changes the ticket
//!   (the trigger engine) does so in that transaction, so the change and its consequences are
//!   saved together or not at all, and later subscribers see its changes (for triggers: the last
//!   one wins). An error of any subscriber fails the whole change.
//! - **Side effects go through queues.** A subscriber never talks to the outside world (mail,
//!   HTTP, chat) directly: it queues a job in the same transaction (mail outbox, deliveries,
//!   lookups), which the workers carry out after the commit.
//! - **No loops.** Changes a subscriber makes do not publish new events to itself: the trigger
//!   engine marks its evaluation and ignores events raised while it runs, so triggers never
//!   re-trigger themselves. A subscriber that calls lifecycle functions must guard the same way.
//! - **What an event carries.** The rows as they were when the event was published. A subscriber
//!   that needs the newest state (an earlier subscriber may have changed the ticket) reads it
//!   again.

use std::sync::OnceLock;

use diesel::prelude::*;

use super::{FieldValue, Ticket, field_values_of};
use crate::db::DbConn;
use crate::db::schema::{customers, tickets};

/// A ticket as it stood before a change that the ticket row alone does not show (field
/// values, the linked customer's contact data).
#[derive(Debug, Clone)]
pub struct Record {
    /// The ticket row.
    pub ticket: Ticket,
    /// The linked customer's name (empty without one).
    pub customer_name: String,
    /// The linked customer's e-mail (empty without one).
    pub customer_email: String,
    /// The linked customer's phone (empty without one).
    pub customer_phone: String,
    /// The stored field values (personal ones encrypted).
    pub fields: Vec<FieldValue>,
}

impl Record {
    /// Reads the ticket's record as it is now (with `row` standing in for the ticket row).
    pub fn read(conn: &mut DbConn, row: &Ticket) -> QueryResult<Record> {
        let (customer_name, customer_email, customer_phone) = customer_contact(conn, row)?;
        Ok(Record {
            ticket: row.clone(),
            customer_name,
            customer_email,
            customer_phone,
            fields: field_values_of(conn, row.id)?,
        })
    }
}

/// The name, e-mail and phone of the ticket's customer (empty without one).
pub fn customer_contact(conn: &mut DbConn, row: &Ticket) -> QueryResult<(String, String, String)> {
    Ok(match row.customer_id {
        Some(cid) => customers::table
            .find(cid)
            .select((customers::name, customers::email, customers::phone))
            .first(conn)
            .optional()?
            .unwrap_or_default(),
        None => Default::default(),
    })
}

/// What happened to a ticket.
#[derive(Debug, Clone, Copy)]
pub enum TicketEvent<'a> {
    /// A ticket was opened (its first message, field values and attachments are stored).
    Created {
        /// The new ticket.
        ticket: &'a Ticket,
    },
    /// A ticket changed: status, assignment, transfer state, spam flag, priority, follow-up, …
    Updated {
        /// The row as the caller read it before the change.
        before: &'a Ticket,
        /// The row after the change.
        after: &'a Ticket,
    },
    /// A ticket's field values (and with them possibly its subject or customer) changed.
    FieldsChanged {
        /// The record before the change.
        before: &'a Record,
        /// The row after the change.
        after: &'a Ticket,
    },
}

impl TicketEvent<'_> {
    /// The ticket's internal key.
    pub fn ticket_id(&self) -> i64 {
        match self {
            TicketEvent::Created { ticket } => ticket.id,
            TicketEvent::Updated { after, .. } | TicketEvent::FieldsChanged { after, .. } => {
                after.id
            }
        }
    }
}

/// A subscriber: runs inside the transaction of the change (see the module contract).
pub type Subscriber = fn(&mut DbConn, &TicketEvent<'_>) -> QueryResult<()>;

static SUBSCRIBERS: OnceLock<Vec<Subscriber>> = OnceLock::new();

/// Registers the process's subscribers, in the order they run. Only the first call counts;
/// returns whether this one did.
pub fn subscribe(subscribers: Vec<Subscriber>) -> bool {
    SUBSCRIBERS.set(subscribers).is_ok()
}

/// Runs every subscriber on `event`, in registration order, inside the caller's transaction.
pub fn publish(conn: &mut DbConn, event: &TicketEvent<'_>) -> QueryResult<()> {
    for subscriber in SUBSCRIBERS.get().map(Vec::as_slice).unwrap_or_default() {
        subscriber(conn, event)?;
    }
    Ok(())
}

/// Publishes [`TicketEvent::Created`] for a ticket just opened.
pub fn created(conn: &mut DbConn, ticket_id: i64) -> QueryResult<()> {
    let Some(ticket) = load(conn, ticket_id)? else {
        return Ok(());
    };
    publish(conn, &TicketEvent::Created { ticket: &ticket })
}

/// Publishes [`TicketEvent::Updated`] after a change; `before` is the row as the caller read it
/// before the change.
pub fn updated(conn: &mut DbConn, before: &Ticket) -> QueryResult<()> {
    let Some(after) = load(conn, before.id)? else {
        return Ok(());
    };
    publish(
        conn,
        &TicketEvent::Updated {
            before,
            after: &after,
        },
    )
}

/// Publishes [`TicketEvent::FieldsChanged`] after field values were saved; `before` was read
/// with [`Record::read`] before the change was written.
pub fn fields_changed(conn: &mut DbConn, before: &Record) -> QueryResult<()> {
    let Some(after) = load(conn, before.ticket.id)? else {
        return Ok(());
    };
    publish(
        conn,
        &TicketEvent::FieldsChanged {
            before,
            after: &after,
        },
    )
}

fn load(conn: &mut DbConn, id: i64) -> QueryResult<Option<Ticket>> {
    tickets::table
        .find(id)
        .select(Ticket::as_select())
        .first(conn)
        .optional()
}
