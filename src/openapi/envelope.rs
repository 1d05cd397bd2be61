//! The wire format every Open API answer shares (API.md §1.2–§1.7): the
//! `{header: {resultCode, resultMessage, isSuccessful}, result}` envelope, the three failure
//! shapes (`null`, the `OcException` object, the validation list), the HTTP status mapping of
//! §1.5, request parameters read the way the servlet API reads them (first value wins), paging
//! and sort parsing, the language choice and the time formats.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use crate::error::AppError;
use crate::i18n::Lang;
use crate::tenancy::service::Service;
use crate::tenancy::service::{default_lang, service_langs};

/// The JSON content type of every envelope.
pub const JSON_TYPE: &str = "application/json;charset=UTF-8";

/// Largest page size of the lists that document one (notices, FAQ, tickets).
pub const MAX_PAGE_SIZE: i64 = 200;
/// Highest page number served (bounds the offset).
pub const MAX_PAGE: i64 = 100_000;

/// A failed call: the result code and message of §1.4 with the failure shape of §1.6.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// `400` with `result: null` (signature problems, malformed input).
    BadRequest(String),
    /// `403` with `result: null` (gates).
    Forbidden(String),
    /// `404` with `result: null`.
    NotFound,
    /// `400` with the `OcException` object (rejected uploads, business refusals).
    Exception(String),
    /// `400`, `resultMessage: null`, `result.contents` = one entry per failed field.
    Validation(Vec<Value>),
    /// A business code answered with HTTP 200 (`1001`, `1002`, `9005`, `9007`).
    Business(i32, String),
    /// `500`; the detail is logged, never sent.
    Internal(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::BadRequest(m) | ApiError::Forbidden(m) | ApiError::Exception(m) => {
                f.write_str(m)
            }
            ApiError::NotFound => f.write_str("No data found"),
            ApiError::Validation(v) => write!(f, "{} invalid fields", v.len()),
            ApiError::Business(c, m) => write!(f, "{c} {m}"),
            ApiError::Internal(m) => write!(f, "internal: {m}"),
        }
    }
}

impl ApiError {
    /// A `400` naming a bad parameter.
    pub fn invalid(name: &str) -> ApiError {
        ApiError::BadRequest(format!("{name} is invalid"))
    }

    /// A `400` naming a missing parameter.
    pub fn required(name: &str) -> ApiError {
        ApiError::BadRequest(format!("{name} is required"))
    }

    /// `9005`: a referenced entity does not exist.
    pub fn missing_ref(what: &str) -> ApiError {
        ApiError::Business(9005, format!("The related data does not exist: {what}"))
    }

    /// `9007`: the entity already exists.
    pub fn duplicate(what: &str) -> ApiError {
        ApiError::Business(9007, format!("The related data already exists: {what}"))
    }

    /// The result code.
    pub fn code(&self) -> i32 {
        match self {
            ApiError::BadRequest(_) | ApiError::Exception(_) | ApiError::Validation(_) => 400,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound => 404,
            ApiError::Business(c, _) => *c,
            ApiError::Internal(_) => 500,
        }
    }

    /// The envelope body.
    pub fn body(&self) -> Value {
        match self {
            ApiError::BadRequest(m) | ApiError::Forbidden(m) => header_only(self.code(), m),
            ApiError::NotFound => header_only(404, "No data found"),
            ApiError::Business(c, m) => header_only(*c, m),
            ApiError::Internal(_) => header_only(500, "Server error"),
            ApiError::Exception(m) => json!({
                "header": {"resultCode": 400, "resultMessage": m, "isSuccessful": false},
                "result": {"content": {"exception": "OcException", "message": m}},
            }),
            ApiError::Validation(items) => json!({
                "header": {"resultCode": 400, "resultMessage": null, "isSuccessful": false},
                "result": {"contents": items},
            }),
        }
    }
}

fn header_only(code: i32, message: &str) -> Value {
    json!({
        "header": {"resultCode": code, "resultMessage": message, "isSuccessful": false},
        "result": null,
    })
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self.code() {
            400 => StatusCode::BAD_REQUEST,
            403 => StatusCode::FORBIDDEN,
            404 => StatusCode::NOT_FOUND,
            500 => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::OK,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(m) = self {
            tracing::error!(error = %m, "open API call failed");
        }
        json_response(self.status_code(), &self.body())
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => ApiError::NotFound,
            AppError::Forbidden(_) | AppError::Csrf | AppError::LoginRequired { .. } => {
                ApiError::Forbidden("Access Denied".into())
            }
            AppError::BadRequest(key) => ApiError::BadRequest(key.to_string()),
            AppError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => ApiError::NotFound,
            other => ApiError::Internal(format!("database: {other}")),
        }
    }
}

/// A JSON response with the envelope content type.
pub fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
    let mut resp = HttpResponse::build(status).body(body.to_string());
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(JSON_TYPE));
    resp
}

/// What a handler returns.
pub type ApiResult = Result<HttpResponse, ApiError>;

