//! Service Management → Triggers (`/{service_id}/console/settings/triggers`, service
//! administrators; SPEC §3.4): active triggers on top in run order (drag and drop, or up/down
//! without JavaScript), disabled ones below; enable/disable; delete only when disabled; the
//! trigger form with condition rows (AND/OR, target, operator, value) and action rows; a test
//! run against a ticket; the last firings and deliveries of a trigger.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use super::deliveries::{self, Delivery};
use super::engine;
use super::model::{
    Action, Condition, Firing, LISTED_TARGETS, MailText, Op, Recipient, Strategy, TARGETS, Trigger,
    recent_firings,
};
use crate::agents::form::{Pairs, move_one};
use crate::categories::model::Tree;
use crate::common::text::{html_to_text, sanitize_html, text_to_html};
use crate::common::time::local_display;
use crate::db::schema::{agent_groups, field_defs, service_members, triggers, users};
use crate::db::types::{CategoryTree, EditorType};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::tenancy::service::Service;
use crate::tenancy::service::{service_langs, service_tz};
use crate::tickets::detail::view::channel_key;
use crate::tickets::lifecycle::status_label_key;
use crate::tickets::{Channel, Priority, Status, Ticket};
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin};

/// Most condition rows.
pub const MAX_CONDITIONS: usize = 20;
/// Most action rows.
pub const MAX_ACTIONS: usize = 10;
/// Longest title.
pub const MAX_TITLE: usize = 100;
/// Longest text of a mail or message.
pub const MAX_TEXT: usize = 5000;
/// Blank rows offered below the filled ones.
const BLANK_CONDITIONS: usize = 3;
const BLANK_ACTIONS: usize = 2;

/// An option of a select: value, label.
pub type Choice = (String, String);

/// What the form's selects offer.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// Condition targets.
    pub targets: Vec<Choice>,
    /// Operators.
    pub ops: Vec<Choice>,
    /// Groups.
    pub groups: Vec<Choice>,
    /// Agents of the service.
    pub agents: Vec<Choice>,
    /// Intake types.
    pub intake_types: Vec<Choice>,
    /// Priorities.
    pub priorities: Vec<Choice>,
    /// Action kinds.
    pub kinds: Vec<Choice>,
    /// Assignment strategies.
    pub strategies: Vec<Choice>,
    /// Mail recipients.
    pub recipients: Vec<Choice>,
    /// The values of each listed target (see [`LISTED_TARGETS`]): target, options.
    pub values: Vec<(String, Vec<Choice>)>,
    /// Help-center languages, the default first: code, name.
    pub langs: Vec<Choice>,
    /// Whether notification bodies are HTML (the service's editor type).
    pub html: bool,
}

impl Choices {
    /// The options of a listed target.
    pub fn values_of(&self, target: &str) -> Option<&[Choice]> {
        self.values
            .iter()
            .find(|(t, _)| t == target)
            .map(|(_, v)| v.as_slice())
    }
}

/// One condition row of the form.
#[derive(Debug, Clone, Default)]
pub struct CondRow {
    /// `and` or `or`.
    pub mode: String,
    /// Target.
    pub target: String,
    /// Operator.
    pub op: String,
    /// Value.
    pub value: String,
}

/// One action row of the form.
#[derive(Debug, Clone, Default)]
pub struct ActRow {
    /// Kind.
    pub kind: String,
    /// Group.
    pub group: String,
    /// Strategy.
    pub strategy: String,
    /// Agent.
    pub agent: String,
    /// Intake type.
    pub category: String,
    /// Priority.
    pub priority: String,
    /// Recipients.
    pub recipients: Vec<String>,
    /// Only agents online now (assign).
    pub online_only: bool,
    /// Mail subject and body per language: code, subject, body.
    pub texts: Vec<(String, String, String)>,
    /// Forward addresses.
    pub addresses: String,
    /// Complete after forwarding.
    pub complete: bool,
    /// URL.
    pub url: String,
    /// Chat message template.
    pub template: String,
}

impl ActRow {
    /// Whether a recipient is checked.
    pub fn has_recipient(&self, r: &str) -> bool {
        self.recipients.iter().any(|x| x == r)
    }

    /// The mail subject in a language.
    pub fn subject_in(&self, lang: &str) -> &str {
        self.texts
            .iter()
            .find(|(l, _, _)| l == lang)
            .map_or("", |(_, s, _)| s.as_str())
    }

    /// The mail body in a language.
    pub fn body_in(&self, lang: &str) -> &str {
        self.texts
            .iter()
            .find(|(l, _, _)| l == lang)
            .map_or("", |(_, _, b)| b.as_str())
    }
}

