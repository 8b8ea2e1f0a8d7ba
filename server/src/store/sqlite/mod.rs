//! The embedded store: one SQLite file in WAL mode, so a fresh checkout runs
//! with no services.
//!
//! Migrations are versioned with `PRAGMA user_version` and applied at open.
//! Writes go to one writer thread that commits them in groups with
//! `synchronous=FULL` and answers only after the commit, so an acknowledged
//! webhook survives a power cut; reads use a pool of read-only connections
//! (see [`connections`]).

mod connections;

use std::{
    path::{Path, PathBuf},
    sync::{atomic::Ordering, Arc},
};

use app::models::{
    ActivityEntry, Notification, NotificationType, Order, OrderStats, OrderStatus, PaymentStatus, Priority, Role,
    WebhookEvent, WebhookEventFilter, WebhookSettings,
};
use async_trait::async_trait;
use rusqlite::{params, params_from_iter, types::Value, Connection, ErrorCode, OptionalExtension, Row};

use self::connections::{Readers, Writer};
use super::{
    ApiKey, ApiKeyInfo, CreateOrder, Membership, MembershipChange, NotificationFilter, NotificationPatch, PageCursor,
    PaymentApplied, PaymentChange, PreviousSecret, ProcessedWebhook, Session, Store, StoreError, StoreResult, Tenant,
    User, WebhookClaim,
};

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
    // 6: identity (users in tenants, sessions, API keys) and per-user notification reads.
    r#"
    CREATE TABLE users (
        id TEXT PRIMARY KEY NOT NULL,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    ) STRICT;

    CREATE TABLE memberships (
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        user_id TEXT NOT NULL REFERENCES users(id),
        role TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, user_id)
    ) STRICT;
    CREATE INDEX memberships_user ON memberships (user_id);

    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        idle_expires_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        revoked_at TEXT,
        ip TEXT,
        user_agent TEXT
    ) STRICT;
    CREATE INDEX sessions_user ON sessions (user_id);
    CREATE INDEX sessions_expires ON sessions (expires_at);

    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY NOT NULL,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL,
        prefix TEXT NOT NULL UNIQUE,
        key_hash TEXT NOT NULL,
        role TEXT NOT NULL,
        created_by TEXT,
        created_at TEXT NOT NULL,
        last_used_at TEXT,
        revoked_at TEXT
    ) STRICT;
    CREATE INDEX api_keys_tenant_created ON api_keys (tenant_id, created_at);

    CREATE INDEX notifications_tenant_user_created ON notifications (tenant_id, user_id, created_at);
    "#,
    // 7: deliveries processed, by the sender's webhook-id (redeliveries get the same answer).
    r#"
    CREATE TABLE processed_webhooks (
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        webhook_id TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        status_code INTEGER NOT NULL,
        response TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, webhook_id)
    ) STRICT;
    CREATE INDEX processed_webhooks_received ON processed_webhooks (received_at);
    "#,
    // 8: the secret before the last rotation, accepted until its grace period ends.
    r#"
    ALTER TABLE tenants ADD COLUMN previous_secret_sealed TEXT;
    ALTER TABLE tenants ADD COLUMN previous_secret_valid_until TEXT;
    "#,
    // 9: the answer given to each accepted webhook (for the event log and replays).
    r#"
    ALTER TABLE webhook_events ADD COLUMN response TEXT;
    CREATE INDEX webhook_events_tenant_endpoint ON webhook_events (tenant_id, endpoint, received_at);
    "#,
    // 10: unread counts kept by triggers, so the bell's count costs one lookup
    // however many notifications a tenant has ('' stands for tenant-wide).
    r#"
    CREATE TABLE unread_counts (
        tenant_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        unread INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, user_id)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO unread_counts (tenant_id, user_id, unread)
        SELECT tenant_id, COALESCE(user_id, ''), COUNT(*) FROM notifications
        WHERE is_read = 0 AND is_dismissed = 0 GROUP BY tenant_id, COALESCE(user_id, '');
    CREATE TRIGGER unread_counts_insert AFTER INSERT ON notifications
        WHEN NEW.is_read = 0 AND NEW.is_dismissed = 0
        BEGIN
            INSERT INTO unread_counts (tenant_id, user_id, unread) VALUES (NEW.tenant_id, COALESCE(NEW.user_id, ''), 1)
                ON CONFLICT (tenant_id, user_id) DO UPDATE SET unread = unread + 1;
        END;
    CREATE TRIGGER unread_counts_update_old AFTER UPDATE OF tenant_id, user_id, is_read, is_dismissed ON notifications
        WHEN OLD.is_read = 0 AND OLD.is_dismissed = 0
        BEGIN
            UPDATE unread_counts SET unread = unread - 1
                WHERE tenant_id = OLD.tenant_id AND user_id = COALESCE(OLD.user_id, '');
        END;
    CREATE TRIGGER unread_counts_update_new AFTER UPDATE OF tenant_id, user_id, is_read, is_dismissed ON notifications
        WHEN NEW.is_read = 0 AND NEW.is_dismissed = 0
        BEGIN
            INSERT INTO unread_counts (tenant_id, user_id, unread) VALUES (NEW.tenant_id, COALESCE(NEW.user_id, ''), 1)
                ON CONFLICT (tenant_id, user_id) DO UPDATE SET unread = unread + 1;
        END;
    CREATE TRIGGER unread_counts_delete AFTER DELETE ON notifications
        WHEN OLD.is_read = 0 AND OLD.is_dismissed = 0
        BEGIN
            UPDATE unread_counts SET unread = unread - 1
                WHERE tenant_id = OLD.tenant_id AND user_id = COALESCE(OLD.user_id, '');
        END;
    "#,
];

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

