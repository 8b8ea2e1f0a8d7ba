//! The notification and payment webhooks, the tenant's switches, and a table
//! of bad requests over every endpoint, over real HTTP and Socket.IO.

use serde_json::{json, Value};
use server::signature::sign_seed;

use crate::harness::{order, TestServer};

fn notification(tenant_id: &str) -> Value {
    json!({
        "tenantId": tenant_id,
        "title": "Low Stock Alert",
        "message": "Product XYZ is running low",
        "type": "warning",
        "priority": "high",
        "actionUrl": "/products/xyz",
        "actionText": "Manage Stock",
        "metadata": {"productId": "xyz", "stockLevel": 5}
    })
}

#[tokio::test]
async fn notification_webhook_round_trips_every_field_and_reaches_the_room() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let mut probe = srv.tenant_socket(&t.tenant.id, &["new-notification"]).await;
    probe.join(&t.tenant.id).await;
    let (status, body) =
        srv.post_signed("/api/webhooks/notifications", &notification(&t.tenant.id), &t.webhook_secret).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["success"], true);
    let id = body["notificationId"].as_str().unwrap();

    let ev = probe.next_named("new-notification").await;
    assert_eq!(ev["unreadCount"], 1);
    let n = &ev["notification"];
    assert_eq!(n["id"], id);
    for field in ["title", "message", "type", "priority", "actionUrl", "actionText", "metadata"] {
        assert_eq!(n[field], notification(&t.tenant.id)[field], "{field}");
    }
    let stored = srv.services.store().get_notification(&t.tenant.id, &id.into()).await.unwrap().unwrap();
    assert_eq!(serde_json::to_value(&stored).unwrap(), *n, "stored as announced");
    let trail = srv.services.store().list_activity(&t.tenant.id, 10).await.unwrap();
    assert_eq!((trail[0].action.as_str(), trail[0].entity_id.as_str()), ("notification.created", id));

    // Defaults: info, medium.
    let minimal = json!({"tenantId": t.tenant.id, "title": "Hi", "message": "There"});
    let (status, body) = srv.post_signed("/api/webhooks/notifications", &minimal, &t.webhook_secret).await;
    assert_eq!(status, 201);
    let n = srv.services.store().get_notification(&t.tenant.id, &body["notificationId"].as_str().unwrap().into()).await;
    let n = n.unwrap().unwrap();
    assert_eq!((n.kind.as_str(), n.priority.as_str()), ("info", "medium"));
}

/// Posts a payment webhook.
async fn pay(srv: &TestServer, secret: &str, body: Value) -> (u16, Value) {
    srv.post_signed("/api/webhooks/payments", &body, secret).await
}

