//! Service settings → Customer info integration (SPEC §6.3), for service administrators of a
//! consultation service with the customer-info feature: the list of APIs, and a form per API
//! (name, base URL, signing with a generated key, query and result items). Rows are added with
//! the form's own buttons (the form comes back with a blank row, nothing saved) and removed
//! with their "Remove" box, so the page works without JavaScript. The key is shown with a copy
//! button and can be regenerated after a confirmation.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::agents::form::Pairs;
use crate::db::types::ServiceKind;
use crate::error::AppError;
use crate::i18n;
use crate::tickets::detail::view::channel_key;
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin};

use super::model::{
    self, ApiForm, FieldChoice, InfoApi, ItemControl, ItemKind, MAX_APIS, MAX_QUERY_ITEMS,
    MAX_RESULT_ITEMS, QueryRow, ResultRow, auto_channels,
};

/// The settings path of a service.
pub fn base(code: &str) -> String {
    format!("/{code}/console/settings/customer-info")
}

/// Refuses services without the customer-info feature (or issue-management services).
fn require_feature(a: &ServiceAdmin) -> Result<(), AppError> {
    if a.service.kind() != ServiceKind::Consultation || !a.service.features().customer_info {
        return Err(AppError::Forbidden("customerinfo.feature_off"));
    }
    Ok(())
}

/// A row of the list.
pub struct ApiRow {
    /// Edit link.
    pub href: String,
    /// Name.
    pub name: String,
    /// Base URL.
    pub base_url: String,
    /// Signed.
    pub encrypt: bool,
    /// Number of query items.
    pub query_count: usize,
    /// Number of result items.
    pub result_count: usize,
    /// Channels with automatic lookups (translated).
    pub auto: String,
}

/// The list page.
#[derive(Template)]
#[template(path = "openapi/customer_info_list.html")]
pub struct ListPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Settings path.
    pub base: String,
    /// The Authentication page (to turn the Open API on).
    pub auth_href: String,
    /// Whether the Open API is on.
    pub open_api: bool,
    /// APIs.
    pub rows: Vec<ApiRow>,
    /// Whether another API may be added.
    pub can_add: bool,
}

/// `GET /{service_id}/console/settings/customer-info`
pub async fn list_apis(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let sid = a.service.id;
    let apis = a
        .viewer()
        .state
        .db
        .read(move |c| Ok(InfoApi::of_service(c, sid)?))
        .await?;
    let lang = a.viewer().lang;
    let b = base(&a.service.code);
    let rows = apis
        .iter()
        .map(|api| {
            let mut channels: Vec<String> = Vec::new();
            for ch in auto_channels() {
                if api.auto_on(ch.as_str()) {
                    channels.push(i18n::t(lang, channel_key(ch)));
                }
            }
            ApiRow {
                href: format!("{b}/{}", api.row.id),
                name: api.row.name.clone(),
                base_url: api.row.base_url.clone(),
                encrypt: api.row.encrypt,
                query_count: api.query.len(),
                result_count: api.results.len(),
                auto: channels.join(", "),
            }
        })
        .collect();
    let page = ListPage {
        ctx: PageCtx::console(&a, "customerinfo.settings.title"),
        auth_href: crate::openapi::settings::base(&a.service.code),
        open_api: a.service.open_api_enabled,
        can_add: apis.len() < MAX_APIS,
        base: b,
        rows,
    };
    w::html(StatusCode::OK, &page)
}

/// A query row as the form shows it.
pub struct QueryRowView {
    /// Index (names are `q{i}_…`).
    pub i: usize,
    /// General (else ticket field).
    pub general: bool,
    /// Label.
    pub label: String,
    /// Variable.
    pub variable: String,
    /// Required.
    pub required: bool,
    /// Data length.
    pub max_length: String,
    /// Drop-down (general).
    pub dropdown: bool,
    /// Default.
    pub default_value: String,
    /// Options text.
    pub options: String,
    /// Source choices: code, label, selected.
    pub fields: Vec<(String, String, bool)>,
    /// Channels: code, label, checked.
    pub channels: Vec<(String, String, bool)>,
    /// Error of each part (empty: none).
    pub err_label: String,
    /// Variable error.
    pub err_variable: String,
    /// Length error.
    pub err_max_length: String,
    /// Default error.
    pub err_default: String,
    /// Options error.
    pub err_options: String,
    /// Field error.
    pub err_field: String,
    /// Channels error.
    pub err_channels: String,
}