/// The answered delivery of `webhook_id`, if any (a pending claim is none).
fn processed_webhook(c: &Connection, tenant_id: &str, webhook_id: &str) -> StoreResult<Option<ProcessedWebhook>> {
    c.query_row(
        "SELECT tenant_id, webhook_id, endpoint, status_code, response, received_at FROM processed_webhooks \
         WHERE tenant_id = ?1 AND webhook_id = ?2 AND status_code <> 0",
        params![tenant_id, webhook_id],
        |r| {
            let response: String = r.get(4)?;
            Ok(ProcessedWebhook {
                tenant_id: r.get(0)?,
                webhook_id: r.get(1)?,
                endpoint: r.get(2)?,
                status_code: r.get(3)?,
                response: parse_json(4, &response)?,
                received_at: r.get(5)?,
            })
        },
    )
    .optional()
    .map_err(map_err)
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

    /// Rows of `sql` (with `?1` the tenant id and `?2` the limit), read by `row`.
    async fn tenant_rows<T: Send + 'static>(
        &self,
        sql: String,
        tenant_id: &str,
        limit: u32,
        row: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let id = tenant_id.to_owned();
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&sql).map_err(map_err)?;
            let rows = stmt.query_map(params![id, limit], row).map_err(map_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
        })
        .await
    }

    /// Memberships matching `clause` (with `?1` = `value`).
    async fn memberships(&self, clause: &'static str, value: &str) -> StoreResult<Vec<Membership>> {
        let value = value.to_owned();
        self.read(move |c| {
            let sql = format!("SELECT tenant_id, user_id, role, created_at FROM memberships WHERE {clause}");
            let mut stmt = c.prepare_cached(&sql).map_err(map_err)?;
            let rows = stmt
                .query_map([value], |r| {
                    Ok(Membership {
                        tenant_id: r.get(0)?,
                        user_id: r.get(1)?,
                        role: role_at(r, 2)?,
                        created_at: r.get(3)?,
                    })
                })
                .map_err(map_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
        })
        .await
    }

    /// Runs the write `f` on the writer thread; answers after its commit.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.writer.write(f).await
    }

    /// Sets a tenant's sealed secrets, if its current one is still `expected`
    /// (when given): whether it changed.
    async fn set_secrets(
        &self,
        tenant_id: &str,
        expected: Option<&str>,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool> {
        let (id, expected, sealed) = (tenant_id.to_owned(), expected.map(str::to_owned), sealed.to_owned());
        let previous = previous.cloned();
        self.write(move |c| {
            c.execute(
                "UPDATE tenants SET webhook_secret_sealed = ?2, previous_secret_sealed = ?3, \
                 previous_secret_valid_until = ?4 WHERE id = ?1 AND (?5 IS NULL OR webhook_secret_sealed = ?5)",
                params![
                    id,
                    sealed,
                    previous.as_ref().map(|p| &p.sealed),
                    previous.as_ref().map(|p| &p.valid_until),
                    expected
                ],
            )
            .map(|n| n > 0)
            .map_err(map_err)
        })
        .await
    }

    /// Runs the read `f` on a read-only connection.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.readers.read(f).await
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

const TENANT_COLUMNS: &str =
    "id, name, slug, webhook_secret_sealed, created_at, webhook_settings, previous_secret_sealed, previous_secret_valid_until";

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
        previous_secret: match (r.get::<_, Option<String>>(6)?, r.get::<_, Option<String>>(7)?) {
            (Some(sealed), Some(valid_until)) => Some(PreviousSecret { sealed, valid_until }),
            _ => None,
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
     body_truncated, source_ip, received_at, response";

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
        response: r.get::<_, Option<String>>(12)?.map(|json| parse_json(12, &json)).transpose()?,
        withheld: false,
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

const USER_COLUMNS: &str = "id, email, name, password_hash, created_at";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User { id: r.get(0)?, email: r.get(1)?, name: r.get(2)?, password_hash: r.get(3)?, created_at: r.get(4)? })
}