/// The list page.
#[derive(Template)]
#[template(path = "automation/triggers.html")]
pub struct ListPage {
    /// Layout.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/triggers`
    pub base: String,
    /// Active triggers in order.
    pub active: Vec<Trigger>,
    /// Disabled triggers.
    pub disabled: Vec<Trigger>,
}

/// The form page.
#[derive(Template)]
#[template(path = "automation/trigger_form.html")]
pub struct FormPage {
    /// Layout.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/triggers`
    pub base: String,
    /// The trigger edited (`None`: new).
    pub id: Option<i64>,
    /// Whether it is active.
    pub enabled: bool,
    /// Title.
    pub title: String,
    /// Condition rows.
    pub conditions: Vec<CondRow>,
    /// Action rows.
    pub actions: Vec<ActRow>,
    /// Select options.
    pub choices: Choices,
    /// Messages.
    pub errors: FormErrors,
    /// Last firings: time, ticket, event, summary.
    pub firings: Vec<(String, String, String, String)>,
    /// Last deliveries: time, kind, URL, status, attempts, code, error.
    pub deliveries: Vec<(String, String, String, String, i32, String, String)>,
    /// Test-run ticket ID.
    pub test_ticket: String,
    /// Test-run result text.
    pub test_result: String,
    /// The substitution codes.
    pub codes: Vec<crate::tickets::substitution::CodeRow>,
    /// Most condition rows.
    pub max_conditions: usize,
    /// Most action rows.
    pub max_actions: usize,
}

fn base(code: &str) -> String {
    format!("/{code}/console/settings/triggers")
}

fn choices(conn: &mut DbConn, service: &Service, lang: Lang) -> QueryResult<Choices> {
    let service_id = service.id;
    let t = |k: &str| i18n::t(lang, k);
    let mut targets: Vec<Choice> = TARGETS
        .iter()
        .map(|k| ((*k).to_string(), t(&format!("trigger.target.{k}"))))
        .collect();
    let fields: Vec<(i64, String)> = field_defs::table
        .filter(field_defs::service_id.eq(service_id))
        .filter(field_defs::is_system.eq(false))
        .filter(field_defs::personal.eq(false))
        .filter(field_defs::deleted_at.is_null())
        .order(field_defs::position.asc())
        .select((field_defs::id, field_defs::code))
        .load(conn)?;
    targets.extend(fields.into_iter().map(|(id, code)| {
        (
            format!("field:{id}"),
            format!("{}: {code}", t("trigger.target.field")),
        )
    }));
    let groups = groups_of(conn, service_id)?;
    let agents = agents_of(conn, service_id)?;
    let fallback = crate::tenancy::service::default_lang(service);
    let tree_choices = |tree: &Tree| -> Vec<Choice> {
        tree.nodes()
            .iter()
            .map(|n| {
                (
                    n.id.to_string(),
                    format!(
                        "{}{}",
                        "· ".repeat(usize::try_from(n.level - 1).unwrap_or(0)),
                        n.display_name(lang, fallback)
                    ),
                )
            })
            .collect()
    };
    let intake_types: Vec<Choice> =
        tree_choices(&Tree::load(conn, service_id, CategoryTree::Intake)?);
    let resolution_types: Vec<Choice> =
        tree_choices(&Tree::load(conn, service_id, CategoryTree::Resolution)?);
    let grades: Vec<Choice> = crate::customers::grades::Grade::all(conn, service_id)?
        .into_iter()
        .map(|g| (g.id.to_string(), g.name))
        .collect();
    let priorities: Vec<Choice> = Priority::ALL
        .iter()
        .map(|p| {
            (
                p.as_str().to_string(),
                t(&format!("trigger.priority.{}", p.as_str())),
            )
        })
        .collect();
    let values = vec![
        (
            "event".to_string(),
            ["created", "updated"]
                .iter()
                .map(|e| ((*e).to_string(), t(&format!("trigger.event.{e}"))))
                .collect(),
        ),
        (
            "status".to_string(),
            Status::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), t(status_label_key(*s))))
                .collect(),
        ),
        ("intake_type".to_string(), intake_types.clone()),
        ("resolution_type".to_string(), resolution_types),
        (
            "channel".to_string(),
            Channel::ALL
                .iter()
                .map(|c| (c.as_str().to_string(), t(channel_key(*c))))
                .collect(),
        ),
        ("priority".to_string(), priorities.clone()),
        ("group".to_string(), groups_of(conn, service_id)?),
        ("assignee".to_string(), agents_of(conn, service_id)?),
        ("customer_grade".to_string(), grades),
    ];
    let langs = service_langs(service)
        .into_iter()
        .map(|l| (l.code().to_string(), l.native_name().to_string()))
        .collect();
    Ok(Choices {
        targets,
        ops: Op::ALL
            .iter()
            .map(|o| {
                (
                    o.as_str().to_string(),
                    t(&format!("trigger.op.{}", o.as_str())),
                )
            })
            .collect(),
        groups,
        agents,
        intake_types,
        priorities,
        kinds: [
            "assign",
            "assign_group",
            "set_intake_type",
            "set_priority",
            "notify_mail",
            "forward",
            "callback",
            "chat_webhook",
        ]
        .iter()
        .map(|k| ((*k).to_string(), t(&format!("trigger.action.{k}"))))
        .collect(),
        strategies: ["round_robin", "random", "agent"]
            .iter()
            .map(|k| ((*k).to_string(), t(&format!("trigger.strategy.{k}"))))
            .collect(),
        recipients: ["assignee", "group", "customer"]
            .iter()
            .map(|k| ((*k).to_string(), t(&format!("trigger.recipient.{k}"))))
            .collect(),
        values,
        langs,
        html: service.editor_type == EditorType::Html.as_str(),
    })
}

