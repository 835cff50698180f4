//! One index file: a 40-byte header, `slot_num` hash slots of 4 bytes and `index_num` entries
//! of 20 bytes, in RocketMQ's `IndexFile` layout (see the [parent module](super)).
//!
//! The header is kept in memory under a lock that also guards the mapped bytes: the writer
//! changes entries, slots and the header only while holding it for writing, and lookups read
//! slots and entries only while holding it for reading. Everything read from the file is
//! untrusted: slot values and chain links are checked before use and never cause a panic.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::RwLock;

use crate::error::{Result, StoreError};
use crate::mapped_file::MappedFile;

/// Bytes of the file header.
pub(super) const HEADER_BYTES: usize = 40;
/// Bytes of one hash slot.
const SLOT_BYTES: usize = 4;
/// Bytes of one entry.
const ENTRY_BYTES: usize = 20;
/// Entries store whole seconds after the header's begin timestamp, rounded down, so a
/// record's store time lies up to this many milliseconds after its entry's time.
const ENTRY_TIME_SLACK_MS: i64 = 999;

/// Sizes of every index file of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Geometry {
    /// Hash slots per file.
    pub slot_num: usize,
    /// Entry positions per file (position 0 is never used: slot value 0 means empty).
    pub index_num: usize,
    /// Size of one file in bytes.
    pub file_bytes: usize,
}

impl Geometry {
    /// Checks the configured sizes.
    pub(super) fn new(slot_num: usize, index_num: usize) -> Result<Self> {
        let max = i32::MAX as usize;
        if slot_num == 0 || slot_num > max {
            return Err(bad_config("maxHashSlotNum", slot_num, "must be 1..=2^31-1"));
        }
        let file_bytes = (2..=max).contains(&index_num).then(|| {
            let slots = HEADER_BYTES.checked_add(slot_num.checked_mul(SLOT_BYTES)?)?;
            slots.checked_add(index_num.checked_mul(ENTRY_BYTES)?)
        });
        let Some(file_bytes) = file_bytes.flatten() else {
            let why = "must be 2..=2^31-1, with a file size that fits in memory";
            return Err(bad_config("maxIndexNum", index_num, why));
        };
        Ok(Self {
            slot_num,
            index_num,
            file_bytes,
        })
    }

    /// Entries one file holds.
    pub(super) fn capacity(&self) -> usize {
        self.index_num - 1
    }

    fn slot_pos(&self, key_hash: i32) -> usize {
        let slot = usize::try_from(key_hash).unwrap_or(0) % self.slot_num;
        HEADER_BYTES + slot * SLOT_BYTES
    }

    fn entry_pos(&self, index: usize) -> usize {
        HEADER_BYTES + self.slot_num * SLOT_BYTES + index * ENTRY_BYTES
    }
}

fn bad_config(key: &'static str, value: usize, reason: &'static str) -> StoreError {
    StoreError::Config {
        key,
        value: value.to_string(),
        reason,
    }
}

/// The header fields (RocketMQ `IndexHeader`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    /// Store timestamp of the first record indexed in the file, ms.
    pub begin_timestamp: i64,
    /// Latest store timestamp indexed in the file, ms.
    pub end_timestamp: i64,
    /// Commit-log offset of the first record indexed in the file (also the file name).
    pub begin_phy_offset: i64,
    /// Commit-log offset of the last record indexed in the file.
    pub end_phy_offset: i64,
    /// Slots in use (as RocketMQ counts them: incremented when an entry starts a chain).
    pub hash_slot_count: i32,
    /// Next entry position; starts at 1.
    pub index_count: i32,
}

impl Header {
    fn decode(b: &[u8]) -> Self {
        Self {
            begin_timestamp: be_i64(b, 0),
            end_timestamp: be_i64(b, 8),
            begin_phy_offset: be_i64(b, 16),
            end_phy_offset: be_i64(b, 24),
            hash_slot_count: be_i32(b, 32),
            index_count: be_i32(b, 36),
        }
    }

