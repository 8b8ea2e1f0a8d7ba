//! `POST /api/webhooks/payments`: moves an order's payment status along the
//! allowed transitions, idempotently, and tells the dashboards.

use app::models::{ActivityEntry, Notification, NotificationType, Order, OrderId, PaymentStatus, Priority, Timestamp};
use serde_json::json;

use app::input::PaymentUpdate;

use super::{Accepted, Delivery, Outcome};
use crate::{
    error::ApiError,
    ids,
    service::Services,
    store::{PaymentApplied, PaymentChange},
};

/// May a payment go from `from` to `to`? Pending settles as paid or failed; a
/// failed payment may be retried (back to pending, or paid); paid may be refunded.
pub fn transition_allowed(from: PaymentStatus, to: PaymentStatus) -> bool {
    use PaymentStatus::*;
    matches!((from, to), (Pending, Paid | Failed) | (Failed, Pending | Paid) | (Paid, Refunded))
}

impl Services {
    pub(super) async fn webhook_payment(&self, d: Delivery<'_>) -> Result<Accepted, ApiError> {
        let input = d.body.input::<PaymentUpdate>().map_err(ApiError::Validation)?;
        let tenant_id = d.tenant.id.clone();
        let order = match (&input.order_id, &input.order_number) {
            (Some(id), _) => self.store.get_order(&tenant_id, &OrderId::from(id)).await?,
            (None, Some(number)) => self.store.get_order_by_number(&tenant_id, number).await?,
            (None, None) => None,
        };
        let order = order.ok_or(ApiError::NotFound("Order"))?;
        if let (Some(number), Some(_)) = (&input.order_number, &input.order_id) {
            if *number != order.order_number {
                return Err(ApiError::Conflict(format!(
                    "orderNumber {number} does not match order {} ({})",
                    order.id, order.order_number
                )));
            }
        }
        let (from, to) = (order.payment_status, input.status);
        let same_payment = input.payment_id.is_none() || input.payment_id == order.payment_id;
        if from == to && !same_payment && order.payment_id.is_some() {
            return Err(ApiError::Conflict(format!(
                "Order {} is already {} under another paymentId",
                order.order_number,
                to.as_str()
            )));
        }
        if from != to && !transition_allowed(from, to) {
            return Err(ApiError::Conflict(format!(
                "Payment status cannot change from {} to {}",
                from.as_str(),
                to.as_str()
            )));
        }
        // Recording a payment id for the status the order already has announces nothing new.
        let notification = if from == to { None } else { payment_notification(&order, to, d.now) };
        let change = PaymentChange {
            tenant_id: tenant_id.clone(),
            order_id: order.id.clone(),
            from,
            to,
            payment_id: input.payment_id.clone(),
            at: d.now,
            notification: notification.clone(),
            activity: ActivityEntry {
                id: ids::new_id(),
                tenant_id: tenant_id.clone(),
                actor: d.actor.to_owned(),
                action: "payment.updated".into(),
                entity: "order".into(),
                entity_id: order.id.to_string(),
                details: json!({
                    "orderNumber": order.order_number,
                    "from": from.as_str(),
                    "to": to.as_str(),
                    "paymentId": input.payment_id,
                    "amountMinor": input.amount_minor,
                    "metadata": input.metadata,
                }),
                source_ip: d.source_ip,
                created_at: d.now,
            },
        };
        let answer = |outcome, message| {
            Accepted::new(
                outcome,
                message,
                json!({
                    "orderId": order.id,
                    "orderNumber": order.order_number,
                    "paymentStatus": to.as_str(),
                    "previousStatus": from.as_str(),
                }),
            )
        };
        match self.store.apply_payment(&change).await? {
            PaymentApplied::AlreadyApplied => Ok(answer(Outcome::Duplicate, "Payment status already recorded")),
            PaymentApplied::Conflict => {
                Err(ApiError::Raced("The order's payment status changed while this request was processed; retry"))
            }
            PaymentApplied::Applied => {
                if let Some(n) = notification {
                    self.announce_notification(n).await?;
                }
                self.announce_refresh(&tenant_id, "payment-updated", &["orders", "payments"]).await;
                Ok(answer(Outcome::Updated, "Payment status updated"))
            }
        }
    }
}

/// Failures and refunds deserve a notification; other changes show in the data.
fn payment_notification(order: &Order, to: PaymentStatus, now: Timestamp) -> Option<Notification> {
    let (title, kind, priority) = match to {
        PaymentStatus::Failed => ("Payment failed", NotificationType::Error, Priority::High),
        PaymentStatus::Refunded => ("Payment refunded", NotificationType::Warning, Priority::Medium),
        PaymentStatus::Pending | PaymentStatus::Paid => return None,
    };
    Some(Notification {
        title: format!("{title}: {}", order.order_number),
        message: format!(
            "The payment of {} {} for order {} is {}",
            app::models::format_minor(order.amount_minor, &order.currency),
            order.currency,
            order.order_number,
            to.as_str()
        ),
        kind,
        priority,
        metadata: json!({"orderId": order.id, "orderNumber": order.order_number, "paymentStatus": to.as_str()}),
        ..Notification::fresh(ids::new_id(), order.tenant_id.clone(), now)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        use PaymentStatus::*;
        let allowed: Vec<(PaymentStatus, PaymentStatus)> = PaymentStatus::ALL
            .into_iter()
            .flat_map(|a| PaymentStatus::ALL.into_iter().map(move |b| (a, b)))
            .filter(|(a, b)| transition_allowed(*a, *b))
            .collect();
        assert_eq!(allowed, [(Pending, Paid), (Pending, Failed), (Paid, Refunded), (Failed, Pending), (Failed, Paid)]);
    }
}
