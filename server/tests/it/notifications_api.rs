//! The seed's notification API over real HTTP, with its live events over
//! Socket.IO: who sees which notification, filters and cursor pages, read /
//! dismiss / mark-all-read with counts, and delivery receipts.

use std::time::Duration;

use app::models::Role;
use reqwest::{header, Method};
use serde_json::{json, Value};

use crate::harness::{SocketProbe, TestServer};

const PASSWORD: &str = "correct horse battery";

pub(crate) struct World {
    pub srv: TestServer,
    pub tenant: app::models::TenantId,
    pub key: String,
    pub ada: (app::models::UserId, String),
    pub bo: (app::models::UserId, String),
}

/// A production server, a tenant, a member key, and two signed-in members (id, cookie).
async fn world() -> World {
    world_with(false, &[]).await
}

/// [`world`] on a development server (`dev`) or a production one, with more settings.
pub(crate) async fn world_with(dev: bool, extra: &[(&str, &str)]) -> World {
    let secret_key = server::sealing::Sealer::generate_key();
    let mut vars = vec![("HOOKBELL_ENV", if dev { "development" } else { "production" })];
    vars.push(("HOOKBELL_SECRET_KEY", &secret_key));
    vars.extend_from_slice(extra);
    let srv = TestServer::start_with(&vars).await;
    let cookie_name = if dev { "hookbell_session" } else { "__Host-hookbell_session" };
    let tenant = srv.tenant("Shop").await.tenant.id;
    let key = srv.services.create_api_key(&tenant, "program", Role::Member, None).await.unwrap().key;
    let mut users = Vec::new();
    for email in ["ada@example.com", "bo@example.com"] {
        let added = srv.services.add_user_to_tenant(&tenant, email, "U", PASSWORD, Role::Member).await.unwrap();
        let signed_in = srv.services.login(email, PASSWORD, None, None).await.unwrap();
        users.push((added.user.id, format!("{cookie_name}={}", signed_in.token)));
    }
    let bo = users.pop().unwrap();
    let ada = users.pop().unwrap();
    World { srv, tenant, key, ada, bo }
}

impl World {
    /// Calls as the program (API key) or, with a cookie, as that user (from the server's own origin).
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.srv.http.request(method, self.srv.url(path));
        req = match cookie {
            Some(c) => req.header(header::COOKIE, c).header(header::ORIGIN, format!("https://{}", self.srv.addr)),
            None => req.bearer_auth(&self.key),
        };
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn socket(&self, cookie: &str) -> SocketProbe {
        let events = ["new-notification", "notification-updated", "notifications-marked-read"];
        let origin = format!("https://{}", self.srv.addr);
        let probe =
            self.srv.socket_with(&events, None, &[("Cookie", cookie.to_owned()), ("Origin", origin)]).await.unwrap();
        assert_eq!(probe.join(&self.tenant).await["ok"], true);
        probe
    }
}

