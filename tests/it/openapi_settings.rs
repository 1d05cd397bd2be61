//! Service settings → Authentication: the Open API switch, the service key and its
//! regeneration, the allowed-IP list and the repeat-inquiry limit, with the usual denials.

use diesel::prelude::*;
use opencontact::db::schema::{api_settings, services};
use opencontact::db::types::{EditorType, ServiceKind};
use opencontact::i18n::Lang;
use opencontact::tenancy::service::{NewService, Service};

use crate::support::TestApp;

const AUTH: &str = "/demo/console/settings/authentication";

fn service_row(app: &TestApp, id: i64) -> Service {
    app.db(|c| {
        services::table
            .find(id)
            .select(Service::as_select())
            .first(c)
    })
}

#[actix_web::test]
async fn admins_turn_the_api_on_regenerate_the_key_and_restrict_callers() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;

    let page = admin.get(AUTH).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.texts("#open-api-state"), ["Off"]);
    assert!(page.has("a#api-docs-link"));
    let menu = admin.get("/demo/console/").await;
    assert!(menu.text.contains(AUTH), "menu links the page");

    let r = admin.post_form(&format!("{AUTH}/enable"), &[]).await;
    assert_eq!(r.status, 303);
    let page = admin.get(AUTH).await;
    assert_eq!(page.texts("#open-api-state"), ["On"]);
    let key = page.texts("#service-key")[0].clone();
    assert_eq!(key.len(), 32);
    assert!(
        key.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    let org_uid = page.texts("#org-uid")[0].clone();
    assert_eq!(org_uid.len(), 16);
    assert!(service_row(&app, fx.service_id).features().open_api);

    let r = admin.post_form(&format!("{AUTH}/key"), &[]).await;
    assert_eq!(r.status, 303);
    let page = admin.get(AUTH).await;
    let new_key = page.texts("#service-key")[0].clone();
    assert_ne!(new_key, key);
    assert_eq!(new_key.len(), 32);

    // Allowed IPs: addresses and ranges are normalised; junk is refused with 422.
    let r = admin
        .post_form(
            &format!("{AUTH}/access"),
            &[
                ("allowed_ips", "203.0.113.7\n10.1.2.3/8, 2001:db8::/32"),
                ("repeat_limit", "3"),
                ("repeat_window", "30"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let (ips, limit, window): (String, i32, i32) = app.db(|c| {
        api_settings::table
            .find(fx.service_id)
            .select((
                api_settings::allowed_ips,
                api_settings::repeat_limit,
                api_settings::repeat_window_minutes,
            ))
            .first(c)
    });
    assert_eq!(ips, "203.0.113.7\n10.0.0.0/8\n2001:db8::/32");
    assert_eq!((limit, window), (3, 30));
    let r = admin
        .post_form(
            &format!("{AUTH}/access"),
            &[
                ("allowed_ips", "203.0.113.7\nnot-an-ip"),
                ("repeat_limit", "0"),
                ("repeat_window", "abc"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.field_error("allowed_ips").contains("not-an-ip"));
    assert!(!r.field_error("repeat_limit").is_empty());
    assert!(!r.field_error("repeat_window").is_empty());
    let r = admin
        .post_form(
            &format!("{AUTH}/access"),
            &[
                ("allowed_ips", "10.0.0.0/40"),
                ("repeat_limit", "5"),
                ("repeat_window", "60"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);

    let r = admin.post_form(&format!("{AUTH}/disable"), &[]).await;
    assert_eq!(r.status, 303);
    let svc = service_row(&app, fx.service_id);
    assert!(!svc.open_api_enabled && !svc.features().open_api);
    let r = admin.post_form(&format!("{AUTH}/key"), &[]).await;
    assert_eq!(r.status, 400, "no key change while off");
    // Turning it on again brings the same key back.
    admin.post_form(&format!("{AUTH}/enable"), &[]).await;
    let page = admin.get(AUTH).await;
    assert_eq!(page.texts("#service-key")[0], new_key);
}

#[actix_web::test]
async fn only_service_admins_may_open_it() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let agent = app.create_member("agent", "Agent A", false);
    app.add_to_service(fx.service_id, agent, "agent");
    let other_service = app
        .state
        .db
        .write_blocking(|c| {
            Service::create(
                c,
                &NewService {
                    code: "other".into(),
                    kind: ServiceKind::Consultation,
                    name: "Other".into(),
                    languages: vec![Lang::En],
                    default_lang: Lang::En,
                    timezone: "UTC".into(),
                    editor_type: EditorType::Html,
                },
            )
        })
        .unwrap();
    let outsider = app.create_member("outsider", "Out Sider", false);
    app.add_to_service(other_service, outsider, "admin");

    let a = app.login("agent").await;
    assert_eq!(a.get(AUTH).await.status, 403);
    assert_eq!(
        a.post_form(&format!("{AUTH}/enable"), &[]).await.status,
        403
    );
    let o = app.login("outsider").await;
    assert_eq!(o.get(AUTH).await.status, 403);
    assert_eq!(o.post_form(&format!("{AUTH}/key"), &[]).await.status, 403);
    let anon = app.client();
    let r = anon.get(AUTH).await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"));
    let admin = app.login("admin").await;
    let r = admin
        .post_form_raw(&format!("{AUTH}/enable"), &[], &[])
        .await;
    assert_eq!(r.status, 403, "no CSRF token");
    assert!(!service_row(&app, fx.service_id).open_api_enabled);
}
