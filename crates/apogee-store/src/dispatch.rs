//! The dispatcher: follows the commit log and builds consume-queue units and index entries.
//!
//! Everything it writes is derived from the commit log, so recovery rebuilds it by running
//! the same [`Dispatcher::dispatch_range`] over the records past the checkpoint. Re-dispatching
//! a record is idempotent: its consume-queue unit goes to the queue offset stored in the record,
//! and the index skips records below what it already covers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use apogee_protocol::message::java_hash::tags_code;
use apogee_protocol::message::properties::{self, TAGS};
use apogee_protocol::message::record;
use apogee_protocol::message::sysflag;
use tokio::sync::watch;

use crate::commit_log::{CommitLog, Slot};
use crate::consume_queue::{ConsumeQueueTable, CqUnit};
use crate::doorbell::Doorbell;
use crate::error::{Result, StoreError};
use crate::index::IndexService;
use crate::limits::DISPATCH_COALESCE;

/// Builds consume queues and the index from the commit log.
#[derive(Debug)]
pub struct Dispatcher {
    log: Arc<CommitLog>,
    queues: Arc<ConsumeQueueTable>,
    index: Option<Arc<IndexService>>,
    /// Every record below this offset is dispatched.
    dispatched: AtomicU64,
    /// Broadcasts `dispatched` to readers waiting for new messages (long polling).
    arrivals: watch::Sender<u64>,
    /// Set to stop the thread once it has caught up.
    stop: AtomicBool,
}

impl Dispatcher {
    /// A dispatcher that will continue from `from`.
    #[must_use]
    pub fn new(
        log: Arc<CommitLog>,
        queues: Arc<ConsumeQueueTable>,
        index: Option<Arc<IndexService>>,
        from: u64,
    ) -> Self {
        let (arrivals, _) = watch::channel(from);
        Self {
            log,
            queues,
            index,
            dispatched: AtomicU64::new(from),
            arrivals,
            stop: AtomicBool::new(false),
        }
    }

    /// Every record below this commit-log offset has its unit and index entries written.
    #[must_use]
    pub fn dispatched(&self) -> u64 {
        self.dispatched.load(Ordering::Acquire)
    }

    /// A receiver that changes whenever new records are dispatched.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.arrivals.subscribe()
    }

    /// Dispatches every record in `[from, end)` and returns where it stopped (`end`, or the
    /// end of the log if that comes first).
    ///
    /// # Errors
    /// Corrupt records and consume-queue or index errors: all fatal.
    pub fn dispatch_range(&self, from: u64, end: u64) -> Result<u64> {
        let mut pos = from;
        while pos < end {
            match self.log.slot_at(pos, end)? {
                Slot::Record(bytes) => {
                    self.dispatch_record(pos, &bytes)?;
                    pos += bytes.len() as u64;
                }
                Slot::Blank { next } => pos = next,
                Slot::End => break,
            }
        }
        Ok(pos)
    }

    fn dispatch_record(&self, offset: u64, bytes: &[u8]) -> Result<()> {
        let view = record::decode(bytes).map_err(|source| StoreError::CorruptRecord {
            segment: self
                .log
                .segment_for(offset)
                .map_or_else(|| self.log.dir().to_path_buf(), |s| s.path().to_path_buf()),
            offset,
            source,
        })?;
        if sysflag::is_dispatchable(view.sys_flag) {
            let unit = CqUnit {
                phy_offset: offset,
                size: view.total_size as u32,
                tags_code: tags_code(properties::get(view.properties, TAGS)),
            };
            let cq = self.queues.get_or_create(view.topic, view.queue_id)?;
            cq.put(view.queue_offset as u64, &unit)?;
        }
        if let Some(index) = &self.index {
            index.dispatch(offset, &view)?;
        }
        Ok(())
    }

    /// Positions the dispatcher at `pos` once recovery has dispatched everything below it.
    pub fn start_at(&self, pos: u64) {
        self.dispatched.store(pos, Ordering::Release);
        self.arrivals.send_replace(pos);
    }

    fn advance(&self, pos: u64) {
        let before = self.dispatched.swap(pos, Ordering::AcqRel);
        assert!(before <= pos, "dispatched position moving backwards");
        self.arrivals.send_replace(pos);
    }

    /// Asks the thread to stop once it has dispatched everything published.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// Starts the dispatch thread. `on_fatal` is called with the error if dispatching fails.
///
/// # Errors
/// [`StoreError::Io`] if the thread cannot be spawned.
pub fn spawn(
    dispatcher: Arc<Dispatcher>,
    appended: Arc<Doorbell>,
    on_fatal: impl Fn(&StoreError) + Send + 'static,
) -> Result<JoinHandle<()>> {
    /// Upper bound on one idle wait; the loop re-checks the stop flag this often.
    const IDLE_WAIT: Duration = Duration::from_millis(100);
    let dir = dispatcher.log.dir().to_path_buf();
    std::thread::Builder::new()
        .name("apogee-dispatch".into())
        .spawn(move || {
            loop {
                let seen = appended.seq();
                let end = dispatcher.log.published();
                let pos = dispatcher.dispatched();
                if pos < end {
                    let result = dispatcher.dispatch_range(pos, end).and_then(|reached| {
                        if reached == end {
                            Ok(reached)
                        } else {
                            Err(StoreError::BadFile {
                                path: dispatcher.log.dir().to_path_buf(),
                                reason: format!("no record at {reached}, below published {end}"),
                            })
                        }
                    });
                    match result {
                        Ok(reached) => {
                            dispatcher.advance(reached);
                            // Let more appends accumulate: one wake-up per pass under load
                            // instead of one per record.
                            if !dispatcher.stop.load(Ordering::Acquire) {
                                std::thread::sleep(DISPATCH_COALESCE);
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "dispatch failed; store stops accepting writes");
                            on_fatal(&e);
                            return;
                        }
                    }
                    continue;
                }
                if dispatcher.stop.load(Ordering::Acquire) {
                    return;
                }
                appended.wait(seen, IDLE_WAIT);
            }
        })
        .map_err(|e| StoreError::io("spawn dispatch thread", dir, e))
}
