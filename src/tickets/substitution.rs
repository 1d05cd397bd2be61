//! Substitution codes (SPEC §3.6, §3.7): the one catalogue of `#{…}` codes that reply
//! templates, mail layouts and (later) triggers expand from a ticket, and the one renderer.
//!
//! - [`CODES`] lists every code with its description key; `#{field.<code>}` expands any
//!   customer or agent field of the ticket by its field code.
//! - [`Context::for_ticket`] gathers the values of one ticket (inside the caller's connection).
//! - [`render`] expands a template for HTML (values escaped, `#{content}` and `#{inquiry}`
//!   inserted as sanitised HTML) or for plain text (HTML values turned into text). Codes that are
//!   not in the catalogue stay as typed, so a typo is visible instead of silently vanishing.
//! - [`list_codes`] serves the page that lists the codes (linked from the template and layout
//!   editors).

use std::collections::HashMap;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use diesel::prelude::*;

use crate::categories::model::Tree;
use crate::common::text::{escape_html, html_to_text, sanitize_html};
use crate::common::time::local_display;
use crate::crypto::SecretKey;
use crate::customers::Customer;
use crate::db::DbConn;
use crate::db::schema::{agent_groups, ticket_entries};
use crate::db::types::{CategoryTree, ServiceKind};
use crate::db::types::{CustomerId, ServiceId, UserId};
use crate::error::AppError;
use crate::fields::model::FieldDef;
use crate::fields::personal::read_value;
use crate::i18n::{self, Lang};
use crate::tenancy::service::Service;
use crate::tenancy::service::service_tz;
use crate::tenancy::user::User;
use crate::tickets::{EntryKind, Ticket, field_values_of};
use crate::web::{self as w, PageCtx, ServiceMember};

/// One substitution code of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Code {
    /// The name between `#{` and `}`.
    pub name: &'static str,
    /// The i18n key of its description.
    pub label_key: &'static str,
}

impl Code {
    /// The code as typed into a template: `#{name}`.
    pub fn token(&self) -> String {
        format!("#{{{}}}", self.name)
    }
}

/// The answer content (mandatory in every mail layout).
pub const CONTENT: &str = "content";
/// The prefix of field codes: `#{field.<field code>}`.
pub const FIELD_PREFIX: &str = "field.";

/// Every code, in the order the catalogue page lists them.
pub const CODES: &[Code] = &[
    Code {
        name: CONTENT,
        label_key: "template.code.content",
    },
    Code {
        name: "ticketId",
        label_key: "template.code.ticket_id",
    },
    Code {
        name: "subject",
        label_key: "template.code.subject",
    },
    Code {
        name: "customerName",
        label_key: "template.code.customer_name",
    },
    Code {
        name: "customerEmail",
        label_key: "template.code.customer_email",
    },
    Code {
        name: "customerPhone",
        label_key: "template.code.customer_phone",
    },
    Code {
        name: "intakeType",
        label_key: "template.code.intake_type",
    },
    Code {
        name: "agentName",
        label_key: "template.code.agent_name",
    },
    Code {
        name: "groupName",
        label_key: "template.code.group_name",
    },
    Code {
        name: "status",
        label_key: "template.code.status",
    },
    Code {
        name: "createdAt",
        label_key: "template.code.created_at",
    },
    Code {
        name: "inquiry",
        label_key: "template.code.inquiry",
    },
    Code {
        name: "helpCenterUrl",
        label_key: "template.code.help_center_url",
    },
    Code {
        name: "serviceName",
        label_key: "template.code.service_name",
    },
];

/// Longest code name read between `#{` and `}` (field codes are at most 50 characters).
const MAX_CODE_CHARS: usize = 64;

/// What a template is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An HTML document (the template is sanitised HTML; values are escaped).
    Html,
    /// Plain text (the text part of a mail, a plain textarea).
    Text,
}

#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Html(String),
}

/// The values of one rendering: code name → value.
#[derive(Debug, Clone, Default)]
pub struct Context {
    values: HashMap<String, Value>,
}

/// Whether a code name is in the catalogue (or is a field code).
pub fn is_known(name: &str) -> bool {
    CODES.iter().any(|c| c.name == name) || name.starts_with(FIELD_PREFIX)
}

