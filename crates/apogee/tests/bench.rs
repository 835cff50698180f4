//! `apogee bench produce|consume|limits` as real processes: a produce against a spawned
//! broker followed by a consume of exactly what was sent, a produce and a separate consume
//! against a running `apogee serve`, and the loopback round trip in `bench limits --json`.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Runs `apogee` with `args`, asserts success, and parses stdout as one JSON object.
fn run_json(args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_apogee"))
        .args(args)
        .output()
        .expect("run apogee");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "apogee {args:?} failed: {}\nstdout: {stdout}\nstderr: {stderr}",
        output.status
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// `value[key]` as u64, or a panic naming the key.
fn u64_at(value: &Value, key: &str) -> u64 {
    value[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key}: {value}"))
}

/// Asserts a produce figure set: `count` acknowledged, no errors, positive rate, latencies.
fn assert_produced(produce: &Value, count: u64) {
    assert_eq!(u64_at(produce, "messages"), count, "{produce}");
    assert_eq!(u64_at(produce, "errors"), 0, "{produce}");
    assert!(
        produce["msgs_per_s"].as_f64().unwrap_or(0.0) > 0.0,
        "{produce}"
    );
    let latency = &produce["latency_us"];
    assert!(latency["p50"].as_f64().unwrap_or(0.0) > 0.0, "{produce}");
    assert!(
        latency["p50"].as_f64() <= latency["max"].as_f64(),
        "{produce}"
    );
}

/// Asserts a consume figure set: `count` pulled, matching, no errors.
fn assert_consumed(consume: &Value, count: u64) {
    assert_eq!(u64_at(consume, "messages"), count, "{consume}");
    assert_eq!(u64_at(consume, "expected"), count, "{consume}");
    assert_eq!(consume["count_matches"], Value::Bool(true), "{consume}");
    assert_eq!(u64_at(consume, "errors"), 0, "{consume}");
}

/// Produce 200 messages with 2 senders against a spawned broker, then consume them back.
#[test]
fn produce_then_consume_with_spawned_broker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_arg = dir.path().display().to_string();
    let report = run_json(&[
        "bench",
        "produce",
        "--count",
        "200",
        "-c",
        "2",
        "--then-consume",
        "--json",
        "--dir",
        &dir_arg,
    ]);
    assert_eq!(report["target"], "spawned", "{report}");
    assert_produced(&report["produce"], 200);
    assert_consumed(&report["consume"], 200);
    let broker = &report["produce"]["broker"];
    assert!(u64_at(broker, "rss_peak_kib") > 0, "{report}");
    assert!(report["limits"]["rtt"]["mean_us"].as_f64().unwrap_or(0.0) > 0.0);
    assert!(report["limits"]["fsync_4k_mean_us"].as_f64().unwrap_or(0.0) > 0.0);
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("read_dir").collect();
    assert!(
        left.is_empty(),
        "the spawned broker's data was left: {left:?}"
    );
}

/// A running `apogee serve` stopped with SIGTERM when dropped.
struct Serve {
    child: Child,
    addr: String,
}

impl Serve {
    fn start(dir: &Path) -> Self {
        let namesrv_port = free_port();
        let broker_port = free_port_pair();
        let child = Command::new(env!("CARGO_BIN_EXE_apogee"))
            .arg("serve")
            .args(["--set", &format!("storePathRootDir={}", dir.display())])
            .args(["--set", &format!("namesrvListenPort={namesrv_port}")])
            .args(["--set", &format!("listenPort={broker_port}")])
            // The host disk is shared: never refuse writes because of its fill level.
            .args(["--set", "diskMaxUsedSpaceRatio=99"])
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn apogee serve");
        let addr = format!("127.0.0.1:{broker_port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "apogee serve did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, addr }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32).expect("pid");
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let probe = TcpListener::bind("127.0.0.1:0").expect("bind");
    probe.local_addr().expect("addr").port()
}

/// A port `p` such that `p` and `p - 2` (the broker's fast port) are free right now.
fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let port = free_port();
        if port > 1026 && TcpListener::bind(("0.0.0.0", port - 2)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair");
}

/// Async produce against a running broker, then `bench consume` drains exactly that.
#[test]
fn produce_and_consume_against_running_broker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let serve = Serve::start(&dir.path().join("store"));
    let pid = serve.child.id().to_string();
    let probe_dir = dir.path().join("probe").display().to_string();
    let report = run_json(&[
        "bench",
        "produce",
        "--broker",
        &serve.addr,
        "--broker-pid",
        &pid,
        "--count",
        "300",
        "-c",
        "2",
        "--mode",
        "async",
        "--inflight",
        "8",
        "--topic",
        "BenchExternal",
        "--queues",
        "4",
        "--json",
        "--dir",
        &probe_dir,
    ]);
    assert_eq!(report["target"], "external", "{report}");
    assert_produced(&report["produce"], 300);
    assert!(report["produce"]["broker"]["cpu_us_per_msg"].is_number());
    let consumed = run_json(&[
        "bench",
        "consume",
        "--broker",
        &serve.addr,
        "--broker-pid",
        &pid,
        "--topic",
        "BenchExternal",
        "--expect",
        "300",
        "--json",
    ]);
    assert_consumed(&consumed["consume"], 300);
}

/// `bench limits --json` reports a positive loopback round trip.
#[test]
fn limits_report_loopback_rtt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_arg = dir.path().display().to_string();
    let limits = run_json(&[
        "bench",
        "limits",
        "--json",
        "--buffered-bytes",
        "1M",
        "--dir",
        &dir_arg,
    ]);
    let rtt = limits["loopback_rtt_us"].as_f64().expect("loopback_rtt_us");
    let p99 = limits["loopback_rtt_p99_us"].as_f64().expect("p99");
    assert!(rtt > 0.0 && rtt.is_finite() && p99 > 0.0, "{limits}");
}
