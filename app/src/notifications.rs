//! `use_notifications`: the bell's state and actions for any component — the
//! visible notifications, the unread count, the connection state, and
//! mark read / dismiss / mark all read — as the seed's frontend hook offers,
//! plus snooze and the priority the badge shows.
//!
//! The state is the page's [`LiveState`](crate::live::LiveState), kept current
//! by the socket; until the browser has its own figures, the server's
//! snapshot (the `BellResource`) stands in, so server render and hydration
//! agree. Actions call server functions, which run the same service-layer
//! operations as the REST API and announce the change to every tab.

use leptos::prelude::*;

use crate::{
    live::{use_live_state, LiveState},
    models::{Notification, Priority},
    realtime::ConnectionState,
    BellResource,
};

/// Options of [`use_notifications`].
#[derive(Debug, Clone, Copy)]
pub struct UseNotificationsOptions {
    /// Show a toast for each new notification (connection toasts always show).
    pub show_toasts: bool,
}

impl Default for UseNotificationsOptions {
    fn default() -> Self {
        UseNotificationsOptions { show_toasts: true }
    }
}

/// What [`use_notifications`] gives a component.
#[derive(Clone, Copy)]
pub struct Notifications {
    /// Newest first, without dismissed or snoozed ones.
    pub list: Signal<Vec<Notification>>,
    pub unread: Signal<u64>,
    /// The highest priority among the unread ones listed (the badge's colour).
    pub top_priority: Signal<Option<Priority>>,
    pub connection: Signal<ConnectionState>,
    /// The last action's failure, for the view to show.
    pub error: RwSignal<Option<String>>,
    pub mark_read: Callback<String>,
    pub dismiss: Callback<String>,
    pub mark_all_read: Callback<()>,
    /// Snoozes a notification until an RFC 3339 time (`None` wakes it).
    pub snooze: Callback<(String, Option<String>)>,
}

/// The bell's state and actions (see the module documentation).
pub fn use_notifications(options: UseNotificationsOptions) -> Notifications {
    let live = use_live_state();
    live.toasts_enabled.set(options.show_toasts);
    let bell = use_context::<BellResource>();
    let snapshot = move || bell.and_then(|b| b.get()).and_then(Result::ok);
    let list = Signal::derive(move || {
        let all = live.latest.get().unwrap_or_else(|| snapshot().map(|s| s.latest).unwrap_or_default());
        all.into_iter().filter(|n| !n.is_dismissed && n.snoozed_until.is_none()).collect::<Vec<_>>()
    });
    let top_priority = Signal::derive(move || list.with(|l: &Vec<Notification>| top_unread_priority(l)));
    let unread = Signal::derive(move || live.unread.get().unwrap_or_else(|| snapshot().map_or(0, |s| s.unread_count)));
    let error = RwSignal::new(None);
    // The answer to one of the caller's changes: shown at once (the event follows for other tabs).
    let answered = move |answer: Result<crate::models::NotificationUpdatedEvent, crate::api::FnError>| match answer {
        Ok(ev) => {
            error.set(None);
            apply_update(live, ev);
        }
        Err(e) => error.set(Some(crate::pages::error_text(&e))),
    };
    let change = move |id: String, is_read: Option<bool>, is_dismissed: Option<bool>| {
        leptos::task::spawn_local(
            async move { answered(crate::api::update_notification(id, is_read, is_dismissed).await) },
        );
    };
    let snooze = Callback::new(move |(id, until): (String, Option<String>)| {
        leptos::task::spawn_local(async move { answered(crate::api::snooze_notification(id, until).await) });
    });
    Notifications {
        list,
        unread,
        top_priority,
        snooze,
        connection: live.connection.into(),
        error,
        mark_read: Callback::new(move |id: String| change(id, Some(true), None)),
        dismiss: Callback::new(move |id: String| change(id, None, Some(true))),
        mark_all_read: Callback::new(move |()| {
            leptos::task::spawn_local(async move {
                match crate::api::mark_all_read().await {
                    Ok(done) => {
                        error.set(None);
                        live.mark_all_read(done.read_at);
                        live.unread.set(Some(done.unread_count));
                    }
                    Err(e) => error.set(Some(crate::pages::error_text(&e))),
                }
            });
        }),
    }
}

/// The caller's view after their own change (the socket event follows for other tabs).
fn apply_update(live: LiveState, ev: crate::models::NotificationUpdatedEvent) {
    live.update_notification(ev.notification);
    live.unread.set(Some(ev.unread_count));
}

/// The highest priority of the unread notifications in `list` (the bell's, which holds
/// neither dismissed nor snoozed ones).
pub fn top_unread_priority(list: &[Notification]) -> Option<Priority> {
    list.iter().filter(|n| !n.is_read).map(|n| n.priority).max()
}
