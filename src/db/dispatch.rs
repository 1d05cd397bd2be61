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

/// Serialises the writers of one service's ordered configuration (category trees and the like)
/// until the transaction ends, so that a check-then-write (a name unique among siblings, the
/// next position) cannot interleave with another. On PostgreSQL it takes a row lock on the
/// service (`FOR NO KEY UPDATE`, which does not block inserts that merely reference the row);
/// on SQLite the in-process writer lock of [`super::Db::write`] already serialises writers.
pub fn lock_service(conn: &mut super::DbConn, service_id: i64) -> diesel::QueryResult<()> {
    use diesel::prelude::*;

    use super::schema::services;
    match conn {
        super::DbConn::Pg(c) => {
            services::table
                .find(service_id)
                .select(services::id)
                .for_no_key_update()
                .first::<i64>(c)
                .optional()?;
            Ok(())
        }
        super::DbConn::Sqlite(_) => Ok(()),
    }
}
