//! What the three webhook endpoints accept: an order, a notification, a
//! payment change, each parsed from the seed's JSON fields.

use serde_json::{Map, Value};

use super::{
    fields::{is_email, is_id, is_safe_action_url, Fields},
    FromJson,
};
use crate::models::{
    money::{minor_digits, parse_amount},
    FieldError, NotificationType, Order, OrderId, OrderItem, OrderStatus, PaymentStatus, Priority, TenantId, Timestamp,
};

const MAX_ITEMS: usize = 1000;

/// A webhook delivery's body as received: a JSON object naming its tenant,
/// parsed into the endpoint's input once its signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookBody(Map<String, Value>);

impl WebhookBody {
    /// A JSON object, or the parser's message.
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        super::parse_object(body).map(Self)
    }

    /// `tenantId`, when it is a string that is not blank.
    pub fn tenant_id(&self) -> Option<&str> {
        self.0.get("tenantId").and_then(Value::as_str).filter(|s| !s.trim().is_empty())
    }

    /// The endpoint's input, every bad field named.
    pub fn input<T: FromJson>(&self) -> Result<T, Vec<FieldError>> {
        T::from_json(&self.0)
    }
}

impl From<Map<String, Value>> for WebhookBody {
    /// A body made by hookbell itself (a provider's payload mapped to ours).
    fn from(map: Map<String, Value>) -> Self {
        Self(map)
    }
}
const MAX_TITLE: usize = 200;
const MAX_MESSAGE: usize = 2000;
const MAX_ACTION_TEXT: usize = 60;

/// An order webhook's fields (`POST /api/webhooks/orders`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    pub order_number: String,
    pub customer_name: Option<String>,
    pub customer_email: Option<String>,
    pub amount_minor: i64,
    /// ISO 4217, upper case (default USD).
    pub currency: String,
    pub status: OrderStatus,
    pub items: Vec<OrderItem>,
    pub metadata: Value,
}

impl NewOrder {
    /// The order as stored: a paid order starts paid, any other pending payment.
    pub fn into_order(self, id: OrderId, tenant_id: &TenantId, now: Timestamp) -> Order {
        Order {
            id,
            tenant_id: tenant_id.clone(),
            order_number: self.order_number,
            customer_name: self.customer_name,
            customer_email: self.customer_email,
            amount_minor: self.amount_minor,
            currency: self.currency,
            status: self.status,
            payment_status: if self.status == OrderStatus::Paid { PaymentStatus::Paid } else { PaymentStatus::Pending },
            payment_id: None,
            items: self.items,
            metadata: self.metadata,
            created_at: now,
            updated_at: now,
        }
    }
}

impl FromJson for NewOrder {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::new(map);
        let order_number = f.text("orderNumber", true);
        let customer_name = f.text("customerName", false);
        let customer_email = f.text("customerEmail", false);
        if let Some(email) = &customer_email {
            if !is_email(email) {
                f.fail("customerEmail", "must be an email address");
            }
        }
        let currency = f.currency("currency").unwrap_or_else(|| "USD".to_owned());
        // In the currency's own minor units: cents, yen, fils.
        let digits = minor_digits(&currency);
        if map.get("amount").is_none_or(Value::is_null) {
            f.fail("amount", "is required");
        }
        let amount_minor = f.money_in("amount", digits).unwrap_or(0);
        let status = f
            .one_of(
                "status",
                OrderStatus::parse,
                "pending, paid, processing, shipped, completed, cancelled, refunded, failed",
                Some(OrderStatus::Pending),
            )
            .unwrap_or(OrderStatus::Pending);
        let items = order_items(&mut f, map.get("items"), digits);
        let metadata = f.metadata();
        f.finish(|| NewOrder {
            order_number: order_number.unwrap_or_default(),
            customer_name,
            customer_email,
            amount_minor,
            currency,
            status,
            items,
            metadata,
        })
    }
}

