//! Server functions: the typed calls the browser makes to the server.
//!
//! Their bodies only resolve the [`Backend`] from context and delegate: the
//! server's web layer implements [`Backend`] (`server/src/http/backend.rs`) by
//! calling the same service functions as the REST routes, so server functions,
//! REST handlers and socket handlers share one logic.

use leptos::{
    prelude::*,
    server_fn::{codec::JsonEncoding, error::FromServerFnError},
};
use serde::{Deserialize, Serialize};

use crate::models::{
    AccountView, ApiFailure, ApiKeyInfo, BellState, CreatedApiKey, CreatedInvitation, DashboardOverview,
    InvitationPreview, MembersView, NotificationPage, NotificationQuery, NotificationUpdatedEvent,
    NotificationsMarkedReadEvent, Preferences, ProviderConnectionView, RotatedSecret, TestReport, WebhookEvent,
    WebhookSettingsPatch, WebhookSettingsView,
};

#[cfg(feature = "ssr")]
pub use backend::{Backend, BackendHandle};

#[cfg(feature = "ssr")]
mod backend {
    use std::sync::Arc;

    use crate::models::{
        AccountView, ApiFailure, ApiKeyInfo, BellState, CreatedApiKey, CreatedInvitation, DashboardOverview,
        InvitationPreview, MembersView, NotificationPage, NotificationQuery, NotificationUpdatedEvent,
        NotificationsMarkedReadEvent, Preferences, ProviderConnectionView, RotatedSecret, TestReport, WebhookEvent,
        WebhookSettingsPatch, WebhookSettingsView,
    };

    /// What server functions need from the server. Implemented by the server
    /// crate's web layer; `req` lets it resolve the caller (its `Ctx`).
    #[async_trait::async_trait]
    pub trait Backend: Send + Sync + 'static {
        /// The header's state for the calling principal's tenant.
        /// `Err` is the one error shape, with the HTTP status to answer with.
        async fn bell_state(&self, req: &http::request::Parts) -> Result<BellState, ApiFailure>;

        /// The dashboard page's figures for the caller's tenant.
        async fn dashboard(&self, req: &http::request::Parts) -> Result<DashboardOverview, ApiFailure>;

        /// The caller's notification preferences, as `GET /api/me/preferences`.
        async fn preferences(&self, req: &http::request::Parts) -> Result<Preferences, ApiFailure>;

        /// Changes them as `PUT /api/me/preferences` with the same body `change`.
        async fn update_preferences(
            &self,
            req: &http::request::Parts,
            change: &serde_json::Map<String, serde_json::Value>,
        ) -> Result<Preferences, ApiFailure>;

        /// The tenant's connections to Shopify and Stripe, as `GET /api/webhooks/providers`.
        async fn providers(&self, req: &http::request::Parts) -> Result<Vec<ProviderConnectionView>, ApiFailure>;

        /// Connects or changes `provider` as `PUT /api/webhooks/providers/{provider}` with the body `change`.
        async fn save_provider(
            &self,
            req: &http::request::Parts,
            provider: &str,
            change: &serde_json::Map<String, serde_json::Value>,
        ) -> Result<ProviderConnectionView, ApiFailure>;

        /// Disconnects `provider` as `DELETE /api/webhooks/providers/{provider}`.
        async fn disconnect_provider(&self, req: &http::request::Parts, provider: &str) -> Result<(), ApiFailure>;

        /// Signs the browser in; `Ok` is the `Set-Cookie` value of the new session.
        async fn login(&self, req: &http::request::Parts, email: &str, password: &str) -> Result<String, ApiFailure>;

        /// Signs the browser out; `Ok` is the `Set-Cookie` value that clears the session.
        async fn logout(&self, req: &http::request::Parts) -> Result<String, ApiFailure>;

        /// Changes the caller's state of one notification (read, dismissed,
        /// snoozed), as `PATCH /api/notifications/{id}` with the same body
        /// `change`; the answer carries the caller's unread count.
        async fn update_notification(
            &self,
            req: &http::request::Parts,
            id: &str,
            change: &serde_json::Map<String, serde_json::Value>,
        ) -> Result<NotificationUpdatedEvent, ApiFailure>;

        /// A page of the caller's notifications, as `GET /api/notifications`.
        async fn notifications(
            &self,
            req: &http::request::Parts,
            query: &NotificationQuery,
        ) -> Result<NotificationPage, ApiFailure>;