    fn encode(&self, out: &mut [u8]) {
        out[0..8].copy_from_slice(&self.begin_timestamp.to_be_bytes());
        out[8..16].copy_from_slice(&self.end_timestamp.to_be_bytes());
        out[16..24].copy_from_slice(&self.begin_phy_offset.to_be_bytes());
        out[24..32].copy_from_slice(&self.end_phy_offset.to_be_bytes());
        out[32..36].copy_from_slice(&self.hash_slot_count.to_be_bytes());
        out[36..40].copy_from_slice(&self.index_count.to_be_bytes());
    }

    /// Whether the file holds at least one entry.
    pub(super) fn has_entries(&self) -> bool {
        self.index_count > 1
    }

    /// Commit-log offset of the file's first record.
    pub(super) fn begin(&self) -> u64 {
        u64::try_from(self.begin_phy_offset).unwrap_or(0)
    }

    /// Every record below this commit-log offset is covered by this file or older ones.
    pub(super) fn covered_below(&self) -> u64 {
        if self.has_entries() {
            u64::try_from(self.end_phy_offset).map_or(0, |end| end.saturating_add(1))
        } else {
            self.begin()
        }
    }

    /// Why the header cannot belong to a file named `name_offset`, if it cannot.
    fn problem(&self, geo: Geometry, name_offset: u64) -> Option<String> {
        let count = usize::try_from(self.index_count).unwrap_or(0);
        let slots = usize::try_from(self.hash_slot_count).ok();
        let begin = u64::try_from(self.begin_phy_offset).ok();
        let why = if count == 0 || count > geo.index_num {
            "indexCount outside 1..=index_num"
        } else if slots.is_none_or(|s| s > geo.slot_num) {
            "hashSlotCount outside 0..=slot_num"
        } else if begin != Some(name_offset) {
            "beginPhyOffset differs from the file name"
        } else if self.end_phy_offset < self.begin_phy_offset {
            "endPhyOffset below beginPhyOffset"
        } else if self.end_timestamp < self.begin_timestamp {
            "endTimestamp below beginTimestamp"
        } else {
            return None;
        };
        let (slot_num, index_num) = (geo.slot_num, geo.index_num);
        Some(format!(
            "{why} (slot_num {slot_num}, index_num {index_num}): {self:?}"
        ))
    }
}

/// One 20-byte entry.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key_hash: i32,
    phy_offset: i64,
    time_diff_secs: i32,
    prev_index: i32,
}

/// What a lookup searches for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lookup {
    /// Non-negative hash of `topic#key`.
    pub key_hash: i32,
    /// Earliest store timestamp, ms.
    pub begin_ms: i64,
    /// Latest store timestamp, ms.
    pub end_ms: i64,
    /// Stop once this many offsets are collected.
    pub limit: usize,
}

/// One mapped index file.
#[derive(Debug)]
pub(super) struct IndexFile {
    map: MappedFile,
    geo: Geometry,
    /// The header; its lock also guards every byte of the mapping.
    header: RwLock<Header>,
    /// Changed since the last flush.
    dirty: AtomicBool,
}

impl IndexFile {
    /// Creates the file of a new index that begins with the record at `begin_phy` stored at
    /// `begin_ts`, and makes its header durable.
    pub(super) fn create(
        path: &Path,
        geo: Geometry,
        begin_phy: u64,
        begin_ts: i64,
    ) -> Result<Self> {
        let begin = i64::try_from(begin_phy).map_err(|_| StoreError::BadFile {
            path: path.to_path_buf(),
            reason: format!("commit-log offset {begin_phy} does not fit the header"),
        })?;
        let header = Header {
            begin_timestamp: begin_ts,
            end_timestamp: begin_ts,
            begin_phy_offset: begin,
            end_phy_offset: begin,
            hash_slot_count: 0,
            index_count: 1,
        };
        let file = Self {
            map: MappedFile::create(path, geo.file_bytes)?,
            geo,
            header: RwLock::new(header),
            dirty: AtomicBool::new(false),
        };
        file.write_header(&header);
        file.map.flush_range(0, HEADER_BYTES)?;
        Ok(file)
    }

