//! Shopify's and Stripe's own webhooks (`POST /api/webhooks/{shopify|stripe}/{tenantId}`),
//! through the same pipeline as a tenant's own: the provider's signature
//! checked against the tenant's connection (an unknown tenant, no connection
//! and a bad signature look the same), the connection's and the tenant's
//! switches, the tenant's rate, one processing per delivery id, the
//! provider's payload mapped (`crate::providers`) to our order and payment
//! bodies and run through their endpoints, the event log with its topic.
//!
//! A provider retries what is not answered 2xx, for days: an event hookbell
//! does not act on, or cannot apply (a payment for an unknown order, a state
//! change the order cannot take), is recorded and answered 200, and a payment
//! for an unknown order is told to the tenant's admins.

use std::time::Instant;

use app::{
    input::NewNotification,
    models::{NotificationType, OrderId, Priority, Provider, Role, TenantId, Timestamp},
};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{endpoint_enabled, notifications::Origin, Accepted, Delivery, Endpoint, Outcome};
use crate::{
    error::ApiError,
    ids,
    providers::{self, shopify, stripe, Mapped, ProductStock},
    service::{rate_limit::address_key, Services},
    store::ProviderConnection,
};

/// A provider's delivery as the web layer read it.
#[derive(Debug)]
pub struct ProviderDelivery {
    pub provider: Provider,
    /// The tenant the URL names.
    pub tenant_id: String,
    pub body: bytes::Bytes,
    /// Set when the transport already refused the request (too large, not JSON).
    pub refused: Option<ApiError>,
    /// `X-Shopify-Hmac-Sha256` or `Stripe-Signature`.
    pub signature: Option<String>,
    /// Shopify: `X-Shopify-Topic`.
    pub topic: Option<String>,
    /// Shopify: `X-Shopify-Shop-Domain`.
    pub shop_domain: Option<String>,
    /// Shopify: `X-Shopify-Webhook-Id` (Stripe's is the event's `id`).
    pub webhook_id: Option<String>,
    pub source_ip: Option<String>,
}

/// The id of the hookbell order made from a provider's order `external` of
/// `tenant_id`: the same every time, so a later event naming only the
/// provider's id (a Shopify refund) finds it.
pub fn provider_order_id(tenant_id: &TenantId, provider: Provider, external: &str) -> OrderId {
    let digest = Sha256::digest(format!("{tenant_id}:{}:{external}", provider.as_str()).as_bytes());
    hex::encode(&digest[..12]).into()
}

impl Services {
    /// Processes one delivery of a provider. One whose signature verified is
    /// recorded in its tenant's event log (with its topic); one that did not is
    /// only counted. Runs in a task of its own, as [`Services::ingest`] does.
    pub async fn ingest_provider(self: &std::sync::Arc<Self>, d: ProviderDelivery) -> Result<Accepted, ApiError> {
        let services = self.clone();
        let work = async move { services.ingest_provider_here(d).await };
        let work = tokio::spawn(tracing::Instrument::instrument(work, tracing::Span::current()));
        work.await.map_err(|e| ApiError::Internal(format!("provider webhook task: {e}")))?
    }

    async fn ingest_provider_here(&self, mut d: ProviderDelivery) -> Result<Accepted, ApiError> {
        let started = Instant::now();
        let verified = match d.refused.take() {
            Some(refused) => Err(refused),
            None => self.verify_provider(&d).await,
        };
        let connection = match verified {
            Ok(connection) => connection,
            Err(e) => {
                self.count_unverified(&e, &unverified_key(&d)).await;
                return Err(e);
            }
        };
        let payload = serde_json::from_slice::<Value>(&d.body).map_err(|e| ApiError::InvalidJson(e.to_string()));
        let topic = match (&payload, d.provider) {
            (Ok(p), Provider::Stripe) => p.get("type").and_then(Value::as_str).map(|t| t.chars().take(100).collect()),
            _ => d.topic.as_deref().map(|t| t.trim().chars().take(100).collect::<String>()),
        };
        let result = match payload {
            Ok(payload) => self.process_provider(&connection, &d, topic.as_deref(), &payload).await,
            Err(e) => Err(e),
        };
        let event = (d.provider.as_str(), topic.as_deref(), &connection.tenant_id);
        self.record_event(event, &d.body, &result, started, d.source_ip.clone()).await;
        result
    }

