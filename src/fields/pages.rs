//! Service Management → Fields (SPEC §3.5): the catalogue (customer and agent tabs), adding a
//! custom field (first its control type, then its settings), editing any field, resetting a
//! system field to its defaults and deleting a custom field after a confirmation page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::agents::form::Pairs;
use crate::db::refuse;
use crate::db::schema::field_layouts;
use crate::db::types::ServiceKind;
use crate::error::AppError;
use crate::fields::form::FieldForm;
use crate::fields::layout::{LayoutScope, layout_of, save_layout};
use crate::fields::model::{
    Audience, CodeProblem, Control, FieldDef, MAX_CUSTOM_FIELDS, check_code, create_field,
    custom_field_count, delete_field, reset_system_field, update_field,
};
use crate::i18n::{self, Lang};
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin};

/// The fields path of a service.
pub fn fields_base(code: &str) -> String {
    format!("/{code}/console/settings/fields")
}

/// Fields exist in consultation services only.
pub(crate) fn require_cm(a: &ServiceAdmin) -> Result<(), AppError> {
    if a.service.kind() == ServiceKind::Consultation {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The service's help-center languages (never empty) and its default language.
pub(crate) fn service_langs(a: &ServiceAdmin) -> (Vec<Lang>, Lang) {
    let fallback = Lang::parse(&a.service.default_lang).unwrap_or_default();
    let mut langs = a.service.languages();
    if langs.is_empty() {
        langs.push(fallback);
    }
    (langs, fallback)
}

/// A catalogue row.
#[derive(Debug, Clone)]
pub struct FieldListRow {
    /// Id.
    pub id: i64,
    /// Label in the viewer's language.
    pub label: String,
    /// Code.
    pub code: String,
    /// Control type, translated.
    pub control: String,
    /// Built in.
    pub system: bool,
    /// Required.
    pub required: bool,
    /// Personal data.
    pub personal: bool,
    /// Visible.
    pub visible: bool,
    /// Permission level, translated (agent fields).
    pub permission: String,
}

impl FieldListRow {
    /// A row for a field in `lang`.
    pub fn of(f: &FieldDef, lang: Lang, fallback: Lang) -> FieldListRow {
        FieldListRow {
            id: f.id,
            label: f.label(lang, fallback),
            code: f.code.clone(),
            control: i18n::t(lang, f.control.label_key()),
            system: f.is_system(),
            required: f.required,
            personal: f.personal,
            visible: f.visible,
            permission: i18n::t(lang, f.agent_permission.label_key()),
        }
    }
}

/// The catalogue page.
#[derive(Template)]
#[template(path = "fields/list.html")]
pub struct FieldsPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/fields`
    pub base: String,
    /// The tab shown.
    pub agent_tab: bool,
    /// Fields in catalogue order.
    pub rows: Vec<FieldListRow>,
    /// Custom fields of the tab.
    pub custom_count: usize,
    /// The cap on custom fields.
    pub max_custom: i64,
}

/// Query of the catalogue and new-field pages.
#[derive(Debug, Default, serde::Deserialize)]
pub struct AudienceQuery {
    audience: Option<String>,
    control: Option<String>,
}

fn audience_of(q: Option<&str>) -> Audience {
    q.and_then(Audience::parse).unwrap_or(Audience::Customer)
}

/// `GET /{service_id}/console/settings/fields?audience=customer|agent`
pub async fn list_fields(
    a: ServiceAdmin,
    query: web::Query<AudienceQuery>,
) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let audience = audience_of(query.audience.as_deref());
    let (_, fallback) = service_langs(&a);
    let lang = a.viewer().lang;
    let sid = a.service.id;
    let fields = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(FieldDef::of_audience(c, sid, audience)?))
        .await?;
    let page = FieldsPage {
        ctx: PageCtx::console(&a, "field.title"),
        base: fields_base(&a.service.code),
        agent_tab: audience == Audience::Agent,
        custom_count: fields.iter().filter(|f| !f.is_system()).count(),
        rows: fields
            .iter()
            .map(|f| FieldListRow::of(f, lang, fallback))
            .collect(),
        max_custom: MAX_CUSTOM_FIELDS,
    };
    w::html(StatusCode::OK, &page)
}

/// A control type on the picker page.
#[derive(Debug, Clone)]
pub struct ControlChoice {
    /// Code.
    pub code: &'static str,
    /// Name.
    pub label: String,
    /// What it is for.
    pub hint: String,
}

/// First step of adding a field: choose the control type.
#[derive(Template)]
#[template(path = "fields/new_control.html")]
pub struct ControlPickerPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/fields`
    pub base: String,
    /// `customer` or `agent`.
    pub audience: &'static str,
    /// Whether it is an agent field.
    pub agent: bool,
    /// The control types.
    pub controls: Vec<ControlChoice>,
}

/// The add / edit form page.
#[derive(Template)]
#[template(path = "fields/form.html")]
pub struct FieldFormPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/fields`
    pub base: String,
    /// The form.
    pub form: FieldForm,
    /// The field being edited (None: a new field).
    pub field_id: Option<i64>,
    /// Control type, translated.
    pub control_label: String,
    /// Audience, translated.
    pub audience_label: String,
    /// The service's default language code (its label is required).
    pub default_lang: &'static str,
    /// Inline messages.
    pub errors: FormErrors,
}

impl FieldFormPage {
    /// Where the form posts.
    pub fn action(&self) -> String {
        match self.field_id {
            Some(id) => format!("{}/{id}", self.base),
            None => format!("{}/new", self.base),
        }
    }

    /// An input name: `prefix_lang`.
    pub fn key(&self, prefix: &str, lang: &str) -> String {
        format!("{prefix}_{lang}")
    }

    /// The message for a per-language input (`prefix_lang`), or "".
    pub fn err(&self, prefix: &str, lang: &str) -> &str {
        self.errors.get(&self.key(prefix, lang))
    }

    /// The catalogue tab to return to.
    pub fn back(&self) -> String {
        match self.form.audience {
            Audience::Agent => format!("{}?audience=agent", self.base),
            Audience::Customer => self.base.clone(),
        }
    }
}

fn form_page(
    a: &ServiceAdmin,
    title: &str,
    form: FieldForm,
    field_id: Option<i64>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let (_, fallback) = service_langs(a);
    let page = FieldFormPage {
        ctx: PageCtx::console(a, title),
        base: fields_base(&a.service.code),
        control_label: i18n::t(lang, form.control.label_key()),
        audience_label: i18n::t(lang, form.audience.label_key()),
        form,
        field_id,
        default_lang: fallback.code(),
        errors,
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/settings/fields/new?audience=…[&control=…]` — without a control
/// type, the picker; with one, the settings form.
pub async fn new_field_form(
    a: ServiceAdmin,
    query: web::Query<AudienceQuery>,
) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let audience = audience_of(query.audience.as_deref());
    let lang = a.viewer().lang;
    match query.control.as_deref().and_then(Control::parse) {
        Some(control) => {
            let (langs, _) = service_langs(&a);
            let form = FieldForm::blank(audience, control, &langs);
            form_page(
                &a,
                "field.new_title",
                form,
                None,
                FormErrors::new(lang),
                StatusCode::OK,
            )
        }
        None => {
            let page = ControlPickerPage {
                ctx: PageCtx::console(&a, "field.new_title"),
                base: fields_base(&a.service.code),
                audience: audience.as_str(),
                agent: audience == Audience::Agent,
                controls: Control::ALL
                    .iter()
                    .map(|c| ControlChoice {
                        code: c.as_str(),
                        label: i18n::t(lang, c.label_key()),
                        hint: i18n::t(lang, &format!("{}_hint", c.label_key())),
                    })
                    .collect(),
            };
            w::html(StatusCode::OK, &page)
        }
    }
}

