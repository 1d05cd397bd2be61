//! Ticket search (SPEC §5.3): the default criteria — created period (default and at most six
//! months), priority, ticket ID, subject, group, assignee, status, channel, intake type,
//! resolution type, customer number, name, e-mail, phone — and up to [`MAX_CONDITIONS`]
//! conditions on custom fields (never on personal, encrypted ones, nor on files).
//!
//! Results are ordered by creation time (newest first, then id) and paged by the last ticket
//! shown. How a search stays index-driven at a million tickets:
//! - ticket ID: the unique `public_id` index (the period does not apply: an ID names one ticket);
//! - customer number, name, e-mail, phone: the customer indexes, then the tickets of those
//!   customers (`tickets_customer_created`);
//! - subject: the full-text index over the normalised subject ([`FtsTable::Tickets`]);
//! - custom fields: `(field_id, substr(value, 1, 100), ticket_id)` for "equals" (the first 100
//!   characters through the index, then the whole value);
//! - otherwise the period's range of `(service_id, created_at, id)`, walked from its newest end
//!   until a page is full.
//!
//! PostgreSQL picks among these from its statistics. SQLite keeps none, so [`search_ids`] tells
//! it: the most selective set leads and the other conditions are written so their indexes are
//! not used (see [`search_ids`]).

use chrono::{Months, NaiveDate, NaiveDateTime, TimeDelta, TimeZone};
use chrono_tz::Tz;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text, Timestamp};

use crate::categories::model::Tree;
use crate::customers::normalize_email;
use crate::db::schema::tickets;
use crate::db::search::{FtsTable, SearchQuery, contains_pattern, fts_filter};
use crate::db::{DbConn, dispatch};
use crate::fields::model::{Control, FieldDef};
use crate::i18n::Lang;
use crate::tickets::lifecycle::TransferState;
use crate::tickets::{Channel, Priority, Status};
use crate::web::FormErrors;

/// Most custom-field conditions per search.
pub const MAX_CONDITIONS: usize = 3;
/// Longest period per search, in months.
pub const MAX_MONTHS: u32 = 6;
/// Longest text accepted in a criterion.
const MAX_TEXT: usize = 100;
/// Longest e-mail address.
const MAX_EMAIL: usize = 254;
/// Longest custom-field condition value.
const MAX_VALUE: usize = 1000;
/// Characters of a field value covered by the search index.
const INDEXED_PREFIX: usize = 100;

/// The search form as submitted (`GET` query). Empty fields are not criteria.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SearchForm {
    /// First day (service time zone), `YYYY-MM-DD`.
    pub from: String,
    /// Last day (service time zone), `YYYY-MM-DD`.
    pub to: String,
    /// Priority code.
    pub priority: String,
    /// Public ticket ID.
    pub ticket_id: String,
    /// Words of the subject.
    pub subject: String,
    /// Group id.
    pub group: String,
    /// Assignee user id, or `none` for unassigned.
    pub assignee: String,
    /// Status code (see [`StatusFilter`]).
    pub status: String,
    /// Channel code.
    pub channel: String,
    /// Intake type id (its sub-types included).
    pub intake: String,
    /// Resolution type id (its sub-types included).
    pub resolution: String,
    /// Customer number.
    pub customer_no: String,
    /// Customer name (exact).
    pub name: String,
    /// Customer e-mail (exact, case-insensitive).
    pub email: String,
    /// Customer phone (exact).
    pub phone: String,
    /// Condition 1: field id, operator, value.
    pub f1: String,
    /// Condition 1 operator (`eq`, `contains`).
    pub o1: String,
    /// Condition 1 value.
    pub v1: String,
    /// Condition 2 field id.
    pub f2: String,
    /// Condition 2 operator.
    pub o2: String,
    /// Condition 2 value.
    pub v2: String,
    /// Condition 3 field id.
    pub f3: String,
    /// Condition 3 operator.
    pub o3: String,
    /// Condition 3 value.
    pub v3: String,
}

impl SearchForm {
    /// The conditions as (field, operator, value) triples, in order.
    pub fn conditions(&self) -> [(&str, &str, &str); MAX_CONDITIONS] {
        [
            (&self.f1, &self.o1, &self.v1),
            (&self.f2, &self.o2, &self.v2),
            (&self.f3, &self.o3, &self.v3),
        ]
        .map(|(f, o, v)| (f.as_str(), o.as_str(), v.as_str()))
    }

