//! The integration suite: one binary, one file per feature. Runs on SQLite, and on PostgreSQL
//! when `TEST_DATABASE_URL` is set.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on purpose"
)]

mod support;

mod admin;
mod agents;
mod auth;
mod automation;
mod browser;
mod categories;
mod cli;
mod console_shell;
mod customer_info;
mod dooray;
mod fields;
mod foundation;
mod grades;
mod hc_history;
mod help_center;
mod inquiry;
mod job_queue;
mod layers;
mod lifecycle;
mod mail_channel;
mod morning;
mod openapi;
mod openapi_admin;
mod openapi_client;
mod openapi_doc;
mod openapi_docs_admin;
mod openapi_mail;
mod openapi_member;
mod openapi_org;
mod openapi_settings;
mod ticket_console;
mod ticket_detail;
mod ticket_settings;
