//! `apogee bench limits`: the storage ceilings of this machine, measured with plain files.
//!
//! A broker figure such as "312 MB/s appended" says little on its own: the same code is fast
//! on an NVMe drive and slow on a network volume. Every other benchmark therefore prints its
//! figures beside one of these ceilings, as a ratio. Measured here, in `--dir`:
//!
//! 1. **Buffered sequential write**: 1 MiB `write` calls up to `--buffered-bytes`, then one
//!    `fsync`, timed together. This is the ceiling for appends that go through the page cache
//!    (the commit log is written through a memory map and flushed later). The run must be
//!    much larger than the kernel's dirty-page limit (a fraction of RAM): a shorter run only
//!    measures memory copies into the page cache plus one short flush, not the disk.
//! 2. **`O_DIRECT` sequential write**, at queue depth 1 (one thread) and 8 (eight threads
//!    with `pwrite` to disjoint regions), 1 MiB buffers aligned to 4096 bytes, then one
//!    `fdatasync`: what the device accepts without the page cache. Reported as unavailable
//!    where the file system refuses `O_DIRECT`.
//! 3. **4 KiB `pwrite` + `fdatasync` latency**: the floor under a synchronously flushed send;
//!    the mean, p50, p99 and the rate (syncs per second, 1 / mean) bound group commit.
//! 4. **256 KiB `pwrite` + `fdatasync` throughput**: a group commit of a busy batch.
//!
//! The `O_DIRECT` and sync files are preallocated with `fallocate` (not filled with zeros),
//! and that is made durable before timing starts, as the store preallocates its mapped
//! files: the timed syncs then carry no block allocation, only the unwritten-to-written
//! extent conversion that the store's own syncs carry too. (A zero-filled file gives a
//! better figure, by 15-35% on the first machine measured, that the store never sees.)
//!
//! MB is 10⁶ bytes throughout. Every file is removed afterwards, also on error.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;

use super::UserError;
use super::report::{self, Figure};
use super::size::{self, GIB, KIB, MIB};

/// Size of each `write`/`pwrite` in the sequential write measurements.
const CHUNK: u64 = MIB;
/// Alignment of `O_DIRECT` buffers and offsets (the largest logical block size in use).
const DIRECT_ALIGN: usize = 4096;
/// Smallest `O_DIRECT` run: shorter runs are dominated by thread start-up.
const DIRECT_MIN_BYTES: u64 = 64 * MIB;
/// Threads (and so requests in flight) for the deep-queue `O_DIRECT` run.
const DIRECT_DEEP_QUEUE: u64 = 8;
/// Free space that must remain on the file system while the largest scratch file exists.
const MIN_FREE_AFTER: u64 = GIB;
/// Size and count of the small synced writes.
const SYNC_SMALL: (u64, u64) = (4 * KIB, 2000);
/// Size and count of the large synced writes.
const SYNC_LARGE: (u64, u64) = (256 * KIB, 400);
/// How often a long step reports its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Arguments of `apogee bench limits`.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitsArgs {
    /// Directory for the scratch files; created if missing, the files are removed afterwards.
    #[arg(long, default_value = "./data/bench")]
    pub dir: PathBuf,
    /// Print exactly one JSON object on stdout instead of a table (progress stays on stderr).
    #[arg(long)]
    pub json: bool,
    /// Bytes written by the buffered write test, e.g. 512M or 4G (binary suffixes).
    /// Anything much below the machine's dirty-page limit measures memory copies into the
    /// page cache, not the disk; the O_DIRECT tests write a quarter of it (at least 64M).
    #[arg(long, default_value = "4G", value_parser = size::parse_size)]
    pub buffered_bytes: u64,
}

/// Runs `apogee bench limits`: measures, then prints a table or one JSON object.
///
/// # Errors
/// If the directory is unusable, space is short, or any file operation fails.
pub fn run(args: &LimitsArgs) -> Result<()> {
    let opts = LimitsOptions {
        dir: args.dir.clone(),
        buffered_bytes: args.buffered_bytes,
    };
    let limits = measure(&opts, &|line| eprintln!("limits: {line}"))?;
    if args.json {
        report::print_json(&limits)
    } else {
        limits.print_human();
        Ok(())
    }
}

