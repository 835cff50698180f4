//! Group membership of a [`ClientInstance`]: the producer and consumer groups it joins,
//! the heartbeat that tells every broker about them, and leaving them.

use std::sync::Arc;

use apogee_protocol::body::{self, HeartbeatData, ProducerData};
use apogee_protocol::header::CommandHeader;
use apogee_protocol::remoting::codes::request;
use apogee_remoting::RemotingCommand;
use tracing::debug;

use crate::error::ClientError;
use crate::instance::ClientInstance;
use crate::members::ConsumerMember;

impl ClientInstance {
    /// Adds a producer group to this client's heartbeats.
    pub fn register_producer(&self, group: &str) {
        self.members.producers.write().insert(group.to_owned());
    }

    /// Removes a producer group and tells every broker.
    pub async fn unregister_producer(&self, group: &str) {
        self.members.producers.write().remove(group);
        self.unregister_everywhere(Some(group), None).await;
    }

    /// Adds a consumer group; heartbeats carry its subscriptions and the broker's
    /// NOTIFY_CONSUMER_IDS_CHANGED reaches it.
    ///
    /// # Errors
    /// [`ClientError::InvalidArgument`] if the group already has a consumer on this instance
    /// (one would silently replace the other in heartbeats, as RocketMQ refuses too).
    pub fn register_consumer(
        &self,
        group: &str,
        member: Arc<dyn ConsumerMember>,
    ) -> Result<(), ClientError> {
        let mut consumers = self.members.consumers.write();
        if consumers.contains_key(group) {
            return Err(ClientError::InvalidArgument(format!(
                "a consumer of group {group} is already started on this client instance; \
                 use another instance (instanceName) or another group"
            )));
        }
        consumers.insert(group.to_owned(), member);
        Ok(())
    }

    /// Removes a consumer group and tells every broker.
    pub async fn unregister_consumer(&self, group: &str) {
        self.members.consumers.write().remove(group);
        self.unregister_everywhere(None, Some(group)).await;
    }

    /// This client's heartbeat: its producer groups and consumer groups with subscriptions.
    #[must_use]
    pub fn heartbeat_data(&self) -> HeartbeatData {
        HeartbeatData {
            client_id: self.client_id().to_owned(),
            producer_data_set: self
                .members
                .producers
                .read()
                .iter()
                .map(|group| ProducerData {
                    group_name: group.clone(),
                })
                .collect(),
            consumer_data_set: self
                .members
                .consumers
                .read()
                .values()
                .map(|member| member.consumer_data())
                .collect(),
            ..HeartbeatData::default()
        }
    }

    /// Sends the heartbeat to every known master (and, for consumers, slave) now.
    /// Returns how many brokers acknowledged it.
    pub async fn send_heartbeat_to_all_brokers(&self) -> usize {
        let heartbeat = self.heartbeat_data();
        if heartbeat.producer_data_set.is_empty() && heartbeat.consumer_data_set.is_empty() {
            return 0;
        }
        let body = body::encode(&heartbeat);
        let has_consumers = !heartbeat.consumer_data_set.is_empty();
        let targets: Vec<String> = {
            let brokers = self.brokers.read();
            brokers
                .values()
                .flat_map(|addrs| {
                    addrs
                        .iter()
                        .filter(|(id, _)| has_consumers || **id == 0)
                        .map(|(_, addr)| addr.clone())
                })
                .collect()
        };
        let mut acknowledged = 0;
        for addr in targets {
            let request = RemotingCommand::request(request::HEART_BEAT, Default::default())
                .with_body(body.clone());
            match self.invoke_ok(&addr, request).await {
                Ok(_) => acknowledged += 1,
                Err(error) => debug!(%addr, %error, "heartbeat failed"),
            }
        }
        acknowledged
    }

    async fn unregister_everywhere(&self, producer: Option<&str>, consumer: Option<&str>) {
        let header = apogee_protocol::header::UnregisterClientRequestHeader {
            client_id: self.client_id().to_owned(),
            producer_group: producer.map(str::to_owned),
            consumer_group: consumer.map(str::to_owned),
        };
        for addr in self.all_broker_addrs() {
            let request = RemotingCommand::request(request::UNREGISTER_CLIENT, header.to_ext());
            if let Err(error) = self.invoke_ok(&addr, request).await {
                debug!(%addr, %error, "unregister failed");
            }
        }
    }
}
