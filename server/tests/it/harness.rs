//! Starts a real hookbell server for a test and talks to it.

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use leptos::prelude::LeptosOptions;
use serde_json::Value;
use server::{
    config::Config,
    service::{CreatedTenant, Services},
    signature::sign_seed,
    tools::socket::{LiveClient, ANSWER_TIMEOUT},
};

/// A test-only setting of [`TestServer::start_with`]: the site root to serve static files from.
pub const SITE_ROOT: &str = "TEST_SITE_ROOT";

/// A running server with its own database.
pub struct TestServer {
    pub addr: SocketAddr,
    pub services: Arc<Services>,
    pub http: reqwest::Client,
    /// The SQLite file (unused when the config selects MongoDB).
    pub db_path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server in development mode (with the demo tenant).
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra environment-style settings.
    pub async fn start_with(vars: &[(&str, &str)]) -> Self {
        Self::start_in(tempfile::tempdir().expect("tempdir"), vars).await
    }

    /// Starts a server on the database `hookbell.sqlite3` in `dir`.
    pub async fn start_in(dir: tempfile::TempDir, vars: &[(&str, &str)]) -> Self {
        // The server's log, when RUST_LOG asks for it (silent otherwise).
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
        let db = dir.path().join("hookbell.sqlite3");
        let db_str = db.to_string_lossy().into_owned();
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let config = Config::from_lookup(|k| {
            if k == "DATABASE_PATH" {
                return Some(db_str.clone());
            }
            vars.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone())
        })
        .expect("config");
        let store = server::open_store(&config).await.expect("open store");
        let mut options = LeptosOptions::builder().output_name("hookbell").build();
        // Where static files are served from (`target/site` unless a test brings its own).
        if let Some((_, root)) = vars.iter().find(|(k, _)| k == SITE_ROOT) {
            options.site_root = root.as_str().into();
        }
        let sealer = server::load_sealer(&config).expect("secret key");
        let built = server::build_with_store(config, store, sealer, options).await.expect("build");
        if built.services.config().mode == server::config::Mode::Development {
            built.services.ensure_demo_tenant().await.expect("demo tenant");
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let services = built.services.clone();
        tokio::spawn(server::serve(listener, built));
        TestServer { addr, services, http: reqwest::Client::new(), db_path: db, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A fresh tenant with its secret.
    pub async fn tenant(&self, name: &str) -> CreatedTenant {
        let base: String = server::service::slugify(name).chars().take(20).collect();
        let slug = format!("{base}-{}", server::ids::new_id::<String>());
        self.services.create_tenant(name, &slug).await.expect("create tenant")
    }

    /// Calls a server function (POST, no arguments) as the browser does.
    pub async fn call_server_fn(&self, path: &str) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .send()
            .await
            .expect("request")
    }

    /// POSTs `body` as-is with the given signature header (if any).
    pub async fn post_raw(&self, path: &str, body: &str, signature: Option<&str>) -> (u16, Value) {
        let mut req = self.http.post(self.url(path)).header("content-type", "application/json").body(body.to_owned());
        if let Some(sig) = signature {
            req = req.header("x-webhook-signature", sig);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let json = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, json)
    }

    /// POSTs a JSON webhook signed with `secret`.
    pub async fn post_signed(&self, path: &str, body: &Value, secret: &str) -> (u16, Value) {
        let text = body.to_string();
        let sig = sign_seed(secret, text.as_bytes());
        self.post_raw(path, &text, Some(&sig)).await
    }

    /// POSTs `body` with the given extra headers (Standard Webhooks and the like).
    pub async fn post_with_headers(&self, path: &str, body: &str, headers: &[(&str, String)]) -> (u16, Value) {
        let mut req = self.http.post(self.url(path)).header("content-type", "application/json").body(body.to_owned());
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json::<Value>().await.unwrap_or(Value::Null))
    }

    /// POSTs a JSON webhook signed the Standard Webhooks way, as of `timestamp`.
    pub async fn post_standard(
        &self,
        path: &str,
        body: &Value,
        secret: &str,
        id: &str,
        timestamp: i64,
    ) -> (u16, Value) {
        let text = body.to_string();
        let sig = server::signature::sign_standard(secret, id, timestamp, text.as_bytes());
        let headers =
            [("webhook-id", id.to_owned()), ("webhook-timestamp", timestamp.to_string()), ("webhook-signature", sig)];
        self.post_with_headers(path, &text, &headers).await
    }

    /// Connects a Socket.IO client without credentials (in development: the demo user).
    pub async fn socket(&self, events: &[&str]) -> SocketProbe {
        self.socket_with(events, None, &[]).await.expect("socket connect")
    }

    /// Connects with a new member API key of `tenant_id` in the auth payload.
    pub async fn tenant_socket(&self, tenant_id: &str, events: &[&str]) -> SocketProbe {
        let key = self.services.create_api_key(tenant_id, "socket", app::models::Role::Member, None).await.unwrap().key;
        self.socket_with(events, Some(serde_json::json!({ "apiKey": key })), &[]).await.expect("socket connect")
    }

    /// Connects a Socket.IO client that forwards every listed event to a
    /// channel, with an auth payload and handshake headers; `Err` with the
    /// server's reason when the handshake is refused.
    pub async fn socket_with(
        &self,
        events: &[&str],
        auth: Option<Value>,
        headers: &[(&str, String)],
    ) -> Result<SocketProbe, String> {
        connect_socket(&self.url("/"), events, auth, headers).await
    }
}

/// Connects a Socket.IO client to `url` (see [`TestServer::socket_with`]).
pub async fn connect_socket(
    url: &str,
    events: &[&str],
    auth: Option<Value>,
    headers: &[(&str, String)],
) -> Result<SocketProbe, String> {
    LiveClient::connect(url, events, auth, headers).await.map(|live| SocketProbe { live })
}

