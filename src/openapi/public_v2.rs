//! The public `/{serviceId}/api/v2/…` family (API.md §7.1–§7.5.3): service detail, notice
//! headings, tags, list, detail and attachments, FAQ categories, list, detail and attachments,
//! intake types, an intake type's customer fields, and ticket attachment downloads. No
//! signature: signature headers sent here are ignored (C-2). Only published content inside its
//! display period is shown; detail calls count a read.

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpRequest, web};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::AppState;
use crate::categories::model::{Node, helpcenter_nodes};
use crate::common::names::pick_name;
use crate::common::text::html_to_text;
use crate::db::schema::{faqs, notice_tag_links, notices as nt};
use crate::db::search::{FtsTable, SearchQuery, fts_filter};
use crate::db::types::ServiceKind;
use crate::db::{DbConn, now};
use crate::fields::layout::customer_form;
use crate::fields::model::Control;
use crate::help_center::attachments::{Attachment, Owner};
use crate::help_center::content::DocStatus;
use crate::help_center::faq::{self, FaqCategory, Tree};
use crate::help_center::notices::{self, Label, Notice};
use crate::help_center::settings::HcSettings;
use crate::i18n::Lang;
use crate::tenancy::service::Service;
use crate::tenancy::service::{default_lang, service_langs};

use super::envelope::{
    ApiError, ApiResult, MAX_PAGE_SIZE, Params, is_today, millis, names_object, ok_content,
    ok_contents, ok_page, parse_sort, pick_lang, tz_of,
};
use super::files::{self, FileKind};

/// The help-center service of the path (enabled consultation services only).
pub async fn public_service(state: &web::Data<AppState>, code: &str) -> Result<Service, ApiError> {
    let code = code.to_string();
    state
        .db
        .read(move |c| Ok(Service::find_by_code(c, &code)?))
        .await?
        .filter(|s| s.enabled && s.kind() == ServiceKind::Consultation)
        .ok_or(ApiError::NotFound)
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("app state missing".into()))
}

/// What every handler of the family starts from.
struct Call {
    state: web::Data<AppState>,
    service: Service,
    params: Params,
    lang: Lang,
    fallback: Lang,
}

async fn call(req: &HttpRequest) -> Result<Call, ApiError> {
    let state = state_of(req)?;
    let code = req.match_info().get("service_id").unwrap_or_default();
    let service = public_service(&state, code).await?;
    let params = Params::parse(req.query_string(), None);
    let lang = pick_lang(&service, params.get("language"));
    let fallback = default_lang(&service);
    Ok(Call {
        state,
        service,
        params,
        lang,
        fallback,
    })
}

/// A category node as §1.10 describes it.
#[derive(Debug, Clone)]
pub struct CatNode {
    /// ID.
    pub id: i64,
    /// Parent ID.
    pub parent: Option<i64>,
    /// Depth, 1-based.
    pub level: i32,
    /// Order among siblings.
    pub order: i32,
    /// Names per language.
    pub names: BTreeMap<String, String>,
}

impl From<&Node> for CatNode {
    fn from(n: &Node) -> CatNode {
        CatNode {
            id: n.id,
            parent: n.parent_id,
            level: n.level,
            order: n.position,
            names: n.names.clone(),
        }
    }
}

/// `\` followed by each ancestor ID and a backslash (C-52).
pub fn node_path(n: &CatNode, by_id: &HashMap<i64, CatNode>) -> String {
    let mut ids = Vec::new();
    let mut cur = n.parent;
    while let Some(p) = cur {
        if ids.len() > 10 {
            break;
        }
        ids.push(p);
        cur = by_id.get(&p).and_then(|x| x.parent);
    }
    ids.reverse();
    let mut s = String::from("\\");
    for id in ids {
        s.push_str(&format!("{id}\\"));
    }
    s
}

