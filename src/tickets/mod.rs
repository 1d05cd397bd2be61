//! Tickets (SPEC §13 Ticket, TicketEntry, TicketFieldValue): the record of one inquiry with its
//! public ID (`T` + epoch milliseconds + 5 random letters/digits; the internal key is an i64),
//! status, priority and channel; its timeline of entries; its field values (personal values
//! encrypted with the installation secret); its attachments and its events.
//!
//! What other modules call: [`intake::open`] (inside a write transaction) to open a ticket from
//! a contact ([`create_ticket`] is its core step), [`Ticket::find_by_public_id`], [`Ticket::find`],
//! [`entries_of`], [`field_values_of`], [`attachments_of`], [`record_event`]; every status
//! change goes through [`lifecycle`]. Features that react to tickets (triggers, surge alerts,
//! customer-info lookups, …) subscribe to [`events`]; the ticket core never calls them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::crypto::SecretKey;
use crate::db::schema::{
    ticket_attachments, ticket_entries, ticket_events, ticket_field_values, tickets,
};
use crate::db::types::text_enum;
use crate::db::types::{ServiceId, TicketId};
use crate::db::{DbConn, now};
use crate::fields::layout::FormField;
use crate::fields::personal::store_value;
use crate::fields::validate::StoredValue;
use crate::help_center::attachments::StoredFile;

pub mod console;
pub mod events;
pub mod intake;
pub mod lifecycle;

pub mod detail;
pub mod forbidden;
pub mod mailer;
pub mod reply_templates;
pub mod settings;
pub mod substitution;

text_enum! {
    /// Where a ticket stands (SPEC §4.1 status table).
    Status label "inquiry.status." {
        /// Received, nobody has answered.
        New => "new",
        /// Being handled.
        Open => "open",
        /// Answered, waiting for the customer.
        Reply => "reply",
        /// Solved (the customer may still follow up).
        Solved => "solved",
        /// Closed; no more follow-ups.
        Closed => "closed",
    }
}

text_enum! {
    /// How a ticket came in.
    Channel {
        /// The help-center form on a computer.
        Web => "web",
        /// The help-center form on a phone.
        MobileWeb => "mobile_web",
        /// E-mail.
        Email => "email",
        /// Phone call recorded by an agent.
        Phone => "phone",
        /// The Open API.
        Api => "api",
        /// Created by an agent in the console ("Created").
        Created => "created",
        /// Transferred from a consultation service to issue management.
        Transfer => "transfer",
        /// A chat conversation converted to a ticket.
        Chat => "chat",
        /// Brought in by data migration.
        Migrated => "migrated",
    }
}

text_enum! {
    /// Ticket priority.
    Priority {
        /// Low.
        Low => "low",
        /// Normal (the default).
        Normal => "normal",
        /// High.
        High => "high",
        /// Urgent.
        Urgent => "urgent",
    }
}

text_enum! {
    /// One item of a ticket's timeline.
    EntryKind {
        /// The customer's first message.
        CustomerMessage => "customer_message",
        /// A later customer message.
        CustomerFollowup => "customer_followup",
        /// An agent's answer.
        AgentReply => "agent_reply",
        /// An answer that keeps the ticket on hold.
        HoldReply => "hold_reply",
        /// An internal comment (never shown to customers).
        Comment => "comment",
        /// The internal resolution record (never shown to customers).
        InternalResolution => "internal_resolution",
        /// A system event line.
        SystemEvent => "system_event",
    }
}

impl EntryKind {
    /// Whether the customer sees this entry in their inquiry history.
    pub fn customer_visible(self) -> bool {
        matches!(
            self,
            EntryKind::CustomerMessage
                | EntryKind::CustomerFollowup
                | EntryKind::AgentReply
                | EntryKind::HoldReply
        )
    }
}

/// Longest subject stored.
pub const MAX_SUBJECT_CHARS: usize = 255;

/// A ticket.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tickets)]
pub struct Ticket {
    /// Internal key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Public ID (`T…`).
    pub public_id: String,
    /// Customer.
    pub customer_id: Option<i64>,
    /// Intake type.
    pub category_id: Option<i64>,
    /// Status.
    pub status: Status,
    /// Priority.
    pub priority: Priority,
    /// Channel.
    pub channel: Channel,
    /// The customer's language.
    pub lang: String,
    /// Subject.
    pub subject: String,
    /// Assigned agent.
    pub assignee_id: Option<i64>,
    /// Assigned group.
    pub group_id: Option<i64>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
    /// Transfer sub-state.
    pub transfer_state: lifecycle::TransferState,
    /// Internal-resolution reason.
    pub internal_reason: Option<lifecycle::InternalReason>,
    /// In the spam box.
    pub is_spam: bool,
    /// The status to restore when taken out of the spam box.
    pub spam_prev_status: Option<Status>,
    /// Resolution type.
    pub resolution_category_id: Option<i64>,
    /// The agent who created it manually (or transferred it).
    pub creator_id: Option<i64>,
    /// For an issue-management ticket: the consultation ticket it came from.
    pub origin_ticket_id: Option<i64>,
    /// For a consultation ticket: the issue-management ticket it was transferred to.
    pub transferred_to_ticket_id: Option<i64>,
    /// When it was last solved.
    pub solved_at: Option<NaiveDateTime>,
    /// When it was completed.
    pub closed_at: Option<NaiveDateTime>,
    /// Optimistic-lock counter: every change increments it, so a stale form is detected.
    pub version: i64,
}

