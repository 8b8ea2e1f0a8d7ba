//! Storage: one trait per aggregate (see [`traits`]), which every store
//! implements, and [`Store`], all of them together.
//!
//! Methods are domain operations (create an order *with* its notification), not
//! generic CRUD, so each store chooses how to make them safe: the embedded
//! SQLite store uses a transaction; the MongoDB store uses ordered, idempotent
//! writes keyed by unique indexes, since standalone MongoDB has no
//! transactions. Every query is scoped by tenant id.

mod model;
pub mod mongo;
pub mod reader_state;
pub mod sqlite;
pub mod traits;

use async_trait::async_trait;
use thiserror::Error;

pub use app::models::{
    ActivityEntry, ApiKeyInfo, Notification, NotificationFilter, NotificationPatch, Order, OrderStats, PageCursor,
    PaymentStatus, WebhookEvent, WebhookEventFilter, WebhookSettings,
};
pub use model::{
    ApiKey, Invitation, Membership, PreviousSecret, ProcessedWebhook, ProviderConnection, Secret, Session, Tenant, User,
};
pub use traits::{
    ActivityStore, CreateOrder, DueSnooze, IdentityStore, InvitationStore, MembershipChange, NotificationStore,
    OrderStore, OrderWritten, PaymentApplied, PaymentChange, ProviderStore, Receipt, TenantStore, WebhookClaim,
    WebhookLogStore,
};

/// Why a store operation failed.
#[derive(Debug, Clone, Error)]
pub enum StoreError {
    /// The store cannot be reached or is overloaded: retry later (HTTP 503).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was broken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The `webhook-id` a write was to claim ([`Receipt::claim_stale_before`])
    /// is answered or claimed by another request: the write stored nothing.
    #[error("the webhook-id is answered or claimed")]
    Taken,
    /// Anything else: a bug or corrupt data (HTTP 500).
    #[error("store error: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How long a processed `webhook-id` is remembered: far beyond the ±5 minute
/// timestamp tolerance, so a redelivery inside it is always recognised.
pub const PROCESSED_WEBHOOK_RETENTION: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The operations hookbell needs from a store: every aggregate's trait (each
/// `Send + Sync`), plus health. Their methods are callable on `dyn Store`
/// without importing them.
#[async_trait]
pub trait Store:
    TenantStore
    + OrderStore
    + NotificationStore
    + ActivityStore
    + WebhookLogStore
    + IdentityStore
    + InvitationStore
    + ProviderStore
    + 'static
{
    /// A short name for health output: `sqlite`, `mongodb`.
    fn kind(&self) -> &'static str;

    /// Checks that the store answers.
    async fn ping(&self) -> StoreResult<()>;
}
