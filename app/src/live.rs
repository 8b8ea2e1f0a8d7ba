//! Live dashboard state: the header's unread count, connection state and the
//! newest notifications, kept current over Socket.IO in the browser.
//!
//! On the server (and before hydration) the state is what the server rendered;
//! in the browser one [`SocketClient`](crate::realtime::client::SocketClient)
//! per page joins the tenant's room and applies every event it receives.

use leptos::prelude::*;

use crate::{
    models::{Notification, NotificationType, Priority, Timestamp},
    realtime::ConnectionState,
};

/// How many notifications the header keeps in memory.
pub const LATEST_KEPT: usize = 20;

/// How long a routine toast stays.
pub const TOAST_MS: u64 = 5_000;

/// At most this many toasts at once; the oldest goes first.
pub const TOASTS_KEPT: usize = 5;

/// A toast: a new notification, or a change of the connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub title: String,
    pub message: String,
    pub kind: NotificationType,
    /// Stays until closed (high and urgent notifications).
    pub sticky: bool,
}

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
    /// Bumped for every notification the socket brings (not for the snapshot).
    pub arrivals: RwSignal<u64>,
    /// Toasts on screen, oldest first.
    pub toasts: RwSignal<Vec<Toast>>,
    /// Whether new notifications raise toasts (`use_notifications` options).
    pub toasts_enabled: RwSignal<bool>,
    next_toast: StoredValue<u64>,
}

/// Creates the live state and provides it to the component tree.
pub fn provide_live_state() -> LiveState {
    let state = LiveState {
        unread: RwSignal::new(None),
        connection: RwSignal::new(ConnectionState::Connecting),
        latest: RwSignal::new(None),
        refresh_tick: RwSignal::new(0),
        arrivals: RwSignal::new(0),
        toasts: RwSignal::new(Vec::new()),
        toasts_enabled: RwSignal::new(true),
        next_toast: StoredValue::new(0),
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
        self.arrivals.update(|a| *a += 1);
        self.unread.set(Some(unread_count));
        self.latest.update(|list| {
            let list = list.get_or_insert_with(Vec::new);
            list.retain(|old| old.id != n.id);
            list.insert(0, n);
            list.truncate(LATEST_KEPT);
        });
    }

    /// Replaces a notification whose state changed (read, dismissed).
    pub fn update_notification(&self, n: Notification) {
        self.latest.update(|list| {
            if let Some(old) = list.as_mut().and_then(|l| l.iter_mut().find(|old| old.id == n.id)) {
                *old = n;
            }
        });
    }

    /// Marks read what a mark-all-read of `by` (a user, or tenant-wide) covered:
    /// tenant-wide notifications, and that user's own.
    pub fn mark_all_read(&self, read_at: Timestamp, by: Option<&str>) {
        self.latest.update(|list| {
            let covered = |n: &Notification| n.user_id.is_none() || n.user_id.as_deref() == by;
            for n in list.iter_mut().flatten().filter(|n| !n.is_read && covered(n)) {
                n.is_read = true;
                n.read_at = Some(read_at);
            }
        });
    }

    /// Shows a toast; a routine one leaves after [`TOAST_MS`] (browser).
    pub fn toast(&self, title: String, message: String, kind: NotificationType, sticky: bool) -> u64 {
        let id = self.next_toast.get_value() + 1;
        self.next_toast.set_value(id);
        self.toasts.update(|list| {
            list.push(Toast { id, title, message, kind, sticky });
            if list.len() > TOASTS_KEPT {
                list.remove(0);
            }
        });
        #[cfg(feature = "hydrate")]
        if !sticky {
            let state = *self;
            set_timeout(move || state.close_toast(id), std::time::Duration::from_millis(TOAST_MS));
        }
        id
    }

    /// Removes a toast.
    pub fn close_toast(&self, id: u64) {
        self.toasts.update(|list| list.retain(|t| t.id != id));
    }

    /// The toast of a new notification, when toasts are on.
    pub fn toast_notification(&self, n: &Notification) {
        if self.toasts_enabled.get_untracked() {
            let sticky = matches!(n.priority, Priority::High | Priority::Urgent);
            self.toast(n.title.clone(), n.message.clone(), n.kind, sticky);
        }
    }

    /// The newest notification this page has, for a rejoin to say what it saw.
    pub fn newest_id(&self) -> Option<String> {
        self.latest.with_untracked(|l| l.as_ref().and_then(|l| l.first()).map(|n| n.id.to_string()))
    }
}

