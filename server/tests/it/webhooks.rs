//! The order webhook and health endpoint over real HTTP.

use serde_json::{json, Value};
use server::signature::sign_seed;

use crate::harness::{order, TestServer};

fn assert_error_shape(body: &Value, code: &str) {
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["error"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
}

#[tokio::test]
async fn signed_order_is_stored_and_answered_in_the_seed_shape() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let (status, body) =
        srv.post_signed("/api/webhooks/orders", &order(&t.tenant.id, "ORD-12345"), &t.webhook_secret).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Order created successfully");
    assert_eq!(body["orderNumber"], "ORD-12345");
    assert!(server::ids::is_id(body["orderId"].as_str().unwrap()));
    assert!(body.get("duplicate").is_none());
    assert_eq!(srv.services.store().unread_count(&t.tenant.id, None).await.unwrap(), 1);
    let latest = srv.services.store().list_notifications(&t.tenant.id, &Default::default(), None, 10).await.unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].title, "New order ORD-12345");
    assert_eq!(latest[0].metadata["orderId"], body["orderId"]);
    let trail = srv.services.store().list_activity(&t.tenant.id, 10).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, "order.created");
    assert_eq!(trail[0].actor, "webhook:orders");
    assert_eq!(trail[0].entity_id, body["orderId"].as_str().unwrap());
    assert_eq!(trail[0].source_ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn repeated_order_number_is_idempotent() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let o = order(&t.tenant.id, "ORD-1");
    let (s1, b1) = srv.post_signed("/api/webhooks/orders", &o, &t.webhook_secret).await;
    let (s2, b2) = srv.post_signed("/api/webhooks/orders", &o, &t.webhook_secret).await;
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(b1["orderId"], b2["orderId"]);
    assert_eq!(b2["duplicate"], true);
    assert_eq!(srv.services.store().unread_count(&t.tenant.id, None).await.unwrap(), 1);
}

#[tokio::test]
async fn unsigned_wrongly_signed_and_unknown_tenant_are_the_same_401() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let body = order(&t.tenant.id, "ORD-2").to_string();

    let (status, unsigned) = srv.post_raw("/api/webhooks/orders", &body, None).await;
    assert_eq!(status, 401);
    assert_error_shape(&unsigned, "invalid_signature");

    let wrong = sign_seed("not-the-secret", body.as_bytes());
    let (status, wrong_body) = srv.post_raw("/api/webhooks/orders", &body, Some(&wrong)).await;
    assert_eq!(status, 401);
    assert_eq!(wrong_body, unsigned);

    // Signed correctly, but for a body that was altered afterwards.
    let sig = sign_seed(&t.webhook_secret, body.as_bytes());
    let tampered = body.replace("99.99", "0.01");
    let (status, _) = srv.post_raw("/api/webhooks/orders", &tampered, Some(&sig)).await;
    assert_eq!(status, 401);

    // Unknown tenant: indistinguishable from a bad signature.
    let ghost = order("507f1f77bcf86cd799439011", "ORD-3");
    let (status, ghost_body) = srv.post_signed("/api/webhooks/orders", &ghost, &t.webhook_secret).await;
    assert_eq!(status, 401);
    assert_eq!(ghost_body, unsigned);

    // Another tenant's secret does not work either.
    let other = srv.tenant("Other").await;
    let (status, _) =
        srv.post_signed("/api/webhooks/orders", &order(&t.tenant.id, "ORD-4"), &other.webhook_secret).await;
    assert_eq!(status, 401);
    assert_eq!(srv.services.store().unread_count(&t.tenant.id, None).await.unwrap(), 0);
}

