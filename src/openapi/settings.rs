//! Service settings → Authentication (SPEC §3.1): the Open API switch (turning it on generates
//! the service key), the service key with copy and regenerate (after a confirmation), the
//! allowed-IP list (addresses and CIDR ranges; empty = any caller) and the repeat-inquiry limit
//! that applies while the service's security feature is on. Service administrators only.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;
use ipnet::IpNet;

use crate::agents::form::Pairs;
use crate::crypto;
use crate::db::schema::{api_settings, services};
use crate::db::{DbConn, now};
use crate::error::AppError;
use crate::tenancy::organization::Organization;
use crate::tenancy::service::Service;
use crate::web::{self as w, Flash, FormErrors, PageCtx, ServiceAdmin};

use super::signing::parse_allowed_ips;

/// Longest allowed-IP list, in entries.
pub const MAX_IP_ENTRIES: usize = 100;
/// Repeat-inquiry limit bounds (inquiries per window).
pub const REPEAT_LIMIT_RANGE: (i32, i32) = (1, 1000);
/// Repeat-inquiry window bounds, in minutes (one minute to one day).
pub const REPEAT_WINDOW_RANGE: (i32, i32) = (1, 1440);

/// A service's Open API settings.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_settings)]
pub struct ApiSettings {
    /// Service.
    pub service_id: i64,
    /// Allowed caller addresses and ranges, one per line (empty: any caller).
    pub allowed_ips: String,
    /// Inquiries one end user may create within the window while repeat blocking is on.
    pub repeat_limit: i32,
    /// The repeat-inquiry window, in minutes.
    pub repeat_window_minutes: i32,
    /// Last change.
    pub updated_at: chrono::NaiveDateTime,
}

impl ApiSettings {
    /// The defaults of a service without a row: any caller, 5 inquiries per 60 minutes.
    pub fn defaults(service_id: i64) -> ApiSettings {
        ApiSettings {
            service_id,
            allowed_ips: String::new(),
            repeat_limit: 5,
            repeat_window_minutes: 60,
            updated_at: now(),
        }
    }

    /// The stored settings, or the defaults.
    pub fn load(conn: &mut DbConn, service_id: i64) -> QueryResult<ApiSettings> {
        Ok(api_settings::table
            .find(service_id)
            .select(ApiSettings::as_select())
            .first(conn)
            .optional()?
            .unwrap_or_else(|| ApiSettings::defaults(service_id)))
    }

    /// The allowed ranges (entries that no longer parse are skipped).
    pub fn ranges(&self) -> Vec<IpNet> {
        self.allowed_ips
            .lines()
            .filter_map(|l| parse_allowed_ips(l).ok())
            .flatten()
            .collect()
    }

    /// Inserts or replaces the row.
    pub fn save(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::delete(api_settings::table.find(self.service_id)).execute(conn)?;
        diesel::insert_into(api_settings::table)
            .values((
                api_settings::service_id.eq(self.service_id),
                api_settings::allowed_ips.eq(&self.allowed_ips),
                api_settings::repeat_limit.eq(self.repeat_limit),
                api_settings::repeat_window_minutes.eq(self.repeat_window_minutes),
                api_settings::updated_at.eq(now()),
            ))
            .execute(conn)?;
        Ok(())
    }
}