/// No API key, for [`call`].
pub const NO_KEY: Option<&str> = None;

/// An API key argument of [`call`]: a key, or [`NO_KEY`].
pub trait Key {
    fn as_key(&self) -> Option<&str>;
}

impl Key for &String {
    fn as_key(&self) -> Option<&str> {
        Some(self.as_str())
    }
}

impl Key for &str {
    fn as_key(&self) -> Option<&str> {
        Some(self)
    }
}

impl Key for Option<&str> {
    fn as_key(&self) -> Option<&str> {
        *self
    }
}

/// Calls the API with a bearer key (`NO_KEY` for none) and a JSON body (if any):
/// the status and JSON answer.
pub async fn call(
    srv: &TestServer,
    method: reqwest::Method,
    path: &str,
    key: impl Key,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = srv.http.request(method, srv.url(path));
    if let Some(key) = key.as_key() {
        req = req.bearer_auth(key);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// A native Socket.IO client and the events it received; the test-side
/// face of [`LiveClient`]: every wait panics when it runs out.
pub struct SocketProbe {
    pub live: LiveClient,
}

impl SocketProbe {
    /// Emits `event` and waits for its acknowledgement.
    pub async fn emit_ack(&self, event: &str, data: Value) -> Value {
        self.live.emit_ack(event, data).await.expect("ack in time")
    }

    /// Joins a tenant room and returns the ack.
    pub async fn join(&self, tenant_id: &str) -> Value {
        self.live.join(tenant_id).await.expect("join ack in time")
    }

    /// Every event that arrives within `wait`.
    pub async fn collect_for(&mut self, wait: Duration) -> Vec<(String, Value)> {
        self.live.collect_for(wait).await
    }

    /// The next event, whatever it is.
    pub async fn next_event(&mut self) -> (String, Value) {
        self.live.next_within(ANSWER_TIMEOUT).await.expect("event in time")
    }

    /// The next event called `name`, skipping others.
    pub async fn next_named(&mut self, name: &str) -> Value {
        self.live.wait_for(name, ANSWER_TIMEOUT, |_| true).await.expect("event in time")
    }

    /// Asserts that nothing arrives for `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Some(ev) = self.live.next_within(wait).await {
            panic!("expected no event, got {ev:?}");
        }
    }
}

/// A valid order body for `tenant_id`.
pub fn order(tenant_id: &str, number: &str) -> Value {
    serde_json::json!({
        "tenantId": tenant_id,
        "orderNumber": number,
        "customerName": "John Doe",
        "customerEmail": "john@example.com",
        "amount": 99.99,
        "status": "paid",
        "items": [{"productId": "prod_123", "productName": "Product Name", "quantity": 2, "price": 49.99}],
        "metadata": {"source": "shopify-headless", "paymentMethod": "stripe"}
    })
}

/// A `server` process, killed when dropped.
pub struct Node {
    pub child: Child,
    pub addr: SocketAddr,
}

/// A `redis-server` of the test's own on a port of its own (scripts/setup.sh
/// installs the binary), nothing kept on disk; killed when dropped.
pub struct OwnRedis {
    child: Option<Child>,
    pub port: u16,
}

impl OwnRedis {
    /// Starts one on a free port.
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = OwnRedis { child: None, port };
        redis.restart().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it (again) on its port, and waits until it takes connections.
    pub async fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/setup.sh installs it)");
        self.child = Some(child);
        // Each try is a connect: an event, not a sleep.
        for _ in 0..500 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("redis-server did not start on {}", self.port);
    }

    /// Kills it (everything it held is gone).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tenant made with the administration command (`server tenant create`):
/// its JSON (`tenantId`, `webhookSecret`, `apiKey`, …).
pub fn cli_tenant(env: &[(&str, String)], name: &str) -> Value {
    let out = command(env).args(["tenant", "create", "--name", name]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// POSTs order `number` of `tenant_id`, signed with `secret` the seed's way, to
/// the server at `base` (`http://host:port`): the status.
pub async fn post_signed_order(http: &reqwest::Client, base: &str, tenant_id: &str, secret: &str, number: &str) -> u16 {
    let body = order(tenant_id, number).to_string();
    let resp = http
        .post(format!("{base}/api/webhooks/orders"))
        .header("content-type", "application/json")
        .header("x-webhook-signature", sign_seed(secret, body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap();
    resp.status().as_u16()
}

pub fn command(env: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.env_remove("DATABASE_PATH").env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

impl Node {
    pub async fn start(env: &[(&str, String)]) -> Node {
        Self::start_logging(env, Stdio::inherit()).await
    }

    /// [`Node::start`] with the process's stderr (its log) sent to `stderr`.
    pub async fn start_logging(env: &[(&str, String)], stderr: impl Into<Stdio>) -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = command(env)
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start a server process");
        let node = Node { child, addr };
        let health = format!("http://{addr}/api/webhooks/health");
        for _ in 0..150 {
            if let Ok(r) = reqwest::get(&health).await {
                if r.status() == 200 {
                    return node;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("node on {addr} did not start");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The process's resident memory, in KiB (from `/proc`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }
}

/// A raw engine.io connection over WebSocket, for tests that send frames by hand.
pub type RawWs = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame of a raw connection (pings included), or `None` when the server ended
/// it; panics when none comes within 10 s (a bound, not a measurement).
pub async fn next_text(ws: &mut RawWs) -> Option<String> {
    use futures_util::StreamExt;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.expect("a frame within the bound");
        match frame {
            None | Some(Err(_)) | Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => return None,
            Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) => return Some(text),
            Some(Ok(_)) => continue,
        }
    }
}
