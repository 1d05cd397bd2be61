//! The Open API contract suite: every request is built and signed by `openapi_client` from
//! API.md alone. It checks the worked vectors, the gates and their codes, the public `api/v2`
//! family, uploads, ticket creation with the validation list, member tickets, follow-ups,
//! addition data, repeat-inquiry blocking, and the "done when" script.

use diesel::prelude::*;
use opencontact::categories::model::{NamesInput, add_node};
use opencontact::db::schema::{api_files, customers, services, ticket_attachments, tickets};
use opencontact::db::types::CategoryTree;
use opencontact::fields::layout::{LayoutScope, layout_of, save_layout};
use opencontact::fields::model::{
    AgentPermission, Audience, Control, FieldInput, FieldOption, Texts, create_field,
};
use opencontact::help_center::content::{DocStatus, LangContent};
use opencontact::help_center::{faq, notices};
use opencontact::i18n::Lang;
use opencontact::tenancy::service::Service;
use reqwest::Method;
use serde_json::{Value, json};

use crate::openapi_client::{Answer, Api, canonical, now_ms, signature};
use crate::support::TestApp;

/// What [`seed`] created.
pub struct Seed {
    pub sid: i64,
    pub admin_id: i64,
    pub payments: i64,
    pub refunds: i64,
    pub faq_account: i64,
    pub faq_password: i64,
    pub faq_doc: i64,
    pub heading: i64,
    pub tag: i64,
    pub notice: i64,
    pub order_field: i64,
}

fn texts(en: &str) -> Texts {
    let mut t = Texts::default();
    t.set(Lang::En, en);
    t
}

fn content(title: &str, body: &str) -> Vec<LangContent> {
    vec![LangContent {
        lang: "en".into(),
        lang_name: "English".into(),
        title: title.into(),
        body: body.into(),
    }]
}

fn names(en: &str) -> NamesInput {
    NamesInput {
        names: vec![(Lang::En, en.to_string())],
    }
}

/// Intake types Payments > Refunds, custom fields `orderNumber` (required text, 20) and
/// `device` (dropdown) on the default layout, FAQ Account > Password with one document, a
/// heading, a tag and a pinned notice.
pub fn seed(app: &TestApp) -> Seed {
    let fx = app.setup();
    let (sid, admin_id) = (fx.service_id, fx.admin_id);
    app.state
        .db
        .write_blocking(move |c| {
            let service: Service = services::table
                .find(sid)
                .select(Service::as_select())
                .first(c)?;
            let add = |c: &mut _, tree, parent, name: &str| {
                add_node(c, &service, tree, parent, &names(name))
                    .map(|r| r.expect("valid category"))
            };
            let payments = add(c, CategoryTree::Intake, None, "Payments")?;
            let refunds = add(c, CategoryTree::Intake, Some(payments), "Refunds")?;
            let faq_account = add(c, CategoryTree::Faq, None, "Account")?;
            let faq_password = add(c, CategoryTree::Faq, Some(faq_account), "Password")?;
            let field =
                |code: &str, label: &str, max: i32, req: bool, options: Vec<&str>| FieldInput {
                    code: code.into(),
                    labels: texts(label),
                    help: Texts::default(),
                    placeholders: texts("e.g. A-1001"),
                    max_length: max,
                    options: options
                        .into_iter()
                        .map(|o| FieldOption {
                            value: o.into(),
                            labels: Texts::default(),
                        })
                        .collect(),
                    default_value: String::new(),
                    required: req,
                    personal: false,
                    visible: true,
                    agent_permission: AgentPermission::Agent,
                };
            let order_field = create_field(
                c,
                sid,
                Audience::Customer,
                Control::Text,
                &field("orderNumber", "Order number", 20, true, vec![]),
            )?;
            let device = create_field(
                c,
                sid,
                Audience::Customer,
                Control::Dropdown,
                &field("device", "Device", 0, false, vec!["iOS", "Android", "PC"]),
            )?;
            let layout = layout_of(c, sid, LayoutScope::Default)?.expect("layout");
            let mut ids = layout.middle.clone();
            ids.extend([order_field, device]);
            save_layout(c, sid, LayoutScope::Default, &layout, &ids)?;
            let faq_doc = faq::create(
                c,
                sid,
                admin_id,
                &faq::FaqInput {
                    category_id: Some(faq_password),
                    pin_main: false,
                    pin_category: true,
                    contents: content(
                        "How do I reset my password?",
                        "<p>Use the <b>reset</b> link.</p>",
                    ),
                },
                DocStatus::Published,
            )?;
            faq::create(
                c,
                sid,
                admin_id,
                &faq::FaqInput {
                    category_id: Some(faq_account),
                    pin_main: false,
                    pin_category: false,
                    contents: content("Draft", "<p>secret</p>"),
                },
                DocStatus::Draft,
            )?;
            let mut n = opencontact::common::names::Names::new();
            n.insert("en".into(), "Maintenance".into());
            let heading = notices::create_heading(c, sid, &n)?;
            let mut tn = opencontact::common::names::Names::new();
            tn.insert("en".into(), "Outage".into());
            let tag = notices::create_tag(c, sid, &tn)?;
            let notice = notices::create(
                c,
                sid,
                admin_id,
                &notices::NoticeInput {
                    heading_id: heading,
                    tag_ids: vec![tag],
                    pinned: true,
                    display_date: "2024-06-10".into(),
                    starts_at: None,
                    ends_at: None,
                    contents: content(
                        "Scheduled maintenance",
                        "<p>Service pauses 02:00-04:00.</p>",
                    ),
                },
                DocStatus::Published,
            )?;
            notices::create(
                c,
                sid,
                admin_id,
                &notices::NoticeInput {
                    heading_id: heading,
                    tag_ids: vec![],
                    pinned: false,
                    display_date: "2024-06-11".into(),
                    starts_at: None,
                    ends_at: None,
                    contents: content("Unpublished", "<p>x</p>"),
                },
                DocStatus::Draft,
            )?;
            Ok(Seed {
                sid,
                admin_id,
                payments,
                refunds,
                faq_account,
                faq_password,
                faq_doc,
                heading,
                tag,
                notice,
                order_field,
            })
        })
        .expect("seed")
}