/// The §1.10 JSON of a node.
pub fn node_json(n: &CatNode, by_id: &HashMap<i64, CatNode>, lang: Lang, fallback: Lang) -> Value {
    json!({
        "categoryId": n.id,
        "parent": n.parent.unwrap_or(0),
        "name": pick_name(&n.names, lang, fallback),
        "level": n.level,
        "path": node_path(n, by_id),
        "orderNo": n.order,
        "languages": names_object(&n.names),
    })
}

/// Nodes sorted as documented (orderNo, level, categoryId) as JSON.
fn nodes_json(nodes: &[CatNode], lang: Lang, fallback: Lang) -> Vec<Value> {
    let by_id: HashMap<i64, CatNode> = nodes.iter().map(|n| (n.id, n.clone())).collect();
    let mut sorted = nodes.to_vec();
    sorted.sort_by_key(|n| (n.order, n.level, n.id));
    sorted
        .iter()
        .map(|n| node_json(n, &by_id, lang, fallback))
        .collect()
}

fn faq_nodes(cats: &[FaqCategory], order: &HashMap<i64, i32>) -> Vec<CatNode> {
    cats.iter()
        .map(|c| CatNode {
            id: c.id,
            parent: c.parent_id,
            level: c.level,
            order: order.get(&c.id).copied().unwrap_or(0),
            names: c.names.clone(),
        })
        .collect()
}

/// The FAQ tree as nodes (positions read alongside).
pub fn load_faq_nodes(conn: &mut DbConn, service_id: i64) -> QueryResult<Vec<CatNode>> {
    use crate::db::schema::categories;
    use crate::db::types::CategoryTree;
    let cats = faq::category_tree(conn, service_id)?;
    let order: HashMap<i64, i32> = categories::table
        .filter(categories::service_id.eq(service_id))
        .filter(categories::tree.eq(CategoryTree::Faq.as_str()))
        .select((categories::id, categories::position))
        .load::<(i64, i32)>(conn)?
        .into_iter()
        .collect();
    Ok(faq_nodes(&cats, &order))
}

/// `GET /{serviceId}/api/v2/service.json` (P1).
pub async fn service_detail(req: HttpRequest) -> ApiResult {
    let c = call(&req).await?;
    let sid = c.service.id;
    let settings = c
        .state
        .db
        .read(move |conn| Ok(HcSettings::load(conn, sid)?))
        .await?;
    let base = c.state.config.base_url.clone();
    let langs = service_langs(&c.service);
    let file_url = settings
        .logo_path
        .as_ref()
        .map(|_| format!("{base}/{}/hc/logo?v={}", c.service.code, settings.version()));
    ok_content(json!({
        "serviceId": c.service.code,
        "name": c.service.name,
        "profile": {"fileUrl": file_url},
        "language": c.fallback.code(),
        "languages": langs.iter().enumerate().map(|(i, l)| json!({
            "code": l.code(), "name": l.native_name(), "orderNo": i,
        })).collect::<Vec<_>>(),
        "multiLanguage": langs.len() > 1,
    }))
}

fn heading_json(h: &Label, order: usize, lang: Lang, fallback: Lang) -> Value {
    json!({
        "categoryId": h.id,
        "parent": 0,
        "name": pick_name(&h.names, lang, fallback),
        "level": 1,
        "path": "\\",
        "orderNo": order,
        "languages": names_object(&h.names),
    })
}

fn require_feature(ok: bool) -> Result<(), ApiError> {
    if ok { Ok(()) } else { Err(ApiError::NotFound) }
}

/// `GET /{serviceId}/api/v2/notice/categories.json` (P2).
pub async fn notice_categories(req: HttpRequest) -> ApiResult {
    let c = call(&req).await?;
    require_feature(c.service.features().notice)?;
    let sid = c.service.id;
    let heads = c
        .state
        .db
        .read(move |conn| Ok(notices::headings(conn, sid)?))
        .await?;
    ok_contents(
        heads
            .iter()
            .enumerate()
            .map(|(i, h)| heading_json(h, i, c.lang, c.fallback))
            .collect(),
    )
}

