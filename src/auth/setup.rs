//! `/setup`: the first-run form that creates the organization, its first administrator and its
//! first consultation service. Available only until an organization exists.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::auth::history;
use crate::db::types::LoginEventKind;
use crate::db::types::UserId;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::tenancy::organization::{SetupInput, needs_setup};
use crate::tenancy::user::User;
use crate::web::auth::{SESSION_STAMP, SESSION_USER, password_stamp};
use crate::web::{self as w, FormErrors, PageCtx, Viewer};

/// The setup page.
#[derive(Template)]
#[template(path = "auth/setup.html")]
pub struct SetupPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Values typed so far.
    pub form: SetupInput,
    /// Field errors.
    pub errors: FormErrors,
    /// Common time zones offered first.
    pub timezones: Vec<&'static str>,
}

/// Time zones offered in pickers (any IANA name is accepted).
pub const COMMON_TIMEZONES: &[&str] = &[
    "Asia/Seoul",
    "Asia/Tokyo",
    "UTC",
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Australia/Sydney",
];

/// `GET /setup`
pub async fn setup_form(req: HttpRequest, v: Viewer) -> Result<HttpResponse, AppError> {
    if !v.state.db.read(|c| Ok(needs_setup(c)?)).await? {
        return Ok(w::redirect(&req, "/login"));
    }
    let form = SetupInput {
        language: v.lang.code().into(),
        timezone: "Asia/Seoul".into(),
        ..Default::default()
    };
    let page = SetupPage {
        ctx: PageCtx::public(&v, "setup.title"),
        form,
        errors: FormErrors::new(v.lang),
        timezones: COMMON_TIMEZONES.to_vec(),
    };
    w::html(StatusCode::OK, &page)
}

/// `POST /setup`
pub async fn run_setup(
    req: HttpRequest,
    v: Viewer,
    form: web::Form<SetupInput>,
) -> Result<HttpResponse, AppError> {
    let input = form.into_inner();
    let secret = v.state.secret.clone();
    let lang = v.lang;
    let ip = w::client_ip(&req, v.state.config.trust_forwarded);
    let ua = w::user_agent(&req);
    let inp = input.clone();
    let result = v
        .state
        .db
        .write(move |conn| {
            if !needs_setup(conn)? {
                return Ok(None);
            }
            match crate::tenancy::organization::run_setup(conn, &secret, &inp, lang)? {
                Ok((admin_id, _)) => {
                    history::record(
                        conn,
                        Some(admin_id),
                        &inp.admin_login,
                        LoginEventKind::Login,
                        &ip,
                        &ua,
                    )?;
                    Ok(Some(Ok(
                        User::find(conn, UserId(admin_id))?.ok_or(AppError::NotFound)?
                    )))
                }
                Err(errors) => Ok(Some(Err(errors))),
            }
        })
        .await?;
    match result {
        None => Ok(w::redirect(&req, "/login")),
        Some(Ok(user)) => {
            v.session.renew();
            v.session
                .insert(SESSION_USER, user.id)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            v.session
                .insert(SESSION_STAMP, password_stamp(&user))
                .map_err(|e| AppError::Internal(e.to_string()))?;
            v.flash(crate::web::Flash::success(v.t("setup.done")));
            let mut resp = w::redirect(&req, &format!("/{}/console/", input.service_id.trim()));
            let _ = resp.add_cookie(&super::login::lang_cookie(
                Lang::parse(&input.language).unwrap_or(lang),
            ));
            Ok(resp)
        }
        Some(Err(violations)) => {
            let errors = FormErrors::translate(lang, &violations);
            let mut form = input;
            form.password.clear();
            form.password_confirm.clear();
            let page = SetupPage {
                ctx: PageCtx::public(&v, "setup.title"),
                form,
                errors,
                timezones: COMMON_TIMEZONES.to_vec(),
            };
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
