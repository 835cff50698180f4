//! The name server's state (RocketMQ `RouteInfoManager`): which brokers are alive, which
//! cluster each belongs to, and which queues each master serves for each topic.
//!
//! Brokers re-register every 30 s; one silent for longer than its timeout (120 s by default)
//! is dropped, as is one whose connection closes. Only masters (brokerId 0) define a topic's
//! queues; a registration replaces everything that broker said before, so topics a broker no
//! longer has disappear from the routes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use apogee_protocol::body::{
    BrokerData, ClusterInfo, QueueData, TopicConfigSerializeWrapper, TopicRouteData,
};
use parking_lot::RwLock;

/// Default time a broker may stay silent before it is dropped (RocketMQ
/// `DEFAULT_BROKER_CHANNEL_EXPIRED_TIME`).
pub const BROKER_EXPIRED_TIMEOUT_DEFAULT: Duration = Duration::from_secs(120);

/// One registration, as the REGISTER_BROKER request carries it.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Cluster name.
    pub cluster: String,
    /// Broker `ip:port`.
    pub addr: String,
    /// Broker name (master/slave set).
    pub name: String,
    /// 0 for the master.
    pub id: i64,
    /// HA `ip:port`.
    pub ha_addr: String,
    /// The broker's topics and their data version.
    pub topics: TopicConfigSerializeWrapper,
    /// How long it may stay silent.
    pub timeout: Duration,
    /// The connection it registered over (closing it unregisters the broker).
    pub connection_id: Option<u64>,
}

/// What a registering broker learns back: its master's addresses (for a slave).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationResult {
    /// The master's HA address.
    pub ha_server_addr: Option<String>,
    /// The master's address.
    pub master_addr: Option<String>,
}

#[derive(Debug, Clone)]
struct Live {
    name: String,
    cluster: String,
    id: i64,
    ha_addr: String,
    last_seen: Instant,
    timeout: Duration,
    connection_id: Option<u64>,
}

#[derive(Debug, Default)]
struct Tables {
    /// topic → broker name → queues.
    topics: BTreeMap<String, BTreeMap<String, QueueData>>,
    /// broker name → addresses by id.
    brokers: BTreeMap<String, BrokerData>,
    /// cluster → broker names.
    clusters: BTreeMap<String, BTreeSet<String>>,
    /// broker addr → liveness.
    live: HashMap<String, Live>,
}

/// The route table. All methods take `now` where time matters, so tests control the clock.
#[derive(Debug, Default)]
pub struct RouteTable {
    tables: RwLock<Tables>,
}

impl RouteTable {
    /// Registers (or refreshes) a broker and, for a master, replaces its topics' queues.
    pub fn register(&self, r: Registration, now: Instant) -> RegistrationResult {
        let mut t = self.tables.write();
        t.clusters
            .entry(r.cluster.clone())
            .or_default()
            .insert(r.name.clone());
        let broker = t
            .brokers
            .entry(r.name.clone())
            .or_insert_with(|| BrokerData {
                cluster: r.cluster.clone(),
                broker_name: r.name.clone(),
                ..BrokerData::default()
            });
        // An address that changed id (a slave promoted, say) must not stay under the old id.
        broker
            .broker_addrs
            .retain(|id, addr| *addr != r.addr || *id == r.id);
        broker.broker_addrs.insert(r.id, r.addr.clone());
        if r.id == 0 {
            replace_topics(&mut t.topics, &r.name, &r.topics);
        }
        t.live.insert(
            r.addr.clone(),
            Live {
                name: r.name.clone(),
                cluster: r.cluster.clone(),
                id: r.id,
                ha_addr: r.ha_addr.clone(),
                last_seen: now,
                timeout: r.timeout,
                connection_id: r.connection_id,
            },
        );
        if r.id == 0 {
            return RegistrationResult::default();
        }
        let master = t
            .brokers
            .get(&r.name)
            .and_then(|b| b.broker_addrs.get(&0))
            .cloned();
        RegistrationResult {
            ha_server_addr: master
                .as_ref()
                .and_then(|m| t.live.get(m))
                .map(|l| l.ha_addr.clone()),
            master_addr: master,
        }
    }

    /// Refreshes a broker's liveness without changing its routes; false if it is unknown.
    pub fn touch(&self, addr: &str, now: Instant) -> bool {
        match self.tables.write().live.get_mut(addr) {
            Some(live) => {
                live.last_seen = now;
                true
            }
            None => false,
        }
    }