    /// The connection whose secret signed this delivery: 401 for an unknown
    /// tenant, no connection or a bad signature alike; a Stripe signature
    /// that is good but too old is a replay (`401 stale_timestamp`).
    async fn verify_provider(&self, d: &ProviderDelivery) -> Result<ProviderConnection, ApiError> {
        // A sender whose requests to this URL keep failing verification waits, before any store access.
        if let Err(wait) = self.unverified_limiter.peek(&unverified_key(d)).await {
            return Err(ApiError::rate_limited(wait));
        }
        let header = d.signature.as_deref().ok_or(ApiError::InvalidSignature)?;
        let tenant_id = TenantId::parse(d.tenant_id.trim()).ok_or(ApiError::InvalidSignature)?;
        let connection = self.store.get_connection(&tenant_id, d.provider).await?.ok_or(ApiError::InvalidSignature)?;
        let secrets = self.provider_secrets(&connection)?;
        let verdict = match d.provider {
            Provider::Shopify => {
                if secrets.iter().any(|s| shopify::verify(s.expose(), &d.body, header)) {
                    Ok(())
                } else {
                    Err(ApiError::InvalidSignature)
                }
            }
            Provider::Stripe => {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let checks: Vec<_> = secrets.iter().map(|s| stripe::verify(s.expose(), &d.body, header, now)).collect();
                if checks.iter().any(Result::is_ok) {
                    Ok(())
                } else if checks.contains(&Err(stripe::SignatureError::Stale)) {
                    Err(ApiError::StaleTimestamp)
                } else {
                    Err(ApiError::InvalidSignature)
                }
            }
        };
        verdict.map(|()| connection)
    }

    /// What happens to a verified delivery.
    async fn process_provider(
        &self,
        connection: &ProviderConnection,
        d: &ProviderDelivery,
        topic: Option<&str>,
        payload: &Value,
    ) -> Result<Accepted, ApiError> {
        let title = d.provider.title();
        let (webhook_id, mapped) = match d.provider {
            Provider::Shopify => {
                let domain = d.shop_domain.as_deref().and_then(shopify::shop_domain);
                if domain.is_none() || domain != connection.shop_domain {
                    return Err(ApiError::Forbidden(format!(
                        "X-Shopify-Shop-Domain names another shop than this connection's ({})",
                        connection.shop_domain.as_deref().unwrap_or("none")
                    )));
                }
                let topic = topic.filter(|t| !t.is_empty()).ok_or_else(|| {
                    ApiError::Validation(vec![app::models::FieldError::new("X-Shopify-Topic", "is required")])
                })?;
                (d.webhook_id.clone(), shopify::map(topic, payload).map_err(map_error)?)
            }
            Provider::Stripe => {
                let (id, mapped) = stripe::map(payload).map_err(map_error)?;
                (Some(id), mapped)
            }
        };
        if !connection.enabled {
            return Err(ApiError::Disabled(format!(
                "The {title} connection is disabled for this tenant (Settings → Integrations)"
            )));
        }
        let tenant = self.store.get_tenant(&connection.tenant_id).await?.ok_or(ApiError::InvalidSignature)?;
        mapped_enabled(&tenant, &mapped)?;
        if let Err(wait) = self.webhook_limiter.check(tenant.id.as_str()).await {
            return Err(ApiError::rate_limited(wait));
        }
        let now = ids::now();
        if let Err(e) = self.store.touch_connection(&tenant.id, d.provider, now).await {
            tracing::warn!(error = %e, "could not record a provider's last delivery");
        }
        let webhook_id = webhook_id
            .map(|id| id.trim().chars().filter(char::is_ascii_graphic).take(200).collect::<String>())
            .filter(|id| !id.is_empty())
            .map(|id| format!("{}:{id}", d.provider.as_str()));
        let actor = format!("{}:{}", d.provider.as_str(), topic.unwrap_or("event"));
        let tenant_id = tenant.id.clone();
        let work = self.apply_mapped(connection, tenant, mapped, &actor, d.source_ip.clone(), now);
        self.once_per_id(&tenant_id, webhook_id, d.provider.as_str(), now, super::Claim::First, work).await
    }

