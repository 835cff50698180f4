//! One commit-log segment: a preallocated, memory-mapped file named by its 20-digit start
//! offset.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use crate::error::Result;
use crate::mapped_file::{MappedFile, PreparedFile};
use crate::segment_files;

/// A commit-log segment covering `[start, start + len)`.
#[derive(Debug)]
pub struct Segment {
    start: u64,
    file: MappedFile,
}

impl Segment {
    /// Creates the segment starting at `start` in `dir`.
    ///
    /// # Errors
    /// I/O errors, including a full disk when space is reserved.
    pub fn create(dir: &Path, start: u64, len: usize) -> Result<Self> {
        assert_eq!(
            start % len as u64,
            0,
            "segment start must be a multiple of its size"
        );
        let file = MappedFile::create(&dir.join(segment_files::name(start)), len)?;
        Ok(Self { start, file })
    }

    /// Installs a segment prepared ahead (see [`super::allocator`]) at `start`.
    ///
    /// # Errors
    /// I/O errors renaming or mapping the file.
    pub fn install(prepared: PreparedFile, start: u64) -> Result<Self> {
        let file = prepared.install()?;
        assert_eq!(
            start % file.len() as u64,
            0,
            "segment start must be a multiple of its size"
        );
        Ok(Self { start, file })
    }

    /// Opens the existing segment file `path` starting at `start`.
    ///
    /// # Errors
    /// I/O errors or a size mismatch.
    pub fn open(path: &Path, start: u64, len: usize) -> Result<Self> {
        Ok(Self {
            start,
            file: MappedFile::open(path, len)?,
        })
    }

    /// First commit-log offset of the segment.
    #[must_use]
    pub fn start(&self) -> u64 {
        self.start
    }

    /// One past the last commit-log offset of the segment.
    #[must_use]
    pub fn end(&self) -> u64 {
        self.start + self.file.len() as u64
    }

    /// The underlying file.
    #[must_use]
    pub fn file(&self) -> &MappedFile {
        &self.file
    }

    /// The file path.
    #[must_use]
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    fn local(&self, offset: u64, len: usize) -> usize {
        assert!(
            offset >= self.start && offset + len as u64 <= self.end(),
            "range {offset}+{len} outside segment {}",
            self.start
        );
        (offset - self.start) as usize
    }

    /// Bytes `offset..offset+len` (commit-log offsets) for reading.
    ///
    /// # Safety
    /// The range must be below the published write position (so no one writes it).
    #[must_use]
    pub unsafe fn slice(&self, offset: u64, len: usize) -> &[u8] {
        let pos = self.local(offset, len);
        // SAFETY: forwarded contract.
        unsafe { self.file.slice(pos, len) }
    }

    /// Bytes `offset..offset+len` (commit-log offsets) for writing.
    ///
    /// # Safety
    /// The caller must be the single writer and the range at or above the published position.
    #[allow(clippy::mut_from_ref)]
    #[must_use]
    pub unsafe fn slice_mut(&self, offset: u64, len: usize) -> &mut [u8] {
        let pos = self.local(offset, len);
        // SAFETY: forwarded contract.
        unsafe { self.file.slice_mut(pos, len) }
    }

    /// Writes `offset..offset+len` back to disk and waits.
    ///
    /// # Errors
    /// [`crate::StoreError::Io`] on a write-back error.
    pub fn flush(&self, offset: u64, len: usize) -> Result<()> {
        let pos = self.local(offset, len);
        self.file.flush_range(pos, len)
    }
}

/// A zero-copy view of published commit-log bytes that keeps its segment mapped.
struct SegmentSlice {
    segment: Arc<Segment>,
    offset: u64,
    len: usize,
}

impl AsRef<[u8]> for SegmentSlice {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: built only for ranges below the published position, which are immutable.
        unsafe { self.segment.slice(self.offset, self.len) }
    }
}

/// Published bytes `offset..offset+len` of `segment` as [`Bytes`], without copying.
///
/// # Safety
/// The range must lie below the commit log's published position.
pub(crate) unsafe fn published_bytes(segment: Arc<Segment>, offset: u64, len: usize) -> Bytes {
    let _ = segment.local(offset, len);
    Bytes::from_owner(SegmentSlice {
        segment,
        offset,
        len,
    })
}
