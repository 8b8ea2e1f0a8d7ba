//! A team over REST, on both stores: who may invite whom, the answer that
//! says nothing of whether an email has an account, an invitation accepted
//! once (by a new user, an existing one, or one signed in already) until it
//! expires or is revoked, role changes and removals under the last-owner rule
//! (also at the same instant), leaving a tenant, the account's sessions and
//! password, and every change in the audit trail, shown to admins only.

use std::sync::Arc;

use app::models::Role;
use reqwest::{header, Method};
use serde_json::{json, Value};

use crate::harness::{call, TestServer};

const PASSWORD: &str = "correct horse battery";

/// Runs a test body against a production-mode server on SQLite and on MongoDB.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::start_server(None).await).await }
            )*
        }
        mod mongo_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() { super::$name(super::start_server(Some(crate::mongo_server::fresh_mongo_uri())).await).await }
            )*
        }
    };
}

both_stores!(
    who_may_invite_whom_and_revoke,
    an_invitation_is_accepted_once_by_a_new_or_an_existing_user,
    two_acceptances_at_the_same_instant_add_one_member,
    two_owners_demoting_each_other_at_once_leave_one_owner,
    a_user_leaves_a_tenant_but_not_as_its_last_owner,
    a_new_password_ends_every_other_session,
);

