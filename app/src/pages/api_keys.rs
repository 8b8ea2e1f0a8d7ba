//! Settings → API keys (admins): the tenant's keys by prefix, a form that
//! creates one — shown once, with a copy button and a warning — and revoking.
//! Server functions over the same service calls as `/api/keys`.

use leptos::prelude::*;

use super::Unavailable;

use crate::{
    api::{create_api_key, list_api_keys, revoke_api_key},
    components::CopyButton,
    models::{ApiKeyInfo, CreatedApiKey, Timestamp},
};

/// The API keys page.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let reload = RwSignal::new(0u64);
    let keys = Resource::new(move || reload.get(), |_| list_api_keys());
    let created = RwSignal::new(None::<CreatedApiKey>);
    let error = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let role = RwSignal::new("member".to_owned());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, r) = (name.get_untracked(), role.get_untracked());
        leptos::task::spawn_local(async move {
            match create_api_key(n, Some(r)).await {
                Ok(key) => {
                    error.set(None);
                    name.set(String::new());
                    created.set(Some(key));
                    reload.update(|x| *x += 1);
                }
                Err(e) => error.set(Some(crate::pages::error_text(&e))),
            }
        });
    };
    let revoke = move |id: String| {
        leptos::task::spawn_local(async move {
            match revoke_api_key(id).await {
                Ok(()) => reload.update(|x| *x += 1),
                Err(e) => error.set(Some(crate::pages::error_text(&e))),
            }
        });
    };

    view! {
        <section class="card settings" aria-labelledby="keys-heading">
            <h1 id="keys-heading">"API keys"</h1>
            <p class="hint">"Programs call the API with "<code>"Authorization: Bearer hb_…"</code>
                " and open the live channel with "<code>"{\"apiKey\": \"hb_…\"}"</code>
                ". A key acts with its role in this tenant, never more than yours."</p>
            <form class="inline-form" on:submit=create>
                <label>"Name"
                    <input type="text" required maxlength="100" data-testid="key-name" placeholder="e.g. Warehouse sync"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                <label>"Role"
                    <select data-testid="key-role" prop:value=move || role.get()
                        on:change=move |ev| role.set(event_target_value(&ev))>
                        <option value="member">"Member (read, mark read)"</option>
                        <option value="admin">"Admin (also settings and keys)"</option>
                    </select>
                </label>
                <button type="submit" class="primary" data-testid="create-key">"Create key"</button>
            </form>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="keys-error">{e}</p> })}
            {move || created.get().map(|c| view! { <NewKey created=c/> })}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) => view! { <KeyTable keys=list revoke=revoke/> }.into_any(),
                        Err(e) => view! { <Unavailable what="API keys" error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
    .into_any()
}

/// The key just created, shown this once.
#[component]
fn NewKey(created: CreatedApiKey) -> impl IntoView {
    view! {
        <div class="reveal" role="alert" data-testid="new-key">
            <p><strong>{format!("Key \u{201c}{}\u{201d} created. ", created.info.name)}</strong>
                "Copy it now: it is not shown again, and hookbell keeps only a hash of it."</p>
            <div class="reveal-row">
                <code data-testid="new-key-value">{created.key.clone()}</code>
                <CopyButton text=created.key testid="copy-key"/>
            </div>
        </div>
    }
}

#[component]
fn KeyTable(keys: Vec<ApiKeyInfo>, revoke: impl Fn(String) + Copy + Send + Sync + 'static) -> impl IntoView {
    if keys.is_empty() {
        return view! {
            <div class="empty" data-testid="keys-empty">
                <p class="empty-title">"No API keys yet"</p>
                <p>"Create one above for each program that reads notifications or listens live."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <table class="keys" data-testid="keys">
            <thead><tr><th>"Name"</th><th>"Key"</th><th>"Role"</th><th>"Created"</th><th>"Last used"</th><th></th></tr></thead>
            <tbody>
                {keys.into_iter().map(|k| {
                    let day = |t: Timestamp| t.to_string().get(..10).unwrap_or_default().to_owned();
                    let revoked = k.revoked_at.is_some();
                    let id = k.id.to_string();
                    view! {
                        <tr data-testid="key-row" data-state=if revoked { "revoked" } else { "active" }>
                            <td>{k.name.clone()}</td>
                            <td><code>{format!("{}…", k.prefix)}</code></td>
                            <td>{k.role.as_str()}</td>
                            <td>{day(k.created_at)}</td>
                            <td>{k.last_used_at.map(day).unwrap_or_else(|| "never".into())}</td>
                            <td>{if revoked {
                                view! { <span class="state">"revoked"</span> }.into_any()
                            } else {
                                view! {
                                    <button type="button" class="chip danger" aria-label=format!("Revoke {}", k.name)
                                        on:click=move |_| revoke(id.clone())>"Revoke"</button>
                                }
                                .into_any()
                            }}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
