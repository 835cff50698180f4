//! One benchmark cell against a running broker: create the topic, note where its queues
//! end, run the send load with a progress bar and the broker's memory sampled, then
//! (optionally) pull back exactly what was sent; broker and client CPU measured around each.

use std::sync::Arc;

use anyhow::Result;

use super::broker_proc::Flush;
use super::drain::{self, QueueRange};
use super::figures::{BrokerUsage, Ceiling, Cell, ConsumeRun, Latency, ProduceRun, rates};
use super::limits::QuickLimits;
use super::load::{self, LoadSpec};
use super::procfs::{self, Proc, Sample};
use super::progress::{Counters, Goal, Monitor, Peak};
use super::wire::Wire;

/// How to run one cell.
#[derive(Debug, Clone)]
pub struct CellSpec {
    /// The send load.
    pub load: LoadSpec,
    /// The broker's flush mode (for the report and the ceiling).
    pub flush: Flush,
    /// Whether to pull back what was sent afterwards.
    pub then_consume: bool,
    /// Messages per pull.
    pub batch: i32,
    /// Whether to show progress bars (still only on a terminal).
    pub progress: bool,
}

/// Runs one cell against the broker at `addr` (process `pid`, when known).
///
/// # Errors
/// If the broker cannot be reached for setup, or a consume stalls.
pub async fn run(
    addr: &str,
    pid: Option<u32>,
    spec: &CellSpec,
    limits: &QuickLimits,
) -> Result<Cell> {
    let load = &spec.load;
    let wire = Wire::new(addr);
    wire.create_topic(&load.topic, load.queues).await?;
    let starts = drain::max_offsets(&wire, &load.topic, load.queues).await?;

    let label = format!("produce x{}", load.concurrency);
    let counters = Arc::new(Counters::default());
    let usage = UsageProbe::start(pid);
    let monitor = Monitor::start(&label, load.goal, counters.clone(), pid, spec.progress);
    let outcome = load::run(addr, load, counters).await;
    let peak = monitor.finish().await;
    let outcome = outcome?;
    let (broker, client_cpu_us_per_msg) = usage.finish(peak, outcome.ok);
    let bytes = outcome.ok * load.size as u64;
    let (msgs_per_s, mb_per_s) = rates(outcome.ok, bytes, outcome.elapsed);
    let produce = ProduceRun {
        topic: load.topic.clone(),
        queues: load.queues,
        size: load.size,
        concurrency: load.concurrency,
        mode: load.mode,
        inflight: load.inflight,
        flush: spec.flush,
        elapsed_s: outcome.elapsed.as_secs_f64(),
        messages: outcome.ok,
        msgs_per_s,
        mb_per_s,
        latency_us: Latency::of(&outcome.latency_us),
        errors: outcome.error_count(),
        errors_by_kind: outcome.errors,
        broker,
        client_cpu_us_per_msg,
    };
    let consume = if spec.then_consume {
        let ranges = drain::wait_backlog(&wire, &load.topic, &starts, produce.messages).await?;
        let pull = PullSpec {
            topic: &load.topic,
            ranges: &ranges,
            expected: produce.messages,
            batch: spec.batch,
            progress: spec.progress,
        };
        Some(consume(addr, pid, &pull).await?)
    } else {
        None
    };
    wire.shutdown().await;
    Ok(Cell {
        ceiling: Ceiling::of(&produce, limits),
        produce,
        consume,
    })
}

/// What to pull back.
#[derive(Debug, Clone, Copy)]
pub struct PullSpec<'a> {
    /// The topic.
    pub topic: &'a str,
    /// The range of each queue.
    pub ranges: &'a [QueueRange],
    /// Messages expected in total.
    pub expected: u64,
    /// Messages per pull.
    pub batch: i32,
    /// Whether to show a progress bar (still only on a terminal).
    pub progress: bool,
}

/// Pulls what `pull` names from the broker at `addr` (process `pid`), with a progress bar.
///
/// # Errors
/// If the consumer cannot connect or a queue stalls.
pub async fn consume(addr: &str, pid: Option<u32>, pull: &PullSpec<'_>) -> Result<ConsumeRun> {
    let (topic, expected) = (pull.topic, pull.expected);
    let counters = Arc::new(Counters::default());
    let usage = UsageProbe::start(pid);
    let goal = Goal::Count(expected);
    let monitor = Monitor::start("consume", goal, counters.clone(), pid, pull.progress);
    let outcome = drain::drain(addr, topic, pull.ranges, pull.batch, counters).await;
    let peak = monitor.finish().await;
    let outcome = outcome?;
    let (broker, client_cpu_us_per_msg) = usage.finish(peak, outcome.messages);
    let (msgs_per_s, mb_per_s) = rates(outcome.messages, outcome.body_bytes, outcome.elapsed);
    Ok(ConsumeRun {
        topic: topic.to_owned(),
        messages: outcome.messages,
        expected,
        count_matches: outcome.messages == expected,
        elapsed_s: outcome.elapsed.as_secs_f64(),
        msgs_per_s,
        mb_per_s,
        errors: outcome.errors.values().sum(),
        errors_by_kind: outcome.errors,
        batch: pull.batch,
        broker,
        client_cpu_us_per_msg,
    })
}

/// Broker and client readings taken before a run.
#[derive(Debug)]
struct UsageProbe {
    /// The broker's pid, if known.
    pid: Option<u32>,
    /// The broker before the run.
    broker: Option<Sample>,
    /// This process before the run.
    client: Option<Sample>,
}

impl UsageProbe {
    /// Reads the broker (if `pid` is known) and this process now.
    fn start(pid: Option<u32>) -> Self {
        Self {
            pid,
            broker: pid.and_then(|pid| procfs::sample(Proc::Pid(pid)).ok()),
            client: procfs::sample(Proc::Myself).ok(),
        }
    }

    /// Reads them again: the broker's usage over the run (with the sampled `peak` RSS) and
    /// this process's CPU µs per message.
    fn finish(self, peak: Option<Peak>, messages: u64) -> (BrokerUsage, Option<f64>) {
        let broker_after = self.pid.and_then(|pid| procfs::sample(Proc::Pid(pid)).ok());
        let client_after = procfs::sample(Proc::Myself).ok();
        let cpu_per_msg = |before: Option<Sample>, after: Option<Sample>| {
            let cpu = after?.cpu.checked_sub(before?.cpu)?;
            procfs::cpu_us_per_msg(cpu, messages)
        };
        let after = broker_after.map(|s| Peak {
            rss_kib: s.rss_kib,
            rss_anon_kib: s.rss_anon_kib,
        });
        let peak = Peak::max(peak, after);
        let broker = BrokerUsage {
            pid: self.pid,
            rss_idle_kib: self.broker.map(|s| s.rss_kib),
            rss_peak_kib: peak.map(|p| p.rss_kib),
            rss_after_kib: broker_after.map(|s| s.rss_kib),
            rss_anon_idle_kib: self.broker.map(|s| s.rss_anon_kib),
            rss_anon_peak_kib: peak.map(|p| p.rss_anon_kib),
            rss_anon_after_kib: broker_after.map(|s| s.rss_anon_kib),
            cpu_us_per_msg: cpu_per_msg(self.broker, broker_after),
        };
        (broker, cpu_per_msg(self.client, client_after))
    }
}
