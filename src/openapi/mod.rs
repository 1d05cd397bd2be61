//! The Contiple-compatible Open API (API.md, SPEC §3.1, §11): the Authentication settings page,
//! the response envelope and result codes ([`envelope`]), request signing and the caller gates
//! ([`signing`]), and the endpoint families built on them.

pub mod admin_api;
pub mod billing;
pub mod customer_info;
pub mod doc;
pub mod envelope;
pub mod files;
pub mod legacy_docs;
pub mod mail_api;
pub mod member;
pub mod org_api;
pub mod phone_call;
pub mod public_v2;
pub mod settings;
pub mod signed_v1;
pub mod signing;

use actix_web::web;

/// Registers the Open API routes and the settings pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    const A: &str = "/{service_id}/console/settings/authentication";
    let a = |rest: &str| format!("{A}{rest}");
    cfg.route(A, web::get().to(settings::authentication_page))
        .route(&a("/enable"), web::post().to(settings::enable))
        .route(&a("/disable"), web::post().to(settings::disable))
        .route(&a("/key"), web::post().to(settings::regenerate))
        .route(&a("/access"), web::post().to(settings::save_access))
        .route(&a("/api"), web::get().to(doc::reference_page))
        .route("/api-docs/openapi.json", web::get().to(doc::openapi_json));
    cfg.route(
        "/{service_id}/console/help-center/member-integration",
        web::get().to(member::settings_page),
    )
    .route(
        "/{service_id}/console/help-center/member-integration",
        web::post().to(member::save_settings),
    )
    .route(
        "/{service_id}/hc/member/check",
        web::get().to(member::check_page),
    )
    .route(
        "/{service_id}/hc/member/continue",
        web::get().to(member::continue_page),
    )
    .route(
        "/v2/enduser/remote.json",
        web::post().to(member::remote_login_browser),
    )
    .route(
        "/api/v2/enduser/remote.json",
        web::post().to(member::remote_login_server),
    );
    public_routes(cfg);
    signed_routes(cfg);
    admin_routes(cfg);
    doc_routes(cfg);
    mail_routes(cfg);
    org_routes(cfg);
    customer_info::routes(cfg);
}

/// The signed e-mail settings (P28–P36); `verify.json` before the `{id}` placeholder.
fn mail_routes(cfg: &mut web::ServiceConfig) {
    use mail_api as m;
    const V1: &str = "/{service_id}/openapi/v1";
    let v = |rest: &str| format!("{V1}{rest}");
    cfg.route(
        &v("/mail/create.json"),
        web::post().to(m::create_representative),
    )
    .route(&v("/mail.json"), web::get().to(m::get_settings))
    .route(&v("/mail.json"), web::post().to(m::save_settings))
    .route(
        &v("/mail/external/verify.json"),
        web::post().to(m::verify_external),
    )
    .route(
        &v("/mail/external.json"),
        web::post().to(m::register_external),
    )
    .route(
        &v("/mail/external/{id}/enable.json"),
        web::put().to(m::enable_external),
    )
    .route(
        &v("/mail/external/{id}/disable.json"),
        web::put().to(m::disable_external),
    )
    .route(
        &v("/mail/external/{id}.json"),
        web::put().to(m::update_external),
    )
    .route(
        &v("/mail/external/{id}.json"),
        web::delete().to(m::delete_external),
    );
}