    /// Processes a recorded delivery of `provider` again (an admin's replay:
    /// the admin is the authority, no signature): what it stored the first time
    /// is recognised by its endpoint, and low-stock notifications it raised are
    /// its answer again.
    pub(super) async fn replay_provider(
        &self,
        provider: Provider,
        tenant: crate::store::Tenant,
        event: &app::models::WebhookEvent,
        actor: &str,
        source_ip: Option<String>,
    ) -> Result<Accepted, ApiError> {
        let connection = self.store.get_connection(&tenant.id, provider).await?.filter(|c| c.enabled);
        let Some(connection) = connection else {
            return Err(ApiError::Disabled(format!(
                "The {} connection is disconnected or disabled, so its events are not replayed",
                provider.title()
            )));
        };
        if let Some(first) = event.response.as_ref().filter(|r| r.get("notificationIds").is_some()) {
            return Ok(Accepted::repeat(first.clone()));
        }
        let payload: Value = serde_json::from_str(&event.body).map_err(|e| ApiError::InvalidJson(e.to_string()))?;
        let mapped = match provider {
            Provider::Shopify => shopify::map(event.topic.as_deref().unwrap_or_default(), &payload),
            Provider::Stripe => stripe::map(&payload).map(|(_, mapped)| mapped),
        }
        .map_err(map_error)?;
        mapped_enabled(&tenant, &mapped)?;
        self.apply_mapped(&connection, tenant, mapped, actor, source_ip, ids::now()).await
    }

