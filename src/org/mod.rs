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

use actix_web::web;

/// Registers the organization-management routes (the service pages are registered by
/// `services::routes`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(info::admin_home))
        .route("/", web::get().to(info::admin_home))
        .route("/organization", web::get().to(info::organization_page))
        .route("/organization", web::post().to(info::rename_organization))
        .route("/organization/key", web::post().to(info::regenerate_key))
        .route("/organization/logo", web::post().to(info::upload_logo))
        .route(
            "/organization/logo/delete",
            web::post().to(info::remove_logo),
        )
        .route("/members", web::get().to(members::list_members_page))
        .route("/members/invite", web::get().to(members::invite_form))
        .route("/members/invite", web::post().to(members::invite))
        .route("/members/{id}", web::get().to(members::member_detail))
        .route(
            "/members/{id}/resend",
            web::post().to(members::resend_invitation),
        )
        .route(
            "/members/{id}/deactivate",
            web::post().to(members::deactivate_member),
        )
        .route(
            "/members/{id}/reactivate",
            web::post().to(members::reactivate_member),
        )
        .route("/administrators", web::get().to(admins::list_admins))
        .route("/administrators", web::post().to(admins::grant_admin))
        .route(
            "/administrators/{id}/remove",
            web::post().to(admins::revoke_admin),
        )
        .route("/company-info", web::get().to(company::list_company_infos))
        .route(
            "/company-info",
            web::post().to(company::create_company_info),
        )
        .route(
            "/company-info/new",
            web::get().to(company::new_company_info),
        )
        .route(
            "/company-info/{id}",
            web::get().to(company::edit_company_info),
        )
        .route(
            "/company-info/{id}",
            web::post().to(company::update_company_info),
        )
        .route(
            "/company-info/{id}/delete",
            web::post().to(company::delete_company_info),
        )
        .route("/mail", web::get().to(mail_settings::mail_page))
        .route("/mail", web::post().to(mail_settings::save_mail_settings))
        .route("/mail/test", web::post().to(mail_settings::send_test_mail))
        .route("/audit", web::get().to(audit::audit_log));
}
