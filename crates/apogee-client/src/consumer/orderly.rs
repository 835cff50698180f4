//! Orderly consumption (`ConsumeMessageOrderlyService`): per queue, one runner task hands
//! the listener the queue's earliest held messages, one batch at a time, and moves the
//! committed offset past each batch that succeeds. A batch whose listener asks
//! SUSPEND_CURRENT_QUEUE_A_MOMENT (or panics) is delivered again after the suspend time,
//! its reconsume count raised, and the queue's later messages wait for it.
//!
//! In clustering the runner (and the pull task) only work while the queue's broker lock is
//! held and fresh; locking is in `orderly_lock`.
//!
//! # Limits
//! - [`ConsumeOrderlyContext::auto_commit`] is ignored (always committed on SUCCESS).
//! - With `max_reconsume_times` ≥ 0, a batch suspended that many times is skipped with a
//!   warning and committed: RocketMQ sends it to the dead-letter queue instead, which a
//!   later change adds. −1 (the default) retries forever, as RocketMQ's orderly mode.
//! - A runner is not rescheduled after RocketMQ's `MAX_TIME_CONSUME_CONTINUOUSLY` (60 s);
//!   it keeps the queue while messages are held, sharing the thread limit with others.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tracing::warn;

use super::group::sleep_or_cancel;
use super::listener::MessageListenerConcurrently;
use super::listener_orderly::{
    ConsumeOrderlyContext, ConsumeOrderlyStatus, MessageListenerOrderly,
};
use super::orderly_lock::REBALANCE_LOCK_MAX_LIVE_TIME;
use super::process_queue::ProcessQueue;
use super::push_engine::PushEngine;
use crate::message::{MessageExt, MessageQueue};

/// The wait before a runner re-checks a queue whose lock is missing or stale.
pub const ORDERLY_LOCK_RECHECK_DELAY: Duration = Duration::from_millis(100);

/// The bounds RocketMQ puts on a suspend time (`submitConsumeRequestLater`).
const SUSPEND_MIN: Duration = Duration::from_millis(10);
const SUSPEND_MAX: Duration = Duration::from_millis(30_000);

/// The registered listener, of either kind.
#[derive(Clone)]
pub(crate) enum ConsumeListener {
    /// `MessageListenerConcurrently`.
    Concurrently(Arc<dyn MessageListenerConcurrently>),
    /// `MessageListenerOrderly`.
    Orderly(Arc<dyn MessageListenerOrderly>),
}

/// The orderly part of a process queue: its broker lock and its consume runner.
#[derive(Debug, Default)]
pub(crate) struct OrderlyQueueState {
    /// When the broker lock was last obtained; `None` while not held.
    locked_at: Mutex<Option<Instant>>,
    /// A runner task is working on the queue.
    running: AtomicBool,
    /// Held around each listener call and its commit (`consumeLock`), so a release waits
    /// for the running call before unlocking the queue on the broker.
    consume_lock: tokio::sync::Mutex<()>,
}

impl OrderlyQueueState {
    /// Records a lock obtained at `at`.
    pub(crate) fn set_locked(&self, at: Instant) {
        *self.locked_at.lock() = Some(at);
    }

    /// Records that the lock is not held.
    pub(crate) fn set_unlocked(&self) {
        *self.locked_at.lock() = None;
    }

    /// Whether the lock is held and younger than [`REBALANCE_LOCK_MAX_LIVE_TIME`].
    pub(crate) fn lock_valid(&self, now: Instant) -> bool {
        self.locked_at
            .lock()
            .is_some_and(|at| now.saturating_duration_since(at) <= REBALANCE_LOCK_MAX_LIVE_TIME)
    }

    /// The lock taken around a listener call.
    pub(crate) fn consume_lock(&self) -> &tokio::sync::Mutex<()> {
        &self.consume_lock
    }

    fn try_start_runner(&self) -> bool {
        !self.running.swap(true, Ordering::AcqRel)
    }

    fn stop_runner(&self) {
        self.running.store(false, Ordering::Release);
    }
}

/// What became of one delivery of a batch.
enum Outcome {
    /// Committed; take the next batch.
    Done,
    /// Deliver the batch again after the delay.
    Again(Vec<MessageExt>, Duration),
    /// The lock went stale before the call; keep the batch and wait for the lock.
    NotLocked(Vec<MessageExt>),
    /// The queue was dropped or the consumer is shutting down.
    Stop,
}

impl PushEngine {
    /// Whether the listener is orderly.
    pub(crate) fn is_orderly(&self) -> bool {
        matches!(self.listener, ConsumeListener::Orderly(_))
    }

    /// Makes sure a runner consumes `queue`'s held messages.
    pub(crate) fn submit_orderly(self: &Arc<Self>, queue: &MessageQueue, pq: &Arc<ProcessQueue>) {
        if pq.orderly().try_start_runner() {
            let runner = self.clone().run_orderly(queue.clone(), pq.clone());
            self.tracker.spawn(runner);
        }
    }

