//! Settings → Webhooks, as the seed lists it: the enable switch and one per
//! endpoint, retry attempts and timeout; the secret (generate a new one —
//! shown once — with an optional grace period for the old one); each
//! endpoint's URL with a copy button; "send test webhook" with every attempt;
//! the recent webhook event log. Server functions over the same service calls
//! as `/api/webhooks/settings*` and `/api/webhooks/events`.

use leptos::prelude::*;

use super::Unavailable;

use crate::{
    api::{
        get_webhook_settings, list_webhook_events, rotate_webhook_secret, send_test_webhook, update_webhook_settings,
    },
    components::CopyButton,
    models::{RotatedSecret, TestReport, WebhookEndpoints, WebhookEvent, WebhookSettingsPatch, WebhookSettingsView},
    pages::error_text,
};

/// What the page says after an action: kept here, above the cards, because
/// every action reloads the settings and so renders the cards anew.
#[derive(Clone, Copy)]
struct Feedback {
    saved: RwSignal<Option<Result<(), String>>>,
    rotated: RwSignal<Option<Result<RotatedSecret, String>>>,
    report: RwSignal<Option<Result<TestReport, String>>>,
}

/// The webhook settings page.
#[component]
pub fn WebhookSettingsPage() -> impl IntoView {
    let reload = RwSignal::new(0u64);
    let said = Feedback { saved: RwSignal::new(None), rotated: RwSignal::new(None), report: RwSignal::new(None) };
    let settings = Resource::new(move || reload.get(), |_| get_webhook_settings());
    let events = Resource::new(move || reload.get(), |_| list_webhook_events());
    view! {
        <div class="settings-grid">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(view) => view! { <SettingsCards view=view reload=reload said=said/> }.into_any(),
                        Err(e) => view! { <Unavailable what="Webhook settings" error=e/> }.into_any(),
                    }
                })}
            </Suspense>
            <section class="card" aria-labelledby="events-heading">
                <h2 id="events-heading">"Recent webhook events"</h2>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match events.await {
                            Ok(list) => view! { <EventLog events=list/> }.into_any(),
                            Err(e) => view! { <p class="form-error" role="alert">{error_text(&e)}</p> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </div>
    }
    .into_any()
}

