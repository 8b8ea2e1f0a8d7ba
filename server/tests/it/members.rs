//! Members over REST: owners add users (new ones sign in with the password
//! given), change roles and remove members; a tenant keeps one owner.

use app::models::Role;
use reqwest::Method;
use serde_json::json;

use crate::harness::{call, TestServer};

#[tokio::test]
async fn owners_manage_members_and_one_owner_always_stays() {
    let key = server::sealing::Sealer::generate_key();
    let srv = TestServer::start_with(&[("HOOKBELL_ENV", "production"), ("HOOKBELL_SECRET_KEY", &key)]).await;
    let t = srv.tenant("Shop").await;
    let owner_user =
        srv.services.add_user_to_tenant(&t.tenant.id, "olga@example.com", "Olga", "owner password", Role::Owner).await;
    let olga = owner_user.unwrap().user.id;
    let owner = srv.services.create_api_key(&t.tenant.id, "owner", Role::Owner, None).await.unwrap().key;

    let new = json!({"email": "Ada@Example.com", "name": "Ada", "password": "ada password", "role": "admin"});
    let (status, body) = call(&srv, Method::POST, "/api/members", &owner, Some(new.clone())).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        (body["member"]["email"].as_str(), body["member"]["role"].as_str()),
        (Some("ada@example.com"), Some("admin"))
    );
    let ada = body["member"]["userId"].as_str().unwrap().to_owned();
    assert!(srv.services.login("ada@example.com", "ada password", None, None).await.is_ok(), "the new user signs in");
    // The same user again: 200, not a second user.
    let (status, body) = call(&srv, Method::POST, "/api/members", &owner, Some(new.clone())).await;
    assert_eq!((status, body["newUser"].as_bool()), (200, Some(false)), "{body}");
    // Not a way around the last-owner rule: another role for a member is refused here.
    let olga_as_member = json!({"email": "olga@example.com", "role": "member"});
    let (status, body) = call(&srv, Method::POST, "/api/members", &owner, Some(olga_as_member)).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")), "{body}");
    let (status, body) = call(&srv, Method::POST, "/api/members", &owner, Some(json!({"email": "x", "pw": 1}))).await;
    assert_eq!(status, 400, "{body}");

    let (status, listed) = call(&srv, Method::GET, "/api/members", &owner, None).await;
    assert_eq!(status, 200);
    assert_eq!(listed["members"].as_array().unwrap().len(), 2, "{listed}");
    assert!(!listed.to_string().contains("argon2"), "no password hashes");

    // The only owner cannot be demoted or removed; with a second owner, they can.
    let path = format!("/api/members/{olga}");
    let (status, body) = call(&srv, Method::PATCH, &path, &owner, Some(json!({"role": "member"}))).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("conflict")), "{body}");
    assert_eq!(call(&srv, Method::DELETE, &path, &owner, None).await.0, 409);
    let ada_path = format!("/api/members/{ada}");
    assert_eq!(call(&srv, Method::PATCH, &ada_path, &owner, Some(json!({"role": "owner"}))).await.0, 200);
    assert_eq!(call(&srv, Method::PATCH, &path, &owner, Some(json!({"role": "member"}))).await.0, 200);
    let (status, body) = call(&srv, Method::PATCH, &ada_path, &owner, Some(json!({"role": "king"}))).await;
    assert_eq!(status, 400, "{body}");

    // Olga owner again, then Ada (an owner, not the last) can be removed.
    assert_eq!(call(&srv, Method::PATCH, &path, &owner, Some(json!({"role": "owner"}))).await.0, 200);

    // Removed: Ada's session no longer reaches the tenant.
    let session = srv.services.login("ada@example.com", "ada password", None, None).await.unwrap();
    let cookie = format!("__Host-hookbell_session={}", session.token);
    let settings = |cookie: String| srv.http.get(srv.url("/api/webhooks/settings")).header("cookie", cookie).send();
    assert_eq!(settings(cookie.clone()).await.unwrap().status(), 200);
    assert_eq!(call(&srv, Method::DELETE, &ada_path, &owner, None).await.0, 200);
    assert_eq!(settings(cookie).await.unwrap().status(), 403);
    assert_eq!(call(&srv, Method::DELETE, &ada_path, &owner, None).await.0, 404);

    let trail = srv.services.store().list_activity(&t.tenant.id, 20).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|a| a.action.as_str()).collect();
    for action in ["member.added", "member.role_changed", "member.removed"] {
        assert!(actions.contains(&action), "{action} missing: {actions:?}");
    }
}
