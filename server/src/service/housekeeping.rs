//! Housekeeping: removing what has outlived its retention (webhook events past
//! `HOOKBELL_WEBHOOK_EVENT_RETENTION_DAYS`, sessions past their absolute
//! expiry, remembered webhook-ids past a day). MongoDB's TTL indexes do the same on their own; SQLite needs this.

use std::{sync::Arc, time::Duration};

use crate::{error::ApiError, ids};

use super::Services;

/// What one purge removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub webhook_events: u64,
    pub sessions: u64,
    pub processed_webhooks: u64,
}

impl Services {
    /// Deletes webhook events older than the retention period and expired sessions.
    pub async fn purge_expired(&self) -> Result<Purged, ApiError> {
        let now = ids::now();
        Ok(Purged {
            webhook_events: self.store.purge_webhook_events(now - self.config.webhook_event_retention()).await?,
            sessions: self.store.purge_sessions(now).await?,
            processed_webhooks: self
                .store
                .purge_processed_webhooks(now - crate::store::PROCESSED_WEBHOOK_RETENTION)
                .await?,
        })
    }
}

/// Purges once an hour, for as long as the server runs.
pub async fn retention_loop(services: Arc<Services>) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match services.purge_expired().await {
            Ok(p) if p == Purged::default() => {}
            Ok(p) => {
                tracing::info!(webhook_events = p.webhook_events, sessions = p.sessions, "expired records removed")
            }
            Err(e) => tracing::warn!(error = %e, "purge of expired records failed"),
        }
    }
}