impl Context {
    /// An empty context: every known code expands to nothing.
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets a plain-text value (escaped in HTML output).
    pub fn set_text(&mut self, name: &str, value: impl Into<String>) {
        self.values
            .insert(name.to_string(), Value::Text(value.into()));
    }

    /// Sets an HTML value; it is sanitised here, so callers may pass stored bodies as they are.
    pub fn set_html(&mut self, name: &str, html: &str) {
        self.values
            .insert(name.to_string(), Value::Html(sanitize_html(html)));
    }

    /// The values of a ticket in `lang` (the customer's language for mails): ticket ID,
    /// subject, customer, intake type, agent, group, customer-facing status, creation time in
    /// the service's time zone, the first customer message, the help-center URL, the service
    /// name and every field value by code. `#{content}` is left for the caller to set.
    pub fn for_ticket(
        conn: &mut DbConn,
        secret: &SecretKey,
        base_url: &str,
        service: &Service,
        ticket: &Ticket,
        lang: Lang,
    ) -> QueryResult<Context> {
        let mut ctx = Context::new();
        let fallback = Lang::parse(&service.default_lang).unwrap_or_default();
        ctx.set_text("ticketId", ticket.public_id.clone());
        ctx.set_text("subject", ticket.subject.clone());
        ctx.set_text("serviceName", service.name.clone());
        let customer = match ticket.customer_id {
            Some(id) => Customer::find(conn, ServiceId(ticket.service_id), CustomerId(id))?,
            None => None,
        };
        if let Some(c) = &customer {
            ctx.set_text("customerName", c.name.clone());
            ctx.set_text("customerEmail", c.email.clone());
            ctx.set_text("customerPhone", c.phone.clone());
        }
        if let Some(cat) = ticket.category_id {
            let tree = Tree::load(conn, ticket.service_id, CategoryTree::Intake)?;
            ctx.set_text(
                "intakeType",
                tree.path_names(cat, lang, fallback).join(" > "),
            );
        }
        if let Some(uid) = ticket.assignee_id
            && let Some(u) = User::find(conn, UserId(uid))?
        {
            ctx.set_text("agentName", u.name);
        }
        if let Some(gid) = ticket.group_id {
            let name: Option<String> = agent_groups::table
                .find(gid)
                .select(agent_groups::name)
                .first(conn)
                .optional()?;
            ctx.set_text("groupName", name.unwrap_or_default());
        }
        ctx.set_text("status", i18n::t(lang, ticket.status().label_key()));
        ctx.set_text(
            "createdAt",
            local_display(service_tz(service), ticket.created_at),
        );
        let first: Option<String> = ticket_entries::table
            .filter(ticket_entries::ticket_id.eq(ticket.id))
            .filter(ticket_entries::kind.eq(EntryKind::CustomerMessage.as_str()))
            .order(ticket_entries::id.asc())
            .select(ticket_entries::body)
            .first(conn)
            .optional()?;
        ctx.set_html("inquiry", first.as_deref().unwrap_or(""));
        if service.kind() == ServiceKind::Consultation {
            ctx.set_text(
                "helpCenterUrl",
                format!("{}/{}/hc/", base_url.trim_end_matches('/'), service.code),
            );
        }
        let values = field_values_of(conn, ticket.id)?;
        let ids: Vec<i64> = values.iter().map(|v| v.field_id).collect();
        let defs = FieldDef::by_ids(conn, ticket.service_id, &ids)?;
        for v in &values {
            if let Some(def) = defs.iter().find(|d| d.id == v.field_id) {
                let shown = read_value(secret, def, &v.value).display(def, lang, fallback);
                ctx.set_text(&format!("{FIELD_PREFIX}{}", def.code), shown);
            }
        }
        Ok(ctx)
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name).or_else(|| {
            // Field codes are case-insensitive, like the fields themselves.
            name.strip_prefix(FIELD_PREFIX).and_then(|code| {
                self.values.iter().find_map(|(k, v)| {
                    k.strip_prefix(FIELD_PREFIX)
                        .filter(|c| c.eq_ignore_ascii_case(code))
                        .map(|_| v)
                })
            })
        })
    }
}

