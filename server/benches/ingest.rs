//! Ingest benchmark: signed order webhooks against the real `server` binary
//! over loopback, next to a trivial route of the same server in the same run.
//!
//! 1. `server tenant create` makes a tenant in a fresh SQLite file;
//! 2. the server is started on it (durable writes, `HOOKBELL_WEBHOOK_RATE=0`
//!    so the per-tenant limiter does not cap the run);
//! 3. N distinct order webhooks are signed before the clock starts, each kept
//!    as the exact bytes of its HTTP/1.1 request;
//! 4. C keep-alive connections send them as fast as answers come back
//!    (a minimal HTTP/1.1 client, so the load generator takes little of the
//!    two cores it shares with the server); the same for `GET /api/webhooks/health`.
//!
//! Every answer must be 201 (orders) or 200 (health); anything else counts as
//! an error. Run with `scripts/bench-ingest.sh`. Settings (environment):
//! `HOOKBELL_BENCH_REQUESTS` (default 50,000), `HOOKBELL_BENCH_CONNECTIONS`
//! (64), `HOOKBELL_BENCH_SCHEMES` (`hex,standard`), `HOOKBELL_BENCH_MONGODB_URI`
//! (run on MongoDB instead of SQLite). Prints a Markdown table, and the store
//! operations per webhook of each orders phase (from the server's `/metrics`:
//! on MongoDB each is one command, that is one round trip).

mod common;

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use server::signature::{sign_seed, sign_standard};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One request's exact bytes, and the status it must get.
struct Request {
    bytes: Vec<u8>,
    expect: u16,
}

fn get(addr: SocketAddr, path: &str) -> Request {
    Request { bytes: format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes(), expect: 200 }
}

fn signed_order(addr: SocketAddr, tenant: &str, secret: &str, scheme: &str, number: &str) -> Request {
    let body = serde_json::json!({
        "tenantId": tenant,
        "orderNumber": number,
        "customerName": "John Doe",
        "customerEmail": "john@example.com",
        "amount": 99.99,
        "currency": "USD",
        "status": "paid",
        "items": [{"productId": "prod_123", "productName": "Product Name", "quantity": 2, "price": 49.99}],
        "metadata": {"source": "bench"}
    })
    .to_string();
    let signature = match scheme {
        "hex" => format!("X-Webhook-Signature: {}\r\n", sign_seed(secret, body.as_bytes())),
        _ => {
            let id = format!("msg_{number}");
            let ts = time::OffsetDateTime::now_utc().unix_timestamp();
            format!(
                "webhook-id: {id}\r\nwebhook-timestamp: {ts}\r\nwebhook-signature: {}\r\n",
                sign_standard(secret, &id, ts, body.as_bytes())
            )
        }
    };
    let head = format!(
        "POST /api/webhooks/orders HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{signature}\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    Request { bytes: [head.into_bytes(), body.into_bytes()].concat(), expect: 201 }
}

/// Sends one request on a keep-alive connection and reads the whole answer; returns its status.
async fn exchange(conn: &mut BufReader<TcpStream>, request: &[u8], line: &mut Vec<u8>) -> std::io::Result<u16> {
    conn.get_mut().write_all(request).await?;
    let mut status = 0u16;
    let mut length = 0usize;
    let mut first = true;
    loop {
        line.clear();
        if conn.read_until(b'\n', line).await? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
        }
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end();
        if first {
            status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            first = false;
        } else if text.is_empty() {
            break;
        } else if let Some((name, value)) = text.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(std::io::Error::other("chunked answers are not expected"));
            }
        }
    }
    line.resize(length, 0);
    conn.read_exact(line).await?;
    Ok(status)
}

/// What one phase measured.
struct Phase {
    name: String,
    requests: usize,
    errors: usize,
    elapsed: Duration,
    /// Latencies in microseconds, sorted.
    latencies: Vec<u32>,
}

impl Phase {
    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let idx = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        f64::from(self.latencies[idx]) / 1000.0
    }

    fn row(&self) -> String {
        format!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} |",
            self.name,
            self.requests,
            self.errors,
            self.requests as f64 / self.elapsed.as_secs_f64(),
            self.percentile(0.50),
            self.percentile(0.90),
            self.percentile(0.99),
            self.latencies.last().map(|l| f64::from(*l) / 1000.0).unwrap_or(0.0),
        )
    }
}