fn ticket_count(app: &TestApp) -> i64 {
    app.db(|c| tickets::table.count().get_result(c))
}

#[actix_web::test]
async fn the_test_client_reproduces_the_worked_vectors() {
    let org = "Xq7Lm2Pz9Rt4Vw1K";
    let key = "5f2b9c0e7a1d4e3f8b6a2c9d0e1f3a4b";
    let ts = "1700000000000";
    let a = canonical(
        org,
        "/acme/openapi/v1/ticket/enduser/user-42/list.json?status=open&categoryId=12&language=en",
        b"",
        ts,
    );
    assert_eq!(
        signature(key, &a),
        "Dok1CcGJCmObzvlSiEovYQH90O+5v1T9vvpfO+C3448="
    );
    let f = canonical(
        org,
        "/acme/openapi/v1/ticket/enduser/user-42/T1700000000000AbCdE/comment.json?attachments=a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "{\"comment\":\"추가 문의입니다\"}".as_bytes(),
        ts,
    );
    assert_eq!(
        signature(key, &f),
        "I82jauB/NCmIQxmxBRgOLDQC+SrdaKmIzK/eDyt1iP0="
    );
    let e = canonical(org, "/acme/openapi/v1/mail.json", b"", ts);
    assert_eq!(
        signature(key, &e),
        "YFiJTAzr7JTFEMvII4rsr5KfuuBCMtnz9K4qPU4bUsA="
    );
}

#[actix_web::test]
async fn gates_and_signature_failures_answer_with_their_documented_codes() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    // Before the Open API is on: 403 securityKey is null.
    let mut api = Api::enable(&app, s.sid, "demo");
    app.db(|c| {
        diesel::update(services::table.find(s.sid))
            .set(services::open_api_enabled.eq(false))
            .execute(c)
    });
    let list = api.path("/openapi/v1/ticket/enduser/u1/list.json");
    let r = api.sget(&list).await;
    r.assert_failure(403, 403);
    assert_eq!(r.message(), "securityKey is null");
    assert_eq!(r.json["result"], Value::Null);
    app.db(|c| {
        diesel::update(services::table.find(s.sid))
            .set(services::open_api_enabled.eq(true))
            .execute(c)
    });
    api.sget(&list).await.assert_ok();

    // Unknown service: 404 envelope.
    let r = api
        .sget("/nosuch/openapi/v1/ticket/enduser/u1/list.json")
        .await;
    r.assert_failure(404, 404);

    // Blank Authorization, non-numeric and expired timestamps.
    let url = format!("{}{}", api.base, list);
    let raw = |auth: Option<&str>, ts: Option<&str>| {
        let mut b = api.http.get(&url);
        if let Some(a) = auth {
            b = b.header("Authorization", a);
        }
        if let Some(t) = ts {
            b = b.header("X-TC-Timestamp", t);
        }
        b
    };
    let read = |resp: reqwest::Response| async move {
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let json: Value = resp.json().await.unwrap_or(Value::Null);
        (status, ct, json)
    };
    let (st, ct, j) = read(raw(None, Some(&now_ms().to_string())).send().await.unwrap()).await;
    assert_eq!((st, j["header"]["resultCode"].as_i64()), (400, Some(400)));
    assert_eq!(j["header"]["resultMessage"], "Authorization is blank");
    assert_eq!(ct, "application/json;charset=UTF-8");
    let (_, _, j) = read(raw(Some("x"), Some("12ab")).send().await.unwrap()).await;
    assert_eq!(
        j["header"]["resultMessage"],
        "X-TC-Timestamp is not numeric"
    );
    let (_, _, j) = read(raw(Some("x"), None).send().await.unwrap()).await;
    assert_eq!(
        j["header"]["resultMessage"],
        "X-TC-Timestamp is not numeric"
    );
    let old = (now_ms() - 301_000).to_string();
    let r = api
        .signed_with(Method::GET, &list, None, b"", &old, &[])
        .await;
    r.assert_failure(400, 400);
    assert_eq!(r.message(), "X-TC-Timestamp is expired");
    let future = (now_ms() + 301_000).to_string();
    let r = api
        .signed_with(Method::GET, &list, None, b"", &future, &[])
        .await;
    assert_eq!(r.message(), "X-TC-Timestamp is expired");
    // A timestamp within the window in either direction is fine.
    let r = api
        .signed_with(
            Method::GET,
            &list,
            None,
            b"",
            &(now_ms() + 200_000).to_string(),
            &[],
        )
        .await;
    r.assert_ok();

    // Wrong signature, wrong key, tampered query.
    let ts = now_ms().to_string();
    let (_, _, j) = read(raw(Some("AAAA"), Some(&ts)).send().await.unwrap()).await;
    assert_eq!(j["header"]["resultMessage"], "Authorization is incorrect");
    let good = signature(&api.key, &canonical(&api.org, &list, b"", &ts));
    let tampered = format!("{}{}?status=open", api.base, list);
    let resp = api
        .http
        .get(tampered)
        .header("Authorization", &good)
        .header("X-TC-Timestamp", &ts)
        .send()
        .await
        .unwrap();
    let (st, _, j) = read(resp).await;
    assert_eq!(
        (st, j["header"]["resultMessage"].as_str()),
        (400, Some("Authorization is incorrect"))
    );
    // Replay of an accepted request inside the window.
    let first = api
        .http
        .get(&url)
        .header("Authorization", &good)
        .header("X-TC-Timestamp", &ts);
    let (st, _, j) = read(first.send().await.unwrap()).await;
    assert_eq!((st, j["header"]["resultCode"].as_i64()), (200, Some(200)));
    let again = api
        .http
        .get(&url)
        .header("Authorization", &good)
        .header("X-TC-Timestamp", &ts);
    let (st, _, j) = read(again.send().await.unwrap()).await;
    assert_eq!((st, j["header"]["resultCode"].as_i64()), (400, Some(400)));

    // Multipart without the file part.
    let form = reqwest::multipart::Form::new().text("other", "x");
    let resp = api
        .http
        .post(format!(
            "{}{}",
            api.base,
            api.path("/openapi/v1/ticket/attachments/upload.json")
        ))
        .header("Authorization", "x")
        .header("X-TC-Timestamp", now_ms().to_string())
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (st, _, j) = read(resp).await;
    assert_eq!(st, 400);
    assert_eq!(
        j["header"]["resultMessage"],
        "Multipart request but file is null"
    );

    // Malformed JSON on a signed POST.
    let r = api
        .signed_with(
            Method::POST,
            &api.path("/openapi/v1/ticket.json"),
            Some("application/json"),
            b"{\"categoryId\": ",
            &now_ms().to_string(),
            &[],
        )
        .await;
    r.assert_failure(400, 400);

    // Allowed IPs: the test client (127.0.0.1) is refused when not listed, allowed when it is.
    app.db(|c| {
        diesel::insert_into(opencontact::db::schema::api_settings::table)
            .values((
                opencontact::db::schema::api_settings::service_id.eq(s.sid),
                opencontact::db::schema::api_settings::allowed_ips.eq("203.0.113.0/24"),
                opencontact::db::schema::api_settings::updated_at.eq(opencontact::db::now()),
            ))
            .execute(c)
    });
    let r = api.sget(&list).await;
    r.assert_failure(403, 403);
    assert_eq!(r.message(), "clientIp is not allowed");
    // The public family is not gated.
    api.get(&api.path("/api/v2/service.json")).await.assert_ok();
    app.db(|c| {
        diesel::update(opencontact::db::schema::api_settings::table)
            .set(
                opencontact::db::schema::api_settings::allowed_ips
                    .eq("203.0.113.0/24\n127.0.0.0/8"),
            )
            .execute(c)
    });
    api.sget(&list).await.assert_ok();

    // A regenerated key makes the old one fail at once.
    let secret = app.state.secret.clone();
    let new_key = app
        .state
        .db
        .write_blocking(move |c| {
            Ok(opencontact::openapi::settings::regenerate_key(
                c, &secret, s.sid,
            )?)
        })
        .unwrap();
    let r = api.sget(&list).await;
    assert_eq!(r.message(), "Authorization is incorrect");
    api.key = new_key;
    api.sget(&list).await.assert_ok();

    // Unknown paths of the families answer with the envelope.
    api.get(&api.path("/api/v2/nothing.json"))
        .await
        .assert_failure(404, 404);
    // Signature headers on the public family are ignored.
    let r = api
        .signed_with(
            Method::GET,
            &api.path("/api/v2/service.json"),
            None,
            b"",
            "garbage",
            &[],
        )
        .await;
    r.assert_ok();
}

