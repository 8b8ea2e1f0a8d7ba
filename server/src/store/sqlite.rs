//! The embedded store: one SQLite file in WAL mode, so a fresh checkout runs
//! with no services.
//!
//! Migrations are versioned with `PRAGMA user_version` and applied at open.
//! Calls run on tokio's blocking pool against one connection; writes commit
//! with `synchronous=FULL`, so an acknowledged webhook survives a power cut.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use app::models::{
    ActivityEntry, Notification, NotificationType, Order, OrderStatus, PaymentStatus, Priority, WebhookEvent,
    WebhookSettings,
};
use async_trait::async_trait;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row};

use super::{CreateOrder, Store, StoreError, StoreResult, Tenant};

/// Schema versions, applied in order; never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: tenants, orders, notifications.
    r#"
    CREATE TABLE tenants (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL,
        slug TEXT NOT NULL UNIQUE,
        webhook_secret_sealed TEXT NOT NULL,
        created_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE orders (
        id TEXT PRIMARY KEY NOT NULL,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        order_number TEXT NOT NULL,
        customer_name TEXT,
        customer_email TEXT,
        amount_minor INTEGER NOT NULL,
        currency TEXT NOT NULL,
        status TEXT NOT NULL,
        items TEXT NOT NULL,
        metadata TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (tenant_id, order_number)
    ) STRICT;
    CREATE INDEX orders_tenant_created ON orders (tenant_id, created_at);

    CREATE TABLE notifications (
        id TEXT PRIMARY KEY NOT NULL,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        user_id TEXT,
        title TEXT NOT NULL,
        message TEXT NOT NULL,
        type TEXT NOT NULL,
        priority TEXT NOT NULL,
        action_url TEXT,
        action_text TEXT,
        metadata TEXT NOT NULL,
        is_read INTEGER NOT NULL DEFAULT 0,
        is_dismissed INTEGER NOT NULL DEFAULT 0,
        read_at TEXT,
        delivered_at TEXT,
        created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX notifications_tenant_created ON notifications (tenant_id, created_at);
    CREATE INDEX notifications_tenant_state ON notifications (tenant_id, is_read, is_dismissed);
    "#,
    // 2: the append-only audit trail.
    r#"
    CREATE TABLE activity_log (
        id TEXT PRIMARY KEY NOT NULL,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        entity TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        details TEXT NOT NULL,
        source_ip TEXT,
        created_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX activity_tenant_created ON activity_log (tenant_id, created_at);
    CREATE TRIGGER activity_log_no_update BEFORE UPDATE ON activity_log
        BEGIN SELECT RAISE(ABORT, 'activity_log is append-only'); END;
    CREATE TRIGGER activity_log_no_delete BEFORE DELETE ON activity_log
        BEGIN SELECT RAISE(ABORT, 'activity_log is append-only'); END;
    "#,
    // 3: per-tenant webhook settings (JSON, the seed's shape); NULL means the defaults.
    r#"
    ALTER TABLE tenants ADD COLUMN webhook_settings TEXT;
    "#,
    // 4: payment state of orders.
    r#"
    ALTER TABLE orders ADD COLUMN payment_status TEXT NOT NULL DEFAULT 'pending';
    ALTER TABLE orders ADD COLUMN payment_id TEXT;
    "#,
    // 5: the webhook event log (every request, with a capped body), kept for a retention period.
    r#"
    CREATE TABLE webhook_events (
        id TEXT PRIMARY KEY NOT NULL,
        tenant_id TEXT,
        endpoint TEXT NOT NULL,
        verified INTEGER NOT NULL,
        outcome TEXT NOT NULL,
        status_code INTEGER NOT NULL,
        reason TEXT,
        latency_ms INTEGER NOT NULL,
        body TEXT NOT NULL,
        body_truncated INTEGER NOT NULL,
        source_ip TEXT,
        received_at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX webhook_events_tenant_received ON webhook_events (tenant_id, received_at);
    CREATE INDEX webhook_events_received ON webhook_events (received_at);
    "#,
];

/// The SQLite store.
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
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

fn json_text(v: &impl serde::Serialize) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Internal(e.to_string()))
}

fn parse_json<T: serde::de::DeserializeOwned>(idx: usize, s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, e.into()))
}

