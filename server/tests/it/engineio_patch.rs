//! The vendored engineioxide (`patches/`) on paths the server's own tests do not reach: the
//! heartbeat, whose pong is kept for it by a `Notify` (a client that answers pings keeps its
//! session, a silent one is closed), and volatile packets, which wait in a one-packet slot for
//! the WebSocket writer or the next polling request. A bare Socket.IO server in process, with a
//! ping interval short enough that a test sees several pings.

use std::{net::SocketAddr, time::Duration};

use futures_util::SinkExt;
use socketioxide::{
    extract::{Data, SocketRef},
    socket::DisconnectReason,
    SocketIo,
};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{next_text, RawWs};

/// How long a test waits for what it expects before failing (a bound, not a measurement).
const FRAME_BOUND: Duration = Duration::from_secs(10);

struct Bare {
    addr: SocketAddr,
    disconnects: mpsc::UnboundedReceiver<DisconnectReason>,
}

/// A Socket.IO server pinging every 100 ms, waiting 2 s for the pong (a loaded machine answers late). Its one event,
/// `volatile`, answers with a volatile `v` carrying the same number.
async fn bare() -> Bare {
    bare_with(Duration::from_secs(2)).await
}

/// [`bare`], waiting `ping_timeout` for each pong.
async fn bare_with(ping_timeout: Duration) -> Bare {
    let (tx, disconnects) = mpsc::unbounded_channel();
    let (layer, io) =
        SocketIo::builder().ping_interval(Duration::from_millis(100)).ping_timeout(ping_timeout).build_layer();
    io.ns("/", move |socket: SocketRef| {
        let tx = tx.clone();
        async move {
            socket.on("volatile", |socket: SocketRef, Data(n): Data<u32>| async move {
                socket.volatile().emit("v", &n).expect("volatile emit");
            });
            socket.on_disconnect(move |reason: DisconnectReason| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(reason);
                }
            });
        }
    });
    let app = axum::Router::new().layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Bare { addr, disconnects }
}

/// A Socket.IO connection over WebSocket, connected to the default namespace.
async fn ws_connected(addr: SocketAddr) -> RawWs {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("websocket");
    let open = next_text(&mut ws).await.expect("engine.io open");
    assert!(open.starts_with('0'), "engine.io open: {open}");
    ws.send(Message::Text("40".into())).await.unwrap();
    ws
}

#[tokio::test]
async fn a_websocket_client_that_answers_pings_keeps_its_session_and_a_silent_one_is_closed() {
    let mut srv = bare().await;
    let mut ws = ws_connected(srv.addr).await;
    // Five pings answered: each pong must reach the heartbeat, or the session would be closed
    // 2 s after a ping instead of being pinged again.
    let mut answered = 0;
    while answered < 5 {
        let text = next_text(&mut ws).await.unwrap_or_else(|| panic!("closed after {answered} pongs"));
        if text == "2" {
            ws.send(Message::Text("3".into())).await.unwrap();
            answered += 1;
        }
    }
    assert!(srv.disconnects.try_recv().is_err(), "no disconnect while pongs arrive");
    // Now silent: the next ping goes unanswered and the server closes the session.
    while next_text(&mut ws).await.is_some() {}
    let reason = tokio::time::timeout(FRAME_BOUND, srv.disconnects.recv()).await.unwrap();
    assert_eq!(reason, Some(DisconnectReason::HeartbeatTimeout));
}

#[tokio::test]
async fn a_volatile_packet_reaches_a_websocket_client() {
    // What is tested is the volatile packet, not the heartbeat (the test above): a pong the
    // loaded machine sends late does not end the session here. (Once, in a full run, the
    // session ended before the packet came; the reason is now in the failure.)
    let mut srv = bare_with(FRAME_BOUND).await;
    let mut ws = ws_connected(srv.addr).await;
    ws.send(Message::Text(r#"42["volatile",7]"#.into())).await.unwrap();
    // Pings keep coming meanwhile: the whole wait is bounded, not each frame only.
    let arrived = tokio::time::timeout(FRAME_BOUND, async {
        loop {
            let Some(text) = next_text(&mut ws).await else {
                panic!("the session ended before the packet came: {:?}", srv.disconnects.try_recv());
            };
            match text.as_str() {
                "2" => ws.send(Message::Text("3".into())).await.unwrap(),
                r#"42["v",7]"# => break,
                _ => {}
            }
        }
    });
    arrived.await.expect("the volatile packet within the bound");
}

#[tokio::test]
async fn over_polling_pongs_keep_the_session_and_a_volatile_packet_reaches_the_next_request() {
    let srv = bare().await;
    let http = reqwest::Client::new();
    let base = format!("http://{}/socket.io/?EIO=4&transport=polling", srv.addr);
    let get = |url: String| {
        let http = http.clone();
        async move {
            let response = tokio::time::timeout(FRAME_BOUND, http.get(url).send()).await.unwrap().unwrap();
            assert!(response.status().is_success(), "poll: {}", response.status());
            response.text().await.unwrap()
        }
    };
    let post = |url: String, body: &'static str| {
        let http = http.clone();
        async move {
            let response = http.post(url).body(body).send().await.unwrap();
            assert!(response.status().is_success(), "post {body}: {}", response.status());
        }
    };
    let open = get(base.clone()).await;
    let open: serde_json::Value = serde_json::from_str(open.strip_prefix('0').expect("engine.io open")).unwrap();
    let url = format!("{base}&sid={}", open["sid"].as_str().unwrap());
    post(url.clone(), "40").await;
    post(url.clone(), r#"42["volatile",8]"#).await;
    let (mut pongs, mut volatile) = (0, false);
    let polled = tokio::time::timeout(FRAME_BOUND, async {
        while pongs < 3 || !volatile {
            for packet in get(url.clone()).await.split('\u{1e}') {
                match packet {
                    "2" => {
                        post(url.clone(), "3").await;
                        pongs += 1;
                    }
                    r#"42["v",8]"# => volatile = true,
                    "1" => panic!("session closed after {pongs} pongs"),
                    _ => {}
                }
            }
        }
    });
    polled.await.unwrap_or_else(|_| panic!("within the bound: {pongs} pongs, volatile packet {volatile}"));
}
