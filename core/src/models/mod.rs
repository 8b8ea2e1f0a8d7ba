//! Typed models shared by the server and the browser: what crosses the wire.
//!
//! Everything here serialises to the seed's JSON shapes (camelCase field names).
//! Nothing secret lives here: tenant secrets are server-only types.
//!
//! One file per topic; everything is re-exported here, so every type is
//! `models::X` (and the Socket.IO event names `models::events::X`).

mod access;
mod activity;
mod dashboard;
mod errors;
pub mod money;
mod notifications;
mod orders;
mod preferences;
mod providers;
mod settings;
mod socket;
mod team;
mod webhook_events;

pub use crate::{
    ids::{is_id, ActivityId, ApiKeyId, InvitationId, NotificationId, OrderId, TenantId, UserId, WebhookEventId},
    timestamp::Timestamp,
};
pub use access::{ApiKeyInfo, CreatedApiKey, Role};
pub use activity::ActivityEntry;
pub use dashboard::{BellState, CurrencyTotal, DashboardOverview, OrderStats, TenantChoice};
pub use errors::{success, ApiFailure, FieldError};
pub use money::{format_minor, minor_digits};
pub use notifications::{
    InboxView, Notification, NotificationFilter, NotificationPage, NotificationPatch, NotificationQuery,
    NotificationType, PageCursor, Priority,
};
pub use orders::{Order, OrderItem, OrderStatus, PaymentStatus};
pub use preferences::{Preferences, PreferencesPatch};
pub use providers::{Provider, ProviderConnectionView, DEFAULT_LOW_STOCK_THRESHOLD};
pub use settings::{
    DeliveryAttempt, RotatedSecret, TestReport, WebhookEndpoints, WebhookSettings, WebhookSettingsPatch,
    WebhookSettingsView, WebhookUrls,
};
pub use socket::{
    events, DashboardRefreshEvent, JoinAck, NewNotificationEvent, NotificationUpdatedEvent,
    NotificationsMarkedReadEvent,
};
pub use team::{
    device_of, AccountView, CreatedInvitation, InvitationInfo, InvitationPreview, MemberInfo, MembersView, SessionInfo,
};
pub use webhook_events::{Endpoint, WebhookEvent, WebhookEventFilter};
