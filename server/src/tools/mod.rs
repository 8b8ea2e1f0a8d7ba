//! The sender-side commands of the `server` binary, which talk to a running
//! deployment over HTTP and Socket.IO like any outside program would:
//!
//! - [`send`]: `server send order|payment|notification` posts one signed webhook
//!   (with the SDK's retries) from flags, a JSON file or stdin;
//! - [`selftest`]: `server selftest` exercises every webhook endpoint, the
//!   notification API and the real-time channel, and prints a pass/fail table;
//! - [`socket`]: the Socket.IO client both they and the integration tests use.

pub mod selftest;
pub mod send;
pub mod socket;

use clap::{Args, ValueEnum};
use hookbell_sdk::{Scheme, SendError, Sender};

/// Which deployment and tenant to talk to, and how to sign.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// The deployment's base URL.
    #[arg(long, env = "HOOKBELL_URL", default_value = "http://127.0.0.1:5000")]
    pub url: String,
    /// The tenant's id.
    #[arg(long, env = "HOOKBELL_TENANT_ID")]
    pub tenant: String,
    /// The tenant's webhook secret (prefer the environment variable: command
    /// lines show in process lists).
    #[arg(long, env = "HOOKBELL_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: String,
    /// Signature scheme.
    #[arg(long, value_enum, default_value_t = SchemeArg::Standard)]
    pub scheme: SchemeArg,
    /// Retries after the first attempt.
    #[arg(long, default_value_t = 3)]
    pub retries: u32,
    /// Per-attempt timeout.
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,
}

/// `--scheme`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemeArg {
    /// Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    Standard,
    /// The seed's `X-Webhook-Signature` (hex HMAC of the body).
    Seed,
}

impl Target {
    /// The SDK sender for this target.
    pub fn sender(&self) -> Result<Sender, SendError> {
        let scheme = match self.scheme {
            SchemeArg::Standard => Scheme::Standard,
            SchemeArg::Seed => Scheme::Seed,
        };
        Sender::builder(&self.url, &self.tenant, &self.secret)
            .scheme(scheme)
            .retry_attempts(self.retries)
            .timeout_ms(self.timeout_ms)
            .build()
    }
}
