//! The tree screen, one component for the four trees: every action answers an htmx request with
//! the re-rendered node (its `<li>` with the subtree) or the whole tree, rendered from named
//! blocks of `categories/tree.html`, and a plain form post with a redirect or the full page, so
//! the screen works without JavaScript too. The "mode" of one node (being renamed, getting a
//! child, awaiting delete confirmation) is part of the view, so the same GET URLs serve the
//! inline htmx swap and the no-JavaScript page.

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::agents::form::Pairs;
use crate::categories::model::{self, NamesInput, Tree, max_depth, name_field, name_languages};
use crate::db::types::CategoryTree;
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::tenancy::service::Service;
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin};

/// Longest text echoed back into a re-rendered form field.
const MAX_ECHO_CHARS: usize = 200;

/// `/{service}/console/settings/categories`
pub fn categories_base(code: &str) -> String {
    format!("/{code}/console/settings/categories")
}

/// The trees a service uses: intake and resolution types with tickets, FAQ categories with the
/// FAQ, chat resolution types with chat (SPEC §3.2, §3.3, §4.2).
pub fn available_trees(service: &Service) -> Vec<CategoryTree> {
    let f = service.features();
    CategoryTree::ALL
        .iter()
        .copied()
        .filter(|t| match t {
            CategoryTree::Intake | CategoryTree::Resolution => f.ticket,
            CategoryTree::Faq => f.faq,
            CategoryTree::ChatResolution => f.chat,
        })
        .collect()
}

/// The i18n key of a tree's title (also its menu label).
pub fn title_key(tree: CategoryTree) -> &'static str {
    match tree {
        CategoryTree::Intake => "category.title.intake",
        CategoryTree::Resolution => "category.title.resolution",
        CategoryTree::Faq => "category.title.faq",
        CategoryTree::ChatResolution => "category.title.chat_resolution",
    }
}

/// The tree named in the path, if the service uses it: unknown names are 404, a tree of a
/// feature the service does not have is 403.
fn tree_in_path(service: &Service, code: &str) -> Result<CategoryTree, AppError> {
    let tree = CategoryTree::parse(code).ok_or(AppError::NotFound)?;
    if available_trees(service).contains(&tree) {
        Ok(tree)
    } else {
        Err(AppError::Forbidden("category.feature_off"))
    }
}

/// A help-center language as a form column.
#[derive(Debug, Clone)]
pub struct LangField {
    /// ISO code.
    pub code: &'static str,
    /// Native name.
    pub label: &'static str,
    /// Form field (`name_<code>`).
    pub field: String,
    /// Whether it is the service's default language (its name is required).
    pub default: bool,
}

/// One category as the tree shows it.
#[derive(Debug, Clone)]
pub struct Row {
    /// Category ID.
    pub id: i64,
    /// Parent, if any.
    pub parent_id: Option<i64>,
    /// Depth (1 = top level).
    pub depth: i32,
    /// Name in the default language.
    pub name: String,
    /// Names in the other languages that have one: (language label, code, name).
    pub others: Vec<(&'static str, &'static str, String)>,
    /// Help-center switch (intake types).
    pub helpcenter: bool,
    /// Switched on but hidden from customers because an ancestor is off.
    pub hidden_by_parent: bool,
    /// Whether children follow in the list.
    pub has_children: bool,
    /// How many nested lists close after this row (see the `rows` block).
    pub closes: usize,
    /// First among its siblings.
    pub first: bool,
    /// Last among its siblings.
    pub last: bool,
    /// The node and its descendants.
    pub subtree: usize,
    /// Whether a child may be added (above the last level).
    pub can_add_child: bool,
    /// "Top › Middle › This", in the default language.
    pub path: String,
}

/// What one node (or the top-level form) is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Nothing.
    Idle,
    /// The top-level add form holds values or errors.
    Root,
    /// The inline add-child form under a node is open.
    Add(i64),
    /// The node is being renamed in place.
    Edit(i64),
    /// The node awaits delete confirmation.
    Confirm(i64),
}

