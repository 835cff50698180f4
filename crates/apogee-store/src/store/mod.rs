//! [`MessageStore`]: the store's public face. Opening runs recovery and starts the flush,
//! dispatch and housekeeping threads; shutdown stops them in order and leaves a clean marker.
//!
//! - `put.rs`: appends (single and batch) and the SYNC_FLUSH wait.
//! - `get.rs`: reads by queue offset, offsets, search by time, lookups by key and offset.
//! - `housekeeping.rs`: the periodic thread: derived-file flushes, checkpoint, disk check,
//!   retention.

mod get;
mod housekeeping;
mod put;
mod verify;

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;

use parking_lot::Mutex;

use crate::checkpoint::{Checkpoint, CheckpointFile};
use crate::commit_log::CommitLog;
use crate::commit_log::allocator::SegmentAllocator;
use crate::config::StoreConfig;
use crate::consume_queue::ConsumeQueueTable;
use crate::dispatch::{self, Dispatcher};
use crate::doorbell::Doorbell;
use crate::error::{Result, StoreError};
use crate::flush::{self, FlushControl};
use crate::index::IndexService;
use crate::mapped_file::sync_dir;
use crate::recovery::{self, RecoveryReport};

pub use housekeeping::RetentionReport;

/// File whose presence at startup means the previous run did not shut down cleanly.
const ABORT_FILE: &str = "abort";
/// File locked (flock) for as long as a store has the directory open.
const LOCK_FILE: &str = "lock";
/// The checkpoint file.
const CHECKPOINT_FILE: &str = "checkpoint";

/// State shared by the store handle and its threads.
#[derive(Debug)]
pub(crate) struct Inner {
    config: StoreConfig,
    root: PathBuf,
    log: Arc<CommitLog>,
    queues: Arc<ConsumeQueueTable>,
    index: Option<Arc<IndexService>>,
    dispatcher: Arc<Dispatcher>,
    flush: Arc<FlushControl>,
    appended: Arc<Doorbell>,
    checkpoint: Mutex<CheckpointFile>,
    housekeeping_stop: AtomicBool,
    housekeeping_wake: Doorbell,
    /// Whether disk usage is above `diskMaxUsedSpaceRatio` (writes refused).
    disk_full: AtomicBool,
    /// Last measured disk usage, percent.
    disk_used_percent: AtomicU32,
    /// Set by a background thread that hit a fatal error.
    fatal: Mutex<Option<String>>,
    closed: AtomicBool,
    /// Held (flock) while the store is open; released by shutdown.
    lock: Mutex<Option<File>>,
}

/// The message store. Cheap to share behind an `Arc`; all methods take `&self`.
#[derive(Debug)]
pub struct MessageStore {
    inner: Arc<Inner>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    recovery: RecoveryReport,
}

/// Positions of the store, for monitoring and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Positions {
    /// First commit-log offset still stored.
    pub min_offset: u64,
    /// End of the last complete record.
    pub published: u64,
    /// How far the commit log is on disk.
    pub flushed: u64,
    /// How far consume queues and index are built.
    pub dispatched: u64,
    /// Commit-log flushes since the store opened.
    pub flushes: u64,
    /// Time spent in those flushes, µs.
    pub flush_micros: u64,
}

impl MessageStore {
    /// Opens the store at `config.store_path_root_dir`, recovering from whatever state the
    /// previous run left, and starts its threads.
    ///
    /// # Errors
    /// Invalid configuration, a directory locked by another process, corruption recovery
    /// cannot repair, or I/O errors.
    pub fn open(config: StoreConfig) -> Result<Self> {
        config.validate()?;
        let root = config.store_path_root_dir.clone();
        std::fs::create_dir_all(&root).map_err(|e| StoreError::io("mkdir", &root, e))?;
        let lock = lock_dir(&root)?;
        let abort = root.join(ABORT_FILE);
        let clean = !abort.exists();
        let (checkpoint_file, checkpoint) = CheckpointFile::open(&root.join(CHECKPOINT_FILE))?;

        let appended = Arc::new(Doorbell::default());
        let log = Arc::new(CommitLog::open(
            &config.commit_log_dir(),
            config.mapped_file_size_commit_log,
            appended.clone(),
        )?);
        let queues = Arc::new(ConsumeQueueTable::load(
            &config.consume_queue_dir(),
            config.mapped_file_size_consume_queue,
        )?);
        let index = if config.message_index_enable {
            let svc = IndexService::open(
                &config.index_dir(),
                config.max_hash_slot_num,
                config.max_index_num,
            )?;
            Some(Arc::new(svc))
        } else {
            None
        };
        let dispatcher = Arc::new(Dispatcher::new(
            log.clone(),
            queues.clone(),
            index.clone(),
            0,
        ));
        let report = recovery::recover(
            &log,
            &queues,
            index.as_ref(),
            &dispatcher,
            checkpoint,
            clean,
        )?;
        dispatcher.start_at(report.log_end);
        let log_min = log.min_offset();
        for cq in queues.all() {
            cq.delete_below(log_min)?;
        }
        tracing::info!(?report, "store recovered");

        std::fs::write(&abort, b"").map_err(|e| StoreError::io("create", &abort, e))?;
        sync_dir(&root)?;
        let inner = Arc::new(Inner {
            flush: Arc::new(FlushControl::new(log.flushed())),
            config,
            root,
            log,
            queues,
            index,
            dispatcher,
            appended,
            checkpoint: Mutex::new(checkpoint_file),
            housekeeping_stop: AtomicBool::new(false),
            housekeeping_wake: Doorbell::default(),
            disk_full: AtomicBool::new(false),
            disk_used_percent: AtomicU32::new(0),
            fatal: Mutex::new(None),
            closed: AtomicBool::new(false),
            lock: Mutex::new(Some(lock)),
        });
        inner.checkpoint_now()?;
        inner.check_disk();
        let threads = start_threads(&inner)?;
        Ok(Self {
            inner,
            threads: Mutex::new(threads),
            recovery: report,
        })
    }

