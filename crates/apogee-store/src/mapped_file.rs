//! A fixed-size, preallocated, memory-mapped file: the building block of commit-log
//! segments, consume-queue files and index files.
//!
//! Files are preallocated with `fallocate` so that a full disk is reported when a file is
//! created, never as a `SIGBUS` on a later write through the mapping. Access is through raw
//! ranges: the owners of a `MappedFile` guarantee that a range being written is never read or
//! written concurrently (one writer below a lock, readers only below a published position).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use memmap2::{MmapOptions, MmapRaw};

use crate::error::{Result, StoreError};

/// A memory-mapped file of fixed length.
#[derive(Debug)]
pub struct MappedFile {
    path: PathBuf,
    file: File,
    map: MmapRaw,
    len: usize,
}

impl MappedFile {
    /// Creates `path` (which must not exist) with `len` bytes reserved on disk, maps it, and
    /// makes its directory entry durable.
    ///
    /// The file is made under a temporary name and renamed into place once fully sized, so a
    /// crash never leaves a short file under a real name (a temporary left by a crash is
    /// replaced by the next attempt and ignored by every listing).
    ///
    /// # Errors
    /// [`StoreError::Io`] if the file exists, space cannot be reserved, or mapping fails.
    pub fn create(path: &Path, len: usize) -> Result<Self> {
        assert!(len > 0, "mapped file length must be positive");
        if path.exists() {
            let exists = std::io::Error::from(std::io::ErrorKind::AlreadyExists);
            return Err(StoreError::io("create", path, exists));
        }
        let mut tmp_name = path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = PathBuf::from(tmp_name);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| StoreError::io("create", &tmp, e))?;
        if let Err(e) = preallocate(&file, len as u64) {
            let _ = std::fs::remove_file(&tmp);
            return Err(StoreError::io("fallocate", &tmp, e));
        }
        std::fs::rename(&tmp, path).map_err(|e| StoreError::io("rename", &tmp, e))?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Self::map(path.to_path_buf(), file, len)
    }

    /// Opens an existing file that must be exactly `len` bytes long.
    ///
    /// # Errors
    /// [`StoreError::Io`] on open/map failure, [`StoreError::BadFile`] on a size mismatch.
    pub fn open(path: &Path, len: usize) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| StoreError::io("open", path, e))?;
        let actual = file
            .metadata()
            .map_err(|e| StoreError::io("stat", path, e))?
            .len();
        if actual != len as u64 {
            return Err(StoreError::BadFile {
                path: path.to_path_buf(),
                reason: format!("size is {actual} bytes, expected {len}"),
            });
        }
        Self::map(path.to_path_buf(), file, len)
    }

    fn map(path: PathBuf, file: File, len: usize) -> Result<Self> {
        let map = MmapOptions::new()
            .len(len)
            .map_raw(&file)
            .map_err(|e| StoreError::io("mmap", &path, e))?;
        Ok(Self {
            path,
            file,
            map,
            len,
        })
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: mapped files have a positive length.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    fn check_range(&self, pos: usize, len: usize) {
        let end = pos.checked_add(len);
        assert!(
            end.is_some_and(|e| e <= self.len),
            "range {pos}+{len} outside {} ({} bytes)",
            self.path.display(),
            self.len
        );
    }

    /// Bytes `pos..pos+len` for reading.
    ///
    /// # Safety
    /// No one may write the range while the returned slice lives.
    ///
    /// # Panics
    /// If the range is outside the file (a caller bug).
    #[must_use]
    pub unsafe fn slice(&self, pos: usize, len: usize) -> &[u8] {
        self.check_range(pos, len);
        // SAFETY: in bounds (checked above); the caller guarantees no concurrent writer.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(pos), len) }
    }

    /// Bytes `pos..pos+len` for writing.
    ///
    /// # Safety
    /// No one else may read or write the range while the returned slice lives.
    ///
    /// # Panics
    /// If the range is outside the file (a caller bug).
    #[allow(clippy::mut_from_ref)]
    #[must_use]
    pub unsafe fn slice_mut(&self, pos: usize, len: usize) -> &mut [u8] {
        self.check_range(pos, len);
        // SAFETY: in bounds (checked above); the caller guarantees exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.map.as_mut_ptr().add(pos), len) }
    }

    /// Writes bytes `pos..pos+len` back to disk and waits (`msync(MS_SYNC)`, which on Linux
    /// also syncs the metadata needed to read them back, like `fdatasync`).
    ///
    /// # Errors
    /// [`StoreError::Io`] if the kernel reports a write-back error.
    pub fn flush_range(&self, pos: usize, len: usize) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        self.check_range(pos, len);
        self.map
            .flush_range(pos, len)
            .map_err(|e| StoreError::io("msync", &self.path, e))
    }

    /// Asks the kernel to write `pos..pos+len` back without waiting.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the request is refused.
    pub fn flush_range_async(&self, pos: usize, len: usize) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        self.check_range(pos, len);
        self.map
            .flush_async_range(pos, len)
            .map_err(|e| StoreError::io("msync", &self.path, e))
    }

    /// Writes the whole file back to disk and waits.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the kernel reports a write-back error.
    pub fn flush(&self) -> Result<()> {
        self.flush_range(0, self.len)
    }

    /// The open file, for metadata calls.
    #[must_use]
    pub fn file(&self) -> &File {
        &self.file
    }
}

/// Reserves `len` bytes for `file`, falling back to a sparse `set_len` on file systems that
/// cannot preallocate.
fn preallocate(file: &File, len: u64) -> std::io::Result<()> {
    use rustix::fs::{FallocateFlags, fallocate};
    match fallocate(file, FallocateFlags::empty(), 0, len) {
        Ok(()) => Ok(()),
        Err(e) if e == rustix::io::Errno::OPNOTSUPP || e == rustix::io::Errno::NOSYS => {
            file.set_len(len)
        }
        Err(e) => Err(e.into()),
    }
}

/// Makes the entries of directory `dir` durable (after creating, renaming or deleting files).
///
/// # Errors
/// [`StoreError::Io`] if the directory cannot be opened or synced.
pub fn sync_dir(dir: &Path) -> Result<()> {
    let handle = File::open(dir).map_err(|e| StoreError::io("open dir", dir, e))?;
    handle
        .sync_all()
        .map_err(|e| StoreError::io("fsync dir", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes written through the map are in the file after a flush, and reopening checks size.
    #[test]
    fn create_write_flush_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let file = MappedFile::create(&path, 8192).expect("create");
        // SAFETY: single-threaded test, no other access to the range.
        unsafe { file.slice_mut(4090, 4) }.copy_from_slice(b"abcd");
        file.flush_range(4090, 4).expect("flush");
        drop(file);
        let raw = std::fs::read(&path).expect("read");
        assert_eq!(raw.len(), 8192);
        assert_eq!(&raw[4090..4094], b"abcd");
        assert!(
            MappedFile::create(&path, 8192).is_err(),
            "create_new refuses"
        );
        assert!(matches!(
            MappedFile::open(&path, 4096),
            Err(StoreError::BadFile { .. })
        ));
        let again = MappedFile::open(&path, 8192).expect("reopen");
        // SAFETY: no concurrent access.
        assert_eq!(unsafe { again.slice(4090, 4) }, b"abcd");
    }
}
