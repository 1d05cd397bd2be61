//! The outbound call of the customer-info integration (API.md §4, §7.8): `POST {base URL}` with
//! a JSON object of the query values, `X-TC-Timestamp` (epoch ms) and — when the API signs its
//! messages — `Authorization = Base64(HMAC-SHA256(key, body + timestamp))` (`path + body +
//! timestamp` in the per-API "include request path" mode, C-28). The answer is read into an
//! [`Answer`]: the `data` object of a 200, or what went wrong, mapped as the documentation
//! maps HTTP statuses (400 no result, 403 refused, 404 remote error, anything else an error),
//! plus timeouts, unreachable hosts and answers that are not the documented JSON.
//!
//! Calls time out after five seconds and are never retried; redirects are not followed.

use std::sync::LazyLock;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::db::types::text_enum;
use crate::openapi::signing::sign;

/// Largest answer read.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

static CLIENT: LazyLock<Option<reqwest::Client>> = LazyLock::new(|| {
    reqwest::Client::builder()
        .user_agent(concat!("OpenContact/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .ok()
});

/// The signature of a call: `Base64(HMAC-SHA256(key, [path +] body + timestamp))`.
pub fn signature(key: &str, path: Option<&str>, body: &str, timestamp: &str) -> String {
    let mut msg = String::with_capacity(body.len() + 64);
    if let Some(p) = path {
        msg.push_str(p);
    }
    msg.push_str(body);
    msg.push_str(timestamp);
    sign(key.as_bytes(), msg.as_bytes())
}

text_enum! {
    /// How a lookup ended; the stored text is also the i18n key suffix
    /// (`customerinfo.outcome.<code>`).
    Outcome label "customerinfo.outcome." {
        /// 200 with a `data` object.
        Found => "found",
        /// 400: no matching result.
        NoResult => "no_result",
        /// 403: the remote server refuses.
        Denied => "denied",
        /// 404: the remote server has an error.
        RemoteError => "remote_error",
        /// Any other HTTP status.
        Failed => "failed",
        /// No answer within the time limit.
        Timeout => "timeout",
        /// The host could not be reached.
        Unreachable => "unreachable",
        /// A 200 whose body is not `{"data": {…}}`, or an answer too large.
        BadPayload => "bad_payload",
        /// A required query value was missing or invalid: nothing was sent.
        MissingValues => "missing_values",
        /// The Open API or the customer-info feature is off: nothing was sent.
        Disabled => "disabled",
    }
}

impl Outcome {
    /// The outcome of an HTTP status other than 200 (API.md §7.8 table).
    pub fn of_status(status: u16) -> Outcome {
        match status {
            400 => Outcome::NoResult,
            403 => Outcome::Denied,
            404 => Outcome::RemoteError,
            _ => Outcome::Failed,
        }
    }
}

/// What a call came to.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Outcome.
    pub outcome: Outcome,
    /// HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// The `data` object of a successful answer.
    pub data: Option<Map<String, Value>>,
    /// The remote `error.code` and `error.message` (either may be a string or a number, C-29),
    /// bounded, for the agent.
    pub remote_message: String,
}

impl Answer {
    fn failed(outcome: Outcome) -> Answer {
        Answer {
            outcome,
            status: None,
            data: None,
            remote_message: String::new(),
        }
    }
}

/// `error.code` / `error.message` of a failure body, as one line.
fn remote_error(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return String::new();
    };
    let Some(err) = v.get("error") else {
        return String::new();
    };
    let text = |x: Option<&Value>| match x {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let code = text(err.get("code"));
    let message = text(err.get("message"));
    let line = match (code.is_empty(), message.is_empty()) {
        (true, true) => String::new(),
        (false, true) => code,
        (true, false) => message,
        (false, false) => format!("{code}: {message}"),
    };
    line.chars().take(300).collect()
}

/// Reads the answer's body, stopping past [`MAX_ANSWER_BYTES`] (`None`).
async fn read_body(mut resp: reqwest::Response) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

fn transport(e: &reqwest::Error) -> Outcome {
    if e.is_timeout() {
        Outcome::Timeout
    } else if e.is_connect() {
        Outcome::Unreachable
    } else {
        Outcome::Failed
    }
}

/// Calls an API: `POST url` with `body` (already serialised JSON), signed with `key` when
/// given; the whole call may take `timeout`. Never fails: every problem is an [`Outcome`].
pub async fn call(
    url: &str,
    key: Option<&str>,
    sign_path: bool,
    body: &str,
    timeout: Duration,
) -> Answer {
    let Some(client) = CLIENT.as_ref() else {
        return Answer::failed(Outcome::Failed);
    };
    let timestamp = chrono::Utc::now().timestamp_millis().to_string();
    let mut req = client
        .post(url)
        .timeout(timeout)
        .header("Content-Type", "application/json; charset=UTF-8")
        .header("Accept", "application/json")
        .header("X-TC-Timestamp", &timestamp)
        .body(body.to_string());
    if let Some(k) = key {
        let path = if sign_path {
            url::Url::parse(url).ok().map(|u| u.path().to_string())
        } else {
            None
        };
        req = req.header(
            "Authorization",
            signature(k, path.as_deref(), body, &timestamp),
        );
    }
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return Answer::failed(transport(&e)),
    };
    let status = resp.status().as_u16();
    let bytes = match read_body(resp).await {
        Ok(Some(b)) => b,
        Ok(None) => {
            return Answer {
                status: Some(status),
                ..Answer::failed(Outcome::BadPayload)
            };
        }
        Err(e) => {
            return Answer {
                status: Some(status),
                ..Answer::failed(transport(&e))
            };
        }
    };
    if status != 200 {
        return Answer {
            outcome: Outcome::of_status(status),
            status: Some(status),
            data: None,
            remote_message: remote_error(&bytes),
        };
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(mut o)) => match o.remove("data") {
            Some(Value::Object(data)) => Answer {
                outcome: Outcome::Found,
                status: Some(status),
                data: Some(data),
                remote_message: String::new(),
            },
            _ => Answer {
                status: Some(status),
                ..Answer::failed(Outcome::BadPayload)
            },
        },
        _ => Answer {
            status: Some(status),
            ..Answer::failed(Outcome::BadPayload)
        },
    }
}