fn groups_of(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<Choice>> {
    Ok(agent_groups::table
        .filter(agent_groups::service_id.eq(service_id))
        .order((agent_groups::display_order.asc(), agent_groups::id.asc()))
        .select((agent_groups::id, agent_groups::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .map(|(id, n)| (id.to_string(), n))
        .collect())
}

fn agents_of(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<Choice>> {
    Ok(service_members::table
        .inner_join(users::table.on(users::id.eq(service_members::user_id)))
        .filter(service_members::service_id.eq(service_id))
        .filter(users::active.eq(true))
        .order(users::name.asc())
        .select((users::id, users::name, users::login))
        .limit(500)
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, n, l)| (id.to_string(), format!("{n} ({l})")))
        .collect())
}

fn cond_rows(conditions: &[Condition]) -> Vec<CondRow> {
    let mut rows: Vec<CondRow> = conditions
        .iter()
        .map(|c| CondRow {
            mode: if c.required { "and" } else { "or" }.into(),
            target: c.target.clone(),
            op: c.op.as_str().into(),
            value: c.value.clone(),
        })
        .collect();
    rows.extend((0..BLANK_CONDITIONS).map(|_| CondRow {
        mode: "and".into(),
        ..CondRow::default()
    }));
    rows.truncate(MAX_CONDITIONS);
    rows
}

fn act_rows(actions: &[Action], choices: &Choices) -> Vec<ActRow> {
    let default_lang = choices
        .langs
        .first()
        .map(|(c, _)| c.clone())
        .unwrap_or_default();
    // Bodies shown in the service's current editor type.
    let shown = |body: &str, html: bool| match (html, choices.html) {
        (true, false) => html_to_text(body).trim().to_string(),
        (false, true) => text_to_html(body),
        _ => body.to_string(),
    };
    let mut rows: Vec<ActRow> = actions
        .iter()
        .map(|a| match a {
            Action::Assign {
                group_id,
                strategy,
                agent_id,
                online_only,
            } => ActRow {
                kind: "assign".into(),
                group: group_id.to_string(),
                strategy: match strategy {
                    Strategy::Random => "random",
                    Strategy::RoundRobin => "round_robin",
                    Strategy::Agent => "agent",
                }
                .into(),
                agent: agent_id.map(|a| a.to_string()).unwrap_or_default(),
                online_only: *online_only,
                ..ActRow::default()
            },
            Action::AssignGroup { group_id } => ActRow {
                kind: "assign_group".into(),
                group: group_id.to_string(),
                ..ActRow::default()
            },
            Action::SetIntakeType { category_id } => ActRow {
                kind: "set_intake_type".into(),
                category: category_id.to_string(),
                ..ActRow::default()
            },
            Action::SetPriority { priority } => ActRow {
                kind: "set_priority".into(),
                priority: priority.clone(),
                ..ActRow::default()
            },
            Action::NotifyMail {
                recipients,
                texts,
                html,
                subject,
                body,
            } => ActRow {
                kind: "notify_mail".into(),
                recipients: recipients
                    .iter()
                    .map(|r| {
                        match r {
                            Recipient::Assignee => "assignee",
                            Recipient::Group => "group",
                            Recipient::Customer => "customer",
                        }
                        .to_string()
                    })
                    .collect(),
                texts: if texts.is_empty() && !subject.is_empty() {
                    vec![(default_lang.clone(), subject.clone(), shown(body, false))]
                } else {
                    texts
                        .iter()
                        .map(|t| (t.lang.clone(), t.subject.clone(), shown(&t.body, *html)))
                        .collect()
                },
                ..ActRow::default()
            },
            Action::Forward {
                addresses,
                complete,
            } => ActRow {
                kind: "forward".into(),
                addresses: addresses.join(", "),
                complete: *complete,
                ..ActRow::default()
            },
            Action::Callback { url } => ActRow {
                kind: "callback".into(),
                url: url.clone(),
                ..ActRow::default()
            },
            Action::ChatWebhook { url, template } => ActRow {
                kind: "chat_webhook".into(),
                url: url.clone(),
                template: template.clone(),
                ..ActRow::default()
            },
        })
        .collect();
    rows.extend((0..BLANK_ACTIONS).map(|_| ActRow::default()));
    rows.truncate(MAX_ACTIONS);
    rows
}

/// `GET /{service_id}/console/settings/triggers`
pub async fn list(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let all = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(Trigger::all(c, sid)?))
        .await?;
    let (active, disabled) = all.into_iter().partition(|t| t.row.enabled);
    w::html(
        StatusCode::OK,
        &ListPage {
            ctx: PageCtx::console(&a, "trigger.title"),
            base: base(&a.service.code),
            active,
            disabled,
        },
    )
}

/// The action rows a form page shows: as submitted, or from a stored trigger.
enum ActSource {
    Rows(Vec<ActRow>),
    Stored(Vec<Action>),
}

async fn form_page(
    a: &ServiceAdmin,
    id: Option<i64>,
    page_data: (bool, String, Vec<CondRow>, ActSource),
    errors: FormErrors,
    test: (String, String),
) -> Result<FormPage, AppError> {
    let service = a.service.clone();
    let lang = a.viewer().lang;
    let tz = service_tz(&a.service);
    let (choices, firings, deliveries) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let ch = choices(c, &service, lang)?;
            let (f, d): (Vec<Firing>, Vec<Delivery>) = match id {
                Some(id) => (
                    recent_firings(c, id, 20)?,
                    deliveries::of_trigger(c, id, 20)?,
                ),
                None => (Vec::new(), Vec::new()),
            };
            let ticket_ids: Vec<i64> = f.iter().filter_map(|f| f.ticket_id).collect();
            let public: HashMap<i64, String> = crate::db::schema::tickets::table
                .filter(crate::db::schema::tickets::id.eq_any(ticket_ids))
                .select((
                    crate::db::schema::tickets::id,
                    crate::db::schema::tickets::public_id,
                ))
                .load::<(i64, String)>(c)?
                .into_iter()
                .collect();
            let f = f
                .into_iter()
                .map(|f| {
                    (
                        f.fired_at,
                        f.ticket_id
                            .and_then(|t| public.get(&t).cloned())
                            .unwrap_or_default(),
                        f.event,
                        f.summary,
                    )
                })
                .collect::<Vec<_>>();
            Ok((ch, f, d))
        })
        .await?;
    let (enabled, title, mut conditions, source) = page_data;
    if conditions.is_empty() {
        conditions = cond_rows(&[]);
    }
    let actions = match source {
        ActSource::Rows(rows) if !rows.is_empty() => rows,
        ActSource::Rows(_) => act_rows(&[], &choices),
        ActSource::Stored(stored) => act_rows(&stored, &choices),
    };
    Ok(FormPage {
        ctx: PageCtx::console(a, "trigger.title"),
        base: base(&a.service.code),
        id,
        enabled,
        title,
        conditions,
        actions,
        choices,
        errors,
        firings: firings
            .into_iter()
            .map(|(at, t, e, s)| (local_display(tz, at), t, e, s))
            .collect(),
        deliveries: deliveries
            .into_iter()
            .map(|d| {
                (
                    local_display(tz, d.created_at),
                    d.kind,
                    d.url,
                    d.status,
                    d.attempts,
                    d.last_status.map(|s| s.to_string()).unwrap_or_default(),
                    d.last_error,
                )
            })
            .collect(),
        test_ticket: test.0,
        test_result: test.1,
        codes: crate::tickets::substitution::code_rows(lang),
        max_conditions: MAX_CONDITIONS,
        max_actions: MAX_ACTIONS,
    })
}

