//! The pull load of `bench consume`: every queue of a topic read from a start offset to an
//! end offset with PULL_MESSAGE, one task per queue over one connection, as fast as the
//! broker answers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use apogee_protocol::remoting::codes::response;
use tokio::task::JoinSet;

use super::progress::Counters;
use super::wire::{Failure, Wire};

/// A queue that makes no progress for this long stops the drain with an error.
const STALL_TIMEOUT: Duration = Duration::from_secs(15);
/// Pause when a pull finds nothing yet (the consume queue is still being built).
const NOTHING_YET_PAUSE: Duration = Duration::from_millis(1);
/// Pause after a failed pull.
const FAILURE_PAUSE: Duration = Duration::from_millis(10);
/// How long [`wait_backlog`] waits for the consume queues to reach the expected count.
const BACKLOG_TIMEOUT: Duration = Duration::from_secs(30);

/// One queue's range to read: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueRange {
    /// The queue id.
    pub queue_id: i32,
    /// First offset to read.
    pub start: i64,
    /// Offset to stop at (exclusive).
    pub end: i64,
}

impl QueueRange {
    /// Messages in the range.
    #[must_use]
    pub fn len(&self) -> u64 {
        u64::try_from(self.end - self.start).unwrap_or(0)
    }
}

/// What a drain read.
#[derive(Debug, Default)]
pub struct DrainOutcome {
    /// Messages received.
    pub messages: u64,
    /// Sum of their bodies' sizes.
    pub body_bytes: u64,
    /// Failed pulls by kind.
    pub errors: BTreeMap<String, u64>,
    /// From the first pull to the last answer.
    pub elapsed: Duration,
}

/// The next offset to be written in each of queues `0..queues` of `topic`.
///
/// # Errors
/// If the broker cannot be reached or refuses.
pub async fn max_offsets(wire: &Wire, topic: &str, queues: i32) -> Result<Vec<i64>> {
    let mut offsets = Vec::new();
    for queue_id in 0..queues {
        offsets.push(wire.max_offset(topic, queue_id).await?);
    }
    Ok(offsets)
}

/// The first stored offset in each of queues `0..queues` of `topic`.
///
/// # Errors
/// If the broker cannot be reached or refuses.
pub async fn min_offsets(wire: &Wire, topic: &str, queues: i32) -> Result<Vec<i64>> {
    let mut offsets = Vec::new();
    for queue_id in 0..queues {
        offsets.push(wire.min_offset(topic, queue_id).await?);
    }
    Ok(offsets)
}

/// Waits (up to 30 s) until the consume queues past `starts` hold at least `expected`
/// messages, then returns the ranges from `starts` to the queues' ends. Returns what is
/// there at the timeout, so a shortfall shows up as a count mismatch rather than a hang.
///
/// # Errors
/// If the broker cannot be reached or refuses.
pub async fn wait_backlog(
    wire: &Wire,
    topic: &str,
    starts: &[i64],
    expected: u64,
) -> Result<Vec<QueueRange>> {
    let deadline = Instant::now() + BACKLOG_TIMEOUT;
    loop {
        let queues = i32::try_from(starts.len()).context("too many queues")?;
        let ends = max_offsets(wire, topic, queues).await?;
        let ranges = ranges(starts, &ends);
        let available: u64 = ranges.iter().map(QueueRange::len).sum();
        if available >= expected || Instant::now() >= deadline {
            return Ok(ranges);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Ranges `[starts[i], ends[i])` for queues `0..`.
#[must_use]
pub fn ranges(starts: &[i64], ends: &[i64]) -> Vec<QueueRange> {
    (0..)
        .zip(starts.iter().zip(ends))
        .map(|(queue_id, (&start, &end))| QueueRange {
            queue_id,
            start,
            end: end.max(start),
        })
        .collect()
}

/// Reads every range with pulls of up to `batch` messages, one task per queue over one
/// connection to `addr`, counting into `counters`.
///
/// # Errors
/// If the connection cannot be made or a queue stalls for 15 s.
pub async fn drain(
    addr: &str,
    topic: &str,
    ranges: &[QueueRange],
    batch: i32,
    counters: Arc<Counters>,
) -> Result<DrainOutcome> {
    let wire = Wire::new(addr);
    wire.max_offset(topic, 0)
        .await
        .context("cannot open the consumer connection")?;
    let topic: Arc<str> = Arc::from(topic);
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for range in ranges.iter().copied().filter(|r| r.len() > 0) {
        let (wire, topic, counters) = (wire.clone(), topic.clone(), counters.clone());
        tasks.spawn(async move { drain_queue(&wire, &topic, range, batch, &counters).await });
    }
    let mut total = DrainOutcome::default();
    while let Some(joined) = tasks.join_next().await {
        let one = joined.context("a consumer task failed")??;
        total.messages += one.messages;
        total.body_bytes += one.body_bytes;
        for (kind, n) in one.errors {
            *total.errors.entry(kind).or_default() += n;
        }
    }
    total.elapsed = start.elapsed();
    wire.shutdown().await;
    Ok(total)
}

/// Reads one queue's range.
async fn drain_queue(
    wire: &Wire,
    topic: &str,
    range: QueueRange,
    batch: i32,
    counters: &Counters,
) -> Result<DrainOutcome> {
    let mut out = DrainOutcome::default();
    let mut offset = range.start;
    let mut progressed = Instant::now();
    while offset < range.end {
        if progressed.elapsed() > STALL_TIMEOUT {
            bail!(
                "queue {} of {topic} stalled at offset {offset} (end {}) for {} s",
                range.queue_id,
                range.end,
                STALL_TIMEOUT.as_secs()
            );
        }
        let max = batch.min(i32::try_from(range.end - offset).unwrap_or(batch));
        match wire.pull(topic, range.queue_id, offset, max).await {
            Ok(pulled) => {
                out.messages += pulled.messages;
                out.body_bytes += pulled.body_bytes;
                counters.done.fetch_add(pulled.messages, Ordering::Relaxed);
                if pulled.next_offset > offset {
                    offset = pulled.next_offset;
                    progressed = Instant::now();
                } else if pulled.code != response::SUCCESS {
                    tokio::time::sleep(NOTHING_YET_PAUSE).await;
                }
            }
            Err(failure) => {
                *out.errors.entry(failure.kind()).or_default() += 1;
                counters.errors.fetch_add(1, Ordering::Relaxed);
                if failure != Failure::Timeout {
                    tokio::time::sleep(FAILURE_PAUSE).await;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ranges pair starts with ends and never run backwards.
    #[test]
    fn builds_ranges() {
        let r = ranges(&[0, 5, 9], &[3, 5, 7]);
        assert_eq!(r.iter().map(QueueRange::len).collect::<Vec<_>>(), [3, 0, 0]);
        assert_eq!(r[2].queue_id, 2);
    }
}
