//! Orders: one per number and tenant, with their notification, under concurrency; payments; figures.

use app::models::{ActivityEntry, Notification};
use server::{
    ids,
    store::{mongo::MongoStore, ActivityStore, CreateOrder, NotificationStore, OrderStore, Tenant, TenantStore},
};

use super::{activity, all, notification, order, tenant, ts, Subject, Timestamp, DAY};
use crate::mongo_server::fresh_mongo_uri;

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
    assert_eq!(s.store.get_order(&t.id, &"nope".into()).await.unwrap(), None);

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
        at: ts("2026-03-01T00:00:00.000Z"),
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
    assert_eq!(stored.updated_at, ts("2026-03-01T00:00:00.000Z"));
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

pub async fn orders_are_listed_newest_first_and_counted_for_today(s: Subject) {
    use app::models::PaymentStatus::{self, *};
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let today = ts("2026-11-29T00:00:00.000Z");
    let place = |t: &Tenant, number: &str, at: Timestamp, currency: &str, minor: i64, payment: PaymentStatus| {
        let mut o = order(&t.id, number);
        (o.created_at, o.updated_at) = (at, at);
        (o.currency, o.amount_minor, o.payment_status) = (currency.into(), minor, payment);
        o
    };
    let orders = [
        place(&a, "K-0", ts("2026-11-28T23:59:59.999Z"), "USD", 100_000, Paid),
        place(&a, "K-1", today, "USD", 1_050, Paid),
        place(&a, "K-2", ts("2026-11-29T08:00:00.000Z"), "USD", 2_500, Pending),
        place(&a, "K-3", ts("2026-11-29T09:00:00.000Z"), "EUR", 4_000, Paid),
        place(&a, "K-4", ts("2026-11-29T10:00:00.000Z"), "USD", 700, Failed),
        place(&a, "K-5", ts("2026-11-29T11:00:00.000Z"), "USD", 950, Paid),
        place(&b, "K-6", ts("2026-11-29T12:00:00.000Z"), "USD", 99_900, Paid),
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
        at: ts("2026-11-29T13:00:00.000Z"),
        notification: None,
        activity: ActivityEntry { id: ids::new_id(), action: "payment.updated".into(), ..activity(&orders[2]) },
    };
    s.store.apply_payment(&paid).await.unwrap();
    let stats = s.store.order_stats(&a.id, today).await.unwrap();
    assert_eq!((stats.orders, stats.paid, stats.pending), (5, 4, 0));
    assert_eq!(stats.revenue[0].amount_minor, 4_500, "USD now leads: {:?}", stats.revenue);

    let other = s.store.order_stats(&b.id, today).await.unwrap();
    assert_eq!((other.orders, other.paid), (1, 1), "another tenant's orders never count");
    let later = s.store.order_stats(&a.id, ts("2026-11-30T00:00:00.000Z")).await.unwrap();
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
        at: ids::now(),
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

/// What a new order costs on MongoDB, counted by the driver's command
/// monitoring: one command per document written (the order, the tenant's
/// notification number, the notification, its audit entry, the event-log
/// entry; with a `webhook-id` also its claim and its answer) and two reads
/// for the unread count the event carries (the marks, then the count with the
/// reader's exceptions in one aggregate). Before: four reads.
#[tokio::test]
async fn mongo_a_new_order_costs_a_command_per_document_and_two_reads() {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut options = mongodb::options::ClientOptions::parse(fresh_mongo_uri()).await.unwrap();
    let log = seen.clone();
    options.command_event_handler = Some(mongodb::event::EventHandler::callback(move |e| {
        if let mongodb::event::command::CommandEvent::Started(e) = e {
            log.lock().unwrap().push(e.command_name);
        }
    }));
    let db = mongodb::Client::with_options(options).unwrap().default_database().unwrap();
    let wc = server::store::mongo::parse_write_concern(None).unwrap();
    let store = MongoStore::open(db, wc, DAY).await.unwrap();
    let t = tenant("acme");
    store.insert_tenant(&t).await.unwrap();
    let now = ids::now();
    let commands = |webhook_id: Option<&str>, number: &str| {
        let o = order(&t.id, number);
        let r = order_receipt(&t.id, &o, webhook_id, now, webhook_id.map(|_| now - DAY));
        let store = &store;
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().clear();
            let written = store.create_order_with(&o, &notification(&o), &activity(&o), Some(&r)).await.unwrap();
            let mut names = std::mem::take(&mut *seen.lock().unwrap());
            names.sort();
            (written.unread_count, names)
        }
    };
    let (count, names) = commands(None, "ORD-M1").await;
    assert_eq!(count, Some(1));
    assert_eq!(names, ["aggregate", "find", "findAndModify", "insert", "insert", "update", "update"], "{names:?}");
    // A reader's mark changes which notifications the count reads, not how many reads it takes.
    store.mark_all_read(&t.id, None, now).await.unwrap();
    let (count, names) = commands(Some("msg_m2"), "ORD-M2").await;
    assert_eq!(count, Some(1));
    let expected = ["aggregate", "find", "findAndModify", "insert", "insert", "insert", "update", "update", "update"];
    assert_eq!(names, expected, "{names:?}");
}

