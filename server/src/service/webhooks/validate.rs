//! Webhook bodies, read field by field: every bad field is named, with a
//! message a sender can act on. Money is parsed exactly (never through f64).

use app::models::{NotificationType, Order, OrderItem, OrderStatus, PaymentStatus, Priority};
use serde_json::{Map, Value};

use crate::{error::FieldError, ids};

const MAX_TEXT: usize = 500;
const MAX_ITEMS: usize = 1000;

/// Collects field errors while reading a JSON object.
pub(super) struct Fields<'a> {
    map: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    pub(super) fn new(map: &'a Map<String, Value>) -> Self {
        Self { map, errors: Vec::new() }
    }

    /// The errors found, or `ok` when there were none.
    pub(super) fn finish<T>(self, ok: impl FnOnce() -> T) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(ok())
        } else {
            Err(self.errors)
        }
    }

    /// `metadata`: an object, `{}` when absent.
    fn metadata(&mut self) -> Value {
        match self.map.get("metadata") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => {
                self.fail("metadata", "must be an object");
                Value::Null
            }
        }
    }

    /// A text field that must be one of `allowed` (by `parse`), or `default` when absent.
    fn one_of<T: Copy>(
        &mut self,
        field: &str,
        parse: fn(&str) -> Option<T>,
        allowed: &str,
        default: Option<T>,
    ) -> Option<T> {
        match self.text(field, default.is_none()) {
            None => default,
            Some(s) => parse(&s).or_else(|| {
                self.fail(field, &format!("must be one of {allowed}"));
                None
            }),
        }
    }

    /// An optional money amount (≥ 0) in minor units.
    fn money(&mut self, field: &str) -> Option<i64> {
        match self.map.get(field) {
            None | Some(Value::Null) => None,
            Some(v) => match parse_money(v) {
                Ok(m) if m < 0 => {
                    self.fail(field, "must be at least 0");
                    None
                }
                Ok(m) => Some(m),
                Err(msg) => {
                    self.fail(field, msg);
                    None
                }
            },
        }
    }

    fn fail(&mut self, field: &str, message: &str) {
        self.errors.push(FieldError::new(field, message));
    }

    pub(super) fn text(&mut self, field: &str, required: bool) -> Option<String> {
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
pub(super) fn validate_order(map: &Map<String, Value>, tenant_id: &str, now: &str) -> Result<Order, Vec<FieldError>> {
    let mut f = Fields::new(map);
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
    let status = f
        .one_of(
            "status",
            OrderStatus::parse,
            "pending, paid, processing, shipped, completed, cancelled, refunded, failed",
            Some(OrderStatus::Pending),
        )
        .unwrap_or(OrderStatus::Pending);
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
    let metadata = f.metadata();
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

const MAX_TITLE: usize = 200;
const MAX_MESSAGE: usize = 2000;
const MAX_ACTION_TEXT: usize = 60;
const MAX_URL: usize = 2048;

/// A notification webhook's fields (`POST /api/webhooks/notifications`).
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationInput {
    pub user_id: Option<String>,
    pub title: String,
    pub message: String,
    pub kind: NotificationType,
    pub priority: Priority,
    pub action_url: Option<String>,
    pub action_text: Option<String>,
    pub metadata: Value,
}

/// A link a notification may carry: a path on the dashboard (`/orders/1`) or an https URL.
pub fn is_safe_action_url(url: &str) -> bool {
    if url.len() > MAX_URL || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return false;
    }
    if let Some(rest) = url.strip_prefix('/') {
        // `//host` and `/\host` leave the site.
        return !rest.starts_with('/') && !rest.starts_with('\\');
    }
    url.strip_prefix("https://").is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.contains('@')
    })
}

