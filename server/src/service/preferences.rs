//! `GET/PUT /api/me/preferences` and their server functions: a signed-in
//! user's notification preferences (the development demo has its own).
//! A change reaches every open tab of the user at once (`preferences-updated`).
//! And `GET /api/me/connections`: how many live connections the caller holds.

use app::{
    input::{Parsed, PreferencesUpdate},
    models::{events, Preferences},
};

use super::{Ctx, Principal, Services};
use crate::error::ApiError;

/// The development demo's preferences are kept under this owner.
const DEMO_OWNER: &str = "demo";

impl Services {
    /// Whose preferences the caller has: a user's own; programs have none.
    fn preferences_owner(ctx: &Ctx) -> Result<String, ApiError> {
        match &ctx.principal {
            Principal::User { user_id } => Ok(user_id.to_string()),
            Principal::DevDemo => Ok(DEMO_OWNER.to_owned()),
            Principal::ApiKey { .. } => Err(ApiError::Forbidden("Preferences belong to a signed-in user".into())),
        }
    }

    /// The caller's preferences (the defaults until they change one).
    pub async fn preferences_for(&self, ctx: &Ctx) -> Result<Preferences, ApiError> {
        let owner = Self::preferences_owner(ctx)?;
        Ok(self.store.get_preferences(&owner).await?.unwrap_or_default())
    }

    /// How many live connections the caller has open (their browsers' tabs,
    /// or one per browser where tabs share one), on every node.
    pub async fn open_connections_for(&self, ctx: &Ctx) -> usize {
        self.broadcaster.count(ctx.principal.sockets()).await
    }

    /// Changes the caller's preferences; every tab of theirs hears of it.
    pub async fn update_preferences_for(
        &self,
        ctx: &Ctx,
        update: Parsed<PreferencesUpdate>,
    ) -> Result<Preferences, ApiError> {
        let owner = Self::preferences_owner(ctx)?;
        let update = update.map_err(ApiError::Validation)?;
        let now = self.store.update_preferences(&owner, &update.0).await?;
        self.broadcaster.to_sockets(ctx.principal.sockets(), events::PREFERENCES_UPDATED, &now).await;
        Ok(now)
    }
}
