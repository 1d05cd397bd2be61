//! My account (SPEC §2.7): name, e-mail, phone, UI language, password, and the member's own
//! ticket/chat assignment toggles in services where assignment control allows it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use diesel::prelude::*;

use crate::db::now;
use crate::db::refuse;
use crate::db::schema::{service_members, users};
use crate::db::types::UserId;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::tenancy::user::{User, is_valid_email, validate_name, validate_password};
use crate::web::auth::{SESSION_STAMP, password_stamp};
use crate::web::{self as w, Flash, FormErrors, PageCtx, SignedIn};

/// A service where the member may flip their own assignment toggles.
pub struct AssignmentRow {
    /// Service ID.
    pub code: String,
    /// Service name.
    pub name: String,
    /// Ticket assignment on.
    pub ticket: bool,
    /// Chat assignment on.
    pub chat: bool,
}

/// The account page.
#[derive(Template)]
#[template(path = "auth/account.html")]
pub struct AccountPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Profile values.
    pub profile: ProfileForm,
    /// Login ID (read-only).
    pub login: String,
    /// Profile errors.
    pub errors: FormErrors,
    /// Password errors.
    pub password_errors: FormErrors,
    /// Assignment toggles.
    pub assignments: Vec<AssignmentRow>,
}

/// Profile form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ProfileForm {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// E-mail.
    #[serde(default)]
    pub email: String,
    /// Phone.
    #[serde(default)]
    pub phone: String,
    /// UI language.
    #[serde(default)]
    pub ui_lang: String,
}

/// Password change form.
#[derive(serde::Deserialize)]
pub struct ChangePasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

/// Assignment toggles form: `ticket_<code>` / `chat_<code>` checkboxes for one service.
#[derive(serde::Deserialize)]
pub struct AssignmentForm {
    service: String,
    #[serde(default)]
    ticket: Option<String>,
    #[serde(default)]
    chat: Option<String>,
}

fn assignments(s: &SignedIn) -> Vec<AssignmentRow> {
    s.services
        .iter()
        .filter(|(_, m)| m.assignment_control)
        .map(|(svc, m)| AssignmentRow {
            code: svc.code.clone(),
            name: svc.name.clone(),
            ticket: m.ticket_assignable,
            chat: m.chat_assignable,
        })
        .collect()
}

fn page(
    s: &SignedIn,
    profile: ProfileForm,
    errors: FormErrors,
    password_errors: FormErrors,
) -> AccountPage {
    AccountPage {
        ctx: PageCtx::account(s, "account.title"),
        login: s.user.login.clone(),
        profile,
        errors,
        password_errors,
        assignments: assignments(s),
    }
}

fn profile_of(u: &User) -> ProfileForm {
    ProfileForm {
        name: u.name.clone(),
        email: u.email.clone(),
        phone: u.phone.clone(),
        ui_lang: u.ui_lang.clone(),
    }
}

/// `GET /account`
pub async fn account_page(s: SignedIn) -> Result<HttpResponse, AppError> {
    let lang = s.viewer.lang;
    let p = page(
        &s,
        profile_of(&s.user),
        FormErrors::new(lang),
        FormErrors::new(lang),
    );
    w::html(StatusCode::OK, &p)
}

/// Phone numbers: digits, spaces, `+`, `-`, parentheses; at most 20 characters.
fn valid_phone(p: &str) -> bool {
    let p = p.trim();
    p.chars().count() <= 20
        && p.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
}

