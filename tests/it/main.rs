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
mod browser;
mod categories;
mod cli;
mod fields;
mod foundation;
mod help_center;
mod inquiry;
mod lifecycle;
mod ticket_console;
