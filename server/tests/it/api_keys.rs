//! API keys over REST: admins create them (shown once, no higher role than
//! their own), list them by prefix, revoke them; each change audited.

use app::models::Role;
use reqwest::Method;
use serde_json::json;

use crate::harness::{call, TestServer};

#[tokio::test]
async fn admins_create_list_and_revoke_keys() {
    let key = server::sealing::Sealer::generate_key();
    let srv = TestServer::start_with(&[("HOOKBELL_ENV", "production"), ("HOOKBELL_SECRET_KEY", &key)]).await;
    let t = srv.tenant("Shop").await;
    let admin = srv.services.create_api_key(&t.tenant.id, "admin", Role::Admin, None).await.unwrap().key;

    let (status, created) = call(&srv, Method::POST, "/api/keys", &admin, Some(json!({"name": "CI"}))).await;
    assert_eq!(status, 201, "{created}");
    let new_key = created["key"].as_str().unwrap().to_owned();
    assert_eq!(created["apiKey"]["role"], "member", "members by default");
    let prefix = created["apiKey"]["prefix"].as_str().unwrap().to_owned();
    assert!(new_key.starts_with(&prefix));
    assert_eq!(call(&srv, Method::GET, "/api/webhooks/settings", &new_key, None).await.0, 200);

    // Listed by prefix, never with the key or its hash.
    let (status, listed) = call(&srv, Method::GET, "/api/keys", &admin, None).await;
    assert_eq!(status, 200);
    assert!(!listed.to_string().contains(&new_key[prefix.len()..]), "{listed}");
    assert!(listed["keys"].as_array().unwrap().iter().any(|k| k["prefix"] == prefix.as_str()));

    // No key above the creator's role; bad input named.
    let (status, body) =
        call(&srv, Method::POST, "/api/keys", &admin, Some(json!({"name": "x", "role": "owner"}))).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = call(&srv, Method::POST, "/api/keys", &admin, Some(json!({"role": "god", "x": 1}))).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("validation_failed")), "{body}");
    // A member may not manage keys.
    assert_eq!(call(&srv, Method::GET, "/api/keys", &new_key, None).await.0, 403);

    // Revoked: at once, and only once.
    let id = created["apiKey"]["id"].as_str().unwrap();
    let path = format!("/api/keys/{id}");
    assert_eq!(call(&srv, Method::DELETE, &path, &admin, None).await.0, 200);
    assert_eq!(call(&srv, Method::GET, "/api/webhooks/settings", &new_key, None).await.0, 401);
    assert_eq!(call(&srv, Method::DELETE, &path, &admin, None).await.0, 404);
    assert_eq!(call(&srv, Method::DELETE, "/api/keys/not-an-id", &admin, None).await.0, 404);

    // Another tenant's admin cannot revoke this tenant's keys.
    let other = srv.tenant("Other").await;
    let other_admin = srv.services.create_api_key(&other.tenant.id, "admin", Role::Admin, None).await.unwrap();
    let mine = srv.services.create_api_key(&t.tenant.id, "mine", Role::Member, None).await.unwrap();
    let path = format!("/api/keys/{}", mine.info.id);
    assert_eq!(call(&srv, Method::DELETE, &path, &other_admin.key, None).await.0, 404);
    assert_eq!(call(&srv, Method::GET, "/api/webhooks/settings", &mine.key, None).await.0, 200);

    let trail = srv.services.store().list_activity(&t.tenant.id, 20).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|a| a.action.as_str()).collect();
    assert!(actions.contains(&"api_key.created") && actions.contains(&"api_key.revoked"), "{actions:?}");
    assert!(!serde_json::to_string(&trail.iter().map(|a| &a.details).collect::<Vec<_>>()).unwrap().contains(&new_key));
}
