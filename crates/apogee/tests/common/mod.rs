//! `apogee serve` in a temporary directory on free ports, and helpers to run `apogee`
//! client commands against it, for the command-line tests.
#![allow(dead_code)]

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long any condition may take.
pub const WAIT: Duration = Duration::from_secs(20);

/// A port `p` such that `p` and `p - 2` (the broker's fast port) are free right now.
pub fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = probe.local_addr().expect("addr").port();
        drop(probe);
        if port > 1026 && std::net::TcpListener::bind(("0.0.0.0", port - 2)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair");
}

pub fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    probe.local_addr().expect("addr").port()
}

/// `apogee serve` in a temporary directory, stopped with SIGTERM when dropped.
pub struct Server {
    child: Child,
    /// The name server's address.
    pub namesrv: String,
    /// The broker's address.
    pub broker: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `apogee serve`.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let (namesrv_port, broker_port) = (free_port(), free_port_pair());
        let child = Command::new(env!("CARGO_BIN_EXE_apogee"))
            .arg("serve")
            .args([
                "--set",
                &format!("storePathRootDir={}", dir.path().display()),
            ])
            // The host disk is shared: never refuse writes because of its fill level.
            .args(["--set", "diskMaxUsedSpaceRatio=99"])
            .args(["--set", &format!("namesrvListenPort={namesrv_port}")])
            .args(["--set", &format!("listenPort={broker_port}")])
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn apogee serve");
        Self {
            child,
            namesrv: format!("127.0.0.1:{namesrv_port}"),
            broker: format!("127.0.0.1:{broker_port}"),
            _dir: dir,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// Runs `apogee ARGS -n NAMESRV`.
pub fn apogee(namesrv: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_apogee"))
        .args(args)
        .args(["-n", namesrv])
        .env_remove("NAMESRV_ADDR")
        .output()
        .expect("run apogee")
}

/// Runs a command that must succeed; returns its stdout.
pub fn ok(namesrv: &str, args: &[&str]) -> String {
    let out = apogee(namesrv, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "apogee {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Runs a command with `--json` that must succeed; returns the parsed output.
pub fn json(namesrv: &str, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let text = ok(namesrv, &args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
}

/// Re-runs `apogee ARGS --json` until `done` holds for its output.
pub fn json_until(namesrv: &str, args: &[&str], done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let mut all = args.to_vec();
        all.push("--json");
        let out = apogee(namesrv, &all);
        if out.status.success()
            && let Ok(value) = serde_json::from_slice::<Value>(&out.stdout)
            && done(&value)
        {
            return value;
        }
        assert!(Instant::now() < deadline, "apogee {args:?} never got there");
        std::thread::sleep(Duration::from_millis(50));
    }
}
