//! Reply templates (SPEC §3.6): a title, a rich-text body with substitution codes, a short
//! search code, linked resolution types, and a scope — this service only, or shared with every
//! service of the organization. Agents insert them while processing a ticket (the side panel
//! lists the templates of the chosen resolution type and searches by title or search code) and
//! may pre-select one when creating a ticket.
//!
//! The settings pages (`/{service_id}/console/settings/templates…`, service administrators)
//! list, search, filter by resolution type, create, edit and delete the service's own
//! templates. A shared template is edited only from the service that owns it.

use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::agents::form::Pairs;
use crate::categories::model::Tree;
use crate::common::text::{html_to_text, sanitize_html};
use crate::db::schema::{reply_template_links, reply_templates};
use crate::db::search::{contains_pattern, lower};
use crate::db::types::CategoryTree;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::tenancy::service::Service;
use crate::tenancy::service::default_lang;
use crate::tickets::substitution::{self, CodeRow};
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin};

/// Longest title.
pub const MAX_TITLE: usize = 100;
/// Longest body (sanitised HTML, characters).
pub const MAX_BODY: usize = 20_000;
/// Longest search code.
pub const MAX_SEARCH_CODE: usize = 30;
/// Most resolution types linked to one template.
pub const MAX_LINKS: usize = 100;
/// Templates per page in lists and panels.
pub const PAGE_SIZE: i64 = 20;

/// A reply template.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = reply_templates)]
pub struct ReplyTemplate {
    /// Key.
    pub id: i64,
    /// The service that owns it.
    pub service_id: i64,
    /// Shared with the organization's other services.
    pub shared: bool,
    /// Title.
    pub title: String,
    /// Body (sanitised HTML with substitution codes).
    pub body_html: String,
    /// Short code for quick lookup.
    pub search_code: String,
    /// Who wrote it.
    pub author_id: Option<i64>,
    /// Created.
    pub created_at: NaiveDateTime,
    /// Last changed.
    pub updated_at: NaiveDateTime,
}

/// A submitted template.
#[derive(Debug, Clone, Default)]
pub struct TemplateInput {
    /// Shared with other services.
    pub shared: bool,
    /// Title.
    pub title: String,
    /// Body (sanitised).
    pub body_html: String,
    /// Search code.
    pub search_code: String,
    /// Linked resolution types.
    pub resolution_ids: Vec<i64>,
}

impl TemplateInput {
    /// The values of a stored template.
    pub fn of(t: &ReplyTemplate, links: Vec<i64>) -> TemplateInput {
        TemplateInput {
            shared: t.shared,
            title: t.title.clone(),
            body_html: t.body_html.clone(),
            search_code: t.search_code.clone(),
            resolution_ids: links,
        }
    }

    /// Reads and checks a submission against the service's resolution types.
    pub fn read(form: &Pairs, resolution: &Tree, errors: &mut FormErrors) -> TemplateInput {
        let title = form.get("title").trim().to_string();
        let raw = form.get("body_html").replace("\r\n", "\n");
        let body_html = sanitize_html(&raw);
        let search_code = form.get("search_code").trim().to_string();
        if title.is_empty() {
            errors.add("title", "validation.required");
        } else if title.chars().count() > MAX_TITLE {
            errors.add_with(
                "title",
                "validation.too_long",
                &[("max", &MAX_TITLE.to_string())],
            );
        }
        if raw.chars().count() > MAX_BODY || body_html.chars().count() > MAX_BODY {
            errors.add_with(
                "body_html",
                "validation.too_long",
                &[("max", &MAX_BODY.to_string())],
            );
        } else if html_to_text(&body_html).trim().is_empty() {
            errors.add("body_html", "validation.required");
        }
        if search_code.chars().count() > MAX_SEARCH_CODE
            || !search_code
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            errors.add_with(
                "search_code",
                "template.error.search_code",
                &[("max", &MAX_SEARCH_CODE.to_string())],
            );
        }
        let resolution_ids = form.ids("resolution_id");
        if resolution_ids.len() > MAX_LINKS
            || resolution_ids
                .iter()
                .any(|id| resolution.get(*id).is_none())
        {
            errors.add("resolution_id", "template.error.resolution");
        }
        let scope = form.get("scope");
        if scope != "service" && scope != "shared" {
            errors.add("scope", "validation.choose_option");
        }
        TemplateInput {
            shared: scope == "shared",
            title,
            body_html,
            search_code,
            resolution_ids,
        }
    }
}

