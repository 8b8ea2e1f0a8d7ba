//! Typed models shared by the server and the browser: what crosses the wire.
//!
//! Everything here serialises to the seed's JSON shapes (camelCase field names).
//! Nothing secret lives here: tenant secrets are server-only types.

use serde::{Deserialize, Serialize};

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
}

/// The kind of a notification (drives its icon and colour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum NotificationType {
    #[default]
    Info,
    Success,
    Warning,
    Error,
}

impl NotificationType {
    pub const ALL: [NotificationType; 4] = [Self::Info, Self::Success, Self::Warning, Self::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Success => "success",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// How urgent a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Self::Low, Self::Medium, Self::High, Self::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A notification as stored and as sent to dashboards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: String,
    pub tenant_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub title: String,
    pub message: String,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub priority: Priority,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_text: Option<String>,
    #[serde(default)]
    pub metadata: serde_json::Value,
    pub is_read: bool,
    pub is_dismissed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// Which notifications a list shows: the seed's `GET /api/notifications` query
/// (`userId`, `includeRead`, `includeDismissed`) plus type and priority filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NotificationFilter {
    /// The viewer: tenant-wide notifications plus this user's own. `None`: tenant-wide only.
    pub user_id: Option<String>,
    pub include_read: bool,
    pub include_dismissed: bool,
    #[serde(rename = "type")]
    pub kind: Option<NotificationType>,
    pub priority: Option<Priority>,
}

impl Default for NotificationFilter {
    fn default() -> Self {
        Self { user_id: None, include_read: true, include_dismissed: false, kind: None, priority: None }
    }
}

/// The query of `GET /api/notifications` as received (the seed's names plus
/// `type`, `priority` and the cursor `after`); the service validates it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_read: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_dismissed: Option<bool>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// The `nextCursor` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// A page of notifications, newest first, with the viewer's unread count and
/// the cursor of the next page (none on the last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPage {
    pub notifications: Vec<Notification>,
    pub unread_count: u64,
    pub next_cursor: Option<String>,
}

/// A position in a newest-first list: the last item of the previous page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageCursor {
    pub created_at: String,
    pub id: String,
}

impl PageCursor {
    /// The cursor that continues after `n`.
    pub fn after(n: &Notification) -> Self {
        Self { created_at: n.created_at.clone(), id: n.id.clone() }
    }

    /// The encoded cursor of the page after `page`, when it was full (`limit` items).
    pub fn next_page<T>(page: &[T], limit: u32, at: impl Fn(&T) -> PageCursor) -> Option<String> {
        (page.len() == limit as usize).then(|| page.last().map(|last| at(last).encode())).flatten()
    }

    /// Opaque text form for URLs: `<createdAt>_<id>`.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.created_at, self.id)
    }

    /// Parses [`PageCursor::encode`]'s form.
    pub fn decode(s: &str) -> Option<Self> {
        let (created_at, id) = s.rsplit_once('_')?;
        let ok = !created_at.is_empty() && id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| Self { created_at: created_at.to_owned(), id: id.to_owned() })
    }
}

/// A change to one notification (`PATCH /api/notifications/:id`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPatch {
    pub is_read: Option<bool>,
    pub is_dismissed: Option<bool>,
}

/// A user's role in a tenant; each role can do what the ones below it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads and updates notifications.
    #[default]
    Member,
    /// Also changes webhook settings, rotates secrets, manages API keys.
    Admin,
    /// Also manages users.
    Owner,
}

impl Role {
    pub const ALL: [Role; 3] = [Self::Member, Self::Admin, Self::Owner];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// An API key just created: the only time the key itself is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKey {
    pub info: ApiKeyInfo,
    pub key: String,
}

/// An API key as listed to admins: never the key itself, only its prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    /// The key's first characters, e.g. `hb_3f9a1c2d`, to recognise it by.
    pub prefix: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
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
    pub tenant_id: String,
    /// Whose view was marked (their own notifications too); none: tenant-wide only.
    pub user_id: Option<String>,
    pub count: u64,
    pub read_at: String,
    pub unread_count: u64,
}

/// Payload of [`events::DASHBOARD_REFRESH`]: what changed, so a client refetches only that.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardRefreshEvent {
    pub tenant_id: String,
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