/// Sends `requests` over `connections` keep-alive connections.
async fn drive(name: &str, addr: SocketAddr, requests: Arc<Vec<Request>>, connections: usize) -> Phase {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (requests, next) = (requests.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let mut conn = BufReader::with_capacity(16 * 1024, stream);
            let mut line = Vec::with_capacity(1024);
            let (mut latencies, mut errors) = (Vec::new(), 0usize);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(i) else { break };
                let sent = Instant::now();
                match exchange(&mut conn, &request.bytes, &mut line).await {
                    Ok(status) if status == request.expect => {}
                    Ok(status) => {
                        if errors == 0 {
                            eprintln!("{status}: {}", String::from_utf8_lossy(&line));
                        }
                        errors += 1;
                    }
                    Err(e) => panic!("request failed: {e}"),
                }
                latencies.push(sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::with_capacity(requests.len());
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.expect("connection task");
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Phase { name: name.to_owned(), requests: requests.len(), errors, elapsed, latencies }
}

/// Peak and current resident memory of a process, in MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let mib = |field| common::status_kib(pid, field) as f64 / 1024.0;
    (mib("VmHWM:"), mib("VmRSS:"))
}

/// `hookbell_store_operation_seconds_count` by (store, operation), from `/metrics`.
async fn store_operations(addr: SocketAddr) -> std::collections::BTreeMap<String, f64> {
    let request =
        format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\r\n", common::METRICS_TOKEN);
    let mut conn = BufReader::new(TcpStream::connect(addr).await.expect("connect"));
    let mut body = Vec::new();
    assert_eq!(exchange(&mut conn, request.as_bytes(), &mut body).await.expect("/metrics"), 200);
    let text = String::from_utf8_lossy(&body);
    text.lines()
        .filter(|l| l.starts_with("hookbell_store_operation_seconds_count{"))
        .filter_map(|l| {
            let (labels, value) = l.rsplit_once(' ')?;
            let label = |name: &str| labels.split(&format!("{name}=\"")).nth(1)?.split('"').next().map(str::to_owned);
            Some((format!("{}:{}", label("store")?, label("operation")?), value.parse().ok()?))
        })
        .collect()
}

/// The operations of the store between two readings, per webhook: `insert 4.00, find 1.00, …`.
fn operations_per(
    before: &std::collections::BTreeMap<String, f64>,
    after: &std::collections::BTreeMap<String, f64>,
    webhooks: usize,
) -> String {
    let mut parts = Vec::new();
    let mut total = 0.0;
    for (name, count) in after {
        let n = (count - before.get(name).copied().unwrap_or(0.0)) / webhooks as f64;
        if n >= 0.005 {
            // (SQLite's group commits are shared by the writes counted beside them.)
            if !name.ends_with(":commit") {
                total += n;
            }
            parts.push(format!("{name} {n:.2}"));
        }
    }
    format!("{total:.2} ({})", parts.join(", "))
}

async fn wait_ready(addr: SocketAddr) {
    let health = get(addr, "/api/webhooks/health");
    for _ in 0..300 {
        if let Ok(stream) = TcpStream::connect(addr).await {
            let mut conn = BufReader::new(stream);
            if let Ok(200) = exchange(&mut conn, &health.bytes, &mut Vec::new()).await {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not start");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let total = env_usize("HOOKBELL_BENCH_REQUESTS", 50_000);
    let connections = env_usize("HOOKBELL_BENCH_CONNECTIONS", 64);
    let schemes = std::env::var("HOOKBELL_BENCH_SCHEMES").unwrap_or_else(|_| "hex,standard".into());

    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("bench.sqlite3");
    let created = common::create_tenant(&db, "Bench");
    let tenant = created["tenantId"].as_str().unwrap().to_owned();
    let secret = created["webhookSecret"].as_str().unwrap().to_owned();
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let (server, addr) = common::start_server(&db, "info", log.into());
    wait_ready(addr).await;

    println!(
        "ingest: {total} requests per phase, {connections} connections, {}, {} cores",
        if common::mongodb_uri().is_some() { "MongoDB" } else { "SQLite (WAL, synchronous=FULL)" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    // Warm-up: connections, caches, the database's first pages.
    let warm: Vec<Request> =
        (0..total.min(2_000)).map(|i| signed_order(addr, &tenant, &secret, "hex", &format!("WARM-{i}"))).collect();
    drive("warm-up", addr, Arc::new(warm), connections).await;

    let mut phases = Vec::new();
    let mut per_webhook = Vec::new();
    let health: Vec<Request> = (0..total).map(|_| get(addr, "/api/webhooks/health")).collect();
    phases.push(drive("GET /api/webhooks/health", addr, Arc::new(health), connections).await);
    for scheme in schemes.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let orders: Vec<Request> = (0..total)
            .map(|i| signed_order(addr, &tenant, &secret, scheme, &format!("{}-{i}", scheme.to_uppercase())))
            .collect();
        let label = match scheme {
            "hex" => "POST /api/webhooks/orders (X-Webhook-Signature)",
            _ => "POST /api/webhooks/orders (Standard Webhooks, webhook-id)",
        };
        let before = store_operations(addr).await;
        phases.push(drive(label, addr, Arc::new(orders), connections).await);
        let after = store_operations(addr).await;
        per_webhook.push((label, operations_per(&before, &after, total)));
    }
    let (peak, now) = memory_mib(server.0.id());

    println!();
    println!("| route | requests | errors | req/s | p50 ms | p90 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|---|---|");
    for phase in &phases {
        println!("{}", phase.row());
    }
    println!();
    for (label, operations) in &per_webhook {
        println!("store operations per webhook, {label}: {operations}");
    }
    println!();
    println!("server memory: peak RSS {peak:.1} MiB, RSS at the end {now:.1} MiB");
    let failed: usize = phases.iter().map(|p| p.errors).sum();
    drop(server);
    if failed > 0 {
        eprintln!("{failed} requests got an unexpected status");
        std::process::exit(1);
    }
}