impl Ticket {
    /// The transfer sub-state.
    pub fn transfer_state(&self) -> lifecycle::TransferState {
        self.transfer_state
    }

    /// The channel.
    pub fn channel(&self) -> Channel {
        self.channel
    }

    /// The priority.
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// The status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// A ticket by internal key within a service.
    pub fn find(
        conn: &mut DbConn,
        service_id: ServiceId,
        id: TicketId,
    ) -> QueryResult<Option<Ticket>> {
        tickets::table
            .filter(tickets::service_id.eq(service_id))
            .filter(tickets::id.eq(id))
            .select(Ticket::as_select())
            .first(conn)
            .optional()
    }

    /// A ticket by public ID within a service.
    pub fn find_by_public_id(
        conn: &mut DbConn,
        service_id: i64,
        public_id: &str,
    ) -> QueryResult<Option<Ticket>> {
        tickets::table
            .filter(tickets::service_id.eq(service_id))
            .filter(tickets::public_id.eq(public_id))
            .select(Ticket::as_select())
            .first(conn)
            .optional()
    }
}

/// A timeline entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ticket_entries)]
pub struct Entry {
    /// Key.
    pub id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// Kind text (see [`EntryKind`]).
    pub kind: String,
    /// Agent who wrote it (`None` for customers and the system).
    pub author_id: Option<i64>,
    /// Text.
    pub body: String,
    /// Written.
    pub created_at: NaiveDateTime,
}

/// A stored field value (encrypted for personal fields: read it with
/// [`crate::fields::personal::read_value`]).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ticket_field_values)]
pub struct FieldValue {
    /// Key.
    pub id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// Field.
    pub field_id: i64,
    /// Stored text.
    pub value: String,
}

/// A file attached to a ticket entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ticket_attachments)]
pub struct TicketAttachment {
    /// Key.
    pub id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// The entry it came with.
    pub entry_id: Option<i64>,
    /// Original name.
    pub file_name: String,
    /// Path under the data directory.
    pub stored_path: String,
    /// Content type.
    pub mime: String,
    /// Size.
    pub size_bytes: i64,
    /// Uploaded.
    pub created_at: NaiveDateTime,
}

/// A new public ticket ID: `T` + epoch milliseconds + 5 random letters/digits.
pub fn new_public_id(at: NaiveDateTime) -> String {
    format!(
        "T{}{}",
        at.and_utc().timestamp_millis(),
        crate::crypto::random_alnum(5)
    )
}

/// What opens a ticket.
pub struct NewTicket<'a> {
    /// Service.
    pub service_id: i64,
    /// Linked customer.
    pub customer_id: Option<i64>,
    /// Intake type.
    pub category_id: Option<i64>,
    /// Channel.
    pub channel: Channel,
    /// The customer's language code.
    pub lang: &'a str,
    /// Subject.
    pub subject: &'a str,
    /// The first customer message.
    pub body: &'a str,
    /// Validated field values.
    pub values: &'a [(FormField, StoredValue)],
    /// Files already written to disk.
    pub files: &'a [StoredFile],
    /// The agent who created it (manual creation, transfer), if any.
    pub creator_id: Option<i64>,
    /// Group to start in.
    pub group_id: Option<i64>,
    /// Assignee to start with (the ticket then starts `open` instead of `new`).
    pub assignee_id: Option<i64>,
    /// For an issue-management ticket created by transfer: the consultation ticket.
    pub origin_ticket_id: Option<i64>,
}

/// The created ticket's keys.
#[derive(Debug, Clone)]
pub struct Created {
    /// Internal key.
    pub id: i64,
    /// Public ID.
    pub public_id: String,
}

