//! Hostile sockets: revoking a key, removing a member or signing out
//! disconnects their sockets (on every node), and a socket flooding events or
//! a principal opening too many is refused.

use app::models::Role;
use reqwest::Method;
use serde_json::{json, Value};
use server::tools::socket::DISCONNECT;

use super::{sign_in, start};
use crate::{
    harness::{call, connect_socket, TestServer},
    mongo_server::fresh_mongo_uri,
};

// 5. Revocation reaches open sockets.

/// A member socket of `tenant` that watches for its own disconnection, joined.
async fn joined_socket(
    url: &str,
    tenant: &str,
    auth: Option<Value>,
    headers: &[(&str, String)],
) -> crate::harness::SocketProbe {
    let probe = connect_socket(url, &[DISCONNECT, "new-notification"], auth, headers).await.unwrap();
    assert_eq!(probe.join(tenant).await["ok"], true);
    probe
}

#[tokio::test]
async fn revoking_a_key_removing_a_member_or_signing_out_disconnects_their_sockets() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let tid = t.tenant.id.clone();
    let owner = srv.services.create_api_key(&tid, "owner", Role::Owner, None).await.unwrap().key;
    for email in ["ada@example.com", "bob@example.com", "cy@example.com"] {
        srv.services.add_user_to_tenant(&tid, email, "Someone", "correct horse", Role::Member).await.unwrap();
    }
    let own = format!("http://{}", srv.addr);
    let with_cookie = |c: &str| vec![("Cookie", c.to_owned()), ("Origin", own.clone())];

    // An API key, revoked.
    let key = srv.services.create_api_key(&tid, "socket", Role::Member, None).await.unwrap();
    let mut by_key = joined_socket(&srv.url("/"), &tid, Some(json!({"apiKey": key.key})), &[]).await;
    let bystander_key = srv.services.create_api_key(&tid, "other", Role::Member, None).await.unwrap().key;
    let mut bystander = joined_socket(&srv.url("/"), &tid, Some(json!({"apiKey": bystander_key})), &[]).await;
    let (status, _) = call(&srv, Method::DELETE, &format!("/api/keys/{}", key.info.id), &owner, None).await;
    assert_eq!(status, 200);
    by_key.next_named(DISCONNECT).await;

    // A member, removed from the tenant.
    let ada = srv.services.store().get_user_by_email("ada@example.com").await.unwrap().unwrap();
    let ada_cookie = sign_in(&srv, "ada@example.com").await;
    let mut ada_socket = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&ada_cookie)).await;
    assert_eq!(call(&srv, Method::DELETE, &format!("/api/members/{}", ada.id), &owner, None).await.0, 200);
    ada_socket.next_named(DISCONNECT).await;

    // A session, signed out: only that session's sockets go.
    let bob_laptop = sign_in(&srv, "bob@example.com").await;
    let bob_phone = sign_in(&srv, "bob@example.com").await;
    let mut laptop = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&bob_laptop)).await;
    let mut phone = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&bob_phone)).await;
    let resp = srv.http.post(srv.url("/api/auth/logout")).header("cookie", &bob_laptop).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    laptop.next_named(DISCONNECT).await;

    // Signing out everywhere: every session's sockets go.
    let cy_one = sign_in(&srv, "cy@example.com").await;
    let cy_two = sign_in(&srv, "cy@example.com").await;
    let mut one = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&cy_one)).await;
    let mut two = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&cy_two)).await;
    let resp = srv
        .http
        .post(srv.url("/api/auth/logout-all"))
        .header("cookie", &cy_one)
        .header("origin", &own)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    one.next_named(DISCONNECT).await;
    two.next_named(DISCONNECT).await;

    // Everyone else is still connected and hears the next notification.
    let note = json!({"tenantId": tid, "title": "Still here", "message": "?"});
    assert_eq!(srv.post_signed("/api/webhooks/notifications", &note, &t.webhook_secret).await.0, 201);
    assert_eq!(bystander.next_named("new-notification").await["notification"]["title"], "Still here");
    assert_eq!(phone.next_named("new-notification").await["notification"]["title"], "Still here");
}

