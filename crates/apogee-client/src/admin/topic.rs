//! Topic administration: create on the brokers of a cluster and wait for the route, delete
//! from the brokers and the name servers, list with system topics told apart, and describe a
//! topic's queues with their offsets (`mqadmin updateTopic`, `deleteTopic`, `topicList`,
//! `topicStatus`/`topicRoute`).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use apogee_protocol::body::{ClusterInfo, TopicRouteData};
use apogee_protocol::header::{CreateTopicRequestHeader, PermName, TopicFilterType};
use apogee_protocol::names;

use super::{Admin, AdminError};
use crate::error::ClientError;
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

/// A broker a topic is created on.
struct Target {
    /// Its name, when the name server knows the address.
    name: Option<String>,
    addr: String,
}

impl Admin {
    /// Creates or updates a topic on the brokers `spec.target` names, then waits until the
    /// name server routes it with the new queue counts. Returns the broker addresses.
    ///
    /// # Errors
    /// [`ClientError::InvalidName`] / [`ClientError::InvalidArgument`] for a bad spec;
    /// [`AdminError::UnknownCluster`], [`AdminError::NoBrokers`]; a broker's refusal;
    /// [`AdminError::RouteTimeout`].
    pub async fn create_topic(&self, spec: &TopicSpec) -> Result<Vec<String>, AdminError> {
        names::validate_topic(&spec.name).map_err(ClientError::from)?;
        if spec.read_queues < 1 || spec.write_queues < 1 {
            return Err(ClientError::InvalidArgument(format!(
                "a topic needs at least one read and one write queue (got {} and {})",
                spec.read_queues, spec.write_queues
            ))
            .into());
        }
        let cluster = self.instance.cluster_info().await?;
        let targets = targets(&cluster, &spec.target)?;
        let header = spec.header();
        for target in &targets {
            self.instance
                .create_topic_on_broker(&target.addr, &header)
                .await?;
        }
        self.wait_for_route(spec, &targets).await?;
        Ok(targets.into_iter().map(|t| t.addr).collect())
    }

