//! Help-center configuration per service (SPEC §3.13 "Configuration", §2.3): which modules the
//! main page shows, the company-info record used in the footer, custom CSS (served from our own
//! origin at `/{service}/hc/custom.css`, so the `style-src 'self'` policy still holds) and a
//! service logo. `/{service}/console/help-center/settings`, service administrators only.

use std::path::Path;

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use futures_util::StreamExt;

use crate::agents::form::Pairs;
use crate::db::refuse;
use crate::db::schema::hc_settings;
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::help_center::access::{HcAdmin, base};
use crate::i18n;
use crate::org::company::CompanyInfo;
use crate::org::info::{UPLOADS_DIR, sniff_image};
use crate::org::logo::MAX_LOGO_BYTES;
use crate::web::{self as w, Flash, FormErrors, PageCtx};

/// Longest custom stylesheet (characters).
pub const MAX_CSS: usize = 20_000;

/// A service's help-center configuration (defaults when never saved).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = hc_settings)]
pub struct HcSettings {
    /// Service.
    pub service_id: i64,
    /// Show the notices card and pages.
    pub show_notices: bool,
    /// Show the FAQ card and pages.
    pub show_faq: bool,
    /// Show the 1:1 inquiry card.
    pub show_inquiry: bool,
    /// Show the inquiry-history card.
    pub show_history: bool,
    /// Company info in the footer.
    pub company_info_id: Option<i64>,
    /// Custom CSS.
    pub custom_css: String,
    /// Logo file (relative to the data directory).
    pub logo_path: Option<String>,
    /// Logo content type.
    pub logo_mime: Option<String>,
    /// Last change (cache-busts the stylesheet and logo URLs).
    pub updated_at: NaiveDateTime,
}

impl HcSettings {
    /// The defaults: every module shown, no company info, no CSS, no logo.
    pub fn defaults(service_id: i64) -> HcSettings {
        HcSettings {
            service_id,
            show_notices: true,
            show_faq: true,
            show_inquiry: true,
            show_history: true,
            company_info_id: None,
            custom_css: String::new(),
            logo_path: None,
            logo_mime: None,
            updated_at: chrono::DateTime::UNIX_EPOCH.naive_utc(),
        }
    }

    /// The saved configuration, or the defaults.
    pub fn load(conn: &mut DbConn, service_id: i64) -> QueryResult<HcSettings> {
        Ok(hc_settings::table
            .find(service_id)
            .select(HcSettings::as_select())
            .first(conn)
            .optional()?
            .unwrap_or_else(|| HcSettings::defaults(service_id)))
    }

    /// A version string for cache-busting URLs.
    pub fn version(&self) -> String {
        self.updated_at.and_utc().timestamp_micros().to_string()
    }

    /// Saves every column (insert or update; the caller holds the transaction).
    pub fn save(&self, conn: &mut DbConn) -> QueryResult<()> {
        let t = now();
        let exists = hc_settings::table
            .find(self.service_id)
            .select(hc_settings::service_id)
            .first::<i64>(conn)
            .optional()?
            .is_some();
        let values = (
            hc_settings::show_notices.eq(self.show_notices),
            hc_settings::show_faq.eq(self.show_faq),
            hc_settings::show_inquiry.eq(self.show_inquiry),
            hc_settings::show_history.eq(self.show_history),
            hc_settings::company_info_id.eq(self.company_info_id),
            hc_settings::custom_css.eq(&self.custom_css),
            hc_settings::logo_path.eq(&self.logo_path),
            hc_settings::logo_mime.eq(&self.logo_mime),
            hc_settings::updated_at.eq(t),
        );
        if exists {
            diesel::update(hc_settings::table.find(self.service_id))
                .set(values)
                .execute(conn)?;
        } else {
            diesel::insert_into(hc_settings::table)
                .values((hc_settings::service_id.eq(self.service_id), values))
                .execute(conn)?;
        }
        Ok(())
    }
}

