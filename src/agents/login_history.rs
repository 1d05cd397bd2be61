//! Login history (SPEC §3.12): sign-ins, sign-outs and refused sign-ins of every member of the
//! organization, newest first, filtered by typed login and event kind, paginated by id. Only
//! members of the service holding the view permission may open it.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::auth::history::{self, HistoryFilter};
use crate::console::shell::settings_base;
use crate::db::schema::users;
use crate::db::types::LoginEventKind;
use crate::error::AppError;
use crate::web::auth::LogViewer;
use crate::web::{self as w, PageCtx};

/// Events per page.
const PAGE_SIZE: i64 = 50;
/// User agents are cut to this many characters in the table (the full text is a tooltip).
const UA_SHOWN: usize = 60;

/// One row of the history table.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    /// `YYYY-MM-DD HH:MM:SS` in UTC.
    pub time: String,
    /// The member's name, when the login matched a member.
    pub name: String,
    /// The login that was typed.
    pub login: String,
    /// Event kind code (`login`, `logout`, `failed`).
    pub kind: String,
    /// Event kind label key.
    pub kind_key: String,
    /// Client address.
    pub ip: String,
    /// Shortened user agent.
    pub user_agent: String,
    /// Full user agent.
    pub user_agent_full: String,
}

/// The login-history page.
#[derive(Template)]
#[template(path = "agents/login_history.html")]
pub struct HistoryPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings`
    pub base: String,
    /// Login filter.
    pub q: String,
    /// Kind filter (empty for all).
    pub kind: String,
    /// Kinds for the filter: code and label key.
    pub kinds: Vec<(String, String)>,
    /// Rows.
    pub rows: Vec<HistoryRow>,
    /// Link to older events.
    pub next: Option<String>,
}

/// Query of the history page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct HistoryQuery {
    q: Option<String>,
    kind: Option<String>,
    before: Option<String>,
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// `GET /{service_id}/console/settings/login-history`
pub async fn login_history(
    v: LogViewer,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, AppError> {
    let q: String = query
        .q
        .as_deref()
        .unwrap_or("")
        .trim()
        .chars()
        .take(100)
        .collect();
    let kind = query.kind.as_deref().and_then(LoginEventKind::parse);
    let before = query.before.as_deref().and_then(|b| b.trim().parse().ok());
    let filter = HistoryFilter {
        user_id: None,
        login_contains: if q.is_empty() { None } else { Some(q.clone()) },
        kind,
    };
    let (mut events, names) = v
        .viewer()
        .state
        .db
        .read(move |c| {
            let events = history::filtered_page(c, &filter, before, PAGE_SIZE + 1)?;
            let ids: Vec<i64> = events.iter().filter_map(|e| e.user_id).collect();
            let names: HashMap<i64, String> = users::table
                .filter(users::id.eq_any(&ids))
                .select((users::id, users::name))
                .load::<(i64, String)>(c)?
                .into_iter()
                .collect();
            Ok((events, names))
        })
        .await?;
    let base = settings_base(&v.service.code);
    let kind_code = kind.map(|k| k.as_str().to_string()).unwrap_or_default();
    let next = if events.len() as i64 > PAGE_SIZE {
        events.truncate(PAGE_SIZE as usize);
        events.last().map(|e| {
            format!(
                "{base}/login-history?q={}&kind={}&before={}",
                crate::common::text::url_encode(&q),
                kind_code,
                e.id
            )
        })
    } else {
        None
    };
    let rows = events
        .into_iter()
        .map(|e| HistoryRow {
            time: e.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            name: e
                .user_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_default(),
            kind_key: format!("history.kind.{}", e.kind),
            user_agent: shorten(&e.user_agent, UA_SHOWN),
            user_agent_full: e.user_agent,
            login: e.login,
            kind: e.kind,
            ip: e.ip,
        })
        .collect();
    let page = HistoryPage {
        ctx: PageCtx::console(&v, "history.title"),
        base,
        q,
        kind: kind_code,
        kinds: LoginEventKind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str().to_string(),
                    format!("history.kind.{}", k.as_str()),
                )
            })
            .collect(),
        rows,
        next,
    };
    w::html(StatusCode::OK, &page)
}
