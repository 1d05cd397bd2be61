//! Organization management (`/admin/…`, organization administrators only): organization info,
//! logo and key, services, members and invitations, organization administrators, company info,
//! the mail server, and the audit log of permission changes.

pub mod admins;
pub mod audit;
pub mod company;
pub mod form;
pub mod info;
pub mod logo;
pub mod mail_settings;
pub mod members;
pub mod model;

use actix_web::web;

/// Registers the organization-management routes (the service pages are registered by
/// `services::routes`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(info::admin_home))
        .route("/admin/", web::get().to(info::admin_home))
        .route(
            "/admin/organization",
            web::get().to(info::organization_page),
        )
        .route(
            "/admin/organization",
            web::post().to(info::rename_organization),
        )
        .route(
            "/admin/organization/key",
            web::post().to(info::regenerate_key),
        )
        .route(
            "/admin/organization/logo",
            web::post().to(info::upload_logo),
        )
        .route(
            "/admin/organization/logo/delete",
            web::post().to(info::remove_logo),
        )
        .route("/admin/members", web::get().to(members::list_members_page))
        .route("/admin/members/invite", web::get().to(members::invite_form))
        .route("/admin/members/invite", web::post().to(members::invite))
        .route("/admin/members/{id}", web::get().to(members::member_detail))
        .route(
            "/admin/members/{id}/resend",
            web::post().to(members::resend_invitation),
        )
        .route(
            "/admin/members/{id}/deactivate",
            web::post().to(members::deactivate_member),
        )
        .route(
            "/admin/members/{id}/reactivate",
            web::post().to(members::reactivate_member),
        )
        .route("/admin/administrators", web::get().to(admins::list_admins))
        .route("/admin/administrators", web::post().to(admins::grant_admin))
        .route(
            "/admin/administrators/{id}/remove",
            web::post().to(admins::revoke_admin),
        )
        .route(
            "/admin/company-info",
            web::get().to(company::list_company_infos),
        )
        .route(
            "/admin/company-info",
            web::post().to(company::create_company_info),
        )
        .route(
            "/admin/company-info/new",
            web::get().to(company::new_company_info),
        )
        .route(
            "/admin/company-info/{id}",
            web::get().to(company::edit_company_info),
        )
        .route(
            "/admin/company-info/{id}",
            web::post().to(company::update_company_info),
        )
        .route(
            "/admin/company-info/{id}/delete",
            web::post().to(company::delete_company_info),
        )
        .route("/admin/mail", web::get().to(mail_settings::mail_page))
        .route(
            "/admin/mail",
            web::post().to(mail_settings::save_mail_settings),
        )
        .route(
            "/admin/mail/test",
            web::post().to(mail_settings::send_test_mail),
        )
        .route("/admin/audit", web::get().to(audit::audit_log));
}
