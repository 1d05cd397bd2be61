//! The integration suite: one binary, one file per feature. Runs on SQLite, and on PostgreSQL
//! when `TEST_DATABASE_URL` is set.

mod support;

mod auth;
mod foundation;
