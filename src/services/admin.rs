//! Service management for organization administrators (SPEC §2.1, contract tab):
//! `/admin/services` lists every service; adding one (type, immutable letters-only ID, name,
//! help-center languages and default, time zone, editor) makes its creator the service
//! administrator; the edit page changes settings, the origins allowed to frame the help center
//! and the feature switches (Open API included); services can be disabled and, once disabled,
//! deleted after typing their ID.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::auth::setup::COMMON_TIMEZONES;
use crate::db::DbConn;
use crate::db::refuse;
use crate::db::schema::services;
use crate::db::types::{EditorType, ServiceKind};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::org::form::Pairs;
use crate::tenancy::service::{
    DeleteOutcome, Features, NewService, Service, ServiceBasics, validate_new_service,
    validate_service_name, validate_settings,
};
use crate::web::{self as w, Flash, FormErrors, OrgAdmin, PageCtx};

/// Most origins allowed to frame a help center.
pub const MAX_FRAME_ORIGINS: usize = 20;
/// Longest origin list (characters).
pub const MAX_FRAME_ANCESTORS_LEN: usize = 2000;

/// A row of the service list.
pub struct ServiceRow {
    /// Service ID.
    pub code: String,
    /// Name.
    pub name: String,
    /// Type label key.
    pub kind_key: String,
    /// Type code (`cm`/`im`), shown as a short badge.
    pub kind: String,
    /// Help-center languages (native names).
    pub languages: String,
    /// Default language code.
    pub default_lang: String,
    /// Enabled.
    pub enabled: bool,
    /// Open API on.
    pub open_api: bool,
}

/// The service list.
#[derive(Template)]
#[template(path = "admin/services.html")]
pub struct ServicesPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Rows.
    pub rows: Vec<ServiceRow>,
}