/// A result row as the form shows it.
pub struct ResultRowView {
    /// Index (names are `r{i}_…`).
    pub i: usize,
    /// Label.
    pub label: String,
    /// Data name.
    pub data_name: String,
    /// Link choices: code, label, selected.
    pub links: Vec<(String, String, bool)>,
    /// Label error.
    pub err_label: String,
    /// Data-name error.
    pub err_data_name: String,
    /// Link error.
    pub err_link: String,
}

/// The form page (new or edit).
#[derive(Template)]
#[template(path = "openapi/customer_info_form.html")]
pub struct FormPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Back to the list.
    pub back: String,
    /// Form action.
    pub action: String,
    /// Edit path of a stored API (key and delete forms), `None` when new.
    pub stored: Option<String>,
    /// Name.
    pub name: String,
    /// Base URL.
    pub base_url: String,
    /// Sign messages.
    pub encrypt: bool,
    /// Sign the path too.
    pub sign_path: bool,
    /// The key of a stored signing API.
    pub key: String,
    /// Query rows.
    pub query: Vec<QueryRowView>,
    /// Result rows.
    pub results: Vec<ResultRowView>,
    /// Whether more rows may be added.
    pub can_add_query: bool,
    /// Whether more result rows may be added.
    pub can_add_result: bool,
    /// Errors (`name`, `base_url`, `items`, `results`).
    pub errors: FormErrors,
}

fn choices(list: &[FieldChoice], selected: &str) -> Vec<(String, String, bool)> {
    list.iter()
        .map(|c| (c.code.clone(), c.label.clone(), c.code == selected))
        .collect()
}

#[expect(clippy::too_many_arguments, reason = "the page's parts")]
fn form_page(
    a: &ServiceAdmin,
    title: &str,
    action: String,
    stored: Option<String>,
    key: String,
    form: &ApiForm,
    sources: &[FieldChoice],
    links: &[FieldChoice],
    errors: FormErrors,
) -> FormPage {
    let lang = a.viewer().lang;
    let query = form
        .query
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let err = |part: &str| errors.get(&format!("q{i}_{part}")).to_string();
            QueryRowView {
                i,
                general: r.kind == ItemKind::General,
                label: r.label.clone(),
                variable: r.variable.clone(),
                required: r.required,
                max_length: r.max_length.clone(),
                dropdown: r.control == ItemControl::Dropdown,
                default_value: r.default_value.clone(),
                options: r.options.clone(),
                fields: choices(sources, &r.field),
                channels: auto_channels()
                    .into_iter()
                    .map(|c| {
                        (
                            c.as_str().to_string(),
                            i18n::t(lang, channel_key(c)),
                            r.channels.iter().any(|x| x == c.as_str()),
                        )
                    })
                    .collect(),
                err_label: err("label"),
                err_variable: err("variable"),
                err_max_length: err("max_length"),
                err_default: err("default_value"),
                err_options: err("options"),
                err_field: err("field"),
                err_channels: err("channels"),
            }
        })
        .collect();
    let results = form
        .results
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let err = |part: &str| errors.get(&format!("r{i}_{part}")).to_string();
            ResultRowView {
                i,
                label: r.label.clone(),
                data_name: r.data_name.clone(),
                links: choices(links, &r.link_field),
                err_label: err("label"),
                err_data_name: err("data_name"),
                err_link: err("link_field"),
            }
        })
        .collect();
    FormPage {
        ctx: PageCtx::console(a, title),
        back: base(&a.service.code),
        action,
        stored,
        name: form.name.clone(),
        base_url: form.base_url.clone(),
        encrypt: form.encrypt,
        sign_path: form.sign_path,
        key,
        query,
        results,
        can_add_query: form.query.len() < MAX_QUERY_ITEMS,
        can_add_result: form.results.len() < MAX_RESULT_ITEMS,
        errors,
    }
}

