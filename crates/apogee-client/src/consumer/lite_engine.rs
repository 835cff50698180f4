//! The running part of a [`super::LitePullConsumer`] (`DefaultLitePullConsumerImpl`): one
//! pull task per assigned queue feeding a bounded buffer that `poll` drains, per-queue pull
//! and consumed offsets, seeks, and (re)assignment.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use apogee_protocol::header::{PullMessageRequestHeader, PullSysFlag};
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use super::config::LitePullConsumerConfig;
use super::decode::pulled_messages;
use super::error::ConsumerError;
use super::group::{Subscriptions, compute_pull_from_where, sleep_or_cancel};
use super::offset_store::{OffsetStore, broker_addr};
use super::push_pull::PULL_DELAY_WHEN_FLOW_CONTROL;
use crate::broker_api::PullStatus;
use crate::error::ClientError;
use crate::instance::ClientInstance;
use crate::message::{MessageExt, MessageQueue};

const MIB: usize = 1024 * 1024;

/// One assigned queue of a lite consumer.
pub(crate) struct LiteQueue {
    cancel: CancellationToken,
    /// Interrupts a long poll in flight after a seek.
    interrupt: Notify,
    state: Mutex<QueueState>,
}

struct QueueState {
    /// Changed by a seek (and new for every assignment); buffered batches of another
    /// generation are discarded.
    generation: u64,
    /// Where the next pull starts.
    next_pull: i64,
    /// The offset after the last message `poll` returned: what a commit commits.
    consumed: i64,
    /// Messages of this queue in the buffer, and their body bytes.
    cached_count: usize,
    cached_bytes: usize,
}

/// A pulled batch waiting for `poll`.
struct Batch {
    queue: MessageQueue,
    generation: u64,
    bytes: usize,
    messages: Vec<MessageExt>,
}

/// Everything a started lite consumer's tasks share.
pub(crate) struct LiteEngine {
    pub(crate) config: LitePullConsumerConfig,
    pub(crate) instance: Arc<ClientInstance>,
    /// The tag filter of each topic pulled (the subscriptions, or `*` for assigned topics).
    pub(crate) filters: Subscriptions,
    pub(crate) store: OffsetStore,
    queues: Mutex<HashMap<MessageQueue, Arc<LiteQueue>>>,
    /// Pulled batches in arrival order; holds at most about `pull_threshold_for_all`
    /// messages, since pulls ask only for the room left.
    buffer: Mutex<VecDeque<Batch>>,
    buffered: AtomicUsize,
    ready: Notify,
    pub(crate) cancel: CancellationToken,
    pub(crate) tracker: TaskTracker,
    last_commit: Mutex<Instant>,
    assign_lock: tokio::sync::Mutex<()>,
    /// Source of queue generations, never reused: a queue released and assigned again (or
    /// seeked) gets a generation no batch still in `buffer` carries.
    generations: AtomicU64,
}

impl LiteEngine {
    /// An engine with no queue yet.
    pub(crate) fn new(
        config: LitePullConsumerConfig,
        instance: Arc<ClientInstance>,
        filters: Subscriptions,
        store: OffsetStore,
    ) -> Self {
        let cancel = instance.cancelled().child_token();
        Self {
            config,
            instance,
            filters,
            store,
            queues: Mutex::new(HashMap::new()),
            buffer: Mutex::new(VecDeque::new()),
            buffered: AtomicUsize::new(0),
            ready: Notify::new(),
            cancel,
            tracker: TaskTracker::new(),
            last_commit: Mutex::new(Instant::now()),
            assign_lock: tokio::sync::Mutex::new(()),
            generations: AtomicU64::new(0),
        }
    }

