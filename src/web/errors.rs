//! Localised error pages. Handlers and extractors return [`AppError`]; this middleware (on the
//! HTML areas, see `crate::routes`) turns any 4xx/5xx response without a body into a full page in the visitor's language, or, for htmx
//! requests, into a toast swapped into the page's `#toasts` region.

use actix_web::HttpResponse;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use askama::Template;

use crate::error::{AppError, ErrorMessageKey};
use crate::i18n::{self, Lang};
use crate::web::page::PageCtx;

/// The full error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Shared page context (no user menus).
    pub ctx: PageCtx,
    /// HTTP status.
    pub status: u16,
    /// Translated headline.
    pub heading: String,
    /// Translated explanation.
    pub message: String,
}

/// The error page for help-center paths, in the portal's layout.
#[derive(Template)]
#[template(path = "error_portal.html")]
pub struct PortalErrorPage {
    /// Shared page context (no user menus).
    pub ctx: PageCtx,
    /// HTTP status.
    pub status: u16,
    /// Translated headline.
    pub heading: String,
    /// Translated explanation.
    pub message: String,
}

/// Whether a path is inside a help center (`/{service}/hc/…`).
fn is_portal_path(path: &str) -> bool {
    path.trim_start_matches('/').split('/').nth(1) == Some("hc")
}

/// The htmx toast.
#[derive(Template)]
#[template(path = "components/toast.html")]
pub struct Toast {
    /// `error` or `success`.
    pub kind: String,
    /// Translated text.
    pub text: String,
}

fn heading_key(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "error.heading.400",
        403 => "error.heading.403",
        404 => "error.heading.404",
        405 => "error.heading.405",
        413 => "error.heading.413",
        429 => "error.heading.429",
        503 => "error.heading.503",
        s if s >= 500 => "error.heading.500",
        _ => "error.heading.400",
    }
}

fn default_message_key(status: StatusCode) -> &'static str {
    match status.as_u16() {
        403 => "error.forbidden",
        404 => "error.not_found",
        405 => "error.method_not_allowed",
        413 => "error.too_large",
        s if s >= 500 => "error.internal",
        _ => "error.bad_request",
    }
}

/// Renders the localised error response for a status and message key.
pub fn render_error(
    lang: Lang,
    path: &str,
    status: StatusCode,
    message_key: &str,
    htmx: bool,
) -> HttpResponse {
    let message = i18n::t(lang, message_key);
    if htmx {
        let toast = Toast {
            kind: "error".into(),
            text: message,
        };
        let body = toast.render().unwrap_or_default();
        return HttpResponse::build(status)
            .insert_header(("HX-Retarget", "#toasts"))
            .insert_header(("HX-Reswap", "beforeend"))
            .content_type("text/html; charset=utf-8")
            .body(body);
    }
    let ctx = PageCtx::bare(lang, path, heading_key(status));
    let heading = ctx.title.clone();
    let rendered = if is_portal_path(path) {
        PortalErrorPage {
            heading,
            ctx,
            status: status.as_u16(),
            message,
        }
        .render()
    } else {
        ErrorPage {
            heading,
            ctx,
            status: status.as_u16(),
            message,
        }
        .render()
    };
    match rendered {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!("error page failed to render: {e}");
            HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(message_key.to_string())
        }
    }
}

/// The middleware function (`middleware::from_fn(errors::pages)`).
pub async fn pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let lang = super::negotiate_lang(req.head());
    let htmx = req.headers().get("HX-Request").is_some_and(|v| v == "true");
    let res = match next.call(req).await {
        Ok(res) => res.map_into_boxed_body(),
        Err(err) => {
            // Errors raised by middleware (CSRF) arrive here instead of as responses.
            let status = err.as_response_error().status_code();
            let key = err.as_error::<AppError>().map(AppError::message_key);
            return Err(actix_web::error::InternalError::from_response(
                err.to_string(),
                render_error(
                    lang,
                    "/",
                    status,
                    key.unwrap_or(default_message_key(status)),
                    htmx,
                ),
            )
            .into());
        }
    };
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(res);
    }
    let has_body = !matches!(
        res.response().body().size(),
        actix_web::body::BodySize::Sized(0) | actix_web::body::BodySize::None
    );
    let marker = res
        .response()
        .extensions()
        .get::<ErrorMessageKey>()
        .copied();
    if has_body && marker.is_none() {
        return Ok(res);
    }
    let key = marker.map(|m| m.0).unwrap_or(default_message_key(status));
    let path = res.request().path().to_string();
    let new_resp = render_error(lang, &path, status, key, htmx);
    let (req, _) = res.into_parts();
    Ok(ServiceResponse::new(req, new_resp))
}

/// The default service: a localised 404 for unknown paths.
pub async fn not_found() -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound)
}
