//! Webhook signatures and secrets.
//!
//! The seed's scheme: `X-Webhook-Signature` is the lowercase hex HMAC-SHA256
//! of the raw request body, keyed with the tenant's secret string. Comparison
//! is constant-time (`Mac::verify_slice`). Secrets come from the OS CSPRNG.

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::{rngs::OsRng, TryRngCore};
use sha2::Sha256;

/// The seed's signature header.
pub const SIGNATURE_HEADER: &str = "x-webhook-signature";

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length")
}

/// Signs `body` as a sender does: lowercase hex HMAC-SHA256.
pub fn sign_hex(secret: &str, body: &[u8]) -> String {
    let mut m = mac(secret.as_bytes());
    m.update(body);
    hex::encode(m.finalize().into_bytes())
}

/// Checks a `X-Webhook-Signature` value against `body`, in constant time.
/// Accepts an optional `sha256=` prefix and surrounding white space.
pub fn verify_hex(secret: &str, body: &[u8], header: &str) -> bool {
    let value = header.trim();
    let value = value.strip_prefix("sha256=").unwrap_or(value);
    let Ok(given) = hex::decode(value) else {
        return false;
    };
    let mut m = mac(secret.as_bytes());
    m.update(body);
    m.verify_slice(&given).is_ok()
}

/// A new webhook secret: `whsec_` and 32 random bytes in base64.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.try_fill_bytes(&mut bytes).expect("the operating system's random source failed");
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign_hex("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verifies_its_own_signatures_only() {
        let secret = generate_secret();
        let body = br#"{"tenantId":"x","amount":1}"#;
        let sig = sign_hex(&secret, body);
        assert!(verify_hex(&secret, body, &sig));
        assert!(verify_hex(&secret, body, &format!("sha256={sig}")));
        assert!(verify_hex(&secret, body, &sig.to_uppercase()));
        assert!(!verify_hex(&secret, b"{}", &sig));
        assert!(!verify_hex("other", body, &sig));
        assert!(!verify_hex(&secret, body, ""));
        assert!(!verify_hex(&secret, body, "zz"));
        assert!(!verify_hex(&secret, body, &sig[..62]));
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