/// A template the service may use: its own, or one shared by another service.
pub fn find_usable(
    conn: &mut DbConn,
    service_id: i64,
    id: i64,
) -> QueryResult<Option<ReplyTemplate>> {
    reply_templates::table
        .find(id)
        .filter(
            reply_templates::service_id
                .eq(service_id)
                .or(reply_templates::shared.eq(true)),
        )
        .select(ReplyTemplate::as_select())
        .first(conn)
        .optional()
}

/// A template the service owns.
pub fn find_own(conn: &mut DbConn, service_id: i64, id: i64) -> QueryResult<Option<ReplyTemplate>> {
    reply_templates::table
        .find(id)
        .filter(reply_templates::service_id.eq(service_id))
        .select(ReplyTemplate::as_select())
        .first(conn)
        .optional()
}

/// The resolution types a template is linked to.
pub fn links_of(conn: &mut DbConn, id: i64) -> QueryResult<Vec<i64>> {
    reply_template_links::table
        .filter(reply_template_links::template_id.eq(id))
        .order(reply_template_links::category_id.asc())
        .select(reply_template_links::category_id)
        .load(conn)
}

fn set_links(conn: &mut DbConn, id: i64, ids: &[i64]) -> QueryResult<()> {
    diesel::delete(reply_template_links::table.filter(reply_template_links::template_id.eq(id)))
        .execute(conn)?;
    for cid in ids {
        diesel::insert_into(reply_template_links::table)
            .values((
                reply_template_links::template_id.eq(id),
                reply_template_links::category_id.eq(cid),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Creates a template; returns its key.
pub fn create(
    conn: &mut DbConn,
    service_id: i64,
    author_id: i64,
    input: &TemplateInput,
) -> QueryResult<i64> {
    let t = now();
    let id = diesel::insert_into(reply_templates::table)
        .values((
            reply_templates::service_id.eq(service_id),
            reply_templates::shared.eq(input.shared),
            reply_templates::title.eq(&input.title),
            reply_templates::body_html.eq(&input.body_html),
            reply_templates::search_code.eq(&input.search_code),
            reply_templates::author_id.eq(Some(author_id)),
            reply_templates::created_at.eq(t),
            reply_templates::updated_at.eq(t),
        ))
        .returning(reply_templates::id)
        .get_result(conn)?;
    set_links(conn, id, &input.resolution_ids)?;
    Ok(id)
}

/// Replaces a template's values and links.
pub fn update(conn: &mut DbConn, id: i64, input: &TemplateInput) -> QueryResult<()> {
    diesel::update(reply_templates::table.find(id))
        .set((
            reply_templates::shared.eq(input.shared),
            reply_templates::title.eq(&input.title),
            reply_templates::body_html.eq(&input.body_html),
            reply_templates::search_code.eq(&input.search_code),
            reply_templates::updated_at.eq(now()),
        ))
        .execute(conn)?;
    set_links(conn, id, &input.resolution_ids)
}

/// Deletes a template (its links go with it).
pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(reply_templates::table.find(id)).execute(conn)?;
    Ok(())
}

/// What a template search asks for.
#[derive(Debug, Clone, Default)]
pub struct TemplateQuery {
    /// Words in the title or search code (case-insensitive "contains").
    pub q: String,
    /// Only templates linked to this resolution type.
    pub resolution_id: Option<i64>,
    /// Also the organization's shared templates of other services.
    pub include_shared: bool,
    /// Keyset: only templates with a smaller key.
    pub before: Option<i64>,
}

/// Templates matching a query, newest first, at most `limit`.
pub fn search(
    conn: &mut DbConn,
    service_id: i64,
    query: &TemplateQuery,
    limit: i64,
) -> QueryResult<Vec<ReplyTemplate>> {
    let mut q = reply_templates::table
        .select(ReplyTemplate::as_select())
        .into_boxed();
    q = if query.include_shared {
        q.filter(
            reply_templates::service_id
                .eq(service_id)
                .or(reply_templates::shared.eq(true)),
        )
    } else {
        q.filter(reply_templates::service_id.eq(service_id))
    };
    let text = query.q.trim();
    if !text.is_empty() {
        let pattern = contains_pattern(text);
        q = q.filter(
            lower(reply_templates::title)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(reply_templates::search_code)
                    .like(pattern)
                    .escape('\\')),
        );
    }
    if let Some(rid) = query.resolution_id {
        q = q.filter(
            reply_templates::id.eq_any(
                reply_template_links::table
                    .filter(reply_template_links::category_id.eq(rid))
                    .select(reply_template_links::template_id),
            ),
        );
    }
    if let Some(b) = query.before {
        q = q.filter(reply_templates::id.lt(b));
    }
    q.order(reply_templates::id.desc()).limit(limit).load(conn)
}

// ---------------------------------------------------------------------------------------------
// Settings pages
// ---------------------------------------------------------------------------------------------

/// `/{service}/console/settings/templates`
pub fn templates_base(code: &str) -> String {
    format!("/{code}/console/settings/templates")
}

/// A resolution type as an option (name indented by depth).
#[derive(Debug, Clone)]
pub struct ResolutionOption {
    /// Category id.
    pub id: i64,
    /// Full path name.
    pub name: String,
    /// Depth (1 = top level).
    pub depth: i32,
    /// Chosen.
    pub selected: bool,
}

/// The resolution types of a tree as options, depth-first.
pub fn resolution_options(
    tree: &Tree,
    lang: Lang,
    fallback: Lang,
    chosen: &[i64],
) -> Vec<ResolutionOption> {
    let chosen: HashSet<i64> = chosen.iter().copied().collect();
    tree.nodes()
        .iter()
        .map(|n| ResolutionOption {
            id: n.id,
            name: tree.path_names(n.id, lang, fallback).join(" › "),
            depth: tree.depth(n.id).unwrap_or(1),
            selected: chosen.contains(&n.id),
        })
        .collect()
}

/// One row of the template list.
#[derive(Debug, Clone)]
pub struct TemplateRow {
    /// Key.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Search code.
    pub search_code: String,
    /// Shared.
    pub shared: bool,
    /// Start of the body as text.
    pub excerpt: String,
    /// Last change (service time).
    pub updated: String,
}

/// The template list.
#[derive(Template)]
#[template(path = "settings/templates.html")]
pub struct TemplatesPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/templates`
    pub base: String,
    /// Search text.
    pub q: String,
    /// Resolution filter options.
    pub resolutions: Vec<ResolutionOption>,
    /// The filter's value (empty for all).
    pub resolution: String,
    /// Rows.
    pub rows: Vec<TemplateRow>,
    /// Link to the next page, if any.
    pub next_href: Option<String>,
}

/// The template form.
#[derive(Template)]
#[template(path = "settings/template_form.html")]
pub struct TemplateFormPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/templates`
    pub base: String,
    /// The template being edited (`None`: new).
    pub id: Option<i64>,
    /// Values.
    pub input: TemplateInput,
    /// Resolution types to link.
    pub resolutions: Vec<ResolutionOption>,
    /// Errors.
    pub errors: FormErrors,
    /// Substitution codes.
    pub codes: Vec<CodeRow>,
}

/// `?q=&resolution=&before=`
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    resolution: String,
    #[serde(default)]
    before: String,
}

