//! Ticket intake: the one way to open a ticket from a customer's contact. [`open`] runs inside
//! the caller's write transaction and does, in order: link the contact to a customer (a member's
//! user code first; otherwise phone first, then e-mail — the rule of
//! [`customers::link_or_create`]) or create one, open the ticket ([`super::create_ticket`], which
//! publishes the `Created` event), and queue the receipt mail the channel calls for. Everything is
//! saved together or not at all.
//!
//! Used by the help-center inquiry form, the Open API (P14, legacy `ticket/add.json`, the phone
//! call), mail import, manual creation in the console and the issue-management transfer; what is
//! particular to a channel (upload links, API extra data, call records, Message-IDs) the caller
//! adds afterwards in the same transaction.

use diesel::prelude::*;

use super::{Channel, Created, NewTicket, create_ticket};
use crate::crypto::SecretKey;
use crate::customers::{self, Contact, Customer};
use crate::db::DbConn;
use crate::db::schema::tickets;
use crate::db::types::{CustomerId, ServiceId};
use crate::fields::layout::FormField;
use crate::fields::validate::StoredValue;
use crate::help_center::attachments::StoredFile;
use crate::i18n::{self, Lang};
use crate::notify::OutgoingMail;
use crate::notify::outbox::{self, NewMail};

/// Which receipt mail a new ticket gets (queued in its transaction).
#[derive(Debug, Clone, Copy)]
pub enum Receipt<'a> {
    /// None (phone calls, console creation, transfers).
    None,
    /// To the contact's e-mail address, when it is a valid one (the help-center form).
    ToContact {
        /// The service's name (in the subject).
        service_name: &'a str,
    },
    /// To the e-mail address stored for the linked customer, when there is one (the Open API).
    ToCustomer {
        /// The service's name (in the subject).
        service_name: &'a str,
    },
    /// An answer to the customer's mail: to its sender, threaded under its Message-ID.
    ReplyTo {
        /// The service's name (in the subject).
        service_name: &'a str,
        /// The Message-ID of the customer's mail.
        message_id: &'a str,
    },
}

/// A contact's new ticket.
pub struct Intake<'a> {
    /// Service.
    pub service_id: i64,
    /// How it came in.
    pub channel: Channel,
    /// Who it is from; `None` opens a ticket with no customer.
    pub contact: Option<&'a Contact>,
    /// A signed-in member's user code: the customer is the member's.
    pub member_code: Option<&'a str>,
    /// Intake type.
    pub category_id: Option<i64>,
    /// The customer's language (the ticket's language and the receipt's).
    pub lang: Lang,
    /// Subject.
    pub subject: &'a str,
    /// The first customer message (HTML).
    pub body: &'a str,
    /// Validated field values.
    pub fields: &'a [(FormField, StoredValue)],
    /// Files already written to disk.
    pub files: &'a [StoredFile],
    /// The agent who opened it (manual creation, call, transfer), if any.
    pub creator_id: Option<i64>,
    /// Group to start in.
    pub group_id: Option<i64>,
    /// Assignee to start with.
    pub assignee_id: Option<i64>,
    /// For an issue-management ticket created by transfer: the consultation ticket.
    pub origin_ticket_id: Option<i64>,
    /// The receipt mail to queue.
    pub receipt: Receipt<'a>,
}

impl<'a> Intake<'a> {
    /// An intake with no fields, files, agent, group or receipt.
    pub fn new(
        service_id: i64,
        channel: Channel,
        lang: Lang,
        subject: &'a str,
        body: &'a str,
    ) -> Intake<'a> {
        Intake {
            service_id,
            channel,
            contact: None,
            member_code: None,
            category_id: None,
            lang,
            subject,
            body,
            fields: &[],
            files: &[],
            creator_id: None,
            group_id: None,
            assignee_id: None,
            origin_ticket_id: None,
            receipt: Receipt::None,
        }
    }
}

/// The opened ticket.
#[derive(Debug, Clone)]
pub struct Opened {
    /// Internal key.
    pub id: i64,
    /// Public ID (`T…`).
    pub public_id: String,
    /// The linked customer.
    pub customer_id: Option<i64>,
    /// Whether a receipt mail was queued (wake the outbox after the commit).
    pub receipt_queued: bool,
}

