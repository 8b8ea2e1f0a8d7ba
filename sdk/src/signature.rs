//! Webhook signatures and secrets.
//!
//! Two schemes are accepted:
//! - the seed's: `X-Webhook-Signature` is the lowercase hex HMAC-SHA256 of the
//!   raw request body, keyed with the tenant's secret string;
//! - Standard Webhooks (<https://www.standardwebhooks.com>): `webhook-signature`
//!   holds space-separated `v1,<base64>` HMAC-SHA256 signatures of
//!   `<webhook-id>.<webhook-timestamp>.<body>`, keyed with the base64 bytes
//!   after `whsec_`; the timestamp must be within [`TOLERANCE_SECS`] of now.
//!
//! Comparison is constant-time (`Mac::verify_slice`). Secrets come from the OS CSPRNG.

use std::fmt;

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::{rngs::OsRng, TryRngCore};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The seed's signature header.
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";
/// Standard Webhooks headers.
pub const WEBHOOK_ID_HEADER: &str = "webhook-id";
pub const WEBHOOK_TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const WEBHOOK_SIGNATURE_HEADER: &str = "webhook-signature";
/// How far a Standard Webhooks timestamp may be from the server's clock.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// The signature headers of a request, whichever scheme it uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `X-Webhook-Signature` (the seed's scheme).
    pub seed: Option<String>,
    /// `webhook-id`: also the key for deduplicating redeliveries, in either scheme.
    pub webhook_id: Option<String>,
    pub timestamp: Option<String>,
    /// `webhook-signature`.
    pub signature: Option<String>,
}

/// A secret value: never printed, never serialised, compared in constant time.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself, for signing and storage only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A hint safe to show: the last four characters.
    pub fn hint(&self) -> String {
        let tail: String = self.0.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        format!("…{tail}")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length")
}

