//! Standard Webhooks signatures: timestamp tolerance, several signatures,
//! and `webhook-id` deduplication of redeliveries.

use serde_json::json;
use server::signature::{sign_seed, sign_standard};

use crate::harness::{order, TestServer};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn note(tenant_id: &str) -> serde_json::Value {
    json!({"tenantId": tenant_id, "title": "Maintenance", "message": "Tonight 02:00-03:00", "type": "info"})
}

#[tokio::test]
async fn a_standard_webhook_is_accepted_once_per_webhook_id() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let path = "/api/webhooks/notifications";
    let (status, first) = srv.post_standard(path, &note(&t.tenant.id), &t.webhook_secret, "msg_1", now()).await;
    assert_eq!(status, 201, "{first}");
    // The sender retries the same message (a new timestamp, the same id): the first answer, nothing new.
    let (status, again) = srv.post_standard(path, &note(&t.tenant.id), &t.webhook_secret, "msg_1", now() + 1).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["notificationId"], first["notificationId"]);
    assert_eq!(again["duplicate"], true);
    assert_eq!(srv.services.store().unread_count(&t.tenant.id, None).await.unwrap(), 1);
    // A new id is a new message.
    let (status, _) = srv.post_standard(path, &note(&t.tenant.id), &t.webhook_secret, "msg_2", now()).await;
    assert_eq!(status, 201);
    assert_eq!(srv.services.store().unread_count(&t.tenant.id, None).await.unwrap(), 2);
    // Ids are per tenant: another tenant may use msg_1 too.
    let other = srv.tenant("Other").await;
    let (status, _) = srv.post_standard(path, &note(&other.tenant.id), &other.webhook_secret, "msg_1", now()).await;
    assert_eq!(status, 201);
    let outcomes: Vec<String> = srv
        .services
        .store()
        .list_webhook_events(&t.tenant.id, &Default::default(), None, 10)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| e.outcome)
        .collect();
    assert_eq!(outcomes, ["accepted", "duplicate", "accepted"]);
}

#[tokio::test]
async fn timestamps_outside_five_minutes_are_refused() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let o = order(&t.tenant.id, "TS-1");
    for (offset, expected) in [(-301, 401), (301, 401), (-290, 201)] {
        let id = format!("msg_ts_{offset}");
        let (status, body) =
            srv.post_standard("/api/webhooks/orders", &o, &t.webhook_secret, &id, now() + offset).await;
        assert_eq!(status, expected, "offset {offset}: {body}");
        if expected == 401 {
            assert_eq!(body["code"], "stale_timestamp");
        }
    }
    let text = o.to_string();
    let sig = sign_standard(&t.webhook_secret, "msg_x", now(), text.as_bytes());
    let (status, body) = srv
        .post_with_headers(
            "/api/webhooks/orders",
            &text,
            &[("webhook-id", "msg_x".into()), ("webhook-timestamp", "yesterday".into()), ("webhook-signature", sig)],
        )
        .await;
    assert_eq!((status, body["code"].as_str()), (401, Some("stale_timestamp")));
}

#[tokio::test]
async fn bad_standard_signatures_are_the_same_401_as_unknown_tenants() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let body = order(&t.tenant.id, "SIG-1");
    let text = body.to_string();
    let ts = now();
    let (status, wrong) =
        srv.post_standard("/api/webhooks/orders", &body, "whsec_bm90LXRoZS1zZWNyZXQ=", "msg_w", ts).await;
    assert_eq!((status, wrong["code"].as_str()), (401, Some("invalid_signature")));
    let ghost = order("507f1f77bcf86cd799439011", "SIG-1");
    let (status, unknown) = srv.post_standard("/api/webhooks/orders", &ghost, &t.webhook_secret, "msg_g", ts).await;
    assert_eq!(status, 401);
    assert_eq!(unknown, wrong);
    // webhook-signature without webhook-id: refused.
    let sig = sign_standard(&t.webhook_secret, "msg_n", ts, text.as_bytes());
    let headers = [("webhook-timestamp", ts.to_string()), ("webhook-signature", sig.clone())];
    let (status, _) = srv.post_with_headers("/api/webhooks/orders", &text, &headers).await;
    assert_eq!(status, 401);
    // Signed for another id than the one sent: refused.
    let headers =
        [("webhook-id", "msg_other".to_owned()), ("webhook-timestamp", ts.to_string()), ("webhook-signature", sig)];
    let (status, _) = srv.post_with_headers("/api/webhooks/orders", &text, &headers).await;
    assert_eq!(status, 401);
    // Several signatures (a sender rotating secrets): one valid one is enough.
    let good = sign_standard(&t.webhook_secret, "msg_r", ts, text.as_bytes());
    let old = sign_standard("whsec_b2xkLXNlY3JldA==", "msg_r", ts, text.as_bytes());
    let headers = [
        ("webhook-id", "msg_r".to_owned()),
        ("webhook-timestamp", ts.to_string()),
        ("webhook-signature", format!("{old} {good}")),
    ];
    let (status, created) = srv.post_with_headers("/api/webhooks/orders", &text, &headers).await;
    assert_eq!(status, 201, "{created}");
}

#[tokio::test]
async fn only_a_signed_webhook_id_deduplicates() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let text = note(&t.tenant.id).to_string();
    // The seed's signature covers the body alone: a webhook-id beside it could
    // be planted by anyone replaying a request, so it decides nothing.
    let sig = sign_seed(&t.webhook_secret, text.as_bytes());
    let headers = [("x-webhook-signature", sig), ("webhook-id", "evt_42".to_owned())];
    let (s1, b1) = srv.post_with_headers("/api/webhooks/notifications", &text, &headers).await;
    let (s2, b2) = srv.post_with_headers("/api/webhooks/notifications", &text, &headers).await;
    assert_eq!((s1, s2), (201, 201));
    assert_ne!(b1["notificationId"], b2["notificationId"]);
    let long =
        [("x-webhook-signature", sign_seed(&t.webhook_secret, text.as_bytes())), ("webhook-id", "x".repeat(300))];
    assert_eq!(srv.post_with_headers("/api/webhooks/notifications", &text, &long).await.0, 201, "ignored");
    // Signed the Standard way, the id is checked and deduplicates.
    let ts = time::OffsetDateTime::now_utc().unix_timestamp();
    let long_id = "x".repeat(300);
    let body = note(&t.tenant.id);
    let (status, body_err) =
        srv.post_standard("/api/webhooks/notifications", &body, &t.webhook_secret, &long_id, ts).await;
    assert_eq!((status, body_err["details"][0]["field"].as_str()), (400, Some("webhook-id")));
    let (s1, b1) = srv.post_standard("/api/webhooks/notifications", &body, &t.webhook_secret, "evt_43", ts).await;
    let (s2, b2) = srv.post_standard("/api/webhooks/notifications", &body, &t.webhook_secret, "evt_43", ts).await;
    assert_eq!((s1, s2, b2["duplicate"].as_bool()), (201, 200, Some(true)));
    assert_eq!(b1["notificationId"], b2["notificationId"]);
}
