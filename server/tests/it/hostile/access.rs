//! Reading past the walls: a forgotten setting on a reachable address runs in
//! production, members see only what is theirs in the event log, and
//! production cookies and origins.

use app::models::Role;
use reqwest::{header, Method};
use serde_json::{json, Value};

use super::{production_vars, sign_in, start};
use crate::harness::{call, TestServer};

// 4. Safe when someone forgets a setting.

#[tokio::test]
async fn a_forgotten_env_on_a_reachable_address_runs_in_production() {
    let key = server::sealing::Sealer::generate_key();
    let srv = start(&[("LEPTOS_SITE_ADDR", "0.0.0.0:5000".into()), ("HOOKBELL_SECRET_KEY", key)]).await;
    assert_eq!(srv.services.config().mode, server::config::Mode::Production);
    // No demo owner for anonymous callers, on the API and on sockets.
    let (status, body) = call(&srv, Method::GET, "/api/auth/me", crate::harness::NO_KEY, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(srv.socket_with(&[], None, &[]).await.is_err());
    // On loopback with it unset: development, as scripts/run.sh expects.
    let local = TestServer::start().await;
    assert_eq!(local.services.config().mode, server::config::Mode::Development);
    assert_eq!(call(&local, Method::GET, "/api/auth/me", crate::harness::NO_KEY, None).await.0, 200);
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

// 13. Behind a reverse proxy.

/// Only a configured proxy's `X-Forwarded-For` names the client (in the event
/// log, the limits and audit entries); anyone else's is ignored, and what a
/// client wrote left of the proxy's own entry is never believed; nor is its
/// `X-Forwarded-Proto`.
#[tokio::test]
async fn only_a_trusted_proxy_names_the_client() {
    for (trusted, expected) in [(None, "127.0.0.1"), (Some("127.0.0.0/8"), "203.0.113.7")] {
        let srv = match trusted {
            Some(nets) => TestServer::start_with(&[("HOOKBELL_TRUSTED_PROXIES", nets)]).await,
            None => TestServer::start().await,
        };
        let t = srv.tenant("Proxied").await;
        let body = crate::harness::order(&t.tenant.id, "XFF-1").to_string();
        let resp = srv
            .http
            .post(srv.url("/api/webhooks/orders"))
            .header("content-type", "application/json")
            .header("x-webhook-signature", server::signature::sign_seed(&t.webhook_secret, body.as_bytes()))
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.7")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201);
        let log = srv.services.store().list_webhook_events(&t.tenant.id, &Default::default(), None, 5).await.unwrap();
        assert_eq!(log[0].source_ip.as_deref(), Some(expected), "trusted: {trusted:?}");

        // The scheme the proxy was reached by names the webhook URLs; anyone else's header is ignored
        // (a development server says http by itself).
        let scheme = if trusted.is_some() { "https" } else { "http" };
        let want = format!("{scheme}://{}/api/webhooks/orders", srv.addr);
        assert_eq!(orders_url_shown(&srv, &t.tenant.id, "https").await, want, "trusted: {trusted:?}");

        // And the session cookie of a browser that came over https is Secure.
        srv.services
            .add_user_to_tenant(&t.tenant.id, "ada@example.com", "Ada", "correct horse", Role::Member)
            .await
            .unwrap();
        let login = srv
            .http
            .post(srv.url("/api/auth/login"))
            .header("x-forwarded-proto", "https")
            .json(&json!({"email": "ada@example.com", "password": "correct horse"}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let cookie = login.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
        assert_eq!(cookie.ends_with("; Secure"), trusted.is_some(), "trusted: {trusted:?}: {cookie}");
    }
}

/// In production a forwarded `http` (TLS ended at an outer balancer) never lowers the
/// scheme of the URLs the server shows: they stay `https://`.
#[tokio::test]
async fn a_forwarded_http_does_not_lower_production_to_http() {
    let key = server::sealing::Sealer::generate_key();
    let srv = TestServer::start_with(&[
        ("HOOKBELL_ENV", "production"),
        ("HOOKBELL_SECRET_KEY", &key),
        ("HOOKBELL_TRUSTED_PROXIES", "127.0.0.0/8"),
    ])
    .await;
    let t = srv.tenant("Behind TLS").await;
    let want = format!("https://{}/api/webhooks/orders", srv.addr);
    assert_eq!(orders_url_shown(&srv, &t.tenant.id, "http").await, want);
}

/// The orders webhook URL the settings show a member whose request says `X-Forwarded-Proto: proto`.
async fn orders_url_shown(srv: &TestServer, tenant_id: &str, proto: &str) -> String {
    let key = srv.services.create_api_key(tenant_id, "k", Role::Member, None).await.unwrap().key;
    let settings: Value = srv
        .http
        .get(srv.url("/api/webhooks/settings"))
        .bearer_auth(&key)
        .header("x-forwarded-proto", proto)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    settings["settings"]["webhookUrls"]["orders"].as_str().unwrap_or_default().to_owned()
}
