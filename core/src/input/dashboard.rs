//! What dashboards and programs send: settings changes, secret rotation, API
//! keys, members, notification changes, list queries and sign-in.

use serde_json::{Map, Value};

use super::{
    fields::{parse_role, unknown_field},
    FromJson,
};
use crate::models::{
    Endpoint, FieldError, InboxView, NotificationFilter, NotificationPatch, NotificationQuery, NotificationType,
    PageCursor, Priority, Provider, Role, Timestamp, WebhookEventFilter, WebhookSettings, WebhookSettingsPatch,
};

/// The retry attempts a tenant may choose.
pub const RETRY_ATTEMPTS: std::ops::RangeInclusive<u64> = 0..=10;
/// The delivery timeouts a tenant may choose, in milliseconds.
pub const TIMEOUT_MS: std::ops::RangeInclusive<u64> = 1_000..=120_000;
/// The longest grace period for a rotated-out secret: 7 days.
pub const MAX_GRACE_SECONDS: u64 = 7 * 24 * 3600;
/// The most notifications one page holds.
pub const MAX_PAGE: u32 = 200;
/// A page's size when the caller names none (the seed's default).
pub const DEFAULT_PAGE: u32 = 50;
/// The most webhook events one page holds.
pub const MAX_EVENTS_PAGE: u32 = 200;

fn range_error(field: &str, range: &std::ops::RangeInclusive<u64>) -> FieldError {
    FieldError::new(field, format!("must be a whole number from {} to {}", range.start(), range.end()))
}

/// A partial change of a tenant's webhook settings: only what is given changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettingsPatch {
    pub webhook_enabled: Option<bool>,
    pub webhook_retry_attempts: Option<u32>,
    pub webhook_timeout_ms: Option<u32>,
    pub accept_seed_signatures: Option<bool>,
    pub orders: Option<bool>,
    pub notifications: Option<bool>,
    pub payments: Option<bool>,
}

impl SettingsPatch {
    /// `s` with this patch applied.
    pub fn apply(&self, mut s: WebhookSettings) -> WebhookSettings {
        let set = |slot: &mut bool, v: Option<bool>| *slot = v.unwrap_or(*slot);
        set(&mut s.webhook_enabled, self.webhook_enabled);
        set(&mut s.accept_seed_signatures, self.accept_seed_signatures);
        set(&mut s.webhook_endpoints.orders, self.orders);
        set(&mut s.webhook_endpoints.notifications, self.notifications);
        set(&mut s.webhook_endpoints.payments, self.payments);
        s.webhook_retry_attempts = self.webhook_retry_attempts.unwrap_or(s.webhook_retry_attempts);
        s.webhook_timeout_ms = self.webhook_timeout_ms.unwrap_or(s.webhook_timeout_ms);
        s
    }
}

impl TryFrom<&WebhookSettingsPatch> for SettingsPatch {
    type Error = Vec<FieldError>;

    /// The settings page's patch, with the same ranges as the REST body.
    fn try_from(p: &WebhookSettingsPatch) -> Result<Self, Self::Error> {
        let mut errors = Vec::new();
        let mut number = |field: &str, v: Option<u32>, range: &std::ops::RangeInclusive<u64>| match v {
            Some(n) if !range.contains(&u64::from(n)) => {
                errors.push(range_error(field, range));
                None
            }
            other => other,
        };
        let patch = SettingsPatch {
            webhook_enabled: p.webhook_enabled,
            webhook_retry_attempts: number("webhookRetryAttempts", p.webhook_retry_attempts, &RETRY_ATTEMPTS),
            webhook_timeout_ms: number("webhookTimeoutMs", p.webhook_timeout_ms, &TIMEOUT_MS),
            accept_seed_signatures: p.accept_seed_signatures,
            orders: p.webhook_endpoints.map(|e| e.orders),
            notifications: p.webhook_endpoints.map(|e| e.notifications),
            payments: p.webhook_endpoints.map(|e| e.payments),
        };
        if errors.is_empty() {
            Ok(patch)
        } else {
            Err(errors)
        }
    }
}

