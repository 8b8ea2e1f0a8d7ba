//! The sender SDK against the real server: retries (through a flaky proxy in
//! front of it), no retry on 4xx, idempotency across retries, Retry-After,
//! timeouts, both schemes, and the seed's use cases.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use app::models::{NotificationType, Role};
use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Router,
};
use hookbell_sdk::{
    payloads::{CheckoutComplete, LowStockAlert, MaintenanceNotice, OrderWebhook},
    Endpoint, Scheme, SendError, Sender,
};
use serde_json::{json, Value};

use crate::harness::{call, TestServer};

/// How the proxy treats request number `n` (0-based).
#[derive(Clone, Copy)]
enum Fault {
    /// Answer this status without forwarding.
    Answer(u16),
    /// Answer 429 with `Retry-After: secs`.
    RetryAfter(u64),
    /// Forward to the server, then answer 502 anyway (the acknowledgement is lost).
    LoseAnswer,
    /// Wait this long before forwarding.
    Stall(Duration),
}

struct Proxy {
    upstream: String,
    faults: Vec<Fault>,
    seen: AtomicUsize,
    /// `webhook-id` of every request that reached the proxy.
    ids: Mutex<Vec<String>>,
    http: reqwest::Client,
}

async fn forward(State(p): State<Arc<Proxy>>, headers: HeaderMap, body: Bytes) -> Response {
    let n = p.seen.fetch_add(1, Ordering::SeqCst);
    let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    p.ids.lock().unwrap().push(id);
    let fault = p.faults.get(n).copied();
    match fault {
        Some(Fault::Answer(status)) => {
            return (StatusCode::from_u16(status).unwrap(), axum::Json(json!({"success": false, "error": "injected"})))
                .into_response()
        }
        Some(Fault::RetryAfter(secs)) => {
            return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", secs.to_string())], "slow down").into_response()
        }
        Some(Fault::Stall(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    let mut req = p.http.post(&p.upstream).body(body);
    for (name, value) in &headers {
        if name != "host" && name != "content-length" {
            req = req.header(name, value);
        }
    }
    let resp = req.send().await.expect("upstream");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    if matches!(fault, Some(Fault::LoseAnswer)) {
        return (StatusCode::BAD_GATEWAY, "upstream answer lost").into_response();
    }
    (StatusCode::from_u16(status).unwrap(), [("content-type", "application/json")], bytes).into_response()
}

/// A proxy for one endpoint of `srv` that applies `faults` to the first requests.
async fn flaky(srv: &TestServer, endpoint: Endpoint, faults: Vec<Fault>) -> (String, Arc<Proxy>) {
    let proxy = Arc::new(Proxy {
        upstream: srv.url(endpoint.path()),
        faults,
        seen: AtomicUsize::new(0),
        ids: Mutex::new(Vec::new()),
        http: reqwest::Client::new(),
    });
    let app = Router::new().route(endpoint.path(), post(forward)).with_state(proxy.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, proxy)
}

fn sender(url: &str, tenant: &str, secret: &str) -> Sender {
    Sender::builder(url, tenant, secret).retry_attempts(3).backoff_ms(20, 100).timeout_ms(2_000).build().unwrap()
}

fn order(number: &str) -> OrderWebhook {
    OrderWebhook { order_number: number.into(), amount_minor: 4250, ..Default::default() }
}

async fn orders_of(srv: &TestServer, tenant: &str) -> usize {
    let key = srv.services.create_api_key(tenant, "reader", Role::Member, None).await.unwrap().key;
    let (status, body) = call(srv, reqwest::Method::GET, "/api/notifications?limit=200", &key, None).await;
    assert_eq!(status, 200, "{body}");
    body["notifications"].as_array().unwrap().iter().filter(|n| n["metadata"]["orderId"].is_string()).count()
}

#[tokio::test]
async fn retries_until_the_route_recovers_with_one_webhook_id() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Flaky").await;
    let (url, proxy) = flaky(&srv, Endpoint::Orders, vec![Fault::Answer(503), Fault::Answer(500)]).await;
    let d = sender(&url, &t.tenant.id, &t.webhook_secret).order(&order("R-1")).await.expect("delivered");
    let statuses: Vec<_> = d.attempts.iter().map(|a| a.status_code).collect();
    assert_eq!(statuses, [Some(503), Some(500), Some(201)], "{d:?}");
    assert!(d.attempts[1].delay_ms >= 10 && d.attempts[2].delay_ms >= d.attempts[1].delay_ms / 2, "{d:?}");
    let ids = proxy.ids.lock().unwrap().clone();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| id == &d.webhook_id && id.starts_with("msg_")), "{ids:?}");
    assert!(d.response["orderId"].is_string());
    assert_eq!(orders_of(&srv, &t.tenant.id).await, 1);
}

#[tokio::test]
async fn a_refused_webhook_is_not_retried() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Strict").await;
    let (url, proxy) = flaky(&srv, Endpoint::Orders, vec![]).await;
    let bad = OrderWebhook { order_number: String::new(), amount_minor: -1, ..Default::default() };
    let err = sender(&url, &t.tenant.id, &t.webhook_secret).order(&bad).await.unwrap_err();
    match &err {
        SendError::Refused { status: 400, delivery, .. } => {
            assert_eq!(delivery.attempts.len(), 1);
            assert!(delivery.response["details"].as_array().is_some_and(|d| !d.is_empty()));
        }
        other => panic!("expected a 400 refusal, got {other:?}"),
    }
    assert_eq!(proxy.seen.load(Ordering::SeqCst), 1);
    // A wrong secret is refused too (401), also without retries.
    let err = sender(&srv.url(""), &t.tenant.id, "whsec_d3Jvbmc=").order(&order("R-2")).await.unwrap_err();
    assert!(matches!(err, SendError::Refused { status: 401, .. }), "{err:?}");
}

