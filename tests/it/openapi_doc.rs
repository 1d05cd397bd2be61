//! The API reference: the OpenAPI document lists every endpoint, every listed endpoint is
//! routed (and signed where it says so), and the reference page is for service admins.

use serde_json::Value;

use opencontact::openapi::doc::{Auth, ENDPOINTS};

use crate::openapi_client::Api;
use crate::support::TestApp;

fn concrete(path: &str) -> String {
    path.replace("{serviceId}", "demo")
        .replace("{id}", "1")
        .replace("{categoryId}", "1")
        .replace("{usercode}", "u1")
        .replace("{ticketId}", "T1")
        .replace("{billingId}", "1")
}

#[actix_web::test]
async fn every_documented_endpoint_is_routed_and_signed_as_documented() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let api = Api::enable(&app, fx.service_id, "demo");
    let doc = api.get("/api-docs/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.json["openapi"], "3.0.3");
    let paths = doc.json["paths"].as_object().unwrap();
    for e in ENDPOINTS {
        let op = &paths[e.path][e.method.to_ascii_lowercase()];
        assert!(op.is_object(), "{} {} documented", e.method, e.path);
        let url = format!("{}{}", app.base, concrete(e.path));
        let method = reqwest::Method::from_bytes(e.method.as_bytes()).unwrap();
        let r = api.http.request(method, &url).send().await.unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        let message = body["header"]["resultMessage"]
            .as_str()
            .unwrap_or("")
            .to_string();
        assert_ne!(message, "No such API", "{} {} is routed", e.method, e.path);
        match e.auth {
            Auth::Service | Auth::ServiceUpload | Auth::Org => assert_eq!(
                (status, message.as_str()),
                (400, "Authorization is blank"),
                "{} {} is signed",
                e.method,
                e.path
            ),
            Auth::Member => assert_eq!(status, 400, "{} {}", e.method, e.path),
            // The Dooray! webhook refuses an empty body as malformed JSON (API.md §7.11).
            Auth::None if e.id == "P37" => assert_eq!(
                (status, message.as_str()),
                (400, "Malformed JSON body"),
                "{} {}",
                e.method,
                e.path
            ),
            Auth::None => assert!(
                status == 200 || status == 404,
                "{} {}: {status}",
                e.method,
                e.path
            ),
        }
    }
    let hook = &paths["/{serviceId}/api/v2/dooray/hook"]["post"];
    assert_eq!(hook["operationId"], "P37_post");
    assert!(
        hook["requestBody"]["content"]["application/json"]["schema"]["properties"]["tenant"]
            .is_object()
    );
    assert!(hook["responses"]["403"].is_object());
    // The organization family and the phone-call registration, with their bodies; the
    // customer-hosted customer-info API is described beside the paths.
    let add = &paths["/openapi/v1/admin/service/add.json"]["post"];
    assert_eq!(
        add["security"][0]["organizationSignature"],
        Value::Array(vec![])
    );
    assert_eq!(
        add["requestBody"]["content"]["application/json"]["schema"]["required"][0],
        "serviceId"
    );
    assert!(paths["/openapi/v1/admin/billing/update/{billingId}.json"]["put"].is_object());
    let call = &paths["/{serviceId}/openapi/v1/ticket/call.json"]["put"];
    assert_eq!(
        call["security"][0]["serviceSignature"],
        Value::Array(vec![])
    );
    assert!(
        call["requestBody"]["content"]["application/json"]["schema"]["properties"]["ticketCall"]
            .is_object()
    );
    assert!(doc.json["components"]["securitySchemes"]["organizationSignature"].is_object());
    assert!(
        doc.json["x-customer-info-api"]["description"]
            .as_str()
            .unwrap()
            .contains("HMAC-SHA256(encryptionKey, rawBody + X-TC-Timestamp)")
    );
    for id in [
        "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9", "L10", "L11", "L12", "L13", "L15",
    ] {
        assert!(ENDPOINTS.iter().any(|e| e.id == id), "{id} listed");
    }
    let r = api.get("/demo/openapi/v1/nothing.json").await;
    r.assert_failure(404, 404);
    assert_eq!(r.message(), "No such API");
}

#[actix_web::test]
async fn the_reference_page_is_for_service_admins() {
    let app = TestApp::spawn().await;
    let fx = app.setup();
    let admin = app.login("admin").await;
    let page = admin.get("/demo/console/settings/authentication/api").await;
    assert_eq!(page.status, 200);
    assert!(
        page.texts("table.api-endpoints code")
            .iter()
            .any(|p| p == "/demo/openapi/v1/ticket.json")
    );
    assert!(page.has("a#openapi-json"));
    assert!(page.has("#doc-customer-info") && page.has("#doc-org-signing"));
    assert!(
        page.texts("table.api-endpoints code")
            .iter()
            .any(|p| p == "/openapi/v1/admin/service/add.json")
    );
    let agent = app.create_member("agent", "Agent A", false);
    app.add_to_service(fx.service_id, agent, "agent");
    let a = app.login("agent").await;
    assert_eq!(
        a.get("/demo/console/settings/authentication/api")
            .await
            .status,
        403
    );
    assert_eq!(
        app.client()
            .get("/demo/console/settings/authentication/api")
            .await
            .status,
        303
    );
}
