//! Broker locks of an orderly clustering consumer (`RebalanceImpl.lock` / `lockAll` /
//! `unlock`): newly assigned queues are locked before they are started, held queues are
//! re-locked every [`REBALANCE_LOCK_INTERVAL`], released queues are unlocked once their
//! running listener call is over and their offset committed, and all at shutdown.
//! Broadcasting consumers take no locks, as in RocketMQ.
//!
//! # Limits
//! - A queue whose lock is lost (another client got it after it lapsed) stays assigned but
//!   idle until the next [`REBALANCE_LOCK_INTERVAL`] renewal wins it back, as in RocketMQ.
//! - At shutdown the queues are unlocked after the offsets are committed even if a listener
//!   call outlived `await_termination_on_shutdown`; its result is then not committed and
//!   the next owner may deliver that batch again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use apogee_protocol::body::MessageModel;
use tracing::{debug, info, warn};

use super::group::{sleep_or_cancel, spawn_periodic};
use super::offset_store::broker_addr;
use super::process_queue::ProcessQueue;
use super::push_engine::PushEngine;
use crate::message::MessageQueue;

/// How often held queues are locked again (`rocketmq.client.rebalance.lockInterval`).
pub const REBALANCE_LOCK_INTERVAL: Duration = Duration::from_secs(20);

/// The client-side age after which a lock no longer allows consuming until it is renewed
/// (`ProcessQueue.REBALANCE_LOCK_MAX_LIVE_TIME`); the broker keeps it for 60 s.
pub const REBALANCE_LOCK_MAX_LIVE_TIME: Duration = Duration::from_secs(30);

/// The wait before another rebalance when a newly assigned queue could not be locked
/// (RocketMQ's `rebalanceLater(500)`).
pub const REBALANCE_LATER_WHEN_LOCK_FAILED: Duration = Duration::from_millis(500);

/// How long a release waits for the queue's running listener call before it gives up
/// unlocking (the broker lock then lapses by itself), as RocketMQ's `consumeLock.tryLock`.
pub const RELEASE_WAIT_FOR_CONSUME: Duration = Duration::from_millis(1000);

impl PushEngine {
    /// Whether queues must be locked on their broker: orderly and clustering.
    pub(crate) fn needs_locks(&self) -> bool {
        self.is_orderly() && self.config.message_model == MessageModel::Clustering
    }

    /// Whether the pull task of `pq` may pull now: not an orderly clustering consumer, or
    /// its lock is held and fresh.
    pub(crate) fn may_pull(&self, pq: &ProcessQueue) -> bool {
        !self.needs_locks() || pq.orderly().lock_valid(Instant::now())
    }

    /// Locks newly assigned `queues`, one request per broker; returns the queues to start,
    /// with the time their lock was obtained (`None` when no lock is needed). A queue that
    /// could not be locked is left out and a rebalance is scheduled shortly.
    pub(crate) async fn lock_new_queues(
        self: &Arc<Self>,
        queues: Vec<MessageQueue>,
    ) -> Vec<(MessageQueue, Option<Instant>)> {
        if !self.needs_locks() || queues.is_empty() {
            return queues.into_iter().map(|q| (q, None)).collect();
        }
        let wanted = queues.len();
        let mut started = Vec::with_capacity(wanted);
        for (asked, locked) in self.lock_by_broker(queues).await {
            started.extend(locked.into_iter().map(|q| (q, Some(asked.when))));
        }
        if started.len() < wanted {
            debug!(
                group = %self.config.consumer_group,
                locked = started.len(),
                wanted,
                "some new queues are locked by another client; rebalancing again soon"
            );
            let wake = self.rebalance_wake.clone();
            let cancel = self.cancel.clone();
            self.tracker.spawn(async move {
                if sleep_or_cancel(&cancel, REBALANCE_LATER_WHEN_LOCK_FAILED).await {
                    wake.notify_one();
                }
            });
        }
        started
    }

    /// Re-locks every held queue (`lockAll`): the queues granted are marked locked now, the
    /// others unlocked. A broker that cannot be reached leaves its queues' state alone.
    pub(crate) async fn lock_all(self: &Arc<Self>) {
        let held: BTreeMap<MessageQueue, Arc<ProcessQueue>> = (self.queues.lock().iter())
            .map(|(q, pq)| (q.clone(), pq.clone()))
            .collect();
        let queues: Vec<MessageQueue> = held.keys().cloned().collect();
        for (at, locked) in self.lock_by_broker(queues).await {
            for (queue, pq) in held.iter().filter(|(q, _)| q.broker_name == at.broker) {
                if locked.contains(queue) {
                    pq.orderly().set_locked(at.when);
                } else {
                    warn!(
                        ?queue,
                        "queue lock lost to another client; not consuming it"
                    );
                    pq.orderly().set_unlocked();
                }
            }
        }
    }

