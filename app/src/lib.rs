//! hookbell's user interface and the models it shares with the server.
//!
//! - [`models`]: typed payloads of webhooks, REST and Socket.IO events; [`input`]: typed inputs.
//! - [`api`]: server functions (their logic lives in the server's service layer).
//! - [`realtime`]: the browser's Socket.IO client (codec, backoff, client).
//! - [`live`]: reactive state kept current by the real-time channel.
//! - [`components`], [`pages`]: the UI.

pub mod api;
pub mod components;
pub mod desktop;
pub mod live;
pub use hookbell_core::{ids, input, models, timestamp};
pub mod notifications;
pub mod pages;
pub mod realtime;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, Lazy,
};

use crate::{
    api::get_bell_state,
    components::{ConnectionIndicator, NotificationBell, Toaster},
    live::provide_live_state,
    models::BellState,
    pages::{routes, NotFound},
};

/// The HTML document around the app (server side).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The server's snapshot of the header state, shared by the header and pages.
pub type BellResource = Resource<Result<BellState, api::FnError>>;

/// The app: header with bell and connection state, then the routed page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let live = provide_live_state();
    let bell: BellResource = Resource::new(|| (), |_| get_bell_state());
    provide_context(bell);

    // In the browser, once the snapshot is known: seed the live state from it
    // and connect to the tenant's room. Effects run after hydration, so the
    // hydrated DOM is exactly what the server rendered.
    #[cfg(feature = "hydrate")]
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) {
            return true;
        }
        match bell.get() {
            Some(Ok(state)) => {
                live.seed(state.unread_count, state.latest, state.preferences);
                crate::live::connect_live(live, state.tenant_id.into_string(), state.reader.map(|r| r.into_string()));
                true
            }
            _ => false,
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/hookbell.css"/>
        <Title text="hookbell"/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"◉"</span>
                    "hookbell"
                </a>
                <Suspense fallback=|| view! { <span class="tenant muted">"Loading…"</span> }>
                    {move || Suspend::new(async move {
                        match bell.await {
                            Ok(state) => {
                                view! {
                                    <span class="tenant" data-testid="tenant-name">{state.tenant_name}</span>
                                    {(state.tenants.len() > 1).then(|| view! {
                                        <TenantSwitcher current=state.tenant_id.to_string() tenants=state.tenants.clone()/>
                                    })}
                                    <nav class="nav" aria-label="Pages">
                                        <a href="/">"Dashboard"</a>
                                        <a href="/notifications" data-testid="nav-notifications">"Notifications"</a>
                                        <a href="/settings/webhooks" data-testid="nav-webhooks">"Webhooks"</a>
                                        <a href="/settings/integrations" data-testid="nav-integrations">"Integrations"</a>
                                        <a href="/settings/api-keys" data-testid="nav-api-keys">"API keys"</a>
                                        <a href="/settings/notifications" data-testid="nav-preferences">"Preferences"</a>
                                        <a href="/settings/members" data-testid="nav-members">"Members"</a>
                                    </nav>
                                    <div class="spacer"></div>
                                    <ConnectionIndicator state=live.connection/>
                                    <NotificationBell/>
                                    <UserMenu user_name=state.user_name/>
                                }
                                .into_any()
                            }
                            Err(e) => view! {
                                <span class="tenant error" role="alert">
                                    "Could not load your tenant: "{crate::pages::error_text(&e)}
                                </span>
                                <div class="spacer"></div>
                                <a class="signin-link" href="/login">"Sign in"</a>
                            }
                            .into_any(),
                        }
                    })}
                </Suspense>
            </header>
            <Toaster/>
            <main class="content">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view={Lazy::<routes::Dashboard>::new()}/>
                    <Route path=path!("/login") view={Lazy::<routes::Login>::new()}/>
                    <Route path=path!("/notifications") view={Lazy::<routes::Notifications>::new()}/>
                    <Route path=path!("/settings/api-keys") view={Lazy::<routes::ApiKeys>::new()}/>
                    <Route path=path!("/settings/webhooks") view={Lazy::<routes::WebhookSettings>::new()}/>
                    <Route path=path!("/settings/integrations") view={Lazy::<routes::Integrations>::new()}/>
                    <Route path=path!("/settings/notifications") view={Lazy::<routes::NotificationSettings>::new()}/>
                    <Route path=path!("/settings/members") view={Lazy::<routes::Members>::new()}/>
                    <Route path=path!("/account") view={Lazy::<routes::Account>::new()}/>
                    <Route path=path!("/invite") view={Lazy::<routes::Invite>::new()}/>
                </Routes>
            </main>
        </Router>
    }
}

/// Switches the browser to another of the user's tenants, then reloads the
/// page so that every part of it (and the live channel) follows.
#[component]
fn TenantSwitcher(current: String, tenants: Vec<crate::models::TenantChoice>) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let switch = move |ev: leptos::ev::Event| {
        let tenant_id = event_target_value(&ev);
        leptos::task::spawn_local(async move {
            match crate::api::switch_tenant(tenant_id).await {
                Ok(()) =>
                {
                    #[cfg(feature = "hydrate")]
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().reload();
                    }
                }
                Err(e) => error.set(Some(crate::pages::error_text(&e))),
            }
        });
    };
    view! {
        <select class="switcher" data-testid="tenant-switcher" aria-label="Switch tenant" on:change=switch>
            {tenants
                .into_iter()
                .map(|t| {
                    let selected = t.tenant_id == current;
                    view! { <option value=t.tenant_id.into_string() selected=selected>{t.name}</option> }
                })
                .collect_view()}
        </select>
        {move || error.get().map(|e| view! { <span class="tenant error" role="alert">{e}</span> })}
    }
}

/// The signed-in user's name and sign-out, or a sign-in link.
#[component]
fn UserMenu(user_name: Option<String>) -> impl IntoView {
    let logout = ServerAction::<crate::api::Logout>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            if let Some(window) = web_sys::window() {
                let _ = window.location().set_href("/login");
            }
        }
    });
    match user_name {
        Some(name) => view! {
            <a class="user" href="/account" data-testid="user-name">{name}</a>
            <ActionForm action=logout attr:class="logout-form">
                <button type="submit" class="link-button" data-testid="sign-out">"Sign out"</button>
            </ActionForm>
        }
        .into_any(),
        None => view! { <a class="signin-link" href="/login" data-testid="sign-in">"Sign in"</a> }.into_any(),
    }
}
