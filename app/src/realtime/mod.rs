//! The browser's real-time channel: a small Socket.IO client over `web_sys::WebSocket`.
//!
//! `codec` and `backoff` are pure and tested on the host; `client` (hydrate only)
//! owns the WebSocket, the heartbeat and reconnection; `shared` (hydrate only)
//! lets the tabs of one browser share one connection.

pub use hookbell_core::backoff;
pub mod codec;

#[cfg(feature = "hydrate")]
pub mod client;
#[cfg(feature = "hydrate")]
pub mod shared;

/// Where the connection stands, as the header's indicator shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConnectionState {
    /// Not yet started (server render) or first connect in progress.
    Connecting,
    Connected,
    /// Lost; `retry_at_ms` is the `Date.now()` of the next attempt.
    Disconnected {
        retry_at_ms: f64,
    },
}
