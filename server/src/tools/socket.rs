//! A native Socket.IO client (rust_socketio) that collects the events it is
//! told to watch: used by `server selftest` and by the integration tests.

use std::time::Duration;

use futures_util::FutureExt;
use rust_socketio::{
    asynchronous::{Client, ClientBuilder},
    Payload,
};
use serde_json::Value;
use tokio::sync::mpsc;

/// How long a single answer (CONNECT, an ack, an awaited event) may take.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// The pseudo-event recorded when the server closes the connection.
pub const DISCONNECT: &str = "disconnect";

/// A connected client and the watched events it has received, in order.
pub struct LiveClient {
    pub client: Client,
    rx: mpsc::UnboundedReceiver<(String, Value)>,
}

impl LiveClient {
    /// Connects to `url` (the server's base URL), authenticating with `auth`
    /// (e.g. `{"apiKey": "hb_…"}`) and/or `headers`, and records `events`.
    /// Returns once the server has answered the namespace CONNECT.
    pub async fn connect(
        url: &str,
        events: &[&str],
        auth: Option<Value>,
        headers: &[(&str, String)],
    ) -> Result<LiveClient, String> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut builder = ClientBuilder::new(url).namespace("/").reconnect(false);
        if let Some(auth) = auth {
            builder = builder.auth(auth);
        }
        for (name, value) in headers {
            builder = builder.opening_header(*name, value.as_str());
        }
        // "disconnect" stands for the server closing the connection (rust_socketio's Close).
        if events.contains(&DISCONNECT) {
            let tx = tx.clone();
            builder = builder.on(rust_socketio::Event::Close, move |_p: Payload, _c: Client| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send((DISCONNECT.to_owned(), Value::Null));
                }
                .boxed()
            });
        }
        for &event in events.iter().filter(|e| **e != DISCONNECT) {
            let tx = tx.clone();
            let name = event.to_owned();
            builder = builder.on(event, move |payload: Payload, _c: Client| {
                let tx = tx.clone();
                let name = name.clone();
                async move {
                    if let Payload::Text(mut values) = payload {
                        let _ = tx.send((name, values.drain(..).next().unwrap_or(Value::Null)));
                    }
                }
                .boxed()
            });
        }
        // rust_socketio's connect() returns before the namespace is joined; events
        // sent earlier are dropped by the server, so wait for the CONNECT answer.
        let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<(), String>>();
        let error_tx = ready_tx.clone();
        builder = builder
            .on(rust_socketio::Event::Connect, move |_p: Payload, _c: Client| {
                let ready_tx = ready_tx.clone();
                async move {
                    let _ = ready_tx.send(Ok(()));
                }
                .boxed()
            })
            .on(rust_socketio::Event::Error, move |p: Payload, _c: Client| {
                let error_tx = error_tx.clone();
                async move {
                    let _ = error_tx.send(Err(format!("{p:?}")));
                }
                .boxed()
            });
        let client = builder.connect().await.map_err(|e| e.to_string())?;
        match tokio::time::timeout(ANSWER_TIMEOUT, ready_rx.recv()).await {
            Ok(Some(Ok(()))) => Ok(LiveClient { client, rx }),
            Ok(Some(Err(e))) => Err(e),
            _ => Err("no answer to CONNECT".into()),
        }
    }

    /// Emits `event` and waits for its acknowledgement's first argument.
    pub async fn emit_ack(&self, event: &str, data: Value) -> Result<Value, String> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        self.client
            .emit_with_ack(event, data, ANSWER_TIMEOUT, move |payload: Payload, _c: Client| {
                let tx = tx.clone();
                async move {
                    if let Payload::Text(values) = payload {
                        // rust_socketio hands an ack's arguments over as one array.
                        let first = match values.into_iter().next() {
                            Some(Value::Array(args)) => args.into_iter().next(),
                            other => other,
                        };
                        let _ = tx.send(first.unwrap_or(Value::Null));
                    }
                }
                .boxed()
            })
            .await
            .map_err(|e| format!("cannot emit {event}: {e}"))?;
        match tokio::time::timeout(ANSWER_TIMEOUT, rx.recv()).await {
            Ok(Some(ack)) => Ok(ack),
            _ => Err(format!("no acknowledgement of {event}")),
        }
    }

    /// Joins a tenant's room; the ack carries `unreadCount`.
    pub async fn join(&self, tenant_id: &str) -> Result<Value, String> {
        self.emit_ack("join-tenant", serde_json::json!({ "tenantId": tenant_id })).await
    }

    /// The next watched event within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<(String, Value)> {
        tokio::time::timeout(wait, self.rx.recv()).await.ok().flatten()
    }

    /// The first event called `name` whose payload satisfies `matches`,
    /// skipping others, within `wait`.
    pub async fn wait_for(
        &mut self,
        name: &str,
        wait: Duration,
        matches: impl Fn(&Value) -> bool,
    ) -> Result<Value, String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some((n, v))) if n == name && matches(&v) => return Ok(v),
                Ok(Some(_)) => continue,
                _ => return Err(format!("no {name} event within {} ms", wait.as_millis())),
            }
        }
    }

    /// Every watched event that arrives within `wait`.
    pub async fn collect_for(&mut self, wait: Duration) -> Vec<(String, Value)> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut out = Vec::new();
        while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            out.push(ev);
        }
        out
    }

    /// Closes the connection.
    pub async fn disconnect(&self) {
        let _ = self.client.disconnect().await;
    }
}
