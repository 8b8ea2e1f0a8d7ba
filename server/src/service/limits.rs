//! Limits that hold across every node: a [`Limiter`] asks the shared state
//! (Redis, through [`SharedState`]) first and its own process's token bucket
//! only while that does not answer; the refresh coalescer opens its windows
//! there too ([`Shared::open_window`]).
//!
//! Keys reach the shared state as a keyed hash (the session key, the same on
//! every node), so neither emails nor addresses are written to Redis. A call
//! is bounded by [`CALL_TIMEOUT`]; after a failure the shared state is left
//! alone for [`RETRY_AFTER`] (requests use local limits meanwhile, with no
//! wait on a dead connection), and the fallback is logged at most once per
//! [`WARN_EVERY`], with how many checks fell back, and counted in
//! `hookbell_limit_fallbacks_total` (see [`crate::telemetry`]).

use std::{sync::Arc, sync::Mutex, time::Duration};

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::time::Instant;

use super::rate_limit::RateLimiter;
use crate::telemetry;

/// The longest one call to the shared state may take before local limits decide.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(250);
/// How long the shared state is left alone after a failure.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);
/// The fallback is logged at most this often.
pub const WARN_EVERY: Duration = Duration::from_secs(30);

/// The shared state did not answer (in time).
#[derive(Debug, thiserror::Error)]
#[error("shared limits unavailable: {0}")]
pub struct Unavailable(pub String);

/// State every node sees (Redis). Implemented outside the service layer.
#[async_trait]
pub trait SharedState: Send + Sync + 'static {
    /// Whether the state answered lately; while it is not, checks are decided locally at once.
    fn healthy(&self) -> bool {
        true
    }
    /// A GCRA bucket `key`: one unit per `per_unit`, at most `burst` at
    /// once. `Ok(Ok(()))`: allowed (and, unless `peek`, spent); `Ok(Err(wait))`: limited.
    async fn take(
        &self,
        key: &str,
        per_unit: Duration,
        burst: u32,
        peek: bool,
    ) -> Result<Result<(), Duration>, Unavailable>;
    /// Opens the window `key` for `window` unless one is open: `Ok(None)`
    /// opened it; `Ok(Some(left))` one is open for `left` more.
    async fn open_window(&self, key: &str, window: Duration) -> Result<Option<Duration>, Unavailable>;
    /// Tells every node that tenant `tenant_id` changed (their caches drop it).
    /// (A state that serves one node has no one to tell.)
    async fn announce_tenant_change(&self, _tenant_id: &str) -> Result<(), Unavailable> {
        Ok(())
    }
    /// Moves each time the state answers again after it did not: messages
    /// sent meanwhile may not have arrived.
    fn epoch(&self) -> u64 {
        0
    }
}

/// The shared state, its health as this process sees it, and the key that hashes names.
pub struct Shared {
    state: Arc<dyn SharedState>,
    hash_key: Vec<u8>,
    /// Local limits only until then (after a failure).
    skip_until: Mutex<Option<Instant>>,
    /// Fallbacks, logged at most once per [`WARN_EVERY`] with how many went unlogged.
    warnings: telemetry::Throttle,
}

impl Shared {
    pub fn new(state: Arc<dyn SharedState>, hash_key: &[u8]) -> Self {
        Self {
            state,
            hash_key: hash_key.to_vec(),
            skip_until: Mutex::new(None),
            warnings: telemetry::Throttle::new(WARN_EVERY),
        }
    }

    /// `hookbell:{kind}:{name}:` and 128 bits of HMAC-SHA256 of `key`.
    fn key(&self, kind: &str, name: &str, key: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.hash_key).expect("HMAC takes any key length");
        mac.update(name.as_bytes());
        mac.update(&[0]);
        mac.update(key.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("hookbell:{kind}:{name}:{}", hex::encode(&digest[..16]))
    }

