//! Snoozes coming due: every node looks for them every `HOOKBELL_SNOOZE_POLL_MS`
//! in the store (where the schedule lives, so a restart loses none), and
//! wakes each with a conditional write that exactly one node wins; the winner
//! tells the reader's open tabs (`notification-updated`, unread again).

use std::sync::Arc;

use super::Services;
use crate::{error::ApiError, ids};

/// The most snoozes one look wakes (the next look takes the rest).
const WAKE_BATCH: u32 = 200;

impl Services {
    /// Wakes the snoozes due now; how many this node woke.
    pub async fn wake_due_snoozes(&self) -> Result<usize, ApiError> {
        let mut woken = 0;
        for due in self.store.due_snoozes(ids::now(), WAKE_BATCH).await? {
            // One failure does not hold back the others (the next look retries what is still due).
            let n = match self.store.wake_snooze(&due).await {
                Ok(Some(n)) => n,
                Ok(None) => continue, // another node woke it, or the reader changed it meanwhile
                Err(e) => {
                    tracing::warn!(error = %e, notification = %due.notification_id, "could not wake a snooze");
                    continue;
                }
            };
            woken += 1;
            // Woken in the store: the reader's tabs also learn it from their next count or rejoin.
            if let Err(e) = self.announce_reader_change(&due.tenant_id, due.reader.as_ref(), &n).await {
                tracing::warn!(error = %e, notification = %n.id, "could not announce a woken snooze");
            }
        }
        Ok(woken)
    }
}

/// Wakes due snoozes for as long as the server runs.
pub async fn snooze_loop(services: Arc<Services>) {
    let mut tick = tokio::time::interval(services.config().snooze_poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match services.wake_due_snoozes().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(woken = n, "snoozes woke"),
            Err(e) => tracing::warn!(error = %e, "could not wake due snoozes"),
        }
    }
}
