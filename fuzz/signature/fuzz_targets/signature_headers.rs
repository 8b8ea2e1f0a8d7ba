//! The signature and header parsers, with arbitrary header values: nothing
//! may panic (a `webhook-timestamp` of `i64::MIN` once did), and the answers
//! must be consistent:
//!
//! - a signature made with the secret verifies, in either scheme, also among
//!   other (arbitrary) signatures in one `webhook-signature` header;
//! - an arbitrary header value verifies only if it is that signature;
//! - a timestamp is fresh exactly when it parses and is within the tolerance.

#![no_main]

use arbitrary::Arbitrary;
use hookbell_sdk::signature::{
    sign_seed, sign_standard, timestamp_fresh, verify_seed, verify_standard, TOLERANCE_SECS,
};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    secret: &'a str,
    body: &'a [u8],
    id: &'a str,
    timestamp: &'a str,
    header: &'a str,
    now: i64,
    ts: i64,
    /// Where the genuine signature goes among the arbitrary ones.
    position: bool,
}

fuzz_target!(|input: Input| {
    let Input { secret, body, id, timestamp, header, now, ts, position } = input;

    // Arbitrary values: no panic; a forged value is refused unless it happens to be the signature.
    let genuine_hex = sign_seed(secret, body);
    if verify_seed(secret, body, header) {
        let value = header.trim();
        assert_eq!(value.strip_prefix("sha256=").unwrap_or(value).to_ascii_lowercase(), genuine_hex);
    }
    let _ = verify_standard(secret, id, timestamp, body, header);

    // The timestamp check agrees with its definition and never overflows.
    match timestamp.trim().parse::<i64>() {
        Ok(parsed) => assert_eq!(
            timestamp_fresh(timestamp, now),
            Some(now.abs_diff(parsed) <= TOLERANCE_SECS.unsigned_abs())
        ),
        Err(_) => assert_eq!(timestamp_fresh(timestamp, now), None),
    }
    assert_eq!(timestamp_fresh(&ts.to_string(), now), Some(now.abs_diff(ts) <= TOLERANCE_SECS.unsigned_abs()));

    // Genuine signatures verify, alone or among others.
    assert!(verify_seed(secret, body, &genuine_hex));
    assert!(verify_seed(secret, body, &format!(" sha256={genuine_hex} ")));
    let genuine = sign_standard(secret, id, ts, body);
    assert!(verify_standard(secret, id, &ts.to_string(), body, &genuine));
    let others: String = header.split_whitespace().take(4).collect::<Vec<_>>().join(" ");
    let listed = if position { format!("{others} {genuine}") } else { format!("{genuine} {others}") };
    assert!(verify_standard(secret, id, &ts.to_string(), body, &listed), "{listed}");
    // Not for another body.
    let mut other_body = body.to_vec();
    other_body.push(0);
    assert!(!verify_standard(secret, id, &ts.to_string(), &other_body, &genuine));
});
