//! The checkpoint: how far the commit log and the derived files (consume queues, index) are
//! known to be on disk, so that recovery scans only what may be missing.
//!
//! One 4 KiB page, rewritten in place and synced:
//! `magic u32 | version u32 | commitLogFlushed u64 | dispatchFlushed u64 | writtenAtMs i64 |
//! crc32 u32` (CRC over the preceding 32 bytes). A torn or missing checkpoint is treated as
//! "nothing known", which makes recovery scan everything: slower, never wrong.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{Result, StoreError};

const MAGIC: u32 = 0x4150_434B; // "APCK"
const VERSION: u32 = 1;
const PAGE_BYTES: usize = 4096;
const BODY_BYTES: usize = 32;

/// Positions known to be durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Checkpoint {
    /// Every commit-log byte below this offset was on disk when the checkpoint was written.
    pub commit_log_flushed: u64,
    /// Consume-queue units and index entries of every record below this commit-log offset
    /// were on disk when the checkpoint was written.
    pub dispatch_flushed: u64,
}

/// The checkpoint file.
#[derive(Debug)]
pub struct CheckpointFile {
    path: PathBuf,
    file: File,
    /// The last checkpoint written, to skip rewriting an unchanged one.
    last: Option<Checkpoint>,
}

impl CheckpointFile {
    /// Opens (or creates) the checkpoint at `path` and reads it; `None` when it is missing,
    /// new or unreadable.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the file cannot be opened.
    pub fn open(path: &Path) -> Result<(Self, Option<Checkpoint>)> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| StoreError::io("open", path, e))?;
        let mut page = [0u8; PAGE_BYTES];
        let read = file.read_at(&mut page, 0).unwrap_or(0);
        let checkpoint = (read >= BODY_BYTES + 4).then(|| decode(&page)).flatten();
        if read > 0 && checkpoint.is_none() {
            tracing::warn!(path = %path.display(), "checkpoint unreadable; recovery will scan all");
        }
        Ok((
            Self {
                path: path.to_path_buf(),
                file,
                last: None,
            },
            checkpoint,
        ))
    }

    /// Writes `checkpoint` and waits until it is on disk (nothing to do if it is the one
    /// written last).
    ///
    /// # Errors
    /// [`StoreError::Io`] on a write or sync failure.
    pub fn write(&mut self, checkpoint: Checkpoint) -> Result<()> {
        if self.last == Some(checkpoint) {
            return Ok(());
        }
        let page = encode(checkpoint);
        self.file
            .write_all_at(&page, 0)
            .map_err(|e| StoreError::io("write", &self.path, e))?;
        self.file
            .sync_data()
            .map_err(|e| StoreError::io("fdatasync", &self.path, e))?;
        self.last = Some(checkpoint);
        Ok(())
    }
}

fn encode(c: Checkpoint) -> [u8; PAGE_BYTES] {
    let mut page = [0u8; PAGE_BYTES];
    page[0..4].copy_from_slice(&MAGIC.to_be_bytes());
    page[4..8].copy_from_slice(&VERSION.to_be_bytes());
    page[8..16].copy_from_slice(&c.commit_log_flushed.to_be_bytes());
    page[16..24].copy_from_slice(&c.dispatch_flushed.to_be_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    page[24..32].copy_from_slice(&now.to_be_bytes());
    let crc = crc32fast::hash(&page[..BODY_BYTES]);
    page[BODY_BYTES..BODY_BYTES + 4].copy_from_slice(&crc.to_be_bytes());
    page
}

fn decode(page: &[u8]) -> Option<Checkpoint> {
    let u32_at = |i: usize| Some(u32::from_be_bytes(page.get(i..i + 4)?.try_into().ok()?));
    let u64_at = |i: usize| Some(u64::from_be_bytes(page.get(i..i + 8)?.try_into().ok()?));
    if u32_at(0)? != MAGIC || u32_at(4)? != VERSION {
        return None;
    }
    if u32_at(BODY_BYTES)? != crc32fast::hash(page.get(..BODY_BYTES)?) {
        return None;
    }
    Some(Checkpoint {
        commit_log_flushed: u64_at(8)?,
        dispatch_flushed: u64_at(16)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A written checkpoint reads back; a torn one reads as unknown.
    #[test]
    fn round_trip_and_torn() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("checkpoint");
        let (mut file, none) = CheckpointFile::open(&path).expect("open");
        assert_eq!(none, None);
        let cp = Checkpoint {
            commit_log_flushed: 4096,
            dispatch_flushed: 2048,
        };
        file.write(cp).expect("write");
        drop(file);
        assert_eq!(CheckpointFile::open(&path).expect("open").1, Some(cp));
        let mut raw = std::fs::read(&path).expect("read");
        raw[10] ^= 1;
        std::fs::write(&path, raw).expect("write");
        assert_eq!(CheckpointFile::open(&path).expect("open").1, None);
    }
}
