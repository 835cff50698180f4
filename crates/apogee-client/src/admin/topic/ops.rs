//! The topic operations of [`Admin`]: create, delete, list, describe.

use std::collections::BTreeSet;
use std::time::Instant;

use apogee_protocol::body::{ClusterInfo, TopicRouteData};
use apogee_protocol::names;

use super::{
    POLL, QueueStatus, ROUTE_WAIT, TopicEntry, TopicKind, TopicQueueConfig, TopicSpec, TopicStatus,
    TopicTarget, UNROUTE_WAIT,
};
use crate::admin::{Admin, AdminError};
use crate::error::ClientError;
use crate::message::MessageQueue;

/// A broker a topic is created on.
pub(super) struct Target {
    /// Its name, when the name server knows the address.
    pub(super) name: Option<String>,
    /// Its address.
    pub(super) addr: String,
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
pub(super) fn targets(
    cluster: &ClusterInfo,
    target: &TopicTarget,
) -> Result<Vec<Target>, AdminError> {
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
