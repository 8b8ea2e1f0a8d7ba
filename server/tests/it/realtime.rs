//! Socket.IO: rooms, acks, and events caused by webhooks, seen by a native client.

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{order, TestServer};

#[tokio::test]
async fn signed_order_reaches_the_tenant_room() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let mut probe = srv.tenant_socket(&t.tenant.id, &["new-notification", "dashboard-refresh"]).await;
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
    let mut probe_b = srv.tenant_socket(&b.tenant.id, &["new-notification", "dashboard-refresh"]).await;
    assert_eq!(probe_b.join(&b.tenant.id).await["ok"], true);
    let mut probe_a = srv.tenant_socket(&a.tenant.id, &["new-notification"]).await;
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
    let mut probe = srv.tenant_socket(&t.tenant.id, &["new-notification"]).await;
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

async fn production() -> TestServer {
    let key = server::sealing::Sealer::generate_key();
    TestServer::start_with(&[("HOOKBELL_ENV", "production"), ("HOOKBELL_SECRET_KEY", &key)]).await
}

#[tokio::test]
async fn the_handshake_authenticates_and_joins_only_the_callers_tenants() {
    let srv = production().await;
    let a = srv.tenant("A").await;
    let b = srv.tenant("B").await;

    // Nobody, or a wrong key: the handshake is refused.
    assert!(srv.socket_with(&[], None, &[]).await.is_err(), "no credentials");
    let wrong = json!({"apiKey": "hb_00000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"});
    assert!(srv.socket_with(&[], Some(wrong), &[]).await.is_err(), "unknown key");

    // A's key joins A, not B; the refused join leaves it in no room of B's.
    let key = srv.services.create_api_key(&a.tenant.id, "socket", app::models::Role::Member, None).await.unwrap();
    let mut probe = srv.socket_with(&["new-notification"], Some(json!({"apiKey": key.key})), &[]).await.unwrap();
    let refused = probe.join(&b.tenant.id).await;
    assert_eq!(refused["ok"], false, "{refused}");
    assert!(refused["error"].as_str().is_some_and(|e| !e.is_empty()));
    let (status, _) = srv.post_signed("/api/webhooks/orders", &order(&b.tenant.id, "B-1"), &b.webhook_secret).await;
    assert_eq!(status, 201);
    probe.expect_silence(Duration::from_millis(300)).await;
    assert_eq!(probe.join(&a.tenant.id).await["ok"], true);
    let (status, _) = srv.post_signed("/api/webhooks/orders", &order(&a.tenant.id, "A-1"), &a.webhook_secret).await;
    assert_eq!(status, 201);
    probe.next_named("new-notification").await;

    // Joins are checked again: once the key is revoked, the socket joins nothing more.
    let now = server::ids::now();
    srv.services.store().revoke_api_key(&a.tenant.id, &key.info.id, now).await.unwrap();
    assert_eq!(probe.join(&a.tenant.id).await["ok"], false);
}

