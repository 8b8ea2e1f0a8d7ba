//! "Send test webhook" (Settings → Webhooks): the server signs a sample
//! notification with the tenant's secret and delivers it to its own public
//! webhook URL over real HTTP, as a sender would — with the tenant's retry
//! attempts and timeout, exponential backoff with jitter, and the same
//! `webhook-id` on every attempt — and reports each attempt.

use app::models::{NotificationType, Priority, Role, TestReport};
use hookbell_sdk::{payloads::NotificationWebhook, Endpoint, Sender};
use serde_json::json;

use super::{Ctx, Services};
use crate::{error::ApiError, ids};

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
        let secret =
            self.accepted_secrets(&tenant)?.into_iter().next().ok_or_else(|| {
                ApiError::Conflict("This tenant has no webhook secret yet: generate one first".into())
            })?;
        let sender = Sender::builder(self.delivery_base()?, tenant.id.as_str(), secret.expose())
            .retry_attempts(settings.webhook_retry_attempts)
            .timeout_ms(u64::from(settings.webhook_timeout_ms))
            .build()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let body = sender
            .body(&NotificationWebhook {
                title: "Test webhook".into(),
                message: format!("Sent from Settings → Webhooks at {}", ids::now()),
                kind: NotificationType::Info,
                priority: Priority::Low,
                metadata: Some(json!({"test": true})),
                ..Default::default()
            })
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let webhook_id = format!("msg_test_{}", ids::new_id::<String>());
        let delivery = sender.deliver(Endpoint::Notifications, body, webhook_id).await;
        let success = delivery.succeeded();
        let (url, webhook_id, attempts) = (delivery.url, delivery.webhook_id, delivery.attempts);
        let details = json!({"success": success, "attempts": attempts.len(), "url": url});
        self.audit(ctx, "webhook.tested", "tenant", &tenant.id, details).await?;
        Ok(TestReport { success, url, webhook_id, attempts })
    }
}
