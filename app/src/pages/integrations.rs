//! Settings → Integrations: the tenant's connections to Shopify and Stripe.
//! Each shows the URL to paste into the provider's admin (with a copy button),
//! the topics to subscribe to, whether it takes deliveries and the last one;
//! admins save the signing secret the provider shows (never shown again, only
//! its last characters), Shopify's shop and low-stock threshold, or disconnect.
//! Server functions over the same service calls as `/api/webhooks/providers`.

use leptos::prelude::*;

use super::Unavailable;
use crate::{
    api::{disconnect_provider, list_providers, save_provider},
    components::CopyButton,
    models::{Provider, ProviderConnectionView, Timestamp},
};

/// The integrations page.
#[component]
pub fn IntegrationsPage() -> impl IntoView {
    let reload = RwSignal::new(0u64);
    let providers = Resource::new(move || reload.get(), |_| list_providers());
    view! {
        <section class="card settings" aria-labelledby="integrations-heading">
            <h1 id="integrations-heading">"Integrations"</h1>
            <p class="hint">"Shopify and Stripe post to hookbell directly. Paste a URL below into their admin, "
                "subscribe to the topics listed, and save the signing secret they show you here."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match providers.await {
                        Ok(list) => list
                            .into_iter()
                            .map(|connection| view! { <ProviderCard connection=connection reload=reload/> })
                            .collect_view()
                            .into_any(),
                        Err(e) => view! { <Unavailable what="Integrations" error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// A day and time as `2026-12-03 07:26`.
fn when(t: Timestamp) -> String {
    t.to_string().get(..16).unwrap_or_default().replace('T', " ")
}

/// One provider: its URL, topics, state and form.
#[component]
fn ProviderCard(connection: ProviderConnectionView, reload: RwSignal<u64>) -> impl IntoView {
    let provider = connection.provider;
    let name = provider.as_str();
    let shopify = provider == Provider::Shopify;
    let connected = connection.connected;
    let secret = RwSignal::new(String::new());
    let domain = RwSignal::new(connection.shop_domain.clone().unwrap_or_default());
    let threshold = RwSignal::new(connection.low_stock_threshold.map(|t| t.to_string()).unwrap_or_default());
    let enabled = RwSignal::new(connection.enabled || !connected);
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut change = serde_json::Map::new();
        let new_secret = secret.get_untracked();
        if !new_secret.trim().is_empty() {
            change.insert("signingSecret".into(), new_secret.trim().into());
        }
        change.insert("enabled".into(), enabled.get_untracked().into());
        if shopify {
            let d = domain.get_untracked();
            if !d.trim().is_empty() {
                change.insert("shopDomain".into(), d.trim().into());
            }
            let t = threshold.get_untracked();
            if !t.trim().is_empty() {
                // A number as a number; anything else as typed, for the server to name.
                let value = t.trim().parse::<u64>().map(serde_json::Value::from).unwrap_or_else(|_| t.into());
                change.insert("lowStockThreshold".into(), value);
            }
        }
        let change = serde_json::Value::Object(change).to_string();
        leptos::task::spawn_local(async move {
            match save_provider(name.to_owned(), change).await {
                Ok(_) => {
                    error.set(None);
                    saved.set(true);
                    secret.set(String::new());
                    reload.update(|x| *x += 1);
                }
                Err(e) => {
                    saved.set(false);
                    error.set(Some(crate::pages::error_text(&e)));
                }
            }
        });
    };
    let disconnect = move |_| {
        leptos::task::spawn_local(async move {
            match disconnect_provider(name.to_owned()).await {
                Ok(()) => reload.update(|x| *x += 1),
                Err(e) => error.set(Some(crate::pages::error_text(&e))),
            }
        });
    };
    let status = match (connected, connection.enabled) {
        (false, _) => "Not connected".to_owned(),
        (true, on) => {
            let hint = connection.secret_hint.clone().unwrap_or_default();
            let last = connection.last_delivery_at.map(|t| format!("last delivery {}", when(t)));
            let last = last.unwrap_or_else(|| "no delivery yet".into());
            format!("{} · secret {hint} · {last}", if on { "Connected" } else { "Paused" })
        }
    };
    let url = connection.url.clone();
    let secret_placeholder = match (connected, shopify) {
        (true, _) => format!("Leave empty to keep {}", connection.secret_hint.clone().unwrap_or_default()),
        (false, true) => "The signing secret Shopify shows".to_owned(),
        (false, false) => "whsec_…".to_owned(),
    };
    view! {
        <article class="provider" data-testid=format!("provider-{name}")
            data-connected=if connected { "true" } else { "false" }>
            <h2>{provider.title()}</h2>
            <p class="muted" data-testid=format!("{name}-status")>{status}</p>
            <div class="reveal-row">
                <code data-testid=format!("{name}-url")>{url.clone()}</code>
                <CopyButton text=url label=format!("Copy the {} URL", provider.title())/>
            </div>
            <p class="hint">"Subscribe to: "{provider.topics().join(", ")}</p>
            {connection.previous_secret_valid_until.map(|until| view! {
                <p class="hint">{format!("The replaced secret is still accepted until {}.", when(until))}</p>
            })}
            <form class="inline-form" on:submit=save>
                <label>"Signing secret"
                    <input type="password" autocomplete="off" data-testid=format!("{name}-secret")
                        placeholder=secret_placeholder
                        prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev))/>
                </label>
                {shopify.then(|| view! {
                    <label>"Shop domain"
                        <input type="text" data-testid="shopify-domain" placeholder="acme.myshopify.com"
                            prop:value=move || domain.get() on:input=move |ev| domain.set(event_target_value(&ev))/>
                    </label>
                    <label>"Low-stock threshold"
                        <input type="number" min="0" data-testid="shopify-threshold"
                            prop:value=move || threshold.get() on:input=move |ev| threshold.set(event_target_value(&ev))/>
                    </label>
                })}
                <label class="switch">
                    <input type="checkbox" data-testid=format!("{name}-enabled") prop:checked=move || enabled.get()
                        on:change=move |ev| enabled.set(event_target_checked(&ev))/>
                    "Take deliveries"
                </label>
                <div class="inline-actions">
                    <button type="submit" class="primary" data-testid=format!("save-{name}")>
                        {if connected { "Save" } else { "Connect" }}
                    </button>
                    {connected.then(|| view! {
                        <button type="button" class="chip danger" data-testid=format!("disconnect-{name}")
                            on:click=disconnect>"Disconnect"</button>
                    })}
                </div>
            </form>
            {move || error.get().map(|e| view! {
                <p class="form-error" role="alert" data-testid=format!("{name}-error")>{e}</p>
            })}
            {move || saved.get().then(|| view! {
                <p class="saved" role="status" data-testid=format!("{name}-saved")>"Saved."</p>
            })}
        </article>
    }
}