/// A webhook's order is written with its receipt in one call: the event-log
/// entry and the remembered answer are there with a new order (completing a
/// claim), not with a repeat; the unread count answered is the stored one.
pub async fn a_new_order_is_stored_with_its_receipt_and_count(s: Subject) {
    use server::store::WebhookClaim;
    let t = tenant("acme");
    s.store.insert_tenant(&t).await.unwrap();
    let now = ids::now();
    let claim = s.store.claim_webhook(&t.id, "msg_r1", "orders", now, now - DAY).await.unwrap();
    assert_eq!(claim, WebhookClaim::Claimed);
    let receipt = |o: &app::models::Order, webhook_id: Option<&str>| order_receipt(&t.id, o, webhook_id, now, None);
    let o = order(&t.id, "ORD-R1");
    let r = receipt(&o, Some("msg_r1"));
    let written = s.store.create_order_with(&o, &notification(&o), &activity(&o), Some(&r)).await.unwrap();
    assert_eq!(written.outcome, CreateOrder::Created);
    assert_eq!(written.unread_count, Some(1));
    assert_eq!(written.unread_count, Some(s.store.unread_count(&t.id, None).await.unwrap()));
    assert_eq!(s.store.get_webhook_event(&t.id, &r.event.id).await.unwrap(), Some(r.event.clone()));
    let remembered = s.store.get_processed_webhook(&t.id, "msg_r1").await.unwrap().expect("the claim is answered");
    assert_eq!((remembered.status_code, remembered.response), (201, r.processed.unwrap().response));
    let again = s.store.claim_webhook(&t.id, "msg_r1", "orders", now, now - DAY).await.unwrap();
    assert!(matches!(again, WebhookClaim::Done(_)), "{again:?}");

    // A second order counts on; a repeat writes no receipt and has no count.
    let o2 = order(&t.id, "ORD-R2");
    let written = s.store.create_order_with(&o2, &notification(&o2), &activity(&o2), None).await.unwrap();
    assert_eq!(written.unread_count, Some(2));
    let repeat = order(&t.id, "ORD-R1");
    let r = receipt(&repeat, Some("msg_r9"));
    let written = s.store.create_order_with(&repeat, &notification(&repeat), &activity(&repeat), Some(&r)).await;
    let written = written.unwrap();
    assert_eq!(written.outcome, CreateOrder::Duplicate { existing_order_id: o.id.clone() });
    assert_eq!(written.unread_count, None);
    assert_eq!(s.store.get_webhook_event(&t.id, &r.event.id).await.unwrap(), None);
    assert_eq!(s.store.get_processed_webhook(&t.id, "msg_r9").await.unwrap(), None);
}