/// The status of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    #[default]
    Pending,
    Paid,
    Processing,
    Shipped,
    Completed,
    Cancelled,
    Refunded,
    Failed,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 8] = [
        Self::Pending,
        Self::Paid,
        Self::Processing,
        Self::Shipped,
        Self::Completed,
        Self::Cancelled,
        Self::Refunded,
        Self::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Processing => "processing",
            Self::Shipped => "shipped",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Where an order's payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    #[default]
    Pending,
    Paid,
    Failed,
    Refunded,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 4] = [Self::Pending, Self::Paid, Self::Failed, Self::Refunded];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Failed => "failed",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// One line of an order. `price` is in minor units (cents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    pub quantity: u32,
    pub price_minor: i64,
}

/// A stored order. Money is kept as integer minor units: never floating point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub tenant_id: String,
    pub order_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    pub items: Vec<OrderItem>,
    #[serde(default)]
    pub metadata: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
}

/// Which webhook endpoints a tenant accepts (the seed's `webhookEndpoints`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoints {
    pub orders: bool,
    pub notifications: bool,
    pub payments: bool,
}

/// A tenant's webhook settings, with the seed's field names and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSettings {
    pub webhook_enabled: bool,
    pub webhook_endpoints: WebhookEndpoints,
    /// 0–10.
    pub webhook_retry_attempts: u32,
    /// 1,000–120,000.
    pub webhook_timeout_ms: u32,
    /// Whether the seed's `X-Webhook-Signature` (an HMAC of the body alone, no
    /// timestamp: a captured request can be replayed forever) is accepted
    /// besides Standard Webhooks. On by default, as the seed's contract says.
    #[serde(default = "accept_seed_signatures_default")]
    pub accept_seed_signatures: bool,
}

fn accept_seed_signatures_default() -> bool {
    true
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            webhook_enabled: true,
            webhook_endpoints: WebhookEndpoints { orders: true, notifications: true, payments: true },
            webhook_retry_attempts: 3,
            webhook_timeout_ms: 30_000,
            accept_seed_signatures: true,
        }
    }
}

/// One entry of a tenant's append-only audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEntry {
    pub id: String,
    pub tenant_id: String,
    /// Who did it: `webhook:orders`, `user:<id>`, `system`.
    pub actor: String,
    /// What happened: `order.created`, `settings.updated`, …
    pub action: String,
    /// The kind of thing it happened to: `order`, `notification`, `tenant`.
    pub entity: String,
    pub entity_id: String,
    #[serde(default)]
    pub details: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    pub created_at: String,
}

/// One received webhook request, accepted or not (the webhook event log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    pub id: String,
    /// The tenant the request named, when it named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// `orders`, `notifications`, `payments`.
    pub endpoint: String,
    /// Whether the signature checked out.
    pub verified: bool,
    /// `accepted`, `duplicate` or `rejected`.
    pub outcome: String,
    pub status_code: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub latency_ms: u32,
    /// The body, capped (see `body_truncated`).
    pub body: String,
    pub body_truncated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    pub received_at: String,
    /// The JSON answer of an accepted request (ids of what it created).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<serde_json::Value>,
    /// The body and answer are withheld from this viewer: a personal
    /// notification of another user.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withheld: bool,
}

impl WebhookEvent {
    /// The user a notification webhook was addressed to, if it named one.
    pub fn addressed_to(&self) -> Option<String> {
        if self.endpoint != "notifications" {
            return None;
        }
        let body: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        body.get("userId")
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
    }

    /// What a member who is not an admin may see of it: no source address,
    /// and no body or answer of another user's personal notification
    /// (`viewer` is the signed-in user; an API key sees no one's). A
    /// truncated notification body that cannot be read is withheld too.
    pub fn for_member(mut self, viewer: Option<&str>) -> Self {
        self.source_ip = None;
        let personal = self.endpoint == "notifications"
            && match self.addressed_to() {
                Some(user) => viewer != Some(user.as_str()),
                None => self.body_truncated,
            };
        if personal {
            self.body = String::new();
            self.response = None;
            self.withheld = true;
        }
        self
    }
}

/// Where senders post, per endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookUrls {
    pub orders: String,
    pub notifications: String,
    pub payments: String,
}

