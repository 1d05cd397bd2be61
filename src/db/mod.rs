//! The database layer: one [`DbConn`] over SQLite (embedded default) and PostgreSQL, an r2d2 pool
//! that picks the backend from the URL scheme, embedded migrations for both trees, and [`Db`], the
//! async-safe entry point handlers use (`Db::read` / `Db::write` run diesel on the blocking pool;
//! work that may refuse — a form error, a conflict — uses `Db::write_or_refuse`, which rolls the
//! transaction back on a refusal instead of committing what was written before it).

pub mod dispatch;
pub mod queue;
pub mod schema;
pub mod search;
pub mod types;

use std::sync::{Arc, Mutex};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::AppError;

/// Migrations for SQLite, compiled into the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// Migrations for PostgreSQL, compiled into the binary. Names match [`SQLITE_MIGRATIONS`].
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

mod conn {
    #![expect(
        missing_docs,
        reason = "diesel's MultiConnection derive generates undocumented items"
    )]

    /// One database connection, SQLite or PostgreSQL. Queries written against the portable
    /// schema run on either variant; backend-specific SQL goes through `dispatch`.
    #[derive(diesel::MultiConnection)]
    pub enum DbConn {
        /// A PostgreSQL connection.
        Pg(diesel::PgConnection),
        /// An SQLite connection (with foreign keys, busy timeout and WAL).
        Sqlite(diesel::SqliteConnection),
    }
}

pub use conn::{DbConn, MultiBackend};

/// Which backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://path`
    Sqlite,
    /// `postgres://…` or `postgresql://…`
    Postgres,
}

impl Backend {
    /// The name reported by `/healthz`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A parsed database URL: the backend and what to hand to diesel's `establish`.
#[derive(Debug, Clone)]
pub struct DbUrl {
    /// The backend selected by the scheme.
    pub backend: Backend,
    /// The string passed to diesel (a file path for SQLite, the URL for PostgreSQL).
    pub target: String,
}

impl DbUrl {
    /// Parses `sqlite://path` or `postgres://…`; any other scheme is refused, because SQLite
    /// would otherwise accept any string as a file name.
    pub fn parse(url: &str) -> Result<DbUrl, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// URL needs a file path".into());
            }
            Ok(DbUrl {
                backend: Backend::Sqlite,
                target: path.to_string(),
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DbUrl {
                backend: Backend::Postgres,
                target: url.to_string(),
            })
        } else {
            Err(format!(
                "unsupported database URL scheme in {url:?}: use sqlite://PATH or postgres://…"
            ))
        }
    }
}

/// r2d2 manager that opens the variant named by the URL scheme and applies SQLite pragmas.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DbUrl,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.url.backend {
            Backend::Postgres => diesel::PgConnection::establish(&self.url.target)
                .map(DbConn::Pg)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(&self.url.target)
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// The shared database handle: a pool plus, for SQLite, the in-process writer lock.
///
/// SQLite allows one writer at a time; a deferred transaction that reads and then writes can fail
/// with `SQLITE_BUSY` without waiting when another writer holds the lock. Serialising writers in
/// the process removes that failure mode (SQLite is single-process by design here; several
/// processes are the PostgreSQL scale-out path, where row locks do this job).
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager>,
    backend: Backend,
    write_lock: Arc<Mutex<()>>,
}

