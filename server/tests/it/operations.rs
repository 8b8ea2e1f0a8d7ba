//! Running hookbell as a service: `/metrics` and who may read it; limits
//! that hold across nodes through Redis; and what happens when Redis goes
//! away under load and comes back (a `redis-server` of each test's own).

use std::{process::Stdio, sync::Arc, time::Duration};

use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    harness::{
        call, cli_tenant, connect_socket, order, post_signed_order, Node, OwnRedis, SocketProbe, TestServer, NO_KEY,
    },
    mongo_server::fresh_mongo_uri,
};

const TOKEN: &str = "metrics-token-0123456789";

/// A tenant made with the administration command: id, webhook secret, API key.
fn create_tenant(env: &[(&str, String)], name: &str) -> (String, String, String) {
    let t = cli_tenant(env, name);
    let field = |k: &str| t[k].as_str().unwrap().to_owned();
    (field("tenantId"), field("webhookSecret"), field("apiKey"))
}

/// POSTs order `number` of `tenant` signed with `secret` to `node`: the status.
async fn post_order(http: &reqwest::Client, node: &Node, tenant: &str, secret: &str, number: &str) -> u16 {
    post_signed_order(http, &node.url(""), tenant, secret, number).await
}

async fn metrics_text(srv: &TestServer, token: Option<&str>) -> (u16, String) {
    let mut req = srv.http.get(srv.url("/metrics"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn the_main_port_has_no_metrics_unless_a_token_is_set() {
    let srv = TestServer::start().await;
    let (status, body) = call(&srv, Method::GET, "/metrics", NO_KEY, None).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.is_object(), "the one error shape: {body}");
}

#[tokio::test]
async fn metrics_with_their_token_count_webhooks_refusals_and_store_work() {
    let srv = TestServer::start_with(&[("HOOKBELL_METRICS_TOKEN", TOKEN)]).await;
    let tenant = srv.tenant("Metrics").await;
    let tid = tenant.tenant.id.to_string();
    let (status, _) = srv.post_signed("/api/webhooks/orders", &order(&tid, "M-1"), &tenant.webhook_secret).await;
    assert_eq!(status, 201);
    let (status, _) = srv.post_signed("/api/webhooks/orders", &order(&tid, "M-2"), "not-the-secret").await;
    assert_eq!(status, 401);

    assert_eq!(metrics_text(&srv, None).await.0, 401, "no token");
    assert_eq!(metrics_text(&srv, Some("metrics-token-0123456780")).await.0, 401, "a wrong token");
    assert_eq!(metrics_text(&srv, Some("short")).await.0, 401, "a wrong length");
    let (status, text) = metrics_text(&srv, Some(TOKEN)).await;
    assert_eq!(status, 200);
    for expected in [
        r#"hookbell_webhooks_total{endpoint="/api/webhooks/orders",status="201"}"#,
        r#"hookbell_webhooks_total{endpoint="/api/webhooks/orders",status="401"}"#,
        r#"hookbell_webhook_duration_seconds_bucket{endpoint="/api/webhooks/orders",le="0.005"}"#,
        "hookbell_signature_failures_total{reason=",
        r#"hookbell_store_operation_seconds_bucket{store="sqlite",operation="write""#,
        r#"hookbell_store_operation_seconds_bucket{store="sqlite",operation="commit""#,
        "hookbell_sqlite_commit_group_size_bucket",
        "hookbell_sqlite_writer_queue_depth",
        r#"hookbell_events_emitted_total{event="new-notification"}"#,
        "hookbell_socket_connections",
        "hookbell_socket_rooms_joined",
        "# HELP hookbell_webhooks_total",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
}

#[tokio::test]
async fn metrics_on_their_own_address_need_no_token_unless_one_is_set() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let srv = TestServer::start_with(&[("HOOKBELL_METRICS_ADDR", &addr)]).await;
    let _socket = srv.socket(&[]).await;
    let url = format!("http://{addr}/metrics");
    // The listener is bound as the server starts serving: each try is a connect.
    let mut answer = None;
    for _ in 0..200 {
        if let Ok(resp) = srv.http.get(&url).send().await {
            answer = Some(resp);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let resp = answer.expect("the metrics address answers");
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("hookbell_socket_connections"));
    assert_eq!(call(&srv, Method::GET, "/metrics", NO_KEY, None).await.0, 404, "not on the main port");
}

/// The settings of a node of a two-node deployment on `redis`.
fn cluster_env(redis: &OwnRedis, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("MONGODB_URI", fresh_mongo_uri()),
        ("REDIS_URL", redis.url()),
        ("HOOKBELL_ENV", "production".to_owned()),
        ("HOOKBELL_SECRET_KEY", server::sealing::Sealer::generate_key()),
    ];
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    env
}

#[tokio::test]
async fn a_tenants_burst_across_two_nodes_is_limited_as_one() {
    let redis = OwnRedis::start().await;
    let env = cluster_env(&redis, &[("HOOKBELL_WEBHOOK_RATE", "1"), ("HOOKBELL_WEBHOOK_BURST", "6")]);
    let (tid, secret, _) = create_tenant(&env, "Shared Limits");
    let (a, b) = (Arc::new(Node::start(&env).await), Arc::new(Node::start(&env).await));
    let http = reqwest::Client::new();

    // 12 webhooks at the same instant, 6 to each node: one burst of 6 between them.
    let barrier = Arc::new(tokio::sync::Barrier::new(12));
    let mut sends = Vec::new();
    for i in 0..12 {
        let (node, barrier, http) = (if i % 2 == 0 { a.clone() } else { b.clone() }, barrier.clone(), http.clone());
        let (tid, secret) = (tid.clone(), secret.clone());
        sends.push(tokio::spawn(async move {
            barrier.wait().await;
            post_order(&http, &node, &tid, &secret, &format!("L-{i}")).await
        }));
    }
    let mut statuses = Vec::new();
    for send in sends {
        statuses.push(send.await.unwrap());
    }
    let accepted = statuses.iter().filter(|s| **s == 201).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(accepted + limited, 12, "{statuses:?}");
    // Per node it would be 12 (6 each); a slow machine may see a token or two come back.
    assert!((6..=8).contains(&accepted), "{statuses:?}");

    // 12 sign-in attempts for one email at the same instant, 6 to each node: the email's
    // 10 between them (each then checks a password: 401), the rest refused before (429).
    let barrier = Arc::new(tokio::sync::Barrier::new(12));
    let mut logins = Vec::new();
    for i in 0..12 {
        let (node, barrier, http) = (if i % 2 == 0 { a.clone() } else { b.clone() }, barrier.clone(), http.clone());
        logins.push(tokio::spawn(async move {
            let login = http
                .post(node.url("/api/auth/login"))
                .json(&json!({"email": "nobody@example.com", "password": "not-it-1234"}));
            barrier.wait().await;
            login.send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for login in logins {
        statuses.push(login.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [[401; 10].as_slice(), &[429, 429]].concat(), "per node it would be 12 × 401");
}

/// `/readyz` of `node` once its status is `want` (the Redis verdict is the keeper's ping,
/// once a second): each try is a request, at most 100.
async fn ready_once(http: &reqwest::Client, node: &Node, want: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        last = http.get(node.url("/readyz")).send().await.unwrap().json().await.unwrap();
        if last["status"] == want {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/readyz never said {want}: {last}");
}

/// Waits for the notification of order `number` on `probe`, at most `wait`.
async fn heard(probe: &mut SocketProbe, number: &str, wait: Duration) -> bool {
    let title = format!("New order {number}");
    probe.live.wait_for("new-notification", wait, |e| e["notification"]["title"] == title.as_str()).await.is_ok()
}

#[tokio::test]
async fn with_redis_away_nodes_keep_working_alone_and_rejoin_by_themselves() {
    let mut redis = OwnRedis::start().await;
    let env = cluster_env(&redis, &[("HOOKBELL_WEBHOOK_RATE", "0")]);
    let (tid, secret, key) = create_tenant(&env, "Redis Faults");
    let dir = tempfile::tempdir().unwrap();
    let b_log = dir.path().join("b.log");
    let a = Node::start(&env).await;
    let b = Node::start_logging(&env, Stdio::from(std::fs::File::create(&b_log).unwrap())).await;
    let http = reqwest::Client::new();
    let mut on_b = connect_socket(&b.url("/"), &["new-notification"], Some(json!({"apiKey": key})), &[]).await.unwrap();
    assert_eq!(on_b.join(&tid).await["ok"], true);
    assert_eq!(post_order(&http, &a, &tid, &secret, "F-1").await, 201);
    assert!(heard(&mut on_b, "F-1", Duration::from_secs(5)).await, "A to B through Redis");

    redis.stop();
    // Both nodes keep taking webhooks; B's own dashboard still hears B's.
    for i in 2..8 {
        assert_eq!(post_order(&http, &a, &tid, &secret, &format!("F-{i}")).await, 201);
        assert_eq!(post_order(&http, &b, &tid, &secret, &format!("G-{i}")).await, 201);
        assert!(heard(&mut on_b, &format!("G-{i}"), Duration::from_secs(5)).await, "B to its own socket");
    }
    for node in [&a, &b] {
        assert_eq!(ready_once(&http, node, "degraded").await["redis"]["reachable"], false);
    }

    redis.restart().await;
    // Cross-node delivery resumes with no restart: each try is a webhook and a wait for its event.
    let mut resumed = false;
    for i in 0..60 {
        let number = format!("R-{i}");
        assert_eq!(post_order(&http, &a, &tid, &secret, &number).await, 201);
        if heard(&mut on_b, &number, Duration::from_millis(500)).await {
            resumed = true;
            break;
        }
    }
    assert!(resumed, "A's webhooks never reached B's dashboard again");
    ready_once(&http, &b, "ready").await;

    // Six broadcasts on B that could not go through Redis, logged once (the interval is a minute).
    drop(b);
    let log = std::fs::read_to_string(&b_log).unwrap();
    let lines = log.lines().filter(|l| l.contains("Redis unreachable: events reach this node's sockets only")).count();
    assert_eq!(lines, 1, "{log}");
}
