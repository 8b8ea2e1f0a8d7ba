//! The webhook event log over HTTP: filters, cursor pages, and idempotent replays.

use app::models::Role;
use serde_json::{json, Value};

use crate::harness::{order, TestServer};

async fn get(srv: &TestServer, path: &str, key: &str) -> (u16, Value) {
    let resp = srv.http.get(srv.url(path)).bearer_auth(key).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

async fn post(srv: &TestServer, path: &str, key: &str) -> (u16, Value) {
    let resp = srv.http.post(srv.url(path)).bearer_auth(key).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_event_log_lists_filters_and_pages() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let other = srv.tenant("Other").await;
    let member = srv.services.create_api_key(&t.tenant.id, "k", Role::Member, None).await.unwrap().key;
    for i in 0..5 {
        srv.post_signed("/api/webhooks/orders", &order(&t.tenant.id, &format!("E-{i}")), &t.webhook_secret).await;
    }
    // A forged request is kept in no tenant's log; a signed but invalid one is.
    srv.post_raw("/api/webhooks/orders", &order(&t.tenant.id, "E-F").to_string(), Some("00")).await;
    let invalid = json!({"tenantId": t.tenant.id, "orderNumber": "E-X", "amount": -1});
    srv.post_signed("/api/webhooks/orders", &invalid, &t.webhook_secret).await;
    srv.post_signed("/api/webhooks/orders", &order(&other.tenant.id, "O-1"), &other.webhook_secret).await;

    let (status, body) = get(&srv, "/api/webhooks/events", &member).await;
    assert_eq!(status, 200, "{body}");
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 6, "only this tenant's");
    assert_eq!(events[0]["outcome"], "rejected");
    assert!(events[1]["response"]["orderId"].is_string(), "accepted events keep their answer");

    let (_, body) = get(&srv, "/api/webhooks/events?outcome=rejected", &member).await;
    assert_eq!(body["events"].as_array().unwrap().len(), 1);
    let (_, body) = get(&srv, "/api/webhooks/events?endpoint=payments", &member).await;
    assert!(body["events"].as_array().unwrap().is_empty());

    // Pages of 4 then 2, nothing repeated.
    let (_, first) = get(&srv, "/api/webhooks/events?limit=4", &member).await;
    let cursor = first["nextCursor"].as_str().unwrap().to_owned();
    let (_, second) = get(&srv, &format!("/api/webhooks/events?limit=4&after={cursor}"), &member).await;
    assert_eq!(second["events"].as_array().unwrap().len(), 2);
    assert!(second["nextCursor"].is_null());
    let ids: std::collections::HashSet<_> = first["events"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["events"].as_array().unwrap())
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 6);

    for bad in
        ["?outcome=lost", "?endpoint=refunds", "?limit=0", "?limit=201", "?after=garbage", "?colour=red", "?limit=x"]
    {
        let (status, body) = get(&srv, &format!("/api/webhooks/events{bad}"), &member).await;
        assert_eq!((status, body["code"].as_str()), (400, Some("validation_failed")), "{bad}: {body}");
    }
}

#[tokio::test]
async fn replaying_an_accepted_webhook_is_idempotent() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let tid = t.tenant.id.as_str();
    let admin = srv.services.create_api_key(tid, "a", Role::Admin, None).await.unwrap().key;
    let member = srv.services.create_api_key(tid, "m", Role::Member, None).await.unwrap().key;
    let (_, created) = srv.post_signed("/api/webhooks/orders", &order(tid, "RP-1"), &t.webhook_secret).await;
    let note = json!({"tenantId": tid, "title": "Hello", "message": "World"});
    let (_, noted) = srv.post_signed("/api/webhooks/notifications", &note, &t.webhook_secret).await;
    srv.post_signed("/api/webhooks/orders", &json!({"tenantId": tid, "orderNumber": "RP-2"}), &t.webhook_secret).await;
    let (_, body) = get(&srv, "/api/webhooks/events", &admin).await;
    let id_of = |outcome: &str, endpoint: &str| {
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["outcome"] == outcome && e["endpoint"] == endpoint)
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let (order_event, note_event, rejected) =
        (id_of("accepted", "orders"), id_of("accepted", "notifications"), id_of("rejected", "orders"));

    assert_eq!(post(&srv, &format!("/api/webhooks/events/{order_event}/replay"), &member).await.0, 403);
    let (status, again) = post(&srv, &format!("/api/webhooks/events/{order_event}/replay"), &admin).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!((again["orderId"].clone(), again["duplicate"].clone()), (created["orderId"].clone(), json!(true)));
    let (status, again) = post(&srv, &format!("/api/webhooks/events/{note_event}/replay"), &admin).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["notificationId"], noted["notificationId"]);
    assert_eq!(srv.services.store().unread_count(&tid.into(), None).await.unwrap(), 2, "nothing new stored");

    let (status, body) = post(&srv, &format!("/api/webhooks/events/{rejected}/replay"), &admin).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")));
    let (status, _) =
        post(&srv, &format!("/api/webhooks/events/{}/replay", server::ids::new_id::<String>()), &admin).await;
    assert_eq!(status, 404);
    let trail = srv.services.store().list_activity(&tid.into(), 10).await.unwrap();
    assert_eq!(trail.iter().filter(|e| e.action == "webhook.replayed").count(), 2);

    // Another tenant's admin cannot replay this tenant's events.
    let other = srv.tenant("Other").await;
    let other_admin = srv.services.create_api_key(&other.tenant.id, "o", Role::Admin, None).await.unwrap().key;
    assert_eq!(post(&srv, &format!("/api/webhooks/events/{order_event}/replay"), &other_admin).await.0, 404);
}