/// `GET /{service_id}/console/settings/triggers/new`
pub async fn new_form(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let page = form_page(
        &a,
        None,
        (true, String::new(), Vec::new(), ActSource::Rows(Vec::new())),
        FormErrors::new(lang),
        Default::default(),
    )
    .await?;
    w::html(StatusCode::OK, &page)
}

/// `?ticket=` for the test run.
#[derive(Debug, serde::Deserialize)]
pub struct TestQuery {
    /// A public ticket ID.
    pub ticket: Option<String>,
}

/// `GET /{service_id}/console/settings/triggers/{id}` (with `?ticket=T…`: a test run).
pub async fn edit_form(
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
    query: web::Query<TestQuery>,
) -> Result<HttpResponse, AppError> {
    let (_, id) = path.into_inner();
    let sid = a.service.id;
    let lang = a.viewer().lang;
    let ticket = query
        .ticket
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(40).collect::<String>());
    let t2 = ticket.clone();
    let (trigger, test) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let trigger = Trigger::find(c, sid, id)?.ok_or(AppError::NotFound)?;
            let test = match t2 {
                None => None,
                Some(pid) => Some(match Ticket::find_by_public_id(c, sid, &pid)? {
                    None => i18n::t(lang, "trigger.test_no_ticket"),
                    Some(t) => {
                        let runs = engine::dry_run(c, &t)?;
                        let (created, updated) = runs
                            .iter()
                            .find(|(tid, _, _)| *tid == id)
                            .map_or((false, false), |(_, c, u)| (*c, *u));
                        let yes_no = |b: bool| {
                            i18n::t(
                                lang,
                                if b {
                                    "trigger.test_fires"
                                } else {
                                    "trigger.test_silent"
                                },
                            )
                        };
                        i18n::tf(
                            lang,
                            "trigger.test_result",
                            &[("created", &yes_no(created)), ("updated", &yes_no(updated))],
                        )
                    }
                }),
            };
            Ok((trigger, test))
        })
        .await?;
    let page = form_page(
        &a,
        Some(id),
        (
            trigger.row.enabled,
            trigger.row.title.clone(),
            cond_rows(&trigger.conditions),
            ActSource::Stored(trigger.actions.clone()),
        ),
        FormErrors::new(lang),
        (ticket.unwrap_or_default(), test.unwrap_or_default()),
    )
    .await?;
    w::html(StatusCode::OK, &page)
}

