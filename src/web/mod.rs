//! The web layer: the app's middleware (CSRF, security headers, localised error pages), the
//! session-backed extractors that decide who may see what, embedded assets, locale negotiation,
//! and [`PageCtx`], the context every page template shares.

pub mod assets;
pub mod auth;
pub mod csrf;
pub mod errors;
pub mod headers;
pub mod health;
pub mod lang_form;
pub mod page;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::error::AppError;
use crate::i18n::Lang;

pub use auth::{
    AgentManager, OrgAdmin, ServiceAccess, ServiceAdmin, ServiceMember, SignedIn, Viewer,
};
pub use page::{Flash, FormErrors, NavItem, PageCtx};

/// Name of the cookie that remembers the chosen UI language.
pub const LANG_COOKIE: &str = "oc_lang";

/// Whether the request was made by htmx.
pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().get("HX-Request").is_some_and(|v| v == "true")
}

/// The UI language for a request without a signed-in user: the language cookie, then
/// `Accept-Language`, then Korean.
pub fn negotiate_lang(req: &actix_web::dev::RequestHead) -> Lang {
    let cookie_lang = req
        .headers()
        .get(actix_web::http::header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| {
            c.split(';')
                .find_map(|kv| kv.trim().strip_prefix("oc_lang="))
        })
        .and_then(Lang::parse);
    if let Some(lang) = cookie_lang {
        return lang;
    }
    req.headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or_default()
}

/// Renders a template with a status code as an HTML response.
pub fn html<T: Template>(status: StatusCode, page: &T) -> Result<HttpResponse, AppError> {
    let body = page.render()?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// A 303 redirect (post-redirect-get); for htmx requests an `HX-Redirect`.
pub fn redirect(req: &HttpRequest, to: &str) -> HttpResponse {
    if is_htmx(req) {
        HttpResponse::Ok()
            .insert_header(("HX-Redirect", to.to_string()))
            .finish()
    } else {
        HttpResponse::SeeOther()
            .insert_header(("Location", to.to_string()))
            .finish()
    }
}

/// Only same-site relative paths are accepted as `next` targets (no open redirects).
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let n = next?.trim();
    if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.contains(['\r', '\n'])
    {
        Some(n.to_string())
    } else {
        None
    }
}

/// The client's address: the socket peer, or the first forwarded address when configured to
/// trust a reverse proxy.
pub fn client_ip(req: &HttpRequest, trust_forwarded: bool) -> String {
    if trust_forwarded && let Some(ip) = req.connection_info().realip_remote_addr() {
        return ip.to_string();
    }
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The request's user agent, bounded in length.
pub fn user_agent(req: &HttpRequest) -> String {
    req.headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(300)
        .collect()
}
