//! Shopify and Stripe posting to hookbell directly, over HTTP, on both
//! stores: connections managed by admins (never showing a secret), each
//! topic and event type end to end (stored, notified, pushed, in the event
//! log with its topic), duplicates by delivery id, stale and tampered
//! signatures, another shop's domain, a disabled connection, events that
//! name no order, and topics hookbell does not act on.

use std::sync::Arc;

use app::models::Role;
use reqwest::Method;
use serde_json::{json, Value};
use server::providers::{shopify, stripe};

use crate::harness::{call, TestServer};

macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(TestServer::start().await).await }
            )*
            use crate::harness::TestServer;
        }
        mod mongo_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let uri = crate::mongo_server::fresh_mongo_uri();
                    super::$name(TestServer::start_with(&[("MONGODB_URI", &uri)]).await).await
                }
            )*
            use crate::harness::TestServer;
        }
    };
}

both_stores!(
    admins_connect_providers_and_nobody_sees_a_secret,
    stripe_events_move_orders_and_payments,
    shopify_topics_move_orders_payments_and_stock,
);

const STRIPE_SECRET: &str = "whsec_test_0123456789abcdefghij";
const SHOPIFY_SECRET: &str = "shpss_0123456789abcdefghijklmn";
const SHOP: &str = "acme.myshopify.com";

/// A tenant with an admin key and a member key.
struct Shop {
    tenant: String,
    secret: String,
    admin: String,
    member: String,
}

async fn shop(srv: &TestServer) -> Shop {
    let created = srv.tenant("Acme").await;
    let tenant = created.tenant.id.to_string();
    let admin = srv.services.create_api_key(&tenant, "admin", Role::Admin, None).await.unwrap().key;
    let member = srv.services.create_api_key(&tenant, "member", Role::Member, None).await.unwrap().key;
    Shop { tenant, secret: created.webhook_secret, admin, member }
}

async fn connect(srv: &TestServer, shop: &Shop, provider: &str, body: Value) -> (u16, Value) {
    call(srv, Method::PUT, &format!("/api/webhooks/providers/{provider}"), &shop.admin, Some(body)).await
}