/// Everything the tree template shows.
pub struct TreeView {
    /// `/{service}/console/settings/categories/{tree}`
    pub base: String,
    /// The tree.
    pub tree: CategoryTree,
    /// Intake types show the help-center switch.
    pub is_intake: bool,
    /// Levels allowed.
    pub max_depth: i32,
    /// Name columns, default language first.
    pub langs: Vec<LangField>,
    /// The rows to render (the whole tree, or one node's subtree), depth-first.
    pub rows: Vec<Row>,
    /// Nodes in the tree.
    pub total: usize,
    /// The open form, if any.
    pub slot: Slot,
    /// Values of the open form by field.
    pub values: HashMap<String, String>,
    /// Messages of the open form.
    pub errors: FormErrors,
    /// A message at the open form (delete confirmation text).
    pub notice: String,
    /// The delete confirmation's warning that the subtree changed meanwhile.
    pub changed: bool,
    /// The rules in one sentence, under the title.
    pub hint: String,
}

impl TreeView {
    /// Whether the node is being renamed.
    pub fn editing(&self, id: &i64) -> bool {
        self.slot == Slot::Edit(*id)
    }

    /// Whether the add-child form is open under the node.
    pub fn adding(&self, id: &i64) -> bool {
        self.slot == Slot::Add(*id)
    }

    /// Whether the node awaits delete confirmation.
    pub fn confirming(&self, id: &i64) -> bool {
        self.slot == Slot::Confirm(*id)
    }

    /// Whether the top-level form holds values or errors.
    pub fn root_open(&self) -> bool {
        self.slot == Slot::Root
    }

    /// The open form's value for a field.
    pub fn value(&self, field: &str) -> &str {
        self.values.get(field).map(String::as_str).unwrap_or("")
    }

    /// The open form's message for a field (empty when none).
    pub fn error(&self, field: &str) -> &str {
        self.errors.get(field)
    }

    /// The hx-target of a node's delete form: its parent node, or the whole tree.
    pub fn delete_target(&self, row: &Row) -> String {
        match row.parent_id {
            Some(p) => format!("#node-{p}"),
            None => "#cat-tree".to_string(),
        }
    }
}

/// The full page.
#[derive(Template)]
#[template(path = "categories/tree.html")]
pub struct TreePage {
    /// Shared context.
    pub ctx: PageCtx,
    /// The tree.
    pub v: TreeView,
}

/// The whole tree (top-level form and list): the htmx answer to reordering and top-level adds.
#[derive(Template)]
#[template(path = "categories/tree.html", block = "tree")]
pub struct TreeFragment {
    /// Shared context.
    pub ctx: PageCtx,
    /// The tree.
    pub v: TreeView,
}

/// One node's `<li>` with its subtree: the htmx answer to actions on a node.
#[derive(Template)]
#[template(path = "categories/tree.html", block = "rows")]
pub struct NodeFragment {
    /// Shared context.
    pub ctx: PageCtx,
    /// The tree, with `rows` holding the node's subtree.
    pub v: TreeView,
}

