//! CSRF protection for every state-changing request: the browser must say the request is
//! same-origin (`Sec-Fetch-Site` / `Origin`), and it must carry the session's token — in the
//! `X-CSRF-Token` header (htmx sends it via `hx-headers`), a `csrf_token` form field, or a
//! `csrf_token` query parameter (multipart uploads). It wraps the form areas only (console,
//! admin, help center, sign-in: see `crate::routes`); the Open API scopes are signed instead.

use actix_session::SessionExt;
use actix_web::HttpMessage;
use actix_web::ResponseError;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::BytesMut;
use futures_util::StreamExt;

use crate::crypto::constant_time_eq;
use crate::error::AppError;
use crate::web::auth::SESSION_CSRF;

/// Largest url-encoded body the CSRF check buffers; bigger forms are refused (413).
const MAX_FORM_BYTES: usize = 1024 * 1024;

fn same_origin(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("Sec-Fetch-Site").and_then(|v| v.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return false;
    }
    if let Some(origin) = headers.get("Origin").and_then(|v| v.to_str().ok()) {
        let host = req.connection_info().host().to_string();
        let origin_host = origin.split("://").nth(1).unwrap_or("");
        if origin != "null" && origin_host != host {
            return false;
        }
        if origin == "null" {
            return false;
        }
    }
    true
}

fn token_from_query(req: &ServiceRequest) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "csrf_token")
        .map(|(_, v)| v.into_owned())
}

/// The middleware function (`middleware::from_fn(csrf::check)`).
pub async fn check(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let unsafe_method = !matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if !unsafe_method {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    if !same_origin(&req) {
        return Ok(reject(req));
    }
    let expected = req.get_session().get::<String>(SESSION_CSRF).ok().flatten();
    let Some(expected) = expected else {
        return Ok(reject(req));
    };
    let mut supplied = req
        .headers()
        .get("X-CSRF-Token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| token_from_query(&req));
    let is_form = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if supplied.is_none() && is_form {
        let mut payload = req.take_payload();
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk?;
            if body.len() + chunk.len() > MAX_FORM_BYTES {
                let resp = actix_web::HttpResponse::PayloadTooLarge().finish();
                return Ok(req.into_response(resp));
            }
            body.extend_from_slice(&chunk);
        }
        let body = body.freeze();
        supplied = url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.into_owned());
        let (_, mut new_payload) = actix_http::h1::Payload::create(true);
        new_payload.unread_data(body);
        req.set_payload(new_payload.into());
    }
    match supplied {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body),
        _ => Ok(reject(req)),
    }
}

fn reject(req: ServiceRequest) -> ServiceResponse<BoxBody> {
    tracing::warn!(path = %req.path(), "CSRF check failed");
    req.into_response(AppError::Csrf.error_response())
}