/// Reads and checks the submitted rows. Blank rows (no target / no kind) are skipped.
pub fn read_form(
    form: &Pairs,
    choices: &Choices,
    errors: &mut FormErrors,
) -> (
    String,
    Vec<CondRow>,
    Vec<ActRow>,
    Vec<Condition>,
    Vec<Action>,
) {
    let title = form.get("title").trim().to_string();
    if title.is_empty() {
        errors.add("title", "validation.required");
    } else if title.chars().count() > MAX_TITLE {
        errors.add_with(
            "title",
            "validation.too_long",
            &[("max", &MAX_TITLE.to_string())],
        );
    }
    let known = |list: &[Choice], v: &str| list.iter().any(|(k, _)| k == v);
    let mut cond_rows_in = Vec::new();
    let mut conditions = Vec::new();
    for i in 0..MAX_CONDITIONS {
        let target = form.get(&format!("c{i}_target")).trim().to_string();
        // Listed targets pick their value from a select (`c{i}_v_<target>`); the text box is
        // the fallback without JavaScript.
        let picked = if LISTED_TARGETS.contains(&target.as_str()) {
            form.get(&format!("c{i}_v_{target}")).trim().to_string()
        } else {
            String::new()
        };
        let row = CondRow {
            mode: form.get(&format!("c{i}_mode")).to_string(),
            op: form.get(&format!("c{i}_op")).to_string(),
            value: if picked.is_empty() {
                form.get(&format!("c{i}_value"))
                    .trim()
                    .chars()
                    .take(500)
                    .collect()
            } else {
                picked
            },
            target,
        };
        if row.target.is_empty() {
            continue;
        }
        let field = format!("c{i}");
        let listed = choices.values_of(&row.target);
        if !known(&choices.targets, &row.target) {
            errors.add(&field, "trigger.error.target");
        } else {
            match Op::parse(&row.op) {
                None => errors.add(&field, "trigger.error.op"),
                Some(op) if !op.fits(&row.target) => errors.add(&field, "trigger.error.op"),
                Some(op) if op.needs_value() && row.value.is_empty() => {
                    errors.add(&field, "trigger.error.value")
                }
                Some(op) if op.needs_value() && listed.is_some_and(|l| !known(l, &row.value)) => {
                    errors.add(&field, "trigger.error.value_choice")
                }
                Some(op) => conditions.push(Condition {
                    required: row.mode != "or",
                    target: row.target.clone(),
                    op,
                    value: if op.needs_value() {
                        row.value.clone()
                    } else {
                        String::new()
                    },
                }),
            }
        }
        cond_rows_in.push(row);
    }
    if cond_rows_in.is_empty() {
        errors.add("conditions", "trigger.error.no_conditions");
    }
    let mut act_rows_in = Vec::new();
    let mut actions = Vec::new();
    for i in 0..MAX_ACTIONS {
        let g = |n: &str| form.get(&format!("a{i}_{n}")).trim().to_string();
        let row = ActRow {
            kind: g("kind"),
            group: g("group"),
            strategy: g("strategy"),
            agent: g("agent"),
            category: g("category"),
            priority: g("priority"),
            recipients: form
                .0
                .iter()
                .filter(|(k, _)| *k == format!("a{i}_recipients"))
                .map(|(_, v)| v.clone())
                .collect(),
            online_only: form.checked(&format!("a{i}_online")),
            texts: choices
                .langs
                .iter()
                .map(|(l, _)| {
                    (
                        l.clone(),
                        form.get(&format!("a{i}_subject_{l}")).trim().to_string(),
                        form.get(&format!("a{i}_body_{l}")).to_string(),
                    )
                })
                .collect(),
            addresses: g("addresses"),
            complete: form.checked(&format!("a{i}_complete")),
            url: g("url"),
            template: form.get(&format!("a{i}_template")).to_string(),
        };
        if row.kind.is_empty() {
            continue;
        }
        let field = format!("a{i}");
        let id_of = |v: &str, list: &[Choice]| -> Option<i64> {
            known(list, v).then(|| v.parse().ok()).flatten()
        };
        let action = match row.kind.as_str() {
            "assign" => {
                let strategy = match row.strategy.as_str() {
                    "random" => Some(Strategy::Random),
                    "round_robin" => Some(Strategy::RoundRobin),
                    "agent" => Some(Strategy::Agent),
                    _ => None,
                };
                let agent = id_of(&row.agent, &choices.agents);
                match (id_of(&row.group, &choices.groups), strategy) {
                    (Some(group_id), Some(strategy))
                        if strategy != Strategy::Agent || agent.is_some() =>
                    {
                        Some(Action::Assign {
                            group_id,
                            strategy,
                            agent_id: if strategy == Strategy::Agent {
                                agent
                            } else {
                                None
                            },
                            online_only: strategy != Strategy::Agent && row.online_only,
                        })
                    }
                    _ => None,
                }
            }
            "assign_group" => {
                id_of(&row.group, &choices.groups).map(|group_id| Action::AssignGroup { group_id })
            }
            "set_intake_type" => id_of(&row.category, &choices.intake_types)
                .map(|category_id| Action::SetIntakeType { category_id }),
            "set_priority" => Priority::parse(&row.priority).map(|p| Action::SetPriority {
                priority: p.as_str().into(),
            }),
            "notify_mail" => {
                let recipients: Vec<Recipient> = row
                    .recipients
                    .iter()
                    .filter_map(|r| match r.as_str() {
                        "assignee" => Some(Recipient::Assignee),
                        "group" => Some(Recipient::Group),
                        "customer" => Some(Recipient::Customer),
                        _ => None,
                    })
                    .collect();
                notify_texts(&row, choices).and_then(|texts| {
                    (!recipients.is_empty()).then(|| Action::NotifyMail {
                        recipients,
                        texts,
                        html: choices.html,
                        subject: String::new(),
                        body: String::new(),
                    })
                })
            }
            "forward" => {
                let addresses: Vec<String> = row
                    .addresses
                    .split([',', ';', ' ', '\n'])
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect();
                let ok = !addresses.is_empty()
                    && addresses.len() <= 20
                    && addresses
                        .iter()
                        .all(|a| crate::tenancy::user::is_valid_email(a));
                if ok {
                    Some(Action::Forward {
                        addresses,
                        complete: row.complete,
                    })
                } else {
                    None
                }
            }
            "callback" => valid_url(&row.url).then(|| Action::Callback {
                url: row.url.clone(),
            }),
            "chat_webhook" => (valid_url(&row.url)
                && !row.template.trim().is_empty()
                && row.template.chars().count() <= MAX_TEXT)
                .then(|| Action::ChatWebhook {
                    url: row.url.clone(),
                    template: row.template.clone(),
                }),
            _ => None,
        };
        match action {
            Some(a) => actions.push(a),
            None => errors.add(
                &field,
                &format!("trigger.error.action_{}", action_key(&row.kind)),
            ),
        }
        act_rows_in.push(row);
    }
    if act_rows_in.is_empty() {
        errors.add("actions", "trigger.error.no_actions");
    }
    (title, cond_rows_in, act_rows_in, conditions, actions)
}