#[component]
fn SettingsCards(view: WebhookSettingsView, reload: RwSignal<u64>, said: Feedback) -> impl IntoView {
    let s = view.settings;
    let enabled = RwSignal::new(s.webhook_enabled);
    let endpoints = RwSignal::new(s.webhook_endpoints);
    let retries = RwSignal::new(s.webhook_retry_attempts.to_string());
    let timeout = RwSignal::new(s.webhook_timeout_ms.to_string());
    let seed_scheme = RwSignal::new(s.accept_seed_signatures);
    let saved = said.saved;
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let whole = |text: String, field: &str| {
            text.trim().parse::<u32>().map_err(|_| format!("{field} must be a whole number"))
        };
        let (attempts, ms) =
            match (whole(retries.get_untracked(), "Retry attempts"), whole(timeout.get_untracked(), "Timeout")) {
                (Ok(a), Ok(t)) => (a, t),
                (Err(e), _) | (_, Err(e)) => {
                    saved.set(Some(Err(e)));
                    return;
                }
            };
        let patch = WebhookSettingsPatch {
            webhook_enabled: Some(enabled.get_untracked()),
            webhook_endpoints: Some(endpoints.get_untracked()),
            webhook_retry_attempts: Some(attempts),
            webhook_timeout_ms: Some(ms),
            accept_seed_signatures: Some(seed_scheme.get_untracked()),
        };
        leptos::task::spawn_local(async move {
            match update_webhook_settings(patch).await {
                Ok(_) => {
                    saved.set(Some(Ok(())));
                    reload.update(|r| *r += 1);
                }
                Err(e) => saved.set(Some(Err(error_text(&e)))),
            }
        });
    };
    let switch = |label: &'static str, testid: &'static str, get: Signal<bool>, set: Callback<bool>| {
        view! {
            <label class="switch">
                <input type="checkbox" role="switch" data-testid=testid prop:checked=move || get.get()
                    on:change=move |ev| set.run(event_target_checked(&ev))/>
                <span>{label}</span>
            </label>
        }
    };
    let endpoint = move |name: &'static str| {
        let get = Signal::derive(move || *endpoint_flag(&mut endpoints.get(), name));
        let set = Callback::new(move |on: bool| endpoints.update(|e| *endpoint_flag(e, name) = on));
        (get, set)
    };
    let (orders_on, orders_set) = endpoint("orders");
    let (notes_on, notes_set) = endpoint("notifications");
    let (payments_on, payments_set) = endpoint("payments");
    let urls = view.webhook_urls;
    view! {
        <section class="card settings" aria-labelledby="receive-heading">
            <h1 id="receive-heading">"Webhooks"</h1>
            <form class="settings-form" on:submit=save>
                {switch("Receive webhooks", "switch-enabled", enabled.into(), Callback::new(move |on| enabled.set(on)))}
                <fieldset class="endpoints">
                    <legend>"Endpoints"</legend>
                    {switch("Orders", "switch-orders", orders_on, orders_set)}
                    {switch("Notifications", "switch-notifications", notes_on, notes_set)}
                    {switch("Payments", "switch-payments", payments_on, payments_set)}
                </fieldset>
                <fieldset class="endpoints">
                    <legend>"Signatures"</legend>
                    {switch(
                        "Also accept X-Webhook-Signature (the older scheme)",
                        "switch-seed-signatures",
                        seed_scheme.into(),
                        Callback::new(move |on| seed_scheme.set(on)),
                    )}
                    <p class="hint">
                        "That scheme signs the body alone, with no timestamp: anyone who captures one request "
                        "(a proxy log, a leaked request dump) can send it again at any time. Standard Webhooks "
                        "signatures (webhook-id, webhook-timestamp, webhook-signature) expire after 5 minutes and "
                        "are never processed twice. Turn this off once your senders sign the Standard way."
                    </p>
                </fieldset>
                <div class="inline-form">
                    <label>"Retry attempts (0–10)"
                        <input type="number" min="0" max="10" data-testid="retry-attempts" prop:value=move || retries.get()
                            on:input=move |ev| retries.set(event_target_value(&ev))/>
                    </label>
                    <label>"Timeout (ms)"
                        <input type="number" min="1000" max="120000" step="500" data-testid="timeout-ms"
                            prop:value=move || timeout.get() on:input=move |ev| timeout.set(event_target_value(&ev))/>
                    </label>
                    <button type="submit" class="primary" data-testid="save-settings">"Save"</button>
                </div>
                {move || saved.get().map(|r| match r {
                    Ok(()) => view! { <p class="saved" role="status" data-testid="settings-saved">"Saved."</p> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert" data-testid="settings-error">{e}</p> }.into_any(),
                })}
            </form>
        </section>
        <section class="card" aria-labelledby="urls-heading">
            <h2 id="urls-heading">"Webhook URLs"</h2>
            <CopyRow label="Orders" testid="url-orders" value=urls.orders/>
            <CopyRow label="Notifications" testid="url-notifications" value=urls.notifications/>
            <CopyRow label="Payments" testid="url-payments" value=urls.payments/>
        </section>
        <SecretCard hint=view.secret_hint previous_until=view.previous_secret_valid_until.map(|t| t.to_string())
            fallback=view.uses_fallback_secret reload=reload said=said/>
        <TestCard reload=reload said=said/>
    }
    .into_any()
}

/// One endpoint's switch in the settings.
fn endpoint_flag<'a>(e: &'a mut WebhookEndpoints, name: &str) -> &'a mut bool {
    match name {
        "orders" => &mut e.orders,
        "payments" => &mut e.payments,
        _ => &mut e.notifications,
    }
}

#[component]
fn CopyRow(label: &'static str, testid: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="copy-row">
            <span class="copy-label">{label}</span>
            <code data-testid=testid>{value.clone()}</code>
            <CopyButton text=value label=format!("Copy the {label} URL")/>
        </div>
    }
}