/// `GET /{serviceId}/api/v2/notice/tags.json` (P3): `language` names a language when the
/// service offers it, otherwise it filters tag names like `tag` (C-3).
pub async fn notice_tags(req: HttpRequest) -> ApiResult {
    let c = call(&req).await?;
    require_feature(c.service.features().notice)?;
    let offered = service_langs(&c.service);
    let lang_param = c.params.get("language");
    let is_lang = lang_param
        .and_then(Lang::parse)
        .is_some_and(|l| offered.contains(&l));
    let keyword = c
        .params
        .get("tag")
        .or(if is_lang { None } else { lang_param })
        .map(str::to_lowercase);
    let sid = c.service.id;
    let tags = c
        .state
        .db
        .read(move |conn| Ok(notices::tags(conn, sid)?))
        .await?;
    ok_contents(
        tags.iter()
            .filter(|t| {
                keyword
                    .as_ref()
                    .is_none_or(|k| t.names.values().any(|n| n.to_lowercase().contains(k)))
            })
            .map(|t| {
                json!({
                    "tagId": t.id,
                    "tag": pick_name(&t.names, c.lang, c.fallback),
                    "languages": names_object(&t.names),
                })
            })
            .collect(),
    )
}

type NoticeQuery<'a> = nt::BoxedQuery<'a, crate::db::MultiBackend>;

fn visible_notices<'a>(
    conn: &DbConn,
    service_id: i64,
    category: Option<i64>,
    tag: Option<i64>,
    query: Option<&SearchQuery>,
) -> NoticeQuery<'a> {
    let at = now();
    let mut q = nt::table
        .filter(nt::service_id.eq(service_id))
        .filter(nt::status.eq(DocStatus::Published.as_str()))
        .filter(nt::starts_at.is_null().or(nt::starts_at.le(at)))
        .filter(nt::ends_at.is_null().or(nt::ends_at.gt(at)))
        .into_boxed();
    if let Some(h) = category {
        q = q.filter(nt::heading_id.eq(h));
    }
    if let Some(t) = tag {
        q = q.filter(
            nt::id.eq_any(
                notice_tag_links::table
                    .filter(notice_tag_links::tag_id.eq(t))
                    .select(notice_tag_links::notice_id),
            ),
        );
    }
    if let Some(query) = query {
        q = q.filter(fts_filter(conn, FtsTable::Notices, query));
    }
    q
}

/// `yyyy.MM.dd` of a stored `YYYY-MM-DD` display date.
fn dotted(date: &str) -> String {
    date.replace('-', ".")
}

fn notice_is_new(tz: chrono_tz::Tz, display_date: &str) -> bool {
    use chrono::TimeZone;
    let today = tz.from_utc_datetime(&now()).format("%Y-%m-%d").to_string();
    display_date == today
}

/// Names of headings and tags, loaded once.
struct NoticeLabels {
    headings: HashMap<i64, Label>,
    tags: HashMap<i64, Label>,
}

fn labels(conn: &mut DbConn, service_id: i64) -> QueryResult<NoticeLabels> {
    Ok(NoticeLabels {
        headings: notices::headings(conn, service_id)?
            .into_iter()
            .map(|h| (h.id, h))
            .collect(),
        tags: notices::tags(conn, service_id)?
            .into_iter()
            .map(|t| (t.id, t))
            .collect(),
    })
}

