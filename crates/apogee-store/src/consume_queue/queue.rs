//! One consume queue: the ordered list of 20-byte units of one topic/queue, split into
//! fixed-size files named by their 20-digit start byte offset within the queue.
//!
//! Only the dispatcher (and recovery, before the store opens) writes a queue, always at its
//! end; readers read units below the published maximum concurrently.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};

use super::unit::{CQ_UNIT_BYTES, CqUnit};
use crate::error::{Result, StoreError};
use crate::mapped_file::MappedFile;

/// One file of a consume queue.
#[derive(Debug)]
struct CqFile {
    /// Logical offset of the file's first unit.
    first: u64,
    map: MappedFile,
}

impl CqFile {
    fn slot(&self, offset: u64) -> usize {
        ((offset - self.first) as usize) * CQ_UNIT_BYTES
    }

    fn read(&self, offset: u64) -> Option<CqUnit> {
        // SAFETY: readers only read units below `max_offset`, which the single writer never
        // rewrites while the store is open.
        CqUnit::decode(unsafe { self.map.slice(self.slot(offset), CQ_UNIT_BYTES) })
    }

    fn write(&self, offset: u64, unit: Option<&CqUnit>) {
        // SAFETY: called only by the queue's writer (under its lock) at or above `max_offset`,
        // or during recovery before readers exist.
        let out = unsafe { self.map.slice_mut(self.slot(offset), CQ_UNIT_BYTES) };
        match unit {
            Some(u) => u.encode(out),
            None => out.fill(0),
        }
    }
}

/// The consume queue of one topic/queue id.
#[derive(Debug)]
pub struct ConsumeQueue {
    topic: String,
    queue_id: i32,
    dir: PathBuf,
    units_per_file: u64,
    files: RwLock<Vec<Arc<CqFile>>>,
    /// Serialises writers (the dispatcher, recovery, retention).
    writer: Mutex<()>,
    min_offset: AtomicU64,
    max_offset: AtomicU64,
    flushed_offset: AtomicU64,
    /// Woken whenever a unit is appended (long polling waits on it).
    arrival: tokio::sync::Notify,
}

impl ConsumeQueue {
    /// Opens the queue stored in `dir` (which may not exist yet), finding its end by scanning
    /// for the first empty unit.
    ///
    /// # Errors
    /// [`StoreError::BadFile`] for misnamed, missized or non-contiguous files, or I/O errors.
    pub fn open(dir: &Path, topic: &str, queue_id: i32, file_bytes: usize) -> Result<Self> {
        assert!(
            file_bytes > 0 && file_bytes % CQ_UNIT_BYTES == 0,
            "cq file size"
        );
        let units_per_file = (file_bytes / CQ_UNIT_BYTES) as u64;
        let mut files = Vec::new();
        for (byte_offset, path) in crate::segment_files::list(dir)? {
            if byte_offset % file_bytes as u64 != 0 {
                return Err(StoreError::BadFile {
                    path,
                    reason: format!("name is not a multiple of the file size {file_bytes}"),
                });
            }
            let first = byte_offset / CQ_UNIT_BYTES as u64;
            if let Some(prev) = files.last().map(|f: &Arc<CqFile>| f.first) {
                if first != prev + units_per_file {
                    return Err(StoreError::BadFile {
                        path,
                        reason: "consume-queue files are not contiguous".to_owned(),
                    });
                }
            }
            let map = MappedFile::open(&path, file_bytes)?;
            files.push(Arc::new(CqFile { first, map }));
        }
        let (min, max) = Self::scan_bounds(&files, units_per_file);
        Ok(Self {
            topic: topic.to_owned(),
            queue_id,
            dir: dir.to_path_buf(),
            units_per_file,
            files: RwLock::new(files),
            writer: Mutex::new(()),
            min_offset: AtomicU64::new(min),
            max_offset: AtomicU64::new(max),
            flushed_offset: AtomicU64::new(max),
            arrival: tokio::sync::Notify::new(),
        })
    }

