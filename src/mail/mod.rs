//! Outgoing mail over the SMTP server the administrator configures: [`smtp`] talks to the
//! relay, [`outbox`] queues mail in the transaction that causes it and delivers it with retries.

pub mod layouts;
pub mod outbox;
pub mod smtp;

pub use smtp::{OutgoingMail, SmtpSettings, send};
