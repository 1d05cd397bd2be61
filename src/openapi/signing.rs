//! Request signing of the `openapi` families (API.md §2): the canonical string is the
//! organization ID, the request path, the parameter values sorted by name, the body and the
//! timestamp (the file's MD5 instead of parameters and body for multipart uploads), signed with
//! HMAC-SHA256 under the service key and sent as Base64. Also the compatibility candidates of
//! §2.4, the ±5-minute window, the accepted signatures kept in the database (`api_replay_guard`)
//! until their window ends so that a replay is refused by every process sharing the database,
//! and the allowed-IP list.
//!
//! [`verify_call`] runs the gates in the order of §2.3 and hands the handler a [`SignedCall`]
//! with the service, the parameters and the body it read.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::NaiveDateTime;
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use ipnet::IpNet;
use md5::{Digest, Md5};
use sha2::Sha256;

use crate::AppState;
use crate::crypto::constant_time_eq;
use crate::db::schema::{api_replay_guard, users};
use crate::db::{Db, DbConn};
use crate::tenancy::organization::Organization;
use crate::tenancy::service::Service;
use crate::tenancy::user::User;

use super::envelope::{ApiError, Params};
use super::settings::ApiSettings;

/// Accepted clock difference between caller and server (API.md C-49).
pub const WINDOW_MS: i64 = 5 * 60 * 1000;
/// Largest non-multipart body read (JSON, form, text).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest upload file accepted (API.md §7.4.3: ≤ 10 485 760 bytes).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Largest multipart body read; beyond it the upload is refused as too large unread.
const MAX_MULTIPART_BYTES: usize = MAX_FILE_BYTES + 1024 * 1024;

/// `Base64(HMAC-SHA256(key, message))`, standard alphabet with padding.
pub fn sign(key: &[u8], message: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(message);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Lowercase hex MD5 of some bytes.
pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

/// Percent-decoding of a query component (`+` is a space), lossy for invalid UTF-8.
fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Ordinal comparison by UTF-16 code units, as `String.compareTo` in the reference server.
fn utf16_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `(decoded name, decoded value, raw value)` of each name's first occurrence, sorted by name.
fn first_values(sources: &[&str]) -> Vec<(String, String, String)> {
    let mut seen: Vec<(String, String, String)> = Vec::new();
    for source in sources {
        for part in source.split('&').filter(|p| !p.is_empty()) {
            let (raw_name, raw_value) = part.split_once('=').unwrap_or((part, ""));
            let name = decode(raw_name);
            if seen.iter().any(|(n, _, _)| *n == name) {
                continue;
            }
            seen.push((name, decode(raw_value), raw_value.to_string()));
        }
    }
    seen.sort_by(|a, b| utf16_cmp(&a.0, &b.0));
    seen
}

/// What the canonical string is built from.
#[derive(Debug, Clone)]
pub struct CanonicalInput<'a> {
    /// The organization ID.
    pub org_id: &'a str,
    /// The request path as sent (percent-escapes kept).
    pub path: &'a str,
    /// The raw query string.
    pub query: &'a str,
    /// The raw body of an `application/x-www-form-urlencoded` request.
    pub form_body: Option<&'a [u8]>,
    /// The raw body of any other non-multipart request.
    pub body: &'a [u8],
    /// For multipart uploads: the MD5 hex of the `file` part.
    pub file_md5: Option<&'a str>,
    /// The `X-TC-Timestamp` value as received.
    pub ts: &'a str,
}

fn assemble(org: &str, path: &str, values: &[String], body: &[u8], ts: &str) -> Vec<u8> {
    let mut s = Vec::with_capacity(org.len() + path.len() + body.len() + 64);
    s.extend_from_slice(org.as_bytes());
    s.extend_from_slice(path.as_bytes());
    s.extend_from_slice(values.join("&").as_bytes());
    if !body.is_empty() {
        if !values.is_empty() {
            s.push(b'&');
        }
        s.extend_from_slice(body);
    }
    s.extend_from_slice(ts.as_bytes());
    s
}

/// The strict canonical string of §2.2 (candidate (a)).
pub fn canonical(input: &CanonicalInput<'_>) -> Vec<u8> {
    candidates(input).into_iter().next().unwrap_or_default()
}