impl FromJson for SettingsPatch {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        fn number(
            field: &str,
            v: &Value,
            range: &std::ops::RangeInclusive<u64>,
            errors: &mut Vec<FieldError>,
        ) -> Option<u32> {
            let n = v.as_u64().filter(|n| range.contains(n)).map(|n| n as u32);
            if n.is_none() {
                errors.push(range_error(field, range));
            }
            n
        }
        fn switch(field: &str, v: &Value, errors: &mut Vec<FieldError>) -> Option<bool> {
            let b = v.as_bool();
            if b.is_none() {
                errors.push(FieldError::new(field, "must be true or false"));
            }
            b
        }
        let mut p = SettingsPatch::default();
        let mut errors = Vec::new();
        for (key, value) in map {
            match key.as_str() {
                "webhookEnabled" => p.webhook_enabled = switch(key, value, &mut errors).or(p.webhook_enabled),
                "webhookRetryAttempts" => {
                    p.webhook_retry_attempts =
                        number(key, value, &RETRY_ATTEMPTS, &mut errors).or(p.webhook_retry_attempts)
                }
                "webhookTimeoutMs" => {
                    p.webhook_timeout_ms = number(key, value, &TIMEOUT_MS, &mut errors).or(p.webhook_timeout_ms)
                }
                "acceptSeedSignatures" => {
                    p.accept_seed_signatures = switch(key, value, &mut errors).or(p.accept_seed_signatures)
                }
                "webhookEndpoints" => match value.as_object() {
                    Some(endpoints) => {
                        for (name, on) in endpoints {
                            let field = format!("webhookEndpoints.{name}");
                            let slot = match name.as_str() {
                                "orders" => &mut p.orders,
                                "notifications" => &mut p.notifications,
                                "payments" => &mut p.payments,
                                _ => {
                                    errors.push(FieldError::new(field, "is not a known endpoint"));
                                    continue;
                                }
                            };
                            *slot = switch(&field, on, &mut errors).or(*slot);
                        }
                    }
                    None => errors.push(FieldError::new(key.as_str(), "must be an object of endpoint switches")),
                },
                _ => errors.push(FieldError::new(key.as_str(), "is not a known setting")),
            }
        }
        if errors.is_empty() {
            Ok(p)
        } else {
            Err(errors)
        }
    }
}

/// The settings after a partial update given as JSON, or every bad field.
pub fn apply_patch(s: WebhookSettings, patch: &Map<String, Value>) -> Result<WebhookSettings, Vec<FieldError>> {
    SettingsPatch::from_json(patch).map(|p| p.apply(s))
}

fn grace_error() -> Vec<FieldError> {
    vec![FieldError::new("graceSeconds", format!("must be a whole number of seconds from 0 to {MAX_GRACE_SECONDS}"))]
}

/// A new webhook secret; with `grace_seconds` > 0 the old one stays valid that long.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RotateSecret {
    grace_seconds: u64,
}

impl RotateSecret {
    /// At most [`MAX_GRACE_SECONDS`].
    pub fn new(grace_seconds: u64) -> Result<Self, Vec<FieldError>> {
        if grace_seconds > MAX_GRACE_SECONDS {
            return Err(grace_error());
        }
        Ok(Self { grace_seconds })
    }

    pub fn grace_seconds(&self) -> u64 {
        self.grace_seconds
    }
}

impl FromJson for RotateSecret {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let grace = match map.get("graceSeconds") {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) => n.as_u64().ok_or_else(grace_error)?,
            Some(_) => return Err(grace_error()),
        };
        let rotate = Self::new(grace)?;
        unknown_field(map, &["graceSeconds"], "is not a known field")?;
        Ok(rotate)
    }
}

/// A new API key: its name and role (default member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    pub name: String,
    pub role: Role,
}

impl NewApiKey {
    /// From the form's fields: an empty role is the default.
    pub fn new(name: &str, role: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let role = match role.filter(|r| !r.is_empty()) {
            None => Role::Member,
            Some(r) => parse_role(r)?,
        };
        Ok(Self { name: name.to_owned(), role })
    }
}

