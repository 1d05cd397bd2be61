//! Help Center back office → FAQ (SPEC §4.2): the draft and published tabs (title, category,
//! status, last editor, views, update time; full-text search, category filter, keyset pages),
//! the authoring form (category, pin to main / in category, title and body per language in a
//! rich-text editor, sanitised on the server), attachments, and the administrators' publish,
//! withdraw and delete actions. Agents create and edit drafts only (SPEC §1.3).

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::agents::form::Pairs;
use crate::common::time::local_display;
use crate::db::search::SearchQuery;
use crate::error::AppError;
use crate::help_center::access::{HcAdmin, HcStaff, Module, base};
use crate::help_center::attachments::{self, Attachment, Owner};
use crate::help_center::content::{
    DocStatus, LangContent, contents_from_rows, empty_contents, read_contents,
};
use crate::help_center::faq::{self, AdminFilter, FaqCategory, FaqInput, Tree};
use crate::i18n::Lang;
use crate::org::form::query_string;
use crate::tenancy::service::{default_lang, service_tz};
use crate::web::{self as w, Flash, FormErrors, PageCtx};

/// Rows per back-office page.
const PAGE_SIZE: i64 = 30;

/// A list row.
pub struct FaqRow {
    /// Key.
    pub id: i64,
    /// Title in the viewer's language (or the default).
    pub title: String,
    /// Category path.
    pub category: String,
    /// Status label key.
    pub status_key: &'static str,
    /// Whether published.
    pub published: bool,
    /// Pinned to main.
    pub pin_main: bool,
    /// Pinned in category.
    pub pin_category: bool,
    /// Last editor.
    pub editor: String,
    /// Reads.
    pub views: i64,
    /// Update time in the service's time zone.
    pub updated: String,
}

/// The list page.
#[derive(Template)]
#[template(path = "help_center/faq_list.html")]
pub struct FaqListPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/help-center`
    pub base: String,
    /// `draft` or `published`.
    pub tab: String,
    /// Search text.
    pub q: String,
    /// Category filter (as typed in the query).
    pub category: String,
    /// Category choices `(id, path)`.
    pub categories: Vec<(i64, String)>,
    /// Rows.
    pub rows: Vec<FaqRow>,
    /// Next page.
    pub next_href: Option<String>,
    /// Whether the viewer administers the service.
    pub is_admin: bool,
}

/// The authoring page.
#[derive(Template)]
#[template(path = "help_center/faq_form.html")]
pub struct FaqFormPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/help-center`
    pub base: String,
    /// The document (none when new).
    pub id: Option<i64>,
    /// Its status.
    pub status: Option<DocStatus>,
    /// Whether the viewer may save (administrators always; agents for drafts).
    pub can_edit: bool,
    /// Whether the viewer administers the service.
    pub is_admin: bool,
    /// Category choices `(id, path, selected)`.
    pub categories: Vec<(i64, String, bool)>,
    /// Pin to main.
    pub pin_main: bool,
    /// Pin in category.
    pub pin_category: bool,
    /// Per-language contents.
    pub contents: Vec<LangContent>,
    /// Field errors.
    pub errors: FormErrors,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// Upload error (translated), empty when none.
    pub attach_error: String,
    /// Views (existing documents).
    pub views: i64,
    /// Last update, local time.
    pub updated: String,
    /// Public URL of the article (published documents).
    pub portal_href: String,
    /// Hint about the attachment limits.
    pub attach_hint: String,
    /// Where attachments are posted.
    pub attach_base: String,
}

fn category_choices(tree: &[FaqCategory], lang: Lang, fallback: Lang) -> Vec<(i64, String)> {
    let t = Tree(tree);
    // Depth-first so children follow their parent.
    let mut out = Vec::new();
    let mut stack: Vec<&FaqCategory> = t.children(None).into_iter().rev().collect();
    while let Some(c) = stack.pop() {
        out.push((c.id, t.path_name(c.id, lang, fallback)));
        stack.extend(t.children(Some(c.id)).into_iter().rev());
    }
    out
}

/// The content language used for titles in the back office: the viewer's UI language when the
/// service offers it, else the default.
pub fn title_lang(s: &HcStaff) -> Lang {
    let ui = s.viewer().lang;
    if s.service.languages().contains(&ui) {
        ui
    } else {
        default_lang(&s.service)
    }
}

/// List query.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    tab: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    before: String,
}