/// Every canonical string a valid request may have been signed over (§2.2 and the
/// compatibility candidates (b)–(d) of §2.4), the strict one first.
pub fn candidates(input: &CanonicalInput<'_>) -> Vec<Vec<u8>> {
    if let Some(md5) = input.file_md5 {
        return vec![assemble(
            input.org_id,
            input.path,
            &[],
            md5.as_bytes(),
            input.ts,
        )];
    }
    let form = input
        .form_body
        .map(|b| String::from_utf8_lossy(b).into_owned());
    let mut sources = vec![input.query];
    if let Some(f) = form.as_deref() {
        sources.push(f);
    }
    let all = first_values(&sources);
    let decoded: Vec<String> = all.iter().map(|(_, v, _)| v.clone()).collect();
    let raw: Vec<String> = all.iter().map(|(_, _, r)| r.clone()).collect();
    let body = input.body;
    let blank = body.iter().all(u8::is_ascii_whitespace);
    let mut out = vec![
        assemble(input.org_id, input.path, &decoded, body, input.ts),
        assemble(input.org_id, input.path, &raw, body, input.ts),
    ];
    if let Some(f) = input.form_body {
        let query_only: Vec<String> = first_values(&[input.query])
            .into_iter()
            .map(|(_, v, _)| v)
            .collect();
        out.push(assemble(input.org_id, input.path, &query_only, f, input.ts));
    }
    if blank && !body.is_empty() {
        out.push(assemble(input.org_id, input.path, &decoded, &[], input.ts));
        out.push(assemble(input.org_id, input.path, &raw, &[], input.ts));
    }
    out.dedup();
    out
}

/// Whether `provided` is the signature of any candidate under `key` (constant-time compare).
pub fn verify_signature(key: &str, input: &CanonicalInput<'_>, provided: &str) -> bool {
    let provided = provided.trim();
    let mut ok = false;
    for c in candidates(input) {
        ok |= constant_time_eq(sign(key.as_bytes(), &c).as_bytes(), provided.as_bytes());
    }
    ok
}

/// Why a timestamp is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampError {
    /// Missing or not all digits.
    NotNumeric,
    /// More than the window away from `now`.
    Expired,
}

/// Checks `X-TC-Timestamp` against `now_ms` (±[`WINDOW_MS`]).
pub fn check_timestamp(ts: &str, now_ms: i64) -> Result<i64, TimestampError> {
    let ts = ts.trim();
    if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TimestampError::NotNumeric);
    }
    let value: i64 = ts.parse().map_err(|_| TimestampError::Expired)?;
    if (value - now_ms).abs() > WINDOW_MS {
        return Err(TimestampError::Expired);
    }
    Ok(value)
}

/// Extra time a used signature is kept beyond the end of its window, for clock differences
/// between the processes that share the database.
const REPLAY_MARGIN_MS: i64 = 60 * 1000;
/// One claim in this many also deletes the expired signatures (per process).
const PRUNE_EVERY: u64 = 64;
/// Claims made by this process (drives the occasional pruning).
static CLAIMS: AtomicU64 = AtomicU64::new(0);

/// The stored form of a signature used in a scope: hex SHA-256 of `scope`, a newline and the
/// signature (the signature covers the timestamp, so each accepted call has its own).
pub fn replay_key(scope: &str, signature: &str) -> String {
    hex::encode(Sha256::digest(
        format!("{scope}\n{}", signature.trim()).as_bytes(),
    ))
}

fn utc_of_millis(ms: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.naive_utc())
        .unwrap_or_default()
}

