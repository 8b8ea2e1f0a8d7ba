//! Webhook ingestion: verify, validate, store, announce.
//!
//! The HTTP handler hands over the raw body and the signature header; all
//! decisions are made here, so every transport gets the same behaviour.

use app::models::{
    events, format_minor, ActivityEntry, DashboardRefreshEvent, NewNotificationEvent, Notification, NotificationType,
    Order, OrderItem, OrderStatus, PaymentStatus, Priority, WebhookEvent,
};
use serde_json::{Map, Value};

use crate::{
    error::{ApiError, FieldError},
    ids,
    signature::verify_hex,
    store::CreateOrder,
};

use super::Services;

/// What a sender gets back for an order webhook (the seed's response shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderAccepted {
    pub order_id: String,
    pub order_number: String,
    /// True when the order number was already known: nothing new was stored.
    pub duplicate: bool,
}

/// Parses a JSON object body.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::InvalidJson("expected a JSON object".into())),
        Err(e) => Err(ApiError::InvalidJson(e.to_string())),
    }
}

impl Services {
    /// Checks the signature of a webhook body for the tenant it names.
    /// Unknown tenant and bad signature are the same error (no enumeration).
    async fn verify_webhook(&self, tenant_id: &str, body: &[u8], signature: Option<&str>) -> Result<(), ApiError> {
        let Some(signature) = signature else {
            return Err(ApiError::InvalidSignature);
        };
        if !ids::is_id(tenant_id) {
            return Err(ApiError::InvalidSignature);
        }
        let tenant = self.store.get_tenant(tenant_id).await?.ok_or(ApiError::InvalidSignature)?;
        if verify_hex(self.tenant_secret(&tenant)?.expose(), body, signature) {
            Ok(())
        } else {
            Err(ApiError::InvalidSignature)
        }
    }

    /// `POST /api/webhooks/orders`: stores the order and its notification and
    /// pushes `new-notification` and `dashboard-refresh` to the tenant's room.
    pub async fn ingest_order(
        &self,
        body: &[u8],
        signature: Option<&str>,
        source_ip: Option<String>,
    ) -> Result<OrderAccepted, ApiError> {
        let started = std::time::Instant::now();
        let result = self.ingest_order_inner(body, signature, source_ip.clone()).await;
        self.record_event("orders", body, &result, started, source_ip).await;
        result
    }

    /// Records one request in the webhook event log; a failure to record is
    /// logged and does not change the answer (the order itself is stored).
    async fn record_event(
        &self,
        endpoint: &str,
        body: &[u8],
        result: &Result<OrderAccepted, ApiError>,
        started: std::time::Instant,
        source_ip: Option<String>,
    ) {
        let tenant_id = parse_object(body)
            .ok()
            .and_then(|m| m.get("tenantId").and_then(Value::as_str).map(str::to_owned))
            .filter(|t| ids::is_id(t));
        let (outcome, status_code, reason, verified) = match result {
            Ok(a) if a.duplicate => ("duplicate", 200, None, true),
            Ok(_) => ("accepted", 201, None, true),
            Err(e) => {
                let verified = matches!(e, ApiError::Validation(_)) && tenant_id.is_some();
                ("rejected", e.status().as_u16(), Some(e.public_message()), verified)
            }
        };
        let capped = &body[..body.len().min(EVENT_BODY_CAP)];
        let event = WebhookEvent {
            id: ids::new_id(),
            tenant_id,
            endpoint: endpoint.to_owned(),
            verified,
            outcome: outcome.to_owned(),
            status_code,
            reason,
            latency_ms: started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32,
            body: String::from_utf8_lossy(capped).into_owned(),
            body_truncated: body.len() > EVENT_BODY_CAP,
            source_ip,
            received_at: ids::now_rfc3339(),
        };
        if let Err(e) = self.store.record_webhook_event(&event).await {
            tracing::warn!(error = %e, "could not record webhook event");
        }
    }

    async fn ingest_order_inner(
        &self,
        body: &[u8],
        signature: Option<&str>,
        source_ip: Option<String>,
    ) -> Result<OrderAccepted, ApiError> {
        let map = parse_object(body)?;
        let tenant_id = match map.get("tenantId") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => return Err(ApiError::Validation(vec![FieldError::new("tenantId", "is required")])),
        };
        self.verify_webhook(&tenant_id, body, signature).await?;
        let now = ids::now_rfc3339();
        let order = validate_order(&map, &tenant_id, &now).map_err(ApiError::Validation)?;
        let notification = order_notification(&order, &now);
        let activity = ActivityEntry {
            id: ids::new_id(),
            tenant_id: tenant_id.clone(),
            actor: "webhook:orders".into(),
            action: "order.created".into(),
            entity: "order".into(),
            entity_id: order.id.clone(),
            details: serde_json::json!({
                "orderNumber": order.order_number,
                "amountMinor": order.amount_minor,
                "currency": order.currency,
                "status": order.status.as_str(),
            }),
            source_ip,
            created_at: now.clone(),
        };

