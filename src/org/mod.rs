//! Organization management (`/admin/…`, organization administrators only): organization info,
//! logo and key, services, members and invitations, organization administrators, company info,
//! the mail server, and the audit log of permission changes.

pub mod audit;
pub mod logo;
pub mod model;

use actix_web::web;

/// Registers the organization-management routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let _ = cfg;
}
