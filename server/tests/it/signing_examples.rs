//! The README's signing examples (curl + openssl, Node.js, Python) are the
//! files in `sdk/signing-examples/`, quoted verbatim; each is run here against
//! the real server and must get both of its webhooks (seed scheme and
//! Standard Webhooks) accepted.

use std::{path::PathBuf, process::Command};

use app::models::Role;
use reqwest::Method;

use crate::harness::{call, TestServer};

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sdk/signing-examples")
}

/// Runs one example against `srv` for a new tenant; returns the titles stored.
async fn run_example(srv: &TestServer, program: &str, file: &str) -> Vec<String> {
    let t = srv.tenant(file).await;
    let mut cmd = Command::new(program);
    cmd.arg(examples_dir().join(file))
        .env("HOOKBELL_URL", srv.url(""))
        .env("HOOKBELL_TENANT_ID", t.tenant.id.as_str())
        .env("HOOKBELL_WEBHOOK_SECRET", &t.webhook_secret);
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().expect("run the example");
    assert!(
        out.status.success(),
        "{file} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let key = srv.services.create_api_key(&t.tenant.id, "reader", Role::Member, None).await.unwrap().key;
    let (_, list) = call(srv, Method::GET, "/api/notifications", &key, None).await;
    list["notifications"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn every_signing_example_is_accepted_in_both_schemes() {
    let srv = TestServer::start().await;
    for (program, file, title) in [
        ("bash", "curl-openssl.sh", "Signed with openssl"),
        ("node", "node.mjs", "Signed with Node.js"),
        ("python3", "python.py", "Signed with Python"),
    ] {
        let titles = run_example(&srv, program, file).await;
        assert_eq!(titles, [title, title], "{file}: both webhooks stored");
    }
}

#[tokio::test]
async fn the_readme_quotes_the_examples_verbatim() {
    let readme = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    for file in ["curl-openssl.sh", "node.mjs", "python.py"] {
        let code = std::fs::read_to_string(examples_dir().join(file)).unwrap();
        assert!(readme.contains(&code), "README.md does not quote sdk/signing-examples/{file} as it is");
    }
}
