//! The service layer: the one place where hookbell's logic lives.
//!
//! Webhook handlers, REST handlers, server functions and socket handlers all
//! call these functions; they never talk to the store or the broadcaster
//! themselves.

mod api_keys;
mod ctx;
mod dashboard;
pub mod housekeeping;
pub mod rate_limit;
pub mod settings;
mod tenants;
pub mod test_delivery;
pub mod webhooks;

use std::sync::Arc;

pub use api_keys::CreatedApiKey;
pub use ctx::{Ctx, Principal, TENANT_HEADER};
pub use tenants::{slugify, CreatedTenant};

use crate::{config::Config, realtime::Broadcaster, sealing::Sealer, store::Store};

/// Everything the service layer needs, shared by all handlers.
pub struct Services {
    pub store: Arc<dyn Store>,
    pub broadcaster: Broadcaster,
    pub config: Config,
    /// Seals secrets before they reach the store.
    sealer: Sealer,
    /// The development demo tenant, when this process created or found one.
    demo_tenant_id: std::sync::OnceLock<String>,
    /// The address this process listens on, once bound.
    local_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// Webhooks per tenant per second.
    webhook_limiter: rate_limit::RateLimiter,
}

impl Services {
    pub fn new(store: Arc<dyn Store>, broadcaster: Broadcaster, config: Config, sealer: Sealer) -> Self {
        let webhook_limiter = rate_limit::RateLimiter::new(config.webhook_rate_per_sec, config.webhook_rate_burst);
        Self {
            webhook_limiter,
            store,
            broadcaster,
            config,
            sealer,
            demo_tenant_id: std::sync::OnceLock::new(),
            local_addr: std::sync::OnceLock::new(),
        }
    }

    /// Records the address the server listens on (for deliveries to itself).
    pub fn set_local_addr(&self, addr: std::net::SocketAddr) {
        let _ = self.local_addr.set(addr);
    }
}
