//! One conformance suite, written once and run against every store: the
//! embedded SQLite store and MongoDB (SecantusDB, a real wire-protocol server).

use std::sync::Arc;

use app::models::{
    ActivityEntry, ApiKeyInfo, Notification, NotificationFilter, NotificationPatch, NotificationType, Order, OrderItem,
    OrderStatus, PageCursor, Priority, Role,
};
use server::{
    ids,
    store::{
        mongo::MongoStore, sqlite::SqliteStore, ApiKey, CreateOrder, Membership, Session, Store, StoreError, Tenant,
        User,
    },
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

/// The seed's default list: tenant-wide, read included, dismissed excluded.
fn all() -> NotificationFilter {
    NotificationFilter::default()
}

fn tenant(name: &str) -> Tenant {
    Tenant {
        id: ids::new_id(),
        name: name.into(),
        slug: format!("{name}-{}", ids::new_id()),
        webhook_secret_sealed: format!("v1.sealed-{name}"),
        webhook_settings: Default::default(),
        previous_secret: None,
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
        response: (outcome != "rejected").then(|| serde_json::json!({"success": true, "orderId": "x"})),
        withheld: false,
    };
    let old = event(Some(&a.id), "2026-01-01T00:00:00.000Z", "accepted");
    let new = event(Some(&a.id), "2026-06-01T00:00:00.000Z", "rejected");
    let anonymous = event(None, "2026-01-01T00:00:00.000Z", "rejected");
    for e in [&old, &new, &anonymous] {
        s.store.record_webhook_event(e).await.unwrap();
    }
    assert_eq!(
        s.store.list_webhook_events(&a.id, &Default::default(), None, 10).await.unwrap(),
        vec![new.clone(), old.clone()]
    );
    assert_eq!(s.store.list_webhook_events(&a.id, &Default::default(), None, 1).await.unwrap(), vec![new.clone()]);
    assert!(s.store.list_webhook_events(&ids::new_id(), &Default::default(), None, 10).await.unwrap().is_empty());
    assert_eq!(s.store.get_webhook_event(&a.id, &old.id).await.unwrap(), Some(old.clone()));
    assert_eq!(s.store.get_webhook_event(&ids::new_id(), &old.id).await.unwrap(), None, "scoped by tenant");
    let rejected = app::models::WebhookEventFilter { outcome: Some("rejected".into()), ..Default::default() };
    assert_eq!(s.store.list_webhook_events(&a.id, &rejected, None, 10).await.unwrap(), vec![new.clone()]);
    let payments = app::models::WebhookEventFilter { endpoint: Some("payments".into()), ..Default::default() };
    assert!(s.store.list_webhook_events(&a.id, &payments, None, 10).await.unwrap().is_empty());
    let after_new = PageCursor { created_at: new.received_at.clone(), id: new.id.clone() };
    let page2 = s.store.list_webhook_events(&a.id, &Default::default(), Some(&after_new), 10).await.unwrap();
    assert_eq!(page2, vec![old.clone()]);
    assert_eq!(s.store.purge_webhook_events("2026-03-01T00:00:00.000Z").await.unwrap(), 2);
    assert_eq!(s.store.list_webhook_events(&a.id, &Default::default(), None, 10).await.unwrap(), vec![new]);
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
    assert_eq!(s.store.unread_count(&t.id, None).await.unwrap(), 1);
    let latest = s.store.list_notifications(&t.id, &all(), None, 10).await.unwrap();
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
    assert_eq!(s.store.unread_count(&t.id, None).await.unwrap(), 1);
    assert_eq!(s.store.list_notifications(&t.id, &all(), None, 10).await.unwrap().len(), 1);
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
    assert_eq!(s.store.unread_count(&a.id, None).await.unwrap(), 3);
    assert_eq!(s.store.unread_count(&b.id, None).await.unwrap(), 1);
    let latest_b = s.store.list_notifications(&b.id, &all(), None, 50).await.unwrap();
    assert_eq!(latest_b.len(), 1);
    assert!(latest_b.iter().all(|n| n.tenant_id == b.id));
    assert!(s.store.list_notifications(&a.id, &all(), None, 50).await.unwrap().iter().all(|n| n.tenant_id == a.id));
    assert_eq!(s.store.unread_count(&ids::new_id(), None).await.unwrap(), 0);
}

pub async fn latest_is_newest_first_and_limited(s: Subject) {
    let t = tenant("acme");
    s.store.insert_tenant(&t).await.unwrap();
    for i in 0..5 {
        let mut o = order(&t.id, &format!("N-{i}"));
        o.created_at = format!("2026-01-01T00:00:0{i}.000Z");
        s.store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap();
    }
    let latest = s.store.list_notifications(&t.id, &all(), None, 3).await.unwrap();
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
    assert_eq!(s.store.unread_count(&t.id, None).await.unwrap(), 1);
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
    assert_eq!(s.store.unread_count(&t.id, None).await.unwrap(), 17);
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
    assert_eq!(s.store.unread_count(&a.id, None).await.unwrap(), 25);

    let at = "2026-02-03T04:05:06.789Z";
    assert_eq!(s.store.mark_all_read(&a.id, None, at).await.unwrap(), 25);
    assert_eq!(s.store.unread_count(&a.id, None).await.unwrap(), 0);
    assert_eq!(s.store.mark_all_read(&a.id, None, at).await.unwrap(), 0, "idempotent");
    assert_eq!(s.store.unread_count(&b.id, None).await.unwrap(), 1, "other tenants untouched");
    let viewer = NotificationFilter { user_id: Some("user-1".into()), ..all() };
    let latest = s.store.list_notifications(&a.id, &viewer, None, 50).await.unwrap();
    let tenant_wide: Vec<_> = latest.iter().filter(|n| n.user_id.is_none()).collect();
    assert_eq!(tenant_wide.len(), 25);
    assert!(tenant_wide.iter().all(|n| n.is_read && n.read_at.as_deref() == Some(at)));
    assert!(latest.iter().any(|n| n.user_id.is_some() && !n.is_read), "personal stays unread");
}

/// A notification of tenant `t` at `at`, with the given state.
fn note(t: &str, at: &str, kind: NotificationType, priority: Priority, user: Option<&str>) -> Notification {
    Notification {
        id: ids::new_id(),
        tenant_id: t.into(),
        user_id: user.map(str::to_owned),
        title: format!("{} {}", kind.as_str(), at),
        message: "m".into(),
        kind,
        priority,
        action_url: None,
        action_text: None,
        metadata: serde_json::json!({}),
        is_read: false,
        is_dismissed: false,
        read_at: None,
        delivered_at: None,
        created_at: at.into(),
    }
}

fn ids_of(list: &[Notification]) -> Vec<&str> {
    list.iter().map(|n| n.id.as_str()).collect()
}

pub async fn notifications_filter_and_paginate(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    use NotificationType::*;
    use Priority::*;
    let mut rows = Vec::new();
    // Three share one timestamp, so the cursor must order by id within it.
    for (i, (kind, priority)) in
        [(Info, Low), (Error, Urgent), (Warning, High), (Info, Medium)].into_iter().cycle().take(12).enumerate()
    {
        let at = format!("2026-03-01T00:00:{:02}.000Z", if i < 3 { 0 } else { i });
        rows.push(note(&a.id, &at, kind, priority, None));
    }
    rows[4].is_read = true;
    rows[4].read_at = Some("2026-03-02T00:00:00.000Z".into());
    rows[5].is_dismissed = true;
    let mine = note(&a.id, "2026-03-01T00:00:30.000Z", Success, High, Some("u1"));
    let theirs = note(&a.id, "2026-03-01T00:00:31.000Z", Success, High, Some("u2"));
    let other_tenant = note(&b.id, "2026-03-01T00:00:40.000Z", Info, Low, None);
    let mut batch = rows.clone();
    batch.extend([mine.clone(), theirs.clone(), other_tenant]);
    s.store.insert_notifications(&batch).await.unwrap();

    let newest_first = |pred: &dyn Fn(&Notification) -> bool, extra: &[&Notification]| {
        let mut v: Vec<Notification> = rows.iter().filter(|n| pred(n)).cloned().collect();
        v.extend(extra.iter().map(|n| (*n).clone()));
        v.sort_by(|x, y| (&y.created_at, &y.id).cmp(&(&x.created_at, &x.id)));
        v
    };
    let list = |f: NotificationFilter| {
        let store = s.store.clone();
        let id = a.id.clone();
        async move { store.list_notifications(&id, &f, None, 100).await.unwrap() }
    };

    // Defaults: tenant-wide, dismissed hidden, newest first; personal ones only for their user.
    assert_eq!(list(all()).await, newest_first(&|n| !n.is_dismissed, &[]));
    let for_u1 = NotificationFilter { user_id: Some("u1".into()), ..all() };
    assert_eq!(list(for_u1.clone()).await, newest_first(&|n| !n.is_dismissed, &[&mine]));
    assert_eq!(list(NotificationFilter { include_dismissed: true, ..all() }).await, newest_first(&|_| true, &[]));
    assert_eq!(
        list(NotificationFilter { include_read: false, ..all() }).await,
        newest_first(&|n| !n.is_dismissed && !n.is_read, &[])
    );
    assert_eq!(
        list(NotificationFilter { kind: Some(Error), include_dismissed: true, ..all() }).await,
        newest_first(&|n| n.kind == Error, &[])
    );
    assert_eq!(
        list(NotificationFilter { priority: Some(High), user_id: Some("u2".into()), ..all() }).await,
        newest_first(&|n| n.priority == High && !n.is_dismissed, &[&theirs])
    );

    // Cursor pagination visits every row once, in order, across equal timestamps.
    let filter = NotificationFilter { include_dismissed: true, ..all() };
    let mut seen = Vec::new();
    let mut cursor: Option<PageCursor> = None;
    loop {
        let page = s.store.list_notifications(&a.id, &filter, cursor.as_ref(), 5).await.unwrap();
        assert!(page.len() <= 5);
        let Some(last) = page.last() else { break };
        cursor = Some(PageCursor::after(last));
        seen.extend(page);
    }
    assert_eq!(ids_of(&seen), ids_of(&newest_first(&|_| true, &[])));

    // Unread counts and mark-all-read follow the same visibility.
    let unread_wide = rows.iter().filter(|n| !n.is_read && !n.is_dismissed).count() as u64;
    assert_eq!(s.store.unread_count(&a.id, None).await.unwrap(), unread_wide);
    assert_eq!(s.store.unread_count(&a.id, Some("u1")).await.unwrap(), unread_wide + 1);
    let at = "2026-03-03T00:00:00.000Z";
    let unread_rows = rows.iter().filter(|n| !n.is_read).count() as u64;
    assert_eq!(s.store.mark_all_read(&a.id, Some("u1"), at).await.unwrap(), unread_rows + 1);
    assert_eq!(s.store.unread_count(&a.id, Some("u1")).await.unwrap(), 0);
    assert_eq!(s.store.unread_count(&a.id, Some("u2")).await.unwrap(), 1, "u2's own stays unread");
    assert_eq!(s.store.unread_count(&b.id, None).await.unwrap(), 1, "other tenant untouched");
}

pub async fn notifications_update_read_dismiss_and_delivery(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let n = note(&a.id, "2026-03-01T00:00:00.000Z", NotificationType::Info, Priority::Low, None);
    s.store.insert_notifications(std::slice::from_ref(&n)).await.unwrap();
    assert_eq!(s.store.get_notification(&a.id, &n.id).await.unwrap(), Some(n.clone()));
    assert_eq!(s.store.get_notification(&b.id, &n.id).await.unwrap(), None, "scoped by tenant");
    assert_eq!(s.store.get_notification(&a.id, "nope").await.unwrap(), None);

    let read = NotificationPatch { is_read: Some(true), is_dismissed: None };
    let t1 = "2026-03-01T00:01:00.000Z";
    let t2 = "2026-03-01T00:02:00.000Z";
    let got = s.store.update_notification(&a.id, &n.id, &read, t1).await.unwrap().unwrap();
    assert!(got.is_read && got.read_at.as_deref() == Some(t1) && !got.is_dismissed);
    let again = s.store.update_notification(&a.id, &n.id, &read, t2).await.unwrap().unwrap();
    assert_eq!(again.read_at.as_deref(), Some(t1), "reading again keeps the first read time");
    let unread = NotificationPatch { is_read: Some(false), is_dismissed: Some(true) };
    let got = s.store.update_notification(&a.id, &n.id, &unread, t2).await.unwrap().unwrap();
    assert!(!got.is_read && got.read_at.is_none() && got.is_dismissed);
    assert_eq!(s.store.update_notification(&a.id, &n.id, &NotificationPatch::default(), t2).await.unwrap(), Some(got));
    assert_eq!(s.store.update_notification(&b.id, &n.id, &read, t2).await.unwrap(), None, "other tenant: absent");
    assert_eq!(s.store.update_notification(&a.id, &ids::new_id(), &read, t2).await.unwrap(), None);
    assert!(!s.store.get_notification(&a.id, &n.id).await.unwrap().unwrap().is_read, "b's patch changed nothing");

    assert!(!s.store.mark_delivered(&b.id, &n.id, t1).await.unwrap());
    assert!(s.store.mark_delivered(&a.id, &n.id, t1).await.unwrap());
    assert!(!s.store.mark_delivered(&a.id, &n.id, t2).await.unwrap(), "first delivery wins");
    assert_eq!(s.store.get_notification(&a.id, &n.id).await.unwrap().unwrap().delivered_at.as_deref(), Some(t1));
}

fn user(email: &str) -> User {
    User {
        id: ids::new_id(),
        email: email.into(),
        name: "Ada Lovelace".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: ids::now_rfc3339(),
    }
}

pub async fn users_belong_to_tenants_with_roles(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let listed: Vec<String> = s.store.list_tenants().await.unwrap().into_iter().map(|t| t.id).collect();
    assert!(listed.contains(&a.id) && listed.contains(&b.id));

    let u = user("ada@example.com");
    s.store.insert_user(&u).await.unwrap();
    assert_eq!(s.store.get_user(&u.id).await.unwrap(), Some(u.clone()));
    assert_eq!(s.store.get_user_by_email("ADA@Example.com").await.unwrap(), Some(u.clone()), "case-insensitive");
    assert_eq!(s.store.get_user_by_email("bob@example.com").await.unwrap(), None);
    assert_eq!(s.store.get_user("nope").await.unwrap(), None);
    let dup = user("Ada@Example.COM");
    assert!(matches!(s.store.insert_user(&dup).await, Err(StoreError::Conflict(_))), "emails unique across case");

    let m = |t: &Tenant, role| Membership {
        tenant_id: t.id.clone(),
        user_id: u.id.clone(),
        role,
        created_at: "2026-03-01T00:00:00.000Z".into(),
    };
    s.store.set_membership(&m(&a, Role::Member)).await.unwrap();
    s.store.set_membership(&m(&a, Role::Admin)).await.unwrap();
    let mut in_b = m(&b, Role::Owner);
    in_b.created_at = "2026-03-02T00:00:00.000Z".into();
    s.store.set_membership(&in_b).await.unwrap();
    assert_eq!(s.store.memberships_of_user(&u.id).await.unwrap(), vec![m(&a, Role::Admin), in_b.clone()]);
    assert!(s.store.memberships_of_user(&ids::new_id()).await.unwrap().is_empty());

    // A tenant's members, oldest first; removing one leaves the others.
    let bob = user("bob@example.com");
    s.store.insert_user(&bob).await.unwrap();
    let bob_in_a =
        Membership { user_id: bob.id.clone(), created_at: "2026-03-03T00:00:00.000Z".into(), ..m(&a, Role::Member) };
    s.store.set_membership(&bob_in_a).await.unwrap();
    assert_eq!(s.store.memberships_of_tenant(&a.id).await.unwrap(), vec![m(&a, Role::Admin), bob_in_a.clone()]);
    assert!(s.store.delete_membership(&a.id, &u.id).await.unwrap());
    assert!(!s.store.delete_membership(&a.id, &u.id).await.unwrap(), "already gone");
    assert!(!s.store.delete_membership("nope", "nope").await.unwrap());
    assert_eq!(s.store.memberships_of_tenant(&a.id).await.unwrap(), vec![bob_in_a]);
    assert_eq!(s.store.memberships_of_user(&u.id).await.unwrap(), vec![in_b], "other tenants untouched");
    assert!(s.store.memberships_of_tenant(&ids::new_id()).await.unwrap().is_empty());
}

pub async fn sessions_expire_and_can_be_revoked(s: Subject) {
    let u = user("s@example.com");
    s.store.insert_user(&u).await.unwrap();
    let session = |hash: &str, expires: &str| Session {
        token_hash: hash.into(),
        user_id: u.id.clone(),
        created_at: "2026-03-01T00:00:00.000Z".into(),
        last_seen_at: "2026-03-01T00:00:00.000Z".into(),
        idle_expires_at: "2026-03-01T01:00:00.000Z".into(),
        expires_at: expires.into(),
        revoked_at: None,
        ip: Some("127.0.0.1".into()),
        user_agent: Some("test".into()),
    };
    // Expiries lie in the future of the wall clock, so MongoDB's TTL monitor leaves them be.
    let live = session(&"a".repeat(64), "2099-01-01T00:00:00.000Z");
    let old = session(&"b".repeat(64), "2098-01-01T00:00:00.000Z");
    s.store.insert_session(&live).await.unwrap();
    s.store.insert_session(&old).await.unwrap();
    assert!(matches!(s.store.insert_session(&live).await, Err(StoreError::Conflict(_))));

    let now = "2026-03-01T00:30:00.000Z";
    let got = s.store.get_session(&live.token_hash, now).await.unwrap().unwrap();
    assert_eq!(got, live, "every field round-trips");
    assert!(got.is_live(now));
    assert!(!got.is_live("2026-03-01T01:00:00.000Z"), "idle expiry");
    assert_eq!(
        s.store.get_session(&old.token_hash, "2098-01-01T00:00:00.000Z").await.unwrap(),
        None,
        "absolute expiry"
    );
    assert_eq!(s.store.get_session(&"c".repeat(64), now).await.unwrap(), None);

    assert!(s.store.touch_session(&live.token_hash, now, "2026-03-01T01:30:00.000Z").await.unwrap());
    let touched = s.store.get_session(&live.token_hash, now).await.unwrap().unwrap();
    assert_eq!((touched.last_seen_at.as_str(), touched.idle_expires_at.as_str()), (now, "2026-03-01T01:30:00.000Z"));
    assert!(s.store.revoke_session(&live.token_hash, now).await.unwrap());
    assert!(!s.store.revoke_session(&live.token_hash, now).await.unwrap(), "already revoked");
    assert!(!s.store.touch_session(&live.token_hash, now, "2099-01-01T00:00:00.000Z").await.unwrap());
    let revoked = s.store.get_session(&live.token_hash, now).await.unwrap().unwrap();
    assert!(!revoked.is_live(now) && revoked.revoked_at.as_deref() == Some(now));

    let third = session(&"d".repeat(64), "2099-01-01T00:00:00.000Z");
    s.store.insert_session(&third).await.unwrap();
    assert_eq!(s.store.revoke_user_sessions(&u.id, now).await.unwrap(), 2, "the old and the third");
    assert_eq!(s.store.purge_sessions("2098-06-01T00:00:00.000Z").await.unwrap(), 1, "only the expired one");
    assert!(s.store.get_session(&third.token_hash, now).await.unwrap().is_some());
}

pub async fn api_keys_are_found_by_prefix_listed_and_revoked(s: Subject) {
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let key = |t: &Tenant, prefix: &str, at: &str| ApiKey {
        info: ApiKeyInfo {
            id: ids::new_id(),
            tenant_id: t.id.clone(),
            name: format!("key {prefix}"),
            prefix: prefix.into(),
            role: Role::Admin,
            created_by: Some(ids::new_id()),
            created_at: at.into(),
            last_used_at: None,
            revoked_at: None,
        },
        key_hash: format!("{prefix:0>64}"),
    };
    let k1 = key(&a, "hb_00000001", "2026-03-01T00:00:00.000Z");
    let k2 = key(&a, "hb_00000002", "2026-03-02T00:00:00.000Z");
    let kb = key(&b, "hb_00000003", "2026-03-03T00:00:00.000Z");
    for k in [&k1, &k2, &kb] {
        s.store.insert_api_key(k).await.unwrap();
    }
    let same_prefix = key(&b, "hb_00000001", "2026-03-04T00:00:00.000Z");
    assert!(matches!(s.store.insert_api_key(&same_prefix).await, Err(StoreError::Conflict(_))));
    assert_eq!(s.store.get_api_key_by_prefix("hb_00000002").await.unwrap(), Some(k2.clone()));
    assert_eq!(s.store.get_api_key_by_prefix("hb_99999999").await.unwrap(), None);
    assert_eq!(s.store.list_api_keys(&a.id).await.unwrap(), vec![k2.info.clone(), k1.info.clone()]);
    assert_eq!(s.store.list_api_keys(&b.id).await.unwrap(), vec![kb.info.clone()]);

    let at = "2026-03-05T00:00:00.000Z";
    assert!(!s.store.revoke_api_key(&b.id, &k1.info.id, at).await.unwrap(), "another tenant's key");
    assert!(s.store.revoke_api_key(&a.id, &k1.info.id, at).await.unwrap());
    assert!(!s.store.revoke_api_key(&a.id, &k1.info.id, at).await.unwrap(), "already revoked");
    s.store.touch_api_key(&k2.info.id, at).await.unwrap();
    let listed = s.store.list_api_keys(&a.id).await.unwrap();
    assert_eq!(listed[0].last_used_at.as_deref(), Some(at));
    assert_eq!(listed[1].revoked_at.as_deref(), Some(at));
    assert!(s.store.get_api_key_by_prefix("hb_00000003").await.unwrap().unwrap().info.revoked_at.is_none());
}

pub async fn payments_move_once_along_their_states(s: Subject) {
    use app::models::PaymentStatus::*;
    use server::store::{PaymentApplied, PaymentChange};
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let mut o = order(&a.id, "P-1");
    o.payment_status = Pending;
    o.payment_id = None;
    s.store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap();
    let change = |tenant: &Tenant, from, to, pid: Option<&str>, announce: bool| PaymentChange {
        tenant_id: tenant.id.clone(),
        order_id: o.id.clone(),
        from,
        to,
        payment_id: pid.map(str::to_owned),
        at: "2026-03-01T00:00:00.000Z".into(),
        notification: announce.then(|| {
            let mut n = notification(&o);
            n.id = ids::new_id();
            n
        }),
        activity: ActivityEntry { id: ids::new_id(), action: "payment.updated".into(), ..activity(&o) },
    };
    let paid = change(&a, Pending, Paid, Some("pay_1"), false);
    assert_eq!(s.store.apply_payment(&paid).await.unwrap(), PaymentApplied::Applied);
    let stored = s.store.get_order(&a.id, &o.id).await.unwrap().unwrap();
    assert_eq!((stored.payment_status, stored.payment_id.as_deref()), (Paid, Some("pay_1")));
    assert_eq!(stored.updated_at, "2026-03-01T00:00:00.000Z");
    let again = change(&a, Pending, Paid, Some("pay_1"), false);
    assert_eq!(s.store.apply_payment(&again).await.unwrap(), PaymentApplied::AlreadyApplied);
    assert_eq!(
        s.store.apply_payment(&change(&a, Pending, Failed, None, true)).await.unwrap(),
        PaymentApplied::Conflict
    );
    assert_eq!(s.store.apply_payment(&change(&b, Pending, Paid, None, false)).await.unwrap(), PaymentApplied::Conflict);

    let before = s.store.unread_count(&a.id, None).await.unwrap();
    let refund = change(&a, Paid, Refunded, None, true);
    assert_eq!(s.store.apply_payment(&refund).await.unwrap(), PaymentApplied::Applied);
    assert_eq!(s.store.unread_count(&a.id, None).await.unwrap(), before + 1);
    let repeat = change(&a, Paid, Refunded, None, true);
    assert_eq!(s.store.apply_payment(&repeat).await.unwrap(), PaymentApplied::AlreadyApplied);
    assert_eq!(s.store.unread_count(&a.id, None).await.unwrap(), before + 1, "no second notification");
    let trail = s.store.list_activity(&a.id, 10).await.unwrap();
    assert_eq!(trail.iter().filter(|e| e.action == "payment.updated").count(), 2);
    assert_eq!(s.store.get_order(&a.id, &o.id).await.unwrap().unwrap().payment_id.as_deref(), Some("pay_1"));
}

pub async fn a_notification_and_its_audit_entry_are_stored_together(s: Subject) {
    let a = tenant("a");
    s.store.insert_tenant(&a).await.unwrap();
    let n = note(&a.id, "2026-03-01T00:00:00.000Z", NotificationType::Warning, Priority::Urgent, Some("u1"));
    let entry = ActivityEntry {
        id: ids::new_id(),
        tenant_id: a.id.clone(),
        actor: "webhook:notifications".into(),
        action: "notification.created".into(),
        entity: "notification".into(),
        entity_id: n.id.clone(),
        details: serde_json::json!({"title": n.title}),
        source_ip: None,
        created_at: n.created_at.clone(),
    };
    s.store.create_notification(&n, &entry).await.unwrap();
    assert_eq!(s.store.get_notification(&a.id, &n.id).await.unwrap(), Some(n));
    assert_eq!(s.store.list_activity(&a.id, 10).await.unwrap(), vec![entry]);
}

pub async fn processed_webhook_ids_are_remembered_once_per_tenant(s: Subject) {
    use server::store::ProcessedWebhook;
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let p = |t: &Tenant, id: &str, at: &str, n: u32| ProcessedWebhook {
        tenant_id: t.id.clone(),
        webhook_id: id.into(),
        endpoint: "orders".into(),
        status_code: 201,
        response: serde_json::json!({"success": true, "n": n}),
        received_at: at.into(),
    };
    let first = p(&a, "msg_1", "2026-03-01T00:00:00.000Z", 1);
    s.store.save_processed_webhook(&first).await.unwrap();
    s.store.save_processed_webhook(&p(&a, "msg_1", "2026-03-01T00:00:01.000Z", 2)).await.unwrap();
    assert_eq!(s.store.get_processed_webhook(&a.id, "msg_1").await.unwrap(), Some(first), "the first one wins");
    assert_eq!(s.store.get_processed_webhook(&b.id, "msg_1").await.unwrap(), None, "per tenant");
    assert_eq!(s.store.get_processed_webhook(&a.id, "msg_2").await.unwrap(), None);
    s.store.save_processed_webhook(&p(&a, "msg_3", "2026-03-05T00:00:00.000Z", 3)).await.unwrap();
    assert_eq!(s.store.purge_processed_webhooks("2026-03-02T00:00:00.000Z").await.unwrap(), 1);
    assert_eq!(s.store.get_processed_webhook(&a.id, "msg_1").await.unwrap(), None);
    assert!(s.store.get_processed_webhook(&a.id, "msg_3").await.unwrap().is_some());
}

pub async fn secrets_rotate_with_a_previous_one_and_activity_appends(s: Subject) {
    use server::store::PreviousSecret;
    let a = tenant("a");
    s.store.insert_tenant(&a).await.unwrap();
    let previous =
        PreviousSecret { sealed: a.webhook_secret_sealed.clone(), valid_until: "2099-01-01T00:00:00.000Z".into() };
    assert!(s.store.rotate_webhook_secret(&a.id, "v1.second", Some(&previous)).await.unwrap());
    let stored = s.store.get_tenant(&a.id).await.unwrap().unwrap();
    assert_eq!((stored.webhook_secret_sealed.as_str(), stored.previous_secret), ("v1.second", Some(previous)));
    assert!(s.store.rotate_webhook_secret(&a.id, "v1.third", None).await.unwrap());
    let stored = s.store.get_tenant(&a.id).await.unwrap().unwrap();
    assert_eq!((stored.webhook_secret_sealed.as_str(), stored.previous_secret), ("v1.third", None));
    assert!(!s.store.rotate_webhook_secret(&ids::new_id(), "v1.x", None).await.unwrap());

    let entry = ActivityEntry {
        id: ids::new_id(),
        tenant_id: a.id.clone(),
        actor: "api-key:k1".into(),
        action: "secret.rotated".into(),
        entity: "tenant".into(),
        entity_id: a.id.clone(),
        details: serde_json::json!({"graceSeconds": 60}),
        source_ip: Some("10.0.0.1".into()),
        created_at: "2026-03-01T00:00:00.000Z".into(),
    };
    s.store.append_activity(&entry).await.unwrap();
    assert_eq!(s.store.list_activity(&a.id, 10).await.unwrap(), vec![entry]);
}

pub async fn orders_are_listed_newest_first_and_counted_for_today(s: Subject) {
    use app::models::PaymentStatus::{self, *};
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let today = "2026-11-29T00:00:00.000Z";
    let place = |t: &Tenant, number: &str, at: &str, currency: &str, minor: i64, payment: PaymentStatus| {
        let mut o = order(&t.id, number);
        (o.created_at, o.updated_at) = (at.into(), at.into());
        (o.currency, o.amount_minor, o.payment_status) = (currency.into(), minor, payment);
        o
    };
    let orders = [
        place(&a, "K-0", "2026-11-28T23:59:59.999Z", "USD", 100_000, Paid),
        place(&a, "K-1", today, "USD", 1_050, Paid),
        place(&a, "K-2", "2026-11-29T08:00:00.000Z", "USD", 2_500, Pending),
        place(&a, "K-3", "2026-11-29T09:00:00.000Z", "EUR", 4_000, Paid),
        place(&a, "K-4", "2026-11-29T10:00:00.000Z", "USD", 700, Failed),
        place(&a, "K-5", "2026-11-29T11:00:00.000Z", "USD", 950, Paid),
        place(&b, "K-6", "2026-11-29T12:00:00.000Z", "USD", 99_900, Paid),
    ];
    for o in &orders {
        s.store.create_order(o, &notification(o), &activity(o)).await.unwrap();
    }

    let recent = s.store.list_orders(&a.id, 3).await.unwrap();
    let numbers: Vec<&str> = recent.iter().map(|o| o.order_number.as_str()).collect();
    assert_eq!(numbers, ["K-5", "K-4", "K-3"], "newest first, limited, tenant's own");
    assert_eq!(recent[0], orders[5], "every field round-trips");
    assert_eq!(s.store.list_orders(&a.id, 100).await.unwrap().len(), 6);

    let stats = s.store.order_stats(&a.id, today).await.unwrap();
    assert_eq!((stats.orders, stats.paid, stats.pending), (5, 3, 1), "midnight counts, the day before does not");
    let revenue: Vec<(&str, i64)> = stats.revenue.iter().map(|t| (t.currency.as_str(), t.amount_minor)).collect();
    assert_eq!(revenue, [("EUR", 4_000), ("USD", 2_000)], "paid orders only, per currency");

    // A payment moves the pending order into the paid figures.
    let paid = server::store::PaymentChange {
        tenant_id: a.id.clone(),
        order_id: orders[2].id.clone(),
        from: Pending,
        to: Paid,
        payment_id: None,
        at: "2026-11-29T13:00:00.000Z".into(),
        notification: None,
        activity: ActivityEntry { id: ids::new_id(), action: "payment.updated".into(), ..activity(&orders[2]) },
    };
    s.store.apply_payment(&paid).await.unwrap();
    let stats = s.store.order_stats(&a.id, today).await.unwrap();
    assert_eq!((stats.orders, stats.paid, stats.pending), (5, 4, 0));
    assert_eq!(stats.revenue[0].amount_minor, 4_500, "USD now leads: {:?}", stats.revenue);

    let other = s.store.order_stats(&b.id, today).await.unwrap();
    assert_eq!((other.orders, other.paid), (1, 1), "another tenant's orders never count");
    let later = s.store.order_stats(&a.id, "2026-11-30T00:00:00.000Z").await.unwrap();
    assert_eq!(later, app::models::OrderStats::default(), "no orders yet: zeros, no currencies");
    assert!(s.store.list_orders(&ids::new_id(), 10).await.unwrap().is_empty());
}

/// pending → failed → pending → failed without a payment id: each change has
/// its own records (the second failure announces itself too).
pub async fn repeated_payment_changes_each_keep_their_records(s: Subject) {
    use app::models::PaymentStatus::*;
    use server::store::{PaymentApplied, PaymentChange};
    let a = tenant("a");
    s.store.insert_tenant(&a).await.unwrap();
    let mut o = order(&a.id, "P-R");
    o.payment_status = Pending;
    o.payment_id = None;
    s.store.create_order(&o, &notification(&o), &activity(&o)).await.unwrap();
    let base = s.store.unread_count(&a.id, None).await.unwrap();
    let change = |from, to, announce: bool| PaymentChange {
        tenant_id: a.id.clone(),
        order_id: o.id.clone(),
        from,
        to,
        payment_id: None,
        at: ids::now_rfc3339(),
        notification: announce.then(|| Notification { id: ids::new_id(), ..notification(&o) }),
        activity: ActivityEntry { id: ids::new_id(), action: "payment.updated".into(), ..activity(&o) },
    };
    for (from, to, announce) in [(Pending, Failed, true), (Failed, Pending, false), (Pending, Failed, true)] {
        assert_eq!(s.store.apply_payment(&change(from, to, announce)).await.unwrap(), PaymentApplied::Applied);
    }
    assert_eq!(s.store.unread_count(&a.id, None).await.unwrap(), base + 2, "both failures announced");
    let trail = s.store.list_activity(&a.id, 10).await.unwrap();
    assert_eq!(trail.iter().filter(|e| e.action == "payment.updated").count(), 3);
    // A retry of the last change (its request died after the write) adds nothing.
    assert_eq!(s.store.apply_payment(&change(Pending, Failed, true)).await.unwrap(), PaymentApplied::AlreadyApplied);
    assert_eq!(s.store.unread_count(&a.id, None).await.unwrap(), base + 2);
    assert_eq!(s.store.list_activity(&a.id, 10).await.unwrap().len(), trail.len());
}

/// Two owners demoting (or removing) each other at the same instant: one
/// wins, and the tenant keeps an owner.
pub async fn simultaneous_demotions_keep_an_owner(s: Subject) {
    use server::store::MembershipChange;
    for remove in [false, true] {
        let a = tenant("a");
        s.store.insert_tenant(&a).await.unwrap();
        let (x, y) = (user(&format!("x{remove}@example.com")), user(&format!("y{remove}@example.com")));
        for u in [&x, &y] {
            s.store.insert_user(u).await.unwrap();
            let m = Membership {
                tenant_id: a.id.clone(),
                user_id: u.id.clone(),
                role: Role::Owner,
                created_at: ids::now_rfc3339(),
            };
            s.store.set_membership(&m).await.unwrap();
        }
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let handles: Vec<_> = [x.id.clone(), y.id.clone()]
            .into_iter()
            .map(|uid| {
                let (store, barrier, tid) = (s.store.clone(), barrier.clone(), a.id.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let to = if remove { None } else { Some(Role::Admin) };
                    store.change_membership(&tid, &uid, to).await.unwrap()
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for h in handles {
            outcomes.push(h.await.unwrap());
        }
        outcomes.sort_by_key(|o| format!("{o:?}"));
        assert_eq!(outcomes, [MembershipChange::Changed { from: Role::Owner }, MembershipChange::LastOwner]);
        let owners =
            s.store.memberships_of_tenant(&a.id).await.unwrap().into_iter().filter(|m| m.role == Role::Owner).count();
        assert_eq!(owners, 1, "remove={remove}");
        // The last owner can neither go nor step down; a member can; a stranger is not found.
        let last =
            s.store.memberships_of_tenant(&a.id).await.unwrap().into_iter().find(|m| m.role == Role::Owner).unwrap();
        assert_eq!(s.store.change_membership(&a.id, &last.user_id, None).await.unwrap(), MembershipChange::LastOwner);
        assert_eq!(
            s.store.change_membership(&a.id, &last.user_id, Some(Role::Member)).await.unwrap(),
            MembershipChange::LastOwner
        );
        assert_eq!(
            s.store.change_membership(&a.id, &last.user_id, Some(Role::Owner)).await.unwrap(),
            MembershipChange::Changed { from: Role::Owner }
        );
        assert_eq!(s.store.change_membership(&a.id, &ids::new_id(), None).await.unwrap(), MembershipChange::NotFound);
    }
    // Promoted again, an owner can step down once another exists.
    let a = tenant("p");
    s.store.insert_tenant(&a).await.unwrap();
    let (x, y) = (user("px@example.com"), user("py@example.com"));
    for (u, role) in [(&x, Role::Owner), (&y, Role::Member)] {
        s.store.insert_user(u).await.unwrap();
        let m = Membership { tenant_id: a.id.clone(), user_id: u.id.clone(), role, created_at: ids::now_rfc3339() };
        s.store.set_membership(&m).await.unwrap();
    }
    assert_eq!(s.store.change_membership(&a.id, &x.id, Some(Role::Admin)).await.unwrap(), MembershipChange::LastOwner);
    assert_eq!(
        s.store.change_membership(&a.id, &y.id, Some(Role::Owner)).await.unwrap(),
        MembershipChange::Changed { from: Role::Member }
    );
    assert_eq!(
        s.store.change_membership(&a.id, &x.id, Some(Role::Admin)).await.unwrap(),
        MembershipChange::Changed { from: Role::Owner }
    );
    assert_eq!(s.store.change_membership(&a.id, &y.id, None).await.unwrap(), MembershipChange::LastOwner);
}

/// Eight requests claim one webhook-id at the same instant: one processes it.
pub async fn a_webhook_id_is_claimed_once(s: Subject) {
    use server::store::{ProcessedWebhook, WebhookClaim};
    let a = tenant("a");
    s.store.insert_tenant(&a).await.unwrap();
    let now = ids::now_rfc3339();
    let long_ago = "2000-01-01T00:00:00.000Z";
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (store, barrier, tid, now) = (s.store.clone(), barrier.clone(), a.id.clone(), now.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.claim_webhook(&tid, "msg_race", "notifications", &now, long_ago).await.unwrap()
            })
        })
        .collect();
    let mut claimed = 0;
    for h in handles {
        match h.await.unwrap() {
            WebhookClaim::Claimed => claimed += 1,
            WebhookClaim::InProgress => {}
            other => panic!("nothing is answered yet: {other:?}"),
        }
    }
    assert_eq!(claimed, 1);
    assert_eq!(s.store.get_processed_webhook(&a.id, "msg_race").await.unwrap(), None, "a claim is no answer");
    let answer = ProcessedWebhook {
        tenant_id: a.id.clone(),
        webhook_id: "msg_race".into(),
        endpoint: "notifications".into(),
        status_code: 201,
        response: serde_json::json!({"success": true, "notificationId": "n1"}),
        received_at: now.clone(),
    };
    s.store.save_processed_webhook(&answer).await.unwrap();
    assert_eq!(
        s.store
            .claim_webhook(&a.id, "msg_race", "notifications", &ids::now_rfc3339(), &ids::now_rfc3339())
            .await
            .unwrap(),
        WebhookClaim::Done(answer.clone()),
        "an answered id is never claimed again, however old"
    );
    // A released claim can be claimed again; a stale one is taken over; a fresh one is not.
    let t1 = "2026-03-01T00:00:00.000Z";
    assert_eq!(s.store.claim_webhook(&a.id, "msg_2", "orders", t1, long_ago).await.unwrap(), WebhookClaim::Claimed);
    s.store.release_webhook_claim(&a.id, "msg_2", t1).await.unwrap();
    assert_eq!(s.store.claim_webhook(&a.id, "msg_2", "orders", t1, long_ago).await.unwrap(), WebhookClaim::Claimed);
    let t2 = "2026-03-01T00:00:10.000Z";
    assert_eq!(s.store.claim_webhook(&a.id, "msg_2", "orders", t2, long_ago).await.unwrap(), WebhookClaim::InProgress);
    assert_eq!(s.store.claim_webhook(&a.id, "msg_2", "orders", t2, t2).await.unwrap(), WebhookClaim::Claimed, "stale");
    // Releasing someone else's (older) claim does nothing.
    s.store.release_webhook_claim(&a.id, "msg_2", t1).await.unwrap();
    assert_eq!(s.store.claim_webhook(&a.id, "msg_2", "orders", t2, long_ago).await.unwrap(), WebhookClaim::InProgress);
    // Per tenant.
    let b = tenant("b");
    s.store.insert_tenant(&b).await.unwrap();
    assert_eq!(s.store.claim_webhook(&b.id, "msg_race", "orders", t1, long_ago).await.unwrap(), WebhookClaim::Claimed);
}

/// Sealed secrets are replaced only over what was read (a rotation in between wins).
pub async fn sealed_secrets_are_replaced_only_over_what_was_read(s: Subject) {
    use server::store::PreviousSecret;
    let a = tenant("a");
    s.store.insert_tenant(&a).await.unwrap();
    let previous = PreviousSecret { sealed: "v2.prev".into(), valid_until: "2099-01-01T00:00:00.000Z".into() };
    assert!(s.store.reseal_webhook_secrets(&a.id, &a.webhook_secret_sealed, "v2.new", Some(&previous)).await.unwrap());
    let stored = s.store.get_tenant(&a.id).await.unwrap().unwrap();
    assert_eq!((stored.webhook_secret_sealed.as_str(), stored.previous_secret), ("v2.new", Some(previous)));
    assert!(!s.store.reseal_webhook_secrets(&a.id, &a.webhook_secret_sealed, "v2.stale", None).await.unwrap());
    assert_eq!(s.store.get_tenant(&a.id).await.unwrap().unwrap().webhook_secret_sealed, "v2.new");
    assert!(!s.store.reseal_webhook_secrets(&ids::new_id(), "v2.new", "v2.x", None).await.unwrap());
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
    notifications_filter_and_paginate,
    notifications_update_read_dismiss_and_delivery,
    users_belong_to_tenants_with_roles,
    sessions_expire_and_can_be_revoked,
    api_keys_are_found_by_prefix_listed_and_revoked,
    payments_move_once_along_their_states,
    a_notification_and_its_audit_entry_are_stored_together,
    processed_webhook_ids_are_remembered_once_per_tenant,
    secrets_rotate_with_a_previous_one_and_activity_appends,
    orders_are_listed_newest_first_and_counted_for_today,
    repeated_payment_changes_each_keep_their_records,
    simultaneous_demotions_keep_an_owner,
    a_webhook_id_is_claimed_once,
    sealed_secrets_are_replaced_only_over_what_was_read,
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
    assert_eq!(store.unread_count(&t.id, None).await.unwrap(), 0);

    // The sender retries: the order is not duplicated, the notification is back, once.
    let retry = order(&t.id, "CRASH-1");
    let outcome = store.create_order(&retry, &notification(&retry), &activity(&retry)).await.unwrap();
    assert_eq!(outcome, CreateOrder::Duplicate { existing_order_id: o.id.clone() });
    assert_eq!(store.unread_count(&t.id, None).await.unwrap(), 1);
    let latest = store.list_notifications(&t.id, &all(), None, 10).await.unwrap();
    assert_eq!(latest[0].metadata["orderId"], o.id.as_str());
    let trail = store.list_activity(&t.id, 10).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].entity_id, o.id);
    store.create_order(&retry, &notification(&retry), &activity(&retry)).await.unwrap();
    assert_eq!(store.unread_count(&t.id, None).await.unwrap(), 1);
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

