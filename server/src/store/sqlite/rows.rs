//! Rows and records: each table's column list, the function reading a row of
//! it into its record and the parameters writing a record as a row (in the
//! column list's order), plus the JSON and enum conversions they share.

use app::models::{
    ActivityEntry, ApiKeyInfo, Notification, NotificationType, Order, OrderStatus, PaymentStatus, Priority, Role,
    WebhookEvent, WebhookSettings,
};
use app::models::{
    ActivityId, ApiKeyId, InvitationId, NotificationId, OrderId, TenantId, Timestamp, UserId, WebhookEventId,
};
use rusqlite::{types::Value, Row};

use super::query::vals;
use crate::store::{
    ApiKey, Invitation, PreviousSecret, ProcessedWebhook, Session, StoreError, StoreResult, Tenant, User,
};

pub(super) fn json_text(v: &impl serde::Serialize) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Internal(e.to_string()))
}

pub(super) fn parse_json<T: serde::de::DeserializeOwned>(idx: usize, s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, e.into()))
}

pub(super) fn bad_enum(idx: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, format!("unknown {what}").into())
}

/// A column read into an id or an instant (the text both are stored as).
pub(super) trait FromCell: Sized {
    fn from_cell(r: &Row<'_>, idx: usize) -> rusqlite::Result<Self>;
}

macro_rules! id_cells {
    ($($id:ty),+) => {$(
        impl FromCell for $id {
            fn from_cell(r: &Row<'_>, idx: usize) -> rusqlite::Result<Self> {
                Ok(Self::from(r.get::<_, String>(idx)?))
            }
        }

        impl FromCell for Option<$id> {
            fn from_cell(r: &Row<'_>, idx: usize) -> rusqlite::Result<Self> {
                Ok(r.get::<_, Option<String>>(idx)?.map(<$id>::from))
            }
        }
    )+};
}
id_cells!(TenantId, UserId, NotificationId, OrderId, ApiKeyId, ActivityId, WebhookEventId, InvitationId);

/// The one place a stored instant's text is read.
fn parse_time(idx: usize, s: &str) -> rusqlite::Result<Timestamp> {
    Timestamp::parse(s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, e.into()))
}

impl FromCell for Timestamp {
    fn from_cell(r: &Row<'_>, idx: usize) -> rusqlite::Result<Self> {
        parse_time(idx, &r.get::<_, String>(idx)?)
    }
}

impl FromCell for Option<Timestamp> {
    fn from_cell(r: &Row<'_>, idx: usize) -> rusqlite::Result<Self> {
        r.get::<_, Option<String>>(idx)?.map(|s| parse_time(idx, &s)).transpose()
    }
}

/// Column `idx` of `r` as an id or an instant.
pub(super) fn cell<T: FromCell>(r: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    T::from_cell(r, idx)
}

pub(super) const TENANT_COLUMNS: &str =
    "id, name, slug, webhook_secret_sealed, created_at, webhook_settings, previous_secret_sealed, \
     previous_secret_valid_until";

pub(super) fn tenant_from_row(r: &Row<'_>) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: cell(r, 0)?,
        name: r.get(1)?,
        slug: r.get(2)?,
        webhook_secret_sealed: r.get(3)?,
        created_at: cell(r, 4)?,
        webhook_settings: match r.get::<_, Option<String>>(5)? {
            Some(json) => parse_json(5, &json)?,
            None => WebhookSettings::default(),
        },
        previous_secret: match (r.get::<_, Option<String>>(6)?, cell::<Option<Timestamp>>(r, 7)?) {
            (Some(sealed), Some(valid_until)) => Some(PreviousSecret { sealed, valid_until }),
            _ => None,
        },
    })
}

pub(super) fn tenant_values(t: &Tenant) -> StoreResult<Vec<Value>> {
    Ok(vals![
        &t.id,
        &t.name,
        &t.slug,
        &t.webhook_secret_sealed,
        &t.created_at,
        json_text(&t.webhook_settings)?,
        t.previous_secret.as_ref().map(|p| &p.sealed),
        t.previous_secret.as_ref().map(|p| &p.valid_until),
    ])
}

pub(super) const NOTIFICATION_COLUMNS: &str = "id, tenant_id, user_id, title, message, type, priority, action_url, \
     action_text, metadata, is_read, is_dismissed, read_at, delivered_at, created_at";