#[actix_web::test]
async fn the_public_family_serves_help_center_data() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let api = Api::enable(&app, s.sid, "demo");

    let r = api.get(&api.path("/api/v2/service.json")).await;
    r.assert_ok();
    assert_eq!(r.content()["serviceId"], "demo");
    assert_eq!(r.content()["name"], "Demo Support");
    assert_eq!(r.content()["language"], "en");
    assert_eq!(
        r.content()["languages"][0],
        json!({"code": "en", "name": "English", "orderNo": 0})
    );
    assert_eq!(r.content()["multiLanguage"], false);
    assert!(r.content()["profile"].is_object());
    api.get("/nosuch/api/v2/service.json")
        .await
        .assert_failure(404, 404);

    // Notices.
    let r = api.get(&api.path("/api/v2/notice/categories.json")).await;
    r.assert_ok();
    assert_eq!(
        r.contents()[0],
        json!({"categoryId": s.heading, "parent": 0, "name": "Maintenance", "level": 1,
               "path": "\\", "orderNo": 0, "languages": {"en": "Maintenance"}})
    );
    let r = api.get(&api.path("/api/v2/notice/tags.json")).await;
    assert_eq!(
        r.contents()[0],
        json!({"tagId": s.tag, "tag": "Outage", "languages": {"en": "Outage"}})
    );
    let r = api
        .get(&api.path("/api/v2/notice/tags.json?language=out"))
        .await;
    assert_eq!(r.contents().len(), 1, "keyword filter (C-3)");
    let r = api.get(&api.path("/api/v2/notice/tags.json?tag=zzz")).await;
    assert!(r.contents().is_empty());
    let r = api
        .get(&api.path("/api/v2/notice/list.json?pageSize=500"))
        .await;
    r.assert_ok();
    assert_eq!(r.json["result"]["total"], 1, "drafts are not listed");
    assert_eq!(r.json["result"]["pages"], 1);
    assert_eq!(r.json["result"]["pageNum"], 1);
    assert_eq!(r.json["result"]["pageSize"], 200, "clamped");
    let n = &r.contents()[0];
    assert_eq!(n["noticeId"], s.notice);
    assert_eq!(n["isTop"], true);
    assert_eq!(n["content"], "Service pauses 02:00-04:00.");
    assert_eq!(n["displayDt"], "2024.06.10");
    assert_eq!(n["categoryName"], "Maintenance");
    assert_eq!(n["tagStr"], "Outage");
    assert_eq!(n["isNew"], false);
    assert!(n["updatedDt"].is_i64());
    let r = api.get(&api.path("/api/v2/notice/list.json?page=5")).await;
    assert!(r.contents().is_empty());
    assert_eq!(r.json["result"]["total"], 1);
    let r = api
        .get(&api.path(&format!(
            "/api/v2/notice/list.json?tagId={}&query=maintenance",
            s.tag
        )))
        .await;
    assert_eq!(r.json["result"]["total"], 1);
    let r = api
        .get(&api.path("/api/v2/notice/list.json?categoryId=999999"))
        .await;
    assert_eq!(r.json["result"]["total"], 0);
    assert_eq!(r.json["result"]["pages"], 0);
    api.get(&api.path("/api/v2/notice/list.json?page=x"))
        .await
        .assert_failure(400, 400);
    let r = api
        .get(&api.path(&format!("/api/v2/notice/detail/{}.json", s.notice)))
        .await;
    r.assert_ok();
    assert_eq!(r.content()["content"], "<p>Service pauses 02:00-04:00.</p>");
    assert_eq!(r.content()["readCnt"], 1);
    assert_eq!(r.content()["attachmentYn"], "N");
    assert_eq!(
        r.content()["tags"],
        json!([{"tagId": s.tag, "tag": "Outage"}])
    );
    let r = api
        .get(&api.path(&format!("/api/v2/notice/detail/{}.json", s.notice)))
        .await;
    assert_eq!(r.content()["readCnt"], 2);
    api.get(&api.path(&format!("/api/v2/notice/detail/{}.json", s.notice + 1)))
        .await
        .assert_failure(404, 404);

    // FAQ.
    let r = api.get(&api.path("/api/v2/helpdoc/categories.json")).await;
    let cats = r.contents();
    assert_eq!(cats.len(), 2);
    let pw = cats
        .iter()
        .find(|c| c["categoryId"] == s.faq_password)
        .unwrap();
    assert_eq!(pw["parent"], s.faq_account);
    assert_eq!(pw["level"], 2);
    assert_eq!(pw["path"], format!("\\{}\\", s.faq_account));
    let r = api
        .get(&api.path(&format!(
            "/api/v2/helpdoc/list.json?categoryId={}",
            s.faq_account
        )))
        .await;
    assert_eq!(
        r.json["result"]["total"], 1,
        "descendants included, drafts not"
    );
    let item = &r.contents()[0];
    assert_eq!(item["helpDocId"], s.faq_doc);
    assert_eq!(item["content"], "Use the reset link.");
    assert_eq!(item["isRecommend"], true);
    assert_eq!(item["readCnt"], Value::Null);
    assert_eq!(item["categoryName"], "Password");
    let r = api
        .get(&api.path(&format!("/api/v2/helpdoc/detail/{}.json", s.faq_doc)))
        .await;
    r.assert_ok();
    let d = r.content();
    assert_eq!(d["readCnt"], 1);
    assert_eq!(d["attachmentYn"], "N");
    assert_eq!(d["categoryFullName"], "Account>Password");
    assert_eq!(d["parentCategoryList"].as_array().unwrap().len(), 2);
    assert_eq!(d["category"]["categoryId"], s.faq_password);
    assert_eq!(d["content"], "<p>Use the <b>reset</b> link.</p>");

    // Intake types and fields.
    let r = api.get(&api.path("/api/v2/ticket/categories.json")).await;
    let all = r.contents();
    let refunds = all.iter().find(|c| c["categoryId"] == s.refunds).unwrap();
    assert_eq!(refunds["level"], 2);
    assert_eq!(refunds["path"], format!("\\{}\\", s.payments));
    let r = api
        .get(&api.path(&format!(
            "/api/v2/ticket/categories.json?parent={}",
            s.payments
        )))
        .await;
    assert_eq!(r.contents().len(), 1);
    let r = api
        .get(&api.path(&format!(
            "/api/v2/ticket/categories.json?child={}",
            s.refunds
        )))
        .await;
    assert_eq!(r.contents()[0]["categoryId"], s.payments);
    let r = api
        .get(&api.path(&format!("/api/v2/ticket/field/user/{}.json", s.refunds)))
        .await;
    r.assert_ok();
    let fields = r.contents();
    let codes: Vec<&str> = fields.iter().map(|f| f["code"].as_str().unwrap()).collect();
    assert_eq!(codes.first(), Some(&"category"));
    assert!(codes.contains(&"mail") && codes.contains(&"orderNumber") && codes.contains(&"device"));
    let order = fields.iter().find(|f| f["code"] == "orderNumber").unwrap();
    assert_eq!(order["fieldId"], s.order_field);
    assert_eq!(order["type"], "text");
    assert_eq!(order["length"], 20);
    assert_eq!(order["required"], true);
    assert_eq!(order["options"], Value::Null);
    let device = fields.iter().find(|f| f["code"] == "device").unwrap();
    assert_eq!(device["options"], json!(["iOS", "Android", "PC"]));
    let mail = fields.iter().find(|f| f["code"] == "mail").unwrap();
    assert_eq!(mail["encrypt"], true);
    api.get(&api.path("/api/v2/ticket/field/user/999999.json"))
        .await
        .assert_failure(404, 404);
}