    /// Makes the queues for which `in_scope` holds exactly `target`: stops the others
    /// (committing their consumed offset if auto-commit is on) and starts the new ones from
    /// their committed offset or `consume_from_where`.
    pub(crate) async fn update_queues<F>(
        self: &Arc<Self>,
        in_scope: F,
        target: BTreeSet<MessageQueue>,
    ) where
        F: Fn(&MessageQueue) -> bool,
    {
        let _one = self.assign_lock.lock().await;
        let current: Vec<MessageQueue> = (self.queues.lock().keys())
            .filter(|q| in_scope(q))
            .cloned()
            .collect();
        for queue in current.iter().filter(|q| !target.contains(*q)) {
            self.remove_queue(queue).await;
        }
        for queue in target {
            if self.queues.lock().contains_key(&queue) || self.cancel.is_cancelled() {
                continue;
            }
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
                Ok(offset) => self.start_queue(queue, offset),
                Err(error) => warn!(?queue, %error, "cannot compute the start offset"),
            }
        }
    }

    fn start_queue(self: &Arc<Self>, queue: MessageQueue, offset: i64) {
        info!(group = %self.config.consumer_group, ?queue, offset, "queue assigned");
        let lq = Arc::new(LiteQueue {
            cancel: self.cancel.child_token(),
            interrupt: Notify::new(),
            state: Mutex::new(QueueState {
                generation: self.generations.fetch_add(1, Ordering::Relaxed),
                next_pull: offset,
                consumed: offset,
                cached_count: 0,
                cached_bytes: 0,
            }),
        });
        self.store.update(&queue, offset, false);
        self.queues.lock().insert(queue.clone(), lq.clone());
        self.tracker.spawn(self.clone().pull_loop(queue, lq));
    }

    async fn remove_queue(&self, queue: &MessageQueue) {
        let Some(lq) = self.queues.lock().remove(queue) else {
            return;
        };
        lq.cancel.cancel();
        if self.config.auto_commit {
            self.store.update(queue, lq.state.lock().consumed, false);
        }
        if let Err(error) = self
            .store
            .persist_all(std::slice::from_ref(queue), false)
            .await
        {
            warn!(?queue, %error, "offset of a released queue not committed");
        }
        self.store.remove(queue);
        info!(group = %self.config.consumer_group, ?queue, "queue released");
    }

    /// The queues assigned now, sorted.
    pub(crate) fn assigned(&self) -> Vec<MessageQueue> {
        let mut queues: Vec<MessageQueue> = self.queues.lock().keys().cloned().collect();
        queues.sort();
        queues
    }

    /// The next batch, waiting up to `timeout`; empty when none came.
    pub(crate) async fn poll(&self, timeout: Duration) -> Vec<MessageExt> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let next = self.buffer.lock().pop_front();
            if let Some(batch) = next {
                self.buffered
                    .fetch_sub(batch.messages.len(), Ordering::AcqRel);
                if let Some(messages) = self.accept(batch) {
                    return messages;
                }
                continue;
            }
            tokio::select! {
                () = self.ready.notified() => {}
                () = tokio::time::sleep_until(deadline) => return Vec::new(),
                () = self.cancel.cancelled() => return Vec::new(),
            }
        }
    }

    /// A popped batch's messages, or `None` if its queue was released or seeked since.
    fn accept(&self, batch: Batch) -> Option<Vec<MessageExt>> {
        let lq = self.queues.lock().get(&batch.queue).cloned()?;
        let mut state = lq.state.lock();
        if state.generation != batch.generation {
            return None;
        }
        state.cached_count -= batch.messages.len();
        state.cached_bytes -= batch.bytes;
        if let Some(last) = batch.messages.last() {
            state.consumed = state.consumed.max(last.queue_offset + 1);
        }
        Some(batch.messages)
    }

    /// Moves `queue` to `offset`: buffered messages of it are discarded, a pull in flight is
    /// abandoned, and the consumed offset becomes `offset`.
    pub(crate) fn seek(&self, queue: &MessageQueue, offset: i64) -> Result<(), ConsumerError> {
        let lq = (self.queues.lock().get(queue).cloned())
            .ok_or_else(|| ConsumerError::NotAssigned(queue.clone()))?;
        {
            let mut state = lq.state.lock();
            state.generation = self.generations.fetch_add(1, Ordering::Relaxed);
            state.next_pull = offset;
            state.consumed = offset;
            state.cached_count = 0;
            state.cached_bytes = 0;
        }
        lq.interrupt.notify_one();
        Ok(())
    }

    /// The consumed offset of an assigned queue.
    pub(crate) fn consumed(&self, queue: &MessageQueue) -> Option<i64> {
        let lq = self.queues.lock().get(queue).cloned()?;
        let consumed = lq.state.lock().consumed;
        Some(consumed)
    }

    /// Records every queue's consumed offset in the store and persists it (awaited unless
    /// `oneway`).
    pub(crate) async fn commit(&self, oneway: bool) -> Result<(), ConsumerError> {
        let queues: Vec<(MessageQueue, Arc<LiteQueue>)> = (self.queues.lock().iter())
            .map(|(q, lq)| (q.clone(), lq.clone()))
            .collect();
        for (queue, lq) in &queues {
            let consumed = lq.state.lock().consumed;
            self.store.update(queue, consumed, false);
        }
        *self.last_commit.lock() = Instant::now();
        let queues: Vec<MessageQueue> = queues.into_iter().map(|(q, _)| q).collect();
        self.store.persist_all(&queues, oneway).await
    }

    /// Commits (oneway) if auto-commit is on and the interval has passed.
    pub(crate) async fn maybe_auto_commit(&self) {
        if !self.config.auto_commit
            || self.last_commit.lock().elapsed() < self.config.auto_commit_interval
        {
            return;
        }
        if let Err(error) = self.commit(true).await {
            debug!(%error, "auto-commit failed");
        }
    }

    /// Persists the offsets in the store (oneway), for the periodic task.
    pub(crate) async fn persist(&self) {
        let queues = self.assigned();
        if let Err(error) = self.store.persist_all(&queues, true).await {
            debug!(%error, "periodic offset persist failed");
        }
    }

    async fn pull_loop(self: Arc<Self>, queue: MessageQueue, lq: Arc<LiteQueue>) {
        while !lq.cancel.is_cancelled() {
            let delay = match self.pull_once(&queue, &lq).await {
                Ok(delay) => delay,
                Err(error) => {
                    debug!(?queue, %error, "pull failed; backing off");
                    self.config.pull_delay_when_exception
                }
            };
            if !delay.is_zero() && !sleep_or_cancel(&lq.cancel, delay).await {
                return;
            }
        }
    }

    async fn pull_once(
        &self,
        queue: &MessageQueue,
        lq: &LiteQueue,
    ) -> Result<Duration, ClientError> {
        let (generation, offset, room) = {
            let state = lq.state.lock();
            let all = (self.config.pull_threshold_for_all)
                .saturating_sub(self.buffered.load(Ordering::Acquire));
            let mine = (self.config.pull_threshold_for_queue).saturating_sub(state.cached_count);
            let full = state.cached_bytes > self.config.pull_threshold_size_for_queue_mib * MIB;
            let room = if full { 0 } else { all.min(mine) };
            (state.generation, state.next_pull, room)
        };
        if room == 0 {
            return Ok(PULL_DELAY_WHEN_FLOW_CONTROL);
        }
        let Some(filter) = self.filters.read().get(&queue.topic).cloned() else {
            return Ok(self.config.pull_delay_when_exception);
        };
        let addr = broker_addr(&self.instance, queue).await?;
        let suspend = self.config.broker_suspend_max_time;
        let header = PullMessageRequestHeader {
            consumer_group: self.config.consumer_group.clone(),
            topic: queue.topic.clone(),
            queue_id: queue.queue_id,
            queue_offset: offset,
            max_msg_nums: i32::try_from(room.min(self.config.pull_batch_size)).unwrap_or(1),
            sys_flag: PullSysFlag::build(false, true, true, false).0 | PullSysFlag::LITE_PULL,
            commit_offset: 0,
            suspend_timeout_millis: i64::try_from(suspend.as_millis()).unwrap_or(i64::MAX),
            subscription: Some(filter.sub_string.clone()),
            sub_version: filter.sub_version,
            expression_type: Some(filter.expression_type.clone()),
            max_msg_bytes: None,
            request_source: None,
            proxy_forward_client_id: None,
        };
        let timeout = self.config.consumer_timeout_when_suspend;
        let response = tokio::select! {
            () = lq.cancel.cancelled() => return Ok(Duration::ZERO),
            () = lq.interrupt.notified() => return Ok(Duration::ZERO),
            response = self.instance.pull_message(&addr, &header, timeout) => response?,
        };
        let next = response.header.next_begin_offset;
        let messages = match response.status {
            PullStatus::Found => pulled_messages(&response, &addr, &queue.broker_name, &filter)?,
            PullStatus::OffsetIllegal => {
                warn!(?queue, from = offset, to = next, "pull offset illegal");
                Vec::new()
            }
            PullStatus::NoNewMsg | PullStatus::NoMatchedMsg => Vec::new(),
        };
        let mut state = lq.state.lock();
        if state.generation != generation {
            return Ok(Duration::ZERO);
        }
        state.next_pull = next;
        if messages.is_empty() {
            return Ok(Duration::ZERO);
        }
        let bytes = messages.iter().map(|m| m.body.len()).sum();
        state.cached_count += messages.len();
        state.cached_bytes += bytes;
        self.buffered.fetch_add(messages.len(), Ordering::AcqRel);
        self.buffer.lock().push_back(Batch {
            queue: queue.clone(),
            generation,
            bytes,
            messages,
        });
        drop(state);
        self.ready.notify_one();
        Ok(Duration::ZERO)
    }

    /// Stops pulling, commits (if auto-commit is on) and persists offsets synchronously.
    pub(crate) async fn shutdown(&self) -> Result<(), ConsumerError> {
        self.cancel.cancel();
        self.tracker.close();
        self.tracker.wait().await;
        let result = if self.config.auto_commit {
            self.commit(false).await
        } else {
            let queues = self.assigned();
            self.store.persist_all(&queues, false).await
        };
        self.instance
            .unregister_consumer(&self.config.consumer_group)
            .await;
        result
    }
}