pub(super) fn notification_from_row(r: &Row<'_>) -> rusqlite::Result<Notification> {
    let kind: String = r.get(5)?;
    let priority: String = r.get(6)?;
    let metadata: String = r.get(9)?;
    Ok(Notification {
        id: cell(r, 0)?,
        tenant_id: cell(r, 1)?,
        user_id: cell(r, 2)?,
        title: r.get(3)?,
        message: r.get(4)?,
        kind: NotificationType::parse(&kind).ok_or_else(|| bad_enum(5, "notification type"))?,
        priority: Priority::parse(&priority).ok_or_else(|| bad_enum(6, "priority"))?,
        action_url: r.get(7)?,
        action_text: r.get(8)?,
        metadata: parse_json(9, &metadata)?,
        is_read: r.get(10)?,
        is_dismissed: r.get(11)?,
        read_at: cell(r, 12)?,
        delivered_at: cell(r, 13)?,
        created_at: cell(r, 14)?,
        snoozed_until: None,
    })
}

pub(super) fn notification_values(n: &Notification) -> StoreResult<Vec<Value>> {
    Ok(vals![
        &n.id,
        &n.tenant_id,
        &n.user_id,
        &n.title,
        &n.message,
        n.kind.as_str(),
        n.priority.as_str(),
        &n.action_url,
        &n.action_text,
        json_text(&n.metadata)?,
        n.is_read,
        n.is_dismissed,
        &n.read_at,
        &n.delivered_at,
        &n.created_at,
    ])
}

pub(super) const EVENT_COLUMNS: &str =
    "id, tenant_id, endpoint, verified, outcome, status_code, reason, latency_ms, body, \
     body_truncated, source_ip, received_at, response, topic";

pub(super) fn event_from_row(r: &Row<'_>) -> rusqlite::Result<WebhookEvent> {
    Ok(WebhookEvent {
        id: cell(r, 0)?,
        tenant_id: cell(r, 1)?,
        endpoint: r.get(2)?,
        verified: r.get(3)?,
        outcome: r.get(4)?,
        status_code: r.get(5)?,
        reason: r.get(6)?,
        latency_ms: r.get(7)?,
        body: r.get(8)?,
        body_truncated: r.get(9)?,
        source_ip: r.get(10)?,
        received_at: cell(r, 11)?,
        response: r.get::<_, Option<String>>(12)?.map(|json| parse_json(12, &json)).transpose()?,
        topic: r.get(13)?,
        withheld: false,
    })
}

pub(super) fn event_values(e: &WebhookEvent) -> StoreResult<Vec<Value>> {
    Ok(vals![
        &e.id,
        &e.tenant_id,
        &e.endpoint,
        e.verified,
        &e.outcome,
        e.status_code,
        &e.reason,
        e.latency_ms,
        &e.body,
        e.body_truncated,
        &e.source_ip,
        &e.received_at,
        e.response.as_ref().map(json_text).transpose()?,
        &e.topic,
    ])
}

pub(super) const PROCESSED_WEBHOOK_COLUMNS: &str =
    "tenant_id, webhook_id, endpoint, status_code, response, received_at";

pub(super) fn processed_webhook_from_row(r: &Row<'_>) -> rusqlite::Result<ProcessedWebhook> {
    let response: String = r.get(4)?;
    Ok(ProcessedWebhook {
        tenant_id: cell(r, 0)?,
        webhook_id: r.get(1)?,
        endpoint: r.get(2)?,
        status_code: r.get(3)?,
        response: parse_json(4, &response)?,
        received_at: cell(r, 5)?,
    })
}

pub(super) const ACTIVITY_COLUMNS: &str =
    "id, tenant_id, actor, action, entity, entity_id, details, source_ip, created_at";

pub(super) fn activity_from_row(r: &Row<'_>) -> rusqlite::Result<ActivityEntry> {
    let details: String = r.get(6)?;
    Ok(ActivityEntry {
        id: cell(r, 0)?,
        tenant_id: cell(r, 1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        entity: r.get(4)?,
        entity_id: r.get(5)?,
        details: parse_json(6, &details)?,
        source_ip: r.get(7)?,
        created_at: cell(r, 8)?,
    })
}

pub(super) fn activity_values(a: &ActivityEntry) -> StoreResult<Vec<Value>> {
    Ok(vals![
        &a.id,
        &a.tenant_id,
        &a.actor,
        &a.action,
        &a.entity,
        &a.entity_id,
        json_text(&a.details)?,
        &a.source_ip,
        &a.created_at
    ])
}

pub(super) const ORDER_COLUMNS: &str =
    "id, tenant_id, order_number, customer_name, customer_email, amount_minor, currency, \
     status, items, metadata, created_at, updated_at, payment_status, payment_id";

pub(super) fn order_from_row(r: &Row<'_>) -> rusqlite::Result<Order> {
    let status: String = r.get(7)?;
    let payment_status: String = r.get(12)?;
    let items: String = r.get(8)?;
    let metadata: String = r.get(9)?;
    Ok(Order {
        id: cell(r, 0)?,
        tenant_id: cell(r, 1)?,
        order_number: r.get(2)?,
        customer_name: r.get(3)?,
        customer_email: r.get(4)?,
        amount_minor: r.get(5)?,
        currency: r.get(6)?,
        status: OrderStatus::parse(&status).ok_or_else(|| bad_enum(7, "order status"))?,
        items: parse_json(8, &items)?,
        metadata: parse_json(9, &metadata)?,
        created_at: cell(r, 10)?,
        updated_at: cell(r, 11)?,
        payment_status: PaymentStatus::parse(&payment_status).ok_or_else(|| bad_enum(12, "payment status"))?,
        payment_id: r.get(13)?,
    })
}

pub(super) fn order_values(o: &Order) -> StoreResult<Vec<Value>> {
    Ok(vals![
        &o.id,
        &o.tenant_id,
        &o.order_number,
        &o.customer_name,
        &o.customer_email,
        o.amount_minor,
        &o.currency,
        o.status.as_str(),
        json_text(&o.items)?,
        json_text(&o.metadata)?,
        &o.created_at,
        &o.updated_at,
        o.payment_status.as_str(),
        &o.payment_id,
    ])
}

pub(super) const USER_COLUMNS: &str = "id, email, name, password_hash, created_at, last_sign_in_at";

pub(super) fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: cell(r, 0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        password_hash: r.get(3)?,
        created_at: cell(r, 4)?,
        last_sign_in_at: cell(r, 5)?,
    })
}