        /// Makes `tenant_id` (one of the caller's) the tenant this browser acts
        /// on; `Ok` is the `Set-Cookie` value that remembers it.
        async fn switch_tenant(&self, req: &http::request::Parts, tenant_id: &str) -> Result<String, ApiFailure>;

        /// The tenant's webhook settings, as `GET /api/webhooks/settings`.
        async fn webhook_settings(&self, req: &http::request::Parts) -> Result<WebhookSettingsView, ApiFailure>;

        /// Changes webhook settings, as `PATCH /api/webhooks/settings` (admins).
        async fn update_webhook_settings(
            &self,
            req: &http::request::Parts,
            patch: &WebhookSettingsPatch,
        ) -> Result<WebhookSettingsView, ApiFailure>;

        /// A new webhook secret, as `POST /api/webhooks/settings/generate-secret` (admins).
        async fn rotate_secret(
            &self,
            req: &http::request::Parts,
            grace_seconds: u64,
        ) -> Result<RotatedSecret, ApiFailure>;

        /// "Send test webhook", as `POST /api/webhooks/settings/test` (admins).
        async fn send_test_webhook(&self, req: &http::request::Parts) -> Result<TestReport, ApiFailure>;

        /// The newest webhook events, as `GET /api/webhooks/events`.
        async fn webhook_events(&self, req: &http::request::Parts) -> Result<Vec<WebhookEvent>, ApiFailure>;

        /// The tenant's API keys, as `GET /api/keys` (admins).
        async fn api_keys(&self, req: &http::request::Parts) -> Result<Vec<ApiKeyInfo>, ApiFailure>;

        /// A new API key, as `POST /api/keys` (admins; the key is in this answer only).
        async fn create_api_key(
            &self,
            req: &http::request::Parts,
            name: &str,
            role: Option<&str>,
        ) -> Result<CreatedApiKey, ApiFailure>;

        /// Revokes a key, as `DELETE /api/keys/{id}` (admins).
        async fn revoke_api_key(&self, req: &http::request::Parts, id: &str) -> Result<(), ApiFailure>;

        /// Marks read everything the caller sees, as `POST /api/notifications/mark-all-read`.
        async fn mark_all_read(&self, req: &http::request::Parts) -> Result<NotificationsMarkedReadEvent, ApiFailure>;

        /// Settings → Members, as `GET /api/members` (admins).
        async fn members(&self, req: &http::request::Parts) -> Result<MembersView, ApiFailure>;

        /// Invites an email with a role, as `POST /api/members`.
        async fn invite_member(
            &self,
            req: &http::request::Parts,
            email: &str,
            role: Option<&str>,
        ) -> Result<CreatedInvitation, ApiFailure>;

        /// Changes a member's role, as `PATCH /api/members/{userId}` (owners).
        async fn change_member_role(
            &self,
            req: &http::request::Parts,
            user_id: &str,
            role: &str,
        ) -> Result<(), ApiFailure>;

        /// Removes a member, as `DELETE /api/members/{userId}` (owners).
        async fn remove_member(&self, req: &http::request::Parts, user_id: &str) -> Result<(), ApiFailure>;

        /// Revokes a pending invitation, as `DELETE /api/invitations/{id}`.
        async fn revoke_invitation(&self, req: &http::request::Parts, id: &str) -> Result<(), ApiFailure>;

        /// What an invitation's link invites to, as `POST /api/invitations/preview`.
        async fn invitation_preview(
            &self,
            req: &http::request::Parts,
            token: &str,
        ) -> Result<InvitationPreview, ApiFailure>;

        /// Accepts an invitation, as `POST /api/invitations/accept`; `Ok` is the `Set-Cookie` values.
        async fn accept_invitation(
            &self,
            req: &http::request::Parts,
            change: &serde_json::Map<String, serde_json::Value>,
        ) -> Result<Vec<String>, ApiFailure>;

        /// The caller's account, as `GET /api/me/account`.
        async fn account(&self, req: &http::request::Parts) -> Result<AccountView, ApiFailure>;

        /// A new password, as `POST /api/me/password`; `Ok` is how many other sessions ended,
        /// and the `Set-Cookie` of the browser's new session.
        async fn change_password(
            &self,
            req: &http::request::Parts,
            current: &str,
            new: &str,
        ) -> Result<(u64, Option<String>), ApiFailure>;

        /// Ends one of the caller's sessions, as `DELETE /api/me/sessions/{id}`.
        async fn end_session(&self, req: &http::request::Parts, id: &str) -> Result<(), ApiFailure>;

