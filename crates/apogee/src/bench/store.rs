//! `apogee bench store`: the storage engine measured against this machine's own ceilings.
//!
//! All figures use 1 KiB records and are printed beside the limits measured in the same run
//! (`apogee bench limits`), as ratios, with the targets:
//! - ASYNC_FLUSH append throughput (one appender, including the final flush) vs the sustained
//!   buffered-write ceiling (target ≥ 0.70);
//! - SYNC_FLUSH with 32 concurrent appenders vs the same ceiling (target ≥ 0.50);
//! - SYNC_FLUSH with one appender: mean put latency vs one 4 KiB write+fdatasync (target
//!   ≤ 1.5×);
//! - sequential reads through the consume queue;
//! - recovery of a large log after a real `kill -9` of a writer process (target ≤ 5 s for
//!   1 GiB), and the worst case with no checkpoint, consume queues or index at all.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;

use super::limits::{Limits, LimitsOptions, measure};
use super::report::{self, Figure, Target};
use super::size;
use super::store_runs::{
    async_append, kill_me_writer, recovery, remove, sequential_read, sync_many, sync_one,
};

/// Arguments of `apogee bench store`.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreBenchArgs {
    /// Directory for the store and the limit probes (removed afterwards).
    #[arg(long, default_value = "./data/bench")]
    pub dir: PathBuf,
    /// Print one JSON object instead of the human report.
    #[arg(long)]
    pub json: bool,
    /// Records appended in the ASYNC_FLUSH run (1 KiB bodies).
    #[arg(long, default_value_t = 1_000_000)]
    pub records: u64,
    /// Log size written before the kill -9 recovery measurement.
    #[arg(long, default_value = "1G", value_parser = size::parse_size)]
    pub recovery_bytes: u64,
    /// Bytes written by the buffered-write ceiling probe.
    #[arg(long, default_value = "4G", value_parser = size::parse_size)]
    pub buffered_bytes: u64,
    /// Internal: run as the writer that the recovery measurement kills.
    #[arg(long, hide = true)]
    pub kill_me_writer: bool,
}

#[derive(Debug, Serialize)]
struct Figures {
    limits: Limits,
    async_append_mb_s: f64,
    async_append_records_s: f64,
    async_append_p99_us: f64,
    sync1_mean_us: f64,
    sync1_p99_us: f64,
    sync1_puts_s: f64,
    sync32_mb_s: f64,
    sync32_puts_s: f64,
    sync32_p99_us: f64,
    sync32_flush_timeouts: u64,
    read_mb_s: f64,
    read_records_s: f64,
    recovery_kill9_s: f64,
    recovery_kill9_log_bytes: u64,
    recovery_kill9_records_scanned: u64,
    recovery_full_rebuild_s: f64,
}

/// Runs the benchmark.
///
/// # Errors
/// I/O failures, or a store error during a run.
pub fn run(args: &StoreBenchArgs) -> Result<()> {
    if args.kill_me_writer {
        return kill_me_writer(&args.dir, args.recovery_bytes);
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let say = |s: &str| eprintln!("[bench store] {s}");
    let limits = measure(
        &LimitsOptions {
            dir: args.dir.join("limits"),
            buffered_bytes: args.buffered_bytes,
        },
        &|s| say(s),
    )?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let store_dir = args.dir.join("store");
    say(&format!("ASYNC_FLUSH: appending {} records", args.records));
    let (async_mb_s, async_rec_s, async_p99) = async_append(&store_dir, args.records)?;
    say("reading them back through the consume queue");
    let (read_mb_s, read_rec_s) = sequential_read(&store_dir)?;
    remove(&store_dir)?;
    say("SYNC_FLUSH: one appender");
    let (sync1_mean, sync1_p99, sync1_rate) = rt.block_on(sync_one(&store_dir))?;
    remove(&store_dir)?;
    say("SYNC_FLUSH: 32 appenders");
    let (sync32_mb_s, sync32_rate, sync32_p99, timeouts) = rt.block_on(sync_many(&store_dir))?;
    remove(&store_dir)?;
    say(&format!(
        "recovery after kill -9 of a writer with {} bytes of log",
        args.recovery_bytes
    ));
    let (kill9_s, kill9_bytes, kill9_scanned, rebuild_s) =
        recovery(&store_dir, args.recovery_bytes)?;
    remove(&store_dir)?;
    let figures = Figures {
        limits,
        async_append_mb_s: async_mb_s,
        async_append_records_s: async_rec_s,
        async_append_p99_us: async_p99,
        sync1_mean_us: sync1_mean,
        sync1_p99_us: sync1_p99,
        sync1_puts_s: sync1_rate,
        sync32_mb_s,
        sync32_puts_s: sync32_rate,
        sync32_p99_us: sync32_p99,
        sync32_flush_timeouts: timeouts,
        read_mb_s,
        read_records_s: read_rec_s,
        recovery_kill9_s: kill9_s,
        recovery_kill9_log_bytes: kill9_bytes,
        recovery_kill9_records_scanned: kill9_scanned,
        recovery_full_rebuild_s: rebuild_s,
    };
    if args.json {
        report::print_json(&figures)?;
    } else {
        print_human(&figures);
    }
    Ok(())
}

fn print_human(f: &Figures) {
    let l = &f.limits;
    println!("apogee bench store: 1 KiB records; ceilings measured in this run");
    l.print_human();
    println!();
    let buffered = l.buffered_write_figure();
    let fig = |label, value, unit| Figure { label, value, unit };
    report::print_comparison(
        &fig("async append", f.async_append_mb_s, "MB/s"),
        Some(&buffered),
        Some(Target::AtLeast(0.70)),
    );
    println!(
        "  {:.0} records/s, append p99 {:.0} µs, one appender, including the final flush",
        f.async_append_records_s, f.async_append_p99_us
    );
    report::print_comparison(
        &fig("sync append x32", f.sync32_mb_s, "MB/s"),
        Some(&buffered),
        Some(Target::AtLeast(0.50)),
    );
    println!(
        "  {:.0} puts/s, p99 {:.0} µs, {} FLUSH_DISK_TIMEOUT",
        f.sync32_puts_s, f.sync32_p99_us, f.sync32_flush_timeouts
    );
    report::print_comparison(
        &fig("sync append x1 mean", f.sync1_mean_us, "µs"),
        Some(&l.sync_4k_mean_figure()),
        Some(Target::AtMost(1.5)),
    );
    println!(
        "  {:.0} puts/s, p99 {:.0} µs",
        f.sync1_puts_s, f.sync1_p99_us
    );
    println!(
        "{}",
        report::format_figure(&fig("sequential read", f.read_mb_s, "MB/s"))
    );
    println!(
        "  {:.0} records/s through the consume queue",
        f.read_records_s
    );
    let gib = f.recovery_kill9_log_bytes as f64 / f64::from(1u32 << 30);
    let budget = 5.0 * gib.max(1.0);
    let verdict = |s: f64| if s <= budget { "met" } else { "NOT met" };
    println!(
        "{}  {gib:.2} GiB log, {} records rescanned (target <= {budget:.1} s: {})",
        report::format_figure(&fig("recovery after kill -9", f.recovery_kill9_s, "s")),
        f.recovery_kill9_records_scanned,
        verdict(f.recovery_kill9_s)
    );
    println!(
        "{}  no checkpoint, queues or index: full scan and rebuild (target <= {budget:.1} s: {})",
        report::format_figure(&fig("recovery, worst case", f.recovery_full_rebuild_s, "s")),
        verdict(f.recovery_full_rebuild_s)
    );
}
