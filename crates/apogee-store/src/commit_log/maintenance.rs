//! Commit-log maintenance outside the append path: setting the end after recovery, cutting a
//! torn tail, and deleting expired segments.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::CommitLog;
use super::queue_offsets::QueueOffsetTable;
use super::segment::Segment;
use crate::error::{Result, StoreError};
use crate::limits::TORN_TAIL_ZERO_BYTES_MAX;
use crate::mapped_file::sync_dir;

impl CommitLog {
    /// Recovery: the log ends at `log_end`. Deletes segments that start after it, zeroes any
    /// bytes of a torn record after it, flushes what recovery validated, and positions the
    /// writer there with the given queue offsets.
    ///
    /// Must be called before any append or read, with no other thread using the log.
    ///
    /// # Errors
    /// I/O errors while deleting, zeroing or flushing.
    pub fn set_end(&self, log_end: u64, queue_offsets: QueueOffsetTable) -> Result<()> {
        self.drop_segments_after(log_end)?;
        let current = self
            .segment_for(log_end)
            .filter(|s| s.start() <= log_end && log_end < s.end());
        if let Some(segment) = &current {
            zero_torn_tail(segment, log_end)?;
        }
        let mut w = self.writer.lock();
        w.pos = log_end;
        w.current = current;
        w.queue_offsets = queue_offsets;
        self.published.store(log_end, Ordering::SeqCst);
        let flushed = self
            .flushed()
            .min(log_end)
            .max(self.min_offset().min(log_end));
        self.flushed.store(flushed, Ordering::SeqCst);
        drop(w);
        // Whatever recovery read may still be only in the page cache (the previous process was
        // killed); make it durable before anyone acknowledges anything on top of it.
        self.flush_to(log_end)
    }

    /// Sets the flushed position as found in the checkpoint, before [`CommitLog::set_end`].
    pub fn assume_flushed(&self, offset: u64) {
        self.flushed.store(offset, Ordering::SeqCst);
    }

    fn drop_segments_after(&self, log_end: u64) -> Result<()> {
        let mut segments = self.segments.write();
        let mut removed = false;
        while segments.last().is_some_and(|s| s.start() > log_end) {
            if let Some(segment) = segments.pop() {
                std::fs::remove_file(segment.path())
                    .map_err(|e| StoreError::io("delete", segment.path(), e))?;
                removed = true;
            }
        }
        if removed {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Retention: deletes the oldest segments for which `expired` holds, stopping at the first
    /// that does not, and never deleting the segment being written. Returns the new minimum
    /// offset if anything was deleted.
    ///
    /// # Errors
    /// I/O errors while deleting.
    pub fn delete_oldest_segments(
        &self,
        mut expired: impl FnMut(&Segment) -> bool,
    ) -> Result<Option<u64>> {
        let published = self.published();
        let mut deleted = false;
        loop {
            let candidate: Option<Arc<Segment>> = {
                let segments = self.segments.read();
                segments
                    .first()
                    .filter(|s| segments.len() > 1 && s.end() <= published)
                    .cloned()
            };
            let Some(segment) = candidate.filter(|s| expired(s)) else {
                break;
            };
            self.segments.write().remove(0);
            std::fs::remove_file(segment.path())
                .map_err(|e| StoreError::io("delete", segment.path(), e))?;
            tracing::info!(segment = %segment.path().display(), "deleted expired commit-log segment");
            deleted = true;
        }
        if deleted {
            sync_dir(&self.dir)?;
            // Nothing below the minimum can need flushing any more.
            let min = self.min_offset();
            self.flushed.fetch_max(min, Ordering::AcqRel);
            return Ok(Some(min));
        }
        Ok(None)
    }
}

/// Zeroes the bytes a torn record left after `log_end` (up to the last non-zero byte within
/// [`TORN_TAIL_ZERO_BYTES_MAX`]), so that nothing after the end can ever look like data.
fn zero_torn_tail(segment: &Segment, log_end: u64) -> Result<()> {
    let window = (segment.end() - log_end).min(TORN_TAIL_ZERO_BYTES_MAX as u64) as usize;
    // SAFETY: recovery runs before any reader or writer exists.
    let tail = unsafe { segment.slice_mut(log_end, window) };
    let Some(last) = tail.iter().rposition(|&b| b != 0) else {
        return Ok(());
    };
    tracing::warn!(
        segment = %segment.path().display(),
        offset = log_end,
        bytes = last + 1,
        "zeroing torn tail after the last valid record"
    );
    tail[..=last].fill(0);
    segment.flush(log_end, last + 1)
}
