//! `/admin/organization` (SPEC §2.1, organization info tab): the organization's name, its ID and
//! key (shown with copy buttons; the key can be regenerated), and the logo shown top-left on
//! every page. Logos are checked by their magic bytes, never by the client's content type, and
//! stored as `<data_dir>/uploads/logo.<ext>`.

use std::path::{Path, PathBuf};

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use futures_util::StreamExt;

use crate::db::now;
use crate::db::schema::organizations;
use crate::error::AppError;
use crate::i18n;
use crate::org::logo::{LOGO_TYPES, MAX_LOGO_BYTES};
use crate::tenancy::organization::Organization;
use crate::web::{self as w, Flash, FormErrors, OrgAdmin, PageCtx};

/// Folder (inside the data directory) that holds uploaded files.
pub const UPLOADS_DIR: &str = "uploads";

/// An upload body larger than this is refused outright (413) instead of being read to the end.
const MAX_UPLOAD_BODY: usize = 8 * 1024 * 1024;

/// The organization page.
#[derive(Template)]
#[template(path = "admin/organization.html")]
pub struct OrganizationPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Name in the form (not `name`: the form macros bind a parameter of that name).
    pub name_value: String,
    /// The organization ID.
    pub org_uid: String,
    /// The decrypted organization key.
    pub org_key: String,
    /// The public base URL (the access URL).
    pub base_url: String,
    /// Whether a logo is stored.
    pub has_logo: bool,
    /// Name errors.
    pub errors: FormErrors,
    /// Logo upload error (translated), empty when none.
    pub logo_error: String,
    /// The largest logo, for the hint.
    pub max_logo_kb: usize,
}

/// The rename form.
#[derive(serde::Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

/// `GET /admin` and `/admin/` → the services list.
pub async fn admin_home(req: HttpRequest, _admin: OrgAdmin) -> HttpResponse {
    w::redirect(&req, "/admin/services")
}

async fn page(
    admin: &OrgAdmin,
    name: Option<String>,
    errors: FormErrors,
    logo_error: String,
) -> Result<OrganizationPage, AppError> {
    let v = &admin.0.viewer;
    let org = v
        .state
        .db
        .read(|c| Ok(Organization::find(c)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let mut ctx = PageCtx::admin(&admin.0, "org.title");
    ctx.org_name = org.name.clone();
    ctx.has_logo = org.logo_path.is_some();
    Ok(OrganizationPage {
        name_value: name.unwrap_or_else(|| org.name.clone()),
        org_key: org.org_key(&v.state.secret)?,
        org_uid: org.org_uid,
        base_url: v.state.config.base_url.clone(),
        has_logo: org.logo_path.is_some(),
        ctx,
        errors,
        logo_error,
        max_logo_kb: MAX_LOGO_BYTES / 1024,
    })
}

/// `GET /admin/organization`
pub async fn organization_page(admin: OrgAdmin) -> Result<HttpResponse, AppError> {
    let lang = admin.0.viewer.lang;
    let p = page(&admin, None, FormErrors::new(lang), String::new()).await?;
    w::html(StatusCode::OK, &p)
}

/// `POST /admin/organization` — renames the organization.
pub async fn rename_organization(
    req: HttpRequest,
    admin: OrgAdmin,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, AppError> {
    let v = &admin.0.viewer;
    let mut errors = FormErrors::new(v.lang);
    crate::tenancy::user::validate_name(&mut errors, "name", &form.name);
    if !errors.is_empty() {
        let p = page(&admin, Some(form.name.clone()), errors, String::new()).await?;
        return w::html(StatusCode::UNPROCESSABLE_ENTITY, &p);
    }
    let name = form.name.trim().to_string();
    v.state
        .db
        .write(move |c| {
            diesel::update(organizations::table)
                .set((
                    organizations::name.eq(name),
                    organizations::updated_at.eq(now()),
                ))
                .execute(c)?;
            Ok(())
        })
        .await?;
    v.flash(Flash::success(v.t("org.saved")));
    Ok(w::redirect(&req, "/admin/organization"))
}

/// `POST /admin/organization/key` — replaces the organization key.
pub async fn regenerate_key(req: HttpRequest, admin: OrgAdmin) -> Result<HttpResponse, AppError> {
    let v = &admin.0.viewer;
    let secret = v.state.secret.clone();
    v.state
        .db
        .write(move |c| Organization::regenerate_key(c, &secret).map(|_| ()))
        .await?;
    v.flash(Flash::success(v.t("org.key_regenerated")));
    Ok(w::redirect(&req, "/admin/organization"))
}

/// The image type of an upload, judged by its first bytes: `(content type, extension)`.
pub fn sniff_image(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        "image/gif"
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        return None;
    };
    LOGO_TYPES.iter().copied().find(|(m, _)| *m == mime)
}

/// What the multipart body held.
enum Upload {
    /// The `logo` field's bytes (at most [`MAX_LOGO_BYTES`]).
    File(Vec<u8>),
    /// No file was chosen.
    Missing,
    /// The file was larger than [`MAX_LOGO_BYTES`].
    TooLarge,
    /// The whole body was larger than [`MAX_UPLOAD_BODY`].
    BodyTooLarge,
}

/// Reads the `logo` field, keeping at most `MAX_LOGO_BYTES + 1` bytes of it and draining the
/// rest so the client gets a proper answer instead of a reset connection.
async fn read_logo(mut payload: Multipart) -> Result<Upload, AppError> {
    let mut result = Upload::Missing;
    let mut total = 0usize;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| AppError::BadRequest("error.bad_request"))?;
        let is_logo = field.name() == Some("logo") && matches!(result, Upload::Missing);
        let mut buf = Vec::new();
        let mut size = 0usize;
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest("error.bad_request"))?;
            total += chunk.len();
            size += chunk.len();
            if total > MAX_UPLOAD_BODY {
                return Ok(Upload::BodyTooLarge);
            }
            if is_logo && buf.len() <= MAX_LOGO_BYTES {
                let room = MAX_LOGO_BYTES + 1 - buf.len();
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
        }
        if is_logo && size > 0 {
            result = if size > MAX_LOGO_BYTES {
                Upload::TooLarge
            } else {
                Upload::File(buf)
            };
        }
    }
    Ok(result)
}

