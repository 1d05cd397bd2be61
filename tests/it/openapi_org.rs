//! The organization family (API.md §8.2–§8.3: services and contracts, signed with the
//! organization key), its access page, and the legacy phone-call registration (§8.4.2). All
//! calls go through the independent client of `openapi_client`.

use diesel::prelude::*;
use opencontact::db::schema::{
    billing_contracts, customers, permission_audit, service_members, services, ticket_calls,
    ticket_entries, tickets, users,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::openapi_client::{Answer, Api, now_ms};
use crate::support::TestApp;

/// A client signing with the organization key.
fn org_api(app: &TestApp) -> Api {
    let secret = app.state.secret.clone();
    let org = app
        .state
        .db
        .write_blocking(|c| Ok(opencontact::tenancy::organization::Organization::find(c)?))
        .unwrap()
        .unwrap();
    Api {
        base: app.base.clone(),
        service: String::new(),
        key: org.org_key(&secret).unwrap(),
        org: org.org_uid,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

/// A client of service `code` with the given key.
fn service_api(app: &TestApp, code: &str, key: &str) -> Api {
    let o = org_api(app);
    Api {
        service: code.into(),
        key: key.into(),
        ..o
    }
}

async fn call(api: &Api, method: Method, path: &str, body: &Value) -> Answer {
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    api.signed_with(
        method,
        path,
        Some("application/json"),
        text.as_bytes(),
        &now_ms().to_string(),
        &[],
    )
    .await
}

async fn oucode_call(api: &Api, path: &str, body: &Value, oucode: &str) -> Answer {
    api.signed_with(
        Method::POST,
        path,
        Some("application/json"),
        body.to_string().as_bytes(),
        &now_ms().to_string(),
        &[("OUCODE", oucode)],
    )
    .await
}

const ADD: &str = "/openapi/v1/admin/service/add.json";

fn count_services(app: &TestApp) -> i64 {
    app.db(|c| services::table.count().get_result(c))
}

#[actix_web::test]
async fn services_are_managed_with_the_organization_key() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let org = org_api(&app);
    let body = json!({
        "type": 1, "serviceId": "shop", "name": "Acme Shop", "language": "en",
        "languages": [{"code": "ko", "name": "Korean", "orderNo": 1},
                      {"code": "en", "name": "English", "orderNo": 0}]
    });
    let r = call(&org, Method::POST, ADD, &body).await;
    r.assert_ok();
    let s = r.content().clone();
    assert_eq!(s["serviceId"], "shop");
    assert_eq!(s["type"], 1);
    assert_eq!(s["active"], true);
    assert_eq!(s["language"], "en");
    assert_eq!(s["timeZone"], "America/New_York");
    assert_eq!(s["languages"][0]["code"], "en");
    assert_eq!(s["languages"][0]["mainFlag"], true);
    assert_eq!(s["languages"][1]["code"], "ko");
    assert_eq!(s["languages"][1]["orderNo"], 1);
    let key = s["securityKey"].as_str().unwrap().to_string();
    assert_eq!(key.len(), 32);
    assert!(s["createdDt"].as_i64().unwrap() > 1_700_000_000_000);
    // The acting user (the first organization administrator) administers it, audited as in
    // the console; the key works on the service family at once.
    let sid: i64 = app.db(|c| {
        services::table
            .filter(services::code.eq("shop"))
            .select(services::id)
            .first(c)
    });
    let roles: Vec<(i64, String)> = app.db(|c| {
        service_members::table
            .filter(service_members::service_id.eq(sid))
            .select((service_members::user_id, service_members::role))
            .load(c)
    });
    assert_eq!(roles, vec![(fx.admin_id, "admin".to_string())]);
    let ops: Vec<String> = app.db(|c| {
        permission_audit::table
            .filter(permission_audit::service_id.eq(sid))
            .select(permission_audit::operation)
            .load(c)
    });
    assert_eq!(ops, vec!["agent_added".to_string()]);
    let shop = service_api(&app, "shop", &key);
    shop.sget("/shop/openapi/v1/users.json").await.assert_ok();

    // OUCODE names the acting administrator; the defaults are ko/ja/en and the language's zone.
    let kim = app.create_member("kim", "Kim Org", true);
    let r = oucode_call(
        &org,
        ADD,
        &json!({"serviceId": "kimshop", "name": "Kim Shop", "language": "ja"}),
        "kim",
    )
    .await;
    r.assert_ok();
    assert_eq!(r.content()["timeZone"], "Asia/Tokyo");
    let codes: Vec<&str> = r.content()["languages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["ko", "ja", "en"]);
    let kim_sid: i64 = app.db(|c| {
        services::table
            .filter(services::code.eq("kimshop"))
            .select(services::id)
            .first(c)
    });
    let admins: Vec<i64> = app.db(|c| {
        service_members::table
            .filter(service_members::service_id.eq(kim_sid))
            .select(service_members::user_id)
            .load(c)
    });
    assert_eq!(admins, vec![kim]);

    // Bad input: the console's validation, nothing written.
    let before = count_services(&app);
    let cases: Vec<(Value, i64)> = vec![
        (
            json!({"serviceId": "shop", "name": "Other", "language": "en"}),
            9007,
        ),
        (
            json!({"serviceId": "SHOP", "name": "Other", "language": "en"}),
            9007,
        ),
        (
            json!({"serviceId": "other", "name": "acme shop", "language": "en"}),
            9007,
        ),
        (
            json!({"serviceId": "shop1", "name": "Other", "language": "en"}),
            400,
        ),
        (
            json!({"serviceId": "admin", "name": "Other", "language": "en"}),
            400,
        ),
        (json!({"name": "Other", "language": "en"}), 400),
        (json!({"serviceId": "other", "language": "en"}), 400),
        (json!({"serviceId": "other", "name": "Other"}), 400),
        (
            json!({"serviceId": "other", "name": "Other", "language": "zh"}),
            400,
        ),
        (
            json!({"serviceId": "other", "name": "Other", "language": "en", "type": 3}),
            400,
        ),
        (
            json!({"serviceId": "other", "name": "Other", "language": "en", "timeZone": "Mars/Base"}),
            400,
        ),
        (
            json!({"serviceId": "other", "name": "Other", "language": "en", "languages": [{"code": "ko"}]}),
            400,
        ),
        (
            json!({"serviceId": "other", "name": "x".repeat(51), "language": "en"}),
            400,
        ),
        (
            json!({"serviceId": "other", "name": "Other", "language": "en", "languages": "en"}),
            400,
        ),
        (json!(["serviceId"]), 400),
    ];
    for (b, code) in cases {
        let r = call(&org, Method::POST, ADD, &b).await;
        assert_eq!(r.code(), code, "{b}: {:?}", r.json);
        assert_eq!(r.json["header"]["isSuccessful"], false);
        if code == 400 {
            assert_eq!(r.status, 400);
            if b.is_object() {
                assert_eq!(r.content()["exception"], "OcException", "{b}");
            }
        } else {
            assert_eq!(r.status, 200);
        }
    }
    let r = org
        .signed_with(
            Method::POST,
            ADD,
            Some("application/json"),
            b"{\"serviceId\": ",
            &now_ms().to_string(),
            &[],
        )
        .await;
    r.assert_failure(400, 400);
    assert_eq!(count_services(&app), before);

    // L2 and L3.
    let one = "/openapi/v1/admin/service/shop.json";
    let r = call(&org, Method::GET, one, &Value::Null).await;
    r.assert_ok();
    assert_eq!(r.content()["securityKey"], key.as_str());
    call(
        &org,
        Method::GET,
        "/openapi/v1/admin/service/nothing.json",
        &Value::Null,
    )
    .await
    .assert_failure(404, 404);
    let r = call(
        &org,
        Method::PUT,
        one,
        &json!({"type": 2, "name": "Acme Store", "timeZone": "Asia/Tokyo",
                "language": "ko", "languages": [{"code": "ko", "orderNo": 0}, {"code": "ja", "orderNo": 1}]}),
    )
    .await;
    r.assert_ok();
    assert_eq!(r.content()["name"], "Acme Store");
    assert_eq!(r.content()["type"], 1, "type is ignored");
    assert_eq!(r.content()["language"], "ko");
    assert_eq!(r.content()["timeZone"], "Asia/Tokyo");
    assert_eq!(r.content()["languages"].as_array().unwrap().len(), 2);
    // The console shows what the API wrote.
    let admin = app.login("admin").await;
    let page = admin.get("/admin/services/shop/edit").await;
    assert!(page.has("input[name=service_name][value='Acme Store']"));
    for (b, code) in [
        (json!({"language": "en"}), 400),
        (json!({"name": "Demo Support"}), 9007),
        (json!({"timeZone": "Nowhere"}), 400),
        (json!({"name": ""}), 400),
    ] {
        let r = call(&org, Method::PUT, one, &b).await;
        assert_eq!(r.code(), code, "{b}");
    }
    let r = call(&org, Method::GET, one, &Value::Null).await;
    assert_eq!(r.content()["name"], "Acme Store", "nothing half-saved");
    call(
        &org,
        Method::PUT,
        "/openapi/v1/admin/service/nothing.json",
        &json!({"name": "X"}),
    )
    .await
    .assert_failure(404, 404);

    // L8: paging.
    let r = call(
        &org,
        Method::GET,
        "/openapi/v1/admin/service/list.json?page=2&pageSize=2",
        &Value::Null,
    )
    .await;
    r.assert_ok();
    assert_eq!(r.json["result"]["total"], 3);
    assert_eq!(r.json["result"]["pages"], 2);
    assert_eq!(r.json["result"]["pageNum"], 2);
    assert_eq!(r.contents().len(), 1);
    assert_eq!(r.contents()[0]["serviceId"], "kimshop");
    let r = call(
        &org,
        Method::GET,
        "/openapi/v1/admin/service/list.json",
        &Value::Null,
    )
    .await;
    assert_eq!(r.json["result"]["pageSize"], 100);
    assert_eq!(r.contents()[0]["serviceId"], "demo");
    assert_eq!(r.contents()[0]["securityKey"], Value::Null, "Open API off");
    call(
        &org,
        Method::GET,
        "/openapi/v1/admin/service/list.json?page=0",
        &Value::Null,
    )
    .await
    .assert_failure(400, 400);

    // L7: a new key; the old one stops at once.
    let r = call(
        &org,
        Method::PUT,
        "/openapi/v1/admin/service/apikey/refresh.json?serviceId=shop",
        &Value::Null,
    )
    .await;
    r.assert_ok();
    let new_key = r.content().as_str().unwrap().to_string();
    assert_ne!(new_key, key);
    let r = shop.sget("/shop/openapi/v1/users.json").await;
    r.assert_failure(400, 400);
    assert_eq!(r.message(), "Authorization is incorrect");
    service_api(&app, "shop", &new_key)
        .sget("/shop/openapi/v1/users.json")
        .await
        .assert_ok();
    call(
        &org,
        Method::PUT,
        "/openapi/v1/admin/service/apikey/refresh.json",
        &Value::Null,
    )
    .await
    .assert_failure(400, 400);

    // L6 refuses an active service; L4 disables, L6 deletes, L5 enables.
    let r = call(&org, Method::DELETE, one, &Value::Null).await;
    r.assert_ok();
    assert_eq!(r.content(), "ENABLE");
    assert_eq!(count_services(&app), 3);
    let r = call(
        &org,
        Method::PUT,
        "/openapi/v1/admin/service/disable.json?serviceId=shop",
        &Value::Null,
    )
    .await;
    r.assert_ok();
    assert_eq!(r.content()["active"], false);
    let list = admin.get("/admin/services").await;
    assert_eq!(list.status, 200);
    let enabled: bool = app.db(|c| services::table.find(sid).select(services::enabled).first(c));
    assert!(!enabled);
    let r = call(&org, Method::DELETE, one, &Value::Null).await;
    r.assert_ok();
    assert_eq!(r.content(), "SUCCESS");
    assert_eq!(count_services(&app), 2);
    call(&org, Method::GET, one, &Value::Null)
        .await
        .assert_failure(404, 404);
    call(&org, Method::DELETE, one, &Value::Null)
        .await
        .assert_failure(404, 404);
    let r = call(
        &org,
        Method::PUT,
        "/openapi/v1/admin/service/disable.json?serviceId=demo",
        &Value::Null,
    )
    .await;
    assert_eq!(r.content()["active"], false);
    let r = call(
        &org,
        Method::PUT,
        "/openapi/v1/admin/service/enable.json?serviceId=demo",
        &Value::Null,
    )
    .await;
    r.assert_ok();
    assert_eq!(r.content()["active"], true);
    call(
        &org,
        Method::PUT,
        "/openapi/v1/admin/service/enable.json?serviceId=nothing",
        &Value::Null,
    )
    .await
    .assert_failure(404, 404);
    let _ = fx;
}

#[actix_web::test]
async fn the_organization_family_refuses_what_is_not_signed_with_the_organization_key() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let org = org_api(&app);
    let list = "/openapi/v1/admin/service/list.json";
    // Unsigned, wrong signature, expired, replayed.
    let r = org.get(list).await;
    r.assert_failure(400, 400);
    assert_eq!(r.message(), "Authorization is blank");
    let bad = Api {
        key: "0".repeat(32),
        ..org_api(&app)
    };
    let r = call(&bad, Method::GET, list, &Value::Null).await;
    r.assert_failure(400, 400);
    assert_eq!(r.message(), "Authorization is incorrect");
    let r = org
        .signed_with(Method::GET, list, None, b"", "12ab", &[])
        .await;
    assert_eq!(r.message(), "X-TC-Timestamp is not numeric");
    let old = (now_ms() - 10 * 60 * 1000).to_string();
    let r = org
        .signed_with(Method::GET, list, None, b"", &old, &[])
        .await;
    assert_eq!(r.message(), "X-TC-Timestamp is expired");
    let ts = now_ms().to_string();
    org.signed_with(Method::GET, list, None, b"", &ts, &[])
        .await
        .assert_ok();
    let r = org
        .signed_with(Method::GET, list, None, b"", &ts, &[])
        .await;
    r.assert_failure(400, 400);
    // A service key on an organization endpoint, the organization key on a service endpoint.
    let demo = Api::enable(&app, fx.service_id, "demo");
    let r = call(&demo, Method::GET, list, &Value::Null).await;
    r.assert_failure(400, 400);
    assert_eq!(r.message(), "Authorization is incorrect");
    let as_service = service_api(&app, "demo", &org.key);
    let r = as_service.sget("/demo/openapi/v1/users.json").await;
    r.assert_failure(400, 400);
    assert_eq!(r.message(), "Authorization is incorrect");
    let r = call(
        &demo,
        Method::POST,
        ADD,
        &json!({"serviceId": "evil", "name": "Evil", "language": "en"}),
    )
    .await;
    r.assert_failure(400, 400);
    assert_eq!(count_services(&app), 1);
    // Unknown paths of the family answer with the envelope.
    let r = call(
        &org,
        Method::GET,
        "/openapi/v1/admin/nothing.json",
        &Value::Null,
    )
    .await;
    r.assert_failure(404, 404);

    // The organization API's allowed IPs, from its page.
    let admin = app.login("admin").await;
    let page = admin.get("/admin/organization/api").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.texts("#org-uid")[0], org.org);
    assert!(admin.get("/admin/organization").await.has("a#org-api-link"));
    let r = admin
        .post_form("/admin/organization/api", &[("allowed_ips", "10.0.0.0/33")])
        .await;
    assert_eq!(r.status, 422);
    assert!(!r.field_error("allowed_ips").is_empty());
    let r = admin
        .post_form(
            "/admin/organization/api",
            &[("allowed_ips", "203.0.113.0/24, 198.51.100.7")],
        )
        .await;
    assert_eq!(r.status, 303);
    let page = admin.get("/admin/organization/api").await;
    assert_eq!(
        page.texts("textarea[name=allowed_ips]"),
        ["203.0.113.0/24\n198.51.100.7"]
    );
    let r = call(&org, Method::GET, list, &Value::Null).await;
    r.assert_failure(403, 403);
    assert_eq!(r.message(), "clientIp is not allowed");
    // The service family keeps its own list.
    demo.sget("/demo/openapi/v1/users.json").await.assert_ok();
    admin
        .post_form(
            "/admin/organization/api",
            &[("allowed_ips", "203.0.113.0/24\n127.0.0.1")],
        )
        .await;
    call(&org, Method::GET, list, &Value::Null)
        .await
        .assert_ok();

    // The page: organization administrators only, CSRF-protected.
    let agent = app.create_member("agent", "Agent A", false);
    app.add_to_service(fx.service_id, agent, "admin");
    let a = app.login("agent").await;
    assert_eq!(a.get("/admin/organization/api").await.status, 403);
    assert_eq!(
        a.post_form("/admin/organization/api", &[("allowed_ips", "")])
            .await
            .status,
        403
    );
    let anon = app.client();
    let r = anon.get("/admin/organization/api").await;
    assert_eq!(r.status, 303);
    assert!(r.location().starts_with("/login"));
    let r = admin
        .post_form_raw("/admin/organization/api", &[("allowed_ips", "")], &[])
        .await;
    assert_eq!(r.status, 403);
    call(&org, Method::GET, list, &Value::Null)
        .await
        .assert_ok();
}

fn enable_feature(app: &TestApp, sid: i64, name: &'static str, on: bool) {
    app.db(move |c| {
        let text: String = services::table
            .find(sid)
            .select(services::features)
            .first(c)?;
        let mut f: opencontact::tenancy::service::Features =
            serde_json::from_str(&text).unwrap_or_default();
        f.set(name, on);
        diesel::update(services::table.find(sid))
            .set(services::features.eq(serde_json::to_string(&f).unwrap()))
            .execute(c)
    });
}

fn features(app: &TestApp, sid: i64) -> opencontact::tenancy::service::Features {
    let text: String = app.db(|c| {
        services::table
            .find(sid)
            .select(services::features)
            .first(c)
    });
    serde_json::from_str(&text).unwrap()
}

fn setting<'a>(contract: &'a Value, code: &str) -> &'a Value {
    contract["billingSettings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["billingItemCode"] == code)
        .unwrap()
}

