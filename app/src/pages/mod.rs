//! One module per page of the app.

mod account;
mod api_keys;
mod dashboard;
mod integrations;
mod invite;
mod login;
mod members;
mod not_found;
mod notification_settings;
mod notifications;
pub mod routes;
mod webhook_settings;

pub use account::AccountPage;
pub use api_keys::ApiKeysPage;
pub use dashboard::DashboardPage;
pub use integrations::IntegrationsPage;
pub use invite::InvitePage;
pub use login::{error_text, LoginPage};
pub use members::MembersPage;
pub use not_found::NotFound;
pub use notification_settings::NotificationSettingsPage;
pub use notifications::NotificationsPage;
pub use webhook_settings::WebhookSettingsPage;

use leptos::prelude::*;

/// What a page shows where its data could not be loaded: what is missing and why.
#[component]
pub fn Unavailable(what: &'static str, error: crate::api::FnError) -> impl IntoView {
    view! {
        <div class="empty" role="alert">
            <p class="empty-title">{format!("{what} are unavailable")}</p>
            <p>{error_text(&error)}</p>
        </div>
    }
}