    /// Runs `call` unless the shared state failed within [`RETRY_AFTER`]; `None`: decide locally.
    async fn call<T, F>(&self, what: &'static str, call: F) -> Option<T>
    where
        F: std::future::Future<Output = Result<T, Unavailable>>,
    {
        let now = Instant::now();
        let skipping = !self.state.healthy() || self.skip_until().is_some_and(|until| now < until);
        let cause = if skipping {
            "Redis failed within the last second".to_owned()
        } else {
            let cause = match tokio::time::timeout(CALL_TIMEOUT, call).await {
                Ok(Ok(value)) => {
                    *self.skip_until_mut() = None;
                    return Some(value);
                }
                Ok(Err(e)) => e.0,
                Err(_) => format!("no answer within {} ms", CALL_TIMEOUT.as_millis()),
            };
            telemetry::redis_error("shared-limits");
            *self.skip_until_mut() = Some(now + RETRY_AFTER);
            cause
        };
        telemetry::limit_fallback(what);
        if let Some(unlogged) = self.warnings.note() {
            tracing::warn!(%cause, unlogged, "limits shared across nodes unavailable: this node limits on its own meanwhile");
        }
        None
    }

    fn skip_until(&self) -> Option<Instant> {
        *self.skip_until_mut()
    }

    fn skip_until_mut(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.skip_until.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the shared state answered lately, and its [`SharedState::epoch`].
    pub fn health(&self) -> (bool, u64) {
        (self.state.healthy(), self.state.epoch())
    }

    /// Tells every node that the tenant changed; a failure is logged (their
    /// caches drop it within `HOOKBELL_TENANT_CACHE_SECONDS`, or when Redis answers again).
    pub async fn announce_tenant_change(&self, tenant_id: &str) {
        let sent = match self.state.healthy() {
            true => tokio::time::timeout(CALL_TIMEOUT, self.state.announce_tenant_change(tenant_id)).await.ok(),
            false => None,
        };
        if !matches!(sent, Some(Ok(()))) {
            telemetry::redis_error("tenant-change");
            tracing::warn!(tenant = tenant_id, "could not tell the other nodes that a tenant changed");
        }
    }

    /// Opens window `name`/`key` for `window` on every node: `None` when this
    /// call opened it (or the shared state did not answer), else how long the open one lasts.
    pub async fn open_window(&self, name: &'static str, key: &str, window: Duration) -> Option<Duration> {
        let redis_key = self.key("window", name, key);
        self.call(name, self.state.open_window(&redis_key, window)).await.flatten()
    }
}

/// A named limit: `rate` a second up to `burst`, shared across nodes when
/// there is shared state, else (and while it does not answer) per process.
pub struct Limiter {
    name: &'static str,
    rate: f64,
    burst: u32,
    local: RateLimiter,
    shared: Option<Arc<Shared>>,
}

impl Limiter {
    /// `rate` per second (0 disables the limit) up to `burst`.
    pub fn new(name: &'static str, rate: f64, burst: u32, shared: Option<Arc<Shared>>) -> Self {
        Self { name, rate, burst: burst.max(1), local: RateLimiter::with_rate(rate, burst), shared }
    }

    /// Takes one unit for `key`, or says how long until one is free (and counts the refusal).
    pub async fn check(&self, key: &str) -> Result<(), Duration> {
        let result = self.decide(key, false).await;
        if result.is_err() {
            telemetry::rate_limited(self.name);
        }
        result
    }

    /// Whether `key` has a unit now, without taking it.
    pub async fn peek(&self, key: &str) -> Result<(), Duration> {
        self.decide(key, true).await
    }

    async fn decide(&self, key: &str, peek: bool) -> Result<(), Duration> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        if let Some(shared) = &self.shared {
            let per_unit = Duration::from_secs_f64(1.0 / self.rate);
            let redis_key = shared.key("limit", self.name, key);
            if let Some(decided) =
                shared.call(self.name, shared.state.take(&redis_key, per_unit, self.burst, peek)).await
            {
                return decided;
            }
        }
        if peek {
            self.local.peek(key)
        } else {
            self.local.check(key)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// A shared state that can be switched off, counting its calls.
    #[derive(Default)]
    struct Switch {
        down: AtomicBool,
        calls: AtomicUsize,
    }

    #[async_trait]
    impl SharedState for Switch {
        async fn take(&self, _: &str, _: Duration, _: u32, _: bool) -> Result<Result<(), Duration>, Unavailable> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.down.load(Ordering::SeqCst) {
                Err(Unavailable("down".into()))
            } else {
                Ok(Err(Duration::from_secs(7)))
            }
        }
        async fn open_window(&self, _: &str, _: Duration) -> Result<Option<Duration>, Unavailable> {
            Ok(None)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_shared_answer_decides_and_a_failure_falls_back_locally_for_a_while() {
        let switch = Arc::new(Switch::default());
        let shared = Arc::new(Shared::new(switch.clone(), b"k"));
        let limiter = Limiter::new("t", 1.0, 2, Some(shared));
        assert_eq!(limiter.check("a").await, Err(Duration::from_secs(7)), "the shared state said no");
        switch.down.store(true, Ordering::SeqCst);
        assert_eq!(limiter.check("a").await, Ok(()), "local bucket, full");
        assert_eq!(limiter.check("a").await, Ok(()));
        assert!(limiter.check("a").await.is_err(), "local bucket, empty");
        assert_eq!(switch.calls.load(Ordering::SeqCst), 2, "not asked again within RETRY_AFTER");
        tokio::time::advance(RETRY_AFTER).await;
        switch.down.store(false, Ordering::SeqCst);
        assert_eq!(limiter.check("a").await, Err(Duration::from_secs(7)), "asked again, and it answers");
    }

    #[test]
    fn keys_are_hashed_per_name() {
        let shared = Shared::new(Arc::new(Switch::default()), b"k");
        let a = shared.key("limit", "login-email", "a@example.com");
        assert!(a.starts_with("hookbell:limit:login-email:") && !a.contains("example"), "{a}");
        assert_eq!(a.len(), "hookbell:limit:login-email:".len() + 32);
        assert_ne!(a, shared.key("limit", "webhooks", "a@example.com"));
        assert_ne!(a, Shared::new(Arc::new(Switch::default()), b"other").key("limit", "login-email", "a@example.com"));
    }
}