/// Validates a notification webhook body.
pub(super) fn validate_notification(map: &Map<String, Value>) -> Result<NotificationInput, Vec<FieldError>> {
    let mut f = Fields::new(map);
    let title = f.text("title", true);
    let message = f.text("message", true);
    if title.as_ref().is_some_and(|t| t.chars().count() > MAX_TITLE) {
        f.fail("title", &format!("must be at most {MAX_TITLE} characters"));
    }
    if message.as_ref().is_some_and(|m| m.chars().count() > MAX_MESSAGE) {
        f.fail("message", &format!("must be at most {MAX_MESSAGE} characters"));
    }
    let kind = f.one_of("type", NotificationType::parse, "info, success, warning, error", Some(NotificationType::Info));
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
    f.finish(|| NotificationInput {
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

/// A payment webhook's fields (`POST /api/webhooks/payments`).
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentInput {
    pub order_id: Option<String>,
    pub order_number: Option<String>,
    pub status: PaymentStatus,
    pub payment_id: Option<String>,
    pub amount_minor: Option<i64>,
    pub metadata: Value,
}

/// Validates a payment webhook body.
pub(super) fn validate_payment(map: &Map<String, Value>) -> Result<PaymentInput, Vec<FieldError>> {
    let mut f = Fields::new(map);
    let order_id = f.text("orderId", false);
    let order_number = f.text("orderNumber", false);
    if order_id.is_none() && order_number.is_none() && f.errors.is_empty() {
        f.fail("orderId", "orderId or orderNumber is required");
    }
    if order_id.as_deref().is_some_and(|id| !ids::is_id(id)) {
        f.fail("orderId", "must be a 24-character hex id");
    }
    let status = f.one_of("status", PaymentStatus::parse, "pending, paid, failed, refunded", None);
    let payment_id = f.text("paymentId", false);
    let amount_minor = f.money("amount");
    let metadata = f.metadata();
    f.finish(|| PaymentInput {
        order_id: order_id.map(|id| id.to_ascii_lowercase()),
        order_number,
        status: status.unwrap_or_default(),
        payment_id,
        amount_minor,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::service::webhooks::parse_object;

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
    }

    #[test]
    fn notification_fields_are_checked() {
        let map = parse_object(
            br#"{"title":"","type":"alert","priority":"whenever","actionUrl":"javascript:alert(1)","metadata":[]}"#,
        )
        .unwrap();
        let errors = validate_notification(&map).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "message", "type", "priority", "actionUrl", "metadata"]);
        let ok = parse_object(
            br#"{"title":"Low Stock Alert","message":"Product XYZ is running low","type":"warning",
                "priority":"medium","actionUrl":"/products/xyz","actionText":"Manage Stock",
                "metadata":{"productId":"xyz","stockLevel":5}}"#,
        )
        .unwrap();
        let n = validate_notification(&ok).unwrap();
        assert_eq!((n.kind, n.priority), (NotificationType::Warning, Priority::Medium));
        assert_eq!(n.metadata["stockLevel"], 5);
    }

    #[test]
    fn action_urls_stay_on_safe_ground() {
        for good in ["/orders", "/products/xyz?tab=stock#top", "https://shop.example.com/admin"] {
            assert!(is_safe_action_url(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "//evil.com",
            "/\\evil.com",
            "http://shop.example.com",
            "https://",
            "https://u@evil.com",
            "orders",
            "/a b",
            "data:text/html,x",
        ] {
            assert!(!is_safe_action_url(bad), "{bad}");
        }
    }

    #[test]
    fn payment_needs_an_order_and_a_known_status() {
        let errors = validate_payment(&parse_object(br#"{"status":"done"}"#).unwrap()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["orderId", "status"]);
        let errors = validate_payment(&parse_object(br#"{"orderId":"x","amount":-1}"#).unwrap()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["orderId", "status", "amount"]);
        let p = validate_payment(
            &parse_object(br#"{"orderNumber":"ORD-1","amount":99.99,"status":"paid","paymentId":"pay_1"}"#).unwrap(),
        )
        .unwrap();
        assert_eq!((p.status, p.amount_minor), (PaymentStatus::Paid, Some(9999)));
    }
}
