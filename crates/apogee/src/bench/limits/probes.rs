//! The probes behind `apogee bench limits`: each measures one ceiling with plain files.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;

use super::super::UserError;
use super::super::report::Figure;
use super::super::size::{self, KIB};
use super::*;

/// Shorthand for a [`Figure`] with static label and unit.
pub(super) fn figure(label: &'static str, value: f64, unit: &'static str) -> Figure<'static> {
    Figure { label, value, unit }
}

/// Bytes for each `O_DIRECT` run: a quarter of the buffered run, at least
/// [`DIRECT_MIN_BYTES`], rounded down so each of the deep-queue threads writes whole chunks.
pub(super) fn direct_bytes_for(buffered_bytes: u64) -> u64 {
    let unit = CHUNK * DIRECT_DEEP_QUEUE;
    let bytes = (buffered_bytes / 4).max(DIRECT_MIN_BYTES);
    bytes / unit * unit
}

/// Refuses the run if a scratch file of `peak` bytes would leave less than 1 GiB free.
pub(super) fn check_free_space(dir: &Path, peak: u64) -> Result<()> {
    let stat = rustix::fs::statvfs(dir)
        .map_err(io::Error::from)
        .with_context(|| format!("statvfs {}", dir.display()))?;
    let available = stat.f_bavail.saturating_mul(stat.f_frsize);
    tracing::debug!(available, peak, "free space before measuring");
    if available.saturating_sub(peak) >= MIN_FREE_AFTER {
        return Ok(());
    }
    Err(UserError::new(
        format!(
            "not enough free space in {}: {} available, the run writes up to {} and must \
             leave {} free",
            dir.display(),
            size::format_bytes(available),
            size::format_bytes(peak),
            size::format_bytes(MIN_FREE_AFTER),
        ),
        "pass a smaller --buffered-bytes, or a --dir on a file system with more space",
    )
    .into())
}

/// Measures the buffered sequential write: 1 MiB writes, then `fsync`, timed together.
pub(super) fn measure_buffered(dir: &Path, bytes: u64, progress: &dyn Fn(&str)) -> Result<f64> {
    let total = size::format_bytes(bytes);
    progress(&format!(
        "buffered write of {total} in 1 MiB writes, then fsync"
    ));
    let scratch = Scratch::create(dir, "buffered", false)?;
    let chunk = pattern(CHUNK as usize, 1);
    let mut ticker = Ticker::new();
    let start = Instant::now();
    let mut written = 0;
    while written < bytes {
        let len = (bytes - written).min(CHUNK);
        let slice = chunk.get(..len as usize).unwrap_or(&chunk);
        (&scratch.file)
            .write_all(slice)
            .with_context(|| scratch.failed("write"))?;
        written += len;
        if ticker.due() {
            let rate = mb_per_s(written, start.elapsed());
            let done = size::format_bytes(written);
            progress(&format!(
                "buffered write: {done} of {total} ({rate:.0} MB/s so far)"
            ));
        }
    }
    progress("buffered write: fsync (flushes every dirty page; may take a while)");
    let fsync_start = Instant::now();
    rustix::fs::fsync(&scratch.file)
        .map_err(io::Error::from)
        .with_context(|| scratch.failed("fsync"))?;
    let fsync_s = fsync_start.elapsed().as_secs_f64();
    let rate = mb_per_s(bytes, start.elapsed());
    progress(&format!(
        "buffered write: {rate:.1} MB/s (the final fsync took {fsync_s:.2} s)"
    ));
    Ok(rate)
}

/// The outcome of one `O_DIRECT` run.
pub(super) enum Direct {
    /// Measured throughput, MB/s.
    Measured(f64),
    /// The file system refused `O_DIRECT`; why.
    Unavailable(String),
}

impl Direct {
    /// The throughput, if measured.
    pub(super) fn mb_s(&self) -> Option<f64> {
        match self {
            Direct::Measured(rate) => Some(*rate),
            Direct::Unavailable(_) => None,
        }
    }

    /// Why it was not measured, if it was not.
    pub(super) fn reason(&self) -> Option<String> {
        match self {
            Direct::Measured(_) => None,
            Direct::Unavailable(reason) => Some(reason.clone()),
        }
    }
}

