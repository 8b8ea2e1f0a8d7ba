//! New identifiers, and the clock.
//!
//! Ids are 24 lowercase hex characters laid out like MongoDB ObjectIds
//! (seconds, per-process random, counter), so the seed's ids, the SQLite store
//! and the MongoDB store all speak the same format and ids sort by creation.
//! Their types (`TenantId`, `UserId`, …) and the instant type
//! ([`Timestamp`]) are in `core`, shared with the browser.

use std::sync::{
    atomic::{AtomicU32, Ordering},
    OnceLock,
};

pub use app::models::{is_id, Timestamp};

fn process_bytes() -> &'static [u8; 5] {
    static BYTES: OnceLock<[u8; 5]> = OnceLock::new();
    BYTES.get_or_init(rand::random)
}

/// A new ObjectId-compatible id, of whichever id type is wanted (`TenantId`,
/// `NotificationId`, …, or `String` for text that only needs to be unique).
pub fn new_id<T: From<String>>() -> T {
    static COUNTER: OnceLock<AtomicU32> = OnceLock::new();
    let counter = COUNTER.get_or_init(|| AtomicU32::new(rand::random())).fetch_add(1, Ordering::Relaxed);
    let secs = Timestamp::now().unix_seconds() as u32;
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&secs.to_be_bytes());
    bytes[4..9].copy_from_slice(process_bytes());
    bytes[9..].copy_from_slice(&counter.to_be_bytes()[1..]);
    T::from(hex::encode(bytes))
}

/// Now, to the millisecond.
pub fn now() -> Timestamp {
    Timestamp::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_object_id_shaped_and_unique() {
        let a: String = new_id();
        let b: String = new_id();
        assert!(is_id(&a), "{a}");
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
        assert!(is_id("507f1f77bcf86cd799439011"));
        assert!(!is_id("507f1f77bcf86cd79943901"));
        assert!(!is_id("507f1f77bcf86cd79943901z"));
    }
}
