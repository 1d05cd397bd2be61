//! Help Center back office → notice headings, tags and templates (SPEC §4.3), service
//! administrators only. Headings are ordered by drag and drop (or up/down buttons without
//! JavaScript) — the order of the portal's tabs — and cannot be deleted while notices use them;
//! deleting a tag removes it from its notices; templates hold a heading, tags, and a title and
//! body per language that prefill a new notice.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::agents::form::{Pairs, move_one};
use crate::common::names::MAX_NAME;
use crate::common::names::pick_name;
use crate::db::refuse;
use crate::error::AppError;
use crate::help_center::access::{HcAdmin, Module, base};
use crate::help_center::content::{
    LangContent, contents_from_rows, empty_contents, read_contents_optional,
};
use crate::help_center::faq_admin::title_lang;
use crate::help_center::notices::{self, Label, MAX_META, TemplateInput};
use crate::tenancy::service::default_lang;
use crate::web::lang_form::{name_slots, read_names};
use crate::web::{self as w, Flash, FormErrors, PageCtx};

/// Headings or tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    /// Notice headings (ordered).
    Heading,
    /// Notice tags.
    Tag,
}

impl LabelKind {
    fn path(self) -> &'static str {
        match self {
            LabelKind::Heading => "notice-headings",
            LabelKind::Tag => "notice-tags",
        }
    }

    fn key(self, suffix: &str) -> String {
        match self {
            LabelKind::Heading => format!("notice.heading.{suffix}"),
            LabelKind::Tag => format!("notice.tag.{suffix}"),
        }
    }
}

/// A listed heading or tag.
pub struct LabelRow {
    /// Key.
    pub id: i64,
    /// Name in the viewer's language.
    pub name: String,
    /// Names in the other languages.
    pub others: String,
}

/// The headings or tags page.
#[derive(Template)]
#[template(path = "help_center/labels.html")]
pub struct LabelsPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/help-center`
    pub base: String,
    /// `notice-headings` or `notice-tags`.
    pub path: String,
    /// Whether these are headings (ordered).
    pub ordered: bool,
    /// Rows in order.
    pub rows: Vec<LabelRow>,
    /// Name slots of the create form.
    pub names: Vec<(String, String, String)>,
    /// Create-form errors.
    pub errors: FormErrors,
    /// Hint.
    pub hint_key: String,
    /// Longest name.
    pub max_name: usize,
}

/// The edit page of one heading or tag.
#[derive(Template)]
#[template(path = "help_center/label_form.html")]
pub struct LabelFormPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/help-center`
    pub base: String,
    /// `notice-headings` or `notice-tags`.
    pub path: String,
    /// Key.
    pub id: i64,
    /// Name slots.
    pub names: Vec<(String, String, String)>,
    /// Errors.
    pub errors: FormErrors,
    /// Notices using it.
    pub usage: i64,
    /// Whether it is a heading (deletion blocked while used).
    pub is_heading: bool,
    /// Longest name.
    pub max_name: usize,
}

async fn list_labels(a: &HcAdmin, kind: LabelKind) -> Result<Vec<Label>, AppError> {
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .read(move |c| {
            Ok(match kind {
                LabelKind::Heading => notices::headings(c, sid)?,
                LabelKind::Tag => notices::tags(c, sid)?,
            })
        })
        .await
}

async fn render_labels(
    a: &HcAdmin,
    kind: LabelKind,
    names: Vec<(String, String, String)>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let labels = list_labels(a, kind).await?;
    let (lang, fallback) = (title_lang(a), default_lang(&a.service));
    let rows = labels
        .iter()
        .map(|l| LabelRow {
            id: l.id,
            name: pick_name(&l.names, lang, fallback),
            others: l
                .names
                .iter()
                .filter(|(code, _)| *code != lang.code())
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
                .join(" · "),
        })
        .collect();
    let page = LabelsPage {
        ctx: PageCtx::console(a, &kind.key("title")),
        base: base(&a.service.code),
        path: kind.path().into(),
        ordered: kind == LabelKind::Heading,
        rows,
        names,
        errors,
        hint_key: kind.key("hint"),
        max_name: MAX_NAME,
    };
    w::html(status, &page)
}

