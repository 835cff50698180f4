//! The message index: finds the commit-log offsets of messages by key (`KEYS` tokens) and by
//! unique id (`UNIQ_KEY`), in RocketMQ's `IndexFile` format.
//!
//! # Format
//! Each file (all integers big-endian) holds:
//! - a 40-byte header: `beginTimestamp i64 | endTimestamp i64 | beginPhyOffset i64 |
//!   endPhyOffset i64 | hashSlotCount i32 | indexCount i32`. `indexCount` starts at 1 because
//!   slot value 0 means "empty"; `hashSlotCount` counts slots in use, as RocketMQ does;
//! - `slot_num` 4-byte slots, each holding the position of the newest entry of its chain;
//! - `index_num` 20-byte entries (position 0 unused): `keyHash i32 | phyOffset i64 |
//!   timeDiffSeconds i32 | prevIndex i32`, where the time is the record's store timestamp minus
//!   the header's `beginTimestamp`, in whole seconds, and `prevIndex` links to the previous
//!   entry of the same slot (0 ends the chain).
//!
//! A key is indexed as the string `topic#key`; its hash is Java's `String.hashCode` made
//! non-negative, and its slot is that hash modulo `slot_num`. A file is full once `indexCount`
//! reaches `index_num`; the next record starts a new file. All keys of one record go to the
//! same file (a record whose keys do not fit starts a new file), except that a record never
//! gets more keys than one file holds.
//!
//! # Deviation from RocketMQ
//! RocketMQ names index files by their creation time. Apogee names them like commit-log
//! segments: by the 20-digit, zero-padded begin physical offset (the commit-log offset of the
//! first record indexed in the file, e.g. `00000000000000001234`). Truncation and retention
//! then work on offsets alone.
//!
//! # Coverage and recovery
//! [`IndexService::indexed_below`] is `endPhyOffset + 1` of the newest file (its
//! `beginPhyOffset` while it holds no entry), so re-dispatching the commit log after a restart
//! skips records that are already indexed. [`IndexService::truncate`] deletes the files past a
//! cut commit log and lowers the newest remaining file's `endPhyOffset`, durably, so that new
//! records written at the cut offsets get indexed. Entries left for cut records stay in their
//! chains: query results are candidates that callers verify against the records.
//!
//! # Concurrency
//! One thread dispatches (serialised by a writer lock shared with truncation and retention);
//! any number of threads query. Each file's header lock guards its mapped bytes: the writer
//! writes an entry, links it into its slot and bumps `indexCount` while holding it exclusively,
//! so a query sees all of a record's entries or none.

mod file;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_corrupt;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use apogee_protocol::message::java_hash::java_string_hash;
use apogee_protocol::message::properties::{self, KEY_SEPARATOR, KEYS, UNIQ_KEY};
use apogee_protocol::message::record::RecordView;
use apogee_protocol::message::sysflag;
use parking_lot::{Mutex, RwLock};

use self::file::{Geometry, IndexFile, Lookup};
use crate::error::{Result, StoreError};
use crate::limits::{INDEX_KEYS_PER_MESSAGE_MAX, INDEX_QUERY_RESULTS_MAX};
use crate::mapped_file::sync_dir;
use crate::segment_files;

/// The index of a store: its files, oldest first, and how far they cover the commit log.
#[derive(Debug)]
pub struct IndexService {
    dir: PathBuf,
    geo: Geometry,
    /// Files sorted by begin offset; the last one takes new entries.
    files: RwLock<Vec<Arc<IndexFile>>>,
    /// Serialises dispatch, truncation and retention.
    writer: Mutex<()>,
    /// Every record below this commit-log offset is indexed (or had nothing to index).
    indexed_below: AtomicU64,
}