/// `GET /{serviceId}/api/v2/notice/list.json` (P4).
pub async fn notice_list(req: HttpRequest) -> ApiResult {
    let c = call(&req).await?;
    require_feature(c.service.features().notice)?;
    let paging = c.params.paging(10, MAX_PAGE_SIZE)?;
    let category = c.params.int("categoryId")?;
    let tag = c.params.int("tagId")?;
    let query = c.params.get("query").and_then(SearchQuery::parse);
    let sort = parse_sort(
        c.params.get("sort"),
        &["isTop", "createdDt", "updatedDt", "displayDt"],
        "isTop:desc,displayDt:desc,updatedDt:desc",
    );
    let (sid, lang, fallback) = (c.service.id, c.lang, c.fallback);
    let tz = tz_of(&c.service);
    let (rows, total, texts, tag_map, names) = c
        .state
        .db
        .read(move |conn| {
            let total: i64 = visible_notices(conn, sid, category, tag, query.as_ref())
                .count()
                .get_result(conn)?;
            let mut q = visible_notices(conn, sid, category, tag, query.as_ref());
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
            let rows: Vec<Notice> = q
                .then_order_by(nt::id.desc())
                .offset(paging.offset())
                .limit(paging.size)
                .select(Notice::as_select())
                .load(conn)?;
            let ids: Vec<i64> = rows.iter().map(|n| n.id).collect();
            let texts = notices::localized(conn, &ids, lang, fallback)?;
            let tag_map = notices::tag_ids_of(conn, &ids)?;
            Ok((rows, total, texts, tag_map, labels(conn, sid)?))
        })
        .await?;
    let items = rows
        .iter()
        .map(|n| {
            let (title, body) = texts.get(&n.id).cloned().unwrap_or_default();
            let tag_names: Vec<String> = tag_map
                .get(&n.id)
                .map(|ids| {
                    ids.iter()
                        .filter_map(|t| names.tags.get(t))
                        .map(|t| pick_name(&t.names, lang, fallback))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "noticeId": n.id,
                "categoryId": n.heading_id,
                "isTop": n.pinned,
                "title": title,
                "content": html_to_text(&body).trim(),
                "displayDt": dotted(&n.display_date),
                "updatedDt": millis(n.updated_at),
                "categoryName": names.headings.get(&n.heading_id)
                    .map(|h| pick_name(&h.names, lang, fallback)),
                "tagStr": if tag_names.is_empty() { Value::Null } else { Value::from(tag_names.join(",")) },
                "isNew": notice_is_new(tz, &n.display_date),
            })
        })
        .collect();
    ok_page(items, total, paging)
}

fn path_id(req: &HttpRequest) -> Result<i64, ApiError> {
    req.match_info()
        .get("id")
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or(ApiError::NotFound)
}

/// `GET /{serviceId}/api/v2/notice/detail/{id}.json` (P5): counts a read.
pub async fn notice_detail(req: HttpRequest) -> ApiResult {
    let c = call(&req).await?;
    require_feature(c.service.features().notice)?;
    let id = path_id(&req)?;
    let (sid, lang, fallback) = (c.service.id, c.lang, c.fallback);
    let tz = tz_of(&c.service);
    let (n, texts, tag_ids, names, attachments) = c
        .state
        .db
        .write(move |conn| {
            let n = notices::find_visible(conn, sid, id, now())?
                .ok_or(crate::error::AppError::NotFound)?;
            notices::count_view(conn, id)?;
            let texts = notices::localized(conn, &[id], lang, fallback)?;
            let tag_ids = notices::tag_ids_of(conn, &[id])?;
            let atts = Attachment::of(conn, Owner::Notice(id))?;
            let list = files::doc_list(conn, sid, FileKind::Notice, &atts)?;
            Ok((n, texts, tag_ids, labels(conn, sid)?, list))
        })
        .await?;
    let (title, body) = texts.get(&n.id).cloned().unwrap_or_default();
    let tags: Vec<Value> = tag_ids
        .get(&n.id)
        .map(|ids| {
            ids.iter()
                .filter_map(|t| names.tags.get(t))
                .map(|t| json!({"tagId": t.id, "tag": pick_name(&t.names, lang, fallback)}))
                .collect()
        })
        .unwrap_or_default();
    ok_content(json!({
        "noticeId": n.id,
        "categoryId": n.heading_id,
        "isTop": n.pinned,
        "title": title,
        "content": body,
        "displayDt": dotted(&n.display_date),
        "attachmentYn": if attachments.is_empty() { "N" } else { "Y" },
        "readCnt": n.view_count + 1,
        "updatedDt": millis(n.updated_at),
        "attachments": attachments,
        "tags": tags,
        "categoryName": names.headings.get(&n.heading_id).map(|h| pick_name(&h.names, lang, fallback)),
        "isNew": notice_is_new(tz, &n.display_date),
    }))
}

