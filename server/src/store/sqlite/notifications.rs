//! Notifications in SQLite: the `notifications` table (filtered, paged lists,
//! deliveries), each reader's state (`notification_states` for what a reader
//! changed one by one, `reader_marks` for their last mark-all-read) and the
//! `unread_counts` its triggers keep.
//!
//! A reader's unread count costs three lookups however many notifications
//! and changes there are: the unread stored notifications of their buckets
//! (tenant-wide, and their own: `unread_counts`), minus those that were so at
//! their mark (`live_*`, taken then), plus `adjust`, which every change of
//! theirs moves by whether the notification counts after it minus before.

use app::models::{InboxView, Notification};
use app::models::{NotificationId, TenantId, Timestamp, UserId};
use async_trait::async_trait;
use rusqlite::{Connection, Row};

use super::{
    activity::insert_activity_row,
    map_err,
    query::{all_on, exec_on, one_on, vals, Conditions},
    rows::{activity_values, cell, notification_from_row, notification_values, NOTIFICATION_COLUMNS},
    webhook_log::ReceiptRows,
    SqliteStore,
};
use crate::store::{
    reader_state::{Mark, ReaderState},
    ActivityEntry, DueSnooze, NotificationFilter, NotificationPatch, NotificationStore, PageCursor, Receipt,
    StoreResult,
};

/// A reader as stored: the user id, or '' for the tenant itself.
pub(super) fn reader_key(reader: Option<&UserId>) -> String {
    reader.map(|u| u.to_string()).unwrap_or_default()
}

/// Inserts a notification, next in store order (made once, not per write).
static INSERT_NOTIFICATION: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO notifications ({NOTIFICATION_COLUMNS}, seq) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, \
                 (SELECT value + 1 FROM notification_seq))"
    )
});

/// Inserts one notification on a connection a write holds, next in store order.
pub(super) fn insert_notification(conn: &Connection, n: &Notification) -> StoreResult<()> {
    insert_notification_row(conn, notification_values(n)?)
}

/// [`insert_notification`] of values made before the write.
pub(super) fn insert_notification_row(conn: &Connection, values: Vec<rusqlite::types::Value>) -> StoreResult<()> {
    exec_on(conn, &INSERT_NOTIFICATION, values)?;
    Ok(())
}

/// The columns of a notification as one reader sees it: the stored row (as
/// `n`), its `seq`, and the reader's own state (as `s`, all NULL when none).
const VIEW_COLUMNS: &str = "n.id, n.tenant_id, n.user_id, n.title, n.message, n.type, n.priority, n.action_url, \
     n.action_text, n.metadata, n.is_read, n.is_dismissed, n.read_at, n.delivered_at, n.created_at, n.seq, \
     s.is_read, s.read_at, s.is_dismissed, s.snoozed_until";

/// The join of [`VIEW_COLUMNS`]: `?2` is the reader.
const VIEW_FROM: &str = "notifications n LEFT JOIN notification_states s \
     ON s.tenant_id = n.tenant_id AND s.reader = ?2 AND s.notification_id = n.id";

/// Read/dismissed as the reader sees them, in SQL (`?3` is their mark's
/// `read_through`, 0 for none): the same rule as [`ReaderState::default_for`].
const SEEN_READ: &str = "COALESCE(s.is_read, n.is_read OR n.seq <= ?3)";
const SEEN_DISMISSED: &str = "COALESCE(s.is_dismissed, n.is_dismissed)";

/// A row of [`VIEW_COLUMNS`] as its reader (whose mark is `mark`) sees it.
fn viewed(r: &Row<'_>, mark: Option<&Mark>) -> rusqlite::Result<Notification> {
    let mut n = notification_from_row(r)?;
    let seq: i64 = r.get(15)?;
    let state = match r.get::<_, Option<bool>>(16)? {
        Some(is_read) => {
            ReaderState { is_read, read_at: cell(r, 17)?, is_dismissed: r.get(18)?, snoozed_until: cell(r, 19)? }
        }
        None => ReaderState::default_for(&n, seq, mark),
    };
    state.show_on(&mut n);
    Ok(n)
}

/// The reader's last mark-all-read in the tenant.
fn mark_on(c: &Connection, tenant_id: &TenantId, reader: &str) -> StoreResult<Option<Mark>> {
    one_on(
        c,
        "SELECT read_through, read_at FROM reader_marks WHERE tenant_id = ?1 AND reader = ?2",
        vals![tenant_id, reader],
        |r| Ok(Mark { read_through: r.get(0)?, read_at: cell(r, 1)? }),
    )
}

