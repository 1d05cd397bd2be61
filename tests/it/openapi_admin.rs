//! The signed administration endpoints: legacy tickets (add, solve through the lifecycle,
//! comment, get, lists), ticket attachments, single-level intake types and agents.

use diesel::prelude::*;
use opencontact::db::schema::{mail_outbox, permission_audit, service_members, tickets};
use reqwest::Method;
use serde_json::{Value, json};

use crate::openapi::seed;
use crate::openapi_client::Api;
use crate::support::TestApp;

#[actix_web::test]
async fn legacy_tickets_are_added_answered_and_listed() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let api = Api::enable(&app, s.sid, "demo");
    let att = {
        let r = api
            .upload(
                &api.path("/openapi/v1/attachments/ticket/upload.json"),
                "a.txt",
                b"abc",
            )
            .await;
        r.assert_ok();
        r.content()["attachmentId"].as_str().unwrap().to_string()
    };
    let add = api.path("/openapi/v1/ticket/add.json");
    let body = json!({
        "categoryId": s.payments, "subject": "Cannot log in", "content": "Password reset fails.",
        "endUser": {"usercode": "user-42", "username": "Ann Lee", "email": "ann@example.com"},
        "addition": {"plan": "gold"}, "attachments": [{"attachmentId": att}]
    });
    let r = api.spost(&add, &body).await;
    r.assert_ok();
    let t = r.content().clone();
    assert_eq!(t["serviceId"], "demo");
    assert_eq!(t["status"], "new");
    assert_eq!(t["endUser"]["usercode"], "user-42");
    assert_eq!(t["addition"], "{\"plan\":\"gold\"}");
    assert_eq!(t["attachments"][0]["attachmentId"], att.as_str());
    let id = t["ticketId"].as_str().unwrap().to_string();
    // Missing usercode, unknown category, unknown attachment.
    let mut b = body.clone();
    b["endUser"] = json!({"email": "x@example.com"});
    let r = api.spost(&add, &b).await;
    r.assert_failure(400, 400);
    assert_eq!(r.content()["exception"], "OcException");
    let mut b = body.clone();
    b["categoryId"] = json!(999_999);
    b["attachments"] = json!([]);
    let r = api.spost(&add, &b).await;
    assert_eq!((r.code(), r.status), (9005, 200));
    let mut b = body.clone();
    b["attachments"] = json!([{"attachmentId": att}]);
    assert_eq!(api.spost(&add, &b).await.code(), 9005, "already used");

    let r = api
        .sget(&api.path(&format!("/openapi/v1/ticket/{id}.json")))
        .await;
    r.assert_ok();
    assert_eq!(r.content()["content"], "Password reset fails.");
    api.sget(&api.path("/openapi/v1/ticket/T0000000000000zzzzz.json"))
        .await
        .assert_failure(404, 404);

    // Solve: an answer mail is queued, the status goes through the lifecycle.
    let solve = api.path(&format!(
        "/openapi/v1/ticket/solve.json?id={id}&assigneeName=Ada%20Admin"
    ));
    let r = api
        .spost(&solve, &json!({"comment": "Use the reset link."}))
        .await;
    r.assert_ok();
    assert_eq!(r.content()["status"], "solved");
    assert_eq!(r.content()["assigneeName"], "Ada Admin");
    assert_eq!(r.content()["contents"][0]["type"], "reply");
    let mails: Vec<(String, String)> = app.db(|c| {
        mail_outbox::table
            .filter(mail_outbox::purpose.ne("receipt"))
            .select((mail_outbox::to_addr, mail_outbox::subject))
            .load(c)
    });
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].0, "ann@example.com");
    assert!(mails[0].1.ends_with(&format!("[#{id}]")));
    let r = api.spost(&solve, &json!({})).await;
    r.assert_failure(400, 400);
    let r = api
        .spost(
            &api.path(&format!("/openapi/v1/ticket/solve.json?id={id}&type=bogus")),
            &json!({"comment": "x"}),
        )
        .await;
    r.assert_failure(400, 400);
    // A customer re-inquiry reopens it; closing needs a solved ticket.
    let r = api
        .spost(
            &api.path(&format!("/openapi/v1/ticket/comment.json?id={id}")),
            &json!({"comment": "Still failing."}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.content()["type"], "enduser");
    assert_eq!(r.content()["content"], "Still failing.");
    let closed = api.path(&format!(
        "/openapi/v1/ticket/solve.json?id={id}&type=closed"
    ));
    api.spost(&closed, &json!({}))
        .await
        .assert_failure(400, 400);
    api.spost(&solve, &json!({"comment": "Done now."}))
        .await
        .assert_ok();
    let r = api.spost(&closed, &json!({})).await;
    r.assert_ok();
    assert_eq!(r.content()["status"], "closed");

    // Lists.
    api.spost(
        &add,
        &json!({"subject": "Other", "content": "x", "endUser": {"usercode": "user-7"}}),
    )
    .await
    .assert_ok();
    let r = api
        .sget(&api.path("/openapi/v1/ticket/list.json?pageSize=1"))
        .await;
    r.assert_ok();
    assert_eq!(r.json["result"]["total"], 2);
    assert_eq!(r.contents().len(), 1);
    let r = api
        .sget(&api.path("/openapi/v1/ticket/list.json?usercode=user-42&status=closed"))
        .await;
    assert_eq!(r.json["result"]["total"], 1);
    assert_eq!(r.contents()[0]["addition"], "{\"plan\":\"gold\"}");
    let r = api
        .sget(&api.path("/openapi/v1/ticket/user-7/list.json"))
        .await;
    assert_eq!(r.json["result"]["total"], 1);
    let r = api
        .sget(&api.path(
            "/openapi/v1/ticket/list.json?startDt=20000101000000&endDt=20991231235959&subject=LOG",
        ))
        .await;
    assert_eq!(r.json["result"]["total"], 1);
    api.sget(&api.path("/openapi/v1/ticket/list.json?startDt=yesterday"))
        .await
        .assert_failure(400, 400);

    // Ticket attachments: signed download, delete only while unused.
    let r = api
        .sget(&api.path(&format!(
            "/openapi/v1/attachments/ticket/{att}?type=download"
        )))
        .await;
    assert_eq!(r.bytes, b"abc");
    let r = api
        .sjson(
            Method::DELETE,
            &api.path(&format!("/openapi/v1/attachments/ticket/{att}.json")),
            &json!({}),
        )
        .await;
    r.assert_failure(400, 400);
    let fresh = api
        .upload(
            &api.path("/openapi/v1/attachments/ticket/upload.json"),
            "b.txt",
            b"b",
        )
        .await
        .content()["attachmentId"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .sjson(
            Method::DELETE,
            &api.path(&format!("/openapi/v1/attachments/ticket/{fresh}.json")),
            &json!({}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.content()["attachmentId"], fresh.as_str());
    let n: i64 = app.db(|c| tickets::table.count().get_result(c));
    assert_eq!(n, 2);
}

#[actix_web::test]
async fn intake_types_can_be_managed() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let api = Api::enable(&app, s.sid, "demo");
    let r = api
        .spost(
            &api.path("/openapi/v1/ticket/category/add.json"),
            &json!({"name": "Shipping", "orderNo": 2}),
        )
        .await;
    r.assert_ok();
    let c = r.content().clone();
    assert_eq!(c["name"], "Shipping");
    assert_eq!(c["parent"], 0);
    assert_eq!(c["level"], 1);
    assert_eq!(c["path"], "\\");
    assert_eq!(c["orderNo"], 2);
    let id = c["categoryId"].as_i64().unwrap();
    let r = api
        .spost(
            &api.path("/openapi/v1/ticket/category/add.json"),
            &json!({"name": "shipping"}),
        )
        .await;
    assert_eq!(r.code(), 9007);
    let r = api
        .spost(
            &api.path("/openapi/v1/ticket/category/add.json"),
            &json!({"name": "Bad!name"}),
        )
        .await;
    r.assert_failure(400, 400);
    api.spost(
        &api.path("/openapi/v1/ticket/category/add.json"),
        &json!({}),
    )
    .await
    .assert_failure(400, 400);
    let one = api.path(&format!("/openapi/v1/ticket/category/{id}.json"));
    assert_eq!(api.sget(&one).await.content()["name"], "Shipping");
    let r = api
        .sjson(
            Method::PUT,
            &one,
            &json!({"name": "Delivery_2", "orderNo": 0}),
        )
        .await;
    r.assert_ok();
    assert_eq!(
        r.content(),
        &json!({"categoryId": id, "serviceId": "demo", "name": "Delivery_2", "orderNo": 0})
    );
    let r = api
        .sget(&api.path("/openapi/v1/ticket/category/list.json"))
        .await;
    let names: Vec<String> = r
        .contents()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert!(names.contains(&"Delivery_2".to_string()) && names.contains(&"Payments".to_string()));
    api.sjson(Method::DELETE, &one, &json!({}))
        .await
        .assert_ok();
    api.sget(&one).await.assert_failure(404, 404);
}

#[actix_web::test]
async fn agents_can_be_listed_added_changed_and_removed() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let api = Api::enable(&app, s.sid, "demo");
    let jisoo = app.create_member("jkim", "Jisoo Kim", false);
    let r = api.sget(&api.path("/openapi/v1/users.json")).await;
    r.assert_ok();
    assert_eq!(r.json["result"]["total"], 1);
    let admin = r.contents()[0].clone();
    assert_eq!(admin["usercode"], "admin");
    assert_eq!(admin["role"], "ROLE_FRONT_ADMIN");
    let uuid = admin["uuid"].as_str().unwrap();
    assert_eq!(uuid.len(), 36);
    assert_eq!(&uuid[14..15], "4");

    // The member's UUID: the organization's members are found by it.
    let jisoo_uuid = opencontact::openapi::admin_api::user_uuid(&app.state.secret, jisoo);
    let r = api
        .spost(
            &api.path("/openapi/v1/adduser.json"),
            &json!({"id": jisoo_uuid, "role": "ROLE_FRONT_AGENT"}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.content()["userId"], jisoo);
    assert_eq!(r.content()["username"], "Jisoo Kim");
    let r = api
        .spost(
            &api.path("/openapi/v1/adduser.json"),
            &json!({"id": jisoo_uuid, "role": "ROLE_FRONT_AGENT"}),
        )
        .await;
    assert_eq!(r.code(), 9007);
    let r = api
        .spost(
            &api.path("/openapi/v1/adduser.json"),
            &json!({"id": "6c1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", "role": "ROLE_FRONT_AGENT"}),
        )
        .await;
    assert_eq!(r.code(), 9005);
    api.spost(
        &api.path("/openapi/v1/adduser.json"),
        &json!({"id": jisoo_uuid, "role": "BOSS"}),
    )
    .await
    .assert_failure(400, 400);
    let r = api
        .sget(&api.path("/openapi/v1/users.json?role=ROLE_FRONT_AGENT&name=jis"))
        .await;
    assert_eq!(r.json["result"]["total"], 1);
    let one = api.path(&format!("/openapi/v1/users/{jisoo}.json"));
    assert_eq!(api.sget(&one).await.content()["role"], "ROLE_FRONT_AGENT");
    // Role from the query (C-31).
    let r = api
        .signed_with(
            Method::PUT,
            &format!("{one}?role=ROLE_FRONT_ADMIN"),
            None,
            b"",
            &crate::openapi_client::now_ms().to_string(),
            &[],
        )
        .await;
    r.assert_ok();
    assert_eq!(r.content()["role"], "ROLE_FRONT_ADMIN");
    api.sjson(Method::DELETE, &one, &json!({}))
        .await
        .assert_ok();
    api.sget(&one).await.assert_failure(404, 404);
    // The last administrator stays.
    let admin_path = api.path(&format!("/openapi/v1/users/{}.json", s.admin_id));
    api.sjson(Method::DELETE, &admin_path, &json!({}))
        .await
        .assert_failure(400, 400);
    let members: i64 = app.db(|c| service_members::table.count().get_result(c));
    assert_eq!(members, 1);
    let audits: i64 = app.db(|c| permission_audit::table.count().get_result(c));
    assert_eq!(audits, 3);
    let _ = Value::Null;
}
