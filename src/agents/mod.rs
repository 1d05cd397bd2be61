//! Service agents and groups (service administrators; organization administrators too): adding
//! members to a service with a role and permission flags, groups with ordered membership and a
//! display order, menu access control, and the login history.

pub mod form;
pub mod groups;
pub mod menu_access;
pub mod model;

use actix_web::web;

/// Registers the agent-management routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let _ = cfg;
}
