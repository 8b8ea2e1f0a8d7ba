//! Hostile clients: every way the hardening review found to knock the server
//! over, confuse it or read past its walls, sent as such a client would send
//! it, against the real server. The memory cases run the server binary as a
//! process of its own and read its RSS from `/proc/<pid>/status`, asserted only
//! against generous bounds; BENCHMARKS.md ("Hostile input") has the figures.
//!
//! By theme: [`limits`] (bodies, memory, logins, slow clients), [`webhooks`]
//! (forgeries, redeliveries, signature schemes, the fallback secret),
//! [`sockets`] (revocation, socket abuse) and [`access`] (production mode, the
//! event log's privacy, cookies and origins). Helpers more than one of them uses live here.

use serde_json::Value;

use crate::harness::TestServer;

mod access;
mod limits;
mod sockets;
mod webhooks;

fn assert_shape(body: &Value, code: &str) {
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["error"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
}

fn production_vars(key: &str) -> Vec<(&'static str, String)> {
    vec![("HOOKBELL_ENV", "production".into()), ("HOOKBELL_SECRET_KEY", key.into())]
}

async fn start(vars: &[(&str, String)]) -> TestServer {
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestServer::start_with(&vars).await
}

async fn sign_in(srv: &TestServer, email: &str) -> String {
    let signed_in = srv.services.login(email, "correct horse", None, None).await.unwrap();
    format!("hookbell_session={}", signed_in.token)
}