async fn upload_ok(api: &Api, name: &str, bytes: &[u8]) -> String {
    let r = api
        .upload(
            &api.path("/openapi/v1/ticket/attachments/upload.json"),
            name,
            bytes,
        )
        .await;
    r.assert_ok();
    r.content()["attachmentId"].as_str().unwrap().to_string()
}

#[actix_web::test]
async fn uploads_are_checked_and_served() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let api = Api::enable(&app, s.sid, "demo");
    let up = api.path("/openapi/v1/ticket/attachments/upload.json");
    let r = api.upload(&up, "hello.txt", b"hello world\n").await;
    r.assert_ok();
    let c = r.content();
    let id = c["attachmentId"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(
        id.chars()
            .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase())
    );
    assert_eq!(c["fileName"], "hello.txt");
    assert_eq!(c["disposition"], "attachment");
    assert_eq!(c["size"], 12);
    assert!(c["contentType"].as_str().unwrap().starts_with("text/plain"));
    let dl = api
        .get(&api.path(&format!("/api/v2/ticket/attachments/{id}")))
        .await;
    assert_eq!(dl.status, 200);
    assert_eq!(dl.bytes, b"hello world\n");
    assert!(
        dl.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
    let dl = api
        .get(&api.path(&format!("/api/v2/ticket/attachments/{id}?type=download")))
        .await;
    let cd = dl.headers["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cd.starts_with("attachment") && cd.contains("filename*=UTF-8''hello.txt"),
        "{cd}"
    );
    api.get(&api.path("/api/v2/ticket/attachments/00000000000000000000000000000000"))
        .await
        .assert_failure(404, 404);

    // Limits: the exception shape with the documented (ko) messages.
    let check = |r: &Answer, msg: &str| {
        r.assert_failure(400, 400);
        assert_eq!(r.content()["exception"], "OcException");
        assert_eq!(r.content()["message"], msg);
        assert_eq!(r.message(), msg);
    };
    let r = api.upload(&up, "virus.exe", b"MZ\x90\0").await;
    check(&r, "해당 파일 격식은 첨부할 수 없습니다.");
    let r = api.upload(&up, "fake.png", b"not a png").await;
    check(&r, "해당 파일 격식은 첨부할 수 없습니다.");
    let long = format!("{}.txt", "a".repeat(97));
    assert_eq!(long.chars().count(), 101);
    let r = api.upload(&up, &long, b"x").await;
    check(&r, "파일명 최대 길이 초과.(100)");
    let ok_name = format!("{}.txt", "b".repeat(96));
    upload_ok(&api, &ok_name, b"y").await;
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    let r = api.upload(&up, "big.txt", &big).await;
    check(&r, "10MB 이하의 파일만 첨부할수 있습니다.");
    let r = api
        .upload(&format!("{up}?language=en"), "big.txt", &big)
        .await;
    check(&r, "Only files of 10 MB or less can be attached.");
    let exact = vec![b'a'; 10 * 1024 * 1024];
    upload_ok(&api, "exact.txt", &exact).await;
    // A pending upload older than a day is purged by the next upload.
    app.db(|c| {
        diesel::update(api_files::table)
            .set(api_files::created_at.eq(opencontact::db::now() - chrono::TimeDelta::hours(25)))
            .execute(c)
    });
    upload_ok(&api, "new.txt", b"z").await;
    let left: i64 = app.db(|c| api_files::table.count().get_result(c));
    assert_eq!(left, 1);
}

