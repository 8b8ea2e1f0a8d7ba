//! Sign-in over real HTTP: argon2id users, session cookies (HttpOnly,
//! SameSite=Lax, Secure in production), rotation at login, logout, expiry,
//! limited failed logins that never reveal whether an email exists, roles
//! from memberships, and the Origin check on cookie-authenticated changes.

use std::process::Command;

use app::models::Role;
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::harness::TestServer;

const PASSWORD: &str = "correct horse battery";

async fn production() -> TestServer {
    let key = server::sealing::Sealer::generate_key();
    TestServer::start_with(&[("HOOKBELL_ENV", "production"), ("HOOKBELL_SECRET_KEY", &key)]).await
}

/// Logs in; returns the status, the body and the cookie pair `name=value` (if set).
async fn login(srv: &TestServer, email: &str, password: &str) -> (u16, Value, Option<String>, Option<String>) {
    let resp = srv.http.post(srv.url("/api/auth/login")).json(&json!({"email": email, "password": password})).send();
    let resp = resp.await.unwrap();
    let set_cookie = resp.headers().get(header::SET_COOKIE).map(|v| v.to_str().unwrap().to_owned());
    let pair = set_cookie.as_deref().and_then(|c| c.split(';').next()).map(str::to_owned);
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap(), pair, set_cookie)
}

