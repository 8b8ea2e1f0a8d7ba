//! Hostile webhook traffic: forged requests cost the victim nothing, one
//! webhook-id is processed once, the seed signature scheme is the tenant's
//! choice, and rotating away from the global fallback secret.

use std::sync::Arc;

use app::models::Role;
use reqwest::{header, Method};
use serde_json::json;

use super::{assert_shape, start};
use crate::{
    harness::{call, order, TestServer},
    mongo_server::fresh_mongo_uri,
};

// 3. Unverified requests cost the victim nothing.

#[tokio::test]
async fn five_hundred_forged_requests_leave_the_tenants_log_and_the_store_untouched() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Victim").await;
    let tid = t.tenant.id.clone();
    let watcher = rusqlite::Connection::open(&srv.db_path).unwrap();
    let version = |c: &rusqlite::Connection| c.query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0)).unwrap();
    let before = version(&watcher);
    let forged = json!({"tenantId": tid, "title": "x", "message": "y".repeat(8000)}).to_string();
    let mut limited = 0;
    for i in 0..500 {
        let sig = if i % 2 == 0 { Some("00") } else { None };
        let (status, body) = srv.post_raw("/api/webhooks/notifications", &forged, sig).await;
        assert!(status == 401 || status == 429, "{status} {body}");
        if status == 429 {
            limited += 1;
        }
    }
    assert!(limited > 300, "past its burst the address waits: {limited}");
    assert_eq!(version(&watcher), before, "no write reached the store");
    assert!(srv.services.store().list_webhook_events(&tid, &Default::default(), None, 10).await.unwrap().is_empty());
    let counts = srv.services.unverified().snapshot();
    assert_eq!(counts.values().sum::<u64>(), 500, "{counts:?}");
    // A genuine sender elsewhere is unaffected, and what it is told was stored is stored.
    let sender =
        reqwest::Client::builder().local_address("127.0.0.3".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    let body = order(&tid, "REAL-1").to_string();
    let resp = sender
        .post(srv.url("/api/webhooks/orders"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-webhook-signature", server::signature::sign_seed(&t.webhook_secret, body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert!(srv.services.store().get_order_by_number(&tid, "REAL-1").await.unwrap().is_some());
}

// 6. One webhook-id, one processing.

/// Eight deliveries of one `webhook-id` at the same instant to `endpoint`:
/// one is stored (201), the others get its answer or `409 in_progress`. (The
/// orders differ in number, so that only the id can make them one.)
async fn eight_redeliveries_store_once(srv: &TestServer, endpoint: &str) {
    let t = srv.tenant("Acme").await;
    let tid = t.tenant.id.clone();
    let path = format!("/api/webhooks/{endpoint}");
    let body = |i: usize| match endpoint {
        "orders" => json!({"tenantId": tid, "orderNumber": format!("ORD-ONCE-{i}"), "amount": 12.5}),
        _ => json!({"tenantId": tid, "title": "Once", "message": "only once"}),
    };
    let ts = time::OffsetDateTime::now_utc().unix_timestamp();
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let posts = (0..8).map(|i| {
        let (barrier, body, path) = (barrier.clone(), body(i), path.clone());
        let secret = t.webhook_secret.clone();
        async move {
            barrier.wait().await;
            srv.post_standard(&path, &body, &secret, "msg_once", ts).await
        }
    });
    let answers = futures_util::future::join_all(posts).await;
    let first: Vec<_> = answers.iter().filter(|(s, _)| *s == 201).map(|(_, b)| b).collect();
    assert_eq!(first.len(), 1, "{answers:?}");
    let id_field = if endpoint == "orders" { "orderId" } else { "notificationId" };
    for (status, body) in &answers {
        match status {
            201 => {}
            200 => {
                assert_eq!(body["duplicate"], true, "{body}");
                assert_eq!(body[id_field], first[0][id_field], "the first delivery's answer: {body}");
            }
            409 => assert_shape(body, "in_progress"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let store = srv.services.store();
    assert_eq!(store.unread_count(&tid, None).await.unwrap(), 1, "one notification stored");
    if endpoint == "orders" {
        assert_eq!(store.list_orders(&tid, 10).await.unwrap().len(), 1, "one order stored");
    }
    // A redelivery after the first answer gets it again.
    let (status, again) = srv.post_standard(&path, &body(9), &t.webhook_secret, "msg_once", ts).await;
    assert_eq!((status, again["duplicate"].as_bool()), (200, Some(true)), "{again}");
    assert_eq!(again[id_field], first[0][id_field]);
    assert_eq!(store.unread_count(&tid, None).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_simultaneous_redeliveries_store_one_notification_on_sqlite() {
    eight_redeliveries_store_once(&TestServer::start().await, "notifications").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_simultaneous_redeliveries_store_one_notification_on_mongodb() {
    eight_redeliveries_store_once(&start(&[("MONGODB_URI", fresh_mongo_uri())]).await, "notifications").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_simultaneous_redeliveries_store_one_order_on_sqlite() {
    eight_redeliveries_store_once(&TestServer::start().await, "orders").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_simultaneous_redeliveries_store_one_order_on_mongodb() {
    eight_redeliveries_store_once(&start(&[("MONGODB_URI", fresh_mongo_uri())]).await, "orders").await;
}

#[tokio::test]
async fn an_unsigned_webhook_id_cannot_preempt_a_genuine_delivery() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let tid = t.tenant.id.clone();
    // A seed-scheme request (captured, replayed) carrying a webhook-id header the signature does not cover.
    let first = json!({"tenantId": tid, "title": "Old", "message": "replayed"});
    let text = first.to_string();
    let headers = [
        ("x-webhook-signature", server::signature::sign_seed(&t.webhook_secret, text.as_bytes())),
        ("webhook-id", "msg_genuine".to_owned()),
    ];
    assert_eq!(srv.post_with_headers("/api/webhooks/notifications", &text, &headers).await.0, 201);
    // The genuine Standard Webhooks delivery with that id is processed, not taken for a duplicate.
    let genuine = json!({"tenantId": tid, "title": "New", "message": "genuine"});
    let ts = time::OffsetDateTime::now_utc().unix_timestamp();
    let (status, body) =
        srv.post_standard("/api/webhooks/notifications", &genuine, &t.webhook_secret, "msg_genuine", ts).await;
    assert_eq!(status, 201, "{body}");
    assert!(body.get("duplicate").is_none(), "{body}");
}

// 7. The seed scheme's replay risk is the tenant's choice.

#[tokio::test]
async fn a_tenant_can_refuse_the_seed_signature_scheme() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let tid = t.tenant.id.clone();
    let admin = srv.services.create_api_key(&tid, "a", Role::Admin, None).await.unwrap().key;
    let (_, settings) = call(&srv, Method::GET, "/api/webhooks/settings", &admin, None).await;
    assert_eq!(settings["settings"]["acceptSeedSignatures"], true, "on by default: {settings}");
    let (status, body) =
        call(&srv, Method::PATCH, "/api/webhooks/settings", &admin, Some(json!({"acceptSeedSignatures": false}))).await;
    assert_eq!((status, body["settings"]["acceptSeedSignatures"].as_bool()), (200, Some(false)), "{body}");
    let (status, body) = srv.post_signed("/api/webhooks/orders", &order(&tid, "SEED-1"), &t.webhook_secret).await;
    assert_eq!(status, 401, "{body}");
    assert_shape(&body, "scheme_refused");
    // A forged seed-scheme request learns nothing about the setting.
    let (status, body) = srv.post_raw("/api/webhooks/orders", &order(&tid, "SEED-2").to_string(), Some("00")).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("invalid_signature")));
    let ts = time::OffsetDateTime::now_utc().unix_timestamp();
    let (status, _) =
        srv.post_standard("/api/webhooks/orders", &order(&tid, "STD-1"), &t.webhook_secret, "m1", ts).await;
    assert_eq!(status, 201);
    let (status, body) =
        call(&srv, Method::PATCH, "/api/webhooks/settings", &admin, Some(json!({"acceptSeedSignatures": "no"}))).await;
    assert_eq!((status, body["details"][0]["field"].as_str()), (400, Some("acceptSeedSignatures")));
}

// 8. The fallback secret.

#[tokio::test]
async fn rotating_away_from_the_global_fallback_secret_keeps_it_valid_for_the_grace() {
    let srv = start(&[("WEBHOOK_SECRET", "whsec_global_fallback".into())]).await;
    let created = srv.tenant("Imported").await;
    let tid = created.tenant.id.clone();
    // A tenant imported from the seed's database: no secret of its own.
    srv.services.store().rotate_webhook_secret(&tid, "", None).await.unwrap();
    let admin = srv.services.create_api_key(&tid, "a", Role::Admin, None).await.unwrap().key;
    let (status, body) = call(&srv, Method::GET, "/api/webhooks/settings", &admin, None).await;
    assert_eq!((status, body["settings"]["usesFallbackSecret"].as_bool()), (200, Some(true)), "{body}");
    assert_eq!(srv.post_signed("/api/webhooks/orders", &order(&tid, "F-1"), "whsec_global_fallback").await.0, 201);

    let (status, rotated) =
        call(&srv, Method::POST, "/api/webhooks/settings/generate-secret", &admin, Some(json!({"graceSeconds": 3600})))
            .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["webhookSecret"].as_str().unwrap().to_owned();
    // The settings page and both secrets work during the grace.
    let (status, body) = call(&srv, Method::GET, "/api/webhooks/settings", &admin, None).await;
    assert_eq!((status, body["settings"]["usesFallbackSecret"].as_bool()), (200, Some(false)), "{body}");
    assert_eq!(srv.post_signed("/api/webhooks/orders", &order(&tid, "F-2"), "whsec_global_fallback").await.0, 201);
    assert_eq!(srv.post_signed("/api/webhooks/orders", &order(&tid, "F-3"), &new_secret).await.0, 201);
    // Counted at start-up.
    assert_eq!(srv.services.migrate_sealed_secrets().await.unwrap().1, 0, "no tenant relies on it any more");
}
