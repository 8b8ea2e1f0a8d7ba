//! The routes whose code the browser loads when it first needs it.
//!
//! Each page is a [`LazyRoute`]: built with `cargo leptos build --split`, its
//! view — the page's components, its server-function calls and the decoders of
//! the models it reads — is cut out of the main WASM into a chunk of its own,
//! fetched with the page (the server names it in a `modulepreload` link on a
//! first visit, the router fetches it on navigation). The main WASM keeps the
//! framework and what every page shows: the header, the bell, the toasts and
//! the real-time connection. None of the pages reads data before its view, so
//! `data` is empty: the page's resources start in its view, as they did.
//!
//! Server side, `#[lazy_route]` changes nothing: each view renders as before.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

use super::{
    AccountPage, ApiKeysPage, DashboardPage, IntegrationsPage, InvitePage, LoginPage, MembersPage,
    NotificationSettingsPage, NotificationsPage, WebhookSettingsPage,
};

/// `/`: [`DashboardPage`].
pub struct Dashboard;

#[lazy_route]
impl LazyRoute for Dashboard {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        view! { <DashboardPage/> }.into_any()
    }
}

/// `/login`: [`LoginPage`].
pub struct Login;

#[lazy_route]
impl LazyRoute for Login {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        view! { <LoginPage/> }.into_any()
    }
}

/// `/notifications`: [`NotificationsPage`].
pub struct Notifications;

#[lazy_route]
impl LazyRoute for Notifications {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        view! { <NotificationsPage/> }.into_any()
    }
}

/// `/settings/api-keys`: [`ApiKeysPage`].
pub struct ApiKeys;

#[lazy_route]
impl LazyRoute for ApiKeys {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        view! { <ApiKeysPage/> }.into_any()
    }
}

/// `/settings/webhooks`: [`WebhookSettingsPage`].
pub struct WebhookSettings;

#[lazy_route]
impl LazyRoute for WebhookSettings {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        view! { <WebhookSettingsPage/> }.into_any()
    }
}

/// `/settings/integrations`: [`IntegrationsPage`].
pub struct Integrations;

#[lazy_route]
impl LazyRoute for Integrations {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        view! { <IntegrationsPage/> }.into_any()
    }
}

/// `/settings/notifications`: [`NotificationSettingsPage`].
pub struct NotificationSettings;

#[lazy_route]
impl LazyRoute for NotificationSettings {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        view! { <NotificationSettingsPage/> }.into_any()
    }
}

/// `/settings/members`: [`MembersPage`].
pub struct Members;

#[lazy_route]
impl LazyRoute for Members {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        view! { <MembersPage/> }.into_any()
    }
}

/// `/account`: [`AccountPage`].
pub struct Account;

#[lazy_route]
impl LazyRoute for Account {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        view! { <AccountPage/> }.into_any()
    }
}

/// `/invite`: [`InvitePage`].
pub struct Invite;

#[lazy_route]
impl LazyRoute for Invite {
    fn data() -> Self {
        Self
    }
    fn view(_this: Self) -> AnyView {
        view! { <InvitePage/> }.into_any()
    }
}
