//! A Contiple API client written from API.md alone, independent of the server code: its own
//! HMAC-SHA256 (built from SHA-256 by hand), its own canonical string, its own member token.
//! The contract tests drive OpenContact only through it.

#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::Md5;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::TestApp;

/// HMAC-SHA256 (RFC 2104) from plain SHA-256.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    let outer = Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize();
    outer.into()
}

/// Base64 of the HMAC.
pub fn signature(key: &str, msg: &[u8]) -> String {
    STANDARD.encode(hmac_sha256(key.as_bytes(), msg))
}

fn pct_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let h = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap_or(b'?');
                out.push(h);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The canonical string of API.md §2.2 for a non-multipart request.
pub fn canonical(org: &str, path_and_query: &str, body: &[u8], ts: &str) -> Vec<u8> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let k = pct_decode(k);
        if !pairs.iter().any(|(n, _)| *n == k) {
            pairs.push((k, pct_decode(v)));
        }
    }
    pairs.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    let values: Vec<String> = pairs.into_iter().map(|(_, v)| v).collect();
    let mut s = format!("{org}{path}{}", values.join("&")).into_bytes();
    if !body.is_empty() {
        if !values.is_empty() {
            s.push(b'&');
        }
        s.extend_from_slice(body);
    }
    s.extend_from_slice(ts.as_bytes());
    s
}

/// The member token of API.md §3.1 (`&`-joined, blanks skipped).
pub fn member_token(key: &str, parts: &[&str]) -> String {
    let msg: Vec<&str> = parts
        .iter()
        .copied()
        .filter(|p| !p.trim().is_empty())
        .collect();
    signature(key, msg.join("&").as_bytes())
}

/// Epoch milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// An answer: HTTP status, headers and the JSON body (Null when not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub json: Value,
    pub bytes: Vec<u8>,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    /// `header.resultCode`.
    pub fn code(&self) -> i64 {
        self.json["header"]["resultCode"].as_i64().unwrap_or(-1)
    }

    /// `header.resultMessage`.
    pub fn message(&self) -> String {
        self.json["header"]["resultMessage"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// `result.content`.
    pub fn content(&self) -> &Value {
        &self.json["result"]["content"]
    }

    /// `result.contents`.
    pub fn contents(&self) -> Vec<Value> {
        self.json["result"]["contents"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Checks a failure envelope: code, HTTP status and `isSuccessful: false`.
    pub fn assert_failure(&self, code: i64, http: u16) {
        assert_eq!(self.code(), code, "resultCode of {:?}", self.json);
        assert_eq!(self.status, http, "HTTP status of {:?}", self.json);
        assert_eq!(self.json["header"]["isSuccessful"], false);
        assert!(
            self.content_type.starts_with("application/json"),
            "{}",
            self.content_type
        );
    }

    /// Checks success.
    pub fn assert_ok(&self) {
        assert_eq!(self.code(), 200, "{:?}", self.json);
        assert_eq!(self.status, 200);
        assert_eq!(self.json["header"]["isSuccessful"], true);
        assert_eq!(self.json["header"]["resultMessage"], "");
    }
}

/// A client of one service.
pub struct Api {
    pub base: String,
    pub service: String,
    pub org: String,
    pub key: String,
    pub http: reqwest::Client,
}

async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        json,
        bytes,
        headers,
    }
}

impl Api {
    /// Turns the Open API of `service_id` on and reads the org ID and key from the database.
    pub fn enable(app: &TestApp, service_id: i64, code: &str) -> Api {
        let secret = app.state.secret.clone();
        let key = app
            .state
            .db
            .write_blocking(move |c| {
                opencontact::tenancy::service::Service::enable_open_api(c, &secret, service_id)
            })
            .expect("enable");
        let org = app
            .state
            .db
            .write_blocking(|c| Ok(opencontact::tenancy::organization::Organization::find(c)?))
            .expect("org")
            .expect("org exists")
            .org_uid;
        Api {
            base: app.base.clone(),
            service: code.to_string(),
            org,
            key,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    /// `/{service}` + rest.
    pub fn path(&self, rest: &str) -> String {
        format!("/{}{}", self.service, rest)
    }

    /// An unsigned GET of a full path (the public family).
    pub async fn get(&self, path: &str) -> Answer {
        answer(
            self.http
                .get(format!("{}{}", self.base, path))
                .send()
                .await
                .expect("GET"),
        )
        .await
    }

    /// A signed request with a body of the given content type, with the timestamp `ts` and
    /// extra headers.
    pub async fn signed_with(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
        ts: &str,
        headers: &[(&str, &str)],
    ) -> Answer {
        let auth = signature(&self.key, &canonical(&self.org, path, body, ts));
        let mut b = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header("Authorization", auth)
            .header("X-TC-Timestamp", ts);
        if let Some(ct) = content_type {
            b = b.header("Content-Type", ct);
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        answer(b.body(body.to_vec()).send().await.expect("request")).await
    }

    /// A signed GET.
    pub async fn sget(&self, path: &str) -> Answer {
        self.signed_with(
            reqwest::Method::GET,
            path,
            Some("application/json"),
            b"",
            &now_ms().to_string(),
            &[],
        )
        .await
    }

    /// A signed request with a JSON body.
    pub async fn sjson(&self, method: reqwest::Method, path: &str, body: &Value) -> Answer {
        let text = body.to_string();
        self.signed_with(
            method,
            path,
            Some("application/json; charset=UTF-8"),
            text.as_bytes(),
            &now_ms().to_string(),
            &[],
        )
        .await
    }

    /// A signed POST with a JSON body.
    pub async fn spost(&self, path: &str, body: &Value) -> Answer {
        self.sjson(reqwest::Method::POST, path, body).await
    }

    /// A signed multipart upload of one `file` part (MD5 variant).
    pub async fn upload(&self, path: &str, name: &str, bytes: &[u8]) -> Answer {
        let ts = now_ms().to_string();
        let md5 = hex::encode(Md5::digest(bytes));
        let (p, _) = path.split_once('?').unwrap_or((path, ""));
        let msg = format!("{}{}{}{}", self.org, p, md5, ts);
        let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string());
        let form = reqwest::multipart::Form::new().part("file", part);
        answer(
            self.http
                .post(format!("{}{}", self.base, path))
                .header("Authorization", signature(&self.key, msg.as_bytes()))
                .header("X-TC-Timestamp", ts)
                .multipart(form)
                .send()
                .await
                .expect("upload"),
        )
        .await
    }
}

/// Percent-encodes a query value the way `encodeURIComponent` does.
pub fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
