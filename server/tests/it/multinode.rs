//! Two server processes sharing a MongoDB-compatible store (SecantusDB) and
//! Redis: a webhook taken by node A reaches a dashboard connected to node B.

use std::time::Duration;

use serde_json::{json, Value};

use crate::{
    harness::{cli_tenant, connect_socket, post_signed_order, Node},
    mongo_server::fresh_mongo_uri,
};

fn redis_url() -> String {
    std::env::var("HOOKBELL_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The settings of production nodes sharing a fresh database and Redis.
fn production_nodes() -> Vec<(&'static str, String)> {
    vec![
        ("MONGODB_URI", fresh_mongo_uri()),
        ("REDIS_URL", redis_url()),
        ("HOOKBELL_ENV", "production".to_owned()),
        ("HOOKBELL_SECRET_KEY", server::sealing::Sealer::generate_key()),
    ]
}

/// Posts orders of `prefix` to `base` until one gets `status` (at most 200
/// tries, 10 ms apart, while a message travels between nodes): whether one did.
async fn until_status(base: &str, (tid, secret): (&str, &str), prefix: &str, status: u16) -> bool {
    let http = reqwest::Client::new();
    for n in 0..200 {
        if post_signed_order(&http, base, tid, secret, &format!("{prefix}-{n}")).await == status {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// Creates a tenant-wide notification on `node` as the program `key` and snoozes it
/// for 1.5 s (the nodes allow one that short): its id and when it comes due.
async fn snoozed_notification(node: &Node, key: &str) -> (String, app::models::Timestamp) {
    let http = reqwest::Client::new();
    let made: Value = http
        .post(node.url("/api/notifications"))
        .bearer_auth(key)
        .json(&json!({"title": "Wake me", "message": "m"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = made["notification"]["id"].as_str().unwrap().to_owned();
    let until = app::models::Timestamp::from_unix_millis(server::ids::now().unix_millis() + 1500);
    let snoozed = http
        .patch(node.url(&format!("/api/notifications/{id}")))
        .bearer_auth(key)
        .json(&json!({"snoozedUntil": until.to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(snoozed.status(), 200);
    (id, until)
}

/// The settings of a node whose snoozes may be short and are looked for often.
fn snoozing(mut env: Vec<(&'static str, String)>) -> Vec<(&'static str, String)> {
    env.push(("HOOKBELL_ENV", "development".to_owned()));
    env.push(("HOOKBELL_SECRET_KEY", server::sealing::Sealer::generate_key()));
    env.push(("HOOKBELL_MIN_SNOOZE_SECS", "1".to_owned()));
    env.push(("HOOKBELL_SNOOZE_POLL_MS", "50".to_owned()));
    env
}

#[tokio::test]
async fn a_webhook_taken_by_one_node_reaches_a_dashboard_on_another() {
    let env = production_nodes();
    let tenant = cli_tenant(&env, "Multi Node");
    let (tid, secret, key) = (
        tenant["tenantId"].as_str().unwrap(),
        tenant["webhookSecret"].as_str().unwrap(),
        tenant["apiKey"].as_str().unwrap(),
    );

    let a = Node::start(&env).await;
    let b = Node::start(&env).await;
    let events = ["new-notification", "dashboard-refresh"];
    let mut on_b = connect_socket(&b.url("/"), &events, Some(json!({"apiKey": key})), &[]).await.unwrap();
    assert_eq!(on_b.join(tid).await["ok"], true);
    let mut on_a = connect_socket(&a.url("/"), &events, Some(json!({"apiKey": key})), &[]).await.unwrap();
    assert_eq!(on_a.join(tid).await["ok"], true);

    assert_eq!(post_signed_order(&reqwest::Client::new(), &a.url(""), tid, secret, "MULTI-1").await, 201);

    // Both nodes' dashboards hear it: B's through Redis.
    let on_b_event = on_b.next_named("new-notification").await;
    assert_eq!(on_b_event["notification"]["title"], "New order MULTI-1");
    assert_eq!(on_b_event["unreadCount"], 1);
    assert_eq!(on_b.next_named("dashboard-refresh").await["reason"], "order-created");
    assert_eq!(on_a.next_named("new-notification").await["notification"]["title"], "New order MULTI-1");
    // Exactly once each.
    let more = on_b.collect_for(Duration::from_millis(500)).await;
    assert!(more.iter().all(|(name, _)| name != "new-notification"), "{more:?}");

    // The store is shared: B answers for the order A stored.
    let listed = reqwest::Client::new().get(b.url("/api/notifications")).bearer_auth(key).send().await.unwrap();
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["notifications"][0]["title"], "New order MULTI-1", "{listed}");
}

/// A snooze lives in the shared store: both nodes look for it when it comes
/// due, and exactly one wakes it; the dashboards on both nodes hear it once.
#[tokio::test]
async fn a_snooze_wakes_once_with_two_nodes_on_one_store() {
    let env = snoozing(vec![("MONGODB_URI", fresh_mongo_uri()), ("REDIS_URL", redis_url())]);
    let tenant = cli_tenant(&env, "Snoozers");
    let (tid, key) = (tenant["tenantId"].as_str().unwrap(), tenant["apiKey"].as_str().unwrap());
    let a = Node::start(&env).await;
    let b = Node::start(&env).await;
    let events = ["notification-updated"];
    let mut tabs = Vec::new();
    for node in [&a, &b] {
        let tab = connect_socket(&node.url("/"), &events, Some(json!({"apiKey": key})), &[]).await.unwrap();
        assert_eq!(tab.join(tid).await["ok"], true);
        tabs.push(tab);
    }
    let (_, until) = snoozed_notification(&a, key).await;
    let until = until.to_string();
    for tab in &mut tabs {
        assert_eq!(tab.next_named("notification-updated").await["notification"]["snoozedUntil"], until.as_str());
    }
    for tab in &mut tabs {
        let woke = tab.next_named("notification-updated").await;
        assert!(woke["notification"].get("snoozedUntil").is_none() && woke["unreadCount"] == 1, "{woke}");
    }
    // Once: no node woke it a second time.
    for tab in &mut tabs {
        let more = tab.collect_for(Duration::from_millis(600)).await;
        assert!(more.is_empty(), "{more:?}");
    }
}

/// The schedule lives in the store: a snooze that comes due while no server
/// runs wakes when one starts again, and its reader's dashboard hears it.
#[tokio::test]
async fn a_snooze_due_while_the_server_was_down_wakes_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let env = snoozing(vec![("DATABASE_PATH", dir.path().join("hookbell.sqlite3").to_string_lossy().into_owned())]);
    let tenant = cli_tenant(&env, "Restarted");
    let (tid, key) = (tenant["tenantId"].as_str().unwrap(), tenant["apiKey"].as_str().unwrap());
    // Snoozed, then the server stops, before the snooze comes due.
    let (id, until) = snoozed_notification(&Node::start(&env).await, key).await;
    // Down for longer than the snooze: it is due before any server runs again.
    while server::ids::now() <= until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let node = Node::start(&env).await;
    let mut tab =
        connect_socket(&node.url("/"), &["notification-updated"], Some(json!({"apiKey": key})), &[]).await.unwrap();
    let joined = tab.join(tid).await;
    assert_eq!(joined["ok"], true);
    // Woken by the restarted server (already, or in its next look): unread again either way.
    if joined["unreadCount"] == 0 {
        let woke = tab.next_named("notification-updated").await;
        assert_eq!(woke["notification"]["id"], id.as_str());
    }
    let listed: Value = reqwest::Client::new()
        .get(node.url("/api/notifications"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["unreadCount"], 1, "{listed}");
    assert!(listed["notifications"][0].get("snoozedUntil").is_none(), "{listed}");
}

/// Each node keeps the tenants it verifies webhooks for in memory; a secret
/// rotated on one node is refused on the other as soon as Redis has told it,
/// long before the cache would forget (here an hour), and so is a tenant whose
/// webhooks were turned off.
#[tokio::test]
async fn a_secret_rotated_on_one_node_is_refused_on_the_other() {
    let mut env = production_nodes();
    let tenant = cli_tenant(&env, "Rotators");
    let (tid, old, key) = (
        tenant["tenantId"].as_str().unwrap(),
        tenant["webhookSecret"].as_str().unwrap(),
        tenant["apiKey"].as_str().unwrap(),
    );
    env.push(("HOOKBELL_TENANT_CACHE_SECONDS", "3600".to_owned()));
    let a = Node::start(&env).await;
    let b = Node::start(&env).await;
    let http = reqwest::Client::new();
    // B knows the tenant and its secret now.
    assert_eq!(post_signed_order(&http, &b.url(""), tid, old, "ROT-0").await, 201);

    let rotated = http.post(a.url("/api/webhooks/settings/generate-secret")).bearer_auth(key).json(&json!({}));
    let rotated: Value = rotated.send().await.unwrap().json().await.unwrap();
    let new = rotated["webhookSecret"].as_str().unwrap().to_owned();
    // The message travels through Redis: B refuses the old secret once it arrives.
    let refused = until_status(&b.url(""), (tid, old), "ROT-OLD", 401).await;
    assert!(refused, "node B still takes the rotated-out secret");
    assert_eq!(post_signed_order(&http, &b.url(""), tid, &new, "ROT-1").await, 201);

    let off = http.patch(a.url("/api/webhooks/settings")).bearer_auth(key).json(&json!({"webhookEnabled": false}));
    assert_eq!(off.send().await.unwrap().status(), 200);
    let disabled = until_status(&b.url(""), (tid, &new), "ROT-OFF", 403).await;
    assert!(disabled, "node B still takes webhooks the tenant turned off");
}
