//! The OpenAPI document (`/api/openapi.json`) and its page (`/api/docs`):
//! every route it names is served, and schemathesis (PyPI, installed into
//! `.venv/` by `scripts/setup.sh --test`), run against a live server with an
//! admin's key, finds no 5xx and no answer that contradicts the document.

use std::{path::PathBuf, process::Command};

use reqwest::Method;
use serde_json::Value;

use crate::harness::{call, TestServer, NO_KEY};

#[tokio::test]
async fn the_document_is_openapi_3_1_and_every_route_it_names_is_served() {
    let srv = TestServer::start().await;
    let (status, doc) = call(&srv, Method::GET, "/api/openapi.json", NO_KEY, None).await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().expect("paths");
    let documented = server::http::openapi::documented();
    assert_eq!(documented.len(), paths.values().map(|p| p.as_object().unwrap().len()).sum::<usize>());

    // What the router answers for a path it does not have, to tell it apart.
    let (_, missing) = call(&srv, Method::GET, "/api/no-such-route", NO_KEY, None).await;
    for (method, path) in documented {
        let concrete = path.replace("{provider}", "stripe").replace('{', "x").replace('}', "");
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let resp = srv.http.request(method.clone(), srv.url(&concrete)).send().await.unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_ne!(status, 405, "{method} {path} is not served");
        assert!(body != missing, "{method} {path} is not served: {body}");
        assert!(status < 500, "{method} {path}: {status} {body}");
    }

    let page = srv.http.get(srv.url("/api/docs")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/api/webhooks/orders") && html.contains("/api/openapi.json"), "{html}");
}

fn schemathesis() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/schemathesis");
    assert!(bin.exists(), "{} is missing: run scripts/setup.sh --test", bin.display());
    bin
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_against_the_document() {
    let srv = TestServer::start_with(&[("HOOKBELL_WEBHOOK_RATE", "0")]).await;
    let tenant = srv.tenant("Schemathesis").await;
    let key = srv
        .services
        .create_api_key(&tenant.tenant.id, "schemathesis", app::models::Role::Admin, None)
        .await
        .unwrap()
        .key;
    let schema = srv.url("/api/openapi.json");
    let base = srv.url("");
    let dir = tempfile::tempdir().unwrap();
    let run = tokio::task::spawn_blocking(move || {
        Command::new(schemathesis())
            .args(["--no-color", "run", &schema, "--url", &base])
            .args(["--header", &format!("Authorization: Bearer {key}")])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            ])
            .args(["--phases", "examples,coverage,fuzzing", "--max-examples", "15", "--seed", "1"])
            .args(["--request-timeout", "10", "--workers", "1"])
            .current_dir(dir.path())
            .output()
            .expect("run schemathesis")
    })
    .await
    .unwrap();
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "schemathesis found problems:\n{out}\n{}", String::from_utf8_lossy(&run.stderr));
}