/// The storage ceilings of one directory's file system. MB is 10⁶ bytes, µs microseconds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Limits {
    /// Buffered sequential write of `buffered_bytes` in 1 MiB writes plus one `fsync`, MB/s.
    pub buffered_write_mb_s: f64,
    /// `O_DIRECT` sequential write with one request in flight, MB/s; `None` if unavailable.
    pub direct_write_qd1_mb_s: Option<f64>,
    /// `O_DIRECT` write with eight threads on disjoint regions, MB/s; `None` if unavailable.
    pub direct_write_qd8_mb_s: Option<f64>,
    /// Mean of one 4 KiB `pwrite` plus `fdatasync`, µs.
    pub fsync_4k_mean_us: f64,
    /// Median of one 4 KiB `pwrite` plus `fdatasync`, µs.
    pub fsync_4k_p50_us: f64,
    /// 99th percentile of one 4 KiB `pwrite` plus `fdatasync`, µs.
    pub fsync_4k_p99_us: f64,
    /// 4 KiB synced writes per second, `1 / mean`.
    pub fsync_4k_per_s: f64,
    /// Throughput of 256 KiB `pwrite` plus `fdatasync` pairs, MB/s.
    pub fsync_256k_mb_s: f64,
    /// The directory measured, as given.
    pub dir: String,
    /// Bytes written by the buffered write test.
    pub buffered_bytes: u64,
    /// Bytes written by each `O_DIRECT` test.
    pub direct_bytes: u64,
    /// Why `O_DIRECT` was not measured, when it was not.
    pub direct_unavailable: Option<String>,
    /// Number of 4 KiB synced writes timed.
    pub fsync_4k_count: u64,
    /// Number of 256 KiB synced writes timed.
    pub fsync_256k_count: u64,
    /// How the sync files were preallocated: `fallocate`, or `sparse set_len` where the file
    /// system cannot preallocate.
    pub preallocation: String,
    /// Loopback TCP round trip, µs. Not measured yet: always `None`.
    pub loopback_rtt_us: Option<f64>,
}

/// What [`measure`] measures: where, and how much to write.
#[derive(Debug, Clone)]
pub struct LimitsOptions {
    /// Directory for the scratch files; created if missing.
    pub dir: PathBuf,
    /// Bytes for the buffered write test; the `O_DIRECT` tests write a quarter (min 64 MiB).
    /// Below the kernel's dirty-page limit (a fraction of RAM) the buffered figure measures
    /// memory copies into the page cache, not the disk; 4 GiB is the command's default.
    pub buffered_bytes: u64,
}

/// Measures the storage ceilings of `opts.dir`, reporting each step (and, in long steps,
/// progress about once a second) through `progress`.
///
/// Refuses to start if the largest scratch file would leave less than 1 GiB free.
///
/// # Errors
/// [`UserError`] for a bad size or too little space; I/O errors with the file and operation.
pub fn measure(opts: &LimitsOptions, progress: &dyn Fn(&str)) -> Result<Limits> {
    if opts.buffered_bytes < MIB {
        return Err(UserError::new(
            format!("--buffered-bytes {} is too small", opts.buffered_bytes),
            "write at least 1M; 4G or more measures the disk rather than the page cache",
        )
        .into());
    }
    let dir = &opts.dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the bench directory {}", dir.display()))?;
    let direct_bytes = direct_bytes_for(opts.buffered_bytes);
    check_free_space(dir, opts.buffered_bytes.max(direct_bytes))?;

    let buffered_write_mb_s = measure_buffered(dir, opts.buffered_bytes, progress)?;
    let qd1 = measure_direct(dir, direct_bytes, 1, progress)?;
    let qd8 = match &qd1 {
        Direct::Measured(_) => measure_direct(dir, direct_bytes, DIRECT_DEEP_QUEUE, progress)?,
        Direct::Unavailable(reason) => Direct::Unavailable(reason.clone()),
    };
    let small = measure_syncs(dir, SYNC_SMALL, progress)?;
    let large = measure_syncs(dir, SYNC_LARGE, progress)?;
    Ok(Limits {
        buffered_write_mb_s,
        direct_write_qd1_mb_s: qd1.mb_s(),
        direct_write_qd8_mb_s: qd8.mb_s(),
        fsync_4k_mean_us: small.mean_us(),
        fsync_4k_p50_us: small.quantile_us(0.50),
        fsync_4k_p99_us: small.quantile_us(0.99),
        fsync_4k_per_s: small.per_second(),
        fsync_256k_mb_s: large.mb_s(),
        dir: dir.display().to_string(),
        buffered_bytes: opts.buffered_bytes,
        direct_bytes,
        direct_unavailable: qd1.reason(),
        fsync_4k_count: SYNC_SMALL.1,
        fsync_256k_count: SYNC_LARGE.1,
        preallocation: small.preallocation.to_owned(),
        loopback_rtt_us: None,
    })
}

