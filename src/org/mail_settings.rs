//! `/admin/mail`: the SMTP server all outgoing mail goes through (invitations, password resets,
//! and later ticket mail). The password is write-only: a blank field keeps the stored one, it is
//! stored encrypted and never rendered back. A test mail reports success or the exact SMTP error.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::db::types::TlsMode;
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::notify::smtp::SmtpInput;
use crate::notify::{OutgoingMail, SmtpSettings};
use crate::org::form::{check_max, check_required};
use crate::tenancy::user::is_valid_email;
use crate::web::{self as w, Flash, FormErrors, OrgAdmin, PageCtx};

/// Longest host name.
const MAX_HOST: usize = 253;
/// Longest user name and password.
const MAX_CREDENTIAL: usize = 256;
/// Longest sender name.
const MAX_FROM_NAME: usize = 100;

/// The settings form (the password is only ever read from it, never filled in).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct MailForm {
    /// Host.
    #[serde(default)]
    pub host: String,
    /// Port, as typed.
    #[serde(default)]
    pub port: String,
    /// `plain`, `starttls` or `tls`.
    #[serde(default)]
    pub tls_mode: String,
    /// User name.
    #[serde(default)]
    pub username: String,
    /// New password; blank keeps the stored one.
    #[serde(default)]
    pub password: String,
    /// Ticked to remove the stored password.
    #[serde(default)]
    pub clear_password: Option<String>,
    /// Sender address.
    #[serde(default)]
    pub from_address: String,
    /// Sender name.
    #[serde(default)]
    pub from_name: String,
}

/// The test form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TestForm {
    /// Recipient.
    #[serde(default)]
    pub to: String,
}

/// The mail-server page.
#[derive(Template)]
#[template(path = "admin/mail.html")]
pub struct MailPage {
    /// Shared context.
    pub ctx: PageCtx,
    /// Values (password always blank).
    pub form: MailForm,
    /// Whether a password is stored.
    pub has_password: bool,
    /// Whether settings exist at all.
    pub configured: bool,
    /// Settings errors.
    pub errors: FormErrors,
    /// Test recipient.
    pub test_to: String,
    /// Test errors (field `to`), and the SMTP failure (field `test`).
    pub test_errors: FormErrors,
    /// TLS modes: code and label key.
    pub tls_modes: Vec<(String, String)>,
}

fn tls_modes() -> Vec<(String, String)> {
    TlsMode::ALL
        .iter()
        .map(|m| (m.as_str().to_string(), format!("smtp.tls.{}", m.as_str())))
        .collect()
}

fn form_of(s: Option<&SmtpSettings>) -> MailForm {
    match s {
        Some(s) => MailForm {
            host: s.host.clone(),
            port: s.port.to_string(),
            tls_mode: s.tls_mode.clone(),
            username: s.username.clone(),
            password: String::new(),
            clear_password: None,
            from_address: s.from_address.clone(),
            from_name: s.from_name.clone(),
        },
        None => MailForm {
            port: "587".into(),
            tls_mode: TlsMode::StartTls.as_str().into(),
            ..MailForm::default()
        },
    }
}

struct Extra {
    form: Option<MailForm>,
    errors: Option<FormErrors>,
    test_to: String,
    test_errors: Option<FormErrors>,
}

async fn page(admin: &OrgAdmin, extra: Extra) -> Result<MailPage, AppError> {
    let lang = admin.0.viewer.lang;
    let stored = admin
        .0
        .viewer
        .state
        .db
        .read(|c| Ok(SmtpSettings::load(c)?))
        .await?;
    let mut form = extra.form.unwrap_or_else(|| form_of(stored.as_ref()));
    form.password.clear();
    form.clear_password = None;
    Ok(MailPage {
        ctx: PageCtx::admin(&admin.0, "smtp.title"),
        form,
        has_password: stored.as_ref().is_some_and(|s| s.password_enc.is_some()),
        configured: stored.is_some(),
        errors: extra.errors.unwrap_or_else(|| FormErrors::new(lang)),
        test_to: if extra.test_to.is_empty() {
            admin.0.user.email.clone()
        } else {
            extra.test_to
        },
        test_errors: extra.test_errors.unwrap_or_else(|| FormErrors::new(lang)),
        tls_modes: tls_modes(),
    })
}

/// `GET /admin/mail`
pub async fn mail_page(admin: OrgAdmin) -> Result<HttpResponse, AppError> {
    let p = page(
        &admin,
        Extra {
            form: None,
            errors: None,
            test_to: String::new(),
            test_errors: None,
        },
    )
    .await?;
    w::html(StatusCode::OK, &p)
}

