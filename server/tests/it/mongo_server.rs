//! A real MongoDB wire-protocol server for tests: SecantusDB, installed by
//! `scripts/setup.sh --test` into `.venv/`, started once per test binary on a
//! free port. A shell watchdog stops it when the test process exits.

use std::{
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

fn secantus_bin() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/secantusd-py");
    assert!(bin.exists(), "{} is missing: run scripts/setup.sh --test (it installs SecantusDB)", bin.display());
    bin
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "SecantusDB did not listen on port {port} within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A SecantusDB of one test's own, stopped on drop (or earlier, with `kill`).
pub struct DedicatedMongo {
    pub uri: String,
    child: std::process::Child,
}

impl DedicatedMongo {
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(secantus_bin())
            .args(["--port", &port.to_string(), "--storage-path", ":memory:"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start SecantusDB");
        wait_for_port(port);
        DedicatedMongo { uri: format!("mongodb://127.0.0.1:{port}"), child }
    }

    /// Stops the server now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DedicatedMongo {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `mongodb://127.0.0.1:PORT` of the shared server (started on first use).
pub fn mongo_base_uri() -> &'static str {
    static URI: OnceLock<String> = OnceLock::new();
    URI.get_or_init(start)
}

fn start() -> String {
    if let Ok(uri) = std::env::var("HOOKBELL_TEST_MONGODB_URI") {
        return uri;
    }
    let bin = secantus_bin();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let test_pid = std::process::id();
    // The watchdog shell outlives nothing: it kills the server once this test process is gone.
    let script = format!(
        "\"$0\" --port {port} --storage-path :memory: >/dev/null 2>&1 & srv=$!; \
         while kill -0 {test_pid} 2>/dev/null && kill -0 $srv 2>/dev/null; do sleep 0.5; done; kill $srv 2>/dev/null"
    );
    let mut watchdog = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(&bin)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start SecantusDB");
    // Reap the watchdog when it ends (after this process, in practice).
    std::thread::spawn(move || watchdog.wait());
    wait_for_port(port);
    format!("mongodb://127.0.0.1:{port}")
}

/// A URI for a database of its own.
pub fn fresh_mongo_uri() -> String {
    format!("{}/hookbell_test_{}", mongo_base_uri(), server::ids::new_id::<String>())
}
