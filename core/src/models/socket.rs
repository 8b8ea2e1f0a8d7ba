//! Socket.IO: the event names of the seed's public contract ([`events`]) and
//! the payloads and acknowledgements sent with them.

use serde::{Deserialize, Serialize};

use super::{Notification, TenantId, Timestamp, UserId};

/// Socket.IO event names: the seed's public contract.
pub mod events {
    /// Client → server: join the tenant's room.
    pub const JOIN_TENANT: &str = "join-tenant";
    /// Client → server: leave the tenant's room.
    pub const LEAVE_TENANT: &str = "leave-tenant";
    /// Client → server: acknowledge that a notification was shown.
    pub const NOTIFICATION_RECEIVED: &str = "notification-received";
    /// Server → client: a notification was created.
    pub const NEW_NOTIFICATION: &str = "new-notification";
    /// Server → client: a notification's read/dismissed state changed.
    pub const NOTIFICATION_UPDATED: &str = "notification-updated";
    /// Server → client: dashboard data changed; refetch what the payload names.
    pub const DASHBOARD_REFRESH: &str = "dashboard-refresh";
    /// Server → client: bulk read-state update.
    pub const NOTIFICATIONS_MARKED_READ: &str = "notifications-marked-read";
    /// Server → client (hookbell's own): the user's notification preferences changed.
    pub const PREFERENCES_UPDATED: &str = "preferences-updated";
}

/// Payload of [`events::NEW_NOTIFICATION`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewNotificationEvent {
    pub notification: Notification,
    pub unread_count: u64,
}

/// Payload of [`events::NOTIFICATION_UPDATED`]: the notification as it is
/// now, and the unread count its audience sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationUpdatedEvent {
    pub notification: Notification,
    pub unread_count: u64,
}

/// Payload of [`events::NOTIFICATIONS_MARKED_READ`]: who marked all read,
/// how many changed, and the tenant-wide unread count now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationsMarkedReadEvent {
    pub tenant_id: TenantId,
    /// Whose view was marked (their own notifications too); none: tenant-wide only.
    pub user_id: Option<UserId>,
    pub count: u64,
    pub read_at: Timestamp,
    pub unread_count: u64,
}

/// Payload of [`events::DASHBOARD_REFRESH`]: what changed, so a client refetches only that.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardRefreshEvent {
    pub tenant_id: TenantId,
    /// e.g. `order-created`.
    pub reason: String,
    /// e.g. `orders`, `notifications`.
    pub entities: Vec<String>,
}

/// Acknowledgement of [`events::JOIN_TENANT`]. A client that rejoins says
/// the newest notification it has (`lastSeenId`); the ack then carries what
/// it missed, newest first, or `refetch: true` when that is more than the
/// server sends in one ack (or the notification is unknown).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinAck {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With `error`: the stable code of the one error shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed: Option<Vec<Notification>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refetch: Option<bool>,
}
