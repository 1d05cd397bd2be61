//! The organization-level legacy API (API.md §8.2, L1–L8): services are added, read, changed,
//! disabled, enabled, deleted, listed and get a new Open API key through
//! `/openapi/v1/admin/service/…`, signed with the **organization key** (§2.2) instead of a
//! service key. Validation and persistence are the organization console's own
//! ([`crate::tenancy::service`]), so the admin pages and this API refuse and store the same
//! things; creating a service makes the acting user (`OUCODE`, else the first organization
//! administrator) its administrator and audits that, as the console does.
//!
//! Also the organization API's allowed-IP list (`/admin/organization/api`, organization
//! administrators) — the gate of §1.1 for the `admin` family — and [`verify_org_call`], which
//! runs the gates and the signature check for every `/openapi/v1/admin/…` call.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use ipnet::IpNet;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::agents::form::Pairs;
use crate::db::schema::{org_api_settings, services};
use crate::db::types::ServiceId;
use crate::db::types::{EditorType, ServiceKind};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::tenancy::organization::Organization;
use crate::tenancy::service::{
    DeleteOutcome, NewService, Service, ServiceBasics, validate_new_service, validate_service_name,
    validate_settings,
};
use crate::tenancy::user::User;
use crate::web::{self as w, Flash, FormErrors, OrgAdmin, PageCtx};

use super::admin_api::{field_error, field_required, i_of, read_state, s_of, write_state};
use super::envelope::{ApiError, ApiResult, MAX_PAGE_SIZE, Params, millis, ok_content, ok_page};
use super::settings::MAX_IP_ENTRIES;
use super::signing::{
    SignedParts, TimestampError, acting_user, check_timestamp, content_type, header, ip_allowed,
    parse_allowed_ips, read_plain, verify_and_claim,
};

// ---------------------------------------------------------------------------------------------
// Allowed IPs of the organization API
// ---------------------------------------------------------------------------------------------

/// The organization API's allowed caller addresses and ranges, one per line (empty: any).
pub fn allowed_ips(conn: &mut DbConn) -> QueryResult<String> {
    Ok(org_api_settings::table
        .find(1_i64)
        .select(org_api_settings::allowed_ips)
        .first::<String>(conn)
        .optional()?
        .unwrap_or_default())
}

