//! The ways contacts arrive: [`email`] (IMAP accounts, import, quarantine) and, through the Open
//! API, phone calls. Each channel turns a contact into a ticket through `tickets::intake`.

pub mod email;
