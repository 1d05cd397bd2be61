//! The texts triggers send (SPEC §3.4), rendered through the shared substitution catalogue
//! ([`crate::tickets::substitution`]) by the delivery worker, which has the installation
//! secret (for personal field values) and the public base URL:
//!
//! - notification mails: the subject and body chosen at firing time (the ticket's language,
//!   else the service's default), every catalogue code including `#{field.<code>}`;
//!   `#{content}` is the latest answer (or, before any answer, the customer's latest message).
//!   HTML bodies render as HTML with a text part derived from it; plain-text bodies render as
//!   text with an HTML part derived from it. No mail layout is used; the subject ends with the
//!   ticket marker ` [#T…]` like every mail about a ticket.
//! - forwards: the ticket's details (status, customer, intake type, the inquiry and the latest
//!   answer) with a deep link to the ticket in the console, in the ticket's mail language.
//! - chat-webhook messages: the template rendered as plain text.

use diesel::prelude::*;
use serde::Deserialize;

use super::deliveries::Delivery;
use crate::common::text::{escape_html, html_to_text, sanitize_html, text_to_html};
use crate::db::DbConn;
use crate::db::schema::{services, ticket_entries, tickets};
use crate::i18n::{self, Lang};
use crate::notify::layouts::{SenderInfo, mail_lang};
use crate::notify::outbox::{self, NewMail};
use crate::notify::smtp::OutgoingMail;
use crate::tenancy::service::Service;
use crate::tickets::mailer::{MailEnv, subject_marker};
use crate::tickets::substitution::{CONTENT, Context, Mode, render};
use crate::tickets::{EntryKind, Ticket};

/// Longest rendered subject before the ticket marker.
const MAX_SUBJECT_CHARS: usize = 200;

/// What a notification delivery carries (its `body` column).
#[derive(Debug, Clone, Deserialize)]
struct NotifyPayload {
    to: Vec<(String, String)>,
    subject: String,
    body: String,
    #[serde(default)]
    html: bool,
    #[serde(default)]
    lang: String,
}

/// What a chat-webhook delivery carries before it is rendered.
#[derive(Debug, Clone, Deserialize)]
struct ChatPayload {
    #[serde(rename = "botName")]
    bot_name: String,
    template: String,
    #[serde(default)]
    lang: String,
}

/// The body of the latest answer of a ticket (agent answer or hold answer), or — before any —
/// the customer's latest message; empty when there is neither.
pub fn latest_answer(conn: &mut DbConn, ticket_id: i64) -> QueryResult<String> {
    let answer: Option<String> = ticket_entries::table
        .filter(ticket_entries::ticket_id.eq(ticket_id))
        .filter(ticket_entries::kind.eq_any([
            EntryKind::AgentReply.as_str(),
            EntryKind::HoldReply.as_str(),
        ]))
        .order(ticket_entries::id.desc())
        .select(ticket_entries::body)
        .first(conn)
        .optional()?;
    if let Some(a) = answer {
        return Ok(a);
    }
    Ok(ticket_entries::table
        .filter(ticket_entries::ticket_id.eq(ticket_id))
        .filter(ticket_entries::kind.eq_any([
            EntryKind::CustomerMessage.as_str(),
            EntryKind::CustomerFollowup.as_str(),
        ]))
        .order(ticket_entries::id.desc())
        .select(ticket_entries::body)
        .first(conn)
        .optional()?
        .unwrap_or_default())
}

/// The substitution values of a ticket for trigger texts in `lang`, with `#{content}` set to
/// [`latest_answer`].
pub fn context(
    conn: &mut DbConn,
    env: &MailEnv,
    service: &Service,
    ticket: &Ticket,
    lang: Lang,
) -> QueryResult<Context> {
    let mut ctx = Context::for_ticket(conn, &env.secret, &env.base_url, service, ticket, lang)?;
    ctx.set_html(CONTENT, &latest_answer(conn, ticket.id)?);
    Ok(ctx)
}

/// A rendered mail: subject, HTML part, text part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject, ending with the ticket marker.
    pub subject: String,
    /// HTML part.
    pub html: String,
    /// Plain-text part.
    pub text: String,
}

