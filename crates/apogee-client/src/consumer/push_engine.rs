//! The running part of a [`super::PushConsumer`]: the assigned queues and their process
//! queues, rebalancing (`RebalanceImpl`), periodic offset persistence and the shutdown
//! sequence. Pulling and consuming are in `push_pull`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::Mutex;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use super::config::PushConsumerConfig;
use super::error::ConsumerError;
use super::group::{Subscriptions, allocate, compute_pull_from_where};
use super::offset_store::OffsetStore;
use super::orderly::ConsumeListener;
use super::process_queue::ProcessQueue;
use crate::instance::ClientInstance;
use crate::message::MessageQueue;

/// Everything a started push consumer's tasks share.
pub(crate) struct PushEngine {
    pub(crate) config: PushConsumerConfig,
    pub(crate) instance: Arc<ClientInstance>,
    pub(crate) subscriptions: Subscriptions,
    pub(crate) listener: ConsumeListener,
    pub(crate) store: OffsetStore,
    /// The queues this client consumes now.
    pub(crate) queues: Mutex<HashMap<MessageQueue, Arc<ProcessQueue>>>,
    /// Cancelled at shutdown; every process queue's token is a child.
    pub(crate) cancel: CancellationToken,
    /// Pull, consume, rebalance and persist tasks.
    pub(crate) tracker: TaskTracker,
    /// One permit per listener call allowed at once (`consumeThreadMax`).
    pub(crate) permits: Arc<Semaphore>,
    /// Wakes the rebalance task.
    pub(crate) rebalance_wake: Arc<Notify>,
    /// One rebalance at a time.
    rebalance_lock: tokio::sync::Mutex<()>,
}

impl PushEngine {
    /// An engine with no queue yet.
    pub(crate) fn new(
        config: PushConsumerConfig,
        instance: Arc<ClientInstance>,
        subscriptions: Subscriptions,
        listener: ConsumeListener,
        store: OffsetStore,
        rebalance_wake: Arc<Notify>,
    ) -> Self {
        let permits = Arc::new(Semaphore::new(config.consume_thread_max));
        let cancel = instance.cancelled().child_token();
        Self {
            config,
            instance,
            subscriptions,
            listener,
            store,
            queues: Mutex::new(HashMap::new()),
            cancel,
            tracker: TaskTracker::new(),
            permits,
            rebalance_wake,
            rebalance_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Reallocates every subscribed topic's queues: stops the ones no longer this client's
    /// (committing their offsets) and starts pulling the new ones. A topic whose route or
    /// member list cannot be had keeps its current queues.
    pub(crate) async fn rebalance(self: &Arc<Self>) {
        let _one = self.rebalance_lock.lock().await;
        let topics: BTreeSet<String> = self.subscriptions.read().keys().cloned().collect();
        for topic in &topics {
            let group = &self.config.consumer_group;
            let model = self.config.message_model;
            let strategy = self.config.allocate_strategy;
            match allocate(&self.instance, group, model, strategy, topic).await {
                Ok(mine) => self.update_topic(topic, mine).await,
                Err(error) => debug!(%topic, %error, "rebalance skipped"),
            }
        }
        let stale: Vec<MessageQueue> = (self.queues.lock().keys())
            .filter(|q| !topics.contains(&q.topic))
            .cloned()
            .collect();
        for queue in stale {
            self.drop_queue(&queue).await;
        }
    }

    async fn update_topic(self: &Arc<Self>, topic: &str, mine: Vec<MessageQueue>) {
        let mine: BTreeSet<MessageQueue> = mine.into_iter().collect();
        let current: Vec<MessageQueue> = (self.queues.lock().keys())
            .filter(|q| q.topic == topic)
            .cloned()
            .collect();
        for queue in current.iter().filter(|q| !mine.contains(*q)) {
            self.drop_queue(queue).await;
        }
        let new: Vec<MessageQueue> = (mine.into_iter())
            .filter(|q| !self.queues.lock().contains_key(q))
            .collect();
        // Orderly clustering: only the queues locked on their broker start.
        for (queue, locked_at) in self.lock_new_queues(new).await {
            self.store.remove(&queue);
            let start = compute_pull_from_where(
                &self.instance,
                &self.store,
                self.config.consume_from_where,
                self.config.consume_timestamp,
                &queue,
            )
            .await;
            match start {
                Ok(offset) => self.start_queue(queue, offset, locked_at),
                Err(error) => warn!(?queue, %error, "cannot compute the start offset"),
            }
        }
    }

    fn start_queue(self: &Arc<Self>, queue: MessageQueue, offset: i64, locked_at: Option<Instant>) {
        if self.cancel.is_cancelled() {
            return;
        }
        info!(group = %self.config.consumer_group, ?queue, offset, "queue assigned");
        let pq = Arc::new(ProcessQueue::new(offset, self.cancel.child_token()));
        if let Some(at) = locked_at {
            pq.orderly().set_locked(at);
        }
        self.store.update(&queue, offset, false);
        self.queues.lock().insert(queue.clone(), pq.clone());
        self.tracker.spawn(self.clone().pull_loop(queue, pq));
    }

    /// Stops consuming `queue`: its pull stops, running listener results are ignored, and
    /// the acknowledged offset is committed (awaited) before the queue is forgotten.
    pub(crate) async fn drop_queue(&self, queue: &MessageQueue) {
        let Some(pq) = self.queues.lock().remove(queue) else {
            return;
        };
        pq.mark_dropped();
        info!(group = %self.config.consumer_group, ?queue, "queue released");
        let idle = self.await_orderly_call(&pq).await;
        if let Err(error) = self
            .store
            .persist_all(std::slice::from_ref(queue), false)
            .await
        {
            warn!(?queue, %error, "offset of a released queue not committed");
        }
        self.store.remove(queue);
        self.unlock_released(queue, idle).await;
    }

    /// The queues consumed now, sorted.
    pub(crate) fn assigned(&self) -> Vec<MessageQueue> {
        let mut queues: Vec<MessageQueue> = self.queues.lock().keys().cloned().collect();
        queues.sort();
        queues
    }

    /// Commits the acknowledged offsets of every assigned queue.
    pub(crate) async fn persist(&self, oneway: bool) -> Result<(), ConsumerError> {
        let queues = self.assigned();
        self.store.persist_all(&queues, oneway).await
    }

    /// Stops pulling, waits (up to `await_termination_on_shutdown`) for running listener
    /// calls, commits offsets synchronously, unlocks orderly queues, and leaves the group.
    pub(crate) async fn shutdown(&self) -> Result<(), ConsumerError> {
        self.cancel.cancel();
        self.tracker.close();
        let limit = self.config.await_termination_on_shutdown;
        if tokio::time::timeout(limit, self.tracker.wait())
            .await
            .is_err()
        {
            warn!(
                group = %self.config.consumer_group,
                "listener calls still running after {} ms; committing without them",
                limit.as_millis()
            );
        }
        let result = self.persist(false).await;
        self.unlock_all().await;
        for pq in self.queues.lock().values() {
            pq.mark_dropped();
        }
        self.instance
            .unregister_consumer(&self.config.consumer_group)
            .await;
        result
    }
}