        /// Leaves one of the caller's tenants, as `POST /api/me/tenants/{tenantId}/leave`.
        async fn leave_tenant(&self, req: &http::request::Parts, tenant_id: &str) -> Result<(), ApiFailure>;

        /// Ends every session of the caller, as `POST /api/auth/logout-all`; `Ok` clears the cookie.
        async fn logout_everywhere(&self, req: &http::request::Parts) -> Result<String, ApiFailure>;
    }

    /// The backend as provided in Leptos context.
    #[derive(Clone)]
    pub struct BackendHandle(pub Arc<dyn Backend>);
}

/// The notification bell's initial state: tenant, unread count, latest notifications.
#[server(endpoint = "bell-state")]
pub async fn get_bell_state() -> Result<BellState, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.bell_state(&parts).await.map_err(refused)
}

/// The dashboard page: today's order figures, recent orders, recent activity.
#[server(endpoint = "dashboard-overview")]
pub async fn get_dashboard() -> Result<DashboardOverview, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.dashboard(&parts).await.map_err(refused)
}

/// Signs in with email and password; the session travels in an HttpOnly cookie.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), FnError> {
    let (backend, parts) = backend_and_request().await?;
    let cookie = backend.0.login(&parts, &email, &password).await.map_err(refused)?;
    set_cookie(&cookie);
    Ok(())
}

/// Signs out: ends the session and clears its cookie.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), FnError> {
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
) -> Result<NotificationUpdatedEvent, FnError> {
    let mut change = serde_json::Map::new();
    if let Some(read) = is_read {
        change.insert("isRead".into(), read.into());
    }
    if let Some(dismissed) = is_dismissed {
        change.insert("isDismissed".into(), dismissed.into());
    }
    let (backend, parts) = backend_and_request().await?;
    backend.0.update_notification(&parts, &id, &change).await.map_err(refused)
}

/// Snoozes a notification until `until` (RFC 3339), or with none wakes it:
/// the caller's own bell, count and tabs only.
#[server(endpoint = "notification-snooze")]
pub async fn snooze_notification(id: String, until: Option<String>) -> Result<NotificationUpdatedEvent, FnError> {
    let mut change = serde_json::Map::new();
    change.insert("snoozedUntil".into(), until.map_or(serde_json::Value::Null, serde_json::Value::String));
    let (backend, parts) = backend_and_request().await?;
    backend.0.update_notification(&parts, &id, &change).await.map_err(refused)
}

/// The caller's notification preferences.
#[server(endpoint = "preferences")]
pub async fn get_preferences() -> Result<Preferences, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.preferences(&parts).await.map_err(refused)
}

/// Changes the caller's preferences: `change` is the JSON object `PUT
/// /api/me/preferences` takes (its fields checked there); every tab hears of it.
#[server(endpoint = "preferences-save")]
pub async fn save_preferences(change: String) -> Result<Preferences, FnError> {
    let change = json_object(&change)?;
    let (backend, parts) = backend_and_request().await?;
    backend.0.update_preferences(&parts, &change).await.map_err(refused)
}

/// A server function's `change` argument: a JSON object, or 400.
#[cfg(feature = "ssr")]
fn json_object(change: &str) -> Result<serde_json::Map<String, serde_json::Value>, FnError> {
    match serde_json::from_str::<serde_json::Value>(change) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => {
            let failure =
                ApiFailure::new(400, ApiFailure::INVALID_ARGUMENTS, "Invalid arguments: change must be a JSON object");
            Err(refused(failure))
        }
    }
}

/// The tenant's connections to Shopify and Stripe (any member); never a secret.
#[server(endpoint = "providers")]
pub async fn list_providers() -> Result<Vec<ProviderConnectionView>, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.providers(&parts).await.map_err(refused)
}

/// Connects or changes `provider` (admins): `change` is the JSON object
/// `PUT /api/webhooks/providers/{provider}` takes (its fields checked there).
#[server(endpoint = "provider-save")]
pub async fn save_provider(provider: String, change: String) -> Result<ProviderConnectionView, FnError> {
    let change = json_object(&change)?;
    let (backend, parts) = backend_and_request().await?;
    backend.0.save_provider(&parts, &provider, &change).await.map_err(refused)
}

/// Disconnects `provider` (admins): its deliveries are refused from then on.
#[server(endpoint = "provider-disconnect")]
pub async fn disconnect_provider(provider: String) -> Result<(), FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.disconnect_provider(&parts, &provider).await.map_err(refused)
}

