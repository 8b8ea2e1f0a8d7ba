//! Server-only records: what the store keeps but the browser never sees.

/// A secret value (the one type for secrets, shared with the sender SDK).
pub use crate::signature::Secret;
use app::models::{InvitationId, Role, TenantId, Timestamp, UserId};

/// A tenant: one business whose dashboards hookbell serves.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    /// 24 lowercase hex characters (ObjectId-compatible).
    pub id: TenantId,
    pub name: String,
    /// Unique, URL-safe.
    pub slug: String,
    /// The webhook secret, sealed with the server key (see `sealing`): the
    /// store never holds it in plain text.
    pub webhook_secret_sealed: String,
    pub webhook_settings: app::models::WebhookSettings,
    /// The secret before the last rotation, still accepted for a grace period.
    pub previous_secret: Option<PreviousSecret>,
    pub created_at: Timestamp,
}

/// A rotated-out webhook secret (sealed), accepted until `valid_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviousSecret {
    pub sealed: String,
    pub valid_until: Timestamp,
}

/// A person who signs in. Belongs to tenants through [`Membership`]s.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    /// Unique; stored lowercased.
    pub email: String,
    pub name: String,
    /// An argon2id PHC string; never the password.
    pub password_hash: String,
    pub created_at: Timestamp,
    /// The last time they signed in; none if never.
    pub last_sign_in_at: Option<Timestamp>,
}

/// A user's role in one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub role: app::models::Role,
    pub created_at: Timestamp,
}

/// An invitation to join a tenant with a role. The store keeps only the
/// HMAC of its link's token; it is used at most once, until `expires_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct Invitation {
    pub id: InvitationId,
    pub tenant_id: TenantId,
    /// Lowercased: only this email's account may accept it.
    pub email: String,
    pub role: Role,
    /// HMAC-SHA256 (hex) of the token, under the session key.
    pub token_hash: String,
    /// Who invited, as audit entries name them.
    pub invited_by: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub accepted_at: Option<Timestamp>,
    pub accepted_by: Option<UserId>,
    pub revoked_at: Option<Timestamp>,
}

impl Invitation {
    /// Acceptable at `now`: neither accepted, revoked nor expired.
    pub fn is_pending(&self, now: Timestamp) -> bool {
        self.accepted_at.is_none() && self.revoked_at.is_none() && now < self.expires_at
    }
}

/// A signed-in browser. The store keeps only a hash of the cookie's token, so
/// a leaked database does not leak sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// SHA-256 (hex) of the session token.
    pub token_hash: String,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// Idle expiry: moved forward as the session is used.
    pub idle_expires_at: Timestamp,
    /// Absolute expiry: never moves; the store forgets the session after it.
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Session {
    /// Usable at `now`: not revoked, neither expiry passed.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && now < self.idle_expires_at && now < self.expires_at
    }
}

/// A tenant's API key: its listing plus the hash it is checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub info: app::models::ApiKeyInfo,
    /// SHA-256 (hex) of the whole key.
    pub key_hash: String,
}

/// A webhook delivery already processed, keyed by the sender's `webhook-id`:
/// a redelivery gets the same answer and changes nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedWebhook {
    pub tenant_id: TenantId,
    pub webhook_id: String,
    pub endpoint: String,
    pub status_code: u16,
    /// The JSON body the first delivery was answered with.
    pub response: serde_json::Value,
    pub received_at: Timestamp,
}

/// A tenant's connection to a provider (Shopify, Stripe) that posts its own
/// webhooks: the signing secret (sealed, bound to the tenant and provider),
/// the one it replaced during a grace period, and the provider's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderConnection {
    pub tenant_id: TenantId,
    pub provider: app::models::Provider,
    pub enabled: bool,
    pub secret_sealed: String,
    pub previous_secret: Option<PreviousSecret>,
    /// Shopify: the shop whose deliveries are taken.
    pub shop_domain: Option<String>,
    /// Shopify: a variant below this many in stock raises a notification.
    pub low_stock_threshold: u32,
    pub last_delivery_at: Option<Timestamp>,
    /// Counts the connection's changes: a change is saved only over the version it read.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
