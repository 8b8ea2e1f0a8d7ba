//! Fan-out benchmark: K Socket.IO clients in one tenant's room, notification
//! webhooks at a steady rate, and the latency from each POST to its receipt
//! on every client; then the server's memory per idle connection.
//!
//! The real release `server` binary runs on a fresh SQLite file; the clients
//! are minimal Engine.IO v4 / Socket.IO v5 clients over WebSocket (each
//! authenticates with an API key, joins the room, answers pings) so that
//! thousands fit in this process. Every webhook's metadata carries the time
//! it was sent (`sentAtUs`); a client measures receipt against it (one
//! machine, one clock). Missed = deliveries expected minus received.
//!
//! With `HOOKBELL_BENCH_TARGET=node` the same clients, the same payload and
//! the same runs go to the minimal Node.js socket.io 4 server of
//! `server/benches/node/` instead (`npm ci` there first), the point of comparison.
//!
//! Run with `scripts/bench-fanout.sh`, which pins this process to one core
//! and the server to the other (`taskset`, through `HOOKBELL_BENCH_WRAPPER`),
//! so that the figures are the server's. Settings (environment):
//! `HOOKBELL_BENCH_FANOUT` (runs, `clients@events_per_second`, default
//! `1000@100,10000@10`), `HOOKBELL_BENCH_SECONDS` (10), `HOOKBELL_BENCH_IDLE`
//! (10000 idle connections for the memory figure).

mod common;

use std::{
    net::SocketAddr,
    process::Stdio,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use futures_util::{SinkExt, StreamExt};
use server::signature::sign_seed;
use tokio::sync::Semaphore;
use tokio_tungstenite::{connect_async, tungstenite::Message};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as u64
}

/// What the clients received.
#[derive(Default)]
struct Receipts {
    latencies_us: Mutex<Vec<u32>>,
    received: AtomicU64,
}

