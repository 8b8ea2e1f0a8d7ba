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
//!
//! Dependencies go one way: `http` and `realtime` → `request` → `service` →
//! `store`; nothing below imports what is above it (`scripts/check-layers.py`).
//! - [`signature`] (from `hookbell-sdk`), [`ids`]: signing, secrets, identifiers, timestamps.
//! - [`providers`]: Shopify's and Stripe's signatures, and their payloads mapped to ours.
//! - [`cli`], [`tools`]: administration commands; `send` and `selftest` against a deployment.

pub mod cli;
pub mod config;
pub mod error;
pub mod http;
pub mod ids;
pub mod providers;
pub mod realtime;
pub mod request;
pub mod sealing;
pub mod service;
pub use hookbell_sdk::signature;
pub mod store;
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
    let (socket_layer, io, broadcaster) =
        realtime::layer(config.redis_url.as_deref()).await.map_err(StartError::Other)?;
    let multi_node = config.redis_url.is_some();
    let services = Arc::new(Services::new(store, Arc::new(broadcaster), config, sealer));
    services.migrate_sealed_secrets().await.map_err(|e| StartError::Other(e.to_string()))?;
    realtime::attach(io, services.clone()).await.map_err(StartError::Other)?;
    if multi_node {
        tracing::info!("Socket.IO broadcasts go through Redis to every server process");
    }
    let state = http::AppState { services: services.clone(), leptos_options };
    Ok(Built { router: http::router(state, socket_layer), services })
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

/// Serves until ctrl-c / SIGTERM.
///
/// The accept loop is hyper's HTTP/1 server (axum::serve has neither of
/// these): a client gets `HOOKBELL_HEADER_TIMEOUT_SECS` from the moment it
/// connects to send a request's head, or its connection is closed, and at most
/// `HOOKBELL_MAX_CONNECTIONS` connections are served at once (the next ones
/// wait in the kernel's backlog; a WebSocket stops counting once upgraded, and
/// sockets are capped per principal instead). HTTP/1 only: no protocol sniffing
/// that a silent client could stall (browsers speak HTTP/2 to the TLS proxy in
/// front). On shutdown, open connections finish their requests first.
pub async fn serve(listener: TcpListener, built: Built) -> std::io::Result<()> {
    use hyper_util::{
        rt::{TokioIo, TokioTimer},
        service::TowerToHyperService,
    };
    use tower::ServiceExt;

    let services = built.services;
    services.set_local_addr(listener.local_addr()?);
    // Whoever serves dashboards wakes their snoozes (every node; the store lets one win each).
    let waker = tokio::spawn(service::snooze::snooze_loop(services.clone()));
    let _stop_waker = AbortOnDrop(waker);
    let config = services.config();
    let max_connections = config.max_connections;
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1.timer(TokioTimer::new()).header_read_timeout(config.header_timeout);
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let router = built.router;
    let trusted_proxies: Arc<[ipnet::IpNet]> = config.trusted_proxies.clone().into();
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
        let _ = stream.set_nodelay(true);
        let trusted = trusted_proxies.clone();
        let service = router.clone().map_request(move |mut req: axum::extract::Request<hyper::body::Incoming>| {
            // The client, as a trusted reverse proxy names it (else the peer): limits, audit and logs see it.
            let client = request::client_address(remote.ip(), req.headers(), &trusted);
            req.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(client, remote.port())));
            req
        });
        let (http1, mut stopping) = (http1.clone(), stopping.clone());
        tokio::spawn(async move {
            let conn = http1.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)).with_upgrades();
            let mut conn = std::pin::pin!(conn);
            let ended = tokio::select! {
                ended = conn.as_mut() => ended,
                _ = stopping.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, %remote, "connection ended with an error");
            }
            drop(slot);
        });
    }
    // Readiness turns false first, so a balancer stops sending here while open requests finish.
    services.begin_drain();
    drop(listener);
    let _ = stop.send(true);
    // Open requests get a while to finish (every slot back means every connection ended).
    let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(std::time::Duration::from_secs(30), slots.acquire_many(all)).await.is_err() {
        tracing::warn!("connections still open 30 s after shutdown began; closing them");
    }
    Ok(())
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
