//! A consumer group's progress (`mqadmin consumerProgress`): for every queue the group has
//! committed an offset on, the broker's max offset, the group's offset and the lag.
//!
//! RocketMQ's admin asks brokers for GET_CONSUME_STATS (208), whose answer is keyed by
//! `MessageQueue` objects in fastjson's non-standard form. This client instead asks what every
//! 4.x broker answers: QUERY_CONSUMER_OFFSET and GET_MAX_OFFSET for each readable queue of
//! each application topic (or of the one topic asked for) and of the group's `%RETRY%` topic.
//! The offset query sends `setZeroIfNotFound=false`; a 4.x RocketMQ broker ignores it and
//! reports offset 0 for queues whose first message is still stored, so against those brokers
//! such topics appear with their whole content as lag. Restrict with `topic` there.

use std::collections::BTreeSet;
use std::sync::Arc;

use apogee_protocol::names;
use tokio::task::JoinSet;

use super::{Admin, AdminError};
use crate::error::ClientError;
use crate::instance::ClientInstance;
use crate::message::MessageQueue;

/// One queue of [`ConsumerProgress`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueProgress {
    /// The queue.
    pub queue: MessageQueue,
    /// The broker address asked.
    pub broker_addr: String,
    /// The queue's max offset: where the next message goes.
    pub broker_offset: i64,
    /// The group's committed offset: the next message it will consume.
    pub consumer_offset: i64,
}

impl QueueProgress {
    /// Messages not yet consumed: `broker_offset - consumer_offset`, never negative.
    #[must_use]
    pub fn lag(&self) -> i64 {
        (self.broker_offset - self.consumer_offset).max(0)
    }
}

/// The answer of [`Admin::consumer_progress`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerProgress {
    /// The group.
    pub group: String,
    /// Queues with a committed offset, ordered by topic, broker and queue id.
    pub queues: Vec<QueueProgress>,
    /// Client ids of the group's live members, as the brokers know them.
    pub clients: Vec<String>,
}

impl ConsumerProgress {
    /// The sum of every queue's lag (RocketMQ's "Diff Total").
    #[must_use]
    pub fn total_lag(&self) -> i64 {
        self.queues.iter().map(QueueProgress::lag).sum()
    }
}

impl Admin {
    /// The offsets and lag of `group`, on `topic` only or on every application topic and
    /// the group's retry topic.
    ///
    /// # Errors
    /// [`ClientError::InvalidName`]; [`ClientError::TopicNotExist`] for an explicit topic;
    /// name-server and broker errors.
    pub async fn consumer_progress(
        &self,
        group: &str,
        topic: Option<&str>,
    ) -> Result<ConsumerProgress, AdminError> {
        names::validate_group(group).map_err(ClientError::from)?;
        let topics: Vec<String> = match topic {
            Some(topic) => vec![topic.to_owned()],
            None => {
                let retry = names::retry_topic(group);
                self.list_topics()
                    .await?
                    .into_iter()
                    .filter(|t| !t.kind.is_system() || t.name == retry)
                    .map(|t| t.name)
                    .collect()
            }
        };
        let mut tasks = JoinSet::new();
        for topic in topics {
            let instance = self.instance.clone();
            let group = group.to_owned();
            tasks.spawn(async move { topic_progress(&instance, &group, &topic).await });
        }
        let mut queues = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(Ok(found)) => queues.extend(found),
                // A topic deleted since it was listed.
                Ok(Err(ClientError::TopicNotExist { .. })) if topic.is_none() => {}
                Ok(Err(error)) => return Err(error.into()),
                Err(join) => return Err(AdminError::Internal(join.to_string())),
            }
        }
        queues.sort_by(|a, b| a.queue.cmp(&b.queue));
        let clients = self.group_clients(group, &queues).await;
        Ok(ConsumerProgress {
            group: group.to_owned(),
            queues,
            clients,
        })
    }

    /// The group's live members according to the brokers holding its queues.
    async fn group_clients(&self, group: &str, queues: &[QueueProgress]) -> Vec<String> {
        let addrs: BTreeSet<&str> = queues.iter().map(|q| q.broker_addr.as_str()).collect();
        let mut clients = BTreeSet::new();
        for addr in addrs {
            // Brokers refuse the request for a group without members.
            if let Ok(ids) = self.instance.consumer_ids(addr, group).await {
                clients.extend(ids);
            }
        }
        clients.into_iter().collect()
    }
}

/// The group's committed queues of one topic.
async fn topic_progress(
    instance: &Arc<ClientInstance>,
    group: &str,
    topic: &str,
) -> Result<Vec<QueueProgress>, ClientError> {
    let route = instance.fetch_route(topic).await?;
    let mut found = Vec::new();
    for queue in &route.read_queues {
        let Some(addr) = route
            .master_addr(&queue.broker_name)
            .or_else(|| route.any_addr(&queue.broker_name))
        else {
            continue;
        };
        let Some(consumer_offset) = instance.query_consumer_offset(addr, group, queue).await?
        else {
            continue;
        };
        let broker_offset = instance.max_offset(addr, queue).await?;
        found.push(QueueProgress {
            queue: queue.clone(),
            broker_addr: addr.to_owned(),
            broker_offset,
            consumer_offset,
        });
    }
    Ok(found)
}