impl Limits {
    /// The buffered write ceiling, for printing beside a benchmark figure.
    #[must_use]
    pub fn buffered_write_figure(&self) -> Figure<'static> {
        figure("buffered write", self.buffered_write_mb_s, "MB/s")
    }

    /// The `O_DIRECT` queue-depth-1 ceiling, if `O_DIRECT` was available.
    #[must_use]
    pub fn direct_write_qd1_figure(&self) -> Option<Figure<'static>> {
        let value = self.direct_write_qd1_mb_s?;
        Some(figure("direct write qd1", value, "MB/s"))
    }

    /// The `O_DIRECT` queue-depth-8 ceiling, if `O_DIRECT` was available.
    #[must_use]
    pub fn direct_write_qd8_figure(&self) -> Option<Figure<'static>> {
        let value = self.direct_write_qd8_mb_s?;
        Some(figure("direct write qd8", value, "MB/s"))
    }

    /// Mean latency of a 4 KiB write plus `fdatasync`, µs.
    #[must_use]
    pub fn sync_4k_mean_figure(&self) -> Figure<'static> {
        figure("4 KiB sync mean", self.fsync_4k_mean_us, "µs")
    }

    /// Median latency of a 4 KiB write plus `fdatasync`, µs.
    #[must_use]
    pub fn sync_4k_p50_figure(&self) -> Figure<'static> {
        figure("4 KiB sync p50", self.fsync_4k_p50_us, "µs")
    }

    /// 99th-percentile latency of a 4 KiB write plus `fdatasync`, µs.
    #[must_use]
    pub fn sync_4k_p99_figure(&self) -> Figure<'static> {
        figure("4 KiB sync p99", self.fsync_4k_p99_us, "µs")
    }

    /// 4 KiB synced writes per second.
    #[must_use]
    pub fn sync_4k_rate_figure(&self) -> Figure<'static> {
        figure("4 KiB sync rate", self.fsync_4k_per_s, "syncs/s")
    }

    /// Throughput of 256 KiB writes each followed by `fdatasync`, MB/s.
    #[must_use]
    pub fn sync_256k_figure(&self) -> Figure<'static> {
        figure("256 KiB sync write", self.fsync_256k_mb_s, "MB/s")
    }

    /// Prints the ceilings as a small aligned table on stdout.
    pub fn print_human(&self) {
        let direct = size::format_bytes(self.direct_bytes);
        println!("storage limits of {} (MB = 10^6 bytes)", self.dir);
        let buffered = format!(
            "{} in 1 MiB writes, then one fsync",
            size::format_bytes(self.buffered_bytes)
        );
        println!(
            "  {}",
            report::format_figure_with_note(&self.buffered_write_figure(), &buffered)
        );
        let direct_rows = [
            (
                "direct write qd1",
                self.direct_write_qd1_figure(),
                "1 thread",
            ),
            (
                "direct write qd8",
                self.direct_write_qd8_figure(),
                "8 threads",
            ),
        ];
        for (label, value, threads) in direct_rows {
            let line = match value {
                Some(fig) => {
                    let note = format!("{direct} O_DIRECT, {threads}, then fdatasync");
                    report::format_figure_with_note(&fig, &note)
                }
                None => {
                    let reason = self.direct_unavailable.as_deref().unwrap_or("not measured");
                    report::format_unavailable(label, reason)
                }
            };
            println!("  {line}");
        }
        let small = format!(
            "{} x pwrite 4 KiB + fdatasync, preallocated by {}",
            self.fsync_4k_count, self.preallocation
        );
        println!(
            "  {}",
            report::format_figure_with_note(&self.sync_4k_mean_figure(), &small)
        );
        println!("  {}", report::format_figure(&self.sync_4k_p50_figure()));
        println!("  {}", report::format_figure(&self.sync_4k_p99_figure()));
        println!("  {}", report::format_figure(&self.sync_4k_rate_figure()));
        let large = format!("{} x pwrite 256 KiB + fdatasync", self.fsync_256k_count);
        println!(
            "  {}",
            report::format_figure_with_note(&self.sync_256k_figure(), &large)
        );
    }
}

