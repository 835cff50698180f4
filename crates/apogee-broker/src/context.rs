//! What every request processor needs: configuration, the store, topics, offsets, clients.

use std::net::SocketAddr;
use std::sync::Arc;

use apogee_store::MessageStore;

use crate::client_registry::ClientRegistry;
use crate::config::BrokerConfig;
use crate::consumer_offset::ConsumerOffsets;
use crate::topic_config::TopicTable;

/// Shared state of a running broker.
#[derive(Debug)]
pub struct BrokerContext {
    /// Broker configuration.
    pub config: BrokerConfig,
    /// The message store.
    pub store: Arc<MessageStore>,
    /// Topics and their queues.
    pub topics: TopicTable,
    /// Committed consumer offsets.
    pub offsets: ConsumerOffsets,
    /// Connected producers and consumers.
    pub clients: ClientRegistry,
    /// This broker's address as clients reach it (`brokerIP1:listenPort`): the store host of
    /// every record and the host part of offset message ids.
    pub store_host: SocketAddr,
}

impl BrokerContext {
    /// `brokerIP1:listenPort`, the address registered with the name servers.
    #[must_use]
    pub fn broker_addr(&self) -> String {
        self.store_host.to_string()
    }
}
