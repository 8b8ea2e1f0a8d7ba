//! Probes for orchestrators and balancers: `/livez` answers while the process
//! runs; `/readyz` says whether it should get traffic: its store answers and
//! it is not shutting down; a configured Redis that does not answer (a Redis
//! of the test's own, stopped mid-test) makes it `degraded`, still ready.

use reqwest::Method;

use crate::harness::{call, OwnRedis, TestServer, NO_KEY};

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

/// `/readyz` once its status is `want` (the Redis verdict is the keeper's ping, once a second):
/// each try is a request, at most 100.
async fn ready_once(srv: &TestServer, want: &str) -> (u16, serde_json::Value) {
    let mut last = (0, serde_json::Value::Null);
    for _ in 0..100 {
        last = call(srv, Method::GET, "/readyz", NO_KEY, None).await;
        if last.1["status"] == want {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("/readyz never said {want}: {last:?}");
}

#[tokio::test]
async fn degraded_but_ready_while_redis_is_away() {
    let mut redis = OwnRedis::start().await;
    let url = redis.url();
    let srv = TestServer::start_with(&[("REDIS_URL", &url)]).await;
    let (status, ready) = call(&srv, Method::GET, "/readyz", NO_KEY, None).await;
    assert_eq!(
        (status, ready["status"].as_str(), ready["redis"]["reachable"].as_bool()),
        (200, Some("ready"), Some(true)),
        "{ready}"
    );
    redis.stop();
    // Still ready (it takes webhooks and serves its own sockets), but says it is degraded.
    let (status, ready) = ready_once(&srv, "degraded").await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["redis"]["reachable"], false);
    assert_eq!(call(&srv, Method::GET, "/livez", NO_KEY, None).await.0, 200);
    redis.restart().await;
    assert_eq!(ready_once(&srv, "ready").await.0, 200, "back by itself");
}
