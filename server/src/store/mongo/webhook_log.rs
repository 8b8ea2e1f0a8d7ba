//! The webhook log in MongoDB: `webhook_events` (every request received,
//! expired by a TTL index) and `processed_webhooks` (claims and answers by the
//! sender's `webhook-id`, unique per tenant, also expired by a TTL index).

use app::models::{TenantId, Timestamp, WebhookEventId};
use app::models::{WebhookEvent, WebhookEventFilter};
use async_trait::async_trait;
use mongodb::bson::{doc, oid::ObjectId, Bson};

use super::{
    docs::{bson_to_json, corrupt, event_doc, event_from, get_opt_date, json_to_bson, oid, to_date},
    is_duplicate, map_err,
    query::{all, one, run},
    MongoStore,
};
use crate::store::{PageCursor, ProcessedWebhook, Receipt, StoreError, StoreResult, WebhookClaim, WebhookLogStore};

impl MongoStore {
    /// The answered delivery of `webhook_id`, if any (a pending claim is none).
    async fn answered_webhook(&self, t: ObjectId, webhook_id: &str) -> StoreResult<Option<ProcessedWebhook>> {
        let filter = doc! {"tenantId": t, "webhookId": webhook_id, "statusCode": {"$ne": 0i32}};
        one(self.processed_webhooks.find_one(filter), |d| {
            Ok(ProcessedWebhook {
                tenant_id: t.to_hex().into(),
                webhook_id: webhook_id.to_owned(),
                endpoint: d.get_str("endpoint").map_err(|_| corrupt("endpoint"))?.to_owned(),
                status_code: d.get_i32("statusCode").map_err(|_| corrupt("statusCode"))? as u16,
                response: bson_to_json(d.get("response")),
                received_at: get_opt_date(d, "receivedAt").ok_or_else(|| corrupt("receivedAt"))?,
            })
        })
        .await
    }
}

#[async_trait]
impl WebhookLogStore for MongoStore {
    async fn record_webhook_event(&self, event: &WebhookEvent) -> StoreResult<()> {
        run(self.webhook_events.insert_one(event_doc(event)?)).await.map(|_| ())
    }

    async fn list_webhook_events(
        &self,
        tenant_id: &TenantId,
        filter: &WebhookEventFilter,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookEvent>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        let mut q = doc! {"tenantId": id};
        if let Some(endpoint) = &filter.endpoint {
            q.insert("endpoint", endpoint);
        }
        if let Some(outcome) = &filter.outcome {
            q.insert("outcome", outcome);
        }
        if let Some(c) = after {
            let at = to_date(&c.created_at);
            q.insert(
                "$or",
                vec![doc! {"receivedAt": {"$lt": at}}, doc! {"receivedAt": at, "_id": {"$lt": oid(&c.id)?}}],
            );
        }
        let newest_first = self.webhook_events.find(q).sort(doc! {"receivedAt": -1, "_id": -1}).limit(i64::from(limit));
        all(newest_first, event_from).await
    }

    async fn get_webhook_event(&self, tenant_id: &TenantId, id: &WebhookEventId) -> StoreResult<Option<WebhookEvent>> {
        let (Ok(t), Ok(e)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(None);
        };
        one(self.webhook_events.find_one(doc! {"_id": e, "tenantId": t}), event_from).await
    }

    async fn purge_webhook_events(&self, before: Timestamp) -> StoreResult<u64> {
        let purged = run(self.webhook_events.delete_many(doc! {"receivedAt": {"$lt": to_date(&before)}})).await?;
        Ok(purged.deleted_count)
    }

    async fn get_processed_webhook(
        &self,
        tenant_id: &TenantId,
        webhook_id: &str,
    ) -> StoreResult<Option<ProcessedWebhook>> {
        let Ok(t) = ObjectId::parse_str(tenant_id) else {
            return Ok(None);
        };
        self.answered_webhook(t, webhook_id).await
    }

