//! The push consumer's per-queue work: one pull task per assigned queue with flow control
//! (`DefaultMQPushConsumerImpl.pullMessage`), and one consume task per batch
//! (`ConsumeMessageConcurrentlyService`), whose result moves the committed offset. Consume
//! tasks are bounded by the in-flight messages (one task per held batch); at most
//! `consume_thread_max` of them run the listener at once.
//!
//! With an orderly listener, `submit` hands the queue to its runner in `orderly` instead,
//! and pulls wait for the queue's broker lock (clustering).
//!
//! Failed batches (RECONSUME_LATER, a panic, or messages past `ack_index`) are, for now,
//! redelivered locally: they stay in the process queue, so the committed offset cannot pass
//! them, and are consumed again after `local_retry_delay`, doubling per attempt up to
//! [`LOCAL_RETRY_DELAY_MAX`]. RocketMQ instead sends them back to `%RETRY%<group>`
//! (CONSUMER_SEND_MSG_BACK) and redelivers locally only those it cannot send back; that
//! step plugs into [`PushEngine::redeliver_locally`]. Broadcasting drops failed messages,
//! as RocketMQ does.

use std::sync::Arc;
use std::time::Duration;

use apogee_protocol::body::MessageModel;
use apogee_protocol::header::{PullMessageRequestHeader, PullSysFlag};
use tracing::{debug, warn};

use super::config::LOCAL_RETRY_DELAY_MAX;
use super::decode::pulled_messages;
use super::group::sleep_or_cancel;
use super::listener::{ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus};
use super::offset_store::broker_addr;
use super::orderly::ConsumeListener;
use super::process_queue::ProcessQueue;
use super::push_engine::PushEngine;
use crate::broker_api::PullStatus;
use crate::error::ClientError;
use crate::message::{MessageExt, MessageQueue};

/// The wait before re-checking a queue held back by flow control
/// (`PULL_TIME_DELAY_MILLS_WHEN_FLOW_CONTROL`).
pub const PULL_DELAY_WHEN_FLOW_CONTROL: Duration = Duration::from_millis(50);

const MIB: usize = 1024 * 1024;

impl PushEngine {
    /// Pulls `queue` until it is dropped or the consumer shuts down.
    pub(crate) async fn pull_loop(self: Arc<Self>, queue: MessageQueue, pq: Arc<ProcessQueue>) {
        loop {
            if pq.is_dropped() || pq.cancelled().is_cancelled() {
                return;
            }
            let delay = match self.pull_once(&queue, &pq).await {
                Ok(delay) => delay,
                Err(error) => {
                    debug!(?queue, %error, "pull failed; backing off");
                    self.config.pull_delay_when_exception
                }
            };
            if !delay.is_zero() && !sleep_or_cancel(pq.cancelled(), delay).await {
                return;
            }
        }
    }

    /// One pull; returns how long to wait before the next.
    async fn pull_once(
        self: &Arc<Self>,
        queue: &MessageQueue,
        pq: &Arc<ProcessQueue>,
    ) -> Result<Duration, ClientError> {
        if !self.may_pull(pq) {
            // Orderly clustering without a fresh lock (`lock_all` renews it).
            return Ok(self.config.pull_delay_when_exception);
        }
        let stats = pq.stats();
        let room = self
            .config
            .pull_threshold_for_queue
            .saturating_sub(stats.cached_count);
        let size_max = self.config.pull_threshold_size_for_queue_mib * MIB;
        if room == 0
            || stats.cached_bytes > size_max
            || (!self.is_orderly() && pq.max_span() > self.config.consume_concurrently_max_span)
        {
            return Ok(PULL_DELAY_WHEN_FLOW_CONTROL);
        }
        let Some(subscription) = self.subscriptions.read().get(&queue.topic).cloned() else {
            return Ok(self.config.pull_delay_when_exception);
        };
        let addr = broker_addr(&self.instance, queue).await?;
        let commit = match self.config.message_model {
            MessageModel::Clustering => self.store.read_memory(queue).filter(|o| *o > 0),
            MessageModel::Broadcasting => None,
        };
        let post = self.config.post_subscription_when_pull;
        let suspend = self.config.broker_suspend_max_time;
        let header = PullMessageRequestHeader {
            consumer_group: self.config.consumer_group.clone(),
            topic: queue.topic.clone(),
            queue_id: queue.queue_id,
            queue_offset: stats.next_offset,
            max_msg_nums: i32::try_from(room.min(self.config.pull_batch_size)).unwrap_or(1),
            sys_flag: PullSysFlag::build(commit.is_some(), true, post, false).0,
            commit_offset: commit.unwrap_or(0),
            suspend_timeout_millis: i64::try_from(suspend.as_millis()).unwrap_or(i64::MAX),
            subscription: post.then(|| subscription.sub_string.clone()),
            sub_version: subscription.sub_version,
            expression_type: Some(subscription.expression_type.clone()),
            max_msg_bytes: None,
            request_source: None,
            proxy_forward_client_id: None,
        };
        let timeout = self.config.consumer_timeout_when_suspend;
        let response = tokio::select! {
            () = pq.cancelled().cancelled() => return Ok(Duration::ZERO),
            response = self.instance.pull_message(&addr, &header, timeout) => response?,
        };
        if pq.is_dropped() {
            return Ok(Duration::ZERO);
        }
        let next = response.header.next_begin_offset;
        match response.status {
            PullStatus::Found => {
                let messages =
                    pulled_messages(&response, &addr, &queue.broker_name, &subscription)?;
                let added = pq.put_messages(messages, next);
                self.store.update(queue, pq.commit_offset(), true);
                self.submit(queue, pq, added, Duration::ZERO);
                Ok(self.config.pull_interval)
            }
            PullStatus::NoNewMsg | PullStatus::NoMatchedMsg => {
                pq.set_next_offset(next);
                self.store.update(queue, pq.commit_offset(), true);
                Ok(Duration::ZERO)
            }
            PullStatus::OffsetIllegal => {
                warn!(
                    ?queue,
                    from = stats.next_offset,
                    to = next,
                    "pull offset illegal"
                );
                self.offset_illegal(queue, pq, next).await;
                Ok(Duration::ZERO)
            }
        }
    }

