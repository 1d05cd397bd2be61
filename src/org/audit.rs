//! The audit log of permission changes (SPEC §2.5): who changed which member's role or
//! permission, in which service, when, before → after. Written in the same transaction as the
//! change it records.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::auth::users::User;
use crate::db::schema::permission_audit;
use crate::db::{DbConn, now};

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
