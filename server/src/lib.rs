//! hookbell's server: webhooks, the REST API, server functions and Socket.IO
//! on one axum router.
//!
//! - [`config`]: environment variables.
//! - [`error`]: typed errors and their one mapping to clients (HTTP, server functions, socket acks, CLI).
//! - [`store`]: the storage traits by aggregate and their two implementations.
//! - [`service`]: the service layer every transport calls; no HTTP in it.
//! - [`request`]: what a request presented, read from its headers; cookies written.
//! - [`realtime`]: Socket.IO rooms and broadcasting (implements [`service::Push`]).
//! - [`http`]: the router, HTTP handlers and the server functions' backend.
//! - `connection`: one accepted connection served by hyper.
//!
//! Dependencies go one way: `http` and `realtime` → `request` → `service` →
//! `store`; nothing below imports what is above it (`scripts/check-layers.py`).
//! - [`signature`] (from `hookbell-sdk`), [`ids`]: signing, secrets, identifiers, timestamps.
//! - [`providers`]: Shopify's and Stripe's signatures, and their payloads mapped to ours.
//! - [`cli`], [`tools`]: administration commands; `send` and `selftest` against a deployment.

pub mod cli;
pub mod config;
mod connection;
pub mod error;
pub mod http;
pub mod ids;
pub mod providers;
pub mod realtime;
pub mod request;
pub mod sealing;
pub mod service;
pub use hookbell_sdk::signature;
pub mod shared;
pub mod store;
pub mod telemetry;
pub mod tools;

use std::sync::Arc;

use axum::Router;
use leptos::prelude::LeptosOptions;
use thiserror::Error;
use tokio::net::TcpListener;

use crate::{
    config::{Config, Mode},
    service::Services,
    store::{sqlite::SqliteStore, Store, StoreError},
};

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum StartError {
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("secrets at rest: {0}")]
    Seal(#[from] sealing::SealError),
    #[error("startup: {0}")]
    Other(String),
}

/// A built server, ready to serve.
pub struct Built {
    pub router: Router,
    pub services: Arc<Services>,
    /// Its requests in flight (Socket.IO's transport aside), for the drain.
    pub in_flight: http::ops::InFlight,
}

/// Leptos options for the configured address: cargo-leptos passes them in the
/// environment; run directly, the defaults point at `target/site`.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    let mut options = leptos::config::get_configuration(None)
        .map(|c| c.leptos_options)
        .unwrap_or_else(|_| LeptosOptions::builder().output_name("hookbell").build());
    if options.output_name.is_empty() {
        options.output_name = "hookbell".into();
    }
    options.site_addr = config.site_addr;
    options
}

