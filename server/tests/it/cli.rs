//! The administration commands of the `server` binary, run as a process
//! against a database that a server then opens.

use std::process::{Command, Output};

use serde_json::Value;

use crate::harness::{order, TestServer};

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("DATABASE_PATH", dir.join("hookbell.sqlite3"))
        .env_remove("MONGODB_URI")
        .env_remove("HOOKBELL_ENV")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the server binary")
}

fn json_out(out: &Output) -> Value {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[tokio::test]
async fn tenant_create_prints_credentials_that_work_on_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let created = json_out(&run(dir.path(), &["tenant", "create", "--name", "Acme Shoes"]));
    let tenant_id = created["tenantId"].as_str().unwrap().to_owned();
    assert!(server::ids::is_id(&tenant_id), "{created}");
    assert_eq!(created["slug"], "acme-shoes");
    let secret = created["webhookSecret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{created}");
    let key = created["apiKey"].as_str().unwrap().to_owned();
    assert!(key.starts_with("hb_") && key.starts_with(created["apiKeyPrefix"].as_str().unwrap()));

    // The same slug again, and bad names, fail with a reason and exit 1.
    let again = run(dir.path(), &["tenant", "create", "--name", "Acme Shoes"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("acme-shoes"), "{again:?}");
    let bad = run(dir.path(), &["tenant", "create", "--name", " ", "--slug", "Not A Slug"]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("name") && stderr.contains("slug"), "{stderr}");
    assert!(bad.stdout.is_empty());
    let unknown = run(dir.path(), &["tenant", "frobnicate"]);
    assert_eq!(unknown.status.code(), Some(2));

    let listed = json_out(&run(dir.path(), &["tenant", "list"]));
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["tenantId"], tenant_id.as_str());
    assert!(listed[0].get("webhookSecret").is_none(), "secrets are never listed");

    // A server on that database takes the tenant's webhooks and API key.
    let server = TestServer::start_in(dir, &[]).await;
    let (status, body) = server.post_signed("/api/webhooks/orders", &order(&tenant_id, "CLI-1"), &secret).await;
    assert_eq!(status, 201, "{body}");
    let settings = server.http.get(server.url("/api/webhooks/settings")).bearer_auth(&key).send().await.unwrap();
    assert_eq!(settings.status(), 200);
    let settings: Value = settings.json().await.unwrap();
    // The key is the tenant's: the settings shown end with its secret's last characters.
    let hint = settings["settings"]["secretHint"].as_str().unwrap().trim_start_matches('…').to_owned();
    assert!(hint.len() >= 4 && secret.ends_with(&hint), "{settings}");
}

/// `invite` prints a link that works once on a server over the same database;
/// a bad email or role fails with the reason and exit code 1.
#[tokio::test]
async fn invite_prints_a_link_that_a_new_user_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let created = json_out(&run(dir.path(), &["tenant", "create", "--name", "Invite Co"]));
    let printed = json_out(&run(
        dir.path(),
        &["invite", "--tenant", "invite-co", "--email", "Kit@Example.com", "--role", "admin"],
    ));
    assert_eq!((printed["email"].as_str(), printed["role"].as_str()), (Some("kit@example.com"), Some("admin")));
    assert_eq!(printed["tenantId"], created["tenantId"]);
    let url = printed["url"].as_str().unwrap();
    let token = url.split_once("/invite#").unwrap().1.to_owned();
    let bad = run(dir.path(), &["invite", "--tenant", "invite-co", "--email", "nope", "--role", "king"]);
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("email") && stderr.contains("role"), "{stderr}");
    let missing = run(dir.path(), &["invite", "--tenant", "no-such-tenant", "--email", "a@b.co"]);
    assert_eq!(missing.status.code(), Some(1));

    let server = TestServer::start_in(dir, &[]).await;
    let accept = serde_json::json!({"token": token, "name": "Kit", "password": "correct horse battery"});
    let resp = server.http.post(server.url("/api/invitations/accept")).json(&accept).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp = server.http.post(server.url("/api/invitations/accept")).json(&accept).send().await.unwrap();
    assert_eq!(resp.status(), 410, "once");
    let trail = server.services.store().list_activity(&created["tenantId"].as_str().unwrap().into(), 10).await.unwrap();
    assert!(trail.iter().any(|a| a.action == "invitation.created" && a.actor == "cli"), "{trail:?}");
}
