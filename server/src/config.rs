//! Configuration from the environment: every variable the README documents.

use std::{net::SocketAddr, path::PathBuf};

use thiserror::Error;

/// Where the server runs: development creates the demo tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Development,
    Production,
}

/// Why the server runs in its mode (said in the start-up log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeReason {
    /// `HOOKBELL_ENV` says so.
    Set,
    /// `HOOKBELL_ENV` is unset and the server listens on a loopback address only.
    UnsetOnLoopback,
    /// `HOOKBELL_ENV` is unset and the server listens beyond loopback: production, to be safe.
    UnsetReachable,
}

/// The server's configuration.
#[derive(Clone)]
pub struct Config {
    pub mode: Mode,
    /// Why [`Config::mode`] is what it is.
    pub mode_reason: ModeReason,
    /// `LEPTOS_SITE_ADDR`, default 127.0.0.1:5000.
    pub site_addr: SocketAddr,
    /// `DATABASE_PATH`: the embedded store's SQLite file.
    pub database_path: PathBuf,
    /// `MONGODB_URI`: the production store; unset means the embedded SQLite store.
    pub mongodb_uri: Option<String>,
    /// `MONGODB_WRITE_CONCERN`: `majority` (default) or a node count; always journaled.
    pub mongodb_write_concern: WriteConcernSetting,
    /// `HOOKBELL_WEBHOOK_EVENT_RETENTION_DAYS`: how long the webhook event log keeps a request (default 30).
    pub webhook_event_retention_days: u32,
    /// `HOOKBELL_STORE_CONNECT_ATTEMPTS`: tries to reach the store at start-up (default 8).
    pub store_connect_attempts: u32,
    /// `SESSION_SECRET`: keys session cookies (identity issue).
    pub session_secret: Option<String>,
    /// `CLIENT_URL`: the allowed CORS origin in production.
    pub client_url: Option<String>,
    /// `WEBHOOK_SECRET`: global fallback webhook secret.
    pub webhook_secret: Option<String>,
    /// `HOOKBELL_SECRET_KEY`: base64 of 32 bytes; seals secrets at rest.
    /// Development without it uses a key file beside the database.
    pub secret_key: Option<String>,
    /// `REDIS_URL`: Socket.IO fan-out across processes.
    pub redis_url: Option<String>,
    /// `HOOKBELL_TRUSTED_PROXIES`: the reverse proxies (addresses or CIDRs)
    /// whose `X-Forwarded-For` names the client; from anyone else it is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `HOOKBELL_MAX_BODY_BYTES`: largest webhook body accepted (default 1 MiB).
    pub max_body_bytes: usize,
    /// `HOOKBELL_MAX_API_BODY_BYTES`: largest body of the dashboard API and of
    /// server functions (default 64 KiB).
    pub max_api_body_bytes: usize,
    /// `HOOKBELL_MAX_CONNECTIONS`: HTTP connections served at once; more wait
    /// in the kernel's backlog (default 10,000). An upgraded WebSocket no
    /// longer counts (sockets are capped per principal).
    pub max_connections: usize,
    /// `HOOKBELL_HEADER_TIMEOUT_SECS`: time for a client to send a request's
    /// head before the connection is closed (default 10 s).
    pub header_timeout: std::time::Duration,
    /// `HOOKBELL_REQUEST_TIMEOUT_SECS`: longest a request may take, its body
    /// included (Socket.IO's transport excepted; default 30 s).
    pub request_timeout: std::time::Duration,
    /// `HOOKBELL_SOCKET_EVENT_RATE`: events per second a socket may send
    /// (a token bucket with twice as many at once; default 10). A socket that
    /// keeps sending past it is disconnected.
    pub socket_event_rate: u32,
    /// `HOOKBELL_MAX_SOCKETS_PER_PRINCIPAL`: open sockets of one API key, user
    /// or the demo user on this node (default 50).
    pub max_sockets_per_principal: usize,
    /// `HOOKBELL_WEBHOOK_RATE`: webhooks per second per tenant (default 100; 0 = no limit).
    pub webhook_rate_per_sec: u32,
    /// `HOOKBELL_WEBHOOK_BURST`: how many may arrive at once before the rate applies (default 200).
    pub webhook_rate_burst: u32,
    /// `HOOKBELL_REFRESH_COALESCE_MS`: at most one `dashboard-refresh` per
    /// tenant in this window (default 250 ms; 0 = every one is sent).
    pub refresh_coalesce: std::time::Duration,
    /// `HOOKBELL_TENANT_CACHE_SECONDS`: how long a tenant and its opened
    /// secrets are kept in memory for verifying webhooks (default 10; 0 = off).
    /// Changes made through hookbell drop it at once (on every node, with Redis).
    pub tenant_cache_ttl: std::time::Duration,
    /// `HOOKBELL_MIN_SNOOZE_SECS`: the shortest snooze (default and in
    /// production 60; shorter only in development, for tests).
    pub min_snooze: std::time::Duration,
    /// `HOOKBELL_SNOOZE_POLL_MS`: how often each node looks for snoozes that
    /// have come due (default 1000).
    pub snooze_poll: std::time::Duration,
    /// `HOOKBELL_PUBLIC_URL`: the server's address as senders reach it (shown as
    /// the webhook URLs); unset means `http://` + the request's Host.
    pub public_url: Option<String>,
    /// `HOOKBELL_METRICS_TOKEN`: the bearer token `GET /metrics` asks for on
    /// the main port (at least 16 characters); unset, the main port has no `/metrics`.
    pub metrics_token: Option<String>,
    /// `HOOKBELL_METRICS_ADDR`: an address of its own for `/metrics` (for a
    /// private network; the token, when set, is asked there too).
    pub metrics_addr: Option<SocketAddr>,
    /// `HOOKBELL_SHUTDOWN_GRACE_SECS`: how long open requests get to finish
    /// after SIGTERM or SIGINT before the process exits (default 20).
    pub shutdown_grace: std::time::Duration,
}

