//! Documents and records: how each record is stored as a BSON document, and
//! read back, with the field conversions they share (hex ids as ObjectIds,
//! RFC 3339 timestamps as BSON dates, JSON as BSON).
//!
//! Tenants, users, memberships, sessions and API keys are serde structs whose
//! fields, in order, are the stored document's (`bson::to_document` /
//! `from_document`). Orders, notifications, audit entries and webhook events
//! keep hand mappings: their JSON fields (`metadata`, `details`, `response`)
//! are converted as extended JSON, and their readers tolerate fields that
//! older documents lack.

use app::models::{
    ActivityEntry, ApiKeyInfo, Notification, NotificationType, Order, OrderItem, OrderStatus, PaymentStatus, Priority,
    Role, WebhookEvent, WebhookSettings,
};
use app::models::{Timestamp, UserId};
use mongodb::bson::{doc, oid::ObjectId, Bson, DateTime, Document};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::store::{ApiKey, Membership, PreviousSecret, Session, StoreError, StoreResult, Tenant, User};

pub(super) fn corrupt(what: &str) -> StoreError {
    StoreError::Internal(format!("malformed document: {what}"))
}

/// An integer however the server chose to encode a sum (32 or 64 bits).
pub(super) fn whole_number(b: Option<&Bson>) -> Option<i64> {
    match b? {
        Bson::Int32(n) => Some(i64::from(*n)),
        Bson::Int64(n) => Some(*n),
        _ => None,
    }
}

pub(super) fn oid(id: &str) -> StoreResult<ObjectId> {
    ObjectId::parse_str(id).map_err(|_| corrupt("id is not an ObjectId"))
}

/// An instant as a BSON date (both are milliseconds since the epoch).
pub(super) fn to_date(t: &Timestamp) -> DateTime {
    DateTime::from_millis(t.unix_millis())
}

pub(super) fn from_date(d: DateTime) -> Timestamp {
    Timestamp::from_unix_millis(d.timestamp_millis())
}

pub(super) fn opt_str<T: AsRef<str>>(v: &Option<T>) -> Bson {
    v.as_ref().map(|s| Bson::String(s.as_ref().to_owned())).unwrap_or(Bson::Null)
}

pub(super) fn get_opt_str(d: &Document, key: &str) -> Option<String> {
    d.get_str(key).ok().map(str::to_owned)
}

pub(super) fn get_opt_date(d: &Document, key: &str) -> Option<Timestamp> {
    d.get_datetime(key).ok().map(|t| from_date(*t))
}

pub(super) fn json_to_bson(v: &serde_json::Value) -> StoreResult<Bson> {
    Bson::try_from(v.clone()).map_err(|e| StoreError::Internal(e.to_string()))
}

pub(super) fn bson_to_json(b: Option<&Bson>) -> serde_json::Value {
    b.cloned().map(Bson::into_relaxed_extjson).unwrap_or(serde_json::Value::Null)
}

pub(super) fn opt_date(v: &Option<Timestamp>) -> Bson {
    v.as_ref().map(to_date).map(Bson::DateTime).unwrap_or(Bson::Null)
}

pub(super) fn order_doc(o: &Order) -> StoreResult<Document> {
    let items: Vec<Bson> = o
        .items
        .iter()
        .map(|i| {
            Bson::Document(doc! {
                "productId": opt_str(&i.product_id),
                "productName": opt_str(&i.product_name),
                "quantity": i.quantity as i64,
                "priceMinor": i.price_minor,
            })
        })
        .collect();
    Ok(doc! {
        "_id": oid(&o.id)?,
        "tenantId": oid(&o.tenant_id)?,
        "orderNumber": &o.order_number,
        "customerName": opt_str(&o.customer_name),
        "customerEmail": opt_str(&o.customer_email),
        "amountMinor": o.amount_minor,
        "currency": &o.currency,
        "status": o.status.as_str(),
        "paymentStatus": o.payment_status.as_str(),
        "paymentId": opt_str(&o.payment_id),
        "items": items,
        "metadata": json_to_bson(&o.metadata)?,
        "createdAt": to_date(&o.created_at),
        "updatedAt": to_date(&o.updated_at),
    })
}

