//! "Forgot password" (a reset link by e-mail) and accepting an invitation (setting the first
//! password). Links are single-use and expire.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::auth::invite::queue_account_mail;
use crate::auth::tokens::{self, TokenProblem};
use crate::db::refuse;
use crate::db::types::TokenPurpose;
use crate::error::AppError;
use crate::notify::SmtpSettings;
use crate::tenancy::user::{User, is_valid_email, validate_password};
use crate::web::{self as w, Flash, FormErrors, PageCtx, Viewer};

/// The "forgot password" page.
#[derive(Template)]
#[template(path = "auth/forgot.html")]
pub struct ForgotPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// E-mail typed.
    pub email: String,
    /// Field errors.
    pub errors: FormErrors,
}

/// The page that sets a password from a link (reset or invitation).
#[derive(Template)]
#[template(path = "auth/set_password.html")]
pub struct SetPasswordPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Form target.
    pub action: String,
    /// The member's login (shown, and checked against the password).
    pub login: String,
    /// Intro text.
    pub intro: String,
    /// Field errors.
    pub errors: FormErrors,
    /// Set when the link cannot be used.
    pub problem: String,
}

/// The e-mail form.
#[derive(serde::Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// The new-password form.
#[derive(serde::Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// `GET /password/forgot`
pub async fn forgot_form(v: Viewer) -> Result<HttpResponse, AppError> {
    let page = ForgotPage {
        ctx: PageCtx::public(&v, "forgot.title"),
        email: String::new(),
        errors: FormErrors::new(v.lang),
    };
    w::html(StatusCode::OK, &page)
}

/// `POST /password/forgot`
pub async fn send_reset_link(
    req: HttpRequest,
    v: Viewer,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, AppError> {
    let email: String = form.email.trim().chars().take(254).collect();
    let mut errors = FormErrors::new(v.lang);
    if !is_valid_email(&email) {
        errors.add("email", "validation.email_format");
    } else {
        let e2 = email.clone();
        let org_name = v.org.as_ref().map(|o| o.name.clone()).unwrap_or_default();
        let base_url = v.state.config.base_url.clone();
        let found = v
            .state
            .db
            .write(move |c| {
                let Some(user) = User::find_by_email(c, &e2)? else {
                    return Ok(None);
                };
                if !user.active {
                    return Ok(None);
                }
                // Without a mail server the link could never arrive: say so instead.
                if SmtpSettings::load(c)?.is_none() {
                    return Ok(Some(false));
                }
                let token = tokens::issue(c, user.id, TokenPurpose::Reset)?;
                queue_account_mail(
                    c,
                    None,
                    &base_url,
                    &user,
                    TokenPurpose::Reset,
                    &token,
                    &org_name,
                )?;
                Ok(Some(true))
            })
            .await?;
        match found {
            None => errors.add("email", "forgot.unknown_email"),
            Some(false) => errors.add("email", "forgot.mail_failed"),
            Some(true) => {
                v.flash(Flash::success(v.t("outbox.reset_queued")));
                return Ok(w::redirect(&req, "/login"));
            }
        }
    }
    let page = ForgotPage {
        ctx: PageCtx::public(&v, "forgot.title"),
        email,
        errors,
    };
    w::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

fn link_page(
    v: &Viewer,
    purpose: TokenPurpose,
    token: &str,
    login: String,
    errors: FormErrors,
    problem: Option<TokenProblem>,
) -> SetPasswordPage {
    let (title, intro, action) = match purpose {
        TokenPurpose::Reset => (
            "reset.title",
            "reset.intro",
            format!("/password/reset/{token}"),
        ),
        TokenPurpose::Invite => ("invite.title", "invite.intro", format!("/invite/{token}")),
    };
    SetPasswordPage {
        ctx: PageCtx::public(v, title),
        action,
        login,
        intro: v.t(intro),
        errors,
        problem: problem.map(|p| v.t(p.message_key())).unwrap_or_default(),
    }
}

async fn show_link(
    v: Viewer,
    purpose: TokenPurpose,
    token: String,
) -> Result<HttpResponse, AppError> {
    let t2 = token.clone();
    let checked = v
        .state
        .db
        .read(move |c| Ok(tokens::check(c, &t2, purpose)?))
        .await?;
    match checked {
        Ok((_, user)) => {
            let page = link_page(
                &v,
                purpose,
                &token,
                user.login,
                FormErrors::new(v.lang),
                None,
            );
            w::html(StatusCode::OK, &page)
        }
        Err(problem) => {
            let page = link_page(
                &v,
                purpose,
                &token,
                String::new(),
                FormErrors::new(v.lang),
                Some(problem),
            );
            w::html(StatusCode::GONE, &page)
        }
    }
}

async fn use_link(
    req: HttpRequest,
    v: Viewer,
    purpose: TokenPurpose,
    token: String,
    form: PasswordForm,
) -> Result<HttpResponse, AppError> {
    let lang = v.lang;
    let t2 = token.clone();
    let result = v
        .state
        .db
        .write_or_refuse(move |c| {
            let (token_id, user) = match tokens::check(c, &t2, purpose)? {
                Ok(found) => found,
                Err(problem) => {
                    return refuse((String::new(), FormErrors::new(lang), Some(problem)));
                }
            };
            let mut errors = FormErrors::new(lang);
            validate_password(
                &mut errors,
                "password",
                &form.password,
                "password_confirm",
                &form.password_confirm,
                &user.login,
            );
            if !errors.is_empty() {
                return refuse((user.login, errors, None));
            }
            User::set_password(c, user.id, &form.password)?;
            tokens::consume(c, token_id)?;
            Ok(())
        })
        .await?;
    match result {
        Ok(()) => {
            let key = match purpose {
                TokenPurpose::Reset => "reset.done",
                TokenPurpose::Invite => "invite.done",
            };
            v.flash(Flash::success(v.t(key)));
            Ok(w::redirect(&req, "/login"))
        }
        Err((login, errors, problem)) => {
            let status = if problem.is_some() {
                StatusCode::GONE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let page = link_page(&v, purpose, &token, login, errors, problem);
            w::html(status, &page)
        }
    }
}

/// `GET /password/reset/{token}`
pub async fn reset_form(v: Viewer, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    show_link(v, TokenPurpose::Reset, token.into_inner()).await
}

/// `POST /password/reset/{token}`
pub async fn reset_password(
    req: HttpRequest,
    v: Viewer,
    token: web::Path<String>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    use_link(
        req,
        v,
        TokenPurpose::Reset,
        token.into_inner(),
        form.into_inner(),
    )
    .await
}

/// `GET /invite/{token}`
pub async fn invite_form(v: Viewer, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    show_link(v, TokenPurpose::Invite, token.into_inner()).await
}

/// `POST /invite/{token}`
pub async fn accept_invite(
    req: HttpRequest,
    v: Viewer,
    token: web::Path<String>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    use_link(
        req,
        v,
        TokenPurpose::Invite,
        token.into_inner(),
        form.into_inner(),
    )
    .await
}
