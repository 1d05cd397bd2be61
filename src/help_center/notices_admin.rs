//! Help Center back office → Notices (SPEC §4.3): the draft and published tabs (status with the
//! display-period state, heading, title, tags, last editor, views, update time; search, heading
//! filter, keyset pages), the authoring form (template, heading, tags, display period to the
//! minute in the service's time zone, pin, display date, title and body per language),
//! attachments, and the administrators' publish, withdraw and delete actions.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::agents::form::Pairs;
use crate::common::names::pick_name;
use crate::common::time::{local_date, local_display, local_input, parse_date, parse_local_minute};
use crate::db::now;
use crate::db::search::SearchQuery;
use crate::error::AppError;
use crate::help_center::access::{HcAdmin, HcStaff, Module, base};
use crate::help_center::attachments::{self, Attachment, Owner};
use crate::help_center::content::{
    DocStatus, LangContent, Period, contents_from_rows, empty_contents, read_contents,
};
use crate::help_center::faq_admin::title_lang;
use crate::help_center::notices::{self, AdminFilter, Label, Notice, NoticeInput};
use crate::org::form::query_string;
use crate::tenancy::service::{default_lang, service_tz};
use crate::web::{self as w, Flash, FormErrors, PageCtx};

/// Rows per back-office page.
const PAGE_SIZE: i64 = 30;

/// A list row.
pub struct NoticeRow {
    /// Key.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Heading name.
    pub heading: String,
    /// Tag names.
    pub tags: Vec<String>,
    /// Status label key.
    pub status_key: &'static str,
    /// Period label key (published notices).
    pub period_key: &'static str,
    /// Period CSS modifier.
    pub period_css: &'static str,
    /// Whether published.
    pub published: bool,
    /// Pinned.
    pub pinned: bool,
    /// Display date.
    pub display_date: String,
    /// Last editor.
    pub editor: String,
    /// Reads.
    pub views: i64,
    /// Update time, local.
    pub updated: String,
}

/// The list page.
#[derive(Template)]
#[template(path = "help_center/notice_list.html")]
pub struct NoticeListPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/help-center`
    pub base: String,
    /// `draft` or `published`.
    pub tab: String,
    /// Search text.
    pub q: String,
    /// Heading filter.
    pub heading: String,
    /// Heading choices.
    pub headings: Vec<(i64, String)>,
    /// Templates to start from.
    pub templates: Vec<(i64, String)>,
    /// Rows.
    pub rows: Vec<NoticeRow>,
    /// Next page.
    pub next_href: Option<String>,
    /// Whether the viewer administers the service.
    pub is_admin: bool,
}

/// The authoring page.
#[derive(Template)]
#[template(path = "help_center/notice_form.html")]
pub struct NoticeFormPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/help-center`
    pub base: String,
    /// The notice (none when new).
    pub id: Option<i64>,
    /// Its status.
    pub status: Option<DocStatus>,
    /// Period label key of an existing notice.
    pub period_key: String,
    /// Whether the viewer may save.
    pub can_edit: bool,
    /// Whether the viewer administers the service.
    pub is_admin: bool,
    /// Heading choices.
    pub headings: Vec<(i64, String)>,
    /// Tag choices `(id, name, checked)`.
    pub tags: Vec<(i64, String, bool)>,
    /// Template choices (new notices).
    pub templates: Vec<(i64, String)>,
    /// Values.
    pub form: NoticeFormState,
    /// Per-language contents.
    pub contents: Vec<LangContent>,
    /// Field errors.
    pub errors: FormErrors,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// Upload error, empty when none.
    pub attach_error: String,
    /// Views.
    pub views: i64,
    /// Last update, local.
    pub updated: String,
    /// The service's time zone name (shown next to the period).
    pub timezone: String,
    /// Public URL.
    pub portal_href: String,
    /// Attachment limits.
    pub attach_hint: String,
    /// Where attachments are posted.
    pub attach_base: String,
}

/// The form's scalar values, as typed.
#[derive(Debug, Clone, Default)]
pub struct NoticeFormState {
    /// Heading id (text).
    pub heading_id: String,
    /// Chosen tags.
    pub tag_ids: Vec<i64>,
    /// Pinned.
    pub pinned: bool,
    /// Display date.
    pub display_date: String,
    /// Period start (local `YYYY-MM-DDTHH:MM`).
    pub starts_at: String,
    /// Period end.
    pub ends_at: String,
}

