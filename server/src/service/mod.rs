//! The service layer: the one place where hookbell's logic lives.
//!
//! Webhook handlers, REST handlers, server functions, socket handlers and the
//! CLI all call these functions; they never talk to the store or the sockets
//! themselves. Services take a [`Ctx`] (or what a request [`Presented`]) and
//! typed inputs (`app::input`), return typed values or an
//! [`ApiError`](crate::error::ApiError), and reach sockets through [`Push`].

mod account;
mod api_keys;
pub mod auth;
pub mod coalesce;
pub mod ctx;
pub mod dashboard;
pub mod housekeeping;
pub mod invitations;
pub mod limits;
pub mod members;
pub mod notifications;
mod preferences;
pub mod providers;
pub mod push;
pub mod rate_limit;
pub mod settings;
pub mod snooze;
pub mod tenant_cache;
mod tenants;
pub mod test_delivery;
pub mod webhooks;

use std::sync::Arc;

pub use account::PasswordChanged;
pub use app::models::CreatedApiKey;
pub use ctx::{Ctx, Presented, Principal, UserCtx};
pub use tenants::{slugify, CreatedTenant};

pub use push::{Push, Sockets};

use crate::{config::Config, sealing::Sealer, store::Store};

/// Password checks that run at once (each takes a core for tens of milliseconds).
pub const PASSWORD_CHECKS_RUNNING: usize = 4;
/// Password checks that may wait for one of those; more get 503 with Retry-After.
pub const PASSWORD_CHECKS_QUEUED: usize = 32;
/// Webhook requests per second per client address that fail before or at the
/// signature check (then 429), and how many may come at once.
pub const UNVERIFIED_PER_SEC_PER_ADDRESS: u32 = 5;
pub const UNVERIFIED_BURST_PER_ADDRESS: u32 = 50;

/// Everything the service layer needs, shared by all handlers.
/// What `/readyz` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    pub ready: bool,
    pub store_kind: &'static str,
    pub store: bool,
    /// `None`: no Redis configured.
    pub redis: Option<bool>,
    pub draining: bool,
}

/// Where `/metrics` was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Where {
    /// The main port, open to the world: only with `HOOKBELL_METRICS_TOKEN`.
    MainPort,
    /// `HOOKBELL_METRICS_ADDR`, meant for a private network.
    OwnAddress,
}

pub struct Services {
    store: Arc<dyn Store>,
    broadcaster: push::Pusher,
    config: Config,
    /// Seals secrets before they reach the store.
    sealer: Sealer,
    /// The development demo tenant, when this process created or found one.
    demo_tenant_id: std::sync::OnceLock<app::models::TenantId>,
    /// The address this process listens on, once bound.
    local_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// Webhooks per tenant per second (across nodes, as are the other limiters, with Redis).
    webhook_limiter: limits::Limiter,
    /// Login attempts per email: 10 at once, then one every 6 seconds.
    login_limiter_email: limits::Limiter,
    /// Login attempts per client address (an office shares one): 30 at once, then one a second.
    login_limiter_ip: limits::Limiter,
    /// Invitations made per tenant: 20 at once, then one a minute.
    invite_limiter: limits::Limiter,
    /// Password checks (argon2id, 19 MiB and tens of milliseconds each) running or waiting at once.
    password_gate: rate_limit::Gate,
    /// Unverified webhook requests per client address, before any store access.
    unverified_limiter: limits::Limiter,
    /// Webhook requests refused before their signature verified, by reason.
    unverified: webhooks::UnverifiedCounts,
    /// Set when the process begins to shut down: readiness turns false.
    draining: std::sync::atomic::AtomicBool,
    /// `dashboard-refresh` coalescing per tenant.
    refresh: Arc<coalesce::Coalescer>,
    /// State shared with the other nodes (Redis), when there is any.
    shared: Option<Arc<limits::Shared>>,
    /// Tenants and their opened secrets, for verifying webhooks.
    tenants: tenant_cache::TenantCache,
    /// Keys the store's hashes of session tokens: `SESSION_SECRET`, else derived from the sealing key.
    session_key: Vec<u8>,
}

impl Services {
    pub fn new(store: Arc<dyn Store>, push: Arc<dyn Push>, config: Config, sealer: Sealer) -> Self {
        Self::with_shared(store, push, config, sealer, None)
    }