/// Whether an error means "this file system does not do `O_DIRECT`" (tmpfs, some FUSE).
pub(super) fn direct_refused(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EINVAL | libc::EOPNOTSUPP))
}

/// Measures `O_DIRECT` sequential writes of `bytes` with `threads` writers, each writing
/// its own contiguous region with `pwrite`, then one `fdatasync`, timed together.
pub(super) fn measure_direct(
    dir: &Path,
    bytes: u64,
    threads: u64,
    progress: &dyn Fn(&str),
) -> Result<Direct> {
    let label = format!("direct write qd{threads}");
    progress(&format!(
        "{label}: {} with O_DIRECT",
        size::format_bytes(bytes)
    ));
    let scratch = match Scratch::create(dir, &format!("direct-qd{threads}"), true) {
        Ok(scratch) => scratch,
        Err(e) if e.downcast_ref().is_some_and(direct_refused) => {
            return Ok(unavailable(&label, "open", &e, progress));
        }
        Err(e) => return Err(e),
    };
    preallocate(&scratch, bytes)?;
    let probe = AlignedBuf::new(DIRECT_ALIGN, 0);
    if let Err(e) = scratch.file.write_all_at(probe.as_slice(), 0) {
        if direct_refused(&e) {
            return Ok(unavailable(
                &label,
                "write",
                &anyhow::Error::from(e),
                progress,
            ));
        }
        return Err(e).with_context(|| scratch.failed("O_DIRECT write"));
    }
    let start = Instant::now();
    write_concurrently(&scratch.file, bytes, threads, &label, progress)
        .with_context(|| scratch.failed("O_DIRECT write"))?;
    sync_data(&scratch)?;
    let rate = mb_per_s(bytes, start.elapsed());
    progress(&format!("{label}: {rate:.1} MB/s"));
    Ok(Direct::Measured(rate))
}

/// Reports and returns an unavailable `O_DIRECT` outcome.
pub(super) fn unavailable(
    label: &str,
    op: &str,
    error: &anyhow::Error,
    progress: &dyn Fn(&str),
) -> Direct {
    let root = error.root_cause();
    progress(&format!(
        "{label}: unavailable, O_DIRECT {op} refused ({root})"
    ));
    Direct::Unavailable(format!("O_DIRECT {op} refused: {root}"))
}

/// Writes `bytes` with `threads` writers, each on its own contiguous region, reporting
/// progress; returns once every writer is done, with the first error any of them met.
pub(super) fn write_concurrently(
    file: &File,
    bytes: u64,
    threads: u64,
    label: &str,
    progress: &dyn Fn(&str),
) -> io::Result<()> {
    let region = bytes / threads;
    let buffers: Vec<AlignedBuf> = (0..threads)
        .map(|i| AlignedBuf::new(CHUNK as usize, i + 2))
        .collect();
    let written = AtomicU64::new(0);
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for (buf, i) in buffers.into_iter().zip(0..) {
            let (done_tx, written) = (done_tx.clone(), &written);
            scope.spawn(move || {
                let outcome = write_region(file, &buf, i * region, region, written);
                // The receiver outlives the scope, so sending cannot fail.
                let _ = done_tx.send(outcome);
            });
        }
        drop(done_tx);
        let report = |done: u64, elapsed: Duration| {
            let rate = mb_per_s(done, elapsed);
            let done = size::format_bytes(done);
            progress(&format!("{label}: {done}, {rate:.0} MB/s so far"));
        };
        wait_for_writers(&done_rx, threads, &written, &report)
    })
}