#[tokio::test]
async fn a_signed_in_browser_joins_with_its_session_cookie() {
    let srv = production().await;
    let a = srv.tenant("A").await;
    let b = srv.tenant("B").await;
    srv.services
        .add_user_to_tenant(&a.tenant.id, "ada@example.com", "Ada", "correct horse battery", app::models::Role::Member)
        .await
        .unwrap();
    let resp = srv
        .http
        .post(srv.url("/api/auth/login"))
        .json(&json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();

    let own = format!("https://{}", srv.addr); // production: the origin behind TLS
    let mut probe = srv
        .socket_with(&[server::tools::socket::DISCONNECT], None, &[("Cookie", cookie.clone()), ("Origin", own)])
        .await
        .unwrap();
    assert_eq!(probe.join(&a.tenant.id).await["ok"], true);
    assert_eq!(probe.join(&b.tenant.id).await["ok"], false);

    // Another site's page cannot ride on the cookie.
    let evil = [("Cookie", cookie.clone()), ("Origin", "https://evil.example".to_owned())];
    assert!(srv.socket_with(&[], None, &evil).await.is_err());

    // Logout disconnects the socket opened with that session, and it cannot reconnect.
    srv.http.post(srv.url("/api/auth/logout")).header("cookie", &cookie).send().await.unwrap();
    probe.next_named(server::tools::socket::DISCONNECT).await;
    assert!(srv.socket_with(&[], None, &[("Cookie", cookie)]).await.is_err());
}

#[tokio::test]
async fn in_development_a_socket_without_credentials_is_the_demo_user() {
    let srv = TestServer::start().await;
    let other = srv.tenant("Other").await;
    let demo = srv.services.ensure_demo_tenant().await.unwrap().0;
    let probe = srv.socket(&[]).await;
    assert_eq!(probe.join(&demo.id).await["ok"], true);
    assert_eq!(probe.join(&other.tenant.id).await["ok"], false);
}

/// Sends `n` distinct orders at once.
async fn burst(srv: &TestServer, t: &server::service::CreatedTenant, n: usize) {
    let posts = (0..n).map(|i| {
        let body = order(&t.tenant.id, &format!("BURST-{i}"));
        async move { srv.post_signed("/api/webhooks/orders", &body, &t.webhook_secret).await.0 }
    });
    let statuses = futures_util::future::join_all(posts).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
}

#[tokio::test]
async fn bursts_coalesce_dashboard_refresh_but_send_every_notification() {
    // A window longer than the test: the first refresh goes at once, the rest are held
    // (their trailing send at the window's end is tested on tokio's paused clock in
    // `service::coalesce`).
    let srv = TestServer::start_with(&[("HOOKBELL_REFRESH_COALESCE_MS", "60000")]).await;
    let t = srv.tenant("Acme").await;
    let mut probe = srv.tenant_socket(&t.tenant.id, &["new-notification", "dashboard-refresh"]).await;
    assert_eq!(probe.join(&t.tenant.id).await["ok"], true);
    burst(&srv, &t, 20).await;
    let events = until_marker(&mut probe, &srv, &t).await;
    let notifications = events.iter().filter(|(name, _)| name == "new-notification").count();
    let refreshes: Vec<&Value> =
        events.iter().filter(|(name, _)| name == "dashboard-refresh").map(|(_, v)| v).collect();
    assert_eq!(notifications, 21, "every notification is sent");
    assert_eq!(refreshes.len(), 1, "one refresh in the window, the rest held: {refreshes:?}");
    assert!(refreshes[0]["entities"].as_array().unwrap().iter().any(|e| e == "orders"), "{}", refreshes[0]);
}

/// Events until the notification titled `marker` (which the caller sent last):
/// events reach a socket in the order they were sent, so everything sent before it is in.
async fn until_marker(
    probe: &mut crate::harness::SocketProbe,
    srv: &TestServer,
    tenant: &server::service::CreatedTenant,
) -> Vec<(String, Value)> {
    let marker = json!({"tenantId": tenant.tenant.id, "title": "marker", "message": "the last event"});
    let (status, _) = srv.post_signed("/api/webhooks/notifications", &marker, &tenant.webhook_secret).await;
    assert_eq!(status, 201);
    let mut events = Vec::new();
    loop {
        let (name, payload) = probe.next_event().await;
        let done = name == "new-notification" && payload["notification"]["title"] == "marker";
        events.push((name, payload));
        if done {
            return events;
        }
    }
}

#[tokio::test]
async fn a_zero_window_sends_every_refresh() {
    let srv = TestServer::start_with(&[("HOOKBELL_REFRESH_COALESCE_MS", "0")]).await;
    let t = srv.tenant("Acme").await;
    let mut probe = srv.tenant_socket(&t.tenant.id, &["new-notification", "dashboard-refresh"]).await;
    assert_eq!(probe.join(&t.tenant.id).await["ok"], true);
    burst(&srv, &t, 10).await;
    let events = until_marker(&mut probe, &srv, &t).await;
    assert_eq!(events.iter().filter(|(name, _)| name == "dashboard-refresh").count(), 10, "{events:?}");
}

#[tokio::test]
async fn a_held_refresh_reaches_the_dashboard_at_the_windows_end() {
    let srv = TestServer::start_with(&[("HOOKBELL_REFRESH_COALESCE_MS", "1000")]).await;
    let t = srv.tenant("Acme").await;
    let mut probe = srv.tenant_socket(&t.tenant.id, &["dashboard-refresh"]).await;
    assert_eq!(probe.join(&t.tenant.id).await["ok"], true);
    let first = order(&t.tenant.id, "HELD-1");
    assert_eq!(srv.post_signed("/api/webhooks/orders", &first, &t.webhook_secret).await.0, 201);
    assert_eq!(probe.next_named("dashboard-refresh").await["reason"], "order-created");
    // Inside the window (unless this machine took a second since): held, then sent at its end
    // through the real task and broadcaster; outside it, sent at once. Either way it arrives.
    let second = order(&t.tenant.id, "HELD-2");
    assert_eq!(srv.post_signed("/api/webhooks/orders", &second, &t.webhook_secret).await.0, 201);
    let held = probe.next_named("dashboard-refresh").await;
    assert!(held["entities"].as_array().unwrap().iter().any(|e| e == "orders"), "{held}");
}

#[tokio::test]
async fn a_rejoin_naming_the_last_seen_notification_gets_what_it_missed() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let tid = t.tenant.id.as_str();
    let probe = srv.tenant_socket(tid, &[]).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (status, body) =
            srv.post_signed("/api/webhooks/orders", &order(tid, &format!("R-{i}")), &t.webhook_secret).await;
        assert_eq!(status, 201);
        let n = srv.services.store().list_notifications(&tid.into(), &Default::default(), None, 1).await.unwrap();
        assert_eq!(n[0].metadata["orderId"], body["orderId"]);
        ids.push(n[0].id.clone());
    }
    let rejoin = |last: &str| json!({"tenantId": tid, "lastSeenId": last});

    // Saw the first: the two newer ones come back, newest first, with the count.
    let ack = probe.emit_ack("join-tenant", rejoin(&ids[0])).await;
    let missed: Vec<&str> = ack["missed"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(missed, vec![ids[2].as_str(), ids[1].as_str()], "{ack}");
    assert_eq!(ack["unreadCount"], 3);
    assert!(ack.get("refetch").is_none());
    // Saw everything: nothing missed.
    let ack = probe.emit_ack("join-tenant", rejoin(&ids[2])).await;
    assert_eq!(ack["missed"], json!([]));
    // An id the server does not know (or another tenant's): refetch.
    let ack = probe.emit_ack("join-tenant", rejoin("507f1f77bcf86cd799439011")).await;
    assert_eq!((ack["ok"].as_bool(), ack["refetch"].as_bool()), (Some(true), Some(true)), "{ack}");
    assert!(ack.get("missed").is_none());

    // More than the ack carries (100): refetch, not a partial list.
    let newest = srv.services.store().get_notification(&tid.into(), &ids[2]).await.unwrap().unwrap();
    let many: Vec<app::models::Notification> = (0..101)
        .map(|i| app::models::Notification {
            id: server::ids::new_id(),
            created_at: app::models::Timestamp::parse(&format!("2999-01-01T00:00:00.{i:03}Z")).unwrap(),
            ..newest.clone()
        })
        .collect();
    srv.services.store().insert_notifications(&many).await.unwrap();
    let ack = probe.emit_ack("join-tenant", rejoin(&ids[2])).await;
    assert_eq!(ack["refetch"], true, "{ack}");
    assert!(ack.get("missed").is_none());
    assert_eq!(ack["unreadCount"], 104);
}
