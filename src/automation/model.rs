//! Triggers (SPEC §3.4): a title, condition rows and action rows, stored as JSON so new targets
//! and actions need no schema change; enabled triggers run top to bottom by `position`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{trigger_firings, triggers};
use crate::db::types::text_enum;
use crate::db::{DbConn, now};

/// What a condition row looks at.
pub const TARGETS: &[&str] = &[
    "event",
    "status",
    "intake_type",
    "resolution_type",
    "channel",
    "priority",
    "group",
    "assignee",
    "subject",
    "content",
    "customer_email",
    "customer_phone",
    "customer_grade",
];

/// Targets whose value is picked from a list (the form offers a select instead of a text box).
pub const LISTED_TARGETS: &[&str] = &[
    "event",
    "status",
    "intake_type",
    "resolution_type",
    "channel",
    "priority",
    "group",
    "assignee",
    "customer_grade",
];

text_enum! {
    /// How a condition row compares.
    Op {
        /// The value equals.
        Equals => "equals",
        /// The value differs.
        NotEquals => "not_equals",
        /// The value changed in this update (any new value).
        Changed => "changed",
        /// The value changed in this update to the given value.
        ChangedTo => "changed_to",
        /// The text contains (case-insensitive).
        Contains => "contains",
        /// The text does not contain (case-insensitive).
        NotContains => "not_contains",
    }
}

impl Op {
    /// Whether the operator needs a value.
    pub fn needs_value(self) -> bool {
        self != Op::Changed
    }

    /// Whether the operator applies to a target (text operators to text targets, "changed"
    /// to anything but the event).
    pub fn fits(self, target: &str) -> bool {
        let text = matches!(
            target,
            "subject" | "content" | "customer_email" | "customer_phone"
        ) || target.starts_with("field:");
        match self {
            Op::Contains | Op::NotContains => text,
            Op::Changed | Op::ChangedTo => target != "event",
            Op::Equals | Op::NotEquals => true,
        }
    }
}

/// One condition row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// Required (AND) or optional (OR).
    pub required: bool,
    /// What it looks at: one of [`TARGETS`] or `field:<id>`.
    pub target: String,
    /// How it compares.
    pub op: Op,
    /// The value (ids as decimal text, codes such as `open` or `email`, or free text).
    pub value: String,
}

/// How an assign action picks the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// A random agent of the group.
    Random,
    /// The group's agents in their order, one after another.
    RoundRobin,
    /// One named agent.
    Agent,
}

/// Who gets a notification mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    /// The ticket's assignee.
    Assignee,
    /// Every member of the ticket's group.
    Group,
    /// The customer.
    Customer,
}

/// One action row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Assign to an agent of a group.
    Assign {
        /// The group.
        group_id: i64,
        /// How the agent is picked.
        strategy: Strategy,
        /// The agent, for [`Strategy::Agent`].
        agent_id: Option<i64>,
        /// Random and round robin pick only among agents online now; with nobody online the
        /// ticket goes to the group unassigned.
        #[serde(default)]
        online_only: bool,
    },
    /// Move to a group (the assignee is cleared unless a member of it).
    AssignGroup {
        /// The group.
        group_id: i64,
    },
    /// Set the intake type.
    SetIntakeType {
        /// The intake category.
        category_id: i64,
    },
    /// Set the priority.
    SetPriority {
        /// `low`, `normal`, `high` or `urgent`.
        priority: String,
    },
    /// Mail a notification (not using the service's mail layout) in the ticket's language.
    NotifyMail {
        /// Recipients.
        recipients: Vec<Recipient>,
        /// Subject and body per help-center language (substitution codes allowed).
        #[serde(default)]
        texts: Vec<MailText>,
        /// Whether the bodies are HTML (the service's editor type when saved) or plain text.
        #[serde(default)]
        html: bool,
        /// The single plain-text subject of triggers saved before per-language texts.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        subject: String,
        /// The single plain-text body of triggers saved before per-language texts.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        body: String,
    },
    /// Mail the ticket to external addresses with a link back, optionally completing it.
    Forward {
        /// Addresses.
        addresses: Vec<String>,
        /// Complete the ticket afterwards.
        complete: bool,
    },
    /// POST a signed JSON snapshot to a URL.
    Callback {
        /// The URL.
        url: String,
    },
    /// Post a message to a Dooray!/Slack-compatible incoming webhook.
    ChatWebhook {
        /// The incoming-webhook URL.
        url: String,
        /// The message (substitution codes allowed).
        template: String,
    },
}

/// A notification mail's subject and body in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailText {
    /// Language code (`ko`, `en`, `ja`).
    pub lang: String,
    /// Subject.
    pub subject: String,
    /// Body (HTML or plain text, see [`Action::NotifyMail`]).
    pub body: String,
}

/// The notification text for a mail in `lang`: the text of that language, else the one of
/// `default_lang`, else the single text of an older trigger, else the first text. Returns the
/// subject, the body and whether the body is HTML.
pub fn pick_text(
    texts: &[MailText],
    html: bool,
    legacy: (&str, &str),
    lang: &str,
    default_lang: &str,
) -> Option<(String, String, bool)> {
    let usable = |t: &&MailText| !t.subject.trim().is_empty() && !t.body.trim().is_empty();
    let of = |l: &str| texts.iter().filter(usable).find(|t| t.lang == l);
    if let Some(t) = of(lang).or_else(|| of(default_lang)) {
        return Some((t.subject.clone(), t.body.clone(), html));
    }
    if !legacy.0.trim().is_empty() && !legacy.1.trim().is_empty() {
        return Some((legacy.0.to_string(), legacy.1.to_string(), false));
    }
    texts
        .iter()
        .find(usable)
        .map(|t| (t.subject.clone(), t.body.clone(), html))
}

