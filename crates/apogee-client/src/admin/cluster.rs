//! The cluster map as `mqadmin clusterList` shows it: clusters, their brokers, each broker
//! id's address and role, and how many topics the broker holds (when it answers
//! GET_ALL_TOPIC_CONFIG).

use apogee_protocol::body::route::MASTER_ID;
use apogee_protocol::body::{self, TopicConfigSerializeWrapper};
use apogee_protocol::remoting::ExtFields;
use apogee_protocol::remoting::codes::request;
use apogee_remoting::RemotingCommand;
use tracing::debug;

use super::{Admin, AdminError};
use crate::error::ClientError;

/// Every cluster the name servers know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterView {
    /// The clusters, by name.
    pub clusters: Vec<ClusterEntry>,
}

impl ClusterView {
    /// Every broker of every cluster.
    pub fn brokers(&self) -> impl Iterator<Item = &BrokerEntry> {
        self.clusters.iter().flat_map(|c| c.brokers.iter())
    }
}

/// One cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterEntry {
    /// The cluster name.
    pub name: String,
    /// Its brokers: by broker name, then id (the master, id 0, first).
    pub brokers: Vec<BrokerEntry>,
}

/// One broker process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrokerEntry {
    /// The broker name (shared by a master and its slaves).
    pub name: String,
    /// The broker id: 0 for the master.
    pub id: i64,
    /// `ip:port`.
    pub addr: String,
    /// Topics the broker holds, system ones included; `None` if it did not answer.
    pub topic_count: Option<usize>,
}

impl BrokerEntry {
    /// `MASTER` for id 0, else `SLAVE`.
    #[must_use]
    pub fn role(&self) -> &'static str {
        if self.id == MASTER_ID {
            "MASTER"
        } else {
            "SLAVE"
        }
    }
}

impl Admin {
    /// The clusters, their brokers and addresses, with each broker's topic count.
    ///
    /// # Errors
    /// Name-server errors. A broker that does not answer only lacks its topic count.
    pub async fn cluster_info(&self) -> Result<ClusterView, AdminError> {
        let info = self.instance.cluster_info().await?;
        let mut clusters = Vec::new();
        for (cluster, names) in &info.cluster_addr_table {
            let mut names = names.clone();
            names.sort();
            names.dedup();
            let mut brokers = Vec::new();
            for name in names {
                let Some(data) = info.broker_addr_table.get(&name) else {
                    continue;
                };
                for (id, addr) in &data.broker_addrs {
                    brokers.push(BrokerEntry {
                        name: name.clone(),
                        id: *id,
                        addr: addr.clone(),
                        topic_count: self.topic_count(addr).await,
                    });
                }
            }
            clusters.push(ClusterEntry {
                name: cluster.clone(),
                brokers,
            });
        }
        Ok(ClusterView { clusters })
    }

    /// How many topics the broker at `addr` holds, or `None` if it cannot tell.
    async fn topic_count(&self, addr: &str) -> Option<usize> {
        let request = RemotingCommand::request(request::GET_ALL_TOPIC_CONFIG, ExtFields::new());
        let answer = self
            .instance
            .invoke_ok(addr, request)
            .await
            .and_then(|response| {
                body::decode::<TopicConfigSerializeWrapper>(&response.body)
                    .map_err(|e| ClientError::bad_body(addr, &e))
            });
        match answer {
            Ok(topics) => Some(topics.topic_config_table.len()),
            Err(error) => {
                debug!(%addr, %error, "no topic count");
                None
            }
        }
    }
}
