//! `POST /api/webhooks/notifications`: a custom notification from a sender
//! (low stock, maintenance, anything), stored and pushed to the tenant.

use app::{
    input::NewNotification,
    models::{ActivityEntry, Notification, TenantId, Timestamp, UserId},
};
use serde_json::json;

use super::{Accepted, Delivery, Outcome};
use crate::{error::ApiError, ids, service::Services};

/// Who created a notification, for its audit entry.
pub struct Origin<'a> {
    pub actor: &'a str,
    pub source_ip: Option<String>,
}

impl Services {
    pub(super) async fn webhook_notification(&self, d: Delivery<'_>) -> Result<Accepted, ApiError> {
        let origin = Origin { actor: d.actor, source_ip: d.source_ip.clone() };
        let input = d.body.input::<NewNotification>().map_err(ApiError::Validation)?;
        let (notification, activity) = custom_notification(&d.tenant.id, input, origin, d.now);
        let id = &notification.id;
        let mut accepted =
            Accepted::new(Outcome::Created, "Notification created successfully", json!({"notificationId": id}));
        let receipt = Self::receipt(&d, &mut accepted);
        self.store_notification(notification, &activity, receipt.as_ref()).await?;
        Ok(accepted)
    }

    /// Stores a custom notification (the seed's fields) with its
    /// `notification.created` audit entry and announces it. The one path for
    /// the webhook and `POST /api/notifications`.
    pub async fn create_custom_notification(
        &self,
        tenant_id: &TenantId,
        input: NewNotification,
        origin: Origin<'_>,
        now: Timestamp,
    ) -> Result<Notification, ApiError> {
        let (notification, activity) = custom_notification(tenant_id, input, origin, now);
        self.store_notification(notification, &activity, None).await
    }

    /// Stores a new notification with its audit entry (and its webhook's
    /// receipt) in one write and announces it with the count the write answered.
    async fn store_notification(
        &self,
        notification: Notification,
        activity: &ActivityEntry,
        receipt: Option<&crate::store::Receipt>,
    ) -> Result<Notification, ApiError> {
        let unread_count = self.store.create_notification_with(&notification, activity, receipt).await?;
        self.announce_counted(notification.clone(), unread_count).await;
        Ok(notification)
    }
}

/// A custom notification (the seed's fields) and its `notification.created` audit entry.
fn custom_notification(
    tenant_id: &TenantId,
    input: NewNotification,
    origin: Origin<'_>,
    now: Timestamp,
) -> (Notification, ActivityEntry) {
    let notification = Notification {
        user_id: input.user_id.as_deref().map(UserId::named),
        title: input.title,
        message: input.message,
        kind: input.kind,
        priority: input.priority,
        action_url: input.action_url,
        action_text: input.action_text,
        metadata: input.metadata,
        ..Notification::fresh(ids::new_id(), tenant_id.clone(), now)
    };
    let activity = ActivityEntry {
        id: ids::new_id(),
        tenant_id: tenant_id.clone(),
        actor: origin.actor.to_owned(),
        action: "notification.created".into(),
        entity: "notification".into(),
        entity_id: notification.id.to_string(),
        details: json!({
            "title": notification.title,
            "type": notification.kind.as_str(),
            "priority": notification.priority.as_str(),
            // Whose it is (null: tenant-wide), so the dashboard shows it only to who may see it.
            "userId": notification.user_id,
        }),
        source_ip: origin.source_ip,
        created_at: now,
    };
    (notification, activity)
}
