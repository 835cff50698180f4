//! `apogee bench all`: the matrix. For each flush mode a fresh broker is spawned,
//! the quick ceilings are measured on its file system, then for each sender count one
//! produce cell runs for `--duration` seconds and its messages are pulled back; one table
//! sums it up.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;

use super::broker_proc::{Flush, SpawnedBroker};
use super::cell;
use super::cell_print;
use super::figures::Cell;
use super::limits::{QuickLimits, measure_quick};
use super::loopback::QUICK_ROUND_TRIPS;
use super::produce::{LoadArgs, cell_spec, goal, runtime};
use super::report;

/// 4 KiB syncs timed by the quick sync probe of each broker.
const QUICK_SYNCS: u64 = 200;

/// Arguments of `apogee bench all`.
#[derive(Debug, Clone, clap::Args)]
pub struct AllArgs {
    /// Directory for the spawned brokers' data and the sync probes (fresh subdirectories,
    /// removed afterwards). Put it on the disk to measure, not on a tmpfs.
    #[arg(long, default_value = "./data/bench")]
    pub dir: PathBuf,
    /// Flush modes to run, each with its own broker.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "async,sync")]
    pub flushes: Vec<Flush>,
    /// Sender counts to run for each flush mode.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    pub senders: Vec<usize>,
    /// Seconds of load per cell.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub duration: f64,
    /// The load's shape.
    #[command(flatten)]
    pub load: LoadArgs,
    /// Extra setting for the spawned brokers, RocketMQ key names; repeatable.
    #[arg(long = "broker-set", value_name = "KEY=VALUE")]
    pub broker_settings: Vec<String>,
    /// Print exactly one JSON object on stdout instead of the tables (no progress bars).
    #[arg(long)]
    pub json: bool,
}

/// The ceilings measured for one flush mode's broker.
#[derive(Debug, Serialize)]
struct FlushLimits {
    /// The flush mode.
    flush: Flush,
    /// Where the sync probe ran.
    probe_dir: String,
    /// The ceilings.
    limits: QuickLimits,
}

/// The `--json` object of `bench all`.
#[derive(Debug, Serialize)]
struct Report {
    /// Seconds of load per cell.
    duration_s: f64,
    /// Ceilings, per flush mode.
    limits: Vec<FlushLimits>,
    /// One entry per flush mode and sender count.
    cells: Vec<Cell>,
}

/// Runs `apogee bench all`.
///
/// # Errors
/// Bad arguments, a broker that does not start, answer or stop, or a stalled consume.
pub fn run(args: &AllArgs) -> Result<()> {
    let goal = goal(None, Some(args.duration))?;
    let mut report = Report {
        duration_s: args.duration,
        limits: Vec::new(),
        cells: Vec::new(),
    };
    for &flush in &args.flushes {
        let say = |s: &str| eprintln!("[bench all] {s}");
        // Probed before the broker starts, on the file system its data goes to.
        let limits = measure_quick(&args.dir, QUICK_ROUND_TRIPS, QUICK_SYNCS)?;
        say(&format!("{}: starting a broker", flush.setting()));
        let broker = SpawnedBroker::start(&args.dir, flush, &args.broker_settings)?;
        say(&format!(
            "{}: loopback RTT {:.1} µs, 4 KiB sync {:.1} µs",
            flush.setting(),
            limits.rtt.mean_us,
            limits.fsync_4k_mean_us
        ));
        for &senders in &args.senders {
            let mut spec = cell_spec(&args.load, senders, goal, flush, !args.json)?;
            spec.then_consume = true;
            say(&format!("{}: {senders} sender(s)", flush.setting()));
            let rt = runtime(senders)?;
            let cell = rt.block_on(cell::run(broker.addr(), Some(broker.pid()), &spec, &limits))?;
            report.cells.push(cell);
        }
        broker
            .stop()
            .with_context(|| format!("stopping the {} broker", flush.setting()))?;
        report.limits.push(FlushLimits {
            flush,
            probe_dir: args.dir.display().to_string(),
            limits,
        });
    }
    if args.json {
        return report::print_json(&report);
    }
    println!(
        "apogee bench all: {:.0} s per cell, {}-byte messages, {} senders",
        args.duration,
        args.load.size,
        format!("{:?}", args.load.mode).to_lowercase()
    );
    for entry in &report.limits {
        println!("{}:", entry.flush.setting());
        cell_print::print_limits(&entry.limits, &entry.probe_dir);
    }
    println!();
    cell_print::print_matrix(&report.cells);
    Ok(())
}