/// An order's `items`, each bad field named as `items[i].field`.
fn order_items(f: &mut Fields<'_>, items: Option<&Value>, digits: u32) -> Vec<OrderItem> {
    let mut out = Vec::new();
    match items {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) if list.len() > MAX_ITEMS => f.fail("items", "has too many entries"),
        Some(Value::Array(list)) => {
            for (i, item) in list.iter().enumerate() {
                let Value::Object(obj) = item else {
                    f.fail(&format!("items[{i}]"), "must be an object");
                    continue;
                };
                let mut inner = Fields::new(obj);
                let product_id = inner.text("productId", false);
                let product_name = inner.text("productName", false);
                let quantity = match obj.get("quantity") {
                    Some(Value::Number(n)) => match n.as_u64() {
                        Some(q) if (1..=1_000_000).contains(&q) => q as u32,
                        _ => {
                            inner.fail("quantity", "must be a whole number of at least 1");
                            0
                        }
                    },
                    None => {
                        inner.fail("quantity", "is required");
                        0
                    }
                    Some(_) => {
                        inner.fail("quantity", "must be a whole number of at least 1");
                        0
                    }
                };
                let price_minor = match obj.get("price") {
                    None | Some(Value::Null) => 0,
                    Some(v) => match parse_amount(v, digits) {
                        Ok(m) if m >= 0 => m,
                        Ok(_) => {
                            inner.fail("price", "must be at least 0");
                            0
                        }
                        Err(msg) => {
                            inner.fail("price", msg);
                            0
                        }
                    },
                };
                for e in inner.errors {
                    f.errors.push(FieldError::new(format!("items[{i}].{}", e.field), e.message));
                }
                out.push(OrderItem { product_id, product_name, quantity, price_minor });
            }
        }
        Some(_) => f.fail("items", "must be an array"),
    }
    out
}

/// A custom notification (`POST /api/webhooks/notifications`, `POST /api/notifications`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub user_id: Option<String>,
    pub title: String,
    pub message: String,
    pub kind: NotificationType,
    pub priority: Priority,
    pub action_url: Option<String>,
    pub action_text: Option<String>,
    pub metadata: Value,
}

impl FromJson for NewNotification {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::new(map);
        let title = f.text("title", true);
        let message = f.text("message", true);
        if title.as_ref().is_some_and(|t| t.chars().count() > MAX_TITLE) {
            f.fail("title", &format!("must be at most {MAX_TITLE} characters"));
        }
        if message.as_ref().is_some_and(|m| m.chars().count() > MAX_MESSAGE) {
            f.fail("message", &format!("must be at most {MAX_MESSAGE} characters"));
        }
        let kind =
            f.one_of("type", NotificationType::parse, "info, success, warning, error", Some(NotificationType::Info));
        let priority = f.one_of("priority", Priority::parse, "low, medium, high, urgent", Some(Priority::Medium));
        let action_url = match map.get("actionUrl") {
            None | Some(Value::Null) => None,
            Some(Value::String(u)) if is_safe_action_url(u.trim()) => Some(u.trim().to_owned()),
            Some(_) => {
                f.fail("actionUrl", "must be a path starting with / or an https:// URL");
                None
            }
        };
        let action_text = f.text("actionText", false);
        if action_text.as_ref().is_some_and(|t| t.chars().count() > MAX_ACTION_TEXT) {
            f.fail("actionText", &format!("must be at most {MAX_ACTION_TEXT} characters"));
        }
        let user_id = f.text("userId", false);
        let metadata = f.metadata();
        f.finish(|| NewNotification {
            user_id,
            title: title.unwrap_or_default(),
            message: message.unwrap_or_default(),
            kind: kind.unwrap_or_default(),
            priority: priority.unwrap_or_default(),
            action_url,
            action_text,
            metadata,
        })
    }
}

/// A payment webhook's fields (`POST /api/webhooks/payments`).
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentUpdate {
    /// Lower case.
    pub order_id: Option<String>,
    pub order_number: Option<String>,
    pub status: PaymentStatus,
    pub payment_id: Option<String>,
    /// In the minor units of `currency` (the order's, when it names none).
    pub amount_minor: Option<i64>,
    /// ISO 4217, upper case: the currency `amount` is in, for its decimal places (default: two).
    pub currency: Option<String>,
    pub metadata: Value,
}

