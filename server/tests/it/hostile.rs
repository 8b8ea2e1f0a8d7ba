//! Hostile clients: every way the hardening review found to knock the server
//! over, confuse it or read past its walls, sent as such a client would send
//! it, against the real server. The memory cases run the server binary as a
//! process of its own and read its RSS from `/proc/<pid>/status`, asserted only
//! against generous bounds; BENCHMARKS.md ("Hostile input") has the figures.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use app::models::Role;
use futures_util::StreamExt;
use reqwest::{header, Method};
use serde_json::{json, Value};
use server::tools::socket::DISCONNECT;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    harness::{call, command, connect_socket, order, Node, TestServer},
    mongo_server::fresh_mongo_uri,
};

fn assert_shape(body: &Value, code: &str) {
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["error"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
}

fn production_vars(key: &str) -> Vec<(&'static str, String)> {
    vec![("HOOKBELL_ENV", "production".into()), ("HOOKBELL_SECRET_KEY", key.into())]
}

async fn start(vars: &[(&str, String)]) -> TestServer {
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestServer::start_with(&vars).await
}

/// Sends a request head and then `total` bytes of body in 64 KiB pieces
/// (chunked when the head says so) while reading the answer; returns the
/// answer's status (None when the server closed the connection without
/// one) and how many body bytes went out before it stopped reading.
async fn upload(addr: SocketAddr, head: &str, total: usize, chunked: bool) -> (Option<u16>, usize) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut r, mut w) = stream.into_split();
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = r.read(&mut buf).await {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if got.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        String::from_utf8_lossy(&got).split(' ').nth(1).and_then(|s| s.parse::<u16>().ok())
    });
    let piece = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    if w.write_all(head.as_bytes()).await.is_ok() {
        while sent < total && !reader.is_finished() {
            let ok = if chunked {
                let mut framed = format!("{:x}\r\n", piece.len()).into_bytes();
                framed.extend_from_slice(&piece);
                framed.extend_from_slice(b"\r\n");
                w.write_all(&framed).await.is_ok()
            } else {
                w.write_all(&piece).await.is_ok()
            };
            if !ok {
                break;
            }
            sent += piece.len();
        }
    }
    (reader.await.unwrap(), sent)
}

const MIB: usize = 1024 * 1024;

// 1. Server functions answer like every other route; body limits per route family.

#[tokio::test]
async fn server_functions_refuse_what_the_caller_got_wrong_with_4xx_in_the_one_shape() {
    let srv = TestServer::start().await;
    let form = |path: &str, body: String| {
        srv.http.post(srv.url(path)).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(body).send()
    };
    // A missing argument.
    let resp = form("/api/login", "email=ada%40example.com".into()).await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_shape(&body, "invalid_arguments");
    assert!(body["error"].as_str().unwrap().contains("password"), "names the missing field: {body}");
    // A malformed body and a wrong type.
    let resp = form("/api/login", "%%%&&&==".into()).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_shape(&resp.json().await.unwrap(), "invalid_arguments");
    let resp = form("/api/notification-update", "id=x&is_read=perhaps".into()).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_shape(&resp.json().await.unwrap(), "invalid_arguments");
    // The wrong encoding.
    let resp = srv.http.post(srv.url("/api/login")).json(&json!({"email": 1, "password": [2]})).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_shape(&resp.json().await.unwrap(), "invalid_arguments");
    // Too large: 3 MB, refused before it is read (the default limit is 64 KiB).
    let resp = form("/api/login", format!("email={}&password=x", "a".repeat(3_000_000))).await.unwrap();
    assert_eq!(resp.status(), 413);
    assert_shape(&resp.json().await.unwrap(), "payload_too_large");
    // The wrong method.
    let resp = srv.http.get(srv.url("/api/login")).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_shape(&resp.json().await.unwrap(), "method_not_allowed");
    // A refusal of the service layer keeps its status and names the field.
    let resp = form("/api/login", "email=not-an-email&password=x".into()).await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_shape(&body, "validation_failed");
    assert_eq!(body["details"][0]["field"], "email", "{body}");
    // And a well-formed call still works.
    assert_eq!(form("/api/login", "email=ada%40example.com&password=wrong-one".into()).await.unwrap().status(), 401);
}

