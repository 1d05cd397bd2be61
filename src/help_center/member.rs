//! Help-center member integration (API.md §3, §7.7; SPEC §11.4–11.5): the per-service settings
//! (on/off, guests allowed, POST or GET type, login URL, login-status URL with extra parameters,
//! token-verification URL, optional local token check), the member token (HMAC-SHA256 with the
//! organization key over `&`-joined values), the POST-type remote logins for browsers (P20) and
//! servers (P21, access token), the help-center entry parameters (GET-type token with the
//! customer's verification URL, access-token and `usercode`+`time` hand-offs, `additionId`),
//! and the members-only gate of the inquiry form.
//!
//! A signed-in member is a [`HcIdentity`] with a user code in the session.

use std::collections::BTreeMap;

use actix_session::{Session, SessionExt};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{ACCEPT, CONTENT_TYPE};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::TimeDelta;
use diesel::prelude::*;
use futures_util::StreamExt;
use serde_json::Value;

use crate::AppState;
use crate::agents::form::Pairs;
use crate::crypto::{constant_time_eq, random_token, token_hash};
use crate::customers::MAX_USERCODE_CHARS;
use crate::db::schema::{api_additions, member_settings, member_tokens};
use crate::db::types::{ServiceKind, text_enum};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::help_center::access::HcAdmin;
use crate::help_center::customer_session::{self, HcIdentity};
use crate::i18n::{self, Lang};
use crate::tenancy::organization::Organization;
use crate::tenancy::service::Service;
use crate::web::{self as w, Flash, FormErrors, PageCtx};

use crate::openapi::envelope::{ApiError, ApiResult, Params, ok_content};
use crate::openapi::signing::sign;

/// How old a member token's `time` may be (API.md §3.3).
pub const TOKEN_WINDOW_MS: i64 = 3 * 60 * 1000;
/// How long an access token of P21 is valid.
pub const ACCESS_TOKEN_LIFETIME: TimeDelta = TimeDelta::minutes(3);
/// Timeout of the call to the customer's token-verification URL.
pub const VERIFY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Longest configured URL.
pub const MAX_URL: usize = 500;
/// Most extra parameters.
pub const MAX_EXTRA_PARAMS: usize = 10;

text_enum! {
    /// How a member signs in.
    LoginType {
        /// The customer's site posts a remote login (web services).
        Post => "post",
        /// The app opens the help center with a token checked by the customer's server (apps).
        Get => "get",
    }
}

/// One extra parameter re-sent to the login-status URL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExtraParam {
    /// Name (also the remote-login field it is captured from).
    pub name: String,
    /// `header` or `query`.
    pub via: String,
}

/// A service's member-integration settings.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = member_settings)]
pub struct MemberSettings {
    /// Service.
    pub service_id: i64,
    /// Member integration on.
    pub enabled: bool,
    /// Non-members may submit inquiries.
    pub allow_guest: bool,
    /// `post` or `get`.
    pub login_type: String,
    /// POST type: the customer's login page.
    pub login_url: String,
    /// POST type: the customer's login-status endpoint.
    pub status_url: String,
    /// POST type: extra parameters as JSON.
    pub extra_params: String,
    /// GET type: the customer's token-verification endpoint.
    pub verify_url: String,
    /// GET type: also check the token's HMAC with the organization key.
    pub local_verify: bool,
    /// Last change.
    pub updated_at: chrono::NaiveDateTime,
}

impl MemberSettings {
    /// Defaults: off, guests allowed, POST type.
    pub fn defaults(service_id: i64) -> MemberSettings {
        MemberSettings {
            service_id,
            enabled: false,
            allow_guest: true,
            login_type: "post".into(),
            login_url: String::new(),
            status_url: String::new(),
            extra_params: "[]".into(),
            verify_url: String::new(),
            local_verify: false,
            updated_at: now(),
        }
    }

    /// The stored settings or the defaults.
    pub fn load(conn: &mut DbConn, service_id: i64) -> QueryResult<MemberSettings> {
        Ok(member_settings::table
            .find(service_id)
            .select(MemberSettings::as_select())
            .first(conn)
            .optional()?
            .unwrap_or_else(|| MemberSettings::defaults(service_id)))
    }

    /// The login type.
    pub fn login_type(&self) -> LoginType {
        if self.login_type == "get" {
            LoginType::Get
        } else {
            LoginType::Post
        }
    }

    /// The extra parameters.
    pub fn extras(&self) -> Vec<ExtraParam> {
        serde_json::from_str(&self.extra_params).unwrap_or_default()
    }

    /// Whether only members may submit inquiries.
    pub fn members_only(&self) -> bool {
        self.enabled && !self.allow_guest
    }