/// The configuration page.
#[derive(Template)]
#[template(path = "help_center/settings.html")]
pub struct SettingsPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/help-center`
    pub base: String,
    /// `/{service}/hc/`
    pub portal_url: String,
    /// Values.
    pub settings: HcSettings,
    /// Company-info records to pick from `(id, title, selected)`.
    pub companies: Vec<(i64, String, bool)>,
    /// Whether the service has the FAQ, notice and inquiry features.
    pub features: crate::tenancy::service::Features,
    /// Field errors.
    pub errors: FormErrors,
    /// Logo upload error (translated), empty when none.
    pub logo_error: String,
    /// Limits for hints.
    pub max_css: usize,
    /// Largest logo in KB.
    pub max_logo_kb: usize,
}

async fn render(
    a: &HcAdmin,
    settings: Option<HcSettings>,
    errors: FormErrors,
    logo_error: String,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let (stored, companies) = a
        .viewer()
        .state
        .db
        .read(move |c| Ok((HcSettings::load(c, sid)?, CompanyInfo::titles(c)?)))
        .await?;
    let settings = settings.unwrap_or(stored);
    let companies = companies
        .into_iter()
        .map(|(id, title)| (id, title, settings.company_info_id == Some(id)))
        .collect();
    let page = SettingsPage {
        ctx: PageCtx::console(a, "hc.settings.title"),
        base: base(&a.service.code),
        portal_url: format!("/{}/hc/", a.service.code),
        settings,
        companies,
        features: a.service.features(),
        errors,
        logo_error,
        max_css: MAX_CSS,
        max_logo_kb: MAX_LOGO_BYTES / 1024,
    };
    w::html(status, &page)
}

/// `GET /{service_id}/console/help-center/settings`
pub async fn settings_page(a: HcAdmin) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    render(
        &a,
        None,
        FormErrors::new(lang),
        String::new(),
        StatusCode::OK,
    )
    .await
}

/// `POST /{service_id}/console/help-center/settings`
pub async fn save_settings(
    req: HttpRequest,
    a: HcAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let v = a.viewer();
    let mut errors = FormErrors::new(v.lang);
    let css = form.get("custom_css").replace("\r\n", "\n");
    if css.chars().count() > MAX_CSS {
        errors.add_with(
            "custom_css",
            "validation.too_long",
            &[("max", &MAX_CSS.to_string())],
        );
    }
    let company_raw = form.get("company_info_id").trim().to_string();
    let company_id = if company_raw.is_empty() {
        None
    } else {
        match company_raw.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("company_info_id", "hc.error.company_unknown");
                None
            }
        }
    };
    let sid = a.service.id;
    let (show_notices, show_faq, show_inquiry, show_history) = (
        form.checked("show_notices"),
        form.checked("show_faq"),
        form.checked("show_inquiry"),
        form.checked("show_history"),
    );
    let css2 = css.trim().to_string();
    let result = v
        .state
        .db
        .write_or_refuse(move |c| {
            if let Some(id) = company_id
                && CompanyInfo::find(c, id)?.is_none()
            {
                errors.add("company_info_id", "hc.error.company_unknown");
            }
            let mut s = HcSettings::load(c, sid)?;
            s.show_notices = show_notices;
            s.show_faq = show_faq;
            s.show_inquiry = show_inquiry;
            s.show_history = show_history;
            s.company_info_id = company_id;
            s.custom_css = css2;
            if !errors.is_empty() {
                return refuse(Box::new((s, errors)));
            }
            s.save(c)?;
            Ok(())
        })
        .await?;
    match result {
        Ok(()) => {
            v.flash(Flash::success(v.t("hc.settings.saved")));
            Ok(w::redirect(
                &req,
                &format!("{}/settings", base(&a.service.code)),
            ))
        }
        Err(refused) => {
            let (s, errors) = *refused;
            render(
                &a,
                Some(s),
                errors,
                String::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// Reads the `logo` field (at most `MAX_LOGO_BYTES + 1` bytes kept); `Err` when the body is far
/// too large.
async fn read_logo(mut payload: Multipart) -> Result<Option<Vec<u8>>, AppError> {
    let mut logo: Option<Vec<u8>> = None;
    let mut total = 0usize;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| AppError::BadRequest("error.bad_request"))?;
        let wanted = field.name() == Some("logo") && logo.is_none();
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest("error.bad_request"))?;
            total += chunk.len();
            if total > 4 * MAX_LOGO_BYTES {
                return Err(AppError::BadRequest("error.too_large"));
            }
            if wanted && buf.len() <= MAX_LOGO_BYTES {
                let room = MAX_LOGO_BYTES + 1 - buf.len();
                buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
        }
        if wanted && !buf.is_empty() {
            logo = Some(buf);
        }
    }
    Ok(logo)
}

fn store_logo(
    data_dir: &Path,
    service_id: i64,
    ext: &str,
    bytes: &[u8],
) -> std::io::Result<String> {
    let rel_dir = format!("{UPLOADS_DIR}/hc/{service_id}");
    let dir = data_dir.join(&rel_dir);
    std::fs::create_dir_all(&dir)?;
    let name = format!("logo-{}.{ext}", crate::crypto::random_hex(6));
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(&name))?;
    Ok(format!("{rel_dir}/{name}"))
}

/// `POST /{service_id}/console/help-center/settings/logo` (multipart, field `logo`).
pub async fn upload_logo(
    req: HttpRequest,
    a: HcAdmin,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let lang = a.viewer().lang;
    let max = format!("{} KB", MAX_LOGO_BYTES / 1024);
    let refuse = |key: &str| i18n::tf(lang, key, &[("max", &max)]);
    let bytes = match read_logo(payload).await {
        Ok(b) => b,
        Err(AppError::BadRequest("error.too_large")) => {
            return Ok(HttpResponse::PayloadTooLarge().finish());
        }
        Err(e) => return Err(e),
    };
    let error = match bytes {
        None => refuse("org.logo_missing"),
        Some(b) if b.len() > MAX_LOGO_BYTES => refuse("org.logo_too_large"),
        Some(b) => match sniff_image(&b) {
            None => refuse("org.logo_type"),
            Some((mime, ext)) => {
                let state = a.viewer().state.clone();
                let sid = a.service.id;
                let dir = state.config.data_dir.clone();
                let rel = web::block(move || store_logo(&dir, sid, ext, &b))
                    .await
                    .map_err(|e| AppError::Internal(format!("blocking task: {e}")))??;
                let rel2 = rel.clone();
                let old = state
                    .db
                    .write(move |c| {
                        let mut s = HcSettings::load(c, sid)?;
                        let old = s.logo_path.replace(rel2);
                        s.logo_mime = Some(mime.to_string());
                        s.save(c)?;
                        Ok(old)
                    })
                    .await?;
                crate::help_center::attachments::remove_files_later(
                    &state,
                    old.into_iter().filter(|o| *o != rel).collect(),
                )
                .await;
                let v = a.viewer();
                v.flash(Flash::success(v.t("hc.settings.logo_saved")));
                return Ok(w::redirect(
                    &req,
                    &format!("{}/settings", base(&a.service.code)),
                ));
            }
        },
    };
    render(
        &a,
        None,
        FormErrors::new(lang),
        error,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// `POST /{service_id}/console/help-center/settings/logo/delete`
pub async fn remove_logo(req: HttpRequest, a: HcAdmin) -> Result<HttpResponse, AppError> {
    let v = a.viewer();
    let sid = a.service.id;
    let old = v
        .state
        .db
        .write(move |c| {
            let mut s = HcSettings::load(c, sid)?;
            let old = s.logo_path.take();
            s.logo_mime = None;
            s.save(c)?;
            Ok(old)
        })
        .await?;
    crate::help_center::attachments::remove_files_later(&v.state, old.into_iter().collect()).await;
    v.flash(Flash::success(v.t("hc.settings.logo_removed")));
    Ok(w::redirect(
        &req,
        &format!("{}/settings", base(&a.service.code)),
    ))
}

/// The custom stylesheet as a response (`text/css`, from our own origin).
pub fn css_response(css: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(css)
}
