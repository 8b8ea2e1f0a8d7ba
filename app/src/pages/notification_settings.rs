//! Settings → Notifications: how new notifications interrupt the signed-in
//! user — the lowest priority that shows a toast, types that never toast,
//! and desktop notifications (the browser's permission is asked for here, on
//! the click that turns them on, never on load). Each change is saved at once
//! (the server function over the same service call as `PUT
//! /api/me/preferences`) and reaches every open tab of the user.

use leptos::prelude::*;

use crate::{
    api::save_preferences,
    live::use_live_state,
    models::{NotificationType, Priority},
    pages::error_text,
};

/// The notification preferences page.
#[component]
pub fn NotificationSettingsPage() -> impl IntoView {
    let live = use_live_state();
    let prefs = live.prefs;
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let permission = RwSignal::new("default");
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| permission.set(crate::desktop::permission()));
    let save = move |change: serde_json::Value| {
        leptos::task::spawn_local(async move {
            match save_preferences(change.to_string()).await {
                Ok(now) => {
                    prefs.set(now);
                    error.set(None);
                    saved.set(true);
                }
                Err(e) => error.set(Some(error_text(&e))),
            }
        });
    };
    let toggle_muted = move |kind: NotificationType, muted: bool| {
        let mut types = prefs.with_untracked(|p| p.muted_types.clone());
        types.retain(|t| *t != kind);
        if muted {
            types.push(kind);
        }
        let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        save(serde_json::json!({ "mutedTypes": names }));
    };
    let set_desktop = move |on: bool| {
        #[cfg(feature = "hydrate")]
        if on && permission.get_untracked() == "default" {
            crate::desktop::ask_permission(move |answer| permission.set(answer));
        }
        save(serde_json::json!({ "desktop": on }));
    };
    view! {
        <section class="card settings-card" aria-labelledby="prefs-heading">
            <h1 id="prefs-heading">"Notifications"</h1>
            <p class="muted">"How new notifications interrupt you. Your inbox and its count stay the same."</p>
            <label class="field">
                <span>"Show a toast from priority"</span>
                <select data-testid="pref-min-priority"
                    prop:value=move || prefs.with(|p| p.toast_min_priority.as_str().to_owned())
                    on:change=move |ev| save(serde_json::json!({ "toastMinPriority": event_target_value(&ev) }))>
                    {Priority::ALL.iter().map(|p| view! { <option value=p.as_str()>{p.as_str()}</option> }).collect_view()}
                </select>
            </label>
            <fieldset class="field">
                <legend>"Never toast"</legend>
                {NotificationType::ALL.iter().map(|kind| {
                    let kind = *kind;
                    view! {
                        <label class="check">
                            <input type="checkbox" data-testid=format!("pref-mute-{}", kind.as_str())
                                prop:checked=move || prefs.with(|p| p.muted_types.contains(&kind))
                                on:change=move |ev| toggle_muted(kind, event_target_checked(&ev))/>
                            {kind.as_str()}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <label class="check">
                <input type="checkbox" data-testid="pref-desktop" prop:checked=move || prefs.with(|p| p.desktop)
                    on:change=move |ev| set_desktop(event_target_checked(&ev))/>
                "Desktop notifications while this page is in the background"
            </label>
            <p class="muted" data-testid="pref-permission" data-permission=move || permission.get()>
                {move || match permission.get() {
                    "granted" => "This browser may show them.",
                    "denied" => "This browser blocks them: allow notifications for this site in its settings.",
                    "unsupported" => "This browser cannot show them.",
                    _ => "Turning them on asks this browser for permission.",
                }}
            </p>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            {move || (saved.get() && error.get().is_none()).then(|| view! { <p class="muted" data-testid="pref-saved">"Saved."</p> })}
        </section>
    }
    .into_any()
}
