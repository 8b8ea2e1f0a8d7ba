//! Coalescing of `dashboard-refresh` per tenant: under a burst of webhooks a
//! dashboard gets at most one refresh per window (the first at once, the
//! rest merged into one at the window's end, naming every entity that
//! changed), while every `new-notification` is still sent.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
    sync::Mutex,
    time::Duration,
};

use app::models::{events, DashboardRefreshEvent, TenantId};
/// Tokio's clock (the system's, except in tests that pause and advance it).
use tokio::time::Instant;

use super::{limits::Shared, push::Pusher};

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
    slots: Mutex<Slots>,
}

/// The windows, and the size at which the next sweep of closed ones is due.
struct Slots {
    map: HashMap<String, Slot>,
    sweep_at: usize,
}

/// The fewest windows kept before a sweep.
const SWEEP_FLOOR: usize = 1024;

impl Slots {
    /// Forgets windows that hold nothing and have closed (amortised: the next
    /// sweep waits until the map has doubled).
    fn sweep_if_due(&mut self, window: Duration, now: Instant) {
        if self.map.len() < self.sweep_at {
            return;
        }
        self.map
            .retain(|_, s| s.held.is_some() || s.last_sent.is_some_and(|t| now.saturating_duration_since(t) < window));
        self.sweep_at = (self.map.len() * 2).max(SWEEP_FLOOR);
    }
}

impl Coalescer {
    pub fn new(window: Duration) -> Self {
        Self { window, slots: Mutex::new(Slots { map: HashMap::new(), sweep_at: SWEEP_FLOOR }) }
    }