async fn start_server(mongo: Option<String>) -> TestServer {
    let key = server::sealing::Sealer::generate_key();
    let mut vars = vec![("HOOKBELL_ENV", "production".to_owned()), ("HOOKBELL_SECRET_KEY", key)];
    if let Some(uri) = mongo {
        vars.push(("MONGODB_URI", uri));
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestServer::start_with(&vars).await
}

/// A browser: its cookies (session, chosen tenant), sent with this server's own `Origin`.
#[derive(Clone, Default)]
struct Browser {
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn anonymous() -> Self {
        Self::default()
    }

    async fn signed_in(srv: &TestServer, email: &str) -> Self {
        let signed_in = srv.services.login(email, PASSWORD, None, Some("Firefox/121.0 (X11; Linux)".into())).await;
        Self { cookies: vec![("__Host-hookbell_session".into(), signed_in.unwrap().token)] }
    }

    /// The `Cookie` header this browser sends.
    fn cookie(&self) -> Option<String> {
        (!self.cookies.is_empty())
            .then(|| self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }

    async fn send(&self, srv: &TestServer, method: Method, path: &str, body: Option<Value>) -> (u16, Value, Self) {
        let mut req = srv.http.request(method, srv.url(path)).header(header::ORIGIN, format!("https://{}", srv.addr));
        if let Some(cookie) = self.cookie() {
            req = req.header(header::COOKIE, cookie);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        // Cookies set replace this browser's (an empty one clears it).
        let mut after = self.clone();
        for set in resp.headers().get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()) {
            let (name, value) = set.split(';').next().unwrap().split_once('=').unwrap();
            after.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() {
                after.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        (status, resp.json().await.unwrap_or(Value::Null), after)
    }
}

/// A tenant with an owner (Olga, signed in), an admin (Ada) and a member (Mo).
struct Team {
    tenant: app::models::TenantId,
    owner: Browser,
    admin: Browser,
    member: Browser,
}

async fn team(srv: &TestServer) -> Team {
    let tenant = srv.tenant("Shop").await.tenant.id;
    let slug = tenant.as_str().get(..8).unwrap().to_owned();
    let mut browsers = Vec::new();
    for (who, role) in [("olga", Role::Owner), ("ada", Role::Admin), ("mo", Role::Member)] {
        let email = format!("{who}-{slug}@example.com");
        srv.services.add_user_to_tenant(&tenant, &email, who, PASSWORD, role).await.unwrap();
        browsers.push(Browser::signed_in(srv, &email).await);
    }
    let member = browsers.pop().unwrap();
    let admin = browsers.pop().unwrap();
    let owner = browsers.pop().unwrap();
    Team { tenant, owner, admin, member }
}

/// The token in an invitation's link.
fn token_of(created: &Value) -> String {
    let url = created["url"].as_str().unwrap();
    url.split_once("/invite#").unwrap().1.to_owned()
}

async fn invite(srv: &TestServer, by: &Browser, email: &str, role: &str) -> (u16, Value) {
    let (status, body, _) =
        by.send(srv, Method::POST, "/api/members", Some(json!({"email": email, "role": role}))).await;
    (status, body)
}

async fn who_may_invite_whom_and_revoke(srv: TestServer) {
    let t = team(&srv).await;
    for (by, role, want) in [
        (&t.owner, "owner", 201),
        (&t.owner, "admin", 201),
        (&t.admin, "admin", 201),
        (&t.admin, "member", 201),
        (&t.admin, "owner", 403),
        (&t.member, "member", 403),
    ] {
        let (status, body) = invite(&srv, by, "someone@example.com", role).await;
        assert_eq!(status, want, "{role}: {body}");
    }
    let (status, body) = invite(&srv, &t.owner, "not an email", "king").await;
    let fields: Vec<&str> = body["details"].as_array().unwrap().iter().map(|d| d["field"].as_str().unwrap()).collect();
    assert_eq!((status, fields), (400, vec!["email", "role"]), "{body}");
    let with_password = json!({"email": "x@example.com", "password": PASSWORD});
    let (status, body, _) = t.owner.send(&srv, Method::POST, "/api/members", Some(with_password)).await;
    assert_eq!((status, body["details"][0]["field"].as_str()), (400, Some("password")), "{body}");

    // Listed to admins (never a token), not to members.
    let (status, listed, _) = t.admin.send(&srv, Method::GET, "/api/invitations", None).await;
    assert_eq!(status, 200);
    let pending = listed["invitations"].as_array().unwrap();
    assert_eq!(pending.len(), 4, "{listed}");
    assert!(!listed.to_string().contains("hbi_") && !listed.to_string().contains("token"), "{listed}");
    assert_eq!(t.member.send(&srv, Method::GET, "/api/invitations", None).await.0, 403);

    // An admin may not revoke an owner's invitation; the owner may; then it is gone.
    let owner_inv = pending.iter().find(|i| i["role"] == "owner").unwrap()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/invitations/{owner_inv}");
    assert_eq!(t.admin.send(&srv, Method::DELETE, &path, None).await.0, 403);
    assert_eq!(t.member.send(&srv, Method::DELETE, &path, None).await.0, 403);
    assert_eq!(t.owner.send(&srv, Method::DELETE, &path, None).await.0, 200);
    assert_eq!(t.owner.send(&srv, Method::DELETE, &path, None).await.0, 404);
    assert_eq!(t.owner.send(&srv, Method::DELETE, "/api/invitations/not-an-id", None).await.0, 404);
    // Another tenant's owner cannot see or revoke them.
    let other = srv.tenant("Other").await.tenant.id;
    srv.services.add_user_to_tenant(&other, "stranger@example.com", "S", PASSWORD, Role::Owner).await.unwrap();
    let stranger = Browser::signed_in(&srv, "stranger@example.com").await;
    let admin_inv = pending.iter().find(|i| i["role"] == "admin").unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(stranger.send(&srv, Method::DELETE, &format!("/api/invitations/{admin_inv}"), None).await.0, 404);
    let _ = t.tenant;
}

/// The answer for an email with an account (in another tenant) and for one
/// without is the same, byte for byte, once the new ids, times, token and
/// the email itself are set aside.
#[tokio::test]
async fn the_answer_to_an_invitation_is_the_same_for_known_and_unknown_emails() {
    let srv = start_server(None).await;
    let t = team(&srv).await;
    let other = srv.tenant("Elsewhere").await.tenant.id;
    srv.services.add_user_to_tenant(&other, "known@example.com", "Known", PASSWORD, Role::Owner).await.unwrap();
    let mut answers = Vec::new();
    for email in ["known@example.com", "unknown@example.com"] {
        let resp = srv
            .http
            .post(srv.url("/api/members"))
            .header(header::ORIGIN, format!("https://{}", srv.addr))
            .header(header::COOKIE, t.owner.cookie().unwrap())
            .json(&json!({"email": email, "role": "member"}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let mut headers: Vec<String> = resp
            .headers()
            .iter()
            .filter(|(name, _)| *name != header::DATE)
            .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
            .collect();
        headers.sort();
        let text = resp.text().await.unwrap();
        let body: Value = serde_json::from_str(&text).unwrap();
        let inv = &body["invitation"];
        let mut masked = text.clone();
        for (value, mask) in [
            (token_of(&body), "TOKEN"),
            (inv["id"].as_str().unwrap().to_owned(), "ID"),
            (inv["createdAt"].as_str().unwrap().to_owned(), "CREATED"),
            (inv["expiresAt"].as_str().unwrap().to_owned(), "EXPIRES"),
            (email.to_owned(), "EMAIL"),
        ] {
            masked = masked.replace(&value, mask);
        }
        let length = headers.iter().position(|h| h.starts_with("content-length")).unwrap();
        headers.remove(length); // the email's length differs; the body's masked text is compared instead
        answers.push((status, headers, masked));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].0, 201);
    assert!(!answers[0].2.contains("Known") && !answers[0].2.contains("userId"), "{}", answers[0].2);
}

async fn an_invitation_is_accepted_once_by_a_new_or_an_existing_user(srv: TestServer) {
    let t = team(&srv).await;
    let (_, created) = invite(&srv, &t.admin, "New.Person@Example.com", "member").await;
    let token = token_of(&created);
    assert!(token.starts_with("hbi_") && token.len() == 47, "{token}");
    let stored = srv.services.store().pending_invitations(&t.tenant, server::ids::now()).await.unwrap();
    assert_ne!(stored[0].token_hash, token, "only a hash of the token is stored");
    assert!(!stored[0].token_hash.contains(&token[4..]));

    // Anyone with the link sees what it invites to.
    let guest = Browser::anonymous();
    let (status, preview, _) =
        guest.send(&srv, Method::POST, "/api/invitations/preview", Some(json!({"token": token}))).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["invitation"]["email"], "new.person@example.com");
    assert_eq!(
        (preview["invitation"]["tenantName"].as_str(), preview["invitation"]["role"].as_str()),
        (Some("Shop"), Some("member"))
    );
    let bad = guest.send(&srv, Method::POST, "/api/invitations/preview", Some(json!({"token": "hbi_nothing"}))).await;
    assert_eq!(bad.0, 404);
    let bad = guest.send(&srv, Method::POST, "/api/invitations/preview", Some(json!({"token": 5}))).await;
    assert_eq!(bad.0, 400);
    let bad =
        guest.send(&srv, Method::POST, "/api/invitations/preview", Some(json!({"token": "x".repeat(100_000)}))).await;
    assert!(bad.0 == 404 || bad.0 == 413, "{}", bad.0);

    // Not a member before acceptance; a weak password or no name refuses and leaves the link working.
    let (_, members, _) = t.owner.send(&srv, Method::GET, "/api/members", None).await;
    assert_eq!(members["members"].as_array().unwrap().len(), 3);
    let weak = json!({"token": token, "name": "Nia", "password": "short"});
    assert_eq!(guest.send(&srv, Method::POST, "/api/invitations/accept", Some(weak)).await.0, 400);
    let nameless = json!({"token": token, "password": PASSWORD});
    assert_eq!(
        guest.send(&srv, Method::POST, "/api/invitations/accept", Some(nameless)).await.0,
        401,
        "no account yet"
    );

    // A new user chooses a name and password; the answer signs them in to the tenant.
    let accept = json!({"token": token, "name": "Nia", "password": PASSWORD});
    let (status, body, nia) = guest.send(&srv, Method::POST, "/api/invitations/accept", Some(accept.clone())).await;
    assert_eq!((status, body["alreadyMember"].as_bool()), (200, Some(false)), "{body}");
    let (status, me, _) = nia.send(&srv, Method::GET, "/api/auth/me", None).await;
    assert_eq!((status, me["tenantId"].as_str(), me["role"].as_str()), (200, Some(t.tenant.as_str()), Some("member")));
    // Used: the link works no more.
    let (status, body, _) = guest.send(&srv, Method::POST, "/api/invitations/accept", Some(accept)).await;
    assert_eq!((status, body["code"].as_str()), (410, Some("gone")), "{body}");
    assert_eq!(guest.send(&srv, Method::POST, "/api/invitations/preview", Some(json!({"token": token}))).await.0, 410);

    // An existing user (of another tenant) signs in to accept; a wrong password refuses and keeps the link.
    let other = srv.tenant("Other").await.tenant.id;
    srv.services.add_user_to_tenant(&other, "bo@example.com", "Bo", PASSWORD, Role::Owner).await.unwrap();
    let (_, created) = invite(&srv, &t.owner, "bo@example.com", "admin").await;
    let token = token_of(&created);
    let wrong = json!({"token": token, "password": "not the password"});
    assert_eq!(guest.send(&srv, Method::POST, "/api/invitations/accept", Some(wrong)).await.0, 401);
    let taken = json!({"token": token, "name": "Bo again", "password": PASSWORD});
    let (status, body, _) = guest.send(&srv, Method::POST, "/api/invitations/accept", Some(taken)).await;
    assert_eq!(status, 409, "the email has an account: {body}");
    let (status, _, bo) = guest
        .send(&srv, Method::POST, "/api/invitations/accept", Some(json!({"token": token, "password": PASSWORD})))
        .await;
    assert_eq!(status, 200);
    let (_, me, _) = bo.send(&srv, Method::GET, "/api/auth/me", None).await;
    assert_eq!(me["tenants"].as_array().unwrap().len(), 2, "{me}");
    assert_eq!(me["tenantId"], t.tenant.as_str(), "the browser now acts on the tenant it joined");

    // Signed in already as the invitee: accepted as is. Signed in as someone else: refused.
    let (_, created) = invite(&srv, &t.owner, "mo-again@example.com", "member").await;
    let token = token_of(&created);
    let (status, _, _) =
        t.member.send(&srv, Method::POST, "/api/invitations/accept", Some(json!({"token": token}))).await;
    assert_eq!(status, 403, "another user's invitation");
    srv.services.add_user_to_tenant(&other, "mo-again@example.com", "Mo", PASSWORD, Role::Member).await.unwrap();
    let mo = Browser::signed_in(&srv, "mo-again@example.com").await;
    let (status, body, mo_after) =
        mo.send(&srv, Method::POST, "/api/invitations/accept", Some(json!({"token": token}))).await;
    assert_eq!((status, body["user"].is_null()), (200, true), "{body}");
    let session = |b: &Browser| b.cookies.iter().find(|(k, _)| k == "__Host-hookbell_session").cloned();
    assert_eq!(session(&mo_after), session(&mo), "the same session");

    // An existing member accepting keeps their role.
    let (_, created) = invite(&srv, &t.owner, "bo@example.com", "member").await;
    let (status, body, _) =
        bo.send(&srv, Method::POST, "/api/invitations/accept", Some(json!({"token": token_of(&created)}))).await;
    assert_eq!((status, body["alreadyMember"].as_bool()), (200, Some(true)));
    let (_, members, _) = t.owner.send(&srv, Method::GET, "/api/members", None).await;
    let bo_role =
        members["members"].as_array().unwrap().iter().find(|m| m["email"] == "bo@example.com").unwrap()["role"].clone();
    assert_eq!(bo_role, "admin");

    // Revoked and expired links: 410.
    let (_, created) = invite(&srv, &t.owner, "late@example.com", "member").await;
    let token = token_of(&created);
    let id = created["invitation"]["id"].as_str().unwrap();
    assert_eq!(t.owner.send(&srv, Method::DELETE, &format!("/api/invitations/{id}"), None).await.0, 200);
    let accept = json!({"token": token, "name": "Late", "password": PASSWORD});
    assert_eq!(guest.send(&srv, Method::POST, "/api/invitations/accept", Some(accept)).await.0, 410);
    let expired_token = "hbi_expiredexpiredexpiredexpiredexpiredexpir";
    let now = server::ids::now();
    let expired = server::store::Invitation {
        id: server::ids::new_id(),
        tenant_id: t.tenant.clone(),
        email: "late@example.com".into(),
        role: Role::Member,
        token_hash: srv.services.session_token_hash(expired_token),
        invited_by: "cli".into(),
        created_at: now - std::time::Duration::from_secs(8 * 86_400),
        expires_at: now - std::time::Duration::from_secs(1),
        accepted_at: None,
        accepted_by: None,
        revoked_at: None,
    };
    srv.services.store().insert_invitation(&expired).await.unwrap();
    let accept = json!({"token": expired_token, "name": "Late", "password": PASSWORD});
    assert_eq!(guest.send(&srv, Method::POST, "/api/invitations/accept", Some(accept)).await.0, 410);
    assert_eq!(
        guest.send(&srv, Method::POST, "/api/invitations/preview", Some(json!({"token": expired_token}))).await.0,
        410
    );
    assert!(srv.services.store().get_user_by_email("late@example.com").await.unwrap().is_none(), "no account made");

    // From a foreign origin: refused.
    let resp = srv
        .http
        .post(srv.url("/api/invitations/accept"))
        .header(header::ORIGIN, "https://evil.example")
        .json(&json!({"token": "hbi_x", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    // The trail: invited, joined (with who invited), revoked; admins see it on the dashboard, members do not.
    let trail = srv.services.store().list_activity(&t.tenant, 50).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|a| a.action.as_str()).collect();
    for action in ["invitation.created", "member.added", "invitation.revoked"] {
        assert!(actions.contains(&action), "{action} missing: {actions:?}");
    }
    let joined =
        trail.iter().find(|a| a.action == "member.added" && a.details["email"] == "new.person@example.com").unwrap();
    assert_eq!((joined.details["to"].as_str(), joined.details["from"].is_null()), (Some("member"), true));
    assert!(joined.details["invitedBy"].as_str().unwrap().starts_with("user:"));
    let (_, admin_view, _) = t.admin.send(&srv, Method::GET, "/api/dashboard", None).await;
    let (_, member_view, _) = t.member.send(&srv, Method::GET, "/api/dashboard", None).await;
    assert!(admin_view.to_string().contains("invitation.created"), "{admin_view}");
    assert!(!member_view.to_string().contains("invitation.") && !member_view.to_string().contains("member."));
}

async fn two_acceptances_at_the_same_instant_add_one_member(srv: TestServer) {
    let t = team(&srv).await;
    let (_, created) = invite(&srv, &t.owner, "twice@example.com", "member").await;
    let token = token_of(&created);
    let srv = Arc::new(srv);
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let tries: Vec<_> = ["First", "Second"]
        .into_iter()
        .map(|name| {
            let (srv, barrier, token) = (srv.clone(), barrier.clone(), token.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let body = json!({"token": token, "name": name, "password": PASSWORD});
                Browser::anonymous().send(&srv, Method::POST, "/api/invitations/accept", Some(body)).await.0
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tries {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    assert!(statuses[0] == 200 && statuses[1] != 200, "{statuses:?}");
    let (_, members, _) = t.owner.send(&srv, Method::GET, "/api/members", None).await;
    let joined = members["members"].as_array().unwrap().iter().filter(|m| m["email"] == "twice@example.com").count();
    assert_eq!(joined, 1);
}

async fn two_owners_demoting_each_other_at_once_leave_one_owner(srv: TestServer) {
    let t = team(&srv).await;
    let (_, members, _) = t.owner.send(&srv, Method::GET, "/api/members", None).await;
    let id_of = |who: &str| {
        members["members"].as_array().unwrap().iter().find(|m| m["name"] == who).unwrap()["userId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (olga, ada) = (id_of("olga"), id_of("ada"));
    // Ada becomes an owner; then each owner demotes the other at the same instant.
    let (status, _, _) =
        t.owner.send(&srv, Method::PATCH, &format!("/api/members/{ada}"), Some(json!({"role": "owner"}))).await;
    assert_eq!(status, 200);
    let srv = Arc::new(srv);
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let tries: Vec<_> = [(t.owner.clone(), ada.clone()), (t.admin.clone(), olga.clone())]
        .into_iter()
        .map(|(by, target)| {
            let (srv, barrier) = (srv.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let path = format!("/api/members/{target}");
                by.send(&srv, Method::PATCH, &path, Some(json!({"role": "member"}))).await.0
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tries {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses[0], 200, "{statuses:?}");
    assert_ne!(statuses[1], 200, "{statuses:?}");
    let owners = srv
        .services
        .store()
        .memberships_of_tenant(&t.tenant)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.role == Role::Owner)
        .count();
    assert_eq!(owners, 1);
    let trail = srv.services.store().list_activity(&t.tenant, 50).await.unwrap();
    let change = trail.iter().find(|a| a.action == "member.role_changed" && a.details["to"] == "member").unwrap();
    assert_eq!(change.details["from"], "owner");
    assert!(change.details["email"].as_str().unwrap().ends_with("@example.com"));
}

async fn a_user_leaves_a_tenant_but_not_as_its_last_owner(srv: TestServer) {
    let t = team(&srv).await;
    let (_, me, _) = t.member.send(&srv, Method::GET, "/api/me/account", None).await;
    assert_eq!(me["tenants"].as_array().unwrap().len(), 1, "{me}");
    let leave = format!("/api/me/tenants/{}/leave", t.tenant);
    let (status, body, _) = t.owner.send(&srv, Method::POST, &leave, None).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")), "the last owner stays: {body}");
    assert_eq!(t.member.send(&srv, Method::POST, &leave, None).await.0, 200);
    assert_eq!(t.member.send(&srv, Method::GET, "/api/webhooks/settings", None).await.0, 403, "access ends at once");
    assert_eq!(t.admin.send(&srv, Method::POST, "/api/me/tenants/zzz/leave", None).await.0, 404);
    let other = srv.tenant("Other").await.tenant.id;
    let not_mine = format!("/api/me/tenants/{other}/leave");
    assert_eq!(t.admin.send(&srv, Method::POST, &not_mine, None).await.0, 404);
    let trail = srv.services.store().list_activity(&t.tenant, 50).await.unwrap();
    let left = trail.iter().find(|a| a.action == "member.left").expect("audited");
    assert_eq!((left.details["from"].as_str(), left.details["to"].is_null()), (Some("member"), true));
}

async fn a_new_password_ends_every_other_session(srv: TestServer) {
    let t = team(&srv).await;
    let (_, me, _) = t.admin.send(&srv, Method::GET, "/api/auth/me", None).await;
    let email = me["user"]["email"].as_str().unwrap().to_owned();
    let laptop = t.admin.clone();
    let phone = Browser::signed_in(&srv, &email).await;
    let (status, account, _) = laptop.send(&srv, Method::GET, "/api/me/account", None).await;
    assert_eq!(status, 200);
    let sessions = account["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{account}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    assert_eq!(sessions[0]["device"], "Firefox on Linux");
    assert!(!account.to_string().contains("hbs_"), "no token");

    let change = |current: &str, new: &str| json!({"currentPassword": current, "newPassword": new});
    let (status, body, _) =
        laptop.send(&srv, Method::POST, "/api/me/password", Some(change("wrong one", "a new password"))).await;
    assert_eq!((status, body["details"][0]["field"].as_str()), (400, Some("currentPassword")), "{body}");
    let (status, body, _) = laptop.send(&srv, Method::POST, "/api/me/password", Some(change(PASSWORD, "short"))).await;
    assert_eq!((status, body["details"][0]["field"].as_str()), (400, Some("newPassword")), "{body}");
    assert_eq!(phone.send(&srv, Method::GET, "/api/auth/me", None).await.0, 200, "nothing changed yet");
    let (status, body, _) =
        laptop.send(&srv, Method::POST, "/api/me/password", Some(change(PASSWORD, "a new password"))).await;
    assert_eq!((status, body["sessionsEnded"].as_u64()), (200, Some(1)), "{body}");
    assert_eq!(phone.send(&srv, Method::GET, "/api/auth/me", None).await.0, 401, "the other session ended");
    assert_eq!(laptop.send(&srv, Method::GET, "/api/auth/me", None).await.0, 200, "this one stays");
    assert!(srv.services.login(&email, PASSWORD, None, None).await.is_err());
    assert!(srv.services.login(&email, "a new password", None, None).await.is_ok());

    // Sessions end one by one (by the id the account lists), only the user's own.
    let (_, account, _) = laptop.send(&srv, Method::GET, "/api/me/account", None).await;
    let other = account["sessions"].as_array().unwrap().iter().find(|s| s["current"] == false).unwrap()["id"].clone();
    let path = format!("/api/me/sessions/{}", other.as_str().unwrap());
    assert_eq!(t.member.send(&srv, Method::DELETE, &path, None).await.0, 404, "not the member's");
    assert_eq!(laptop.send(&srv, Method::DELETE, &path, None).await.0, 200);
    assert_eq!(laptop.send(&srv, Method::DELETE, &path, None).await.0, 404);
    assert_eq!(laptop.send(&srv, Method::DELETE, "/api/me/sessions/xyz", None).await.0, 404);
    let (_, account, _) = laptop.send(&srv, Method::GET, "/api/me/account", None).await;
    assert_eq!(account["sessions"].as_array().unwrap().len(), 1);

    // An API key has no account.
    let key = srv.services.create_api_key(&t.tenant, "k", Role::Owner, None).await.unwrap().key;
    assert_eq!(call(&srv, Method::GET, "/api/me/account", &key, None).await.0, 403);
    assert_eq!(call(&srv, Method::POST, "/api/me/password", &key, Some(change("a", "b"))).await.0, 403);
}