fn create_body(category: i64, email: &str, usercode: Option<&str>, attachments: &[&str]) -> Value {
    let mut end_user = json!({"email": email, "username": "Ann Lee", "phone": "+82-10-0000-0000"});
    if let Some(u) = usercode {
        end_user["usercode"] = json!(u);
    }
    json!({
        "categoryId": category,
        "subject": "Refund not received",
        "content": "I returned the item two weeks ago.",
        "endUser": end_user,
        "attachments": attachments.iter().map(|a| json!({"attachmentId": a})).collect::<Vec<_>>(),
        "typeOne": "gold",
        "language": "en",
        "source": "api",
        "userFields": [
            {"code": "orderNumber", "value": "A-1001"},
            {"code": "device", "value": "iOS"},
            {"code": "unknownCode", "value": "ignored"}
        ]
    })
}

#[actix_web::test]
async fn ticket_creation_validates_everything_at_once_and_stores_nothing_on_failure() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let api = Api::enable(&app, s.sid, "demo");
    let create = api.path("/openapi/v1/ticket.json?language=en");
    let before = ticket_count(&app);

    // Every failing field is listed, with field IDs and keys.
    let body = json!({
        "categoryId": s.refunds,
        "subject": "x".repeat(256),
        "content": "",
        "endUser": {"email": "not-an-email", "username": "Ann"},
        "userFields": [{"code": "device", "value": "Windows Phone"}]
    });
    let r = api.spost(&create, &body).await;
    r.assert_failure(400, 400);
    assert_eq!(r.json["header"]["resultMessage"], Value::Null);
    let list = r.contents();
    let find = |code: &str| list.iter().find(|e| e["objectName"] == code).cloned();
    let mail = find("mail").expect("mail failure");
    assert_eq!(mail["validate"], "invalid");
    assert_eq!(mail["key"], "validate.ticket.mail.invalid");
    assert_eq!(mail["message"], "validate.ticket.mail.invalid");
    assert_eq!(mail["rejectValue"], "");
    assert!(mail["field"].as_str().unwrap().parse::<i64>().is_ok());
    let order = find("orderNumber").expect("required custom field");
    assert_eq!(order["validate"], "required");
    assert_eq!(order["field"], s.order_field.to_string());
    assert_eq!(find("device").unwrap()["validate"], "invalid");
    assert_eq!(find("subject").unwrap()["validate"], "length");
    assert_eq!(find("content").unwrap()["validate"], "required");

    // Unknown, missing and malformed categories.
    let mut b = create_body(999_999, "ann@example.com", None, &[]);
    let r = api.spost(&create, &b).await;
    assert_eq!(r.contents()[0]["objectName"], "category");
    assert_eq!(r.contents()[0]["validate"], "invalid");
    b["categoryId"] = json!("abc");
    assert_eq!(
        api.spost(&create, &b).await.contents()[0]["validate"],
        "invalid"
    );
    b.as_object_mut().unwrap().remove("categoryId");
    assert_eq!(
        api.spost(&create, &b).await.contents()[0]["validate"],
        "required"
    );

    // Wrong types are failures, not a 500.
    let mut b = create_body(s.refunds, "ann@example.com", None, &[]);
    b["subject"] = json!({"nested": true});
    b["endUser"]["email"] = json!(["a"]);
    let r = api.spost(&create, &b).await;
    r.assert_failure(400, 400);
    let codes: Vec<String> = r
        .contents()
        .iter()
        .map(|e| e["objectName"].as_str().unwrap().to_string())
        .collect();
    assert!(
        codes.contains(&"subject".to_string()) && codes.contains(&"mail".to_string()),
        "{codes:?}"
    );
    let r = api.spost(&create, &json!([1, 2])).await;
    r.assert_failure(400, 400);

    // Unknown attachment and too many attachments.
    let b = create_body(
        s.refunds,
        "ann@example.com",
        None,
        &["0123456789abcdef0123456789abcdef"],
    );
    let r = api.spost(&create, &b).await;
    assert_eq!(r.contents()[0]["objectName"], "attachment");
    let id = upload_ok(&api, "a.txt", b"a").await;
    let ids = [id.as_str(); 6];
    let r = api
        .spost(
            &create,
            &create_body(s.refunds, "ann@example.com", None, &ids),
        )
        .await;
    assert_eq!(r.contents()[0]["objectName"], "attachment");
    let long_code = "u".repeat(51);
    let r = api
        .spost(
            &create,
            &create_body(s.refunds, "ann@example.com", Some(&long_code), &[]),
        )
        .await;
    assert_eq!(r.contents()[0]["objectName"], "usercode");
    assert_eq!(r.contents()[0]["validate"], "length");
    let mut b = create_body(s.refunds, "ann@example.com", None, &[]);
    b["source"] = json!("fax");
    assert_eq!(
        api.spost(&create, &b).await.contents()[0]["objectName"],
        "source"
    );

    assert_eq!(ticket_count(&app), before, "no partial ticket");
    let pending: i64 = app.db(|c| {
        api_files::table
            .filter(api_files::ticket_attachment_id.is_null())
            .count()
            .get_result(c)
    });
    assert_eq!(pending, 1, "the upload is still unused");

    // A numeric-string category and a 255-character subject are accepted (C-11, C-13).
    let mut b = create_body(s.refunds, "ann@example.com", None, &[&id]);
    b["categoryId"] = json!(s.refunds.to_string());
    b["subject"] = json!("s".repeat(255));
    b["userFields"] =
        json!([{"code": "orderNumber", "value": "A-1"}, {"code": "device", "value": ["PC"]}]);
    let r = api.spost(&create, &b).await;
    r.assert_ok();
    let c = r.content();
    assert!(c["ticketId"].as_str().unwrap().starts_with('T'));
    assert_eq!(c["ticketId"].as_str().unwrap().len(), 19);
    assert_eq!(c["status"], "new");
    assert_eq!(c["categoryId"], s.refunds);
    assert_eq!(c["statusName"], Value::Null);
    assert_eq!(c["contents"], Value::Null);
    assert_eq!(c["attachments"][0]["attachmentId"], id.as_str());
    assert!(c["attachments"][0]["createdDt"].is_i64());
    // The same upload cannot be attached twice.
    let r = api
        .spost(
            &create,
            &create_body(s.refunds, "ann@example.com", None, &[&id]),
        )
        .await;
    assert_eq!(r.contents()[0]["objectName"], "attachment");
    let linked: i64 = app.db(|c| {
        api_files::table
            .filter(api_files::ticket_attachment_id.is_not_null())
            .count()
            .get_result(c)
    });
    assert_eq!(linked, 1);
    let t: (String, String) = app.db(|c| {
        tickets::table
            .order(tickets::id.desc())
            .select((tickets::channel, tickets::lang))
            .first(c)
    });
    assert_eq!(t, ("api".into(), "en".into()));
}