/// A trigger row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = triggers)]
pub struct TriggerRow {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Title.
    pub title: String,
    /// Active.
    pub enabled: bool,
    /// Order among the active triggers.
    pub position: i32,
    /// JSON conditions.
    pub conditions: String,
    /// JSON actions.
    pub actions: String,
    /// Encrypted signing secret of callback calls.
    pub secret: String,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Changed.
    pub updated_at: NaiveDateTime,
}

/// A trigger with its rows decoded.
#[derive(Debug, Clone)]
pub struct Trigger {
    /// The stored row.
    pub row: TriggerRow,
    /// Conditions.
    pub conditions: Vec<Condition>,
    /// Actions.
    pub actions: Vec<Action>,
}

impl Trigger {
    /// Decodes a row (rows that fail to decode have no conditions or actions and never fire).
    pub fn from_row(row: TriggerRow) -> Trigger {
        let conditions = serde_json::from_str(&row.conditions).unwrap_or_default();
        let actions = serde_json::from_str(&row.actions).unwrap_or_default();
        Trigger {
            row,
            conditions,
            actions,
        }
    }

    /// The service's triggers: active ones in order, then disabled ones.
    pub fn all(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<Trigger>> {
        let rows = triggers::table
            .filter(triggers::service_id.eq(service_id))
            .order((
                triggers::enabled.desc(),
                triggers::position.asc(),
                triggers::id.asc(),
            ))
            .select(TriggerRow::as_select())
            .load(conn)?;
        Ok(rows.into_iter().map(Trigger::from_row).collect())
    }

    /// The service's active triggers in run order.
    pub fn active(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<Trigger>> {
        Ok(Trigger::all(conn, service_id)?
            .into_iter()
            .filter(|t| t.row.enabled)
            .collect())
    }

    /// One trigger of a service.
    pub fn find(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<Trigger>> {
        Ok(triggers::table
            .filter(triggers::service_id.eq(service_id))
            .filter(triggers::id.eq(id))
            .select(TriggerRow::as_select())
            .first(conn)
            .optional()?
            .map(Trigger::from_row))
    }
}

/// A firing in the log.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = trigger_firings)]
pub struct Firing {
    /// Key.
    pub id: i64,
    /// Trigger.
    pub trigger_id: i64,
    /// Ticket.
    pub ticket_id: Option<i64>,
    /// `created` or `updated`.
    pub event: String,
    /// What the actions did.
    pub summary: String,
    /// When.
    pub fired_at: NaiveDateTime,
}

/// Records a firing.
pub fn log_firing(
    conn: &mut DbConn,
    trigger_id: i64,
    ticket_id: i64,
    event: &str,
    summary: &str,
) -> QueryResult<()> {
    diesel::insert_into(trigger_firings::table)
        .values((
            trigger_firings::trigger_id.eq(trigger_id),
            trigger_firings::ticket_id.eq(Some(ticket_id)),
            trigger_firings::event.eq(event),
            trigger_firings::summary.eq(summary),
            trigger_firings::fired_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The latest firings of a trigger, newest first.
pub fn recent_firings(conn: &mut DbConn, trigger_id: i64, limit: i64) -> QueryResult<Vec<Firing>> {
    trigger_firings::table
        .filter(trigger_firings::trigger_id.eq(trigger_id))
        .order(trigger_firings::id.desc())
        .limit(limit)
        .select(Firing::as_select())
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_actions_still_read() {
        let old = r#"[{"kind":"notify_mail","recipients":["group"],"subject":"S","body":"B"},
            {"kind":"assign","group_id":3,"strategy":"round_robin","agent_id":null}]"#;
        let actions: Vec<Action> = serde_json::from_str(old).unwrap();
        let Action::NotifyMail {
            texts,
            html,
            subject,
            body,
            ..
        } = &actions[0]
        else {
            panic!("notify expected");
        };
        assert!(texts.is_empty() && !html);
        assert_eq!(
            pick_text(texts, *html, (subject, body), "en", "ko"),
            Some(("S".into(), "B".into(), false))
        );
        assert!(matches!(
            actions[1],
            Action::Assign {
                online_only: false,
                ..
            }
        ));
    }

    #[test]
    fn the_ticket_language_then_the_default() {
        let t = |lang: &str, s: &str| MailText {
            lang: lang.into(),
            subject: s.into(),
            body: format!("<p>{s}</p>"),
        };
        let texts = [t("ko", "안녕"), t("en", "Hello"), t("ja", "")];
        let pick = |l: &str| pick_text(&texts, true, ("", ""), l, "ko").map(|p| p.0);
        assert_eq!(pick("en").as_deref(), Some("Hello"));
        assert_eq!(
            pick("ja").as_deref(),
            Some("안녕"),
            "empty Japanese falls back"
        );
        assert_eq!(pick("fr").as_deref(), Some("안녕"));
    }
}
