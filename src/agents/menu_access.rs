//! Menu access control (SPEC §1.4): each console menu is open to all members or partially
//! allowed, in which case the members on its restricted list lose it.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{menu_access, menu_restrictions};
use crate::db::types::Menu;

/// The menus a user is restricted from in a service (only menus set to "partial" count).
pub fn restricted_menus(
    conn: &mut DbConn,
    service_id: i64,
    user_id: i64,
) -> QueryResult<Vec<Menu>> {
    let rows: Vec<String> = menu_restrictions::table
        .inner_join(
            menu_access::table.on(menu_access::service_id
                .eq(menu_restrictions::service_id)
                .and(menu_access::menu.eq(menu_restrictions::menu))),
        )
        .filter(menu_restrictions::service_id.eq(service_id))
        .filter(menu_restrictions::user_id.eq(user_id))
        .filter(menu_access::partial.eq(true))
        .select(menu_restrictions::menu)
        .load(conn)?;
    Ok(rows.iter().filter_map(|m| Menu::parse(m)).collect())
}
