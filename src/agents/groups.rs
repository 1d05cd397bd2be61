//! Agent groups: named, ordered for display (the forward dialog), with ordered membership
//! (the order drives round-robin assignment later).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{agent_groups, group_members};

/// A group row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = agent_groups)]
pub struct Group {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// Name (unique in the service).
    pub name: String,
    /// Display order.
    pub display_order: i32,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

impl Group {
    /// Names of the groups a member belongs to in a service, in display order.
    pub fn names_of_member(
        conn: &mut DbConn,
        service_id: i64,
        user_id: i64,
    ) -> QueryResult<Vec<String>> {
        group_members::table
            .inner_join(agent_groups::table)
            .filter(agent_groups::service_id.eq(service_id))
            .filter(group_members::user_id.eq(user_id))
            .order((agent_groups::display_order.asc(), agent_groups::id.asc()))
            .select(agent_groups::name)
            .load(conn)
    }
}
