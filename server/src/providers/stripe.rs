//! Stripe's webhooks: the signature as Stripe specifies it (`Stripe-Signature:
//! t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, each `v1` the HMAC-SHA256 of
//! `"{t}.{raw body}"` keyed with the whole `whsec_…` secret; any `v1` that
//! matches suffices, so rolled secrets work; the timestamp within five
//! minutes) and what each event becomes:
//!
//! | event | becomes |
//! | --- | --- |
//! | `checkout.session.completed` | an order, paid when the session is: number from `client_reference_id`, else `metadata.orderNumber`, else the session's id; `amount_total` in `currency` (a session with no amount, such as setup mode, is ignored) |
//! | `payment_intent.succeeded` | the order named in `metadata.orderNumber` (or `metadata.orderId`) is paid |
//! | `payment_intent.payment_failed` | that order's payment failed, with Stripe's reason |
//! | `charge.refunded` | the charge's order (its `metadata`) is refunded |
//! | a payment event naming no order | unmatched: recorded, answered 200, told to the admins |
//! | anything else | ignored |
//!
//! Stripe's amounts are integers in Stripe's minor units ([`stripe_digits`]:
//! zero-decimal currencies such as JPY, three-decimal ones such as KWD); they
//! become hookbell's (ISO 4217) exactly, or the event is refused.

use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use super::{clip, object, text_of, MapError, Mapped, MAX_TEXT};
use app::models::money::{format_minor, minor_digits, rescale};

/// The header Stripe signs its webhooks in.
pub const SIGNATURE_HEADER: &str = "stripe-signature";
/// How far the signed timestamp may be from the server's clock, either way.
pub const TOLERANCE_SECS: i64 = 5 * 60;
/// The most `v1` signatures of one header that are checked.
pub const MAX_SIGNATURES: usize = 16;

/// Why a `Stripe-Signature` header was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `t=` timestamp or no `v1=` signature in it.
    #[error("the Stripe-Signature header has no timestamp or no v1 signature")]
    Malformed,
    /// No `v1` signature is that of the body under the secret.
    #[error("no v1 signature matches")]
    NoMatch,
    /// Signed, but too long ago (or too far ahead): a replay.
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
}

/// Checks a `Stripe-Signature` header for `body` under `secret` at `now`
/// (unix seconds): the signed timestamp when it is good.
pub fn verify(secret: &str, body: &[u8], header: &str, now: i64) -> Result<i64, SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.trim().parse::<i64>().ok(),
            Some(("v1", sig)) if signatures.len() < MAX_SIGNATURES => signatures.push(sig.trim()),
            _ => {}
        }
    }
    let (Some(t), false) = (timestamp, signatures.is_empty()) else {
        return Err(SignatureError::Malformed);
    };
    let expected = mac(secret, t, body);
    let matches =
        signatures.iter().any(|sig| hex::decode(sig).is_ok_and(|given| expected.clone().verify_slice(&given).is_ok()));
    if !matches {
        return Err(SignatureError::NoMatch);
    }
    if now.abs_diff(t) > TOLERANCE_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    Ok(t)
}

/// Signs `body` at `timestamp` as Stripe does: `t=…,v1=…` (for tests and tools).
pub fn sign(secret: &str, body: &[u8], timestamp: i64) -> String {
    format!("t={timestamp},v1={}", hex::encode(mac(secret, timestamp, body).finalize().into_bytes()))
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// How many decimal places Stripe's amounts have in `currency`: 0 for its
/// zero-decimal currencies, 3 for its three-decimal ones, else 2 (ISK and HUF
/// too, which Stripe keeps two-decimal in its API).
pub fn stripe_digits(currency: &str) -> u32 {
    const ZERO: [&str; 16] = [
        "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: [&str; 5] = ["BHD", "JOD", "KWD", "OMR", "TND"];
    let code = currency.trim().to_ascii_uppercase();
    if ZERO.contains(&code.as_str()) {
        0
    } else if THREE.contains(&code.as_str()) {
        3
    } else {
        2
    }
}

/// A Stripe amount (`field` of `obj`) in `currency`, as hookbell's decimal text.
fn amount(obj: &Map<String, Value>, field: &str, currency: &str) -> Result<String, MapError> {
    let stripe = obj.get(field).and_then(Value::as_i64).ok_or_else(|| MapError::new(field, "is required"))?;
    if stripe < 0 {
        return Err(MapError::new(field, "must be at least 0"));
    }
    let minor = rescale(stripe, stripe_digits(currency), minor_digits(currency))
        .ok_or_else(|| MapError::new(field, "cannot be held exactly in this currency"))?;
    Ok(format_minor(minor, currency))
}

/// The event's `currency`, upper case.
fn currency(obj: &Map<String, Value>) -> Result<String, MapError> {
    text_of(obj.get("currency"))
        .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()))
        .map(|c| c.to_ascii_uppercase())
        .ok_or_else(|| MapError::new("currency", "must be a 3-letter code"))
}

