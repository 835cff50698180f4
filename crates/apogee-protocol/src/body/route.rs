//! Topic routes and the cluster map, served by the name server: [`TopicRouteData`]
//! (GET_ROUTEINFO_BY_TOPIC, 105) and [`ClusterInfo`] (GET_BROKER_CLUSTER_INFO, 106).
//!
//! Java writes `brokerAddrs` (a `HashMap<Long, String>`) with unquoted keys unless the client
//! asks for standard JSON; [`super::decode`] reads both forms and [`super::encode`] always
//! writes quoted keys, which Java clients accept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::lenient;

/// The broker id of a master in [`BrokerData::broker_addrs`].
pub const MASTER_ID: i64 = 0;

/// A topic's route (`TopicRouteData`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicRouteData {
    /// Per-broker queue counts of an ordered topic, `broker-a:4;broker-b:4`; only sent when
    /// the name server has one configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_topic_conf: Option<String>,
    /// The topic's queues, one entry per broker name.
    pub queue_datas: Vec<QueueData>,
    /// The brokers those queues live on.
    pub broker_datas: Vec<BrokerData>,
    /// Filter servers per broker address (deprecated upstream; normally empty).
    pub filter_server_table: BTreeMap<String, Vec<String>>,
}

/// A topic's queues on one broker (`QueueData`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueData {
    /// The broker name.
    pub broker_name: String,
    /// Readable queue count.
    #[serde(deserialize_with = "lenient::i32")]
    pub read_queue_nums: i32,
    /// Writable queue count.
    #[serde(deserialize_with = "lenient::i32")]
    pub write_queue_nums: i32,
    /// [`crate::header::PermName`] bits.
    #[serde(deserialize_with = "lenient::i32")]
    pub perm: i32,
    /// The topic sysflag.
    #[serde(deserialize_with = "lenient::i32")]
    pub topic_sys_flag: i32,
}

/// One broker name's addresses (`BrokerData`): a master (id 0) and its slaves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BrokerData {
    /// The cluster.
    pub cluster: String,
    /// The broker name.
    pub broker_name: String,
    /// Broker id → `ip:port`; id [`MASTER_ID`] is the master.
    pub broker_addrs: BTreeMap<i64, String>,
    /// 5.x: a slave acts as master while the master is down.
    #[serde(deserialize_with = "lenient::bool")]
    pub enable_acting_master: bool,
    /// 5.x: the zone (availability zone) name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone_name: Option<String>,
}

impl BrokerData {
    /// The master's address, if the master is registered.
    #[must_use]
    pub fn master_addr(&self) -> Option<&str> {
        self.broker_addrs.get(&MASTER_ID).map(String::as_str)
    }
}

/// The cluster map (`ClusterInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClusterInfo {
    /// Broker name → its addresses.
    pub broker_addr_table: BTreeMap<String, BrokerData>,
    /// Cluster name → its broker names (a Java `Set`, kept in wire order).
    pub cluster_addr_table: BTreeMap<String, Vec<String>>,
}

/// A list of topic names (`TopicList`), the answer to GET_ALL_TOPIC_LIST_FROM_NAMESERVER.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicList {
    /// The topics (a Java `Set`, kept in wire order).
    pub topic_list: Vec<String>,
    /// The broker address, when a broker answers for itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker_addr: Option<String>,
}

#[cfg(test)]
#[path = "route_test.rs"]
mod tests;
