//! SMTP settings (stored with the password encrypted) and delivery through lettre with the
//! configured TLS mode.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::crypto::SecretKey;
use crate::db::schema::smtp_settings;
use crate::db::types::TlsMode;
use crate::db::{DbConn, now};

/// The SMTP relay used for all outgoing mail.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = smtp_settings)]
pub struct SmtpSettings {
    /// Always 1 (one row).
    pub id: i64,
    /// Host name.
    pub host: String,
    /// Port.
    pub port: i32,
    /// `plain`, `starttls` or `tls`.
    pub tls_mode: String,
    /// User name (empty = no authentication).
    pub username: String,
    /// Password, encrypted with the installation secret.
    pub password_enc: Option<String>,
    /// Sender address.
    pub from_address: String,
    /// Sender name.
    pub from_name: String,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// The values an administrator submits.
#[derive(Debug, Clone)]
pub struct SmtpInput {
    /// Host.
    pub host: String,
    /// Port.
    pub port: i32,
    /// TLS mode.
    pub tls_mode: TlsMode,
    /// User name.
    pub username: String,
    /// New password; `None` keeps the stored one.
    pub password: Option<String>,
    /// Sender address.
    pub from_address: String,
    /// Sender name.
    pub from_name: String,
}

impl SmtpSettings {
    /// The stored settings, if any.
    pub fn load(conn: &mut DbConn) -> QueryResult<Option<SmtpSettings>> {
        smtp_settings::table
            .find(1_i64)
            .select(SmtpSettings::as_select())
            .first(conn)
            .optional()
    }

    /// Saves the settings (insert or update of the single row), encrypting the password.
    pub fn save(conn: &mut DbConn, secret: &SecretKey, input: &SmtpInput) -> QueryResult<()> {
        let existing = SmtpSettings::load(conn)?;
        let password_enc = match (&input.password, &existing) {
            (Some(p), _) if !p.is_empty() => Some(secret.encrypt(p)),
            (Some(_), _) => None,
            (None, Some(e)) => e.password_enc.clone(),
            (None, None) => None,
        };
        let values = (
            smtp_settings::host.eq(input.host.trim()),
            smtp_settings::port.eq(input.port),
            smtp_settings::tls_mode.eq(input.tls_mode.as_str()),
            smtp_settings::username.eq(input.username.trim()),
            smtp_settings::password_enc.eq(password_enc),
            smtp_settings::from_address.eq(input.from_address.trim()),
            smtp_settings::from_name.eq(input.from_name.trim()),
            smtp_settings::updated_at.eq(now()),
        );
        if existing.is_some() {
            diesel::update(smtp_settings::table.find(1_i64))
                .set(values)
                .execute(conn)?;
        } else {
            diesel::insert_into(smtp_settings::table)
                .values((smtp_settings::id.eq(1_i64), values))
                .execute(conn)?;
        }
        Ok(())
    }

    /// The TLS mode.
    pub fn tls(&self) -> TlsMode {
        TlsMode::parse(&self.tls_mode).unwrap_or(TlsMode::StartTls)
    }
}

/// One message to send.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// Recipient address.
    pub to: String,
    /// Recipient name.
    pub to_name: String,
    /// Subject.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
}

/// Why a mail could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// No SMTP server configured.
    #[error("no SMTP server is configured")]
    NotConfigured,
    /// An address or the message could not be built.
    #[error("invalid message: {0}")]
    Message(String),
    /// The SMTP exchange failed.
    #[error("SMTP: {0}")]
    Smtp(String),
}

/// Sends one mail through the configured relay.
pub async fn send(
    settings: &SmtpSettings,
    secret: &SecretKey,
    mail: &OutgoingMail,
) -> Result<(), MailError> {
    let from_addr = settings
        .from_address
        .parse()
        .map_err(|e| MailError::Message(format!("from: {e}")))?;
    let from = Mailbox::new(
        if settings.from_name.is_empty() {
            None
        } else {
            Some(settings.from_name.clone())
        },
        from_addr,
    );
    let to = Mailbox::new(
        if mail.to_name.is_empty() {
            None
        } else {
            Some(mail.to_name.clone())
        },
        mail.to
            .parse()
            .map_err(|e| MailError::Message(format!("to: {e}")))?,
    );
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))
        .map_err(|e| MailError::Message(e.to_string()))?;
    let host = settings.host.clone();
    let tls = match settings.tls() {
        TlsMode::Plain => Tls::None,
        TlsMode::StartTls => Tls::Required(
            TlsParameters::new(host.clone()).map_err(|e| MailError::Smtp(e.to_string()))?,
        ),
        TlsMode::Tls => Tls::Wrapper(
            TlsParameters::new(host.clone()).map_err(|e| MailError::Smtp(e.to_string()))?,
        ),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(u16::try_from(settings.port).unwrap_or(25))
        .tls(tls)
        .timeout(Some(std::time::Duration::from_secs(20)));
    if !settings.username.is_empty() {
        let password = settings
            .password_enc
            .as_deref()
            .and_then(|p| secret.decrypt(p))
            .unwrap_or_default();
        builder = builder.credentials(Credentials::new(settings.username.clone(), password));
    }
    builder
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| MailError::Smtp(e.to_string()))
}
