//! The commit log: one append-only log of every record, split into fixed-size segments.
//!
//! - [`segment`]: one memory-mapped segment file.
//! - [`append`]: the single writer: offsets, stamping, rolling.
//! - [`queue_offsets`]: next logical offset per queue, owned by the writer.
//! - this file: positions (published, flushed), reads, flushing and truncation.
//!
//! Positions: `published` is the end of the last complete record (readers may read anything
//! below it; the writer only writes at or above it); `flushed` is how far the log is known to
//! be on disk. Invariant: `min_offset <= flushed <= published`.

pub mod allocator;
pub mod append;
pub mod maintenance;
pub mod prefault;
pub mod queue_offsets;
pub mod segment;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use apogee_protocol::message::record::{self, SlotHead};
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};

use allocator::SegmentAllocator;
use append::Writer;
pub use append::{AppendResult, Prepared};
pub use segment::Segment;

use crate::doorbell::Doorbell;
use crate::error::{Result, StoreError};
use crate::segment_files;

/// What lies at a commit-log offset.
#[derive(Debug, Clone)]
pub enum Slot {
    /// A record (not yet validated beyond its head) of `bytes.len()` bytes.
    Record(Bytes),
    /// The end-of-segment filler; the next record is at `next`.
    Blank {
        /// Start of the next segment.
        next: u64,
    },
    /// Nothing was written here: the end of the log.
    End,
}

/// The commit log.
#[derive(Debug)]
pub struct CommitLog {
    dir: PathBuf,
    segment_bytes: u64,
    segments: RwLock<Vec<Arc<Segment>>>,
    writer: Mutex<Writer>,
    published: AtomicU64,
    flushed: AtomicU64,
    /// Rung after every append.
    appended: Arc<Doorbell>,
    /// Set by [`CommitLog::close`]; appends then fail with [`StoreError::ShutDown`].
    closed: std::sync::atomic::AtomicBool,
    /// Prepares the next segment in the background, once the store has started it.
    allocator: std::sync::OnceLock<Arc<SegmentAllocator>>,
}