pub(super) fn order_from(d: &Document) -> StoreResult<Order> {
    let items = d
        .get_array("items")
        .map_err(|_| corrupt("order items"))?
        .iter()
        .map(|b| {
            let i = b.as_document().ok_or_else(|| corrupt("order item"))?;
            Ok(OrderItem {
                product_id: get_opt_str(i, "productId"),
                product_name: get_opt_str(i, "productName"),
                quantity: i.get_i64("quantity").map_err(|_| corrupt("item quantity"))? as u32,
                price_minor: i.get_i64("priceMinor").map_err(|_| corrupt("item price"))?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Order {
        id: d.get_object_id("_id").map_err(|_| corrupt("order _id"))?.to_hex().into(),
        tenant_id: d.get_object_id("tenantId").map_err(|_| corrupt("order tenantId"))?.to_hex().into(),
        order_number: d.get_str("orderNumber").map_err(|_| corrupt("orderNumber"))?.to_owned(),
        customer_name: get_opt_str(d, "customerName"),
        customer_email: get_opt_str(d, "customerEmail"),
        amount_minor: d.get_i64("amountMinor").map_err(|_| corrupt("amountMinor"))?,
        currency: d.get_str("currency").map_err(|_| corrupt("currency"))?.to_owned(),
        status: OrderStatus::parse(d.get_str("status").unwrap_or_default()).ok_or_else(|| corrupt("status"))?,
        payment_status: PaymentStatus::parse(d.get_str("paymentStatus").unwrap_or("pending"))
            .ok_or_else(|| corrupt("paymentStatus"))?,
        payment_id: get_opt_str(d, "paymentId"),
        items,
        metadata: bson_to_json(d.get("metadata")),
        created_at: get_opt_date(d, "createdAt").ok_or_else(|| corrupt("order createdAt"))?,
        updated_at: get_opt_date(d, "updatedAt").ok_or_else(|| corrupt("order updatedAt"))?,
    })
}

pub(super) fn notification_doc(n: &Notification, source_key: &str) -> StoreResult<Document> {
    Ok(doc! {
        "_id": oid(&n.id)?,
        "tenantId": oid(&n.tenant_id)?,
        "userId": opt_str(&n.user_id),
        "title": &n.title,
        "message": &n.message,
        "type": n.kind.as_str(),
        "priority": n.priority.as_str(),
        "actionUrl": opt_str(&n.action_url),
        "actionText": opt_str(&n.action_text),
        "metadata": json_to_bson(&n.metadata)?,
        "isRead": n.is_read,
        "isDismissed": n.is_dismissed,
        "readAt": opt_date(&n.read_at),
        "deliveredAt": opt_date(&n.delivered_at),
        "createdAt": to_date(&n.created_at),
        "sourceKey": source_key,
    })
}

pub(super) fn notification_from(d: &Document) -> StoreResult<Notification> {
    Ok(Notification {
        id: d.get_object_id("_id").map_err(|_| corrupt("notification _id"))?.to_hex().into(),
        tenant_id: d.get_object_id("tenantId").map_err(|_| corrupt("notification tenantId"))?.to_hex().into(),
        user_id: get_opt_str(d, "userId").map(UserId::from),
        title: d.get_str("title").map_err(|_| corrupt("title"))?.to_owned(),
        message: d.get_str("message").map_err(|_| corrupt("message"))?.to_owned(),
        kind: NotificationType::parse(d.get_str("type").unwrap_or_default()).ok_or_else(|| corrupt("type"))?,
        priority: Priority::parse(d.get_str("priority").unwrap_or_default()).ok_or_else(|| corrupt("priority"))?,
        action_url: get_opt_str(d, "actionUrl"),
        action_text: get_opt_str(d, "actionText"),
        metadata: bson_to_json(d.get("metadata")),
        is_read: d.get_bool("isRead").unwrap_or(false),
        is_dismissed: d.get_bool("isDismissed").unwrap_or(false),
        read_at: get_opt_date(d, "readAt"),
        delivered_at: get_opt_date(d, "deliveredAt"),
        created_at: get_opt_date(d, "createdAt").ok_or_else(|| corrupt("notification createdAt"))?,
        snoozed_until: None,
    })
}

pub(super) fn activity_doc(a: &ActivityEntry, source_key: &str) -> StoreResult<Document> {
    Ok(doc! {
        "_id": oid(&a.id)?,
        "tenantId": oid(&a.tenant_id)?,
        "actor": &a.actor,
        "action": &a.action,
        "entity": &a.entity,
        "entityId": &a.entity_id,
        "details": json_to_bson(&a.details)?,
        "sourceIp": opt_str(&a.source_ip),
        "createdAt": to_date(&a.created_at),
        "sourceKey": source_key,
    })
}

pub(super) fn activity_from(d: &Document) -> StoreResult<ActivityEntry> {
    let text = |k: &str| d.get_str(k).map(str::to_owned).map_err(|_| corrupt(k));
    Ok(ActivityEntry {
        id: d.get_object_id("_id").map_err(|_| corrupt("activity _id"))?.to_hex().into(),
        tenant_id: d.get_object_id("tenantId").map_err(|_| corrupt("activity tenantId"))?.to_hex().into(),
        actor: text("actor")?,
        action: text("action")?,
        entity: text("entity")?,
        entity_id: text("entityId")?,
        details: bson_to_json(d.get("details")),
        source_ip: get_opt_str(d, "sourceIp"),
        created_at: get_opt_date(d, "createdAt").ok_or_else(|| corrupt("activity createdAt"))?,
    })
}

pub(super) fn event_doc(e: &WebhookEvent) -> StoreResult<Document> {
    Ok(doc! {
        "_id": oid(&e.id)?,
        "tenantId": e.tenant_id.as_deref().and_then(|t| ObjectId::parse_str(t).ok()).map(Bson::ObjectId).unwrap_or(Bson::Null),
        "endpoint": &e.endpoint,
        "verified": e.verified,
        "outcome": &e.outcome,
        "statusCode": i32::from(e.status_code),
        "reason": opt_str(&e.reason),
        "latencyMs": i64::from(e.latency_ms),
        "body": &e.body,
        "bodyTruncated": e.body_truncated,
        "sourceIp": opt_str(&e.source_ip),
        "receivedAt": to_date(&e.received_at),
        "response": e.response.as_ref().map(json_to_bson).transpose()?.unwrap_or(Bson::Null),
        "topic": opt_str(&e.topic),
    })
}

pub(super) fn event_from(d: &Document) -> StoreResult<WebhookEvent> {
    let text = |k: &str| d.get_str(k).map(str::to_owned).map_err(|_| corrupt(k));
    Ok(WebhookEvent {
        id: d.get_object_id("_id").map_err(|_| corrupt("event _id"))?.to_hex().into(),
        tenant_id: d.get_object_id("tenantId").ok().map(|o| o.to_hex().into()),
        endpoint: text("endpoint")?,
        verified: d.get_bool("verified").map_err(|_| corrupt("verified"))?,
        outcome: text("outcome")?,
        status_code: d.get_i32("statusCode").map_err(|_| corrupt("statusCode"))? as u16,
        reason: get_opt_str(d, "reason"),
        latency_ms: d.get_i64("latencyMs").map_err(|_| corrupt("latencyMs"))? as u32,
        body: text("body")?,
        body_truncated: d.get_bool("bodyTruncated").unwrap_or(false),
        source_ip: get_opt_str(d, "sourceIp"),
        received_at: get_opt_date(d, "receivedAt").ok_or_else(|| corrupt("receivedAt"))?,
        response: d.get_document("response").ok().map(|r| bson_to_json(Some(&Bson::Document(r.clone())))),
        topic: get_opt_str(d, "topic"),
        withheld: false,
    })
}

/// The document of a serde struct.
pub(super) fn to_doc(v: &impl Serialize) -> StoreResult<Document> {
    mongodb::bson::to_document(v).map_err(|e| StoreError::Internal(e.to_string()))
}

/// A serde struct read from its document (`what` names it in the error).
pub(super) fn from_doc<T: DeserializeOwned>(d: &Document, what: &str) -> StoreResult<T> {
    mongodb::bson::from_document(d.clone()).map_err(|e| corrupt(&format!("{what}: {e}")))
}

/// A tenant (`tenants`). Documents older than the field have no
/// `webhookSettings` (the defaults) or `previousSecret`; `owners` (see
/// `change_membership`) is kept by its own updates, never by this struct.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TenantDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    name: String,
    slug: String,
    webhook_secret_sealed: String,
    created_at: DateTime,
    #[serde(default)]
    webhook_settings: WebhookSettings,
    previous_secret: Option<PreviousSecretDoc>,
}

/// A tenant's `previousSecret`: null when there is none.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PreviousSecretDoc {
    sealed: String,
    valid_until: DateTime,
}

impl PreviousSecretDoc {
    fn new(p: &PreviousSecret) -> StoreResult<Self> {
        Ok(Self { sealed: p.sealed.clone(), valid_until: to_date(&p.valid_until) })
    }
}

pub(super) fn tenant_doc(t: &Tenant) -> StoreResult<Document> {
    to_doc(&TenantDoc {
        id: oid(&t.id)?,
        name: t.name.clone(),
        slug: t.slug.clone(),
        webhook_secret_sealed: t.webhook_secret_sealed.clone(),
        created_at: to_date(&t.created_at),
        webhook_settings: t.webhook_settings,
        previous_secret: t.previous_secret.as_ref().map(PreviousSecretDoc::new).transpose()?,
    })
}

/// `previousSecret` as stored: a document, or null.
pub(super) fn previous_secret_bson(p: Option<&PreviousSecret>) -> StoreResult<Bson> {
    let p = p.map(PreviousSecretDoc::new).transpose()?;
    mongodb::bson::to_bson(&p).map_err(|e| StoreError::Internal(e.to_string()))
}

pub(super) fn settings_bson(s: &WebhookSettings) -> StoreResult<Bson> {
    mongodb::bson::to_bson(s).map_err(|e| StoreError::Internal(e.to_string()))
}

pub(super) fn tenant_from(d: &Document) -> StoreResult<Tenant> {
    let t: TenantDoc = from_doc(d, "tenant")?;
    Ok(Tenant {
        id: t.id.to_hex().into(),
        name: t.name,
        slug: t.slug,
        webhook_secret_sealed: t.webhook_secret_sealed,
        created_at: from_date(t.created_at),
        webhook_settings: t.webhook_settings,
        previous_secret: t
            .previous_secret
            .map(|p| PreviousSecret { sealed: p.sealed, valid_until: from_date(p.valid_until) }),
    })
}

/// A user (`users`); the email is stored lowercased.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    email: String,
    name: String,
    password_hash: String,
    created_at: DateTime,
    /// Absent on users who never signed in (and on those stored before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_sign_in_at: Option<DateTime>,
}