/// The organization family (`/openapi/v1/admin/…`, signed with the organization key: services
/// and contracts), its access page, and the phone-call registration with its ticket panel.
/// Literal segments come before the `{…}` placeholders.
fn org_routes(cfg: &mut web::ServiceConfig) {
    use billing as b;
    use org_api as o;
    const S: &str = "/openapi/v1/admin/service";
    const B: &str = "/openapi/v1/admin/billing";
    let s = |rest: &str| format!("{S}{rest}");
    let b = |rest: &str| format!("{B}{rest}");
    cfg.route("/admin/organization/api", web::get().to(o::org_access_form))
        .route(
            "/admin/organization/api",
            web::post().to(o::save_org_access),
        )
        .route(&s("/add.json"), web::post().to(o::add_service))
        .route(&s("/list.json"), web::get().to(o::list_services))
        .route(&s("/disable.json"), web::put().to(o::disable_service))
        .route(&s("/enable.json"), web::put().to(o::enable_service))
        .route(&s("/apikey/refresh.json"), web::put().to(o::refresh_key))
        .route(&s("/{code}.json"), web::get().to(o::get_service))
        .route(&s("/{code}.json"), web::put().to(o::update_service))
        .route(&s("/{code}.json"), web::delete().to(o::delete_service))
        .route(&b("/reg.json"), web::post().to(b::register))
        .route(&b("/list.json"), web::get().to(b::list))
        .route(&b("/update/{billing_id}.json"), web::put().to(b::update))
        .route(
            &b("/service/{code}.json"),
            web::get().to(b::by_service_code),
        )
        .route(&b("/{billing_id}.json"), web::get().to(b::by_billing_id))
        .route(
            "/{service_id}/openapi/v1/ticket/call.json",
            web::put().to(phone_call::register_call),
        )
        .route(
            "/{service_id}/console/tickets/{public_id:T[0-9]{10,16}[0-9A-Za-z]{5}}/call",
            web::get().to(phone_call::call_panel),
        );
}

/// The signed help-center content administration (legacy FAQ, notices, templates, tags,
/// headings). Literal segments first.
fn doc_routes(cfg: &mut web::ServiceConfig) {
    use legacy_docs as d;
    const V1: &str = "/{service_id}/openapi/v1";
    const V2: &str = "/{service_id}/openapi/v2";
    let v = |rest: &str| format!("{V1}{rest}");
    let v2 = |rest: &str| format!("{V2}{rest}");
    cfg.route(&v("/helpdoc.json"), web::get().to(d::list_faqs))
        .route(&v("/helpdoc.json"), web::post().to(d::save_faq))
        .route(
            &v2("/helpdoc/categories.json"),
            web::get().to(d::faq_categories),
        )
        .route(
            &v("/helpdoc/categories.json"),
            web::get().to(d::faq_categories),
        )
        .route(
            &v2("/helpdoc/category/{id}.json"),
            web::get().to(d::faq_category),
        )
        .route(
            &v("/helpdoc/category/{id}.json"),
            web::get().to(d::faq_category),
        )
        .route(
            &v("/helpdoc/category.json"),
            web::post().to(d::create_faq_category),
        )
        .route(
            &v("/helpdoc/category/{id}.json"),
            web::put().to(d::update_faq_category),
        )
        .route(
            &v("/helpdoc/category/{id}.json"),
            web::delete().to(d::delete_faq_category),
        )
        .route(
            &v("/helpdoc/{id}/recommend.json"),
            web::put().to(d::set_faq_flag),
        )
        .route(&v("/helpdoc/{id}/top.json"), web::put().to(d::set_faq_flag))
        .route(&v("/helpdoc/{id}/close.json"), web::put().to(d::close_faq))
        .route(&v("/helpdoc/{id}.json"), web::get().to(d::get_faq))
        .route(&v("/helpdoc/{id}.json"), web::put().to(d::save_faq))
        .route(&v("/helpdoc/{id}.json"), web::delete().to(d::delete_faq))
        .route(
            &v("/attachments/help/upload.json"),
            web::post().to(d::upload_faq_file),
        )
        .route(
            &v2("/attachments/help/{id}"),
            web::get().to(d::download_doc_file),
        )
        .route(
            &v("/attachments/help/{id}.json"),
            web::delete().to(d::delete_doc_file),
        )
        .route(
            &v("/attachments/notice/upload.json"),
            web::post().to(d::upload_notice_file),
        )
        .route(
            &v2("/attachments/notice/{id}"),
            web::get().to(d::download_doc_file),
        )
        .route(
            &v("/attachments/notice/{id}.json"),
            web::delete().to(d::delete_doc_file),
        )
        .route(
            &v("/multilanguage/notice.json"),
            web::get().to(d::list_notices),
        )
        .route(
            &v("/multilanguage/notice.json"),
            web::post().to(d::save_notice),
        )
        .route(
            &v("/multilanguage/notices.json"),
            web::get().to(d::get_notices),
        )
        .route(
            &v("/multilanguage/notice/template.json"),
            web::get().to(d::list_templates),
        )
        .route(
            &v("/multilanguage/notice/template.json"),
            web::post().to(d::save_template),
        )
        .route(
            &v("/multilanguage/notice/template/{id}.json"),
            web::get().to(d::get_template),
        )
        .route(
            &v("/multilanguage/notice/template/{id}.json"),
            web::put().to(d::save_template),
        )
        .route(
            &v("/multilanguage/notice/template/{id}.json"),
            web::delete().to(d::delete_template),
        )
        .route(
            &v("/multilanguage/notice/{id}.json"),
            web::get().to(d::get_notice),
        )
        .route(
            &v("/multilanguage/notice/{id}.json"),
            web::put().to(d::save_notice),
        )
        .route(
            &v("/multilanguage/notice/{id}.json"),
            web::delete().to(d::delete_notice),
        )
        .route(&v("/notice/tags.json"), web::get().to(d::list_labels))
        .route(&v("/notice/tag.json"), web::post().to(d::save_label))
        .route(&v("/notice/tag/{id}.json"), web::get().to(d::get_label))
        .route(&v("/notice/tag/{id}.json"), web::put().to(d::save_label))
        .route(
            &v("/notice/tag/{id}.json"),
            web::delete().to(d::delete_label),
        )
        .route(
            &v2("/notice/categories.json"),
            web::get().to(d::list_labels),
        )
        .route(
            &v2("/notice/category/{id}.json"),
            web::get().to(d::get_label),
        )
        .route(&v("/notice/category.json"), web::post().to(d::save_label))
        .route(
            &v("/notice/category/{id}.json"),
            web::post().to(d::save_label),
        )
        .route(
            &v("/notice/category/{id}.json"),
            web::put().to(d::save_label),
        )
        .route(
            &v("/notice/category/{id}.json"),
            web::delete().to(d::delete_label),
        );
}

