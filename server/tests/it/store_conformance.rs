//! One conformance suite, written once and run against every store: the
//! embedded SQLite store and MongoDB (SecantusDB, a real wire-protocol server).

use std::sync::Arc;

use app::models::{ActivityEntry, Notification, NotificationType, Order, OrderItem, OrderStatus, Priority};
use server::{
    ids,
    store::{mongo::MongoStore, sqlite::SqliteStore, CreateOrder, Store, StoreError, Tenant},
};

use crate::mongo_server::fresh_mongo_uri;

const DAY: std::time::Duration = std::time::Duration::from_secs(86_400);

/// A store under test and whatever keeps its backing alive.
pub struct Subject {
    pub store: Arc<dyn Store>,
    _keep: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> Subject {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("s.sqlite3")).await.unwrap();
    Subject { store: Arc::new(store), _keep: Some(dir) }
}

pub async fn mongo() -> Subject {
    let wc = server::store::mongo::parse_write_concern(None).unwrap();
    let store = MongoStore::connect(&fresh_mongo_uri(), wc, DAY).await.expect("connect to SecantusDB");
    Subject { store: Arc::new(store), _keep: None }
}

fn tenant(name: &str) -> Tenant {
    Tenant {
        id: ids::new_id(),
        name: name.into(),
        slug: format!("{name}-{}", ids::new_id()),
        webhook_secret_sealed: format!("v1.sealed-{name}"),
        webhook_settings: Default::default(),
        created_at: ids::now_rfc3339(),
    }
}

fn order(tenant_id: &str, number: &str) -> Order {
    let now = ids::now_rfc3339();
    Order {
        id: ids::new_id(),
        tenant_id: tenant_id.into(),
        order_number: number.into(),
        customer_name: Some("Ada".into()),
        customer_email: Some("ada@example.com".into()),
        amount_minor: 9999,
        currency: "USD".into(),
        status: OrderStatus::Paid,
        payment_status: app::models::PaymentStatus::Paid,
        payment_id: Some("pay_123".into()),
        items: vec![OrderItem { product_id: Some("p1".into()), product_name: None, quantity: 2, price_minor: 4999 }],
        metadata: serde_json::json!({"source": "test", "nested": {"n": 1}}),
        created_at: now.clone(),
        updated_at: now,
    }
}

fn notification(o: &Order) -> Notification {
    Notification {
        id: ids::new_id(),
        tenant_id: o.tenant_id.clone(),
        user_id: None,
        title: format!("New order {}", o.order_number),
        message: "m".into(),
        kind: NotificationType::Success,
        priority: Priority::High,
        action_url: Some("/orders".into()),
        action_text: Some("Open".into()),
        metadata: serde_json::json!({"orderId": o.id}),
        is_read: false,
        is_dismissed: false,
        read_at: None,
        delivered_at: None,
        created_at: o.created_at.clone(),
    }
}

fn activity(o: &Order) -> ActivityEntry {
    ActivityEntry {
        id: ids::new_id(),
        tenant_id: o.tenant_id.clone(),
        actor: "webhook:orders".into(),
        action: "order.created".into(),
        entity: "order".into(),
        entity_id: o.id.clone(),
        details: serde_json::json!({"orderNumber": o.order_number}),
        source_ip: Some("127.0.0.1".into()),
        created_at: o.created_at.clone(),
    }
}

pub async fn order_activity_is_recorded_once_per_order(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let o = order(&a.id, "ACT-1");
    let entry = activity(&o);
    s.store.create_order(&o, &notification(&o), &entry).await.unwrap();
    let again = order(&a.id, "ACT-1");
    s.store.create_order(&again, &notification(&again), &activity(&again)).await.unwrap();
    assert_eq!(s.store.list_activity(&a.id, 10).await.unwrap(), vec![entry], "every field round-trips, once");
    assert!(s.store.list_activity(&b.id, 10).await.unwrap().is_empty());
}