/// Posts `body` as Stripe would, signed at `t` (now when `None`) with `secret`.
async fn post_stripe(srv: &TestServer, tenant: &str, body: &Value, secret: &str, t: Option<i64>) -> (u16, Value) {
    let text = body.to_string();
    let t = t.unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
    let resp = srv
        .http
        .post(srv.url(&format!("/api/webhooks/stripe/{tenant}")))
        .header("content-type", "application/json; charset=utf-8")
        .header("stripe-signature", stripe::sign(secret, text.as_bytes(), t))
        .body(text)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// Posts `body` as Shopify would for `topic`, from `domain`, as delivery `id`.
async fn post_shopify(
    srv: &TestServer,
    tenant: &str,
    topic: &str,
    body: &Value,
    id: &str,
    domain: &str,
) -> (u16, Value) {
    let text = body.to_string();
    let resp = srv
        .http
        .post(srv.url(&format!("/api/webhooks/shopify/{tenant}")))
        .header("content-type", "application/json")
        .header("x-shopify-hmac-sha256", shopify::sign(SHOPIFY_SECRET, text.as_bytes()))
        .header("x-shopify-topic", topic)
        .header("x-shopify-shop-domain", domain)
        .header("x-shopify-webhook-id", id)
        .header("x-shopify-api-version", "2026-04")
        .body(text)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

fn fixture(name: &str) -> Value {
    let text = match name {
        "shopify_orders_create" => include_str!("../../src/providers/fixtures/shopify_orders_create.json"),
        "shopify_refunds_create" => include_str!("../../src/providers/fixtures/shopify_refunds_create.json"),
        "shopify_products_update" => include_str!("../../src/providers/fixtures/shopify_products_update.json"),
        "stripe_checkout_session_completed" => {
            include_str!("../../src/providers/fixtures/stripe_checkout_session_completed.json")
        }
        "stripe_payment_intent_succeeded" => {
            include_str!("../../src/providers/fixtures/stripe_payment_intent_succeeded.json")
        }
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).unwrap()
}

async fn admins_connect_providers_and_nobody_sees_a_secret(srv: TestServer) {
    let s = shop(&srv).await;
    let (status, list) = call(&srv, Method::GET, "/api/webhooks/providers", &s.member, None).await;
    assert_eq!(status, 200, "{list}");
    let providers = list["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 2);
    assert!(providers.iter().all(|p| p["connected"] == false));
    assert!(providers[1]["url"].as_str().unwrap().ends_with(&format!("/api/webhooks/stripe/{}", s.tenant)));

    // Members read, admins change; each bad field is named; a first connection needs its secret.
    let body = json!({"signingSecret": STRIPE_SECRET});
    let put = |key: &String| {
        let key = key.clone();
        let (srv, body) = (&srv, body.clone());
        async move { call(srv, Method::PUT, "/api/webhooks/providers/stripe", &key, Some(body)).await }
    };
    assert_eq!(put(&s.member).await.0, 403);
    let (status, bad) = connect(&srv, &s, "stripe", json!({"signingSecret": 5, "shopDomain": SHOP})).await;
    assert_eq!(status, 400);
    let mut fields: Vec<&str> =
        bad["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["shopDomain", "signingSecret"], "Stripe has no shop: {bad}");
    let (status, bad) = connect(&srv, &s, "stripe", json!({"enabled": true})).await;
    assert_eq!((status, bad["details"][0]["field"].as_str()), (400, Some("signingSecret")), "{bad}");
    let (status, bad) = connect(&srv, &s, "shopify", json!({"signingSecret": SHOPIFY_SECRET})).await;
    assert_eq!((status, bad["details"][0]["field"].as_str()), (400, Some("shopDomain")), "{bad}");
    assert_eq!(connect(&srv, &s, "paypal", json!({})).await.0, 404);
    let (status, huge) = connect(&srv, &s, "stripe", json!({"signingSecret": "x".repeat(2_000_000)})).await;
    assert!(status == 400 || status == 413, "{status} {huge}");

    let (status, made) = put(&s.admin).await;
    assert_eq!(status, 200, "{made}");
    assert_eq!(
        (made["provider"]["connected"].as_bool(), made["provider"]["secretHint"].as_str()),
        (Some(true), Some("…ghij"))
    );
    let (_, list) = call(&srv, Method::GET, "/api/webhooks/providers", &s.member, None).await;
    assert!(!list.to_string().contains("0123456789"), "no secret in any answer: {list}");
    let stored = srv.services.store().get_connection(&s.tenant.as_str().into(), app::models::Provider::Stripe).await;
    assert!(!stored.unwrap().unwrap().secret_sealed.contains("0123456789"), "sealed at rest");

    // Two changes at the same instant: both apply.
    let srv = Arc::new(srv);
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let changes =
        [json!({"enabled": false}), json!({"signingSecret": "whsec_second_secret_abcdefgh", "graceSeconds": 600})];
    let tasks: Vec<_> = changes
        .into_iter()
        .map(|body| {
            let (srv, barrier, key) = (srv.clone(), barrier.clone(), s.admin.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                call(&srv, Method::PUT, "/api/webhooks/providers/stripe", &key, Some(body)).await.0
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let (_, list) = call(&srv, Method::GET, "/api/webhooks/providers", &s.member, None).await;
    let stripe = &list["providers"][1];
    assert_eq!((stripe["enabled"].as_bool(), stripe["secretHint"].as_str()), (Some(false), Some("…efgh")), "{stripe}");
    assert!(stripe["previousSecretValidUntil"].is_string(), "the old secret has its grace period: {stripe}");

    // Audited without the secret; removed by admins only.
    let (_, dashboard) = call(&srv, Method::GET, "/api/dashboard", &s.admin, None).await;
    let activity = dashboard["dashboard"]["activity"].to_string();
    assert!(activity.contains("provider.updated") && !activity.contains("second_secret"), "{activity}");
    assert_eq!(call(&srv, Method::DELETE, "/api/webhooks/providers/stripe", &s.member, None).await.0, 403);
    assert_eq!(call(&srv, Method::DELETE, "/api/webhooks/providers/stripe", &s.admin, None).await.0, 200);
    assert_eq!(call(&srv, Method::DELETE, "/api/webhooks/providers/stripe", &s.admin, None).await.0, 404);
}

async fn stripe_events_move_orders_and_payments(srv: TestServer) {
    let s = shop(&srv).await;
    let admin = srv.services.add_user_to_tenant(&s.tenant, "ada@example.com", "Ada", "correct horse", Role::Admin);
    let admin = admin.await.unwrap().user.id;
    assert_eq!(connect(&srv, &s, "stripe", json!({"signingSecret": STRIPE_SECRET})).await.0, 200);
    let mut socket = srv.tenant_socket(&s.tenant, &["new-notification", "dashboard-refresh"]).await;
    socket.join(&s.tenant).await;

    // A completed checkout: a paid order in yen, pushed at once.
    let mut checkout = fixture("stripe_checkout_session_completed");
    checkout["id"] = json!("evt_checkout_1");
    let session = &mut checkout["data"]["object"];
    session["payment_status"] = json!("paid");
    session["amount_total"] = json!(1_500);
    session["currency"] = json!("jpy");
    session["client_reference_id"] = json!("ORD-JP-1");
    let (status, answer) = post_stripe(&srv, &s.tenant, &checkout, STRIPE_SECRET, None).await;
    assert_eq!(status, 201, "{answer}");
    let pushed = socket.next_named("new-notification").await;
    assert_eq!(pushed["notification"]["title"], "New order ORD-JP-1");
    assert!(pushed["notification"]["message"].as_str().unwrap().contains("1500 JPY"), "{pushed}");
    let order = srv.services.store().get_order_by_number(&s.tenant.as_str().into(), "ORD-JP-1").await.unwrap().unwrap();
    assert_eq!((order.amount_minor, order.currency.as_str(), order.payment_status.as_str()), (1_500, "JPY", "paid"));
    // Stripe sends it again: the first answer, nothing new.
    let (status, again) = post_stripe(&srv, &s.tenant, &checkout, STRIPE_SECRET, None).await;
    assert_eq!(
        (status, again["duplicate"].as_bool(), again["orderId"].clone()),
        (200, Some(true), answer["orderId"].clone())
    );

    // A payment intent for one of the tenant's own orders.
    let (status, _) =
        srv.post_signed("/api/webhooks/orders", &crate::harness::order(&s.tenant, "ORD-1"), &s.secret).await;
    assert_eq!(status, 201);
    let mut succeeded = fixture("stripe_payment_intent_succeeded");
    succeeded["id"] = json!("evt_pi_1");
    succeeded["data"]["object"]["metadata"] = json!({"orderNumber": "ORD-2"});
    succeeded["data"]["object"]["amount_received"] = json!(1_099);
    let mut pending = crate::harness::order(&s.tenant, "ORD-2");
    pending["status"] = json!("pending");
    assert_eq!(srv.post_signed("/api/webhooks/orders", &pending, &s.secret).await.0, 201);
    let (status, paid) = post_stripe(&srv, &s.tenant, &succeeded, STRIPE_SECRET, None).await;
    assert_eq!(
        (status, paid["paymentStatus"].as_str(), paid["previousStatus"].as_str()),
        (200, Some("paid"), Some("pending")),
        "{paid}"
    );

    // Tampered, stale, unsigned, unknown tenant: refused before anything is stored.
    let tampered = {
        let text = succeeded.to_string();
        let header = stripe::sign(STRIPE_SECRET, text.as_bytes(), time::OffsetDateTime::now_utc().unix_timestamp());
        let resp = srv
            .http
            .post(srv.url(&format!("/api/webhooks/stripe/{}", s.tenant)))
            .header("content-type", "application/json")
            .header("stripe-signature", header)
            .body(text.replace("1099", "1"))
            .send()
            .await
            .unwrap();
        resp.status().as_u16()
    };
    assert_eq!(tampered, 401);
    let old = time::OffsetDateTime::now_utc().unix_timestamp() - 301;
    let (status, stale) = post_stripe(&srv, &s.tenant, &succeeded, STRIPE_SECRET, Some(old)).await;
    assert_eq!((status, stale["code"].as_str()), (401, Some("stale_timestamp")), "{stale}");
    let (status, wrong) = post_stripe(&srv, &s.tenant, &succeeded, "whsec_someone_elses_secret", None).await;
    let (status2, unknown) = post_stripe(&srv, "507f1f77bcf86cd799439011", &succeeded, STRIPE_SECRET, None).await;
    assert_eq!((status, status2, &wrong), (401, 401, &unknown), "an unknown tenant looks like a bad signature");

    // A URL that keeps failing (a made-up tenant, a disconnected one) is made to wait,
    // without making Stripe's shared addresses wait for this tenant.
    let mut statuses = Vec::new();
    for _ in 0..60 {
        statuses.push(post_stripe(&srv, "507f1f77bcf86cd799439012", &succeeded, STRIPE_SECRET, None).await.0);
    }
    assert_eq!((statuses[0], statuses.last()), (401, Some(&429)), "{statuses:?}");

    // A payment naming an order hookbell does not have: 200, recorded, told to the admins.
    let mut stray = succeeded.clone();
    stray["id"] = json!("evt_pi_stray");
    stray["data"]["object"]["metadata"] = json!({"orderNumber": "NOPE-1"});
    let (status, answer) = post_stripe(&srv, &s.tenant, &stray, STRIPE_SECRET, None).await;
    assert_eq!((status, answer["ignored"].as_bool()), (200, Some(true)), "{answer}");
    let filter = app::models::NotificationFilter { user_id: Some(admin), ..Default::default() };
    let notes = srv.services.store().list_notifications(&s.tenant.as_str().into(), &filter, None, 10).await.unwrap();
    assert!(notes.iter().any(|n| n.title == "Unmatched Stripe payment" && n.message.contains("NOPE-1")), "{notes:?}");
    // An event type hookbell does not act on: 200, in the event log with its type.
    let mut other = succeeded.clone();
    other["id"] = json!("evt_other");
    other["type"] = json!("customer.created");
    assert_eq!(post_stripe(&srv, &s.tenant, &other, STRIPE_SECRET, None).await.0, 200);
    let (_, log) = call(&srv, Method::GET, "/api/webhooks/events?endpoint=stripe", &s.admin, None).await;
    let topics: Vec<&str> = log["events"].as_array().unwrap().iter().filter_map(|e| e["topic"].as_str()).collect();
    assert!(topics.contains(&"customer.created") && topics.contains(&"checkout.session.completed"), "{topics:?}");
    // An admin replays the checkout from the log: recognised, nothing new.
    let events = log["events"].as_array().unwrap();
    let first = events.iter().find(|e| e["topic"] == "checkout.session.completed" && e["statusCode"] == 201).unwrap();
    let replay = format!("/api/webhooks/events/{}/replay", first["id"].as_str().unwrap());
    assert_eq!(call(&srv, Method::POST, &replay, &s.member, None).await.0, 403);
    let (status, replayed) = call(&srv, Method::POST, &replay, &s.admin, None).await;
    assert_eq!((status, replayed["duplicate"].as_bool()), (200, Some(true)), "{replayed}");

    // A disabled connection refuses, naming the switch.
    assert_eq!(connect(&srv, &s, "stripe", json!({"enabled": false})).await.0, 200);
    let mut later = succeeded.clone();
    later["id"] = json!("evt_pi_later");
    let (status, refused) = post_stripe(&srv, &s.tenant, &later, STRIPE_SECRET, None).await;
    assert_eq!((status, refused["code"].as_str()), (403, Some("disabled")), "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("Stripe connection is disabled"), "{refused}");
    let (status, replayed) = call(&srv, Method::POST, &replay, &s.admin, None).await;
    assert_eq!((status, replayed["code"].as_str()), (403, Some("disabled")), "no replay while disabled: {replayed}");
}

async fn shopify_topics_move_orders_payments_and_stock(srv: TestServer) {
    let s = shop(&srv).await;
    let body = json!({"signingSecret": SHOPIFY_SECRET, "shopDomain": SHOP, "lowStockThreshold": 10});
    assert_eq!(connect(&srv, &s, "shopify", body).await.0, 200);
    let mut socket = srv.tenant_socket(&s.tenant, &["new-notification", "dashboard-refresh"]).await;
    socket.join(&s.tenant).await;

    // Shopify's own example order: stored with its number, money and items.
    let mut order = fixture("shopify_orders_create");
    order["cancelled_at"] = Value::Null;
    order["financial_status"] = json!("pending");
    let (status, created) = post_shopify(&srv, &s.tenant, "orders/create", &order, "wh-1", SHOP).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(socket.next_named("new-notification").await["notification"]["title"], "New order #9999");
    let stored = srv.services.store().get_order_by_number(&s.tenant.as_str().into(), "#9999").await.unwrap().unwrap();
    assert_eq!((stored.amount_minor, stored.items.len()), (40_495, 5));
    // The same delivery again (Shopify retries for 48 hours): the first answer.
    let (status, again) = post_shopify(&srv, &s.tenant, "orders/create", &order, "wh-1", SHOP).await;
    assert_eq!((status, again["duplicate"].as_bool()), (200, Some(true)));

    // Paid, then refunded: the refund names the order by Shopify's id only.
    let (status, paid) = post_shopify(&srv, &s.tenant, "orders/paid", &order, "wh-2", SHOP).await;
    assert_eq!((status, paid["paymentStatus"].as_str()), (200, Some("paid")), "{paid}");
    let refund = fixture("shopify_refunds_create");
    let (status, refunded) = post_shopify(&srv, &s.tenant, "refunds/create", &refund, "wh-3", SHOP).await;
    assert_eq!((status, refunded["paymentStatus"].as_str()), (200, Some("refunded")), "{refunded}");
    // Cancelling a refunded order cannot apply: recorded, 200, not applied.
    let (status, cancelled) = post_shopify(&srv, &s.tenant, "orders/cancelled", &order, "wh-4", SHOP).await;
    assert_eq!((status, cancelled["ignored"].as_bool()), (200, Some(true)), "{cancelled}");

    // Stock: a variant falling below the threshold is told once, not on every update.
    let mut product = fixture("shopify_products_update");
    product["variants"][0]["old_inventory_quantity"] = json!(12);
    product["variants"][0]["inventory_quantity"] = json!(4);
    let (status, low) = post_shopify(&srv, &s.tenant, "products/update", &product, "wh-5", SHOP).await;
    assert_eq!(status, 201, "{low}");
    let mut titles = Vec::new();
    while !titles.iter().any(|t: &String| t.starts_with("Low stock")) && titles.len() < 5 {
        let pushed = socket.next_named("new-notification").await;
        titles.push(pushed["notification"]["title"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(titles.last().map(String::as_str), Some("Low stock: Example T-Shirt (Small)"), "{titles:?}");
    product["variants"][0]["old_inventory_quantity"] = json!(4);
    product["variants"][0]["inventory_quantity"] = json!(3);
    let (status, still) = post_shopify(&srv, &s.tenant, "products/update", &product, "wh-6", SHOP).await;
    assert_eq!((status, still["ignored"].as_bool()), (200, Some(true)), "{still}");

    // Another shop, a bad signature, an unknown topic.
    let (status, other) = post_shopify(&srv, &s.tenant, "orders/create", &order, "wh-7", "evil.myshopify.com").await;
    assert_eq!(status, 403, "{other}");
    let resp = srv
        .http
        .post(srv.url(&format!("/api/webhooks/shopify/{}", s.tenant)))
        .header("content-type", "application/json")
        .header("x-shopify-hmac-sha256", shopify::sign("shpss_not_the_secret_at_all", b"{}"))
        .header("x-shopify-topic", "orders/create")
        .header("x-shopify-shop-domain", SHOP)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let (status, ignored) = post_shopify(&srv, &s.tenant, "customers/create", &json!({"id": 1}), "wh-8", SHOP).await;
    assert_eq!((status, ignored["ignored"].as_bool()), (200, Some(true)));
    let (_, log) = call(&srv, Method::GET, "/api/webhooks/events?endpoint=shopify", &s.admin, None).await;
    let topics: Vec<&str> = log["events"].as_array().unwrap().iter().filter_map(|e| e["topic"].as_str()).collect();
    assert!(topics.contains(&"orders/create") && topics.contains(&"customers/create"), "{topics:?}");
    // Replaying the low-stock delivery raises nothing new; replaying the order recognises it.
    for (topic, status) in [("products/update", 201), ("orders/create", 201)] {
        let events = log["events"].as_array().unwrap();
        let first = events.iter().find(|e| e["topic"] == topic && e["statusCode"] == status).unwrap();
        let replay = format!("/api/webhooks/events/{}/replay", first["id"].as_str().unwrap());
        let (status, replayed) = call(&srv, Method::POST, &replay, &s.admin, None).await;
        assert_eq!((status, replayed["duplicate"].as_bool()), (200, Some(true)), "{topic}: {replayed}");
    }
    let (_, connections) = call(&srv, Method::GET, "/api/webhooks/providers", &s.member, None).await;
    assert!(connections["providers"][0]["lastDeliveryAt"].is_string(), "{connections}");
}