fn language_names(langs: &[Lang]) -> String {
    langs
        .iter()
        .map(|l| l.native_name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `GET /admin/services`
pub async fn list_services(admin: OrgAdmin) -> Result<HttpResponse, AppError> {
    let list = admin
        .0
        .viewer
        .state
        .db
        .read(|c| Ok(Service::all(c)?))
        .await?;
    let rows = list
        .into_iter()
        .map(|s| ServiceRow {
            languages: language_names(&s.languages()),
            kind_key: format!("service.kind.{}", s.kind),
            kind: s.kind.to_ascii_uppercase(),
            default_lang: s.default_lang,
            enabled: s.enabled,
            open_api: s.open_api_enabled,
            code: s.code,
            name: s.name,
        })
        .collect();
    let page = ServicesPage {
        ctx: PageCtx::admin(&admin.0, "service.admin.title"),
        rows,
    };
    w::html(StatusCode::OK, &page)
}

/// Values of the add and edit forms, as typed.
#[derive(Debug, Clone, Default)]
pub struct ServiceValues {
    /// `cm` / `im`.
    pub kind: String,
    /// Service ID.
    pub service_id: String,
    /// Name.
    pub service_name: String,
    /// Chosen language codes.
    pub languages: Vec<String>,
    /// Default language code.
    pub default_lang: String,
    /// Time zone.
    pub timezone: String,
    /// `html` / `text`.
    pub editor_type: String,
    /// Origins allowed to frame the help center.
    pub frame_ancestors: String,
    /// Feature switches that are on.
    pub features: Vec<String>,
}

impl ServiceValues {
    fn from_pairs(p: &Pairs) -> ServiceValues {
        let bounded = |s: String, n: usize| s.trim().chars().take(n).collect::<String>();
        ServiceValues {
            kind: bounded(p.get("kind"), 10),
            service_id: bounded(p.get("service_id"), 100),
            service_name: bounded(p.get("service_name"), 200),
            languages: p.all("languages"),
            default_lang: bounded(p.get("default_lang"), 10),
            timezone: bounded(p.get("timezone"), 100),
            editor_type: bounded(p.get("editor_type"), 10),
            frame_ancestors: p
                .get("frame_ancestors")
                .chars()
                .take(MAX_FRAME_ANCESTORS_LEN * 2)
                .collect(),
            features: Features::NAMES
                .iter()
                .filter(|n| p.has(&format!("feature_{n}")))
                .map(|n| (*n).to_string())
                .collect(),
        }
    }

    fn of_service(s: &Service) -> ServiceValues {
        let features = s.features();
        ServiceValues {
            kind: s.kind.clone(),
            service_id: s.code.clone(),
            service_name: s.name.clone(),
            languages: s.languages().iter().map(|l| l.code().to_string()).collect(),
            default_lang: s.default_lang.clone(),
            timezone: s.timezone.clone(),
            editor_type: s.editor_type.clone(),
            frame_ancestors: s.hc_frame_ancestors.clone(),
            features: Features::NAMES
                .iter()
                .filter(|n| features.get(n))
                .map(|n| (*n).to_string())
                .collect(),
        }
    }

    /// Whether a language is ticked (templates).
    pub fn has_lang(&self, code: &str) -> bool {
        self.languages.iter().any(|l| l == code)
    }

    /// The chosen languages, valid ones only, in the standard order.
    fn langs(&self) -> Vec<Lang> {
        Lang::ALL
            .iter()
            .copied()
            .filter(|l| self.has_lang(l.code()))
            .collect()
    }
}

/// A feature switch on the edit page.
pub struct FeatureRow {
    /// Name (form field `feature_<name>`).
    pub name: String,
    /// Label key.
    pub label_key: String,
    /// Hint key.
    pub hint_key: String,
    /// On.
    pub on: bool,
}

/// Languages offered: code and native name.
fn language_options() -> Vec<(String, String)> {
    Lang::ALL
        .iter()
        .map(|l| (l.code().to_string(), l.native_name().to_string()))
        .collect()
}

/// The "add service" page.
#[derive(Template)]
#[template(path = "admin/service_new.html")]
pub struct NewServicePage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Values.
    pub form: ServiceValues,
    /// Errors.
    pub errors: FormErrors,
    /// Languages: code and native name.
    pub languages: Vec<(String, String)>,
    /// Suggested time zones.
    pub timezones: Vec<&'static str>,
}

/// `GET /admin/services/new`
pub async fn new_service_form(admin: OrgAdmin) -> Result<HttpResponse, AppError> {
    let lang = admin.0.viewer.lang;
    let page = NewServicePage {
        ctx: PageCtx::admin(&admin.0, "service.admin.new_title"),
        form: ServiceValues {
            kind: ServiceKind::Consultation.as_str().into(),
            languages: vec![lang.code().into()],
            default_lang: lang.code().into(),
            timezone: "Asia/Seoul".into(),
            editor_type: EditorType::Html.as_str().into(),
            ..ServiceValues::default()
        },
        errors: FormErrors::new(lang),
        languages: language_options(),
        timezones: COMMON_TIMEZONES.to_vec(),
    };
    w::html(StatusCode::OK, &page)
}

/// Checks languages and the default; returns the default when it is a valid code.
fn parse_default_lang(errors: &mut FormErrors, v: &ServiceValues, langs: &[Lang]) -> Lang {
    match Lang::ALL.iter().find(|l| l.code() == v.default_lang) {
        Some(l) => *l,
        None => {
            if !langs.is_empty() {
                errors.add("default_lang", "validation.choose_option");
            }
            langs.first().copied().unwrap_or_default()
        }
    }
}

/// Validates the "add service" form.
pub fn validate_new(
    conn: &mut DbConn,
    v: &ServiceValues,
    lang: Lang,
) -> QueryResult<Result<NewService, FormErrors>> {
    let mut errors = FormErrors::new(lang);
    let kind = ServiceKind::parse(&v.kind);
    if kind.is_none() {
        errors.add("kind", "validation.choose_option");
    }
    let editor = EditorType::parse(&v.editor_type);
    if editor.is_none() {
        errors.add("editor_type", "validation.choose_option");
    }
    let langs = v.langs();
    let default_lang = parse_default_lang(&mut errors, v, &langs);
    let new = NewService {
        code: v.service_id.trim().to_string(),
        kind: kind.unwrap_or(ServiceKind::Consultation),
        name: v.service_name.trim().to_string(),
        languages: langs,
        default_lang,
        timezone: v.timezone.trim().to_string(),
        editor_type: editor.unwrap_or(EditorType::Html),
    };
    validate_new_service(conn, &mut errors, &new)?;
    Ok(if errors.is_empty() {
        Ok(new)
    } else {
        Err(errors)
    })
}

/// `POST /admin/services` — creates a service; its creator becomes its administrator.
pub async fn create_service(
    req: HttpRequest,
    admin: OrgAdmin,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let values = ServiceValues::from_pairs(&Pairs(form.into_inner()));
    let lang = admin.0.viewer.lang;
    let actor = admin.0.user.clone();
    let v2 = values.clone();
    let result = admin
        .0
        .viewer
        .state
        .db
        .write_or_refuse(move |c| {
            let new = match validate_new(c, &v2, lang)? {
                Ok(new) => new,
                Err(errors) => return refuse(errors),
            };
            Service::create_with_admin(c, &new, &actor)?;
            Ok(new.code)
        })
        .await?;
    match result {
        Ok(code) => {
            let v = &admin.0.viewer;
            v.flash(Flash::success(i18n::tf(
                v.lang,
                "service.admin.created",
                &[("code", &code)],
            )));
            Ok(w::redirect(&req, &format!("/admin/services/{code}/edit")))
        }
        Err(errors) => {
            let page = NewServicePage {
                ctx: PageCtx::admin(&admin.0, "service.admin.new_title"),
                form: values,
                errors,
                languages: language_options(),
                timezones: COMMON_TIMEZONES.to_vec(),
            };
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

/// Checks and normalises the space-separated list of origins allowed to frame the help center:
/// each must be an `https://host[:port]` origin (a leading `*.` wildcard label is allowed), with
/// no path, query, fragment or credentials.
pub fn normalize_frame_ancestors(input: &str) -> Result<String, &'static str> {
    if input.chars().count() > MAX_FRAME_ANCESTORS_LEN {
        return Err("service.admin.frame_too_long");
    }
    let mut out: Vec<String> = Vec::new();
    for token in input.split_whitespace() {
        let origin = normalize_origin(token).ok_or("service.admin.frame_invalid")?;
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    if out.len() > MAX_FRAME_ORIGINS {
        return Err("service.admin.frame_too_many");
    }
    Ok(out.join(" "))
}

fn normalize_origin(token: &str) -> Option<String> {
    let rest = token.strip_prefix("https://")?;
    let (wildcard, rest) = match rest.strip_prefix("*.") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let url = url::Url::parse(&format!("https://{rest}")).ok()?;
    let host = url.host_str()?;
    let path_ok = url.path() == "/" && !rest.trim_end_matches('/').contains('/');
    if !path_ok
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
        || host.is_empty()
        || !(host.starts_with('[')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        || (wildcard && !host.contains('.'))
    {
        return None;
    }
    let prefix = if wildcard { "*." } else { "" };
    Some(match url.port() {
        Some(p) => format!("https://{prefix}{host}:{p}"),
        None => format!("https://{prefix}{host}"),
    })
}

/// The edit page.
#[derive(Template)]
#[template(path = "admin/service_edit.html")]
pub struct EditServicePage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Service ID (read-only).
    pub code: String,
    /// Type label key.
    pub kind_key: String,
    /// Enabled.
    pub enabled: bool,
    /// Open API on.
    pub open_api: bool,
    /// Values.
    pub form: ServiceValues,
    /// Errors.
    pub errors: FormErrors,
    /// Feature switches.
    pub features: Vec<FeatureRow>,
    /// Languages: code and native name.
    pub languages: Vec<(String, String)>,
    /// Suggested time zones.
    pub timezones: Vec<&'static str>,
}

fn edit_page(
    admin: &OrgAdmin,
    service: &Service,
    form: ServiceValues,
    errors: FormErrors,
) -> EditServicePage {
    let features = Features::NAMES
        .iter()
        .map(|n| FeatureRow {
            name: (*n).to_string(),
            label_key: format!("service.feature.{n}"),
            hint_key: format!("service.feature_hint.{n}"),
            on: form.features.iter().any(|f| f == n),
        })
        .collect();
    EditServicePage {
        ctx: PageCtx::admin(&admin.0, "service.admin.edit_title"),
        code: service.code.clone(),
        kind_key: format!("service.kind.{}", service.kind),
        enabled: service.enabled,
        open_api: service.open_api_enabled,
        form,
        errors,
        features,
        languages: language_options(),
        timezones: COMMON_TIMEZONES.to_vec(),
    }
}

async fn load_service(admin: &OrgAdmin, code: String) -> Result<Service, AppError> {
    admin
        .0
        .viewer
        .state
        .db
        .read(move |c| Service::find_by_code(c, &code)?.ok_or(AppError::NotFound))
        .await
}

/// `GET /admin/services/{code}/edit`
pub async fn edit_service_form(
    admin: OrgAdmin,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let service = load_service(&admin, path.into_inner()).await?;
    let form = ServiceValues::of_service(&service);
    let page = edit_page(&admin, &service, form, FormErrors::new(admin.0.viewer.lang));
    w::html(StatusCode::OK, &page)
}

/// Validated settings of the edit form.
struct SettingsUpdate {
    name: String,
    languages: Vec<Lang>,
    default_lang: Lang,
    timezone: String,
    editor_type: EditorType,
    frame_ancestors: String,
    features: Features,
}

fn validate_edit(v: &ServiceValues, lang: Lang) -> Result<SettingsUpdate, FormErrors> {
    let mut errors = FormErrors::new(lang);
    crate::tenancy::user::validate_name(&mut errors, "service_name", &v.service_name);
    let editor = EditorType::parse(&v.editor_type);
    if editor.is_none() {
        errors.add("editor_type", "validation.choose_option");
    }
    let langs = v.langs();
    let default_lang = parse_default_lang(&mut errors, v, &langs);
    validate_settings(&mut errors, &langs, default_lang, v.timezone.trim());
    let frame_ancestors = match normalize_frame_ancestors(&v.frame_ancestors) {
        Ok(list) => list,
        Err(key) => {
            errors.add("frame_ancestors", key);
            String::new()
        }
    };
    let mut features = Features::default();
    for name in Features::NAMES {
        features.set(name, v.features.iter().any(|f| f == name));
    }
    match editor {
        Some(editor_type) if errors.is_empty() => Ok(SettingsUpdate {
            name: v.service_name.trim().to_string(),
            languages: langs,
            default_lang,
            timezone: v.timezone.trim().to_string(),
            editor_type,
            frame_ancestors,
            features,
        }),
        _ => Err(errors),
    }
}

/// `POST /admin/services/{code}/edit`
pub async fn update_service(
    req: HttpRequest,
    admin: OrgAdmin,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let service = load_service(&admin, path.into_inner()).await?;
    let mut values = ServiceValues::from_pairs(&Pairs(form.into_inner()));
    // The ID and type are fixed; what the form says about them does not matter.
    values.service_id = service.code.clone();
    values.kind = service.kind.clone();
    let lang = admin.0.viewer.lang;
    let secret = admin.0.viewer.state.secret.clone();
    let id = service.id;
    let v2 = values.clone();
    let saved = admin
        .0
        .viewer
        .state
        .db
        .write_or_refuse(move |c| {
            let (update, mut errors) = match validate_edit(&v2, lang) {
                Ok(u) => (Some(u), FormErrors::new(lang)),
                Err(errors) => (None, errors),
            };
            validate_service_name(c, &mut errors, "service_name", &v2.service_name, Some(id))?;
            let Some(update) = update.filter(|_| errors.is_empty()) else {
                return refuse(errors);
            };
            Service::update_basics(
                c,
                id,
                &ServiceBasics {
                    name: update.name.clone(),
                    languages: update.languages.clone(),
                    default_lang: update.default_lang,
                    timezone: update.timezone.clone(),
                },
            )?;
            diesel::update(services::table.find(id))
                .set((
                    services::editor_type.eq(update.editor_type.as_str()),
                    services::hc_frame_ancestors.eq(&update.frame_ancestors),
                ))
                .execute(c)?;
            Service::apply_features(c, &secret, id, &update.features)?;
            Ok(())
        })
        .await?;
    if let Err(errors) = saved {
        let page = edit_page(&admin, &service, values, errors);
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let v = &admin.0.viewer;
    v.flash(Flash::success(v.t("service.admin.saved")));
    Ok(w::redirect(
        &req,
        &format!("/admin/services/{}/edit", service.code),
    ))
}

async fn set_enabled(
    req: HttpRequest,
    admin: OrgAdmin,
    code: String,
    enabled: bool,
) -> Result<HttpResponse, AppError> {
    let service = load_service(&admin, code).await?;
    let id = service.id;
    admin
        .0
        .viewer
        .state
        .db
        .write(move |c| {
            Service::set_enabled(c, id, enabled)?;
            Ok(())
        })
        .await?;
    let v = &admin.0.viewer;
    let key = if enabled {
        "service.admin.enabled_done"
    } else {
        "service.admin.disabled_done"
    };
    v.flash(Flash::success(i18n::tf(
        v.lang,
        key,
        &[("code", &service.code)],
    )));
    Ok(w::redirect(&req, "/admin/services"))
}

/// `POST /admin/services/{code}/enable`
pub async fn enable_service(
    req: HttpRequest,
    admin: OrgAdmin,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    set_enabled(req, admin, path.into_inner(), true).await
}

/// `POST /admin/services/{code}/disable`
pub async fn disable_service(
    req: HttpRequest,
    admin: OrgAdmin,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    set_enabled(req, admin, path.into_inner(), false).await
}

/// The delete confirmation page.
#[derive(Template)]
#[template(path = "admin/service_delete.html")]
pub struct DeleteServicePage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Service ID.
    pub code: String,
    /// Name.
    pub name: String,
    /// Enabled (deletion refused).
    pub enabled: bool,
    /// What was typed.
    pub typed: String,
    /// Errors (`confirm_id`).
    pub errors: FormErrors,
}

fn delete_page(
    admin: &OrgAdmin,
    service: &Service,
    typed: String,
    errors: FormErrors,
) -> DeleteServicePage {
    let mut ctx = PageCtx::admin(&admin.0, "service.admin.delete_title");
    if service.enabled {
        ctx.flash = Some(Flash::error(
            admin.0.viewer.t("service.admin.delete_enabled"),
        ));
    }
    DeleteServicePage {
        ctx,
        code: service.code.clone(),
        name: service.name.clone(),
        enabled: service.enabled,
        typed,
        errors,
    }
}

/// `GET /admin/services/{code}/delete`
pub async fn delete_service_form(
    admin: OrgAdmin,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let service = load_service(&admin, path.into_inner()).await?;
    let page = delete_page(
        &admin,
        &service,
        String::new(),
        FormErrors::new(admin.0.viewer.lang),
    );
    w::html(StatusCode::OK, &page)
}

/// The delete form.
#[derive(serde::Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    confirm_id: String,
}

/// `POST /admin/services/{code}/delete` — deletes a disabled service and everything in it.
pub async fn delete_service(
    req: HttpRequest,
    admin: OrgAdmin,
    path: web::Path<String>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let service = load_service(&admin, path.into_inner()).await?;
    let typed: String = form.confirm_id.trim().chars().take(100).collect();
    let lang = admin.0.viewer.lang;
    if service.enabled {
        let page = delete_page(&admin, &service, typed, FormErrors::new(lang));
        return w::html(StatusCode::CONFLICT, &page);
    }
    if typed != service.code {
        let mut errors = FormErrors::new(lang);
        errors.add("confirm_id", "service.admin.delete_mismatch");
        let page = delete_page(&admin, &service, typed, errors);
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let id = service.id;
    let outcome = admin
        .0
        .viewer
        .state
        .db
        // Re-checked inside the transaction: someone may have re-enabled it meanwhile.
        .write(move |c| Ok(Service::delete_if_disabled(c, id)?))
        .await?;
    match outcome {
        DeleteOutcome::Gone => Err(AppError::NotFound),
        DeleteOutcome::Enabled(s) => {
            let page = delete_page(&admin, &s, typed, FormErrors::new(lang));
            w::html(StatusCode::CONFLICT, &page)
        }
        DeleteOutcome::Deleted => {
            let v = &admin.0.viewer;
            remove_service_files(&v.state.config.data_dir, id).await;
            v.flash(Flash::success(i18n::tf(
                v.lang,
                "service.admin.deleted",
                &[("code", &service.code)],
            )));
            Ok(w::redirect(&req, "/admin/services"))
        }
    }
}

/// Removes a deleted service's uploaded files (help-center attachments and logo, ticket
/// attachments); their rows went with the service. A failure is logged, never shown: the
/// service is gone either way.
pub async fn remove_service_files(data_dir: &std::path::Path, service_id: i64) {
    use crate::org::info::UPLOADS_DIR;
    let dirs: Vec<std::path::PathBuf> = ["hc", "tickets"]
        .iter()
        .map(|d| data_dir.join(format!("{UPLOADS_DIR}/{d}/{service_id}")))
        .collect();
    let _ = actix_web::web::block(move || {
        for dir in dirs {
            if let Err(e) = std::fs::remove_dir_all(&dir)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(dir = %dir.display(), error = %e, "could not remove service files");
            }
        }
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::normalize_frame_ancestors;

    #[test]
    fn frame_ancestors_are_https_origins() {
        assert_eq!(normalize_frame_ancestors("").as_deref(), Ok(""));
        assert_eq!(
            normalize_frame_ancestors("  https://shop.example.com/ https://*.example.org:8443 ")
                .as_deref(),
            Ok("https://shop.example.com https://*.example.org:8443")
        );
        assert_eq!(
            normalize_frame_ancestors("https://a.example https://a.example").as_deref(),
            Ok("https://a.example")
        );
        for bad in [
            "http://shop.example.com",
            "https://shop.example.com/path",
            "https://user@shop.example.com",
            "https://shop.example.com?x=1",
            "shop.example.com",
            "'unsafe-inline'",
            "*",
            "https://*",
            "https://exa mple.com",
        ] {
            assert!(normalize_frame_ancestors(bad).is_err(), "{bad}");
        }
    }
}
