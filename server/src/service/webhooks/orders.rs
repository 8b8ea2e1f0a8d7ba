//! `POST /api/webhooks/orders`: a new order, its notification and audit entry.

use app::models::{format_minor, ActivityEntry, Notification, NotificationType, Order, Priority, Timestamp};
use serde_json::json;

use app::input::NewOrder;

use super::{Accepted, Delivery, Outcome};
use crate::{error::ApiError, ids, service::Services, store::CreateOrder};

impl Services {
    /// Stores the order once per (tenant, orderNumber); a repeat answers 200
    /// with the first order's id and `"duplicate": true`, changing nothing.
    pub(super) async fn webhook_order(&self, d: Delivery<'_>) -> Result<Accepted, ApiError> {
        let tenant_id = d.tenant.id.clone();
        let order = d.body.input::<NewOrder>().map_err(ApiError::Validation)?.into_order(
            d.order_id.clone().unwrap_or_else(ids::new_id),
            &tenant_id,
            d.now,
        );
        let notification = order_notification(&order, d.now);
        let activity = ActivityEntry {
            id: ids::new_id(),
            tenant_id: tenant_id.clone(),
            actor: d.actor.to_owned(),
            action: "order.created".into(),
            entity: "order".into(),
            entity_id: order.id.to_string(),
            details: json!({
                "orderNumber": order.order_number,
                "amountMinor": order.amount_minor,
                "currency": order.currency,
                "status": order.status.as_str(),
            }),
            source_ip: d.source_ip.clone(),
            created_at: d.now,
        };
        let mut accepted = Accepted::new(
            Outcome::Created,
            "Order created successfully",
            json!({"orderId": order.id, "orderNumber": order.order_number}),
        );
        let receipt = Self::receipt(&d, &mut accepted);
        let written = self.store.create_order_with(&order, &notification, &activity, receipt.as_ref()).await?;
        match written.outcome {
            CreateOrder::Duplicate { existing_order_id } => Ok(Accepted::new(
                Outcome::Duplicate,
                "Order already received",
                json!({"orderId": existing_order_id, "orderNumber": order.order_number}),
            )),
            CreateOrder::Created => {
                match written.unread_count {
                    Some(unread_count) => self.announce_counted(notification, unread_count).await,
                    None => self.announce_notification(notification).await?,
                }
                self.announce_refresh(&tenant_id, "order-created", &["orders", "notifications"]).await;
                Ok(accepted)
            }
        }
    }
}

/// The notification that announces a new order.
pub(super) fn order_notification(order: &Order, now: Timestamp) -> Notification {
    let who = order.customer_name.clone().unwrap_or_else(|| "A customer".into());
    Notification {
        title: format!("New order {}", order.order_number),
        message: format!(
            "{who} placed an order of {} {}",
            format_minor(order.amount_minor, &order.currency),
            order.currency
        ),
        kind: NotificationType::Success,
        priority: Priority::Medium,
        metadata: serde_json::json!({
            "orderId": order.id,
            "orderNumber": order.order_number,
            "amountMinor": order.amount_minor,
            "currency": order.currency,
        }),
        ..Notification::fresh(ids::new_id(), order.tenant_id.clone(), now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::webhooks::parse_body;

    #[test]
    fn the_notification_says_who_ordered_what() {
        let map =
            parse_body(br#"{"orderNumber":"ORD-12345","customerName":"John Doe","amount":99.99,"status":"paid"}"#)
                .unwrap();
        let (tenant, now) = ("507f1f77bcf86cd799439011".into(), Timestamp::now());
        let order = map.input::<NewOrder>().unwrap().into_order(ids::new_id(), &tenant, now);
        let n = order_notification(&order, now);
        assert_eq!(n.title, "New order ORD-12345");
        assert_eq!(n.message, "John Doe placed an order of 99.99 USD");
        assert_eq!(n.metadata["orderId"], order.id.as_str());
    }
}
