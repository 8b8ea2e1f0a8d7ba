//! Token buckets per key (tenant, email, client address, socket, …), refilled
//! at `rate` per second up to `burst`. In memory, per process; a limited
//! request gets 429 with `Retry-After`.
//!
//! Memory is bounded whatever the keys: a key is kept as a 64-bit keyed hash
//! (a megabyte-long email costs 8 bytes), a bucket that has refilled to its
//! burst is dropped (it is indistinguishable from a new one) by a sweep at
//! most once a minute and whenever the map reaches its capacity, and if a
//! flood of fresh keys still fills it, the least recently used half goes
//! (keys are per address or email, and the address is limited first, so such
//! a flood needs many addresses).

use std::{
    collections::HashMap,
    hash::{BuildHasher, Hash, RandomState},
    sync::Mutex,
    time::Duration,
};

/// Tokio's clock (the system's, except in tests that pause and advance it).
use tokio::time::Instant;

/// The default most buckets one limiter keeps.
pub const DEFAULT_CAPACITY: usize = 65_536;

/// How often idle buckets are swept at the least.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// Token buckets keyed by a hash of the key.
pub struct RateLimiter {
    /// Tokens per second; 0 disables limiting.
    rate: f64,
    burst: f64,
    capacity: usize,
    hasher: RandomState,
    state: Mutex<Buckets>,
}

struct Buckets {
    map: HashMap<u64, Bucket>,
    last_sweep: Option<Instant>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl RateLimiter {
    pub fn new(rate_per_sec: u32, burst: u32) -> Self {
        Self::with_rate(f64::from(rate_per_sec), burst)
    }

    /// A limiter refilled at `rate_per_sec` (may be below one) up to `burst`.
    pub fn with_rate(rate_per_sec: f64, burst: u32) -> Self {
        Self::with_capacity(rate_per_sec, burst, DEFAULT_CAPACITY)
    }

    /// [`RateLimiter::with_rate`] keeping at most `capacity` buckets.
    pub fn with_capacity(rate_per_sec: f64, burst: u32, capacity: usize) -> Self {
        Self {
            rate: rate_per_sec,
            burst: f64::from(burst.max(1)),
            capacity: capacity.max(2),
            hasher: RandomState::new(),
            state: Mutex::new(Buckets { map: HashMap::new(), last_sweep: None }),
        }
    }

    /// Takes a token for `key` now, or says how long until one is free.
    pub fn check<K: Hash + ?Sized>(&self, key: &K) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    /// [`RateLimiter::check`] at a given instant.
    pub fn check_at<K: Hash + ?Sized>(&self, key: &K, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let key = self.hasher.hash_one(key);
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let due = state.last_sweep.is_none_or(|t| now.saturating_duration_since(t) >= SWEEP_EVERY);
        if due || (state.map.len() >= self.capacity && !state.map.contains_key(&key)) {
            self.sweep(&mut state, now);
        }
        let bucket = state.map.entry(key).or_insert(Bucket { tokens: self.burst, last: now });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate))
        }
    }

    /// Whether `key` has a token now, without taking it (nor keeping a bucket for a new key).
    pub fn peek<K: Hash + ?Sized>(&self, key: &K) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let key = self.hasher.hash_one(key);
        let state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(bucket) = state.map.get(&key) else { return Ok(()) };
        let tokens =
            (bucket.tokens + now.saturating_duration_since(bucket.last).as_secs_f64() * self.rate).min(self.burst);
        if tokens >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - tokens) / self.rate))
        }
    }

    /// Drops the buckets that have refilled; if the map is still at its
    /// capacity, the least recently used half.
    fn sweep(&self, state: &mut Buckets, now: Instant) {
        state.last_sweep = Some(now);
        let (rate, burst) = (self.rate, self.burst);
        state.map.retain(|_, b| b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate < burst);
        if state.map.len() >= self.capacity {
            evict_oldest_half(&mut state.map, |b| b.last);
        }
    }

    /// How many buckets are kept now.
    pub fn len(&self) -> usize {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).map.len()
    }

    /// Whether no bucket is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Removes the older half of `map` by `last_used`.
fn evict_oldest_half<V>(map: &mut HashMap<u64, V>, last_used: impl Fn(&V) -> Instant) {
    let mut ages: Vec<Instant> = map.values().map(&last_used).collect();
    let middle = ages.len() / 2;
    let (_, cutoff, _) = ages.select_nth_unstable(middle);
    let cutoff = *cutoff;
    map.retain(|_, v| last_used(v) > cutoff);
}

/// The key of a client address in the per-address limiters: an IPv6 address
/// by its /64 (one subscriber's share), an IPv4 address whole.
pub fn address_key(ip: Option<&str>) -> String {
    match ip.and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) {
        Some(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_default(),
        Some(std::net::IpAddr::V4(v4)) => v4.to_string(),
        None => String::new(),
    }
}

/// Bounds concurrent expensive work (password hashing): `running` at once, at
/// most `queued` more waiting; past that the caller is told to come back.
pub struct Gate {
    run: tokio::sync::Semaphore,
    admit: std::sync::Arc<tokio::sync::Semaphore>,
}