/// Receives `threads` writer outcomes (without polling, so the end time is exact), calling
/// `report` with the bytes written so far about once a second. Returns the first error.
pub(super) fn wait_for_writers(
    done_rx: &mpsc::Receiver<io::Result<()>>,
    threads: u64,
    written: &AtomicU64,
    report: &dyn Fn(u64, Duration),
) -> io::Result<()> {
    let start = Instant::now();
    let mut ticker = Ticker::new();
    let mut first = Ok(());
    let mut finished = 0;
    while finished < threads {
        match done_rx.recv_timeout(ticker.remaining()) {
            Ok(outcome) => {
                finished += 1;
                if first.is_ok() {
                    first = outcome;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(io::Error::other(
                    "a writer thread stopped without reporting",
                ));
            }
        }
        if ticker.due() {
            report(written.load(Ordering::Relaxed), start.elapsed());
        }
    }
    first
}

/// Writes `len` bytes at `offset` in chunks of `buf`, counting progress in `written`.
pub(super) fn write_region(
    file: &File,
    buf: &AlignedBuf,
    offset: u64,
    len: u64,
    written: &AtomicU64,
) -> io::Result<()> {
    let chunk = buf.as_slice();
    let mut done = 0;
    while done < len {
        file.write_all_at(chunk, offset + done)?;
        done += chunk.len() as u64;
        written.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    }
    Ok(())
}

/// Timings of repeated `pwrite` + `fdatasync` pairs.
pub(super) struct SyncRun {
    /// Bytes per write.
    size: u64,
    /// Number of pairs timed.
    count: u64,
    /// Sum of all pair durations.
    total: Duration,
    /// Pair durations in nanoseconds.
    histogram: Histogram<u64>,
    /// How the file was preallocated.
    pub(super) preallocation: &'static str,
}

impl SyncRun {
    /// Mean pair duration, µs.
    pub(super) fn mean_us(&self) -> f64 {
        self.total.as_secs_f64() * 1e6 / self.count as f64
    }

    /// Pair duration at `quantile`, µs.
    pub(super) fn quantile_us(&self, quantile: f64) -> f64 {
        self.histogram.value_at_quantile(quantile) as f64 / 1e3
    }

    /// Pairs per second, `1 / mean`.
    pub(super) fn per_second(&self) -> f64 {
        self.count as f64 / self.total.as_secs_f64()
    }

    /// Bytes written per second, MB/s.
    pub(super) fn mb_s(&self) -> f64 {
        mb_per_s(self.size * self.count, self.total)
    }
}

/// Times `count` pairs of `pwrite` of `size` bytes (at increasing offsets in a file
/// preallocated to hold them all) and `fdatasync`.
pub(super) fn measure_syncs(
    dir: &Path,
    (size, count): (u64, u64),
    progress: &dyn Fn(&str),
) -> Result<SyncRun> {
    let label = format!("{} KiB write + fdatasync", size / KIB);
    progress(&format!("{label}: {count} times"));
    let scratch = Scratch::create(dir, &format!("sync-{}k", size / KIB), false)?;
    let preallocation = preallocate(&scratch, size * count)?;
    let buf = pattern(size as usize, size);
    let mut histogram = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3)
        .context("cannot create the latency histogram")?;
    let mut total = Duration::ZERO;
    let mut ticker = Ticker::new();
    for i in 0..count {
        let start = Instant::now();
        scratch
            .file
            .write_all_at(&buf, i * size)
            .with_context(|| scratch.failed("pwrite"))?;
        sync_data(&scratch)?;
        let elapsed = start.elapsed();
        total += elapsed;
        histogram.saturating_record(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX));
        if ticker.due() {
            progress(&format!("{label}: {} of {count}", i + 1));
        }
    }
    let run = SyncRun {
        size,
        count,
        total: total.max(Duration::from_nanos(1)),
        histogram,
        preallocation,
    };
    let (mean, rate) = (run.mean_us(), run.mb_s());
    progress(&format!("{label}: mean {mean:.1} µs, {rate:.1} MB/s"));
    Ok(run)
}

/// Reserves `len` bytes for the scratch file with `fallocate` (falling back to a sparse
/// `set_len` where unsupported, like the store) and makes that durable with `fsync`, so
/// later timed syncs do not pay for it. Returns which of the two was done.
pub(super) fn preallocate(scratch: &Scratch, len: u64) -> Result<&'static str> {
    use rustix::fs::{FallocateFlags, fallocate};
    let how = match fallocate(&scratch.file, FallocateFlags::empty(), 0, len) {
        Ok(()) => "fallocate",
        Err(e) if e == rustix::io::Errno::OPNOTSUPP || e == rustix::io::Errno::NOSYS => {
            scratch
                .file
                .set_len(len)
                .with_context(|| scratch.failed("set_len"))?;
            "sparse set_len"
        }
        Err(e) => return Err(io::Error::from(e)).with_context(|| scratch.failed("fallocate")),
    };
    rustix::fs::fsync(&scratch.file)
        .map_err(io::Error::from)
        .with_context(|| scratch.failed("fsync"))?;
    Ok(how)
}

