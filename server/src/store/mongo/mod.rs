//! The production store: MongoDB through the official driver.
//!
//! Standalone MongoDB has no transactions, so multi-document operations are
//! ordered and idempotent instead: an order is inserted first (unique on
//! tenant + order number), then its notification is upserted under a unique
//! `sourceKey` derived from the order id. A retry after a crash between the two
//! writes finds the order and completes the missing notification, never
//! writing either twice. All indexes are created at start-up (see [`indexes`]).
//!
//! This file holds the store itself: connecting, its collections, error
//! mapping, the write concern and health. Each aggregate's operations are in a
//! file of their own (`tenants`, `orders`, `notifications`, `activity`,
//! `webhook_log`, `identity`), written with the helpers of [`query`] and the
//! document mappings of [`docs`].

mod activity;
mod docs;
#[cfg(test)]
mod docs_tests;
mod identity;
mod indexes;
mod invitations;
mod notifications;
mod orders;
mod providers;
mod query;
mod tenants;
mod unread;
mod webhook_log;

use std::time::Duration;

use async_trait::async_trait;
use mongodb::{
    bson::{doc, Document},
    error::{ErrorKind, WriteFailure},
    options::{Acknowledgment, ClientOptions, CollectionOptions, WriteConcern},
    Client, Collection, Database,
};

use super::{Store, StoreError, StoreResult};
use crate::config::WriteConcernSetting;

/// The MongoDB store.
pub struct MongoStore {
    db: Database,
    tenants: Collection<Document>,
    orders: Collection<Document>,
    notifications: Collection<Document>,
    activity: Collection<Document>,
    webhook_events: Collection<Document>,
    users: Collection<Document>,
    memberships: Collection<Document>,
    sessions: Collection<Document>,
    api_keys: Collection<Document>,
    processed_webhooks: Collection<Document>,
    /// Each reader's state of the notifications they changed one by one.
    notification_states: Collection<Document>,
    /// Each reader's last mark-all-read.
    reader_marks: Collection<Document>,
    /// Sequence numbers (the order notifications were stored in, per tenant).
    counters: Collection<Document>,
    /// Each user's notification preferences, by user id.
    preferences: Collection<Document>,
    /// Invitations to tenants, by id (their token's hash unique).
    invitations: Collection<Document>,
    /// Tenants' connections to Shopify and Stripe, by `<tenant id>:<provider>`.
    provider_connections: Collection<Document>,
    /// How long webhook events live before the TTL index removes them.
    event_retention: Duration,
}

const DUPLICATE_KEY: i32 = 11000;

fn is_duplicate(e: &mongodb::error::Error) -> bool {
    matches!(&*e.kind, ErrorKind::Write(WriteFailure::WriteError(we)) if we.code == DUPLICATE_KEY)
        || matches!(&*e.kind, ErrorKind::Command(c) if c.code == DUPLICATE_KEY)
}

fn map_err(e: mongodb::error::Error) -> StoreError {
    match &*e.kind {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. } => StoreError::Unavailable(e.to_string()),
        _ if is_duplicate(&e) => StoreError::Conflict(e.to_string()),
        _ => StoreError::Internal(e.to_string()),
    }
}

/// The driver's write concern for `MONGODB_WRITE_CONCERN`: always journaled.
pub fn write_concern(setting: WriteConcernSetting) -> WriteConcern {
    let w = match setting {
        WriteConcernSetting::Majority => Acknowledgment::Majority,
        WriteConcernSetting::Nodes(n) => Acknowledgment::Nodes(n),
    };
    WriteConcern::builder().w(w).journal(true).build()
}

/// Parses `MONGODB_WRITE_CONCERN`: `majority` (default) or a node count.
pub fn parse_write_concern(value: Option<&str>) -> Result<WriteConcern, String> {
    WriteConcernSetting::parse(value).map(write_concern)
}

