//! The audit trail in SQLite: the append-only `activity_log` table (its
//! triggers refuse updates and deletes).

use app::models::TenantId;
use async_trait::async_trait;
use rusqlite::Connection;

use super::{
    query::{exec_on, vals},
    rows::{activity_from_row, activity_values, ACTIVITY_COLUMNS},
    SqliteStore,
};
use crate::store::{ActivityEntry, ActivityStore, StoreResult};

/// Appends one entry on a connection a write holds.
static INSERT_ACTIVITY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!("INSERT INTO activity_log ({ACTIVITY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
});

pub(super) fn insert_activity(conn: &Connection, a: &ActivityEntry) -> StoreResult<()> {
    insert_activity_row(conn, activity_values(a)?)
}

/// [`insert_activity`] of values made before the write.
pub(super) fn insert_activity_row(conn: &Connection, values: Vec<rusqlite::types::Value>) -> StoreResult<()> {
    exec_on(conn, &INSERT_ACTIVITY, values)?;
    Ok(())
}

#[async_trait]
impl ActivityStore for SqliteStore {
    async fn append_activity(&self, entry: &ActivityEntry) -> StoreResult<()> {
        let a = entry.clone();
        self.write(move |c| insert_activity(c, &a)).await
    }

    async fn list_activity(&self, tenant_id: &TenantId, limit: u32) -> StoreResult<Vec<ActivityEntry>> {
        let sql = format!(
            "SELECT {ACTIVITY_COLUMNS} FROM activity_log WHERE tenant_id = ?1 \
             ORDER BY created_at DESC, id DESC LIMIT ?2"
        );
        self.all(sql, vals![tenant_id, limit], activity_from_row).await
    }
}
