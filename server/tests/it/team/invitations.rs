//! Invitations and members: who may invite whom, the answer that says
//! nothing of whether an email has an account, an invitation accepted once
//! until it expires or is revoked, and role changes and removals under the
//! last-owner rule (also at the same instant).

use std::sync::Arc;

use app::models::Role;
use reqwest::{header, Method};
use serde_json::{json, Value};

use super::{invite, start_server, team, token_of, Browser, PASSWORD};
use crate::harness::{call, TestServer};

both_stores!(
    who_may_invite_whom_and_revoke,
    an_invitation_is_accepted_once_by_a_new_or_an_existing_user,
    two_acceptances_at_the_same_instant_add_one_member,
    two_owners_demoting_each_other_at_once_leave_one_owner,
);

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

    // A link lasts only while whoever made it may still invite: an admin demoted, a key revoked.
    let (_, by_admin) = invite(&srv, &t.admin, "later@example.com", "admin").await;
    let key = srv.services.create_api_key(&t.tenant, "inviter", Role::Admin, None).await.unwrap();
    let (status, by_key) =
        call(&srv, Method::POST, "/api/members", &key.key, Some(json!({"email": "k@example.com"}))).await;
    assert_eq!(status, 201);
    let preview = |created: &Value| json!({"token": token_of(created)});
    let guest = Browser::anonymous();
    for created in [&by_admin, &by_key] {
        assert_eq!(guest.send(&srv, Method::POST, "/api/invitations/preview", Some(preview(created))).await.0, 200);
    }
    let (_, members, _) = t.owner.send(&srv, Method::GET, "/api/members", None).await;
    let ada = members["members"].as_array().unwrap().iter().find(|m| m["name"] == "ada").unwrap()["userId"].clone();
    let demote = Some(json!({"role": "member"}));
    assert_eq!(
        t.owner.send(&srv, Method::PATCH, &format!("/api/members/{}", ada.as_str().unwrap()), demote).await.0,
        200
    );
    srv.services.store().revoke_api_key(&t.tenant, &key.info.id, server::ids::now()).await.unwrap();
    for created in [&by_admin, &by_key] {
        let (status, body, _) =
            guest.send(&srv, Method::POST, "/api/invitations/preview", Some(preview(created))).await;
        assert_eq!((status, body["code"].as_str()), (410, Some("gone")), "{body}");
        let accept = json!({"token": token_of(created), "name": "Late", "password": PASSWORD});
        assert_eq!(guest.send(&srv, Method::POST, "/api/invitations/accept", Some(accept)).await.0, 410);
    }
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
            .filter(|(name, _)| *name != header::DATE && name.as_str() != "x-request-id") // per request, like the date
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

/// An inviter holds their own links: what they can learn from one is only
/// what making its account would tell, limited as logins are; a request that
/// could not make the account answers the same for every email.
#[tokio::test]
async fn an_inviter_probing_their_own_links_learns_no_more_than_making_the_account() {
    let srv = start_server(None).await;
    let t = team(&srv).await;
    let other = srv.tenant("Elsewhere").await.tenant.id;
    srv.services.add_user_to_tenant(&other, "known@example.com", "Known", PASSWORD, Role::Owner).await.unwrap();
    let guest = Browser::anonymous();
    let mut links = Vec::new();
    for email in ["known@example.com", "unknown@example.com"] {
        let (status, created) = invite(&srv, &t.owner, email, "member").await;
        assert_eq!(status, 201);
        let url = created["url"].as_str().unwrap();
        assert!(url.starts_with(&format!("https://{}/invite#", srv.addr)), "production links are https: {url}");
        links.push(token_of(&created));
    }
    for bad in [
        json!({"name": "Probe", "password": "short"}),
        json!({"name": "n".repeat(101), "password": PASSWORD}),
        json!({"name": 5, "password": PASSWORD}),
    ] {
        let mut answers = Vec::new();
        for token in &links {
            let mut body = bad.clone();
            body["token"] = json!(token);
            let (status, answer, _) = guest.send(&srv, Method::POST, "/api/invitations/accept", Some(body)).await;
            answers.push((status, answer));
        }
        assert_eq!(answers[0], answers[1], "{bad}");
        assert_eq!(answers[0].0, 400, "{bad}");
    }
    // Asking with what would make the account: the known email is 409, and so is every try until the login limit.
    let probe = json!({"token": links[0], "name": "Probe", "password": PASSWORD});
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(guest.send(&srv, Method::POST, "/api/invitations/accept", Some(probe.clone())).await.0);
    }
    assert_eq!((statuses[0], statuses.last()), (409, Some(&429)), "{statuses:?}");
    // For the unknown email the account is made and joins: the inviter cannot ask without it showing.
    let made = json!({"token": links[1], "name": "Probe", "password": PASSWORD});
    assert_eq!(guest.send(&srv, Method::POST, "/api/invitations/accept", Some(made)).await.0, 200);
    let (_, members, _) = t.owner.send(&srv, Method::GET, "/api/members", None).await;
    assert!(members["members"].as_array().unwrap().iter().any(|m| m["email"] == "unknown@example.com"));
}

/// When the account of `email` last signed in.
async fn last_sign_in(srv: &TestServer, email: &str) -> Option<app::models::Timestamp> {
    srv.services.store().get_user_by_email(email).await.unwrap().unwrap().last_sign_in_at
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
    assert!(last_sign_in(&srv, "new.person@example.com").await.is_some(), "accepting with a new account is a sign-in");
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
    assert_eq!(last_sign_in(&srv, "bo@example.com").await, None);
    let (status, _, bo) = guest
        .send(&srv, Method::POST, "/api/invitations/accept", Some(json!({"token": token, "password": PASSWORD})))
        .await;
    assert_eq!(status, 200);
    assert!(last_sign_in(&srv, "bo@example.com").await.is_some(), "accepting with a password is a sign-in");
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
