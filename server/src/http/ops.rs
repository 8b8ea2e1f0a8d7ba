//! What operators call: `/metrics` (Prometheus text) on the main port behind
//! `HOOKBELL_METRICS_TOKEN`, or on `HOOKBELL_METRICS_ADDR` of its own; and
//! the webhook counters every webhook route is measured by.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderMap},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

use super::AppState;
use crate::service::{Services, Where};

/// The bearer token of `Authorization`, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).map(str::trim)
}

fn metrics_response(services: &Services, headers: &HeaderMap, at: Where) -> Response {
    match services.metrics(bearer(headers), at) {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /metrics` on the main port.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    metrics_response(&state.services, &headers, Where::MainPort)
}

/// Counts and times each webhook request by its route and answer
/// (`hookbell_webhooks_total`, `hookbell_webhook_duration_seconds`).
pub async fn webhook_metrics(req: Request, next: Next) -> Response {
    let endpoint = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let started = Instant::now();
    let resp = next.run(req).await;
    if let Some(endpoint) = endpoint {
        crate::telemetry::webhook(&endpoint, resp.status().as_u16(), started.elapsed());
    }
    resp
}

/// Requests in flight other than Socket.IO's transport: the drain lets them
/// finish (and their events go out) before it closes the sockets.
#[derive(Clone, Default)]
pub struct InFlight(Arc<Counter>);

#[derive(Default)]
struct Counter {
    running: std::sync::atomic::AtomicUsize,
    /// Told when `running` falls to zero.
    idle: tokio::sync::Notify,
}

impl InFlight {
    /// Waits until none is in flight.
    pub async fn idle(&self) {
        use std::sync::atomic::Ordering;
        loop {
            let notified = self.0.idle.notified();
            if self.0.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Counts the request in [`InFlight`] while it runs (Socket.IO's transport aside).
pub async fn in_flight(
    axum::extract::State(counter): axum::extract::State<InFlight>,
    req: Request,
    next: Next,
) -> Response {
    use std::sync::atomic::Ordering;
    if req.uri().path().starts_with(crate::realtime::SOCKET_PATH) {
        return next.run(req).await;
    }
    struct Done(InFlight);
    impl Drop for Done {
        fn drop(&mut self) {
            let counter = &self.0 .0;
            if counter.running.fetch_sub(1, Ordering::SeqCst) == 1 {
                counter.idle.notify_waiters();
            }
        }
    }
    counter.0.running.fetch_add(1, Ordering::SeqCst);
    let _done = Done(counter);
    next.run(req).await
}

/// Serves `/metrics` alone on `listener` (`HOOKBELL_METRICS_ADDR`) until `stop` resolves.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    services: Arc<Services>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = Router::new().route(
        "/metrics",
        get(move |headers: HeaderMap| {
            let services = services.clone();
            async move { metrics_response(&services, &headers, Where::OwnAddress) }
        }),
    );
    axum::serve(listener, router).with_graceful_shutdown(stop).await
}