/// Builds the rows of the whole tree, or of one node's subtree (`root`).
fn build_rows(
    t: &Tree,
    tree: CategoryTree,
    langs: &[Lang],
    default: Lang,
    root: Option<i64>,
) -> Vec<Row> {
    let max = max_depth(tree);
    let is_intake = tree == CategoryTree::Intake;
    // Effective help-center visibility, decided parents first (depth-first order).
    let mut visible: HashSet<i64> = HashSet::new();
    let mut rows: Vec<Row> = Vec::with_capacity(t.len());
    for n in t.nodes() {
        let parent_visible = n.parent_id.is_none_or(|p| visible.contains(&p));
        if parent_visible && n.helpcenter_enabled && n.active {
            visible.insert(n.id);
        }
        let siblings = t.children(n.parent_id);
        let depth = t.depth(n.id).unwrap_or(1);
        rows.push(Row {
            id: n.id,
            parent_id: n.parent_id,
            depth,
            name: n.display_name(default, default).to_string(),
            others: langs
                .iter()
                .filter(|l| **l != default)
                .filter_map(|l| {
                    n.name(*l)
                        .map(|s| (l.native_name(), l.code(), s.to_string()))
                })
                .collect(),
            helpcenter: n.helpcenter_enabled,
            hidden_by_parent: is_intake && n.helpcenter_enabled && !parent_visible,
            has_children: !t.children(Some(n.id)).is_empty(),
            closes: 0,
            first: siblings.first().is_some_and(|s| s.id == n.id),
            last: siblings.last().is_some_and(|s| s.id == n.id),
            subtree: t.subtree(n.id).len(),
            can_add_child: depth < max,
            path: t.path_names(n.id, default, default).join(" › "),
        });
    }
    let mut rows: Vec<Row> = match root {
        None => rows,
        Some(id) => {
            let Some(start) = rows.iter().position(|r| r.id == id) else {
                return Vec::new();
            };
            let len = t.subtree(id).len();
            rows.into_iter().skip(start).take(len).collect()
        }
    };
    // Each row opens `<li>`; a row whose next row is deeper opens a nested list for its
    // children, a leaf closes its `<li>` and then as many enclosing lists as the depth drops to
    // the next row (or, after the last row, to the first row's depth).
    let start = rows.first().map_or(1, |r| r.depth);
    let depths: Vec<i32> = rows.iter().map(|r| r.depth).collect();
    for (i, row) in rows.iter_mut().enumerate() {
        let next = depths.get(i + 1).copied();
        row.has_children = next.is_some_and(|d| d > row.depth);
        row.closes = if row.has_children {
            0
        } else {
            usize::try_from(row.depth - next.unwrap_or(start)).unwrap_or(0)
        };
    }
    rows
}

/// What to render.
enum Part {
    /// The whole page.
    Page,
    /// The tree block.
    Tree,
    /// One node's subtree.
    Node(i64),
}

struct Render {
    slot: Slot,
    values: HashMap<String, String>,
    errors: FormErrors,
    status: StatusCode,
    notice: String,
    changed: bool,
}

impl Render {
    fn idle(lang: Lang) -> Render {
        Render {
            slot: Slot::Idle,
            values: HashMap::new(),
            errors: FormErrors::new(lang),
            status: StatusCode::OK,
            notice: String::new(),
            changed: false,
        }
    }

    fn slot(lang: Lang, slot: Slot) -> Render {
        Render {
            slot,
            ..Render::idle(lang)
        }
    }
}

async fn render(
    a: &ServiceAdmin,
    tree: CategoryTree,
    part: Part,
    mut r: Render,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let t = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(Tree::load(c, sid, tree)?))
        .await?;
    let (default, langs) = name_languages(&a.service);
    let lang = a.viewer().lang;
    // A node that vanished meanwhile (deleted in another tab): show the whole tree instead,
    // with any message at the top-level form.
    let mut part = part;
    let mut retarget = false;
    if let Part::Node(id) = part
        && t.get(id).is_none()
    {
        part = Part::Tree;
        retarget = true;
    }
    if let Slot::Add(id) | Slot::Edit(id) | Slot::Confirm(id) = r.slot
        && t.get(id).is_none()
    {
        r.slot = if r.errors.is_empty() {
            Slot::Idle
        } else {
            Slot::Root
        };
    }
    if let Slot::Confirm(id) = r.slot {
        let count = t.subtree(id).len();
        let name = t
            .get(id)
            .map(|n| n.display_name(default, default))
            .unwrap_or("");
        r.notice = if count > 1 {
            i18n::tf(
                lang,
                "category.delete_confirm_many",
                &[
                    ("name", name),
                    ("count", &count.to_string()),
                    ("children", &(count - 1).to_string()),
                ],
            )
        } else {
            i18n::tf(lang, "category.delete_confirm_one", &[("name", name)])
        };
    }
    let root = match part {
        Part::Node(id) => Some(id),
        _ => None,
    };
    let code = a.service.code.clone();
    let v = TreeView {
        base: format!("{}/{}", categories_base(&code), tree.as_str()),
        tree,
        is_intake: tree == CategoryTree::Intake,
        max_depth: max_depth(tree),
        langs: langs
            .iter()
            .map(|l| LangField {
                code: l.code(),
                label: l.native_name(),
                field: name_field(*l),
                default: *l == default,
            })
            .collect(),
        rows: build_rows(&t, tree, &langs, default, root),
        total: t.len(),
        slot: r.slot,
        values: r.values,
        errors: r.errors,
        notice: r.notice,
        changed: r.changed,
        hint: i18n::tf(
            lang,
            "category.hint",
            &[("max", &max_depth(tree).to_string())],
        ),
    };
    let ctx = PageCtx::console(a, title_key(tree));
    let mut resp = match part {
        Part::Page => w::html(r.status, &TreePage { ctx, v })?,
        Part::Tree => w::html(r.status, &TreeFragment { ctx, v })?,
        Part::Node(_) => w::html(r.status, &NodeFragment { ctx, v })?,
    };
    if retarget {
        let h = resp.headers_mut();
        h.insert(
            actix_web::http::header::HeaderName::from_static("hx-retarget"),
            actix_web::http::header::HeaderValue::from_static("#cat-tree"),
        );
        h.insert(
            actix_web::http::header::HeaderName::from_static("hx-reswap"),
            actix_web::http::header::HeaderValue::from_static("outerHTML"),
        );
    }
    Ok(resp)
}

