//! The production store: MongoDB through the official driver.
//!
//! Standalone MongoDB has no transactions, so multi-document operations are
//! ordered and idempotent instead: an order is inserted first (unique on
//! tenant + order number), then its notification is upserted under a unique
//! `sourceKey` derived from the order id. A retry after a crash between the two
//! writes finds the order and completes the missing notification, never
//! writing either twice. All indexes are created at start-up.

use std::time::Duration;

use app::models::{
    ActivityEntry, Notification, NotificationType, Order, OrderItem, OrderStats, OrderStatus, PaymentStatus, Priority,
    Role, WebhookEvent, WebhookEventFilter, WebhookSettings,
};
use async_trait::async_trait;
use futures_util::TryStreamExt;
use mongodb::{
    bson::{doc, oid::ObjectId, Bson, DateTime, Document},
    error::{ErrorKind, WriteFailure},
    options::{Acknowledgment, ClientOptions, CollectionOptions, IndexOptions, WriteConcern},
    Client, Collection, Database, IndexModel,
};
use time::{format_description::well_known::Rfc3339, OffsetDateTime};

use super::{
    ApiKey, ApiKeyInfo, CreateOrder, Membership, MembershipChange, NotificationFilter, NotificationPatch, PageCursor,
    PaymentApplied, PaymentChange, PreviousSecret, ProcessedWebhook, Session, Store, StoreError, StoreResult, Tenant,
    User, WebhookClaim,
};
use crate::ids::format_time;

/// The MongoDB store.
pub struct MongoStore {
    db: Database,
    tenants: Collection<Document>,
    orders: Collection<Document>,
    notifications: Collection<Document>,
    activity: Collection<Document>,
    webhook_events: Collection<Document>,
    users: Collection<Document>,
    memberships: Collection<Document>,
    sessions: Collection<Document>,
    api_keys: Collection<Document>,
    processed_webhooks: Collection<Document>,
    /// How long webhook events live before the TTL index removes them.
    event_retention: Duration,
}

const DUPLICATE_KEY: i32 = 11000;

fn is_duplicate(e: &mongodb::error::Error) -> bool {
    matches!(&*e.kind, ErrorKind::Write(WriteFailure::WriteError(we)) if we.code == DUPLICATE_KEY)
        || matches!(&*e.kind, ErrorKind::Command(c) if c.code == DUPLICATE_KEY)
}

fn map_err(e: mongodb::error::Error) -> StoreError {
    match &*e.kind {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. } => StoreError::Unavailable(e.to_string()),
        _ if is_duplicate(&e) => StoreError::Conflict(e.to_string()),
        _ => StoreError::Internal(e.to_string()),
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Internal(format!("malformed document: {what}"))
}

/// An integer however the server chose to encode a sum (32 or 64 bits).
fn whole_number(b: Option<&Bson>) -> Option<i64> {
    match b? {
        Bson::Int32(n) => Some(i64::from(*n)),
        Bson::Int64(n) => Some(*n),
        _ => None,
    }
}

fn oid(id: &str) -> StoreResult<ObjectId> {
    ObjectId::parse_str(id).map_err(|_| corrupt("id is not an ObjectId"))
}

/// Parses an RFC 3339 timestamp into a BSON date (millisecond precision).
fn to_date(s: &str) -> StoreResult<DateTime> {
    let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| corrupt("timestamp"))?;
    Ok(DateTime::from_millis((t.unix_timestamp_nanos() / 1_000_000) as i64))
}

fn from_date(d: DateTime) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(d.timestamp_millis() as i128 * 1_000_000)
        .map(format_time)
        .unwrap_or_default()
}

fn opt_str(v: &Option<String>) -> Bson {
    v.as_ref().map(|s| Bson::String(s.clone())).unwrap_or(Bson::Null)
}

fn get_opt_str(d: &Document, key: &str) -> Option<String> {
    d.get_str(key).ok().map(str::to_owned)
}

fn get_opt_date(d: &Document, key: &str) -> Option<String> {
    d.get_datetime(key).ok().map(|t| from_date(*t))
}

fn json_to_bson(v: &serde_json::Value) -> StoreResult<Bson> {
    Bson::try_from(v.clone()).map_err(|e| StoreError::Internal(e.to_string()))
}

fn bson_to_json(b: Option<&Bson>) -> serde_json::Value {
    b.cloned().map(Bson::into_relaxed_extjson).unwrap_or(serde_json::Value::Null)
}

fn tenant_doc(t: &Tenant) -> StoreResult<Document> {
    Ok(doc! {
        "_id": oid(&t.id)?,
        "name": &t.name,
        "slug": &t.slug,
        "webhookSecretSealed": &t.webhook_secret_sealed,
        "createdAt": to_date(&t.created_at)?,
        "webhookSettings": settings_bson(&t.webhook_settings)?,
        "previousSecret": previous_secret_bson(t.previous_secret.as_ref())?,
    })
}

fn previous_secret_bson(p: Option<&PreviousSecret>) -> StoreResult<Bson> {
    Ok(match p {
        Some(p) => Bson::Document(doc! {"sealed": &p.sealed, "validUntil": to_date(&p.valid_until)?}),
        None => Bson::Null,
    })
}

fn settings_bson(s: &WebhookSettings) -> StoreResult<Bson> {
    mongodb::bson::to_bson(s).map_err(|e| StoreError::Internal(e.to_string()))
}

fn tenant_from(d: &Document) -> StoreResult<Tenant> {
    Ok(Tenant {
        id: d.get_object_id("_id").map_err(|_| corrupt("tenant _id"))?.to_hex(),
        name: d.get_str("name").map_err(|_| corrupt("tenant name"))?.to_owned(),
        slug: d.get_str("slug").map_err(|_| corrupt("tenant slug"))?.to_owned(),
        webhook_secret_sealed: d.get_str("webhookSecretSealed").map_err(|_| corrupt("tenant secret"))?.to_owned(),
        created_at: get_opt_date(d, "createdAt").ok_or_else(|| corrupt("tenant createdAt"))?,
        webhook_settings: match d.get("webhookSettings") {
            Some(b) => mongodb::bson::from_bson(b.clone()).map_err(|_| corrupt("tenant webhookSettings"))?,
            None => WebhookSettings::default(),
        },
        previous_secret: d.get_document("previousSecret").ok().and_then(|p| {
            Some(PreviousSecret {
                sealed: p.get_str("sealed").ok()?.to_owned(),
                valid_until: get_opt_date(p, "validUntil")?,
            })
        }),
    })
}