#[actix_web::test]
async fn repeat_inquiries_are_blocked_with_1002_when_security_is_on() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let api = Api::enable(&app, s.sid, "demo");
    let create = api.path("/openapi/v1/ticket.json");
    app.db(|c| {
        diesel::insert_into(opencontact::db::schema::api_settings::table)
            .values((
                opencontact::db::schema::api_settings::service_id.eq(s.sid),
                opencontact::db::schema::api_settings::repeat_limit.eq(2),
                opencontact::db::schema::api_settings::repeat_window_minutes.eq(60),
                opencontact::db::schema::api_settings::updated_at.eq(opencontact::db::now()),
            ))
            .execute(c)
    });
    for _ in 0..3 {
        api.spost(
            &create,
            &create_body(s.refunds, "bob@example.com", None, &[]),
        )
        .await
        .assert_ok();
    }
    // Turn the security feature on: the fourth inquiry of bob is refused.
    let svc: Service = app.db(|c| {
        services::table
            .find(s.sid)
            .select(Service::as_select())
            .first(c)
    });
    let mut f = svc.features();
    f.security = true;
    let json = serde_json::to_string(&f).unwrap();
    app.db(|c| {
        diesel::update(services::table.find(s.sid))
            .set(services::features.eq(json))
            .execute(c)
    });
    let before = ticket_count(&app);
    let r = api
        .spost(
            &create,
            &create_body(s.refunds, "bob@example.com", None, &[]),
        )
        .await;
    assert_eq!(r.code(), 1002);
    assert_eq!(r.status, 200);
    assert_eq!(r.json["header"]["isSuccessful"], false);
    assert_eq!(r.json["result"], Value::Null);
    assert!(!r.message().is_empty());
    assert_eq!(ticket_count(&app), before);
    // Another customer is not affected; the same end-user IP is.
    let ip_body = create_body(s.refunds, "carol@example.com", None, &[]);
    let first = now_ms();
    for (i, expect_ok) in (0i64..).zip([true, true, false]) {
        let r = api
            .signed_with(
                Method::POST,
                &create,
                Some("application/json"),
                ip_body
                    .to_string()
                    .replace("carol", &format!("c{first}-{i}"))
                    .as_bytes(),
                &(first + i).to_string(),
                &[("OC-Client-IP", "198.51.100.9")],
            )
            .await;
        assert_eq!(r.code() == 200, expect_ok, "{:?}", r.json);
    }
}