fn bad_enum(idx: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, format!("unknown {what}").into())
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
            conn.pragma_update(None, "journal_mode", "WAL").map_err(map_err)?;
            conn.pragma_update(None, "synchronous", "FULL").map_err(map_err)?;
            conn.pragma_update(None, "foreign_keys", "ON").map_err(map_err)?;
            migrate(&mut conn)?;
            Ok(conn)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows of `sql` (with `?1` the tenant id and `?2` the limit), read by `row`.
    async fn tenant_rows<T: Send + 'static>(
        &self,
        sql: String,
        tenant_id: &str,
        limit: u32,
        row: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let id = tenant_id.to_owned();
        self.with(move |c| {
            let mut stmt = c.prepare_cached(&sql).map_err(map_err)?;
            let rows = stmt.query_map(params![id, limit], row).map_err(map_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
        })
        .await
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| StoreError::Internal("connection mutex poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))?
    }
}

/// Applies every migration newer than the database's `user_version`, each in a transaction.
fn migrate(conn: &mut Connection) -> StoreResult<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(map_err)?;
    let current = usize::try_from(current).unwrap_or(usize::MAX);
    if current > MIGRATIONS.len() {
        return Err(StoreError::Internal(format!(
            "database schema version {current} is newer than this build knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction().map_err(map_err)?;
        tx.execute_batch(sql).map_err(map_err)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64).map_err(map_err)?;
        tx.commit().map_err(map_err)?;
        tracing::info!(version = i + 1, "applied SQLite migration");
    }
    Ok(())
}

const TENANT_COLUMNS: &str = "id, name, slug, webhook_secret_sealed, created_at, webhook_settings";

fn tenant_from_row(r: &Row<'_>) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: r.get(0)?,
        name: r.get(1)?,
        slug: r.get(2)?,
        webhook_secret_sealed: r.get(3)?,
        created_at: r.get(4)?,
        webhook_settings: match r.get::<_, Option<String>>(5)? {
            Some(json) => parse_json(5, &json)?,
            None => WebhookSettings::default(),
        },
    })
}

const NOTIFICATION_COLUMNS: &str = "id, tenant_id, user_id, title, message, type, priority, action_url, \
     action_text, metadata, is_read, is_dismissed, read_at, delivered_at, created_at";

fn notification_from_row(r: &Row<'_>) -> rusqlite::Result<Notification> {
    let kind: String = r.get(5)?;
    let priority: String = r.get(6)?;
    let metadata: String = r.get(9)?;
    Ok(Notification {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        user_id: r.get(2)?,
        title: r.get(3)?,
        message: r.get(4)?,
        kind: NotificationType::parse(&kind).ok_or_else(|| bad_enum(5, "notification type"))?,
        priority: Priority::parse(&priority).ok_or_else(|| bad_enum(6, "priority"))?,
        action_url: r.get(7)?,
        action_text: r.get(8)?,
        metadata: parse_json(9, &metadata)?,
        is_read: r.get(10)?,
        is_dismissed: r.get(11)?,
        read_at: r.get(12)?,
        delivered_at: r.get(13)?,
        created_at: r.get(14)?,
    })
}

fn insert_notification(conn: &Connection, n: &Notification) -> StoreResult<()> {
    conn.execute(
        &format!("INSERT INTO notifications ({NOTIFICATION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"),
        params![
            n.id,
            n.tenant_id,
            n.user_id,
            n.title,
            n.message,
            n.kind.as_str(),
            n.priority.as_str(),
            n.action_url,
            n.action_text,
            json_text(&n.metadata)?,
            n.is_read,
            n.is_dismissed,
            n.read_at,
            n.delivered_at,
            n.created_at,
        ],
    )
    .map_err(map_err)?;
    Ok(())
}

const EVENT_COLUMNS: &str = "id, tenant_id, endpoint, verified, outcome, status_code, reason, latency_ms, body, \
     body_truncated, source_ip, received_at";

fn event_from_row(r: &Row<'_>) -> rusqlite::Result<WebhookEvent> {
    Ok(WebhookEvent {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        endpoint: r.get(2)?,
        verified: r.get(3)?,
        outcome: r.get(4)?,
        status_code: r.get(5)?,
        reason: r.get(6)?,
        latency_ms: r.get(7)?,
        body: r.get(8)?,
        body_truncated: r.get(9)?,
        source_ip: r.get(10)?,
        received_at: r.get(11)?,
    })
}

const ACTIVITY_COLUMNS: &str = "id, tenant_id, actor, action, entity, entity_id, details, source_ip, created_at";

