//! What senders post, typed: the seed's three webhook bodies and the seed's
//! three use cases (checkout complete, low stock, maintenance), which become
//! an order and notifications. `tenantId` is added by the [`Sender`](crate::Sender).
//!
//! Money is given in minor units (cents) and sent as an exact decimal number
//! (`9999` → `99.99`), never through arithmetic on floats.

use hookbell_core::models::{NotificationType, OrderStatus, PaymentStatus, Priority};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

/// Serialises minor units as a JSON number with at most two decimals.
///
/// `minor as f64 / 100.0` is the double nearest to the exact decimal, and
/// serde_json prints the shortest text that reads back as that double; for
/// amounts the server accepts (at most 10^12 minor units, 13 digits) that text
/// is the exact decimal.
fn money<S: Serializer>(minor: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(*minor as f64 / 100.0)
}

fn money_opt<S: Serializer>(minor: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match minor {
        Some(m) => money(m, s),
        None => s.serialize_none(),
    }
}

/// `POST /api/webhooks/orders`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderWebhook {
    pub order_number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    /// Total in minor units.
    #[serde(rename = "amount", serialize_with = "money")]
    pub amount_minor: i64,
    /// ISO 4217 code; the server assumes USD when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<OrderLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// One line of an order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    pub quantity: u32,
    /// Unit price in minor units.
    #[serde(rename = "price", serialize_with = "money")]
    pub price_minor: i64,
}

/// `POST /api/webhooks/payments`: by `order_id` or `order_number`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentWebhook {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_number: Option<String>,
    pub status: PaymentStatus,
    /// Repeating a payment id is idempotent on the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    #[serde(rename = "amount", skip_serializing_if = "Option::is_none", serialize_with = "money_opt")]
    pub amount_minor: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// `POST /api/webhooks/notifications`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationWebhook {
    pub title: String,
    pub message: String,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub priority: Priority,
    /// A path starting with `/` or an `https://` URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_text: Option<String>,
    /// Only this user of the tenant sees it; everyone when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// The seed's `handleCheckoutComplete`: a paid order after a successful checkout.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckoutComplete {
    pub order_number: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub total_minor: i64,
    pub currency: Option<String>,
    pub items: Vec<OrderLine>,
    /// e.g. `stripe`; recorded in the order's metadata.
    pub payment_method: Option<String>,
}

impl From<&CheckoutComplete> for OrderWebhook {
    fn from(c: &CheckoutComplete) -> Self {
        OrderWebhook {
            order_number: c.order_number.clone(),
            customer_name: c.customer_name.clone(),
            customer_email: c.customer_email.clone(),
            amount_minor: c.total_minor,
            currency: c.currency.clone(),
            status: Some(OrderStatus::Paid),
            items: c.items.clone(),
            metadata: Some(json!({
                "source": "checkout",
                "paymentMethod": c.payment_method,
            })),
        }
    }
}

/// The seed's `sendLowStockAlert`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LowStockAlert {
    pub product_id: String,
    pub product_name: String,
    pub stock_level: i64,
    pub low_stock_threshold: i64,
}

impl From<&LowStockAlert> for NotificationWebhook {
    fn from(a: &LowStockAlert) -> Self {
        let out = a.stock_level <= 0;
        NotificationWebhook {
            title: if out { "Out of stock".into() } else { "Low stock alert".into() },
            message: format!("{} has {} left (threshold {})", a.product_name, a.stock_level, a.low_stock_threshold),
            kind: if out { NotificationType::Error } else { NotificationType::Warning },
            priority: if out { Priority::Urgent } else { Priority::High },
            action_url: Some(format!("/products/{}", encode_path_segment(&a.product_id))),
            action_text: Some("Manage stock".into()),
            user_id: None,
            metadata: Some(json!({
                "productId": a.product_id,
                "productName": a.product_name,
                "stockLevel": a.stock_level,
                "lowStockThreshold": a.low_stock_threshold,
            })),
        }
    }
}

/// The seed's `sendMaintenanceNotification`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MaintenanceNotice {
    /// RFC 3339, e.g. `2024-01-15T02:00:00Z`.
    pub scheduled_time: String,
    /// Free text, e.g. `2 hours`.
    pub estimated_duration: String,
    pub affected_services: Vec<String>,
}