/// `?type=download` serves as an attachment; `open` (default) inline.
fn wants_download(params: &Params) -> bool {
    params
        .get("type")
        .is_some_and(|t| t.eq_ignore_ascii_case("download"))
}

async fn download(req: HttpRequest, kind: FileKind) -> ApiResult {
    let c = call(&req).await?;
    let id = req.match_info().get("id").unwrap_or_default().to_string();
    let sid = c.service.id;
    let file = c
        .state
        .db
        .read(move |conn| Ok(files::find(conn, sid, &id)?))
        .await?
        .filter(|f| f.kind == kind.as_str())
        .ok_or(ApiError::NotFound)?;
    files::serve(&c.state, file, wants_download(&c.params)).await
}

/// `GET /{serviceId}/api/v2/notice/attachments/{id}` (P6).
pub async fn notice_attachment(req: HttpRequest) -> ApiResult {
    download(req, FileKind::Notice).await
}

/// `GET /{serviceId}/api/v2/helpdoc/attachments/{id}` (P10).
pub async fn faq_attachment(req: HttpRequest) -> ApiResult {
    download(req, FileKind::Help).await
}

/// `GET /{serviceId}/api/v2/ticket/attachments/{id}` (P17).
pub async fn ticket_attachment(req: HttpRequest) -> ApiResult {
    download(req, FileKind::Ticket).await
}

/// `GET /{serviceId}/api/v2/helpdoc/categories.json` (P7).
pub async fn faq_categories(req: HttpRequest) -> ApiResult {
    let c = call(&req).await?;
    require_feature(c.service.features().faq)?;
    let sid = c.service.id;
    let nodes = c
        .state
        .db
        .read(move |conn| Ok(load_faq_nodes(conn, sid)?))
        .await?;
    ok_contents(nodes_json(&nodes, c.lang, c.fallback))
}

type FaqQuery<'a> = faqs::BoxedQuery<'a, crate::db::MultiBackend>;

fn published_faqs<'a>(
    conn: &DbConn,
    service_id: i64,
    cats: Option<Vec<i64>>,
    query: Option<&SearchQuery>,
) -> FaqQuery<'a> {
    let mut q = faqs::table
        .filter(faqs::service_id.eq(service_id))
        .filter(faqs::status.eq(DocStatus::Published.as_str()))
        .into_boxed();
    if let Some(cats) = cats {
        q = q.filter(faqs::category_id.eq_any(cats));
    }
    if let Some(query) = query {
        q = q.filter(fts_filter(conn, FtsTable::Faqs, query));
    }
    q
}

fn faq_item(
    f: &faq::Faq,
    title: &str,
    content: String,
    tree: &Tree<'_>,
    lang: Lang,
    fallback: Lang,
    tz: chrono_tz::Tz,
) -> Value {
    let cat = f.category_id.and_then(|id| tree.get(id));
    json!({
        "helpDocId": f.id,
        "title": title,
        "content": content,
        "isRecommend": f.pin_category,
        "isTop": f.pin_main,
        "readCnt": null,
        "attachmentYn": null,
        "createdDt": millis(f.created_at),
        "updatedDt": millis(f.updated_at),
        "parentCategoryList": null,
        "category": null,
        "categoryId": f.category_id,
        "categoryName": cat.map(|c| pick_name(&c.names, lang, fallback)),
        "categoryFullName": null,
        "attachments": null,
        "isNew": is_today(tz, f.updated_at),
    })
}