pub(super) const INVITATION_COLUMNS: &str = "id, tenant_id, email, role, token_hash, invited_by, created_at, \
                                             expires_at, accepted_at, accepted_by, revoked_at";

pub(super) fn invitation_from_row(r: &Row<'_>) -> rusqlite::Result<Invitation> {
    Ok(Invitation {
        id: cell(r, 0)?,
        tenant_id: cell(r, 1)?,
        email: r.get(2)?,
        role: role_at(r, 3)?,
        token_hash: r.get(4)?,
        invited_by: r.get(5)?,
        created_at: cell(r, 6)?,
        expires_at: cell(r, 7)?,
        accepted_at: cell(r, 8)?,
        accepted_by: cell(r, 9)?,
        revoked_at: cell(r, 10)?,
    })
}

pub(super) fn invitation_values(i: &Invitation) -> Vec<Value> {
    vals![
        &i.id,
        &i.tenant_id,
        &i.email,
        i.role.as_str(),
        &i.token_hash,
        &i.invited_by,
        &i.created_at,
        &i.expires_at,
        &i.accepted_at,
        &i.accepted_by,
        &i.revoked_at
    ]
}

pub(super) fn role_at(r: &Row<'_>, idx: usize) -> rusqlite::Result<Role> {
    let role: String = r.get(idx)?;
    Role::parse(&role).ok_or_else(|| bad_enum(idx, "role"))
}

pub(super) const SESSION_COLUMNS: &str =
    "token_hash, user_id, created_at, last_seen_at, idle_expires_at, expires_at, revoked_at, ip, user_agent";

pub(super) fn session_from_row(r: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        token_hash: r.get(0)?,
        user_id: cell(r, 1)?,
        created_at: cell(r, 2)?,
        last_seen_at: cell(r, 3)?,
        idle_expires_at: cell(r, 4)?,
        expires_at: cell(r, 5)?,
        revoked_at: cell(r, 6)?,
        ip: r.get(7)?,
        user_agent: r.get(8)?,
    })
}

pub(super) fn session_values(s: &Session) -> Vec<Value> {
    vals![
        &s.token_hash,
        &s.user_id,
        &s.created_at,
        &s.last_seen_at,
        &s.idle_expires_at,
        &s.expires_at,
        &s.revoked_at,
        &s.ip,
        &s.user_agent
    ]
}

pub(super) const API_KEY_COLUMNS: &str =
    "id, tenant_id, name, prefix, role, created_by, created_at, last_used_at, revoked_at, key_hash";

pub(super) fn api_key_info_from_row(r: &Row<'_>) -> rusqlite::Result<ApiKeyInfo> {
    Ok(ApiKeyInfo {
        id: cell(r, 0)?,
        tenant_id: cell(r, 1)?,
        name: r.get(2)?,
        prefix: r.get(3)?,
        role: role_at(r, 4)?,
        created_by: r.get(5)?,
        created_at: cell(r, 6)?,
        last_used_at: cell(r, 7)?,
        revoked_at: cell(r, 8)?,
    })
}

pub(super) fn api_key_from_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey { info: api_key_info_from_row(r)?, key_hash: r.get(9)? })
}

pub(super) fn api_key_values(k: &ApiKey) -> Vec<Value> {
    let i = &k.info;
    vals![
        &i.id,
        &i.tenant_id,
        &i.name,
        &i.prefix,
        i.role.as_str(),
        &i.created_by,
        &i.created_at,
        &i.last_used_at,
        &i.revoked_at,
        &k.key_hash
    ]
}
