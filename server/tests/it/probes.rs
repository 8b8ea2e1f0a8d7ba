//! Probes for orchestrators and balancers: `/livez` answers while the process
//! runs; `/readyz` says whether it should get traffic: its store answers, Redis
//! answers when configured (a Redis of the test's own, stopped mid-test), and
//! it is not shutting down.

use std::process::{Child, Command, Stdio};

use reqwest::Method;

use crate::harness::{call, TestServer, NO_KEY};

#[tokio::test]
async fn alive_and_ready_then_not_ready_while_draining() {
    let srv = TestServer::start().await;
    let (status, live) = call(&srv, Method::GET, "/livez", NO_KEY, None).await;
    assert_eq!((status, live["status"].as_str()), (200, Some("ok")));
    let (status, ready) = call(&srv, Method::GET, "/readyz", NO_KEY, None).await;
    assert_eq!((status, ready["status"].as_str()), (200, Some("ready")), "{ready}");
    assert_eq!(ready["store"]["reachable"], true);
    assert_eq!(ready["redis"]["configured"], false);
    srv.services.begin_drain();
    let (status, ready) = call(&srv, Method::GET, "/readyz", NO_KEY, None).await;
    assert_eq!((status, ready["status"].as_str(), ready["draining"].as_bool()), (503, Some("draining"), Some(true)));
    assert_eq!(call(&srv, Method::GET, "/livez", NO_KEY, None).await.0, 200, "alive while draining");
}

/// A `redis-server` of this test's own on a free port, killed when dropped.
struct OwnRedis(Child);

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn not_ready_while_redis_is_away() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (scripts/setup.sh installs it)");
    let mut redis = OwnRedis(child);
    // Ready when it accepts connections (an event, not a sleep: each try is a connect).
    let mut up = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            up = true;
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(up, "redis-server did not start");
    let url = format!("redis://127.0.0.1:{port}");
    let srv = TestServer::start_with(&[("REDIS_URL", &url)]).await;
    let (status, ready) = call(&srv, Method::GET, "/readyz", NO_KEY, None).await;
    assert_eq!((status, ready["redis"]["reachable"].as_bool()), (200, Some(true)), "{ready}");
    let _ = redis.0.kill();
    let _ = redis.0.wait();
    let (status, ready) = call(&srv, Method::GET, "/readyz", NO_KEY, None).await;
    assert_eq!((status, ready["status"].as_str()), (503, Some("degraded")), "{ready}");
    assert_eq!(ready["redis"]["reachable"], false);
    assert_eq!(call(&srv, Method::GET, "/livez", NO_KEY, None).await.0, 200);
}
