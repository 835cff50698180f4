//! Appending records: the single writer, segment rolling and offset assignment.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use apogee_protocol::message::record::{self, BLANK_HEADER_BYTES, MAGIC_BLANK, RecordDraft, Stamp};
use apogee_protocol::message::sysflag;

use super::CommitLog;
use super::queue_offsets::QueueOffsetTable;
use super::segment::Segment;
use crate::error::{Result, StoreError};

/// A record ready to append: its draft and body CRC (computed before taking the lock).
#[derive(Debug, Clone, Copy)]
pub struct Prepared<'a> {
    /// The record's fields.
    pub draft: RecordDraft<'a>,
    /// [`record::body_crc`] of the body.
    pub crc: u32,
}

/// Where an append put its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendResult {
    /// Commit-log offset of each record, in order.
    pub physical_offsets: Vec<u64>,
    /// Total bytes written (all records).
    pub wrote_bytes: usize,
    /// Queue offset of the first record (later ones follow consecutively); 0 for records that
    /// are not dispatched to a consume queue (prepared or rolled-back transactions).
    pub queue_offset: u64,
    /// Store timestamp given to every record of the append.
    pub store_timestamp: i64,
}

impl AppendResult {
    /// One past the last byte written: the offset a flush must reach to cover this append.
    #[must_use]
    pub fn end_offset(&self) -> u64 {
        self.physical_offsets.first().copied().unwrap_or(0) + self.wrote_bytes as u64
    }
}

/// State owned by the writer under the append lock.
#[derive(Debug, Default)]
pub struct Writer {
    /// Next byte to write.
    pub(super) pos: u64,
    /// Segment holding `pos`, if it exists yet.
    pub(super) current: Option<Arc<Segment>>,
    /// Next queue offset per queue.
    pub(super) queue_offsets: QueueOffsetTable,
    /// Store timestamp of the last append: store timestamps never go backwards, so searching
    /// a queue by time can bisect.
    pub(super) last_store_timestamp: i64,
}

fn now_ms() -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl CommitLog {
    /// Appends `batch` contiguously, all records to the same topic and queue, and publishes
    /// them to readers. The caller has validated sizes and names.
    ///
    /// # Errors
    /// [`StoreError::InvalidBatch`] if the batch is empty or cannot fit in one segment; I/O
    /// errors creating a segment (e.g. a full disk).
    pub fn append(&self, batch: &[Prepared<'_>]) -> Result<AppendResult> {
        let first = batch.first().ok_or(StoreError::InvalidBatch {
            reason: "no messages",
        })?;
        let lens: Vec<usize> = batch.iter().map(|p| p.draft.encoded_len()).collect();
        let total: usize = lens.iter().sum();
        if total + BLANK_HEADER_BYTES > self.segment_bytes as usize {
            return Err(StoreError::InvalidBatch {
                reason: "batch is larger than a commit-log segment",
            });
        }
        let dispatchable = sysflag::is_dispatchable(first.draft.sys_flag);
        let (topic, queue_id) = (first.draft.topic, first.draft.queue_id);

        let mut w = self.writer.lock();
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::ShutDown);
        }
        let segment = self.room_for(&mut w, total)?;
        let start = w.pos;
        let queue_offset = if dispatchable {
            w.queue_offsets.next(topic, queue_id)
        } else {
            0
        };
        let store_timestamp = now_ms().max(w.last_store_timestamp);
        // SAFETY: we hold the writer lock and `start..start+total` is at or above `published`.
        let mut out = unsafe { segment.slice_mut(start, total) };
        let mut physical_offsets = Vec::with_capacity(batch.len());
        let mut offset = start;
        for (i, (prepared, len)) in batch.iter().zip(&lens).enumerate() {
            debug_assert_eq!(prepared.draft.topic, topic, "batch mixes topics");
            let stamp = Stamp {
                queue_offset: if dispatchable {
                    (queue_offset + i as u64) as i64
                } else {
                    0
                },
                physical_offset: offset as i64,
                store_timestamp,
            };
            let (head, rest) = out.split_at_mut(*len);
            record::encode(&prepared.draft, prepared.crc, &stamp, head);
            out = rest;
            physical_offsets.push(offset);
            offset += *len as u64;
        }
        if dispatchable {
            w.queue_offsets
                .set(topic, queue_id, queue_offset + batch.len() as u64);
        }
        w.pos = offset;
        w.last_store_timestamp = store_timestamp;
        self.publish(w.pos);
        drop(w);
        Ok(AppendResult {
            physical_offsets,
            wrote_bytes: total,
            queue_offset: if dispatchable { queue_offset } else { 0 },
            store_timestamp,
        })
    }

    /// The segment to write `need` bytes at the writer's position, rolling to a new segment
    /// (after writing the end-of-segment filler) when the current one lacks room. A segment
    /// always keeps room for the filler, so every finished segment ends with one.
    fn room_for(&self, w: &mut Writer, need: usize) -> Result<Arc<Segment>> {
        if let Some(segment) = &w.current {
            let remaining = segment.end() - w.pos;
            if (need + BLANK_HEADER_BYTES) as u64 <= remaining {
                return Ok(segment.clone());
            }
            assert!(
                remaining >= BLANK_HEADER_BYTES as u64,
                "segment lost its filler room"
            );
            // SAFETY: writer lock held; the range is at or above `published`.
            let filler = unsafe { segment.slice_mut(w.pos, BLANK_HEADER_BYTES) };
            filler[..4].copy_from_slice(&(remaining as i32).to_be_bytes());
            filler[4..].copy_from_slice(&MAGIC_BLANK.to_be_bytes());
            w.pos = segment.end();
            self.publish(w.pos);
            w.current = None;
        }
        let allocator = self.allocator.get();
        let segment = match allocator.and_then(|a| a.take(w.pos)) {
            Some(prepared) => Segment::install(prepared, w.pos)?,
            None => Segment::create(&self.dir, w.pos, self.segment_bytes as usize)?,
        };
        let segment = Arc::new(segment);
        if let Some(allocator) = allocator {
            allocator.request(segment.end());
        }
        self.segments.write().push(segment.clone());
        w.current = Some(segment.clone());
        Ok(segment)
    }

    fn publish(&self, pos: u64) {
        let before = self.published.swap(pos, Ordering::SeqCst);
        assert!(
            pos >= before,
            "published position moving backwards: {before} -> {pos}"
        );
        self.appended.ring();
    }
}
