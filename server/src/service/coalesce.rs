//! Coalescing of `dashboard-refresh` per tenant: under a burst of webhooks a
//! dashboard gets at most one refresh per window (the first at once, the
//! rest merged into one at the window's end, naming every entity that
//! changed), while every `new-notification` is still sent.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Mutex,
    time::{Duration, Instant},
};

use app::models::DashboardRefreshEvent;

/// What to do with a refresh just offered.
#[derive(Debug, PartialEq)]
pub enum Offer {
    /// Send it now.
    Now(DashboardRefreshEvent),
    /// Held; call [`Coalescer::take`] after this delay and send what it gives.
    Later(Duration),
    /// Merged into one already held.
    Merged,
}

#[derive(Default)]
struct Slot {
    last_sent: Option<Instant>,
    held: Option<DashboardRefreshEvent>,
}

/// Per-tenant windows.
pub struct Coalescer {
    window: Duration,
    slots: Mutex<HashMap<String, Slot>>,
}

impl Coalescer {
    pub fn new(window: Duration) -> Self {
        Self { window, slots: Mutex::new(HashMap::new()) }
    }

    /// Offers a refresh at `now`.
    pub fn offer(&self, event: DashboardRefreshEvent, now: Instant) -> Offer {
        if self.window.is_zero() {
            return Offer::Now(event);
        }
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let slot = slots.entry(event.tenant_id.clone()).or_default();
        if let Some(held) = &mut slot.held {
            merge(held, event);
            return Offer::Merged;
        }
        match slot.last_sent.map(|t| now.saturating_duration_since(t)) {
            Some(elapsed) if elapsed < self.window => {
                slot.held = Some(event);
                Offer::Later(self.window - elapsed)
            }
            _ => {
                slot.last_sent = Some(now);
                Offer::Now(event)
            }
        }
    }

    /// The held refresh of `tenant_id`, to send now.
    pub fn take(&self, tenant_id: &str, now: Instant) -> Option<DashboardRefreshEvent> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let slot = slots.get_mut(tenant_id)?;
        let held = slot.held.take()?;
        slot.last_sent = Some(now);
        Some(held)
    }
}

/// Folds `event` into `held`: every entity once; one reason, or `multiple`.
fn merge(held: &mut DashboardRefreshEvent, event: DashboardRefreshEvent) {
    if held.reason != event.reason {
        held.reason = "multiple".into();
    }
    let entities: BTreeSet<String> = held.entities.drain(..).chain(event.entities).collect();
    held.entities = entities.into_iter().collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(tenant: &str, reason: &str, entities: &[&str]) -> DashboardRefreshEvent {
        DashboardRefreshEvent {
            tenant_id: tenant.into(),
            reason: reason.into(),
            entities: entities.iter().map(|e| (*e).to_owned()).collect(),
        }
    }

    #[test]
    fn the_first_goes_at_once_the_rest_of_the_window_as_one() {
        let c = Coalescer::new(Duration::from_millis(250));
        let t0 = Instant::now();
        assert_eq!(
            c.offer(ev("a", "order-created", &["orders"]), t0),
            Offer::Now(ev("a", "order-created", &["orders"]))
        );
        let later = c.offer(ev("a", "order-created", &["orders", "notifications"]), t0 + Duration::from_millis(100));
        assert_eq!(later, Offer::Later(Duration::from_millis(150)));
        assert_eq!(c.offer(ev("a", "payment-updated", &["payments"]), t0 + Duration::from_millis(120)), Offer::Merged);
        // Another tenant has its own window.
        assert!(matches!(
            c.offer(ev("b", "order-created", &["orders"]), t0 + Duration::from_millis(130)),
            Offer::Now(_)
        ));
        let sent = c.take("a", t0 + Duration::from_millis(250)).unwrap();
        assert_eq!(sent, ev("a", "multiple", &["notifications", "orders", "payments"]));
        assert_eq!(c.take("a", t0 + Duration::from_millis(251)), None);
        // Right after a trailing send, the next one waits for the window again.
        assert!(matches!(c.offer(ev("a", "x", &[]), t0 + Duration::from_millis(300)), Offer::Later(_)));
        assert!(matches!(c.offer(ev("b", "x", &[]), t0 + Duration::from_millis(400)), Offer::Now(_)));
    }

    #[test]
    fn a_zero_window_sends_everything() {
        let c = Coalescer::new(Duration::ZERO);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(matches!(c.offer(ev("a", "r", &[]), t0), Offer::Now(_)));
        }
    }
}
