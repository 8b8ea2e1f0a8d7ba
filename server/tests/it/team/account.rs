//! A user's own account: leaving a tenant, the password and the sessions,
//! also when a login or another change comes at the same instant.

use std::sync::Arc;

use app::models::{Role, UserId};
use reqwest::Method;
use serde_json::json;

use super::{team, Browser, PASSWORD};
use crate::{
    harness::{call, TestServer},
    store_conformance::ts,
};

both_stores!(
    a_login_racing_a_password_change_does_not_outlive_it,
    a_user_leaves_a_tenant_but_not_as_its_last_owner,
    a_new_password_ends_every_other_session,
    two_password_changes_at_the_same_instant_one_wins,
);

async fn a_user_leaves_a_tenant_but_not_as_its_last_owner(srv: TestServer) {
    let t = team(&srv).await;
    let (_, me, _) = t.member.send(&srv, Method::GET, "/api/me/account", None).await;
    assert_eq!(me["tenants"].as_array().unwrap().len(), 1, "{me}");
    let leave = format!("/api/me/tenants/{}/leave", t.tenant);
    let (status, body, _) = t.owner.send(&srv, Method::POST, &leave, None).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")), "the last owner stays: {body}");
    assert_eq!(t.member.send(&srv, Method::POST, &leave, None).await.0, 200);
    assert_eq!(t.member.send(&srv, Method::GET, "/api/webhooks/settings", None).await.0, 403, "access ends at once");
    // With no tenant left, the account is still theirs: its page, its password, its sessions.
    let (status, account, _) = t.member.send(&srv, Method::GET, "/api/me/account", None).await;
    assert_eq!((status, account["tenants"].as_array().map(Vec::len)), (200, Some(0)), "{account}");
    let change = json!({"currentPassword": PASSWORD, "newPassword": "another password"});
    let (status, _, member) = t.member.send(&srv, Method::POST, "/api/me/password", Some(change)).await;
    assert_eq!(status, 200);
    assert_eq!(member.send(&srv, Method::POST, "/api/auth/logout-all", None).await.0, 200);
    assert_eq!(member.send(&srv, Method::GET, "/api/me/account", None).await.0, 401);
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
    let stolen = laptop.clone();
    let user_id = UserId::from(me["user"]["id"].as_str().unwrap().to_owned());
    let signed_in_at = ts("2026-01-02T03:04:05.678Z");
    srv.services.store().record_sign_in(&user_id, signed_in_at).await.unwrap();
    let (status, body, laptop) =
        laptop.send(&srv, Method::POST, "/api/me/password", Some(change(PASSWORD, "a new password"))).await;
    assert_eq!((status, body["sessionsEnded"].as_u64()), (200, Some(1)), "{body}");
    let user = srv.services.store().get_user(&user_id).await.unwrap().unwrap();
    assert_eq!(user.last_sign_in_at, Some(signed_in_at), "a new password is not a sign-in");
    assert_eq!(phone.send(&srv, Method::GET, "/api/auth/me", None).await.0, 401, "the other session ended");
    assert_ne!(laptop.cookie(), stolen.cookie(), "this browser got a new session cookie");
    assert_eq!(laptop.send(&srv, Method::GET, "/api/auth/me", None).await.0, 200, "this browser stays signed in");
    assert_eq!(
        stolen.send(&srv, Method::GET, "/api/auth/me", None).await.0,
        401,
        "a copy of this browser's old token is signed out with the rest"
    );
    assert!(srv.services.login(&email, PASSWORD, None, None).await.is_err());
    assert!(srv.services.login(&email, "a new password", None, None).await.is_ok());
    let user = srv.services.store().get_user(&user_id).await.unwrap().unwrap();
    assert!(user.last_sign_in_at > Some(signed_in_at), "a login is a sign-in");

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

/// A login with the old password at the same instant as a password change:
/// whichever comes first, the login's session does not outlive the change.
async fn a_login_racing_a_password_change_does_not_outlive_it(srv: TestServer) {
    let t = team(&srv).await;
    let (_, me, _) = t.admin.send(&srv, Method::GET, "/api/auth/me", None).await;
    let email = me["user"]["email"].as_str().unwrap().to_owned();
    let srv = Arc::new(srv);
    let mut password = PASSWORD.to_owned();
    // Each change gives the browser a new session cookie.
    let mut admin = t.admin.clone();
    for round in 0..4 {
        let new = format!("new password {round}");
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let login = {
            let (srv, barrier, email, old) = (srv.clone(), barrier.clone(), email.clone(), password.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                srv.services.login(&email, &old, None, None).await.ok().map(|s| s.token)
            })
        };
        let change = {
            let (srv, barrier, admin) = (srv.clone(), barrier.clone(), admin.clone());
            let body = json!({"currentPassword": password, "newPassword": new});
            tokio::spawn(async move {
                barrier.wait().await;
                let (status, _, after) = admin.send(&srv, Method::POST, "/api/me/password", Some(body)).await;
                (status, after)
            })
        };
        let (token, (status, after)) = (login.await.unwrap(), change.await.unwrap());
        assert_eq!(status, 200, "round {round}");
        admin = after;
        if let Some(token) = token {
            let live = srv.services.authenticate_session(&token).await.unwrap();
            assert!(live.is_none(), "round {round}: a session made with the old password survived the change");
        }
        password = new;
    }
}

/// Two new passwords at the same instant, from two browsers of one user: one
/// wins, the other is refused (409, or 401 when the winner ended its session
/// first), and only the winner's password signs in.
async fn two_password_changes_at_the_same_instant_one_wins(srv: TestServer) {
    let t = team(&srv).await;
    let (_, me, _) = t.admin.send(&srv, Method::GET, "/api/auth/me", None).await;
    let email = me["user"]["email"].as_str().unwrap().to_owned();
    let second = Browser::signed_in(&srv, &email).await;
    let srv = Arc::new(srv);
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let news = ["first new password", "second new password"];
    let tasks: Vec<_> = [t.admin.clone(), second]
        .into_iter()
        .zip(news)
        .map(|(browser, new)| {
            let (srv, barrier) = (srv.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let body = json!({"currentPassword": PASSWORD, "newPassword": new});
                browser.send(&srv, Method::POST, "/api/me/password", Some(body)).await.0
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let winner = statuses.iter().position(|s| *s == 200).expect("one change wins");
    let loser = 1 - winner;
    assert!(matches!(statuses[loser], 401 | 409), "{statuses:?}");
    assert!(srv.services.login(&email, news[winner], None, None).await.is_ok());
    assert!(srv.services.login(&email, news[loser], None, None).await.is_err(), "the losing change left nothing");
    assert!(srv.services.login(&email, PASSWORD, None, None).await.is_err());
}