fn insert_activity(conn: &Connection, a: &ActivityEntry) -> StoreResult<()> {
    conn.execute(
        &format!("INSERT INTO activity_log ({ACTIVITY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
        params![
            a.id,
            a.tenant_id,
            a.actor,
            a.action,
            a.entity,
            a.entity_id,
            json_text(&a.details)?,
            a.source_ip,
            a.created_at
        ],
    )
    .map_err(map_err)?;
    Ok(())
}

fn activity_from_row(r: &Row<'_>) -> rusqlite::Result<ActivityEntry> {
    let details: String = r.get(6)?;
    Ok(ActivityEntry {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        entity: r.get(4)?,
        entity_id: r.get(5)?,
        details: parse_json(6, &details)?,
        source_ip: r.get(7)?,
        created_at: r.get(8)?,
    })
}

const ORDER_COLUMNS: &str = "id, tenant_id, order_number, customer_name, customer_email, amount_minor, currency, \
     status, items, metadata, created_at, updated_at, payment_status, payment_id";

fn order_from_row(r: &Row<'_>) -> rusqlite::Result<Order> {
    let status: String = r.get(7)?;
    let payment_status: String = r.get(12)?;
    let items: String = r.get(8)?;
    let metadata: String = r.get(9)?;
    Ok(Order {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        order_number: r.get(2)?,
        customer_name: r.get(3)?,
        customer_email: r.get(4)?,
        amount_minor: r.get(5)?,
        currency: r.get(6)?,
        status: OrderStatus::parse(&status).ok_or_else(|| bad_enum(7, "order status"))?,
        items: parse_json(8, &items)?,
        metadata: parse_json(9, &metadata)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        payment_status: PaymentStatus::parse(&payment_status).ok_or_else(|| bad_enum(12, "payment status"))?,
        payment_id: r.get(13)?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.with(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(map_err)).await
    }

    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let t = tenant.clone();
        self.with(move |c| {
            c.execute(
                &format!("INSERT INTO tenants ({TENANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![t.id, t.name, t.slug, t.webhook_secret_sealed, t.created_at, json_text(&t.webhook_settings)?],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn get_tenant(&self, tenant_id: &str) -> StoreResult<Option<Tenant>> {
        let id = tenant_id.to_owned();
        self.with(move |c| {
            c.query_row(&format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?1"), [id], tenant_from_row)
                .optional()
                .map_err(map_err)
        })
        .await
    }

    async fn update_webhook_settings(&self, tenant_id: &str, settings: &WebhookSettings) -> StoreResult<bool> {
        let (id, json) = (tenant_id.to_owned(), json_text(settings)?);
        self.with(move |c| {
            c.execute("UPDATE tenants SET webhook_settings = ?2 WHERE id = ?1", params![id, json])
                .map(|n| n > 0)
                .map_err(map_err)
        })
        .await
    }

    async fn get_tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
        let slug = slug.to_owned();
        self.with(move |c| {
            c.query_row(&format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE slug = ?1"), [slug], tenant_from_row)
                .optional()
                .map_err(map_err)
        })
        .await
    }

    async fn create_order(
        &self,
        order: &Order,
        notification: &Notification,
        activity: &ActivityEntry,
    ) -> StoreResult<CreateOrder> {
        let o = order.clone();
        let n = notification.clone();
        let a = activity.clone();
        self.with(move |c| {
            let tx = c.transaction().map_err(map_err)?;
            let inserted = tx
                .execute(
                    &format!(
                        "INSERT INTO orders ({ORDER_COLUMNS}) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
                         ON CONFLICT (tenant_id, order_number) DO NOTHING"
                    ),
                    params![
                        o.id,
                        o.tenant_id,
                        o.order_number,
                        o.customer_name,
                        o.customer_email,
                        o.amount_minor,
                        o.currency,
                        o.status.as_str(),
                        json_text(&o.items)?,
                        json_text(&o.metadata)?,
                        o.created_at,
                        o.updated_at,
                        o.payment_status.as_str(),
                        o.payment_id,
                    ],
                )
                .map_err(map_err)?;
            if inserted == 0 {
                let existing_order_id: String = tx
                    .query_row(
                        "SELECT id FROM orders WHERE tenant_id = ?1 AND order_number = ?2",
                        params![o.tenant_id, o.order_number],
                        |r| r.get(0),
                    )
                    .map_err(map_err)?;
                return Ok(CreateOrder::Duplicate { existing_order_id });
            }
            insert_notification(&tx, &n)?;
            insert_activity(&tx, &a)?;
            tx.commit().map_err(map_err)?;
            Ok(CreateOrder::Created)
        })
        .await
    }

    async fn get_order(&self, tenant_id: &str, order_id: &str) -> StoreResult<Option<Order>> {
        let (t, o) = (tenant_id.to_owned(), order_id.to_owned());
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE tenant_id = ?1 AND id = ?2"),
                params![t, o],
                order_from_row,
            )
            .optional()
            .map_err(map_err)
        })
        .await
    }

    async fn get_order_by_number(&self, tenant_id: &str, order_number: &str) -> StoreResult<Option<Order>> {
        let (t, n) = (tenant_id.to_owned(), order_number.to_owned());
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE tenant_id = ?1 AND order_number = ?2"),
                params![t, n],
                order_from_row,
            )
            .optional()
            .map_err(map_err)
        })
        .await
    }

    async fn record_webhook_event(&self, event: &WebhookEvent) -> StoreResult<()> {
        let e = event.clone();
        self.with(move |c| {
            c.execute(
                &format!("INSERT INTO webhook_events ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
                params![
                    e.id,
                    e.tenant_id,
                    e.endpoint,
                    e.verified,
                    e.outcome,
                    e.status_code,
                    e.reason,
                    e.latency_ms,
                    e.body,
                    e.body_truncated,
                    e.source_ip,
                    e.received_at
                ],
            )
            .map(|_| ())
            .map_err(map_err)
        })
        .await
    }

    async fn list_webhook_events(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<WebhookEvent>> {
        self.tenant_rows(
            format!(
                "SELECT {EVENT_COLUMNS} FROM webhook_events WHERE tenant_id = ?1 \
                 ORDER BY received_at DESC, id DESC LIMIT ?2"
            ),
            tenant_id,
            limit,
            event_from_row,
        )
        .await
    }

    async fn purge_webhook_events(&self, before: &str) -> StoreResult<u64> {
        let before = before.to_owned();
        self.with(move |c| {
            c.execute("DELETE FROM webhook_events WHERE received_at < ?1", [before]).map(|n| n as u64).map_err(map_err)
        })
        .await
    }

    async fn list_activity(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<ActivityEntry>> {
        self.tenant_rows(
            format!(
                "SELECT {ACTIVITY_COLUMNS} FROM activity_log WHERE tenant_id = ?1 \
                 ORDER BY created_at DESC, id DESC LIMIT ?2"
            ),
            tenant_id,
            limit,
            activity_from_row,
        )
        .await
    }

    async fn insert_notifications(&self, notifications: &[Notification]) -> StoreResult<()> {
        let items = notifications.to_vec();
        self.with(move |c| {
            let tx = c.transaction().map_err(map_err)?;
            for n in &items {
                insert_notification(&tx, n)?;
            }
            tx.commit().map_err(map_err)
        })
        .await
    }

    async fn mark_all_read(&self, tenant_id: &str, read_at: &str) -> StoreResult<u64> {
        let (id, at) = (tenant_id.to_owned(), read_at.to_owned());
        self.with(move |c| {
            c.execute(
                "UPDATE notifications SET is_read = 1, read_at = ?2 \
                 WHERE tenant_id = ?1 AND user_id IS NULL AND is_read = 0",
                params![id, at],
            )
            .map(|n| n as u64)
            .map_err(map_err)
        })
        .await
    }

    async fn unread_count(&self, tenant_id: &str) -> StoreResult<u64> {
        let id = tenant_id.to_owned();
        self.with(move |c| {
            c.query_row(
                "SELECT COUNT(*) FROM notifications \
                 WHERE tenant_id = ?1 AND user_id IS NULL AND is_read = 0 AND is_dismissed = 0",
                [id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(map_err)
        })
        .await
    }

    async fn latest_notifications(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<Notification>> {
        self.tenant_rows(
            format!(
                "SELECT {NOTIFICATION_COLUMNS} FROM notifications \
                 WHERE tenant_id = ?1 AND is_dismissed = 0 ORDER BY created_at DESC, id DESC LIMIT ?2"
            ),
            tenant_id,
            limit,
            notification_from_row,
        )
        .await
    }
}
