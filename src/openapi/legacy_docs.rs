//! Signed administration of help-center content (API.md §8.6–§8.7): FAQ documents with their
//! flags and attachments, FAQ categories (by ID or external code), multilingual notices, notice
//! templates, tags and headings. Content is per help-center language (`contents.{lang}`), or the
//! flat `title`/`content` of the default language. Status `O` is published; `D` and `C` are not
//! (OpenContact keeps one unpublished state, reported as `D`).

use std::collections::HashMap;

use actix_web::{HttpRequest, web};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use diesel::prelude::*;
use serde_json::{Map, Value, json};

use crate::agents::form::Pairs;
use crate::categories::model::{self as cats, NamesInput, Tree};
use crate::common::names::{Names, pick_name};
use crate::common::validation::Violations;
use crate::db::schema::{
    api_faq_category_codes, api_heading_codes, api_tag_codes, api_template_meta, categories, faqs,
    notice_headings, notice_tag_links, notice_tags, notices as nt, users,
};
use crate::db::search::SearchQuery;
use crate::db::types::CategoryTree;
use crate::db::{DbConn, now};
use crate::help_center::attachments::{self, Attachment, MAX_FILES, Owner, StoredFile};
use crate::help_center::content::{
    DocStatus, LangContent, Period, read_contents, read_contents_optional,
};
use crate::help_center::{faq, notices};
use crate::i18n::Lang;
use crate::tenancy::service::Service;
use crate::tenancy::service::{default_lang, service_langs};
use crate::web::FormErrors;

use super::admin_api::{b_of, read_api, write_api};
use super::envelope::{
    ApiError, ApiResult, Params, legacy_dt, millis, names_object, ok_content, ok_contents, ok_null,
    ok_page, parse_legacy_dt, parse_sort, tz_of,
};
use super::files::{self, FileKind};
use super::public_v2::{CatNode, load_faq_nodes, node_path};
use super::signed_v1::{check_upload, not_multipart, store_upload, too_large_message};
use super::signing::{SignedCall, verify_call};

fn bad(name: &str) -> ApiError {
    ApiError::Exception(format!("{name} is invalid"))
}

fn required(name: &str) -> ApiError {
    ApiError::Exception(format!("{name} is required"))
}

async fn call_of(req: &HttpRequest, payload: web::Payload) -> Result<SignedCall, ApiError> {
    verify_call(req, payload, not_multipart).await
}

fn object(call: &SignedCall) -> Result<Map<String, Value>, ApiError> {
    match call.json_body()? {
        Value::Object(o) => Ok(o),
        _ => Err(ApiError::BadRequest(
            "Request body must be a JSON object".into(),
        )),
    }
}

fn s_of(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(bad(key)),
    }
}

fn i_of(obj: &Map<String, Value>, key: &str) -> Result<Option<i64>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| bad(key)),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad(key)),
        Some(_) => Err(bad(key)),
    }
}

fn legacy_status(s: &str) -> Option<DocStatus> {
    match s.trim() {
        "O" => Some(DocStatus::Published),
        "D" | "C" => Some(DocStatus::Draft),
        _ => None,
    }
}

fn status_code(s: &str) -> &'static str {
    if s == DocStatus::Published.as_str() {
        "O"
    } else {
        "D"
    }
}

fn id_list(v: Option<&Value>, name: &str) -> Result<Vec<String>, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.get("attachmentId")
                    .and_then(Value::as_str)
                    .or(i.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| bad(name))
            })
            .collect(),
        Some(_) => Err(bad(name)),
    }
}

/// Per-language contents from `contents.{lang}` (or the flat default-language fields),
/// validated like the back-office forms; plus the attachment IDs per language.
fn read_body_contents(
    service: &Service,
    obj: &Map<String, Value>,
    required_default: bool,
) -> Result<(Vec<LangContent>, Vec<String>), ApiError> {
    let langs = service_langs(service);
    let default = default_lang(service);
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut att_ids = id_list(obj.get("attachments"), "attachments")?;
    match obj.get("contents") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (code, v) in map {
                let Some(lang) = Lang::parse(code).filter(|l| langs.contains(l)) else {
                    return Err(bad(&format!("contents.{code}")));
                };
                let Some(o) = v.as_object() else {
                    return Err(bad(&format!("contents.{code}")));
                };
                let title = s_of(o, "title")?.unwrap_or_default();
                let content = s_of(o, "content")?.unwrap_or_default();
                pairs.push((format!("title_{}", lang.code()), title));
                pairs.push((format!("body_{}", lang.code()), content));
                for id in id_list(o.get("attachments"), "attachments")? {
                    if !att_ids.contains(&id) {
                        att_ids.push(id);
                    }
                }
            }
        }
        Some(_) => return Err(bad("contents")),
    }
    let has = |k: &str| pairs.iter().any(|(n, _)| n == k);
    let title_key = format!("title_{}", default.code());
    let body_key = format!("body_{}", default.code());
    if !has(&title_key) {
        if let Some(t) = s_of(obj, "title")? {
            pairs.push((title_key.clone(), t));
        }
        if let Some(c) = s_of(obj, "content")? {
            pairs.push((body_key.clone(), c));
        }
    }
    let form = Pairs(pairs);
    let mut errors = FormErrors::new(Lang::En);
    let contents = if required_default {
        read_contents(service, &form, &mut errors)
    } else {
        read_contents_optional(service, &form, &mut errors)
    };
    if !errors.is_empty() {
        let first = langs
            .iter()
            .flat_map(|l| [format!("title_{}", l.code()), format!("body_{}", l.code())])
            .find(|k| errors.has(k))
            .unwrap_or_default();
        let (kind, lang) = first.split_once('_').unwrap_or(("title", default.code()));
        let field = if kind == "body" { "content" } else { "title" };
        return Err(ApiError::Exception(format!(
            "contents.{lang}.{field} is invalid: {}",
            errors.get(&first)
        )));
    }
    Ok((contents, att_ids))
}

fn contents_json(rows: &[(String, String, String)], atts: &[Value]) -> Value {
    let mut map = Map::new();
    for (l, t, b) in rows {
        map.insert(
            l.clone(),
            json!({"title": t, "content": b, "attachments": atts}),
        );
    }
    Value::Object(map)
}

/// Pending document uploads by ID, or `9005`.
fn take_uploads(
    conn: &mut DbConn,
    sid: i64,
    kind: FileKind,
    ids: &[String],
) -> Result<Vec<files::ApiFile>, ApiError> {
    let mut out = Vec::new();
    for id in ids {
        match files::find(conn, sid, id)? {
            Some(f) if f.kind == kind.as_str() && f.pending() => out.push(f),
            Some(f) if f.kind == kind.as_str() => {}
            _ => return Err(ApiError::missing_ref("attachmentId")),
        }
    }
    Ok(out)
}

/// Records uploads as attachments of a document and links their IDs.
fn attach_uploads(
    conn: &mut DbConn,
    sid: i64,
    owner: Owner,
    uploads: &[files::ApiFile],
) -> Result<(), ApiError> {
    if uploads.is_empty() {
        return Ok(());
    }
    if Attachment::of(conn, owner)?.len() + uploads.len() > MAX_FILES {
        return Err(bad("attachments"));
    }
    for u in uploads {
        attachments::insert_rows(
            conn,
            sid,
            owner,
            &[StoredFile {
                name: u.file_name.clone(),
                path: u.stored_path.clone(),
                mime: u.mime.clone(),
                size: u.size_bytes,
            }],
        )?;
        let id: i64 = crate::db::schema::hc_attachments::table
            .filter(crate::db::schema::hc_attachments::stored_path.eq(&u.stored_path))
            .select(crate::db::schema::hc_attachments::id)
            .first(conn)?;
        files::link_hc_upload(conn, &u.public_id, id)?;
    }
    Ok(())
}

fn user_names(conn: &mut DbConn, ids: Vec<i64>) -> QueryResult<HashMap<i64, String>> {
    Ok(users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::name))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

// ---------------------------------------------------------------------------------------------
// FAQ categories
// ---------------------------------------------------------------------------------------------