    /// The form as a query string (for "next page" links), empty fields left out.
    pub fn query_pairs(&self) -> Vec<(&'static str, &str)> {
        let all: [(&'static str, &str); 24] = [
            ("from", &self.from),
            ("to", &self.to),
            ("priority", &self.priority),
            ("ticket_id", &self.ticket_id),
            ("subject", &self.subject),
            ("group", &self.group),
            ("assignee", &self.assignee),
            ("status", &self.status),
            ("channel", &self.channel),
            ("intake", &self.intake),
            ("resolution", &self.resolution),
            ("customer_no", &self.customer_no),
            ("name", &self.name),
            ("email", &self.email),
            ("phone", &self.phone),
            ("f1", &self.f1),
            ("o1", &self.o1),
            ("v1", &self.v1),
            ("f2", &self.f2),
            ("o2", &self.o2),
            ("v2", &self.v2),
            ("f3", &self.f3),
            ("o3", &self.o3),
            ("v3", &self.v3),
        ];
        all.into_iter().filter(|(_, v)| !v.is_empty()).collect()
    }
}

/// The status criterion: a plain status, the spam box or a transfer sub-state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// A plain status (spam left out).
    Plain(Status),
    /// The spam box.
    Spam,
    /// A transfer sub-state.
    Transfer(TransferState),
}

impl StatusFilter {
    /// Every choice with its code and label key, for the form.
    pub fn choices() -> Vec<(&'static str, &'static str)> {
        let mut v: Vec<(&'static str, &'static str)> = Status::ALL
            .iter()
            .map(|s| (s.as_str(), crate::tickets::lifecycle::status_label_key(*s)))
            .collect();
        v.push(("spam", "ticket.status.spam"));
        v.push((
            TransferState::IssueInProgress.as_str(),
            "ticket.status.transfer_in_progress",
        ));
        v.push((
            TransferState::IssueAnswered.as_str(),
            "ticket.status.transfer_answered",
        ));
        v.push((
            TransferState::DoorayTransferred.as_str(),
            "dooray.status.transferred",
        ));
        v.push((
            TransferState::DoorayInProgress.as_str(),
            "dooray.status.in_progress",
        ));
        v.push((
            TransferState::DoorayAnswered.as_str(),
            "dooray.status.answered",
        ));
        v
    }

    fn parse(s: &str) -> Option<StatusFilter> {
        if s == "spam" {
            return Some(StatusFilter::Spam);
        }
        if let Some(st) = Status::parse(s) {
            return Some(StatusFilter::Plain(st));
        }
        TransferState::parse(s)
            .filter(|t| *t != TransferState::None)
            .map(StatusFilter::Transfer)
    }
}

/// A custom-field comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// The stored value equals the text (an option's value for choice fields).
    Equals,
    /// The stored value contains the text (case-insensitive).
    Contains,
}

/// One condition on a custom field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Field.
    pub field_id: i64,
    /// Comparison.
    pub op: Operator,
    /// Text compared (for choice fields, the option value).
    pub value: String,
}

/// A custom field that can be searched.
#[derive(Debug, Clone)]
pub struct SearchField {
    /// Field id.
    pub id: i64,
    /// Label in the viewer's language.
    pub label: String,
    /// Control type.
    pub control: Control,
    /// Options (value, label) of choice fields.
    pub options: Vec<(String, String)>,
}

/// Everything the search form offers, loaded once per page.
#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    /// Groups (id, name) in display order.
    pub groups: Vec<(i64, String)>,
    /// Members of the service (id, name) by name.
    pub agents: Vec<(i64, String)>,
    /// Intake types (id, indented path label).
    pub intake: Vec<(i64, String)>,
    /// Resolution types (id, indented path label).
    pub resolution: Vec<(i64, String)>,
    /// The intake tree (for sub-types).
    pub intake_tree: Tree,
    /// The resolution tree (for sub-types).
    pub resolution_tree: Tree,
    /// Searchable custom fields.
    pub fields: Vec<SearchField>,
}