impl Db {
    /// Opens a pool for `url` (creating the SQLite file's directory and enabling WAL).
    pub fn connect(url: &str, max_size: u32) -> anyhow::Result<Db> {
        let parsed = DbUrl::parse(url).map_err(anyhow::Error::msg)?;
        if parsed.backend == Backend::Sqlite {
            if let Some(dir) = std::path::Path::new(&parsed.target).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir)?;
            }
            let mut conn = diesel::SqliteConnection::establish(&parsed.target)?;
            conn.batch_execute("PRAGMA journal_mode = WAL;")?;
        }
        let backend = parsed.backend;
        let pool = Pool::builder()
            .max_size(max_size)
            .connection_timeout(std::time::Duration::from_secs(10))
            .build(ConnectionManager { url: parsed })?;
        Ok(Db {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
        })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A pooled connection for blocking code (CLI, background workers on a blocking thread).
    pub fn get(&self) -> Result<PooledConnection<ConnectionManager>, AppError> {
        self.pool
            .get()
            .map_err(|e| AppError::Internal(format!("database pool: {e}")))
    }

    /// Applies pending migrations of the backend's tree.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self.get().map_err(|e| anyhow::anyhow!("{e}"))?;
        let applied = match &mut *conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
            DbConn::Pg(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        }
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(applied.into_iter().map(|v| v.to_string()).collect())
    }

    /// Runs read-only work on the blocking pool.
    pub async fn read<F, T>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool
                .get()
                .map_err(|e| AppError::Internal(format!("database pool: {e}")))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| AppError::Internal(format!("blocking task: {e}")))?
    }

    /// Runs `f` in one transaction on the blocking pool; everything or nothing is saved.
    pub async fn write<F, T>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError> + Send + 'static,
        T: Send + 'static,
    {
        let this = self.clone();
        actix_web::web::block(move || this.write_blocking(f))
            .await
            .map_err(|e| AppError::Internal(format!("blocking task: {e}")))?
    }

    /// Runs `f` in one transaction on the blocking pool and commits only when it returns `Ok`.
    /// A refusal (`Err(TxError::Refused(r))`, see [`refuse`]) rolls the transaction back, so a
    /// refusal after a partial write leaves nothing behind, and comes back as `Ok(Err(r))`; a
    /// failure rolls back too and comes back as `Err`.
    pub async fn write_or_refuse<F, T, R>(&self, f: F) -> Result<Result<T, R>, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, TxError<R>> + Send + 'static,
        T: Send + 'static,
        R: Send + 'static,
    {
        let this = self.clone();
        actix_web::web::block(move || this.write_or_refuse_blocking(f))
            .await
            .map_err(|e| AppError::Internal(format!("blocking task: {e}")))?
    }

    /// [`Db::write_or_refuse`] for code already on a blocking thread.
    pub fn write_or_refuse_blocking<F, T, R>(&self, f: F) -> Result<Result<T, R>, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, TxError<R>>,
    {
        let mut conn = self.get()?;
        let _guard = self.lock_writer();
        match conn.transaction(|c| f(c)) {
            Ok(v) => Ok(Ok(v)),
            Err(TxError::Refused(r)) => Ok(Err(r)),
            Err(TxError::Failed(e)) => Err(e),
        }
    }

    /// The in-process writer lock (SQLite only).
    fn lock_writer(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_lock.lock().unwrap_or_else(|p| p.into_inner())),
            Backend::Postgres => None,
        }
    }

    /// [`Db::write`] for code already on a blocking thread.
    pub fn write_blocking<F, T>(&self, f: F) -> Result<T, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<T, AppError>,
    {
        let mut conn = self.get()?;
        let _guard = self.lock_writer();
        conn.transaction(|c| f(c))
    }
}

/// Why a [`Db::write_or_refuse`] transaction was rolled back.
#[derive(Debug)]
pub enum TxError<R> {
    /// The work refused (a domain answer such as a form error or a conflict).
    Refused(R),
    /// The work failed (database or other internal error).
    Failed(AppError),
}

impl<R> From<diesel::result::Error> for TxError<R> {
    fn from(e: diesel::result::Error) -> Self {
        TxError::Failed(AppError::from(e))
    }
}

impl<R> From<AppError> for TxError<R> {
    fn from(e: AppError) -> Self {
        TxError::Failed(e)
    }
}

/// Ends a [`Db::write_or_refuse`] transaction with a refusal (rolled back).
pub fn refuse<T, R>(r: R) -> Result<T, TxError<R>> {
    Err(TxError::Refused(r))
}

/// Current UTC time truncated to microseconds, the precision both backends store.
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{DurationRound, TimeDelta};
    let t = chrono::Utc::now().naive_utc();
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}
