//! The help center: the customer-facing portal (`/{service_id}/hc/…`: main page, notices, FAQ,
//! articles, one search across both, per-language content, iframe embedding) and its back
//! office (`/{service_id}/console/help-center/…`: FAQ documents, notices with headings, tags
//! and templates, attachments, and the per-service configuration). Search uses the normalised
//! `search_text` columns of `db::search`.

pub mod access;
pub mod attachments;
pub mod content;
pub mod customer_session;
pub mod faq;
pub mod faq_admin;
pub mod history;
pub mod inquiry;
pub mod member;
pub mod meta_admin;
pub mod notices;
pub mod notices_admin;
pub mod portal;
pub mod settings;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::help_center::access::{HcStaff, Module};
use crate::web as w;

/// `GET /{service_id}/console/help-center` → the first module the service has.
pub async fn back_office_home(req: HttpRequest, s: HcStaff) -> HttpResponse {
    let base = access::base(&s.service.code);
    let to = if s.require(Module::Faq).is_ok() {
        format!("{base}/faq")
    } else if s.require(Module::Notice).is_ok() {
        format!("{base}/notices")
    } else if s.is_service_admin() {
        format!("{base}/settings")
    } else {
        format!("/{}/console/", s.service.code)
    };
    w::redirect(&req, &to)
}

/// Registers the back office (under `/{service_id}/console`). Fixed segments (`new`, `order`)
/// come before the `{id}` routes they would otherwise match.
pub fn routes(cfg: &mut web::ServiceConfig) {
    const B: &str = "/help-center";
    let b = |rest: &str| format!("{B}{rest}");
    cfg.route(B, web::get().to(back_office_home))
        // FAQ
        .route(&b("/faq"), web::get().to(faq_admin::list_faqs))
        .route(&b("/faq"), web::post().to(faq_admin::create_faq))
        .route(&b("/faq/new"), web::get().to(faq_admin::new_faq_form))
        .route(&b("/faq/{id}"), web::get().to(faq_admin::edit_faq_form))
        .route(&b("/faq/{id}"), web::post().to(faq_admin::update_faq))
        .route(
            &b("/faq/{id}/publish"),
            web::post().to(faq_admin::publish_faq),
        )
        .route(
            &b("/faq/{id}/unpublish"),
            web::post().to(faq_admin::unpublish_faq),
        )
        .route(
            &b("/faq/{id}/delete"),
            web::post().to(faq_admin::delete_faq),
        )
        .route(
            &b("/faq/{id}/attachments"),
            web::post().to(faq_admin::upload_faq_attachments),
        )
        .route(
            &b("/faq/{id}/attachments/{attachment_id}/delete"),
            web::post().to(faq_admin::delete_faq_attachment),
        )
        // Notices
        .route(&b("/notices"), web::get().to(notices_admin::list_notices))
        .route(&b("/notices"), web::post().to(notices_admin::create_notice))
        .route(
            &b("/notices/new"),
            web::get().to(notices_admin::new_notice_form),
        )
        .route(
            &b("/notices/{id}"),
            web::get().to(notices_admin::edit_notice_form),
        )
        .route(
            &b("/notices/{id}"),
            web::post().to(notices_admin::update_notice),
        )
        .route(
            &b("/notices/{id}/publish"),
            web::post().to(notices_admin::publish_notice),
        )
        .route(
            &b("/notices/{id}/unpublish"),
            web::post().to(notices_admin::unpublish_notice),
        )
        .route(
            &b("/notices/{id}/delete"),
            web::post().to(notices_admin::delete_notice),
        )
        .route(
            &b("/notices/{id}/attachments"),
            web::post().to(notices_admin::upload_notice_attachments),
        )
        .route(
            &b("/notices/{id}/attachments/{attachment_id}/delete"),
            web::post().to(notices_admin::delete_notice_attachment),
        )
        // Headings, tags, templates
        .route(
            &b("/notice-headings"),
            web::get().to(meta_admin::list_headings),
        )
        .route(
            &b("/notice-headings"),
            web::post().to(meta_admin::create_heading),
        )
        .route(
            &b("/notice-headings/order"),
            web::post().to(meta_admin::order_headings),
        )
        .route(
            &b("/notice-headings/{id}"),
            web::get().to(meta_admin::edit_heading),
        )
        .route(
            &b("/notice-headings/{id}"),
            web::post().to(meta_admin::update_heading),
        )
        .route(
            &b("/notice-headings/{id}/delete"),
            web::post().to(meta_admin::delete_heading),
        )
        .route(&b("/notice-tags"), web::get().to(meta_admin::list_tags))
        .route(&b("/notice-tags"), web::post().to(meta_admin::create_tag))
        .route(&b("/notice-tags/{id}"), web::get().to(meta_admin::edit_tag))
        .route(
            &b("/notice-tags/{id}"),
            web::post().to(meta_admin::update_tag),
        )
        .route(
            &b("/notice-tags/{id}/delete"),
            web::post().to(meta_admin::delete_tag),
        )
        .route(
            &b("/notice-templates"),
            web::get().to(meta_admin::list_templates),
        )
        .route(
            &b("/notice-templates"),
            web::post().to(meta_admin::create_template),
        )
        .route(
            &b("/notice-templates/new"),
            web::get().to(meta_admin::new_template),
        )
        .route(
            &b("/notice-templates/{id}"),
            web::get().to(meta_admin::edit_template),
        )
        .route(
            &b("/notice-templates/{id}"),
            web::post().to(meta_admin::update_template),
        )
        .route(
            &b("/notice-templates/{id}/delete"),
            web::post().to(meta_admin::delete_template),
        )
        // Attachments, configuration
        .route(
            &b("/attachments/{attachment_id}"),
            web::get().to(attachments::download_attachment),
        )
        .route(&b("/settings"), web::get().to(settings::settings_page))
        .route(&b("/settings"), web::post().to(settings::save_settings))
        .route(&b("/settings/logo"), web::post().to(settings::upload_logo))
        .route(
            &b("/settings/logo/delete"),
            web::post().to(settings::remove_logo),
        );
}

