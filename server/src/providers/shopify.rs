//! Shopify's webhooks: the signature (`X-Shopify-Hmac-Sha256`, the base64
//! HMAC-SHA256 of the raw body keyed with the signing secret, compared in
//! constant time) and what each topic becomes:
//!
//! | topic | becomes |
//! | --- | --- |
//! | `orders/create` | an order: `name` (`#1001`) as its number, the customer, `total_price` in `currency` exactly, the line items, `financial_status` as its status |
//! | `orders/paid` | the order's payment is paid |
//! | `orders/cancelled` | the order's payment failed (cancelled) |
//! | `refunds/create` | the order's payment is refunded |
//! | `products/update` | its variants' stock, for the low-stock check |
//! | anything else | ignored |
//!
//! Every payment change of one Shopify order carries the same `paymentId`
//! (`shopify:<order id>`), so a repeated topic is a duplicate, not a conflict.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use super::{clip, object, text_of, MapError, Mapped, ProductStock, VariantStock, MAX_TEXT};

/// The headers Shopify sends with a webhook.
pub const HMAC_HEADER: &str = "x-shopify-hmac-sha256";
pub const TOPIC_HEADER: &str = "x-shopify-topic";
pub const SHOP_DOMAIN_HEADER: &str = "x-shopify-shop-domain";
pub const WEBHOOK_ID_HEADER: &str = "x-shopify-webhook-id";

