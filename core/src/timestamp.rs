//! [`Timestamp`]: an instant, in milliseconds, as every record's `createdAt`,
//! `readAt`, `receivedAt`, … holds it.
//!
//! On the wire and in both stores an instant is RFC 3339 text in UTC with exactly
//! three fraction digits (`2026-11-29T06:28:30.123Z`), a fixed width so that text
//! order is time order (the stores compare and sort it as text). That text is
//! made in one place, [`Timestamp`]'s `Display` (and serde), and read in one
//! place, [`Timestamp::parse`]; everything between the edges does arithmetic on
//! the value.

use std::{fmt, ops, str::FromStr, time::Duration};

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use time::{format_description::well_known::Rfc3339, OffsetDateTime, UtcOffset};

/// An instant with millisecond precision (UTC).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    millis: i64,
}

/// Text that is not an RFC 3339 instant (or is out of range).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadTimestamp;

impl fmt::Display for BadTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an RFC 3339 timestamp")
    }
}

impl std::error::Error for BadTimestamp {}

/// The earliest and latest instants kept: years 0001 to 9999, so that the text is always 24 characters.
const MIN_MILLIS: i64 = -62_135_596_800_000;
const MAX_MILLIS: i64 = 253_402_300_799_999;

impl Timestamp {
    /// Now (server side: the browser has no clock here).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    /// The instant `millis` milliseconds after the Unix epoch (clamped to years 1–9999).
    pub fn from_unix_millis(millis: i64) -> Self {
        Self { millis: millis.clamp(MIN_MILLIS, MAX_MILLIS) }
    }

    /// Milliseconds since the Unix epoch.
    pub fn unix_millis(self) -> i64 {
        self.millis
    }

    /// Seconds since the Unix epoch (rounded down).
    pub fn unix_seconds(self) -> i64 {
        self.millis.div_euclid(1000)
    }

    /// A `time` value, truncated to milliseconds.
    pub fn from_datetime(t: OffsetDateTime) -> Self {
        let millis = t.unix_timestamp_nanos().div_euclid(1_000_000);
        // Clamped here as i128 (before narrowing); `from_unix_millis` keeps it in range.
        Self::from_unix_millis(millis.clamp(MIN_MILLIS as i128, MAX_MILLIS as i128) as i64)
    }

    /// As a `time` value (UTC).
    pub fn to_datetime(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(self.millis as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// Reads any RFC 3339 instant (any offset, any fraction digits), truncated to milliseconds.
    pub fn parse(s: &str) -> Result<Self, BadTimestamp> {
        let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| BadTimestamp)?;
        let millis = t.unix_timestamp_nanos().div_euclid(1_000_000);
        if !(MIN_MILLIS as i128..=MAX_MILLIS as i128).contains(&millis) {
            return Err(BadTimestamp);
        }
        Ok(Self { millis: millis as i64 })
    }

    /// Reads only the exact text [`Display`](fmt::Display) writes (for values
    /// hookbell handed out, such as page cursors, where another spelling is a forgery or a typo).
    pub fn parse_exact(s: &str) -> Result<Self, BadTimestamp> {
        let t = Self::parse(s)?;
        if t.to_string() == s {
            Ok(t)
        } else {
            Err(BadTimestamp)
        }
    }

    /// `d` later, saturating at year 9999.
    pub fn plus(self, d: Duration) -> Self {
        Self::from_unix_millis(self.millis.saturating_add(d.as_millis().min(i64::MAX as u128) as i64))
    }

    /// `d` earlier, saturating at year 1.
    pub fn minus(self, d: Duration) -> Self {
        Self::from_unix_millis(self.millis.saturating_sub(d.as_millis().min(i64::MAX as u128) as i64))
    }

    /// How long after `earlier` this is (zero if it is not later).
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.millis.saturating_sub(earlier.millis).max(0) as u64)
    }
}

impl ops::Add<Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, d: Duration) -> Timestamp {
        self.plus(d)
    }
}

impl ops::Sub<Duration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, d: Duration) -> Timestamp {
        self.minus(d)
    }
}

impl fmt::Display for Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, always 24 characters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.to_datetime().to_offset(UtcOffset::UTC);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Timestamp {
    type Err = BadTimestamp;
    fn from_str(s: &str) -> Result<Self, BadTimestamp> {
        Self::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Timestamp, E> {
                Timestamp::parse(s).map_err(|_| E::invalid_value(de::Unexpected::Str(s), &self))
            }
        }
        d.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_a_fixed_width() {
        let t = Timestamp::from_unix_millis(1_700_000_000_000);
        assert_eq!(t.to_string(), "2023-11-14T22:13:20.000Z");
        assert_eq!(Timestamp::from_unix_millis(1_700_000_000_050).to_string(), "2023-11-14T22:13:20.050Z");
        assert_eq!(Timestamp::from_unix_millis(i64::MIN).to_string(), "0001-01-01T00:00:00.000Z");
        assert_eq!(Timestamp::from_unix_millis(i64::MAX).to_string(), "9999-12-31T23:59:59.999Z");
        assert_eq!(Timestamp::now().to_string().len(), 24);
    }

    #[test]
    fn parse_reads_any_rfc3339_and_exact_only_our_form() {
        let t = Timestamp::parse("2023-11-14T23:13:20.0501+01:00").unwrap();
        assert_eq!(t.to_string(), "2023-11-14T22:13:20.050Z");
        assert!(Timestamp::parse_exact("2023-11-14T22:13:20.050Z").is_ok());
        assert!(Timestamp::parse_exact("2023-11-14T22:13:20.05Z").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::parse("").is_err());
    }

    #[test]
    fn arithmetic_saturates_and_serde_is_the_text() {
        let t = Timestamp::from_unix_millis(1_000);
        assert_eq!((t + Duration::from_millis(500)).unix_millis(), 1_500);
        assert_eq!((t - Duration::from_secs(2)).unix_millis(), -1_000);
        assert_eq!((t + Duration::MAX).to_string(), "9999-12-31T23:59:59.999Z");
        assert_eq!(t.since(t - Duration::from_secs(3)), Duration::from_secs(3));
        assert_eq!(t.since(t + Duration::from_secs(3)), Duration::ZERO);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"1970-01-01T00:00:01.000Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        assert!(serde_json::from_str::<Timestamp>("\"soon\"").is_err());
        assert!(serde_json::from_str::<Timestamp>("12").is_err());
    }
}
