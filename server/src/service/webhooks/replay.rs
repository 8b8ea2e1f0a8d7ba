//! The webhook event log as an API: list what was received (with filters and
//! cursor pages), and replay a stored accepted webhook — idempotently, since
//! each endpoint recognises what it already stored.

use app::{
    input::ListEvents,
    models::{Role, WebhookEvent},
};
use serde_json::{json, Value};

use super::{endpoint_enabled, parse_body, Accepted, Delivery, Endpoint, Outcome};
use crate::{
    error::ApiError,
    ids,
    service::{Ctx, Services},
};

impl Services {
    /// The caller's tenant's received webhooks, newest first.
    pub async fn webhook_events(&self, ctx: &Ctx, q: &ListEvents) -> Result<Vec<WebhookEvent>, ApiError> {
        let events =
            self.store.list_webhook_events(&ctx.tenant_id, &q.filter, q.page.after.as_ref(), q.page.limit).await?;
        // Admins see everything; members no source addresses and no one else's personal notifications.
        if ctx.role >= Role::Admin {
            return Ok(events);
        }
        let viewer = ctx.viewer();
        Ok(events.into_iter().map(|e| e.for_member(viewer.as_deref())).collect())
    }

    /// Processes a stored accepted webhook again (admins). What it stored the
    /// first time is recognised: the answer then says `"duplicate": true`.
    pub async fn replay_webhook_event(&self, ctx: &Ctx, event_id: &str) -> Result<Accepted, ApiError> {
        ctx.require(Role::Admin)?;
        let id = app::models::WebhookEventId::parse(event_id.trim()).ok_or(ApiError::NotFound("Webhook event"))?;
        let event =
            self.store.get_webhook_event(&ctx.tenant_id, &id).await?.ok_or(ApiError::NotFound("Webhook event"))?;
        if event.outcome == "rejected" {
            return Err(ApiError::Conflict("Only accepted webhooks can be replayed".into()));
        }
        if event.body_truncated {
            return Err(ApiError::Conflict("The stored body was truncated, so it cannot be replayed".into()));
        }
        let tenant = self.store.get_tenant(&ctx.tenant_id).await?.ok_or(ApiError::NotFound("Tenant"))?;
        let actor = format!("replay:{}", ctx.principal.actor());
        if let Some(provider) = app::models::Provider::parse(&event.endpoint) {
            let accepted = self.replay_provider(provider, tenant, &event, &actor, ctx.source_ip.clone()).await?;
            let details = json!({"eventId": event.id, "endpoint": event.endpoint, "topic": event.topic, "duplicate": accepted.outcome == Outcome::Duplicate});
            self.audit(ctx, "webhook.replayed", "webhook_event", &event.id, details).await?;
            return Ok(accepted);
        }
        let endpoint = Endpoint::parse(&event.endpoint)
            .ok_or_else(|| ApiError::Conflict(format!("Events of {} cannot be replayed", event.endpoint)))?;
        endpoint_enabled(&tenant, endpoint)?;
        // A notification has no natural key: the one the first delivery created is the answer.
        let created_notification = match event.response.as_ref().and_then(|r| r["notificationId"].as_str()) {
            Some(id) => self.store.get_notification(&tenant.id, &id.into()).await?.is_some(),
            None => false,
        };
        let accepted = if created_notification {
            Accepted::repeat(event.response.clone().unwrap_or(Value::Null))
        } else {
            let body = parse_body(event.body.as_bytes())?;
            let delivery = Delivery {
                tenant,
                body,
                source_ip: ctx.source_ip.clone(),
                now: ids::now(),
                actor: &actor,
                order_id: None,
                receipt: None,
            };
            self.process(endpoint, delivery).await?
        };
        let details = json!({"eventId": event.id, "endpoint": event.endpoint, "duplicate": accepted.outcome == Outcome::Duplicate});
        self.audit(ctx, "webhook.replayed", "webhook_event", &event.id, details).await?;
        Ok(accepted)
    }
}
