//! Limits hostile clients run into: body limits per route family, bounded
//! memory under floods of failed logins, per-address login limits, and slow or
//! too many connections.

use std::{net::SocketAddr, time::Duration};

use app::models::Role;
use futures_util::StreamExt;
use reqwest::header;
use serde_json::{json, Value};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::{assert_shape, start};
use crate::harness::{command, order, Node, TestServer};

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
    let resp = form("/api/preferences-save", "change=%5B1%5D".into()).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_shape(&resp.json().await.unwrap(), "invalid_arguments");
    let resp = form("/api/preferences-save", "change=%7B%22desktop%22%3A1%7D".into()).await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_shape(&body, "validation_failed");
    assert_eq!(body["details"][0]["field"], "desktop", "{body}");
    // A provider's change: not an object, a bad field named, a provider that does not exist.
    let resp = form("/api/provider-save", "provider=stripe&change=%5B1%5D".into()).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_shape(&resp.json().await.unwrap(), "invalid_arguments");
    let resp = form("/api/provider-save", "provider=stripe&change=%7B%22signingSecret%22%3A1%7D".into()).await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_shape(&body, "validation_failed");
    assert_eq!(body["details"][0]["field"], "signingSecret", "{body}");
    let resp = form("/api/provider-save", "provider=paypal&change=%7B%7D".into()).await.unwrap();
    assert_eq!(resp.status(), 404);
    let resp = form("/api/provider-save", "provider=stripe".into()).await.unwrap();
    assert_eq!(resp.status(), 400, "a missing argument");
    let resp = form("/api/notification-snooze", "id=x&until=soon".into()).await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_shape(&body, "validation_failed");
    assert_eq!(body["details"][0]["field"], "snoozedUntil", "{body}");
    // The team's server functions: bad fields named, a missing argument, no account for the demo.
    let resp = form("/api/member-invite", "email=nope&role=king".into()).await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_shape(&body, "validation_failed");
    let fields: Vec<&str> = body["details"].as_array().unwrap().iter().filter_map(|d| d["field"].as_str()).collect();
    assert_eq!(fields, ["email", "role"], "{body}");
    let resp = form("/api/member-role", "user_id=507f1f77bcf86cd799439011&role=king".into()).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_shape(&resp.json().await.unwrap(), "validation_failed");
    let resp = form("/api/invitation-accept", "token=hbi_x".into()).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_shape(&resp.json().await.unwrap(), "invalid_arguments");
    let resp = form("/api/invitation", format!("token=hbi_{}", "x".repeat(50_000))).await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_shape(&resp.json().await.unwrap(), "not_found");
    let resp = form("/api/password-change", "current_password=a&new_password=b".into()).await.unwrap();
    assert_eq!(resp.status(), 403, "the demo has no account");
    assert_shape(&resp.json().await.unwrap(), "forbidden");
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
        .header("x-webhook-signature", server::signature::sign_seed(secret, text.as_bytes()))
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

// 4. An answer given before its request's body was read.

/// Refused before its body is read (too large, or no valid credential), a
/// request is answered with `connection: close`: hyper closes such a
/// connection, and a client that reused it would see it cut. What the client
/// still sends is read away before the close (up to 4 MiB), so the answer is
/// never lost to a reset. A body that was read, or a small one (which hyper
/// reads away itself), keeps the connection open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_before_the_body_closes_the_connection_without_losing_the_answer() {
    let srv = TestServer::start().await;
    let tenant = srv.tenant("Early").await.tenant.id.to_string();
    let key = srv.services.create_api_key(&tenant, "a", Role::Admin, None).await.unwrap().key;
    let close = |resp: &reqwest::Response| resp.headers().get(header::CONNECTION).map(|v| v.as_bytes().to_vec());
    let huge = json!({"pad": "x".repeat(2 * MIB)});
    for _ in 0..10 {
        let resp =
            srv.http.patch(srv.url("/api/webhooks/settings")).bearer_auth(&key).json(&huge).send().await.unwrap();
        assert_eq!((resp.status().as_u16(), close(&resp)), (413, Some(b"close".to_vec())));
        assert_shape(&resp.json().await.unwrap(), "payload_too_large");
        // The same client at once: on a new connection, answered.
        let resp = srv.http.get(srv.url("/api/webhooks/settings")).bearer_auth(&key).send().await.unwrap();
        assert_eq!((resp.status().as_u16(), close(&resp)), (200, None));
    }
    let patch =
        |key: &str, body: Value| srv.http.patch(srv.url("/api/webhooks/settings")).bearer_auth(key).json(&body).send();
    let resp = patch("hb_live_not_a_key", json!({"webhookEnabled": true})).await.unwrap();
    assert_eq!((resp.status().as_u16(), close(&resp)), (401, None), "a small body is left to hyper");
    let resp = patch("hb_live_not_a_key", json!({"pad": "x".repeat(32 * 1024)})).await.unwrap();
    assert_eq!((resp.status().as_u16(), close(&resp)), (401, Some(b"close".to_vec())));
    let resp = patch(&key, json!({"webhookEnabled": true})).await.unwrap();
    assert_eq!((resp.status().as_u16(), close(&resp)), (200, None));

    // A client still sending its too-large body after the answer came: the rest is read away
    // (a socket closed with unread data would be reset under the client), then the end.
    for _ in 0..5 {
        let mut stream = TcpStream::connect(srv.addr).await.unwrap();
        let head = head_declaring("PATCH", "/api/webhooks/settings", &key, 3 * MIB);
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(&vec![b'x'; MIB]).await.unwrap();
        let mut answer = head_of_answer(&mut stream).await;
        stream.write_all(&vec![b'x'; 2 * MIB]).await.expect("the rest is read away, not refused with a reset");
        let end = tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut answer)).await;
        end.expect("the end comes").expect("the answer, then the end of the connection");
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 413") && text.contains("payload_too_large"), "{text}");
    }

    // A declared length over the limit is refused before a byte of the body comes.
    for (method, path) in [("PATCH", "/api/webhooks/settings"), ("POST", "/api/webhooks/orders")] {
        let mut stream = TcpStream::connect(srv.addr).await.unwrap();
        let head = head_declaring(method, path, &key, 1024 * MIB);
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = String::from_utf8_lossy(&head_of_answer(&mut stream).await).into_owned();
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
    }

    // A client that goes on sending after the answer is not read for ever: the connection ends.
    let mut stream = TcpStream::connect(srv.addr).await.unwrap();
    let head = head_declaring("PATCH", "/api/webhooks/settings", &key, 1024 * MIB);
    stream.write_all(head.as_bytes()).await.unwrap();
    head_of_answer(&mut stream).await;
    let piece = vec![b'x'; 64 * 1024];
    let flood = async {
        let mut sent = 0;
        while sent < 256 * MIB && stream.write_all(&piece).await.is_ok() {
            sent += piece.len();
        }
        sent
    };
    let sent = tokio::time::timeout(Duration::from_secs(60), flood).await.expect("the server ends the connection");
    assert!(sent < 256 * MIB, "the server stopped reading (after {sent} bytes)");
}

/// A request head with a bearer `key`, declaring a JSON body of `length` bytes.
fn head_declaring(method: &str, path: &str, key: &str, length: usize) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// Reads from `stream` up to the end of an answer's head (bounded: a failure does not hang).
async fn head_of_answer(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(60), stream.read(&mut buf)).await.expect("an answer").unwrap();
        assert!(n > 0, "closed before the answer: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buf[..n]);
    }
    answer
}
