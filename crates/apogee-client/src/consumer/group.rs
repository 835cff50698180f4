//! What the push and lite pull consumers share: their heartbeat entry and membership hook
//! ([`GroupMember`]), the queue allocation of a subscribed topic, where a newly assigned
//! queue starts (`RebalancePushImpl.computePullFromWhereWithException`), and task helpers.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use apogee_protocol::body::{
    ConsumeFromWhere, ConsumeType, ConsumerData, MessageModel, SubscriptionData,
};
use apogee_protocol::names::RETRY_GROUP_TOPIC_PREFIX;
use parking_lot::RwLock;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::config::consume_timestamp_ms;
use super::error::ConsumerError;
use super::offset_store::{OffsetStore, broker_addr};
use super::rebalance::AllocateStrategy;
use crate::error::ClientError;
use crate::instance::ClientInstance;
use crate::members::ConsumerMember;
use crate::message::MessageQueue;

/// Topic → subscription, shared by a consumer and its heartbeat entry.
pub(crate) type Subscriptions = Arc<RwLock<BTreeMap<String, SubscriptionData>>>;

/// A consumer group's entry in the instance: heartbeat data, and a wake-up for the
/// rebalancer on NOTIFY_CONSUMER_IDS_CHANGED. Holds no reference to the consumer itself.
pub(crate) struct GroupMember {
    pub(crate) group: String,
    pub(crate) consume_type: ConsumeType,
    pub(crate) message_model: MessageModel,
    pub(crate) consume_from_where: ConsumeFromWhere,
    pub(crate) subscriptions: Subscriptions,
    pub(crate) rebalance: Arc<Notify>,
}

impl ConsumerMember for GroupMember {
    fn consumer_data(&self) -> ConsumerData {
        ConsumerData {
            group_name: self.group.clone(),
            consume_type: self.consume_type,
            message_model: self.message_model,
            consume_from_where: self.consume_from_where,
            subscription_data_set: self.subscriptions.read().values().cloned().collect(),
            unit_mode: false,
        }
    }

    fn consumer_ids_changed(&self) {
        self.rebalance.notify_one();
    }
}

/// The queues of `topic` this client takes: every readable queue for broadcasting, its
/// share by `strategy` of the sorted queues among the sorted member ids for clustering.
///
/// # Errors
/// Route and GET_CONSUMER_LIST_BY_GROUP errors (from every broker tried).
pub(crate) async fn allocate(
    instance: &ClientInstance,
    group: &str,
    model: MessageModel,
    strategy: AllocateStrategy,
    topic: &str,
) -> Result<Vec<MessageQueue>, ClientError> {
    let route = instance.route(topic).await?;
    let mut queues = route.read_queues.clone();
    queues.sort();
    if model == MessageModel::Broadcasting {
        return Ok(queues);
    }
    let mut last = None;
    let mut ids = None;
    for name in route.brokers.keys() {
        let Some(addr) = route.any_addr(name) else {
            continue;
        };
        match instance.consumer_ids(addr, group).await {
            Ok(found) => {
                ids = Some(found);
                break;
            }
            Err(error) => last = Some(error),
        }
    }
    let mut ids = match (ids, last) {
        (Some(ids), _) => ids,
        (None, Some(error)) => return Err(error),
        (None, None) => {
            return Err(ClientError::TopicNotExist {
                topic: topic.to_owned(),
            });
        }
    };
    ids.sort();
    Ok(strategy.allocate(instance.client_id(), &queues, &ids))
}

/// Where a newly assigned queue starts: its committed offset, else per `from_where` as
/// `RebalancePushImpl.computePullFromWhereWithException`: LAST (and the deprecated kinds)
/// the max offset, or 0 for a `%RETRY%` topic; FIRST 0 (an offset below the queue's min is
/// then corrected by OFFSET_ILLEGAL); TIMESTAMP the offset searched by time, or the max
/// offset for a `%RETRY%` topic.
///
/// The committed offset is asked as Java clients ask it, so the broker's "young queue" rule
/// applies: a new group on a queue that still holds its first message starts at 0 whatever
/// `from_where` says, and misses nothing of a new topic (RocketMQ's behaviour, on which its
/// quick-start examples rely).
///
/// # Errors
/// Broker errors; the queue is retried at the next rebalance.
pub(crate) async fn compute_pull_from_where(
    instance: &ClientInstance,
    store: &OffsetStore,
    from_where: ConsumeFromWhere,
    timestamp: Option<SystemTime>,
    queue: &MessageQueue,
) -> Result<i64, ConsumerError> {
    if let Some(offset) = store.read_start(queue).await?
        && offset >= 0
    {
        return Ok(offset);
    }
    let retry = queue.topic.starts_with(RETRY_GROUP_TOPIC_PREFIX);
    let offset = match from_where {
        ConsumeFromWhere::ConsumeFromFirstOffset => 0,
        ConsumeFromWhere::ConsumeFromTimestamp if !retry => {
            let addr = broker_addr(instance, queue).await?;
            let at = consume_timestamp_ms(timestamp);
            instance.search_offset(&addr, queue, at).await?
        }
        ConsumeFromWhere::ConsumeFromTimestamp => max_offset(instance, queue).await?,
        _ if retry => 0,
        _ => max_offset(instance, queue).await?,
    };
    Ok(offset)
}

async fn max_offset(instance: &ClientInstance, queue: &MessageQueue) -> Result<i64, ClientError> {
    let addr = broker_addr(instance, queue).await?;
    instance.max_offset(&addr, queue).await
}

/// Sleeps `delay`; false if `cancel` fired first.
pub(crate) async fn sleep_or_cancel(cancel: &CancellationToken, delay: Duration) -> bool {
    tokio::select! {
        () = cancel.cancelled() => false,
        () = tokio::time::sleep(delay) => true,
    }
}

/// Runs `work` every `interval`, and at once whenever `wake` is notified, until `cancel`.
pub(crate) fn spawn_periodic<F, Fut>(
    tracker: &TaskTracker,
    cancel: CancellationToken,
    wake: Option<Arc<Notify>>,
    interval: Duration,
    work: F,
) where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tracker.spawn(async move {
        loop {
            let woken = async {
                match &wake {
                    Some(wake) => wake.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = cancel.cancelled() => return,
                () = woken => {}
                () = tokio::time::sleep(interval) => {}
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = work() => {}
            }
        }
    });
}