/// `fdatasync` on the scratch file.
pub(super) fn sync_data(scratch: &Scratch) -> Result<()> {
    rustix::fs::fdatasync(&scratch.file)
        .map_err(io::Error::from)
        .with_context(|| scratch.failed("fdatasync"))
}

/// A scratch file that is removed when dropped, also on error paths.
pub(super) struct Scratch {
    /// Where it is.
    path: PathBuf,
    /// The open file.
    file: File,
}

impl Scratch {
    /// Creates (or truncates) `dir/.apogee-limits-<pid>-<name>.tmp`, with `O_DIRECT` if
    /// `direct`. The error keeps the `io::Error` as its root cause.
    pub(super) fn create(dir: &Path, name: &str, direct: bool) -> Result<Self> {
        let path = dir.join(format!(".apogee-limits-{}-{name}.tmp", std::process::id()));
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(true);
        if direct {
            options.custom_flags(libc::O_DIRECT);
        }
        let file = options.open(&path).with_context(|| {
            let flag = if direct { " with O_DIRECT" } else { "" };
            format!("cannot create the scratch file {}{flag}", path.display())
        })?;
        tracing::debug!(path = %path.display(), direct, "scratch file created");
        Ok(Self { path, file })
    }

    /// Context for a failed operation on this file.
    pub(super) fn failed(&self, op: &str) -> String {
        format!("{op} on the scratch file {} failed", self.path.display())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot remove scratch file");
        }
    }
}

/// A buffer whose bytes start at a multiple of [`DIRECT_ALIGN`], as `O_DIRECT` requires.
/// Made by over-allocating a `Vec` and starting at the first aligned byte (no `unsafe`).
pub(super) struct AlignedBuf {
    /// Backing storage, `len + DIRECT_ALIGN` bytes; never resized, so never moves.
    storage: Vec<u8>,
    /// Index of the first aligned byte.
    start: usize,
    /// Usable length.
    len: usize,
}

impl AlignedBuf {
    /// An aligned buffer of `len` bytes filled with the pattern for `seed`.
    pub(super) fn new(len: usize, seed: u64) -> Self {
        let mut storage = vec![0; len + DIRECT_ALIGN];
        let misalignment = storage.as_ptr().addr() % DIRECT_ALIGN;
        let start = (DIRECT_ALIGN - misalignment) % DIRECT_ALIGN;
        let data = pattern(len, seed);
        storage[start..start + len].copy_from_slice(&data);
        Self {
            storage,
            start,
            len,
        }
    }

    /// The aligned bytes.
    pub(super) fn as_slice(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }
}

/// `len` pseudo-random bytes (xorshift), so that compressing or deduplicating file systems
/// cannot shortcut the writes.
pub(super) fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// `bytes` over `elapsed`, in MB/s (10⁶ bytes per second).
pub(super) fn mb_per_s(bytes: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64().max(1e-9);
    bytes as f64 / 1e6 / seconds
}

/// Says when a progress line is due: at most once per [`PROGRESS_EVERY`].
pub(super) struct Ticker {
    /// When the next line is due.
    next: Instant,
}

impl Ticker {
    /// A ticker whose first line is due one period from now.
    pub(super) fn new() -> Self {
        Self {
            next: Instant::now() + PROGRESS_EVERY,
        }
    }

    /// Time until the next line is due (zero if it is due already).
    pub(super) fn remaining(&self) -> Duration {
        self.next.saturating_duration_since(Instant::now())
    }

    /// Whether a line is due now; if so, the next one is due a period later.
    pub(super) fn due(&mut self) -> bool {
        let now = Instant::now();
        if now < self.next {
            return false;
        }
        self.next = now + PROGRESS_EVERY;
        true
    }
}
