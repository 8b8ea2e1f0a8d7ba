//! What the benchmarks that drive the real `server` binary share: starting
//! it on a fresh SQLite file with a tenant made by its CLI, and reading its
//! memory.

use std::{
    net::SocketAddr,
    path::Path,
    process::{Child, Command, Stdio},
};

use serde_json::Value;

/// The server process, killed when dropped.
pub struct ServerProcess(pub Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `server` binary on the database `db`, logging at `log`.
pub fn server_command(db: &Path, log: &str) -> Command {
    configure(Command::new(env!("CARGO_BIN_EXE_server")), db, log)
}

/// `HOOKBELL_BENCH_MONGODB_URI`: run on MongoDB (SecantusDB) instead of a SQLite file.
pub fn mongodb_uri() -> Option<String> {
    std::env::var("HOOKBELL_BENCH_MONGODB_URI").ok().filter(|u| !u.is_empty())
}

/// The token the benchmarks read `/metrics` with.
pub const METRICS_TOKEN: &str = "bench-metrics-token-0123456789";

fn configure(mut cmd: Command, db: &Path, log: &str) -> Command {
    cmd.env("DATABASE_PATH", db).env("RUST_LOG", log).env_remove("HOOKBELL_ENV");
    cmd.env("HOOKBELL_METRICS_TOKEN", METRICS_TOKEN);
    match mongodb_uri() {
        Some(uri) => cmd.env("MONGODB_URI", uri),
        None => cmd.env_remove("MONGODB_URI"),
    };
    cmd
}

/// `server tenant create` on `db`: its JSON (tenantId, webhookSecret, apiKey, …).
pub fn create_tenant(db: &Path, name: &str) -> Value {
    let out = server_command(db, "warn").args(["tenant", "create", "--name", name]).output().expect("tenant create");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("tenant JSON")
}

/// `program` run under `HOOKBELL_BENCH_WRAPPER` when it is set (e.g.
/// `heaptrack -o /tmp/hookbell` for a profile, `taskset -c 1` to pin it to a
/// core); memory figures then include the wrapper's own.
pub fn wrapped(program: &str) -> Command {
    match std::env::var("HOOKBELL_BENCH_WRAPPER") {
        Ok(wrapper) if !wrapper.trim().is_empty() => {
            let mut words = wrapper.split_whitespace();
            let mut cmd = Command::new(words.next().unwrap_or_default());
            cmd.args(words).arg(program);
            cmd
        }
        _ => Command::new(program),
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts the server on a free loopback port with the per-tenant rate limit
/// off and no cap on one caller's sockets (every benchmark client uses the
/// tenant's one API key), under `HOOKBELL_BENCH_WRAPPER` (see [`wrapped`]).
pub fn start_server(db: &Path, log: &str, stderr: Stdio) -> (ServerProcess, SocketAddr) {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = configure(wrapped(env!("CARGO_BIN_EXE_server")), db, log)
        .env("LEPTOS_SITE_ADDR", addr.to_string())
        .env("HOOKBELL_WEBHOOK_RATE", "0")
        .env("HOOKBELL_MAX_SOCKETS_PER_PRINCIPAL", "1000000")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start the server");
    (ServerProcess(child), addr)
}

/// A field of `/proc/<pid>/status` in KiB (`VmRSS:`, `VmHWM:`).
pub fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}
