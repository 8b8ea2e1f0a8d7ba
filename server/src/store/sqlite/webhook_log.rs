//! The webhook log in SQLite: the `webhook_events` table (every request
//! received, kept for a retention period) and `processed_webhooks` (claims
//! and answers by the sender's `webhook-id`).

use app::models::{TenantId, Timestamp, WebhookEventId};
use app::models::{WebhookEvent, WebhookEventFilter};
use async_trait::async_trait;
use rusqlite::Connection;

use super::{
    query::{exec_on, one_on, vals, Conditions},
    rows::{
        event_from_row, event_values, json_text, processed_webhook_from_row, EVENT_COLUMNS, PROCESSED_WEBHOOK_COLUMNS,
    },
    SqliteStore,
};
use crate::store::{PageCursor, ProcessedWebhook, Receipt, StoreError, StoreResult, WebhookClaim, WebhookLogStore};

/// The answered delivery of `webhook_id`, if any (a pending claim is none).
fn processed_webhook(c: &Connection, tenant_id: &TenantId, webhook_id: &str) -> StoreResult<Option<ProcessedWebhook>> {
    one_on(c, &answered_sql(), vals![tenant_id, webhook_id], processed_webhook_from_row)
}

fn answered_sql() -> String {
    format!(
        "SELECT {PROCESSED_WEBHOOK_COLUMNS} FROM processed_webhooks \
         WHERE tenant_id = ?1 AND webhook_id = ?2 AND status_code <> 0"
    )
}

/// Inserts one received webhook (made once, not per write).
static INSERT_EVENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO webhook_events ({EVENT_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    )
});

/// Claims a `webhook-id` (tenant, id, endpoint, now, stale before): a claim
/// is a row without an answer (status 0); one left by a dead process is taken
/// over once stale. One row changed: claimed.
const CLAIM: &str =
    "INSERT INTO processed_webhooks (tenant_id, webhook_id, endpoint, status_code, response, received_at) \
     VALUES (?1, ?2, ?3, 0, 'null', ?4) ON CONFLICT (tenant_id, webhook_id) DO UPDATE \
     SET received_at = excluded.received_at, endpoint = excluded.endpoint \
     WHERE processed_webhooks.status_code = 0 AND processed_webhooks.received_at < ?5";

/// Completes the claim of a `webhook-id` with its answer, or remembers the answer anew.
const SAVE_PROCESSED: &str =
    "INSERT INTO processed_webhooks (tenant_id, webhook_id, endpoint, status_code, response, received_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (tenant_id, webhook_id) DO UPDATE \
     SET status_code = excluded.status_code, response = excluded.response, endpoint = excluded.endpoint \
     WHERE processed_webhooks.status_code = 0";

fn processed_values(p: &ProcessedWebhook) -> StoreResult<Vec<rusqlite::types::Value>> {
    Ok(vals![&p.tenant_id, &p.webhook_id, &p.endpoint, p.status_code, json_text(&p.response)?, &p.received_at])
}

/// A webhook's receipt (its event-log entry and remembered answer) as the
/// values of its rows, made before the write (off the writer thread).
pub(super) struct ReceiptRows {
    event: Vec<rusqlite::types::Value>,
    processed: Option<Vec<rusqlite::types::Value>>,
    /// The claim the write makes first ([`Receipt::claim_stale_before`]).
    claim: Option<Vec<rusqlite::types::Value>>,
}

impl ReceiptRows {
    pub(super) fn new(receipt: &Receipt) -> StoreResult<Self> {
        let processed = receipt.processed.as_ref().map(processed_values).transpose()?;
        let claim = match (&receipt.processed, receipt.claim_stale_before) {
            (Some(p), Some(stale)) => Some(vals![&p.tenant_id, &p.webhook_id, &p.endpoint, &p.received_at, stale]),
            _ => None,
        };
        Ok(Self { event: event_values(&receipt.event)?, processed, claim })
    }

    /// Claims the `webhook-id`, if the receipt says to, as the first
    /// statement of a write: [`StoreError::Taken`] when it is answered or
    /// claimed (the writer then rolls the write's unit back).
    pub(super) fn claim(&mut self, c: &Connection) -> StoreResult<()> {
        let Some(params) = self.claim.take() else { return Ok(()) };
        match exec_on(c, CLAIM, params)? {
            1 => Ok(()),
            _ => Err(StoreError::Taken),
        }
    }

