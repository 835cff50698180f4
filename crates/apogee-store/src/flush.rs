//! Commit-log flushing: group commit for SYNC_FLUSH, periodic flushing for ASYNC_FLUSH.
//!
//! One thread owns flushing. With SYNC_FLUSH it flushes as soon as anything is unflushed:
//! while one `msync` runs, later appends accumulate, and the next `msync` covers them all, so
//! concurrent senders share syncs (group commit) without a batching timer. With ASYNC_FLUSH it
//! wakes every `flushIntervalCommitLog` and flushes once `flushCommitLogLeastPages` pages are
//! dirty, or whatever is dirty after `flushCommitLogThoroughInterval`.
//!
//! Senders that must wait register in [`FlushControl::waiters`] (see
//! [`crate::flush_waiters`]) and are woken by the flush that covers their record, or give up
//! after `syncFlushTimeout` (FLUSH_DISK_TIMEOUT: the message is stored but not yet known to be
//! on disk). [`FlushState`] carries the flusher's statistics and its failure, if any.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::commit_log::CommitLog;
use crate::config::{FlushDiskType, StoreConfig};
use crate::doorbell::Doorbell;
use crate::error::{Result, StoreError};
use crate::flush_waiters::FlushWaiters;

/// Bytes per page when counting dirty pages (RocketMQ's `OS_PAGE_SIZE`).
pub const PAGE_BYTES: u64 = 4096;

/// What the flusher has achieved so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlushState {
    /// Set once a flush failed; no later flush is attempted and senders get an error.
    pub failed: Option<String>,
    /// Flushes done so far (each one `msync` per touched segment); with SYNC_FLUSH,
    /// appends divided by this is the group-commit batch size.
    pub flushes: u64,
    /// Total time spent in those flushes, µs.
    pub flush_micros: u64,
}

/// Shared between the flush thread, the store and shutdown.
#[derive(Debug)]
pub struct FlushControl {
    /// Broadcasts progress to waiting senders.
    pub state: watch::Sender<FlushState>,
    /// Set to stop the thread after a final flush.
    pub stop: AtomicBool,
    /// Rung to interrupt the ASYNC_FLUSH sleep (shutdown).
    pub wake: Doorbell,
    /// Puts waiting for a flush, woken when one covers them.
    pub waiters: FlushWaiters,
    /// Puts that will wait for a flush, counted before they append (monotonic). The SYNC_FLUSH
    /// flusher uses it to gather a whole group before syncing.
    pub waiting_puts: AtomicU64,
}

impl FlushControl {
    /// A control over a log durable up to `flushed`.
    #[must_use]
    pub fn new(flushed: u64) -> Self {
        let (state, _) = watch::channel(FlushState {
            failed: None,
            flushes: 0,
            flush_micros: 0,
        });
        Self {
            state,
            stop: AtomicBool::new(false),
            wake: Doorbell::default(),
            waiters: FlushWaiters::new(flushed),
            waiting_puts: AtomicU64::new(0),
        }
    }
}

/// Starts the flush thread.
///
/// # Errors
/// [`StoreError::Io`] if the thread cannot be spawned.
pub fn spawn(
    log: Arc<CommitLog>,
    appended: Arc<Doorbell>,
    control: Arc<FlushControl>,
    config: &StoreConfig,
) -> Result<JoinHandle<()>> {
    let mode = config.flush_disk_type;
    let interval = Duration::from_millis(config.flush_interval_commit_log);
    let thorough = Duration::from_millis(config.flush_commit_log_thorough_interval);
    let least_bytes = config.flush_commit_log_least_pages as u64 * PAGE_BYTES;
    let dir = log.dir().to_path_buf();
    std::thread::Builder::new()
        .name("apogee-flush".into())
        .spawn(move || {
            // However the thread ends (stop, flush error, or a panic on a broken invariant),
            // waiting puts are released with an error instead of timing out one by one.
            let _release = CloseWaitersOnExit(&control);
            match mode {
                FlushDiskType::SyncFlush => run_sync(&log, &appended, &control),
                FlushDiskType::AsyncFlush => {
                    run_async(&log, &control, interval, thorough, least_bytes);
                }
            }
        })
        .map_err(|e| StoreError::io("spawn flush thread", dir, e))
}

