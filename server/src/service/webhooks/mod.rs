//! Webhook ingestion: verify, check the tenant's switches, validate, store,
//! announce — the same pipeline for every endpoint, and every request recorded
//! in the webhook event log, accepted or not.
//!
//! The HTTP handler hands over the raw body (or why it could not read one) and
//! the signature header; all decisions are made here.

pub mod notifications;
mod orders;
mod payments;
mod replay;
pub mod validate;

use std::time::Instant;

use app::models::{events, DashboardRefreshEvent, NewNotificationEvent, Notification, WebhookEvent};
use serde_json::{Map, Value};

pub use self::validate::{is_email, parse_money};
use crate::{
    error::{ApiError, FieldError},
    ids,
    signature::{timestamp_fresh, verify_hex, verify_standard, SignatureHeaders},
    store::{ProcessedWebhook, Tenant},
};

use super::Services;

/// The webhook endpoints, each with its switch in the tenant's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Orders,
    Notifications,
    Payments,
}

impl Endpoint {
    pub const ALL: [Endpoint; 3] = [Endpoint::Orders, Endpoint::Notifications, Endpoint::Payments];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Orders => "orders",
            Endpoint::Notifications => "notifications",
            Endpoint::Payments => "payments",
        }
    }
}

/// A webhook the service accepted: the HTTP status and the seed-shaped body.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// 201 when something new was stored, 200 otherwise.
    pub created: bool,
    /// The request repeated one already processed: nothing new was stored.
    pub duplicate: bool,
    /// `{"success": true, "message": …, …}`; carries `"duplicate": true` for repeats.
    pub body: Value,
}

impl Accepted {
    fn new(created: bool, duplicate: bool, message: &str, fields: Value) -> Self {
        let mut body = serde_json::json!({"success": true, "message": message});
        if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), fields) {
            b.extend(extra);
            if duplicate {
                b.insert("duplicate".into(), Value::Bool(true));
            }
        }
        Self { created, duplicate, body }
    }
}

/// What a verified webhook carries into its endpoint's handler.
struct Delivery<'a> {
    tenant: Tenant,
    map: Map<String, Value>,
    source_ip: Option<String>,
    now: String,
    /// `webhook:<endpoint>`, the actor of audit entries.
    actor: &'a str,
}

/// 403 naming the switch when the tenant's webhooks or this endpoint are off.
fn endpoint_enabled(tenant: &Tenant, endpoint: Endpoint) -> Result<(), ApiError> {
    let settings = &tenant.webhook_settings;
    if !settings.webhook_enabled {
        return Err(ApiError::Disabled("Webhooks are disabled for this tenant (webhookEnabled is off)".into()));
    }
    let endpoints = &settings.webhook_endpoints;
    let on = match endpoint {
        Endpoint::Orders => endpoints.orders,
        Endpoint::Notifications => endpoints.notifications,
        Endpoint::Payments => endpoints.payments,
    };
    if on {
        Ok(())
    } else {
        let name = endpoint.as_str();
        Err(ApiError::Disabled(format!(
            "The {name} webhook endpoint is disabled for this tenant (webhookEndpoints.{name} is off)"
        )))
    }
}

/// Parses a JSON object body.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::InvalidJson("expected a JSON object".into())),
        Err(e) => Err(ApiError::InvalidJson(e.to_string())),
    }
}

/// How much of a body the webhook event log keeps.
pub const EVENT_BODY_CAP: usize = 8 * 1024;

impl Services {
    /// Processes one webhook request to `endpoint`. `refused` is set when the
    /// transport already refused the request (too large, not JSON); either way
    /// the request is recorded in the webhook event log.
    pub async fn ingest(
        &self,
        endpoint: Endpoint,
        body: &[u8],
        refused: Option<ApiError>,
        signature: &SignatureHeaders,
        source_ip: Option<String>,
    ) -> Result<Accepted, ApiError> {
        let started = Instant::now();
        let result = match refused {
            None => self.ingest_inner(endpoint, body, signature, source_ip.clone()).await,
            Some(refused) => Err(refused),
        };
        self.record_event(endpoint, body, &result, started, source_ip).await;
        result
    }

