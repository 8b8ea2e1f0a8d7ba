//! The dashboard: the newest notifications, live, and how to send the first webhook.

use leptos::prelude::*;

use super::Unavailable;

use crate::{live::use_live_state, models::Notification, BellResource};

/// The tenant's dashboard.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let bell = expect_context::<BellResource>();
    view! {
        <div class="grid">
            <section class="card" aria-labelledby="latest-heading">
                <h2 id="latest-heading">"Latest notifications"</h2>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match bell.await {
                            Ok(state) => view! { <Feed snapshot=state.latest/> }.into_any(),
                            Err(e) => view! { <Unavailable what="Notifications" error=e/> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
            <GettingStarted/>
        </div>
    }
}

/// The live list: the server's snapshot until the browser has its own.
#[component]
fn Feed(snapshot: Vec<Notification>) -> impl IntoView {
    let live = use_live_state();
    let items = Signal::derive(move || live.latest.get().unwrap_or_else(|| snapshot.clone()));
    view! {
        <ul class="feed" data-testid="feed" aria-live="polite">
            <For each=move || items.get() key=|n| n.id.clone() let:n>
                <FeedItem n=n/>
            </For>
        </ul>
        <Show when=move || items.with(Vec::is_empty)>
            <div class="empty" data-testid="feed-empty">
                <p class="empty-title">"No notifications yet"</p>
                <p>"Send a signed webhook and it appears here, and on the bell, at once."</p>
            </div>
        </Show>
    }
}

#[component]
fn FeedItem(n: Notification) -> impl IntoView {
    let kind = n.kind.as_str();
    let time = n.created_at.get(11..19).unwrap_or_default().to_owned();
    view! {
        <li class=format!("feed-item kind-{kind}") class:unread=!n.is_read>
            <span class=format!("dot dot-{kind}") aria-hidden="true"></span>
            <div class="feed-body">
                <p class="feed-title">{n.title}</p>
                <p class="feed-message">{n.message}</p>
            </div>
            <time class="feed-time" datetime=n.created_at.clone()>{time}" UTC"</time>
        </li>
    }
}

#[component]
fn GettingStarted() -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="start-heading">
            <h2 id="start-heading">"Send your first webhook"</h2>
            <p>"Orders arrive at "<code>"POST /api/webhooks/orders"</code>
               ", signed with your webhook secret: the header "<code>"X-Webhook-Signature"</code>
               " carries the lowercase hex HMAC-SHA256 of the raw body."</p>
            <pre class="snippet"><code>{SNIPPET}</code></pre>
            <p class="hint">"The server printed "<code>"HOOKBELL_TENANT_ID"</code>" and "
               <code>"HOOKBELL_WEBHOOK_SECRET"</code>" when it created the demo tenant."</p>
        </section>
    }
}

const SNIPPET: &str = r#"BODY='{"tenantId":"'"$HOOKBELL_TENANT_ID"'","orderNumber":"ORD-1001","customerName":"Ada Lovelace","amount":99.99}'
SIG=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$HOOKBELL_WEBHOOK_SECRET" | sed 's/^.*= //')
curl -sS http://127.0.0.1:5000/api/webhooks/orders \
  -H 'Content-Type: application/json' \
  -H "X-Webhook-Signature: $SIG" \
  -d "$BODY""#;