impl SearchOptions {
    /// The searchable custom fields of a service: live, not built in, not personal, not files.
    pub fn searchable(fields: Vec<FieldDef>, lang: Lang, fallback: Lang) -> Vec<SearchField> {
        fields
            .into_iter()
            .filter(|f| !f.deleted && !f.is_system() && !f.personal && f.control != Control::File)
            .map(|f| SearchField {
                id: f.id,
                label: f.label(lang, fallback),
                control: f.control,
                options: f
                    .options
                    .iter()
                    .map(|o| (o.value.clone(), o.label(lang, fallback).to_string()))
                    .collect(),
            })
            .collect()
    }
}

/// Customer criteria (all must match one customer record).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerCriteria {
    /// Customer number.
    pub customer_no: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// E-mail (lower-cased).
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
}

/// A validated search.
#[derive(Debug, Clone)]
pub struct Criteria {
    /// Created at or after (UTC).
    pub from: NaiveDateTime,
    /// Created before (UTC).
    pub until: NaiveDateTime,
    /// Priority.
    pub priority: Option<Priority>,
    /// Public ticket ID (ignores the period).
    pub public_id: Option<String>,
    /// Subject words.
    pub subject: Option<SearchQuery>,
    /// Group.
    pub group: Option<i64>,
    /// Assignee (`Some(None)`: unassigned).
    pub assignee: Option<Option<i64>>,
    /// Status.
    pub status: Option<StatusFilter>,
    /// Channel.
    pub channel: Option<Channel>,
    /// Intake types (the chosen one and its sub-types).
    pub intake: Option<Vec<i64>>,
    /// Resolution types (the chosen one and its sub-types).
    pub resolution: Option<Vec<i64>>,
    /// Customer.
    pub customer: CustomerCriteria,
    /// Custom-field conditions.
    pub conditions: Vec<Condition>,
}

/// The start of the local day `d` in the zone `tz`, in UTC.
pub fn local_midnight(tz: Tz, d: NaiveDate) -> NaiveDateTime {
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&naive)
        .earliest()
        // A zone skipping midnight (a daylight-saving gap) starts the day an hour later.
        .or_else(|| {
            tz.from_local_datetime(&(naive + TimeDelta::hours(1)))
                .earliest()
        })
        .map(|t| t.naive_utc())
        .unwrap_or(naive)
}

/// The default period: the six months up to `today`.
pub fn default_period(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (
        today
            .checked_sub_months(Months::new(MAX_MONTHS))
            .unwrap_or(today),
        today,
    )
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| (2000..=2100).contains(&chrono::Datelike::year(d)))
}

fn bounded(errors: &mut FormErrors, field: &str, value: &str, max: usize) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.chars().count() > max {
        errors.add_with(field, "validation.too_long", &[("max", &max.to_string())]);
        return None;
    }
    Some(v.to_string())
}

fn id_in(
    errors: &mut FormErrors,
    field: &str,
    value: &str,
    known: &[(i64, String)],
) -> Option<i64> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse::<i64>() {
        Ok(id) if known.iter().any(|(k, _)| *k == id) => Some(id),
        _ => {
            errors.add(field, "ticket.search.unknown_choice");
            None
        }
    }
}