/// Opens a ticket from a contact (inside the caller's transaction): customer link, ticket,
/// receipt mail.
pub fn open(conn: &mut DbConn, secret: &SecretKey, intake: &Intake<'_>) -> QueryResult<Opened> {
    let customer_id = link(conn, intake)?;
    let Created { id, public_id } = create_ticket(
        conn,
        secret,
        &NewTicket {
            service_id: intake.service_id,
            customer_id,
            category_id: intake.category_id,
            channel: intake.channel,
            lang: intake.lang.code(),
            subject: intake.subject,
            body: intake.body,
            values: intake.fields,
            files: intake.files,
            creator_id: intake.creator_id,
            group_id: intake.group_id,
            assignee_id: intake.assignee_id,
            origin_ticket_id: intake.origin_ticket_id,
        },
    )?;
    let receipt_queued = queue_receipt(conn, intake, id, &public_id, customer_id)?;
    Ok(Opened {
        id,
        public_id,
        customer_id,
        receipt_queued,
    })
}

/// The customer of the intake: the member's by user code; else, for a contact, the one with the
/// same phone (phone calls, and contacts without an e-mail address), then the same e-mail; else
/// a new one.
fn link(conn: &mut DbConn, intake: &Intake<'_>) -> QueryResult<Option<i64>> {
    let Some(contact) = intake.contact else {
        return Ok(None);
    };
    if let Some(code) = intake.member_code {
        return customers::link_or_create_member(conn, intake.service_id, code, contact).map(Some);
    }
    let by_phone = intake.channel == Channel::Phone || contact.email.trim().is_empty();
    customers::link_or_create(conn, intake.service_id, contact, by_phone).map(Some)
}

fn queue_receipt(
    conn: &mut DbConn,
    intake: &Intake<'_>,
    ticket_id: i64,
    public_id: &str,
    customer_id: Option<i64>,
) -> QueryResult<bool> {
    let mail = match intake.receipt {
        Receipt::None => return Ok(false),
        Receipt::ToContact { service_name } => {
            let Some(contact) = intake.contact else {
                return Ok(false);
            };
            if !crate::tenancy::user::is_valid_email(&contact.email) {
                return Ok(false);
            }
            receipt_mail(
                intake.lang,
                service_name,
                public_id,
                intake.subject,
                contact.email.trim(),
                &contact.name,
            )
        }
        Receipt::ToCustomer { service_name } => {
            let Some(customer) = customer_id
                .map(|id| Customer::find(conn, ServiceId(intake.service_id), CustomerId(id)))
                .transpose()?
                .flatten()
            else {
                return Ok(false);
            };
            if !crate::tenancy::user::is_valid_email(&customer.email) {
                return Ok(false);
            }
            let subject: String = tickets::table
                .find(ticket_id)
                .select(tickets::subject)
                .first(conn)?;
            receipt_mail(
                intake.lang,
                service_name,
                public_id,
                &subject,
                customer.email.trim(),
                &customer.name,
            )
        }
        Receipt::ReplyTo {
            service_name,
            message_id,
        } => {
            let (to, to_name) = intake
                .contact
                .map(|c| (c.email.as_str(), c.name.as_str()))
                .unwrap_or_default();
            let mut mail = receipt_mail(
                intake.lang,
                service_name,
                public_id,
                intake.subject,
                to,
                to_name,
            );
            mail.in_reply_to = message_id.to_string();
            mail.references = message_id.to_string();
            mail
        }
    };
    outbox::enqueue(
        conn,
        &NewMail {
            service_id: Some(intake.service_id),
            ticket_id: Some(ticket_id),
            purpose: "receipt".into(),
            mail,
        },
    )?;
    Ok(true)
}

/// The receipt mail for a new ticket, in the customer's language: the subject ends with the
/// ticket token ` [#T…]` so a reply finds its ticket.
pub fn receipt_mail(
    lang: Lang,
    service_name: &str,
    public_id: &str,
    subject: &str,
    to: &str,
    to_name: &str,
) -> OutgoingMail {
    let args = [
        ("id", public_id),
        ("service", service_name),
        ("subject", subject),
    ];
    let mail_subject = format!(
        "{} [#{public_id}]",
        i18n::tf(lang, "outbox.receipt.subject", &args)
    );
    let text = i18n::tf(lang, "inquiry.mail.body", &args);
    let html = format!(
        "<p>{}</p>",
        escape(&text)
            .replace("\n\n", "</p><p>")
            .replace('\n', "<br>")
    );
    OutgoingMail {
        to: to.to_string(),
        to_name: to_name.to_string(),
        subject: mail_subject,
        text,
        html,
        ..OutgoingMail::default()
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
