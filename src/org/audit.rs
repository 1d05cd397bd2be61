//! The audit log of permission changes (SPEC §2.5): who changed which member's role or
//! permission, in which service, when, before → after. Written in the same transaction as the
//! change it records; `/admin/audit` searches it by period, operation and name.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::schema::permission_audit;
use crate::db::search::{contains_pattern, lower};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::org::form::query_string;
use crate::tenancy::user::User;
use crate::web::{self as w, FormErrors, OrgAdmin, PageCtx};

/// Every operation code written to the log, in the order the filter offers them. Each has a
/// label `audit.op.<code>`.
pub const OPERATIONS: &[&str] = &[
    "org_admin_granted",
    "org_admin_revoked",
    "member_deactivated",
    "member_reactivated",
    "agent_added",
    "agent_removed",
    "agent_role_changed",
    "agent_permissions_changed",
    "menu_restricted",
    "menu_unrestricted",
];

/// One audit row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = permission_audit)]
pub struct AuditEntry {
    /// Key.
    pub id: i64,
    /// Service concerned, if any.
    pub service_id: Option<i64>,
    /// The service ID at the time.
    pub service_code: String,
    /// Who made the change.
    pub actor_id: Option<i64>,
    /// Their name at the time.
    pub actor_name: String,
    /// Whose permission changed.
    pub target_id: Option<i64>,
    /// Their name at the time.
    pub target_name: String,
    /// Operation code (an i18n key suffix: `audit.op.<operation>`).
    pub operation: String,
    /// Value before.
    pub before_value: String,
    /// Value after.
    pub after_value: String,
    /// When.
    pub created_at: NaiveDateTime,
}

/// What changed.
pub struct AuditRecord<'a> {
    /// Service (id, code), if the change is service-scoped.
    pub service: Option<(i64, &'a str)>,
    /// Who.
    pub actor: &'a User,
    /// Whose.
    pub target: &'a User,
    /// Operation code.
    pub operation: &'a str,
    /// Before.
    pub before: String,
    /// After.
    pub after: String,
}

/// Writes an audit row.
pub fn record(conn: &mut DbConn, r: AuditRecord<'_>) -> QueryResult<()> {
    diesel::insert_into(permission_audit::table)
        .values((
            permission_audit::service_id.eq(r.service.map(|s| s.0)),
            permission_audit::service_code.eq(r.service.map(|s| s.1).unwrap_or("")),
            permission_audit::actor_id.eq(Some(r.actor.id)),
            permission_audit::actor_name.eq(&r.actor.name),
            permission_audit::target_id.eq(Some(r.target.id)),
            permission_audit::target_name.eq(&r.target.name),
            permission_audit::operation.eq(r.operation),
            permission_audit::before_value.eq(r.before),
            permission_audit::after_value.eq(r.after),
            permission_audit::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Filters of the log search.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// From this instant (inclusive, UTC).
    pub from: Option<NaiveDateTime>,
    /// Until this instant (exclusive, UTC).
    pub until: Option<NaiveDateTime>,
    /// Only this operation.
    pub operation: Option<String>,
    /// Actor or target name contains this (case-insensitive).
    pub name: Option<String>,
}

/// A page of the log, newest first (keyset by id); plus whether more follow.
pub fn search(
    conn: &mut DbConn,
    f: &AuditFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<AuditEntry>, bool)> {
    let mut q = permission_audit::table
        .select(AuditEntry::as_select())
        .into_boxed();
    if let Some(from) = f.from {
        q = q.filter(permission_audit::created_at.ge(from));
    }
    if let Some(until) = f.until {
        q = q.filter(permission_audit::created_at.lt(until));
    }
    if let Some(op) = &f.operation {
        q = q.filter(permission_audit::operation.eq(op.clone()));
    }
    if let Some(name) = &f.name {
        let pattern = contains_pattern(name);
        q = q.filter(
            lower(permission_audit::actor_name)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(permission_audit::target_name)
                    .like(pattern)
                    .escape('\\')),
        );
    }
    if let Some(b) = before {
        q = q.filter(permission_audit::id.lt(b));
    }
    let mut rows = q
        .order(permission_audit::id.desc())
        .limit(limit + 1)
        .load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    Ok((rows, more))
}

/// Rows per page.
const PAGE_SIZE: i64 = 50;

/// A value as shown: known codes (`yes`, `admin`, `active`, …) are translated, anything else is
/// shown as written, and an empty value as a dash.
pub fn display_value(lang: Lang, value: &str) -> String {
    if value.is_empty() {
        return "—".into();
    }
    let key = format!("audit.value.{value}");
    let text = i18n::t(lang, &key);
    if text == key { value.to_string() } else { text }
}

/// The operation's label, or its code when it has none.
pub fn operation_label(lang: Lang, op: &str) -> String {
    let key = format!("audit.op.{op}");
    let text = i18n::t(lang, &key);
    if text == key { op.to_string() } else { text }
}

/// A row of the log page.
pub struct AuditRow {
    /// When (UTC, `YYYY-MM-DD HH:MM`).
    pub time: String,
    /// Service ID, or a dash for organization-level changes.
    pub service: String,
    /// Translated operation.
    pub operation: String,
    /// Actor's name.
    pub actor: String,
    /// Target's name.
    pub target: String,
    /// Before.
    pub before: String,
    /// After.
    pub after: String,
}

/// The log page.
#[derive(Template)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Filter values as typed.
    pub query: AuditQuery,
    /// Operations for the select: code and translated label.
    pub operations: Vec<(String, String)>,
    /// Rows.
    pub rows: Vec<AuditRow>,
    /// Next page.
    pub next_href: Option<String>,
    /// Whether this is a continuation page.
    pub continued: bool,
    /// Link back to the first page with the same filters.
    pub first_href: String,
    /// Filter errors.
    pub errors: FormErrors,
}