#[tokio::test]
async fn bad_input_gets_a_json_4xx_naming_the_problem() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let secret = &t.webhook_secret;
    let id = t.tenant.id.clone();

    let (status, body) = srv
        .post_signed("/api/webhooks/orders", &json!({"tenantId": id, "amount": -5, "customerEmail": "x"}), secret)
        .await;
    assert_eq!(status, 400);
    assert_error_shape(&body, "validation_failed");
    let fields: Vec<&str> = body["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["orderNumber", "customerEmail", "amount"]);

    let (status, body) =
        srv.post_signed("/api/webhooks/orders", &json!({"orderNumber": "X", "amount": 1}), secret).await;
    assert_eq!(status, 400);
    assert_eq!(body["details"][0]["field"], "tenantId");

    let (status, body) = srv.post_raw("/api/webhooks/orders", "{not json", Some("00")).await;
    assert_eq!(status, 400);
    assert_error_shape(&body, "invalid_json");

    let (status, body) = srv.post_raw("/api/webhooks/orders", "[1,2]", Some("00")).await;
    assert_eq!(status, 400);
    assert_error_shape(&body, "invalid_json");

    let resp = srv
        .http
        .post(srv.url("/api/webhooks/orders"))
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    assert_error_shape(&resp.json::<Value>().await.unwrap(), "unsupported_media_type");

    let huge = format!(r#"{{"tenantId":"{id}","pad":"{}"}}"#, "x".repeat(1024 * 1024 + 10));
    let (status, body) = srv.post_raw("/api/webhooks/orders", &huge, Some("00")).await;
    assert_eq!(status, 413);
    assert_error_shape(&body, "payload_too_large");

    let resp = srv.http.get(srv.url("/api/webhooks/orders")).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_error_shape(&resp.json::<Value>().await.unwrap(), "method_not_allowed");

    let resp = srv.http.get(srv.url("/api/nothing-here")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_error_shape(&resp.json::<Value>().await.unwrap(), "not_found");

    // And the server still serves.
    let (status, _) = srv.post_signed("/api/webhooks/orders", &order(&id, "ORD-OK"), secret).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn every_verified_order_request_lands_in_the_webhook_event_log() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let o = order(&t.tenant.id, "EV-1");
    assert_eq!(srv.post_signed("/api/webhooks/orders", &o, &t.webhook_secret).await.0, 201);
    assert_eq!(srv.post_signed("/api/webhooks/orders", &o, &t.webhook_secret).await.0, 200);
    assert_eq!(srv.post_raw("/api/webhooks/orders", &o.to_string(), Some("00")).await.0, 401);
    let big = json!({"tenantId": t.tenant.id, "amount": -1, "pad": "x".repeat(20_000)});
    assert_eq!(srv.post_signed("/api/webhooks/orders", &big, &t.webhook_secret).await.0, 400);

    let log = srv.services.store().list_webhook_events(&t.tenant.id, &Default::default(), None, 10).await.unwrap();
    let seen: Vec<(&str, u16, bool)> =
        log.iter().rev().map(|e| (e.outcome.as_str(), e.status_code, e.verified)).collect();
    // The forged one (401) is only counted: what a stranger sends is kept in no tenant's log.
    assert_eq!(seen, [("accepted", 201, true), ("duplicate", 200, true), ("rejected", 400, true)]);
    assert_eq!(srv.services.unverified().snapshot().get("invalid_signature"), Some(&1));
    assert!(log[0].body_truncated && log[0].body.len() == server::service::webhooks::EVENT_BODY_CAP);
    assert!(log.iter().all(|e| e.endpoint == "orders" && e.source_ip.as_deref() == Some("127.0.0.1")));
}

#[tokio::test]
async fn health_reports_the_store() {
    let srv = TestServer::start().await;
    let resp = srv.http.get(srv.url("/api/webhooks/health")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["store"]["kind"], "sqlite");
    assert_eq!(body["store"]["reachable"], true);
}

#[tokio::test]
async fn the_server_runs_on_mongodb_by_configuration_alone() {
    let uri = crate::mongo_server::fresh_mongo_uri();
    let srv = TestServer::start_with(&[("MONGODB_URI", &uri)]).await;
    assert_eq!(srv.services.store().kind(), "mongodb");
    let t = srv.tenant("Acme").await;
    let o = order(&t.tenant.id, "M-1");
    let (status, first) = srv.post_signed("/api/webhooks/orders", &o, &t.webhook_secret).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = srv.post_signed("/api/webhooks/orders", &o, &t.webhook_secret).await;
    assert_eq!(status, 200);
    assert_eq!(again["orderId"], first["orderId"]);
    let body: Value = srv.http.get(srv.url("/api/webhooks/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(body["store"]["kind"], "mongodb");
    assert_eq!(body["store"]["reachable"], true);
}

#[tokio::test]
async fn an_unreachable_store_fails_start_up_clearly_after_retries() {
    // A port nothing listens on: the start-up retries, then gives up with a store error.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let uri = format!("mongodb://127.0.0.1:{port}/x?serverSelectionTimeoutMS=300&connectTimeoutMS=300");
    let config = server::config::Config::from_lookup(|k| match k {
        "MONGODB_URI" => Some(uri.clone()),
        "HOOKBELL_STORE_CONNECT_ATTEMPTS" => Some("2".into()),
        _ => None,
    })
    .unwrap();
    let started = std::time::Instant::now();
    let err = server::open_store(&config).await.err().expect("must fail");
    assert!(matches!(err, server::StartError::Store(server::store::StoreError::Unavailable(_))), "{err}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(500), "no backoff between attempts");
}

#[tokio::test]
async fn a_store_that_fails_mid_flight_gives_503_json_with_retry_after() {
    let mut mongo = crate::mongo_server::DedicatedMongo::start();
    let uri = format!("{}/hb?serverSelectionTimeoutMS=500&connectTimeoutMS=500", mongo.uri);
    let srv = TestServer::start_with(&[("MONGODB_URI", &uri)]).await;
    let t = srv.tenant("Acme").await;
    mongo.kill();

    let body = order(&t.tenant.id, "DOWN-1").to_string();
    let sig = sign_seed(&t.webhook_secret, body.as_bytes());
    let resp = srv
        .http
        .post(srv.url("/api/webhooks/orders"))
        .header("content-type", "application/json")
        .header("x-webhook-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    assert_error_shape(&resp.json::<Value>().await.unwrap(), "store_unavailable");

    let resp = srv.http.get(srv.url("/api/webhooks/health")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    let health: Value = resp.json().await.unwrap();
    assert_eq!(health["store"]["reachable"], false);
}

#[tokio::test]
async fn webhook_secrets_are_sealed_at_rest() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let stored = srv.services.store().get_tenant(&t.tenant.id).await.unwrap().unwrap();
    assert!(stored.webhook_secret_sealed.starts_with("v2."), "bound to its tenant");
    assert!(!stored.webhook_secret_sealed.contains(&t.webhook_secret));
    assert_eq!(srv.services.tenant_secret(&stored).unwrap().expose(), t.webhook_secret);
    // Not in the database file, the WAL included.
    let mut bytes = std::fs::read(&srv.db_path).unwrap();
    bytes.extend(std::fs::read(srv.db_path.with_extension("sqlite3-wal")).unwrap_or_default());
    let needle = t.webhook_secret.as_bytes();
    assert!(!bytes.windows(needle.len()).any(|w| w == needle), "plain secret found in the database file");
}

#[tokio::test]
async fn production_needs_a_secret_key() {
    let prod = |key: Option<&str>| {
        let key = key.map(str::to_owned);
        server::config::Config::from_lookup(move |k| match k {
            "HOOKBELL_ENV" => Some("production".into()),
            "HOOKBELL_SECRET_KEY" => key.clone(),
            _ => None,
        })
        .unwrap()
    };
    assert!(matches!(server::load_sealer(&prod(None)), Err(server::sealing::SealError::MissingKey)));
    assert!(server::load_sealer(&prod(Some("short"))).is_err());
    let key = server::sealing::Sealer::generate_key();
    assert!(server::load_sealer(&prod(Some(&key))).is_ok());
}

#[tokio::test]
async fn tenants_without_their_own_secret_fall_back_to_the_global_one() {
    let srv = TestServer::start_with(&[("WEBHOOK_SECRET", "global-secret-from-env")]).await;
    // A tenant imported from the seed's database, with no secret of its own.
    let mut imported = srv.tenant("Imported").await.tenant;
    imported.id = server::ids::new_id();
    imported.slug = format!("imported-{}", imported.id);
    imported.webhook_secret_sealed = String::new();
    srv.services.store().insert_tenant(&imported).await.unwrap();
    let (status, _) =
        srv.post_signed("/api/webhooks/orders", &order(&imported.id, "G-1"), "global-secret-from-env").await;
    assert_eq!(status, 201);
    // A tenant with its own secret does not accept the global one.
    let own = srv.tenant("Own").await;
    let (status, _) =
        srv.post_signed("/api/webhooks/orders", &order(&own.tenant.id, "G-2"), "global-secret-from-env").await;
    assert_eq!(status, 401);

    // Without WEBHOOK_SECRET such a tenant accepts nothing.
    let bare = TestServer::start().await;
    bare.services.store().insert_tenant(&imported).await.unwrap();
    let (status, _) = bare.post_signed("/api/webhooks/orders", &order(&imported.id, "G-3"), "").await;
    assert_eq!(status, 401);
}
