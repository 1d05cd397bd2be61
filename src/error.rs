//! Errors by layer: queries return `QueryResult`, domain code returns [`AppError`] (whose codes
//! double as i18n keys), and handlers return `Result<_, AppError>`. [`AppError`] renders as a
//! status with a marker that the error-page middleware turns into a localised page or htmx toast.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// An error a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No session: send the browser to the login page, then back to `next`.
    #[error("login required")]
    LoginRequired {
        /// Where to return after signing in.
        next: String,
        /// The request came from htmx (answer with `HX-Redirect`).
        htmx: bool,
    },
    /// Signed in but not allowed; the key names the reason shown on the 403 page.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Nothing here.
    #[error("not found")]
    NotFound,
    /// The request itself is malformed (not a validation error: those re-render the form).
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The CSRF check failed.
    #[error("csrf check failed")]
    Csrf,
    /// Anything else; logged, shown as a localised 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => AppError::NotFound,
            other => AppError::Internal(format!("database: {other}")),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::Internal(format!("io: {e}"))
    }
}

/// Attached to error responses so the error-page middleware knows which message to show.
#[derive(Debug, Clone, Copy)]
pub struct ErrorMessageKey(pub &'static str);

impl AppError {
    /// The i18n key of the message shown to the user.
    pub fn message_key(&self) -> &'static str {
        match self {
            AppError::LoginRequired { .. } => "error.login_required",
            AppError::Forbidden(key) => key,
            AppError::NotFound => "error.not_found",
            AppError::BadRequest(key) => key,
            AppError::Csrf => "error.csrf",
            AppError::Internal(_) => "error.internal",
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            AppError::Forbidden(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::LoginRequired { next, htmx } = self {
            let target = format!("/login?next={}", crate::common::text::url_encode(next));
            return if *htmx {
                HttpResponse::Ok()
                    .insert_header(("HX-Redirect", target))
                    .finish()
            } else {
                HttpResponse::SeeOther()
                    .insert_header(("Location", target))
                    .finish()
            };
        }
        if let AppError::Internal(msg) = self {
            tracing::error!(error = %msg, "request failed");
        }
        let mut resp = HttpResponse::build(self.status_code()).finish();
        resp.extensions_mut()
            .insert(ErrorMessageKey(self.message_key()));
        resp
    }
}
