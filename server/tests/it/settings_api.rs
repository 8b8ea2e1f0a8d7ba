//! The webhook settings API: who may read and change it, validated ranges,
//! and secret rotation with a grace period — over real HTTP.

use app::models::Role;
use reqwest::Method;
use serde_json::json;

use crate::harness::{call, order, TestServer, NO_KEY};

async fn key(srv: &TestServer, tenant_id: &str, role: Role) -> String {
    srv.services.create_api_key(tenant_id, "test key", role, None).await.unwrap().key
}

#[tokio::test]
async fn members_read_admins_change_and_every_change_is_audited() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let member = key(&srv, &t.tenant.id, Role::Member).await;
    let admin = key(&srv, &t.tenant.id, Role::Admin).await;
    let path = "/api/webhooks/settings";

    let (status, body) = call(&srv, Method::GET, path, &member, None).await;
    assert_eq!(status, 200, "{body}");
    let s = &body["settings"];
    assert_eq!(s["webhookEnabled"], true);
    assert_eq!(s["webhookEndpoints"], json!({"orders": true, "notifications": true, "payments": true}));
    assert_eq!((s["webhookRetryAttempts"].as_u64(), s["webhookTimeoutMs"].as_u64()), (Some(3), Some(30000)));
    assert_eq!(s["secretHint"], format!("…{}", &t.webhook_secret[t.webhook_secret.len() - 4..]));
    assert_eq!(s["webhookUrls"]["orders"], srv.url("/api/webhooks/orders"));
    assert!(!body.to_string().contains(&t.webhook_secret), "the secret is never shown again");

    let change = json!({"webhookEndpoints": {"payments": false}, "webhookRetryAttempts": 5});
    let (status, body) = call(&srv, Method::PATCH, path, &member, Some(change.clone())).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, body) = call(&srv, Method::PATCH, path, &admin, Some(change)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["settings"]["webhookEndpoints"]["payments"], false);
    assert_eq!(body["settings"]["webhookEndpoints"]["orders"], true, "untouched");
    assert_eq!(body["settings"]["webhookRetryAttempts"], 5);
    let stored = srv.services.store().get_tenant(&t.tenant.id).await.unwrap().unwrap().webhook_settings;
    assert!(!stored.webhook_endpoints.payments);
    let trail = srv.services.store().list_activity(&t.tenant.id, 5).await.unwrap();
    assert_eq!(trail[0].action, "settings.updated");
    assert!(trail[0].actor.starts_with("api-key:"));
    assert_eq!(trail[0].details["before"]["webhookRetryAttempts"], 3);
    assert_eq!(trail[0].details["after"]["webhookRetryAttempts"], 5);

    let bad = json!({"webhookRetryAttempts": 11, "webhookTimeoutMs": 500, "webhookEnabled": "on", "extra": 1});
    let (status, body) = call(&srv, Method::PATCH, path, &admin, Some(bad)).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("validation_failed")));
    assert_eq!(body["details"].as_array().unwrap().len(), 4, "{body}");
    let (status, _) = call(&srv, Method::PATCH, path, &admin, Some(json!({"webhookTimeoutMs": 120000}))).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn callers_outside_the_tenant_get_nothing() {
    let srv = TestServer::start_with(&[("HOOKBELL_ENV", "production"), ("HOOKBELL_SECRET_KEY", &test_key())]).await;
    let a = srv.tenant("A").await;
    let b = srv.tenant("B").await;
    let a_admin = key(&srv, &a.tenant.id, Role::Admin).await;
    let path = "/api/webhooks/settings";
    let (status, body) = call(&srv, Method::GET, path, NO_KEY, None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    let (status, _) = call(&srv, Method::GET, path, "hb_00000000_nope", None).await;
    assert_eq!(status, 401);
    let (status, _) = call(&srv, Method::GET, path, &format!("{a_admin}x"), None).await;
    assert_eq!(status, 401, "a key with a right prefix and a wrong rest");

    // x-tenant-id selects only among the caller's tenants.
    let resp =
        srv.http.get(srv.url(path)).bearer_auth(&a_admin).header("x-tenant-id", b.tenant.id.as_str()).send().await;
    assert_eq!(resp.unwrap().status(), 403);
    let resp =
        srv.http.get(srv.url(path)).bearer_auth(&a_admin).header("x-tenant-id", a.tenant.id.as_str()).send().await;
    assert_eq!(resp.unwrap().status(), 200);

    // A revoked key stops working at once.
    let created = srv.services.create_api_key(&a.tenant.id, "temp", Role::Admin, None).await.unwrap();
    assert_eq!(call(&srv, Method::GET, path, &created.key, None).await.0, 200);
    srv.services.store().revoke_api_key(&a.tenant.id, &created.info.id, server::ids::now()).await.unwrap();
    assert_eq!(call(&srv, Method::GET, path, &created.key, None).await.0, 401);
    let listed = srv.services.store().list_api_keys(&a.tenant.id).await.unwrap();
    assert!(listed.iter().any(|k| k.id == created.info.id && k.last_used_at.is_some()), "last use recorded");
}

fn test_key() -> String {
    server::sealing::Sealer::generate_key()
}

#[tokio::test]
async fn rotating_the_secret_retires_the_old_one_after_the_grace_period() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let admin = key(&srv, &t.tenant.id, Role::Admin).await;
    let member = key(&srv, &t.tenant.id, Role::Member).await;
    let path = "/api/webhooks/settings/generate-secret";
    let post_order = |secret: String, n: &'static str| {
        let srv = &srv;
        let tid = t.tenant.id.clone();
        async move { srv.post_signed("/api/webhooks/orders", &order(&tid, n), &secret).await.0 }
    };

    assert_eq!(call(&srv, Method::POST, path, &member, None).await.0, 403);
    let (status, body) = call(&srv, Method::POST, path, &admin, Some(json!({"graceSeconds": 600}))).await;
    assert_eq!(status, 200, "{body}");
    let second = body["webhookSecret"].as_str().unwrap().to_owned();
    assert!(second.starts_with("whsec_") && second != t.webhook_secret);
    assert!(body["previousSecretValidUntil"].is_string());
    // During the grace period both work.
    assert_eq!(post_order(t.webhook_secret.clone(), "R-1").await, 201);
    assert_eq!(post_order(second.clone(), "R-2").await, 201);

    // Rotating again without grace: only the newest works.
    let (status, body) = call(&srv, Method::POST, path, &admin, None).await;
    assert_eq!(status, 200);
    let third = body["webhookSecret"].as_str().unwrap().to_owned();
    assert!(body["previousSecretValidUntil"].is_null());
    assert_eq!(post_order(t.webhook_secret.clone(), "R-3").await, 401);
    assert_eq!(post_order(second, "R-4").await, 401);
    assert_eq!(post_order(third.clone(), "R-5").await, 201);

    let (status, body) = call(&srv, Method::POST, path, &admin, Some(json!({"graceSeconds": -1}))).await;
    assert_eq!((status, body["details"][0]["field"].as_str()), (400, Some("graceSeconds")));
    let (status, _) = call(&srv, Method::POST, path, &admin, Some(json!({"graceSeconds": 700000}))).await;
    assert_eq!(status, 400);

    // Audited, never with the secret itself.
    let trail = srv.services.store().list_activity(&t.tenant.id, 20).await.unwrap();
    let rotations: Vec<_> = trail.iter().filter(|e| e.action == "secret.rotated").collect();
    assert_eq!(rotations.len(), 2);
    assert_eq!(rotations[1].details["graceSeconds"], 600);
    assert!(!serde_json::to_string(&trail).unwrap().contains(&third[6..]));
}