impl IndexService {
    /// Opens (creating `dir` if needed) and loads existing files, validating each header (bad
    /// size/header → [`StoreError::BadFile`] with the path).
    ///
    /// A newest file whose header is all zeros (created, then a crash before its header reached
    /// the disk) holds nothing and is deleted.
    ///
    /// # Errors
    /// [`StoreError::Config`] if `slot_num` is 0, `index_num` below 2, or either above
    /// `i32::MAX`; [`StoreError::BadFile`] for a file of the wrong size, a bad header or files
    /// that overlap; [`StoreError::Io`] if the directory or a file cannot be read.
    pub fn open(dir: &Path, slot_num: usize, index_num: usize) -> Result<Self> {
        let geo = Geometry::new(slot_num, index_num)?;
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io("mkdir", dir, e))?;
        let listed = segment_files::list(dir)?;
        let mut files: Vec<Arc<IndexFile>> = Vec::with_capacity(listed.len());
        for (i, (offset, path)) in listed.iter().enumerate() {
            let Some(file) = IndexFile::open(path, geo, *offset)? else {
                if i + 1 < listed.len() {
                    return Err(bad_file(path, "header is all zeros but newer files exist"));
                }
                tracing::warn!(path = %path.display(), "deleting index file with a blank header");
                remove_file(path)?;
                sync_dir(dir)?;
                break;
            };
            if let Some(prev) = files.last() {
                let prev = prev.header();
                if prev.has_entries() && file.header().begin() < prev.covered_below() {
                    return Err(bad_file(path, "begins before the previous file ends"));
                }
            }
            files.push(Arc::new(file));
        }
        let indexed_below = files.last().map_or(0, |f| f.header().covered_below());
        Ok(Self {
            dir: dir.to_path_buf(),
            geo,
            files: RwLock::new(files),
            writer: Mutex::new(()),
            indexed_below: AtomicU64::new(indexed_below),
        })
    }

    /// Indexes one record stored at commit-log offset `phy_offset`: keys `topic#UNIQ_KEY` and
    /// `topic#<each space-separated KEYS token>` (empty tokens skipped, repeated keys indexed
    /// once, at most [`INDEX_KEYS_PER_MESSAGE_MAX`] keys). Records whose transaction type is
    /// ROLLBACK are not indexed. A record below [`Self::indexed_below`] is ignored, which makes
    /// re-dispatch after a restart idempotent. Rolls to a new file when the current one cannot
    /// take the record's keys (the new file begins at this record).
    ///
    /// Calls must come from one thread in increasing `phy_offset` order.
    ///
    /// # Errors
    /// [`StoreError::Io`] if a new file cannot be created.
    pub fn dispatch(&self, phy_offset: u64, record: &RecordView<'_>) -> Result<()> {
        let _writer = self.writer.lock();
        if phy_offset < self.indexed_below() {
            return Ok(());
        }
        if sysflag::transaction_type(record.sys_flag) != sysflag::TRANSACTION_ROLLBACK {
            let hashes = key_hashes(record, self.geo.capacity());
            if !hashes.is_empty() {
                self.put(phy_offset, record.store_timestamp, &hashes)?;
            }
        }
        self.indexed_below
            .store(phy_offset.saturating_add(1), Ordering::Release);
        Ok(())
    }

    fn put(&self, phy_offset: u64, store_ts: i64, hashes: &[i32]) -> Result<()> {
        let file = self.writable_file(phy_offset, store_ts, hashes.len())?;
        let written = file.put(hashes, phy_offset, store_ts);
        if written < hashes.len() {
            return Err(bad_file(file.path(), "no room for entries after rolling"));
        }
        Ok(())
    }

    /// The newest file if it has room for `needed` entries, else a new one.
    fn writable_file(
        &self,
        phy_offset: u64,
        store_ts: i64,
        needed: usize,
    ) -> Result<Arc<IndexFile>> {
        if let Some(last) = self.files.read().last() {
            if last.room() >= needed {
                return Ok(last.clone());
            }
        }
        let path = self.dir.join(segment_files::name(phy_offset));
        let file = Arc::new(IndexFile::create(&path, self.geo, phy_offset, store_ts)?);
        tracing::info!(path = %path.display(), "new index file");
        self.files.write().push(file.clone());
        Ok(file)
    }

    /// Commit-log offsets of records that may carry `key` in `topic` with a store timestamp in
    /// `[begin_ms, end_ms]`, newest first, without duplicates, at most
    /// `min(max, INDEX_QUERY_RESULTS_MAX)`.
    ///
    /// These are candidates only: different keys can share a hash, entries keep the time only
    /// to the second (so a record up to 999 ms before `begin_ms` may appear), and entries of
    /// records cut by [`Self::truncate`] remain. Callers verify each by reading the record.
    /// Files are searched newest to oldest, skipping those whose time range misses the query.
    #[must_use]
    pub fn query(
        &self,
        topic: &str,
        key: &str,
        max: usize,
        begin_ms: i64,
        end_ms: i64,
    ) -> Vec<u64> {
        let limit = max.min(INDEX_QUERY_RESULTS_MAX);
        let mut out = Vec::new();
        if limit == 0 || begin_ms > end_ms {
            return out;
        }
        let q = Lookup {
            key_hash: key_hash(topic, key),
            begin_ms,
            end_ms,
            limit,
        };
        let files = self.files.read().clone();
        for file in files.iter().rev() {
            if out.len() >= limit {
                break;
            }
            file.lookup(&q, &mut out);
        }
        out.sort_unstable_by(|a, b| b.cmp(a));
        out
    }

    /// Every record with a commit-log offset below this is indexed (or had nothing to index).
    /// Persisted in the headers as `endPhyOffset + 1` of the newest file; 0 for an empty index.
    #[must_use]
    pub fn indexed_below(&self) -> u64 {
        self.indexed_below.load(Ordering::Acquire)
    }

    /// Recovery found that the commit log ends at `log_end` (a torn tail was cut): deletes the
    /// files whose begin offset is at or past `log_end`, lowers the newest remaining file's
    /// `endPhyOffset` below `log_end` (durably) and lowers [`Self::indexed_below`] to at most
    /// `log_end`, so that new records written at those offsets get indexed.
    ///
    /// # Errors
    /// [`StoreError::Io`] if a file cannot be deleted or a header cannot be flushed.
    pub fn truncate(&self, log_end: u64) -> Result<()> {
        let _writer = self.writer.lock();
        let mut files = self.files.write();
        let mut removed = 0;
        while let Some(last) = files.last() {
            if last.header().begin() < log_end {
                break;
            }
            remove_file(last.path())?;
            tracing::info!(path = %last.path().display(), log_end, "deleted index file past log end");
            files.pop();
            removed += 1;
        }
        if removed > 0 {
            sync_dir(&self.dir)?;
        }
        if let Some(last) = files.last() {
            last.lower_end(log_end)?;
        }
        self.indexed_below.fetch_min(log_end, Ordering::AcqRel);
        Ok(())
    }

    /// Retention: deletes the oldest files all of whose records lie below `min_phy_offset`
    /// (never the newest file). Returns how many were deleted.
    ///
    /// # Errors
    /// [`StoreError::Io`] if a file cannot be deleted.
    pub fn delete_files_below(&self, min_phy_offset: u64) -> Result<usize> {
        let _writer = self.writer.lock();
        let mut files = self.files.write();
        let older = files.len().saturating_sub(1);
        let eligible = files[..older]
            .iter()
            .take_while(|f| f.header().covered_below() <= min_phy_offset)
            .count();
        let mut removed = 0;
        let result = files[..eligible].iter().try_for_each(|f| {
            remove_file(f.path())?;
            removed += 1;
            Ok(())
        });
        files.drain(..removed);
        drop(files);
        if removed > 0 {
            tracing::info!(removed, min_phy_offset, "deleted old index files");
            sync_dir(&self.dir)?;
        }
        result.map(|()| removed)
    }

    /// Writes files changed since the last flush back to disk (`msync`) and waits.
    ///
    /// # Errors
    /// [`StoreError::Io`] on the first write-back error.
    pub fn flush(&self) -> Result<()> {
        let files = self.files.read().clone();
        files.iter().try_for_each(|f| f.flush())
    }

    /// Number of index files (for tests and stats).
    #[must_use]
    pub fn file_count(&self) -> usize {
        self.files.read().len()
    }
}