#[tokio::test]
async fn payments_follow_the_allowed_transitions_idempotently() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let (tid, secret) = (t.tenant.id.as_str(), t.webhook_secret.as_str());
    let mut o = order(tid, "PAY-1");
    o["status"] = json!("pending");
    let (_, created) = srv.post_signed("/api/webhooks/orders", &o, secret).await;
    let order_id = created["orderId"].as_str().unwrap();
    let mut probe = srv.tenant_socket(tid, &["new-notification", "dashboard-refresh"]).await;
    probe.join(tid).await;

    let paid =
        json!({"tenantId": tid, "orderNumber": "PAY-1", "amount": 99.99, "status": "paid", "paymentId": "pay_1"});
    let (status, body) = pay(&srv, secret, paid.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["paymentStatus"].as_str(), body["previousStatus"].as_str()), (Some("paid"), Some("pending")));
    assert_eq!(body["orderId"], order_id);
    assert!(body.get("duplicate").is_none());
    assert_eq!(probe.next_named("dashboard-refresh").await["reason"], "payment-updated");
    let stored = srv.services.store().get_order(&tid.into(), &order_id.into()).await.unwrap().unwrap();
    assert_eq!((stored.payment_status.as_str(), stored.payment_id.as_deref()), ("paid", Some("pay_1")));

    // The same payment again: idempotent.
    let (status, body) = pay(&srv, secret, paid).await;
    assert_eq!((status, body["duplicate"].as_bool()), (200, Some(true)));
    // Paid again under another payment id: refused.
    let other = json!({"tenantId": tid, "orderId": order_id, "status": "paid", "paymentId": "pay_2"});
    let (status, body) = pay(&srv, secret, other).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")), "{body}");
    // Paid can go back to pending? No.
    let (status, body) = pay(&srv, secret, json!({"tenantId": tid, "orderId": order_id, "status": "pending"})).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"], "Payment status cannot change from paid to pending");

    // A refund: a notification for it, pushed to the room.
    let (status, _) = pay(&srv, secret, json!({"tenantId": tid, "orderId": order_id, "status": "refunded"})).await;
    assert_eq!(status, 200);
    let ev = probe.next_named("new-notification").await;
    assert_eq!(ev["notification"]["title"], "Payment refunded: PAY-1");
    assert_eq!(ev["notification"]["type"], "warning");
    let actions: Vec<String> =
        srv.services.store().list_activity(&tid.into(), 10).await.unwrap().into_iter().map(|a| a.action).collect();
    assert_eq!(actions, ["payment.updated", "payment.updated", "order.created"]);

    // Unknown orders: 404, by number or id; and a number that contradicts the id: 409.
    let (status, body) = pay(&srv, secret, json!({"tenantId": tid, "orderNumber": "NOPE", "status": "paid"})).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let ghost: String = server::ids::new_id();
    let (status, _) = pay(&srv, secret, json!({"tenantId": tid, "orderId": ghost, "status": "paid"})).await;
    assert_eq!(status, 404);
    let (status, _) =
        pay(&srv, secret, json!({"tenantId": tid, "orderId": order_id, "orderNumber": "PAY-2", "status": "refunded"}))
            .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn a_failed_payment_can_be_retried() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let (tid, secret) = (t.tenant.id.as_str(), t.webhook_secret.as_str());
    let mut o = order(tid, "F-1");
    o["status"] = json!("pending");
    srv.post_signed("/api/webhooks/orders", &o, secret).await;
    let before = srv.services.store().unread_count(&tid.into(), None).await.unwrap();
    let (status, _) = pay(&srv, secret, json!({"tenantId": tid, "orderNumber": "F-1", "status": "failed"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        srv.services.store().unread_count(&tid.into(), None).await.unwrap(),
        before + 1,
        "failures are announced"
    );
    let (status, body) =
        pay(&srv, secret, json!({"tenantId": tid, "orderNumber": "F-1", "status": "paid", "paymentId": "p2"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["previousStatus"], "failed");
    // Another tenant cannot touch this order, even knowing its number.
    let other = srv.tenant("Other").await;
    let (status, _) = pay(
        &srv,
        &other.webhook_secret,
        json!({"tenantId": other.tenant.id, "orderNumber": "F-1", "status": "refunded"}),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn switched_off_webhooks_are_refused_with_403_naming_the_switch() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let (tid, secret) = (t.tenant.id.as_str(), t.webhook_secret.as_str());
    let mut settings = app::models::WebhookSettings::default();
    settings.webhook_endpoints.payments = false;
    srv.services.store().update_webhook_settings(&tid.into(), &settings).await.unwrap();
    // (Written around the services, which would drop the tenant they keep for verifying webhooks.)
    srv.services.forget_tenant(&tid.into());
    let (status, body) = pay(&srv, secret, json!({"tenantId": tid, "orderNumber": "X", "status": "paid"})).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("disabled")));
    assert!(body["error"].as_str().unwrap().contains("webhookEndpoints.payments"), "{body}");
    let (status, _) = srv.post_signed("/api/webhooks/orders", &order(tid, "ON-1"), secret).await;
    assert_eq!(status, 201, "the other endpoints stay on");

    settings.webhook_enabled = false;
    srv.services.store().update_webhook_settings(&tid.into(), &settings).await.unwrap();
    // (Written around the services, which would drop the tenant they keep for verifying webhooks.)
    srv.services.forget_tenant(&tid.into());
    let (status, body) = srv.post_signed("/api/webhooks/notifications", &notification(tid), secret).await;
    assert_eq!(status, 403);
    assert!(body["error"].as_str().unwrap().contains("webhookEnabled"), "{body}");
    // Without a valid signature the switches are not revealed.
    let (status, body) = srv.post_raw("/api/webhooks/notifications", &notification(tid).to_string(), None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("invalid_signature")));
    let log = srv.services.store().list_webhook_events(&tid.into(), &Default::default(), None, 10).await.unwrap();
    assert_eq!(log.iter().filter(|e| e.status_code == 403 && e.verified).count(), 2);
}

/// How a table row signs its body.
#[derive(Clone, Copy)]
enum Sig {
    Valid,
    Unsigned,
    Wrong,
}

/// (endpoint, body, signature, status, code, first field named)
type Case = (&'static str, String, Sig, u16, &'static str, Option<&'static str>);

#[tokio::test]
async fn bad_requests_get_a_json_4xx_and_the_server_keeps_serving() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let tid = t.tenant.id.clone();
    let mut pending = order(&tid, "T-1");
    pending["status"] = json!("pending");
    assert_eq!(srv.post_signed("/api/webhooks/orders", &pending, &t.webhook_secret).await.0, 201);
    let with = |base: Value, patch: Value| {
        let mut v = base;
        for (k, x) in patch.as_object().unwrap() {
            if x.is_null() {
                v.as_object_mut().unwrap().remove(k);
            } else {
                v[k] = x.clone();
            }
        }
        v.to_string()
    };
    let o = || order(&tid, "T-2");
    let n = || notification(&tid);
    let p = || json!({"tenantId": tid, "orderNumber": "T-1", "status": "paid"});
    use Sig::*;
    // (endpoint, body, signature, status, code, first field named)
    let cases: Vec<Case> = vec![
        ("orders", "{not json".into(), Valid, 400, "invalid_json", None),
        ("orders", "[1,2,3]".into(), Valid, 400, "invalid_json", None),
        ("orders", "\"text\"".into(), Valid, 400, "invalid_json", None),
        ("orders", "".into(), Valid, 400, "invalid_json", None),
        ("orders", with(o(), json!({"tenantId": null})), Valid, 400, "validation_failed", Some("tenantId")),
        ("orders", with(o(), json!({"tenantId": 42})), Valid, 400, "validation_failed", Some("tenantId")),
        ("orders", with(o(), json!({"tenantId": "not-an-id"})), Valid, 401, "invalid_signature", None),
        ("orders", with(o(), json!({"tenantId": "507f1f77bcf86cd799439011"})), Valid, 401, "invalid_signature", None),
        ("orders", o().to_string(), Unsigned, 401, "invalid_signature", None),
        ("orders", o().to_string(), Wrong, 401, "invalid_signature", None),
        ("orders", with(o(), json!({"orderNumber": null})), Valid, 400, "validation_failed", Some("orderNumber")),
        ("orders", with(o(), json!({"orderNumber": ""})), Valid, 400, "validation_failed", Some("orderNumber")),
        (
            "orders",
            with(o(), json!({"orderNumber": "x".repeat(501)})),
            Valid,
            400,
            "validation_failed",
            Some("orderNumber"),
        ),
        ("orders", with(o(), json!({"amount": null})), Valid, 400, "validation_failed", Some("amount")),
        ("orders", with(o(), json!({"amount": -0.01})), Valid, 400, "validation_failed", Some("amount")),
        ("orders", with(o(), json!({"amount": "ten"})), Valid, 400, "validation_failed", Some("amount")),
        ("orders", with(o(), json!({"amount": 1.234})), Valid, 400, "validation_failed", Some("amount")),
        ("orders", with(o(), json!({"amount": 1e300})), Valid, 400, "validation_failed", Some("amount")),
        (
            "orders",
            with(o(), json!({"customerEmail": "john@"})),
            Valid,
            400,
            "validation_failed",
            Some("customerEmail"),
        ),
        ("orders", with(o(), json!({"currency": "DOLLARS"})), Valid, 400, "validation_failed", Some("currency")),
        ("orders", with(o(), json!({"status": "lost"})), Valid, 400, "validation_failed", Some("status")),
        ("orders", with(o(), json!({"items": {"a": 1}})), Valid, 400, "validation_failed", Some("items")),
        (
            "orders",
            with(o(), json!({"items": [{"quantity": 0}]})),
            Valid,
            400,
            "validation_failed",
            Some("items[0].quantity"),
        ),
        (
            "orders",
            with(o(), json!({"items": [{"quantity": 1.5}]})),
            Valid,
            400,
            "validation_failed",
            Some("items[0].quantity"),
        ),
        ("orders", with(o(), json!({"items": [7]})), Valid, 400, "validation_failed", Some("items[0]")),
        ("orders", with(o(), json!({"metadata": "x"})), Valid, 400, "validation_failed", Some("metadata")),
        ("notifications", with(n(), json!({"title": null})), Valid, 400, "validation_failed", Some("title")),
        ("notifications", with(n(), json!({"message": ""})), Valid, 400, "validation_failed", Some("message")),
        ("notifications", with(n(), json!({"type": "alert"})), Valid, 400, "validation_failed", Some("type")),
        ("notifications", with(n(), json!({"priority": "URGENT"})), Valid, 400, "validation_failed", Some("priority")),
        (
            "notifications",
            with(n(), json!({"actionUrl": "javascript:alert(1)"})),
            Valid,
            400,
            "validation_failed",
            Some("actionUrl"),
        ),
        (
            "notifications",
            with(n(), json!({"actionUrl": "//evil.example"})),
            Valid,
            400,
            "validation_failed",
            Some("actionUrl"),
        ),
        (
            "notifications",
            with(n(), json!({"actionUrl": "http://plain.example"})),
            Valid,
            400,
            "validation_failed",
            Some("actionUrl"),
        ),
        ("notifications", with(n(), json!({"title": "t".repeat(201)})), Valid, 400, "validation_failed", Some("title")),
        ("notifications", with(n(), json!({"userId": 5})), Valid, 400, "validation_failed", Some("userId")),
        ("notifications", n().to_string(), Wrong, 401, "invalid_signature", None),
        ("payments", with(p(), json!({"orderNumber": null})), Valid, 400, "validation_failed", Some("orderId")),
        ("payments", with(p(), json!({"status": "done"})), Valid, 400, "validation_failed", Some("status")),
        ("payments", with(p(), json!({"status": null})), Valid, 400, "validation_failed", Some("status")),
        ("payments", with(p(), json!({"orderId": "xyz"})), Valid, 400, "validation_failed", Some("orderId")),
        ("payments", with(p(), json!({"amount": -5})), Valid, 400, "validation_failed", Some("amount")),
        ("payments", with(p(), json!({"orderNumber": "MISSING"})), Valid, 404, "not_found", None),
        ("payments", with(p(), json!({"status": "refunded"})), Valid, 409, "conflict", None),
        ("payments", p().to_string(), Unsigned, 401, "invalid_signature", None),
    ];
    assert!(cases.len() >= 30);
    for (i, (endpoint, body, sig, status, code, field)) in cases.into_iter().enumerate() {
        let signature = match sig {
            Valid => Some(sign_seed(&t.webhook_secret, body.as_bytes())),
            Unsigned => None,
            Wrong => Some(sign_seed("whsec_wrong", body.as_bytes())),
        };
        let path = format!("/api/webhooks/{endpoint}");
        let (got, answer) = srv.post_raw(&path, &body, signature.as_deref()).await;
        assert_eq!(got, status, "case {i} ({endpoint} {body:.80}): {answer}");
        assert_eq!(answer["success"], false, "case {i}");
        assert_eq!(answer["code"], code, "case {i}: {answer}");
        assert!(answer["error"].as_str().is_some_and(|e| !e.is_empty()), "case {i}");
        if let Some(field) = field {
            assert_eq!(answer["details"][0]["field"], field, "case {i}: {answer}");
        }
        let health = srv.http.get(srv.url("/api/webhooks/health")).send().await.unwrap();
        assert_eq!(health.status(), 200, "case {i}: the server still serves");
    }
    // Nothing was stored by any of them.
    assert!(srv.services.store().get_order_by_number(&tid, "T-2").await.unwrap().is_none());
    assert_eq!(srv.services.store().unread_count(&tid, None).await.unwrap(), 1);
    assert_eq!(srv.post_signed("/api/webhooks/notifications", &n(), &t.webhook_secret).await.0, 201);
}

#[tokio::test]
async fn refused_media_types_are_counted_not_logged() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let body = notification(&t.tenant.id).to_string();
    let resp = srv
        .http
        .post(srv.url("/api/webhooks/notifications"))
        .header("content-type", "text/plain")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    // Refused before its signature was checked: counted, and kept in no tenant's log.
    let log = srv.services.store().list_webhook_events(&t.tenant.id, &Default::default(), None, 10).await.unwrap();
    assert!(log.is_empty(), "{log:?}");
    assert_eq!(srv.services.unverified().snapshot().get("unsupported_media_type"), Some(&1));
}