/// Whether `header` (base64) is the HMAC-SHA256 of `body` under `secret`,
/// compared in constant time.
pub fn verify(secret: &str, body: &[u8], header: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(header.trim()) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// Signs `body` as Shopify does (for tests and tools).
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub use app::input::parse_shop_domain as shop_domain;

/// What the `topic` Shopify names means, from its JSON `payload`.
pub fn map(topic: &str, payload: &Value) -> Result<Mapped, MapError> {
    let Value::Object(p) = payload else {
        return Err(MapError::new("body", "must be a JSON object"));
    };
    match topic.trim().to_ascii_lowercase().as_str() {
        "orders/create" => order(p).map(Mapped::Order),
        "orders/paid" => payment(p, "paid", None),
        "orders/cancelled" => payment(p, "failed", p.get("cancel_reason")),
        "refunds/create" => refund(p),
        "products/update" => stock(p).map(Mapped::Stock),
        _ => Ok(Mapped::Ignored),
    }
}

/// `orders/create`: hookbell's order body.
fn order(p: &Map<String, Value>) -> Result<Map<String, Value>, MapError> {
    let number = text_of(p.get("name"))
        .or_else(|| text_of(p.get("order_number")))
        .ok_or_else(|| MapError::new("name", "is required"))?;
    let id = text_of(p.get("id")).ok_or_else(|| MapError::new("id", "is required"))?;
    let currency = text_of(p.get("currency")).ok_or_else(|| MapError::new("currency", "is required"))?;
    let total = text_of(p.get("total_price")).ok_or_else(|| MapError::new("total_price", "is required"))?;
    let customer = p.get("customer").and_then(Value::as_object);
    let name = customer.and_then(|c| {
        let parts: Vec<String> = ["first_name", "last_name"].iter().filter_map(|k| text_of(c.get(*k))).collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    let email = customer
        .and_then(|c| text_of(c.get("email")))
        .or_else(|| text_of(p.get("email")))
        .or_else(|| text_of(p.get("contact_email")));
    let status = if p.get("cancelled_at").is_some_and(|v| !v.is_null()) {
        "cancelled"
    } else {
        match p.get("financial_status").and_then(Value::as_str).unwrap_or("pending") {
            "paid" | "partially_refunded" => "paid",
            "refunded" => "refunded",
            "voided" => "cancelled",
            _ => "pending",
        }
    };
    let items: Vec<Value> = p
        .get("line_items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_object)
                .filter(|i| i.get("quantity").and_then(Value::as_u64).is_some_and(|q| q >= 1))
                .map(|i| {
                    Value::Object(object([
                        ("productId", text_of(i.get("product_id")).map(Value::from).unwrap_or(Value::Null)),
                        (
                            "productName",
                            text_of(i.get("title")).map(|t| Value::from(clip(&t, MAX_TEXT))).unwrap_or(Value::Null),
                        ),
                        ("quantity", i.get("quantity").cloned().unwrap_or(Value::Null)),
                        ("price", text_of(i.get("price")).map(Value::from).unwrap_or(Value::Null)),
                    ]))
                })
                .collect()
        })
        .unwrap_or_default();
    let metadata = object([
        ("source", json!("shopify")),
        ("shopifyOrderId", json!(id)),
        ("financialStatus", p.get("financial_status").cloned().unwrap_or(Value::Null)),
        ("totalDiscounts", p.get("total_discounts").cloned().unwrap_or(Value::Null)),
        ("test", p.get("test").cloned().unwrap_or(Value::Null)),
    ]);
    Ok(object([
        ("orderNumber", json!(clip(&number, MAX_TEXT))),
        ("customerName", name.map(|n| json!(clip(&n, MAX_TEXT))).unwrap_or(Value::Null)),
        ("customerEmail", email.map(Value::from).unwrap_or(Value::Null)),
        ("amount", json!(total)),
        ("currency", json!(currency.to_ascii_uppercase())),
        ("status", json!(status)),
        ("items", Value::Array(items)),
        ("metadata", Value::Object(metadata)),
    ]))
}

/// `orders/paid` and `orders/cancelled` (with its `cancel_reason`): the order's payment change.
fn payment(p: &Map<String, Value>, status: &str, cancel_reason: Option<&Value>) -> Result<Mapped, MapError> {
    let id = text_of(p.get("id")).ok_or_else(|| MapError::new("id", "is required"))?;
    let number = text_of(p.get("name")).ok_or_else(|| MapError::new("name", "is required"))?;
    let metadata = object([
        ("source", json!("shopify")),
        ("shopifyOrderId", json!(id)),
        ("cancelReason", cancel_reason.cloned().unwrap_or(Value::Null)),
    ]);
    Ok(Mapped::Payment(object([
        ("orderNumber", json!(clip(&number, MAX_TEXT))),
        ("status", json!(status)),
        ("paymentId", json!(format!("shopify:{id}"))),
        ("metadata", Value::Object(metadata)),
    ])))
}

/// `refunds/create`: names the order by its Shopify id only, so the order is
/// found by the `shopifyOrderId` it was stored with; `orderNumber` is left for
/// the caller to fill in from there.
fn refund(p: &Map<String, Value>) -> Result<Mapped, MapError> {
    let order_id = text_of(p.get("order_id")).ok_or_else(|| MapError::new("order_id", "is required"))?;
    let refund_id = text_of(p.get("id"));
    let refunded: Vec<Value> = p
        .get("transactions")
        .and_then(Value::as_array)
        .map(|ts| {
            ts.iter()
                .filter_map(Value::as_object)
                .filter(|t| t.get("kind").and_then(Value::as_str) == Some("refund"))
                .filter_map(|t| text_of(t.get("amount")).map(Value::from))
                .collect()
        })
        .unwrap_or_default();
    let metadata = object([
        ("source", json!("shopify")),
        ("shopifyOrderId", json!(order_id)),
        ("shopifyRefundId", refund_id.map(Value::from).unwrap_or(Value::Null)),
        ("refundedAmounts", Value::Array(refunded)),
    ]);
    Ok(Mapped::Payment(object([
        ("status", json!("refunded")),
        ("paymentId", json!(format!("shopify:{order_id}"))),
        ("metadata", Value::Object(metadata)),
    ])))
}

/// `products/update`: each variant's stock.
fn stock(p: &Map<String, Value>) -> Result<ProductStock, MapError> {
    let product_id = text_of(p.get("id")).ok_or_else(|| MapError::new("id", "is required"))?;
    let title = text_of(p.get("title")).unwrap_or_default();
    let variants = p
        .get("variants")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter_map(Value::as_object)
                .filter_map(|v| {
                    Some(VariantStock {
                        variant_id: text_of(v.get("id"))?,
                        title: clip(&text_of(v.get("title")).unwrap_or_default(), MAX_TEXT),
                        sku: text_of(v.get("sku")).map(|s| clip(&s, MAX_TEXT)),
                        inventory_quantity: v.get("inventory_quantity")?.as_i64()?,
                        previous_quantity: v.get("old_inventory_quantity").and_then(Value::as_i64),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ProductStock { product_id, title: clip(&title, MAX_TEXT), variants })
}

#[cfg(test)]
mod tests;
