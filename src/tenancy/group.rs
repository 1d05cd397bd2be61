//! Agent groups: named, ordered for display (the forward dialog), with ordered membership
//! (the order drives round-robin assignment later).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::agents::form::merge_order;
use crate::db::schema::{agent_groups, group_members, service_members, users};
use crate::db::{DbConn, now};
use crate::web::FormErrors;

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

/// Most groups a service may have (the forward dialog lists them all).
pub const MAX_GROUPS: i64 = 200;
/// Longest group name, in characters.
pub const MAX_GROUP_NAME: usize = 50;

/// A group with its member count, for the groups list.
#[derive(Debug, Clone)]
pub struct GroupSummary {
    /// The group.
    pub group: Group,
    /// How many agents are in it.
    pub members: i64,
}

/// A member of a group, in round-robin order.
#[derive(Debug, Clone)]
pub struct GroupMember {
    /// User id.
    pub user_id: i64,
    /// Name.
    pub name: String,
    /// Login ID.
    pub login: String,
}

impl Group {
    /// A group of a service.
    pub fn find(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<Group>> {
        agent_groups::table
            .filter(agent_groups::service_id.eq(service_id))
            .filter(agent_groups::id.eq(id))
            .select(Group::as_select())
            .first(conn)
            .optional()
    }

    /// The service's groups in display order.
    pub fn of_service(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<Group>> {
        agent_groups::table
            .filter(agent_groups::service_id.eq(service_id))
            .order((agent_groups::display_order.asc(), agent_groups::id.asc()))
            .limit(MAX_GROUPS)
            .select(Group::as_select())
            .load(conn)
    }

    /// The service's groups in display order, with member counts.
    pub fn summaries(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<GroupSummary>> {
        let groups = Group::of_service(conn, service_id)?;
        let counts: Vec<(i64, i64)> = group_members::table
            .inner_join(agent_groups::table)
            .filter(agent_groups::service_id.eq(service_id))
            .group_by(group_members::group_id)
            .select((group_members::group_id, diesel::dsl::count_star()))
            .load(conn)?;
        let counts: HashMap<i64, i64> = counts.into_iter().collect();
        Ok(groups
            .into_iter()
            .map(|g| GroupSummary {
                members: counts.get(&g.id).copied().unwrap_or(0),
                group: g,
            })
            .collect())
    }

    /// Group names per member of a service (for the agents list), in display order.
    pub fn names_by_member(
        conn: &mut DbConn,
        service_id: i64,
        user_ids: &[i64],
    ) -> QueryResult<HashMap<i64, Vec<String>>> {
        let rows: Vec<(i64, String)> = group_members::table
            .inner_join(agent_groups::table)
            .filter(agent_groups::service_id.eq(service_id))
            .filter(group_members::user_id.eq_any(user_ids))
            .order((agent_groups::display_order.asc(), agent_groups::id.asc()))
            .select((group_members::user_id, agent_groups::name))
            .load(conn)?;
        let mut out: HashMap<i64, Vec<String>> = HashMap::new();
        for (uid, name) in rows {
            out.entry(uid).or_default().push(name);
        }
        Ok(out)
    }

    /// Ids of the service's groups a member belongs to.
    pub fn ids_of_member(
        conn: &mut DbConn,
        service_id: i64,
        user_id: i64,
    ) -> QueryResult<Vec<i64>> {
        group_members::table
            .inner_join(agent_groups::table)
            .filter(agent_groups::service_id.eq(service_id))
            .filter(group_members::user_id.eq(user_id))
            .select(group_members::group_id)
            .load(conn)
    }

    /// Creates a group at the end of the display order; returns its id. Validate first with
    /// [`validate_group_name`].
    pub fn create(conn: &mut DbConn, service_id: i64, name: &str) -> QueryResult<i64> {
        let last: Option<i32> = agent_groups::table
            .filter(agent_groups::service_id.eq(service_id))
            .select(diesel::dsl::max(agent_groups::display_order))
            .first(conn)?;
        let t = now();
        diesel::insert_into(agent_groups::table)
            .values((
                agent_groups::service_id.eq(service_id),
                agent_groups::name.eq(name.trim()),
                agent_groups::display_order.eq(last.map_or(0, |n| n + 1)),
                agent_groups::created_at.eq(t),
                agent_groups::updated_at.eq(t),
            ))
            .returning(agent_groups::id)
            .get_result(conn)
    }

    /// Renames a group.
    pub fn rename(conn: &mut DbConn, id: i64, name: &str) -> QueryResult<()> {
        diesel::update(agent_groups::table.find(id))
            .set((
                agent_groups::name.eq(name.trim()),
                agent_groups::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Deletes a group and its memberships.
    pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<()> {
        diesel::delete(group_members::table.filter(group_members::group_id.eq(id)))
            .execute(conn)?;
        diesel::delete(agent_groups::table.find(id)).execute(conn)?;
        Ok(())
    }

    /// Stores the display order: `ids` first (those that are groups of the service), then any
    /// groups the list did not mention, in their current order.
    pub fn set_display_order(
        conn: &mut DbConn,
        service_id: i64,
        ids: &[i64],
    ) -> QueryResult<Vec<i64>> {
        let current: Vec<i64> = Group::of_service(conn, service_id)?
            .iter()
            .map(|g| g.id)
            .collect();
        let order = merge_order(&current, ids);
        for (pos, id) in order.iter().enumerate() {
            diesel::update(agent_groups::table.find(*id))
                .set(agent_groups::display_order.eq(position_of(pos)))
                .execute(conn)?;
        }
        Ok(order)
    }

    /// The group's members in order (the order drives round-robin assignment).
    pub fn members(conn: &mut DbConn, id: i64) -> QueryResult<Vec<GroupMember>> {
        let rows: Vec<(i64, String, String)> = group_members::table
            .inner_join(users::table)
            .filter(group_members::group_id.eq(id))
            .order((group_members::position.asc(), group_members::user_id.asc()))
            .select((users::id, users::name, users::login))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(user_id, name, login)| GroupMember {
                user_id,
                name,
                login,
            })
            .collect())
    }

    /// Adds members of the service to the group, at the end of its order; ids that are not
    /// members of the service, or already in the group, are skipped. Returns how many joined.
    pub fn add_members(
        conn: &mut DbConn,
        service_id: i64,
        id: i64,
        user_ids: &[i64],
    ) -> QueryResult<usize> {
        let eligible: Vec<i64> = service_members::table
            .filter(service_members::service_id.eq(service_id))
            .filter(service_members::user_id.eq_any(user_ids))
            .select(service_members::user_id)
            .load(conn)?;
        let present: Vec<i64> = group_members::table
            .filter(group_members::group_id.eq(id))
            .select(group_members::user_id)
            .load(conn)?;
        let last: Option<i32> = group_members::table
            .filter(group_members::group_id.eq(id))
            .select(diesel::dsl::max(group_members::position))
            .first(conn)?;
        let first = last.map_or(0, |n| n + 1);
        // Keep the order in which they were ticked.
        let joining: Vec<i64> = user_ids
            .iter()
            .copied()
            .filter(|u| eligible.contains(u) && !present.contains(u))
            .collect();
        for (offset, uid) in joining.iter().enumerate() {
            diesel::insert_into(group_members::table)
                .values((
                    group_members::group_id.eq(id),
                    group_members::user_id.eq(*uid),
                    group_members::position.eq(first.saturating_add(position_of(offset))),
                ))
                .execute(conn)?;
        }
        let added = joining.len();
        Ok(added)
    }

    /// Takes a member out of the group.
    pub fn remove_member(conn: &mut DbConn, id: i64, user_id: i64) -> QueryResult<()> {
        diesel::delete(
            group_members::table
                .filter(group_members::group_id.eq(id))
                .filter(group_members::user_id.eq(user_id)),
        )
        .execute(conn)?;
        Ok(())
    }

    /// Stores the member order, merged with the current membership like
    /// [`Group::set_display_order`].
    pub fn set_member_order(conn: &mut DbConn, id: i64, user_ids: &[i64]) -> QueryResult<()> {
        let current: Vec<i64> = Group::members(conn, id)?
            .iter()
            .map(|m| m.user_id)
            .collect();
        for (pos, uid) in merge_order(&current, user_ids).iter().enumerate() {
            diesel::update(
                group_members::table
                    .filter(group_members::group_id.eq(id))
                    .filter(group_members::user_id.eq(*uid)),
            )
            .set(group_members::position.eq(position_of(pos)))
            .execute(conn)?;
        }
        Ok(())
    }

    /// Puts a member in exactly the given groups of the service (others of the service are
    /// left); new memberships go to the end of each group's order.
    pub fn set_groups_of_member(
        conn: &mut DbConn,
        service_id: i64,
        user_id: i64,
        group_ids: &[i64],
    ) -> QueryResult<()> {
        let service_groups: Vec<i64> = Group::of_service(conn, service_id)?
            .iter()
            .map(|g| g.id)
            .collect();
        let current = Group::ids_of_member(conn, service_id, user_id)?;
        for gid in current.iter().filter(|g| !group_ids.contains(g)) {
            Group::remove_member(conn, *gid, user_id)?;
        }
        for gid in group_ids
            .iter()
            .filter(|g| service_groups.contains(g) && !current.contains(g))
        {
            Group::add_members(conn, service_id, *gid, &[user_id])?;
        }
        Ok(())
    }
}

fn position_of(index: usize) -> i32 {
    i32::try_from(index).unwrap_or(i32::MAX)
}

/// Checks a group name: 1–50 characters and not used by another group of the service
/// (case-insensitively); a new group also needs room under [`MAX_GROUPS`]. `except` is the
/// group being renamed.
pub fn validate_group_name(
    conn: &mut DbConn,
    errors: &mut FormErrors,
    service_id: i64,
    name: &str,
    except: Option<i64>,
) -> QueryResult<()> {
    let name = name.trim();
    let n = name.chars().count();
    if n == 0 {
        errors.add("name", "validation.required");
        return Ok(());
    }
    if n > MAX_GROUP_NAME {
        errors.add_with("name", "validation.too_long", &[("max", "50")]);
        return Ok(());
    }
    let lower = name.to_lowercase();
    let groups = Group::of_service(conn, service_id)?;
    if groups
        .iter()
        .any(|g| Some(g.id) != except && g.name.to_lowercase() == lower)
    {
        errors.add("name", "group.name_taken");
    } else if except.is_none() && groups.len() as i64 >= MAX_GROUPS {
        errors.add_with(
            "name",
            "group.too_many",
            &[("max", &MAX_GROUPS.to_string())],
        );
    }
    Ok(())
}
