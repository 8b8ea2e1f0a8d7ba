//! Identifiers and timestamps.
//!
//! Ids are 24 lowercase hex characters laid out like MongoDB ObjectIds
//! (seconds, per-process random, counter), so the seed's ids, the SQLite store
//! and the MongoDB store all speak the same format and ids sort by creation.

use std::sync::{
    atomic::{AtomicU32, Ordering},
    OnceLock,
};

use time::{format_description::well_known::Rfc3339, OffsetDateTime};

fn process_bytes() -> &'static [u8; 5] {
    static BYTES: OnceLock<[u8; 5]> = OnceLock::new();
    BYTES.get_or_init(rand::random)
}

/// A new ObjectId-compatible id.
pub fn new_id() -> String {
    static COUNTER: OnceLock<AtomicU32> = OnceLock::new();
    let counter = COUNTER.get_or_init(|| AtomicU32::new(rand::random())).fetch_add(1, Ordering::Relaxed);
    let secs = OffsetDateTime::now_utc().unix_timestamp() as u32;
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&secs.to_be_bytes());
    bytes[4..9].copy_from_slice(process_bytes());
    bytes[9..].copy_from_slice(&counter.to_be_bytes()[1..]);
    hex::encode(bytes)
}

/// Whether `s` has the shape of an id: 24 lowercase or uppercase hex digits (the one rule, in `core`).
pub use app::input::is_id;

/// Now, as RFC 3339 UTC with milliseconds: `2026-11-29T06:28:30.123Z` (sorts as text).
pub fn now_rfc3339() -> String {
    format_time(OffsetDateTime::now_utc())
}

/// Reads a timestamp in [`now_rfc3339`]'s exact form (anything else is `None`).
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    (format_time(t) == s).then_some(t)
}

/// Formats a time as [`now_rfc3339`] does.
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let t = t.replace_nanosecond(t.millisecond() as u32 * 1_000_000).unwrap_or(t);
    let mut s = t.format(&Rfc3339).unwrap_or_default();
    // Rfc3339 drops trailing zero sub-seconds; keep a fixed width so text order is time order.
    if !s.contains('.') {
        s.insert_str(s.len() - 1, ".000");
    } else {
        let dot = s.find('.').unwrap_or(0);
        let frac_len = s.len() - 1 - dot - 1;
        for _ in frac_len..3 {
            s.insert(s.len() - 1, '0');
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_object_id_shaped_and_unique() {
        let a = new_id();
        let b = new_id();
        assert!(is_id(&a), "{a}");
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
        assert!(is_id("507f1f77bcf86cd799439011"));
        assert!(!is_id("507f1f77bcf86cd79943901"));
        assert!(!is_id("507f1f77bcf86cd79943901z"));
    }

    #[test]
    fn timestamps_have_fixed_width() {
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(format_time(t), "2023-11-14T22:13:20.000Z");
        let t = t.replace_millisecond(50).unwrap();
        assert_eq!(format_time(t), "2023-11-14T22:13:20.050Z");
        assert_eq!(now_rfc3339().len(), 24);
    }
}