pub(super) fn user_doc(u: &User) -> StoreResult<Document> {
    to_doc(&UserDoc {
        id: oid(&u.id)?,
        email: u.email.to_lowercase(),
        name: u.name.clone(),
        password_hash: u.password_hash.clone(),
        created_at: to_date(&u.created_at),
        last_sign_in_at: u.last_sign_in_at.as_ref().map(to_date),
    })
}

pub(super) fn user_from(d: &Document) -> StoreResult<User> {
    let u: UserDoc = from_doc(d, "user")?;
    Ok(User {
        id: u.id.to_hex().into(),
        email: u.email,
        name: u.name,
        password_hash: u.password_hash,
        created_at: from_date(u.created_at),
        last_sign_in_at: u.last_sign_in_at.map(from_date),
    })
}

/// A membership (`memberships`), as read: it is written by an upsert on
/// (tenantId, userId) that sets `role` and, when inserting, `createdAt`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MembershipDoc {
    tenant_id: ObjectId,
    user_id: ObjectId,
    role: String,
    created_at: DateTime,
}

pub(super) fn membership_from(d: &Document) -> StoreResult<Membership> {
    let m: MembershipDoc = from_doc(d, "membership")?;
    Ok(Membership {
        tenant_id: m.tenant_id.to_hex().into(),
        user_id: m.user_id.to_hex().into(),
        role: role(&m.role)?,
        created_at: from_date(m.created_at),
    })
}

