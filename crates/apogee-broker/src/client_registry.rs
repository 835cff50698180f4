//! Connected producers and consumers by group (RocketMQ's `ConsumerManager`,
//! `ProducerManager` and `ClientHousekeepingService`).
//!
//! A consumer group holds its members, keyed by client id, and its subscriptions, keyed by
//! topic. A producer group holds its members only; the broker needs them to ask a producer
//! about a pending transaction. Members join and refresh with HEART_BEAT, leave with
//! UNREGISTER_CLIENT, and are dropped when their connection closes or when they stay silent
//! for longer than `channelExpiredTimeout`.
//!
//! A consumer group "changes" when a member joins or leaves, or when a topic is added to or
//! removed from its subscriptions. Those are the two inputs of a client's rebalance (the
//! sorted member ids and the topic's queues), so a change is what the group's members are told
//! about with NOTIFY_CONSUMER_IDS_CHANGED. A newer `subVersion` of an already subscribed topic
//! replaces the stored subscription but is not a change, as in RocketMQ: the expression
//! matters to the pull filter, not to the queue assignment.
//!
//! The tables sit behind `parking_lot` locks that are never held across an `.await`:
//! notifications are sent after the lock is released.

use crate::queue_lock::QueueLocks;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use apogee_protocol::body::{ConsumeFromWhere, ConsumeType, MessageModel, SubscriptionData};
use apogee_protocol::header::{CommandHeader, NotifyConsumerIdsChangedRequestHeader};
use apogee_protocol::remoting::RemotingCommand;
use apogee_protocol::remoting::codes::request;
use apogee_remoting::Connection;
use parking_lot::RwLock;
use rand::seq::IndexedRandom;

use crate::config::BrokerConfig;

/// One consumer in a group, as its last heartbeat described it.
#[derive(Debug, Clone)]
pub struct ConsumerMember {
    /// The client id, `ip@instance[@unit]`.
    pub client_id: String,
    /// The connection its heartbeats arrive on; notifications go back on it.
    pub connection: Arc<Connection>,
    /// When its last heartbeat arrived.
    pub last_heartbeat: Instant,
    /// Pull or push.
    pub consume_type: ConsumeType,
    /// Clustering or broadcasting.
    pub message_model: MessageModel,
    /// Where a queue without a stored offset starts.
    pub consume_from_where: ConsumeFromWhere,
}

/// One producer in a group.
#[derive(Debug, Clone)]
pub struct ProducerMember {
    /// The client id, `ip@instance[@unit]`.
    pub client_id: String,
    /// The connection its heartbeats arrive on; transaction check-backs go out on it.
    pub connection: Arc<Connection>,
    /// When its last heartbeat arrived.
    pub last_heartbeat: Instant,
}

/// A consumer group: members by client id and subscriptions by topic.
#[derive(Debug, Default)]
struct ConsumerGroup {
    members: BTreeMap<String, ConsumerMember>,
    subscriptions: BTreeMap<String, SubscriptionData>,
}

impl ConsumerGroup {
    /// Replaces the subscriptions with `subs`: new topics are added, topics absent from
    /// `subs` are removed, and a known topic is replaced only by a newer `subVersion`.
    /// Returns whether the set of topics changed.
    fn update_subscriptions(&mut self, subs: &[SubscriptionData]) -> bool {
        let mut changed = false;
        for sub in subs {
            match self.subscriptions.get_mut(&sub.topic) {
                None => {
                    self.subscriptions.insert(sub.topic.clone(), sub.clone());
                    changed = true;
                }
                Some(old) if sub.sub_version > old.sub_version => *old = sub.clone(),
                Some(_) => {}
            }
        }
        let topics: BTreeSet<&str> = subs.iter().map(|s| s.topic.as_str()).collect();
        let before = self.subscriptions.len();
        self.subscriptions
            .retain(|topic, _| topics.contains(topic.as_str()));
        changed || self.subscriptions.len() != before
    }

    /// The distinct open connections of the members.
    fn live_connections(&self) -> Vec<Arc<Connection>> {
        distinct_open(self.members.values().map(|m| &m.connection))
    }
}

/// What [`ClientRegistry::remove_members`] took out.
#[derive(Debug, Default)]
struct Removed {
    consumers: Vec<ConsumerMember>,
    producers: Vec<ProducerMember>,
    notices: Vec<Notice>,
}

