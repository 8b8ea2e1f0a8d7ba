//! Times of day that read as "5 min ago" once the page runs in the browser.

use leptos::prelude::*;

use crate::models::Timestamp;

/// `at` relative to now (browser), else its time of day in UTC.
pub(crate) fn when(at: Timestamp) -> String {
    #[cfg(feature = "hydrate")]
    {
        return super::relative_time(js_sys::Date::now() - at.unix_millis() as f64);
    }
    #[allow(unreachable_code)]
    clock(at)
}

/// The time of day in UTC: `14:05 UTC`.
fn clock(at: Timestamp) -> String {
    format!("{} UTC", at.to_string().get(11..16).unwrap_or_default())
}

/// A `<time>`: rendered on the server as the time of day (so hydration finds
/// the same text), then shown relative to the browser's clock.
#[component]
pub fn TimeAgo(at: Timestamp) -> impl IntoView {
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let text = move || if mounted.get() { when(at) } else { clock(at) };
    view! { <time class="feed-time" datetime=at.to_string() title=at.to_string()>{text}</time> }
}
