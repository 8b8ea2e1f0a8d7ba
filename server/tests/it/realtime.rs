//! Socket.IO: rooms, acks, and events caused by webhooks, seen by a native client.

use std::time::Duration;

use serde_json::json;

use crate::harness::{order, TestServer};

#[tokio::test]
async fn signed_order_reaches_the_tenant_room() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let mut probe = srv.socket(&["new-notification", "dashboard-refresh"]).await;
    let ack = probe.join(&t.tenant.id).await;
    assert_eq!(ack, json!({"ok": true, "unreadCount": 0}));

    let (status, body) =
        srv.post_signed("/api/webhooks/orders", &order(&t.tenant.id, "ORD-9"), &t.webhook_secret).await;
    assert_eq!(status, 201);

    let ev = probe.next_named("new-notification").await;
    assert_eq!(ev["unreadCount"], 1);
    assert_eq!(ev["notification"]["tenantId"], t.tenant.id.as_str());
    assert_eq!(ev["notification"]["title"], "New order ORD-9");
    assert_eq!(ev["notification"]["type"], "success");
    assert_eq!(ev["notification"]["metadata"]["orderId"], body["orderId"]);
    let refresh = probe.next_named("dashboard-refresh").await;
    assert_eq!(refresh["reason"], "order-created");
    assert_eq!(refresh["tenantId"], t.tenant.id.as_str());

    // A duplicate delivery announces nothing.
    let (status, _) = srv.post_signed("/api/webhooks/orders", &order(&t.tenant.id, "ORD-9"), &t.webhook_secret).await;
    assert_eq!(status, 200);
    probe.expect_silence(Duration::from_millis(300)).await;

    // Rejoining reports the current count.
    assert_eq!(probe.join(&t.tenant.id).await["unreadCount"], 1);
}

#[tokio::test]
async fn other_tenants_rooms_hear_nothing() {
    let srv = TestServer::start().await;
    let a = srv.tenant("A").await;
    let b = srv.tenant("B").await;
    let mut probe_b = srv.socket(&["new-notification", "dashboard-refresh"]).await;
    assert_eq!(probe_b.join(&b.tenant.id).await["ok"], true);
    let mut probe_a = srv.socket(&["new-notification"]).await;
    assert_eq!(probe_a.join(&a.tenant.id).await["ok"], true);

    let (status, _) = srv.post_signed("/api/webhooks/orders", &order(&a.tenant.id, "A-1"), &a.webhook_secret).await;
    assert_eq!(status, 201);
    probe_a.next_named("new-notification").await;
    probe_b.expect_silence(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn join_is_refused_for_unknown_tenants_and_leave_stops_events() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let mut probe = srv.socket(&["new-notification"]).await;
    let ack = probe.join("507f1f77bcf86cd799439011").await;
    assert_eq!(ack["ok"], false);
    assert!(ack["error"].as_str().is_some());
    let ack = probe.emit_ack("join-tenant", json!({})).await;
    assert_eq!(ack["ok"], false);

    // The seed's client sends the bare id.
    let ack = probe.emit_ack("join-tenant", json!(t.tenant.id)).await;
    assert_eq!(ack["ok"], true);
    let ack = probe.emit_ack("leave-tenant", json!(t.tenant.id)).await;
    assert_eq!(ack["ok"], true);
    let (status, _) = srv.post_signed("/api/webhooks/orders", &order(&t.tenant.id, "L-1"), &t.webhook_secret).await;
    assert_eq!(status, 201);
    probe.expect_silence(Duration::from_millis(300)).await;
}