fn role(s: &str) -> StoreResult<Role> {
    Role::parse(s).ok_or_else(|| corrupt("role"))
}

/// A session (`sessions`), keyed by its token hash; `expiresAt` has a TTL index.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionDoc {
    #[serde(rename = "_id")]
    token_hash: String,
    user_id: ObjectId,
    created_at: DateTime,
    last_seen_at: DateTime,
    idle_expires_at: DateTime,
    expires_at: DateTime,
    revoked_at: Option<DateTime>,
    ip: Option<String>,
    user_agent: Option<String>,
}

pub(super) fn session_doc(s: &Session) -> StoreResult<Document> {
    to_doc(&SessionDoc {
        token_hash: s.token_hash.clone(),
        user_id: oid(&s.user_id)?,
        created_at: to_date(&s.created_at),
        last_seen_at: to_date(&s.last_seen_at),
        idle_expires_at: to_date(&s.idle_expires_at),
        expires_at: to_date(&s.expires_at),
        revoked_at: s.revoked_at.as_ref().map(to_date),
        ip: s.ip.clone(),
        user_agent: s.user_agent.clone(),
    })
}

pub(super) fn session_from(d: &Document) -> StoreResult<Session> {
    let s: SessionDoc = from_doc(d, "session")?;
    Ok(Session {
        token_hash: s.token_hash,
        user_id: s.user_id.to_hex().into(),
        created_at: from_date(s.created_at),
        last_seen_at: from_date(s.last_seen_at),
        idle_expires_at: from_date(s.idle_expires_at),
        expires_at: from_date(s.expires_at),
        revoked_at: s.revoked_at.map(from_date),
        ip: s.ip,
        user_agent: s.user_agent,
    })
}