impl CommitLog {
    /// Opens the segments in `dir` (created if missing). Positions are unknown until recovery
    /// calls [`CommitLog::set_end`].
    ///
    /// # Errors
    /// I/O errors, or [`StoreError::BadFile`] for segments that are misnamed, missized or not
    /// contiguous.
    pub fn open(dir: &Path, segment_bytes: usize, appended: Arc<Doorbell>) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io("mkdir", dir, e))?;
        crate::mapped_file::remove_temporaries(dir)?;
        let mut segments: Vec<Arc<Segment>> = Vec::new();
        for (start, path) in segment_files::list(dir)? {
            let bad = |reason: String| StoreError::BadFile {
                path: path.clone(),
                reason,
            };
            if start % segment_bytes as u64 != 0 {
                return Err(bad(format!(
                    "start offset is not a multiple of mappedFileSizeCommitLog {segment_bytes}"
                )));
            }
            if let Some(prev) = segments.last() {
                if prev.end() != start {
                    return Err(bad(format!("gap after segment ending at {}", prev.end())));
                }
            }
            segments.push(Arc::new(Segment::open(&path, start, segment_bytes)?));
        }
        let start = segments.first().map_or(0, |s| s.start());
        Ok(Self {
            dir: dir.to_path_buf(),
            segment_bytes: segment_bytes as u64,
            segments: RwLock::new(segments),
            writer: Mutex::new(Writer {
                pos: start,
                ..Writer::default()
            }),
            published: AtomicU64::new(start),
            flushed: AtomicU64::new(start),
            appended,
            closed: std::sync::atomic::AtomicBool::new(false),
            allocator: std::sync::OnceLock::new(),
        })
    }

    /// Refuses all further appends, stops the segment allocator; returns once no append is in
    /// progress.
    pub fn close(&self) {
        let _writer = self.writer.lock();
        self.closed.store(true, Ordering::Release);
        if let Some(allocator) = self.allocator.get() {
            allocator.stop();
        }
    }

    /// Whether [`CommitLog::close`] was called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Hands the log its segment allocator and asks it for the next segment.
    pub fn set_allocator(&self, allocator: Arc<SegmentAllocator>) {
        let w = self.writer.lock();
        let next = w.current.as_ref().map_or(w.pos, |s| s.end());
        allocator.request(next);
        if self.allocator.set(allocator).is_err() {
            tracing::warn!("segment allocator set twice; keeping the first");
        }
    }

    /// The directory of the segments.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Segment size in bytes.
    #[must_use]
    pub fn segment_bytes(&self) -> u64 {
        self.segment_bytes
    }

    /// End of the last complete record: readers may read below it.
    #[must_use]
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Acquire)
    }

    /// How far the log is known to be on disk.
    #[must_use]
    pub fn flushed(&self) -> u64 {
        self.flushed.load(Ordering::Acquire)
    }

    /// First offset still stored (the start of the oldest segment).
    #[must_use]
    pub fn min_offset(&self) -> u64 {
        let segments = self.segments.read();
        segments
            .first()
            .map_or_else(|| self.published(), |s| s.start())
    }

    /// A snapshot of the segment list.
    #[must_use]
    pub fn segments(&self) -> Vec<Arc<Segment>> {
        self.segments.read().clone()
    }

    /// The segment holding `offset`, if it exists.
    #[must_use]
    pub fn segment_for(&self, offset: u64) -> Option<Arc<Segment>> {
        let segments = self.segments.read();
        let first = segments.first()?.start();
        let idx = usize::try_from(offset.checked_sub(first)? / self.segment_bytes).ok()?;
        segments.get(idx).cloned()
    }

    /// What lies at `offset`, looking only below `limit` (the published position for readers,
    /// a segment's end for recovery).
    ///
    /// # Errors
    /// [`StoreError::CorruptRecord`] if the head is unreadable or the size runs past the limit
    /// or the segment.
    pub fn slot_at(&self, offset: u64, limit: u64) -> Result<Slot> {
        let Some(segment) = self.segment_for(offset) else {
            return Ok(Slot::End);
        };
        let limit = limit.min(segment.end());
        if offset + 8 > limit {
            // Segments always keep room for the filler, so this is the end of what is written.
            return Ok(Slot::End);
        }
        let corrupt = |source| StoreError::CorruptRecord {
            segment: segment.path().to_path_buf(),
            offset,
            source,
        };
        // SAFETY: below `limit`, which is the published position or (during recovery, when
        // there is no writer) the segment's end.
        let head = unsafe { segment.slice(offset, 8) };
        match record::peek(head).map_err(corrupt)? {
            SlotHead::Empty => Ok(Slot::End),
            SlotHead::Blank(size) if offset + size as u64 == segment.end() => Ok(Slot::Blank {
                next: segment.end(),
            }),
            SlotHead::Blank(size) => Err(corrupt(apogee_protocol::DecodeError::BadLength {
                field: "blank TOTALSIZE",
                value: size as i64,
            })),
            SlotHead::Record(size) if offset + size as u64 <= limit => {
                // SAFETY: as above.
                Ok(Slot::Record(unsafe {
                    segment::published_bytes(segment, offset, size)
                }))
            }
            SlotHead::Record(size) => Err(corrupt(apogee_protocol::DecodeError::Truncated {
                what: "record",
                needed: size,
                available: (limit - offset) as usize,
            })),
        }
    }

    /// The record at `offset` (below the published position), fully validated: structure,
    /// position and, with `check_crc`, the body CRC. `Ok(None)` if no record starts there.
    ///
    /// # Errors
    /// [`StoreError::CorruptRecord`] or [`StoreError::MisplacedRecord`].
    pub fn read_record(&self, offset: u64, check_crc: bool) -> Result<Option<Bytes>> {
        if offset < self.min_offset() || offset >= self.published() {
            return Ok(None);
        }
        match self.slot_at(offset, self.published())? {
            Slot::Record(bytes) => {
                self.validate(offset, &bytes, check_crc)?;
                Ok(Some(bytes))
            }
            Slot::Blank { .. } | Slot::End => Ok(None),
        }
    }

    /// Checks a record read at `offset`: it decodes, its PHYSICALOFFSET is `offset`, and (with
    /// `check_crc`) its body CRC matches.
    ///
    /// # Errors
    /// [`StoreError::CorruptRecord`] or [`StoreError::MisplacedRecord`].
    pub fn validate(&self, offset: u64, bytes: &[u8], check_crc: bool) -> Result<()> {
        let path = || {
            self.segment_for(offset)
                .map(|s| s.path().to_path_buf())
                .unwrap_or_else(|| self.dir.clone())
        };
        let corrupt = |source| StoreError::CorruptRecord {
            segment: path(),
            offset,
            source,
        };
        let view = record::decode(bytes).map_err(corrupt)?;
        if view.physical_offset != offset as i64 {
            return Err(StoreError::MisplacedRecord {
                segment: path(),
                offset,
                reason: format!("its PHYSICALOFFSET says {}", view.physical_offset),
            });
        }
        if check_crc {
            view.verify_crc().map_err(corrupt)?;
        }
        Ok(())
    }

    /// Flushes `[flushed, target)` to disk and advances `flushed`. Only the flush service
    /// calls this (one caller at a time).
    ///
    /// # Errors
    /// [`StoreError::Io`] on a write-back error; `flushed` is then left where it was.
    pub fn flush_to(&self, target: u64) -> Result<()> {
        let from = self.flushed();
        assert!(
            target <= self.published(),
            "flushing past the published position"
        );
        if target <= from {
            return Ok(());
        }
        let mut pos = from;
        while pos < target {
            let Some(segment) = self.segment_for(pos) else {
                break; // Retention removed it; nothing left to flush there.
            };
            let end = target.min(segment.end());
            segment.flush(pos, (end - pos) as usize)?;
            pos = end;
        }
        let before = self.flushed.swap(target, Ordering::AcqRel);
        assert!(before <= target, "flushed position moving backwards");
        Ok(())
    }
}