/// A new password, a session signed out from the account page, and leaving a
/// tenant each close the sockets they should, and only those; a team change
/// reaches the tenant's open pages (Settings → Members refetches).
#[tokio::test]
async fn account_changes_close_the_sockets_they_end() {
    let srv = TestServer::start().await;
    let t = srv.tenant("Acme").await;
    let tid = t.tenant.id.clone();
    for email in ["pat@example.com", "lee@example.com"] {
        srv.services.add_user_to_tenant(&tid, email, "Someone", "correct horse", Role::Member).await.unwrap();
    }
    let owner = srv.services.create_api_key(&tid, "owner", Role::Owner, None).await.unwrap().key;
    let own = format!("http://{}", srv.addr);
    let with_cookie = |c: &str| vec![("Cookie", c.to_owned()), ("Origin", own.clone())];
    let post = |path: &str, cookie: &str, body: Value| {
        srv.http.post(srv.url(path)).header("cookie", cookie).header("origin", &own).json(&body).send()
    };

    // A new password: the other session's socket closes, and so does this browser's, opened with
    // the token the change replaced (a copy of it may be why the password changed).
    let (here, there) = (sign_in(&srv, "pat@example.com").await, sign_in(&srv, "pat@example.com").await);
    let mut other_socket = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&there)).await;
    let mut old_socket = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&here)).await;
    let change = json!({"currentPassword": "correct horse", "newPassword": "a brand new one"});
    let resp = post("/api/me/password", &here, change).await.unwrap();
    assert_eq!(resp.status(), 200);
    let set = resp.headers().get("set-cookie").expect("a new session cookie").to_str().unwrap();
    let (old, here) = (here, set.split(';').next().unwrap().to_owned());
    assert_ne!(old, here);
    other_socket.next_named(DISCONNECT).await;
    old_socket.next_named(DISCONNECT).await;
    let me = |cookie: &str| srv.http.get(srv.url("/api/auth/me")).header("cookie", cookie.to_owned()).send();
    assert_eq!(me(&old).await.unwrap().status(), 401, "the replaced token is signed out");
    // This browser reconnects with its new cookie, and hears the next notification.
    let mut this_socket = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&here)).await;
    let note = json!({"tenantId": tid, "title": "Still here", "message": "?"});
    assert_eq!(srv.post_signed("/api/webhooks/notifications", &note, &t.webhook_secret).await.0, 201);
    assert_eq!(this_socket.next_named("new-notification").await["notification"]["title"], "Still here");

    // One session signed out from the account page: its socket closes.
    let extra = sign_in_with(&srv, "pat@example.com", "a brand new one").await;
    let mut extra_socket = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&extra)).await;
    let account: Value =
        srv.http.get(srv.url("/api/me/account")).header("cookie", &here).send().await.unwrap().json().await.unwrap();
    let id = account["sessions"].as_array().unwrap().iter().find(|s| s["current"] == false).unwrap()["id"].clone();
    let resp = srv
        .http
        .delete(srv.url(&format!("/api/me/sessions/{}", id.as_str().unwrap())))
        .header("cookie", &here)
        .header("origin", &own)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    extra_socket.next_named(DISCONNECT).await;

    // Leaving the tenant: the user's sockets close; the team's pages hear of it.
    let mut watcher =
        connect_socket(&srv.url("/"), &[DISCONNECT, "dashboard-refresh"], Some(json!({"apiKey": owner})), &[])
            .await
            .unwrap();
    assert_eq!(watcher.join(&tid).await["ok"], true);
    let lee = sign_in(&srv, "lee@example.com").await;
    let mut lee_socket = joined_socket(&srv.url("/"), &tid, None, &with_cookie(&lee)).await;
    assert_eq!(post(&format!("/api/me/tenants/{tid}/leave"), &lee, json!({})).await.unwrap().status(), 200);
    lee_socket.next_named(DISCONNECT).await;
    let refresh = watcher.next_named("dashboard-refresh").await;
    assert_eq!((refresh["reason"].as_str(), refresh["entities"][0].as_str()), (Some("member-left"), Some("members")));
    // And an invitation made, too.
    let (status, _) = call(&srv, Method::POST, "/api/members", &owner, Some(json!({"email": "new@example.com"}))).await;
    assert_eq!(status, 201);
    assert_eq!(watcher.next_named("dashboard-refresh").await["reason"], "invitation-created");
}