/// Every index the MongoDB store relies on exists after start-up, with its
/// uniqueness and TTL options.
#[tokio::test]
async fn mongo_creates_every_index_at_start_up() {
    use futures_util::TryStreamExt;
    use mongodb::bson::{doc, Document};
    let uri = fresh_mongo_uri();
    let wc = server::store::mongo::parse_write_concern(None).unwrap();
    MongoStore::connect(&uri, wc, DAY).await.unwrap();
    let db = mongodb::Client::with_uri_str(&uri).await.unwrap().default_database().unwrap();
    // (collection, keys, unique, TTL seconds)
    let expected: [(&str, Document, bool, Option<i64>); 9] = [
        ("orders", doc! {"tenantId": 1, "orderNumber": 1}, true, None),
        ("notifications", doc! {"tenantId": 1, "sourceKey": 1}, true, None),
        ("notifications", doc! {"tenantId": 1, "isRead": 1, "isDismissed": 1}, false, None),
        ("activity_log", doc! {"tenantId": 1, "createdAt": -1}, false, None),
        ("webhook_events", doc! {"receivedAt": 1}, false, Some(86_400)),
        ("users", doc! {"email": 1}, true, None),
        ("memberships", doc! {"tenantId": 1, "userId": 1}, true, None),
        ("sessions", doc! {"expiresAt": 1}, false, Some(0)),
        ("api_keys", doc! {"prefix": 1}, true, None),
    ];
    for (coll, keys, unique, ttl) in expected {
        let indexes: Vec<Document> = db
            .collection::<Document>(coll)
            .list_indexes()
            .await
            .unwrap()
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .into_iter()
            .map(|m| mongodb::bson::to_document(&m).unwrap())
            .collect();
        let found = indexes.iter().find(|i| i.get_document("key").ok() == Some(&keys));
        let found = found.unwrap_or_else(|| panic!("{coll}: no index on {keys}; have {indexes:?}"));
        let opts = found.get_document("options").cloned().unwrap_or_default();
        let is_unique = opts.get_bool("unique").or_else(|_| found.get_bool("unique")).unwrap_or(false);
        assert_eq!(is_unique, unique, "{coll} {keys}: unique");
        let expire =
            |d: &Document| d.get("expireAfterSeconds").and_then(|b| b.as_i64().or_else(|| b.as_i32().map(i64::from)));
        assert_eq!(expire(&opts).or_else(|| expire(found)), ttl, "{coll} {keys}: TTL");
    }
}

