//! Topic administration: create on the brokers of a cluster and wait for the route, delete
//! from the brokers and the name servers, list with system topics told apart, and describe a
//! topic's queues with their offsets (`mqadmin updateTopic`, `deleteTopic`, `topicList`,
//! `topicStatus`/`topicRoute`).
//!
//! The types live here; `ops.rs` has the operations on [`Admin`].

mod ops;

use std::time::Duration;

use apogee_protocol::body::ClusterInfo;
use apogee_protocol::header::{CreateTopicRequestHeader, PermName, TopicFilterType};
use apogee_protocol::names;

#[cfg(doc)]
use super::Admin;
use crate::message::MessageQueue;

/// The queue count `mqadmin updateTopic` uses when none is given.
pub const DEFAULT_QUEUES: i32 = 8;

/// How long [`Admin::create_topic`] waits for the name server to route a new topic.
pub const ROUTE_WAIT: Duration = Duration::from_secs(15);

/// How long [`Admin::delete_topic`] keeps re-deleting a route that a broker re-registered.
const UNROUTE_WAIT: Duration = Duration::from_secs(5);

/// Between two route checks.
const POLL: Duration = Duration::from_millis(50);

/// Topics RocketMQ reserves (`TopicValidator`'s system topic set).
const SYSTEM_TOPICS: [&str; 9] = [
    names::AUTO_CREATE_TOPIC_TEMPLATE,
    names::SCHEDULE_TOPIC,
    names::TRANS_CHECK_MAX_TIME_TOPIC,
    names::TRANS_HALF_TOPIC,
    names::TRANS_OP_HALF_TOPIC,
    "BenchmarkTest",
    "RMQ_SYS_TRACE_TOPIC",
    "SELF_TEST_TOPIC",
    "OFFSET_MOVED_EVENT",
];

/// Prefixes of system topics.
const SYSTEM_PREFIXES: [&str; 2] = ["RMQ_SYS_", "rmq_sys_"];

/// Where to create a topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TopicTarget {
    /// Every master broker the name server knows (the default).
    #[default]
    AllBrokers,
    /// Every master broker of one cluster (`mqadmin updateTopic -c`).
    Cluster(String),
    /// One broker, by address (`mqadmin updateTopic -b`).
    Broker(String),
}

/// A topic to create or update (the arguments of `mqadmin updateTopic`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// The topic name.
    pub name: String,
    /// Readable queues per broker.
    pub read_queues: i32,
    /// Writable queues per broker.
    pub write_queues: i32,
    /// [`PermName`] bits; `READ | WRITE` by default.
    pub perm: i32,
    /// Whether the topic is ordered.
    pub order: bool,
    /// Which brokers get it.
    pub target: TopicTarget,
}

impl TopicSpec {
    /// A readable and writable topic with [`DEFAULT_QUEUES`] queues on every master broker.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            read_queues: DEFAULT_QUEUES,
            write_queues: DEFAULT_QUEUES,
            perm: PermName::READ | PermName::WRITE,
            order: false,
            target: TopicTarget::AllBrokers,
        }
    }

    /// Sets both queue counts.
    #[must_use]
    pub fn with_queues(mut self, queues: i32) -> Self {
        self.read_queues = queues;
        self.write_queues = queues;
        self
    }

    /// Sets where the topic is created.
    #[must_use]
    pub fn with_target(mut self, target: TopicTarget) -> Self {
        self.target = target;
        self
    }

    fn header(&self) -> CreateTopicRequestHeader {
        CreateTopicRequestHeader {
            topic: self.name.clone(),
            default_topic: names::AUTO_CREATE_TOPIC_TEMPLATE.to_owned(),
            read_queue_nums: self.read_queues,
            write_queue_nums: self.write_queues,
            perm: self.perm,
            topic_filter_type: TopicFilterType::SingleTag,
            topic_sys_flag: Some(0),
            order: self.order,
            attributes: None,
            force: None,
        }
    }
}

/// What kind of topic a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopicKind {
    /// An application topic.
    Normal,
    /// A consumer group's retry topic (`%RETRY%group`).
    Retry,
    /// A consumer group's dead-letter topic (`%DLQ%group`).
    DeadLetter,
    /// A topic the brokers use themselves (`TBW102`, `SCHEDULE_TOPIC_XXXX`, `RMQ_SYS_*`, and
    /// the topics named after a broker or cluster).
    System,
}

impl TopicKind {
    /// Classifies `topic`; `cluster` supplies the broker and cluster names.
    #[must_use]
    pub fn of(topic: &str, cluster: &ClusterInfo) -> Self {
        if topic.starts_with(names::RETRY_GROUP_TOPIC_PREFIX) {
            Self::Retry
        } else if topic.starts_with(names::DLQ_GROUP_TOPIC_PREFIX) {
            Self::DeadLetter
        } else if SYSTEM_TOPICS.contains(&topic)
            || SYSTEM_PREFIXES.iter().any(|p| topic.starts_with(p))
            || cluster.broker_addr_table.contains_key(topic)
            || cluster.cluster_addr_table.contains_key(topic)
        {
            Self::System
        } else {
            Self::Normal
        }
    }

    /// Anything but [`TopicKind::Normal`].
    #[must_use]
    pub fn is_system(self) -> bool {
        self != Self::Normal
    }

    /// A short lower-case name: `normal`, `retry`, `dlq`, `system`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Retry => "retry",
            Self::DeadLetter => "dlq",
            Self::System => "system",
        }
    }
}

/// One entry of [`Admin::list_topics`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicEntry {
    /// The topic.
    pub name: String,
    /// Its kind.
    pub kind: TopicKind,
}

/// A topic's configuration on one broker, from the route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicQueueConfig {
    /// The broker name.
    pub broker_name: String,
    /// Readable queues.
    pub read_queues: i32,
    /// Writable queues.
    pub write_queues: i32,
    /// [`PermName`] bits.
    pub perm: i32,
}

/// One queue of [`TopicStatus`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStatus {
    /// The queue.
    pub queue: MessageQueue,
    /// The address asked (the broker's master when it has one).
    pub broker_addr: String,
    /// The oldest offset still stored.
    pub min_offset: i64,
    /// The offset the next message gets.
    pub max_offset: i64,
}

/// The answer of [`Admin::describe_topic`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicStatus {
    /// The topic.
    pub topic: String,
    /// Its configuration per broker, ordered by broker name.
    pub configs: Vec<TopicQueueConfig>,
    /// Every queue with its offsets, ordered by broker then queue id.
    pub queues: Vec<QueueStatus>,
}

impl TopicStatus {
    /// Messages currently stored: the sum of `max - min` over the queues.
    #[must_use]
    pub fn stored_messages(&self) -> i64 {
        self.queues
            .iter()
            .map(|q| (q.max_offset - q.min_offset).max(0))
            .sum()
    }
}

#[cfg(test)]
#[path = "topic_test.rs"]
mod tests;
