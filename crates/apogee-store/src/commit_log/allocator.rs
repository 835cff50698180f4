//! Background preparation of the next commit-log segment (RocketMQ's
//! `AllocateMappedFileService` and `warmMapedFileEnable`).
//!
//! When the writer starts a segment it asks for the one after it; a background thread makes
//! that file (reserved with `fallocate` and, when warming is on, zero-filled and synced) under
//! a temporary name. When the writer rolls, it installs the prepared file with a rename, so
//! the append path never waits for allocation. If the next file is not ready in time the
//! writer makes a plain one itself and the late file is discarded: appends never wait for the
//! allocator.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex};

use crate::error::{Result, StoreError};
use crate::mapped_file::{ALLOC_SUFFIX, MappedFile, PreparedFile};
use crate::segment_files;

/// Prepares the next segment ahead of the writer.
#[derive(Debug)]
pub struct SegmentAllocator {
    dir: PathBuf,
    segment_bytes: usize,
    warm: bool,
    state: Mutex<State>,
    cv: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Start offset of the segment to prepare next.
    wanted: Option<u64>,
    /// A prepared segment and its start offset (at most one: the allocator runs one ahead).
    ready: Option<(u64, PreparedFile)>,
    stop: bool,
}

impl SegmentAllocator {
    /// Starts the allocator thread for segments of `segment_bytes` in `dir`.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the thread cannot be spawned.
    pub fn spawn(
        dir: &Path,
        segment_bytes: usize,
        warm: bool,
    ) -> Result<(Arc<Self>, JoinHandle<()>)> {
        let allocator = Arc::new(Self {
            dir: dir.to_path_buf(),
            segment_bytes,
            warm,
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
        });
        let worker = allocator.clone();
        let handle = std::thread::Builder::new()
            .name("apogee-allocate".into())
            .spawn(move || worker.run())
            .map_err(|e| StoreError::io("spawn allocator thread", dir, e))?;
        Ok((allocator, handle))
    }

    /// Asks for the segment starting at `start` to be prepared.
    pub fn request(&self, start: u64) {
        let mut state = self.state.lock();
        if state.ready.as_ref().is_some_and(|(s, _)| *s == start) {
            return;
        }
        state.wanted = Some(start);
        self.cv.notify_one();
    }

    /// The prepared segment starting at `start`, if it is ready; a prepared file for any other
    /// offset is discarded.
    pub fn take(&self, start: u64) -> Option<PreparedFile> {
        let mut state = self.state.lock();
        match state.ready.take() {
            Some((s, file)) if s == start => Some(file),
            _ => None,
        }
    }

    /// Stops the thread (after the file it is making, if any); prepared files are discarded.
    pub fn stop(&self) {
        let mut state = self.state.lock();
        state.stop = true;
        state.ready = None;
        self.cv.notify_one();
    }

    fn run(&self) {
        loop {
            let start = {
                let mut state = self.state.lock();
                loop {
                    if state.stop {
                        return;
                    }
                    if let Some(start) = state.wanted.take() {
                        break start;
                    }
                    self.cv.wait(&mut state);
                }
            };
            let path = self.dir.join(segment_files::name(start));
            match MappedFile::prepare(&path, self.segment_bytes, self.warm, ALLOC_SUFFIX) {
                Ok(file) => {
                    let mut state = self.state.lock();
                    if !state.stop {
                        state.ready = Some((start, file));
                    }
                }
                // Not fatal: the writer makes the segment itself and reports its own error.
                Err(e) => tracing::warn!(error = %e, start, "preparing the next segment failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A requested segment becomes ready in the background; only the right offset is handed
    /// out; stopping discards what was prepared.
    #[test]
    fn prepares_ahead() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (allocator, handle) =
            SegmentAllocator::spawn(dir.path(), 64 * 1024, true).expect("spawn");
        allocator.request(65536);
        let mut ready = None;
        for _ in 0..500 {
            if let Some(file) = allocator.take(65536) {
                ready = Some(file);
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let file = ready
            .expect("prepared within 5 s")
            .install()
            .expect("install");
        assert_eq!(file.path(), dir.path().join("00000000000000065536"));
        allocator.request(131_072);
        for _ in 0..500 {
            if allocator.state.lock().ready.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(allocator.take(196_608).is_none(), "wrong offset");
        allocator.request(196_608);
        allocator.stop();
        handle.join().expect("allocator thread");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("00000000000000065536")]
        );
    }
}