/// A place through the [`Gate`]: the work runs while it is held.
pub struct Pass<'a> {
    _run: tokio::sync::SemaphorePermit<'a>,
    _admitted: tokio::sync::OwnedSemaphorePermit,
}

impl Gate {
    pub fn new(running: usize, queued: usize) -> Self {
        let running = running.max(1);
        Self {
            run: tokio::sync::Semaphore::new(running),
            admit: std::sync::Arc::new(tokio::sync::Semaphore::new(running + queued)),
        }
    }

    /// Waits for a place, or `None` at once when the queue is full.
    pub async fn enter(&self) -> Option<Pass<'_>> {
        let admitted = self.admit.clone().try_acquire_owned().ok()?;
        let run = self.run.acquire().await.ok()?;
        Some(Pass { _run: run, _admitted: admitted })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_share_a_limit_per_64() {
        assert_eq!(address_key(Some("2001:db8:1:2:aaaa::1")), address_key(Some("2001:db8:1:2:bbbb::9")));
        assert_ne!(address_key(Some("2001:db8:1:2::1")), address_key(Some("2001:db8:1:3::1")));
        assert_eq!(address_key(Some("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(address_key(Some("192.0.2.1")), "192.0.2.1");
        assert_eq!(address_key(None), "");
    }

    #[test]
    fn bursts_then_refills_at_the_rate() {
        let limiter = RateLimiter::new(10, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at("a", t0).is_ok());
        }
        let wait = limiter.check_at("a", t0).unwrap_err();
        assert!(wait > Duration::from_millis(90) && wait <= Duration::from_millis(100), "{wait:?}");
        assert!(limiter.check_at("b", t0).is_ok(), "buckets are per key");
        assert!(limiter.check_at("a", t0 + Duration::from_millis(100)).is_ok(), "one token back after 1/rate");
        assert!(limiter.check_at("a", t0 + Duration::from_millis(100)).is_err());
        // Idle time refills only up to the burst.
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(limiter.check_at("a", later).is_ok());
        }
        assert!(limiter.check_at("a", later).is_err());
    }

    #[test]
    fn a_zero_rate_disables_limiting() {
        let limiter = RateLimiter::new(0, 1);
        for _ in 0..1000 {
            assert!(limiter.check("a").is_ok());
        }
        assert!(limiter.is_empty());
    }

    #[test]
    fn a_flood_of_distinct_keys_stays_within_the_capacity() {
        let limiter = RateLimiter::with_capacity(1.0 / 6.0, 10, 1000);
        let t0 = Instant::now();
        let long = "x".repeat(10_000);
        for i in 0..100_000u32 {
            // All within one second: nothing has refilled, so only eviction bounds the map.
            let now = t0 + Duration::from_micros(u64::from(i) * 10);
            let _ = limiter.check_at(&(i, &long), now);
            assert!(limiter.len() <= 1000, "{} buckets after {i} keys", limiter.len());
        }
    }

    #[test]
    fn refilled_buckets_are_swept_and_limited_ones_kept() {
        let limiter = RateLimiter::with_capacity(1.0, 2, 10_000);
        let t0 = Instant::now();
        for i in 0..500u32 {
            limiter.check_at(&i, t0).unwrap();
        }
        // Key 7 is out of tokens; the others refill within 2 s.
        limiter.check_at(&7u32, t0).unwrap();
        assert!(limiter.check_at(&7u32, t0).is_err());
        let later = t0 + SWEEP_EVERY;
        assert!(limiter.check_at(&7u32, later).is_ok());
        assert_eq!(limiter.len(), 1, "a minute later only the key just used is kept");
    }

    #[test]
    fn an_evicted_limited_key_is_the_recent_one_last() {
        let limiter = RateLimiter::with_capacity(0.001, 1, 100);
        let t0 = Instant::now();
        limiter.check_at("victim", t0).unwrap();
        for i in 0..99u32 {
            limiter.check_at(&i, t0 + Duration::from_millis(1)).unwrap();
        }
        // The map is full; the still-limited key used last survives the eviction of the older half.
        assert!(limiter.check_at("victim", t0 + Duration::from_millis(2)).is_err());
        limiter.check_at(&1000u32, t0 + Duration::from_millis(3)).unwrap();
        assert!(limiter.check_at("victim", t0 + Duration::from_millis(4)).is_err());
        assert!(limiter.len() <= 100);
    }

    #[tokio::test]
    async fn the_gate_admits_its_places_and_turns_away_the_rest() {
        let gate = Gate::new(1, 1);
        let first = gate.enter().await.expect("a free place");
        // One more may wait; a third is turned away at once.
        let waiting = async { gate.enter().await.is_some() };
        let mut waiting = std::pin::pin!(waiting);
        assert!(futures_util::poll!(&mut waiting).is_pending(), "waits for the running one");
        assert!(gate.enter().await.is_none(), "the queue is full");
        drop(first);
        assert!(waiting.await);
        assert!(gate.enter().await.is_some(), "free again");
    }
}
