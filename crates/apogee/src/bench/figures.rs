//! The figures of `bench produce`, `consume` and `all`, as they go into `--json`, with the
//! arithmetic that derives them (rates, percentiles, the one-sender ceiling).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::broker_proc::Flush;
use super::limits::QuickLimits;
use super::load::Mode;

/// Latency percentiles of acknowledged sends, µs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

impl Latency {
    /// The percentiles of a histogram of µs values.
    #[must_use]
    pub fn of(histogram: &Histogram<u64>) -> Self {
        let at = |q: f64| histogram.value_at_quantile(q) as f64;
        Self {
            mean: histogram.mean(),
            p50: at(0.50),
            p99: at(0.99),
            p999: at(0.999),
            max: histogram.max() as f64,
        }
    }
}

/// The broker process's memory and CPU over a run (all `None` without its pid).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct BrokerUsage {
    /// Its process id.
    pub pid: Option<u32>,
    /// Resident memory before the run, KiB.
    pub rss_idle_kib: Option<u64>,
    /// Largest resident memory sampled during the run (every 100 ms), KiB.
    pub rss_peak_kib: Option<u64>,
    /// Resident memory right after the run, KiB.
    pub rss_after_kib: Option<u64>,
    /// Anonymous resident memory (`RssAnon`, no mapped log pages) before the run, KiB.
    pub rss_anon_idle_kib: Option<u64>,
    /// Largest anonymous resident memory sampled during the run, KiB.
    pub rss_anon_peak_kib: Option<u64>,
    /// Anonymous resident memory right after the run, KiB.
    pub rss_anon_after_kib: Option<u64>,
    /// CPU time (user + system, all threads) during the run per message, µs.
    pub cpu_us_per_msg: Option<f64>,
}

/// What one produce run achieved.
#[derive(Debug, Clone, Serialize)]
pub struct ProduceRun {
    /// The topic.
    pub topic: String,
    /// Its queue count.
    pub queues: i32,
    /// Message body size, bytes.
    pub size: usize,
    /// Concurrent senders.
    pub concurrency: usize,
    /// Sync or async senders.
    pub mode: Mode,
    /// Sends outstanding per async sender.
    pub inflight: usize,
    /// The broker's flush mode (as spawned, or as declared with `--broker`).
    pub flush: Flush,
    /// Wall time of the load, s.
    pub elapsed_s: f64,
    /// Sends acknowledged with SUCCESS.
    pub messages: u64,
    /// Acknowledged messages per second.
    pub msgs_per_s: f64,
    /// Acknowledged body bytes per second, MB/s (10⁶).
    pub mb_per_s: f64,
    /// Latency of acknowledged sends, µs.
    pub latency_us: Latency,
    /// Failed sends.
    pub errors: u64,
    /// Failed sends by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// The broker's memory and CPU.
    pub broker: BrokerUsage,
    /// This process's CPU time per acknowledged message, µs.
    pub client_cpu_us_per_msg: Option<f64>,
}

/// What one consume (drain) run achieved.
#[derive(Debug, Clone, Serialize)]
pub struct ConsumeRun {
    /// The topic.
    pub topic: String,
    /// Messages pulled.
    pub messages: u64,
    /// Messages expected (what produce acknowledged, or the backlog found).
    pub expected: u64,
    /// Whether `messages == expected`.
    pub count_matches: bool,
    /// Wall time, s.
    pub elapsed_s: f64,
    /// Messages per second.
    pub msgs_per_s: f64,
    /// Body bytes per second, MB/s (10⁶).
    pub mb_per_s: f64,
    /// Failed pulls.
    pub errors: u64,
    /// Failed pulls by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Messages per pull asked for.
    pub batch: i32,
    /// The broker's memory and CPU.
    pub broker: BrokerUsage,
    /// This process's CPU time per message, µs.
    pub client_cpu_us_per_msg: Option<f64>,
}

