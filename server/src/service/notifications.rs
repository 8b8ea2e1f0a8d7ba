//! The notification API of the seed (`/api/notifications`): list with the
//! seed's filters and a cursor, create, mark read / dismissed, mark all
//! read — each change announced to the tenant's dashboards, every answer
//! with the unread count the caller sees.
//!
//! Who sees what: a notification with a `userId` is that user's only; one
//! without is tenant-wide. A signed-in user views as themselves; an API key
//! (a program acting for the tenant) may name a `userId` to view as.
//! Read, dismissed and snoozed are each reader's own (see
//! [`crate::store::NotificationStore`]): one user's changes reach only their
//! own tabs. A new notification is unread for every reader, so one broadcast
//! of `new-notification` lets every bell add one to its own count.

pub use app::input::dashboard::{DEFAULT_PAGE, MAX_PAGE};
use app::{
    input::{ListNotifications, MarkAllRead, NewNotification, NotificationUpdate},
    models::{
        events, Notification, NotificationFilter, NotificationId, NotificationPage, NotificationUpdatedEvent,
        NotificationsMarkedReadEvent, PageCursor, TenantId, Timestamp, UserId,
    },
};

use super::{webhooks::notifications::Origin, Ctx, Principal, Services};
use crate::{
    error::{ApiError, FieldError},
    ids,
};

/// The longest `userId` a program may view as (as long as one a notification may name).
pub const MAX_USER_ID: usize = app::input::fields::MAX_TEXT;

/// The longest snooze: 30 days.
pub const MAX_SNOOZE: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