/// Validates the form into the values to save.
pub fn validate(form: &MailForm, lang: Lang) -> Result<SmtpInput, FormErrors> {
    let mut errors = FormErrors::new(lang);
    let host = form.host.trim();
    check_required(&mut errors, "host", host, MAX_HOST);
    if !host.is_empty()
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        errors.add("host", "smtp.host_format");
    }
    let port = form.port.trim().parse::<i32>().ok();
    let port = port.filter(|p| (1..=65535).contains(p));
    if port.is_none() {
        errors.add("port", "smtp.port_range");
    }
    let tls = TlsMode::parse(&form.tls_mode);
    if tls.is_none() {
        errors.add("tls_mode", "validation.choose_option");
    }
    check_max(
        &mut errors,
        "username",
        form.username.trim(),
        MAX_CREDENTIAL,
    );
    check_max(&mut errors, "password", &form.password, MAX_CREDENTIAL);
    if !is_valid_email(&form.from_address) {
        errors.add("from_address", "validation.email_format");
    }
    check_max(
        &mut errors,
        "from_name",
        form.from_name.trim(),
        MAX_FROM_NAME,
    );
    let (Some(port), Some(tls_mode)) = (port, tls) else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let password = if form.clear_password.is_some() {
        Some(String::new())
    } else if form.password.is_empty() {
        None
    } else {
        Some(form.password.clone())
    };
    Ok(SmtpInput {
        host: host.to_string(),
        port,
        tls_mode,
        username: form.username.trim().to_string(),
        password,
        from_address: form.from_address.trim().to_string(),
        from_name: form.from_name.trim().to_string(),
    })
}

/// `POST /admin/mail`
pub async fn save_mail_settings(
    req: HttpRequest,
    admin: OrgAdmin,
    form: web::Form<MailForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let v = &admin.0.viewer;
    match validate(&form, v.lang) {
        Ok(input) => {
            let secret = v.state.secret.clone();
            v.state
                .db
                .write(move |c| Ok(SmtpSettings::save(c, &secret, &input)?))
                .await?;
            v.flash(Flash::success(v.t("smtp.saved")));
            Ok(w::redirect(&req, "/admin/mail"))
        }
        Err(errors) => {
            let p = page(
                &admin,
                Extra {
                    form: Some(form),
                    errors: Some(errors),
                    test_to: String::new(),
                    test_errors: None,
                },
            )
            .await?;
            w::html(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}

/// The test mail's HTML part.
#[derive(Template)]
#[template(path = "admin/test_mail.html")]
struct TestMailHtml<'a> {
    lang: &'a str,
    heading: &'a str,
    body: &'a str,
}

/// The test mail's text part.
#[derive(Template)]
#[template(path = "admin/test_mail.txt")]
struct TestMailText<'a> {
    heading: &'a str,
    body: &'a str,
}

/// `POST /admin/mail/test` — sends a test mail through the saved settings.
pub async fn send_test_mail(
    req: HttpRequest,
    admin: OrgAdmin,
    form: web::Form<TestForm>,
) -> Result<HttpResponse, AppError> {
    let v = &admin.0.viewer;
    let lang = v.lang;
    let to: String = form.to.trim().chars().take(254).collect();
    let mut test_errors = FormErrors::new(lang);
    if !is_valid_email(&to) {
        test_errors.add("to", "validation.email_format");
    } else {
        let settings = v.state.db.read(|c| Ok(SmtpSettings::load(c)?)).await?;
        match settings {
            None => test_errors.add("test", "smtp.not_configured"),
            Some(settings) => {
                let org = v.org.as_ref().map(|o| o.name.as_str()).unwrap_or("");
                let args = [("org", org), ("host", settings.host.as_str())];
                let subject = i18n::tf(lang, "smtp.test_subject", &args);
                let heading = i18n::tf(lang, "smtp.test_heading", &args);
                let body = i18n::tf(lang, "smtp.test_body", &args);
                let html = TestMailHtml {
                    lang: lang.code(),
                    heading: &heading,
                    body: &body,
                }
                .render()?;
                let text = TestMailText {
                    heading: &heading,
                    body: &body,
                }
                .render()?;
                let mail = OutgoingMail {
                    to: to.clone(),
                    to_name: String::new(),
                    subject,
                    text,
                    html,
                    ..OutgoingMail::default()
                };
                match crate::notify::send(
                    &settings,
                    &v.state.secret,
                    &mail,
                    v.state.config.timeouts.smtp,
                )
                .await
                {
                    Ok(()) => {
                        v.flash(Flash::success(i18n::tf(
                            lang,
                            "smtp.test_sent",
                            &[("to", &to)],
                        )));
                        return Ok(w::redirect(&req, "/admin/mail"));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "test mail failed");
                        test_errors.add_with(
                            "test",
                            "smtp.test_failed",
                            &[("error", &e.to_string())],
                        );
                    }
                }
            }
        }
    }
    let p = page(
        &admin,
        Extra {
            form: None,
            errors: None,
            test_to: to,
            test_errors: Some(test_errors),
        },
    )
    .await?;
    w::html(StatusCode::UNPROCESSABLE_ENTITY, &p)
}
