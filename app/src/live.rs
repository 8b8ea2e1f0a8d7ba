//! Live dashboard state: the header's unread count, connection state and the
//! newest notifications, kept current over Socket.IO in the browser.
//!
//! On the server (and before hydration) the state is what the server rendered;
//! in the browser one [`SocketClient`](crate::realtime::client::SocketClient)
//! per page joins the tenant's room and applies every event it receives.

use leptos::prelude::*;

use crate::{
    models::{Notification, NotificationType, Preferences, Priority, Timestamp},
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
    /// Bumped whenever the reader's state of any notification changes (any tab, a snooze waking).
    pub changes: RwSignal<u64>,
    /// Toasts on screen, oldest first.
    pub toasts: RwSignal<Vec<Toast>>,
    /// Whether new notifications raise toasts (`use_notifications` options).
    pub toasts_enabled: RwSignal<bool>,
    /// The reader's preferences: which new notifications interrupt them.
    pub prefs: RwSignal<Preferences>,
    next_toast: StoredValue<u64>,
    /// Whether this page has been live before: a join answered, or (in a tab
    /// that listens to another's connection) that connection up.
    been_live: StoredValue<bool>,
}

/// Creates the live state and provides it to the component tree.
pub fn provide_live_state() -> LiveState {
    let state = LiveState {
        unread: RwSignal::new(None),
        connection: RwSignal::new(ConnectionState::Connecting),
        latest: RwSignal::new(None),
        refresh_tick: RwSignal::new(0),
        arrivals: RwSignal::new(0),
        changes: RwSignal::new(0),
        toasts: RwSignal::new(Vec::new()),
        toasts_enabled: RwSignal::new(true),
        prefs: RwSignal::new(Preferences::default()),
        next_toast: StoredValue::new(0),
        been_live: StoredValue::new(false),
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
    pub fn seed(&self, unread_count: u64, latest: Vec<Notification>, prefs: Preferences) {
        self.prefs.set(prefs);
        if self.unread.get_untracked().is_none() {
            self.unread.set(Some(unread_count));
        }
        if self.latest.with_untracked(Option::is_none) {
            self.latest.set(Some(latest));
        }
    }

    /// Records a notification the server sent with the reader's own count.
    pub fn push_notification(&self, n: Notification, unread_count: u64) {
        self.unread.set(Some(unread_count));
        self.insert(n);
    }

    /// Records a new notification from its one broadcast: with `adds_one` (a
    /// tenant-wide one reaching a user, whose count the broadcast cannot
    /// carry) it adds one to the reader's count, once; otherwise the
    /// announced count is the reader's.
    pub fn arrive(&self, n: Notification, announced: u64, adds_one: bool) {
        if !adds_one {
            return self.push_notification(n, announced);
        }
        let known = self.latest.with_untracked(|l| l.iter().flatten().any(|old| old.id == n.id));
        if !known {
            self.unread.update(|u| *u = u.map(|c| c + 1));
        }
        self.insert(n);
    }

    fn insert(&self, n: Notification) {
        self.arrivals.update(|a| *a += 1);
        self.latest.update(|list| {
            let list = list.get_or_insert_with(Vec::new);
            list.retain(|old| old.id != n.id);
            list.insert(0, n);
            list.truncate(LATEST_KEPT);
        });
    }

    /// Replaces a notification whose state changed (read, dismissed).
    pub fn update_notification(&self, n: Notification) {
        self.changes.update(|c| *c += 1);
        self.latest.update(|list| {
            if let Some(old) = list.as_mut().and_then(|l| l.iter_mut().find(|old| old.id == n.id)) {
                *old = n;
            }
        });
    }

    /// Marks read everything the reader has (their mark-all-read, in any tab).
    pub fn mark_all_read(&self, read_at: Timestamp) {
        self.changes.update(|c| *c += 1);
        self.latest.update(|list| {
            for n in list.iter_mut().flatten().filter(|n| !n.is_read) {
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

    /// The toast of a new notification, when toasts are on and the reader's
    /// preferences let it interrupt.
    pub fn toast_notification(&self, n: &Notification) {
        if self.toasts_enabled.get_untracked() && self.prefs.with_untracked(|p| p.interrupts(n)) {
            let sticky = matches!(n.priority, Priority::High | Priority::Urgent);
            self.toast(n.title.clone(), n.message.clone(), n.kind, sticky);
        }
    }

    /// Notes that a join was answered: whether it was a rejoin (the page had
    /// been live before, and may have missed changes of the data it shows).
    pub fn rejoined(&self) -> bool {
        let before = self.been_live.get_value();
        self.been_live.set_value(true);
        before
    }

    /// Notes that the connection this tab listens to is up.
    pub fn went_live(&self) {
        self.been_live.set_value(true);
    }

    /// The newest notification this page has, for a rejoin to say what it saw.
    pub fn newest_id(&self) -> Option<String> {
        self.latest.with_untracked(|l| l.as_ref().and_then(|l| l.first()).map(|n| n.id.to_string()))
    }
}

/// Connects this page to the tenant's live events once `tenant_id` is known
/// (browser only): through the tab of this browser that holds the shared
/// connection (see [`crate::realtime::shared`]), or on its own connection
/// where the browser cannot share one.
///
/// Every (re)join names the newest notification the page has; the ack brings
/// the reader's unread count and what was missed meanwhile (or says to
/// refetch). Events about the reader's own state carry their count; a new
/// tenant-wide notification, one broadcast to everyone, is unread for every
/// reader, so a signed-in user (`personal`) adds one to their own count.
#[cfg(feature = "hydrate")]
pub fn connect_live(state: LiveState, tenant_id: String, reader: Option<String>) {
    use std::{cell::Cell, rc::Rc};

    use crate::realtime::shared::{Relayed, Shared};

    let personal = reader.is_some();
    let Some(shared) = Shared::open(&tenant_id, reader.as_deref()) else {
        hold_connection(state, tenant_id, personal, None);
        return;
    };
    let shared = Rc::new(shared);
    let holding = Rc::new(Cell::new(false));
    // Whether the holder has said anything yet: its first word, whatever it is, makes this
    // tab fetch what happened between its server render and its listening.
    let heard = Rc::new(Cell::new(false));
    {
        let (shared, holding) = (shared.clone(), holding.clone());
        let listener = shared.clone();
        listener.listen(move |msg| {
            if !holding.get() && !matches!(msg, Relayed::Hello) && !heard.replace(true) {
                refresh_snapshot(state);
            }
            apply_relayed(state, personal, &shared, holding.get(), msg);
        });
    }
    shared.post(&Relayed::Hello);
    let relay = shared.clone();
    shared.when_holding(move || {
        holding.set(true);
        hold_connection(state, tenant_id, personal, Some(relay));
    });
}

/// What another tab posted: the holder answers a new tab's hello; the others apply the rest.
#[cfg(feature = "hydrate")]
fn apply_relayed(
    state: LiveState,
    personal: bool,
    shared: &crate::realtime::shared::Shared,
    holding: bool,
    msg: crate::realtime::shared::Relayed,
) {
    use crate::realtime::shared::Relayed;
    match msg {
        Relayed::Hello if holding => shared.post(&match state.connection.get_untracked() {
            ConnectionState::Connected => Relayed::Connected,
            ConnectionState::Disconnected { retry_at_ms } => Relayed::Disconnected { retry_at_ms },
            ConnectionState::Connecting => return,
        }),
        _ if holding => {}
        Relayed::Event { name, args } => on_event(state, personal, &name, args),
        Relayed::Ack { ack } => {
            if let Ok(ack) = serde_json::from_value(ack) {
                on_ack(state, ack);
            }
        }
        Relayed::Connected => {
            on_connected(state);
            state.went_live();
        }
        Relayed::Disconnected { retry_at_ms } => on_disconnected(state, retry_at_ms),
        Relayed::Hello => {}
    }
}

/// This tab's own connection, telling the other tabs (`relay`) what it hears.
#[cfg(feature = "hydrate")]
fn hold_connection(
    state: LiveState,
    tenant_id: String,
    personal: bool,
    relay: Option<std::rc::Rc<crate::realtime::shared::Shared>>,
) {
    use crate::{
        models::events,
        realtime::{
            client::{default_url, ClientEvent, SocketClient},
            shared::Relayed,
        },
    };
    use serde_json::{json, Value};

    fn join(
        client: &SocketClient,
        state: LiveState,
        tenant_id: &str,
        relay: Option<std::rc::Rc<crate::realtime::shared::Shared>>,
    ) {
        let mut payload = json!({ "tenantId": tenant_id });
        if let Some(last) = state.newest_id() {
            payload["lastSeenId"] = json!(last);
        }
        client.emit_with_ack(events::JOIN_TENANT, vec![payload], move |args: Vec<Value>| {
            let Some(ack) = args.into_iter().next() else { return };
            if let Some(relay) = &relay {
                relay.post(&Relayed::Ack { ack: ack.clone() });
            }
            if let Ok(ack) = serde_json::from_value(ack) {
                on_ack(state, ack);
            }
        });
    }

    let tell = relay.clone();
    let client = SocketClient::connect(default_url(), move |client, event| {
        let post = |msg: Relayed| {
            if let Some(relay) = &tell {
                relay.post(&msg);
            }
        };
        match event {
            ClientEvent::Connected => {
                on_connected(state);
                post(Relayed::Connected);
                join(client, state, &tenant_id, tell.clone());
            }
            ClientEvent::Disconnected { retry_at_ms } => {
                on_disconnected(state, retry_at_ms);
                post(Relayed::Disconnected { retry_at_ms });
            }
            ClientEvent::Event { name, args } => {
                post(Relayed::Event { name: name.clone(), args: args.clone() });
                on_event(state, personal, &name, args);
            }
        }
    });
    on_cleanup({
        let client = send_wrapper::SendWrapper::new(client);
        move || client.close()
    });
}

#[cfg(feature = "hydrate")]
fn on_connected(state: LiveState) {
    if matches!(state.connection.get_untracked(), ConnectionState::Disconnected { .. }) {
        let back = "Live updates are back; what was missed has been fetched.".to_owned();
        state.toast("Connection restored".into(), back, NotificationType::Success, false);
    }
    state.connection.set(ConnectionState::Connected);
}

#[cfg(feature = "hydrate")]
fn on_disconnected(state: LiveState, retry_at_ms: f64) {
    if state.connection.get_untracked() == ConnectionState::Connected {
        let lost = "Live updates are paused; reconnecting automatically.".to_owned();
        state.toast("Connection lost".into(), lost, NotificationType::Warning, false);
    }
    state.connection.set(ConnectionState::Disconnected { retry_at_ms });
}

/// The answer to a join: the reader's count, what was missed, or "refetch";
/// after a rejoin, the page's data fetched again (its changes are not replayed).
#[cfg(feature = "hydrate")]
fn on_ack(state: LiveState, ack: crate::models::JoinAck) {
    let crate::models::JoinAck { ok: true, unread_count, missed, refetch, .. } = ack else {
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
        refresh_snapshot(state);
    }
    // Only notifications are replayed: a `dashboard-refresh` sent while this page was away was
    // not heard, so after a rejoin the pages showing data fetch it again.
    if state.rejoined() {
        state.refresh_tick.update(|t| *t += 1);
    }
}

/// Takes the server's snapshot of the bell anew (again if events came while
/// it was fetched: the snapshot may predate them).
#[cfg(feature = "hydrate")]
fn refresh_snapshot(state: LiveState) {
    leptos::task::spawn_local(async move {
        for _ in 0..3 {
            let seen = (state.arrivals.get_untracked(), state.changes.get_untracked());
            let Ok(snapshot) = crate::api::get_bell_state().await else { return };
            if seen == (state.arrivals.get_untracked(), state.changes.get_untracked()) {
                state.latest.set(Some(snapshot.latest));
                state.unread.set(Some(snapshot.unread_count));
                return;
            }
        }
    });
}

/// A server event, heard on this tab's connection or relayed by the holder's.
#[cfg(feature = "hydrate")]
fn on_event(state: LiveState, personal: bool, name: &str, args: Vec<serde_json::Value>) {
    use crate::models::{
        events, NewNotificationEvent, NotificationUpdatedEvent, NotificationsMarkedReadEvent, Preferences,
    };

    fn first<T: serde::de::DeserializeOwned>(args: Vec<serde_json::Value>) -> Option<T> {
        args.into_iter().next().and_then(|v| serde_json::from_value(v).ok())
    }

    match name {
        events::NEW_NOTIFICATION => {
            if let Some(ev) = first::<NewNotificationEvent>(args) {
                state.toast_notification(&ev.notification);
                state.prefs.with_untracked(|p| crate::desktop::notify(p, &ev.notification));
                let adds_one = personal && ev.notification.user_id.is_none();
                state.arrive(ev.notification, ev.unread_count, adds_one);
            }
        }
        events::NOTIFICATION_UPDATED => {
            if let Some(ev) = first::<NotificationUpdatedEvent>(args) {
                state.update_notification(ev.notification);
                state.unread.set(Some(ev.unread_count));
            }
        }
        events::NOTIFICATIONS_MARKED_READ => {
            if let Some(ev) = first::<NotificationsMarkedReadEvent>(args) {
                state.mark_all_read(ev.read_at);
                state.unread.set(Some(ev.unread_count));
            }
        }
        events::PREFERENCES_UPDATED => {
            if let Some(prefs) = first::<Preferences>(args) {
                state.prefs.set(prefs);
            }
        }
        events::DASHBOARD_REFRESH => state.refresh_tick.update(|t| *t += 1),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{NotificationId, Priority, Timestamp};

    fn note(id: &str, user: Option<&str>) -> Notification {
        Notification {
            user_id: user.map(Into::into),
            title: id.into(),
            message: "m".into(),
            priority: Priority::Low,
            ..Notification::fresh(id.into(), "t".into(), Timestamp::from_unix_millis(1_767_225_600_000))
        }
    }

    #[test]
    fn only_a_rejoin_asks_for_the_pages_data_again() {
        let owner = Owner::new();
        owner.set();
        let state = provide_live_state();
        assert!(!state.rejoined(), "the first join: the data is as the server rendered it");
        assert!(state.rejoined(), "after a gap, changes may have been missed");
        let listener = provide_live_state();
        listener.went_live();
        assert!(listener.rejoined(), "a tab that listened through another's connection takes over after a gap");
    }

    #[test]
    fn a_tenant_wide_arrival_adds_one_to_a_users_count_once() {
        let owner = Owner::new();
        owner.set();
        let state = provide_live_state();
        state.seed(3, vec![note("b", None), note("a", None)], Preferences::default());
        // The broadcast carries the tenant's own count (7): a user's bell adds one instead.
        state.arrive(note("c", None), 7, true);
        state.arrive(note("c", None), 7, true);
        assert_eq!(state.unread.get_untracked(), Some(4));
        // A personal one carries the user's own count.
        state.arrive(note("d", Some("ada")), 9, false);
        assert_eq!(state.unread.get_untracked(), Some(9));
        state.mark_all_read(Timestamp::from_unix_millis(2));
        assert!(state.latest.get_untracked().unwrap().iter().all(|n| n.is_read));
        assert_eq!(state.newest_id().as_deref(), Some("d"));
    }

    #[test]
    fn preferences_silence_toasts_but_not_the_inbox() {
        let owner = Owner::new();
        owner.set();
        let state = provide_live_state();
        let quiet = Preferences { toast_min_priority: Priority::High, ..Default::default() };
        state.seed(0, vec![], quiet);
        state.toast_notification(&note("a", None));
        assert!(state.toasts.get_untracked().is_empty());
        state.arrive(note("a", None), 1, true);
        assert_eq!(state.unread.get_untracked(), Some(1));
        let mut loud = note("b", None);
        loud.priority = Priority::Urgent;
        state.toast_notification(&loud);
        assert_eq!(state.toasts.get_untracked().len(), 1);
    }

    #[test]
    fn updates_replace_in_place_and_pushes_go_on_top_once() {
        let owner = Owner::new();
        owner.set();
        let state = provide_live_state();
        state.seed(1, vec![note("a", None)], Preferences::default());
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