fn label_choices(labels: &[Label], s: &HcStaff) -> Vec<(i64, String)> {
    let (lang, fallback) = (title_lang(s), default_lang(&s.service));
    labels
        .iter()
        .map(|l| (l.id, pick_name(&l.names, lang, fallback)))
        .collect()
}

/// List query.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    tab: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    heading: String,
    #[serde(default)]
    before: String,
}

/// `GET /{service_id}/console/help-center/notices`
pub async fn list_notices(
    s: HcStaff,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    s.require(Module::Notice)?;
    let query = query.into_inner();
    let tab = if query.tab == "draft" {
        DocStatus::Draft
    } else {
        DocStatus::Published
    };
    let q: String = query.q.trim().chars().take(100).collect();
    let heading = query.heading.trim().parse::<i64>().ok();
    let before = query.before.trim().parse::<i64>().ok();
    let (lang, fallback) = (title_lang(&s), default_lang(&s.service));
    let parsed = SearchQuery::parse(&q);
    let searched_nothing = !q.is_empty() && parsed.is_none();
    let sid = s.service.id;
    let (headings, tags, templates, rows, more, titles, tag_map) = s
        .viewer()
        .state
        .db
        .read(move |c| {
            let headings = notices::headings(c, sid)?;
            let tags = notices::tags(c, sid)?;
            let templates = notices::templates(c, sid)?;
            let (rows, more) = if searched_nothing {
                (Vec::new(), false)
            } else {
                let filter = AdminFilter {
                    status: Some(tab),
                    heading_id: heading,
                    query: parsed,
                    before,
                };
                notices::admin_page(c, sid, &filter, PAGE_SIZE)?
            };
            let ids: Vec<i64> = rows.iter().map(|r| r.notice.id).collect();
            let titles = notices::localized(c, &ids, lang, fallback)?;
            let tag_map = notices::tag_ids_of(c, &ids)?;
            Ok((headings, tags, templates, rows, more, titles, tag_map))
        })
        .await?;
    let tz = service_tz(&s.service);
    let at = now();
    let heading_names: HashMap<i64, String> = label_choices(&headings, &s).into_iter().collect();
    let tag_names: HashMap<i64, String> = label_choices(&tags, &s).into_iter().collect();
    let next_href = match rows.last() {
        Some(last) if more => Some(format!(
            "{}/notices{}",
            base(&s.service.code),
            query_string(&[
                ("tab", tab.as_str()),
                ("q", &q),
                (
                    "heading",
                    &heading.map(|h| h.to_string()).unwrap_or_default()
                ),
                ("before", &last.notice.id.to_string()),
            ])
        )),
        _ => None,
    };
    let rows = rows
        .into_iter()
        .map(|r| {
            let n = r.notice;
            let status = n.status();
            let period = Period::at(n.starts_at, n.ends_at, at);
            NoticeRow {
                id: n.id,
                title: titles
                    .get(&n.id)
                    .map(|(t, _)| t.clone())
                    .unwrap_or_default(),
                heading: heading_names
                    .get(&n.heading_id)
                    .cloned()
                    .unwrap_or_default(),
                tags: tag_map
                    .get(&n.id)
                    .map(|ids| {
                        ids.iter()
                            .filter_map(|t| tag_names.get(t).cloned())
                            .collect()
                    })
                    .unwrap_or_default(),
                status_key: status.label_key(),
                period_key: period.label_key(),
                period_css: period.css(),
                published: status == DocStatus::Published,
                pinned: n.pinned,
                display_date: n.display_date.clone(),
                editor: r.editor_name.unwrap_or_default(),
                views: n.view_count,
                updated: local_display(tz, n.updated_at),
            }
        })
        .collect();
    let page = NoticeListPage {
        ctx: PageCtx::console(&s, "notice.title"),
        base: base(&s.service.code),
        tab: tab.as_str().into(),
        q,
        heading: heading.map(|h| h.to_string()).unwrap_or_default(),
        headings: label_choices(&headings, &s),
        templates: templates.iter().map(|t| (t.id, t.name.clone())).collect(),
        rows,
        next_href,
        is_admin: s.is_service_admin(),
    };
    w::html(StatusCode::OK, &page)
}