/// The value of a (dotted) data name in `data`, as text: strings as they are, numbers and
/// booleans written out, `null` empty, arrays and objects as compact JSON.
pub fn value_at(data: &Map<String, Value>, name: &str) -> Option<String> {
    let found = match data.get(name) {
        Some(v) => Some(v),
        None => {
            let mut parts = name.split('.');
            let first = parts.next()?;
            let mut cur = data.get(first)?;
            for p in parts {
                cur = match cur {
                    Value::Object(o) => o.get(p)?,
                    Value::Array(a) => a.get(p.parse::<usize>().ok()?)?,
                    _ => return None,
                };
            }
            Some(cur)
        }
    }?;
    Some(match found {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_vector() {
        assert_eq!(
            signature(
                "9d8c7b6a5f4e3d2c1b0a9988",
                None,
                r#"{"callNum":"1001","nation":"KR"}"#,
                "1700000000000"
            ),
            "Hp/7yLPes5S5Cqu3oWPRISYBd7eg65A+KPRJd60iLBU="
        );
    }

    #[test]
    fn values_and_errors() {
        let data: Map<String, Value> = serde_json::from_str(
            r#"{"name":"Ann","points":1200,"vip":true,"none":null,"profile":{"grade":"gold"},"tags":["a","b"]}"#,
        )
        .unwrap_or_default();
        assert_eq!(value_at(&data, "name").as_deref(), Some("Ann"));
        assert_eq!(value_at(&data, "points").as_deref(), Some("1200"));
        assert_eq!(value_at(&data, "vip").as_deref(), Some("true"));
        assert_eq!(value_at(&data, "none").as_deref(), Some(""));
        assert_eq!(value_at(&data, "profile.grade").as_deref(), Some("gold"));
        assert_eq!(value_at(&data, "tags.1").as_deref(), Some("b"));
        assert_eq!(value_at(&data, "tags").as_deref(), Some(r#"["a","b"]"#));
        assert_eq!(value_at(&data, "missing"), None);
        assert_eq!(
            remote_error(br#"{"error":{"code":911,"message":"No such user","detail":null}}"#),
            "911: No such user"
        );
        assert_eq!(remote_error(br#"{"error":{"code":"E1"}}"#), "E1");
        assert_eq!(remote_error(b"<html>"), "");
        assert_eq!(Outcome::of_status(500), Outcome::Failed);
        assert_eq!(Outcome::parse("no_result"), Some(Outcome::NoResult));
    }
}