#[actix_web::test]
async fn members_list_read_and_follow_up_their_own_tickets() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let api = Api::enable(&app, s.sid, "demo");
    let create = api.path("/openapi/v1/ticket.json");
    let r = api
        .spost(
            &create,
            &create_body(s.refunds, "ann@example.com", Some("user-42"), &[]),
        )
        .await;
    r.assert_ok();
    let t1 = r.content()["ticketId"].as_str().unwrap().to_string();
    let mut b = create_body(s.payments, "ann@example.com", Some("user-42"), &[]);
    b["source"] = json!("web");
    api.spost(&create, &b).await.assert_ok();
    api.spost(
        &create,
        &create_body(s.refunds, "zed@example.com", Some("user-7"), &[]),
    )
    .await
    .assert_ok();
    let usercode: Option<String> = app.db(|c| {
        customers::table
            .filter(customers::email.eq("ann@example.com"))
            .select(customers::usercode)
            .first(c)
    });
    assert_eq!(usercode.as_deref(), Some("user-42"));

    let list = api.path("/openapi/v1/ticket/enduser/user-42/list.json");
    let r = api.sget(&list).await;
    r.assert_ok();
    assert_eq!(r.json["result"]["total"], 2);
    let first = &r.contents()[0];
    assert_eq!(first["status"], "new");
    assert_eq!(first["statusName"], "Received");
    assert_eq!(first["content"], Value::Null);
    assert!(first["displayDt"].as_str().unwrap().contains('.'));
    let r = api
        .sget(&format!(
            "{list}?categoryId={}&pageSize=1&sort=createdDt:asc",
            s.payments
        ))
        .await;
    assert_eq!(r.json["result"]["total"], 2, "descendants of Payments");
    assert_eq!(r.json["result"]["pages"], 2);
    assert_eq!(r.contents()[0]["ticketId"], t1.as_str());
    assert_eq!(r.contents()[0]["categoryFullName"], "Payments>Refunds");
    assert_eq!(r.contents()[0]["categoryName"], "Refunds");
    let r = api.sget(&format!("{list}?source=api")).await;
    assert_eq!(r.json["result"]["total"], 1);
    let r = api.sget(&format!("{list}?status=solved,closed")).await;
    assert_eq!(r.json["result"]["total"], 0);
    api.sget(&format!("{list}?status=bogus"))
        .await
        .assert_failure(400, 400);
    // POST with a form body works the same (C-1).
    let form = "status=new&pageSize=5".to_string();
    let ts = now_ms().to_string();
    let auth = signature(
        &api.key,
        &canonical(&api.org, &format!("{list}?{form}"), b"", &ts),
    );
    let resp = api
        .http
        .post(format!("{}{}", api.base, list))
        .header("Authorization", auth)
        .header("X-TC-Timestamp", &ts)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    let j: Value = resp.json().await.unwrap();
    assert_eq!(j["result"]["total"], 2);
    assert_eq!(j["result"]["pageSize"], 5);
    let r = api
        .sget(&api.path("/openapi/v1/ticket/enduser/nobody/list.json"))
        .await;
    r.assert_ok();
    assert!(r.contents().is_empty());

    // An agent answers; the member reads the conversation newest first.
    let (ticket_id, _) = app.db(|c| {
        tickets::table
            .filter(tickets::public_id.eq(&t1))
            .select((tickets::id, tickets::public_id))
            .first::<(i64, String)>(c)
    });
    let t = app.ticket(ticket_id);
    let admin = s.admin_id;
    app.state
        .db
        .write_blocking(move |c| {
            opencontact::tickets::lifecycle::process(
                c,
                &t,
                &opencontact::tickets::lifecycle::ProcessInput {
                    action: opencontact::tickets::lifecycle::Action::Resolve,
                    actor: admin,
                    body: "<p>The refund was issued today.</p>",
                    files: &[],
                    client_token: None,
                    resolution_category_id: None,
                    priority: None,
                    service_kind: opencontact::db::types::ServiceKind::Consultation,
                },
            )?;
            Ok(())
        })
        .unwrap();
    let detail = api.path(&format!(
        "/openapi/v1/ticket/enduser/user-42/{t1}/detail.json"
    ));
    let r = api.sget(&detail).await;
    r.assert_ok();
    let d = r.content();
    assert_eq!(d["status"], "solved");
    assert_eq!(d["statusName"], "Answered");
    assert_eq!(d["content"], "I returned the item two weeks ago.");
    assert_eq!(d["contents"][0]["type"], "reply");
    assert_eq!(d["contents"][0]["typeName"], "Answer");
    assert_eq!(
        d["contents"][0]["content"],
        "<p>The refund was issued today.</p>"
    );
    assert!(d.get("total").is_none() && r.json["result"].get("total").is_none());
    // Another member's ticket is not found.
    api.sget(&api.path(&format!(
        "/openapi/v1/ticket/enduser/user-7/{t1}/detail.json"
    )))
    .await
    .assert_failure(404, 404);

    // The follow-up reopens the solved ticket, with an attachment from the query.
    let att = upload_ok(&api, "photo.txt", b"photo").await;
    let comment = api.path(&format!(
        "/openapi/v1/ticket/enduser/user-42/{t1}/comment.json?attachments={att}"
    ));
    let r = api
        .spost(&comment, &json!({"comment": "Any update?"}))
        .await;
    r.assert_ok();
    assert_eq!(r.content()["type"], "enduser");
    assert_eq!(r.content()["content"], "Any update?");
    assert_eq!(r.content()["typeName"], Value::Null);
    assert_eq!(r.content()["attachments"][0]["attachmentId"], att.as_str());
    assert_eq!(app.ticket(ticket_id).status.as_str(), "open");
    let r = api.sget(&detail).await;
    assert_eq!(r.content()["contents"][0]["type"], "enduser");
    assert_eq!(
        r.content()["contents"][0]["attachments"][0]["attachmentId"],
        att.as_str()
    );
    // Bad follow-ups.
    let plain = api.path(&format!(
        "/openapi/v1/ticket/enduser/user-42/{t1}/comment.json"
    ));
    api.spost(&plain, &json!({"comment": "  "}))
        .await
        .assert_failure(400, 400);
    api.spost(&plain, &json!({"comment": 5}))
        .await
        .assert_failure(400, 400);
    api.spost(
        &api.path(&format!(
            "/openapi/v1/ticket/enduser/user-7/{t1}/comment.json"
        )),
        &json!({"comment": "hi"}),
    )
    .await
    .assert_failure(404, 404);
    // A comment as a query parameter is accepted too (C-16).
    let q = api.path(&format!(
        "/openapi/v1/ticket/enduser/user-42/{t1}/comment.json?comment=via%20query"
    ));
    let r = api
        .signed_with(Method::POST, &q, None, b"", &now_ms().to_string(), &[])
        .await;
    r.assert_ok();
    assert_eq!(r.content()["content"], "via query");
    // A completed ticket refuses follow-ups.
    app.db(|c| {
        diesel::update(tickets::table.find(ticket_id))
            .set(tickets::status.eq("closed"))
            .execute(c)
    });
    let r = api.spost(&plain, &json!({"comment": "again"})).await;
    r.assert_failure(400, 400);
    let entries: i64 = app.db(|c| {
        opencontact::db::schema::ticket_entries::table
            .filter(opencontact::db::schema::ticket_entries::ticket_id.eq(ticket_id))
            .count()
            .get_result(c)
    });
    assert_eq!(entries, 4);
    let n: i64 = app.db(|c| ticket_attachments::table.count().get_result(c));
    assert_eq!(n, 1);
}

