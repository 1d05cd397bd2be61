//! The integration suite: one binary, one file per feature. Runs on SQLite, and on PostgreSQL
//! when `TEST_DATABASE_URL` is set.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on anything unexpected"
)]

mod support;

mod admin;
mod auth;
mod foundation;
