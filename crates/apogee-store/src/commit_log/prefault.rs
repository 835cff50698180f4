//! The pre-faulter: keeps the pages just past the end of the log faulted in, writable, ahead
//! of the writer.
//!
//! A segment is `fallocate`d, so its blocks exist but are marked unwritten. The first write
//! to each of its pages through the mapping faults: the kernel allocates and zeroes a page
//! and ext4's `page_mkwrite` starts a journal handle — which waits while the journal commits
//! a flush. Measured under 32 concurrent senders, those faults were ~10% of broker CPU and
//! stalled every append for up to ~20 ms twice a second (the ASYNC_FLUSH interval). Faulting
//! the next [`PREFAULT_AHEAD_BYTES`] in from this thread moves both off the append path.
//!
//! The pages are zeros until the writer fills them, and a zero page past the log end is what
//! recovery already reads as "nothing written here", so this changes nothing on disk that
//! matters. Kernels without `MADV_POPULATE_WRITE` (before 5.14) disable it at the first try.

use std::sync::Arc;
use std::thread::JoinHandle;

use crate::commit_log::CommitLog;
use crate::error::{Result, StoreError};
use crate::limits::{PREFAULT_ACTIVE_TICK, PREFAULT_AHEAD_BYTES, PREFAULT_IDLE_TICK};

/// Starts the pre-fault thread; it ends when the log is closed.
///
/// # Errors
/// [`StoreError::Io`] if the thread cannot be spawned.
pub fn spawn(log: Arc<CommitLog>) -> Result<JoinHandle<()>> {
    let dir = log.dir().to_path_buf();
    std::thread::Builder::new()
        .name("apogee-prefault".into())
        .spawn(move || run(&log))
        .map_err(|e| StoreError::io("spawn prefault thread", dir, e))
}

fn run(log: &CommitLog) {
    let mut prefaulted = 0u64;
    let mut last_published = u64::MAX;
    while !log.is_closed() {
        let published = log.published();
        prefaulted = prefaulted.max(published);
        if let Err(error) = prefault_to(log, &mut prefaulted, published + PREFAULT_AHEAD_BYTES) {
            tracing::info!(%error, "pre-faulting the commit log is not available; appends fault pages in themselves");
            return;
        }
        let tick = if published == last_published {
            PREFAULT_IDLE_TICK
        } else {
            PREFAULT_ACTIVE_TICK
        };
        last_published = published;
        std::thread::sleep(tick);
    }
}

/// Faults `[*prefaulted, want)` in, segment by segment, as far as segments exist (the next
/// one may not be installed yet).
fn prefault_to(log: &CommitLog, prefaulted: &mut u64, want: u64) -> std::io::Result<()> {
    while *prefaulted < want {
        let Some(segment) = log.segment_for(*prefaulted) else {
            return Ok(());
        };
        let end = want.min(segment.end());
        let from = (*prefaulted - segment.start()) as usize;
        segment
            .file()
            .prefault_write(from, (end - *prefaulted) as usize)?;
        *prefaulted = end;
    }
    Ok(())
}