impl MongoStore {
    /// Connects to `uri` (database from the URI's path, else `hookbell`) and
    /// creates every index. Fails fast (a few seconds) when the server is down.
    pub async fn connect(uri: &str, write_concern: WriteConcern, event_retention: Duration) -> StoreResult<Self> {
        let mut options = ClientOptions::parse(uri).await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        options.app_name = Some("hookbell".into());
        options.server_selection_timeout.get_or_insert(Duration::from_secs(5));
        options.connect_timeout.get_or_insert(Duration::from_secs(5));
        // Every command's time, by name (`hookbell_store_operation_seconds`).
        options.command_event_handler = Some(mongodb::event::EventHandler::callback(|event| {
            use mongodb::event::command::CommandEvent;
            match event {
                CommandEvent::Succeeded(e) => crate::telemetry::store_operation("mongodb", e.command_name, e.duration),
                CommandEvent::Failed(e) => crate::telemetry::store_operation("mongodb", e.command_name, e.duration),
                _ => {}
            }
        }));
        let db_name = options.default_database.clone().unwrap_or_else(|| "hookbell".into());
        let client = Client::with_options(options).map_err(map_err)?;
        Self::open(client.database(&db_name), write_concern, event_retention).await
    }

    /// Uses `db`, creating indexes.
    pub async fn open(db: Database, write_concern: WriteConcern, event_retention: Duration) -> StoreResult<Self> {
        let opts = CollectionOptions::builder().write_concern(write_concern).build();
        let store = Self {
            tenants: db.collection_with_options("tenants", opts.clone()),
            orders: db.collection_with_options("orders", opts.clone()),
            notifications: db.collection_with_options("notifications", opts.clone()),
            activity: db.collection_with_options("activity_log", opts.clone()),
            webhook_events: db.collection_with_options("webhook_events", opts.clone()),
            users: db.collection_with_options("users", opts.clone()),
            memberships: db.collection_with_options("memberships", opts.clone()),
            sessions: db.collection_with_options("sessions", opts.clone()),
            api_keys: db.collection_with_options("api_keys", opts.clone()),
            processed_webhooks: db.collection_with_options("processed_webhooks", opts.clone()),
            notification_states: db.collection_with_options("notification_states", opts.clone()),
            reader_marks: db.collection_with_options("reader_marks", opts.clone()),
            counters: db.collection_with_options("counters", opts.clone()),
            preferences: db.collection_with_options("preferences", opts.clone()),
            invitations: db.collection_with_options("invitations", opts.clone()),
            provider_connections: db.collection_with_options("provider_connections", opts),
            event_retention,
            db,
        };
        store.ping().await?;
        store.check_version().await?;
        store.create_indexes().await?;
        Ok(store)
    }
}

/// The oldest MongoDB hookbell runs on: 4.4, for `$unionWith` (the unread count, [`unread`]).
const OLDEST_VERSION: [i64; 2] = [4, 4];

/// Whether a server reporting `version` (`buildInfo.versionArray`) is new enough.
fn new_enough(version: &[i64]) -> bool {
    version[..version.len().min(2)] >= OLDEST_VERSION[..]
}

impl MongoStore {
    /// Refuses a server older than [`OLDEST_VERSION`] at start-up, rather than
    /// failing every unread count later.
    async fn check_version(&self) -> StoreResult<()> {
        let info = self.db.run_command(doc! {"buildInfo": 1}).await.map_err(map_err)?;
        let parts: Vec<i64> = info
            .get_array("versionArray")
            .map(|a| a.iter().filter_map(|p| docs::whole_number(Some(p))).collect())
            .unwrap_or_default();
        if new_enough(&parts) {
            return Ok(());
        }
        let reported = info.get_str("version").unwrap_or("an unknown version");
        Err(StoreError::Unavailable(format!("MongoDB 4.4 or later is needed; the server at MONGODB_URI is {reported}")))
    }
}

#[async_trait]
impl Store for MongoStore {
    fn kind(&self) -> &'static str {
        "mongodb"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.db.run_command(doc! {"ping": 1}).await.map(|_| ()).map_err(map_err)
    }
}

#[cfg(test)]
mod version_tests {
    use super::new_enough;

    #[test]
    fn mongodb_4_4_and_later_are_new_enough() {
        for v in [&[4, 4, 0, 0][..], &[4, 4, 29, 0], &[5, 0, 0, 0], &[8, 2, 11, 0], &[10, 0]] {
            assert!(new_enough(v), "{v:?}");
        }
        for v in [&[4, 2, 25, 0][..], &[3, 6, 0, 0], &[4], &[]] {
            assert!(!new_enough(v), "{v:?}");
        }
    }
}