async fn render_form(
    s: &HcStaff,
    existing: Option<Notice>,
    state: Option<(NoticeFormState, Vec<LangContent>)>,
    template_id: Option<i64>,
    errors: FormErrors,
    attach_error: String,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = s.service.id;
    let id = existing.as_ref().map(|n| n.id);
    let (headings, tags, templates, rows, tag_ids, atts, template) = s
        .viewer()
        .state
        .db
        .read(move |c| {
            let headings = notices::headings(c, sid)?;
            let tags = notices::tags(c, sid)?;
            let templates = notices::templates(c, sid)?;
            let (rows, tag_ids, atts) = match id {
                Some(id) => (
                    notices::contents(c, id)?,
                    notices::tag_ids_of(c, &[id])?
                        .remove(&id)
                        .unwrap_or_default(),
                    Attachment::of(c, Owner::Notice(id))?,
                ),
                None => (Vec::new(), Vec::new(), Vec::new()),
            };
            let template = match template_id {
                Some(t) => notices::find_template(c, sid, t)?,
                None => None,
            };
            Ok((headings, tags, templates, rows, tag_ids, atts, template))
        })
        .await?;
    let tz = service_tz(&s.service);
    let (form, contents) = match (state, &existing) {
        (Some(st), _) => st,
        (None, Some(n)) => (
            NoticeFormState {
                heading_id: n.heading_id.to_string(),
                tag_ids,
                pinned: n.pinned,
                display_date: n.display_date.clone(),
                starts_at: n.starts_at.map(|t| local_input(tz, t)).unwrap_or_default(),
                ends_at: n.ends_at.map(|t| local_input(tz, t)).unwrap_or_default(),
            },
            contents_from_rows(&s.service, &rows),
        ),
        (None, None) => {
            let mut form = NoticeFormState {
                display_date: local_date(tz, now()),
                ..NoticeFormState::default()
            };
            let contents = match &template {
                Some(t) => {
                    form.heading_id = t.heading_id.map(|h| h.to_string()).unwrap_or_default();
                    form.tag_ids = t.tags();
                    contents_from_rows(&s.service, &t.rows())
                }
                None => empty_contents(&s.service),
            };
            (form, contents)
        }
    };
    let is_admin = s.is_service_admin();
    let doc_status = existing.as_ref().map(Notice::status);
    let lang = s.viewer().lang;
    let title_key = if id.is_some() {
        "notice.edit_title"
    } else {
        "notice.new_title"
    };
    let tag_choices = label_choices(&tags, s)
        .into_iter()
        .map(|(tid, name)| (tid, name, form.tag_ids.contains(&tid)))
        .collect();
    let page = NoticeFormPage {
        ctx: PageCtx::console(s, title_key),
        base: base(&s.service.code),
        id,
        status: doc_status,
        period_key: existing
            .as_ref()
            .map(|n| {
                Period::at(n.starts_at, n.ends_at, now())
                    .label_key()
                    .to_string()
            })
            .unwrap_or_default(),
        can_edit: is_admin || doc_status != Some(DocStatus::Published),
        is_admin,
        headings: label_choices(&headings, s),
        tags: tag_choices,
        templates: templates.iter().map(|t| (t.id, t.name.clone())).collect(),
        form,
        contents,
        errors,
        attachments: atts,
        attach_error,
        views: existing.as_ref().map_or(0, |n| n.view_count),
        updated: existing
            .as_ref()
            .map(|n| local_display(tz, n.updated_at))
            .unwrap_or_default(),
        timezone: s.service.timezone.clone(),
        portal_href: id
            .map(|i| format!("/{}/hc/notices/{i}", s.service.code))
            .unwrap_or_default(),
        attach_base: id
            .map(|i| format!("{}/notices/{i}/attachments", base(&s.service.code)))
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

/// Query of the new-notice page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    template: String,
}

/// `GET /{service_id}/console/help-center/notices/new[?template=ID]`
pub async fn new_notice_form(
    s: HcStaff,
    query: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    s.require(Module::Notice)?;
    let template = query.template.trim().parse::<i64>().ok();
    let lang = s.viewer().lang;
    render_form(
        &s,
        None,
        None,
        template,
        FormErrors::new(lang),
        String::new(),
        StatusCode::OK,
    )
    .await
}

/// Reads and checks the form.
async fn read_form(
    s: &HcStaff,
    form: &Pairs,
) -> Result<
    (
        NoticeFormState,
        Vec<LangContent>,
        Option<NoticeInput>,
        FormErrors,
    ),
    AppError,
> {
    let mut errors = FormErrors::new(s.viewer().lang);
    let contents = read_contents(&s.service, form, &mut errors);
    let state = NoticeFormState {
        heading_id: form.get("heading_id").trim().to_string(),
        tag_ids: form.ids("tag_id"),
        pinned: form.checked("pinned"),
        display_date: form.get("display_date").trim().to_string(),
        starts_at: form.get("starts_at").trim().to_string(),
        ends_at: form.get("ends_at").trim().to_string(),
    };
    let sid = s.service.id;
    let (headings, tags) = s
        .viewer()
        .state
        .db
        .read(move |c| Ok((notices::headings(c, sid)?, notices::tags(c, sid)?)))
        .await?;
    let heading_id = state
        .heading_id
        .parse::<i64>()
        .ok()
        .filter(|h| headings.iter().any(|x| x.id == *h));
    if heading_id.is_none() {
        errors.add(
            "heading_id",
            if headings.is_empty() {
                "notice.error.no_headings"
            } else {
                "validation.required"
            },
        );
    }
    if state
        .tag_ids
        .iter()
        .any(|t| !tags.iter().any(|x| x.id == *t))
    {
        errors.add("tag_id", "notice.error.tag_unknown");
    }
    let display_date = parse_date(&state.display_date);
    if display_date.is_none() {
        errors.add("display_date", "notice.error.date");
    }
    let tz = service_tz(&s.service);
    let starts = parse_local_minute(tz, &state.starts_at);
    let ends = parse_local_minute(tz, &state.ends_at);
    if starts.is_err() {
        errors.add("starts_at", "notice.error.datetime");
    }
    if ends.is_err() {
        errors.add("ends_at", "notice.error.datetime");
    }
    let (starts, ends) = (starts.ok().flatten(), ends.ok().flatten());
    if let (Some(a), Some(b)) = (starts, ends)
        && b <= a
    {
        errors.add("ends_at", "notice.error.end_before_start");
    }
    let input = match (heading_id, display_date) {
        (Some(heading_id), Some(display_date)) if errors.is_empty() => Some(NoticeInput {
            heading_id,
            tag_ids: state.tag_ids.clone(),
            pinned: state.pinned,
            display_date,
            starts_at: starts,
            ends_at: ends,
            contents: contents.clone(),
        }),
        _ => None,
    };
    Ok((state, contents, input, errors))
}

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

fn saved_key(status: DocStatus) -> &'static str {
    if status == DocStatus::Published {
        "notice.published"
    } else {
        "notice.saved_draft"
    }
}