/// `GET /{serviceId}/api/v2/helpdoc/list.json` (P8): a category includes its descendants.
pub async fn faq_list(req: HttpRequest) -> ApiResult {
    let c = call(&req).await?;
    require_feature(c.service.features().faq)?;
    let paging = c.params.paging(10, MAX_PAGE_SIZE)?;
    let category = c.params.int("categoryId")?;
    let query = c.params.get("query").and_then(SearchQuery::parse);
    let default_sort = if category.is_some() {
        "isTop:desc,isRecommend:desc,updatedDt:desc"
    } else {
        "isTop:desc,updatedDt:desc"
    };
    let sort = parse_sort(
        c.params.get("sort"),
        &["isTop", "isRecommend", "createdDt", "updatedDt"],
        default_sort,
    );
    let (sid, lang, fallback) = (c.service.id, c.lang, c.fallback);
    let tz = tz_of(&c.service);
    let (rows, total, texts, cats) = c
        .state
        .db
        .read(move |conn| {
            let cats = faq::category_tree(conn, sid)?;
            let scope = category.map(|id| Tree(&cats).subtree(id));
            let total: i64 = published_faqs(conn, sid, scope.clone(), query.as_ref())
                .count()
                .get_result(conn)?;
            let mut q = published_faqs(conn, sid, scope, query.as_ref());
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
                .load(conn)?;
            let ids: Vec<i64> = rows.iter().map(|f| f.id).collect();
            let texts = faq::localized(conn, &ids, lang, fallback)?;
            Ok((rows, total, texts, cats))
        })
        .await?;
    let tree = Tree(&cats);
    let items = rows
        .iter()
        .map(|f| {
            let (title, body) = texts.get(&f.id).cloned().unwrap_or_default();
            faq_item(
                f,
                &title,
                html_to_text(&body).trim().to_string(),
                &tree,
                lang,
                fallback,
                tz,
            )
        })
        .collect();
    ok_page(items, total, paging)
}

/// `GET /{serviceId}/api/v2/helpdoc/detail/{id}.json` (P9): counts a read.
pub async fn faq_detail(req: HttpRequest) -> ApiResult {
    let c = call(&req).await?;
    require_feature(c.service.features().faq)?;
    let id = path_id(&req)?;
    let (sid, lang, fallback) = (c.service.id, c.lang, c.fallback);
    let tz = tz_of(&c.service);
    let (f, texts, nodes, cats, attachments) = c
        .state
        .db
        .write(move |conn| {
            let f = faq::find_published(conn, sid, id)?.ok_or(crate::error::AppError::NotFound)?;
            faq::count_view(conn, id)?;
            let texts = faq::localized(conn, &[id], lang, fallback)?;
            let atts = Attachment::of(conn, Owner::Faq(id))?;
            let list = files::doc_list(conn, sid, FileKind::Help, &atts)?;
            let cats = faq::category_tree(conn, sid)?;
            Ok((f, texts, load_faq_nodes(conn, sid)?, cats, list))
        })
        .await?;
    let (title, body) = texts.get(&f.id).cloned().unwrap_or_default();
    let tree = Tree(&cats);
    let mut item = faq_item(&f, &title, body, &tree, lang, fallback, tz);
    let by_id: HashMap<i64, CatNode> = nodes.iter().map(|n| (n.id, n.clone())).collect();
    let chain: Vec<&CatNode> = f
        .category_id
        .map(|cid| {
            tree.path(cid)
                .iter()
                .filter_map(|c| by_id.get(&c.id))
                .collect()
        })
        .unwrap_or_default();
    item["readCnt"] = json!(f.view_count + 1);
    item["attachmentYn"] = json!(if attachments.is_empty() { "N" } else { "Y" });
    item["parentCategoryList"] = Value::Array(
        chain
            .iter()
            .map(|n| node_json(n, &by_id, lang, fallback))
            .collect(),
    );
    item["category"] = chain.last().map_or(Value::Null, |n| {
        json!({
            "categoryId": n.id,
            "parent": n.parent.unwrap_or(0),
            "name": pick_name(&n.names, lang, fallback),
            "level": n.level,
            "languages": names_object(&n.names),
        })
    });
    item["categoryFullName"] = if chain.is_empty() {
        Value::Null
    } else {
        Value::from(
            chain
                .iter()
                .map(|n| pick_name(&n.names, lang, fallback))
                .collect::<Vec<_>>()
                .join(">"),
        )
    };
    item["attachments"] = Value::Array(attachments);
    ok_content(item)
}

