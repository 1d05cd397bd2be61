//! Service membership (`service_members`): a member's base role and per-service permission
//! flags (SPEC §1.3), and the queries the extractors and pages need.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{service_members, services};
use crate::db::types::Role;
use crate::db::{DbConn, now};
use crate::services::model::Service;

/// A member's role and permissions in one service.
#[derive(Debug, Clone, Queryable, Selectable, PartialEq, Eq)]
#[diesel(table_name = service_members)]
pub struct Member {
    /// Key.
    pub id: i64,
    /// Service.
    pub service_id: i64,
    /// User.
    pub user_id: i64,
    /// `admin` or `agent`.
    pub role: String,
    /// Ticket channel.
    pub perm_ticket: bool,
    /// Chat channel.
    pub perm_chat: bool,
    /// Phone channel (implies ticket).
    pub perm_phone: bool,
    /// May assign callbacks (needs phone unless administrator).
    pub perm_callback_assign: bool,
    /// May forward tickets to other agents or groups.
    pub perm_forward: bool,
    /// May view the organization's login history.
    pub perm_view_logs: bool,
    /// May export ticket history.
    pub perm_extract: bool,
    /// Can be chosen as a ticket assignee.
    pub ticket_assignable: bool,
    /// Receives chats while online.
    pub chat_assignable: bool,
    /// May flip their own assignment toggles.
    pub assignment_control: bool,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Updated.
    pub updated_at: NaiveDateTime,
}

impl Member {
    /// The services a user belongs to, with their membership, ordered by service name.
    pub fn services_of_user(
        conn: &mut DbConn,
        user_id: i64,
    ) -> QueryResult<Vec<(Service, Member)>> {
        service_members::table
            .inner_join(services::table)
            .filter(service_members::user_id.eq(user_id))
            .order((services::name.asc(), services::id.asc()))
            .select((Service::as_select(), Member::as_select()))
            .load(conn)
    }

    /// The membership of a user in a service.
    pub fn find(conn: &mut DbConn, service_id: i64, user_id: i64) -> QueryResult<Option<Member>> {
        service_members::table
            .filter(service_members::service_id.eq(service_id))
            .filter(service_members::user_id.eq(user_id))
            .select(Member::as_select())
            .first(conn)
            .optional()
    }

    /// The role as an enum.
    pub fn role(&self) -> Role {
        Role::parse(&self.role).unwrap_or(Role::Agent)
    }

    /// Adds a user as service administrator with every permission (setup, new services).
    pub fn add_admin(conn: &mut DbConn, service_id: i64, user_id: i64) -> QueryResult<i64> {
        let t = now();
        diesel::insert_into(service_members::table)
            .values((
                service_members::service_id.eq(service_id),
                service_members::user_id.eq(user_id),
                service_members::role.eq(Role::Admin.as_str()),
                service_members::perm_ticket.eq(true),
                service_members::perm_chat.eq(true),
                service_members::perm_phone.eq(false),
                service_members::perm_callback_assign.eq(true),
                service_members::perm_forward.eq(true),
                service_members::perm_view_logs.eq(true),
                service_members::perm_extract.eq(true),
                service_members::ticket_assignable.eq(true),
                service_members::chat_assignable.eq(true),
                service_members::assignment_control.eq(true),
                service_members::created_at.eq(t),
                service_members::updated_at.eq(t),
            ))
            .returning(service_members::id)
            .get_result(conn)
    }
}