    async fn ingest_inner(
        &self,
        endpoint: Endpoint,
        body: &[u8],
        signature: &SignatureHeaders,
        source_ip: Option<String>,
    ) -> Result<Accepted, ApiError> {
        let map = parse_object(body)?;
        let tenant_id = match map.get("tenantId") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => return Err(ApiError::Validation(vec![FieldError::new("tenantId", "is required")])),
        };
        let tenant = self.verify_webhook(&tenant_id, body, signature).await?;
        // Only a verified sender learns about the switches.
        endpoint_enabled(&tenant, endpoint)?;
        if let Err(wait) = self.webhook_limiter.check(&tenant.id) {
            return Err(ApiError::RateLimited(wait.as_secs_f64().ceil().max(1.0) as u64));
        }
        // A redelivery of a processed webhook-id gets the first answer again.
        let webhook_id = match signature.webhook_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(id) if id.len() > 255 || !id.bytes().all(|b| b.is_ascii_graphic()) => {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "webhook-id",
                    "must be at most 255 visible ASCII characters",
                )]))
            }
            Some(id) => Some(id.to_owned()),
        };
        if let Some(id) = &webhook_id {
            if let Some(done) = self.store.get_processed_webhook(&tenant.id, id).await? {
                let mut body = done.response;
                body["duplicate"] = Value::Bool(true);
                return Ok(Accepted { created: false, duplicate: true, body });
            }
        }
        let tenant_id = tenant.id.clone();
        let now = ids::now_rfc3339();
        let actor = format!("webhook:{}", endpoint.as_str());
        let delivery = Delivery { tenant, map, source_ip, now: now.clone(), actor: &actor };
        let accepted = self.process(endpoint, delivery).await?;
        if let Some(webhook_id) = webhook_id {
            let processed = ProcessedWebhook {
                tenant_id,
                webhook_id,
                endpoint: endpoint.as_str().to_owned(),
                status_code: if accepted.created { 201 } else { 200 },
                response: accepted.body.clone(),
                received_at: now,
            };
            // Already acknowledged work is stored; failing to remember the id only
            // means a redelivery is answered by the endpoint's own idempotency.
            if let Err(e) = self.store.save_processed_webhook(&processed).await {
                tracing::warn!(error = %e, "could not remember a processed webhook-id");
            }
        }
        Ok(accepted)
    }

    /// Runs a verified webhook through its endpoint.
    async fn process(&self, endpoint: Endpoint, delivery: Delivery<'_>) -> Result<Accepted, ApiError> {
        match endpoint {
            Endpoint::Orders => self.webhook_order(delivery).await,
            Endpoint::Notifications => self.webhook_notification(delivery).await,
            Endpoint::Payments => self.webhook_payment(delivery).await,
        }
    }

    /// Checks the signature of a webhook body for the tenant it names, in
    /// either scheme. Unknown tenant and bad signature are the same error (no
    /// enumeration); a stale Standard Webhooks timestamp is refused before any lookup.
    async fn verify_webhook(&self, tenant_id: &str, body: &[u8], sig: &SignatureHeaders) -> Result<Tenant, ApiError> {
        let standard = match (&sig.signature, &sig.webhook_id, &sig.timestamp) {
            (Some(signature), Some(id), Some(ts)) => {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                if timestamp_fresh(ts, now) != Some(true) {
                    return Err(ApiError::StaleTimestamp);
                }
                Some((signature, id, ts))
            }
            (Some(_), _, _) => return Err(ApiError::InvalidSignature),
            (None, _, _) => None,
        };
        if standard.is_none() && sig.legacy.is_none() {
            return Err(ApiError::InvalidSignature);
        }
        if !ids::is_id(tenant_id) {
            return Err(ApiError::InvalidSignature);
        }
        let tenant = self.store.get_tenant(&tenant_id.to_ascii_lowercase()).await?.ok_or(ApiError::InvalidSignature)?;
        // The current secret, and the previous one during its grace period.
        let valid = self.accepted_secrets(&tenant)?.iter().any(|secret| match (standard, &sig.legacy) {
            (Some((signature, id, ts)), _) => verify_standard(secret.expose(), id, ts, body, signature),
            (None, Some(legacy)) => verify_hex(secret.expose(), body, legacy),
            (None, None) => false,
        });
        if valid {
            Ok(tenant)
        } else {
            Err(ApiError::InvalidSignature)
        }
    }

    /// Records one request in the webhook event log; a failure to record is
    /// logged and does not change the answer (what was accepted is stored).
    async fn record_event(
        &self,
        endpoint: Endpoint,
        body: &[u8],
        result: &Result<Accepted, ApiError>,
        started: Instant,
        source_ip: Option<String>,
    ) {
        let tenant_id = parse_object(body)
            .ok()
            .and_then(|m| m.get("tenantId").and_then(Value::as_str).map(str::to_ascii_lowercase))
            .filter(|t| ids::is_id(t));
        let (outcome, status_code, reason, verified) = match result {
            Ok(a) if a.duplicate => ("duplicate", 200, None, true),
            Ok(a) => ("accepted", if a.created { 201 } else { 200 }, None, true),
            Err(e) => {
                // Errors decided after the signature check come from a verified sender.
                let after_check = matches!(
                    e,
                    ApiError::Validation(_)
                        | ApiError::Disabled(_)
                        | ApiError::Conflict(_)
                        | ApiError::NotFound(_)
                        | ApiError::RateLimited(_)
                );
                let verified = after_check && tenant_id.is_some();
                ("rejected", e.status().as_u16(), Some(e.public_message()), verified)
            }
        };
        let capped = &body[..body.len().min(EVENT_BODY_CAP)];
        let event = WebhookEvent {
            id: ids::new_id(),
            tenant_id,
            endpoint: endpoint.as_str().to_owned(),
            verified,
            outcome: outcome.to_owned(),
            status_code,
            reason,
            latency_ms: started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32,
            body: String::from_utf8_lossy(capped).into_owned(),
            body_truncated: body.len() > EVENT_BODY_CAP,
            source_ip,
            received_at: ids::now_rfc3339(),
            response: result.as_ref().ok().map(|a| a.body.clone()),
        };
        if let Err(e) = self.store.record_webhook_event(&event).await {
            tracing::warn!(error = %e, "could not record webhook event");
        }
    }

    /// Pushes a stored notification, with the unread count its audience now has.
    pub async fn announce_notification(&self, notification: Notification) -> Result<(), ApiError> {
        let unread_count = self.store.unread_count(&notification.tenant_id, notification.user_id.as_deref()).await?;
        let event = NewNotificationEvent { notification, unread_count };
        self.announce_to_audience(&event.notification, events::NEW_NOTIFICATION, &event).await;
        Ok(())
    }

    /// Sends an event about `n` to those who see it: its user's sockets for a
    /// personal notification, the tenant's room for a tenant-wide one.
    pub async fn announce_to_audience<T: serde::Serialize + ?Sized>(&self, n: &Notification, event: &str, payload: &T) {
        match &n.user_id {
            Some(user) => self.broadcaster.to_user(&n.tenant_id, user, event, payload).await,
            None => self.broadcaster.to_tenant(&n.tenant_id, event, payload).await,
        }
    }

    /// Tells the tenant's dashboards what changed.
    /// Under bursts, at most one per tenant per `HOOKBELL_REFRESH_COALESCE_MS`
    /// (the rest merged into one sent at the window's end; see [`super::coalesce`]).
    pub async fn announce_refresh(&self, tenant_id: &str, reason: &str, entities: &[&str]) {
        use super::coalesce::Offer;
        let event = DashboardRefreshEvent {
            tenant_id: tenant_id.to_owned(),
            reason: reason.to_owned(),
            entities: entities.iter().map(|e| (*e).to_owned()).collect(),
        };
        match self.refresh.offer(event, Instant::now()) {
            Offer::Now(event) => self.broadcaster.to_tenant(tenant_id, events::DASHBOARD_REFRESH, &event).await,
            Offer::Merged => {}
            Offer::Later(delay) => {
                let (refresh, broadcaster, tenant_id) =
                    (self.refresh.clone(), self.broadcaster.clone(), tenant_id.to_owned());
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if let Some(event) = refresh.take(&tenant_id, Instant::now()) {
                        broadcaster.to_tenant(&tenant_id, events::DASHBOARD_REFRESH, &event).await;
                    }
                });
            }
        }
    }
}