/// The notification texts of a row: the default language's subject and body are required,
/// the other languages' are optional (a language left empty falls back to the default), and
/// subjects are at most 200 characters, bodies at most [`MAX_TEXT`]. HTML bodies are
/// sanitised. `None` when the row does not pass.
fn notify_texts(row: &ActRow, choices: &Choices) -> Option<Vec<MailText>> {
    let mut out = Vec::new();
    for (n, (lang, subject, body)) in row.texts.iter().enumerate() {
        let body = if choices.html {
            let clean = sanitize_html(body);
            if html_to_text(&clean).trim().is_empty() {
                String::new()
            } else {
                clean
            }
        } else {
            body.trim().to_string()
        };
        let empty = subject.is_empty() && body.is_empty();
        if empty && n > 0 {
            continue;
        }
        if subject.is_empty()
            || body.is_empty()
            || subject.chars().count() > 200
            || body.chars().count() > MAX_TEXT
        {
            return None;
        }
        out.push(MailText {
            lang: lang.clone(),
            subject: subject.clone(),
            body,
        });
    }
    (!out.is_empty()).then_some(out)
}

/// How many rows of a kind the form had (`c{i}_target` or `a{i}_kind` fields present).
fn slots(form: &Pairs, suffix: &str, max: usize) -> usize {
    let prefix = if suffix == "_target" { "c" } else { "a" };
    (0..max)
        .filter(|i| {
            let name = format!("{prefix}{i}{suffix}");
            form.0.iter().any(|(k, _)| *k == name)
        })
        .count()
}

