//! What dashboards read: the bell's state, and joining a tenant's live room.

use app::models::BellState;

use crate::error::ApiError;

use super::{Ctx, Services};

/// How many notifications the header shows at first.
pub const LATEST_LIMIT: u32 = 10;

impl Services {
    /// The header's state for the caller's tenant.
    pub async fn bell_state(&self, ctx: &Ctx) -> Result<BellState, ApiError> {
        let tenant = self.store.get_tenant(&ctx.tenant_id).await?.ok_or(ApiError::NotFound("Tenant"))?;
        let unread_count = self.store.unread_count(&tenant.id, None).await?;
        let latest = self.store.list_notifications(&tenant.id, &Default::default(), None, LATEST_LIMIT).await?;
        Ok(BellState { tenant_id: tenant.id, tenant_name: tenant.name, unread_count, latest })
    }

    /// May a socket join `tenant_id`'s room? Answers with the unread count.
    ///
    /// Until sign-in exists any existing tenant may be joined (the seed's
    /// behaviour); the identity issue restricts this to the caller's tenants.
    pub async fn join_tenant(&self, tenant_id: &str) -> Result<u64, ApiError> {
        if !crate::ids::is_id(tenant_id) || self.store.get_tenant(tenant_id).await?.is_none() {
            return Err(ApiError::Forbidden("Not allowed to join this tenant".into()));
        }
        Ok(self.store.unread_count(tenant_id, None).await?)
    }
}

#[async_trait::async_trait]
impl app::api::Backend for Services {
    async fn bell_state(&self, req: &axum::http::request::Parts) -> Result<BellState, String> {
        let ctx = self.resolve_ctx(req).await.map_err(|e| e.public_message())?;
        Services::bell_state(self, &ctx).await.map_err(|e| {
            if let ApiError::Internal(cause) = &e {
                tracing::error!(%cause, "bell_state failed");
            }
            e.public_message()
        })
    }
}