/// Reads the submitted form (rows ticked "Remove" are dropped).
fn read_form(p: &Pairs) -> ApiForm {
    let bounded = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    let count = |name: &str, max: usize| {
        p.get(name)
            .trim()
            .parse::<usize>()
            .unwrap_or(0)
            .min(max + 1)
    };
    let mut query = Vec::new();
    for i in 0..count("q_count", MAX_QUERY_ITEMS) {
        let k = |part: &str| format!("q{i}_{part}");
        let kind = match p.get(&k("kind")) {
            "general" => ItemKind::General,
            "ticket_field" => ItemKind::TicketField,
            _ => continue,
        };
        if p.checked(&k("remove")) {
            continue;
        }
        let channel_key = k("channels");
        query.push(QueryRow {
            kind,
            label: bounded(p.get(&k("label")), 200),
            variable: bounded(p.get(&k("variable")), 200),
            required: p.checked(&k("required")),
            max_length: bounded(p.get(&k("max_length")), 10),
            control: if p.get(&k("control")) == "dropdown" {
                ItemControl::Dropdown
            } else {
                ItemControl::Text
            },
            default_value: bounded(p.get(&k("default_value")), 5000),
            options: bounded(p.get(&k("options")), 20_000),
            field: bounded(p.get(&k("field")), 100),
            channels: p
                .0
                .iter()
                .filter(|(n, _)| *n == channel_key)
                .map(|(_, v)| bounded(v, 20))
                .take(20)
                .collect(),
        });
    }
    let mut results = Vec::new();
    for i in 0..count("r_count", MAX_RESULT_ITEMS) {
        let k = |part: &str| format!("r{i}_{part}");
        if p.get(&k("present")).is_empty() || p.checked(&k("remove")) {
            continue;
        }
        results.push(ResultRow {
            label: bounded(p.get(&k("label")), 200),
            data_name: bounded(p.get(&k("data_name")), 200),
            link_field: bounded(p.get(&k("link_field")), 100),
        });
    }
    ApiForm {
        name: bounded(p.get("name"), 300),
        base_url: bounded(p.get("base_url"), model::MAX_URL + 100),
        encrypt: p.checked("encrypt"),
        sign_path: p.checked("sign_path"),
        query,
        results,
    }
}

async fn field_lists(a: &ServiceAdmin) -> Result<(Vec<FieldChoice>, Vec<FieldChoice>), AppError> {
    let service = a.service.clone();
    let lang = a.viewer().lang;
    a.viewer()
        .state
        .db
        .read(move |c| {
            Ok((
                model::source_choices(c, &service, lang)?,
                model::link_choices(c, &service, lang)?,
            ))
        })
        .await
}

async fn load_api(a: &ServiceAdmin, id: i64) -> Result<InfoApi, AppError> {
    let sid = a.service.id;
    a.viewer()
        .state
        .db
        .read(move |c| InfoApi::find(c, sid, id)?.ok_or(AppError::NotFound))
        .await
}

/// `GET …/customer-info/new`
pub async fn new_api(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let (sources, links) = field_lists(&a).await?;
    let form = ApiForm {
        encrypt: true,
        query: vec![QueryRow::blank(ItemKind::TicketField)],
        results: vec![ResultRow::default()],
        ..ApiForm::default()
    };
    let b = base(&a.service.code);
    let page = form_page(
        &a,
        "customerinfo.settings.new_title",
        format!("{b}/new"),
        None,
        String::new(),
        &form,
        &sources,
        &links,
        FormErrors::new(a.viewer().lang),
    );
    w::html(StatusCode::OK, &page)
}

/// What the submit button asked for.
enum Op {
    Save,
    AddGeneral,
    AddField,
    AddResult,
}

fn op_of(p: &Pairs) -> Op {
    match p.get("op") {
        "add_general" => Op::AddGeneral,
        "add_field" => Op::AddField,
        "add_result" => Op::AddResult,
        _ => Op::Save,
    }
}

/// Applies a row button; `true` when the form is only to be shown again.
fn apply_op(op: &Op, form: &mut ApiForm) -> bool {
    match op {
        Op::Save => false,
        Op::AddGeneral => {
            if form.query.len() < MAX_QUERY_ITEMS {
                form.query.push(QueryRow::blank(ItemKind::General));
            }
            true
        }
        Op::AddField => {
            if form.query.len() < MAX_QUERY_ITEMS {
                form.query.push(QueryRow::blank(ItemKind::TicketField));
            }
            true
        }
        Op::AddResult => {
            if form.results.len() < MAX_RESULT_ITEMS {
                form.results.push(ResultRow::default());
            }
            true
        }
    }
}