impl Config {
    /// Browser origins allowed to call the API (CORS) as the seed says: in
    /// development `http://localhost:5173` and `http://localhost:3000`;
    /// otherwise only `CLIENT_URL`.
    pub fn cors_origins(&self) -> Vec<String> {
        let client = self.client_url.as_deref().map(|u| u.trim_end_matches('/').to_owned());
        match self.mode {
            Mode::Development => ["http://localhost:5173".to_owned(), "http://localhost:3000".to_owned()]
                .into_iter()
                .chain(client)
                .collect(),
            Mode::Production => client.into_iter().collect(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets and connection strings (which may hold passwords) are never printed.
        f.debug_struct("Config")
            .field("mode", &self.mode)
            .field("site_addr", &self.site_addr)
            .field("database_path", &self.database_path)
            .field("mongodb_uri", &self.mongodb_uri.as_ref().map(|_| "<set>"))
            .field("mongodb_write_concern", &self.mongodb_write_concern)
            .field("store_connect_attempts", &self.store_connect_attempts)
            .field("webhook_event_retention_days", &self.webhook_event_retention_days)
            .field("session_secret", &self.session_secret.as_ref().map(|_| "<set>"))
            .field("client_url", &self.client_url)
            .field("webhook_secret", &self.webhook_secret.as_ref().map(|_| "<set>"))
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<set>"))
            .field("redis_url", &self.redis_url.as_ref().map(|_| "<set>"))
            .field("public_url", &self.public_url)
            .field("webhook_rate_per_sec", &self.webhook_rate_per_sec)
            .field("webhook_rate_burst", &self.webhook_rate_burst)
            .field("tenant_cache_ttl", &self.tenant_cache_ttl)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_api_body_bytes", &self.max_api_body_bytes)
            .field("max_connections", &self.max_connections)
            .field("header_timeout", &self.header_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("socket_event_rate", &self.socket_event_rate)
            .field("max_sockets_per_principal", &self.max_sockets_per_principal)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "<set>"))
            .field("metrics_addr", &self.metrics_addr)
            .field("shutdown_grace", &self.shutdown_grace)
            .finish()
    }
}

/// How many MongoDB nodes acknowledge a write (`MONGODB_WRITE_CONCERN`); the
/// MongoDB store turns it into the driver's journaled write concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteConcernSetting {
    /// A majority of the replica set (the default).
    #[default]
    Majority,
    /// This many nodes.
    Nodes(u32),
}