pub async fn webhook_settings_default_and_update(s: Subject) {
    let t = tenant("acme");
    s.store.insert_tenant(&t).await.unwrap();
    let stored = s.store.get_tenant(&t.id).await.unwrap().unwrap();
    assert_eq!(stored.webhook_settings, app::models::WebhookSettings::default());
    let mut settings = stored.webhook_settings;
    settings.webhook_enabled = false;
    settings.webhook_endpoints.payments = false;
    settings.webhook_retry_attempts = 7;
    settings.webhook_timeout_ms = 120_000;
    assert!(s.store.update_webhook_settings(&t.id, &settings).await.unwrap());
    assert_eq!(s.store.get_tenant(&t.id).await.unwrap().unwrap().webhook_settings, settings);
    assert!(!s.store.update_webhook_settings(&ids::new_id(), &settings).await.unwrap());
    let other = tenant("other");
    s.store.insert_tenant(&other).await.unwrap();
    assert_eq!(s.store.get_tenant(&other.id).await.unwrap().unwrap().webhook_settings, Default::default());
}

pub async fn webhook_events_are_logged_listed_and_purged(s: Subject) {
    let a = tenant("a");
    s.store.insert_tenant(&a).await.unwrap();
    let event = |tenant: Option<&str>, at: &str, outcome: &str| app::models::WebhookEvent {
        id: ids::new_id(),
        tenant_id: tenant.map(str::to_owned),
        endpoint: "orders".into(),
        verified: outcome != "rejected",
        outcome: outcome.into(),
        status_code: if outcome == "rejected" { 401 } else { 201 },
        reason: (outcome == "rejected").then(|| "Webhook signature missing or invalid".into()),
        latency_ms: 3,
        body: r#"{"tenantId":"x"}"#.into(),
        body_truncated: false,
        source_ip: Some("127.0.0.1".into()),
        received_at: at.into(),
    };
    let old = event(Some(&a.id), "2026-01-01T00:00:00.000Z", "accepted");
    let new = event(Some(&a.id), "2026-06-01T00:00:00.000Z", "rejected");
    let anonymous = event(None, "2026-01-01T00:00:00.000Z", "rejected");
    for e in [&old, &new, &anonymous] {
        s.store.record_webhook_event(e).await.unwrap();
    }
    assert_eq!(s.store.list_webhook_events(&a.id, 10).await.unwrap(), vec![new.clone(), old.clone()]);
    assert_eq!(s.store.list_webhook_events(&a.id, 1).await.unwrap(), vec![new.clone()]);
    assert!(s.store.list_webhook_events(&ids::new_id(), 10).await.unwrap().is_empty());
    assert_eq!(s.store.purge_webhook_events("2026-03-01T00:00:00.000Z").await.unwrap(), 2);
    assert_eq!(s.store.list_webhook_events(&a.id, 10).await.unwrap(), vec![new]);
}

pub async fn ping_answers(s: Subject) {
    s.store.ping().await.unwrap();
    assert!(["sqlite", "mongodb"].contains(&s.store.kind()));
}

pub async fn tenants_round_trip_and_slugs_are_unique(s: Subject) {
    let t = tenant("acme");
    s.store.insert_tenant(&t).await.unwrap();
    assert_eq!(s.store.get_tenant(&t.id).await.unwrap(), Some(t.clone()));
    assert_eq!(s.store.get_tenant_by_slug(&t.slug).await.unwrap(), Some(t.clone()));
    assert_eq!(s.store.get_tenant(&ids::new_id()).await.unwrap(), None);
    assert_eq!(s.store.get_tenant("not-an-id").await.unwrap(), None);
    assert_eq!(s.store.get_tenant_by_slug("nope").await.unwrap(), None);
    let mut same_slug = tenant("other");
    same_slug.slug = t.slug.clone();
    assert!(matches!(s.store.insert_tenant(&same_slug).await, Err(StoreError::Conflict(_))));
    assert!(matches!(s.store.insert_tenant(&t).await, Err(StoreError::Conflict(_))));
}

pub async fn orders_create_their_notification_once(s: Subject) {
    let t = tenant("acme");
    s.store.insert_tenant(&t).await.unwrap();
    let o = order(&t.id, "ORD-1");
    let n = notification(&o);
    assert_eq!(s.store.create_order(&o, &n, &activity(&o)).await.unwrap(), CreateOrder::Created);
    assert_eq!(s.store.unread_count(&t.id).await.unwrap(), 1);
    let latest = s.store.latest_notifications(&t.id, 10).await.unwrap();
    assert_eq!(latest, vec![n.clone()], "every notification field round-trips");
    assert_eq!(s.store.get_order(&t.id, &o.id).await.unwrap(), Some(o.clone()), "every order field round-trips");
    assert_eq!(s.store.get_order_by_number(&t.id, "ORD-1").await.unwrap(), Some(o.clone()));
    let other = tenant("other");
    s.store.insert_tenant(&other).await.unwrap();
    assert_eq!(s.store.get_order(&other.id, &o.id).await.unwrap(), None, "scoped by tenant");
    assert_eq!(s.store.get_order_by_number(&other.id, "ORD-1").await.unwrap(), None);
    assert_eq!(s.store.get_order(&t.id, "nope").await.unwrap(), None);

    // Same order number again: nothing new, and the first order's id comes back.
    let again = order(&t.id, "ORD-1");
    let outcome = s.store.create_order(&again, &notification(&again), &activity(&again)).await.unwrap();
    assert_eq!(outcome, CreateOrder::Duplicate { existing_order_id: o.id.clone() });
    assert_eq!(s.store.unread_count(&t.id).await.unwrap(), 1);
    assert_eq!(s.store.latest_notifications(&t.id, 10).await.unwrap().len(), 1);
}

