//! Service agents and groups (service administrators; organization administrators too): adding
//! members to a service with a role and permission flags, groups with ordered membership and a
//! display order, menu access control, and the login history.

pub mod agents_page;
pub mod form;
pub mod groups_page;
pub mod login_history;
pub mod menu_access;

use actix_web::web;

/// Registers the agent-management routes. Fixed segments (`add`, `invite`, `order`) come before
/// the `{id}` routes they would otherwise match.
pub fn routes(cfg: &mut web::ServiceConfig) {
    const S: &str = "/settings";
    let p = |rest: &str| format!("{S}{rest}");
    cfg.route(&p("/agents"), web::get().to(agents_page::list_agents))
        .route(
            &p("/agents/add"),
            web::get().to(agents_page::add_agent_form),
        )
        .route(&p("/agents/add"), web::post().to(agents_page::add_agent))
        .route(
            &p("/agents/invite"),
            web::get().to(agents_page::invite_agent_form),
        )
        .route(
            &p("/agents/invite"),
            web::post().to(agents_page::invite_agent),
        )
        .route(
            &p("/agents/{user_id}"),
            web::get().to(agents_page::edit_agent_form),
        )
        .route(
            &p("/agents/{user_id}"),
            web::post().to(agents_page::update_agent),
        )
        .route(
            &p("/agents/{user_id}/remove"),
            web::post().to(agents_page::remove_agent),
        )
        .route(&p("/groups"), web::get().to(groups_page::list_groups))
        .route(&p("/groups"), web::post().to(groups_page::create_group))
        .route(
            &p("/groups/order"),
            web::post().to(groups_page::order_groups),
        )
        .route(
            &p("/groups/{group_id}"),
            web::get().to(groups_page::show_group),
        )
        .route(
            &p("/groups/{group_id}"),
            web::post().to(groups_page::rename_group),
        )
        .route(
            &p("/groups/{group_id}/delete"),
            web::post().to(groups_page::delete_group),
        )
        .route(
            &p("/groups/{group_id}/members"),
            web::post().to(groups_page::add_group_members),
        )
        .route(
            &p("/groups/{group_id}/members/order"),
            web::post().to(groups_page::order_group_members),
        )
        .route(
            &p("/groups/{group_id}/members/remove"),
            web::post().to(groups_page::remove_group_member),
        )
        .route(
            &p("/menu-access"),
            web::get().to(menu_access::menu_access_page),
        )
        .route(
            &p("/menu-access/{menu}"),
            web::get().to(menu_access::edit_menu_access),
        )
        .route(
            &p("/menu-access/{menu}"),
            web::post().to(menu_access::save_menu_access),
        )
        .route(
            &p("/login-history"),
            web::get().to(login_history::login_history),
        );
}

use crate::console::nav::{NavEntry, Section};

/// The menu entries: agents, groups, menu access and the login history.
pub const NAV: &[NavEntry] = &[
    NavEntry {
        section: Section::Agents,
        path: "console/settings/agents",
        label: "nav.console.agents",
        exact: false,
        visible: |a| a.can_manage_agents(),
    },
    NavEntry {
        section: Section::Agents,
        path: "console/settings/groups",
        label: "nav.console.groups",
        exact: false,
        visible: |a| a.can_manage_agents(),
    },
    NavEntry {
        section: Section::Agents,
        path: "console/settings/menu-access",
        label: "nav.console.menu_access",
        exact: false,
        visible: |a| a.is_service_admin(),
    },
    NavEntry {
        section: Section::Agents,
        path: "console/settings/login-history",
        label: "nav.console.login_history",
        exact: false,
        visible: |a| a.member.as_ref().is_some_and(|m| m.perm_view_logs),
    },
];
