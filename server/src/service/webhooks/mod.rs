//! Webhook ingestion: verify, check the tenant's switches, validate, store,
//! announce — the same pipeline for every endpoint, and every request recorded
//! in the webhook event log, accepted or not.
//!
//! The HTTP handler hands over the raw body (or why it could not read one) and
//! the signature header; all decisions are made here.

pub mod notifications;
mod orders;
mod payments;
pub mod providers;
mod replay;

use std::time::Instant;

use app::models::{
    events, DashboardRefreshEvent, NewNotificationEvent, Notification, TenantId, Timestamp, WebhookEvent,
};
use serde_json::{Map, Value};

use crate::{
    error::{ApiError, FieldError},
    ids,
    signature::{timestamp_fresh, verify_seed, verify_standard, SignatureHeaders},
    store::{ProcessedWebhook, Receipt, Tenant, WebhookClaim},
};
use app::input::WebhookBody;
pub use app::input::{is_email, is_safe_action_url, parse_money};

use super::{rate_limit::address_key, Services};

/// The webhook endpoints, each with its switch in the tenant's settings.
pub use app::models::Endpoint;

/// What became of an accepted webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Something new was stored (201).
    Created,
    /// An existing record changed (200).
    Updated,
    /// The request repeated one already processed: nothing new was stored (200).
    Duplicate,
    /// A provider's event hookbell does not act on, or cannot apply (200: the
    /// provider would send it again and again otherwise).
    Ignored,
}

/// A webhook the service accepted: what became of it and the answer's fields
/// (`message`, the ids, `"duplicate": true` for repeats). Its [`body`](Self::body)
/// is the seed's `{"success": true, …}` answer: what the sender gets, and what is
/// remembered (processed `webhook-id`s, the event log), so that a redelivery
/// gets the first answer from any version of the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub outcome: Outcome,
    pub answer: Map<String, Value>,
    /// The webhook's receipt (event-log entry, remembered answer) was stored
    /// with the work, in the same unit: nothing is left to record.
    recorded: bool,
}

impl Accepted {
    fn new(outcome: Outcome, message: &str, fields: Value) -> Self {
        let mut answer = Map::new();
        answer.insert("message".into(), message.into());
        if let Value::Object(extra) = fields {
            answer.extend(extra);
        }
        let flag = match outcome {
            Outcome::Duplicate => Some("duplicate"),
            Outcome::Ignored => Some("ignored"),
            Outcome::Created | Outcome::Updated => None,
        };
        if let Some(flag) = flag {
            answer.insert(flag.into(), Value::Bool(true));
        }
        Self { outcome, answer, recorded: false }
    }

    /// A repeat of a delivery answered with `first` (as remembered).
    fn repeat(first: Value) -> Self {
        let mut answer = match first {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        // (A remembered answer carries the envelope; `body` makes it anew.)
        answer.insert("duplicate".into(), Value::Bool(true));
        Self { outcome: Outcome::Duplicate, answer, recorded: false }
    }

    /// The answer as sent and remembered: `{"success": true, …}`.
    pub fn body(&self) -> Value {
        app::models::success(&self.answer)
    }

    /// The HTTP status of the answer.
    pub fn status_code(&self) -> u16 {
        if self.outcome == Outcome::Created {
            201
        } else {
            200
        }
    }
}

/// What a verified webhook carries into its endpoint's handler.
struct Delivery<'a> {
    tenant: Tenant,
    body: WebhookBody,
    source_ip: Option<String>,
    now: Timestamp,
    /// `webhook:<endpoint>` (or `shopify:<topic>`, `stripe:<type>`), the actor of audit entries.
    actor: &'a str,
    /// The id a new order takes (a provider's order has one made from its own), else a new one.
    order_id: Option<app::models::OrderId>,
    /// What the delivery's receipt is made of, for work that stores it in its
    /// own unit ([`Services::receipt`]); none: the pipeline records it after.
    receipt: Option<ReceiptDraft<'a>>,
}

/// A delivery as received: the parts of its receipt known before its work.
struct ReceiptDraft<'a> {
    endpoint: Endpoint,
    body: &'a [u8],
    started: Instant,
    /// The verified `webhook-id`, whose answer is remembered.
    webhook_id: Option<String>,
    /// The work's write claims `webhook_id` itself, first (claims made before
    /// this are stale): the pipeline made no claim of its own.
    claim_stale_before: Option<Timestamp>,
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

