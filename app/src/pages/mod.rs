//! One module per page of the app.

mod dashboard;
mod not_found;

pub use dashboard::DashboardPage;
pub use not_found::NotFound;