async fn show_labels(a: HcAdmin, kind: LabelKind) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let names = name_slots(&a.service, &Default::default());
    let lang = a.viewer().lang;
    render_labels(&a, kind, names, FormErrors::new(lang), StatusCode::OK).await
}

async fn create_label(
    req: HttpRequest,
    a: HcAdmin,
    kind: LabelKind,
    form: Pairs,
) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let mut errors = FormErrors::new(a.viewer().lang);
    let names = read_names(&a.service, &form, &mut errors);
    let sid = a.service.id;
    if errors.is_empty() {
        let n2 = names.clone();
        let created = a
            .viewer()
            .state
            .db
            .write(move |c| {
                let count = match kind {
                    LabelKind::Heading => notices::headings(c, sid)?.len(),
                    LabelKind::Tag => notices::tags(c, sid)?.len(),
                };
                if count as i64 >= MAX_META {
                    return Ok(false);
                }
                match kind {
                    LabelKind::Heading => notices::create_heading(c, sid, &n2)?,
                    LabelKind::Tag => notices::create_tag(c, sid, &n2)?,
                };
                Ok(true)
            })
            .await?;
        if created {
            let v = a.viewer();
            v.flash(Flash::success(v.t(&kind.key("created"))));
            return Ok(w::redirect(
                &req,
                &format!("{}/{}", base(&a.service.code), kind.path()),
            ));
        }
        errors.add_with(
            &format!("name_{}", default_lang(&a.service).code()),
            "notice.error.too_many",
            &[("max", &MAX_META.to_string())],
        );
    }
    let slots = name_slots(&a.service, &names);
    render_labels(&a, kind, slots, errors, StatusCode::UNPROCESSABLE_ENTITY).await
}

async fn render_label(
    a: &HcAdmin,
    kind: LabelKind,
    id: i64,
    names: Option<crate::common::names::Names>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let labels = list_labels(a, kind).await?;
    let label = labels
        .into_iter()
        .find(|l| l.id == id)
        .ok_or(AppError::NotFound)?;
    let usage = match kind {
        LabelKind::Heading => {
            a.viewer()
                .state
                .db
                .read(move |c| Ok(notices::heading_usage(c, id)?))
                .await?
        }
        LabelKind::Tag => 0,
    };
    let page = LabelFormPage {
        ctx: PageCtx::console(a, &kind.key("edit_title")),
        base: base(&a.service.code),
        path: kind.path().into(),
        id,
        names: name_slots(&a.service, &names.unwrap_or(label.names)),
        errors,
        usage,
        is_heading: kind == LabelKind::Heading,
        max_name: MAX_NAME,
    };
    w::html(status, &page)
}

