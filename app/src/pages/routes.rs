//! The routes whose code the browser loads when it first needs it.
//!
//! Each page is a [`LazyRoute`]: built with `cargo leptos build --split`, its
//! view — the page's components, its server-function calls and the decoders of
//! the models it reads — is cut out of the main WASM into a chunk of its own,
//! fetched with the page (the server names its chunks in `preload` links on a
//! first visit, the router fetches them on navigation). The main WASM keeps the
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

/// A route type whose view is `$page`, cut into a chunk of its own.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:ident) => {
        $(#[$doc])*
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }
            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }
    };
}

lazy_page!(/// `/`: [`DashboardPage`].
    Dashboard => DashboardPage);
lazy_page!(/// `/login`: [`LoginPage`].
    Login => LoginPage);
lazy_page!(/// `/notifications`: [`NotificationsPage`].
    Notifications => NotificationsPage);
lazy_page!(/// `/settings/api-keys`: [`ApiKeysPage`].
    ApiKeys => ApiKeysPage);
lazy_page!(/// `/settings/webhooks`: [`WebhookSettingsPage`].
    WebhookSettings => WebhookSettingsPage);
lazy_page!(/// `/settings/integrations`: [`IntegrationsPage`].
    Integrations => IntegrationsPage);
lazy_page!(/// `/settings/notifications`: [`NotificationSettingsPage`].
    NotificationSettings => NotificationSettingsPage);
lazy_page!(/// `/settings/members`: [`MembersPage`].
    Members => MembersPage);
lazy_page!(/// `/account`: [`AccountPage`].
    Account => AccountPage);
lazy_page!(/// `/invite`: [`InvitePage`].
    Invite => InvitePage);
