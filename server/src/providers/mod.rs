//! The platforms that post to hookbell in their own formats: each provider's
//! signature check and a pure mapping from its payload to hookbell's own
//! webhook bodies (the seed's order and payment fields), which then go
//! through the same input parsing and pipeline as a tenant's own webhooks.
//!
//! - [`shopify`]: `X-Shopify-Hmac-Sha256` and the order, refund and product topics.
//! - [`stripe`]: `Stripe-Signature` and the checkout, payment-intent and charge events.
//!
//! Nothing here reads a store or a clock: the caller passes `now` and the
//! secrets, and acts on the [`Mapped`] result.

pub mod shopify;
pub mod stripe;

use serde_json::{Map, Value};

/// What a provider's event means for hookbell.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// A new order: the body of hookbell's order webhook (`orderNumber`,
    /// `amount` in the currency's decimal places, `currency`, `status`, `items`, …).
    Order(Map<String, Value>),
    /// A payment change of an existing order: the body of hookbell's payment
    /// webhook (`orderNumber` or `orderId`, `status`, `paymentId`, `amount`, `metadata`).
    Payment(Map<String, Value>),
    /// Inventory levels of one product's variants (Shopify's `products/update`).
    Stock(ProductStock),
    /// A payment event that names no order hookbell could find it by: recorded
    /// and answered 200 (the provider would retry a refusal forever), and told
    /// to the tenant's admins with this reason.
    Unmatched { reason: String },
    /// A topic or event type hookbell does not act on: recorded, answered 200.
    Ignored,
}

/// A product's variants and how many of each are in stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductStock {
    pub product_id: String,
    pub title: String,
    pub variants: Vec<VariantStock>,
}

/// One variant's stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantStock {
    pub variant_id: String,
    /// The variant's own title (`Default Title` for a product without options).
    pub title: String,
    pub sku: Option<String>,
    pub inventory_quantity: i64,
    /// What it was before this change, when Shopify says (`old_inventory_quantity`).
    pub previous_quantity: Option<i64>,
}

/// Why a provider's payload could not be mapped (a 400 naming the field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct MapError {
    pub field: String,
    pub message: String,
}

impl MapError {
    fn new(field: &str, message: &str) -> Self {
        Self { field: field.to_owned(), message: message.to_owned() }
    }
}

/// The text of a JSON string or number (ids come as either), trimmed; `None` when empty or absent.
fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `s` cut to at most `max` characters: a provider's free text must fit hookbell's fields.
pub(crate) fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The longest text hookbell's webhook fields take (see `app::input::fields::MAX_TEXT`).
const MAX_TEXT: usize = app::input::fields::MAX_TEXT;

/// A JSON object from `pairs`, leaving out nulls.
fn object(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Map<String, Value> {
    pairs.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_owned(), v)).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn helpers_take_ids_of_either_type_and_fit_texts() {
        assert_eq!(text_of(Some(&json!(820982911946154508u64))).as_deref(), Some("820982911946154508"));
        assert_eq!(text_of(Some(&json!(" #1001 "))).as_deref(), Some("#1001"));
        assert_eq!(text_of(Some(&json!(""))), None);
        assert_eq!(text_of(Some(&json!(null))), None);
        assert_eq!(text_of(None), None);
        assert_eq!(clip("ééé", 2), "éé");
        assert_eq!(object([("a", json!(1)), ("b", Value::Null)]), json!({"a": 1}).as_object().unwrap().clone());
    }
}