async fn update_label(
    req: HttpRequest,
    a: HcAdmin,
    kind: LabelKind,
    id: i64,
    form: Pairs,
) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let mut errors = FormErrors::new(a.viewer().lang);
    let names = read_names(&a.service, &form, &mut errors);
    if !errors.is_empty() {
        return render_label(
            &a,
            kind,
            id,
            Some(names),
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let sid = a.service.id;
    let found = a
        .viewer()
        .state
        .db
        .write(move |c| {
            Ok(match kind {
                LabelKind::Heading => notices::rename_heading(c, sid, id, &names)?,
                LabelKind::Tag => notices::rename_tag(c, sid, id, &names)?,
            })
        })
        .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    let v = a.viewer();
    v.flash(Flash::success(v.t(&kind.key("saved"))));
    Ok(w::redirect(
        &req,
        &format!("{}/{}", base(&a.service.code), kind.path()),
    ))
}

async fn delete_label(
    req: HttpRequest,
    a: HcAdmin,
    kind: LabelKind,
    id: i64,
) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let sid = a.service.id;
    let result = a
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            if kind == LabelKind::Heading {
                let used = notices::heading_usage(c, id)?;
                if used > 0 && notices::headings(c, sid)?.iter().any(|h| h.id == id) {
                    return refuse(used);
                }
            }
            Ok(match kind {
                LabelKind::Heading => notices::delete_heading(c, sid, id)?,
                LabelKind::Tag => notices::delete_tag(c, sid, id)?,
            })
        })
        .await?;
    let v = a.viewer();
    match result {
        Ok(true) => {
            v.flash(Flash::success(v.t(&kind.key("deleted"))));
            Ok(w::redirect(
                &req,
                &format!("{}/{}", base(&a.service.code), kind.path()),
            ))
        }
        Ok(false) => Err(AppError::NotFound),
        Err(used) => {
            let mut errors = FormErrors::new(v.lang);
            errors.add_with(
                "delete",
                "notice.heading.in_use",
                &[("count", &used.to_string())],
            );
            render_label(&a, kind, id, None, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// `GET /{service_id}/console/help-center/notice-headings`
pub async fn list_headings(a: HcAdmin) -> Result<HttpResponse, AppError> {
    show_labels(a, LabelKind::Heading).await
}

/// `POST /{service_id}/console/help-center/notice-headings`
pub async fn create_heading(
    req: HttpRequest,
    a: HcAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    create_label(req, a, LabelKind::Heading, form.into_inner()).await
}

/// `GET /{service_id}/console/help-center/notice-headings/{id}`
pub async fn edit_heading(
    a: HcAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let lang = a.viewer().lang;
    render_label(
        &a,
        LabelKind::Heading,
        path.1,
        None,
        FormErrors::new(lang),
        StatusCode::OK,
    )
    .await
}

/// `POST /{service_id}/console/help-center/notice-headings/{id}`
pub async fn update_heading(
    req: HttpRequest,
    a: HcAdmin,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    update_label(req, a, LabelKind::Heading, path.1, form.into_inner()).await
}

/// `POST /{service_id}/console/help-center/notice-headings/{id}/delete`
pub async fn delete_heading(
    req: HttpRequest,
    a: HcAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    delete_label(req, a, LabelKind::Heading, path.1).await
}

/// `POST /{service_id}/console/help-center/notice-headings/order` — `heading_id` repeated in the
/// new order, or `up`/`down` naming one heading (the buttons without JavaScript).
pub async fn order_headings(
    req: HttpRequest,
    a: HcAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let form = form.into_inner();
    let mut order = form.ids("heading_id");
    if let Some(id) = form.id("up") {
        move_one(&mut order, id, true);
    } else if let Some(id) = form.id("down") {
        move_one(&mut order, id, false);
    }
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .write(move |c| Ok(notices::order_headings(c, sid, &order)?))
        .await?;
    let v = a.viewer();
    v.flash(Flash::success(v.t("notice.heading.order_saved")));
    Ok(w::redirect(
        &req,
        &format!("{}/notice-headings", base(&a.service.code)),
    ))
}

/// `GET /{service_id}/console/help-center/notice-tags`
pub async fn list_tags(a: HcAdmin) -> Result<HttpResponse, AppError> {
    show_labels(a, LabelKind::Tag).await
}

/// `POST /{service_id}/console/help-center/notice-tags`
pub async fn create_tag(
    req: HttpRequest,
    a: HcAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    create_label(req, a, LabelKind::Tag, form.into_inner()).await
}

/// `GET /{service_id}/console/help-center/notice-tags/{id}`
pub async fn edit_tag(
    a: HcAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let lang = a.viewer().lang;
    render_label(
        &a,
        LabelKind::Tag,
        path.1,
        None,
        FormErrors::new(lang),
        StatusCode::OK,
    )
    .await
}

/// `POST /{service_id}/console/help-center/notice-tags/{id}`
pub async fn update_tag(
    req: HttpRequest,
    a: HcAdmin,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    update_label(req, a, LabelKind::Tag, path.1, form.into_inner()).await
}

/// `POST /{service_id}/console/help-center/notice-tags/{id}/delete`
pub async fn delete_tag(
    req: HttpRequest,
    a: HcAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    delete_label(req, a, LabelKind::Tag, path.1).await
}

/// A template in the list.
pub struct TemplateRow {
    /// Key.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Heading name.
    pub heading: String,
    /// Title in the viewer's language.
    pub title: String,
}

/// The templates page.
#[derive(Template)]
#[template(path = "help_center/templates.html")]
pub struct TemplatesPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/help-center`
    pub base: String,
    /// Rows.
    pub rows: Vec<TemplateRow>,
}

/// The template form.
#[derive(Template)]
#[template(path = "help_center/template_form.html")]
pub struct TemplateFormPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/help-center`
    pub base: String,
    /// The template (none when new).
    pub id: Option<i64>,
    /// Name.
    pub name_value: String,
    /// Chosen heading (text).
    pub heading_id: String,
    /// Heading choices.
    pub headings: Vec<(i64, String)>,
    /// Tag choices `(id, name, checked)`.
    pub tags: Vec<(i64, String, bool)>,
    /// Texts.
    pub contents: Vec<LangContent>,
    /// Errors.
    pub errors: FormErrors,
}

/// `GET /{service_id}/console/help-center/notice-templates`
pub async fn list_templates(a: HcAdmin) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let sid = a.service.id;
    let (headings, templates) = a
        .viewer()
        .state
        .db
        .read(move |c| Ok((notices::headings(c, sid)?, notices::templates(c, sid)?)))
        .await?;
    let (lang, fallback) = (title_lang(&a), default_lang(&a.service));
    let heading_names: HashMap<i64, String> = headings
        .iter()
        .map(|h| (h.id, pick_name(&h.names, lang, fallback)))
        .collect();
    let rows = templates
        .iter()
        .map(|t| {
            let texts = crate::help_center::faq::pick_localized(
                t.rows()
                    .into_iter()
                    .map(|(l, ti, b)| (t.id, l, ti, b))
                    .collect(),
                lang,
                fallback,
            );
            TemplateRow {
                id: t.id,
                name: t.name.clone(),
                heading: t
                    .heading_id
                    .and_then(|h| heading_names.get(&h).cloned())
                    .unwrap_or_default(),
                title: texts
                    .get(&t.id)
                    .map(|(ti, _)| ti.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let page = TemplatesPage {
        ctx: PageCtx::console(&a, "notice.template.title"),
        base: base(&a.service.code),
        rows,
    };
    w::html(StatusCode::OK, &page)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one render path for new, edit and errors"
)]
async fn render_template(
    a: &HcAdmin,
    id: Option<i64>,
    name: String,
    heading_id: String,
    tag_ids: Vec<i64>,
    contents: Vec<LangContent>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let (headings, tags) = a
        .viewer()
        .state
        .db
        .read(move |c| Ok((notices::headings(c, sid)?, notices::tags(c, sid)?)))
        .await?;
    let (lang, fallback) = (title_lang(a), default_lang(&a.service));
    let page = TemplateFormPage {
        ctx: PageCtx::console(
            a,
            if id.is_some() {
                "notice.template.edit_title"
            } else {
                "notice.template.new_title"
            },
        ),
        base: base(&a.service.code),
        id,
        name_value: name,
        heading_id,
        headings: headings
            .iter()
            .map(|h| (h.id, pick_name(&h.names, lang, fallback)))
            .collect(),
        tags: tags
            .iter()
            .map(|t| {
                (
                    t.id,
                    pick_name(&t.names, lang, fallback),
                    tag_ids.contains(&t.id),
                )
            })
            .collect(),
        contents,
        errors,
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/help-center/notice-templates/new`
pub async fn new_template(a: HcAdmin) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let lang = a.viewer().lang;
    let contents = empty_contents(&a.service);
    render_template(
        &a,
        None,
        String::new(),
        String::new(),
        Vec::new(),
        contents,
        FormErrors::new(lang),
        StatusCode::OK,
    )
    .await
}

/// `GET /{service_id}/console/help-center/notice-templates/{id}`
pub async fn edit_template(
    a: HcAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let (sid, id) = (a.service.id, path.1);
    let t = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(notices::find_template(c, sid, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let lang = a.viewer().lang;
    let contents = contents_from_rows(&a.service, &t.rows());
    let heading = t.heading_id.map(|h| h.to_string()).unwrap_or_default();
    render_template(
        &a,
        Some(id),
        t.name.clone(),
        heading,
        t.tags(),
        contents,
        FormErrors::new(lang),
        StatusCode::OK,
    )
    .await
}

async fn save_template(
    req: HttpRequest,
    a: HcAdmin,
    id: Option<i64>,
    form: Pairs,
) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let mut errors = FormErrors::new(a.viewer().lang);
    let name = form.get("name").trim().to_string();
    if name.is_empty() {
        errors.add("name", "validation.required");
    } else if name.chars().count() > MAX_NAME {
        errors.add_with(
            "name",
            "validation.too_long",
            &[("max", &MAX_NAME.to_string())],
        );
    }
    // A template may leave everything but its name empty; authors complete the notice.
    let contents = read_contents_optional(&a.service, &form, &mut errors);
    let heading_raw = form.get("heading_id").trim().to_string();
    let tag_ids = form.ids("tag_id");
    let sid = a.service.id;
    let (headings, tags) = a
        .viewer()
        .state
        .db
        .read(move |c| Ok((notices::headings(c, sid)?, notices::tags(c, sid)?)))
        .await?;
    let heading_id = if heading_raw.is_empty() {
        None
    } else {
        let h = heading_raw
            .parse::<i64>()
            .ok()
            .filter(|h| headings.iter().any(|x| x.id == *h));
        if h.is_none() {
            errors.add("heading_id", "notice.error.heading_unknown");
        }
        h
    };
    if tag_ids.iter().any(|t| !tags.iter().any(|x| x.id == *t)) {
        errors.add("tag_id", "notice.error.tag_unknown");
    }
    if !errors.is_empty() {
        return render_template(
            &a,
            id,
            name,
            heading_raw,
            tag_ids,
            contents,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let input = TemplateInput {
        name,
        heading_id,
        tag_ids,
        contents,
    };
    let saved = a
        .viewer()
        .state
        .db
        .write(move |c| {
            if id.is_none() && notices::templates(c, sid)?.len() as i64 >= MAX_META {
                return Ok(None);
            }
            Ok(notices::save_template(c, sid, id, &input)?)
        })
        .await?;
    if saved.is_none() {
        return Err(if id.is_some() {
            AppError::NotFound
        } else {
            AppError::BadRequest("notice.error.too_many_templates")
        });
    }
    let v = a.viewer();
    v.flash(Flash::success(v.t("notice.template.saved")));
    Ok(w::redirect(
        &req,
        &format!("{}/notice-templates", base(&a.service.code)),
    ))
}

/// `POST /{service_id}/console/help-center/notice-templates`
pub async fn create_template(
    req: HttpRequest,
    a: HcAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    save_template(req, a, None, form.into_inner()).await
}

/// `POST /{service_id}/console/help-center/notice-templates/{id}`
pub async fn update_template(
    req: HttpRequest,
    a: HcAdmin,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    save_template(req, a, Some(path.1), form.into_inner()).await
}

/// `POST /{service_id}/console/help-center/notice-templates/{id}/delete`
pub async fn delete_template(
    req: HttpRequest,
    a: HcAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let (sid, id) = (a.service.id, path.1);
    let found = a
        .viewer()
        .state
        .db
        .write(move |c| Ok(notices::delete_template(c, sid, id)?))
        .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    let v = a.viewer();
    v.flash(Flash::success(v.t("notice.template.deleted")));
    Ok(w::redirect(
        &req,
        &format!("{}/notice-templates", base(&a.service.code)),
    ))
}