/// A tenant's webhook settings as shown to its members (`GET /api/webhooks/settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSettingsView {
    #[serde(flatten)]
    pub settings: WebhookSettings,
    /// The end of the current secret, to recognise it by.
    pub secret_hint: String,
    /// Until when the previous secret is still accepted, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret_valid_until: Option<String>,
    pub webhook_urls: WebhookUrls,
    /// The tenant has no secret of its own and relies on the server's global
    /// `WEBHOOK_SECRET` (shared by every such tenant): rotate to get one.
    #[serde(default)]
    pub uses_fallback_secret: bool,
}

/// A change to webhook settings from the settings page: only what is given changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSettingsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_endpoints: Option<WebhookEndpoints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_retry_attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_timeout_ms: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_seed_signatures: Option<bool>,
}

/// A new webhook secret: the only time it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RotatedSecret {
    pub webhook_secret: String,
    pub secret_hint: String,
    pub previous_secret_valid_until: Option<String>,
}

/// One attempt to deliver a webhook, as its sender saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
    /// How long the sender waited before this attempt.
    pub delay_ms: u64,
}

/// The outcome of "send test webhook".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestReport {
    pub success: bool,
    pub url: String,
    pub webhook_id: String,
    pub attempts: Vec<DeliveryAttempt>,
}

/// Which webhook events a list shows (`GET /api/webhooks/events`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WebhookEventFilter {
    /// `orders`, `notifications`, `payments`.
    pub endpoint: Option<String>,
    /// `accepted`, `duplicate`, `rejected`.
    pub outcome: Option<String>,
}

/// What the dashboard header needs on first render: whose dashboard, and the bell's count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BellState {
    pub tenant_id: String,
    pub tenant_name: String,
    pub unread_count: u64,
    /// The newest notifications, newest first.
    pub latest: Vec<Notification>,
    /// The signed-in user's name; none for the development demo or an API key.
    #[serde(default)]
    pub user_name: Option<String>,
    /// The tenants the caller may switch between (the current one included).
    #[serde(default)]
    pub tenants: Vec<TenantChoice>,
}

/// A tenant the caller belongs to, with the caller's role there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantChoice {
    pub tenant_id: String,
    pub name: String,
    pub slug: String,
    pub role: Role,
}

/// One currency's total, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyTotal {
    pub currency: String,
    pub amount_minor: i64,
}

/// Orders created in a period (the dashboard's KPI cards): how many, how many
/// of them are paid and still pending, and the paid ones' value per currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderStats {
    pub orders: u64,
    pub paid: u64,
    pub pending: u64,
    /// Paid orders' amounts per currency, largest first (then by currency).
    pub revenue: Vec<CurrencyTotal>,
}

impl OrderStats {
    /// Adds `count` orders of one currency and payment state worth `amount_minor` in all.
    pub fn add(&mut self, currency: &str, payment: PaymentStatus, count: u64, amount_minor: i64) {
        self.orders += count;
        match payment {
            PaymentStatus::Paid => {
                self.paid += count;
                match self.revenue.iter_mut().find(|t| t.currency == currency) {
                    Some(t) => t.amount_minor = t.amount_minor.saturating_add(amount_minor),
                    None => self.revenue.push(CurrencyTotal { currency: currency.to_owned(), amount_minor }),
                }
                self.revenue.sort_by(|a, b| b.amount_minor.cmp(&a.amount_minor).then(a.currency.cmp(&b.currency)));
            }
            PaymentStatus::Pending => self.pending += count,
            PaymentStatus::Failed | PaymentStatus::Refunded => {}
        }
    }
}

/// The dashboard page's data: today's order figures, the newest orders and
/// the newest entries of the activity log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardOverview {
    /// Where "today" begins: midnight UTC, as RFC 3339.
    pub since: String,
    pub today: OrderStats,
    /// Newest first.
    pub recent_orders: Vec<Order>,
    /// Newest first.
    pub activity: Vec<ActivityEntry>,
}