/// `POST …/customer-info/new`
pub async fn create_api(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let mut f = read_form(&form);
    let op = op_of(&form);
    let (sources, links) = field_lists(&a).await?;
    let lang = a.viewer().lang;
    let b = base(&a.service.code);
    let show = |f: &ApiForm, errors: FormErrors| {
        form_page(
            &a,
            "customerinfo.settings.new_title",
            format!("{b}/new"),
            None,
            String::new(),
            f,
            &sources,
            &links,
            errors,
        )
    };
    if apply_op(&op, &mut f) {
        return w::html(StatusCode::OK, &show(&f, FormErrors::new(lang)));
    }
    let valid = match model::validate(&f, &sources, &links) {
        Ok(v) => v,
        Err(v) => {
            let errors = FormErrors::translate(lang, &v);
            return w::html(StatusCode::UNPROCESSABLE_ENTITY, &show(&f, errors));
        }
    };
    let (sid, secret) = (a.service.id, a.viewer().state.secret.clone());
    let created = a
        .viewer()
        .state
        .db
        .write(move |c| {
            if InfoApi::of_service(c, sid)?.len() >= MAX_APIS {
                return Ok(None);
            }
            Ok(Some(model::create(c, &secret, sid, &valid)?))
        })
        .await?;
    let Some(id) = created else {
        let mut errors = FormErrors::new(lang);
        errors.add_with(
            "name",
            "customerinfo.error.too_many_apis",
            &[("max", &MAX_APIS.to_string())],
        );
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &show(&f, errors));
    };
    a.viewer()
        .flash(Flash::success(a.viewer().t("customerinfo.settings.saved")));
    Ok(w::redirect(&req, &format!("{b}/{id}")))
}

fn id_of(path: &(String, i64)) -> i64 {
    path.1
}

/// `GET …/customer-info/{id}`
pub async fn edit_api(
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let api = load_api(&a, id_of(&path)).await?;
    let (sources, links) = field_lists(&a).await?;
    let b = format!("{}/{}", base(&a.service.code), api.row.id);
    let key = api.key(&a.viewer().state.secret).unwrap_or_default();
    let page = form_page(
        &a,
        "customerinfo.settings.edit_title",
        b.clone(),
        Some(b),
        key,
        &ApiForm::of(&api),
        &sources,
        &links,
        FormErrors::new(a.viewer().lang),
    );
    w::html(StatusCode::OK, &page)
}

/// `POST …/customer-info/{id}`
pub async fn update_api(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let api = load_api(&a, id_of(&path)).await?;
    let mut f = read_form(&form);
    let op = op_of(&form);
    let (sources, links) = field_lists(&a).await?;
    let lang = a.viewer().lang;
    let b = format!("{}/{}", base(&a.service.code), api.row.id);
    let key = api.key(&a.viewer().state.secret).unwrap_or_default();
    let show = |f: &ApiForm, errors: FormErrors| {
        form_page(
            &a,
            "customerinfo.settings.edit_title",
            b.clone(),
            Some(b.clone()),
            key.clone(),
            f,
            &sources,
            &links,
            errors,
        )
    };
    if apply_op(&op, &mut f) {
        return w::html(StatusCode::OK, &show(&f, FormErrors::new(lang)));
    }
    let valid = match model::validate(&f, &sources, &links) {
        Ok(v) => v,
        Err(v) => {
            let errors = FormErrors::translate(lang, &v);
            return w::html(StatusCode::UNPROCESSABLE_ENTITY, &show(&f, errors));
        }
    };
    let secret = a.viewer().state.secret.clone();
    a.viewer()
        .state
        .db
        .write(move |c| Ok(model::update(c, &secret, &api, &valid)?))
        .await?;
    a.viewer()
        .flash(Flash::success(a.viewer().t("customerinfo.settings.saved")));
    Ok(w::redirect(&req, &b))
}

/// `POST …/customer-info/{id}/key` — a new encryption key (the form asks first).
pub async fn regenerate_key(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let api = load_api(&a, id_of(&path)).await?;
    if !api.row.encrypt {
        return Err(AppError::BadRequest(
            "customerinfo.settings.key_needs_encrypt",
        ));
    }
    let (id, secret) = (api.row.id, a.viewer().state.secret.clone());
    a.viewer()
        .state
        .db
        .write(move |c| Ok(model::regenerate_key(c, &secret, id).map(|_| ())?))
        .await?;
    a.viewer().flash(Flash::success(
        a.viewer().t("customerinfo.settings.key_regenerated"),
    ));
    Ok(w::redirect(
        &req,
        &format!("{}/{}", base(&a.service.code), id),
    ))
}

/// `POST …/customer-info/{id}/delete`
pub async fn delete_api(
    req: HttpRequest,
    a: ServiceAdmin,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    require_feature(&a)?;
    let api = load_api(&a, id_of(&path)).await?;
    let id = api.row.id;
    a.viewer()
        .state
        .db
        .write(move |c| Ok(model::delete(c, id).map(|_| ())?))
        .await?;
    a.viewer().flash(Flash::success(i18n::tf(
        a.viewer().lang,
        "customerinfo.settings.deleted",
        &[("name", &api.row.name)],
    )));
    Ok(w::redirect(&req, &base(&a.service.code)))
}