fn fallback_of(service: &Service) -> Lang {
    default_lang(service)
}

/// `GET /{service_id}/console/settings/templates`
pub async fn list_templates(
    a: ServiceAdmin,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let q: String = query.q.trim().chars().take(100).collect();
    let resolution_id = query.resolution.trim().parse::<i64>().ok();
    let before = query.before.trim().parse::<i64>().ok();
    let sid = a.service.id;
    let tq = TemplateQuery {
        q: q.clone(),
        resolution_id,
        include_shared: false,
        before,
    };
    let (tree, mut found) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let tree = Tree::load(c, sid, CategoryTree::Resolution)?;
            Ok((tree, search(c, sid, &tq, PAGE_SIZE + 1)?))
        })
        .await?;
    let more = found.len() > usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    found.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
    let base = templates_base(&a.service.code);
    let tz = crate::tenancy::service::service_tz(&a.service);
    let next_href = match (more, found.last()) {
        (true, Some(last)) => Some(format!(
            "{base}?q={}&resolution={}&before={}",
            crate::common::text::url_encode(&q),
            resolution_id.map(|r| r.to_string()).unwrap_or_default(),
            last.id
        )),
        _ => None,
    };
    let rows = found
        .into_iter()
        .map(|t| TemplateRow {
            id: t.id,
            excerpt: crate::common::text::excerpt(&t.body_html, 120),
            title: t.title,
            search_code: t.search_code,
            shared: t.shared,
            updated: crate::common::time::local_display(tz, t.updated_at),
        })
        .collect();
    let fallback = fallback_of(&a.service);
    let page = TemplatesPage {
        ctx: PageCtx::console(&a, "template.title"),
        base,
        q,
        resolutions: resolution_options(
            &tree,
            lang,
            fallback,
            &resolution_id.into_iter().collect::<Vec<_>>(),
        ),
        resolution: resolution_id.map(|r| r.to_string()).unwrap_or_default(),
        rows,
        next_href,
    };
    w::html(StatusCode::OK, &page)
}

async fn resolution_tree(a: &ServiceAdmin) -> Result<Tree, AppError> {
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .read(move |c| Ok(Tree::load(c, sid, CategoryTree::Resolution)?))
        .await
}

