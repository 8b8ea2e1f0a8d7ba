//! Reusable pieces of the dashboard's chrome.

mod bell;
mod connection;
mod icons;

pub use bell::NotificationBell;
pub use connection::ConnectionIndicator;
