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
    /// makes its directory entry durable. Equivalent to [`MappedFile::prepare`] without
    /// zero-filling followed by [`PreparedFile::install`].
    ///
    /// # Errors
    /// [`StoreError::Io`] if the file exists, space cannot be reserved, or mapping fails.
    pub fn create(path: &Path, len: usize) -> Result<Self> {
        Self::prepare(path, len, false, TMP_SUFFIX)?.install()
    }

    /// Makes a file of `len` bytes that will become `path`, under a temporary name (`path`
    /// plus `suffix`, one of [`TEMP_SUFFIXES`]; each kind of maker has its own so that two
    /// never share a file) so a crash never leaves a short or half-made file under a real
    /// name; temporaries are ignored by every listing and removed at the next start.
    ///
    /// Space is reserved with `fallocate`. With `zero_fill`, zeros are also written and synced,
    /// so the file's extents are already "written": later syncs of data in it need no
    /// extent conversion (a journal commit on ext4), which makes each SYNC_FLUSH sync markedly
    /// cheaper. It costs one extra write of the file, which is why it runs ahead of need on a
    /// background thread.
    ///
    /// # Errors
    /// [`StoreError::Io`] if `path` exists or the file cannot be made.
    pub fn prepare(path: &Path, len: usize, zero_fill: bool, suffix: &str) -> Result<PreparedFile> {
        assert!(len > 0, "mapped file length must be positive");
        if path.exists() {
            let exists = std::io::Error::from(std::io::ErrorKind::AlreadyExists);
            return Err(StoreError::io("create", path, exists));
        }
        let mut tmp_name = path.as_os_str().to_owned();
        assert!(
            TEMP_SUFFIXES.contains(&suffix),
            "unknown temporary suffix {suffix}"
        );
        tmp_name.push(suffix);
        let tmp = PathBuf::from(tmp_name);
        // A temporary of the same kind can only be left by a crash; replace it. `create_new`
        // guarantees this maker has the file to itself.
        let _ = std::fs::remove_file(&tmp);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| StoreError::io("create", &tmp, e))?;
        let prepared = PreparedFile {
            tmp,
            path: path.to_path_buf(),
            file: Some(file),
            len,
        };
        let file = prepared.file.as_ref().expect("just set");
        preallocate(file, len as u64).map_err(|e| StoreError::io("fallocate", &prepared.tmp, e))?;
        if zero_fill {
            zero_fill_file(file, len).map_err(|e| StoreError::io("zero-fill", &prepared.tmp, e))?;
        }
        Ok(prepared)
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

    /// Faults `pos..pos+len` in as if written (`MADV_POPULATE_WRITE`), without changing a
    /// byte: the page-cache pages are allocated and zeroed and the file system's
    /// `page_mkwrite` runs now, on the caller's thread, instead of inside the next append.
    ///
    /// # Errors
    /// The kernel's error (EINVAL before Linux 5.14, which lacks the advice).
    pub fn prefault_write(&self, pos: usize, len: usize) -> std::io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        self.check_range(pos, len);
        self.map
            .advise_range(memmap2::Advice::PopulateWrite, pos, len)
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

/// Suffix of a file being made in place by [`MappedFile::create`].
pub const TMP_SUFFIX: &str = ".tmp";
/// Suffix of a file being made ahead of need by the segment allocator.
pub const ALLOC_SUFFIX: &str = ".alloc";
/// Every temporary suffix; files ending so are never data.
pub const TEMP_SUFFIXES: [&str; 2] = [TMP_SUFFIX, ALLOC_SUFFIX];

/// A fully sized file under a temporary name, waiting to be installed under its real name.
/// Dropping it without installing removes the temporary.
#[derive(Debug)]
pub struct PreparedFile {
    tmp: PathBuf,
    path: PathBuf,
    file: Option<File>,
    len: usize,
}

impl PreparedFile {
    /// The name the file will have once installed.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the file into place, makes the rename durable, and maps it.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the rename, the directory sync or the mapping fails.
    pub fn install(mut self) -> Result<MappedFile> {
        std::fs::rename(&self.tmp, &self.path)
            .map_err(|e| StoreError::io("rename", &self.tmp, e))?;
        let file = self
            .file
            .take()
            .expect("a prepared file holds its file until installed");
        if let Some(dir) = self.path.parent() {
            sync_dir(dir)?;
        }
        MappedFile::map(self.path.clone(), file, self.len)
    }
}

impl Drop for PreparedFile {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes zeros over the whole file and syncs them.
fn zero_fill_file(file: &File, len: usize) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    /// Bytes per zero write: large enough to be efficient, small enough to stay in cache.
    const ZERO_CHUNK_BYTES: usize = 1 << 20;
    let zeros = vec![0u8; ZERO_CHUNK_BYTES.min(len)];
    let mut pos = 0;
    while pos < len {
        let n = zeros.len().min(len - pos);
        file.write_all_at(&zeros[..n], pos as u64)?;
        pos += n;
    }
    file.sync_data()
}

/// Removes temporaries that [`MappedFile::prepare`] left in `dir` (a crash mid-creation).
///
/// # Errors
/// [`StoreError::Io`] if the directory cannot be read or a temporary cannot be removed.
pub fn remove_temporaries(dir: &Path) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io("read dir", dir, e)),
    };
    for entry in entries {
        let path = entry
            .map_err(|e| StoreError::io("read dir", dir, e))?
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if TEMP_SUFFIXES.iter().any(|suffix| name.ends_with(suffix)) {
            std::fs::remove_file(&path).map_err(|e| StoreError::io("delete", &path, e))?;
        }
    }
    Ok(())
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

    /// A prepared file is invisible until installed; dropping it removes the temporary;
    /// zero-filling keeps the file's length and contents zero.
    #[test]
    fn prepare_install_and_discard() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("00000000000000000000");
        let prepared = MappedFile::prepare(&path, 64 * 1024, true, ALLOC_SUFFIX).expect("prepare");
        assert!(!path.exists(), "not visible before install");
        assert!(dir.path().join("00000000000000000000.alloc").exists());
        let file = prepared.install().expect("install");
        assert!(path.exists());
        // SAFETY: no concurrent access.
        assert!(unsafe { file.slice(0, 64 * 1024) }.iter().all(|&b| b == 0));
        let other = dir.path().join("00000000000000065536");
        drop(MappedFile::prepare(&other, 4096, false, TMP_SUFFIX).expect("prepare"));
        assert_eq!(
            std::fs::read_dir(dir.path()).expect("ls").count(),
            1,
            "temporary removed"
        );
        std::fs::write(dir.path().join("x.tmp"), b"").expect("stray temporary");
        remove_temporaries(dir.path()).expect("cleanup");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
    }
}