fn remove_file_quietly(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "could not remove old logo");
    }
}

/// Writes the logo atomically (temporary file, then rename) and returns its relative path.
fn store_logo(data_dir: &Path, ext: &str, bytes: &[u8]) -> std::io::Result<String> {
    let dir = data_dir.join(UPLOADS_DIR);
    std::fs::create_dir_all(&dir)?;
    let name = format!("logo.{ext}");
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(&name))?;
    Ok(format!("{UPLOADS_DIR}/{name}"))
}

/// `POST /admin/organization/logo` (multipart, field `logo`).
pub async fn upload_logo(
    req: HttpRequest,
    admin: OrgAdmin,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let lang = admin.0.viewer.lang;
    let refuse = |key: &str| {
        i18n::tf(
            lang,
            key,
            &[("max", &format!("{} KB", MAX_LOGO_BYTES / 1024))],
        )
    };
    let logo_error = match read_logo(payload).await? {
        Upload::BodyTooLarge => return Ok(HttpResponse::PayloadTooLarge().finish()),
        Upload::Missing => refuse("org.logo_missing"),
        Upload::TooLarge => refuse("org.logo_too_large"),
        Upload::File(bytes) => match sniff_image(&bytes) {
            None => refuse("org.logo_type"),
            Some((mime, ext)) => {
                save_logo(&admin, mime, ext, bytes).await?;
                let v = &admin.0.viewer;
                v.flash(Flash::success(v.t("org.logo_saved")));
                return Ok(w::redirect(&req, "/admin/organization"));
            }
        },
    };
    let p = page(&admin, None, FormErrors::new(lang), logo_error).await?;
    w::html(StatusCode::UNPROCESSABLE_ENTITY, &p)
}

async fn save_logo(
    admin: &OrgAdmin,
    mime: &'static str,
    ext: &'static str,
    bytes: Vec<u8>,
) -> Result<(), AppError> {
    let state = admin.0.viewer.state.clone();
    let data_dir: PathBuf = state.config.data_dir.clone();
    let dir2 = data_dir.clone();
    let rel = web::block(move || store_logo(&dir2, ext, &bytes))
        .await
        .map_err(|e| AppError::Internal(format!("blocking task: {e}")))??;
    let rel2 = rel.clone();
    let old = state
        .db
        .write(move |c| {
            let old = Organization::find(c)?.and_then(|o| o.logo_path);
            diesel::update(organizations::table)
                .set((
                    organizations::logo_path.eq(Some(rel2)),
                    organizations::logo_mime.eq(Some(mime)),
                    organizations::updated_at.eq(now()),
                ))
                .execute(c)?;
            Ok(old)
        })
        .await?;
    if let Some(old) = old.filter(|o| *o != rel) {
        let _ = web::block(move || remove_file_quietly(&data_dir.join(old))).await;
    }
    Ok(())
}

/// `POST /admin/organization/logo/delete` — removes the logo (the name is shown instead).
pub async fn remove_logo(req: HttpRequest, admin: OrgAdmin) -> Result<HttpResponse, AppError> {
    let v = &admin.0.viewer;
    let old = v
        .state
        .db
        .write(|c| {
            let old = Organization::find(c)?.and_then(|o| o.logo_path);
            diesel::update(organizations::table)
                .set((
                    organizations::logo_path.eq(None::<String>),
                    organizations::logo_mime.eq(None::<String>),
                    organizations::updated_at.eq(now()),
                ))
                .execute(c)?;
            Ok(old)
        })
        .await?;
    if let Some(old) = old {
        let full = v.state.config.data_dir.join(old);
        let _ = web::block(move || remove_file_quietly(&full)).await;
    }
    v.flash(Flash::success(v.t("org.logo_removed")));
    Ok(w::redirect(&req, "/admin/organization"))
}

#[cfg(test)]
mod tests {
    use super::sniff_image;

    #[test]
    fn images_are_recognised_by_magic_bytes() {
        assert_eq!(
            sniff_image(b"\x89PNG\r\n\x1a\n....").map(|t| t.1),
            Some("png")
        );
        assert_eq!(
            sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]).map(|t| t.1),
            Some("jpg")
        );
        assert_eq!(sniff_image(b"GIF89a..").map(|t| t.1), Some("gif"));
        assert_eq!(
            sniff_image(b"RIFF\0\0\0\0WEBPVP8 ").map(|t| t.1),
            Some("webp")
        );
        assert_eq!(sniff_image(b"<svg xmlns=..."), None);
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WAVE"), None);
    }
}