/// Validates the form; errors name the fields. `today` is the service's local date.
pub fn validate(
    form: &SearchForm,
    opts: &SearchOptions,
    tz: Tz,
    today: NaiveDate,
    lang: Lang,
) -> Result<Criteria, FormErrors> {
    let mut errors = FormErrors::new(lang);
    let (mut from, mut to) = default_period(today);
    let from_in = form.from.trim();
    let to_in = form.to.trim();
    if !to_in.is_empty() {
        match parse_day(to_in) {
            Some(d) => {
                to = d;
                from = d.checked_sub_months(Months::new(MAX_MONTHS)).unwrap_or(d);
            }
            None => errors.add("to", "ticket.search.bad_date"),
        }
    }
    if !from_in.is_empty() {
        match parse_day(from_in) {
            Some(d) => from = d,
            None => errors.add("from", "ticket.search.bad_date"),
        }
    }
    if errors.is_empty() {
        if from > to {
            errors.add("from", "ticket.search.from_after_to");
        } else if to
            .checked_sub_months(Months::new(MAX_MONTHS))
            .is_some_and(|min| from < min)
        {
            errors.add_with(
                "from",
                "ticket.search.period_too_long",
                &[("months", &MAX_MONTHS.to_string())],
            );
        }
    }
    let priority = match form.priority.trim() {
        "" => None,
        p => {
            let parsed = Priority::parse(p);
            if parsed.is_none() {
                errors.add("priority", "ticket.search.unknown_choice");
            }
            parsed
        }
    };
    let public_id = bounded(&mut errors, "ticket_id", &form.ticket_id, 40);
    let subject = match bounded(&mut errors, "subject", &form.subject, MAX_TEXT) {
        None => None,
        Some(s) => {
            let q = SearchQuery::parse(&s);
            if q.is_none() {
                errors.add("subject", "ticket.search.no_words");
            }
            q
        }
    };
    let group = id_in(&mut errors, "group", &form.group, &opts.groups);
    let assignee = match form.assignee.trim() {
        "" => None,
        "none" => Some(None),
        a => id_in(&mut errors, "assignee", a, &opts.agents).map(Some),
    };
    let status = match form.status.trim() {
        "" => None,
        s => {
            let parsed = StatusFilter::parse(s);
            if parsed.is_none() {
                errors.add("status", "ticket.search.unknown_choice");
            }
            parsed
        }
    };
    let channel = match form.channel.trim() {
        "" => None,
        c => {
            let parsed = Channel::parse(c);
            if parsed.is_none() {
                errors.add("channel", "ticket.search.unknown_choice");
            }
            parsed
        }
    };
    let intake = id_in(&mut errors, "intake", &form.intake, &opts.intake)
        .map(|id| opts.intake_tree.subtree(id).iter().map(|n| n.id).collect());
    let resolution = id_in(
        &mut errors,
        "resolution",
        &form.resolution,
        &opts.resolution,
    )
    .map(|id| {
        opts.resolution_tree
            .subtree(id)
            .iter()
            .map(|n| n.id)
            .collect()
    });
    let email = bounded(&mut errors, "email", &form.email, MAX_EMAIL).map(|e| normalize_email(&e));
    let customer = CustomerCriteria {
        customer_no: bounded(&mut errors, "customer_no", &form.customer_no, MAX_TEXT),
        name: bounded(&mut errors, "name", &form.name, MAX_TEXT),
        email,
        phone: bounded(&mut errors, "phone", &form.phone, MAX_TEXT),
    };
    let mut conditions = Vec::new();
    for (i, (f, o, v)) in form.conditions().into_iter().enumerate() {
        let n = i + 1;
        let (f_name, v_name) = (format!("f{n}"), format!("v{n}"));
        if f.trim().is_empty() {
            if !v.trim().is_empty() {
                errors.add(&f_name, "ticket.search.pick_field");
            }
            continue;
        }
        let Some(field) = f
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|id| opts.fields.iter().find(|sf| sf.id == id))
        else {
            errors.add(&f_name, "ticket.search.unknown_choice");
            continue;
        };
        let Some(value) = bounded(&mut errors, &v_name, v, MAX_VALUE) else {
            errors.add(&v_name, "ticket.search.value_required");
            continue;
        };
        // Choice fields store option values; the label typed in any case finds its value.
        let value = field
            .options
            .iter()
            .find(|(val, label)| *val == value || label.to_lowercase() == value.to_lowercase())
            .map(|(val, _)| val.clone())
            .unwrap_or(value);
        let op = match (o.trim(), field.control) {
            // A checkbox stores a JSON list: "equals" means the option is among those ticked.
            (_, Control::Checkbox) => Operator::Contains,
            ("contains", _) => Operator::Contains,
            _ => Operator::Equals,
        };
        let value = if field.control == Control::Checkbox {
            // The JSON text of one list item, quotes included.
            serde_json::to_string(&value).unwrap_or(value)
        } else {
            value
        };
        conditions.push(Condition {
            field_id: field.id,
            op,
            value,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Criteria {
        from: local_midnight(tz, from),
        until: local_midnight(tz, to + TimeDelta::days(1)),
        priority,
        public_id,
        subject,
        group,
        assignee,
        status,
        channel,
        intake,
        resolution,
        customer,
        conditions,
    })
}

/// A set of tickets at most this large drives the query by its keys on SQLite (see
/// [`search_ids`]).
const SELECTIVE: i64 = 2000;

/// What leads a search on SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Driver {
    /// The period: walk `(service_id, created_at, id)` from the newest end.
    Period,
    /// The public ID.
    Key,
    /// The customer's tickets (`tickets_customer_created`).
    Customer,
    /// The subject's full-text hits.
    Subject,
    /// The agent's stars.
    Stars,
    /// The tickets of one custom-field "equals" condition.
    Field(usize),
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Counts at most [`SELECTIVE`] + 1 rows of a set given as `SELECT 1 … ` (SQLite only).
fn capped_count(conn: &mut DbConn, inner: &str, binds: &[Bind<'_>]) -> QueryResult<i64> {
    let sql_text = format!(
        "SELECT COUNT(*) AS n FROM ({inner} LIMIT {}) capped",
        SELECTIVE + 1
    );
    let mut q = diesel::sql_query(sql_text).into_boxed::<crate::db::MultiBackend>();
    for b in binds {
        q = match b {
            Bind::Int(i) => q.bind::<BigInt, _>(*i),
            Bind::Text(t) => q.bind::<Text, _>(t.to_string()),
        };
    }
    Ok(q.get_result::<Counted>(conn)?.n)
}

/// A bound value of [`capped_count`].
enum Bind<'a> {
    Int(i64),
    Text(&'a str),
}

/// Picks what leads the query on SQLite, whose planner has no statistics to tell a customer's
/// three tickets from a six-month range: the public ID, else the customer, else the smallest
/// of the subject hits, the stars and the "equals" field conditions when it has at most
/// [`SELECTIVE`] tickets, else the period.
fn pick_driver(conn: &mut DbConn, c: &Criteria, starred_by: Option<i64>) -> QueryResult<Driver> {
    if c.public_id.is_some() {
        return Ok(Driver::Key);
    }
    let cu = &c.customer;
    if cu.customer_no.is_some() || cu.name.is_some() || cu.email.is_some() || cu.phone.is_some() {
        return Ok(Driver::Customer);
    }
    let mut best: Option<(i64, Driver)> = None;
    let mut consider = |n: i64, d: Driver| {
        if n <= SELECTIVE && best.is_none_or(|(m, _)| n < m) {
            best = Some((n, d));
        }
    };
    if let Some(q) = &c.subject {
        let fts = q.fts5();
        let n = capped_count(
            conn,
            "SELECT 1 FROM ticket_fts WHERE ticket_fts MATCH ?",
            &[Bind::Text(&fts)],
        )?;
        consider(n, Driver::Subject);
    }
    if let Some(u) = starred_by {
        let n = capped_count(
            conn,
            "SELECT 1 FROM ticket_stars WHERE user_id = ?",
            &[Bind::Int(u)],
        )?;
        consider(n, Driver::Stars);
    }
    for (i, cond) in c.conditions.iter().enumerate() {
        if cond.op == Operator::Equals {
            let prefix: String = cond.value.chars().take(INDEXED_PREFIX).collect();
            let n = capped_count(
                conn,
                "SELECT 1 FROM ticket_field_values WHERE field_id = ? AND substr(value, 1, 100) = ? AND value = ?",
                &[
                    Bind::Int(cond.field_id),
                    Bind::Text(&prefix),
                    Bind::Text(&cond.value),
                ],
            )?;
            consider(n, Driver::Field(i));
        }
    }
    Ok(best.map(|(_, d)| d).unwrap_or(Driver::Period))
}

/// Ids of the tickets matching a search, newest first (by creation time, then id), at most
/// `limit`, after the ticket `before` of the previous page; with `starred_by`, only the tickets
/// that agent starred.
///
/// PostgreSQL plans this from its statistics. SQLite has none, so the query is shaped for the
/// plan: the leading set (the public ID, the customer, or the smallest of the subject hits,
/// stars and "equals" field conditions when small enough) is written so its index is used, and
/// every other set and the period with a unary `+`, which keeps SQLite from choosing their
/// indexes; without a small set the period's index leads.
pub fn search_ids(
    conn: &mut DbConn,
    service_id: i64,
    c: &Criteria,
    before: Option<i64>,
    limit: i64,
    starred_by: Option<i64>,
) -> QueryResult<Vec<i64>> {
    let pg = dispatch::is_postgres(conn);
    let driver = if pg {
        Driver::Period
    } else {
        pick_driver(conn, c, starred_by)?
    };
    // `+` on the period keeps SQLite off `(service_id, created_at)` when a set leads.
    let p = if !pg && driver != Driver::Period {
        "+"
    } else {
        ""
    };
    let lead = |d: Driver| if pg || driver == d { "" } else { "+" };
    let page_start: Option<(NaiveDateTime, i64)> = match before {
        Some(b) => tickets::table
            .filter(tickets::service_id.eq(service_id))
            .filter(tickets::id.eq(b))
            .select(tickets::created_at)
            .first::<NaiveDateTime>(conn)
            .optional()?
            .map(|at| (at, b)),
        None => None,
    };
    let mut q = tickets::table
        .select(tickets::id)
        .filter(sql::<Bool>(&format!("{p}tickets.service_id = ")).bind::<BigInt, _>(service_id))
        .into_boxed();
    match &c.public_id {
        Some(pid) => q = q.filter(tickets::public_id.eq(pid.clone())),
        None => {
            q = q
                .filter(
                    sql::<Bool>(&format!("{p}tickets.created_at >= ")).bind::<Timestamp, _>(c.from),
                )
                .filter(
                    sql::<Bool>(&format!("{p}tickets.created_at < ")).bind::<Timestamp, _>(c.until),
                );
        }
    }
    if let Some((at, id)) = page_start {
        q = q.filter(
            sql::<Bool>(&format!("{p}tickets.created_at <= "))
                .bind::<Timestamp, _>(at)
                .sql(&format!(" AND ({p}tickets.created_at < "))
                .bind::<Timestamp, _>(at)
                .sql(" OR tickets.id < ")
                .bind::<BigInt, _>(id)
                .sql(")"),
        );
    }
    if let Some(pr) = c.priority {
        q = q.filter(tickets::priority.eq(pr.as_str()));
    }
    if let Some(s) = &c.subject {
        if pg {
            q = q.filter(fts_filter(conn, FtsTable::Tickets, s));
        } else {
            q = q.filter(
                sql::<Bool>(&format!(
                    "{}tickets.id IN (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ",
                    lead(Driver::Subject)
                ))
                .bind::<Text, _>(s.fts5())
                .sql(")"),
            );
        }
    }
    if let Some(g) = c.group {
        q = q.filter(tickets::group_id.eq(g));
    }
    match c.assignee {
        Some(Some(a)) => q = q.filter(tickets::assignee_id.eq(a)),
        Some(None) => q = q.filter(tickets::assignee_id.is_null()),
        None => {}
    }
    match c.status {
        Some(StatusFilter::Plain(s)) => {
            q = q
                .filter(tickets::status.eq(s.as_str()))
                .filter(tickets::is_spam.eq(false));
        }
        Some(StatusFilter::Spam) => q = q.filter(tickets::is_spam.eq(true)),
        Some(StatusFilter::Transfer(t)) => {
            q = q
                .filter(tickets::transfer_state.eq(t.as_str()))
                .filter(tickets::is_spam.eq(false));
        }
        None => q = q.filter(tickets::is_spam.eq(false)),
    }
    if let Some(ch) = c.channel {
        q = q.filter(tickets::channel.eq(ch.as_str()));
    }
    if let Some(ids) = &c.intake {
        q = q.filter(tickets::category_id.eq_any(ids.clone()));
    }
    if let Some(ids) = &c.resolution {
        q = q.filter(tickets::resolution_category_id.eq_any(ids.clone()));
    }
    // One `IN` per customer criterion: the tickets' single customer must satisfy all of them.
    let customer_criteria = [
        ("customer_no", &c.customer.customer_no),
        ("name", &c.customer.name),
        ("email", &c.customer.email),
        ("phone", &c.customer.phone),
    ];
    for (column, value) in customer_criteria {
        if let Some(v) = value {
            q = q.filter(
                sql::<Bool>("tickets.customer_id IN (SELECT id FROM customers WHERE service_id = ")
                    .bind::<BigInt, _>(service_id)
                    .sql(&format!(" AND {column} = "))
                    .bind::<Text, _>(v.clone())
                    .sql(")"),
            );
        }
    }
    for (i, cond) in c.conditions.iter().enumerate() {
        let head = format!(
            "{}tickets.id IN (SELECT ticket_id FROM ticket_field_values WHERE field_id = ",
            lead(Driver::Field(i))
        );
        match cond.op {
            Operator::Equals => {
                let prefix: String = cond.value.chars().take(INDEXED_PREFIX).collect();
                q = q.filter(
                    sql::<Bool>(&head)
                        .bind::<BigInt, _>(cond.field_id)
                        .sql(" AND substr(value, 1, 100) = ")
                        .bind::<Text, _>(prefix)
                        .sql(" AND value = ")
                        .bind::<Text, _>(cond.value.clone())
                        .sql(")"),
                );
            }
            Operator::Contains => {
                q = q.filter(
                    sql::<Bool>(&head)
                        .bind::<BigInt, _>(cond.field_id)
                        .sql(" AND lower(value) LIKE ")
                        .bind::<Text, _>(contains_pattern(&cond.value))
                        .sql(" ESCAPE '\\')"),
                );
            }
        }
    }
    if let Some(u) = starred_by {
        q = q.filter(
            sql::<Bool>(&format!(
                "{}tickets.id IN (SELECT ticket_id FROM ticket_stars WHERE user_id = ",
                lead(Driver::Stars)
            ))
            .bind::<BigInt, _>(u)
            .sql(")"),
        );
    }
    q.order((tickets::created_at.desc(), tickets::id.desc()))
        .limit(limit)
        .load(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> SearchOptions {
        SearchOptions {
            groups: vec![(4, "Billing".into())],
            agents: vec![(9, "Ann".into())],
            fields: vec![SearchField {
                id: 30,
                label: "Plan".into(),
                control: Control::Dropdown,
                options: vec![("pro".into(), "Pro plan".into())],
            }],
            ..SearchOptions::default()
        }
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_default_period_is_six_months_up_to_today() {
        let c = validate(
            &SearchForm::default(),
            &opts(),
            Tz::UTC,
            day("2026-11-22"),
            Lang::En,
        )
        .unwrap();
        assert_eq!(c.from.date(), day("2026-05-22"));
        assert_eq!(c.until.date(), day("2026-11-23"));
    }

    #[test]
    fn longer_periods_and_unknown_choices_are_refused() {
        let form = SearchForm {
            from: "2026-01-01".into(),
            to: "2026-11-22".into(),
            group: "5".into(),
            assignee: "x".into(),
            ..SearchForm::default()
        };
        let e = validate(&form, &opts(), Tz::UTC, day("2026-11-22"), Lang::En).unwrap_err();
        assert!(e.has("from"));
        assert!(e.has("group"));
        assert!(e.has("assignee"));
        let form = SearchForm {
            from: "2026-05-22".into(),
            to: "2026-11-22".into(),
            ..SearchForm::default()
        };
        assert!(validate(&form, &opts(), Tz::UTC, day("2026-11-22"), Lang::En).is_ok());
    }

    #[test]
    fn local_days_become_utc_ranges() {
        let seoul: Tz = "Asia/Seoul".parse().unwrap();
        let form = SearchForm {
            from: "2026-11-01".into(),
            to: "2026-11-02".into(),
            ..SearchForm::default()
        };
        let c = validate(&form, &opts(), seoul, day("2026-11-22"), Lang::En).unwrap();
        assert_eq!(c.from.to_string(), "2026-10-31 15:00:00");
        assert_eq!(c.until.to_string(), "2026-11-02 15:00:00");
    }

    #[test]
    fn option_labels_find_their_values() {
        let form = SearchForm {
            f1: "30".into(),
            o1: "eq".into(),
            v1: "pro PLAN".into(),
            ..SearchForm::default()
        };
        let c = validate(&form, &opts(), Tz::UTC, day("2026-11-22"), Lang::En).unwrap();
        assert_eq!(
            c.conditions,
            vec![Condition {
                field_id: 30,
                op: Operator::Equals,
                value: "pro".into()
            }]
        );
        let form = SearchForm {
            v2: "x".into(),
            ..SearchForm::default()
        };
        let e = validate(&form, &opts(), Tz::UTC, day("2026-11-22"), Lang::En).unwrap_err();
        assert!(e.has("f2"));
    }
}
