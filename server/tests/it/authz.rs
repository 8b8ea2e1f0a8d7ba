//! The authorisation matrix: every REST route, the server function and the
//! socket join × every kind of caller, with the status each must get — over
//! real HTTP and Socket.IO against a production-mode server.
//!
//! Callers act on tenant "Shop" (they send its id in `x-tenant-id`, and
//! browsers send the server's own `Origin`). A denied caller never sees the
//! tenant's data: the body of every refused answer is checked for its id.

use app::{input::FromJson, models::Role};
use reqwest::{header, Method};
use serde_json::{json, Value};

use crate::harness::TestServer;

const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Nobody,
    OtherTenantsMember,
    Member,
    Admin,
    Owner,
    RevokedKey,
    ExpiredSession,
}

const CALLERS: [Caller; 7] = [
    Caller::Nobody,
    Caller::OtherTenantsMember,
    Caller::Member,
    Caller::Admin,
    Caller::Owner,
    Caller::RevokedKey,
    Caller::ExpiredSession,
];

/// What a route needs (`None`: anyone may call it), and what an allowed caller gets.
struct Route {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    needs: Option<Role>,
    allowed: u16,
    /// The signed-in user's own account: in no tenant, so `x-tenant-id` (even
    /// one naming a tenant that is not theirs) plays no part.
    own_account: bool,
}