/// One notification as the reader sees it (`None` if absent or not theirs to see).
fn view_on(
    c: &Connection,
    tenant_id: &TenantId,
    reader: &str,
    id: &NotificationId,
) -> StoreResult<Option<Notification>> {
    let mark = mark_on(c, tenant_id, reader)?;
    one_on(c, &VIEW_ONE, vals![tenant_id, reader, id], move |r| viewed(r, mark.as_ref()))
}

/// One notification as a reader sees it: `?1` tenant, `?2` reader, `?3` id.
/// Another user's personal notification is not this reader's ('' is no user).
pub(super) static VIEW_ONE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {VIEW_COLUMNS} FROM {VIEW_FROM} \
         WHERE n.tenant_id = ?1 AND n.id = ?3 AND (n.user_id IS NULL OR n.user_id = ?2)"
    )
});

/// The reader's unread count (see the module's comment).
pub(super) fn unread_on(c: &Connection, tenant_id: &TenantId, reader: &str) -> StoreResult<u64> {
    let count = one_on(
        c,
        "SELECT \
           COALESCE((SELECT unread FROM unread_counts WHERE tenant_id = ?1 AND user_id = ''), 0) \
         + COALESCE((SELECT unread FROM unread_counts WHERE tenant_id = ?1 AND user_id = ?2 AND ?2 <> ''), 0) \
         - COALESCE(m.live_tenant, 0) - COALESCE(m.live_own, 0) + COALESCE(m.adjust, 0) \
         FROM (SELECT 1) LEFT JOIN reader_marks m ON m.tenant_id = ?1 AND m.reader = ?2",
        vals![tenant_id, reader],
        |r| r.get::<_, i64>(0),
    )?;
    Ok(count.unwrap_or(0).max(0) as u64)
}

/// Moves the reader's `adjust` by `delta` (their first change makes their
/// mark row, marking nothing: `read_through` 0).
fn adjust_on(c: &Connection, tenant_id: &TenantId, reader: &str, delta: i64, at: Timestamp) -> StoreResult<()> {
    exec_on(
        c,
        "INSERT INTO reader_marks (tenant_id, reader, read_through, read_at, live_tenant, live_own, adjust) \
         VALUES (?1, ?2, 0, ?3, 0, 0, ?4) \
         ON CONFLICT (tenant_id, reader) DO UPDATE SET adjust = adjust + excluded.adjust",
        vals![tenant_id, reader, at, delta],
    )?;
    Ok(())
}

/// Stores the reader's state of one notification (inserting the exception the first time).
fn save_state_on(
    c: &Connection,
    tenant_id: &TenantId,
    reader: &str,
    id: &NotificationId,
    s: &ReaderState,
) -> StoreResult<()> {
    let values = vals![tenant_id, reader, id, s.is_read, s.read_at, s.is_dismissed, s.snoozed_until];
    exec_on(c, SAVE_STATE, values)?;
    Ok(())
}

/// [`save_state_on`]'s statement: `?1` tenant, `?2` reader, `?3` notification, then the state.
pub(super) const SAVE_STATE: &str =
    "INSERT INTO notification_states (tenant_id, reader, notification_id, seq, base_live, base_dismissed, \
                                      is_read, read_at, is_dismissed, snoozed_until) \
     SELECT n.tenant_id, ?2, n.id, n.seq, n.is_read = 0 AND n.is_dismissed = 0, n.is_dismissed, ?4, ?5, ?6, ?7 \
     FROM notifications n WHERE n.tenant_id = ?1 AND n.id = ?3 \
     ON CONFLICT (tenant_id, reader, notification_id) DO UPDATE SET \
       is_read = excluded.is_read, read_at = excluded.read_at, is_dismissed = excluded.is_dismissed, \
       snoozed_until = excluded.snoozed_until";