fn faq_codes(conn: &mut DbConn, sid: i64) -> QueryResult<HashMap<i64, String>> {
    Ok(api_faq_category_codes::table
        .filter(api_faq_category_codes::service_id.eq(sid))
        .select((
            api_faq_category_codes::category_id,
            api_faq_category_codes::code,
        ))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

fn faq_category_json(
    n: &cats::Node,
    by_id: &HashMap<i64, CatNode>,
    code: Option<&String>,
    service: &Service,
) -> Value {
    let lang = default_lang(service);
    let node = CatNode::from(n);
    json!({
        "categoryId": n.id,
        "serviceId": service.code,
        "categoryCode": code,
        "parent": n.parent_id.unwrap_or(0),
        "name": n.display_name(lang, lang),
        "level": n.level,
        "path": node_path(&node, by_id),
        "orderNo": n.position,
        "createdDt": millis(n.created_at),
        "updatedDt": millis(n.updated_at),
        "languages": names_object(&n.names),
    })
}

/// An ID, or an external code of the kind's code table.
fn resolve_faq_category(conn: &mut DbConn, sid: i64, key: &str) -> Result<cats::Node, ApiError> {
    let id = match key.trim().parse::<i64>() {
        Ok(id) => id,
        Err(_) => api_faq_category_codes::table
            .filter(api_faq_category_codes::service_id.eq(sid))
            .filter(api_faq_category_codes::code.eq(key.trim()))
            .select(api_faq_category_codes::category_id)
            .first(conn)
            .optional()?
            .ok_or(ApiError::NotFound)?,
    };
    cats::find(conn, sid, CategoryTree::Faq, id)?.ok_or(ApiError::NotFound)
}

/// `GET …/openapi/v2/helpdoc/categories.json` (L37; also under `v1`).
pub async fn faq_categories(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let parent = call.params.int("parent")?;
    let child = call.params.int("child")?;
    let service = call.service.clone();
    let (tree, codes) = read_api(&call, move |c| {
        Ok((
            Tree::load(c, service.id, CategoryTree::Faq)?,
            faq_codes(c, service.id)?,
        ))
    })
    .await?;
    let by_id: HashMap<i64, CatNode> = tree
        .nodes()
        .iter()
        .map(|n| (n.id, CatNode::from(n)))
        .collect();
    let chosen: Vec<&cats::Node> = if let Some(p) = parent {
        tree.children((p != 0).then_some(p))
    } else if let Some(ch) = child {
        let mut path = tree.path(ch);
        path.pop();
        path
    } else {
        tree.nodes().iter().collect()
    };
    ok_contents(
        chosen
            .iter()
            .map(|n| faq_category_json(n, &by_id, codes.get(&n.id), &call.service))
            .collect(),
    )
}

/// `GET …/openapi/v2/helpdoc/category/{id}.json` (L38): an ID or a `categoryCode`.
pub async fn faq_category(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let key = req.match_info().get("id").unwrap_or_default().to_string();
    let sid = call.service.id;
    let (node, nodes, codes) = read_api(&call, move |c| {
        let n = resolve_faq_category(c, sid, &key)?;
        Ok((n, load_faq_nodes(c, sid)?, faq_codes(c, sid)?))
    })
    .await?;
    let by_id: HashMap<i64, CatNode> = nodes.into_iter().map(|n| (n.id, n)).collect();
    ok_content(faq_category_json(
        &node,
        &by_id,
        codes.get(&node.id),
        &call.service,
    ))
}

/// Names from `{name}` (default language) or `{languages: {lang: name}}`.
fn names_input(service: &Service, obj: &Map<String, Value>) -> Result<NamesInput, ApiError> {
    let default = default_lang(service);
    let langs = service_langs(service);
    let mut names: Vec<(Lang, String)> = Vec::new();
    let map = obj.get("languages").or_else(|| obj.get("names"));
    match map {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (code, v) in m {
                let lang = Lang::parse(code)
                    .filter(|l| langs.contains(l))
                    .ok_or_else(|| bad(&format!("languages.{code}")))?;
                let name = v
                    .as_str()
                    .ok_or_else(|| bad(&format!("languages.{code}")))?;
                names.push((lang, name.to_string()));
            }
        }
        Some(_) => return Err(bad("languages")),
    }
    let flat = s_of(obj, "name")?.or(s_of(obj, "tag")?);
    if let Some(n) = flat
        && !names.iter().any(|(l, _)| *l == default)
    {
        names.push((default, n));
    }
    if names.is_empty() {
        return Err(required("name"));
    }
    for (l, n) in &names {
        if !super::admin_api::legacy_name_ok(n) {
            return Err(bad(&format!("languages.{}", l.code())));
        }
    }
    // Languages not given keep an empty slot so renames can clear nothing by accident.
    for l in langs {
        if !names.iter().any(|(x, _)| *x == l) {
            names.push((l, String::new()));
        }
    }
    Ok(NamesInput { names })
}

fn code_of(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    let code = s_of(obj, key)?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if let Some(c) = &code
        && (c.chars().count() > 50 || c.parse::<i64>().is_ok())
    {
        return Err(bad(key));
    }
    Ok(code)
}

fn name_errors(errors: &Violations) -> ApiError {
    if errors.iter().any(|v| v.key == "category.name_taken") {
        ApiError::duplicate("name")
    } else if errors.iter().any(|v| v.key == "category.parent_missing") {
        ApiError::missing_ref("parent")
    } else {
        let messages = FormErrors::translate(Lang::En, errors);
        bad(&format!("name ({})", messages.all().join("; ")))
    }
}

fn set_faq_code(conn: &mut DbConn, sid: i64, id: i64, code: Option<&str>) -> Result<(), ApiError> {
    let Some(code) = code else { return Ok(()) };
    let taken: Option<i64> = api_faq_category_codes::table
        .filter(api_faq_category_codes::service_id.eq(sid))
        .filter(api_faq_category_codes::code.eq(code))
        .select(api_faq_category_codes::category_id)
        .first(conn)
        .optional()?;
    if taken.is_some_and(|t| t != id) {
        return Err(ApiError::duplicate("categoryCode"));
    }
    diesel::delete(api_faq_category_codes::table.find(id)).execute(conn)?;
    diesel::insert_into(api_faq_category_codes::table)
        .values((
            api_faq_category_codes::category_id.eq(id),
            api_faq_category_codes::service_id.eq(sid),
            api_faq_category_codes::code.eq(code),
        ))
        .execute(conn)?;
    Ok(())
}

fn set_order(conn: &mut DbConn, id: i64, order: Option<i64>) -> Result<(), ApiError> {
    if let Some(o) = order {
        let o = i32::try_from(o).map_err(|_| bad("orderNo"))?;
        diesel::update(categories::table.find(id))
            .set(categories::position.eq(o.max(0)))
            .execute(conn)?;
    }
    Ok(())
}

async fn faq_category_answer(call: &SignedCall, id: i64) -> ApiResult {
    let sid = call.service.id;
    let (node, nodes, codes) = read_api(call, move |c| {
        let n = cats::find(c, sid, CategoryTree::Faq, id)?.ok_or(ApiError::NotFound)?;
        Ok((n, load_faq_nodes(c, sid)?, faq_codes(c, sid)?))
    })
    .await?;
    let by_id: HashMap<i64, CatNode> = nodes.into_iter().map(|n| (n.id, n)).collect();
    ok_content(faq_category_json(
        &node,
        &by_id,
        codes.get(&node.id),
        &call.service,
    ))
}

/// `POST …/openapi/v1/helpdoc/category.json` (L39).
pub async fn create_faq_category(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let obj = object(&call)?;
    let input = names_input(&call.service, &obj)?;
    let code = code_of(&obj, "categoryCode")?;
    let parent = i_of(&obj, "parent")?.filter(|p| *p != 0);
    let order = i_of(&obj, "orderNo")?;
    let service = call.service.clone();
    let id = write_api(&call, move |c| {
        let id = match cats::add_node(c, &service, CategoryTree::Faq, parent, &input)
            .map_err(ApiError::from)?
        {
            Ok(id) => id,
            Err(e) => return Err(name_errors(&e)),
        };
        set_order(c, id, order)?;
        set_faq_code(c, service.id, id, code.as_deref())?;
        Ok(id)
    })
    .await?;
    faq_category_answer(&call, id).await
}

/// `PUT …/openapi/v1/helpdoc/category/{id}.json` (L40): `{id}` is an ID or a code.
pub async fn update_faq_category(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let key = req.match_info().get("id").unwrap_or_default().to_string();
    let obj = object(&call)?;
    let input = names_input(&call.service, &obj)?;
    let code = code_of(&obj, "categoryCode")?;
    let order = i_of(&obj, "orderNo")?;
    let service = call.service.clone();
    let id = write_api(&call, move |c| {
        let node = resolve_faq_category(c, service.id, &key)?;
        if let Err(e) = cats::rename_node(c, &service, CategoryTree::Faq, node.id, &input)
            .map_err(ApiError::from)?
        {
            return Err(name_errors(&e));
        }
        set_order(c, node.id, order)?;
        set_faq_code(c, service.id, node.id, code.as_deref())?;
        Ok(node.id)
    })
    .await?;
    faq_category_answer(&call, id).await
}

/// `DELETE …/openapi/v1/helpdoc/category/{id}.json` (L41): refused while it has documents or
/// children.
pub async fn delete_faq_category(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let key = req.match_info().get("id").unwrap_or_default().to_string();
    let sid = call.service.id;
    write_api(&call, move |c| {
        let node = resolve_faq_category(c, sid, &key)?;
        let kids = cats::children_of(c, sid, CategoryTree::Faq, Some(node.id))?;
        let docs: i64 = faqs::table
            .filter(faqs::category_id.eq(node.id))
            .count()
            .get_result(c)?;
        if !kids.is_empty() || docs > 0 {
            return Err(ApiError::BadRequest(
                "The category still has documents or children".into(),
            ));
        }
        cats::delete_node(c, sid, CategoryTree::Faq, node.id, None).map_err(ApiError::from)?;
        Ok(())
    })
    .await?;
    ok_null()
}

// ---------------------------------------------------------------------------------------------
// FAQ documents
// ---------------------------------------------------------------------------------------------

fn faq_json(
    f: &faq::Faq,
    rows: &[(String, String, String)],
    atts: Vec<Value>,
    tree: &Tree,
    names: &HashMap<i64, String>,
    service: &Service,
) -> Value {
    let lang = default_lang(service);
    let (title, body) = rows
        .iter()
        .find(|(l, _, _)| l == lang.code())
        .or(rows.first())
        .map(|(_, t, b)| (t.clone(), b.clone()))
        .unwrap_or_default();
    let categories: Vec<Value> = f
        .category_id
        .and_then(|id| tree.get(id))
        .map(|n| {
            vec![json!({
                "categoryId": n.id,
                "parent": n.parent_id.unwrap_or(0),
                "name": n.display_name(lang, lang),
                "level": n.level,
            })]
        })
        .unwrap_or_default();
    json!({
        "helpDocId": f.id,
        "language": null,
        "serviceId": service.code,
        "title": title,
        "content": body,
        "isRecommend": f.pin_category,
        "isTop": f.pin_main,
        "status": status_code(&f.status),
        "readCnt": f.view_count,
        "userId": f.author_id,
        "username": f.author_id.and_then(|a| names.get(&a).cloned()),
        "attachmentYn": if atts.is_empty() { "N" } else { "Y" },
        "createdDt": millis(f.created_at),
        "updatedDt": millis(f.updated_at),
        "categories": categories,
        "contents": contents_json(rows, &atts),
        "attachments": atts,
    })
}

async fn faq_answer(call: &SignedCall, id: i64) -> ApiResult {
    let sid = call.service.id;
    let (f, rows, atts, tree, names) = write_api(call, move |c| {
        let f = faq::find(c, sid, id)?.ok_or(ApiError::NotFound)?;
        let rows = faq::contents(c, id)?;
        let a = Attachment::of(c, Owner::Faq(id))?;
        let atts = files::doc_list(c, sid, FileKind::Help, &a)?;
        let tree = Tree::load(c, sid, CategoryTree::Faq)?;
        let names = user_names(c, f.author_id.into_iter().collect())?;
        Ok((f, rows, atts, tree, names))
    })
    .await?;
    ok_content(faq_json(&f, &rows, atts, &tree, &names, &call.service))
}

fn doc_id(req: &HttpRequest) -> Result<i64, ApiError> {
    req.match_info()
        .get("id")
        .and_then(|s| s.trim().parse().ok())
        .ok_or(ApiError::NotFound)
}

/// `GET …/openapi/v1/helpdoc/{id}.json` (L30).
pub async fn get_faq(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = doc_id(&req)?;
    faq_answer(&call, id).await
}

/// `GET …/openapi/v1/helpdoc.json` (L29).
pub async fn list_faqs(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let p = call.params.clone();
    let paging = p.paging(10, super::envelope::MAX_PAGE_SIZE)?;
    let category = p.int("category")?.or(p.int("categoryId")?);
    let recommend = p.bool("recommend")?;
    let top = p.bool("top")?;
    let status = match p.get("status") {
        Some(s) => Some(legacy_status(s).ok_or_else(|| ApiError::invalid("status"))?),
        None => None,
    };
    let query = p
        .get("query")
        .or(p.get("keyword"))
        .and_then(SearchQuery::parse);
    let sort = parse_sort(
        p.get("sort"),
        &["isTop", "isRecommend", "createdDt", "updatedDt"],
        "updatedDt:desc",
    );
    let lang = super::envelope::pick_lang(&call.service, p.get("language"));
    let service = call.service.clone();
    let (rows, total, texts, tree, names) = read_api(&call, move |c| {
        let tree = Tree::load(c, service.id, CategoryTree::Faq)?;
        let scope: Option<Vec<i64>> =
            category.map(|id| tree.subtree(id).iter().map(|n| n.id).collect());
        let base = |c: &DbConn| {
            let mut q = faqs::table
                .filter(faqs::service_id.eq(service.id))
                .into_boxed();
            if let Some(s) = &scope {
                q = q.filter(faqs::category_id.eq_any(s.clone()));
            }
            if let Some(r) = recommend {
                q = q.filter(faqs::pin_category.eq(r));
            }
            if let Some(t) = top {
                q = q.filter(faqs::pin_main.eq(t));
            }
            if let Some(s) = status {
                q = q.filter(faqs::status.eq(s.as_str()));
            }
            if let Some(query) = &query {
                q = q.filter(crate::db::search::fts_filter(
                    c,
                    crate::db::search::FtsTable::Faqs,
                    query,
                ));
            }
            q
        };
        let total: i64 = base(c).count().get_result(c)?;
        let mut q = base(c);
        for k in &sort {
            q = match (k.field.as_str(), k.desc) {
                ("isTop", true) => q.then_order_by(faqs::pin_main.desc()),
                ("isTop", false) => q.then_order_by(faqs::pin_main.asc()),
                ("isRecommend", true) => q.then_order_by(faqs::pin_category.desc()),
                ("isRecommend", false) => q.then_order_by(faqs::pin_category.asc()),
                ("createdDt", true) => q.then_order_by(faqs::created_at.desc()),
                ("createdDt", false) => q.then_order_by(faqs::created_at.asc()),
                ("updatedDt", true) => q.then_order_by(faqs::updated_at.desc()),
                _ => q.then_order_by(faqs::updated_at.asc()),
            };
        }
        let rows: Vec<faq::Faq> = q
            .then_order_by(faqs::id.desc())
            .offset(paging.offset())
            .limit(paging.size)
            .select(faq::Faq::as_select())
            .load(c)?;
        let ids: Vec<i64> = rows.iter().map(|f| f.id).collect();
        let texts = faq::localized(c, &ids, lang, default_lang(&service))?;
        let names = user_names(c, rows.iter().filter_map(|f| f.author_id).collect())?;
        Ok((rows, total, texts, tree, names))
    })
    .await?;
    let items = rows
        .iter()
        .map(|f| {
            let (title, _) = texts.get(&f.id).cloned().unwrap_or_default();
            json!({
                "helpDocId": f.id,
                "serviceId": call.service.code,
                "language": lang.code(),
                "status": status_code(&f.status),
                "categoryId": f.category_id,
                "categoryName": f.category_id.and_then(|id| tree.get(id)).map(|n| n.display_name(lang, default_lang(&call.service)).to_string()),
                "isRecommend": f.pin_category,
                "isTop": f.pin_main,
                "title": title,
                "userId": f.author_id,
                "userName": f.author_id.and_then(|a| names.get(&a).cloned()),
                "createdDt": millis(f.created_at),
                "updatedDt": millis(f.updated_at),
            })
        })
        .collect();
    ok_page(items, total, paging)
}

struct FaqBody {
    category: i64,
    status: DocStatus,
    recommend: bool,
    top: bool,
    contents: Vec<LangContent>,
    attachments: Vec<String>,
}

fn read_faq_body(call: &SignedCall) -> Result<FaqBody, ApiError> {
    let obj = object(call)?;
    let category = i_of(&obj, "categoryId")?.ok_or_else(|| required("categoryId"))?;
    let status = s_of(&obj, "status")?.ok_or_else(|| required("status"))?;
    let status = legacy_status(&status).ok_or_else(|| bad("status"))?;
    let recommend = b_of(&obj, "isRecommend")?.ok_or_else(|| required("isRecommend"))?;
    let top = b_of(&obj, "isTop")?.ok_or_else(|| required("isTop"))?;
    let (contents, attachments) = read_body_contents(&call.service, &obj, true)?;
    Ok(FaqBody {
        category,
        status,
        recommend,
        top,
        contents,
        attachments,
    })
}

/// `POST …/openapi/v1/helpdoc.json` (L31) and `PUT …/openapi/v1/helpdoc/{id}.json` (L32).
pub async fn save_faq(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let existing = if req.method() == actix_web::http::Method::PUT {
        Some(doc_id(&req)?)
    } else {
        None
    };
    let body = read_faq_body(&call)?;
    let service = call.service.clone();
    let actor_call = call.oucode.clone();
    let id = write_api(&call, move |c| {
        cats::find(c, service.id, CategoryTree::Faq, body.category)?
            .ok_or_else(|| ApiError::missing_ref("categoryId"))?;
        let actor = actor_for(c, actor_call.as_deref())?;
        let input = faq::FaqInput {
            category_id: Some(body.category),
            pin_main: body.top,
            pin_category: body.recommend,
            contents: body.contents,
        };
        let uploads = take_uploads(c, service.id, FileKind::Help, &body.attachments)?;
        let id = match existing {
            None => faq::create(c, service.id, actor, &input, body.status)?,
            Some(id) => {
                let f = faq::find(c, service.id, id)?.ok_or(ApiError::NotFound)?;
                faq::update(c, &f, actor, &input, body.status)?;
                id
            }
        };
        attach_uploads(c, service.id, Owner::Faq(id), &uploads)?;
        Ok(id)
    })
    .await?;
    faq_answer(&call, id).await
}

fn actor_for(conn: &mut DbConn, oucode: Option<&str>) -> Result<i64, ApiError> {
    if let Some(code) = oucode
        && let Some(u) = crate::tenancy::user::User::find_by_login(conn, code)?
        && u.active
    {
        return Ok(u.id);
    }
    users::table
        .filter(users::is_org_admin.eq(true))
        .filter(users::active.eq(true))
        .order(users::id.asc())
        .select(users::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::Internal("no active organization administrator".into()))
}

/// A flag from the query, a form field or the JSON body.
fn flag(call: &SignedCall, name: &str) -> Result<bool, ApiError> {
    if call.json
        && let Value::Object(o) = call.json_body()?
        && let Some(v) = b_of(&o, name)?
    {
        return Ok(v);
    }
    call.params
        .bool(name)?
        .ok_or_else(|| ApiError::required(name))
}

/// `PUT …/helpdoc/{id}/recommend.json` (L33) and `…/top.json` (L34).
pub async fn set_faq_flag(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = doc_id(&req)?;
    let top = req.path().ends_with("/top.json");
    let value = flag(&call, if top { "top" } else { "recommend" })?;
    let sid = call.service.id;
    write_api(&call, move |c| {
        let f = faq::find(c, sid, id)?.ok_or(ApiError::NotFound)?;
        let (pin_main, pin_category) = if top {
            (value, f.pin_category || value)
        } else {
            (f.pin_main && value, value)
        };
        diesel::update(faqs::table.find(id))
            .set((
                faqs::pin_main.eq(pin_main),
                faqs::pin_category.eq(pin_category),
                faqs::updated_at.eq(now()),
            ))
            .execute(c)?;
        Ok(())
    })
    .await?;
    ok_null()
}

/// `PUT …/helpdoc/{id}/close.json` (L35): unpublishes the document.
pub async fn close_faq(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = doc_id(&req)?;
    let sid = call.service.id;
    let oucode = call.oucode.clone();
    write_api(&call, move |c| {
        let f = faq::find(c, sid, id)?.ok_or(ApiError::NotFound)?;
        let actor = actor_for(c, oucode.as_deref())?;
        faq::set_status(c, &f, actor, DocStatus::Draft)?;
        Ok(())
    })
    .await?;
    ok_null()
}

/// `DELETE …/helpdoc/{id}.json` (L36).
pub async fn delete_faq(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = doc_id(&req)?;
    let sid = call.service.id;
    let paths = write_api(&call, move |c| {
        faq::find(c, sid, id)?.ok_or(ApiError::NotFound)?;
        let paths = Attachment::paths_of(c, Owner::Faq(id))?;
        faq::delete(c, id)?;
        Ok(paths)
    })
    .await?;
    attachments::remove_files_later(&call.state, paths).await;
    ok_null()
}

async fn doc_upload(req: HttpRequest, payload: web::Payload, kind: FileKind) -> ApiResult {
    let call = verify_call(&req, payload, too_large_message).await?;
    let lang = Params::parse(req.query_string(), None)
        .get("language")
        .and_then(Lang::parse)
        .unwrap_or(Lang::Ko);
    let Some(file) = call.file.clone() else {
        return Err(ApiError::BadRequest(
            "Multipart request but file is null".into(),
        ));
    };
    check_upload(&file, lang)?;
    let row = store_upload(&call, file, kind).await?;
    ok_content(row.doc_json())
}

/// `POST …/attachments/help/upload.json` (L42).
pub async fn upload_faq_file(req: HttpRequest, payload: web::Payload) -> ApiResult {
    doc_upload(req, payload, FileKind::Help).await
}

/// `POST …/attachments/notice/upload.json` (L56).
pub async fn upload_notice_file(req: HttpRequest, payload: web::Payload) -> ApiResult {
    doc_upload(req, payload, FileKind::Notice).await
}

/// `GET …/openapi/v2/attachments/{help|notice}/{id}` (L43, L57).
pub async fn download_doc_file(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let kind = if req.path().contains("/attachments/help/") {
        FileKind::Help
    } else {
        FileKind::Notice
    };
    let id = req.match_info().get("id").unwrap_or_default().to_string();
    let sid = call.service.id;
    let file = read_api(&call, move |c| Ok(files::find(c, sid, &id)?))
        .await?
        .filter(|f| f.kind == kind.as_str())
        .ok_or(ApiError::NotFound)?;
    let download = call
        .params
        .get("type")
        .is_some_and(|t| t.eq_ignore_ascii_case("download"));
    files::serve(&call.state, file, download).await
}

/// `DELETE …/attachments/{help|notice}/{id}.json` (L44, L58): removes the attachment from its
/// document (or an unused upload).
pub async fn delete_doc_file(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let kind = if req.path().contains("/attachments/help/") {
        FileKind::Help
    } else {
        FileKind::Notice
    };
    let id = req.match_info().get("id").unwrap_or_default().to_string();
    let sid = call.service.id;
    let path = write_api(&call, move |c| {
        let f = files::find(c, sid, &id)?
            .filter(|f| f.kind == kind.as_str())
            .ok_or(ApiError::NotFound)?;
        if let Some(a) = f.hc_attachment_id {
            diesel::delete(crate::db::schema::hc_attachments::table.find(a)).execute(c)?;
        }
        diesel::delete(crate::db::schema::api_files::table.find(&f.public_id)).execute(c)?;
        Ok(f.stored_path)
    })
    .await?;
    attachments::remove_files_later(&call.state, vec![path]).await;
    ok_null()
}

// ---------------------------------------------------------------------------------------------
// Headings and tags
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum LabelKind {
    Heading,
    Tag,
}

fn label_codes(conn: &mut DbConn, sid: i64, kind: LabelKind) -> QueryResult<HashMap<i64, String>> {
    let rows: Vec<(i64, String)> = match kind {
        LabelKind::Heading => api_heading_codes::table
            .filter(api_heading_codes::service_id.eq(sid))
            .select((api_heading_codes::heading_id, api_heading_codes::code))
            .load(conn)?,
        LabelKind::Tag => api_tag_codes::table
            .filter(api_tag_codes::service_id.eq(sid))
            .select((api_tag_codes::tag_id, api_tag_codes::code))
            .load(conn)?,
    };
    Ok(rows.into_iter().collect())
}

fn labels(conn: &mut DbConn, sid: i64, kind: LabelKind) -> QueryResult<Vec<notices::Label>> {
    match kind {
        LabelKind::Heading => notices::headings(conn, sid),
        LabelKind::Tag => notices::tags(conn, sid),
    }
}

fn resolve_label(
    conn: &mut DbConn,
    sid: i64,
    kind: LabelKind,
    key: &str,
) -> Result<notices::Label, ApiError> {
    let all = labels(conn, sid, kind)?;
    let id = match key.trim().parse::<i64>() {
        Ok(id) => id,
        Err(_) => label_codes(conn, sid, kind)?
            .into_iter()
            .find(|(_, c)| c == key.trim())
            .map(|(id, _)| id)
            .ok_or(ApiError::NotFound)?,
    };
    all.into_iter()
        .find(|l| l.id == id)
        .ok_or(ApiError::NotFound)
}

fn label_times(
    conn: &mut DbConn,
    kind: LabelKind,
    id: i64,
) -> QueryResult<(NaiveDateTime, NaiveDateTime, i32)> {
    match kind {
        LabelKind::Heading => notice_headings::table
            .find(id)
            .select((
                notice_headings::created_at,
                notice_headings::updated_at,
                notice_headings::position,
            ))
            .first(conn),
        LabelKind::Tag => notice_tags::table
            .find(id)
            .select((
                notice_tags::created_at,
                notice_tags::updated_at,
                0.into_sql::<diesel::sql_types::Integer>(),
            ))
            .first(conn),
    }
}

fn label_json(
    l: &notices::Label,
    code: Option<&String>,
    times: (NaiveDateTime, NaiveDateTime, i32),
    kind: LabelKind,
    service: &Service,
) -> Value {
    let lang = default_lang(service);
    let name = pick_name(&l.names, lang, lang);
    match kind {
        LabelKind::Tag => json!({
            "tagId": l.id,
            "tag": name,
            "tagCode": code,
            "serviceId": service.code,
            "createdDt": millis(times.0),
            "languages": names_object(&l.names),
        }),
        LabelKind::Heading => json!({
            "categoryId": l.id,
            "serviceId": service.code,
            "categoryCode": code,
            "parent": 0,
            "name": name,
            "level": 1,
            "path": "\\",
            "orderNo": times.2,
            "createdDt": millis(times.0),
            "updatedDt": millis(times.1),
            "languages": names_object(&l.names),
        }),
    }
}

fn kind_of(req: &HttpRequest) -> LabelKind {
    if req.path().contains("/notice/tag") {
        LabelKind::Tag
    } else {
        LabelKind::Heading
    }
}

async fn label_answer(call: &SignedCall, kind: LabelKind, id: i64) -> ApiResult {
    let sid = call.service.id;
    let (l, code, times) = read_api(call, move |c| {
        let l = resolve_label(c, sid, kind, &id.to_string())?;
        let code = label_codes(c, sid, kind)?.remove(&id);
        let times = label_times(c, kind, id)?;
        Ok((l, code, times))
    })
    .await?;
    ok_content(label_json(&l, code.as_ref(), times, kind, &call.service))
}

/// `GET …/notice/tags.json` (L59) and `GET …/openapi/v2/notice/categories.json` (L64).
pub async fn list_labels(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let kind = kind_of(&req);
    let keyword = call.params.get("tag").map(str::to_lowercase);
    let sid = call.service.id;
    let rows = read_api(&call, move |c| {
        let codes = label_codes(c, sid, kind)?;
        let mut out = Vec::new();
        for l in labels(c, sid, kind)? {
            let t = label_times(c, kind, l.id)?;
            out.push((l.clone(), codes.get(&l.id).cloned(), t));
        }
        Ok(out)
    })
    .await?;
    ok_contents(
        rows.iter()
            .filter(|(l, _, _)| {
                keyword
                    .as_ref()
                    .is_none_or(|k| l.names.values().any(|n| n.to_lowercase().contains(k)))
            })
            .map(|(l, code, t)| label_json(l, code.as_ref(), *t, kind, &call.service))
            .collect(),
    )
}

/// `GET …/notice/tag/{id}.json` (L60) and `GET …/openapi/v2/notice/category/{id}.json` (L65).
pub async fn get_label(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let kind = kind_of(&req);
    let key = req.match_info().get("id").unwrap_or_default().to_string();
    let sid = call.service.id;
    let id = read_api(&call, move |c| Ok(resolve_label(c, sid, kind, &key)?.id)).await?;
    label_answer(&call, kind, id).await
}

fn label_names(service: &Service, obj: &Map<String, Value>) -> Result<Names, ApiError> {
    let input = names_input(service, obj)?;
    Ok(input
        .names
        .into_iter()
        .filter(|(_, n)| !n.trim().is_empty())
        .map(|(l, n)| (l.code().to_string(), n.trim().to_string()))
        .collect())
}

fn set_label_code(
    conn: &mut DbConn,
    sid: i64,
    kind: LabelKind,
    id: i64,
    code: Option<&str>,
) -> Result<(), ApiError> {
    let Some(code) = code else { return Ok(()) };
    if label_codes(conn, sid, kind)?
        .iter()
        .any(|(other, c)| c == code && *other != id)
    {
        return Err(ApiError::duplicate("code"));
    }
    match kind {
        LabelKind::Heading => {
            diesel::delete(api_heading_codes::table.find(id)).execute(conn)?;
            diesel::insert_into(api_heading_codes::table)
                .values((
                    api_heading_codes::heading_id.eq(id),
                    api_heading_codes::service_id.eq(sid),
                    api_heading_codes::code.eq(code),
                ))
                .execute(conn)?;
        }
        LabelKind::Tag => {
            diesel::delete(api_tag_codes::table.find(id)).execute(conn)?;
            diesel::insert_into(api_tag_codes::table)
                .values((
                    api_tag_codes::tag_id.eq(id),
                    api_tag_codes::service_id.eq(sid),
                    api_tag_codes::code.eq(code),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

fn duplicate_name(
    conn: &mut DbConn,
    sid: i64,
    kind: LabelKind,
    names: &Names,
    except: Option<i64>,
) -> QueryResult<bool> {
    Ok(labels(conn, sid, kind)?.iter().any(|l| {
        Some(l.id) != except
            && names.iter().any(|(lang, n)| {
                l.names
                    .get(lang)
                    .is_some_and(|x| x.trim().eq_ignore_ascii_case(n.trim()))
            })
    }))
}

/// `POST …/notice/tag.json` (L61), `POST …/notice/category.json` (L66), and the updates
/// `PUT …/notice/tag/{id}.json` (L62), `POST|PUT …/notice/category/{id}.json` (L67).
pub async fn save_label(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let kind = kind_of(&req);
    let key = req.match_info().get("id").map(str::to_string);
    let obj = object(&call)?;
    let names = label_names(&call.service, &obj)?;
    let code_key = if kind == LabelKind::Tag {
        "tagCode"
    } else {
        "categoryCode"
    };
    let code = code_of(&obj, code_key)?;
    let order = i_of(&obj, "orderNo")?;
    let sid = call.service.id;
    let id = write_api(&call, move |c| {
        let existing = match &key {
            Some(k) => Some(resolve_label(c, sid, kind, k)?.id),
            None => None,
        };
        if duplicate_name(c, sid, kind, &names, existing)? {
            return Err(ApiError::duplicate("name"));
        }
        let id = match (existing, kind) {
            (None, LabelKind::Heading) => {
                if labels(c, sid, kind)?.len() as i64 >= notices::MAX_META {
                    return Err(ApiError::BadRequest("Too many headings".into()));
                }
                notices::create_heading(c, sid, &names)?
            }
            (None, LabelKind::Tag) => {
                if labels(c, sid, kind)?.len() as i64 >= notices::MAX_META {
                    return Err(ApiError::BadRequest("Too many tags".into()));
                }
                notices::create_tag(c, sid, &names)?
            }
            (Some(id), LabelKind::Heading) => {
                notices::rename_heading(c, sid, id, &names)?;
                id
            }
            (Some(id), LabelKind::Tag) => {
                notices::rename_tag(c, sid, id, &names)?;
                id
            }
        };
        if kind == LabelKind::Heading
            && let Some(o) = order
        {
            let o = i32::try_from(o).map_err(|_| bad("orderNo"))?;
            diesel::update(notice_headings::table.find(id))
                .set(notice_headings::position.eq(o.max(0)))
                .execute(c)?;
        }
        set_label_code(c, sid, kind, id, code.as_deref())?;
        Ok(id)
    })
    .await?;
    label_answer(&call, kind, id).await
}

/// `DELETE …/notice/tag/{id}.json` (L63) and `…/notice/category/{id}.json` (L68); a heading
/// still used by notices is refused.
pub async fn delete_label(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let kind = kind_of(&req);
    let key = req.match_info().get("id").unwrap_or_default().to_string();
    let sid = call.service.id;
    write_api(&call, move |c| {
        let l = resolve_label(c, sid, kind, &key)?;
        match kind {
            LabelKind::Heading => {
                if notices::heading_usage(c, l.id)? > 0 {
                    return Err(ApiError::BadRequest(
                        "The heading is used by notices".into(),
                    ));
                }
                notices::delete_heading(c, sid, l.id)?;
            }
            LabelKind::Tag => {
                notices::delete_tag(c, sid, l.id)?;
            }
        }
        Ok(())
    })
    .await?;
    ok_null()
}

// ---------------------------------------------------------------------------------------------
// Notices
// ---------------------------------------------------------------------------------------------

fn term_of(n: &notices::Notice) -> &'static str {
    match Period::at(n.starts_at, n.ends_at, now()) {
        Period::Reserved => "reservation",
        Period::InProgress => "open",
        Period::Done => "close",
    }
}

/// `yyyyMMdd000000` of a stored `YYYY-MM-DD` display date.
fn display_legacy(d: &str) -> String {
    format!("{}000000", d.replace('-', ""))
}

struct NoticeData {
    n: notices::Notice,
    rows: Vec<(String, String, String)>,
    atts: Vec<Value>,
    tags: Vec<i64>,
    heading: Option<notices::Label>,
    all_tags: HashMap<i64, notices::Label>,
}

fn load_notice(conn: &mut DbConn, sid: i64, id: i64) -> Result<NoticeData, ApiError> {
    let n = notices::find(conn, sid, id)?.ok_or(ApiError::NotFound)?;
    let rows = notices::contents(conn, id)?;
    let a = Attachment::of(conn, Owner::Notice(id))?;
    let atts = files::doc_list(conn, sid, FileKind::Notice, &a)?;
    let tags = notices::tag_ids_of(conn, &[id])?
        .remove(&id)
        .unwrap_or_default();
    let heading = notices::headings(conn, sid)?
        .into_iter()
        .find(|h| h.id == n.heading_id);
    let all_tags = notices::tags(conn, sid)?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    Ok(NoticeData {
        n,
        rows,
        atts,
        tags,
        heading,
        all_tags,
    })
}

fn notice_json(d: &NoticeData, service: &Service) -> Value {
    let tz = tz_of(service);
    let lang = default_lang(service);
    let (title, body) = d
        .rows
        .iter()
        .find(|(l, _, _)| l == lang.code())
        .or(d.rows.first())
        .map(|(_, t, b)| (t.clone(), b.clone()))
        .unwrap_or_default();
    json!({
        "noticeId": d.n.id,
        "serviceId": service.code,
        "status": status_code(&d.n.status),
        "categoryId": d.n.heading_id,
        "isTop": d.n.pinned,
        "term": term_of(&d.n),
        "title": title,
        "content": body,
        "startDt": d.n.starts_at.map(|t| legacy_dt(tz, t)).unwrap_or_else(|| legacy_dt(tz, d.n.created_at)),
        "endDt": d.n.ends_at.map(|t| legacy_dt(tz, t)).unwrap_or_default(),
        "displayDt": display_legacy(&d.n.display_date),
        "readCnt": d.n.view_count,
        "attachmentYn": if d.atts.is_empty() { "N" } else { "Y" },
        "userId": d.n.author_id,
        "createdDt": millis(d.n.created_at),
        "updatedDt": millis(d.n.updated_at),
        "contents": contents_json(&d.rows, &d.atts),
        "attachments": d.atts,
        "tags": d.tags.iter().filter_map(|t| d.all_tags.get(t)).map(|t| json!({"tagId": t.id, "names": names_object(&t.names)})).collect::<Vec<_>>(),
        "category": d.heading.as_ref().map(|h| json!({"categoryId": h.id, "names": names_object(&h.names)})),
    })
}

/// `GET …/multilanguage/notice/{id}.json` (L46).
pub async fn get_notice(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = doc_id(&req)?;
    let sid = call.service.id;
    let d = write_api(&call, move |c| load_notice(c, sid, id)).await?;
    ok_content(notice_json(&d, &call.service))
}

/// `GET …/multilanguage/notices.json?id=1,2,3` (L47): in the order asked, unknown IDs skipped.
pub async fn get_notices(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let ids = call.params.int_list("id")?;
    if ids.len() > 200 {
        return Err(ApiError::invalid("id"));
    }
    let sid = call.service.id;
    let list = write_api(&call, move |c| {
        let mut out = Vec::new();
        for id in ids {
            match load_notice(c, sid, id) {
                Ok(d) => out.push(d),
                Err(ApiError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    })
    .await?;
    ok_contents(list.iter().map(|d| notice_json(d, &call.service)).collect())
}

/// `GET …/multilanguage/notice.json` (L45).
pub async fn list_notices(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let p = call.params.clone();
    let tz = tz_of(&call.service);
    let paging = p.paging(10, super::envelope::MAX_PAGE_SIZE)?;
    let dt = |name: &str| -> Result<Option<NaiveDateTime>, ApiError> {
        match p.get(name) {
            None => Ok(None),
            Some(s) => parse_legacy_dt(tz, s)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(name)),
        }
    };
    let (created_from, created_to) = (dt("startDt")?, dt("endDt")?);
    let (term_from, term_to) = (dt("termStart")?, dt("termEnd")?);
    let date_field = p.get("dateField").unwrap_or("createdDt").to_string();
    let heading = p.int("categoryId")?;
    let tags = p.int_list("tag")?;
    let author = p.int("userId")?;
    let top = p.bool("top")?;
    let term = p.get("term").map(str::to_string);
    if term
        .as_deref()
        .is_some_and(|t| !matches!(t, "reservation" | "open" | "close"))
    {
        return Err(ApiError::invalid("term"));
    }
    let status = match p.get("status") {
        Some(s) => Some(legacy_status(s).ok_or_else(|| ApiError::invalid("status"))?),
        None => None,
    };
    let query = p
        .get("keyword")
        .or(p.get("query"))
        .and_then(SearchQuery::parse);
    let sort = parse_sort(
        p.get("sort"),
        &["isTop", "createdDt", "updatedDt", "displayDt"],
        "isTop:desc,createdDt:desc",
    );
    let lang = super::envelope::pick_lang(&call.service, p.get("language"));
    let service = call.service.clone();
    let (rows, total, texts, tag_map, heads, all_tags, names) = read_api(&call, move |c| {
        let at = now();
        let base = |c: &DbConn| {
            let mut q = nt::table.filter(nt::service_id.eq(service.id)).into_boxed();
            if let Some(h) = heading {
                q = q.filter(nt::heading_id.eq(h));
            }
            if !tags.is_empty() {
                q = q.filter(
                    nt::id.eq_any(
                        notice_tag_links::table
                            .filter(notice_tag_links::tag_id.eq_any(tags.clone()))
                            .select(notice_tag_links::notice_id),
                    ),
                );
            }
            if let Some(a) = author {
                q = q.filter(nt::author_id.eq(a));
            }
            if let Some(t) = top {
                q = q.filter(nt::pinned.eq(t));
            }
            if let Some(s) = status {
                q = q.filter(nt::status.eq(s.as_str()));
            }
            match term.as_deref() {
                Some("reservation") => q = q.filter(nt::starts_at.gt(at)),
                Some("open") => {
                    q = q
                        .filter(nt::starts_at.is_null().or(nt::starts_at.le(at)))
                        .filter(nt::ends_at.is_null().or(nt::ends_at.gt(at)));
                }
                Some("close") => q = q.filter(nt::ends_at.le(at)),
                _ => {}
            }
            match date_field.as_str() {
                "startDt" => {
                    if let Some(f) = term_from {
                        q = q.filter(nt::starts_at.ge(f));
                    }
                    if let Some(t) = term_to {
                        q = q.filter(nt::starts_at.le(t));
                    }
                }
                "endDt" => {
                    if let Some(f) = term_from {
                        q = q.filter(nt::ends_at.ge(f));
                    }
                    if let Some(t) = term_to {
                        q = q.filter(nt::ends_at.le(t));
                    }
                }
                "startAndEnd" => {
                    if let Some(f) = term_from {
                        q = q.filter(nt::starts_at.ge(f));
                    }
                    if let Some(t) = term_to {
                        q = q.filter(nt::ends_at.le(t));
                    }
                }
                _ => {
                    if let Some(f) = created_from {
                        q = q.filter(nt::created_at.ge(f));
                    }
                    if let Some(t) = created_to {
                        q = q.filter(nt::created_at.le(t));
                    }
                }
            }
            if let Some(query) = &query {
                q = q.filter(crate::db::search::fts_filter(
                    c,
                    crate::db::search::FtsTable::Notices,
                    query,
                ));
            }
            q
        };
        let total: i64 = base(c).count().get_result(c)?;
        let mut q = base(c);
        for k in &sort {
            q = match (k.field.as_str(), k.desc) {
                ("isTop", true) => q.then_order_by(nt::pinned.desc()),
                ("isTop", false) => q.then_order_by(nt::pinned.asc()),
                ("createdDt", true) => q.then_order_by(nt::created_at.desc()),
                ("createdDt", false) => q.then_order_by(nt::created_at.asc()),
                ("updatedDt", true) => q.then_order_by(nt::updated_at.desc()),
                ("updatedDt", false) => q.then_order_by(nt::updated_at.asc()),
                ("displayDt", true) => q.then_order_by(nt::display_date.desc()),
                _ => q.then_order_by(nt::display_date.asc()),
            };
        }
        let rows: Vec<notices::Notice> = q
            .then_order_by(nt::id.desc())
            .offset(paging.offset())
            .limit(paging.size)
            .select(notices::Notice::as_select())
            .load(c)?;
        let ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
        let texts = notices::localized(c, &ids, lang, default_lang(&service))?;
        let tag_map = notices::tag_ids_of(c, &ids)?;
        let heads: HashMap<i64, notices::Label> = notices::headings(c, service.id)?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
        let all_tags: HashMap<i64, notices::Label> = notices::tags(c, service.id)?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let names = user_names(c, rows.iter().filter_map(|n| n.author_id).collect())?;
        Ok((rows, total, texts, tag_map, heads, all_tags, names))
    })
    .await?;
    let fallback = default_lang(&call.service);
    let items = rows
        .iter()
        .map(|n| {
            let (title, _) = texts.get(&n.id).cloned().unwrap_or_default();
            let head = heads.get(&n.heading_id);
            json!({
                "noticeId": n.id,
                "language": lang.code(),
                "serviceId": call.service.code,
                "status": status_code(&n.status),
                "categoryId": n.heading_id,
                "isTop": n.pinned,
                "term": term_of(n),
                "title": title,
                "startDt": n.starts_at.map(|t| legacy_dt(tz, t)).unwrap_or_else(|| legacy_dt(tz, n.created_at)),
                "endDt": n.ends_at.map(|t| legacy_dt(tz, t)).unwrap_or_default(),
                "displayDt": display_legacy(&n.display_date),
                "readCnt": n.view_count,
                "userId": n.author_id,
                "createdDt": millis(n.created_at),
                "updatedDt": millis(n.updated_at),
                "tags": tag_map.get(&n.id).map(|ids| ids.iter().filter_map(|t| all_tags.get(t)).map(|t| json!({"tagId": t.id, "tag": pick_name(&t.names, lang, fallback)})).collect::<Vec<_>>()).unwrap_or_default(),
                "userName": n.author_id.and_then(|a| names.get(&a).cloned()),
                "categoryName": head.map(|h| pick_name(&h.names, lang, fallback)),
                "category": head.map(|h| json!({"categoryId": h.id, "name": pick_name(&h.names, lang, fallback), "names": names_object(&h.names)})),
            })
        })
        .collect();
    ok_page(items, total, paging)
}

fn tag_ids(obj: &Map<String, Value>) -> Result<Vec<i64>, ApiError> {
    match obj.get("tags") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.get("tagId")
                    .and_then(|v| {
                        v.as_i64()
                            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    })
                    .or_else(|| i.as_i64())
                    .ok_or_else(|| bad("tags"))
            })
            .collect(),
        Some(_) => Err(bad("tags")),
    }
}

fn check_refs(conn: &mut DbConn, sid: i64, heading: i64, tags: &[i64]) -> Result<(), ApiError> {
    if !notices::headings(conn, sid)?
        .iter()
        .any(|h| h.id == heading)
    {
        return Err(ApiError::missing_ref("categoryId"));
    }
    let known: Vec<i64> = notices::tags(conn, sid)?.iter().map(|t| t.id).collect();
    if tags.iter().any(|t| !known.contains(t)) {
        return Err(ApiError::missing_ref("tagId"));
    }
    Ok(())
}

/// `POST …/multilanguage/notice.json` (L48) and `PUT …/multilanguage/notice/{id}.json` (L49).
pub async fn save_notice(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let existing = if req.method() == actix_web::http::Method::PUT {
        Some(doc_id(&req)?)
    } else {
        None
    };
    let obj = object(&call)?;
    let tz = tz_of(&call.service);
    let status = legacy_status(&s_of(&obj, "status")?.ok_or_else(|| required("status"))?)
        .ok_or_else(|| bad("status"))?;
    let heading = i_of(&obj, "categoryId")?.ok_or_else(|| required("categoryId"))?;
    let pinned = b_of(&obj, "isTop")?.ok_or_else(|| required("isTop"))?;
    let start_s = s_of(&obj, "startDt")?.ok_or_else(|| required("startDt"))?;
    let starts = parse_legacy_dt(tz, &start_s).ok_or_else(|| bad("startDt"))?;
    let ends = match s_of(&obj, "endDt")?.filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(parse_legacy_dt(tz, &s).ok_or_else(|| bad("endDt"))?),
        None => None,
    };
    if ends.is_some_and(|e| e <= starts) {
        return Err(bad("endDt"));
    }
    let display = match s_of(&obj, "displayDt")?.filter(|s| !s.trim().is_empty()) {
        Some(s) => parse_legacy_dt(tz, &s)
            .or_else(|| {
                NaiveDate::parse_from_str(s.trim(), "%Y%m%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .and_then(|d| tz.from_local_datetime(&d).earliest())
                    .map(|d| d.naive_utc())
            })
            .ok_or_else(|| bad("displayDt"))?,
        None => starts,
    };
    let display_date = tz
        .from_utc_datetime(&display)
        .format("%Y-%m-%d")
        .to_string();
    let tags = tag_ids(&obj)?;
    let (contents, att_ids) = read_body_contents(&call.service, &obj, true)?;
    let sid = call.service.id;
    let oucode = call.oucode.clone();
    let id = write_api(&call, move |c| {
        check_refs(c, sid, heading, &tags)?;
        let actor = actor_for(c, oucode.as_deref())?;
        let input = notices::NoticeInput {
            heading_id: heading,
            tag_ids: tags,
            pinned,
            display_date,
            starts_at: Some(starts),
            ends_at: ends,
            contents,
        };
        let uploads = take_uploads(c, sid, FileKind::Notice, &att_ids)?;
        let id = match existing {
            None => notices::create(c, sid, actor, &input, status)?,
            Some(id) => {
                let n = notices::find(c, sid, id)?.ok_or(ApiError::NotFound)?;
                notices::update(c, &n, actor, &input, status)?;
                id
            }
        };
        attach_uploads(c, sid, Owner::Notice(id), &uploads)?;
        load_notice(c, sid, id)
    })
    .await?;
    ok_content(notice_json(&id, &call.service))
}

/// `DELETE …/multilanguage/notice/{id}.json` (L50).
pub async fn delete_notice(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = doc_id(&req)?;
    let sid = call.service.id;
    let paths = write_api(&call, move |c| {
        notices::find(c, sid, id)?.ok_or(ApiError::NotFound)?;
        let paths = Attachment::paths_of(c, Owner::Notice(id))?;
        notices::delete(c, id)?;
        Ok(paths)
    })
    .await?;
    attachments::remove_files_later(&call.state, paths).await;
    ok_null()
}

// ---------------------------------------------------------------------------------------------
// Notice templates
// ---------------------------------------------------------------------------------------------

type TemplateMeta = (String, String, Option<i64>);

fn template_meta(conn: &mut DbConn, id: i64) -> QueryResult<TemplateMeta> {
    Ok(api_template_meta::table
        .find(id)
        .select((
            api_template_meta::status,
            api_template_meta::memo,
            api_template_meta::user_id,
        ))
        .first(conn)
        .optional()?
        .unwrap_or_else(|| ("O".into(), String::new(), None)))
}

fn template_json(
    t: &notices::NoticeTemplate,
    meta: &TemplateMeta,
    heads: &HashMap<i64, notices::Label>,
    tags: &HashMap<i64, notices::Label>,
    service: &Service,
    list_item: bool,
) -> Value {
    let lang = default_lang(service);
    let rows = t.rows();
    let (title, body) = rows
        .iter()
        .find(|(l, _, _)| l == lang.code())
        .or(rows.first())
        .map(|(_, t, b)| (t.clone(), b.clone()))
        .unwrap_or_default();
    let mut contents = Map::new();
    for (l, ti, b) in &rows {
        contents.insert(l.clone(), json!({"title": ti, "content": b}));
    }
    let head = t.heading_id.and_then(|h| heads.get(&h));
    let tag_list: Vec<Value> = t
        .tags()
        .iter()
        .filter_map(|id| tags.get(id))
        .map(|tg| {
            json!({"tagId": tg.id, "tag": pick_name(&tg.names, lang, lang), "names": names_object(&tg.names)})
        })
        .collect();
    let mut v = json!({
        "noticeId": t.id,
        "serviceId": service.code,
        "status": meta.0,
        "categoryId": t.heading_id,
        "title": title,
        "content": body,
        "userId": meta.2,
        "createdDt": millis(t.created_at),
        "updatedDt": millis(t.updated_at),
        "contents": contents,
        "tags": tag_list,
        "category": head.map(|h| json!({"categoryId": h.id, "names": names_object(&h.names)})),
        "subject": t.name,
        "memo": meta.1,
    });
    if list_item {
        v["language"] = json!(lang.code());
        v["readCnt"] = json!(0);
        v["categoryName"] = json!(head.map(|h| pick_name(&h.names, lang, lang)));
    }
    v
}

struct TemplateCtx {
    heads: HashMap<i64, notices::Label>,
    tags: HashMap<i64, notices::Label>,
}

fn template_ctx(conn: &mut DbConn, sid: i64) -> QueryResult<TemplateCtx> {
    Ok(TemplateCtx {
        heads: notices::headings(conn, sid)?
            .into_iter()
            .map(|h| (h.id, h))
            .collect(),
        tags: notices::tags(conn, sid)?
            .into_iter()
            .map(|t| (t.id, t))
            .collect(),
    })
}

/// `GET …/multilanguage/notice/template.json` (L51).
pub async fn list_templates(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let p = call.params.clone();
    let paging = p.paging(10, super::envelope::MAX_PAGE_SIZE)?;
    let heading = p.int("categoryId")?;
    let tags = p.int_list("tag")?;
    let status = p.get("status").map(str::to_string);
    let keyword = p.get("keyword").map(str::to_lowercase);
    let user = p.int("userId")?;
    let sid = call.service.id;
    let (all, metas, ctx) = read_api(&call, move |c| {
        let all = notices::templates(c, sid)?;
        let mut metas = HashMap::new();
        for t in &all {
            metas.insert(t.id, template_meta(c, t.id)?);
        }
        Ok((all, metas, template_ctx(c, sid)?))
    })
    .await?;
    let filtered: Vec<&notices::NoticeTemplate> = all
        .iter()
        .filter(|t| heading.is_none_or(|h| t.heading_id == Some(h)))
        .filter(|t| tags.is_empty() || t.tags().iter().any(|x| tags.contains(x)))
        .filter(|t| {
            status
                .as_ref()
                .is_none_or(|s| metas.get(&t.id).is_some_and(|m| &m.0 == s))
        })
        .filter(|t| user.is_none_or(|u| metas.get(&t.id).is_some_and(|m| m.2 == Some(u))))
        .filter(|t| {
            keyword.as_ref().is_none_or(|k| {
                t.name.to_lowercase().contains(k)
                    || t.rows().iter().any(|(_, ti, b)| {
                        ti.to_lowercase().contains(k) || b.to_lowercase().contains(k)
                    })
            })
        })
        .collect();
    let total = filtered.len() as i64;
    let page = paging.slice(&filtered);
    let fallback = ("O".to_string(), String::new(), None);
    ok_page(
        page.iter()
            .map(|t| {
                template_json(
                    t,
                    metas.get(&t.id).unwrap_or(&fallback),
                    &ctx.heads,
                    &ctx.tags,
                    &call.service,
                    true,
                )
            })
            .collect(),
        total,
        paging,
    )
}

async fn template_answer(call: &SignedCall, id: i64) -> ApiResult {
    let sid = call.service.id;
    let (t, meta, ctx) = read_api(call, move |c| {
        let t = notices::find_template(c, sid, id)?.ok_or(ApiError::NotFound)?;
        Ok((t, template_meta(c, id)?, template_ctx(c, sid)?))
    })
    .await?;
    ok_content(template_json(
        &t,
        &meta,
        &ctx.heads,
        &ctx.tags,
        &call.service,
        false,
    ))
}

/// `GET …/multilanguage/notice/template/{id}.json` (L52).
pub async fn get_template(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = doc_id(&req)?;
    template_answer(&call, id).await
}

/// `POST …/multilanguage/notice/template.json` (L53) and `PUT …/template/{id}.json` (L54).
pub async fn save_template(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let existing = if req.method() == actix_web::http::Method::PUT {
        Some(doc_id(&req)?)
    } else {
        None
    };
    let obj = object(&call)?;
    let status = s_of(&obj, "status")?.ok_or_else(|| required("status"))?;
    if !matches!(status.as_str(), "O" | "C") {
        return Err(bad("status"));
    }
    let heading = i_of(&obj, "categoryId")?.ok_or_else(|| required("categoryId"))?;
    let subject = s_of(&obj, "subject")?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| required("subject"))?;
    if subject.chars().count() > crate::common::names::MAX_NAME {
        return Err(bad("subject"));
    }
    let memo = s_of(&obj, "memo")?.ok_or_else(|| required("memo"))?;
    if memo.chars().count() > 1000 {
        return Err(bad("memo"));
    }
    let tags = tag_ids(&obj)?;
    let (contents, _) = read_body_contents(&call.service, &obj, false)?;
    let sid = call.service.id;
    let oucode = call.oucode.clone();
    let id = write_api(&call, move |c| {
        check_refs(c, sid, heading, &tags)?;
        let actor = actor_for(c, oucode.as_deref())?;
        if existing.is_none() && notices::templates(c, sid)?.len() as i64 >= notices::MAX_META {
            return Err(ApiError::BadRequest("Too many templates".into()));
        }
        let input = notices::TemplateInput {
            name: subject,
            heading_id: Some(heading),
            tag_ids: tags,
            contents,
        };
        let id = notices::save_template(c, sid, existing, &input)?.ok_or(ApiError::NotFound)?;
        diesel::delete(api_template_meta::table.find(id)).execute(c)?;
        diesel::insert_into(api_template_meta::table)
            .values((
                api_template_meta::template_id.eq(id),
                api_template_meta::status.eq(&status),
                api_template_meta::memo.eq(&memo),
                api_template_meta::user_id.eq(Some(actor)),
            ))
            .execute(c)?;
        Ok(id)
    })
    .await?;
    template_answer(&call, id).await
}

/// `DELETE …/multilanguage/notice/template/{id}.json` (L55).
pub async fn delete_template(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = call_of(&req, payload).await?;
    let id = doc_id(&req)?;
    let sid = call.service.id;
    write_api(&call, move |c| {
        if !notices::delete_template(c, sid, id)? {
            return Err(ApiError::NotFound);
        }
        Ok(())
    })
    .await?;
    ok_null()
}
