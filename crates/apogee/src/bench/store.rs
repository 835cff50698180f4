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
    AppendRun, RECORD_BYTES, ReadRun, RecoveryRun, async_append, kill_me_writer, recovery, remove,
    sequential_read, sync_append,
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
    /// Records appended in the ASYNC_FLUSH run (1 KiB bodies); by default as many as make
    /// up `--buffered-bytes`, so the figure compares with the ceiling.
    #[arg(long)]
    pub records: Option<u64>,
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

/// Puts measured with one SYNC_FLUSH appender.
const SYNC_ONE_PUTS: u64 = 3_000;
/// Concurrent appenders in the group-commit run.
const SYNC_APPENDERS: u64 = 32;
/// Puts per appender in the group-commit run.
const SYNC_PUTS_PER_APPENDER: u64 = 2_000;

#[derive(Debug, Serialize)]
struct Figures {
    limits: Limits,
    async_append: AppendRun,
    sync_append_1: AppendRun,
    sync_append_32: AppendRun,
    read: ReadRun,
    recovery: RecoveryRun,
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
    remove(&store_dir)?;
    // As much data as the buffered-write ceiling wrote, so the two are comparable.
    let records = args.records.unwrap_or(args.buffered_bytes / RECORD_BYTES);
    say(&format!("ASYNC_FLUSH: appending {records} records"));
    let async_append = async_append(&store_dir, records)?;
    say("reading them back through the consume queue");
    let read = sequential_read(&store_dir)?;
    remove(&store_dir)?;
    say("SYNC_FLUSH: one appender");
    let sync_append_1 = rt.block_on(sync_append(&store_dir, 1, SYNC_ONE_PUTS))?;
    remove(&store_dir)?;
    say("SYNC_FLUSH: 32 appenders");
    let sync_append_32 = rt.block_on(sync_append(
        &store_dir,
        SYNC_APPENDERS,
        SYNC_PUTS_PER_APPENDER,
    ))?;
    remove(&store_dir)?;
    say(&format!(
        "recovery after kill -9 of a writer with {} bytes of log",
        args.recovery_bytes
    ));
    let recovery = recovery(&store_dir, args.recovery_bytes)?;
    remove(&store_dir)?;
    let figures = Figures {
        limits,
        async_append,
        sync_append_1,
        sync_append_32,
        read,
        recovery,
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
    let detail = |r: &AppendRun| {
        println!(
            "  {} appender(s): {:.0} records/s, mean {:.1} µs, p99 {:.1} µs; {:.1} records per flush, flush mean {:.0} µs; {} FLUSH_DISK_TIMEOUT",
            r.appenders,
            r.records_s,
            r.mean_us,
            r.p99_us,
            r.records_per_flush,
            r.flush_mean_us,
            r.flush_timeouts
        );
    };
    report::print_comparison(
        &fig("async append", f.async_append.mb_s, "MB/s"),
        Some(&buffered),
        Some(Target::AtLeast(0.70)),
    );
    detail(&f.async_append);
    report::print_comparison(
        &fig("sync append x32", f.sync_append_32.mb_s, "MB/s"),
        Some(&buffered),
        Some(Target::AtLeast(0.50)),
    );
    detail(&f.sync_append_32);
    report::print_comparison(
        &fig("sync append x1 mean", f.sync_append_1.mean_us, "µs"),
        Some(&l.sync_4k_mean_figure()),
        Some(Target::AtMost(1.5)),
    );
    detail(&f.sync_append_1);
    println!(
        "{}",
        report::format_figure(&fig("sequential read", f.read.mb_s, "MB/s"))
    );
    println!(
        "  {:.0} records/s through the consume queue",
        f.read.records_s
    );
    let r = &f.recovery;
    let gib = r.log_bytes as f64 / f64::from(1u32 << 30);
    let budget = 5.0 * gib.max(1.0);
    let verdict = |s: f64| if s <= budget { "met" } else { "NOT met" };
    println!(
        "{}  {gib:.2} GiB log, {} records rescanned (target <= {budget:.1} s: {})",
        report::format_figure(&fig("recovery after kill -9", r.kill9_s, "s")),
        r.records_rescanned,
        verdict(r.kill9_s)
    );
    println!(
        "{}  no checkpoint, queues or index: full scan and rebuild (target <= {budget:.1} s: {})",
        report::format_figure(&fig("recovery, worst case", r.full_rebuild_s, "s")),
        verdict(r.full_rebuild_s)
    );
}