/// SQLite keeps unread counts in a table maintained by triggers: after any mix
/// of inserts, reads, dismissals, mark-all-read and deletes they equal a
/// direct count, and a database from before the table is backfilled.
#[tokio::test]
async fn sqlite_unread_counts_match_a_direct_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.sqlite3");
    let store = SqliteStore::open(&path).await.unwrap();
    let tenants = [tenant("one"), tenant("two")];
    for t in &tenants {
        store.insert_tenant(t).await.unwrap();
    }
    let users = [None, Some("u1"), Some("u2")];
    let direct = |t: &str, u: Option<&str>| -> u64 {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.query_row(
            "SELECT COUNT(*) FROM notifications WHERE tenant_id = ?1 AND (user_id IS NULL OR user_id = ?2) \
             AND is_read = 0 AND is_dismissed = 0",
            rusqlite::params![t, u],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as u64
    };
    // A fixed-seed xorshift: the same sequence every run.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: usize| -> usize {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut ids: Vec<(String, String)> = Vec::new();
    for step in 0..400 {
        let t = &tenants[next(2)].id;
        match next(6) {
            0..=2 => {
                let n = note(t, &ids::now_rfc3339(), NotificationType::Info, Priority::Low, users[next(3)]);
                store.create_notification(&n, &activity(&order(t, &format!("N-{step}")))).await.unwrap();
                ids.push((t.clone(), n.id));
            }
            3 if !ids.is_empty() => {
                let (t, id) = &ids[next(ids.len())];
                let patch = NotificationPatch {
                    is_read: Some(next(2) == 0),
                    is_dismissed: (next(3) == 0).then(|| next(2) == 0),
                };
                store.update_notification(t, id, &patch, &ids::now_rfc3339()).await.unwrap();
            }
            4 if next(8) == 0 => {
                store.mark_all_read(t, users[next(3)], &ids::now_rfc3339()).await.unwrap();
            }
            5 if !ids.is_empty() => {
                let (_, id) = ids.swap_remove(next(ids.len()));
                let conn = rusqlite::Connection::open(&path).unwrap();
                conn.execute("DELETE FROM notifications WHERE id = ?1", [id]).unwrap();
            }
            _ => {}
        }
        for t in &tenants {
            for u in users {
                assert_eq!(store.unread_count(&t.id, u).await.unwrap(), direct(&t.id, u), "step {step}, user {u:?}");
            }
        }
    }
    assert!(direct(&tenants[0].id, Some("u1")) > 0, "the sequence left something unread");

    // A database from before the counts table (schema 9) gets them on open.
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TRIGGER unread_counts_insert; DROP TRIGGER unread_counts_update_old; \
         DROP TRIGGER unread_counts_update_new; DROP TRIGGER unread_counts_delete; \
         DROP TABLE unread_counts; PRAGMA user_version = 9;",
    )
    .unwrap();
    drop(conn);
    let store = SqliteStore::open(&path).await.unwrap();
    for t in &tenants {
        for u in users {
            assert_eq!(store.unread_count(&t.id, u).await.unwrap(), direct(&t.id, u));
        }
    }
}