/// The full page for plain requests, the given part for htmx.
fn part_for(req: &HttpRequest, htmx_part: Part) -> Part {
    if w::is_htmx(req) {
        htmx_part
    } else {
        Part::Page
    }
}

fn tree_url(a: &ServiceAdmin, tree: CategoryTree) -> String {
    format!("{}/{}", categories_base(&a.service.code), tree.as_str())
}

fn names_from(form: &Pairs, service: &Service) -> (NamesInput, HashMap<String, String>) {
    let (_, langs) = name_languages(service);
    let input = NamesInput::from_lookup(&langs, |f| form.get(f));
    let values = input
        .names
        .iter()
        .map(|(l, v)| (name_field(*l), v.chars().take(MAX_ECHO_CHARS).collect()))
        .collect();
    (input, values)
}

/// `GET /{service_id}/console/settings/categories` → the first tree the service uses.
pub async fn categories_home(req: HttpRequest, a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let tree = available_trees(&a.service)
        .first()
        .copied()
        .ok_or(AppError::Forbidden("category.feature_off"))?;
    Ok(w::redirect(&req, &tree_url(&a, tree)))
}

/// `GET /{service_id}/console/settings/categories/{tree}`
pub async fn show_tree(
    a: ServiceAdmin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let tree = tree_in_path(&a.service, &path.1)?;
    render(&a, tree, Part::Page, Render::idle(a.viewer().lang)).await
}

/// `POST /{service_id}/console/settings/categories/{tree}` — add a category: `name_<lang>` per
/// help-center language, `parent_id` empty for the top level.
pub async fn create_category(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let tree = tree_in_path(&a.service, &path.1)?;
    let lang = a.viewer().lang;
    let form = form.into_inner();
    let raw_parent = form.get("parent_id").trim().to_string();
    let (input, values) = names_from(&form, &a.service);
    let parent: Result<Option<i64>, ()> = if raw_parent.is_empty() {
        Ok(None)
    } else {
        raw_parent.parse::<i64>().map(Some).map_err(|_| ())
    };
    let result = match parent {
        Err(()) => {
            let mut errors = FormErrors::new(lang);
            errors.add("parent_id", "category.parent_missing");
            Err(errors)
        }
        Ok(parent) => {
            let service = a.service.clone();
            let input = input.clone();
            a.viewer()
                .state
                .db
                .write(move |c| model::add_node(c, &service, tree, parent, &input))
                .await?
                .map_err(|v| FormErrors::translate(lang, &v))
        }
    };
    let parent = parent.ok().flatten();
    match result {
        Ok(id) => {
            if w::is_htmx(&req) {
                let part = parent.map_or(Part::Tree, Part::Node);
                return render(&a, tree, part, Render::idle(lang)).await;
            }
            a.viewer()
                .flash(Flash::success(a.viewer().t("category.added")));
            Ok(w::redirect(
                &req,
                &format!("{}#node-{id}", tree_url(&a, tree)),
            ))
        }
        Err(errors) => {
            let (slot, part) = match parent {
                Some(p) => (Slot::Add(p), Part::Node(p)),
                None => (Slot::Root, Part::Tree),
            };
            let r = Render {
                slot,
                values,
                errors,
                status: StatusCode::UNPROCESSABLE_ENTITY,
                ..Render::idle(lang)
            };
            render(&a, tree, part_for(&req, part), r).await
        }
    }
}

