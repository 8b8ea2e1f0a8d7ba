//! `server send` and `server selftest` against a running server, through the
//! library and through the real binary.

use std::process::{Command, Output, Stdio};

use app::models::Role;
use clap::Parser;
use reqwest::Method;
use serde_json::{json, Value};
use server::tools::selftest::{self, SelftestArgs};

use crate::harness::{call, TestServer};

/// A tenant with what the tools need.
struct Creds {
    tenant: String,
    secret: String,
    api_key: String,
}

async fn creds(srv: &TestServer, name: &str) -> Creds {
    let t = srv.tenant(name).await;
    let api_key = srv.services.create_api_key(&t.tenant.id, "selftest", Role::Admin, None).await.unwrap().key;
    Creds { tenant: t.tenant.id.into_string(), secret: t.webhook_secret, api_key }
}

/// Runs the `server` binary with `args`, the credentials in the environment
/// (as an operator would pass them) and `stdin`, off the test's runtime.
async fn run_binary(srv: &TestServer, c: &Creds, args: &[&str], stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args(args)
        .env("HOOKBELL_URL", srv.url(""))
        .env("HOOKBELL_TENANT_ID", &c.tenant)
        .env("HOOKBELL_WEBHOOK_SECRET", &c.secret)
        .env("HOOKBELL_API_KEY", &c.api_key)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let stdin = stdin.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().expect("run the server binary");
        use std::io::Write;
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn selftest_args(srv: &TestServer, c: &Creds) -> SelftestArgs {
    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: SelftestArgs,
    }
    let url = srv.url("");
    Cmd::parse_from(["selftest", "--url", &url, "--tenant", &c.tenant, "--secret", &c.secret, "--api-key", &c.api_key])
        .args
}

#[tokio::test]
async fn selftest_is_green_on_a_healthy_server() {
    let srv = TestServer::start().await;
    let c = creds(&srv, "Healthy").await;
    let report = selftest::run(&selftest_args(&srv, &c)).await;
    assert!(report.passed(), "{}", report.table());
    let names: Vec<&str> = report.checks.iter().map(|c| c.name).collect();
    for expected in [
        "health",
        "socket: connect and join-tenant",
        "order webhook",
        "socket: new-notification for the order",
        "socket: dashboard-refresh",
        "order webhook is idempotent",
        "payment webhook",
        "notification webhook",
        "unsigned webhook refused",
        "invalid webhook refused",
        "socket: new-notification",
        "notification API: list",
        "notification API: mark read",
        "socket: notification-updated",
        "clean-up: dismiss the test notification",
    ] {
        assert!(names.contains(&expected), "missing check {expected}: {names:?}");
    }
    // Its own notification is dismissed afterwards; the order's stays.
    let (_, list) = call(&srv, Method::GET, "/api/notifications", &c.api_key, None).await;
    let titles: Vec<&str> =
        list["notifications"].as_array().unwrap().iter().filter_map(|n| n["title"].as_str()).collect();
    assert!(!titles.contains(&"hookbell selftest"), "{titles:?}");

    // The binary prints the table and exits 0.
    let out = run_binary(&srv, &c, &["selftest"], "").await;
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{table}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(table.contains("PASS  health") && table.contains(" 0 failed"), "{table}");
}

#[tokio::test]
async fn selftest_is_red_when_a_piece_is_broken() {
    let srv = TestServer::start().await;
    let c = creds(&srv, "Broken").await;
    // Switch the notifications endpoint off: its webhook must now fail.
    let (status, body) = call(
        &srv,
        Method::PATCH,
        "/api/webhooks/settings",
        &c.api_key,
        Some(json!({"webhookEndpoints": {"notifications": false}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let report = selftest::run(&selftest_args(&srv, &c)).await;
    assert!(!report.passed());
    let failed: Vec<&str> = report.checks.iter().filter(|c| !c.ok).map(|c| c.name).collect();
    assert!(failed.contains(&"notification webhook"), "{}", report.table());
    assert!(!failed.contains(&"order webhook"), "{}", report.table());

    let out = run_binary(&srv, &c, &["selftest", "--json"], "").await;
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert!(json["checks"].as_array().unwrap().iter().any(|c| c["name"] == "notification webhook" && c["ok"] == false));

    // A server that is not there: red at the first check.
    let gone = Creds { tenant: c.tenant.clone(), secret: c.secret.clone(), api_key: c.api_key.clone() };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut args = selftest_args(&srv, &gone);
    args.target.url = dead;
    args.target.retries = 0;
    let report = selftest::run(&args).await;
    assert_eq!(report.checks.len(), 1);
    assert!(!report.checks[0].ok && report.checks[0].name == "health", "{}", report.table());
}

#[tokio::test]
async fn send_posts_from_flags_and_stdin_and_fails_on_refusal() {
    let srv = TestServer::start().await;
    let c = creds(&srv, "Sender CLI").await;

    let out =
        run_binary(&srv, &c, &["send", "order", "--set", "orderNumber=CLI-1", "--json", "amount=12.50"], "").await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["success"].as_bool(), report["status"].as_u64()), (Some(true), Some(201)), "{report}");
    let order_id = report["response"]["orderId"].as_str().unwrap().to_owned();

    // A payment from stdin, signed with the seed's scheme.
    let payment = json!({"orderId": order_id, "status": "paid", "paymentId": "pay_cli_1"}).to_string();
    let out = run_binary(&srv, &c, &["send", "payment", "--scheme", "seed"], &payment).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    // The same webhook-id twice: the second is answered from the first.
    let args = ["send", "notification", "--webhook-id", "msg_cli_same", "--set", "title=Hi", "--set", "message=There"];
    let first: Value = serde_json::from_slice(&run_binary(&srv, &c, &args, "").await.stdout).unwrap();
    let again: Value = serde_json::from_slice(&run_binary(&srv, &c, &args, "").await.stdout).unwrap();
    assert_eq!(first["response"]["notificationId"], again["response"]["notificationId"], "{first} {again}");

    // Refused (400): printed, exit code 1, one attempt.
    let out = run_binary(&srv, &c, &["send", "order", "--json", "amount=-5"], "").await;
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], 400);
    assert_eq!(report["attempts"].as_array().unwrap().len(), 1);

    // Not JSON: exit code 2 with a message, nothing sent.
    let out = run_binary(&srv, &c, &["send", "order"], "{not json").await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
}
