//! The notification bell: an icon with the unread-count badge.

use leptos::prelude::*;

use super::icons::BellIcon;

/// Badge text: the count, `99+` above 99, nothing at zero.
pub fn badge_text(count: u64) -> Option<String> {
    match count {
        0 => None,
        1..=99 => Some(count.to_string()),
        _ => Some("99+".to_owned()),
    }
}

/// The bell with its badge; `count` is the tenant's unread notifications.
#[component]
pub fn NotificationBell(#[prop(into)] count: Signal<u64>) -> impl IntoView {
    let label = move || match count.get() {
        0 => "Notifications, none unread".to_owned(),
        1 => "Notifications, 1 unread".to_owned(),
        n => format!("Notifications, {n} unread"),
    };
    view! {
        <button type="button" class="bell" data-testid="bell" aria-label=label data-count=move || count.get().to_string()>
            <BellIcon/>
            {move || badge_text(count.get()).map(|text| view! {
                <span class="bell-badge" data-testid="bell-count" aria-hidden="true">{text}</span>
            })}
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::badge_text;

    #[test]
    fn badge_caps_at_99() {
        assert_eq!(badge_text(0), None);
        assert_eq!(badge_text(1).as_deref(), Some("1"));
        assert_eq!(badge_text(99).as_deref(), Some("99"));
        assert_eq!(badge_text(100).as_deref(), Some("99+"));
    }
}
