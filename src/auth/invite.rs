//! Invitations and account mails. [`invite_member`] creates a member without a password and an
//! invitation link in the caller's transaction; [`queue_account_mail`] renders the invitation or
//! reset mail in the member's language and queues it in the same transaction, so the link and
//! its mail are saved together and the outbox delivers it with retries.

use askama::Template;

use crate::auth::tokens;
use crate::db::DbConn;
use crate::db::types::TokenPurpose;
use crate::db::types::UserId;
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::notify::outbox::{self, NewMail};
use crate::notify::{OutgoingMail, SmtpSettings};
use crate::tenancy::user::{NewUser, User};

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
    let user = User::find(conn, UserId(id))?.ok_or(AppError::NotFound)?;
    Ok((user, token))
}

/// How a queued account mail will go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued; the outbox delivers it.
    Queued,
    /// Queued, but no SMTP server is configured yet: it waits (and retries) until one is.
    NoRelay,
}

/// Renders the invitation or reset mail for `token` to `user` and puts it in the outbox in the
/// caller's transaction: organization mail (`service_id` `None`, listed in `/admin/outbox`), or
/// the mail of the service whose administrator sent it (listed in that service's outbox).
pub fn queue_account_mail(
    conn: &mut DbConn,
    service_id: Option<i64>,
    base_url: &str,
    user: &User,
    purpose: TokenPurpose,
    token: &str,
    org_name: &str,
) -> Result<Queued, AppError> {
    let lang: Lang = user.lang();
    let (path, prefix, code) = match purpose {
        TokenPurpose::Invite => ("invite", "mail.invite", "invite"),
        TokenPurpose::Reset => ("password/reset", "mail.reset", "reset"),
    };
    let link = format!("{base_url}/{path}/{token}");
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
    .render()?;
    let text = AccountMailText {
        heading: &heading,
        intro: &intro,
        link: &link,
        footer: &footer,
    }
    .render()?;
    let mail = OutgoingMail {
        to: user.email.clone(),
        to_name: user.name.clone(),
        subject,
        text,
        html,
        ..OutgoingMail::default()
    };
    outbox::enqueue(
        conn,
        &NewMail {
            service_id,
            ticket_id: None,
            purpose: code.into(),
            mail,
        },
    )?;
    Ok(if SmtpSettings::load(conn)?.is_some() {
        Queued::Queued
    } else {
        Queued::NoRelay
    })
}