async fn with_cookie(srv: &TestServer, method: Method, path: &str, cookie: &str, origin: Option<&str>) -> (u16, Value) {
    let mut req = srv.http.request(method.clone(), srv.url(path)).header(header::COOKIE, cookie);
    if let Some(origin) = origin {
        req = req.header(header::ORIGIN, origin);
    }
    if method == Method::PATCH {
        req = req.json(&json!({"webhookRetryAttempts": 4}));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn users_sign_in_with_a_session_cookie_and_act_by_role() {
    let srv = production().await;
    let shop = srv.tenant("Shop").await;
    let other = srv.tenant("Other").await;
    let t = &shop.tenant.id;
    srv.services.add_user_to_tenant(t, "Ada@Example.com", "Ada", PASSWORD, Role::Admin).await.unwrap();
    srv.services.add_user_to_tenant(t, "max@example.com", "Max", PASSWORD, Role::Member).await.unwrap();
    // Ada also belongs to another tenant, as a member.
    srv.services.add_user_to_tenant(&other.tenant.id, "ada@example.com", "", "", Role::Member).await.unwrap();

    let (status, body, ada, set_cookie) = login(&srv, "ada@example.com", PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let set_cookie = set_cookie.unwrap();
    for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=604800"] {
        assert!(set_cookie.contains(attr), "{attr} missing: {set_cookie}");
    }
    assert!(!body.to_string().contains("hbs_"), "the token is only in the cookie");
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["tenants"].as_array().unwrap().len(), 2);
    let ada = ada.unwrap();

    let (status, me) = with_cookie(&srv, Method::GET, "/api/auth/me", &ada, None).await;
    assert_eq!((status, me["user"]["name"].as_str()), (200, Some("Ada")), "{me}");

    // The admin changes settings of her first tenant from the dashboard's origin.
    let own = format!("https://{}", srv.addr); // production: the origin behind TLS
    let (status, body) = with_cookie(&srv, Method::PATCH, "/api/webhooks/settings", &ada, Some(&own)).await;
    assert_eq!(status, 200, "{body}");
    // In the other tenant she is a member: she may read but not change.
    let req = |m: Method| {
        srv.http
            .request(m.clone(), srv.url("/api/webhooks/settings"))
            .header(header::COOKIE, &ada)
            .header(header::ORIGIN, &own)
            .header("x-tenant-id", other.tenant.id.as_str())
    };
    assert_eq!(req(Method::GET).send().await.unwrap().status(), StatusCode::OK);
    let patched = req(Method::PATCH).json(&json!({"webhookRetryAttempts": 1})).send().await.unwrap();
    assert_eq!(patched.status(), StatusCode::FORBIDDEN);

    // The member of the shop cannot change settings; a foreign tenant is refused.
    let (_, _, max, _) = login(&srv, "MAX@example.com", PASSWORD).await;
    let max = max.unwrap();
    assert_eq!(with_cookie(&srv, Method::PATCH, "/api/webhooks/settings", &max, Some(&own)).await.0, 403);
    let foreign = srv
        .http
        .get(srv.url("/api/webhooks/settings"))
        .header(header::COOKIE, &max)
        .header("x-tenant-id", other.tenant.id.as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);

    // A change from another origin, or with no origin at all, is refused (CSRF).
    let (status, body) =
        with_cookie(&srv, Method::PATCH, "/api/webhooks/settings", &ada, Some("https://evil.example")).await;
    assert_eq!((status, body["success"].as_bool()), (403, Some(false)), "{body}");
    assert_eq!(with_cookie(&srv, Method::PATCH, "/api/webhooks/settings", &ada, None).await.0, 403);

    // Logout ends the session: the cookie is cleared and no longer works.
    let resp = srv.http.post(srv.url("/api/auth/logout")).header(header::COOKIE, &ada).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()[header::SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    let (status, body) = with_cookie(&srv, Method::GET, "/api/webhooks/settings", &ada, None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn a_login_rotates_the_session_and_expired_sessions_end() {
    let srv = production().await;
    let shop = srv.tenant("Shop").await;
    srv.services.add_user_to_tenant(&shop.tenant.id, "ada@example.com", "Ada", PASSWORD, Role::Owner).await.unwrap();
    let (_, _, first, _) = login(&srv, "ada@example.com", PASSWORD).await;
    let first = first.unwrap();
    // Logging in again from the same browser replaces the old session.
    let resp = srv
        .http
        .post(srv.url("/api/auth/login"))
        .header(header::COOKIE, &first)
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let second = resp.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(with_cookie(&srv, Method::GET, "/api/auth/me", &first, None).await.0, 401);
    assert_eq!(with_cookie(&srv, Method::GET, "/api/auth/me", &second, None).await.0, 200);

    // The store holds only a keyed hash of the token.
    let token = second.split_once('=').unwrap().1;
    let by_raw = srv.services.store().get_session(token, server::ids::now()).await.unwrap();
    assert!(by_raw.is_none());

    // A session past its idle expiry is over, whatever the cookie says.
    let hash = srv.services.session_token_hash(token);
    let now = server::ids::now();
    let stored = srv.services.store().get_session(&hash, now).await.unwrap().unwrap();
    assert!(stored.is_live(now));
    assert!(!stored.is_live(now + std::time::Duration::from_secs(46800)), "idle for 13 h");
    assert!(!stored.is_live(now + std::time::Duration::from_secs(691200)), "past 7 days");
    // Over HTTP: a stored session whose idle expiry has passed opens nothing.
    let idle = server::store::Session {
        token_hash: srv.services.session_token_hash("hbs_idle"),
        idle_expires_at: now - std::time::Duration::from_secs(60),
        ..stored.clone()
    };
    srv.services.store().insert_session(&idle).await.unwrap();
    assert_eq!(with_cookie(&srv, Method::GET, "/api/auth/me", "__Host-hookbell_session=hbs_idle", None).await.0, 401);
    // Revoking all of a user's sessions (a password change, an owner's action) ends this one too.
    srv.services.store().revoke_user_sessions(&stored.user_id, server::ids::now()).await.unwrap();
    assert_eq!(with_cookie(&srv, Method::GET, "/api/auth/me", &second, None).await.0, 401);
}

#[tokio::test]
async fn failed_logins_say_nothing_about_the_email_and_are_limited() {
    let srv = production().await;
    let shop = srv.tenant("Shop").await;
    srv.services.add_user_to_tenant(&shop.tenant.id, "ada@example.com", "Ada", PASSWORD, Role::Member).await.unwrap();

    let (s1, wrong_password, c1, _) = login(&srv, "ada@example.com", "wrong password").await;
    let (s2, unknown_email, c2, _) = login(&srv, "nobody@example.com", "wrong password").await;
    assert_eq!((s1, s2), (401, 401));
    assert_eq!(wrong_password, unknown_email, "the same answer either way");
    assert!(c1.is_none() && c2.is_none());
    let (status, body, _, _) = login(&srv, "", "").await;
    assert_eq!((status, body["details"].as_array().map(Vec::len)), (400, Some(2)), "{body}");

    // Ten failures for one email, then 429 with Retry-After, even with the right password.
    for _ in 0..9 {
        assert_eq!(login(&srv, "ada@example.com", "wrong password").await.0, 401);
    }
    let resp = srv
        .http
        .post(srv.url("/api/auth/login"))
        .json(&json!({"email": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn user_add_on_the_command_line_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hookbell.sqlite3");
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
            .args(args)
            .env("DATABASE_PATH", &db)
            .env_remove("MONGODB_URI")
            .env_remove("HOOKBELL_ENV")
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let created = run(&["tenant", "create", "--name", "Shop"], "");
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let added =
        run(&["user", "add", "--tenant", "shop", "--email", "ada@example.com", "--role", "admin"], "s3cret-pass\n");
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let added: Value = serde_json::from_slice(&added.stdout).unwrap();
    assert_eq!((added["role"].as_str(), added["created"].as_bool()), (Some("admin"), Some(true)));
    assert_eq!(added["tenantId"], created["tenantId"]);
    assert!(!String::from_utf8_lossy(&db_bytes(&db)).contains("s3cret-pass"), "only the hash is stored");

    let short = run(&["user", "add", "--tenant", "shop", "--email", "bo@example.com"], "short\n");
    assert_eq!(short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&short.stderr).contains("password"));
    let bad_role = run(&["user", "add", "--tenant", "shop", "--email", "bo@example.com", "--role", "god"], "x\n");
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("role"));
    let no_tenant = run(&["user", "add", "--tenant", "nope", "--email", "bo@example.com"], "long enough\n");
    assert_eq!(no_tenant.status.code(), Some(1));

    let srv = TestServer::start_in(dir, &[]).await;
    let (status, body, cookie, _) = login(&srv, "ada@example.com", "s3cret-pass").await;
    assert_eq!(status, 200, "{body}");
    let (status, me) = with_cookie(&srv, Method::GET, "/api/auth/me", &cookie.unwrap(), None).await;
    assert_eq!((status, me["role"].as_str()), (200, Some("admin")), "{me}");
}

fn db_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut all = std::fs::read(path).unwrap_or_default();
    all.extend(std::fs::read(path.with_extension("sqlite3-wal")).unwrap_or_default());
    all
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session_of_the_user() {
    let srv = production().await;
    let shop = srv.tenant("Shop").await;
    srv.services.add_user_to_tenant(&shop.tenant.id, "ada@example.com", "Ada", PASSWORD, Role::Member).await.unwrap();
    let (_, _, laptop, _) = login(&srv, "ada@example.com", PASSWORD).await;
    let (_, _, phone, _) = login(&srv, "ada@example.com", PASSWORD).await;
    let (laptop, phone) = (laptop.unwrap(), phone.unwrap());
    let own = format!("https://{}", srv.addr); // production: the origin behind TLS
    let (status, body) = with_cookie(&srv, Method::POST, "/api/auth/logout-all", &phone, Some(&own)).await;
    assert_eq!((status, body["sessionsEnded"].as_u64()), (200, Some(2)), "{body}");
    assert_eq!(with_cookie(&srv, Method::GET, "/api/auth/me", &laptop, None).await.0, 401);
    assert_eq!(with_cookie(&srv, Method::GET, "/api/auth/me", &phone, None).await.0, 401);
    // An API key has no sessions.
    let key = srv.services.create_api_key(&shop.tenant.id, "k", Role::Admin, None).await.unwrap().key;
    let resp = srv.http.post(srv.url("/api/auth/logout-all")).bearer_auth(key).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn sessions_are_keyed_by_session_secret() {
    let key = server::sealing::Sealer::generate_key();
    let dir = tempfile::tempdir().unwrap();
    let vars = |secret: &'static str| {
        vec![("HOOKBELL_ENV", "production"), ("HOOKBELL_SECRET_KEY", key.as_str()), ("SESSION_SECRET", secret)]
    };
    let first = TestServer::start_in(dir, &vars("first session secret")).await;
    let shop = first.tenant("Shop").await;
    first.services.add_user_to_tenant(&shop.tenant.id, "ada@example.com", "Ada", PASSWORD, Role::Member).await.unwrap();
    let (_, _, cookie, _) = login(&first, "ada@example.com", PASSWORD).await;
    let cookie = cookie.unwrap();
    assert_eq!(with_cookie(&first, Method::GET, "/api/auth/me", &cookie, None).await.0, 200);
    // The store holds HMAC(SESSION_SECRET, token): another secret opens no stored session.
    let token = cookie.split_once('=').unwrap().1;
    let other = server::service::Services::new(
        first.services.store().clone(),
        first.services.push(),
        server::config::Config::from_lookup(|k| {
            vars("another secret").iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        })
        .unwrap(),
        server::sealing::Sealer::from_base64(&key).unwrap(),
    );
    assert!(other.authenticate_session(token).await.unwrap().is_none());
    assert!(first.services.authenticate_session(token).await.unwrap().is_some());
    assert_ne!(other.session_token_hash(token), first.services.session_token_hash(token));
}
