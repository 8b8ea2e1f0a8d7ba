//! `POST /api/webhooks/notifications`: a custom notification from a sender
//! (low stock, maintenance, anything), stored and pushed to the tenant.

use app::models::{ActivityEntry, Notification};
use serde_json::json;

use super::{validate::validate_notification, Accepted, Delivery};
use crate::{error::ApiError, ids, service::Services};

impl Services {
    pub(super) async fn webhook_notification(&self, d: Delivery<'_>) -> Result<Accepted, ApiError> {
        let input = validate_notification(&d.map).map_err(ApiError::Validation)?;
        let notification = Notification {
            id: ids::new_id(),
            tenant_id: d.tenant.id.clone(),
            user_id: input.user_id,
            title: input.title,
            message: input.message,
            kind: input.kind,
            priority: input.priority,
            action_url: input.action_url,
            action_text: input.action_text,
            metadata: input.metadata,
            is_read: false,
            is_dismissed: false,
            read_at: None,
            delivered_at: None,
            created_at: d.now.clone(),
        };
        let activity = ActivityEntry {
            id: ids::new_id(),
            tenant_id: d.tenant.id.clone(),
            actor: d.actor.to_owned(),
            action: "notification.created".into(),
            entity: "notification".into(),
            entity_id: notification.id.clone(),
            details: json!({
                "title": notification.title,
                "type": notification.kind.as_str(),
                "priority": notification.priority.as_str(),
            }),
            source_ip: d.source_ip,
            created_at: d.now.clone(),
        };
        self.store.create_notification(&notification, &activity).await?;
        let id = notification.id.clone();
        self.announce_notification(notification).await?;
        Ok(Accepted::new(true, false, "Notification created successfully", json!({"notificationId": id})))
    }
}