#[component]
fn SecretCard(
    hint: String,
    previous_until: Option<String>,
    fallback: bool,
    reload: RwSignal<u64>,
    said: Feedback,
) -> impl IntoView {
    let grace = RwSignal::new("0".to_owned());
    let rotated = said.rotated;
    let rotate = move |_| {
        let seconds = grace.get_untracked().parse().unwrap_or(0);
        leptos::task::spawn_local(async move {
            let result = rotate_webhook_secret(seconds).await.map_err(|e| error_text(&e));
            if result.is_ok() {
                reload.update(|r| *r += 1);
            }
            rotated.set(Some(result));
        });
    };
    view! {
        <section class="card" aria-labelledby="secret-heading">
            <h2 id="secret-heading">"Signing secret"</h2>
            <p>"Current secret ends in "<code data-testid="secret-hint">{hint}</code>"."</p>
            {fallback.then(|| view! {
                <p class="form-error" role="alert" data-testid="fallback-secret">
                    "This tenant has no secret of its own: it uses the server's global WEBHOOK_SECRET, which "
                    "other tenants share. Generate a secret of its own (with a grace period, your senders "
                    "keep working while you switch them over)."
                </p>
            })}
            {previous_until.map(|t| view! { <p class="hint">"The previous secret is accepted until "{t}"."</p> })}
            <div class="inline-form">
                <label>"Keep the old secret valid for"
                    <select data-testid="grace" on:change=move |ev| grace.set(event_target_value(&ev))>
                        <option value="0">"No grace period"</option>
                        <option value="3600">"1 hour"</option>
                        <option value="86400">"24 hours"</option>
                        <option value="604800">"7 days"</option>
                    </select>
                </label>
                <button type="button" class="primary" data-testid="rotate-secret" on:click=rotate>"Generate new secret"</button>
            </div>
            {move || rotated.get().map(|r| match r {
                Ok(secret) => view! { <NewSecret secret=secret/> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn NewSecret(secret: RotatedSecret) -> impl IntoView {
    view! {
        <div class="reveal" role="alert" data-testid="new-secret">
            <p><strong>"New secret generated. "</strong>"Copy it now and give it to your senders: it is not shown again."
                {secret.previous_secret_valid_until.map(|t| format!(" The old one keeps working until {t}."))}</p>
            <div class="reveal-row">
                <code data-testid="new-secret-value">{secret.webhook_secret.clone()}</code>
                <CopyButton text=secret.webhook_secret/>
            </div>
        </div>
    }
}

#[component]
fn TestCard(reload: RwSignal<u64>, said: Feedback) -> impl IntoView {
    let report = said.report;
    let running = RwSignal::new(false);
    let send = move |_| {
        running.set(true);
        leptos::task::spawn_local(async move {
            report.set(Some(send_test_webhook().await.map_err(|e| error_text(&e))));
            running.set(false);
            reload.update(|r| *r += 1);
        });
    };
    view! {
        <section class="card" aria-labelledby="test-heading">
            <h2 id="test-heading">"Send a test webhook"</h2>
            <p class="hint">"Signs a sample notification with your secret and posts it to your notifications URL, with your retries and timeout."</p>
            <button type="button" class="primary" data-testid="send-test" disabled=move || running.get() on:click=send>
                {move || if running.get() { "Sending…" } else { "Send test webhook" }}
            </button>
            {move || report.get().map(|r| match r {
                Ok(t) => view! {
                    <div class="test-report" data-testid="test-report" data-success=t.success.to_string()>
                        <p class=if t.success { "ok-text" } else { "form-error" }>
                            {if t.success { "Delivered." } else { "Not accepted." }}" "{t.url}
                        </p>
                        <ol class="attempts">
                            {t.attempts.into_iter().map(|a| view! {
                                <li data-testid="test-attempt">
                                    {format!("Attempt {}: {} in {} ms", a.attempt,
                                        a.status_code.map(|s| format!("HTTP {s}")).or(a.error).unwrap_or_default(), a.duration_ms)}
                                </li>
                            }).collect_view()}
                        </ol>
                    </div>
                }
                .into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn EventLog(events: Vec<WebhookEvent>) -> impl IntoView {
    if events.is_empty() {
        return view! {
            <div class="empty" data-testid="events-empty">
                <p class="empty-title">"No webhooks received yet"</p>
                <p>"Every signed request to your webhook URLs is listed here, accepted or not. Requests whose signature does not verify are counted by the server, not kept here."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <table class="keys" data-testid="events">
            <thead><tr><th>"Received"</th><th>"Endpoint"</th><th>"Outcome"</th><th>"Status"</th><th>"Reason"</th></tr></thead>
            <tbody>
                {events.into_iter().map(|e| {
                    let outcome = e.outcome.clone();
                    view! {
                    <tr data-testid="event-row" data-outcome=outcome>
                        <td>{e.received_at.to_string().get(..19).unwrap_or_default().replace('T', " ")}</td>
                        <td>{e.endpoint}</td>
                        <td>{e.outcome}</td>
                        <td>{e.status_code}</td>
                        <td>{e.reason.unwrap_or_default()}</td>
                    </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