/// The `sentAtUs` of a `new-notification` frame, read without a full JSON parse.
fn sent_at(frame: &str) -> Option<u64> {
    let rest = &frame[frame.find("\"sentAtUs\":")? + 11..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Connects one client: Engine.IO open, Socket.IO CONNECT with the key,
/// `join-tenant`; then records every `new-notification` until `stop` closes.
async fn client(
    addr: SocketAddr,
    key: String,
    tenant: String,
    receipts: Option<Arc<Receipts>>,
    (gate, joined): (Arc<Semaphore>, Arc<Semaphore>),
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // At most so many handshakes at once; the slot is given back once joined.
    let mut slot = Some(gate.acquire_owned().await.expect("gate"));
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = connect_async(url).await.expect("websocket");
    let open = ws.next().await.expect("open packet").expect("frame");
    assert!(open.to_text().unwrap_or("").starts_with('0'), "{open:?}");
    ws.send(Message::Text(format!("40{{\"apiKey\":\"{key}\"}}"))).await.expect("connect");
    let mut acked = false;
    loop {
        let frame = tokio::select! {
            f = ws.next() => f,
            _ = stop.changed() => break,
        };
        let Some(Ok(Message::Text(text))) = frame else { break };
        let text: &str = &text;
        match text.as_bytes().first() {
            Some(b'2') => ws.send(Message::Text("3".into())).await.expect("pong"),
            Some(b'4') if text.starts_with("40") && !acked => {
                ws.send(Message::Text(format!("420[\"join-tenant\",\"{tenant}\"]"))).await.expect("join");
            }
            Some(b'4') if text.starts_with("430") => {
                assert!(text.contains("\"ok\":true"), "join refused: {text}");
                acked = true;
                slot.take();
                joined.add_permits(1);
            }
            Some(b'4') if text.starts_with("42[\"new-notification\"") => {
                if let (Some(r), Some(sent)) = (&receipts, sent_at(text)) {
                    r.received.fetch_add(1, Ordering::Relaxed);
                    let latency = now_us().saturating_sub(sent).min(u64::from(u32::MAX)) as u32;
                    r.latencies_us.lock().unwrap().push(latency);
                }
            }
            Some(b'4') if text.starts_with("44") => panic!("refused: {text}"),
            _ => {}
        }
    }
    let _ = ws.close(None).await;
}

/// Opens `n` clients (at most 200 handshakes at once) and waits until all joined.
async fn open_clients(
    n: usize,
    addr: SocketAddr,
    key: &str,
    tenant: &str,
    receipts: Option<Arc<Receipts>>,
) -> (tokio::sync::watch::Sender<bool>, Vec<tokio::task::JoinHandle<()>>, Duration) {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let joined = Arc::new(Semaphore::new(0));
    let gate = Arc::new(Semaphore::new(200));
    let started = Instant::now();
    let tasks = (0..n)
        .map(|_| {
            let sems = (gate.clone(), joined.clone());
            let (stop, receipts) = (stop_rx.clone(), receipts.clone());
            tokio::spawn(client(addr, key.to_owned(), tenant.to_owned(), receipts, sems, stop))
        })
        .collect();
    let all = joined.acquire_many(n as u32).await.unwrap();
    all.forget();
    (stop_tx, tasks, started.elapsed())
}

/// Starts the Node.js server of `server/benches/node/` (under
/// `HOOKBELL_BENCH_WRAPPER`) and reads the port it prints.
fn start_node() -> (common::ServerProcess, SocketAddr) {
    use std::io::BufRead;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/node/server.js");
    let mut child = common::wrapped("node")
        .arg(script)
        .env("PORT", common::free_port().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start node (run `npm ci` in server/benches/node first)");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("the port");
    let port: u16 = line.trim().parse().expect("node printed its port");
    (common::ServerProcess(child), format!("127.0.0.1:{port}").parse().unwrap())
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    f64::from(sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]) / 1000.0
}

#[tokio::main]
async fn main() {
    let runs = std::env::var("HOOKBELL_BENCH_FANOUT").unwrap_or_else(|_| "1000@100,10000@10".into());
    let seconds = env_usize("HOOKBELL_BENCH_SECONDS", 10);
    let idle = env_usize("HOOKBELL_BENCH_IDLE", 10_000);

    let dir = tempfile::tempdir().expect("tempdir");
    let node = std::env::var("HOOKBELL_BENCH_TARGET").is_ok_and(|t| t == "node");
    let (server, addr, tenant, secret, key) = if node {
        let (server, addr) = start_node();
        (server, addr, "507f1f77bcf86cd799439011".to_owned(), "unused".to_owned(), "unused".to_owned())
    } else {
        let db = dir.path().join("fanout.sqlite3");
        let created = common::create_tenant(&db, "Fanout");
        let tenant = created["tenantId"].as_str().unwrap().to_owned();
        let secret = created["webhookSecret"].as_str().unwrap().to_owned();
        let key = created["apiKey"].as_str().unwrap().to_owned();
        let (server, addr) = common::start_server(&db, "warn", Stdio::inherit());
        (server, addr, tenant, secret, key)
    };
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http.get(format!("http://{addr}/api/webhooks/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = server.0.id();
    let what = if node {
        "Node.js socket.io 4 (minimal: no signature, no store)"
    } else {
        "hookbell, SQLite (WAL, synchronous=FULL)"
    };
    println!(
        "fan-out: {what}; {seconds} s of notification webhooks per run; this process on {} core(s)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    );
    println!();
    println!("| clients | events/s | events | deliveries | missed | p50 ms | p99 ms | max ms | connect s |");
    println!("|---|---|---|---|---|---|---|---|---|");

    let mut seq = 0u64;
    for run in runs.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        let (clients, rate) = run.split_once('@').expect("clients@rate");
        let (clients, rate): (usize, u64) = (clients.parse().unwrap(), rate.parse().unwrap());
        let receipts = Arc::new(Receipts::default());
        let (stop, tasks, connect_time) = open_clients(clients, addr, &key, &tenant, Some(receipts.clone())).await;

        let events = rate * seconds as u64;
        let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
        let mut sends = Vec::new();
        for _ in 0..events {
            tick.tick().await;
            seq += 1;
            let body = serde_json::json!({
                "tenantId": tenant,
                "title": format!("Event {seq}"),
                "message": "fan-out",
                "metadata": {"seq": seq, "sentAtUs": now_us()},
            })
            .to_string();
            let signature = sign_seed(&secret, body.as_bytes());
            let request = http
                .post(format!("http://{addr}/api/webhooks/notifications"))
                .header("content-type", "application/json")
                .header("x-webhook-signature", signature)
                .body(body);
            sends.push(tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) }));
        }
        for send in sends {
            assert_eq!(send.await.unwrap().expect("POST"), 201);
        }
        // Let the last deliveries arrive.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let _ = stop.send(true);
        for task in tasks {
            let _ = task.await;
        }
        let expected = events * clients as u64;
        let received = receipts.received.load(Ordering::Relaxed);
        let mut lat = std::mem::take(&mut *receipts.latencies_us.lock().unwrap());
        lat.sort_unstable();
        println!(
            "| {clients} | {rate} | {events} | {received} | {} | {:.2} | {:.2} | {:.2} | {:.1} |",
            expected.saturating_sub(received),
            percentile(&lat, 0.50),
            percentile(&lat, 0.99),
            lat.last().map(|l| f64::from(*l) / 1000.0).unwrap_or(0.0),
            connect_time.as_secs_f64(),
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    // Memory per idle connection: the server's RSS before and after `idle` joined clients
    // (on a fresh server only when no run came first: `HOOKBELL_BENCH_FANOUT=""`).
    if idle == 0 {
        return;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = common::status_kib(pid, "VmRSS:");
    let (stop, tasks, connect_time) = open_clients(idle, addr, &key, &tenant, None).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = common::status_kib(pid, "VmRSS:");
    println!();
    let fresh = if runs.trim().is_empty() { "fresh server" } else { "after the runs above" };
    println!(
        "idle ({fresh}): {idle} joined connections in {:.1} s; server RSS {:.1} MiB -> {:.1} MiB: {:.2} KiB per connection",
        connect_time.as_secs_f64(),
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / idle as f64
    );
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
    }
    drop(server);
}