/// The signed administration endpoints (legacy tickets and intake types, agents). Literal
/// segments come before the `{id}` placeholders (API.md §1.1).
fn admin_routes(cfg: &mut web::ServiceConfig) {
    const V1: &str = "/{service_id}/openapi/v1";
    let v = |rest: &str| format!("{V1}{rest}");
    cfg.route(
        &v("/ticket/add.json"),
        web::post().to(admin_api::add_ticket),
    )
    .route(
        &v("/ticket/solve.json"),
        web::post().to(admin_api::solve_ticket),
    )
    .route(
        &v("/ticket/comment.json"),
        web::post().to(admin_api::comment_ticket),
    )
    .route(
        &v("/ticket/list.json"),
        web::get().to(admin_api::list_tickets),
    )
    .route(
        &v("/ticket/category/add.json"),
        web::post().to(admin_api::add_category),
    )
    .route(
        &v("/ticket/category/list.json"),
        web::get().to(admin_api::list_categories),
    )
    .route(
        &v("/ticket/category/{id}.json"),
        web::get().to(admin_api::get_category),
    )
    .route(
        &v("/ticket/category/{id}.json"),
        web::put().to(admin_api::update_category),
    )
    .route(
        &v("/ticket/category/{id}.json"),
        web::delete().to(admin_api::delete_category),
    )
    .route(
        &v("/ticket/{usercode}/list.json"),
        web::get().to(admin_api::list_tickets),
    )
    .route(
        &v("/ticket/{id}.json"),
        web::get().to(admin_api::get_ticket),
    )
    .route(
        &v("/attachments/ticket/upload.json"),
        web::post().to(admin_api::legacy_upload),
    )
    .route(
        &v("/attachments/ticket/{id}.json"),
        web::delete().to(admin_api::legacy_delete_upload),
    )
    .route(
        &v("/attachments/ticket/{id}"),
        web::get().to(admin_api::legacy_download),
    )
    .route(&v("/users.json"), web::get().to(admin_api::list_agents))
    .route(&v("/adduser.json"), web::post().to(admin_api::add_agent))
    .route(&v("/users/{id}.json"), web::get().to(admin_api::get_agent))
    .route(
        &v("/users/{id}.json"),
        web::put().to(admin_api::update_agent),
    )
    .route(
        &v("/users/{id}.json"),
        web::delete().to(admin_api::remove_agent),
    );
}

