//! `apogee bench limits`: the storage ceilings of this machine, measured with plain files.
//!
//! A broker figure such as "312 MB/s appended" says little on its own: the same code is fast
//! on an NVMe drive and slow on a network volume. Every other benchmark therefore prints its
//! figures beside one of these ceilings, as a ratio. Measured here, in `--dir`:
//!
//! 1. **Buffered sequential write**: 1 MiB `write` calls up to `--buffered-bytes`, then one
//!    `fsync`, timed together: the ceiling the targets are stated against. It bounds
//!    appends made with `write()`; the store appends through a memory map, which skips the
//!    syscall copy, so where that copy rather than the disk is the bottleneck (as on the VMs
//!    measured so far) the store can exceed it — compare with `O_DIRECT` below. The run must be
//!    much larger than the kernel's dirty-page limit (a fraction of RAM): a shorter run only
//!    measures memory copies into the page cache plus one short flush, not the disk.
//! 2. **`O_DIRECT` sequential write**, at queue depth 1 (one thread) and 8 (eight threads
//!    with `pwrite` to disjoint regions), 1 MiB buffers aligned to 4096 bytes, then one
//!    `fdatasync`: what the device accepts without the page cache. Reported as unavailable
//!    where the file system refuses `O_DIRECT`.
//! 3. **4 KiB `pwrite` + `fdatasync` latency**: the floor under a synchronously flushed send;
//!    the mean, p50, p99 and the rate (syncs per second, 1 / mean) bound group commit.
//! 4. **256 KiB `pwrite` + `fdatasync` throughput**: a group commit of a busy batch.
//! 5. **Loopback TCP round trip**: 1-byte ping-pong over 127.0.0.1 with blocking sockets and
//!    `TCP_NODELAY` ([`super::loopback`]): the floor under one request/response, so one
//!    sync sender's ceiling is `1 / RTT` (ASYNC_FLUSH) or `1 / (RTT + 4 KiB sync)`.
//!
//! The `O_DIRECT` and sync files are preallocated with `fallocate` (not filled with zeros),
//! and that is made durable before timing starts, as the store preallocates its mapped
//! files: the timed syncs then carry no block allocation, only the unwritten-to-written
//! extent conversion that the store's own syncs carry too. (A zero-filled file gives a
//! better figure, by 15-35% on the first machine measured, that the store never sees.)
//!
//! MB is 10⁶ bytes throughout. Every file is removed afterwards, also on error.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};

mod probes;

use super::UserError;
use super::loopback::{self, FULL_ROUND_TRIPS, Rtt};
use super::report::{self, Figure};
use super::size::{self, GIB, KIB, MIB};
use probes::*;

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
    /// Mean loopback TCP round trip (1 byte each way, `TCP_NODELAY`), µs; `None` only
    /// where it was not measured.
    pub loopback_rtt_us: Option<f64>,
    /// 99th percentile of the loopback TCP round trip, µs.
    pub loopback_rtt_p99_us: Option<f64>,
    /// Number of loopback round trips timed.
    pub loopback_round_trips: u64,
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
    progress(&format!(
        "loopback TCP round trip: {FULL_ROUND_TRIPS} 1-byte ping-pongs"
    ));
    let rtt = loopback::measure_rtt(FULL_ROUND_TRIPS)?;
    progress(&format!(
        "loopback TCP round trip: mean {:.1} µs, p99 {:.1} µs",
        rtt.mean_us, rtt.p99_us
    ));
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
        loopback_rtt_us: Some(rtt.mean_us),
        loopback_rtt_p99_us: Some(rtt.p99_us),
        loopback_round_trips: rtt.round_trips,
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

    /// Mean loopback TCP round trip, µs, if measured.
    #[must_use]
    pub fn loopback_rtt_figure(&self) -> Option<Figure<'static>> {
        Some(figure("loopback RTT mean", self.loopback_rtt_us?, "µs"))
    }

    /// 99th-percentile loopback TCP round trip, µs, if measured.
    #[must_use]
    pub fn loopback_rtt_p99_figure(&self) -> Option<Figure<'static>> {
        Some(figure("loopback RTT p99", self.loopback_rtt_p99_us?, "µs"))
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
        if let Some(mean) = self.loopback_rtt_figure() {
            let note = format!(
                "{} x 1-byte ping-pong over 127.0.0.1, TCP_NODELAY",
                self.loopback_round_trips
            );
            println!("  {}", report::format_figure_with_note(&mean, &note));
        }
        if let Some(p99) = self.loopback_rtt_p99_figure() {
            println!("  {}", report::format_figure(&p99));
        }
    }
}

/// The two ceilings `bench produce` measures quickly before it starts: the loopback round
/// trip and the 4 KiB write+fdatasync latency on the broker's file system.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct QuickLimits {
    /// Loopback TCP round trip.
    pub rtt: Rtt,
    /// Mean of one 4 KiB `pwrite` plus `fdatasync`, µs.
    pub fsync_4k_mean_us: f64,
    /// 99th percentile of one 4 KiB `pwrite` plus `fdatasync`, µs.
    pub fsync_4k_p99_us: f64,
    /// Number of 4 KiB synced writes timed.
    pub fsync_4k_count: u64,
}

/// Measures [`QuickLimits`]: `round_trips` loopback ping-pongs and `syncs` 4 KiB synced
/// writes in `dir` (created if missing; the scratch file is removed afterwards).
///
/// # Errors
/// If the directory is unusable or a socket or file operation fails.
pub fn measure_quick(dir: &std::path::Path, round_trips: u64, syncs: u64) -> Result<QuickLimits> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the bench directory {}", dir.display()))?;
    let rtt = loopback::measure_rtt(round_trips)?;
    let small = measure_syncs(dir, (4 * KIB, syncs.max(1)), &|_| {})?;
    Ok(QuickLimits {
        rtt,
        fsync_4k_mean_us: small.mean_us(),
        fsync_4k_p99_us: small.quantile_us(0.99),
        fsync_4k_count: syncs.max(1),
    })
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
        figures.extend(limits.loopback_rtt_us);
        figures.extend(limits.loopback_rtt_p99_us);
        assert!(limits.loopback_rtt_us.is_some(), "{limits:?}");
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