        match self.store.create_order(&order, &notification, &activity).await? {
            CreateOrder::Duplicate { existing_order_id } => {
                Ok(OrderAccepted { order_id: existing_order_id, order_number: order.order_number, duplicate: true })
            }
            CreateOrder::Created => {
                self.announce_notification(notification).await?;
                self.broadcaster
                    .to_tenant(
                        &tenant_id,
                        events::DASHBOARD_REFRESH,
                        &DashboardRefreshEvent {
                            tenant_id: tenant_id.clone(),
                            reason: "order-created".into(),
                            entities: vec!["orders".into(), "notifications".into()],
                        },
                    )
                    .await;
                Ok(OrderAccepted { order_id: order.id, order_number: order.order_number, duplicate: false })
            }
        }
    }

    /// Pushes a stored notification, with the tenant's new unread count.
    pub async fn announce_notification(&self, notification: Notification) -> Result<(), ApiError> {
        let unread_count = self.store.unread_count(&notification.tenant_id, notification.user_id.as_deref()).await?;
        let tenant_id = notification.tenant_id.clone();
        self.broadcaster
            .to_tenant(&tenant_id, events::NEW_NOTIFICATION, &NewNotificationEvent { notification, unread_count })
            .await;
        Ok(())
    }
}

/// How much of a body the webhook event log keeps.
pub const EVENT_BODY_CAP: usize = 8 * 1024;

/// The notification that announces a new order.
fn order_notification(order: &Order, now: &str) -> Notification {
    let who = order.customer_name.clone().unwrap_or_else(|| "A customer".into());
    Notification {
        id: ids::new_id(),
        tenant_id: order.tenant_id.clone(),
        user_id: None,
        title: format!("New order {}", order.order_number),
        message: format!("{who} placed an order of {} {}", format_minor(order.amount_minor), order.currency),
        kind: NotificationType::Success,
        priority: Priority::Medium,
        action_url: None,
        action_text: None,
        metadata: serde_json::json!({
            "orderId": order.id,
            "orderNumber": order.order_number,
            "amountMinor": order.amount_minor,
            "currency": order.currency,
        }),
        is_read: false,
        is_dismissed: false,
        read_at: None,
        delivered_at: None,
        created_at: now.to_owned(),
    }
}

const MAX_TEXT: usize = 500;
const MAX_ITEMS: usize = 1000;

/// Collects field errors while reading a JSON object.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    fn fail(&mut self, field: &str, message: &str) {
        self.errors.push(FieldError::new(field, message));
    }

    fn text(&mut self, field: &str, required: bool) -> Option<String> {
        match self.map.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.fail(field, "is required");
                }
                None
            }
            Some(Value::String(s)) if s.trim().is_empty() && required => {
                self.fail(field, "must not be empty");
                None
            }
            Some(Value::String(s)) if s.chars().count() > MAX_TEXT => {
                self.fail(field, &format!("must be at most {MAX_TEXT} characters"));
                None
            }
            Some(Value::String(s)) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
            Some(_) => {
                self.fail(field, "must be a string");
                None
            }
        }
    }
}

/// Parses a money amount exactly into minor units (two decimal places).
///
/// JSON numbers are read through their shortest decimal text, never through
/// floating-point arithmetic: `99.99` becomes `9999`.
pub fn parse_money(v: &Value) -> Result<i64, &'static str> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return Err("must be a number"),
    };
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.as_str()),
    };
    if digits.contains(['e', 'E']) {
        return Err("must be a plain decimal number");
    }
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be a decimal number");
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 2 {
        return Err("must have at most 2 decimal places");
    }
    let whole: i64 = whole.parse().map_err(|_| "is too large")?;
    let frac_minor: i64 = format!("{frac:0<2}").parse().map_err(|_| "must be a decimal number")?;
    let minor = whole.checked_mul(100).and_then(|w| w.checked_add(frac_minor)).ok_or("is too large")?;
    if minor > 1_000_000_000_000 {
        return Err("is too large");
    }
    Ok(if negative { -minor } else { minor })
}

/// A plausible email address: one `@`, a non-empty local part, a dotted domain.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