/// A page of the caller's notifications (filters and cursor as `GET /api/notifications`).
#[server(endpoint = "notification-page")]
pub async fn list_notifications(query: NotificationQuery) -> Result<NotificationPage, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.notifications(&parts, &query).await.map_err(refused)
}

/// Switches this browser to another of the caller's tenants (the header's switcher).
#[server(endpoint = "switch-tenant")]
pub async fn switch_tenant(tenant_id: String) -> Result<(), FnError> {
    let (backend, parts) = backend_and_request().await?;
    let cookie = backend.0.switch_tenant(&parts, &tenant_id).await.map_err(refused)?;
    set_cookie(&cookie);
    Ok(())
}

/// The tenant's webhook settings, secret hint and webhook URLs.
#[server(endpoint = "webhook-settings")]
pub async fn get_webhook_settings() -> Result<WebhookSettingsView, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.webhook_settings(&parts).await.map_err(refused)
}

/// Changes the webhook settings given (admins).
#[server(endpoint = "webhook-settings-update")]
pub async fn update_webhook_settings(patch: WebhookSettingsPatch) -> Result<WebhookSettingsView, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.update_webhook_settings(&parts, &patch).await.map_err(refused)
}

/// Generates a new webhook secret (admins); the old one stays valid `grace_seconds`.
#[server(endpoint = "webhook-secret-rotate")]
pub async fn rotate_webhook_secret(grace_seconds: u64) -> Result<RotatedSecret, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.rotate_secret(&parts, grace_seconds).await.map_err(refused)
}

/// Sends a signed test notification to the tenant's own URL (admins).
#[server(endpoint = "webhook-test")]
pub async fn send_test_webhook() -> Result<TestReport, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.send_test_webhook(&parts).await.map_err(refused)
}

/// The newest webhook events of the tenant.
#[server(endpoint = "webhook-events")]
pub async fn list_webhook_events() -> Result<Vec<WebhookEvent>, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.webhook_events(&parts).await.map_err(refused)
}

/// The tenant's API keys (admins): names, prefixes, roles, use; never a key.
#[server(endpoint = "api-keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyInfo>, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.api_keys(&parts).await.map_err(refused)
}

/// Creates an API key (admins); the answer is the only time the key is shown.
#[server(endpoint = "api-key-create")]
pub async fn create_api_key(name: String, role: Option<String>) -> Result<CreatedApiKey, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.create_api_key(&parts, &name, role.as_deref()).await.map_err(refused)
}

/// Revokes an API key at once (admins).
#[server(endpoint = "api-key-revoke")]
pub async fn revoke_api_key(id: String) -> Result<(), FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.revoke_api_key(&parts, &id).await.map_err(refused)
}

/// Marks read every notification the caller sees; every tab hears of it.
#[server(endpoint = "mark-all-read")]
pub async fn mark_all_read() -> Result<NotificationsMarkedReadEvent, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.mark_all_read(&parts).await.map_err(refused)
}

/// Settings → Members: the team, pending invitations and the caller's role (admins).
#[server(endpoint = "team")]
pub async fn get_members() -> Result<MembersView, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.members(&parts).await.map_err(refused)
}

/// Invites an email address with a role; the answer is the only time the link is shown.
#[server(endpoint = "member-invite")]
pub async fn invite_member(email: String, role: Option<String>) -> Result<CreatedInvitation, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.invite_member(&parts, &email, role.as_deref()).await.map_err(refused)
}

/// Changes a member's role (owners); a tenant keeps at least one owner.
#[server(endpoint = "member-role")]
pub async fn change_member_role(user_id: String, role: String) -> Result<(), FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.change_member_role(&parts, &user_id, &role).await.map_err(refused)
}

/// Removes a member (owners): their access to the tenant ends at once.
#[server(endpoint = "member-remove")]
pub async fn remove_member(user_id: String) -> Result<(), FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.remove_member(&parts, &user_id).await.map_err(refused)
}

/// Revokes a pending invitation: its link stops working.
#[server(endpoint = "invitation-revoke")]
pub async fn revoke_invitation(id: String) -> Result<(), FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.revoke_invitation(&parts, &id).await.map_err(refused)
}

/// What the invitation of `token` invites to (anyone holding its link).
#[server(endpoint = "invitation")]
pub async fn get_invitation(token: String) -> Result<InvitationPreview, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.invitation_preview(&parts, &token).await.map_err(refused)
}

