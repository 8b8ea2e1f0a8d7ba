//! # hookbell-sdk: send signed webhooks to hookbell
//!
//! For the platforms that post to hookbell (shops, payment processors,
//! inventory systems):
//!
//! - [`payloads`]: typed bodies of the three webhooks and the seed's use cases
//!   (checkout complete, low-stock alert, maintenance notice);
//! - [`Sender`]: signs (Standard Webhooks or the seed's `X-Webhook-Signature`),
//!   posts, and retries connection errors, timeouts, 408, 429 and 5xx with
//!   exponential backoff and jitter, honouring `Retry-After`; never other 4xx.
//!   Every attempt carries the same `webhook-id`, so the server stores a
//!   webhook once however often it is redelivered;
//! - [`signature`]: the signing and verification functions, the same ones the
//!   server verifies with.
//!
//! ```no_run
//! use hookbell_sdk::{payloads::CheckoutComplete, Scheme, Sender};
//!
//! # async fn run() -> Result<(), hookbell_sdk::SendError> {
//! let sender = Sender::builder("http://localhost:5000", "507f1f77bcf86cd799439011", "whsec_…")
//!     .scheme(Scheme::Standard)
//!     .build()?;
//! let delivery = sender
//!     .checkout_complete(&CheckoutComplete {
//!         order_number: "ORD-12345".into(),
//!         customer_name: Some("John Doe".into()),
//!         total_minor: 9999,
//!         payment_method: Some("stripe".into()),
//!         ..Default::default()
//!     })
//!     .await?;
//! assert!(delivery.succeeded());
//! println!("order {} after {} attempt(s)", delivery.response["orderId"], delivery.attempts.len());
//! # Ok(())
//! # }
//! ```

pub mod payloads;
mod sender;
pub mod signature;

pub use hookbell_core::models;
pub use sender::{new_webhook_id, retryable, Attempt, Delivery, Endpoint, Scheme, SendError, Sender, SenderBuilder};