pub async fn order_numbers_are_unique_per_tenant_only(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let oa = order(&a.id, "SAME");
    let ob = order(&b.id, "SAME");
    assert_eq!(s.store.create_order(&oa, &notification(&oa), &activity(&oa)).await.unwrap(), CreateOrder::Created);
    assert_eq!(s.store.create_order(&ob, &notification(&ob), &activity(&ob)).await.unwrap(), CreateOrder::Created);
}

pub async fn queries_never_cross_tenants(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    for i in 0..3 {
        let o = order(&a.id, &format!("A-{i}"));
        s.store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap();
    }
    let o = order(&b.id, "B-0");
    s.store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap();
    assert_eq!(s.store.unread_count(&a.id).await.unwrap(), 3);
    assert_eq!(s.store.unread_count(&b.id).await.unwrap(), 1);
    let latest_b = s.store.latest_notifications(&b.id, 50).await.unwrap();
    assert_eq!(latest_b.len(), 1);
    assert!(latest_b.iter().all(|n| n.tenant_id == b.id));
    assert!(s.store.latest_notifications(&a.id, 50).await.unwrap().iter().all(|n| n.tenant_id == a.id));
    assert_eq!(s.store.unread_count(&ids::new_id()).await.unwrap(), 0);
}

pub async fn latest_is_newest_first_and_limited(s: Subject) {
    let t = tenant("acme");
    s.store.insert_tenant(&t).await.unwrap();
    for i in 0..5 {
        let mut o = order(&t.id, &format!("N-{i}"));
        o.created_at = format!("2026-01-01T00:00:0{i}.000Z");
        s.store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap();
    }
    let latest = s.store.latest_notifications(&t.id, 3).await.unwrap();
    let titles: Vec<&str> = latest.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(titles, ["New order N-4", "New order N-3", "New order N-2"]);
}

pub async fn concurrent_writers_of_one_order_number_store_it_once(s: Subject) {
    let t = tenant("acme");
    s.store.insert_tenant(&t).await.unwrap();
    let mut handles = Vec::new();
    for _ in 0..8 {
        let store = s.store.clone();
        let tid = t.id.clone();
        handles.push(tokio::spawn(async move {
            let o = order(&tid, "RACE");
            store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap()
        }));
    }
    let mut created = 0;
    for h in handles {
        if h.await.unwrap() == CreateOrder::Created {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    assert_eq!(s.store.unread_count(&t.id).await.unwrap(), 1);
    // Distinct numbers from many writers all land.
    let mut handles = Vec::new();
    for i in 0..16 {
        let store = s.store.clone();
        let tid = t.id.clone();
        handles.push(tokio::spawn(async move {
            let o = order(&tid, &format!("C-{i}"));
            store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap()
        }));
    }
    for h in handles {
        assert_eq!(h.await.unwrap(), CreateOrder::Created);
    }
    assert_eq!(s.store.unread_count(&t.id).await.unwrap(), 17);
}

pub async fn bulk_insert_and_mark_all_read(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let o = order(&a.id, "X");
    let batch: Vec<Notification> = (0..25)
        .map(|i| {
            let mut n = notification(&o);
            n.id = ids::new_id();
            n.title = format!("bulk {i}");
            n
        })
        .collect();
    s.store.insert_notifications(&batch).await.unwrap();
    s.store.insert_notifications(&[]).await.unwrap();
    let ob = order(&b.id, "Y");
    s.store.create_order(&ob, &notification(&ob), &activity(&ob)).await.unwrap();
    // A notification for one user does not count tenant-wide.
    let mut personal = notification(&o);
    personal.id = ids::new_id();
    personal.user_id = Some("user-1".into());
    s.store.insert_notifications(&[personal]).await.unwrap();
    assert_eq!(s.store.unread_count(&a.id).await.unwrap(), 25);

    let at = "2026-02-03T04:05:06.789Z";
    assert_eq!(s.store.mark_all_read(&a.id, at).await.unwrap(), 25);
    assert_eq!(s.store.unread_count(&a.id).await.unwrap(), 0);
    assert_eq!(s.store.mark_all_read(&a.id, at).await.unwrap(), 0, "idempotent");
    assert_eq!(s.store.unread_count(&b.id).await.unwrap(), 1, "other tenants untouched");
    let latest = s.store.latest_notifications(&a.id, 50).await.unwrap();
    let tenant_wide: Vec<_> = latest.iter().filter(|n| n.user_id.is_none()).collect();
    assert_eq!(tenant_wide.len(), 25);
    assert!(tenant_wide.iter().all(|n| n.is_read && n.read_at.as_deref() == Some(at)));
    assert!(latest.iter().any(|n| n.user_id.is_some() && !n.is_read), "personal stays unread");
}

/// Runs every conformance case against every store.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() { super::$case(super::sqlite().await).await }
            )*
        }
        mod mongo_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() { super::$case(super::mongo().await).await }
            )*
        }
    };
}