/// Records a used signature inside the caller's transaction: `true` for its first use, `false`
/// when it is already recorded and not expired (a replay). The insert either wins or meets the
/// row another call (of any process) wrote, so two processes never both accept one signature.
/// A row left over from an expired use is taken over. `prune` also deletes every expired row.
pub fn claim(
    conn: &mut DbConn,
    key: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
    prune: bool,
) -> QueryResult<bool> {
    if prune {
        diesel::delete(api_replay_guard::table.filter(api_replay_guard::expires_at.lt(now)))
            .execute(conn)?;
    }
    let inserted = crate::db_dispatch!(conn, |c| diesel::insert_into(api_replay_guard::table)
        .values((
            api_replay_guard::signature_hash.eq(key),
            api_replay_guard::expires_at.eq(until),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 1 {
        return Ok(true);
    }
    let taken = diesel::update(
        api_replay_guard::table
            .filter(api_replay_guard::signature_hash.eq(key))
            .filter(api_replay_guard::expires_at.le(now)),
    )
    .set(api_replay_guard::expires_at.eq(until))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Remembers the accepted signature of a call in the database until its timestamp `ts_ms`
/// leaves the window; `false` when it was already used (a replay, refused by every process
/// sharing the database).
pub async fn first_use(
    db: &Db,
    scope: &str,
    signature: &str,
    ts_ms: i64,
    now_ms: i64,
) -> Result<bool, ApiError> {
    let key = replay_key(scope, signature);
    let now = utc_of_millis(now_ms);
    let until = utc_of_millis(ts_ms.max(now_ms) + WINDOW_MS + REPLAY_MARGIN_MS);
    let prune = CLAIMS
        .fetch_add(1, Ordering::Relaxed)
        .is_multiple_of(PRUNE_EVERY);
    db.write(move |c| Ok(claim(c, &key, now, until, prune)?))
        .await
        .map_err(ApiError::from)
}

/// Parses an allowed-IP list (one address or CIDR range per line, or separated by commas or
/// spaces). Returns the ranges, or the first entry that is neither.
pub fn parse_allowed_ips(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if let Ok(net) = s.parse::<IpNet>() {
                Ok(net.trunc())
            } else if let Ok(ip) = s.parse::<IpAddr>() {
                Ok(IpNet::from(ip))
            } else {
                Err(s.to_string())
            }
        })
        .collect()
}

/// Whether `ip` is inside one of the ranges (IPv4-mapped IPv6 addresses count as IPv4).
pub fn ip_allowed(ranges: &[IpNet], ip: &str) -> bool {
    let Ok(addr) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    let addr = match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    };
    ranges.iter().any(|r| r.contains(&addr))
}

/// The `file` part of a multipart upload.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    /// The client's file name (path parts removed).
    pub name: String,
    /// The bytes (at most [`MAX_FILE_BYTES`] + 1 are kept).
    pub bytes: Vec<u8>,
    /// The full size sent.
    pub size: usize,
    /// Lowercase hex MD5 of everything sent.
    pub md5: String,
}

impl UploadedFile {
    /// Whether the file is over the limit.
    pub fn too_large(&self) -> bool {
        self.size > MAX_FILE_BYTES
    }
}

/// A verified call of a signed family.
pub struct SignedCall {
    /// Shared state.
    pub state: web::Data<AppState>,
    /// The service in the path.
    pub service: Service,
    /// Query and form parameters.
    pub params: Params,
    /// The raw body (empty for multipart and form requests).
    pub body: web::Bytes,
    /// Whether the body was JSON (by content type, or by shape when untyped).
    pub json: bool,
    /// The uploaded file of a multipart request.
    pub file: Option<UploadedFile>,
    /// The caller's address.
    pub client_ip: String,
    /// The end user's address (`OC-Client-IP`), for the spam policy.
    pub end_user_ip: Option<String>,
    /// `OUCODE`: the acting staff user's login.
    pub oucode: Option<String>,
}

impl SignedCall {
    /// The body as JSON; a malformed body is a `400`. An empty body reads as `{}`.
    pub fn json_body(&self) -> Result<serde_json::Value, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Value::Object(serde_json::Map::new()));
        }
        serde_json::from_slice(&self.body)
            .map_err(|_| ApiError::BadRequest("Request body is not valid JSON".into()))
    }

    /// The staff user acting: the `OUCODE` login when it names an active user, else the
    /// organization's first administrator (API.md §2.1).
    pub fn actor(&self, conn: &mut DbConn) -> Result<User, ApiError> {
        acting_user(conn, self.oucode.as_deref())
    }
}