    /// Writes the rows on a connection a write holds, in that write's unit.
    pub(super) fn insert(self, c: &Connection) -> StoreResult<()> {
        exec_on(c, &INSERT_EVENT, self.event)?;
        if let Some(processed) = self.processed {
            exec_on(c, SAVE_PROCESSED, processed)?;
        }
        Ok(())
    }
}

/// The event log as [`SqliteStore::newest_first`] lists it.
pub(super) const EVENTS: (&str, &str, &str) = ("webhook_events", EVENT_COLUMNS, "received_at");

/// Deletes the events received before `?1`.
pub(super) const PURGE_EVENTS: &str = "DELETE FROM webhook_events WHERE received_at < ?1";

/// The `WHERE` of an event-log list after `tenant_id = ?1`: the filter, then the page's cursor.
pub(super) fn event_conditions(filter: &WebhookEventFilter, after: Option<&PageCursor>) -> Conditions {
    let mut c = Conditions::default();
    if let Some(endpoint) = &filter.endpoint {
        c.add(" AND endpoint = $0", Conditions::text(endpoint));
    }
    if let Some(outcome) = &filter.outcome {
        c.add(" AND outcome = $0", Conditions::text(outcome));
    }
    c.after("received_at", after);
    c
}

#[async_trait]
impl WebhookLogStore for SqliteStore {
    async fn record_webhook_event(&self, event: &WebhookEvent) -> StoreResult<()> {
        let values = event_values(event)?;
        self.write(move |c| exec_on(c, &INSERT_EVENT, values).map(|_| ())).await
    }

    async fn list_webhook_events(
        &self,
        tenant_id: &TenantId,
        filter: &WebhookEventFilter,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookEvent>> {
        let conditions = event_conditions(filter, after);
        self.newest_first(EVENTS, tenant_id, conditions, limit, event_from_row).await
    }

    async fn get_webhook_event(&self, tenant_id: &TenantId, id: &WebhookEventId) -> StoreResult<Option<WebhookEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM webhook_events WHERE tenant_id = ?1 AND id = ?2");
        self.one(sql, vals![tenant_id, id], event_from_row).await
    }

    async fn purge_webhook_events(&self, before: Timestamp) -> StoreResult<u64> {
        self.exec(PURGE_EVENTS, vals![before]).await
    }

    async fn get_processed_webhook(
        &self,
        tenant_id: &TenantId,
        webhook_id: &str,
    ) -> StoreResult<Option<ProcessedWebhook>> {
        self.one(answered_sql(), vals![tenant_id, webhook_id], processed_webhook_from_row).await
    }

    async fn claim_webhook(
        &self,
        tenant_id: &TenantId,
        webhook_id: &str,
        endpoint: &str,
        now: Timestamp,
        stale_before: Timestamp,
    ) -> StoreResult<WebhookClaim> {
        let (t, w) = (tenant_id.to_owned(), webhook_id.to_owned());
        let params = vals![tenant_id, webhook_id, endpoint, now, stale_before];
        self.write(move |c| {
            // A claim is a row without an answer (status 0); one left by a dead
            // process is taken over once stale. One statement, on the one writer.
            let claimed = exec_on(c, CLAIM, params)?;
            if claimed == 1 {
                return Ok(WebhookClaim::Claimed);
            }
            Ok(processed_webhook(c, &t, &w)?.map_or(WebhookClaim::InProgress, WebhookClaim::Done))
        })
        .await
    }

    async fn release_webhook_claim(
        &self,
        tenant_id: &TenantId,
        webhook_id: &str,
        claimed_at: Timestamp,
    ) -> StoreResult<()> {
        self.exec(
            "DELETE FROM processed_webhooks WHERE tenant_id = ?1 AND webhook_id = ?2 AND status_code = 0 \
             AND received_at = ?3",
            vals![tenant_id, webhook_id, claimed_at],
        )
        .await
        .map(|_| ())
    }

    async fn save_processed_webhook(&self, p: &ProcessedWebhook) -> StoreResult<()> {
        let values = processed_values(p)?;
        self.write(move |c| exec_on(c, SAVE_PROCESSED, values).map(|_| ())).await
    }

    async fn purge_processed_webhooks(&self, before: Timestamp) -> StoreResult<u64> {
        self.exec("DELETE FROM processed_webhooks WHERE received_at < ?1", vals![before]).await
    }
}