    /// Starts the periodic re-locking of an orderly clustering consumer's queues.
    pub(crate) fn spawn_lock_renewal(self: &Arc<Self>) {
        if !self.needs_locks() {
            return;
        }
        let engine = self.clone();
        spawn_periodic(
            &self.tracker,
            self.cancel.clone(),
            None,
            REBALANCE_LOCK_INTERVAL,
            move || {
                let engine = engine.clone();
                async move { engine.lock_all().await }
            },
        );
    }

    /// Waits (up to [`RELEASE_WAIT_FOR_CONSUME`]) for the running listener call of a
    /// dropped orderly queue, so its result is committed before the offset is persisted.
    /// Returns whether no call is running any more.
    pub(crate) async fn await_orderly_call(&self, pq: &ProcessQueue) -> bool {
        if !self.is_orderly() {
            return true;
        }
        let lock = pq.orderly().consume_lock();
        tokio::time::timeout(RELEASE_WAIT_FOR_CONSUME, lock.lock())
            .await
            .is_ok()
    }

    /// Unlocks a released queue on its broker (`removeUnnecessaryMessageQueue`), unless
    /// `idle` says a listener call may still be running on it.
    pub(crate) async fn unlock_released(&self, queue: &MessageQueue, idle: bool) {
        if !self.needs_locks() {
            return;
        }
        if !idle {
            warn!(
                ?queue,
                "listener call still running; its lock is left to lapse"
            );
            return;
        }
        self.unlock(vec![queue.clone()]).await;
    }

    /// Unlocks every held queue, at shutdown (`unlockAll`).
    pub(crate) async fn unlock_all(&self) {
        if self.needs_locks() {
            let queues: Vec<MessageQueue> = self.queues.lock().keys().cloned().collect();
            self.unlock(queues).await;
        }
    }

    async fn unlock(&self, queues: Vec<MessageQueue>) {
        for (broker, queues) in by_broker(queues) {
            let Some(first) = queues.first() else {
                continue;
            };
            let group = &self.config.consumer_group;
            let result = match broker_addr(&self.instance, first).await {
                Ok(addr) => self.instance.unlock_queues(&addr, group, queues).await,
                Err(error) => Err(error),
            };
            match result {
                Ok(()) => info!(%group, %broker, "orderly queues unlocked"),
                Err(error) => warn!(%broker, %error, "UNLOCK_BATCH_MQ failed; locks will lapse"),
            }
        }
    }

    /// Sends one LOCK_BATCH_MQ per broker; returns, per broker answering, when it was asked
    /// and the queues it granted.
    async fn lock_by_broker(&self, queues: Vec<MessageQueue>) -> Vec<(Asked, Vec<MessageQueue>)> {
        let mut result = Vec::new();
        for (broker, queues) in by_broker(queues) {
            let Some(first) = queues.first() else {
                continue;
            };
            let addr = match broker_addr(&self.instance, first).await {
                Ok(addr) => addr,
                Err(error) => {
                    warn!(%broker, %error, "cannot lock queues: no broker address");
                    continue;
                }
            };
            let when = Instant::now();
            let group = &self.config.consumer_group;
            match self.instance.lock_queues(&addr, group, queues).await {
                Ok(locked) => result.push((Asked { broker, when }, locked)),
                Err(error) => warn!(%broker, %error, "LOCK_BATCH_MQ failed"),
            }
        }
        result
    }
}

/// One broker's LOCK_BATCH_MQ: its name and when the request was sent.
struct Asked {
    broker: String,
    when: Instant,
}

/// `queues` grouped by broker name.
fn by_broker(queues: Vec<MessageQueue>) -> BTreeMap<String, Vec<MessageQueue>> {
    let mut grouped: BTreeMap<String, Vec<MessageQueue>> = BTreeMap::new();
    for queue in queues {
        grouped
            .entry(queue.broker_name.clone())
            .or_default()
            .push(queue);
    }
    grouped
}