fn role_at(r: &Row<'_>, idx: usize) -> rusqlite::Result<Role> {
    let role: String = r.get(idx)?;
    Role::parse(&role).ok_or_else(|| bad_enum(idx, "role"))
}

const SESSION_COLUMNS: &str =
    "token_hash, user_id, created_at, last_seen_at, idle_expires_at, expires_at, revoked_at, ip, user_agent";

fn session_from_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        token_hash: r.get(0)?,
        user_id: r.get(1)?,
        created_at: r.get(2)?,
        last_seen_at: r.get(3)?,
        idle_expires_at: r.get(4)?,
        expires_at: r.get(5)?,
        revoked_at: r.get(6)?,
        ip: r.get(7)?,
        user_agent: r.get(8)?,
    })
}

const API_KEY_COLUMNS: &str =
    "id, tenant_id, name, prefix, role, created_by, created_at, last_used_at, revoked_at, key_hash";

fn api_key_info_from_row(r: &Row<'_>) -> rusqlite::Result<ApiKeyInfo> {
    Ok(ApiKeyInfo {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        name: r.get(2)?,
        prefix: r.get(3)?,
        role: role_at(r, 4)?,
        created_by: r.get(5)?,
        created_at: r.get(6)?,
        last_used_at: r.get(7)?,
        revoked_at: r.get(8)?,
    })
}

fn api_key_from_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey { info: api_key_info_from_row(r)?, key_hash: r.get(9)? })
}

/// A WHERE clause after `tenant_id = ?1`, built from optional conditions,
/// with its parameters numbered from `?2`.
#[derive(Default)]
struct Conditions {
    sql: String,
    values: Vec<Value>,
}

impl Conditions {
    /// Appends `clause`, where `$0`, `$1`, … stand for `values` in order.
    fn add(&mut self, clause: &str, values: Vec<Value>) {
        let mut clause = clause.to_owned();
        for (i, value) in values.into_iter().enumerate() {
            clause = clause.replace(&format!("${i}"), &format!("?{}", self.values.len() + 2));
            self.values.push(value);
        }
        self.sql.push_str(&clause);
    }

    /// `created_at`-style newest-first paging after `cursor`.
    fn after(&mut self, time_column: &str, cursor: Option<&PageCursor>) {
        if let Some(c) = cursor {
            self.add(
                &format!(" AND ({time_column} < $0 OR ({time_column} = $0 AND id < $1))"),
                vec![Value::Text(c.created_at.clone()), Value::Text(c.id.clone())],
            );
        }
    }

    fn text(s: &str) -> Vec<Value> {
        vec![Value::Text(s.to_owned())]
    }
}