fn routes() -> Vec<Route> {
    let r = |method: Method, path: &'static str, body: Option<Value>, needs: Role, allowed: u16| Route {
        method,
        path,
        body,
        needs: Some(needs),
        allowed,
        own_account: false,
    };
    let mine = |method: Method, path: &'static str, body: Option<Value>, allowed: u16| Route {
        method,
        path,
        body,
        needs: Some(Role::Member),
        allowed,
        own_account: true,
    };
    let open = |method: Method, path: &'static str, body: Value, allowed: u16| Route {
        method,
        path,
        body: Some(body),
        needs: None,
        allowed,
        own_account: false,
    };
    let public = |method: Method, path: &'static str, form: &'static str, allowed: u16| Route {
        method,
        path,
        body: Some(Value::String(form.into())),
        needs: None,
        allowed,
        own_account: false,
    };
    vec![
        r(Method::GET, "/api/auth/me", None, Role::Member, 200),
        r(Method::GET, "/api/webhooks/settings", None, Role::Member, 200),
        r(Method::PATCH, "/api/webhooks/settings", Some(json!({"webhookRetryAttempts": 3})), Role::Admin, 200),
        r(Method::POST, "/api/webhooks/settings/generate-secret", Some(json!({})), Role::Admin, 200),
        r(Method::POST, "/api/webhooks/settings/test", None, Role::Admin, 200),
        r(Method::GET, "/api/webhooks/events", None, Role::Member, 200),
        r(Method::GET, "/api/webhooks/providers", None, Role::Member, 200),
        // A first connection needs its secret: an allowed caller gets as far as the 400 naming it.
        r(Method::PUT, "/api/webhooks/providers/stripe", Some(json!({"enabled": true})), Role::Admin, 400),
        r(Method::DELETE, "/api/webhooks/providers/shopify", None, Role::Admin, 404),
        r(Method::POST, "/api/webhooks/events/507f1f77bcf86cd799439011/replay", None, Role::Admin, 404),
        r(Method::GET, "/api/dashboard", None, Role::Member, 200),
        r(Method::GET, "/api/keys", None, Role::Admin, 200),
        r(Method::POST, "/api/keys", Some(json!({"name": "matrix"})), Role::Admin, 201),
        r(Method::DELETE, "/api/keys/507f1f77bcf86cd799439011", None, Role::Admin, 404),
        r(Method::GET, "/api/notifications", None, Role::Member, 200),
        r(Method::POST, "/api/notifications", Some(json!({"title": "T", "message": "M"})), Role::Member, 201),
        r(
            Method::PATCH,
            "/api/notifications/507f1f77bcf86cd799439011",
            Some(json!({"isRead": true})),
            Role::Member,
            404,
        ),
        r(Method::POST, "/api/notifications/mark-all-read", None, Role::Member, 200),
        r(Method::GET, "/api/members", None, Role::Admin, 200),
        r(Method::POST, "/api/members", Some(json!({"email": "new@example.com"})), Role::Admin, 201),
        r(Method::POST, "/api/members", Some(json!({"email": "boss@example.com", "role": "owner"})), Role::Owner, 201),
        r(Method::PATCH, "/api/members/507f1f77bcf86cd799439011", Some(json!({"role": "admin"})), Role::Owner, 404),
        r(Method::DELETE, "/api/members/507f1f77bcf86cd799439011", None, Role::Owner, 404),
        r(Method::GET, "/api/invitations", None, Role::Admin, 200),
        r(Method::DELETE, "/api/invitations/507f1f77bcf86cd799439011", None, Role::Admin, 404),
        // An invitation's link is for whoever holds it: an unknown token is 404 for every caller.
        open(Method::POST, "/api/invitations/preview", json!({"token": "hbi_unknown"}), 404),
        open(Method::POST, "/api/invitations/accept", json!({"token": "hbi_unknown", "password": PASSWORD}), 404),
        // Each user's own account.
        mine(Method::GET, "/api/me/account", None, 200),
        mine(
            Method::POST,
            "/api/me/password",
            Some(json!({"currentPassword": "not it", "newPassword": "a new password"})),
            400,
        ),
        mine(Method::DELETE, "/api/me/sessions/0123456789abcdef0123456789abcdef", None, 404),
        mine(Method::POST, "/api/me/tenants/507f1f77bcf86cd799439011/leave", None, 404),
        // The server functions behind the header's bell (forms).
        r(Method::POST, "/api/bell-state", None, Role::Member, 200),
        r(Method::POST, "/api/dashboard-overview", Some(Value::String(String::new())), Role::Member, 200),
        r(
            Method::POST,
            "/api/notification-update",
            Some(Value::String("id=507f1f77bcf86cd799439011&is_read=true".into())),
            Role::Member,
            404,
        ),
        r(Method::POST, "/api/mark-all-read", Some(Value::String(String::new())), Role::Member, 200),
        r(
            Method::POST,
            "/api/notification-snooze",
            Some(Value::String("id=507f1f77bcf86cd799439011&until=2099-01-01T00%3A00%3A00Z".into())),
            Role::Member,
            404,
        ),
        // Each user's own preferences and connections (REST and server functions).
        r(Method::GET, "/api/me/preferences", None, Role::Member, 200),
        r(Method::PUT, "/api/me/preferences", Some(json!({"desktop": false})), Role::Member, 200),
        r(Method::GET, "/api/me/connections", None, Role::Member, 200),
        r(Method::POST, "/api/preferences", Some(Value::String(String::new())), Role::Member, 200),
        r(
            Method::POST,
            "/api/preferences-save",
            Some(Value::String("change=%7B%22desktop%22%3Afalse%7D".into())),
            Role::Member,
            200,
        ),
        r(Method::POST, "/api/notification-page", Some(Value::String("query[limit]=5".into())), Role::Member, 200),
        // The tenant switcher: nobody switches into a tenant that is not theirs.
        r(
            Method::POST,
            "/api/switch-tenant",
            Some(Value::String("tenant_id=507f1f77bcf86cd799439011".into())),
            Role::Member,
            403,
        ),
        // Settings → Webhooks (server functions).
        r(Method::POST, "/api/webhook-settings", Some(Value::String(String::new())), Role::Member, 200),
        r(
            Method::POST,
            "/api/webhook-settings-update",
            Some(Value::String("patch[webhookRetryAttempts]=3".into())),
            Role::Admin,
            200,
        ),
        r(Method::POST, "/api/webhook-secret-rotate", Some(Value::String("grace_seconds=0".into())), Role::Admin, 200),
        r(Method::POST, "/api/webhook-test", Some(Value::String(String::new())), Role::Admin, 200),
        r(Method::POST, "/api/webhook-events", Some(Value::String(String::new())), Role::Member, 200),
        // Settings → Integrations (server functions).
        r(Method::POST, "/api/providers", Some(Value::String(String::new())), Role::Member, 200),
        r(
            Method::POST,
            "/api/provider-save",
            Some(Value::String("provider=stripe&change=%7B%22enabled%22%3Atrue%7D".into())),
            Role::Admin,
            400,
        ),
        r(Method::POST, "/api/provider-disconnect", Some(Value::String("provider=shopify".into())), Role::Admin, 404),
        // Settings → API keys (server functions).
        r(Method::POST, "/api/api-keys", Some(Value::String(String::new())), Role::Admin, 200),
        r(Method::POST, "/api/api-key-create", Some(Value::String("name=matrix2".into())), Role::Admin, 200),
        r(
            Method::POST,
            "/api/api-key-revoke",
            Some(Value::String("id=507f1f77bcf86cd799439011".into())),
            Role::Admin,
            404,
        ),
        // Settings → Members, Account and the invitation page (server functions).
        r(Method::POST, "/api/team", Some(Value::String(String::new())), Role::Admin, 200),
        r(Method::POST, "/api/member-invite", Some(Value::String("email=fn%40example.com".into())), Role::Admin, 200),
        r(
            Method::POST,
            "/api/member-invite",
            Some(Value::String("email=fnboss%40example.com&role=owner".into())),
            Role::Owner,
            200,
        ),
        r(
            Method::POST,
            "/api/member-role",
            Some(Value::String("user_id=507f1f77bcf86cd799439011&role=admin".into())),
            Role::Owner,
            404,
        ),
        r(
            Method::POST,
            "/api/member-remove",
            Some(Value::String("user_id=507f1f77bcf86cd799439011".into())),
            Role::Owner,
            404,
        ),
        r(
            Method::POST,
            "/api/invitation-revoke",
            Some(Value::String("id=507f1f77bcf86cd799439011".into())),
            Role::Admin,
            404,
        ),
        public(Method::POST, "/api/invitation", "token=hbi_unknown", 404),
        public(Method::POST, "/api/invitation-accept", "token=hbi_unknown&password=whatever1", 404),
        mine(Method::POST, "/api/account", Some(Value::String(String::new())), 200),
        mine(
            Method::POST,
            "/api/password-change",
            Some(Value::String("current_password=not+it&new_password=a+new+password".into())),
            400,
        ),
        mine(Method::POST, "/api/session-end", Some(Value::String("id=0123456789abcdef0123456789abcdef".into())), 404),
        mine(Method::POST, "/api/tenant-leave", Some(Value::String("tenant_id=507f1f77bcf86cd799439011".into())), 404),
        // The sign-in server function: wrong credentials get in as nobody, whoever asks.
        public(Method::POST, "/api/login", "email=ada%40example.com&password=wrong", 401),
        // Last: these end the caller's sessions (the sign-out server function is for anyone).
        mine(Method::POST, "/api/auth/logout-all", None, 200),
        public(Method::POST, "/api/logout", "", 200),
    ]
}