/// The receipt of a webhook that made order `o`: its event-log entry and,
/// with a `webhook-id`, its answer (claimed by the write itself when
/// `claim_stale_before` is set).
fn order_receipt(
    tenant_id: &app::models::TenantId,
    o: &app::models::Order,
    webhook_id: Option<&str>,
    now: Timestamp,
    claim_stale_before: Option<Timestamp>,
) -> server::store::Receipt {
    server::store::Receipt {
        event: app::models::WebhookEvent {
            id: ids::new_id(),
            tenant_id: Some(tenant_id.clone()),
            endpoint: "orders".into(),
            topic: None,
            verified: true,
            outcome: "accepted".into(),
            status_code: 201,
            reason: None,
            latency_ms: 1,
            body: format!(r#"{{"orderNumber":"{}"}}"#, o.order_number),
            body_truncated: false,
            source_ip: None,
            received_at: now,
            response: Some(serde_json::json!({"success": true, "orderId": o.id})),
            withheld: false,
        },
        processed: webhook_id.map(|id| server::store::ProcessedWebhook {
            tenant_id: tenant_id.clone(),
            webhook_id: id.into(),
            endpoint: "orders".into(),
            status_code: 201,
            response: serde_json::json!({"success": true, "orderId": o.id}),
            received_at: now,
        }),
        claim_stale_before,
    }
}

/// A write that claims its `webhook-id` itself stores nothing when the id is
/// answered or freshly claimed, takes a stale claim over, and of eight such
/// writes at the same instant exactly one is stored.
pub async fn a_write_claims_its_webhook_id_before_storing(s: Subject) {
    use server::store::{StoreError, WebhookClaim};
    let t = tenant("acme");
    s.store.insert_tenant(&t).await.unwrap();
    let now = ids::now();
    let long_ago = ts("2000-01-01T00:00:00.000Z");
    let write = |number: &str, webhook_id: &str, stale: Timestamp| {
        let (store, tid, number, webhook_id) =
            (s.store.clone(), t.id.clone(), number.to_owned(), webhook_id.to_owned());
        async move {
            let o = order(&tid, &number);
            let r = order_receipt(&tid, &o, Some(&webhook_id), now, Some(stale));
            store.create_order_with(&o, &notification(&o), &activity(&o), Some(&r)).await.map(|w| (w, r))
        }
    };
    let (written, r) = write("ORD-C1", "msg_c1", long_ago).await.unwrap();
    assert_eq!((written.outcome, written.unread_count), (CreateOrder::Created, Some(1)));
    let answer = s.store.get_processed_webhook(&t.id, "msg_c1").await.unwrap().expect("claimed and answered");
    assert_eq!(answer.response, r.processed.unwrap().response);
    assert_eq!(s.store.get_webhook_event(&t.id, &r.event.id).await.unwrap(), Some(r.event));

    // Answered: a second write under the id stores nothing, not even its new order number.
    let taken = write("ORD-C2", "msg_c1", now).await;
    assert!(matches!(taken, Err(StoreError::Taken)), "{taken:?}");
    assert_eq!(s.store.get_order_by_number(&t.id, "ORD-C2").await.unwrap(), None);
    assert_eq!(s.store.unread_count(&t.id, None).await.unwrap(), 1);

    // A notification's write under an answered id is taken too.
    let o = order(&t.id, "ORD-C2");
    let r = order_receipt(&t.id, &o, Some("msg_c1"), now, Some(now));
    let taken = s.store.create_notification_with(&notification(&o), &activity(&o), Some(&r)).await;
    assert!(matches!(taken, Err(StoreError::Taken)), "{taken:?}");
    assert_eq!(s.store.unread_count(&t.id, None).await.unwrap(), 1);

    // Claimed by another request a minute ago: taken while fresh, taken over once stale.
    // (Recent times: MongoDB's TTL index removes processed ids after a day.)
    let claimed_at = now - std::time::Duration::from_secs(60);
    let hour_ago = now - std::time::Duration::from_secs(3600);
    let claim = s.store.claim_webhook(&t.id, "msg_c3", "orders", claimed_at, hour_ago).await.unwrap();
    assert_eq!(claim, WebhookClaim::Claimed);
    assert!(matches!(write("ORD-C3", "msg_c3", hour_ago).await, Err(StoreError::Taken)));
    assert_eq!(s.store.get_order_by_number(&t.id, "ORD-C3").await.unwrap(), None);
    let (written, _) = write("ORD-C3", "msg_c3", now).await.unwrap();
    assert_eq!(written.outcome, CreateOrder::Created, "a claim older than stale_before is taken over");
    assert!(s.store.get_processed_webhook(&t.id, "msg_c3").await.unwrap().is_some());

    // Eight writes of one id at the same instant, each with its own order number: one is stored.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (barrier, attempt) = (barrier.clone(), write(&format!("ORD-RACE-{i}"), "msg_race", long_ago));
            tokio::spawn(async move {
                barrier.wait().await;
                attempt.await
            })
        })
        .collect();
    let mut stored = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok((w, _)) => {
                assert_eq!(w.outcome, CreateOrder::Created);
                stored += 1;
            }
            Err(StoreError::Taken) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(stored, 1);
    assert_eq!(s.store.unread_count(&t.id, None).await.unwrap(), 3, "ORD-C1, ORD-C3 and one of the eight");
}
