//! Graceful drain, against the real binary: SIGTERM in the middle of a load
//! of signed webhooks loses no acknowledged one and answers no request with a
//! reset; open sockets have their transport closed (which clients take as a
//! cue to reconnect) rather than a Socket.IO disconnect (which they obey);
//! and the process exits when `HOOKBELL_SHUTDOWN_GRACE_SECS` ends, whatever
//! a client still holds open.

use std::{
    process::{Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use server::store::OrderStore;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{cli_tenant, order, Node};

fn sigterm(node: &Node) {
    let status = Command::new("kill").args(["-TERM", &node.child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

/// Waits at most `within` for the process to exit (a bound, not a measurement): its exit status.
async fn exited(node: &mut Node, within: Duration) -> std::process::ExitStatus {
    let tries = within.as_millis() / 100;
    for _ in 0..tries {
        if let Some(status) = node.child.try_wait().unwrap() {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not exit within {within:?} of SIGTERM");
}

fn settings(dir: &tempfile::TempDir, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("HOOKBELL_ENV", "development".to_owned()),
        ("DATABASE_PATH", dir.path().join("db.sqlite3").display().to_string()),
        ("HOOKBELL_WEBHOOK_RATE", "0".to_owned()),
    ];
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    env
}

/// A raw Socket.IO connection (engine.io v4 over WebSocket) in the default namespace.
async fn raw_socket(
    node: &Node,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", node.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("websocket");
    let open = ws.next().await.unwrap().unwrap();
    assert!(open.to_text().unwrap().starts_with('0'), "engine.io open: {open:?}");
    // Development: the demo user, with no credentials.
    ws.send(Message::Text("40".into())).await.unwrap();
    // The server may ping first (engine.io "2"): answered ("3") and passed over.
    loop {
        let frame = ws.next().await.unwrap().unwrap();
        match frame.to_text().unwrap() {
            "2" => ws.send(Message::Text("3".into())).await.unwrap(),
            text => {
                assert!(text.starts_with("40"), "Socket.IO connect: {frame:?}");
                return ws;
            }
        }
    }
}

#[tokio::test]
async fn sigterm_under_load_loses_no_acknowledged_webhook_and_resets_no_request() {
    let dir = tempfile::tempdir().unwrap();
    let env = settings(&dir, &[]);
    let tenant = cli_tenant(&env, "Drain");
    let (tid, secret) = (tenant["tenantId"].as_str().unwrap().to_owned(), tenant["webhookSecret"].as_str().unwrap());
    let mut node = Node::start(&env).await;
    let mut ws = raw_socket(&node).await;

    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let (enough_tx, mut enough) = tokio::sync::mpsc::channel::<()>(1);
    let mut workers = Vec::new();
    for w in 0..6 {
        let (acked, failures, count, enough_tx) = (acked.clone(), failures.clone(), count.clone(), enough_tx.clone());
        let (url, tid, secret) = (format!("http://{}/api/webhooks/orders", node.addr), tid.clone(), secret.to_owned());
        // A connection per request: a closed keep-alive connection is not what is tested here.
        let http = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        workers.push(tokio::spawn(async move {
            for i in 0.. {
                let number = format!("D-{w}-{i}");
                let body = order(&tid, &number).to_string();
                let sig = server::signature::sign_seed(&secret, body.as_bytes());
                let sent = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-webhook-signature", sig)
                    .body(body)
                    .send()
                    .await;
                match sent {
                    Ok(resp) if resp.status() == 201 => {
                        // Acknowledged only once the whole answer arrived.
                        match resp.bytes().await {
                            Ok(_) => {
                                acked.lock().unwrap().push(number);
                                if count.fetch_add(1, Ordering::SeqCst) + 1 == 60 {
                                    let _ = enough_tx.try_send(());
                                }
                            }
                            Err(e) => failures.lock().unwrap().push(format!("{number}: body cut: {e}")),
                        }
                    }
                    Ok(resp) => failures.lock().unwrap().push(format!("{number}: status {}", resp.status())),
                    // Refused: the listener is closed, nothing was taken.
                    Err(e) if e.is_connect() => return,
                    Err(e) => failures.lock().unwrap().push(format!("{number}: {e:?}")),
                }
            }
        }));
    }
    drop(enough_tx);
    enough.recv().await.expect("60 webhooks acknowledged before the signal");
    sigterm(&node);
    for worker in workers {
        worker.await.unwrap();
    }
    let status = exited(&mut node, Duration::from_secs(60)).await;
    assert!(status.success(), "{status:?}");
    assert!(failures.lock().unwrap().is_empty(), "{:?}", failures.lock().unwrap());

    // The socket's transport was closed, with no Socket.IO disconnect (after which a client would not reconnect).
    let mut frames = Vec::new();
    while let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
        frames.push(frame);
    }
    assert!(!frames.iter().any(|f| f.to_text().is_ok_and(|t| t.starts_with("41"))), "{frames:?}");
    // An engine.io close packet and a WebSocket close frame: closed on purpose, not cut by the exit.
    assert!(frames.iter().any(|f| matches!(f, Message::Text(t) if t.as_str() == "1")), "{frames:?}");
    assert!(frames.iter().any(|f| matches!(f, Message::Close(_))), "{frames:?}");

    // Every acknowledged order is in the database.
    let store = server::store::sqlite::SqliteStore::open(&dir.path().join("db.sqlite3")).await.unwrap();
    let tenant_id: app::models::TenantId = tid.as_str().into();
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 60);
    for number in &acked {
        assert!(store.get_order_by_number(&tenant_id, number).await.unwrap().is_some(), "{number} was acknowledged");
    }
}

#[tokio::test]
async fn the_process_exits_when_the_grace_ends_whatever_a_client_holds() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.log");
    let env = settings(
        &dir,
        &[
            ("HOOKBELL_SHUTDOWN_GRACE_SECS", "1"),
            ("HOOKBELL_REQUEST_TIMEOUT_SECS", "3600"),
            ("HOOKBELL_HEADER_TIMEOUT_SECS", "3600"),
        ],
    );
    let mut node = Node::start_logging(&env, Stdio::from(std::fs::File::create(&log).unwrap())).await;
    // A request whose body never comes.
    let mut held = tokio::net::TcpStream::connect(node.addr).await.unwrap();
    held.write_all(
        b"POST /api/webhooks/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .unwrap();
    // Connections are accepted in the order they came: once a later one is answered, this one is being served.
    assert_eq!(reqwest::get(node.url("/livez")).await.unwrap().status(), 200);
    sigterm(&node);
    // A grace of 1 s: well within 15 s (the default request timeout would have been 30 s, the old grace 30 s).
    assert!(exited(&mut node, Duration::from_secs(15)).await.success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("connections still open when the shutdown grace ended"), "{text}");
}