/// The credentials of each caller, made once per server.
struct World {
    shop: app::models::TenantId,
    cookies: Vec<(Caller, String)>,
    revoked_key: String,
    /// A tenant-wide notification of the shop, for `notification-received`.
    notification: app::models::NotificationId,
}

impl World {
    async fn new(srv: &TestServer) -> Self {
        let shop = srv.tenant("Shop").await.tenant.id;
        let other = srv.tenant("Other").await.tenant.id;
        let mut cookies = Vec::new();
        let users = [
            (Caller::OtherTenantsMember, &other, Role::Member),
            (Caller::Member, &shop, Role::Member),
            (Caller::Admin, &shop, Role::Admin),
            (Caller::Owner, &shop, Role::Owner),
        ];
        for (caller, tenant, role) in users {
            let email = format!("{caller:?}@example.com").to_lowercase();
            srv.services.add_user_to_tenant(tenant, &email, "U", PASSWORD, role).await.unwrap();
            let signed_in = srv.services.login(&email, PASSWORD, None, None).await.unwrap();
            cookies.push((caller, format!("__Host-hookbell_session={}", signed_in.token)));
        }
        // The owner's other session, gone idle.
        let owner = srv.services.store().get_user_by_email("owner@example.com").await.unwrap().unwrap();
        let now = server::ids::now();
        let expired = server::store::Session {
            token_hash: srv.services.session_token_hash("hbs_expired"),
            user_id: owner.id,
            created_at: now - std::time::Duration::from_secs(86400),
            last_seen_at: now - std::time::Duration::from_secs(46800),
            idle_expires_at: now - std::time::Duration::from_secs(3600),
            expires_at: now + std::time::Duration::from_secs(518400),
            revoked_at: None,
            ip: None,
            user_agent: None,
        };
        srv.services.store().insert_session(&expired).await.unwrap();
        cookies.push((Caller::ExpiredSession, "__Host-hookbell_session=hbs_expired".into()));
        let key = srv.services.create_api_key(&shop, "revoked", Role::Owner, None).await.unwrap();
        srv.services.store().revoke_api_key(&shop, &key.info.id, server::ids::now()).await.unwrap();
        let body = json!({"title": "Matrix", "message": "m"}).as_object().cloned().unwrap();
        let body = app::input::NewNotification::from_json(&body).unwrap();
        let origin = server::service::webhooks::notifications::Origin { actor: "test", source_ip: None };
        let n = srv.services.create_custom_notification(&shop, body, origin, server::ids::now()).await;
        Self { shop, cookies, revoked_key: key.key, notification: n.unwrap().id }
    }

    fn cookie(&self, caller: Caller) -> Option<&str> {
        self.cookies.iter().find(|(c, _)| *c == caller).map(|(_, v)| v.as_str())
    }
}

/// The status `caller` must get on `route`.
fn expected(caller: Caller, route: &Route) -> u16 {
    let Some(needs) = route.needs else {
        return route.allowed;
    };
    let role = match caller {
        Caller::Nobody | Caller::RevokedKey | Caller::ExpiredSession => return 401,
        Caller::OtherTenantsMember if route.own_account => Role::Member,
        Caller::OtherTenantsMember => return 403,
        Caller::Member => Role::Member,
        Caller::Admin => Role::Admin,
        Caller::Owner => Role::Owner,
    };
    if role >= needs {
        route.allowed
    } else {
        403
    }
}

