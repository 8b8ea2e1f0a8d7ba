//! The webhook sender: signs each body, posts it, and retries what may succeed
//! later (connection errors, timeouts, 408, 429, 5xx, and a 409 with Retry-After: the same
//! webhook-id still being processed) with exponential backoff
//! and jitter, honouring `Retry-After`. Every attempt carries the same
//! `webhook-id`, so the server stores a redelivered webhook once.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hookbell_core::backoff::reconnect_delay_ms;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use serde::Serialize;
use serde_json::Value;

use crate::{
    payloads::{CheckoutComplete, LowStockAlert, MaintenanceNotice, NotificationWebhook, OrderWebhook, PaymentWebhook},
    signature::{
        sign_seed, sign_standard, Secret, SIGNATURE_HEADER, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER,
        WEBHOOK_TIMESTAMP_HEADER,
    },
};

/// How a sender signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scheme {
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`.
    #[default]
    Standard,
    /// The seed's `X-Webhook-Signature` (hex HMAC of the body), plus `webhook-id` for deduplication.
    Seed,
}

/// The three webhook endpoints (the shared model).
pub use hookbell_core::models::Endpoint;

/// One delivery attempt, as the sender saw it (the shared model).
pub use hookbell_core::models::DeliveryAttempt as Attempt;

/// Everything that happened to one webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub url: String,
    pub webhook_id: String,
    pub attempts: Vec<Attempt>,
    /// The last answer's JSON body (`null` when there was none or it was not JSON).
    pub response: Value,
}

impl Delivery {
    /// Whether the last attempt was answered with 2xx.
    pub fn succeeded(&self) -> bool {
        self.attempts.last().is_some_and(|a| a.ok)
    }

    /// The last attempt's HTTP status, if any answer came.
    pub fn status(&self) -> Option<u16> {
        self.attempts.last().and_then(|a| a.status_code)
    }

    /// `Ok(self)` when delivered, else the matching [`SendError`].
    pub fn into_result(self) -> Result<Delivery, SendError> {
        if self.succeeded() {
            return Ok(self);
        }
        let last = self.attempts.last().cloned();
        match last.and_then(|a| a.status_code.filter(|s| !retryable(Some(*s)))) {
            Some(status) => Err(SendError::Refused {
                status,
                message: self.response["error"].as_str().unwrap_or("request refused").to_owned(),
                delivery: Box::new(self),
            }),
            None => Err(SendError::GaveUp { delivery: Box::new(self) }),
        }
    }
}

/// Why a webhook was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server refused it (a 4xx other than 408/429): retrying would not help.
    #[error("refused with HTTP {status}: {message}")]
    Refused { status: u16, message: String, delivery: Box<Delivery> },
    /// Every attempt failed with something that might have passed later.
    #[error("not delivered after {} attempts: {}", .delivery.attempts.len(), last_error(.delivery))]
    GaveUp { delivery: Box<Delivery> },
    /// The payload could not be encoded as a JSON object.
    #[error("the payload is not a JSON object: {0}")]
    Payload(String),
    /// The sender is misconfigured (e.g. a base URL that is not http(s)).
    #[error("invalid sender configuration: {0}")]
    Config(String),
}

impl SendError {
    /// The attempts made, when any were.
    pub fn delivery(&self) -> Option<&Delivery> {
        match self {
            SendError::Refused { delivery, .. } | SendError::GaveUp { delivery } => Some(delivery),
            _ => None,
        }
    }
}

fn last_error(d: &Delivery) -> String {
    d.attempts.last().and_then(|a| a.error.clone()).unwrap_or_default()
}

/// Retry on connection errors, timeouts, 408, 429 and 5xx; not on other answers.
pub fn retryable(status: Option<u16>) -> bool {
    match status {
        None => true,
        Some(s) => s == 408 || s == 429 || s >= 500,
    }
}

/// Sends signed webhooks for one tenant.
///
/// ```no_run
/// use hookbell_sdk::{payloads::LowStockAlert, Sender};
///
/// # async fn run() -> Result<(), hookbell_sdk::SendError> {
/// let sender = Sender::builder("https://hooks.example.com", "507f1f77bcf86cd799439011", "whsec_…")
///     .retry_attempts(3)
///     .timeout_ms(10_000)
///     .build()?;
/// let delivery = sender
///     .low_stock_alert(&LowStockAlert {
///         product_id: "prod_123".into(),
///         product_name: "Product Name".into(),
///         stock_level: 5,
///         low_stock_threshold: 10,
///     })
///     .await?;
/// println!("stored as {}", delivery.response["notificationId"]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Sender {
    base_url: String,
    tenant_id: String,
    secret: Secret,
    scheme: Scheme,
    retry_attempts: u32,
    timeout: Duration,
    base_delay_ms: u64,
    max_delay_ms: u64,
    max_retry_after: Duration,
    client: reqwest::Client,
}