/// Connects this page to the tenant's room once `tenant_id` is known (browser only).
///
/// Every (re)join names the newest notification the page has; the ack brings
/// the viewer's unread count and what was missed meanwhile (or says to
/// refetch). Events about tenant-wide notifications carry the tenant-wide
/// count; a signed-in user (`personal`), who may also have personal ones,
/// asks for their own count again by rejoining.
#[cfg(feature = "hydrate")]
pub fn connect_live(state: LiveState, tenant_id: String, personal: bool) {
    use crate::{
        models::{events, JoinAck, NewNotificationEvent, NotificationUpdatedEvent, NotificationsMarkedReadEvent},
        realtime::client::{default_url, ClientEvent, SocketClient},
    };
    use serde_json::{json, Value};

    fn first<T: serde::de::DeserializeOwned>(args: Vec<Value>) -> Option<T> {
        args.into_iter().next().and_then(|v| serde_json::from_value(v).ok())
    }

    fn join(client: &SocketClient, state: LiveState, tenant_id: &str) {
        let mut payload = json!({ "tenantId": tenant_id });
        if let Some(last) = state.newest_id() {
            payload["lastSeenId"] = json!(last);
        }
        client.emit_with_ack(events::JOIN_TENANT, vec![payload], move |args| {
            let Some(JoinAck { ok: true, unread_count, missed, refetch, .. }) = first::<JoinAck>(args) else {
                return;
            };
            if let Some(n) = unread_count {
                for missed in missed.into_iter().flatten().rev() {
                    state.push_notification(missed, n);
                }
                state.unread.set(Some(n));
            }
            if refetch == Some(true) {
                // Too much was missed for the ack: take a fresh snapshot.
                leptos::task::spawn_local(async move {
                    if let Ok(snapshot) = crate::api::get_bell_state().await {
                        state.latest.set(Some(snapshot.latest));
                        state.unread.set(Some(snapshot.unread_count));
                    }
                });
                state.refresh_tick.update(|t| *t += 1);
            }
        });
    }

    let client = SocketClient::connect(default_url(), move |client, event| match event {
        ClientEvent::Connected => {
            if matches!(state.connection.get_untracked(), ConnectionState::Disconnected { .. }) {
                let back = "Live updates are back; what was missed has been fetched.".to_owned();
                state.toast("Connection restored".into(), back, NotificationType::Success, false);
            }
            state.connection.set(ConnectionState::Connected);
            join(client, state, &tenant_id);
        }
        ClientEvent::Disconnected { retry_at_ms } => {
            if state.connection.get_untracked() == ConnectionState::Connected {
                let lost = "Live updates are paused; reconnecting automatically.".to_owned();
                state.toast("Connection lost".into(), lost, NotificationType::Warning, false);
            }
            state.connection.set(ConnectionState::Disconnected { retry_at_ms });
        }
        ClientEvent::Event { name, args } => match name.as_str() {
            events::NEW_NOTIFICATION => {
                if let Some(ev) = first::<NewNotificationEvent>(args) {
                    let tenant_wide = ev.notification.user_id.is_none();
                    state.toast_notification(&ev.notification);
                    state.push_notification(ev.notification, ev.unread_count);
                    if personal && tenant_wide {
                        join(client, state, &tenant_id);
                    }
                }
            }
            events::NOTIFICATION_UPDATED => {
                if let Some(ev) = first::<NotificationUpdatedEvent>(args) {
                    let tenant_wide = ev.notification.user_id.is_none();
                    state.update_notification(ev.notification);
                    if personal && tenant_wide {
                        join(client, state, &tenant_id);
                    } else {
                        state.unread.set(Some(ev.unread_count));
                    }
                }
            }
            events::NOTIFICATIONS_MARKED_READ => {
                if let Some(ev) = first::<NotificationsMarkedReadEvent>(args) {
                    state.mark_all_read(ev.read_at, ev.user_id.as_deref());
                    if personal {
                        join(client, state, &tenant_id);
                    } else {
                        state.unread.set(Some(ev.unread_count));
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{NotificationId, NotificationType, Priority, Timestamp};

    fn note(id: &str, user: Option<&str>) -> Notification {
        Notification {
            id: id.into(),
            tenant_id: "t".into(),
            user_id: user.map(Into::into),
            title: id.into(),
            message: "m".into(),
            kind: NotificationType::Info,
            priority: Priority::Low,
            action_url: None,
            action_text: None,
            metadata: serde_json::Value::Null,
            is_read: false,
            is_dismissed: false,
            read_at: None,
            delivered_at: None,
            created_at: Timestamp::from_unix_millis(1_767_225_600_000),
            snoozed_until: None,
        }
    }

    #[test]
    fn another_users_mark_all_read_leaves_my_own_unread() {
        let owner = Owner::new();
        owner.set();
        let state = provide_live_state();
        state.seed(3, vec![note("c", Some("ada")), note("b", None), note("a", None)]);
        state.mark_all_read(Timestamp::from_unix_millis(1), Some("bo"));
        let read: Vec<bool> = state.latest.get_untracked().unwrap().iter().map(|n| n.is_read).collect();
        assert_eq!(read, vec![false, true, true]);
        state.mark_all_read(Timestamp::from_unix_millis(2), Some("ada"));
        assert!(state.latest.get_untracked().unwrap().iter().all(|n| n.is_read));
        assert_eq!(state.newest_id().as_deref(), Some("c"));
    }

    #[test]
    fn updates_replace_in_place_and_pushes_go_on_top_once() {
        let owner = Owner::new();
        owner.set();
        let state = provide_live_state();
        state.seed(1, vec![note("a", None)]);
        let mut read = note("a", None);
        read.is_read = true;
        state.update_notification(read);
        assert!(state.latest.get_untracked().unwrap()[0].is_read);
        state.push_notification(note("b", None), 1);
        state.push_notification(note("b", None), 1);
        let ids: Vec<NotificationId> = state.latest.get_untracked().unwrap().into_iter().map(|n| n.id).collect();
        assert_eq!(ids, vec!["b", "a"]);
        assert_eq!(state.unread.get_untracked(), Some(1));
    }
}