/// Replaces the organization API's allowed-IP list (normalised text, one entry per line).
pub fn save_allowed_ips(conn: &mut DbConn, text: &str) -> QueryResult<()> {
    diesel::delete(org_api_settings::table).execute(conn)?;
    diesel::insert_into(org_api_settings::table)
        .values((
            org_api_settings::id.eq(1_i64),
            org_api_settings::allowed_ips.eq(text),
            org_api_settings::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

fn ranges_of(text: &str) -> Vec<IpNet> {
    text.lines()
        .filter_map(|l| parse_allowed_ips(l).ok())
        .flatten()
        .collect()
}

/// Checks and normalises an allowed-IP list typed into a form: addresses and CIDR ranges,
/// separated by lines, commas or spaces, at most [`MAX_IP_ENTRIES`]; one entry per line.
pub fn normalize_ip_list(text: &str, errors: &mut FormErrors) -> String {
    match parse_allowed_ips(text) {
        Err(bad) => {
            errors.add_with(
                "allowed_ips",
                "openapi.auth.ip_invalid",
                &[("entry", &bad.chars().take(60).collect::<String>())],
            );
            String::new()
        }
        Ok(nets) if nets.len() > MAX_IP_ENTRIES => {
            errors.add_with(
                "allowed_ips",
                "openapi.auth.ip_too_many",
                &[("max", &MAX_IP_ENTRIES.to_string())],
            );
            String::new()
        }
        Ok(nets) => {
            let mut lines: Vec<String> = Vec::new();
            for n in nets {
                let text = if n.prefix_len() == n.max_prefix_len() {
                    n.addr().to_string()
                } else {
                    n.to_string()
                };
                if !lines.contains(&text) {
                    lines.push(text);
                }
            }
            lines.join("\n")
        }
    }
}

/// The organization API page.
#[derive(Template)]
#[template(path = "openapi/org_access.html")]
pub struct OrgAccessPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// The organization ID used in signatures.
    pub org_uid: String,
    /// Public base URL.
    pub base_url: String,
    /// The allowed-IP text in the form.
    pub ips_value: String,
    /// Errors.
    pub errors: FormErrors,
}

async fn access_page(
    admin: &OrgAdmin,
    ips: Option<String>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let v = &admin.0.viewer;
    let (org, stored) = v
        .state
        .db
        .read(|c| Ok((Organization::find(c)?, allowed_ips(c)?)))
        .await?;
    let org = org.ok_or(AppError::NotFound)?;
    let page = OrgAccessPage {
        ctx: PageCtx::admin(&admin.0, "customerinfo.org_api.title"),
        org_uid: org.org_uid,
        base_url: v.state.config.base_url.clone(),
        ips_value: ips.unwrap_or(stored),
        errors,
    };
    w::html(status, &page)
}

/// `GET /admin/organization/api`
pub async fn org_access_form(admin: OrgAdmin) -> Result<HttpResponse, AppError> {
    let errors = FormErrors::new(admin.0.viewer.lang);
    access_page(&admin, None, errors, StatusCode::OK).await
}

/// `POST /admin/organization/api` — saves the organization API's allowed IPs.
pub async fn save_org_access(
    req: HttpRequest,
    admin: OrgAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let v = &admin.0.viewer;
    let mut errors = FormErrors::new(v.lang);
    let typed: String = form.get("allowed_ips").chars().take(10_000).collect();
    let text = normalize_ip_list(&typed, &mut errors);
    if !errors.is_empty() {
        return access_page(
            &admin,
            Some(typed),
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    v.state
        .db
        .write(move |c| Ok(save_allowed_ips(c, &text)?))
        .await?;
    v.flash(Flash::success(v.t("customerinfo.org_api.saved")));
    Ok(w::redirect(&req, "/admin/organization/api"))
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// A verified call of the organization family.
pub struct OrgCall {
    /// Shared state.
    pub state: web::Data<AppState>,
    /// The organization.
    pub org: Organization,
    /// Query and form parameters.
    pub params: Params,
    /// The raw body (empty for form requests).
    pub body: web::Bytes,
    /// `OUCODE`: the acting staff user's login.
    pub oucode: Option<String>,
}

impl OrgCall {
    /// The body as a JSON object; an empty body reads as `{}`, anything else is a `400`.
    pub fn json_object(&self) -> Result<Map<String, Value>, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::new());
        }
        match serde_json::from_slice(&self.body) {
            Ok(Value::Object(o)) => Ok(o),
            Ok(_) => Err(ApiError::BadRequest(
                "Request body must be a JSON object".into(),
            )),
            Err(_) => Err(ApiError::BadRequest(
                "Request body is not valid JSON".into(),
            )),
        }
    }

    /// The staff user acting (`OUCODE`, else the first organization administrator).
    pub fn actor(&self, conn: &mut DbConn) -> Result<User, ApiError> {
        acting_user(conn, self.oucode.as_deref())
    }
}

/// Runs the gates and the signature check of API.md §2.3 for `/openapi/v1/admin/…`: the key is
/// the organization key; the allowed-IP list is the organization API's. Multipart bodies are
/// not part of this family and are refused as unsigned content.
pub async fn verify_org_call(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<OrgCall, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("app state missing".into()))?;
    let secret = state.secret.clone();
    let (org, key, ips) = state
        .db
        .read(move |c| {
            let org = Organization::find(c)?;
            let key = org.as_ref().and_then(|o| o.org_key(&secret).ok());
            Ok((org, key, allowed_ips(c)?))
        })
        .await
        .map_err(ApiError::from)?;
    let (Some(org), Some(key)) = (org, key) else {
        return Err(ApiError::Forbidden("securityKey is null".into()));
    };
    let client_ip = crate::web::client_ip(req, state.config.trust_forwarded);
    let ranges = ranges_of(&ips);
    if !ranges.is_empty() && !ip_allowed(&ranges, &client_ip) {
        return Err(ApiError::Forbidden("clientIp is not allowed".into()));
    }
    let Some(authorization) = header(req, "Authorization") else {
        return Err(ApiError::BadRequest("Authorization is blank".into()));
    };
    let ts = header(req, "X-TC-Timestamp").unwrap_or_default();
    let now_ms = now().and_utc().timestamp_millis();
    let ts_ms = match check_timestamp(&ts, now_ms) {
        Err(TimestampError::NotNumeric) => {
            return Err(ApiError::BadRequest("X-TC-Timestamp is not numeric".into()));
        }
        Err(TimestampError::Expired) => {
            return Err(ApiError::BadRequest("X-TC-Timestamp is expired".into()));
        }
        Ok(ms) => ms,
    };
    let ct = content_type(req);
    if ct.starts_with("multipart/") {
        return Err(ApiError::BadRequest(
            "Multipart request but file is null".into(),
        ));
    }
    let form = ct.starts_with("application/x-www-form-urlencoded");
    let body = read_plain(&mut payload).await?;
    let query = req.query_string().to_string();
    verify_and_claim(
        &state,
        req,
        &SignedParts {
            org_uid: &org.org_uid,
            key: &key,
            form,
            body: &body,
            file_md5: None,
            ts: &ts,
            ts_ms,
            now_ms,
            authorization: &authorization,
            scope: format!("org{}", org.id),
        },
    )
    .await?;
    let params = Params::parse(&query, form.then_some(&body[..]));
    Ok(OrgCall {
        state,
        org,
        params,
        body: if form { web::Bytes::new() } else { body },
        oucode: header(req, "OUCODE").map(|s| s.chars().take(100).collect()),
    })
}

// ---------------------------------------------------------------------------------------------
// The service object
// ---------------------------------------------------------------------------------------------

/// The legacy `type` of a service kind (`1` CM, `2` IM).
pub fn type_code(s: &Service) -> i64 {
    match s.kind() {
        ServiceKind::Consultation => 1,
        ServiceKind::Issue => 2,
    }
}

/// The service object of API.md §8.2 (the key only while the Open API is on).
pub fn service_json(s: &Service, key: Option<&str>) -> Value {
    let created = millis(s.created_at);
    let updated = millis(s.updated_at);
    let languages: Vec<Value> = s
        .languages()
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "serviceId": s.code,
                "code": l.code(),
                "name": l.native_name(),
                "mainFlag": l.code() == s.default_lang,
                "orderNo": i,
                "delFlag": false,
                "createdDt": created,
                "updatedDt": updated,
            })
        })
        .collect();
    json!({
        "serviceId": s.code,
        "type": type_code(s),
        "name": s.name,
        "active": s.enabled,
        "language": s.default_lang,
        "languages": languages,
        "timeZone": s.timezone,
        "createdDt": created,
        "updatedDt": updated,
        "securityKey": key,
    })
}

