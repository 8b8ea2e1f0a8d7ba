//! The notification bell: the icon with its unread badge, and a dropdown of
//! the latest notifications (type, priority, relative time, action link;
//! mark read, dismiss, mark all read). Keyboard: the bell is a button, Escape
//! closes the panel and returns focus to it.

use leptos::{html, prelude::*};

use super::icons::BellIcon;
use crate::{
    models::{Notification, NotificationType, Priority},
    notifications::{use_notifications, Notifications, UseNotificationsOptions},
};

/// Badge text: the count, `99+` above 99, nothing at zero.
pub fn badge_text(count: u64) -> Option<String> {
    match count {
        0 => None,
        1..=99 => Some(count.to_string()),
        _ => Some("99+".to_owned()),
    }
}

/// "just now", "5 min ago", "3 h ago", "2 d ago" for a time `age_ms` old.
pub fn relative_time(age_ms: f64) -> String {
    let secs = (age_ms / 1000.0).max(0.0) as u64;
    match secs {
        0..=44 => "just now".to_owned(),
        45..=3_599 => format!("{} min ago", (secs + 30) / 60),
        3_600..=86_399 => format!("{} h ago", secs / 3_600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// The icon of a notification type (the colour comes from the stylesheet).
pub fn type_icon(kind: NotificationType) -> &'static str {
    match kind {
        NotificationType::Info => "i",
        NotificationType::Success => "✓",
        NotificationType::Warning => "!",
        NotificationType::Error => "×",
    }
}

/// The bell's snooze choices: (choice, label).
const SNOOZES: [(&str, &str); 3] = [("hour", "1 hour"), ("tomorrow", "Tomorrow morning"), ("week", "Next week")];

/// When a snooze choice ends, in the browser's own time zone (RFC 3339):
/// an hour from now, 9:00 tomorrow, or 9:00 next Monday.
fn snooze_until(choice: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let d = js_sys::Date::new_0();
        match choice {
            "hour" => d.set_time(d.get_time() + 3_600_000.0),
            "tomorrow" | "week" => {
                let days = if choice == "tomorrow" { 1 } else { (8 - d.get_day()) % 7 };
                let days = if days == 0 { 7 } else { days };
                d.set_date(d.get_date() + days);
                d.set_hours(9);
                d.set_minutes(0);
                d.set_seconds(0);
                d.set_milliseconds(0);
                0.0
            }
            _ => return None,
        };
        Some(String::from(d.to_iso_string()))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = choice;
        None
    }
}

/// The bell and its dropdown, on [`use_notifications`].
#[component]
pub fn NotificationBell() -> impl IntoView {
    let n = use_notifications(UseNotificationsOptions::default());
    let open = RwSignal::new(false);
    let button = NodeRef::<html::Button>::new();
    let count = n.unread;
    let top = n.top_priority;
    let label = move || match count.get() {
        0 => "Notifications, none unread".to_owned(),
        1 => "Notifications, 1 unread".to_owned(),
        c => format!("Notifications, {c} unread"),
    };
    let wrap = NodeRef::<html::Div>::new();
    #[cfg(feature = "hydrate")]
    close_from_outside(open, wrap, button);
    view! {
        <div class="bell-wrap" node_ref=wrap>
            <button type="button" class="bell" data-testid="bell" node_ref=button aria-label=label
                aria-haspopup="true" aria-controls="bell-panel" aria-expanded=move || open.get().to_string()
                data-count=move || count.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
                <BellIcon/>
                {move || badge_text(count.get()).map(|text| view! {
                    <span class=move || format!("bell-badge badge-{}", top.get().map_or("none", Priority::as_str))
                        data-testid="bell-count" data-priority=move || top.get().map_or("none", Priority::as_str)
                        aria-hidden="true">{text}</span>
                })}
            </button>
            <Show when=move || open.get()>
                <BellPanel n=n/>
            </Show>
        </div>
    }
    .into_any()
}

/// Escape anywhere closes the open panel and gives focus back to the bell (the
/// focused button may have just been disabled); a press outside closes it too.
#[cfg(feature = "hydrate")]
fn close_from_outside(open: RwSignal<bool>, wrap: NodeRef<html::Div>, button: NodeRef<html::Button>) {
    use wasm_bindgen::JsCast;

    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" && open.get_untracked() {
            ev.prevent_default();
            open.set(false);
            if let Some(b) = button.get_untracked() {
                let _ = b.focus();
            }
        }
    });
    let presses = window_event_listener(leptos::ev::pointerdown, move |ev| {
        if !open.get_untracked() {
            return;
        }
        let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
        let inside = wrap.get_untracked().is_some_and(|w| w.contains(target.as_ref()));
        if !inside {
            open.set(false);
        }
    });
    on_cleanup(move || {
        keys.remove();
        presses.remove();
    });
}