/// Signs `body` in the seed's scheme (`X-Webhook-Signature`): lowercase hex HMAC-SHA256.
pub fn sign_seed(secret: &str, body: &[u8]) -> String {
    let mut m = mac(secret.as_bytes());
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

/// Checks a `X-Webhook-Signature` value against `body`, in constant time.
/// Accepts an optional `sha256=` prefix and surrounding white space.
pub fn verify_seed(secret: &str, body: &[u8], header: &str) -> bool {
    let value = header.trim();
    let value = value.strip_prefix("sha256=").unwrap_or(value);
    let Ok(given) = hex::decode(value) else {
        return false;
    };
    let mut m = mac(secret.as_bytes());
    m.update(body);
    m.verify_slice(&given).is_ok()
}

/// The HMAC key of a secret under Standard Webhooks: the base64 bytes after
/// `whsec_`, or the secret's own bytes when it has no such form.
fn standard_key(secret: &str) -> Vec<u8> {
    secret
        .strip_prefix("whsec_")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .unwrap_or_else(|| secret.as_bytes().to_vec())
}

fn standard_mac(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut m = mac(&standard_key(secret));
    m.update(id.as_bytes());
    m.update(b".");
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// Signs as a Standard Webhooks sender: `v1,<base64>`.
pub fn sign_standard(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> String {
    let sig = standard_mac(secret, id, &timestamp.to_string(), body).finalize().into_bytes();
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(sig))
}

/// The most `v1,` signatures of one `webhook-signature` header that are
/// checked (senders list a few while rotating secrets; a header of thousands
/// costs no more than this many).
pub const MAX_SIGNATURES: usize = 16;

/// Checks a `webhook-signature` header: true when any of its first
/// [`MAX_SIGNATURES`] space-separated `v1,` signatures matches (senders list
/// several while rotating secrets).
pub fn verify_standard(secret: &str, id: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    let expected = standard_mac(secret, id, timestamp, body);
    header.split_whitespace().filter_map(|s| s.strip_prefix("v1,")).take(MAX_SIGNATURES).any(|b64| {
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .is_ok_and(|given| expected.clone().verify_slice(&given).is_ok())
    })
}

/// Whether a Standard Webhooks timestamp (seconds) is within tolerance of `now`.
pub fn timestamp_fresh(timestamp: &str, now: i64) -> Option<bool> {
    let ts: i64 = timestamp.trim().parse().ok()?;
    // `abs_diff`: `now - ts` overflows for timestamps near i64::MIN / i64::MAX.
    Some(now.abs_diff(ts) <= TOLERANCE_SECS.unsigned_abs())
}

/// A new webhook secret: `whsec_` and 32 random bytes in base64.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.try_fill_bytes(&mut bytes).expect("the operating system's random source failed");
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_do_not_leak_through_debug() {
        let secret = Secret::new("whsec_supersecret".into());
        let s = format!("{secret:?}");
        assert!(!s.contains("supersecret"), "{s}");
        assert_eq!(secret.hint(), "…cret");
        assert_eq!(Secret::new("abc".into()), Secret::new("abc".into()));
        assert_ne!(Secret::new("abc".into()), Secret::new("abd".into()));
    }

    use super::*;

    #[test]
    fn extreme_timestamps_are_stale_not_a_panic() {
        let now = 1_700_000_000;
        for ts in [i64::MIN, i64::MIN + 1, i64::MAX, -1] {
            assert_eq!(timestamp_fresh(&ts.to_string(), now), Some(false), "{ts}");
        }
        assert_eq!(timestamp_fresh(&i64::MAX.to_string(), i64::MIN), Some(false));
        assert_eq!(timestamp_fresh("-9223372036854775809", now), None, "out of range does not parse");
        assert_eq!(timestamp_fresh(&now.to_string(), now), Some(true));
        assert_eq!(timestamp_fresh(&(now - TOLERANCE_SECS).to_string(), now), Some(true));
        assert_eq!(timestamp_fresh(&(now + TOLERANCE_SECS + 1).to_string(), now), Some(false));
    }

    #[test]
    fn matches_a_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign_seed("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verifies_its_own_signatures_only() {
        let secret = generate_secret();
        let body = br#"{"tenantId":"x","amount":1}"#;
        let sig = sign_seed(&secret, body);
        assert!(verify_seed(&secret, body, &sig));
        assert!(verify_seed(&secret, body, &format!("sha256={sig}")));
        assert!(verify_seed(&secret, body, &sig.to_uppercase()));
        assert!(!verify_seed(&secret, b"{}", &sig));
        assert!(!verify_seed("other", body, &sig));
        assert!(!verify_seed(&secret, body, ""));
        assert!(!verify_seed(&secret, body, "zz"));
        assert!(!verify_seed(&secret, body, &sig[..62]));
    }

    #[test]
    fn standard_webhooks_reference_vector() {
        // The example of the Standard Webhooks reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let sig = sign_standard(secret, id, 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify_standard(secret, id, "1614265330", body, &sig));
        assert!(verify_standard(secret, id, "1614265330", body, &format!("v1,bm9wZQ== {sig}")), "any of several");
        assert!(!verify_standard(secret, id, "1614265331", body, &sig), "timestamp is signed");
        assert!(!verify_standard(secret, "msg_other", "1614265330", body, &sig), "id is signed");
        assert!(!verify_standard(secret, id, "1614265330", b"{}", &sig));
        assert!(!verify_standard(secret, id, "1614265330", body, &sig.replace("v1,", "v2,")));
        assert!(!verify_standard(secret, id, "1614265330", body, ""));
    }

    #[test]
    fn timestamps_have_a_five_minute_window() {
        assert_eq!(timestamp_fresh("1000", 1000 + 300), Some(true));
        assert_eq!(timestamp_fresh("1000", 1000 + 301), Some(false));
        assert_eq!(timestamp_fresh("1301", 1000), Some(false));
        assert_eq!(timestamp_fresh("soon", 1000), None);
    }

    proptest::proptest! {
        #[test]
        fn any_body_signed_verifies_and_any_change_fails(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            flip in 0usize..512,
            id in "[a-zA-Z0-9_]{1,40}",
            ts in 0i64..4_000_000_000,
        ) {
            let secret = generate_secret();
            let hex = sign_seed(&secret, &body);
            let std_sig = sign_standard(&secret, &id, ts, &body);
            proptest::prop_assert!(verify_seed(&secret, &body, &hex));
            proptest::prop_assert!(verify_standard(&secret, &id, &ts.to_string(), &body, &std_sig));
            let mut changed = body.clone();
            if changed.is_empty() {
                changed.push(0);
            } else {
                let i = flip % changed.len();
                changed[i] ^= 0x01;
            }
            proptest::prop_assert!(!verify_seed(&secret, &changed, &hex));
            proptest::prop_assert!(!verify_standard(&secret, &id, &ts.to_string(), &changed, &std_sig));
            proptest::prop_assert!(!verify_seed(&generate_secret(), &body, &hex));
        }
    }

    #[test]
    fn secrets_are_random_and_well_formed() {
        let a = generate_secret();
        let b = generate_secret();
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_"));
        let raw = base64::engine::general_purpose::STANDARD.decode(&a[6..]).unwrap();
        assert_eq!(raw.len(), 32);
    }
}