/// Parses a webhook body (a JSON object).
pub fn parse_body(body: &[u8]) -> Result<WebhookBody, ApiError> {
    WebhookBody::parse(body).map_err(ApiError::InvalidJson)
}

/// How much of a body the webhook event log keeps.
pub const EVENT_BODY_CAP: usize = 8 * 1024;

/// How much of a provider's delivery the log keeps: Shopify's orders run to
/// tens of kilobytes, and a delivery kept whole can be replayed.
pub const PROVIDER_EVENT_BODY_CAP: usize = 64 * 1024;

/// Why requests that never verified were refused, counted per process (they
/// are kept nowhere else: no tenant's event log holds what a stranger sent).
#[derive(Debug, Default)]
pub struct UnverifiedCounts {
    counts: std::sync::Mutex<std::collections::BTreeMap<&'static str, u64>>,
}

impl UnverifiedCounts {
    fn add(&self, code: &'static str) {
        crate::telemetry::signature_failure(code);
        *self.counts.lock().unwrap_or_else(|p| p.into_inner()).entry(code).or_default() += 1;
    }

    /// Requests refused before or at the signature check, by error code.
    pub fn snapshot(&self) -> std::collections::BTreeMap<&'static str, u64> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Who claims a delivery's `webhook-id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// The pipeline, before the work (a write of its own).
    First,
    /// The work's first write, in its own unit ([`Receipt::claim_stale_before`]).
    InWrite,
}

/// A webhook whose signature verified.
struct Verified {
    tenant: Tenant,
    /// Signed the Standard Webhooks way: the `webhook-id` is covered by the signature.
    standard: bool,
}

/// The result of one request, and the tenant it verified for (if it did).
struct Handled {
    tenant_id: Option<TenantId>,
    result: Result<Accepted, ApiError>,
}

impl Services {
    /// Processes one webhook request to `endpoint`. `refused` is set when the
    /// transport already refused the request (too large, not JSON). A request
    /// whose signature verified is recorded in its tenant's webhook event log;
    /// one that did not is only counted ([`UnverifiedCounts`]).
    ///
    /// The work runs in a task of its own: a client that hangs up, or the
    /// request timeout, cannot stop it between storing and remembering the
    /// answer (which would let a redelivery store a second notification).
    pub async fn ingest(
        self: &std::sync::Arc<Self>,
        endpoint: Endpoint,
        body: bytes::Bytes,
        refused: Option<ApiError>,
        signature: SignatureHeaders,
        source_ip: Option<String>,
    ) -> Result<Accepted, ApiError> {
        let services = self.clone();
        let work = async move { services.ingest_here(endpoint, &body, refused, &signature, source_ip).await };
        // The request's span (its id) goes with it: the task's log lines carry it too.
        let work = tokio::spawn(tracing::Instrument::instrument(work, tracing::Span::current()));
        work.await.map_err(|e| ApiError::Internal(format!("webhook task: {e}")))?
    }

    /// [`Services::ingest`] in the caller's task.
    async fn ingest_here(
        &self,
        endpoint: Endpoint,
        body: &[u8],
        refused: Option<ApiError>,
        signature: &SignatureHeaders,
        source_ip: Option<String>,
    ) -> Result<Accepted, ApiError> {
        let started = Instant::now();
        let outcome = match refused {
            None => self.ingest_inner(endpoint, body, signature, source_ip.clone(), started).await,
            Some(refused) => Handled { tenant_id: None, result: Err(refused) },
        };
        match (&outcome.tenant_id, &outcome.result) {
            (Some(_), Ok(accepted)) if accepted.recorded => {}
            (Some(tenant_id), result) => {
                let event = (endpoint.as_str(), None, tenant_id);
                self.record_event(event, body, result, started, source_ip).await
            }
            (None, Err(e)) => self.count_unverified(e, &address_key(source_ip.as_deref())).await,
            (None, Ok(_)) => {}
        }
        outcome.result
    }

    /// Counts a request refused before its signature verified: each refusal
    /// the sender caused costs its limiter key (the address) a token, so a
    /// flood is refused before any store access. Our own failures cost nothing.
    async fn count_unverified(&self, e: &ApiError, key: &str) {
        self.unverified.add(e.code());
        let ours = matches!(e, ApiError::RateLimited(_) | ApiError::StoreUnavailable(_) | ApiError::Internal(_));
        if !ours {
            let _ = self.unverified_limiter.check(key).await;
        }
    }

    async fn ingest_inner(
        &self,
        endpoint: Endpoint,
        body: &[u8],
        signature: &SignatureHeaders,
        source_ip: Option<String>,
        started: Instant,
    ) -> Handled {
        let unverified = |e: ApiError| Handled { tenant_id: None, result: Err(e) };
        let parsed = match parse_body(body) {
            Ok(parsed) => parsed,
            Err(e) => return unverified(e),
        };
        let tenant_id = match parsed.tenant_id() {
            Some(id) => id.to_owned(),
            None => return unverified(ApiError::Validation(vec![FieldError::new("tenantId", "is required")])),
        };
        // An address whose requests keep failing verification waits, before any store access.
        if let Err(wait) = self.unverified_limiter.peek(&address_key(source_ip.as_deref())).await {
            return unverified(ApiError::rate_limited(wait));
        }
        let verified = match self.verify_webhook(&tenant_id, body, signature).await {
            Ok(v) => v,
            Err(e) => return unverified(e),
        };
        let tenant_id = verified.tenant.id.clone();
        let received = ReceiptDraft { endpoint, body, started, webhook_id: None, claim_stale_before: None };
        let result = self.process_verified(received, verified, parsed, signature, source_ip).await;
        Handled { tenant_id: Some(tenant_id), result }
    }

    /// What happens to a webhook after its signature verified.
    async fn process_verified(
        &self,
        received: ReceiptDraft<'_>,
        verified: Verified,
        body: WebhookBody,
        signature: &SignatureHeaders,
        source_ip: Option<String>,
    ) -> Result<Accepted, ApiError> {
        let Verified { tenant, standard } = verified;
        let endpoint = received.endpoint;
        // Only a verified sender learns about the switches.
        endpoint_enabled(&tenant, endpoint)?;
        if !standard && !tenant.webhook_settings.accept_seed_signatures {
            return Err(ApiError::SchemeRefused);
        }
        if let Err(wait) = self.webhook_limiter.check(tenant.id.as_str()).await {
            return Err(ApiError::rate_limited(wait));
        }
        // Redeliveries are recognised by `webhook-id` only where the signature
        // covers it (Standard Webhooks): an unsigned id could be planted ahead
        // of a genuine delivery to make it look like a duplicate.
        let webhook_id = match signature.webhook_id.as_deref().map(str::trim).filter(|_| standard) {
            None | Some("") => None,
            Some(id) if id.len() > 255 || !id.bytes().all(|b| b.is_ascii_graphic()) => {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "webhook-id",
                    "must be at most 255 visible ASCII characters",
                )]))
            }
            Some(id) => Some(id.to_owned()),
        };
        let tenant_id = tenant.id.clone();
        let now = ids::now();
        let actor = format!("webhook:{}", endpoint.as_str());
        // An order's or a notification's write claims the id in its own unit
        // (SQLite: one write per delivery, not two); a payment's is claimed first.
        let claim = match endpoint {
            Endpoint::Orders | Endpoint::Notifications => Claim::InWrite,
            Endpoint::Payments => Claim::First,
        };
        let claim_stale_before = (claim == Claim::InWrite).then(|| self.claim_stale_before(now));
        let receipt = Some(ReceiptDraft { webhook_id: webhook_id.clone(), claim_stale_before, ..received });
        let delivery = Delivery { tenant, body, source_ip, now, actor: &actor, order_id: None, receipt };
        let work = self.process(endpoint, delivery);
        self.once_per_id(&tenant_id, webhook_id, endpoint.as_str(), now, claim, work).await
    }

    /// Claims of a `webhook-id` made before this are stale: their process died.
    fn claim_stale_before(&self, now: Timestamp) -> Timestamp {
        now - self.config.request_timeout * 2
    }

    /// Runs `work` once per `webhook_id` of the tenant (claimed atomically
    /// before anything is stored, by the pipeline or by the work's write as
    /// `claim` says; a repeat gets the first answer, one under way `409
    /// in_progress`), or simply runs it without an id.
    async fn once_per_id(
        &self,
        tenant_id: &TenantId,
        webhook_id: Option<String>,
        endpoint: &str,
        now: Timestamp,
        claim: Claim,
        work: impl std::future::Future<Output = Result<Accepted, ApiError>>,
    ) -> Result<Accepted, ApiError> {
        let tenant_id = tenant_id.clone();
        if let (Some(id), Claim::First) = (&webhook_id, claim) {
            let stale = self.claim_stale_before(now);
            match self.store.claim_webhook(&tenant_id, id, endpoint, now, stale).await? {
                WebhookClaim::Claimed => {}
                WebhookClaim::Done(done) => return Ok(Accepted::repeat(done.response)),
                WebhookClaim::InProgress => return Err(ApiError::InProgress),
            }
        }
        let processed = work.await;
        let Some(webhook_id) = webhook_id else { return processed };
        match &processed {
            Ok(accepted) if accepted.recorded => {}
            // The write found the id taken and stored nothing: the first
            // delivery's answer once it is committed, else 409 in_progress.
            Err(ApiError::InProgress) if claim == Claim::InWrite => {
                if let Some(done) = self.store.get_processed_webhook(&tenant_id, &webhook_id).await? {
                    return Ok(Accepted::repeat(done.response));
                }
            }
            Ok(accepted) => {
                let answer = ProcessedWebhook {
                    tenant_id,
                    webhook_id,
                    endpoint: endpoint.to_owned(),
                    status_code: accepted.status_code(),
                    response: accepted.body(),
                    received_at: now,
                };
                // The work is stored and acknowledged; a claim left unanswered only
                // makes redeliveries wait (409) until it is stale, then process again
                // into the endpoint's own idempotency.
                if let Err(e) = self.store.save_processed_webhook(&answer).await {
                    tracing::warn!(error = %e, "could not record the answer of a processed webhook-id");
                }
            }
            // A write that claims gives its claim back itself when it fails
            // (SQLite: rolled back with it); one refused before its write made
            // none. Releasing here could only take another request's.
            Err(_) if claim == Claim::InWrite => {}
            // Refused: the sender may fix and retry under the same id.
            Err(_) => {
                if let Err(e) = self.store.release_webhook_claim(&tenant_id, &webhook_id, now).await {
                    tracing::warn!(error = %e, "could not release a webhook-id claim");
                }
            }
        }
        processed
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
    async fn verify_webhook(&self, tenant_id: &str, body: &[u8], sig: &SignatureHeaders) -> Result<Verified, ApiError> {
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
        if standard.is_none() && sig.seed.is_none() {
            return Err(ApiError::InvalidSignature);
        }
        let Some(tenant_id) = TenantId::parse(&tenant_id.to_ascii_lowercase()) else {
            return Err(ApiError::InvalidSignature);
        };
        let known = self.known_tenant(&tenant_id).await?.ok_or(ApiError::InvalidSignature)?;
        // The current secret, and the previous one during its grace period.
        let valid = known.accepted_at(ids::now()).any(|secret| match (standard, &sig.seed) {
            (Some((signature, id, ts)), _) => verify_standard(secret.expose(), id, ts, body, signature),
            (None, Some(seed)) => verify_seed(secret.expose(), body, seed),
            (None, None) => false,
        });
        if valid {
            Ok(Verified { tenant: known.tenant.clone(), standard: standard.is_some() })
        } else {
            Err(ApiError::InvalidSignature)
        }
    }

    /// Records one verified request in its tenant's webhook event log; a
    /// failure to record is logged and does not change the answer (what was
    /// accepted is stored).
    async fn record_event(
        &self,
        event: (&str, Option<&str>, &TenantId),
        body: &[u8],
        result: &Result<Accepted, ApiError>,
        started: Instant,
        source_ip: Option<String>,
    ) {
        let event = event_entry(event, body, result.as_ref(), started, source_ip);
        if let Err(e) = self.store.record_webhook_event(&event).await {
            tracing::warn!(error = %e, "could not record webhook event");
        }
    }

    /// The receipt of a delivery whose work is `accepted` now, for the work to
    /// store in its own unit (`accepted` is then marked recorded), if the
    /// delivery has a draft of one.
    fn receipt(d: &Delivery<'_>, accepted: &mut Accepted) -> Option<Receipt> {
        let draft = d.receipt.as_ref()?;
        let tenant_id = &d.tenant.id;
        let event = (draft.endpoint.as_str(), None, tenant_id);
        let entry = event_entry(event, draft.body, Ok(&*accepted), draft.started, d.source_ip.clone());
        let processed = draft.webhook_id.clone().map(|webhook_id| ProcessedWebhook {
            tenant_id: tenant_id.clone(),
            webhook_id,
            endpoint: draft.endpoint.as_str().to_owned(),
            status_code: accepted.status_code(),
            response: entry.response.clone().unwrap_or(Value::Null),
            received_at: d.now,
        });
        accepted.recorded = true;
        let claim_stale_before = draft.claim_stale_before;
        Some(Receipt { event: entry, processed, claim_stale_before })
    }

    /// Pushes a stored notification with the unread count its audience has with it.
    pub async fn announce_counted(&self, notification: Notification, unread_count: u64) {
        let event = NewNotificationEvent { notification, unread_count };
        self.announce_to_audience(&event.notification, events::NEW_NOTIFICATION, &event).await;
    }

    /// Pushes a stored notification, with the unread count its audience now has.
    pub async fn announce_notification(&self, notification: Notification) -> Result<(), ApiError> {
        let unread_count = self.store.unread_count(&notification.tenant_id, notification.user_id.as_ref()).await?;
        let event = NewNotificationEvent { notification, unread_count };
        self.announce_to_audience(&event.notification, events::NEW_NOTIFICATION, &event).await;
        Ok(())
    }

    /// Sends an event about `n` to those who see it: its user's sockets for a
    /// personal notification, the tenant's room for a tenant-wide one.
    pub async fn announce_to_audience<T: serde::Serialize + ?Sized>(&self, n: &Notification, event: &str, payload: &T) {
        match &n.user_id {
            Some(user) => self.broadcaster.to_reader(&n.tenant_id, Some(user), event, payload).await,
            None => self.broadcaster.to_tenant(&n.tenant_id, event, payload).await,
        }
    }

    /// Tells the tenant's dashboards what changed.
    /// Under bursts, at most one per tenant per `HOOKBELL_REFRESH_COALESCE_MS`
    /// (the rest merged into one sent at the window's end; see [`super::coalesce`]).
    pub async fn announce_refresh(&self, tenant_id: &TenantId, reason: &str, entities: &[&str]) {
        let event = DashboardRefreshEvent {
            tenant_id: tenant_id.clone(),
            reason: reason.to_owned(),
            entities: entities.iter().map(|e| (*e).to_owned()).collect(),
        };
        super::coalesce::announce(&self.refresh, &self.broadcaster, self.shared.as_ref(), event).await;
    }
}

/// A verified request's entry in its tenant's webhook event log.
fn event_entry(
    (endpoint, topic, tenant_id): (&str, Option<&str>, &TenantId),
    body: &[u8],
    result: Result<&Accepted, &ApiError>,
    started: Instant,
    source_ip: Option<String>,
) -> WebhookEvent {
    let (outcome, status_code, reason) = match result {
        Ok(a) if a.outcome == Outcome::Duplicate => ("duplicate", 200, None),
        Ok(a) if a.outcome == Outcome::Ignored => {
            ("accepted", 200, a.answer.get("message").and_then(Value::as_str).map(str::to_owned))
        }
        Ok(a) => ("accepted", a.status_code(), None),
        Err(e) => ("rejected", e.status().as_u16(), Some(e.public_message())),
    };
    let cap = if app::models::Provider::parse(endpoint).is_some() { PROVIDER_EVENT_BODY_CAP } else { EVENT_BODY_CAP };
    let capped = &body[..body.len().min(cap)];
    WebhookEvent {
        id: ids::new_id(),
        tenant_id: Some(tenant_id.clone()),
        endpoint: endpoint.to_owned(),
        topic: topic.map(str::to_owned),
        verified: true,
        outcome: outcome.to_owned(),
        status_code,
        reason,
        latency_ms: started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32,
        body: String::from_utf8_lossy(capped).into_owned(),
        body_truncated: body.len() > cap,
        source_ip,
        received_at: ids::now(),
        response: result.ok().map(Accepted::body),
        withheld: false,
    }
}