/// `POST /{service_id}/console/settings/categories/{tree}/order` — `node_id` repeated
/// depth-first in the new order (after a drag), optionally `up` or `down` naming one category
/// to move a step among its siblings (the no-JavaScript buttons).
pub async fn order_categories(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let tree = tree_in_path(&a.service, &path.1)?;
    let form = form.into_inner();
    let order = form.ids("node_id");
    let step = form
        .id("up")
        .map(|id| (id, true))
        .or_else(|| form.id("down").map(|id| (id, false)));
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .write(move |c| model::reorder(c, sid, tree, &order, step))
        .await?;
    if w::is_htmx(&req) {
        return render(&a, tree, Part::Tree, Render::idle(a.viewer().lang)).await;
    }
    a.viewer()
        .flash(Flash::success(a.viewer().t("category.order_saved")));
    let anchor = step
        .map(|(id, _)| format!("#node-{id}"))
        .unwrap_or_default();
    Ok(w::redirect(
        &req,
        &format!("{}{anchor}", tree_url(&a, tree)),
    ))
}

async fn existing(a: &ServiceAdmin, tree: CategoryTree, id: i64) -> Result<model::Node, AppError> {
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .read(move |c| model::find(c, sid, tree, id)?.ok_or(AppError::NotFound))
        .await
}

/// `GET /{service_id}/console/settings/categories/{tree}/{id}/node` — the node as it is (what
/// Cancel restores); without htmx, the page scrolled to it.
pub async fn show_node(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, code, id) = path.into_inner();
    let tree = tree_in_path(&a.service, &code)?;
    existing(&a, tree, id).await?;
    if !w::is_htmx(&req) {
        return Ok(w::redirect(
            &req,
            &format!("{}#node-{id}", tree_url(&a, tree)),
        ));
    }
    render(&a, tree, Part::Node(id), Render::idle(a.viewer().lang)).await
}

/// `GET /{service_id}/console/settings/categories/{tree}/{id}/edit` — the rename form in place
/// of the name (a double-click on the name asks for it).
pub async fn edit_category(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, code, id) = path.into_inner();
    let tree = tree_in_path(&a.service, &code)?;
    let node = existing(&a, tree, id).await?;
    let (_, langs) = name_languages(&a.service);
    let mut r = Render::slot(a.viewer().lang, Slot::Edit(id));
    r.values = langs
        .iter()
        .map(|l| (name_field(*l), node.name(*l).unwrap_or("").to_string()))
        .collect();
    render(&a, tree, part_for(&req, Part::Node(id)), r).await
}

/// `POST /{service_id}/console/settings/categories/{tree}/{id}` — rename: `name_<lang>`.
pub async fn rename_category(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let (_, code, id) = path.into_inner();
    let tree = tree_in_path(&a.service, &code)?;
    let lang = a.viewer().lang;
    let (input, values) = names_from(&form, &a.service);
    let service = a.service.clone();
    let result = a
        .viewer()
        .state
        .db
        .write(move |c| model::rename_node(c, &service, tree, id, &input))
        .await?
        .map_err(|v| FormErrors::translate(lang, &v));
    match result {
        Ok(()) => {
            if w::is_htmx(&req) {
                return render(&a, tree, Part::Node(id), Render::idle(lang)).await;
            }
            a.viewer()
                .flash(Flash::success(a.viewer().t("category.renamed")));
            Ok(w::redirect(
                &req,
                &format!("{}#node-{id}", tree_url(&a, tree)),
            ))
        }
        Err(errors) => {
            let r = Render {
                slot: Slot::Edit(id),
                values,
                errors,
                status: StatusCode::UNPROCESSABLE_ENTITY,
                ..Render::idle(lang)
            };
            render(&a, tree, part_for(&req, Part::Node(id)), r).await
        }
    }
}