    /// How many tenants' windows are kept.
    pub fn len(&self) -> usize {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Offers a refresh at `now`.
    pub fn offer(&self, event: DashboardRefreshEvent, now: Instant) -> Offer {
        if self.window.is_zero() {
            return Offer::Now(event);
        }
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.sweep_if_due(self.window, now);
        let slot = slots.map.entry(event.tenant_id.to_string()).or_default();
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

    /// Holds `event` for the tenant's window (merged into a held one, if
    /// any): true when nothing was held, so the caller schedules the send.
    pub fn hold(&self, event: DashboardRefreshEvent) -> bool {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let slot = slots.map.entry(event.tenant_id.to_string()).or_default();
        match &mut slot.held {
            Some(held) => {
                merge(held, event);
                false
            }
            None => {
                slot.held = Some(event);
                true
            }
        }
    }

    /// The held refresh of `tenant_id`, to send now.
    pub fn take(&self, tenant_id: &str, now: Instant) -> Option<DashboardRefreshEvent> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let slot = slots.map.get_mut(tenant_id)?;
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

/// Sends `event` to its tenant's dashboards now, or merges it into the
/// refresh the window holds, sent by a task at the window's end. With
/// `shared` state (Redis) a window is also one for every node: a refresh this
/// node would send while another node's window is open is held until it closes.
pub async fn announce(
    refresh: &Arc<Coalescer>,
    push: &Pusher,
    shared: Option<&Arc<Shared>>,
    event: DashboardRefreshEvent,
) {
    let tenant_id = event.tenant_id.clone();
    let now = Instant::now();
    match refresh.offer(event, now) {
        Offer::Now(event) => match open_shared(refresh, shared, &tenant_id).await {
            None => push.to_tenant(&tenant_id, events::DASHBOARD_REFRESH, &event).await,
            Some(left) => {
                if refresh.hold(event) {
                    send_later(refresh.clone(), push.clone(), shared.cloned(), tenant_id, Instant::now() + left);
                }
            }
        },
        Offer::Merged => {}
        Offer::Later(delay) => send_later(refresh.clone(), push.clone(), shared.cloned(), tenant_id, now + delay),
    }
}

/// Opens the tenant's window on every node: `None` when this node may send now.
async fn open_shared(refresh: &Coalescer, shared: Option<&Arc<Shared>>, tenant_id: &TenantId) -> Option<Duration> {
    match shared {
        Some(shared) if !refresh.window.is_zero() => {
            shared.open_window("refresh", tenant_id.as_str(), refresh.window).await
        }
        _ => None,
    }
}

/// At `due`, sends what the tenant's window holds, once every node's window has closed.
fn send_later(refresh: Arc<Coalescer>, push: Pusher, shared: Option<Arc<Shared>>, tenant_id: TenantId, due: Instant) {
    tokio::spawn(async move {
        let mut due = due;
        loop {
            tokio::time::sleep_until(due).await;
            let Some(event) = refresh.take(&tenant_id, Instant::now()) else { return };
            match open_shared(&refresh, shared.as_ref(), &tenant_id).await {
                None => return push.to_tenant(&tenant_id, events::DASHBOARD_REFRESH, &event).await,
                // Held again; if a newer refresh is held meanwhile, its own task sends both.
                Some(left) if refresh.hold(event) => due = Instant::now() + left,
                Some(_) => return,
            }
        }
    });
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
    fn closed_windows_are_forgotten() {
        let c = Coalescer::new(Duration::from_millis(250));
        let t0 = Instant::now();
        for i in 0..100_000u32 {
            let now = t0 + Duration::from_millis(u64::from(i));
            assert!(matches!(c.offer(ev(&format!("t{i}"), "r", &[]), now), Offer::Now(_)));
            assert!(c.len() <= 2 * SWEEP_FLOOR, "{} windows kept", c.len());
        }
        // A held refresh is never forgotten.
        let held = t0 + Duration::from_secs(1000);
        assert!(matches!(c.offer(ev("a", "r", &[]), held), Offer::Now(_)));
        assert!(matches!(c.offer(ev("a", "r", &["x"]), held), Offer::Later(_)));
        for i in 0..10_000u32 {
            let _ = c.offer(ev(&format!("u{i}"), "r", &[]), held + Duration::from_secs(1 + u64::from(i)));
        }
        assert_eq!(c.take("a", held + Duration::from_secs(20_000)).map(|e| e.entities), Some(vec!["x".to_owned()]));
    }

    /// Records what it is asked to push.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, serde_json::Value)>>);

    #[async_trait::async_trait]
    impl crate::service::Push for Recorder {
        async fn to_tenant(&self, tenant_id: &app::models::TenantId, _event: &str, payload: &serde_json::Value) {
            self.0.lock().unwrap().push((tenant_id.to_string(), payload.clone()));
        }
        async fn to_reader(
            &self,
            _: &app::models::TenantId,
            _: Option<&app::models::UserId>,
            _: &str,
            _: &serde_json::Value,
        ) {
        }
        async fn to_sockets(&self, _: crate::service::Sockets<'_>, _: &str, _: &serde_json::Value) {}
        async fn disconnect(&self, _: crate::service::Sockets<'_>) {}
        async fn count(&self, _: crate::service::Sockets<'_>) -> usize {
            0
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_sends_the_first_at_once_and_one_per_window_after() {
        let recorder = Arc::new(Recorder::default());
        let push = Pusher::new(recorder.clone());
        let refresh = Arc::new(Coalescer::new(Duration::from_millis(250)));
        let sent = || recorder.0.lock().unwrap().clone();
        // 20 refreshes 10 ms apart (200 ms of a 250 ms window): one now, one at the window's end.
        for i in 0..20 {
            let last = i == 19;
            let event =
                if last { ev("a", "payment-updated", &["payments"]) } else { ev("a", "order-created", &["orders"]) };
            announce(&refresh, &push, None, event).await;
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        assert_eq!(sent().len(), 1, "the first at once, the rest held");
        tokio::time::sleep(Duration::from_millis(60)).await;
        let all = sent();
        assert_eq!(all.len(), 2, "{all:?}");
        assert_eq!(all[1].1["reason"], "multiple");
        assert_eq!(all[1].1["entities"], serde_json::json!(["orders", "payments"]));
        // Nothing more is held.
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(sent().len(), 2);
    }

    /// Windows as Redis keeps them (with `SET NX PX`), on tokio's clock.
    #[derive(Default)]
    struct Windows(Mutex<std::collections::HashMap<String, Instant>>);

    #[async_trait::async_trait]
    impl crate::service::limits::SharedState for Windows {
        async fn take(
            &self,
            _: &str,
            _: Duration,
            _: u32,
            _: bool,
        ) -> Result<Result<(), Duration>, crate::service::limits::Unavailable> {
            Ok(Ok(()))
        }
        async fn open_window(
            &self,
            key: &str,
            window: Duration,
        ) -> Result<Option<Duration>, crate::service::limits::Unavailable> {
            let now = Instant::now();
            let mut map = self.0.lock().unwrap();
            match map.get(key) {
                Some(closes) if *closes > now => Ok(Some(*closes - now)),
                _ => {
                    map.insert(key.to_owned(), now + window);
                    Ok(None)
                }
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn two_nodes_sharing_windows_send_one_refresh_per_window_between_them() {
        let windows = Arc::new(Windows::default());
        let shared = Arc::new(Shared::new(windows, b"k"));
        let node = || {
            let recorder = Arc::new(Recorder::default());
            let push = Pusher::new(recorder.clone());
            (recorder, push, Arc::new(Coalescer::new(Duration::from_millis(250))))
        };
        let (a_sent, a_push, a) = node();
        let (b_sent, b_push, b) = node();
        let count = |r: &Arc<Recorder>| r.0.lock().unwrap().len();
        announce(&a, &a_push, Some(&shared), ev("t", "order-created", &["orders"])).await;
        // B's first refresh of the tenant: its own window is closed, but A's shared one is open.
        announce(&b, &b_push, Some(&shared), ev("t", "payment-updated", &["payments"])).await;
        tokio::time::advance(Duration::from_millis(100)).await;
        announce(&b, &b_push, Some(&shared), ev("t", "order-created", &["orders"])).await;
        assert_eq!((count(&a_sent), count(&b_sent)), (1, 0), "A sent at once; B holds");
        // A's window closes at 250 ms: B sends its merged refresh then, and opens the next window.
        tokio::time::sleep(Duration::from_millis(151)).await;
        assert_eq!(count(&b_sent), 1);
        assert_eq!(b_sent.0.lock().unwrap()[0].1["entities"], serde_json::json!(["orders", "payments"]));
        // A, whose own window has closed, now waits for B's.
        announce(&a, &a_push, Some(&shared), ev("t", "order-created", &["orders"])).await;
        assert_eq!(count(&a_sent), 1, "held while B's window is open");
        tokio::time::sleep(Duration::from_millis(251)).await;
        assert_eq!((count(&a_sent), count(&b_sent)), (2, 1));
        // Another tenant is not held by this one's windows.
        announce(&b, &b_push, Some(&shared), ev("u", "order-created", &["orders"])).await;
        assert_eq!(count(&b_sent), 2);
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