/// Accepts an invitation: as the signed-in invitee, with a new account
/// (`name` and `password`), or with the existing account's `password`.
#[server(endpoint = "invitation-accept")]
pub async fn accept_invitation(token: String, name: Option<String>, password: String) -> Result<(), FnError> {
    let mut change = serde_json::Map::new();
    change.insert("token".into(), token.into());
    change.insert("password".into(), password.into());
    if let Some(name) = name {
        change.insert("name".into(), name.into());
    }
    let (backend, parts) = backend_and_request().await?;
    for cookie in backend.0.accept_invitation(&parts, &change).await.map_err(refused)? {
        set_cookie(&cookie);
    }
    Ok(())
}

/// The caller's account: sessions and tenants.
#[server(endpoint = "account")]
pub async fn get_account() -> Result<AccountView, FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.account(&parts).await.map_err(refused)
}

/// Changes the caller's password; every other session ends, and this browser
/// goes on with a new session cookie. The number of the other sessions ended.
#[server(endpoint = "password-change")]
pub async fn change_password(current_password: String, new_password: String) -> Result<u64, FnError> {
    let (backend, parts) = backend_and_request().await?;
    let (ended, cookie) = backend.0.change_password(&parts, &current_password, &new_password).await.map_err(refused)?;
    if let Some(cookie) = cookie {
        set_cookie(&cookie);
    }
    Ok(ended)
}

/// Signs out one of the caller's sessions.
#[server(endpoint = "session-end")]
pub async fn end_session(id: String) -> Result<(), FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.end_session(&parts, &id).await.map_err(refused)
}

/// Leaves one of the caller's tenants (not as its last owner).
#[server(endpoint = "tenant-leave")]
pub async fn leave_tenant(tenant_id: String) -> Result<(), FnError> {
    let (backend, parts) = backend_and_request().await?;
    backend.0.leave_tenant(&parts, &tenant_id).await.map_err(refused)
}

/// Signs out every session of the caller, this one included.
#[server(endpoint = "logout-all")]
pub async fn logout_everywhere() -> Result<(), FnError> {
    let (backend, parts) = backend_and_request().await?;
    let cookie = backend.0.logout_everywhere(&parts).await.map_err(refused)?;
    set_cookie(&cookie);
    Ok(())
}

/// The service layer and the request's head, for a server function's body.
#[cfg(feature = "ssr")]
async fn backend_and_request() -> Result<(BackendHandle, http::request::Parts), FnError> {
    let internal = || FnError(ApiFailure::new(500, "internal", "Internal server error"));
    let backend = use_context::<BackendHandle>().ok_or_else(internal)?;
    let parts: http::request::Parts = leptos_axum::extract().await.map_err(|_| internal())?;
    Ok((backend, parts))
}

#[cfg(feature = "ssr")]
fn set_cookie(cookie: &str) {
    if let (Some(response), Ok(value)) =
        (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(cookie))
    {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

/// A server function's error: the service layer's status (and `Retry-After`)
/// on the response rather than a blanket 500, the one error shape as its body.
#[cfg(feature = "ssr")]
fn refused(failure: ApiFailure) -> FnError {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(failure.status) {
            response.set_status(status);
        }
        if let Some(secs) = failure.retry_after {
            response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
    }
    FnError(failure)
}

/// The error of every server function: the one error shape
/// (`{"success": false, "error", "code", "details"}`), sent as JSON.
///
/// Failures of the framework itself map here too: arguments that are missing
/// or do not decode are the caller's fault (400, `invalid_arguments`, naming
/// serde's reason); the server answers them with that status (see the server's
/// server-function guard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FnError(pub ApiFailure);

impl FnError {
    /// The message to show.
    pub fn message(&self) -> &str {
        &self.0.error
    }
}

impl std::fmt::Display for FnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.error)
    }
}

impl std::error::Error for FnError {}

impl FromServerFnError for FnError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        FnError(match value {
            E::Args(m) | E::MissingArg(m) => {
                ApiFailure::new(400, ApiFailure::INVALID_ARGUMENTS, format!("Invalid arguments: {m}"))
            }
            // On the server: the request body could not be read or decoded.
            #[cfg(feature = "ssr")]
            E::Deserialization(m) => {
                ApiFailure::new(400, ApiFailure::INVALID_ARGUMENTS, format!("Invalid arguments: {m}"))
            }
            // In the browser: the answer did not decode.
            #[cfg(not(feature = "ssr"))]
            E::Deserialization(_) => ApiFailure::new(0, "bad_response", "The server's answer could not be read"),
            E::Request(m) => ApiFailure::new(0, "unreachable", format!("The server could not be reached: {m}")),
            _ => ApiFailure::new(500, "internal", "Internal server error"),
        })
    }
}