/// An API key (`api_keys`): its listing and the hash it is checked against.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiKeyDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    tenant_id: ObjectId,
    name: String,
    prefix: String,
    key_hash: String,
    role: String,
    created_by: Option<String>,
    created_at: DateTime,
    last_used_at: Option<DateTime>,
    revoked_at: Option<DateTime>,
}

pub(super) fn api_key_doc(k: &ApiKey) -> StoreResult<Document> {
    let i = &k.info;
    to_doc(&ApiKeyDoc {
        id: oid(&i.id)?,
        tenant_id: oid(&i.tenant_id)?,
        name: i.name.clone(),
        prefix: i.prefix.clone(),
        key_hash: k.key_hash.clone(),
        role: i.role.as_str().to_owned(),
        created_by: i.created_by.clone(),
        created_at: to_date(&i.created_at),
        last_used_at: i.last_used_at.as_ref().map(to_date),
        revoked_at: i.revoked_at.as_ref().map(to_date),
    })
}

pub(super) fn api_key_from(d: &Document) -> StoreResult<ApiKey> {
    let k: ApiKeyDoc = from_doc(d, "api key")?;
    Ok(ApiKey {
        info: ApiKeyInfo {
            id: k.id.to_hex().into(),
            tenant_id: k.tenant_id.to_hex().into(),
            name: k.name,
            prefix: k.prefix,
            role: role(&k.role)?,
            created_by: k.created_by,
            created_at: from_date(k.created_at),
            last_used_at: k.last_used_at.map(from_date),
            revoked_at: k.revoked_at.map(from_date),
        },
        key_hash: k.key_hash,
    })
}