/// A server process on its own SQLite file, in development, with `extra` settings;
/// and a tenant made by its CLI: (node, tenant id, webhook secret, admin API key, the folder).
async fn node(extra: &[(&str, String)]) -> (Node, String, String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut env = vec![
        ("DATABASE_PATH", dir.path().join("h.sqlite3").to_string_lossy().into_owned()),
        ("HOOKBELL_ENV", "development".to_owned()),
    ];
    env.extend(extra.iter().cloned());
    let out = command(&env).args(["tenant", "create", "--name", "Hostile"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let t: Value = serde_json::from_slice(&out.stdout).unwrap();
    let field = |name: &str| t[name].as_str().unwrap().to_owned();
    let (tid, secret, key) = (field("tenantId"), field("webhookSecret"), field("apiKey"));
    (Node::start(&env).await, tid, secret, key, dir)
}

async fn post_signed_to(url: &str, body: &Value, secret: &str) -> (u16, Value) {
    let text = body.to_string();
    let resp = reqwest::Client::new()
        .post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-webhook-signature", server::signature::sign_hex(secret, text.as_bytes()))
        .body(text)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn each_route_family_has_its_own_body_limit_and_a_48_mib_stream_costs_no_memory() {
    let limits = [("HOOKBELL_MAX_API_BODY_BYTES", "2048".to_owned()), ("HOOKBELL_MAX_BODY_BYTES", "4096".to_owned())];
    let (node, tid, secret, key, _dir) = node(&limits).await;
    let pad = |n: usize| json!({"tenantId": tid, "pad": "x".repeat(n)});
    // The dashboard API: its own limit.
    let resp = reqwest::Client::new()
        .patch(node.url("/api/webhooks/settings"))
        .bearer_auth(&key)
        .json(&pad(3000))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_shape(&resp.json().await.unwrap(), "payload_too_large");
    // Webhooks: theirs (3 KB passes to validation, 5 KB does not).
    let (status, body) = post_signed_to(&node.url("/api/webhooks/notifications"), &pad(3000), &secret).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post_signed_to(&node.url("/api/webhooks/notifications"), &pad(5000), &secret).await;
    assert_eq!(status, 413, "{body}");

    // 48 MiB streamed at each family, declared and chunked: refused, not buffered.
    let before = node.rss_kib();
    let total = 48 * MIB;
    for path in ["/api/login", "/api/auth/login", "/api/webhooks/orders"] {
        let declared = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {total}\r\n\r\n"
        );
        let (status, sent) = upload(node.addr, &declared, total, false).await;
        assert_eq!(status, Some(413), "{path} declared");
        assert!(sent < total, "{path}: the server answered before the body was all sent");
        let streamed = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let (status, sent) = upload(node.addr, &streamed, total, true).await;
        // The answer may be lost to the reset of a connection closed mid-upload; then it was closed early.
        assert!(status == Some(413) || (status.is_none() && sent < total), "{path} chunked: {status:?} after {sent}");
    }
    let after = node.rss_kib();
    eprintln!("RSS before {before} KiB, after 6 × 48 MiB refused {after} KiB");
    assert!(after.saturating_sub(before) < 8 * 1024, "RSS grew from {before} to {after} KiB");
    // The server still serves.
    let (status, _) = post_signed_to(&node.url("/api/webhooks/orders"), &order(&tid, "AFTER-1"), &secret).await;
    assert_eq!(status, 201);
}

// 2. Every in-memory map is bounded; password checks are bounded too.

#[tokio::test]
async fn ten_thousand_failed_logins_with_long_emails_leave_memory_bounded() {
    let (node, _tid, _secret, _key, _dir) = node(&[]).await;
    let http = reqwest::Client::new();
    let before = node.rss_kib();
    let statuses = futures_util::stream::iter(0..10_000u32)
        .map(|i| {
            let email = format!("{i}-{}@example.com", "a".repeat(4000));
            let req = http.post(node.url("/api/auth/login")).json(&json!({"email": email, "password": "x"})).send();
            async move { req.await.map(|r| r.status().as_u16()).unwrap_or(0) }
        })
        .buffer_unordered(32)
        .collect::<Vec<u16>>()
        .await;
    assert!(statuses.iter().all(|s| *s == 400 || *s == 429), "only 400 and 429: {:?}", &statuses[..20]);
    assert!(statuses.iter().filter(|s| **s == 429).count() > 9_000, "the address is limited first");
    let after = node.rss_kib();
    eprintln!("RSS before {before} KiB, after 10,000 failed logins {after} KiB");
    assert!(after.saturating_sub(before) < 16 * 1024, "RSS grew from {before} to {after} KiB");
}

#[tokio::test]
async fn logins_from_one_address_do_not_lock_out_another() {
    let srv = TestServer::start().await;
    let tid = srv.tenant("A").await.tenant.id;
    srv.services.add_user_to_tenant(&tid, "ada@example.com", "Ada", "correct horse", Role::Member).await.unwrap();
    for _ in 0..40 {
        let resp =
            srv.http.post(srv.url("/api/auth/login")).json(&json!({"email": "ada@example.com", "password": "no"}));
        assert!([401, 429].contains(&resp.send().await.unwrap().status().as_u16()));
    }
    // The address is limited now; the same email from another address is limited by its own bucket
    // (10 attempts), which the 40 above used up; a different user from there signs in.
    srv.services.add_user_to_tenant(&tid, "bob@example.com", "Bob", "correct horse", Role::Member).await.unwrap();
    let other =
        reqwest::Client::builder().local_address("127.0.0.2".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    let resp = other
        .post(srv.url("/api/auth/login"))
        .json(&json!({"email": "bob@example.com", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

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
    assert!(srv.services.store.list_webhook_events(&tid, &Default::default(), None, 10).await.unwrap().is_empty());
    let counts = srv.services.unverified.snapshot();
    assert_eq!(counts.values().sum::<u64>(), 500, "{counts:?}");
    // A genuine sender elsewhere is unaffected, and what it is told was stored is stored.
    let sender =
        reqwest::Client::builder().local_address("127.0.0.3".parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    let body = order(&tid, "REAL-1").to_string();
    let resp = sender
        .post(srv.url("/api/webhooks/orders"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-webhook-signature", server::signature::sign_hex(&t.webhook_secret, body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert!(srv.services.store.get_order_by_number(&tid, "REAL-1").await.unwrap().is_some());
}

// 4. Safe when someone forgets a setting.

#[tokio::test]
async fn a_forgotten_env_on_a_reachable_address_runs_in_production() {
    let key = server::sealing::Sealer::generate_key();
    let srv = start(&[("LEPTOS_SITE_ADDR", "0.0.0.0:5000".into()), ("HOOKBELL_SECRET_KEY", key)]).await;
    assert_eq!(srv.services.config.mode, server::config::Mode::Production);
    // No demo owner for anonymous callers, on the API and on sockets.
    let (status, body) = call(&srv, Method::GET, "/api/auth/me", crate::harness::NO_KEY, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(srv.socket_with(&[], None, &[]).await.is_err());
    // On loopback with it unset: development, as scripts/run.sh expects.
    let local = TestServer::start().await;
    assert_eq!(local.services.config.mode, server::config::Mode::Development);
    assert_eq!(call(&local, Method::GET, "/api/auth/me", crate::harness::NO_KEY, None).await.0, 200);
}

// 5. Revocation reaches open sockets.

/// A member socket of `tenant` that watches for its own disconnection, joined.
async fn joined_socket(
    url: &str,
    tenant: &str,
    auth: Option<Value>,
    headers: &[(&str, String)],
) -> crate::harness::SocketProbe {
    let probe = connect_socket(url, &[DISCONNECT, "new-notification"], auth, headers).await.unwrap();
    assert_eq!(probe.join(tenant).await["ok"], true);
    probe
}

async fn sign_in(srv: &TestServer, email: &str) -> String {
    let signed_in = srv.services.login(email, "correct horse", None, None).await.unwrap();
    format!("hookbell_session={}", signed_in.token)
}

#[tokio::test]
async fn revoking_a_key_removing_a_member_or_signing_out_disconnects_their_sockets() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let tid = t.tenant.id.clone();
    let owner = srv.services.create_api_key(&tid, "owner", Role::Owner, None).await.unwrap().key;
    for email in ["ada@example.com", "bob@example.com", "cy@example.com"] {
        srv.services.add_user_to_tenant(&tid, email, "Someone", "correct horse", Role::Member).await.unwrap();
    }
    let own = format!("http://{}", srv.addr);
    let with_cookie = |c: &str| vec![("Cookie", c.to_owned()), ("Origin", own.clone())];

    // An API key, revoked.
    let key = srv.services.create_api_key(&tid, "socket", Role::Member, None).await.unwrap();
    let mut by_key = joined_socket(&srv.url("/"), &tid, Some(json!({"apiKey": key.key})), &[]).await;
    let bystander_key = srv.services.create_api_key(&tid, "other", Role::Member, None).await.unwrap().key;
    let mut bystander = joined_socket(&srv.url("/"), &tid, Some(json!({"apiKey": bystander_key})), &[]).await;
    let (status, _) = call(&srv, Method::DELETE, &format!("/api/keys/{}", key.info.id), &owner, None).await;
    assert_eq!(status, 200);
    by_key.next_named(DISCONNECT).await;

    // A member, removed from the tenant.
    let ada = srv.services.store.get_user_by_email("ada@example.com").await.unwrap().unwrap();
    let ada_cookie = sign_in(&srv, "ada@example.com").await;
    let mut ada_socket = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&ada_cookie)).await;
    assert_eq!(call(&srv, Method::DELETE, &format!("/api/members/{}", ada.id), &owner, None).await.0, 200);
    ada_socket.next_named(DISCONNECT).await;

    // A session, signed out: only that session's sockets go.
    let bob_laptop = sign_in(&srv, "bob@example.com").await;
    let bob_phone = sign_in(&srv, "bob@example.com").await;
    let mut laptop = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&bob_laptop)).await;
    let mut phone = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&bob_phone)).await;
    let resp = srv.http.post(srv.url("/api/auth/logout")).header("cookie", &bob_laptop).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    laptop.next_named(DISCONNECT).await;

    // Signing out everywhere: every session's sockets go.
    let cy_one = sign_in(&srv, "cy@example.com").await;
    let cy_two = sign_in(&srv, "cy@example.com").await;
    let mut one = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&cy_one)).await;
    let mut two = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&cy_two)).await;
    let resp = srv
        .http
        .post(srv.url("/api/auth/logout-all"))
        .header("cookie", &cy_one)
        .header("origin", &own)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    one.next_named(DISCONNECT).await;
    two.next_named(DISCONNECT).await;

    // Everyone else is still connected and hears the next notification.
    let note = json!({"tenantId": tid, "title": "Still here", "message": "?"});
    assert_eq!(srv.post_signed("/api/webhooks/notifications", &note, &t.webhook_secret).await.0, 201);
    assert_eq!(bystander.next_named("new-notification").await["notification"]["title"], "Still here");
    assert_eq!(phone.next_named("new-notification").await["notification"]["title"], "Still here");
}