/// Opens a ticket (inside the caller's transaction): status `new` (`open` when it starts with
/// an assignee), the first customer message, the non-empty field values (personal ones
/// encrypted), the attachment rows and a `created` event; then publishes
/// [`events::TicketEvent::Created`]. Opening a ticket from a customer's contact goes through
/// [`intake::open`], which calls this.
pub fn create_ticket(
    conn: &mut DbConn,
    secret: &SecretKey,
    new: &NewTicket<'_>,
) -> QueryResult<Created> {
    let t = now();
    let public_id = new_public_id(t);
    let subject: String = new.subject.chars().take(MAX_SUBJECT_CHARS).collect();
    let search_text = crate::db::search::normalize(&subject);
    let id: i64 = diesel::insert_into(tickets::table)
        .values((
            tickets::service_id.eq(new.service_id),
            tickets::public_id.eq(&public_id),
            tickets::customer_id.eq(new.customer_id),
            tickets::category_id.eq(new.category_id),
            tickets::status.eq(if new.assignee_id.is_some() {
                Status::Open.as_str()
            } else {
                Status::New.as_str()
            }),
            tickets::group_id.eq(new.group_id),
            tickets::assignee_id.eq(new.assignee_id),
            tickets::creator_id.eq(new.creator_id),
            tickets::origin_ticket_id.eq(new.origin_ticket_id),
            tickets::priority.eq(Priority::Normal.as_str()),
            tickets::channel.eq(new.channel.as_str()),
            tickets::lang.eq(new.lang),
            tickets::subject.eq(subject),
            tickets::search_text.eq(search_text),
            tickets::created_at.eq(t),
            tickets::updated_at.eq(t),
        ))
        .returning(tickets::id)
        .get_result(conn)?;
    let entry_id = add_entry(
        conn,
        id,
        EntryKind::CustomerMessage,
        new.creator_id,
        new.body,
    )?;
    for (field, value) in new.values {
        if value.is_empty() {
            continue;
        }
        diesel::insert_into(ticket_field_values::table)
            .values((
                ticket_field_values::ticket_id.eq(id),
                ticket_field_values::field_id.eq(field.id),
                ticket_field_values::value.eq(store_value(secret, &field.def, value)),
            ))
            .execute(conn)?;
    }
    add_attachments(conn, id, entry_id, new.files)?;
    record_event(conn, id, "created", new.creator_id, new.channel.as_str())?;
    events::created(conn, id)?;
    Ok(Created { id, public_id })
}

/// Adds a timeline entry; returns its key.
pub fn add_entry(
    conn: &mut DbConn,
    ticket_id: i64,
    kind: EntryKind,
    author_id: Option<i64>,
    body: &str,
) -> QueryResult<i64> {
    diesel::insert_into(ticket_entries::table)
        .values((
            ticket_entries::ticket_id.eq(ticket_id),
            ticket_entries::kind.eq(kind.as_str()),
            ticket_entries::author_id.eq(author_id),
            ticket_entries::body.eq(body),
            ticket_entries::created_at.eq(now()),
        ))
        .returning(ticket_entries::id)
        .get_result(conn)
}

/// Records files written to disk as attachments of an entry.
pub fn add_attachments(
    conn: &mut DbConn,
    ticket_id: i64,
    entry_id: i64,
    files: &[StoredFile],
) -> QueryResult<()> {
    let t = now();
    for f in files {
        diesel::insert_into(ticket_attachments::table)
            .values((
                ticket_attachments::ticket_id.eq(ticket_id),
                ticket_attachments::entry_id.eq(Some(entry_id)),
                ticket_attachments::file_name.eq(&f.name),
                ticket_attachments::stored_path.eq(&f.path),
                ticket_attachments::mime.eq(&f.mime),
                ticket_attachments::size_bytes.eq(f.size),
                ticket_attachments::created_at.eq(t),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Records an event (`created`, `status_changed`, …) with a short detail.
pub fn record_event(
    conn: &mut DbConn,
    ticket_id: i64,
    kind: &str,
    actor_id: Option<i64>,
    detail: &str,
) -> QueryResult<()> {
    diesel::insert_into(ticket_events::table)
        .values((
            ticket_events::ticket_id.eq(ticket_id),
            ticket_events::kind.eq(kind),
            ticket_events::actor_id.eq(actor_id),
            ticket_events::detail.eq(detail),
            ticket_events::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A ticket's entries, oldest first.
pub fn entries_of(conn: &mut DbConn, ticket_id: i64) -> QueryResult<Vec<Entry>> {
    ticket_entries::table
        .filter(ticket_entries::ticket_id.eq(ticket_id))
        .order(ticket_entries::id.asc())
        .select(Entry::as_select())
        .load(conn)
}

/// A ticket's stored field values.
pub fn field_values_of(conn: &mut DbConn, ticket_id: i64) -> QueryResult<Vec<FieldValue>> {
    ticket_field_values::table
        .filter(ticket_field_values::ticket_id.eq(ticket_id))
        .order(ticket_field_values::id.asc())
        .select(FieldValue::as_select())
        .load(conn)
}

/// A ticket's attachments, oldest first.
pub fn attachments_of(conn: &mut DbConn, ticket_id: i64) -> QueryResult<Vec<TicketAttachment>> {
    ticket_attachments::table
        .filter(ticket_attachments::ticket_id.eq(ticket_id))
        .order(ticket_attachments::id.asc())
        .select(TicketAttachment::as_select())
        .load(conn)
}
