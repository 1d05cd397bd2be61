//! Security headers on every response: a strict Content-Security-Policy, `nosniff`, a referrer
//! policy, and frame rules. Pages may only be framed by the same origin, except where a handler
//! attaches [`FrameAncestors`] (the help center, for the origins its service allows).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;

/// Attach to a response to allow framing by these CSP source expressions (space separated).
#[derive(Debug, Clone)]
pub struct FrameAncestors(pub String);

/// Attach to a response to let its scripts call these origins (space separated), e.g. the
/// customer's login-status URL of help-center member integration.
#[derive(Debug, Clone)]
pub struct ConnectSources(pub String);

/// Builds the CSP for a response.
pub fn content_security_policy(frame_ancestors: Option<&str>) -> String {
    content_security_policy_with(frame_ancestors, None)
}

/// Builds the CSP for a response, with extra `connect-src` origins.
pub fn content_security_policy_with(
    frame_ancestors: Option<&str>,
    connect: Option<&str>,
) -> String {
    let ancestors = match frame_ancestors {
        Some(list) if !list.trim().is_empty() => format!("'self' {}", list.trim()),
        _ => "'self'".to_string(),
    };
    let connect = match connect {
        Some(list) if !list.trim().is_empty() => format!("'self' {}", list.trim()),
        _ => "'self'".to_string(),
    };
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src {connect}; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors {ancestors}"
    )
}

/// The middleware function (`middleware::from_fn(headers::apply)`).
pub async fn apply(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let ancestors = res
        .response()
        .extensions()
        .get::<FrameAncestors>()
        .map(|f| f.0.clone());
    let connect = res
        .response()
        .extensions()
        .get::<ConnectSources>()
        .map(|c| c.0.clone());
    let headers = res.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set(
        "content-security-policy",
        content_security_policy_with(ancestors.as_deref(), connect.as_deref()),
    );
    set("x-content-type-options", "nosniff".into());
    set("referrer-policy", "same-origin".into());
    if ancestors.is_none() {
        set("x-frame-options", "SAMEORIGIN".into());
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::content_security_policy;

    #[test]
    fn frame_ancestors_extend_self() {
        assert!(content_security_policy(None).ends_with("frame-ancestors 'self'"));
        assert!(
            content_security_policy(Some("https://shop.example"))
                .ends_with("frame-ancestors 'self' https://shop.example")
        );
    }
}