#[actix_web::test]
async fn contracts_are_the_services_feature_switches() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let org = org_api(&app);
    let by_service = "/openapi/v1/admin/billing/service/demo.json";
    call(&org, Method::GET, by_service, &Value::Null)
        .await
        .assert_failure(404, 404);
    let reg = "/openapi/v1/admin/billing/reg.json";
    let body = json!({"serviceId": "demo", "billingSettings": [
        {"billingItemCode": "chat", "active": true},
        {"billingSettingCode": "happycall", "active": "true"},
        {"billingItemCode": "ticket", "active": true}
    ], "discountRate": 10, "email": "Billing@Acme.test", "startDt": "20240610093000"});
    // Bad input first: nothing written.
    for (b, code) in [
        (json!({"billingSettings": []}), 400),
        (json!({"serviceId": "nothing"}), 9005),
        (
            json!({"serviceId": "demo", "billingSettings": [{"billingItemCode": "teleport", "active": true}]}),
            400,
        ),
        (
            json!({"serviceId": "demo", "billingSettings": [{"billingItemCode": "ticket", "active": false}]}),
            400,
        ),
        (
            json!({"serviceId": "demo", "billingSettings": [{"billingItemCode": "chat"}]}),
            400,
        ),
        (
            json!({"serviceId": "demo", "billingSettings": {"chat": true}}),
            400,
        ),
        (json!({"serviceId": "demo", "discountRate": 101}), 400),
        (json!({"serviceId": "demo", "startDt": "2024-06-10"}), 400),
        (json!({"serviceId": "demo", "email": "not mail"}), 400),
    ] {
        let r = call(&org, Method::POST, reg, &b).await;
        assert_eq!(r.code(), code, "{b}: {:?}", r.json);
    }
    assert_eq!(
        app.db(|c| billing_contracts::table.count().get_result::<i64>(c)),
        0
    );
    assert!(!features(&app, sid).chat);

    let r = call(&org, Method::POST, reg, &body).await;
    r.assert_ok();
    let k = r.content().clone();
    let billing_id = k["id"].as_i64().unwrap();
    assert_eq!(k["serviceId"], "demo");
    assert_eq!(k["serviceName"], "Demo Support");
    assert_eq!(k["organizationName"], "Acme");
    assert_eq!(k["organizationId"], org.org.as_str());
    assert_eq!(k["status"], "inuse");
    assert_eq!(k["startDt"], "20240610093000");
    assert_eq!(k["discountRate"], 10);
    assert_eq!(k["email"], "billing@acme.test");
    assert_eq!(k["active"], true);
    assert_eq!(k["billingSettings"].as_array().unwrap().len(), 15);
    assert_eq!(setting(&k, "ticket")["active"], true);
    assert_eq!(setting(&k, "chat")["active"], true);
    assert_eq!(setting(&k, "happycall")["active"], true);
    assert_eq!(
        setting(&k, "helpdoc")["active"],
        true,
        "FAQ is on by default"
    );
    assert_eq!(setting(&k, "telticket")["active"], false);
    assert_eq!(setting(&k, "chat")["userCount"], 1);
    assert_eq!(setting(&k, "chat")["billingItem"]["code"], "chat");
    assert_eq!(setting(&k, "happycall")["billingItem"]["open"], false);
    // The service's switch is the contract item: the console shows it.
    assert!(features(&app, sid).chat);
    let admin = app.login("admin").await;
    let page = admin.get("/admin/services/demo/edit").await;
    assert!(page.has("input[name=feature_chat][checked]"));
    let r = call(&org, Method::POST, reg, &body).await;
    assert_eq!((r.code(), r.status), (9007, 200));

    // L10: once per day.
    let update = format!("/openapi/v1/admin/billing/update/{billing_id}.json");
    let chat_id = setting(&k, "chat")["id"].as_i64().unwrap();
    let off = json!({"id": billing_id, "serviceId": "demo", "billingSettings": [
        {"id": chat_id, "billingId": billing_id, "billingItemCode": "chat", "active": false}]});
    for (b, code) in [
        (json!({"id": billing_id + 1, "billingSettings": []}), 400),
        (json!({"serviceId": "other", "billingSettings": []}), 400),
        (json!({"id": billing_id}), 400),
        (
            json!({"billingSettings": [{"id": 999_999, "active": false}]}),
            9005,
        ),
        (
            json!({"billingSettings": [{"id": chat_id, "billingItemCode": "callback", "active": false}]}),
            400,
        ),
        (
            json!({"billingSettings": [{"id": chat_id, "billingId": billing_id + 1, "active": false}]}),
            400,
        ),
        (
            json!({"billingSettings": [{"billingItemCode": "ticket", "active": false}]}),
            400,
        ),
    ] {
        let r = call(&org, Method::PUT, &update, &b).await;
        assert_eq!(r.code(), code, "{b}: {:?}", r.json);
    }
    call(
        &org,
        Method::PUT,
        "/openapi/v1/admin/billing/update/999999.json",
        &off,
    )
    .await
    .assert_failure(404, 404);
    let r = call(&org, Method::PUT, &update, &off).await;
    r.assert_ok();
    assert_eq!(setting(r.content(), "chat")["active"], false);
    assert!(!features(&app, sid).chat);
    // Unchanged items do not use up the day.
    call(&org, Method::PUT, &update, &off).await.assert_ok();
    let on = json!({"billingSettings": [{"billingItemCode": "chat", "active": true},
                                        {"billingItemCode": "telticket", "active": true}]});
    let r = call(&org, Method::PUT, &update, &on).await;
    assert_eq!((r.code(), r.status), (9015, 200));
    assert_eq!(r.message(), "billing.setting.today.already.changed");
    assert_eq!(r.content()["exception"], "OcException");
    assert_eq!(
        r.content()["message"],
        "billing.setting.today.already.changed"
    );
    let f = features(&app, sid);
    assert!(!f.chat && !f.phone, "nothing changed");
    // The next day (the stored date is in the past) the change goes through.
    app.db(|c| {
        diesel::update(billing_contracts::table)
            .set(billing_contracts::changed_on.eq("2000-01-01"))
            .execute(c)
    });
    let r = call(&org, Method::PUT, &update, &on).await;
    r.assert_ok();
    assert_eq!(setting(r.content(), "telticket")["active"], true);
    assert!(features(&app, sid).phone);

    // The console's toggle is what the API reads.
    let form = [
        ("service_name", "Demo Support"),
        ("languages", "en"),
        ("default_lang", "en"),
        ("timezone", "Asia/Seoul"),
        ("editor_type", "html"),
        ("feature_ticket", "on"),
        ("feature_callback", "on"),
    ];
    let r = admin.post_form("/admin/services/demo/edit", &form).await;
    assert_eq!(r.status, 303);
    let r = call(&org, Method::GET, by_service, &Value::Null).await;
    r.assert_ok();
    let k = r.content().clone();
    assert_eq!(setting(&k, "callback")["active"], true);
    assert_eq!(setting(&k, "chat")["active"], false);
    assert_eq!(setting(&k, "telticket")["active"], false);
    assert_eq!(setting(&k, "helpdoc")["active"], false);
    assert_eq!(setting(&k, "happycall")["active"], true);
    let r = call(
        &org,
        Method::GET,
        &format!("/openapi/v1/admin/billing/{billing_id}.json"),
        &Value::Null,
    )
    .await;
    r.assert_ok();
    assert_eq!(r.content()["id"], billing_id);
    call(
        &org,
        Method::GET,
        "/openapi/v1/admin/billing/424242.json",
        &Value::Null,
    )
    .await
    .assert_failure(404, 404);

    // L11 with its filters; a disabled service pauses its contract.
    let list = |q: &str| format!("/openapi/v1/admin/billing/list.json{q}");
    let r = call(&org, Method::GET, &list(""), &Value::Null).await;
    r.assert_ok();
    assert_eq!(r.json["result"]["total"], 1);
    assert_eq!(r.json["result"]["pageSize"], 10);
    assert!(r.contents()[0].get("billingSettings").is_none());
    for (q, n) in [
        ("?billingSettingCode=callback", 1),
        ("?billingSettingCode=chat", 0),
        ("?billingSettingCode=chat&active=false", 1),
        ("?active=true", 1),
        ("?active=false", 0),
        ("?page=2", 0),
    ] {
        let r = call(&org, Method::GET, &list(q), &Value::Null).await;
        r.assert_ok();
        assert_eq!(r.contents().len(), n, "{q}");
    }
    for q in ["?billingSettingCode=teleport", "?active=maybe"] {
        call(&org, Method::GET, &list(q), &Value::Null)
            .await
            .assert_failure(400, 400);
    }
    app.db(|c| {
        diesel::update(services::table.find(sid))
            .set(services::enabled.eq(false))
            .execute(c)
    });
    let r = call(&org, Method::GET, by_service, &Value::Null).await;
    assert_eq!(r.content()["status"], "pause");
    assert_eq!(r.content()["active"], false);
    // A service key is no organization key.
    let svc = Api::enable(&app, sid, "demo");
    call(&svc, Method::GET, &list(""), &Value::Null)
        .await
        .assert_failure(400, 400);
    let r = svc.sget(by_service).await;
    r.assert_failure(400, 400);
}

