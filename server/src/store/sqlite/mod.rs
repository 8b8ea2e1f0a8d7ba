//! The embedded store: one SQLite file in WAL mode, so a fresh checkout runs
//! with no services.
//!
//! Migrations are versioned with `PRAGMA user_version` and applied at open
//! (see [`migrations`]). Writes go to one writer thread that commits them in
//! groups with `synchronous=FULL` and answers only after the commit, so an
//! acknowledged webhook survives a power cut; reads use a pool of read-only
//! connections (see [`connections`]).
//!
//! This file holds the store itself: opening, the read and write plumbing and
//! health. Each aggregate's operations are in a file of their own (`tenants`,
//! `orders`, `notifications`, `activity`, `webhook_log`, `identity`), written
//! with the shared query helper of [`query`] and the row mappings of [`rows`].

mod activity;
mod checkpoint;
mod connections;
mod identity;
mod invitations;
mod migrations;
mod notifications;
mod orders;
#[cfg(test)]
mod plans;
mod providers;
mod query;
mod rows;
mod tenants;
mod webhook_log;

use std::{
    path::{Path, PathBuf},
    sync::{atomic::Ordering, Arc},
};

use async_trait::async_trait;
use rusqlite::{Connection, ErrorCode};

use self::{
    connections::{Readers, Writer},
    migrations::migrate,
};
use super::{Store, StoreError, StoreResult};

/// Prepared statements each connection keeps: every statement the store runs
/// (about 35, plus list queries per page size), so none is prepared twice.
const STATEMENT_CACHE: usize = 128;

/// The SQLite store.
pub struct SqliteStore {
    writer: Writer,
    readers: Arc<Readers>,
    path: PathBuf,
}

fn map_err(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(
            ErrorCode::DatabaseBusy
            | ErrorCode::DatabaseLocked
            | ErrorCode::CannotOpen
            | ErrorCode::SystemIoFailure
            | ErrorCode::DiskFull
            | ErrorCode::ReadOnly,
        ) => StoreError::Unavailable(e.to_string()),
        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict(e.to_string()),
        _ => StoreError::Internal(e.to_string()),
    }
}

/// Settings of every connection, for speed without changing what is durable:
/// - `temp_store=MEMORY`: the sub-journal of each write's savepoint (the pages
///   it changed, kept to roll it back alone) stays in memory; on a file, it was
///   the writer thread's largest cost (pwrite of every changed page, per write);
/// - the query planner's stability guarantee: a bound value never makes SQLite
///   prepare a cached statement again (the unread count's statement was
///   re-prepared on every write).
fn tune(conn: &Connection) -> StoreResult<()> {
    conn.pragma_update(None, "temp_store", "MEMORY").map_err(map_err)?;
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true).map_err(map_err)?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub async fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        let path = path.as_ref().to_path_buf();
        let p = path.clone();
        let conn = tokio::task::spawn_blocking(move || -> StoreResult<Connection> {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
            }
            let mut conn = Connection::open(&p).map_err(map_err)?;
            conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(map_err)?;
            conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            conn.pragma_update(None, "journal_mode", "WAL").map_err(map_err)?;
            conn.pragma_update(None, "synchronous", "FULL").map_err(map_err)?;
            conn.pragma_update(None, "foreign_keys", "ON").map_err(map_err)?;
            tune(&conn)?;
            migrate(&mut conn)?;
            checkpoint::start(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??;
        let readers = Readers::new(&path);
        Ok(Self { writer: Writer::start(conn)?, readers, path })
    }

    /// Writes run so far and the commits (groups) they shared.
    pub fn write_stats(&self) -> (u64, u64) {
        let stats = self.writer.stats();
        (stats.writes.load(Ordering::Relaxed), stats.groups.load(Ordering::Relaxed))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs the write `f` on the writer thread; answers after its commit.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let started = std::time::Instant::now();
        let written = self.writer.write(f).await;
        crate::telemetry::store_operation("sqlite", "write", started.elapsed());
        written
    }

    /// Runs the read `f` on a read-only connection.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let started = std::time::Instant::now();
        let read = self.readers.read(f).await;
        crate::telemetry::store_operation("sqlite", "read", started.elapsed());
        read
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(map_err)).await
    }
}