/// Closes the flush waiters when dropped.
struct CloseWaitersOnExit<'a>(&'a FlushControl);

impl Drop for CloseWaitersOnExit<'_> {
    fn drop(&mut self) {
        self.0.waiters.close();
    }
}

/// Flushes to the published position and broadcasts the result; false once flushing failed.
fn flush_and_publish(log: &CommitLog, control: &FlushControl) -> bool {
    let target = log.published();
    let started = Instant::now();
    match log.flush_to(target) {
        Ok(()) => {
            let micros = started.elapsed().as_micros() as u64;
            let flushed = log.flushed();
            control.waiters.release(flushed);
            control.state.send_modify(|s| {
                s.flushes += 1;
                s.flush_micros += micros;
            });
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "commit-log flush failed; refusing further writes");
            control.waiters.fail(&e.to_string());
            control
                .state
                .send_modify(|s| s.failed = Some(e.to_string()));
            false
        }
    }
}

/// Longest the SYNC_FLUSH flusher waits to gather a group before syncing. Bounded well below
/// one sync (~150 µs here) so that gathering can only add a fraction of a sync to latency.
pub const GROUP_GATHER_MAX: Duration = Duration::from_micros(100);

fn run_sync(log: &CommitLog, appended: &Doorbell, control: &FlushControl) {
    /// Upper bound on one idle wait; the loop re-checks the stop flag this often.
    const IDLE_WAIT: Duration = Duration::from_millis(100);
    let mut group = Group::default();
    loop {
        let seen = appended.seq();
        if log.published() > log.flushed() {
            group.gather(appended, control);
            let started = Instant::now();
            if !flush_and_publish(log, control) {
                return;
            }
            group.last_sync = started.elapsed();
            continue;
        }
        if control.stop.load(Ordering::Acquire) {
            return;
        }
        // No spinning for the next append: over the network the next put is a round trip
        // away, and a spin only burns the CPU the sender and the reader need (measured: 50 µs
        // of spin cost 40 µs of broker CPU per message with one SYNC_FLUSH sender).
        appended.wait(seen, IDLE_WAIT);
    }
}

/// Group-commit gathering. A flush releases the senders it covers; if they start their next
/// put at once, the flusher would sync again with only the few that came in meanwhile, and
/// groups would split in two that alternate. So when the last group had several senders, the
/// flusher waits (at most half a sync, at most [`GROUP_GATHER_MAX`]) until as many new
/// waiting puts have arrived. A lone sender never waits: its group has one member.
#[derive(Debug, Default)]
struct Group {
    /// `waiting_puts` when the last flush started.
    mark: u64,
    /// Waiting puts covered by the last flush.
    size: u64,
    /// How long the last flush took.
    last_sync: Duration,
}

impl Group {
    fn gather(&mut self, appended: &Doorbell, control: &FlushControl) {
        if self.size >= 2 {
            let deadline = Instant::now() + (self.last_sync / 2).min(GROUP_GATHER_MAX);
            loop {
                let seen = appended.seq();
                let arrived = control.waiting_puts.load(Ordering::Acquire) - self.mark;
                let now = Instant::now();
                if arrived >= self.size || now >= deadline {
                    break;
                }
                appended.wait(seen, deadline - now);
            }
        }
        let mark = control.waiting_puts.load(Ordering::Acquire);
        self.size = mark - self.mark;
        self.mark = mark;
    }
}

fn run_async(
    log: &CommitLog,
    control: &FlushControl,
    interval: Duration,
    thorough: Duration,
    least_bytes: u64,
) {
    let mut last_flush = Instant::now();
    loop {
        let seen = control.wake.seq();
        let stopping = control.stop.load(Ordering::Acquire);
        let dirty = log.published() - log.flushed();
        let due = dirty >= least_bytes || (dirty > 0 && last_flush.elapsed() >= thorough);
        if stopping || due {
            if !flush_and_publish(log, control) {
                return;
            }
            last_flush = Instant::now();
        }
        if stopping {
            return;
        }
        control.wake.wait(seen, interval);
    }
}