    /// Inserts or replaces the row.
    pub fn save(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::delete(member_settings::table.find(self.service_id)).execute(conn)?;
        diesel::insert_into(member_settings::table)
            .values((
                member_settings::service_id.eq(self.service_id),
                member_settings::enabled.eq(self.enabled),
                member_settings::allow_guest.eq(self.allow_guest),
                member_settings::login_type.eq(&self.login_type),
                member_settings::login_url.eq(&self.login_url),
                member_settings::status_url.eq(&self.status_url),
                member_settings::extra_params.eq(&self.extra_params),
                member_settings::verify_url.eq(&self.verify_url),
                member_settings::local_verify.eq(self.local_verify),
                member_settings::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    }
}

/// The values a member token signs, in the fixed order of API.md §3.1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenValues {
    /// Service ID.
    pub service: String,
    /// Member user code.
    pub usercode: String,
    /// Name.
    pub username: String,
    /// E-mail.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Member number.
    pub memberno: String,
    /// Return URL (only in flows that carry one).
    pub return_url: String,
    /// Epoch milliseconds as sent.
    pub time: String,
}

impl TokenValues {
    /// The `&`-joined message; blank values are skipped with their separator.
    pub fn message(&self, with_memberno: bool, with_return_url: bool) -> String {
        let mut parts: Vec<&str> = vec![&self.service, &self.usercode];
        for v in [&self.username, &self.email, &self.phone] {
            parts.push(v);
        }
        if with_memberno {
            parts.push(&self.memberno);
        }
        if with_return_url {
            parts.push(&self.return_url);
        }
        parts.push(&self.time);
        parts
            .into_iter()
            .filter(|p| !p.trim().is_empty())
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The token: Base64(HMAC-SHA256(orgKey, message)).
    pub fn token(&self, org_key: &str, with_return_url: bool) -> String {
        sign(
            org_key.as_bytes(),
            self.message(true, with_return_url).as_bytes(),
        )
    }

    /// Whether `token` signs these values; a token computed without `memberno` is accepted
    /// too (the legacy sample, C-23).
    pub fn verify(&self, org_key: &str, token: &str, with_return_url: bool) -> bool {
        let token = token.trim();
        let mut ok = false;
        for with_memberno in [true, false] {
            let m = self.message(with_memberno, with_return_url);
            ok |= constant_time_eq(
                sign(org_key.as_bytes(), m.as_bytes()).as_bytes(),
                token.as_bytes(),
            );
        }
        ok
    }

    /// Whether `time` is a number no older than the window (and not far in the future).
    pub fn fresh(&self, now_ms: i64) -> bool {
        self.time
            .trim()
            .parse::<i64>()
            .is_ok_and(|t| now_ms - t <= TOKEN_WINDOW_MS && t - now_ms <= TOKEN_WINDOW_MS)
    }
}

/// A remote-login request's fields, from a form, query or JSON body.
#[derive(Debug, Clone, Default)]
struct RemoteLogin {
    values: TokenValues,
    token: String,
    fields: BTreeMap<String, String>,
}

fn read_remote(query: &str, content_type: &str, body: &[u8]) -> Result<RemoteLogin, ApiError> {
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    if content_type.contains("json") {
        let v: Value = serde_json::from_slice(body)
            .map_err(|_| ApiError::BadRequest("Request body is not valid JSON".into()))?;
        let obj = v
            .as_object()
            .ok_or_else(|| ApiError::BadRequest("Request body must be a JSON object".into()))?;
        for (k, v) in obj {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            fields.insert(k.clone(), s);
        }
    } else {
        for (k, v) in url::form_urlencoded::parse(body) {
            fields
                .entry(k.into_owned())
                .or_insert_with(|| v.into_owned());
        }
    }
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        fields
            .entry(k.into_owned())
            .or_insert_with(|| v.into_owned());
    }
    let get = |k: &str| {
        fields
            .get(k)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let values = TokenValues {
        service: get("service"),
        usercode: get("usercode"),
        username: get("username"),
        email: get("email"),
        phone: get("phone"),
        memberno: get("memberno"),
        return_url: get("returnUrl"),
        time: get("time"),
    };
    let limits = [
        ("service", &values.service, 50),
        ("usercode", &values.usercode, MAX_USERCODE_CHARS),
        ("username", &values.username, 50),
        ("email", &values.email, 100),
        ("phone", &values.phone, 20),
        ("memberno", &values.memberno, 50),
        ("returnUrl", &values.return_url, 2000),
    ];
    for (name, v, max) in limits {
        if v.chars().count() > max {
            return Err(ApiError::BadRequest(format!("{name} is too long")));
        }
    }
    for (name, v) in [("service", &values.service), ("usercode", &values.usercode)] {
        if v.is_empty() {
            return Err(ApiError::required(name));
        }
    }
    if values.time.is_empty() || !values.time.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::BadRequest("time is not numeric".into()));
    }
    let token = get("token");
    if token.is_empty() {
        return Err(ApiError::required("token"));
    }
    Ok(RemoteLogin {
        values,
        token,
        fields,
    })
}

