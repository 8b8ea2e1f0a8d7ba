//! Notifications: their type and priority, the stored notification, the list
//! filter and query of `GET /api/notifications`, pages and their cursors, and
//! the change of one notification (`PATCH /api/notifications/:id`).
//!
//! `isRead`, `isDismissed`, `readAt` and `snoozedUntil` are the state of one
//! reader (the caller): a signed-in user, or a program acting for the tenant
//! or for the `userId` it names. Each reader keeps their own.

use serde::{Deserialize, Serialize};

use super::{NotificationId, TenantId, Timestamp, UserId};

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

/// How urgent a notification is (ordered: low < medium < high < urgent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
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
    pub id: NotificationId,
    pub tenant_id: TenantId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
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
    pub read_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// The reader snoozed it until then: it is out of their bell and count until it comes back unread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<Timestamp>,
}

impl Notification {
    /// A new tenant-wide notification as every producer starts one: unread,
    /// not dismissed, delivered to nobody, snoozed by nobody, with no action or
    /// metadata; the producer sets its content with struct update syntax.
    pub fn fresh(id: NotificationId, tenant_id: TenantId, created_at: Timestamp) -> Self {
        Notification {
            id,
            tenant_id,
            user_id: None,
            title: String::new(),
            message: String::new(),
            kind: NotificationType::Info,
            priority: Priority::Medium,
            action_url: None,
            action_text: None,
            metadata: serde_json::Value::Null,
            is_read: false,
            is_dismissed: false,
            read_at: None,
            delivered_at: None,
            created_at,
            snoozed_until: None,
        }
    }
}

/// Which of a reader's notifications a list shows (the notifications page's tabs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InboxView {
    /// The bell and the Unread/All tabs: neither snoozed nor (unless asked) dismissed.
    #[default]
    Inbox,
    /// Snoozed ones (newest first, like the others).
    Snoozed,
    /// Dismissed (and not snoozed).
    Dismissed,
}

impl InboxView {
    pub const ALL: [InboxView; 3] = [Self::Inbox, Self::Snoozed, Self::Dismissed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbox => "inbox",
            Self::Snoozed => "snoozed",
            Self::Dismissed => "dismissed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// Which notifications a list shows: the seed's `GET /api/notifications` query
/// (`userId`, `includeRead`, `includeDismissed`) plus type and priority filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NotificationFilter {
    /// The viewer: tenant-wide notifications plus this user's own. `None`: tenant-wide only.
    pub user_id: Option<UserId>,
    pub include_read: bool,
    pub include_dismissed: bool,
    #[serde(rename = "type")]
    pub kind: Option<NotificationType>,
    pub priority: Option<Priority>,
    /// Inbox (the default), snoozed or dismissed ones.
    pub view: InboxView,
}

impl Default for NotificationFilter {
    fn default() -> Self {
        Self {
            user_id: None,
            include_read: true,
            include_dismissed: false,
            kind: None,
            priority: None,
            view: InboxView::Inbox,
        }
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
    /// `inbox` (default), `snoozed` or `dismissed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
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

/// A position in a newest-first list: the last item of the previous page
/// (a notification or a received webhook: `id` is that item's id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageCursor {
    pub created_at: Timestamp,
    pub id: String,
}

impl PageCursor {
    /// The cursor that continues after `n`.
    pub fn after(n: &Notification) -> Self {
        Self { created_at: n.created_at, id: n.id.to_string() }
    }

    /// The encoded cursor of the page after `page`, when it was full (`limit` items).
    pub fn next_page<T>(page: &[T], limit: u32, at: impl Fn(&T) -> PageCursor) -> Option<String> {
        (page.len() == limit as usize).then(|| page.last().map(|last| at(last).encode())).flatten()
    }

    /// Opaque text form for URLs: `<createdAt>_<id>`.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.created_at, self.id)
    }

    /// Parses [`PageCursor::encode`]'s form (exactly: the instant as hookbell writes it).
    pub fn decode(s: &str) -> Option<Self> {
        let (created_at, id) = s.rsplit_once('_')?;
        let created_at = Timestamp::parse_exact(created_at).ok()?;
        super::is_id(id).then(|| Self { created_at, id: id.to_owned() })
    }
}

/// A change to one notification by one reader (`PATCH /api/notifications/:id`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPatch {
    pub is_read: Option<bool>,
    pub is_dismissed: Option<bool>,
    /// `Some(Some(t))` snoozes until `t`; `Some(None)` wakes it now (unread).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<Option<Timestamp>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::OrderStatus;

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
            created_at: Timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            snoozed_until: None,
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
        let at = Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap();
        let c = PageCursor { created_at: at, id: "0123456789abcdef01234567".into() };
        assert_eq!(PageCursor::decode(&c.encode()), Some(c));
        for bad in [
            "",
            "_",
            "x_y",
            "2026_0123",
            "_0123456789abcdef01234567",
            "2026_0123456789abcdef01234567",
            "2026-01-01T00:00:00Z_0123456789abcdef01234567",
            "2026-01-01T00:00:00.000Z_0123456789abcdef0123456z",
        ] {
            assert_eq!(PageCursor::decode(bad), None, "{bad}");
        }
    }
}
