//! The send load of `bench produce`: `concurrency` senders, each either waiting for every
//! acknowledgement before its next send (`sync`) or keeping up to `inflight` sends
//! outstanding (`async`), until a message count or a duration is reached. Each send's
//! latency (request written to acknowledgement read) goes into a histogram.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use hdrhistogram::Histogram;
use tokio::task::JoinSet;

use super::progress::{Counters, Goal};
use super::wire::{Failure, Wire};

/// Largest latency the histogram holds, µs (a minute; longer ones are clamped).
const LATENCY_MAX_US: u64 = 60_000_000;
/// Pause after a connection failure, so a dead broker is not spun on.
const FAILURE_PAUSE: Duration = Duration::from_millis(10);

/// How each sender paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Wait for each acknowledgement before the next send.
    Sync,
    /// Keep up to `--inflight` sends outstanding.
    Async,
}

/// What to send, how, and for how long.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// The topic.
    pub topic: String,
    /// Its queue count; sends go round-robin over the queues.
    pub queues: i32,
    /// Body size, bytes.
    pub size: usize,
    /// Concurrent senders.
    pub concurrency: usize,
    /// How each sender paces itself.
    pub mode: Mode,
    /// Sends outstanding per sender in async mode.
    pub inflight: usize,
    /// When to stop.
    pub goal: Goal,
    /// Whether all senders share one connection (else one each).
    pub shared_connection: bool,
}

/// What a load achieved.
#[derive(Debug)]
pub struct LoadOutcome {
    /// Sends acknowledged with SUCCESS.
    pub ok: u64,
    /// Failed sends by kind.
    pub errors: BTreeMap<String, u64>,
    /// Latency of acknowledged sends, µs.
    pub latency_us: Histogram<u64>,
    /// From the first send to the last acknowledgement.
    pub elapsed: Duration,
}

impl LoadOutcome {
    /// Failed sends in total.
    #[must_use]
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Hands out send tickets until the goal is reached.
#[derive(Debug)]
struct Budget {
    /// The goal.
    goal: Goal,
    /// Tickets handed out so far.
    tickets: AtomicU64,
    /// When a duration goal ends.
    deadline: Instant,
}

impl Budget {
    /// A budget for `goal`, starting now.
    fn new(goal: Goal) -> Self {
        let length = match goal {
            Goal::Duration(d) => d,
            Goal::Count(_) => Duration::ZERO,
        };
        Self {
            goal,
            tickets: AtomicU64::new(0),
            deadline: Instant::now() + length,
        }
    }

    /// The next ticket, or `None` once the goal is reached.
    fn claim(&self) -> Option<u64> {
        let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
        let open = match self.goal {
            Goal::Count(count) => ticket < count,
            Goal::Duration(_) => Instant::now() < self.deadline,
        };
        open.then_some(ticket)
    }
}

/// One sender's results.
#[derive(Debug)]
struct SenderStats {
    /// Acknowledged sends.
    ok: u64,
    /// Failures by kind.
    errors: BTreeMap<String, u64>,
    /// Latencies, µs.
    latency_us: Histogram<u64>,
}

impl SenderStats {
    /// Empty statistics.
    fn new() -> Result<Self> {
        Ok(Self {
            ok: 0,
            errors: BTreeMap::new(),
            latency_us: new_histogram()?,
        })
    }

    /// Records one send's outcome and latency, updating the shared counters.
    async fn record(&mut self, outcome: Result<(), Failure>, latency: Duration, c: &Counters) {
        match outcome {
            Ok(()) => {
                self.ok += 1;
                let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                self.latency_us.saturating_record(us.max(1));
                c.done.fetch_add(1, Ordering::Relaxed);
            }
            Err(failure) => {
                *self.errors.entry(failure.kind()).or_default() += 1;
                c.errors.fetch_add(1, Ordering::Relaxed);
                if failure == Failure::Connection {
                    tokio::time::sleep(FAILURE_PAUSE).await;
                }
            }
        }
    }
}

/// A latency histogram in µs, 3 significant digits.
fn new_histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, LATENCY_MAX_US, 3).context("cannot create a latency histogram")
}

/// What every sender shares.
#[derive(Debug)]
struct Shared {
    /// The topic.
    topic: String,
    /// Its queue count.
    queues: i32,
    /// The message body (shared bytes, cloned cheaply).
    body: Bytes,
    /// Send tickets.
    budget: Budget,
    /// Progress counters.
    counters: Arc<Counters>,
}

