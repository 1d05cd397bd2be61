//! Customer mails about a ticket (SPEC §3.7, §5.5): the one place that turns an agent's answer
//! into the mail the customer receives.
//!
//! [`render_customer_mail`] builds the mail from the service's layout for the ticket's
//! language (kind resolve, hold or created; `#{content}` is the answer), the substitution codes
//! of the ticket, and the service's sender info. The subject ends with ` [#<public id>]` so a
//! customer's reply threads back into the ticket. Preview shows exactly this.
//!
//! [`queue_customer_mail`] renders and queues it in the outbox inside the caller's transaction:
//! `In-Reply-To`/`References` thread it under the ticket's earlier mails ([`thread_headers`]),
//! the outbox row carries the ticket and the purpose (`resolve`, `hold`, `created`),
//! and the agent's entry records the queued Message-ID.
//! Tickets without a customer e-mail get no mail (`Ok(None)`).

use diesel::prelude::*;

use crate::AppState;
use crate::common::text::sanitize_html;
use crate::crypto::SecretKey;
use crate::customers::Customer;
use crate::db::DbConn;
use crate::db::schema::{mail_outbox, ticket_entries, tickets};
use crate::db::types::{CustomerId, ServiceId};
use crate::notify::layouts::{self, LayoutKind, SenderInfo};
use crate::notify::outbox::{self, NewMail};
use crate::notify::smtp::OutgoingMail;
use crate::tenancy::service::Service;
use crate::tickets::substitution::{CONTENT, Context, Mode, render};
use crate::tickets::{EntryKind, Ticket};

/// Longest rendered subject before the ticket marker.
const MAX_SUBJECT_CHARS: usize = 200;

/// What rendering a customer mail needs besides the database: the installation secret (to
/// read personal field values) and the public base URL (for `#{helpCenterUrl}`).
#[derive(Clone)]
pub struct MailEnv {
    /// Installation secret.
    pub secret: SecretKey,
    /// Public base URL, without a trailing slash.
    pub base_url: String,
}

impl MailEnv {
    /// The environment of the running application.
    pub fn of(state: &AppState) -> MailEnv {
        MailEnv {
            secret: state.secret.clone(),
            base_url: state.config.base_url.trim_end_matches('/').to_string(),
        }
    }
}

/// A rendered customer mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderedMail {
    /// Recipient address (empty: the customer has no e-mail; nothing can be sent).
    pub to: String,
    /// Recipient name.
    pub to_name: String,
    /// Sender name (empty: the relay's).
    pub from_name: String,
    /// Sender address (empty: the relay's).
    pub from_address: String,
    /// Subject, ending with ` [#<public id>]`.
    pub subject: String,
    /// HTML part.
    pub html: String,
    /// Plain-text part.
    pub text: String,
}

/// The subject marker that threads mail into a ticket: ` [#T…]`.
pub fn subject_marker(public_id: &str) -> String {
    format!(" [#{public_id}]")
}

/// Renders the customer mail of `kind` for a ticket with `body_html` as `#{content}` (already
/// sanitised or not: it is sanitised again). Reads the ticket's current state.
pub fn render_customer_mail(
    conn: &mut DbConn,
    env: &MailEnv,
    service: &Service,
    ticket: &Ticket,
    kind: LayoutKind,
    body_html: &str,
) -> QueryResult<RenderedMail> {
    let ticket = tickets::table
        .find(ticket.id)
        .select(Ticket::as_select())
        .first(conn)
        .optional()?
        .unwrap_or_else(|| ticket.clone());
    let lang = layouts::mail_lang(service, &ticket.lang);
    let layout = layouts::effective(conn, service.id, kind, lang)?;
    let mut ctx = Context::for_ticket(conn, &env.secret, &env.base_url, service, &ticket, lang)?;
    ctx.set_html(CONTENT, body_html);
    let sender = SenderInfo::load(conn, service.id)?;
    let customer = match ticket.customer_id {
        Some(id) => Customer::find(conn, ServiceId(ticket.service_id), CustomerId(id))?,
        None => None,
    };
    let subject: String = render(&layout.subject, &ctx, Mode::Text)
        .replace(['\r', '\n'], " ")
        .trim()
        .chars()
        .take(MAX_SUBJECT_CHARS)
        .collect();
    Ok(RenderedMail {
        to: customer
            .as_ref()
            .map(|c| c.email.clone())
            .unwrap_or_default(),
        to_name: customer.map(|c| c.name).unwrap_or_default(),
        from_name: sender.name,
        from_address: sender.address,
        subject: format!("{subject}{}", subject_marker(&ticket.public_id)),
        // Stored layouts are sanitised when saved; sanitising again keeps the mail (and the
        // preview, which shows it) safe whatever wrote the row.
        html: render(&sanitize_html(&layout.html_body), &ctx, Mode::Html),
        text: render(&layout.text_body, &ctx, Mode::Text),
    })
}

