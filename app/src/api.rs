//! Server functions: the typed calls the browser makes to the server.
//!
//! Their bodies only resolve the [`Backend`] from context and delegate: the
//! logic lives in the server crate's service layer, which implements
//! [`Backend`], so server functions, REST handlers and socket handlers share it.

use leptos::prelude::*;

use crate::models::{
    ApiKeyInfo, BellState, CreatedApiKey, DashboardOverview, NotificationPage, NotificationQuery,
    NotificationUpdatedEvent, NotificationsMarkedReadEvent, RotatedSecret, TestReport, WebhookEvent,
    WebhookSettingsPatch, WebhookSettingsView,
};

#[cfg(feature = "ssr")]
pub use backend::{Backend, BackendHandle};

#[cfg(feature = "ssr")]
mod backend {
    use std::sync::Arc;

    use crate::models::{
        ApiKeyInfo, BellState, CreatedApiKey, DashboardOverview, NotificationPage, NotificationQuery,
        NotificationUpdatedEvent, NotificationsMarkedReadEvent, RotatedSecret, TestReport, WebhookEvent,
        WebhookSettingsPatch, WebhookSettingsView,
    };

    /// What server functions need from the server. Implemented by the server
    /// crate's service layer; `req` lets it resolve the caller (its `Ctx`).
    #[async_trait::async_trait]
    pub trait Backend: Send + Sync + 'static {
        /// The header's state for the calling principal's tenant.
        /// `Err` carries the HTTP status and a message safe to show to the client.
        async fn bell_state(&self, req: &http::request::Parts) -> Result<BellState, (u16, String)>;

        /// The dashboard page's figures for the caller's tenant.
        async fn dashboard(&self, req: &http::request::Parts) -> Result<DashboardOverview, (u16, String)>;

        /// Signs the browser in; `Ok` is the `Set-Cookie` value of the new session.
        async fn login(&self, req: &http::request::Parts, email: &str, password: &str)
            -> Result<String, (u16, String)>;

        /// Signs the browser out; `Ok` is the `Set-Cookie` value that clears the session.
        async fn logout(&self, req: &http::request::Parts) -> Result<String, (u16, String)>;

        /// Marks one notification read and/or dismissed, as `PATCH /api/notifications/{id}`;
        /// the answer carries the caller's unread count.
        async fn update_notification(
            &self,
            req: &http::request::Parts,
            id: &str,
            is_read: Option<bool>,
            is_dismissed: Option<bool>,
        ) -> Result<NotificationUpdatedEvent, (u16, String)>;

        /// A page of the caller's notifications, as `GET /api/notifications`.
        async fn notifications(
            &self,
            req: &http::request::Parts,
            query: &NotificationQuery,
        ) -> Result<NotificationPage, (u16, String)>;

        /// Makes `tenant_id` (one of the caller's) the tenant this browser acts
        /// on; `Ok` is the `Set-Cookie` value that remembers it.
        async fn switch_tenant(&self, req: &http::request::Parts, tenant_id: &str) -> Result<String, (u16, String)>;

        /// The tenant's webhook settings, as `GET /api/webhooks/settings`.
        async fn webhook_settings(&self, req: &http::request::Parts) -> Result<WebhookSettingsView, (u16, String)>;

        /// Changes webhook settings, as `PATCH /api/webhooks/settings` (admins).
        async fn update_webhook_settings(
            &self,
            req: &http::request::Parts,
            patch: &WebhookSettingsPatch,
        ) -> Result<WebhookSettingsView, (u16, String)>;

        /// A new webhook secret, as `POST /api/webhooks/settings/generate-secret` (admins).
        async fn rotate_secret(
            &self,
            req: &http::request::Parts,
            grace_seconds: u64,
        ) -> Result<RotatedSecret, (u16, String)>;

        /// "Send test webhook", as `POST /api/webhooks/settings/test` (admins).
        async fn send_test_webhook(&self, req: &http::request::Parts) -> Result<TestReport, (u16, String)>;

        /// The newest webhook events, as `GET /api/webhooks/events`.
        async fn webhook_events(&self, req: &http::request::Parts) -> Result<Vec<WebhookEvent>, (u16, String)>;

        /// The tenant's API keys, as `GET /api/keys` (admins).
        async fn api_keys(&self, req: &http::request::Parts) -> Result<Vec<ApiKeyInfo>, (u16, String)>;

        /// A new API key, as `POST /api/keys` (admins; the key is in this answer only).
        async fn create_api_key(
            &self,
            req: &http::request::Parts,
            name: &str,
            role: Option<&str>,
        ) -> Result<CreatedApiKey, (u16, String)>;

        /// Revokes a key, as `DELETE /api/keys/{id}` (admins).
        async fn revoke_api_key(&self, req: &http::request::Parts, id: &str) -> Result<(), (u16, String)>;

        /// Marks read everything the caller sees, as `POST /api/notifications/mark-all-read`.
        async fn mark_all_read(
            &self,
            req: &http::request::Parts,
        ) -> Result<NotificationsMarkedReadEvent, (u16, String)>;
    }

    /// The backend as provided in Leptos context.
    #[derive(Clone)]
    pub struct BackendHandle(pub Arc<dyn Backend>);
}