    /// [`Services::new`] whose limits and refresh windows hold across every
    /// node that shares `shared` (Redis).
    pub fn with_shared(
        store: Arc<dyn Store>,
        push: Arc<dyn Push>,
        config: Config,
        sealer: Sealer,
        shared: Option<Arc<dyn limits::SharedState>>,
    ) -> Self {
        let session_key = match &config.session_secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => sealer.derived_key().to_vec(),
        };
        let shared = shared.map(|state| Arc::new(limits::Shared::new(state, &session_key)));
        let limiter = |name, rate, burst| limits::Limiter::new(name, rate, burst, shared.clone());
        Self {
            webhook_limiter: limiter("webhooks", f64::from(config.webhook_rate_per_sec), config.webhook_rate_burst),
            refresh: Arc::new(coalesce::Coalescer::new(config.refresh_coalesce)),
            login_limiter_email: limiter("login-email", 1.0 / 6.0, 10),
            login_limiter_ip: limiter("login-address", 1.0, 30),
            invite_limiter: limiter("invitations", 1.0 / 60.0, 20),
            password_gate: rate_limit::Gate::new(PASSWORD_CHECKS_RUNNING, PASSWORD_CHECKS_QUEUED),
            unverified_limiter: limiter(
                "unverified-webhooks",
                f64::from(UNVERIFIED_PER_SEC_PER_ADDRESS),
                UNVERIFIED_BURST_PER_ADDRESS,
            ),
            shared,
            tenants: tenant_cache::TenantCache::new(config.tenant_cache_ttl),
            session_key,
            unverified: Default::default(),
            draining: Default::default(),
            store,
            broadcaster: push::Pusher::new(push),
            config,
            sealer,
            demo_tenant_id: std::sync::OnceLock::new(),
            local_addr: std::sync::OnceLock::new(),
        }
    }

    /// The store behind the services.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The configuration the services run with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// How the services reach open dashboards (to share with another `Services`).
    pub fn push(&self) -> Arc<dyn Push> {
        self.broadcaster.inner()
    }

    /// Webhook requests refused before their signature verified, by reason.
    pub fn unverified(&self) -> &webhooks::UnverifiedCounts {
        &self.unverified
    }

    /// The store's kind, and whether it answers now.
    pub async fn store_health(&self) -> (&'static str, bool) {
        (self.store.kind(), self.store.ping().await.is_ok())
    }

    /// Whether this process should get traffic (`/readyz`): its store answers
    /// and it is not shutting down; whether Redis answers is reported beside.
    pub async fn readiness(&self) -> Readiness {
        let (store_kind, store) = self.store_health().await;
        let redis = self.broadcaster.reachable().await;
        let draining = self.draining.load(std::sync::atomic::Ordering::SeqCst);
        // Redis away: degraded but still serving (webhooks are taken and this node's
        // sockets served); were it not ready, a Redis outage would empty the balancer.
        Readiness { ready: store && !draining, store_kind, store, redis, draining }
    }

    /// The metrics in Prometheus text (the socket gauges counted now), for
    /// the holder of `HOOKBELL_METRICS_TOKEN` (compared in constant time).
    /// On the main port there are none without that setting (404); on
    /// `HOOKBELL_METRICS_ADDR` the token is asked only when it is set.
    pub fn metrics(&self, token: Option<&str>, at: Where) -> Result<String, crate::error::ApiError> {
        use subtle::ConstantTimeEq;
        match (&self.config.metrics_token, at) {
            (None, Where::MainPort) => return Err(crate::error::ApiError::NotFound("API route")),
            (None, Where::OwnAddress) => {}
            (Some(expected), _) => {
                let given = token.unwrap_or("").as_bytes();
                // Equal lengths are compared in constant time; the length alone is no secret worth hiding.
                if !bool::from(given.ct_eq(expected.as_bytes())) {
                    return Err(crate::error::ApiError::Unauthorized("A valid metrics token is required"));
                }
            }
        }
        let (sockets, rooms) = self.broadcaster.local_counts();
        crate::telemetry::socket_counts(sockets, rooms);
        Ok(crate::telemetry::render())
    }

    /// On shutdown: closes the transport of every socket on this node, so
    /// that clients reconnect (to another node).
    pub async fn close_sockets(&self) {
        self.broadcaster.close_local().await;
    }

    /// Marks the process as shutting down: `/readyz` answers 503 from now on.
    pub fn begin_drain(&self) {
        self.draining.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Records the address the server listens on (for deliveries to itself).
    pub fn set_local_addr(&self, addr: std::net::SocketAddr) {
        let _ = self.local_addr.set(addr);
    }
}
