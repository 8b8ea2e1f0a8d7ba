//! Reusable pieces of the dashboard's chrome.

mod bell;
mod connection;
mod copy;
mod icons;
mod time;
mod toasts;

pub use bell::{badge_text, relative_time, type_icon, NotificationBell};
pub use connection::ConnectionIndicator;
pub use copy::CopyButton;
pub use time::TimeAgo;
pub use toasts::Toaster;