/// `POST /{service_id}/console/help-center/notices`
pub async fn create_notice(
    req: HttpRequest,
    s: HcStaff,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    s.require(Module::Notice)?;
    let form = form.into_inner();
    let status = wanted_status(&s, &form)?;
    let (state, contents, input, errors) = read_form(&s, &form).await?;
    let Some(input) = input else {
        return render_form(
            &s,
            None,
            Some((state, contents)),
            None,
            errors,
            String::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let (sid, uid) = (s.service.id, s.user().id);
    let id = s
        .viewer()
        .state
        .db
        .write(move |c| Ok(notices::create(c, sid, uid, &input, status)?))
        .await?;
    let v = s.viewer();
    v.flash(Flash::success(v.t(saved_key(status))));
    Ok(w::redirect(
        &req,
        &format!("{}/notices/{id}", base(&s.service.code)),
    ))
}

async fn load(s: &HcStaff, id: i64) -> Result<Notice, AppError> {
    let sid = s.service.id;
    s.viewer()
        .state
        .db
        .read(move |c| Ok(notices::find(c, sid, id)?))
        .await?
        .ok_or(AppError::NotFound)
}

fn require_editable(s: &HcStaff, status: DocStatus) -> Result<(), AppError> {
    if status == DocStatus::Published && !s.is_service_admin() {
        Err(AppError::Forbidden("hc.error.published_admin_only"))
    } else {
        Ok(())
    }
}

/// `GET /{service_id}/console/help-center/notices/{id}`
pub async fn edit_notice_form(
    s: HcStaff,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    s.require(Module::Notice)?;
    let n = load(&s, path.1).await?;
    let lang = s.viewer().lang;
    render_form(
        &s,
        Some(n),
        None,
        None,
        FormErrors::new(lang),
        String::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /{service_id}/console/help-center/notices/{id}`
pub async fn update_notice(
    req: HttpRequest,
    s: HcStaff,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    s.require(Module::Notice)?;
    let form = form.into_inner();
    let existing = load(&s, path.1).await?;
    require_editable(&s, existing.status())?;
    let status = wanted_status(&s, &form)?;
    let (state, contents, input, errors) = read_form(&s, &form).await?;
    let Some(input) = input else {
        return render_form(
            &s,
            Some(existing),
            Some((state, contents)),
            None,
            errors,
            String::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let uid = s.user().id;
    let id = existing.id;
    s.viewer()
        .state
        .db
        .write(move |c| Ok(notices::update(c, &existing, uid, &input, status)?))
        .await?;
    let v = s.viewer();
    v.flash(Flash::success(v.t(saved_key(status))));
    Ok(w::redirect(
        &req,
        &format!("{}/notices/{id}", base(&s.service.code)),
    ))
}

async fn change_status(
    req: HttpRequest,
    a: HcAdmin,
    id: i64,
    status: DocStatus,
) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let n = load(&a, id).await?;
    let uid = a.user().id;
    a.viewer()
        .state
        .db
        .write(move |c| Ok(notices::set_status(c, &n, uid, status)?))
        .await?;
    let v = a.viewer();
    v.flash(Flash::success(v.t(if status == DocStatus::Published {
        "notice.published"
    } else {
        "notice.unpublished"
    })));
    Ok(w::redirect(
        &req,
        &format!("{}/notices/{id}", base(&a.service.code)),
    ))
}

/// `POST /{service_id}/console/help-center/notices/{id}/publish`
pub async fn publish_notice(
    req: HttpRequest,
    a: HcAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    change_status(req, a, path.1, DocStatus::Published).await
}

/// `POST /{service_id}/console/help-center/notices/{id}/unpublish`
pub async fn unpublish_notice(
    req: HttpRequest,
    a: HcAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    change_status(req, a, path.1, DocStatus::Draft).await
}

/// `POST /{service_id}/console/help-center/notices/{id}/delete`
pub async fn delete_notice(
    req: HttpRequest,
    a: HcAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    a.require(Module::Notice)?;
    let n = load(&a, path.1).await?;
    let tab = n.status().as_str();
    let paths = a
        .viewer()
        .state
        .db
        .write(move |c| {
            let paths = Attachment::paths_of(c, Owner::Notice(n.id))?;
            notices::delete(c, n.id)?;
            Ok(paths)
        })
        .await?;
    attachments::remove_files_later(&a.viewer().state, paths).await;
    let v = a.viewer();
    v.flash(Flash::success(v.t("notice.deleted")));
    Ok(w::redirect(
        &req,
        &format!("{}/notices?tab={tab}", base(&a.service.code)),
    ))
}

/// `POST /{service_id}/console/help-center/notices/{id}/attachments` (multipart).
pub async fn upload_notice_attachments(
    req: HttpRequest,
    s: HcStaff,
    path: web::Path<(String, i64)>,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    s.require(Module::Notice)?;
    let n = load(&s, path.1).await?;
    require_editable(&s, n.status())?;
    match attachments::accept(&s, Owner::Notice(n.id), payload).await? {
        attachments::Outcome::Saved => {
            let v = s.viewer();
            v.flash(Flash::success(v.t("hc.attach.saved")));
            Ok(w::redirect(
                &req,
                &format!("{}/notices/{}", base(&s.service.code), n.id),
            ))
        }
        attachments::Outcome::TooLarge => Ok(HttpResponse::PayloadTooLarge().finish()),
        attachments::Outcome::Refused(msg) => {
            let lang = s.viewer().lang;
            render_form(
                &s,
                Some(n),
                None,
                None,
                FormErrors::new(lang),
                msg,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /{service_id}/console/help-center/notices/{id}/attachments/{attachment_id}/delete`
pub async fn delete_notice_attachment(
    req: HttpRequest,
    s: HcStaff,
    path: web::Path<(String, i64, i64)>,
) -> Result<HttpResponse, AppError> {
    s.require(Module::Notice)?;
    let n = load(&s, path.1).await?;
    require_editable(&s, n.status())?;
    attachments::remove(&s, Owner::Notice(n.id), path.2).await?;
    let v = s.viewer();
    v.flash(Flash::success(v.t("hc.attach.removed")));
    Ok(w::redirect(
        &req,
        &format!("{}/notices/{}", base(&s.service.code), n.id),
    ))
}
