//! A tenant's webhook settings: the settings themselves with the seed's
//! defaults, the settings page's view and changes, secret rotation, and the
//! report of "send test webhook".

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// Which webhook endpoints a tenant accepts (the seed's `webhookEndpoints`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoints {
    pub orders: bool,
    pub notifications: bool,
    pub payments: bool,
}

/// A tenant's webhook settings, with the seed's field names and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSettings {
    pub webhook_enabled: bool,
    pub webhook_endpoints: WebhookEndpoints,
    /// 0–10.
    pub webhook_retry_attempts: u32,
    /// 1,000–120,000.
    pub webhook_timeout_ms: u32,
    /// Whether the seed's `X-Webhook-Signature` (an HMAC of the body alone, no
    /// timestamp: a captured request can be replayed forever) is accepted
    /// besides Standard Webhooks. On by default, as the seed's contract says.
    #[serde(default = "accept_seed_signatures_default")]
    pub accept_seed_signatures: bool,
}

fn accept_seed_signatures_default() -> bool {
    true
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            webhook_enabled: true,
            webhook_endpoints: WebhookEndpoints { orders: true, notifications: true, payments: true },
            webhook_retry_attempts: 3,
            webhook_timeout_ms: 30_000,
            accept_seed_signatures: true,
        }
    }
}

/// Where senders post, per endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookUrls {
    pub orders: String,
    pub notifications: String,
    pub payments: String,
}

/// A tenant's webhook settings as shown to its members (`GET /api/webhooks/settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSettingsView {
    #[serde(flatten)]
    pub settings: WebhookSettings,
    /// The end of the current secret, to recognise it by.
    pub secret_hint: String,
    /// Until when the previous secret is still accepted, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_valid_until: Option<Timestamp>,
    pub webhook_urls: WebhookUrls,
    /// The tenant has no secret of its own and relies on the server's global
    /// `WEBHOOK_SECRET` (shared by every such tenant): rotate to get one.
    #[serde(default)]
    pub uses_fallback_secret: bool,
}

/// A change to webhook settings from the settings page: only what is given changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSettingsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_endpoints: Option<WebhookEndpoints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_retry_attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_timeout_ms: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_seed_signatures: Option<bool>,
}

/// A new webhook secret: the only time it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotatedSecret {
    pub webhook_secret: String,
    pub secret_hint: String,
    pub previous_secret_valid_until: Option<Timestamp>,
}

/// One attempt to deliver a webhook, as its sender saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// How long the sender waited before this attempt.
    pub delay_ms: u64,
}

/// The outcome of "send test webhook".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestReport {
    pub success: bool,
    pub url: String,
    pub webhook_id: String,
    pub attempts: Vec<DeliveryAttempt>,
}