impl From<&MaintenanceNotice> for NotificationWebhook {
    fn from(m: &MaintenanceNotice) -> Self {
        let affected =
            if m.affected_services.is_empty() { "all services".to_owned() } else { m.affected_services.join(", ") };
        NotificationWebhook {
            title: "Scheduled maintenance".into(),
            message: format!(
                "Maintenance at {} for about {}; affected: {affected}",
                m.scheduled_time, m.estimated_duration
            ),
            kind: NotificationType::Info,
            priority: Priority::Medium,
            action_url: None,
            action_text: None,
            user_id: None,
            metadata: Some(json!({
                "scheduledTime": m.scheduled_time,
                "estimatedDuration": m.estimated_duration,
                "affectedServices": m.affected_services,
            })),
        }
    }
}

/// Percent-encodes everything but unreserved characters, for one path segment.
fn encode_path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_order_example_serialises_to_the_seed_shape() {
        let order = OrderWebhook {
            order_number: "ORD-12345".into(),
            customer_name: Some("John Doe".into()),
            customer_email: Some("john@example.com".into()),
            amount_minor: 9999,
            status: Some(OrderStatus::Paid),
            items: vec![OrderLine {
                product_id: Some("prod_123".into()),
                product_name: Some("Product Name".into()),
                quantity: 2,
                price_minor: 4999,
            }],
            metadata: Some(json!({"source": "shopify-headless"})),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&order).unwrap(),
            r#"{"orderNumber":"ORD-12345","customerName":"John Doe","customerEmail":"john@example.com","amount":99.99,"status":"paid","items":[{"productId":"prod_123","productName":"Product Name","quantity":2,"price":49.99}],"metadata":{"source":"shopify-headless"}}"#
        );
    }

    proptest::proptest! {
        #[test]
        fn money_is_sent_as_the_exact_decimal(minor in -1_000_000_000_000i64..=1_000_000_000_000) {
            let text = serde_json::to_string(&PaymentWebhook { amount_minor: Some(minor), ..Default::default() })
                .unwrap();
            let sent = text.split("\"amount\":").nth(1).unwrap().split([',', '}']).next().unwrap().to_owned();
            let (sign, abs) = if minor < 0 { ("-", minor.unsigned_abs()) } else { ("", minor as u64) };
            let exact = format!("{sign}{}.{:02}", abs / 100, abs % 100);
            let exact = exact.trim_end_matches('0').trim_end_matches('.');
            let sent_trimmed = if sent.contains('.') { sent.trim_end_matches('0').trim_end_matches('.') } else { &sent };
            proptest::prop_assert_eq!(sent_trimmed, exact);
        }
    }

    #[test]
    fn use_cases_become_the_seed_webhooks() {
        let alert = NotificationWebhook::from(&LowStockAlert {
            product_id: "prod 1/2".into(),
            product_name: "Mug".into(),
            stock_level: 5,
            low_stock_threshold: 10,
        });
        assert_eq!(alert.kind, NotificationType::Warning);
        assert_eq!(alert.action_url.as_deref(), Some("/products/prod%201%2F2"));
        assert_eq!(alert.metadata.as_ref().unwrap()["stockLevel"], 5);
        let out = NotificationWebhook::from(&LowStockAlert { stock_level: 0, ..Default::default() });
        assert_eq!((out.kind, out.priority), (NotificationType::Error, Priority::Urgent));

        let notice = NotificationWebhook::from(&MaintenanceNotice {
            scheduled_time: "2024-01-15T02:00:00Z".into(),
            estimated_duration: "2 hours".into(),
            affected_services: vec!["payments".into(), "orders".into()],
        });
        assert!(notice.message.contains("payments, orders"));
        assert_eq!(notice.metadata.unwrap()["affectedServices"][1], "orders");

        let order = OrderWebhook::from(&CheckoutComplete {
            order_number: "ORD-1".into(),
            total_minor: 9999,
            payment_method: Some("stripe".into()),
            ..Default::default()
        });
        assert_eq!(order.status, Some(OrderStatus::Paid));
        assert_eq!(order.metadata.unwrap()["paymentMethod"], "stripe");
    }
}