#[tokio::test]
async fn each_tenant_has_its_own_rate_limit() {
    let srv = TestServer::start_with(&[("HOOKBELL_WEBHOOK_RATE", "2"), ("HOOKBELL_WEBHOOK_BURST", "3")]).await;
    let a = srv.tenant("A").await;
    let b = srv.tenant("B").await;
    for _ in 0..3 {
        let (status, _) =
            srv.post_signed("/api/webhooks/notifications", &notification(&a.tenant.id), &a.webhook_secret).await;
        assert_eq!(status, 201);
    }
    let text = notification(&a.tenant.id).to_string();
    let resp = srv
        .http
        .post(srv.url("/api/webhooks/notifications"))
        .header("content-type", "application/json")
        .header("x-webhook-signature", sign_seed(&a.webhook_secret, text.as_bytes()))
        .body(text)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Unsigned floods do not use up the tenant's tokens, and other tenants are unaffected.
    let (status, _) =
        srv.post_signed("/api/webhooks/notifications", &notification(&b.tenant.id), &b.webhook_secret).await;
    assert_eq!(status, 201);
    // The limiter runs on tokio's clock: moved on 600 ms here, not waited for.
    tokio::time::pause();
    tokio::time::advance(std::time::Duration::from_millis(600)).await;
    tokio::time::resume();
    let (status, _) =
        srv.post_signed("/api/webhooks/notifications", &notification(&a.tenant.id), &a.webhook_secret).await;
    assert_eq!(status, 201, "a token is back after 1/rate seconds");
    assert_eq!(srv.services.store().unread_count(&a.tenant.id, None).await.unwrap(), 4);
}