impl Shared {
    /// The queue for a ticket: round-robin.
    fn queue(&self, ticket: u64) -> i32 {
        let queues = u64::try_from(self.queues.max(1)).unwrap_or(1);
        i32::try_from(ticket % queues).unwrap_or(0)
    }
}

/// Runs the load against `addr`; connections are made (and warmed with one request) before
/// the clock starts.
///
/// # Errors
/// If a connection cannot be made; failed sends are counted, not returned.
pub async fn run(addr: &str, spec: &LoadSpec, counters: Arc<Counters>) -> Result<LoadOutcome> {
    let wire_count = if spec.shared_connection {
        1
    } else {
        spec.concurrency.max(1)
    };
    let mut wires = Vec::with_capacity(wire_count);
    for _ in 0..wire_count {
        let wire = Wire::new(addr);
        wire.max_offset(&spec.topic, 0)
            .await
            .context("cannot open a sender connection")?;
        wires.push(wire);
    }
    let shared = Arc::new(Shared {
        topic: spec.topic.clone(),
        queues: spec.queues,
        body: Bytes::from(vec![b'x'; spec.size]),
        budget: Budget::new(spec.goal),
        counters,
    });
    let start = Instant::now();
    let mut senders = JoinSet::new();
    for i in 0..spec.concurrency.max(1) {
        let wire = wires[i % wires.len()].clone();
        let shared = shared.clone();
        let inflight = spec.inflight.max(1);
        match spec.mode {
            Mode::Sync => senders.spawn(sync_sender(wire, shared)),
            Mode::Async => senders.spawn(async_sender(wire, shared, inflight)),
        };
    }
    let mut total = SenderStats::new()?;
    while let Some(joined) = senders.join_next().await {
        let stats = joined.context("a sender task failed")??;
        total.ok += stats.ok;
        for (kind, n) in stats.errors {
            *total.errors.entry(kind).or_default() += n;
        }
        total
            .latency_us
            .add(&stats.latency_us)
            .context("cannot merge latency histograms")?;
    }
    let elapsed = start.elapsed();
    for wire in &wires {
        wire.shutdown().await;
    }
    Ok(LoadOutcome {
        ok: total.ok,
        errors: total.errors,
        latency_us: total.latency_us,
        elapsed,
    })
}

/// A sender that waits for each acknowledgement before the next send.
async fn sync_sender(wire: Arc<Wire>, shared: Arc<Shared>) -> Result<SenderStats> {
    let mut stats = SenderStats::new()?;
    while let Some(ticket) = shared.budget.claim() {
        let start = Instant::now();
        let outcome = wire
            .send(&shared.topic, shared.queue(ticket), shared.body.clone())
            .await;
        stats
            .record(outcome, start.elapsed(), &shared.counters)
            .await;
    }
    Ok(stats)
}

/// A sender that keeps up to `inflight` sends outstanding.
async fn async_sender(
    wire: Arc<Wire>,
    shared: Arc<Shared>,
    inflight: usize,
) -> Result<SenderStats> {
    let mut stats = SenderStats::new()?;
    let mut outstanding = JoinSet::new();
    let mut exhausted = false;
    loop {
        while !exhausted && outstanding.len() < inflight {
            let Some(ticket) = shared.budget.claim() else {
                exhausted = true;
                break;
            };
            let (wire, shared) = (wire.clone(), shared.clone());
            outstanding.spawn(async move {
                let start = Instant::now();
                let outcome = wire
                    .send(&shared.topic, shared.queue(ticket), shared.body.clone())
                    .await;
                (outcome, start.elapsed())
            });
        }
        let Some(joined) = outstanding.join_next().await else {
            break;
        };
        let (outcome, latency) = joined.context("a send task failed")?;
        stats.record(outcome, latency, &shared.counters).await;
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A count budget hands out exactly that many tickets.
    #[test]
    fn count_budget() {
        let budget = Budget::new(Goal::Count(3));
        let tickets: Vec<_> = std::iter::from_fn(|| budget.claim()).collect();
        assert_eq!(tickets, vec![0, 1, 2]);
        assert_eq!(budget.claim(), None);
    }

    /// A zero duration budget is closed at once.
    #[test]
    fn duration_budget() {
        let budget = Budget::new(Goal::Duration(Duration::ZERO));
        assert_eq!(budget.claim(), None);
    }
}