/// Opens the configured store: MongoDB when `MONGODB_URI` is set, else the
/// SQLite file. A store that is unavailable is retried with exponential
/// backoff (0.5 s doubling, at most 10 s) up to `store_connect_attempts` times.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    let mut delay = std::time::Duration::from_millis(500);
    let mut attempt = 1;
    loop {
        let opened: Result<Arc<dyn Store>, StoreError> = match &config.mongodb_uri {
            Some(uri) => {
                let wc = store::mongo::write_concern(config.mongodb_write_concern);
                store::mongo::MongoStore::connect(uri, wc, config.webhook_event_retention())
                    .await
                    .map(|s| Arc::new(s) as Arc<dyn Store>)
            }
            None => SqliteStore::open(&config.database_path).await.map(|s| Arc::new(s) as Arc<dyn Store>),
        };
        match opened {
            Ok(store) => {
                tracing::info!(store = store.kind(), "store ready");
                return Ok(store);
            }
            Err(StoreError::Unavailable(cause)) if attempt < config.store_connect_attempts => {
                tracing::warn!(
                    %cause,
                    attempt,
                    of = config.store_connect_attempts,
                    retry_in_ms = delay.as_millis() as u64,
                    "store unavailable at start-up; retrying"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(10));
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// The key that seals secrets at rest: `HOOKBELL_SECRET_KEY`, or in
/// development a key file beside the database (created once).
pub fn load_sealer(config: &Config) -> Result<sealing::Sealer, sealing::SealError> {
    let key_file = (config.mode == Mode::Development)
        .then(|| config.database_path.parent().unwrap_or(std::path::Path::new(".")).join("secret.key"));
    sealing::Sealer::load(config.secret_key.as_deref(), key_file.as_deref())
}

/// Builds the router and services on `store` (and, with `REDIS_URL`, joins
/// the other server processes through Redis).
pub async fn build_with_store(
    config: Config,
    store: Arc<dyn Store>,
    sealer: sealing::Sealer,
    leptos_options: LeptosOptions,
) -> Result<Built, StartError> {
    telemetry::install();
    let link = match config.redis_url.as_deref() {
        Some(url) => Some(shared::RedisLink::connect(url).await.map_err(StartError::Other)?),
        None => None,
    };
    let shared = link.clone().map(|link| Arc::new(link) as Arc<dyn service::limits::SharedState>);
    let changes = match &link {
        Some(link) => Some(link.tenant_changes().await.map_err(|e| StartError::Other(format!("Redis: {e}")))?),
        None => None,
    };
    let (socket_layer, io, broadcaster) = realtime::layer(link);
    let multi_node = shared.is_some();
    let services = Arc::new(Services::with_shared(store, Arc::new(broadcaster), config, sealer, shared));
    if let Some(changes) = changes {
        tokio::spawn(shared::forget_changed_tenants(changes, services.clone()));
    }
    services.migrate_sealed_secrets().await.map_err(|e| StartError::Other(e.to_string()))?;
    realtime::attach(io, services.clone()).await.map_err(StartError::Other)?;
    if multi_node {
        tracing::info!("Socket.IO broadcasts, limits and refresh windows go through Redis to every server process");
    }
    http::bundle::check(&leptos_options);
    let state = http::AppState { services: services.clone(), leptos_options };
    let in_flight = http::ops::InFlight::default();
    Ok(Built { router: http::router(state, socket_layer, in_flight.clone()), services, in_flight })
}

/// The service layer on the configured store, without serving (for the
/// administration commands).
pub async fn build_services(config: Config) -> Result<Arc<Services>, StartError> {
    let sealer = load_sealer(&config)?;
    let store = open_store(&config).await?;
    Ok(Arc::new(Services::new(store, Arc::new(realtime::detached_broadcaster()), config, sealer)))
}

/// Opens the store, builds the server and, in development, makes sure the
/// demo tenant exists (printing its secret on stdout the one time it is created).
pub async fn build(config: Config) -> Result<Built, StartError> {
    log_mode(&config);
    let sealer = load_sealer(&config)?;
    let store = open_store(&config).await?;
    let options = leptos_options(&config);
    let built = build_with_store(config, store, sealer, options).await?;
    tokio::spawn(service::housekeeping::retention_loop(built.services.clone()));
    if built.services.config().mode == Mode::Development {
        let (tenant, secret) =
            built.services.ensure_demo_tenant().await.map_err(|e| StartError::Other(e.to_string()))?;
        print_demo_tenant(&tenant.id, secret.as_deref());
    }
    Ok(built)
}

/// Says in the log which mode the server runs in, and why.
pub fn log_mode(config: &Config) {
    use config::ModeReason;
    let addr = config.site_addr;
    match (config.mode, config.mode_reason) {
        (Mode::Production, ModeReason::UnsetReachable) => tracing::warn!(
            %addr,
            "HOOKBELL_ENV is unset and the server listens beyond loopback: running in production mode (no demo \
             tenant, Secure cookies); set HOOKBELL_ENV=development to develop on this address"
        ),
        (Mode::Development, ModeReason::UnsetOnLoopback) => tracing::info!(
            %addr,
            "HOOKBELL_ENV is unset and the server listens on loopback only: development mode (demo tenant)"
        ),
        (mode, _) => tracing::info!(%addr, ?mode, "mode set by HOOKBELL_ENV"),
    }
}

fn print_demo_tenant(tenant_id: &str, secret: Option<&str>) {
    match secret {
        Some(secret) => println!(
            "\nhookbell: created the demo tenant. Its webhook secret is shown this once; paste these lines into \
             the shell you send webhooks from:\n\n  export HOOKBELL_TENANT_ID={tenant_id}\n  export \
             HOOKBELL_WEBHOOK_SECRET={secret}\n"
        ),
        None => println!(
            "\nhookbell: demo tenant {tenant_id} (its webhook secret was printed when it was created; delete the \
             database file to start afresh)\n  export HOOKBELL_TENANT_ID={tenant_id}\n"
        ),
    }
}

/// Serves until ctrl-c / SIGTERM, then drains.
///
/// The accept loop is hyper's HTTP/1 server (axum::serve has neither of
/// these): a client gets `HOOKBELL_HEADER_TIMEOUT_SECS` from the moment it
/// connects to send a request's head, or its connection is closed, and at most
/// `HOOKBELL_MAX_CONNECTIONS` connections are served at once (the next ones
/// wait in the kernel's backlog; a WebSocket stops counting once upgraded, and
/// sockets are capped per principal instead). HTTP/1 only: no protocol sniffing
/// that a silent client could stall (browsers speak HTTP/2 to the TLS proxy in
/// front).
///
/// The drain, on SIGTERM or SIGINT: `/readyz` turns 503; the connections the
/// kernel had already taken (its backlog) are accepted and get one answer
/// each instead of a reset; the listener closes; requests in flight finish
/// and are answered (a webhook is acknowledged only once stored), their
/// events still reaching every dashboard, and idle keep-alive connections
/// close; then every Socket.IO transport is closed, which clients take as a
/// cue to reconnect (to another node, through the balancer). After
/// `HOOKBELL_SHUTDOWN_GRACE_SECS` whatever is left is cut and the function returns.
pub async fn serve(listener: TcpListener, built: Built) -> std::io::Result<()> {
    use hyper_util::rt::TokioTimer;

    let services = built.services;
    services.set_local_addr(listener.local_addr()?);
    // Whoever serves dashboards wakes their snoozes (every node; the store lets one win each).
    let waker = tokio::spawn(service::snooze::snooze_loop(services.clone()));
    let _stop_waker = AbortOnDrop(waker);
    let config = services.config();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let _metrics = match config.metrics_addr {
        Some(addr) => {
            let metrics_listener = TcpListener::bind(addr).await?;
            tracing::info!(%addr, "metrics at /metrics on their own address");
            // Scraped through the drain too: it ends when this function returns.
            let task = http::ops::serve_metrics(metrics_listener, services.clone(), std::future::pending());
            Some(AbortOnDrop(tokio::spawn(async move {
                if let Err(e) = task.await {
                    tracing::warn!(error = %e, "the metrics listener stopped");
                }
            })))
        }
        None => None,
    };
    let max_connections = config.max_connections;
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1.timer(TokioTimer::new()).header_read_timeout(config.header_timeout);
    let conns = connection::Connections {
        router: built.router,
        trusted_proxies: config.trusted_proxies.clone().into(),
        http1,
        stopping: stopping.clone(),
        tasks: tokio_util::task::TaskTracker::new(),
    };
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the connection semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        conns.spawn(stream, remote, Some(slot), true);
    }
    let grace = config.shutdown_grace;
    let deadline = tokio::time::Instant::now() + grace;
    tracing::info!(grace_secs = grace.as_secs(), "shutting down: draining");
    // Readiness turns false first, so a balancer stops sending here while open requests finish.
    services.begin_drain();
    // Connections already in the kernel's backlog get their one request answered, not a reset:
    // accepted without waiting until the kernel has none left.
    let listener = listener.into_std()?;
    // From here the kernel starts no new connection (a client's SYN goes unanswered, then is
    // refused once the listener closes), so none is made after the last accept below only to
    // be reset when the listener closes; only a handshake already half done (about one round
    // trip) can still meet that.
    refuse_new_connections(&listener, true);
    let mut backlog = 0;
    while let Ok((stream, remote)) = listener.accept() {
        let Ok(stream) = stream.set_nonblocking(true).and_then(|()| tokio::net::TcpStream::from_std(stream)) else {
            continue;
        };
        conns.spawn(stream, remote, slots.clone().try_acquire_owned().ok(), false);
        backlog += 1;
    }
    // The filter belongs to the socket: lifted, in case another process holds the listener too.
    refuse_new_connections(&listener, false);
    drop(listener);
    let _ = stop.send(true);
    // Requests in flight finish first, so their events still reach every dashboard…
    let answered = tokio::time::timeout_at(deadline, built.in_flight.idle()).await.is_ok();
    // …then sockets are told to reconnect (their transport closes; long-polling requests end with them)…
    let closed = tokio::time::timeout_at(deadline, services.close_sockets()).await.is_ok();
    // …and every connection gets the rest of the grace to end.
    conns.tasks.close();
    let ended = tokio::time::timeout_at(deadline, conns.tasks.wait()).await.is_ok();
    if answered && closed && ended {
        tracing::info!(backlog, "drained: every request answered");
    } else {
        tracing::warn!(
            backlog,
            answered,
            sockets_closed = closed,
            "connections still open when the shutdown grace ended; closing them"
        );
    }
    Ok(())
}

/// Attaches (`refuse`) or detaches a socket filter that drops every packet to
/// `listener`: SYNs and the last ACKs of handshakes. Connections already made
/// are sockets of their own, untouched. Where this is not possible the drain
/// still works, with a small window in which a new connection can be reset.
fn refuse_new_connections(listener: &std::net::TcpListener, refuse: bool) {
    #[cfg(target_os = "linux")]
    {
        // BPF_RET | BPF_K with k = 0: keep 0 bytes of the packet, i.e. drop it.
        const DROP_ALL: [socket2::SockFilter; 1] = [socket2::SockFilter::new(0x06, 0, 0, 0)];
        let socket = socket2::SockRef::from(listener);
        let done = if refuse { socket.attach_filter(&DROP_ALL) } else { socket.detach_filter() };
        if let Err(e) = done {
            tracing::debug!(error = %e, refuse, "could not change the listener's filter for the drain");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (listener, refuse);
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Aborts a background task when dropped (when [`serve`] returns).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
