//! Outgoing mail for accounts (invitations, password resets) over the SMTP server the
//! administrator configures. The later e-mail issue puts an outbox in front of [`send`].

pub mod smtp;

pub use smtp::{OutgoingMail, SmtpSettings, send};