fn order_doc(o: &Order) -> StoreResult<Document> {
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
        "createdAt": to_date(&o.created_at)?,
        "updatedAt": to_date(&o.updated_at)?,
    })
}

fn order_from(d: &Document) -> StoreResult<Order> {
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
        id: d.get_object_id("_id").map_err(|_| corrupt("order _id"))?.to_hex(),
        tenant_id: d.get_object_id("tenantId").map_err(|_| corrupt("order tenantId"))?.to_hex(),
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

fn opt_date(v: &Option<String>) -> StoreResult<Bson> {
    Ok(v.as_deref().map(to_date).transpose()?.map(Bson::DateTime).unwrap_or(Bson::Null))
}

fn role_from(d: &Document) -> StoreResult<Role> {
    Role::parse(d.get_str("role").unwrap_or_default()).ok_or_else(|| corrupt("role"))
}

fn user_doc(u: &User) -> StoreResult<Document> {
    Ok(doc! {
        "_id": oid(&u.id)?,
        "email": u.email.to_lowercase(),
        "name": &u.name,
        "passwordHash": &u.password_hash,
        "createdAt": to_date(&u.created_at)?,
    })
}

fn user_from(d: &Document) -> StoreResult<User> {
    let text = |k: &str| d.get_str(k).map(str::to_owned).map_err(|_| corrupt(k));
    Ok(User {
        id: d.get_object_id("_id").map_err(|_| corrupt("user _id"))?.to_hex(),
        email: text("email")?,
        name: text("name")?,
        password_hash: text("passwordHash")?,
        created_at: get_opt_date(d, "createdAt").ok_or_else(|| corrupt("user createdAt"))?,
    })
}

fn membership_from(d: &Document) -> StoreResult<Membership> {
    Ok(Membership {
        tenant_id: d.get_object_id("tenantId").map_err(|_| corrupt("membership tenantId"))?.to_hex(),
        user_id: d.get_object_id("userId").map_err(|_| corrupt("membership userId"))?.to_hex(),
        role: role_from(d)?,
        created_at: get_opt_date(d, "createdAt").ok_or_else(|| corrupt("membership createdAt"))?,
    })
}

fn session_doc(s: &Session) -> StoreResult<Document> {
    Ok(doc! {
        "_id": &s.token_hash,
        "userId": oid(&s.user_id)?,
        "createdAt": to_date(&s.created_at)?,
        "lastSeenAt": to_date(&s.last_seen_at)?,
        "idleExpiresAt": to_date(&s.idle_expires_at)?,
        "expiresAt": to_date(&s.expires_at)?,
        "revokedAt": opt_date(&s.revoked_at)?,
        "ip": opt_str(&s.ip),
        "userAgent": opt_str(&s.user_agent),
    })
}

fn session_from(d: &Document) -> StoreResult<Session> {
    let date = |k: &str| get_opt_date(d, k).ok_or_else(|| corrupt(k));
    Ok(Session {
        token_hash: d.get_str("_id").map_err(|_| corrupt("session _id"))?.to_owned(),
        user_id: d.get_object_id("userId").map_err(|_| corrupt("session userId"))?.to_hex(),
        created_at: date("createdAt")?,
        last_seen_at: date("lastSeenAt")?,
        idle_expires_at: date("idleExpiresAt")?,
        expires_at: date("expiresAt")?,
        revoked_at: get_opt_date(d, "revokedAt"),
        ip: get_opt_str(d, "ip"),
        user_agent: get_opt_str(d, "userAgent"),
    })
}

fn api_key_doc(k: &ApiKey) -> StoreResult<Document> {
    let i = &k.info;
    Ok(doc! {
        "_id": oid(&i.id)?,
        "tenantId": oid(&i.tenant_id)?,
        "name": &i.name,
        "prefix": &i.prefix,
        "keyHash": &k.key_hash,
        "role": i.role.as_str(),
        "createdBy": opt_str(&i.created_by),
        "createdAt": to_date(&i.created_at)?,
        "lastUsedAt": opt_date(&i.last_used_at)?,
        "revokedAt": opt_date(&i.revoked_at)?,
    })
}

fn api_key_from(d: &Document) -> StoreResult<ApiKey> {
    let text = |k: &str| d.get_str(k).map(str::to_owned).map_err(|_| corrupt(k));
    Ok(ApiKey {
        info: ApiKeyInfo {
            id: d.get_object_id("_id").map_err(|_| corrupt("api key _id"))?.to_hex(),
            tenant_id: d.get_object_id("tenantId").map_err(|_| corrupt("api key tenantId"))?.to_hex(),
            name: text("name")?,
            prefix: text("prefix")?,
            role: role_from(d)?,
            created_by: get_opt_str(d, "createdBy"),
            created_at: get_opt_date(d, "createdAt").ok_or_else(|| corrupt("api key createdAt"))?,
            last_used_at: get_opt_date(d, "lastUsedAt"),
            revoked_at: get_opt_date(d, "revokedAt"),
        },
        key_hash: text("keyHash")?,
    })
}

/// Matches the notifications `user_id` sees: tenant-wide ones plus the user's own.
fn viewer(user_id: Option<&str>) -> Bson {
    match user_id {
        Some(u) => Bson::Document(doc! {"$in": [Bson::Null, u]}),
        None => Bson::Null,
    }
}

fn notification_query(tenant: ObjectId, f: &NotificationFilter, after: Option<&PageCursor>) -> StoreResult<Document> {
    let mut q = doc! {"tenantId": tenant, "userId": viewer(f.user_id.as_deref())};
    if !f.include_read {
        q.insert("isRead", false);
    }
    if !f.include_dismissed {
        q.insert("isDismissed", false);
    }
    if let Some(kind) = f.kind {
        q.insert("type", kind.as_str());
    }
    if let Some(priority) = f.priority {
        q.insert("priority", priority.as_str());
    }
    if let Some(c) = after {
        let at = to_date(&c.created_at)?;
        q.insert("$or", vec![doc! {"createdAt": {"$lt": at}}, doc! {"createdAt": at, "_id": {"$lt": oid(&c.id)?}}]);
    }
    Ok(q)
}

fn notification_doc(n: &Notification, source_key: &str) -> StoreResult<Document> {
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
        "readAt": opt_date(&n.read_at)?,
        "deliveredAt": opt_date(&n.delivered_at)?,
        "createdAt": to_date(&n.created_at)?,
        "sourceKey": source_key,
    })
}

