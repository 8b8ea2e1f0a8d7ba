//! Live dashboard state: the header's unread count, connection state and the
//! newest notifications, kept current over Socket.IO in the browser.
//!
//! On the server (and before hydration) the state is what the server rendered;
//! in the browser one [`SocketClient`](crate::realtime::client::SocketClient)
//! per page joins the tenant's room and applies every event it receives.

use leptos::prelude::*;

use crate::{models::Notification, realtime::ConnectionState};

/// How many notifications the header keeps in memory.
pub const LATEST_KEPT: usize = 20;

/// Reactive live state, provided in context by [`provide_live_state`].
#[derive(Clone, Copy)]
pub struct LiveState {
    /// `None` until the browser has its own figure (seeded from the server's
    /// snapshot after hydration, then kept by the socket); views fall back to
    /// the snapshot, so server render and hydration agree.
    pub unread: RwSignal<Option<u64>>,
    pub connection: RwSignal<ConnectionState>,
    /// Newest first; `None` as for `unread`.
    pub latest: RwSignal<Option<Vec<Notification>>>,
    /// Bumped on every `dashboard-refresh`; pages that show data track it.
    pub refresh_tick: RwSignal<u64>,
}

/// Creates the live state and provides it to the component tree.
pub fn provide_live_state() -> LiveState {
    let state = LiveState {
        unread: RwSignal::new(None),
        connection: RwSignal::new(ConnectionState::Connecting),
        latest: RwSignal::new(None),
        refresh_tick: RwSignal::new(0),
    };
    provide_context(state);
    state
}

/// The live state provided by an ancestor.
pub fn use_live_state() -> LiveState {
    expect_context::<LiveState>()
}

impl LiveState {
    /// Takes the server's snapshot as the starting point (browser, after hydration).
    pub fn seed(&self, unread_count: u64, latest: Vec<Notification>) {
        if self.unread.get_untracked().is_none() {
            self.unread.set(Some(unread_count));
        }
        if self.latest.with_untracked(Option::is_none) {
            self.latest.set(Some(latest));
        }
    }

    /// Records a notification announced by the server.
    pub fn push_notification(&self, n: Notification, unread_count: u64) {
        self.unread.set(Some(unread_count));
        self.latest.update(|list| {
            let list = list.get_or_insert_with(Vec::new);
            list.retain(|old| old.id != n.id);
            list.insert(0, n);
            list.truncate(LATEST_KEPT);
        });
    }
}

/// Connects this page to the tenant's room once `tenant_id` is known (browser only).
#[cfg(feature = "hydrate")]
pub fn connect_live(state: LiveState, tenant_id: String) {
    use crate::{
        models::{events, JoinAck, NewNotificationEvent},
        realtime::client::{default_url, ClientEvent, SocketClient},
    };
    use serde_json::{json, Value};

    fn first<T: serde::de::DeserializeOwned>(args: Vec<Value>) -> Option<T> {
        args.into_iter().next().and_then(|v| serde_json::from_value(v).ok())
    }

    let client = SocketClient::connect(default_url(), move |client, event| match event {
        ClientEvent::Connected => {
            state.connection.set(ConnectionState::Connected);
            client.emit_with_ack(events::JOIN_TENANT, vec![json!({ "tenantId": tenant_id })], move |args| {
                if let Some(JoinAck { ok: true, unread_count: Some(n), .. }) = first::<JoinAck>(args) {
                    state.unread.set(Some(n));
                }
            });
        }
        ClientEvent::Disconnected { retry_at_ms } => {
            state.connection.set(ConnectionState::Disconnected { retry_at_ms });
        }
        ClientEvent::Event { name, args } => match name.as_str() {
            events::NEW_NOTIFICATION => {
                if let Some(ev) = first::<NewNotificationEvent>(args) {
                    state.push_notification(ev.notification, ev.unread_count);
                }
            }
            events::DASHBOARD_REFRESH => state.refresh_tick.update(|t| *t += 1),
            _ => {}
        },
    });
    on_cleanup({
        let client = send_wrapper::SendWrapper::new(client);
        move || client.close()
    });
}
