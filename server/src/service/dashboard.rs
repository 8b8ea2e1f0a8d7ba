//! What dashboards read: the bell's state, and joining a tenant's live room.

use app::models::{BellState, NotificationFilter};

use crate::error::ApiError;

use super::{ctx::Credential, Ctx, Services};

/// How many notifications the header shows at first.
pub const LATEST_LIMIT: u32 = 10;

impl Services {
    /// The header's state for the caller's tenant.
    pub async fn bell_state(&self, ctx: &Ctx) -> Result<BellState, ApiError> {
        let tenant = self.store.get_tenant(&ctx.tenant_id).await?.ok_or(ApiError::NotFound("Tenant"))?;
        let viewer = ctx.viewer();
        let unread_count = self.store.unread_count(&tenant.id, viewer.as_deref()).await?;
        let filter = NotificationFilter { user_id: viewer, ..Default::default() };
        let latest = self.store.list_notifications(&tenant.id, &filter, None, LATEST_LIMIT).await?;
        let user_name = match &ctx.principal {
            super::Principal::User { user_id } => self.store.get_user(user_id).await?.map(|u| u.name),
            _ => None,
        };
        Ok(BellState { tenant_id: tenant.id, tenant_name: tenant.name, unread_count, latest, user_name })
    }

    /// May the caller behind `credential` join `tenant_id`'s room? Only a
    /// tenant it belongs to (403 otherwise, the same for unknown tenants);
    /// answers with the unread count its viewer sees.
    pub async fn join_tenant(
        &self,
        credential: &Credential,
        tenant_id: &str,
    ) -> Result<(u64, Option<String>), ApiError> {
        let caller = self.caller(credential).await?;
        let tenant_id = tenant_id.trim().to_ascii_lowercase();
        if caller.role_in(&tenant_id).is_none() {
            return Err(ApiError::Forbidden("Not allowed to join this tenant".into()));
        }
        let unread = self.store.unread_count(&tenant_id, caller.user_id.as_deref()).await?;
        Ok((unread, caller.user_id))
    }
}

#[async_trait::async_trait]
impl app::api::Backend for Services {
    async fn bell_state(&self, req: &axum::http::request::Parts) -> Result<BellState, (u16, String)> {
        let ctx = self.resolve_ctx(req).await.map_err(refused)?;
        Services::bell_state(self, &ctx).await.map_err(refused)
    }

    async fn login(
        &self,
        req: &axum::http::request::Parts,
        email: &str,
        password: &str,
    ) -> Result<String, (u16, String)> {
        let ip = req.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
        self.sign_in(&req.headers, ip, email, password).await.map(|(_, cookie)| cookie).map_err(refused)
    }

    async fn logout(&self, req: &axum::http::request::Parts) -> Result<String, (u16, String)> {
        self.sign_out(&req.headers).await.map_err(refused)
    }
}

/// A service error as a server function reports it: status and safe message.
fn refused(e: ApiError) -> (u16, String) {
    if let ApiError::Internal(cause) = &e {
        tracing::error!(%cause, "server function failed");
    }
    (e.status().as_u16(), e.public_message())
}