fn success(result: Value) -> HttpResponse {
    json_response(
        StatusCode::OK,
        &json!({
            "header": {"resultCode": 200, "resultMessage": "", "isSuccessful": true},
            "result": result,
        }),
    )
}

/// Success with one item (or a bare scalar) in `result.content`.
pub fn ok_content(content: Value) -> ApiResult {
    Ok(success(json!({ "content": content })))
}

/// Success with a list in `result.contents` (no paging fields).
pub fn ok_contents(contents: Vec<Value>) -> ApiResult {
    Ok(success(json!({ "contents": contents })))
}

/// Success with a page of a list and the paging fields.
pub fn ok_page(contents: Vec<Value>, total: i64, paging: Paging) -> ApiResult {
    Ok(success(json!({
        "contents": contents,
        "total": total,
        "pages": paging.pages(total),
        "pageNum": paging.page,
        "pageSize": paging.size,
    })))
}

/// Success without payload (`result: null`).
pub fn ok_null() -> ApiResult {
    Ok(success(Value::Null))
}

/// Request parameters: the query string plus the fields of a url-encoded body, each name with
/// its first value (URL-decoded), as the servlet parameter map gives them.
#[derive(Debug, Clone, Default)]
pub struct Params {
    map: HashMap<String, String>,
}

impl Params {
    /// Reads a query string and, optionally, a url-encoded body.
    pub fn parse(query: &str, form_body: Option<&[u8]>) -> Params {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
        if let Some(body) = form_body {
            for (k, v) in url::form_urlencoded::parse(body) {
                map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
            }
        }
        Params { map }
    }

    /// A parameter as sent (trimmed); `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }

    /// An integer parameter; a value that is not one is a `400`.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(s) => s
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::invalid(name)),
        }
    }

    /// A boolean parameter (`true`/`false`, `1`/`0`, `Y`/`N`).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(s) => parse_bool(s)
                .map(Some)
                .ok_or_else(|| ApiError::invalid(name)),
        }
    }

    /// A comma list of integers (`3,7`); a bad item is a `400`.
    pub fn int_list(&self, name: &str) -> Result<Vec<i64>, ApiError> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(s) => s
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| p.parse::<i64>().map_err(|_| ApiError::invalid(name)))
                .collect(),
        }
    }

    /// A comma list of words.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|s| {
                s.split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The paging of a list: `page` (1-based, default 1) and `pageSize` (default `default`,
    /// clamped to `max`).
    pub fn paging(&self, default: i64, max: i64) -> Result<Paging, ApiError> {
        let page = self.int("page")?.unwrap_or(1);
        let size = self.int("pageSize")?.unwrap_or(default);
        if page < 1 {
            return Err(ApiError::invalid("page"));
        }
        if size < 1 {
            return Err(ApiError::invalid("pageSize"));
        }
        Ok(Paging {
            page: page.min(MAX_PAGE),
            size: size.min(max),
        })
    }

    /// Every name and value (for the signature's parameter values).
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Reads `true`/`false`, `1`/`0`, `Y`/`N` (any case).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "y" | "yes" => Some(true),
        "false" | "0" | "n" | "no" => Some(false),
        _ => None,
    }
}

/// A page of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// 1-based page number.
    pub page: i64,
    /// Items per page.
    pub size: i64,
}

impl Paging {
    /// Rows to skip.
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.size
    }

    /// `ceil(total / size)`, 0 when there is nothing.
    pub fn pages(&self, total: i64) -> i64 {
        if total <= 0 {
            0
        } else {
            (total + self.size - 1) / self.size
        }
    }

    /// The slice of an in-memory list this page covers.
    pub fn slice<T: Clone>(&self, all: &[T]) -> Vec<T> {
        let start = usize::try_from(self.offset()).unwrap_or(usize::MAX);
        let size = usize::try_from(self.size).unwrap_or(0);
        all.iter().skip(start).take(size).cloned().collect()
    }
}

/// One `field:direction` of a `sort` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The field name.
    pub field: String,
    /// Descending.
    pub desc: bool,
}

/// Parses `sort` (`isTop:desc,createdDt:asc`): fields outside `allowed` are ignored, a missing
/// direction means ascending; when nothing usable remains, `default` applies.
pub fn parse_sort(value: Option<&str>, allowed: &[&str], default: &str) -> Vec<SortKey> {
    let parse = |s: &str| -> Vec<SortKey> {
        s.split(',')
            .filter_map(|part| {
                let mut it = part.splitn(2, ':');
                let field = it.next()?.trim();
                let dir = it.next().map(str::trim).unwrap_or("asc");
                if !allowed.contains(&field) {
                    return None;
                }
                Some(SortKey {
                    field: field.to_string(),
                    desc: dir.eq_ignore_ascii_case("desc"),
                })
            })
            .collect()
    };
    let keys = value.map(parse).unwrap_or_default();
    if keys.is_empty() {
        parse(default)
    } else {
        keys
    }
}

/// The content language: the requested code when the service offers it, else the default.
pub fn pick_lang(service: &Service, requested: Option<&str>) -> Lang {
    requested
        .and_then(Lang::parse)
        .filter(|l| service_langs(service).contains(l))
        .unwrap_or_else(|| default_lang(service))
}

