//! Signed administration of help-center content: FAQ documents, flags and attachments, FAQ
//! categories by ID or code, notices with tags and headings, notice templates.

use reqwest::Method;
use serde_json::json;

use crate::openapi::seed;
use crate::openapi_client::Api;
use crate::support::TestApp;

#[actix_web::test]
async fn faq_documents_and_categories_can_be_managed() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let api = Api::enable(&app, s.sid, "demo");

    // Categories: create with a code, read by code, duplicates and missing parents.
    let r = api
        .spost(
            &api.path("/openapi/v1/helpdoc/category.json"),
            &json!({"languages": {"en": "Billing"}, "categoryCode": "BILL", "orderNo": 3}),
        )
        .await;
    r.assert_ok();
    let bill = r.content()["categoryId"].as_i64().unwrap();
    assert_eq!(r.content()["categoryCode"], "BILL");
    assert_eq!(r.content()["level"], 1);
    let r = api
        .spost(
            &api.path("/openapi/v1/helpdoc/category.json"),
            &json!({"name": "Invoices", "parent": bill}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.content()["path"], format!("\\{bill}\\"));
    let r = api
        .sget(&api.path("/openapi/v2/helpdoc/category/BILL.json"))
        .await;
    assert_eq!(r.content()["categoryId"], bill);
    let r = api
        .spost(
            &api.path("/openapi/v1/helpdoc/category.json"),
            &json!({"name": "billing"}),
        )
        .await;
    assert_eq!(r.code(), 9007);
    let r = api
        .spost(
            &api.path("/openapi/v1/helpdoc/category.json"),
            &json!({"name": "X", "parent": 999999}),
        )
        .await;
    assert_eq!(r.code(), 9005);
    let r = api
        .spost(
            &api.path("/openapi/v1/helpdoc/category.json"),
            &json!({"name": "a/b"}),
        )
        .await;
    r.assert_failure(400, 400);
    let r = api
        .sget(&api.path(&format!(
            "/openapi/v1/helpdoc/categories.json?parent={bill}"
        )))
        .await;
    assert_eq!(r.contents().len(), 1);
    let r = api
        .sjson(
            Method::PUT,
            &api.path("/openapi/v1/helpdoc/category/BILL.json"),
            &json!({"name": "Payments"}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.content()["name"], "Payments");
    api.sjson(
        Method::DELETE,
        &api.path("/openapi/v1/helpdoc/category/BILL.json"),
        &json!({}),
    )
    .await
    .assert_failure(400, 400);

    // Documents with an uploaded attachment.
    let up = api
        .upload(
            &api.path("/openapi/v1/attachments/help/upload.json"),
            "guide.pdf",
            b"%PDF-1.4 x",
        )
        .await;
    up.assert_ok();
    let att = up.content()["attachmentId"].as_str().unwrap().to_string();
    assert!(up.content().get("disposition").is_none());
    let body = json!({
        "categoryId": bill.to_string(), "status": "O", "isRecommend": false, "isTop": true,
        "contents": {"en": {"title": "How to pay", "content": "<p>Card <script>x</script>or bank.</p>",
                             "attachments": [{"attachmentId": att}]}}
    });
    let r = api
        .spost(&api.path("/openapi/v1/helpdoc.json"), &body)
        .await;
    r.assert_ok();
    let c = r.content().clone();
    let id = c["helpDocId"].as_i64().unwrap();
    assert_eq!(c["status"], "O");
    assert_eq!(c["isTop"], true);
    assert_eq!(c["isRecommend"], true, "top implies recommend");
    assert_eq!(c["content"], "<p>Card or bank.</p>");
    assert_eq!(c["attachmentYn"], "Y");
    assert_eq!(c["attachments"][0]["attachmentId"], att.as_str());
    assert_eq!(c["username"], "Ada Admin");
    assert_eq!(c["categories"][0]["categoryId"], bill);
    // The public family now shows it, with its attachment.
    let r = api
        .get(&api.path(&format!("/api/v2/helpdoc/detail/{id}.json")))
        .await;
    assert_eq!(r.content()["attachments"][0]["attachmentId"], att.as_str());
    let dl = api
        .get(&api.path(&format!("/api/v2/helpdoc/attachments/{att}")))
        .await;
    assert_eq!(dl.bytes, b"%PDF-1.4 x");
    // Bad bodies.
    let mut b = body.clone();
    b["categoryId"] = json!(999999);
    b["contents"]["en"]["attachments"] = json!([]);
    assert_eq!(
        api.spost(&api.path("/openapi/v1/helpdoc.json"), &b)
            .await
            .code(),
        9005
    );
    let mut b = body.clone();
    b["status"] = json!("X");
    api.spost(&api.path("/openapi/v1/helpdoc.json"), &b)
        .await
        .assert_failure(400, 400);
    let mut b = body.clone();
    b["contents"] = json!({"en": {"title": "", "content": ""}});
    let r = api.spost(&api.path("/openapi/v1/helpdoc.json"), &b).await;
    r.assert_failure(400, 400);
    assert_eq!(r.content()["exception"], "OcException");
    let mut b = body.clone();
    b["contents"] = json!({"fr": {"title": "x", "content": "y"}});
    api.spost(&api.path("/openapi/v1/helpdoc.json"), &b)
        .await
        .assert_failure(400, 400);
    // Update with the flat default-language fields.
    let one = api.path(&format!("/openapi/v1/helpdoc/{id}.json"));
    let r = api
        .sjson(
            Method::PUT,
            &one,
            &json!({"categoryId": bill, "status": "D", "isRecommend": false, "isTop": false,
                    "title": "How to pay (draft)", "content": "Plain text"}),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.content()["status"], "D");
    assert_eq!(r.content()["title"], "How to pay (draft)");
    // Flags, close, list, delete.
    let r = api
        .signed_with(
            Method::PUT,
            &format!(
                "{}?recommend=true",
                api.path(&format!("/openapi/v1/helpdoc/{id}/recommend.json"))
            ),
            None,
            b"",
            &crate::openapi_client::now_ms().to_string(),
            &[],
        )
        .await;
    r.assert_ok();
    api.sjson(
        Method::PUT,
        &api.path(&format!("/openapi/v1/helpdoc/{id}/top.json")),
        &json!({"top": true}),
    )
    .await
    .assert_ok();
    api.sjson(
        Method::PUT,
        &api.path(&format!("/openapi/v1/helpdoc/{id}/top.json")),
        &json!({}),
    )
    .await
    .assert_failure(400, 400);
    let r = api.sget(&one).await;
    assert_eq!(
        (
            r.content()["isTop"].clone(),
            r.content()["isRecommend"].clone()
        ),
        (json!(true), json!(true))
    );
    let r = api
        .sget(&api.path("/openapi/v1/helpdoc.json?status=D&top=true"))
        .await;
    assert_eq!(r.json["result"]["total"], 1);
    assert_eq!(r.contents()[0]["helpDocId"], id);
    api.sjson(
        Method::PUT,
        &api.path(&format!("/openapi/v1/helpdoc/{id}/close.json")),
        &json!({}),
    )
    .await
    .assert_ok();
    let r = api
        .sget(&api.path(&format!(
            "/openapi/v1/helpdoc.json?category={}",
            s.faq_account
        )))
        .await;
    assert_eq!(r.json["result"]["total"], 2, "descendants of Account");
    api.sjson(
        Method::DELETE,
        &api.path(&format!("/openapi/v1/attachments/help/{att}.json")),
        &json!({}),
    )
    .await
    .assert_ok();
    assert_eq!(api.sget(&one).await.content()["attachmentYn"], "N");
    api.sjson(Method::DELETE, &one, &json!({}))
        .await
        .assert_ok();
    api.sget(&one).await.assert_failure(404, 404);
}

#[actix_web::test]
async fn notices_templates_tags_and_headings_can_be_managed() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let api = Api::enable(&app, s.sid, "demo");

    // Tags and headings with codes.
    let r = api
        .spost(
            &api.path("/openapi/v1/notice/tag.json"),
            &json!({"tag": "Billing", "tagCode": "T-BILL"}),
        )
        .await;
    r.assert_ok();
    let tag = r.content()["tagId"].as_i64().unwrap();
    assert_eq!(r.content()["languages"], json!({"en": "Billing"}));
    assert_eq!(
        api.spost(
            &api.path("/openapi/v1/notice/tag.json"),
            &json!({"tag": "billing"})
        )
        .await
        .code(),
        9007
    );
    assert_eq!(
        api.sget(&api.path("/openapi/v1/notice/tag/T-BILL.json"))
            .await
            .content()["tagId"],
        tag
    );
    let r = api
        .sjson(
            Method::PUT,
            &api.path(&format!("/openapi/v1/notice/tag/{tag}.json")),
            &json!({"names": {"en": "Invoices"}}),
        )
        .await;
    assert_eq!(r.content()["tag"], "Invoices");
    let r = api
        .sget(&api.path("/openapi/v1/notice/tags.json?tag=inv"))
        .await;
    assert_eq!(r.contents().len(), 1);
    let r = api
        .spost(
            &api.path("/openapi/v1/notice/category.json"),
            &json!({"name": "Events", "categoryCode": "EV", "orderNo": 5}),
        )
        .await;
    r.assert_ok();
    let heading = r.content()["categoryId"].as_i64().unwrap();
    assert_eq!(r.content()["orderNo"], 5);
    let r = api
        .spost(
            &api.path("/openapi/v1/notice/category/EV.json"),
            &json!({"name": "Happenings"}),
        )
        .await;
    assert_eq!(r.content()["name"], "Happenings");
    let r = api
        .sget(&api.path("/openapi/v2/notice/categories.json"))
        .await;
    assert_eq!(r.contents().len(), 2);
    api.sjson(
        Method::DELETE,
        &api.path(&format!("/openapi/v1/notice/category/{}.json", s.heading)),
        &json!({}),
    )
    .await
    .assert_failure(400, 400);

    // Notices.
    let body = json!({
        "status": "O", "categoryId": heading, "isTop": false,
        "contents": {"en": {"title": "Summer sale", "content": "<p>20% off</p>"}},
        "startDt": "20240601000000", "endDt": "", "tags": [{"tagId": tag}]
    });
    let r = api
        .spost(&api.path("/openapi/v1/multilanguage/notice.json"), &body)
        .await;
    r.assert_ok();
    let n = r.content().clone();
    let nid = n["noticeId"].as_i64().unwrap();
    assert_eq!(n["term"], "open");
    assert_eq!(n["startDt"], "20240601000000");
    assert_eq!(n["endDt"], "");
    assert_eq!(n["displayDt"], "20240601000000");
    assert_eq!(n["tags"][0]["tagId"], tag);
    assert_eq!(n["category"]["categoryId"], heading);
    let mut b = body.clone();
    b["tags"] = json!([{"tagId": 999999}]);
    assert_eq!(
        api.spost(&api.path("/openapi/v1/multilanguage/notice.json"), &b)
            .await
            .code(),
        9005
    );
    let mut b = body.clone();
    b["startDt"] = json!("2024-06-01");
    api.spost(&api.path("/openapi/v1/multilanguage/notice.json"), &b)
        .await
        .assert_failure(400, 400);
    let mut b = body.clone();
    b["startDt"] = json!("20990101000000");
    b["endDt"] = json!("20990201000000");
    let r = api
        .spost(&api.path("/openapi/v1/multilanguage/notice.json"), &b)
        .await;
    assert_eq!(r.content()["term"], "reservation");
    let future = r.content()["noticeId"].as_i64().unwrap();
    let r = api
        .sget(&api.path("/openapi/v1/multilanguage/notice.json?term=reservation"))
        .await;
    assert_eq!(r.json["result"]["total"], 1);
    assert_eq!(r.contents()[0]["noticeId"], future);
    let r = api
        .sget(&api.path(&format!(
            "/openapi/v1/multilanguage/notice.json?tag={tag}&status=O"
        )))
        .await;
    assert_eq!(r.json["result"]["total"], 2);
    let r = api
        .sget(&api.path(&format!(
            "/openapi/v1/multilanguage/notices.json?id={future},999999,{nid}"
        )))
        .await;
    let ids: Vec<i64> = r
        .contents()
        .iter()
        .map(|c| c["noticeId"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![future, nid]);
    let one = api.path(&format!("/openapi/v1/multilanguage/notice/{nid}.json"));
    let mut b = body.clone();
    b["isTop"] = json!(true);
    b["status"] = json!("D");
    let r = api.sjson(Method::PUT, &one, &b).await;
    assert_eq!(
        (r.content()["isTop"].clone(), r.content()["status"].clone()),
        (json!(true), json!("D"))
    );
    api.sjson(Method::DELETE, &one, &json!({}))
        .await
        .assert_ok();
    api.sget(&one).await.assert_failure(404, 404);

    // Templates.
    let t = json!({"status": "O", "categoryId": heading, "subject": "Maintenance notice",
                   "memo": "Use for planned work", "tags": [{"tagId": tag}],
                   "contents": {"en": {"title": "Maintenance on {date}", "content": "<p>We pause.</p>"}}});
    let r = api
        .spost(
            &api.path("/openapi/v1/multilanguage/notice/template.json"),
            &t,
        )
        .await;
    r.assert_ok();
    let tid = r.content()["noticeId"].as_i64().unwrap();
    assert_eq!(r.content()["subject"], "Maintenance notice");
    assert_eq!(r.content()["memo"], "Use for planned work");
    assert_eq!(
        r.content()["contents"]["en"]["title"],
        "Maintenance on {date}"
    );
    let mut bad = t.clone();
    bad.as_object_mut().unwrap().remove("memo");
    api.spost(
        &api.path("/openapi/v1/multilanguage/notice/template.json"),
        &bad,
    )
    .await
    .assert_failure(400, 400);
    let r = api
        .sget(&api.path("/openapi/v1/multilanguage/notice/template.json?keyword=maint&status=O"))
        .await;
    assert_eq!(r.json["result"]["total"], 1);
    let tone = api.path(&format!(
        "/openapi/v1/multilanguage/notice/template/{tid}.json"
    ));
    let mut t2 = t.clone();
    t2["status"] = json!("C");
    let r = api.sjson(Method::PUT, &tone, &t2).await;
    assert_eq!(r.content()["status"], "C");
    api.sjson(Method::DELETE, &tone, &json!({}))
        .await
        .assert_ok();
    api.sget(&tone).await.assert_failure(404, 404);
    api.sjson(
        Method::DELETE,
        &api.path(&format!("/openapi/v1/notice/tag/{tag}.json")),
        &json!({}),
    )
    .await
    .assert_ok();
}
