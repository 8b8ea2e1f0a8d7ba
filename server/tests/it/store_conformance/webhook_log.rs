//! The webhook log: received events (filters, pages, purges) and processed webhook-ids (claims).

use std::sync::Arc;

use app::models::PageCursor;
use server::{ids, store::Tenant};

use super::{tenant, ts, Subject, TenantId, Timestamp};

pub async fn webhook_events_are_logged_listed_and_purged(s: Subject) {
    let a = tenant("a");
    s.store.insert_tenant(&a).await.unwrap();
    let event = |tenant: Option<&str>, at: Timestamp, outcome: &str| app::models::WebhookEvent {
        id: ids::new_id(),
        tenant_id: tenant.map(TenantId::from),
        endpoint: "orders".into(),
        topic: None,
        verified: outcome != "rejected",
        outcome: outcome.into(),
        status_code: if outcome == "rejected" { 401 } else { 201 },
        reason: (outcome == "rejected").then(|| "Webhook signature missing or invalid".into()),
        latency_ms: 3,
        body: r#"{"tenantId":"x"}"#.into(),
        body_truncated: false,
        source_ip: Some("127.0.0.1".into()),
        received_at: at,
        response: (outcome != "rejected").then(|| serde_json::json!({"success": true, "orderId": "x"})),
        withheld: false,
    };
    let old = event(Some(&a.id), ts("2026-01-01T00:00:00.000Z"), "accepted");
    let new = event(Some(&a.id), ts("2026-06-01T00:00:00.000Z"), "rejected");
    let anonymous = event(None, ts("2026-01-01T00:00:00.000Z"), "rejected");
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
    let after_new = PageCursor { created_at: new.received_at, id: new.id.to_string() };
    let page2 = s.store.list_webhook_events(&a.id, &Default::default(), Some(&after_new), 10).await.unwrap();
    assert_eq!(page2, vec![old.clone()]);
    // A provider's delivery keeps its topic.
    let shopify = app::models::WebhookEvent {
        endpoint: "shopify".into(),
        topic: Some("orders/create".into()),
        ..event(Some(&a.id), ts("2026-01-02T00:00:00.000Z"), "accepted")
    };
    s.store.record_webhook_event(&shopify).await.unwrap();
    assert_eq!(s.store.get_webhook_event(&a.id, &shopify.id).await.unwrap(), Some(shopify));
    assert_eq!(s.store.purge_webhook_events(ts("2026-03-01T00:00:00.000Z")).await.unwrap(), 3);
    assert_eq!(s.store.list_webhook_events(&a.id, &Default::default(), None, 10).await.unwrap(), vec![new]);
}

pub async fn processed_webhook_ids_are_remembered_once_per_tenant(s: Subject) {
    use server::store::ProcessedWebhook;
    let a = tenant("a");
    let b = tenant("b");
    s.store.insert_tenant(&a).await.unwrap();
    s.store.insert_tenant(&b).await.unwrap();
    let p = |t: &Tenant, id: &str, at: Timestamp, n: u32| ProcessedWebhook {
        tenant_id: t.id.clone(),
        webhook_id: id.into(),
        endpoint: "orders".into(),
        status_code: 201,
        response: serde_json::json!({"success": true, "n": n}),
        received_at: at,
    };
    let first = p(&a, "msg_1", ts("2026-03-01T00:00:00.000Z"), 1);
    s.store.save_processed_webhook(&first).await.unwrap();
    s.store.save_processed_webhook(&p(&a, "msg_1", ts("2026-03-01T00:00:01.000Z"), 2)).await.unwrap();
    assert_eq!(s.store.get_processed_webhook(&a.id, "msg_1").await.unwrap(), Some(first), "the first one wins");
    assert_eq!(s.store.get_processed_webhook(&b.id, "msg_1").await.unwrap(), None, "per tenant");
    assert_eq!(s.store.get_processed_webhook(&a.id, "msg_2").await.unwrap(), None);
    s.store.save_processed_webhook(&p(&a, "msg_3", ts("2026-03-05T00:00:00.000Z"), 3)).await.unwrap();
    assert_eq!(s.store.purge_processed_webhooks(ts("2026-03-02T00:00:00.000Z")).await.unwrap(), 1);
    assert_eq!(s.store.get_processed_webhook(&a.id, "msg_1").await.unwrap(), None);
    assert!(s.store.get_processed_webhook(&a.id, "msg_3").await.unwrap().is_some());
}

/// Eight requests claim one webhook-id at the same instant: one processes it.
pub async fn a_webhook_id_is_claimed_once(s: Subject) {
    use server::store::{ProcessedWebhook, WebhookClaim};
    let a = tenant("a");
    s.store.insert_tenant(&a).await.unwrap();
    let now = ids::now();
    let long_ago = ts("2000-01-01T00:00:00.000Z");
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (store, barrier, tid, now) = (s.store.clone(), barrier.clone(), a.id.clone(), now);
            tokio::spawn(async move {
                barrier.wait().await;
                store.claim_webhook(&tid, "msg_race", "notifications", now, long_ago).await.unwrap()
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
        received_at: now,
    };
    s.store.save_processed_webhook(&answer).await.unwrap();
    assert_eq!(
        s.store.claim_webhook(&a.id, "msg_race", "notifications", ids::now(), ids::now()).await.unwrap(),
        WebhookClaim::Done(answer.clone()),
        "an answered id is never claimed again, however old"
    );
    // A released claim can be claimed again; a stale one is taken over; a fresh one is not.
    // (Recent times: MongoDB's TTL index removes processed ids after a day.)
    let t1 = now - std::time::Duration::from_secs(120);
    assert_eq!(s.store.claim_webhook(&a.id, "msg_2", "orders", t1, long_ago).await.unwrap(), WebhookClaim::Claimed);
    s.store.release_webhook_claim(&a.id, "msg_2", t1).await.unwrap();
    assert_eq!(s.store.claim_webhook(&a.id, "msg_2", "orders", t1, long_ago).await.unwrap(), WebhookClaim::Claimed);
    let t2 = t1 + std::time::Duration::from_secs(10);
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
