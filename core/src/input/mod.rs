//! Typed inputs: one type per operation, each parsed once at the edge (a
//! REST body, a webhook delivery, a server function's arguments) with every
//! bad field named. The server's services take these, never raw JSON.
//!
//! - [`fields`]: the field reader and the shared rules (money, email, links).
//! - [`webhooks`]: [`NewOrder`], [`NewNotification`], [`PaymentUpdate`].
//! - [`dashboard`]: settings, secrets, API keys, notification changes, lists, sign-in.
//! - [`team`]: invitations, roles, a user's password.
//! - [`providers`]: a tenant's connection to Shopify or Stripe.

pub mod dashboard;
pub mod fields;
pub mod preferences;
pub mod providers;
pub mod team;
pub mod webhooks;

use serde_json::{Map, Value};

pub use dashboard::{
    apply_patch, ListEvents, ListNotifications, Login, MarkAllRead, NewApiKey, NotificationUpdate, Page, RotateSecret,
    SettingsPatch,
};
pub use fields::{is_email, is_id, is_safe_action_url, parse_money, parse_object, Fields};
pub use preferences::PreferencesUpdate;
pub use providers::{parse_shop_domain, ProviderUpdate};
pub use team::{AcceptInvitation, InvitationToken, NewInvitation, PasswordChange, RoleChange};
pub use webhooks::{NewNotification, NewOrder, PaymentUpdate, WebhookBody};

use crate::models::FieldError;

/// An input as parsed at the edge: its bad fields are reported by the service
/// after it checked the caller may act at all (a 403 comes before a 400).
pub type Parsed<T> = Result<T, Vec<FieldError>>;

/// An input read from a JSON object, every bad field named.
pub trait FromJson: Sized {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>>;
}