/// A consumer group whose members must be told that it changed.
#[derive(Debug)]
struct Notice {
    group: String,
    connections: Vec<Arc<Connection>>,
}

/// Every connected producer and consumer, by group.
#[derive(Debug)]
pub struct ClientRegistry {
    channel_expired_timeout: Duration,
    /// Queue locks of orderly consumers.
    locks: QueueLocks,
    consumers: RwLock<BTreeMap<String, ConsumerGroup>>,
    producers: RwLock<BTreeMap<String, BTreeMap<String, ProducerMember>>>,
}

impl Default for ClientRegistry {
    /// A registry with [`BrokerConfig`]'s default `channelExpiredTimeout`.
    fn default() -> Self {
        Self::new(Duration::from_millis(
            BrokerConfig::default().channel_expired_timeout,
        ))
    }
}

impl ClientRegistry {
    /// An empty registry that drops members silent for longer than `channel_expired_timeout`
    /// (`BrokerConfig::channel_expired_timeout`, in ms there).
    #[must_use]
    pub fn new(channel_expired_timeout: Duration) -> Self {
        Self {
            channel_expired_timeout,
            locks: QueueLocks::default(),
            consumers: RwLock::new(BTreeMap::new()),
            producers: RwLock::new(BTreeMap::new()),
        }
    }

    /// The queue locks of orderly consumers.
    #[must_use]
    pub fn locks(&self) -> &QueueLocks {
        &self.locks
    }

    /// How long a member may stay silent before [`ClientRegistry::expire`] drops it.
    #[must_use]
    pub fn channel_expired_timeout(&self) -> Duration {
        self.channel_expired_timeout
    }

    /// Adds or refreshes `member` in consumer group `group`. With `subscriptions`, the
    /// group's subscriptions become exactly those topics (a newer `subVersion` wins per
    /// topic); `None` leaves them as they are (a heartbeat that left them out).
    ///
    /// A known client id arriving on a new connection (a reconnect) keeps its place and moves
    /// to the new connection. Returns whether the group changed: a new member, or a topic
    /// added or removed. A member on a closed connection is not added (false).
    pub fn register_consumer(
        &self,
        group: &str,
        member: ConsumerMember,
        subscriptions: Option<&[SubscriptionData]>,
    ) -> bool {
        let mut groups = self.consumers.write();
        // A heartbeat still in flight when its connection closed must not outlive the
        // close: the connection is marked closed before `connection_closed` takes this lock,
        // so checking under the lock leaves no window.
        if member.connection.is_closed() {
            return false;
        }
        let entry = groups.entry(group.to_owned()).or_default();
        let client_id = member.client_id.clone();
        let joined = entry.members.insert(client_id.clone(), member).is_none();
        if joined {
            tracing::info!(group, client_id, "consumer joined");
        }
        let topics_changed = subscriptions.is_some_and(|subs| entry.update_subscriptions(subs));
        if topics_changed {
            tracing::info!(group, "consumer group subscriptions changed");
        }
        joined || topics_changed
    }

    /// Removes `client_id` from consumer group `group`, and the group once it is empty.
    /// Returns the open connections of the members left, to be notified, or `None` if the
    /// client was not a member.
    #[must_use = "the remaining members must be notified"]
    pub fn unregister_consumer(
        &self,
        group: &str,
        client_id: &str,
    ) -> Option<Vec<Arc<Connection>>> {
        let mut groups = self.consumers.write();
        let entry = groups.get_mut(group)?;
        entry.members.remove(client_id)?;
        tracing::info!(group, client_id, "consumer left");
        let remaining = entry.live_connections();
        if entry.members.is_empty() {
            groups.remove(group);
        }
        Some(remaining)
    }

    /// Adds or refreshes `member` in producer group `group`, unless its connection is closed
    /// (as for consumers).
    pub fn register_producer(&self, group: &str, member: ProducerMember) {
        let mut groups = self.producers.write();
        if member.connection.is_closed() {
            return;
        }
        let client_id = member.client_id.clone();
        let members = groups.entry(group.to_owned()).or_default();
        if members.insert(client_id.clone(), member).is_none() {
            tracing::info!(group, client_id, "producer joined");
        }
    }