/// Shorthand for a [`Figure`] with static label and unit.
fn figure(label: &'static str, value: f64, unit: &'static str) -> Figure<'static> {
    Figure { label, value, unit }
}

/// Bytes for each `O_DIRECT` run: a quarter of the buffered run, at least
/// [`DIRECT_MIN_BYTES`], rounded down so each of the deep-queue threads writes whole chunks.
fn direct_bytes_for(buffered_bytes: u64) -> u64 {
    let unit = CHUNK * DIRECT_DEEP_QUEUE;
    let bytes = (buffered_bytes / 4).max(DIRECT_MIN_BYTES);
    bytes / unit * unit
}

/// Refuses the run if a scratch file of `peak` bytes would leave less than 1 GiB free.
fn check_free_space(dir: &Path, peak: u64) -> Result<()> {
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
fn measure_buffered(dir: &Path, bytes: u64, progress: &dyn Fn(&str)) -> Result<f64> {
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
enum Direct {
    /// Measured throughput, MB/s.
    Measured(f64),
    /// The file system refused `O_DIRECT`; why.
    Unavailable(String),
}

impl Direct {
    /// The throughput, if measured.
    fn mb_s(&self) -> Option<f64> {
        match self {
            Direct::Measured(rate) => Some(*rate),
            Direct::Unavailable(_) => None,
        }
    }

    /// Why it was not measured, if it was not.
    fn reason(&self) -> Option<String> {
        match self {
            Direct::Measured(_) => None,
            Direct::Unavailable(reason) => Some(reason.clone()),
        }
    }
}

/// Whether an error means "this file system does not do `O_DIRECT`" (tmpfs, some FUSE).
fn direct_refused(error: &io::Error) -> bool {
    matches!(error.raw_os_error(), Some(libc::EINVAL | libc::EOPNOTSUPP))
}

/// Measures `O_DIRECT` sequential writes of `bytes` with `threads` writers, each writing
/// its own contiguous region with `pwrite`, then one `fdatasync`, timed together.
fn measure_direct(dir: &Path, bytes: u64, threads: u64, progress: &dyn Fn(&str)) -> Result<Direct> {
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
fn unavailable(label: &str, op: &str, error: &anyhow::Error, progress: &dyn Fn(&str)) -> Direct {
    let root = error.root_cause();
    progress(&format!(
        "{label}: unavailable, O_DIRECT {op} refused ({root})"
    ));
    Direct::Unavailable(format!("O_DIRECT {op} refused: {root}"))
}

/// Writes `bytes` with `threads` writers, each on its own contiguous region, reporting
/// progress; returns once every writer is done, with the first error any of them met.
fn write_concurrently(
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
fn wait_for_writers(
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
fn write_region(
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
struct SyncRun {
    /// Bytes per write.
    size: u64,
    /// Number of pairs timed.
    count: u64,
    /// Sum of all pair durations.
    total: Duration,
    /// Pair durations in nanoseconds.
    histogram: Histogram<u64>,
    /// How the file was preallocated.
    preallocation: &'static str,
}

impl SyncRun {
    /// Mean pair duration, µs.
    fn mean_us(&self) -> f64 {
        self.total.as_secs_f64() * 1e6 / self.count as f64
    }

    /// Pair duration at `quantile`, µs.
    fn quantile_us(&self, quantile: f64) -> f64 {
        self.histogram.value_at_quantile(quantile) as f64 / 1e3
    }

    /// Pairs per second, `1 / mean`.
    fn per_second(&self) -> f64 {
        self.count as f64 / self.total.as_secs_f64()
    }

    /// Bytes written per second, MB/s.
    fn mb_s(&self) -> f64 {
        mb_per_s(self.size * self.count, self.total)
    }
}

/// Times `count` pairs of `pwrite` of `size` bytes (at increasing offsets in a file
/// preallocated to hold them all) and `fdatasync`.
fn measure_syncs(
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
fn preallocate(scratch: &Scratch, len: u64) -> Result<&'static str> {
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
fn sync_data(scratch: &Scratch) -> Result<()> {
    rustix::fs::fdatasync(&scratch.file)
        .map_err(io::Error::from)
        .with_context(|| scratch.failed("fdatasync"))
}

/// A scratch file that is removed when dropped, also on error paths.
struct Scratch {
    /// Where it is.
    path: PathBuf,
    /// The open file.
    file: File,
}

impl Scratch {
    /// Creates (or truncates) `dir/.apogee-limits-<pid>-<name>.tmp`, with `O_DIRECT` if
    /// `direct`. The error keeps the `io::Error` as its root cause.
    fn create(dir: &Path, name: &str, direct: bool) -> Result<Self> {
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
    fn failed(&self, op: &str) -> String {
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
struct AlignedBuf {
    /// Backing storage, `len + DIRECT_ALIGN` bytes; never resized, so never moves.
    storage: Vec<u8>,
    /// Index of the first aligned byte.
    start: usize,
    /// Usable length.
    len: usize,
}

impl AlignedBuf {
    /// An aligned buffer of `len` bytes filled with the pattern for `seed`.
    fn new(len: usize, seed: u64) -> Self {
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
    fn as_slice(&self) -> &[u8] {
        &self.storage[self.start..self.start + self.len]
    }
}

/// `len` pseudo-random bytes (xorshift), so that compressing or deduplicating file systems
/// cannot shortcut the writes.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
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
fn mb_per_s(bytes: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64().max(1e-9);
    bytes as f64 / 1e6 / seconds
}

/// Says when a progress line is due: at most once per [`PROGRESS_EVERY`].
struct Ticker {
    /// When the next line is due.
    next: Instant,
}

impl Ticker {
    /// A ticker whose first line is due one period from now.
    fn new() -> Self {
        Self {
            next: Instant::now() + PROGRESS_EVERY,
        }
    }

    /// Time until the next line is due (zero if it is due already).
    fn remaining(&self) -> Duration {
        self.next.saturating_duration_since(Instant::now())
    }

    /// Whether a line is due now; if so, the next one is due a period later.
    fn due(&mut self) -> bool {
        let now = Instant::now();
        if now < self.next {
            return false;
        }
        self.next = now + PROGRESS_EVERY;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny real run in a temporary directory gives positive, finite figures and leaves
    /// no file behind.
    #[test]
    fn tiny_measurement_is_sane() {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = LimitsOptions {
            dir: dir.path().to_path_buf(),
            buffered_bytes: 8 * MIB,
        };
        let limits = measure(&opts, &|_| {}).expect("measure");
        let mut figures = vec![
            limits.buffered_write_mb_s,
            limits.fsync_4k_mean_us,
            limits.fsync_4k_p50_us,
            limits.fsync_4k_p99_us,
            limits.fsync_4k_per_s,
            limits.fsync_256k_mb_s,
        ];
        figures.extend(limits.direct_write_qd1_mb_s);
        figures.extend(limits.direct_write_qd8_mb_s);
        for value in figures {
            assert!(value.is_finite() && value > 0.0, "{limits:?}");
        }
        assert!(
            limits.fsync_4k_p50_us <= limits.fsync_4k_p99_us,
            "{limits:?}"
        );
        assert_eq!(limits.direct_bytes, DIRECT_MIN_BYTES);
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("read_dir").collect();
        assert!(left.is_empty(), "scratch files left behind: {left:?}");
    }

    /// Sizes below one chunk are refused with a hint, before anything is written.
    #[test]
    fn refuses_tiny_sizes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = LimitsOptions {
            dir: dir.path().to_path_buf(),
            buffered_bytes: 1000,
        };
        let error = measure(&opts, &|_| {}).expect_err("too small");
        assert!(error.downcast_ref::<UserError>().is_some(), "{error:#}");
    }

    /// The `O_DIRECT` size is a quarter of the buffered size, at least 64 MiB, and divides
    /// into whole chunks for every deep-queue thread.
    #[test]
    fn direct_bytes_scale() {
        assert_eq!(direct_bytes_for(8 * MIB), 64 * MIB);
        assert_eq!(direct_bytes_for(4 * GIB), GIB);
        assert_eq!(direct_bytes_for(GIB + 3), 256 * MIB);
        assert_eq!(
            direct_bytes_for(1001 * MIB) % (CHUNK * DIRECT_DEEP_QUEUE),
            0
        );
    }

    /// Aligned buffers really are aligned, whatever the allocator returned.
    #[test]
    fn aligned_buffers_are_aligned() {
        for len in [4096, CHUNK as usize] {
            let buf = AlignedBuf::new(len, 7);
            assert_eq!(buf.as_slice().as_ptr().addr() % DIRECT_ALIGN, 0);
            assert_eq!(buf.as_slice().len(), len);
        }
    }
}