/// The filter query.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuditQuery {
    /// `YYYY-MM-DD` (UTC).
    #[serde(default)]
    pub from: String,
    /// `YYYY-MM-DD` (UTC, inclusive).
    #[serde(default)]
    pub to: String,
    /// Operation code.
    #[serde(default)]
    pub op: String,
    /// Name contains.
    #[serde(default)]
    pub name: String,
    /// Keyset.
    #[serde(default)]
    pub before: String,
}

fn parse_date(errors: &mut FormErrors, field: &str, s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.add(field, "audit.date_format");
            None
        }
    }
}

/// Turns the query into a filter, with messages for what cannot be used.
pub fn parse_filter(q: &AuditQuery, lang: Lang) -> (AuditFilter, FormErrors) {
    let mut errors = FormErrors::new(lang);
    let from = parse_date(&mut errors, "from", &q.from);
    let to = parse_date(&mut errors, "to", &q.to);
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        errors.add("to", "audit.range_invalid");
    }
    let op = q.op.trim();
    let operation = if op.is_empty() {
        None
    } else if OPERATIONS.contains(&op) {
        Some(op.to_string())
    } else {
        errors.add("op", "validation.choose_option");
        None
    };
    let name: String = q.name.trim().chars().take(100).collect();
    let filter = AuditFilter {
        from: from.and_then(|d| d.and_hms_opt(0, 0, 0)),
        until: to
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t + TimeDelta::days(1)),
        operation,
        name: (!name.is_empty()).then_some(name),
    };
    (filter, errors)
}

/// `GET /admin/audit`
pub async fn audit_log(
    admin: OrgAdmin,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = admin.0.viewer.lang;
    let query = query.into_inner();
    let (filter, errors) = parse_filter(&query, lang);
    let before = query.before.parse::<i64>().ok();
    let ok = errors.is_empty();
    let (entries, more) = if ok {
        admin
            .0
            .viewer
            .state
            .db
            .read(move |c| Ok(search(c, &filter, before, PAGE_SIZE)?))
            .await?
    } else {
        (Vec::new(), false)
    };
    let filters = [
        ("from", query.from.trim()),
        ("to", query.to.trim()),
        ("op", query.op.trim()),
        ("name", query.name.trim()),
    ];
    let next_href = match entries.last() {
        Some(last) if more => {
            let id = last.id.to_string();
            let mut pairs = filters.to_vec();
            pairs.push(("before", &id));
            Some(format!("/admin/audit{}", query_string(&pairs)))
        }
        _ => None,
    };
    let first_href = format!("/admin/audit{}", query_string(&filters));
    let rows = entries
        .into_iter()
        .map(|e| AuditRow {
            time: e.created_at.format("%Y-%m-%d %H:%M").to_string(),
            service: if e.service_code.is_empty() {
                "—".into()
            } else {
                e.service_code
            },
            operation: operation_label(lang, &e.operation),
            actor: e.actor_name,
            target: e.target_name,
            before: display_value(lang, &e.before_value),
            after: display_value(lang, &e.after_value),
        })
        .collect();
    let page = AuditPage {
        ctx: PageCtx::admin(&admin.0, "audit.title"),
        operations: OPERATIONS
            .iter()
            .map(|op| ((*op).to_string(), operation_label(lang, op)))
            .collect(),
        rows,
        next_href,
        continued: before.is_some(),
        first_href,
        errors,
        query,
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    w::html(status, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_cover_whole_days() {
        let q = AuditQuery {
            from: "2026-01-02".into(),
            to: "2026-01-02".into(),
            ..AuditQuery::default()
        };
        let (f, e) = parse_filter(&q, Lang::En);
        assert!(e.is_empty());
        let until = f.until.unwrap_or_default();
        let from = f.from.unwrap_or_default();
        assert_eq!(until - from, TimeDelta::days(1));
        let bad = AuditQuery {
            from: "2026-02-01".into(),
            to: "2026-01-01".into(),
            op: "nope".into(),
            ..AuditQuery::default()
        };
        let (_, e) = parse_filter(&bad, Lang::En);
        assert!(e.has("to") && e.has("op"));
    }

    #[test]
    fn every_operation_has_a_label() {
        for op in OPERATIONS {
            assert_ne!(operation_label(Lang::Ja, op), *op);
        }
        assert_eq!(display_value(Lang::En, "yes"), "Yes");
        assert_eq!(display_value(Lang::En, "custom"), "custom");
        assert_eq!(display_value(Lang::En, ""), "—");
    }
}