/// The notification bell's initial state: tenant, unread count, latest notifications.
#[server(endpoint = "bell-state")]
pub async fn get_bell_state() -> Result<BellState, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.bell_state(&parts).await.map_err(refused)
}

/// The dashboard page: today's order figures, recent orders, recent activity.
#[server(endpoint = "dashboard-overview")]
pub async fn get_dashboard() -> Result<DashboardOverview, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.dashboard(&parts).await.map_err(refused)
}

/// Signs in with email and password; the session travels in an HttpOnly cookie.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    let cookie = backend.0.login(&parts, &email, &password).await.map_err(refused)?;
    set_cookie(&cookie);
    Ok(())
}

/// Signs out: ends the session and clears its cookie.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    let cookie = backend.0.logout(&parts).await.map_err(refused)?;
    set_cookie(&cookie);
    Ok(())
}

/// Marks a notification read and/or dismissed; every tab hears of it.
#[server(endpoint = "notification-update")]
pub async fn update_notification(
    id: String,
    is_read: Option<bool>,
    is_dismissed: Option<bool>,
) -> Result<NotificationUpdatedEvent, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.update_notification(&parts, &id, is_read, is_dismissed).await.map_err(refused)
}

/// A page of the caller's notifications (filters and cursor as `GET /api/notifications`).
#[server(endpoint = "notification-page")]
pub async fn list_notifications(query: NotificationQuery) -> Result<NotificationPage, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.notifications(&parts, &query).await.map_err(refused)
}

/// Switches this browser to another of the caller's tenants (the header's switcher).
#[server(endpoint = "switch-tenant")]
pub async fn switch_tenant(tenant_id: String) -> Result<(), ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    let cookie = backend.0.switch_tenant(&parts, &tenant_id).await.map_err(refused)?;
    set_cookie(&cookie);
    Ok(())
}

/// The tenant's webhook settings, secret hint and webhook URLs.
#[server(endpoint = "webhook-settings")]
pub async fn get_webhook_settings() -> Result<WebhookSettingsView, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.webhook_settings(&parts).await.map_err(refused)
}

/// Changes the webhook settings given (admins).
#[server(endpoint = "webhook-settings-update")]
pub async fn update_webhook_settings(patch: WebhookSettingsPatch) -> Result<WebhookSettingsView, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.update_webhook_settings(&parts, &patch).await.map_err(refused)
}

/// Generates a new webhook secret (admins); the old one stays valid `grace_seconds`.
#[server(endpoint = "webhook-secret-rotate")]
pub async fn rotate_webhook_secret(grace_seconds: u64) -> Result<RotatedSecret, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.rotate_secret(&parts, grace_seconds).await.map_err(refused)
}

/// Sends a signed test notification to the tenant's own URL (admins).
#[server(endpoint = "webhook-test")]
pub async fn send_test_webhook() -> Result<TestReport, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.send_test_webhook(&parts).await.map_err(refused)
}

/// The newest webhook events of the tenant.
#[server(endpoint = "webhook-events")]
pub async fn list_webhook_events() -> Result<Vec<WebhookEvent>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.webhook_events(&parts).await.map_err(refused)
}

/// The tenant's API keys (admins): names, prefixes, roles, use; never a key.
#[server(endpoint = "api-keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyInfo>, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.api_keys(&parts).await.map_err(refused)
}

/// Creates an API key (admins); the answer is the only time the key is shown.
#[server(endpoint = "api-key-create")]
pub async fn create_api_key(name: String, role: Option<String>) -> Result<CreatedApiKey, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.create_api_key(&parts, &name, role.as_deref()).await.map_err(refused)
}

/// Revokes an API key at once (admins).
#[server(endpoint = "api-key-revoke")]
pub async fn revoke_api_key(id: String) -> Result<(), ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.revoke_api_key(&parts, &id).await.map_err(refused)
}

/// Marks read every notification the caller sees; every tab hears of it.
#[server(endpoint = "mark-all-read")]
pub async fn mark_all_read() -> Result<NotificationsMarkedReadEvent, ServerFnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.mark_all_read(&parts).await.map_err(refused)
}

/// The service layer and the request's head, for a server function's body.
#[cfg(feature = "ssr")]
async fn backend_and_request() -> Result<(BackendHandle, http::request::Parts), ServerFnError> {
    let backend =
        use_context::<BackendHandle>().ok_or_else(|| ServerFnError::new("server misconfigured: no backend"))?;
    let parts: http::request::Parts = leptos_axum::extract().await?;
    Ok((backend, parts))
}

#[cfg(feature = "ssr")]
fn set_cookie(cookie: &str) {
    if let (Some(response), Ok(value)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(cookie))
    {
        response.insert_header(http::header::SET_COOKIE, value);
    }
}

/// A server function's error: the service layer's status on the response
/// (401, 403, … rather than a blanket 500) and its safe message.
#[cfg(feature = "ssr")]
fn refused((status, message): (u16, String)) -> ServerFnError {
    if let (Some(response), Ok(status)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(status))
    {
        response.set_status(status);
    }
    ServerFnError::new(message)
}
