//! `apogee serve` as a real process: it starts a name server and a broker, the broker's
//! template topic becomes routable, SIGTERM stops it cleanly, and a bad setting stops
//! startup with a message naming the key.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use apogee_protocol::header::{CommandHeader, GetRouteInfoRequestHeader};
use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::{request, response};
use apogee_remoting::{NoRequests, RemotingClient, RemotingConfig};

/// A port `p` such that `p` and `p - 2` (the broker's fast port) are free right now.
fn free_port_pair() -> u16 {
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

fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    probe.local_addr().expect("addr").port()
}

/// Serve starts, routes the template topic, and stops cleanly on SIGTERM.
#[test]
fn serve_runs_and_stops_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (namesrv_port, broker_port) = (free_port(), free_port_pair());
    let mut child = Command::new(env!("CARGO_BIN_EXE_apogee"))
        .arg("serve")
        .args([
            "--set",
            &format!("storePathRootDir={}", dir.path().display()),
        ])
        .args(["--set", &format!("namesrvListenPort={namesrv_port}")])
        .args(["--set", &format!("listenPort={broker_port}")])
        .args(["--set", "flushDiskType=SYNC_FLUSH"])
        // The host disk is shared: never refuse writes because of its fill level.
        .args(["--set", "diskMaxUsedSpaceRatio=99"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn apogee serve");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let routed = rt.block_on(async {
        let client = RemotingClient::new(RemotingConfig::default(), Arc::new(NoRequests));
        let addr = format!("127.0.0.1:{namesrv_port}");
        for _ in 0..300 {
            let header = GetRouteInfoRequestHeader {
                topic: "TBW102".into(),
                accept_standard_json_only: None,
            };
            let req = RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC, header.to_ext());
            if let Ok(r) = client.invoke(&addr, req, Duration::from_secs(2)).await {
                if r.code == response::SUCCESS {
                    client.shutdown().await;
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    });
    // SIGTERM, as a service manager stops it.
    let pid = child.id() as i32;
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let status = child.wait().expect("wait");
    assert!(
        routed,
        "the broker never registered with the embedded name server"
    );
    assert!(status.success(), "exit status {status}");
    assert!(dir.path().join("commitlog").is_dir());
    assert!(!dir.path().join("abort").exists(), "clean shutdown marker");
}

/// An unknown key stops startup, naming the key and the likely intended one.
#[test]
fn unknown_setting_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_apogee"))
        .args(["serve", "--set", "flushDiskTyp=SYNC_FLUSH"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("flushDiskTyp"), "{stderr}");
    assert!(stderr.contains("flushDiskType"), "{stderr}");
}
