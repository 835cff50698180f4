//! `apogee bench consume`: pull a topic's whole backlog (every queue, from its first stored
//! offset to its end) from a running broker as fast as it answers, and check the count.

use anyhow::{Context, Result};
use serde::Serialize;

use super::UserError;
use super::cell::{self, PullSpec};
use super::cell_print;
use super::drain;
use super::figures::ConsumeRun;
use super::produce::runtime;
use super::report;
use super::wire::Wire;

/// Arguments of `apogee bench consume`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConsumeArgs {
    /// The running broker to pull from (to produce and consume against a spawned broker,
    /// use `bench produce --then-consume`).
    #[arg(long, value_name = "HOST:PORT")]
    pub broker: String,
    /// Its process id, for memory and CPU figures.
    #[arg(long, value_name = "PID")]
    pub broker_pid: Option<u32>,
    /// The topic to drain.
    #[arg(long, default_value = "BenchTopic")]
    pub topic: String,
    /// Messages the backlog should hold: waits (up to 30 s) for the broker to show that many,
    /// and a different count is reported as a mismatch and fails the command.
    #[arg(long, value_name = "N")]
    pub expect: Option<u64>,
    /// Messages per pull.
    #[arg(long, default_value_t = 32)]
    pub batch: i32,
    /// Print exactly one JSON object on stdout instead of the report (no progress bar).
    #[arg(long)]
    pub json: bool,
}

/// The `--json` object of `bench consume`.
#[derive(Debug, Serialize)]
struct Report {
    /// The broker's address.
    broker_addr: String,
    /// The run.
    consume: ConsumeRun,
}

/// Runs `apogee bench consume`.
///
/// # Errors
/// A broker that cannot be reached, an unknown topic, a stalled queue, or (with
/// `--expect`) a count mismatch.
pub fn run(args: &ConsumeArgs) -> Result<()> {
    if args.batch <= 0 {
        return Err(UserError::new("--batch must be at least 1", "pass e.g. --batch 32").into());
    }
    let consume = runtime(2)?.block_on(drain_backlog(args))?;
    let mismatch = args.expect.is_some() && !consume.count_matches;
    let report = Report {
        broker_addr: args.broker.clone(),
        consume,
    };
    if args.json {
        report::print_json(&report)?;
    } else {
        println!("apogee bench consume: broker {}", report.broker_addr);
        cell_print::print_consume(&report.consume);
    }
    if mismatch {
        anyhow::bail!(
            "pulled {} messages, expected {}",
            report.consume.messages,
            report.consume.expected
        );
    }
    Ok(())
}

/// Finds the topic's queues and their ranges, then pulls them.
async fn drain_backlog(args: &ConsumeArgs) -> Result<ConsumeRun> {
    let wire = Wire::new(&args.broker);
    let queues = wire
        .read_queues(&args.topic)
        .await
        .with_context(|| format!("cannot find topic {} on {}", args.topic, args.broker))?;
    let starts = drain::min_offsets(&wire, &args.topic, queues).await?;
    // With --expect, wait for the consume queues to show that many (the broker writes them
    // just after the commit log); otherwise take the backlog as it is now.
    let ranges = match args.expect {
        Some(expected) => drain::wait_backlog(&wire, &args.topic, &starts, expected).await?,
        None => {
            let ends = drain::max_offsets(&wire, &args.topic, queues).await?;
            drain::ranges(&starts, &ends)
        }
    };
    wire.shutdown().await;
    let backlog = ranges.iter().map(drain::QueueRange::len).sum();
    let pull = PullSpec {
        topic: &args.topic,
        ranges: &ranges,
        expected: args.expect.unwrap_or(backlog),
        batch: args.batch,
        progress: !args.json,
    };
    cell::consume(&args.broker, args.broker_pid, &pull).await
}