pub(crate) fn ids(body: &Value) -> Vec<String> {
    body["notifications"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn personal_notifications_reach_only_their_user() {
    let w = world().await;
    let mut ada_socket = w.socket(&w.ada.1).await;
    let mut bo_socket = w.socket(&w.bo.1).await;

    let (status, wide) =
        w.call(Method::POST, "/api/notifications", None, Some(json!({"title": "Sale", "message": "All"}))).await;
    assert_eq!(status, 201, "{wide}");
    assert_eq!(ada_socket.next_named("new-notification").await["notification"]["title"], "Sale");
    assert_eq!(bo_socket.next_named("new-notification").await["unreadCount"], 1);

    let personal = json!({"title": "For Ada", "message": "Yours", "userId": w.ada.0, "priority": "high"});
    let (status, mine) = w.call(Method::POST, "/api/notifications", None, Some(personal)).await;
    assert_eq!(status, 201, "{mine}");
    let event = ada_socket.next_named("new-notification").await;
    assert_eq!((event["notification"]["title"].as_str(), event["unreadCount"].as_u64()), (Some("For Ada"), Some(2)));
    bo_socket.expect_silence(Duration::from_millis(300)).await;

    // Lists: Ada sees both, Bo the tenant-wide one; each with their own count.
    let (status, ada_list) = w.call(Method::GET, "/api/notifications", Some(&w.ada.1), None).await;
    assert_eq!((status, ada_list["unreadCount"].as_u64()), (200, Some(2)), "{ada_list}");
    assert_eq!(ids(&ada_list).len(), 2);
    let (_, bo_list) = w.call(Method::GET, "/api/notifications", Some(&w.bo.1), None).await;
    assert_eq!((ids(&bo_list).len(), bo_list["unreadCount"].as_u64()), (1, Some(1)));
    // A user cannot look through another's eyes; a program can.
    let as_ada = format!("/api/notifications?userId={}", w.ada.0);
    assert_eq!(w.call(Method::GET, &as_ada, Some(&w.bo.1), None).await.0, 403);
    let (_, program_view) = w.call(Method::GET, &as_ada, None, None).await;
    assert_eq!(ids(&program_view).len(), 2);

    // Bo cannot touch Ada's notification; Ada reads it, and her socket hears it.
    let ada_note = mine["notification"]["id"].as_str().unwrap();
    let path = format!("/api/notifications/{ada_note}");
    assert_eq!(w.call(Method::PATCH, &path, Some(&w.bo.1), Some(json!({"isRead": true}))).await.0, 404);
    let (status, read) = w.call(Method::PATCH, &path, Some(&w.ada.1), Some(json!({"isRead": true}))).await;
    assert_eq!((status, read["unreadCount"].as_u64()), (200, Some(1)), "{read}");
    assert!(read["notification"]["readAt"].is_string());
    let updated = ada_socket.next_named("notification-updated").await;
    assert_eq!((updated["notification"]["isRead"].as_bool(), updated["unreadCount"].as_u64()), (Some(true), Some(1)));
    bo_socket.expect_silence(Duration::from_millis(300)).await;

    // Bad patches are named.
    let (status, bad) = w.call(Method::PATCH, &path, Some(&w.ada.1), Some(json!({"isRead": "yes", "x": 1}))).await;
    assert_eq!((status, bad["details"].as_array().map(Vec::len)), (400, Some(2)), "{bad}");
    assert_eq!(w.call(Method::PATCH, &path, Some(&w.ada.1), Some(json!({}))).await.0, 400);
    assert_eq!(
        w.call(Method::PATCH, "/api/notifications/nope", Some(&w.ada.1), Some(json!({"isRead": true}))).await.0,
        404
    );

    // Mark all read (Bo's view: the tenant-wide one): Bo's only, told to Bo's tabs only.
    let (status, all) = w.call(Method::POST, "/api/notifications/mark-all-read", Some(&w.bo.1), None).await;
    assert_eq!((status, all["count"].as_u64(), all["unreadCount"].as_u64()), (200, Some(1), Some(0)), "{all}");
    let marked = bo_socket.next_named("notifications-marked-read").await;
    assert_eq!((marked["count"].as_u64(), marked["unreadCount"].as_u64()), (Some(1), Some(0)));
    assert_eq!(marked["userId"], w.bo.0.as_str());
    ada_socket.expect_silence(Duration::from_millis(300)).await;
    let (_, ada_after) = w.call(Method::GET, "/api/notifications?includeRead=false", Some(&w.ada.1), None).await;
    assert_eq!((ids(&ada_after).len(), ada_after["unreadCount"].as_u64()), (1, Some(1)), "Ada's Sale stays unread");
}

#[tokio::test]
async fn lists_filter_and_page_and_refuse_bad_queries() {
    let w = world().await;
    for i in 0..5 {
        let body =
            json!({"title": format!("N{i}"), "message": "m", "type": if i % 2 == 0 { "warning" } else { "info" }});
        assert_eq!(w.call(Method::POST, "/api/notifications", None, Some(body)).await.0, 201);
    }
    // Pages of two: five notifications, each once, newest first.
    let (mut seen, mut after) = (Vec::new(), None::<String>);
    loop {
        let path = match &after {
            Some(c) => format!("/api/notifications?limit=2&after={c}"),
            None => "/api/notifications?limit=2".to_owned(),
        };
        let (status, page) = w.call(Method::GET, &path, None, None).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(page["notifications"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().to_owned()));
        match page["nextCursor"].as_str() {
            Some(c) => after = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, vec!["N4", "N3", "N2", "N1", "N0"]);
    let (_, warnings) = w.call(Method::GET, "/api/notifications?type=warning", None, None).await;
    assert_eq!(ids(&warnings).len(), 3);

    // Dismissed ones are left out unless asked for.
    let first = ids(&warnings)[0].clone();
    let path = format!("/api/notifications/{first}");
    assert_eq!(w.call(Method::PATCH, &path, None, Some(json!({"isDismissed": true}))).await.0, 200);
    let (_, default_list) = w.call(Method::GET, "/api/notifications", None, None).await;
    assert_eq!(ids(&default_list).len(), 4);
    let (_, with_dismissed) = w.call(Method::GET, "/api/notifications?includeDismissed=true", None, None).await;
    assert_eq!(ids(&with_dismissed).len(), 5);

    for bad in ["limit=0", "limit=201", "type=bogus", "priority=max", "after=nope", "includeRead=maybe", "colour=red"] {
        let (status, body) = w.call(Method::GET, &format!("/api/notifications?{bad}"), None, None).await;
        assert_eq!((status, body["success"].as_bool()), (400, Some(false)), "{bad}: {body}");
    }
    let (status, body) = w.call(Method::POST, "/api/notifications", None, Some(json!({"title": ""}))).await;
    assert_eq!(status, 400, "{body}");
    // No caller: nothing.
    let resp = w.srv.http.get(w.srv.url("/api/notifications")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn sockets_report_deliveries_of_notifications_they_may_see() {
    let w = world().await;
    let probe = w.socket(&w.ada.1).await;
    let (_, created) =
        w.call(Method::POST, "/api/notifications", None, Some(json!({"title": "T", "message": "m"}))).await;
    let id = created["notification"]["id"].as_str().unwrap();
    let receipt = |id: &str| json!({"tenantId": w.tenant, "notificationId": id});
    let ack = probe.emit_ack("notification-received", receipt(id)).await;
    assert_eq!((ack["ok"].as_bool(), ack["firstDelivery"].as_bool()), (Some(true), Some(true)), "{ack}");
    let again = probe.emit_ack("notification-received", receipt(id)).await;
    assert_eq!(again["firstDelivery"], false);
    let stored = w.srv.services.store().get_notification(&w.tenant, &id.into()).await.unwrap().unwrap();
    assert!(stored.delivered_at.is_some());

    // Another tenant's notification, Bo's personal one, nonsense: refused.
    let other = w.srv.tenant("Other").await;
    let other_key = w.srv.services.create_api_key(&other.tenant.id, "k", Role::Member, None).await.unwrap().key;
    let resp = w
        .srv
        .http
        .post(w.srv.url("/api/notifications"))
        .bearer_auth(other_key)
        .json(&json!({"title": "O", "message": "m"}))
        .send()
        .await
        .unwrap();
    let theirs: Value = resp.json().await.unwrap();
    let foreign = json!({"tenantId": other.tenant.id, "notificationId": theirs["notification"]["id"]});
    assert_eq!(probe.emit_ack("notification-received", foreign).await["ok"], false);
    let personal = json!({"title": "Bo", "message": "m", "userId": w.bo.0});
    let (_, bos) = w.call(Method::POST, "/api/notifications", None, Some(personal)).await;
    let ack = probe.emit_ack("notification-received", receipt(bos["notification"]["id"].as_str().unwrap())).await;
    assert_eq!(ack["ok"], false);
    assert_eq!(probe.emit_ack("notification-received", json!({"x": 1})).await["ok"], false);
}
