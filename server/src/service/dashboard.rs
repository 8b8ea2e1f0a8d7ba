//! What dashboards read: the bell's state, the dashboard page's figures, and
//! joining a tenant's live room.

use app::models::{
    BellState, DashboardOverview, Notification, NotificationFilter, NotificationId, Role, TenantId, Timestamp, UserId,
};

use crate::error::ApiError;

use super::{ctx::Credential, Ctx, Services};

/// How many notifications the header shows at first.
pub const LATEST_LIMIT: u32 = 10;

/// How many orders the dashboard's table shows.
pub const RECENT_ORDERS: u32 = 10;

/// How many activity entries the dashboard's feed shows.
pub const RECENT_ACTIVITY: u32 = 15;

impl Services {
    /// The header's state for the caller's tenant.
    pub async fn bell_state(&self, ctx: &Ctx) -> Result<BellState, ApiError> {
        let tenant = self.store.get_tenant(&ctx.tenant_id).await?.ok_or(ApiError::NotFound("Tenant"))?;
        let viewer = ctx.viewer();
        let unread_count = self.store.unread_count(&tenant.id, viewer.as_ref()).await?;
        let filter = NotificationFilter { user_id: viewer, ..Default::default() };
        let latest = self.store.list_notifications(&tenant.id, &filter, None, LATEST_LIMIT).await?;
        let user_name = match &ctx.principal {
            super::Principal::User { user_id } => self.store.get_user(user_id).await?.map(|u| u.name),
            _ => None,
        };
        let tenants = self.tenant_choices(ctx).await?;
        let preferences = match ctx.principal {
            super::Principal::ApiKey { .. } => Default::default(),
            _ => self.preferences_for(ctx).await?,
        };
        Ok(BellState {
            tenant_id: tenant.id,
            tenant_name: tenant.name,
            unread_count,
            latest,
            user_name,
            tenants,
            preferences,
            reader: ctx.viewer(),
        })
    }

    /// The dashboard page: today's orders (since midnight UTC) counted and
    /// summed, the newest orders, and the newest activity. Any member may read
    /// it; the addresses that requests came from and the team's changes are for admins only, and a
    /// user's personal notifications for that user only.
    pub async fn dashboard_overview(&self, ctx: &Ctx) -> Result<DashboardOverview, ApiError> {
        let since = Timestamp::from_datetime(crate::ids::now().to_datetime().replace_time(time::Time::MIDNIGHT));
        let tenant = &ctx.tenant_id;
        let (today, recent_orders, mut activity) = tokio::try_join!(
            self.store.order_stats(tenant, since),
            self.store.list_orders(tenant, RECENT_ORDERS),
            self.store.list_activity(tenant, RECENT_ACTIVITY),
        )?;
        if ctx.require(Role::Admin).is_err() {
            activity.iter_mut().for_each(|a| a.source_ip = None);
            // Who joined, left or was invited (with their emails) is for admins.
            activity.retain(|a| !a.action.starts_with("member.") && !a.action.starts_with("invitation."));
        }
        // A user's personal notification is news to that user only, as in the notification list.
        let viewer = ctx.viewer();
        activity.retain(|a| match (a.details.get("userId").and_then(|u| u.as_str()), viewer.as_deref()) {
            (Some(owner), Some(me)) => a.action != "notification.created" || owner == me,
            _ => true,
        });
        Ok(DashboardOverview { since, today, recent_orders, activity })
    }

    /// May the caller behind `credential` join `tenant_id`'s room? Only a
    /// tenant it belongs to (403 otherwise, the same for unknown tenants).
    /// Calls `enter` once it may (the caller's socket enters the tenant's and
    /// the reader's rooms then, before the count is taken, so nothing stored
    /// after the count goes unheard). Answers with the unread count its viewer
    /// sees and, when the client names the newest notification it has, what
    /// it missed since.
    pub async fn join_tenant(
        &self,
        credential: &Credential,
        tenant_id: &str,
        last_seen_id: Option<&str>,
        enter: impl FnOnce(&TenantId, Option<&UserId>) + Send,
    ) -> Result<Joined, ApiError> {
        let caller = self.caller(credential).await?;
        let tenant_id = TenantId::from(tenant_id.trim().to_ascii_lowercase());
        if caller.role_in(&tenant_id).is_none() {
            return Err(ApiError::Forbidden("Not allowed to join this tenant".into()));
        }
        // In the rooms before the count is taken: nothing stored after the count goes unheard.
        enter(&tenant_id, caller.user_id.as_ref());
        let unread_count = self.store.unread_count(&tenant_id, caller.user_id.as_ref()).await?;
        let mut joined = Joined { unread_count, user_id: caller.user_id, missed: None, refetch: false };
        if let Some(last) = last_seen_id {
            match self.missed_since(&tenant_id, joined.user_id.clone(), last).await? {
                Some(missed) => joined.missed = Some(missed),
                None => joined.refetch = true,
            }
        }
        Ok(joined)
    }

    /// Notifications newer than `last_seen_id` the viewer sees, newest first;
    /// `None` when there are more than [`RECOVERY_LIMIT`] or the id is unknown.
    async fn missed_since(
        &self,
        tenant_id: &TenantId,
        viewer: Option<UserId>,
        last_seen_id: &str,
    ) -> Result<Option<Vec<Notification>>, ApiError> {
        let last = match NotificationId::parse(&last_seen_id.trim().to_ascii_lowercase()) {
            Some(last_seen_id) => self.store.get_notification(tenant_id, &last_seen_id).await?,
            None => None,
        };
        let Some(last) = last else { return Ok(None) };
        let filter = NotificationFilter { user_id: viewer, ..Default::default() };
        let newest = self.store.list_notifications(tenant_id, &filter, None, RECOVERY_LIMIT + 1).await?;
        let missed: Vec<Notification> =
            newest.into_iter().take_while(|n| (n.created_at, &n.id) > (last.created_at, &last.id)).collect();
        Ok((missed.len() <= RECOVERY_LIMIT as usize).then_some(missed))
    }
}

/// The most missed notifications a rejoin's ack carries; beyond, `refetch`.
pub const RECOVERY_LIMIT: u32 = 100;

/// A socket's admission to a tenant room.
#[derive(Debug, Clone)]
pub struct Joined {
    pub unread_count: u64,
    /// The user whose personal room the socket joins too.
    pub user_id: Option<UserId>,
    pub missed: Option<Vec<Notification>>,
    pub refetch: bool,
}