impl FromJson for NewApiKey {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        unknown_field(map, &["name", "role"], "is not a known field")?;
        let name = match map.get("name") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(vec![FieldError::new("name", "is required (1 to 100 characters)")]),
        };
        let role = match map.get("role") {
            None | Some(Value::Null) => Role::Member,
            Some(Value::String(r)) => parse_role(r)?,
            Some(_) => return Err(vec![FieldError::new("role", "must be a string")]),
        };
        Ok(Self { name, role })
    }
}

/// A change of one notification by its reader: read, dismissed, snoozed (or
/// woken), any of them. How far ahead a snooze may be is the service's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationUpdate(NotificationPatch, Option<String>);

impl NotificationUpdate {
    /// At least one of the three.
    pub fn new(
        is_read: Option<bool>,
        is_dismissed: Option<bool>,
        snoozed_until: Option<Option<Timestamp>>,
    ) -> Result<Self, Vec<FieldError>> {
        if is_read.is_none() && is_dismissed.is_none() && snoozed_until.is_none() {
            return Err(vec![FieldError::new("isRead", "isRead, isDismissed or snoozedUntil is required")]);
        }
        Ok(Self(NotificationPatch { is_read, is_dismissed, snoozed_until }, None))
    }

    pub fn patch(&self) -> &NotificationPatch {
        &self.0
    }

    /// The `userId` a program changes it for (as in the list and mark-all-read).
    pub fn user_id(&self) -> Option<&str> {
        self.1.as_deref()
    }
}

impl FromJson for NotificationUpdate {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let mut patch = NotificationPatch::default();
        let mut errors = Vec::new();
        let mut user_id = None;
        for (key, value) in map {
            match (key.as_str(), value) {
                ("userId", Value::String(s)) => user_id = Some(s.clone()),
                ("userId", Value::Null) => {}
                ("userId", _) => errors.push(FieldError::new("userId", "must be a string")),
                ("isRead", Value::Bool(b)) => patch.is_read = Some(*b),
                ("isDismissed", Value::Bool(b)) => patch.is_dismissed = Some(*b),
                ("isRead" | "isDismissed", _) => errors.push(FieldError::new(key.as_str(), "must be true or false")),
                ("snoozedUntil", Value::Null) => patch.snoozed_until = Some(None),
                ("snoozedUntil", Value::String(s)) if s.len() <= 64 => match Timestamp::parse(s) {
                    Ok(t) => patch.snoozed_until = Some(Some(t)),
                    Err(_) => errors.push(FieldError::new("snoozedUntil", "must be an RFC 3339 time or null")),
                },
                ("snoozedUntil", _) => errors.push(FieldError::new("snoozedUntil", "must be an RFC 3339 time or null")),
                _ => errors.push(FieldError::new(key.as_str(), "is not a known field")),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Self::new(patch.is_read, patch.is_dismissed, patch.snoozed_until).map(|u| Self(u.0, user_id))
    }
}

/// Mark everything read that the caller sees (a program may name the user it acts for).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MarkAllRead {
    pub user_id: Option<String>,
}

impl FromJson for MarkAllRead {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        unknown_field(map, &["userId"], "is not a known field")?;
        match map.get("userId") {
            None | Some(Value::Null) => Ok(Self { user_id: None }),
            Some(Value::String(s)) => Ok(Self { user_id: Some(s.clone()) }),
            Some(_) => Err(vec![FieldError::new("userId", "must be a string")]),
        }
    }
}

/// Sign-in with an email and password (their rules are checked by the login itself,
/// which answers every failure alike).
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    pub email: String,
    pub password: String,
}

// Passwords never reach a log through `{:?}`.
impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login").field("email", &self.email).field("password", &"<redacted>").finish()
    }
}

impl FromJson for Login {
    fn from_json(map: &Map<String, Value>) -> Result<Self, Vec<FieldError>> {
        let field = |name: &str| map.get(name).and_then(Value::as_str).unwrap_or("").to_owned();
        Ok(Self { email: field("email"), password: field("password") })
    }
}

/// A page of a newest-first list: its size and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub after: Option<PageCursor>,
}