conformance!(
    ping_answers,
    tenants_round_trip_and_slugs_are_unique,
    orders_create_their_notification_once,
    order_numbers_are_unique_per_tenant_only,
    queries_never_cross_tenants,
    latest_is_newest_first_and_limited,
    concurrent_writers_of_one_order_number_store_it_once,
    bulk_insert_and_mark_all_read,
    order_activity_is_recorded_once_per_order,
    webhook_settings_default_and_update,
    webhook_events_are_logged_listed_and_purged,
);

/// MongoDB has no transactions: a crash between the order and its
/// notification is repaired by the retry, which writes nothing twice.
#[tokio::test]
async fn mongo_retry_after_a_crash_completes_the_missing_notification() {
    let uri = fresh_mongo_uri();
    let wc = server::store::mongo::parse_write_concern(None).unwrap();
    let store = MongoStore::connect(&uri, wc, DAY).await.unwrap();
    let t = tenant("acme");
    store.insert_tenant(&t).await.unwrap();
    let o = order(&t.id, "CRASH-1");
    assert_eq!(store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap(), CreateOrder::Created);

    // Simulate the crash: the notification write never happened.
    let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
    let db = client.default_database().unwrap();
    let notifications = db.collection::<mongodb::bson::Document>("notifications");
    notifications.delete_many(mongodb::bson::doc! {}).await.unwrap();
    db.collection::<mongodb::bson::Document>("activity_log").delete_many(mongodb::bson::doc! {}).await.unwrap();
    assert_eq!(store.unread_count(&t.id).await.unwrap(), 0);

    // The sender retries: the order is not duplicated, the notification is back, once.
    let retry = order(&t.id, "CRASH-1");
    let outcome = store.create_order(&retry, &notification(&retry), &activity(&retry)).await.unwrap();
    assert_eq!(outcome, CreateOrder::Duplicate { existing_order_id: o.id.clone() });
    assert_eq!(store.unread_count(&t.id).await.unwrap(), 1);
    let latest = store.latest_notifications(&t.id, 10).await.unwrap();
    assert_eq!(latest[0].metadata["orderId"], o.id.as_str());
    let trail = store.list_activity(&t.id, 10).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].entity_id, o.id);
    store.create_order(&retry, &notification(&retry), &activity(&retry)).await.unwrap();
    assert_eq!(store.unread_count(&t.id).await.unwrap(), 1);
    assert_eq!(
        db.collection::<mongodb::bson::Document>("orders").count_documents(mongodb::bson::doc! {}).await.unwrap(),
        1
    );
}

/// SQLite enforces the audit trail's append-only rule itself.
#[tokio::test]
async fn sqlite_activity_log_refuses_updates_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sqlite3");
    let store = SqliteStore::open(&path).await.unwrap();
    let t = tenant("acme");
    store.insert_tenant(&t).await.unwrap();
    let o = order(&t.id, "AO-1");
    store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let update = conn.execute("UPDATE activity_log SET action = 'forged'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = conn.execute("DELETE FROM activity_log", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(store.list_activity(&t.id, 10).await.unwrap().len(), 1);
}