/// `GET /{serviceId}/api/v2/ticket/categories.json` (P11): the intake types the help center
/// offers; `parent` gives a node's children (0: the top level), `child` a node's ancestors.
pub async fn intake_types(req: HttpRequest) -> ApiResult {
    let c = call(&req).await?;
    let parent = c.params.int("parent")?;
    let child = c.params.int("child")?;
    let sid = c.service.id;
    let nodes: Vec<CatNode> = c
        .state
        .db
        .read(move |conn| Ok(helpcenter_nodes(conn, sid)?))
        .await?
        .iter()
        .map(CatNode::from)
        .collect();
    let by_id: HashMap<i64, CatNode> = nodes.iter().map(|n| (n.id, n.clone())).collect();
    let chosen: Vec<CatNode> = if let Some(p) = parent {
        let p = (p != 0).then_some(p);
        nodes.iter().filter(|n| n.parent == p).cloned().collect()
    } else if let Some(ch) = child {
        let mut chain = Vec::new();
        let mut cur = by_id.get(&ch).and_then(|n| n.parent);
        while let Some(id) = cur {
            let Some(n) = by_id.get(&id) else { break };
            if chain.len() > 10 {
                break;
            }
            chain.push(n.clone());
            cur = n.parent;
        }
        chain.reverse();
        chain
    } else {
        nodes.clone()
    };
    let mut out: Vec<&CatNode> = chosen.iter().collect();
    if child.is_none() || parent.is_some() {
        out.sort_by_key(|n| (n.order, n.level, n.id));
    }
    ok_contents(
        out.iter()
            .map(|n| node_json(n, &by_id, c.lang, c.fallback))
            .collect(),
    )
}

/// `GET /{serviceId}/api/v2/ticket/field/user/{categoryId}.json` (P12).
pub async fn intake_fields(req: HttpRequest) -> ApiResult {
    let c = call(&req).await?;
    let category = req
        .match_info()
        .get("category_id")
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or(ApiError::NotFound)?;
    let service = c.service.clone();
    let lang = c.lang;
    let form = c
        .state
        .db
        .read(move |conn| Ok(customer_form(conn, &service, category, lang)?))
        .await?
        .filter(|f| f.active)
        .ok_or(ApiError::NotFound)?;
    ok_contents(
        form.fields
            .iter()
            .map(|f| {
                let options = if f.control.has_options() && !f.options.is_empty() {
                    Value::from(
                        f.options
                            .iter()
                            .map(|o| o.value.clone())
                            .collect::<Vec<_>>(),
                    )
                } else {
                    Value::Null
                };
                let length = if f.control.has_max_length() {
                    f.max_length
                } else {
                    0
                };
                json!({
                    "fieldId": f.id,
                    "code": f.code,
                    "type": f.control.as_str(),
                    "title": f.label,
                    "description": f.help,
                    "placeholder": f.placeholder,
                    "length": length,
                    "required": f.required,
                    "encrypt": f.personal,
                    "holdingText": f.control != Control::Agree,
                    "options": options,
                    "value": if f.default_value.is_empty() { Value::Null } else { Value::from(f.default_value.clone()) },
                })
            })
            .collect(),
    )
}
