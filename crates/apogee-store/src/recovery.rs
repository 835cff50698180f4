//! Recovery: find where the commit log really ends and bring the derived files in line.
//!
//! 1. Scan the commit log from the checkpoint's flushed offset (everything before it was on
//!    disk when the checkpoint was written), validating every record: magic, sizes, body CRC,
//!    and that its PHYSICALOFFSET is where it lies.
//! 2. At the first invalid record, decide: if any valid record follows it, the log is corrupt
//!    in the middle — report it and refuse to open, since truncating there would silently drop
//!    acknowledged messages. Otherwise it is a torn tail from a crash: cut it.
//! 3. Drop consume-queue units and index coverage past the end, re-dispatch every record past
//!    the checkpoint's dispatch offset, and rebuild each queue's next offset from its consume
//!    queue.

use std::sync::Arc;

use apogee_protocol::message::record::MAGIC_V1;

use crate::checkpoint::Checkpoint;
use crate::commit_log::queue_offsets::QueueOffsetTable;
use crate::commit_log::{CommitLog, Slot};
use crate::consume_queue::ConsumeQueueTable;
use crate::dispatch::Dispatcher;
use crate::error::{Result, StoreError};
use crate::index::IndexService;
use crate::limits::QUEUES_PER_TOPIC_MAX;

/// What recovery found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Whether the previous run shut down cleanly (no abort marker).
    pub clean_shutdown: bool,
    /// Commit-log offset the validation scan started at.
    pub scan_from: u64,
    /// Records validated by the scan.
    pub records_scanned: u64,
    /// Where the commit log ends.
    pub log_end: u64,
    /// Bytes after `log_end` that held a torn record (0 if the tail was clean).
    pub torn_tail: bool,
    /// Consume-queue units dropped because their record was past the end.
    pub units_truncated: u64,
    /// Commit-log offset re-dispatch started at.
    pub redispatched_from: u64,
}

/// Runs recovery (see the module docs). On success the log is positioned at its end and the
/// consume queues and index cover every record.
///
/// # Errors
/// [`StoreError::CorruptRecord`]/[`StoreError::MisplacedRecord`] for corruption that is not a
/// torn tail, [`StoreError::BadFile`] for inconsistent files, I/O errors.
pub fn recover(
    log: &CommitLog,
    queues: &ConsumeQueueTable,
    index: Option<&Arc<IndexService>>,
    dispatcher: &Dispatcher,
    checkpoint: Option<Checkpoint>,
    clean_shutdown: bool,
) -> Result<RecoveryReport> {
    let min = log.min_offset();
    let last_end = log.segments().last().map_or(min, |s| s.end());
    let cp = checkpoint.unwrap_or_default();
    if cp.commit_log_flushed > last_end {
        return Err(StoreError::BadFile {
            path: log.dir().to_path_buf(),
            reason: format!(
                "checkpoint says the log was flushed to {} but its segments end at {last_end}",
                cp.commit_log_flushed
            ),
        });
    }
    let scan_from = cp.commit_log_flushed.max(min);
    let (log_end, records_scanned, torn_tail) = scan(log, scan_from)?;

    let mut units_truncated = 0;
    for cq in queues.all() {
        units_truncated += cq.truncate_beyond(log_end)?;
    }
    if let Some(index) = index {
        index.truncate(log_end)?;
    }
    let mut redispatched_from = cp.dispatch_flushed.clamp(min, log_end);
    if let Some(index) = index {
        redispatched_from = redispatched_from.min(index_resume_point(index, min, log_end));
    }
    let reached = dispatcher.dispatch_range(redispatched_from, log_end)?;
    if reached != log_end {
        return Err(StoreError::BadFile {
            path: log.dir().to_path_buf(),
            reason: format!("re-dispatch stopped at {reached} before the log end {log_end}"),
        });
    }
    log.assume_flushed(scan_from);
    log.set_end(log_end, queue_offsets(queues)?)?;
    Ok(RecoveryReport {
        clean_shutdown,
        scan_from,
        records_scanned,
        log_end,
        torn_tail,
        units_truncated,
        redispatched_from,
    })
}

/// Validates records from `from`; returns (log end, records validated, torn tail found).
fn scan(log: &CommitLog, from: u64) -> Result<(u64, u64, bool)> {
    let mut pos = from;
    let mut records = 0u64;
    loop {
        let step = log.slot_at(pos, u64::MAX).and_then(|slot| match slot {
            Slot::Record(bytes) => log
                .validate(pos, &bytes, true)
                .map(|()| Some((bytes.len() as u64, 1))),
            Slot::Blank { next } => Ok(Some((next - pos, 0))),
            Slot::End => Ok(None),
        });
        match step {
            Ok(Some((len, counted))) => {
                pos += len;
                records += counted;
            }
            Ok(None) => return Ok((pos, records, false)),
            Err(error) => {
                if let Some(valid_at) = valid_record_after(log, pos) {
                    tracing::error!(offset = pos, next_valid = valid_at, error = %error,
                        "commit log is corrupt in the middle");
                    return Err(error);
                }
                tracing::warn!(offset = pos, error = %error, "cutting torn tail of the commit log");
                return Ok((pos, records, true));
            }
        }
    }
}

/// The offset of some valid record after the invalid one at `bad`, if any: in the rest of its
/// segment (found by searching for the magic code) or at the start of a later segment.
fn valid_record_after(log: &CommitLog, bad: u64) -> Option<u64> {
    let segment = log.segment_for(bad)?;
    let from = bad + 1;
    let len = (segment.end() - from) as usize;
    // SAFETY: recovery runs before any writer exists.
    let rest = unsafe { segment.slice(from, len) };
    let magic = MAGIC_V1.to_be_bytes();
    for hit in memchr::memmem::find_iter(rest, &magic) {
        let Some(start) = (from + hit as u64).checked_sub(4) else {
            continue;
        };
        if start <= bad {
            continue;
        }
        if let Ok(Slot::Record(bytes)) = log.slot_at(start, segment.end()) {
            if log.validate(start, &bytes, true).is_ok() {
                return Some(start);
            }
        }
    }
    log.segments()
        .into_iter()
        .filter(|s| s.start() > bad)
        .find_map(|s| match log.slot_at(s.start(), s.end()) {
            Ok(Slot::Record(bytes)) if log.validate(s.start(), &bytes, true).is_ok() => {
                Some(s.start())
            }
            _ => None,
        })
}

/// A record boundary from which re-dispatch rebuilds every missing index entry.
///
/// The index covers every record below `indexed_below()`, which is one past the start of the
/// last record it indexed; that start is itself a record boundary (re-dispatching that record
/// adds nothing). An index that covers the whole log needs nothing; an empty one starts at the
/// beginning of the log.
fn index_resume_point(index: &IndexService, min: u64, log_end: u64) -> u64 {
    match index.indexed_below() {
        below if below >= log_end => log_end,
        0 => min,
        below => (below - 1).max(min),
    }
}

/// Each queue's next offset, from its consume queue.
fn queue_offsets(queues: &ConsumeQueueTable) -> Result<QueueOffsetTable> {
    let mut table = QueueOffsetTable::default();
    for cq in queues.all() {
        let in_range = usize::try_from(cq.queue_id()).is_ok_and(|q| q < QUEUES_PER_TOPIC_MAX);
        if !in_range {
            return Err(StoreError::InvalidQueueId {
                queue_id: cq.queue_id(),
                max: QUEUES_PER_TOPIC_MAX,
            });
        }
        table.set(cq.topic(), cq.queue_id(), cq.max_offset());
    }
    Ok(table)
}
