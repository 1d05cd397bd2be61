//! The organization logo: stored under the data directory, served at `/logo` on every page.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::AppState;
use crate::error::AppError;
use crate::tenancy::organization::Organization;

/// Largest logo accepted.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;

/// Logo types accepted, by content type, with the extension stored.
pub const LOGO_TYPES: &[(&str, &str)] = &[
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
    ("image/gif", "gif"),
    ("image/webp", "webp"),
];

/// `GET /logo`
pub async fn serve_logo(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let org = state
        .db
        .read(|c| Ok(Organization::find(c)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let (Some(path), Some(mime)) = (org.logo_path, org.logo_mime) else {
        return Err(AppError::NotFound);
    };
    let full = state.config.data_dir.join(&path);
    let bytes = web::block(move || std::fs::read(full))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|_| AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, mime))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(bytes))
}