#[tokio::test]
async fn the_test_webhook_is_delivered_over_http_and_reported() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let admin = key(&srv, &t.tenant.id, Role::Admin).await;
    let member = key(&srv, &t.tenant.id, Role::Member).await;
    let path = "/api/webhooks/settings/test";
    assert_eq!(call(&srv, Method::POST, path, &member, None).await.0, 403);

    let (status, body) = call(&srv, Method::POST, path, &admin, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    let attempts = body["test"]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!((attempts[0]["ok"].as_bool(), attempts[0]["statusCode"].as_u64()), (Some(true), Some(201)));
    assert_eq!(body["test"]["url"], srv.url("/api/webhooks/notifications"));
    let latest = srv.services.store().list_notifications(&t.tenant.id, &Default::default(), None, 5).await.unwrap();
    assert_eq!(latest[0].title, "Test webhook");
    let events = srv.services.store().list_webhook_events(&t.tenant.id, &Default::default(), None, 5).await.unwrap();
    assert_eq!((events[0].outcome.as_str(), events[0].verified), ("accepted", true), "it went through the pipeline");
    let trail = srv.services.store().list_activity(&t.tenant.id, 5).await.unwrap();
    assert_eq!(trail[0].action, "webhook.tested");

    // The endpoint switched off: one attempt, refused, not retried.
    let mut settings = app::models::WebhookSettings::default();
    settings.webhook_endpoints.notifications = false;
    srv.services.store().update_webhook_settings(&t.tenant.id, &settings).await.unwrap();
    // (Written around the services, which would drop the tenant they keep for verifying webhooks.)
    srv.services.forget_tenant(&t.tenant.id);
    let (_, body) = call(&srv, Method::POST, path, &admin, None).await;
    assert_eq!(body["success"], false);
    let attempts = body["test"]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1, "a 403 is not retried");
    assert_eq!(attempts[0]["statusCode"], 403);
    assert!(attempts[0]["error"].as_str().unwrap().contains("webhookEndpoints.notifications"));
}