/// `limit` (default `default`, 1 to `max`) and the cursor `after` of a list
/// query, each bad one named in `errors`.
fn page(
    limit: Option<u32>,
    after: Option<&str>,
    (default, max): (u32, u32),
    cursor_message: &str,
) -> (Page, Option<FieldError>, Option<FieldError>) {
    let limit = limit.unwrap_or(default);
    let limit_error =
        (!(1..=max).contains(&limit)).then(|| FieldError::new("limit", format!("must be from 1 to {max}")));
    let (after, after_error) = match after {
        None => (None, None),
        Some(text) => match PageCursor::decode(text) {
            Some(c) => (Some(c), None),
            None => (None, Some(FieldError::new("after", cursor_message))),
        },
    };
    (Page { limit, after }, limit_error, after_error)
}

/// `GET /api/notifications`, checked: newest first, `limit` 1–200 (default 50).
#[derive(Debug, Clone, PartialEq)]
pub struct ListNotifications {
    pub page: Page,
    /// The `userId` a program asks to view as.
    pub user_id: Option<String>,
    /// The filter, its viewer still unset.
    pub filter: NotificationFilter,
}

impl TryFrom<&NotificationQuery> for ListNotifications {
    type Error = Vec<FieldError>;

    fn try_from(q: &NotificationQuery) -> Result<Self, Self::Error> {
        let mut errors = Vec::new();
        let (page, limit_error, after_error) =
            page(q.limit, q.after.as_deref(), (DEFAULT_PAGE, MAX_PAGE), "is not a cursor");
        errors.extend(limit_error);
        let kind = q.kind.as_deref().and_then(|k| {
            let kind = NotificationType::parse(k);
            if kind.is_none() {
                errors.push(FieldError::new("type", "must be one of info, success, warning, error"));
            }
            kind
        });
        let priority = q.priority.as_deref().and_then(|p| {
            let priority = Priority::parse(p);
            if priority.is_none() {
                errors.push(FieldError::new("priority", "must be one of low, medium, high, urgent"));
            }
            priority
        });
        errors.extend(after_error);
        let view = match q.view.as_deref() {
            None => InboxView::Inbox,
            Some(v) => InboxView::parse(v).unwrap_or_else(|| {
                errors.push(FieldError::new("view", "must be one of inbox, snoozed, dismissed"));
                InboxView::Inbox
            }),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let filter = NotificationFilter {
            user_id: None,
            include_read: q.include_read.unwrap_or(true),
            include_dismissed: q.include_dismissed.unwrap_or(false),
            kind,
            priority,
            view,
        };
        Ok(Self { page, user_id: q.user_id.clone(), filter })
    }
}

/// `GET /api/webhooks/events`, checked: the log's filters and a page of up to 200 (default 50).
#[derive(Debug, Clone, PartialEq)]
pub struct ListEvents {
    pub filter: WebhookEventFilter,
    pub page: Page,
}

impl ListEvents {
    /// `endpoint` and `outcome` must name one of theirs; `after` must be a cursor the log returned.
    pub fn new(filter: WebhookEventFilter, after: Option<&str>, limit: Option<u32>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if filter.endpoint.as_deref().is_some_and(|e| Endpoint::parse(e).is_none() && Provider::parse(e).is_none()) {
            errors.push(FieldError::new("endpoint", "must be one of orders, notifications, payments, shopify, stripe"));
        }
        if filter.outcome.as_deref().is_some_and(|o| !["accepted", "duplicate", "rejected"].contains(&o)) {
            errors.push(FieldError::new("outcome", "must be one of accepted, duplicate, rejected"));
        }
        let (page, limit_error, after_error) =
            page(limit, after, (DEFAULT_PAGE, MAX_EVENTS_PAGE), "is not a cursor this API returned");
        errors.extend(after_error);
        errors.extend(limit_error);
        if errors.is_empty() {
            Ok(Self { filter, page })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn patch(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn patches_change_only_what_they_name() {
        let s =
            apply_patch(WebhookSettings::default(), &patch(json!({"webhookEndpoints": {"payments": false}}))).unwrap();
        assert!(!s.webhook_endpoints.payments && s.webhook_endpoints.orders && s.webhook_enabled);
        let s = apply_patch(s, &patch(json!({"webhookRetryAttempts": 10, "webhookTimeoutMs": 1000}))).unwrap();
        assert_eq!((s.webhook_retry_attempts, s.webhook_timeout_ms), (10, 1000));
        assert!(s.accept_seed_signatures, "on by default");
        let s = apply_patch(s, &patch(json!({"acceptSeedSignatures": false}))).unwrap();
        assert!(!s.accept_seed_signatures);
        assert!(apply_patch(s, &patch(json!({"acceptSeedSignatures": "no"}))).is_err());
    }

    #[test]
    fn ranges_and_names_are_checked() {
        let bad = json!({
            "webhookRetryAttempts": 11, "webhookTimeoutMs": 999, "webhookEnabled": "yes",
            "webhookEndpoints": {"refunds": true, "orders": 1}, "colour": "red"
        });
        let errors = apply_patch(WebhookSettings::default(), &patch(bad)).unwrap_err();
        let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "colour",
                "webhookEnabled",
                "webhookEndpoints.orders",
                "webhookEndpoints.refunds",
                "webhookRetryAttempts",
                "webhookTimeoutMs"
            ]
        );
        assert!(apply_patch(WebhookSettings::default(), &patch(json!({"webhookTimeoutMs": 120001}))).is_err());
        assert!(apply_patch(WebhookSettings::default(), &patch(json!({"webhookRetryAttempts": -1}))).is_err());
    }

    #[test]
    fn the_settings_pages_patch_has_the_same_ranges() {
        let p = WebhookSettingsPatch { webhook_retry_attempts: Some(11), ..Default::default() };
        assert_eq!(SettingsPatch::try_from(&p).unwrap_err()[0].field, "webhookRetryAttempts");
        let p = WebhookSettingsPatch { webhook_timeout_ms: Some(5000), ..Default::default() };
        assert_eq!(SettingsPatch::try_from(&p).unwrap().apply(WebhookSettings::default()).webhook_timeout_ms, 5000);
    }

    #[test]
    fn passwords_stay_out_of_debug_output() {
        let login = Login { email: "a@b.c".into(), password: "hunter22hunter".into() };
        let text = format!("{login:?}");
        assert!(!text.contains("hunter22") && text.contains("a@b.c"), "{text}");
    }

    #[test]
    fn typed_inputs_name_their_bad_fields() {
        assert_eq!(RotateSecret::from_json(&patch(json!({"graceSeconds": -1}))).unwrap_err()[0].field, "graceSeconds");
        assert_eq!(RotateSecret::from_json(&patch(json!({"x": 1}))).unwrap_err()[0].field, "x");
        assert_eq!(NewApiKey::from_json(&patch(json!({"name": 1}))).unwrap_err()[0].field, "name");
        assert_eq!(NotificationUpdate::from_json(&patch(json!({}))).unwrap_err()[0].field, "isRead");
        assert_eq!(MarkAllRead::from_json(&patch(json!({"userId": 5}))).unwrap_err()[0].field, "userId");
        assert_eq!(MarkAllRead::from_json(&patch(json!({"userId": null}))).unwrap(), MarkAllRead::default());
        for bad in
            [json!({"snoozedUntil": 5}), json!({"snoozedUntil": "tomorrow"}), json!({"snoozedUntil": "x".repeat(100)})]
        {
            assert_eq!(NotificationUpdate::from_json(&patch(bad)).unwrap_err()[0].field, "snoozedUntil");
        }
        let wake = NotificationUpdate::from_json(&patch(json!({"snoozedUntil": null}))).unwrap();
        assert_eq!(wake.patch().snoozed_until, Some(None));
        let until =
            NotificationUpdate::from_json(&patch(json!({"snoozedUntil": "2026-01-01T09:00:00+01:00"}))).unwrap();
        assert_eq!(until.patch().snoozed_until, Some(Some(Timestamp::parse("2026-01-01T08:00:00Z").unwrap())));
        let q = NotificationQuery { view: Some("later".into()), ..Default::default() };
        assert_eq!(ListNotifications::try_from(&q).unwrap_err()[0].field, "view");
        let q = NotificationQuery { limit: Some(0), after: Some("nope".into()), ..Default::default() };
        let fields: Vec<String> = ListNotifications::try_from(&q).unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["limit", "after"]);
    }
}
