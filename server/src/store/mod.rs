//! Storage: one trait, [`Store`], that every store implements.
//!
//! Methods are domain operations (create an order *with* its notification), not
//! generic CRUD, so each store chooses how to make them safe: the embedded
//! SQLite store uses a transaction; the MongoDB store (next) will use ordered,
//! idempotent writes keyed by unique indexes, since standalone MongoDB has no
//! transactions. Every query is scoped by tenant id.

mod model;
pub mod mongo;
pub mod sqlite;

use async_trait::async_trait;
use thiserror::Error;

pub use app::models::{ActivityEntry, Notification, Order, WebhookEvent, WebhookSettings};
pub use model::{Secret, Tenant};

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store cannot be reached or is overloaded: retry later (HTTP 503).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was broken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Anything else: a bug or corrupt data (HTTP 500).
    #[error("store error: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Result of [`Store::create_order`].
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOrder {
    /// The order and its notification were stored.
    Created,
    /// The tenant already has an order with this number; nothing was written.
    Duplicate { existing_order_id: String },
}

/// The operations hookbell needs from a store.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A short name for health output: `sqlite`, `mongodb`.
    fn kind(&self) -> &'static str;

    /// Checks that the store answers.
    async fn ping(&self) -> StoreResult<()>;

    /// Stores a new tenant. `Conflict` if the id or slug exists.
    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()>;

    /// A tenant by id.
    async fn get_tenant(&self, tenant_id: &str) -> StoreResult<Option<Tenant>>;

    /// Replaces a tenant's webhook settings; false when the tenant does not exist.
    async fn update_webhook_settings(&self, tenant_id: &str, settings: &WebhookSettings) -> StoreResult<bool>;

    /// A tenant by its unique slug.
    async fn get_tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>>;

    /// Stores an order, the notification announcing it and its audit entry,
    /// as one unit: a repeated (tenant, orderNumber) writes nothing new, and
    /// a retry after a failure part-way completes what is missing.
    async fn create_order(
        &self,
        order: &Order,
        notification: &Notification,
        activity: &ActivityEntry,
    ) -> StoreResult<CreateOrder>;

    /// An order of the tenant by id (`None` for another tenant's order).
    async fn get_order(&self, tenant_id: &str, order_id: &str) -> StoreResult<Option<Order>>;

    /// An order of the tenant by its order number.
    async fn get_order_by_number(&self, tenant_id: &str, order_number: &str) -> StoreResult<Option<Order>>;

    /// Records a received webhook request.
    async fn record_webhook_event(&self, event: &WebhookEvent) -> StoreResult<()>;

    /// The tenant's received webhooks, newest first.
    async fn list_webhook_events(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<WebhookEvent>>;

    /// Deletes webhook events received before `before` (RFC 3339); returns how many.
    /// (MongoDB also expires them with a TTL index.)
    async fn purge_webhook_events(&self, before: &str) -> StoreResult<u64>;

    /// The tenant's audit trail, newest first.
    async fn list_activity(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<ActivityEntry>>;

    /// Stores notifications in bulk (imports, seeding); ids must be new.
    async fn insert_notifications(&self, notifications: &[Notification]) -> StoreResult<()>;

    /// Marks every unread tenant-wide notification read at `read_at`; returns how many changed.
    async fn mark_all_read(&self, tenant_id: &str, read_at: &str) -> StoreResult<u64>;

    /// Tenant-wide notifications that are neither read nor dismissed.
    async fn unread_count(&self, tenant_id: &str) -> StoreResult<u64>;

    /// The tenant's newest notifications (not dismissed), newest first.
    async fn latest_notifications(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<Notification>>;
}