/// Epoch milliseconds of a stored UTC time.
pub fn millis(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_millis()
}

/// The service's time zone.
pub fn tz_of(service: &Service) -> Tz {
    service.timezone.parse().unwrap_or(Tz::UTC)
}

/// `yyyy.MM.dd` of a UTC time in the service's zone (the `api/v2` `displayDt`).
pub fn display_dt(tz: Tz, t: NaiveDateTime) -> String {
    tz.from_utc_datetime(&t).format("%Y.%m.%d").to_string()
}

/// `yyyyMMddHHmmss` of a UTC time in the service's zone (legacy admin dates).
pub fn legacy_dt(tz: Tz, t: NaiveDateTime) -> String {
    tz.from_utc_datetime(&t).format("%Y%m%d%H%M%S").to_string()
}

/// Reads a legacy `yyyyMMddHHmmss` local time (or epoch milliseconds, C-43) into UTC.
pub fn parse_legacy_dt(tz: Tz, s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) {
        let naive = NaiveDateTime::parse_from_str(s, "%Y%m%d%H%M%S").ok()?;
        return tz
            .from_local_datetime(&naive)
            .earliest()
            .map(|d| d.naive_utc());
    }
    if !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_digit()) {
        let ms: i64 = s.parse().ok()?;
        return chrono::DateTime::from_timestamp_millis(ms).map(|d| d.naive_utc());
    }
    None
}

/// Whether a UTC time falls on today's date in the service's zone.
pub fn is_today(tz: Tz, t: NaiveDateTime) -> bool {
    let today = tz.from_utc_datetime(&crate::db::now()).date_naive();
    tz.from_utc_datetime(&t).date_naive() == today
}

/// A JSON object of names per language (`{"ko": "배송", "en": "Delivery"}`).
pub fn names_object(names: &std::collections::BTreeMap<String, String>) -> Value {
    Value::Object(
        names
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
            .collect::<Map<String, Value>>(),
    )
}

/// The middleware of the API scopes (`middleware::from_fn(envelope::errors)`): an error
/// response that carries no body (an extractor's or the router's refusal) becomes the
/// envelope with the same status, so an API caller never receives an HTML page or nothing.
pub async fn errors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    let empty = matches!(
        actix_web::body::MessageBody::size(res.response().body()),
        actix_web::body::BodySize::Sized(0) | actix_web::body::BodySize::None
    );
    if !(status.is_client_error() || status.is_server_error()) || !empty {
        return Ok(res);
    }
    let error = match status.as_u16() {
        404 => ApiError::NotFound,
        403 => ApiError::Forbidden("Access Denied".into()),
        s if s >= 500 => ApiError::Internal(format!("empty {s} response")),
        s => ApiError::Business(i32::from(s), status.canonical_reason().unwrap_or("").into()),
    };
    let (req, _) = res.into_parts();
    Ok(actix_web::dev::ServiceResponse::new(
        req,
        json_response(status, &error.body()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_and_sort() {
        let p = Params::parse("page=3&pageSize=500&page=9", None);
        let paging = p
            .paging(10, MAX_PAGE_SIZE)
            .unwrap_or(Paging { page: 0, size: 0 });
        assert_eq!(paging, Paging { page: 3, size: 200 });
        assert_eq!(paging.pages(401), 3);
        assert_eq!(paging.pages(0), 0);
        assert!(Params::parse("page=x", None).paging(10, 200).is_err());
        let s = parse_sort(
            Some("nope:desc,createdDt"),
            &["createdDt"],
            "updatedDt:desc",
        );
        assert_eq!(
            s,
            vec![SortKey {
                field: "createdDt".into(),
                desc: false
            }]
        );
        let d = parse_sort(None, &["updatedDt"], "updatedDt:desc");
        assert!(d[0].desc);
    }

    #[test]
    fn envelopes_have_the_documented_shapes() {
        let v = ApiError::Validation(vec![json!({"objectName": "mail"})]).body();
        assert_eq!(v["header"]["resultMessage"], Value::Null);
        assert_eq!(v["result"]["contents"][0]["objectName"], "mail");
        let e = ApiError::Exception("x".into()).body();
        assert_eq!(e["result"]["content"]["exception"], "OcException");
        assert_eq!(
            ApiError::Business(1002, "m".into()).status_code(),
            StatusCode::OK
        );
        assert_eq!(ApiError::NotFound.body()["result"], Value::Null);
    }

    #[test]
    fn legacy_times() {
        let tz: Tz = "Asia/Seoul".parse().unwrap_or(Tz::UTC);
        let t = parse_legacy_dt(tz, "20240610093000").unwrap_or_default();
        assert_eq!(legacy_dt(tz, t), "20240610093000");
        assert_eq!(display_dt(tz, t), "2024.06.10");
        assert_eq!(millis(t), 1_717_979_400_000);
        assert!(parse_legacy_dt(tz, "2024-06-10").is_none());
    }
}
