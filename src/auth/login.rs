//! Sign-in, sign-out, the landing redirect and the language switcher.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::auth::history;
use crate::db::types::LoginEventKind;
use crate::error::AppError;
use crate::i18n::{Lang, tf};
use crate::tenancy::user::User;
use crate::web::auth::{SESSION_STAMP, SESSION_USER, password_stamp};
use crate::web::{self as w, LANG_COOKIE, PageCtx, Viewer};

/// The sign-in page.
#[derive(Template)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// The login typed so far.
    pub login: String,
    /// Where to go afterwards.
    pub next: String,
    /// Why the last attempt failed.
    pub error: String,
}

/// Query of the sign-in page.
#[derive(serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /` — send each visitor where they belong.
pub async fn landing(req: HttpRequest, v: Viewer) -> Result<HttpResponse, AppError> {
    let needs_setup = v
        .state
        .db
        .read(|c| Ok(crate::tenancy::organization::needs_setup(c)?))
        .await?;
    if needs_setup {
        return Ok(w::redirect(&req, "/setup"));
    }
    let Some(user) = v.user.clone() else {
        return Ok(w::redirect(&req, "/login"));
    };
    let uid = user.id;
    let services = v
        .state
        .db
        .read(move |c| Ok(crate::tenancy::member::Member::services_of_user(c, uid)?))
        .await?;
    let target = if let Some((s, _)) = services.iter().find(|(s, _)| s.enabled) {
        format!("/{}/console/", s.code)
    } else if user.is_org_admin {
        "/admin/services".to_string()
    } else {
        "/account".to_string()
    };
    Ok(w::redirect(&req, &target))
}

/// `GET /login`
pub async fn login_form(
    req: HttpRequest,
    v: Viewer,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let needs_setup = v
        .state
        .db
        .read(|c| Ok(crate::tenancy::organization::needs_setup(c)?))
        .await?;
    if needs_setup {
        return Ok(w::redirect(&req, "/setup"));
    }
    if v.user.is_some() {
        let next = w::safe_next(q.next.as_deref()).unwrap_or_else(|| "/".into());
        return Ok(w::redirect(&req, &next));
    }
    let page = LoginPage {
        ctx: PageCtx::public(&v, "login.title"),
        login: String::new(),
        next: w::safe_next(q.next.as_deref()).unwrap_or_default(),
        error: String::new(),
    };
    w::html(StatusCode::OK, &page)
}

/// The sign-in form.
#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

enum Outcome {
    Ok(Box<User>),
    Throttled(i64),
    Invalid,
    Inactive,
}

/// `POST /login`
pub async fn login(
    req: HttpRequest,
    v: Viewer,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let ip = w::client_ip(&req, v.state.config.trust_forwarded);
    let ua = w::user_agent(&req);
    let login: String = form.login.trim().chars().take(254).collect();
    let password: String = form.password.chars().take(1024).collect();
    let (l2, ip2, ua2) = (login.clone(), ip.clone(), ua.clone());
    let outcome = v
        .state
        .db
        .write(move |conn| {
            if let Some(minutes) = history::throttled_minutes(conn, &l2, &ip2)? {
                history::record(conn, None, &l2, LoginEventKind::Failed, &ip2, &ua2)?;
                return Ok(Outcome::Throttled(minutes));
            }
            let user = match User::find_by_login(conn, &l2)? {
                Some(u) => Some(u),
                None if l2.contains('@') => User::find_by_email(conn, &l2)?,
                None => None,
            };
            let verified = user.filter(|u| {
                u.password_hash
                    .as_deref()
                    .is_some_and(|h| crate::crypto::verify_password(&password, h))
            });
            match verified {
                Some(u) if u.active => {
                    history::record(conn, Some(u.id), &l2, LoginEventKind::Login, &ip2, &ua2)?;
                    Ok(Outcome::Ok(Box::new(u)))
                }
                Some(u) => {
                    history::record(conn, Some(u.id), &l2, LoginEventKind::Failed, &ip2, &ua2)?;
                    Ok(Outcome::Inactive)
                }
                None => {
                    history::record(conn, None, &l2, LoginEventKind::Failed, &ip2, &ua2)?;
                    Ok(Outcome::Invalid)
                }
            }
        })
        .await?;
    let (status, error) = match outcome {
        Outcome::Ok(user) => {
            v.session.renew();
            v.session
                .insert(SESSION_USER, user.id)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            v.session
                .insert(SESSION_STAMP, password_stamp(&user))
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let next = w::safe_next(Some(&form.next)).unwrap_or_else(|| "/".into());
            let mut resp = w::redirect(&req, &next);
            let _ = resp.add_cookie(&lang_cookie(user.lang()));
            return Ok(resp);
        }
        Outcome::Throttled(m) => (
            StatusCode::TOO_MANY_REQUESTS,
            tf(v.lang, "login.throttled", &[("minutes", &m.to_string())]),
        ),
        Outcome::Invalid => (StatusCode::UNAUTHORIZED, v.t("login.invalid")),
        Outcome::Inactive => (StatusCode::FORBIDDEN, v.t("login.inactive")),
    };
    let page = LoginPage {
        ctx: PageCtx::public(&v, "login.title"),
        login,
        next: w::safe_next(Some(&form.next)).unwrap_or_default(),
        error,
    };
    w::html(status, &page)
}

/// `POST /logout`
pub async fn logout(req: HttpRequest, v: Viewer) -> Result<HttpResponse, AppError> {
    if let Some(user) = v.user.clone() {
        let ip = w::client_ip(&req, v.state.config.trust_forwarded);
        let ua = w::user_agent(&req);
        v.state
            .db
            .write(move |c| {
                crate::tenancy::presence::clear(c, user.id)?;
                Ok(history::record(
                    c,
                    Some(user.id),
                    &user.login,
                    LoginEventKind::Logout,
                    &ip,
                    &ua,
                )?)
            })
            .await?;
    }
    v.session.purge();
    Ok(w::redirect(&req, "/login"))
}

/// The cookie remembering a UI language for a year.
pub fn lang_cookie(lang: Lang) -> Cookie<'static> {
    Cookie::build(LANG_COOKIE, lang.code())
        .path("/")
        .same_site(SameSite::Lax)
        .http_only(true)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish()
}

/// `GET /lang/{code}?next=…` — remembers the chosen language (a preference, not account data).
pub async fn switch_language(
    path: web::Path<String>,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::parse(&path).ok_or(AppError::NotFound)?;
    let next = w::safe_next(q.next.as_deref()).unwrap_or_else(|| "/".into());
    let mut resp = HttpResponse::SeeOther()
        .insert_header(("Location", next))
        .finish();
    let _ = resp.add_cookie(&lang_cookie(lang));
    Ok(resp)
}