fn key_of(state: &AppState, s: &Service) -> Option<String> {
    if !s.open_api_enabled {
        return None;
    }
    s.service_key_enc
        .as_deref()
        .and_then(|k| state.secret.decrypt(k))
}

/// The default time zone of a language (API.md §8.2).
pub fn default_timezone(lang: Lang) -> &'static str {
    match lang {
        Lang::Ko => "Asia/Seoul",
        Lang::Ja => "Asia/Tokyo",
        Lang::En => "America/New_York",
    }
}

/// A language code of the body: one of the supported help-center languages.
fn lang_code(v: &str, field: &str) -> Result<Lang, ApiError> {
    let code = v.trim().to_ascii_lowercase();
    Lang::ALL
        .iter()
        .copied()
        .find(|l| l.code() == code)
        .ok_or_else(|| field_error(field))
}

/// `languages[]`: items `{code, name, orderNo}` (or bare codes), in `orderNo` order.
fn languages_of(obj: &Map<String, Value>) -> Result<Option<Vec<Lang>>, ApiError> {
    let items = match obj.get("languages") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(field_error("languages")),
    };
    if items.len() > 20 {
        return Err(field_error("languages"));
    }
    let mut out: Vec<(i64, usize, Lang)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let (code, order) = match item {
            Value::String(s) => (s.clone(), None),
            Value::Object(o) => (
                s_of(o, "code")?.ok_or_else(|| field_required("languages.code"))?,
                i_of(o, "orderNo")?,
            ),
            _ => return Err(field_error("languages")),
        };
        let lang = lang_code(&code, "languages.code")?;
        if !out.iter().any(|(_, _, l)| *l == lang) {
            out.push((order.unwrap_or(i64::try_from(i).unwrap_or(0)), i, lang));
        }
    }
    out.sort_by_key(|(order, i, _)| (*order, *i));
    Ok(Some(out.into_iter().map(|(_, _, l)| l).collect()))
}

/// The API name of a console form field.
fn api_field(form_field: &str) -> &str {
    match form_field {
        "service_id" => "serviceId",
        "service_name" => "name",
        "default_lang" => "language",
        "timezone" => "timeZone",
        other => other,
    }
}

