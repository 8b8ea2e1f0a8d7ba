//! Desktop notifications: while the page is hidden, a new notification that
//! may interrupt the reader (their preferences) shows as a browser
//! notification, if they turned them on and the browser was allowed to;
//! clicking it brings the tab forward and follows the action link. The
//! permission is asked for from the settings page only, on a click.

use crate::models::{Notification, Preferences};

/// Shows `n` on the desktop when the preferences, the page and the permission allow it.
#[cfg(feature = "hydrate")]
pub fn notify(prefs: &Preferences, n: &Notification) {
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{NotificationOptions, NotificationPermission};

    if !(prefs.desktop && prefs.interrupts(n)) {
        return;
    }
    let Some(window) = web_sys::window() else { return };
    let hidden = window.document().is_some_and(|d| d.hidden());
    if !hidden || !supported() || web_sys::Notification::permission() != NotificationPermission::Granted {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(&n.message);
    // One per notification, however many tabs hear of it.
    options.set_tag(n.id.as_str());
    let Ok(shown) = web_sys::Notification::new_with_options(&n.title, &options) else { return };
    let url = n.action_url.clone();
    let on_click = Closure::once_into_js(move || {
        if let Some(w) = web_sys::window() {
            let _ = w.focus();
            if let Some(url) = url {
                let _ = w.location().assign(&url);
            }
        }
    });
    shown.set_onclick(Some(on_click.unchecked_ref()));
}

/// Whether this browser has desktop notifications at all.
#[cfg(feature = "hydrate")]
pub fn supported() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::has(&w, &wasm_bindgen::JsValue::from_str("Notification")).ok())
        .unwrap_or(false)
}

/// The browser's permission now: `granted`, `denied` or `default` (not asked yet).
#[cfg(feature = "hydrate")]
pub fn permission() -> &'static str {
    use web_sys::NotificationPermission as P;
    if !supported() {
        return "unsupported";
    }
    match web_sys::Notification::permission() {
        P::Granted => "granted",
        P::Denied => "denied",
        _ => "default",
    }
}

/// Asks the browser for permission; `done` gets the answer.
#[cfg(feature = "hydrate")]
pub fn ask_permission(done: impl FnOnce(&'static str) + 'static) {
    use wasm_bindgen::{closure::Closure, JsValue};

    let Ok(asked) = web_sys::Notification::request_permission() else {
        return done(permission());
    };
    let answered = Closure::once(move |_: JsValue| done(permission()));
    let _ = asked.then(&answered);
    answered.forget();
}

/// Server render: nothing to show.
#[cfg(not(feature = "hydrate"))]
pub fn notify(_prefs: &Preferences, _n: &Notification) {}