fn notification_from(d: &Document) -> StoreResult<Notification> {
    Ok(Notification {
        id: d.get_object_id("_id").map_err(|_| corrupt("notification _id"))?.to_hex(),
        tenant_id: d.get_object_id("tenantId").map_err(|_| corrupt("notification tenantId"))?.to_hex(),
        user_id: get_opt_str(d, "userId"),
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
    })
}

fn activity_doc(a: &ActivityEntry, source_key: &str) -> StoreResult<Document> {
    Ok(doc! {
        "_id": oid(&a.id)?,
        "tenantId": oid(&a.tenant_id)?,
        "actor": &a.actor,
        "action": &a.action,
        "entity": &a.entity,
        "entityId": &a.entity_id,
        "details": json_to_bson(&a.details)?,
        "sourceIp": opt_str(&a.source_ip),
        "createdAt": to_date(&a.created_at)?,
        "sourceKey": source_key,
    })
}

fn activity_from(d: &Document) -> StoreResult<ActivityEntry> {
    let text = |k: &str| d.get_str(k).map(str::to_owned).map_err(|_| corrupt(k));
    Ok(ActivityEntry {
        id: d.get_object_id("_id").map_err(|_| corrupt("activity _id"))?.to_hex(),
        tenant_id: d.get_object_id("tenantId").map_err(|_| corrupt("activity tenantId"))?.to_hex(),
        actor: text("actor")?,
        action: text("action")?,
        entity: text("entity")?,
        entity_id: text("entityId")?,
        details: bson_to_json(d.get("details")),
        source_ip: get_opt_str(d, "sourceIp"),
        created_at: get_opt_date(d, "createdAt").ok_or_else(|| corrupt("activity createdAt"))?,
    })
}

fn event_doc(e: &WebhookEvent) -> StoreResult<Document> {
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
        "receivedAt": to_date(&e.received_at)?,
        "response": e.response.as_ref().map(json_to_bson).transpose()?.unwrap_or(Bson::Null),
    })
}

fn event_from(d: &Document) -> StoreResult<WebhookEvent> {
    let text = |k: &str| d.get_str(k).map(str::to_owned).map_err(|_| corrupt(k));
    Ok(WebhookEvent {
        id: d.get_object_id("_id").map_err(|_| corrupt("event _id"))?.to_hex(),
        tenant_id: d.get_object_id("tenantId").ok().map(|o| o.to_hex()),
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
        withheld: false,
    })
}

/// Parses `MONGODB_WRITE_CONCERN`: `majority` (default) or a node count.
pub fn parse_write_concern(value: Option<&str>) -> Result<WriteConcern, String> {
    let w = match value.map(str::trim) {
        None | Some("") | Some("majority") => Acknowledgment::Majority,
        Some(n) => Acknowledgment::Nodes(n.parse().map_err(|_| format!("expected majority or a number, got {n:?}"))?),
    };
    Ok(WriteConcern::builder().w(w).journal(true).build())
}