/// Formats minor units as a decimal amount with two places, e.g. `9999` → `99.99`.
pub fn format_minor(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_use_the_seed_spelling() {
        assert_eq!(serde_json::to_string(&NotificationType::Warning).unwrap(), "\"warning\"");
        assert_eq!(serde_json::to_string(&Priority::Medium).unwrap(), "\"medium\"");
        for t in NotificationType::ALL {
            assert_eq!(NotificationType::parse(t.as_str()), Some(t));
        }
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Some(p));
        }
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(Priority::parse("MEDIUM"), None);
    }

    #[test]
    fn notification_serialises_camel_case_with_type_field() {
        let n = Notification {
            id: "n1".into(),
            tenant_id: "t1".into(),
            user_id: None,
            title: "T".into(),
            message: "M".into(),
            kind: NotificationType::Success,
            priority: Priority::High,
            action_url: Some("/orders".into()),
            action_text: None,
            metadata: serde_json::json!({"k": 1}),
            is_read: false,
            is_dismissed: false,
            read_at: None,
            delivered_at: None,
            created_at: "2026-01-01T00:00:00Z".into(),
        };
        let v = serde_json::to_value(&n).unwrap();
        assert_eq!(v["type"], "success");
        assert_eq!(v["tenantId"], "t1");
        assert_eq!(v["actionUrl"], "/orders");
        assert!(v.get("userId").is_none());
        let back: Notification = serde_json::from_value(v).unwrap();
        assert_eq!(back, n);
    }

    #[test]
    fn filter_defaults_follow_the_seed() {
        let f: NotificationFilter = serde_json::from_str("{}").unwrap();
        assert_eq!(f, NotificationFilter::default());
        assert!(f.include_read && !f.include_dismissed && f.user_id.is_none());
        let f: NotificationFilter = serde_json::from_str(r#"{"type":"error","includeRead":false}"#).unwrap();
        assert_eq!(f.kind, Some(NotificationType::Error));
        assert!(!f.include_read);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = PageCursor { created_at: "2026-01-01T00:00:00.000Z".into(), id: "0123456789abcdef01234567".into() };
        assert_eq!(PageCursor::decode(&c.encode()), Some(c));
        for bad in ["", "_", "x_y", "2026_0123", "_0123456789abcdef01234567", "2026_0123456789abcdef0123456z"] {
            assert_eq!(PageCursor::decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Owner > Role::Admin && Role::Admin > Role::Member);
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"admin\"");
    }

    #[test]
    fn order_stats_count_states_and_sum_paid_revenue_per_currency() {
        let mut s = OrderStats::default();
        s.add("USD", PaymentStatus::Paid, 2, 1_000);
        s.add("EUR", PaymentStatus::Paid, 1, 5_000);
        s.add("USD", PaymentStatus::Pending, 3, 700);
        s.add("USD", PaymentStatus::Paid, 1, 4_500);
        s.add("USD", PaymentStatus::Refunded, 1, 100);
        assert_eq!((s.orders, s.paid, s.pending), (8, 4, 3));
        let totals: Vec<(&str, i64)> = s.revenue.iter().map(|t| (t.currency.as_str(), t.amount_minor)).collect();
        assert_eq!(totals, [("USD", 5_500), ("EUR", 5_000)]);
    }

    #[test]
    fn formats_minor_units() {
        assert_eq!(format_minor(9999), "99.99");
        assert_eq!(format_minor(5), "0.05");
        assert_eq!(format_minor(-150), "-1.50");
        assert_eq!(format_minor(0), "0.00");
    }
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// The one error shape of every route — REST, webhooks, server functions and
/// socket acks: `{"success": false, "error": "…", "code": "…", "details": […]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiFailure {
    pub success: bool,
    /// A message safe to show to the caller.
    pub error: String,
    /// A stable machine-readable code (`validation_failed`, `unauthorized`, …).
    pub code: String,
    /// The fields at fault, for validation errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldError>,
    /// The HTTP status it is answered with (not part of the body).
    #[serde(skip)]
    pub status: u16,
    /// Seconds to wait before trying again (`Retry-After`), for 429 and 503.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl ApiFailure {
    /// The code of a server function's arguments that did not decode (400).
    pub const INVALID_ARGUMENTS: &'static str = "invalid_arguments";

    pub fn new(status: u16, code: impl Into<String>, error: impl Into<String>) -> Self {
        Self { success: false, error: error.into(), code: code.into(), details: Vec::new(), status, retry_after: None }
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

impl std::error::Error for ApiFailure {}