#[component]
fn BellPanel(n: Notifications) -> impl IntoView {
    let Notifications { list, unread, error, mark_all_read, .. } = n;
    view! {
        <section id="bell-panel" class="bell-panel" data-testid="bell-panel" aria-label="Notifications">
            <header class="bell-panel-head">
                <h2>"Notifications"</h2>
                <button type="button" class="link-button" disabled=move || unread.get() == 0
                    on:click=move |_| mark_all_read.run(())>"Mark all as read"</button>
            </header>
            {move || error.get().map(|e| view! { <p class="bell-error" role="alert">{e}</p> })}
            <ul class="bell-list">
                <For each=move || list.get() key=|x| (x.id.clone(), x.is_read) let:item>
                    <BellItem item=item n=n/>
                </For>
            </ul>
            <Show when=move || list.with(Vec::is_empty)>
                <div class="empty bell-empty" data-testid="bell-empty">
                    <p class="empty-title">"You're all caught up"</p>
                    <p>"New notifications appear here the moment a webhook arrives."</p>
                </div>
            </Show>
            <a class="bell-all" href="/notifications">"View all notifications"</a>
        </section>
    }
    // Type erasure keeps the view's type shallow enough for release builds.
    .into_any()
}

#[component]
fn BellItem(item: Notification, n: Notifications) -> impl IntoView {
    let Notification { id, title, message, kind, priority, action_url, action_text, is_read, created_at, .. } = item;
    let id = id.into_string();
    let (read_id, dismiss_id, link_id, snooze_id) = (id.clone(), id.clone(), id.clone(), id);
    let snoozing = RwSignal::new(false);
    let loud = matches!(priority, Priority::High | Priority::Urgent);
    let link = action_url.map(|url| {
        let text = action_text.unwrap_or_else(|| "Open".to_owned());
        view! {
            <a class="bell-action" href=url on:click=move |_| {
                if !is_read {
                    n.mark_read.run(link_id.clone());
                }
            }>{text}</a>
        }
    });
    view! {
        <li class=format!("bell-item type-{}", kind.as_str()) class:unread=!is_read data-testid="bell-item"
            data-type=kind.as_str() data-priority=priority.as_str() data-read=is_read.to_string()>
            <span class=format!("type-icon type-icon-{}", kind.as_str()) aria-hidden="true">{type_icon(kind)}</span>
            <div class="bell-item-body">
                <p class="bell-item-title">
                    {title}
                    {loud.then(|| view! { <span class=format!("priority priority-{}", priority.as_str())>{priority.as_str()}</span> })}
                </p>
                <p class="bell-item-message">{message}</p>
                <p class="bell-item-meta">
                    <time data-testid="bell-item-time" datetime=created_at.to_string()>{super::time::when(created_at)}</time>
                    {link}
                </p>
            </div>
            <div class="bell-item-actions">
                {(!is_read).then(|| view! {
                    <button type="button" class="chip" on:click=move |_| n.mark_read.run(read_id.clone())>"Mark read"</button>
                })}
                <button type="button" class="chip" on:click=move |_| n.dismiss.run(dismiss_id.clone())>"Dismiss"</button>
                <button type="button" class="chip" data-testid="snooze" aria-expanded=move || snoozing.get().to_string()
                    on:click=move |_| snoozing.update(|s| *s = !*s)>"Snooze"</button>
                <Show when=move || snoozing.get()>
                    <div class="snooze-menu" role="menu" data-testid="snooze-menu">
                        {SNOOZES.iter().map(|(choice, text)| {
                            let id = snooze_id.clone();
                            view! {
                                <button type="button" role="menuitem" class="chip" data-testid=format!("snooze-{choice}")
                                    on:click=move |_| n.snooze.run((id.clone(), snooze_until(choice)))>{*text}</button>
                            }
                        }).collect_view()}
                    </div>
                </Show>
            </div>
        </li>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badge_caps_at_99() {
        assert_eq!(badge_text(0), None);
        assert_eq!(badge_text(1).as_deref(), Some("1"));
        assert_eq!(badge_text(99).as_deref(), Some("99"));
        assert_eq!(badge_text(100).as_deref(), Some("99+"));
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative_time(-5_000.0), "just now");
        assert_eq!(relative_time(10_000.0), "just now");
        assert_eq!(relative_time(50_000.0), "1 min ago");
        assert_eq!(relative_time(5.0 * 60_000.0), "5 min ago");
        assert_eq!(relative_time(3.0 * 3_600_000.0), "3 h ago");
        assert_eq!(relative_time(49.0 * 3_600_000.0), "2 d ago");
    }
}