/// Expands the `#{…}` codes of `template`. In [`Mode::Html`] the template is trusted
/// (sanitised) HTML, text values are escaped and HTML values inserted as they are; a paragraph
/// holding nothing but `#{content}` (what the rich-text editor produces) becomes a `<div>` so
/// the content's own paragraphs do not nest. In [`Mode::Text`] HTML values become text.
pub fn render(template: &str, ctx: &Context, mode: Mode) -> String {
    let template = if mode == Mode::Html {
        template.replace("<p>#{content}</p>", "<div>#{content}</div>")
    } else {
        template.to_string()
    };
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template.as_str();
    while let Some(start) = rest.find("#{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .char_indices()
            .take(MAX_CODE_CHARS + 1)
            .find(|(_, c)| *c == '}')
            .map(|(i, _)| i);
        let Some(end) = end else {
            out.push_str("#{");
            rest = after;
            continue;
        };
        let name = after[..end].trim();
        if !is_known(name) {
            out.push_str(&rest[start..start + 2 + end + 1]);
            rest = &after[end + 1..];
            continue;
        }
        match (ctx.get(name), mode) {
            (None, _) => {}
            (Some(Value::Text(t)), Mode::Html) => out.push_str(&escape_html(t)),
            (Some(Value::Text(t)), Mode::Text) => out.push_str(t),
            (Some(Value::Html(h)), Mode::Html) => out.push_str(h),
            (Some(Value::Html(h)), Mode::Text) => out.push_str(html_to_text(h).trim()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Whether a template contains the code `name` (spaces inside the braces allowed).
pub fn contains_code(template: &str, name: &str) -> bool {
    let mut rest = template;
    while let Some(start) = rest.find("#{") {
        let after = &rest[start + 2..];
        if let Some(end) = after.find('}')
            && after[..end].trim() == name
        {
            return true;
        }
        rest = after;
    }
    false
}

/// One row of the catalogue page.
#[derive(Debug, Clone)]
pub struct CodeRow {
    /// `#{name}`.
    pub token: String,
    /// Description.
    pub label: String,
}

/// The substitution-code catalogue page.
#[derive(Template)]
#[template(path = "tickets/substitution_codes.html")]
pub struct CodesPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// The codes.
    pub codes: Vec<CodeRow>,
    /// Example of a field code.
    pub field_example: String,
}

/// The catalogue rows in a language.
pub fn code_rows(lang: Lang) -> Vec<CodeRow> {
    CODES
        .iter()
        .map(|c| CodeRow {
            token: c.token(),
            label: i18n::t(lang, c.label_key),
        })
        .collect()
}

/// `GET /{service_id}/console/settings/substitution-codes` — any member (agents use the codes
/// in templates too).
pub async fn list_codes(m: ServiceMember) -> Result<HttpResponse, AppError> {
    let lang = m.viewer().lang;
    let page = CodesPage {
        ctx: PageCtx::console(&m, "template.codes_title"),
        codes: code_rows(lang),
        field_example: format!("#{{{FIELD_PREFIX}orderNo}}"),
    };
    w::html(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_html_and_text() {
        let mut ctx = Context::new();
        ctx.set_text("customerName", "Ann <Lee>");
        ctx.set_html(CONTENT, "<p>Hi <b>there</b></p><script>x</script>");
        ctx.set_text("field.orderNo", "A-1");
        let tpl = "<p>Dear #{customerName}</p><p>#{content}</p><p>#{field.ORDERNO} #{unknown} #{agentName}</p>";
        let html = render(tpl, &ctx, Mode::Html);
        assert_eq!(
            html,
            "<p>Dear Ann &lt;Lee&gt;</p><div><p>Hi <b>there</b></p></div><p>A-1 #{unknown} </p>"
        );
        let text = render(
            "Dear #{customerName},\n#{content}\n#{ticketId",
            &ctx,
            Mode::Text,
        );
        assert_eq!(text, "Dear Ann <Lee>,\nHi there\n#{ticketId");
        assert!(contains_code("<p>#{ content }</p>", CONTENT));
        assert!(!contains_code("#{contents}", CONTENT));
    }
}