    /// What recovery found when this store was opened.
    #[must_use]
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.recovery
    }

    /// The configuration the store runs with.
    #[must_use]
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    /// Current positions.
    #[must_use]
    pub fn positions(&self) -> Positions {
        Positions {
            min_offset: self.inner.log.min_offset(),
            published: self.inner.log.published(),
            flushed: self.inner.log.flushed(),
            dispatched: self.inner.dispatcher.dispatched(),
            flushes: self.inner.flush.state.borrow().flushes,
            flush_micros: self.inner.flush.state.borrow().flush_micros,
        }
    }

    /// A receiver that changes whenever new records become readable through consume queues
    /// (its value is the dispatched commit-log offset); long polling waits on it.
    #[must_use]
    pub fn subscribe_arrivals(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.dispatcher.subscribe()
    }

    /// Flushes everything and stops the store's threads; later writes fail with
    /// [`StoreError::ShutDown`]. Leaves the clean-shutdown marker. Idempotent.
    ///
    /// # Errors
    /// The first error from the final flushes (the store is stopped regardless).
    pub fn shutdown(&self) -> Result<()> {
        let threads = std::mem::take(&mut *self.threads.lock());
        if threads.is_empty() {
            return Ok(());
        }
        let inner = &self.inner;
        inner.log.close();
        inner.closed.store(true, Ordering::Release);
        // Stop order: housekeeping (no more periodic work), flusher (final flush), dispatcher
        // (catches up to the end); then one last derived flush and checkpoint from here.
        inner.housekeeping_stop.store(true, Ordering::Release);
        inner.housekeeping_wake.ring();
        inner.flush.stop.store(true, Ordering::Release);
        inner.flush.wake.ring();
        inner.dispatcher.request_stop();
        inner.appended.ring();
        for handle in threads {
            if handle.join().is_err() {
                tracing::error!("a store thread panicked");
            }
        }
        if let Some(reason) = inner.fatal.lock().clone() {
            return Err(StoreError::Poisoned(reason));
        }
        if inner.log.flushed() < inner.log.published() {
            inner.log.flush_to(inner.log.published())?;
        }
        inner.checkpoint_now()?;
        let abort = inner.root.join(ABORT_FILE);
        std::fs::remove_file(&abort).map_err(|e| StoreError::io("delete", &abort, e))?;
        sync_dir(&inner.root)?;
        // Another process (or a restarted broker in this one) may now open the directory.
        inner.lock.lock().take();
        Ok(())
    }
}

impl Drop for MessageStore {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!(error = %e, "store shutdown failed");
        }
    }
}

impl Inner {
    /// Flushes consume queues and index, then records what is durable in the checkpoint.
    fn checkpoint_now(&self) -> Result<()> {
        let dispatched = self.dispatcher.dispatched();
        self.queues.flush()?;
        if let Some(index) = &self.index {
            index.flush()?;
        }
        let checkpoint = Checkpoint {
            commit_log_flushed: self.log.flushed(),
            dispatch_flushed: dispatched,
        };
        self.checkpoint.lock().write(checkpoint)
    }

    fn set_fatal(&self, error: &StoreError) {
        let mut fatal = self.fatal.lock();
        if fatal.is_none() {
            *fatal = Some(error.to_string());
        }
    }

    /// Refuses writes when the store is closed, poisoned or the disk is over its limit.
    fn check_writable(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::ShutDown);
        }
        if let Some(reason) = self.fatal.lock().clone() {
            return Err(StoreError::Poisoned(reason));
        }
        if let Some(reason) = self.flush.state.borrow().failed.clone() {
            return Err(StoreError::Poisoned(reason));
        }
        if self.disk_full.load(Ordering::Acquire) {
            return Err(StoreError::DiskFull {
                path: self.root.clone(),
                used_percent: self.disk_used_percent.load(Ordering::Acquire),
                limit_percent: self.config.disk_max_used_space_ratio,
            });
        }
        Ok(())
    }
}

fn start_threads(inner: &Arc<Inner>) -> Result<Vec<JoinHandle<()>>> {
    let (allocator, allocator_thread) = SegmentAllocator::spawn(
        inner.log.dir(),
        inner.config.mapped_file_size_commit_log,
        inner.config.warm_maped_file_enable,
    )?;
    inner.log.set_allocator(allocator);
    let flusher = flush::spawn(
        inner.log.clone(),
        inner.appended.clone(),
        inner.flush.clone(),
        &inner.config,
    )?;
    let for_dispatch = Arc::downgrade(inner);
    let dispatcher = dispatch::spawn(inner.dispatcher.clone(), inner.appended.clone(), move |e| {
        if let Some(inner) = for_dispatch.upgrade() {
            inner.set_fatal(e);
        }
    })?;
    let housekeeper = housekeeping::spawn(inner.clone())?;
    let prefaulter = crate::commit_log::prefault::spawn(inner.log.clone())?;
    Ok(vec![
        allocator_thread,
        flusher,
        dispatcher,
        housekeeper,
        prefaulter,
    ])
}

/// Takes the store directory's exclusive lock, so two processes never share a store.
fn lock_dir(root: &std::path::Path) -> Result<File> {
    use rustix::fs::{FlockOperation, flock};
    let path = root.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::io("open", &path, e))?;
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(file),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(StoreError::Locked { path }),
        Err(e) => Err(StoreError::io("flock", &path, e.into())),
    }
}