    async fn claim_webhook(
        &self,
        tenant_id: &TenantId,
        webhook_id: &str,
        endpoint: &str,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> StoreResult<WebhookClaim> {
        let t = oid(tenant_id)?;
        // A claim is a document without an answer (statusCode 0), inserted
        // under the unique (tenantId, webhookId) index: one insert wins.
        let claim = doc! {
            "tenantId": t, "webhookId": webhook_id, "endpoint": endpoint,
            "statusCode": 0i32, "response": Bson::Null, "receivedAt": to_date(&now),
        };
        match self.processed_webhooks.insert_one(claim).await {
            Ok(_) => return Ok(WebhookClaim::Claimed),
            Err(e) if is_duplicate(&e) => {}
            Err(e) => return Err(map_err(e)),
        }
        // A claim its process never completed is taken over once stale (one conditional write).
        let taken = run(self.processed_webhooks.update_one(
            doc! {"tenantId": t, "webhookId": webhook_id, "statusCode": 0i32, "receivedAt": {"$lt": to_date(&stale_before)}},
            doc! {"$set": {"receivedAt": to_date(&now), "endpoint": endpoint}},
        ))
        .await?;
        if taken.modified_count == 1 {
            return Ok(WebhookClaim::Claimed);
        }
        Ok(self.answered_webhook(t, webhook_id).await?.map_or(WebhookClaim::InProgress, WebhookClaim::Done))
    }

    async fn release_webhook_claim(
        &self,
        tenant_id: &TenantId,
        webhook_id: &str,
        claimed_at: Timestamp,
    ) -> StoreResult<()> {
        run(self.processed_webhooks.delete_one(doc! {
            "tenantId": oid(tenant_id)?, "webhookId": webhook_id, "statusCode": 0i32, "receivedAt": to_date(&claimed_at),
        }))
        .await
        .map(|_| ())
    }

    async fn save_processed_webhook(&self, p: &ProcessedWebhook) -> StoreResult<()> {
        let key = doc! {"tenantId": oid(&p.tenant_id)?, "webhookId": &p.webhook_id};
        let answer = doc! {
            "endpoint": &p.endpoint,
            "statusCode": i32::from(p.status_code),
            "response": json_to_bson(&p.response)?,
        };
        // Completes this id's claim; without one (purged, or never claimed), remembers it anew.
        let mut claimed = key.clone();
        claimed.insert("statusCode", 0i32);
        let completed = run(self.processed_webhooks.update_one(claimed, doc! {"$set": answer.clone()})).await?;
        if completed.matched_count == 1 {
            return Ok(());
        }
        let mut fields = answer;
        fields.insert("receivedAt", to_date(&p.received_at));
        match self.processed_webhooks.update_one(key, doc! {"$setOnInsert": fields}).upsert(true).await {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate(&e) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn purge_processed_webhooks(&self, before: Timestamp) -> StoreResult<u64> {
        let purged = run(self.processed_webhooks.delete_many(doc! {"receivedAt": {"$lt": to_date(&before)}})).await?;
        Ok(purged.deleted_count)
    }
}

impl MongoStore {
    /// Runs a webhook's `write` under the claim of its `webhook-id` when the
    /// receipt says to ([`Receipt::claim_stale_before`]): the claim is the
    /// first command ([`StoreError::Taken`] when the id is answered or
    /// claimed, nothing written), and a write that fails gives it back, so
    /// that the sender's retry is processed, as when the pipeline claimed
    /// (without transactions, a part already written may then be written
    /// twice). Only the request that claimed releases.
    pub(super) async fn claiming<T>(
        &self,
        receipt: Option<&Receipt>,
        write: impl std::future::Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        let Some((p, stale)) = receipt.and_then(|r| Some((r.processed.as_ref()?, r.claim_stale_before?))) else {
            return write.await;
        };
        match self.claim_webhook(&p.tenant_id, &p.webhook_id, &p.endpoint, p.received_at, stale).await? {
            WebhookClaim::Claimed => {}
            WebhookClaim::Done(_) | WebhookClaim::InProgress => return Err(StoreError::Taken),
        }
        let written = write.await;
        if written.is_err() {
            if let Err(e) = self.release_webhook_claim(&p.tenant_id, &p.webhook_id, p.received_at).await {
                tracing::warn!(error = %e, "could not release a webhook-id claim");
            }
        }
        written
    }

    /// Writes a webhook's receipt after its work (no transactions: one write
    /// each). The work is stored by then: a failure is logged, as the
    /// pipeline logs its own, and changes no answer.
    pub(super) async fn record_receipt(&self, receipt: &Receipt) {
        if let Err(e) = self.record_webhook_event(&receipt.event).await {
            tracing::warn!(error = %e, "could not record webhook event");
        }
        if let Some(processed) = &receipt.processed {
            if let Err(e) = self.save_processed_webhook(processed).await {
                tracing::warn!(error = %e, "could not record the answer of a processed webhook-id");
            }
        }
    }
}