impl WriteConcernSetting {
    /// Parses `MONGODB_WRITE_CONCERN`: `majority` (default) or a node count.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        Ok(match value.map(str::trim) {
            None | Some("") | Some("majority") => Self::Majority,
            Some(n) => Self::Nodes(n.parse().map_err(|_| format!("expected majority or a number, got {n:?}"))?),
        })
    }
}

/// A variable that is set but unusable.
#[derive(Debug, Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

pub const DEFAULT_ADDR: &str = "127.0.0.1:5000";
pub const DEFAULT_DATABASE_PATH: &str = "data/hookbell.sqlite3";
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
pub const DEFAULT_MAX_API_BODY_BYTES: usize = 64 * 1024;

impl Config {
    /// The webhook event log's retention as a duration.
    pub fn webhook_event_retention(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.webhook_event_retention_days) * 86_400)
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get` (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let addr = get("LEPTOS_SITE_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let site_addr: SocketAddr = addr.parse().map_err(|e| ConfigError {
            var: "LEPTOS_SITE_ADDR",
            message: format!("{addr:?} is not host:port ({e})"),
        })?;
        // Development (anonymous callers act as the demo owner, cookies without
        // `Secure`) only when asked for, or when nobody but this machine can reach it.
        let (mode, mode_reason) = match get("HOOKBELL_ENV").as_deref() {
            Some("development") | Some("dev") => (Mode::Development, ModeReason::Set),
            Some("production") | Some("prod") => (Mode::Production, ModeReason::Set),
            None if site_addr.ip().is_loopback() => (Mode::Development, ModeReason::UnsetOnLoopback),
            None => (Mode::Production, ModeReason::UnsetReachable),
            Some(other) => {
                return Err(ConfigError {
                    var: "HOOKBELL_ENV",
                    message: format!("expected development or production, got {other:?}"),
                })
            }
        };
        // A whole number within `range`, or `default` when unset.
        let number = |var: &'static str, default: u64, range: std::ops::RangeInclusive<u64>, what: &str| match get(var)
        {
            None => Ok(default),
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| ConfigError { var, message: format!("expected {what}, got {v:?}") }),
        };
        let max_body_bytes = number(
            "HOOKBELL_MAX_BODY_BYTES",
            DEFAULT_MAX_BODY_BYTES as u64,
            1024..=u64::MAX,
            "a byte count of at least 1024",
        )? as usize;
        let max_api_body_bytes = number(
            "HOOKBELL_MAX_API_BODY_BYTES",
            DEFAULT_MAX_API_BODY_BYTES as u64,
            1024..=u64::MAX,
            "a byte count of at least 1024",
        )? as usize;
        let max_connections =
            number("HOOKBELL_MAX_CONNECTIONS", 10_000, 1..=10_000_000, "a whole number from 1 to 10000000")? as usize;
        let header_timeout = number("HOOKBELL_HEADER_TIMEOUT_SECS", 10, 1..=3600, "seconds from 1 to 3600")?;
        let request_timeout = number("HOOKBELL_REQUEST_TIMEOUT_SECS", 30, 1..=3600, "seconds from 1 to 3600")?;
        let socket_event_rate =
            number("HOOKBELL_SOCKET_EVENT_RATE", 10, 1..=100_000, "events per second from 1 to 100000")? as u32;
        let max_sockets_per_principal =
            number("HOOKBELL_MAX_SOCKETS_PER_PRINCIPAL", 50, 1..=1_000_000, "a whole number from 1 to 1000000")?
                as usize;
        let store_connect_attempts =
            number("HOOKBELL_STORE_CONNECT_ATTEMPTS", 8, 1..=1000, "a whole number from 1 to 1000")? as u32;
        let webhook_event_retention_days =
            number("HOOKBELL_WEBHOOK_EVENT_RETENTION_DAYS", 30, 1..=3650, "whole days from 1 to 3650")? as u32;
        let webhook_rate_per_sec =
            number("HOOKBELL_WEBHOOK_RATE", 100, 0..=1_000_000, "webhooks per second from 0 (no limit) to 1000000")?
                as u32;
        let webhook_rate_burst =
            number("HOOKBELL_WEBHOOK_BURST", 200, 1..=1_000_000, "a whole number from 1 to 1000000")? as u32;
        let refresh_coalesce_ms =
            number("HOOKBELL_REFRESH_COALESCE_MS", 250, 0..=60_000, "milliseconds from 0 (off) to 60000")?;
        let tenant_cache_secs = number("HOOKBELL_TENANT_CACHE_SECONDS", 10, 0..=3600, "seconds from 0 (off) to 3600")?;
        let min_snooze_secs = number("HOOKBELL_MIN_SNOOZE_SECS", 60, 1..=60, "seconds from 1 to 60")?;
        if min_snooze_secs < 60 && mode == Mode::Production {
            return Err(ConfigError {
                var: "HOOKBELL_MIN_SNOOZE_SECS",
                message: "a snooze shorter than a minute is for tests: only in development".into(),
            });
        }
        let snooze_poll_ms = number("HOOKBELL_SNOOZE_POLL_MS", 1000, 50..=60_000, "milliseconds from 50 to 60000")?;
        let mongodb_write_concern = WriteConcernSetting::parse(get("MONGODB_WRITE_CONCERN").as_deref())
            .map_err(|message| ConfigError { var: "MONGODB_WRITE_CONCERN", message })?;
        let trusted_proxies = parse_proxies(get("HOOKBELL_TRUSTED_PROXIES").as_deref().unwrap_or(""))
            .map_err(|message| ConfigError { var: "HOOKBELL_TRUSTED_PROXIES", message })?;
        let shutdown_grace = number("HOOKBELL_SHUTDOWN_GRACE_SECS", 20, 0..=3600, "seconds from 0 to 3600")?;
        let metrics_token = get("HOOKBELL_METRICS_TOKEN").filter(|t| !t.is_empty());
        if metrics_token
            .as_ref()
            .is_some_and(|t| t.len() < 16 || t.len() > 1024 || !t.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(ConfigError {
                var: "HOOKBELL_METRICS_TOKEN",
                message: "must be 16 to 1024 visible ASCII characters".into(),
            });
        }
        let metrics_addr = match get("HOOKBELL_METRICS_ADDR").filter(|a| !a.is_empty()) {
            None => None,
            Some(addr) => Some(addr.parse::<SocketAddr>().map_err(|_| ConfigError {
                var: "HOOKBELL_METRICS_ADDR",
                message: "must be an address and port, like 127.0.0.1:9464".into(),
            })?),
        };
        Ok(Config {
            shutdown_grace: std::time::Duration::from_secs(shutdown_grace),
            metrics_token,
            metrics_addr,
            mode,
            mode_reason,
            max_api_body_bytes,
            max_connections,
            header_timeout: std::time::Duration::from_secs(header_timeout),
            request_timeout: std::time::Duration::from_secs(request_timeout),
            socket_event_rate,
            max_sockets_per_principal,
            mongodb_write_concern,
            store_connect_attempts,
            webhook_event_retention_days,
            site_addr,
            database_path: get("DATABASE_PATH").unwrap_or_else(|| DEFAULT_DATABASE_PATH.to_owned()).into(),
            mongodb_uri: get("MONGODB_URI"),
            session_secret: get("SESSION_SECRET"),
            client_url: get("CLIENT_URL"),
            webhook_secret: get("WEBHOOK_SECRET"),
            redis_url: get("REDIS_URL"),
            trusted_proxies,
            secret_key: get("HOOKBELL_SECRET_KEY"),
            max_body_bytes,
            webhook_rate_per_sec,
            webhook_rate_burst,
            refresh_coalesce: std::time::Duration::from_millis(refresh_coalesce_ms),
            tenant_cache_ttl: std::time::Duration::from_secs(tenant_cache_secs),
            min_snooze: std::time::Duration::from_secs(min_snooze_secs),
            snooze_poll: std::time::Duration::from_millis(snooze_poll_ms),
            public_url: get("HOOKBELL_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned()),
        })
    }
}

/// `HOOKBELL_TRUSTED_PROXIES`: addresses and CIDRs, separated by commas or
/// spaces (`10.0.0.0/8, 192.168.1.7, fd00::/8`); an address alone is itself.
fn parse_proxies(text: &str) -> Result<Vec<ipnet::IpNet>, String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| format!("{entry:?} is not an address or CIDR (like 10.0.0.0/8 or 192.168.1.7)"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_to_port_5000_and_the_data_folder() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.site_addr.to_string(), "127.0.0.1:5000");
        assert_eq!(c.database_path, PathBuf::from("data/hookbell.sqlite3"));
        assert_eq!(c.mode, Mode::Development);
        assert_eq!(c.mode_reason, ModeReason::UnsetOnLoopback);
        assert_eq!(c.max_body_bytes, 1024 * 1024);
        assert_eq!(c.max_api_body_bytes, 64 * 1024);
    }

    #[test]
    fn trusted_proxies_are_addresses_and_cidrs_and_nothing_else() {
        assert!(cfg(&[]).unwrap().trusted_proxies.is_empty(), "none unless named");
        let c = cfg(&[("HOOKBELL_TRUSTED_PROXIES", "10.1.2.3/8, 192.168.1.7 fd00::/8")]).unwrap();
        let names: Vec<String> = c.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["10.0.0.0/8", "192.168.1.7/32", "fd00::/8"]);
        let bad = cfg(&[("HOOKBELL_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")]).err().unwrap();
        assert_eq!(bad.var, "HOOKBELL_TRUSTED_PROXIES");
        assert!(bad.message.contains("proxy.internal"), "{}", bad.message);
        assert!(cfg(&[("HOOKBELL_TRUSTED_PROXIES", "10.0.0.0/33")]).is_err());
    }

    #[test]
    fn metrics_settings_are_checked() {
        let c = cfg(&[]).unwrap();
        assert_eq!((c.metrics_token.as_deref(), c.metrics_addr), (None, None));
        assert_eq!(c.shutdown_grace, std::time::Duration::from_secs(20));
        assert_eq!(cfg(&[("HOOKBELL_METRICS_TOKEN", "short")]).err().map(|e| e.var), Some("HOOKBELL_METRICS_TOKEN"));
        assert!(cfg(&[("HOOKBELL_METRICS_TOKEN", "sixteen chars ok")]).is_err(), "a space");
        assert!(cfg(&[("HOOKBELL_METRICS_TOKEN", "0123456789abcdef")]).is_ok());
        assert_eq!(cfg(&[("HOOKBELL_METRICS_ADDR", "metrics")]).err().map(|e| e.var), Some("HOOKBELL_METRICS_ADDR"));
        let c = cfg(&[("HOOKBELL_METRICS_ADDR", "127.0.0.1:9464"), ("HOOKBELL_SHUTDOWN_GRACE_SECS", "0")]).unwrap();
        assert_eq!(c.metrics_addr, Some("127.0.0.1:9464".parse().unwrap()));
        assert!(c.shutdown_grace.is_zero());
        assert!(cfg(&[("HOOKBELL_SHUTDOWN_GRACE_SECS", "-1")]).is_err());
    }

    #[test]
    fn the_tenant_cache_lasts_ten_seconds_unless_set_and_can_be_turned_off() {
        assert_eq!(cfg(&[]).unwrap().tenant_cache_ttl, std::time::Duration::from_secs(10));
        assert!(cfg(&[("HOOKBELL_TENANT_CACHE_SECONDS", "0")]).unwrap().tenant_cache_ttl.is_zero());
        for bad in ["-1", "ten", "3601", "1.5"] {
            let refused = cfg(&[("HOOKBELL_TENANT_CACHE_SECONDS", bad)]).err().map(|e| e.var);
            assert_eq!(refused, Some("HOOKBELL_TENANT_CACHE_SECONDS"), "{bad}");
        }
    }

    #[test]
    fn a_short_snooze_is_for_development_only() {
        assert_eq!(cfg(&[]).unwrap().min_snooze, std::time::Duration::from_secs(60));
        let dev = cfg(&[("HOOKBELL_MIN_SNOOZE_SECS", "2")]).unwrap();
        assert_eq!(dev.min_snooze, std::time::Duration::from_secs(2));
        let prod = cfg(&[("HOOKBELL_MIN_SNOOZE_SECS", "2"), ("HOOKBELL_ENV", "production")]);
        assert_eq!(prod.err().map(|e| e.var), Some("HOOKBELL_MIN_SNOOZE_SECS"));
        assert!(cfg(&[("HOOKBELL_MIN_SNOOZE_SECS", "0")]).is_err());
        assert!(cfg(&[("HOOKBELL_SNOOZE_POLL_MS", "10")]).is_err());
    }

    #[test]
    fn a_forgotten_env_is_production_unless_only_this_machine_can_connect() {
        for addr in ["0.0.0.0:5000", "[::]:5000", "192.0.2.10:80"] {
            let c = cfg(&[("LEPTOS_SITE_ADDR", addr)]).unwrap();
            assert_eq!((c.mode, c.mode_reason), (Mode::Production, ModeReason::UnsetReachable), "{addr}");
        }
        for addr in ["127.0.0.1:5000", "[::1]:5000", "127.0.0.2:80"] {
            let c = cfg(&[("LEPTOS_SITE_ADDR", addr)]).unwrap();
            assert_eq!((c.mode, c.mode_reason), (Mode::Development, ModeReason::UnsetOnLoopback), "{addr}");
        }
        let c = cfg(&[("LEPTOS_SITE_ADDR", "0.0.0.0:5000"), ("HOOKBELL_ENV", "development")]).unwrap();
        assert_eq!((c.mode, c.mode_reason), (Mode::Development, ModeReason::Set));
        let c = cfg(&[("HOOKBELL_ENV", "production")]).unwrap();
        assert_eq!((c.mode, c.mode_reason), (Mode::Production, ModeReason::Set));
    }

    #[test]
    fn reads_overrides_and_rejects_bad_values() {
        let c = cfg(&[
            ("LEPTOS_SITE_ADDR", "0.0.0.0:8080"),
            ("HOOKBELL_ENV", "production"),
            ("DATABASE_PATH", "/tmp/x.db"),
        ])
        .unwrap();
        assert_eq!(c.site_addr.port(), 8080);
        assert_eq!(c.mode, Mode::Production);
        assert!(cfg(&[("LEPTOS_SITE_ADDR", "nope")]).is_err());
        assert!(cfg(&[("HOOKBELL_ENV", "staging")]).is_err());
        assert!(cfg(&[("HOOKBELL_MAX_BODY_BYTES", "12")]).is_err());
    }

    #[test]
    fn the_write_concern_is_majority_or_a_node_count() {
        assert_eq!(cfg(&[]).unwrap().mongodb_write_concern, WriteConcernSetting::Majority);
        let c = cfg(&[("MONGODB_WRITE_CONCERN", " majority ")]).unwrap();
        assert_eq!(c.mongodb_write_concern, WriteConcernSetting::Majority);
        let c = cfg(&[("MONGODB_WRITE_CONCERN", "2")]).unwrap();
        assert_eq!(c.mongodb_write_concern, WriteConcernSetting::Nodes(2));
        let e = cfg(&[("MONGODB_WRITE_CONCERN", "most")]).err().unwrap();
        assert_eq!(e.var, "MONGODB_WRITE_CONCERN");
        assert_eq!(WriteConcernSetting::parse(Some("-1")).unwrap_err(), "expected majority or a number, got \"-1\"");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = cfg(&[("WEBHOOK_SECRET", "topsecret"), ("MONGODB_URI", "mongodb://u:pw@h/db")]).unwrap();
        let s = format!("{c:?}");
        assert!(!s.contains("topsecret") && !s.contains("pw@"), "{s}");
    }
}