/// The ceiling of one sync sender: one round trip per message, plus one 4 KiB sync under
/// SYNC_FLUSH.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Ceiling {
    /// `1 / RTT` or `1 / (RTT + 4 KiB sync)`, messages per second.
    pub msgs_per_s: f64,
    /// The measured rate over the ceiling.
    pub ratio: f64,
    /// How the ceiling was made.
    pub formula: &'static str,
}

impl Ceiling {
    /// The ceiling of a run with `concurrency` senders in `mode` under `flush`, when there is
    /// one: only for a single sync sender, whose rate is bounded by one round trip (and one
    /// sync) per message.
    #[must_use]
    pub fn of(run: &ProduceRun, limits: &QuickLimits) -> Option<Self> {
        if run.concurrency != 1 || run.mode != Mode::Sync {
            return None;
        }
        let (floor_us, formula) = match run.flush {
            Flush::Async => (limits.rtt.mean_us, "1 / loopback RTT"),
            Flush::Sync => (
                limits.rtt.mean_us + limits.fsync_4k_mean_us,
                "1 / (loopback RTT + 4 KiB write+fdatasync)",
            ),
        };
        let msgs_per_s = 1e6 / floor_us;
        (msgs_per_s.is_finite() && msgs_per_s > 0.0).then(|| Self {
            msgs_per_s,
            ratio: run.msgs_per_s / msgs_per_s,
            formula,
        })
    }
}

/// One produce run, what consumed its messages, and its ceiling.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// The produce run.
    pub produce: ProduceRun,
    /// The one-sender ceiling, for one sync sender.
    pub ceiling: Option<Ceiling>,
    /// The consume run that read back what was produced, when asked for.
    pub consume: Option<ConsumeRun>,
}

/// Per-second rates of `count` items and `bytes` over `elapsed`: (items/s, MB/s).
#[must_use]
pub fn rates(count: u64, bytes: u64, elapsed: Duration) -> (f64, f64) {
    let seconds = elapsed.as_secs_f64().max(1e-9);
    (count as f64 / seconds, bytes as f64 / 1e6 / seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::loopback::Rtt;

    fn run(concurrency: usize, mode: Mode, flush: Flush) -> ProduceRun {
        ProduceRun {
            topic: "T".into(),
            queues: 8,
            size: 1024,
            concurrency,
            mode,
            inflight: 32,
            flush,
            elapsed_s: 1.0,
            messages: 5000,
            msgs_per_s: 5000.0,
            mb_per_s: 5.0,
            latency_us: Latency::of(&Histogram::new(3).expect("histogram")),
            errors: 0,
            errors_by_kind: BTreeMap::new(),
            broker: BrokerUsage::default(),
            client_cpu_us_per_msg: None,
        }
    }

    /// The one-sender ceiling is 1/RTT (async flush) or 1/(RTT + sync), and only for one
    /// sync sender.
    #[test]
    fn one_sender_ceiling() {
        let limits = QuickLimits {
            rtt: Rtt {
                mean_us: 50.0,
                p50_us: 45.0,
                p99_us: 90.0,
                round_trips: 10,
            },
            fsync_4k_mean_us: 150.0,
            fsync_4k_p99_us: 300.0,
            fsync_4k_count: 10,
        };
        let ceiling = Ceiling::of(&run(1, Mode::Sync, Flush::Async), &limits).expect("ceiling");
        assert!((ceiling.msgs_per_s - 20_000.0).abs() < 1e-6);
        assert!((ceiling.ratio - 0.25).abs() < 1e-9);
        let ceiling = Ceiling::of(&run(1, Mode::Sync, Flush::Sync), &limits).expect("ceiling");
        assert!((ceiling.msgs_per_s - 5_000.0).abs() < 1e-6);
        assert!(Ceiling::of(&run(8, Mode::Sync, Flush::Sync), &limits).is_none());
        assert!(Ceiling::of(&run(1, Mode::Async, Flush::Sync), &limits).is_none());
    }

    /// Rates divide by the elapsed time.
    #[test]
    fn computes_rates() {
        let (per_s, mb_s) = rates(1000, 2_000_000, Duration::from_secs(2));
        assert!((per_s - 500.0).abs() < 1e-9 && (mb_s - 1.0).abs() < 1e-9);
    }
}
