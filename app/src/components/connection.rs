//! The real-time connection indicator: green wifi when live, red wifi-off with
//! the next retry time when not.

use leptos::prelude::*;

use super::icons::WifiIcon;
use crate::realtime::ConnectionState;

fn describe(state: ConnectionState) -> (&'static str, &'static str, String) {
    match state {
        ConnectionState::Connecting => ("connecting", "Connecting…", "Connecting to live updates".into()),
        ConnectionState::Connected => ("connected", "Live", "Connected: updates arrive in real time".into()),
        ConnectionState::Disconnected { retry_at_ms } => {
            ("disconnected", "Offline", format!("Disconnected: retrying {}", retry_text(retry_at_ms)))
        }
    }
}

#[cfg(feature = "hydrate")]
fn retry_text(retry_at_ms: f64) -> String {
    let secs = ((retry_at_ms - js_sys::Date::now()) / 1000.0).ceil().max(0.0);
    let at = js_sys::Date::new(&retry_at_ms.into());
    format!("at {:02}:{:02}:{:02} (in {secs}s)", at.get_hours(), at.get_minutes(), at.get_seconds())
}

#[cfg(not(feature = "hydrate"))]
fn retry_text(_retry_at_ms: f64) -> String {
    "shortly".into()
}

/// Shows `state`; the tooltip says when the next attempt is.
#[component]
pub fn ConnectionIndicator(#[prop(into)] state: Signal<ConnectionState>) -> impl IntoView {
    view! {
        {move || {
            let state = state.get();
            let (key, label, title) = describe(state);
            let on = state == ConnectionState::Connected;
            view! {
                <span class=format!("conn conn-{key}") data-testid="connection-status" data-state=key
                    title=title.clone() role="status" aria-label=title>
                    <WifiIcon on=on/>
                    <span class="conn-label">{label}</span>
                </span>
            }
        }}
    }
}
