//! The parts of hookbell that every side shares and that need no framework:
//! the server, the browser (through `app`) and senders (through `hookbell-sdk`).
//!
//! - [`models`]: typed payloads of webhooks, REST and Socket.IO events, in the seed's JSON shapes.
//! - [`input`]: typed inputs of every operation, parsed from JSON with each bad field named.
//! - [`ids`]: one id type per kind of record; [`timestamp`]: the instant type and its one text form.
//! - [`backoff`]: exponential backoff with jitter, for reconnects and webhook retries.

pub mod backoff;
pub mod ids;
pub mod input;
pub mod models;
pub mod timestamp;