impl MongoStore {
    /// Sets the sealed secrets of the tenant `filter` matches: whether it matched.
    async fn set_secrets(
        &self,
        filter: Document,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool> {
        let set = doc! {"webhookSecretSealed": sealed, "previousSecret": previous_secret_bson(previous)?};
        self.tenants.update_one(filter, doc! {"$set": set}).await.map(|r| r.matched_count > 0).map_err(map_err)
    }

    /// Gives a tenant document its list of owners (`owners`) when it has
    /// none yet (tenants created before the list existed), from its memberships.
    async fn ensure_owner_list(&self, t: ObjectId) -> StoreResult<()> {
        let has_list =
            self.tenants.find_one(doc! {"_id": t, "owners": {"$exists": true}}).await.map_err(map_err)?.is_some();
        if has_list {
            return Ok(());
        }
        let owners: Vec<Bson> = self
            .memberships
            .find(doc! {"tenantId": t, "role": Role::Owner.as_str()})
            .await
            .map_err(map_err)?
            .try_collect::<Vec<Document>>()
            .await
            .map_err(map_err)?
            .iter()
            .filter_map(|d| d.get_object_id("userId").ok().map(Bson::ObjectId))
            .collect();
        self.tenants
            .update_one(doc! {"_id": t, "owners": {"$exists": false}}, doc! {"$set": {"owners": owners}})
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    /// The answered delivery of `webhook_id`, if any (a pending claim is none).
    async fn answered_webhook(&self, t: ObjectId, webhook_id: &str) -> StoreResult<Option<ProcessedWebhook>> {
        let filter = doc! {"tenantId": t, "webhookId": webhook_id, "statusCode": {"$ne": 0i32}};
        let Some(d) = self.processed_webhooks.find_one(filter).await.map_err(map_err)? else {
            return Ok(None);
        };
        Ok(Some(ProcessedWebhook {
            tenant_id: t.to_hex(),
            webhook_id: webhook_id.to_owned(),
            endpoint: d.get_str("endpoint").map_err(|_| corrupt("endpoint"))?.to_owned(),
            status_code: d.get_i32("statusCode").map_err(|_| corrupt("statusCode"))? as u16,
            response: bson_to_json(d.get("response")),
            received_at: get_opt_date(&d, "receivedAt").ok_or_else(|| corrupt("receivedAt"))?,
        }))
    }

    /// Connects to `uri` (database from the URI's path, else `hookbell`) and
    /// creates every index. Fails fast (a few seconds) when the server is down.
    pub async fn connect(uri: &str, write_concern: WriteConcern, event_retention: Duration) -> StoreResult<Self> {
        let mut options = ClientOptions::parse(uri).await.map_err(|e| StoreError::Unavailable(e.to_string()))?;
        options.app_name = Some("hookbell".into());
        options.server_selection_timeout.get_or_insert(Duration::from_secs(5));
        options.connect_timeout.get_or_insert(Duration::from_secs(5));
        let db_name = options.default_database.clone().unwrap_or_else(|| "hookbell".into());
        let client = Client::with_options(options).map_err(map_err)?;
        Self::open(client.database(&db_name), write_concern, event_retention).await
    }

    /// Uses `db`, creating indexes.
    pub async fn open(db: Database, write_concern: WriteConcern, event_retention: Duration) -> StoreResult<Self> {
        let opts = CollectionOptions::builder().write_concern(write_concern).build();
        let store = Self {
            tenants: db.collection_with_options("tenants", opts.clone()),
            orders: db.collection_with_options("orders", opts.clone()),
            notifications: db.collection_with_options("notifications", opts.clone()),
            activity: db.collection_with_options("activity_log", opts.clone()),
            webhook_events: db.collection_with_options("webhook_events", opts.clone()),
            users: db.collection_with_options("users", opts.clone()),
            memberships: db.collection_with_options("memberships", opts.clone()),
            sessions: db.collection_with_options("sessions", opts.clone()),
            api_keys: db.collection_with_options("api_keys", opts.clone()),
            processed_webhooks: db.collection_with_options("processed_webhooks", opts),
            event_retention,
            db,
        };
        store.ping().await?;
        store.create_indexes().await?;
        Ok(store)
    }

    async fn create_indexes(&self) -> StoreResult<()> {
        // (collection, [(keys, unique)]): every index the queries above rely on.
        let by_tenant_time = || (doc! {"tenantId": 1, "createdAt": -1}, false);
        let once_per_source = || (doc! {"tenantId": 1, "sourceKey": 1}, true);
        let plan = [
            (&self.tenants, vec![(doc! {"slug": 1}, true)]),
            (&self.orders, vec![(doc! {"tenantId": 1, "orderNumber": 1}, true), by_tenant_time()]),
            (
                &self.notifications,
                vec![
                    once_per_source(),
                    by_tenant_time(),
                    (doc! {"tenantId": 1, "isRead": 1, "isDismissed": 1}, false),
                    (doc! {"tenantId": 1, "userId": 1, "createdAt": -1}, false),
                ],
            ),
            (&self.activity, vec![once_per_source(), by_tenant_time()]),
            (&self.users, vec![(doc! {"email": 1}, true)]),
            (&self.memberships, vec![(doc! {"tenantId": 1, "userId": 1}, true), (doc! {"userId": 1}, false)]),
            (&self.api_keys, vec![(doc! {"prefix": 1}, true), by_tenant_time()]),
        ];
        self.processed_webhooks
            .create_indexes([
                IndexModel::builder()
                    .keys(doc! {"tenantId": 1, "webhookId": 1})
                    .options(IndexOptions::builder().unique(true).build())
                    .build(),
                IndexModel::builder()
                    .keys(doc! {"receivedAt": 1})
                    .options(IndexOptions::builder().expire_after(super::PROCESSED_WEBHOOK_RETENTION).build())
                    .build(),
            ])
            .await
            .map_err(map_err)?;
        // Sessions leave the store at their absolute expiry.
        self.sessions
            .create_indexes([
                IndexModel::builder().keys(doc! {"userId": 1}).build(),
                IndexModel::builder()
                    .keys(doc! {"expiresAt": 1})
                    .options(IndexOptions::builder().expire_after(Duration::ZERO).build())
                    .build(),
            ])
            .await
            .map_err(map_err)?;
        self.webhook_events
            .create_indexes([
                IndexModel::builder().keys(doc! {"tenantId": 1, "receivedAt": -1}).build(),
                IndexModel::builder().keys(doc! {"tenantId": 1, "endpoint": 1, "receivedAt": -1}).build(),
                IndexModel::builder()
                    .keys(doc! {"receivedAt": 1})
                    .options(IndexOptions::builder().expire_after(self.event_retention).build())
                    .build(),
            ])
            .await
            .map_err(map_err)?;
        for (collection, indexes) in plan {
            let models = indexes.into_iter().map(|(keys, unique)| {
                IndexModel::builder().keys(keys).options(IndexOptions::builder().unique(unique).build()).build()
            });
            collection.create_indexes(models).await.map_err(map_err)?;
        }
        Ok(())
    }

    /// Inserts `doc` unless (tenantId, sourceKey) exists: idempotent. True when inserted.
    async fn insert_once(coll: &Collection<Document>, doc: Document) -> StoreResult<bool> {
        let filter = doc! {"tenantId": doc.get("tenantId").cloned(), "sourceKey": doc.get("sourceKey").cloned()};
        match coll.update_one(filter, doc! {"$setOnInsert": doc}).upsert(true).await {
            Ok(r) => Ok(r.upserted_id.is_some()),
            // Two upserts racing on the unique index: the other one won.
            Err(e) if is_duplicate(&e) => Ok(false),
            Err(e) => Err(map_err(e)),
        }
    }
}

impl MongoStore {
    /// Memberships matching `filter`, in `sort` order.
    async fn find_memberships(&self, filter: Document, sort: Document) -> StoreResult<Vec<Membership>> {
        let docs: Vec<Document> =
            self.memberships.find(filter).sort(sort).await.map_err(map_err)?.try_collect().await.map_err(map_err)?;
        docs.iter().map(membership_from).collect()
    }

    async fn find_order(&self, filter: Document) -> StoreResult<Option<Order>> {
        self.orders.find_one(filter).await.map_err(map_err)?.as_ref().map(order_from).transpose()
    }

    /// The newest `limit` documents matching `filter`, newest first.
    async fn find_latest(coll: &Collection<Document>, filter: Document, limit: u32) -> StoreResult<Vec<Document>> {
        coll.find(filter)
            .sort(doc! {"createdAt": -1, "_id": -1})
            .limit(i64::from(limit))
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)
    }
}

/// The notification announcing order `order_id`.
fn order_source_key(order_id: &str) -> String {
    format!("order:{order_id}")
}

#[async_trait]
impl Store for MongoStore {
    fn kind(&self) -> &'static str {
        "mongodb"
    }

    async fn ping(&self) -> StoreResult<()> {
        self.db.run_command(doc! {"ping": 1}).await.map(|_| ()).map_err(map_err)
    }

    async fn insert_tenant(&self, tenant: &Tenant) -> StoreResult<()> {
        self.tenants.insert_one(tenant_doc(tenant)?).await.map(|_| ()).map_err(map_err)
    }

