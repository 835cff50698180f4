//! The broker a benchmark measures: by default one it spawns itself (this executable running
//! `serve` on free ports with a fresh data directory), stopped with SIGTERM at the end;
//! otherwise one already running at `--broker ADDR`, optionally with `--broker-pid` for its
//! memory and CPU figures.

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rustix::process::{Pid, Signal, kill_process};

/// How long a spawned broker may take to open its store and listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a spawned broker may take to stop after SIGTERM (it flushes everything).
const STOP_TIMEOUT: Duration = Duration::from_secs(120);
/// How often the start and stop waits poll.
const POLL: Duration = Duration::from_millis(20);
/// Attempts at finding free ports and starting (another process may take a port between
/// the probe and the broker's bind).
const START_ATTEMPTS: usize = 3;

/// The broker's flush mode (`flushDiskType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum Flush {
    /// `ASYNC_FLUSH`: acknowledged once in the page cache.
    #[serde(rename = "ASYNC_FLUSH")]
    Async,
    /// `SYNC_FLUSH`: acknowledged once synced to disk (group commit).
    #[serde(rename = "SYNC_FLUSH")]
    Sync,
}

impl Flush {
    /// The `flushDiskType` value.
    #[must_use]
    pub fn setting(self) -> &'static str {
        match self {
            Flush::Async => "ASYNC_FLUSH",
            Flush::Sync => "SYNC_FLUSH",
        }
    }
}

/// A broker started by the benchmark: a child process with its own data directory, both
/// gone when it is stopped or dropped.
#[derive(Debug)]
pub struct SpawnedBroker {
    /// The `apogee serve` process.
    child: Child,
    /// The broker's `127.0.0.1:port`.
    addr: String,
    /// Holds the store (`store/`) and the broker's output (`broker.log`); removed when
    /// dropped, after [`Drop`] has made sure the process is gone.
    _data: tempfile::TempDir,
}

impl SpawnedBroker {
    /// Starts `apogee serve` with a fresh directory under `parent`, `flush` and `settings`
    /// (extra `KEY=VALUE`s), and waits until the broker port accepts connections.
    ///
    /// # Errors
    /// If the directory or process cannot be made, or the broker exits or never listens.
    pub fn start(parent: &Path, flush: Flush, settings: &[String]) -> Result<Self> {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the bench directory {}", parent.display()))?;
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            let data = tempfile::Builder::new()
                .prefix("apogee-bench-")
                .tempdir_in(parent)
                .with_context(|| format!("cannot create a directory in {}", parent.display()))?;
            match Self::start_in(data, flush, settings) {
                Ok(broker) => return Ok(broker),
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("the broker did not start")))
    }

    /// One attempt at [`SpawnedBroker::start`] in `data`.
    fn start_in(data: tempfile::TempDir, flush: Flush, settings: &[String]) -> Result<Self> {
        let exe = std::env::current_exe().context("cannot find this executable")?;
        let (namesrv_port, broker_port) = (free_port()?, free_port_pair()?);
        let log_path = data.path().join("broker.log");
        let log = File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let log_err = log.try_clone().context("cannot share the broker log")?;
        let store = data.path().join("store");
        let mut command = Command::new(exe);
        command
            .arg("serve")
            .args(["--set", &format!("storePathRootDir={}", store.display())])
            .args(["--set", &format!("namesrvListenPort={namesrv_port}")])
            .args(["--set", &format!("listenPort={broker_port}")])
            .args(["--set", &format!("flushDiskType={}", flush.setting())])
            // The bench store is temporary and the machine's disk may be shared and fuller
            // than RocketMQ's 75% default allows; --broker-set can still lower this.
            .args(["--set", "diskMaxUsedSpaceRatio=95"]);
        for setting in settings {
            command.args(["--set", setting]);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .context("cannot start `apogee serve`")?;
        let mut broker = Self {
            child,
            addr: format!("127.0.0.1:{broker_port}"),
            _data: data,
        };
        broker.wait_listening(&log_path)?;
        Ok(broker)
    }

    /// Waits until the broker port accepts a connection; fails with the log's tail if the
    /// process exits first or takes too long.
    fn wait_listening(&mut self, log_path: &Path) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().context("cannot poll the broker")? {
                bail!(
                    "the spawned broker exited with {status} before listening; its output:\n{}",
                    log_tail(log_path)
                );
            }
            if TcpStream::connect(&self.addr).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "the spawned broker did not listen on {} within {} s; its output:\n{}",
                    self.addr,
                    START_TIMEOUT.as_secs(),
                    log_tail(log_path)
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// The broker's address, `127.0.0.1:port`.
    #[must_use]
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The broker's process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the broker with SIGTERM and waits for it to exit (SIGKILL after a timeout);
    /// the data directory is removed.
    ///
    /// # Errors
    /// If the signal cannot be sent or the broker did not exit cleanly.
    pub fn stop(mut self) -> Result<()> {
        let outcome = self.terminate();
        drop(self);
        outcome
    }

    /// SIGTERM, then wait up to [`STOP_TIMEOUT`], then SIGKILL.
    fn terminate(&mut self) -> Result<()> {
        if self.child.try_wait().ok().flatten().is_some() {
            return Ok(());
        }
        let raw = i32::try_from(self.child.id()).context("pid out of range")?;
        let pid = Pid::from_raw(raw).context("pid out of range")?;
        kill_process(pid, Signal::TERM).context("cannot send SIGTERM to the broker")?;
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .try_wait()
                .context("cannot wait for the broker")?
            {
                if status.success() {
                    return Ok(());
                }
                bail!("the spawned broker exited with {status} after SIGTERM");
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!(
                    "the spawned broker did not stop within {} s of SIGTERM; killed",
                    STOP_TIMEOUT.as_secs()
                );
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for SpawnedBroker {
    /// Never leaves the child behind: SIGKILL if it still runs (an error path).
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The last lines of the broker's log, for an error message.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A TCP port free on 127.0.0.1 right now.
fn free_port() -> Result<u16> {
    let probe = TcpListener::bind("127.0.0.1:0").context("cannot bind a probe socket")?;
    Ok(probe.local_addr().context("probe socket address")?.port())
}

/// A port `p` such that `p` and `p - 2` (the broker's fast port) are free right now.
fn free_port_pair() -> Result<u16> {
    for _ in 0..100 {
        let port = free_port()?;
        if port > 1026 && TcpListener::bind(("0.0.0.0", port - 2)).is_ok() {
            return Ok(port);
        }
    }
    bail!("found no free pair of ports (p, p - 2) for the broker")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flush modes map to RocketMQ's setting values.
    #[test]
    fn flush_settings() {
        assert_eq!(Flush::Async.setting(), "ASYNC_FLUSH");
        assert_eq!(Flush::Sync.setting(), "SYNC_FLUSH");
    }

    /// Free port pairs leave room for the fast port.
    #[test]
    fn port_pair_is_free() {
        let port = free_port_pair().expect("pair");
        assert!(port > 1026);
    }
}