/// `POST /{service_id}/console/settings/fields/new` — `audience` and `control` name the kind.
pub async fn create_field_action(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let pairs = form.into_inner();
    let audience =
        Audience::parse(pairs.get("audience")).ok_or(AppError::BadRequest("error.bad_request"))?;
    let control =
        Control::parse(pairs.get("control")).ok_or(AppError::BadRequest("error.bad_request"))?;
    let (langs, fallback) = service_langs(&a);
    let lang = a.viewer().lang;
    let form = FieldForm::from_pairs(&pairs, audience, control, None, &langs);
    let sid = a.service.id;
    let f2 = form.clone();
    let result = a
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            let mut errors = FormErrors::new(lang);
            let input = f2.check(&mut errors, None, &langs, fallback);
            if let Err(problem) = check_code(c, sid, &f2.code)? {
                errors.add_with(
                    "code",
                    problem.message_key(),
                    &[("max", &crate::fields::model::MAX_CODE.to_string())],
                );
            } else if custom_field_count(c, sid, audience)? >= MAX_CUSTOM_FIELDS {
                errors.add_with(
                    "code",
                    "field.too_many_fields",
                    &[("max", &MAX_CUSTOM_FIELDS.to_string())],
                );
            }
            if !errors.is_empty() {
                return refuse(errors);
            }
            // A savepoint, so that a concurrent create of the same code (caught by the unique
            // index) becomes a field message instead of an aborted transaction.
            let created = c.transaction(|c| create_field(c, sid, audience, control, &input));
            let id = match created {
                Ok(id) => id,
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => {
                    errors.add("code", CodeProblem::Taken.message_key());
                    return refuse(errors);
                }
                Err(e) => return Err(e.into()),
            };
            if audience == Audience::Customer
                && f2.add_to_default
                && let Some(layout) = layout_of(c, sid, LayoutScope::Default)?
            {
                let mut ids = layout.middle.clone();
                ids.push(id);
                save_layout(c, sid, LayoutScope::Default, &layout, &ids)?;
            }
            Ok(())
        })
        .await?;
    match result {
        Ok(()) => {
            let name = form
                .texts
                .iter()
                .find(|t| t.code == fallback.code())
                .map_or(form.code.as_str(), |t| t.label.as_str())
                .to_string();
            a.viewer().flash(Flash::success(i18n::tf(
                lang,
                "field.created",
                &[("name", &name)],
            )));
            let back = match audience {
                Audience::Agent => format!("{}?audience=agent", fields_base(&a.service.code)),
                Audience::Customer => fields_base(&a.service.code),
            };
            Ok(w::redirect(&req, &back))
        }
        Err(errors) => form_page(
            &a,
            "field.new_title",
            form,
            None,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}

async fn load_field(a: &ServiceAdmin, id: i64) -> Result<FieldDef, AppError> {
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .read(move |c| FieldDef::find(c, sid, id)?.ok_or(AppError::NotFound))
        .await
}

/// `GET /{service_id}/console/settings/fields/{field_id}`
pub async fn edit_field_form(
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let (_, id) = path.into_inner();
    let field = load_field(&a, id).await?;
    let (langs, _) = service_langs(&a);
    let lang = a.viewer().lang;
    form_page(
        &a,
        "field.edit_title",
        FieldForm::from_field(&field, &langs),
        Some(id),
        FormErrors::new(lang),
        StatusCode::OK,
    )
}

/// `POST /{service_id}/console/settings/fields/{field_id}`
pub async fn update_field_action(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let (_, id) = path.into_inner();
    let field = load_field(&a, id).await?;
    let (langs, fallback) = service_langs(&a);
    let lang = a.viewer().lang;
    let mut form = FieldForm::from_pairs(
        &form.into_inner(),
        field.audience,
        field.control,
        field.system,
        &langs,
    );
    form.code = field.code.clone();
    let sid = a.service.id;
    let f2 = form.clone();
    let result = a
        .viewer()
        .state
        .db
        .write_or_refuse(move |c| {
            // Re-read inside the transaction: the field may have been deleted meanwhile.
            let field = FieldDef::find(c, sid, id)?.ok_or(AppError::NotFound)?;
            let mut errors = FormErrors::new(lang);
            let input = f2.check(&mut errors, Some(&field), &langs, fallback);
            if !errors.is_empty() {
                return refuse(errors);
            }
            update_field(c, &field, &langs, &input)?;
            Ok(FieldDef::find(c, sid, id)?.unwrap_or(field))
        })
        .await?;
    match result {
        Ok(field) => {
            a.viewer().flash(Flash::success(i18n::tf(
                lang,
                "field.saved",
                &[("name", &field.label(lang, fallback))],
            )));
            Ok(w::redirect(
                &req,
                &format!("{}/{id}", fields_base(&a.service.code)),
            ))
        }
        Err(errors) => form_page(
            &a,
            "field.edit_title",
            form,
            Some(id),
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}

/// `POST /{service_id}/console/settings/fields/{field_id}/reset` — system fields only.
pub async fn reset_field(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let (_, id) = path.into_inner();
    let sid = a.service.id;
    let field = a
        .viewer()
        .state
        .db
        .write(move |c| {
            let field = FieldDef::find(c, sid, id)?.ok_or(AppError::NotFound)?;
            reset_system_field(c, &field)?;
            Ok(field)
        })
        .await?;
    let (_, fallback) = service_langs(&a);
    let lang = a.viewer().lang;
    a.viewer().flash(Flash::success(i18n::tf(
        lang,
        "field.reset_done",
        &[("name", &field.label(lang, fallback))],
    )));
    Ok(w::redirect(
        &req,
        &format!("{}/{id}", fields_base(&a.service.code)),
    ))
}

/// The delete confirmation page.
#[derive(Template)]
#[template(path = "fields/delete.html")]
pub struct DeletePage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/fields`
    pub base: String,
    /// The field.
    pub field: FieldListRow,
    /// How many layouts it is in.
    pub layouts: i64,
}

/// `GET /{service_id}/console/settings/fields/{field_id}/delete`
pub async fn delete_field_form(
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let (_, id) = path.into_inner();
    let sid = a.service.id;
    let (field, layouts) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let field = FieldDef::find(c, sid, id)?.ok_or(AppError::NotFound)?;
            let layouts: i64 = field_layouts::table
                .filter(field_layouts::field_id.eq(id))
                .count()
                .get_result(c)?;
            Ok((field, layouts))
        })
        .await?;
    if field.is_system() {
        return Err(AppError::BadRequest("field.system_not_deletable"));
    }
    let (_, fallback) = service_langs(&a);
    let page = DeletePage {
        ctx: PageCtx::console(&a, "field.delete_title"),
        base: fields_base(&a.service.code),
        field: FieldListRow::of(&field, a.viewer().lang, fallback),
        layouts,
    };
    w::html(StatusCode::OK, &page)
}

/// `POST /{service_id}/console/settings/fields/{field_id}/delete` — custom fields only.
pub async fn delete_field_action(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    require_cm(&a)?;
    let (_, id) = path.into_inner();
    let sid = a.service.id;
    let field = a
        .viewer()
        .state
        .db
        .write(move |c| {
            let field = FieldDef::find(c, sid, id)?.ok_or(AppError::NotFound)?;
            delete_field(c, &field)?;
            Ok(field)
        })
        .await?;
    let (_, fallback) = service_langs(&a);
    let lang = a.viewer().lang;
    a.viewer().flash(Flash::success(i18n::tf(
        lang,
        "field.deleted",
        &[
            ("name", &field.label(lang, fallback)),
            ("code", &field.code),
        ],
    )));
    let back = match field.audience {
        Audience::Agent => format!("{}?audience=agent", fields_base(&a.service.code)),
        Audience::Customer => fields_base(&a.service.code),
    };
    Ok(w::redirect(&req, &back))
}