/// `GET /{service_id}/console/help-center/faq`
pub async fn list_faqs(s: HcStaff, query: web::Query<ListQuery>) -> Result<HttpResponse, AppError> {
    s.require(Module::Faq)?;
    let query = query.into_inner();
    let tab = if query.tab == "draft" {
        DocStatus::Draft
    } else {
        DocStatus::Published
    };
    let q: String = query.q.trim().chars().take(100).collect();
    let (lang, fallback) = (title_lang(&s), default_lang(&s.service));
    let tz = service_tz(&s.service);
    let sid = s.service.id;
    let category = query.category.trim().parse::<i64>().ok();
    let before = query.before.trim().parse::<i64>().ok();
    let parsed = SearchQuery::parse(&q);
    let searched_nothing = !q.is_empty() && parsed.is_none();
    let (tree, rows, more, titles) = s
        .viewer()
        .state
        .db
        .read(move |c| {
            let tree = faq::category_tree(c, sid)?;
            if searched_nothing {
                return Ok((tree, Vec::new(), false, Default::default()));
            }
            let filter = AdminFilter {
                status: Some(tab),
                categories: category.map(|id| Tree(&tree).subtree(id)),
                query: parsed,
                before,
            };
            let (rows, more) = faq::admin_page(c, sid, &filter, PAGE_SIZE)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.faq.id).collect();
            let titles = faq::localized(c, &ids, lang, fallback)?;
            Ok((tree, rows, more, titles))
        })
        .await?;
    let t = Tree(&tree);
    let next_href = match rows.last() {
        Some(last) if more => Some(format!(
            "{}/faq{}",
            base(&s.service.code),
            query_string(&[
                ("tab", tab.as_str()),
                ("q", &q),
                (
                    "category",
                    &category.map(|c| c.to_string()).unwrap_or_default()
                ),
                ("before", &last.faq.id.to_string()),
            ])
        )),
        _ => None,
    };
    let rows = rows
        .into_iter()
        .map(|r| {
            let status = r.faq.status();
            FaqRow {
                id: r.faq.id,
                title: titles
                    .get(&r.faq.id)
                    .map(|(t, _)| t.clone())
                    .unwrap_or_default(),
                category: r
                    .faq
                    .category_id
                    .map(|c| t.path_name(c, lang, fallback))
                    .unwrap_or_default(),
                status_key: status.label_key(),
                published: status == DocStatus::Published,
                pin_main: r.faq.pin_main,
                pin_category: r.faq.pin_category,
                editor: r.editor_name.unwrap_or_default(),
                views: r.faq.view_count,
                updated: local_display(tz, r.faq.updated_at),
            }
        })
        .collect();
    let page = FaqListPage {
        ctx: PageCtx::console(&s, "faq.title"),
        base: base(&s.service.code),
        tab: tab.as_str().into(),
        q,
        category: category.map(|c| c.to_string()).unwrap_or_default(),
        categories: category_choices(&tree, lang, fallback),
        rows,
        next_href,
        is_admin: s.is_service_admin(),
    };
    w::html(StatusCode::OK, &page)
}

/// What the form holds.
struct FormState {
    category_id: Option<i64>,
    pin_main: bool,
    pin_category: bool,
    contents: Vec<LangContent>,
}

