//! One module per page of the app.

mod api_keys;
mod dashboard;
mod login;
mod not_found;
mod notifications;
mod webhook_settings;

pub use api_keys::ApiKeysPage;
pub use dashboard::DashboardPage;
pub use login::{error_text, LoginPage};
pub use not_found::NotFound;
pub use notifications::NotificationsPage;
pub use webhook_settings::WebhookSettingsPage;