async fn sign_in_with(srv: &TestServer, email: &str, password: &str) -> String {
    let signed_in = srv.services.login(email, password, None, None).await.unwrap();
    format!("hookbell_session={}", signed_in.token)
}

#[tokio::test]
async fn a_revocation_on_one_node_disconnects_sockets_on_another() {
    let key = server::sealing::Sealer::generate_key();
    let uri = fresh_mongo_uri();
    let redis = std::env::var("HOOKBELL_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let vars = [
        ("HOOKBELL_ENV", "production".to_owned()),
        ("HOOKBELL_SECRET_KEY", key),
        ("MONGODB_URI", uri),
        ("REDIS_URL", redis),
    ];
    let a = start(&vars).await;
    let b = start(&vars).await;
    let t = a.tenant("Two nodes").await;
    let tid = t.tenant.id.clone();
    let owner = a.services.create_api_key(&tid, "owner", Role::Owner, None).await.unwrap().key;
    let key = a.services.create_api_key(&tid, "socket", Role::Member, None).await.unwrap();
    a.services.add_user_to_tenant(&tid, "ada@example.com", "Ada", "correct horse", Role::Member).await.unwrap();
    let mut on_b = joined_socket(&b.url("/"), &tid, Some(json!({"apiKey": key.key})), &[]).await;
    let (status, _) = call(&a, Method::DELETE, &format!("/api/keys/{}", key.info.id), &owner, None).await;
    assert_eq!(status, 200);
    on_b.next_named(DISCONNECT).await;

    // A session opened on B, signed out on A.
    let signed_in = a.services.login("ada@example.com", "correct horse", None, None).await.unwrap();
    let cookie = format!("__Host-hookbell_session={}", signed_in.token);
    let headers = [("Cookie", cookie.clone()), ("Origin", format!("https://{}", b.addr))];
    let mut ada_on_b = joined_socket(&b.url("/"), &tid, None, &headers).await;
    let resp = a
        .http
        .post(a.url("/api/auth/logout"))
        .header("cookie", &cookie)
        .header("origin", format!("https://{}", a.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    ada_on_b.next_named(DISCONNECT).await;
}

// 11. Socket abuse.

#[tokio::test]
async fn a_socket_flooding_events_is_refused_then_disconnected_and_sockets_are_capped() {
    let srv =
        start(&[("HOOKBELL_SOCKET_EVENT_RATE", "2".into()), ("HOOKBELL_MAX_SOCKETS_PER_PRINCIPAL", "2".into())]).await;
    let t = srv.tenant("Acme").await;
    let key = srv.services.create_api_key(&t.tenant.id, "k", Role::Member, None).await.unwrap().key;
    let auth = || Some(json!({"apiKey": key}));
    let mut flood = connect_socket(&srv.url("/"), &[DISCONNECT], auth(), &[]).await.unwrap();
    let mut acks = Vec::new();
    for _ in 0..6 {
        acks.push(flood.join(&t.tenant.id).await);
    }
    assert!(acks[..4].iter().all(|a| a["ok"] == true), "a burst of twice the rate: {acks:?}");
    assert_eq!((acks[4]["ok"].as_bool(), acks[4]["code"].as_str()), (Some(false), Some("rate_limited")));
    // Kept up, it is disconnected.
    for _ in 0..10 {
        let _ = flood.live.client.emit("join-tenant", json!({"tenantId": t.tenant.id})).await;
    }
    flood.next_named(DISCONNECT).await;
    // Two sockets per principal; a third is refused; another key is not affected.
    let key = srv.services.create_api_key(&t.tenant.id, "capped", Role::Member, None).await.unwrap().key;
    let auth = || Some(json!({"apiKey": key}));
    let _one = connect_socket(&srv.url("/"), &[], auth(), &[]).await.unwrap();
    let _two = connect_socket(&srv.url("/"), &[], auth(), &[]).await.unwrap();
    assert!(connect_socket(&srv.url("/"), &[], auth(), &[]).await.is_err());
    let other = srv.services.create_api_key(&t.tenant.id, "o", Role::Member, None).await.unwrap().key;
    assert!(connect_socket(&srv.url("/"), &[], Some(json!({"apiKey": other})), &[]).await.is_ok());
}

#[tokio::test]
async fn an_unknown_event_is_answered_not_found_and_spends_the_sockets_budget() {
    let srv = start(&[("HOOKBELL_SOCKET_EVENT_RATE", "2".into())]).await;
    let t = srv.tenant("Acme").await;
    let key = srv.services.create_api_key(&t.tenant.id, "k", Role::Member, None).await.unwrap().key;
    let probe = connect_socket(&srv.url("/"), &[], Some(json!({"apiKey": key})), &[]).await.unwrap();
    // A burst of twice the rate: four events, none of them known.
    for event in ["join", "mark-all-read", "join-tenant ", "x".repeat(10_000).as_str()] {
        let ack = probe.emit_ack(event, json!({"tenantId": t.tenant.id})).await;
        assert_eq!((ack["ok"].as_bool(), ack["code"].as_str()), (Some(false), Some("not_found")), "{ack}");
    }
    let ack = probe.join(&t.tenant.id).await;
    assert_eq!((ack["ok"].as_bool(), ack["code"].as_str()), (Some(false), Some("rate_limited")), "{ack}");
}

#[tokio::test]
async fn an_event_without_its_argument_or_with_the_wrong_type_still_gets_its_ack() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let srv = start(&[]).await;
    let t = srv.tenant("Acme").await;
    let key = srv.services.create_api_key(&t.tenant.id, "k", Role::Member, None).await.unwrap().key;
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", srv.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    // Past the server's pings.
    let next = async |ws: &mut crate::harness::RawWs| loop {
        let text = crate::harness::next_text(ws).await.expect("connection open");
        if text != "2" {
            return text;
        }
    };
    assert!(next(&mut ws).await.starts_with('0'));
    ws.send(Message::Text(format!(r#"40{{"apiKey":"{key}"}}"#))).await.unwrap();
    assert!(next(&mut ws).await.starts_with("40"));
    // Raw Socket.IO frames with an ack id: each gets its ack in the one error shape.
    let refused = Some("validation_failed");
    for (id, event, ok, code) in [
        (1, r#"["join-tenant"]"#, false, refused),
        (2, r#"["join-tenant",42]"#, false, refused),
        (3, r#"["join-tenant",null]"#, false, refused),
        (4, r#"["notification-received"]"#, false, refused),
        (5, r#"["notification-received","x"]"#, false, refused),
        (6, r#"["leave-tenant"]"#, true, None),
        (7, r#"["no-such-event"]"#, false, Some("not_found")),
    ] {
        ws.send(Message::Text(format!("42{id}{event}"))).await.unwrap();
        let ack = next(&mut ws).await;
        let body = ack.strip_prefix(&format!("43{id}")).unwrap_or_else(|| panic!("{event}: {ack}"));
        let body: Value = serde_json::from_str(body).unwrap();
        assert_eq!((body[0]["ok"].as_bool(), body[0]["code"].as_str()), (Some(ok), code), "{event}: {body}");
    }
}