/// `GET /{service_id}/console/settings/categories/{tree}/{id}/add` — the add-child form under
/// the node (selecting the parent).
pub async fn add_child_form(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, code, id) = path.into_inner();
    let tree = tree_in_path(&a.service, &code)?;
    existing(&a, tree, id).await?;
    let r = Render::slot(a.viewer().lang, Slot::Add(id));
    render(&a, tree, part_for(&req, Part::Node(id)), r).await
}

/// `POST /{service_id}/console/settings/categories/{tree}/{id}/helpcenter` — `on` = `1` or `0`
/// (intake types only).
pub async fn set_helpcenter(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let (_, code, id) = path.into_inner();
    let tree = tree_in_path(&a.service, &code)?;
    let on = match form.get("on") {
        "1" => true,
        "0" => false,
        _ => return Err(AppError::BadRequest("error.bad_request")),
    };
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .write(move |c| model::set_helpcenter(c, sid, tree, id, on))
        .await?;
    if w::is_htmx(&req) {
        return render(&a, tree, Part::Node(id), Render::idle(a.viewer().lang)).await;
    }
    let key = if on {
        "category.helpcenter_turned_on"
    } else {
        "category.helpcenter_turned_off"
    };
    a.viewer().flash(Flash::success(a.viewer().t(key)));
    Ok(w::redirect(
        &req,
        &format!("{}#node-{id}", tree_url(&a, tree)),
    ))
}

/// `GET /{service_id}/console/settings/categories/{tree}/{id}/delete` — the confirmation that
/// says how many categories will go.
pub async fn confirm_delete(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (_, code, id) = path.into_inner();
    let tree = tree_in_path(&a.service, &code)?;
    existing(&a, tree, id).await?;
    let r = Render::slot(a.viewer().lang, Slot::Confirm(id));
    render(&a, tree, part_for(&req, Part::Node(id)), r).await
}

/// `POST /{service_id}/console/settings/categories/{tree}/{id}/delete` — deletes the subtree.
/// `expected` (the count the confirmation showed) guards against deleting more than was
/// confirmed: when the subtree changed meanwhile, the confirmation comes back (409) with the new
/// count.
pub async fn delete_category(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let (_, code, id) = path.into_inner();
    let tree = tree_in_path(&a.service, &code)?;
    let expected: Option<usize> = form.get("expected").trim().parse().ok();
    let sid = a.service.id;
    let outcome = a
        .viewer()
        .state
        .db
        .write(move |c| model::delete_node(c, sid, tree, id, expected))
        .await?;
    let lang = a.viewer().lang;
    match outcome {
        model::DeleteOutcome::Changed => {
            let mut r = Render::slot(lang, Slot::Confirm(id));
            r.status = StatusCode::CONFLICT;
            r.changed = true;
            render(&a, tree, part_for(&req, Part::Node(id)), r).await
        }
        model::DeleteOutcome::Deleted { count, parent_id } => {
            if w::is_htmx(&req) {
                let part = parent_id.map_or(Part::Tree, Part::Node);
                return render(&a, tree, part, Render::idle(lang)).await;
            }
            a.viewer().flash(Flash::success(i18n::tf(
                lang,
                "category.deleted",
                &[("count", &count.to_string())],
            )));
            let anchor = parent_id.map(|p| format!("#node-{p}")).unwrap_or_default();
            Ok(w::redirect(
                &req,
                &format!("{}{anchor}", tree_url(&a, tree)),
            ))
        }
    }
}

/// `GET /{service_id}/console/settings/categories/{tree}/export.xlsx`
pub async fn export_tree(
    a: ServiceAdmin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let tree = tree_in_path(&a.service, &path.1)?;
    let sid = a.service.id;
    let t = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(Tree::load(c, sid, tree)?))
        .await?;
    let bytes = crate::categories::export::workbook(&t, tree, &a.service, a.viewer().lang)?;
    let file = crate::categories::export::file_name(&a.service, tree);
    Ok(HttpResponse::Ok()
        .content_type(crate::categories::export::XLSX_MIME)
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}