fn action_key(kind: &str) -> &'static str {
    match kind {
        "assign" => "assign",
        "assign_group" => "assign_group",
        "set_intake_type" => "set_intake_type",
        "set_priority" => "set_priority",
        "notify_mail" => "notify_mail",
        "forward" => "forward",
        "callback" => "callback",
        "chat_webhook" => "chat_webhook",
        _ => "unknown",
    }
}

/// Whether a callback URL is acceptable: http or https with a host, at most 500 characters.
pub fn valid_url(u: &str) -> bool {
    u.len() <= 500
        && url::Url::parse(u)
            .ok()
            .is_some_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some())
}

async fn save(
    req: HttpRequest,
    a: ServiceAdmin,
    id: Option<i64>,
    form: Pairs,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let service = a.service.clone();
    let lang = a.viewer().lang;
    let ch = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(choices(c, &service, lang)?))
        .await?;
    let mut errors = FormErrors::new(lang);
    let (title, crow, arow, conditions, actions) = read_form(&form, &ch, &mut errors);
    // "Add condition" / "Add action": the form comes back as typed with one more empty row,
    // nothing saved.
    let add = form.get("add");
    if add == "condition" || add == "action" {
        let conds = slots(&form, "_target", MAX_CONDITIONS).max(crow.len())
            + usize::from(add == "condition");
        let acts =
            slots(&form, "_kind", MAX_ACTIONS).max(arow.len()) + usize::from(add == "action");
        let mut crow = crow;
        crow.resize_with(conds.min(MAX_CONDITIONS), || CondRow {
            mode: "and".into(),
            ..CondRow::default()
        });
        let mut arow = arow;
        arow.resize_with(acts.min(MAX_ACTIONS), ActRow::default);
        let page = form_page(
            &a,
            id,
            (true, title, crow, ActSource::Rows(arow)),
            FormErrors::new(lang),
            Default::default(),
        )
        .await?;
        return w::html(StatusCode::OK, &page);
    }
    if !errors.is_empty() {
        let mut crow = crow;
        crow.extend(cond_rows(&[]));
        crow.truncate(MAX_CONDITIONS);
        let mut arow = arow;
        arow.extend(act_rows(&[], &ch));
        arow.truncate(MAX_ACTIONS);
        let page = form_page(
            &a,
            id,
            (true, title, crow, ActSource::Rows(arow)),
            errors,
            Default::default(),
        )
        .await?;
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let cj = serde_json::to_string(&conditions).map_err(|e| AppError::Internal(e.to_string()))?;
    let aj = serde_json::to_string(&actions).map_err(|e| AppError::Internal(e.to_string()))?;
    let secret = a
        .viewer()
        .state
        .secret
        .encrypt(&crate::crypto::random_hex(32));
    let title2 = title.clone();
    let saved = a
        .viewer()
        .state
        .db
        .write(move |c| {
            let t = now();
            match id {
                Some(id) => {
                    let n = diesel::update(
                        triggers::table
                            .filter(triggers::id.eq(id))
                            .filter(triggers::service_id.eq(sid)),
                    )
                    .set((
                        triggers::title.eq(&title2),
                        triggers::conditions.eq(&cj),
                        triggers::actions.eq(&aj),
                        triggers::updated_at.eq(t),
                    ))
                    .execute(c)?;
                    if n == 0 {
                        return Err(AppError::NotFound);
                    }
                    Ok(id)
                }
                None => {
                    let last: Option<i32> = triggers::table
                        .filter(triggers::service_id.eq(sid))
                        .select(diesel::dsl::max(triggers::position))
                        .first(c)?;
                    Ok(diesel::insert_into(triggers::table)
                        .values((
                            triggers::service_id.eq(sid),
                            triggers::title.eq(&title2),
                            triggers::enabled.eq(true),
                            triggers::position.eq(last.unwrap_or(0) + 1),
                            triggers::conditions.eq(&cj),
                            triggers::actions.eq(&aj),
                            triggers::secret.eq(&secret),
                            triggers::created_at.eq(t),
                            triggers::updated_at.eq(t),
                        ))
                        .returning(triggers::id)
                        .get_result(c)?)
                }
            }
        })
        .await?;
    a.viewer().flash(Flash::success(i18n::tf(
        lang,
        "trigger.saved",
        &[("title", &title)],
    )));
    Ok(w::redirect(
        &req,
        &format!("{}/{saved}", base(&a.service.code)),
    ))
}

