//! `PUT /api/webhooks/providers/{provider}`: a change of a tenant's connection
//! to Shopify or Stripe, every bad field named.

use serde_json::{Map, Value};

use crate::models::{FieldError, Provider};

/// The longest grace period for a replaced signing secret: 7 days.
pub const MAX_GRACE_SECONDS: u64 = 7 * 24 * 3600;

/// A checked change of a provider connection: only the fields given change.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ProviderUpdate {
    pub enabled: Option<bool>,
    /// A new signing secret (the previous one, if any, stays valid `grace_seconds`).
    pub signing_secret: Option<String>,
    /// Shopify only: `acme.myshopify.com`, lower case.
    pub shop_domain: Option<String>,
    /// Shopify only: 0–1,000,000.
    pub low_stock_threshold: Option<u32>,
    /// How long a replaced secret stays valid: 0 (default) to 7 days.
    pub grace_seconds: u64,
}

impl std::fmt::Debug for ProviderUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderUpdate")
            .field("enabled", &self.enabled)
            .field("signing_secret", &self.signing_secret.as_ref().map(|_| "<redacted>"))
            .field("shop_domain", &self.shop_domain)
            .field("low_stock_threshold", &self.low_stock_threshold)
            .field("grace_seconds", &self.grace_seconds)
            .finish()
    }
}

impl ProviderUpdate {
    /// Parses a change for `provider`'s connection.
    pub fn parse(provider: Provider, map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut update = ProviderUpdate::default();
        let mut errors = Vec::new();
        let shopify = provider == Provider::Shopify;
        for (key, value) in map {
            match key.as_str() {
                "enabled" => match value.as_bool() {
                    Some(on) => update.enabled = Some(on),
                    None => errors.push(FieldError::new("enabled", "must be true or false")),
                },
                "signingSecret" => match value.as_str().map(str::trim) {
                    Some(secret) if secret_ok(provider, secret) => update.signing_secret = Some(secret.to_owned()),
                    _ => errors.push(FieldError::new("signingSecret", secret_rule(provider))),
                },
                "shopDomain" if shopify => match value.as_str().and_then(parse_shop_domain) {
                    Some(domain) => update.shop_domain = Some(domain),
                    None => {
                        errors.push(FieldError::new("shopDomain", "must be the shop's domain, like acme.myshopify.com"))
                    }
                },
                "lowStockThreshold" if shopify => match value.as_u64().filter(|n| *n <= 1_000_000) {
                    Some(n) => update.low_stock_threshold = Some(n as u32),
                    None => {
                        errors.push(FieldError::new("lowStockThreshold", "must be a whole number from 0 to 1000000"))
                    }
                },
                "graceSeconds" => match value.as_u64().filter(|n| *n <= MAX_GRACE_SECONDS) {
                    Some(n) => update.grace_seconds = n,
                    None => errors.push(FieldError::new("graceSeconds", "must be a whole number from 0 to 604800")),
                },
                other => errors.push(FieldError::new(other, "is not a known field")),
            }
        }
        if errors.is_empty() {
            Ok(update)
        } else {
            Err(errors)
        }
    }
}

/// Whether `secret` looks like `provider`'s signing secret: Stripe's start
/// with `whsec_`; both are 16 to 256 visible ASCII characters.
fn secret_ok(provider: Provider, secret: &str) -> bool {
    let shape = (16..=256).contains(&secret.len()) && secret.bytes().all(|b| b.is_ascii_graphic());
    shape && (provider != Provider::Stripe || secret.starts_with("whsec_"))
}

fn secret_rule(provider: Provider) -> &'static str {
    match provider {
        Provider::Stripe => "must be the endpoint's signing secret (whsec_…, 16 to 256 characters)",
        Provider::Shopify => "must be the webhook signing secret Shopify shows (16 to 256 visible characters)",
    }
}

/// A shop's domain as Shopify names it (`acme.myshopify.com`), lower case:
/// `None` unless it is a host name of letters, digits, `-` and dots.
pub fn parse_shop_domain(text: &str) -> Option<String> {
    let lower = text.trim().trim_end_matches('/').to_ascii_lowercase();
    let domain = lower.strip_prefix("https://").unwrap_or(&lower);
    let valid = domain.len() <= 255
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    valid.then(|| domain.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(provider: Provider, v: Value) -> Result<ProviderUpdate, Vec<FieldError>> {
        ProviderUpdate::parse(provider, v.as_object().unwrap())
    }

    /// The fields named, sorted (a JSON object's order depends on serde_json's features).
    fn fields(errors: Vec<FieldError>) -> Vec<String> {
        let mut fields: Vec<String> = errors.into_iter().map(|e| e.field).collect();
        fields.sort();
        fields
    }

    #[test]
    fn each_field_is_checked_and_named() {
        let ok = parse(
            Provider::Shopify,
            json!({"enabled": true, "signingSecret": " shpss_0123456789abcdef ", "shopDomain": "Acme.myshopify.com",
                   "lowStockThreshold": 5, "graceSeconds": 3600}),
        )
        .unwrap();
        assert_eq!(ok.signing_secret.as_deref(), Some("shpss_0123456789abcdef"));
        assert_eq!(ok.shop_domain.as_deref(), Some("acme.myshopify.com"));
        assert_eq!((ok.enabled, ok.low_stock_threshold, ok.grace_seconds), (Some(true), Some(5), 3600));
        assert!(!format!("{ok:?}").contains("0123456789abcdef"), "the secret stays out of logs");

        let bad = parse(
            Provider::Shopify,
            json!({"enabled": "yes", "signingSecret": "short", "shopDomain": "not a domain",
                   "lowStockThreshold": -1, "graceSeconds": 604801, "extra": 1}),
        )
        .unwrap_err();
        assert_eq!(
            fields(bad),
            ["enabled", "extra", "graceSeconds", "lowStockThreshold", "shopDomain", "signingSecret"]
        );
        // Stripe's secrets are whsec_…, and it has no shop.
        assert_eq!(
            fields(parse(Provider::Stripe, json!({"signingSecret": "shpss_0123456789abcdef"})).unwrap_err()),
            ["signingSecret"]
        );
        assert!(parse(Provider::Stripe, json!({"signingSecret": "whsec_0123456789abcdef"})).is_ok());
        assert_eq!(
            fields(parse(Provider::Stripe, json!({"shopDomain": "a.myshopify.com"})).unwrap_err()),
            ["shopDomain"]
        );
        assert_eq!(
            fields(parse(Provider::Stripe, json!({"signingSecret": "whsec_".repeat(50)})).unwrap_err()),
            ["signingSecret"]
        );
        assert_eq!(fields(parse(Provider::Stripe, json!({"signingSecret": 5})).unwrap_err()), ["signingSecret"]);
        assert!(parse(Provider::Stripe, json!({})).is_ok(), "an empty change changes nothing");
    }

    #[test]
    fn shop_domains_are_host_names() {
        assert_eq!(parse_shop_domain("Acme.myshopify.com").as_deref(), Some("acme.myshopify.com"));
        assert_eq!(parse_shop_domain(" https://acme.myshopify.com/ ").as_deref(), Some("acme.myshopify.com"));
        for bad in ["", "acme", "acme..myshopify.com", "-acme.myshopify.com", "acme.myshopify.com/admin", "a b.com"] {
            assert_eq!(parse_shop_domain(bad), None, "{bad}");
        }
        assert_eq!(parse_shop_domain(&format!("{}.com", "a".repeat(64))), None);
    }
}