#[tokio::test]
async fn an_unreachable_webhook_url_is_retried_with_backoff() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let srv = TestServer::start_with(&[("HOOKBELL_PUBLIC_URL", &format!("http://127.0.0.1:{port}"))]).await;
    let t = srv.tenant("Acme").await;
    let admin = key(&srv, &t.tenant.id, Role::Admin).await;
    let settings = app::models::WebhookSettings { webhook_retry_attempts: 2, ..Default::default() };
    srv.services.store().update_webhook_settings(&t.tenant.id, &settings).await.unwrap();
    // (Written around the services, which would drop the tenant they keep for verifying webhooks.)
    srv.services.forget_tenant(&t.tenant.id);
    let (status, body) = call(&srv, Method::POST, "/api/webhooks/settings/test", &admin, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["success"], false);
    let attempts = body["test"]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "the first try and two retries: {body}");
    assert!(attempts.iter().all(|a| a["error"] == "could not connect" && a["ok"] == false));
    let delays: Vec<u64> = attempts.iter().map(|a| a["delayMs"].as_u64().unwrap()).collect();
    assert_eq!(delays[0], 0);
    assert!((125..=250).contains(&delays[1]) && (250..=500).contains(&delays[2]), "{delays:?}");
}

#[tokio::test]
async fn the_settings_server_function_names_each_bad_field() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Form").await;
    let admin = key(&srv, &t.tenant.id, Role::Admin).await;
    let resp = srv
        .http
        .post(srv.url("/api/webhook-settings-update"))
        .bearer_auth(&admin)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("patch[webhookRetryAttempts]=11&patch[webhookTimeoutMs]=5")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let text = resp.text().await.unwrap();
    assert!(text.contains("webhookRetryAttempts must be a whole number from 0 to 10"), "{text}");
    assert!(text.contains("webhookTimeoutMs must be a whole number from 1000 to 120000"), "{text}");
}

#[tokio::test]
async fn a_caller_without_the_role_is_refused_before_its_body_is_judged() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let member = key(&srv, &t.tenant.id, Role::Member).await;
    let admin = key(&srv, &t.tenant.id, Role::Admin).await;
    let bad_bodies = [
        (Method::PATCH, "/api/webhooks/settings", &member, json!({"webhookRetryAttempts": 99})),
        (Method::POST, "/api/webhooks/settings/generate-secret", &member, json!({"graceSeconds": -1})),
        (Method::POST, "/api/keys", &member, json!({"name": 7})),
        (Method::POST, "/api/members", &member, json!({"colour": "red"})),
        (Method::PATCH, &format!("/api/members/{}", t.tenant.id), &admin, json!({"role": "god"})),
    ];
    for (method, path, caller, body) in bad_bodies {
        let (status, answer) = call(&srv, method.clone(), path, caller, Some(body)).await;
        assert_eq!((status, answer["code"].as_str()), (403, Some("forbidden")), "{method} {path}: {answer}");
    }
    // With the role, the same bodies are named as bad.
    let (status, answer) =
        call(&srv, Method::PATCH, "/api/webhooks/settings", &admin, Some(json!({"webhookRetryAttempts": 99}))).await;
    assert_eq!((status, answer["details"][0]["field"].as_str()), (400, Some("webhookRetryAttempts")), "{answer}");
}