/// Validates an order webhook body, naming every bad field.
fn validate_order(map: &Map<String, Value>, tenant_id: &str, now: &str) -> Result<Order, Vec<FieldError>> {
    let mut f = Fields { map, errors: Vec::new() };
    let order_number = f.text("orderNumber", true);
    let customer_name = f.text("customerName", false);
    let customer_email = f.text("customerEmail", false);
    if let Some(email) = &customer_email {
        if !is_email(email) {
            f.fail("customerEmail", "must be an email address");
        }
    }
    let amount_minor = match map.get("amount") {
        None | Some(Value::Null) => {
            f.fail("amount", "is required");
            0
        }
        Some(v) => match parse_money(v) {
            Ok(m) if m < 0 => {
                f.fail("amount", "must be at least 0");
                0
            }
            Ok(m) => m,
            Err(msg) => {
                f.fail("amount", msg);
                0
            }
        },
    };
    let currency = match f.text("currency", false) {
        None => "USD".to_owned(),
        Some(c) if c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()) => c.to_ascii_uppercase(),
        Some(_) => {
            f.fail("currency", "must be a 3-letter ISO 4217 code");
            "USD".to_owned()
        }
    };
    let status = match f.text("status", false) {
        None => OrderStatus::Pending,
        Some(s) => OrderStatus::parse(&s).unwrap_or_else(|| {
            f.fail(
                "status",
                "must be one of pending, paid, processing, shipped, completed, cancelled, refunded, failed",
            );
            OrderStatus::Pending
        }),
    };
    let mut items = Vec::new();
    match map.get("items") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) if list.len() > MAX_ITEMS => f.fail("items", "has too many entries"),
        Some(Value::Array(list)) => {
            for (i, item) in list.iter().enumerate() {
                let Value::Object(obj) = item else {
                    f.fail(&format!("items[{i}]"), "must be an object");
                    continue;
                };
                let mut inner = Fields { map: obj, errors: Vec::new() };
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
                    Some(v) => match parse_money(v) {
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
                items.push(OrderItem { product_id, product_name, quantity, price_minor });
            }
        }
        Some(_) => f.fail("items", "must be an array"),
    }
    let metadata = match map.get("metadata") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => {
            f.fail("metadata", "must be an object");
            Value::Null
        }
    };
    if !f.errors.is_empty() {
        return Err(f.errors);
    }
    Ok(Order {
        id: ids::new_id(),
        tenant_id: tenant_id.to_owned(),
        order_number: order_number.unwrap_or_default(),
        customer_name,
        customer_email,
        amount_minor,
        currency,
        status,
        payment_status: if status == OrderStatus::Paid { PaymentStatus::Paid } else { PaymentStatus::Pending },
        payment_id: None,
        items,
        metadata,
        created_at: now.to_owned(),
        updated_at: now.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn money_is_exact() {
        assert_eq!(parse_money(&json!(99.99)), Ok(9999));
        assert_eq!(parse_money(&json!(0.1)), Ok(10));
        assert_eq!(parse_money(&json!(50)), Ok(5000));
        assert_eq!(parse_money(&json!(50.0)), Ok(5000));
        assert_eq!(parse_money(&json!("19.90")), Ok(1990));
        assert_eq!(parse_money(&json!(1234567.89)), Ok(123456789));
        assert_eq!(parse_money(&json!(-1.5)), Ok(-150));
        assert!(parse_money(&json!(0.001)).is_err());
        assert!(parse_money(&json!("abc")).is_err());
        assert!(parse_money(&json!("1e3")).is_err());
        assert!(parse_money(&json!(true)).is_err());
        assert!(parse_money(&json!(1e300)).is_err());
    }

    #[test]
    fn emails() {
        assert!(is_email("john@example.com"));
        assert!(!is_email("john@"));
        assert!(!is_email("john.example.com"));
        assert!(!is_email("a@b@c.com"));
        assert!(!is_email("a b@c.com"));
    }

    #[test]
    fn validation_names_each_bad_field() {
        let map = parse_object(
            br#"{"tenantId":"x","amount":-1,"customerEmail":"nope","items":[{"quantity":0},{"quantity":1,"price":"x"}],"status":"lost"}"#,
        )
        .unwrap();
        let errors = validate_order(&map, "x", "now").unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["orderNumber", "customerEmail", "amount", "status", "items[0].quantity", "items[1].price"]);
    }

    #[test]
    fn accepts_the_seed_example() {
        let map = parse_object(
            br#"{"tenantId":"507f1f77bcf86cd799439011","orderNumber":"ORD-12345","customerName":"John Doe",
                "customerEmail":"john@example.com","amount":99.99,"status":"paid",
                "items":[{"productId":"prod_123","productName":"Product Name","quantity":2,"price":49.99}],
                "metadata":{"source":"shopify-headless","paymentMethod":"stripe"}}"#,
        )
        .unwrap();
        let order = validate_order(&map, "507f1f77bcf86cd799439011", "now").unwrap();
        assert_eq!(order.amount_minor, 9999);
        assert_eq!(order.status, OrderStatus::Paid);
        assert_eq!(order.items[0].price_minor, 4999);
        assert_eq!(order.items[0].quantity, 2);
        assert_eq!(order.metadata["source"], "shopify-headless");
        let n = order_notification(&order, "now");
        assert_eq!(n.message, "John Doe placed an order of 99.99 USD");
    }
}