/// `POST /account`
pub async fn update_profile(
    req: HttpRequest,
    s: SignedIn,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let lang = s.viewer.lang;
    let uid = s.user.id;
    let f2 = form.clone();
    let result = s
        .viewer
        .state
        .db
        .write_or_refuse(move |c| {
            let mut errors = FormErrors::new(lang);
            validate_name(&mut errors, "name", &f2.name);
            if !is_valid_email(&f2.email) {
                errors.add("email", "validation.email_format");
            } else if User::find_by_email(c, &f2.email)?.is_some_and(|u| u.id != uid) {
                errors.add("email", "validation.email_taken");
            }
            if !valid_phone(&f2.phone) {
                errors.add("phone", "validation.phone_format");
            }
            let Some(ui_lang) = Lang::parse(&f2.ui_lang) else {
                errors.add("ui_lang", "validation.choose_option");
                return refuse(errors);
            };
            if !errors.is_empty() {
                return refuse(errors);
            }
            diesel::update(users::table.find(uid))
                .set((
                    users::name.eq(f2.name.trim()),
                    users::email.eq(f2.email.trim().to_lowercase()),
                    users::phone.eq(f2.phone.trim()),
                    users::ui_lang.eq(ui_lang.code()),
                    users::updated_at.eq(now()),
                ))
                .execute(c)?;
            Ok(ui_lang)
        })
        .await?;
    match result {
        Ok(ui_lang) => {
            s.viewer
                .flash(Flash::success(crate::i18n::t(ui_lang, "account.saved")));
            let mut resp = w::redirect(&req, "/account");
            let _ = resp.add_cookie(&super::login::lang_cookie(ui_lang));
            Ok(resp)
        }
        Err(errors) => {
            let p = page(&s, form, errors, FormErrors::new(lang));
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}

/// `POST /account/password`
pub async fn change_password(
    req: HttpRequest,
    s: SignedIn,
    form: web::Form<ChangePasswordForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let lang = s.viewer.lang;
    let user = s.user.clone();
    let result = s
        .viewer
        .state
        .db
        .write_or_refuse(move |c| {
            let mut errors = FormErrors::new(lang);
            let current_ok = user
                .password_hash
                .as_deref()
                .is_some_and(|h| crate::crypto::verify_password(&form.current_password, h));
            if !current_ok {
                errors.add("current_password", "account.current_password_wrong");
            }
            validate_password(
                &mut errors,
                "password",
                &form.password,
                "password_confirm",
                &form.password_confirm,
                &user.login,
            );
            if !errors.is_empty() {
                return refuse(errors);
            }
            User::set_password(c, user.id, &form.password)?;
            Ok(User::find(c, UserId(user.id))?.ok_or(AppError::NotFound)?)
        })
        .await?;
    match result {
        Ok(updated) => {
            // Keep this session; every other session of the member ends with the new stamp.
            s.viewer
                .session
                .insert(SESSION_STAMP, password_stamp(&updated))
                .map_err(|e| AppError::Internal(e.to_string()))?;
            s.viewer
                .flash(Flash::success(s.viewer.t("account.password_changed")));
            Ok(w::redirect(&req, "/account"))
        }
        Err(password_errors) => {
            let p = page(
                &s,
                profile_of(&s.user),
                FormErrors::new(lang),
                password_errors,
            );
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}

/// `POST /account/assignment` — only where the member has assignment control.
pub async fn update_assignment(
    req: HttpRequest,
    s: SignedIn,
    form: web::Form<AssignmentForm>,
) -> Result<HttpResponse, AppError> {
    let Some((svc, member)) = s.services.iter().find(|(svc, _)| svc.code == form.service) else {
        return Err(AppError::Forbidden("error.forbidden_service"));
    };
    if !member.assignment_control {
        return Err(AppError::Forbidden("account.no_assignment_control"));
    }
    let (sid, uid) = (svc.id, s.user.id);
    let (ticket, chat) = (form.ticket.is_some(), form.chat.is_some());
    s.viewer
        .state
        .db
        .write(move |c| {
            diesel::update(
                service_members::table
                    .filter(service_members::service_id.eq(sid))
                    .filter(service_members::user_id.eq(uid)),
            )
            .set((
                service_members::ticket_assignable.eq(ticket),
                service_members::chat_assignable.eq(chat),
                service_members::updated_at.eq(now()),
            ))
            .execute(c)?;
            Ok(())
        })
        .await?;
    s.viewer
        .flash(Flash::success(s.viewer.t("account.assignment_saved")));
    Ok(w::redirect(&req, "/account"))
}