#[tokio::test]
async fn every_route_and_socket_join_answers_each_caller_as_the_roles_say() {
    let key = server::sealing::Sealer::generate_key();
    let srv = TestServer::start_with(&[("HOOKBELL_ENV", "production"), ("HOOKBELL_SECRET_KEY", &key)]).await;
    let world = World::new(&srv).await;
    let own_origin = format!("https://{}", srv.addr); // production: the origin behind TLS
    let mut failures = Vec::new();
    let mut cells = 0;
    // Socket.IO first (the last route ends sessions): the handshake, then join-tenant.
    for caller in CALLERS {
        cells += 1;
        let mut headers = Vec::new();
        if let Some(cookie) = world.cookie(caller) {
            headers.push(("Cookie", cookie.to_owned()));
            headers.push(("Origin", own_origin.clone()));
        }
        let auth = (caller == Caller::RevokedKey).then(|| json!({"apiKey": world.revoked_key}));
        let joined = match srv.socket_with(&[], auth, &headers).await {
            Err(_) => None,
            Ok(probe) => {
                let joined = probe.join(&world.shop).await["ok"] == true;
                let receipt = json!({"tenantId": world.shop, "notificationId": world.notification});
                let received = probe.emit_ack("notification-received", receipt).await["ok"] == true;
                if received != joined {
                    failures.push(format!("notification-received as {caller:?}: {received}, join said {joined}"));
                }
                Some(joined)
            }
        };
        let want = match caller {
            Caller::Nobody | Caller::RevokedKey | Caller::ExpiredSession => None,
            Caller::OtherTenantsMember => Some(false),
            Caller::Member | Caller::Admin | Caller::Owner => Some(true),
        };
        if joined != want {
            failures
                .push(format!("socket join as {caller:?}: {joined:?} (None = refused handshake), expected {want:?}"));
        }
    }
    let (route_failures, route_cells) = check_routes(&srv, &world, routes()).await;
    failures.extend(route_failures);
    cells += route_cells;

    assert!(failures.is_empty(), "{} of {cells} cells wrong:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(cells, routes().len() * CALLERS.len() + CALLERS.len());
}

/// Calls every route as every caller: the cells that answered otherwise than
/// [`expected`], and how many cells there were.
async fn check_routes(srv: &TestServer, world: &World, routes: Vec<Route>) -> (Vec<String>, usize) {
    let own_origin = format!("https://{}", srv.addr); // production: the origin behind TLS
    let (mut failures, mut cells) = (Vec::new(), 0);
    for route in routes {
        for caller in CALLERS {
            let mut req =
                srv.http.request(route.method.clone(), srv.url(route.path)).header("x-tenant-id", world.shop.as_str());
            if let Some(cookie) = world.cookie(caller) {
                req = req.header(header::COOKIE, cookie).header(header::ORIGIN, &own_origin);
            }
            if caller == Caller::RevokedKey {
                req = req.bearer_auth(&world.revoked_key);
            }
            req = match (&route.body, route.path) {
                (_, "/api/bell-state") => req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
                // Server functions take forms.
                (Some(Value::String(form)), _) => {
                    req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(form.clone())
                }
                (Some(body), _) => req.json(body),
                (None, _) => req,
            };
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            cells += 1;
            let want = expected(caller, &route);
            if status != want {
                failures
                    .push(format!("{} {} as {caller:?}: {status}, expected {want}: {text}", route.method, route.path));
            }
            if !(200..300).contains(&status) && text.contains(world.shop.as_str()) {
                failures
                    .push(format!("{} {} as {caller:?}: a refusal named the tenant: {text}", route.method, route.path));
            }
        }
    }

    (failures, cells)
}

/// The sign-out-everywhere server function ends every session, as
/// `/api/auth/logout-all` (the last route of the main matrix) does, so it has
/// a server of its own.
#[tokio::test]
async fn signing_out_everywhere_by_server_function_answers_each_caller_as_the_roles_say() {
    let key = server::sealing::Sealer::generate_key();
    let srv = TestServer::start_with(&[("HOOKBELL_ENV", "production"), ("HOOKBELL_SECRET_KEY", &key)]).await;
    let world = World::new(&srv).await;
    let route = Route {
        method: Method::POST,
        path: "/api/logout-all",
        body: Some(Value::String(String::new())),
        needs: Some(Role::Member),
        allowed: 200,
        own_account: true,
    };
    let (failures, cells) = check_routes(&srv, &world, vec![route]).await;
    assert!(failures.is_empty(), "{} of {cells} cells wrong:\n{}", failures.len(), failures.join("\n"));
}