/// Registers the portal (under `/{service_id}/hc`). The inquiry history comes before
/// `/ticket/{public_id}/` so `list` is never taken for an ID.
pub fn portal_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(portal::main_redirect))
        .route("/", web::get().to(portal::main_page))
        .route("/search", web::get().to(portal::search_page))
        .route("/notices", web::get().to(portal::notices_page))
        .route("/notices/{id}", web::get().to(portal::notice_page))
        .route("/faq", web::get().to(portal::faq_page))
        .route("/article/{id}", web::get().to(portal::article_page))
        .route("/article/{id}/", web::get().to(portal::article_page))
        .route("/attachments/{id}/{name}", web::get().to(portal::download))
        .route("/custom.css", web::get().to(portal::custom_css))
        .route("/logo", web::get().to(portal::logo))
        // Inquiry history (before `/ticket/{public_id}/` so `list` is never taken for an ID)
        .route("/ticket/list/", web::get().to(history::list))
        .route("/ticket/list/", web::post().to(history::request_link))
        .route("/ticket/list/access", web::get().to(history::access))
        .route("/ticket/list/signout", web::post().to(history::sign_out))
        .route("/ticket/{public_id}/", web::get().to(history::detail))
        .route("/ticket/{public_id}/", web::post().to(history::follow_up))
        .route(
            "/ticket/{public_id}/files/{file_id}",
            web::get().to(history::download),
        )
        // Inquiry
        .route("/ticket/", web::get().to(inquiry::inquiry_form))
        .route("/ticket/", web::post().to(inquiry::submit_inquiry));
}

use crate::console::nav::{NavEntry, Section};
use crate::db::types::{Menu, ServiceKind};

/// Consultation services, for members the Help Center menu is open to.
fn hc_menu(a: &crate::web::auth::ServiceAccess) -> bool {
    a.service.kind() == ServiceKind::Consultation && a.can_use_menu(Menu::HelpCenter)
}

/// The menu entries: FAQ and notices (where switched on), the settings, and the portal link.
pub const NAV: &[NavEntry] = &[
    NavEntry {
        section: Section::HelpCenter,
        path: "console/help-center/faq",
        label: "hc.nav.faq",
        exact: false,
        visible: |a| hc_menu(a) && a.service.features().faq,
    },
    NavEntry {
        section: Section::HelpCenter,
        path: "console/help-center/notices",
        label: "hc.nav.notices",
        exact: false,
        visible: |a| hc_menu(a) && a.service.features().notice,
    },
    NavEntry {
        section: Section::HelpCenterSettings,
        path: "console/help-center/settings",
        label: "hc.nav.settings",
        exact: false,
        visible: |a| hc_menu(a) && a.is_service_admin(),
    },
    NavEntry {
        section: Section::Foot,
        path: "hc/",
        label: "hc.go_to_help_center",
        exact: true,
        visible: |a| a.member.is_some() && a.service.kind() == ServiceKind::Consultation,
    },
];
