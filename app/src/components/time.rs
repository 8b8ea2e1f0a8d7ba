//! Times of day that read as "5 min ago" once the page runs in the browser.

use leptos::prelude::*;

/// `at` relative to now (browser), else its time of day in UTC.
pub(crate) fn when(at: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        let t = js_sys::Date::parse(at);
        if t.is_finite() {
            return super::relative_time(js_sys::Date::now() - t);
        }
    }
    clock(at)
}

/// The time of day of an RFC 3339 UTC timestamp: `14:05 UTC`.
fn clock(at: &str) -> String {
    format!("{} UTC", at.get(11..16).unwrap_or_default())
}

/// A `<time>`: rendered on the server as the time of day (so hydration finds
/// the same text), then shown relative to the browser's clock.
#[component]
pub fn TimeAgo(at: String) -> impl IntoView {
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let text = {
        let at = at.clone();
        move || if mounted.get() { when(&at) } else { clock(&at) }
    };
    view! { <time class="feed-time" datetime=at.clone() title=at>{text}</time> }
}
