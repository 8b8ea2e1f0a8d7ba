//! The server functions' [`Backend`]: each call reads what its request
//! presented, parses its arguments into the typed input of the operation and
//! calls the same service function as the REST route.

use app::{
    api::Backend,
    input::{
        AcceptInvitation, FromJson, ListEvents, ListNotifications, NewApiKey, NewInvitation, NotificationUpdate,
        PasswordChange, PreferencesUpdate, ProviderUpdate, RoleChange, RotateSecret, SettingsPatch,
    },
    models::{
        AccountView, ApiFailure, ApiKeyInfo, BellState, CreatedApiKey, CreatedInvitation, DashboardOverview,
        InvitationPreview, MembersView, NotificationPage, NotificationQuery, NotificationUpdatedEvent,
        NotificationsMarkedReadEvent, Preferences, ProviderConnectionView, RotatedSecret, TestReport, WebhookEvent,
        WebhookSettingsPatch, WebhookSettingsView,
    },
};
use axum::http::request::Parts;

use crate::{
    error::ApiError,
    request,
    service::{providers::provider_named, Ctx, Presented, Services, UserCtx},
};

type Failed = ApiFailure;

fn invalid(errors: Vec<app::models::FieldError>) -> Failed {
    ApiError::Validation(errors).server_fn_failure()
}

fn refused(e: ApiError) -> Failed {
    e.server_fn_failure()
}

impl Services {
    fn presented_of(&self, req: &Parts) -> Presented {
        request::presented(req, self.development())
    }

    /// The signed-in user of their own account (see [`Services::resolve_user_ctx`]).
    async fn user_ctx_of(&self, req: &Parts) -> Result<(UserCtx, Presented), Failed> {
        let presented = self.presented_of(req);
        let me = self.resolve_user_ctx(&presented).await.map_err(refused)?;
        Ok((me, presented))
    }

    async fn ctx_of(&self, req: &Parts) -> Result<(Ctx, Presented), Failed> {
        let presented = self.presented_of(req);
        let ctx = self.resolve_ctx(&presented).await.map_err(refused)?;
        Ok((ctx, presented))
    }
}