#[tokio::test]
async fn a_revocation_on_one_node_disconnects_sockets_on_another() {
    let key = server::sealing::Sealer::generate_key();
    let uri = fresh_mongo_uri();
    let redis = std::env::var("HOOKBELL_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let vars = [
        ("HOOKBELL_ENV", "production".to_owned()),
        ("HOOKBELL_SECRET_KEY", key),
        ("MONGODB_URI", uri),
        ("REDIS_URL", redis),
    ];
    let a = start(&vars).await;
    let b = start(&vars).await;
    let t = a.tenant("Two nodes").await;
    let tid = t.tenant.id.clone();
    let owner = a.services.create_api_key(&tid, "owner", Role::Owner, None).await.unwrap().key;
    let key = a.services.create_api_key(&tid, "socket", Role::Member, None).await.unwrap();
    a.services.add_user_to_tenant(&tid, "ada@example.com", "Ada", "correct horse", Role::Member).await.unwrap();
    let mut on_b = joined_socket(&b.url("/"), &tid, Some(json!({"apiKey": key.key})), &[]).await;
    let (status, _) = call(&a, Method::DELETE, &format!("/api/keys/{}", key.info.id), &owner, None).await;
    assert_eq!(status, 200);
    on_b.next_named(DISCONNECT).await;

    // A session opened on B, signed out on A.
    let signed_in = a.services.login("ada@example.com", "correct horse", None, None).await.unwrap();
    let cookie = format!("__Host-hookbell_session={}", signed_in.token);
    let headers = [("Cookie", cookie.clone()), ("Origin", format!("https://{}", b.addr))];
    let mut ada_on_b = joined_socket(&b.url("/"), &tid, None, &headers).await;
    let resp = a
        .http
        .post(a.url("/api/auth/logout"))
        .header("cookie", &cookie)
        .header("origin", format!("https://{}", a.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    ada_on_b.next_named(DISCONNECT).await;
}

// 6. One webhook-id, one processing.

async fn eight_redeliveries_store_one_notification(srv: &TestServer) {
    let t = srv.tenant("Acme").await;
    let tid = t.tenant.id.clone();
    let body = json!({"tenantId": tid, "title": "Once", "message": "only once"});
    let ts = time::OffsetDateTime::now_utc().unix_timestamp();
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let posts = (0..8).map(|_| {
        let barrier = barrier.clone();
        let body = body.clone();
        let secret = t.webhook_secret.clone();
        async move {
            barrier.wait().await;
            srv.post_standard("/api/webhooks/notifications", &body, &secret, "msg_once", ts).await
        }
    });
    let answers = futures_util::future::join_all(posts).await;
    let created = answers.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    for (status, body) in &answers {
        match status {
            201 => {}
            200 => assert_eq!(body["duplicate"], true, "{body}"),
            409 => assert_shape(body, "in_progress"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(srv.services.store.unread_count(&tid, None).await.unwrap(), 1, "one notification stored");
    // A redelivery after the first answer gets it again.
    let (status, again) =
        srv.post_standard("/api/webhooks/notifications", &body, &t.webhook_secret, "msg_once", ts).await;
    assert_eq!((status, again["duplicate"].as_bool()), (200, Some(true)), "{again}");
    assert_eq!(srv.services.store.unread_count(&tid, None).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_simultaneous_redeliveries_store_one_notification_on_sqlite() {
    eight_redeliveries_store_one_notification(&TestServer::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_simultaneous_redeliveries_store_one_notification_on_mongodb() {
    eight_redeliveries_store_one_notification(&start(&[("MONGODB_URI", fresh_mongo_uri())]).await).await;
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
        ("x-webhook-signature", server::signature::sign_hex(&t.webhook_secret, text.as_bytes())),
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
    srv.services.store.rotate_webhook_secret(&tid, "", None).await.unwrap();
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

// 9. Privacy of the event log.

#[tokio::test]
async fn members_see_no_source_addresses_and_no_one_elses_personal_notifications_in_the_event_log() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let tid = t.tenant.id.clone();
    let ada =
        srv.services.add_user_to_tenant(&tid, "ada@example.com", "Ada", "correct horse", Role::Member).await.unwrap();
    let bob =
        srv.services.add_user_to_tenant(&tid, "bob@example.com", "Bob", "correct horse", Role::Member).await.unwrap();
    for (user, title) in [(&ada.user.id, "For Ada"), (&bob.user.id, "For Bob")] {
        let note = json!({"tenantId": tid, "title": title, "message": "private", "userId": user});
        assert_eq!(srv.post_signed("/api/webhooks/notifications", &note, &t.webhook_secret).await.0, 201);
    }
    let everyone = json!({"tenantId": tid, "title": "For all", "message": "public"});
    assert_eq!(srv.post_signed("/api/webhooks/notifications", &everyone, &t.webhook_secret).await.0, 201);

    let srv = &srv;
    let events_as = |cookie: String| async move {
        let resp = srv.http.get(srv.url("/api/webhooks/events")).header("cookie", cookie).send().await.unwrap();
        resp.json::<Value>().await.unwrap()["events"].as_array().unwrap().clone()
    };
    let seen_by_ada = events_as(sign_in(srv, "ada@example.com").await).await;
    assert_eq!(seen_by_ada.len(), 3);
    assert!(seen_by_ada.iter().all(|e| e.get("sourceIp").is_none()), "{seen_by_ada:?}");
    let bodies: Vec<&str> = seen_by_ada.iter().map(|e| e["body"].as_str().unwrap()).collect();
    assert!(bodies.iter().any(|b| b.contains("For Ada")) && bodies.iter().any(|b| b.contains("For all")));
    assert!(!bodies.iter().any(|b| b.contains("For Bob")), "{bodies:?}");
    let withheld: Vec<&Value> = seen_by_ada.iter().filter(|e| e["withheld"] == true).collect();
    assert_eq!(withheld.len(), 1);
    assert!(withheld[0].get("response").is_none());
    // A member API key sees no one's personal notifications.
    let member_key = srv.services.create_api_key(&tid, "m", Role::Member, None).await.unwrap().key;
    let (_, body) = call(srv, Method::GET, "/api/webhooks/events", &member_key, None).await;
    assert_eq!(body["events"].as_array().unwrap().iter().filter(|e| e["withheld"] == true).count(), 2);
    // Admins see everything.
    let admin = srv.services.create_api_key(&tid, "a", Role::Admin, None).await.unwrap().key;
    let (_, body) = call(srv, Method::GET, "/api/webhooks/events", &admin, None).await;
    let all = body["events"].as_array().unwrap();
    assert!(all.iter().all(|e| e["sourceIp"] == "127.0.0.1" && e.get("withheld").is_none()), "{body}");
    // The server function twin says the same.
    let resp = srv
        .http
        .post(srv.url("/api/webhook-events"))
        .header("cookie", sign_in(srv, "ada@example.com").await)
        .header("origin", format!("http://{}", srv.addr))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    let twin = resp.text().await.unwrap();
    assert!(!twin.contains("For Bob") && !twin.contains("127.0.0.1") && twin.contains("For Ada"), "{twin}");
}

// 10. Slow clients.

#[tokio::test]
async fn a_half_sent_request_line_is_closed_and_a_stalled_body_times_out() {
    let srv =
        start(&[("HOOKBELL_HEADER_TIMEOUT_SECS", "1".into()), ("HOOKBELL_REQUEST_TIMEOUT_SECS", "1".into())]).await;
    // A connection that sends nothing at all is closed too.
    let mut silent = TcpStream::connect(srv.addr).await.unwrap();
    let mut nothing = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(20), silent.read_to_end(&mut nothing)).await;
    assert!(closed.is_ok(), "a silent connection is still open");
    let mut half = TcpStream::connect(srv.addr).await.unwrap();
    half.write_all(b"GET /api/webhooks/hea").await.unwrap();
    // Waits for the server to close it (the bound only keeps a broken server from hanging the test).
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(20), half.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "still open");
    // A body promised and not sent: 408 in the one shape.
    let mut stalled = TcpStream::connect(srv.addr).await.unwrap();
    stalled
        .write_all(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"em")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stalled.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}

#[tokio::test]
async fn connections_past_the_limit_wait_until_one_closes() {
    let srv = start(&[("HOOKBELL_MAX_CONNECTIONS", "2".into())]).await;
    let first = TcpStream::connect(srv.addr).await.unwrap();
    let _second = TcpStream::connect(srv.addr).await.unwrap();
    let mut third = TcpStream::connect(srv.addr).await.unwrap();
    third.write_all(b"GET /api/webhooks/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut buf = vec![0u8; 64];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), third.read(&mut buf)).await.is_err(),
        "served although two connections are open"
    );
    drop(first);
    let n = tokio::time::timeout(Duration::from_secs(20), third.read(&mut buf)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

// 11. Socket abuse.

#[tokio::test]
async fn a_socket_flooding_events_is_refused_then_disconnected_and_sockets_are_capped() {
    let srv =
        start(&[("HOOKBELL_SOCKET_EVENT_RATE", "2".into()), ("HOOKBELL_MAX_SOCKETS_PER_PRINCIPAL", "2".into())]).await;
    let t = srv.tenant("Acme").await;
    let key = srv.services.create_api_key(&t.tenant.id, "k", Role::Member, None).await.unwrap().key;
    let auth = || Some(json!({"apiKey": key}));
    let mut flood = connect_socket(&srv.url("/"), &[DISCONNECT], auth(), &[]).await.unwrap();
    let mut acks = Vec::new();
    for _ in 0..6 {
        acks.push(flood.join(&t.tenant.id).await);
    }
    assert!(acks[..4].iter().all(|a| a["ok"] == true), "a burst of twice the rate: {acks:?}");
    assert_eq!((acks[4]["ok"].as_bool(), acks[4]["code"].as_str()), (Some(false), Some("rate_limited")));
    // Kept up, it is disconnected.
    for _ in 0..10 {
        let _ = flood.live.client.emit("join-tenant", json!({"tenantId": t.tenant.id})).await;
    }
    flood.next_named(DISCONNECT).await;
    // Two sockets per principal; a third is refused; another key is not affected.
    let key = srv.services.create_api_key(&t.tenant.id, "capped", Role::Member, None).await.unwrap().key;
    let auth = || Some(json!({"apiKey": key}));
    let _one = connect_socket(&srv.url("/"), &[], auth(), &[]).await.unwrap();
    let _two = connect_socket(&srv.url("/"), &[], auth(), &[]).await.unwrap();
    assert!(connect_socket(&srv.url("/"), &[], auth(), &[]).await.is_err());
    let other = srv.services.create_api_key(&t.tenant.id, "o", Role::Member, None).await.unwrap().key;
    assert!(connect_socket(&srv.url("/"), &[], Some(json!({"apiKey": other})), &[]).await.is_ok());
}

// 13. Cookies and origins.

#[tokio::test]
async fn production_cookies_use_the_host_prefix_and_origins_the_configured_scheme() {
    let key = server::sealing::Sealer::generate_key();
    let mut vars = production_vars(&key);
    vars.push(("HOOKBELL_PUBLIC_URL", "https://dash.example.com".into()));
    let srv = start(&vars).await;
    let t = srv.tenant("Acme").await;
    srv.services
        .add_user_to_tenant(&t.tenant.id, "ada@example.com", "Ada", "correct horse", Role::Admin)
        .await
        .unwrap();
    let resp = srv
        .http
        .post(srv.url("/api/auth/login"))
        .header("origin", "https://dash.example.com")
        .json(&json!({"email": "ada@example.com", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let set_cookie = resp.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(set_cookie.starts_with("__Host-hookbell_session=") && set_cookie.contains("; Secure"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/") && !set_cookie.contains("Domain"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let patch = |origin: &'static str| {
        srv.http
            .patch(srv.url("/api/webhooks/settings"))
            .header("cookie", &cookie)
            .header("origin", origin)
            .header("host", "dash.example.com")
            .json(&json!({"webhookRetryAttempts": 2}))
            .send()
    };
    assert_eq!(patch("http://dash.example.com").await.unwrap().status(), 403, "http is not our scheme");
    assert_eq!(patch("https://dash.example.com").await.unwrap().status(), 200);
    // The unprefixed name is not read in production.
    let plain = cookie.replacen("__Host-", "", 1);
    let resp = srv.http.get(srv.url("/api/auth/me")).header("cookie", plain).send().await.unwrap();
    assert_eq!(resp.status(), 401);
}