    async fn run_orderly(self: Arc<Self>, queue: MessageQueue, pq: Arc<ProcessQueue>) {
        let ConsumeListener::Orderly(listener) = self.listener.clone() else {
            return;
        };
        let mut pending: Option<Vec<MessageExt>> = None;
        loop {
            if pq.is_dropped() || pq.cancelled().is_cancelled() {
                break;
            }
            if self.needs_locks() && !pq.orderly().lock_valid(Instant::now()) {
                if sleep_or_cancel(pq.cancelled(), ORDERLY_LOCK_RECHECK_DELAY).await {
                    continue;
                }
                break;
            }
            let batch = match pending.take() {
                Some(batch) => batch,
                None => pq.first_messages(self.config.consume_message_batch_max_size),
            };
            if batch.is_empty() {
                // Stop, unless a pull added messages after the check (its submit then saw
                // this runner still running and relied on it).
                pq.orderly().stop_runner();
                if pq.first_messages(1).is_empty() || !pq.orderly().try_start_runner() {
                    return;
                }
                continue;
            }
            match self.consume_orderly(&queue, &pq, &listener, batch).await {
                Outcome::Done => {}
                Outcome::NotLocked(batch) => pending = Some(batch),
                Outcome::Again(batch, delay) => {
                    if !sleep_or_cancel(pq.cancelled(), delay).await {
                        break;
                    }
                    pending = Some(batch);
                }
                Outcome::Stop => break,
            }
        }
        pq.orderly().stop_runner();
    }

    /// One delivery of `batch`, under the queue's consume lock.
    async fn consume_orderly(
        &self,
        queue: &MessageQueue,
        pq: &Arc<ProcessQueue>,
        listener: &Arc<dyn MessageListenerOrderly>,
        mut batch: Vec<MessageExt>,
    ) -> Outcome {
        let permit = tokio::select! {
            () = pq.cancelled().cancelled() => return Outcome::Stop,
            permit = self.permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return Outcome::Stop,
            },
        };
        let _consuming = pq.orderly().consume_lock().lock().await;
        if pq.is_dropped() || pq.cancelled().is_cancelled() {
            return Outcome::Stop;
        }
        if self.needs_locks() && !pq.orderly().lock_valid(Instant::now()) {
            return Outcome::NotLocked(batch);
        }
        let listener = listener.clone();
        let mut context = ConsumeOrderlyContext::new(queue.clone());
        let given = batch.clone();
        let call = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let status = listener.consume_message(&given, &mut context);
            (status, context.suspend_current_queue_time_millis)
        });
        let (status, suspend_millis) = match call.await {
            Ok(result) => result,
            Err(error) => {
                warn!(?queue, %error, "orderly listener panicked; SUSPEND_CURRENT_QUEUE_A_MOMENT");
                (ConsumeOrderlyStatus::SuspendCurrentQueueAMoment, -1)
            }
        };
        if status == ConsumeOrderlyStatus::SuspendCurrentQueueAMoment {
            let times = batch.iter().map(|m| m.reconsume_times).max().unwrap_or(0);
            let max = self.config.max_reconsume_times;
            if max < 0 || times < max {
                for message in &mut batch {
                    message.reconsume_times = message.reconsume_times.saturating_add(1);
                }
                let delay = suspend_delay(suspend_millis, self.config.suspend_current_queue_time);
                return Outcome::Again(batch, delay);
            }
            for message in &batch {
                warn!(
                    ?queue,
                    msg_id = %message.msg_id(),
                    offset = message.queue_offset,
                    times,
                    "orderly message suspended max_reconsume_times times; skipped (no DLQ yet)"
                );
            }
        }
        // Committed even if the queue was dropped meanwhile: a release waits for this lock
        // before it persists the offset.
        let offsets: Vec<i64> = batch.iter().map(|m| m.queue_offset).collect();
        let commit = pq.remove_messages(&offsets);
        self.store.update(queue, commit, true);
        Outcome::Done
    }
}

/// The wait after SUSPEND_CURRENT_QUEUE_A_MOMENT: the context's value in milliseconds, or
/// `default` for −1, clamped to 10 ms..=30 s.
fn suspend_delay(millis: i64, default: Duration) -> Duration {
    let wanted = match u64::try_from(millis) {
        Ok(millis) if millis != u64::MAX => Duration::from_millis(millis),
        _ => default,
    };
    wanted.clamp(SUSPEND_MIN, SUSPEND_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// −1 means the consumer's default; values are clamped as in RocketMQ.
    #[test]
    fn suspend_delays() {
        let default = Duration::from_secs(1);
        assert_eq!(suspend_delay(-1, default), default);
        assert_eq!(suspend_delay(200, default), Duration::from_millis(200));
        assert_eq!(suspend_delay(1, default), SUSPEND_MIN);
        assert_eq!(suspend_delay(99_999, default), SUSPEND_MAX);
        assert_eq!(suspend_delay(-1, Duration::ZERO), SUSPEND_MIN);
    }

    /// A lock is valid until it is older than the client-side maximum.
    #[test]
    fn lock_freshness() {
        let state = OrderlyQueueState::default();
        let now = Instant::now();
        assert!(!state.lock_valid(now));
        state.set_locked(now);
        assert!(state.lock_valid(now));
        assert!(!state.lock_valid(now + REBALANCE_LOCK_MAX_LIVE_TIME + Duration::from_secs(1)));
        state.set_unlocked();
        assert!(!state.lock_valid(now));
        assert!(state.try_start_runner());
        assert!(!state.try_start_runner());
        state.stop_runner();
        assert!(state.try_start_runner());
    }
}