/// `POST /{service_id}/console/settings/triggers/new` — creates an active trigger.
pub async fn create(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    save(req, a, None, form.into_inner()).await
}

/// `POST /{service_id}/console/settings/triggers/{id}` — saves a trigger.
pub async fn update(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let (_, id) = path.into_inner();
    save(req, a, Some(id), form.into_inner()).await
}

/// `POST /{service_id}/console/settings/triggers/{id}/{enable|disable|delete}`
pub async fn state_change(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64, String)>,
) -> Result<HttpResponse, AppError> {
    let (_, id, op) = path.into_inner();
    let sid = a.service.id;
    let lang = a.viewer().lang;
    let op2 = op.clone();
    let title = a
        .viewer()
        .state
        .db
        .write(move |c| {
            let t = Trigger::find(c, sid, id)?.ok_or(AppError::NotFound)?;
            let target = triggers::table.filter(triggers::id.eq(id));
            match op2.as_str() {
                "enable" => {
                    let last: Option<i32> = triggers::table
                        .filter(triggers::service_id.eq(sid))
                        .filter(triggers::enabled.eq(true))
                        .select(diesel::dsl::max(triggers::position))
                        .first(c)?;
                    diesel::update(target)
                        .set((
                            triggers::enabled.eq(true),
                            triggers::position.eq(last.unwrap_or(0) + 1),
                        ))
                        .execute(c)?;
                }
                "disable" => {
                    diesel::update(target)
                        .set(triggers::enabled.eq(false))
                        .execute(c)?;
                }
                "delete" => {
                    if t.row.enabled {
                        return Err(AppError::BadRequest("trigger.error.delete_active"));
                    }
                    diesel::delete(target).execute(c)?;
                }
                _ => return Err(AppError::NotFound),
            }
            Ok(t.row.title)
        })
        .await?;
    a.viewer().flash(Flash::success(i18n::tf(
        lang,
        &format!("trigger.done_{}", state_key(&op)),
        &[("title", &title)],
    )));
    Ok(w::redirect(&req, &base(&a.service.code)))
}

fn state_key(op: &str) -> &'static str {
    match op {
        "enable" => "enable",
        "disable" => "disable",
        _ => "delete",
    }
}

/// `POST /{service_id}/console/settings/triggers/order` — the active triggers' new order
/// (drag and drop, or up/down buttons).
pub async fn order(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let mut ids = form.ids("trigger_id");
    if let Some(id) = form.id("up") {
        move_one(&mut ids, id, true);
    } else if let Some(id) = form.id("down") {
        move_one(&mut ids, id, false);
    }
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .write(move |c| {
            let current: Vec<i64> = Trigger::active(c, sid)?.iter().map(|t| t.row.id).collect();
            let order = crate::agents::form::merge_order(&current, &ids);
            for (i, id) in order.iter().enumerate() {
                diesel::update(triggers::table.filter(triggers::id.eq(id)))
                    .set(triggers::position.eq(i32::try_from(i).unwrap_or(i32::MAX) + 1))
                    .execute(c)?;
            }
            Ok(())
        })
        .await?;
    Ok(w::redirect(&req, &base(&a.service.code)))
}
