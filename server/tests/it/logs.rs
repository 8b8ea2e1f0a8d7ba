//! Logs an operator can follow: every request has an id (`x-request-id`,
//! the client's if sensible, else made), returned with the answer and on
//! every log line of the request; `HOOKBELL_LOG_FORMAT=json` writes one JSON
//! object a line. Against the real binary, its stderr read back.

use std::{net::SocketAddr, process::Stdio, time::Duration};

use serde_json::Value;

use crate::harness::command;

#[test]
fn an_unknown_log_format_stops_the_start_naming_it() {
    let out = command(&[("HOOKBELL_LOG_FORMAT", "xml".to_owned())]).arg("tenant").arg("list").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HOOKBELL_LOG_FORMAT"));
}

#[tokio::test]
async fn every_request_has_an_id_that_its_json_log_lines_carry() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("stderr.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let env = [
        ("HOOKBELL_LOG_FORMAT", "json".to_owned()),
        ("RUST_LOG", "info,tower_http=debug".to_owned()),
        ("HOOKBELL_ENV", "development".to_owned()),
        ("DATABASE_PATH", dir.path().join("db.sqlite3").display().to_string()),
        ("LEPTOS_SITE_ADDR", addr.to_string()),
    ];
    let mut child = command(&env)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .expect("start a server process");
    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://{addr}{path}");
    let mut up = false;
    for _ in 0..150 {
        if http.get(url("/livez")).send().await.is_ok_and(|r| r.status() == 200) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not start");

    let id_of = |r: &reqwest::Response| r.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
    let given = http.get(url("/api/webhooks/health")).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(id_of(&given), "trace-me-42", "a sensible id is kept");
    let made = http.get(url("/readyz")).send().await.unwrap();
    let made = id_of(&made);
    assert!(made.len() == 32 && made.bytes().all(|b| b.is_ascii_hexdigit()), "{made}");
    let huge = http.get(url("/livez")).header("x-request-id", "x".repeat(300)).send().await.unwrap();
    assert_eq!(id_of(&huge).len(), 32, "an id too long is replaced");

    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    let carried = |id: &str| lines.iter().filter(|l| l["span"]["id"] == id).count();
    assert!(carried("trace-me-42") >= 2, "the request's lines carry its id:\n{text}");
    assert!(carried(&made) >= 2, "a made id too:\n{text}");
    let line = lines.iter().find(|l| l["span"]["id"] == "trace-me-42").unwrap();
    assert_eq!(
        (line["span"]["method"].as_str(), line["span"]["path"].as_str()),
        (Some("GET"), Some("/api/webhooks/health"))
    );
}