    /// Opens the file named by `name_offset` and checks its header. `Ok(None)` means the
    /// header is all zeros: the file was created but its header never reached the disk.
    pub(super) fn open(path: &Path, geo: Geometry, name_offset: u64) -> Result<Option<Self>> {
        let map = MappedFile::open(path, geo.file_bytes)?;
        // SAFETY: the file is not shared yet; nothing writes it.
        let raw = unsafe { map.slice(0, HEADER_BYTES) };
        if raw.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        let header = Header::decode(raw);
        if let Some(reason) = header.problem(geo, name_offset) {
            return Err(StoreError::BadFile {
                path: path.to_path_buf(),
                reason,
            });
        }
        Ok(Some(Self {
            map,
            geo,
            header: RwLock::new(header),
            dirty: AtomicBool::new(false),
        }))
    }

    /// The file's path.
    pub(super) fn path(&self) -> &Path {
        self.map.path()
    }

    /// A copy of the header.
    pub(super) fn header(&self) -> Header {
        *self.header.read()
    }

    /// Entries that still fit.
    pub(super) fn room(&self) -> usize {
        let count = usize::try_from(self.header.read().index_count).unwrap_or(usize::MAX);
        self.geo.index_num.saturating_sub(count)
    }

    /// Adds one entry per hash for the record at `phy` stored at `store_ts`; returns how many
    /// fitted. Entries become visible to lookups all at once.
    pub(super) fn put(&self, hashes: &[i32], phy: u64, store_ts: i64) -> usize {
        let mut h = self.header.write();
        let phy = i64::try_from(phy).unwrap_or(i64::MAX);
        let diff = store_ts.saturating_sub(h.begin_timestamp) / 1000;
        let time_diff_secs = i32::try_from(diff.max(0)).unwrap_or(i32::MAX);
        let mut written = 0;
        for &key_hash in hashes {
            let Ok(index) = usize::try_from(h.index_count) else {
                break;
            };
            if index >= self.geo.index_num {
                break;
            }
            let slot_pos = self.geo.slot_pos(key_hash);
            let head = self.read_i32(slot_pos);
            let prev_index = usize::try_from(head).map_or(0, |p| if p < index { head } else { 0 });
            if prev_index == 0 {
                h.hash_slot_count = h.hash_slot_count.saturating_add(1).min(self.slot_limit());
            }
            let entry = Entry {
                key_hash,
                phy_offset: phy,
                time_diff_secs,
                prev_index,
            };
            self.write_entry(index, &entry);
            self.write_i32(slot_pos, h.index_count);
            h.index_count += 1;
            written += 1;
        }
        if written > 0 {
            h.end_phy_offset = phy.max(h.begin_phy_offset);
            h.end_timestamp = h.end_timestamp.max(store_ts);
            self.write_header(&h);
            self.dirty.store(true, Ordering::Release);
        }
        written
    }

    fn slot_limit(&self) -> i32 {
        i32::try_from(self.geo.slot_num).unwrap_or(i32::MAX)
    }

    /// Lowers the end of the covered range to just below `log_end` and makes the header
    /// durable (the commit log was cut at `log_end`, which lies past this file's begin).
    pub(super) fn lower_end(&self, log_end: u64) -> Result<()> {
        let end = i64::try_from(log_end).unwrap_or(i64::MAX).saturating_sub(1);
        {
            let mut h = self.header.write();
            if !h.has_entries() || h.end_phy_offset <= end {
                return Ok(());
            }
            h.end_phy_offset = end.max(h.begin_phy_offset);
            self.write_header(&h);
        }
        self.map.flush_range(0, HEADER_BYTES)
    }