/// Turns the console's validation messages into the API's refusal: a taken service ID or name
/// is `9007`, anything else a `400` in the exception shape naming the field and the reason.
fn refusal(errors: &FormErrors) -> ApiError {
    let taken = [
        ("service_id", "validation.service_id_taken"),
        ("service_name", "customerinfo.service_name_taken"),
    ];
    for (field, key) in taken {
        if errors.has(field) && errors.get(field) == i18n::t(Lang::En, key) {
            return ApiError::duplicate(api_field(field));
        }
    }
    for field in [
        "service_id",
        "service_name",
        "languages",
        "default_lang",
        "timezone",
    ] {
        if errors.has(field) {
            return ApiError::Exception(format!(
                "{} is invalid: {}",
                api_field(field),
                errors.get(field)
            ));
        }
    }
    ApiError::Exception(
        errors
            .all()
            .first()
            .copied()
            .unwrap_or("invalid")
            .to_string(),
    )
}

fn find_service(conn: &mut DbConn, code: &str) -> Result<Service, ApiError> {
    Service::find_by_code(conn, code.trim())?.ok_or(ApiError::NotFound)
}

fn code_param(call: &OrgCall) -> Result<String, ApiError> {
    call.params
        .get("serviceId")
        .map(str::to_string)
        .ok_or_else(|| ApiError::required("serviceId"))
}

// ---------------------------------------------------------------------------------------------
// L1–L8
// ---------------------------------------------------------------------------------------------

/// `POST /openapi/v1/admin/service/add.json` (L1): adds a service with the console's
/// validation, makes the acting user its administrator (audited), turns its Open API on and
/// answers the service object with its key.
pub async fn add_service(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_org_call(&req, payload).await?;
    let obj = call.json_object()?;
    let kind = match i_of(&obj, "type")? {
        None | Some(1) => ServiceKind::Consultation,
        Some(2) => ServiceKind::Issue,
        Some(_) => return Err(field_error("type")),
    };
    let code = s_of(&obj, "serviceId")?.ok_or_else(|| field_required("serviceId"))?;
    let name = s_of(&obj, "name")?.ok_or_else(|| field_required("name"))?;
    let default_lang = lang_code(
        &s_of(&obj, "language")?.ok_or_else(|| field_required("language"))?,
        "language",
    )?;
    let languages = languages_of(&obj)?.unwrap_or_else(|| vec![Lang::Ko, Lang::Ja, Lang::En]);
    let timezone =
        s_of(&obj, "timeZone")?.unwrap_or_else(|| default_timezone(default_lang).to_string());
    let new = NewService {
        code: code.chars().take(100).collect(),
        kind,
        name: name.chars().take(200).collect(),
        languages,
        default_lang,
        timezone: timezone.chars().take(100).collect(),
        editor_type: EditorType::Html,
    };
    let state = call.state.clone();
    let secret = state.secret.clone();
    let oucode = call.oucode.clone();
    let (service, key) = write_state(&state, move |c| {
        let mut errors = FormErrors::new(Lang::En);
        validate_new_service(c, &mut errors, &new)?;
        if !errors.is_empty() {
            return Err(refusal(&errors));
        }
        let actor = acting_user(c, oucode.as_deref())?;
        let id = Service::create_with_admin(c, &new, &actor)?;
        let key = Service::enable_open_api(c, &secret, id)?;
        let service = Service::find(c, ServiceId(id))?.ok_or(ApiError::NotFound)?;
        Ok((service, key))
    })
    .await?;
    ok_content(service_json(&service, Some(&key)))
}

/// `GET /openapi/v1/admin/service/{serviceId}.json` (L2).
pub async fn get_service(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_org_call(&req, payload).await?;
    let code = req
        .match_info()
        .get("service_id")
        .unwrap_or_default()
        .to_string();
    let service = read_state(&call.state, move |c| find_service(c, &code)).await?;
    ok_content(service_json(
        &service,
        key_of(&call.state, &service).as_deref(),
    ))
}