async fn render_form(
    s: &HcStaff,
    existing: Option<faq::Faq>,
    state: Option<FormState>,
    errors: FormErrors,
    attach_error: String,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = s.service.id;
    let id = existing.as_ref().map(|f| f.id);
    let (tree, rows, attachments) = s
        .viewer()
        .state
        .db
        .read(move |c| {
            let tree = faq::category_tree(c, sid)?;
            let (rows, atts) = match id {
                Some(id) => (faq::contents(c, id)?, Attachment::of(c, Owner::Faq(id))?),
                None => (Vec::new(), Vec::new()),
            };
            Ok((tree, rows, atts))
        })
        .await?;
    let is_admin = s.is_service_admin();
    let state = state.unwrap_or_else(|| match &existing {
        Some(f) => FormState {
            category_id: f.category_id,
            pin_main: f.pin_main,
            pin_category: f.pin_category,
            contents: contents_from_rows(&s.service, &rows),
        },
        None => FormState {
            category_id: None,
            pin_main: false,
            pin_category: false,
            contents: empty_contents(&s.service),
        },
    });
    let doc_status = existing.as_ref().map(faq::Faq::status);
    let lang = s.viewer().lang;
    let tz = service_tz(&s.service);
    let title_key = if id.is_some() {
        "faq.edit_title"
    } else {
        "faq.new_title"
    };
    let page = FaqFormPage {
        ctx: PageCtx::console(s, title_key),
        base: base(&s.service.code),
        id,
        status: doc_status,
        can_edit: is_admin || doc_status != Some(DocStatus::Published),
        is_admin,
        categories: category_choices(&tree, title_lang(s), default_lang(&s.service))
            .into_iter()
            .map(|(cid, name)| (cid, name, state.category_id == Some(cid)))
            .collect(),
        pin_main: state.pin_main,
        pin_category: state.pin_category,
        contents: state.contents,
        errors,
        attachments,
        attach_error,
        views: existing.as_ref().map_or(0, |f| f.view_count),
        updated: existing
            .as_ref()
            .map(|f| local_display(tz, f.updated_at))
            .unwrap_or_default(),
        portal_href: id
            .map(|i| format!("/{}/hc/article/{i}/", s.service.code))
            .unwrap_or_default(),
        attach_base: id
            .map(|i| format!("{}/faq/{i}/attachments", base(&s.service.code)))
            .unwrap_or_default(),
        attach_hint: crate::i18n::tf(
            lang,
            "hc.attach.hint",
            &[
                ("max", &attachments::MAX_FILES.to_string()),
                ("types", &attachments::EXTENSIONS.join(", ")),
            ],
        ),
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/help-center/faq/new`
pub async fn new_faq_form(s: HcStaff) -> Result<HttpResponse, AppError> {
    s.require(Module::Faq)?;
    let lang = s.viewer().lang;
    render_form(
        &s,
        None,
        None,
        FormErrors::new(lang),
        String::new(),
        StatusCode::OK,
    )
    .await
}

/// Reads and checks the form; the category must be a node of the service's FAQ tree.
async fn read_form(s: &HcStaff, form: &Pairs) -> Result<(FormState, FormErrors), AppError> {
    let mut errors = FormErrors::new(s.viewer().lang);
    let contents = read_contents(&s.service, form, &mut errors);
    let raw = form.get("category_id").trim();
    let category_id = if raw.is_empty() {
        None
    } else {
        let sid = s.service.id;
        let wanted = raw.parse::<i64>().ok();
        let ok = match wanted {
            Some(id) => {
                s.viewer()
                    .state
                    .db
                    .read(move |c| Ok(faq::category_tree(c, sid)?.iter().any(|n| n.id == id)))
                    .await?
            }
            None => false,
        };
        if !ok {
            errors.add("category_id", "hc.error.category_unknown");
        }
        wanted
    };
    let pin_main = form.checked("pin_main");
    Ok((
        FormState {
            category_id,
            pin_main,
            pin_category: form.checked("pin_category") || pin_main,
            contents,
        },
        errors,
    ))
}

/// The status a save asks for: `action=publish` (administrators only) or a draft.
fn wanted_status(s: &HcStaff, form: &Pairs) -> Result<DocStatus, AppError> {
    if form.get("action") == "publish" {
        if !s.is_service_admin() {
            return Err(AppError::Forbidden("hc.error.publish_admin_only"));
        }
        Ok(DocStatus::Published)
    } else {
        Ok(DocStatus::Draft)
    }
}

fn input_of(state: &FormState) -> FaqInput {
    FaqInput {
        category_id: state.category_id,
        pin_main: state.pin_main,
        pin_category: state.pin_category,
        contents: state.contents.clone(),
    }
}

/// `POST /{service_id}/console/help-center/faq`
pub async fn create_faq(
    req: HttpRequest,
    s: HcStaff,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    s.require(Module::Faq)?;
    let form = form.into_inner();
    let status = wanted_status(&s, &form)?;
    let (state, errors) = read_form(&s, &form).await?;
    if !errors.is_empty() {
        return render_form(
            &s,
            None,
            Some(state),
            errors,
            String::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let (sid, uid) = (s.service.id, s.user().id);
    let input = input_of(&state);
    let id = s
        .viewer()
        .state
        .db
        .write(move |c| Ok(faq::create(c, sid, uid, &input, status)?))
        .await?;
    let v = s.viewer();
    v.flash(Flash::success(v.t(if status == DocStatus::Published {
        "faq.published"
    } else {
        "faq.saved_draft"
    })));
    Ok(w::redirect(
        &req,
        &format!("{}/faq/{id}", base(&s.service.code)),
    ))
}

async fn load(s: &HcStaff, id: i64) -> Result<faq::Faq, AppError> {
    let sid = s.service.id;
    s.viewer()
        .state
        .db
        .read(move |c| Ok(faq::find(c, sid, id)?))
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /{service_id}/console/help-center/faq/{id}`
pub async fn edit_faq_form(
    s: HcStaff,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    s.require(Module::Faq)?;
    let f = load(&s, path.1).await?;
    let lang = s.viewer().lang;
    render_form(
        &s,
        Some(f),
        None,
        FormErrors::new(lang),
        String::new(),
        StatusCode::OK,
    )
    .await
}

/// Agents may change drafts only.
fn require_editable(s: &HcStaff, status: DocStatus) -> Result<(), AppError> {
    if status == DocStatus::Published && !s.is_service_admin() {
        Err(AppError::Forbidden("hc.error.published_admin_only"))
    } else {
        Ok(())
    }
}

/// `POST /{service_id}/console/help-center/faq/{id}`
pub async fn update_faq(
    req: HttpRequest,
    s: HcStaff,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    s.require(Module::Faq)?;
    let form = form.into_inner();
    let existing = load(&s, path.1).await?;
    require_editable(&s, existing.status())?;
    let status = wanted_status(&s, &form)?;
    let (state, errors) = read_form(&s, &form).await?;
    if !errors.is_empty() {
        return render_form(
            &s,
            Some(existing),
            Some(state),
            errors,
            String::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let uid = s.user().id;
    let input = input_of(&state);
    let id = existing.id;
    s.viewer()
        .state
        .db
        .write(move |c| Ok(faq::update(c, &existing, uid, &input, status)?))
        .await?;
    let v = s.viewer();
    v.flash(Flash::success(v.t(if status == DocStatus::Published {
        "faq.published"
    } else {
        "faq.saved_draft"
    })));
    Ok(w::redirect(
        &req,
        &format!("{}/faq/{id}", base(&s.service.code)),
    ))
}

async fn change_status(
    req: HttpRequest,
    a: HcAdmin,
    id: i64,
    status: DocStatus,
) -> Result<HttpResponse, AppError> {
    a.require(Module::Faq)?;
    let f = load(&a, id).await?;
    let uid = a.user().id;
    a.viewer()
        .state
        .db
        .write(move |c| Ok(faq::set_status(c, &f, uid, status)?))
        .await?;
    let v = a.viewer();
    v.flash(Flash::success(v.t(if status == DocStatus::Published {
        "faq.published"
    } else {
        "faq.unpublished"
    })));
    Ok(w::redirect(
        &req,
        &format!("{}/faq/{id}", base(&a.service.code)),
    ))
}

/// `POST /{service_id}/console/help-center/faq/{id}/publish`
pub async fn publish_faq(
    req: HttpRequest,
    a: HcAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    change_status(req, a, path.1, DocStatus::Published).await
}

/// `POST /{service_id}/console/help-center/faq/{id}/unpublish`
pub async fn unpublish_faq(
    req: HttpRequest,
    a: HcAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    change_status(req, a, path.1, DocStatus::Draft).await
}

/// `POST /{service_id}/console/help-center/faq/{id}/delete`
pub async fn delete_faq(
    req: HttpRequest,
    a: HcAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    a.require(Module::Faq)?;
    let f = load(&a, path.1).await?;
    let tab = f.status().as_str();
    let paths = a
        .viewer()
        .state
        .db
        .write(move |c| {
            let paths = Attachment::paths_of(c, Owner::Faq(f.id))?;
            faq::delete(c, f.id)?;
            Ok(paths)
        })
        .await?;
    attachments::remove_files_later(&a.viewer().state, paths).await;
    let v = a.viewer();
    v.flash(Flash::success(v.t("faq.deleted")));
    Ok(w::redirect(
        &req,
        &format!("{}/faq?tab={tab}", base(&a.service.code)),
    ))
}

/// `POST /{service_id}/console/help-center/faq/{id}/attachments` (multipart, `file` fields).
pub async fn upload_faq_attachments(
    req: HttpRequest,
    s: HcStaff,
    path: web::Path<(String, i64)>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    s.require(Module::Faq)?;
    let f = load(&s, path.1).await?;
    require_editable(&s, f.status())?;
    match attachments::accept(&s, Owner::Faq(f.id), payload).await? {
        attachments::Outcome::Saved => {
            let v = s.viewer();
            v.flash(Flash::success(v.t("hc.attach.saved")));
            Ok(w::redirect(
                &req,
                &format!("{}/faq/{}", base(&s.service.code), f.id),
            ))
        }
        attachments::Outcome::TooLarge => Ok(HttpResponse::PayloadTooLarge().finish()),
        attachments::Outcome::Refused(msg) => {
            let lang = s.viewer().lang;
            render_form(
                &s,
                Some(f),
                None,
                FormErrors::new(lang),
                msg,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /{service_id}/console/help-center/faq/{id}/attachments/{attachment_id}/delete`
pub async fn delete_faq_attachment(
    req: HttpRequest,
    s: HcStaff,
    path: web::Path<(String, i64, i64)>,
) -> Result<HttpResponse, AppError> {
    s.require(Module::Faq)?;
    let f = load(&s, path.1).await?;
    require_editable(&s, f.status())?;
    attachments::remove(&s, Owner::Faq(f.id), path.2).await?;
    let v = s.viewer();
    v.flash(Flash::success(v.t("hc.attach.removed")));
    Ok(w::redirect(
        &req,
        &format!("{}/faq/{}", base(&s.service.code), f.id),
    ))
}
