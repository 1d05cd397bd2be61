//! The calls OpenContact makes to Dooray's REST API (Dooray! API guide, "Project" and
//! "Common" sections), with the organization's tenant token in
//! `Authorization: dooray-api {token}` and JSON bodies:
//!
//! - `POST /project/v1/projects/{project}/posts` creates the task
//!   (`{subject, body:{mimeType, content}, users:{from, to, cc}, tagIds, priority}`),
//!   answered `{header:{isSuccessful, resultCode, resultMessage}, result:{id}}`;
//! - `GET /project/v1/projects/{project}/posts/{post}` reads its number and workflow;
//! - `POST /project/v1/projects/{project}/posts/{post}/logs` adds a comment
//!   (`{body:{mimeType, content}, creator}`), answered with the comment's `result.id`;
//! - `GET /project/v1/projects/{project}/members/{member}` tells whether an agent's member ID
//!   belongs to the project;
//! - `GET /common/v1/members?externalEmailAddresses=…` finds members by e-mail (the agents'
//!   Dooray! user keys).
//!
//! The tenant token acts for the whole organization, so the member a task or comment is
//! registered as travels in the body: `users.from` for tasks and `creator` for comments, in
//! the shape Dooray uses for them in its answers. Every call has a time limit; a failure says
//! which kind it was ([`Failure`]) so the page can explain it, and is never retried blindly
//! (creating a task is not idempotent).

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Value, json};

use crate::i18n::{self, Lang};

/// How long one call may take before it counts as failed, as told to the agent (the limit
/// applied is `Config::timeouts.dooray`, this by default).
pub const TIMEOUT: Duration = Duration::from_secs(8);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest answer read from Dooray.
const MAX_ANSWER: usize = 1024 * 1024;
/// Longest remote message shown to the agent.
const MAX_MESSAGE: usize = 200;
/// E-mail addresses looked up per members call (Dooray's page size limit).
pub const MEMBERS_PAGE: usize = 100;

fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("OpenContact/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new())
    })
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No answer within [`TIMEOUT`].
    Timeout,
    /// The endpoint could not be reached.
    Unreachable,
    /// The token was refused (HTTP 401 or 403).
    Auth(u16),
    /// Dooray answered with an HTTP error status; the message is Dooray's, if any.
    Status(u16, String),
    /// Dooray answered `isSuccessful: false`.
    Refused(i64, String),
    /// The answer was not the documented JSON.
    Malformed,
}

impl Failure {
    /// The explanation shown to the agent or administrator.
    pub fn message(&self, lang: Lang, api_base: &str) -> String {
        match self {
            Failure::Timeout => i18n::tf(
                lang,
                "dooray.error.timeout",
                &[("seconds", &TIMEOUT.as_secs().to_string())],
            ),
            Failure::Unreachable => {
                i18n::tf(lang, "dooray.error.unreachable", &[("url", api_base)])
            }
            Failure::Auth(status) => i18n::tf(
                lang,
                "dooray.error.auth",
                &[("status", &status.to_string())],
            ),
            Failure::Status(status, m) => i18n::tf(
                lang,
                "dooray.error.status",
                &[("status", &status.to_string()), ("message", &shown(m))],
            ),
            Failure::Refused(code, m) => i18n::tf(
                lang,
                "dooray.error.refused",
                &[("code", &code.to_string()), ("message", &shown(m))],
            ),
            Failure::Malformed => i18n::t(lang, "dooray.error.malformed"),
        }
    }
}

fn shown(m: &str) -> String {
    if m.trim().is_empty() {
        "—".to_string()
    } else {
        m.chars().take(MAX_MESSAGE).collect()
    }
}

/// A Dooray! ID in an answer: a string, or a number some endpoints send.
pub fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One organization's API.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    token: String,
    timeout: Duration,
}

/// A task to create.
#[derive(Debug, Clone)]
pub struct NewPost<'a> {
    /// Subject.
    pub subject: &'a str,
    /// Body (sanitised HTML).
    pub body_html: &'a str,
    /// The registrant's member ID.
    pub from: &'a str,
    /// Assignees' member IDs.
    pub to: &'a [String],
    /// Tag IDs.
    pub tag_ids: &'a [String],
    /// `none`, `lowest`, `low`, `normal`, `high`, `highest`.
    pub priority: &'a str,
}

/// What Dooray says about a task.
#[derive(Debug, Clone, Default)]
pub struct PostInfo {
    /// `projectCode/number`.
    pub task_number: String,
    /// Workflow class.
    pub workflow_class: String,
    /// Workflow name.
    pub workflow_name: String,
}

/// A member found by e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundMember {
    /// Member ID.
    pub id: String,
    /// The external e-mail address it matched.
    pub email: String,
}

fn member(id: &str) -> Value {
    json!({"type": "member", "member": {"organizationMemberId": id}})
}