/// A page of the list as a reader sees it: the statement, and the conditions
/// whose values follow the caller's `?1` tenant, `?2` reader, `?3` the
/// reader's `read_through` and `?4` their user id.
pub(super) fn list_statement(
    filter: &NotificationFilter,
    after: Option<&PageCursor>,
    limit: u32,
) -> (String, Conditions) {
    let mut conditions = list_conditions(filter, after);
    conditions.add(" ORDER BY n.created_at DESC, n.id DESC LIMIT $0", vals![limit]);
    let sql = format!("SELECT {VIEW_COLUMNS} FROM {VIEW_FROM} WHERE n.tenant_id = ?1{}", conditions.sql);
    (sql, conditions)
}

/// The `WHERE` of a reader's list after `n.tenant_id = ?1` (`?2` the reader,
/// `?3` their mark, `?4` the user whose own notifications they see, if any).
fn list_conditions(filter: &NotificationFilter, after: Option<&PageCursor>) -> Conditions {
    let mut c = Conditions::default();
    // Placeholders ?2..?4 are bound by the caller, so the conditions' own start at ?5.
    c.skip(3);
    c.add(" AND (n.user_id IS NULL OR n.user_id = ?4)", vec![]);
    match filter.view {
        InboxView::Inbox => c.add(" AND s.snoozed_until IS NULL", vec![]),
        InboxView::Snoozed => c.add(" AND s.snoozed_until IS NOT NULL", vec![]),
        InboxView::Dismissed => c.add(&format!(" AND s.snoozed_until IS NULL AND {SEEN_DISMISSED} = 1"), vec![]),
    }
    if !filter.include_read {
        c.add(&format!(" AND {SEEN_READ} = 0"), vec![]);
    }
    if !filter.include_dismissed && filter.view == InboxView::Inbox {
        c.add(&format!(" AND {SEEN_DISMISSED} = 0"), vec![]);
    }
    if let Some(kind) = filter.kind {
        c.add(" AND n.type = $0", Conditions::text(kind.as_str()));
    }
    if let Some(priority) = filter.priority {
        c.add(" AND n.priority = $0", Conditions::text(priority.as_str()));
    }
    if let Some(cursor) = after {
        c.add(
            " AND (n.created_at < $0 OR (n.created_at = $0 AND n.id < $1))",
            vals![cursor.created_at, cursor.id.clone()],
        );
    }
    c
}

