//! The one place where code matches on the backend. Anything that cannot be written once against
//! the portable schema (upserts, date bucketing, locking clauses) goes through [`db_dispatch!`].

/// Runs the same body on whichever inner connection `$conn` holds, binding it as `$inner`.
///
/// ```text
/// db_dispatch!(conn, |c| diesel::insert_into(t).values(v).on_conflict_do_nothing().execute(c))
/// ```
#[macro_export]
macro_rules! db_dispatch {
    ($conn:expr, |$inner:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Sqlite($inner) => $body,
            $crate::db::DbConn::Pg($inner) => $body,
        }
    };
}

/// `true` when the connection is PostgreSQL.
pub fn is_postgres(conn: &super::DbConn) -> bool {
    matches!(conn, super::DbConn::Pg(_))
}
