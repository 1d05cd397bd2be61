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
    Action, Condition, Firing, Op, Recipient, Strategy, TARGETS, Trigger, recent_firings,
};
use crate::agents::form::{Pairs, move_one};
use crate::categories::model::Tree;
use crate::db::schema::{agent_groups, field_defs, service_members, triggers, users};
use crate::db::types::CategoryTree;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::help_center::content::{local_display, service_tz};
use crate::i18n::{self, Lang};
use crate::tickets::{Priority, Ticket};
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
    /// Mail subject.
    pub subject: String,
    /// Mail body.
    pub body: String,
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
}

fn base(code: &str) -> String {
    format!("/{code}/console/settings/triggers")
}

fn choices(conn: &mut DbConn, service_id: i64, lang: Lang) -> QueryResult<Choices> {
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
    let groups = agent_groups::table
        .filter(agent_groups::service_id.eq(service_id))
        .order((agent_groups::display_order.asc(), agent_groups::id.asc()))
        .select((agent_groups::id, agent_groups::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .map(|(id, n)| (id.to_string(), n))
        .collect();
    let agents = service_members::table
        .inner_join(users::table.on(users::id.eq(service_members::user_id)))
        .filter(service_members::service_id.eq(service_id))
        .filter(users::active.eq(true))
        .order(users::name.asc())
        .select((users::id, users::name, users::login))
        .limit(500)
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, n, l)| (id.to_string(), format!("{n} ({l})")))
        .collect();
    let tree = Tree::load(conn, service_id, CategoryTree::Intake)?;
    let intake_types = tree
        .nodes()
        .iter()
        .map(|n| {
            (
                n.id.to_string(),
                format!(
                    "{}{}",
                    "· ".repeat(usize::try_from(n.level - 1).unwrap_or(0)),
                    n.display_name(lang, Lang::Ko)
                ),
            )
        })
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
        priorities: Priority::ALL
            .iter()
            .map(|p| {
                (
                    p.as_str().to_string(),
                    t(&format!("trigger.priority.{}", p.as_str())),
                )
            })
            .collect(),
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
    })
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

fn act_rows(actions: &[Action]) -> Vec<ActRow> {
    let mut rows: Vec<ActRow> = actions
        .iter()
        .map(|a| match a {
            Action::Assign {
                group_id,
                strategy,
                agent_id,
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
                subject: subject.clone(),
                body: body.clone(),
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

async fn form_page(
    a: &ServiceAdmin,
    id: Option<i64>,
    mut page_data: (bool, String, Vec<CondRow>, Vec<ActRow>),
    errors: FormErrors,
    test: (String, String),
) -> Result<FormPage, AppError> {
    let sid = a.service.id;
    let lang = a.viewer().lang;
    let tz = service_tz(&a.service);
    let (choices, firings, deliveries) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let ch = choices(c, sid, lang)?;
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
    if page_data.2.is_empty() {
        page_data.2 = cond_rows(&[]);
    }
    if page_data.3.is_empty() {
        page_data.3 = act_rows(&[]);
    }
    Ok(FormPage {
        ctx: PageCtx::console(a, "trigger.title"),
        base: base(&a.service.code),
        id,
        enabled: page_data.0,
        title: page_data.1,
        conditions: page_data.2,
        actions: page_data.3,
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
    })
}

/// `GET /{service_id}/console/settings/triggers/new`
pub async fn new_form(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let page = form_page(
        &a,
        None,
        (true, String::new(), Vec::new(), Vec::new()),
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
            act_rows(&trigger.actions),
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
        let row = CondRow {
            mode: form.get(&format!("c{i}_mode")).to_string(),
            target: form.get(&format!("c{i}_target")).trim().to_string(),
            op: form.get(&format!("c{i}_op")).to_string(),
            value: form
                .get(&format!("c{i}_value"))
                .trim()
                .chars()
                .take(500)
                .collect(),
        };
        if row.target.is_empty() {
            continue;
        }
        let field = format!("c{i}");
        if !known(&choices.targets, &row.target) {
            errors.add(&field, "trigger.error.target");
        } else {
            match Op::parse(&row.op) {
                None => errors.add(&field, "trigger.error.op"),
                Some(op) if !op.fits(&row.target) => errors.add(&field, "trigger.error.op"),
                Some(op) if op.needs_value() && row.value.is_empty() => {
                    errors.add(&field, "trigger.error.value")
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
            subject: g("subject"),
            body: form.get(&format!("a{i}_body")).to_string(),
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
                (!recipients.is_empty()
                    && !row.subject.is_empty()
                    && row.subject.chars().count() <= 200
                    && !row.body.trim().is_empty()
                    && row.body.chars().count() <= MAX_TEXT)
                    .then(|| Action::NotifyMail {
                        recipients,
                        subject: row.subject.clone(),
                        body: row.body.clone(),
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
                        .all(|a| crate::auth::users::is_valid_email(a));
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
    let lang = a.viewer().lang;
    let ch = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(choices(c, sid, lang)?))
        .await?;
    let mut errors = FormErrors::new(lang);
    let (title, crow, arow, conditions, actions) = read_form(&form, &ch, &mut errors);
    if !errors.is_empty() {
        let mut crow = crow;
        crow.extend(cond_rows(&[]));
        crow.truncate(MAX_CONDITIONS);
        let mut arow = arow;
        arow.extend(act_rows(&[]));
        arow.truncate(MAX_ACTIONS);
        let page = form_page(
            &a,
            id,
            (true, title, crow, arow),
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
