//! The webhook event log: every received webhook request, accepted or not,
//! what a member who is not an admin may see of one, and the log's filter.

use serde::{Deserialize, Serialize};

use super::{TenantId, Timestamp, WebhookEventId};

/// One received webhook request, accepted or not (the webhook event log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    pub id: WebhookEventId,
    /// The tenant the request named, when it named one (not necessarily one that exists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<TenantId>,
    /// `orders`, `notifications`, `payments`, or a provider: `shopify`, `stripe`.
    pub endpoint: String,
    /// A provider's topic or event type (`orders/create`, `charge.refunded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Whether the signature checked out.
    pub verified: bool,
    /// `accepted`, `duplicate` or `rejected`.
    pub outcome: String,
    pub status_code: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub latency_ms: u32,
    /// The body, capped (see `body_truncated`).
    pub body: String,
    pub body_truncated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    pub received_at: Timestamp,
    /// The JSON answer of an accepted request (ids of what it created).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<serde_json::Value>,
    /// The body and answer are withheld from this viewer: a personal
    /// notification of another user.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withheld: bool,
}

impl WebhookEvent {
    /// The user a notification webhook was addressed to, if it named one.
    pub fn addressed_to(&self) -> Option<String> {
        if self.endpoint != "notifications" {
            return None;
        }
        let body: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        body.get("userId")
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
    }

    /// What a member who is not an admin may see of it: no source address,
    /// and no body or answer of another user's personal notification
    /// (`viewer` is the signed-in user; an API key sees no one's). A
    /// truncated notification body that cannot be read is withheld too.
    pub fn for_member(mut self, viewer: Option<&str>) -> Self {
        self.source_ip = None;
        let personal = self.endpoint == "notifications"
            && match self.addressed_to() {
                Some(user) => viewer != Some(user.as_str()),
                None => self.body_truncated,
            };
        if personal {
            self.body = String::new();
            self.response = None;
            self.withheld = true;
        }
        self
    }
}

/// Which webhook events a list shows (`GET /api/webhooks/events`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WebhookEventFilter {
    /// `orders`, `notifications`, `payments`.
    pub endpoint: Option<String>,
    /// `accepted`, `duplicate`, `rejected`.
    pub outcome: Option<String>,
}

/// The three webhook endpoints (each with its switch in a tenant's settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Orders,
    Notifications,
    Payments,
}

impl Endpoint {
    pub const ALL: [Endpoint; 3] = [Endpoint::Orders, Endpoint::Notifications, Endpoint::Payments];

    /// `orders`, `notifications`, `payments`: the name in paths, settings and the event log.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Orders => "orders",
            Endpoint::Notifications => "notifications",
            Endpoint::Payments => "payments",
        }
    }

    /// The path under the server's base URL.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Orders => "/api/webhooks/orders",
            Endpoint::Notifications => "/api/webhooks/notifications",
            Endpoint::Payments => "/api/webhooks/payments",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == name)
    }
}