    /// Removes `client_id` from producer group `group`; false if it was not a member.
    pub fn unregister_producer(&self, group: &str, client_id: &str) -> bool {
        let mut groups = self.producers.write();
        let Some(members) = groups.get_mut(group) else {
            return false;
        };
        let removed = members.remove(client_id).is_some();
        if members.is_empty() {
            groups.remove(group);
        }
        removed
    }

    /// `group`'s subscription to `topic`, if any member subscribes to it.
    #[must_use]
    pub fn subscription(&self, group: &str, topic: &str) -> Option<SubscriptionData> {
        self.consumers
            .read()
            .get(group)
            .and_then(|g| g.subscriptions.get(topic).cloned())
    }

    /// Every subscription of `group`, by topic.
    #[must_use]
    pub fn subscriptions(&self, group: &str) -> Vec<SubscriptionData> {
        self.consumers
            .read()
            .get(group)
            .map(|g| g.subscriptions.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The client ids of `group`'s members on open connections, sorted (the rebalance input).
    #[must_use]
    pub fn consumer_ids(&self, group: &str) -> Vec<String> {
        self.consumers
            .read()
            .get(group)
            .map(|g| {
                g.members
                    .values()
                    .filter(|m| !m.connection.is_closed())
                    .map(|m| m.client_id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `group`'s members, by client id.
    #[must_use]
    pub fn consumer_members(&self, group: &str) -> Vec<ConsumerMember> {
        self.consumers
            .read()
            .get(group)
            .map(|g| g.members.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The distinct open connections of `group`'s members: where notifications go.
    #[must_use]
    pub fn consumer_connections(&self, group: &str) -> Vec<Arc<Connection>> {
        self.consumers
            .read()
            .get(group)
            .map(ConsumerGroup::live_connections)
            .unwrap_or_default()
    }

    /// Every consumer group with at least one member, sorted.
    #[must_use]
    pub fn consumer_groups(&self) -> Vec<String> {
        self.consumers.read().keys().cloned().collect()
    }

    /// The consumer groups subscribed to `topic`, sorted.
    #[must_use]
    pub fn groups_of_topic(&self, topic: &str) -> Vec<String> {
        self.consumers
            .read()
            .iter()
            .filter(|(_, g)| g.subscriptions.contains_key(topic))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Every producer group with at least one member, sorted.
    #[must_use]
    pub fn producer_groups(&self) -> Vec<String> {
        self.producers.read().keys().cloned().collect()
    }

    /// An open connection of a member of producer group `group`, picked at random to spread
    /// transaction check-backs; `None` if no member is connected.
    #[must_use]
    pub fn producer_connection(&self, group: &str) -> Option<Arc<Connection>> {
        let open = self
            .producers
            .read()
            .get(group)
            .map(|members| distinct_open(members.values().map(|m| &m.connection)))?;
        open.choose(&mut rand::rng()).cloned()
    }

    /// Drops every member on `connection` (it closed), and tells the remaining members of each
    /// consumer group that lost one.
    ///
    /// The notifications are sent by spawned tasks, one per changed group, when a tokio runtime
    /// is running (none are sent otherwise). There are at most as many tasks as groups the
    /// connection was in, and each queues one oneway frame per remaining member.
    pub fn connection_closed(&self, connection: &Arc<Connection>) {
        let removed = self.remove_members(|c, _| Arc::ptr_eq(c, connection));
        for m in &removed.consumers {
            tracing::info!(client_id = m.client_id, peer = %m.connection.peer(),
                "consumer connection closed; removed");
        }
        spawn_notifications(removed.notices);
    }

    /// Drops every member whose last heartbeat is more than `channelExpiredTimeout` before
    /// `now`, closes the connections left carrying no member, and tells the remaining members
    /// of each changed consumer group (spawned as in [`ClientRegistry::connection_closed`]).
    /// The broker calls it periodically (every 10 s, RocketMQ's housekeeping period).
    pub fn expire(&self, now: Instant) {
        self.locks.expire(now);
        let timeout = self.channel_expired_timeout;
        let removed = self.remove_members(|_, last| now.saturating_duration_since(last) > timeout);
        let consumers = removed
            .consumers
            .iter()
            .map(|m| (&m.client_id, &m.connection));
        let producers = removed
            .producers
            .iter()
            .map(|m| (&m.client_id, &m.connection));
        let expired: Vec<(&String, &Arc<Connection>)> = consumers.chain(producers).collect();
        for (client_id, connection) in &expired {
            tracing::warn!(client_id = client_id.as_str(), peer = %connection.peer(),
                "client silent past channelExpiredTimeout; dropped");
        }
        // A silent peer is most likely gone without a FIN (RocketMQ closes its channel too),
        // but a connection that still carries a live membership stays open.
        for connection in distinct_open(expired.iter().map(|(_, c)| *c)) {
            if !self.carries_member(&connection) {
                connection.close();
            }
        }
        spawn_notifications(removed.notices);
    }

    /// Removes every member for which `doomed(connection, last_heartbeat)` holds, and the
    /// groups left empty; a consumer group that lost members but not all gets a notice.
    fn remove_members(&self, doomed: impl Fn(&Arc<Connection>, Instant) -> bool) -> Removed {
        let mut removed = Removed::default();
        self.consumers.write().retain(|group, entry| {
            let gone: Vec<String> = (entry.members.values())
                .filter(|m| doomed(&m.connection, m.last_heartbeat))
                .map(|m| m.client_id.clone())
                .collect();
            removed
                .consumers
                .extend(gone.iter().filter_map(|id| entry.members.remove(id)));
            if !gone.is_empty() && !entry.members.is_empty() {
                removed.notices.push(Notice {
                    group: group.clone(),
                    connections: entry.live_connections(),
                });
            }
            !entry.members.is_empty()
        });
        self.producers.write().retain(|_, members| {
            let gone: Vec<String> = (members.values())
                .filter(|m| doomed(&m.connection, m.last_heartbeat))
                .map(|m| m.client_id.clone())
                .collect();
            removed
                .producers
                .extend(gone.iter().filter_map(|id| members.remove(id)));
            !members.is_empty()
        });
        removed
    }

    /// Whether any member of any group is on `connection`.
    fn carries_member(&self, connection: &Arc<Connection>) -> bool {
        let on = |c: &Arc<Connection>| Arc::ptr_eq(c, connection);
        self.consumers
            .read()
            .values()
            .any(|g| g.members.values().any(|m| on(&m.connection)))
            || self
                .producers
                .read()
                .values()
                .any(|members| members.values().any(|m| on(&m.connection)))
    }
}

/// The distinct (by pointer) open connections among `connections`, in order.
fn distinct_open<'a>(
    connections: impl Iterator<Item = &'a Arc<Connection>>,
) -> Vec<Arc<Connection>> {
    let mut out: Vec<Arc<Connection>> = Vec::new();
    for c in connections {
        if !c.is_closed() && !out.iter().any(|o| Arc::ptr_eq(o, c)) {
            out.push(c.clone());
        }
    }
    out
}

/// Sends NOTIFY_CONSUMER_IDS_CHANGED (40, oneway, header `consumerGroup`) on each of
/// `connections`. Each send only queues the frame (waiting at most the transport's write
/// timeout for room); a failure is logged and the others are still sent.
pub async fn notify_consumer_ids_changed(group: &str, connections: &[Arc<Connection>]) {
    let header = NotifyConsumerIdsChangedRequestHeader {
        consumer_group: group.to_owned(),
    };
    let command = RemotingCommand::request(request::NOTIFY_CONSUMER_IDS_CHANGED, header.to_ext());
    for connection in connections {
        if let Err(e) = connection.oneway(command.clone()).await {
            tracing::debug!(group, peer = %connection.peer(), error = %e,
                "NOTIFY_CONSUMER_IDS_CHANGED not sent");
        }
    }
}

/// Sends NOTIFY_CONSUMER_IDS_CHANGED from code that cannot await: one spawned task for
/// `group`, if a tokio runtime is running (the notification is skipped otherwise, and the
/// members still rebalance on their 20 s timer). The task ends after queueing one frame per
/// connection.
pub fn spawn_notify_consumer_ids_changed(group: String, connections: Vec<Arc<Connection>>) {
    spawn_notifications(vec![Notice { group, connections }]);
}

fn spawn_notifications(notices: Vec<Notice>) {
    let notices: Vec<Notice> = notices
        .into_iter()
        .filter(|n| !n.connections.is_empty())
        .collect();
    if notices.is_empty() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::debug!(
            groups = notices.len(),
            "no runtime; consumer-ids-changed notifications skipped"
        );
        return;
    };
    for notice in notices {
        runtime.spawn(async move {
            notify_consumer_ids_changed(&notice.group, &notice.connections).await;
        });
    }
}
