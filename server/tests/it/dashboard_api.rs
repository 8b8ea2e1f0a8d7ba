//! The dashboard's figures over REST (`GET /api/dashboard`) and its server
//! function: today's orders counted and summed as signed webhooks arrive,
//! the newest orders and activity, one tenant at a time.

use app::models::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::{call, order, TestServer};

#[tokio::test]
async fn the_dashboard_counts_todays_orders_and_lists_the_newest() {
    let secret_key = server::sealing::Sealer::generate_key();
    let srv = TestServer::start_with(&[("HOOKBELL_ENV", "production"), ("HOOKBELL_SECRET_KEY", &secret_key)]).await;
    let shop = srv.tenant("Shop").await;
    let (tid, secret) = (shop.tenant.id.as_str(), shop.webhook_secret.as_str());
    let member = srv.services.create_api_key(tid, "viewer", Role::Member, None).await.unwrap().key;
    let admin = srv.services.create_api_key(tid, "admin", Role::Admin, None).await.unwrap().key;

    // Nothing yet: zeros, empty lists.
    let (status, body) = call(&srv, Method::GET, "/api/dashboard", &member, None).await;
    assert_eq!(status, 200, "{body}");
    let d = &body["dashboard"];
    assert_eq!(d["today"], json!({"orders": 0, "paid": 0, "pending": 0, "revenue": []}));
    assert_eq!((d["recentOrders"].as_array().unwrap().len(), d["activity"].as_array().unwrap().len()), (0, 0));
    assert!(d["since"].as_str().unwrap().ends_with("T00:00:00.000Z"), "{d}");

    // A paid order, a pending one, then its payment.
    assert_eq!(srv.post_signed("/api/webhooks/orders", &order(tid, "D-1"), secret).await.0, 201);
    let mut pending = order(tid, "D-2");
    (pending["status"], pending["amount"]) = (json!("pending"), json!(20));
    assert_eq!(srv.post_signed("/api/webhooks/orders", &pending, secret).await.0, 201);
    let (_, d) = call(&srv, Method::GET, "/api/dashboard", &member, None).await;
    assert_eq!(d["dashboard"]["today"]["pending"], 1);
    assert_eq!(d["dashboard"]["today"]["revenue"], json!([{"currency": "USD", "amountMinor": 9999}]));
    let paid = json!({"tenantId": tid, "orderNumber": "D-2", "status": "paid", "paymentId": "pay_9"});
    assert_eq!(srv.post_signed("/api/webhooks/payments", &paid, secret).await.0, 200);

    let (status, body) = call(&srv, Method::GET, "/api/dashboard", &member, None).await;
    assert_eq!(status, 200);
    let d = &body["dashboard"];
    assert_eq!(
        d["today"],
        json!({"orders": 2, "paid": 2, "pending": 0, "revenue": [{"currency": "USD", "amountMinor": 11999}]})
    );
    let numbers: Vec<&str> =
        d["recentOrders"].as_array().unwrap().iter().map(|o| o["orderNumber"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["D-2", "D-1"], "newest first");
    assert_eq!(d["recentOrders"][0]["paymentStatus"], "paid");
    let actions: Vec<&str> = d["activity"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["payment.updated", "order.created", "order.created"]);
    assert!(d["activity"].as_array().unwrap().iter().all(|a| a.get("sourceIp").is_none()), "members see no addresses");

    // Admins see where each webhook came from.
    let (_, body) = call(&srv, Method::GET, "/api/dashboard", &admin, None).await;
    assert_eq!(body["dashboard"]["activity"][0]["sourceIp"], "127.0.0.1");

    // The server function answers the same figures, from the same service call.
    let resp = srv
        .http
        .post(srv.url("/api/dashboard-overview"))
        .bearer_auth(&member)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let from_fn: Value = resp.json().await.unwrap();
    assert_eq!(from_fn["today"], d["today"]);
    assert_eq!(from_fn["recentOrders"], d["recentOrders"]);

    // A personal notification shows in its user's activity only.
    let mut cookies = Vec::new();
    for email in ["ada@example.com", "bo@example.com"] {
        let added =
            srv.services.add_user_to_tenant(tid, email, "U", "correct horse battery", Role::Member).await.unwrap();
        let signed_in = srv.services.login(email, "correct horse battery", None, None).await.unwrap();
        cookies.push((added.user.id, format!("__Host-hookbell_session={}", signed_in.token)));
    }
    let personal = json!({"title": "For Ada only", "message": "m", "userId": cookies[0].0});
    assert_eq!(call(&srv, Method::POST, "/api/notifications", &member, Some(personal)).await.0, 201);
    let feed_of = |cookie: String| {
        let req = srv.http.get(srv.url("/api/dashboard")).header("cookie", cookie);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap()["dashboard"]["activity"].to_string() }
    };
    assert!(feed_of(cookies[0].1.clone()).await.contains("For Ada only"));
    assert!(!feed_of(cookies[1].1.clone()).await.contains("For Ada only"), "Bo never sees Ada's notification");

    // Another tenant's caller sees its own (empty) dashboard, never this one.
    let other = srv.tenant("Other").await;
    let outsider = srv.services.create_api_key(&other.tenant.id, "o", Role::Admin, None).await.unwrap().key;
    let (status, body) = call(&srv, Method::GET, "/api/dashboard", &outsider, None).await;
    assert_eq!((status, &body["dashboard"]["today"]["orders"]), (200, &json!(0)));
    assert!(!body.to_string().contains(tid));
}