/// `PUT /openapi/v1/admin/service/{serviceId}.json` (L3): changes the name, languages, default
/// language and time zone; absent fields keep their values, `type` is ignored.
pub async fn update_service(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_org_call(&req, payload).await?;
    let code = req
        .match_info()
        .get("service_id")
        .unwrap_or_default()
        .to_string();
    let obj = call.json_object()?;
    if matches!(obj.get("name"), Some(Value::String(n)) if n.trim().is_empty()) {
        return Err(field_error("name"));
    }
    let name = s_of(&obj, "name")?;
    let default_lang = match s_of(&obj, "language")? {
        Some(l) => Some(lang_code(&l, "language")?),
        None => None,
    };
    let languages = languages_of(&obj)?;
    let timezone = s_of(&obj, "timeZone")?;
    let service = write_state(&call.state, move |c| {
        let s = find_service(c, &code)?;
        let basics = ServiceBasics {
            name: name
                .unwrap_or_else(|| s.name.clone())
                .chars()
                .take(200)
                .collect(),
            languages: languages.unwrap_or_else(|| s.languages()),
            default_lang: default_lang
                .or_else(|| Lang::parse(&s.default_lang))
                .unwrap_or_default(),
            timezone: timezone
                .unwrap_or_else(|| s.timezone.clone())
                .chars()
                .take(100)
                .collect(),
        };
        let mut errors = FormErrors::new(Lang::En);
        validate_service_name(c, &mut errors, "service_name", &basics.name, Some(s.id))?;
        validate_settings(
            &mut errors,
            &basics.languages,
            basics.default_lang,
            &basics.timezone,
        );
        if !errors.is_empty() {
            return Err(refusal(&errors));
        }
        Service::update_basics(c, s.id, &basics)?;
        Service::find(c, ServiceId(s.id))?.ok_or(ApiError::NotFound)
    })
    .await?;
    ok_content(service_json(
        &service,
        key_of(&call.state, &service).as_deref(),
    ))
}

async fn set_active(req: HttpRequest, payload: web::Payload, enabled: bool) -> ApiResult {
    let call = verify_org_call(&req, payload).await?;
    let code = code_param(&call)?;
    let service = write_state(&call.state, move |c| {
        let s = find_service(c, &code)?;
        Service::set_enabled(c, s.id, enabled)?;
        Service::find(c, ServiceId(s.id))?.ok_or(ApiError::NotFound)
    })
    .await?;
    ok_content(service_json(
        &service,
        key_of(&call.state, &service).as_deref(),
    ))
}

/// `PUT /openapi/v1/admin/service/disable.json?serviceId=…` (L4).
pub async fn disable_service(req: HttpRequest, payload: web::Payload) -> ApiResult {
    set_active(req, payload, false).await
}

/// `PUT /openapi/v1/admin/service/enable.json?serviceId=…` (L5).
pub async fn enable_service(req: HttpRequest, payload: web::Payload) -> ApiResult {
    set_active(req, payload, true).await
}

/// `DELETE /openapi/v1/admin/service/{serviceId}.json` (L6): `"SUCCESS"`, or `"ENABLE"` when
/// the service is still active and therefore kept (disable it first, as in the console).
pub async fn delete_service(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_org_call(&req, payload).await?;
    let code = req
        .match_info()
        .get("service_id")
        .unwrap_or_default()
        .to_string();
    let (id, outcome) = write_state(&call.state, move |c| {
        let s = find_service(c, &code)?;
        Ok((s.id, Service::delete_if_disabled(c, s.id)?))
    })
    .await?;
    match outcome {
        DeleteOutcome::Gone => Err(ApiError::NotFound),
        DeleteOutcome::Enabled(_) => ok_content(json!("ENABLE")),
        DeleteOutcome::Deleted => {
            crate::services::admin::remove_service_files(&call.state.config.data_dir, id).await;
            ok_content(json!("SUCCESS"))
        }
    }
}

/// `PUT /openapi/v1/admin/service/apikey/refresh.json?serviceId=…` (L7): a new service key;
/// the old one stops working at once. The Open API switch is left as it is.
pub async fn refresh_key(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_org_call(&req, payload).await?;
    let code = code_param(&call)?;
    let secret = call.state.secret.clone();
    let key = write_state(&call.state, move |c| {
        let s = find_service(c, &code)?;
        Ok(super::settings::regenerate_key(c, &secret, s.id)?)
    })
    .await?;
    ok_content(json!(key))
}

/// `GET /openapi/v1/admin/service/list.json` (L8): every service, oldest first, paged
/// (`pageSize` default 100, at most 200).
pub async fn list_services(req: HttpRequest, payload: web::Payload) -> ApiResult {
    let call = verify_org_call(&req, payload).await?;
    let paging = call.params.paging(100, MAX_PAGE_SIZE)?;
    let (total, rows) = read_state(&call.state, move |c| {
        let total: i64 = services::table.count().get_result(c)?;
        let rows: Vec<Service> = services::table
            .order(services::id.asc())
            .limit(paging.size)
            .offset(paging.offset())
            .select(Service::as_select())
            .load(c)?;
        Ok((total, rows))
    })
    .await?;
    let contents = rows
        .iter()
        .map(|s| service_json(s, key_of(&call.state, s).as_deref()))
        .collect();
    ok_page(contents, total, paging)
}
