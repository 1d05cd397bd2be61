//! Service membership (`service_members`): a member's base role and per-service permission
//! flags (SPEC §1.3), and the queries the extractors and pages need.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{
    agent_groups, group_members, menu_restrictions, service_members, services, users,
};
use crate::db::search::{contains_pattern, lower};
use crate::db::types::Role;
use crate::db::types::{ServiceId, UserId};
use crate::db::{DbConn, now};
use crate::tenancy::service::Service;
use crate::tenancy::user::User;

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
    pub fn find(
        conn: &mut DbConn,
        service_id: ServiceId,
        user_id: UserId,
    ) -> QueryResult<Option<Member>> {
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
        Member::add(
            conn,
            service_id,
            user_id,
            Role::Admin,
            &Permissions::admin_defaults(),
        )
    }

    /// Adds a user to a service with a role and permissions; returns the membership id.
    pub fn add(
        conn: &mut DbConn,
        service_id: i64,
        user_id: i64,
        role: Role,
        p: &Permissions,
    ) -> QueryResult<i64> {
        let t = now();
        diesel::insert_into(service_members::table)
            .values((
                service_members::service_id.eq(service_id),
                service_members::user_id.eq(user_id),
                service_members::role.eq(role.as_str()),
                service_members::perm_ticket.eq(p.ticket),
                service_members::perm_chat.eq(p.chat),
                service_members::perm_phone.eq(p.phone),
                service_members::perm_callback_assign.eq(p.callback_assign),
                service_members::perm_forward.eq(p.forward),
                service_members::perm_view_logs.eq(p.view_logs),
                service_members::perm_extract.eq(p.extract),
                service_members::ticket_assignable.eq(p.ticket_assignable),
                service_members::chat_assignable.eq(p.chat_assignable),
                service_members::assignment_control.eq(p.assignment_control),
                service_members::created_at.eq(t),
                service_members::updated_at.eq(t),
            ))
            .returning(service_members::id)
            .get_result(conn)
    }

    /// Replaces the role and permissions of a membership.
    pub fn update(conn: &mut DbConn, id: i64, role: Role, p: &Permissions) -> QueryResult<()> {
        diesel::update(service_members::table.find(id))
            .set((
                service_members::role.eq(role.as_str()),
                service_members::perm_ticket.eq(p.ticket),
                service_members::perm_chat.eq(p.chat),
                service_members::perm_phone.eq(p.phone),
                service_members::perm_callback_assign.eq(p.callback_assign),
                service_members::perm_forward.eq(p.forward),
                service_members::perm_view_logs.eq(p.view_logs),
                service_members::perm_extract.eq(p.extract),
                service_members::ticket_assignable.eq(p.ticket_assignable),
                service_members::chat_assignable.eq(p.chat_assignable),
                service_members::assignment_control.eq(p.assignment_control),
                service_members::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// How many administrators a service has.
    pub fn count_admins(conn: &mut DbConn, service_id: i64) -> QueryResult<i64> {
        service_members::table
            .filter(service_members::service_id.eq(service_id))
            .filter(service_members::role.eq(Role::Admin.as_str()))
            .count()
            .get_result(conn)
    }

    /// Removes a user from a service, with their group memberships and menu restrictions there.
    pub fn remove(conn: &mut DbConn, service_id: i64, user_id: i64) -> QueryResult<()> {
        let service_groups = agent_groups::table
            .filter(agent_groups::service_id.eq(service_id))
            .select(agent_groups::id);
        diesel::delete(
            group_members::table
                .filter(group_members::user_id.eq(user_id))
                .filter(group_members::group_id.eq_any(service_groups)),
        )
        .execute(conn)?;
        diesel::delete(
            menu_restrictions::table
                .filter(menu_restrictions::service_id.eq(service_id))
                .filter(menu_restrictions::user_id.eq(user_id)),
        )
        .execute(conn)?;
        diesel::delete(
            service_members::table
                .filter(service_members::service_id.eq(service_id))
                .filter(service_members::user_id.eq(user_id)),
        )
        .execute(conn)?;
        Ok(())
    }

    /// The permission flags.
    pub fn permissions(&self) -> Permissions {
        Permissions {
            ticket: self.perm_ticket,
            chat: self.perm_chat,
            phone: self.perm_phone,
            callback_assign: self.perm_callback_assign,
            forward: self.perm_forward,
            view_logs: self.perm_view_logs,
            extract: self.perm_extract,
            ticket_assignable: self.ticket_assignable,
            chat_assignable: self.chat_assignable,
            assignment_control: self.assignment_control,
        }
    }

    /// Members of a service with their accounts, ordered by name, optionally matching `q`
    /// (name, login or e-mail, case-insensitively); keyset pagination after the user `after`.
    pub fn list_agents(
        conn: &mut DbConn,
        service_id: i64,
        q: &str,
        after: Option<i64>,
        limit: i64,
    ) -> QueryResult<Vec<(User, Member)>> {
        let mut query = service_members::table
            .inner_join(users::table)
            .filter(service_members::service_id.eq(service_id))
            .select((User::as_select(), Member::as_select()))
            .into_boxed();
        if !q.trim().is_empty() {
            let pattern = contains_pattern(q);
            query = query.filter(
                lower(users::name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(users::login).like(pattern.clone()).escape('\\'))
                    .or(users::email.like(pattern).escape('\\')),
            );
        }
        if let Some(after_id) = after {
            let after_name: Option<String> = users::table
                .find(after_id)
                .select(users::name)
                .first(conn)
                .optional()?;
            if let Some(name) = after_name {
                query = query.filter(
                    users::name
                        .gt(name.clone())
                        .or(users::name.eq(name).and(users::id.gt(after_id))),
                );
            }
        }
        query
            .order((users::name.asc(), users::id.asc()))
            .limit(limit)
            .load(conn)
    }
}

/// Permission codes in display order; the audit log and the agent list use them.
pub const PERMISSION_CODES: [&str; 8] = [
    "ticket",
    "chat",
    "phone",
    "callback_assign",
    "forward",
    "view_logs",
    "extract",
    "assignment_control",
];

/// A membership's permission flags and assignment toggles (SPEC §1.3), as edited on the agent
/// form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Permissions {
    /// Ticket channel.
    pub ticket: bool,
    /// Chat channel.
    pub chat: bool,
    /// Phone channel (implies ticket).
    pub phone: bool,
    /// Callback assignment (administrators, or agents with phone).
    pub callback_assign: bool,
    /// Ticket forwarding.
    pub forward: bool,
    /// Viewing the login history.
    pub view_logs: bool,
    /// Extracting the ticket history.
    pub extract: bool,
    /// Can be chosen as ticket assignee.
    pub ticket_assignable: bool,
    /// Receives chats.
    pub chat_assignable: bool,
    /// May flip their own assignment toggles.
    pub assignment_control: bool,
}

impl Permissions {
    /// What a new administrator gets: every permission except phone (which needs CTI setup).
    pub fn admin_defaults() -> Permissions {
        Permissions {
            ticket: true,
            chat: true,
            phone: false,
            callback_assign: true,
            forward: true,
            view_logs: true,
            extract: true,
            ticket_assignable: true,
            chat_assignable: true,
            assignment_control: true,
        }
    }

    /// What the "add agent" form starts with: the ticket channel and both assignment toggles.
    pub fn agent_defaults() -> Permissions {
        Permissions {
            ticket: true,
            ticket_assignable: true,
            chat_assignable: true,
            ..Permissions::default()
        }
    }

    /// Whether a permission (one of [`PERMISSION_CODES`]) is granted.
    pub fn has(&self, code: &str) -> bool {
        match code {
            "ticket" => self.ticket,
            "chat" => self.chat,
            "phone" => self.phone,
            "callback_assign" => self.callback_assign,
            "forward" => self.forward,
            "view_logs" => self.view_logs,
            "extract" => self.extract,
            "assignment_control" => self.assignment_control,
            _ => false,
        }
    }

    /// The granted permission codes, in display order.
    pub fn granted(&self) -> Vec<&'static str> {
        PERMISSION_CODES
            .iter()
            .copied()
            .filter(|c| self.has(c))
            .collect()
    }

    /// Readable text for the audit log: `ticket, chat, forward`, or `none`.
    pub fn summary(&self) -> String {
        let g = self.granted();
        if g.is_empty() {
            "none".to_string()
        } else {
            g.join(", ")
        }
    }
}