impl FromJson for PaymentUpdate {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::new(map);
        let order_id = f.text("orderId", false);
        let order_number = f.text("orderNumber", false);
        if order_id.is_none() && order_number.is_none() && !f.failed() {
            f.fail("orderId", "orderId or orderNumber is required");
        }
        if order_id.as_deref().is_some_and(|id| !is_id(id)) {
            f.fail("orderId", "must be a 24-character hex id");
        }
        let status = f.one_of("status", PaymentStatus::parse, "pending, paid, failed, refunded", None);
        let payment_id = f.text("paymentId", false);
        let currency = f.currency("currency");
        let amount_minor = f.money_in("amount", currency.as_deref().map_or(2, minor_digits));
        let metadata = f.metadata();
        f.finish(|| PaymentUpdate {
            order_id: order_id.map(|id| id.to_ascii_lowercase()),
            order_number,
            status: status.unwrap_or_default(),
            payment_id,
            amount_minor,
            currency,
            metadata,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::parse_object;

    fn map(body: &[u8]) -> Map<String, Value> {
        parse_object(body).unwrap()
    }

    #[test]
    fn an_order_s_amounts_are_in_its_currency_s_minor_units() {
        let order = |body: &[u8]| NewOrder::from_json(&map(body));
        let yen =
            order(br#"{"orderNumber":"J-1","amount":1500,"currency":"jpy","items":[{"quantity":2,"price":"750"}]}"#)
                .unwrap();
        assert_eq!((yen.amount_minor, yen.currency.as_str(), yen.items[0].price_minor), (1500, "JPY", 750));
        let fils = order(br#"{"orderNumber":"K-1","amount":"12.345","currency":"KWD"}"#).unwrap();
        assert_eq!(fils.amount_minor, 12_345);
        assert_eq!(order(br#"{"orderNumber":"U-1","amount":12.34}"#).unwrap().amount_minor, 1234, "USD by default");
        let errors =
            order(br#"{"orderNumber":"J-2","amount":1500.5,"currency":"JPY","items":[{"quantity":1,"price":0.5}]}"#)
                .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["amount", "items[0].price"], "{errors:?}");
        assert!(order(br#"{"orderNumber":"U-2","amount":"1.234"}"#).is_err());
        let missing = order(br#"{"orderNumber":"U-3"}"#).unwrap_err();
        assert_eq!(missing.len(), 1);
        assert_eq!((missing[0].field.as_str(), missing[0].message.as_str()), ("amount", "is required"));
    }

    #[test]
    fn validation_names_each_bad_field() {
        let m = map(
            br#"{"tenantId":"x","amount":-1,"customerEmail":"nope","items":[{"quantity":0},{"quantity":1,"price":"x"}],"status":"lost"}"#,
        );
        let errors = NewOrder::from_json(&m).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["orderNumber", "customerEmail", "amount", "status", "items[0].quantity", "items[1].price"]);
    }

    #[test]
    fn accepts_the_seed_example() {
        let m = map(br#"{"tenantId":"507f1f77bcf86cd799439011","orderNumber":"ORD-12345","customerName":"John Doe",
                "customerEmail":"john@example.com","amount":99.99,"status":"paid",
                "items":[{"productId":"prod_123","productName":"Product Name","quantity":2,"price":49.99}],
                "metadata":{"source":"shopify-headless","paymentMethod":"stripe"}}"#);
        let tenant = TenantId::from("507f1f77bcf86cd799439011");
        let order = NewOrder::from_json(&m).unwrap().into_order("id".into(), &tenant, Timestamp::from_unix_millis(0));
        assert_eq!(order.amount_minor, 9999);
        assert_eq!((order.status, order.payment_status), (OrderStatus::Paid, PaymentStatus::Paid));
        assert_eq!(order.items[0].price_minor, 4999);
        assert_eq!(order.items[0].quantity, 2);
        assert_eq!(order.metadata["source"], "shopify-headless");
    }

    #[test]
    fn notification_fields_are_checked() {
        let m = map(
            br#"{"title":"","type":"alert","priority":"whenever","actionUrl":"javascript:alert(1)","metadata":[]}"#,
        );
        let errors = NewNotification::from_json(&m).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "message", "type", "priority", "actionUrl", "metadata"]);
        let ok = map(br#"{"title":"Low Stock Alert","message":"Product XYZ is running low","type":"warning",
                "priority":"medium","actionUrl":"/products/xyz","actionText":"Manage Stock",
                "metadata":{"productId":"xyz","stockLevel":5}}"#);
        let n = NewNotification::from_json(&ok).unwrap();
        assert_eq!((n.kind, n.priority), (NotificationType::Warning, Priority::Medium));
        assert_eq!(n.metadata["stockLevel"], 5);
    }

    #[test]
    fn payment_needs_an_order_and_a_known_status() {
        let errors = PaymentUpdate::from_json(&map(br#"{"status":"done"}"#)).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["orderId", "status"]);
        let errors = PaymentUpdate::from_json(&map(br#"{"orderId":"x","amount":-1}"#)).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["orderId", "status", "amount"]);
        let p = PaymentUpdate::from_json(&map(
            br#"{"orderNumber":"ORD-1","amount":99.99,"status":"paid","paymentId":"pay_1"}"#,
        ))
        .unwrap();
        assert_eq!((p.status, p.amount_minor), (PaymentStatus::Paid, Some(9999)));
    }
}
