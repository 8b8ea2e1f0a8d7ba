//! Notifications in SQLite: the `notifications` table (filtered, paged lists,
//! reads, dismissals, deliveries) and the `unread_counts` its triggers keep.

use app::models::Notification;
use app::models::{NotificationId, TenantId, Timestamp, UserId};
use async_trait::async_trait;
use rusqlite::Connection;

use super::{
    activity::insert_activity,
    map_err,
    query::{exec_on, one_on, vals, Conditions},
    rows::{notification_from_row, notification_values, NOTIFICATION_COLUMNS},
    SqliteStore,
};
use crate::store::{ActivityEntry, NotificationFilter, NotificationPatch, NotificationStore, PageCursor, StoreResult};

/// Inserts one notification on a connection a write holds.
pub(super) fn insert_notification(conn: &Connection, n: &Notification) -> StoreResult<()> {
    exec_on(
        conn,
        &format!(
            "INSERT INTO notifications ({NOTIFICATION_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
        ),
        notification_values(n)?,
    )?;
    Ok(())
}

fn notification_conditions(filter: &NotificationFilter, after: Option<&PageCursor>) -> Conditions {
    let mut c = Conditions::default();
    c.add(" AND (user_id IS NULL OR user_id = $0)", vals![&filter.user_id]);
    if !filter.include_read {
        c.add(" AND is_read = 0", vec![]);
    }
    if !filter.include_dismissed {
        c.add(" AND is_dismissed = 0", vec![]);
    }
    if let Some(kind) = filter.kind {
        c.add(" AND type = $0", Conditions::text(kind.as_str()));
    }
    if let Some(priority) = filter.priority {
        c.add(" AND priority = $0", Conditions::text(priority.as_str()));
    }
    c.after("created_at", after);
    c
}

#[async_trait]
impl NotificationStore for SqliteStore {
    async fn create_notification(&self, notification: &Notification, activity: &ActivityEntry) -> StoreResult<()> {
        let (n, a) = (notification.clone(), activity.clone());
        self.write(move |c| {
            let tx = c.savepoint().map_err(map_err)?;
            insert_notification(&tx, &n)?;
            insert_activity(&tx, &a)?;
            tx.commit().map_err(map_err)
        })
        .await
    }

    async fn insert_notifications(&self, notifications: &[Notification]) -> StoreResult<()> {
        let items = notifications.to_vec();
        self.write(move |c| {
            let tx = c.savepoint().map_err(map_err)?;
            for n in &items {
                insert_notification(&tx, n)?;
            }
            tx.commit().map_err(map_err)
        })
        .await
    }

    async fn get_notification(&self, tenant_id: &TenantId, id: &NotificationId) -> StoreResult<Option<Notification>> {
        let sql = format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE tenant_id = ?1 AND id = ?2");
        self.one(sql, vals![tenant_id, id], notification_from_row).await
    }

    async fn list_notifications(
        &self,
        tenant_id: &TenantId,
        filter: &NotificationFilter,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Notification>> {
        let conditions = notification_conditions(filter, after);
        let table = ("notifications", NOTIFICATION_COLUMNS, "created_at");
        self.newest_first(table, tenant_id, conditions, limit, notification_from_row).await
    }

    async fn update_notification(
        &self,
        tenant_id: &TenantId,
        id: &NotificationId,
        patch: &NotificationPatch,
        at: Timestamp,
    ) -> StoreResult<Option<Notification>> {
        let (t, id, at, patch) = (tenant_id.to_owned(), id.to_owned(), at.to_owned(), *patch);
        self.write(move |c| {
            let tx = c.savepoint().map_err(map_err)?;
            // Every expression in SET sees the row as it was before the update.
            exec_on(
                &tx,
                "UPDATE notifications SET \
                   is_read = COALESCE(?3, is_read), \
                   read_at = CASE WHEN ?3 = 1 AND is_read = 0 THEN ?5 WHEN ?3 = 0 THEN NULL ELSE read_at END, \
                   is_dismissed = COALESCE(?4, is_dismissed) \
                 WHERE tenant_id = ?1 AND id = ?2",
                vals![&t, &id, patch.is_read, patch.is_dismissed, at],
            )?;
            let updated = one_on(
                &tx,
                &format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE tenant_id = ?1 AND id = ?2"),
                vals![t, id],
                notification_from_row,
            )?;
            tx.commit().map_err(map_err)?;
            Ok(updated)
        })
        .await
    }

    async fn mark_delivered(&self, tenant_id: &TenantId, id: &NotificationId, at: Timestamp) -> StoreResult<bool> {
        let sql =
            "UPDATE notifications SET delivered_at = ?3 WHERE tenant_id = ?1 AND id = ?2 AND delivered_at IS NULL";
        Ok(self.exec(sql, vals![tenant_id, id, at]).await? > 0)
    }

    async fn mark_all_read(
        &self,
        tenant_id: &TenantId,
        user_id: Option<&UserId>,
        read_at: Timestamp,
    ) -> StoreResult<u64> {
        self.exec(
            "UPDATE notifications SET is_read = 1, read_at = ?3 \
             WHERE tenant_id = ?1 AND (user_id IS NULL OR user_id = ?2) AND is_read = 0",
            vals![tenant_id, user_id, read_at],
        )
        .await
    }

    async fn unread_count(&self, tenant_id: &TenantId, user_id: Option<&UserId>) -> StoreResult<u64> {
        // Kept by triggers on `notifications` (migration 10).
        let unread = self
            .one(
                "SELECT COALESCE(SUM(unread), 0) FROM unread_counts \
                 WHERE tenant_id = ?1 AND (user_id = '' OR user_id = ?2)",
                vals![tenant_id, user_id],
                |r| r.get::<_, i64>(0),
            )
            .await?;
        Ok(unread.unwrap_or(0) as u64)
    }
}