#[tokio::test]
async fn a_retry_after_a_lost_answer_is_stored_once() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Lossy").await;
    let (url, proxy) = flaky(&srv, Endpoint::Orders, vec![Fault::LoseAnswer]).await;
    let d = sender(&url, &t.tenant.id, &t.webhook_secret).order(&order("L-1")).await.expect("delivered");
    assert_eq!(d.attempts.len(), 2);
    assert_eq!(d.attempts[0].status_code, Some(502));
    assert_eq!(proxy.seen.load(Ordering::SeqCst), 2);
    // The server saw the webhook twice under one id and answered the second
    // time from the first delivery: one order, one notification.
    assert_eq!(orders_of(&srv, &t.tenant.id).await, 1);
    let (status, body) = srv
        .post_signed(
            "/api/webhooks/orders",
            &json!({"tenantId": t.tenant.id, "orderNumber": "L-1", "amount": 1}),
            &t.webhook_secret,
        )
        .await;
    assert_eq!((status, body["duplicate"].as_bool()), (200, Some(true)), "{body}");
    assert_eq!(body["orderId"], d.response["orderId"]);
}

#[tokio::test]
async fn retry_after_is_honoured_and_timeouts_are_retried() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Patient").await;
    let (url, _) = flaky(&srv, Endpoint::Notifications, vec![Fault::RetryAfter(1)]).await;
    let alert =
        LowStockAlert { product_id: "p1".into(), product_name: "Mug".into(), stock_level: 3, low_stock_threshold: 10 };
    let d = sender(&url, &t.tenant.id, &t.webhook_secret).low_stock_alert(&alert).await.expect("delivered");
    assert_eq!(d.attempts[0].status_code, Some(429));
    assert!(d.attempts[1].delay_ms >= 1000, "Retry-After: 1 not honoured: {d:?}");

    let (url, _) = flaky(&srv, Endpoint::Notifications, vec![Fault::Stall(Duration::from_millis(1500))]).await;
    let quick =
        Sender::builder(&url, &t.tenant.id, &t.webhook_secret).backoff_ms(10, 50).timeout_ms(300).build().unwrap();
    let d = quick.low_stock_alert(&alert).await.expect("delivered after a timeout");
    assert_eq!(d.attempts[0].status_code, None);
    assert!(d.attempts[0].error.as_deref().unwrap_or_default().contains("timed out"), "{d:?}");
    assert!(d.succeeded());

    // A Retry-After beyond what the sender accepts ends the retries.
    let (url, proxy) = flaky(&srv, Endpoint::Notifications, vec![Fault::RetryAfter(3600)]).await;
    let err = sender(&url, &t.tenant.id, &t.webhook_secret).low_stock_alert(&alert).await.unwrap_err();
    assert!(matches!(err, SendError::GaveUp { .. }), "{err:?}");
    assert_eq!(proxy.seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_given_up() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = sender(&url, "t", "s").order(&order("X")).await.unwrap_err();
    let delivery = err.delivery().expect("attempts");
    assert_eq!(delivery.attempts.len(), 4, "1 + 3 retries");
    assert!(delivery.attempts.iter().all(|a| a.error.as_deref() == Some("could not connect")), "{delivery:?}");
    assert!(err.to_string().contains("not delivered after 4 attempts"), "{err}");
}

#[tokio::test]
async fn both_schemes_and_the_seed_use_cases_arrive() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Use cases").await;
    let mut socket = srv.tenant_socket(&t.tenant.id, &["new-notification"]).await;
    assert_eq!(socket.join(&t.tenant.id).await["ok"], true);
    for scheme in [Scheme::Standard, Scheme::Seed] {
        let s = Sender::builder(srv.url(""), &t.tenant.id, &t.webhook_secret).scheme(scheme).build().unwrap();
        let n = format!("UC-{scheme:?}");
        let d = s
            .checkout_complete(&CheckoutComplete {
                order_number: n.clone(),
                customer_name: Some("John Doe".into()),
                customer_email: Some("john@example.com".into()),
                total_minor: 9999,
                payment_method: Some("stripe".into()),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{scheme:?}: {e}"));
        assert_eq!(d.response["orderNumber"], n.as_str());
        let event = socket.next_named("new-notification").await;
        assert_eq!(event["notification"]["metadata"]["orderNumber"], n.as_str(), "{event}");
    }
    let s = Sender::builder(srv.url(""), &t.tenant.id, &t.webhook_secret).build().unwrap();
    s.low_stock_alert(&LowStockAlert {
        product_id: "p".into(),
        product_name: "Mug".into(),
        stock_level: 0,
        low_stock_threshold: 5,
    })
    .await
    .unwrap();
    let event = socket.next_named("new-notification").await;
    assert_eq!(event["notification"]["type"], json!(NotificationType::Error));
    assert_eq!(event["notification"]["actionUrl"], "/products/p");
    s.maintenance_notice(&MaintenanceNotice {
        scheduled_time: "2024-01-15T02:00:00Z".into(),
        estimated_duration: "2 hours".into(),
        affected_services: vec!["payments".into(), "orders".into()],
    })
    .await
    .unwrap();
    let event: Value = socket.next_named("new-notification").await;
    assert_eq!(event["notification"]["metadata"]["affectedServices"], json!(["payments", "orders"]));
}