/// The signed inquiry endpoints (current API).
fn signed_routes(cfg: &mut web::ServiceConfig) {
    const V1: &str = "/{service_id}/openapi/v1";
    let v = |rest: &str| format!("{V1}{rest}");
    cfg.route(
        &v("/ticket/attachments/upload.json"),
        web::post().to(signed_v1::upload_ticket_attachment),
    )
    .route(&v("/ticket.json"), web::post().to(signed_v1::create_ticket))
    .route(
        &v("/ticket/enduser/{usercode}/list.json"),
        web::get().to(signed_v1::member_tickets),
    )
    .route(
        &v("/ticket/enduser/{usercode}/list.json"),
        web::post().to(signed_v1::member_tickets),
    )
    .route(
        &v("/ticket/enduser/{usercode}/{ticket_id}/detail.json"),
        web::get().to(signed_v1::member_ticket),
    )
    .route(
        &v("/ticket/enduser/{usercode}/{ticket_id}/comment.json"),
        web::post().to(signed_v1::member_followup),
    )
    .route(
        "/{service_id}/hc/openapi/v1/addition.json",
        web::post().to(signed_v1::addition),
    );
}

/// The public `api/v2` family (literal segments before placeholders).
fn public_routes(cfg: &mut web::ServiceConfig) {
    const V2: &str = "/{service_id}/api/v2";
    let v = |rest: &str| format!("{V2}{rest}");
    cfg.route(
        &v("/service.json"),
        web::get().to(public_v2::service_detail),
    )
    .route(
        &v("/notice/categories.json"),
        web::get().to(public_v2::notice_categories),
    )
    .route(
        &v("/notice/tags.json"),
        web::get().to(public_v2::notice_tags),
    )
    .route(
        &v("/notice/list.json"),
        web::get().to(public_v2::notice_list),
    )
    .route(
        &v("/notice/detail/{id}.json"),
        web::get().to(public_v2::notice_detail),
    )
    .route(
        &v("/notice/attachments/{id}"),
        web::get().to(public_v2::notice_attachment),
    )
    .route(
        &v("/helpdoc/categories.json"),
        web::get().to(public_v2::faq_categories),
    )
    .route(&v("/helpdoc/list.json"), web::get().to(public_v2::faq_list))
    .route(
        &v("/helpdoc/detail/{id}.json"),
        web::get().to(public_v2::faq_detail),
    )
    .route(
        &v("/helpdoc/attachments/{id}"),
        web::get().to(public_v2::faq_attachment),
    )
    .route(
        &v("/ticket/categories.json"),
        web::get().to(public_v2::intake_types),
    )
    .route(
        &v("/ticket/field/user/{category_id}.json"),
        web::get().to(public_v2::intake_fields),
    )
    .route(
        &v("/ticket/attachments/{id}"),
        web::get().to(public_v2::ticket_attachment),
    )
    .route(
        &v("/dooray/hook"),
        web::post().to(crate::dooray::hook::receive),
    );
}

/// Unknown paths and methods of the API families answer with the envelope (404), not a page.
pub fn fallback_routes(cfg: &mut web::ServiceConfig) {
    for p in [
        "/{service_id}/api/{tail:.*}",
        "/{service_id}/openapi/{tail:.*}",
        "/{service_id}/hc/openapi/{tail:.*}",
        "/openapi/{tail:.*}",
    ] {
        cfg.route(p, web::route().to(no_such_endpoint));
    }
}

async fn no_such_endpoint() -> envelope::ApiResult {
    Err(envelope::ApiError::Business(404, "No such API".into()))
}