fn notification_conditions(filter: &NotificationFilter, after: Option<&PageCursor>) -> Conditions {
    let mut c = Conditions::default();
    c.add(
        " AND (user_id IS NULL OR user_id = $0)",
        vec![filter.user_id.clone().map(Value::Text).unwrap_or(Value::Null)],
    );
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

fn event_conditions(filter: &WebhookEventFilter, after: Option<&PageCursor>) -> Conditions {
    let mut c = Conditions::default();
    if let Some(endpoint) = &filter.endpoint {
        c.add(" AND endpoint = $0", Conditions::text(endpoint));
    }
    if let Some(outcome) = &filter.outcome {
        c.add(" AND outcome = $0", Conditions::text(outcome));
    }
    c.after("received_at", after);
    c
}

impl SqliteStore {
    /// Rows of `SELECT … WHERE tenant_id = ?1 <conditions> ORDER BY … LIMIT`, read by `row`.
    async fn filtered_rows<T: Send + 'static>(
        &self,
        sql: String,
        tenant_id: &str,
        conditions: Conditions,
        row: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let mut all = vec![Value::Text(tenant_id.to_owned())];
        all.extend(conditions.values);
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&sql).map_err(map_err)?;
            let rows = stmt.query_map(params_from_iter(all), row).map_err(map_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
        })
        .await
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

    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        let t = tenant.clone();
        self.write(move |c| {
            c.execute(
                &format!("INSERT INTO tenants ({TENANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                params![
                    t.id,
                    t.name,
                    t.slug,
                    t.webhook_secret_sealed,
                    t.created_at,
                    json_text(&t.webhook_settings)?,
                    t.previous_secret.as_ref().map(|p| p.sealed.clone()),
                    t.previous_secret.as_ref().map(|p| p.valid_until.clone()),
                ],
            )
            .map_err(map_err)?;
            Ok(())
        })
        .await
    }

    async fn get_tenant(&self, tenant_id: &str) -> StoreResult<Option<Tenant>> {
        let id = tenant_id.to_owned();
        self.read(move |c| {
            c.query_row(&format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?1"), [id], tenant_from_row)
                .optional()
                .map_err(map_err)
        })
        .await
    }

    async fn update_webhook_settings(&self, tenant_id: &str, settings: &WebhookSettings) -> StoreResult<bool> {
        let (id, json) = (tenant_id.to_owned(), json_text(settings)?);
        self.write(move |c| {
            c.execute("UPDATE tenants SET webhook_settings = ?2 WHERE id = ?1", params![id, json])
                .map(|n| n > 0)
                .map_err(map_err)
        })
        .await
    }

    async fn rotate_webhook_secret(
        &self,
        tenant_id: &str,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool> {
        self.set_secrets(tenant_id, None, sealed, previous).await
    }

    async fn reseal_webhook_secrets(
        &self,
        tenant_id: &str,
        expected: &str,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool> {
        self.set_secrets(tenant_id, Some(expected), sealed, previous).await
    }

    async fn get_tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
        let slug = slug.to_owned();
        self.read(move |c| {
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
        self.write(move |c| {
            let tx = c.savepoint().map_err(map_err)?;
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

    async fn apply_payment(&self, change: &PaymentChange) -> StoreResult<PaymentApplied> {
        let ch = change.clone();
        self.write(move |c| {
            let tx = c.savepoint().map_err(map_err)?;
            let current: Option<(String, Option<String>)> = tx
                .query_row(
                    "SELECT payment_status, payment_id FROM orders WHERE tenant_id = ?1 AND id = ?2",
                    params![ch.tenant_id, ch.order_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(map_err)?;
            let Some((status, payment_id)) = current else {
                return Ok(PaymentApplied::Conflict);
            };
            if status == ch.to.as_str() && (ch.payment_id.is_none() || ch.payment_id == payment_id) {
                return Ok(PaymentApplied::AlreadyApplied);
            }
            if status != ch.from.as_str() {
                return Ok(PaymentApplied::Conflict);
            }
            tx.execute(
                "UPDATE orders SET payment_status = ?3, payment_id = COALESCE(?4, payment_id), updated_at = ?5 \
                 WHERE tenant_id = ?1 AND id = ?2",
                params![ch.tenant_id, ch.order_id, ch.to.as_str(), ch.payment_id, ch.at],
            )
            .map_err(map_err)?;
            if let Some(n) = &ch.notification {
                insert_notification(&tx, n)?;
            }
            insert_activity(&tx, &ch.activity)?;
            tx.commit().map_err(map_err)?;
            Ok(PaymentApplied::Applied)
        })
        .await
    }

    async fn get_order(&self, tenant_id: &str, order_id: &str) -> StoreResult<Option<Order>> {
        let (t, o) = (tenant_id.to_owned(), order_id.to_owned());
        self.read(move |c| {
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

    async fn list_orders(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<Order>> {
        self.tenant_rows(
            format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE tenant_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2"
            ),
            tenant_id,
            limit,
            order_from_row,
        )
        .await
    }

    async fn order_stats(&self, tenant_id: &str, since: &str) -> StoreResult<OrderStats> {
        let (t, since) = (tenant_id.to_owned(), since.to_owned());
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT currency, payment_status, COUNT(*), SUM(amount_minor) FROM orders \
                     WHERE tenant_id = ?1 AND created_at >= ?2 GROUP BY currency, payment_status",
                )
                .map_err(map_err)?;
            let rows = stmt
                .query_map(params![t, since], |r| {
                    let payment: String = r.get(1)?;
                    let payment = PaymentStatus::parse(&payment).ok_or_else(|| bad_enum(1, "payment status"))?;
                    Ok((r.get::<_, String>(0)?, payment, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
                })
                .map_err(map_err)?;
            let mut stats = OrderStats::default();
            for row in rows {
                let (currency, payment, count, amount) = row.map_err(map_err)?;
                stats.add(&currency, payment, count.max(0) as u64, amount);
            }
            Ok(stats)
        })
        .await
    }

    async fn get_order_by_number(&self, tenant_id: &str, order_number: &str) -> StoreResult<Option<Order>> {
        let (t, n) = (tenant_id.to_owned(), order_number.to_owned());
        self.read(move |c| {
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
        self.write(move |c| {
            c.execute(
                &format!("INSERT INTO webhook_events ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
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
                    e.received_at,
                    e.response.as_ref().map(json_text).transpose()?,
                ],
            )
            .map(|_| ())
            .map_err(map_err)
        })
        .await
    }

    async fn list_webhook_events(
        &self,
        tenant_id: &str,
        filter: &WebhookEventFilter,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookEvent>> {
        let conditions = event_conditions(filter, after);
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM webhook_events WHERE tenant_id = ?1{} \
             ORDER BY received_at DESC, id DESC LIMIT {limit}",
            conditions.sql
        );
        self.filtered_rows(sql, tenant_id, conditions, event_from_row).await
    }

    async fn get_webhook_event(&self, tenant_id: &str, id: &str) -> StoreResult<Option<WebhookEvent>> {
        let (t, id) = (tenant_id.to_owned(), id.to_owned());
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE tenant_id = ?1 AND id = ?2"),
                params![t, id],
                event_from_row,
            )
            .optional()
            .map_err(map_err)
        })
        .await
    }

    async fn purge_webhook_events(&self, before: &str) -> StoreResult<u64> {
        let before = before.to_owned();
        self.write(move |c| {
            c.execute("DELETE FROM webhook_events WHERE received_at < ?1", [before]).map(|n| n as u64).map_err(map_err)
        })
        .await
    }

    async fn get_processed_webhook(&self, tenant_id: &str, webhook_id: &str) -> StoreResult<Option<ProcessedWebhook>> {
        let (t, w) = (tenant_id.to_owned(), webhook_id.to_owned());
        self.read(move |c| processed_webhook(c, &t, &w)).await
    }

    async fn claim_webhook(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        endpoint: &str,
        now: &str,
        stale_before: &str,
    ) -> StoreResult<WebhookClaim> {
        let args = [tenant_id, webhook_id, endpoint, now, stale_before].map(str::to_owned);
        self.write(move |c| {
            let [t, w, endpoint, now, stale] = args;
            // A claim is a row without an answer (status 0); one left by a dead
            // process is taken over once stale. One statement, on the one writer.
            let claimed = c
                .execute(
                    "INSERT INTO processed_webhooks (tenant_id, webhook_id, endpoint, status_code, response, received_at) \
                     VALUES (?1, ?2, ?3, 0, 'null', ?4) ON CONFLICT (tenant_id, webhook_id) DO UPDATE \
                     SET received_at = excluded.received_at, endpoint = excluded.endpoint \
                     WHERE processed_webhooks.status_code = 0 AND processed_webhooks.received_at < ?5",
                    params![t, w, endpoint, now, stale],
                )
                .map_err(map_err)?;
            if claimed == 1 {
                return Ok(WebhookClaim::Claimed);
            }
            Ok(processed_webhook(c, &t, &w)?.map_or(WebhookClaim::InProgress, WebhookClaim::Done))
        })
        .await
    }

    async fn release_webhook_claim(&self, tenant_id: &str, webhook_id: &str, claimed_at: &str) -> StoreResult<()> {
        let [t, w, at] = [tenant_id, webhook_id, claimed_at].map(str::to_owned);
        self.write(move |c| {
            c.execute(
                "DELETE FROM processed_webhooks WHERE tenant_id = ?1 AND webhook_id = ?2 AND status_code = 0 \
                 AND received_at = ?3",
                params![t, w, at],
            )
            .map(|_| ())
            .map_err(map_err)
        })
        .await
    }

    async fn save_processed_webhook(&self, p: &ProcessedWebhook) -> StoreResult<()> {
        let (p, response) = (p.clone(), json_text(&p.response)?);
        self.write(move |c| {
            c.execute(
                "INSERT INTO processed_webhooks (tenant_id, webhook_id, endpoint, status_code, response, received_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (tenant_id, webhook_id) DO UPDATE \
                 SET status_code = excluded.status_code, response = excluded.response, endpoint = excluded.endpoint \
                 WHERE processed_webhooks.status_code = 0",
                params![p.tenant_id, p.webhook_id, p.endpoint, p.status_code, response, p.received_at],
            )
            .map(|_| ())
            .map_err(map_err)
        })
        .await
    }

    async fn purge_processed_webhooks(&self, before: &str) -> StoreResult<u64> {
        let before = before.to_owned();
        self.write(move |c| {
            c.execute("DELETE FROM processed_webhooks WHERE received_at < ?1", [before])
                .map(|n| n as u64)
                .map_err(map_err)
        })
        .await
    }

    async fn append_activity(&self, entry: &ActivityEntry) -> StoreResult<()> {
        let a = entry.clone();
        self.write(move |c| insert_activity(c, &a)).await
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

    async fn get_notification(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Notification>> {
        let (t, id) = (tenant_id.to_owned(), id.to_owned());
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE tenant_id = ?1 AND id = ?2"),
                params![t, id],
                notification_from_row,
            )
            .optional()
            .map_err(map_err)
        })
        .await
    }

    async fn list_notifications(
        &self,
        tenant_id: &str,
        filter: &NotificationFilter,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Notification>> {
        let conditions = notification_conditions(filter, after);
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE tenant_id = ?1{} \
             ORDER BY created_at DESC, id DESC LIMIT {limit}",
            conditions.sql
        );
        self.filtered_rows(sql, tenant_id, conditions, notification_from_row).await
    }

    async fn update_notification(
        &self,
        tenant_id: &str,
        id: &str,
        patch: &NotificationPatch,
        at: &str,
    ) -> StoreResult<Option<Notification>> {
        let (t, id, at, patch) = (tenant_id.to_owned(), id.to_owned(), at.to_owned(), *patch);
        self.write(move |c| {
            let tx = c.savepoint().map_err(map_err)?;
            // Every expression in SET sees the row as it was before the update.
            tx.execute(
                "UPDATE notifications SET \
                   is_read = COALESCE(?3, is_read), \
                   read_at = CASE WHEN ?3 = 1 AND is_read = 0 THEN ?5 WHEN ?3 = 0 THEN NULL ELSE read_at END, \
                   is_dismissed = COALESCE(?4, is_dismissed) \
                 WHERE tenant_id = ?1 AND id = ?2",
                params![t, id, patch.is_read, patch.is_dismissed, at],
            )
            .map_err(map_err)?;
            let updated = tx
                .query_row(
                    &format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE tenant_id = ?1 AND id = ?2"),
                    params![t, id],
                    notification_from_row,
                )
                .optional()
                .map_err(map_err)?;
            tx.commit().map_err(map_err)?;
            Ok(updated)
        })
        .await
    }

    async fn mark_delivered(&self, tenant_id: &str, id: &str, at: &str) -> StoreResult<bool> {
        let (t, id, at) = (tenant_id.to_owned(), id.to_owned(), at.to_owned());
        self.write(move |c| {
            c.execute(
                "UPDATE notifications SET delivered_at = ?3 WHERE tenant_id = ?1 AND id = ?2 AND delivered_at IS NULL",
                params![t, id, at],
            )
            .map(|n| n > 0)
            .map_err(map_err)
        })
        .await
    }

    async fn mark_all_read(&self, tenant_id: &str, user_id: Option<&str>, read_at: &str) -> StoreResult<u64> {
        let (id, user, at) = (tenant_id.to_owned(), user_id.map(str::to_owned), read_at.to_owned());
        self.write(move |c| {
            c.execute(
                "UPDATE notifications SET is_read = 1, read_at = ?3 \
                 WHERE tenant_id = ?1 AND (user_id IS NULL OR user_id = ?2) AND is_read = 0",
                params![id, user, at],
            )
            .map(|n| n as u64)
            .map_err(map_err)
        })
        .await
    }

    async fn unread_count(&self, tenant_id: &str, user_id: Option<&str>) -> StoreResult<u64> {
        let (id, user) = (tenant_id.to_owned(), user_id.map(str::to_owned));
        self.read(move |c| {
            // Kept by triggers on `notifications` (migration 10).
            c.query_row(
                "SELECT COALESCE(SUM(unread), 0) FROM unread_counts \
                 WHERE tenant_id = ?1 AND (user_id = '' OR user_id = ?2)",
                params![id, user],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(map_err)
        })
        .await
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(&format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY created_at, id"))
                .map_err(map_err)?;
            let rows = stmt.query_map([], tenant_from_row).map_err(map_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(map_err)
        })
        .await
    }

    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        let u = user.clone();
        self.write(move |c| {
            c.execute(
                &format!("INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
                params![u.id, u.email.to_lowercase(), u.name, u.password_hash, u.created_at],
            )
            .map(|_| ())
            .map_err(map_err)
        })
        .await
    }

    async fn get_user(&self, user_id: &str) -> StoreResult<Option<User>> {
        let id = user_id.to_owned();
        self.read(move |c| {
            c.query_row(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"), [id], user_from_row)
                .optional()
                .map_err(map_err)
        })
        .await
    }

    async fn get_user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let email = email.to_lowercase();
        self.read(move |c| {
            c.query_row(&format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1"), [email], user_from_row)
                .optional()
                .map_err(map_err)
        })
        .await
    }

    async fn set_membership(&self, m: &Membership) -> StoreResult<()> {
        let m = m.clone();
        self.write(move |c| {
            c.execute(
                "INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = excluded.role",
                params![m.tenant_id, m.user_id, m.role.as_str(), m.created_at],
            )
            .map(|_| ())
            .map_err(map_err)
        })
        .await
    }

    async fn memberships_of_user(&self, user_id: &str) -> StoreResult<Vec<Membership>> {
        self.memberships("user_id = ?1 ORDER BY created_at, tenant_id", user_id).await
    }

    async fn memberships_of_tenant(&self, tenant_id: &str) -> StoreResult<Vec<Membership>> {
        self.memberships("tenant_id = ?1 ORDER BY created_at, user_id", tenant_id).await
    }

    async fn delete_membership(&self, tenant_id: &str, user_id: &str) -> StoreResult<bool> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.write(move |c| {
            c.execute("DELETE FROM memberships WHERE tenant_id = ?1 AND user_id = ?2", params![t, u])
                .map(|n| n > 0)
                .map_err(map_err)
        })
        .await
    }

    async fn change_membership(
        &self,
        tenant_id: &str,
        user_id: &str,
        to: Option<Role>,
    ) -> StoreResult<MembershipChange> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.write(move |c| {
            let from: Option<String> = c
                .query_row("SELECT role FROM memberships WHERE tenant_id = ?1 AND user_id = ?2", params![t, u], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(map_err)?;
            let Some(from) = from.as_deref().and_then(Role::parse) else {
                return Ok(MembershipChange::NotFound);
            };
            // One statement decides: it changes nothing if the member is an
            // owner, would stop being one, and is the only one.
            let keeps_an_owner = "(role <> 'owner' OR (SELECT COUNT(*) FROM memberships \
                                  WHERE tenant_id = ?1 AND role = 'owner') > 1)";
            let changed = match to {
                Some(role) => c.execute(
                    &format!(
                        "UPDATE memberships SET role = ?3 WHERE tenant_id = ?1 AND user_id = ?2 \
                         AND (?3 = 'owner' OR {keeps_an_owner})"
                    ),
                    params![t, u, role.as_str()],
                ),
                None => c.execute(
                    &format!("DELETE FROM memberships WHERE tenant_id = ?1 AND user_id = ?2 AND {keeps_an_owner}"),
                    params![t, u],
                ),
            }
            .map_err(map_err)?;
            Ok(if changed == 1 { MembershipChange::Changed { from } } else { MembershipChange::LastOwner })
        })
        .await
    }

    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        let s = session.clone();
        self.write(move |c| {
            c.execute(
                &format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    s.token_hash,
                    s.user_id,
                    s.created_at,
                    s.last_seen_at,
                    s.idle_expires_at,
                    s.expires_at,
                    s.revoked_at,
                    s.ip,
                    s.user_agent
                ],
            )
            .map(|_| ())
            .map_err(map_err)
        })
        .await
    }

    async fn get_session(&self, token_hash: &str, now: &str) -> StoreResult<Option<Session>> {
        let (h, now) = (token_hash.to_owned(), now.to_owned());
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?1 AND expires_at > ?2"),
                params![h, now],
                session_from_row,
            )
            .optional()
            .map_err(map_err)
        })
        .await
    }

    async fn touch_session(&self, token_hash: &str, last_seen_at: &str, idle_expires_at: &str) -> StoreResult<bool> {
        let (h, seen, idle) = (token_hash.to_owned(), last_seen_at.to_owned(), idle_expires_at.to_owned());
        self.write(move |c| {
            c.execute(
                "UPDATE sessions SET last_seen_at = ?2, idle_expires_at = ?3 WHERE token_hash = ?1 AND revoked_at IS NULL",
                params![h, seen, idle],
            )
            .map(|n| n > 0)
            .map_err(map_err)
        })
        .await
    }

    async fn revoke_session(&self, token_hash: &str, at: &str) -> StoreResult<bool> {
        let (h, at) = (token_hash.to_owned(), at.to_owned());
        self.write(move |c| {
            c.execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
                params![h, at],
            )
            .map(|n| n > 0)
            .map_err(map_err)
        })
        .await
    }

    async fn revoke_user_sessions(&self, user_id: &str, at: &str) -> StoreResult<u64> {
        let (u, at) = (user_id.to_owned(), at.to_owned());
        self.write(move |c| {
            c.execute("UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL", params![u, at])
                .map(|n| n as u64)
                .map_err(map_err)
        })
        .await
    }

    async fn purge_sessions(&self, now: &str) -> StoreResult<u64> {
        let now = now.to_owned();
        self.write(move |c| {
            c.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now]).map(|n| n as u64).map_err(map_err)
        })
        .await
    }

    async fn insert_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        let k = key.clone();
        self.write(move |c| {
            let i = &k.info;
            c.execute(
                &format!("INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
                params![
                    i.id,
                    i.tenant_id,
                    i.name,
                    i.prefix,
                    i.role.as_str(),
                    i.created_by,
                    i.created_at,
                    i.last_used_at,
                    i.revoked_at,
                    k.key_hash
                ],
            )
            .map(|_| ())
            .map_err(map_err)
        })
        .await
    }

    async fn get_api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<ApiKey>> {
        let p = prefix.to_owned();
        self.read(move |c| {
            c.query_row(&format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE prefix = ?1"), [p], api_key_from_row)
                .optional()
                .map_err(map_err)
        })
        .await
    }

    async fn list_api_keys(&self, tenant_id: &str) -> StoreResult<Vec<ApiKeyInfo>> {
        self.tenant_rows(
            format!(
                "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = ?1 \
                 ORDER BY created_at DESC, id DESC LIMIT ?2"
            ),
            tenant_id,
            u32::MAX,
            api_key_info_from_row,
        )
        .await
    }

    async fn revoke_api_key(&self, tenant_id: &str, id: &str, at: &str) -> StoreResult<bool> {
        let (t, id, at) = (tenant_id.to_owned(), id.to_owned(), at.to_owned());
        self.write(move |c| {
            c.execute(
                "UPDATE api_keys SET revoked_at = ?3 WHERE tenant_id = ?1 AND id = ?2 AND revoked_at IS NULL",
                params![t, id, at],
            )
            .map(|n| n > 0)
            .map_err(map_err)
        })
        .await
    }

    async fn touch_api_key(&self, id: &str, at: &str) -> StoreResult<()> {
        let (id, at) = (id.to_owned(), at.to_owned());
        self.write(move |c| {
            c.execute("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1", params![id, at])
                .map(|_| ())
                .map_err(map_err)
        })
        .await
    }
}