    /// Runs a mapped event of `connection`'s provider through hookbell's own endpoint for it.
    async fn apply_mapped(
        &self,
        connection: &ProviderConnection,
        tenant: crate::store::Tenant,
        mapped: Mapped,
        actor: &str,
        source_ip: Option<String>,
        now: Timestamp,
    ) -> Result<Accepted, ApiError> {
        let (provider, tenant_id) = (connection.provider, tenant.id.clone());
        let external_order = |body: &Map<String, Value>, key: &str| {
            body.get("metadata").and_then(|m| m.get(key)).and_then(Value::as_str).map(str::to_owned)
        };
        match mapped {
            Mapped::Order(body) => {
                let order_id = external_order(&body, "shopifyOrderId")
                    .map(|external| provider_order_id(&tenant_id, provider, &external));
                let d = Delivery { tenant, body: body.into(), source_ip, now, actor, order_id, receipt: None };
                self.webhook_order(d).await
            }
            Mapped::Payment(mut body) => {
                // A Shopify refund names its order by Shopify's id only.
                if !body.contains_key("orderNumber") && !body.contains_key("orderId") {
                    if let Some(external) = external_order(&body, "shopifyOrderId") {
                        let id = provider_order_id(&tenant_id, provider, &external);
                        body.insert("orderId".into(), json!(id));
                    }
                }
                let reference = ["orderNumber", "orderId"]
                    .iter()
                    .find_map(|k| body.get(*k).and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_default();
                let d = Delivery {
                    tenant,
                    body: body.into(),
                    source_ip: source_ip.clone(),
                    now,
                    actor,
                    order_id: None,
                    receipt: None,
                };
                match self.webhook_payment(d).await {
                    Err(ApiError::NotFound(_)) => {
                        let reason = format!(
                            "A {} payment event names order {reference}, which hookbell does not have",
                            provider.title()
                        );
                        self.tell_admins_unmatched(&tenant_id, provider, &reason, actor, source_ip, now).await
                    }
                    Err(ApiError::Conflict(why)) => Ok(ignored(&format!("Not applied: {why}"))),
                    other => other,
                }
            }
            Mapped::Unmatched { reason } => {
                self.tell_admins_unmatched(&tenant_id, provider, &reason, actor, source_ip, now).await
            }
            Mapped::Stock(stock) => {
                let threshold = i64::from(connection.low_stock_threshold);
                self.low_stock(&tenant_id, &stock, threshold, actor, source_ip, now).await
            }
            Mapped::Ignored => Ok(ignored("Recorded; hookbell does not act on this topic")),
        }
    }

    /// A notification to each admin and owner of the tenant saying what could not be matched; 200.
    async fn tell_admins_unmatched(
        &self,
        tenant_id: &TenantId,
        provider: Provider,
        reason: &str,
        actor: &str,
        source_ip: Option<String>,
        now: Timestamp,
    ) -> Result<Accepted, ApiError> {
        let admins = self.store.memberships_of_tenant(tenant_id).await?;
        for admin in admins.iter().filter(|m| m.role >= Role::Admin) {
            let note = NewNotification {
                user_id: Some(admin.user_id.to_string()),
                title: format!("Unmatched {} payment", provider.title()),
                message: reason.to_owned(),
                kind: NotificationType::Warning,
                priority: Priority::High,
                action_url: Some("/settings/webhooks".into()),
                action_text: Some("See the event log".into()),
                metadata: json!({"source": provider.as_str(), "unmatched": true}),
            };
            let origin = Origin { actor, source_ip: source_ip.clone() };
            self.create_custom_notification(tenant_id, note, origin, now).await?;
        }
        Ok(ignored(&format!("Not applied: {reason}")))
    }

    /// A low-stock notification for each variant of `stock` that fell below
    /// `threshold` with this change (once per crossing).
    async fn low_stock(
        &self,
        tenant_id: &TenantId,
        stock: &ProductStock,
        threshold: i64,
        actor: &str,
        source_ip: Option<String>,
        now: Timestamp,
    ) -> Result<Accepted, ApiError> {
        let mut raised = Vec::new();
        for v in &stock.variants {
            let crossed = v.inventory_quantity < threshold && v.previous_quantity.is_some_and(|p| p >= threshold);
            if !crossed {
                continue;
            }
            let name = if v.title.is_empty() || v.title == "Default Title" {
                stock.title.clone()
            } else {
                format!("{} ({})", stock.title, v.title)
            };
            let note = NewNotification {
                user_id: None,
                title: format!("Low stock: {}", providers::clip(&name, 180)),
                message: format!("{name} has {} left (below {threshold})", v.inventory_quantity),
                kind: NotificationType::Warning,
                priority: Priority::High,
                action_url: None,
                action_text: None,
                metadata: json!({
                    "source": "shopify", "productId": stock.product_id, "variantId": v.variant_id,
                    "sku": v.sku, "inventoryQuantity": v.inventory_quantity, "threshold": threshold,
                }),
            };
            let origin = Origin { actor, source_ip: source_ip.clone() };
            raised.push(self.create_custom_notification(tenant_id, note, origin, now).await?.id);
        }
        if raised.is_empty() {
            return Ok(ignored("Recorded; no variant fell below the low-stock threshold"));
        }
        self.announce_refresh(tenant_id, "low-stock", &["notifications"]).await;
        Ok(Accepted::new(Outcome::Created, "Low stock notified", json!({"notificationIds": raised})))
    }
}

/// What failed verifications are counted by: the address and the URL's
/// provider and tenant. Shopify and Stripe send every tenant's deliveries from
/// a few shared addresses, so one URL that keeps failing (a hostile shop, a
/// tenant that disconnected but left the endpoint live) must not make the
/// provider wait for every other tenant.
fn unverified_key(d: &ProviderDelivery) -> String {
    let tenant: String = d.tenant_id.chars().take(24).collect();
    format!("{}|{}:{tenant}", address_key(d.source_ip.as_deref()), d.provider.as_str())
}

/// 403 naming the switch when the tenant's webhooks, or the endpoint `mapped` goes through, are off.
fn mapped_enabled(tenant: &crate::store::Tenant, mapped: &Mapped) -> Result<(), ApiError> {
    match mapped {
        Mapped::Order(_) => endpoint_enabled(tenant, Endpoint::Orders),
        Mapped::Payment(_) | Mapped::Unmatched { .. } => endpoint_enabled(tenant, Endpoint::Payments),
        Mapped::Stock(_) => endpoint_enabled(tenant, Endpoint::Notifications),
        Mapped::Ignored if !tenant.webhook_settings.webhook_enabled => {
            Err(ApiError::Disabled("Webhooks are disabled for this tenant (webhookEnabled is off)".into()))
        }
        Mapped::Ignored => Ok(()),
    }
}

/// 200: recorded, not acted on, and why.
fn ignored(message: &str) -> Accepted {
    Accepted::new(Outcome::Ignored, message, json!({}))
}

/// A payload the mapping refused: 400 naming the field.
fn map_error(e: providers::MapError) -> ApiError {
    ApiError::Validation(vec![app::models::FieldError::new(e.field, e.message)])
}