    /// First written unit of the first file, and one past the last written unit.
    fn scan_bounds(files: &[Arc<CqFile>], units_per_file: u64) -> (u64, u64) {
        let Some(first_file) = files.first() else {
            return (0, 0);
        };
        let min = (first_file.first..first_file.first + units_per_file)
            .find(|&o| first_file.read(o).is_some())
            .unwrap_or(first_file.first);
        // The end is the first empty unit of the last file that has any unit.
        for file in files.iter().rev() {
            let range = file.first..file.first + units_per_file;
            if let Some(last) = range.rev().find(|&o| file.read(o).is_some()) {
                return (min, last + 1);
            }
        }
        (min, min)
    }

    /// The topic.
    #[must_use]
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The queue id.
    #[must_use]
    pub fn queue_id(&self) -> i32 {
        self.queue_id
    }

    /// Smallest readable logical offset.
    #[must_use]
    pub fn min_offset(&self) -> u64 {
        self.min_offset.load(Ordering::Acquire)
    }

    /// Waits until the queue holds a unit at `offset` or beyond, or `timeout` passes; returns
    /// whether it does. A waiter can never miss an append: it registers before it checks.
    pub async fn wait_beyond(&self, offset: u64, timeout: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.arrival.notified();
            if self.max_offset() > offset {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.max_offset() > offset;
            }
        }
    }

    /// One past the largest readable logical offset (the next offset to be written).
    #[must_use]
    pub fn max_offset(&self) -> u64 {
        self.max_offset.load(Ordering::Acquire)
    }

    fn file_for(&self, files: &[Arc<CqFile>], offset: u64) -> Option<Arc<CqFile>> {
        let first = files.first()?.first;
        let idx = usize::try_from(offset.checked_sub(first)? / self.units_per_file).ok()?;
        files.get(idx).cloned()
    }

    /// The unit at `offset`, if it is in `[min_offset, max_offset)`.
    #[must_use]
    pub fn get(&self, offset: u64) -> Option<CqUnit> {
        if offset < self.min_offset() || offset >= self.max_offset() {
            return None;
        }
        let file = self.file_for(&self.files.read(), offset)?;
        file.read(offset)
    }

    /// Up to `max_units` units from `from` (clamped to the readable range), with their offsets.
    #[must_use]
    pub fn read(&self, from: u64, max_units: usize) -> Vec<(u64, CqUnit)> {
        let start = from.max(self.min_offset());
        let end = self
            .max_offset()
            .min(start.saturating_add(max_units as u64));
        let files = self.files.read();
        let mut out = Vec::with_capacity((end.saturating_sub(start)) as usize);
        let mut current: Option<Arc<CqFile>> = None;
        for offset in start..end {
            let stale = current
                .as_ref()
                .is_none_or(|f| offset >= f.first + self.units_per_file);
            if stale {
                current = self.file_for(&files, offset);
            }
            match current.as_ref().and_then(|f| f.read(offset)) {
                Some(unit) => out.push((offset, unit)),
                None => break,
            }
        }
        out
    }

    /// Writes `unit` at logical `offset`.
    ///
    /// Appends at the end; rewrites an existing unit (recovery re-dispatch is idempotent);
    /// ignores offsets below the minimum (entries retention already removed); starts an empty
    /// queue at any offset (its earlier messages were deleted before it was created).
    ///
    /// # Errors
    /// [`StoreError::BadFile`] if `offset` would leave a gap after existing units, or I/O errors
    /// creating a file.
    pub fn put(&self, offset: u64, unit: &CqUnit) -> Result<()> {
        let _writer = self.writer.lock();
        let (min, max) = (self.min_offset(), self.max_offset());
        let empty = min == max;
        if offset < min && !empty {
            return Ok(());
        }
        if offset > max && !empty {
            return Err(StoreError::BadFile {
                path: self.dir.clone(),
                reason: format!("unit at offset {offset} would leave a gap after {max}"),
            });
        }
        let file = self.file_for_write(offset)?;
        file.write(offset, Some(unit));
        if empty && offset != max {
            // A fresh queue whose first message is not at 0: start it where it begins.
            self.min_offset.store(offset, Ordering::Release);
            self.flushed_offset.store(offset, Ordering::Release);
        }
        if offset >= max || empty {
            self.max_offset.store(offset + 1, Ordering::Release);
            self.arrival.notify_waiters();
        }
        Ok(())
    }

    fn file_for_write(&self, offset: u64) -> Result<Arc<CqFile>> {
        if let Some(file) = self.file_for(&self.files.read(), offset) {
            return Ok(file);
        }
        let mut files = self.files.write();
        if let Some(last) = files.last() {
            // Only the next file may be added; anything else is a gap.
            if offset >= last.first + 2 * self.units_per_file || offset < last.first {
                return Err(StoreError::BadFile {
                    path: self.dir.clone(),
                    reason: format!("no consume-queue file can hold offset {offset}"),
                });
            }
        }
        let first = files
            .last()
            .map_or(offset - offset % self.units_per_file, |l| {
                l.first + self.units_per_file
            });
        std::fs::create_dir_all(&self.dir).map_err(|e| StoreError::io("mkdir", &self.dir, e))?;
        let path = self
            .dir
            .join(crate::segment_files::name(first * CQ_UNIT_BYTES as u64));
        let bytes = (self.units_per_file as usize) * CQ_UNIT_BYTES;
        let file = Arc::new(CqFile {
            first,
            map: MappedFile::create(&path, bytes)?,
        });
        files.push(file.clone());
        Ok(file)
    }

    /// Writes units in `[flushed, max)` back to disk.
    ///
    /// # Errors
    /// [`StoreError::Io`] on a write-back error.
    pub fn flush(&self) -> Result<()> {
        let max = self.max_offset();
        let flushed = self.flushed_offset.load(Ordering::Acquire);
        if flushed >= max {
            return Ok(());
        }
        let files = self.files.read();
        for file in files.iter() {
            let end = file.first + self.units_per_file;
            if end <= flushed || file.first >= max {
                continue;
            }
            let from = flushed.max(file.first);
            let to = max.min(end);
            file.map
                .flush_range(file.slot(from), ((to - from) as usize) * CQ_UNIT_BYTES)?;
        }
        self.flushed_offset.store(max, Ordering::Release);
        Ok(())
    }

    /// Recovery: drops units whose record does not end within the commit log (`log_end`),
    /// and files left with no unit. Returns how many units were dropped.
    ///
    /// # Errors
    /// I/O errors deleting files.
    pub fn truncate_beyond(&self, log_end: u64) -> Result<u64> {
        let _writer = self.writer.lock();
        let (min, max) = (self.min_offset(), self.max_offset());
        let mut new_max = max;
        while new_max > min {
            match self.get(new_max - 1) {
                Some(u) if u.phy_offset + u64::from(u.size) <= log_end => break,
                _ => new_max -= 1,
            }
        }
        let files = self.files.read().clone();
        for offset in new_max..max {
            if let Some(file) = self.file_for(&files, offset) {
                file.write(offset, None);
            }
        }
        self.max_offset.store(new_max, Ordering::Release);
        self.flushed_offset.fetch_min(new_max, Ordering::AcqRel);
        Ok(max - new_max)
    }

    /// Retention: deletes leading files whose units all point below `log_min` and raises the
    /// minimum offset to the first unit at or above it. Returns the number of files deleted.
    ///
    /// # Errors
    /// I/O errors deleting files.
    pub fn delete_below(&self, log_min: u64) -> Result<usize> {
        let _writer = self.writer.lock();
        let mut deleted = 0;
        loop {
            let files = self.files.read();
            if files.len() <= 1 {
                break;
            }
            let first = files[0].clone();
            drop(files);
            let last_offset = (first.first + self.units_per_file).min(self.max_offset()) - 1;
            let last_unit = self.get(last_offset);
            if last_unit.is_some_and(|u| u.phy_offset >= log_min) {
                break;
            }
            self.files.write().remove(0);
            std::fs::remove_file(first.map.path())
                .map_err(|e| StoreError::io("delete", first.map.path(), e))?;
            deleted += 1;
        }
        self.raise_min(log_min);
        Ok(deleted)
    }

    fn raise_min(&self, log_min: u64) {
        let files = self.files.read();
        let start = files.first().map_or(0, |f| f.first);
        let max = self.max_offset();
        let mut min = self.min_offset().max(start);
        while min < max {
            let unit = self.file_for(&files, min).and_then(|f| f.read(min));
            match unit {
                Some(u) if u.phy_offset < log_min => min += 1,
                _ => break,
            }
        }
        self.min_offset.store(min, Ordering::Release);
    }
}

#[cfg(test)]
#[path = "queue_test.rs"]
mod tests;
