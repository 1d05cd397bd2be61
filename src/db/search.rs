//! Portable text search helpers. Backend differences in searching live here: SQLite's `LIKE` is
//! case-insensitive for ASCII while PostgreSQL's is not, so "contains" searches compare
//! `lower(column)` with a lower-cased pattern on both.

mod sql {
    #![allow(
        missing_docs,
        reason = "diesel's define_sql_function generates undocumented helper items"
    )]
    use diesel::sql_types::Text;

    diesel::define_sql_function! {
        /// SQL `lower(text)`: the same call on SQLite (ASCII folding) and PostgreSQL.
        fn lower(x: Text) -> Text;
    }
}

pub use sql::lower;

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A lower-cased "contains" pattern for `lower(column) LIKE pattern ESCAPE '\'`.
pub fn contains_pattern(q: &str) -> String {
    format!("%{}%", escape_like(&q.trim().to_lowercase()))
}