    /// Appends to `out` the commit-log offsets of entries matching `q`, newest first, skipping
    /// offsets already in `out`, until `out` holds `q.limit` offsets.
    pub(super) fn lookup(&self, q: &Lookup, out: &mut Vec<u64>) {
        let h = self.header.read();
        let overlaps = q.begin_ms <= h.end_timestamp && q.end_ms >= h.begin_timestamp;
        if !h.has_entries() || !overlaps {
            return;
        }
        let count = usize::try_from(h.index_count).unwrap_or(0);
        let mut current = self.read_i32(self.geo.slot_pos(q.key_hash));
        let mut steps = 0;
        while out.len() < q.limit && steps < self.geo.index_num {
            let Some(index) = usize::try_from(current)
                .ok()
                .filter(|&i| i > 0 && i < count)
            else {
                break;
            };
            steps += 1;
            let entry = self.read_entry(index);
            if let Some(phy) = matching_offset(&h, &entry, q).filter(|p| !out.contains(p)) {
                out.push(phy);
            }
            if entry.prev_index >= current {
                break;
            }
            current = entry.prev_index;
        }
    }

    /// Writes the file back to disk and waits, if it changed since the last flush.
    pub(super) fn flush(&self) -> Result<()> {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let result = self.map.flush();
        if result.is_err() {
            self.dirty.store(true, Ordering::Release);
        }
        result
    }

    fn write_header(&self, h: &Header) {
        // SAFETY: called with the header lock held for writing (or before the file is
        // shared); readers touch the mapping only under the read lock.
        h.encode(unsafe { self.map.slice_mut(0, HEADER_BYTES) });
    }

    fn read_i32(&self, pos: usize) -> i32 {
        // SAFETY: called with the header lock held; writers hold it exclusively.
        be_i32(unsafe { self.map.slice(pos, 4) }, 0)
    }

    fn write_i32(&self, pos: usize, value: i32) {
        // SAFETY: called with the header lock held for writing.
        unsafe { self.map.slice_mut(pos, 4) }.copy_from_slice(&value.to_be_bytes());
    }

    fn read_entry(&self, index: usize) -> Entry {
        // SAFETY: called with the header lock held; `index < indexCount <= index_num`.
        let b = unsafe { self.map.slice(self.geo.entry_pos(index), ENTRY_BYTES) };
        Entry {
            key_hash: be_i32(b, 0),
            phy_offset: be_i64(b, 4),
            time_diff_secs: be_i32(b, 12),
            prev_index: be_i32(b, 16),
        }
    }

    fn write_entry(&self, index: usize, e: &Entry) {
        // SAFETY: called with the header lock held for writing; `index < index_num`.
        let out = unsafe { self.map.slice_mut(self.geo.entry_pos(index), ENTRY_BYTES) };
        out[0..4].copy_from_slice(&e.key_hash.to_be_bytes());
        out[4..12].copy_from_slice(&e.phy_offset.to_be_bytes());
        out[12..16].copy_from_slice(&e.time_diff_secs.to_be_bytes());
        out[16..20].copy_from_slice(&e.prev_index.to_be_bytes());
    }
}

/// The commit-log offset of `entry` if it has the hash of `q` and a time within its range.
fn matching_offset(h: &Header, entry: &Entry, q: &Lookup) -> Option<u64> {
    let secs = i64::from(entry.time_diff_secs);
    let time = h.begin_timestamp.saturating_add(secs.saturating_mul(1000));
    let in_range = time <= q.end_ms && time.saturating_add(ENTRY_TIME_SLACK_MS) >= q.begin_ms;
    let hit = entry.key_hash == q.key_hash && in_range;
    hit.then(|| u64::try_from(entry.phy_offset).ok()).flatten()
}

/// The big-endian `i32` at `at`, or 0 if `buf` is too short.
fn be_i32(buf: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(bytes_at(buf, at))
}

/// The big-endian `i64` at `at`, or 0 if `buf` is too short.
fn be_i64(buf: &[u8], at: usize) -> i64 {
    i64::from_be_bytes(bytes_at(buf, at))
}

fn bytes_at<const N: usize>(buf: &[u8], at: usize) -> [u8; N] {
    let mut b = [0u8; N];
    if let Some(src) = buf.get(at..at.saturating_add(N)) {
        b.copy_from_slice(src);
    }
    b
}