impl Services {
    /// Whose view the caller reads: a user always their own; programs (API
    /// keys, the development demo) whichever `userId` they name (in the form
    /// of [`UserId::named`]), or tenant-wide.
    fn viewer(ctx: &Ctx, asked: Option<&str>) -> Result<Option<UserId>, ApiError> {
        let asked = match asked.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) if a.chars().count() > MAX_USER_ID => {
                let message = format!("must be at most {MAX_USER_ID} characters");
                return Err(ApiError::Validation(vec![FieldError::new("userId", &message)]));
            }
            Some(a) => Some(UserId::named(a)),
            None => None,
        };
        match (&ctx.principal, asked) {
            (Principal::User { user_id }, None) => Ok(Some(user_id.clone())),
            (Principal::User { user_id }, Some(a)) if &a == user_id => Ok(Some(a)),
            (Principal::User { .. }, Some(_)) => {
                Err(ApiError::Forbidden("A user sees only their own and tenant-wide notifications".into()))
            }
            (_, asked) => Ok(asked),
        }
    }

    /// `GET /api/notifications`: newest first, a page of a checked size.
    pub async fn list_notifications_for(&self, ctx: &Ctx, q: &ListNotifications) -> Result<NotificationPage, ApiError> {
        let viewer = Self::viewer(ctx, q.user_id.as_deref())?;
        let filter = NotificationFilter { user_id: viewer.clone(), ..q.filter.clone() };
        let limit = q.page.limit;
        let notifications =
            self.store.list_notifications(&ctx.tenant_id, &filter, q.page.after.as_ref(), limit).await?;
        let unread_count = self.store.unread_count(&ctx.tenant_id, viewer.as_ref()).await?;
        let next_cursor = PageCursor::next_page(&notifications, limit, PageCursor::after);
        Ok(NotificationPage { notifications, unread_count, next_cursor })
    }

    /// `POST /api/notifications`: the webhook's fields and validation, from
    /// an authenticated caller (any member); announced like a webhook's.
    pub async fn create_notification_for(
        &self,
        ctx: &Ctx,
        input: NewNotification,
    ) -> Result<(Notification, u64), ApiError> {
        let actor = ctx.principal.actor();
        let origin = Origin { actor: &actor, source_ip: ctx.source_ip.clone() };
        let n = self.create_custom_notification(&ctx.tenant_id, input, origin, ids::now()).await?;
        let unread = self.store.unread_count(&ctx.tenant_id, ctx.viewer().as_ref()).await?;
        Ok((n, unread))
    }

    /// `PATCH /api/notifications/{id}` with `isRead` / `isDismissed` /
    /// `snoozedUntil`: the reader's own state (a user's; a program's for the
    /// `userId` it names, else for the tenant, or for the one user of a
    /// personal notification). 404 for a
    /// notification the caller does not see. Announced as
    /// `notification-updated` to that reader's sockets only.
    pub async fn update_notification_for(
        &self,
        ctx: &Ctx,
        id: &str,
        update: &NotificationUpdate,
    ) -> Result<(Notification, u64), ApiError> {
        let seen = self.visible_notification(ctx, id).await?;
        // A program may name whose state it changes; else the tenant's, or a personal one's user's.
        let reader = match update.user_id().filter(|u| !u.trim().is_empty()) {
            Some(asked) => Self::viewer(ctx, Some(asked))?,
            None => ctx.viewer().or(seen.user_id),
        };
        let now = ids::now();
        if let Some(Some(until)) = update.patch().snoozed_until {
            self.check_snooze(now, until)?;
        }
        let updated = self
            .store
            .update_notification(&ctx.tenant_id, &seen.id, reader.as_ref(), update.patch(), now)
            .await?
            .ok_or(ApiError::NotFound("Notification"))?;
        let unread_count = self.announce_reader_change(&ctx.tenant_id, reader.as_ref(), &updated).await?;
        Ok((updated, unread_count))
    }

    /// A snooze ends between the shortest snooze (`HOOKBELL_MIN_SNOOZE_SECS`) and 30 days from now.
    fn check_snooze(&self, now: Timestamp, until: Timestamp) -> Result<(), ApiError> {
        let ahead = until.since(now);
        if ahead < self.config.min_snooze || ahead > MAX_SNOOZE {
            return Err(ApiError::Validation(vec![FieldError::new(
                "snoozedUntil",
                "must be between 1 minute and 30 days from now",
            )]));
        }
        Ok(())
    }

    /// Tells one reader's open tabs that their state of `n` changed, with
    /// their unread count (answered too).
    pub(crate) async fn announce_reader_change(
        &self,
        tenant_id: &TenantId,
        reader: Option<&UserId>,
        n: &Notification,
    ) -> Result<u64, ApiError> {
        let unread_count = self.store.unread_count(tenant_id, reader).await?;
        let event = NotificationUpdatedEvent { notification: n.clone(), unread_count };
        self.broadcaster.to_reader(tenant_id, reader, events::NOTIFICATION_UPDATED, &event).await;
        Ok(unread_count)
    }

    /// `POST /api/notifications/mark-all-read`: everything the caller sees,
    /// for the caller only (a program: for the tenant, or the `userId` it
    /// names). Announced as `notifications-marked-read` to that reader's
    /// sockets, and answered, with their unread count.
    pub async fn mark_all_read_for(
        &self,
        ctx: &Ctx,
        input: &MarkAllRead,
    ) -> Result<NotificationsMarkedReadEvent, ApiError> {
        let viewer = Self::viewer(ctx, input.user_id.as_deref())?;
        let read_at = ids::now();
        let count = self.store.mark_all_read(&ctx.tenant_id, viewer.as_ref(), read_at).await?;
        let unread_count = self.store.unread_count(&ctx.tenant_id, viewer.as_ref()).await?;
        let event = NotificationsMarkedReadEvent {
            tenant_id: ctx.tenant_id.clone(),
            user_id: viewer,
            count,
            read_at,
            unread_count,
        };
        if count > 0 {
            self.broadcaster
                .to_reader(&ctx.tenant_id, event.user_id.as_ref(), events::NOTIFICATIONS_MARKED_READ, &event)
                .await;
        }
        Ok(event)
    }

    /// The notification `id` if the caller sees it; 404 otherwise (another
    /// tenant's, or another user's).
    async fn visible_notification(&self, ctx: &Ctx, id: &str) -> Result<Notification, ApiError> {
        let n = match NotificationId::parse(id) {
            Some(id) => self.store.get_notification(&ctx.tenant_id, &id).await?,
            None => None,
        };
        let n = n.ok_or(ApiError::NotFound("Notification"))?;
        if visible_to(&n, ctx.viewer().as_ref()) {
            Ok(n)
        } else {
            Err(ApiError::NotFound("Notification"))
        }
    }

    /// `notification-received` from a socket: the first delivery time of a
    /// notification of a tenant the caller belongs to (and sees).
    pub async fn notification_received(
        &self,
        caller: &super::ctx::Caller,
        tenant_id: &str,
        id: &str,
    ) -> Result<bool, ApiError> {
        let (Some(id), true) = (NotificationId::parse(id), caller.role_in(tenant_id).is_some()) else {
            return Err(ApiError::NotFound("Notification"));
        };
        let tenant_id = TenantId::from(tenant_id);
        let n = self.store.get_notification(&tenant_id, &id).await?.ok_or(ApiError::NotFound("Notification"))?;
        if !visible_to(&n, caller.user_id.as_ref()) {
            return Err(ApiError::NotFound("Notification"));
        }
        Ok(self.store.mark_delivered(&tenant_id, &id, ids::now()).await?)
    }
}

/// Whether a signed-in `user` (or, with `None`, a program acting for the
/// tenant) sees `n`: another user's personal notification is hidden from a user.
fn visible_to(n: &Notification, user: Option<&UserId>) -> bool {
    match (&n.user_id, user) {
        (Some(owner), Some(user)) => owner == user,
        _ => true,
    }
}