impl Api {
    /// The API at `base` (no trailing slash) with a tenant token; each call may take
    /// `timeout` (`Config::timeouts.dooray`).
    pub fn new(base: &str, token: &str, timeout: Duration) -> Api {
        Api {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            timeout,
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let mut req = http()
            .request(method, format!("{}{path}", self.base))
            .timeout(self.timeout)
            .header("Authorization", format!("dooray-api {}", self.token))
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                Failure::Timeout
            } else {
                tracing::warn!(error = %e, "Dooray! unreachable");
                Failure::Unreachable
            }
        })?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| {
            if e.is_timeout() {
                Failure::Timeout
            } else {
                Failure::Malformed
            }
        })?;
        let parsed: Option<Value> = (bytes.len() <= MAX_ANSWER)
            .then(|| serde_json::from_slice(&bytes).ok())
            .flatten();
        let message = parsed
            .as_ref()
            .and_then(|v| v["header"]["resultMessage"].as_str())
            .unwrap_or("")
            .to_string();
        if status == 401 || status == 403 {
            return Err(Failure::Auth(status));
        }
        if !(200..300).contains(&status) {
            return Err(Failure::Status(status, message));
        }
        let v = parsed.ok_or(Failure::Malformed)?;
        match v["header"]["isSuccessful"].as_bool() {
            Some(true) => Ok(v),
            Some(false) => Err(Failure::Refused(
                v["header"]["resultCode"].as_i64().unwrap_or(0),
                message,
            )),
            None => Err(Failure::Malformed),
        }
    }

    /// Creates a task; returns its post ID.
    pub async fn create_post(
        &self,
        project_ref: &str,
        post: &NewPost<'_>,
    ) -> Result<String, Failure> {
        let body = json!({
            "subject": post.subject,
            "body": {"mimeType": "text/html", "content": post.body_html},
            "users": {
                "from": member(post.from),
                "to": post.to.iter().map(|m| member(m)).collect::<Vec<_>>(),
                "cc": [],
            },
            "tagIds": post.tag_ids,
            "priority": post.priority,
        });
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("/project/v1/projects/{project_ref}/posts"),
                Some(&body),
            )
            .await?;
        id_of(&v["result"]["id"]).ok_or(Failure::Malformed)
    }

    /// Reads a task's number and workflow.
    pub async fn post_info(&self, project_ref: &str, post_ref: &str) -> Result<PostInfo, Failure> {
        let v = self
            .call(
                reqwest::Method::GET,
                &format!("/project/v1/projects/{project_ref}/posts/{post_ref}"),
                None,
            )
            .await?;
        let r = &v["result"];
        Ok(PostInfo {
            task_number: r["taskNumber"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(100)
                .collect(),
            workflow_class: r["workflowClass"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(20)
                .collect(),
            workflow_name: r["workflow"]["name"]
                .as_str()
                .unwrap_or("")
                .chars()
                .take(100)
                .collect(),
        })
    }

    /// Adds a comment to a task as `creator`; returns the comment's ID.
    pub async fn create_comment(
        &self,
        project_ref: &str,
        post_ref: &str,
        body_html: &str,
        creator: &str,
    ) -> Result<String, Failure> {
        let body = json!({
            "body": {"mimeType": "text/html", "content": body_html},
            "creator": member(creator),
        });
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("/project/v1/projects/{project_ref}/posts/{post_ref}/logs"),
                Some(&body),
            )
            .await?;
        id_of(&v["result"]["id"]).ok_or(Failure::Malformed)
    }

    /// Whether a member belongs to the project (a member who left does not).
    pub async fn is_project_member(
        &self,
        project_ref: &str,
        member_ref: &str,
    ) -> Result<bool, Failure> {
        match self
            .call(
                reqwest::Method::GET,
                &format!("/project/v1/projects/{project_ref}/members/{member_ref}"),
                None,
            )
            .await
        {
            Ok(v) => Ok(v["result"]["role"].as_str() != Some("leaver")),
            Err(Failure::Status(404, _)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The members whose external e-mail address is one of `emails` (at most
    /// [`MEMBERS_PAGE`] per call).
    pub async fn members_by_email(&self, emails: &[String]) -> Result<Vec<FoundMember>, Failure> {
        let list = emails
            .iter()
            .take(MEMBERS_PAGE)
            .map(|e| crate::common::text::url_encode(e))
            .collect::<Vec<_>>()
            .join(",");
        let v = self
            .call(
                reqwest::Method::GET,
                &format!(
                    "/common/v1/members?externalEmailAddresses={list}&page=0&size={MEMBERS_PAGE}"
                ),
                None,
            )
            .await?;
        let Some(items) = v["result"].as_array() else {
            return Err(Failure::Malformed);
        };
        Ok(items
            .iter()
            .filter_map(|m| {
                Some(FoundMember {
                    id: id_of(&m["id"])?,
                    email: m["externalEmailAddress"].as_str()?.to_string(),
                })
            })
            .collect())
    }
}