    /// OFFSET_ILLEGAL: drop the queue, commit `next` as its offset, and let the rebalance
    /// take it up again from there.
    async fn offset_illegal(&self, queue: &MessageQueue, pq: &Arc<ProcessQueue>, next: i64) {
        pq.mark_dropped();
        let removed = {
            let mut queues = self.queues.lock();
            match queues.get(queue) {
                Some(current) if Arc::ptr_eq(current, pq) => queues.remove(queue).is_some(),
                _ => false,
            }
        };
        if !removed {
            return;
        }
        self.store.update(queue, next, false);
        if let Err(error) = self
            .store
            .persist_all(std::slice::from_ref(queue), false)
            .await
        {
            warn!(?queue, %error, "corrected offset not committed");
        }
        self.store.remove(queue);
        self.rebalance_wake.notify_one();
    }

    /// Hands `messages` to the listener in batches of `consume_message_batch_max_size`,
    /// after `delay`.
    pub(crate) fn submit(
        self: &Arc<Self>,
        queue: &MessageQueue,
        pq: &Arc<ProcessQueue>,
        messages: Vec<MessageExt>,
        delay: Duration,
    ) {
        if self.is_orderly() {
            self.submit_orderly(queue, pq);
            return;
        }
        for batch in messages.chunks(self.config.consume_message_batch_max_size) {
            let task = self
                .clone()
                .consume(queue.clone(), pq.clone(), batch.to_vec(), delay);
            self.tracker.spawn(task);
        }
    }

    async fn consume(
        self: Arc<Self>,
        queue: MessageQueue,
        pq: Arc<ProcessQueue>,
        batch: Vec<MessageExt>,
        delay: Duration,
    ) {
        if !delay.is_zero() && !sleep_or_cancel(pq.cancelled(), delay).await {
            return;
        }
        let permit = tokio::select! {
            () = pq.cancelled().cancelled() => return,
            permit = self.permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        if pq.is_dropped() {
            return;
        }
        let ConsumeListener::Concurrently(listener) = self.listener.clone() else {
            return;
        };
        let mut context = ConsumeConcurrentlyContext::new(queue.clone());
        let given = batch.clone();
        let call = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let status = listener.consume_message(&given, &mut context);
            (status, context.ack_index)
        });
        let (status, ack_index) = match call.await {
            Ok(result) => result,
            Err(error) => {
                warn!(?queue, %error, "listener panicked; RECONSUME_LATER");
                (ConsumeConcurrentlyStatus::ReconsumeLater, None)
            }
        };
        self.process_result(&queue, &pq, batch, status, ack_index)
            .await;
    }

    /// Applies a listener's verdict (`processConsumeResult`): acknowledged messages leave the
    /// process queue and the committed offset moves to the smallest one still held.
    async fn process_result(
        self: &Arc<Self>,
        queue: &MessageQueue,
        pq: &Arc<ProcessQueue>,
        mut batch: Vec<MessageExt>,
        status: ConsumeConcurrentlyStatus,
        ack_index: Option<usize>,
    ) {
        if pq.is_dropped() {
            return;
        }
        let acked = match status {
            ConsumeConcurrentlyStatus::ConsumeSuccess => {
                ack_index.map_or(batch.len(), |i| i.saturating_add(1).min(batch.len()))
            }
            ConsumeConcurrentlyStatus::ReconsumeLater => 0,
        };
        let failed = batch.split_off(acked);
        let mut done: Vec<i64> = batch.iter().map(|m| m.queue_offset).collect();
        if !failed.is_empty() {
            match self.config.message_model {
                MessageModel::Broadcasting => {
                    for message in &failed {
                        warn!(msg_id = %message.msg_id(), "broadcast message failed; dropped");
                    }
                    done.extend(failed.iter().map(|m| m.queue_offset));
                }
                MessageModel::Clustering => {
                    let again = self.redeliver_locally(failed).await;
                    let delay = local_retry_delay(self.config.local_retry_delay, &again);
                    self.submit(queue, pq, again, delay);
                }
            }
        }
        let commit = pq.remove_messages(&done);
        if !pq.is_dropped() {
            self.store.update(queue, commit, true);
        }
    }

    /// The failed messages of a clustering group that must be consumed again locally, their
    /// reconsume count raised. Every failed message today; the send-back to
    /// `%RETRY%<group>` goes here, returning only the messages it could not send back
    /// (those sent back must then also be acknowledged, as RocketMQ does).
    async fn redeliver_locally(&self, failed: Vec<MessageExt>) -> Vec<MessageExt> {
        failed
            .into_iter()
            .map(|mut message| {
                message.reconsume_times = message.reconsume_times.saturating_add(1);
                message
            })
            .collect()
    }
}

/// `base`, doubled for each earlier local redelivery of the batch, at most
/// [`LOCAL_RETRY_DELAY_MAX`].
fn local_retry_delay(base: Duration, batch: &[MessageExt]) -> Duration {
    let times = batch.iter().map(|m| m.reconsume_times).max().unwrap_or(1);
    let doublings = u32::try_from(times.saturating_sub(1).clamp(0, 16)).unwrap_or(0);
    base.saturating_mul(1 << doublings)
        .min(LOCAL_RETRY_DELAY_MAX)
}
