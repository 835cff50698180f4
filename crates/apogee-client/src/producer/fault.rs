//! Queue choice and latency-based broker avoidance (RocketMQ's `MQFaultStrategy` and
//! `LatencyFaultToleranceImpl`).
//!
//! After every send the producer records how long the broker took; with
//! `sendLatencyFaultEnable` a broker whose last send took at least one of
//! [`LATENCY_MAX_MS`] is avoided for the matching [`NOT_AVAILABLE_DURATION_MS`], and a failed
//! send counts as [`ISOLATION_LATENCY_MS`]. Time comes from a [`Clock`], so tests can move it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use crate::message::MessageQueue;

/// Latency thresholds, in ms (`MQFaultStrategy.latencyMax`).
pub const LATENCY_MAX_MS: [u64; 7] = [50, 100, 550, 1000, 2000, 3000, 15000];
/// How long a broker is avoided after a send at least as slow as the threshold of the same
/// index, in ms (`MQFaultStrategy.notAvailableDuration`).
pub const NOT_AVAILABLE_DURATION_MS: [u64; 7] = [0, 0, 30000, 60000, 120000, 180000, 600000];
/// The latency a failed send counts as (RocketMQ's `isolation` case).
pub const ISOLATION_LATENCY_MS: u64 = 30000;

/// A monotonic millisecond clock.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since an arbitrary fixed origin; never goes back.
    fn now_ms(&self) -> u64;
}

/// The real clock: milliseconds since the clock was made.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock starting at 0 now.
    #[must_use]
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A clock that moves only when told to, for tests.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: AtomicU64,
}

impl ManualClock {
    /// A clock at `start_ms`.
    #[must_use]
    pub fn new(start_ms: u64) -> Self {
        Self {
            now: AtomicU64::new(start_ms),
        }
    }

    /// Moves the clock forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.now.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}

/// What is known about one broker's recent sends (RocketMQ's `FaultItem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultItem {
    /// The latency of the last send, in ms ([`ISOLATION_LATENCY_MS`] for a failure).
    pub current_latency_ms: u64,
    /// When the broker may be used again, on the strategy's clock.
    pub available_at_ms: u64,
}

/// Which brokers to avoid and until when (RocketMQ's `LatencyFaultToleranceImpl`).
#[derive(Debug)]
pub struct LatencyFaultTolerance {
    items: Mutex<HashMap<String, FaultItem>>,
    clock: Arc<dyn Clock>,
}

impl LatencyFaultTolerance {
    /// An empty table on `clock`.
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            items: Mutex::new(HashMap::new()),
            clock,
        }
    }

    /// Records a send to `broker` that took `latency_ms`, making the broker unavailable for
    /// `not_available_ms` from now.
    pub fn update(&self, broker: &str, latency_ms: u64, not_available_ms: u64) {
        let item = FaultItem {
            current_latency_ms: latency_ms,
            available_at_ms: self.clock.now_ms().saturating_add(not_available_ms),
        };
        self.items.lock().insert(broker.to_owned(), item);
    }

    /// Whether `broker` may be used now; brokers never recorded are.
    #[must_use]
    pub fn is_available(&self, broker: &str) -> bool {
        let now = self.clock.now_ms();
        self.items
            .lock()
            .get(broker)
            .is_none_or(|item| now >= item.available_at_ms)
    }

    /// What is recorded about `broker`.
    #[must_use]
    pub fn item(&self, broker: &str) -> Option<FaultItem> {
        self.items.lock().get(broker).copied()
    }

    /// Forgets `broker`.
    pub fn remove(&self, broker: &str) {
        self.items.lock().remove(broker);
    }

    /// Of `brokers`, the one that becomes available soonest (the least bad one), then the
    /// one with the lower latency (RocketMQ's `pickOneAtLeast`).
    fn least_bad<'a>(&self, brokers: impl Iterator<Item = &'a str>) -> Option<&'a str> {
        let items = self.items.lock();
        brokers.min_by_key(|b| {
            items
                .get(*b)
                .map_or((0, 0), |i| (i.available_at_ms, i.current_latency_ms))
        })
    }
}