/// Why a remote login was refused.
enum Refusal {
    Api(ApiError),
    Stale,
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

async fn body_of(payload: &mut web::Payload) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::BadRequest("Request body is unreadable".into()))?;
        if body.len() + chunk.len() > 64 * 1024 {
            return Err(ApiError::BadRequest("Request body is too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Checks a remote login: service, integration on, token, freshness. Returns the service.
async fn check_remote(
    state: &web::Data<AppState>,
    login: &RemoteLogin,
    with_return_url: bool,
) -> Result<Service, Refusal> {
    let code = login.values.service.clone();
    let secret = state.secret.clone();
    let found = state
        .db
        .read(move |c| {
            let Some(service) = Service::find_by_code(c, &code)?
                .filter(|s| s.enabled && s.kind() == ServiceKind::Consultation)
            else {
                return Ok(None);
            };
            let settings = MemberSettings::load(c, service.id)?;
            let org_key = match Organization::find(c)? {
                Some(o) => Some(o.org_key(&secret)?),
                None => None,
            };
            Ok(Some((service, settings, org_key)))
        })
        .await
        .map_err(ApiError::from)?;
    let Some((service, settings, org_key)) = found else {
        return Err(Refusal::Api(ApiError::NotFound));
    };
    if !settings.enabled || settings.login_type() != LoginType::Post {
        return Err(Refusal::Api(ApiError::Forbidden(
            "Member integration is not enabled".into(),
        )));
    }
    let key = org_key.ok_or_else(|| ApiError::Internal("no organization".into()))?;
    if !login.values.verify(&key, &login.token, with_return_url) {
        return Err(Refusal::Api(ApiError::BadRequest(
            "token is incorrect".into(),
        )));
    }
    if !login.values.fresh(now().and_utc().timestamp_millis()) {
        return Err(Refusal::Stale);
    }
    Ok(service)
}

fn identity_of(service_id: i64, v: &TokenValues) -> HcIdentity {
    HcIdentity {
        service_id,
        email: (!v.email.is_empty()).then(|| crate::customers::normalize_email(&v.email)),
        usercode: Some(v.usercode.clone()),
        name: (!v.username.is_empty()).then(|| v.username.clone()),
        expires_at: now() + customer_session::LIFETIME,
    }
}

fn extras_key(service_id: i64) -> String {
    format!("hc_member_extras_{service_id}")
}

/// Signs a member in and keeps the remote-login fields the login-status call re-sends.
pub fn sign_in_member(
    session: &Session,
    service_id: i64,
    v: &TokenValues,
    extras: &BTreeMap<String, String>,
) {
    customer_session::sign_in(session, &identity_of(service_id, v));
    let _ = session.insert(extras_key(service_id), extras);
}

/// The simple HTML page of a refused browser login.
#[derive(Template)]
#[template(path = "openapi/member_message.html")]
pub struct MessagePage {
    /// Layout context.
    pub ctx: PageCtx,
    /// Heading.
    pub heading: String,
    /// Explanation.
    pub message: String,
}

fn message_page(req: &HttpRequest, status: StatusCode, key: &str) -> HttpResponse {
    let lang = w::negotiate_lang(req.head());
    let mut ctx = PageCtx::bare(lang, req.path(), "openapi.member.login_title");
    ctx.title = i18n::t(lang, "openapi.member.login_title");
    let page = MessagePage {
        heading: ctx.title.clone(),
        message: i18n::t(lang, key),
        ctx,
    };
    w::html(status, &page).unwrap_or_else(|_| HttpResponse::build(status).finish())
}

fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

fn content_type(req: &HttpRequest) -> String {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// `POST /v2/enduser/remote.json` (P20): the browser's remote login. Success redirects to
/// `returnUrl` (302) or answers `SUCCESS`; a stale `time` shows the timeout page; a bad token an
/// error page (or the JSON envelope when JSON is accepted).
pub async fn remote_login_browser(
    req: HttpRequest,
    state: web::Data<AppState>,
    mut payload: web::Payload,
) -> HttpResponse {
    let result = async {
        let body = body_of(&mut payload).await?;
        let login = read_remote(req.query_string(), &content_type(&req), &body)?;
        let service = check_remote(&state, &login, true).await?;
        Ok::<_, Refusal>((login, service))
    }
    .await;
    match result {
        Ok((login, service)) => {
            sign_in_member(&req.get_session(), service.id, &login.values, &login.fields);
            if login.values.return_url.is_empty() {
                HttpResponse::Ok()
                    .content_type("text/plain; charset=utf-8")
                    .body("SUCCESS")
            } else {
                HttpResponse::Found()
                    .insert_header(("Location", login.values.return_url.clone()))
                    .finish()
            }
        }
        Err(Refusal::Stale) => {
            message_page(&req, StatusCode::BAD_REQUEST, "openapi.member.timeout")
        }
        Err(Refusal::Api(e)) if wants_json(&req) => actix_web::ResponseError::error_response(&e),
        Err(Refusal::Api(ApiError::NotFound)) => message_page(
            &req,
            StatusCode::NOT_FOUND,
            "openapi.member.unknown_service",
        ),
        Err(Refusal::Api(ApiError::Internal(m))) => {
            tracing::error!(error = %m, "remote login failed");
            message_page(&req, StatusCode::INTERNAL_SERVER_ERROR, "error.internal")
        }
        Err(Refusal::Api(_)) => {
            message_page(&req, StatusCode::BAD_REQUEST, "openapi.member.bad_token")
        }
    }
}

/// `POST /api/v2/enduser/remote.json` (P21): the server's remote login; `result.content` is a
/// single-use access token valid for three minutes.
pub async fn remote_login_server(
    req: HttpRequest,
    state: web::Data<AppState>,
    mut payload: web::Payload,
) -> ApiResult {
    let body = body_of(&mut payload).await?;
    let login = read_remote(req.query_string(), &content_type(&req), &body)?;
    let mut login_no_return = login.clone();
    login_no_return.values.return_url.clear();
    let service = match check_remote(&state, &login_no_return, false).await {
        Ok(s) => s,
        Err(Refusal::Api(e)) => return Err(e),
        Err(Refusal::Stale) => return Err(ApiError::BadRequest("time is expired".into())),
    };
    let token = random_token();
    let hash = token_hash(&token);
    let v = login_no_return.values;
    let extras = serde_json::to_string(&login.fields).unwrap_or_else(|_| "{}".into());
    let login_time: i64 = v.time.parse().unwrap_or(0);
    state
        .db
        .write(move |c| {
            let t = now();
            diesel::delete(member_tokens::table.filter(member_tokens::expires_at.lt(t)))
                .execute(c)?;
            diesel::insert_into(member_tokens::table)
                .values((
                    member_tokens::token_hash.eq(hash),
                    member_tokens::service_id.eq(service.id),
                    member_tokens::usercode.eq(&v.usercode),
                    member_tokens::username.eq(&v.username),
                    member_tokens::email.eq(&v.email),
                    member_tokens::phone.eq(&v.phone),
                    member_tokens::memberno.eq(&v.memberno),
                    member_tokens::extras.eq(extras),
                    member_tokens::login_time.eq(login_time),
                    member_tokens::created_at.eq(t),
                    member_tokens::expires_at.eq(t + ACCESS_TOKEN_LIFETIME),
                ))
                .execute(c)?;
            Ok(())
        })
        .await?;
    ok_content(Value::from(token))
}

type TokenRow = (String, String, String, String, String, String);

/// Consumes a stored server-side login: by access token, or by `usercode` + `time` (the older
/// hand-off). Returns the values and the captured fields.
fn take_login(
    conn: &mut DbConn,
    service_id: i64,
    access_token: Option<&str>,
    usercode_time: Option<(&str, i64)>,
) -> QueryResult<Option<(TokenValues, BTreeMap<String, String>)>> {
    let t = now();
    let base = member_tokens::table
        .filter(member_tokens::service_id.eq(service_id))
        .filter(member_tokens::used_at.is_null())
        .filter(member_tokens::expires_at.gt(t))
        .into_boxed();
    let q = match (access_token, usercode_time) {
        (Some(tok), _) => base.filter(member_tokens::token_hash.eq(token_hash(tok))),
        (None, Some((code, time))) => base
            .filter(member_tokens::usercode.eq(code.to_string()))
            .filter(member_tokens::login_time.eq(time)),
        (None, None) => return Ok(None),
    };
    let row: Option<(String, TokenRow)> = q
        .select((
            member_tokens::token_hash,
            (
                member_tokens::usercode,
                member_tokens::username,
                member_tokens::email,
                member_tokens::phone,
                member_tokens::memberno,
                member_tokens::extras,
            ),
        ))
        .first(conn)
        .optional()?;
    let Some((hash, (usercode, username, email, phone, memberno, extras))) = row else {
        return Ok(None);
    };
    let n = diesel::update(
        member_tokens::table
            .find(&hash)
            .filter(member_tokens::used_at.is_null()),
    )
    .set(member_tokens::used_at.eq(Some(t)))
    .execute(conn)?;
    if n != 1 {
        return Ok(None);
    }
    Ok(Some((
        TokenValues {
            usercode,
            username,
            email,
            phone,
            memberno,
            ..TokenValues::default()
        },
        serde_json::from_str(&extras).unwrap_or_default(),
    )))
}

/// The customer's verification answer: `login` true (boolean or string) for this user code.
pub fn verification_accepts(body: &Value, usercode: &str) -> bool {
    let login = match &body["login"] {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    login && body["usercode"].as_str().map(str::trim) == Some(usercode)
}

/// Calls the customer's token-verification URL (GET type, X4); any error means "no".
pub async fn call_verify_url(url: &str, usercode: &str, token: &str) -> bool {
    let Ok(mut target) = url::Url::parse(url) else {
        return false;
    };
    target
        .query_pairs_mut()
        .append_pair("usercode", usercode)
        .append_pair("token", token);
    let client = match reqwest::Client::builder()
        .timeout(VERIFY_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "member verification client");
            return false;
        }
    };
    match client.get(target).send().await {
        Ok(resp) if resp.status().is_success() => match resp.bytes().await {
            Ok(b) if b.len() <= 64 * 1024 => serde_json::from_slice::<Value>(&b)
                .map(|v| verification_accepts(&v, usercode))
                .unwrap_or(false),
            _ => false,
        },
        Ok(resp) => {
            tracing::info!(status = %resp.status(), "member verification refused");
            false
        }
        Err(e) => {
            tracing::info!(error = %e, "member verification failed");
            false
        }
    }
}

/// The entry parameters handled before a help-center page (P22).
const ENTRY_PARAMS: [&str; 9] = [
    "accessToken",
    "usercode",
    "username",
    "email",
    "phone",
    "memberno",
    "time",
    "token",
    "additionId",
];

fn addition_key(service_id: i64) -> String {
    format!("hc_addition_{service_id}")
}

/// The `additionId` remembered for the service's inquiry form.
pub fn pending_addition(session: &Session, service_id: i64) -> Option<String> {
    session
        .get::<String>(&addition_key(service_id))
        .ok()
        .flatten()
}

/// Forgets the remembered `additionId` (after the inquiry used it).
pub fn clear_addition(session: &Session, service_id: i64) {
    session.remove(&addition_key(service_id));
}

/// Uses an addition for a new ticket (inside the ticket's transaction): marks it used and
/// returns `(content, visible)` when it is the service's, unused and unexpired.
pub fn take_addition(
    conn: &mut DbConn,
    service_id: i64,
    id: &str,
    ticket_id: i64,
) -> QueryResult<Option<(String, bool)>> {
    let t = now();
    let row: Option<(String, bool)> = api_additions::table
        .find(id)
        .filter(api_additions::service_id.eq(service_id))
        .filter(api_additions::used_at.is_null())
        .filter(api_additions::expires_at.gt(t))
        .select((api_additions::content, api_additions::visible))
        .first(conn)
        .optional()?;
    if row.is_some() {
        diesel::update(api_additions::table.find(id))
            .set((
                api_additions::used_at.eq(Some(t)),
                api_additions::ticket_id.eq(Some(ticket_id)),
            ))
            .execute(conn)?;
    }
    Ok(row)
}

/// What the entry middleware decided for a service.
struct EntryData {
    service: Service,
    settings: MemberSettings,
    org_key: Option<String>,
}

async fn entry_data(state: &web::Data<AppState>, code: String) -> Option<EntryData> {
    let secret = state.secret.clone();
    state
        .db
        .read(move |c| {
            let Some(service) = Service::find_by_code(c, &code)? else {
                return Ok(None);
            };
            let settings = MemberSettings::load(c, service.id)?;
            let org_key = match Organization::find(c)? {
                Some(o) => o.org_key(&secret).ok(),
                None => None,
            };
            Ok(Some(EntryData {
                service,
                settings,
                org_key,
            }))
        })
        .await
        .ok()
        .flatten()
}

/// A GET-type entry: the customer's verification URL (and, when configured, the local HMAC
/// check) decides. Returns the values on success.
async fn verify_get_entry(data: &EntryData, p: &Params) -> Option<TokenValues> {
    let v = TokenValues {
        service: data.service.code.clone(),
        usercode: p.get("usercode")?.to_string(),
        username: p.get("username").unwrap_or("").to_string(),
        email: p.get("email").unwrap_or("").to_string(),
        phone: p.get("phone").unwrap_or("").to_string(),
        memberno: p.get("memberno").unwrap_or("").to_string(),
        return_url: p.get("returnUrl").unwrap_or("").to_string(),
        time: p.get("time").unwrap_or("").to_string(),
    };
    let token = p.get("token")?.to_string();
    if v.usercode.chars().count() > MAX_USERCODE_CHARS {
        return None;
    }
    let s = &data.settings;
    if s.local_verify {
        let key = data.org_key.as_deref()?;
        let with_return = !v.return_url.is_empty();
        if v.time.is_empty()
            || !v.fresh(now().and_utc().timestamp_millis())
            || !v.verify(key, &token, with_return)
        {
            return None;
        }
    }
    if !s.verify_url.trim().is_empty() {
        if !call_verify_url(s.verify_url.trim(), &v.usercode, &token).await {
            return None;
        }
    } else if !s.local_verify {
        return None;
    }
    Some(v)
}

fn strip_entry_params(req: &ServiceRequest) -> String {
    let kept: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| !ENTRY_PARAMS.contains(&k.as_ref()) && k != "returnUrl")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        req.path().to_string()
    } else {
        let qs = kept
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    crate::common::text::url_encode(k),
                    crate::common::text::url_encode(v)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        format!("{}?{qs}", req.path())
    }
}

/// Middleware on help-center pages (`/{service}/hc/…`, GET): handles the entry parameters of
/// P22 (member sign-in by access token, `usercode`+`time` hand-off or GET-type token;
/// `additionId`), then redirects to the same page without them. A failed GET-type sign-in
/// continues as a guest, and the history page falls back to the inquiry form.
pub async fn hc_entry(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let mut segs = req.path().trim_start_matches('/').split('/');
    let code = segs.next().unwrap_or("").to_string();
    let is_hc = segs.next() == Some("hc") && segs.next() != Some("openapi");
    let has_param = || {
        url::form_urlencoded::parse(req.query_string().as_bytes()).any(|(k, _)| {
            matches!(
                k.as_ref(),
                "accessToken" | "usercode" | "token" | "additionId"
            )
        })
    };
    let checked_page = req.path() == format!("/{code}/hc/ticket/")
        || req.path() == format!("/{code}/hc/ticket/list/");
    if req.method() != Method::GET || !is_hc {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    if !has_param() {
        if checked_page && let Some(to) = status_check_redirect(&req, &code).await {
            let resp = HttpResponse::SeeOther()
                .insert_header(("Location", to))
                .finish();
            return Ok(req.into_response(resp));
        }
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let Some(data) = entry_data(&state, code).await else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let sid = data.service.id;
    let session = req.get_session();
    let p = Params::parse(req.query_string(), None);
    if let Some(id) = p.get("additionId") {
        let id: String = id.chars().take(64).collect();
        let _ = session.insert(addition_key(sid), id);
    }
    let mut target = strip_entry_params(&req);
    if data.settings.enabled {
        let access = p.get("accessToken").map(str::to_string);
        let hand_off = match (p.get("usercode"), p.get("time"), p.get("token")) {
            (Some(u), Some(t), None) => t.parse::<i64>().ok().map(|t| (u.to_string(), t)),
            _ => None,
        };
        let signed_in = if access.is_some() || hand_off.is_some() {
            state
                .db
                .write(move |c| {
                    Ok(take_login(
                        c,
                        sid,
                        access.as_deref(),
                        hand_off.as_ref().map(|(u, t)| (u.as_str(), *t)),
                    )?)
                })
                .await
                .ok()
                .flatten()
        } else if p.get("token").is_some() && data.settings.login_type() == LoginType::Get {
            verify_get_entry(&data, &p).await.map(|v| {
                let extras: BTreeMap<String, String> = ENTRY_PARAMS
                    .iter()
                    .filter(|k| !matches!(**k, "token" | "accessToken" | "additionId"))
                    .filter_map(|k| p.get(k).map(|v| (k.to_string(), v.to_string())))
                    .collect();
                (v, extras)
            })
        } else {
            None
        };
        match signed_in {
            Some((v, extras)) => sign_in_member(&session, sid, &v, &extras),
            None if p.get("usercode").is_some() || p.get("accessToken").is_some() => {
                let list = format!("/{}/hc/ticket/list/", data.service.code);
                if req.path() == list {
                    target =
                        target.replacen(&list, &format!("/{}/hc/ticket/", data.service.code), 1);
                }
            }
            None => {}
        }
    }
    let resp = HttpResponse::SeeOther()
        .insert_header(("Location", target))
        .finish();
    Ok(req.into_response(resp))
}

/// The members-only gate of the inquiry form: when member integration is on and guests may not
/// submit, a visitor without a member identity is sent to the login URL (POST type, with
/// `returnUrl`) or refused.
pub async fn inquiry_gate(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    session: &Session,
    service: &Service,
) -> Result<Option<HttpResponse>, AppError> {
    let sid = service.id;
    let settings = state
        .db
        .read(move |c| Ok(MemberSettings::load(c, sid)?))
        .await?;
    if !settings.members_only()
        || customer_session::current(session, sid).is_some_and(|i| i.is_member())
    {
        return Ok(None);
    }
    if settings.login_type() == LoginType::Post && !settings.login_url.trim().is_empty() {
        let here = format!(
            "{}{}",
            state.config.base_url,
            req.uri()
                .path_and_query()
                .map_or(req.path(), |pq| pq.as_str())
        );
        let mut url = settings.login_url.trim().to_string();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!(
            "returnUrl={}",
            crate::common::text::url_encode(&here)
        ));
        return Ok(Some(
            HttpResponse::SeeOther()
                .insert_header(("Location", url))
                .finish(),
        ));
    }
    Err(AppError::Forbidden("openapi.member.members_only"))
}

/// The member-integration settings page.
#[derive(Template)]
#[template(path = "openapi/member_settings.html")]
pub struct SettingsPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Form action.
    pub action: String,
    /// Values.
    pub s: MemberSettings,
    /// Extra parameters as text (`name:header` per line).
    pub extras_text: String,
    /// The endpoints customers call.
    pub browser_login: String,
    /// Server login endpoint.
    pub server_login: String,
    /// Errors.
    pub errors: FormErrors,
}

fn extras_text(list: &[ExtraParam]) -> String {
    list.iter()
        .map(|e| format!("{}:{}", e.name, e.via))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The page's path.
pub fn settings_path(code: &str) -> String {
    format!("/{code}/console/help-center/member-integration")
}

async fn render_settings(
    a: &HcAdmin,
    form: Option<(MemberSettings, String)>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let (s, extras) = match form {
        Some(f) => f,
        None => {
            let s = a
                .viewer()
                .state
                .db
                .read(move |c| Ok(MemberSettings::load(c, sid)?))
                .await?;
            let text = extras_text(&s.extras());
            (s, text)
        }
    };
    let base = a.viewer().state.config.base_url.clone();
    let page = SettingsPage {
        ctx: PageCtx::console(&a.0.0, "openapi.member.title"),
        action: settings_path(&a.service.code),
        s,
        extras_text: extras,
        browser_login: format!("{base}/v2/enduser/remote.json"),
        server_login: format!("{base}/api/v2/enduser/remote.json"),
        errors,
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/help-center/member-integration`
pub async fn settings_page(a: HcAdmin) -> Result<HttpResponse, AppError> {
    let errors = FormErrors::new(a.viewer().lang);
    render_settings(&a, None, errors, StatusCode::OK).await
}

fn url_ok(s: &str) -> bool {
    s.chars().count() <= MAX_URL
        && url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// Reads and checks the settings form.
pub fn read_settings_form(
    form: &Pairs,
    errors: &mut FormErrors,
    service_id: i64,
) -> (MemberSettings, String) {
    let login_type = if form.get("login_type") == "get" {
        "get"
    } else {
        "post"
    };
    let mut s = MemberSettings {
        service_id,
        enabled: form.checked("enabled"),
        allow_guest: form.checked("allow_guest"),
        login_type: login_type.into(),
        login_url: form
            .get("login_url")
            .trim()
            .chars()
            .take(MAX_URL + 1)
            .collect(),
        status_url: form
            .get("status_url")
            .trim()
            .chars()
            .take(MAX_URL + 1)
            .collect(),
        extra_params: "[]".into(),
        verify_url: form
            .get("verify_url")
            .trim()
            .chars()
            .take(MAX_URL + 1)
            .collect(),
        local_verify: form.checked("local_verify"),
        updated_at: now(),
    };
    for (name, value) in [
        ("login_url", &s.login_url),
        ("status_url", &s.status_url),
        ("verify_url", &s.verify_url),
    ] {
        if !value.is_empty() && !url_ok(value) {
            errors.add(name, "openapi.member.url_invalid");
        }
    }
    if s.enabled {
        match s.login_type() {
            LoginType::Post if s.login_url.is_empty() => {
                errors.add("login_url", "validation.required");
            }
            LoginType::Get if s.verify_url.is_empty() && !s.local_verify => {
                errors.add("verify_url", "openapi.member.verify_needed");
            }
            _ => {}
        }
    }
    let text: String = form.get("extra_params").chars().take(2000).collect();
    let mut extras: Vec<ExtraParam> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (name, via) = line.split_once(':').unwrap_or((line, "query"));
        let (name, via) = (name.trim(), via.trim().to_ascii_lowercase());
        let name_ok = !name.is_empty()
            && name.len() <= 50
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !name_ok || !matches!(via.as_str(), "header" | "query") {
            errors.add_with(
                "extra_params",
                "openapi.member.extra_invalid",
                &[("line", &line.chars().take(60).collect::<String>())],
            );
            break;
        }
        extras.push(ExtraParam {
            name: name.into(),
            via,
        });
    }
    if extras.len() > MAX_EXTRA_PARAMS {
        errors.add_with(
            "extra_params",
            "openapi.member.extra_too_many",
            &[("max", &MAX_EXTRA_PARAMS.to_string())],
        );
    }
    s.extra_params = serde_json::to_string(&extras).unwrap_or_else(|_| "[]".into());
    (s, text)
}

/// `POST /{service_id}/console/help-center/member-integration`
pub async fn save_settings(
    req: HttpRequest,
    a: HcAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let mut errors = FormErrors::new(a.viewer().lang);
    let (s, text) = read_settings_form(&form, &mut errors, a.service.id);
    if !errors.is_empty() {
        return render_settings(
            &a,
            Some((s, text)),
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    a.viewer().state.db.write(move |c| Ok(s.save(c)?)).await?;
    a.viewer()
        .flash(Flash::success(a.viewer().t("openapi.member.saved")));
    Ok(w::redirect(&req, &settings_path(&a.service.code)))
}

/// The language of a remote-login page.
pub fn page_lang(req: &HttpRequest) -> Lang {
    w::negotiate_lang(req.head())
}

/// Attaches help-center addition data to a ticket just opened from the inquiry form (inside its
/// transaction): kept as the ticket's extra data; a visible addition also becomes an internal
/// entry of the timeline agents read (customers never see it). An unknown, used or expired ID
/// is ignored.
pub fn attach_addition(
    conn: &mut DbConn,
    service_id: i64,
    id: &str,
    ticket_id: i64,
) -> QueryResult<()> {
    let Some((content, visible)) = take_addition(conn, service_id, id, ticket_id)? else {
        return Ok(());
    };
    if visible {
        crate::tickets::add_entry(
            conn,
            ticket_id,
            crate::tickets::EntryKind::Comment,
            None,
            &content,
        )?;
    }
    crate::openapi::signed_v1::insert_meta(
        conn,
        service_id,
        ticket_id,
        &crate::openapi::signed_v1::TicketMeta {
            client_ip: "",
            type_one: "",
            type_two: "",
            addition: &content,
        },
    )
}

/// How long a login-status check counts before the next entry asks again.
pub const CHECK_LIFETIME: TimeDelta = TimeDelta::minutes(10);

fn checked_key(service_id: i64) -> String {
    format!("hc_member_checked_{service_id}")
}

/// Whether the login-status URL was asked recently in this session.
fn recently_checked(session: &Session, service_id: i64) -> bool {
    session
        .get::<chrono::NaiveDateTime>(&checked_key(service_id))
        .ok()
        .flatten()
        .is_some_and(|until| until > now())
}

/// For the inquiry and history pages of a POST-type service with a login-status URL: the check
/// page to pass through first, unless the session was checked recently.
async fn status_check_redirect(req: &ServiceRequest, code: &str) -> Option<String> {
    let state = req.app_data::<web::Data<AppState>>()?.clone();
    let session = req.get_session();
    let code_owned = code.to_string();
    let (service_id, settings) = state
        .db
        .read(move |c| {
            let Some(s) = Service::find_by_code(c, &code_owned)? else {
                return Ok(None);
            };
            Ok(Some((s.id, MemberSettings::load(c, s.id)?)))
        })
        .await
        .ok()
        .flatten()?;
    if !settings.enabled
        || settings.login_type() != LoginType::Post
        || settings.status_url.trim().is_empty()
        || recently_checked(&session, service_id)
    {
        return None;
    }
    let here = req
        .uri()
        .path_and_query()
        .map_or(req.path().to_string(), |pq| pq.as_str().to_string());
    Some(format!(
        "/{code}/hc/member/check?next={}",
        crate::common::text::url_encode(&here)
    ))
}

/// The page that asks the customer's login-status URL from the browser.
#[derive(Template)]
#[template(path = "openapi/member_check.html")]
pub struct CheckPage {
    /// Layout context.
    pub ctx: PageCtx,
    /// The status URL with query extras.
    pub status_url: String,
    /// Header extras as JSON.
    pub headers_json: String,
    /// The signed-in member's code, if any.
    pub usercode: String,
    /// Where the script reports (without `state`).
    pub continue_url: String,
}

/// `?next=…&state=…`
#[derive(Debug, serde::Deserialize)]
pub struct NextQuery {
    /// The help-center page to return to.
    #[serde(default)]
    pub next: String,
    /// The check's outcome (`member`, `login`, `guest`, `error`).
    #[serde(default)]
    pub state: String,
}

fn hc_next(code: &str, next: &str) -> String {
    w::safe_next(Some(next))
        .filter(|n| n.starts_with(&format!("/{code}/hc/")))
        .unwrap_or_else(|| format!("/{code}/hc/"))
}

async fn service_and_settings(
    state: &web::Data<AppState>,
    code: &str,
) -> Result<(Service, MemberSettings), AppError> {
    let code = code.to_string();
    state
        .db
        .read(move |c| {
            let s = Service::find_by_code(c, &code)?
                .filter(|s| s.enabled && s.kind() == ServiceKind::Consultation)
                .ok_or(AppError::NotFound)?;
            let m = MemberSettings::load(c, s.id)?;
            Ok((s, m))
        })
        .await
}

/// `GET /{service_id}/hc/member/check?next=…` (X3): the browser asks the login-status URL
/// (with credentials and the configured extra parameters) and reports the outcome.
pub async fn check_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let (service, settings) = service_and_settings(&state, &path).await?;
    if !settings.enabled || settings.status_url.trim().is_empty() {
        return Ok(w::redirect(&req, &hc_next(&service.code, &q.next)));
    }
    let session = req.get_session();
    let captured: BTreeMap<String, String> = session
        .get(&extras_key(service.id))
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut url = url::Url::parse(settings.status_url.trim()).map_err(|_| AppError::NotFound)?;
    let mut headers = serde_json::Map::new();
    for e in settings.extras() {
        let Some(v) = captured.get(&e.name) else {
            continue;
        };
        if e.via == "header" {
            headers.insert(e.name.clone(), Value::from(v.clone()));
        } else {
            url.query_pairs_mut().append_pair(&e.name, v);
        }
    }
    let origin = url.origin().ascii_serialization();
    let usercode = customer_session::current(&session, service.id)
        .and_then(|i| i.usercode)
        .unwrap_or_default();
    let lang = w::negotiate_lang(req.head());
    let mut ctx = PageCtx::bare(lang, req.path(), "openapi.member.check_title");
    ctx.title = i18n::t(lang, "openapi.member.check_title");
    let page = CheckPage {
        ctx,
        status_url: url.to_string(),
        headers_json: Value::Object(headers).to_string(),
        usercode,
        continue_url: format!(
            "/{}/hc/member/continue?next={}",
            service.code,
            crate::common::text::url_encode(&hc_next(&service.code, &q.next))
        ),
    };
    let mut resp = w::html(StatusCode::OK, &page)?;
    resp.extensions_mut()
        .insert(crate::web::headers::ConnectSources(origin));
    Ok(resp)
}

/// `GET /{service_id}/hc/member/continue?next=…&state=…`: records the check and goes on — to
/// the page, or to the login URL when the customer's site says the visitor is signed in there
/// (remote login pending) or when only members may continue.
pub async fn continue_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let (service, settings) = service_and_settings(&state, &path).await?;
    let session = req.get_session();
    let _ = session.insert(checked_key(service.id), now() + CHECK_LIFETIME);
    let next = hc_next(&service.code, &q.next);
    let member = customer_session::current(&session, service.id).is_some_and(|i| i.is_member());
    let to_login = |next: &str| {
        let mut url = settings.login_url.trim().to_string();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!(
            "returnUrl={}",
            crate::common::text::url_encode(&format!("{}{next}", state.config.base_url))
        ));
        url
    };
    let target = match q.state.as_str() {
        "login" if !settings.login_url.trim().is_empty() => to_login(&next),
        "guest" => {
            if member {
                customer_session::sign_out(&session, service.id);
            }
            if !settings.allow_guest && !settings.login_url.trim().is_empty() {
                to_login(&next)
            } else {
                next
            }
        }
        _ => next,
    };
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", target))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_and_own_token_vectors() {
        let doc = TokenValues {
            service: "hangame".into(),
            usercode: "testusercode".into(),
            username: "testUsername".into(),
            email: "test@email.com".into(),
            phone: "123456789".into(),
            time: "1660095873001".into(),
            ..TokenValues::default()
        };
        assert_eq!(
            doc.message(true, true),
            "hangame&testusercode&testUsername&test@email.com&123456789&1660095873001"
        );
        let key = "7cf2828608274a49a3f06152b2188927";
        assert_eq!(
            doc.token(key, false),
            "Ah9M58CQ9RFTShjFuqziQr+0MjmJxN6+bzWxMD71moo="
        );
        assert!(doc.verify(key, "Ah9M58CQ9RFTShjFuqziQr+0MjmJxN6+bzWxMD71moo=", false));
        assert!(!doc.verify(key, "H9V99+2hBzpPaO47S+Ko48MAAXTiMoLqFG7C6+eHaHc=", false));
        let own = TokenValues {
            service: "acme".into(),
            usercode: "user-42".into(),
            username: "김민수".into(),
            email: "minsu@example.com".into(),
            phone: "01012345678".into(),
            memberno: "M-0042".into(),
            return_url: "https://shop.example/after".into(),
            time: "1700000000000".into(),
        };
        let key = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
        assert_eq!(
            own.token(key, true),
            "zDupV23Ee+r1jqPz8Ao2KRiXr1QtM2xyBhc8xg5oEok="
        );
        // A token computed without memberno (legacy sample) is accepted too.
        let legacy = sign(key.as_bytes(), own.message(false, true).as_bytes());
        assert!(own.verify(key, &legacy, true));
        assert!(own.fresh(1_700_000_000_000 + TOKEN_WINDOW_MS));
        assert!(!own.fresh(1_700_000_000_000 + TOKEN_WINDOW_MS + 1));
        assert!(verification_accepts(
            &serde_json::json!({"login": "true", "usercode": "u"}),
            "u"
        ));
        assert!(verification_accepts(
            &serde_json::json!({"login": true, "usercode": "u"}),
            "u"
        ));
        assert!(!verification_accepts(
            &serde_json::json!({"login": "true", "usercode": "v"}),
            "u"
        ));
        assert!(!verification_accepts(
            &serde_json::json!({"login": "false", "usercode": null}),
            "u"
        ));
    }
}