/// Most earlier Message-IDs put in `References`.
const MAX_REFERENCES: i64 = 10;

/// The Message-ID of the customer's latest message, when it came by mail.
pub fn latest_customer_message_id(
    conn: &mut DbConn,
    ticket_id: i64,
) -> QueryResult<Option<String>> {
    let latest: Option<Option<String>> = ticket_entries::table
        .filter(ticket_entries::ticket_id.eq(ticket_id))
        .filter(ticket_entries::kind.eq_any([
            EntryKind::CustomerMessage.as_str(),
            EntryKind::CustomerFollowup.as_str(),
        ]))
        .order(ticket_entries::id.desc())
        .select(ticket_entries::mail_message_id)
        .first(conn)
        .optional()?;
    Ok(latest.flatten().filter(|m| !m.trim().is_empty()))
}

/// The threading headers of the next mail about a ticket: `(In-Reply-To, References)`.
///
/// `References` lists the Message-IDs of the ticket's latest mails, oldest first: those recorded
/// on its entries (the customer's mails and the answers sent) and those queued in the outbox
/// (receipts, notifications), at most [`MAX_REFERENCES`] of each. `In-Reply-To` names the
/// customer's latest mail when there is one, otherwise the latest mail of the thread. The entry
/// being answered (`exclude_entry`) is left out.
pub fn thread_headers(
    conn: &mut DbConn,
    ticket_id: i64,
    exclude_entry: Option<i64>,
) -> QueryResult<(String, String)> {
    let mut query = ticket_entries::table
        .filter(ticket_entries::ticket_id.eq(ticket_id))
        .filter(ticket_entries::mail_message_id.is_not_null())
        .into_boxed();
    if let Some(e) = exclude_entry {
        query = query.filter(ticket_entries::id.ne(e));
    }
    let mut earlier: Vec<(i64, Option<String>)> = query
        .order(ticket_entries::id.desc())
        .limit(MAX_REFERENCES)
        .select((ticket_entries::id, ticket_entries::mail_message_id))
        .load(conn)?;
    earlier.reverse();
    let mut refs: Vec<String> = earlier
        .into_iter()
        .filter_map(|(_, m)| m)
        .filter(|m| !m.trim().is_empty())
        .collect();
    let queued: Vec<String> = mail_outbox::table
        .filter(mail_outbox::ticket_id.eq(ticket_id))
        .order(mail_outbox::id.desc())
        .limit(MAX_REFERENCES)
        .select(mail_outbox::message_id)
        .load(conn)?;
    for m in queued.into_iter().rev() {
        if !m.trim().is_empty() && !refs.contains(&m) {
            refs.push(m);
        }
    }
    let in_reply_to = match latest_customer_message_id(conn, ticket_id)? {
        Some(m) => m,
        None => refs.last().cloned().unwrap_or_default(),
    };
    if !in_reply_to.is_empty() && !refs.contains(&in_reply_to) {
        refs.push(in_reply_to.clone());
    }
    Ok((in_reply_to, refs.join(" ")))
}

/// Renders the customer mail of `kind` and queues it in the outbox (inside the caller's
/// transaction); records the queued Message-ID on `entry_id` when given. Returns the
/// Message-ID, or `None` when the customer has no e-mail address.
pub fn queue_customer_mail(
    conn: &mut DbConn,
    env: &MailEnv,
    service: &Service,
    ticket: &Ticket,
    kind: LayoutKind,
    body_html: &str,
    entry_id: Option<i64>,
) -> QueryResult<Option<String>> {
    let mail = render_customer_mail(conn, env, service, ticket, kind, body_html)?;
    if mail.to.trim().is_empty() {
        return Ok(None);
    }
    let (in_reply_to, references) = thread_headers(conn, ticket.id, entry_id)?;
    let (_, message_id) = outbox::enqueue(
        conn,
        &NewMail {
            service_id: Some(service.id),
            ticket_id: Some(ticket.id),
            purpose: kind.as_str().to_string(),
            mail: OutgoingMail {
                to: mail.to,
                to_name: mail.to_name,
                subject: mail.subject,
                text: mail.text,
                html: mail.html,
                from_name: mail.from_name,
                from_address: mail.from_address,
                in_reply_to,
                references,
                ..OutgoingMail::default()
            },
        },
    )?;
    if let Some(eid) = entry_id {
        diesel::update(ticket_entries::table.find(eid))
            .set(ticket_entries::mail_message_id.eq(Some(&message_id)))
            .execute(conn)?;
    }
    Ok(Some(message_id))
}