    async fn get_tenant(&self, tenant_id: &str) -> StoreResult<Option<Tenant>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(None);
        };
        self.tenants.find_one(doc! {"_id": id}).await.map_err(map_err)?.as_ref().map(tenant_from).transpose()
    }

    async fn update_webhook_settings(&self, tenant_id: &str, settings: &WebhookSettings) -> StoreResult<bool> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(false);
        };
        self.tenants
            .update_one(doc! {"_id": id}, doc! {"$set": {"webhookSettings": settings_bson(settings)?}})
            .await
            .map(|r| r.matched_count > 0)
            .map_err(map_err)
    }

    async fn rotate_webhook_secret(
        &self,
        tenant_id: &str,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(false);
        };
        self.set_secrets(doc! {"_id": id}, sealed, previous).await
    }

    async fn reseal_webhook_secrets(
        &self,
        tenant_id: &str,
        expected: &str,
        sealed: &str,
        previous: Option<&PreviousSecret>,
    ) -> StoreResult<bool> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(false);
        };
        self.set_secrets(doc! {"_id": id, "webhookSecretSealed": expected}, sealed, previous).await
    }

    async fn get_tenant_by_slug(&self, slug: &str) -> StoreResult<Option<Tenant>> {
        self.tenants.find_one(doc! {"slug": slug}).await.map_err(map_err)?.as_ref().map(tenant_from).transpose()
    }

    async fn create_order(
        &self,
        order: &Order,
        notification: &Notification,
        activity: &ActivityEntry,
    ) -> StoreResult<CreateOrder> {
        match self.orders.insert_one(order_doc(order)?).await {
            Ok(_) => {
                let key = order_source_key(&order.id);
                Self::insert_once(&self.notifications, notification_doc(notification, &key)?).await?;
                Self::insert_once(&self.activity, activity_doc(activity, &key)?).await?;
                Ok(CreateOrder::Created)
            }
            Err(e) if is_duplicate(&e) => {
                let existing = self
                    .orders
                    .find_one(doc! {"tenantId": oid(&order.tenant_id)?, "orderNumber": &order.order_number})
                    .await
                    .map_err(map_err)?
                    .ok_or_else(|| StoreError::Internal("duplicate order vanished".into()))?;
                let existing_order_id = existing.get_object_id("_id").map_err(|_| corrupt("order _id"))?.to_hex();
                // Complete what a crash may have left unwritten, for the stored order.
                let key = order_source_key(&existing_order_id);
                let mut notification = notification.clone();
                if let Some(meta) = notification.metadata.as_object_mut() {
                    meta.insert("orderId".into(), existing_order_id.clone().into());
                }
                let mut activity = activity.clone();
                activity.entity_id = existing_order_id.clone();
                Self::insert_once(&self.notifications, notification_doc(&notification, &key)?).await?;
                Self::insert_once(&self.activity, activity_doc(&activity, &key)?).await?;
                Ok(CreateOrder::Duplicate { existing_order_id })
            }
            Err(e) => Err(map_err(e)),
        }
    }

    async fn apply_payment(&self, ch: &PaymentChange) -> StoreResult<PaymentApplied> {
        let this = doc! {"_id": oid(&ch.order_id)?, "tenantId": oid(&ch.tenant_id)?};
        // Each change of an order's payment bumps its `paymentVersion`; the
        // records of one change share a key made of it, so a retry writes each
        // at most once, and a later change to the same status (pending → failed
        // → pending → failed) has records of its own.
        let complete = |version: i64, applied| async move {
            let key = format!("payment:{}:v{version}", ch.order_id);
            if let Some(n) = &ch.notification {
                Self::insert_once(&self.notifications, notification_doc(n, &key)?).await?;
            }
            Self::insert_once(&self.activity, activity_doc(&ch.activity, &key)?).await?;
            Ok(applied)
        };
        let version = |d: &Document| whole_number(d.get("paymentVersion")).unwrap_or(0);
        let Some(current) = self.orders.find_one(this.clone()).await.map_err(map_err)? else {
            return Ok(PaymentApplied::Conflict);
        };
        let order = order_from(&current)?;
        if order.payment_status == ch.to && (ch.payment_id.is_none() || ch.payment_id == order.payment_id) {
            // Applied already (perhaps by a request that died before its records): complete those.
            return complete(version(&current), PaymentApplied::AlreadyApplied).await;
        }
        let mut filter = this;
        filter.insert("paymentStatus", ch.from.as_str());
        let mut set = doc! {"paymentStatus": ch.to.as_str(), "updatedAt": to_date(&ch.at)?};
        if let Some(p) = &ch.payment_id {
            set.insert("paymentId", p);
        }
        let updated = self
            .orders
            .find_one_and_update(filter, doc! {"$set": set, "$inc": {"paymentVersion": 1i64}})
            .return_document(mongodb::options::ReturnDocument::After)
            .await
            .map_err(map_err)?;
        match updated {
            Some(after) => complete(version(&after), PaymentApplied::Applied).await,
            None => Ok(PaymentApplied::Conflict),
        }
    }

    async fn get_order(&self, tenant_id: &str, order_id: &str) -> StoreResult<Option<Order>> {
        let (Ok(t), Ok(o)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(order_id)) else {
            return Ok(None);
        };
        self.find_order(doc! {"_id": o, "tenantId": t}).await
    }

    async fn get_order_by_number(&self, tenant_id: &str, order_number: &str) -> StoreResult<Option<Order>> {
        let Ok(t) = ObjectId::parse_str(tenant_id) else {
            return Ok(None);
        };
        self.find_order(doc! {"tenantId": t, "orderNumber": order_number}).await
    }

    async fn list_orders(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<Order>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        let docs = Self::find_latest(&self.orders, doc! {"tenantId": id}, limit).await?;
        docs.iter().map(order_from).collect()
    }

    async fn order_stats(&self, tenant_id: &str, since: &str) -> StoreResult<OrderStats> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(OrderStats::default());
        };
        // Counted and summed by the server, on the (tenantId, createdAt) index.
        let pipeline = [
            doc! {"$match": {"tenantId": id, "createdAt": {"$gte": to_date(since)?}}},
            doc! {"$group": {
                "_id": {"currency": "$currency", "paymentStatus": "$paymentStatus"},
                "count": {"$sum": 1},
                "amount": {"$sum": "$amountMinor"},
            }},
        ];
        let groups: Vec<Document> =
            self.orders.aggregate(pipeline).await.map_err(map_err)?.try_collect().await.map_err(map_err)?;
        let mut stats = OrderStats::default();
        for g in &groups {
            let key = g.get_document("_id").map_err(|_| corrupt("order group"))?;
            let currency = key.get_str("currency").map_err(|_| corrupt("order currency"))?;
            let payment = key
                .get_str("paymentStatus")
                .ok()
                .and_then(PaymentStatus::parse)
                .ok_or_else(|| corrupt("order payment status"))?;
            let count = whole_number(g.get("count")).ok_or_else(|| corrupt("order count"))?;
            let amount = whole_number(g.get("amount")).ok_or_else(|| corrupt("order amount"))?;
            stats.add(currency, payment, count.max(0) as u64, amount);
        }
        Ok(stats)
    }

    async fn record_webhook_event(&self, event: &WebhookEvent) -> StoreResult<()> {
        self.webhook_events.insert_one(event_doc(event)?).await.map(|_| ()).map_err(map_err)
    }

    async fn list_webhook_events(
        &self,
        tenant_id: &str,
        filter: &WebhookEventFilter,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookEvent>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        let mut q = doc! {"tenantId": id};
        if let Some(endpoint) = &filter.endpoint {
            q.insert("endpoint", endpoint);
        }
        if let Some(outcome) = &filter.outcome {
            q.insert("outcome", outcome);
        }
        if let Some(c) = after {
            let at = to_date(&c.created_at)?;
            q.insert(
                "$or",
                vec![doc! {"receivedAt": {"$lt": at}}, doc! {"receivedAt": at, "_id": {"$lt": oid(&c.id)?}}],
            );
        }
        let docs = self
            .webhook_events
            .find(q)
            .sort(doc! {"receivedAt": -1, "_id": -1})
            .limit(i64::from(limit))
            .await
            .map_err(map_err)?
            .try_collect::<Vec<Document>>()
            .await
            .map_err(map_err)?;
        docs.iter().map(event_from).collect()
    }

    async fn get_webhook_event(&self, tenant_id: &str, id: &str) -> StoreResult<Option<WebhookEvent>> {
        let (Ok(t), Ok(e)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(None);
        };
        self.webhook_events
            .find_one(doc! {"_id": e, "tenantId": t})
            .await
            .map_err(map_err)?
            .as_ref()
            .map(event_from)
            .transpose()
    }

    async fn purge_webhook_events(&self, before: &str) -> StoreResult<u64> {
        self.webhook_events
            .delete_many(doc! {"receivedAt": {"$lt": to_date(before)?}})
            .await
            .map(|r| r.deleted_count)
            .map_err(map_err)
    }

    async fn get_processed_webhook(&self, tenant_id: &str, webhook_id: &str) -> StoreResult<Option<ProcessedWebhook>> {
        let Ok(t) = ObjectId::parse_str(tenant_id) else {
            return Ok(None);
        };
        self.answered_webhook(t, webhook_id).await
    }

    async fn claim_webhook(
        &self,
        tenant_id: &str,
        webhook_id: &str,
        endpoint: &str,
        now: &str,
        stale_before: &str,
    ) -> StoreResult<WebhookClaim> {
        let t = oid(tenant_id)?;
        // A claim is a document without an answer (statusCode 0), inserted
        // under the unique (tenantId, webhookId) index: one insert wins.
        let claim = doc! {
            "tenantId": t, "webhookId": webhook_id, "endpoint": endpoint,
            "statusCode": 0i32, "response": Bson::Null, "receivedAt": to_date(now)?,
        };
        match self.processed_webhooks.insert_one(claim).await {
            Ok(_) => return Ok(WebhookClaim::Claimed),
            Err(e) if is_duplicate(&e) => {}
            Err(e) => return Err(map_err(e)),
        }
        // A claim its process never completed is taken over once stale (one conditional write).
        let taken = self
            .processed_webhooks
            .update_one(
                doc! {"tenantId": t, "webhookId": webhook_id, "statusCode": 0i32, "receivedAt": {"$lt": to_date(stale_before)?}},
                doc! {"$set": {"receivedAt": to_date(now)?, "endpoint": endpoint}},
            )
            .await
            .map_err(map_err)?;
        if taken.modified_count == 1 {
            return Ok(WebhookClaim::Claimed);
        }
        Ok(self.answered_webhook(t, webhook_id).await?.map_or(WebhookClaim::InProgress, WebhookClaim::Done))
    }

    async fn release_webhook_claim(&self, tenant_id: &str, webhook_id: &str, claimed_at: &str) -> StoreResult<()> {
        self.processed_webhooks
            .delete_one(doc! {
                "tenantId": oid(tenant_id)?, "webhookId": webhook_id, "statusCode": 0i32, "receivedAt": to_date(claimed_at)?,
            })
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    async fn save_processed_webhook(&self, p: &ProcessedWebhook) -> StoreResult<()> {
        let key = doc! {"tenantId": oid(&p.tenant_id)?, "webhookId": &p.webhook_id};
        let answer = doc! {
            "endpoint": &p.endpoint,
            "statusCode": i32::from(p.status_code),
            "response": json_to_bson(&p.response)?,
        };
        // Completes this id's claim; without one (purged, or never claimed), remembers it anew.
        let mut claimed = key.clone();
        claimed.insert("statusCode", 0i32);
        let completed =
            self.processed_webhooks.update_one(claimed, doc! {"$set": answer.clone()}).await.map_err(map_err)?;
        if completed.matched_count == 1 {
            return Ok(());
        }
        let mut fields = answer;
        fields.insert("receivedAt", to_date(&p.received_at)?);
        match self.processed_webhooks.update_one(key, doc! {"$setOnInsert": fields}).upsert(true).await {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate(&e) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }

    async fn purge_processed_webhooks(&self, before: &str) -> StoreResult<u64> {
        self.processed_webhooks
            .delete_many(doc! {"receivedAt": {"$lt": to_date(before)?}})
            .await
            .map(|r| r.deleted_count)
            .map_err(map_err)
    }

    async fn append_activity(&self, entry: &ActivityEntry) -> StoreResult<()> {
        let key = format!("activity:{}", entry.id);
        Self::insert_once(&self.activity, activity_doc(entry, &key)?).await.map(|_| ())
    }

    async fn list_activity(&self, tenant_id: &str, limit: u32) -> StoreResult<Vec<ActivityEntry>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        let docs = Self::find_latest(&self.activity, doc! {"tenantId": id}, limit).await?;
        docs.iter().map(activity_from).collect()
    }

    async fn create_notification(&self, notification: &Notification, activity: &ActivityEntry) -> StoreResult<()> {
        // Notification first, then its audit entry, both under one key: a retry completes, never duplicates.
        let key = format!("notification:{}", notification.id);
        Self::insert_once(&self.notifications, notification_doc(notification, &key)?).await?;
        Self::insert_once(&self.activity, activity_doc(activity, &key)?).await?;
        Ok(())
    }

    async fn insert_notifications(&self, notifications: &[Notification]) -> StoreResult<()> {
        if notifications.is_empty() {
            return Ok(());
        }
        let docs = notifications
            .iter()
            .map(|n| notification_doc(n, &format!("notification:{}", n.id)))
            .collect::<StoreResult<Vec<_>>>()?;
        self.notifications.insert_many(docs).await.map(|_| ()).map_err(map_err)
    }

    async fn get_notification(&self, tenant_id: &str, id: &str) -> StoreResult<Option<Notification>> {
        let (Ok(t), Ok(id)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(None);
        };
        let found = self.notifications.find_one(doc! {"_id": id, "tenantId": t}).await.map_err(map_err)?;
        found.as_ref().map(notification_from).transpose()
    }

    async fn list_notifications(
        &self,
        tenant_id: &str,
        filter: &NotificationFilter,
        after: Option<&PageCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Notification>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        let docs = Self::find_latest(&self.notifications, notification_query(id, filter, after)?, limit).await?;
        docs.iter().map(notification_from).collect()
    }

    async fn update_notification(
        &self,
        tenant_id: &str,
        id: &str,
        patch: &NotificationPatch,
        at: &str,
    ) -> StoreResult<Option<Notification>> {
        let (Ok(t), Ok(n)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(None);
        };
        let this = doc! {"_id": n, "tenantId": t};
        // Each step is idempotent, so a retry after a failure part-way is safe.
        let mut steps = Vec::new();
        match patch.is_read {
            Some(true) => steps.push((doc! {"isRead": false}, doc! {"isRead": true, "readAt": to_date(at)?})),
            Some(false) => steps.push((doc! {}, doc! {"isRead": false, "readAt": Bson::Null})),
            None => {}
        }
        if let Some(dismissed) = patch.is_dismissed {
            steps.push((doc! {}, doc! {"isDismissed": dismissed}));
        }
        for (condition, set) in steps {
            let mut filter = this.clone();
            filter.extend(condition);
            self.notifications.update_one(filter, doc! {"$set": set}).await.map_err(map_err)?;
        }
        self.notifications.find_one(this).await.map_err(map_err)?.as_ref().map(notification_from).transpose()
    }

    async fn mark_delivered(&self, tenant_id: &str, id: &str, at: &str) -> StoreResult<bool> {
        let (Ok(t), Ok(n)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(false);
        };
        self.notifications
            .update_one(
                doc! {"_id": n, "tenantId": t, "deliveredAt": Bson::Null},
                doc! {"$set": {"deliveredAt": to_date(at)?}},
            )
            .await
            .map(|r| r.modified_count > 0)
            .map_err(map_err)
    }

    async fn mark_all_read(&self, tenant_id: &str, user_id: Option<&str>, read_at: &str) -> StoreResult<u64> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(0);
        };
        self.notifications
            .update_many(
                doc! {"tenantId": id, "userId": viewer(user_id), "isRead": false},
                doc! {"$set": {"isRead": true, "readAt": to_date(read_at)?}},
            )
            .await
            .map(|r| r.modified_count)
            .map_err(map_err)
    }

    async fn unread_count(&self, tenant_id: &str, user_id: Option<&str>) -> StoreResult<u64> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(0);
        };
        self.notifications
            .count_documents(doc! {"tenantId": id, "userId": viewer(user_id), "isRead": false, "isDismissed": false})
            .await
            .map_err(map_err)
    }

    async fn list_tenants(&self) -> StoreResult<Vec<Tenant>> {
        let docs: Vec<Document> = self
            .tenants
            .find(doc! {})
            .sort(doc! {"createdAt": 1, "_id": 1})
            .await
            .map_err(map_err)?
            .try_collect()
            .await
            .map_err(map_err)?;
        docs.iter().map(tenant_from).collect()
    }

    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        self.users.insert_one(user_doc(user)?).await.map(|_| ()).map_err(map_err)
    }

    async fn get_user(&self, user_id: &str) -> StoreResult<Option<User>> {
        let Ok(id) = ObjectId::parse_str(user_id) else {
            return Ok(None);
        };
        self.users.find_one(doc! {"_id": id}).await.map_err(map_err)?.as_ref().map(user_from).transpose()
    }

    async fn get_user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        let found = self.users.find_one(doc! {"email": email.to_lowercase()}).await.map_err(map_err)?;
        found.as_ref().map(user_from).transpose()
    }

    async fn set_membership(&self, m: &Membership) -> StoreResult<()> {
        let (t, u) = (oid(&m.tenant_id)?, oid(&m.user_id)?);
        let key = doc! {"tenantId": t, "userId": u};
        let update = doc! {"$set": {"role": m.role.as_str()}, "$setOnInsert": {"createdAt": to_date(&m.created_at)?}};
        match self.memberships.update_one(key.clone(), update.clone()).upsert(true).await {
            Ok(_) => {}
            // Two upserts racing on the unique index: the other inserted; apply the role now.
            Err(e) if is_duplicate(&e) => {
                self.memberships.update_one(key, update).await.map_err(map_err)?;
            }
            Err(e) => return Err(map_err(e)),
        }
        // The tenant's list of owners (see `change_membership`), where it exists already.
        let change = if m.role == Role::Owner {
            doc! {"$addToSet": {"owners": u}}
        } else {
            doc! {"$pull": {"owners": u}}
        };
        self.tenants.update_one(doc! {"_id": t, "owners": {"$exists": true}}, change).await.map(|_| ()).map_err(map_err)
    }

    async fn change_membership(
        &self,
        tenant_id: &str,
        user_id: &str,
        to: Option<Role>,
    ) -> StoreResult<MembershipChange> {
        let (Ok(t), Ok(u)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(user_id)) else {
            return Ok(MembershipChange::NotFound);
        };
        let key = doc! {"tenantId": t, "userId": u};
        let Some(current) = self.memberships.find_one(key.clone()).await.map_err(map_err)? else {
            return Ok(MembershipChange::NotFound);
        };
        let from = current.get_str("role").ok().and_then(Role::parse).ok_or_else(|| corrupt("membership role"))?;
        let demoting = from == Role::Owner && to != Some(Role::Owner);
        if demoting {
            // Without transactions, the tenant document keeps the list of its
            // owners: one conditional write takes this owner off it only while
            // another remains, so of two simultaneous demotions one fails.
            self.ensure_owner_list(t).await?;
            let mut taken = false;
            for _ in 0..2 {
                let pulled = self
                    .tenants
                    .update_one(
                        doc! {"_id": t, "owners": u, "owners.1": {"$exists": true}},
                        doc! {"$pull": {"owners": u}},
                    )
                    .await
                    .map_err(map_err)?;
                if pulled.modified_count == 1 {
                    taken = true;
                    break;
                }
                let listed = self.tenants.find_one(doc! {"_id": t, "owners": u}).await.map_err(map_err)?.is_some();
                let still_owner = self
                    .memberships
                    .find_one(doc! {"tenantId": t, "userId": u, "role": Role::Owner.as_str()})
                    .await
                    .map_err(map_err)?
                    .is_some();
                if listed || !still_owner {
                    break;
                }
                // An owner missing from the list (a change that died half-way): put it back, try once more.
                self.tenants.update_one(doc! {"_id": t}, doc! {"$addToSet": {"owners": u}}).await.map_err(map_err)?;
            }
            if !taken {
                return Ok(MembershipChange::LastOwner);
            }
        }
        // The membership changes only if it is still what was read.
        let mut still = key.clone();
        still.insert("role", from.as_str());
        let changed = match to {
            Some(role) => {
                self.memberships
                    .update_one(still, doc! {"$set": {"role": role.as_str()}})
                    .await
                    .map_err(map_err)?
                    .matched_count
            }
            None => self.memberships.delete_one(still).await.map_err(map_err)?.deleted_count,
        };
        if changed == 0 {
            if demoting {
                // Undo: it is an owner again on the list only if its membership says so.
                let owner_now = self
                    .memberships
                    .find_one(doc! {"tenantId": t, "userId": u, "role": Role::Owner.as_str()})
                    .await
                    .map_err(map_err)?
                    .is_some();
                if owner_now {
                    self.tenants
                        .update_one(doc! {"_id": t}, doc! {"$addToSet": {"owners": u}})
                        .await
                        .map_err(map_err)?;
                }
            }
            return Ok(MembershipChange::Concurrent);
        }
        if to == Some(Role::Owner) {
            self.ensure_owner_list(t).await?;
            self.tenants.update_one(doc! {"_id": t}, doc! {"$addToSet": {"owners": u}}).await.map_err(map_err)?;
        }
        Ok(MembershipChange::Changed { from })
    }

    async fn memberships_of_user(&self, user_id: &str) -> StoreResult<Vec<Membership>> {
        let Ok(id) = ObjectId::parse_str(user_id) else {
            return Ok(Vec::new());
        };
        self.find_memberships(doc! {"userId": id}, doc! {"createdAt": 1, "tenantId": 1}).await
    }

    async fn memberships_of_tenant(&self, tenant_id: &str) -> StoreResult<Vec<Membership>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        self.find_memberships(doc! {"tenantId": id}, doc! {"createdAt": 1, "userId": 1}).await
    }

    async fn delete_membership(&self, tenant_id: &str, user_id: &str) -> StoreResult<bool> {
        let (Ok(t), Ok(u)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(user_id)) else {
            return Ok(false);
        };
        let deleted = self.memberships.delete_one(doc! {"tenantId": t, "userId": u}).await.map_err(map_err)?;
        Ok(deleted.deleted_count > 0)
    }

    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        self.sessions.insert_one(session_doc(session)?).await.map(|_| ()).map_err(map_err)
    }

    async fn get_session(&self, token_hash: &str, now: &str) -> StoreResult<Option<Session>> {
        let found = self
            .sessions
            .find_one(doc! {"_id": token_hash, "expiresAt": {"$gt": to_date(now)?}})
            .await
            .map_err(map_err)?;
        found.as_ref().map(session_from).transpose()
    }

    async fn touch_session(&self, token_hash: &str, last_seen_at: &str, idle_expires_at: &str) -> StoreResult<bool> {
        self.sessions
            .update_one(
                doc! {"_id": token_hash, "revokedAt": Bson::Null},
                doc! {"$set": {"lastSeenAt": to_date(last_seen_at)?, "idleExpiresAt": to_date(idle_expires_at)?}},
            )
            .await
            .map(|r| r.matched_count > 0)
            .map_err(map_err)
    }

    async fn revoke_session(&self, token_hash: &str, at: &str) -> StoreResult<bool> {
        self.sessions
            .update_one(doc! {"_id": token_hash, "revokedAt": Bson::Null}, doc! {"$set": {"revokedAt": to_date(at)?}})
            .await
            .map(|r| r.modified_count > 0)
            .map_err(map_err)
    }

    async fn revoke_user_sessions(&self, user_id: &str, at: &str) -> StoreResult<u64> {
        let Ok(id) = ObjectId::parse_str(user_id) else {
            return Ok(0);
        };
        self.sessions
            .update_many(doc! {"userId": id, "revokedAt": Bson::Null}, doc! {"$set": {"revokedAt": to_date(at)?}})
            .await
            .map(|r| r.modified_count)
            .map_err(map_err)
    }

    async fn purge_sessions(&self, now: &str) -> StoreResult<u64> {
        self.sessions
            .delete_many(doc! {"expiresAt": {"$lte": to_date(now)?}})
            .await
            .map(|r| r.deleted_count)
            .map_err(map_err)
    }

    async fn insert_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        self.api_keys.insert_one(api_key_doc(key)?).await.map(|_| ()).map_err(map_err)
    }

    async fn get_api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<ApiKey>> {
        let found = self.api_keys.find_one(doc! {"prefix": prefix}).await.map_err(map_err)?;
        found.as_ref().map(api_key_from).transpose()
    }

    async fn list_api_keys(&self, tenant_id: &str) -> StoreResult<Vec<ApiKeyInfo>> {
        let Ok(id) = ObjectId::parse_str(tenant_id) else {
            return Ok(Vec::new());
        };
        let docs = Self::find_latest(&self.api_keys, doc! {"tenantId": id}, u32::MAX).await?;
        docs.iter().map(|d| api_key_from(d).map(|k| k.info)).collect()
    }

    async fn revoke_api_key(&self, tenant_id: &str, id: &str, at: &str) -> StoreResult<bool> {
        let (Ok(t), Ok(k)) = (ObjectId::parse_str(tenant_id), ObjectId::parse_str(id)) else {
            return Ok(false);
        };
        self.api_keys
            .update_one(
                doc! {"_id": k, "tenantId": t, "revokedAt": Bson::Null},
                doc! {"$set": {"revokedAt": to_date(at)?}},
            )
            .await
            .map(|r| r.modified_count > 0)
            .map_err(map_err)
    }

    async fn touch_api_key(&self, id: &str, at: &str) -> StoreResult<()> {
        let Ok(k) = ObjectId::parse_str(id) else {
            return Ok(());
        };
        self.api_keys
            .update_one(doc! {"_id": k}, doc! {"$set": {"lastUsedAt": to_date(at)?}})
            .await
            .map(|_| ())
            .map_err(map_err)
    }
}
