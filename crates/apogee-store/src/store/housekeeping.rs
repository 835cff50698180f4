//! The housekeeping thread: every `flushIntervalConsumeQueue` it flushes consume queues and
//! the index and writes the checkpoint; it measures disk usage (refusing writes above
//! `diskMaxUsedSpaceRatio`) and deletes expired segments at the `deleteWhen` hours, or at once
//! when the disk is over its limit.
//!
//! Retention never deletes a segment younger than `fileReservedTime`: when the disk fills with
//! unexpired data the store refuses writes rather than drop acknowledged messages.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use super::{Inner, MessageStore};
use crate::commit_log::Segment;
use crate::disk;
use crate::error::{Result, StoreError};

/// How often disk usage is measured; a filling disk is noticed within this time.
const DISK_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// What one retention pass deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetentionReport {
    /// Commit-log segments deleted.
    pub segments: usize,
    /// Consume-queue files deleted.
    pub consume_queue_files: usize,
    /// Index files deleted.
    pub index_files: usize,
    /// New minimum commit-log offset (unchanged if nothing was deleted).
    pub min_offset: u64,
}

pub(super) fn spawn(inner: Arc<Inner>) -> Result<JoinHandle<()>> {
    let root = inner.root.clone();
    std::thread::Builder::new()
        .name("apogee-housekeeping".into())
        .spawn(move || run(&inner))
        .map_err(|e| StoreError::io("spawn housekeeping thread", root, e))
}

fn run(inner: &Inner) {
    let tick =
        Duration::from_millis(inner.config.flush_interval_consume_queue).min(DISK_CHECK_INTERVAL);
    let mut last_retention_hour = None;
    loop {
        let seen = inner.housekeeping_wake.seq();
        if inner.housekeeping_stop.load(Ordering::Acquire) {
            return;
        }
        if let Err(e) = inner.checkpoint_now() {
            tracing::error!(error = %e, "flushing consume queues/index failed");
            inner.set_fatal(&e);
            return;
        }
        let over_limit = inner.check_disk();
        let hour = local_hour_slot();
        let scheduled = inner
            .config
            .delete_hours()
            .is_some_and(|hours| hours.contains(&(hour.1)));
        if over_limit || (scheduled && last_retention_hour != Some(hour)) {
            last_retention_hour = Some(hour);
            if let Err(e) = inner.delete_expired(SystemTime::now()) {
                tracing::error!(error = %e, "retention failed");
            }
        }
        inner.housekeeping_wake.wait(seen, tick);
    }
}

impl Inner {
    /// Measures disk usage and updates the write gate; returns whether usage is over limit.
    pub(super) fn check_disk(&self) -> bool {
        let used = match disk::used_percent(&self.root) {
            Ok(used) => used,
            Err(e) => {
                tracing::warn!(error = %e, "cannot measure disk usage");
                return self.disk_full.load(Ordering::Acquire);
            }
        };
        let limit = f64::from(self.config.disk_max_used_space_ratio);
        let over = used > limit;
        self.disk_used_percent
            .store(used.ceil() as u32, Ordering::Release);
        if self.disk_full.swap(over, Ordering::AcqRel) != over {
            if over {
                tracing::error!(
                    used,
                    limit,
                    "disk over diskMaxUsedSpaceRatio: refusing writes"
                );
            } else {
                tracing::info!(
                    used,
                    limit,
                    "disk back under diskMaxUsedSpaceRatio: accepting writes"
                );
            }
        }
        over
    }

    /// Deletes segments last written more than `fileReservedTime` before `now`, and the
    /// consume-queue and index files that only point into them.
    pub(super) fn delete_expired(&self, now: SystemTime) -> Result<RetentionReport> {
        let reserved = Duration::from_secs(self.config.file_reserved_time * 3600);
        let expired = |segment: &Segment| {
            let modified = segment.file().file().metadata().and_then(|m| m.modified());
            modified.is_ok_and(|m| m + reserved <= now)
        };
        let mut report = RetentionReport {
            min_offset: self.log.min_offset(),
            ..RetentionReport::default()
        };
        let before = self.log.segments().len();
        let Some(min) = self.log.delete_oldest_segments(expired)? else {
            return Ok(report);
        };
        report.segments = before - self.log.segments().len();
        report.min_offset = min;
        for cq in self.queues.all() {
            report.consume_queue_files += cq.delete_below(min)?;
        }
        if let Some(index) = &self.index {
            report.index_files = index.delete_files_below(min)?;
        }
        tracing::info!(?report, "retention pass");
        Ok(report)
    }
}

impl MessageStore {
    /// Runs a retention pass now, as if the clock read `now`, whatever the `deleteWhen` hours.
    ///
    /// # Errors
    /// I/O errors deleting files.
    pub fn delete_expired_files(&self, now: SystemTime) -> Result<RetentionReport> {
        self.inner.delete_expired(now)
    }

    /// Measures disk usage now and updates the write gate; returns whether writes are refused.
    #[must_use]
    pub fn check_disk_now(&self) -> bool {
        self.inner.check_disk()
    }
}

/// (days since the epoch, local hour of day), identifying one hour of local time.
fn local_hour_slot() -> (i64, u32) {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut tm: libc::tm = unsafe {
        // SAFETY: libc::tm is plain old data; all-zero is a valid value.
        std::mem::zeroed()
    };
    let t: libc::time_t = now as libc::time_t;
    // SAFETY: both pointers are valid for the call; localtime_r is thread-safe.
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    let hour = if ok {
        tm.tm_hour as u32
    } else {
        ((now / 3600) % 24) as u32
    };
    (now / 86_400, hour)
}