fn form_page(
    a: &ServiceAdmin,
    id: Option<i64>,
    input: TemplateInput,
    tree: &Tree,
    errors: FormErrors,
) -> TemplateFormPage {
    let lang = a.viewer().lang;
    let fallback = fallback_of(&a.service);
    TemplateFormPage {
        ctx: PageCtx::console(
            a,
            if id.is_some() {
                "template.edit_title"
            } else {
                "template.new_title"
            },
        ),
        base: templates_base(&a.service.code),
        id,
        resolutions: resolution_options(tree, lang, fallback, &input.resolution_ids),
        input,
        errors,
        codes: substitution::code_rows(lang),
    }
}

/// `GET /{service_id}/console/settings/templates/new`
pub async fn new_template(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let tree = resolution_tree(&a).await?;
    let lang = a.viewer().lang;
    let page = form_page(
        &a,
        None,
        TemplateInput::default(),
        &tree,
        FormErrors::new(lang),
    );
    w::html(StatusCode::OK, &page)
}

/// `POST /{service_id}/console/settings/templates`
pub async fn create_template(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let tree = resolution_tree(&a).await?;
    let lang = a.viewer().lang;
    let mut errors = FormErrors::new(lang);
    let input = TemplateInput::read(&form, &tree, &mut errors);
    if !errors.is_empty() {
        let page = form_page(&a, None, input, &tree, errors);
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let (sid, uid) = (a.service.id, a.user().id);
    let title = input.title.clone();
    a.viewer()
        .state
        .db
        .write(move |c| Ok(create(c, sid, uid, &input)?))
        .await?;
    a.viewer().flash(Flash::success(i18n::tf(
        lang,
        "template.created",
        &[("title", &title)],
    )));
    Ok(w::redirect(&req, &templates_base(&a.service.code)))
}

/// `GET /{service_id}/console/settings/templates/{id}`
pub async fn edit_template(
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (sid, id) = (a.service.id, path.1);
    let (t, links, tree) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let t = find_own(c, sid, id)?.ok_or(AppError::NotFound)?;
            Ok((
                t,
                links_of(c, id)?,
                Tree::load(c, sid, CategoryTree::Resolution)?,
            ))
        })
        .await?;
    let lang = a.viewer().lang;
    let page = form_page(
        &a,
        Some(id),
        TemplateInput::of(&t, links),
        &tree,
        FormErrors::new(lang),
    );
    w::html(StatusCode::OK, &page)
}

/// `POST /{service_id}/console/settings/templates/{id}`
pub async fn update_template(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let (sid, id) = (a.service.id, path.1);
    let exists = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(find_own(c, sid, id)?.is_some()))
        .await?;
    if !exists {
        return Err(AppError::NotFound);
    }
    let tree = resolution_tree(&a).await?;
    let lang = a.viewer().lang;
    let mut errors = FormErrors::new(lang);
    let input = TemplateInput::read(&form, &tree, &mut errors);
    if !errors.is_empty() {
        let page = form_page(&a, Some(id), input, &tree, errors);
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let title = input.title.clone();
    a.viewer()
        .state
        .db
        .write(move |c| {
            if find_own(c, sid, id)?.is_none() {
                return Err(AppError::NotFound);
            }
            Ok(update(c, id, &input)?)
        })
        .await?;
    a.viewer().flash(Flash::success(i18n::tf(
        lang,
        "template.saved",
        &[("title", &title)],
    )));
    Ok(w::redirect(&req, &templates_base(&a.service.code)))
}

/// `POST /{service_id}/console/settings/templates/{id}/delete`
pub async fn delete_template(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (sid, id) = (a.service.id, path.1);
    let title = a
        .viewer()
        .state
        .db
        .write(move |c| {
            let t = find_own(c, sid, id)?.ok_or(AppError::NotFound)?;
            delete(c, id)?;
            Ok(t.title)
        })
        .await?;
    let lang = a.viewer().lang;
    a.viewer().flash(Flash::success(i18n::tf(
        lang,
        "template.deleted",
        &[("title", &title)],
    )));
    Ok(w::redirect(&req, &templates_base(&a.service.code)))
}

/// Registers the template settings pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/templates", web::get().to(list_templates))
        .route("/settings/templates", web::post().to(create_template))
        .route("/settings/templates/new", web::get().to(new_template))
        .route("/settings/templates/{id}", web::get().to(edit_template))
        .route("/settings/templates/{id}", web::post().to(update_template))
        .route(
            "/settings/templates/{id}/delete",
            web::post().to(delete_template),
        );
}