/// Chooses the queue of each send attempt and keeps the latency record
/// (RocketMQ's `MQFaultStrategy`).
///
/// Queues are taken round-robin from a per-topic counter. A retry avoids the broker of the
/// failed attempt when another one has queues (`selectOneMessageQueue(lastBrokerName)`).
/// With latency fault avoidance on, brokers that are unavailable are skipped too; when every
/// broker is unavailable the one that becomes available soonest is used, so a send is always
/// attempted.
#[derive(Debug)]
pub struct MqFaultStrategy {
    enabled: bool,
    tolerance: LatencyFaultTolerance,
}

impl MqFaultStrategy {
    /// A strategy on the real clock; `enabled` is `sendLatencyFaultEnable`.
    #[must_use]
    pub fn new(enabled: bool) -> Self {
        Self::with_clock(enabled, Arc::new(SystemClock::new()))
    }

    /// A strategy on `clock`.
    #[must_use]
    pub fn with_clock(enabled: bool, clock: Arc<dyn Clock>) -> Self {
        Self {
            enabled,
            tolerance: LatencyFaultTolerance::new(clock),
        }
    }

    /// Whether latency fault avoidance is on.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The broker latency record.
    #[must_use]
    pub fn tolerance(&self) -> &LatencyFaultTolerance {
        &self.tolerance
    }

    /// How long a broker whose send took `latency_ms` is avoided
    /// (`computeNotAvailableDuration`).
    #[must_use]
    pub fn not_available_duration(latency_ms: u64) -> u64 {
        LATENCY_MAX_MS
            .iter()
            .zip(NOT_AVAILABLE_DURATION_MS)
            .rev()
            .find(|(max, _)| latency_ms >= **max)
            .map_or(0, |(_, duration)| duration)
    }

    /// Records a send to `broker` that took `latency_ms`; `isolation` marks a failure, which
    /// counts as [`ISOLATION_LATENCY_MS`]. Does nothing unless enabled (`updateFaultItem`).
    pub fn update_fault_item(&self, broker: &str, latency_ms: u64, isolation: bool) {
        if !self.enabled {
            return;
        }
        let latency = if isolation {
            ISOLATION_LATENCY_MS
        } else {
            latency_ms
        };
        self.tolerance
            .update(broker, latency_ms, Self::not_available_duration(latency));
    }

    /// Whether `broker` may be chosen now (always, when disabled).
    #[must_use]
    pub fn is_available(&self, broker: &str) -> bool {
        !self.enabled || self.tolerance.is_available(broker)
    }

    /// The queue of the next attempt, from `queues` with round-robin `counter`, avoiding
    /// `last_broker` (the broker of the failed attempt) when possible; `None` only when
    /// `queues` is empty.
    #[must_use]
    pub fn select(
        &self,
        queues: &[MessageQueue],
        counter: &AtomicUsize,
        last_broker: Option<&str>,
    ) -> Option<MessageQueue> {
        if queues.is_empty() {
            return None;
        }
        let other = |q: &MessageQueue| last_broker != Some(q.broker_name.as_str());
        if self.enabled {
            let available = |q: &MessageQueue| self.tolerance.is_available(&q.broker_name);
            if let Some(q) = next_matching(queues, counter, |q| available(q) && other(q)) {
                return Some(q.clone());
            }
            if let Some(q) = next_matching(queues, counter, available) {
                return Some(q.clone());
            }
            // Every broker is unavailable: use the least bad one, another than the last if
            // there is one.
            let candidates = queues.iter().filter(|q| other(q));
            let least = self
                .tolerance
                .least_bad(candidates.map(|q| q.broker_name.as_str()))
                .or_else(|| {
                    self.tolerance
                        .least_bad(queues.iter().map(|q| q.broker_name.as_str()))
                });
            if let Some(broker) = least
                && let Some(q) = next_matching(queues, counter, |q| q.broker_name == broker)
            {
                return Some(q.clone());
            }
        } else if let Some(q) = next_matching(queues, counter, other) {
            return Some(q.clone());
        }
        next_matching(queues, counter, |_| true).cloned()
    }
}

/// The next queue after the counter that `accept`s, advancing the counter once per call.
fn next_matching<'q>(
    queues: &'q [MessageQueue],
    counter: &AtomicUsize,
    accept: impl Fn(&MessageQueue) -> bool,
) -> Option<&'q MessageQueue> {
    let start = counter.fetch_add(1, Ordering::Relaxed);
    (0..queues.len())
        .map(|i| &queues[start.wrapping_add(i) % queues.len()])
        .find(|q| accept(q))
}

#[cfg(test)]
#[path = "fault_test.rs"]
mod tests;
