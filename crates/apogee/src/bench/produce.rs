//! `apogee bench produce`: send load against a broker (spawned by default), printed beside
//! the loopback round trip and the 4 KiB sync latency measured at the start of the same run;
//! `--then-consume` pulls everything back and checks the count.

use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use super::UserError;
use super::cell::{self, CellSpec};
use super::cell_print;
use super::figures::Cell;
use super::limits::{QuickLimits, measure_quick};
use super::load::{LoadSpec, Mode};
use super::loopback::QUICK_ROUND_TRIPS;
use super::progress::Goal;
use super::report;
use super::size;
use super::target::{Target, TargetArgs};

/// 4 KiB syncs timed by the quick sync probe.
const QUICK_SYNCS: u64 = 200;
/// Seconds of load when neither `--duration` nor `--count` is given.
const DEFAULT_SECONDS: f64 = 10.0;

/// How the load is shaped, shared by `bench produce` and `bench all`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadArgs {
    /// Message body size, e.g. 1024 or 4K.
    #[arg(long, short = 's', default_value = "1024", value_parser = size::parse_size)]
    pub size: u64,
    /// `sync`: each sender waits for each ack; `async`: up to --inflight outstanding each.
    #[arg(long, value_enum, default_value = "sync")]
    pub mode: Mode,
    /// Sends outstanding per sender in async mode.
    #[arg(long, default_value_t = 32)]
    pub inflight: usize,
    /// The topic (created with --queues queues before sending).
    #[arg(long, default_value = "BenchTopic")]
    pub topic: String,
    /// Queues of the topic; sends go round-robin over them.
    #[arg(long, default_value_t = 8)]
    pub queues: i32,
    /// All senders share one connection (as one RocketMQ producer does) instead of one each.
    #[arg(long)]
    pub shared_connection: bool,
    /// Messages per pull when consuming.
    #[arg(long, default_value_t = 32)]
    pub batch: i32,
}

/// Arguments of `apogee bench produce`.
#[derive(Debug, Clone, clap::Args)]
pub struct ProduceArgs {
    /// The broker under test.
    #[command(flatten)]
    pub target: TargetArgs,
    /// The load's shape.
    #[command(flatten)]
    pub load: LoadArgs,
    /// Concurrent senders.
    #[arg(long, short = 'c', default_value_t = 1)]
    pub concurrency: usize,
    /// Send for this many seconds (default 10 unless --count is given).
    #[arg(long, value_name = "SECS", conflicts_with = "count")]
    pub duration: Option<f64>,
    /// Send this many messages in total.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Afterwards, pull everything sent back and check the count.
    #[arg(long)]
    pub then_consume: bool,
    /// Print exactly one JSON object on stdout instead of the report (no progress bar).
    #[arg(long)]
    pub json: bool,
}

/// The `--json` object of `bench produce`.
#[derive(Debug, Serialize)]
struct Report {
    /// `spawned` or `external`.
    target: &'static str,
    /// The broker's address.
    broker_addr: String,
    /// Ceilings measured at the start.
    limits: QuickLimits,
    /// Where the sync probe ran.
    probe_dir: String,
    /// The run.
    #[serde(flatten)]
    cell: Cell,
}

/// Runs `apogee bench produce`.
///
/// # Errors
/// Bad arguments, a broker that does not start or answer, or a stalled consume.
pub fn run(args: &ProduceArgs) -> Result<()> {
    let goal = goal(args.count, args.duration)?;
    let mut spec = cell_spec(
        &args.load,
        args.concurrency,
        goal,
        args.target.flush,
        !args.json,
    )?;
    spec.then_consume = args.then_consume;
    // The probes run before the broker starts, so its start-up I/O (segment preallocation)
    // does not disturb them; `--dir` is where the broker's data goes, the same file system.
    let limits = measure_quick(&args.target.dir, QUICK_ROUND_TRIPS, QUICK_SYNCS)?;
    let target = Target::open(&args.target, args.target.flush)?;
    let outcome = runtime(args.concurrency)
        .and_then(|rt| rt.block_on(cell::run(target.addr(), target.pid(), &spec, &limits)));
    let (kind, broker_addr) = (target.kind(), target.addr().to_owned());
    let stopped = target.stop();
    let report = Report {
        target: kind,
        broker_addr,
        limits,
        probe_dir: args.target.dir.display().to_string(),
        cell: outcome?,
    };
    stopped.context("stopping the spawned broker")?;
    if args.json {
        return report::print_json(&report);
    }
    println!(
        "apogee bench produce: {} broker {}",
        report.target, report.broker_addr
    );
    cell_print::print_limits(&report.limits, &report.probe_dir);
    cell_print::print_cell(&report.cell);
    Ok(())
}

/// The goal from `--count` / `--duration` (10 s when neither is given).
///
/// # Errors
/// [`UserError`] for a zero count or a non-positive duration.
pub fn goal(count: Option<u64>, duration: Option<f64>) -> Result<Goal> {
    if let Some(count) = count {
        if count == 0 {
            return Err(UserError::new("--count 0 sends nothing", "pass --count 1 or more").into());
        }
        return Ok(Goal::Count(count));
    }
    let seconds = duration.unwrap_or(DEFAULT_SECONDS);
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(UserError::new(
            format!("--duration {seconds} is not a positive number of seconds"),
            "pass e.g. --duration 10",
        )
        .into());
    }
    Ok(Goal::Duration(Duration::from_secs_f64(seconds)))
}

/// A cell spec from the load arguments (without consume).
///
/// # Errors
/// [`UserError`] for a zero concurrency, queue count or batch, or an oversized body.
pub fn cell_spec(
    load: &LoadArgs,
    concurrency: usize,
    goal: Goal,
    flush: super::broker_proc::Flush,
    progress: bool,
) -> Result<CellSpec> {
    if concurrency == 0 || load.queues <= 0 || load.batch <= 0 || load.inflight == 0 {
        return Err(UserError::new(
            "--concurrency, --queues, --batch and --inflight must be at least 1",
            "pass positive numbers",
        )
        .into());
    }
    let size = usize::try_from(load.size).context("--size too large")?;
    Ok(CellSpec {
        load: LoadSpec {
            topic: load.topic.clone(),
            queues: load.queues,
            size,
            concurrency,
            mode: load.mode,
            inflight: load.inflight,
            goal,
            shared_connection: load.shared_connection,
        },
        flush,
        then_consume: false,
        batch: load.batch,
        progress,
    })
}

/// The client runtime of a run with `senders` senders. One sender gets one worker thread, so
/// that an answer wakes the sender on the thread that read it instead of across cores (a
/// cross-core wake-up costs tens of µs on a VM); more senders get a worker per core.
///
/// # Errors
/// The runtime cannot be built.
pub fn runtime(senders: usize) -> Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if senders <= 1 {
        builder.worker_threads(1);
    }
    builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