/// Turns the Open API off (the key is kept, unusable, until it is turned on again).
pub fn disable_open_api(conn: &mut DbConn, service: &Service) -> QueryResult<()> {
    let mut features = service.features();
    features.open_api = false;
    diesel::update(services::table.find(service.id))
        .set((
            services::open_api_enabled.eq(false),
            services::features.eq(serde_json::to_string(&features).unwrap_or_default()),
            services::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces the service key with a new random one (the old one stops working at once).
pub fn regenerate_key(
    conn: &mut DbConn,
    secret: &crypto::SecretKey,
    service_id: i64,
) -> QueryResult<String> {
    let key = crypto::random_hex(16);
    diesel::update(services::table.find(service_id))
        .set((
            services::service_key_enc.eq(Some(secret.encrypt(&key))),
            services::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(key)
}

/// The Authentication page.
#[derive(Template)]
#[template(path = "openapi/authentication.html")]
pub struct AuthenticationPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// `/{service}/console/settings/authentication`
    pub base: String,
    /// The service ID.
    pub service_code: String,
    /// Open API on.
    pub enabled: bool,
    /// The service key (when on).
    pub key: String,
    /// The organization ID used in signatures.
    pub org_uid: String,
    /// Public base URL.
    pub base_url: String,
    /// Allowed-IP text in the form.
    pub ips_value: String,
    /// Repeat limit in the form.
    pub limit_value: String,
    /// Repeat window in the form.
    pub window_value: String,
    /// Whether the security feature (repeat blocking) is on.
    pub security_on: bool,
    /// Form errors.
    pub errors: FormErrors,
}

async fn render(
    a: &ServiceAdmin,
    form: Option<(String, String, String)>,
    errors: FormErrors,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let sid = a.service.id;
    let secret = a.viewer().state.secret.clone();
    let (service, settings, org) = a
        .viewer()
        .state
        .db
        .read(move |c| {
            let service: Service = services::table
                .find(sid)
                .select(Service::as_select())
                .first(c)?;
            Ok((service, ApiSettings::load(c, sid)?, Organization::find(c)?))
        })
        .await?;
    let key = if service.open_api_enabled {
        service
            .service_key_enc
            .as_deref()
            .and_then(|k| secret.decrypt(k))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let (ips_value, limit_value, window_value) = form.unwrap_or_else(|| {
        (
            settings.allowed_ips.clone(),
            settings.repeat_limit.to_string(),
            settings.repeat_window_minutes.to_string(),
        )
    });
    let page = AuthenticationPage {
        ctx: PageCtx::console(a, "openapi.auth.title"),
        base: base(&service.code),
        service_code: service.code.clone(),
        enabled: service.open_api_enabled && !key.is_empty(),
        key,
        org_uid: org.map(|o| o.org_uid).unwrap_or_default(),
        base_url: a.viewer().state.config.base_url.clone(),
        ips_value,
        limit_value,
        window_value,
        security_on: service.features().security,
        errors,
    };
    w::html(status, &page)
}

/// The page's path.
pub fn base(code: &str) -> String {
    format!("/{code}/console/settings/authentication")
}

/// `GET /{service_id}/console/settings/authentication`
pub async fn authentication_page(a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let errors = FormErrors::new(a.viewer().lang);
    render(&a, None, errors, StatusCode::OK).await
}

/// `POST …/authentication/enable` — turns the Open API on (generating a key if needed).
pub async fn enable(req: HttpRequest, a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let (sid, secret) = (a.service.id, a.viewer().state.secret.clone());
    a.viewer()
        .state
        .db
        .write(move |c| Service::enable_open_api(c, &secret, sid).map(|_| ()))
        .await?;
    a.viewer()
        .flash(Flash::success(a.viewer().t("openapi.auth.enabled_flash")));
    Ok(w::redirect(&req, &base(&a.service.code)))
}

/// `POST …/authentication/disable` — turns the Open API off.
pub async fn disable(req: HttpRequest, a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let service = a.service.clone();
    a.viewer()
        .state
        .db
        .write(move |c| Ok(disable_open_api(c, &service)?))
        .await?;
    a.viewer()
        .flash(Flash::success(a.viewer().t("openapi.auth.disabled_flash")));
    Ok(w::redirect(&req, &base(&a.service.code)))
}

/// `POST …/authentication/key` — replaces the service key (the form asks first).
pub async fn regenerate(req: HttpRequest, a: ServiceAdmin) -> Result<HttpResponse, AppError> {
    let (sid, secret) = (a.service.id, a.viewer().state.secret.clone());
    let enabled = a.service.open_api_enabled;
    if !enabled {
        return Err(AppError::BadRequest("openapi.auth.key_needs_enabled"));
    }
    a.viewer()
        .state
        .db
        .write(move |c| Ok(regenerate_key(c, &secret, sid).map(|_| ())?))
        .await?;
    a.viewer()
        .flash(Flash::success(a.viewer().t("openapi.auth.key_regenerated")));
    Ok(w::redirect(&req, &base(&a.service.code)))
}

/// Checks and normalises the access form: the IP list (one entry per line) and the repeat
/// limit and window.
pub fn read_access_form(
    form: &Pairs,
    errors: &mut FormErrors,
    service_id: i64,
) -> Option<ApiSettings> {
    let ips = form.get("allowed_ips");
    let mut lines: Vec<String> = Vec::new();
    match parse_allowed_ips(ips) {
        Err(bad) => errors.add_with(
            "allowed_ips",
            "openapi.auth.ip_invalid",
            &[("entry", &bad.chars().take(60).collect::<String>())],
        ),
        Ok(nets) if nets.len() > MAX_IP_ENTRIES => errors.add_with(
            "allowed_ips",
            "openapi.auth.ip_too_many",
            &[("max", &MAX_IP_ENTRIES.to_string())],
        ),
        Ok(nets) => {
            for n in nets {
                let text = if n.prefix_len() == n.max_prefix_len() {
                    n.addr().to_string()
                } else {
                    n.to_string()
                };
                if !lines.contains(&text) {
                    lines.push(text);
                }
            }
        }
    }
    let bounded = |name: &str, range: (i32, i32), errors: &mut FormErrors| -> i32 {
        match form.get(name).trim().parse::<i32>() {
            Ok(v) if (range.0..=range.1).contains(&v) => v,
            _ => {
                errors.add_with(
                    name,
                    "openapi.auth.number_between",
                    &[("min", &range.0.to_string()), ("max", &range.1.to_string())],
                );
                0
            }
        }
    };
    let repeat_limit = bounded("repeat_limit", REPEAT_LIMIT_RANGE, errors);
    let repeat_window_minutes = bounded("repeat_window", REPEAT_WINDOW_RANGE, errors);
    if !errors.is_empty() {
        return None;
    }
    Some(ApiSettings {
        service_id,
        allowed_ips: lines.join("\n"),
        repeat_limit,
        repeat_window_minutes,
        updated_at: now(),
    })
}

/// `POST …/authentication/access` — saves the allowed IPs and the repeat-inquiry limit.
pub async fn save_access(
    req: HttpRequest,
    a: ServiceAdmin,
    form: web::Form<Pairs>,
) -> Result<HttpResponse, AppError> {
    let mut errors = FormErrors::new(a.viewer().lang);
    let Some(settings) = read_access_form(&form, &mut errors, a.service.id) else {
        let values = (
            form.get("allowed_ips").chars().take(10_000).collect(),
            form.get("repeat_limit").chars().take(20).collect(),
            form.get("repeat_window").chars().take(20).collect(),
        );
        return render(&a, Some(values), errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    a.viewer()
        .state
        .db
        .write(move |c| Ok(settings.save(c)?))
        .await?;
    a.viewer()
        .flash(Flash::success(a.viewer().t("openapi.auth.saved")));
    Ok(w::redirect(&req, &base(&a.service.code)))
}
