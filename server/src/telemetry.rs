//! Metrics: every figure hookbell reports, named in one place, recorded
//! through the `metrics` facade and rendered as Prometheus text at `/metrics`
//! (see the README's "Operating hookbell" for what each means).
//!
//! The recorder is process-wide and installed once ([`install`]); before
//! that, and in processes that never serve (the CLI), recording does nothing.

use std::{sync::OnceLock, time::Duration};

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets, in seconds (0.5 ms to 10 s).
const SECONDS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
/// Commit group sizes.
const GROUP: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// Installs the Prometheus recorder (once per process; later calls return the same).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
                .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_size".into()), GROUP))
                .and_then(|b| b.install_recorder());
            match built {
                Ok(handle) => {
                    describe();
                    let upkeep = handle.clone();
                    // Histograms are folded every few seconds whether or not anyone scrapes.
                    std::thread::Builder::new()
                        .name("metrics-upkeep".into())
                        .spawn(move || loop {
                            std::thread::sleep(Duration::from_secs(5));
                            upkeep.run_upkeep();
                        })
                        .ok()?;
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

/// The Prometheus text of every metric.
pub fn render() -> String {
    install().map(|h| h.render()).unwrap_or_default()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!("hookbell_webhooks_total", "Webhook requests answered, by endpoint and status code");
    describe_histogram!("hookbell_webhook_duration_seconds", Unit::Seconds, "Time to answer a webhook, by endpoint");
    describe_counter!(
        "hookbell_signature_failures_total",
        "Webhooks refused before their signature verified, by reason"
    );
    describe_counter!("hookbell_rate_limited_total", "Requests refused by a rate limit, by limit");
    describe_counter!(
        "hookbell_limit_fallbacks_total",
        "Limit checks decided by this node alone because Redis did not answer, by limit"
    );
    describe_gauge!("hookbell_socket_connections", "Open Socket.IO connections on this node");
    describe_gauge!("hookbell_socket_rooms_joined", "Rooms joined by this node's open sockets");
    describe_counter!("hookbell_events_emitted_total", "Socket.IO events emitted, by event name");
    describe_histogram!("hookbell_store_operation_seconds", Unit::Seconds, "Store operations, by operation");
    describe_gauge!("hookbell_sqlite_writer_queue_depth", "Writes waiting for the SQLite writer");
    describe_histogram!("hookbell_sqlite_commit_group_size", "Writes committed together by the SQLite writer");
    describe_counter!("hookbell_redis_errors_total", "Failed calls to Redis, by what made them");
    describe_counter!("hookbell_login_failures_total", "Failed sign-ins, by reason");
}

/// A webhook answered with `status` after `elapsed`.
pub fn webhook(endpoint: &str, status: u16, elapsed: Duration) {
    counter!("hookbell_webhooks_total", "endpoint" => endpoint.to_owned(), "status" => status.to_string()).increment(1);
    histogram!("hookbell_webhook_duration_seconds", "endpoint" => endpoint.to_owned()).record(elapsed.as_secs_f64());
}

/// A webhook refused before its signature verified, with its error code.
pub fn signature_failure(reason: &'static str) {
    counter!("hookbell_signature_failures_total", "reason" => reason).increment(1);
}

/// A request refused by the limit `limit`.
pub fn rate_limited(limit: &'static str) {
    counter!("hookbell_rate_limited_total", "limit" => limit).increment(1);
}

/// A check of `limit` decided locally: the shared state (Redis) did not answer.
pub fn limit_fallback(limit: &'static str) {
    counter!("hookbell_limit_fallbacks_total", "limit" => limit).increment(1);
}

/// An event emitted to dashboards.
pub fn emitted(event: &str) {
    counter!("hookbell_events_emitted_total", "event" => event.to_owned()).increment(1);
}

/// A store operation that took `elapsed`: SQLite's `read`, `write` (as its
/// caller waits: queue, run and commit) and `commit` (one group's), MongoDB's
/// commands by name (`insert`, `find`, `update`, …).
pub fn store_operation(store: &'static str, operation: impl Into<metrics::SharedString>, elapsed: Duration) {
    histogram!("hookbell_store_operation_seconds", "store" => store, "operation" => operation.into())
        .record(elapsed.as_secs_f64());
}

/// Writes waiting for the SQLite writer now.
pub fn sqlite_queue_depth(depth: usize) {
    gauge!("hookbell_sqlite_writer_queue_depth").set(depth as f64);
}

/// Writes the SQLite writer committed together.
pub fn sqlite_commit_group(size: usize) {
    histogram!("hookbell_sqlite_commit_group_size").record(size as f64);
}

/// A failed call to Redis by `source` (the Socket.IO adapter, the shared limits).
pub fn redis_error(source: &'static str) {
    counter!("hookbell_redis_errors_total", "source" => source).increment(1);
}

/// A failed sign-in.
pub fn login_failure(reason: &'static str) {
    counter!("hookbell_login_failures_total", "reason" => reason).increment(1);
}

/// Sockets open on this node and the rooms they joined, as counted now.
pub fn socket_counts(sockets: usize, rooms: usize) {
    gauge!("hookbell_socket_connections").set(sockets as f64);
    gauge!("hookbell_socket_rooms_joined").set(rooms as f64);
}

/// Logs a repeated failure at most once per interval: [`Throttle::note`]
/// says when to log, with how many were left unlogged since.
pub struct Throttle {
    every: Duration,
    state: std::sync::Mutex<(Option<std::time::Instant>, u64)>,
}

impl Throttle {
    pub const fn new(every: Duration) -> Self {
        Self { every, state: std::sync::Mutex::new((None, 0)) }
    }

    /// One more failure: `Some(unlogged)` when this one should be logged.
    pub fn note(&self) -> Option<u64> {
        let now = std::time::Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match state.0 {
            Some(last) if now.duration_since(last) < self.every => {
                state.1 += 1;
                None
            }
            _ => {
                state.0 = Some(now);
                Some(std::mem::take(&mut state.1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttle_logs_the_first_then_counts_the_rest() {
        let throttle = Throttle::new(Duration::from_secs(3600));
        assert_eq!(throttle.note(), Some(0));
        for _ in 0..5 {
            assert_eq!(throttle.note(), None);
        }
        let zero = Throttle::new(Duration::ZERO);
        assert_eq!((zero.note(), zero.note()), (Some(0), Some(0)));
    }

    #[test]
    fn rendered_metrics_carry_their_labels() {
        install().expect("the recorder installs");
        webhook("/api/webhooks/orders", 202, Duration::from_millis(3));
        rate_limited("webhooks");
        let text = render();
        assert!(text.contains(r#"hookbell_webhooks_total{endpoint="/api/webhooks/orders",status="202"}"#), "{text}");
        assert!(text.contains("hookbell_webhook_duration_seconds_bucket"), "a histogram, not a summary: {text}");
        assert!(text.contains(r#"hookbell_rate_limited_total{limit="webhooks"}"#), "{text}");
    }
}