    async fn wait_for_route(&self, spec: &TopicSpec, targets: &[Target]) -> Result<(), AdminError> {
        let deadline = Instant::now() + ROUTE_WAIT;
        loop {
            match self.instance.fetch_route(&spec.name).await {
                Ok(route) if routed(&route.raw, spec, targets) => return Ok(()),
                Ok(_) | Err(ClientError::TopicNotExist { .. }) => {}
                Err(error) => return Err(error.into()),
            }
            if Instant::now() >= deadline {
                return Err(AdminError::RouteTimeout {
                    topic: spec.name.clone(),
                    brokers: targets
                        .iter()
                        .map(|t| t.addr.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    waited: ROUTE_WAIT,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Deletes a topic from every master broker of its route, then from every name server
    /// (`mqadmin deleteTopic`), and checks the route is gone. Its messages stay in the
    /// brokers' commit logs until retention removes them. Returns the broker addresses.
    ///
    /// # Errors
    /// [`ClientError::TopicNotExist`] when no broker serves it; a refusal;
    /// [`AdminError::StillRouted`].
    pub async fn delete_topic(&self, topic: &str) -> Result<Vec<String>, AdminError> {
        let route = self.instance.fetch_route_data(topic).await?;
        let masters: BTreeSet<String> = route
            .broker_datas
            .iter()
            .filter_map(|b| b.master_addr().map(str::to_owned))
            .collect();
        for addr in &masters {
            self.instance.delete_topic_on_broker(addr, topic).await?;
        }
        let deadline = Instant::now() + UNROUTE_WAIT;
        loop {
            self.instance.delete_topic_in_namesrv(topic).await?;
            match self.instance.fetch_route_data(topic).await {
                Err(ClientError::TopicNotExist { .. }) => break,
                Err(error) => return Err(error.into()),
                Ok(_) if Instant::now() >= deadline => {
                    return Err(AdminError::StillRouted {
                        topic: topic.to_owned(),
                    });
                }
                Ok(_) => tokio::time::sleep(POLL).await,
            }
        }
        Ok(masters.into_iter().collect())
    }

    /// Every topic the name servers know, by name, each with its kind.
    ///
    /// # Errors
    /// Name-server errors.
    pub async fn list_topics(&self) -> Result<Vec<TopicEntry>, AdminError> {
        let cluster = self.instance.cluster_info().await?;
        let mut topics: Vec<TopicEntry> = self
            .instance
            .all_topics()
            .await?
            .into_iter()
            .map(|name| TopicEntry {
                kind: TopicKind::of(&name, &cluster),
                name,
            })
            .collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        topics.dedup_by(|a, b| a.name == b.name);
        Ok(topics)
    }

    /// A topic's per-broker configuration and every queue's min and max offset.
    ///
    /// # Errors
    /// [`ClientError::TopicNotExist`]; a broker that does not answer.
    pub async fn describe_topic(&self, topic: &str) -> Result<TopicStatus, AdminError> {
        let route = self.instance.fetch_route(topic).await?;
        let mut configs: Vec<TopicQueueConfig> = route
            .raw
            .queue_datas
            .iter()
            .map(|q| TopicQueueConfig {
                broker_name: q.broker_name.clone(),
                read_queues: q.read_queue_nums,
                write_queues: q.write_queue_nums,
                perm: q.perm,
            })
            .collect();
        configs.sort_by(|a, b| a.broker_name.cmp(&b.broker_name));
        let mut queues = Vec::new();
        for config in &configs {
            let Some(addr) = route.any_addr(&config.broker_name) else {
                continue;
            };
            for queue_id in 0..config.read_queues.max(config.write_queues) {
                let queue = MessageQueue {
                    topic: topic.to_owned(),
                    broker_name: config.broker_name.clone(),
                    queue_id,
                };
                let min_offset = self.instance.min_offset(addr, &queue).await?;
                let max_offset = self.instance.max_offset(addr, &queue).await?;
                queues.push(QueueStatus {
                    queue,
                    broker_addr: addr.to_owned(),
                    min_offset,
                    max_offset,
                });
            }
        }
        Ok(TopicStatus {
            topic: topic.to_owned(),
            configs,
            queues,
        })
    }
}

/// The brokers `target` names, from the cluster map.
fn targets(cluster: &ClusterInfo, target: &TopicTarget) -> Result<Vec<Target>, AdminError> {
    let master = |name: &String| {
        cluster
            .broker_addr_table
            .get(name)
            .and_then(|b| b.master_addr())
            .map(|addr| Target {
                name: Some(name.clone()),
                addr: addr.to_owned(),
            })
    };
    let found: Vec<Target> = match target {
        TopicTarget::AllBrokers => cluster
            .broker_addr_table
            .keys()
            .filter_map(master)
            .collect(),
        TopicTarget::Cluster(name) => {
            let Some(brokers) = cluster.cluster_addr_table.get(name) else {
                return Err(AdminError::UnknownCluster {
                    cluster: name.clone(),
                    known: known_clusters(cluster),
                });
            };
            brokers.iter().filter_map(master).collect()
        }
        TopicTarget::Broker(addr) => {
            let name = cluster
                .broker_addr_table
                .values()
                .find(|b| b.broker_addrs.values().any(|a| a == addr))
                .map(|b| b.broker_name.clone());
            vec![Target {
                name,
                addr: addr.clone(),
            }]
        }
    };
    if found.is_empty() {
        let where_ = match target {
            TopicTarget::Cluster(name) => format!(" in cluster {name}"),
            _ => String::new(),
        };
        return Err(AdminError::NoBrokers { where_ });
    }
    Ok(found)
}

fn known_clusters(cluster: &ClusterInfo) -> String {
    if cluster.cluster_addr_table.is_empty() {
        return "none".to_owned();
    }
    cluster
        .cluster_addr_table
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the route has the spec's queue counts on every named target (and, when no
/// target's name is known, on some broker). The perm is not compared: a broker registers
/// its topics with its own permission applied (a read-only broker drops WRITE).
fn routed(route: &TopicRouteData, spec: &TopicSpec, targets: &[Target]) -> bool {
    let matches = |q: &&apogee_protocol::body::QueueData| {
        q.read_queue_nums == spec.read_queues && q.write_queue_nums == spec.write_queues
    };
    let named: Vec<&str> = targets.iter().filter_map(|t| t.name.as_deref()).collect();
    if named.is_empty() {
        return route.queue_datas.iter().any(|q| matches(&q));
    }
    named.iter().all(|name| {
        route
            .queue_datas
            .iter()
            .filter(|q| q.broker_name == *name)
            .any(|q| matches(&q))
    })
}

#[cfg(test)]
#[path = "topic_test.rs"]
mod tests;