/// The staff user acting for a signed call: the `OUCODE` login when it names an active user,
/// else the organization's first administrator (API.md §2.1).
pub fn acting_user(conn: &mut DbConn, oucode: Option<&str>) -> Result<User, ApiError> {
    if let Some(code) = oucode
        && let Some(u) = User::find_by_login(conn, code)?
        && u.active
    {
        return Ok(u);
    }
    users::table
        .filter(users::is_org_admin.eq(true))
        .filter(users::active.eq(true))
        .order(users::id.asc())
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::Internal("no active organization administrator".into()))
}

use diesel::prelude::*;

/// A request header, trimmed; `None` when absent or blank.
pub(crate) fn header(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The request's content type, lower-cased.
pub(crate) fn content_type(req: &HttpRequest) -> String {
    header(req, CONTENT_TYPE.as_str())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The parts of a signed request that [`verify_and_claim`] checks.
pub(crate) struct SignedParts<'a> {
    /// The organization ID that starts the canonical string.
    pub org_uid: &'a str,
    /// The signing key (service or organization key).
    pub key: &'a str,
    /// Whether the body is a form (its values are signed like query values).
    pub form: bool,
    /// The raw body (empty for multipart).
    pub body: &'a [u8],
    /// The uploaded file's MD5 (multipart).
    pub file_md5: Option<&'a str>,
    /// `X-TC-Timestamp` as sent.
    pub ts: &'a str,
    /// The timestamp in milliseconds (already checked against the window).
    pub ts_ms: i64,
    /// Now, in milliseconds.
    pub now_ms: i64,
    /// The `Authorization` header.
    pub authorization: &'a str,
    /// The replay scope: whose key signed (`svc<id>`, `org<id>`).
    pub scope: String,
}

/// Checks a request's signature (API.md §2.2, with the base URL's path prefix accepted both
/// with and without it) and claims it against replays (§2.3): `Authorization is incorrect` or
/// `X-TC-Timestamp is already used` otherwise.
pub(crate) async fn verify_and_claim(
    state: &AppState,
    req: &HttpRequest,
    p: &SignedParts<'_>,
) -> Result<(), ApiError> {
    let path = req.uri().path().to_string();
    let query = req.query_string();
    let mut paths = vec![path.clone()];
    if let Some(prefix) = base_prefix(state)
        && !path.starts_with(&format!("{prefix}/"))
    {
        paths.push(format!("{prefix}{path}"));
    }
    let valid = paths.iter().any(|path| {
        let input = CanonicalInput {
            org_id: p.org_uid,
            path,
            query,
            form_body: p.form.then_some(p.body),
            body: if p.form { &[] } else { p.body },
            file_md5: p.file_md5,
            ts: p.ts,
        };
        verify_signature(p.key, &input, p.authorization)
    });
    if !valid {
        return Err(ApiError::BadRequest("Authorization is incorrect".into()));
    }
    if !first_use(&state.db, &p.scope, p.authorization, p.ts_ms, p.now_ms).await? {
        return Err(ApiError::BadRequest(
            "X-TC-Timestamp is already used".into(),
        ));
    }
    Ok(())
}

/// The path prefix of the configured base URL (`/oc` for `https://x.example/oc`), if any.
pub(crate) fn base_prefix(state: &AppState) -> Option<String> {
    let url = url::Url::parse(&state.config.base_url).ok()?;
    let p = url.path().trim_end_matches('/');
    (!p.is_empty()).then(|| p.to_string())
}

/// The service of the path with its gate data, or the gate's refusal (§2.3 steps 1–3).
async fn load_gate(
    state: &web::Data<AppState>,
    code: String,
) -> Result<(Service, String, ApiSettings, Option<String>), ApiError> {
    let secret = state.secret.clone();
    state
        .db
        .read(move |c| {
            let Some(service) = Service::find_by_code(c, &code)?.filter(|s| s.enabled) else {
                return Ok(None);
            };
            let org = Organization::find(c)?;
            let settings = ApiSettings::load(c, service.id)?;
            let key = service
                .service_key_enc
                .as_deref()
                .and_then(|k| secret.decrypt(k))
                .filter(|_| service.open_api_enabled);
            let org_uid = org.map(|o| o.org_uid).unwrap_or_default();
            Ok(Some((service, org_uid, settings, key)))
        })
        .await
        .map_err(ApiError::from)?
        .ok_or(ApiError::NotFound)
}

/// Reads a non-multipart body (at most [`MAX_BODY_BYTES`]).
pub(crate) async fn read_plain(payload: &mut web::Payload) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::BadRequest("Request body is unreadable".into()))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::BadRequest("Request body is too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

enum MultipartRead {
    File(Option<UploadedFile>),
    TooLarge,
}

async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<MultipartRead, ApiError> {
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    let mut file: Option<UploadedFile> = None;
    let mut total = 0usize;
    while let Some(part) = parts.next().await {
        let mut part =
            part.map_err(|_| ApiError::BadRequest("Multipart request is malformed".into()))?;
        let is_file = part.name() == Some("file") && file.is_none();
        let name = part
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(|n| {
                n.rsplit(['/', '\\'])
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string()
            })
            .unwrap_or_default();
        let mut hasher = Md5::new();
        let mut bytes = Vec::new();
        let mut size = 0usize;
        while let Some(chunk) = part.next().await {
            let chunk =
                chunk.map_err(|_| ApiError::BadRequest("Multipart request is malformed".into()))?;
            total += chunk.len();
            if total > MAX_MULTIPART_BYTES {
                return Ok(MultipartRead::TooLarge);
            }
            if is_file {
                hasher.update(&chunk);
                size += chunk.len();
                if bytes.len() <= MAX_FILE_BYTES {
                    let room = MAX_FILE_BYTES + 1 - bytes.len();
                    bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
            }
        }
        if is_file {
            file = Some(UploadedFile {
                name,
                bytes,
                size,
                md5: hex::encode(hasher.finalize()),
            });
        }
    }
    Ok(MultipartRead::File(file))
}

/// What [`verify_call`] refuses multipart uploads over the size limit with (the upload error
/// shape, so a client sees the same message as for a file just over 10 MB).
pub type TooLargeMessage = fn(&HttpRequest) -> String;

/// Runs the gates and the signature check of §2.3 on a request of a signed family and reads
/// its body. `too_large` gives the message for an upload whose body exceeds every limit.
pub async fn verify_call(
    req: &HttpRequest,
    mut payload: web::Payload,
    too_large: TooLargeMessage,
) -> Result<SignedCall, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("app state missing".into()))?;
    let code = req
        .match_info()
        .get("service_id")
        .unwrap_or_default()
        .to_string();
    let (service, org_uid, settings, key) = load_gate(&state, code).await?;
    let Some(key) = key else {
        return Err(ApiError::Forbidden("securityKey is null".into()));
    };
    let client_ip = crate::web::client_ip(req, state.config.trust_forwarded);
    let ranges = settings.ranges();
    if !ranges.is_empty() && !ip_allowed(&ranges, &client_ip) {
        return Err(ApiError::Forbidden("clientIp is not allowed".into()));
    }
    let Some(authorization) = header(req, "Authorization") else {
        return Err(ApiError::BadRequest("Authorization is blank".into()));
    };
    let ts = header(req, "X-TC-Timestamp").unwrap_or_default();
    let now_ms = crate::db::now().and_utc().timestamp_millis();
    let ts_ms = match check_timestamp(&ts, now_ms) {
        Err(TimestampError::NotNumeric) => {
            return Err(ApiError::BadRequest("X-TC-Timestamp is not numeric".into()));
        }
        Err(TimestampError::Expired) => {
            return Err(ApiError::BadRequest("X-TC-Timestamp is expired".into()));
        }
        Ok(v) => v,
    };
    let ct = content_type(req);
    let multipart = ct.starts_with("multipart/form-data");
    let form = ct.starts_with("application/x-www-form-urlencoded");
    let (body, file) = if multipart {
        match read_multipart(req, payload).await? {
            MultipartRead::TooLarge => return Err(ApiError::Exception(too_large(req))),
            MultipartRead::File(None) => {
                return Err(ApiError::BadRequest(
                    "Multipart request but file is null".into(),
                ));
            }
            MultipartRead::File(Some(f)) => (web::Bytes::new(), Some(f)),
        }
    } else {
        (read_plain(&mut payload).await?, None)
    };
    let query = req.query_string().to_string();
    verify_and_claim(
        &state,
        req,
        &SignedParts {
            org_uid: &org_uid,
            key: &key,
            form,
            body: &body,
            file_md5: file.as_ref().map(|f| f.md5.as_str()),
            ts: &ts,
            ts_ms,
            now_ms,
            authorization: &authorization,
            scope: format!("svc{}", service.id),
        },
    )
    .await?;
    let params = Params::parse(&query, form.then_some(&body[..]));
    let trimmed = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let json = ct.contains("json") || (!form && matches!(trimmed, Some(b'{') | Some(b'[')));
    Ok(SignedCall {
        state,
        service,
        params,
        body: if form { web::Bytes::new() } else { body },
        json,
        file,
        client_ip,
        end_user_ip: header(req, "OC-Client-IP").map(|s| s.chars().take(64).collect()),
        oucode: header(req, "OUCODE").map(|s| s.chars().take(100).collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "Xq7Lm2Pz9Rt4Vw1K";
    const KEY: &str = "5f2b9c0e7a1d4e3f8b6a2c9d0e1f3a4b";
    const TS: &str = "1700000000000";

    fn input<'a>(path: &'a str, query: &'a str, body: &'a [u8]) -> CanonicalInput<'a> {
        CanonicalInput {
            org_id: ORG,
            path,
            query,
            form_body: None,
            body,
            file_md5: None,
            ts: TS,
        }
    }

    fn sig(i: &CanonicalInput<'_>) -> String {
        sign(KEY.as_bytes(), &canonical(i))
    }

    #[test]
    fn worked_vectors_of_api_md() {
        let a = input(
            "/acme/openapi/v1/ticket/enduser/user-42/list.json",
            "status=open&categoryId=12&language=en",
            b"",
        );
        assert_eq!(
            String::from_utf8_lossy(&canonical(&a)),
            "Xq7Lm2Pz9Rt4Vw1K/acme/openapi/v1/ticket/enduser/user-42/list.json12&en&open1700000000000"
        );
        assert_eq!(sig(&a), "Dok1CcGJCmObzvlSiEovYQH90O+5v1T9vvpfO+C3448=");
        let b_body = br#"{"categoryId":12,"subject":"Login problem","content":"I cannot log in.","endUser":{"email":"ann@example.com","username":"Ann"}}"#;
        let b = input("/acme/openapi/v1/ticket.json", "language=en", b_body);
        assert_eq!(sig(&b), "o79E3K2sdf+HVYxIDeZZ9ST7ptKPX1u+aElrWdYHFLI=");
        let c_body = br##"{"name":"Acme Support","displayMail":"help@acme.example","template":"<p>#{content}</p>"}"##;
        let c = input("/acme/openapi/v1/mail.json", "", c_body);
        assert_eq!(sig(&c), "GEm0PYp8V5bsp1X6IFunXp+UYfDyhY9GntOoHLyeueg=");
        let md5 = md5_hex(b"hello world\n");
        assert_eq!(md5, "6f5902ac237024bdd0c176cb93063dc4");
        let d = CanonicalInput {
            file_md5: Some(&md5),
            ..input("/acme/openapi/v1/ticket/attachments/upload.json", "", b"")
        };
        assert_eq!(sig(&d), "n8gGbI5+5ax96TG5E/bbr0P5z8gu9KVuPEqN73a+/hc=");
        let e = input("/acme/openapi/v1/mail.json", "", b"");
        assert_eq!(sig(&e), "YFiJTAzr7JTFEMvII4rsr5KfuuBCMtnz9K4qPU4bUsA=");
        let f = input(
            "/acme/openapi/v1/ticket/enduser/user-42/T1700000000000AbCdE/comment.json",
            "attachments=a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "{\"comment\":\"추가 문의입니다\"}".as_bytes(),
        );
        assert_eq!(sig(&f), "I82jauB/NCmIQxmxBRgOLDQC+SrdaKmIzK/eDyt1iP0=");
        assert!(verify_signature(KEY, &f, &sig(&f)));
        assert!(!verify_signature(KEY, &f, &sig(&e)));
    }

    #[test]
    fn lenient_candidates() {
        let i = input("/a/openapi/v1/x.json", "q=a%20b&e=&z=1", b"  ");
        let strict = String::from_utf8_lossy(&canonical(&i)).into_owned();
        assert!(strict.ends_with("/a/openapi/v1/x.json&a b&1&  1700000000000"));
        let raw = sign(
            KEY.as_bytes(),
            b"Xq7Lm2Pz9Rt4Vw1K/a/openapi/v1/x.json&a%20b&11700000000000",
        );
        assert!(verify_signature(KEY, &i, &raw), "raw values, blank body");
        let form = CanonicalInput {
            form_body: Some(b"b=2&a=1"),
            ..input("/a/openapi/v1/x.json", "c=3", b"")
        };
        let c = sign(
            KEY.as_bytes(),
            b"Xq7Lm2Pz9Rt4Vw1K/a/openapi/v1/x.json3&b=2&a=11700000000000",
        );
        assert!(verify_signature(KEY, &form, &c));
        let a = sign(
            KEY.as_bytes(),
            b"Xq7Lm2Pz9Rt4Vw1K/a/openapi/v1/x.json1&2&31700000000000",
        );
        assert!(verify_signature(KEY, &form, &a));
        assert_eq!(utf16_cmp("Z", "a"), std::cmp::Ordering::Less);
    }

    #[test]
    fn used_signatures_are_refused_until_they_expire() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("r.db").display());
        let db = Db::connect(&url, 1).expect("db");
        db.migrate().expect("migrate");
        let key = replay_key("svc1", " sig-1 ");
        assert_eq!(key, replay_key("svc1", "sig-1"));
        assert_ne!(key, replay_key("svc2", "sig-1"), "scoped");
        let t = |ms: i64| utc_of_millis(1_700_000_000_000 + ms);
        let until = t(WINDOW_MS);
        let claim_at = |now: NaiveDateTime, prune: bool| {
            let k = key.clone();
            db.write_blocking(move |c| Ok(claim(c, &k, now, until, prune)?))
                .expect("claim")
        };
        assert!(claim_at(t(0), false), "first use");
        assert!(!claim_at(t(1000), false), "replay inside the window");
        assert!(!claim_at(t(WINDOW_MS - 1), true), "pruning keeps live rows");
        assert!(
            claim_at(t(WINDOW_MS + 1), false),
            "an expired use is taken over"
        );
        let rows = |db: &Db| {
            db.write_blocking(|c| Ok(api_replay_guard::table.count().get_result::<i64>(c)?))
                .expect("count")
        };
        assert_eq!(rows(&db), 1);
        let other = replay_key("svc1", "sig-2");
        db.write_blocking(move |c| Ok(claim(c, &other, t(3 * WINDOW_MS), t(4 * WINDOW_MS), true)?))
            .expect("claim");
        assert_eq!(rows(&db), 1, "the expired row was pruned");
    }

    #[test]
    fn timestamps_and_ips() {
        assert_eq!(check_timestamp("", 0), Err(TimestampError::NotNumeric));
        assert_eq!(check_timestamp("12a", 0), Err(TimestampError::NotNumeric));
        assert_eq!(check_timestamp("-5", 0), Err(TimestampError::NotNumeric));
        assert_eq!(check_timestamp("300001", 0), Err(TimestampError::Expired));
        assert_eq!(check_timestamp("300000", 600_000), Ok(300_000));
        assert_eq!(
            check_timestamp("99999999999999999999999", 0),
            Err(TimestampError::Expired)
        );
        let ranges =
            parse_allowed_ips("203.0.113.5\n10.0.0.0/8, 2001:db8::/32").unwrap_or_default();
        assert_eq!(ranges.len(), 3);
        assert!(ip_allowed(&ranges, "203.0.113.5"));
        assert!(ip_allowed(&ranges, "10.20.30.40"));
        assert!(ip_allowed(&ranges, "::ffff:10.1.1.1"));
        assert!(ip_allowed(&ranges, "2001:db8::1"));
        assert!(!ip_allowed(&ranges, "203.0.113.6"));
        assert!(!ip_allowed(&ranges, "unknown"));
        assert_eq!(
            parse_allowed_ips("10.0.0.0/33"),
            Err("10.0.0.0/33".to_string())
        );
    }
}