/// Non-negative hashes of the keys `record` is indexed under, without repeats, at most
/// `capacity` (and [`INDEX_KEYS_PER_MESSAGE_MAX`]).
fn key_hashes(record: &RecordView<'_>, capacity: usize) -> Vec<i32> {
    let max = INDEX_KEYS_PER_MESSAGE_MAX.min(capacity);
    let uniq = properties::get(record.properties, UNIQ_KEY);
    let keys = properties::get(record.properties, KEYS)
        .into_iter()
        .flat_map(|keys| keys.split(KEY_SEPARATOR));
    let mut hashes = Vec::new();
    for key in uniq.into_iter().chain(keys).filter(|k| !k.is_empty()) {
        if hashes.len() >= max {
            break;
        }
        let hash = key_hash(record.topic, key);
        if !hashes.contains(&hash) {
            hashes.push(hash);
        }
    }
    hashes
}

/// Java's hash of `topic#key`, made non-negative as RocketMQ does (`i32::MIN` becomes 0).
fn key_hash(topic: &str, key: &str) -> i32 {
    java_string_hash(&format!("{topic}#{key}"))
        .checked_abs()
        .unwrap_or(0)
}

/// Deletes `path`; a file already gone is not an error.
fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::io("remove", path, e)),
    }
}

/// A [`StoreError::BadFile`] for `path`.
fn bad_file(path: &Path, reason: &str) -> StoreError {
    StoreError::BadFile {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    }
}
