//! "Send test webhook" (Settings → Webhooks): the server signs a sample
//! notification with the tenant's secret and delivers it to its own public
//! webhook URL over real HTTP, as a sender would — with the tenant's retry
//! attempts and timeout, exponential backoff with jitter, and the same
//! `webhook-id` on every attempt — and reports each attempt.

use std::time::{Duration, Instant};

use app::{models::Role, realtime::backoff::reconnect_delay_ms};
use serde::Serialize;
use serde_json::json;

use super::{Ctx, Services};
use crate::{error::ApiError, ids, signature::sign_standard};

/// First retry delay; doubles per attempt, capped at [`MAX_DELAY_MS`].
const BASE_DELAY_MS: u64 = 250;
const MAX_DELAY_MS: u64 = 10_000;

/// One delivery attempt.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub attempt: u32,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// How long the sender waited before this attempt.
    pub delay_ms: u64,
}

/// The outcome of a test delivery.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestReport {
    pub success: bool,
    pub url: String,
    pub webhook_id: String,
    pub attempts: Vec<Attempt>,
}

/// Retry on connection errors, timeouts, 408, 429 and 5xx; not on other answers.
fn retryable(status: Option<u16>) -> bool {
    match status {
        None => true,
        Some(s) => s == 408 || s == 429 || s >= 500,
    }
}

impl Services {
    /// Where the server takes its own webhooks: `HOOKBELL_PUBLIC_URL`, else the bound address.
    fn delivery_base(&self) -> Result<String, ApiError> {
        if let Some(url) = &self.config.public_url {
            return Ok(url.clone());
        }
        let addr = self.local_addr.get().copied().unwrap_or(self.config.site_addr);
        let host = if addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { addr.ip().to_string() };
        Ok(format!("http://{host}:{}", addr.port()))
    }

    /// Delivers a signed test notification to the tenant's own webhook URL (admins).
    pub async fn send_test_webhook(&self, ctx: &Ctx) -> Result<TestReport, ApiError> {
        ctx.require(Role::Admin)?;
        let tenant = self.store.get_tenant(&ctx.tenant_id).await?.ok_or(ApiError::NotFound("Tenant"))?;
        let settings = tenant.webhook_settings;
        let url = format!("{}/api/webhooks/notifications", self.delivery_base()?);
        let body = json!({
            "tenantId": tenant.id,
            "title": "Test webhook",
            "message": format!("Sent from Settings → Webhooks at {}", ids::now_rfc3339()),
            "type": "info",
            "priority": "low",
            "metadata": {"test": true},
        })
        .to_string();
        let secret =
            self.accepted_secrets(&tenant)?.into_iter().next().ok_or_else(|| {
                ApiError::Conflict("This tenant has no webhook secret yet: generate one first".into())
            })?;
        let webhook_id = format!("msg_test_{}", ids::new_id());
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(u64::from(settings.webhook_timeout_ms)))
            .build()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut attempts = Vec::new();
        for n in 0..=settings.webhook_retry_attempts {
            let delay_ms =
                if n == 0 { 0 } else { reconnect_delay_ms(n - 1, BASE_DELAY_MS, MAX_DELAY_MS, rand::random()) };
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
            let started = Instant::now();
            let sent = client
                .post(&url)
                .header("content-type", "application/json")
                .header("webhook-id", &webhook_id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", sign_standard(secret.expose(), &webhook_id, timestamp, body.as_bytes()))
                .body(body.clone())
                .send()
                .await;
            let (status, error) = match sent {
                Ok(resp) if resp.status().is_success() => (Some(resp.status().as_u16()), None),
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let answer: serde_json::Value = resp.json().await.unwrap_or_default();
                    let message = answer["error"].as_str().unwrap_or("request refused").to_owned();
                    (Some(status), Some(message))
                }
                Err(e) if e.is_timeout() => (None, Some(format!("timed out after {} ms", settings.webhook_timeout_ms))),
                Err(e) if e.is_connect() => (None, Some("could not connect".to_owned())),
                Err(e) => (None, Some(format!("request failed: {e}"))),
            };
            let ok = error.is_none();
            attempts.push(Attempt {
                attempt: n + 1,
                ok,
                status_code: status,
                error,
                duration_ms: started.elapsed().as_millis() as u64,
                delay_ms,
            });
            if ok || !retryable(status) {
                break;
            }
        }
        let success = attempts.last().is_some_and(|a| a.ok);
        let details = json!({"success": success, "attempts": attempts.len(), "url": url});
        self.audit(ctx, "webhook.tested", "tenant", &tenant.id, details).await?;
        Ok(TestReport { success, url, webhook_id, attempts })
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
}