/// The event's id and what it means for hookbell.
pub fn map(event: &Value) -> Result<(String, Mapped), MapError> {
    let id = text_of(event.get("id")).ok_or_else(|| MapError::new("id", "is required"))?;
    let kind = text_of(event.get("type")).ok_or_else(|| MapError::new("type", "is required"))?;
    let obj = event
        .get("data")
        .and_then(|d| d.get("object"))
        .and_then(Value::as_object)
        .ok_or_else(|| MapError::new("data.object", "must be an object"))?;
    let mapped = match kind.as_str() {
        "checkout.session.completed" => checkout(obj)?,
        "payment_intent.succeeded" => payment(&kind, obj, "paid", "amount_received")?,
        "payment_intent.payment_failed" => payment(&kind, obj, "failed", "amount")?,
        "charge.refunded" => payment(&kind, obj, "refunded", "amount_refunded")?,
        _ => Mapped::Ignored,
    };
    Ok((id, mapped))
}

/// `checkout.session.completed`: an order.
fn checkout(s: &Map<String, Value>) -> Result<Mapped, MapError> {
    let session = text_of(s.get("id")).ok_or_else(|| MapError::new("data.object.id", "is required"))?;
    let metadata = s.get("metadata").and_then(Value::as_object);
    let number = text_of(s.get("client_reference_id"))
        .or_else(|| metadata.and_then(|m| text_of(m.get("orderNumber"))))
        .unwrap_or_else(|| session.clone());
    // A session that took no payment (setup mode, some subscriptions) has no amount: no order.
    if s.get("amount_total").is_none_or(Value::is_null) {
        return Ok(Mapped::Ignored);
    }
    let currency = currency(s)?;
    let total = amount(s, "amount_total", &currency)?;
    let details = s.get("customer_details").and_then(Value::as_object);
    let paid = matches!(s.get("payment_status").and_then(Value::as_str), Some("paid" | "no_payment_required"));
    let payment_intent = s.get("payment_intent").and_then(|pi| text_of(Some(pi)).or_else(|| text_of(pi.get("id"))));
    Ok(Mapped::Order(object([
        ("orderNumber", json!(clip(&number, MAX_TEXT))),
        (
            "customerName",
            details.and_then(|d| text_of(d.get("name"))).map(|n| json!(clip(&n, MAX_TEXT))).unwrap_or(Value::Null),
        ),
        ("customerEmail", details.and_then(|d| text_of(d.get("email"))).map(Value::from).unwrap_or(Value::Null)),
        ("amount", json!(total)),
        ("currency", json!(currency)),
        ("status", json!(if paid { "paid" } else { "pending" })),
        (
            "metadata",
            Value::Object(object([
                ("source", json!("stripe")),
                ("stripeCheckoutSession", json!(session)),
                ("stripePaymentIntent", payment_intent.map(Value::from).unwrap_or(Value::Null)),
            ])),
        ),
    ])))
}

/// A payment intent's or charge's change of the order its `metadata` names.
fn payment(kind: &str, obj: &Map<String, Value>, status: &str, amount_field: &str) -> Result<Mapped, MapError> {
    let own_id = text_of(obj.get("id")).ok_or_else(|| MapError::new("data.object.id", "is required"))?;
    // One payment id for the intent and its charges: a refund follows the payment it refunds.
    let payment_id = match obj.get("payment_intent") {
        Some(pi) => text_of(Some(pi)).or_else(|| text_of(pi.get("id"))).unwrap_or_else(|| own_id.clone()),
        None => own_id.clone(),
    };
    let metadata = obj.get("metadata").and_then(Value::as_object);
    let number = metadata.and_then(|m| text_of(m.get("orderNumber")));
    let order_id = metadata.and_then(|m| text_of(m.get("orderId"))).filter(|id| app::models::is_id(id));
    if number.is_none() && order_id.is_none() {
        return Ok(Mapped::Unmatched {
            reason: format!(
                "Stripe {kind} for {own_id} names no order: set metadata.orderNumber (or metadata.orderId) on the payment"
            ),
        });
    }
    let currency = currency(obj)?;
    let paid = amount(obj, amount_field, &currency)?;
    let error = obj.get("last_payment_error").and_then(Value::as_object);
    let details = object([
        ("source", json!("stripe")),
        ("stripeObject", json!(own_id)),
        ("failureCode", error.and_then(|e| e.get("code")).cloned().unwrap_or(Value::Null)),
        (
            "failureMessage",
            error.and_then(|e| text_of(e.get("message"))).map(|m| json!(clip(&m, MAX_TEXT))).unwrap_or(Value::Null),
        ),
    ]);
    Ok(Mapped::Payment(object([
        ("orderNumber", number.map(|n| json!(clip(&n, MAX_TEXT))).unwrap_or(Value::Null)),
        ("orderId", order_id.map(Value::from).unwrap_or(Value::Null)),
        ("status", json!(status)),
        ("paymentId", json!(payment_id)),
        ("amount", json!(paid)),
        ("currency", json!(currency)),
        ("metadata", Value::Object(details)),
    ])))
}

#[cfg(test)]
mod tests;