#[actix_web::test]
async fn addition_data_returns_a_bare_id() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let api = Api::enable(&app, s.sid, "demo");
    let path = api.path("/hc/openapi/v1/addition.json");
    let r = api
        .spost(
            &path,
            &json!({"content": "{\"plan\":\"gold\"}", "visible": 1}),
        )
        .await;
    r.assert_ok();
    assert!(r.content().is_string());
    let r = api
        .signed_with(
            Method::POST,
            &format!("{path}?visible=0"),
            Some("text/plain"),
            b"member grade: gold",
            &now_ms().to_string(),
            &[],
        )
        .await;
    r.assert_ok();
    let id = r.content().as_str().unwrap().to_string();
    let (content, visible): (String, bool) = app.db(|c| {
        opencontact::db::schema::api_additions::table
            .find(&id)
            .select((
                opencontact::db::schema::api_additions::content,
                opencontact::db::schema::api_additions::visible,
            ))
            .first(c)
    });
    assert_eq!((content.as_str(), visible), ("member grade: gold", false));
    api.spost(&path, &json!({"content": ""}))
        .await
        .assert_failure(400, 400);
    api.spost(&path, &json!({"content": "x", "visible": 7}))
        .await
        .assert_failure(400, 400);
}

/// The "done when" script: written from the Contiple documentation alone.
#[actix_web::test]
async fn the_documented_script_runs_unchanged() {
    let app = TestApp::spawn().await;
    let s = seed(&app);
    let api = Api::enable(&app, s.sid, "demo");
    // 1. Intake types and their fields.
    let types = api
        .get(&api.path("/api/v2/ticket/categories.json?language=en"))
        .await;
    let leaf = types
        .contents()
        .into_iter()
        .find(|c| c["name"] == "Refunds")
        .unwrap()["categoryId"]
        .as_i64()
        .unwrap();
    let fields = api
        .get(&api.path(&format!(
            "/api/v2/ticket/field/user/{leaf}.json?language=en"
        )))
        .await;
    assert!(fields.contents().iter().any(|f| f["code"] == "orderNumber"));
    // 2. Upload an attachment, create the ticket with custom fields.
    let att = upload_ok(&api, "receipt.png", b"\x89PNG\r\n\x1a\n0000").await;
    let r = api
        .spost(
            &api.path("/openapi/v1/ticket.json?language=en"),
            &create_body(leaf, "ann@example.com", Some("user-42"), &[&att]),
        )
        .await;
    r.assert_ok();
    let ticket = r.content()["ticketId"].as_str().unwrap().to_string();
    // 3. The member's tickets.
    let r = api
        .sget(&api.path("/openapi/v1/ticket/enduser/user-42/list.json?language=en"))
        .await;
    assert_eq!(r.contents()[0]["ticketId"], ticket.as_str());
    // 4. A follow-up.
    let r = api
        .spost(
            &api.path(&format!(
                "/openapi/v1/ticket/enduser/user-42/{ticket}/comment.json"
            )),
            &json!({"comment": "추가 문의입니다"}),
        )
        .await;
    r.assert_ok();
    let r = api
        .sget(&api.path(&format!(
            "/openapi/v1/ticket/enduser/user-42/{ticket}/detail.json"
        )))
        .await;
    assert_eq!(r.content()["attachments"][0]["attachmentId"], att.as_str());
    assert_eq!(r.content()["contents"][0]["content"], "추가 문의입니다");
    // 5. FAQ and notices.
    let faqs = api
        .get(&api.path("/api/v2/helpdoc/list.json?language=en"))
        .await;
    let faq_id = faqs.contents()[0]["helpDocId"].as_i64().unwrap();
    api.get(&api.path(&format!("/api/v2/helpdoc/detail/{faq_id}.json")))
        .await
        .assert_ok();
    let list = api
        .get(&api.path("/api/v2/notice/list.json?language=en"))
        .await;
    let notice_id = list.contents()[0]["noticeId"].as_i64().unwrap();
    api.get(&api.path(&format!("/api/v2/notice/detail/{notice_id}.json")))
        .await
        .assert_ok();
    // The stored ticket carries the custom field values.
    let values: i64 = app.db(|c| {
        opencontact::db::schema::ticket_field_values::table
            .count()
            .get_result(c)
    });
    assert!(values >= 4);
}