/// Configures a [`Sender`]; defaults follow the seed's webhook settings
/// (3 retries, 10 s timeout).
#[derive(Debug, Clone)]
pub struct SenderBuilder {
    base_url: String,
    tenant_id: String,
    secret: Secret,
    scheme: Scheme,
    retry_attempts: u32,
    timeout_ms: u64,
    base_delay_ms: u64,
    max_delay_ms: u64,
    max_retry_after_ms: u64,
}

impl SenderBuilder {
    /// `Standard` (default) or the seed's `Seed` header.
    pub fn scheme(mut self, scheme: Scheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// Retries after the first attempt (the tenant's `webhookRetryAttempts`).
    pub fn retry_attempts(mut self, n: u32) -> Self {
        self.retry_attempts = n;
        self
    }

    /// Per-attempt timeout (the tenant's `webhookTimeoutMs`).
    pub fn timeout_ms(mut self, ms: u64) -> Self {
        self.timeout_ms = ms;
        self
    }

    /// Backoff: the first retry waits up to `base_ms`, doubling to at most `max_ms`.
    pub fn backoff_ms(mut self, base_ms: u64, max_ms: u64) -> Self {
        self.base_delay_ms = base_ms;
        self.max_delay_ms = max_ms.max(base_ms);
        self
    }

    /// The longest `Retry-After` honoured; a longer one ends the retries.
    pub fn max_retry_after_ms(mut self, ms: u64) -> Self {
        self.max_retry_after_ms = ms;
        self
    }

    pub fn build(self) -> Result<Sender, SendError> {
        let base_url = self.base_url.trim_end_matches('/').to_owned();
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(SendError::Config(format!("base URL must start with http:// or https://: {base_url}")));
        }
        if self.tenant_id.trim().is_empty() {
            return Err(SendError::Config("tenant id is empty".into()));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(self.timeout_ms.max(1)))
            .user_agent(concat!("hookbell-sdk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SendError::Config(e.to_string()))?;
        Ok(Sender {
            base_url,
            tenant_id: self.tenant_id,
            secret: self.secret,
            scheme: self.scheme,
            retry_attempts: self.retry_attempts,
            timeout: Duration::from_millis(self.timeout_ms.max(1)),
            base_delay_ms: self.base_delay_ms,
            max_delay_ms: self.max_delay_ms,
            max_retry_after: Duration::from_millis(self.max_retry_after_ms),
            client,
        })
    }
}

/// A new webhook id: `msg_` and 24 random hex digits.
pub fn new_webhook_id() -> String {
    format!("msg_{}", hex::encode(rand::random::<[u8; 12]>()))
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or_default()
}

/// `Retry-After` in seconds (the form hookbell and most servers send).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers.get(RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
}

impl Sender {
    pub fn builder(
        base_url: impl Into<String>,
        tenant_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> SenderBuilder {
        SenderBuilder {
            base_url: base_url.into(),
            tenant_id: tenant_id.into(),
            secret: Secret::new(secret.into()),
            scheme: Scheme::Standard,
            retry_attempts: 3,
            timeout_ms: 10_000,
            base_delay_ms: 250,
            max_delay_ms: 10_000,
            max_retry_after_ms: 60_000,
        }
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A new order (`POST /api/webhooks/orders`).
    pub async fn order(&self, order: &OrderWebhook) -> Result<Delivery, SendError> {
        self.send(Endpoint::Orders, order).await
    }

    /// A payment status update (`POST /api/webhooks/payments`).
    pub async fn payment(&self, payment: &PaymentWebhook) -> Result<Delivery, SendError> {
        self.send(Endpoint::Payments, payment).await
    }

    /// A custom notification (`POST /api/webhooks/notifications`).
    pub async fn notification(&self, notification: &NotificationWebhook) -> Result<Delivery, SendError> {
        self.send(Endpoint::Notifications, notification).await
    }

    /// The seed's `handleCheckoutComplete`: a paid order.
    pub async fn checkout_complete(&self, checkout: &CheckoutComplete) -> Result<Delivery, SendError> {
        self.order(&OrderWebhook::from(checkout)).await
    }

    /// The seed's `sendLowStockAlert`: a warning (an error when out of stock).
    pub async fn low_stock_alert(&self, alert: &LowStockAlert) -> Result<Delivery, SendError> {
        self.notification(&NotificationWebhook::from(alert)).await
    }

    /// The seed's `sendMaintenanceNotification`.
    pub async fn maintenance_notice(&self, notice: &MaintenanceNotice) -> Result<Delivery, SendError> {
        self.notification(&NotificationWebhook::from(notice)).await
    }

    /// Sends any serialisable JSON object to an endpoint, adding `tenantId`.
    pub async fn send(&self, endpoint: Endpoint, payload: &impl Serialize) -> Result<Delivery, SendError> {
        let body = self.body(payload)?;
        self.deliver(endpoint, body, new_webhook_id()).await.into_result()
    }

    /// The JSON body for `payload`: its object with this sender's `tenantId`.
    pub fn body(&self, payload: &impl Serialize) -> Result<Vec<u8>, SendError> {
        let mut value = serde_json::to_value(payload).map_err(|e| SendError::Payload(e.to_string()))?;
        let object = value.as_object_mut().ok_or_else(|| SendError::Payload("not an object".into()))?;
        object.insert("tenantId".into(), Value::String(self.tenant_id.clone()));
        serde_json::to_vec(&value).map_err(|e| SendError::Payload(e.to_string()))
    }

    /// Delivers `body` as it is, with retries, and reports every attempt.
    /// The lowest layer: the typed calls and the server's "send test webhook" use it.
    pub async fn deliver(&self, endpoint: Endpoint, body: Vec<u8>, webhook_id: String) -> Delivery {
        let url = format!("{}{}", self.base_url, endpoint.path());
        let mut attempts = Vec::new();
        let mut response = Value::Null;
        let mut wait = Duration::ZERO;
        for n in 0..=self.retry_attempts {
            tokio::time::sleep(wait).await;
            let started = Instant::now();
            let sent =
                self.client.post(&url).headers(self.signed_headers(&webhook_id, &body)).body(body.clone()).send().await;
            let (status, error, hint) = match sent {
                Ok(resp) => {
                    let status = resp.status();
                    let hint = retry_after(resp.headers());
                    response = resp.json().await.unwrap_or(Value::Null);
                    let error = (!status.is_success())
                        .then(|| response["error"].as_str().unwrap_or("request refused").to_owned());
                    (Some(status.as_u16()), error, hint)
                }
                Err(e) => {
                    response = Value::Null;
                    let error = if e.is_timeout() {
                        format!("timed out after {} ms", self.timeout.as_millis())
                    } else if e.is_connect() {
                        "could not connect".to_owned()
                    } else {
                        format!("request failed: {e}")
                    };
                    (None, Some(error), None)
                }
            };
            let ok = error.is_none();
            attempts.push(Attempt {
                attempt: n + 1,
                ok,
                status_code: status,
                error,
                duration_ms: started.elapsed().as_millis() as u64,
                delay_ms: wait.as_millis() as u64,
            });
            // A 409 with Retry-After: the same webhook-id is still being processed (a slow first attempt).
            let in_progress = status == Some(409) && hint.is_some();
            if ok || !(retryable(status) || in_progress) || n == self.retry_attempts {
                break;
            }
            let backoff =
                Duration::from_millis(reconnect_delay_ms(n, self.base_delay_ms, self.max_delay_ms, rand::random()));
            wait = match hint {
                Some(h) if h > self.max_retry_after => break,
                Some(h) => h.max(backoff),
                None => backoff,
            };
        }
        Delivery { url, webhook_id, attempts, response }
    }

    /// The headers of one attempt; Standard Webhooks signatures are made afresh
    /// with the current time, so a late retry is not refused as stale.
    fn signed_headers(&self, webhook_id: &str, body: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut put = |name: &'static str, value: String| {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        };
        put(WEBHOOK_ID_HEADER, webhook_id.to_owned());
        match self.scheme {
            Scheme::Standard => {
                let timestamp = unix_now();
                put(WEBHOOK_TIMESTAMP_HEADER, timestamp.to_string());
                put(WEBHOOK_SIGNATURE_HEADER, sign_standard(self.secret.expose(), webhook_id, timestamp, body));
            }
            Scheme::Seed => put(SIGNATURE_HEADER, sign_seed(self.secret.expose(), body)),
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_only_what_may_succeed_later() {
        for s in [None, Some(408), Some(429), Some(500), Some(503)] {
            assert!(retryable(s), "{s:?}");
        }
        for s in [Some(400), Some(401), Some(403), Some(404), Some(413)] {
            assert!(!retryable(s), "{s:?}");
        }
    }

    #[test]
    fn endpoints_round_trip_by_name() {
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::parse(e.as_str()), Some(e));
        }
        assert_eq!(Endpoint::parse("health"), None);
    }

    #[test]
    fn the_secret_stays_out_of_debug_output() {
        let sender = Sender::builder("http://127.0.0.1:1", "t1", "whsec_c2VjcmV0").build().unwrap();
        assert!(!format!("{sender:?}").contains("whsec_c2VjcmV0"));
    }

    #[test]
    fn configuration_is_checked() {
        assert!(matches!(Sender::builder("ftp://x", "t1", "s").build(), Err(SendError::Config(_))));
        assert!(matches!(Sender::builder("http://x", " ", "s").build(), Err(SendError::Config(_))));
    }

    #[test]
    fn bodies_carry_the_tenant() {
        let sender = Sender::builder("http://127.0.0.1:1/", "t1", "s").build().unwrap();
        assert_eq!(sender.base_url(), "http://127.0.0.1:1");
        let body: Value = serde_json::from_slice(&sender.body(&serde_json::json!({"a": 1})).unwrap()).unwrap();
        assert_eq!(body, serde_json::json!({"a": 1, "tenantId": "t1"}));
        assert!(matches!(sender.body(&[1, 2]), Err(SendError::Payload(_))));
    }
}
