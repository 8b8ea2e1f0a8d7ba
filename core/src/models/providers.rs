//! Connections to the platforms that post webhooks in their own formats
//! (Shopify, Stripe): which ones a tenant has, as its members see them.

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// A platform whose own webhooks hookbell takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Shopify,
    Stripe,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::Shopify, Provider::Stripe];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Shopify => "shopify",
            Provider::Stripe => "stripe",
        }
    }

    /// `shopify` or `stripe`, in any case.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The name people know it by.
    pub fn title(self) -> &'static str {
        match self {
            Provider::Shopify => "Shopify",
            Provider::Stripe => "Stripe",
        }
    }

    /// What to subscribe to in the provider's admin, and what each becomes.
    pub fn topics(self) -> &'static [&'static str] {
        match self {
            Provider::Shopify => {
                &["orders/create", "orders/paid", "orders/cancelled", "refunds/create", "products/update"]
            }
            Provider::Stripe => &[
                "checkout.session.completed",
                "payment_intent.succeeded",
                "payment_intent.payment_failed",
                "charge.refunded",
            ],
        }
    }
}

/// The default low-stock threshold: a variant below this many is low.
pub const DEFAULT_LOW_STOCK_THRESHOLD: u32 = 10;

/// A tenant's connection to a provider as its members see it: never the
/// secret, only its last characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConnectionView {
    pub provider: Provider,
    /// Whether a signing secret is set (a connection exists).
    pub connected: bool,
    pub enabled: bool,
    /// The secret's last 4 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_hint: Option<String>,
    /// While a replaced secret is still accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_valid_until: Option<Timestamp>,
    /// Shopify: the shop (`acme.myshopify.com`) whose deliveries are taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop_domain: Option<String>,
    /// Shopify: a variant below this many in stock raises a notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_stock_threshold: Option<u32>,
    /// Where the provider posts.
    pub url: String,
    pub topics: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivery_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_by_name() {
        assert_eq!(Provider::parse(" Stripe "), Some(Provider::Stripe));
        assert_eq!(Provider::parse("shopify"), Some(Provider::Shopify));
        assert_eq!(Provider::parse("paypal"), None);
        assert_eq!(serde_json::to_value(Provider::Shopify).unwrap(), "shopify");
    }
}
