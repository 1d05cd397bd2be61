//! Invitations and account mails. [`invite_member`] creates a member without a password and an
//! invitation link in the caller's transaction; [`send_account_mail`] renders and sends the
//! invitation or reset mail in the member's language after the transaction commits.

use askama::Template;

use crate::AppState;
use crate::auth::tokens;
use crate::auth::users::{NewUser, User};
use crate::db::DbConn;
use crate::db::types::TokenPurpose;
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::mail::{OutgoingMail, SmtpSettings};

/// HTML body of an account mail.
#[derive(Template)]
#[template(path = "email/account_link.html")]
struct AccountMailHtml<'a> {
    lang: &'a str,
    heading: &'a str,
    intro: &'a str,
    button: &'a str,
    link: &'a str,
    footer: &'a str,
}

/// Plain-text body of an account mail.
#[derive(Template)]
#[template(path = "email/account_link.txt")]
struct AccountMailText<'a> {
    heading: &'a str,
    intro: &'a str,
    link: &'a str,
    footer: &'a str,
}

/// Creates an invited member (no password yet) and returns it with its invitation link token.
pub fn invite_member(conn: &mut DbConn, new: &NewUser) -> Result<(User, String), AppError> {
    let id = User::create(
        conn,
        &NewUser {
            password: None,
            ..new.clone()
        },
    )?;
    let token = tokens::issue(conn, id, TokenPurpose::Invite)?;
    let user = User::find(conn, id)?.ok_or(AppError::NotFound)?;
    Ok((user, token))
}

/// Sends the invitation or reset mail for `token` to `user`. Errors are returned as text to be
/// shown to whoever triggered the mail.
pub async fn send_account_mail(
    state: &AppState,
    user: &User,
    purpose: TokenPurpose,
    token: &str,
    org_name: &str,
) -> Result<(), String> {
    let settings = state
        .db
        .read(|c| Ok(SmtpSettings::load(c)?))
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "no SMTP server is configured".to_string())?;
    let lang: Lang = user.lang();
    let (path, prefix) = match purpose {
        TokenPurpose::Invite => ("invite", "mail.invite"),
        TokenPurpose::Reset => ("password/reset", "mail.reset"),
    };
    let link = format!("{}/{path}/{token}", state.config.base_url);
    let args = [
        ("org", org_name),
        ("name", user.name.as_str()),
        ("login", user.login.as_str()),
    ];
    let subject = i18n::tf(lang, &format!("{prefix}.subject"), &args);
    let heading = i18n::tf(lang, &format!("{prefix}.heading"), &args);
    let intro = i18n::tf(lang, &format!("{prefix}.intro"), &args);
    let button = i18n::t(lang, &format!("{prefix}.button"));
    let footer = i18n::t(lang, &format!("{prefix}.footer"));
    let html = AccountMailHtml {
        lang: lang.code(),
        heading: &heading,
        intro: &intro,
        button: &button,
        link: &link,
        footer: &footer,
    }
    .render()
    .map_err(|e| e.to_string())?;
    let text = AccountMailText {
        heading: &heading,
        intro: &intro,
        link: &link,
        footer: &footer,
    }
    .render()
    .map_err(|e| e.to_string())?;
    let mail = OutgoingMail {
        to: user.email.clone(),
        to_name: user.name.clone(),
        subject,
        text,
        html,
        ..OutgoingMail::default()
    };
    crate::mail::send(&settings, &state.secret, &mail)
        .await
        .map_err(|e| e.to_string())
}