#[async_trait]
impl NotificationStore for SqliteStore {
    async fn create_notification_with(
        &self,
        notification: &Notification,
        activity: &ActivityEntry,
        receipt: Option<&Receipt>,
    ) -> StoreResult<u64> {
        // The rows' values are made here, not on the writer thread.
        let (n, a) = (notification_values(notification)?, activity_values(activity)?);
        let mut receipt = receipt.map(ReceiptRows::new).transpose()?;
        let (tenant_id, reader) = (notification.tenant_id.clone(), reader_key(notification.user_id.as_ref()));
        // (The writer runs every write in a savepoint of its own: one that fails leaves nothing.)
        self.write(move |c| {
            if let Some(receipt) = &mut receipt {
                receipt.claim(c)?;
            }
            insert_notification_row(c, n)?;
            insert_activity_row(c, a)?;
            if let Some(receipt) = receipt {
                receipt.insert(c)?;
            }
            unread_on(c, &tenant_id, &reader)
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
        let (sql, conditions) = list_statement(filter, after, limit);
        let (tenant_id, reader, user) =
            (tenant_id.clone(), reader_key(filter.user_id.as_ref()), filter.user_id.clone());
        self.read(move |c| {
            let mark = mark_on(c, &tenant_id, &reader)?;
            let read_through = mark.map_or(0, |m| m.read_through);
            let mut params = vals![&tenant_id, &reader, read_through, user];
            params.extend(conditions.into_values());
            all_on(c, &sql, params, move |r| viewed(r, mark.as_ref()))
        })
        .await
    }

    async fn update_notification(
        &self,
        tenant_id: &TenantId,
        id: &NotificationId,
        reader: Option<&UserId>,
        patch: &NotificationPatch,
        at: Timestamp,
    ) -> StoreResult<Option<Notification>> {
        let (t, id, reader, patch) = (tenant_id.clone(), id.clone(), reader_key(reader), *patch);
        self.write(move |c| {
            let tx = c.savepoint().map_err(map_err)?;
            // The reader's state now: their exception, or their default (stored as one once changed).
            let Some(mut viewed) = view_on(&tx, &t, &reader, &id)? else {
                return Ok(None);
            };
            let state = ReaderState::of(&viewed);
            let changed = state.apply(&patch, at);
            if changed != state {
                save_state_on(&tx, &t, &reader, &id, &changed)?;
                adjust_on(&tx, &t, &reader, i64::from(changed.counts()) - i64::from(state.counts()), at)?;
                changed.show_on(&mut viewed);
            }
            tx.commit().map_err(map_err)?;
            Ok(Some(viewed))
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
        reader: Option<&UserId>,
        read_at: Timestamp,
    ) -> StoreResult<u64> {
        let (t, reader) = (tenant_id.clone(), reader_key(reader));
        self.write(move |c| {
            let tx = c.savepoint().map_err(map_err)?;
            let before = unread_on(&tx, &t, &reader)?;
            // The reader's unread exceptions are read now (the mark covers every
            // notification stored so far, so no exception is after it).
            exec_on(
                &tx,
                "UPDATE notification_states SET is_read = 1, read_at = ?3 \
                 WHERE tenant_id = ?1 AND reader = ?2 AND is_read = 0",
                vals![&t, &reader, read_at],
            )?;
            // The mark: everything stored so far, with the unread counts of the
            // reader's buckets as they are now (later ones count from there).
            exec_on(
                &tx,
                "INSERT INTO reader_marks (tenant_id, reader, read_through, read_at, live_tenant, live_own, adjust) \
                 SELECT ?1, ?2, (SELECT value FROM notification_seq), ?3, \
                   COALESCE((SELECT unread FROM unread_counts WHERE tenant_id = ?1 AND user_id = ''), 0), \
                   COALESCE((SELECT unread FROM unread_counts WHERE tenant_id = ?1 AND user_id = ?2 AND ?2 <> ''), 0), \
                   0 \
                 WHERE true \
                 ON CONFLICT (tenant_id, reader) DO UPDATE SET read_through = excluded.read_through, \
                   read_at = excluded.read_at, live_tenant = excluded.live_tenant, live_own = excluded.live_own, \
                   adjust = 0",
                vals![&t, &reader, read_at],
            )?;
            let after = unread_on(&tx, &t, &reader)?;
            tx.commit().map_err(map_err)?;
            Ok(before.saturating_sub(after))
        })
        .await
    }

    async fn unread_count(&self, tenant_id: &TenantId, reader: Option<&UserId>) -> StoreResult<u64> {
        let (t, reader) = (tenant_id.clone(), reader_key(reader));
        self.read(move |c| unread_on(c, &t, &reader)).await
    }

    async fn due_snoozes(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<DueSnooze>> {
        self.all(
            "SELECT tenant_id, reader, notification_id, snoozed_until FROM notification_states \
             WHERE snoozed_until IS NOT NULL AND snoozed_until <= ?1 ORDER BY snoozed_until LIMIT ?2",
            vals![now, limit],
            |r| {
                let reader: String = r.get(1)?;
                Ok(DueSnooze {
                    tenant_id: cell(r, 0)?,
                    reader: (!reader.is_empty()).then(|| UserId::from(reader)),
                    notification_id: cell(r, 2)?,
                    until: cell(r, 3)?,
                })
            },
        )
        .await
    }

    async fn wake_snooze(&self, due: &DueSnooze) -> StoreResult<Option<Notification>> {
        let (t, reader, id, until) =
            (due.tenant_id.clone(), reader_key(due.reader.as_ref()), due.notification_id.clone(), due.until);
        self.write(move |c| {
            let tx = c.savepoint().map_err(map_err)?;
            let woke = exec_on(
                &tx,
                "UPDATE notification_states SET snoozed_until = NULL, is_read = 0, read_at = NULL \
                 WHERE tenant_id = ?1 AND reader = ?2 AND notification_id = ?3 AND snoozed_until = ?4",
                vals![&t, &reader, &id, until],
            )?;
            if woke > 0 {
                // It counts again unless dismissed (while snoozed it did not).
                exec_on(
                    &tx,
                    "UPDATE reader_marks SET adjust = adjust + (SELECT is_dismissed = 0 FROM notification_states \
                       WHERE tenant_id = ?1 AND reader = ?2 AND notification_id = ?3) \
                     WHERE tenant_id = ?1 AND reader = ?2",
                    vals![&t, &reader, &id],
                )?;
            }
            let viewed = if woke > 0 { view_on(&tx, &t, &reader, &id)? } else { None };
            tx.commit().map_err(map_err)?;
            Ok(viewed)
        })
        .await
    }
}