/// Renders a notification: `body` is sanitised HTML when `html`, plain text otherwise.
pub fn render_notification(
    ctx: &Context,
    public_id: &str,
    subject: &str,
    body: &str,
    html: bool,
) -> Rendered {
    let subject = one_line(&render(subject, ctx, Mode::Text));
    let (html_part, text) = if html {
        let h = render(&sanitize_html(body), ctx, Mode::Html);
        let t = html_to_text(&h).trim().to_string();
        (h, t)
    } else {
        let t = render(body, ctx, Mode::Text);
        (text_to_html(&t), t)
    };
    Rendered {
        subject: with_marker(&subject, public_id),
        html: html_part,
        text,
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
        .trim()
        .chars()
        .take(MAX_SUBJECT_CHARS)
        .collect()
}

fn with_marker(subject: &str, public_id: &str) -> String {
    let marker = subject_marker(public_id);
    if subject.ends_with(marker.trim_start()) {
        subject.to_string()
    } else {
        format!("{subject}{marker}")
    }
}

fn load(conn: &mut DbConn, d: &Delivery) -> QueryResult<Option<(Service, Ticket)>> {
    let Some(tid) = d.ticket_id else {
        return Ok(None);
    };
    let ticket: Option<Ticket> = tickets::table
        .find(tid)
        .select(Ticket::as_select())
        .first(conn)
        .optional()?;
    let Some(ticket) = ticket else {
        return Ok(None);
    };
    let service = services::table
        .find(ticket.service_id)
        .select(Service::as_select())
        .first(conn)?;
    Ok(Some((service, ticket)))
}

fn lang_of(service: &Service, code: &str, ticket: &Ticket) -> Lang {
    Lang::parse(code).unwrap_or_else(|| mail_lang(service, &ticket.lang))
}

/// Renders a queued notification and puts its mails in the outbox (inside the caller's
/// transaction). `Err` names why nothing could be sent (the ticket is gone, the payload is
/// unreadable).
pub fn notify(
    conn: &mut DbConn,
    env: &MailEnv,
    d: &Delivery,
) -> QueryResult<Result<usize, String>> {
    let Ok(p) = serde_json::from_str::<NotifyPayload>(&d.body) else {
        return Ok(Err("unreadable notification".into()));
    };
    let Some((service, ticket)) = load(conn, d)? else {
        return Ok(Err("the ticket no longer exists".into()));
    };
    let lang = lang_of(&service, &p.lang, &ticket);
    let ctx = context(conn, env, &service, &ticket, lang)?;
    let mail = render_notification(&ctx, &ticket.public_id, &p.subject, &p.body, p.html);
    let sender = SenderInfo::load(conn, service.id)?;
    for (addr, name) in &p.to {
        outbox::enqueue(
            conn,
            &NewMail {
                service_id: Some(service.id),
                ticket_id: Some(ticket.id),
                purpose: "trigger_notify".into(),
                mail: OutgoingMail {
                    to: addr.clone(),
                    to_name: name.clone(),
                    subject: mail.subject.clone(),
                    text: mail.text.clone(),
                    html: mail.html.clone(),
                    from_name: sender.name.clone(),
                    from_address: sender.address.clone(),
                    ..OutgoingMail::default()
                },
            },
        )?;
    }
    Ok(Ok(p.to.len()))
}

/// Renders a queued chat message to the JSON body to post (`{"botName", "text"}`), or `None`
/// when the body is already rendered. `Err` names why it cannot be.
pub fn chat_body(
    conn: &mut DbConn,
    env: &MailEnv,
    d: &Delivery,
) -> QueryResult<Result<Option<String>, String>> {
    let Ok(p) = serde_json::from_str::<ChatPayload>(&d.body) else {
        return Ok(Ok(None));
    };
    let Some((service, ticket)) = load(conn, d)? else {
        return Ok(Err("the ticket no longer exists".into()));
    };
    let lang = lang_of(&service, &p.lang, &ticket);
    let ctx = context(conn, env, &service, &ticket, lang)?;
    let text = render(&p.template, &ctx, Mode::Text);
    Ok(Ok(Some(
        serde_json::json!({ "botName": p.bot_name, "text": text }).to_string(),
    )))
}

/// Renders a forward (the ticket's details with a link to it in the console) and puts one mail
/// per address in the outbox; returns how many.
pub fn forward(conn: &mut DbConn, env: &MailEnv, d: &Delivery) -> QueryResult<usize> {
    let addresses: Vec<&str> = d
        .url
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect();
    let Some((service, ticket)) = load(conn, d)? else {
        return Ok(0);
    };
    let lang = mail_lang(&service, &ticket.lang);
    let ctx = context(conn, env, &service, &ticket, lang)?;
    let link = format!(
        "{}/{}/console/tickets/{}",
        env.base_url.trim_end_matches('/'),
        service.code,
        ticket.public_id
    );
    let t = |k: &str| i18n::t(lang, k);
    let has_answer = ticket_entries::table
        .filter(ticket_entries::ticket_id.eq(ticket.id))
        .filter(ticket_entries::kind.eq_any([
            EntryKind::AgentReply.as_str(),
            EntryKind::HoldReply.as_str(),
        ]))
        .select(ticket_entries::id)
        .first::<i64>(conn)
        .optional()?
        .is_some();
    let rows = [
        ("trigger.forward.ticket", "#{ticketId}"),
        ("trigger.forward.status", "#{status}"),
        (
            "trigger.forward.customer",
            "#{customerName} #{customerEmail}",
        ),
        ("trigger.forward.intake", "#{intakeType}"),
        ("trigger.forward.created", "#{createdAt}"),
    ];
    let mut html_tpl = format!(
        "<p>{}</p><table>",
        escape_html(&i18n::tf(
            lang,
            "trigger.forward.intro",
            &[("service", &service.name)]
        ))
    );
    let mut text_tpl = format!(
        "{}\n\n",
        i18n::tf(lang, "trigger.forward.intro", &[("service", &service.name)])
    );
    for (k, code) in rows {
        html_tpl.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{code}</td></tr>",
            escape_html(&t(k))
        ));
        text_tpl.push_str(&format!("{}: {code}\n", t(k)));
    }
    html_tpl.push_str(&format!(
        "</table><h3>{}</h3><div>#{{inquiry}}</div>",
        escape_html(&t("trigger.forward.inquiry"))
    ));
    text_tpl.push_str(&format!(
        "\n{}:\n#{{inquiry}}\n",
        t("trigger.forward.inquiry")
    ));
    if has_answer {
        html_tpl.push_str(&format!(
            "<h3>{}</h3><div>#{{content}}</div>",
            escape_html(&t("trigger.forward.answer"))
        ));
        text_tpl.push_str(&format!(
            "\n{}:\n#{{content}}\n",
            t("trigger.forward.answer")
        ));
    }
    html_tpl.push_str(&format!(
        "<p><a href=\"{}\">{}</a></p>",
        escape_html(&link),
        escape_html(&t("trigger.forward.open"))
    ));
    text_tpl.push_str(&format!("\n{}: {link}\n", t("trigger.forward.open")));
    let subject = with_marker(
        &one_line(&render("#{subject}", &ctx, Mode::Text)),
        &ticket.public_id,
    );
    let html = render(&html_tpl, &ctx, Mode::Html);
    let text = render(&text_tpl, &ctx, Mode::Text);
    let sender = SenderInfo::load(conn, service.id)?;
    for addr in &addresses {
        outbox::enqueue(
            conn,
            &NewMail {
                service_id: Some(service.id),
                ticket_id: Some(ticket.id),
                purpose: "trigger_forward".into(),
                mail: OutgoingMail {
                    to: (*addr).to_string(),
                    subject: subject.clone(),
                    text: text.clone(),
                    html: html.clone(),
                    from_name: sender.name.clone(),
                    from_address: sender.address.clone(),
                    ..OutgoingMail::default()
                },
            },
        )?;
    }
    Ok(addresses.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_render_html_or_text_and_end_with_the_marker() {
        let mut ctx = Context::new();
        ctx.set_text("customerName", "Ann <A>");
        ctx.set_html(CONTENT, "<p>We <b>refunded</b> you.</p>");
        let r = render_notification(
            &ctx,
            "T1",
            "Refund for #{customerName}\n",
            "<p>Hi #{customerName}</p><p>#{content}</p>",
            true,
        );
        assert_eq!(r.subject, "Refund for Ann <A> [#T1]");
        assert_eq!(
            r.html,
            "<p>Hi Ann &lt;A&gt;</p><div><p>We <b>refunded</b> you.</p></div>"
        );
        assert!(r.text.contains("Hi Ann <A>"), "{}", r.text);
        assert!(r.text.contains("We refunded you."), "{}", r.text);
        let r = render_notification(
            &ctx,
            "T1",
            "S [#T1]",
            "Hi #{customerName}\n#{content}",
            false,
        );
        assert_eq!(r.subject, "S [#T1]", "the marker is not doubled");
        assert_eq!(r.text, "Hi Ann <A>\nWe refunded you.");
        assert!(r.html.contains("Ann &lt;A&gt;"), "{}", r.html);
    }
}