#[async_trait::async_trait]
impl Backend for Services {
    async fn bell_state(&self, req: &Parts) -> Result<BellState, Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        Services::bell_state(self, &ctx).await.map_err(refused)
    }

    async fn preferences(&self, req: &Parts) -> Result<Preferences, Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        self.preferences_for(&ctx).await.map_err(refused)
    }

    async fn update_preferences(
        &self,
        req: &Parts,
        change: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Preferences, Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        self.update_preferences_for(&ctx, PreferencesUpdate::from_json(change)).await.map_err(refused)
    }

    async fn dashboard(&self, req: &Parts) -> Result<DashboardOverview, Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        self.dashboard_overview(&ctx).await.map_err(refused)
    }

    async fn login(&self, req: &Parts, email: &str, password: &str) -> Result<String, Failed> {
        let presented = self.presented_of(req);
        let signed_in = self.sign_in(&presented, email, password).await.map_err(refused)?;
        Ok(request::session_set_cookie(self.config().mode, &presented, &signed_in.token))
    }

    async fn logout(&self, req: &Parts) -> Result<String, Failed> {
        let presented = self.presented_of(req);
        self.sign_out(&presented).await.map_err(refused)?;
        Ok(request::session_set_cookie(self.config().mode, &presented, ""))
    }

    async fn update_notification(
        &self,
        req: &Parts,
        id: &str,
        change: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<NotificationUpdatedEvent, Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        let update = NotificationUpdate::from_json(change).map_err(invalid)?;
        let (notification, unread_count) = self.update_notification_for(&ctx, id, &update).await.map_err(refused)?;
        Ok(NotificationUpdatedEvent { notification, unread_count })
    }

    async fn notifications(&self, req: &Parts, query: &NotificationQuery) -> Result<NotificationPage, Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        let query = ListNotifications::try_from(query).map_err(invalid)?;
        self.list_notifications_for(&ctx, &query).await.map_err(refused)
    }

    async fn switch_tenant(&self, req: &Parts, tenant_id: &str) -> Result<String, Failed> {
        let presented = self.presented_of(req);
        let chosen = self.choose_tenant(&presented, tenant_id).await.map_err(refused)?;
        Ok(request::tenant_set_cookie(self.config().mode, &presented, &chosen))
    }

    async fn webhook_settings(&self, req: &Parts) -> Result<WebhookSettingsView, Failed> {
        let (ctx, presented) = self.ctx_of(req).await?;
        let base = self.public_base(Some(&presented));
        Services::webhook_settings(self, &ctx, &base).await.map_err(refused)
    }

    async fn update_webhook_settings(
        &self,
        req: &Parts,
        patch: &WebhookSettingsPatch,
    ) -> Result<WebhookSettingsView, Failed> {
        let (ctx, presented) = self.ctx_of(req).await?;
        let base = self.public_base(Some(&presented));
        Services::update_webhook_settings(self, &ctx, SettingsPatch::try_from(patch), &base).await.map_err(refused)
    }

    async fn rotate_secret(&self, req: &Parts, grace_seconds: u64) -> Result<RotatedSecret, Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        Services::rotate_secret(self, &ctx, RotateSecret::new(grace_seconds)).await.map_err(refused)
    }

    async fn send_test_webhook(&self, req: &Parts) -> Result<TestReport, Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        Services::send_test_webhook(self, &ctx).await.map_err(refused)
    }

    async fn webhook_events(&self, req: &Parts) -> Result<Vec<WebhookEvent>, Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        let query = ListEvents::new(Default::default(), None, Some(20)).map_err(invalid)?;
        Services::webhook_events(self, &ctx, &query).await.map_err(refused)
    }

    async fn api_keys(&self, req: &Parts) -> Result<Vec<ApiKeyInfo>, Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        self.list_api_keys_for(&ctx).await.map_err(refused)
    }

    async fn create_api_key(&self, req: &Parts, name: &str, role: Option<&str>) -> Result<CreatedApiKey, Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        self.create_api_key_for(&ctx, NewApiKey::new(name, role)).await.map_err(refused)
    }

    async fn revoke_api_key(&self, req: &Parts, id: &str) -> Result<(), Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        self.revoke_api_key_for(&ctx, id).await.map_err(refused)
    }

    async fn providers(&self, req: &Parts) -> Result<Vec<ProviderConnectionView>, Failed> {
        let (ctx, presented) = self.ctx_of(req).await?;
        let base = self.public_base(Some(&presented));
        self.provider_connections(&ctx, &base).await.map_err(refused)
    }

    async fn save_provider(
        &self,
        req: &Parts,
        provider: &str,
        change: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<ProviderConnectionView, Failed> {
        let (ctx, presented) = self.ctx_of(req).await?;
        let provider = provider_named(provider).map_err(refused)?;
        let base = self.public_base(Some(&presented));
        self.update_provider(&ctx, provider, ProviderUpdate::parse(provider, change), &base).await.map_err(refused)
    }

    async fn disconnect_provider(&self, req: &Parts, provider: &str) -> Result<(), Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        self.delete_provider(&ctx, provider).await.map_err(refused)
    }

    async fn mark_all_read(&self, req: &Parts) -> Result<NotificationsMarkedReadEvent, Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        self.mark_all_read_for(&ctx, &Default::default()).await.map_err(refused)
    }

    async fn members(&self, req: &Parts) -> Result<MembersView, Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        self.members_view(&ctx).await.map_err(refused)
    }

    async fn invite_member(&self, req: &Parts, email: &str, role: Option<&str>) -> Result<CreatedInvitation, Failed> {
        let (ctx, presented) = self.ctx_of(req).await?;
        let base = self.public_base(Some(&presented));
        self.invite(&ctx, NewInvitation::new(email, role), &base).await.map_err(refused)
    }

    async fn change_member_role(&self, req: &Parts, user_id: &str, role: &str) -> Result<(), Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        let change = app::input::fields::parse_role(role).map(|role| RoleChange { role });
        Services::change_member_role(self, &ctx, user_id, change).await.map_err(refused)
    }

    async fn remove_member(&self, req: &Parts, user_id: &str) -> Result<(), Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        Services::remove_member(self, &ctx, user_id).await.map_err(refused)
    }

    async fn revoke_invitation(&self, req: &Parts, id: &str) -> Result<(), Failed> {
        let (ctx, _) = self.ctx_of(req).await?;
        Services::revoke_invitation(self, &ctx, id).await.map_err(refused)
    }

    async fn invitation_preview(&self, req: &Parts, token: &str) -> Result<InvitationPreview, Failed> {
        self.preview_invitation(&self.presented_of(req), token).await.map_err(refused)
    }

    async fn accept_invitation(
        &self,
        req: &Parts,
        change: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Vec<String>, Failed> {
        let input = AcceptInvitation::from_json(change).map_err(invalid)?;
        let presented = self.presented_of(req);
        let accepted = Services::accept_invitation(self, &presented, &input).await.map_err(refused)?;
        Ok(super::team::accepted_cookies(self.config().mode, &presented, &accepted))
    }

    async fn account(&self, req: &Parts) -> Result<AccountView, Failed> {
        let (me, presented) = self.user_ctx_of(req).await?;
        Services::account(self, &me, &presented).await.map_err(refused)
    }

    async fn change_password(&self, req: &Parts, current: &str, new: &str) -> Result<(u64, Option<String>), Failed> {
        let (me, presented) = self.user_ctx_of(req).await?;
        let mut change = serde_json::Map::new();
        change.insert("currentPassword".into(), current.into());
        change.insert("newPassword".into(), new.into());
        let changed = Services::change_password(self, &me, &presented, PasswordChange::from_json(&change))
            .await
            .map_err(refused)?;
        let cookie = super::team::password_changed_cookie(self.config().mode, &presented, &changed);
        Ok((changed.other_sessions_ended, cookie))
    }

    async fn end_session(&self, req: &Parts, id: &str) -> Result<(), Failed> {
        let (me, _) = self.user_ctx_of(req).await?;
        Services::end_session(self, &me, id).await.map_err(refused)
    }

    async fn leave_tenant(&self, req: &Parts, tenant_id: &str) -> Result<(), Failed> {
        let (me, _) = self.user_ctx_of(req).await?;
        Services::leave_tenant(self, &me, tenant_id).await.map_err(refused)
    }

    async fn logout_everywhere(&self, req: &Parts) -> Result<String, Failed> {
        let (me, _) = self.user_ctx_of(req).await?;
        self.sign_out_everywhere(&me).await.map_err(refused)?;
        Ok(request::session_set_cookie(self.config().mode, &self.presented_of(req), ""))
    }
}
