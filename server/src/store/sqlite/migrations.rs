//! The schema: [`MIGRATIONS`], versioned with `PRAGMA user_version`, and
//! [`migrate`], which applies the new ones when the store opens.

use rusqlite::Connection;

use super::map_err;
use crate::store::{StoreError, StoreResult};

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
    // 11: state per reader (a user id, or '' for the tenant itself). A notification's own
    // is_read/is_dismissed/read_at become what every reader starts from (the flags set before
    // this migration hold for all readers; new notifications start unread); `seq` is the
    // order notifications were stored in, which a reader's mark-all-read (`reader_marks`)
    // refers to; `notification_states` holds what a reader changed one by one. The
    // `unread_counts` triggers keep counting the stored flags, which no longer change; a
    // reader's count is those counts, minus what they were at the reader's mark (`live_*`),
    // plus `adjust`: what the reader's own changes added or took away since.
    r#"
    ALTER TABLE notifications ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    UPDATE notifications SET seq = rowid;
    CREATE INDEX notifications_seq ON notifications (seq);
    -- The highest seq ever given, so a deleted newest notification's number is never given again.
    CREATE TABLE notification_seq (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL) STRICT;
    INSERT INTO notification_seq VALUES (1, COALESCE((SELECT MAX(seq) FROM notifications), 0));
    CREATE TRIGGER notification_seq_insert AFTER INSERT ON notifications
        BEGIN
            UPDATE notification_seq SET value = MAX(value, NEW.seq) WHERE id = 1;
        END;
    CREATE TABLE notification_states (
        tenant_id TEXT NOT NULL,
        reader TEXT NOT NULL,
        notification_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        base_live INTEGER NOT NULL,
        base_dismissed INTEGER NOT NULL,
        is_read INTEGER NOT NULL,
        read_at TEXT,
        is_dismissed INTEGER NOT NULL,
        snoozed_until TEXT,
        PRIMARY KEY (tenant_id, reader, notification_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX notification_states_unread ON notification_states (tenant_id, reader) WHERE is_read = 0;
    CREATE INDEX notification_states_snoozed ON notification_states (snoozed_until)
        WHERE snoozed_until IS NOT NULL;
    CREATE TABLE reader_marks (
        tenant_id TEXT NOT NULL,
        reader TEXT NOT NULL,
        read_through INTEGER NOT NULL,
        read_at TEXT NOT NULL,
        live_tenant INTEGER NOT NULL,
        live_own INTEGER NOT NULL,
        adjust INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, reader)
    ) STRICT, WITHOUT ROWID;
    CREATE TRIGGER reader_state_delete AFTER DELETE ON notifications
        BEGIN
            UPDATE reader_marks SET live_tenant = live_tenant - 1
                WHERE tenant_id = OLD.tenant_id AND OLD.user_id IS NULL AND OLD.seq <= read_through
                AND OLD.is_read = 0 AND OLD.is_dismissed = 0;
            UPDATE reader_marks SET live_own = live_own - 1
                WHERE tenant_id = OLD.tenant_id AND reader = OLD.user_id AND OLD.seq <= read_through
                AND OLD.is_read = 0 AND OLD.is_dismissed = 0;
            UPDATE reader_marks SET adjust = adjust - (
                    SELECT (s.is_read = 0 AND s.is_dismissed = 0 AND s.snoozed_until IS NULL)
                         - (s.base_live = 1 AND s.seq > reader_marks.read_through)
                    FROM notification_states s
                    WHERE s.tenant_id = OLD.tenant_id AND s.reader = reader_marks.reader
                      AND s.notification_id = OLD.id)
                WHERE tenant_id = OLD.tenant_id AND EXISTS (
                    SELECT 1 FROM notification_states s
                    WHERE s.tenant_id = OLD.tenant_id AND s.reader = reader_marks.reader
                      AND s.notification_id = OLD.id);
            DELETE FROM notification_states WHERE tenant_id = OLD.tenant_id AND notification_id = OLD.id;
        END;
    "#,
    // 12: each user's notification preferences (JSON), by user id ('demo' for the development demo).
    r#"
    CREATE TABLE preferences (
        owner TEXT PRIMARY KEY NOT NULL,
        prefs TEXT NOT NULL
    ) STRICT;
    "#,
    // 13: invitations to tenants (only their token's HMAC is kept) and each user's last sign-in.
    r#"
    CREATE TABLE invitations (
        id TEXT PRIMARY KEY NOT NULL,
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        email TEXT NOT NULL,
        role TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        invited_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        accepted_at TEXT,
        accepted_by TEXT,
        revoked_at TEXT
    ) STRICT;
    CREATE INDEX invitations_tenant_created ON invitations (tenant_id, created_at);
    ALTER TABLE users ADD COLUMN last_sign_in_at TEXT;
    "#,
    // 14: tenants' connections to Shopify and Stripe (signing secrets sealed).
    r#"
    CREATE TABLE provider_connections (
        tenant_id TEXT NOT NULL REFERENCES tenants(id),
        provider TEXT NOT NULL,
        enabled INTEGER NOT NULL,
        secret_sealed TEXT NOT NULL,
        previous_secret_sealed TEXT,
        previous_secret_valid_until TEXT,
        shop_domain TEXT,
        low_stock_threshold INTEGER NOT NULL,
        last_delivery_at TEXT,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, provider)
    ) STRICT;
    ALTER TABLE webhook_events ADD COLUMN topic TEXT;
    "#,
    // 15: indexes no query uses, dropped: every notification stored wrote to them (half
    // of its B-tree inserts). Since 11 a reader's read and dismissed state is not in the
    // row's flags, and the list searches `notifications_tenant_created` for every reader
    // (`plans.rs` checks each query's plan).
    r#"
    DROP INDEX notifications_tenant_state;
    DROP INDEX notifications_tenant_user_created;
    DROP INDEX notifications_seq;
    "#,
];

/// Applies every migration newer than the database's `user_version`, each in a transaction.
pub(super) fn migrate(conn: &mut Connection) -> StoreResult<()> {
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