fn call_body(ring_key: &str) -> Value {
    json!({
        "subject": "Refund by phone", "content": "Customer asked about the refund.",
        "requesterId": 1001,
        "endUser": {"phone": "010-1234-5678"},
        "ticketCall": {
            "inoutFlg": "in", "ivrPathNo": "1-2", "disconnectCd": "customer",
            "callRingKey": ring_key, "callRingDt": "20240610093000",
            "callStartDt": "20240610093010", "callEndDt": "20240610093415"
        }
    })
}

#[actix_web::test]
async fn phone_calls_become_phone_tickets_of_the_caller() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let sid = fx.service_id;
    let api = Api::enable(&app, sid, "demo");
    let path = "/demo/openapi/v1/ticket/call.json";
    // The phone contract item is off: refused.
    let r = api.sjson(Method::PUT, path, &call_body("UCID-1")).await;
    r.assert_failure(400, 400);
    enable_feature(&app, sid, "phone", true);
    // The caller is already a customer (by phone).
    let known = app.db(|c| {
        opencontact::customers::link_or_create(
            c,
            sid,
            &opencontact::customers::Contact {
                name: "Ann Lee".into(),
                email: "ann@example.com".into(),
                phone: "010-1234-5678".into(),
            },
            false,
        )
    });
    // Unknown CTI agent.
    let r = api.sjson(Method::PUT, path, &call_body("UCID-1")).await;
    assert_eq!((r.code(), r.status), (9005, 200));
    app.db(|c| {
        diesel::update(users::table.find(fx.admin_id))
            .set(users::cti_id.eq(Some("1001")))
            .execute(c)
    });
    let r = api.sjson(Method::PUT, path, &call_body("UCID-1")).await;
    r.assert_ok();
    assert_eq!(r.content()["code"], "success");
    assert_eq!(r.content()["message"], Value::Null);
    let pid = r.content()["ticketId"].as_str().unwrap().to_string();
    let t: (i64, String, String, Option<i64>, Option<i64>, Option<i64>) = app.db(|c| {
        tickets::table
            .filter(tickets::public_id.eq(&pid))
            .select((
                tickets::id,
                tickets::channel,
                tickets::status,
                tickets::assignee_id,
                tickets::creator_id,
                tickets::customer_id,
            ))
            .first(c)
    });
    assert_eq!(t.1, "phone");
    assert_eq!(t.2, "open");
    assert_eq!(t.3, Some(fx.admin_id));
    assert_eq!(t.4, Some(fx.admin_id));
    assert_eq!(t.5, Some(known));
    let body: String = app.db(|c| {
        ticket_entries::table
            .filter(ticket_entries::ticket_id.eq(t.0))
            .select(ticket_entries::body)
            .first(c)
    });
    assert_eq!(body, "Customer asked about the refund.");
    let (dir, ring_at): (String, chrono::NaiveDateTime) = app.db(|c| {
        ticket_calls::table
            .find(t.0)
            .select((ticket_calls::direction, ticket_calls::ring_at))
            .first(c)
    });
    assert_eq!(dir, "in");
    // 09:30 in Seoul is 00:30 UTC.
    assert_eq!(ring_at.to_string(), "2024-06-10 00:30:00");

    // A retry of the same call: the same ticket, no second one.
    let r = api.sjson(Method::PUT, path, &call_body("UCID-1")).await;
    r.assert_ok();
    assert_eq!(r.content()["code"], "error");
    assert_eq!(r.content()["ticketId"], pid.as_str());
    assert_eq!(app.db(|c| tickets::table.count().get_result::<i64>(c)), 1);

    // A new caller with an e-mail becomes a new customer; epoch-ms times are accepted.
    let mut b = call_body("UCID-2");
    b["endUser"] =
        json!({"phone": "+82 10 9999 0000", "email": "bo@example.com", "username": "Bo"});
    b["ticketCall"]["inoutFlg"] = json!("out");
    b["ticketCall"]["callRingDt"] = json!("1718000000000");
    b["ticketCall"]["callStartDt"] = json!("1718000001000");
    b["ticketCall"]["callEndDt"] = json!("1718000061000");
    let r = api.sjson(Method::PUT, path, &b).await;
    r.assert_ok();
    let n: i64 = app.db(|c| customers::table.count().get_result(c));
    assert_eq!(n, 2);

    // Bad input: the exception shape, nothing written.
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<Change> = vec![
        Box::new(|b| b["subject"] = Value::Null),
        Box::new(|b| b["subject"] = json!("x".repeat(256))),
        Box::new(|b| b["content"] = json!("")),
        Box::new(|b| b["requesterId"] = Value::Null),
        Box::new(|b| b["endUser"] = json!({})),
        Box::new(|b| b["endUser"] = json!({"phone": "call me"})),
        Box::new(|b| b["endUser"] = json!({"phone": "0101234", "email": "x@example.com"})),
        Box::new(|b| b["endUser"] = json!({"phone": "0101234", "email": "nope", "username": "N"})),
        Box::new(|b| b["ticketCall"] = Value::Null),
        Box::new(|b| b["ticketCall"]["inoutFlg"] = json!("sideways")),
        Box::new(|b| b["ticketCall"]["disconnectCd"] = json!("network")),
        Box::new(|b| b["ticketCall"]["ivrPathNo"] = Value::Null),
        Box::new(|b| b["ticketCall"]["callRingKey"] = json!("")),
        Box::new(|b| b["ticketCall"]["callEndDt"] = json!("20240610093000")),
        Box::new(|b| b["ticketCall"]["callStartDt"] = json!("2024-06-10 09:30")),
        Box::new(|b| b["ticketCall"]["callRingDt"] = json!("20240610093020")),
    ];
    for (i, f) in cases.iter().enumerate() {
        let mut b = call_body(&format!("BAD-{i}"));
        f(&mut b);
        let r = api.sjson(Method::PUT, path, &b).await;
        r.assert_failure(400, 400);
        assert_eq!(r.content()["exception"], "OcException", "case {i}");
    }
    let r = api
        .signed_with(
            Method::PUT,
            path,
            Some("application/json"),
            b"[1, 2]",
            &now_ms().to_string(),
            &[],
        )
        .await;
    r.assert_failure(400, 400);
    assert_eq!(app.db(|c| tickets::table.count().get_result::<i64>(c)), 2);

    // Denials: unsigned, the organization key, a disallowed caller. (A GET of the path is
    // the legacy ticket read of a ticket called "call": literal segments win only per method.)
    assert_eq!(api.get(path).await.message(), "Authorization is blank");
    let r = api
        .http
        .put(format!("{}{}", app.base, path))
        .json(&call_body("X"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let org = org_api(&app);
    let as_org = Api {
        service: "demo".into(),
        ..org
    };
    let r = as_org.sjson(Method::PUT, path, &call_body("X")).await;
    assert_eq!(r.message(), "Authorization is incorrect");
    app.db(|c| {
        diesel::insert_into(opencontact::db::schema::api_settings::table)
            .values((
                opencontact::db::schema::api_settings::service_id.eq(sid),
                opencontact::db::schema::api_settings::allowed_ips.eq("203.0.113.0/24"),
                opencontact::db::schema::api_settings::updated_at.eq(opencontact::db::now()),
            ))
            .execute(c)
    });
    let r = api.sjson(Method::PUT, path, &call_body("X")).await;
    r.assert_failure(403, 403);

    // The call on the ticket page.
    let panel = format!("/demo/console/tickets/{pid}/call");
    let admin = app.login("admin").await;
    let r = admin.get(&panel).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.texts("#call-direction"), ["Inbound"]);
    assert_eq!(r.texts("#call-duration"), ["4:05"]);
    let page = admin.get(&format!("/demo/console/tickets/{pid}")).await;
    assert!(page.has(&format!("#call-info[hx-get='{panel}']")));
    let agent = app.create_member("agent", "Agent A", false);
    app.add_to_service(sid, agent, "agent");
    assert_eq!(app.login("agent").await.get(&panel).await.status, 200);
    let other_sid = app.create_service("other");
    let outsider = app.create_member("out", "Outsider", false);
    app.add_to_service(other_sid, outsider, "admin");
    assert_eq!(app.login("out").await.get(&panel).await.status, 403);
    let r = app.client().get(&panel).await;
    assert_eq!(r.status, 303);
    let (_, plain) = app.create_ticket(sid, "Mail ticket", "c@example.com");
    let r = admin
        .get(&format!("/demo/console/tickets/{plain}/call"))
        .await;
    assert!(r.has("#call-none"));
    assert!(
        !admin
            .get(&format!("/demo/console/tickets/{plain}"))
            .await
            .has("#call-info")
    );
}