    /// Removes the broker at `addr` (UNREGISTER_BROKER, expiry, or its connection closing).
    pub fn unregister(&self, addr: &str) {
        let mut t = self.tables.write();
        let Some(live) = t.live.remove(addr) else {
            return;
        };
        let now_empty = match t.brokers.get_mut(&live.name) {
            Some(broker) => {
                broker
                    .broker_addrs
                    .retain(|id, a| !(*id == live.id && a == addr));
                broker.broker_addrs.is_empty()
            }
            None => false,
        };
        if live.id == 0 {
            replace_topics(
                &mut t.topics,
                &live.name,
                &TopicConfigSerializeWrapper::default(),
            );
        }
        if now_empty {
            t.brokers.remove(&live.name);
            if let Some(names) = t.clusters.get_mut(&live.cluster) {
                names.remove(&live.name);
                if names.is_empty() {
                    t.clusters.remove(&live.cluster);
                }
            }
        }
        tracing::info!(addr, broker = %live.name, id = live.id, "broker unregistered");
    }

    /// Drops brokers silent for longer than their timeout; returns their addresses.
    pub fn expire(&self, now: Instant) -> Vec<String> {
        let expired: Vec<String> = self
            .tables
            .read()
            .live
            .iter()
            .filter(|(_, l)| now.saturating_duration_since(l.last_seen) > l.timeout)
            .map(|(addr, _)| addr.clone())
            .collect();
        for addr in &expired {
            tracing::warn!(addr, "broker expired: no registration within its timeout");
            self.unregister(addr);
        }
        expired
    }

    /// Drops every broker that registered over connection `connection_id`.
    pub fn connection_closed(&self, connection_id: u64) {
        let addrs: Vec<String> = self
            .tables
            .read()
            .live
            .iter()
            .filter(|(_, l)| l.connection_id == Some(connection_id))
            .map(|(addr, _)| addr.clone())
            .collect();
        for addr in addrs {
            self.unregister(&addr);
        }
    }

    /// The route of `topic`: its queues and the brokers serving them; `None` if no live
    /// master serves it.
    #[must_use]
    pub fn route(&self, topic: &str) -> Option<TopicRouteData> {
        let t = self.tables.read();
        let queues = t.topics.get(topic)?;
        let broker_datas: Vec<BrokerData> = queues
            .keys()
            .filter_map(|name| t.brokers.get(name).cloned())
            .collect();
        if queues.is_empty() || broker_datas.is_empty() {
            return None;
        }
        Some(TopicRouteData {
            queue_datas: queues.values().cloned().collect(),
            broker_datas,
            ..TopicRouteData::default()
        })
    }

    /// Every cluster and broker (GET_BROKER_CLUSTER_INFO).
    #[must_use]
    pub fn cluster_info(&self) -> ClusterInfo {
        let t = self.tables.read();
        ClusterInfo {
            broker_addr_table: t.brokers.clone(),
            cluster_addr_table: t
                .clusters
                .iter()
                .map(|(c, names)| (c.clone(), names.iter().cloned().collect()))
                .collect(),
        }
    }

    /// Every topic with a route, sorted.
    #[must_use]
    pub fn topics(&self) -> Vec<String> {
        self.tables.read().topics.keys().cloned().collect()
    }

    /// Removes `topic` from every broker (or only the brokers of `cluster`).
    pub fn delete_topic(&self, topic: &str, cluster: Option<&str>) {
        let mut t = self.tables.write();
        let keep: BTreeSet<String> = match cluster {
            None => BTreeSet::new(),
            Some(c) => {
                let in_cluster = t.clusters.get(c).cloned().unwrap_or_default();
                let serving: BTreeSet<String> = t
                    .topics
                    .get(topic)
                    .map(|q| q.keys().cloned().collect())
                    .unwrap_or_default();
                serving.difference(&in_cluster).cloned().collect()
            }
        };
        if keep.is_empty() {
            t.topics.remove(topic);
        } else if let Some(queues) = t.topics.get_mut(topic) {
            queues.retain(|name, _| keep.contains(name));
        }
    }
}

/// Replaces broker `name`'s queues with the topics in `wrapper`.
fn replace_topics(
    topics: &mut BTreeMap<String, BTreeMap<String, QueueData>>,
    name: &str,
    wrapper: &TopicConfigSerializeWrapper,
) {
    for queues in topics.values_mut() {
        queues.remove(name);
    }
    for (topic, config) in &wrapper.topic_config_table {
        let queue = QueueData {
            broker_name: name.to_owned(),
            read_queue_nums: config.read_queue_nums,
            write_queue_nums: config.write_queue_nums,
            perm: config.perm,
            topic_sys_flag: config.topic_sys_flag,
        };
        topics
            .entry(topic.clone())
            .or_default()
            .insert(name.to_owned(), queue);
    }
    topics.retain(|_, queues| !queues.is_empty());
}

#[cfg(test)]
#[path = "route_table_test.rs"]
mod tests;
